/*
 * Learnwares over HTTP: list, submit, detail, change, delete, download,
 * verification.  Unverified learnwares exist only for their owner and
 * admins: everyone else gets the same 404 as for an id never given.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "server.h"

const char *lw__status_name(int status)
{
	static const char *const names[] = { "waiting", "queued", "processing", "success", "failed" };

	return status >= 0 && status <= 4 ? names[status] : "unknown";
}

const char *lw__verdict_name(int status, int usability)
{
	if (status != LW_STATUS_SUCCESS && status != LW_STATUS_FAILED)
		return "unchecked";
	return usability == LW_USABILITY_USABLE ? "usable"
	       : usability == LW_USABILITY_NONUSABLE ? "nonusable" : "invalid";
}

static bool is_owner(const lw__request *q, const lw_learnware_record *r)
{
	char me[24];

	snprintf(me, sizeof(me), "%lld", (long long)q->user_id);
	return q->user_id && r->owner && !strcmp(r->owner, me);
}

bool lw__may_see(const lw__request *q, const lw_learnware_record *r)
{
	return (r->status == LW_STATUS_SUCCESS && r->usability == LW_USABILITY_USABLE) ||
	       q->role == LW_ROLE_ADMIN || is_owner(q, r);
}

bool lw__may_change(const lw__request *q, const lw_learnware_record *r)
{
	return (q->user_id && q->role == LW_ROLE_ADMIN) || is_owner(q, r);
}

static bool valid_id(const char *id)
{
	size_t n = 0;

	while (isdigit((unsigned char)id[n]))
		n++;
	return n == 8 && id[n] == '\0';
}

int lw__learnware_load(lw_learnware_record *out, lw__reply *r, lw__request *q, lw_store *st)
{
	const char *id = q->params[0];
	int err;

	memset(out, 0, sizeof(*out));
	if (!valid_id(id)) {
		lw__reply_error(r, 404, NULL, "no learnware \"%s\": ids are 8 digits", id);
		return LW_ENOTFOUND;
	}
	err = lw_store_get(out, st, id);
	if (err == 0 && !lw__may_see(q, out)) {
		lw_learnware_record_dispose(out);
		err = LW_ENOTFOUND;
	}
	if (err == LW_ENOTFOUND)
		lw__reply_error(r, 404, NULL, "no learnware %s", id);
	else if (err < 0)
		lw__reply_lw_error(r, err);
	return err;
}

static char *stored_path(lw_store *st, const lw_learnware_record *r)
{
	const char *root = lw_store_root(st);
	char *p = malloc(strlen(root) + strlen(r->zip_path) + 2);

	if (p)
		sprintf(p, "%s/%s", root, r->zip_path);
	return p;
}

static json_t *owner_json(lw_store *st, const char *owner)
{
	lw_user_record u = { 0 };
	char *end;
	long long id = owner ? strtoll(owner, &end, 10) : 0;
	json_t *o;

	if (!owner || *end || id <= 0)
		return json_null();
	if (lw_store_user_get(&u, st, id) < 0)
		return json_pack("{s:I, s:n}", "id", (json_int_t)id, "name");
	o = json_pack("{s:I, s:s}", "id", (json_int_t)id, "name", u.name && *u.name ? u.name : "anonymous");
	lw_user_record_dispose(&u);
	return o;
}

json_t *lw__learnware_json(lw_store *st, const lw_learnware_record *r)
{
	json_t *sem = json_loads(r->semantic_json ? r->semantic_json : "{}", 0, NULL);
	json_t *name = json_object_get(json_object_get(sem, "Name"), "Values");
	char *path = stored_path(st, r);
	struct stat sb;
	json_t *o;

	o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:s, s:I, s:I}", "id", r->id, "name",
		      json_is_string(name) ? json_string_value(name) : "", "owner", owner_json(st, r->owner),
		      "semantic", sem ? sem : json_object(), "status", lw__status_name(r->status), "verdict",
		      lw__verdict_name(r->status, r->usability), "sha256",
		      r->content_sha256 ? r->content_sha256 : "", "created", (json_int_t)r->created, "updated",
		      (json_int_t)r->updated);
	json_object_set_new(o, "size", path && stat(path, &sb) == 0 ? json_integer(sb.st_size) : json_null());
	free(path);
	return o;
}

/* The table specification's dimension, for the detail view. */
static json_t *specs_json(lw_store *st, const char *id)
{
	static const char *const type = "RKMETableSpecification";
	json_t *a = json_array();
	lw_rkme *rk = NULL;
	char *text = NULL;

	if (lw_store_spec_get(&text, st, id, type) == 0 &&
	    lw_rkme_from_json(&rk, text, strlen(text), type) == 0)
		json_array_append_new(a, json_pack("{s:s, s:I}", "type", type, "dim",
						   (json_int_t)lw_rkme_dim(rk)));
	lw_rkme_free(rk);
	free(text);
	return a;
}

/* --- listing ----------------------------------------------------------------------- */

static void reply_page(lw__reply *r, lw_store *st, const lw_learnware_filter *f, size_t page,
		       size_t limit)
{
	lw_learnware_list l = { 0 };
	size_t total = 0;
	json_t *items;
	int err;

	if ((err = lw_store_count(&total, st, f)) < 0 || (err = lw_store_list(&l, st, f)) < 0) {
		lw__reply_lw_error(r, err);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.count; i++)
		json_array_append_new(items, lw__learnware_json(st, &l.items[i]));
	lw_learnware_list_dispose(&l);
	lw__reply_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t)total,
					 "page", (json_int_t)page, "limit", (json_int_t)limit));
}

static int status_from_name(const char *s)
{
	for (int i = 0; i <= 4; i++)
		if (!strcmp(s, lw__status_name(i)))
			return i;
	return -2;
}

/* Shared by /learnwares?mine=1 and /admin/learnwares?status=. */
static void list(lw__reply *r, lw__request *q, bool all_statuses, const char *owner)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	const char *status = lw__query(q, "status");
	size_t page, limit;
	lw_dock *d;

	lw__paging(q, &page, &limit);
	f.owner = owner;
	f.offset = (page - 1) * limit;
	f.limit = limit;
	if (!all_statuses) {
		f.status = LW_STATUS_SUCCESS;
		f.usability = LW_USABILITY_USABLE;
	} else if (status && (f.status = status_from_name(status)) == -2) {
		lw__reply_error(r, 400, NULL, "status \"%s\" is not one of waiting, queued, processing, "
				"success, failed", status);
		return;
	}
	if (!(d = lw__dock_get(q->srv))) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	reply_page(r, lw_dock_store(d), &f, page, limit);
	lw__dock_put(q->srv, d);
}

void lw__api_learnware_list(lw__reply *r, lw__request *q)
{
	const char *mine = lw__query(q, "mine");
	char me[24];

	if (mine && !strcmp(mine, "1")) {
		if (!q->user_id) {
			lw__reply_error(r, 401, NULL, "log in to list your learnwares");
			return;
		}
		snprintf(me, sizeof(me), "%lld", (long long)q->user_id);
		list(r, q, true, me);
		return;
	}
	list(r, q, false, NULL);
}

void lw__api_admin_learnwares(lw__reply *r, lw__request *q)
{
	list(r, q, true, NULL);
}

/* --- submitting ---------------------------------------------------------------------- */

/* An error message with the server's temporary path replaced by the name the user knows. */
static void reply_refusal(lw__reply *r, int err, const char *zip, const char *shown)
{
	const char *msg = lw_error_last()->message, *at;
	char out[1024];
	size_t used = 0, zl = strlen(zip);

	if (err != LW_EINVALID && err != LW_ENOTFOUND) {
		lw__reply_lw_error(r, err);
		return;
	}
	while ((at = strstr(msg, zip)) && used < sizeof(out)) {
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%.*s%s", (int)(at - msg), msg, shown);
		msg = at + zl;
	}
	if (used < sizeof(out))
		snprintf(out + used, sizeof(out) - used, "%s", msg);
	lw__reply_error(r, 422, NULL, "%s", out);
}

void lw__submit_package(lw__reply *r, lw__request *q, const char *zip, const char *semantic,
			const char *replace_id, const char *shown)
{
	lw_dock_added a = { 0 };
	lw_dock *d = lw__dock_get(q->srv);
	char owner[24];
	int err;

	if (!d) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	snprintf(owner, sizeof(owner), "%lld", (long long)q->user_id);
	err = replace_id ? lw_dock_update_zip(&a, d, replace_id, zip, semantic)
			 : lw_dock_add(&a, d, zip, semantic, owner);
	if (err == LW_EEXISTS)
		lw__reply_error(r, 409, NULL, "a learnware with the same content exists: %s", a.record.id);
	else if (err < 0)
		reply_refusal(r, err, zip, shown);
	else {
		atomic_fetch_add(&q->srv->metrics.uploads, 1);
		lw__reply_json(r, 202, json_pack("{s:o}", "learnware",
						 lw__learnware_json(lw_dock_store(d), &a.record)));
	}
	lw_dock_added_dispose(&a);
	lw__dock_put(q->srv, d);
}

/* The multipart form of a submission: a "file" part and an optional "semantic" field. */
static void submit_form(lw__reply *r, lw__request *q, const char *replace_id)
{
	const lw__part *file = lw__part_get(q, "file"), *sem = lw__part_get(q, "semantic");

	if (q->body_kind != BODY_MULTIPART) {
		lw__reply_error(r, 415, NULL, "send the package as multipart/form-data with a \"file\" part");
		return;
	}
	if (!file || !file->path) {
		lw__reply_error(r, 400, NULL, "the form has no \"file\" part holding the learnware zip");
		return;
	}
	if (sem && sem->path) {
		lw__reply_error(r, 400, NULL, "\"semantic\" must be a text field holding JSON, not a file");
		return;
	}
	lw__submit_package(r, q, file->path, sem && sem->len ? sem->value : NULL, replace_id,
			   file->filename && *file->filename ? file->filename : "the uploaded file");
}

void lw__api_learnware_add(lw__reply *r, lw__request *q)
{
	submit_form(r, q, NULL);
}

/* Load the learnware and check the requester may change it. */
static lw_dock *load_for_change(lw_learnware_record *rec, lw__reply *r, lw__request *q)
{
	lw_dock *d = lw__dock_get(q->srv);

	if (!d) {
		lw__reply_lw_error(r, LW_EIO);
		return NULL;
	}
	if (lw__learnware_load(rec, r, q, lw_dock_store(d)) < 0) {
		lw__dock_put(q->srv, d);
		return NULL;
	}
	if (!lw__may_change(q, rec)) {
		lw__reply_error(r, 403, NULL, "learnware %s is not yours", rec->id);
		lw_learnware_record_dispose(rec);
		lw__dock_put(q->srv, d);
		return NULL;
	}
	return d;
}

void lw__api_learnware_replace(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_dock *d = load_for_change(&rec, r, q);

	if (!d)
		return;
	lw_learnware_record_dispose(&rec);
	lw__dock_put(q->srv, d);
	submit_form(r, q, q->params[0]);
}

void lw__api_learnware_patch(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q), *sem;
	lw_learnware_record rec = { 0 };
	lw_dock *d = NULL;
	char *text = NULL;
	int err;

	if (!body)
		return;
	if (!json_is_object(sem = json_object_get(body, "semantic"))) {
		lw__reply_error(r, 400, NULL, "the body needs \"semantic\": the new semantic specification");
		goto done;
	}
	if (!(d = load_for_change(&rec, r, q)))
		goto done;
	if (!(text = json_dumps(sem, JSON_COMPACT)))
		lw__reply_lw_error(r, LW_ENOMEM);
	else if ((err = lw_dock_update_semantic(d, rec.id, text)) < 0)
		lw__reply_lw_error(r, err);
	else {
		lw_learnware_record_dispose(&rec);
		if ((err = lw_store_get(&rec, lw_dock_store(d), q->params[0])) < 0)
			lw__reply_lw_error(r, err);
		else
			lw__reply_json(r, 200, lw__learnware_json(lw_dock_store(d), &rec));
	}
done:
	free(text);
	lw_learnware_record_dispose(&rec);
	lw__dock_put(q->srv, d);
	json_decref(body);
}

void lw__api_learnware_delete(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_dock *d = load_for_change(&rec, r, q);
	int err;

	if (!d)
		return;
	if ((err = lw_dock_delete(d, rec.id)) < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 204, NULL);
	lw_learnware_record_dispose(&rec);
	lw__dock_put(q->srv, d);
}

/* --- reading -------------------------------------------------------------------------- */

void lw__api_learnware_get(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_dock *d = lw__dock_get(q->srv);
	json_t *o;

	if (!d) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	if (lw__learnware_load(&rec, r, q, lw_dock_store(d)) == 0) {
		o = lw__learnware_json(lw_dock_store(d), &rec);
		json_object_set_new(o, "specs", specs_json(lw_dock_store(d), rec.id));
		json_object_set_new(o, "mine", json_boolean(lw__may_change(q, &rec)));
		lw__reply_json(r, 200, o);
		lw_learnware_record_dispose(&rec);
	}
	lw__dock_put(q->srv, d);
}

static void count_download(lw__request *q, lw_store *st, const char *id)
{
	json_t *o = json_pack("{s:s}", "learnware_id", id);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char actor[24];

	snprintf(actor, sizeof(actor), "%lld", (long long)q->user_id);
	atomic_fetch_add(&q->srv->metrics.downloads, 1);
	/* No learnware_id column: downloads must not wake index refreshers. */
	if (text)
		lw_store_event_append(NULL, st, q->user_id ? actor : NULL, "download", NULL, text);
	free(text);
	json_decref(o);
}

void lw__api_learnware_file(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_dock *d = lw__dock_get(q->srv);
	char name[64], *path;

	if (!d) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	if (lw__learnware_load(&rec, r, q, lw_dock_store(d)) == 0) {
		snprintf(name, sizeof(name), "learnware-%s.zip", rec.id);
		if (!(path = stored_path(lw_dock_store(d), &rec)))
			lw__reply_lw_error(r, LW_ENOMEM);
		else {
			lw__reply_file(r, path, "application/zip", name);
			if (r->raw)
				count_download(q, lw_dock_store(d), rec.id);
		}
		free(path);
		lw_learnware_record_dispose(&rec);
	}
	lw__dock_put(q->srv, d);
}

void lw__api_learnware_verification(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_job_record j = { 0 };
	lw_dock *d = load_for_change(&rec, r, q);
	char *log = NULL;
	json_t *o, *job = json_null();

	if (!d)
		return;
	if (lw_store_job_latest(&j, lw_dock_store(d), rec.id) == 0) {
		static const char *const states[] = { "queued", "running", "done", "failed", "cancelled" };

		json_decref(job);
		job = json_pack("{s:s, s:i, s:s?, s:I, s:I, s:I}", "state",
				j.state >= 0 && j.state < LW_JOB_NSTATES ? states[j.state] : "unknown",
				"attempts", j.attempts, "worker", j.worker, "created", (json_int_t)j.created,
				"started", (json_int_t)j.started, "finished", (json_int_t)j.finished);
	}
	lw_dock_check_log(&log, d, rec.id);
	o = json_pack("{s:s, s:s, s:s, s:o}", "status", lw__status_name(rec.status), "verdict",
		      lw__verdict_name(rec.status, rec.usability), "log", log ? log : (j.log ? j.log : ""),
		      "job", job ? job : json_null());
	lw__reply_json(r, 200, o);
	free(log);
	lw_job_record_dispose(&j);
	lw_learnware_record_dispose(&rec);
	lw__dock_put(q->srv, d);
}

void lw__api_learnware_spec(lw__reply *r, lw__request *q)
{
	lw_learnware_record rec;
	lw_dock *d = lw__dock_get(q->srv);
	char *text = NULL;
	int err;

	if (!d) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	if (lw__learnware_load(&rec, r, q, lw_dock_store(d)) == 0) {
		if ((err = lw_store_spec_get(&text, lw_dock_store(d), rec.id, q->params[1])) == LW_ENOTFOUND)
			lw__reply_error(r, 404, NULL, "learnware %s has no %s", rec.id, q->params[1]);
		else if (err < 0)
			lw__reply_lw_error(r, err);
		else
			lw__reply_text(r, 200, "application/json", text);
		free(text);
		lw_learnware_record_dispose(&rec);
	}
	lw__dock_put(q->srv, d);
}

/* --- several at once ------------------------------------------------------------------ */

#define DOWNLOAD_MAX 10

/* Split "a,b,c" into at most DOWNLOAD_MAX valid ids. */
static int parse_ids(lw__reply *r, const char *s, char ids[DOWNLOAD_MAX][16], size_t *n)
{
	*n = 0;
	while (s && *s) {
		size_t len = strcspn(s, ",");

		if (*n == DOWNLOAD_MAX) {
			lw__reply_error(r, 400, NULL, "at most %d learnwares at once", DOWNLOAD_MAX);
			return -1;
		}
		if (len != 8 || strspn(s, "0123456789") < 8) {
			lw__reply_error(r, 400, NULL, "\"%.*s\" is not a learnware id (8 digits)",
					(int)(len > 32 ? 32 : len), s);
			return -1;
		}
		memcpy(ids[*n], s, 8);
		ids[(*n)++][8] = '\0';
		s += len + (s[len] == ',');
	}
	if (*n == 0) {
		lw__reply_error(r, 400, NULL, "give ids=ID,ID,... (at most %d)", DOWNLOAD_MAX);
		return -1;
	}
	return 0;
}

/* Build the bundle: one stored (uncompressed) entry per package, which are zips already. */
static int bundle(lw__reply *r, lw__request *q, lw_store *st, char ids[][16], size_t n, const char *out)
{
	zip_t *z;
	int zerr;

	if (!(z = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &zerr))) {
		lw__reply_error(r, 503, NULL, "cannot create the bundle");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		lw_learnware_record rec;
		char name[64], *path;
		zip_source_t *src;
		zip_int64_t at;

		memcpy(q->params[0], ids[i], 9); /* 8 digits and the NUL, checked by parse_ids */
		if (lw__learnware_load(&rec, r, q, st) < 0) {
			zip_discard(z);
			return -1;
		}
		path = stored_path(st, &rec);
		snprintf(name, sizeof(name), "learnware-%s.zip", rec.id);
		src = path ? zip_source_file(z, path, 0, -1) : NULL;
		if (!src || (at = zip_file_add(z, name, src, ZIP_FL_OVERWRITE)) < 0) {
			zip_source_free(src);
			free(path);
			lw_learnware_record_dispose(&rec);
			zip_discard(z);
			lw__reply_error(r, 503, NULL, "cannot add %s to the bundle", name);
			return -1;
		}
		zip_set_file_compression(z, (zip_uint64_t)at, ZIP_CM_STORE, 0);
		count_download(q, st, rec.id);
		free(path);
		lw_learnware_record_dispose(&rec);
	}
	if (zip_close(z) != 0) {
		zip_discard(z);
		lw__reply_error(r, 503, NULL, "cannot write the bundle");
		return -1;
	}
	return 0;
}

void lw__api_download(lw__reply *r, lw__request *q)
{
	char ids[DOWNLOAD_MAX][16], out[PATH_MAX];
	lw_dock *d;
	size_t n;
	int fd;

	if (parse_ids(r, lw__query(q, "ids"), ids, &n) < 0)
		return;
	snprintf(out, sizeof(out), "%s/bundle.XXXXXX", q->srv->upload_dir);
	if ((fd = mkstemp(out)) < 0) {
		lw__reply_error(r, 503, NULL, "cannot create the bundle");
		return;
	}
	close(fd);
	if (!(d = lw__dock_get(q->srv)))
		lw__reply_lw_error(r, LW_EIO);
	else if (bundle(r, q, lw_dock_store(d), ids, n, out) == 0)
		lw__reply_file(r, out, "application/zip", "learnwares.zip");
	lw__dock_put(q->srv, d);
	unlink(out); /* the open descriptor keeps the bytes until they are sent */
}
