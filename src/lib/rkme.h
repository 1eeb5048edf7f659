/*
 * Internal RKME entry points, exposed for tests.
 */
#ifndef LW_RKME_INTERNAL_H
#define LW_RKME_INTERNAL_H

#include "lw/rkme.h"

/*
 * Exact gradient of MMD^2 between (Z, beta) and the rows of X with respect
 * to Z, and the objective beta'K beta - 2 beta'C (MMD^2 less the data's own
 * term).  grad is uninitialised on entry.
 */
int lw__rkme_gradient(lw_mat *grad, double *objective, const lw_mat *X, const lw_mat *Z,
		      const double *beta, double gamma);

/* Fill the cached fields of a new specification (its self inner product). */
int lw__rkme_finish(lw_rkme *r);

#endif
