/*
 * Statistical search with the reference engine's semantics
 * (shared/reference/learnware-engine.md, section 3): rank by MMD^2, search
 * a mixture among the best max^2, turn distances into scores, filter.
 * Unlike the reference it returns the mixture's weights and every MMD.
 */
#include "lw/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/qp.h"
#include "util.h"

/* Reference constants: mixture stops unless MMD drops to 95%; auto keeps 98% of the weight. */
#define GREEDY_DECAY 0.95
#define AUTO_WEIGHT_SHARE 0.98
#define SCORE_DIST_RATIO 0.1
#define SCORE_MIN_SPREAD 0.92
#define SCORE_IMPROVE 0.7
#define SCORE_KEEP 0.6

typedef struct {
	size_t index;
	double mmd2;
} ranked;

/* The top candidates and the inner products a mixture search needs. */
typedef struct {
	size_t m;
	size_t *pick;               /* candidate index of each of the m */
	double *gram;               /* m x m: <phi_i, phi_j> */
	double *c;                  /* m: <user, phi_i> */
	double uu;                  /* <user, user> */
} mixture_pool;

void lw_search_scores(double *s, const double *dist, size_t n)
{
	double lo = INFINITY, hi = -INFINITY, mean = 0, eps;

	for (size_t i = 0; i < n; i++) {
		lo = dist[i] < lo ? dist[i] : lo;
		hi = dist[i] > hi ? dist[i] : hi;
		mean += dist[i] / (double)n;
	}
	if (n == 0)
		return;
	if (lo == hi) {
		for (size_t i = 0; i < n; i++)
			s[i] = 1.0;
		return;
	}
	/* The best distance maps near 1 only when it is small against the rest. */
	eps = SCORE_DIST_RATIO * mean;
	if (lo < eps)
		eps = lo;
	else if ((hi - lo) / (hi - eps) < SCORE_MIN_SPREAD)
		eps = hi - (hi - lo) / SCORE_MIN_SPREAD;
	for (size_t i = 0; i < n; i++) {
		s[i] = (hi - dist[i]) / (hi - eps);
		if (s[i] < SCORE_IMPROVE)
			s[i] = fmin(sqrt(s[i]), SCORE_IMPROVE);
	}
}

static int by_distance(const void *a, const void *b)
{
	const ranked *x = a, *y = b;

	if (x->mmd2 != y->mmd2)
		return x->mmd2 < y->mmd2 ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Distances of every candidate with a finite one, best first. */
static int rank_candidates(ranked **out, size_t *count, const lw_search_space *sp)
{
	size_t n = sp->n, kept = 0;
	double *d = lw__mallocarray(n ? n : 1, sizeof(double));
	ranked *r = lw__mallocarray(n ? n : 1, sizeof(ranked));
	int err = LW_ENOMEM;

	if (!d || !r)
		goto done;
	if ((err = sp->dist_all(d, sp->payload)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++)
		if (isfinite(d[i]))
			r[kept++] = (ranked){ i, d[i] };
	qsort(r, kept, sizeof(ranked), by_distance);
	*out = r;
	*count = kept;
	r = NULL;
done:
	free(d);
	free(r);
	return err;
}

static void pool_dispose(mixture_pool *p)
{
	free(p->pick);
	free(p->gram);
	free(p->c);
}

/* Inner products among the m best candidates and with the user. */
static int pool_init(mixture_pool *p, const lw_search_space *sp, const ranked *r, size_t m)
{
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->m = m;
	p->uu = sp->user_self;
	p->pick = lw__mallocarray(m, sizeof(size_t));
	p->gram = lw__mallocarray(m * m, sizeof(double));
	p->c = lw__mallocarray(m, sizeof(double));
	if (!p->pick || !p->gram || !p->c)
		return LW_ENOMEM;
	for (size_t i = 0; i < m; i++)
		p->pick[i] = r[i].index;
	for (size_t i = 0; i < m && !err; i++) {
		err = sp->inner_user(&p->c[i], p->pick[i], sp->payload);
		for (size_t j = 0; j <= i && !err; j++) {
			err = sp->inner(&p->gram[i * m + j], p->pick[i], p->pick[j], sp->payload);
			p->gram[j * m + i] = p->gram[i * m + j];
		}
	}
	return err;
}

/*
 * Best weights for the pool members listed in sel (k of them) and the
 * resulting MMD^2 = <u,u> + w'Kw - 2c'w.  w has k entries.
 */
static int mixture_fit(double *mmd2, double *w, const mixture_pool *p, const size_t *sel, size_t k)
{
	double *K = lw__mallocarray(k * k, sizeof(double)), *c = lw__mallocarray(k, sizeof(double));
	lw_qp_info info;
	int err = LW_ENOMEM;

	if (!K || !c)
		goto done;
	for (size_t i = 0; i < k; i++) {
		c[i] = p->c[sel[i]];
		for (size_t j = 0; j < k; j++)
			K[i * k + j] = p->gram[sel[i] * p->m + sel[j]];
	}
	if ((err = lw_qp_simplex(w, K, c, k, &info)) == 0)
		*mmd2 = p->uu + 2 * info.objective;
done:
	free(K);
	free(c);
	return err;
}

/* The chosen mixture, as pool positions with their weights. */
typedef struct {
	size_t k;
	size_t *sel;
	double *w;
	double mmd2;
} mixture;

static int mixture_init(mixture *mx, size_t cap)
{
	mx->k = 0;
	mx->mmd2 = INFINITY;
	mx->sel = lw__mallocarray(cap ? cap : 1, sizeof(size_t));
	mx->w = lw__mallocarray(cap ? cap : 1, sizeof(double));
	return mx->sel && mx->w ? 0 : LW_ENOMEM;
}

static void mixture_dispose(mixture *mx)
{
	free(mx->sel);
	free(mx->w);
}

/*
 * Greedy: grow the mixture by the member that gives the lowest MMD, and
 * keep growing only while each addition cuts the MMD to 95% or less.
 */
static int search_greedy(mixture *best, const mixture_pool *p, size_t max_k)
{
	size_t *sel = lw__mallocarray(max_k, sizeof(size_t));
	double *w = lw__mallocarray(max_k, sizeof(double)), *wbest = lw__mallocarray(max_k, sizeof(double));
	char *used = lw__calloc(p->m, 1);
	int err = LW_ENOMEM;

	if (!sel || !w || !wbest || !used)
		goto done;
	err = 0;
	for (size_t k = 0; k < max_k && k < p->m; k++) {
		size_t pick = SIZE_MAX;
		double step_best = INFINITY, v;

		for (size_t j = 0; j < p->m; j++) {
			if (used[j])
				continue;
			sel[k] = j;
			if ((err = mixture_fit(&v, w, p, sel, k + 1)) < 0)
				goto done;
			if (v < step_best) {
				step_best = v;
				pick = j;
				memcpy(wbest, w, (k + 1) * sizeof(double));
			}
		}
		if (pick == SIZE_MAX || !(best->k == 0 || step_best <= GREEDY_DECAY * best->mmd2))
			break;
		used[pick] = 1;
		sel[k] = pick;
		best->k = k + 1;
		best->mmd2 = step_best;
		memcpy(best->sel, sel, (k + 1) * sizeof(size_t));
		memcpy(best->w, wbest, (k + 1) * sizeof(double));
	}
done:
	free(sel);
	free(w);
	free(wbest);
	free(used);
	return err;
}

/* Heaviest first; ties by pool position so the order is reproducible. */
static int by_weight_desc(const void *a, const void *b)
{
	const ranked *x = a, *y = b;

	if (x->mmd2 != y->mmd2)
		return x->mmd2 > y->mmd2 ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Auto: one QP over the whole pool, keep the heaviest members while their
 * cumulative weight stays within 98% (at most max_k), and re-fit those.
 */
static int search_auto(mixture *best, const mixture_pool *p, size_t max_k)
{
	size_t *all = lw__mallocarray(p->m, sizeof(size_t)), keep = 0;
	double *w = lw__mallocarray(p->m, sizeof(double)), v, total = 0;
	ranked *order = lw__mallocarray(p->m, sizeof(ranked)); /* mmd2 holds the weight here */
	int err = LW_ENOMEM;

	if (!all || !w || !order)
		goto done;
	for (size_t i = 0; i < p->m; i++)
		all[i] = i;
	if ((err = mixture_fit(&v, w, p, all, p->m)) < 0)
		goto done;
	for (size_t i = 0; i < p->m; i++)
		order[i] = (ranked){ i, w[i] };
	qsort(order, p->m, sizeof(ranked), by_weight_desc);
	while (keep < p->m && keep < max_k && total + order[keep].mmd2 <= AUTO_WEIGHT_SHARE) {
		total += order[keep].mmd2;
		best->sel[keep] = order[keep].index;
		keep++;
	}
	if (keep > 0 && (err = mixture_fit(&best->mmd2, best->w, p, best->sel, keep)) == 0)
		best->k = keep;
done:
	free(all);
	free(w);
	free(order);
	return err;
}

/* Mixture: search the pool of the best max^2 candidates when no single one is exact. */
static int find_mixture(mixture *mx, const lw_search_space *sp, const ranked *r, size_t count,
			const lw_stat_search_options *o)
{
	size_t m = o->max_search_num * o->max_search_num;
	mixture_pool pool;
	int err;

	if (r[0].mmd2 <= 0 || o->method == LW_MIXTURE_NONE || o->max_search_num < 2)
		return 0;
	if (m > count)
		m = count;
	if ((err = pool_init(&pool, sp, r, m)) == 0)
		err = o->method == LW_MIXTURE_AUTO ? search_auto(mx, &pool, o->max_search_num)
						   : search_greedy(mx, &pool, o->max_search_num);
	/* Pool positions become candidate indices for the caller. */
	for (size_t i = 0; err == 0 && i < mx->k; i++)
		mx->sel[i] = pool.pick[mx->sel[i]];
	pool_dispose(&pool);
	if (mx->k == 1)
		mx->k = 0; /* a mixture of one is just the top single result */
	return err;
}

/* Scores for singles and mixture, then the reference's filtering. */
static int fill_result(lw_stat_search_result *out, const ranked *r, size_t count,
		       const mixture *mx, double (*transform)(double))
{
	size_t n = count + (mx->k > 0), keep = 1;
	double *dist = lw__mallocarray(n, sizeof(double)), *s = lw__mallocarray(n, sizeof(double));
	double mix_score = 0;
	int err = LW_ENOMEM, has_mix = mx->k > 0;

	if (!dist || !s)
		goto done;
	for (size_t i = 0; i < count; i++)
		dist[i] = transform ? transform(r[i].mmd2) : r[i].mmd2;
	if (has_mix)
		dist[count] = transform ? transform(mx->mmd2) : mx->mmd2;
	lw_search_scores(s, dist, n);
	if (has_mix) {
		mix_score = s[count];
		if ((int)(100 * mix_score) == (int)(100 * s[0]))
			has_mix = 0; /* no better than the top single result */
	}
	while (keep < count && s[keep] >= SCORE_KEEP)
		keep++;
	if (keep == 1 && s[0] < SCORE_KEEP) {
		mix_score = fmin(1.0, mix_score * SCORE_KEEP / s[0]);
		s[0] = SCORE_KEEP;
	}
	if (!(out->singles = lw__mallocarray(keep, sizeof(lw_search_single))))
		goto done;
	for (size_t i = 0; i < keep; i++)
		out->singles[i] = (lw_search_single){ r[i].index, r[i].mmd2, s[i] };
	out->n_singles = keep;
	err = 0;
	if (has_mix) {
		lw_search_mixture *m = &out->mixture;

		m->indices = lw__mallocarray(mx->k, sizeof(size_t));
		m->weights = lw__mallocarray(mx->k, sizeof(double));
		if (!m->indices || !m->weights) {
			err = LW_ENOMEM;
			goto done;
		}
		memcpy(m->indices, mx->sel, mx->k * sizeof(size_t));
		memcpy(m->weights, mx->w, mx->k * sizeof(double));
		m->count = mx->k;
		m->mmd2 = mx->mmd2;
		m->score = mix_score;
	}
done:
	free(dist);
	free(s);
	return err;
}

int lw_stat_search_space(lw_stat_search_result *out, const lw_search_space *sp,
			 const lw_stat_search_options *opts)
{
	lw_stat_search_options o = LW_STAT_SEARCH_OPTIONS_INIT;
	ranked *r = NULL;
	size_t count = 0;
	mixture mx = { 0, NULL, NULL, INFINITY };
	int err;

	LW_ASSERT_ARG(out && sp && sp->dist_all && sp->inner && sp->inner_user);
	memset(out, 0, sizeof(*out));
	if (opts)
		o = *opts;
	if (!isfinite(sp->user_self)) {
		lw_error_set(LW_ERRCLASS_INVALID, "the user specification's self inner product is not finite");
		return LW_EINVALID;
	}
	if ((err = rank_candidates(&r, &count, sp)) < 0 || count == 0)
		goto done;
	if ((err = mixture_init(&mx, o.max_search_num)) < 0 ||
	    (err = find_mixture(&mx, sp, r, count, &o)) < 0 ||
	    (err = fill_result(out, r, count, &mx, sp->score_transform)) < 0)
		goto done;
done:
	if (err < 0)
		lw_stat_search_result_dispose(out);
	mixture_dispose(&mx);
	free(r);
	return err;
}

/* --- table RKMEs: the Gaussian kernel, candidates of the user's dimension ------------- */

typedef struct {
	const lw_rkme *user;
	const lw_rkme *const *cand;
	size_t n;
} rkme_space;

static int rkme_dist_all(double *d, void *payload)
{
	const rkme_space *s = payload;
	const lw_rkme **same = lw__mallocarray(s->n ? s->n : 1, sizeof(*same));
	double *got = lw__mallocarray(s->n ? s->n : 1, sizeof(double));
	size_t m = 0;
	int err = LW_ENOMEM;

	if (!same || !got)
		goto done;
	for (size_t i = 0; i < s->n; i++)
		if (lw_rkme_dim(s->cand[i]) == lw_rkme_dim(s->user))
			same[m++] = s->cand[i];
	if ((err = lw_rkme_dist_many(got, s->user, same, m)) < 0)
		goto done;
	/* Another dimension is not comparable: skipped, as a non-finite distance. */
	for (size_t i = 0, k = 0; i < s->n; i++)
		d[i] = lw_rkme_dim(s->cand[i]) == lw_rkme_dim(s->user) ? got[k++] : NAN;
done:
	free(same);
	free(got);
	return err;
}

static int rkme_inner_user(double *out, size_t i, void *payload)
{
	const rkme_space *s = payload;

	return lw_rkme_inner(out, s->user, s->cand[i]);
}

static int rkme_inner(double *out, size_t i, size_t j, void *payload)
{
	const rkme_space *s = payload;

	if (i == j) {
		*out = s->cand[i]->self_inner;
		return 0;
	}
	return lw_rkme_inner(out, s->cand[i], s->cand[j]);
}

int lw_stat_search(lw_stat_search_result *out, const lw_rkme *user,
		   const lw_rkme *const *cand, size_t n, const lw_stat_search_options *opts)
{
	rkme_space rs = { user, cand, n };
	lw_search_space sp = { n, 0, rkme_dist_all, rkme_inner_user, rkme_inner, NULL, &rs };

	LW_ASSERT_ARG(out && user && (cand || n == 0));
	sp.user_self = user->self_inner;
	return lw_stat_search_space(out, &sp, opts);
}

void lw_stat_search_result_dispose(lw_stat_search_result *r)
{
	if (!r)
		return;
	free(r->singles);
	free(r->mixture.indices);
	free(r->mixture.weights);
	memset(r, 0, sizeof(*r));
}
