/*
 * bench/index: statistical search at scale through the sketch index.
 *
 * N synthetic specifications (d = 20, K = 10 points each, drawn around
 * centres that share 200 cluster prototypes so that every query has true
 * near neighbours).  For a set of queries it times
 *   - exact search: lw_rkme_dist_many over all N (the baseline, same process),
 *   - index search: lw_index_query for C candidates + exact MMD of those C,
 * and reports the speed-up and the recall of the exact top 10.
 *
 * Usage: bench_index [N]   (default 100000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw.h"

#define DIM 20
#define KPTS 10
#define PROTOS 200
#define QUERIES 20
#define TOP 10

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double protos[PROTOS][DIM];

/* A specification near prototype p: its centre is p plus noise, points around it. */
static lw_rkme *make_spec(lw_rng *rng)
{
	const double *p = protos[lw_rng_below(rng, PROTOS)];
	double centre[DIM], beta[KPTS];
	lw_mat Z;
	lw_rkme *r;

	for (int j = 0; j < DIM; j++)
		centre[j] = p[j] + 0.5 * lw_rng_normal(rng);
	lw_mat_init(&Z, KPTS, DIM);
	for (int i = 0; i < KPTS; i++) {
		beta[i] = 1.0 / KPTS;
		for (int j = 0; j < DIM; j++)
			lw_mat_row(&Z, i)[j] = centre[j] + 0.5 * lw_rng_normal(rng);
	}
	lw_rkme_new(&r, &Z, beta, 0.1, 100);
	lw_mat_dispose(&Z);
	return r;
}

typedef struct {
	double d;
	size_t i;
} pair;

static int by_d(const void *a, const void *b)
{
	const pair *x = a, *y = b;

	return x->d < y->d ? -1 : x->d > y->d;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	static const size_t cands[] = { 100, 300, 1000 };
	lw_rkme **specs = malloc(n * sizeof(*specs));
	double *dist = malloc(n * sizeof(double)), t0, t_build, t_exact = 0, t_index[3] = { 0 };
	pair *order = malloc(n * sizeof(pair));
	uint64_t *ids = malloc(1000 * sizeof(uint64_t));
	size_t hits[3] = { 0 };
	lw_index *ix;
	lw_rng rng;

	lw_rng_seed(&rng, 1);
	for (int p = 0; p < PROTOS; p++)
		for (int j = 0; j < DIM; j++)
			protos[p][j] = 3.0 * lw_rng_normal(&rng);
	lw_index_new(&ix, NULL);
	t0 = now();
	for (size_t i = 0; i < n; i++) {
		specs[i] = make_spec(&rng);
		lw_index_add(ix, i, specs[i]);
	}
	t_build = now() - t0;
	printf("index of %zu specifications (d %d, K %d, sketch 256 floats): built in %.1f s, %.0f MB of sketches\n",
	       n, DIM, KPTS, t_build, n * 256.0 * 4 / 1e6);

	for (int q = 0; q < QUERIES; q++) {
		lw_rkme *user = make_spec(&rng);
		size_t got;

		t0 = now();
		lw_rkme_dist_many(dist, user, (const lw_rkme *const *)specs, n);
		for (size_t i = 0; i < n; i++)
			order[i] = (pair){ dist[i], i };
		qsort(order, n, sizeof(pair), by_d);
		t_exact += now() - t0;
		for (int c = 0; c < 3; c++) {
			const lw_rkme **sub = malloc(cands[c] * sizeof(*sub));
			double *d = malloc(cands[c] * sizeof(double));
			pair *best = malloc(cands[c] * sizeof(pair));

			t0 = now();
			lw_index_query(ids, NULL, &got, ix, user, cands[c]);
			for (size_t i = 0; i < got; i++)
				sub[i] = specs[ids[i]];
			lw_rkme_dist_many(d, user, sub, got);
			for (size_t i = 0; i < got; i++)
				best[i] = (pair){ d[i], ids[i] };
			qsort(best, got, sizeof(pair), by_d);
			t_index[c] += now() - t0;
			for (int t = 0; t < TOP; t++)
				for (int u = 0; u < TOP && u < (int)got; u++)
					hits[c] += best[u].i == order[t].i;
			free(sub);
			free(d);
			free(best);
		}
		lw_rkme_free(user);
	}
	printf("exact search (all %zu MMDs + sort): %.1f ms per query\n", n, 1e3 * t_exact / QUERIES);
	printf("%10s %14s %10s %14s\n", "candidates", "ms per query", "speed-up", "recall@10");
	for (int c = 0; c < 3; c++)
		printf("%10zu %14.2f %9.1fx %14.3f\n", cands[c], 1e3 * t_index[c] / QUERIES,
		       t_exact / t_index[c], (double)hits[c] / (QUERIES * TOP));
	for (size_t i = 0; i < n; i++)
		lw_rkme_free(specs[i]);
	lw_index_free(ix);
	free(specs);
	free(dist);
	free(order);
	free(ids);
	return 0;
}
