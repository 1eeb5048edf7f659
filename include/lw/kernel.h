/*
 * learnware dock - Gaussian (RBF) kernels k(x, y) = exp(-gamma |x - y|^2).
 *
 * Squared distances come from one BLAS product, |x|^2 + |y|^2 - 2 x.y,
 * and are clamped at zero before the exponential: rounding can make the
 * sum slightly negative for near-identical points, and a kernel value
 * above 1 has no meaning.
 */
#ifndef LW_KERNEL_H
#define LW_KERNEL_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

/**
 * out (X->rows x Y->rows, row-major, caller-allocated) = k(X_i, Y_j).
 * X and Y must have the same number of columns.
 */
LW_EXTERN(int) lw_kernel_rbf(double *out, const lw_mat *X, const lw_mat *Y, double gamma);

/**
 * Mean of k(x, x') over all ordered pairs of rows of X, including x = x':
 * the data's own term in an MMD.  O(n^2 d) but needs only O(n) memory.
 */
LW_EXTERN(int) lw_kernel_mean_self(double *out, const lw_mat *X, double gamma);

LW_END_DECL

#endif
