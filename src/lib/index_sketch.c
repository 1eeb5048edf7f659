/*
 * Random Fourier feature sketches of RKMEs and their int8 codes.
 */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "index.h"
#include "lw/rng.h"
#include "util.h"

/*
 * Orthogonal random features (Yu et al., "Orthogonal Random Features",
 * 2016): within a block the directions are orthonormal instead of
 * independent, and each row keeps the length distribution of a Gaussian
 * vector, so every row is still N(0, 2 gamma I) but the kernel estimate
 * has lower variance.  For d = 20, D = 256 the relative error of the
 * MMD^2 estimate of near neighbours drops from about 10% to 6%.
 */
int lw__index_feature_map(double *WT, size_t m, size_t dim, double gamma, uint64_t seed)
{
	size_t bmax = m < dim ? m : dim;
	double *G = lw__mallocarray(bmax, dim * sizeof(double)), sd = sqrt(2.0 * gamma);
	lw_rng rng;

	if (!G)
		return LW_ENOMEM;
	lw_rng_seed(&rng, seed);
	for (size_t b = 0; b < m; b += bmax) {
		size_t nb = m - b < bmax ? m - b : bmax;

		for (size_t i = 0; i < nb; i++) {
			double *g = G + i * dim, norm;

			/* Modified Gram-Schmidt; a (vanishingly unlikely) dependent draw is redrawn. */
			do {
				for (size_t t = 0; t < dim; t++)
					g[t] = lw_rng_normal(&rng);
				for (size_t q = 0; q < i; q++) {
					const double *h = G + q * dim;
					double dot = 0;

					for (size_t t = 0; t < dim; t++)
						dot += g[t] * h[t];
					for (size_t t = 0; t < dim; t++)
						g[t] -= dot * h[t];
				}
				norm = 0;
				for (size_t t = 0; t < dim; t++)
					norm += g[t] * g[t];
				norm = sqrt(norm);
			} while (!(norm > 1e-6));
			for (size_t t = 0; t < dim; t++)
				g[t] /= norm;
		}
		for (size_t i = 0; i < nb; i++) {
			double len = 0;

			for (size_t t = 0; t < dim; t++) {
				double x = lw_rng_normal(&rng);

				len += x * x;
			}
			len = sd * sqrt(len);
			for (size_t t = 0; t < dim; t++)
				WT[t * m + b + i] = len * G[i * dim + t];
		}
	}
	free(G);
	return 0;
}

size_t lw__index_sketch_scratch(size_t D)
{
	return 3 * (D / 2);
}

/*
 * out = sqrt(2/D) [sum_i beta_i cos(W z_i), sum_i beta_i sin(W z_i)]: the
 * paired form, whose kernel estimate has lower variance than cosines with
 * random phases (Sutherland and Schneider, 2015).  First D/2 entries are
 * the cosines, then the sines.  Plain loops rather than BLAS: a single
 * sketch is too small to gain from BLAS threads, and waiting for them on a
 * busy machine cost milliseconds per query.  Element-wise operations only,
 * so every build and clone gives the same bits.
 */
LW__INDEX_VECTOR
int lw__index_sketch(double *out, const double *WT, size_t D, const lw_rkme *r, double *scratch)
{
	size_t k = lw_rkme_k(r), m = D / 2, dim = lw_rkme_dim(r);
	double *row = scratch, *sn = row + m, *cs = sn + m, scale = sqrt(1.0 / (double)m);

	memset(out, 0, D * sizeof(double));
	for (size_t i = 0; i < k; i++) {
		const double *z = lw_mat_row(&r->z, i);
		double b = r->beta[i] * scale, *oc = out, *os = out + m;

		memset(row, 0, m * sizeof(double));
		for (size_t t = 0; t < dim; t++) {
			const double *w = WT + t * m;
			double a = z[t];

#pragma omp simd
			for (size_t j = 0; j < m; j++)
				row[j] += a * w[j];
		}
		lw__sincos(sn, cs, row, m);
#pragma omp simd
		for (size_t j = 0; j < m; j++) {
			oc[j] += b * cs[j];
			os[j] += b * sn[j];
		}
	}
	for (size_t j = 0; j < D; j++)
		if (!isfinite(out[j])) {
			lw_error_set(LW_ERRCLASS_INVALID,
				     "the specification's points or weights are not finite: it cannot be indexed");
			return LW_EINVALID;
		}
	return 0;
}

float lw__index_code_norm2(const int8_t *code, float scale, size_t D)
{
	int64_t s = 0;

	for (size_t j = 0; j < D; j++)
		s += (int32_t)code[j] * code[j];
	return (float)((double)s * scale * scale);
}

void lw__index_quantise(int8_t *code, float *scale, float *norm2, const double *s, size_t D)
{
	double mx = 0, inv;

	for (size_t j = 0; j < D; j++)
		mx = fabs(s[j]) > mx ? fabs(s[j]) : mx;
	if (mx == 0) {
		memset(code, 0, D);
		*scale = 0;
		*norm2 = 0;
		return;
	}
	inv = 127.0 / mx;
	for (size_t j = 0; j < D; j++) {
		long q = lrint(s[j] * inv);

		code[j] = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
	}
	*scale = (float)(mx / 127.0);
	*norm2 = lw__index_code_norm2(code, *scale, D);
}

LW__INDEX_VECTOR
float lw__index_code_dot(const float *u, const int8_t *code, size_t D)
{
	float s = 0;

#pragma omp simd reduction(+ : s)
	for (size_t j = 0; j < D; j++)
		s += u[j] * (float)code[j];
	return s;
}

LW__INDEX_VECTOR
float lw__index_dot(const float *a, const float *b, size_t D)
{
	float s = 0;

#pragma omp simd reduction(+ : s)
	for (size_t j = 0; j < D; j++)
		s += a[j] * b[j];
	return s;
}
