#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "rkme.h"

#define GMM_CSV "reference/fixtures/gmm_n1000_d10.csv"
#define GMM_REF "reference/fixtures/gmm_n1000_d10.reference_rkme.json"

static void read_csv(lw_mat *X, const char *rel)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;

	o.header = LW_DATA_HEADER_NO;
	if (lw_data_read(X, NULL, lwt_shared_path(rel), &o) != 0)
		fail_msg("%s", lw_error_last()->message);
}

/* MMD^2 between the data and 100 of its rows drawn uniformly, equal weights. */
static double random_subset_mmd(const lw_mat *X, size_t k, uint64_t seed)
{
	lw_rng rng;
	size_t *idx = malloc(k * sizeof(size_t));
	double *beta = malloc(k * sizeof(double)), mmd;
	lw_mat Z;
	lw_rkme *r;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_rng_sample(&rng, idx, k, X->rows), 0);
	assert_int_equal(lw_mat_take_rows(&Z, X, idx, k), 0);
	for (size_t i = 0; i < k; i++)
		beta[i] = 1.0 / (double)k;
	assert_int_equal(lw_rkme_new(&r, &Z, beta, 0.1, X->rows), 0);
	assert_int_equal(lw_rkme_mmd_data(&mmd, r, X), 0);
	lw_rkme_free(r);
	lw_mat_dispose(&Z);
	free(idx);
	free(beta);
	return mmd;
}

static void test_rkme_reference_spec__scores_the_stated_mmd(void **state)
{
	lw_mat X;
	lw_rkme *ref;
	double mmd;

	(void)state;
	read_csv(&X, GMM_CSV);
	assert_int_equal(lw_rkme_load(&ref, lwt_shared_path(GMM_REF)), 0);
	assert_int_equal(lw_rkme_k(ref), 100);
	assert_int_equal(lw_rkme_dim(ref), 10);
	assert_int_equal(ref->num_points, 1000);
	assert_int_equal(lw_rkme_mmd_data(&mmd, ref, &X), 0);
	lwt_assert_near(mmd, 3.677e-3, 5e-7);
	lw_rkme_free(ref);
	lw_mat_dispose(&X);
}

static void test_rkme_fit_on_reference_data__beats_reference_and_random_points(void **state)
{
	lw_mat X;
	lw_rkme *r;
	double mmd;

	(void)state;
	read_csv(&X, GMM_CSV);
	assert_int_equal(lw_rkme_fit(&r, &X, NULL), 0);
	assert_int_equal(lw_rkme_k(r), 100);
	assert_int_equal(r->num_points, 1000);
	assert_int_equal(lw_rkme_mmd_data(&mmd, r, &X), 0);
	assert_true(mmd <= 3.677e-3);
	assert_true(mmd <= random_subset_mmd(&X, 100, 1));
	lw_rkme_free(r);
	lw_mat_dispose(&X);
}

/*
 * MMD^2 less the data's own term, which is the same for every candidate:
 * comparing it needs O(n K d) work, not O(n^2 d).
 */
static double mmd_less_data_term(const lw_rkme *r, const lw_mat *X)
{
	double rx;

	assert_int_equal(lw_rkme_inner_data(&rx, r, X), 0);
	return r->self_inner - 2 * rx;
}

static double random_rows_less_data_term(const lw_mat *X, uint64_t seed)
{
	lw_rng rng;
	size_t idx[100];
	double beta[100], v;
	lw_mat Z;
	lw_rkme *r;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_rng_sample(&rng, idx, 100, X->rows), 0);
	assert_int_equal(lw_mat_take_rows(&Z, X, idx, 100), 0);
	for (size_t i = 0; i < 100; i++)
		beta[i] = 0.01;
	assert_int_equal(lw_rkme_new(&r, &Z, beta, 0.1, X->rows), 0);
	v = mmd_less_data_term(r, X);
	lw_rkme_free(r);
	lw_mat_dispose(&Z);
	return v;
}

/* The sizes where the reference loses to 100 random rows (issue #2). */
static void check_fit_beats_random(size_t n, size_t d, uint64_t seed)
{
	lw_mat X;
	lw_rkme *r;
	double fit, rnd;

	lwt_gmm(&X, n, d, 5, 3.0, seed);
	assert_int_equal(lw_rkme_fit(&r, &X, NULL), 0);
	fit = mmd_less_data_term(r, &X);
	/* Several draws: the fit must beat every one, not a lucky average. */
	for (uint64_t s = 1; s <= 3; s++) {
		rnd = random_rows_less_data_term(&X, seed + s);
		if (!(fit < rnd))
			fail_msg("n=%zu d=%zu: fitted MMD^2 - data term %.6g not below random rows' %.6g",
				 n, d, fit, rnd);
	}
	lw_rkme_free(r);
	lw_mat_dispose(&X);
}

static void test_rkme_fit_1e4_rows__beats_random_points(void **state)
{
	(void)state;
	check_fit_beats_random(10000, 10, 11);
	check_fit_beats_random(10000, 50, 12);
}

static void test_rkme_fit_5e4_rows__beats_random_points(void **state)
{
	(void)state;
	check_fit_beats_random(50000, 20, 13);
}

static void test_rkme_distances__match_reference_market(void **state)
{
	char rel[256];
	lw_rkme *user, *lw;
	json_t *expected, *dists;
	json_error_t je;
	const char *id;
	json_t *v;

	(void)state;
	assert_int_equal(lw_rkme_load(&user, lwt_shared_path("reference/fixtures/search30/user_rkme.json")), 0);
	expected = json_load_file(lwt_shared_path("reference/fixtures/search30/expected.json"), 0, &je);
	assert_non_null(expected);
	dists = json_object_get(expected, "dist");
	assert_int_equal(json_object_size(dists), 30);
	json_object_foreach(dists, id, v) {
		double d;

		snprintf(rel, sizeof(rel), "reference/fixtures/search30/learnwares/%s.rkme.json", id);
		assert_int_equal(lw_rkme_load(&lw, lwt_shared_path(rel)), 0);
		assert_int_equal(lw_rkme_dist(&d, lw, user), 0);
		lwt_assert_near(d, json_real_value(v), 1e-6);
		lw_rkme_free(lw);
	}
	json_decref(expected);
	lw_rkme_free(user);
}

static void test_rkme_gradient__matches_finite_differences(void **state)
{
	lw_mat X, Z, G;
	double beta[6] = { 0.3, 0.1, 0.2, 0.15, 0.05, 0.2 }, f0, f1, f2;
	const double h = 1e-6;

	(void)state;
	lwt_gmm(&X, 300, 3, 2, 2.0, 21);
	lwt_gmm(&Z, 6, 3, 2, 2.0, 22);
	assert_int_equal(lw__rkme_gradient(&G, &f0, &X, &Z, beta, 0.1), 0);
	for (size_t i = 0; i < 6 * 3; i++) {
		lw_mat T;
		double keep = Z.data[i];

		Z.data[i] = keep + h;
		assert_int_equal(lw__rkme_gradient(&T, &f1, &X, &Z, beta, 0.1), 0);
		lw_mat_dispose(&T);
		Z.data[i] = keep - h;
		assert_int_equal(lw__rkme_gradient(&T, &f2, &X, &Z, beta, 0.1), 0);
		lw_mat_dispose(&T);
		Z.data[i] = keep;
		lwt_assert_near(G.data[i], (f1 - f2) / (2 * h), 1e-7);
	}
	lw_mat_dispose(&G);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Z);
}

static void test_rkme_effective_k__follows_reference_clamping(void **state)
{
	(void)state;
	assert_int_equal(lw_rkme_effective_k(100, 1000, 10), 100);
	assert_int_equal(lw_rkme_effective_k(100, 100, 10), 66);  /* K >= n: 2n/3 */
	assert_int_equal(lw_rkme_effective_k(100, 50, 10), 33);
	assert_int_equal(lw_rkme_effective_k(100, 1, 10), 1);
	assert_int_equal(lw_rkme_effective_k(100, 1000000, 20000), 65); /* K*d cap */
	assert_int_equal(lw_rkme_effective_k(100, 1000000, 100000), 20);
}

static void test_rkme_fit_small_data__clamps_k(void **state)
{
	lw_mat X;
	lw_rkme *r;
	double sum = 0;

	(void)state;
	lwt_gmm(&X, 30, 4, 2, 2.0, 31);
	assert_int_equal(lw_rkme_fit(&r, &X, NULL), 0);
	assert_int_equal(lw_rkme_k(r), 20);
	for (size_t i = 0; i < 20; i++) {
		assert_true(r->beta[i] >= 0);
		sum += r->beta[i];
	}
	lwt_assert_near(sum, 1.0, 1e-12);
	lw_rkme_free(r);
	lw_mat_dispose(&X);
}

static void test_rkme_fit_no_reduce__keeps_rows_with_equal_weight(void **state)
{
	lw_mat X;
	lw_rkme *r;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;

	(void)state;
	lwt_gmm(&X, 40, 3, 1, 1.0, 41);
	o.reduce = 0;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), 0);
	assert_int_equal(lw_rkme_k(r), 40);
	assert_memory_equal(r->z.data, X.data, 40 * 3 * sizeof(double));
	for (size_t i = 0; i < 40; i++)
		assert_true(r->beta[i] == 1.0 / 40);
	lw_rkme_free(r);
	lw_mat_dispose(&X);
}

static void test_rkme_fit_nonfinite_cells__take_column_mean(void **state)
{
	lw_mat X, Y;
	lw_rkme *a, *b;
	double d;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;

	(void)state;
	o.reduce = 0;
	lwt_gmm(&X, 10, 2, 1, 1.0, 51);
	assert_int_equal(lw_mat_copy(&Y, &X), 0);
	X.data[0] = NAN;
	X.data[3] = INFINITY;
	assert_int_equal(lw_rkme_fit(&a, &X, &o), 0);
	/* Means over the finite cells of each column. */
	double m0 = 0, m1 = 0;
	for (size_t i = 1; i < 10; i++)
		m0 += lw_mat_row(&Y, i)[0];
	for (size_t i = 0; i < 10; i++)
		if (i != 1)
			m1 += lw_mat_row(&Y, i)[1];
	lwt_assert_near(a->z.data[0], m0 / 9, 1e-12);
	lwt_assert_near(a->z.data[3], m1 / 9, 1e-12);
	Y.data[0] = m0 / 9;
	Y.data[3] = m1 / 9;
	assert_int_equal(lw_rkme_fit(&b, &Y, &o), 0);
	assert_int_equal(lw_rkme_dist(&d, a, b), 0);
	lwt_assert_near(d, 0, 1e-12);
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
}

static void test_rkme_fit_all_nan_column__is_an_error_naming_it(void **state)
{
	lw_mat X;
	lw_rkme *r = (lw_rkme *)1;

	(void)state;
	lwt_gmm(&X, 10, 3, 1, 1.0, 61);
	for (size_t i = 0; i < 10; i++)
		lw_mat_row(&X, i)[1] = NAN;
	assert_int_equal(lw_rkme_fit(&r, &X, NULL), LW_EINVALID);
	assert_null(r);
	assert_non_null(strstr(lw_error_last()->message, "column 2"));
	lw_mat_dispose(&X);
}

static void test_rkme_fit_bad_options__are_rejected(void **state)
{
	lw_mat X;
	lw_rkme *r;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;

	(void)state;
	lwt_gmm(&X, 10, 3, 1, 1.0, 71);
	o.gamma = -1;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), LW_EINVALID);
	o.gamma = NAN;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), LW_EINVALID);
	o.gamma = 0.1;
	o.k = 0;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), LW_EINVALID);
	lw_mat_dispose(&X);
}

static void test_rkme_fit_same_seed__is_reproducible(void **state)
{
	lw_mat X;
	lw_rkme *a, *b;

	(void)state;
	lwt_gmm(&X, 2000, 5, 3, 2.0, 81);
	assert_int_equal(lw_rkme_fit(&a, &X, NULL), 0);
	assert_int_equal(lw_rkme_fit(&b, &X, NULL), 0);
	assert_memory_equal(a->z.data, b->z.data, 100 * 5 * sizeof(double));
	assert_memory_equal(a->beta, b->beta, 100 * sizeof(double));
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
}

static void test_rkme_dist__is_zero_to_itself_and_symmetric(void **state)
{
	lw_mat X, Y;
	lw_rkme *a, *b;
	double aa, ab, ba;

	(void)state;
	lwt_gmm(&X, 500, 4, 2, 2.0, 91);
	lwt_gmm(&Y, 500, 4, 2, 2.0, 92);
	assert_int_equal(lw_rkme_fit(&a, &X, NULL), 0);
	assert_int_equal(lw_rkme_fit(&b, &Y, NULL), 0);
	assert_int_equal(lw_rkme_dist(&aa, a, a), 0);
	assert_int_equal(lw_rkme_dist(&ab, a, b), 0);
	assert_int_equal(lw_rkme_dist(&ba, b, a), 0);
	lwt_assert_near(aa, 0, 1e-14);
	lwt_assert_near(ab, ba, 1e-14);
	assert_true(ab > 1e-3);
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
}

static void test_rkme_dist_mismatched_dimensions__names_both(void **state)
{
	lw_mat X, Y;
	lw_rkme *a, *b;
	double d;

	(void)state;
	lwt_gmm(&X, 50, 4, 1, 1.0, 101);
	lwt_gmm(&Y, 50, 5, 1, 1.0, 102);
	assert_int_equal(lw_rkme_fit(&a, &X, NULL), 0);
	assert_int_equal(lw_rkme_fit(&b, &Y, NULL), 0);
	assert_int_equal(lw_rkme_dist(&d, a, b), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "4 and 5"));
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
}

static void test_rkme_herd__samples_track_the_embedding(void **state)
{
	lw_mat X, S, S2;
	lw_rkme *r, *h;
	double *w = malloc(200 * sizeof(double)), d_herd, d_rand;

	(void)state;
	lwt_gmm(&X, 2000, 3, 3, 3.0, 111);
	assert_int_equal(lw_rkme_fit(&r, &X, NULL), 0);
	assert_int_equal(lw_rkme_herd(&S, r, 200, 5), 0);
	assert_int_equal(S.rows, 200);
	assert_int_equal(S.cols, 3);
	for (size_t i = 0; i < 200; i++)
		w[i] = 1.0 / 200;
	assert_int_equal(lw_rkme_new(&h, &S, w, 0.1, 200), 0);
	assert_int_equal(lw_rkme_dist(&d_herd, r, h), 0);
	lw_rkme_free(h);
	/* 200 rows of the real data are the bar herding has to clear. */
	lw_mat_dispose(&S);
	d_rand = random_subset_mmd(&X, 200, 3);
	assert_true(d_herd < d_rand);
	assert_int_equal(lw_rkme_herd(&S, r, 200, 5), 0);
	assert_int_equal(lw_rkme_herd(&S2, r, 200, 5), 0);
	assert_memory_equal(S.data, S2.data, 200 * 3 * sizeof(double));
	lw_mat_dispose(&S);
	lw_mat_dispose(&S2);
	assert_int_equal(lw_rkme_herd(&S, r, 0, 5), LW_EINVALID);
	lw_rkme_free(r);
	lw_mat_dispose(&X);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rkme_reference_spec__scores_the_stated_mmd),
		cmocka_unit_test(test_rkme_fit_on_reference_data__beats_reference_and_random_points),
		cmocka_unit_test(test_rkme_fit_1e4_rows__beats_random_points),
		cmocka_unit_test(test_rkme_fit_5e4_rows__beats_random_points),
		cmocka_unit_test(test_rkme_distances__match_reference_market),
		cmocka_unit_test(test_rkme_gradient__matches_finite_differences),
		cmocka_unit_test(test_rkme_effective_k__follows_reference_clamping),
		cmocka_unit_test(test_rkme_fit_small_data__clamps_k),
		cmocka_unit_test(test_rkme_fit_no_reduce__keeps_rows_with_equal_weight),
		cmocka_unit_test(test_rkme_fit_nonfinite_cells__take_column_mean),
		cmocka_unit_test(test_rkme_fit_all_nan_column__is_an_error_naming_it),
		cmocka_unit_test(test_rkme_fit_bad_options__are_rejected),
		cmocka_unit_test(test_rkme_fit_same_seed__is_reproducible),
		cmocka_unit_test(test_rkme_dist__is_zero_to_itself_and_symmetric),
		cmocka_unit_test(test_rkme_dist_mismatched_dimensions__names_both),
		cmocka_unit_test(test_rkme_herd__samples_track_the_embedding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
