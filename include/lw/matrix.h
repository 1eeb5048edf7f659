/*
 * learnware dock - dense row-major matrices of doubles.
 *
 * lw_mat is a caller-owned struct: lw_mat_init allocates its storage and
 * lw_mat_dispose releases it (the struct itself is the caller's).
 */
#ifndef LW_MATRIX_H
#define LW_MATRIX_H

#include "common.h"

LW_BEGIN_DECL

typedef struct {
	size_t rows;
	size_t cols;
	double *data; /**< rows*cols values, row i at data + i*cols */
} lw_mat;

#define LW_MAT_INIT { 0, 0, NULL }

/** Allocate a zero-filled rows x cols matrix.  Fails on overflow. */
LW_EXTERN(int) lw_mat_init(lw_mat *m, size_t rows, size_t cols);

/** Release the storage; accepts a zeroed or already disposed matrix. */
LW_EXTERN(void) lw_mat_dispose(lw_mat *m);

/** Deep copy of src into an uninitialised dst. */
LW_EXTERN(int) lw_mat_copy(lw_mat *dst, const lw_mat *src);

/** Pointer to row i. */
static inline double *lw_mat_row(const lw_mat *m, size_t i)
{
	return m->data + i * m->cols;
}

/** out[i] = squared Euclidean norm of row i (out has m->rows entries). */
LW_EXTERN(void) lw_mat_row_sqnorms(const lw_mat *m, double *out);

/** Copy the given rows of src, in order, into an uninitialised dst. */
LW_EXTERN(int) lw_mat_take_rows(lw_mat *dst, const lw_mat *src, const size_t *idx, size_t n);

LW_END_DECL

#endif
