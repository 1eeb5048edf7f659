#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKET "reference/fixtures/search30/"
#define N 30

static lw_rkme *market[N];
static lw_rkme *user;
static json_t *expected;

static int load_market(void **state)
{
	char rel[128];
	json_error_t je;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), MARKET "learnwares/%08d.rkme.json", i);
		if (lw_rkme_load(&market[i], lwt_shared_path(rel)) != 0)
			return -1;
	}
	if (lw_rkme_load(&user, lwt_shared_path(MARKET "user_rkme.json")) != 0)
		return -1;
	expected = json_load_file(lwt_shared_path(MARKET "expected.json"), 0, &je);
	return expected ? 0 : -1;
}

static int free_market(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++)
		lw_rkme_free(market[i]);
	lw_rkme_free(user);
	json_decref(expected);
	return 0;
}

/* Results must equal the reference engine's: same ids in order, scores to 1e-6. */
static void check_against_reference(lw_mixture_method method, const char *key)
{
	lw_stat_search_options o = LW_STAT_SEARCH_OPTIONS_INIT;
	lw_stat_search_result r;
	json_t *want = json_object_get(expected, key);
	json_t *single = json_object_get(want, "single");
	json_t *multi = json_array_get(json_object_get(want, "multiple"), 0);
	json_t *ids = json_array_get(multi, 0);
	double wsum = 0;

	o.method = method;
	assert_int_equal(lw_stat_search(&r, user, (const lw_rkme *const *)market, N, &o), 0);
	assert_int_equal(r.n_singles, json_array_size(single));
	for (size_t i = 0; i < r.n_singles; i++) {
		json_t *pair = json_array_get(single, i);

		assert_int_equal(r.singles[i].index, atoi(json_string_value(json_array_get(pair, 0))));
		lwt_assert_near(r.singles[i].score, json_real_value(json_array_get(pair, 1)), 1e-6);
	}
	assert_int_equal(r.mixture.count, json_array_size(ids));
	for (size_t i = 0; i < r.mixture.count; i++) {
		assert_int_equal(r.mixture.indices[i], atoi(json_string_value(json_array_get(ids, i))));
		assert_true(r.mixture.weights[i] >= 0);
		wsum += r.mixture.weights[i];
	}
	lwt_assert_near(wsum, 1.0, 1e-9);
	lwt_assert_near(r.mixture.score, json_number_value(json_array_get(multi, 1)), 1e-6);
	assert_true(r.mixture.mmd2 < r.singles[0].mmd2);
	lw_stat_search_result_dispose(&r);
}

static void test_search_greedy__matches_reference_results(void **state)
{
	(void)state;
	check_against_reference(LW_MIXTURE_GREEDY, "greedy");
}

static void test_search_auto__matches_reference_results(void **state)
{
	(void)state;
	check_against_reference(LW_MIXTURE_AUTO, "auto");
}

static void test_search_mixture_weights__recover_the_users_blend(void **state)
{
	lw_stat_search_result r;

	(void)state;
	/* The user drew 50%, 30%, 20% of its rows from blobs 0, 1, 2. */
	assert_int_equal(lw_stat_search(&r, user, (const lw_rkme *const *)market, N, NULL), 0);
	assert_int_equal(r.mixture.count, 3);
	for (size_t i = 0; i < 3; i++) {
		static const double share[3] = { 0.5, 0.3, 0.2 };

		lwt_assert_near(r.mixture.weights[i], share[r.mixture.indices[i]], 0.05);
	}
	lw_stat_search_result_dispose(&r);
}

static void test_search_singles_only__ranks_by_distance(void **state)
{
	lw_stat_search_options o = LW_STAT_SEARCH_OPTIONS_INIT;
	lw_stat_search_result r;

	(void)state;
	o.method = LW_MIXTURE_NONE;
	assert_int_equal(lw_stat_search(&r, user, (const lw_rkme *const *)market, N, &o), 0);
	assert_int_equal(r.mixture.count, 0);
	assert_true(r.n_singles >= 1);
	for (size_t i = 1; i < r.n_singles; i++)
		assert_true(r.singles[i - 1].mmd2 <= r.singles[i].mmd2);
	lw_stat_search_result_dispose(&r);
}

static void test_search_other_dimensions__are_skipped(void **state)
{
	lw_mat X;
	lw_rkme *odd, *cands[2];
	lw_stat_search_result r;

	(void)state;
	lwt_gmm(&X, 100, 3, 1, 1.0, 1);
	assert_int_equal(lw_rkme_fit(&odd, &X, NULL), 0);
	cands[0] = odd;
	cands[1] = market[4];
	assert_int_equal(lw_stat_search(&r, user, (const lw_rkme *const *)cands, 2, NULL), 0);
	assert_int_equal(r.n_singles, 1);
	assert_int_equal(r.singles[0].index, 1);
	/* A lone result below 0.6 is raised to 0.6, as the reference does. */
	lwt_assert_near(r.singles[0].score, 1.0, 1e-12);
	lw_stat_search_result_dispose(&r);
	assert_int_equal(lw_stat_search(&r, user, (const lw_rkme *const *)cands, 1, NULL), 0);
	assert_int_equal(r.n_singles, 0);
	lw_stat_search_result_dispose(&r);
	lw_rkme_free(odd);
	lw_mat_dispose(&X);
}

static void test_search_scores__follow_the_reference_formula(void **state)
{
	double d[4] = { 0.1, 0.2, 0.3, 0.5 }, s[4], same[3] = { 2, 2, 2 };

	(void)state;
	lw_search_scores(s, same, 3);
	for (int i = 0; i < 3; i++)
		assert_true(s[i] == 1.0);
	lw_search_scores(s, d, 4);
	/* mean 0.275: eps = 0.0275 < min; spread (0.4/0.4725) < 0.92 -> eps = 0.5 - 0.4/0.92. */
	double eps = 0.5 - 0.4 / 0.92;
	lwt_assert_near(s[0], (0.5 - 0.1) / (0.5 - eps), 1e-15);
	lwt_assert_near(s[3], 0.0, 1e-15);
	lwt_assert_near(s[2], fmin(sqrt((0.5 - 0.3) / (0.5 - eps)), 0.7), 1e-15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_search_greedy__matches_reference_results),
		cmocka_unit_test(test_search_auto__matches_reference_results),
		cmocka_unit_test(test_search_mixture_weights__recover_the_users_blend),
		cmocka_unit_test(test_search_singles_only__ranks_by_distance),
		cmocka_unit_test(test_search_other_dimensions__are_skipped),
		cmocka_unit_test(test_search_scores__follow_the_reference_formula),
	};
	return cmocka_run_group_tests(tests, load_market, free_market);
}
