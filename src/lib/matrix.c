/*
 * Row-major matrix storage.
 */
#include "lw/matrix.h"

#include <string.h>

#include "util.h"

int lw_mat_init(lw_mat *m, size_t rows, size_t cols)
{
	size_t n;

	LW_ASSERT_ARG(m);
	m->rows = m->cols = 0;
	m->data = NULL;
	if (!lw__mul_ok(&n, rows, cols)) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "matrix of %zu x %zu overflows", rows, cols);
		return LW_ENOMEM;
	}
	if (!(m->data = lw__calloc(n, sizeof(double))))
		return LW_ENOMEM;
	m->rows = rows;
	m->cols = cols;
	return 0;
}

void lw_mat_dispose(lw_mat *m)
{
	if (!m)
		return;
	free(m->data);
	m->data = NULL;
	m->rows = m->cols = 0;
}

int lw_mat_copy(lw_mat *dst, const lw_mat *src)
{
	int err;

	LW_ASSERT_ARG(dst && src);
	if ((err = lw_mat_init(dst, src->rows, src->cols)) < 0)
		return err;
	if (src->rows && src->cols)
		memcpy(dst->data, src->data, src->rows * src->cols * sizeof(double));
	return 0;
}

void lw_mat_row_sqnorms(const lw_mat *m, double *out)
{
	for (size_t i = 0; i < m->rows; i++) {
		const double *r = lw_mat_row(m, i);
		double s = 0;

#pragma omp simd reduction(+ : s)
		for (size_t j = 0; j < m->cols; j++)
			s += r[j] * r[j];
		out[i] = s;
	}
}

int lw_mat_take_rows(lw_mat *dst, const lw_mat *src, const size_t *idx, size_t n)
{
	int err;

	LW_ASSERT_ARG(dst && src && (idx || n == 0));
	if ((err = lw_mat_init(dst, n, src->cols)) < 0)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (idx[i] >= src->rows) {
			lw_mat_dispose(dst);
			lw_error_set(LW_ERRCLASS_INVALID, "row index %zu out of range (%zu rows)",
				     idx[i], src->rows);
			return LW_EINVALID;
		}
		memcpy(lw_mat_row(dst, i), lw_mat_row(src, idx[i]), src->cols * sizeof(double));
	}
	return 0;
}
