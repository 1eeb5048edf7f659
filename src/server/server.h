/*
 * The server's private state, shared by its modules:
 *   http.c      libmicrohttpd glue: request bodies, routing, replies
 *   route.c     the route table (also the source of openapi.json's paths)
 *   auth.c      passwords, tokens, who is asking, login rate limits
 *   pool.c      dock handles for request threads, the shared search dock
 *   worker.c    verification threads and the index refresher
 *   api_*.c     the handlers, one file per resource
 */
#ifndef LW_SERVER_PRIVATE_H
#define LW_SERVER_PRIVATE_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>

#include "lw/dock.h"
#include "lw/error.h"
#include "lw/package.h"
#include "lw/rkme.h"
#include "lw/semantic.h"
#include "lw/store.h"
#include "lw/server.h"
#include "metrics.h"

/* A pool of dock handles: a handle is one store connection, not thread-safe. */
typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	lw_dock **free;
	size_t nfree, cap, total;
} lw__dock_pool;

typedef struct lw__ratelimit lw__ratelimit;

struct lw_server {
	lw_server_config c;
	struct MHD_Daemon *mhd;
	int listen_fd;
	char url[320];
	char *files_root;       /* the dock's files root */
	char *upload_dir;
	char *openapi;          /* served as is */
	char *taxonomy;         /* served as is */
	lw__dock_pool pool;     /* request handlers' docks (no index) */
	lw_dock *search;        /* the dock with the index, shared under search_lock */
	pthread_mutex_t search_lock;
	lw__ratelimit *logins;
	lw__metrics metrics;
	volatile int stopping;
	pthread_t *workers;
	void *worker_args;      /* worker.c's per-thread state */
	size_t nworkers;
	pthread_t refresher;
	bool refresher_started;
	char worker_prefix[96]; /* host:pid */
};

/* --- one request ------------------------------------------------------------ */

typedef enum { BODY_NONE, BODY_JSON, BODY_MULTIPART, BODY_STREAM } lw__body_kind;

/* A handler fills a reply: JSON (owned, may be NULL for 204), or a response. */
typedef struct lw__reply_s {
	int status;
	json_t *json;
	struct MHD_Response *raw;
	char retry_after[16];
} lw__reply;

/* A multipart field: small ones in memory, files streamed to a temporary file. */
typedef struct {
	char *name;
	char *filename; /* NULL for a plain field */
	char *value;    /* plain field text */
	size_t len;
	char *path;     /* file field: where its bytes went */
	FILE *f;
} lw__part;

typedef struct lw__request {
	lw_server *srv;
	struct MHD_Connection *conn;
	const char *method, *url;
	const struct lw__route *route;
	char params[2][64];      /* {id}, {type} captured from the path */
	/* who is asking (0: nobody) */
	int64_t user_id;
	int role;
	int64_t token_id;
	/* the body */
	lw__body_kind body_kind;
	char *body;
	size_t body_len, body_max;
	struct MHD_PostProcessor *pp;
	lw__part *parts;
	size_t nparts;
	int stream_fd;           /* BODY_STREAM: where the chunk goes */
	uint64_t stream_len;
	int failed;              /* 1: an error reply is queued; 2: pending until the body ends */
	struct lw__reply_s pending;
	uint64_t discarded;      /* body bytes dropped after a failure */
	int status;              /* the reply's status, for metrics */
	double started;
	char client[64];
} lw__request;



typedef enum { AUTH_NONE, AUTH_OPTIONAL, AUTH_USER, AUTH_ADMIN } lw__auth_level;

typedef void (*lw__handler)(lw__reply *r, lw__request *q);

typedef struct lw__route {
	const char *method;
	const char *pattern;    /* "/api/v1/learnwares/{id}" */
	lw__handler handler;
	lw__auth_level auth;
	lw__body_kind body;
	const char *summary;    /* for openapi.json */
	const char *name;       /* metrics label */
} lw__route;

/* The table, terminated by a NULL method. */
extern const lw__route lw__routes[];

/* Find the route for a method and path; *path_known says whether any method has the path. */
const lw__route *lw__route_match(const char *method, const char *path, char params[2][64],
				 bool *path_known);

/* --- replies ------------------------------------------------------------------ */

void lw__reply_json(lw__reply *r, int status, json_t *body);
void lw__reply_error(lw__reply *r, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Map an LW_E* code and lw_error_last() to a reply. */
void lw__reply_lw_error(lw__reply *r, int err);
void lw__reply_text(lw__reply *r, int status, const char *type, const char *text);
void lw__reply_file(lw__reply *r, const char *path, const char *type, const char *download_name);

/* --- request helpers ----------------------------------------------------------- */

/* The JSON body as an object; replies 400 and returns NULL when it is not one. */
json_t *lw__body_object(lw__reply *r, lw__request *q);
const char *lw__query(lw__request *q, const char *key);
/* page and limit from the query string (1.., 1..100). */
void lw__paging(lw__request *q, size_t *page, size_t *limit);
const lw__part *lw__part_get(const lw__request *q, const char *name);
/* A dock handle for this request; always given back with lw__dock_put. */
lw_dock *lw__dock_get(lw_server *s);
void lw__dock_put(lw_server *s, lw_dock *d);

/* --- auth ------------------------------------------------------------------------ */

int lw__auth_init(lw_server *s);
void lw__auth_free(lw_server *s);
/* Resolve the Authorization header; 0 and q->user_id = 0 for none; LW_EINVALID for a bad token. */
int lw__auth_request(lw__request *q, lw_store *st);
int lw__password_hash(char out[128], const char *password);
bool lw__password_verify(const char *hash, const char *password);
/* A new random token and the hash the store keeps. */
void lw__token_new(char token[48], char hash[65]);
void lw__token_hash(char hash[65], const char *token);
/* Login rate limiting: 0 when allowed, else seconds to wait. */
int lw__login_throttled(lw_server *s, const char *email, const char *client);
void lw__login_failed(lw_server *s, const char *email, const char *client);
void lw__login_succeeded(lw_server *s, const char *email);
bool lw__valid_email(const char *email);
double lw__now_s(void);
int64_t lw__now_ms(void);

/* --- JSON views of records ------------------------------------------------------ */

json_t *lw__user_json(const lw_user_record *u);
json_t *lw__learnware_json(lw_store *st, const lw_learnware_record *r);
const char *lw__status_name(int status);
const char *lw__verdict_name(int status, int usability);
/* May the requester see / change this learnware? */
bool lw__may_see(const lw__request *q, const lw_learnware_record *r);
bool lw__may_change(const lw__request *q, const lw_learnware_record *r);
/* The learnware named by {id}, visible to the requester; replies 404 otherwise. */
int lw__learnware_load(lw_learnware_record *out, lw__reply *r, lw__request *q, lw_store *st);

/* --- handlers ----------------------------------------------------------------------- */

void lw__api_healthz(lw__reply *r, lw__request *q);
void lw__api_metrics(lw__reply *r, lw__request *q);
void lw__api_openapi(lw__reply *r, lw__request *q);
void lw__api_taxonomy(lw__reply *r, lw__request *q);

void lw__api_register(lw__reply *r, lw__request *q);
void lw__api_login(lw__reply *r, lw__request *q);
void lw__api_logout(lw__reply *r, lw__request *q);
void lw__api_me(lw__reply *r, lw__request *q);
void lw__api_me_update(lw__reply *r, lw__request *q);
void lw__api_password(lw__reply *r, lw__request *q);
void lw__api_tokens(lw__reply *r, lw__request *q);
void lw__api_token_create(lw__reply *r, lw__request *q);
void lw__api_token_delete(lw__reply *r, lw__request *q);

void lw__api_learnware_list(lw__reply *r, lw__request *q);
void lw__api_learnware_add(lw__reply *r, lw__request *q);
void lw__api_learnware_get(lw__reply *r, lw__request *q);
void lw__api_learnware_patch(lw__reply *r, lw__request *q);
void lw__api_learnware_replace(lw__reply *r, lw__request *q);
void lw__api_learnware_delete(lw__reply *r, lw__request *q);
void lw__api_learnware_file(lw__reply *r, lw__request *q);
void lw__api_learnware_verification(lw__reply *r, lw__request *q);
void lw__api_learnware_spec(lw__reply *r, lw__request *q);
void lw__api_download(lw__reply *r, lw__request *q);

void lw__api_upload_create(lw__reply *r, lw__request *q);
void lw__api_upload_get(lw__reply *r, lw__request *q);
void lw__api_upload_put(lw__reply *r, lw__request *q);
void lw__api_upload_finish(lw__reply *r, lw__request *q);
void lw__api_upload_delete(lw__reply *r, lw__request *q);
/* Open the file a chunk goes to (BODY_STREAM): checks the offset first. */
int lw__upload_stream_open(lw__reply *r, lw__request *q);
void lw__uploads_sweep(lw_server *s);

void lw__api_search(lw__reply *r, lw__request *q);

void lw__api_admin_summary(lw__reply *r, lw__request *q);
void lw__api_admin_users(lw__reply *r, lw__request *q);
void lw__api_admin_user_patch(lw__reply *r, lw__request *q);
void lw__api_admin_user_delete(lw__reply *r, lw__request *q);
void lw__api_admin_learnwares(lw__reply *r, lw__request *q);

/* Store a package that arrived (a multipart file or a finished upload) as a queued learnware. */
void lw__submit_package(lw__reply *r, lw__request *q, const char *zip, const char *semantic,
			const char *replace_id, const char *shown);

/* --- background ---------------------------------------------------------------------- */

int lw__workers_start(lw_server *s);
void lw__workers_stop(lw_server *s);
int lw__http_start(lw_server *s);
void lw__http_stop(lw_server *s);
/* The dock options every handle of this server uses. */
void lw__dock_options(lw_dock_options *o, const lw_server_config *c, int with_index);

#endif
