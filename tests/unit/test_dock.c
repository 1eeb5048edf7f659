/*
 * The dock: the organiser's rules, the index kept in step with the store
 * across handles and crashes, and search through both paths.
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

#define DIM 4

typedef struct {
	char *tmp;
	char *dock;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->tmp = lwt_mkdtemp();
	f->dock = malloc(strlen(f->tmp) + 8);
	sprintf(f->dock, "%s/dock", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	lwt_rmtree(f->tmp);
	free(f->tmp);
	free(f->dock);
	free(f);
	return 0;
}

static const char model_json[] =
	"{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"linear\",\"task\":\"regression\","
	"\"input_dim\":4,\"output_dim\":1,\"layers\":[{\"weights\":[[1,1,1,1]],\"bias\":[0],"
	"\"activation\":\"identity\"}]}";

static char *semantic(const char *name, const char *scenario)
{
	char *s = malloc(1024);

	snprintf(s, 1024,
		 "{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]},"
		 "\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\"]},"
		 "\"Library\":{\"Type\":\"Class\",\"Values\":[\"Others\"]},"
		 "\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
		 "\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"%s\"]},"
		 "\"Name\":{\"Type\":\"String\",\"Values\":\"%s\"},"
		 "\"Description\":{\"Type\":\"String\",\"Values\":\"test learnware %s\"},"
		 "\"Input\":{\"Dimension\":4,\"Description\":{\"0\":\"a\",\"1\":\"b\",\"2\":\"c\",\"3\":\"d\"}},"
		 "\"Output\":{\"Dimension\":1,\"Description\":{\"0\":\"sum\"}}}",
		 scenario, name, name);
	return s;
}

/* An RKME of 20 points around (c, c, c, c). */
static lw_rkme *blob(double c, uint64_t seed)
{
	lw_mat z;
	lw_rng rng;
	double beta[20];
	lw_rkme *r = NULL;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&z, 20, DIM), 0);
	for (size_t i = 0; i < 20; i++) {
		beta[i] = 1.0 / 20;
		for (size_t j = 0; j < DIM; j++)
			z.data[i * DIM + j] = c + 0.3 * lw_rng_normal(&rng);
	}
	assert_int_equal(lw_rkme_new(&r, &z, beta, 0.1, 200), 0);
	lw_mat_dispose(&z);
	return r;
}

/* A packed learnware whose data sit around c, with this statistical specification (NULL: its RKME). */
static char *make_zip_spec(const fixture *f, const char *name, double c, const char *model,
			   const char *stat_spec)
{
	char dir[4096], *zip = malloc(4200), *json = NULL, *sem = semantic(name, "Business");
	lw_rkme *r = blob(c, (uint64_t)(c * 1000) + 7);

	snprintf(dir, sizeof(dir), "%s/src-%s", f->tmp, name);
	/* The same learnware may be made again for a second dock. */
	assert_true(mkdir(dir, 0755) == 0 || access(dir, F_OK) == 0);
	free(lwt_write_file(dir, "learnware.yaml",
			    "model:\n  kind: linear\n  file: model.json\n  input_shape: [4]\n"
			    "  output_shape: [1]\nsemantic_specification: semantic.json\n"));
	free(lwt_write_file(dir, "model.json", model ? model : model_json));
	free(lwt_write_file(dir, "semantic.json", sem));
	assert_int_equal(lw_rkme_to_json(&json, r), 0);
	free(lwt_write_file(dir, "stat_spec.json", stat_spec ? stat_spec : json));
	sprintf(zip, "%s/%s.zip", f->tmp, name);
	assert_int_equal(lw_package_pack(NULL, dir, zip, NULL), 0);
	free(json);
	free(sem);
	lw_rkme_free(r);
	return zip;
}

/* A packed learnware whose data sit around c. */
static char *make_zip(const fixture *f, const char *name, double c, const char *model)
{
	return make_zip_spec(f, name, c, model, NULL);
}

static lw_dock *open_dock(const fixture *f, int read_only)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;

	o.read_only = read_only;
	assert_int_equal(lw_dock_open(&d, f->dock, &o), 0);
	return d;
}

static void add_ok(lw_dock *d, const char *zip, const char *want_id)
{
	lw_dock_added a;

	assert_int_equal(lw_dock_add(&a, d, zip, NULL, "tester"), 0);
	assert_int_equal(a.status, LW_CHECK_USABLE);
	assert_string_equal(a.record.id, want_id);
	assert_int_equal(a.record.usability, LW_USABILITY_USABLE);
	lw_dock_added_dispose(&a);
}

static void test_dock_add__usable_learnware_is_stored_and_indexed(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "one", 0.0, NULL);
	lw_dock *d = open_dock(f, 0);
	char *log = NULL;

	add_ok(d, zip, "00000001");
	assert_int_equal(lw_dock_indexed(d), 1);
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), 0);
	assert_non_null(strstr(log, "result      usable"));
	free(log);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_add__invalid_learnware_is_refused_and_not_stored(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "broken", 0.0, "{\"kind\":\"linear\"}");
	lw_dock *d = open_dock(f, 0);
	lw_dock_added a;
	size_t n = 99;
	lw_learnware_filter all = LW_LEARNWARE_FILTER_INIT;

	assert_int_equal(lw_dock_add(&a, d, zip, NULL, NULL), LW_EINVALID);
	assert_int_equal(a.status, LW_CHECK_INVALID);
	assert_non_null(strstr(lw_error_last()->message, "refused"));
	assert_non_null(strstr(a.log, "FAIL"));
	lw_dock_added_dispose(&a);
	assert_int_equal(lw_store_count(&n, lw_dock_store(d), &all), 0);
	assert_int_equal(n, 0);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_add__same_content_twice_is_refused(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "dup", 0.0, NULL);
	lw_dock *d = open_dock(f, 0);
	lw_dock_added a;

	add_ok(d, zip, "00000001");
	assert_int_equal(lw_dock_add(&a, d, zip, NULL, NULL), LW_EEXISTS);
	assert_non_null(strstr(lw_error_last()->message, "00000001"));
	lw_dock_added_dispose(&a);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_add__invalid_semantic_override_names_the_problem(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "sem", 0.0, NULL);
	lw_dock *d = open_dock(f, 0);
	lw_dock_added a;

	assert_int_equal(lw_dock_add(&a, d, zip, "{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Video\"]}}",
				     NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "Video"));
	lw_dock_added_dispose(&a);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_open__sees_changes_another_handle_never_saved(void **state)
{
	fixture *f = *state;
	char *z1 = make_zip(f, "a", 0.0, NULL), *z2 = make_zip(f, "b", 3.0, NULL);
	lw_dock *writer = open_dock(f, 1), *other;

	/* A read-only handle never saves its index: as if it crashed after the adds. */
	add_ok(writer, z1, "00000001");
	add_ok(writer, z2, "00000002");
	other = open_dock(f, 0);
	assert_int_equal(lw_dock_indexed(other), 2);
	assert_int_equal(lw_dock_delete(writer, "00000001"), 0);
	lw_dock_free(writer);
	lw_dock_free(other);
	other = open_dock(f, 0);
	assert_int_equal(lw_dock_indexed(other), 1);
	lw_dock_free(other);
	free(z1);
	free(z2);
}

static void test_dock_open__corrupt_index_file_is_rebuilt(void **state)
{
	fixture *f = *state;
	char *z1 = make_zip(f, "a", 0.0, NULL), path[4200];
	lw_dock *d = open_dock(f, 0);
	struct dirent *de;
	DIR *dh;
	int corrupted = 0;

	add_ok(d, z1, "00000001");
	lw_dock_free(d);
	/* Every saved index becomes garbage. */
	snprintf(path, sizeof(path), "%s/index", f->dock);
	assert_non_null(dh = opendir(path));
	while ((de = readdir(dh))) {
		if (!strstr(de->d_name, ".lwix"))
			continue;
		free(lwt_write_file(path, de->d_name, "garbage"));
		corrupted++;
	}
	closedir(dh);
	assert_int_equal(corrupted, 1);
	d = open_dock(f, 0);
	assert_int_equal(lw_dock_indexed(d), 1);
	lw_dock_free(d);
	free(z1);
}

static void test_dock_delete__ids_are_never_reused(void **state)
{
	fixture *f = *state;
	char *z1 = make_zip(f, "a", 0.0, NULL), *z2 = make_zip(f, "b", 3.0, NULL);
	lw_dock *d = open_dock(f, 0);

	add_ok(d, z1, "00000001");
	assert_int_equal(lw_dock_delete(d, "00000001"), 0);
	assert_int_equal(lw_dock_indexed(d), 0);
	assert_int_equal(lw_dock_delete(d, "00000001"), LW_ENOTFOUND);
	add_ok(d, z2, "00000002");
	add_ok(d, z1, "00000003");
	lw_dock_free(d);
	free(z1);
	free(z2);
}

static void test_dock_update_semantic__keeps_the_status(void **state)
{
	fixture *f = *state;
	char *z1 = make_zip(f, "a", 0.0, NULL), *sem = semantic("renamed", "Health");
	lw_dock *d = open_dock(f, 0);
	lw_learnware_record r = { 0 };

	add_ok(d, z1, "00000001");
	assert_int_equal(lw_dock_update_semantic(d, "00000001", sem), 0);
	assert_int_equal(lw_store_get(&r, lw_dock_store(d), "00000001"), 0);
	assert_int_equal(r.usability, LW_USABILITY_USABLE);
	assert_non_null(strstr(r.semantic_json, "renamed"));
	lw_learnware_record_dispose(&r);
	assert_int_equal(lw_dock_update_semantic(d, "00000001", "{\"Data\":7}"), LW_EINVALID);
	assert_int_equal(lw_dock_update_semantic(d, "00000009", sem), LW_ENOTFOUND);
	lw_dock_free(d);
	free(z1);
	free(sem);
}

/* Three learnwares at 0, 3 and 6; the user is at 3. */
static lw_dock *three_blobs(const fixture *f, size_t exact_limit)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;
	const char *names[] = { "zero", "three", "six" };

	o.exact_limit = exact_limit;
	assert_int_equal(lw_dock_open(&d, f->dock, &o), 0);
	for (int i = 0; i < 3; i++) {
		char *zip = make_zip(f, names[i], 3.0 * i, NULL), id[16];

		snprintf(id, sizeof(id), "%08d", i + 1);
		add_ok(d, zip, id);
		free(zip);
	}
	return d;
}

static void test_dock_search__ranks_by_mmd_on_both_paths(void **state)
{
	fixture *f = *state;
	lw_rkme *user = blob(3.0, 99);

	for (int path = 0; path < 2; path++) {
		lw_dock *d = three_blobs(f, path ? 0 : 4096);
		lw_dock_query q = LW_DOCK_QUERY_INIT;
		lw_dock_result r;

		q.rkme = user;
		assert_int_equal(lw_dock_search(&r, d, &q), 0);
		assert_int_equal(r.used_index, path);
		assert_true(r.statistical);
		assert_int_equal(r.candidates, 3);
		assert_true(r.count >= 1);
		assert_string_equal(r.hits[0].id, "00000002");
		assert_string_equal(r.hits[0].name, "three");
		assert_true(r.hits[0].mmd2 < 0.05);
		lw_dock_result_dispose(&r);
		lw_dock_free(d);
		lwt_rmtree(f->dock);
	}
	lw_rkme_free(user);
}

static void test_dock_search__semantic_filter_applies_before_ranking(void **state)
{
	fixture *f = *state;
	lw_dock *d = three_blobs(f, 4096);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	lw_rkme *user = blob(3.0, 99);

	q.rkme = user;
	q.semantic_json = "{\"Name\":{\"Type\":\"String\",\"Values\":\"six\"}}";
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_int_equal(r.semantic_matches, 1);
	assert_int_equal(r.count, 1);
	assert_string_equal(r.hits[0].id, "00000003");
	lw_dock_result_dispose(&r);
	/* Semantic search alone. */
	q.rkme = NULL;
	q.semantic_json = "{\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\",\"Health\"]}}";
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_false(r.statistical);
	assert_int_equal(r.count, 3);
	lw_dock_result_dispose(&r);
	lw_dock_free(d);
	lw_rkme_free(user);
}

static void test_dock_search__user_rkme_of_another_dimension_finds_nothing(void **state)
{
	fixture *f = *state;
	lw_dock *d = three_blobs(f, 4096);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	lw_rkme *user = NULL;
	lw_mat z;
	double beta[1] = { 1 };

	assert_int_equal(lw_mat_init(&z, 1, 2), 0);
	z.data[0] = z.data[1] = 0;
	assert_int_equal(lw_rkme_new(&user, &z, beta, 0.1, 1), 0);
	q.rkme = user;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	assert_int_equal(r.count, 0);
	assert_int_equal(r.candidates, 0);
	lw_dock_result_dispose(&r);
	lw_mat_dispose(&z);
	lw_rkme_free(user);
	lw_dock_free(d);
}

static void test_dock_model_open__stored_model_predicts(void **state)
{
	fixture *f = *state;
	lw_dock *d = three_blobs(f, 4096);
	lw_model *m = NULL;
	lw_rkme *r = NULL;
	lw_mat X, Y;

	assert_int_equal(lw_dock_model_open(&m, d, "00000002"), 0);
	assert_int_equal(lw_model_input_dim(m), 4);
	assert_int_equal(lw_mat_init(&X, 2, 4), 0);
	for (size_t i = 0; i < 8; i++)
		X.data[i] = (double)i;
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	lwt_assert_near(Y.data[0], 0 + 1 + 2 + 3, 1e-9);
	lwt_assert_near(Y.data[1], 4 + 5 + 6 + 7, 1e-9);
	lw_mat_dispose(&Y);
	lw_mat_dispose(&X);
	lw_model_free(m);
	assert_int_equal(lw_dock_model_open(&m, d, "00000042"), LW_ENOTFOUND);
	assert_int_equal(lw_dock_rkme(&r, d, "00000003"), 0);
	assert_int_equal(lw_rkme_dim(r), 4);
	lwt_assert_near(r->z.data[0], 6.0, 1.5);
	lw_rkme_free(r);
	lw_dock_free(d);
}

/* Forgetting one cached specification keeps every other one findable,
 * also when they share probe runs in a small table. */
static void test_dock_cache__forgetting_one_keeps_the_others(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_dock(f, 1);
	lw_rkme *r[7];
	const lw_rkme *got;
	lw_rkme *own;
	char id[16];

	free(d->cache);
	d->cache_cap = 16;
	d->cache_used = 0;
	assert_non_null(d->cache = calloc(d->cache_cap, sizeof(*d->cache)));
	for (uint64_t k = 1; k <= 7; k++) {
		size_t i = (size_t)(k * 0x9e3779b97f4a7c15ULL) & 15;

		while (d->cache[i].id)
			i = (i + 1) & 15;
		d->cache[i].id = k;
		d->cache[i].rkme = r[k - 1] = blob((double)k, k);
		d->cache_used++;
	}
	for (uint64_t gone = 1; gone <= 7; gone += 3) {
		snprintf(id, sizeof(id), "%08llu", (unsigned long long)gone);
		lw__dock_uncache(d, id);
		for (uint64_t k = gone + 1; k <= 7; k++) {
			snprintf(id, sizeof(id), "%08llu", (unsigned long long)k);
			/* The store has none of these ids: only the cache can answer. */
			assert_int_equal(lw__dock_rkme(&got, &own, d, id), 0);
			assert_ptr_equal(got, r[k - 1]);
		}
		snprintf(id, sizeof(id), "%08llu", (unsigned long long)gone);
		assert_int_equal(lw__dock_rkme(&got, &own, d, id), LW_ENOTFOUND);
	}
	assert_int_equal(d->cache_used, 4);
	lw_dock_free(d);
}

static void test_dock_export_import__round_trip_keeps_every_learnware(void **state)
{
	fixture *f = *state;
	lw_dock *d = three_blobs(f, 4096), *copy = NULL;
	char zip[4200], other[4200];
	size_t n = 0, added = 0, skipped = 0, refused = 0;

	snprintf(zip, sizeof(zip), "%s/export.zip", f->tmp);
	snprintf(other, sizeof(other), "%s/copy", f->tmp);
	assert_int_equal(lw_dock_export(&n, d, zip), 0);
	assert_int_equal(n, 3);
	assert_int_equal(lw_dock_open(&copy, other, NULL), 0);
	assert_int_equal(lw_dock_import(&added, &skipped, &refused, copy, zip), 0);
	assert_int_equal(added, 3);
	assert_int_equal(lw_dock_indexed(copy), 3);
	{
		lw_learnware_record r = { 0 };

		/* Same ids in the copy. */
		assert_int_equal(lw_store_get(&r, lw_dock_store(copy), "00000003"), 0);
		assert_non_null(strstr(r.semantic_json, "six"));
		lw_learnware_record_dispose(&r);
	}
	assert_int_equal(lw_dock_import(&added, &skipped, &refused, copy, zip), 0);
	assert_int_equal(added, 0);
	assert_int_equal(skipped, 3);
	/* Not an export: refused with a message. */
	assert_int_equal(lw_dock_import(NULL, NULL, NULL, copy, f->dock), LW_EINVALID);
	lw_dock_free(copy);
	lw_dock_free(d);
}

/* --- deferred checks and workers ---------------------------------------------------- */

static lw_dock *open_with(const fixture *f, int defer_check, int no_index)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;

	o.defer_check = defer_check;
	o.no_index = no_index;
	if (lw_dock_open(&d, f->dock, &o) != 0)
		fail_msg("lw_dock_open: %s", lw_error_last()->message);
	return d;
}

/* Statistical search for a user at c: the ids found, space-separated (caller frees). */
static char *found_near(lw_dock *d, double c)
{
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	lw_rkme *user = blob(c, 99);
	char *s = calloc(1, 512);

	q.rkme = user;
	assert_int_equal(lw_dock_search(&r, d, &q), 0);
	for (size_t i = 0; i < r.count; i++)
		snprintf(s + strlen(s), 512 - strlen(s), "%s%s", i ? " " : "", r.hits[i].id);
	lw_dock_result_dispose(&r);
	lw_rkme_free(user);
	return s;
}

static void add_deferred(lw_dock *d, const char *zip, const char *want_id)
{
	lw_dock_added a;

	if (lw_dock_add(&a, d, zip, NULL, "tester") != 0)
		fail_msg("deferred add %s: %s", zip, lw_error_last()->message);
	assert_string_equal(a.record.id, want_id);
	assert_int_equal(a.record.status, LW_STATUS_QUEUED);
	assert_int_equal(a.record.usability, LW_USABILITY_NONUSABLE);
	assert_int_equal(a.status, LW_CHECK_NONUSABLE);
	assert_non_null(strstr(a.log, "queued"));
	lw_dock_added_dispose(&a);
}

static void work_one(lw_dock *d)
{
	int did = -1, err = lw_dock_work(&did, d, "worker-1");

	if (err != 0)
		fail_msg("lw_dock_work: %d %s", err, lw_error_last()->message);
	assert_int_equal(did, 1);
}

static void test_dock_defer__add_stores_queued_and_search_does_not_see_it(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "later", 0.0, NULL), *found, *log = NULL;
	lw_dock *d = open_with(f, 1, 0);
	size_t counts[LW_JOB_NSTATES];
	lw_dock_added a;

	add_deferred(d, zip, "00000001");
	assert_int_equal(lw_dock_indexed(d), 0);
	found = found_near(d, 0.0);
	assert_string_equal(found, "");
	free(found);
	assert_int_equal(lw_store_job_count(counts, lw_dock_store(d)), 0);
	assert_int_equal(counts[LW_JOB_QUEUED], 1);
	/* No log before the check; the message says why. */
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), LW_ENOTFOUND);
	assert_non_null(strstr(lw_error_last()->message, "queued"));
	/* The same content again is refused, naming the learnware that has it. */
	assert_int_equal(lw_dock_add(&a, d, zip, NULL, NULL), LW_EEXISTS);
	assert_string_equal(a.record.id, "00000001");
	assert_non_null(strstr(lw_error_last()->message, "00000001"));
	lw_dock_added_dispose(&a);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_defer__bad_statistical_specification_is_refused_before_queueing(void **state)
{
	fixture *f = *state;
	char *zip = make_zip_spec(f, "badspec", 0.0, NULL, "{\"type\":\"RKMETableSpecification\"}");
	lw_dock *d = open_with(f, 1, 0);
	lw_learnware_filter all = LW_LEARNWARE_FILTER_INIT;
	lw_dock_added a;
	size_t n = 99;

	assert_int_equal(lw_dock_add(&a, d, zip, NULL, NULL), LW_EINVALID);
	lw_dock_added_dispose(&a);
	assert_int_equal(lw_store_count(&n, lw_dock_store(d), &all), 0);
	assert_int_equal(n, 0);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_work__checks_the_job_and_other_handles_see_it_after_refresh(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "queued", 3.0, NULL), *found, *log = NULL;
	lw_dock *other = open_with(f, 0, 0), *d = open_with(f, 1, 0);
	lw_job_record job;
	lw_learnware_record r = { 0 };

	add_deferred(d, zip, "00000001");
	work_one(d);
	assert_int_equal(lw_store_get(&r, lw_dock_store(d), "00000001"), 0);
	assert_int_equal(r.status, LW_STATUS_SUCCESS);
	assert_int_equal(r.usability, LW_USABILITY_USABLE);
	lw_learnware_record_dispose(&r);
	/* Searchable at once in the handle that checked it. */
	assert_int_equal(lw_dock_indexed(d), 1);
	found = found_near(d, 3.0);
	assert_string_equal(found, "00000001");
	free(found);
	/* The job's log is the check log. */
	assert_int_equal(lw_store_job_latest(&job, lw_dock_store(d), "00000001"), 0);
	assert_int_equal(job.state, LW_JOB_DONE);
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), 0);
	assert_string_equal(log, job.log);
	assert_non_null(strstr(log, "result      usable"));
	free(log);
	lw_job_record_dispose(&job);
	/* A handle opened before sees it once it refreshes. */
	assert_int_equal(lw_dock_indexed(other), 0);
	assert_int_equal(lw_dock_refresh(other), 0);
	assert_int_equal(lw_dock_indexed(other), 1);
	found = found_near(other, 3.0);
	assert_string_equal(found, "00000001");
	free(found);
	assert_int_equal(lw_dock_refresh(other), 0);
	assert_int_equal(lw_dock_indexed(other), 1);
	lw_dock_free(other);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_work__empty_queue_does_nothing(void **state)
{
	fixture *f = *state;
	lw_dock *d = open_with(f, 1, 0);
	int did = -1;

	assert_int_equal(lw_dock_work(&did, d, "worker-1"), 0);
	assert_int_equal(did, 0);
	lw_dock_free(d);
}

static void test_dock_work__invalid_package_ends_invalid_with_the_reason_in_its_log(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "broken", 0.0, "{\"kind\":\"linear\"}"), *log = NULL;
	lw_dock *d = open_with(f, 1, 0);
	lw_learnware_record r = { 0 };
	lw_job_record job;
	int did = -1;

	/* The model is only read by the checker: the add itself succeeds. */
	add_deferred(d, zip, "00000001");
	work_one(d);
	assert_int_equal(lw_store_get(&r, lw_dock_store(d), "00000001"), 0);
	assert_int_equal(r.status, LW_STATUS_SUCCESS);
	assert_int_equal(r.usability, LW_USABILITY_INVALID);
	lw_learnware_record_dispose(&r);
	assert_int_equal(lw_store_job_latest(&job, lw_dock_store(d), "00000001"), 0);
	assert_int_equal(job.state, LW_JOB_DONE);
	assert_non_null(strstr(job.log, "FAIL"));
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), 0);
	assert_string_equal(log, job.log);
	free(log);
	lw_job_record_dispose(&job);
	assert_int_equal(lw_dock_indexed(d), 0);
	assert_int_equal(lw_dock_work(&did, d, "worker-1"), 0);
	assert_int_equal(did, 0);
	lw_dock_free(d);
	free(zip);
}

static void test_dock_defer__new_package_leaves_search_until_checked(void **state)
{
	fixture *f = *state;
	char *z1 = make_zip(f, "v1", 0.0, NULL), *z2 = make_zip(f, "v2", 6.0, NULL), *found, *log = NULL;
	lw_dock *d = open_with(f, 1, 0);
	lw_dock_added a;

	add_deferred(d, z1, "00000001");
	work_one(d);
	assert_int_equal(lw_dock_indexed(d), 1);
	assert_int_equal(lw_dock_update_zip(&a, d, "00000001", z2, NULL), 0);
	assert_int_equal(a.record.status, LW_STATUS_QUEUED);
	assert_non_null(strstr(a.log, "queued"));
	lw_dock_added_dispose(&a);
	assert_int_equal(lw_dock_indexed(d), 0);
	/* The old package's log is not the new one's. */
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), LW_ENOTFOUND);
	work_one(d);
	found = found_near(d, 6.0);
	assert_string_equal(found, "00000001");
	free(found);
	assert_int_equal(lw_dock_check_log(&log, d, "00000001"), 0);
	free(log);
	lw_dock_free(d);
	free(z1);
	free(z2);
}

/* The saved index files under the dock (0 when the folder does not exist). */
static int index_files(const fixture *f)
{
	char path[4200];
	struct dirent *de;
	DIR *dh;
	int n = 0;

	snprintf(path, sizeof(path), "%s/index", f->dock);
	if (!(dh = opendir(path)))
		return 0;
	while ((de = readdir(dh)))
		n += strstr(de->d_name, ".lwix") != NULL;
	closedir(dh);
	return n;
}

static void test_dock_open__no_index_writes_no_index_file_and_refuses_search(void **state)
{
	fixture *f = *state;
	char *zip = make_zip(f, "plain", 0.0, NULL);
	lw_dock *d = open_with(f, 0, 1);
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;

	add_ok(d, zip, "00000001");
	assert_int_equal(lw_dock_indexed(d), 0);
	assert_int_equal(lw_dock_search(&r, d, &q), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "opened without an index"));
	assert_int_equal(lw_dock_refresh(d), 0);
	assert_int_equal(lw_dock_reindex(d), LW_EINVALID);
	lw_dock_free(d);
	assert_int_equal(index_files(f), 0);
	/* The events were recorded: a handle with an index sees the learnware. */
	d = open_with(f, 0, 0);
	assert_int_equal(lw_dock_indexed(d), 1);
	lw_dock_free(d);
	assert_int_equal(index_files(f), 1);
	free(zip);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dock_add__usable_learnware_is_stored_and_indexed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_add__invalid_learnware_is_refused_and_not_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_add__same_content_twice_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_add__invalid_semantic_override_names_the_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_open__sees_changes_another_handle_never_saved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_open__corrupt_index_file_is_rebuilt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_delete__ids_are_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_update_semantic__keeps_the_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_search__ranks_by_mmd_on_both_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_search__semantic_filter_applies_before_ranking, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_search__user_rkme_of_another_dimension_finds_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_model_open__stored_model_predicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_cache__forgetting_one_keeps_the_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_export_import__round_trip_keeps_every_learnware, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_defer__add_stores_queued_and_search_does_not_see_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_defer__bad_statistical_specification_is_refused_before_queueing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_defer__new_package_leaves_search_until_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_work__checks_the_job_and_other_handles_see_it_after_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_work__empty_queue_does_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_work__invalid_package_ends_invalid_with_the_reason_in_its_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dock_open__no_index_writes_no_index_file_and_refuses_search, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
