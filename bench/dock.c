/*
 * bench/dock: the dock end to end on its embedded store: adding checked
 * learnwares, starting a dock, and searching it (exactly and through the
 * sketch index, by name and fuzzily), next to the reference engine's
 * figures measured on this kind of machine.
 *
 * Learnwares: N packages, each a linear model on d = 20 inputs with an RKME
 * of K = 100 points drawn from one of N/10 Gaussian "families" (centres
 * N(0, 2^2 I), a per-learnware shift of 0.3 N(0, I), unit noise), so that
 * every user has close and far learnwares.  Users draw their points from
 * one family.  Checks run in-process here (the dock's own overhead); a
 * second, small dock measures the cost of the sandbox per add.
 *
 * Usage: bench_dock [--quick] [N]        (N = 1000; --quick: 200)
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lw.h"

#define D 20
#define K 100
#define USERS 20

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double pct(double *v, size_t n, double p)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)floor(p * (double)(n - 1) + 0.5)];
}

static void die(const char *what)
{
	fprintf(stderr, "bench_dock: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "bench_dock: cannot write %s\n", path);
		exit(1);
	}
}

/* K points of family f, shifted by this learnware's own offset. */
static lw_rkme *draw_rkme(const lw_mat *centres, size_t f, uint64_t seed, double shift)
{
	lw_rng rng;
	lw_mat z;
	double beta[K], off[D];
	lw_rkme *r = NULL;

	lw_rng_seed(&rng, seed);
	for (size_t j = 0; j < D; j++)
		off[j] = shift * lw_rng_normal(&rng);
	lw_mat_init(&z, K, D);
	for (size_t i = 0; i < K; i++) {
		beta[i] = 1.0 / K;
		for (size_t j = 0; j < D; j++)
			z.data[i * D + j] = centres->data[f * D + j] + off[j] + lw_rng_normal(&rng);
	}
	if (lw_rkme_new(&r, &z, beta, 0.1, 1000) < 0)
		die("rkme");
	lw_mat_dispose(&z);
	return r;
}

static void make_package(const char *tmp, size_t i, const lw_mat *centres, size_t families)
{
	char dir[4096], zip[4200], sem[4096], *json = NULL, *p;
	lw_rkme *r = draw_rkme(centres, i % families, 1000 + i, 0.3);
	size_t used;

	snprintf(dir, sizeof(dir), "%s/src/%zu", tmp, i);
	mkdir(dir, 0755);
	write_file(dir, "learnware.yaml",
		   "model:\n  kind: linear\n  file: model.json\n  input_shape: [20]\n  output_shape: [1]\n"
		   "semantic_specification: semantic.json\n");
	p = sem;
	used = (size_t)snprintf(p, sizeof(sem),
				"{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"linear\","
				"\"task\":\"regression\",\"input_dim\":20,\"output_dim\":1,\"layers\":"
				"[{\"weights\":[[");
	for (size_t j = 0; j < D; j++)
		used += (size_t)snprintf(p + used, sizeof(sem) - used, "%s%zu", j ? "," : "", (i + j) % 7);
	snprintf(p + used, sizeof(sem) - used, "]],\"bias\":[%zu],\"activation\":\"identity\"}]}", i);
	write_file(dir, "model.json", sem);
	used = (size_t)snprintf(sem, sizeof(sem),
				"{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]},"
				"\"Task\":{\"Type\":\"Class\",\"Values\":[\"Regression\"]},"
				"\"Library\":{\"Type\":\"Class\",\"Values\":[\"Others\"]},"
				"\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
				"\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"%s\"]},"
				"\"Name\":{\"Type\":\"String\",\"Values\":\"bench learnware %zu\"},"
				"\"Description\":{\"Type\":\"String\",\"Values\":\"family %zu of the dock benchmark\"},"
				"\"Input\":{\"Dimension\":20,\"Description\":{",
				i % 3 ? "Business" : "Health", i, i % families);
	for (size_t j = 0; j < D; j++)
		used += (size_t)snprintf(sem + used, sizeof(sem) - used, "%s\"%zu\":\"x%zu\"", j ? "," : "", j, j);
	snprintf(sem + used, sizeof(sem) - used,
		 "}},\"Output\":{\"Dimension\":1,\"Description\":{\"0\":\"y\"}}}");
	write_file(dir, "semantic.json", sem);
	if (lw_rkme_to_json(&json, r) < 0)
		die("rkme json");
	write_file(dir, "stat_spec.json", json);
	snprintf(zip, sizeof(zip), "%s/zip/%zu.zip", tmp, i);
	if (lw_package_pack(NULL, dir, zip, NULL) < 0)
		die("pack");
	free(json);
	lw_rkme_free(r);
}

static double add_all(lw_dock *d, const char *tmp, size_t from, size_t n, double *times)
{
	double t0 = now();

	for (size_t i = from; i < from + n; i++) {
		lw_dock_added a;
		char zip[4200];
		double t = now();

		snprintf(zip, sizeof(zip), "%s/zip/%zu.zip", tmp, i);
		if (lw_dock_add(&a, d, zip, NULL, NULL) < 0 || a.status != LW_CHECK_USABLE)
			die(zip);
		lw_dock_added_dispose(&a);
		times[i - from] = now() - t;
	}
	return now() - t0;
}

static void remove_index(const char *dock)
{
	char dir[4300], path[4600];
	struct dirent *de;
	DIR *dh;

	snprintf(dir, sizeof(dir), "%s/index", dock);
	if (!(dh = opendir(dir)))
		return;
	while ((de = readdir(dh)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	closedir(dh);
}

/* Search latencies over the users; top1[u] records the first hit. */
static void search_users(double *lat, char (*top1)[16], lw_dock *d, lw_rkme **users, int exact,
			 const char *semantic)
{
	for (size_t u = 0; u < USERS; u++) {
		lw_dock_query q = LW_DOCK_QUERY_INIT;
		lw_dock_result r;
		double t = now();

		q.rkme = users[u];
		q.exact = exact;
		q.semantic_json = semantic;
		if (lw_dock_search(&r, d, &q) < 0)
			die("search");
		lat[u] = now() - t;
		if (top1)
			snprintf(top1[u], 16, "%s", r.count ? r.hits[0].id : "-");
		lw_dock_result_dispose(&r);
	}
}

static double name_search(lw_dock *d, const char *name)
{
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result r;
	char sem[256];
	double t;

	snprintf(sem, sizeof(sem), "{\"Name\":{\"Type\":\"String\",\"Values\":\"%s\"}}", name);
	q.semantic_json = sem;
	t = now();
	if (lw_dock_search(&r, d, &q) < 0)
		die("name search");
	t = now() - t;
	lw_dock_result_dispose(&r);
	return t;
}

int main(int argc, char **argv)
{
	size_t n = 1000, families, sandboxed = 20;
	char tmp[] = "/tmp/bench_dock.XXXXXX", dock[4200], dir[4200], exe[4096], cli[4200];
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	double *times, lat_exact[USERS], lat_index[USERS], lat_sem[USERS], t, t_add, t_sandbox = 0;
	char top_exact[USERS][16], top_index[USERS][16];
	lw_rkme *users[USERS];
	lw_dock *d = NULL;
	lw_mat centres;
	lw_rng rng;
	size_t agree = 0;
	ssize_t len;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			n = 200;
		else if (argv[i][0] != '-')
			n = (size_t)strtoull(argv[i], NULL, 10);
	}
	if (n < 20)
		n = 20;
	families = n / 10;
	if (!mkdtemp(tmp))
		return 1;
	snprintf(dir, sizeof(dir), "%s/src", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/zip", tmp);
	mkdir(dir, 0755);
	lw_rng_seed(&rng, 42);
	lw_mat_init(&centres, families, D);
	for (size_t i = 0; i < families * D; i++)
		centres.data[i] = 2.0 * lw_rng_normal(&rng);
	t = now();
	for (size_t i = 0; i < n + sandboxed; i++)
		make_package(tmp, i, &centres, families);
	printf("bench_dock: %zu learnwares (K=%d, d=%d, %zu families) packed in %.1f s\n", n, K, D,
	       families, now() - t);

	times = calloc(n, sizeof(double));
	snprintf(dock, sizeof(dock), "%s/dock", tmp);
	if (lw_dock_open(&d, dock, &o) < 0)
		die("open");
	t_add = add_all(d, tmp, 0, n, times);
	lw_dock_free(d);

	/* The sandboxed check, as `learnware dock add` runs it. */
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		exe[len] = '\0';
		snprintf(cli, sizeof(cli), "%s/../learnware", dirname(exe));
		if (access(cli, X_OK) == 0) {
			lw_dock_options so = LW_DOCK_OPTIONS_INIT;
			double *st = calloc(sandboxed, sizeof(double));
			char sdock[4300];

			snprintf(sdock, sizeof(sdock), "%s/sandboxed", tmp);
			so.check.serve_exe = cli;
			if (lw_dock_open(&d, sdock, &so) < 0)
				die("open sandboxed");
			add_all(d, tmp, n, sandboxed, st);
			t_sandbox = pct(st, sandboxed, 0.5);
			lw_dock_free(d);
			free(st);
		}
	}

	t = now();
	if (lw_dock_open(&d, dock, &o) < 0)
		die("reopen");
	double t_open = now() - t;
	lw_dock_free(d);
	remove_index(dock);
	t = now();
	if (lw_dock_open(&d, dock, &o) < 0)
		die("rebuild");
	double t_rebuild = now() - t;

	for (size_t u = 0; u < USERS; u++)
		users[u] = draw_rkme(&centres, (u * 7) % families, 900000 + u, 0.0);
	/* Warm the specification cache once, as a running server would be. */
	search_users(lat_exact, NULL, d, users, 1, NULL);
	search_users(lat_exact, top_exact, d, users, 1, NULL);
	lw_dock_free(d);
	o.exact_limit = 0;
	if (lw_dock_open(&d, dock, &o) < 0)
		die("reopen");
	search_users(lat_index, NULL, d, users, 0, NULL);
	search_users(lat_index, top_index, d, users, 0, NULL);
	search_users(lat_sem, NULL, d, users, 0, "{\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Health\"]}}");
	for (size_t u = 0; u < USERS; u++)
		agree += !strcmp(top_exact[u], top_index[u]);
	double t_name = name_search(d, "bench learnware 17");
	double t_fuzzy = name_search(d, "bnech laernware 17");
	lw_dock_free(d);

	printf("\n%-44s %12s %12s %14s\n", "measure", "ours", "reference", "ref / ours");
	printf("%-44s %9.1f ms %9.1f ms %13.0fx\n", "add a learnware, p50 (in-process check)",
	       1e3 * pct(times, n, 0.5), 13.0, 13.0 / (1e3 * pct(times, n, 0.5)));
	printf("%-44s %9.1f ms %12s %14s\n", "add a learnware, p99 (in-process check)",
	       1e3 * pct(times, n, 0.99), "", "");
	if (t_sandbox > 0)
		printf("%-44s %9.1f ms %9.1f ms %13.1fx\n", "add a learnware, p50 (sandboxed check)",
		       1e3 * t_sandbox, 13.0, 13.0 / (1e3 * t_sandbox));
	printf("%-44s %10.2f s %12s %14s\n", "add all, total", t_add, "", "");
	printf("%-44s %9.1f ms %10.1f s %13s\n", "start the dock (saved index)", 1e3 * t_open,
	       12.0 * (double)n / 5000, "(5e3: 12 s)");
	printf("%-44s %9.1f ms %12s %14s\n", "start the dock (index rebuilt from store)",
	       1e3 * t_rebuild, "", "");
	printf("%-44s %9.1f ms %9.0f ms %13.0fx\n", "statistical search, exact, p50",
	       1e3 * pct(lat_exact, USERS, 0.5), 870.0 * (double)n / 1000,
	       870.0 * (double)n / 1000 / (1e3 * pct(lat_exact, USERS, 0.5)));
	printf("%-44s %9.1f ms %12s %14s\n", "statistical search, exact, p99", 1e3 * pct(lat_exact, USERS, 0.99),
	       "", "");
	printf("%-44s %9.1f ms %9.0f ms %13.0fx\n", "statistical search, sketch index, p50",
	       1e3 * pct(lat_index, USERS, 0.5), 870.0 * (double)n / 1000,
	       870.0 * (double)n / 1000 / (1e3 * pct(lat_index, USERS, 0.5)));
	printf("%-44s %9.1f ms %12s %14s\n", "statistical search, sketch index, p99",
	       1e3 * pct(lat_index, USERS, 0.99), "", "");
	printf("%-44s %9.1f ms %12s %14s\n", "tag filter (1/3 pass) + statistical, p50",
	       1e3 * pct(lat_sem, USERS, 0.5), "", "");
	printf("%-44s %9.1f ms %12s %14s\n", "name search (full-text)", 1e3 * t_name, "", "");
	printf("%-44s %9.1f ms %12s %14s\n", "name search (fuzzy fallback)", 1e3 * t_fuzzy, "", "");
	printf("%-44s %9zu/%d %12s %14s\n", "same top-1, index vs exact", agree, USERS, "", "");
	printf("\nreference: learnware 0.3.2.99 on this kind of machine (issue 4): add 13 ms, search\n"
	       "0.87 s at 1e3 learnwares (about 0.6 ms per learnware), reloading a 5e3 market 12 s;\n"
	       "its columns above are scaled linearly to N = %zu.\n", n);

	for (size_t u = 0; u < USERS; u++)
		lw_rkme_free(users[u]);
	lw_mat_dispose(&centres);
	free(times);
	snprintf(cli, sizeof(cli), "rm -rf '%s'", tmp);
	if (system(cli) != 0)
		fprintf(stderr, "bench_dock: could not remove %s\n", tmp);
	return 0;
}
