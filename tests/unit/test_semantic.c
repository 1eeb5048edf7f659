#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/semantic.h"

#define FIX "reference/fixtures/search30/"

/* A valid learnware specification to break one key at a time. */
static const char *const VALID =
	"{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]},"
	"\"Task\":{\"Type\":\"Class\",\"Values\":[\"Classification\"]},"
	"\"Library\":{\"Type\":\"Class\",\"Values\":[\"Scikit-learn\"]},"
	"\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
	"\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\",\"Financial\"]},"
	"\"Name\":{\"Type\":\"String\",\"Values\":\"credit\"},"
	"\"Description\":{\"Type\":\"String\",\"Values\":\"default risk\"},"
	"\"Input\":{\"Dimension\":3,\"Description\":{\"0\":\"age\",\"1\":\"income\"}},"
	"\"Output\":{\"Dimension\":2,\"Description\":{\"0\":\"good\",\"1\":\"bad\"}}}";

static lw_semantic *parse(const char *text)
{
	lw_semantic *s = NULL;

	if (lw_semantic_from_json(&s, text, strlen(text), "t.json") < 0)
		fail_msg("parse failed: %s", lw_error_last()->message);
	return s;
}

/* VALID with the first occurrence of `from` replaced by `to`. */
static lw_semantic *parse_edit(const char *from, const char *to)
{
	const char *at = strstr(VALID, from);
	char buf[4096];
	lw_semantic *s;

	if (!at)
		fail_msg("'%s' not in VALID", from);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - VALID), VALID, to, at + strlen(from));
	s = parse(buf);
	return s;
}

static void expect_parse_error(const char *text, const char *fragment)
{
	lw_semantic *s = (lw_semantic *)1;

	assert_int_equal(lw_semantic_from_json(&s, text, strlen(text), "t.json"), LW_EINVALID);
	assert_null(s);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
	assert_non_null(strstr(lw_error_last()->message, "t.json"));
}

/* Validate s (freed) with the built-in taxonomy; return the problems. */
static lw_semantic_problems validate(lw_semantic *s)
{
	lw_semantic_problems p;
	lw_semantic_status status;

	assert_int_equal(lw_semantic_validate(&status, &p, s, NULL), 0);
	assert_int_equal(status, p.count ? LW_SEMANTIC_INVALID : LW_SEMANTIC_OK);
	lw_semantic_free(s);
	return p;
}

static void expect_ok(lw_semantic *s)
{
	lw_semantic_problems p = validate(s);

	if (p.count)
		fail_msg("unexpected problem: %s", p.items[0].message);
	lw_semantic_problems_dispose(&p);
}

/* Exactly one problem, on key, whose message holds every fragment (NULL-terminated). */
static void expect_problem(lw_semantic *s, const char *key, const char *const *fragments)
{
	lw_semantic_problems p = validate(s);

	if (p.count != 1)
		fail_msg("%zu problems, expected 1 (first: %s)", p.count,
			 p.count ? p.items[0].message : "none");
	assert_string_equal(p.items[0].key, key);
	assert_true(!strncmp(p.items[0].message, key, strlen(key)));
	for (size_t i = 0; fragments[i]; i++)
		if (!strstr(p.items[0].message, fragments[i]))
			fail_msg("message '%s' lacks '%s'", p.items[0].message, fragments[i]);
	lw_semantic_problems_dispose(&p);
}

#define EXPECT_PROBLEM(s, key, ...)                                          \
	do {                                                                 \
		const char *const frags_[] = { __VA_ARGS__, NULL };          \
		expect_problem((s), (key), frags_);                          \
	} while (0)

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static const char *learnware_path(int i)
{
	char rel[128];

	snprintf(rel, sizeof(rel), FIX "learnwares/%08d.semantic.json", i);
	return lwt_shared_path(rel);
}

/* ---- the reference's files ---- */

static void test_semantic_reference_learnwares__parse_and_validate_ok(void **state)
{
	lw_taxonomy *t;

	(void)state;
	assert_int_equal(lw_taxonomy_builtin(&t), 0);
	for (int i = 0; i < 30; i++) {
		lw_semantic *s;
		lw_semantic_status status;
		lw_semantic_problems p;
		size_t dim;

		assert_int_equal(lw_semantic_load(&s, learnware_path(i)), 0);
		assert_int_equal(lw_semantic_validate(&status, &p, s, t), 0);
		if (status != LW_SEMANTIC_OK)
			fail_msg("learnware %d: %s", i, p.items[0].message);
		assert_int_equal(p.count, 0);
		assert_string_equal(lw_semantic_data(s), "Table");
		assert_string_equal(lw_semantic_task(s), "Regression");
		assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_INPUT), 0);
		assert_int_equal(dim, 10);
		lw_semantic_free(s);
	}
	lw_taxonomy_free(t);
}

static void test_semantic_reference_learnwares__round_trip_byte_for_byte(void **state)
{
	(void)state;
	for (int i = 0; i < 30; i += 7) {
		char *text = read_all(learnware_path(i)), *out;
		lw_semantic *s = parse(text);

		assert_int_equal(lw_semantic_to_json(&out, s), 0);
		assert_string_equal(out, text);
		free(out);
		free(text);
		lw_semantic_free(s);
	}
}

static void test_semantic_reference_user__matches_every_learnware(void **state)
{
	lw_semantic *user;

	(void)state;
	assert_int_equal(lw_semantic_load(&user, lwt_shared_path(FIX "user_semantic.json")), 0);
	assert_string_equal(lw_semantic_name(user), "");
	assert_string_equal(lw_semantic_first(user, "Scenario"), "Education");
	for (int i = 0; i < 30; i++) {
		lw_semantic *l;

		assert_int_equal(lw_semantic_load(&l, learnware_path(i)), 0);
		assert_int_equal(lw_semantic_matches(user, l), 1);
		lw_semantic_free(l);
	}
	lw_semantic_free(user);
}

/* The reference checks learnwares, not users: its user file lacks what a learnware needs. */
static void test_semantic_reference_user__is_not_a_valid_learnware_spec(void **state)
{
	lw_semantic *user;
	lw_semantic_problems p;

	(void)state;
	assert_int_equal(lw_semantic_load(&user, lwt_shared_path(FIX "user_semantic.json")), 0);
	p = validate(user);
	assert_int_equal(p.count, 4);
	assert_string_equal(p.items[0].key, "Description");
	assert_string_equal(p.items[1].key, "Name");
	assert_string_equal(p.items[2].key, "Input");
	assert_string_equal(p.items[3].key, "Output");
	lw_semantic_problems_dispose(&p);
}

/* ---- accessors, builder, files ---- */

static void test_semantic_accessors__read_every_part(void **state)
{
	lw_semantic *s = parse(VALID);
	const char *const *v;
	size_t n, dim;

	(void)state;
	assert_string_equal(lw_semantic_data(s), "Table");
	assert_string_equal(lw_semantic_task(s), "Classification");
	assert_string_equal(lw_semantic_name(s), "credit");
	assert_string_equal(lw_semantic_description(s), "default risk");
	assert_string_equal(lw_semantic_type(s, "Scenario"), "Tag");
	v = lw_semantic_values(&n, s, "Scenario");
	assert_int_equal(n, 2);
	assert_string_equal(v[1], "Financial");
	v = lw_semantic_values(&n, s, "Name");
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "credit");
	assert_null(lw_semantic_values(&n, s, "Nope"));
	assert_int_equal(n, 0);
	assert_null(lw_semantic_values(&n, s, "Input"));
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_INPUT), 0);
	assert_int_equal(dim, 3);
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_OUTPUT), 0);
	assert_int_equal(dim, 2);
	assert_string_equal(lw_semantic_feature(s, LW_SEMANTIC_INPUT, 1), "income");
	assert_null(lw_semantic_feature(s, LW_SEMANTIC_INPUT, 2));
	assert_string_equal(lw_semantic_feature(s, LW_SEMANTIC_OUTPUT, 0), "good");
	lw_semantic_free(s);
}

static void test_semantic_accessors__absent_parts_have_plain_answers(void **state)
{
	lw_semantic *s = parse("{}");
	size_t dim = 7;

	(void)state;
	assert_null(lw_semantic_data(s));
	assert_null(lw_semantic_task(s));
	assert_string_equal(lw_semantic_name(s), "");
	assert_string_equal(lw_semantic_description(s), "");
	assert_null(lw_semantic_type(s, "Data"));
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_INPUT), LW_ENOTFOUND);
	assert_null(lw_semantic_feature(s, LW_SEMANTIC_OUTPUT, 0));
	lw_semantic_free(s);
}

static lw_semantic *build_valid(void)
{
	static const char *const data[] = { "Table" }, *const task[] = { "Classification" },
				 *const lib[] = { "Scikit-learn" }, *const lic[] = { "MIT" },
				 *const scen[] = { "Business", "Financial" };
	lw_semantic *s;

	assert_int_equal(lw_semantic_new(&s), 0);
	assert_int_equal(lw_semantic_set_values(s, "Data", "Class", data, 1), 0);
	assert_int_equal(lw_semantic_set_values(s, "Task", "Class", task, 1), 0);
	assert_int_equal(lw_semantic_set_values(s, "Library", "Class", lib, 1), 0);
	assert_int_equal(lw_semantic_set_values(s, "License", "Class", lic, 1), 0);
	assert_int_equal(lw_semantic_set_values(s, "Scenario", "Tag", scen, 2), 0);
	assert_int_equal(lw_semantic_set_string(s, "Name", "credit"), 0);
	assert_int_equal(lw_semantic_set_string(s, "Description", "default risk"), 0);
	assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_INPUT, 3), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 1, "income"), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 0, "age"), 0);
	assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_OUTPUT, 2), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_OUTPUT, 0, "good"), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_OUTPUT, 1, "bad"), 0);
	return s;
}

static void test_semantic_builder__writes_what_the_parser_reads(void **state)
{
	lw_semantic *built = build_valid(), *parsed = parse(VALID);
	char *a, *b;

	(void)state;
	assert_int_equal(lw_semantic_to_json(&a, built), 0);
	assert_int_equal(lw_semantic_to_json(&b, parsed), 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "{\n \"Data\": {\n  \"Type\": \"Class\",\n  \"Values\": [\n   \"Table\"\n  ]\n },"));
	expect_ok(built);
	free(a);
	free(b);
	lw_semantic_free(parsed);
}

static void test_semantic_builder__setting_a_key_again_replaces_it_in_place(void **state)
{
	static const char *const img[] = { "Image" };
	lw_semantic *s = build_valid();
	char *text;

	(void)state;
	assert_int_equal(lw_semantic_set_values(s, "Data", "Class", img, 1), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 1, "salary"), 0);
	assert_string_equal(lw_semantic_data(s), "Image");
	assert_string_equal(lw_semantic_feature(s, LW_SEMANTIC_INPUT, 1), "salary");
	assert_int_equal(lw_semantic_to_json(&text, s), 0);
	assert_true(!strncmp(text, "{\n \"Data\"", 9));
	free(text);
	lw_semantic_free(s);
}

static void test_semantic_builder__rejects_bad_arguments(void **state)
{
	lw_semantic *s;

	(void)state;
	assert_int_equal(lw_semantic_new(&s), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 0, "x"), LW_ENOTFOUND);
	assert_non_null(strstr(lw_error_last()->message, "Dimension first"));
	assert_int_equal(lw_semantic_set_string(s, "Input", "x"), LW_EINVALID);
	assert_int_equal(lw_semantic_set_string(s, "", "x"), LW_EINVALID);
	assert_int_equal(lw_semantic_set_string(s, "Name", "bad \xff utf-8"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "UTF-8"));
	assert_int_equal(lw_semantic_set_values(s, "Data", NULL, NULL, 0), LW_EINVALID);
	assert_int_equal(lw_semantic_remove(s, "Data"), LW_ENOTFOUND);
	lw_semantic_free(s);
}

static void test_semantic_remove__drops_a_key_and_a_block(void **state)
{
	lw_semantic *s = parse(VALID);
	lw_semantic_problems p;
	size_t dim;

	(void)state;
	assert_int_equal(lw_semantic_remove(s, "Library"), 0);
	assert_int_equal(lw_semantic_remove(s, "Input"), 0);
	assert_null(lw_semantic_type(s, "Library"));
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_INPUT), LW_ENOTFOUND);
	p = validate(s);
	assert_int_equal(p.count, 2);
	assert_string_equal(p.items[0].key, "Library");
	assert_string_equal(p.items[1].key, "Input");
	lw_semantic_problems_dispose(&p);
}

static void test_semantic_save_load__round_trips_through_a_file(void **state)
{
	char *dir = lwt_mkdtemp(), path[512], *a, *b;
	lw_semantic *s = parse(VALID), *back;

	(void)state;
	snprintf(path, sizeof(path), "%s/sem.json", dir);
	assert_int_equal(lw_semantic_save(s, path), 0);
	assert_int_equal(lw_semantic_load(&back, path), 0);
	assert_int_equal(lw_semantic_to_json(&a, s), 0);
	assert_int_equal(lw_semantic_to_json(&b, back), 0);
	assert_string_equal(a, b);
	free(a);
	free(b);
	lw_semantic_free(s);
	lw_semantic_free(back);
	assert_int_equal(lw_semantic_load(&back, "/nonexistent/sem.json"), LW_ENOTFOUND);
	assert_non_null(strstr(lw_error_last()->message, "/nonexistent/sem.json"));
	lwt_rmtree(dir);
	free(dir);
}

static void test_semantic_round_trip__keeps_order_unknown_keys_and_unicode(void **state)
{
	const char *text = "{\"Name\":{\"Type\":\"String\",\"Values\":\"caf\\u00e9 \\ud83d\\ude00\"},"
			   "\"Description\":{\"Values\":\"del \x7f, slash \\\\u00E9\"},"
			   "\"learnware_id\":{\"Values\":\"00000001\"},"
			   "\"Data\":{\"Type\":\"Class\",\"Values\":[]}}";
	lw_semantic *s = parse(text), *back;
	char *out, *again;

	(void)state;
	assert_string_equal(lw_semantic_name(s), "caf\xc3\xa9 \xf0\x9f\x98\x80");
	assert_null(lw_semantic_type(s, "learnware_id"));
	assert_int_equal(lw_semantic_to_json(&out, s), 0);
	/* Python's escapes: lower-case hex, DEL escaped, an escaped backslash left alone. */
	assert_non_null(strstr(out, "caf\\u00e9 \\ud83d\\ude00"));
	assert_non_null(strstr(out, "del \\u007f, slash \\\\u00E9"));
	assert_true(strstr(out, "\"Name\"") < strstr(out, "\"learnware_id\""));
	assert_true(strstr(out, "\"learnware_id\": {\n  \"Values\": \"00000001\"\n }"));
	assert_non_null(strstr(out, "\"Values\": []"));
	back = parse(out);
	assert_int_equal(lw_semantic_to_json(&again, back), 0);
	assert_string_equal(out, again);
	free(out);
	free(again);
	lw_semantic_free(s);
	lw_semantic_free(back);
}

/* ---- parse errors ---- */

static void test_semantic_parse__bad_json_names_line_and_column(void **state)
{
	(void)state;
	expect_parse_error("", "line 1");
	expect_parse_error("{\"Data\":", "line 1");
	expect_parse_error("{\"Input\":{\"Dimension\":NaN}}", "NaN or Infinity");
	expect_parse_error("{\"Input\":{\"Dimension\":-Infinity}}", "NaN or Infinity");
	expect_parse_error("{\"Data\":{},\"Data\":{}}", "duplicate");
	expect_parse_error("{\"Name\":{\"Values\":\"a\\u0000b\"}}", "line 1");
}

static void test_semantic_parse__wrong_types_name_the_key(void **state)
{
	(void)state;
	expect_parse_error("[1]", "top level must be a JSON object of semantic keys");
	expect_parse_error("{\"Data\":\"Table\"}", "Data: must be an object {\"Type\"");
	expect_parse_error("{\"Data\":{\"Type\":3,\"Values\":[]}}", "Data: \"Type\" must be a string");
	expect_parse_error("{\"Data\":{\"Type\":\"Class\",\"Values\":3}}",
			   "Data: \"Values\" must be a list of strings or a string, found an integer");
	expect_parse_error("{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\",null]}}",
			   "Data: \"Values\"[1] must be a string, found null");
	expect_parse_error("{\"Input\":[]}", "Input: must be an object {\"Dimension\"");
}

static void test_semantic_parse__bad_dimension_is_refused(void **state)
{
	(void)state;
	expect_parse_error("{\"Input\":{\"Dimension\":-3,\"Description\":{}}}",
			   "Input: \"Dimension\" must be a non-negative integer (the number of "
			   "features), found -3");
	expect_parse_error("{\"Output\":{\"Dimension\":2.5}}", "found 2.5");
	expect_parse_error("{\"Input\":{\"Dimension\":\"10\"}}", "found a string");
	expect_parse_error("{\"Input\":{\"Dimension\":1e300}}", "non-negative integer");
	expect_parse_error("{\"Input\":{\"Dimension\":true}}", "found a boolean");
}

static void test_semantic_parse__bad_descriptions_are_refused(void **state)
{
	(void)state;
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":[\"a\"]}}",
			   "Input: \"Description\" must be an object from feature index to text");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"x1\":\"a\"}}}",
			   "\"Description\" key 'x1' is not a feature index");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"1.5\":\"a\"}}}",
			   "key '1.5' is not a feature index");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"\":\"a\"}}}",
			   "key '' is not a feature index");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"0\":5}}}",
			   "\"Description\" of feature '0' must be a string, found an integer");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"1\":\"a\",\"01\":\"b\"}}}",
			   "describes feature 1 twice");
	expect_parse_error("{\"Input\":{\"Dimension\":2,\"Description\":{\"99999999999999999999\":\"a\"}}}",
			   "is not a feature index");
}

static void test_semantic_parse__control_bytes_in_keys_are_escaped_in_messages(void **state)
{
	(void)state;
	expect_parse_error("{\"a\\nb\\u001b[31m\":3}", "a\\x0ab\\x1b[31m: must be an object");
}

static void test_semantic_parse__integral_reals_and_null_blocks_are_read(void **state)
{
	lw_semantic *s = parse("{\"Input\":{\"Dimension\":10.0,\"Description\":{\"+3\":\"x\"}},"
			       "\"Output\":null}");
	size_t dim;
	char *out;

	(void)state;
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_INPUT), 0);
	assert_int_equal(dim, 10);
	assert_string_equal(lw_semantic_feature(s, LW_SEMANTIC_INPUT, 3), "x");
	assert_int_equal(lw_semantic_dim(&dim, s, LW_SEMANTIC_OUTPUT), LW_ENOTFOUND);
	assert_int_equal(lw_semantic_to_json(&out, s), 0);
	assert_null(strstr(out, "Output"));
	assert_non_null(strstr(out, "\"3\": \"x\""));
	free(out);
	lw_semantic_free(s);
}

static void test_semantic_parse__huge_documents_are_refused_cheaply(void **state)
{
	size_t n = 5000, len = 0;
	char *text = malloc(16 * n + 64);
	lw_semantic *s;

	(void)state;
	assert_non_null(text);
	len += (size_t)sprintf(text, "{\"Scenario\":{\"Type\":\"Tag\",\"Values\":[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(text + len, "%s\"v%zu\"", i ? "," : "", i);
	strcpy(text + len, "]}}");
	expect_parse_error(text, "Scenario: \"Values\" has 5000 items, over the limit");
	len = (size_t)sprintf(text, "{");
	for (size_t i = 0; i < 1100; i++)
		len += (size_t)sprintf(text + len, "%s\"k%zu\":{}", i ? "," : "", i);
	strcpy(text + len, "}");
	expect_parse_error(text, "1100 top-level keys, over the limit");
	assert_int_equal(lw_semantic_from_json(&s, text, (size_t)65 << 20, "big"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "over the limit"));
	free(text);
}

/* ---- the checker, rule by rule ---- */

static void test_semantic_validate_valid_spec__has_no_problems(void **state)
{
	lw_semantic *s = parse(VALID);
	lw_semantic_status status = LW_SEMANTIC_INVALID;

	(void)state;
	assert_int_equal(lw_semantic_validate(&status, NULL, s, NULL), 0);
	assert_int_equal(status, LW_SEMANTIC_OK);
	lw_semantic_free(s);
}

static void test_semantic_validate_unknown_scenario__names_allowed_values(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"Business\",\"Financial\"", "\"Finance\""), "Scenario",
		       "Scenario: 'Finance' is not an allowed value; allowed: Business, Financial, "
		       "Health, Politics", "Architecture, Others; did you mean 'Financial'?");
}

static void test_semantic_validate_misspelt_class__suggests_the_value(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("[\"Table\"]", "[\"Tabel\"]"), "Data",
		       "Data: 'Tabel' is not an allowed value; allowed: Table, Image, Text; "
		       "did you mean 'Table'?");
	EXPECT_PROBLEM(parse_edit("[\"MIT\"]", "[\"mit\"]"), "License", "did you mean 'MIT'?");
	EXPECT_PROBLEM(parse_edit("[\"Scikit-learn\"]", "[\"Keras\"]"), "Library",
		       "'Keras' is not an allowed value; allowed: Scikit-learn, PyTorch, TensorFlow, Others");
}

static void test_semantic_validate_far_value__gets_no_suggestion(void **state)
{
	lw_semantic_problems p = validate(parse_edit("[\"Scikit-learn\"]", "[\"Keras\"]"));

	(void)state;
	assert_int_equal(p.count, 1);
	assert_null(strstr(p.items[0].message, "did you mean"));
	lw_semantic_problems_dispose(&p);
}

static void test_semantic_validate_type_mismatch__says_which_type(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"Type\":\"Tag\"", "\"Type\":\"Class\""), "Scenario",
		       "Scenario: \"Type\" is 'Class'; it must be \"Tag\"");
	EXPECT_PROBLEM(parse_edit("\"Type\":\"Tag\",", ""), "Scenario",
		       "Scenario: \"Type\" is missing; it must be \"Tag\"");
}

static void test_semantic_validate_class__needs_exactly_one_value(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("[\"Scikit-learn\"]", "[]"), "Library",
		       "Library: needs exactly one value, found none; allowed: Scikit-learn, PyTorch");
	EXPECT_PROBLEM(parse_edit("[\"Scikit-learn\"]", "[\"Scikit-learn\",\"PyTorch\"]"), "Library",
		       "Library: needs exactly one value, found 2 ('Scikit-learn', 'PyTorch')");
}

static void test_semantic_validate_tag__needs_one_or_more_allowed_values(void **state)
{
	lw_semantic_problems p;

	(void)state;
	EXPECT_PROBLEM(parse_edit("[\"Business\",\"Financial\"]", "[]"), "Scenario",
		       "Scenario: needs at least one value; allowed: Business");
	p = validate(parse_edit("[\"Business\",\"Financial\"]", "[\"Business\",\"Moon\",\"Sun\"]"));
	assert_int_equal(p.count, 2);
	assert_non_null(strstr(p.items[0].message, "'Moon' is not an allowed value"));
	assert_non_null(strstr(p.items[1].message, "'Sun' is not an allowed value"));
	lw_semantic_problems_dispose(&p);
}

static void test_semantic_validate_string__must_be_non_empty_text(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"credit\"", "\"\""), "Name",
		       "Name: is empty; it needs a non-empty text");
	EXPECT_PROBLEM(parse_edit("\"default risk\"", "[\"default risk\"]"), "Description",
		       "Description: \"Values\" must be a string (a non-empty text), not a list");
}

static void test_semantic_validate_values_string_where_list_belongs__is_reported(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("[\"Table\"]", "\"Table\""), "Data",
		       "Data: \"Values\" must be a list, like [\"Table\"], not a string");
}

static void test_semantic_validate_missing_values__says_what_the_key_takes(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit(",\"Values\":[\"MIT\"]", ""), "License",
		       "License: \"Values\" is missing; it takes exactly one of: MIT, Apache-2.0");
}

static void test_semantic_validate_missing_key__says_what_the_key_takes(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\",\"Financial\"]},", ""),
		       "Scenario", "Scenario: missing; it takes Type \"Tag\" with one or more of: Business");
	EXPECT_PROBLEM(parse_edit("\"Name\":{\"Type\":\"String\",\"Values\":\"credit\"},", ""), "Name",
		       "Name: missing; it takes Type \"String\" with a non-empty text");
}

static void test_semantic_fill_defaults__adds_a_missing_license_as_apache(void **state)
{
	lw_semantic *s = parse_edit("\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},", "");
	lw_semantic_status status;

	(void)state;
	assert_int_equal(lw_semantic_validate(&status, NULL, s, NULL), 0);
	assert_int_equal(status, LW_SEMANTIC_INVALID);
	assert_int_equal(lw_semantic_fill_defaults(s, NULL), 0);
	assert_string_equal(lw_semantic_first(s, "License"), "Apache-2.0");
	assert_string_equal(lw_semantic_type(s, "License"), "Class");
	expect_ok(s);
}

static void test_semantic_fill_defaults__keeps_a_present_license(void **state)
{
	lw_semantic *s = parse(VALID);

	(void)state;
	assert_int_equal(lw_semantic_fill_defaults(s, NULL), 0);
	assert_string_equal(lw_semantic_first(s, "License"), "MIT");
	lw_semantic_free(s);
}

static void test_semantic_validate_table_without_input__asks_for_it(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"Input\":{\"Dimension\":3,\"Description\":{\"0\":\"age\",\"1\":\"income\"}},", ""),
		       "Input", "Input: missing; Data 'Table' requires it: {\"Dimension\"");
	EXPECT_PROBLEM(parse_edit("\"Dimension\":3,", ""), "Input",
		       "Input: \"Dimension\" is missing; it takes the number of features");
	EXPECT_PROBLEM(parse_edit(",\"Description\":{\"0\":\"age\",\"1\":\"income\"}", ""), "Input",
		       "Input: \"Description\" is missing");
}

static void test_semantic_validate_description_keys__must_be_below_dimension(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit("\"1\":\"income\"", "\"3\":\"income\""), "Input",
		       "Input: \"Description\" key '3' is out of range; Dimension 3 allows 0 to 2");
	EXPECT_PROBLEM(parse_edit("\"0\":\"age\"", "\"-1\":\"age\""), "Input", "key '-1' is out of range");
	EXPECT_PROBLEM(parse_edit("\"Dimension\":3", "\"Dimension\":0"), "Input",
		       "keys '0', '1' are out of range; Dimension 0 allows none");
	EXPECT_PROBLEM(parse_edit("\"1\":\"bad\"", "\"7\":\"bad\""), "Output",
		       "Output: \"Description\" key '7' is out of range; Dimension 2 allows 0 to 1");
}

static void test_semantic_validate_many_bad_keys__are_summarised(void **state)
{
	lw_semantic_problems p = validate(parse_edit(
		"\"Description\":{\"0\":\"age\",\"1\":\"income\"}",
		"\"Description\":{\"10\":\"a\",\"11\":\"b\",\"12\":\"c\",\"13\":\"d\",\"14\":\"e\",\"15\":\"f\"}"));

	(void)state;
	assert_int_equal(p.count, 1);
	assert_non_null(strstr(p.items[0].message, "keys '10', '11', '12', '13', '14', ... are out of range"));
	lw_semantic_problems_dispose(&p);
}

static void test_semantic_validate_classifier__needs_output_of_two_or_more(void **state)
{
	(void)state;
	EXPECT_PROBLEM(parse_edit(",\"Output\":{\"Dimension\":2,\"Description\":{\"0\":\"good\",\"1\":\"bad\"}}", ""),
		       "Output", "Output: missing; Task 'Classification' requires it");
	EXPECT_PROBLEM(parse_edit("\"Dimension\":2,\"Description\":{\"0\":\"good\",\"1\":\"bad\"}",
				  "\"Dimension\":1,\"Description\":{\"0\":\"good\"}"),
		       "Output", "Output: Dimension is 1; Task 'Classification' needs at least 2");
}

static void test_semantic_validate_regressor__may_have_one_output(void **state)
{
	lw_semantic *s = parse_edit("[\"Classification\"]", "[\"Regression\"]");

	(void)state;
	assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_OUTPUT, 1), 0);
	expect_ok(s);
}

/* As in the reference, blocks nothing requires are not examined. */
static void test_semantic_validate_unrequired_blocks__are_not_examined(void **state)
{
	lw_semantic *s = parse_edit("[\"Table\"]", "[\"Image\"]");

	(void)state;
	assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_INPUT, 1), 0);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 9, "out of range"), 0);
	expect_ok(s);
	s = parse_edit("[\"Classification\"]", "[\"Others\"]");
	assert_int_equal(lw_semantic_remove(s, "Output"), 0);
	expect_ok(s);
}

static void test_semantic_validate_many_problems__are_all_reported_in_order(void **state)
{
	lw_semantic_problems p = validate(parse(
		"{\"Data\":{\"Type\":\"Tag\",\"Values\":[\"Table\"]},"
		"\"Task\":{\"Type\":\"Class\",\"Values\":[\"Classification\"]},"
		"\"Scenario\":{\"Type\":\"Tag\",\"Values\":\"Finance\"},"
		"\"Name\":{\"Type\":\"String\",\"Values\":\"\"}}"));
	static const char *const keys[] = { "Data", "Library", "Scenario", "Scenario", "Description",
					    "Name", "License", "Input", "Output" };

	(void)state;
	if (p.count != 9)
		fail_msg("%zu problems, expected 9", p.count);
	for (size_t i = 0; i < 9; i++)
		assert_string_equal(p.items[i].key, keys[i]);
	lw_semantic_problems_dispose(&p);
}

static void test_semantic_validate_null_status__is_an_argument_error(void **state)
{
	lw_semantic *s = parse(VALID);

	(void)state;
	assert_int_equal(lw_semantic_validate(NULL, NULL, s, NULL), LW_EINVALID);
	lw_semantic_problems_dispose(NULL);
	lw_semantic_free(s);
}

/* ---- the search's tag filter ---- */

static int match(const char *user, const char *learnware)
{
	lw_semantic *u = parse(user), *l = parse(learnware);
	int m = lw_semantic_matches(u, l);

	lw_semantic_free(u);
	lw_semantic_free(l);
	return m;
}

static void test_semantic_matches_class__learnware_first_value_in_user_list(void **state)
{
	(void)state;
	assert_true(match("{\"Task\":{\"Type\":\"Class\",\"Values\":[\"Classification\"]}}", VALID));
	assert_true(match("{\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\",\"Classification\"]}}",
			  VALID));
	assert_false(match("{\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\"]}}", VALID));
	/* Only the learnware's first value counts. */
	assert_false(match("{\"Task\":{\"Type\":\"Class\",\"Values\":[\"B\"]}}",
			   "{\"Task\":{\"Type\":\"Class\",\"Values\":[\"A\",\"B\"]}}"));
}

static void test_semantic_matches_tag__sets_must_intersect(void **state)
{
	(void)state;
	assert_true(match("{\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Health\",\"Financial\"]}}", VALID));
	assert_false(match("{\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Health\",\"Nature\"]}}", VALID));
}

static void test_semantic_matches_empty_or_absent__do_not_filter(void **state)
{
	(void)state;
	assert_true(match("{}", VALID));
	assert_true(match("{\"Task\":{\"Type\":\"Class\",\"Values\":[]}}", VALID));
	assert_true(match("{\"Task\":{\"Type\":\"Class\"}}", VALID));
	/* A key the learnware lacks is skipped (learnware_id is the search's own). */
	assert_true(match("{\"learnware_id\":{\"Values\":\"0042\"}}", VALID));
	assert_true(match("{\"Input\":{\"Dimension\":99,\"Description\":{}}}", VALID));
}

static void test_semantic_matches_learnware_without_values__is_filtered_out(void **state)
{
	(void)state;
	assert_false(match("{\"Library\":{\"Type\":\"Class\",\"Values\":[\"PyTorch\"]}}",
			   "{\"Library\":{\"Type\":\"Class\",\"Values\":[]}}"));
	assert_false(match("{\"Library\":{\"Type\":\"Class\",\"Values\":[\"PyTorch\"]}}",
			   "{\"Library\":{\"Type\":\"Class\"}}"));
	/* An unknown user Type only asks for a non-empty learnware value. */
	assert_true(match("{\"X\":{\"Type\":\"String\",\"Values\":\"a\"}}",
			  "{\"X\":{\"Type\":\"String\",\"Values\":\"b\"}}"));
	assert_false(match("{\"X\":{\"Type\":\"String\",\"Values\":\"a\"}}",
			   "{\"X\":{\"Type\":\"String\",\"Values\":\"\"}}"));
}

static void test_semantic_matches_name_and_description__are_left_to_text_search(void **state)
{
	(void)state;
	assert_true(match("{\"Name\":{\"Type\":\"String\",\"Values\":\"zzz\"},"
			  "\"Description\":{\"Type\":\"String\",\"Values\":\"zzz\"}}",
			  "{\"Name\":{\"Type\":\"String\",\"Values\":\"\"}}"));
}

static void test_semantic_matches_string_where_list_belongs__is_one_value(void **state)
{
	(void)state;
	assert_true(match("{\"Data\":{\"Type\":\"Class\",\"Values\":\"Table\"}}", VALID));
	assert_true(match("{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]}}",
			  "{\"Data\":{\"Type\":\"Class\",\"Values\":\"Table\"}}"));
	assert_false(lw_semantic_matches(NULL, NULL));
}

/* ---- taxonomies ---- */

static void test_semantic_taxonomy_builtin__is_the_reference_config(void **state)
{
	lw_taxonomy *t;
	const char *const *v;
	size_t n;
	static const char *const order[] = { "Data", "Task", "Library", "Scenario", "Description",
					     "Name", "License" };

	(void)state;
	assert_int_equal(lw_taxonomy_builtin(&t), 0);
	assert_int_equal(lw_taxonomy_count(t), 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(lw_taxonomy_key(t, i), order[i]);
	assert_null(lw_taxonomy_key(t, 7));
	assert_string_equal(lw_taxonomy_type(t, "Scenario"), "Tag");
	assert_string_equal(lw_taxonomy_type(t, "Name"), "String");
	assert_null(lw_taxonomy_type(t, "Input"));
	v = lw_taxonomy_values(&n, t, "License");
	assert_int_equal(n, 14);
	assert_string_equal(v[1], "Apache-2.0");
	assert_null(lw_taxonomy_values(&n, t, "Name"));
	assert_int_equal(n, 0);
	v = lw_taxonomy_values(&n, t, "Task");
	assert_int_equal(n, 6);
	assert_string_equal(v[4], "Object Detection");
	assert_int_equal(lw_taxonomy_required(t, "Data"), 1);
	assert_int_equal(lw_taxonomy_required(t, "Nope"), 0);
	lw_taxonomy_free(t);
}

static lw_taxonomy *taxonomy(const char *text)
{
	lw_taxonomy *t = NULL;

	if (lw_taxonomy_from_json(&t, text, strlen(text), "tax.json") < 0)
		fail_msg("taxonomy failed: %s", lw_error_last()->message);
	return t;
}

static const char *const EXTENSION =
	"{\"format\":\"learnware-taxonomy\",\"version\":1,\"extends\":\"builtin\","
	"\"keys\":{\"Scenario\":{\"Values\":[\"Space\"]},"
	"\"Data\":{\"Values\":[\"TimeSeries\"]},"
	"\"Framework\":{\"Type\":\"Tag\",\"Values\":[\"ONNX\",\"XGBoost\"],\"Required\":false},"
	"\"Contact\":{\"Type\":\"String\",\"Default\":\"nobody\"}},"
	"\"features\":{\"Input\":{\"RequiredWhen\":{\"Data\":[\"TimeSeries\"]}}}}";

static void test_semantic_taxonomy_extension__adds_keys_and_values(void **state)
{
	lw_taxonomy *t = taxonomy(EXTENSION);
	lw_semantic *s = parse_edit("[\"Business\",\"Financial\"]", "[\"Space\"]");
	lw_semantic_status status;
	lw_semantic_problems p;
	size_t n;

	(void)state;
	assert_int_equal(lw_taxonomy_count(t), 9);
	lw_taxonomy_values(&n, t, "Scenario");
	assert_int_equal(n, 16);
	assert_int_equal(lw_taxonomy_required(t, "Framework"), 0);
	/* Contact is required, and its default fills it in. */
	assert_int_equal(lw_semantic_validate(&status, &p, s, t), 0);
	assert_int_equal(p.count, 1);
	assert_string_equal(p.items[0].key, "Contact");
	lw_semantic_problems_dispose(&p);
	assert_int_equal(lw_semantic_fill_defaults(s, t), 0);
	assert_string_equal(lw_semantic_first(s, "Contact"), "nobody");
	assert_int_equal(lw_semantic_validate(&status, NULL, s, t), 0);
	assert_int_equal(status, LW_SEMANTIC_OK);
	/* The built-in taxonomy does not know Space. */
	assert_int_equal(lw_semantic_validate(&status, NULL, s, NULL), 0);
	assert_int_equal(status, LW_SEMANTIC_INVALID);
	lw_semantic_free(s);
	lw_taxonomy_free(t);
}

static void test_semantic_taxonomy_extension__its_rules_apply(void **state)
{
	lw_taxonomy *t = taxonomy(EXTENSION);
	lw_semantic *s = parse_edit("[\"Table\"]", "[\"TimeSeries\"]");
	lw_semantic_problems p;
	lw_semantic_status status;

	(void)state;
	assert_int_equal(lw_semantic_fill_defaults(s, t), 0);
	assert_int_equal(lw_semantic_remove(s, "Input"), 0);
	assert_int_equal(lw_semantic_validate(&status, &p, s, t), 0);
	assert_int_equal(p.count, 1);
	assert_non_null(strstr(p.items[0].message, "Input: missing; Data 'TimeSeries' requires it"));
	lw_semantic_problems_dispose(&p);
	lw_semantic_free(s);
	lw_taxonomy_free(t);
}

static void test_semantic_taxonomy_replacement__stands_alone(void **state)
{
	lw_taxonomy *t = taxonomy("{\"format\":\"learnware-taxonomy\",\"keys\":{"
				  "\"Kind\":{\"Type\":\"Class\",\"Values\":[\"A\",\"B\"]}}}");
	lw_semantic_status status;
	lw_semantic *s = parse("{\"Kind\":{\"Type\":\"Class\",\"Values\":[\"B\"]}}");

	(void)state;
	assert_int_equal(lw_taxonomy_count(t), 1);
	assert_int_equal(lw_semantic_validate(&status, NULL, s, t), 0);
	assert_int_equal(status, LW_SEMANTIC_OK);
	lw_semantic_free(s);
	lw_taxonomy_free(t);
}

static void test_semantic_taxonomy_replace_flag__redefines_a_key(void **state)
{
	lw_taxonomy *t = taxonomy("{\"format\":\"learnware-taxonomy\",\"extends\":\"builtin\",\"keys\":{"
				  "\"Scenario\":{\"Type\":\"Class\",\"Values\":[\"Only\"],\"Replace\":true}}}");
	size_t n;

	(void)state;
	assert_string_equal(lw_taxonomy_type(t, "Scenario"), "Class");
	lw_taxonomy_values(&n, t, "Scenario");
	assert_int_equal(n, 1);
	assert_string_equal(lw_taxonomy_key(t, 3), "Scenario");
	lw_taxonomy_free(t);
}

static void expect_taxonomy_error(const char *text, const char *fragment)
{
	lw_taxonomy *t = (lw_taxonomy *)1;

	assert_int_equal(lw_taxonomy_from_json(&t, text, strlen(text), "tax.json"), LW_EINVALID);
	assert_null(t);
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
	assert_non_null(strstr(lw_error_last()->message, "tax.json"));
}

#define TAX(body) "{\"format\":\"learnware-taxonomy\"," body "}"

static void test_semantic_taxonomy_bad_files__say_what_is_wrong(void **state)
{
	(void)state;
	expect_taxonomy_error("{", "line 1");
	expect_taxonomy_error("{\"keys\":{}}", "not a taxonomy file");
	expect_taxonomy_error(TAX("\"version\":2,\"keys\":{}"), "\"version\" must be 1");
	expect_taxonomy_error(TAX("\"kyes\":{}"), "unknown member 'kyes'");
	expect_taxonomy_error(TAX("\"extends\":\"other\",\"keys\":{}"), "\"extends\" must be \"builtin\"");
	expect_taxonomy_error(TAX("\"keys\":{}"), "\"keys\" is empty");
	expect_taxonomy_error(TAX("\"features\":{}"), "missing \"keys\"");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Enum\",\"Values\":[\"a\"]}}"),
			      "keys.K: \"Type\" must be \"Class\", \"Tag\" or \"String\"");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Values\":[\"a\"]}}"), "keys.K: missing \"Type\"");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Class\"}}"), "keys.K: a Class key needs \"Values\"");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Class\",\"Values\":[]}}"),
			      "keys.K.Values must list at least one allowed value");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Tag\",\"Values\":[\"a\",\"a\"]}}"),
			      "lists 'a' twice");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"String\",\"Values\":[\"a\"]}}"),
			      "a String key takes no \"Values\"");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Class\",\"Values\":[\"a\"],\"Default\":[\"b\"]}}"),
			      "keys.K.Default: 'b' is not one of its allowed values");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"Class\",\"Values\":[\"a\"],\"Required\":1}}"),
			      "\"Required\" must be true or false");
	expect_taxonomy_error(TAX("\"keys\":{\"Input\":{\"Type\":\"String\"}}"), "not a usable key name");
	expect_taxonomy_error(TAX("\"extends\":\"builtin\",\"keys\":{\"Scenario\":{\"Type\":\"Class\"}}"),
			      "cannot change \"Type\" from Tag to Class");
	expect_taxonomy_error(TAX("\"keys\":{\"K\":{\"Type\":\"String\"}},"
				  "\"features\":{\"Input\":{\"RequiredWhen\":{\"Data\":[\"Table\"]}}}"),
			      "features.Input: 'Data' is not a Class key of the taxonomy");
	expect_taxonomy_error(TAX("\"extends\":\"builtin\",\"keys\":{},"
				  "\"features\":{\"Output\":{\"MinDimension\":{\"Task\":{\"Sorting\":2}}}}"),
			      "'Sorting' is not an allowed value of Task");
	expect_taxonomy_error(TAX("\"extends\":\"builtin\",\"keys\":{},\"features\":{\"Middle\":{}}"),
			      "unknown member 'Middle'");
}

static void test_semantic_taxonomy_json__round_trips_and_loads_from_a_file(void **state)
{
	lw_taxonomy *t = taxonomy(EXTENSION), *back;
	char *a, *b, *dir = lwt_mkdtemp(), *path;

	(void)state;
	assert_int_equal(lw_taxonomy_to_json(&a, t), 0);
	assert_null(strstr(a, "extends"));
	path = lwt_write_file(dir, "tax.json", a);
	assert_int_equal(lw_taxonomy_load(&back, path), 0);
	assert_int_equal(lw_taxonomy_to_json(&b, back), 0);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\"Required\": false"));
	assert_non_null(strstr(a, "\"Default\": \"nobody\""));
	assert_non_null(strstr(a, "\"Classification\": 2"));
	free(a);
	free(b);
	lw_taxonomy_free(t);
	lw_taxonomy_free(back);
	assert_int_equal(lw_taxonomy_load(&back, "/nonexistent/tax.json"), LW_ENOTFOUND);
	free(path);
	lwt_rmtree(dir);
	free(dir);
}

static void test_semantic_taxonomy_describe__lists_keys_and_rules(void **state)
{
	lw_taxonomy *t;
	char *text;

	(void)state;
	assert_int_equal(lw_taxonomy_builtin(&t), 0);
	assert_int_equal(lw_taxonomy_describe(&text, t), 0);
	assert_non_null(strstr(text, "Scenario     Tag     required  Business, Financial,"));
	assert_non_null(strstr(text, "default Apache-2.0"));
	assert_non_null(strstr(text, "Input        block   required when Data is Table\n"));
	assert_non_null(strstr(text, "required when Task is Classification or Regression; "
				     "Dimension >= 2 when Task is Classification"));
	free(text);
	lw_taxonomy_free(t);
}

/* ---- robustness ---- */

/* Mutated reference files: every outcome is a clean result or a clean error. */
static void test_semantic_mutated_documents__never_crash(void **state)
{
	char *orig = read_all(learnware_path(0));
	size_t len = strlen(orig);
	uint64_t x = 88172645463325252ULL;
	lw_semantic *user;

	(void)state;
	assert_int_equal(lw_semantic_load(&user, lwt_shared_path(FIX "user_semantic.json")), 0);
	for (int round = 0; round < 3000; round++) {
		char *text = malloc(len + 1);
		lw_semantic *s = NULL;
		lw_semantic_status status;
		lw_semantic_problems p;
		char *out;
		int err;

		memcpy(text, orig, len + 1);
		for (int k = 0; k < 1 + round % 4; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			text[x % len] = "{}[]\",:-0123456789 aZ\\n"[(x >> 32) % 23];
		}
		err = lw_semantic_from_json(&s, text, len, "m.json");
		if (err == 0) {
			assert_int_equal(lw_semantic_validate(&status, &p, s, NULL), 0);
			lw_semantic_problems_dispose(&p);
			lw_semantic_matches(user, s);
			lw_semantic_matches(s, user);
			assert_int_equal(lw_semantic_to_json(&out, s), 0);
			free(out);
		} else {
			assert_null(s);
			assert_non_null(strstr(lw_error_last()->message, "m.json"));
		}
		lw_semantic_free(s);
		free(text);
	}
	lw_semantic_free(user);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semantic_reference_learnwares__parse_and_validate_ok),
		cmocka_unit_test(test_semantic_reference_learnwares__round_trip_byte_for_byte),
		cmocka_unit_test(test_semantic_reference_user__matches_every_learnware),
		cmocka_unit_test(test_semantic_reference_user__is_not_a_valid_learnware_spec),
		cmocka_unit_test(test_semantic_accessors__read_every_part),
		cmocka_unit_test(test_semantic_accessors__absent_parts_have_plain_answers),
		cmocka_unit_test(test_semantic_builder__writes_what_the_parser_reads),
		cmocka_unit_test(test_semantic_builder__setting_a_key_again_replaces_it_in_place),
		cmocka_unit_test(test_semantic_builder__rejects_bad_arguments),
		cmocka_unit_test(test_semantic_remove__drops_a_key_and_a_block),
		cmocka_unit_test(test_semantic_save_load__round_trips_through_a_file),
		cmocka_unit_test(test_semantic_round_trip__keeps_order_unknown_keys_and_unicode),
		cmocka_unit_test(test_semantic_parse__bad_json_names_line_and_column),
		cmocka_unit_test(test_semantic_parse__wrong_types_name_the_key),
		cmocka_unit_test(test_semantic_parse__bad_dimension_is_refused),
		cmocka_unit_test(test_semantic_parse__bad_descriptions_are_refused),
		cmocka_unit_test(test_semantic_parse__control_bytes_in_keys_are_escaped_in_messages),
		cmocka_unit_test(test_semantic_parse__integral_reals_and_null_blocks_are_read),
		cmocka_unit_test(test_semantic_parse__huge_documents_are_refused_cheaply),
		cmocka_unit_test(test_semantic_validate_valid_spec__has_no_problems),
		cmocka_unit_test(test_semantic_validate_unknown_scenario__names_allowed_values),
		cmocka_unit_test(test_semantic_validate_misspelt_class__suggests_the_value),
		cmocka_unit_test(test_semantic_validate_far_value__gets_no_suggestion),
		cmocka_unit_test(test_semantic_validate_type_mismatch__says_which_type),
		cmocka_unit_test(test_semantic_validate_class__needs_exactly_one_value),
		cmocka_unit_test(test_semantic_validate_tag__needs_one_or_more_allowed_values),
		cmocka_unit_test(test_semantic_validate_string__must_be_non_empty_text),
		cmocka_unit_test(test_semantic_validate_values_string_where_list_belongs__is_reported),
		cmocka_unit_test(test_semantic_validate_missing_values__says_what_the_key_takes),
		cmocka_unit_test(test_semantic_validate_missing_key__says_what_the_key_takes),
		cmocka_unit_test(test_semantic_fill_defaults__adds_a_missing_license_as_apache),
		cmocka_unit_test(test_semantic_fill_defaults__keeps_a_present_license),
		cmocka_unit_test(test_semantic_validate_table_without_input__asks_for_it),
		cmocka_unit_test(test_semantic_validate_description_keys__must_be_below_dimension),
		cmocka_unit_test(test_semantic_validate_many_bad_keys__are_summarised),
		cmocka_unit_test(test_semantic_validate_classifier__needs_output_of_two_or_more),
		cmocka_unit_test(test_semantic_validate_regressor__may_have_one_output),
		cmocka_unit_test(test_semantic_validate_unrequired_blocks__are_not_examined),
		cmocka_unit_test(test_semantic_validate_many_problems__are_all_reported_in_order),
		cmocka_unit_test(test_semantic_validate_null_status__is_an_argument_error),
		cmocka_unit_test(test_semantic_matches_class__learnware_first_value_in_user_list),
		cmocka_unit_test(test_semantic_matches_tag__sets_must_intersect),
		cmocka_unit_test(test_semantic_matches_empty_or_absent__do_not_filter),
		cmocka_unit_test(test_semantic_matches_learnware_without_values__is_filtered_out),
		cmocka_unit_test(test_semantic_matches_name_and_description__are_left_to_text_search),
		cmocka_unit_test(test_semantic_matches_string_where_list_belongs__is_one_value),
		cmocka_unit_test(test_semantic_taxonomy_builtin__is_the_reference_config),
		cmocka_unit_test(test_semantic_taxonomy_extension__adds_keys_and_values),
		cmocka_unit_test(test_semantic_taxonomy_extension__its_rules_apply),
		cmocka_unit_test(test_semantic_taxonomy_replacement__stands_alone),
		cmocka_unit_test(test_semantic_taxonomy_replace_flag__redefines_a_key),
		cmocka_unit_test(test_semantic_taxonomy_bad_files__say_what_is_wrong),
		cmocka_unit_test(test_semantic_taxonomy_json__round_trips_and_loads_from_a_file),
		cmocka_unit_test(test_semantic_taxonomy_describe__lists_keys_and_rules),
		cmocka_unit_test(test_semantic_mutated_documents__never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
