/*
 * Starting and stopping the server: the dock handles, the first admin,
 * the HTTP daemon and the background threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sodium.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server.h"

extern const char lw__openapi_json[];

void lw__dock_options(lw_dock_options *o, const lw_server_config *c, int with_index)
{
	static char self[PATH_MAX];
	const lw_dock_options def = LW_DOCK_OPTIONS_INIT;
	ssize_t n;

	*o = def;
	o->files_root = c->files_root && *c->files_root ? c->files_root : NULL;
	o->check.limits.timeout_s = c->check_timeout_s;
	o->check.limits.memory_bytes = (size_t)c->check_memory_mb << 20;
	/* This very program serves in-process model kinds inside the sandbox. */
	if (!self[0] && (n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0)
		self[n] = '\0';
	o->check.serve_exe = self[0] ? self : NULL;
	o->defer_check = 1;
	o->no_index = !with_index;
	/* Requests never wait for a map to train: workers do it (worker.c). */
	o->hetero_auto = 0;
}

/* --- the pool of dock handles ------------------------------------------------------ */

static int pool_init(lw_server *s, size_t n)
{
	lw__dock_pool *p = &s->pool;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	if (!(p->free = calloc(n, sizeof(*p->free))))
		return LW_ENOMEM;
	p->cap = n;
	return 0;
}

static void pool_free(lw_server *s)
{
	lw__dock_pool *p = &s->pool;

	for (size_t i = 0; i < p->nfree; i++)
		lw_dock_free(p->free[i]);
	free(p->free);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->freed);
	memset(p, 0, sizeof(*p));
}

/* Handles are opened lazily, up to one per request thread (plus spares). */
lw_dock *lw__dock_get(lw_server *s)
{
	lw__dock_pool *p = &s->pool;
	lw_dock_options o;
	lw_dock *d = NULL;

	pthread_mutex_lock(&p->lock);
	while (p->nfree == 0 && p->total >= p->cap)
		pthread_cond_wait(&p->freed, &p->lock);
	if (p->nfree) {
		d = p->free[--p->nfree];
		pthread_mutex_unlock(&p->lock);
		return d;
	}
	p->total++;
	pthread_mutex_unlock(&p->lock);
	lw__dock_options(&o, &s->c, 0);
	if (lw_dock_open(&d, s->c.dock, &o) < 0) {
		pthread_mutex_lock(&p->lock);
		p->total--;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	return d;
}

void lw__dock_put(lw_server *s, lw_dock *d)
{
	lw__dock_pool *p = &s->pool;

	if (!d)
		return;
	pthread_mutex_lock(&p->lock);
	p->free[p->nfree++] = d;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* --- accounts made outside HTTP ------------------------------------------------------- */

static int user_put(lw_store *st, const char *email, const char *name, const char *password,
		    int admin)
{
	lw_user_record u = { 0 };
	char hash[128];
	int err;

	if (!lw__valid_email(email)) {
		lw_error_set(LW_ERRCLASS_INVALID, "\"%s\" is not an e-mail address", email);
		return LW_EINVALID;
	}
	if (strlen(password) < 8) {
		lw_error_set(LW_ERRCLASS_INVALID, "the password must have at least 8 characters");
		return LW_EINVALID;
	}
	if ((err = lw__password_hash(hash, password)) < 0)
		return err;
	err = lw_store_user_find(&u, st, email);
	if (err == LW_ENOTFOUND)
		err = lw_store_user_add(NULL, st, email, name ? name : "", hash,
					admin ? LW_ROLE_ADMIN : LW_ROLE_USER);
	else if (err == 0 && (err = lw_store_user_set_password(st, u.id, hash)) == 0)
		err = lw_store_user_set_role(st, u.id, admin ? LW_ROLE_ADMIN : u.role);
	lw_user_record_dispose(&u);
	sodium_memzero(hash, sizeof(hash));
	return err;
}

int lw_server_user_put(const lw_server_config *c, const char *email, const char *name,
		       const char *password, int admin)
{
	lw_dock_options o;
	lw_dock *d = NULL;
	int err;

	if (sodium_init() < 0)
		return LW_ERROR;
	lw__dock_options(&o, c, 0);
	if ((err = lw_dock_open(&d, c->dock, &o)) < 0)
		return err;
	err = user_put(lw_dock_store(d), email, name, password, admin);
	lw_dock_free(d);
	return err;
}

/* The first admin from the environment: created once, never overwritten. */
static int admin_from_env(lw_server *s)
{
	const char *email = getenv("LEARNWARE_ADMIN_EMAIL"), *pw = getenv("LEARNWARE_ADMIN_PASSWORD");
	lw_user_record u = { 0 };
	lw_dock *d;
	int err;

	if (!email || !*email)
		return 0;
	if (!pw || !*pw) {
		lw_error_set(LW_ERRCLASS_INVALID, "LEARNWARE_ADMIN_EMAIL is set but LEARNWARE_ADMIN_PASSWORD is not");
		return LW_EINVALID;
	}
	if (!(d = lw__dock_get(s)))
		return LW_EIO;
	err = lw_store_user_find(&u, lw_dock_store(d), email);
	if (err == LW_ENOTFOUND)
		err = user_put(lw_dock_store(d), email, "admin", pw, 1);
	lw_user_record_dispose(&u);
	lw__dock_put(s, d);
	return err;
}

/* --- start and stop -------------------------------------------------------------------- */

static char *dup_config_string(const char *v)
{
	return strdup(v ? v : "");
}

static int copy_config(lw_server_config *dst, const lw_server_config *src)
{
	*dst = *src;
	dst->dock = dup_config_string(src->dock);
	dst->files_root = dup_config_string(src->files_root);
	dst->listen = dup_config_string(src->listen);
	dst->web_root = dup_config_string(src->web_root);
	dst->upload_dir = dup_config_string(src->upload_dir);
	if (!dst->dock || !dst->files_root || !dst->listen || !dst->web_root || !dst->upload_dir)
		return LW_ENOMEM;
	return 0;
}

static int prepare_dirs(lw_server *s, lw_dock *d)
{
	const char *root = lw_store_root(lw_dock_store(d));

	if (!(s->files_root = strdup(root)))
		return LW_ENOMEM;
	if (*s->c.upload_dir)
		s->upload_dir = strdup(s->c.upload_dir);
	else if ((s->upload_dir = malloc(strlen(root) + 16)))
		sprintf(s->upload_dir, "%s/uploads", root);
	if (!s->upload_dir)
		return LW_ENOMEM;
	if (mkdir(s->upload_dir, 0700) != 0 && errno != EEXIST) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create the upload folder %s", s->upload_dir);
		return LW_EIO;
	}
	return 0;
}

static int load_taxonomy(lw_server *s)
{
	lw_taxonomy *t = NULL;
	int err;

	if ((err = lw_taxonomy_builtin(&t)) < 0)
		return err;
	err = lw_taxonomy_to_json(&s->taxonomy, t);
	lw_taxonomy_free(t);
	return err;
}

int lw_server_start(lw_server **out, const lw_server_config *c)
{
	lw_server *s = calloc(1, sizeof(*s));
	lw_dock_options o;
	int err;

	*out = NULL;
	if (!s)
		return LW_ENOMEM;
	s->listen_fd = -1;
	pthread_mutex_init(&s->search_lock, NULL);
	snprintf(s->worker_prefix, sizeof(s->worker_prefix), "serve:%ld", (long)getpid());
	if ((err = copy_config(&s->c, c)) < 0 || (err = lw__auth_init(s)) < 0 ||
	    (err = pool_init(s, (size_t)c->threads + 2)) < 0 || (err = load_taxonomy(s)) < 0)
		goto fail;
	s->openapi = (char *)lw__openapi_json;
	/* The search dock opens first: it creates the store and builds the index. */
	lw__dock_options(&o, &s->c, 1);
	if ((err = lw_dock_open(&s->search, s->c.dock, &o)) < 0 ||
	    (err = prepare_dirs(s, s->search)) < 0 || (err = admin_from_env(s)) < 0)
		goto fail;
	lw__uploads_sweep(s);
	if ((err = lw__http_start(s)) < 0 || (err = lw__workers_start(s)) < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	lw_server_stop(s);
	return err;
}

const char *lw_server_url(const lw_server *s)
{
	return s->url;
}

void lw_server_stop(lw_server *s)
{
	if (!s)
		return;
	s->stopping = 1;
	lw__http_stop(s);
	lw__workers_stop(s);
	lw_dock_free(s->search);
	pool_free(s);
	lw__auth_free(s);
	pthread_mutex_destroy(&s->search_lock);
	free(s->taxonomy);
	free(s->files_root);
	free(s->upload_dir);
	lw_server_config_dispose(&s->c);
	free(s);
}
