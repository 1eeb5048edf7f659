/*
 * Vectorised exp, sin and cos for kernel and sketch evaluation.
 */
#ifndef LW_FASTMATH_H
#define LW_FASTMATH_H

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

/*
 * s[i] = sin(x[i]), c[i] = cos(x[i]), within 2e-16 absolute for
 * |x| <= 1e8 (Cody-Waite reduction by pi/2, Taylor polynomials on
 * [-pi/4, pi/4]); larger arguments fall back to libm.  s, c and x must not
 * overlap.
 */
void lw__sincos(double *s, double *c, const double *x, size_t n);

#endif
