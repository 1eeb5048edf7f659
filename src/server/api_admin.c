/*
 * Admin routes: the dashboard's counts, users and their roles.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

/* Count one learnware's values of the tag keys the dashboard charts. */
static void count_tags(json_t *by_tag, const char *semantic_json)
{
	static const char *const keys[] = { "Data", "Task", "Library", "Scenario", "License" };
	json_t *sem = json_loads(semantic_json ? semantic_json : "{}", 0, NULL);

	for (size_t k = 0; sem && k < sizeof(keys) / sizeof(keys[0]); k++) {
		json_t *vals = json_object_get(json_object_get(sem, keys[k]), "Values"), *v, *bucket;
		size_t i;

		if (!(bucket = json_object_get(by_tag, keys[k])))
			json_object_set_new(by_tag, keys[k], bucket = json_object());
		json_array_foreach(vals, i, v) {
			if (!json_is_string(v))
				continue;
			json_object_set_new(bucket, json_string_value(v),
					    json_integer(json_integer_value(json_object_get(bucket,
											    json_string_value(v))) + 1));
		}
	}
	json_decref(sem);
}

static json_t *learnware_counts(lw_store *st, json_t *by_tag)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	json_t *by_status = json_object(), *by_verdict = json_object();
	size_t total = 0;
	char after[16] = "";

	/* Keyset pages keep memory flat on big docks. */
	for (;;) {
		lw_learnware_list l = { 0 };

		f.after_id = after[0] ? after : NULL;
		f.limit = 500;
		if (lw_store_list(&l, st, &f) < 0 || l.count == 0) {
			lw_learnware_list_dispose(&l);
			break;
		}
		for (size_t i = 0; i < l.count; i++) {
			const lw_learnware_record *r = &l.items[i];
			const char *s = lw__status_name(r->status), *v = lw__verdict_name(r->status, r->usability);

			json_object_set_new(by_status, s, json_integer(json_integer_value(json_object_get(by_status, s)) + 1));
			json_object_set_new(by_verdict, v, json_integer(json_integer_value(json_object_get(by_verdict, v)) + 1));
			count_tags(by_tag, r->semantic_json);
		}
		total += l.count;
		snprintf(after, sizeof(after), "%s", l.items[l.count - 1].id);
		lw_learnware_list_dispose(&l);
	}
	return json_pack("{s:I, s:o, s:o}", "total", (json_int_t)total, "by_status", by_status, "by_verdict",
			 by_verdict);
}

void lw__api_admin_summary(lw__reply *r, lw__request *q)
{
	static const char *const jobs[] = { "queued", "running", "done", "failed", "cancelled" };
	size_t counts[LW_JOB_NSTATES] = { 0 }, indexed;
	lw_user_list users = { 0 };
	json_t *by_tag = json_object(), *queue = json_object(), *lws;
	lw_dock *d = lw__dock_get(q->srv);
	int err;

	if (!d || (err = lw_store_user_list(&users, lw_dock_store(d), 0, 0)) < 0 ||
	    (err = lw_store_job_count(counts, lw_dock_store(d))) < 0) {
		lw__reply_lw_error(r, d ? err : LW_EIO);
		json_decref(by_tag);
		json_decref(queue);
		lw_user_list_dispose(&users);
		lw__dock_put(q->srv, d);
		return;
	}
	for (int j = 0; j < LW_JOB_NSTATES; j++)
		json_object_set_new(queue, jobs[j], json_integer((json_int_t)counts[j]));
	lws = learnware_counts(lw_dock_store(d), by_tag);
	pthread_mutex_lock(&q->srv->search_lock);
	indexed = lw_dock_indexed(q->srv->search);
	pthread_mutex_unlock(&q->srv->search_lock);
	lw__reply_json(r, 200,
		       json_pack("{s:I, s:o, s:o, s:o, s:I, s:I, s:I}", "users", (json_int_t)users.count,
				 "learnwares", lws, "queue", queue, "by_tag", by_tag, "downloads",
				 (json_int_t)atomic_load(&q->srv->metrics.downloads), "searches",
				 (json_int_t)atomic_load(&q->srv->metrics.searches), "indexed",
				 (json_int_t)indexed));
	lw_user_list_dispose(&users);
	lw__dock_put(q->srv, d);
}

void lw__api_admin_users(lw__reply *r, lw__request *q)
{
	lw_user_list all = { 0 }, page_users = { 0 };
	lw_dock *d = lw__dock_get(q->srv);
	size_t page, limit;
	json_t *items;
	int err;

	lw__paging(q, &page, &limit);
	if (!d || (err = lw_store_user_list(&all, lw_dock_store(d), 0, 0)) < 0 ||
	    (err = lw_store_user_list(&page_users, lw_dock_store(d), (page - 1) * limit, limit)) < 0) {
		lw__reply_lw_error(r, d ? err : LW_EIO);
	} else {
		items = json_array();
		for (size_t i = 0; i < page_users.count; i++)
			json_array_append_new(items, lw__user_json(&page_users.items[i]));
		lw__reply_json(r, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
						 (json_int_t)all.count, "page", (json_int_t)page, "limit",
						 (json_int_t)limit));
	}
	lw_user_list_dispose(&all);
	lw_user_list_dispose(&page_users);
	lw__dock_put(q->srv, d);
}

static int64_t user_param(lw__reply *r, lw__request *q)
{
	char *end;
	long long id = strtoll(q->params[0], &end, 10);

	if (*end || id <= 0) {
		lw__reply_error(r, 404, NULL, "no user %s", q->params[0]);
		return 0;
	}
	return id;
}

void lw__api_admin_user_patch(lw__reply *r, lw__request *q)
{
	json_t *body = lw__body_object(r, q), *role;
	lw_user_record u = { 0 };
	int64_t id;
	lw_dock *d = NULL;
	int err, to;

	if (!body || !(id = user_param(r, q)))
		goto done;
	role = json_object_get(body, "role");
	if (!json_is_string(role) || (strcmp(json_string_value(role), "admin") &&
				      strcmp(json_string_value(role), "user"))) {
		lw__reply_error(r, 400, NULL, "\"role\" must be \"admin\" or \"user\"");
		goto done;
	}
	to = !strcmp(json_string_value(role), "admin") ? LW_ROLE_ADMIN : LW_ROLE_USER;
	if (id == q->user_id && to != LW_ROLE_ADMIN) {
		lw__reply_error(r, 409, NULL, "you cannot take your own admin role: another admin can");
		goto done;
	}
	if (!(d = lw__dock_get(q->srv)))
		err = LW_EIO;
	else if ((err = lw_store_user_set_role(lw_dock_store(d), id, to)) == 0)
		err = lw_store_user_get(&u, lw_dock_store(d), id);
	if (err == LW_ENOTFOUND)
		lw__reply_error(r, 404, NULL, "no user %lld", (long long)id);
	else if (err < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 200, lw__user_json(&u));
done:
	lw_user_record_dispose(&u);
	lw__dock_put(q->srv, d);
	json_decref(body);
}

void lw__api_admin_user_delete(lw__reply *r, lw__request *q)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	char owner[24];
	size_t owned = 0;
	int64_t id;
	lw_dock *d;
	int err;

	if (!(id = user_param(r, q)))
		return;
	if (id == q->user_id) {
		lw__reply_error(r, 409, NULL, "you cannot delete your own account here");
		return;
	}
	if (!(d = lw__dock_get(q->srv))) {
		lw__reply_lw_error(r, LW_EIO);
		return;
	}
	snprintf(owner, sizeof(owner), "%lld", (long long)id);
	f.owner = owner;
	if ((err = lw_store_count(&owned, lw_dock_store(d), &f)) == 0 && owned)
		lw__reply_error(r, 409, NULL, "user %lld owns %zu learnware(s): delete or hand them over first",
				(long long)id, owned);
	else if (err < 0 || (err = lw_store_user_delete(lw_dock_store(d), id)) < 0)
		err == LW_ENOTFOUND ? lw__reply_error(r, 404, NULL, "no user %lld", (long long)id)
				    : lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 204, NULL);
	lw__dock_put(q->srv, d);
}
