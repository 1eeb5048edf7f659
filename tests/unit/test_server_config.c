/*
 * The server's configuration, route table and metrics text: everything
 * that decides how a request is read before any handler runs.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "testutil.h"

static void test_config_defaults__are_safe_for_a_single_machine(void **state)
{
	lw_server_config c;

	(void)state;
	lw_server_config_init(&c);
	assert_string_equal(c.listen, "127.0.0.1:8080"); /* loopback unless told otherwise */
	assert_int_equal(c.threads, 4);
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.allow_register, 1);
	assert_true(c.login_attempts > 0 && c.login_window_s > 0);
	lw_server_config_dispose(&c);
}

static void test_config_file__sets_keys_and_names_the_bad_line(void **state)
{
	char *dir = lwt_mkdtemp(), *good, *bad, *unknown;
	lw_server_config c;

	(void)state;
	good = lwt_write_file(dir, "good.conf",
			      "# a comment\n\nlisten = 0.0.0.0:9000  # trailing comment\n"
			      "dock = \"/srv/my dock # not a comment\"\nthreads=8\nallow_register = false\n");
	bad = lwt_write_file(dir, "bad.conf", "threads = 8\nworkers = lots\n");
	unknown = lwt_write_file(dir, "unknown.conf", "listen = 127.0.0.1:1\nlisten_port = 80\n");
	lw_server_config_init(&c);
	assert_int_equal(lw_server_config_load(&c, good), 0);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_string_equal(c.dock, "/srv/my dock # not a comment");
	assert_int_equal(c.threads, 8);
	assert_int_equal(c.allow_register, 0);
	assert_int_equal(lw_server_config_load(&c, bad), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "bad.conf:2"));
	assert_non_null(strstr(lw_error_last()->message, "workers"));
	assert_int_equal(lw_server_config_load(&c, unknown), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "unknown key \"listen_port\""));
	lw_server_config_dispose(&c);
	free(good);
	free(bad);
	free(unknown);
	lwt_rmtree(dir);
	free(dir);
}

static void test_config_env__overrides_and_checks_ranges(void **state)
{
	lw_server_config c;

	(void)state;
	lw_server_config_init(&c);
	setenv("LEARNWARE_MAX_UPLOAD_MB", "16", 1);
	setenv("LEARNWARE_ACCESS_LOG", "yes", 1);
	assert_int_equal(lw_server_config_env(&c), 0);
	assert_int_equal(c.max_upload_mb, 16);
	assert_int_equal(c.access_log, 1);
	setenv("LEARNWARE_THREADS", "0", 1);
	assert_int_equal(lw_server_config_env(&c), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "LEARNWARE_THREADS"));
	unsetenv("LEARNWARE_THREADS");
	unsetenv("LEARNWARE_MAX_UPLOAD_MB");
	unsetenv("LEARNWARE_ACCESS_LOG");
	assert_int_equal(lw_server_config_set(&c, "nope", "1"), LW_ENOTFOUND);
	lw_server_config_dispose(&c);
}

static void test_config_keys__each_has_a_meaning(void **state)
{
	size_t n = 0;

	(void)state;
	for (const lw_server_config_key *k = lw_server_config_keys(); k->name; k++, n++)
		assert_true(strlen(k->meaning) > 10);
	assert_true(n >= 19);
}

/* docs/server.md documents every key (its table row starts with the key in backquotes). */
static void test_config_keys__are_all_documented(void **state)
{
	const char *data = getenv("LW_TEST_DATA");
	char path[4096], *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/../../docs/server.md", data);
	assert_non_null(f = fopen(path, "rb"));
	text = malloc(1 << 20);
	len = fread(text, 1, (1 << 20) - 1, f);
	text[len] = '\0';
	fclose(f);
	for (const lw_server_config_key *k = lw_server_config_keys(); k->name; k++) {
		char row[128];

		snprintf(row, sizeof(row), "| `%s` |", k->name);
		if (!strstr(text, row))
			fail_msg("docs/server.md has no row for the key %s", k->name);
	}
	free(text);
}

static void test_route_match__captures_ids_and_tells_405_from_404(void **state)
{
	char p[2][64];
	bool known;
	const lw__route *r;

	(void)state;
	r = lw__route_match("GET", "/api/v1/learnwares/00000042/specs/RKMETableSpecification", p, &known);
	assert_non_null(r);
	assert_string_equal(r->name, "learnware_spec");
	assert_string_equal(p[0], "00000042");
	assert_string_equal(p[1], "RKMETableSpecification");
	assert_null(lw__route_match("POST", "/api/v1/taxonomy", p, &known));
	assert_true(known); /* the path exists: 405 */
	assert_null(lw__route_match("GET", "/api/v1/learnwares/1/2/3", p, &known));
	assert_false(known); /* 404 */
	assert_null(lw__route_match("GET", "/api/v1/learnwares/", p, &known)); /* empty segment */
	r = lw__route_match("HEAD", "/healthz", p, &known);
	assert_non_null(r); /* HEAD is served as GET */
}

static void test_route_table__has_unique_method_path_pairs_and_names(void **state)
{
	(void)state;
	for (const lw__route *a = lw__routes; a->method; a++)
		for (const lw__route *b = a + 1; b->method; b++) {
			assert_false(!strcmp(a->method, b->method) && !strcmp(a->pattern, b->pattern));
			assert_string_not_equal(a->name, b->name);
		}
}

static void test_metrics_text__counts_by_route_and_status_class(void **state)
{
	lw__metrics m;
	char *text;
	size_t s;

	(void)state;
	memset(&m, 0, sizeof(m));
	s = lw__metrics_slot(&m, "search");
	lw__metrics_observe(&m, s, 200, 0.004);
	lw__metrics_observe(&m, s, 200, 0.2);
	lw__metrics_observe(&m, s, 404, 0.0001);
	text = lw__metrics_text(&m, "extra_gauge 1\n");
	assert_non_null(strstr(text, "lw_http_requests_total{route=\"search\",code=\"2xx\"} 2"));
	assert_non_null(strstr(text, "lw_http_requests_total{route=\"search\",code=\"4xx\"} 1"));
	assert_non_null(strstr(text, "lw_http_request_seconds_bucket{route=\"search\",le=\"0.005\"} 2"));
	assert_non_null(strstr(text, "lw_http_request_seconds_bucket{route=\"search\",le=\"+Inf\"} 3"));
	assert_non_null(strstr(text, "extra_gauge 1"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_defaults__are_safe_for_a_single_machine),
		cmocka_unit_test(test_config_file__sets_keys_and_names_the_bad_line),
		cmocka_unit_test(test_config_env__overrides_and_checks_ranges),
		cmocka_unit_test(test_config_keys__each_has_a_meaning),
		cmocka_unit_test(test_config_keys__are_all_documented),
		cmocka_unit_test(test_route_match__captures_ids_and_tells_405_from_404),
		cmocka_unit_test(test_route_table__has_unique_method_path_pairs_and_names),
		cmocka_unit_test(test_metrics_text__counts_by_route_and_status_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
