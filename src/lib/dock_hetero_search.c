/*
 * Heterogeneous search: beside the table search, when the user's table
 * columns are described and the dock has a map, the usable table
 * learnwares of *other* feature spaces are ranked by MMD^2 between
 * heterogeneous specifications in the shared space (docs/hetero.md).
 * Learnwares of the user's own space stay with the table search, whose
 * raw RKMEs compare more precisely.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
	lw_dock *d;
	const lw_semantic *user;
	size_t user_dim;
	const lw_rkme **rkme; /* candidates' shared-space RKMEs */
	char (*ids)[16];
	size_t n, cap;
	lw_rkme **own_rkme;     /* table RKMEs the cache had no room for */
	lw_hetero_spec **own_hs; /* ... and their heterogeneous specifications */
	size_t n_own_rkme, n_own_hs;
} hetero_set;

static void hetero_set_dispose(hetero_set *h)
{
	for (size_t i = 0; i < h->n_own_rkme; i++)
		lw_rkme_free(h->own_rkme[i]);
	for (size_t i = 0; i < h->n_own_hs; i++)
		lw_hetero_spec_free(h->own_hs[i]);
	free(h->own_rkme);
	free(h->own_hs);
	free(h->rkme);
	free(h->ids);
}

static int grow(hetero_set *h)
{
	size_t cap = h->cap ? 2 * h->cap : 64;
	void *p;

	if (!(p = lw__reallocarray(h->rkme, cap, sizeof(*h->rkme))))
		return LW_ENOMEM;
	h->rkme = p;
	if (!(p = lw__reallocarray(h->ids, cap, sizeof(*h->ids))))
		return LW_ENOMEM;
	h->ids = p;
	if (!(p = lw__reallocarray(h->own_rkme, cap, sizeof(*h->own_rkme))))
		return LW_ENOMEM;
	h->own_rkme = p;
	if (!(p = lw__reallocarray(h->own_hs, cap, sizeof(*h->own_hs))))
		return LW_ENOMEM;
	h->own_hs = p;
	h->cap = cap;
	return 0;
}

/* A learnware of another, described feature space joins with its shared-space specification. */
static int consider(hetero_set *h, const char *id)
{
	lw_learnware_record rec = { 0 };
	lw_semantic *sem = NULL;
	const lw_rkme *r;
	const lw_hetero_spec *hs;
	lw_rkme *own = NULL;
	lw_hetero_spec *own_hs = NULL;
	int err;

	if (h->n == h->cap && (err = grow(h)) < 0)
		return err;
	if ((err = lw__dock_rkme(&r, &own, h->d, id)) < 0)
		return err == LW_ENOTFOUND || err == LW_EINVALID ? 0 : err;
	if ((err = lw_store_get(&rec, h->d->st, id)) < 0 ||
	    lw_semantic_from_json(&sem, rec.semantic_json, strlen(rec.semantic_json), id) < 0 ||
	    !lw__dock_described(sem, lw_rkme_dim(r)) ||
	    !lw_hetero_is_candidate(h->user, h->user_dim, sem, lw_rkme_dim(r)))
		goto done;
	if ((err = lw__dock_hetero_spec(&hs, &own_hs, h->d, id, r, sem)) < 0)
		goto done;
	if (own_hs)
		h->own_hs[h->n_own_hs++] = own_hs;
	if (own)
		h->own_rkme[h->n_own_rkme++] = own;
	own = NULL;
	h->rkme[h->n] = hs->rkme;
	snprintf(h->ids[h->n++], sizeof(h->ids[0]), "%s", id);
done:
	lw_rkme_free(own); /* not a candidate: nothing points at it */
	lw_semantic_free(sem);
	lw_learnware_record_dispose(&rec);
	return err == LW_ENOTFOUND ? 0 : err;
}

static int walk_one(const lw_store_spec *spec, void *payload)
{
	return consider(payload, spec->learnware_id);
}

static int gather(hetero_set *h, const lw__semantic_set *s)
{
	int err = 0;

	if (s->all) {
		lw_spec_filter f = LW_SPEC_FILTER_INIT;

		f.type = LW__TABLE_SPEC;
		f.usable_only = 1;
		return lw_store_foreach_spec(h->d->st, &f, walk_one, h);
	}
	for (size_t i = 0; i < s->n && err == 0; i++)
		err = consider(h, s->ids[i]);
	return err;
}

/* Whether the search applies; *why says why not. */
static int applies(lw_semantic **user, const char **why, const lw_dock_query *q)
{
	*user = NULL;
	if (q->version < 3 || q->hetero < 0) {
		*why = "heterogeneous search was not asked for";
		return 0;
	}
	if (!q->rkme) {
		*why = "no table specification";
		return 0;
	}
	if (!q->semantic_json ||
	    lw_semantic_from_json(user, q->semantic_json, strlen(q->semantic_json), "the user's") < 0) {
		*why = "no semantic specification with described Input columns";
		return 0;
	}
	if (!lw_hetero_user_applies(*user, q->rkme, why)) {
		lw_semantic_free(*user);
		*user = NULL;
		return 0;
	}
	return 1;
}

static int rank(lw_dock_result *out, lw_dock *d, const hetero_set *h, const lw_hetero_spec *us,
		const lw_dock_query *q)
{
	lw_stat_search_result r = { 0 };
	lw_dock_result *res = lw__calloc(1, sizeof(*res));
	int err = 0;

	if (!res)
		return LW_ENOMEM;
	out->hetero = res;
	res->statistical = 1;
	res->candidates = h->n;
	res->semantic_matches = h->n;
	if (h->n == 0)
		return 0;
	if ((err = lw_stat_search(&r, us->rkme, h->rkme, h->n, &q->stat)) == 0)
		err = lw__dock_stat_results(res, d, (const char(*)[16])h->ids, &r, NULL, h->rkme, us->rkme,
					    q->max_results);
	lw_stat_search_result_dispose(&r);
	return err;
}

int lw__dock_search_hetero(lw_dock_result *out, lw_dock *d, const lw__semantic_set *s,
			   const lw_dock_query *q)
{
	const lw_hetero_map *map;
	lw_semantic *user = NULL;
	lw_hetero_spec *us = NULL;
	hetero_set h;
	int err;

	memset(&h, 0, sizeof(h));
	if (!applies(&user, &out->hetero_why, q))
		return 0;
	if ((err = lw__dock_hetero_map(&map, d)) < 0)
		goto done;
	if (!map) {
		out->hetero_why = "the dock has no heterogeneous map yet: it trains one when enough usable "
				  "table learnwares describe their columns (hetero_min, 20 by default)";
		goto done;
	}
	if ((err = lw_hetero_spec_from_semantic(&us, map, q->rkme, user, NULL)) < 0)
		goto done;
	h.d = d;
	h.user = user;
	h.user_dim = lw_rkme_dim(q->rkme);
	if ((err = gather(&h, s)) == 0)
		err = rank(out, d, &h, us, q);
	if (err == 0)
		snprintf(out->hetero_map, sizeof(out->hetero_map), "%s", lw_hetero_map_id(map));
done:
	hetero_set_dispose(&h);
	lw_hetero_spec_free(us);
	lw_semantic_free(user);
	return err;
}
