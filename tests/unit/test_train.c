/*
 * Training the built-in kinds on real data (shared/data boston.csv and
 * letter.csv), against quality bounds and closed-form answers, plus the
 * target readers, label encoding and the errors bad inputs give.
 */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/train.h"
#include "train.h"

/*
 * Bounds on real data, measured with the defaults (seed 0, a fifth held out):
 * linear boston RMSE 4.89 held out; logistic A-E 0.951 and A/B 0.997
 * accuracy; mlp boston RMSE 3.89, mlp A-E (60 epochs) 0.995.  The bounds
 * leave room for rounding differences between BLAS builds.
 */
#define LINEAR_BOSTON_RMSE 5.3
#define LOGISTIC_AE_ACCURACY 0.93
#define LOGISTIC_AB_ACCURACY 0.98
#define MLP_BOSTON_RMSE 4.4
#define MLP_AE_ACCURACY 0.98

typedef struct {
	lw_mat X;
	double *y;
	char **names;
	char **classes;
	size_t n_classes;
} table;

static void table_dispose(table *t)
{
	lw_mat_dispose(&t->X);
	free(t->y);
	lw_data_free_names(t->names);
	free(t->classes);
}

static void read_boston(table *t)
{
	memset(t, 0, sizeof(*t));
	if (lw_data_read_xy(&t->X, &t->names, &t->y, lwt_shared_path("data/boston.csv"), "target",
			    NULL) != 0)
		fail_msg("%s", lw_error_last()->message);
}

/* The rows of letter.csv whose label is one of `letters`, classes in that order. */
static void read_letters(table *t, const char *letters)
{
	char **labels;
	double *y;
	size_t k = 0;

	memset(t, 0, sizeof(*t));
	if (lw_data_read_target(&t->X, &t->names, &labels, lwt_shared_path("data/letter.csv"),
				"label", NULL) != 0)
		fail_msg("%s", lw_error_last()->message);
	assert_int_equal(lw_train_encode_labels(&y, &t->classes, &t->n_classes,
						(const char *const *)labels, t->X.rows), 0);
	assert_int_equal(t->n_classes, 26);
	t->y = malloc(t->X.rows * sizeof(double));
	for (size_t i = 0; i < t->X.rows; i++) {
		const char *at = strchr(letters, labels[i][0]);

		if (!at)
			continue;
		memmove(lw_mat_row(&t->X, k), lw_mat_row(&t->X, i), t->X.cols * sizeof(double));
		t->y[k++] = (double)(at - letters);
	}
	t->X.rows = k;
	t->n_classes = strlen(letters);
	free(y);
	lw_data_free_names(labels);
}

static lw_model *train_ok(lw_train_report *r, const table *t, const lw_train_options *o)
{
	lw_model *m = NULL;

	if (lw_train(&m, r, &t->X, t->y, o) != 0)
		fail_msg("%s", lw_error_last()->message);
	return m;
}

static void opts(lw_train_options *o, lw_model_kind kind, lw_task task)
{
	assert_int_equal(lw_train_options_init(o, LW_TRAIN_OPTIONS_VERSION), 0);
	o->kind = kind;
	o->task = task;
}

/* --- linear ------------------------------------------------------------- */

static void test_train_linear_boston__heldout_rmse_below_bound(void **state)
{
	lw_train_options o;
	lw_train_report r;
	table t;
	lw_model *m;

	(void)state;
	read_boston(&t);
	assert_int_equal(t.X.rows, 506);
	assert_int_equal(t.X.cols, 13);
	assert_string_equal(t.names[12], "lstat");
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	o.feature_names = (const char *const *)t.names;
	m = train_ok(&r, &t, &o);
	print_message("linear boston: RMSE %.4f train, %.4f held out\n", r.train_metric,
		      r.holdout_metric);
	assert_int_equal(r.train_rows, 405);
	assert_int_equal(r.holdout_rows, 101);
	assert_string_equal(r.metric, "rmse");
	assert_true(r.holdout_metric < LINEAR_BOSTON_RMSE);
	assert_true(r.train_metric < r.holdout_metric);
	assert_string_equal(lw_model_feature_names(m)[0], "crim");
	lw_model_free(m);
	table_dispose(&t);
}

/* Raw-unit coefficients (d) and intercept of a linear model. */
static void raw_coefficients(double *w, double *b0, const lw_model *m)
{
	const lw__builtin *b = lw__builtin_of(m);

	assert_non_null(b);
	*b0 = b->layers[0].b[0];
	for (size_t j = 0; j < b->d; j++) {
		w[j] = b->layers[0].w[j] / b->x_scale[j];
		*b0 -= w[j] * b->x_mean[j];
	}
}

static void test_train_linear_coefficients__match_a_closed_form_solve(void **state)
{
	lw_train_options o;
	table t;
	lw_model *m;
	double A[506 * 14], y[506], w[13], b0;

	(void)state;
	read_boston(&t);
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	o.alpha = 0;
	o.holdout = 0;
	m = train_ok(NULL, &t, &o);
	raw_coefficients(w, &b0, m);
	/* Least squares on the raw columns plus a constant, by Householder QR. */
	for (size_t i = 0; i < 506; i++) {
		memcpy(A + i * 14, lw_mat_row(&t.X, i), 13 * sizeof(double));
		A[i * 14 + 13] = 1;
		y[i] = t.y[i];
	}
	assert_int_equal(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', 506, 14, 1, A, 14, y, 1), 0);
	for (size_t j = 0; j < 13; j++)
		lwt_assert_near(w[j], y[j], 1e-8 * (1 + fabs(y[j])));
	lwt_assert_near(b0, y[13], 1e-8 * (1 + fabs(y[13])));
	lw_model_free(m);
	table_dispose(&t);
}

static void test_train_linear_ridge__solves_its_normal_equations(void **state)
{
	lw_train_options o;
	table t;
	lw_model *m;
	const lw__builtin *b;
	double ym = 0;

	(void)state;
	read_boston(&t);
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	o.alpha = 50;
	o.holdout = 0;
	m = train_ok(NULL, &t, &o);
	b = lw__builtin_of(m);
	for (size_t i = 0; i < 506; i++)
		ym += t.y[i] / 506;
	lwt_assert_near(b->layers[0].b[0], ym, 1e-9);
	/* Gradient of |Zw - (y - ym)|^2 + alpha |w|^2 vanishes. */
	for (size_t j = 0; j < 13; j++) {
		double g = o.alpha * b->layers[0].w[j];

		for (size_t i = 0; i < 506; i++) {
			const double *x = lw_mat_row(&t.X, i);
			double r = -(t.y[i] - ym);

			for (size_t c = 0; c < 13; c++)
				r += b->layers[0].w[c] * (x[c] - b->x_mean[c]) / b->x_scale[c];
			g += r * (x[j] - b->x_mean[j]) / b->x_scale[j];
		}
		lwt_assert_near(g, 0, 1e-8);
	}
	lw_model_free(m);
	table_dispose(&t);
}

static void test_train_linear_missing_features__are_imputed(void **state)
{
	lw_train_options o;
	table t;
	lw_model *m;
	lw_mat P;

	(void)state;
	read_boston(&t);
	for (size_t i = 0; i < t.X.rows; i += 7)
		lw_mat_row(&t.X, i)[i % 13] = NAN;
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	m = train_ok(NULL, &t, &o);
	assert_int_equal(lw_model_predict(&P, m, &t.X), 0);
	for (size_t i = 0; i < P.rows; i++)
		assert_true(isfinite(P.data[i]));
	lw_mat_dispose(&P);
	lw_model_free(m);
	table_dispose(&t);
}

/* --- logistic -------------------------------------------------------- */

static void test_train_logistic_letters__accuracy_above_bound(void **state)
{
	lw_train_options o;
	lw_train_report r;
	table t;
	lw_model *m;

	(void)state;
	read_letters(&t, "ABCDE");
	opts(&o, LW_MODEL_LOGISTIC, LW_TASK_CLASSIFICATION);
	o.classes = (const char *const *)t.classes;
	m = train_ok(&r, &t, &o);
	print_message("logistic A-E (%zu rows): accuracy %.4f train, %.4f held out, %u iterations\n",
		      t.X.rows, r.train_metric, r.holdout_metric, r.iterations);
	assert_true(r.holdout_metric > LOGISTIC_AE_ACCURACY);
	assert_string_equal(r.metric, "accuracy");
	assert_int_equal(lw_model_output_dim(m), 5);
	assert_string_equal(lw_model_classes(m)[4], "E");
	lw_model_free(m);
	table_dispose(&t);

	read_letters(&t, "AB");
	o.classes = (const char *const *)t.classes;
	m = train_ok(&r, &t, &o);
	print_message("logistic A/B: accuracy %.4f held out\n", r.holdout_metric);
	assert_true(r.holdout_metric > LOGISTIC_AB_ACCURACY);
	assert_int_equal(lw_model_output_dim(m), 2);
	lw_model_free(m);
	table_dispose(&t);
}

/* |gradient| of the penalised mean log-loss at the fitted weights. */
static double logistic_gradient_norm(const lw_model *m, const table *t, double l2)
{
	const lw__builtin *b = lw__builtin_of(m);
	size_t k = b->k, d = b->d, n = t->X.rows;
	double *g = calloc(k * (d + 1), sizeof(double)), *z = malloc(d * sizeof(double)), p[26];
	double worst = 0;

	for (size_t i = 0; i < n; i++) {
		double mx = -INFINITY, s = 0;

		for (size_t j = 0; j < d; j++)
			z[j] = (lw_mat_row(&t->X, i)[j] - b->x_mean[j]) / b->x_scale[j];
		for (size_t c = 0; c < k; c++) {
			p[c] = b->layers[0].b[c];
			for (size_t j = 0; j < d; j++)
				p[c] += b->layers[0].w[c * d + j] * z[j];
			mx = p[c] > mx ? p[c] : mx;
		}
		for (size_t c = 0; c < k; c++)
			s += (p[c] = exp(p[c] - mx));
		for (size_t c = 0; c < k; c++) {
			double r = (p[c] / s - (c == (size_t)t->y[i])) / (double)n;

			for (size_t j = 0; j < d; j++)
				g[c * d + j] += r * z[j];
			g[k * d + c] += r;
		}
	}
	for (size_t c = 0; c < k * d; c++)
		g[c] += l2 * b->layers[0].w[c];
	for (size_t c = 0; c < k * (d + 1); c++)
		worst = fabs(g[c]) > worst ? fabs(g[c]) : worst;
	free(g);
	free(z);
	return worst;
}

static void test_train_logistic__reaches_the_optimum(void **state)
{
	lw_train_options o;
	table t;
	lw_model *m;

	(void)state;
	read_letters(&t, "ABC");
	opts(&o, LW_MODEL_LOGISTIC, LW_TASK_CLASSIFICATION);
	o.holdout = 0;
	o.l2 = 1e-3;
	m = train_ok(NULL, &t, &o);
	assert_true(logistic_gradient_norm(m, &t, o.l2) < 1e-5);
	lw_model_free(m);
	table_dispose(&t);
}

/* --- mlp ------------------------------------------------------------------ */

static void test_train_mlp_boston__heldout_rmse_below_bound(void **state)
{
	lw_train_options o;
	lw_train_report r;
	table t;
	lw_model *m;

	(void)state;
	read_boston(&t);
	opts(&o, LW_MODEL_MLP, LW_TASK_REGRESSION);
	m = train_ok(&r, &t, &o);
	print_message("mlp boston: RMSE %.4f train, %.4f held out, %u epochs%s\n", r.train_metric,
		      r.holdout_metric, r.iterations, r.stopped_early ? " (stopped early)" : "");
	assert_true(r.holdout_metric < MLP_BOSTON_RMSE);
	assert_int_equal(lw_model_task(m), LW_TASK_REGRESSION);
	lw_model_free(m);
	table_dispose(&t);
}

static void test_train_mlp_letters__accuracy_above_bound(void **state)
{
	lw_train_options o;
	lw_train_report r;
	table t;
	lw_model *m;

	(void)state;
	read_letters(&t, "ABCDE");
	opts(&o, LW_MODEL_MLP, LW_TASK_CLASSIFICATION);
	o.classes = (const char *const *)t.classes;
	o.epochs = 60;
	m = train_ok(&r, &t, &o);
	print_message("mlp A-E: accuracy %.4f train, %.4f held out, %u epochs%s\n", r.train_metric,
		      r.holdout_metric, r.iterations, r.stopped_early ? " (stopped early)" : "");
	assert_true(r.holdout_metric > MLP_AE_ACCURACY);
	assert_int_equal(lw_model_output_dim(m), 5);
	lw_model_free(m);
	table_dispose(&t);
}

static void predictions(lw_mat *P, lw_model *m, const lw_mat *X)
{
	assert_int_equal(lw_model_predict(P, m, X), 0);
	lw_model_free(m);
}

static void test_train_same_seed__gives_the_same_model(void **state)
{
	lw_train_options o;
	table t;
	lw_mat P, Q, R;

	(void)state;
	read_boston(&t);
	opts(&o, LW_MODEL_MLP, LW_TASK_REGRESSION);
	o.epochs = 20;
	o.seed = 5;
	predictions(&P, train_ok(NULL, &t, &o), &t.X);
	predictions(&Q, train_ok(NULL, &t, &o), &t.X);
	o.seed = 6;
	predictions(&R, train_ok(NULL, &t, &o), &t.X);
	assert_memory_equal(P.data, Q.data, P.rows * sizeof(double));
	assert_memory_not_equal(P.data, R.data, P.rows * sizeof(double));
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_mat_dispose(&R);
	table_dispose(&t);
}

static void test_train_save_load__round_trips_each_kind(void **state)
{
	static const lw_model_kind kinds[] = { LW_MODEL_LINEAR, LW_MODEL_LOGISTIC, LW_MODEL_MLP };
	char *dir = lwt_mkdtemp(), path[512];
	lw_train_options o;
	table t;

	(void)state;
	read_letters(&t, "ABC");
	snprintf(path, sizeof(path), "%s/m.json", dir);
	for (size_t i = 0; i < 3; i++) {
		lw_model *m, *back;
		lw_mat P, Q;

		opts(&o, kinds[i], kinds[i] == LW_MODEL_LINEAR ? LW_TASK_REGRESSION
							       : LW_TASK_CLASSIFICATION);
		o.classes = (const char *const *)t.classes;
		o.feature_names = (const char *const *)t.names;
		o.epochs = 5;
		m = train_ok(NULL, &t, &o);
		assert_int_equal(lw_model_save(m, path), 0);
		assert_int_equal(lw_model_load_file(&back, kinds[i], path), 0);
		assert_int_equal(lw_model_task(back), o.task);
		if (o.task == LW_TASK_CLASSIFICATION)
			assert_string_equal(lw_model_classes(back)[2], "C");
		assert_string_equal(lw_model_feature_names(back)[15], "yegvx");
		predictions(&P, m, &t.X);
		predictions(&Q, back, &t.X);
		assert_memory_equal(P.data, Q.data, P.rows * P.cols * sizeof(double));
		lw_mat_dispose(&P);
		lw_mat_dispose(&Q);
	}
	table_dispose(&t);
	lwt_rmtree(dir);
	free(dir);
}

/* --- bad inputs -------------------------------------------------------------- */

static void expect_train_error(const lw_mat *X, const double *y, const lw_train_options *o,
			       const char *fragment)
{
	lw_model *m = (lw_model *)1;

	assert_int_equal(lw_train(&m, NULL, X, y, o), LW_EINVALID);
	assert_null(m);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
}

static void test_train_bad_inputs__give_clear_errors(void **state)
{
	double x[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	double y[6] = { 1, 2, 3, 4, NAN, 6 }, same[6] = { 2, 2, 2, 2, 2, 2 };
	double lab[6] = { 0, 1, 0, 1, 0, 1 }, bad[6] = { 0, 1, 0.5, 1, 0, 1 };
	lw_mat X = { 6, 2, x }, X1 = { 1, 2, x }, X0 = { 0, 2, x }, W = { 6, 0, x };
	lw_train_options o;

	(void)state;
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	expect_train_error(&X, y, &o, "row 5: the target is nan");
	expect_train_error(&X, same, &o, "the target is the same (2) in every row");
	expect_train_error(&X1, y, &o, "at least 2 rows");
	expect_train_error(&X0, y, &o, "at least 2 rows");
	expect_train_error(&W, y, &o, "1 feature column");
	opts(&o, LW_MODEL_LOGISTIC, LW_TASK_CLASSIFICATION);
	expect_train_error(&X, same, &o, "every row has the same class");
	expect_train_error(&X, bad, &o, "row 3: class label 0.5 is not an integer");
	o.n_classes = 1;
	expect_train_error(&X, lab, &o, "out of range for 1 classes");
	opts(&o, LW_MODEL_LINEAR, LW_TASK_CLASSIFICATION);
	expect_train_error(&X, lab, &o, "for classification use logistic");
	opts(&o, LW_MODEL_LOGISTIC, LW_TASK_REGRESSION);
	expect_train_error(&X, lab, &o, "for regression use linear");
	opts(&o, LW_MODEL_PROCESS, LW_TASK_REGRESSION);
	expect_train_error(&X, y, &o, "cannot train a process model");
	opts(&o, LW_MODEL_MLP, LW_TASK_REGRESSION);
	o.holdout = 0.95;
	expect_train_error(&X, lab, &o, "holdout 0.95");
	o.holdout = 0.2;
	o.learning_rate = 0;
	expect_train_error(&X, lab, &o, "learning rate");
	o.learning_rate = 1e-3;
	o.hidden[0] = 0;
	expect_train_error(&X, lab, &o, "at least one hidden layer");
	o.version = 99;
	expect_train_error(&X, lab, &o, "version 99");
	/* A feature column with no value at all cannot be standardised. */
	opts(&o, LW_MODEL_LINEAR, LW_TASK_REGRESSION);
	for (size_t i = 0; i < 6; i++)
		x[2 * i + 1] = NAN;
	expect_train_error(&X, lab, &o, "feature column 2 has no finite value");
}

static void test_train_holdout_with_one_class_left__is_an_error(void **state)
{
	double x[10] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, y[10] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	lw_mat X = { 10, 1, x };
	lw_train_options o;
	lw_model *m;
	int fails = 0;

	(void)state;
	opts(&o, LW_MODEL_LOGISTIC, LW_TASK_CLASSIFICATION);
	o.holdout = 0.5;
	/* Some seed holds the lone class-1 row out; training must then say so. */
	for (o.seed = 0; o.seed < 20; o.seed++) {
		int err = lw_train(&m, NULL, &X, y, &o);

		if (err) {
			assert_int_equal(err, LW_EINVALID);
			assert_non_null(strstr(lw_error_last()->message, "all have one class"));
			fails++;
		}
		lw_model_free(err ? NULL : m);
	}
	assert_true(fails > 0 && fails < 20);
}

static int cancel_at_half(const char *stage, double done, void *payload)
{
	(void)stage;
	(*(int *)payload)++;
	return done >= 0.5;
}

static void test_train_progress__can_cancel(void **state)
{
	lw_train_options o;
	table t;
	lw_model *m;
	int calls = 0;

	(void)state;
	read_boston(&t);
	opts(&o, LW_MODEL_MLP, LW_TASK_REGRESSION);
	o.epochs = 10;
	o.early_stopping = 0;
	o.progress = cancel_at_half;
	o.payload = &calls;
	assert_int_equal(lw_train(&m, NULL, &t.X, t.y, &o), LW_ECANCEL);
	assert_null(m);
	assert_int_equal(calls, 5);
	table_dispose(&t);
}

/* --- labels and target columns ----------------------------------------- */

static void test_train_encode_labels__sorts_numbers_and_text(void **state)
{
	const char *nums[] = { "10", "9", "2", "9", "2.5" }, *text[] = { "b", "a", "B", "a", "10" };
	double *y;
	char **classes;
	size_t k;

	(void)state;
	assert_int_equal(lw_train_encode_labels(&y, &classes, &k, nums, 5), 0);
	assert_int_equal(k, 4);
	assert_string_equal(classes[0], "2");
	assert_string_equal(classes[1], "2.5");
	assert_string_equal(classes[3], "10");
	assert_null(classes[4]);
	assert_true(y[0] == 3 && y[1] == 2 && y[2] == 0 && y[3] == 2 && y[4] == 1);
	free(y);
	free(classes);
	assert_int_equal(lw_train_encode_labels(&y, &classes, &k, text, 5), 0);
	assert_int_equal(k, 4);
	assert_string_equal(classes[0], "10");
	assert_string_equal(classes[1], "B");
	assert_string_equal(classes[2], "a");
	assert_true(y[0] == 3 && y[1] == 2 && y[2] == 1 && y[4] == 0);
	free(y);
	free(classes);
}

static void test_train_read_target__reads_text_labels_and_names(void **state)
{
	lw_data_options d = LW_DATA_OPTIONS_INIT;
	char *dir = lwt_mkdtemp(), *path, **names, **labels;
	lw_mat X;
	double *y;

	(void)state;
	path = lwt_write_file(dir, "t.csv", "id,colour,size,note\n1,\"red, dark\",2.5,x\n"
					    "2, blue ,3,y\n\n3,red,NA,z\n");
	d.drop = "note";
	assert_int_equal(lw_data_read_target(&X, &names, &labels, path, "colour", &d), 0);
	assert_int_equal(X.rows, 3);
	assert_int_equal(X.cols, 2);
	assert_string_equal(names[0], "id");
	assert_string_equal(names[1], "size");
	assert_string_equal(labels[0], "red, dark");
	assert_string_equal(labels[1], "blue");
	assert_string_equal(labels[2], "red");
	assert_null(labels[3]);
	assert_true(isnan(lw_mat_row(&X, 2)[1]));
	lw_mat_dispose(&X);
	lw_data_free_names(names);
	lw_data_free_names(labels);
	/* By index, no names wanted; a text target is not a number. */
	d.drop = "note,colour";
	assert_int_equal(lw_data_read_xy(&X, NULL, &y, path, "3", &d), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "row 5: the target '3' is missing ('NA')"));
	d.drop = "note";
	assert_int_equal(lw_data_read_xy(&X, NULL, &y, path, "colour", &d), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "row 2: the target 'colour' is 'red, dark', not a number"));
	assert_int_equal(lw_data_read_target(&X, NULL, &labels, path, "size", &d), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "row 5: the target 'size' is missing"));
	assert_int_equal(lw_data_read_target(&X, NULL, &labels, path, "weight", &d), LW_ENOTFOUND);
	assert_non_null(strstr(lw_error_last()->message, "names no column 'weight'"));
	assert_int_equal(lw_data_read_target(&X, NULL, &labels, path, "2-3", &d), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "names 2 columns; it must be one"));
	free(path);
	lwt_rmtree(dir);
	free(dir);
}

static void test_train_read_target__takes_a_raw_matrix_column(void **state)
{
	char *dir = lwt_mkdtemp(), path[512], **labels;
	double v[6] = { 1, 0.5, 2, 1.5, 3, 2.5 }, *y;
	lw_mat M = { 3, 2, v }, X;

	(void)state;
	snprintf(path, sizeof(path), "%s/m.lwmat", dir);
	assert_int_equal(lw_data_write_raw(path, &M), 0);
	assert_int_equal(lw_data_read_xy(&X, NULL, &y, path, "2", NULL), 0);
	assert_int_equal(X.cols, 1);
	assert_true(X.data[2] == 3 && y[2] == 2.5);
	lw_mat_dispose(&X);
	free(y);
	assert_int_equal(lw_data_read_target(&X, NULL, &labels, path, "1", NULL), 0);
	assert_string_equal(labels[1], "2");
	lw_mat_dispose(&X);
	lw_data_free_names(labels);
	assert_int_equal(lw_data_read_xy(&X, NULL, &y, path, "target", NULL), LW_ENOTFOUND);
	lwt_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_train_linear_boston__heldout_rmse_below_bound),
		cmocka_unit_test(test_train_linear_coefficients__match_a_closed_form_solve),
		cmocka_unit_test(test_train_linear_ridge__solves_its_normal_equations),
		cmocka_unit_test(test_train_linear_missing_features__are_imputed),
		cmocka_unit_test(test_train_logistic_letters__accuracy_above_bound),
		cmocka_unit_test(test_train_logistic__reaches_the_optimum),
		cmocka_unit_test(test_train_mlp_boston__heldout_rmse_below_bound),
		cmocka_unit_test(test_train_mlp_letters__accuracy_above_bound),
		cmocka_unit_test(test_train_same_seed__gives_the_same_model),
		cmocka_unit_test(test_train_save_load__round_trips_each_kind),
		cmocka_unit_test(test_train_bad_inputs__give_clear_errors),
		cmocka_unit_test(test_train_holdout_with_one_class_left__is_an_error),
		cmocka_unit_test(test_train_progress__can_cancel),
		cmocka_unit_test(test_train_encode_labels__sorts_numbers_and_text),
		cmocka_unit_test(test_train_read_target__reads_text_labels_and_names),
		cmocka_unit_test(test_train_read_target__takes_a_raw_matrix_column),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
