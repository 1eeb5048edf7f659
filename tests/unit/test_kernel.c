#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fastmath.h"
#include "lw/kernel.h"

static double naive_k(const double *x, const double *y, size_t d, double gamma)
{
	double s = 0;

	for (size_t j = 0; j < d; j++)
		s += (x[j] - y[j]) * (x[j] - y[j]);
	return exp(-gamma * s);
}

static void test_kernel_rbf__matches_direct_formula(void **state)
{
	lw_mat X, Y;
	double *K = malloc(37 * 23 * sizeof(double));

	(void)state;
	lwt_gmm(&X, 37, 7, 3, 2.0, 1);
	lwt_gmm(&Y, 23, 7, 3, 2.0, 2);
	assert_int_equal(lw_kernel_rbf(K, &X, &Y, 0.1), 0);
	for (size_t i = 0; i < 37; i++)
		for (size_t j = 0; j < 23; j++)
			lwt_assert_near(K[i * 23 + j], naive_k(lw_mat_row(&X, i), lw_mat_row(&Y, j), 7, 0.1),
					1e-12);
	free(K);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
}

static void test_kernel_rbf__identical_rows_give_one_and_never_above(void **state)
{
	lw_mat X;
	double K[9];

	(void)state;
	lwt_gmm(&X, 3, 50, 1, 100.0, 3); /* large norms: cancellation would show */
	assert_int_equal(lw_kernel_rbf(K, &X, &X, 0.5), 0);
	for (int i = 0; i < 3; i++) {
		/* |x|^2 is ~5e5 here: cancellation may lose ~1e-10 of the 1, no more. */
		lwt_assert_near(K[i * 3 + i], 1.0, 1e-9);
		for (int j = 0; j < 3; j++)
			assert_true(K[i * 3 + j] <= 1.0);
	}
	lw_mat_dispose(&X);
}

static void test_kernel_rbf__rejects_mismatched_dimensions(void **state)
{
	lw_mat X, Y;
	double K[4];

	(void)state;
	lwt_gmm(&X, 2, 3, 1, 1.0, 4);
	lwt_gmm(&Y, 2, 4, 1, 1.0, 5);
	assert_int_equal(lw_kernel_rbf(K, &X, &Y, 0.1), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "3-column and 4-column"));
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
}

static void test_kernel_mean_self__matches_double_sum_across_blocks(void **state)
{
	lw_mat X;
	double got, want = 0;
	const size_t n = 2500; /* more than one block of rows */

	(void)state;
	lwt_gmm(&X, n, 4, 2, 1.5, 6);
	assert_int_equal(lw_kernel_mean_self(&got, &X, 0.2), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			want += naive_k(lw_mat_row(&X, i), lw_mat_row(&X, j), 4, 0.2);
	want /= (double)n * n;
	lwt_assert_near(got, want, 1e-12);
	lw_mat_dispose(&X);
}

static void test_kernel_fast_exp__matches_libm_to_a_few_ulp(void **state)
{
	const size_t n = 200001;
	double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));

	(void)state;
	for (size_t i = 0; i < n; i++)
		x[i] = -750.0 * (double)i / (double)(n - 1);
	lw__exp_nonpos(y, x, n);
	for (size_t i = 0; i < n; i++) {
		double want = exp(x[i]);

		if (x[i] < -708.0)
			assert_true(y[i] == 0.0 && want < 1e-307);
		else if (fabs(y[i] - want) > 5e-16 * want)
			fail_msg("exp(%.17g) = %.17g, libm %.17g", x[i], y[i], want);
	}
	lw__exp_nonpos(y, (const double[]){ 0.0, -0.0 }, 2);
	assert_true(y[0] == 1.0 && y[1] == 1.0);
	free(x);
	free(y);
}

static void test_kernel_fast_sincos__matches_libm(void **state)
{
	const size_t n = 400001;
	double *x = malloc(n * sizeof(double)), *s = malloc(n * sizeof(double)),
	       *c = malloc(n * sizeof(double));

	(void)state;
	for (size_t i = 0; i < n; i++)
		x[i] = -2000.0 + 4000.0 * (double)i / (double)(n - 1);
	x[0] = 1e12; /* beyond the fast range: libm takes over */
	x[1] = 0.0;
	x[2] = -0.0;
	lw__sincos(s, c, x, n);
	for (size_t i = 0; i < n; i++) {
		if (fabs(s[i] - sin(x[i])) > 4e-16 || fabs(c[i] - cos(x[i])) > 4e-16)
			fail_msg("sincos(%.17g) = %.17g, %.17g; libm %.17g, %.17g", x[i], s[i], c[i],
				 sin(x[i]), cos(x[i]));
	}
	free(x);
	free(s);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_rbf__matches_direct_formula),
		cmocka_unit_test(test_kernel_rbf__identical_rows_give_one_and_never_above),
		cmocka_unit_test(test_kernel_rbf__rejects_mismatched_dimensions),
		cmocka_unit_test(test_kernel_mean_self__matches_double_sum_across_blocks),
		cmocka_unit_test(test_kernel_fast_exp__matches_libm_to_a_few_ulp),
		cmocka_unit_test(test_kernel_fast_sincos__matches_libm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
