/*
 * learnware dock - a sketch index that keeps statistical search fast at a
 * million learnwares.
 *
 * Each RKME is reduced to a fixed-length vector, its kernel mean embedding
 * under D random Fourier features of the RBF kernel (Rahimi and Recht,
 * 2007): mu = sqrt(2/D) sum_i beta_i [cos(W z_i), sin(W z_i)], with D/2
 * frequencies drawn as orthogonal random features (Yu et al., 2016) of
 * N(0, 2 gamma I).  Then |mu_a - mu_b|^2 estimates MMD^2(a, b), so ranking
 * by MMD becomes a vector search.  Sketches are stored as int8 codes with
 * one scale each (D + 16 bytes per learnware).
 *
 * A partition (one per dimension and gamma, each with its own deterministic
 * feature map) is scanned whole while it is small.  From `flat_max` entries
 * on, its sketches are clustered by spherical k-means into about sqrt(n)
 * coarse lists and a query scans only the `probes` lists nearest to it (an
 * inverted file, IVF).  The lists are retrained whenever the partition has
 * doubled since the last training, or on lw_index_train.
 *
 * The index proposes candidates; the caller re-ranks the best C of them by
 * the exact MMD (lw_stat_search over the fetched specifications).  docs/index.md
 * gives the measured recall for choices of C and probes, and the file format.
 *
 * Thread safety: queries on one index may run concurrently; any update
 * (add, remove, train, set_probes) needs exclusive access.
 */
#ifndef LW_INDEX_H
#define LW_INDEX_H

#include "common.h"
#include "rkme.h"

LW_BEGIN_DECL

typedef struct lw_index lw_index;

typedef struct {
	unsigned int version;
	size_t features; /**< sketch length D, even (512) */
	uint64_t seed;   /**< seed of the feature maps (fixed: docks agree) */
	/* version 2 */
	size_t probes;   /**< coarse lists scanned per query (32) */
	size_t flat_max; /**< a partition with fewer entries is scanned whole (16384) */
	size_t lists;    /**< coarse lists when trained; 0 means about sqrt(entries) (0) */
} lw_index_options;

#define LW_INDEX_OPTIONS_VERSION 2
#define LW_INDEX_OPTIONS_INIT { LW_INDEX_OPTIONS_VERSION, 512, 0x1ea4a7e5ULL, 32, 16384, 0 }

/** Fill opts with the defaults (LW_INDEX_OPTIONS_INIT). */
LW_EXTERN(void) lw_index_options_init(lw_index_options *opts);

/**
 * A new, empty index.  opts may be NULL (the defaults) or a version 1 or 2
 * struct; fields a version 1 struct lacks take their defaults.
 *
 * @return 0, LW_EINVALID (bad options), LW_ENOMEM
 */
LW_EXTERN(int) lw_index_new(lw_index **out, const lw_index_options *opts);
LW_EXTERN(void) lw_index_free(lw_index *ix);

/**
 * Add or replace the sketch of a specification under id.  When the add
 * makes its partition reach flat_max entries, or double since the lists
 * were last trained, the lists are retrained first (seconds at a million).
 *
 * @return 0, LW_EINVALID (no points, bad gamma, non-finite values), LW_ENOMEM
 */
LW_EXTERN(int) lw_index_add(lw_index *ix, uint64_t id, const lw_rkme *r);

/**
 * lw_index_add for n specifications, in order (a later duplicate id
 * replaces an earlier one), sketching them in parallel.  Lists are
 * retrained at most once, after the batch.  On error some of the batch may
 * be indexed.  Scratch memory is about n * (D + 16) bytes.
 */
LW_EXTERN(int) lw_index_add_many(lw_index *ix, const uint64_t *ids, const lw_rkme *const *r,
				 size_t n);

/** Forget id; LW_ENOTFOUND when it is not indexed. */
LW_EXTERN(int) lw_index_remove(lw_index *ix, uint64_t id);

/** Number of indexed specifications, over all partitions. */
LW_EXTERN(size_t) lw_index_size(const lw_index *ix);

/** Bytes the index holds in memory (sketches, lists, id map, feature maps). */
LW_EXTERN(size_t) lw_index_bytes(const lw_index *ix);

/**
 * Retrain the coarse lists of every partition of flat_max entries or more
 * at its current size (and flatten those that shrank below flat_max / 2).
 * Not needed for correctness: lists are retrained as partitions grow.
 */
LW_EXTERN(int) lw_index_train(lw_index *ix);

/** Lists scanned per query from now on (at least 1); kept by lw_index_save. */
LW_EXTERN(int) lw_index_set_probes(lw_index *ix, size_t probes);

/**
 * The k indexed specifications nearest to the user's by estimated MMD^2,
 * among those of the same dimension and gamma, best first.  When the
 * probed lists hold fewer than k entries, further lists are scanned, so
 * *count is min(k, entries in the partition).
 *
 * @param[out] ids      k entries, of which *count are filled
 * @param[out] approx   estimated MMD^2 per result, or NULL
 * @return 0 (also when no partition matches: *count is 0), LW_EINVALID for
 *         a user specification that cannot be sketched, LW_ENOMEM
 */
LW_EXTERN(int) lw_index_query(uint64_t *ids, double *approx, size_t *count, const lw_index *ix,
			      const lw_rkme *user, size_t k);

/**
 * Persist to a file (written beside it and renamed) and read it back.  The
 * load refuses a file that is truncated, damaged (checksum), from another
 * format version or another byte order with LW_EINVALID and a message
 * naming the file; the caller then rebuilds the index from its store.  A
 * missing file gives LW_ENOTFOUND, a failed write LW_EIO.
 */
LW_EXTERN(int) lw_index_save(const lw_index *ix, const char *path);
LW_EXTERN(int) lw_index_load(lw_index **out, const char *path);

LW_END_DECL

#endif
