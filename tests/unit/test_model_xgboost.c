/*
 * XGBoost models: files saved by Python's xgboost 1.7 predict what it
 * predicted (tests/data/xgboost, made by scripts/fixtures/xgboost_models.py),
 * training on real data reaches stated bounds, and bad files are refused.
 */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/train.h"
#include "train.h"

/*
 * Bounds on real data, measured with the defaults (seed 0, a fifth held
 * out): boston RMSE 3.36 held out; letters A-E (60 rounds, depth 4)
 * accuracy 0.977.
 */
#define XGB_BOSTON_RMSE 3.9
#define XGB_AE_ACCURACY 0.96

static const char *fixture_path(const char *name)
{
	static char buf[4096];
	const char *root = getenv("LW_TEST_DATA");

	snprintf(buf, sizeof(buf), "%s/xgboost/%s", root ? root : "tests/data", name);
	return buf;
}

/* rows ("null" = missing) and predictions from <name>.expected.json. */
static json_t *load_expected(const char *name, lw_mat *X, size_t *cols)
{
	char file[256];
	json_error_t je;
	json_t *e, *rows, *preds;

	snprintf(file, sizeof(file), "%s.expected.json", name);
	e = json_load_file(fixture_path(file), 0, &je);
	if (!e)
		fail_msg("%s: %s", fixture_path(file), je.text);
	rows = json_object_get(e, "rows");
	preds = json_object_get(e, "predictions");
	assert_int_equal(lw_mat_init(X, json_array_size(rows),
				     json_array_size(json_array_get(rows, 0))), 0);
	for (size_t i = 0; i < X->rows; i++)
		for (size_t j = 0; j < X->cols; j++) {
			json_t *v = json_array_get(json_array_get(rows, i), j);

			lw_mat_row(X, i)[j] = json_is_null(v) ? NAN : json_number_value(v);
		}
	*cols = json_array_size(json_array_get(preds, 0));
	return e;
}

static void check_fixture(const char *name, size_t outputs, lw_task task)
{
	static const char *const exts[] = { "json", "ubj" };
	size_t pcols;
	lw_mat X;
	json_t *e = load_expected(name, &X, &pcols), *preds = json_object_get(e, "predictions");

	for (size_t f = 0; f < 2; f++) {
		char file[256];
		lw_model *m;
		lw_mat P;

		snprintf(file, sizeof(file), "%s.%s", name, exts[f]);
		if (lw_model_load_file(&m, f ? LW_MODEL_XGBOOST : 0, fixture_path(file)) != 0)
			fail_msg("%s", lw_error_last()->message);
		assert_int_equal(lw_model_kind_of(m), LW_MODEL_XGBOOST);
		assert_int_equal(lw_model_task(m), task);
		assert_int_equal(lw_model_input_dim(m), json_integer_value(json_object_get(e, "num_feature")));
		assert_int_equal(lw_model_output_dim(m), outputs);
		assert_null(lw_model_classes(m));
		assert_int_equal(lw_model_predict(&P, m, &X), 0);
		for (size_t i = 0; i < X.rows; i++) {
			json_t *row = json_array_get(preds, i);

			if (pcols == 1 && outputs == 2) {
				/* binary:logistic: xgboost's p is our second column. */
				double p = json_number_value(json_array_get(row, 0));

				lwt_assert_near(lw_mat_row(&P, i)[1], p, 1e-6);
				lwt_assert_near(lw_mat_row(&P, i)[0], 1 - p, 1e-6);
				continue;
			}
			for (size_t c = 0; c < outputs; c++)
				lwt_assert_near(lw_mat_row(&P, i)[c],
						json_number_value(json_array_get(row, c)), 1e-6);
		}
		lw_mat_dispose(&P);
		lw_model_free(m);
	}
	lw_mat_dispose(&X);
	json_decref(e);
}

static void test_model_xgboost_python_regressor__predicts_what_xgboost_did(void **state)
{
	(void)state;
	check_fixture("boston_reg", 1, LW_TASK_REGRESSION);
}

static void test_model_xgboost_python_softprob__predicts_what_xgboost_did(void **state)
{
	(void)state;
	check_fixture("letter_abc", 3, LW_TASK_CLASSIFICATION);
}

static void test_model_xgboost_python_binary__gives_two_columns(void **state)
{
	(void)state;
	check_fixture("letter_ab_bin", 2, LW_TASK_CLASSIFICATION);
}

static void test_model_xgboost_python_feature_names__are_read(void **state)
{
	lw_model *m;

	(void)state;
	assert_int_equal(lw__model_open_xgboost(&m, fixture_path("boston_reg.ubj")), 0);
	assert_string_equal(lw_model_feature_names(m)[0], "crim");
	assert_string_equal(lw_model_feature_names(m)[12], "lstat");
	assert_null(lw_model_feature_names(m)[13]);
	lw_model_free(m);
}

static void test_model_xgboost_infinity__counts_as_missing(void **state)
{
	lw_model *m;
	lw_mat X, P, Q;
	size_t pc;
	json_t *e = load_expected("boston_reg", &X, &pc);

	(void)state;
	assert_int_equal(lw_model_load_file(&m, 0, fixture_path("boston_reg.json")), 0);
	lw_mat_row(&X, 0)[3] = NAN;
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	lw_mat_row(&X, 0)[3] = -INFINITY;
	assert_int_equal(lw_model_predict(&Q, m, &X), 0);
	assert_true(P.data[0] == Q.data[0]);
	assert_true(isinf(lw_mat_row(&X, 0)[3]));
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_mat_dispose(&X);
	json_decref(e);
	lw_model_free(m);
}

static void test_model_xgboost_wrong_width__is_rejected(void **state)
{
	double v[4] = { 1, 2, 3, 4 };
	lw_mat X = { 1, 4, v }, P;
	lw_model *m;

	(void)state;
	assert_int_equal(lw_model_load_file(&m, 0, fixture_path("letter_abc.json")), 0);
	assert_int_equal(lw_model_predict(&P, m, &X), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "expects 16 input columns, got 4"));
	lw_model_free(m);
}

/* A copy of a fixture cut to `keep` bytes, or with garbage over part of it. */
static char *damaged_copy(const char *dir, const char *name, size_t keep, size_t scribble_at)
{
	char *src, *path = malloc(strlen(dir) + 64);
	size_t len;
	FILE *f = fopen(fixture_path(name), "rb");

	assert_non_null(f);
	src = malloc(1 << 20);
	len = fread(src, 1, 1 << 20, f);
	fclose(f);
	if (scribble_at && scribble_at + 8 < len)
		memcpy(src + scribble_at, "\xff\x00\x01garbage", 10);
	sprintf(path, "%s/damaged.%s", dir, strrchr(name, '.') + 1);
	f = fopen(path, "wb");
	fwrite(src, 1, keep < len ? keep : len, f);
	fclose(f);
	free(src);
	return path;
}

static void expect_refused(const char *path, lw_model_kind kind)
{
	lw_model *m = (lw_model *)1;
	int err = lw_model_load_file(&m, kind, path);

	assert_int_equal(err, LW_EINVALID);
	assert_null(m);
	if (!strstr(lw_error_last()->message, path))
		fail_msg("'%s' does not name the file", lw_error_last()->message);
}

static void test_model_xgboost_corrupted_files__are_refused(void **state)
{
	char *dir = lwt_mkdtemp(), *p;

	(void)state;
	p = damaged_copy(dir, "letter_abc.json", 5000, 0);
	expect_refused(p, 0);
	expect_refused(p, LW_MODEL_XGBOOST);
	free(p);
	p = damaged_copy(dir, "letter_abc.json", SIZE_MAX, 3000);
	expect_refused(p, 0);
	free(p);
	p = damaged_copy(dir, "boston_reg.ubj", 7000, 0);
	expect_refused(p, 0);
	free(p);
	p = damaged_copy(dir, "boston_reg.ubj", 1, 0);
	expect_refused(p, LW_MODEL_XGBOOST);
	free(p);
	p = lwt_write_file(dir, "empty.json", "");
	expect_refused(p, LW_MODEL_XGBOOST);
	free(p);
	p = lwt_write_file(dir, "other.json", "{\"learner\":{}}");
	expect_refused(p, 0);
	free(p);
	lwt_rmtree(dir);
	free(dir);
}

/* A copy of boston_reg.json with one tree field changed, saved under dir. */
static char *evil_copy(const char *dir, const char *array, size_t index, json_int_t value)
{
	json_error_t je;
	json_t *m = json_load_file(fixture_path("boston_reg.json"), 0, &je), *model, *a;
	char *path = malloc(strlen(dir) + 32);

	assert_non_null(m);
	model = json_object_get(json_object_get(json_object_get(m, "learner"), "gradient_booster"),
				"model");
	if (!strcmp(array, "tree_info"))
		a = json_object_get(model, "tree_info");
	else
		a = json_object_get(json_array_get(json_object_get(model, "trees"), 0), array);
	assert_non_null(a);
	if (value == -99)
		json_array_remove(a, index);
	else
		json_array_set_new(a, index, json_integer(value));
	sprintf(path, "%s/evil.json", dir);
	assert_int_equal(json_dump_file(m, path, JSON_COMPACT), 0);
	json_decref(m);
	return path;
}

static void expect_evil_refused(const char *path, const char *fragment, lw_model_kind kind)
{
	expect_refused(path, kind);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("'%s' lacks '%s'", lw_error_last()->message, fragment);
}

/* libxgboost trusts child and feature indices: such files must never reach its predictor. */
static void test_model_xgboost_malicious_trees__are_refused(void **state)
{
	static const struct {
		const char *array;
		size_t index;
		json_int_t value;
		const char *fragment;
	} cases[] = {
		{ "left_children", 0, 100000, "child index is out of range" },
		{ "left_children", 1, 0, "child index is out of range" },
		{ "right_children", 0, 1, "child index is out of range or shared" },
		{ "split_indices", 0, 5000, "a feature the model does not have" },
		{ "split_indices", 0, -1, "a feature the model does not have" },
		{ "right_children", 3, -99, "evil.json" }, /* xgboost itself checks this one */
		{ "tree_info", 0, 7, "output group is out of range" },
		{ "split_type", 0, 1, "evil.json" }, /* refused whichever check sees it first */
	};
	char *dir = lwt_mkdtemp(), *p, *deep;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = evil_copy(dir, cases[i].array, cases[i].index, cases[i].value);
		expect_evil_refused(p, cases[i].fragment, 0);
		free(p);
	}
	deep = calloc(300000, 1);
	strcpy(deep, "{\"learner\":");
	memset(deep + 11, '[', 200000);
	p = lwt_write_file(dir, "deep.json", deep);
	expect_evil_refused(p, "nested more than 64 levels", 0);
	free(p);
	free(deep);
	p = lwt_write_file(dir, "old.bin", "binf\x01\x02\x03\x04");
	expect_evil_refused(p, "not an XGBoost model saved as JSON or UBJ", LW_MODEL_XGBOOST);
	free(p);
	/* UBJ: a key claiming 2^40 bytes. */
	p = lwt_write_file(dir, "huge.ubj", "{L\x01\x01\x01\x01\x01\x01\x01\x01learner{}}");
	expect_evil_refused(p, "past the end of the file", 0);
	free(p);
	lwt_rmtree(dir);
	free(dir);
}

/* --- training ------------------------------------------------------------ */

static void read_boston(lw_mat *X, double **y, char ***names)
{
	if (lw_data_read_xy(X, names, y, lwt_shared_path("data/boston.csv"), "target", NULL) != 0)
		fail_msg("%s", lw_error_last()->message);
}

static void test_model_xgboost_train_boston__heldout_rmse_below_bound(void **state)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_train_report r;
	lw_model *m;
	lw_mat X;
	double *y;
	char **names;

	(void)state;
	read_boston(&X, &y, &names);
	o.kind = LW_MODEL_XGBOOST;
	o.feature_names = (const char *const *)names;
	o.threads = 2;
	assert_int_equal(lw_train(&m, &r, &X, y, &o), 0);
	print_message("xgboost boston: RMSE %.4f train, %.4f held out, %u rounds%s\n",
		      r.train_metric, r.holdout_metric, r.iterations,
		      r.stopped_early ? " (stopped early)" : "");
	assert_true(r.holdout_metric < XGB_BOSTON_RMSE);
	assert_true(r.iterations < o.rounds);
	assert_int_equal(lw_model_output_dim(m), 1);
	assert_string_equal(lw_model_feature_names(m)[5], "rm");
	lw_model_free(m);
	lw_mat_dispose(&X);
	free(y);
	lw_data_free_names(names);
}

/* letter.csv rows labelled A to E, labels 0..4. */
static void read_letters(lw_mat *X, double **y)
{
	char **labels;
	size_t k = 0;

	if (lw_data_read_target(X, NULL, &labels, lwt_shared_path("data/letter.csv"), "label", NULL))
		fail_msg("%s", lw_error_last()->message);
	*y = malloc(X->rows * sizeof(double));
	for (size_t i = 0; i < X->rows; i++) {
		if (labels[i][0] > 'E')
			continue;
		memmove(lw_mat_row(X, k), lw_mat_row(X, i), X->cols * sizeof(double));
		(*y)[k++] = labels[i][0] - 'A';
	}
	X->rows = k;
	lw_data_free_names(labels);
}

static void test_model_xgboost_train_letters__accuracy_and_round_trip(void **state)
{
	static const char *const classes[] = { "A", "B", "C", "D", "E" };
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	char *dir = lwt_mkdtemp(), path[512];
	lw_train_report r;
	lw_model *m, *back;
	lw_mat X, P, Q;
	double *y;

	(void)state;
	read_letters(&X, &y);
	o.kind = LW_MODEL_XGBOOST;
	o.task = LW_TASK_CLASSIFICATION;
	o.classes = classes;
	o.rounds = 60;
	o.max_depth = 4;
	o.threads = 2;
	assert_int_equal(lw_train(&m, &r, &X, y, &o), 0);
	print_message("xgboost A-E: accuracy %.4f train, %.4f held out, %u rounds\n",
		      r.train_metric, r.holdout_metric, r.iterations);
	assert_true(r.holdout_metric > XGB_AE_ACCURACY);
	assert_int_equal(lw_model_output_dim(m), 5);
	assert_string_equal(lw_model_classes(m)[3], "D");
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	for (int ubj = 0; ubj < 2; ubj++) {
		snprintf(path, sizeof(path), "%s/model.%s", dir, ubj ? "ubj" : "json");
		assert_int_equal(lw_model_save(m, path), 0);
		assert_int_equal(lw_model_load_file(&back, 0, path), 0);
		assert_string_equal(lw_model_classes(back)[4], "E");
		assert_int_equal(lw_model_predict(&Q, back, &X), 0);
		assert_memory_equal(P.data, Q.data, P.rows * P.cols * sizeof(double));
		lw_mat_dispose(&Q);
		lw_model_free(back);
	}
	lw_mat_dispose(&P);
	lw_model_free(m);
	lw_mat_dispose(&X);
	free(y);
	lwt_rmtree(dir);
	free(dir);
}

static void test_model_xgboost_train_binary_same_seed__is_reproducible(void **state)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *a, *b;
	lw_mat X, P, Q;
	double *y;

	(void)state;
	read_letters(&X, &y);
	for (size_t i = 0; i < X.rows; i++)
		y[i] = y[i] == 0; /* A against the rest */
	o.kind = LW_MODEL_XGBOOST;
	o.task = LW_TASK_CLASSIFICATION;
	o.rounds = 20;
	o.seed = 3;
	assert_int_equal(lw_train(&a, NULL, &X, y, &o), 0);
	assert_int_equal(lw_train(&b, NULL, &X, y, &o), 0);
	assert_int_equal(lw_model_output_dim(a), 2);
	assert_int_equal(lw_model_predict(&P, a, &X), 0);
	assert_int_equal(lw_model_predict(&Q, b, &X), 0);
	assert_memory_equal(P.data, Q.data, P.rows * 2 * sizeof(double));
	lwt_assert_near(P.data[0] + P.data[1], 1.0, 1e-12);
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_model_free(a);
	lw_model_free(b);
	lw_mat_dispose(&X);
	free(y);
}

static void test_model_xgboost_train_bad_options__are_rejected(void **state)
{
	double x[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, y[4] = { 1, 2, 3, 4 };
	lw_mat X = { 4, 2, x };
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m;

	(void)state;
	o.kind = LW_MODEL_XGBOOST;
	o.eta = 0;
	assert_int_equal(lw_train(&m, NULL, &X, y, &o), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "eta in (0, 1]"));
	o.eta = 0.3;
	o.max_depth = 0;
	assert_int_equal(lw_train(&m, NULL, &X, y, &o), LW_EINVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_xgboost_python_regressor__predicts_what_xgboost_did),
		cmocka_unit_test(test_model_xgboost_python_softprob__predicts_what_xgboost_did),
		cmocka_unit_test(test_model_xgboost_python_binary__gives_two_columns),
		cmocka_unit_test(test_model_xgboost_python_feature_names__are_read),
		cmocka_unit_test(test_model_xgboost_infinity__counts_as_missing),
		cmocka_unit_test(test_model_xgboost_wrong_width__is_rejected),
		cmocka_unit_test(test_model_xgboost_corrupted_files__are_refused),
		cmocka_unit_test(test_model_xgboost_malicious_trees__are_refused),
		cmocka_unit_test(test_model_xgboost_train_boston__heldout_rmse_below_bound),
		cmocka_unit_test(test_model_xgboost_train_letters__accuracy_and_round_trip),
		cmocka_unit_test(test_model_xgboost_train_binary_same_seed__is_reproducible),
		cmocka_unit_test(test_model_xgboost_train_bad_options__are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
