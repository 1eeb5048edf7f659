/*
 * learnware dock - the dock as a service: the HTTP server, its
 * configuration, and the verification worker (docs/server.md, docs/api.md).
 *
 * A configuration comes from defaults, then a file of `key = value`
 * lines, then LEARNWARE_<KEY> environment variables, each overriding the
 * last; lw_server_config_keys lists every key with its meaning.
 */
#ifndef LW_SERVER_H
#define LW_SERVER_H

#include "common.h"

LW_BEGIN_DECL

typedef struct {
	unsigned int version;
	char *dock;          /**< store URL: a folder (SQLite) or postgresql:// */
	char *files_root;    /**< files root shared by every process of a PostgreSQL dock */
	char *listen;        /**< host:port; port 0 picks a free one */
	char *web_root;      /**< folder of the web UI's static files; "" serves none */
	char *upload_dir;    /**< where uploads are assembled; default <files root>/uploads */
	int threads;         /**< request threads */
	int workers;         /**< in-process verification threads (0: leave it to `learnware worker`) */
	int session_hours;   /**< lifetime of a login's session token */
	int max_upload_mb;   /**< largest package accepted */
	int max_body_kb;     /**< largest JSON body or form field */
	int login_attempts;  /**< failed logins allowed per e-mail and per address in login_window_s */
	int login_window_s;
	int upload_ttl_hours; /**< unfinished resumable uploads are removed after this */
	int job_timeout_s;   /**< a job whose worker is silent this long is retried */
	int job_attempts;    /**< claims before a job is failed for good */
	int check_timeout_s; /**< wall-clock limit of each model step in a check */
	int check_memory_mb; /**< address-space limit of a checked model */
	int allow_register;  /**< 1: anyone may register; 0: only admins create accounts */
	int access_log;      /**< 1: one line per request on stderr */
} lw_server_config;

#define LW_SERVER_CONFIG_VERSION 1

/** Fill in the defaults (strings are owned by the config: free with lw_server_config_dispose). */
LW_EXTERN(void) lw_server_config_init(lw_server_config *c);
LW_EXTERN(void) lw_server_config_dispose(lw_server_config *c);

/**
 * Read a configuration file over c.  Lines are `key = value`; `#` starts a
 * comment; values may be double-quoted.
 * @return 0; LW_ENOTFOUND; LW_EINVALID naming the file, line and key.
 */
LW_EXTERN(int) lw_server_config_load(lw_server_config *c, const char *path);

/** Apply LEARNWARE_<KEY> environment variables over c.  @return 0 or LW_EINVALID. */
LW_EXTERN(int) lw_server_config_env(lw_server_config *c);

/** Set one key from its text form.  @return 0; LW_ENOTFOUND for an unknown key; LW_EINVALID. */
LW_EXTERN(int) lw_server_config_set(lw_server_config *c, const char *key, const char *value);

/** One configuration key, for documentation and `serve --help`. */
typedef struct {
	const char *name;
	const char *meaning;
	const char *default_value; /**< as text; "" for none */
} lw_server_config_key;

/** Every key, NULL-terminated. */
LW_EXTERN(const lw_server_config_key *) lw_server_config_keys(void);

typedef struct lw_server lw_server;

/**
 * Open the dock, create the first admin when LEARNWARE_ADMIN_EMAIL and
 * LEARNWARE_ADMIN_PASSWORD are set and no such user exists, bind the
 * listening socket and start serving (request threads, workers, the
 * index refresher).  Returns once the server accepts connections.
 */
LW_EXTERN(int) lw_server_start(lw_server **out, const lw_server_config *c);

/** The address the server listens on, as http://host:port. */
LW_EXTERN(const char *) lw_server_url(const lw_server *s);

/** Stop accepting, finish the requests in flight, stop workers, free. */
LW_EXTERN(void) lw_server_stop(lw_server *s);

/**
 * Run verification workers until *stop becomes non-zero: each claims
 * queued jobs from the store (at most one worker ever runs a job) and
 * checks them in the sandbox; jobs of silent workers are requeued.
 * @param threads  worker threads in this process
 */
LW_EXTERN(int) lw_worker_run(const lw_server_config *c, int threads, volatile int *stop);

/**
 * Create an account (or set the password and role of an existing one):
 * for the first admin, from `learnware admin create`.
 * @return 0; LW_EINVALID for a malformed e-mail or a password under 8 characters.
 */
LW_EXTERN(int) lw_server_user_put(const lw_server_config *c, const char *email, const char *name,
				  const char *password, int admin);

LW_END_DECL

#endif
