/*
 * Dock search: the semantic stage in the store (tag filters, full-text and
 * fuzzy names), then, with a user RKME, the statistical ranking and the
 * mixture among the learnwares that passed.  Small candidate sets are
 * ranked exactly; large ones through the sketch index, whose best
 * candidates are re-ranked by the exact MMD (docs/dock.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
	const lw_rkme **rkme;
	char (*ids)[16];
	size_t n, cap;
	lw_rkme **owned; /* specifications the cache had no room for */
	size_t n_owned, cap_owned;
} candidates;

void lw_dock_result_dispose(lw_dock_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->hits[i].name);
	for (size_t i = 0; i < r->mixture_count; i++)
		free(r->mixture[i].name);
	free(r->hits);
	free(r->mixture);
	free(r->weights);
	if (r->hetero) {
		lw_dock_result_dispose(r->hetero);
		free(r->hetero);
	}
	memset(r, 0, sizeof(*r));
}

void lw__semantic_set_dispose(lw__semantic_set *s)
{
	free(s->ids);
	free(s->scores);
	free(s->sorted);
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

int lw__semantic_has(const lw__semantic_set *s, const char *id)
{
	return s->all || bsearch(id, s->sorted, s->n, sizeof(*s->sorted), cmp_id) != NULL;
}

int lw__semantic_stage(lw__semantic_set *s, lw_dock *d, const lw_dock_query *q)
{
	lw_semantic_search_options so = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
	lw_semantic_hits hits = { 0 };
	size_t kept = 0;
	int err;

	memset(s, 0, sizeof(*s));
	if (!q->semantic_json && !q->id) {
		s->all = 1;
		return 0;
	}
	so.learnware_id = q->id;
	if ((err = lw_store_semantic_search(&hits, d->st, q->semantic_json ? q->semantic_json : "{}",
					    &so)) < 0)
		return err;
	s->ids = lw__mallocarray(hits.count ? hits.count : 1, sizeof(*s->ids));
	s->scores = lw__mallocarray(hits.count ? hits.count : 1, sizeof(double));
	s->sorted = lw__mallocarray(hits.count ? hits.count : 1, sizeof(*s->sorted));
	if (!s->ids || !s->scores || !s->sorted) {
		lw_semantic_hits_dispose(&hits);
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < hits.count; i++) {
		snprintf(s->ids[kept], sizeof(s->ids[0]), "%s", hits.ids[i]);
		s->scores[kept++] = hits.scores ? hits.scores[i] : 1.0;
	}
	s->n = kept;
	s->fuzzy = hits.fuzzy;
	lw_semantic_hits_dispose(&hits);
	memcpy(s->sorted, s->ids, s->n * sizeof(*s->ids));
	qsort(s->sorted, s->n, sizeof(*s->sorted), cmp_id);
	return 0;
}

static int push_candidate(candidates *c, const char *id, const lw_rkme *r)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		void *a = lw__reallocarray(c->rkme, cap, sizeof(*c->rkme));

		if (!a)
			return LW_ENOMEM;
		c->rkme = a;
		if (!(a = lw__reallocarray(c->ids, cap, sizeof(*c->ids))))
			return LW_ENOMEM;
		c->ids = a;
		c->cap = cap;
	}
	c->rkme[c->n] = r;
	snprintf(c->ids[c->n++], sizeof(c->ids[0]), "%s", id);
	return 0;
}

/* A learnware's specification if it can be compared with the user's. */
static int add_if_comparable(candidates *c, lw_dock *d, const char *id, const lw_rkme *user)
{
	const lw_rkme *r;
	lw_rkme *own = NULL;
	int err = lw__dock_rkme(&r, &own, d, id);

	/* No table specification, or one that no longer parses: not a candidate. */
	if (err == LW_ENOTFOUND || err == LW_EINVALID)
		return 0;
	if (err < 0)
		return err;
	if (own) {
		if (c->n_owned == c->cap_owned) {
			size_t cap = c->cap_owned ? 2 * c->cap_owned : 64;
			void *p = lw__reallocarray(c->owned, cap, sizeof(*c->owned));

			if (!p) {
				lw_rkme_free(own);
				return LW_ENOMEM;
			}
			c->owned = p;
			c->cap_owned = cap;
		}
		c->owned[c->n_owned++] = own;
	}
	if (lw_rkme_dim(r) != lw_rkme_dim(user) || r->gamma != user->gamma)
		return 0;
	return push_candidate(c, id, r);
}

typedef struct {
	lw_dock *d;
	candidates *c;
	const lw_rkme *user;
} walk_all;

static int walk_one(const lw_store_spec *spec, void *payload)
{
	walk_all *w = payload;

	return add_if_comparable(w->c, w->d, spec->learnware_id, w->user);
}

/* Every comparable specification, exactly. */
static int exact_candidates(candidates *c, lw_dock *d, const lw__semantic_set *s, const lw_rkme *user)
{
	int err = 0;

	if (s->all) {
		lw_spec_filter f = LW_SPEC_FILTER_INIT;
		walk_all w = { d, c, user };
		size_t k = lw_index_size(d->ix), got = 0;
		uint64_t *keys = k ? lw__mallocarray(k, sizeof(*keys)) : NULL;

		/* The index lists every usable table specification of the user's
		 * dimension without reading their bodies from the store again; its
		 * order does not matter here, every one is ranked exactly. */
		if (keys && lw_index_query(keys, NULL, &got, d->ix, user, k) == 0) {
			for (size_t i = 0; i < got && err == 0; i++) {
				char id[16];

				snprintf(id, sizeof(id), "%08llu", (unsigned long long)keys[i]);
				err = add_if_comparable(c, d, id, user);
			}
			free(keys);
			return err;
		}
		free(keys);

		f.type = LW__TABLE_SPEC;
		f.dim = lw_rkme_dim(user);
		f.usable_only = 1;
		return lw_store_foreach_spec(d->st, &f, walk_one, &w);
	}
	for (size_t i = 0; i < s->n && err == 0; i++)
		err = add_if_comparable(c, d, s->ids[i], user);
	return err;
}

/*
 * The index's best candidates that pass the semantic stage; widened until
 * enough pass or the partition is exhausted.  *exhausted says the index
 * could not supply `need` of them (the caller then ranks exactly).
 */
static int indexed_candidates(candidates *c, int *exhausted, lw_dock *d, const lw__semantic_set *s,
			      const lw_rkme *user, size_t need)
{
	size_t k = d->o.rerank > need ? d->o.rerank : need, size = lw_index_size(d->ix);
	uint64_t *keys = NULL;
	int err = 0;

	*exhausted = 0;
	for (;;) {
		size_t got = 0;
		void *p = lw__reallocarray(keys, k, sizeof(*keys));

		if (!p) {
			err = LW_ENOMEM;
			break;
		}
		keys = p;
		c->n = 0;
		if ((err = lw_index_query(keys, NULL, &got, d->ix, user, k)) < 0)
			break;
		for (size_t i = 0; i < got && err == 0; i++) {
			char id[16];

			snprintf(id, sizeof(id), "%08llu", (unsigned long long)keys[i]);
			if (lw__semantic_has(s, id))
				err = add_if_comparable(c, d, id, user);
		}
		if (err < 0 || c->n >= need || got < k)
			break;
		/* Few passed the semantic filter: look further, up to a scan's worth. */
		if (k >= size || k >= 16 * d->o.exact_limit) {
			*exhausted = 1;
			break;
		}
		k *= 4;
	}
	free(keys);
	return err;
}

int lw__dock_fill_hit(lw_dock_hit *h, lw_dock *d, const char *id, double score, double mmd2)
{
	lw_learnware_record rec = { 0 };

	snprintf(h->id, sizeof(h->id), "%s", id);
	h->score = score;
	h->mmd2 = mmd2;
	if (lw_store_get(&rec, d->st, id) == 0)
		h->name = lw__dock_semantic_name(rec.semantic_json);
	else
		h->name = lw__strdup("");
	lw_learnware_record_dispose(&rec);
	return h->name ? 0 : LW_ENOMEM;
}

/* Semantic results only: every learnware that passed, in the stage's order. */
static int semantic_results(lw_dock_result *out, lw_dock *d, const lw__semantic_set *s, size_t max)
{
	lw_learnware_list l = { NULL, 0 };
	size_t n;
	int err = 0;

	if (s->all) {
		lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;

		f.usability = LW_USABILITY_USABLE;
		f.limit = max;
		if ((err = lw_store_list(&l, d->st, &f)) < 0)
			return err;
		n = l.count;
	} else {
		n = max && s->n > max ? max : s->n;
	}
	out->semantic_matches = s->all ? n : s->n;
	out->fuzzy = s->fuzzy;
	if (n && !(out->hits = lw__calloc(n, sizeof(*out->hits))))
		err = LW_ENOMEM;
	for (size_t i = 0; i < n && err == 0; i++, out->count++) {
		if (s->all) {
			lw_dock_hit *h = &out->hits[i];

			snprintf(h->id, sizeof(h->id), "%s", l.items[i].id);
			h->score = 1.0;
			h->mmd2 = NAN;
			if (!(h->name = lw__dock_semantic_name(l.items[i].semantic_json)))
				err = LW_ENOMEM;
		} else {
			err = lw__dock_fill_hit(&out->hits[i], d, s->ids[i], s->scores[i], NAN);
		}
	}
	lw_learnware_list_dispose(&l);
	return err;
}

int lw__dock_stat_results(lw_dock_result *out, lw_dock *d, const char (*ids)[16],
			  const lw_stat_search_result *r, const double *dist_all, const lw_rkme *const *rkme,
			  const lw_rkme *user, size_t max_results)
{
	size_t n = max_results && r->n_singles > max_results ? max_results : r->n_singles;
	int err = 0;

	if (n && !(out->hits = lw__calloc(n, sizeof(*out->hits))))
		err = LW_ENOMEM;
	for (size_t i = 0; i < n && err == 0; i++, out->count++) {
		const lw_search_single *s = &r->singles[i];

		err = lw__dock_fill_hit(&out->hits[i], d, ids[s->index], s->score, s->mmd2);
	}
	if (err == 0 && r->mixture.count) {
		out->mixture = lw__calloc(r->mixture.count, sizeof(*out->mixture));
		out->weights = lw__mallocarray(r->mixture.count, sizeof(double));
		if (!out->mixture || !out->weights)
			err = LW_ENOMEM;
		for (size_t i = 0; i < r->mixture.count && err == 0; i++, out->mixture_count++) {
			size_t j = r->mixture.indices[i];
			double dist = NAN;

			/* Each member's own MMD, which the reference does not report. */
			for (size_t k = 0; k < r->n_singles; k++)
				if (r->singles[k].index == j)
					dist = r->singles[k].mmd2;
			if (isnan(dist) && dist_all)
				dist = dist_all[j];
			if (isnan(dist) && rkme)
				lw_rkme_dist(&dist, user, rkme[j]);
			err = lw__dock_fill_hit(&out->mixture[i], d, ids[j], r->mixture.score, dist);
			out->weights[i] = r->mixture.weights[i];
		}
		out->mixture_mmd2 = r->mixture.mmd2;
		out->mixture_score = r->mixture.score;
	}
	return err;
}

static int statistical_results(lw_dock_result *out, lw_dock *d, const candidates *c,
			       const lw_dock_query *q)
{
	lw_stat_search_result r = { 0 };
	int err;

	out->statistical = 1;
	out->candidates = c->n;
	if (c->n == 0)
		return 0;
	if ((err = lw_stat_search(&r, q->rkme, c->rkme, c->n, &q->stat)) < 0)
		return err;
	err = lw__dock_stat_results(out, d, (const char(*)[16])c->ids, &r, NULL,
				    (const lw_rkme *const *)c->rkme, q->rkme, q->max_results);
	lw_stat_search_result_dispose(&r);
	return err;
}

int lw_dock_search(lw_dock_result *out, lw_dock *d, const lw_dock_query *q)
{
	lw__semantic_set s;
	candidates c;
	size_t pool, need;
	int err, exhausted = 0;

	LW_ASSERT_ARG(out && d && q);
	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	if (!d->ix) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "this dock handle was opened without an index (no_index): open one without it to search");
		return LW_EINVALID;
	}
	if (q->rkme && !isfinite(q->rkme->self_inner)) {
		lw_error_set(LW_ERRCLASS_INVALID, "the user's RKME has a non-finite self-distance");
		return LW_EINVALID;
	}
	if (q->version >= 2 && (!!q->rkme + !!q->text + !!q->image) > 1) {
		lw_error_set(LW_ERRCLASS_INVALID, "a search takes one user specification: table, text or image");
		return LW_EINVALID;
	}
	if ((err = lw__semantic_stage(&s, d, q)) < 0)
		goto done;
	if (q->version >= 2 && (q->text || q->image)) {
		err = lw__dock_search_media(out, d, &s, q);
		goto done;
	}
	if (!q->rkme) {
		err = semantic_results(out, d, &s, q->max_results);
		goto done;
	}
	out->semantic_matches = s.all ? lw_index_size(d->ix) : s.n;
	out->fuzzy = s.fuzzy;
	pool = s.all ? lw_index_size(d->ix) : s.n;
	/* The mixture draws on the top max_search_num^2 singles. */
	need = q->stat.max_search_num * q->stat.max_search_num;
	if (need < q->max_results)
		need = q->max_results;
	if (need < 10)
		need = 10;
	if (!q->exact && pool > d->o.exact_limit) {
		out->used_index = 1;
		err = indexed_candidates(&c, &exhausted, d, &s, q->rkme, need);
	}
	if (err == 0 && (!out->used_index || exhausted)) {
		out->used_index = 0;
		c.n = 0;
		err = exact_candidates(&c, d, &s, q->rkme);
	}
	if (err == 0)
		err = statistical_results(out, d, &c, q);
	if (err == 0)
		err = lw__dock_search_hetero(out, d, &s, q);
done:
	if (err < 0)
		lw_dock_result_dispose(out);
	for (size_t i = 0; i < c.n_owned; i++)
		lw_rkme_free(c.owned[i]);
	free(c.owned);
	free(c.rkme);
	free(c.ids);
	lw__semantic_set_dispose(&s);
	return err;
}
