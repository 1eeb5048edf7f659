/*
 * Coarse lists of the sketch index (an inverted file): spherical k-means on
 * a sample of a partition's sketches, then every entry moves to the list
 * whose centroid direction is nearest (largest inner product).
 *
 * Why spherical: sketches of unrelated distributions are nearly orthogonal,
 * so a plain k-means centroid that averages several of them sits near the
 * origin, closer to every unmatched sketch than any real one is, and one
 * list swallowed a fifth of the dock.  With unit centroids, a sketch joins
 * the direction it shares most with, and the lists stay balanced (largest
 * about 1.7 times the mean at 1e5).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "index.h"
#include "lw/rng.h"
#include "util.h"

/* Sample points per centroid (enough for stable centroids, cheap to train). */
#define SAMPLE_PER_LIST 40
#define KMEANS_ITERS 12
/* Floats of centroid products per assignment block: bounds scratch memory. */
#define BLOCK_FLOATS ((size_t)1 << 20)

uint32_t lw__index_nearest_list(const lw__index_part *p, const float *u, size_t D)
{
	uint32_t best = 0;
	float bd = INFINITY;

	for (size_t c = 0; c < p->nlist; c++) {
		float d = p->cnorm2[c] - 2 * lw__index_dot(u, p->centroids + c * D, D);

		if (d < bd) {
			bd = d;
			best = (uint32_t)c;
		}
	}
	return best;
}

static size_t block_rows(size_t nlist)
{
	size_t b = BLOCK_FLOATS / (nlist ? nlist : 1);

	return b < 16 ? 16 : b > 1024 ? 1024 : b;
}

/* out[i] = argmin_c |C_c|^2 - 2 X_i . C_c for the B rows of X; dots holds B x nlist. */
static void assign_rows(uint32_t *out, const float *X, size_t B, const float *C, const float *cn,
			size_t nlist, size_t D, float *dots)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)nlist, (int)D, 1.0f, X, (int)D, C,
		    (int)D, 0.0f, dots, (int)nlist);
	for (size_t i = 0; i < B; i++) {
		const float *row = dots + i * nlist;
		uint32_t best = 0;
		float bd = INFINITY;

		for (size_t c = 0; c < nlist; c++) {
			float d = cn[c] - 2 * row[c];

			if (d < bd) {
				bd = d;
				best = (uint32_t)c;
			}
		}
		out[i] = best;
	}
}

static void dequantise(float *x, const lw__index_list *l, uint32_t i, size_t D)
{
	const int8_t *c = l->codes + (size_t)i * D;
	float s = l->scale[i];

	for (size_t j = 0; j < D; j++)
		x[j] = s * (float)c[j];
}

static void centroid_norms(float *cn, const float *C, size_t nlist, size_t D)
{
	for (size_t c = 0; c < nlist; c++)
		cn[c] = lw__index_dot(C + c * D, C + c * D, D);
}

/* Scale a vector to unit length (a zero vector stays zero). */
static void normalise(float *x, size_t D)
{
	double n2 = 0;

	for (size_t j = 0; j < D; j++)
		n2 += (double)x[j] * x[j];
	if (n2 > 0) {
		float inv = (float)(1.0 / sqrt(n2));

		for (size_t j = 0; j < D; j++)
			x[j] *= inv;
	}
}

/* Assign the S rows of X to the centroids; returns how many changed. */
static size_t assign_all(uint32_t *assign, const float *X, size_t S, const float *C, const float *cn,
			 size_t nlist, size_t D, int *err)
{
	size_t B = block_rows(nlist), nblocks = (S + B - 1) / B, changed = 0;

#pragma omp parallel reduction(+ : changed)
	{
		float *dots = lw__mallocarray(B * nlist, sizeof(float));
		uint32_t *tmp = lw__mallocarray(B, sizeof(uint32_t));

#pragma omp for schedule(dynamic, 1)
		for (size_t b = 0; b < nblocks; b++) {
			size_t lo = b * B, len = S - lo < B ? S - lo : B;

			if (!dots || !tmp)
				continue;
			assign_rows(tmp, X + lo * D, len, C, cn, nlist, D, dots);
			for (size_t i = 0; i < len; i++) {
				changed += tmp[i] != assign[lo + i];
				assign[lo + i] = tmp[i];
			}
		}
		if (!dots || !tmp) {
#pragma omp atomic write
			*err = LW_ENOMEM;
		}
		free(dots);
		free(tmp);
	}
	if (*err < 0)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory training the index's lists");
	return changed;
}

/*
 * Spherical k-means (Lloyd's iterations on unit vectors, unit centroids)
 * from nlist random sample points.  Assignment runs in
 * parallel, the centroid update serially in double, so the result does not
 * depend on the number of threads.  An empty cluster restarts at a random
 * point of a cluster that has more than one.
 */
static int kmeans(float *C, float *cn, const lw_index *ix, const lw__index_part *p, size_t nlist)
{
	size_t D = ix->o.features, n = p->count, S = n < SAMPLE_PER_LIST * nlist ? n : SAMPLE_PER_LIST * nlist;
	size_t *pick = lw__mallocarray(S, sizeof(size_t)), *first = lw__mallocarray(p->nlist + 1, sizeof(size_t));
	float *X = lw__mallocarray(S, D * sizeof(float));
	uint32_t *assign = lw__mallocarray(S, sizeof(uint32_t));
	size_t *counts = lw__mallocarray(nlist, sizeof(size_t));
	double *sums = lw__mallocarray(nlist, D * sizeof(double));
	lw_rng rng;
	int err = LW_ENOMEM;

	if (!pick || !first || !X || !assign || !counts || !sums)
		goto done;
	lw_rng_seed(&rng, lw__index_mix64(ix->o.seed ^ lw__index_mix64(p->dim) ^ lw__index_mix64(n)));
	if ((err = lw_rng_sample(&rng, pick, S, n)) < 0)
		goto done;
	/* Global positions run through the lists in order. */
	first[0] = 0;
	for (size_t l = 0; l < p->nlist; l++)
		first[l + 1] = first[l] + p->lists[l].count;
	for (size_t i = 0; i < S; i++) {
		size_t lo = 0, hi = p->nlist; /* the list l with first[l] <= pick < first[l + 1] */

		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (first[mid] <= pick[i])
				lo = mid;
			else
				hi = mid;
		}
		dequantise(X + i * D, &p->lists[lo], (uint32_t)(pick[i] - first[lo]), D);
		normalise(X + i * D, D);
		assign[i] = UINT32_MAX;
	}
	memcpy(C, X, nlist * D * sizeof(float));
	err = 0;
	for (int it = 0; it < KMEANS_ITERS; it++) {
		centroid_norms(cn, C, nlist, D);
		if (assign_all(assign, X, S, C, cn, nlist, D, &err) == 0 || err < 0)
			break;
		memset(counts, 0, nlist * sizeof(size_t));
		memset(sums, 0, nlist * D * sizeof(double));
		for (size_t i = 0; i < S; i++) {
			double *s = sums + (size_t)assign[i] * D;
			const float *x = X + i * D;

			counts[assign[i]]++;
			for (size_t j = 0; j < D; j++)
				s[j] += x[j];
		}
		for (size_t c = 0; c < nlist; c++) {
			if (counts[c] == 0) {
				size_t i = (size_t)lw_rng_below(&rng, S);

				while (counts[assign[i]] < 2)
					i = (i + 1) % S;
				counts[assign[i]]--;
				assign[i] = (uint32_t)c;
				counts[c] = 1;
				memcpy(C + c * D, X + i * D, D * sizeof(float));
				continue;
			}
			for (size_t j = 0; j < D; j++)
				C[c * D + j] = (float)(sums[c * D + j] / (double)counts[c]);
			normalise(C + c * D, D);
		}
	}
	centroid_norms(cn, C, nlist, D);
done:
	free(pick);
	free(first);
	free(X);
	free(assign);
	free(counts);
	free(sums);
	return err;
}

typedef struct {
	uint32_t list, start, len;
} span;

/* The new list of every entry, in list-then-slot order; where[] has p->count entries. */
static int reassign(uint32_t *where, const lw__index_part *p, const float *C, const float *cn,
		    size_t nlist, size_t D)
{
	size_t B = block_rows(nlist), nspans = 0, at = 0;
	span *spans;
	size_t *base;
	int err = 0;

	for (size_t l = 0; l < p->nlist; l++)
		nspans += (p->lists[l].count + B - 1) / B;
	spans = lw__mallocarray(nspans ? nspans : 1, sizeof(span));
	base = lw__mallocarray(nspans ? nspans : 1, sizeof(size_t));
	if (!spans || !base) {
		free(spans);
		free(base);
		return LW_ENOMEM;
	}
	nspans = 0;
	for (size_t l = 0; l < p->nlist; l++)
		for (uint32_t s = 0; s < p->lists[l].count; s += (uint32_t)B) {
			uint32_t len = p->lists[l].count - s < B ? p->lists[l].count - s : (uint32_t)B;

			base[nspans] = at;
			spans[nspans++] = (span){ (uint32_t)l, s, len };
			at += len;
		}
#pragma omp parallel
	{
		float *X = lw__mallocarray(B, D * sizeof(float)), *dots = lw__mallocarray(B, nlist * sizeof(float));

#pragma omp for schedule(dynamic, 1)
		for (size_t s = 0; s < nspans; s++) {
			const lw__index_list *l = &p->lists[spans[s].list];

			if (!X || !dots)
				continue;
			for (uint32_t i = 0; i < spans[s].len; i++)
				dequantise(X + (size_t)i * D, l, spans[s].start + i, D);
			assign_rows(where + base[s], X, spans[s].len, C, cn, nlist, D, dots);
		}
		if (!X || !dots) {
#pragma omp atomic write
			err = LW_ENOMEM;
		}
		free(X);
		free(dots);
	}
	free(spans);
	free(base);
	if (err < 0)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory assigning the index's lists");
	return err;
}

int lw__index_relist(lw_index *ix, lw__index_part *p, size_t nlist)
{
	size_t D = ix->o.features, n = p->count, at = 0;
	float *C = NULL, *cn = NULL;
	uint32_t *where = NULL;
	size_t *counts = NULL;
	lw__index_list *fresh = NULL;
	uint32_t part = (uint32_t)(p - ix->parts);
	int err = LW_ENOMEM;

	if (nlist > n)
		nlist = n;
	if (nlist < 1)
		nlist = 1;
	if (!(where = lw__calloc(n ? n : 1, sizeof(uint32_t))) ||
	    !(counts = lw__calloc(nlist, sizeof(size_t))) || !(fresh = lw__calloc(nlist, sizeof(*fresh))))
		goto done;
	if (nlist > 1) {
		if (!(C = lw__mallocarray(nlist, D * sizeof(float))) || !(cn = lw__mallocarray(nlist, sizeof(float))))
			goto done;
		if ((err = kmeans(C, cn, ix, p, nlist)) < 0 || (err = reassign(where, p, C, cn, nlist, D)) < 0)
			goto done;
	}
	for (size_t i = 0; i < n; i++)
		counts[where[i]]++;
	for (size_t c = 0; c < nlist; c++)
		if ((err = lw__index_list_reserve(&fresh[c], D, counts[c])) < 0)
			goto done;
	/* Nothing below allocates: move every entry and point the map at it. */
	for (size_t l = 0; l < p->nlist; l++) {
		lw__index_list *old = &p->lists[l];

		for (uint32_t i = 0; i < old->count; i++) {
			uint32_t to = where[at++];
			lw__index_list *f = &fresh[to];

			lw__index_list_push(f, D, old->ids[i], old->codes + (size_t)i * D, old->scale[i],
					    old->norm2[i]);
			ix->map[lw__index_map_find(ix, old->ids[i])] =
				(lw__index_bucket){ old->ids[i], part, to, f->count - 1 };
		}
		lw__index_list_dispose(old);
	}
	free(p->lists);
	free(p->centroids);
	free(p->cnorm2);
	p->lists = fresh;
	p->nlist = nlist;
	p->centroids = C;
	p->cnorm2 = cn;
	p->trained_at = nlist > 1 ? n : 0;
	fresh = NULL;
	C = cn = NULL;
	err = 0;
done:
	if (fresh)
		for (size_t c = 0; c < nlist; c++)
			lw__index_list_dispose(&fresh[c]);
	free(fresh);
	free(C);
	free(cn);
	free(where);
	free(counts);
	return err;
}
