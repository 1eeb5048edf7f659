/*
 * exp(x) for x <= 0 written so that gcc vectorises it: Cody-Waite range
 * reduction x = n ln2 + r with |r| <= ln2/2, a degree-12 Taylor polynomial
 * for e^r (truncation error below 2e-16), and 2^n built in the exponent
 * bits.  No branches, so `omp simd` loops over it become SIMD code (at -O2
 * too); target_clones
 * picks AVX-512, AVX2 or plain SSE2 at load time.  The project builds as
 * ISO C (no FMA contraction), so every clone returns the same bits.
 */
#include "fastexp.h"

#include <stdint.h>
#include <string.h>

/* clang warns when it declines to vectorise a clone; the result is still exact. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpass-failed"
#endif

/* clang 14 emits target_clones without their ifunc on ELF: plain code there. */
#if defined(__GNUC__) && !defined(__clang__)
#define LW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LW_CLONES
#endif

static inline double exp_nonpos(double x)
{
	const double log2e = 1.4426950408889634;
	const double ln2_hi = 6.93147180369123816490e-01;
	const double ln2_lo = 1.90821492927058770002e-10;
	const double shift = 0x1.8p52; /* adding it rounds to an integer */
	double xc = x < -708.0 ? -708.0 : x;
	double t = xc * log2e + shift;
	double n = t - shift;
	double r = xc - n * ln2_hi - n * ln2_lo;
	double p = 1.0 / 479001600.0;
	uint64_t bits;
	double scale;

	p = p * r + 1.0 / 39916800.0;
	p = p * r + 1.0 / 3628800.0;
	p = p * r + 1.0 / 362880.0;
	p = p * r + 1.0 / 40320.0;
	p = p * r + 1.0 / 5040.0;
	p = p * r + 1.0 / 720.0;
	p = p * r + 1.0 / 120.0;
	p = p * r + 1.0 / 24.0;
	p = p * r + 1.0 / 6.0;
	p = p * r + 0.5;
	p = p * r + 1.0;
	p = p * r + 1.0;
	/* The low bits of t hold n as an integer: move it into the exponent. */
	memcpy(&bits, &t, sizeof(bits));
	bits = (bits + 1023) << 52;
	memcpy(&scale, &bits, sizeof(scale));
	return x < -708.0 ? 0.0 : p * scale;
}

LW_CLONES void lw__rbf_row(double *row, double xn, const double *yn, size_t n, double gamma)
{
#pragma omp simd
	for (size_t j = 0; j < n; j++) {
		double dist = row[j] + xn + yn[j];

		row[j] = exp_nonpos(-gamma * (dist > 0 ? dist : 0));
	}
}

LW_CLONES void lw__exp_nonpos(double *out, const double *x, size_t n)
{
#pragma omp simd
	for (size_t i = 0; i < n; i++)
		out[i] = exp_nonpos(x[i]);
}
