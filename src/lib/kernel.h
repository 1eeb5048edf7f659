/*
 * Internal kernel entry points for callers that already hold row norms or
 * work on a block of rows.
 */
#ifndef LW_KERNEL_INTERNAL_H
#define LW_KERNEL_INTERNAL_H

#include "lw/kernel.h"

/*
 * out (m x n) = exp(-gamma * max(0, xn_i + yn_j - 2 X_i . Y_j)) for the m
 * rows at X (stride d) and n rows at Y (stride d), norms precomputed.
 */
void lw__kernel_rbf_rows(double *out, const double *X, const double *xn, size_t m,
			 const double *Y, const double *yn, size_t n, size_t d, double gamma);

#endif
