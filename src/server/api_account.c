/*
 * Accounts: register, log in and out, the profile, the password and API
 * tokens.  Login failures all read the same, so replies never tell
 * whether an e-mail has an account.
 */
#define _POSIX_C_SOURCE 200809L
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

#define NAME_MAX_LEN 100

json_t *lw__user_json(const lw_user_record *u)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)u->id, "email", u->email, "name",
			 u->name ? u->name : "", "role", u->role == LW_ROLE_ADMIN ? "admin" : "user",
			 "created", (json_int_t)u->created);
}

static json_t *token_json(const lw_token_record *t)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)t->id, "name",
			      t->name ? t->name : "", "kind", t->kind == LW_TOKEN_API ? "api" : "session",
			      "created", (json_int_t)t->created);

	json_object_set_new(o, "expires", t->expires ? json_integer(t->expires) : json_null());
	return o;
}

/* A string member, or NULL (replying 400) when missing or not a string. */
static const char *need_string(lw__reply *r, json_t *body, const char *key, size_t max)
{
	json_t *v = json_object_get(body, key);

	if (!json_is_string(v)) {
		lw__reply_error(r, 400, NULL, "\"%s\" is missing or not a string", key);
		return NULL;
	}
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
		lw__reply_error(r, 400, NULL, "\"%s\" is longer than %zu bytes or holds a NUL", key, max);
		return NULL;
	}
	return json_string_value(v);
}

static bool good_password(lw__reply *r, const char *pw)
{
	if (strlen(pw) < 8) {
		lw__reply_error(r, 400, NULL, "the password must have at least 8 characters");
		return false;
	}
	return true;
}

void lw__api_register(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q);
	const char *email, *pw, *name = "";
	lw_user_record u = { 0 };
	char hash[128];
	lw_dock *d = NULL;
	int64_t id;
	int err;

	if (!body)
		return;
	if (!q->srv->c.allow_register) {
		lw__reply_error(r, 403, NULL, "registration is closed on this dock: an admin creates accounts (learnware admin create)");
		goto done;
	}
	if (!(email = need_string(r, body, "email", 254)) || !(pw = need_string(r, body, "password", 1024)))
		goto done;
	if (json_object_get(body, "name") && !(name = need_string(r, body, "name", NAME_MAX_LEN)))
		goto done;
	if (!lw__valid_email(email)) {
		lw__reply_error(r, 400, NULL, "\"%s\" is not an e-mail address", email);
		goto done;
	}
	if (!good_password(r, pw) || lw__password_hash(hash, pw) < 0)
		goto done;
	if (!(d = lw__dock_get(q->srv))) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	err = lw_store_user_add(&id, lw_dock_store(d), email, name, hash, LW_ROLE_USER);
	if (err == LW_EEXISTS)
		lw__reply_error(r, 409, NULL, "an account with this e-mail exists: log in instead");
	else if (err < 0 || (err = lw_store_user_get(&u, lw_dock_store(d), id)) < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 201, json_pack("{s:o}", "user", lw__user_json(&u)));
done:
	lw_user_record_dispose(&u);
	lw__dock_put(q->srv, d);
	json_decref(body);
}

/* A new token of a kind for a user; the reply carries it once. */
static json_t *issue_token(lw_store *st, int64_t user, int kind, const char *name, int64_t expires)
{
	lw_token_record t = { 0 };
	char token[48], hash[65];
	int64_t id;
	json_t *o;

	lw__token_new(token, hash);
	t.hash = hash;
	t.user_id = user;
	t.name = (char *)name;
	t.kind = kind;
	t.expires = expires;
	if (lw_store_token_add(&id, st, &t) < 0)
		return NULL;
	t.id = id;
	t.created = lw__now_ms();
	o = token_json(&t);
	json_object_set_new(o, "token", json_string(token));
	sodium_memzero(token, sizeof(token));
	return o;
}

void lw__api_login(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q), *tok;
	lw_user_record u = { 0 };
	const char *email, *pw;
	lw_dock *d = NULL;
	int wait, err;

	if (!body)
		return;
	if (!(email = need_string(r, body, "email", 254)) || !(pw = need_string(r, body, "password", 1024)))
		goto done;
	if ((wait = lw__login_throttled(q->srv, email, q->client)) > 0) {
		lw__reply_error(r, 429, NULL, "too many failed logins: try again in %d s", wait);
		snprintf(r->retry_after, sizeof(r->retry_after), "%d", wait);
		goto done;
	}
	if (!(d = lw__dock_get(q->srv))) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	err = lw_store_user_find(&u, lw_dock_store(d), email);
	if (err < 0 && err != LW_ENOTFOUND) {
		lw__reply_lw_error(r, err);
		goto done;
	}
	/* An unknown e-mail costs a hash too, so timing does not tell accounts apart. */
	if (err == LW_ENOTFOUND) {
		char dummy[128];

		lw__password_hash(dummy, pw);
	}
	if (err == LW_ENOTFOUND || !lw__password_verify(u.password_hash, pw)) {
		lw__login_failed(q->srv, email, q->client);
		lw__reply_error(r, 401, NULL, "wrong e-mail or password");
		goto done;
	}
	lw__login_succeeded(q->srv, email);
	tok = issue_token(lw_dock_store(d), u.id, LW_TOKEN_SESSION, "session",
			  lw__now_ms() + (int64_t)q->srv->c.session_hours * 3600000);
	if (!tok) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	json_object_set_new(tok, "user", lw__user_json(&u));
	lw__reply_json(r, 200, tok);
done:
	lw_user_record_dispose(&u);
	lw__dock_put(q->srv, d);
	json_decref(body);
}

void lw__api_logout(lw__reply *r, lw__request *q)
{
	lw_dock *d = lw__dock_get(q->srv);
	int err = d ? lw_store_token_revoke(lw_dock_store(d), q->token_id, q->user_id) : LW_EIO;

	lw__dock_put(q->srv, d);
	if (err < 0 && err != LW_ENOTFOUND)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 204, NULL);
}

static void reply_me(lw__reply *r, lw__request *q, lw_store *st)
{
	lw_user_record u = { 0 };
	int err = lw_store_user_get(&u, st, q->user_id);

	if (err < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 200, lw__user_json(&u));
	lw_user_record_dispose(&u);
}

void lw__api_me(lw__reply *r, lw__request *q)
{
	lw_dock *d = lw__dock_get(q->srv);

	if (!d)
		lw__reply_lw_error(r, LW_EIO);
	else
		reply_me(r, q, lw_dock_store(d));
	lw__dock_put(q->srv, d);
}

void lw__api_me_update(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q);
	lw_dock *d = NULL;
	const char *name;
	int err;

	if (!body)
		return;
	if (!(name = need_string(r, body, "name", NAME_MAX_LEN)))
		goto done;
	if (!(d = lw__dock_get(q->srv))) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	if ((err = lw_store_user_set_name(lw_dock_store(d), q->user_id, name)) < 0)
		lw__reply_lw_error(r, err);
	else
		reply_me(r, q, lw_dock_store(d));
done:
	lw__dock_put(q->srv, d);
	json_decref(body);
}

/* Revoke the user's session tokens except the one in use. */
static int revoke_other_sessions(lw_store *st, const lw__request *q)
{
	lw_token_list l = { 0 };
	int err = lw_store_token_list(&l, st, q->user_id);

	for (size_t i = 0; err == 0 && i < l.count; i++)
		if (l.items[i].kind == LW_TOKEN_SESSION && l.items[i].id != q->token_id)
			err = lw_store_token_revoke(st, l.items[i].id, q->user_id);
	lw_token_list_dispose(&l);
	return err;
}

void lw__api_password(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q);
	lw_user_record u = { 0 };
	const char *old, *new;
	char hash[128];
	lw_dock *d = NULL;
	int err;

	if (!body)
		return;
	if (!(old = need_string(r, body, "old_password", 1024)) ||
	    !(new = need_string(r, body, "new_password", 1024)) || !good_password(r, new))
		goto done;
	if (!(d = lw__dock_get(q->srv)) || (err = lw_store_user_get(&u, lw_dock_store(d), q->user_id)) < 0) {
		lw__reply_lw_error(r, d ? err : LW_EIO);
		goto done;
	}
	if (!lw__password_verify(u.password_hash, old)) {
		lw__reply_error(r, 403, NULL, "the old password is wrong");
		goto done;
	}
	if ((err = lw__password_hash(hash, new)) < 0 ||
	    (err = lw_store_user_set_password(lw_dock_store(d), q->user_id, hash)) < 0 ||
	    (err = revoke_other_sessions(lw_dock_store(d), q)) < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 204, NULL);
done:
	lw_user_record_dispose(&u);
	lw__dock_put(q->srv, d);
	json_decref(body);
}

void lw__api_tokens(lw__reply *r, lw__request *q)
{
	lw_dock *d = lw__dock_get(q->srv);
	lw_token_list l = { 0 };
	int64_t now = lw__now_ms();
	json_t *items;
	int err;

	if (!d || (err = lw_store_token_list(&l, lw_dock_store(d), q->user_id)) < 0) {
		lw__reply_lw_error(r, d ? err : LW_EIO);
		lw__dock_put(q->srv, d);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.count; i++)
		if (!l.items[i].expires || l.items[i].expires > now)
			json_array_append_new(items, token_json(&l.items[i]));
	lw__reply_json(r, 200, json_pack("{s:o}", "items", items));
	lw_token_list_dispose(&l);
	lw__dock_put(q->srv, d);
}

void lw__api_token_create(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q), *days, *tok;
	const char *name;
	lw_dock *d = NULL;
	json_int_t n = 90;

	if (!body)
		return;
	if (!(name = need_string(r, body, "name", NAME_MAX_LEN)))
		goto done;
	if ((days = json_object_get(body, "expires_days"))) {
		if (!json_is_integer(days) || (n = json_integer_value(days)) < 1 || n > 3650) {
			lw__reply_error(r, 400, NULL, "\"expires_days\" must be a whole number from 1 to 3650");
			goto done;
		}
	}
	if (!(d = lw__dock_get(q->srv)) ||
	    !(tok = issue_token(lw_dock_store(d), q->user_id, LW_TOKEN_API, name,
				lw__now_ms() + (int64_t)n * 86400000))) {
		lw__reply_lw_error(r, LW_EIO);
		goto done;
	}
	lw__reply_json(r, 201, tok);
done:
	lw__dock_put(q->srv, d);
	json_decref(body);
}

void lw__api_token_delete(lw__reply *r, lw__request *q)
{
	char *end;
	long long id = strtoll(q->params[0], &end, 10);
	lw_dock *d;
	int err;

	if (*end || id <= 0) {
		lw__reply_error(r, 404, NULL, "no token %s", q->params[0]);
		return;
	}
	d = lw__dock_get(q->srv);
	err = d ? lw_store_token_revoke(lw_dock_store(d), id, q->user_id) : LW_EIO;
	lw__dock_put(q->srv, d);
	if (err == LW_ENOTFOUND)
		lw__reply_error(r, 404, NULL, "no token %lld of yours", id);
	else if (err < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 204, NULL);
}
