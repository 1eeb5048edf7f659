/*
 * learnware dock - the store: learnware records and their files, the
 * statistical specifications, users, tokens, an audit log and the
 * verification job queue, behind one interface with two backends.
 *
 *  - SQLite (the embedded default): the URL is a directory, the root; the
 *    database is <root>/dock.db (WAL) and the files live under <root>/files.
 *  - PostgreSQL: the URL is a libpq URI (postgresql://user@host:port/db);
 *    the files live under options.root, a path every dock process shares.
 *
 * The schema migrates itself on open.  Writes that touch both files and the
 * database are crash-safe: a process killed at any point leaves either the
 * whole change or none of it once a store is opened again (docs/store.md).
 *
 * A handle is one database connection and is not thread-safe: open one per
 * thread.  Any number of handles, in any number of processes, may share a
 * store.  Timestamps are milliseconds since the Unix epoch (UTC).  Records
 * returned through out-parameters belong to the caller and are emptied with
 * their _dispose function; every _dispose accepts a zeroed or NULL record.
 */
#ifndef LW_STORE_H
#define LW_STORE_H

#include "common.h"

LW_BEGIN_DECL

typedef struct lw_store lw_store;

/** The schema version this build writes; a newer database is refused. */
#define LW_STORE_SCHEMA_VERSION 2

typedef struct {
	unsigned int version;
	const char *root;    /**< files root: required with postgresql://, ignored with a directory */
	int busy_timeout_ms; /**< how long a write waits for another writer's lock (ms) */
} lw_store_options;

#define LW_STORE_OPTIONS_VERSION 1
#define LW_STORE_OPTIONS_INIT { LW_STORE_OPTIONS_VERSION, NULL, 10000 }

/**
 * Open (creating if needed) the store at url, bring its schema up to date
 * and sweep away what an interrupted write left behind.
 *
 * @return 0; LW_EINVALID for an unknown URL scheme, a file that is not a
 *         dock database, a schema newer than this build or a files root
 *         that belongs to another database; LW_EIO when the root or the
 *         server cannot be reached.
 */
LW_EXTERN(int) lw_store_open(lw_store **out, const char *url, const lw_store_options *opts);
LW_EXTERN(void) lw_store_free(lw_store *st);

/** "sqlite" or "postgresql". */
LW_EXTERN(const char *) lw_store_backend(const lw_store *st);
/** The files root; zip paths in records are relative to it. */
LW_EXTERN(const char *) lw_store_root(const lw_store *st);

/**
 * Remove what interrupted writes left: partial copies, and files no record
 * refers to.  Runs on open; a no-op while another handle is writing files.
 * With full = 1 it also scans every stored file (slow on big stores).
 *
 * @param[out] removed  number of files deleted, or NULL
 */
LW_EXTERN(int) lw_store_sweep(size_t *removed, lw_store *st, int full);

/* --- learnwares ----------------------------------------------------------- */

/** Where a learnware is in its verification. */
typedef enum {
	LW_STATUS_WAITING = 0,    /**< stored, no check requested */
	LW_STATUS_QUEUED = 1,     /**< a check is queued */
	LW_STATUS_PROCESSING = 2, /**< a worker is checking it */
	LW_STATUS_SUCCESS = 3,    /**< the check ran; see usability */
	LW_STATUS_FAILED = 4      /**< the check could not run to its end */
} lw_learnware_status;

/** The check's verdict, with the reference engine's values. */
typedef enum {
	LW_USABILITY_INVALID = -1,
	LW_USABILITY_NONUSABLE = 0, /**< also: not checked yet; never searchable */
	LW_USABILITY_USABLE = 1     /**< the only learnwares search returns */
} lw_usability;

/** A statistical specification (borrowed in inputs and callbacks). */
typedef struct {
	const char *learnware_id; /**< ignored on input */
	const char *type;         /**< "RKMETableSpecification", ... */
	size_t dim;               /**< input dimension, for filtering */
	const char *json;         /**< the specification document */
	size_t len;               /**< strlen(json) */
} lw_store_spec;

/** A new learnware, or the new content of one (lw_store_replace_zip). */
typedef struct {
	unsigned int version;
	const char *owner;         /**< opaque owner name (the server's user id), or NULL */
	const char *semantic_json; /**< a JSON object; NULL keeps the old one on replace */
	const char *zip_path;      /**< the package to copy into the store */
	const lw_store_spec *specs; /**< stored in the same transaction */
	size_t nspecs;
	int enqueue; /**< also queue a verification job, in the same transaction */
	/** Version 2: the id to give (an import keeping its ids), used when this
	 *  store never gave it or a higher one; otherwise the next id as usual. */
	const char *preferred_id;
} lw_learnware_new;

#define LW_LEARNWARE_NEW_VERSION 2
#define LW_LEARNWARE_NEW_INIT { LW_LEARNWARE_NEW_VERSION, NULL, NULL, NULL, NULL, 0, 0, NULL }

typedef struct {
	char id[16];          /**< "%08d", allocated once and never reused */
	char *owner;          /**< NULL when none */
	char *semantic_json;
	char *zip_path;       /**< relative to the root: files/learnwares/<name>.zip */
	char *content_sha256; /**< lowercase hex of the zip's SHA-256 */
	int status;           /**< lw_learnware_status */
	int usability;        /**< lw_usability */
	int64_t created, updated;
} lw_learnware_record;

LW_EXTERN(void) lw_learnware_record_dispose(lw_learnware_record *r);

typedef struct {
	lw_learnware_record *items;
	size_t count;
} lw_learnware_list;

LW_EXTERN(void) lw_learnware_list_dispose(lw_learnware_list *l);

/** Which learnwares lw_store_list and lw_store_count see; ordered by id. */
typedef struct {
	unsigned int version;
	const char *owner;    /**< NULL: any */
	int status;           /**< -1: any */
	int usability;        /**< LW_USABILITY_ANY: any */
	const char *after_id; /**< ids after this one (keyset paging), or NULL */
	size_t offset;
	size_t limit; /**< 0: no limit */
} lw_learnware_filter;

#define LW_USABILITY_ANY (-100)
#define LW_LEARNWARE_FILTER_VERSION 1
#define LW_LEARNWARE_FILTER_INIT { LW_LEARNWARE_FILTER_VERSION, NULL, -1, LW_USABILITY_ANY, NULL, 0, 0 }

/**
 * Copy a package into the store and record it: status waiting (queued
 * with in->enqueue), usability nonusable.
 *
 * @param[out] out  the new record, or NULL
 * @return 0; LW_EEXISTS when a learnware with the same content exists
 *         (out->id names it, the rest of out stays empty);
 *         LW_ENOTFOUND when the zip cannot be read.
 */
LW_EXTERN(int) lw_store_add(lw_learnware_record *out, lw_store *st, const lw_learnware_new *in);

/** @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_get(lw_learnware_record *out, lw_store *st, const char *id);

LW_EXTERN(int) lw_store_list(lw_learnware_list *out, lw_store *st, const lw_learnware_filter *f);
/** Number of learnwares the filter matches, ignoring its paging. */
LW_EXTERN(int) lw_store_count(size_t *out, lw_store *st, const lw_learnware_filter *f);

/** Replace the semantic specification; the status and the file are kept. */
LW_EXTERN(int) lw_store_update_semantic(lw_store *st, const char *id, const char *semantic_json);

/**
 * Replace the package (and its specifications, and the semantic
 * specification unless in->semantic_json is NULL).  Usability returns to
 * nonusable; the learnware is queued for a new check (or waiting when
 * in->enqueue is 0); jobs for the old file are cancelled.
 *
 * @return 0; LW_ENOTFOUND; LW_EEXISTS when a learnware has this content
 *         (out->id names it, the rest of out stays empty).
 */
LW_EXTERN(int) lw_store_replace_zip(lw_learnware_record *out, lw_store *st, const char *id,
				    const lw_learnware_new *in);

/** Delete the record, its specifications, jobs and file.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_delete(lw_store *st, const char *id);

/** Set the status and verdict (for callers that check in-line, without the queue). */
LW_EXTERN(int) lw_store_set_status(lw_store *st, const char *id, int status, int usability);

/* --- semantic search --------------------------------------------------------- */

/** Which learnwares lw_store_semantic_search looks at, and how many fuzzy results it keeps. */
typedef struct {
	unsigned int version;
	int usable_only;          /**< 1 (default): only usability usable, what a dock searches */
	const char *owner;        /**< NULL: any */
	const char *learnware_id; /**< only ids containing this text (as "learnware_id" in the user's JSON); NULL: any */
	size_t limit;             /**< fuzzy results kept, the reference's max_num (50000); 0: all */
} lw_semantic_search_options;

#define LW_SEMANTIC_SEARCH_OPTIONS_VERSION 1
#define LW_SEMANTIC_SEARCH_OPTIONS_INIT { LW_SEMANTIC_SEARCH_OPTIONS_VERSION, 1, NULL, NULL, 50000 }

/** What a semantic search found: ids best first; empty it with lw_semantic_hits_dispose. */
typedef struct {
	char (*ids)[16]; /**< count learnware ids */
	double *scores;  /**< per id: 1.0 for tag and exact name matches, partial_ratio / 100 when fuzzy */
	size_t count;
	int fuzzy;       /**< 1 when no name or description contained the user's Name and the fuzzy stage ran */
} lw_semantic_hits;

LW_EXTERN(void) lw_semantic_hits_dispose(lw_semantic_hits *h);

/**
 * Search by semantic specification with the reference engine's rules
 * (EasyFuzzSemanticSearcher; docs/store.md, "Semantic search"):
 *
 *  1. "learnware_id" in the user's JSON ("..." or {"Values": "..."}) and
 *     opts->learnware_id keep ids that contain it;
 *  2. every user key with non-empty Values other than Name, Description,
 *     Input and Output filters the learnwares that have the key: their
 *     Values must be non-empty; a Class (by the user's Type) matches when
 *     their first value is in the user's list, a Tag when the lists share
 *     a value;
 *  3. with a non-empty user Name, lowered as Python's str.lower: the
 *     learnwares whose lowered Name or Description contains it (found
 *     through the full-text index), in id order; only if there are none,
 *     those whose max(partial_ratio(name, Name), partial_ratio(name,
 *     Description)) is at least 75, best first (ties in id order), at most
 *     opts->limit of them.  Without a Name: every learnware step 2 kept,
 *     in id order.
 *
 * @param user_semantic_json  a JSON object in the semantic specification's shape
 * @param opts                NULL for the defaults
 * @return 0; LW_EINVALID for a user specification that is not such an
 *         object (the message names the line and column or the key).
 */
LW_EXTERN(int) lw_store_semantic_search(lw_semantic_hits *out, lw_store *st, const char *user_semantic_json,
					const lw_semantic_search_options *opts);

/* --- statistical specifications ------------------------------------------ */

/** Add or replace the specification of this type. */
LW_EXTERN(int) lw_store_spec_put(lw_store *st, const char *id, const lw_store_spec *spec);

/** The JSON of one specification (caller frees).  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_spec_get(char **out, lw_store *st, const char *id, const char *type);

typedef struct {
	unsigned int version;
	const char *type; /**< NULL: any */
	size_t dim;       /**< 0: any */
	int usable_only;  /**< only learnwares with usability usable */
} lw_spec_filter;

#define LW_SPEC_FILTER_VERSION 1
#define LW_SPEC_FILTER_INIT { LW_SPEC_FILTER_VERSION, NULL, 0, 0 }

/**
 * Call cb for every matching specification, in learnware id order.  Rows
 * are fetched in pages, so cb may itself use the store.  A non-zero return
 * from cb stops the walk and is returned.
 */
typedef int (*lw_store_spec_cb)(const lw_store_spec *spec, void *payload);
LW_EXTERN(int) lw_store_foreach_spec(lw_store *st, const lw_spec_filter *f, lw_store_spec_cb cb,
				     void *payload);

/* --- users and tokens ------------------------------------------------------ */

typedef enum { LW_ROLE_USER = 0, LW_ROLE_ADMIN = 1 } lw_role;

typedef struct {
	int64_t id;
	char *email;         /**< unique, kept in lower case */
	char *name;          /**< display name, may be empty */
	char *password_hash; /**< opaque to the store (the server hashes) */
	int role;            /**< lw_role */
	int64_t created;
} lw_user_record;

LW_EXTERN(void) lw_user_record_dispose(lw_user_record *u);

typedef struct {
	lw_user_record *items;
	size_t count;
} lw_user_list;

LW_EXTERN(void) lw_user_list_dispose(lw_user_list *l);

/** @return 0, or LW_EEXISTS when the e-mail (compared without case) is taken. */
LW_EXTERN(int) lw_store_user_add(int64_t *out_id, lw_store *st, const char *email, const char *name,
				 const char *password_hash, int role);
LW_EXTERN(int) lw_store_user_get(lw_user_record *out, lw_store *st, int64_t id);
LW_EXTERN(int) lw_store_user_find(lw_user_record *out, lw_store *st, const char *email);
LW_EXTERN(int) lw_store_user_set_password(lw_store *st, int64_t id, const char *password_hash);
LW_EXTERN(int) lw_store_user_set_role(lw_store *st, int64_t id, int role);
/** Set the display name.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_user_set_name(lw_store *st, int64_t id, const char *name);
/** Users by id; limit 0 means all. */
LW_EXTERN(int) lw_store_user_list(lw_user_list *out, lw_store *st, size_t offset, size_t limit);
/** Delete a user and their tokens (their learnwares keep the owner name). */
LW_EXTERN(int) lw_store_user_delete(lw_store *st, int64_t id);

typedef enum { LW_TOKEN_SESSION = 0, LW_TOKEN_API = 1 } lw_token_kind;

typedef struct {
	int64_t id;
	char *hash; /**< the token's hash (the store never sees tokens) */
	int64_t user_id;
	char *name;
	int kind;        /**< lw_token_kind */
	int64_t created;
	int64_t expires; /**< 0: never */
} lw_token_record;

LW_EXTERN(void) lw_token_record_dispose(lw_token_record *t);

typedef struct {
	lw_token_record *items;
	size_t count;
} lw_token_list;

LW_EXTERN(void) lw_token_list_dispose(lw_token_list *l);

/**
 * Store a token's hash; in->id and in->created are ignored.
 *
 * @return 0; LW_EEXISTS for a hash already stored; LW_ENOTFOUND for no such user.
 */
LW_EXTERN(int) lw_store_token_add(int64_t *out_id, lw_store *st, const lw_token_record *in);
/** The token with this hash, unless it expired before now.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_token_find(lw_token_record *out, lw_store *st, const char *hash, int64_t now);
/** A user's tokens, newest first. */
LW_EXTERN(int) lw_store_token_list(lw_token_list *out, lw_store *st, int64_t user_id);
/** Revoke one token; user_id > 0 also requires it to be theirs.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_token_revoke(lw_store *st, int64_t id, int64_t user_id);
/** Revoke all of a user's tokens of a kind (-1: every kind). */
LW_EXTERN(int) lw_store_token_revoke_user(size_t *out_count, lw_store *st, int64_t user_id, int kind);
/** Delete tokens that expired before now. */
LW_EXTERN(int) lw_store_token_purge(size_t *out_count, lw_store *st, int64_t now);

/* --- events: the append-only audit log -------------------------------------- */

typedef struct {
	int64_t id;
	int64_t time;
	char *actor;        /**< who (a user id, "system", ...), or NULL */
	char *kind;         /**< what ("learnware.add", "user.login", ...) */
	char *learnware_id; /**< or NULL */
	char *detail_json;  /**< or NULL */
} lw_event_record;

LW_EXTERN(void) lw_event_record_dispose(lw_event_record *e);

typedef struct {
	lw_event_record *items;
	size_t count;
} lw_event_list;

LW_EXTERN(void) lw_event_list_dispose(lw_event_list *l);

/** @return 0, or LW_EINVALID when detail_json is not JSON. */
LW_EXTERN(int) lw_store_event_append(int64_t *out_id, lw_store *st, const char *actor,
				     const char *kind, const char *learnware_id, const char *detail_json);

typedef struct {
	unsigned int version;
	const char *learnware_id; /**< NULL: any */
	const char *actor;        /**< NULL: any */
	int64_t before_id;        /**< only older events (paging backwards); 0: from the newest */
	size_t limit;             /**< 0: 100 */
	int64_t after_id;         /**< version 2: only newer events (catching up); 0: any */
} lw_event_filter;

#define LW_EVENT_FILTER_VERSION 2
#define LW_EVENT_FILTER_INIT { LW_EVENT_FILTER_VERSION, NULL, NULL, 0, 0, 0 }

/**
 * Events, newest first.  Ids become visible in id order on both backends
 * (docs/store.md, "Events"): once a reader sees an event, every event with
 * a smaller id that will ever exist is visible too, so "the events after
 * the last one I saw" never skips one.
 */
LW_EXTERN(int) lw_store_event_list(lw_event_list *out, lw_store *st, const lw_event_filter *f);

/** The newest event's id, 0 when there is none (one small query). */
LW_EXTERN(int) lw_store_event_newest(int64_t *out, lw_store *st);

/**
 * Block until the store holds an event with an id above after_id, or
 * timeout_ms passes (0: just look).  PostgreSQL wakes at once through
 * LISTEN/NOTIFY (the handle LISTENs from its first call on); SQLite looks
 * every 100 ms.
 *
 * @return 1 when there is such an event (a spurious 1 is possible: list
 *         the events to see); 0 on timeout; LW_EINVALID for a negative
 *         timeout; LW_EIO when the connection is lost.
 */
LW_EXTERN(int) lw_store_wait_event(lw_store *st, int64_t after_id, int timeout_ms);

/* --- verification jobs ------------------------------------------------------ */

typedef enum {
	LW_JOB_QUEUED = 0,
	LW_JOB_RUNNING = 1,
	LW_JOB_DONE = 2,      /**< the check ran to its end */
	LW_JOB_FAILED = 3,    /**< the check failed, or its workers kept dying */
	LW_JOB_CANCELLED = 4, /**< the learnware's file was replaced */
	LW_JOB_NSTATES = 5
} lw_job_state;

typedef struct {
	int64_t id;
	char learnware_id[16];
	int state; /**< lw_job_state */
	char *worker;
	int attempts; /**< claims so far */
	int64_t created, started, heartbeat, finished; /**< 0 when not yet */
	char *log;
} lw_job_record;

LW_EXTERN(void) lw_job_record_dispose(lw_job_record *j);

/** Queue a check of a learnware (status queued).  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_job_enqueue(int64_t *out_id, lw_store *st, const char *learnware_id);

/**
 * Claim the oldest queued job for worker: at most one claimer ever gets a
 * job, across processes and machines.  The learnware becomes processing.
 *
 * @return 0, or LW_ENOTFOUND when the queue is empty.
 */
LW_EXTERN(int) lw_store_job_claim(lw_job_record *out, lw_store *st, const char *worker);

/** Say the worker is alive.  @return 0, or LW_ENOTFOUND when the job is no longer the worker's. */
LW_EXTERN(int) lw_store_job_heartbeat(lw_store *st, int64_t id, const char *worker);

/**
 * Record the outcome: ok selects done (learnware success, with usability)
 * or failed (learnware failed, invalid).  The log is kept with the job.
 *
 * @return 0, or LW_ENOTFOUND when the job is no longer the worker's (it was
 *         requeued or cancelled; the outcome is then dropped).
 */
LW_EXTERN(int) lw_store_job_finish(lw_store *st, int64_t id, const char *worker, int ok, int usability,
				   const char *log);

/**
 * Requeue running jobs whose heartbeat is older than timeout_ms; a job
 * already claimed max_attempts times (0: no limit) fails instead.
 */
LW_EXTERN(int) lw_store_job_requeue_stale(size_t *out_count, lw_store *st, int64_t timeout_ms,
					  int max_attempts);

LW_EXTERN(int) lw_store_job_get(lw_job_record *out, lw_store *st, int64_t id);
/** The newest job of a learnware.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_store_job_latest(lw_job_record *out, lw_store *st, const char *learnware_id);
/** Jobs per state, counts[LW_JOB_NSTATES]. */
LW_EXTERN(int) lw_store_job_count(size_t *counts, lw_store *st);

LW_END_DECL

#endif
