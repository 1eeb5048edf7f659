#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/qp.h"

/* The accuracy the solver promises on kernel matrices (entries <= 1). */
#define KKT_TOL 1e-9

/* K_ij = exp(-gamma |p_i - p_j|^2), computed directly as the fixtures are. */
static double *rbf_direct(const double *P, size_t n, size_t d, double gamma)
{
	double *K = malloc(n * n * sizeof(double));

	assert_non_null(K);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double s = 0;

			for (size_t k = 0; k < d; k++) {
				double t = P[i * d + k] - P[j * d + k];

				s += t * t;
			}
			K[i * n + j] = exp(-gamma * s);
		}
	return K;
}

static double objective(const double *x, const double *K, const double *c, size_t n)
{
	double o = 0;

	for (size_t i = 0; i < n; i++) {
		double kx = 0;

		for (size_t j = 0; j < n; j++)
			kx += K[i * n + j] * x[j];
		o += x[i] * (0.5 * kx - c[i]);
	}
	return o;
}

/* x is on the simplex: non-negative and summing to 1. */
static void assert_feasible(const double *x, size_t n)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++) {
		assert_true(x[i] >= 0);
		sum += x[i];
	}
	lwt_assert_near(sum, 1.0, 1e-12);
}

/* Solve, check feasibility and the residual, return the info. */
static lw_qp_info solve_ok(double *x, const double *K, const double *c, size_t n)
{
	lw_qp_info info;
	int err = lw_qp_simplex(x, K, c, n, &info);

	if (err != 0)
		fail_msg("lw_qp_simplex: %d: %s", err, lw_error_last()->message);
	assert_feasible(x, n);
	assert_true(info.kkt_residual <= KKT_TOL);
	lwt_assert_near(info.kkt_residual, lw_qp_kkt_residual(x, K, c, n), 1e-15);
	lwt_assert_near(info.objective, objective(x, K, c, n), 1e-12);
	return info;
}

static void test_qp_simplex__n1_is_the_vertex(void **state)
{
	double K = 2, c = -7, x = 0;
	lw_qp_info info = { 0 };

	(void)state;
	assert_int_equal(lw_qp_simplex(&x, &K, &c, 1, &info), 0);
	assert_true(x == 1.0);
	lwt_assert_near(info.objective, 8.0, 0);
	assert_true(info.kkt_residual == 0);
}

static void test_qp_simplex__identity_k_projects_c(void **state)
{
	/* 1/2|x|^2 - c'x = 1/2|x - c|^2 + const: the projection of c. */
	const double K[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
	const double c[3] = { 0.5, 0.2, -1.0 };
	double x[3];
	lw_rng r;

	(void)state;
	solve_ok(x, K, c, 3);
	lwt_assert_near(x[0], 0.65, 1e-15);
	lwt_assert_near(x[1], 0.35, 1e-15);
	assert_true(x[2] == 0);

	lw_rng_seed(&r, 11);
	for (int t = 0; t < 50; t++) {
		size_t n = 1 + (size_t)lw_rng_below(&r, 40);
		double *I = calloc(n * n, sizeof(double)), *v = malloc(n * sizeof(double));
		double *p = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));

		for (size_t i = 0; i < n; i++) {
			I[i * n + i] = 1;
			v[i] = p[i] = 3 * lw_rng_normal(&r);
		}
		lw_qp_project_simplex(p, n);
		solve_ok(y, I, v, n);
		for (size_t i = 0; i < n; i++)
			lwt_assert_near(y[i], p[i], 1e-12);
		free(I);
		free(v);
		free(p);
		free(y);
	}
}

static void test_qp_simplex__2x2_matches_closed_form(void **state)
{
	/* x = (t, 1-t): t = (d - b + c1 - c2) / (a - 2b + d), clipped to [0, 1]. */
	const double K[4] = { 2.0, 0.5, 0.5, 1.0 };
	double c[2] = { 0.3, 0.1 }, x[2];

	(void)state;
	solve_ok(x, K, c, 2);
	lwt_assert_near(x[0], 0.35, 1e-15);
	lwt_assert_near(x[1], 0.65, 1e-15);

	c[1] = 1.5; /* t = -0.7 / 2 < 0: the vertex e_2 */
	solve_ok(x, K, c, 2);
	assert_true(x[0] == 0 && x[1] == 1);
}

static void test_qp_simplex__vertex_solution_is_exact(void **state)
{
	/* g = Kx - c = (-1, 0.2, 0.1) at e_1: every other multiplier is > 0. */
	const double K[9] = { 1, 0.2, 0.1, 0.2, 1, 0.3, 0.1, 0.3, 1 };
	const double c[3] = { 2, 0, 0 };
	double x[3];
	lw_qp_info info;

	(void)state;
	info = solve_ok(x, K, c, 3);
	assert_true(x[0] == 1 && x[1] == 0 && x[2] == 0);
	assert_true(info.kkt_residual == 0);
	lwt_assert_near(info.objective, -1.5, 1e-15);
}

static void test_qp_simplex__zero_or_rank_one_k_is_a_linear_program(void **state)
{
	/* K = 0 or 11' leaves a linear objective on the simplex: argmax c. */
	enum { N = 6 };
	const double c[N] = { 0.1, -2, 0.7, 0.69, 0.3, 0.7 - 1e-12 };
	double K[N * N], x[N];

	(void)state;
	for (int ones = 0; ones < 2; ones++) {
		for (int i = 0; i < N * N; i++)
			K[i] = ones;
		solve_ok(x, K, c, N);
		for (int i = 0; i < N; i++)
			assert_true(x[i] == (i == 2));
	}
}

/* Points with exact copies: K has repeated rows, so it is singular. */
static void test_qp_simplex__duplicate_rows_match_merged_problem(void **state)
{
	enum { U = 12, D = 3 };
	/* Point i of the big problem copies unique point map[i]. */
	static const size_t map[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
				      3, 3, 7, 0, 11, 3, 5, 5 };
	const size_t n = sizeof(map) / sizeof(map[0]);
	double Pu[U * D], P[sizeof(map) / sizeof(map[0]) * D], cu[U], c[sizeof(map) / sizeof(map[0])];
	double xu[U], x[sizeof(map) / sizeof(map[0])], merged[U] = { 0 };
	double *Ku, *K;
	lw_qp_info iu, info;
	lw_rng r;

	(void)state;
	lw_rng_seed(&r, 12);
	for (int i = 0; i < U * D; i++)
		Pu[i] = 1.5 * lw_rng_normal(&r);
	for (int i = 0; i < U; i++)
		cu[i] = 0.2 + 0.5 * lw_rng_uniform(&r);
	for (size_t i = 0; i < n; i++) {
		memcpy(P + i * D, Pu + map[i] * D, D * sizeof(double));
		c[i] = cu[map[i]];
	}
	Ku = rbf_direct(Pu, U, D, 0.3);
	K = rbf_direct(P, n, D, 0.3);
	iu = solve_ok(xu, Ku, cu, U);
	info = solve_ok(x, K, c, n);
	/* Copies share weight arbitrarily; their totals are the merged answer. */
	lwt_assert_near(info.objective, iu.objective, 1e-13);
	for (size_t i = 0; i < n; i++)
		merged[map[i]] += x[i];
	for (int i = 0; i < U; i++)
		lwt_assert_near(merged[i], xu[i], 1e-8);
	free(Ku);
	free(K);
}

/* Many small random problems with near and exact duplicate points. */
static void test_qp_simplex__random_near_duplicates_reach_tolerance(void **state)
{
	lw_rng r;

	(void)state;
	lw_rng_seed(&r, 13);
	for (int t = 0; t < 300; t++) {
		size_t n = 2 + (size_t)lw_rng_below(&r, 60), d = 1 + (size_t)lw_rng_below(&r, 5);
		double *P = malloc(n * d * sizeof(double)), *c = malloc(n * sizeof(double));
		double *x = malloc(n * sizeof(double)), gamma = pow(10, -2 + 2 * lw_rng_uniform(&r));
		double *K;

		for (size_t i = 0; i < n * d; i++)
			P[i] = 2 * lw_rng_normal(&r);
		for (size_t k = 0; k < n / 3; k++) {
			size_t a = (size_t)lw_rng_below(&r, n), b = (size_t)lw_rng_below(&r, n);
			double jitter = lw_rng_below(&r, 4) ? pow(10, -2.0 - lw_rng_below(&r, 10)) : 0;

			for (size_t q = 0; q < d; q++)
				P[b * d + q] = P[a * d + q] + jitter * lw_rng_normal(&r);
		}
		K = rbf_direct(P, n, d, gamma);
		for (size_t i = 0; i < n; i++) /* a kernel mean to a few points */
			c[i] = (K[i * n + lw_rng_below(&r, n)] + K[i * n + lw_rng_below(&r, n)]) / 2;
		solve_ok(x, K, c, n);
		free(P);
		free(c);
		free(x);
		free(K);
	}
}

static void test_qp_simplex__tolerance_scales_with_k_and_c(void **state)
{
	const double K0[4] = { 2.0, 0.5, 0.5, 1.0 }, c0[2] = { 0.3, 0.1 };
	double K[4], c[2], x[2];
	lw_qp_info info;

	(void)state;
	for (int i = 0; i < 4; i++)
		K[i] = 1e6 * K0[i];
	for (int i = 0; i < 2; i++)
		c[i] = 1e6 * c0[i];
	assert_int_equal(lw_qp_simplex(x, K, c, 2, &info), 0);
	assert_true(info.kkt_residual <= 1e-9 * 2e6);
	lwt_assert_near(x[0], 0.35, 1e-12);
}

static void test_qp_simplex__rejects_invalid_input(void **state)
{
	double K[9] = { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, c[3] = { 0, 0, 0 }, x[3];

	(void)state;
	assert_int_equal(lw_qp_simplex(x, K, c, 0, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "size 0"));
	assert_int_equal(lw_qp_simplex(NULL, K, c, 3, NULL), LW_EINVALID);
	assert_int_equal(lw_error_last()->klass, LW_ERRCLASS_INVALID);

	K[5] = NAN;
	assert_int_equal(lw_qp_simplex(x, K, c, 3, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "K[1][2]"));
	K[5] = 0;
	c[2] = -INFINITY;
	assert_int_equal(lw_qp_simplex(x, K, c, 3, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "c[2]"));
	c[2] = 0;

	K[1] = 0.5; /* K[0][1] != K[1][0] */
	assert_int_equal(lw_qp_simplex(x, K, c, 3, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "not symmetric"));
	K[1] = 0;
	K[4] = -1;
	assert_int_equal(lw_qp_simplex(x, K, c, 3, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "K[1][1]"));
}

static void test_qp_project_simplex__properties(void **state)
{
	double v[3] = { 0.5, 0.2, -1.0 }, one = -5;
	lw_rng r;

	(void)state;
	lw_qp_project_simplex(v, 3);
	lwt_assert_near(v[0], 0.65, 1e-15);
	lwt_assert_near(v[1], 0.35, 1e-15);
	assert_true(v[2] == 0);
	lw_qp_project_simplex(&one, 1);
	assert_true(one == 1);
	lw_qp_project_simplex(NULL, 0); /* no-op, no crash */

	lw_rng_seed(&r, 14);
	for (int t = 0; t < 200; t++) {
		size_t n = 1 + (size_t)lw_rng_below(&r, 50);
		double *p = malloc(n * sizeof(double)), *q = malloc(n * sizeof(double));
		double *v0 = malloc(n * sizeof(double)), shift = 10 * lw_rng_normal(&r);

		for (size_t i = 0; i < n; i++)
			v0[i] = p[i] = 2 * lw_rng_normal(&r);
		lw_qp_project_simplex(p, n);
		assert_feasible(p, n);
		/* Idempotent, and blind to a constant shift of the input. */
		memcpy(q, p, n * sizeof(double));
		lw_qp_project_simplex(q, n);
		for (size_t i = 0; i < n; i++)
			lwt_assert_near(q[i], p[i], 1e-15);
		for (size_t i = 0; i < n; i++)
			q[i] = v0[i] + shift;
		lw_qp_project_simplex(q, n);
		for (size_t i = 0; i < n; i++)
			lwt_assert_near(q[i], p[i], 1e-13);
		/* Optimality: (v - p)'(e_k - p) <= 0 for every vertex e_k. */
		for (size_t k = 0; k < n; k++) {
			double ip = 0;

			for (size_t i = 0; i < n; i++)
				ip += (v0[i] - p[i]) * ((i == k) - p[i]);
			assert_true(ip <= 1e-12);
		}
		free(p);
		free(q);
		free(v0);
	}
}

static void test_qp_kkt_residual__zero_only_at_the_optimum(void **state)
{
	const double K[4] = { 2.0, 0.5, 0.5, 1.0 }, c[2] = { 0.3, 0.1 };
	double x[2] = { 0.35, 0.65 };

	(void)state;
	assert_true(lw_qp_kkt_residual(x, K, c, 2) <= 1e-15);
	x[0] = 0.4;
	x[1] = 0.6;
	/* x - P(x - g) with g = (0.8, 0.7): P(-0.4, -0.1) = (0.35, 0.65). */
	lwt_assert_near(lw_qp_kkt_residual(x, K, c, 2), 0.05, 1e-15);
	assert_true(isnan(lw_qp_kkt_residual(NULL, K, c, 2)));
}

/* A fixture of scripts/fixtures/qp_cvxopt.py, with K rebuilt. */
typedef struct {
	size_t n, d;
	double gamma, objective;
	int x_unique;
	double *P, *c, *x;
} fixture;

static double *json_vector(json_t *a, size_t n)
{
	double *v = malloc(n * sizeof(double));

	assert_non_null(v);
	assert_true(json_is_array(a) && json_array_size(a) == n);
	for (size_t i = 0; i < n; i++)
		v[i] = json_number_value(json_array_get(a, i));
	return v;
}

static void load_fixture(fixture *f, const char *name)
{
	const char *dir = getenv("LW_TEST_DATA");
	char path[4096];
	json_error_t jerr;
	json_t *doc, *pts;

	if (!dir || !*dir)
		fail_msg("LW_TEST_DATA is not set (ctest sets it to tests/data)");
	snprintf(path, sizeof(path), "%s/qp/%s.json", dir, name);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		fail_msg("%s: %s", path, jerr.text);
	pts = json_object_get(doc, "points");
	f->n = json_array_size(pts);
	f->d = json_array_size(json_array_get(pts, 0));
	assert_true(f->n > 0 && f->d > 0);
	f->P = malloc(f->n * f->d * sizeof(double));
	assert_non_null(f->P);
	for (size_t i = 0; i < f->n; i++) {
		json_t *row = json_array_get(pts, i);

		assert_int_equal(json_array_size(row), f->d);
		for (size_t k = 0; k < f->d; k++)
			f->P[i * f->d + k] = json_number_value(json_array_get(row, k));
	}
	f->gamma = json_number_value(json_object_get(doc, "gamma"));
	f->objective = json_number_value(json_object_get(doc, "objective"));
	f->x_unique = json_is_true(json_object_get(doc, "x_unique"));
	f->c = json_vector(json_object_get(doc, "c"), f->n);
	f->x = json_vector(json_object_get(doc, "x"), f->n);
	json_decref(doc);
}

static void check_fixture(const char *name)
{
	fixture f;
	double *K, *x;
	lw_qp_info info;

	load_fixture(&f, name);
	K = rbf_direct(f.P, f.n, f.d, f.gamma);
	x = malloc(f.n * sizeof(double));
	assert_non_null(x);
	info = solve_ok(x, K, f.c, f.n);
	/* cvxopt stops near 1e-9..1e-8 in KKT terms; we must not be worse. */
	assert_true(info.objective <= f.objective + 1e-10);
	lwt_assert_near(info.objective, f.objective, 1e-8 * fmax(1, fabs(f.objective)));
	if (f.x_unique)
		for (size_t i = 0; i < f.n; i++)
			lwt_assert_near(x[i], f.x[i], 1e-5);
	free(K);
	free(x);
	free(f.P);
	free(f.c);
	free(f.x);
}

static void test_qp_cvxopt__small(void **state)
{
	(void)state;
	check_fixture("n5_separated");
	check_fixture("n50_rkme");
	check_fixture("n50_neardup");
}

static void test_qp_cvxopt__n100(void **state)
{
	(void)state;
	check_fixture("n100_rkme");
	check_fixture("n100_random_c");
}

static void test_qp_cvxopt__n300_near_duplicates(void **state)
{
	(void)state;
	check_fixture("n300_neardup");
}

static void test_qp_cvxopt__n1000(void **state)
{
	(void)state;
	check_fixture("n1000_rkme");
	check_fixture("n1000_neardup");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qp_simplex__n1_is_the_vertex),
		cmocka_unit_test(test_qp_simplex__identity_k_projects_c),
		cmocka_unit_test(test_qp_simplex__2x2_matches_closed_form),
		cmocka_unit_test(test_qp_simplex__vertex_solution_is_exact),
		cmocka_unit_test(test_qp_simplex__zero_or_rank_one_k_is_a_linear_program),
		cmocka_unit_test(test_qp_simplex__duplicate_rows_match_merged_problem),
		cmocka_unit_test(test_qp_simplex__random_near_duplicates_reach_tolerance),
		cmocka_unit_test(test_qp_simplex__tolerance_scales_with_k_and_c),
		cmocka_unit_test(test_qp_simplex__rejects_invalid_input),
		cmocka_unit_test(test_qp_project_simplex__properties),
		cmocka_unit_test(test_qp_kkt_residual__zero_only_at_the_optimum),
		cmocka_unit_test(test_qp_cvxopt__small),
		cmocka_unit_test(test_qp_cvxopt__n100),
		cmocka_unit_test(test_qp_cvxopt__n300_near_duplicates),
		cmocka_unit_test(test_qp_cvxopt__n1000),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
