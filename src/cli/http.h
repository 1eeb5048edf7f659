/*
 * The CLI's side of the dock's HTTP API (docs/api.md): a small libcurl
 * wrapper, the saved login, and the error messages every remote verb
 * prints.  The token is sent in the Authorization header only and never
 * printed.
 */
#ifndef LW_CLI_HTTP_H
#define LW_CLI_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* One server, one connection (reused between requests), one token. */
typedef struct {
	const char *verb;  /* "submit", ...: prefixes messages */
	char *server;      /* base URL, no trailing slash */
	char *token;       /* bearer token or NULL */
	int64_t token_id;  /* the saved login's token id, or 0 */
	int saved;         /* the token is the saved login's */
	int quiet;         /* no progress bar */
	void *curl;        /* CURL *, created on first use */
} cli_remote;

/* An answer, or the reason there was none. */
typedef struct {
	long status;        /* HTTP status; 0 when the server did not answer */
	char *body;         /* the body, NUL-terminated (also for binary, when kept) */
	size_t len;
	json_t *json;       /* the body parsed, when it is JSON */
	int curl_code;      /* CURLcode of a failed transfer, else 0 */
	char error[256];    /* libcurl's message for a failed transfer */
	long retry_after;   /* Retry-After seconds (429, 503), else 0 */
} cli_http_response;

/* A byte-count progress bar on stderr (only on a terminal, only unless quiet). */
typedef struct {
	int enabled;
	const char *label;
	uint64_t base, total;   /* bytes already done before this transfer, whole size */
	double last;
	int drawn;
} cli_xfer_progress;

void cli_xfer_progress_init(cli_xfer_progress *p, int quiet, const char *label, uint64_t total);
void cli_xfer_progress_draw(cli_xfer_progress *p, uint64_t done, int force);
void cli_xfer_progress_end(cli_xfer_progress *p);

/*
 * Resolve the server and token for a verb: server_opt, else
 * $LEARNWARE_SERVER, else the saved login's; the token is $LEARNWARE_TOKEN,
 * else the saved one when the login was for this very server.  Returns 0,
 * or prints why and returns an exit code (CLI_EXIT_USAGE: no server;
 * CLI_EXIT_FAILURE: need_token and no token).
 */
int cli_remote_open(cli_remote *r, const char *verb, const char *server_opt, int need_token);
void cli_remote_close(cli_remote *r);

/* The base URL a user typed, normalised: a scheme added, trailing '/' removed. */
char *cli_remote_normalise_url(const char *url);

/* The saved login ($XDG_CONFIG_HOME/learnware/credentials.json). */
typedef struct {
	char *server, *token, *email, *token_name;
	int64_t token_id;
} cli_credentials;

int cli_credentials_path(char *buf, size_t n);
/* 0 loaded; 1 no file; an exit code (printed) for a broken file. */
int cli_credentials_load(cli_credentials *c);
/* Write atomically with mode 0600; 0 or an exit code (printed). */
int cli_credentials_save(const cli_credentials *c);
void cli_credentials_dispose(cli_credentials *c);

/*
 * Requests.  Each returns 0 when the server answered (any status: read
 * out->status) and -1 when it did not (out->curl_code, out->error); the
 * caller disposes of out either way.
 */
int cli_http_json(cli_http_response *out, cli_remote *r, const char *method, const char *path,
		  json_t *body);
/* multipart/form-data: "file" (the zip at zip_path) and, if not NULL, "semantic". */
int cli_http_multipart(cli_http_response *out, cli_remote *r, const char *path, const char *zip_path,
		       const char *semantic, cli_xfer_progress *prog);
/* PUT len bytes as application/octet-stream with an Upload-Offset header. */
int cli_http_put_chunk(cli_http_response *out, cli_remote *r, const char *path, const void *data,
		       size_t len, uint64_t offset, cli_xfer_progress *prog);
/* GET into fp when the answer is 2xx (else the body is kept in out for the message). */
int cli_http_download(cli_http_response *out, cli_remote *r, const char *path, FILE *fp,
		      cli_xfer_progress *prog);
void cli_http_response_dispose(cli_http_response *out);

/* The server's error message: error.message, else the body's first line, else the status text. */
const char *cli_http_message(const cli_http_response *resp);

/*
 * Print "learnware VERB: [WHAT: ]..." for a failed request (no answer, or
 * an answer that is not 2xx) and return its exit code: 3 for 400, 409, 413
 * and 422; 4 for 404; 130 when interrupted; 1 otherwise.
 */
int cli_http_report(cli_remote *r, const char *what, const cli_http_response *resp);

/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SSZ" ("-" for 0). */
void cli_format_time(char *buf, size_t n, int64_t ms);

/* Set by SIGINT/SIGTERM while a remote verb runs: transfers stop, partial files go. */
extern volatile int cli_http_interrupted;

/* Remote search, called by 'learnware search' when it talks to a server. */
int cli_search_wants_server(int argc, char **argv);
int cmd_search_remote(int argc, char **argv);

#endif
