/*
 * exp(x) for x <= 0 written so that gcc vectorises it: Cody-Waite range
 * reduction x = n ln2 + r with |r| <= ln2/2, a degree-12 Taylor polynomial
 * for e^r (truncation error below 2e-16), and 2^n built in the exponent
 * bits.  No branches, so `omp simd` loops over it become SIMD code (at -O2
 * too); target_clones
 * picks AVX-512, AVX2 or plain SSE2 at load time.  The project builds as
 * ISO C (no FMA contraction), so every clone returns the same bits.
 */
#include "fastmath.h"

#include <math.h>
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

/* Taylor series of sin and cos on |r| <= pi/4: the next terms are below 1e-16. */
static inline double sin_poly(double r)
{
	double r2 = r * r, p = 1.0 / 1307674368000.0;

	p = p * r2 - 1.0 / 6227020800.0;
	p = p * r2 + 1.0 / 39916800.0;
	p = p * r2 - 1.0 / 362880.0;
	p = p * r2 + 1.0 / 5040.0;
	p = p * r2 - 1.0 / 120.0;
	p = p * r2 + 1.0 / 6.0;
	return r - r * r2 * p;
}

static inline double cos_poly(double r)
{
	double r2 = r * r, p = 1.0 / 20922789888000.0;

	p = p * r2 - 1.0 / 87178291200.0;
	p = p * r2 + 1.0 / 479001600.0;
	p = p * r2 - 1.0 / 3628800.0;
	p = p * r2 + 1.0 / 40320.0;
	p = p * r2 - 1.0 / 720.0;
	p = p * r2 + 1.0 / 24.0;
	p = p * r2 - 0.5;
	return 1.0 + r2 * p;
}

/*
 * x = q pi/2 + r with pi/2 split in three parts (fdlibm's), so q pi/2 is
 * subtracted exactly for |q| < 2^20; then pick and sign by the quadrant.
 */
LW_CLONES void lw__sincos(double *s, double *c, const double *x, size_t n)
{
	const double two_over_pi = 6.36619772367581382433e-01;
	const double pio2_1 = 1.57079632673412561417e+00;
	const double pio2_2 = 6.07710050630396597660e-11;
	const double pio2_3 = 2.02226624879595063154e-21;
	const double shift = 0x1.8p52;

	/* Huge and NaN arguments are redone below; clamp them harmless first
	 * (in s, as scratch: a separate pass keeps both loops vectorisable). */
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		double xc = x[i] < 1e8 ? x[i] : 1e8;

		s[i] = xc > -1e8 ? xc : -1e8;
	}
#pragma omp simd
	for (size_t i = 0; i < n; i++) {
		double xc = s[i];
		double t = xc * two_over_pi + shift, q = t - shift;
		double r = ((xc - q * pio2_1) - q * pio2_2) - q * pio2_3;
		double sp = sin_poly(r), cp = cos_poly(r);
		/* int32 keeps the quadrant arithmetic vectorisable on plain SSE2. */
		int32_t qi = (int32_t)q;
		double swap = (double)(qi & 1);
		double sgn_s = (double)(1 - (qi & 2));
		double sgn_c = (double)(1 - ((qi + 1) & 2));
		s[i] = sgn_s * (swap * cp + (1.0 - swap) * sp);
		c[i] = sgn_c * (swap * sp + (1.0 - swap) * cp);
	}
	for (size_t i = 0; i < n; i++)
		if (!(fabs(x[i]) <= 1e8)) { /* also NaN; keeps the int32 quadrant in range */
			s[i] = sin(x[i]);
			c[i] = cos(x[i]);
		}
}
