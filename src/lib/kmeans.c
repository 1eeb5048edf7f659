/*
 * k-means++ seeding and Lloyd iterations; distances through BLAS.
 */
#include "lw/kmeans.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "lw/rng.h"
#include "util.h"

/* Rows per BLAS block in the assignment step: bounds scratch memory. */
#define ASSIGN_BLOCK 4096

typedef struct {
	const lw_mat *X;
	lw_mat *C;
	double *xnorm;  /* |x|^2 per row */
	double *mind;   /* squared distance to the nearest centre */
	size_t *assign;
	double *scratch;
	double *cnorm;  /* |c|^2 per centre */
	size_t *counts;
} kmeans_state;

void lw_kmeans_options_init(lw_kmeans_options *opts)
{
	lw_kmeans_options def = LW_KMEANS_OPTIONS_INIT;

	*opts = def;
}

static double sqdist(const double *a, const double *b, size_t d)
{
	double s = 0;

	for (size_t j = 0; j < d; j++) {
		double t = a[j] - b[j];
		s += t * t;
	}
	return s;
}

/* Lower every row's nearest distance with the new centre c. */
static double update_mind(kmeans_state *st, const double *c)
{
	const lw_mat *X = st->X;
	double total = 0;

#pragma omp parallel for reduction(+ : total) schedule(static)
	for (size_t i = 0; i < X->rows; i++) {
		double dist = sqdist(lw_mat_row(X, i), c, X->cols);

		if (dist < st->mind[i])
			st->mind[i] = dist;
		total += st->mind[i];
	}
	return total;
}

static void seed_plusplus(kmeans_state *st, size_t k, lw_rng *rng)
{
	const lw_mat *X = st->X;
	size_t first = (size_t)lw_rng_below(rng, X->rows);
	double total;

	for (size_t i = 0; i < X->rows; i++)
		st->mind[i] = INFINITY;
	memcpy(lw_mat_row(st->C, 0), lw_mat_row(X, first), X->cols * sizeof(double));
	total = update_mind(st, lw_mat_row(st->C, 0));
	for (size_t c = 1; c < k; c++) {
		/* All rows coincide with centres: any row will do. */
		size_t pick = total > 0 ? lw_rng_categorical(rng, st->mind, X->rows)
					: (size_t)lw_rng_below(rng, X->rows);

		memcpy(lw_mat_row(st->C, c), lw_mat_row(X, pick), X->cols * sizeof(double));
		total = update_mind(st, lw_mat_row(st->C, c));
	}
}

/* Assign every row to its nearest centre; returns the inertia. */
static double assign_rows(kmeans_state *st)
{
	const lw_mat *X = st->X, *C = st->C;
	size_t k = C->rows, d = X->cols;
	double *cnorm = st->cnorm, inertia = 0;

	lw_mat_row_sqnorms(C, cnorm);
	for (size_t start = 0; start < X->rows; start += ASSIGN_BLOCK) {
		size_t m = X->rows - start < ASSIGN_BLOCK ? X->rows - start : ASSIGN_BLOCK;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)k, (int)d, -2.0,
			    lw_mat_row(X, start), (int)d, C->data, (int)d, 0.0, st->scratch, (int)k);
#pragma omp parallel for reduction(+ : inertia) schedule(static)
		for (size_t i = 0; i < m; i++) {
			const double *row = st->scratch + i * k;
			size_t best = 0;
			double bd = INFINITY;

			for (size_t c = 0; c < k; c++) {
				double dist = row[c] + cnorm[c];

				if (dist < bd) {
					bd = dist;
					best = c;
				}
			}
			bd += st->xnorm[start + i];
			st->assign[start + i] = best;
			st->mind[start + i] = bd > 0 ? bd : 0;
			inertia += st->mind[start + i];
		}
	}
	return inertia;
}

/* Move centres to their clusters' means; returns the largest squared move. */
static double update_centres(kmeans_state *st, lw_mat *sums)
{
	const lw_mat *X = st->X;
	size_t k = st->C->rows, d = X->cols;
	double shift = 0;

	memset(sums->data, 0, k * d * sizeof(double));
	memset(st->counts, 0, k * sizeof(size_t));
	for (size_t i = 0; i < X->rows; i++) {
		double *s = lw_mat_row(sums, st->assign[i]);
		const double *x = lw_mat_row(X, i);

		st->counts[st->assign[i]]++;
		for (size_t j = 0; j < d; j++)
			s[j] += x[j];
	}
	for (size_t c = 0; c < k; c++) {
		double *centre = lw_mat_row(st->C, c), moved;

		if (st->counts[c] == 0)
			continue;
		for (size_t j = 0; j < d; j++)
			lw_mat_row(sums, c)[j] /= (double)st->counts[c];
		moved = sqdist(centre, lw_mat_row(sums, c), d);
		if (moved > shift)
			shift = moved;
		memcpy(centre, lw_mat_row(sums, c), d * sizeof(double));
	}
	return shift;
}

/*
 * An empty cluster takes the row farthest from its centre; that row's
 * distance is then zeroed so two empty clusters never take the same row.
 */
static int reseed_empty(kmeans_state *st)
{
	int reseeded = 0;

	for (size_t c = 0; c < st->C->rows; c++) {
		size_t far = 0;

		if (st->counts[c] != 0)
			continue;
		for (size_t i = 1; i < st->X->rows; i++)
			if (st->mind[i] > st->mind[far])
				far = i;
		memcpy(lw_mat_row(st->C, c), lw_mat_row(st->X, far), st->X->cols * sizeof(double));
		st->mind[far] = 0;
		reseeded = 1;
	}
	return reseeded;
}

/* Mean per-coordinate variance: makes the stopping tolerance scale-free. */
static double data_scale(const lw_mat *X)
{
	double total = 0;

	for (size_t j = 0; j < X->cols; j++) {
		double mean = 0, var = 0;

		for (size_t i = 0; i < X->rows; i++)
			mean += lw_mat_row(X, i)[j];
		mean /= (double)X->rows;
		for (size_t i = 0; i < X->rows; i++) {
			double t = lw_mat_row(X, i)[j] - mean;
			var += t * t;
		}
		total += var / (double)X->rows;
	}
	return X->cols ? total / (double)X->cols : 0;
}

static void lloyd(kmeans_state *st, lw_mat *sums, const lw_kmeans_options *o)
{
	double tol2 = o->tol * o->tol * data_scale(st->X);

	for (size_t it = 0; it < o->max_iter; it++) {
		double shift;

		assign_rows(st);
		shift = update_centres(st, sums);
		if (reseed_empty(st))
			continue;
		if (shift <= tol2)
			break;
	}
	assign_rows(st);
}

int lw_kmeans(lw_mat *centres, size_t *assign, const lw_mat *X, size_t k,
	      const lw_kmeans_options *opts)
{
	lw_kmeans_options o = LW_KMEANS_OPTIONS_INIT;
	kmeans_state st = { 0 };
	lw_mat sums = LW_MAT_INIT;
	lw_rng rng;
	int err;

	LW_ASSERT_ARG(centres && X);
	if (opts)
		o = *opts;
	if (k == 0 || k > X->rows || X->cols == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "k-means of %zu rows x %zu columns into %zu clusters",
			     X->rows, X->cols, k);
		return LW_EINVALID;
	}
	if (o.init && (o.init->rows != k || o.init->cols != X->cols)) {
		lw_error_set(LW_ERRCLASS_INVALID, "k-means start of %zu x %zu for %zu clusters of %zu columns",
			     o.init->rows, o.init->cols, k, X->cols);
		return LW_EINVALID;
	}
	if ((err = lw_mat_init(centres, k, X->cols)) < 0)
		return err;
	st.X = X;
	st.C = centres;
	st.xnorm = lw__mallocarray(X->rows, sizeof(double));
	st.mind = lw__mallocarray(X->rows, sizeof(double));
	st.assign = assign ? assign : lw__mallocarray(X->rows, sizeof(size_t));
	st.scratch = lw__mallocarray(ASSIGN_BLOCK, k * sizeof(double));
	st.counts = lw__mallocarray(k, sizeof(size_t));
	st.cnorm = lw__mallocarray(k, sizeof(double));
	if (!st.xnorm || !st.mind || !st.assign || !st.scratch || !st.counts || !st.cnorm ||
	    (err = lw_mat_init(&sums, k, X->cols)) < 0) {
		err = LW_ENOMEM;
		lw_mat_dispose(centres);
		goto done;
	}
	lw_mat_row_sqnorms(X, st.xnorm);
	lw_rng_seed(&rng, o.seed);
	if (o.init)
		memcpy(centres->data, o.init->data, k * X->cols * sizeof(double));
	else
		seed_plusplus(&st, k, &rng);
	lloyd(&st, &sums, &o);
done:
	free(st.xnorm);
	free(st.mind);
	if (st.assign != assign)
		free(st.assign);
	free(st.scratch);
	free(st.counts);
	free(st.cnorm);
	lw_mat_dispose(&sums);
	return err;
}
