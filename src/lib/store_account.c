/*
 * Users, tokens and the audit log.  The store keeps what the server hands
 * it: password and token hashes are opaque strings, hashed elsewhere.
 */
#include "store.h"

#include <ctype.h>
#include <poll.h>
#include <string.h>

#include "util.h"

/* --- users ----------------------------------------------------------------------- */

#define USER_COLS "id, email, name, password_hash, role, created"

void lw_user_record_dispose(lw_user_record *u)
{
	if (!u)
		return;
	free(u->email);
	free(u->name);
	free(u->password_hash);
	memset(u, 0, sizeof(*u));
}

void lw_user_list_dispose(lw_user_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		lw_user_record_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

typedef struct {
	void *one; /* a record to fill, or NULL to append to the list */
	bool found;
	void **items;
	size_t *count;
} rows;

static int user_from_row(lw_user_record *u, const lw__row *row)
{
	int err;

	u->id = lw__row_int(row, 0);
	u->role = (int)lw__row_int(row, 4);
	u->created = lw__row_int(row, 5);
	if ((err = lw__row_dup(&u->email, row, 1)) < 0 || (err = lw__row_dup(&u->name, row, 2)) < 0 ||
	    (err = lw__row_dup(&u->password_hash, row, 3)) < 0)
		lw_user_record_dispose(u);
	return err;
}

static void *slot(rows *r, size_t sz)
{
	r->found = true;
	return r->one ? r->one : lw__store_grow(r->items, r->count, sz);
}

static int take_user(const lw__row *row, void *payload)
{
	lw_user_record *u = slot(payload, sizeof(*u));

	return u ? user_from_row(u, row) : LW_ENOMEM;
}

/* E-mail addresses compare without case (ASCII), the same on both backends. */
static char *lower(const char *s)
{
	char *l = lw__strdup(s);

	for (char *c = l; c && *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return l;
}

int lw_store_user_add(int64_t *out_id, lw_store *st, const char *email, const char *name,
		      const char *password_hash, int role)
{
	char *em;
	int64_t id = 0;
	int err;

	LW_ASSERT_ARG(st && email && *email && password_hash);
	if (role != LW_ROLE_USER && role != LW_ROLE_ADMIN) {
		lw_error_set(LW_ERRCLASS_INVALID, "role %d is neither user (0) nor admin (1)", role);
		return LW_EINVALID;
	}
	if (!(em = lower(email)))
		return LW_ENOMEM;
	err = lw__store_int(&id, st,
			    "INSERT INTO users (email, name, password_hash, role, created)"
			    " VALUES ($1, $2, $3, $4, $5) RETURNING id",
			    (lw__val[]){ LW__TEXT(em), LW__TEXT(name ? name : ""), LW__TEXT(password_hash),
					 LW__INT(role), LW__INT(lw__store_now()) },
			    5);
	if (err == LW_EEXISTS)
		lw_error_set(LW_ERRCLASS_INVALID, "the e-mail address %s is taken", em);
	free(em);
	if (out_id)
		*out_id = id;
	return err;
}

static int user_one(lw_user_record *out, lw_store *st, const char *sql, lw__val key, const char *what)
{
	rows r = { out, false, NULL, NULL };
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = lw__store_query(st, sql, &key, 1, take_user, &r)) == 0 && !r.found) {
		lw_error_set(LW_ERRCLASS_INVALID, "no user %s", what);
		err = LW_ENOTFOUND;
	}
	if (err < 0)
		lw_user_record_dispose(out);
	return err;
}

int lw_store_user_get(lw_user_record *out, lw_store *st, int64_t id)
{
	char what[32];

	LW_ASSERT_ARG(out && st);
	snprintf(what, sizeof(what), "%lld", (long long)id);
	return user_one(out, st, "SELECT " USER_COLS " FROM users WHERE id = $1", LW__INT(id), what);
}

int lw_store_user_find(lw_user_record *out, lw_store *st, const char *email)
{
	char *em;
	int err;

	LW_ASSERT_ARG(out && st && email);
	if (!(em = lower(email)))
		return LW_ENOMEM;
	err = user_one(out, st, "SELECT " USER_COLS " FROM users WHERE email = $1", LW__TEXT(em), em);
	free(em);
	return err;
}

static int update_user(lw_store *st, const char *sql, int64_t id, lw__val v)
{
	int64_t n = 0;
	int err = lw__store_exec(&n, st, sql, (lw__val[]){ LW__INT(id), v }, 2);

	if (err == 0 && n == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "no user %lld", (long long)id);
		err = LW_ENOTFOUND;
	}
	return err;
}

int lw_store_user_set_password(lw_store *st, int64_t id, const char *password_hash)
{
	LW_ASSERT_ARG(st && password_hash);
	return update_user(st, "UPDATE users SET password_hash = $2 WHERE id = $1", id, LW__TEXT(password_hash));
}

int lw_store_user_set_name(lw_store *st, int64_t id, const char *name)
{
	LW_ASSERT_ARG(st && name);
	return update_user(st, "UPDATE users SET name = $2 WHERE id = $1", id, LW__TEXT(name));
}

int lw_store_user_set_role(lw_store *st, int64_t id, int role)
{
	LW_ASSERT_ARG(st);
	if (role != LW_ROLE_USER && role != LW_ROLE_ADMIN) {
		lw_error_set(LW_ERRCLASS_INVALID, "role %d is neither user (0) nor admin (1)", role);
		return LW_EINVALID;
	}
	return update_user(st, "UPDATE users SET role = $2 WHERE id = $1", id, LW__INT(role));
}

int lw_store_user_list(lw_user_list *out, lw_store *st, size_t offset, size_t limit)
{
	rows r;
	int err;

	LW_ASSERT_ARG(out && st);
	out->items = NULL;
	out->count = 0;
	r = (rows){ NULL, false, (void **)&out->items, &out->count };
	err = lw__store_query(st, "SELECT " USER_COLS " FROM users ORDER BY id LIMIT $1 OFFSET $2",
			      (lw__val[]){ LW__INT(limit ? (int64_t)limit : INT64_MAX), LW__INT(offset) }, 2,
			      take_user, &r);
	if (err < 0)
		lw_user_list_dispose(out);
	return err;
}

int lw_store_user_delete(lw_store *st, int64_t id)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	err = lw__store_exec(&n, st, "DELETE FROM users WHERE id = $1", (lw__val[]){ LW__INT(id) }, 1);
	if (err == 0 && n == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "no user %lld", (long long)id);
		err = LW_ENOTFOUND;
	}
	return err;
}

/* --- tokens --------------------------------------------------------------------- */

#define TOKEN_COLS "id, hash, user_id, name, kind, created, expires"

void lw_token_record_dispose(lw_token_record *t)
{
	if (!t)
		return;
	free(t->hash);
	free(t->name);
	memset(t, 0, sizeof(*t));
}

void lw_token_list_dispose(lw_token_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		lw_token_record_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int take_token(const lw__row *row, void *payload)
{
	lw_token_record *t = slot(payload, sizeof(*t));
	int err;

	if (!t)
		return LW_ENOMEM;
	t->id = lw__row_int(row, 0);
	t->user_id = lw__row_int(row, 2);
	t->kind = (int)lw__row_int(row, 4);
	t->created = lw__row_int(row, 5);
	t->expires = lw__row_int(row, 6);
	if ((err = lw__row_dup(&t->hash, row, 1)) < 0 || (err = lw__row_dup(&t->name, row, 3)) < 0)
		lw_token_record_dispose(t);
	return err;
}

int lw_store_token_add(int64_t *out_id, lw_store *st, const lw_token_record *in)
{
	int64_t id = 0;
	int err;

	LW_ASSERT_ARG(st && in && in->hash && *in->hash);
	if (in->kind != LW_TOKEN_SESSION && in->kind != LW_TOKEN_API) {
		lw_error_set(LW_ERRCLASS_INVALID, "token kind %d is neither session (0) nor api (1)", in->kind);
		return LW_EINVALID;
	}
	err = lw__store_int(&id, st,
			    "INSERT INTO tokens (hash, user_id, name, kind, created, expires)"
			    " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
			    (lw__val[]){ LW__TEXT(in->hash), LW__INT(in->user_id), LW__TEXT(in->name ? in->name : ""),
					 LW__INT(in->kind), LW__INT(lw__store_now()), LW__INT(in->expires) },
			    6);
	if (err == LW_ENOTFOUND)
		lw_error_set(LW_ERRCLASS_INVALID, "no user %lld", (long long)in->user_id);
	else if (err == LW_EEXISTS)
		lw_error_set(LW_ERRCLASS_INVALID, "a token with this hash exists");
	if (out_id)
		*out_id = id;
	return err;
}

int lw_store_token_find(lw_token_record *out, lw_store *st, const char *hash, int64_t now)
{
	rows r = { out, false, NULL, NULL };
	int err;

	LW_ASSERT_ARG(out && st && hash);
	memset(out, 0, sizeof(*out));
	err = lw__store_query(st,
			      "SELECT " TOKEN_COLS " FROM tokens"
			      " WHERE hash = $1 AND (expires = 0 OR expires > $2)",
			      (lw__val[]){ LW__TEXT(hash), LW__INT(now) }, 2, take_token, &r);
	/* The message must not say whether the token existed. */
	if (err == 0 && !r.found) {
		lw_error_set(LW_ERRCLASS_INVALID, "unknown or expired token");
		err = LW_ENOTFOUND;
	}
	if (err < 0)
		lw_token_record_dispose(out);
	return err;
}

int lw_store_token_list(lw_token_list *out, lw_store *st, int64_t user_id)
{
	rows r;
	int err;

	LW_ASSERT_ARG(out && st);
	out->items = NULL;
	out->count = 0;
	r = (rows){ NULL, false, (void **)&out->items, &out->count };
	err = lw__store_query(st, "SELECT " TOKEN_COLS " FROM tokens WHERE user_id = $1 ORDER BY id DESC",
			      (lw__val[]){ LW__INT(user_id) }, 1, take_token, &r);
	if (err < 0)
		lw_token_list_dispose(out);
	return err;
}

int lw_store_token_revoke(lw_store *st, int64_t id, int64_t user_id)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	err = lw__store_exec(&n, st, "DELETE FROM tokens WHERE id = $1 AND ($2 <= 0 OR user_id = $2)",
			     (lw__val[]){ LW__INT(id), LW__INT(user_id) }, 2);
	if (err == 0 && n == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "no token %lld", (long long)id);
		err = LW_ENOTFOUND;
	}
	return err;
}

int lw_store_token_revoke_user(size_t *out_count, lw_store *st, int64_t user_id, int kind)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	err = lw__store_exec(&n, st, "DELETE FROM tokens WHERE user_id = $1 AND ($2 < 0 OR kind = $2)",
			     (lw__val[]){ LW__INT(user_id), LW__INT(kind) }, 2);
	if (out_count)
		*out_count = (size_t)n;
	return err;
}

int lw_store_token_purge(size_t *out_count, lw_store *st, int64_t now)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	err = lw__store_exec(&n, st, "DELETE FROM tokens WHERE expires <> 0 AND expires <= $1",
			     (lw__val[]){ LW__INT(now) }, 1);
	if (out_count)
		*out_count = (size_t)n;
	return err;
}

/* --- events ----------------------------------------------------------------------- */

void lw_event_record_dispose(lw_event_record *e)
{
	if (!e)
		return;
	free(e->actor);
	free(e->kind);
	free(e->learnware_id);
	free(e->detail_json);
	memset(e, 0, sizeof(*e));
}

void lw_event_list_dispose(lw_event_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		lw_event_record_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

int lw_store_event_append(int64_t *out_id, lw_store *st, const char *actor, const char *kind,
			  const char *learnware_id, const char *detail_json)
{
	int64_t id = 0;
	int err;

	LW_ASSERT_ARG(st && kind && *kind);
	if (detail_json && (err = lw__store_check_json(detail_json, "the event detail", false)) < 0)
		return err;
	/* The backend's statement: on PostgreSQL it also keeps ids visible in order. */
	err = lw__store_int(&id, st, st->ops->event_append,
			    (lw__val[]){ LW__INT(lw__store_now()), LW__TEXT(actor), LW__TEXT(kind),
					 LW__TEXT(learnware_id), LW__TEXT(detail_json) },
			    5);
	if (out_id)
		*out_id = id;
	return err;
}

static int take_event(const lw__row *row, void *payload)
{
	lw_event_record *e = slot(payload, sizeof(*e));
	int err;

	if (!e)
		return LW_ENOMEM;
	e->id = lw__row_int(row, 0);
	e->time = lw__row_int(row, 1);
	if ((err = lw__row_dup(&e->actor, row, 2)) < 0 || (err = lw__row_dup(&e->kind, row, 3)) < 0 ||
	    (err = lw__row_dup(&e->learnware_id, row, 4)) < 0 || (err = lw__row_dup(&e->detail_json, row, 5)) < 0)
		lw_event_record_dispose(e);
	return err;
}

int lw_store_event_list(lw_event_list *out, lw_store *st, const lw_event_filter *filter)
{
	lw_event_filter f = LW_EVENT_FILTER_INIT;
	lw__sqlbuf b = { .len = 0 };
	rows r;
	int err;

	LW_ASSERT_ARG(out && st);
	out->items = NULL;
	out->count = 0;
	if (filter)
		f = *filter;
	r = (rows){ NULL, false, (void **)&out->items, &out->count };
	lw__sql_add(&b, "SELECT id, time, actor, kind, learnware_id, detail FROM events WHERE 1 = 1");
	if (f.learnware_id)
		lw__sql_param(&b, " AND learnware_id = $?", LW__TEXT(f.learnware_id));
	if (f.actor)
		lw__sql_param(&b, " AND actor = $?", LW__TEXT(f.actor));
	if (f.before_id > 0)
		lw__sql_param(&b, " AND id < $?", LW__INT(f.before_id));
	if (f.version >= 2 && f.after_id > 0)
		lw__sql_param(&b, " AND id > $?", LW__INT(f.after_id));
	lw__sql_param(&b, " ORDER BY id DESC LIMIT $?", LW__INT(f.limit ? (int64_t)f.limit : 100));
	if ((err = lw__store_query(st, b.sql, b.p, b.np, take_event, &r)) < 0)
		lw_event_list_dispose(out);
	return err;
}

int lw_store_event_newest(int64_t *out, lw_store *st)
{
	LW_ASSERT_ARG(out && st);
	*out = 0;
	return lw__store_int(out, st, LW__NEWEST_EVENT, NULL, 0);
}

/* SQLite has no notifications; a look every POLL_MS costs one index probe. */
#define POLL_MS 100

static int poll_events(lw_store *st, int64_t after_id, int timeout_ms)
{
	int64_t deadline = lw__store_monotonic_ms() + timeout_ms, newest = 0, left;
	int err;

	for (;;) {
		if ((err = lw__store_int(&newest, st, LW__NEWEST_EVENT, NULL, 0)) < 0)
			return err;
		if (newest > after_id)
			return 1;
		if ((left = deadline - lw__store_monotonic_ms()) <= 0)
			return 0;
		poll(NULL, 0, (int)(left < POLL_MS ? left : POLL_MS));
	}
}

int lw_store_wait_event(lw_store *st, int64_t after_id, int timeout_ms)
{
	LW_ASSERT_ARG(st);
	if (timeout_ms < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "wait for events: timeout %d ms is negative (0 only looks)",
			     timeout_ms);
		return LW_EINVALID;
	}
	if (st->ops->wait_event)
		return st->ops->wait_event(st, after_id, timeout_ms);
	return poll_events(st, after_id, timeout_ms);
}
