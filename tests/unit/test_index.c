#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A specification of a blob centred at c (d dims), fitted from 200 rows. */
static lw_rkme *blob(const double *c, size_t d, uint64_t seed)
{
	lw_mat X;
	lw_rng rng;
	lw_rkme *r;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&X, 200, d), 0);
	for (size_t i = 0; i < 200; i++)
		for (size_t j = 0; j < d; j++)
			lw_mat_row(&X, i)[j] = c[j] + lw_rng_normal(&rng);
	o.k = 20;
	o.steps = 1;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), 0);
	lw_mat_dispose(&X);
	return r;
}

#define NB 60
#define D 5

static lw_rkme *specs[NB];
static double centres[NB][D];

static int make_specs(void **state)
{
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 42);
	for (int i = 0; i < NB; i++) {
		for (int j = 0; j < D; j++)
			centres[i][j] = 2.5 * lw_rng_normal(&rng);
		specs[i] = blob(centres[i], D, 100 + i);
	}
	return 0;
}

static int free_specs(void **state)
{
	(void)state;
	for (int i = 0; i < NB; i++)
		lw_rkme_free(specs[i]);
	return 0;
}

static lw_index *build(void)
{
	lw_index *ix;

	assert_int_equal(lw_index_new(&ix, NULL), 0);
	for (int i = 0; i < NB; i++)
		assert_int_equal(lw_index_add(ix, 1000 + i, specs[i]), 0);
	assert_int_equal(lw_index_size(ix), NB);
	return ix;
}

static void test_index_query__finds_the_same_blob_first(void **state)
{
	lw_index *ix = build();
	uint64_t ids[5];
	double approx[5];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 7) {
		lw_rkme *q = blob(centres[i], D, 9000 + i); /* fresh rows, same distribution */

		assert_int_equal(lw_index_query(ids, approx, &n, ix, q, 5), 0);
		assert_int_equal(n, 5);
		assert_int_equal(ids[0], 1000 + i);
		for (size_t j = 1; j < n; j++)
			assert_true(approx[j - 1] <= approx[j]);
		lw_rkme_free(q);
	}
	lw_index_free(ix);
}

static void test_index_estimates__track_the_exact_mmd(void **state)
{
	lw_index *ix = build();
	uint64_t ids[NB];
	double approx[NB];
	size_t n;

	(void)state;
	assert_int_equal(lw_index_query(ids, approx, &n, ix, specs[3], NB), 0);
	assert_int_equal(n, NB);
	double sq = 0, worst = 0;
	for (size_t j = 0; j < n; j++) {
		double exact, e;

		assert_int_equal(lw_rkme_dist(&exact, specs[3], specs[ids[j] - 1000]), 0);
		e = fabs(approx[j] - exact);
		sq += e * e;
		worst = e > worst ? e : worst;
	}
	lw_index_free(ix);
	/*
	 * 128 frequency pairs estimate each kernel value with a standard
	 * deviation of at most 1/sqrt(256); errors within one blob are
	 * correlated, so an MMD^2 estimate can be off by about 0.1.
	 */
	assert_true(sqrt(sq / n) < 0.1);
	assert_true(worst < 0.25);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * What the rerank relies on: every specification distinctly close to the
 * query (exact MMD^2 within 0.2 of the best, among its exact top 5) is among
 * the sketch's best 20.  Beyond that, the far blobs tie at about 0.75 and
 * their order is noise for both.
 */
static void test_index_candidates__contain_the_close_specifications(void **state)
{
	lw_index *ix = build();
	uint64_t ids[20];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 5) {
		lw_rkme *q = blob(centres[i], D, 7000 + i);
		double exact[NB], sorted[NB];

		assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 20), 0);
		for (int j = 0; j < NB; j++)
			assert_int_equal(lw_rkme_dist(&exact[j], q, specs[j]), 0);
		memcpy(sorted, exact, sizeof(exact));
		qsort(sorted, NB, sizeof(double), by_value);
		for (int j = 0; j < NB; j++) {
			int found = 0;

			if (exact[j] > sorted[4] || exact[j] > sorted[0] + 0.2)
				continue;
			for (size_t t = 0; t < n; t++)
				found |= ids[t] == (uint64_t)(1000 + j);
			if (!found)
				fail_msg("query %d: exact top-5 member %d missing from the sketch's top 20", i, j);
		}
		lw_rkme_free(q);
	}
	lw_index_free(ix);
}

static void test_index_remove_and_replace__keep_ids_consistent(void **state)
{
	lw_index *ix = build();
	uint64_t ids[NB];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 2)
		assert_int_equal(lw_index_remove(ix, 1000 + i), 0);
	assert_int_equal(lw_index_remove(ix, 1000), LW_ENOTFOUND);
	assert_int_equal(lw_index_size(ix), NB / 2);
	/* Every survivor is still found first for its own specification. */
	for (int i = 1; i < NB; i += 2) {
		assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[i], 1), 0);
		assert_int_equal(ids[0], 1000 + i);
	}
	/* Replacing an id's specification moves it. */
	assert_int_equal(lw_index_add(ix, 1001, specs[2]), 0);
	assert_int_equal(lw_index_size(ix), NB / 2);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[2], 1), 0);
	assert_int_equal(ids[0], 1001);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[2], NB), 0);
	assert_int_equal(n, NB / 2);
	lw_index_free(ix);
}

static void test_index_other_dimension__gets_its_own_partition(void **state)
{
	lw_index *ix = build();
	double c[3] = { 0, 0, 0 };
	lw_rkme *q = blob(c, 3, 5);
	uint64_t ids[4];
	size_t n;

	(void)state;
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 4), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lw_index_add(ix, 7, q), 0);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 4), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 7);
	lw_rkme_free(q);
	lw_index_free(ix);
}

static void test_index_save_load__answers_the_same(void **state)
{
	char *dir = lwt_mkdtemp(), path[512];
	lw_index *ix = build(), *back;
	uint64_t a[10], b[10];
	double da[10], db[10];
	size_t na, nb;

	(void)state;
	lw_index_remove(ix, 1005);
	snprintf(path, sizeof(path), "%s/index.bin", dir);
	assert_int_equal(lw_index_save(ix, path), 0);
	assert_int_equal(lw_index_load(&back, path), 0);
	assert_int_equal(lw_index_size(back), NB - 1);
	assert_int_equal(lw_index_query(a, da, &na, ix, specs[8], 10), 0);
	assert_int_equal(lw_index_query(b, db, &nb, back, specs[8], 10), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(uint64_t));
	for (size_t i = 0; i < na; i++)
		lwt_assert_near(da[i], db[i], 1e-6);
	lw_index_free(back);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(dir);
}

static void test_index_load_damaged_file__is_refused(void **state)
{
	char *dir = lwt_mkdtemp(), path[512];
	lw_index *ix = build(), *back = (lw_index *)1;
	FILE *f;
	long size;

	(void)state;
	snprintf(path, sizeof(path), "%s/index.bin", dir);
	assert_int_equal(lw_index_save(ix, path), 0);
	f = fopen(path, "r+b");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - 100), 0);
	fclose(f);
	assert_int_equal(lw_index_load(&back, path), LW_EINVALID);
	assert_null(back);
	assert_non_null(strstr(lw_error_last()->message, "rebuild"));
	free(lwt_write_file(dir, "junk.bin", "LWIDX but not really"));
	snprintf(path, sizeof(path), "%s/junk.bin", dir);
	assert_int_equal(lw_index_load(&back, path), LW_EINVALID);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_query__finds_the_same_blob_first),
		cmocka_unit_test(test_index_estimates__track_the_exact_mmd),
		cmocka_unit_test(test_index_candidates__contain_the_close_specifications),
		cmocka_unit_test(test_index_remove_and_replace__keep_ids_consistent),
		cmocka_unit_test(test_index_other_dimension__gets_its_own_partition),
		cmocka_unit_test(test_index_save_load__answers_the_same),
		cmocka_unit_test(test_index_load_damaged_file__is_refused),
	};
	return cmocka_run_group_tests(tests, make_specs, free_specs);
}
