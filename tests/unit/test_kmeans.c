#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/kmeans.h"

static double inertia(const lw_mat *X, const lw_mat *C, const size_t *assign)
{
	double s = 0;

	for (size_t i = 0; i < X->rows; i++)
		for (size_t j = 0; j < X->cols; j++) {
			double t = lw_mat_row(X, i)[j] - lw_mat_row(C, assign[i])[j];
			s += t * t;
		}
	return s;
}

static void test_kmeans_separated_blobs__finds_every_blob(void **state)
{
	lw_mat X, C;
	size_t assign[600];
	int hit[3] = { 0 };

	(void)state;
	/* Three far-apart blobs at 0, 100, 200 on the first axis. */
	lwt_gmm(&X, 600, 2, 1, 0.0, 1);
	for (size_t i = 0; i < 600; i++)
		lw_mat_row(&X, i)[0] += 100.0 * (double)(i % 3);
	assert_int_equal(lw_kmeans(&C, assign, &X, 3, NULL), 0);
	for (size_t c = 0; c < 3; c++) {
		double x = lw_mat_row(&C, c)[0];
		int blob = (int)lround(x / 100.0);

		assert_in_range(blob, 0, 2);
		lwt_assert_near(x, 100.0 * blob, 0.5);
		hit[blob] = 1;
	}
	assert_true(hit[0] && hit[1] && hit[2]);
	for (size_t i = 0; i < 600; i++)
		lwt_assert_near(lw_mat_row(&C, assign[i])[0], 100.0 * (double)(i % 3), 0.5);
	lw_mat_dispose(&X);
	lw_mat_dispose(&C);
}

static void test_kmeans_same_seed__is_reproducible(void **state)
{
	lw_mat X, A, B;
	lw_kmeans_options o = LW_KMEANS_OPTIONS_INIT;

	(void)state;
	lwt_gmm(&X, 2000, 5, 5, 3.0, 2);
	o.seed = 7;
	assert_int_equal(lw_kmeans(&A, NULL, &X, 20, &o), 0);
	assert_int_equal(lw_kmeans(&B, NULL, &X, 20, &o), 0);
	assert_memory_equal(A.data, B.data, 20 * 5 * sizeof(double));
	lw_mat_dispose(&X);
	lw_mat_dispose(&A);
	lw_mat_dispose(&B);
}

static void test_kmeans_many_clusters__leaves_none_empty(void **state)
{
	lw_mat X, C;
	size_t *assign = malloc(5000 * sizeof(size_t));
	size_t counts[100] = { 0 };

	(void)state;
	lwt_gmm(&X, 5000, 10, 5, 3.0, 3);
	assert_int_equal(lw_kmeans(&C, assign, &X, 100, NULL), 0);
	for (size_t i = 0; i < 5000; i++)
		counts[assign[i]]++;
	for (size_t c = 0; c < 100; c++)
		assert_true(counts[c] > 0);
	free(assign);
	lw_mat_dispose(&X);
	lw_mat_dispose(&C);
}

static void test_kmeans_lloyd__lowers_inertia_below_plain_seeding(void **state)
{
	lw_mat X, C, C0;
	lw_kmeans_options o = LW_KMEANS_OPTIONS_INIT;
	size_t *a = malloc(3000 * sizeof(size_t)), *a0 = malloc(3000 * sizeof(size_t));

	(void)state;
	lwt_gmm(&X, 3000, 6, 4, 2.0, 4);
	o.max_iter = 0; /* k-means++ seeding only */
	assert_int_equal(lw_kmeans(&C0, a0, &X, 30, &o), 0);
	assert_int_equal(lw_kmeans(&C, a, &X, 30, NULL), 0);
	assert_true(inertia(&X, &C, a) < inertia(&X, &C0, a0));
	free(a);
	free(a0);
	lw_mat_dispose(&X);
	lw_mat_dispose(&C);
	lw_mat_dispose(&C0);
}

static void test_kmeans_duplicate_rows__still_returns_k_centres(void **state)
{
	lw_mat X, C;
	size_t assign[50];

	(void)state;
	assert_int_equal(lw_mat_init(&X, 50, 3), 0); /* every row is the origin */
	assert_int_equal(lw_kmeans(&C, assign, &X, 10, NULL), 0);
	assert_int_equal(C.rows, 10);
	for (size_t i = 0; i < 30; i++)
		assert_true(C.data[i] == 0.0);
	lw_mat_dispose(&X);
	lw_mat_dispose(&C);
}

static void test_kmeans_k_above_rows__is_rejected(void **state)
{
	lw_mat X, C;

	(void)state;
	lwt_gmm(&X, 5, 2, 1, 1.0, 5);
	assert_int_equal(lw_kmeans(&C, NULL, &X, 6, NULL), LW_EINVALID);
	assert_int_equal(lw_kmeans(&C, NULL, &X, 0, NULL), LW_EINVALID);
	lw_mat_dispose(&X);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmeans_separated_blobs__finds_every_blob),
		cmocka_unit_test(test_kmeans_same_seed__is_reproducible),
		cmocka_unit_test(test_kmeans_many_clusters__leaves_none_empty),
		cmocka_unit_test(test_kmeans_lloyd__lowers_inertia_below_plain_seeding),
		cmocka_unit_test(test_kmeans_duplicate_rows__still_returns_k_centres),
		cmocka_unit_test(test_kmeans_k_above_rows__is_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
