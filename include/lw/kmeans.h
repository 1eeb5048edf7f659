/*
 * learnware dock - seeded k-means.
 *
 * Initialisation is k-means++ (Arthur and Vassilvitskii, 2007): each new
 * centre is a data row drawn with probability proportional to its squared
 * distance to the nearest centre so far.  It spreads the centres over the
 * data, which matters here: the reduced set of an RKME starts from these
 * centres, and random initialisation (the reference's) leaves clusters
 * empty, placing reduced points at the origin where no data is.  Lloyd
 * iterations follow; a cluster that empties is re-seeded at the row
 * farthest from its centre, so every centre always sits on data.
 */
#ifndef LW_KMEANS_H
#define LW_KMEANS_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

typedef struct {
	unsigned int version;
	size_t max_iter;  /**< Lloyd iterations at most (default 100) */
	double tol;       /**< stop when no centre moves more than tol * data scale (1e-4) */
	uint64_t seed;    /**< seed of the k-means++ draws (0) */
	const lw_mat *init; /**< start from these k centres instead of k-means++ (NULL) */
} lw_kmeans_options;

#define LW_KMEANS_OPTIONS_VERSION 1
#define LW_KMEANS_OPTIONS_INIT { LW_KMEANS_OPTIONS_VERSION, 100, 1e-4, 0, NULL }

LW_EXTERN(void) lw_kmeans_options_init(lw_kmeans_options *opts);

/**
 * Cluster the rows of X into k groups.
 *
 * @param[out] centres  uninitialised; receives k x X->cols centres
 * @param[out] assign   X->rows cluster indices, or NULL
 * With max_iter 0 the centres are the k-means++ seeds themselves: k
 * distinct data rows (when the data has k distinct rows).
 *
 * @return 0, or LW_EINVALID when k is 0 or exceeds the number of rows, or
 *         when opts->init is not k x X->cols
 */
LW_EXTERN(int) lw_kmeans(lw_mat *centres, size_t *assign, const lw_mat *X, size_t k,
			 const lw_kmeans_options *opts);

LW_END_DECL

#endif
