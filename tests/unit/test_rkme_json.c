#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lw_rkme *parse(const char *text)
{
	lw_rkme *r = NULL;

	lw_rkme_from_json(&r, text, strlen(text), "t.json");
	return r;
}

static void expect_error(const char *text, const char *fragment)
{
	lw_rkme *r = (lw_rkme *)1;

	assert_int_equal(lw_rkme_from_json(&r, text, strlen(text), "t.json"), LW_EINVALID);
	assert_null(r);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
	assert_non_null(strstr(lw_error_last()->message, "t.json"));
}

static void test_rkme_json_round_trip__is_bit_exact(void **state)
{
	lw_mat X;
	lw_rkme *a, *b;
	char *text;

	(void)state;
	lwt_gmm(&X, 300, 6, 3, 2.0, 1);
	assert_int_equal(lw_rkme_fit(&a, &X, NULL), 0);
	assert_int_equal(lw_rkme_to_json(&text, a), 0);
	assert_true(strncmp(text, "{\"z\":[[", 7) == 0);
	assert_non_null(strstr(text, "\"num_points\":300,\"type\":\"RKMETableSpecification\"}"));
	assert_int_equal(lw_rkme_from_json(&b, text, strlen(text), "mem"), 0);
	assert_int_equal(lw_rkme_k(b), lw_rkme_k(a));
	assert_memory_equal(a->z.data, b->z.data, lw_rkme_k(a) * 6 * sizeof(double));
	assert_memory_equal(a->beta, b->beta, lw_rkme_k(a) * sizeof(double));
	assert_true(a->gamma == b->gamma);
	free(text);
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
}

static void test_rkme_json_save_load__round_trips_through_a_file(void **state)
{
	char *dir = lwt_mkdtemp(), path[512];
	lw_mat X;
	lw_rkme *a, *b;
	double d;

	(void)state;
	snprintf(path, sizeof(path), "%s/spec.json", dir);
	lwt_gmm(&X, 200, 3, 2, 2.0, 2);
	assert_int_equal(lw_rkme_fit(&a, &X, NULL), 0);
	assert_int_equal(lw_rkme_save(a, path), 0);
	assert_int_equal(lw_rkme_load(&b, path), 0);
	assert_int_equal(lw_rkme_dist(&d, a, b), 0);
	assert_true(d == 0 || fabs(d) < 1e-15);
	lw_rkme_free(a);
	lw_rkme_free(b);
	lw_mat_dispose(&X);
	lwt_rmtree(dir);
	free(dir);
}

static void test_rkme_json_legacy_type_and_integers__are_read(void **state)
{
	lw_rkme *r;

	(void)state;
	r = parse("{\"z\":[[1,2],[3,4]],\"beta\":[0.5,0.5],\"gamma\":1,\"num_points\":7,"
		  "\"type\":\"RKMEStatSpecification\"}");
	assert_non_null(r);
	assert_int_equal(lw_rkme_k(r), 2);
	assert_int_equal(lw_rkme_dim(r), 2);
	assert_true(r->z.data[3] == 4.0);
	assert_true(r->gamma == 1.0);
	assert_int_equal(r->num_points, 7);
	lw_rkme_free(r);
}

static void test_rkme_json_extra_keys__are_ignored(void **state)
{
	lw_rkme *r;

	(void)state;
	r = parse("{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1,\"num_points\":1,\"device\":\"cpu\","
		  "\"type\":\"RKMETableSpecification\"}");
	assert_non_null(r);
	lw_rkme_free(r);
}

static void test_rkme_json_bad_documents__name_the_key_at_fault(void **state)
{
	(void)state;
	expect_error("", "line 1");
	expect_error("[1,2]", "top level must be a JSON object");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1}", "missing key \"type\"");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1,\"type\":\"RKMEImageSpecification\"}",
		     "not a table specification");
	expect_error("{\"beta\":[1],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}", "\"z\"");
	expect_error("{\"z\":[[1,2],[3]],\"beta\":[1,1],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "z[1]");
	expect_error("{\"z\":[[1],[\"a\"]],\"beta\":[1,1],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "z[1][0] must be a number, found a string");
	expect_error("{\"z\":[[1],[2]],\"beta\":[1],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "\"beta\" must be an array of 2 numbers");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"gamma\":-0.1,\"type\":\"RKMETableSpecification\"}",
		     "\"gamma\" must be positive");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"type\":\"RKMETableSpecification\"}",
		     "\"gamma\" must be a number, found nothing");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1,\"num_points\":-3,"
		     "\"type\":\"RKMETableSpecification\"}", "num_points");
	expect_error("{\"z\":[],\"beta\":[],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "non-empty");
	expect_error("{\"z\":[[1]],\"z\":[[2]],\"beta\":[1],\"gamma\":0.1,"
		     "\"type\":\"RKMETableSpecification\"}", "duplicate");
}

static void test_rkme_json_nan_and_infinity__get_a_plain_message(void **state)
{
	(void)state;
	expect_error("{\"z\":[[NaN]],\"beta\":[1],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "NaN or Infinity");
	expect_error("{\"z\":[[1]],\"beta\":[Infinity],\"gamma\":0.1,\"type\":\"RKMETableSpecification\"}",
		     "NaN or Infinity");
	expect_error("{\"z\":[[1]],\"beta\":[1],\"gamma\":1e400,\"type\":\"RKMETableSpecification\"}",
		     "line 1");
}

static void test_rkme_json_missing_file__is_not_found(void **state)
{
	lw_rkme *r;

	(void)state;
	assert_int_equal(lw_rkme_load(&r, "/nonexistent/spec.json"), LW_ENOTFOUND);
	assert_non_null(strstr(lw_error_last()->message, "/nonexistent/spec.json"));
}

static void test_rkme_json_nonfinite_spec__is_not_saved(void **state)
{
	lw_mat Z;
	double beta[1] = { NAN };
	lw_rkme *r;
	char *text;

	(void)state;
	assert_int_equal(lw_mat_init(&Z, 1, 1), 0);
	assert_int_equal(lw_rkme_new(&r, &Z, beta, 0.1, 1), 0);
	assert_int_equal(lw_rkme_to_json(&text, r), LW_EINVALID);
	lw_rkme_free(r);
	lw_mat_dispose(&Z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rkme_json_round_trip__is_bit_exact),
		cmocka_unit_test(test_rkme_json_save_load__round_trips_through_a_file),
		cmocka_unit_test(test_rkme_json_legacy_type_and_integers__are_read),
		cmocka_unit_test(test_rkme_json_extra_keys__are_ignored),
		cmocka_unit_test(test_rkme_json_bad_documents__name_the_key_at_fault),
		cmocka_unit_test(test_rkme_json_nan_and_infinity__get_a_plain_message),
		cmocka_unit_test(test_rkme_json_missing_file__is_not_found),
		cmocka_unit_test(test_rkme_json_nonfinite_spec__is_not_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
