/*
 * learnware dock - a sketch index that keeps statistical search fast at a
 * million learnwares.
 *
 * Each RKME is reduced to a fixed-length vector, its kernel mean embedding
 * under D random Fourier features of the RBF kernel (Rahimi and Recht,
 * 2007): mu = sqrt(2/D) sum_i beta_i [cos(W z_i), sin(W z_i)], with D/2
 * frequencies W ~ N(0, 2 gamma I).
 * Then |mu_a - mu_b|^2 estimates MMD^2(a, b), so ranking by MMD becomes a
 * vector search: one matrix-vector product over the stored sketches.  The
 * best candidates are then re-ranked by the exact MMD (lw_stat_search).
 * Specifications of different dimension or gamma live in separate
 * partitions, each with its own deterministic feature map.
 */
#ifndef LW_INDEX_H
#define LW_INDEX_H

#include "common.h"
#include "rkme.h"

LW_BEGIN_DECL

typedef struct lw_index lw_index;

typedef struct {
	unsigned int version;
	size_t features; /**< sketch length D, even (256) */
	uint64_t seed;   /**< seed of the feature maps (fixed: docks agree) */
} lw_index_options;

#define LW_INDEX_OPTIONS_VERSION 1
#define LW_INDEX_OPTIONS_INIT { LW_INDEX_OPTIONS_VERSION, 256, 0x1ea4a7e5ULL }

LW_EXTERN(int) lw_index_new(lw_index **out, const lw_index_options *opts);
LW_EXTERN(void) lw_index_free(lw_index *ix);

/** Add or replace the sketch of a specification under id. */
LW_EXTERN(int) lw_index_add(lw_index *ix, uint64_t id, const lw_rkme *r);

/** Forget id; LW_ENOTFOUND when it is not indexed. */
LW_EXTERN(int) lw_index_remove(lw_index *ix, uint64_t id);

/** Number of indexed specifications, over all partitions. */
LW_EXTERN(size_t) lw_index_size(const lw_index *ix);

/**
 * The k indexed specifications nearest to the user's by estimated MMD^2,
 * among those of the same dimension and gamma, best first.
 *
 * @param[out] ids      k entries, of which *count are filled
 * @param[out] approx   estimated MMD^2 per result, or NULL
 */
LW_EXTERN(int) lw_index_query(uint64_t *ids, double *approx, size_t *count, const lw_index *ix,
			      const lw_rkme *user, size_t k);

/** Persist to a file (written beside it and renamed) and read it back. */
LW_EXTERN(int) lw_index_save(const lw_index *ix, const char *path);
LW_EXTERN(int) lw_index_load(lw_index **out, const char *path);

LW_END_DECL

#endif
