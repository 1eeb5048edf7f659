/*
 * learnware dock - Reduced Kernel Mean Embedding (RKME) of a table.
 *
 * An RKME is a small weighted point set (beta, z) whose Gaussian-kernel mean
 * embedding sum_i beta_i k(z_i, .) approximates that of a data set, so a
 * learnware's training distribution can be compared with a user's without
 * either side revealing rows.  Format and defaults follow the reference
 * engine's RKMETableSpecification (docs/rkme.md says where and why this
 * implementation departs from it).
 */
#ifndef LW_RKME_H
#define LW_RKME_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

/** A table RKME.  Allocated by the library; release with lw_rkme_free. */
typedef struct {
	lw_mat z;          /**< K x d reduced points */
	double *beta;      /**< K weights (non-negative, summing to 1 by default) */
	double gamma;      /**< kernel width: k(x, y) = exp(-gamma |x - y|^2) */
	size_t num_points; /**< rows of the data it summarises */
	double self_inner; /**< <r, r>, computed when created: z, beta and gamma are read-only */
} lw_rkme;

typedef struct {
	unsigned int version;
	double gamma;          /**< kernel width (0.1) */
	size_t k;              /**< reduced points before clamping (100) */
	unsigned int steps;    /**< alternating z / beta rounds (3) */
	double step_size;      /**< z step as a fraction of the Newton-scaled step (1.0; docs/rkme.md) */
	uint64_t seed;         /**< seed of the k-means++ initialisation (0) */
	int nonnegative_beta;  /**< beta >= 0 and sums to 1 through the QP (1) */
	int reduce;            /**< 0: keep every row with weight 1/n (1) */
	lw_progress_cb progress;
	void *payload;
} lw_rkme_options;

#define LW_RKME_OPTIONS_VERSION 1
#define LW_RKME_OPTIONS_INIT { LW_RKME_OPTIONS_VERSION, 0.1, 100, 3, 1.0, 0, 1, 1, NULL, NULL }

LW_EXTERN(void) lw_rkme_options_init(lw_rkme_options *opts);

/**
 * The number of reduced points a fit of n rows in d columns will use:
 * the reference's rules (K*d capped at 1310720 with K >= 20, then
 * K = max(1, 2n/3) when K >= n).
 */
LW_EXTERN(size_t) lw_rkme_effective_k(size_t k, size_t n, size_t d);

/**
 * Fit an RKME to the rows of X.  NaN and +-Inf cells are replaced by their
 * column's mean over finite cells; a column with no finite cell is an error.
 *
 * @param[out] out  the new specification, owned by the caller
 * @return 0, LW_EINVALID (bad options or data), LW_ENOMEM, LW_ECANCEL
 */
LW_EXTERN(int) lw_rkme_fit(lw_rkme **out, const lw_mat *X, const lw_rkme_options *opts);

/** A new RKME holding copies of z (K x d) and beta; num_points as given. */
LW_EXTERN(int) lw_rkme_new(lw_rkme **out, const lw_mat *z, const double *beta, double gamma,
			   size_t num_points);

LW_EXTERN(void) lw_rkme_free(lw_rkme *rkme);

/** Number of reduced points and their dimension. */
static inline size_t lw_rkme_k(const lw_rkme *r) { return r->z.rows; }
static inline size_t lw_rkme_dim(const lw_rkme *r) { return r->z.cols; }

/**
 * Inner product of two embeddings, sum_ij beta_a_i beta_b_j k(z_a_i, z_b_j),
 * with a's gamma (as the reference does).  Dimensions must match.
 */
LW_EXTERN(int) lw_rkme_inner(double *out, const lw_rkme *a, const lw_rkme *b);

/**
 * Squared MMD between the two embeddings, <a,a> - 2<a,b> + <b,b>, all with
 * a's gamma.  Rounding can make it slightly negative for near-equal inputs.
 */
LW_EXTERN(int) lw_rkme_dist(double *out, const lw_rkme *a, const lw_rkme *b);

/**
 * Squared MMD from a to each of m specifications: out[i] = dist(a, b[i]).
 * The batch runs in parallel and reuses every specification's cached
 * <b, b>, so it is the call to make when ranking many specifications.
 */
LW_EXTERN(int) lw_rkme_dist_many(double *out, const lw_rkme *a, const lw_rkme *const *b,
				 size_t m);

/**
 * Inner product with the empirical embedding of the rows of X:
 * (1/n) sum_x sum_i beta_i k(z_i, x).  O(n K d).
 */
LW_EXTERN(int) lw_rkme_inner_data(double *out, const lw_rkme *r, const lw_mat *X);

/**
 * Squared MMD between the embedding and the empirical embedding of the rows
 * of X (O(n^2 d): meant for evaluation, not for search).
 */
LW_EXTERN(int) lw_rkme_mmd_data(double *out, const lw_rkme *r, const lw_mat *X);

/**
 * Kernel herding: n points whose empirical embedding greedily tracks the
 * RKME's, chosen among 100 n candidates drawn around the reduced points.
 *
 * @param[out] out  uninitialised; receives n x d samples
 */
LW_EXTERN(int) lw_rkme_herd(lw_mat *out, const lw_rkme *r, size_t n, uint64_t seed);

/** Parse a specification from JSON text; `source` names it in messages. */
LW_EXTERN(int) lw_rkme_from_json(lw_rkme **out, const char *text, size_t len, const char *source);

/** Serialise as the reference's compact JSON; free the result with free(). */
LW_EXTERN(int) lw_rkme_to_json(char **out, const lw_rkme *r);

/** Read or write a specification file. */
LW_EXTERN(int) lw_rkme_load(lw_rkme **out, const char *path);
LW_EXTERN(int) lw_rkme_save(const lw_rkme *r, const char *path);

LW_END_DECL

#endif
