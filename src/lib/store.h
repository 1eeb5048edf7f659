/*
 * The store's insides: the handle, the backend interface and the query
 * helpers its files share.  Every operation is written once, in SQL both
 * SQLite and PostgreSQL accept, with $1..$n parameters; a backend only
 * runs statements and supplies the few statements whose dialects differ.
 */
#ifndef LW_STORE_PRIV_H
#define LW_STORE_PRIV_H

#include "lw/store.h"

#include <stdbool.h>

/* A bound parameter: an integer or a text, either possibly NULL. */
typedef struct {
	unsigned char is_text;
	unsigned char is_null;
	int64_t i;
	const char *s;
} lw__val;

#define LW__INT(x) ((lw__val){ 0, 0, (int64_t)(x), NULL })
#define LW__TEXT(x) ((lw__val){ 1, (x) == NULL, 0, (x) })
#define LW__NULL_INT ((lw__val){ 0, 1, 0, NULL })

/* A result row in text form; v[i] is NULL for SQL NULL.  Valid during the callback only. */
typedef struct {
	size_t n;
	const char *const *v;
} lw__row;

/* Called per result row; a non-zero return stops the statement and is returned. */
typedef int (*lw__row_cb)(const lw__row *row, void *payload);

#define LW__MAX_PARAMS 16
#define LW__MAX_COLS 16

typedef struct {
	const char *name;
	int (*connect)(lw_store *st, const char *url, const lw_store_options *o);
	void (*disconnect)(lw_store *st);
	/* One statement with parameters; *changes (if not NULL) gets the rows it changed. */
	int (*query)(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		     void *payload, int64_t *changes);
	/* Statements without parameters, separated by semicolons. */
	int (*script)(lw_store *st, const char *sql);

	const char *begin_write;     /* starts a transaction that will write */
	const char *migration_lock;  /* first statement of a migration, or NULL */
	const char *count_foreign;   /* tables not ours in a database without a version, or NULL */
	const char *const *migrations; /* migrations[v] takes the schema from v to v + 1 */
	const char *next_id;         /* the next learnware number, never handed out twice */
	const char *claim_id;        /* $1 as the latest number, if no number >= $1 was given yet */
	const char *lock_learnware;  /* a learnware's zip_path, locked until the transaction ends */
	const char *claim;           /* claim the oldest queued job for $1 at time $2 */
	/*
	 * Append an event (time $1, actor $2, kind $3, learnware $4, detail $5),
	 * returning its id first; ids must become visible in id order.
	 */
	const char *event_append;
	/* Wait for an event newer than after_id (lw_store_wait_event); NULL: poll. */
	int (*wait_event)(lw_store *st, int64_t after_id, int timeout_ms);
	/*
	 * Semantic search (store_semsearch.c).  json_rows: a SELECT of columns
	 * c0 (text), c1 (integer), c2 (text) from a JSON array of
	 * [text, integer, text|null] rows bound at "$?".  text_match: a
	 * condition on learnwares "l" that holds, through the full-text index,
	 * for every row whose name_lc or desc_lc contains a lowered text of at
	 * least LW__FTS_MIN code points (and perhaps for others); its "$?" takes
	 * what fts_query makes of that text.  index_set (NULL: none): more
	 * assignments for the UPDATE that writes name_lc and desc_lc, its "$?"
	 * taking what fts_doc makes of them (NULL is bound as SQL NULL).
	 */
	const char *json_rows;
	const char *text_match;
	int (*fts_query)(char **out, const char *lowered);
	const char *index_set;
	int (*fts_doc)(char **out, const char *name_lc, const char *desc_lc);
} lw__store_ops;

extern const lw__store_ops lw__store_sqlite;
extern const lw__store_ops lw__store_pg;

struct lw_store {
	const lw__store_ops *ops;
	void *conn;
	char *url;      /* for messages, any password masked */
	char *root;     /* files root */
	char *tmp_dir;  /* <root>/files/tmp: partial copies and intent markers */
	char *lw_dir;   /* <root>/files/learnwares: the packages */
	int lock_fd;    /* <root>/files/.lock: writers share it, a sweep takes it alone */
	int busy_ms;    /* how long a write waits for another's lock */
	int in_tx;
	int listen_pid; /* PostgreSQL: the server process that LISTENs for events for us, 0: none */
};

/* --- queries (store.c) --- */

int lw__store_query(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		    void *payload);
/* Run a statement; *changes gets the number of rows it changed (may be NULL). */
int lw__store_exec(int64_t *changes, lw_store *st, const char *sql, const lw__val *p, size_t np);
/* First column of the first row as an integer; LW_ENOTFOUND without a row. */
int lw__store_int(int64_t *out, lw_store *st, const char *sql, const lw__val *p, size_t np);
/* First column of the first row, copied; LW_ENOTFOUND without a row, *out NULL for SQL NULL. */
int lw__store_text(char **out, lw_store *st, const char *sql, const lw__val *p, size_t np);

int lw__store_begin(lw_store *st);
int lw__store_commit(lw_store *st);
/* Roll back, keeping the error message of the failure that caused it. */
void lw__store_rollback(lw_store *st);

int64_t lw__store_now(void);
/* Milliseconds on a clock that never jumps, for timeouts. */
int64_t lw__store_monotonic_ms(void);
int64_t lw__row_int(const lw__row *r, size_t i);
/* Copy column i (NULL stays NULL); LW_ENOMEM on failure. */
int lw__row_dup(char **out, const lw__row *r, size_t i);
/* Append to a growing array of records of size sz; returns the new slot, zeroed, or NULL. */
void *lw__store_grow(void **items, size_t *count, size_t sz);

/* A SQL statement assembled from fixed fragments, with its parameters. */
typedef struct {
	char sql[2048];
	size_t len;
	lw__val p[LW__MAX_PARAMS];
	size_t np;
} lw__sqlbuf;

void lw__sql_add(lw__sqlbuf *b, const char *fragment);
/* Append fragment, whose "$?" stands for the next parameter, and bind v to it. */
void lw__sql_param(lw__sqlbuf *b, const char *fragment, lw__val v);

/*
 * C work a schema migration needs besides its SQL, run in the same
 * transaction right after it: lw__store_upgrades[v] follows migrations[v]
 * (NULL: none).  Both backends share it.
 */
extern int (*const lw__store_upgrades[LW_STORE_SCHEMA_VERSION])(lw_store *st);

/* The newest event id, 0 when there is none: one index probe on both backends. */
#define LW__NEWEST_EVENT "SELECT COALESCE(max(id), 0) FROM events"

/* --- semantic search (store_semsearch.c) --- */

/* The full-text index finds substrings of at least this many code points. */
#define LW__FTS_MIN 3

/* What search keeps of a semantic specification. */
typedef struct {
	char *name, *desc; /* Name and Description, lowered as Python's str.lower */
	char *tags;        /* JSON [[key, pos, value], ...] for learnware_tags, or NULL when none */
	size_t ntags;
} lw__semfields;

/*
 * Extract the searchable fields of a learnware's semantic specification.
 * Never refuses a document: what cannot be read contributes nothing (a key
 * whose entry is unreadable is kept as present with no values).
 */
int lw__semfields_extract(lw__semfields *out, const char *semantic_json);
void lw__semfields_dispose(lw__semfields *f);

/*
 * Bring a learnware's searchable fields (name_lc, desc_lc, its rows of
 * learnware_tags and, through them, the full-text index) in line with
 * semantic_json.  Runs inside the caller's write transaction.
 */
int lw__semsearch_index(lw_store *st, const char *id, const char *semantic_json);

/* The migration to schema 2: fill the fields of every existing learnware. */
int lw__semsearch_backfill(lw_store *st);

/* Byte offsets of the code points of UTF-8 s, then strlen(s): *n + 1 entries (free it). */
size_t *lw__cp_offsets(size_t *n, const char *s);

/* Checks shared by the record modules. */
int lw__store_check_id(const char *id);
int lw__store_check_json(const char *json, const char *what, bool object);

/*
 * Test seam: called between the steps of every write that touches files and
 * the database, so a test can kill the process at each of them.
 */
extern void (*lw__store_fault)(const char *point);
#define LW__FAULT(point)                     \
	do {                                 \
		if (lw__store_fault)         \
			lw__store_fault(point); \
	} while (0)

/* --- files (store.c) --- */

int lw__store_lock_shared(lw_store *st);
void lw__store_unlock(lw_store *st);

#define LW__ZIP_NAME 21 /* 16 hex digits, ".zip", NUL */
#define LW__ZIP_DIR "files/learnwares/"

/*
 * Copy src to <tmp>/<name>, a fresh random name, hashing it on the way;
 * the file and the directory entry are on disk when this returns.
 */
int lw__store_copy_in(char name[LW__ZIP_NAME], char sha[65], lw_store *st, const char *src);
/* Link <tmp>/<name> to <learnwares>/<name> and make the link durable; the copy stays as its marker. */
int lw__store_publish(lw_store *st, const char *name);
/*
 * Link <learnwares>/<name> to a fresh <tmp>/<name>~<suffix>, durably: a
 * marker that the file may be about to lose its row.
 */
#define LW__MARKER_NAME (LW__ZIP_NAME + 9)
int lw__store_mark(char marker[LW__MARKER_NAME], lw_store *st, const char *name);
/* Remove <learnwares>/<name> (durably), then its marker <tmp>/<marker>. */
void lw__store_discard(lw_store *st, const char *name, const char *marker);
/* Remove the marker <tmp>/<marker>. */
void lw__store_unmark(lw_store *st, const char *marker);
/* "files/learnwares/<name>" -> "<name>", or NULL if the path is not one of ours. */
const char *lw__store_zip_name(const char *zip_path);

#endif
