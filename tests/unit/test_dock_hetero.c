/*
 * The dock's heterogeneous map: trained when enough table learnwares
 * describe their columns, retrained as they grow, switched by one event
 * that every handle follows, and searched beside the table search.
 * (How well the map places tables is test_hetero's and bench_hetero's.)
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dock.h"
#include "testutil.h"

typedef lwt_dock_dir fixture;

/* Learnwares made so far: each gets its own name and data. */
static int made;

static const char *const WORDS[] = { "age of the customer in years", "yearly income in dollars",
				     "number of purchases last month", "distance to the nearest shop in km",
				     "share of purchases made online" };

/* Semantic JSON of a dim-column table; described: its columns' descriptions, else none. */
static char *semantic(const char *name, size_t dim, size_t first_word, int described)
{
	char *s = malloc(4096), *p = s;

	p += sprintf(p, "{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]},"
			"\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\"]},"
			"\"Library\":{\"Type\":\"Class\",\"Values\":[\"Others\"]},"
			"\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
			"\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\"]},"
			"\"Name\":{\"Type\":\"String\",\"Values\":\"%s\"},"
			"\"Description\":{\"Type\":\"String\",\"Values\":\"shop table %s\"},"
			"\"Input\":{\"Dimension\":%zu,\"Description\":{", name, name, dim);
	for (size_t i = 0; described && i < dim; i++)
		p += sprintf(p, "%s\"%zu\":\"%s\"", i ? "," : "", i, WORDS[(first_word + i) % 5]);
	sprintf(p, "}},\"Output\":{\"Dimension\":1,\"Description\":{\"0\":\"spend\"}}}");
	return s;
}

static lw_rkme *blob(size_t dim, double c, uint64_t seed)
{
	lw_mat z;
	lw_rng rng;
	double beta[20];
	lw_rkme *r = NULL;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&z, 20, dim), 0);
	for (size_t i = 0; i < 20; i++) {
		beta[i] = 1.0 / 20;
		for (size_t j = 0; j < dim; j++)
			z.data[i * dim + j] = c + 0.5 * lw_rng_normal(&rng) + 0.2 * (double)j;
	}
	assert_int_equal(lw_rkme_new(&r, &z, beta, 0.1, 200), 0);
	lw_mat_dispose(&z);
	return r;
}

static char *make_zip(const fixture *f, size_t dim, size_t first_word, int described)
{
	char dir[4096], yaml[256], name[32], *zip = malloc(4200), *json = NULL, *model = malloc(512), *p;
	lw_rkme *r;
	char *sem;

	snprintf(name, sizeof(name), "t%d", made++);
	sem = semantic(name, dim, first_word, described);
	r = blob(dim, (double)made, 100 + (uint64_t)made);
	snprintf(dir, sizeof(dir), "%s/src-%s", f->tmp, name);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(yaml, sizeof(yaml), "model:\n  kind: linear\n  file: model.json\n  input_shape: [%zu]\n"
				     "  output_shape: [1]\nsemantic_specification: semantic.json\n", dim);
	p = model + sprintf(model, "{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"linear\","
				   "\"task\":\"regression\",\"input_dim\":%zu,\"output_dim\":1,\"layers\":"
				   "[{\"weights\":[[", dim);
	for (size_t i = 0; i < dim; i++)
		p += sprintf(p, "%s1", i ? "," : "");
	sprintf(p, "]],\"bias\":[0],\"activation\":\"identity\"}]}");
	free(lwt_write_file(dir, "learnware.yaml", yaml));
	free(lwt_write_file(dir, "model.json", model));
	free(lwt_write_file(dir, "semantic.json", sem));
	assert_int_equal(lw_rkme_to_json(&json, r), 0);
	free(lwt_write_file(dir, "stat_spec.json", json));
	sprintf(zip, "%s/%s.zip", f->tmp, name);
	assert_int_equal(lw_package_pack(NULL, dir, zip, NULL), 0);
	free(json);
	free(sem);
	free(model);
	lw_rkme_free(r);
	return zip;
}

static lw_hetero_options hopts;

static lw_dock *open_dock(const fixture *f)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;

	lw_hetero_options_init(&hopts);
	hopts.steps = 20; /* the dock's behaviour, not the map's quality */
	hopts.epochs = 0;
	o.hetero = &hopts;
	o.hetero_min = 3;
	o.hetero_growth = 0.5; /* with 3 sources, 0.25 would retrain at every add */
	assert_int_equal(lw_dock_open(&d, f->dock, &o), 0);
	return d;
}

static void add(const fixture *f, lw_dock *d, size_t dim, size_t first_word, int described)
{
	char *zip = make_zip(f, dim, first_word, described);
	lw_dock_added a;

	assert_int_equal(lw_dock_add(&a, d, zip, NULL, NULL), 0);
	assert_int_equal(a.status, LW_CHECK_USABLE);
	lw_dock_added_dispose(&a);
	free(zip);
}

static void info(lw_dock_hetero_info *out, lw_dock *d)
{
	assert_int_equal(lw_dock_hetero_info_get(out, d), 0);
}

static size_t map_files(const fixture *f)
{
	char dir[4200];
	struct dirent *e;
	DIR *dh;
	size_t n = 0;

	snprintf(dir, sizeof(dir), "%s/hetero", f->dock);
	if (!(dh = opendir(dir)))
		return 0;
	while ((e = readdir(dh)))
		n += !strncmp(e->d_name, "map-", 4);
	closedir(dh);
	return n;
}

static void test_dock_hetero__first_map_waits_for_enough_described_learnwares(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_dock(f);
	lw_dock_hetero_info in;
	lw_hetero_spec *hs = NULL;
	char *json = NULL;

	add(f, d, 3, 0, 1);
	add(f, d, 4, 1, 1);
	add(f, d, 3, 2, 0); /* no descriptions: never a source */
	info(&in, d);
	assert_string_equal(in.map_id, "");
	assert_int_equal(in.described, 2);
	assert_false(in.due);
	assert_int_equal(map_files(f), 0);

	add(f, d, 2, 3, 1);
	info(&in, d);
	assert_int_equal(strlen(in.map_id), LW_HETERO_ID_SIZE - 1);
	assert_int_equal(in.generation, 1);
	assert_int_equal(in.trained_on, 3);
	assert_int_equal(map_files(f), 1);

	/* Every described learnware's specification is stored, made by that map. */
	assert_int_equal(lw_store_spec_get(&json, lw_dock_store(d), "00000001", LW_HETERO_SPEC_TYPE), 0);
	assert_int_equal(lw_hetero_spec_from_json(&hs, json, strlen(json), "spec"), 0);
	assert_string_equal(hs->map_id, in.map_id);
	assert_int_equal(hs->map_generation, 1);
	lw_hetero_spec_free(hs);
	free(json);
	assert_int_equal(lw_store_spec_get(&json, lw_dock_store(d), "00000003", LW_HETERO_SPEC_TYPE),
			 LW_ENOTFOUND);
	lw_dock_free(d);
}

static void test_dock_hetero__retrains_after_growth_and_other_handles_follow(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_dock(f), *other;
	lw_dock_hetero_info in, in2;
	char first[LW_HETERO_ID_SIZE];
	lw_hetero_spec *hs = NULL;
	char *json = NULL;

	for (size_t i = 0; i < 4; i++)
		add(f, d, 2 + i % 3, i, 1);
	info(&in, d);
	assert_int_equal(in.generation, 1);
	assert_int_equal(in.trained_on, 3); /* trained at the third, not again at the fourth */
	snprintf(first, sizeof(first), "%s", in.map_id);
	other = open_dock(f);
	info(&in2, other);
	assert_string_equal(in2.map_id, first);

	add(f, d, 3, 4, 1); /* 5 >= 3 x 1.5 */
	info(&in, d);
	assert_int_equal(in.generation, 2);
	assert_int_equal(in.trained_on, 5);
	assert_string_not_equal(in.map_id, first);
	assert_int_equal(map_files(f), 1); /* the old map's file is gone */
	assert_int_equal(lw_store_spec_get(&json, lw_dock_store(d), "00000002", LW_HETERO_SPEC_TYPE), 0);
	assert_int_equal(lw_hetero_spec_from_json(&hs, json, strlen(json), "spec"), 0);
	assert_string_equal(hs->map_id, in.map_id);
	lw_hetero_spec_free(hs);
	free(json);

	/* The other handle picks the new map up at its next look. */
	info(&in2, other);
	assert_string_equal(in2.map_id, in.map_id);
	lw_dock_free(other);
	lw_dock_free(d);
}

static void test_dock_search__heterogeneous_results_come_from_other_feature_spaces(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_dock(f);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_hetero_info in;
	lw_dock_result r;
	lw_rkme *user = blob(3, 2.0, 7);
	char *sem = semantic("", 3, 0, 1);

	q.rkme = user;
	q.semantic_json = sem;
	add(f, d, 3, 0, 1); /* the user's own feature space */
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_null(r.hetero);
	assert_non_null(strstr(r.hetero_why, "no heterogeneous map"));
	lw_dock_result_dispose(&r);

	add(f, d, 4, 1, 1);
	add(f, d, 2, 3, 1);
	info(&in, d);
	assert_int_equal(in.generation, 1);
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_int_equal(r.candidates, 1); /* the same-space learnware, by the table search */
	assert_non_null(r.hetero);
	assert_string_equal(r.hetero_map, in.map_id);
	assert_int_equal(r.hetero->candidates, 2);
	assert_true(r.hetero->count >= 1);
	for (size_t i = 0; i < r.hetero->count; i++) {
		assert_string_not_equal(r.hetero->hits[i].id, "00000001");
		assert_true(isfinite(r.hetero->hits[i].mmd2));
	}
	lw_dock_result_dispose(&r);

	/* Without described columns the reference's rules say no, and why. */
	free(sem);
	sem = semantic("", 3, 0, 0);
	q.semantic_json = sem;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_null(r.hetero);
	assert_non_null(r.hetero_why);
	lw_dock_result_dispose(&r);
	q.hetero = -1;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_null(r.hetero);
	lw_dock_result_dispose(&r);
	lw_dock_free(d);
	lw_rkme_free(user);
	free(sem);
}

static void test_dock_hetero_train__force_needs_two_described_learnwares(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_dock(f);
	int trained = -1;

	add(f, d, 3, 0, 1);
	assert_int_equal(lw_dock_hetero_train(&trained, d, 1), LW_EINVALID);
	assert_int_equal(trained, 0);
	assert_non_null(strstr(lw_error_last()->message, "at least 2"));
	add(f, d, 4, 0, 1);
	assert_int_equal(lw_dock_hetero_train(&trained, d, 1), 0);
	assert_int_equal(trained, 1);
	lw_dock_free(d);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, lwt_dock_dir_setup, lwt_dock_dir_teardown)
	const struct CMUnitTest tests[] = {
		T(test_dock_hetero__first_map_waits_for_enough_described_learnwares),
		T(test_dock_hetero__retrains_after_growth_and_other_handles_follow),
		T(test_dock_search__heterogeneous_results_come_from_other_feature_spaces),
		T(test_dock_hetero_train__force_needs_two_described_learnwares),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
