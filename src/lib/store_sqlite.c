/*
 * The SQLite backend: <root>/dock.db in WAL mode (readers never wait for
 * the writer), foreign keys on, synchronous=FULL so a commit reported is a
 * commit kept, and a busy timeout so concurrent writers queue instead of
 * failing.  Statements are prepared once per handle and cached.
 */
#include "store.h"

#include <sqlite3.h>
#include <string.h>

#include "util.h"

typedef struct {
	const char *sql; /* the caller's text, for lookup */
	uint64_t hash;
	sqlite3_stmt *stmt;
} cached;

typedef struct {
	sqlite3 *db;
	char *path;
	cached *cache;
	size_t ncache;
} conn;

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO counters (name, value) VALUES ('learnware', 0);"
	"CREATE TABLE learnwares ("
	" id TEXT PRIMARY KEY,"
	" owner TEXT,"
	" semantic TEXT NOT NULL,"
	" zip_path TEXT NOT NULL UNIQUE,"
	" sha256 TEXT NOT NULL UNIQUE,"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
	" usability INTEGER NOT NULL CHECK (usability BETWEEN -1 AND 1),"
	" created INTEGER NOT NULL,"
	" updated INTEGER NOT NULL);"
	"CREATE INDEX learnwares_owner ON learnwares (owner, id);"
	"CREATE INDEX learnwares_status ON learnwares (status, id);"
	"CREATE TABLE specs ("
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" dim INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" PRIMARY KEY (learnware_id, type));"
	"CREATE INDEX specs_type_dim ON specs (type, dim, learnware_id);"
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" email TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL DEFAULT '',"
	" password_hash TEXT NOT NULL,"
	" role INTEGER NOT NULL CHECK (role IN (0, 1)),"
	" created INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" hash TEXT NOT NULL UNIQUE,"
	" user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL DEFAULT '',"
	" kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE INDEX tokens_user ON tokens (user_id, id);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL,"
	" actor TEXT,"
	" kind TEXT NOT NULL,"
	" learnware_id TEXT,"
	" detail TEXT);"
	"CREATE INDEX events_learnware ON events (learnware_id, id);"
	"CREATE INDEX events_actor ON events (actor, id);"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
	" BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),"
	" worker TEXT,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" started INTEGER,"
	" heartbeat INTEGER,"
	" finished INTEGER,"
	" log TEXT);"
	"CREATE INDEX jobs_state ON jobs (state, id);"
	"CREATE INDEX jobs_learnware ON jobs (learnware_id, id);",
	/*
	 * 2: semantic search (docs/store.md).  Name and Description lowered, the
	 * Class and Tag values per key, and a trigram full-text index over the
	 * two texts.  The index is contentless (the text lives in learnwares)
	 * and keyed by the learnware's number, which VACUUM never renumbers;
	 * triggers keep it in the writing statement's transaction.  The C
	 * upgrade that follows fills the columns of existing rows, and the
	 * update trigger carries them into the index.
	 */
	"ALTER TABLE learnwares ADD COLUMN name_lc TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE learnwares ADD COLUMN desc_lc TEXT NOT NULL DEFAULT '';"
	"CREATE INDEX learnwares_usability ON learnwares (usability, id);"
	"CREATE TABLE learnware_tags ("
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" pos INTEGER NOT NULL," /* -1: the key is there with no values */
	" value TEXT NOT NULL,"
	" PRIMARY KEY (learnware_id, key, pos));"
	"CREATE INDEX learnware_tags_value ON learnware_tags (key, value, learnware_id);"
	"CREATE VIRTUAL TABLE learnware_fts USING fts5 (name, description, content = '', detail = none,"
	" tokenize = 'trigram case_sensitive 1');"
	"INSERT INTO learnware_fts (rowid, name, description)"
	" SELECT CAST(id AS INTEGER), name_lc, desc_lc FROM learnwares;"
	"CREATE TRIGGER learnwares_fts_insert AFTER INSERT ON learnwares BEGIN"
	" INSERT INTO learnware_fts (rowid, name, description)"
	" VALUES (CAST(NEW.id AS INTEGER), NEW.name_lc, NEW.desc_lc); END;"
	"CREATE TRIGGER learnwares_fts_delete AFTER DELETE ON learnwares BEGIN"
	" INSERT INTO learnware_fts (learnware_fts, rowid, name, description)"
	" VALUES ('delete', CAST(OLD.id AS INTEGER), OLD.name_lc, OLD.desc_lc); END;"
	"CREATE TRIGGER learnwares_fts_update AFTER UPDATE OF name_lc, desc_lc ON learnwares BEGIN"
	" INSERT INTO learnware_fts (learnware_fts, rowid, name, description)"
	" VALUES ('delete', CAST(OLD.id AS INTEGER), OLD.name_lc, OLD.desc_lc);"
	" INSERT INTO learnware_fts (rowid, name, description)"
	" VALUES (CAST(NEW.id AS INTEGER), NEW.name_lc, NEW.desc_lc); END;",
	NULL,
};

/*
 * The index holds trigrams without positions (detail = none), so a text
 * becomes the conjunction of its trigrams, each a quoted string: rows with
 * all of them, a superset of those containing the text, which the caller
 * confirms.
 */
static int sq_fts_query(char **out, const char *lowered)
{
	size_t len = strlen(lowered), n = 0, k = 0;
	size_t *start = lw__cp_offsets(&n, lowered);
	/* Each byte is in at most three trigrams, doubled if a quote; each trigram adds 3 bytes. */
	char *q = lw__mallocarray(len * 9 + 16, 1);
	int err = 0;

	*out = NULL;
	if (!start || !q) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i + 3 <= n; i++) {
		if (k)
			q[k++] = ' ';
		q[k++] = '"';
		for (size_t b = start[i]; b < start[i + 3]; b++) {
			if (lowered[b] == '"')
				q[k++] = '"';
			q[k++] = lowered[b];
		}
		q[k++] = '"';
	}
	q[k] = '\0';
	*out = q;
	q = NULL;
done:
	free(start);
	free(q);
	return err;
}

/* FNV-1a: statement texts are looked up by content, so assembled SQL is cached too. */
static uint64_t hash_sql(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

static int fail(conn *c, int rc, const char *what)
{
	int ext = sqlite3_extended_errcode(c->db), prim = rc & 0xff;
	const char *msg = sqlite3_errmsg(c->db);

	switch (prim) {
	case SQLITE_CONSTRAINT:
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %s", c->path, msg);
		if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			return LW_EEXISTS;
		return ext == SQLITE_CONSTRAINT_FOREIGNKEY ? LW_ENOTFOUND : LW_EINVALID;
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		lw_error_set(LW_ERRCLASS_DATA, "%s is not a usable SQLite database (%s)", c->path, msg);
		return LW_EINVALID;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		lw_error_set(LW_ERRCLASS_OS, "%s: %s (another process kept it locked too long)", c->path, msg);
		return LW_EIO;
	case SQLITE_NOMEM:
		lw_error_set(LW_ERRCLASS_NOMEMORY, "%s: %s", c->path, msg);
		return LW_ENOMEM;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		lw_error_set(LW_ERRCLASS_OS, "%s: %s", c->path, msg);
		return LW_EIO;
	default:
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %s (%s)", c->path, msg, what);
		return LW_ERROR;
	}
}

/* $n becomes ?n: SQLite numbers ?NNN parameters exactly as PostgreSQL numbers $n. */
static char *to_sqlite(const char *sql)
{
	char *s = lw__strdup(sql);

	for (char *c = s; c && *c; c++)
		if (c[0] == '$' && c[1] >= '0' && c[1] <= '9')
			c[0] = '?';
	return s;
}

static int prepare(sqlite3_stmt **out, conn *c, const char *sql)
{
	uint64_t h = hash_sql(sql);
	char *text, *key;
	cached *slot;
	int rc;

	for (size_t i = 0; i < c->ncache; i++)
		if (c->cache[i].hash == h && !strcmp(c->cache[i].sql, sql)) {
			*out = c->cache[i].stmt;
			return 0;
		}
	if (!(text = to_sqlite(sql)))
		return LW_ENOMEM;
	rc = sqlite3_prepare_v3(c->db, text, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
	free(text);
	if (rc != SQLITE_OK)
		return fail(c, rc, sql);
	/* sql may be a caller's buffer: the cache keeps its own copy as the key. */
	if (!(key = lw__strdup(sql)) || !(slot = lw__store_grow((void **)&c->cache, &c->ncache, sizeof(cached)))) {
		free(key);
		sqlite3_finalize(*out);
		return LW_ENOMEM;
	}
	slot->sql = key;
	slot->hash = h;
	slot->stmt = *out;
	return 0;
}

static int bind(conn *c, sqlite3_stmt *s, const lw__val *p, size_t np)
{
	for (size_t i = 0; i < np; i++) {
		int at = (int)i + 1, rc;

		if (p[i].is_null)
			rc = sqlite3_bind_null(s, at);
		else if (p[i].is_text)
			rc = sqlite3_bind_text(s, at, p[i].s, -1, SQLITE_STATIC);
		else
			rc = sqlite3_bind_int64(s, at, p[i].i);
		if (rc != SQLITE_OK)
			return fail(c, rc, sqlite3_sql(s));
	}
	return 0;
}

static int sq_query(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		    void *payload, int64_t *changes)
{
	conn *c = st->conn;
	sqlite3_stmt *s;
	const char *vals[LW__MAX_COLS];
	int rc, err;

	if ((err = prepare(&s, c, sql)) < 0)
		return err;
	if ((err = bind(c, s, p, np)) < 0)
		goto done;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		lw__row row = { (size_t)sqlite3_column_count(s), vals };

		if (!cb)
			continue;
		if (row.n > LW__MAX_COLS)
			abort();
		for (size_t i = 0; i < row.n; i++)
			vals[i] = (const char *)sqlite3_column_text(s, (int)i);
		if ((err = cb(&row, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		err = fail(c, rc, sql);
	else if (changes)
		*changes = sqlite3_changes64(c->db);
done:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return err;
}

static int sq_script(lw_store *st, const char *sql)
{
	conn *c = st->conn;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(c, rc, sql);
}

static void sq_disconnect(lw_store *st)
{
	conn *c = st->conn;

	for (size_t i = 0; i < c->ncache; i++) {
		sqlite3_finalize(c->cache[i].stmt);
		free((char *)c->cache[i].sql);
	}
	free(c->cache);
	sqlite3_close_v2(c->db);
	free(c->path);
	free(c);
	st->conn = NULL;
}

static int sq_connect(lw_store *st, const char *url, const lw_store_options *o)
{
	conn *c = lw__calloc(1, sizeof(*c));
	size_t n = strlen(st->root) + 16;
	int rc;

	if (!c)
		return LW_ENOMEM;
	st->conn = c;
	if (!(c->path = lw__mallocarray(n, 1)))
		return LW_ENOMEM;
	snprintf(c->path, n, "%s/dock.db", st->root);
	rc = sqlite3_open_v2(c->path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (!c->db)
			return LW_ENOMEM;
		return fail(c, rc, "open");
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 0);
	/* The first statement reads the header: a file that is not a database fails here. */
	return sq_script(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			     "PRAGMA foreign_keys = ON;");
}

const lw__store_ops lw__store_sqlite = {
	.name = "sqlite",
	.connect = sq_connect,
	.disconnect = sq_disconnect,
	.query = sq_query,
	.script = sq_script,
	.begin_write = "BEGIN IMMEDIATE",
	.migration_lock = NULL,
	.count_foreign = "SELECT count(*) FROM sqlite_master WHERE name <> 'schema_version'",
	.migrations = migrations,
	.next_id = "UPDATE counters SET value = value + 1 WHERE name = 'learnware' RETURNING value",
	.claim_id = "UPDATE counters SET value = $1 WHERE name = 'learnware' AND value < $1 RETURNING value",
	.lock_learnware = "SELECT zip_path FROM learnwares WHERE id = $1",
	.claim = "UPDATE jobs SET state = 1, worker = $1, started = $2, heartbeat = $2,"
		 " attempts = attempts + 1"
		 " WHERE id = (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT 1)"
		 " AND state = 0" /* never a job another claimer just took */
		 " RETURNING id, learnware_id, state, worker, attempts, created, started, heartbeat,"
		 " finished, log",
	/* One writer at a time: an id is drawn and committed before the next is. */
	.event_append = "INSERT INTO events (time, actor, kind, learnware_id, detail)"
			" VALUES ($1, $2, $3, $4, $5) RETURNING id",
	.wait_event = NULL, /* no notifications: lw_store_wait_event polls */
	.json_rows = "SELECT json_extract(value, '$[0]') AS c0, json_extract(value, '$[1]') AS c1,"
		     " json_extract(value, '$[2]') AS c2 FROM json_each($?)",
	/* Learnware ids are the number printed as "%08" PRId64. */
	.text_match = " AND l.id IN (SELECT printf('%08d', rowid) FROM learnware_fts WHERE learnware_fts MATCH $?)",
	.fts_query = sq_fts_query,
	.index_set = NULL, /* triggers follow name_lc and desc_lc */
	.fts_doc = NULL,
};
