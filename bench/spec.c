/*
 * bench/spec: RKME generation time and fit quality, and MMD throughput.
 *
 * Data: seeded 5-component Gaussian mixtures (centres N(0, 3^2 I), unit
 * covariance), the family the reference engine was measured on.  For each
 * size it prints the fit time, the achieved MMD^2 between the specification
 * and its data, and the MMD^2 of 100 uniformly weighted rows drawn from the
 * data (the bar a reduced set must clear).  The data's own kernel term is
 * exact up to 5e4 rows and estimated from a 5e4-row subsample beyond (the
 * row marked ~); it is the same for both columns, so the comparison is exact.
 *
 * Usage: bench_spec [--quick]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "lw.h"

#define SELF_EXACT_MAX 50000

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void gmm(lw_mat *X, size_t n, size_t d, uint64_t seed)
{
	lw_rng rng;
	lw_mat c;

	lw_rng_seed(&rng, seed);
	lw_mat_init(&c, 5, d);
	for (size_t i = 0; i < 5 * d; i++)
		c.data[i] = 3.0 * lw_rng_normal(&rng);
	lw_mat_init(X, n, d);
	for (size_t i = 0; i < n; i++) {
		const double *cc = lw_mat_row(&c, (size_t)lw_rng_below(&rng, 5));
		for (size_t j = 0; j < d; j++)
			lw_mat_row(X, i)[j] = cc[j] + lw_rng_normal(&rng);
	}
	lw_mat_dispose(&c);
}

/* Mean of k(x, x') over all pairs; a subsample's U-statistic when n is large. */
static double data_term(const lw_mat *X, double gamma, int *estimated)
{
	lw_mat S;
	lw_rng rng;
	size_t m = SELF_EXACT_MAX, *idx;
	double v;

	*estimated = X->rows > SELF_EXACT_MAX;
	if (!*estimated) {
		lw_kernel_mean_self(&v, X, gamma);
		return v;
	}
	idx = malloc(m * sizeof(size_t));
	lw_rng_seed(&rng, 99);
	lw_rng_sample(&rng, idx, m, X->rows);
	lw_mat_take_rows(&S, X, idx, m);
	lw_kernel_mean_self(&v, &S, gamma);
	lw_mat_dispose(&S);
	free(idx);
	/* V-statistic of m rows -> off-diagonal mean -> V-statistic of n rows. */
	v = ((double)m * v - 1.0) / (double)(m - 1);
	return 1.0 / (double)X->rows + (1.0 - 1.0 / (double)X->rows) * v;
}

/* MMD^2 between r and X, given X's own term. */
static double mmd_to_data(const lw_rkme *r, const lw_mat *X, double xx)
{
	double rx;

	lw_rkme_inner_data(&rx, r, X);
	return r->self_inner - 2 * rx + xx;
}

static double random_rows_mmd(const lw_mat *X, double xx)
{
	size_t idx[100];
	double beta[100], v;
	lw_rng rng;
	lw_mat Z;
	lw_rkme *r;

	lw_rng_seed(&rng, 7);
	lw_rng_sample(&rng, idx, 100, X->rows);
	lw_mat_take_rows(&Z, X, idx, 100);
	for (int i = 0; i < 100; i++)
		beta[i] = 0.01;
	lw_rkme_new(&r, &Z, beta, 0.1, X->rows);
	v = mmd_to_data(r, X, xx);
	lw_rkme_free(r);
	lw_mat_dispose(&Z);
	return v;
}

static void bench_fit(size_t n, size_t d, int reps)
{
	lw_mat X;
	lw_rkme *r = NULL;
	double best = INFINITY, xx, fit, rnd;
	int est;

	gmm(&X, n, d, 1000 + n + d);
	for (int i = 0; i < reps; i++) {
		double t0 = now();

		lw_rkme_free(r);
		if (lw_rkme_fit(&r, &X, NULL) != 0) {
			fprintf(stderr, "fit failed: %s\n", lw_error_last()->message);
			exit(1);
		}
		if (now() - t0 < best)
			best = now() - t0;
	}
	xx = data_term(&X, 0.1, &est);
	fit = mmd_to_data(r, &X, xx);
	rnd = random_rows_mmd(&X, xx);
	printf("%8zu %4zu %9.3f %c%10.3e %c%10.3e %8.2f\n", n, d, best, est ? '~' : ' ', fit,
	       est ? '~' : ' ', rnd, rnd / fit);
	lw_rkme_free(r);
	lw_mat_dispose(&X);
}

/*
 * MMD^2 from one user specification to m learnware specifications, K = 100,
 * d = 20: one pair at a time (lw_rkme_dist) and as one batch
 * (lw_rkme_dist_many, what search uses).  Both reuse each specification's
 * cached self inner product, as a dock that stores it would.
 */
static void bench_throughput(void)
{
	const size_t m = 20000;
	lw_rkme **specs = malloc(m * sizeof(*specs));
	double *out = malloc(m * sizeof(double)), t0, single, batch, sink = 0;

	for (size_t i = 0; i < m; i++) {
		lw_mat Z;
		double beta[100];

		gmm(&Z, 100, 20, 5000 + i);
		for (int j = 0; j < 100; j++)
			beta[j] = 0.01;
		lw_rkme_new(&specs[i], &Z, beta, 0.1, 1000);
		lw_mat_dispose(&Z);
	}
	t0 = now();
	for (size_t i = 0; i < m / 10; i++)
		lw_rkme_dist(&out[i], specs[0], specs[i]);
	single = (double)(m / 10) / (now() - t0);
	t0 = now();
	lw_rkme_dist_many(out, specs[0], (const lw_rkme *const *)specs, m);
	batch = (double)m / (now() - t0);
	for (size_t i = 0; i < m; i++)
		sink += out[i];
	printf("\nMMD^2 throughput, K = 100, d = 20 (checksum %.6f)\n", sink);
	printf("  one pair per call (lw_rkme_dist):   %9.0f pairs/s\n", single);
	printf("  batch of %zu (lw_rkme_dist_many): %9.0f pairs/s\n", m, batch);
	for (size_t i = 0; i < m; i++)
		lw_rkme_free(specs[i]);
	free(specs);
	free(out);
}

/*
 * Same data, both engines: the reference wrote a specification of
 * gmm_n1000_d10.csv (shared/reference/fixtures); score it and ours.
 */
static void bench_reference_fixture(void)
{
	const char *root = getenv("LW_SHARED_DIR");
	char csv[4096], ref[4096];
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	lw_mat X;
	lw_rkme *theirs, *ours;
	double t_mmd, o_mmd, t0, secs;

	snprintf(csv, sizeof(csv), "%s/reference/fixtures/gmm_n1000_d10.csv", root ? root : "../shared");
	snprintf(ref, sizeof(ref), "%s/reference/fixtures/gmm_n1000_d10.reference_rkme.json",
		 root ? root : "../shared");
	o.header = LW_DATA_HEADER_NO;
	if (lw_data_read(&X, NULL, csv, &o) != 0 || lw_rkme_load(&theirs, ref) != 0) {
		printf("\n(reference fixture not found: %s; set LW_SHARED_DIR)\n", lw_error_last()->message);
		return;
	}
	t0 = now();
	lw_rkme_fit(&ours, &X, NULL);
	secs = now() - t0;
	lw_rkme_mmd_data(&t_mmd, theirs, &X);
	lw_rkme_mmd_data(&o_mmd, ours, &X);
	printf("\nReference fixture gmm_n1000_d10 (same data for both engines)\n");
	printf("  reference engine's specification: MMD^2 %.4e\n", t_mmd);
	printf("  this engine's specification:       MMD^2 %.4e  (%.3f s, %.2fx lower)\n", o_mmd, secs,
	       t_mmd / o_mmd);
	lw_rkme_free(theirs);
	lw_rkme_free(ours);
	lw_mat_dispose(&X);
}

int main(int argc, char **argv)
{
	int quick = argc > 1 && !strcmp(argv[1], "--quick");
	static const size_t sizes[][2] = { { 1000, 10 }, { 10000, 10 }, { 10000, 50 },
					   { 50000, 20 }, { 200000, 20 } };
	size_t count = quick ? 3 : sizeof(sizes) / sizeof(sizes[0]);

	printf("RKME table specification, defaults (gamma 0.1, K 100, 3 steps), best of 3 runs\n");
	printf("%8s %4s %9s %11s %11s %8s\n", "n", "d", "fit (s)", "MMD^2 fit", "MMD^2 rand",
	       "rand/fit");
	for (size_t i = 0; i < count; i++)
		bench_fit(sizes[i][0], sizes[i][1], sizes[i][0] >= 200000 ? 1 : 3);
	bench_reference_fixture();
	bench_throughput();
	return 0;
}
