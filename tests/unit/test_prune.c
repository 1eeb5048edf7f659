#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prune.h"

/* ---- helpers -------------------------------------------------------- */

static void assert_selection(const size_t *got, size_t count, const size_t *want, size_t n)
{
	if (count != n) {
		char buf[256] = "";

		for (size_t i = 0; i < count && strlen(buf) < 200; i++)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), " %zu", got[i]);
		fail_msg("selected %zu members (%s), expected %zu", count, buf, n);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(got[i], want[i]);
}

/*
 * The best subset of at least two members by enumeration: least error
 * (objective `err`), then fewest members.  Returns its mask as bits.
 */
static uint64_t brute_force(const lw_mat *P, const double *y, int cls, size_t n_classes)
{
	size_t m = P->cols, err_obj = cls ? 1 : 0;
	double best_e = INFINITY, best_s = INFINITY;
	uint64_t best = 0;
	unsigned char mask[16];

	assert_true(m <= 16);
	for (uint64_t b = 1; b < ((uint64_t)1 << m); b++) {
		double f[3];

		if (__builtin_popcountll(b) < 2)
			continue;
		for (size_t j = 0; j < m; j++)
			mask[j] = (unsigned char)((b >> j) & 1);
		assert_int_equal(lw__prune_objectives(f, NULL, P, y, cls, n_classes, mask), 0);
		if (f[err_obj] < best_e || (f[err_obj] == best_e && f[err_obj + 1] < best_s)) {
			best_e = f[err_obj];
			best_s = f[err_obj + 1];
			best = b;
		}
	}
	return best;
}

/*
 * n rows, m members: members flagged in `good` are y plus N(0, 0.5^2)
 * noise; the others are biased upwards by 1.5 + 0.25 j plus N(0, 0.3^2).
 */
static void regression_problem(lw_mat *P, double *y, size_t n, size_t m, uint64_t good,
			       uint64_t seed)
{
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(P, n, m), 0);
	for (size_t i = 0; i < n; i++) {
		y[i] = 3 * lw_rng_normal(&rng);
		for (size_t j = 0; j < m; j++)
			P->data[i * m + j] = (good >> j) & 1
						     ? y[i] + 0.5 * lw_rng_normal(&rng)
						     : y[i] + 1.5 + 0.25 * (double)j +
							       0.3 * lw_rng_normal(&rng);
	}
}

/*
 * Classification with n_classes classes: the members in `good` are right
 * except on their own tenth of the rows (no two wrong on the same row),
 * the others guess uniformly.  classes == 2 gives a binary problem.
 */
static void classification_problem(lw_mat *P, double *y, size_t n, size_t m, size_t classes,
				   uint64_t good, uint64_t seed)
{
	lw_rng rng;
	size_t g = 0;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(P, n, m), 0);
	for (size_t i = 0; i < n; i++)
		y[i] = (double)lw_rng_below(&rng, classes);
	for (size_t j = 0; j < m; j++) {
		int is_good = (good >> j) & 1;

		for (size_t i = 0; i < n; i++) {
			double v;

			if (is_good) {
				v = y[i];
				if (i % 10 == g) /* this member's own wrong rows */
					v = (double)(((size_t)y[i] + 1 + lw_rng_below(&rng, classes - 1)) %
						     classes);
			} else {
				v = (double)lw_rng_below(&rng, classes);
			}
			P->data[i * m + j] = v;
		}
		g += is_good;
	}
}

/* ---- objectives ----------------------------------------------------- */

static void test_prune_objectives__regression_mse_and_size(void **state)
{
	double data[] = { 1, 3, 2, 2 }, y[] = { 2, 1 }, f[3];
	lw_mat P = { 2, 2, data };
	unsigned char both[] = { 1, 1 }, first[] = { 1, 0 };
	size_t k;

	(void)state;
	assert_int_equal(lw__prune_objectives(f, &k, &P, y, 0, 0, both), 0);
	assert_int_equal(k, 2);
	lwt_assert_near(f[0], 0.5, 1e-15); /* means 2, 2 against 2, 1 */
	lwt_assert_near(f[1], 2, 0);
	assert_int_equal(lw__prune_objectives(f, &k, &P, y, 0, 0, first), 0);
	lwt_assert_near(f[0], 1, 1e-15); /* 1, 2 against 2, 1 */
	lwt_assert_near(f[1], 1, 0);
}

static void test_prune_objectives__multiclass_margins_by_hand(void **state)
{
	/* rows: [0 0 1] y=0 right, margin 1/3; [2 2 1] y=1 wrong, margin
	 * (1-2)/3; [2 2 2] y=2 right, margin 3/3. */
	double data[] = { 0, 0, 1, 2, 2, 1, 2, 2, 2 }, y[] = { 0, 1, 2 }, f[3];
	double tie[] = { 2, 1 }, ty[] = { 1 };
	lw_mat P = { 3, 3, data }, T = { 1, 2, tie };
	unsigned char all[] = { 1, 1, 1 };
	size_t k;

	(void)state;
	assert_int_equal(lw__prune_mode_of(&P, y, 1), LW__PRUNE_MULTICLASS);
	assert_int_equal(lw__prune_objectives(f, &k, &P, y, 1, 3, all), 0);
	assert_int_equal(k, 3);
	/* mean 1/3, deviations 0, -2/3, 2/3: std sqrt(8/27) */
	lwt_assert_near(f[0], sqrt(8.0 / 27.0) * 3, 1e-12);
	lwt_assert_near(f[1], 1, 0);
	lwt_assert_near(f[2], 3, 0);

	/* A 1-1 tie goes to the smaller class: right here, margin 0, so f1 is 1e5. */
	assert_int_equal(lw__prune_objectives(f, &k, &T, ty, 1, 3, all), 0);
	lwt_assert_near(f[0], 1e5, 0);
	lwt_assert_near(f[1], 0, 0);
}

static void test_prune_objectives__binary_margins_by_hand(void **state)
{
	/* -1/+1 votes: means 1, 0, -1, -1 times labels +1, -1, +1, -1. */
	double data[] = { 1, 1, 1, 0, 0, 0, 0, 0 }, y[] = { 1, 0, 1, 0 }, f[3];
	lw_mat P = { 4, 2, data };
	unsigned char both[] = { 1, 1 };
	size_t k;

	(void)state;
	assert_int_equal(lw__prune_mode_of(&P, y, 1), LW__PRUNE_BINARY);
	assert_int_equal(lw__prune_mode_of(&P, y, 0), LW__PRUNE_REGRESSION);
	assert_int_equal(lw__prune_objectives(f, &k, &P, y, 1, 2, both), 0);
	assert_int_equal(k, 3);
	/* margins 1, 0, -1, 1: mean 0.25, variance 0.6875 */
	lwt_assert_near(f[0], sqrt(0.6875) / 0.25, 1e-12);
	lwt_assert_near(f[1], 1.5, 0); /* one negative, one zero */
	lwt_assert_near(f[2], 2, 0);
}

static void test_prune_objectives__many_classes_count_the_same(void **state)
{
	lw_mat P;
	double y[500], a[3], b[3];
	unsigned char mask[9];
	lw_rng rng;

	(void)state;
	/* 5000 declared classes take the sparse count, 6 the dense one */
	classification_problem(&P, y, 500, 9, 6, 0x7, 51);
	lw_rng_seed(&rng, 52);
	for (int t = 0; t < 20; t++) {
		size_t k = 0;

		for (size_t j = 0; j < 9; j++)
			k += mask[j] = (unsigned char)(lw_rng_u64(&rng) >> 63);
		if (!k)
			mask[0] = 1;
		assert_int_equal(lw__prune_objectives(a, NULL, &P, y, 1, 6, mask), 0);
		assert_int_equal(lw__prune_objectives(b, NULL, &P, y, 1, 5000, mask), 0);
		assert_memory_equal(a, b, sizeof(a));
	}
	lw_mat_dispose(&P);
}

/* ---- selection on problems with a known answer ---------------------- */

static void test_prune_select__regression_keeps_the_unbiased_members(void **state)
{
	lw_mat P;
	double y[200];
	size_t *sel = NULL, count = 0, want[] = { 1, 3, 4 };
	uint64_t good = (1u << 1) | (1u << 3) | (1u << 4);

	(void)state;
	regression_problem(&P, y, 200, 6, good, 11);
	assert_int_equal(brute_force(&P, y, 0, 0), good);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 0, 0, 7, LW__PRUNE_MAXGEN), 0);
	assert_selection(sel, count, want, 3);
	free(sel);
	lw_mat_dispose(&P);
}

static void test_prune_select__regression_finds_four_among_twenty_four(void **state)
{
	lw_mat P;
	double y[150];
	size_t *sel = NULL, count = 0, want[] = { 2, 9, 15, 22 };
	uint64_t good = (1u << 2) | (1u << 9) | (1u << 15) | (1u << 22);

	(void)state;
	regression_problem(&P, y, 150, 24, good, 12);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 0, 0, 3, 200), 0);
	assert_selection(sel, count, want, 4);
	free(sel);
	lw_mat_dispose(&P);
}

static void test_prune_select__multiclass_keeps_the_accurate_members(void **state)
{
	lw_mat P;
	double y[300];
	size_t *sel = NULL, count = 0, want[] = { 0, 4, 5 };
	uint64_t good = 1u | (1u << 4) | (1u << 5);

	(void)state;
	classification_problem(&P, y, 300, 7, 4, good, 21);
	assert_int_equal(lw__prune_mode_of(&P, y, 1), LW__PRUNE_MULTICLASS);
	assert_int_equal(brute_force(&P, y, 1, 4), good);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 4, 5, LW__PRUNE_MAXGEN), 0);
	assert_selection(sel, count, want, 3);
	free(sel);
	/* n_classes 0: the classes are counted from the data, same answer */
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 0, 5, 100), 0);
	assert_selection(sel, count, want, 3);
	free(sel);
	lw_mat_dispose(&P);
}

static void test_prune_select__binary_keeps_the_accurate_members(void **state)
{
	lw_mat P;
	double y[300];
	size_t *sel = NULL, count = 0, want[] = { 1, 2, 6 };
	uint64_t good = (1u << 1) | (1u << 2) | (1u << 6);

	(void)state;
	classification_problem(&P, y, 300, 7, 2, good, 31);
	assert_int_equal(lw__prune_mode_of(&P, y, 1), LW__PRUNE_BINARY);
	assert_int_equal(brute_force(&P, y, 1, 2), good);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 2, 9, LW__PRUNE_MAXGEN), 0);
	assert_selection(sel, count, want, 3);
	free(sel);
	lw_mat_dispose(&P);
}

static void test_prune_select__same_seed_same_selection(void **state)
{
	lw_mat P;
	double y[40];
	size_t *a = NULL, *b = NULL, na = 0, nb = 0;
	lw_rng rng;

	(void)state;
	/* noisy members and few rows: many near-ties, so the search matters */
	lw_rng_seed(&rng, 41);
	assert_int_equal(lw_mat_init(&P, 40, 12), 0);
	for (size_t i = 0; i < 40; i++) {
		y[i] = lw_rng_normal(&rng);
		for (size_t j = 0; j < 12; j++)
			P.data[i * 12 + j] = y[i] + lw_rng_normal(&rng) + 0.1 * (double)j;
	}
	assert_int_equal(lw__prune_select(&a, &na, &P, y, 0, 0, 99, 50), 0);
	assert_int_equal(lw__prune_select(&b, &nb, &P, y, 0, 0, 99, 50), 0);
	assert_true(na >= 2);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(size_t));
	for (size_t i = 1; i < na; i++)
		assert_true(a[i - 1] < a[i]);
	free(a);
	free(b);
	lw_mat_dispose(&P);
}

/* ---- edge cases ----------------------------------------------------- */

static void test_prune_select__one_or_two_members_are_kept(void **state)
{
	double one[] = { 1, 2, 3 }, two[] = { 1, 5, 2, 5, 3, 5 }, y[] = { 1, 2, 3 };
	lw_mat P1 = { 3, 1, one }, P2 = { 3, 2, two };
	size_t *sel = NULL, count = 0, want[] = { 0, 1 };

	(void)state;
	assert_int_equal(lw__prune_select(&sel, &count, &P1, y, 0, 0, 1, 500), 0);
	assert_selection(sel, count, want, 1);
	free(sel);
	/* two members: the only subset of at least two, as in the reference */
	assert_int_equal(lw__prune_select(&sel, &count, &P2, y, 0, 0, 1, 500), 0);
	assert_selection(sel, count, want, 2);
	free(sel);
}

static void test_prune_select__one_row_and_no_generations(void **state)
{
	double data[] = { 0, 1, 2, 2, 5 }, y[] = { 2 };
	lw_mat P = { 1, 5, data };
	size_t *sel = NULL, count = 0, want[] = { 2, 3 };

	(void)state;
	/* one row: the pair of exact members has zero error */
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 0, 0, 4, 100), 0);
	assert_selection(sel, count, want, 2);
	free(sel);
	/* votes {2, 5} also tie to class 2, but their margin is 0: f1 decides */
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 6, 4, 100), 0);
	assert_selection(sel, count, want, 2);
	free(sel);
	/* maxgen 0 keeps the best of the first population */
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 0, 0, 4, 0), 0);
	assert_true(count >= 2 && count <= 5);
	free(sel);
}

static void test_prune_select__rejects_bad_input(void **state)
{
	double data[] = { 0, 1, 2, 1, 0, NAN }, y[] = { 0, 1 }, yf[] = { 0, 0.5 };
	lw_mat P = { 2, 3, data }, E = { 0, 3, data };
	size_t *sel = NULL, count = 7;

	(void)state;
	assert_int_equal(lw__prune_select(&sel, &count, &E, y, 0, 0, 1, 10), LW_EINVALID);
	assert_null(sel);
	assert_int_equal(count, 0);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 0, 0, 1, 10), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "member 2 on row 1"));
	data[5] = 2;
	assert_int_equal(lw__prune_select(&sel, &count, &P, yf, 1, 3, 1, 10), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "label of row 1"));
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 2, 1, 10), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "member 2 on row 0"));
	assert_int_equal(lw__prune_select(NULL, &count, &P, y, 1, 3, 1, 10), LW_EINVALID);
	assert_int_equal(lw__prune_select(&sel, &count, &P, y, 1, 3, 1, 10), 0);
	assert_true(count >= 2);
	free(sel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prune_objectives__regression_mse_and_size),
		cmocka_unit_test(test_prune_objectives__multiclass_margins_by_hand),
		cmocka_unit_test(test_prune_objectives__binary_margins_by_hand),
		cmocka_unit_test(test_prune_objectives__many_classes_count_the_same),
		cmocka_unit_test(test_prune_select__regression_keeps_the_unbiased_members),
		cmocka_unit_test(test_prune_select__regression_finds_four_among_twenty_four),
		cmocka_unit_test(test_prune_select__multiclass_keeps_the_accurate_members),
		cmocka_unit_test(test_prune_select__binary_keeps_the_accurate_members),
		cmocka_unit_test(test_prune_select__same_seed_same_selection),
		cmocka_unit_test(test_prune_select__one_or_two_members_are_kept),
		cmocka_unit_test(test_prune_select__one_row_and_no_generations),
		cmocka_unit_test(test_prune_select__rejects_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
