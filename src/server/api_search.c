/*
 * Search: the semantic stage, and with a user RKME the statistical
 * ranking and the recommended mixture, on the server's indexed dock.
 * Requests take the JSON form or the multipart form (an RKME file).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

typedef struct {
	char *semantic; /* JSON text or NULL */
	lw_dock_user_spec spec; /* table, text or image, told by its "type" */
	size_t page, limit;
} query;

static void query_dispose(query *s)
{
	free(s->semantic);
	lw_dock_user_spec_dispose(&s->spec);
}

static int parse_rkme(lw__reply *r, query *s, const char *text, size_t len)
{
	int err = lw_dock_user_spec_parse(&s->spec, text, len, "the rkme");

	if (err < 0)
		lw__reply_error(r, 400, NULL, "%s", lw_error_last()->message);
	return err;
}

static int number_field(lw__reply *r, json_t *v, const char *name, size_t *out, size_t max)
{
	if (!v)
		return 0;
	if (json_is_string(v)) {
		char *end;
		long long n = strtoll(json_string_value(v), &end, 10);

		if (*end == '\0' && n >= 1) {
			*out = (size_t)n > max ? max : (size_t)n;
			return 0;
		}
	} else if (json_is_integer(v) && json_integer_value(v) >= 1) {
		*out = (size_t)json_integer_value(v) > max ? max : (size_t)json_integer_value(v);
		return 0;
	}
	lw__reply_error(r, 400, NULL, "\"%s\" must be a whole number from 1", name);
	return -1;
}

static int from_json(lw__reply *r, query *s, lw__request *q)
{
	json_t *body = q->body_len ? lw__body_object(r, q) : json_object(), *sem, *rk;
	char *text = NULL;
	int err = -1;

	if (!body)
		return -1;
	sem = json_object_get(body, "semantic");
	rk = json_object_get(body, "rkme");
	if (sem && !json_is_null(sem) && !json_is_object(sem))
		lw__reply_error(r, 400, NULL, "\"semantic\" must be an object (a semantic specification)");
	else if (rk && !json_is_null(rk) && !json_is_object(rk))
		lw__reply_error(r, 400, NULL, "\"rkme\" must be an object (a table, text or image RKME specification)");
	else if (number_field(r, json_object_get(body, "page"), "page", &s->page, 1000000) == 0 &&
		 number_field(r, json_object_get(body, "limit"), "limit", &s->limit, 100) == 0) {
		err = 0;
		if (json_is_object(sem) && !(s->semantic = json_dumps(sem, JSON_COMPACT)))
			err = LW_ENOMEM;
		if (err == 0 && json_is_object(rk)) {
			if (!(text = json_dumps(rk, JSON_COMPACT)))
				err = LW_ENOMEM;
			else
				err = parse_rkme(r, s, text, strlen(text));
		}
		if (err == LW_ENOMEM)
			lw__reply_lw_error(r, err);
	}
	free(text);
	json_decref(body);
	return err;
}

/* A form field's or file part's bytes as a new string (NULL when absent), within max_body_kb. */
static int part_text(lw__reply *r, const lw__part *p, size_t max, char **out, size_t *len)
{
	FILE *f = NULL;
	long n = 0;

	*out = NULL;
	*len = 0;
	if (!p)
		return 0;
	if (!p->path) {
		if (!(*out = malloc(p->len + 1)))
			return LW_ENOMEM;
		memcpy(*out, p->value ? p->value : "", p->len);
		(*out)[p->len] = '\0';
		*len = p->len;
		return 0;
	}
	if (!(f = fopen(p->path, "rb")) || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    (size_t)n > max || fseek(f, 0, SEEK_SET) != 0 || !(*out = malloc((size_t)n + 1)) ||
	    fread(*out, 1, (size_t)n, f) != (size_t)n) {
		if (f)
			fclose(f);
		free(*out);
		*out = NULL;
		lw__reply_error(r, 413, NULL, "the \"%s\" file is over the %zu KiB limit (max_body_kb)",
				p->name, max >> 10);
		return -1;
	}
	fclose(f);
	(*out)[n] = '\0';
	*len = (size_t)n;
	return 0;
}

static int form_number(lw__reply *r, lw__request *q, const char *name, size_t *out, size_t max)
{
	const lw__part *p = lw__part_get(q, name);
	json_t *v;
	int err;

	if (!p || p->path)
		return 0;
	v = json_string(p->value ? p->value : "");
	err = number_field(r, v, name, out, max);
	json_decref(v);
	return err;
}

static int from_form(lw__reply *r, query *s, lw__request *q)
{
	char *rk = NULL;
	size_t len = 0;
	int err;

	if ((err = form_number(r, q, "page", &s->page, 1000000)) < 0 ||
	    (err = form_number(r, q, "limit", &s->limit, 100)) < 0 ||
	    (err = part_text(r, lw__part_get(q, "semantic"), q->body_max, &s->semantic, &len)) < 0)
		return err;
	if (s->semantic && len == 0) {
		free(s->semantic);
		s->semantic = NULL;
	}
	if ((err = part_text(r, lw__part_get(q, "rkme"), q->body_max, &rk, &len)) == 0 && rk && len)
		err = parse_rkme(r, s, rk, len);
	free(rk);
	return err;
}

static json_t *hit_json(const lw_dock_hit *h, double weight, bool with_weight)
{
	json_t *o = json_pack("{s:s, s:s, s:f}", "id", h->id, "name", h->name ? h->name : "", "score",
			      isfinite(h->score) ? h->score : 0.0);

	json_object_set_new(o, "mmd2", isfinite(h->mmd2) ? json_real(h->mmd2) : json_null());
	if (with_weight)
		json_object_set_new(o, "weight", json_real(weight));
	return o;
}

static json_t *result_json(lw_server *s, const lw_dock_result *res, const query *qs)
{
	size_t from = (qs->page - 1) * qs->limit, to = from + qs->limit;
	json_t *items = json_array(), *mix = json_null(), *root;
	lw_dock *d = lw__dock_get(s);

	for (size_t i = from; i < res->count && i < to; i++) {
		json_t *o = hit_json(&res->hits[i], 0, false);
		lw_learnware_record rec = { 0 };

		if (d && lw_store_get(&rec, lw_dock_store(d), res->hits[i].id) == 0)
			json_object_set_new(o, "semantic", json_loads(rec.semantic_json, 0, NULL));
		lw_learnware_record_dispose(&rec);
		json_array_append_new(items, o);
	}
	lw__dock_put(s, d);
	if (res->mixture_count) {
		json_t *m = json_array();

		for (size_t i = 0; i < res->mixture_count; i++)
			json_array_append_new(m, hit_json(&res->mixture[i], res->weights[i], true));
		json_decref(mix);
		mix = json_pack("{s:f, s:f, s:o}", "score", res->mixture_score, "mmd2", res->mixture_mmd2,
				"items", m);
	}
	root = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:b, s:b}", "kind",
			 res->statistical ? "statistical" : "semantic", "total", (json_int_t)res->count,
			 "semantic_matches", (json_int_t)res->semantic_matches, "page",
			 (json_int_t)qs->page, "limit", (json_int_t)qs->limit, "items", items, "mixture", mix,
			 "candidates", (json_int_t)res->candidates, "index", res->used_index, "fuzzy",
			 res->fuzzy);
	if (res->hetero) {
		json_t *h = result_json(s, res->hetero, qs);

		json_object_set_new(h, "map_id", json_string(res->hetero_map));
		json_object_set_new(root, "heterogeneous", h);
	} else {
		json_object_set_new(root, "heterogeneous", json_null());
		if (res->hetero_why)
			json_object_set_new(root, "heterogeneous_why", json_string(res->hetero_why));
	}
	return root;
}

void lw__api_search(lw__reply *r, lw__request *q)
{
	lw_dock_query dq = LW_DOCK_QUERY_INIT;
	lw_dock_result res = { 0 };
	query s = { NULL, { NULL, NULL, NULL }, 1, 20 };
	int err;

	if ((q->body_kind == BODY_MULTIPART ? from_form(r, &s, q) : from_json(r, &s, q)) < 0) {
		if (!r->status)
			lw__reply_lw_error(r, LW_ENOMEM);
		query_dispose(&s);
		return;
	}
	dq.semantic_json = s.semantic;
	lw_dock_query_set_spec(&dq, &s.spec);
	pthread_mutex_lock(&q->srv->search_lock);
	err = lw_dock_search(&res, q->srv->search, &dq);
	pthread_mutex_unlock(&q->srv->search_lock);
	atomic_fetch_add(&q->srv->metrics.searches, 1);
	if (err == LW_EINVALID)
		lw__reply_error(r, 400, NULL, "%s", lw_error_last()->message);
	else if (err < 0)
		lw__reply_lw_error(r, err);
	else
		lw__reply_json(r, 200, result_json(q->srv, &res, &s));
	lw_dock_result_dispose(&res);
	query_dispose(&s);
}
