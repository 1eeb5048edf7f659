/*
 * libmicrohttpd glue.  A request is handled in three steps, as MHD calls
 * the access handler: the first call routes it and checks the token and
 * the announced size, so a refused upload is answered before its body
 * arrives; the middle calls take the body (JSON in memory, multipart
 * files and resumable chunks straight to disk, each under its limit); the
 * last call runs the handler and queues its reply.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

/* --- replies ------------------------------------------------------------------- */

void lw__reply_json(lw__reply *r, int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
}

static const char *status_code_name(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 409: return "conflict";
	case 413: return "payload_too_large";
	case 415: return "unsupported_media_type";
	case 422: return "unprocessable";
	case 429: return "too_many_requests";
	case 503: return "unavailable";
	default: return "internal";
	}
}

void lw__reply_error(lw__reply *r, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw__reply_json(r, status,
		       json_pack("{s:{s:s, s:s}}", "error", "code", code ? code : status_code_name(status),
				 "message", msg));
}

void lw__reply_lw_error(lw__reply *r, int err)
{
	const char *msg = lw_error_last()->message;

	switch (err) {
	case LW_ENOTFOUND: lw__reply_error(r, 404, NULL, "%s", msg); break;
	case LW_EINVALID: lw__reply_error(r, 422, NULL, "%s", msg); break;
	case LW_EEXISTS: lw__reply_error(r, 409, NULL, "%s", msg); break;
	case LW_ENOMEM: lw__reply_error(r, 503, NULL, "out of memory"); break;
	default:
		fprintf(stderr, "learnware serve: internal error: %s\n", msg);
		lw__reply_error(r, 500, NULL, "internal error: %s", msg);
	}
}

void lw__reply_text(lw__reply *r, int status, const char *type, const char *text)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	r->status = status;
	r->raw = resp;
}

void lw__reply_file(lw__reply *r, const char *path, const char *type, const char *download_name)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	struct MHD_Response *resp;

	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		lw__reply_error(r, 404, NULL, "the file is gone");
		return;
	}
	if (!(resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd))) {
		close(fd);
		lw__reply_error(r, 503, NULL, "cannot send the file");
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (download_name) {
		char cd[256];

		snprintf(cd, sizeof(cd), "attachment; filename=\"%s\"", download_name);
		MHD_add_response_header(resp, "Content-Disposition", cd);
	}
	r->status = 200;
	r->raw = resp;
}

static enum MHD_Result send_reply(lw__request *q, lw__reply *r)
{
	struct MHD_Response *resp = r->raw;
	enum MHD_Result ok;

	if (!resp) {
		char *text = r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;

		if (r->json && !text) {
			r->status = 503;
			text = strdup("{\"error\":{\"code\":\"unavailable\",\"message\":\"out of memory\"}}");
		}
		resp = MHD_create_response_from_buffer(text ? strlen(text) : 0, text ? text : (void *)"",
						       text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
		if (!resp) {
			free(text);
			return MHD_NO;
		}
		if (text)
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
						"application/json; charset=utf-8");
	}
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	if (r->retry_after[0])
		MHD_add_response_header(resp, "Retry-After", r->retry_after);
	if (r->status == 405 && q->route == NULL)
		MHD_add_response_header(resp, "Allow", "GET, POST, PUT, PATCH, DELETE");
	q->status = r->status;
	ok = MHD_queue_response(q->conn, (unsigned int)r->status, resp);
	MHD_destroy_response(resp);
	json_decref(r->json);
	r->json = NULL;
	r->raw = NULL;
	return ok;
}

/* Queue an error at once (during the first call or while a body arrives). */
static enum MHD_Result fail(lw__request *q, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result fail(lw__request *q, int status, const char *fmt, ...)
{
	lw__reply r = { 0 };
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw__reply_error(&r, status, NULL, "%s", msg);
	q->failed = 1;
	return send_reply(q, &r);
}

/*
 * An error found while the body arrives: answering at once makes the
 * client see a reset instead of the reply, so the rest of the body is read
 * and dropped and the reply sent at its end (or once DISCARD_MAX bytes
 * were dropped, after which the connection is closed).
 */
#define DISCARD_MAX ((uint64_t)64 << 20)

static enum MHD_Result fail_later(lw__request *q, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result fail_later(lw__request *q, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw__reply_error(&q->pending, status, NULL, "%s", msg);
	q->failed = 2;
	return MHD_YES;
}

/* --- request helpers ------------------------------------------------------------- */

const char *lw__query(lw__request *q, const char *key)
{
	return MHD_lookup_connection_value(q->conn, MHD_GET_ARGUMENT_KIND, key);
}

static size_t query_num(lw__request *q, const char *key, size_t def, size_t lo, size_t hi)
{
	const char *v = lw__query(q, key);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return def;
	n = strtoull(v, &end, 10);
	if (*end || v[0] == '-')
		return def;
	return n < lo ? lo : n > hi ? hi : (size_t)n;
}

void lw__paging(lw__request *q, size_t *page, size_t *limit)
{
	*page = query_num(q, "page", 1, 1, 1000000);
	*limit = query_num(q, "limit", 20, 1, 100);
}

const lw__part *lw__part_get(const lw__request *q, const char *name)
{
	for (size_t i = 0; i < q->nparts; i++)
		if (!strcmp(q->parts[i].name, name))
			return &q->parts[i];
	return NULL;
}

json_t *lw__body_object(lw__reply *r, lw__request *q)
{
	json_error_t e;
	json_t *o;

	if (!q->body || q->body_len == 0) {
		lw__reply_error(r, 400, NULL, "the request needs a JSON object as its body");
		return NULL;
	}
	if (!(o = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &e))) {
		lw__reply_error(r, 400, NULL, "the body is not JSON: %s at line %d, column %d", e.text,
				e.line, e.column);
		return NULL;
	}
	if (!json_is_object(o)) {
		json_decref(o);
		lw__reply_error(r, 400, NULL, "the body must be a JSON object");
		return NULL;
	}
	return o;
}

/* --- bodies ---------------------------------------------------------------------- */

static int append_body(lw__request *q, const char *data, size_t n)
{
	char *p;

	if (q->body_len + n > q->body_max)
		return LW_EINVALID;
	if (!(p = realloc(q->body, q->body_len + n + 1)))
		return LW_ENOMEM;
	memcpy(p + q->body_len, data, n);
	q->body = p;
	q->body_len += n;
	p[q->body_len] = '\0';
	return 0;
}

static lw__part *part_for(lw__request *q, const char *key, const char *filename)
{
	lw__part *p;

	if (q->nparts && !strcmp(q->parts[q->nparts - 1].name, key))
		return &q->parts[q->nparts - 1];
	if (q->nparts >= 16 || !(p = realloc(q->parts, (q->nparts + 1) * sizeof(*p))))
		return NULL;
	q->parts = p;
	p = &q->parts[q->nparts];
	memset(p, 0, sizeof(*p));
	if (!(p->name = strdup(key)))
		return NULL;
	q->nparts++;
	if (filename) {
		char tmpl[PATH_MAX];
		int fd;

		if (!(p->filename = strdup(filename)))
			return NULL;
		snprintf(tmpl, sizeof(tmpl), "%s/part.XXXXXX", q->srv->upload_dir);
		if ((fd = mkstemp(tmpl)) < 0 || !(p->f = fdopen(fd, "wb")) || !(p->path = strdup(tmpl))) {
			if (fd >= 0 && !p->f)
				close(fd);
			return NULL;
		}
	}
	return p;
}

/* Multipart fields: files to disk (max_upload_mb in all), the rest in memory. */
static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
			       const char *content_type, const char *transfer_encoding, const char *data,
			       uint64_t off, size_t size)
{
	lw__request *q = cls;
	lw__part *p;

	(void)kind, (void)content_type, (void)transfer_encoding, (void)off;
	if (!key || !(p = part_for(q, key, filename))) {
		q->failed = q->failed ? q->failed : 503;
		return MHD_NO;
	}
	if (p->f) {
		q->stream_len += size;
		if (q->stream_len > (uint64_t)q->srv->c.max_upload_mb << 20) {
			q->failed = 413;
			return MHD_NO;
		}
		if (size && fwrite(data, 1, size, p->f) != size) {
			q->failed = 503;
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (p->len + size > q->body_max) {
		q->failed = 413;
		return MHD_NO;
	}
	char *v = realloc(p->value, p->len + size + 1);
	if (!v) {
		q->failed = 503;
		return MHD_NO;
	}
	memcpy(v + p->len, data, size);
	p->value = v;
	p->len += size;
	v[p->len] = '\0';
	return MHD_YES;
}

static void request_free(lw__request *q)
{
	if (q->pp)
		MHD_destroy_post_processor(q->pp);
	for (size_t i = 0; i < q->nparts; i++) {
		lw__part *p = &q->parts[i];

		if (p->f)
			fclose(p->f);
		if (p->path)
			unlink(p->path);
		free(p->path);
		free(p->name);
		free(p->filename);
		free(p->value);
	}
	free(q->parts);
	if (q->stream_fd >= 0)
		close(q->stream_fd);
	json_decref(q->pending.json);
	free(q->body);
	free(q);
}

/* --- static files ---------------------------------------------------------------- */

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
		{ ".ico", "image/x-icon" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* A file under web_root: no dot segments, nothing outside the root after symlinks. */
static void serve_static(lw__reply *r, lw_server *s, const char *url)
{
	char path[PATH_MAX], real[PATH_MAX], root[PATH_MAX];

	if (!s->c.web_root || !*s->c.web_root || strstr(url, "/.") || strchr(url, '\\') ||
	    strlen(url) > 512) {
		lw__reply_error(r, 404, NULL, "no such page: %s", url);
		return;
	}
	snprintf(path, sizeof(path), "%s%s%s", s->c.web_root, url,
		 url[strlen(url) - 1] == '/' ? "index.html" : "");
	if (!realpath(s->c.web_root, root) || !realpath(path, real) ||
	    strncmp(real, root, strlen(root)) != 0 || real[strlen(root)] != '/') {
		lw__reply_error(r, 404, NULL, "no such page: %s", url);
		return;
	}
	lw__reply_file(r, real, mime_of(real), NULL);
	if (r->raw) {
		MHD_add_response_header(r->raw, "Content-Security-Policy",
					"default-src 'self'; img-src 'self' data:; style-src 'self'; "
					"object-src 'none'; frame-ancestors 'none'");
		MHD_add_response_header(r->raw, "X-Frame-Options", "DENY");
	}
}

/* --- the access handler ------------------------------------------------------------- */

static void client_address(lw__request *q)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(q->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(q->client, sizeof(q->client), "?");
	if (!ci || !ci->client_addr)
		return;
	getnameinfo(ci->client_addr,
		    ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in),
		    q->client, sizeof(q->client), NULL, 0, NI_NUMERICHOST);
}

static bool content_type_is(lw__request *q, const char *prefix)
{
	const char *ct = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Type");

	return ct && strncasecmp(ct, prefix, strlen(prefix)) == 0;
}

/* First call: route, authenticate, check the announced size, prepare the body. */
static enum MHD_Result begin(lw__request *q)
{
	const char *cl = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Content-Length");
	unsigned long long announced = cl ? strtoull(cl, NULL, 10) : 0;
	uint64_t file_max = (uint64_t)q->srv->c.max_upload_mb << 20;
	bool known;
	lw_dock *d;
	int err;

	q->route = lw__route_match(q->method, q->url, q->params, &known);
	if (!q->route) {
		if (known)
			return fail(q, 405, "%s is not allowed on %s", q->method, q->url);
		if (strncmp(q->url, "/api/", 5) == 0)
			return fail(q, 404, "no such API route: %s %s (see /api/v1/openapi.json)", q->method,
				    q->url);
		return MHD_YES; /* a static file, or a 404, on the last call */
	}
	if (q->route->auth != AUTH_NONE) {
		if (!(d = lw__dock_get(q->srv)))
			return fail(q, 503, "the store is unavailable: %s", lw_error_last()->message);
		err = lw__auth_request(q, lw_dock_store(d));
		lw__dock_put(q->srv, d);
		if (err == LW_EINVALID)
			return fail(q, 401, "%s", lw_error_last()->message);
		if (err < 0)
			return fail(q, 503, "the store is unavailable: %s", lw_error_last()->message);
		if (q->route->auth >= AUTH_USER && !q->user_id)
			return fail(q, 401, "log in first: this needs an Authorization: Bearer token");
		if (q->route->auth == AUTH_ADMIN && q->role != LW_ROLE_ADMIN)
			return fail(q, 403, "only admins may do this");
	}
	q->body_kind = q->route->body;
	if (q->body_kind == BODY_MULTIPART && !content_type_is(q, "multipart/form-data"))
		q->body_kind = BODY_JSON; /* search takes either */
	if (q->body_kind == BODY_MULTIPART) {
		if (announced > file_max + ((uint64_t)q->body_max << 2))
			return fail(q, 413, "the upload is %llu bytes; the limit is %d MiB (max_upload_mb)",
				    announced, q->srv->c.max_upload_mb);
		if (!(q->pp = MHD_create_post_processor(q->conn, 65536, on_part, q)))
			return fail(q, 400, "cannot read the multipart/form-data body");
	} else if (q->body_kind == BODY_JSON) {
		if (announced > q->body_max)
			return fail(q, 413, "the body is %llu bytes; the limit is %d KiB (max_body_kb)",
				    announced, q->srv->c.max_body_kb);
		if (cl && announced > 0 && !content_type_is(q, "application/json"))
			return fail(q, 415, "send the body as application/json");
	} else if (q->body_kind == BODY_STREAM) {
		lw__reply r = { 0 };

		if (lw__upload_stream_open(&r, q) < 0) {
			q->failed = 1;
			return send_reply(q, &r);
		}
	}
	return MHD_YES;
}

/* Middle calls: take the body. */
static enum MHD_Result take_body(lw__request *q, const char *data, size_t n)
{
	if (q->failed == 2) {
		q->discarded += n;
		if (q->discarded > DISCARD_MAX) {
			q->failed = 1;
			return send_reply(q, &q->pending);
		}
		return MHD_YES;
	}
	if (q->failed)
		return MHD_YES; /* an error reply is queued: drop the rest */
	switch (q->body_kind) {
	case BODY_MULTIPART:
		if (MHD_post_process(q->pp, data, n) != MHD_YES) {
			int st = q->failed > 1 ? q->failed : 400;

			q->failed = 0;
			return st == 413 ? fail_later(q, 413, "the upload is over %d MiB (max_upload_mb) or a "
						    "field over %d KiB (max_body_kb)",
						q->srv->c.max_upload_mb, q->srv->c.max_body_kb)
			       : st == 503 ? fail_later(q, 503, "cannot store the upload")
					   : fail_later(q, 400, "malformed multipart/form-data body");
		}
		return MHD_YES;
	case BODY_STREAM: {
		uint64_t room = q->stream_len; /* set by the upload handler: bytes still allowed */

		if (n > room)
			return fail_later(q, 413, "the chunk runs past the upload's declared size");
		for (size_t done = 0; done < n;) {
			ssize_t w = write(q->stream_fd, data + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return fail_later(q, 503, "cannot store the chunk: %s", strerror(errno));
			done += (size_t)w;
		}
		q->stream_len -= n;
		return MHD_YES;
	}
	case BODY_JSON:
		if (append_body(q, data, n) < 0)
			return fail_later(q, 413, "the body is over %d KiB (max_body_kb)", q->srv->c.max_body_kb);
		return MHD_YES;
	default:
		return fail_later(q, 400, "%s %s takes no body", q->method, q->url);
	}
}

/* Last call: run the handler. */
static enum MHD_Result finish(lw__request *q)
{
	lw__reply r = { 0 };

	if (q->pp) {
		for (size_t i = 0; i < q->nparts; i++)
			if (q->parts[i].f && fflush(q->parts[i].f) != 0)
				return fail(q, 503, "cannot store the upload");
	}
	if (!q->route) {
		if (strncmp(q->url, "/api/", 5) == 0)
			lw__reply_error(&r, 404, NULL, "no such API route: %s %s (see /api/v1/openapi.json)",
					q->method, q->url);
		else if (strcmp(q->method, "GET") && strcmp(q->method, "HEAD"))
			lw__reply_error(&r, 405, NULL, "%s is not allowed on %s", q->method, q->url);
		else
			serve_static(&r, q->srv, q->url);
	} else {
		q->route->handler(&r, q);
	}
	if (!r.status)
		lw__reply_error(&r, 500, NULL, "the handler gave no reply");
	return send_reply(q, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	lw__request *q = *con_cls;

	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return MHD_NO;
		q->srv = cls;
		q->conn = conn;
		q->method = method;
		q->url = url;
		q->stream_fd = -1;
		q->started = lw__now_s();
		q->body_max = (size_t)q->srv->c.max_body_kb << 10;
		client_address(q);
		*con_cls = q;
		return begin(q);
	}
	if (*data_size) {
		enum MHD_Result ok = take_body(q, data, *data_size);

		*data_size = 0;
		return ok;
	}
	if (q->failed == 2) {
		q->failed = 1;
		return send_reply(q, &q->pending);
	}
	if (q->failed)
		return MHD_YES;
	return finish(q);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode why)
{
	lw_server *s = cls;
	lw__request *q = *con_cls;
	double took;

	(void)conn, (void)why;
	if (!q)
		return;
	took = lw__now_s() - q->started;
	lw__metrics_observe(&s->metrics, lw__metrics_slot(&s->metrics, q->route ? q->route->name : "static"),
			    q->status, took);
	if (s->c.access_log)
		fprintf(stderr, "%s %s %s %d %.1fms\n", q->client, q->method, q->url, q->status,
			took * 1e3);
	request_free(q);
	*con_cls = NULL;
}

/* --- the daemon ---------------------------------------------------------------------- */

static int bind_listen(lw_server *s)
{
	char host[256], port[16];
	const char *colon = strrchr(s->c.listen, ':');
	struct addrinfo hints = { 0 }, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = -1, one = 1, rc;

	if (!colon || colon == s->c.listen || (size_t)(colon - s->c.listen) >= sizeof(host) ||
	    strlen(colon + 1) >= sizeof(port) || !colon[1]) {
		lw_error_set(LW_ERRCLASS_INVALID, "listen: \"%s\" is not host:port (for example 127.0.0.1:8080)",
			     s->c.listen);
		return LW_EINVALID;
	}
	memcpy(host, s->c.listen, (size_t)(colon - s->c.listen));
	host[colon - s->c.listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	snprintf(port, sizeof(port), "%s", colon + 1);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "listen: cannot resolve %s: %s", s->c.listen,
			     gai_strerror(rc));
		return LW_EINVALID;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 256) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot listen on %s", s->c.listen);
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return LW_EIO;
	}
	freeaddrinfo(ai);
	s->listen_fd = fd;
	if (ss.ss_family == AF_INET6)
		snprintf(s->url, sizeof(s->url), "http://[%s]:%u", host,
			 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
	else
		snprintf(s->url, sizeof(s->url), "http://%s:%u", host,
			 ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return 0;
}

int lw__http_start(lw_server *s)
{
	int err;

	if ((err = bind_listen(s)) < 0)
		return err;
	for (const lw__route *r = lw__routes; r->method; r++)
		lw__metrics_slot(&s->metrics, r->name);
	lw__metrics_slot(&s->metrics, "static");
	s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
				  NULL, NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->c.threads,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_END);
	if (!s->mhd) {
		lw_error_set(LW_ERRCLASS_OS, "cannot start the HTTP server on %s", s->c.listen);
		return LW_EIO;
	}
	s->listen_fd = -1; /* MHD closes it when it stops */
	return 0;
}

void lw__http_stop(lw_server *s)
{
	if (s->mhd)
		MHD_stop_daemon(s->mhd);
	s->mhd = NULL;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}
