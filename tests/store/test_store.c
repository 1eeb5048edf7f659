/*
 * The store's suite, the same for both backends.  LW_TEST_STORE picks one:
 * "sqlite" (the default), a postgresql:// URL of a server the tests may
 * create databases on, or "@FILE" naming a file that holds such a URL
 * (what scripts/pg-test-server.sh writes).  Every test gets a fresh store:
 * a new directory, and on PostgreSQL a new database.
 */
#define _GNU_SOURCE
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "store.h"
#include "util.h"

static char *pg_admin; /* NULL: SQLite */
static int db_seq;

typedef struct {
	char *dir;  /* private temp dir */
	char *root; /* <dir>/root: the store's files (and dock.db on SQLite) */
	char *url;
	char *db;   /* PostgreSQL database name */
	lw_store_options o;
} env;

/* --- environment --------------------------------------------------------------- */

/* Copy with truncation, always terminated. */
static void scopy(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	assert_true(vasprintf(&s, fmt, ap) >= 0);
	va_end(ap);
	return s;
}

static void pg_admin_exec(const char *sql)
{
	PGconn *c = PQconnectdb(pg_admin);
	PGresult *r;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot reach the test server %s: %s", pg_admin, PQerrorMessage(c));
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* The admin URL with its database name replaced. */
static char *pg_url_for(const char *db)
{
	const char *slash = strrchr(pg_admin, '/');

	return xasprintf("%.*s/%s", (int)(slash - pg_admin), pg_admin, db);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof(*e));
	lw_store_options o = LW_STORE_OPTIONS_INIT;

	assert_non_null(e);
	e->dir = lwt_mkdtemp();
	e->root = xasprintf("%s/root", e->dir);
	e->o = o;
	if (pg_admin) {
		char *sql;

		e->db = xasprintf("lwt_%d_%d", (int)getpid(), ++db_seq);
		sql = xasprintf("CREATE DATABASE %s", e->db);
		pg_admin_exec(sql);
		free(sql);
		e->url = pg_url_for(e->db);
		e->o.root = e->root;
	} else {
		e->url = strdup(e->root);
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;

	if (e->db) {
		char *sql = xasprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", e->db);

		pg_admin_exec(sql);
		free(sql);
	}
	lwt_rmtree(e->dir);
	free(e->dir);
	free(e->root);
	free(e->url);
	free(e->db);
	free(e);
	return 0;
}

static lw_store *open_ok(const env *e)
{
	lw_store *st = NULL;
	int err = lw_store_open(&st, e->url, &e->o);

	if (err != 0)
		fail_msg("lw_store_open(%s): %d %s", e->url, err, lw_error_last()->message);
	return st;
}

#define assert_ok(expr)                                                                   \
	do {                                                                              \
		int ok_err_ = (expr);                                                     \
		if (ok_err_ != 0)                                                         \
			fail_msg("%s = %d: %s", #expr, ok_err_, lw_error_last()->message); \
	} while (0)

#define assert_message(needle)                                                                   \
	do {                                                                                     \
		if (!strstr(lw_error_last()->message, needle))                                  \
			fail_msg("message '%s' lacks '%s'", lw_error_last()->message, needle); \
	} while (0)

/* --- packages ------------------------------------------------------------------ */

/* A fake package: "PK" and bytes drawn from seed; distinct seeds give distinct content. */
static char *make_zip(const env *e, uint64_t seed, size_t size, char sha[LW_SHA256_HEX])
{
	char *path = xasprintf("%s/pkg-%llu.zip", e->dir, (unsigned long long)seed);
	char *buf = malloc(size + 16);
	lw_rng rng;
	FILE *f;
	size_t n;

	assert_non_null(buf);
	lw_rng_seed(&rng, seed);
	n = (size_t)snprintf(buf, 16, "PK%llu|", (unsigned long long)seed);
	for (size_t i = n; i < size; i++)
		buf[i] = (char)lw_rng_u64(&rng);
	n = size > n ? size : n;
	if (sha)
		lw__sha256_buf(sha, buf, n);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
	free(buf);
	return path;
}

static int add_pkg(lw_learnware_record *out, lw_store *st, const env *e, uint64_t seed, const char *owner,
		   int enqueue)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	char *zip = make_zip(e, seed, 1000 + seed % 5000, NULL);
	int err;

	in.owner = owner;
	in.semantic_json = "{\"Name\": {\"Values\": \"test\", \"Type\": \"String\"}}";
	in.zip_path = zip;
	in.enqueue = enqueue;
	err = lw_store_add(out, st, &in);
	unlink(zip);
	free(zip);
	return err;
}

static char *file_sha(const char *path)
{
	char *data, *hex = malloc(LW_SHA256_HEX);
	size_t len;

	if (lw__read_file(&data, &len, path, (size_t)1 << 30) != 0) {
		free(hex);
		return NULL;
	}
	lw__sha256_buf(hex, data, len);
	free(data);
	return hex;
}

static size_t count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static size_t count_files(const env *e, const char *sub)
{
	char *d = xasprintf("%s/files/%s", e->root, sub);
	size_t n = count_dir(d);

	free(d);
	return n;
}

static bool file_exists(const char *root, const char *rel)
{
	char *p = xasprintf("%s/%s", root, rel);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

/* The first n code points of s (caller frees). */
static char *utf8_prefix(const char *s, size_t n)
{
	size_t at = 0, seen = 0;

	for (; s[at]; at++)
		if (((unsigned char)s[at] & 0xc0) != 0x80 && seen++ == n)
			break;
	return strndup(s, at);
}

static size_t utf8_count(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

typedef struct {
	char *name, *desc;
} texts;

static int take_texts(const lw__row *row, void *payload)
{
	texts *t = payload;

	return lw__row_dup(&t->name, row, 0) || lw__row_dup(&t->desc, row, 1) ? LW_ENOMEM : 0;
}

/* Does the full-text index propose learnware id for text? */
static bool index_proposes(lw_store *st, const char *id, const char *text)
{
	lw__sqlbuf b = { .len = 0 };
	char *param = NULL;
	int64_t n = 0;

	assert_ok(st->ops->fts_query(&param, text));
	lw__sql_param(&b, "SELECT count(*) FROM learnwares l WHERE l.id = $?", LW__TEXT(id));
	lw__sql_param(&b, st->ops->text_match, LW__TEXT(param));
	assert_ok(lw__store_int(&n, st, b.sql, b.p, b.np));
	free(param);
	return n == 1;
}

/*
 * What semantic search keeps of a learnware must follow its semantic
 * specification: name_lc, desc_lc and its learnware_tags rows are what
 * extraction makes of the document, and the full-text index proposes it
 * for (the start of) its own name and description.
 */
static char *index_problem(lw_store *st, const lw_learnware_record *r)
{
	lw__semfields f;
	texts t = { NULL, NULL };
	json_t *rows = NULL, *row;
	char *problem = NULL;
	int64_t n = -1;
	size_t i;

	assert_ok(lw__semfields_extract(&f, r->semantic_json));
	assert_ok(lw__store_query(st, "SELECT name_lc, desc_lc FROM learnwares WHERE id = $1",
				  (lw__val[]){ LW__TEXT(r->id) }, 1, take_texts, &t));
	assert_ok(lw__store_int(&n, st, "SELECT count(*) FROM learnware_tags WHERE learnware_id = $1",
				(lw__val[]){ LW__TEXT(r->id) }, 1));
	if (!t.name || strcmp(t.name, f.name) || strcmp(t.desc, f.desc))
		problem = xasprintf("learnware %s: indexed as '%s' / '%s', its specification says '%s' / '%s'", r->id,
				    t.name ? t.name : "(none)", t.desc ? t.desc : "(none)", f.name, f.desc);
	else if ((size_t)n != f.ntags)
		problem = xasprintf("learnware %s: %lld tag rows, its specification has %zu", r->id, (long long)n, f.ntags);
	if (!problem && f.tags) {
		assert_non_null(rows = json_loads(f.tags, 0, NULL));
		json_array_foreach(rows, i, row) {
			if (problem)
				break;
			assert_ok(lw__store_int(&n, st,
						"SELECT count(*) FROM learnware_tags WHERE learnware_id = $1 AND key = $2"
						" AND pos = $3 AND value = $4",
						(lw__val[]){ LW__TEXT(r->id), LW__TEXT(json_string_value(json_array_get(row, 0))),
							     LW__INT(json_integer_value(json_array_get(row, 1))),
							     LW__TEXT(json_string_value(json_array_get(row, 2))) },
						4));
			if (n != 1)
				problem = xasprintf("learnware %s: tag row %s/%lld lost", r->id,
						    json_string_value(json_array_get(row, 0)),
						    (long long)json_integer_value(json_array_get(row, 1)));
		}
		json_decref(rows);
	}
	/* PostgreSQL: a vector unless a text is too long for one (then every search takes the row). */
	if (!problem && pg_admin) {
		bool too_long = utf8_count(f.name) > 20000 || utf8_count(f.desc) > 20000;

		assert_ok(lw__store_int(&n, st, "SELECT count(*) FROM learnwares WHERE id = $1 AND search_tsv IS NULL",
					(lw__val[]){ LW__TEXT(r->id) }, 1));
		if (n != too_long)
			problem = xasprintf("learnware %s: %s full-text vector", r->id, n ? "no" : "an unexpected");
	}
	for (int which = 0; which < 2 && !problem; which++) {
		const char *text = which ? f.desc : f.name;
		char *start = utf8_prefix(text, 12);

		if (utf8_count(start) >= LW__FTS_MIN && !index_proposes(st, r->id, start))
			problem = xasprintf("learnware %s: the full-text index misses it for '%s'", r->id, start);
		free(start);
	}
	free(t.name);
	free(t.desc);
	lw__semfields_dispose(&f);
	return problem;
}

/* Whole-index checks: SQLite's FTS5 structure, and one entry per learnware. */
static char *fts_problem(lw_store *st, size_t rows)
{
	int64_t n = -1;

	if (pg_admin)
		return NULL; /* index_problem checks each row's vector */
	if (st->ops->script(st, "INSERT INTO learnware_fts (learnware_fts) VALUES ('integrity-check')") != 0)
		return xasprintf("FTS5 integrity-check: %s", lw_error_last()->message);
	assert_ok(lw__store_int(&n, st, "SELECT count(*) FROM learnware_fts", NULL, 0));
	if ((size_t)n != rows)
		return xasprintf("the full-text index has %lld entries for %zu learnwares", (long long)n, rows);
	return NULL;
}

/*
 * The invariants a store must keep whatever happened to the processes
 * using it, checked right after an open (which sweeps): every row has its
 * file with the recorded hash, every file has its row, nothing lingers in
 * files/tmp, and what semantic search keeps follows every row's semantic
 * specification.  Returns a message, or NULL when all hold.
 */
static char *consistency(lw_store *st, const char *root, size_t *rows)
{
	lw_learnware_list l;
	char *tmp = xasprintf("%s/files/tmp", root), *lwd = xasprintf("%s/files/learnwares", root);
	char *problem = NULL;
	DIR *d;
	struct dirent *de;

	if (lw_store_list(&l, st, NULL) != 0)
		return xasprintf("list: %s", lw_error_last()->message);
	for (size_t i = 0; i < l.count && !problem; i++) {
		lw_learnware_record *r = &l.items[i];
		char *path = xasprintf("%s/%s", root, r->zip_path), *sha = file_sha(path);

		if (!sha)
			problem = xasprintf("learnware %s: file %s missing", r->id, r->zip_path);
		else if (strcmp(sha, r->content_sha256))
			problem = xasprintf("learnware %s: file hash %s, row says %s", r->id, sha, r->content_sha256);
		else if (!r->semantic_json || r->status < 0 || r->status > 4)
			problem = xasprintf("learnware %s: partial row", r->id);
		else
			problem = index_problem(st, r);
		free(path);
		free(sha);
	}
	if (!problem)
		problem = fts_problem(st, l.count);
	if (!problem && count_dir(tmp) != 0)
		problem = xasprintf("%zu entries left in files/tmp", count_dir(tmp));
	d = opendir(lwd);
	while (!problem && d && (de = readdir(d))) {
		bool found = false;

		if (de->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < l.count && !found; i++)
			found = !strcmp(l.items[i].zip_path + strlen("files/learnwares/"), de->d_name);
		if (!found)
			problem = xasprintf("file %s has no row", de->d_name);
	}
	if (d)
		closedir(d);
	*rows = l.count;
	lw_learnware_list_dispose(&l);
	free(tmp);
	free(lwd);
	return problem;
}

static void assert_consistent(lw_store *st, const env *e, size_t expect_rows)
{
	size_t rows = 0;
	char *problem = consistency(st, e->root, &rows);

	if (problem)
		fail_msg("inconsistent store: %s", problem);
	if (expect_rows != SIZE_MAX)
		assert_int_equal(rows, expect_rows);
}

/* The search index alone (for rows whose files this test did not make). */
static void assert_index_consistent(lw_store *st, size_t expect_rows)
{
	lw_learnware_list l;
	char *problem = NULL;

	assert_ok(lw_store_list(&l, st, NULL));
	assert_int_equal(l.count, expect_rows);
	for (size_t i = 0; i < l.count && !problem; i++)
		problem = index_problem(st, &l.items[i]);
	if (!problem)
		problem = fts_problem(st, l.count);
	lw_learnware_list_dispose(&l);
	if (problem)
		fail_msg("inconsistent search index: %s", problem);
}

/* --- opening and migrations --------------------------------------------------------- */

static void test_store_open__migrates_from_empty_and_reopens(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_record r;
	int64_t v;

	assert_string_equal(lw_store_backend(st), pg_admin ? "postgresql" : "sqlite");
	assert_string_equal(lw_store_root(st), e->root);
	assert_ok(lw__store_int(&v, st, "SELECT version FROM schema_version", NULL, 0));
	assert_int_equal(v, LW_STORE_SCHEMA_VERSION);
	assert_true(file_exists(e->root, "files/tmp") && file_exists(e->root, "files/learnwares"));
	if (!pg_admin)
		assert_true(file_exists(e->root, "dock.db"));
	assert_ok(add_pkg(&r, st, e, 1, NULL, 0));
	lw_learnware_record_dispose(&r);
	lw_store_free(st);

	st = open_ok(e);
	assert_ok(lw__store_int(&v, st, "SELECT count(*) FROM schema_version", NULL, 0));
	assert_int_equal(v, 1);
	assert_ok(lw_store_get(&r, st, "00000001"));
	lw_learnware_record_dispose(&r);
	lw_store_free(st);
}

static void test_store_open__refuses_a_newer_schema(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);

	assert_ok(lw__store_exec(NULL, st, "UPDATE schema_version SET version = 99", NULL, 0));
	lw_store_free(st);
	st = NULL;
	assert_int_equal(lw_store_open(&st, e->url, &e->o), LW_EINVALID);
	assert_null(st);
	assert_message("schema version 99, newer than this build");
}

/* A dock.db damaged inside (its schema page overwritten) gives an error, not a crash. */
static void test_store_open__damaged_sqlite_file_is_refused(void **state)
{
	env *e = *state;
	lw_store_options o = LW_STORE_OPTIONS_INIT;
	char *root = xasprintf("%s/damaged", e->dir), *db = xasprintf("%s/dock.db", root);
	char junk[3996]; /* page 1 after the file header: the schema b-tree root */
	lw_store *st = NULL;
	FILE *f;

	assert_int_equal(lw_store_open(&st, root, &o), 0);
	for (uint64_t s = 1; s <= 3; s++)
		assert_ok(add_pkg(NULL, st, e, s, NULL, 1));
	lw_store_free(st);
	st = NULL;
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(f = fopen(db, "r+b"));
	assert_int_equal(fseek(f, 100, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), f), sizeof(junk));
	fclose(f);
	assert_int_equal(lw_store_open(&st, root, &o), LW_EINVALID);
	assert_message("not a usable SQLite database");
	assert_null(st);
	free(root);
	free(db);
}

/* Two databases on one files root would sweep each other's files away. */
static void test_store_open__refuses_a_root_of_another_store(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	char *files = xasprintf("%s/files", e->root);

	lw_store_free(st);
	st = open_ok(e);
	lw_store_free(st);
	st = NULL;
	free(lwt_write_file(files, ".store-id", "0123456789abcdef0123456789abcdef"));
	assert_int_equal(lw_store_open(&st, e->url, &e->o), LW_EINVALID);
	assert_message("belongs to another store");
	assert_null(st);
	free(files);
}

static void test_store_open__bad_inputs_fail_cleanly(void **state)
{
	env *e = *state;
	lw_store_options o = LW_STORE_OPTIONS_INIT;
	lw_store *st = NULL;
	char *file, *under, *corrupt_dir, *foreign_dir, *path;
	sqlite3 *db;

	assert_int_equal(lw_store_open(&st, "mysql://localhost/dock", &o), LW_EINVALID);
	assert_message("unknown store URL scheme 'mysql'");
	assert_int_equal(lw_store_open(&st, "postgresql://127.0.0.1/x", &o), LW_EINVALID);
	assert_message("needs a files root");

	/* A root that is a file, or lies under one. */
	file = lwt_write_file(e->dir, "plain", "not a directory");
	assert_int_equal(lw_store_open(&st, file, &o), LW_EIO);
	assert_message("plain");
	under = xasprintf("%s/sub", file);
	assert_int_equal(lw_store_open(&st, under, &o), LW_EIO);

	/* A database file that is not a database. */
	corrupt_dir = xasprintf("%s/corrupt", e->dir);
	assert_int_equal(mkdir(corrupt_dir, 0700), 0);
	free(lwt_write_file(corrupt_dir, "dock.db",
			    "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage "
			    "garbage garbage garbage garbage garbage garbage garbage garbage garbage garbage"));
	assert_int_equal(lw_store_open(&st, corrupt_dir, &o), LW_EINVALID);
	assert_message("not a usable SQLite database");

	/* Somebody else's database. */
	foreign_dir = xasprintf("%s/foreign", e->dir);
	assert_int_equal(mkdir(foreign_dir, 0700), 0);
	path = xasprintf("%s/dock.db", foreign_dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE payroll (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(lw_store_open(&st, foreign_dir, &o), LW_EINVALID);
	assert_message("not a dock database");

	/* No server there. */
	o.root = e->root;
	assert_int_equal(lw_store_open(&st, "postgresql://nobody@127.0.0.1:1/none", &o), LW_EIO);
	assert_message("cannot connect to PostgreSQL");
	assert_null(st);
	free(file);
	free(under);
	free(corrupt_dir);
	free(foreign_dir);
	free(path);
}

/* A server restart costs the call that meets it, not the handle. */
static void test_store_pg__reconnects_after_losing_the_server(void **state)
{
	env *e = *state;
	lw_store *st;
	int64_t pid;
	char *sql;
	size_t n;

	if (!pg_admin)
		skip();
	st = open_ok(e);
	assert_ok(add_pkg(NULL, st, e, 1, NULL, 0));
	assert_ok(lw__store_int(&pid, st, "SELECT pg_backend_pid()", NULL, 0));
	sql = xasprintf("SELECT pg_terminate_backend(%lld, 5000)", (long long)pid);
	pg_admin_exec(sql);
	free(sql);
	assert_int_equal(lw_store_count(&n, st, NULL), LW_EIO);
	assert_ok(lw_store_count(&n, st, NULL));
	assert_int_equal(n, 1);
	assert_ok(add_pkg(NULL, st, e, 2, NULL, 0));
	lw_store_free(st);
}

/* --- learnware records ------------------------------------------------------------------ */

static void test_store_add__records_copies_and_lists(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	lw_learnware_record r;
	lw_learnware_list l;
	char sha[LW_SHA256_HEX], *zip = make_zip(e, 77, 200000, sha), *stored, *got;
	size_t n;
	int64_t before = lw__store_now();

	in.owner = "alice";
	in.semantic_json = "{\"Name\": {\"Values\": \"a\"}}";
	in.zip_path = zip;
	assert_ok(lw_store_add(&r, st, &in));
	assert_string_equal(r.id, "00000001");
	assert_string_equal(r.owner, "alice");
	assert_string_equal(r.semantic_json, in.semantic_json);
	assert_string_equal(r.content_sha256, sha);
	assert_int_equal(r.status, LW_STATUS_WAITING);
	assert_int_equal(r.usability, LW_USABILITY_NONUSABLE);
	assert_true(r.created >= before && r.updated == r.created);
	assert_true(strncmp(r.zip_path, "files/learnwares/", 17) == 0);
	stored = xasprintf("%s/%s", e->root, r.zip_path);
	assert_non_null(got = file_sha(stored));
	assert_string_equal(got, sha);
	lw_learnware_record_dispose(&r);

	for (uint64_t s = 1; s <= 6; s++) {
		assert_ok(add_pkg(&r, st, e, s, s % 2 ? "bob" : "carol", 0));
		lw_learnware_record_dispose(&r);
	}
	assert_ok(lw_store_list(&l, st, NULL));
	assert_int_equal(l.count, 7);
	for (size_t i = 0; i < l.count; i++) {
		char id[16];

		snprintf(id, sizeof(id), "%08d", (int)i + 1);
		assert_string_equal(l.items[i].id, id);
	}
	lw_learnware_list_dispose(&l);

	f.owner = "bob";
	assert_ok(lw_store_list(&l, st, &f));
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0].id, "00000002");
	lw_learnware_list_dispose(&l);
	assert_ok(lw_store_count(&n, st, &f));
	assert_int_equal(n, 3);

	f = (lw_learnware_filter)LW_LEARNWARE_FILTER_INIT;
	f.limit = 2;
	f.offset = 1;
	assert_ok(lw_store_list(&l, st, &f));
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0].id, "00000002");
	lw_learnware_list_dispose(&l);
	f.offset = 0;
	f.after_id = "00000005";
	assert_ok(lw_store_list(&l, st, &f));
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[1].id, "00000007");
	lw_learnware_list_dispose(&l);
	assert_ok(lw_store_count(&n, st, &f));
	assert_int_equal(n, 7); /* paging aside */

	assert_ok(lw_store_set_status(st, "00000003", LW_STATUS_SUCCESS, LW_USABILITY_USABLE));
	f = (lw_learnware_filter)LW_LEARNWARE_FILTER_INIT;
	f.usability = LW_USABILITY_USABLE;
	assert_ok(lw_store_count(&n, st, &f));
	assert_int_equal(n, 1);
	f.usability = LW_USABILITY_ANY;
	f.status = LW_STATUS_WAITING;
	assert_ok(lw_store_count(&n, st, &f));
	assert_int_equal(n, 6);

	assert_int_equal(lw_store_get(&r, st, "00000099"), LW_ENOTFOUND);
	assert_int_equal(lw_store_get(&r, st, "../etc"), LW_EINVALID);
	in.semantic_json = "{not json";
	assert_int_equal(lw_store_add(&r, st, &in), LW_EINVALID);
	in.semantic_json = "[1, 2]";
	assert_int_equal(lw_store_add(&r, st, &in), LW_EINVALID);
	in.semantic_json = "{}";
	in.zip_path = "/nonexistent/x.zip";
	assert_int_equal(lw_store_add(&r, st, &in), LW_ENOTFOUND);
	assert_consistent(st, e, 7);
	free(stored);
	free(got);
	free(zip);
	lw_store_free(st);
}

static void test_store_add__refuses_duplicate_content(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_learnware_record r;
	char *zip = make_zip(e, 5, 3000, NULL);

	in.semantic_json = "{}";
	in.zip_path = zip;
	assert_ok(lw_store_add(&r, st, &in));
	lw_learnware_record_dispose(&r);
	in.owner = "someone else";
	assert_int_equal(lw_store_add(&r, st, &in), LW_EEXISTS);
	assert_message("learnware 00000001 has the same content");
	assert_consistent(st, e, 1);
	assert_int_equal(count_files(e, "learnwares"), 1);

	/* Once the first is gone the content is welcome again, under a new id. */
	assert_ok(lw_store_delete(st, "00000001"));
	assert_ok(lw_store_add(&r, st, &in));
	assert_string_equal(r.id, "00000002");
	lw_learnware_record_dispose(&r);
	assert_consistent(st, e, 1);
	free(zip);
	lw_store_free(st);
}

static void test_store_ids__are_never_reused(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_record r;

	for (uint64_t s = 1; s <= 3; s++) {
		assert_ok(add_pkg(&r, st, e, s, NULL, 0));
		lw_learnware_record_dispose(&r);
	}
	assert_ok(lw_store_delete(st, "00000003"));
	assert_int_equal(add_pkg(&r, st, e, 1, NULL, 0), LW_EEXISTS);
	assert_ok(add_pkg(&r, st, e, 4, NULL, 0));
	assert_string_equal(r.id, "00000004");
	lw_learnware_record_dispose(&r);
	lw_store_free(st);

	st = open_ok(e);
	assert_ok(lw_store_delete(st, "00000004"));
	assert_ok(add_pkg(&r, st, e, 5, NULL, 0));
	assert_string_equal(r.id, "00000005");
	lw_learnware_record_dispose(&r);
	lw_store_free(st);
}

static int add_as(lw_learnware_record *out, lw_store *st, const env *e, uint64_t seed, const char *id)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	char *zip = make_zip(e, seed, 1000 + seed % 5000, NULL);
	int err;

	in.semantic_json = "{\"Name\": {\"Values\": \"test\", \"Type\": \"String\"}}";
	in.zip_path = zip;
	in.preferred_id = id;
	err = lw_store_add(out, st, &in);
	unlink(zip);
	free(zip);
	return err;
}

static void test_store_ids__preferred_id_only_when_never_given(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_record r;

	/* A fresh store takes the ids an import brings, gaps included. */
	assert_ok(add_as(&r, st, e, 1, "00000002"));
	assert_string_equal(r.id, "00000002");
	lw_learnware_record_dispose(&r);
	assert_ok(add_as(&r, st, e, 2, "00000007"));
	assert_string_equal(r.id, "00000007");
	lw_learnware_record_dispose(&r);
	/* The counter moved past them. */
	assert_ok(add_pkg(&r, st, e, 3, NULL, 0));
	assert_string_equal(r.id, "00000008");
	lw_learnware_record_dispose(&r);
	/* An id given before (or below the counter) is never given again. */
	assert_ok(lw_store_delete(st, "00000007"));
	assert_ok(add_as(&r, st, e, 4, "00000007"));
	assert_string_equal(r.id, "00000009");
	lw_learnware_record_dispose(&r);
	assert_ok(add_as(&r, st, e, 5, "00000001"));
	assert_string_equal(r.id, "00000010");
	lw_learnware_record_dispose(&r);
	/* Not an id: ignored. */
	assert_ok(add_as(&r, st, e, 6, "x12"));
	assert_string_equal(r.id, "00000011");
	lw_learnware_record_dispose(&r);
	lw_store_free(st);
}

static void test_store_update__semantic_keeps_status_new_zip_requeues(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_store_spec spec = { NULL, "RKMETableSpecification", 3, "{\"new\": 1}", 0 };
	lw_learnware_record r, r2;
	lw_job_record j;
	char sha[LW_SHA256_HEX], *zip = make_zip(e, 900, 5000, sha), *old_path, *json;

	assert_ok(add_pkg(&r, st, e, 1, "o", 0));
	assert_ok(add_pkg(&r2, st, e, 2, "o", 0));
	assert_ok(lw_store_set_status(st, r.id, LW_STATUS_SUCCESS, LW_USABILITY_USABLE));

	assert_ok(lw_store_update_semantic(st, r.id, "{\"Name\": {\"Values\": \"renamed\"}}"));
	lw_learnware_record_dispose(&r);
	assert_ok(lw_store_get(&r, st, "00000001"));
	assert_string_equal(r.semantic_json, "{\"Name\": {\"Values\": \"renamed\"}}");
	assert_int_equal(r.status, LW_STATUS_SUCCESS);
	assert_int_equal(r.usability, LW_USABILITY_USABLE);
	assert_int_equal(lw_store_update_semantic(st, r.id, "nope"), LW_EINVALID);
	assert_int_equal(lw_store_update_semantic(st, "00000042", "{}"), LW_ENOTFOUND);

	old_path = xasprintf("%s/%s", e->root, r.zip_path);
	in.zip_path = zip;
	in.specs = &spec;
	in.nspecs = 1;
	in.enqueue = 1;
	lw_learnware_record_dispose(&r);
	assert_ok(lw_store_replace_zip(&r, st, "00000001", &in));
	assert_string_equal(r.content_sha256, sha);
	assert_string_equal(r.semantic_json, "{\"Name\": {\"Values\": \"renamed\"}}");
	assert_int_equal(r.status, LW_STATUS_QUEUED);
	assert_int_equal(r.usability, LW_USABILITY_NONUSABLE);
	assert_true(access(old_path, F_OK) != 0);
	assert_ok(lw_store_job_latest(&j, st, "00000001"));
	assert_int_equal(j.state, LW_JOB_QUEUED);
	lw_job_record_dispose(&j);
	assert_ok(lw_store_spec_get(&json, st, "00000001", "RKMETableSpecification"));
	assert_string_equal(json, "{\"new\": 1}");
	free(json);

	/* The same content again, or another learnware's, is a duplicate. */
	assert_int_equal(lw_store_replace_zip(NULL, st, "00000001", &in), LW_EEXISTS);
	lw_learnware_record_dispose(&r);
	assert_ok(lw_store_get(&r, st, "00000001"));
	assert_string_equal(r.content_sha256, sha);
	assert_int_equal(lw_store_replace_zip(NULL, st, "00000077", &in), LW_EEXISTS);
	free(zip);
	zip = make_zip(e, 901, 10, NULL);
	in.zip_path = zip;
	assert_int_equal(lw_store_replace_zip(NULL, st, "00000077", &in), LW_ENOTFOUND);
	assert_consistent(st, e, 2);
	lw_learnware_record_dispose(&r);
	lw_learnware_record_dispose(&r2);
	free(old_path);
	free(zip);
	lw_store_free(st);
}

static void test_store_delete__removes_row_file_specs_and_jobs(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_store_spec spec = { NULL, "RKMETableSpecification", 4, "{}", 0 };
	lw_learnware_record r;
	lw_job_record j;
	size_t counts[LW_JOB_NSTATES];
	char *json, *path;

	assert_ok(add_pkg(&r, st, e, 1, NULL, 1));
	assert_ok(lw_store_spec_put(st, r.id, &spec));
	path = xasprintf("%s/%s", e->root, r.zip_path);
	assert_ok(lw_store_delete(st, r.id));
	lw_learnware_record_dispose(&r);
	assert_int_equal(lw_store_get(&r, st, "00000001"), LW_ENOTFOUND);
	assert_true(access(path, F_OK) != 0);
	assert_int_equal(lw_store_spec_get(&json, st, "00000001", "RKMETableSpecification"), LW_ENOTFOUND);
	assert_int_equal(lw_store_job_latest(&j, st, "00000001"), LW_ENOTFOUND);
	assert_ok(lw_store_job_count(counts, st));
	assert_int_equal(counts[LW_JOB_QUEUED], 0);
	assert_int_equal(lw_store_delete(st, "00000001"), LW_ENOTFOUND);
	assert_int_equal(lw_store_delete(st, "1; DROP TABLE learnwares"), LW_EINVALID);
	assert_int_equal(lw_store_spec_put(st, "00000001", &spec), LW_ENOTFOUND);
	assert_consistent(st, e, 0);
	lw_learnware_record_dispose(&r);
	free(path);
	lw_store_free(st);
}

/* Markers are settled by every open; a full sweep also finds strays nobody marked. */
static void test_store_sweep__markers_always_strays_on_request(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	char *lwd = xasprintf("%s/files/learnwares", e->root), *tmp = xasprintf("%s/files/tmp", e->root);
	size_t n;

	assert_ok(add_pkg(NULL, st, e, 1, NULL, 0));
	free(lwt_write_file(lwd, "00000000deadbeef.zip", "stray"));
	free(lwt_write_file(tmp, "0123456789abcdef.zip", "half a cop"));
	assert_ok(lw_store_sweep(&n, st, 0));
	assert_int_equal(n, 1);
	assert_int_equal(count_dir(tmp), 0);
	assert_int_equal(count_dir(lwd), 2);
	assert_ok(lw_store_sweep(&n, st, 1));
	assert_int_equal(n, 1);
	assert_consistent(st, e, 1);
	free(lwd);
	free(tmp);
	lw_store_free(st);
}

/* --- specifications --------------------------------------------------------------------- */

typedef struct {
	lw_store *st;
	size_t n, stop_at;
	char last[64];
	bool ordered;
} walk;

static int count_specs(const lw_store_spec *s, void *payload)
{
	walk *w = payload;
	lw_learnware_record r;
	char key[64];

	/* The walk pages, so the store may be used from inside it. */
	if (lw_store_get(&r, w->st, s->learnware_id) != 0)
		return -99;
	lw_learnware_record_dispose(&r);
	snprintf(key, sizeof(key), "%s/%s", s->learnware_id, s->type);
	if (w->n && strcmp(key, w->last) <= 0)
		w->ordered = false;
	scopy(w->last, sizeof(w->last), key);
	assert_int_equal(strlen(s->json), s->len);
	return ++w->n == w->stop_at ? 7 : 0;
}

static void test_store_specs__stored_with_learnware_and_walked(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_store_spec specs[2] = { { NULL, "RKMETableSpecification", 10, "{\"d\": 10}", 0 },
				   { NULL, "RKMETextSpecification", 384, "{\"d\": 384}", 0 } };
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_spec_filter f = LW_SPEC_FILTER_INIT;
	walk w = { st, 0, 0, "", true };
	char *zip, *json;

	for (uint64_t s = 1; s <= 4; s++) {
		zip = make_zip(e, s, 100, NULL);
		in.semantic_json = "{}";
		in.zip_path = zip;
		in.specs = specs;
		in.nspecs = s == 4 ? 1 : 2;
		specs[0].dim = s == 3 ? 20 : 10;
		assert_ok(lw_store_add(NULL, st, &in));
		free(zip);
	}
	f.type = "RKMETableSpecification";
	f.dim = 10;
	assert_ok(lw_store_foreach_spec(st, &f, count_specs, &w));
	assert_int_equal(w.n, 3);
	f.usable_only = 1;
	w.n = 0;
	assert_ok(lw_store_foreach_spec(st, &f, count_specs, &w));
	assert_int_equal(w.n, 0);
	assert_ok(lw_store_set_status(st, "00000002", LW_STATUS_SUCCESS, LW_USABILITY_USABLE));
	assert_ok(lw_store_foreach_spec(st, &f, count_specs, &w));
	assert_int_equal(w.n, 1);
	assert_string_equal(w.last, "00000002/RKMETableSpecification");

	/* Replace one in place, then page through more than a page of specifications. */
	specs[0].json = "{\"d\": 10, \"v\": 2}";
	assert_ok(lw_store_spec_put(st, "00000001", &specs[0]));
	assert_ok(lw_store_spec_get(&json, st, "00000001", "RKMETableSpecification"));
	assert_string_equal(json, specs[0].json);
	free(json);
	for (int i = 0; i < 600; i++) {
		char type[32];
		lw_store_spec s = { NULL, type, 5, "{}", 0 };

		snprintf(type, sizeof(type), "T%03d", i);
		assert_ok(lw_store_spec_put(st, i % 2 ? "00000003" : "00000004", &s));
	}
	f = (lw_spec_filter)LW_SPEC_FILTER_INIT;
	w = (walk){ st, 0, 0, "", true };
	assert_ok(lw_store_foreach_spec(st, &f, count_specs, &w));
	assert_int_equal(w.n, 607);
	assert_true(w.ordered);
	w = (walk){ st, 0, 300, "", true };
	assert_int_equal(lw_store_foreach_spec(st, &f, count_specs, &w), 7);
	assert_int_equal(w.n, 300);
	assert_int_equal(lw_store_spec_get(&json, st, "00000004", "RKMETextSpecification"), LW_ENOTFOUND);
	lw_store_free(st);
}

/* --- users, tokens, events ------------------------------------------------------------- */

static void test_store_users__unique_email_roles_and_deletion(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_token_record t = { 0, "h1", 0, "cli", LW_TOKEN_API, 0, 0 };
	lw_token_record found;
	lw_user_record u;
	lw_user_list l;
	int64_t a, b, c;

	assert_ok(lw_store_user_add(&a, st, "Alice@Example.org", "Alice", "$argon2id$x", LW_ROLE_ADMIN));
	assert_ok(lw_store_user_add(&b, st, "bob@example.org", NULL, "$argon2id$y", LW_ROLE_USER));
	assert_true(b > a);
	assert_int_equal(lw_store_user_add(&c, st, "ALICE@example.ORG", "x", "h", LW_ROLE_USER), LW_EEXISTS);
	assert_int_equal(lw_store_user_add(&c, st, "eve@example.org", "x", "h", 7), LW_EINVALID);

	assert_ok(lw_store_user_find(&u, st, "alice@EXAMPLE.org"));
	assert_int_equal(u.id, a);
	assert_string_equal(u.email, "alice@example.org");
	assert_string_equal(u.name, "Alice");
	assert_string_equal(u.password_hash, "$argon2id$x");
	assert_int_equal(u.role, LW_ROLE_ADMIN);
	assert_true(u.created > 0);
	lw_user_record_dispose(&u);

	assert_ok(lw_store_user_set_password(st, b, "$argon2id$z"));
	assert_ok(lw_store_user_set_role(st, b, LW_ROLE_ADMIN));
	assert_ok(lw_store_user_get(&u, st, b));
	assert_string_equal(u.password_hash, "$argon2id$z");
	assert_string_equal(u.name, "");
	assert_int_equal(u.role, LW_ROLE_ADMIN);
	lw_user_record_dispose(&u);
	assert_int_equal(lw_store_user_set_role(st, 999, LW_ROLE_USER), LW_ENOTFOUND);
	assert_int_equal(lw_store_user_find(&u, st, "nobody@example.org"), LW_ENOTFOUND);

	assert_ok(lw_store_user_list(&l, st, 1, 0));
	assert_int_equal(l.count, 1);
	assert_int_equal(l.items[0].id, b);
	lw_user_list_dispose(&l);

	/* Deleting a user takes their tokens; their id is not handed out again. */
	t.user_id = b;
	assert_ok(lw_store_token_add(NULL, st, &t));
	assert_ok(lw_store_user_delete(st, b));
	assert_int_equal(lw_store_token_find(&found, st, "h1", lw__store_now()), LW_ENOTFOUND);
	assert_int_equal(lw_store_user_get(&u, st, b), LW_ENOTFOUND);
	assert_int_equal(lw_store_user_delete(st, b), LW_ENOTFOUND);
	assert_ok(lw_store_user_add(&c, st, "carol@example.org", "", "h", LW_ROLE_USER));
	assert_true(c > b);
	lw_store_free(st);
}

static void test_store_tokens__found_by_hash_until_expired_or_revoked(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	int64_t now = lw__store_now(), u1, u2, s1, s2, api;
	lw_token_record t = { 0, NULL, 0, NULL, LW_TOKEN_SESSION, 0, 0 }, got;
	lw_token_list l;
	size_t n;

	assert_ok(lw_store_user_add(&u1, st, "a@x", "", "h", LW_ROLE_USER));
	assert_ok(lw_store_user_add(&u2, st, "b@x", "", "h", LW_ROLE_USER));
	t.user_id = u1;
	t.hash = "sess-1";
	t.expires = now + 3600 * 1000;
	assert_ok(lw_store_token_add(&s1, st, &t));
	t.hash = "sess-old";
	t.expires = now - 1000;
	assert_ok(lw_store_token_add(&s2, st, &t));
	t.hash = "api-1";
	t.name = "laptop";
	t.kind = LW_TOKEN_API;
	t.expires = 0;
	assert_ok(lw_store_token_add(&api, st, &t));
	assert_int_equal(lw_store_token_add(NULL, st, &t), LW_EEXISTS);
	t.hash = "orphan";
	t.user_id = 4242;
	assert_int_equal(lw_store_token_add(NULL, st, &t), LW_ENOTFOUND);

	assert_ok(lw_store_token_find(&got, st, "sess-1", now));
	assert_int_equal(got.id, s1);
	assert_int_equal(got.user_id, u1);
	assert_int_equal(got.kind, LW_TOKEN_SESSION);
	lw_token_record_dispose(&got);
	assert_int_equal(lw_store_token_find(&got, st, "sess-old", now), LW_ENOTFOUND);
	assert_ok(lw_store_token_find(&got, st, "api-1", now + 1000LL * 86400 * 3650));
	assert_string_equal(got.name, "laptop");
	lw_token_record_dispose(&got);

	assert_ok(lw_store_token_list(&l, st, u1));
	assert_int_equal(l.count, 3);
	assert_int_equal(l.items[0].id, api);
	lw_token_list_dispose(&l);

	assert_int_equal(lw_store_token_revoke(st, api, u2), LW_ENOTFOUND);
	assert_ok(lw_store_token_revoke(st, api, u1));
	assert_int_equal(lw_store_token_find(&got, st, "api-1", now), LW_ENOTFOUND);
	assert_ok(lw_store_token_purge(&n, st, now));
	assert_int_equal(n, 1);
	assert_ok(lw_store_token_revoke_user(&n, st, u1, LW_TOKEN_API));
	assert_int_equal(n, 0);
	assert_ok(lw_store_token_revoke_user(&n, st, u1, -1));
	assert_int_equal(n, 1);
	assert_int_equal(lw_store_token_find(&got, st, "sess-1", now), LW_ENOTFOUND);
	(void)s2;
	lw_store_free(st);
}

static void test_store_events__append_only_newest_first(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_event_filter f = LW_EVENT_FILTER_INIT;
	lw_event_list l;
	int64_t ids[5];

	assert_ok(lw_store_event_append(&ids[0], st, "1", "user.login", NULL, NULL));
	assert_ok(lw_store_event_append(&ids[1], st, "1", "learnware.add", "00000001", "{\"size\": 12}"));
	assert_ok(lw_store_event_append(&ids[2], st, "2", "learnware.add", "00000002", "{}"));
	assert_ok(lw_store_event_append(&ids[3], st, "system", "learnware.check", "00000001", "\"ok\""));
	assert_int_equal(lw_store_event_append(&ids[4], st, "1", "x", NULL, "{broken"), LW_EINVALID);
	assert_int_equal(lw_store_event_append(&ids[4], st, "1", "", NULL, NULL), LW_EINVALID);

	assert_ok(lw_store_event_list(&l, st, NULL));
	assert_int_equal(l.count, 4);
	assert_int_equal(l.items[0].id, ids[3]);
	assert_string_equal(l.items[0].actor, "system");
	assert_string_equal(l.items[0].detail_json, "\"ok\"");
	assert_null(l.items[3].learnware_id);
	assert_true(l.items[3].time > 0);
	lw_event_list_dispose(&l);

	f.learnware_id = "00000001";
	assert_ok(lw_store_event_list(&l, st, &f));
	assert_int_equal(l.count, 2);
	lw_event_list_dispose(&l);
	f = (lw_event_filter)LW_EVENT_FILTER_INIT;
	f.actor = "1";
	f.before_id = ids[1];
	assert_ok(lw_store_event_list(&l, st, &f));
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0].kind, "user.login");
	lw_event_list_dispose(&l);

	/* The log cannot be rewritten, even with SQL. */
	assert_int_not_equal(lw__store_exec(NULL, st, "UPDATE events SET kind = 'forged'", NULL, 0), 0);
	assert_message("append-only");
	assert_int_not_equal(lw__store_exec(NULL, st, "DELETE FROM events", NULL, 0), 0);
	lw_store_free(st);
}

static size_t gather(int fd, pid_t *pids, int n, char lines[][128], size_t max);

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A child process that opens its own handle, waits for a byte on go, then
 * delay_ms, appends one event and writes its id to fd ("X message" on
 * failure).  Fork it before this process opens the store: SQLite's lock
 * bookkeeping must not be copied into a child.
 */
static pid_t append_later(const env *e, int go, int fd, int delay_ms)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		lw_store *st = NULL;
		int64_t id = 0;
		char line[1200], c;
		int n;

		if (lw_store_open(&st, e->url, &e->o) == 0 && read(go, &c, 1) == 1) {
			poll(NULL, 0, delay_ms);
			if (lw_store_event_append(&id, st, "child", "test.later", NULL, NULL) != 0)
				id = 0;
		}
		n = id ? snprintf(line, sizeof(line), "%lld\n", (long long)id)
		       : snprintf(line, sizeof(line), "X %s\n", lw_error_last()->message);
		if (write(fd, line, (size_t)n) != n)
			_exit(2);
		_exit(0);
	}
	return pid;
}

/* The id the child wrote; its exit status checked. */
static int64_t child_id(int fd, pid_t pid)
{
	char lines[1][128];

	assert_int_equal(gather(fd, &pid, 1, lines, 1), 1);
	return strtoll(lines[0], NULL, 10);
}

static void test_store_events__newest_and_wait_for_a_new_one(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	int64_t newest = -1, id = 0, t0, other;
	int fds[2], go[2];
	pid_t pid;

	lw_store_free(st);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(go), 0);
	pid = append_later(e, go[0], fds[1], 300);
	close(fds[1]);
	close(go[0]);
	st = open_ok(e);
	assert_ok(lw_store_event_newest(&newest, st));
	assert_int_equal(newest, 0);
	/* Nothing yet: 0 after the timeout, and 0 at once with no timeout. */
	t0 = mono_ms();
	assert_int_equal(lw_store_wait_event(st, 0, 150), 0);
	assert_true(mono_ms() - t0 >= 140);
	assert_int_equal(lw_store_wait_event(st, 0, 0), 0);
	assert_int_equal(lw_store_wait_event(st, 0, -1), LW_EINVALID);
	assert_message("negative");

	assert_ok(lw_store_event_append(&id, st, "1", "test.first", NULL, NULL));
	assert_ok(lw_store_event_newest(&newest, st));
	assert_int_equal(newest, id);
	/* An event that is there already answers at once; ours does not count as newer than itself. */
	assert_int_equal(lw_store_wait_event(st, id - 1, 0), 1);
	assert_int_equal(lw_store_wait_event(st, id, 100), 0);

	/* Another process appends 300 ms from now: the wait wakes well before its 10 s. */
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	t0 = mono_ms();
	assert_int_equal(lw_store_wait_event(st, id, 10000), 1);
	if (mono_ms() - t0 > 3000)
		fail_msg("woke after %lld ms", (long long)(mono_ms() - t0));
	other = child_id(fds[0], pid);
	assert_true(other > id);
	assert_ok(lw_store_event_newest(&newest, st));
	assert_int_equal(newest, other);
	assert_int_equal(lw_store_wait_event(st, other, 0), 0);
	lw_store_free(st);
}

/*
 * A reader that saw event N must later find every event below N: an append
 * that draws its id while an older one is still uncommitted waits for it.
 */
static void test_store_events__ids_become_visible_in_order(void **state)
{
	env *e = *state;
	lw_store *a = open_ok(e), *reader;
	int64_t held = 0, newest = -1, later;
	int fds[2], go[2];
	pid_t pid;

	lw_store_free(a);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(go), 0);
	pid = append_later(e, go[0], fds[1], 0);
	close(fds[1]);
	close(go[0]);
	a = open_ok(e);
	reader = open_ok(e);
	assert_ok(lw_store_event_append(NULL, a, "a", "test.before", NULL, NULL));
	assert_ok(lw__store_begin(a));
	assert_ok(lw_store_event_append(&held, a, "a", "test.held", NULL, NULL));
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	/* The other append has had time to run; nothing past the uncommitted id shows. */
	poll(NULL, 0, 400);
	assert_ok(lw_store_event_newest(&newest, reader));
	assert_true(newest < held);
	assert_ok(lw__store_commit(a));
	later = child_id(fds[0], pid);
	assert_true(later > held);
	assert_ok(lw_store_event_newest(&newest, reader));
	assert_int_equal(newest, later);
	lw_store_free(reader);
	lw_store_free(a);
}

/* --- jobs -------------------------------------------------------------------------- */

static int status_of(lw_store *st, const char *id, int *usability)
{
	lw_learnware_record r;
	int s;

	assert_ok(lw_store_get(&r, st, id));
	s = r.status;
	if (usability)
		*usability = r.usability;
	lw_learnware_record_dispose(&r);
	return s;
}

static void test_store_jobs__claim_heartbeat_finish(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_record r;
	lw_job_record j, k, none;
	size_t counts[LW_JOB_NSTATES];
	int64_t id2, again;
	int usability;

	assert_ok(add_pkg(&r, st, e, 1, NULL, 1));
	assert_int_equal(r.status, LW_STATUS_QUEUED);
	lw_learnware_record_dispose(&r);
	assert_ok(add_pkg(&r, st, e, 2, NULL, 0));
	assert_ok(lw_store_job_enqueue(&id2, st, r.id));
	assert_ok(lw_store_job_enqueue(&again, st, r.id));
	assert_int_equal(again, id2);
	assert_int_equal(lw_store_job_enqueue(NULL, st, "00000404"), LW_ENOTFOUND);
	lw_learnware_record_dispose(&r);

	assert_ok(lw_store_job_claim(&j, st, "w1"));
	assert_string_equal(j.learnware_id, "00000001");
	assert_int_equal(j.state, LW_JOB_RUNNING);
	assert_string_equal(j.worker, "w1");
	assert_int_equal(j.attempts, 1);
	assert_true(j.started > 0 && j.heartbeat == j.started);
	assert_int_equal(status_of(st, "00000001", NULL), LW_STATUS_PROCESSING);
	assert_ok(lw_store_job_claim(&k, st, "w2"));
	assert_int_equal(k.id, id2);
	assert_int_equal(lw_store_job_claim(&none, st, "w3"), LW_ENOTFOUND);

	assert_ok(lw_store_job_heartbeat(st, j.id, "w1"));
	assert_int_equal(lw_store_job_heartbeat(st, j.id, "w2"), LW_ENOTFOUND);
	assert_ok(lw_store_job_count(counts, st));
	assert_int_equal(counts[LW_JOB_RUNNING], 2);
	assert_ok(lw_store_job_finish(st, j.id, "w1", 1, LW_USABILITY_USABLE, "all checks passed\n"));
	assert_int_equal(status_of(st, "00000001", &usability), LW_STATUS_SUCCESS);
	assert_int_equal(usability, LW_USABILITY_USABLE);
	assert_int_equal(lw_store_job_finish(st, j.id, "w1", 1, 1, "twice"), LW_ENOTFOUND);
	assert_int_equal(lw_store_job_heartbeat(st, j.id, "w1"), LW_ENOTFOUND);
	assert_ok(lw_store_job_finish(st, id2, "w2", 0, LW_USABILITY_NONUSABLE, "model crashed"));
	assert_int_equal(status_of(st, "00000002", &usability), LW_STATUS_FAILED);
	assert_int_equal(usability, LW_USABILITY_INVALID);

	lw_job_record_dispose(&j);
	assert_ok(lw_store_job_latest(&j, st, "00000001"));
	assert_int_equal(j.state, LW_JOB_DONE);
	assert_string_equal(j.log, "all checks passed\n");
	assert_true(j.finished >= j.started);
	lw_job_record_dispose(&j);
	assert_ok(lw_store_job_get(&j, st, id2));
	assert_int_equal(j.state, LW_JOB_FAILED);
	assert_ok(lw_store_job_count(counts, st));
	assert_int_equal(counts[LW_JOB_DONE], 1);
	assert_int_equal(counts[LW_JOB_FAILED], 1);
	assert_int_equal(counts[LW_JOB_RUNNING] + counts[LW_JOB_QUEUED], 0);
	lw_job_record_dispose(&j);
	lw_job_record_dispose(&k);
	lw_store_free(st);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void test_store_jobs__silent_worker_is_requeued(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_record r;
	lw_job_record j, k;
	size_t n;
	int usability;

	assert_ok(add_pkg(&r, st, e, 1, NULL, 1));
	lw_learnware_record_dispose(&r);
	assert_ok(lw_store_job_claim(&j, st, "dead-worker"));
	assert_ok(lw_store_job_requeue_stale(&n, st, 60000, 0));
	assert_int_equal(n, 0);
	sleep_ms(30);
	assert_ok(lw_store_job_requeue_stale(&n, st, 10, 0));
	assert_int_equal(n, 1);
	assert_int_equal(status_of(st, "00000001", NULL), LW_STATUS_QUEUED);
	assert_int_equal(lw_store_job_heartbeat(st, j.id, "dead-worker"), LW_ENOTFOUND);
	assert_int_equal(lw_store_job_finish(st, j.id, "dead-worker", 1, 1, ""), LW_ENOTFOUND);

	assert_ok(lw_store_job_claim(&k, st, "w2"));
	assert_int_equal(k.id, j.id);
	assert_int_equal(k.attempts, 2);
	lw_job_record_dispose(&k);
	sleep_ms(30);
	/* Two claims and no word: the job is given up, not retried for ever. */
	assert_ok(lw_store_job_requeue_stale(&n, st, 10, 2));
	assert_int_equal(n, 1);
	assert_ok(lw_store_job_get(&k, st, j.id));
	assert_int_equal(k.state, LW_JOB_FAILED);
	assert_non_null(strstr(k.log, "stopped responding"));
	assert_int_equal(status_of(st, "00000001", &usability), LW_STATUS_FAILED);
	assert_int_equal(usability, LW_USABILITY_INVALID);
	lw_job_record_dispose(&j);
	lw_job_record_dispose(&k);
	lw_store_free(st);
}

static void test_store_jobs__new_zip_cancels_the_running_check(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_learnware_record r;
	lw_job_record j, k;
	char *zip = make_zip(e, 4444, 100, NULL);

	assert_ok(add_pkg(&r, st, e, 1, NULL, 1));
	assert_ok(lw_store_job_claim(&j, st, "w1"));
	in.zip_path = zip;
	in.enqueue = 1;
	assert_ok(lw_store_replace_zip(NULL, st, r.id, &in));
	assert_int_equal(lw_store_job_finish(st, j.id, "w1", 1, LW_USABILITY_USABLE, "stale"), LW_ENOTFOUND);
	assert_int_equal(status_of(st, r.id, NULL), LW_STATUS_QUEUED);
	assert_ok(lw_store_job_get(&k, st, j.id));
	assert_int_equal(k.state, LW_JOB_CANCELLED);
	lw_job_record_dispose(&k);
	assert_ok(lw_store_job_claim(&k, st, "w2"));
	assert_true(k.id > j.id);
	assert_string_equal(k.learnware_id, r.id);
	lw_job_record_dispose(&j);
	lw_job_record_dispose(&k);
	lw_learnware_record_dispose(&r);
	free(zip);
	lw_store_free(st);
}

/* --- several processes ------------------------------------------------------------------- */

/* Children report through a pipe and never return into cmocka. */
static void child_fail(int fd, const char *what)
{
	dprintf(fd, "X %s: %s\n", what, lw_error_last()->message);
	_exit(3);
}

static void claim_loop(const env *e, int fd, int worker)
{
	char name[32];
	lw_store *st;
	lw_job_record j;
	int err;

	snprintf(name, sizeof(name), "worker-%d", worker);
	if (lw_store_open(&st, e->url, &e->o) != 0)
		child_fail(fd, "open");
	while ((err = lw_store_job_claim(&j, st, name)) == 0) {
		dprintf(fd, "%lld\n", (long long)j.id);
		if (lw_store_job_finish(st, j.id, name, 1, LW_USABILITY_USABLE, name) != 0)
			child_fail(fd, "finish");
		lw_job_record_dispose(&j);
	}
	if (err != LW_ENOTFOUND)
		child_fail(fd, "claim");
	lw_store_free(st);
	_exit(0);
}

/* Read the children's lines and reap them; fails on any child's error. */
static size_t gather(int fd, pid_t *pids, int n, char lines[][128], size_t max)
{
	FILE *f = fdopen(fd, "r");
	size_t count = 0;
	char line[256];

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == 'X')
			fail_msg("child: %s", line);
		if (count < max)
			scopy(lines[count], 128, line);
		count++;
	}
	fclose(f);
	for (int i = 0; i < n; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	return count;
}

#define NJOBS 60
#define NWORKERS 4

static void test_store_jobs__concurrent_claims_never_share_a_job(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	static char lines[NJOBS * 2][128];
	int seen[NJOBS + 1] = { 0 }, fds[2];
	pid_t pids[NWORKERS];
	size_t n, counts[LW_JOB_NSTATES];

	for (uint64_t s = 1; s <= NJOBS; s++)
		assert_ok(add_pkg(NULL, st, e, s, NULL, 1));
	lw_store_free(st);
	assert_int_equal(pipe(fds), 0);
	for (int w = 0; w < NWORKERS; w++) {
		assert_true((pids[w] = fork()) >= 0);
		if (pids[w] == 0) {
			close(fds[0]);
			claim_loop(e, fds[1], w);
		}
	}
	close(fds[1]);
	n = gather(fds[0], pids, NWORKERS, lines, NJOBS * 2);
	assert_int_equal(n, NJOBS);
	for (size_t i = 0; i < n; i++) {
		long id = strtol(lines[i], NULL, 10);

		assert_true(id >= 1 && id <= NJOBS);
		if (seen[id]++)
			fail_msg("job %ld was claimed twice", id);
	}
	st = open_ok(e);
	assert_ok(lw_store_job_count(counts, st));
	assert_int_equal(counts[LW_JOB_DONE], NJOBS);
	lw_store_free(st);
}

static void add_loop(const env *e, int fd, int who)
{
	lw_store *st;
	lw_learnware_record r;

	if (lw_store_open(&st, e->url, &e->o) != 0)
		child_fail(fd, "open");
	for (int i = 0; i < 10; i++) {
		if (add_pkg(&r, st, e, (uint64_t)(1000 * (who + 1) + i), NULL, 0) != 0)
			child_fail(fd, "add");
		dprintf(fd, "%s\n", r.id);
		lw_learnware_record_dispose(&r);
	}
	lw_store_free(st);
	_exit(0);
}

static void test_store_add__concurrent_processes_get_distinct_ids(void **state)
{
	env *e = *state;
	static char lines[64][128];
	pid_t pids[3];
	int fds[2];
	lw_store *st = open_ok(e);

	lw_store_free(st);
	assert_int_equal(pipe(fds), 0);
	for (int w = 0; w < 3; w++) {
		assert_true((pids[w] = fork()) >= 0);
		if (pids[w] == 0) {
			close(fds[0]);
			add_loop(e, fds[1], w);
		}
	}
	close(fds[1]);
	assert_int_equal(gather(fds[0], pids, 3, lines, 64), 30);
	for (int i = 0; i < 30; i++)
		for (int k = 0; k < i; k++)
			assert_string_not_equal(lines[i], lines[k]);
	st = open_ok(e);
	assert_consistent(st, e, 30);
	lw_store_free(st);
}

/* --- semantic search ------------------------------------------------------------------------ */

/* A learnware with this semantic specification, usable unless told otherwise; its id in id. */
static void add_sem(char id[16], lw_store *st, const env *e, uint64_t seed, const char *owner, const char *semantic,
		    bool usable)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	char *zip = make_zip(e, seed, 1000 + seed % 3000, NULL);
	lw_learnware_record r;

	in.owner = owner;
	in.semantic_json = semantic;
	in.zip_path = zip;
	assert_ok(lw_store_add(&r, st, &in));
	if (usable)
		assert_ok(lw_store_set_status(st, r.id, LW_STATUS_SUCCESS, LW_USABILITY_USABLE));
	if (id)
		scopy(id, 16, r.id);
	lw_learnware_record_dispose(&r);
	unlink(zip);
	free(zip);
}

/* A specification with a name, a description and more keys ("" for none). */
static char *sem(const char *name, const char *desc, const char *more)
{
	return xasprintf("{\"Name\": {\"Type\": \"String\", \"Values\": \"%s\"},"
			 " \"Description\": {\"Type\": \"String\", \"Values\": \"%s\"}%s%s}",
			 name, desc, *more ? ", " : "", more);
}

/* The ids a search finds, space-separated, with its scores' and stage's checks left to the caller. */
static char *found_with(lw_semantic_hits *h, lw_store *st, const char *user, const lw_semantic_search_options *o)
{
	char *s = calloc(1, 1);
	int err = lw_store_semantic_search(h, st, user, o);

	if (err != 0)
		fail_msg("search %s: %d %s", user, err, lw_error_last()->message);
	for (size_t i = 0; i < h->count; i++) {
		char *t = xasprintf("%s%s%s", s, i ? " " : "", h->ids[i]);

		free(s);
		s = t;
	}
	return s;
}

#define assert_found(st, user, o, expect)                                                        \
	do {                                                                                     \
		lw_semantic_hits h_;                                                             \
		char *got_ = found_with(&h_, (st), (user), (o));                                 \
		if (strcmp(got_, (expect)))                                                      \
			fail_msg("search %s found '%s', expected '%s'", (user), got_, (expect)); \
		free(got_);                                                                      \
		lw_semantic_hits_dispose(&h_);                                                   \
	} while (0)

/* A user specification: the keys given, as JSON members. */
#define USER(members) "{" members "}"
#define NAME(text) "\"Name\": {\"Type\": \"String\", \"Values\": \"" text "\"}"

/*
 * The reference's own test (test_hetero_workflow.py, test_search_semantics):
 * five learnwares named learnware_0..4, described test_learnware_number_0..4;
 * the exact name finds one, the misspelt "laernwaer" all five by fuzzy match.
 */
static void test_store_semsearch__reference_name_search(void **state)
{
	static const char tags[] = "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]},"
				   " \"Task\": {\"Type\": \"Class\", \"Values\": [\"Regression\"]},"
				   " \"Library\": {\"Type\": \"Class\", \"Values\": [\"Scikit-learn\"]},"
				   " \"License\": {\"Type\": \"Class\", \"Values\": [\"MIT\"]},"
				   " \"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"Education\"]}";
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_semantic_hits h;
	char ids[5][16], *user, *got;

	for (int i = 0; i < 5; i++) {
		char name[32], desc[64], *s;

		snprintf(name, sizeof(name), "learnware_%d", i);
		snprintf(desc, sizeof(desc), "test_learnware_number_%d", i);
		s = xasprintf("{%s, \"Name\": {\"Type\": \"String\", \"Values\": \"%s\"},"
			      " \"Description\": {\"Type\": \"String\", \"Values\": \"%s\"},"
			      " \"Input\": {\"Dimension\": 2, \"Description\": {\"0\": \"a\", \"1\": \"b\"}}}",
			      tags, name, desc);
		add_sem(ids[i], st, e, (uint64_t)i + 1, NULL, s, true);
		free(s);
	}
	user = xasprintf("{%s, " NAME("learnware_4") ", \"Description\": {\"Type\": \"String\", \"Values\": \"\"}}",
			 tags);
	got = found_with(&h, st, user, NULL);
	assert_string_equal(got, ids[4]);
	assert_int_equal(h.fuzzy, 0);
	assert_true(h.scores[0] == 1.0);
	lw_semantic_hits_dispose(&h);
	free(got);
	free(user);

	user = xasprintf("{%s, " NAME("laernwaer") "}", tags);
	got = found_with(&h, st, user, NULL);
	assert_int_equal(h.count, 5);
	assert_int_equal(h.fuzzy, 1);
	for (int i = 0; i < 5; i++) {
		/* max(partial_ratio to "learnware_i" (82.35...), to "test_learnware_number_i" (77.77...)); ties in id order */
		assert_string_equal(h.ids[i], ids[i]);
		assert_true(h.scores[i] == 82.35294117647058 / 100.0);
	}
	lw_semantic_hits_dispose(&h);
	free(got);
	free(user);

	/* A Task none of them has: nothing. */
	assert_found(st, USER("\"Task\": {\"Type\": \"Class\", \"Values\": [\"Segmentation\"]}, " NAME("learnware")),
		     NULL, "");
	lw_store_free(st);
}

static void test_store_semsearch__tag_filter_rules(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	char id[10][16], *s, *expect;
	static const char *const docs[] = {
		/* 0 */ "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]},"
			" \"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"Business\", \"Financial\"]}",
		/* 1 */ "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]},"
			" \"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"Health\"]}",
		/* 2: the first value decides a Class */
		"\"Data\": {\"Type\": \"Class\", \"Values\": [\"Text\", \"Table\"]}",
		/* 3: no Data, no Scenario: never filtered by them */
		"\"Task\": {\"Type\": \"Class\", \"Values\": [\"Regression\"]}",
		/* 4, 5, 6: Data there but empty (a list, a string, no Values at all) */
		"\"Data\": {\"Type\": \"Class\", \"Values\": []}",
		"\"Data\": {\"Type\": \"Class\", \"Values\": \"\"}",
		"\"Data\": {\"Type\": \"Class\"}",
		/* 7: a string where the list belongs is one value */
		"\"Data\": {\"Type\": \"Class\", \"Values\": \"Table\"},"
		" \"Scenario\": {\"Type\": \"Tag\", \"Values\": \"Nature\"}",
		/* 8: unreadable as a specification: its Data counts as empty */
		"\"Data\": 5",
		/* 9: the learnware's own Type does not matter, the user's does */
		"\"Data\": {\"Type\": \"Tag\", \"Values\": [\"Table\", \"Image\"]}",
	};

	for (int i = 0; i < 10; i++) {
		s = sem("n", "d", docs[i]);
		add_sem(id[i], st, e, (uint64_t)i + 1, NULL, s, true);
		free(s);
	}
	/* Class: the learnware's first value in the user's list; a learnware without the key passes. */
	expect = xasprintf("%s %s %s %s %s", id[0], id[1], id[3], id[7], id[9]);
	assert_found(st, USER("\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\", \"Image\"]}"), NULL, expect);
	free(expect);
	/* 9's first value is Table: asked for Image, it passes as a Tag, not as a Class. */
	expect = xasprintf("%s %s", id[1], id[3]);
	assert_found(st, USER("\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]}"), NULL, expect);
	free(expect);
	expect = xasprintf("%s %s %s", id[1], id[3], id[9]);
	assert_found(st, USER("\"Data\": {\"Type\": \"Tag\", \"Values\": [\"Image\"]}"), NULL, expect);
	free(expect);
	/* Tag: the lists share a value. */
	expect = xasprintf("%s %s %s %s %s %s %s %s", id[0], id[2], id[3], id[4], id[5], id[6], id[8], id[9]);
	assert_found(st, USER("\"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"Financial\", \"Agriculture\"]}"), NULL,
		     expect);
	free(expect);
	/* Any other Type only needs a non-empty value (as would a key without a Type). */
	expect = xasprintf("%s %s %s %s %s %s", id[0], id[1], id[2], id[3], id[7], id[9]);
	assert_found(st, USER("\"Data\": {\"Type\": \"String\", \"Values\": \"whatever\"}"), NULL, expect);
	assert_found(st, USER("\"Data\": {\"Values\": [\"whatever\"]}"), NULL, expect);
	free(expect);
	/* Keys are combined: both must pass. */
	expect = xasprintf("%s %s %s", id[0], id[3], id[9]);
	assert_found(st,
		     USER("\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]},"
			  " \"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"Business\"]}"),
		     NULL, expect);
	free(expect);
	/* Empty user Values, Input, Output and the user's Description filter nothing. */
	expect = xasprintf("%s %s %s %s %s %s %s %s %s %s", id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
			   id[8], id[9]);
	assert_found(st,
		     USER("\"Data\": {\"Type\": \"Class\", \"Values\": []}, \"Task\": {\"Type\": \"Class\", \"Values\": \"\"},"
			  " \"Description\": {\"Type\": \"String\", \"Values\": \"no learnware says this\"},"
			  " \"Input\": {\"Dimension\": 3}, " NAME("")),
		     NULL, expect);
	assert_found(st, "{}", NULL, expect);
	free(expect);
	lw_store_free(st);
}

static void test_store_semsearch__exact_name_stage(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	char id[6][16], *s, *expect, *big, *user;
	lw_semantic_hits h;

	s = sem("House Prices", "Ridge regression on the Boston data", "");
	add_sem(id[0], st, e, 1, NULL, s, true);
	free(s);
	s = sem("PRÉCIS İstanbul", "Ünïcödé \\\"quoted\\\" text * AND NEAR(x)", "");
	add_sem(id[1], st, e, 2, NULL, s, true);
	free(s);
	s = sem("learnware_4", "test_learnware_number_4", "");
	add_sem(id[2], st, e, 3, NULL, s, true);
	free(s);
	/* A description past 20,000 code points (PostgreSQL keeps no trigram vector for it). */
	big = malloc(30001);
	assert_non_null(big);
	for (int i = 0; i < 30000; i++)
		big[i] = "abcdefghij klmnop"[i % 17];
	memcpy(big + 29000, "needle in the haystack", 22);
	big[30000] = '\0';
	s = sem("long one", big, "");
	add_sem(id[3], st, e, 4, NULL, s, true);
	free(s);
	free(big);
	s = sem("hidden", "not usable", "");
	add_sem(id[4], st, e, 5, NULL, s, false);
	free(s);
	s = sem("", "", "");
	add_sem(id[5], st, e, 6, NULL, s, true);
	free(s);

	/* Case-insensitive substrings of the name or the description, across word boundaries. */
	assert_found(st, USER(NAME("house")), NULL, id[0]);
	assert_found(st, USER(NAME("E PRI")), NULL, id[0]);
	assert_found(st, USER(NAME("BOSTON")), NULL, id[0]);
	assert_found(st, USER(NAME("rnware_4")), NULL, id[2]);
	assert_found(st, USER(NAME("number_4")), NULL, id[2]);
	assert_found(st, USER(NAME("précis")), NULL, id[1]);
	assert_found(st, USER(NAME("ÜNÏCÖDÉ")), NULL, id[1]);
	assert_found(st, USER(NAME("i̇stanbul")), NULL, id[1]); /* Python lowers İ to i + U+0307 */
	/* Text the full-text syntax would read as operators is text. */
	assert_found(st, USER(NAME("\\\"quoted\\\"")), NULL, id[1]);
	assert_found(st, USER(NAME("* and near(x)")), NULL, id[1]);
	assert_found(st, USER(NAME("needle in the hay")), NULL, id[3]);
	/* One or two code points are below the index's reach: a scan finds them. */
	assert_found(st, USER(NAME("é")), NULL, id[1]);
	assert_found(st, USER(NAME("r_")), NULL, id[2]);
	/* Matches come in id order, each scored 1; the fuzzy stage does not run. */
	expect = xasprintf("%s %s", id[0], id[3]);
	s = found_with(&h, st, USER(NAME("on")), NULL);
	assert_string_equal(s, expect);
	free(s);
	assert_int_equal(h.fuzzy, 0);
	for (size_t i = 0; i < h.count; i++)
		assert_true(h.scores[i] == 1.0);
	lw_semantic_hits_dispose(&h);
	free(expect);
	/* A name longer than the index takes (over 1000 code points) is scanned for. */
	big = malloc(1300);
	assert_non_null(big);
	memset(big, 'z', 1299);
	big[1299] = '\0';
	user = xasprintf("{" NAME("%s") "}", big);
	assert_found(st, user, NULL, "");
	free(user);
	free(big);
	/* Only usable learnwares, unless asked. */
	assert_found(st, USER(NAME("not usable")), NULL, "");
	{
		lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;

		o.usable_only = 0;
		assert_found(st, USER(NAME("not usable")), &o, id[4]);
	}
	assert_consistent(st, e, 6);
	lw_store_free(st);
}

static void test_store_semsearch__fuzzy_stage(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
	char id[5][16], *s, *got, *expect;
	lw_semantic_hits h;

	/* Against "abcd": "abxd" scores exactly 75 (kept), "abyyd" 66.7 (dropped), "bcd" and "abc" 100 (whole). */
	s = sem("abxd", "", "");
	add_sem(id[0], st, e, 1, NULL, s, true);
	free(s);
	s = sem("abyyd", "", "");
	add_sem(id[1], st, e, 2, NULL, s, true);
	free(s);
	s = sem("other", "xbcd here", ""); /* the description's score counts: "xbcd" is 75 too */
	add_sem(id[2], st, e, 3, NULL, s, true);
	free(s);
	s = sem("bcd", "", ""); /* the shorter is the needle: "bcd" is all in "abcd" */
	add_sem(id[3], st, e, 4, NULL, s, true);
	free(s);
	s = sem("ABC", "", "");
	add_sem(id[4], st, e, 5, NULL, s, true);
	free(s);

	got = found_with(&h, st, USER(NAME("ABCD")), NULL);
	expect = xasprintf("%s %s %s %s", id[3], id[4], id[0], id[2]);
	assert_string_equal(got, expect);
	assert_int_equal(h.fuzzy, 1);
	assert_true(h.scores[0] == 1.0 && h.scores[1] == 1.0);
	assert_true(h.scores[2] == 0.75 && h.scores[3] == 0.75);
	lw_semantic_hits_dispose(&h);
	free(got);
	free(expect);

	/* The limit caps the fuzzy results, best first. */
	o.limit = 3;
	expect = xasprintf("%s %s %s", id[3], id[4], id[0]);
	assert_found(st, USER(NAME("abcd")), &o, expect);
	free(expect);
	/* ... but never the exact stage, as in the reference. */
	o.limit = 1;
	expect = xasprintf("%s %s %s %s %s", id[0], id[1], id[2], id[3], id[4]);
	assert_found(st, USER(NAME("b")), &o, expect);
	free(expect);
	/* Nothing close: fuzzy, and empty. */
	got = found_with(&h, st, USER(NAME("qqqqqqq")), NULL);
	assert_string_equal(got, "");
	assert_int_equal(h.fuzzy, 1);
	lw_semantic_hits_dispose(&h);
	free(got);
	lw_store_free(st);
}

static void test_store_semsearch__id_owner_and_usability(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
	char id[12][16], *s, *expect;

	s = sem("m", "", "");
	for (int i = 0; i < 12; i++)
		add_sem(id[i], st, e, (uint64_t)i + 1, i % 2 ? "bob" : "alice", s, i != 11);
	free(s);
	/* learnware_id is a part of the id: "1" is in 00000001, 00000010, 00000011 and 00000012 (not usable). */
	expect = xasprintf("%s %s %s", id[0], id[9], id[10]);
	assert_found(st, "{\"learnware_id\": \"1\"}", NULL, expect);
	assert_found(st, "{\"learnware_id\": {\"Values\": \"1\"}}", NULL, expect);
	o.learnware_id = "1";
	assert_found(st, "{}", &o, expect);
	free(expect);
	/* Both given: both hold. */
	assert_found(st, "{\"learnware_id\": \"10\"}", &o, id[9]);
	assert_found(st, "{\"learnware_id\": \"2\"}", &o, "");
	o.learnware_id = "";
	assert_found(st, "{\"learnware_id\": \"000000012\"}", &o, "");
	o.learnware_id = NULL;
	/* The owner, and the unusable learnware when asked for. */
	o.owner = "bob";
	o.usable_only = 0;
	expect = xasprintf("%s %s %s %s %s %s", id[1], id[3], id[5], id[7], id[9], id[11]);
	assert_found(st, USER(NAME("M")), &o, expect);
	free(expect);
	o.usable_only = 1;
	o.owner = "carol";
	assert_found(st, "{}", &o, "");
	lw_store_free(st);
}

static void expect_invalid(lw_store *st, const char *user, const char *needle)
{
	lw_semantic_hits h = { (char(*)[16])1, (double *)1, 7, 1 };

	assert_int_equal(lw_store_semantic_search(&h, st, user, NULL), LW_EINVALID);
	assert_message(needle);
	assert_null(h.ids);
	assert_int_equal(h.count, 0);
}

static void test_store_semsearch__bad_user_json_is_refused_precisely(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);

	expect_invalid(st, "{\"Name\": ", "user semantic specification: line 1, column");
	expect_invalid(st, "[1, 2]", "must be a JSON object such as {\"Name\"");
	expect_invalid(st, "{\"Name\": 1, \"Name\": 2}", "duplicate");
	expect_invalid(st, USER("\"Name\": {\"Type\": \"String\", \"Values\": [\"a\"]}"),
		       "Name: \"Values\" must be a string");
	expect_invalid(st, "{\"learnware_id\": 7}", "learnware_id must be a string or {\"Values\": \"...\"}");
	expect_invalid(st, "{\"learnware_id\": {\"Type\": \"String\"}}", "found an object without Values");
	expect_invalid(st, "{\"Data\": 5}", "Data");
	expect_invalid(st, "{\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\", null]}}",
		       "\"Values\"[1] must be a string");
	assert_int_equal(lw_store_semantic_search(NULL, st, "{}", NULL), LW_EINVALID);
	lw_store_free(st);
}

/* Every write keeps the index in step: add, update, replace (with and without a new document), delete. */
static void test_store_semsearch__index_follows_every_write(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
	char id[2][16], *s, *zip;
	const char *table = "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]}";
	const char *image = "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]}";
	const char *want_table = USER("\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]}");

	s = sem("alpha model", "first", table);
	add_sem(id[0], st, e, 1, NULL, s, true);
	free(s);
	s = sem("bravo model", "second", table);
	add_sem(id[1], st, e, 2, NULL, s, true);
	free(s);
	assert_found(st, USER(NAME("alpha")), NULL, id[0]);
	assert_consistent(st, e, 2);

	s = sem("gamma model", "renamed", image);
	assert_ok(lw_store_update_semantic(st, id[0], s));
	free(s);
	assert_found(st, USER(NAME("alpha")), NULL, ""); /* fuzzy finds nothing near it either */
	assert_found(st, USER(NAME("gamma")), NULL, id[0]);
	assert_found(st, want_table, NULL, id[1]);
	assert_consistent(st, e, 2);
	/* A failed update changes nothing. */
	assert_int_equal(lw_store_update_semantic(st, "00000099", "{}"), LW_ENOTFOUND);
	assert_int_equal(lw_store_update_semantic(st, id[0], "[]"), LW_EINVALID);
	assert_found(st, USER(NAME("gamma")), NULL, id[0]);

	/* A new zip keeps the document unless it brings one; the learnware is unusable until checked. */
	zip = make_zip(e, 77, 2000, NULL);
	in.zip_path = zip;
	assert_ok(lw_store_replace_zip(NULL, st, id[1], &in));
	assert_ok(lw_store_set_status(st, id[1], LW_STATUS_SUCCESS, LW_USABILITY_USABLE));
	assert_found(st, USER(NAME("bravo")), NULL, id[1]);
	free(zip);
	zip = make_zip(e, 78, 2000, NULL);
	s = sem("delta model", "replaced", image);
	in.zip_path = zip;
	in.semantic_json = s;
	assert_ok(lw_store_replace_zip(NULL, st, id[1], &in));
	assert_ok(lw_store_set_status(st, id[1], LW_STATUS_SUCCESS, LW_USABILITY_USABLE));
	free(s);
	free(zip);
	assert_found(st, USER(NAME("bravo")), NULL, "");
	assert_found(st, USER(NAME("delta")), NULL, id[1]);
	assert_found(st, want_table, NULL, "");
	assert_consistent(st, e, 2);

	assert_ok(lw_store_delete(st, id[1]));
	o.learnware_id = id[1];
	o.usable_only = 0;
	assert_found(st, USER(NAME("delta")), &o, "");
	assert_found(st, "{}", &o, "");
	assert_found(st, USER(NAME("model")), NULL, id[0]);
	assert_consistent(st, e, 1);
	lw_store_free(st);
}

/* Take a database back to schema 1, as an older build left it. */
static void downgrade_to_v1(lw_store *st)
{
	const char *sql = pg_admin ? "DROP INDEX learnwares_search_unindexed; DROP INDEX learnwares_search;"
				     " ALTER TABLE learnwares DROP COLUMN search_tsv; DROP FUNCTION lw_lexemes(json);"
				     " DROP TABLE learnware_tags; DROP INDEX learnwares_usability;"
				     " ALTER TABLE learnwares DROP COLUMN name_lc, DROP COLUMN desc_lc;"
				     " UPDATE schema_version SET version = 1"
				   : "DROP TRIGGER learnwares_fts_insert; DROP TRIGGER learnwares_fts_delete;"
				     " DROP TRIGGER learnwares_fts_update; DROP TABLE learnware_fts;"
				     " DROP TABLE learnware_tags; DROP INDEX learnwares_usability;"
				     " ALTER TABLE learnwares DROP COLUMN name_lc; ALTER TABLE learnwares DROP COLUMN desc_lc;"
				     " UPDATE schema_version SET version = 1";

	if (st->ops->script(st, sql) != 0)
		fail_msg("downgrade: %s", lw_error_last()->message);
}

/* Opening a schema-1 store adds the search fields and indexes and fills them from every row. */
static void test_store_semsearch__migration_backfills_existing_rows(void **state)
{
	env *e = *state;
	lw_store *st = open_ok(e);
	char id[3][16], *s;
	int64_t v;

	s = sem("Model A", "Even Better", "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]}");
	add_sem(id[0], st, e, 1, NULL, s, true);
	free(s);
	add_sem(id[1], st, e, 2, NULL, "{}", true);
	add_sem(id[2], st, e, 3, NULL, "{\"Data\": 5, \"Name\": [1]}", true);
	downgrade_to_v1(st);
	/* More rows than a back-fill page, as schema 1 held them (their files do not matter here). */
	for (int i = 4; i <= 600; i++) {
		char rid[16], zip[64], sha[16], name[32];

		snprintf(rid, sizeof(rid), "%08d", i);
		snprintf(zip, sizeof(zip), "files/learnwares/fake%d.zip", i);
		snprintf(sha, sizeof(sha), "fake%d", i);
		snprintf(name, sizeof(name), "Model %03d", i);
		s = sem(name, i % 2 ? "odd" : "even",
			i % 3 ? "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]}"
			      : "\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]}");
		assert_ok(lw__store_exec(NULL, st,
					 "INSERT INTO learnwares (id, owner, semantic, zip_path, sha256, status, usability,"
					 " created, updated) VALUES ($1, NULL, $2, $3, $4, 3, 1, 0, 0)",
					 (lw__val[]){ LW__TEXT(rid), LW__TEXT(s), LW__TEXT(zip), LW__TEXT(sha) }, 4));
		free(s);
	}
	lw_store_free(st);

	st = open_ok(e);
	assert_ok(lw__store_int(&v, st, "SELECT version FROM schema_version", NULL, 0));
	assert_int_equal(v, 2);
	assert_index_consistent(st, 600);
	assert_found(st, USER(NAME("model 599")), NULL, "00000599");
	assert_found(st, USER(NAME("better")), NULL, id[0]);
	assert_found(st, USER("\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]}, " NAME("model 123")), NULL,
		     "00000123");
	/* 00000003's Data is unreadable, so empty; 6 and 9 are Image. */
	s = xasprintf("%s %s 00000004 00000005 00000007 00000008", id[0], id[1]);
	assert_found(st, USER("\"learnware_id\": \"0000000\", \"Data\": {\"Type\": \"Class\", \"Values\": [\"Table\"]}"),
		     NULL, s);
	free(s);
	lw_store_free(st);
}

/* --- crash safety ------------------------------------------------------------------------ */

static const char *kill_point;

static void kill_here(const char *point)
{
	if (!strcmp(point, kill_point))
		raise(SIGKILL);
}

static void fault_child(const env *e, const char *point, const char *victim, uint64_t seed)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	char *zip = make_zip(e, seed, 70000, NULL), *semantic;
	lw_store *st;

	if (lw_store_open(&st, e->url, &e->o) != 0)
		_exit(3);
	kill_point = point;
	lw__store_fault = kill_here;
	/* A name of its own, so the search index shows whether the write happened. */
	in.semantic_json = semantic = xasprintf("{\"Name\": {\"Type\": \"String\", \"Values\": \"written at %s\"},"
						" \"Data\": {\"Type\": \"Class\", \"Values\": [\"Text\"]}}", point);
	in.zip_path = zip;
	if (!strncmp(point, "add:", 4))
		lw_store_add(NULL, st, &in);
	else if (!strncmp(point, "delete:", 7))
		lw_store_delete(st, victim);
	else
		lw_store_replace_zip(NULL, st, victim, &in);
	_exit(2); /* the point was never reached */
}

/*
 * Kill a writer at each step between its file and database work, then
 * check that the next open leaves a consistent store with the change
 * either fully made (after the commit) or not at all (before it).
 */
static void test_store_crash__kill_at_every_step(void **state)
{
	static const struct {
		const char *point;
		bool done;
	} steps[] = {
		{ "add:copied", false },      { "add:published", false },   { "add:inserted", false },
		{ "add:committed", true },    { "delete:marked", false },   { "delete:committed", true },
		{ "replace:published", false }, { "replace:swapped", false }, { "replace:committed", true },
	};
	env *e = *state;
	lw_learnware_record victim, after;
	uint64_t seed = 100;
	size_t rows = 0;

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		lw_store *st = open_ok(e);
		bool is_add = !strncmp(steps[i].point, "add:", 4), is_delete = !strncmp(steps[i].point, "delete:", 7);
		pid_t pid;
		int status, err;

		assert_ok(add_pkg(&victim, st, e, seed++, NULL, 0));
		rows++;
		lw_store_free(st);
		if ((pid = fork()) == 0)
			fault_child(e, steps[i].point, victim.id, seed);
		seed++;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("%s: the writer was not killed there (status %d)", steps[i].point, status);

		st = open_ok(e);
		if (is_add && steps[i].done)
			rows++;
		if (is_delete && steps[i].done)
			rows--;
		assert_consistent(st, e, rows);
		err = lw_store_get(&after, st, victim.id);
		if (is_delete) {
			assert_int_equal(err, steps[i].done ? LW_ENOTFOUND : 0);
		} else {
			assert_ok(err);
			if (is_add || !steps[i].done)
				assert_string_equal(after.content_sha256, victim.content_sha256);
			else
				assert_string_not_equal(after.content_sha256, victim.content_sha256);
		}
		/* The search index changed with the rows, or not at all. */
		{
			char *user = xasprintf("{\"Name\": {\"Type\": \"String\", \"Values\": \"written at %s\"}}",
					       steps[i].point);
			lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
			lw_semantic_hits h;
			char *got;

			o.usable_only = 0;
			got = found_with(&h, st, user, &o);
			if ((h.fuzzy ? 0 : h.count) != (!is_delete && steps[i].done ? 1u : 0u))
				fail_msg("%s: a search for its name found '%s' (fuzzy %d)", steps[i].point, got, h.fuzzy);
			if (!is_delete && steps[i].done && !is_add)
				assert_string_equal(got, victim.id);
			lw_semantic_hits_dispose(&h);
			free(got);
			free(user);
			o.learnware_id = victim.id;
			assert_found(st, "{\"Data\": {\"Type\": \"Class\", \"Values\": [\"Image\"]}}", &o,
				     steps[i].done && !is_add ? "" : victim.id);
		}
		lw_learnware_record_dispose(&after);
		lw_learnware_record_dispose(&victim);
		lw_store_free(st);
	}
}

#define MAXLW 2048

typedef struct {
	char id[16];
	char sha[LW_SHA256_HEX];
	bool live;
} known;

/*
 * The victim of the random kills: adds (most of the time), deletes and
 * replaces for ever, announcing each operation before it starts ("a",
 * "d ID", "r ID SHA") and after it returns ("A ID SHA", "D ID", "R ID SHA").
 */
static void churn(const env *e, int fd, uint64_t seed)
{
	lw_learnware_list l;
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_learnware_record r;
	char (*ids)[16] = calloc(MAXLW, 16), sha[LW_SHA256_HEX], semantic[256];
	size_t n = 0;
	lw_store *st;
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	if (lw_store_open(&st, e->url, &e->o) != 0)
		child_fail(fd, "open");
	if (lw_store_list(&l, st, NULL) != 0)
		child_fail(fd, "list");
	for (size_t i = 0; i < l.count && n < MAXLW; i++)
		memcpy(ids[n++], l.items[i].id, 16);
	lw_learnware_list_dispose(&l);
	dprintf(fd, "ready\n");
	in.semantic_json = semantic;
	for (uint64_t op = 0;; op++) {
		uint64_t dice = lw_rng_below(&rng, 100), content = seed * 100000 + op;
		char *zip = make_zip(e, content, (size_t)lw_rng_below(&rng, 150000), sha);
		size_t at = n ? (size_t)lw_rng_below(&rng, n) : 0;

		/* Every add and replace writes a new document, so the search index changes with each. */
		snprintf(semantic, sizeof(semantic),
			 "{\"Name\": {\"Type\": \"String\", \"Values\": \"Package %llu\"},"
			 " \"Scenario\": {\"Type\": \"Tag\", \"Values\": [\"S%llu\", \"T%llu\"]}}",
			 (unsigned long long)content, (unsigned long long)(content % 7), (unsigned long long)(content % 3));
		in.zip_path = zip;
		if (dice < 25 && n > 0) {
			dprintf(fd, "d %s\n", ids[at]);
			if (lw_store_delete(st, ids[at]) != 0)
				child_fail(fd, "delete");
			dprintf(fd, "D %s\n", ids[at]);
			memcpy(ids[at], ids[--n], 16);
		} else if (dice < 40 && n > 0) {
			dprintf(fd, "r %s %s\n", ids[at], sha);
			if (lw_store_replace_zip(NULL, st, ids[at], &in) != 0)
				child_fail(fd, "replace");
			dprintf(fd, "R %s %s\n", ids[at], sha);
		} else if (n < MAXLW) {
			dprintf(fd, "a\n");
			if (lw_store_add(&r, st, &in) != 0)
				child_fail(fd, "add");
			dprintf(fd, "A %s %s\n", r.id, sha);
			memcpy(ids[n++], r.id, 16);
			lw_learnware_record_dispose(&r);
		}
		unlink(zip);
		free(zip);
	}
}

static known *find_known(known *k, size_t nk, const char *id)
{
	for (size_t i = 0; i < nk; i++)
		if (!strcmp(k[i].id, id))
			return &k[i];
	return NULL;
}

/* Apply what the child said it finished; return the operation it had begun and not finished. */
static void replay(known *k, size_t *nk, FILE *f, char *inflight, size_t cap)
{
	char line[256], id[64], sha[128];

	*inflight = '\0';
	while (fgets(line, sizeof(line), f)) {
		known *x;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == 'X')
			fail_msg("child: %s", line);
		if (line[0] == 'a' || line[0] == 'd' || line[0] == 'r') {
			scopy(inflight, cap, line);
			continue;
		}
		*inflight = '\0';
		if (line[0] == 'A' && sscanf(line, "A %15s %64s", id, sha) == 2) {
			assert_true(*nk < MAXLW);
			x = &k[(*nk)++];
			scopy(x->id, sizeof(x->id), id);
			scopy(x->sha, sizeof(x->sha), sha);
			x->live = true;
		} else if (line[0] == 'D' && sscanf(line, "D %15s", id) == 1) {
			assert_non_null(x = find_known(k, *nk, id));
			x->live = false;
		} else if (line[0] == 'R' && sscanf(line, "R %15s %64s", id, sha) == 2) {
			assert_non_null(x = find_known(k, *nk, id));
			scopy(x->sha, sizeof(x->sha), sha);
		}
	}
}

/*
 * The store must hold exactly what the child finished, give or take the
 * one operation it was in when killed, which must be all there or absent.
 */
static void reconcile(lw_store *st, known *k, size_t *nk, const char *inflight)
{
	lw_learnware_list l;
	char op = inflight[0], id[64] = "", sha[128] = "";
	size_t extra = 0;

	if (op == 'd' || op == 'r')
		assert_true(sscanf(inflight + 2, "%15s %64s", id, sha) >= 1);
	assert_ok(lw_store_list(&l, st, NULL));
	for (size_t i = 0; i < l.count; i++) {
		lw_learnware_record *r = &l.items[i];
		known *x = find_known(k, *nk, r->id);

		if (!x || !x->live) {
			/* Only an add in flight may have landed unannounced. */
			if (x || op != 'a' || extra++)
				fail_msg("learnware %s appeared from nowhere (in flight: '%s')", r->id, inflight);
			x = &k[(*nk)++];
			scopy(x->id, sizeof(x->id), r->id);
			scopy(x->sha, sizeof(x->sha), r->content_sha256);
			x->live = true;
		} else if (strcmp(x->sha, r->content_sha256)) {
			if (op != 'r' || strcmp(id, r->id) || strcmp(sha, r->content_sha256))
				fail_msg("learnware %s has content %s, expected %s", r->id, r->content_sha256, x->sha);
			scopy(x->sha, sizeof(x->sha), sha);
		}
	}
	for (size_t i = 0; i < *nk; i++) {
		bool present = false;

		for (size_t j = 0; j < l.count && !present; j++)
			present = !strcmp(l.items[j].id, k[i].id);
		if (k[i].live && !present) {
			if (op != 'd' || strcmp(id, k[i].id))
				fail_msg("learnware %s was lost", k[i].id);
			k[i].live = false;
		}
	}
	lw_learnware_list_dispose(&l);
}

#define CRASH_ROUNDS 30

static void test_store_crash__random_kill_9_during_writes(void **state)
{
	env *e = *state;
	known *k = calloc(MAXLW, sizeof(known));
	lw_rng rng;
	/* caught: what was in flight when killed (nothing, an add, a delete, a replace) */
	size_t nk = 0, total_rows = 0, dirty = 0, caught[4] = { 0 };

	assert_non_null(k);
	lw_rng_seed(&rng, 20240601);
	for (int round = 0; round < CRASH_ROUNDS; round++) {
		char inflight[256], ready[16];
		int fds[2], status;
		lw_store *st;
		pid_t pid;
		FILE *f;

		assert_int_equal(pipe(fds), 0);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			churn(e, fds[1], (uint64_t)round + 1);
		}
		close(fds[1]);
		assert_non_null(f = fdopen(fds[0], "r"));
		/* Most rounds kill during writes; every fifth (the first too) may hit the open: migrations, sweep. */
		if (round % 5 != 0 && !fgets(ready, sizeof(ready), f))
			fail_msg("round %d: the child died before it was ready", round);
		sleep_ms((int)lw_rng_below(&rng, round % 5 == 0 ? 15 : 60));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		replay(k, &nk, f, inflight, sizeof(inflight));
		fclose(f);
		caught[inflight[0] == 'a' ? 1 : inflight[0] == 'd' ? 2 : inflight[0] == 'r' ? 3 : 0]++;

		if (round > 0 && count_files(e, "tmp") > 0)
			dirty++; /* the kill left something for the sweep */
		st = open_ok(e);
		assert_consistent(st, e, SIZE_MAX);
		reconcile(st, k, &nk, inflight);
		lw_store_free(st);
	}
	for (size_t i = 0; i < nk; i++)
		total_rows += k[i].live;
	print_message("    %d kills (%zu during an add, %zu a delete, %zu a replace, %zu between or in open);"
		      " %zu left files to sweep; %zu learnwares written, %zu live at the end\n",
		      CRASH_ROUNDS, caught[1], caught[2], caught[3], caught[0], dirty, nk, total_rows);
	free(k);
}

int main(void)
{
	const char *sel = getenv("LW_TEST_STORE");
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_store_open__migrates_from_empty_and_reopens),
		T(test_store_open__refuses_a_newer_schema),
		T(test_store_open__damaged_sqlite_file_is_refused),
		T(test_store_open__refuses_a_root_of_another_store),
		T(test_store_open__bad_inputs_fail_cleanly),
		T(test_store_pg__reconnects_after_losing_the_server),
		T(test_store_add__records_copies_and_lists),
		T(test_store_add__refuses_duplicate_content),
		T(test_store_ids__are_never_reused),
		T(test_store_ids__preferred_id_only_when_never_given),
		T(test_store_update__semantic_keeps_status_new_zip_requeues),
		T(test_store_delete__removes_row_file_specs_and_jobs),
		T(test_store_sweep__markers_always_strays_on_request),
		T(test_store_specs__stored_with_learnware_and_walked),
		T(test_store_users__unique_email_roles_and_deletion),
		T(test_store_tokens__found_by_hash_until_expired_or_revoked),
		T(test_store_events__append_only_newest_first),
		T(test_store_events__newest_and_wait_for_a_new_one),
		T(test_store_events__ids_become_visible_in_order),
		T(test_store_jobs__claim_heartbeat_finish),
		T(test_store_jobs__silent_worker_is_requeued),
		T(test_store_jobs__new_zip_cancels_the_running_check),
		T(test_store_jobs__concurrent_claims_never_share_a_job),
		T(test_store_add__concurrent_processes_get_distinct_ids),
		T(test_store_semsearch__reference_name_search),
		T(test_store_semsearch__tag_filter_rules),
		T(test_store_semsearch__exact_name_stage),
		T(test_store_semsearch__fuzzy_stage),
		T(test_store_semsearch__id_owner_and_usability),
		T(test_store_semsearch__bad_user_json_is_refused_precisely),
		T(test_store_semsearch__index_follows_every_write),
		T(test_store_semsearch__migration_backfills_existing_rows),
		T(test_store_crash__kill_at_every_step),
		T(test_store_crash__random_kill_9_during_writes),
#undef T
	};

	if (sel && sel[0] == '@') {
		char *url;
		size_t len;

		if (lw__read_file(&url, &len, sel + 1, 4096) != 0) {
			fprintf(stderr, "test_store: %s (is the PostgreSQL test server running?)\n",
				lw_error_last()->message);
			return 1;
		}
		url[strcspn(url, "\r\n")] = '\0';
		pg_admin = url;
	} else if (sel && strncmp(sel, "postgres", 8) == 0) {
		pg_admin = strdup(sel);
	} else if (sel && *sel && strcmp(sel, "sqlite") != 0) {
		fprintf(stderr, "test_store: LW_TEST_STORE=%s: use sqlite, a postgresql:// URL or @FILE\n", sel);
		return 2;
	}
	/* A child killed mid-write must not take the pipe's reader with it. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name(pg_admin ? "store (postgresql)" : "store (sqlite)", tests, NULL, NULL);
}
