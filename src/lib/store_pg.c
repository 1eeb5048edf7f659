/*
 * The PostgreSQL backend: one libpq connection per handle, every statement
 * through PQexecParams with typed parameters (never text pasted into SQL).
 * Jobs are claimed with FOR UPDATE SKIP LOCKED, so any number of workers on
 * any number of machines share the queue without waiting on each other.
 */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define INT8OID 20
#define TEXTOID 25

/* An arbitrary key all dock processes agree on: migrations run one at a time. */
#define MIGRATION_LOCK "SELECT pg_advisory_xact_lock(7715301)"

/*
 * Appending an event.  Ids come from an identity sequence, drawn when the
 * row is inserted but visible only when it commits: session A draws 10,
 * session B draws 11 and commits first, a dock replaying "events after 9"
 * sees 11 and remembers it, and never asks for 10 again once A commits.
 * So an append first takes a transaction-scoped advisory lock (one key for
 * the whole database) and only then draws its id: the next append cannot
 * draw one before this transaction has committed (a commit is visible
 * before its locks are released), and ids become visible in id order.  The
 * lock lives for one short autocommit statement (or the caller's
 * transaction); appends queue behind it, reads never wait.  MATERIALIZED
 * makes PostgreSQL run the lock before it computes the inserted row, and
 * with it the id.  The same statement wakes the handles waiting in
 * lw_store_wait_event: the notification goes out when the row commits.
 */
#define EVENT_CHANNEL "lw_events"
#define EVENT_APPEND                                                                        \
	"WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(7715302)),"                   \
	" e AS (INSERT INTO events (time, actor, kind, learnware_id, detail)"               \
	" SELECT $1, $2, $3, $4, $5 FROM l RETURNING id)"                                  \
	" SELECT id, pg_notify('" EVENT_CHANNEL "', id::text) FROM e"

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE SEQUENCE learnware_id_seq;"
	"CREATE TABLE learnwares ("
	" id TEXT PRIMARY KEY,"
	" owner TEXT,"
	" semantic TEXT NOT NULL,"
	" zip_path TEXT NOT NULL UNIQUE,"
	" sha256 TEXT NOT NULL UNIQUE,"
	" status INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),"
	" usability INTEGER NOT NULL CHECK (usability BETWEEN -1 AND 1),"
	" created BIGINT NOT NULL,"
	" updated BIGINT NOT NULL);"
	"CREATE INDEX learnwares_owner ON learnwares (owner, id);"
	"CREATE INDEX learnwares_status ON learnwares (status, id);"
	"CREATE TABLE specs ("
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" type TEXT NOT NULL,"
	" dim BIGINT NOT NULL,"
	" body TEXT NOT NULL,"
	" PRIMARY KEY (learnware_id, type));"
	"CREATE INDEX specs_type_dim ON specs (type, dim, learnware_id);"
	"CREATE TABLE users ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" email TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL DEFAULT '',"
	" password_hash TEXT NOT NULL,"
	" role INTEGER NOT NULL CHECK (role IN (0, 1)),"
	" created BIGINT NOT NULL);"
	"CREATE TABLE tokens ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" hash TEXT NOT NULL UNIQUE,"
	" user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL DEFAULT '',"
	" kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	" created BIGINT NOT NULL,"
	" expires BIGINT NOT NULL);"
	"CREATE INDEX tokens_user ON tokens (user_id, id);"
	"CREATE TABLE events ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" time BIGINT NOT NULL,"
	" actor TEXT,"
	" kind TEXT NOT NULL,"
	" learnware_id TEXT,"
	" detail TEXT);"
	"CREATE INDEX events_learnware ON events (learnware_id, id);"
	"CREATE INDEX events_actor ON events (actor, id);"
	"CREATE FUNCTION lw_events_append_only() RETURNS trigger LANGUAGE plpgsql AS"
	" $$BEGIN RAISE EXCEPTION 'events are append-only'; END$$;"
	"CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events"
	" FOR EACH ROW EXECUTE FUNCTION lw_events_append_only();"
	"CREATE TABLE jobs ("
	" id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),"
	" worker TEXT,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" created BIGINT NOT NULL,"
	" started BIGINT,"
	" heartbeat BIGINT,"
	" finished BIGINT,"
	" log TEXT);"
	"CREATE INDEX jobs_state ON jobs (state, id);"
	"CREATE INDEX jobs_learnware ON jobs (learnware_id, id);",
	/*
	 * 2: semantic search (docs/store.md).  Name and Description lowered, the
	 * Class and Tag values per key, and a full-text index: a tsvector whose
	 * lexemes are the two texts' trigrams (code point triples, taken as they
	 * are), indexed with GIN.  The library computes the trigrams and writes
	 * the vector in the same UPDATE as the texts (a generated column would
	 * need them in SQL, where substr makes them quadratic in the length).
	 * A text that contains a string contains all of its trigrams, so the
	 * conjunction of a string's trigrams finds a superset of the rows that
	 * contain it.  Texts longer than 20,000 code points get a NULL vector
	 * (a tsvector holds at most 1 MB); the partial index lists those rows,
	 * and searches take them as candidates.  The C upgrade that follows
	 * fills the columns of existing rows.
	 */
	"ALTER TABLE learnwares ADD COLUMN name_lc TEXT NOT NULL DEFAULT '',"
	" ADD COLUMN desc_lc TEXT NOT NULL DEFAULT '', ADD COLUMN search_tsv tsvector;"
	"CREATE INDEX learnwares_usability ON learnwares (usability, id);"
	"CREATE TABLE learnware_tags ("
	" learnware_id TEXT NOT NULL REFERENCES learnwares (id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" pos INTEGER NOT NULL," /* -1: the key is there with no values */
	" value TEXT NOT NULL,"
	" PRIMARY KEY (learnware_id, key, pos));"
	"CREATE INDEX learnware_tags_value ON learnware_tags (key, value, learnware_id);"
	/* A JSON array of lexemes, used as they are (array_to_tsvector drops repeats); NULL stays NULL. */
	"CREATE FUNCTION lw_lexemes(j json) RETURNS tsvector"
	" LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS"
	" $$SELECT array_to_tsvector(ARRAY(SELECT json_array_elements_text(j)))$$;"
	"CREATE INDEX learnwares_search ON learnwares USING gin (search_tsv);"
	"CREATE INDEX learnwares_search_unindexed ON learnwares (id) WHERE search_tsv IS NULL;",
	NULL,
};

#define TRIGRAM_TEXT_MAX 20000 /* code points; longer texts get no vector */

/* The tsquery 'abc' & 'bcd' & ...: every trigram of the text, quotes doubled, backslashes escaped. */
static int pg_fts_query(char **out, const char *lowered)
{
	size_t n, len = strlen(lowered), k = 0, *at = lw__cp_offsets(&n, lowered);
	/* Each byte is in at most three trigrams, doubled at worst; each trigram adds 5 bytes. */
	char *q = lw__mallocarray(len * 11 + 16, 1);

	*out = NULL;
	if (!at || !q) {
		free(at);
		free(q);
		return LW_ENOMEM;
	}
	for (size_t i = 0; i + 3 <= n; i++) {
		if (k) {
			memcpy(q + k, " & ", 3);
			k += 3;
		}
		q[k++] = '\'';
		for (size_t b = at[i]; b < at[i + 3]; b++) {
			if (lowered[b] == '\'' || lowered[b] == '\\')
				q[k++] = lowered[b];
			q[k++] = lowered[b];
		}
		q[k++] = '\'';
	}
	q[k] = '\0';
	free(at);
	*out = q;
	return 0;
}

/* Append the trigrams of text to a JSON array; 1 when the text is too long to index. */
static int add_trigrams(json_t *a, const char *text)
{
	size_t n, *at = lw__cp_offsets(&n, text);
	int err = at ? 0 : LW_ENOMEM;

	if (err == 0 && n > TRIGRAM_TEXT_MAX)
		err = 1;
	for (size_t i = 0; i + 3 <= n && err == 0; i++) {
		json_t *g = json_stringn(text + at[i], at[i + 3] - at[i]);

		if (!g || json_array_append_new(a, g) != 0) {
			lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
			err = LW_ENOMEM;
		}
	}
	free(at);
	return err;
}

/*
 * A learnware's lexemes, a JSON array of its texts' trigrams (repeats and
 * all: array_to_tsvector drops them), or NULL when a text is too long.
 */
static int pg_fts_doc(char **out, const char *name_lc, const char *desc_lc)
{
	json_t *a = json_array();
	int err = a ? 0 : LW_ENOMEM;

	*out = NULL;
	if (err == 0 && (err = add_trigrams(a, name_lc)) == 0)
		err = add_trigrams(a, desc_lc);
	if (err == 0 && !(*out = json_dumps(a, JSON_COMPACT)))
		err = LW_ENOMEM;
	json_decref(a);
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
	return err < 0 ? err : 0;
}

/* libpq prints NOTICEs (CREATE ... IF NOT EXISTS) on stderr by default. */
static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int fail_result(lw_store *st, PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorMessage(res);
	size_t n = strlen(msg);

	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		n--;
	if (!state || PQstatus(st->conn) != CONNECTION_OK) {
		lw_error_set(LW_ERRCLASS_OS, "PostgreSQL at %s: %.*s", st->url, (int)n, msg);
		return LW_EIO;
	}
	lw_error_set(LW_ERRCLASS_INVALID, "PostgreSQL at %s: %.*s", st->url, (int)n, msg);
	if (!strcmp(state, "23505"))
		return LW_EEXISTS;
	if (!strcmp(state, "23503"))
		return LW_ENOTFOUND;
	if (!strncmp(state, "23", 2) || !strncmp(state, "22", 2) || !strcmp(state, "P0001"))
		return LW_EINVALID;
	if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2) || !strncmp(state, "53", 2) ||
	    !strncmp(state, "40", 2))
		return LW_EIO;
	return LW_ERROR;
}

static int pg_query(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		    void *payload, int64_t *changes);

/* Settings of a fresh session. */
static int configure(lw_store *st)
{
	char ms[16];

	PQsetNoticeProcessor(st->conn, quiet, NULL);
	/* Row and advisory locks wait as long as SQLite's busy timeout would. */
	snprintf(ms, sizeof(ms), "%d", st->busy_ms);
	/*
	 * No JIT: every statement here is short, and the JSON row functions'
	 * default estimate (100 rows) makes a search look costly enough to be
	 * compiled, which took 250 ms per statement against 5 ms of work.
	 */
	return pg_query(st, "SELECT set_config('lock_timeout', $1, false), set_config('jit', 'off', false)",
			(lw__val[]){ LW__TEXT(ms) }, 1, NULL, NULL, NULL);
}

/* A connection lost between transactions (a server restart) is opened again. */
static int ensure_connected(lw_store *st)
{
	if (PQstatus(st->conn) == CONNECTION_OK)
		return 0;
	if (!st->in_tx) {
		PQreset(st->conn);
		if (PQstatus(st->conn) == CONNECTION_OK)
			return configure(st);
	}
	lw_error_set(LW_ERRCLASS_OS, "lost the connection to PostgreSQL at %s: %s", st->url,
		     PQerrorMessage(st->conn));
	return LW_EIO;
}

static int deliver(PGresult *res, lw__row_cb cb, void *payload)
{
	const char *vals[LW__MAX_COLS];
	int rows = PQntuples(res), cols = PQnfields(res), err = 0;

	if (cols > LW__MAX_COLS)
		abort();
	for (int r = 0; r < rows && err == 0; r++) {
		lw__row row = { (size_t)cols, vals };

		for (int i = 0; i < cols; i++)
			vals[i] = PQgetisnull(res, r, i) ? NULL : PQgetvalue(res, r, i);
		err = cb(&row, payload);
	}
	return err;
}

static int pg_query(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		    void *payload, int64_t *changes)
{
	const char *values[LW__MAX_PARAMS];
	char nums[LW__MAX_PARAMS][24];
	Oid types[LW__MAX_PARAMS];
	PGresult *res;
	ExecStatusType status;
	int err;

	if (np > LW__MAX_PARAMS)
		abort();
	if ((err = ensure_connected(st)) < 0)
		return err;
	for (size_t i = 0; i < np; i++) {
		types[i] = p[i].is_text ? TEXTOID : INT8OID;
		values[i] = p[i].is_null ? NULL : p[i].is_text ? p[i].s : nums[i];
		if (!p[i].is_text && !p[i].is_null)
			snprintf(nums[i], sizeof(nums[i]), "%lld", (long long)p[i].i);
	}
	res = PQexecParams(st->conn, sql, (int)np, types, values, NULL, NULL, 0);
	status = PQresultStatus(res);
	if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
		err = fail_result(st, res);
	} else {
		if (changes)
			*changes = strtoll(PQcmdTuples(res), NULL, 10);
		if (cb)
			err = deliver(res, cb, payload);
	}
	PQclear(res);
	return err;
}

static int pg_script(lw_store *st, const char *sql)
{
	PGresult *res;
	int err = ensure_connected(st);

	if (err < 0)
		return err;
	res = PQexec(st->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
		err = fail_result(st, res);
	PQclear(res);
	return err;
}

static void pg_disconnect(lw_store *st)
{
	PQfinish(st->conn);
	st->conn = NULL;
}

static int pg_connect(lw_store *st, const char *url, const lw_store_options *o)
{
	/* Keywords before the URL are defaults it may override. */
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "10", "learnware", url, NULL };
	size_t n;
	char *msg;

	(void)o;
	st->conn = PQconnectdbParams(keys, vals, 1);
	if (!st->conn) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory connecting to PostgreSQL");
		return LW_ENOMEM;
	}
	if (PQstatus(st->conn) != CONNECTION_OK) {
		msg = PQerrorMessage(st->conn);
		n = strlen(msg);
		while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			n--;
		lw_error_set(LW_ERRCLASS_OS, "cannot connect to PostgreSQL at %s: %.*s", st->url, (int)n, msg);
		return LW_EIO;
	}
	return configure(st);
}

/* --- waiting for events --------------------------------------------------------- */

/* LISTEN once per server process: a reconnect (ensure_connected) starts a new one. */
static int listen_events(lw_store *st)
{
	int err = ensure_connected(st), pid;

	if (err < 0)
		return err;
	pid = PQbackendPID(st->conn);
	if (pid == st->listen_pid)
		return 0;
	if ((err = pg_script(st, "LISTEN " EVENT_CHANNEL)) == 0)
		st->listen_pid = pid;
	return err;
}

/* Read what the server sent; *seen = 1 when a notification names an event after after_id. */
static int drain(int *seen, lw_store *st, int64_t after_id)
{
	PGnotify *n;

	if (!PQconsumeInput(st->conn)) {
		lw_error_set(LW_ERRCLASS_OS,
			     "lost the connection to PostgreSQL at %s while waiting for events: %s", st->url,
			     PQerrorMessage(st->conn));
		st->listen_pid = 0;
		return LW_EIO;
	}
	while ((n = PQnotifies(st->conn))) {
		char *end;
		long long id = strtoll(n->extra, &end, 10);

		/* A payload that is not an id (another writer's NOTIFY) may mean anything. */
		if (!strcmp(n->relname, EVENT_CHANNEL) && (*end || end == n->extra || id > after_id))
			*seen = 1;
		PQfreemem(n);
	}
	return 0;
}

/*
 * LISTEN, forget older notifications, look at the newest id (an event that
 * committed before the LISTEN sent none), then sleep on the socket until a
 * notification of a newer event arrives.  A notification the last query
 * already read sits in libpq's queue, not the socket: drain before poll.
 */
static int pg_wait_event(lw_store *st, int64_t after_id, int timeout_ms)
{
	int64_t deadline = lw__store_monotonic_ms() + timeout_ms, newest = 0, left;
	int err, seen = 0, stale = 0;

	if ((err = listen_events(st)) < 0 || (err = drain(&stale, st, INT64_MAX)) < 0 ||
	    (err = lw__store_int(&newest, st, LW__NEWEST_EVENT, NULL, 0)) < 0)
		return err;
	if (newest > after_id)
		return 1;
	for (;;) {
		struct pollfd pfd = { PQsocket(st->conn), POLLIN, 0 };

		if ((err = drain(&seen, st, after_id)) < 0)
			return err;
		if (seen)
			return 1;
		if ((left = deadline - lw__store_monotonic_ms()) <= 0)
			return 0;
		if (pfd.fd < 0 || (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)) {
			lw_error_set(LW_ERRCLASS_OS, "waiting for PostgreSQL at %s", st->url);
			return LW_EIO;
		}
	}
}

const lw__store_ops lw__store_pg = {
	.name = "postgresql",
	.connect = pg_connect,
	.disconnect = pg_disconnect,
	.query = pg_query,
	.script = pg_script,
	.begin_write = "BEGIN",
	.migration_lock = MIGRATION_LOCK,
	.count_foreign = NULL,
	.migrations = migrations,
	.next_id = "SELECT nextval('learnware_id_seq')",
	/* Sequences are not transactional: two imports claiming one number at
	 * once both pass, and the second insert fails on the primary key. */
	.claim_id = "SELECT setval('learnware_id_seq', $1) FROM learnware_id_seq"
		    " WHERE last_value < $1 OR NOT is_called",
	.lock_learnware = "SELECT zip_path FROM learnwares WHERE id = $1 FOR UPDATE",
	.claim = "UPDATE jobs SET state = 1, worker = $1, started = $2, heartbeat = $2,"
		 " attempts = attempts + 1"
		 " WHERE id = (SELECT id FROM jobs WHERE state = 0 ORDER BY id LIMIT 1"
		 " FOR UPDATE SKIP LOCKED)"
		 " AND state = 0" /* never a job another claimer just took */
		 " RETURNING id, learnware_id, state, worker, attempts, created, started, heartbeat,"
		 " finished, log",
	.event_append = EVENT_APPEND,
	.wait_event = pg_wait_event,
	.json_rows = "SELECT e ->> 0 AS c0, (e ->> 1)::integer AS c1, e ->> 2 AS c2"
		     " FROM json_array_elements(CAST($? AS json)) AS e",
	.text_match = " AND (l.search_tsv @@ CAST($? AS tsquery) OR l.search_tsv IS NULL)",
	.fts_query = pg_fts_query,
	.index_set = ", search_tsv = lw_lexemes(CAST($? AS json))",
	.fts_doc = pg_fts_doc,
};
