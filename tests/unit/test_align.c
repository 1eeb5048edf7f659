#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"

/* ---- helpers -------------------------------------------------------- */

/* An RKME of k random points in d columns with random positive weights. */
static lw_rkme *random_rkme(size_t k, size_t d, double scale, uint64_t seed)
{
	lw_mat z;
	double *beta = malloc(k * sizeof(double)), sum = 0;
	lw_rkme *r = NULL;
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&z, k, d), 0);
	for (size_t i = 0; i < k * d; i++)
		z.data[i] = scale * lw_rng_normal(&rng);
	for (size_t i = 0; i < k; i++)
		sum += beta[i] = 0.5 + lw_rng_uniform(&rng);
	for (size_t i = 0; i < k; i++)
		beta[i] /= sum;
	assert_int_equal(lw_rkme_new(&r, &z, beta, 0.1, k), 0);
	lw_mat_dispose(&z);
	free(beta);
	return r;
}

/* The user's RKME with its points pushed through the map. */
static lw_rkme *mapped_rkme(const lw__align *a, const lw_rkme *user)
{
	lw_mat Y;
	lw_rkme *r = NULL;

	assert_int_equal(lw__align_apply(&Y, a, &user->z), 0);
	assert_int_equal(lw_rkme_new(&r, &Y, user->beta, a->gamma, user->num_points), 0);
	lw_mat_dispose(&Y);
	return r;
}

/*
 * n user rows in 3 columns (a mixture of Gaussians) and the learnware's
 * rows, the same points under x -> A x + b into d_lw columns.
 */
static void linear_pair(lw_rkme **user, lw_rkme **learnware, lw_mat *X, size_t n, size_t d_lw)
{
	static const double A[4][3] = {
		{ 0.8, -0.5, 0.3 }, { 0.2, 1.1, -0.4 }, { -0.6, 0.1, 0.9 }, { 0.5, 0.5, 0.5 }
	};
	static const double b[4] = { 1.5, -1.0, 0.5, 2.0 };
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_mat T;

	assert_true(d_lw <= 4);
	lwt_gmm(X, n, 3, 3, 1.5, 17);
	assert_int_equal(lw_mat_init(&T, n, d_lw), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < d_lw; r++) {
			double s = b[r];

			for (size_t c = 0; c < 3; c++)
				s += A[r][c] * X->data[i * 3 + c];
			T.data[i * d_lw + r] = s;
		}
	o.k = 30;
	assert_int_equal(lw_rkme_fit(user, X, &o), 0);
	o.seed = 1;
	assert_int_equal(lw_rkme_fit(learnware, &T, &o), 0);
	lw_mat_dispose(&T);
}

/* ---- loss and gradient ---------------------------------------------- */

static void check_gradient(size_t hidden)
{
	lw_rkme *user = random_rkme(4, 2, 1.5, 1), *lw = random_rkme(5, 3, 1.5, 2), *mapped;
	lw__align *a = NULL;
	double loss, lp, lm, dist, *grad;
	const double h = 1e-6;

	assert_int_equal(lw__align_new(&a, 2, hidden, 3, 3), 0);
	grad = malloc(a->n_params * sizeof(double));
	assert_int_equal(lw__align_loss(&loss, grad, a, user, lw, 0.1), 0);

	/* the loss is MMD^2 between the mapped user RKME and the learnware's */
	mapped = mapped_rkme(a, user);
	assert_int_equal(lw_rkme_dist(&dist, mapped, lw), 0);
	lwt_assert_near(loss, dist, 1e-12);

	for (size_t i = 0; i < a->n_params; i++) {
		double keep = a->theta[i], num;

		a->theta[i] = keep + h;
		assert_int_equal(lw__align_loss(&lp, NULL, a, user, lw, 0.1), 0);
		a->theta[i] = keep - h;
		assert_int_equal(lw__align_loss(&lm, NULL, a, user, lw, 0.1), 0);
		a->theta[i] = keep;
		num = (lp - lm) / (2 * h);
		if (!(fabs(num - grad[i]) <= 1e-7 + 1e-5 * fabs(num)))
			fail_msg("parameter %zu of %zu: analytic %.10g, numeric %.10g", i, a->n_params,
				 grad[i], num);
	}
	free(grad);
	lw__align_free(a);
	lw_rkme_free(mapped);
	lw_rkme_free(user);
	lw_rkme_free(lw);
}

static void test_align_loss__gradient_matches_finite_differences(void **state)
{
	(void)state;
	check_gradient(3);
}

static void test_align_loss__gradient_without_hidden_layer(void **state)
{
	(void)state;
	check_gradient(0);
}

/* ---- fitting -------------------------------------------------------- */

static void test_align_fit__learns_a_linear_map_to_fewer_columns(void **state)
{
	lw_rkme *user, *lw, *mapped;
	lw_mat X;
	lw__align *a = NULL;
	lw__align_options o = LW__ALIGN_OPTIONS_INIT;
	double dist;

	(void)state;
	linear_pair(&user, &lw, &X, 300, 2);
	o.hidden = 32;
	o.epochs = 300;
	o.lr = 1e-2;
	o.seed = 5;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), 0);
	assert_int_equal(a->d_in, 3);
	assert_int_equal(a->d_out, 2);
	if (!(a->loss_final < 0.1 * a->loss_initial))
		fail_msg("MMD^2 %g after fitting, %g before", a->loss_final, a->loss_initial);

	/* loss_final is what an independent computation gives */
	mapped = mapped_rkme(a, user);
	assert_int_equal(lw_rkme_dist(&dist, mapped, lw), 0);
	lwt_assert_near(dist, a->loss_final, 1e-12);

	lw_rkme_free(mapped);
	lw__align_free(a);
	lw_rkme_free(user);
	lw_rkme_free(lw);
	lw_mat_dispose(&X);
}

static void test_align_fit__beats_the_unmapped_features(void **state)
{
	lw_rkme *user, *lw, *mapped;
	lw_mat X, Y;
	lw__align *a = NULL;
	lw__align_options o = LW__ALIGN_OPTIONS_INIT;
	double before, after, data_before, data_after;

	(void)state;
	linear_pair(&user, &lw, &X, 300, 3);
	assert_int_equal(lw_rkme_dist(&before, user, lw), 0);
	o.hidden = 32;
	o.epochs = 300;
	o.lr = 1e-2;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), 0);
	mapped = mapped_rkme(a, user);
	assert_int_equal(lw_rkme_dist(&after, mapped, lw), 0);
	if (!(after < 0.1 * before))
		fail_msg("MMD^2 %g mapped, %g unmapped", after, before);

	/* the map carries over from the RKME's points to the user's rows */
	assert_int_equal(lw__align_apply(&Y, a, &X), 0);
	assert_int_equal(Y.rows, 300);
	assert_int_equal(Y.cols, 3);
	assert_int_equal(lw_rkme_mmd_data(&data_before, lw, &X), 0);
	assert_int_equal(lw_rkme_mmd_data(&data_after, lw, &Y), 0);
	if (!(data_after < 0.2 * data_before))
		fail_msg("MMD^2 to the user's rows %g mapped, %g unmapped", data_after, data_before);

	lw_mat_dispose(&Y);
	lw_rkme_free(mapped);
	lw__align_free(a);
	lw_rkme_free(user);
	lw_rkme_free(lw);
	lw_mat_dispose(&X);
}

static void test_align_fit__defaults_lower_the_loss(void **state)
{
	lw_rkme *user = random_rkme(20, 4, 1.0, 7), *lw = random_rkme(25, 2, 1.0, 8);
	lw__align *a = NULL;

	(void)state;
	assert_int_equal(lw__align_fit(&a, user, lw, NULL), 0);
	assert_int_equal(a->hidden, 1024);
	assert_true(a->loss_final < a->loss_initial);
	lw__align_free(a);
	lw_rkme_free(user);
	lw_rkme_free(lw);
}

static void test_align_fit__same_seed_same_map(void **state)
{
	lw_rkme *user = random_rkme(10, 3, 1.0, 9), *lw = random_rkme(12, 2, 1.0, 10);
	lw__align *a = NULL, *b = NULL, *c = NULL;
	lw__align_options o = LW__ALIGN_OPTIONS_INIT;

	(void)state;
	o.hidden = 16;
	o.epochs = 20;
	o.seed = 42;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), 0);
	assert_int_equal(lw__align_fit(&b, user, lw, &o), 0);
	o.seed = 43;
	assert_int_equal(lw__align_fit(&c, user, lw, &o), 0);
	assert_int_equal(a->n_params, b->n_params);
	assert_memory_equal(a->theta, b->theta, a->n_params * sizeof(double));
	assert_true(memcmp(a->theta, c->theta, a->n_params * sizeof(double)) != 0);
	lw__align_free(a);
	lw__align_free(b);
	lw__align_free(c);
	lw_rkme_free(user);
	lw_rkme_free(lw);
}

/* ---- shapes and bad input ------------------------------------------- */

static void test_align__rejects_bad_shapes_and_options(void **state)
{
	lw_rkme *user = random_rkme(6, 3, 1.0, 11), *lw = random_rkme(6, 2, 1.0, 12);
	lw__align *a = NULL;
	lw__align_options o = LW__ALIGN_OPTIONS_INIT;
	lw_mat X, Y = LW_MAT_INIT;
	double loss;

	(void)state;
	o.hidden = 4;
	o.epochs = 2;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), 0);

	assert_int_equal(lw_mat_init(&X, 5, 2), 0);
	assert_int_equal(lw__align_apply(&Y, a, &X), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "takes 3 columns, the data has 2"));
	assert_null(Y.data);
	lw_mat_dispose(&X);

	/* the map's sides swapped */
	assert_int_equal(lw__align_loss(&loss, NULL, a, lw, user, 0.1), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "user's RKME has 2"));
	assert_int_equal(lw__align_loss(&loss, NULL, a, user, lw, 0), LW_EINVALID);
	lw__align_free(a);

	a = (lw__align *)1;
	o.lr = 0;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), LW_EINVALID);
	assert_null(a);
	o.lr = 1e-3;
	o.version = 99;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), LW_EINVALID);
	o.version = LW__ALIGN_OPTIONS_VERSION;
	o.gamma = -1;
	assert_int_equal(lw__align_fit(&a, user, lw, &o), LW_EINVALID);
	assert_int_equal(lw__align_fit(NULL, user, lw, &o), LW_EINVALID);
	assert_int_equal(lw__align_new(&a, 0, 4, 2, 1), LW_EINVALID);
	lw__align_free(NULL);
	lw_rkme_free(user);
	lw_rkme_free(lw);
}

static void test_align_apply__fills_missing_cells_with_column_means(void **state)
{
	lw__align *a = NULL;
	double xs[] = { 1, 2, NAN, 4, 3, INFINITY }, filled[] = { 1, 2, 2, 4, 3, 3 };
	lw_mat X = { 3, 2, xs }, F = { 3, 2, filled }, Y, Z;
	double cols[] = { NAN, 1, NAN, 2 };
	lw_mat C = { 2, 2, cols };

	(void)state;
	assert_int_equal(lw__align_new(&a, 2, 5, 3, 4), 0);
	assert_int_equal(lw__align_apply(&Y, a, &X), 0);
	assert_int_equal(lw__align_apply(&Z, a, &F), 0);
	assert_memory_equal(Y.data, Z.data, 9 * sizeof(double));
	lw_mat_dispose(&Y);
	assert_int_equal(lw__align_apply(&Y, a, &C), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "column 0"));
	lw_mat_dispose(&Z);

	/* no rows in, no rows out */
	X.rows = 0;
	assert_int_equal(lw__align_apply(&Z, a, &X), 0);
	assert_int_equal(Z.rows, 0);
	assert_int_equal(Z.cols, 3);
	lw_mat_dispose(&Z);
	lw__align_free(a);
}

/* ---- JSON ----------------------------------------------------------- */

static void round_trip(size_t hidden)
{
	lw__align *a = NULL, *b = NULL;
	char *text = NULL;
	lw_mat X, Ya, Yb;

	assert_int_equal(lw__align_new(&a, 3, hidden, 2, 6), 0);
	a->loss_initial = 0.5;
	a->loss_final = 0.01;
	assert_int_equal(lw__align_to_text(&text, a), 0);
	assert_int_equal(lw__align_from_text(&b, text, strlen(text), "map.json"), 0);
	assert_int_equal(b->d_in, 3);
	assert_int_equal(b->hidden, hidden);
	assert_int_equal(b->d_out, 2);
	assert_int_equal(b->n_params, a->n_params);
	assert_memory_equal(a->theta, b->theta, a->n_params * sizeof(double));
	lwt_assert_near(b->gamma, 0.1, 0);
	lwt_assert_near(b->loss_final, 0.01, 0);

	lwt_gmm(&X, 7, 3, 1, 1.0, 8);
	assert_int_equal(lw__align_apply(&Ya, a, &X), 0);
	assert_int_equal(lw__align_apply(&Yb, b, &X), 0);
	assert_memory_equal(Ya.data, Yb.data, 14 * sizeof(double));
	lw_mat_dispose(&X);
	lw_mat_dispose(&Ya);
	lw_mat_dispose(&Yb);
	free(text);
	lw__align_free(a);
	lw__align_free(b);
}

static void test_align_json__round_trips_exactly(void **state)
{
	(void)state;
	round_trip(4);
	round_trip(0);
}

static void expect_bad_json(const char *text, const char *message)
{
	lw__align *a = (lw__align *)1;

	assert_int_equal(lw__align_from_text(&a, text, strlen(text), "map.json"), LW_EINVALID);
	assert_null(a);
	if (!strstr(lw_error_last()->message, message))
		fail_msg("error \"%s\" does not say \"%s\"", lw_error_last()->message, message);
}

static void test_align_json__rejects_malformed_maps(void **state)
{
	(void)state;
	expect_bad_json("[1]", "must be a JSON object");
	expect_bad_json("{\"type\":\"RKME\"}", "\"type\" must be");
	expect_bad_json("{\"type\":\"FeatureAlign\",\"version\":1,\"d_in\":1,\"hidden\":0,"
			"\"d_out\":1,\"layers\":[{\"w\":[[1,2]],\"b\":[0]}]}",
			"map.json: layers[0].w must be 1 rows of 1 finite numbers");
	expect_bad_json("{\"type\":\"FeatureAlign\",\"version\":1,\"d_in\":1,\"hidden\":2,"
			"\"d_out\":1,\"layers\":[{\"w\":[[1],[2]],\"b\":[0,0]}]}",
			"\"layers\" must be an array of 2 layers");
	expect_bad_json("{\"type\":\"FeatureAlign\",\"version\":1,\"d_in\":1,\"hidden\":0,"
			"\"d_out\":1,\"layers\":[{\"w\":[[1]],\"b\":[\"x\"]}]}",
			"layers[0].b must be 1 finite numbers");
	expect_bad_json("{\"type\":\"FeatureAlign\",\"version\":1,\"d_in\":-1}",
			"\"d_in\" must be a non-negative integer");
	expect_bad_json("{\"type\":\"FeatureAlign\",\"version\":1,\"d_in\":0,\"hidden\":0,"
			"\"d_out\":1}", "not possible");
	expect_bad_json("{\"type\":", "map.json: line 1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align_loss__gradient_matches_finite_differences),
		cmocka_unit_test(test_align_loss__gradient_without_hidden_layer),
		cmocka_unit_test(test_align_fit__learns_a_linear_map_to_fewer_columns),
		cmocka_unit_test(test_align_fit__beats_the_unmapped_features),
		cmocka_unit_test(test_align_fit__defaults_lower_the_loss),
		cmocka_unit_test(test_align_fit__same_seed_same_map),
		cmocka_unit_test(test_align__rejects_bad_shapes_and_options),
		cmocka_unit_test(test_align_apply__fills_missing_cells_with_column_means),
		cmocka_unit_test(test_align_json__round_trips_exactly),
		cmocka_unit_test(test_align_json__rejects_malformed_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
