/*
 * bench/synth: the synthetic learnwares shared by bench_dock and bench_serve
 * (see synth.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define D SYNTH_D
#define K SYNTH_K

const char *synth_prog = "bench";

void synth_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", synth_prog, what, lw_error_last()->message);
	exit(1);
}

double synth_now(void)
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

double synth_pct(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)floor(p * (double)(n - 1) + 0.5)];
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", synth_prog, path);
		exit(1);
	}
}

void synth_centres(lw_mat *centres, size_t families)
{
	lw_rng rng;

	lw_rng_seed(&rng, 42);
	lw_mat_init(centres, families, D);
	for (size_t i = 0; i < families * D; i++)
		centres->data[i] = 2.0 * lw_rng_normal(&rng);
}

/* K points of family f, shifted by this learnware's own offset. */
lw_rkme *synth_rkme(const lw_mat *centres, size_t f, uint64_t seed, double shift)
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
		synth_die("rkme");
	lw_mat_dispose(&z);
	return r;
}

lw_rkme *synth_user(const lw_mat *centres, size_t families, size_t u)
{
	return synth_rkme(centres, (u * 7) % families, 900000 + u, 0.0);
}

void synth_dirs(const char *tmp)
{
	char dir[4200];

	snprintf(dir, sizeof(dir), "%s/src", tmp);
	mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/zip", tmp);
	mkdir(dir, 0755);
}

void synth_package(const char *tmp, size_t i, const lw_mat *centres, size_t families)
{
	char dir[4096], zip[4200], sem[4096], *json = NULL, *p;
	lw_rkme *r = synth_rkme(centres, i % families, 1000 + i, 0.3);
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
		synth_die("rkme json");
	write_file(dir, "stat_spec.json", json);
	snprintf(zip, sizeof(zip), "%s/zip/%zu.zip", tmp, i);
	if (lw_package_pack(NULL, dir, zip, NULL) < 0)
		synth_die("pack");
	free(json);
	lw_rkme_free(r);
}
