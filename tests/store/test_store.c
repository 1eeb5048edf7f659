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
#include <libpq-fe.h>
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

/*
 * The invariants a store must keep whatever happened to the processes
 * using it, checked right after an open (which sweeps): every row has its
 * file with the recorded hash, every file has its row, nothing lingers in
 * files/tmp.  Returns a message, or NULL when all hold.
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
		free(path);
		free(sha);
	}
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
	char junk[2000];
	lw_store *st = NULL;
	FILE *f;

	assert_int_equal(lw_store_open(&st, root, &o), 0);
	for (uint64_t s = 1; s <= 3; s++)
		assert_ok(add_pkg(NULL, st, e, s, NULL, 1));
	lw_store_free(st);
	st = NULL;
	memset(junk, 0xa5, sizeof(junk));
	assert_non_null(f = fopen(db, "r+b"));
	assert_int_equal(fseek(f, 200, SEEK_SET), 0);
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
	char *zip = make_zip(e, seed, 70000, NULL);
	lw_store *st;

	if (lw_store_open(&st, e->url, &e->o) != 0)
		_exit(3);
	kill_point = point;
	lw__store_fault = kill_here;
	in.semantic_json = "{}";
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
	char (*ids)[16] = calloc(MAXLW, 16), sha[LW_SHA256_HEX];
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
	in.semantic_json = "{}";
	for (uint64_t op = 0;; op++) {
		uint64_t dice = lw_rng_below(&rng, 100), content = seed * 100000 + op;
		char *zip = make_zip(e, content, (size_t)lw_rng_below(&rng, 150000), sha);
		size_t at = n ? (size_t)lw_rng_below(&rng, n) : 0;

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
		T(test_store_update__semantic_keeps_status_new_zip_requeues),
		T(test_store_delete__removes_row_file_specs_and_jobs),
		T(test_store_sweep__markers_always_strays_on_request),
		T(test_store_specs__stored_with_learnware_and_walked),
		T(test_store_users__unique_email_roles_and_deletion),
		T(test_store_tokens__found_by_hash_until_expired_or_revoked),
		T(test_store_events__append_only_newest_first),
		T(test_store_jobs__claim_heartbeat_finish),
		T(test_store_jobs__silent_worker_is_requeued),
		T(test_store_jobs__new_zip_cancels_the_running_check),
		T(test_store_jobs__concurrent_claims_never_share_a_job),
		T(test_store_add__concurrent_processes_get_distinct_ids),
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
