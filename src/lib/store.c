/*
 * The backend-independent half of the store: opening a store, schema
 * migrations, query helpers, and the files with their crash-safety.
 *
 * Files and rows are kept consistent by one rule.  A package lives at
 * files/learnwares/<name>; while a write may leave it unreferenced, a hard
 * link files/tmp/<name> marks it.  Writers create the marker (durably)
 * before the step that can orphan the file and remove it after the
 * database commit that settles the file's fate.  The sweep, which runs when
 * no writer holds the shared lock, keeps a marked file if a row refers to
 * it and deletes it otherwise.  See docs/store.md for the full argument.
 */
#define _DEFAULT_SOURCE
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

void (*lw__store_fault)(const char *point);

/* --- small helpers ------------------------------------------------------------ */

int64_t lw__store_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lw__store_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lw__row_int(const lw__row *r, size_t i)
{
	return i < r->n && r->v[i] ? strtoll(r->v[i], NULL, 10) : 0;
}

int lw__row_dup(char **out, const lw__row *r, size_t i)
{
	*out = NULL;
	if (i >= r->n || !r->v[i])
		return 0;
	return (*out = lw__strdup(r->v[i])) ? 0 : LW_ENOMEM;
}

void *lw__store_grow(void **items, size_t *count, size_t sz)
{
	char *grown;

	/* Doubling at powers of two keeps appends amortised O(1). */
	if ((*count & (*count - 1)) == 0) {
		if (!(grown = lw__reallocarray(*items, *count ? 2 * *count : 1, sz)))
			return NULL;
		*items = grown;
	}
	grown = (char *)*items + *count * sz;
	memset(grown, 0, sz);
	(*count)++;
	return grown;
}

void lw__sql_add(lw__sqlbuf *b, const char *fragment)
{
	size_t n = strlen(fragment);

	/* Fragments are literals from this library: overflowing is a bug, not input. */
	if (b->len + n >= sizeof(b->sql))
		abort();
	memcpy(b->sql + b->len, fragment, n + 1);
	b->len += n;
}

void lw__sql_param(lw__sqlbuf *b, const char *fragment, lw__val v)
{
	const char *q = strstr(fragment, "$?");
	char num[16];

	if (!q || b->np == LW__MAX_PARAMS)
		abort();
	snprintf(num, sizeof(num), "$%zu", b->np + 1);
	b->p[b->np++] = v;
	for (const char *c = fragment; *c; c++) {
		char one[2] = { *c, 0 };

		if (c == q) {
			lw__sql_add(b, num);
			c++;
		} else {
			lw__sql_add(b, one);
		}
	}
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = lw__mallocarray(la + lb + 2, 1);

	if (p) {
		memcpy(p, a, la);
		p[la] = '/';
		memcpy(p + la + 1, b, lb + 1);
	}
	return p;
}

int lw__store_check_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;

	if (n == 0 || n > 15 || strspn(id, "0123456789") != n) {
		lw_error_set(LW_ERRCLASS_INVALID, "'%s' is not a learnware id (digits, like 00000001)",
			     id ? id : "(null)");
		return LW_EINVALID;
	}
	return 0;
}

int lw__store_check_json(const char *json, const char *what, bool object)
{
	json_error_t e;
	json_t *v = json ? json_loads(json, JSON_DECODE_ANY, &e) : NULL;
	bool ok = v && (!object || json_is_object(v));

	json_decref(v);
	if (!json)
		lw_error_set(LW_ERRCLASS_INVALID, "%s is missing", what);
	else if (!ok)
		lw_error_set(LW_ERRCLASS_JSON, "%s is not a JSON %s%s%s", what, object ? "object" : "value",
			     v ? "" : ": ", v ? "" : e.text);
	return ok ? 0 : LW_EINVALID;
}

/* --- queries ------------------------------------------------------------------ */

int lw__store_query(lw_store *st, const char *sql, const lw__val *p, size_t np, lw__row_cb cb,
		    void *payload)
{
	return st->ops->query(st, sql, p, np, cb, payload, NULL);
}

int lw__store_exec(int64_t *changes, lw_store *st, const char *sql, const lw__val *p, size_t np)
{
	int64_t n = 0;
	int err = st->ops->query(st, sql, p, np, NULL, NULL, &n);

	if (changes)
		*changes = n;
	return err;
}

typedef struct {
	bool found;
	int64_t i;
	char *s;
	int err;
} first_col;

static int take_int(const lw__row *r, void *payload)
{
	first_col *f = payload;

	if (!f->found)
		f->i = lw__row_int(r, 0);
	f->found = true;
	return 0;
}

static int take_text(const lw__row *r, void *payload)
{
	first_col *f = payload;

	if (!f->found)
		f->err = lw__row_dup(&f->s, r, 0);
	f->found = true;
	return 0;
}

static int not_found(void)
{
	lw_error_set(LW_ERRCLASS_INVALID, "no such row");
	return LW_ENOTFOUND;
}

int lw__store_int(int64_t *out, lw_store *st, const char *sql, const lw__val *p, size_t np)
{
	first_col f = { false, 0, NULL, 0 };
	int err = lw__store_query(st, sql, p, np, take_int, &f);

	*out = f.i;
	if (err < 0)
		return err;
	return f.found ? 0 : not_found();
}

int lw__store_text(char **out, lw_store *st, const char *sql, const lw__val *p, size_t np)
{
	first_col f = { false, 0, NULL, 0 };
	int err = lw__store_query(st, sql, p, np, take_text, &f);

	if (err == 0 && f.err < 0)
		err = f.err;
	if (err == 0 && !f.found)
		err = not_found();
	if (err < 0) {
		free(f.s);
		f.s = NULL;
	}
	*out = f.s;
	return err;
}

int lw__store_begin(lw_store *st)
{
	int err = st->ops->script(st, st->ops->begin_write);

	st->in_tx = err == 0;
	return err;
}

int lw__store_commit(lw_store *st)
{
	int err = st->ops->script(st, "COMMIT");

	if (err < 0)
		lw__store_rollback(st);
	st->in_tx = 0;
	return err;
}

void lw__store_rollback(lw_store *st)
{
	const lw_error *e = lw_error_last();
	lw_error_class klass = e->klass;
	char saved[1024];

	snprintf(saved, sizeof(saved), "%s", e->message);
	st->ops->script(st, "ROLLBACK");
	st->in_tx = 0;
	lw_error_set(klass, "%s", saved);
}

/* --- migrations ----------------------------------------------------------------- */

int (*const lw__store_upgrades[LW_STORE_SCHEMA_VERSION])(lw_store *st) = {
	NULL,                   /* 1: the first schema */
	lw__semsearch_backfill, /* 2: semantic search's fields and indexes */
};

static int count_migrations(const lw__store_ops *ops)
{
	int n = 0;

	while (ops->migrations[n])
		n++;
	return n;
}

/* The version of a database with no schema_version row: 0 when it is ours to create. */
static int read_version(int64_t *v, lw_store *st)
{
	int64_t foreign = 0;
	int err = lw__store_int(v, st, "SELECT version FROM schema_version", NULL, 0);

	if (err != LW_ENOTFOUND)
		return err;
	if (st->ops->count_foreign &&
	    (err = lw__store_int(&foreign, st, st->ops->count_foreign, NULL, 0)) < 0)
		return err;
	if (foreign > 0) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "%s holds other tables and no learnware schema: not a dock database", st->url);
		return LW_EINVALID;
	}
	*v = 0;
	return lw__store_exec(NULL, st, "INSERT INTO schema_version (version) VALUES (0)", NULL, 0);
}

/* One migration per transaction, so a crash leaves the schema at a version boundary. */
static int migrate_step(bool *done, lw_store *st, int latest)
{
	int64_t v;
	int err;

	if ((err = lw__store_begin(st)) < 0)
		return err;
	if ((st->ops->migration_lock && (err = st->ops->script(st, st->ops->migration_lock)) < 0) ||
	    (err = st->ops->script(st, "CREATE TABLE IF NOT EXISTS schema_version"
				       " (version INTEGER NOT NULL)")) < 0 ||
	    (err = read_version(&v, st)) < 0)
		goto fail;
	if (v > latest) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "%s has schema version %lld, newer than this build of learnware knows (%d): "
			     "use a newer learnware", st->url, (long long)v, latest);
		err = LW_EINVALID;
		goto fail;
	}
	*done = v == latest;
	if (!*done && ((err = st->ops->script(st, st->ops->migrations[v])) < 0 ||
		       (lw__store_upgrades[v] && (err = lw__store_upgrades[v](st)) < 0) ||
		       (err = lw__store_exec(NULL, st, "UPDATE schema_version SET version = $1",
					     (lw__val[]){ LW__INT(v + 1) }, 1)) < 0))
		goto fail;
	return lw__store_commit(st);
fail:
	lw__store_rollback(st);
	return err;
}

static int migrate(lw_store *st)
{
	int latest = count_migrations(st->ops), err;
	bool done = false;

	/* The build's constant and the backends' scripts must agree. */
	if (latest != LW_STORE_SCHEMA_VERSION)
		abort();
	while (!done)
		if ((err = migrate_step(&done, st, latest)) < 0)
			return err;
	return 0;
}

/* --- opening ------------------------------------------------------------------- */

static int random_hex(char *out, size_t bytes)
{
	uint8_t r[32];

	if (bytes > sizeof(r) || getrandom(r, bytes, 0) != (ssize_t)bytes) {
		lw_error_set(LW_ERRCLASS_OS, "cannot draw random bytes");
		return LW_EIO;
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
	return 0;
}

/* The database's identity, created by whichever process gets there first. */
static int store_id(char **out, lw_store *st)
{
	char fresh[33];
	int err;

	if ((err = random_hex(fresh, 16)) < 0 ||
	    (err = lw__store_exec(NULL, st,
				  "INSERT INTO meta (key, value) VALUES ('store_id', $1) ON CONFLICT (key) DO NOTHING",
				  (lw__val[]){ LW__TEXT(fresh) }, 1)) < 0)
		return err;
	return lw__store_text(out, st, "SELECT value FROM meta WHERE key = 'store_id'", NULL, 0);
}

/*
 * A files root serves one database: the sweep deletes files that its own
 * database does not know, so a root shared by two databases would lose
 * files.  The root records the id of the database it belongs to.
 */
static int bind_root(lw_store *st)
{
	char *id = NULL, *path = join(st->root, "files/.store-id"), *have = NULL;
	size_t len;
	int err;

	if (!path)
		return LW_ENOMEM;
	if ((err = store_id(&id, st)) < 0)
		goto done;
	err = lw__read_file(&have, &len, path, 64);
	if (err == LW_ENOTFOUND)
		err = lw__write_file_atomic(path, id, strlen(id));
	else if (err == 0 && strcmp(have, id) != 0) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "the files root %s belongs to another store (id %.32s, this database is %s): "
			     "give each database its own root, or delete %s if that store is gone",
			     st->root, have, id, path);
		err = LW_EINVALID;
	}
done:
	free(id);
	free(have);
	free(path);
	return err;
}

/* mkdir -p; the last component gets mode. */
static int make_dir(const char *path, mode_t mode)
{
	char *p = lw__strdup(path);
	struct stat sb;
	int err = 0;

	if (!p)
		return LW_ENOMEM;
	for (char *c = p + 1; *c && !err; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			err = LW_EIO;
		*c = '/';
	}
	if (!err && mkdir(p, mode) != 0 && errno != EEXIST)
		err = LW_EIO;
	if (err)
		lw_error_set(LW_ERRCLASS_OS, "cannot create the store directory %s", path);
	else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		errno = ENOTDIR;
		lw_error_set(LW_ERRCLASS_OS, "cannot use %s as a store directory", path);
		err = LW_EIO;
	} else if (access(p, R_OK | W_OK | X_OK) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot read and write the store directory %s", path);
		err = LW_EIO;
	}
	free(p);
	return err;
}

static int open_files(lw_store *st)
{
	char *files = join(st->root, "files"), *lock = NULL;
	int err;

	if (!files)
		return LW_ENOMEM;
	if (!(st->tmp_dir = join(files, "tmp")) || !(st->lw_dir = join(files, "learnwares")) ||
	    !(lock = join(files, ".lock"))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = make_dir(st->root, 0700)) < 0 || (err = make_dir(files, 0755)) < 0 ||
	    (err = make_dir(st->tmp_dir, 0755)) < 0 || (err = make_dir(st->lw_dir, 0755)) < 0)
		goto done;
	if ((st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", lock);
		err = LW_EIO;
	}
done:
	free(files);
	free(lock);
	return err;
}

/* The URL with any password replaced, fit for messages and logs. */
static char *mask_url(const char *url)
{
	const char *scheme = strstr(url, "://"), *at, *colon;
	char *m;

	if (!scheme || !(at = strchr(scheme + 3, '@')))
		return lw__strdup(url);
	colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
	if (!colon)
		return lw__strdup(url);
	if (!(m = lw__mallocarray(strlen(url) + 4, 1)))
		return NULL;
	sprintf(m, "%.*s:***%s", (int)(colon - url), url, at);
	return m;
}

static int pick_backend(const lw__store_ops **ops, const char **root, const char *url,
			const lw_store_options *o)
{
	const char *sep = strstr(url, "://");

	if (!sep) {
		*ops = &lw__store_sqlite;
		*root = url;
		return 0;
	}
	if ((size_t)(sep - url) == 10 && !strncmp(url, "postgresql", 10)) {
		*ops = &lw__store_pg;
	} else if ((size_t)(sep - url) == 8 && !strncmp(url, "postgres", 8)) {
		*ops = &lw__store_pg;
	} else {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "unknown store URL scheme '%.*s': use a directory (SQLite) or postgresql://...",
			     (int)(sep - url), url);
		return LW_EINVALID;
	}
	if (!o->root || !*o->root) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "a PostgreSQL store needs a files root (options.root, a path every dock process shares)");
		return LW_EINVALID;
	}
	*root = o->root;
	return 0;
}

int lw_store_open(lw_store **out, const char *url, const lw_store_options *opts)
{
	lw_store_options o = LW_STORE_OPTIONS_INIT;
	const char *root;
	lw_store *st;
	int err;

	LW_ASSERT_ARG(out && url && *url);
	*out = NULL;
	if (opts)
		o = *opts;
	if (!(st = lw__calloc(1, sizeof(*st))))
		return LW_ENOMEM;
	st->lock_fd = -1;
	st->busy_ms = o.busy_timeout_ms > 0 ? o.busy_timeout_ms : 0;
	if ((err = pick_backend(&st->ops, &root, url, &o)) < 0)
		goto fail;
	if (!(st->url = mask_url(url)) || !(st->root = lw__strdup(root))) {
		err = LW_ENOMEM;
		goto fail;
	}
	if ((err = open_files(st)) < 0 || (err = st->ops->connect(st, url, &o)) < 0 ||
	    (err = migrate(st)) < 0 || (err = bind_root(st)) < 0 || (err = lw_store_sweep(NULL, st, 0)) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	lw_store_free(st);
	return err;
}

void lw_store_free(lw_store *st)
{
	if (!st)
		return;
	if (st->conn)
		st->ops->disconnect(st);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->url);
	free(st->root);
	free(st->tmp_dir);
	free(st->lw_dir);
	free(st);
}

const char *lw_store_backend(const lw_store *st)
{
	return st ? st->ops->name : NULL;
}

const char *lw_store_root(const lw_store *st)
{
	return st ? st->root : NULL;
}

/* --- files ----------------------------------------------------------------------- */

static int lock(lw_store *st, int how)
{
	while (flock(st->lock_fd, how) != 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			return 1;
		lw_error_set(LW_ERRCLASS_OS, "cannot lock %s/files/.lock", st->root);
		return LW_EIO;
	}
	return 0;
}

int lw__store_lock_shared(lw_store *st)
{
	return lock(st, LOCK_SH);
}

void lw__store_unlock(lw_store *st)
{
	flock(st->lock_fd, LOCK_UN);
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0 || (rc = fsync(fd)) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot flush the directory %s", dir);
		if (fd >= 0)
			close(fd);
		return LW_EIO;
	}
	close(fd);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	return join(dir, name);
}

static int random_name(char name[LW__ZIP_NAME])
{
	int err = random_hex(name, 8);

	if (err == 0)
		memcpy(name + 16, ".zip", 5);
	return err;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Copy and hash; the caller flushes. */
static int copy_fd(char sha[65], int out, const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), err = 0;
	lw__sha256 c;
	uint8_t d[32];
	char *buf;
	ssize_t n;

	if (in < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", src);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	if (!(buf = lw__mallocarray(1, 1 << 16))) {
		close(in);
		return LW_ENOMEM;
	}
	lw__sha256_init(&c);
	while ((n = read(in, buf, 1 << 16)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot read %s", src);
			err = LW_EIO;
			break;
		}
		lw__sha256_update(&c, buf, (size_t)n);
		if (write_all(out, buf, (size_t)n) < 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot write %s", dst);
			err = LW_EIO;
			break;
		}
	}
	free(buf);
	close(in);
	lw__sha256_final(d, &c);
	lw__sha256_hex(sha, d);
	return err;
}

static int create_tmp(int *fd, char **path, char name[LW__ZIP_NAME], lw_store *st)
{
	char *stored;
	bool taken;
	int err;

	/* 64 random bits: a clash is only possible, so retry instead of assuming. */
	for (int tries = 0; tries < 8; tries++) {
		if ((err = random_name(name)) < 0)
			return err;
		if (!(*path = path_in(st->tmp_dir, name)) || !(stored = path_in(st->lw_dir, name))) {
			free(*path);
			*path = NULL;
			return LW_ENOMEM;
		}
		taken = access(stored, F_OK) == 0;
		free(stored);
		if (!taken && (*fd = open(*path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) >= 0)
			return 0;
		if (!taken && errno != EEXIST)
			break;
		free(*path);
		*path = NULL;
	}
	lw_error_set(LW_ERRCLASS_OS, "cannot create a file in %s", st->tmp_dir);
	free(*path);
	*path = NULL;
	return LW_EIO;
}

int lw__store_copy_in(char name[LW__ZIP_NAME], char sha[65], lw_store *st, const char *src)
{
	char *tmp = NULL;
	int fd = -1, err;

	if ((err = create_tmp(&fd, &tmp, name, st)) < 0)
		return err;
	if ((err = copy_fd(sha, fd, src, tmp)) == 0 && fsync(fd) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot flush %s", tmp);
		err = LW_EIO;
	}
	if (close(fd) != 0 && err == 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", tmp);
		err = LW_EIO;
	}
	/* The marker must be on disk before the file it marks can be. */
	if (err == 0)
		err = sync_dir(st->tmp_dir);
	if (err < 0)
		unlink(tmp);
	free(tmp);
	return err;
}

static int link_durably(const char *from_dir, const char *from, const char *to_dir, const char *to)
{
	char *src = path_in(from_dir, from), *dst = path_in(to_dir, to);
	int err = 0;

	if (!src || !dst)
		err = LW_ENOMEM;
	else if (link(src, dst) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot link %s to %s", src, dst);
		err = errno == EEXIST ? LW_EEXISTS : LW_EIO;
	}
	if (err == 0)
		err = sync_dir(to_dir);
	free(src);
	free(dst);
	return err;
}

int lw__store_publish(lw_store *st, const char *name)
{
	return link_durably(st->tmp_dir, name, st->lw_dir, name);
}

int lw__store_mark(char marker[LW__MARKER_NAME], lw_store *st, const char *name)
{
	char suffix[9];
	int err = LW_EEXISTS;

	/* Each writer marks under its own name, so one writer's unmark never removes another's. */
	for (int tries = 0; tries < 8 && err == LW_EEXISTS; tries++) {
		if ((err = random_hex(suffix, 4)) < 0)
			return err;
		snprintf(marker, LW__MARKER_NAME, "%.20s~%.8s", name, suffix);
		err = link_durably(st->lw_dir, name, st->tmp_dir, marker);
	}
	return err;
}

static void remove_in(const char *dir, const char *name)
{
	char *p = path_in(dir, name);

	if (p)
		unlink(p);
	free(p);
}

void lw__store_discard(lw_store *st, const char *name, const char *marker)
{
	/* The file must be gone for good before its marker goes. */
	remove_in(st->lw_dir, name);
	sync_dir(st->lw_dir);
	remove_in(st->tmp_dir, marker);
}

void lw__store_unmark(lw_store *st, const char *marker)
{
	remove_in(st->tmp_dir, marker);
}

const char *lw__store_zip_name(const char *zip_path)
{
	size_t n = strlen(LW__ZIP_DIR);

	if (!zip_path || strncmp(zip_path, LW__ZIP_DIR, n) || strchr(zip_path + n, '/'))
		return NULL;
	return zip_path + n;
}

/* --- sweep ------------------------------------------------------------------------ */

static int referenced(bool *yes, lw_store *st, const char *name)
{
	char path[sizeof(LW__ZIP_DIR) + 256];
	int64_t one;
	int err;

	snprintf(path, sizeof(path), "%s%s", LW__ZIP_DIR, name);
	err = lw__store_int(&one, st, "SELECT 1 FROM learnwares WHERE zip_path = $1",
			    (lw__val[]){ LW__TEXT(path) }, 1);
	*yes = err == 0;
	return err == LW_ENOTFOUND ? 0 : err;
}

/* Settle every marker: keep the file a row refers to, delete the rest. */
static int sweep_markers(size_t *removed, lw_store *st)
{
	DIR *d = opendir(st->tmp_dir);
	struct dirent *e;
	int err = 0;

	if (!d) {
		lw_error_set(LW_ERRCLASS_OS, "cannot list %s", st->tmp_dir);
		return LW_EIO;
	}
	while (err == 0 && (e = readdir(d))) {
		char name[256];
		bool keep = false;

		if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(name))
			continue;
		/* A marker is <name>~<suffix>; a copy in progress is <name> itself. */
		snprintf(name, sizeof(name), "%s", e->d_name);
		name[strcspn(name, "~")] = '\0';
		if ((err = referenced(&keep, st, name)) < 0)
			break;
		if (keep) {
			lw__store_unmark(st, e->d_name);
		} else {
			lw__store_discard(st, name, e->d_name);
			(*removed)++;
		}
	}
	closedir(d);
	return err;
}

static bool is_zip_name(const char *n)
{
	size_t len = strlen(n);

	return len > 4 && !strcmp(n + len - 4, ".zip") && n[0] != '.';
}

/* Without markers to go by: every stored zip that no row refers to. */
static int sweep_all(size_t *removed, lw_store *st)
{
	DIR *d = opendir(st->lw_dir);
	struct dirent *e;
	int err = 0;

	if (!d) {
		lw_error_set(LW_ERRCLASS_OS, "cannot list %s", st->lw_dir);
		return LW_EIO;
	}
	while (err == 0 && (e = readdir(d))) {
		bool keep = false;

		if (!is_zip_name(e->d_name) || strlen(e->d_name) > 200)
			continue;
		if ((err = referenced(&keep, st, e->d_name)) == 0 && !keep) {
			remove_in(st->lw_dir, e->d_name);
			(*removed)++;
		}
	}
	closedir(d);
	if (err == 0 && *removed)
		err = sync_dir(st->lw_dir);
	return err;
}

int lw_store_sweep(size_t *removed, lw_store *st, int full)
{
	size_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	if (removed)
		*removed = 0;
	/* A writer between its first file step and its commit holds the lock shared. */
	if ((err = lock(st, LOCK_EX | LOCK_NB)) != 0)
		return err > 0 ? 0 : err;
	err = sweep_markers(&n, st);
	if (err == 0 && full)
		err = sweep_all(&n, st);
	lw__store_unlock(st);
	if (removed)
		*removed = n;
	return err;
}
