/*
 * Resumable uploads.  An upload is two files in the upload folder:
 * <id>.json (owner, size, SHA-256, created) and <id>.part (the bytes so
 * far; its length is the offset).  A chunk is appended under an exclusive
 * lock, only at the current offset, and never past the declared size;
 * finishing checks the SHA-256 before the package goes anywhere.  Ids are
 * 32 random hex digits, checked before any path is built from them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

typedef struct {
	char id[33];
	int64_t owner;
	uint64_t size;
	char sha256[65];
	char meta[PATH_MAX], part[PATH_MAX];
} upload;

static bool valid_upload_id(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n == 32 && id[32] == '\0';
}

static void paths(upload *u, const lw_server *s)
{
	snprintf(u->meta, sizeof(u->meta), "%s/%s.json", s->upload_dir, u->id);
	snprintf(u->part, sizeof(u->part), "%s/%s.part", s->upload_dir, u->id);
}

static uint64_t offset_of(const upload *u)
{
	struct stat st;

	return stat(u->part, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The upload named by {id}, if it is the requester's; replies 404 otherwise. */
static int load(upload *u, lw__reply *r, lw__request *q)
{
	json_t *m;

	memset(u, 0, sizeof(*u));
	if (!valid_upload_id(q->params[0])) {
		lw__reply_error(r, 404, NULL, "no upload \"%.40s\": ids are 32 hex digits", q->params[0]);
		return -1;
	}
	memcpy(u->id, q->params[0], 33);
	paths(u, q->srv);
	if (!(m = json_load_file(u->meta, 0, NULL)) ||
	    json_integer_value(json_object_get(m, "owner")) != q->user_id) {
		json_decref(m);
		lw__reply_error(r, 404, NULL, "no upload %s of yours (finished, abandoned or expired)", u->id);
		return -1;
	}
	u->owner = q->user_id;
	u->size = (uint64_t)json_integer_value(json_object_get(m, "size"));
	snprintf(u->sha256, sizeof(u->sha256), "%s",
		 json_string_value(json_object_get(m, "sha256")) ? json_string_value(json_object_get(m, "sha256"))
								 : "");
	json_decref(m);
	return 0;
}

static void discard(const upload *u)
{
	unlink(u->part);
	unlink(u->meta);
}

static json_t *upload_json(const upload *u)
{
	return json_pack("{s:s, s:I, s:I}", "id", u->id, "offset", (json_int_t)offset_of(u), "size",
			 (json_int_t)u->size);
}

void lw__api_upload_create(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q), *size, *sha, *meta = NULL;
	unsigned char raw[16];
	upload u = { 0 };
	int fd;

	if (!body)
		return;
	size = json_object_get(body, "size");
	sha = json_object_get(body, "sha256");
	if (!json_is_integer(size) || json_integer_value(size) < 1 ||
	    (uint64_t)json_integer_value(size) > (uint64_t)q->srv->c.max_upload_mb << 20) {
		lw__reply_error(r, json_is_integer(size) && json_integer_value(size) > 0 ? 413 : 400, NULL,
				"\"size\" must be the file's size in bytes, from 1 to %d MiB (max_upload_mb)",
				q->srv->c.max_upload_mb);
		goto done;
	}
	if (!json_is_string(sha) || json_string_length(sha) != 64 ||
	    strspn(json_string_value(sha), "0123456789abcdef") != 64) {
		lw__reply_error(r, 400, NULL, "\"sha256\" must be the file's SHA-256 as 64 lowercase hex digits");
		goto done;
	}
	lw__uploads_sweep(q->srv);
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(u.id, sizeof(u.id), raw, sizeof(raw));
	paths(&u, q->srv);
	u.size = (uint64_t)json_integer_value(size);
	meta = json_pack("{s:I, s:I, s:O, s:I}", "owner", (json_int_t)q->user_id, "size",
			 (json_int_t)u.size, "sha256", sha, "created", (json_int_t)lw__now_ms());
	if ((fd = open(u.part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    close(fd) != 0 || json_dump_file(meta, u.meta, JSON_COMPACT) != 0) {
		discard(&u);
		lw__reply_error(r, 503, NULL, "cannot create the upload");
		goto done;
	}
	lw__reply_json(r, 201, upload_json(&u));
done:
	json_decref(meta);
	json_decref(body);
}

void lw__api_upload_get(lw__reply *r, lw__request *q)
{
	upload u;

	if (load(&u, r, q) == 0)
		lw__reply_json(r, 200, upload_json(&u));
}

int lw__upload_stream_open(lw__reply *r, lw__request *q)
{
	const char *h = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Upload-Offset");
	const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Length");
	uint64_t at, want, len;
	char *end;
	upload u;
	int fd;

	if (load(&u, r, q) < 0)
		return -1;
	if (!h || !*h || (want = strtoull(h, &end, 10), *end)) {
		lw__reply_error(r, 400, NULL, "a chunk needs an Upload-Offset header: the byte it starts at");
		return -1;
	}
	if ((fd = open(u.part, O_WRONLY | O_APPEND | O_CLOEXEC)) < 0) {
		lw__reply_error(r, 404, NULL, "no upload %s of yours", u.id);
		return -1;
	}
	/* One writer at a time; a second one at the same offset would interleave. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		lw__reply_error(r, 409, NULL, "another chunk of this upload is arriving: wait and resume");
		return -1;
	}
	at = offset_of(&u);
	if (want != at) {
		close(fd);
		lw__reply_json(r, 409, json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "conflict", "message",
						 "Upload-Offset is not where the upload stands: resume at "
						 "\"offset\"", "offset", (json_int_t)at));
		return -1;
	}
	len = cl ? strtoull(cl, NULL, 10) : 0;
	if (len > u.size - at) {
		close(fd);
		lw__reply_error(r, 413, NULL, "the chunk (%llu bytes at %llu) runs past the declared size %llu",
				(unsigned long long)len, (unsigned long long)at, (unsigned long long)u.size);
		return -1;
	}
	q->stream_fd = fd;
	q->stream_len = u.size - at; /* bytes the body may still bring */
	return 0;
}

void lw__api_upload_put(lw__reply *r, lw__request *q)
{
	upload u;

	if (q->stream_fd >= 0 && fdatasync(q->stream_fd) != 0) {
		lw__reply_error(r, 503, NULL, "cannot store the chunk");
		return;
	}
	if (load(&u, r, q) == 0)
		lw__reply_json(r, 200, upload_json(&u));
}

void lw__api_upload_finish(lw__reply *r, lw__request *q)
{
	json_t *body = q->body_len ? lw__body_object(r, q) : json_object(), *sem;
	char sha[65], *text = NULL;
	uint64_t at;
	upload u;

	if (!body || load(&u, r, q) < 0)
		goto done;
	if ((at = offset_of(&u)) != u.size) {
		lw__reply_json(r, 409, json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "conflict", "message",
						 "the upload is not complete: send the rest from \"offset\"",
						 "offset", (json_int_t)at));
		goto done;
	}
	if (lw_file_sha256(sha, u.part) < 0) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	if (strcmp(sha, u.sha256) != 0) {
		discard(&u);
		lw__reply_error(r, 422, NULL, "the upload's SHA-256 is %s, not the %s declared: it was "
				"discarded, upload again", sha, u.sha256);
		goto done;
	}
	if ((sem = json_object_get(body, "semantic")) && !json_is_object(sem)) {
		lw__reply_error(r, 400, NULL, "\"semantic\" must be a JSON object");
		goto done;
	}
	text = sem ? json_dumps(sem, JSON_COMPACT) : NULL;
	lw__submit_package(r, q, u.part, text, NULL, "the uploaded file");
	/* A refused semantic specification can be corrected and finished again. */
	if (r->status == 202 || r->status == 409)
		discard(&u);
done:
	free(text);
	json_decref(body);
}

void lw__api_upload_delete(lw__reply *r, lw__request *q)
{
	upload u;

	if (load(&u, r, q) == 0) {
		discard(&u);
		lw__reply_json(r, 204, NULL);
	}
}

/* Remove expired uploads, and parts and bundles a crash left behind. */
void lw__uploads_sweep(lw_server *s)
{
	time_t now = time(NULL), ttl = (time_t)s->c.upload_ttl_hours * 3600;
	DIR *dir = opendir(s->upload_dir);
	struct dirent *e;

	while (dir && (e = readdir(dir))) {
		char path[PATH_MAX];
		struct stat st;
		bool scratch = !strncmp(e->d_name, "part.", 5) || !strncmp(e->d_name, "bundle.", 7);

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->upload_dir, e->d_name);
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (now - st.st_mtime > (scratch ? 3600 : ttl))
			unlink(path);
	}
	if (dir)
		closedir(dir);
}
