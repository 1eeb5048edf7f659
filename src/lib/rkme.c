/*
 * Fitting a table RKME: k-means++ centres, then alternating rounds of a
 * z step and a beta QP.  See docs/rkme.md for the algorithm and how it
 * differs from the reference engine.
 */
#include "lw/rkme.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "kernel.h"
#include "lw/kmeans.h"
#include "lw/qp.h"
#include "rkme.h"
#include "util.h"

/* The reference's cap on K * d (max_reduced_set_size). */
#define MAX_REDUCED_CELLS 1310720
/* Data rows per kernel block: the K x n cross kernel is never stored whole. */
#define CROSS_BLOCK 4096
/*
 * Lloyd iterations for the starting centroids: the z steps refine the
 * points anyway, and beyond ~20 iterations the final MMD no longer moves
 * (measured on 5-component mixtures, n = 1e4 to 5e4) while the time does.
 */
#define RKME_LLOYD_ITER 20
/* Halvings of a z step that failed to lower the MMD before giving up on it. */
#define MAX_BACKTRACK 4

/* Everything one fit needs; the data side (X, xn) is read-only. */
typedef struct {
	const lw_mat *X;
	const double *xn;  /* |x|^2 per data row */
	double gamma;
	lw_mat Z;          /* K x d reduced points */
	double *zn;        /* |z|^2 */
	double *beta;
	double *Kzz;       /* K x K */
	double *C;         /* C_i = mean_x k(z_i, x) */
	lw_mat S;          /* S_i = mean_x k(z_i, x) x */
	double *block;     /* CROSS_BLOCK x K kernel scratch */
	double objective;  /* beta'Kzz beta - 2 beta'C: MMD^2 less the data term */
} fit_state;

/* A copy of the per-point state, to roll back a move that did not help. */
typedef struct {
	lw_mat Z, S;
	double *beta, *Kzz, *C, objective;
} fit_snapshot;

void lw_rkme_options_init(lw_rkme_options *opts)
{
	lw_rkme_options def = LW_RKME_OPTIONS_INIT;

	*opts = def;
}

size_t lw_rkme_effective_k(size_t k, size_t n, size_t d)
{
	if (d > 0 && k > MAX_REDUCED_CELLS / d) {
		k = MAX_REDUCED_CELLS / d;
		if (k < 20)
			k = 20;
	}
	if (k >= n) {
		k = 2 * n / 3;
		if (k < 1)
			k = 1;
	}
	return k;
}

int lw_rkme_new(lw_rkme **out, const lw_mat *z, const double *beta, double gamma,
		size_t num_points)
{
	lw_rkme *r;
	int err;

	LW_ASSERT_ARG(out && z && beta);
	*out = NULL;
	if (!(r = lw__calloc(1, sizeof(*r))))
		return LW_ENOMEM;
	if ((err = lw_mat_copy(&r->z, z)) < 0 ||
	    !(r->beta = lw__mallocarray(z->rows, sizeof(double)))) {
		lw_rkme_free(r);
		return err < 0 ? err : LW_ENOMEM;
	}
	memcpy(r->beta, beta, z->rows * sizeof(double));
	r->gamma = gamma;
	r->num_points = num_points;
	if ((err = lw__rkme_finish(r)) < 0) {
		lw_rkme_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void lw_rkme_free(lw_rkme *r)
{
	if (!r)
		return;
	lw_mat_dispose(&r->z);
	free(r->beta);
	free(r);
}

static int report(const lw_rkme_options *o, const char *stage, double done)
{
	if (o->progress && o->progress(stage, done, o->payload)) {
		lw_error_set(LW_ERRCLASS_INVALID, "cancelled during %s", stage);
		return LW_ECANCEL;
	}
	return 0;
}

/*
 * Replace NaN/Inf by the column mean of finite cells (the reference's
 * rule).  Copies X only when it holds a non-finite cell.
 */
static int fill_nonfinite(lw_mat *copy, const lw_mat **X)
{
	const lw_mat *src = *X;
	size_t n = src->rows, d = src->cols;
	int err;

	for (size_t i = 0; i < n * d; i++)
		if (!isfinite(src->data[i]))
			goto fill;
	return 0;
fill:
	if ((err = lw_mat_copy(copy, src)) < 0)
		return err;
	for (size_t j = 0; j < d; j++) {
		double sum = 0;
		size_t count = 0;

		for (size_t i = 0; i < n; i++) {
			double v = lw_mat_row(copy, i)[j];
			if (isfinite(v)) {
				sum += v;
				count++;
			}
		}
		if (count == 0) {
			lw_error_set(LW_ERRCLASS_DATA,
				     "column %zu has no finite value (all NaN or Inf): drop it", j + 1);
			lw_mat_dispose(copy);
			return LW_EINVALID;
		}
		for (size_t i = 0; i < n; i++) {
			double *v = &lw_mat_row(copy, i)[j];
			if (!isfinite(*v))
				*v = sum / (double)count;
		}
	}
	*X = copy;
	return 0;
}

/* C and S at the current Z, one block of data rows at a time. */
static void cross_terms(fit_state *st)
{
	const lw_mat *X = st->X;
	size_t k = st->Z.rows, d = X->cols, n = X->rows;
	double inv_n = 1.0 / (double)n;

	lw_mat_row_sqnorms(&st->Z, st->zn);
	memset(st->C, 0, k * sizeof(double));
	memset(st->S.data, 0, k * d * sizeof(double));
	for (size_t start = 0; start < n; start += CROSS_BLOCK) {
		size_t m = n - start < CROSS_BLOCK ? n - start : CROSS_BLOCK;
		const double *xb = lw_mat_row(X, start);

		lw__kernel_rbf_rows(st->block, xb, st->xn + start, m, st->Z.data, st->zn, k, d,
				    st->gamma);
		/* S += block' * X_block / n; C += block' * 1 / n (columns of block are z). */
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)m, inv_n,
			    st->block, (int)k, xb, (int)d, 1.0, st->S.data, (int)d);
		for (size_t i = 0; i < m; i++) {
			const double *row = st->block + i * k;
			for (size_t c = 0; c < k; c++)
				st->C[c] += row[c];
		}
	}
	for (size_t c = 0; c < k; c++)
		st->C[c] *= inv_n;
}

static double quad_objective(const fit_state *st)
{
	size_t k = st->Z.rows;
	double quad = 0, lin = 0;

	for (size_t i = 0; i < k; i++) {
		double row = 0;
		for (size_t j = 0; j < k; j++)
			row += st->Kzz[i * k + j] * st->beta[j];
		quad += st->beta[i] * row;
		lin += st->beta[i] * st->C[i];
	}
	return quad - 2 * lin;
}

/* Unconstrained beta: (Kzz + 1e-5 I)^-1 C, as the reference does. */
static int solve_beta_free(fit_state *st)
{
	size_t k = st->Z.rows;
	double *A = lw__mallocarray(k * k, sizeof(double));
	int info;

	if (!A)
		return LW_ENOMEM;
	memcpy(A, st->Kzz, k * k * sizeof(double));
	for (size_t i = 0; i < k; i++)
		A[i * k + i] += 1e-5;
	memcpy(st->beta, st->C, k * sizeof(double));
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)k, 1, A, (lapack_int)k, st->beta, 1);
	free(A);
	if (info != 0) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "unconstrained beta solve failed (LAPACK info %d)",
			     (int)info);
		return LW_ERROR;
	}
	return 0;
}

/* Kzz, C, S and beta for the current Z. */
static int beta_step(fit_state *st, int nonnegative)
{
	int err;

	lw__kernel_rbf_rows(st->Kzz, st->Z.data, st->zn, st->Z.rows, st->Z.data, st->zn,
			    st->Z.rows, st->Z.cols, st->gamma);
	if (nonnegative)
		err = lw_qp_simplex(st->beta, st->Kzz, st->C, st->Z.rows, NULL);
	else
		err = solve_beta_free(st);
	if (err < 0)
		return err;
	st->objective = quad_objective(st);
	return 0;
}

/*
 * u_i = R_i + S_i - C_i z_i for every reduced point, where
 *   R_i = sum_j beta_j k(z_i, z_j) (z_i - z_j)   (repulsion between points).
 * The exact gradient of MMD^2 is dMMD^2/dz_i = -4 gamma beta_i u_i.  (The
 * reference's step uses -2 gamma beta_i (R_i/2 + S_i - C_i z_i): half the
 * scale, and the repulsion halved again, so its reduced points crowd.)
 */
static void gradient_terms(lw_mat *u, const fit_state *st)
{
	size_t k = st->Z.rows, d = st->Z.cols;

	for (size_t i = 0; i < k; i++) {
		const double *zi = lw_mat_row(&st->Z, i), *si = lw_mat_row(&st->S, i);
		double *g = lw_mat_row(u, i);
		double kb = 0;

		memset(g, 0, d * sizeof(double));
		for (size_t j = 0; j < k; j++) {
			double w = st->beta[j] * st->Kzz[i * k + j];
			const double *zj = lw_mat_row(&st->Z, j);

			kb += w;
			for (size_t t = 0; t < d; t++)
				g[t] -= w * zj[t];
		}
		for (size_t t = 0; t < d; t++)
			g[t] += kb * zi[t] + si[t] - st->C[i] * zi[t];
	}
}

/*
 * Direction of the z step: the negative exact gradient divided by its own
 * scale 4 gamma beta_i C_i, i.e. u_i / C_i = (S_i / C_i - z_i) + R_i / C_i:
 * a mean-shift move towards the kernel-weighted mean of the data near z_i,
 * less the pull of the other reduced points.  The scaling makes one step
 * size suit every point whatever its weight, where the raw gradient moves a
 * point of weight 1/K by a few thousandths of a unit per step.
 */
static void z_direction(lw_mat *dir, const fit_state *st)
{
	size_t k = st->Z.rows, d = st->Z.cols;

	gradient_terms(dir, st);
	for (size_t i = 0; i < k; i++) {
		double *g = lw_mat_row(dir, i);
		/* No data within reach of z_i: nothing sensible to move towards. */
		double scale = st->C[i] > 1e-300 ? 1.0 / st->C[i] : 0.0;

		for (size_t t = 0; t < d; t++)
			g[t] *= scale;
	}
}

static int snapshot_init(fit_snapshot *sn, size_t k, size_t d)
{
	memset(sn, 0, sizeof(*sn));
	if (lw_mat_init(&sn->Z, k, d) < 0 || lw_mat_init(&sn->S, k, d) < 0 ||
	    !(sn->beta = lw__mallocarray(k, sizeof(double))) ||
	    !(sn->Kzz = lw__mallocarray(k * k, sizeof(double))) ||
	    !(sn->C = lw__mallocarray(k, sizeof(double))))
		return LW_ENOMEM;
	return 0;
}

static void snapshot_dispose(fit_snapshot *sn)
{
	lw_mat_dispose(&sn->Z);
	lw_mat_dispose(&sn->S);
	free(sn->beta);
	free(sn->Kzz);
	free(sn->C);
}

/* Copy the state into (save = 1) or out of (save = 0) the snapshot. */
static void snapshot_swap(fit_state *st, fit_snapshot *sn, int save)
{
	size_t k = st->Z.rows, d = st->Z.cols;
#define LW_SNAP(dst, src, bytes) memcpy(save ? (dst) : (src), save ? (src) : (dst), bytes)
	LW_SNAP(sn->Z.data, st->Z.data, k * d * sizeof(double));
	LW_SNAP(sn->S.data, st->S.data, k * d * sizeof(double));
	LW_SNAP(sn->beta, st->beta, k * sizeof(double));
	LW_SNAP(sn->Kzz, st->Kzz, k * k * sizeof(double));
	LW_SNAP(sn->C, st->C, k * sizeof(double));
#undef LW_SNAP
	if (save)
		sn->objective = st->objective;
	else
		st->objective = sn->objective;
}

/*
 * One z step with backtracking: move along the direction and keep the move
 * only if the MMD (after re-solving beta) went down; otherwise halve.
 */
static int z_step(fit_state *st, lw_mat *dir, fit_snapshot *sn, double step, int nonnegative)
{
	size_t cells = st->Z.rows * st->Z.cols;
	int err;

	z_direction(dir, st);
	snapshot_swap(st, sn, 1);
	for (int attempt = 0; attempt <= MAX_BACKTRACK; attempt++, step *= 0.5) {
		for (size_t i = 0; i < cells; i++)
			st->Z.data[i] = sn->Z.data[i] + step * dir->data[i];
		cross_terms(st);
		if ((err = beta_step(st, nonnegative)) < 0)
			return err;
		if (st->objective <= sn->objective)
			return 0;
	}
	snapshot_swap(st, sn, 0); /* no step helped: keep the previous set */
	return 0;
}

static int check_options(const lw_rkme_options *o, const lw_mat *X)
{
	if (!(o->gamma > 0) || !isfinite(o->gamma)) {
		lw_error_set(LW_ERRCLASS_INVALID, "gamma must be a positive number, got %g", o->gamma);
		return LW_EINVALID;
	}
	if (o->k == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "K (reduced points) must be at least 1");
		return LW_EINVALID;
	}
	if (!(o->step_size >= 0) || !isfinite(o->step_size)) {
		lw_error_set(LW_ERRCLASS_INVALID, "step size must be >= 0, got %g", o->step_size);
		return LW_EINVALID;
	}
	if (X->rows == 0 || X->cols == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "no data: %zu rows x %zu columns", X->rows, X->cols);
		return LW_EINVALID;
	}
	if (X->rows > INT32_MAX || X->cols > INT32_MAX) {
		lw_error_set(LW_ERRCLASS_DATA, "data of %zu x %zu is too large", X->rows, X->cols);
		return LW_EINVALID;
	}
	return 0;
}

/* reduce = false: every row is a reduced point of weight 1/n. */
static int fit_unreduced(lw_rkme **out, const lw_mat *X, double gamma)
{
	double *beta = lw__mallocarray(X->rows, sizeof(double));
	int err;

	if (!beta)
		return LW_ENOMEM;
	for (size_t i = 0; i < X->rows; i++)
		beta[i] = 1.0 / (double)X->rows;
	err = lw_rkme_new(out, X, beta, gamma, X->rows);
	free(beta);
	return err;
}

static void state_dispose(fit_state *st)
{
	lw_mat_dispose(&st->Z);
	lw_mat_dispose(&st->S);
	free(st->zn);
	free(st->beta);
	free(st->Kzz);
	free(st->C);
	free(st->block);
}

static int state_init(fit_state *st, const lw_mat *X, const double *xn, size_t k, double gamma)
{
	memset(st, 0, sizeof(*st));
	st->X = X;
	st->xn = xn;
	st->gamma = gamma;
	st->zn = lw__mallocarray(k, sizeof(double));
	st->beta = lw__mallocarray(k, sizeof(double));
	st->Kzz = lw__mallocarray(k * k, sizeof(double));
	st->C = lw__mallocarray(k, sizeof(double));
	st->block = lw__mallocarray(CROSS_BLOCK, k * sizeof(double));
	if (!st->zn || !st->beta || !st->Kzz || !st->C || !st->block ||
	    lw_mat_init(&st->S, k, X->cols) < 0)
		return LW_ENOMEM;
	return 0;
}

/* Solve beta at the given points, then take the first z step if any. */
static int start_from(fit_state *st, const double *points, fit_snapshot *scratch, lw_mat *dir,
		      const lw_rkme_options *o)
{
	memcpy(st->Z.data, points, st->Z.rows * st->Z.cols * sizeof(double));
	cross_terms(st);
	int err = beta_step(st, o->nonnegative_beta);

	if (err == 0 && o->steps > 0)
		err = z_step(st, dir, scratch, o->step_size, o->nonnegative_beta);
	return err;
}

/*
 * Starting point: the k-means++ seeds (data rows) or the Lloyd centroids,
 * whichever fits better after the first round.  Centroids usually win in
 * low dimension; in high dimension (d = 50 at gamma 0.1) rows barely see
 * each other through the kernel, centroids sit where no data is, and the
 * seeds win.  Neither wins by its MMD before the first z step, so the
 * first round is run from both (one extra kernel pass over the data).
 */
static int initialise(fit_state *st, fit_snapshot *best, fit_snapshot *scratch, lw_mat *dir,
		      const lw_rkme_options *o, size_t k)
{
	lw_kmeans_options ko = LW_KMEANS_OPTIONS_INIT;
	lw_mat seeds = LW_MAT_INIT, centres = LW_MAT_INIT;
	int err;

	ko.seed = o->seed;
	ko.max_iter = 0;
	if ((err = lw_kmeans(&seeds, NULL, st->X, k, &ko)) < 0)
		return err;
	ko.max_iter = RKME_LLOYD_ITER;
	ko.init = &seeds;
	if ((err = lw_kmeans(&centres, NULL, st->X, k, &ko)) < 0 ||
	    (err = lw_mat_copy(&st->Z, &seeds)) < 0 ||
	    (err = report(o, "optimising reduced set", 0)) < 0 ||
	    (err = start_from(st, seeds.data, scratch, dir, o)) < 0)
		goto done;
	snapshot_swap(st, best, 1);
	if ((err = start_from(st, centres.data, scratch, dir, o)) < 0)
		goto done;
	if (st->objective > best->objective)
		snapshot_swap(st, best, 0);
done:
	lw_mat_dispose(&seeds);
	lw_mat_dispose(&centres);
	return err;
}

/* Initialisation with the first round, then the remaining rounds. */
static int optimise(fit_state *st, const lw_rkme_options *o, size_t k)
{
	lw_mat dir = LW_MAT_INIT;
	fit_snapshot best, scratch;
	int err;

	if ((err = snapshot_init(&best, k, st->X->cols)) < 0 ||
	    (err = snapshot_init(&scratch, k, st->X->cols)) < 0 ||
	    (err = lw_mat_init(&dir, k, st->X->cols)) < 0 ||
	    (err = report(o, "clustering", 0)) < 0 ||
	    (err = initialise(st, &best, &scratch, &dir, o, k)) < 0)
		goto done;
	for (unsigned int s = 1; s < o->steps; s++) {
		if ((err = report(o, "optimising reduced set", (double)s / o->steps)) < 0 ||
		    (err = z_step(st, &dir, &scratch, o->step_size, o->nonnegative_beta)) < 0)
			goto done;
	}
	err = report(o, "optimising reduced set", 1.0);
done:
	lw_mat_dispose(&dir);
	snapshot_dispose(&best);
	snapshot_dispose(&scratch);
	return err;
}

int lw_rkme_fit(lw_rkme **out, const lw_mat *X_in, const lw_rkme_options *opts)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_mat filled = LW_MAT_INIT;
	const lw_mat *X = X_in;
	fit_state st;
	double *xn = NULL;
	size_t k;
	int err;

	LW_ASSERT_ARG(out && X_in);
	*out = NULL;
	memset(&st, 0, sizeof(st));
	if (opts)
		o = *opts;
	if ((err = check_options(&o, X)) < 0 || (err = fill_nonfinite(&filled, &X)) < 0)
		return err;
	if (!o.reduce) {
		err = fit_unreduced(out, X, o.gamma);
		goto done;
	}
	k = lw_rkme_effective_k(o.k, X->rows, X->cols);
	if (!(xn = lw__mallocarray(X->rows, sizeof(double))) ||
	    (err = state_init(&st, X, xn, k, o.gamma)) < 0) {
		err = LW_ENOMEM;
		goto done;
	}
	lw_mat_row_sqnorms(X, xn);
	if ((err = optimise(&st, &o, k)) < 0)
		goto done;
	if ((err = lw_rkme_new(out, &st.Z, st.beta, o.gamma, X->rows)) < 0)
		goto done;
done:
	state_dispose(&st);
	free(xn);
	lw_mat_dispose(&filled);
	return err;
}

int lw__rkme_gradient(lw_mat *grad, double *objective, const lw_mat *X, const lw_mat *Z,
		      const double *beta, double gamma)
{
	fit_state st;
	double *xn = lw__mallocarray(X->rows, sizeof(double));
	size_t k = Z->rows;
	int err;

	memset(&st, 0, sizeof(st));
	if (!xn || (err = state_init(&st, X, xn, k, gamma)) < 0 || (err = lw_mat_copy(&st.Z, Z)) < 0 ||
	    (err = lw_mat_init(grad, k, Z->cols)) < 0) {
		err = LW_ENOMEM;
		goto done;
	}
	lw_mat_row_sqnorms(X, xn);
	memcpy(st.beta, beta, k * sizeof(double));
	cross_terms(&st);
	lw__kernel_rbf_rows(st.Kzz, Z->data, st.zn, k, Z->data, st.zn, k, Z->cols, gamma);
	*objective = quad_objective(&st);
	gradient_terms(grad, &st);
	for (size_t i = 0; i < k; i++)
		for (size_t t = 0; t < Z->cols; t++)
			lw_mat_row(grad, i)[t] *= -4.0 * gamma * beta[i];
done:
	state_dispose(&st);
	free(xn);
	return err;
}
