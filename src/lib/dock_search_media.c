/*
 * Dock search for text and image learnwares.  The sketch index holds table
 * specifications only, so these are ranked by an exact scan of the
 * learnwares that passed the semantic stage: text ones with the reference's
 * language filter and the Gaussian MMD of their embeddings, image ones with
 * the cnn_gp kernel through lw_stat_search_space (docs/dock.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Candidates of one kind, their parsed specifications borrowed from the cache or owned. */
typedef struct {
	lw__media_kind kind;
	const void **spec;
	char (*ids)[16];
	size_t n, cap;
	void **owned;
	size_t n_owned;
	size_t skipped; /* other encoder, other languages, other dimension */
} media_set;

static void media_set_dispose(media_set *m)
{
	for (size_t i = 0; i < m->n_owned; i++)
		lw__dock_media_free(m->owned[i], m->kind);
	free(m->owned);
	free(m->spec);
	free(m->ids);
}

/* Whether the user could use this learnware's text at all: languages and encoder. */
static int text_comparable(const lw_text_spec *user, const lw_text_spec *t)
{
	return lw_text_languages_subset(&user->language, &t->language) &&
	       !strcmp(user->encoder, t->encoder) && user->encoder_version == t->encoder_version &&
	       !strcmp(user->encoder_sha256, t->encoder_sha256) &&
	       lw_rkme_dim(user->rkme) == lw_rkme_dim(t->rkme) && user->rkme->gamma == t->rkme->gamma;
}

static int image_comparable(const lw_rkme_image *user, const lw_rkme_image *r)
{
	return user->channels == r->channels;
}

static int media_push(media_set *m, const char *id, const void *spec, void *owned)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		void *a = lw__reallocarray(m->spec, cap, sizeof(*m->spec));

		if (!a)
			return LW_ENOMEM;
		m->spec = a;
		if (!(a = lw__reallocarray(m->ids, cap, sizeof(*m->ids))))
			return LW_ENOMEM;
		m->ids = a;
		if (!(a = lw__reallocarray(m->owned, cap, sizeof(*m->owned))))
			return LW_ENOMEM;
		m->owned = a;
		m->cap = cap;
	}
	if (owned)
		m->owned[m->n_owned++] = owned;
	m->spec[m->n] = spec;
	snprintf(m->ids[m->n++], sizeof(m->ids[0]), "%s", id);
	return 0;
}

typedef struct {
	lw_dock *d;
	media_set *m;
	const lw_dock_query *q;
} media_walk;

static int add_candidate(media_walk *w, const char *id)
{
	const void *spec;
	void *owned = NULL;
	int err = lw__dock_media(&spec, &owned, w->d, id, w->m->kind), ok;

	/* None of this kind, or one that no longer parses: not a candidate. */
	if (err == LW_ENOTFOUND || err == LW_EINVALID)
		return 0;
	if (err < 0)
		return err;
	ok = w->m->kind == LW__MEDIA_TEXT ? text_comparable(w->q->text, spec)
					  : image_comparable(w->q->image, spec);
	if (!ok) {
		w->m->skipped++;
		lw__dock_media_free(owned, w->m->kind);
		return 0;
	}
	if ((err = media_push(w->m, id, spec, owned)) < 0)
		lw__dock_media_free(owned, w->m->kind);
	return err;
}

static int walk_one(const lw_store_spec *spec, void *payload)
{
	return add_candidate(payload, spec->learnware_id);
}

static int gather(media_set *m, lw_dock *d, const lw__semantic_set *s, const lw_dock_query *q)
{
	media_walk w = { d, m, q };
	int err = 0;

	if (s->all) {
		lw_spec_filter f = LW_SPEC_FILTER_INIT;

		f.type = m->kind == LW__MEDIA_TEXT ? LW__TEXT_SPEC : LW__IMAGE_SPEC;
		f.usable_only = 1;
		return lw_store_foreach_spec(d->st, &f, walk_one, &w);
	}
	/* The semantic stage let usable learnwares through only. */
	for (size_t i = 0; i < s->n && err == 0; i++)
		err = add_candidate(&w, s->ids[i]);
	return err;
}

/* --- the image kernel's search space ------------------------------------------ */

typedef struct {
	lw_dock *d;
	const lw_rkme_image *user;
	const media_set *m;
	double *dist; /* every candidate's MMD^2, kept for the mixture members */
} image_space;

static int image_dist_all(double *d, void *payload)
{
	image_space *sp = payload;
	int err = lw_rkme_image_dist_many(d, sp->user, (const lw_rkme_image *const *)sp->m->spec,
					  sp->m->n);

	if (err == 0)
		memcpy(sp->dist, d, sp->m->n * sizeof(double));
	return err;
}

/* <u, c> from MMD^2 = <u,u> + <c,c> - 2<u,c>: dist_all already paid for it. */
static int image_inner_user(double *out, size_t i, void *payload)
{
	image_space *sp = payload;
	const lw_rkme_image *c = sp->m->spec[i];

	if (isfinite(sp->dist[i])) {
		*out = 0.5 * (sp->user->self_inner + c->self_inner - sp->dist[i]);
		return 0;
	}
	return lw_rkme_image_inner(out, sp->user, c);
}

/* Learnwares' specifications do not change between searches: their products are cached. */
static int image_inner(double *out, size_t i, size_t j, void *payload)
{
	image_space *sp = payload;
	const lw_rkme_image *a = sp->m->spec[i], *b = sp->m->spec[j];
	uint64_t ka = lw__dock_key(sp->m->ids[i]), kb = lw__dock_key(sp->m->ids[j]), t;
	int err;

	if (i == j) {
		*out = a->self_inner;
		return 0;
	}
	if (ka > kb) {
		t = ka;
		ka = kb;
		kb = t;
	}
	if (lw__dock_pair_get(sp->d, ka, kb, out))
		return 0;
	if ((err = lw_rkme_image_inner(out, a, b)) == 0)
		lw__dock_pair_put(sp->d, ka, kb, *out);
	return err;
}

static int search_image(lw_stat_search_result *r, double *dist, lw_dock *d, const media_set *m,
			const lw_dock_query *q)
{
	image_space sp = { d, q->image, m, dist };
	lw_search_space space;

	memset(&space, 0, sizeof(space));
	space.n = m->n;
	space.user_self = q->image->self_inner;
	space.dist_all = image_dist_all;
	space.inner_user = image_inner_user;
	space.inner = image_inner;
	space.score_transform = lw_rkme_image_score_transform;
	space.payload = &sp;
	return lw_stat_search_space(r, &space, &q->stat);
}

static int search_text(lw_stat_search_result *r, double *dist, const media_set *m,
		       const lw_dock_query *q)
{
	const lw_rkme **rk = lw__mallocarray(m->n, sizeof(*rk));
	int err = 0;

	if (!rk)
		return LW_ENOMEM;
	for (size_t i = 0; i < m->n && err == 0; i++) {
		rk[i] = ((const lw_text_spec *)m->spec[i])->rkme;
		err = lw_rkme_dist(&dist[i], q->text->rkme, rk[i]);
	}
	if (err == 0)
		err = lw_stat_search(r, q->text->rkme, rk, m->n, &q->stat);
	free(rk);
	return err;
}

static int check_user(const lw_dock_query *q)
{
	if (q->text) {
		int err = lw_text_spec_check_encoder(q->text, NULL);

		if (err < 0)
			return err;
		if (!isfinite(q->text->rkme->self_inner)) {
			lw_error_set(LW_ERRCLASS_INVALID, "the user's text specification has a non-finite self-distance");
			return LW_EINVALID;
		}
	} else if (!isfinite(q->image->self_inner)) {
		lw_error_set(LW_ERRCLASS_INVALID, "the user's image specification has a non-finite self-distance");
		return LW_EINVALID;
	}
	return 0;
}

int lw__dock_search_media(lw_dock_result *out, lw_dock *d, const lw__semantic_set *s,
			  const lw_dock_query *q)
{
	media_set m;
	lw_stat_search_result r = { 0 };
	double *dist = NULL;
	int err;

	memset(&m, 0, sizeof(m));
	m.kind = q->text ? LW__MEDIA_TEXT : LW__MEDIA_IMAGE;
	if ((err = check_user(q)) < 0)
		return err;
	out->statistical = 1;
	out->fuzzy = s->fuzzy;
	if ((err = gather(&m, d, s, q)) < 0)
		goto done;
	out->semantic_matches = s->all ? m.n + m.skipped : s->n;
	out->candidates = m.n;
	if (m.n == 0)
		goto done;
	if (!(dist = lw__mallocarray(m.n, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	err = m.kind == LW__MEDIA_TEXT ? search_text(&r, dist, &m, q) : search_image(&r, dist, d, &m, q);
	if (err == 0)
		err = lw__dock_stat_results(out, d, (const char(*)[16])m.ids, &r, dist, NULL, NULL,
					    q->max_results);
done:
	lw_stat_search_result_dispose(&r);
	free(dist);
	media_set_dispose(&m);
	return err;
}
