/*
 * learnware dock - quadratic programs over the probability simplex.
 *
 *     minimise 1/2 x'Kx - c'x   subject to   x >= 0, sum(x) = 1
 *
 * K is symmetric positive semi-definite: in practice an RBF Gram matrix,
 * which may be singular (duplicate points) or nearly so.  The solver is an
 * exact primal active-set method (see docs/qp.md); its answer is checked
 * against the natural KKT residual below before it is returned.
 */
#ifndef LW_QP_H
#define LW_QP_H

#include "common.h"

LW_BEGIN_DECL

/** What lw_qp_simplex did, for diagnostics and tests. */
typedef struct {
	size_t iterations;   /**< active-set changes (variables freed or fixed) */
	double objective;    /**< 1/2 x'Kx - c'x at the solution */
	double kkt_residual; /**< lw_qp_kkt_residual at the solution */
} lw_qp_info;

/**
 * Solve the simplex QP.
 *
 * @param[out] x  n entries: the minimiser (x >= 0, sum 1)
 * @param K       n*n row-major, symmetric positive semi-definite
 * @param c       n entries
 * @param n       problem size, at least 1
 * @param[out] info  may be NULL
 * @return 0; LW_EINVALID for a NULL pointer, n == 0, a non-finite entry
 *   (the message names K or c and the index), an asymmetric K or a
 *   negative diagonal; LW_ENOMEM; LW_ERROR with class LW_ERRCLASS_NUMERIC
 *   when the KKT residual exceeds 1e-9 * max(1, max|K_ij|, max|c_i|),
 *   which does not happen for positive semi-definite K.
 */
LW_EXTERN(int) lw_qp_simplex(double *x, const double *K, const double *c, size_t n,
			     lw_qp_info *info);

/**
 * Natural KKT residual max_i |x_i - P(x - (Kx - c))_i|, P the Euclidean
 * projection onto the simplex.  Zero exactly when x solves the QP; it is
 * in the units of Kx - c.  NaN when an argument is NULL or memory runs out.
 */
LW_EXTERN(double) lw_qp_kkt_residual(const double *x, const double *K, const double *c, size_t n);

/**
 * Euclidean projection of v (n entries) onto the probability simplex, in
 * place: v_i <- max(v_i - tau, 0) with tau chosen so the sum is 1.
 * Sort-based, O(n log n).  Non-finite entries give unspecified output.
 */
LW_EXTERN(void) lw_qp_project_simplex(double *v, size_t n);

LW_END_DECL

#endif
