/*
 * Inner products and squared MMD between RKMEs, and against raw data.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "kernel.h"
#include "rkme.h"
#include "util.h"

static int check_pair(const lw_rkme *a, const lw_rkme *b)
{
	if (lw_rkme_dim(a) != lw_rkme_dim(b)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "specifications have different dimensions (%zu and %zu columns)",
			     lw_rkme_dim(a), lw_rkme_dim(b));
		return LW_EINVALID;
	}
	return 0;
}

/* Kernel tile: bounds scratch memory when an unreduced set has many rows. */
#define TILE_A 128
#define TILE_B 1024

/*
 * beta_a' k(Z_a, Z_b) beta_b, tile by tile.  scratch holds the doubles
 * cross_scratch asked for.  BLAS runs single-threaded when called inside
 * a parallel region, which is how lw_rkme_dist_many uses this.
 */
static double cross_sum(const lw_mat *za, const double *ba, const lw_mat *zb, const double *bb,
			double gamma, double *scratch)
{
	size_t ka = za->rows, kb = zb->rows, d = za->cols;
	double *na = scratch, *nb = na + ka, *K = nb + kb, total = 0;

	lw_mat_row_sqnorms(za, na);
	lw_mat_row_sqnorms(zb, nb);
	for (size_t i0 = 0; i0 < ka; i0 += TILE_A) {
		size_t mi = ka - i0 < TILE_A ? ka - i0 : TILE_A;

		for (size_t j0 = 0; j0 < kb; j0 += TILE_B) {
			size_t mj = kb - j0 < TILE_B ? kb - j0 : TILE_B;

			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mi, (int)mj, (int)d,
				    -2.0, lw_mat_row(za, i0), (int)d, lw_mat_row(zb, j0), (int)d, 0.0,
				    K, (int)mj);
			for (size_t i = 0; i < mi; i++) {
				double *row = K + i * mj, s = 0;

				lw__rbf_row(row, na[i0 + i], nb + j0, mj, gamma);
#pragma omp simd reduction(+ : s)
				for (size_t j = 0; j < mj; j++)
					s += row[j] * bb[j0 + j];
				total += ba[i0 + i] * s;
			}
		}
	}
	return total;
}

static double *cross_scratch(size_t ka, size_t kb)
{
	return lw__mallocarray(ka + kb + TILE_A * TILE_B, sizeof(double));
}

/* <a, b> with the given gamma. */
static int inner_with(double *out, const lw_rkme *a, const lw_rkme *b, double gamma)
{
	double *scratch = cross_scratch(lw_rkme_k(a), lw_rkme_k(b));

	if (!scratch)
		return LW_ENOMEM;
	*out = cross_sum(&a->z, a->beta, &b->z, b->beta, gamma, scratch);
	free(scratch);
	return 0;
}

int lw__rkme_finish(lw_rkme *r)
{
	return inner_with(&r->self_inner, r, r, r->gamma);
}

int lw_rkme_inner(double *out, const lw_rkme *a, const lw_rkme *b)
{
	int err;

	LW_ASSERT_ARG(out && a && b);
	if ((err = check_pair(a, b)) < 0)
		return err;
	return inner_with(out, a, b, a->gamma);
}

/* <b, b> with a's gamma: the cached value unless the widths differ. */
static double self_term(const lw_rkme *b, double gamma, double *scratch)
{
	if (b->gamma == gamma)
		return b->self_inner;
	return cross_sum(&b->z, b->beta, &b->z, b->beta, gamma, scratch);
}

int lw_rkme_dist(double *out, const lw_rkme *a, const lw_rkme *b)
{
	LW_ASSERT_ARG(out && a && b);
	return lw_rkme_dist_many(out, a, &b, 1);
}

int lw_rkme_dist_many(double *out, const lw_rkme *a, const lw_rkme *const *b, size_t m)
{
	size_t kmax = 0;
	int err = 0;

	LW_ASSERT_ARG(out && a && (b || m == 0));
	for (size_t i = 0; i < m; i++) {
		if ((err = check_pair(a, b[i])) < 0)
			return err;
		kmax = lw_rkme_k(b[i]) > kmax ? lw_rkme_k(b[i]) : kmax;
	}
	if (kmax < lw_rkme_k(a))
		kmax = lw_rkme_k(a);
#pragma omp parallel if (m > 8)
	{
		double *scratch = cross_scratch(kmax, kmax);

#pragma omp for schedule(dynamic, 16)
		for (size_t i = 0; i < m; i++) {
			if (!scratch)
				continue;
			out[i] = a->self_inner - 2 * cross_sum(&a->z, a->beta, &b[i]->z, b[i]->beta,
							       a->gamma, scratch) +
				 self_term(b[i], a->gamma, scratch);
		}
		if (!scratch) {
#pragma omp atomic write
			err = LW_ENOMEM;
		}
		free(scratch);
	}
	return err;
}

int lw_rkme_inner_data(double *out, const lw_rkme *r, const lw_mat *X)
{
	double *uniform = NULL, *scratch = NULL;
	int err = 0;

	LW_ASSERT_ARG(out && r && X && X->rows > 0);
	if (X->cols != lw_rkme_dim(r)) {
		lw_error_set(LW_ERRCLASS_INVALID, "data has %zu columns, specification %zu",
			     X->cols, lw_rkme_dim(r));
		return LW_EINVALID;
	}
	uniform = lw__mallocarray(X->rows, sizeof(double));
	scratch = cross_scratch(lw_rkme_k(r), X->rows);
	if (!uniform || !scratch) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < X->rows; i++)
		uniform[i] = 1.0 / (double)X->rows;
	*out = cross_sum(&r->z, r->beta, X, uniform, r->gamma, scratch);
done:
	free(uniform);
	free(scratch);
	return err;
}

int lw_rkme_mmd_data(double *out, const lw_rkme *r, const lw_mat *X)
{
	double rx, xx;
	int err;

	LW_ASSERT_ARG(out && r && X);
	if ((err = lw_rkme_inner_data(&rx, r, X)) < 0 ||
	    (err = lw_kernel_mean_self(&xx, X, r->gamma)) < 0)
		return err;
	*out = r->self_inner - 2 * rx + xx;
	return 0;
}
