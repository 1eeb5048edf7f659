/*
 * A small libcurl wrapper for the remote verbs: JSON requests, multipart
 * and chunk uploads, downloads to a file, progress bars, the saved login
 * and the error messages (docs/api.md: {"error": {"code", "message"}}).
 */
#define _POSIX_C_SOURCE 200809L
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"

volatile int cli_http_interrupted;

/* Bodies we keep in memory (JSON answers, error messages) stop here. */
#define MAX_KEPT_BODY ((size_t)64 << 20)
/* A JSON request (a search on a big dock included) finishes within this. */
#define JSON_TIMEOUT_S 300L
/* Transfers have no overall limit, but abort when slower than this for that long. */
#define LOW_SPEED_BYTES 1024L
#define LOW_SPEED_TIME_S 60L

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --- progress bars ---------------------------------------------------------------- */

void cli_xfer_progress_init(cli_xfer_progress *p, int quiet, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = !quiet && isatty(STDERR_FILENO);
	p->label = label;
	p->total = total;
}

static void human_bytes(char *buf, size_t n, uint64_t b)
{
	if (b < 1024)
		snprintf(buf, n, "%lu B", (unsigned long)b);
	else if (b < ((uint64_t)1 << 20))
		snprintf(buf, n, "%.1f KiB", (double)b / 1024.0);
	else if (b < ((uint64_t)1 << 30))
		snprintf(buf, n, "%.1f MiB", (double)b / 1048576.0);
	else
		snprintf(buf, n, "%.2f GiB", (double)b / 1073741824.0);
}

void cli_xfer_progress_draw(cli_xfer_progress *p, uint64_t done, int force)
{
	char bar[31], have[32], all[32];
	const char *label;
	double t, frac;
	size_t fill, len;

	if (!p || !p->enabled)
		return;
	t = now_s();
	if (!force && p->drawn && t - p->last < 0.1)
		return;
	p->last = t;
	p->drawn = 1;
	label = p->label ? p->label : "";
	len = strlen(label);
	if (len > 32)
		label += len - 32; /* the end of a long path says the most */
	human_bytes(have, sizeof(have), done);
	if (!p->total) {
		fprintf(stderr, "\r\033[K%s %s", label, have);
	} else {
		frac = done >= p->total ? 1.0 : (double)done / (double)p->total;
		fill = (size_t)(frac * 30.0);
		memset(bar, '#', fill);
		memset(bar + fill, ' ', 30 - fill);
		bar[30] = '\0';
		human_bytes(all, sizeof(all), p->total);
		fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %s / %s", label, bar, 100.0 * frac, have, all);
	}
	fflush(stderr);
}

void cli_xfer_progress_end(cli_xfer_progress *p)
{
	if (p && p->enabled && p->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->drawn = 0;
	}
}

/* --- signals ------------------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	cli_http_interrupted = 1;
}

static void catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* --- the saved login ------------------------------------------------------------------ */

static int config_dir(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int len;

	if (xdg && xdg[0] == '/')
		len = snprintf(buf, n, "%s/learnware", xdg);
	else if (home && home[0])
		len = snprintf(buf, n, "%s/.config/learnware", home);
	else
		return -1;
	return len > 0 && (size_t)len < n ? 0 : -1;
}

int cli_credentials_path(char *buf, size_t n)
{
	char dir[4096];
	int len;

	if (config_dir(dir, sizeof(dir)) < 0)
		return -1;
	len = snprintf(buf, n, "%s/credentials.json", dir);
	return len > 0 && (size_t)len < n ? 0 : -1;
}

void cli_credentials_dispose(cli_credentials *c)
{
	if (c->token)
		memset(c->token, 0, strlen(c->token));
	free(c->server);
	free(c->token);
	free(c->email);
	free(c->token_name);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cli_credentials_load(cli_credentials *c)
{
	char path[4200];
	json_error_t jerr;
	json_t *root;
	struct stat st;

	memset(c, 0, sizeof(*c));
	if (cli_credentials_path(path, sizeof(path)) < 0 || stat(path, &st) < 0)
		return 1;
	if (st.st_mode & 077)
		fprintf(stderr, "learnware: warning: %s is readable by others; chmod 600 it\n", path);
	if (!(root = json_load_file(path, 0, &jerr)) || !json_is_object(root)) {
		fprintf(stderr, "learnware: %s: %s; log in again ('learnware login')\n", path,
			root ? "not a JSON object" : jerr.text);
		json_decref(root);
		return CLI_EXIT_INPUT;
	}
	c->server = dup_or_null(json_string_value(json_object_get(root, "server")));
	c->token = dup_or_null(json_string_value(json_object_get(root, "token")));
	c->email = dup_or_null(json_string_value(json_object_get(root, "email")));
	c->token_name = dup_or_null(json_string_value(json_object_get(root, "token_name")));
	c->token_id = json_integer_value(json_object_get(root, "token_id"));
	json_decref(root);
	if (!c->server || !c->token) {
		fprintf(stderr, "learnware: %s lacks the server or the token; log in again ('learnware login')\n",
			path);
		cli_credentials_dispose(c);
		return CLI_EXIT_INPUT;
	}
	return 0;
}

/* mkdir -p with mode 0700 for the folders we create. */
static int make_dirs(const char *dir)
{
	char tmp[4096];
	size_t len = strlen(dir);

	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(tmp, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

int cli_credentials_save(const cli_credentials *c)
{
	char dir[4096], path[4200], tmp[4300];
	json_t *root;
	char *text;
	int fd, ok;

	if (config_dir(dir, sizeof(dir)) < 0 || cli_credentials_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "learnware: neither XDG_CONFIG_HOME nor HOME is set: nowhere to keep the login\n");
		return CLI_EXIT_IO;
	}
	if (make_dirs(dir) < 0) {
		fprintf(stderr, "learnware: cannot create %s: %s\n", dir, strerror(errno));
		return CLI_EXIT_IO;
	}
	root = json_pack("{s:s, s:s?, s:s?, s:I, s:s}", "server", c->server, "email", c->email,
			 "token_name", c->token_name, "token_id", (json_int_t)c->token_id, "token", c->token);
	text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!text) {
		fprintf(stderr, "learnware: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp); /* mode 0600 */
	ok = fd >= 0 && fchmod(fd, 0600) == 0 && write_all(fd, text, strlen(text)) == 0 &&
	     write_all(fd, "\n", 1) == 0 && fsync(fd) == 0;
	if (fd >= 0 && close(fd) < 0)
		ok = 0;
	ok = ok && rename(tmp, path) == 0;
	memset(text, 0, strlen(text));
	free(text);
	if (!ok) {
		fprintf(stderr, "learnware: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return CLI_EXIT_IO;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

/* --- the server and the token ------------------------------------------------------- */

char *cli_remote_normalise_url(const char *url)
{
	const char *sep = strstr(url, "://");
	size_t len;
	char *out;

	if (sep && strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return NULL;
	if (!url[0] || !(out = malloc(strlen(url) + 8)))
		return NULL;
	sprintf(out, "%s%s", sep ? "" : "http://", url);
	len = strlen(out);
	while (len && out[len - 1] == '/')
		out[--len] = '\0';
	if (!strstr(out, "://")[3]) { /* a scheme and no host */
		free(out);
		return NULL;
	}
	return out;
}

static const char *nonempty_env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

int cli_remote_open(cli_remote *r, const char *verb, const char *server_opt, int need_token)
{
	cli_credentials c;
	const char *server = server_opt ? server_opt : nonempty_env("LEARNWARE_SERVER");
	const char *env_token = nonempty_env("LEARNWARE_TOKEN");
	int loaded;

	memset(r, 0, sizeof(r[0]));
	r->verb = verb;
	if ((loaded = cli_credentials_load(&c)) > 1)
		loaded = 1; /* broken: said so; go on without it */
	if (!server && loaded == 0)
		server = c.server;
	if (!server) {
		if (loaded == 0)
			cli_credentials_dispose(&c);
		return cli_usage_error(verb, "no server: give --server URL, set LEARNWARE_SERVER or log in "
					     "('learnware login --server URL')");
	}
	if (!(r->server = cli_remote_normalise_url(server))) {
		if (loaded == 0)
			cli_credentials_dispose(&c);
		return cli_usage_error(verb, "'%s' is not an http:// or https:// URL", server);
	}
	if (env_token) {
		r->token = strdup(env_token);
	} else if (loaded == 0) {
		char *saved = cli_remote_normalise_url(c.server);

		/* The saved token goes only to the server it came from. */
		if (saved && !strcmp(saved, r->server)) {
			r->token = c.token;
			c.token = NULL;
			r->token_id = c.token_id;
			r->saved = 1;
		}
		free(saved);
	}
	if (loaded == 0)
		cli_credentials_dispose(&c);
	if (need_token && !r->token) {
		fprintf(stderr,
			"learnware %s: not logged in to %s: run 'learnware login --server %s' or set LEARNWARE_TOKEN\n",
			verb, r->server, r->server);
		cli_remote_close(r);
		return CLI_EXIT_FAILURE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "learnware %s: libcurl failed to start\n", verb);
		cli_remote_close(r);
		return CLI_EXIT_FAILURE;
	}
	catch_signals();
	return 0;
}

void cli_remote_close(cli_remote *r)
{
	if (r->curl)
		curl_easy_cleanup(r->curl);
	if (r->token)
		memset(r->token, 0, strlen(r->token));
	free(r->token);
	free(r->server);
	memset(r, 0, sizeof(*r));
}

/* --- requests ------------------------------------------------------------------------ */

typedef struct {
	cli_http_response *resp;
	CURL *curl;
	FILE *fp;                 /* download target for 2xx answers */
	int to_file;              /* -1 undecided, 0 memory, 1 file */
	int write_failed;
	cli_xfer_progress *prog;
	int upload;               /* the progress bar follows the upload */
	const char *data;         /* a chunk being PUT */
	size_t data_len, data_pos;
} xfer;

static size_t keep(xfer *x, const char *ptr, size_t n)
{
	cli_http_response *resp = x->resp;
	char *p;

	if (resp->len + n > MAX_KEPT_BODY)
		return n; /* drop the rest of a huge error page */
	if (!(p = realloc(resp->body, resp->len + n + 1)))
		return 0;
	memcpy(p + resp->len, ptr, n);
	resp->body = p;
	resp->len += n;
	p[resp->len] = '\0';
	return n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *payload)
{
	xfer *x = payload;
	size_t n = size * nmemb;

	if (x->to_file < 0) {
		long code = 0;

		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code);
		x->to_file = x->fp && code >= 200 && code < 300;
	}
	if (x->to_file) {
		if (fwrite(ptr, 1, n, x->fp) != n) {
			x->write_failed = errno ? errno : EIO;
			return 0;
		}
		return n;
	}
	return keep(x, ptr, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *payload)
{
	xfer *x = payload;
	size_t n = size * nitems;

	if (n > 12 && !strncasecmp(buf, "Retry-After:", 12))
		x->resp->retry_after = strtol(buf + 12, NULL, 10);
	return n;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *payload)
{
	xfer *x = payload;
	size_t n = size * nitems, left = x->data_len - x->data_pos;

	if (n > left)
		n = left;
	memcpy(buf, x->data + x->data_pos, n);
	x->data_pos += n;
	return n;
}

static int on_progress(void *payload, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	xfer *x = payload;

	if (cli_http_interrupted)
		return 1;
	if (x->prog) {
		if (x->upload)
			cli_xfer_progress_draw(x->prog, x->prog->base + (uint64_t)ulnow, 0);
		else if (x->to_file > 0) {
			if (!x->prog->total && dltotal > 0)
				x->prog->total = (uint64_t)dltotal;
			cli_xfer_progress_draw(x->prog, x->prog->base + (uint64_t)dlnow, 0);
		}
	}
	(void)ultotal;
	return 0;
}

static CURL *handle(cli_remote *r)
{
	if (!r->curl)
		r->curl = curl_easy_init();
	else
		curl_easy_reset(r->curl);
	return r->curl;
}

/* Options every request shares; *headers gets the common headers appended. */
static int setup(cli_remote *r, xfer *x, const char *path, struct curl_slist **headers, int transfer)
{
	CURL *c = handle(r);
	char *url;
	size_t len;

	if (!c)
		return -1;
	x->curl = c;
	x->to_file = -1;
	len = strlen(r->server) + strlen(path) + 1;
	if (!(url = malloc(len)))
		return -1;
	snprintf(url, len, "%s%s", r->server, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url); /* libcurl keeps its own copy */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_USERAGENT, "learnware/" LW_VERSION);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	if (transfer) {
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
	} else {
		curl_easy_setopt(c, CURLOPT_TIMEOUT, JSON_TIMEOUT_S);
	}
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->resp->error);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	/* Never send the body twice nor wait for a 100 Continue the server may not send. */
	*headers = curl_slist_append(*headers, "Expect:");
	*headers = curl_slist_append(*headers, "Accept: application/json");
	if (r->token) {
		size_t n = strlen(r->token) + 32;
		char *auth = malloc(n);

		if (!auth)
			return -1;
		snprintf(auth, n, "Authorization: Bearer %s", r->token);
		*headers = curl_slist_append(*headers, auth);
		memset(auth, 0, n);
		free(auth);
	}
	return *headers ? 0 : -1;
}

static int perform(cli_remote *r, xfer *x, struct curl_slist *headers)
{
	cli_http_response *resp = x->resp;
	CURLcode rc;

	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, headers);
	rc = curl_easy_perform(r->curl);
	/* The header list holds the token: wipe it before freeing. */
	for (struct curl_slist *h = headers; h; h = h->next)
		memset(h->data, 0, strlen(h->data));
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		resp->curl_code = (int)rc;
		if (!resp->error[0])
			snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
		if (x->write_failed)
			snprintf(resp->error, sizeof(resp->error), "cannot write: %s", strerror(x->write_failed));
		resp->status = 0;
		return -1;
	}
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body && resp->len && (resp->body[0] == '{' || resp->body[0] == '['))
		resp->json = json_loadb(resp->body, resp->len, 0, NULL);
	return 0;
}

static void response_init(cli_http_response *out)
{
	memset(out, 0, sizeof(*out));
}

void cli_http_response_dispose(cli_http_response *out)
{
	if (out->body) /* it may hold a token */
		memset(out->body, 0, out->len);
	free(out->body);
	json_decref(out->json);
	memset(out, 0, sizeof(*out));
}

int cli_http_json(cli_http_response *out, cli_remote *r, const char *method, const char *path,
		  json_t *body)
{
	struct curl_slist *headers = NULL;
	char *text = NULL;
	xfer x;
	int rc;

	response_init(out);
	memset(&x, 0, sizeof(x));
	x.resp = out;
	if (setup(r, &x, path, &headers, 0) < 0) {
		curl_slist_free_all(headers);
		snprintf(out->error, sizeof(out->error), "out of memory");
		out->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	curl_easy_setopt(r->curl, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "GET"))
		curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
	if (body || !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH")) {
		text = body ? json_dumps(body, JSON_COMPACT) : strdup("");
		if (!text) {
			curl_slist_free_all(headers);
			snprintf(out->error, sizeof(out->error), "out of memory");
			out->curl_code = CURLE_OUT_OF_MEMORY;
			return -1;
		}
		if (body)
			headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
	}
	rc = perform(r, &x, headers);
	if (text) { /* it may hold a password */
		memset(text, 0, strlen(text));
		free(text);
	}
	return rc;
}

int cli_http_multipart(cli_http_response *out, cli_remote *r, const char *path, const char *zip_path,
		       const char *semantic, cli_xfer_progress *prog)
{
	struct curl_slist *headers = NULL;
	const char *base = strrchr(zip_path, '/');
	curl_mime *mime = NULL;
	curl_mimepart *part;
	xfer x;
	int rc;

	response_init(out);
	memset(&x, 0, sizeof(x));
	x.resp = out;
	x.prog = prog;
	x.upload = 1;
	if (setup(r, &x, path, &headers, 1) < 0 || !(mime = curl_mime_init(r->curl))) {
		curl_slist_free_all(headers);
		snprintf(out->error, sizeof(out->error), "out of memory");
		out->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	if (curl_mime_filedata(part, zip_path) != CURLE_OK) {
		curl_mime_free(mime);
		curl_slist_free_all(headers);
		snprintf(out->error, sizeof(out->error), "cannot read %s", zip_path);
		out->curl_code = CURLE_READ_ERROR;
		return -1;
	}
	curl_mime_filename(part, base ? base + 1 : zip_path);
	curl_mime_type(part, "application/zip");
	if (semantic) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, "semantic");
		curl_mime_data(part, semantic, CURL_ZERO_TERMINATED);
		curl_mime_type(part, "application/json");
	}
	curl_easy_setopt(r->curl, CURLOPT_MIMEPOST, mime);
	rc = perform(r, &x, headers);
	curl_mime_free(mime);
	return rc;
}

int cli_http_put_chunk(cli_http_response *out, cli_remote *r, const char *path, const void *data,
		       size_t len, uint64_t offset, cli_xfer_progress *prog)
{
	struct curl_slist *headers = NULL;
	char off[64];
	xfer x;

	response_init(out);
	memset(&x, 0, sizeof(x));
	x.resp = out;
	x.prog = prog;
	x.upload = 1;
	x.data = data;
	x.data_len = len;
	if (setup(r, &x, path, &headers, 1) < 0) {
		curl_slist_free_all(headers);
		snprintf(out->error, sizeof(out->error), "out of memory");
		out->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	snprintf(off, sizeof(off), "Upload-Offset: %lu", (unsigned long)offset);
	headers = curl_slist_append(headers, off);
	headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
	curl_easy_setopt(r->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(r->curl, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(r->curl, CURLOPT_READDATA, &x);
	curl_easy_setopt(r->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	return perform(r, &x, headers);
}

int cli_http_download(cli_http_response *out, cli_remote *r, const char *path, FILE *fp,
		      cli_xfer_progress *prog)
{
	struct curl_slist *headers = NULL;
	xfer x;

	response_init(out);
	memset(&x, 0, sizeof(x));
	x.resp = out;
	x.fp = fp;
	x.prog = prog;
	if (setup(r, &x, path, &headers, 1) < 0) {
		curl_slist_free_all(headers);
		snprintf(out->error, sizeof(out->error), "out of memory");
		out->curl_code = CURLE_OUT_OF_MEMORY;
		return -1;
	}
	curl_easy_setopt(r->curl, CURLOPT_HTTPGET, 1L);
	return perform(r, &x, headers);
}

void cli_format_time(char *buf, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, n, "-");
		return;
	}
	strftime(buf, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

/* --- messages ------------------------------------------------------------------------ */

static const char *status_code_name(long status)
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
	case 500: return "internal";
	case 503: return "unavailable";
	default: return "error";
	}
}

const char *cli_http_message(const cli_http_response *resp)
{
	static char line[512];
	const char *msg = json_string_value(json_object_get(json_object_get(resp->json, "error"), "message"));
	size_t n;

	if (msg && msg[0])
		return msg;
	if (resp->body && resp->len && !resp->json) {
		n = strcspn(resp->body, "\r\n");
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, resp->body, n);
		line[n] = '\0';
		if (n)
			return line;
	}
	return "no message";
}

int cli_http_report(cli_remote *r, const char *what, const cli_http_response *resp)
{
	const char *code = json_string_value(json_object_get(json_object_get(resp->json, "error"), "code"));
	const char *sep = what ? ": " : "";

	what = what ? what : "";
	if (!resp->status) {
		switch (resp->curl_code) {
		case CURLE_ABORTED_BY_CALLBACK:
			if (cli_http_interrupted) {
				fprintf(stderr, "learnware %s: %s%sinterrupted\n", r->verb, what, sep);
				return CLI_EXIT_CANCEL;
			}
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
			fprintf(stderr, "learnware %s: %s%scannot reach %s: is `learnware serve` running? (%s)\n",
				r->verb, what, sep, r->server, resp->error);
			return CLI_EXIT_FAILURE;
		case CURLE_OPERATION_TIMEDOUT:
			fprintf(stderr, "learnware %s: %s%s%s did not answer in time (%s)\n", r->verb, what, sep,
				r->server, resp->error);
			return CLI_EXIT_FAILURE;
		default:
			break;
		}
		fprintf(stderr, "learnware %s: %s%sno answer from %s: %s\n", r->verb, what, sep, r->server,
			resp->error);
		return CLI_EXIT_FAILURE;
	}
	if (!code)
		code = status_code_name(resp->status);
	if (resp->status == 401) {
		fprintf(stderr, "learnware %s: %s%sunauthorized (401): %s%s\n", r->verb, what, sep,
			cli_http_message(resp),
			r->saved ? "; log in again ('learnware login')" : "");
		return CLI_EXIT_FAILURE;
	}
	if (resp->status >= 500)
		fprintf(stderr, "learnware %s: %s%sthe server failed (%ld %s): %s", r->verb, what, sep,
			resp->status, code, cli_http_message(resp));
	else
		fprintf(stderr, "learnware %s: %s%srefused by the server (%ld %s): %s", r->verb, what, sep,
			resp->status, code, cli_http_message(resp));
	if (resp->retry_after > 0 && !strstr(cli_http_message(resp), "again"))
		fprintf(stderr, "; retry in %ld s", resp->retry_after);
	fputc('\n', stderr);
	switch (resp->status) {
	case 400:
	case 409:
	case 413:
	case 422:
		return CLI_EXIT_INPUT;
	case 404:
		return CLI_EXIT_NOTFOUND;
	default:
		return CLI_EXIT_FAILURE;
	}
}
