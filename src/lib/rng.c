/*
 * xoshiro256** (Blackman and Vigna) with splitmix64 seeding.
 */
#include "lw/rng.h"

#include <math.h>

#include "util.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void lw_rng_seed(lw_rng *rng, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
	rng->has_spare = 0;
	rng->spare = 0;
}

uint64_t lw_rng_u64(lw_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double lw_rng_uniform(lw_rng *rng)
{
	return (double)(lw_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t lw_rng_below(lw_rng *rng, uint64_t n)
{
	/* Lemire's multiply-shift with rejection of the biased low zone. */
	__uint128_t m = (__uint128_t)lw_rng_u64(rng) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		uint64_t threshold = -n % n;

		while (low < threshold) {
			m = (__uint128_t)lw_rng_u64(rng) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double lw_rng_normal(lw_rng *rng)
{
	double u, v, s;

	if (rng->has_spare) {
		rng->has_spare = 0;
		return rng->spare;
	}
	/* Marsaglia's polar method: no trigonometry, exact in distribution. */
	do {
		u = 2.0 * lw_rng_uniform(rng) - 1.0;
		v = 2.0 * lw_rng_uniform(rng) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	s = sqrt(-2.0 * log(s) / s);
	rng->spare = v * s;
	rng->has_spare = 1;
	return u * s;
}

size_t lw_rng_categorical(lw_rng *rng, const double *w, size_t n)
{
	double total = 0, r, acc = 0;

	for (size_t i = 0; i < n; i++)
		if (w[i] > 0)
			total += w[i];
	if (!(total > 0))
		return (size_t)lw_rng_below(rng, n);
	r = lw_rng_uniform(rng) * total;
	for (size_t i = 0; i < n; i++) {
		if (w[i] <= 0)
			continue;
		acc += w[i];
		if (r < acc)
			return i;
	}
	/* Rounding left r at the very top: return the last positive weight. */
	for (size_t i = n; i-- > 0;)
		if (w[i] > 0)
			return i;
	return 0;
}

/* Partial Fisher-Yates over a full index array: O(n) memory, O(n + k) time. */
static int sample_large(lw_rng *rng, size_t *out, size_t k, size_t n)
{
	size_t *perm = lw__mallocarray(n, sizeof(size_t));

	if (!perm)
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = 0; i < k; i++) {
		size_t j = i + (size_t)lw_rng_below(rng, n - i);
		size_t tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
		out[i] = perm[i];
	}
	free(perm);
	return 0;
}

int lw_rng_sample(lw_rng *rng, size_t *out, size_t k, size_t n)
{
	LW_ASSERT_ARG(k <= n);
	if (k > 1024)
		return sample_large(rng, out, k, n);
	/*
	 * Floyd's algorithm gives a set; a final shuffle gives random order.
	 * Membership is checked against the picks so far: O(k^2), so only for
	 * small k (larger samples take the O(n) path above).
	 */
	for (size_t j = n - k; j < n; j++) {
		size_t t = (size_t)lw_rng_below(rng, j + 1);
		size_t have = j - (n - k);
		int seen = 0;

		for (size_t i = 0; i < have; i++)
			if (out[i] == t) {
				seen = 1;
				break;
			}
		out[have] = seen ? j : t;
	}
	for (size_t i = k; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i);
		size_t tmp = out[i - 1];

		out[i - 1] = out[j];
		out[j] = tmp;
	}
	return 0;
}
