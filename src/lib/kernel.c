/*
 * RBF kernel matrices through BLAS.
 */
#include "kernel.h"

#include <cblas.h>
#include <math.h>

#include "fastmath.h"
#include "util.h"

/* Rows of X handled at once by lw_kernel_mean_self: bounds scratch memory. */
#define SELF_BLOCK 2048

void lw__kernel_rbf_rows(double *out, const double *X, const double *xn, size_t m,
			 const double *Y, const double *yn, size_t n, size_t d, double gamma)
{
	if (m == 0 || n == 0)
		return;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)d, -2.0, X,
		    (int)d, Y, (int)d, 0.0, out, (int)n);
#pragma omp parallel for schedule(static) if (m * n > 200000)
	for (size_t i = 0; i < m; i++)
		lw__rbf_row(out + i * n, xn[i], yn, n, gamma);
}

static int check_dims(const lw_mat *X, const lw_mat *Y)
{
	if (X->cols != Y->cols) {
		lw_error_set(LW_ERRCLASS_INVALID, "kernel between %zu-column and %zu-column data",
			     X->cols, Y->cols);
		return LW_EINVALID;
	}
	if (X->rows > INT32_MAX || Y->rows > INT32_MAX || X->cols > INT32_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "kernel matrix too large for BLAS");
		return LW_EINVALID;
	}
	return 0;
}

int lw_kernel_rbf(double *out, const lw_mat *X, const lw_mat *Y, double gamma)
{
	double *xn = NULL, *yn = NULL;
	int err;

	LW_ASSERT_ARG(out && X && Y);
	if ((err = check_dims(X, Y)) < 0)
		return err;
	xn = lw__mallocarray(X->rows, sizeof(double));
	yn = lw__mallocarray(Y->rows, sizeof(double));
	if (!xn || !yn) {
		err = LW_ENOMEM;
		goto done;
	}
	lw_mat_row_sqnorms(X, xn);
	lw_mat_row_sqnorms(Y, yn);
	lw__kernel_rbf_rows(out, X->data, xn, X->rows, Y->data, yn, Y->rows, X->cols, gamma);
done:
	free(xn);
	free(yn);
	return err;
}

int lw_kernel_mean_self(double *out, const lw_mat *X, double gamma)
{
	size_t n = X ? X->rows : 0, block;
	double *norms = NULL, *scratch = NULL, total = 0;
	int err;

	LW_ASSERT_ARG(out && X && X->rows > 0);
	if ((err = check_dims(X, X)) < 0)
		return err;
	block = n < SELF_BLOCK ? n : SELF_BLOCK;
	norms = lw__mallocarray(n, sizeof(double));
	scratch = lw__mallocarray(block * n, sizeof(double));
	if (!norms || !scratch) {
		err = LW_ENOMEM;
		goto done;
	}
	lw_mat_row_sqnorms(X, norms);
	for (size_t start = 0; start < n; start += block) {
		size_t m = n - start < block ? n - start : block;
		const double *xs = lw_mat_row(X, start);

		/* Only the block's columns at or after its first row: use symmetry. */
		size_t cols = n - start;
		lw__kernel_rbf_rows(scratch, xs, norms + start, m, xs, norms + start, cols,
				    X->cols, gamma);
		for (size_t i = 0; i < m; i++) {
			const double *row = scratch + i * cols;
			double s = 0.5 * row[i];

			for (size_t j = i + 1; j < cols; j++)
				s += row[j];
			total += 2.0 * s;
		}
	}
	*out = total / ((double)n * (double)n);
done:
	free(norms);
	free(scratch);
	return err;
}
