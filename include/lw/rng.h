/*
 * learnware dock - seeded, reproducible random numbers.
 *
 * xoshiro256** seeded through splitmix64: the same seed gives the same
 * stream on every platform and build, which is what makes specifications
 * reproducible.  Not for secrets (use libsodium for those).
 */
#ifndef LW_RNG_H
#define LW_RNG_H

#include "common.h"

LW_BEGIN_DECL

typedef struct {
	uint64_t s[4];
	double spare;   /**< second normal from the last Box-Muller pair */
	int has_spare;
} lw_rng;

/** Start the stream for a seed. */
LW_EXTERN(void) lw_rng_seed(lw_rng *rng, uint64_t seed);

/** Next 64 random bits. */
LW_EXTERN(uint64_t) lw_rng_u64(lw_rng *rng);

/** Uniform double in [0, 1) with 53 random bits. */
LW_EXTERN(double) lw_rng_uniform(lw_rng *rng);

/** Uniform integer in [0, n), without modulo bias; n must be > 0. */
LW_EXTERN(uint64_t) lw_rng_below(lw_rng *rng, uint64_t n);

/** Standard normal N(0, 1). */
LW_EXTERN(double) lw_rng_normal(lw_rng *rng);

/**
 * Index drawn with probability w[i] / sum(w); w must be non-negative with
 * a positive sum (otherwise the draw is uniform).
 */
LW_EXTERN(size_t) lw_rng_categorical(lw_rng *rng, const double *w, size_t n);

/**
 * k distinct indices from [0, n) in random order (k <= n), written to out.
 * Uses O(k) memory, so it suits a small sample of a large range.
 */
LW_EXTERN(int) lw_rng_sample(lw_rng *rng, size_t *out, size_t k, size_t n);

LW_END_DECL

#endif
