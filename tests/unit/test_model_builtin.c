/*
 * The built-in model kinds: predictions worked out by hand, the JSON
 * format's round trip, and its errors (each naming the key at fault).
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/train.h"
#include "train.h"

/*
 * A 2-2-1 ReLU network with input and target scaling:
 *   z = ((x1 - 1) / 2, (x2 - 2) / 4), h = relu(W0 z + b0), y = 10 + 3 (W1 h + b1)
 */
#define MLP_JSON                                                                         \
	"{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"mlp\",\"task\":\"regression\"," \
	"\"input_dim\":2,\"output_dim\":1,\"feature_names\":[\"a\",\"b\"],"                  \
	"\"x_mean\":[1,2],\"x_scale\":[2,4],\"y_mean\":[10],\"y_scale\":[3],"                \
	"\"layers\":[{\"weights\":[[1,-1],[0.5,2]],\"bias\":[0,-1],\"activation\":\"relu\"}," \
	"{\"weights\":[[2,-3]],\"bias\":[0.5],\"activation\":\"identity\"}]}"

/* Softmax over (x1, x2, 0) with three named classes. */
#define LOGISTIC_JSON                                                                    \
	"{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"logistic\","               \
	"\"task\":\"classification\",\"input_dim\":2,\"output_dim\":3,"                      \
	"\"classes\":[\"cat\",\"dog\",\"emu\"],"                                             \
	"\"layers\":[{\"weights\":[[1,0],[0,1],[0,0]],\"bias\":[0,0,0],"                    \
	"\"activation\":\"softmax\"}]}"

typedef struct {
	char *dir;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->dir = lwt_mkdtemp();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	lwt_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static lw_model *load_text(fixture *f, const char *name, const char *text, lw_model_kind kind)
{
	char *path = lwt_write_file(f->dir, name, text);
	lw_model *m = NULL;

	if (lw_model_load_file(&m, kind, path) != 0)
		fail_msg("%s", lw_error_last()->message);
	free(path);
	return m;
}

/* Loading must fail with LW_EINVALID and a message holding fragment. */
static void expect_load_error(fixture *f, const char *text, const char *fragment)
{
	char *path = lwt_write_file(f->dir, "bad.json", text);
	lw_model *m = (lw_model *)1;

	assert_int_equal(lw_model_load_file(&m, 0, path), LW_EINVALID);
	assert_null(m);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
	if (!strstr(lw_error_last()->message, path))
		fail_msg("message '%s' does not name the file", lw_error_last()->message);
	free(path);
}

/* text with the first occurrence of `from` replaced by `to` (static buffer). */
static const char *edit(const char *text, const char *from, const char *to)
{
	static char buf[4096];
	const char *at = strstr(text, from);

	assert_non_null(at);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	return buf;
}

static void test_model_builtin_mlp__predicts_as_worked_by_hand(void **state)
{
	lw_model *m = load_text(*state, "mlp.json", MLP_JSON, 0);
	double rows[] = { 3, 6, NAN, 2, -1, 10, INFINITY, 2 };
	lw_mat X = { 4, 2, rows }, P;

	assert_int_equal(lw_model_kind_of(m), LW_MODEL_MLP);
	assert_int_equal(lw_model_task(m), LW_TASK_REGRESSION);
	assert_int_equal(lw_model_input_dim(m), 2);
	assert_int_equal(lw_model_output_dim(m), 1);
	assert_null(lw_model_classes(m));
	assert_string_equal(lw_model_feature_names(m)[1], "b");
	assert_null(lw_model_feature_names(m)[2]);
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	assert_int_equal(P.rows, 4);
	assert_int_equal(P.cols, 1);
	lwt_assert_near(P.data[0], -2.0, 1e-12);
	/* Missing cells (NaN, Inf) read as the training mean: z = 0. */
	lwt_assert_near(P.data[1], 11.5, 1e-12);
	lwt_assert_near(P.data[2], -11.0, 1e-12);
	lwt_assert_near(P.data[3], 11.5, 1e-12);
	lw_mat_dispose(&P);
	lw_model_free(m);
}

static void test_model_builtin_logistic__gives_probabilities_and_classes(void **state)
{
	lw_model *m = load_text(*state, "lr.json", LOGISTIC_JSON, LW_MODEL_LOGISTIC);
	double rows[] = { 0, 0, log(2.0), 0, 0, 50 };
	lw_mat X = { 3, 2, rows }, P;

	assert_int_equal(lw_model_task(m), LW_TASK_CLASSIFICATION);
	assert_int_equal(lw_model_output_dim(m), 3);
	assert_string_equal(lw_model_classes(m)[2], "emu");
	assert_null(lw_model_feature_names(m));
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	for (int c = 0; c < 3; c++)
		lwt_assert_near(P.data[c], 1.0 / 3, 1e-15);
	lwt_assert_near(P.data[3], 0.5, 1e-15);
	lwt_assert_near(P.data[4], 0.25, 1e-15);
	lwt_assert_near(P.data[7], 1.0, 1e-15);
	lw_mat_dispose(&P);
	lw_model_free(m);
}

static void test_model_builtin_predict_wrong_width__is_rejected(void **state)
{
	lw_model *m = load_text(*state, "mlp.json", MLP_JSON, 0);
	double rows[3] = { 1, 2, 3 };
	lw_mat X = { 1, 3, rows }, P;

	assert_int_equal(lw_model_predict(&P, m, &X), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "expects 2 input columns, got 3"));
	X.rows = 0;
	X.cols = 2;
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	assert_int_equal(P.rows, 0);
	lw_mat_dispose(&P);
	lw_model_free(m);
}

static void save_and_reload(fixture *f, lw_model *m, lw_model **back, char **text)
{
	char path[512];
	size_t len;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/saved.json", f->dir);
	assert_int_equal(lw_model_save(m, path), 0);
	assert_int_equal(lw_model_load_file(back, 0, path), 0);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	*text = calloc(1 << 20, 1);
	len = fread(*text, 1, (1 << 20) - 1, fp);
	fclose(fp);
	(*text)[len] = '\0';
}

static void test_model_builtin_save_load__round_trips_exactly(void **state)
{
	fixture *f = *state;
	lw_model *m = load_text(f, "mlp.json", MLP_JSON, 0), *back, *again;
	double rows[] = { 0.1, 0.7, 1e300, -3.3, 5.5, NAN };
	lw_mat X = { 3, 2, rows }, P, Q;
	const lw__builtin *a, *b;
	char *t1, *t2;

	/* Awkward parameters: shortest round-trip digits must keep every bit. */
	a = lw__builtin_of(m);
	a->layers[0].w[0] = 0.1 + 0.2;
	a->layers[1].b[0] = -0.0;
	a->x_scale[1] = 1.0 / 3;
	save_and_reload(f, m, &back, &t1);
	b = lw__builtin_of(back);
	assert_memory_equal(a->layers[0].w, b->layers[0].w, 4 * sizeof(double));
	assert_true(signbit(b->layers[1].b[0]));
	assert_true(b->x_scale[1] == 1.0 / 3);
	assert_int_equal(lw_model_predict(&P, m, &X), 0);
	assert_int_equal(lw_model_predict(&Q, back, &X), 0);
	assert_memory_equal(P.data, Q.data, 3 * sizeof(double));
	/* Saving what was loaded writes the same bytes. */
	save_and_reload(f, back, &again, &t2);
	assert_string_equal(t1, t2);
	assert_non_null(strstr(t1, "\"kind\":\"mlp\""));
	assert_non_null(strstr(t1, "\"feature_names\":[\"a\",\"b\"]"));
	free(t1);
	free(t2);
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_model_free(m);
	lw_model_free(back);
	lw_model_free(again);
}

static void test_model_builtin_save_nonfinite__is_refused(void **state)
{
	fixture *f = *state;
	lw_model *m = load_text(f, "lr.json", LOGISTIC_JSON, 0);
	char path[512];

	((lw__builtin *)lw__builtin_of(m))->layers[0].w[1] = NAN;
	snprintf(path, sizeof(path), "%s/nan.json", f->dir);
	assert_int_equal(lw_model_save(m, path), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "non-finite"));
	assert_null(fopen(path, "r"));
	lw_model_free(m);
}

static void test_model_builtin_names__are_escaped(void **state)
{
	fixture *f = *state;
	lw_model *m = load_text(f, "lr.json", edit(LOGISTIC_JSON, "\"dog\"", "\"d\\\"o,g\\u00e9\""), 0), *back;
	char *text;

	save_and_reload(f, m, &back, &text);
	assert_string_equal(lw_model_classes(back)[1], "d\"o,g\xc3\xa9");
	free(text);
	lw_model_free(m);
	lw_model_free(back);
}

static void test_model_builtin_json_errors__name_the_key(void **state)
{
	fixture *f = *state;
	static const struct {
		const char *from, *to, *fragment;
	} cases[] = {
		{ "\"x_scale\":[2,4]", "\"x_scale\":[2,NaN]", "NaN or Infinity" },
		{ "[0.5]", "[Infinity]", "NaN or Infinity" },
		{ "\"kind\":\"mlp\"", "\"kind\":\"forest\"", "\"kind\" is \"forest\"" },
		{ "\"format\":\"learnware-model\",", "", "\"format\" must be a string" },
		{ "\"version\":1", "\"version\":2", "\"version\" must be 1" },
		{ "\"task\":\"regression\"", "\"task\":\"ranking\"", "\"task\" is \"ranking\"" },
		{ "\"input_dim\":2", "\"input_dim\":0", "\"input_dim\" must be a positive integer" },
		{ "\"output_dim\":1", "\"output_dim\":2", "\"output_dim\" is 2" },
		{ "[[1,-1],[0.5,2]]", "[[1,-1],[0.5]]", "layers[0].weights[1] has 1 numbers, expected 2" },
		{ "[[1,-1],[0.5,2]]", "[[1,-1]]", "layers[0].weights must be an array of 2 rows" },
		{ "[[2,-3]]", "[[2,\"x\"]]", "layers[1].weights[0][1] must be a number, found a string" },
		{ "\"bias\":[0,-1]", "\"bias\":{}", "layers[0].bias must be a non-empty array" },
		{ "\"activation\":\"relu\"", "\"activation\":\"tanh\"", "layers[0].activation must be" },
		{ "\"activation\":\"relu\"", "\"activation\":\"softmax\"", "the last layer" },
		{ "\"activation\":\"identity\"", "\"activation\":\"softmax\"", "must be \"identity\" for regression" },
		{ "\"x_mean\":[1,2]", "\"x_mean\":[1]", "\"x_mean\" has 1 numbers, expected 2 (input_dim)" },
		{ "\"x_scale\":[2,4]", "\"x_scale\":[2,0]", "\"x_scale\"[1] must be positive" },
		{ "\"y_scale\":[3]", "\"y_scale\":3", "\"y_scale\" must be an array of 1 numbers" },
		{ "\"feature_names\":[\"a\",\"b\"]", "\"feature_names\":[\"a\",1]", "\"feature_names\"[1] must be a string" },
		{ "\"layers\":[", "\"layers\":[],\"x\":[", "\"layers\" must be an array of 1 to 64 layers" },
		{ "{\"format\"", "{\"format\":1,\"format\"", "duplicate object key" },
		{ "\"identity\"}]}", "\"identity\"}]", "line 1" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_load_error(f, edit(MLP_JSON, cases[i].from, cases[i].to), cases[i].fragment);
	expect_load_error(f, edit(LOGISTIC_JSON, "\"output_dim\":3", "\"output_dim\":3,\"y_mean\":[1,2,3]"),
			  "for regression models only");
	expect_load_error(f, edit(LOGISTIC_JSON, "\"kind\":\"logistic\"", "\"kind\":\"linear\""),
			  "a linear model cannot do classification");
	expect_load_error(f, edit(LOGISTIC_JSON, "\"emu\"]", "\"emu\",\"yak\"]"),
			  "\"classes\" must be an array of 3 strings");
	expect_load_error(f, "[1,2]", "not a model file");
	expect_load_error(f, "{}", "\"format\" must be a string");
	expect_load_error(f, "hello", "not a model file");
	expect_load_error(f, "", "not a model file");
}

static void test_model_builtin_kind_mismatch__is_an_error(void **state)
{
	fixture *f = *state;
	char *path = lwt_write_file(f->dir, "lr.json", LOGISTIC_JSON);
	lw_model *m;

	assert_int_equal(lw_model_load_file(&m, LW_MODEL_MLP, path), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "but a mlp model was asked for"));
	assert_int_equal(lw_model_load_file(&m, LW_MODEL_PROCESS, path), LW_EINVALID);
	free(path);
	assert_int_equal(lw_model_load_file(&m, 0, "/nonexistent/model.json"), LW_ENOTFOUND);
	assert_int_equal(lw__model_open_builtin(&m, "/nonexistent/model.json"), LW_ENOTFOUND);
}

static void test_model_builtin_open__reads_any_builtin_kind(void **state)
{
	fixture *f = *state;
	char *path = lwt_write_file(f->dir, "lr.json", LOGISTIC_JSON);
	lw_model *m;

	assert_int_equal(lw__model_open_builtin(&m, path), 0);
	assert_int_equal(lw_model_kind_of(m), LW_MODEL_LOGISTIC);
	lw_model_free(m);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_model_builtin_mlp__predicts_as_worked_by_hand, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_logistic__gives_probabilities_and_classes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_predict_wrong_width__is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_save_load__round_trips_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_save_nonfinite__is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_names__are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_json_errors__name_the_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_kind_mismatch__is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_builtin_open__reads_any_builtin_kind, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
