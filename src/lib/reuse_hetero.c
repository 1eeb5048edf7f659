/*
 * Heterogeneous reuse: a learnware of another feature space predicting
 * for the user's rows (docs/hetero.md, "Reuse").
 *
 * Alignment carries a user row x into the learnware's columns:
 *
 *  - a learnware column whose description matches a user column's
 *    (embeddings with cosine >= match_cosine, one to one) is copied;
 *  - one whose description is only similar (>= similar_cosine) takes a
 *    user column through a quantile map (user's rows -> the learnware's
 *    beta-weighted RKME points), undoing units and increasing transforms;
 *  - every other column is the kernel-weighted local linear regression,
 *    on the carried columns, of the learnware's RKME points z_k, weights
 *        w_k(x) ~ beta_k exp(-map_gamma |H_u(x) - H_l(z_k)|^2
 *                            - sum_carried (c_j - z_kj)^2 / (2 (h s_j)^2))
 *    with H the hetero map (user's and learnware's descriptions), c_j the
 *    carried values, s_j the learnware column's beta-weighted deviation
 *    and h the bandwidth.
 *
 * The RKME is a weighted sample of the learnware's joint distribution, so
 * this is the learnware-side conditional mean of the missing columns given
 * what the user shares with it; the map places the rest of the row.
 *
 * The reusers put aligned learnwares behind averaging (reuse.c) and
 * feature augmentation (reuse_augment.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/hetero.h"
#include "model.h"
#include "reuse.h"
#include "util.h"

/* --- checks ---------------------------------------------------------------- */

static int check_align_options(const lw_hetero_align_options *o)
{
	if (o->version != LW_HETERO_ALIGN_OPTIONS_VERSION)
		return lw__invalid("lw_hetero_align_options version %u is unknown (this library has %d)",
			       o->version, LW_HETERO_ALIGN_OPTIONS_VERSION);
	if (!(o->match_cosine >= -1) || !(o->similar_cosine >= -1) || !(o->bandwidth >= 0) ||
	    !isfinite(o->bandwidth) ||
	    !(o->map_gamma >= 0) || !isfinite(o->map_gamma))
		return lw__invalid("hetero alignment: match_cosine and similar_cosine must be at "
			       "least -1, bandwidth and map_gamma finite and non-negative");
	return 0;
}

static int check_user(const lw_hetero_user *u, size_t m)
{
	if (!u->map || !u->columns || !u->X)
		return lw__invalid("hetero reuse: the user needs the map, column embeddings and rows");
	if (u->X->cols == 0 || u->X->rows < 2)
		return lw__invalid("hetero reuse: the user's rows are %zu x %zu; give at least 2 rows "
			       "of at least one column", u->X->rows, u->X->cols);
	if (u->columns->rows != u->X->cols || u->columns->cols != m)
		return lw__invalid("hetero reuse: the user's column embeddings are %zu x %zu; their "
			       "rows have %zu columns and the map takes embeddings of width %zu",
			       u->columns->rows, u->columns->cols, u->X->cols, m);
	return 0;
}

static int check_learnware(const lw_hetero_learnware *l, size_t m)
{
	const char *id = l->id && *l->id ? l->id : "(no id)";
	size_t d, in;

	if (!l->id || !*l->id || !l->model || !l->rkme || !l->columns)
		return lw__invalid("hetero reuse: learnware '%s' needs an id, a model, its table RKME "
			       "and its column embeddings", id);
	d = lw_rkme_dim(l->rkme);
	in = lw_model_input_dim(l->model);
	if (lw_rkme_k(l->rkme) == 0 || d == 0)
		return lw__invalid("hetero reuse: learnware '%s' has an empty RKME", id);
	if (in && in != d)
		return lw__invalid("hetero reuse: learnware '%s' takes %zu columns but its RKME has %zu",
			       id, in, d);
	if (l->columns->rows != d || l->columns->cols != m)
		return lw__invalid("hetero reuse: learnware '%s' has %zu x %zu column embeddings; its "
			       "RKME has %zu columns and the map takes width %zu",
			       id, l->columns->rows, l->columns->cols, d, m);
	return 0;
}

/* --- column matching --------------------------------------------------------- */

typedef struct {
	double cos;
	size_t a, j;
} pair;

static int by_cos_desc(const void *x, const void *y)
{
	const pair *p = x, *q = y;

	if (p->cos != q->cos)
		return p->cos < q->cos ? 1 : -1;
	/* Ties in a fixed order: lower learnware column, then lower user column. */
	if (p->j != q->j)
		return p->j < q->j ? -1 : 1;
	return p->a < q->a ? -1 : (p->a > q->a);
}

static double cosine(const double *u, const double *v, size_t m)
{
	double uv = 0, uu = 0, vv = 0;

	for (size_t c = 0; c < m; c++) {
		uv += u[c] * v[c];
		uu += u[c] * u[c];
		vv += v[c] * v[c];
	}
	return uu > 0 && vv > 0 ? uv / sqrt(uu * vv) : 0;
}

/*
 * source[j] = the user column learnware column j takes, SIZE_MAX for none,
 * one to one and most similar first: first the pairs at match_cosine or
 * more (copied), then those at similar_cosine or more (quantile-mapped:
 * quant[j] = 1).
 */
static int match_columns(size_t *source, unsigned char *quant, const lw_mat *Eu, const lw_mat *El,
			 const lw_hetero_align_options *o)
{
	size_t du = Eu->rows, dl = El->rows, np = 0;
	double thr = fmin(o->match_cosine, o->similar_cosine);
	pair *p = lw__mallocarray(du, dl * sizeof(pair));
	bool *used = lw__calloc(du, sizeof(bool));

	if (!p || !used) {
		free(p);
		free(used);
		return LW_ENOMEM;
	}
	for (size_t j = 0; j < dl; j++) {
		source[j] = SIZE_MAX;
		quant[j] = 0;
		for (size_t a = 0; a < du; a++) {
			double c = cosine(lw_mat_row(Eu, a), lw_mat_row(El, j), Eu->cols);

			if (c >= thr)
				p[np++] = (pair){ c, a, j };
		}
	}
	qsort(p, np, sizeof(pair), by_cos_desc);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < np; i++) {
			if (source[p[i].j] != SIZE_MAX || used[p[i].a] ||
			    p[i].cos < (pass ? o->similar_cosine : o->match_cosine))
				continue;
			source[p[i].j] = p[i].a;
			quant[p[i].j] = (unsigned char)pass;
			used[p[i].a] = true;
		}
	free(p);
	free(used);
	return 0;
}

/* --- quantile maps ------------------------------------------------------------------ */

/* Levels of a quantile map: p = 0, 1/(Q-1), ..., 1. */
#define QUANTILES 65

typedef struct {
	double v, w;
} weighted;

static int by_value(const void *x, const void *y)
{
	double a = ((const weighted *)x)->v, b = ((const weighted *)y)->v;

	return (a > b) - (a < b);
}

/*
 * q[t] = the weighted quantile at level t/(Q-1) of n values (w NULL:
 * equal weights): linear between the points placed at their mid
 * cumulative weight, the ends beyond.  Non-finite values are skipped.
 */
static int quantiles(double *q, const double *v, size_t stride, const double *w, size_t n)
{
	weighted *s = lw__mallocarray(n ? n : 1, sizeof(weighted));
	double total = 0, c = 0;
	size_t m = 0, k = 0;

	if (!s)
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? fmax(w[i], 0.0) : 1.0;

		if (isfinite(v[i * stride]) && wi > 0)
			s[m++] = (weighted){ v[i * stride], wi };
	}
	if (!m) {
		free(s);
		return lw__invalid("hetero alignment: a quantile-mapped column has no finite value");
	}
	qsort(s, m, sizeof(weighted), by_value);
	for (size_t i = 0; i < m; i++)
		total += s[i].w;
	for (size_t i = 0; i < m; i++) {
		double mid = c + s[i].w / 2;

		c += s[i].w;
		s[i].w = mid / total; /* now the point's level */
	}
	for (size_t t = 0; t < QUANTILES; t++) {
		double p = (double)t / (QUANTILES - 1);

		while (k < m && s[k].w < p)
			k++;
		if (k == 0)
			q[t] = s[0].v;
		else if (k == m)
			q[t] = s[m - 1].v;
		else
			q[t] = s[k - 1].v + (s[k].v - s[k - 1].v) * (p - s[k - 1].w) / (s[k].w - s[k - 1].w);
	}
	free(s);
	return 0;
}

/* The learnware's value at the user's value x: from the user's quantiles qu to the learnware's ql. */
static double quantile_map(const double *qu, const double *ql, double x)
{
	size_t lo = 0, hi;
	double s = 0;

	while (lo < QUANTILES && qu[lo] < x)
		lo++;
	for (hi = lo; hi < QUANTILES && qu[hi] == x; hi++)
		s += ql[hi];
	if (hi > lo) /* x is a quantile (a run of them for a discrete column): their mean */
		return s / (double)(hi - lo);
	if (lo == 0)
		return ql[0];
	if (lo == QUANTILES)
		return ql[QUANTILES - 1];
	return ql[lo - 1] + (ql[lo] - ql[lo - 1]) * (x - qu[lo - 1]) / (qu[lo] - qu[lo - 1]);
}

/* --- the aligned model -------------------------------------------------------- */

typedef struct {
	const lw_hetero_map *map; /* borrowed */
	lw_model *inner;          /* borrowed */
	size_t du, dl, K;
	size_t *source;           /* dl */
	unsigned char *quant;     /* dl: 1 where the column is quantile-mapped */
	double *qu, *ql;          /* dl x QUANTILES: the user's and the learnware's quantiles */
	size_t matched, similar;
	double *u_mean, *u_std;   /* du: the user's statistics for the map */
	lw_mat cols;              /* du x m: the user's embeddings */
	lw_mat Z;                 /* K x dl: the learnware's points */
	lw_mat P;                 /* K x h: the same in the shared space */
	double *logb;             /* K: log beta (-inf where beta <= 0) */
	double *sd;               /* dl: the learnware's beta-weighted deviations */
	double *scale;            /* dl: bandwidth times sd */
	double *lo, *hi;          /* dl: the range of its points */
	double bandwidth, map_gamma;
	int local_linear;
} aligned;

static void aligned_dispose(aligned *a)
{
	if (!a)
		return;
	free(a->source);
	free(a->quant);
	free(a->qu);
	free(a->ql);
	free(a->u_mean);
	free(a->u_std);
	lw_mat_dispose(&a->cols);
	lw_mat_dispose(&a->Z);
	lw_mat_dispose(&a->P);
	free(a->logb);
	free(a->sd);
	free(a->scale);
	free(a->lo);
	free(a->hi);
	free(a);
}

/* log beta_k, non-positive weights excluded; all of them non-positive: uniform. */
static void log_weights(double *logb, const double *beta, size_t K)
{
	size_t pos = 0;

	for (size_t k = 0; k < K; k++)
		pos += beta[k] > 0;
	for (size_t k = 0; k < K; k++)
		logb[k] = !pos ? 0 : beta[k] > 0 ? log(beta[k]) : -INFINITY;
}

/* Scott's rule on the effective number of points, 1/sum(w^2), in d dimensions. */
static double scott_bandwidth(const double *logb, size_t K, size_t d)
{
	double s = 0, s2 = 0;

	for (size_t k = 0; k < K; k++)
		if (isfinite(logb[k])) {
			double w = exp(logb[k]);

			s += w;
			s2 += w * w;
		}
	return pow(s * s / s2, -1.0 / ((double)d + 4.0));
}

/* The learnware's side: its points, their place in the shared space, the kernel's scales. */
static int fit_learnware_side(aligned *a, const lw_hetero_learnware *l,
			      const lw_hetero_align_options *o)
{
	const lw_rkme *r = l->rkme;
	double *mean = lw__mallocarray(a->dl, sizeof(double));
	double *std = lw__mallocarray(a->dl, sizeof(double));
	int err = LW_ENOMEM;

	if (!mean || !std || !(a->logb = lw__mallocarray(a->K, sizeof(double))) ||
	    !(a->scale = lw__mallocarray(a->dl, sizeof(double))) ||
	    !(a->sd = lw__mallocarray(a->dl, sizeof(double))) ||
	    !(a->lo = lw__mallocarray(a->dl, sizeof(double))) ||
	    !(a->hi = lw__mallocarray(a->dl, sizeof(double))))
		goto done;
	if ((err = lw_mat_copy(&a->Z, &r->z)) < 0 ||
	    (err = lw_hetero_stats(mean, std, &r->z, r->beta)) < 0)
		goto done;
	for (size_t j = 0; j < a->dl; j++) {
		a->lo[j] = INFINITY;
		a->hi[j] = -INFINITY;
		for (size_t k = 0; k < a->K; k++) {
			a->lo[j] = fmin(a->lo[j], lw_mat_row(&r->z, k)[j]);
			a->hi[j] = fmax(a->hi[j], lw_mat_row(&r->z, k)[j]);
		}
	}
	/* As lw_hetero_spec_new places them: the learnware's heterogeneous specification. */
	if (a->map_gamma > 0 &&
	    (err = lw_hetero_map_apply(&a->P, a->map, &r->z, l->columns, mean, std)) < 0)
		goto done;
	log_weights(a->logb, r->beta, a->K);
	a->bandwidth = o->bandwidth > 0 ? o->bandwidth
				       : scott_bandwidth(a->logb, a->K, a->matched + a->similar);
	for (size_t j = 0; j < a->dl; j++) {
		a->sd[j] = std[j];
		a->scale[j] = a->bandwidth * std[j];
	}
	err = 0;
done:
	free(mean);
	free(std);
	return err;
}

/*
 * The user's statistics, kept so that a batch of any size maps as the
 * whole table would; and each quantile-mapped column's two sets of
 * quantiles (the user's rows', the learnware's beta-weighted points').
 */
static int fit_user_side(aligned *a, const lw_hetero_user *u, const lw_rkme *r)
{
	int err;

	if (!(a->u_mean = lw__mallocarray(a->du, sizeof(double))) ||
	    !(a->u_std = lw__mallocarray(a->du, sizeof(double))) ||
	    !(a->qu = lw__mallocarray(a->dl, QUANTILES * sizeof(double))) ||
	    !(a->ql = lw__mallocarray(a->dl, QUANTILES * sizeof(double))))
		return LW_ENOMEM;
	if ((err = lw_hetero_stats(a->u_mean, a->u_std, u->X, NULL)) < 0)
		return err;
	for (size_t j = 0; j < a->dl; j++) {
		if (!a->quant[j])
			continue;
		if ((err = quantiles(a->qu + j * QUANTILES, u->X->data + a->source[j], u->X->cols,
				     NULL, u->X->rows)) < 0 ||
		    (err = quantiles(a->ql + j * QUANTILES, r->z.data + j, r->z.cols, r->beta,
				     r->z.rows)) < 0)
			return err;
	}
	return lw_mat_copy(&a->cols, u->columns);
}

/* The values row x gives the learnware's columns it has a source for (NaN: none, or missing). */
static void carried(double *c, const aligned *a, const double *x)
{
	for (size_t j = 0; j < a->dl; j++) {
		size_t s = a->source[j];

		c[j] = s == SIZE_MAX || !isfinite(x[s]) ? NAN
		       : a->quant[j] ? quantile_map(a->qu + j * QUANTILES, a->ql + j * QUANTILES, x[s])
				     : x[s];
	}
}

/* One row's kernel weights over the K points (w: K values, summing to 1); c: carried values. */
static void row_weights(double *w, const aligned *a, const double *c, const double *hx)
{
	double top = -INFINITY, sum = 0;

	for (size_t k = 0; k < a->K; k++) {
		double lk = a->logb[k];
		const double *z = lw_mat_row(&a->Z, k);

		if (hx && isfinite(lk)) {
			const double *p = lw_mat_row(&a->P, k);
			double dot = 0;

			for (size_t t = 0; t < a->P.cols; t++)
				dot += hx[t] * p[t];
			/* Both on the unit sphere: |h - p|^2 = 2 - 2 h.p. */
			lk -= a->map_gamma * fmax(0.0, 2.0 - 2.0 * dot);
		}
		for (size_t j = 0; j < a->dl && isfinite(lk); j++) {
			double v;

			if (!isfinite(v = c[j]))
				continue;
			v = (v - z[j]) / a->scale[j];
			lk -= 0.5 * v * v;
		}
		w[k] = lk;
		top = lk > top ? lk : top;
	}
	for (size_t k = 0; k < a->K; k++) {
		/* Every point infinitely far (top -inf): fall back to beta. */
		w[k] = isfinite(top) ? exp(w[k] - top) : isfinite(a->logb[k]) ? 1.0 : 0.0;
		sum += w[k];
	}
	for (size_t k = 0; k < a->K; k++)
		w[k] = sum > 0 ? w[k] / sum : 1.0 / (double)a->K;
}

/* Ridge on the local slopes, in the learnware's standard units (the intercept is free). */
#define LOCAL_RIDGE 1e-2

/* Solve M t = r in place (M q x q symmetric positive definite, row-major; r has m columns). */
static void cholesky_solve(double *M, double *r, size_t q, size_t m)
{
	for (size_t i = 0; i < q; i++) {
		for (size_t k = 0; k < i; k++)
			M[i * q + i] -= M[i * q + k] * M[i * q + k];
		M[i * q + i] = sqrt(fmax(M[i * q + i], 1e-300));
		for (size_t j = i + 1; j < q; j++) {
			for (size_t k = 0; k < i; k++)
				M[j * q + i] -= M[j * q + k] * M[i * q + k];
			M[j * q + i] /= M[i * q + i];
		}
	}
	for (size_t c = 0; c < m; c++) {
		for (size_t i = 0; i < q; i++) {
			for (size_t k = 0; k < i; k++)
				r[i * m + c] -= M[i * q + k] * r[k * m + c];
			r[i * m + c] /= M[i * q + i];
		}
		for (size_t i = q; i-- > 0;) {
			for (size_t k = i + 1; k < q; k++)
				r[i * m + c] -= M[k * q + i] * r[k * m + c];
			r[i * m + c] /= M[i * q + i];
		}
	}
}

/*
 * The learnware's columns without a carried value, by weighted local
 * linear regression of its points on the carried columns: NW (the local
 * constant) flattens every slope towards the mean; a line through the
 * kernel's neighbourhood keeps them.  Kept within the points' range.
 */
static void local_linear(double *g, const aligned *a, const double *c, const double *w,
			 double *work)
{
	size_t p = 0, q, *cols = (size_t *)(void *)work;
	double *M, *R, *f;

	for (size_t j = 0; j < a->dl; j++)
		if (isfinite(c[j]))
			cols[p++] = j;
	q = p + 1;
	M = work + a->dl;
	R = M + q * q;
	f = R + q * a->dl;
	memset(M, 0, (q * q + q * a->dl) * sizeof(double));
	for (size_t k = 0; k < a->K; k++) {
		const double *z = lw_mat_row(&a->Z, k);

		if (!(w[k] > 0))
			continue;
		f[0] = 1;
		for (size_t t = 0; t < p; t++)
			f[t + 1] = (z[cols[t]] - c[cols[t]]) / a->sd[cols[t]];
		for (size_t i = 0; i < q; i++) {
			for (size_t j = 0; j <= i; j++)
				M[i * q + j] += w[k] * f[i] * f[j];
			for (size_t j = 0; j < a->dl; j++)
				R[i * a->dl + j] += w[k] * f[i] * z[j];
		}
	}
	for (size_t i = 0; i < q; i++) {
		for (size_t j = 0; j < i; j++)
			M[j * q + i] = M[i * q + j];
		M[i * q + i] += i ? LOCAL_RIDGE : 1e-12;
	}
	cholesky_solve(M, R, q, a->dl);
	for (size_t j = 0; j < a->dl; j++)
		if (!isfinite(c[j]))
			g[j] = fmin(fmax(R[j], a->lo[j]), a->hi[j]);
}

static int transform(lw_mat *out, const aligned *a, const lw_mat *X)
{
	lw_mat H = LW_MAT_INIT;
	double *w = NULL, *c = NULL, *work = NULL;
	int err;

	if ((err = lw_mat_init(out, X->rows, a->dl)) < 0)
		return err;
	/* work: the carried columns' indices, then M, R and f of local_linear */
	if (!(w = lw__mallocarray(a->K, sizeof(double))) ||
	    !(c = lw__mallocarray(a->dl, sizeof(double))) ||
	    !(work = lw__mallocarray(2 * a->dl + 5, (a->dl + 1) * sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if (a->map_gamma > 0 && X->rows &&
	    (err = lw_hetero_map_apply(&H, a->map, X, &a->cols, a->u_mean, a->u_std)) < 0)
		goto done;
	for (size_t i = 0; i < X->rows; i++) {
		const double *x = lw_mat_row(X, i);
		double *g = lw_mat_row(out, i);

		carried(c, a, x);
		row_weights(w, a, c, H.data ? lw_mat_row(&H, i) : NULL);
		for (size_t j = 0; j < a->dl; j++) {
			if (isfinite(g[j] = c[j]))
				continue;
			g[j] = 0;
			for (size_t k = 0; k < a->K; k++)
				g[j] += w[k] * lw_mat_row(&a->Z, k)[j];
		}
		if (a->local_linear)
			local_linear(g, a, c, w, work);
	}
done:
	free(w);
	free(c);
	free(work);
	lw_mat_dispose(&H);
	if (err < 0)
		lw_mat_dispose(out);
	return err;
}

static int aligned_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	aligned *a = m->impl;
	lw_mat G = LW_MAT_INIT;
	int err;

	if ((err = transform(&G, a, X)) < 0)
		return err;
	err = lw_model_predict(out, a->inner, &G);
	lw_mat_dispose(&G);
	return err;
}

static void aligned_free(lw_model *m)
{
	aligned_dispose(m->impl);
}

static const lw_model_ops aligned_ops = { aligned_predict, NULL, aligned_free };

int lw_hetero_align(lw_model **out, const lw_hetero_user *user,
		    const lw_hetero_learnware *learnware, const lw_hetero_align_options *opts)
{
	static const lw_hetero_align_options defaults = LW_HETERO_ALIGN_OPTIONS_INIT;
	lw_hetero_map_info mi;
	aligned *a = NULL;
	int err;

	LW_ASSERT_ARG(out && user && learnware);
	*out = NULL;
	opts = opts ? opts : &defaults;
	if ((err = check_align_options(opts)) < 0)
		return err;
	lw_hetero_map_get_info(&mi, user->map);
	if ((err = check_user(user, mi.embed_dim)) < 0 ||
	    (err = check_learnware(learnware, mi.embed_dim)) < 0)
		return err;
	if (!(a = lw__calloc(1, sizeof(*a))))
		return LW_ENOMEM;
	a->map = user->map;
	a->inner = learnware->model;
	a->du = user->X->cols;
	a->dl = lw_rkme_dim(learnware->rkme);
	a->K = lw_rkme_k(learnware->rkme);
	a->map_gamma = opts->map_gamma;
	a->local_linear = opts->local_linear;
	if (!(a->source = lw__mallocarray(a->dl, sizeof(size_t))) ||
	    !(a->quant = lw__mallocarray(a->dl, 1))) {
		err = LW_ENOMEM;
		goto fail;
	}
	if ((err = match_columns(a->source, a->quant, user->columns, learnware->columns, opts)) < 0)
		goto fail;
	for (size_t j = 0; j < a->dl; j++)
		if (a->source[j] != SIZE_MAX)
			*(a->quant[j] ? &a->similar : &a->matched) += 1;
	if (!a->matched && !a->similar && a->map_gamma == 0) {
		err = lw__invalid("hetero alignment of learnware '%s': no column description matches "
			      "the user's and map_gamma is 0, so every row would map to the same "
			      "point; set map_gamma > 0 or lower similar_cosine", learnware->id);
		goto fail;
	}
	if ((err = fit_user_side(a, user, learnware->rkme)) < 0 ||
	    (err = fit_learnware_side(a, learnware, opts)) < 0)
		goto fail;
	if ((err = lw__model_new(out, lw_model_kind_of(learnware->model), &aligned_ops, a, a->du,
				 lw_model_output_dim(learnware->model))) < 0)
		goto fail;
	return 0;
fail:
	aligned_dispose(a);
	return err;
}

int lw_hetero_align_info_get(lw_hetero_align_info *out, const lw_model *aligned_model)
{
	const aligned *a;

	LW_ASSERT_ARG(out && aligned_model);
	memset(out, 0, sizeof(*out));
	if (aligned_model->ops != &aligned_ops)
		return lw__invalid("this model was not made by lw_hetero_align");
	a = aligned_model->impl;
	out->user_dim = a->du;
	out->learnware_dim = a->dl;
	out->points = a->K;
	out->matched = a->matched;
	out->similar = a->similar;
	out->source = a->source;
	out->quantile = a->quant;
	out->bandwidth = a->bandwidth;
	out->map_gamma = a->map_gamma;
	return 0;
}

int lw_hetero_align_transform(lw_mat *out, const lw_model *aligned_model, const lw_mat *X)
{
	const aligned *a;

	LW_ASSERT_ARG(out && aligned_model && X);
	*out = (lw_mat)LW_MAT_INIT;
	if (aligned_model->ops != &aligned_ops)
		return lw__invalid("this model was not made by lw_hetero_align");
	a = aligned_model->impl;
	if (X->cols != a->du)
		return lw__invalid("the rows have %zu columns; the aligned learnware takes the user's %zu",
			       X->cols, a->du);
	return transform(out, a, X);
}

/* --- the averaged ensemble as one model ------------------------------------------ */

typedef struct {
	lw_model **members; /* borrowed */
	size_t n;
} averaged;

static int averaged_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	averaged *v = m->impl;
	lw_mat P = LW_MAT_INIT;
	int err;

	if ((err = lw_mat_init(out, X->rows, m->output_dim)) < 0)
		return err;
	memset(out->data, 0, X->rows * m->output_dim * sizeof(double));
	for (size_t i = 0; i < v->n; i++) {
		if ((err = lw_model_predict(&P, v->members[i], X)) < 0 ||
		    (P.rows != X->rows || P.cols != m->output_dim)) {
			if (!err)
				err = lw__invalid("average-augment: a learnware answered %zu x %zu values "
					      "for %zu rows of %zu columns", P.rows, P.cols, X->rows,
					      m->output_dim);
			lw_mat_dispose(&P);
			lw_mat_dispose(out);
			return err;
		}
		for (size_t c = 0; c < X->rows * m->output_dim; c++)
			out->data[c] += P.data[c] / (double)v->n;
		lw_mat_dispose(&P);
	}
	return 0;
}

static void averaged_free(lw_model *m)
{
	free(m->impl);
}

static const lw_model_ops averaged_ops = { averaged_predict, NULL, averaged_free };

/* The mean of the members' outputs (probabilities for classifiers): one augmenting feature block. */
static int averaged_model(lw_model **out, lw_model **members, const char *const *ids, size_t n,
			  lw_task task)
{
	size_t w = lw_model_output_dim(members[0]);
	averaged *v;
	int err;

	for (size_t i = 0; i < n; i++) {
		if (lw_model_output_dim(members[i]) != w)
			return lw__invalid("average-augment: learnware '%s' answers %zu columns but '%s' "
				       "answers %zu; average learnwares with the same outputs",
				       ids[i], lw_model_output_dim(members[i]), ids[0], w);
	}
	if (task == LW_TASK_CLASSIFICATION && w == 1)
		return lw__invalid("average-augment: learnware '%s' answers one label column; averaging "
			       "classifiers needs their class probabilities", ids[0]);
	if (!(v = lw__calloc(1, sizeof(*v))))
		return LW_ENOMEM;
	v->members = members;
	v->n = n;
	if ((err = lw__model_new(out, lw_model_kind_of(members[0]), &averaged_ops, v,
				 lw_model_input_dim(members[0]), w)) < 0)
		free(v);
	return err;
}

/* --- the reusers ----------------------------------------------------------------- */

struct lw_hetero_reuser {
	lw_hetero_reuse_method method;
	lw_task task;
	size_t n, input_dim;
	char **ids;              /* n, each its own allocation */
	lw_model **aligned;      /* n, owned */
	lw_model *average;       /* average-augment: over `aligned` */
	lw_reuse_member *members; /* what `inner` was fitted on (1 for average-augment) */
	size_t n_members;
	lw_reuser *inner;
};

static const char *const reuse_names[] = {
	[LW_HETERO_REUSE_AVERAGE] = "average",
	[LW_HETERO_REUSE_AUGMENT] = "augment",
	[LW_HETERO_REUSE_AVERAGE_AUGMENT] = "average-augment",
};

const char *lw_hetero_reuse_method_name(lw_hetero_reuse_method method)
{
	return method >= LW_HETERO_REUSE_AVERAGE && method <= LW_HETERO_REUSE_AVERAGE_AUGMENT
		       ? reuse_names[method]
		       : NULL;
}

void lw_hetero_reuser_free(lw_hetero_reuser *r)
{
	if (!r)
		return;
	lw_reuser_free(r->inner);
	lw_model_free(r->average);
	for (size_t i = 0; r->aligned && i < r->n; i++)
		lw_model_free(r->aligned[i]);
	for (size_t i = 0; r->ids && i < r->n; i++)
		free(r->ids[i]);
	free(r->aligned);
	free(r->ids);
	free(r->members);
	free(r);
}

lw_model *lw_hetero_reuser_aligned(const lw_hetero_reuser *r, size_t i)
{
	return r && i < r->n ? r->aligned[i] : NULL;
}

static int check_reuse_options(const lw_hetero_reuse_options *o)
{
	if (o->version != LW_HETERO_REUSE_OPTIONS_VERSION)
		return lw__invalid("lw_hetero_reuse_options version %u is unknown (this library has %d)",
			       o->version, LW_HETERO_REUSE_OPTIONS_VERSION);
	if (!lw_hetero_reuse_method_name(o->method))
		return lw__invalid("unknown hetero reuse method %d: use average, augment or "
			       "average-augment", (int)o->method);
	if (o->task != LW_TASK_REGRESSION && o->task != LW_TASK_CLASSIFICATION)
		return lw__invalid("hetero reuse: the task must be regression or classification");
	if (o->n_classes == 1 || o->n_classes > LW__REUSE_MAX_CLASSES)
		return lw__invalid("hetero reuse: n_classes %zu; a classifier needs 2 to %d classes "
			       "(0: from the labels)", o->n_classes, LW__REUSE_MAX_CLASSES);
	return check_align_options(&o->align);
}

/* Labels for the augmenter; for classification the class count (options, else labels). */
static int check_labels(size_t *k, const lw_mat *X, const double *y, size_t user_dim,
			const lw_hetero_reuse_options *o)
{
	double top = 0;

	if (!X || !y || X->rows < 2)
		return lw__invalid("hetero reuse: %s needs at least 2 labelled rows (X and y)",
			       lw_hetero_reuse_method_name(o->method));
	if (X->cols != user_dim)
		return lw__invalid("hetero reuse: the labelled rows have %zu columns, the user's "
			       "unlabelled rows %zu; give both in the user's columns", X->cols, user_dim);
	for (size_t i = 0; i < X->rows; i++) {
		if (!isfinite(y[i]))
			return lw__invalid("hetero reuse: label row %zu is %g; drop rows without a label",
				       i + 1, y[i]);
		if (o->task == LW_TASK_CLASSIFICATION &&
		    !(y[i] >= 0 && y[i] == floor(y[i]) && y[i] < LW__REUSE_MAX_CLASSES))
			return lw__invalid("hetero reuse: label row %zu: %g is not a class index 0..C-1 "
				       "(encode text labels first)", i + 1, y[i]);
		top = y[i] > top ? y[i] : top;
	}
	*k = o->task == LW_TASK_CLASSIFICATION ? (o->n_classes ? o->n_classes : (size_t)top + 1) : 0;
	if (o->task == LW_TASK_CLASSIFICATION && (*k < 2 || (size_t)top >= *k))
		return lw__invalid("hetero reuse: label %g with %zu classes; a classifier needs two "
			       "classes or more and labels below n_classes", top, *k);
	return 0;
}

/*
 * Feature augmentation over r->members, by reuse_augment.c.  Built here
 * rather than by lw_reuser_fit because the learnwares' outputs are only
 * features: their label space need not be the user's.
 */
static int augment_fit(lw_hetero_reuser *r, const lw_mat *X, const double *y, size_t k,
		       const lw_hetero_reuse_options *o)
{
	lw_reuse_options ro = LW_REUSE_OPTIONS_INIT;
	lw_reuser *a = NULL;
	int err;

	if ((err = lw__reuser_alloc(&a, r->n_members)) < 0)
		return err;
	a->method = LW_REUSE_FEATURE_AUGMENT;
	a->task = o->task;
	a->n_classes = k;
	a->input_dim = X->cols;
	a->output_dim = 1;
	for (size_t i = 0; i < r->n_members; i++) {
		a->member_in[i] = lw_model_input_dim(r->members[i].model);
		a->member_out[i] = lw_model_output_dim(r->members[i].model);
		if (!(a->ids[i] = lw__strdup(r->members[i].id))) {
			err = LW_ENOMEM;
			goto done;
		}
	}
	ro.method = LW_REUSE_FEATURE_AUGMENT;
	ro.task = o->task;
	ro.seed = o->seed;
	if ((err = lw__reuse_augment_fit(a, r->members, X, y, &ro)) < 0)
		goto done;
	r->inner = a;
	a = NULL;
done:
	lw_reuser_free(a);
	return err;
}

static int average_fit(lw_hetero_reuser *r, const lw_hetero_reuse_options *o)
{
	lw_reuse_options ro = LW_REUSE_OPTIONS_INIT;

	ro.method = LW_REUSE_AVERAGE;
	ro.task = o->task;
	ro.n_classes = o->n_classes;
	ro.seed = o->seed;
	return lw_reuser_fit(&r->inner, r->members, r->n_members, NULL, NULL, NULL, &ro);
}

/* Align every learnware; ids copied; members point at the aligned models. */
static int align_all(lw_hetero_reuser *r, const lw_hetero_user *u, const lw_hetero_learnware *lws,
		     const lw_hetero_reuse_options *o)
{
	int err;

	if (!(r->ids = lw__calloc(r->n, sizeof(char *))) ||
	    !(r->aligned = lw__calloc(r->n, sizeof(lw_model *))) ||
	    !(r->members = lw__calloc(r->n, sizeof(lw_reuse_member))))
		return LW_ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; lws[i].id && j < i; j++)
			if (lws[j].id && !strcmp(lws[i].id, lws[j].id))
				return lw__invalid("hetero reuse: learnware '%s' is given twice; give "
					       "each learnware once", lws[i].id);
		if ((err = lw_hetero_align(&r->aligned[i], u, &lws[i], &o->align)) < 0)
			return err;
		if (!(r->ids[i] = lw__strdup(lws[i].id)))
			return LW_ENOMEM;
		r->members[i] = (lw_reuse_member){ r->ids[i], r->aligned[i], NULL };
	}
	r->n_members = r->n;
	return 0;
}

int lw_hetero_reuser_fit(lw_hetero_reuser **out, const lw_hetero_user *user,
			 const lw_hetero_learnware *learnwares, size_t n, const lw_mat *X,
			 const double *y, const lw_hetero_reuse_options *o)
{
	static const lw_hetero_reuse_options defaults = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_reuser *r = NULL;
	size_t k = 0;
	int err;

	LW_ASSERT_ARG(out && user);
	*out = NULL;
	o = o ? o : &defaults;
	if ((err = check_reuse_options(o)) < 0)
		return err;
	if (!n || !learnwares)
		return lw__invalid("hetero reuse: no learnwares to reuse; give at least one");
	if (n > LW__REUSE_MAX_MEMBERS)
		return lw__invalid("hetero reuse: %zu learnwares are more than the %d a reuser takes", n,
			       LW__REUSE_MAX_MEMBERS);
	if (!user->X)
		return lw__invalid("hetero reuse: the user's unlabelled rows are missing");
	if (o->method != LW_HETERO_REUSE_AVERAGE &&
	    (err = check_labels(&k, X, y, user->X->cols, o)) < 0)
		return err;
	if (!(r = lw__calloc(1, sizeof(*r))))
		return LW_ENOMEM;
	r->method = o->method;
	r->task = o->task;
	r->n = n;
	r->input_dim = user->X->cols;
	if ((err = align_all(r, user, learnwares, o)) < 0)
		goto done;
	if (o->method == LW_HETERO_REUSE_AVERAGE) {
		err = average_fit(r, o);
	} else if (o->method == LW_HETERO_REUSE_AUGMENT) {
		err = augment_fit(r, X, y, k, o);
	} else if (!(err = averaged_model(&r->average, r->aligned, (const char *const *)r->ids, n,
					  o->task))) {
		/* One member: the ensemble's mean, named "average". */
		r->members[0] = (lw_reuse_member){ "average", r->average, NULL };
		r->n_members = 1;
		err = augment_fit(r, X, y, k, o);
	}
	if (err < 0)
		goto done;
	*out = r;
	r = NULL;
done:
	lw_hetero_reuser_free(r);
	return err;
}

int lw_hetero_reuser_predict(lw_mat *out, lw_hetero_reuser *r, const lw_mat *X)
{
	LW_ASSERT_ARG(out && r);
	*out = (lw_mat)LW_MAT_INIT;
	if (!X || X->cols != r->input_dim)
		return lw__invalid("hetero reuse: the rows have %zu columns; this reuser takes the "
			       "user's %zu", X ? X->cols : 0, r->input_dim);
	if (r->method == LW_HETERO_REUSE_AVERAGE)
		return lw_reuser_predict(out, r->inner, r->members, r->n_members, X);
	if (X->rows == 0)
		return lw_mat_init(out, 0, 1);
	return lw__reuse_augment_predict(out, r->inner, r->members, X);
}
