/*
 * bench/search: statistical search from a hundred to a million learnwares,
 * exact and through the sketch index, against the reference engine.
 *
 * The dock: specification id i (K = 100 points, d = 20, gamma 0.1) is drawn
 * from its own Gaussian mixture, regenerated on demand from (seed, i), so
 * no size needs the specifications in memory.  3000 families of 1 to 4
 * components (centres near 512 shared prototypes, so families overlap in
 * part) give every specification relatives; each one shifts its family's
 * centres by its own offset (0.3 per coordinate), scales its spread
 * (x exp(0.15 N(0,1))) and reweights its components and points.  The docks
 * of each size are prefixes of one sequence, built incrementally through
 * lw_index_add_many in batches, with a checkpoint at each size.
 *
 * At each checkpoint, for 16 users drawn the same way (new ids):
 *   - ground truth: the exact MMD to every specification (computed while
 *     building, with lw_rkme_dist_many), top 10;
 *   - exact search over in-memory specifications (sizes up to 1e4):
 *     lw_rkme_dist_many over all, and lw_stat_search (greedy mixture) over all;
 *   - indexed search: lw_index_query for C candidates on the index as saved
 *     and loaded back, the C specifications regenerated (the fetch), exact
 *     MMD re-rank (lw_rkme_dist_many), top 10; then lw_stat_search with the
 *     greedy mixture over the same C (the whole call: it ranks them again);
 * latencies over those 16 users plus 200 more; recall@10 over the 16.
 *
 * Usage: bench_search [--quick | --full | --max N] [--queries Q] [--latency L]
 *                     [--cands C] [--probes P] [--dir DIR]
 *   default largest size 1e5, or $LW_BENCH_MAX; --quick 1e4; --full 1e6.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h" /* private: the number of coarse lists */
#include "lw.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define DIM 20
#define KPTS 100
#define GAMMA 0.1
#define PROTOS 512
#define FAMILIES 3000
#define MAX_COMP 4
#define SEED 20240601ULL
#define TOP 10
#define BATCH 4096
#define MEM_MAX 10000 /* specifications kept for the exact in-memory search */
#define ADD_PROBES 200
#define QUERY_BASE ((uint64_t)1 << 62)
#define LATENCY_BASE (QUERY_BASE + ((uint64_t)1 << 40))
#define EXTRA_BASE (QUERY_BASE + ((uint64_t)2 << 40))

/* --- the synthetic dock -------------------------------------------------- */

typedef struct {
	int m;
	double centre[MAX_COMP][DIM];
	double weight[MAX_COMP];
	double sd[MAX_COMP];
} family;

static family *families;

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static void make_families(void)
{
	static double protos[PROTOS][DIM];
	lw_rng rng;

	lw_rng_seed(&rng, mix64(SEED ^ 0x70a7));
	for (int g = 0; g < PROTOS; g++)
		for (int t = 0; t < DIM; t++)
			protos[g][t] = 1.5 * lw_rng_normal(&rng);
	families = calloc(FAMILIES, sizeof(family));
	for (int f = 0; f < FAMILIES; f++) {
		family *fa = &families[f];

		fa->m = 1 + (int)lw_rng_below(&rng, MAX_COMP);
		for (int j = 0; j < fa->m; j++) {
			const double *p = protos[lw_rng_below(&rng, PROTOS)];

			for (int t = 0; t < DIM; t++)
				fa->centre[j][t] = p[t] + 0.8 * lw_rng_normal(&rng);
			fa->weight[j] = 0.5 + lw_rng_uniform(&rng);
			fa->sd[j] = 0.3 + 0.3 * lw_rng_uniform(&rng);
		}
	}
}

/* Specification id, the same on every run and at every size. */
static lw_rkme *make_spec(uint64_t id)
{
	double beta[KPTS], offset[DIM], w[MAX_COMP], scale, total = 0;
	const family *fa;
	lw_rng rng;
	lw_rkme *r = NULL;
	lw_mat Z;

	lw_rng_seed(&rng, mix64(SEED * 0x9e3779b97f4a7c15ULL ^ mix64(id + 1)));
	fa = &families[lw_rng_below(&rng, FAMILIES)];
	scale = exp(0.15 * lw_rng_normal(&rng));
	for (int t = 0; t < DIM; t++)
		offset[t] = 0.3 * lw_rng_normal(&rng);
	for (int j = 0; j < fa->m; j++)
		w[j] = fa->weight[j] * exp(0.3 * lw_rng_normal(&rng));
	if (lw_mat_init(&Z, KPTS, DIM) < 0)
		return NULL;
	for (int i = 0; i < KPTS; i++) {
		size_t j = lw_rng_categorical(&rng, w, (size_t)fa->m);
		double *z = lw_mat_row(&Z, i);

		for (int t = 0; t < DIM; t++)
			z[t] = fa->centre[j][t] + offset[t] + scale * fa->sd[j] * lw_rng_normal(&rng);
		beta[i] = exp(0.3 * lw_rng_normal(&rng));
		total += beta[i];
	}
	for (int i = 0; i < KPTS; i++)
		beta[i] /= total;
	if (lw_rkme_new(&r, &Z, beta, GAMMA, 1000) < 0)
		r = NULL;
	lw_mat_dispose(&Z);
	return r;
}

static void make_specs(lw_rkme **out, const uint64_t *ids, size_t n)
{
#pragma omp parallel for schedule(dynamic, 16)
	for (size_t i = 0; i < n; i++)
		out[i] = make_spec(ids[i]);
	for (size_t i = 0; i < n; i++)
		if (!out[i]) {
			fprintf(stderr, "bench_search: cannot make specification %llu: %s\n",
				(unsigned long long)ids[i], lw_error_last()->message);
			exit(1);
		}
}

static void free_specs(lw_rkme **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		lw_rkme_free(s[i]);
}

/* --- helpers --------------------------------------------------------------- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void check(int err, const char *what)
{
	if (err < 0) {
		fprintf(stderr, "bench_search: %s: %s\n", what, lw_error_last()->message);
		exit(1);
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "bench_search: out of memory\n");
		exit(1);
	}
	return p;
}

typedef struct {
	double d;
	uint64_t id;
} pair;

static int by_pair(const void *a, const void *b)
{
	const pair *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Keep top (TOP entries, sorted) the best of itself and the new pair. */
static void top_insert(pair *top, size_t *n, pair x)
{
	size_t i;

	if (*n == TOP && by_pair(&x, &top[TOP - 1]) >= 0)
		return;
	i = *n < TOP ? (*n)++ : TOP - 1;
	for (; i > 0 && by_pair(&x, &top[i - 1]) < 0; i--)
		top[i] = top[i - 1];
	top[i] = x;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0 to 1) of n samples, in place. */
static double quantile(double *v, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(double), by_double);
	i = (size_t)ceil(q * (double)n);
	return v[i ? i - 1 : 0];
}

static double rss_mb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = NAN;

	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kb = strtod(line + strlen(field) + 1, NULL);
	fclose(f);
	return kb / 1024;
}

static void loadavg(char *buf, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "r");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, " \n") + 0] = 0;
		fclose(f);
	}
}

/* --- one search ------------------------------------------------------------ */

typedef struct {
	double query, fetch, rerank, search, stat;
	size_t mixture;
} timing;

/* Index query for C, fetch, exact re-rank to the top 10; then the greedy statistical search. */
static void indexed_search(pair *top, size_t *ntop, timing *tm, const lw_index *ix, const lw_rkme *user,
			   size_t C, int with_stat)
{
	uint64_t *ids = xmalloc(C * sizeof(uint64_t));
	lw_rkme **cand = xmalloc(C * sizeof(*cand));
	double *d = xmalloc(C * sizeof(double)), t0, t1, t2, t3;
	size_t got;

	*ntop = 0;
	t0 = now();
	check(lw_index_query(ids, NULL, &got, ix, user, C), "index query");
	t1 = now();
	make_specs(cand, ids, got);
	t2 = now();
	check(lw_rkme_dist_many(d, user, (const lw_rkme *const *)cand, got), "re-rank");
	for (size_t i = 0; i < got; i++)
		top_insert(top, ntop, (pair){ d[i], ids[i] });
	t3 = now();
	tm->query = t1 - t0;
	tm->fetch = t2 - t1;
	tm->rerank = t3 - t2;
	tm->search = t3 - t0;
	tm->stat = NAN;
	tm->mixture = 0;
	if (with_stat) {
		lw_stat_search_options so = LW_STAT_SEARCH_OPTIONS_INIT;
		lw_stat_search_result res;

		so.method = LW_MIXTURE_GREEDY;
		t0 = now();
		check(lw_stat_search(&res, user, (const lw_rkme *const *)cand, got, &so), "statistical search");
		tm->stat = now() - t0;
		tm->mixture = res.mixture.count;
		lw_stat_search_result_dispose(&res);
	}
	free_specs(cand, got);
	free(ids);
	free(cand);
	free(d);
}

static double recall(const pair *got, size_t ngot, const pair *truth, size_t ntruth)
{
	size_t hits = 0;

	for (size_t i = 0; i < ntruth; i++)
		for (size_t j = 0; j < ngot; j++)
			hits += got[j].id == truth[i].id;
	return ntruth ? (double)hits / (double)ntruth : NAN;
}

/* --- the run --------------------------------------------------------------- */

typedef struct {
	size_t n, lists;
	double gen_s, build_s, add_p50_us, add_p99_us, remove_p50_us, save_s, load_s, file_mb, index_mb,
		rss_mb;
	double exact_p50, exact_p99, statall_p50, query_p50, fetch_p50, rerank_p50, search_p50,
		search_p99, stat_p50, stat_p99, recall, recall_min;
	size_t probes, cands;
	double mixtures; /* share of searches that recommended a mixture */
} row;

typedef struct {
	size_t max, nq, nlat, cands, probes;
	const char *dir;
} config;

static lw_rkme **users, **lat_users, **mem;
static pair (*truth)[TOP];
static size_t *ntruth;

static size_t count_lists(const lw_index *ix);

static void checkpoint(row *r, lw_index *ix, const config *cf, double gen_s, double build_s, int last)
{
	size_t N = lw_index_size(ix), nlat = cf->nq + cf->nlat, C = cf->cands, nt;
	double *lat_add = xmalloc(ADD_PROBES * sizeof(double)), *lat_rm = xmalloc(ADD_PROBES * sizeof(double));
	double *a = xmalloc(nlat * sizeof(double)), *b = xmalloc(nlat * sizeof(double));
	double *c = xmalloc(nlat * sizeof(double)), *e = xmalloc(nlat * sizeof(double));
	double *f = xmalloc(nlat * sizeof(double)), *g = xmalloc(nlat * sizeof(double));
	uint64_t *extra_ids = xmalloc(ADD_PROBES * sizeof(uint64_t));
	lw_rkme **extra = xmalloc(ADD_PROBES * sizeof(*extra));
	char path[4096];
	struct stat st;
	lw_index *back;
	double t0, rsum = 0, rmin = 1;
	size_t mixes = 0;
	pair top[TOP];

	memset(r, 0, sizeof(*r));
	r->n = N;
	r->gen_s = gen_s;
	r->build_s = build_s;
	r->cands = C;
	fprintf(stderr, "  checkpoint %zu: updates", N);

	/* Single adds and removes on the live index. */
	for (size_t i = 0; i < ADD_PROBES; i++)
		extra_ids[i] = EXTRA_BASE + i;
	make_specs(extra, extra_ids, ADD_PROBES);
	for (size_t i = 0; i < ADD_PROBES; i++) {
		t0 = now();
		check(lw_index_add(ix, extra_ids[i], extra[i]), "add");
		lat_add[i] = now() - t0;
	}
	for (size_t i = 0; i < ADD_PROBES; i++) {
		t0 = now();
		check(lw_index_remove(ix, extra_ids[i]), "remove");
		lat_rm[i] = now() - t0;
	}
	free_specs(extra, ADD_PROBES);
	r->add_p50_us = 1e6 * quantile(lat_add, ADD_PROBES, 0.5);
	r->add_p99_us = 1e6 * quantile(lat_add, ADD_PROBES, 0.99);
	r->remove_p50_us = 1e6 * quantile(lat_rm, ADD_PROBES, 0.5);

	/* Persist and start again from the file, as a dock does. */
	fprintf(stderr, ", save/load");
	snprintf(path, sizeof(path), "%s/bench-%zu.lwix", cf->dir, N);
	t0 = now();
	check(lw_index_save(ix, path), "save");
	r->save_s = now() - t0;
	r->file_mb = stat(path, &st) == 0 ? (double)st.st_size / (1 << 20) : NAN;
	t0 = now();
	check(lw_index_load(&back, path), "load");
	r->load_s = now() - t0;
	unlink(path);
	r->index_mb = (double)lw_index_bytes(back) / (1 << 20);
	r->rss_mb = rss_mb("VmRSS:");
	r->lists = count_lists(back);
	if (cf->probes)
		check(lw_index_set_probes(back, cf->probes), "probes");
	r->probes = back->o.probes;

	/* Exact search over the in-memory specifications. */
	r->exact_p50 = r->exact_p99 = r->statall_p50 = NAN;
	if (N <= MEM_MAX) {
		double *d = xmalloc(N * sizeof(double));

		fprintf(stderr, ", exact");
		for (size_t q = 0; q < cf->nq; q++) {
			lw_stat_search_options so = LW_STAT_SEARCH_OPTIONS_INIT;
			lw_stat_search_result res;

			t0 = now();
			check(lw_rkme_dist_many(d, users[q], (const lw_rkme *const *)mem, N), "exact");
			nt = 0;
			for (size_t i = 0; i < N; i++)
				top_insert(top, &nt, (pair){ d[i], i });
			a[q] = now() - t0;
			if (recall(top, nt, truth[q], ntruth[q]) != 1.0) {
				fprintf(stderr, "bench_search: exact search disagrees with the ground truth\n");
				exit(1);
			}
			t0 = now();
			check(lw_stat_search(&res, users[q], (const lw_rkme *const *)mem, N, &so), "stat search");
			b[q] = now() - t0;
			lw_stat_search_result_dispose(&res);
		}
		r->exact_p50 = 1e3 * quantile(a, cf->nq, 0.5);
		r->exact_p99 = 1e3 * quantile(a, cf->nq, 0.99);
		r->statall_p50 = 1e3 * quantile(b, cf->nq, 0.5);
		free(d);
	}

	/* Indexed search: recall over the ground-truth users, latency over all. */
	fprintf(stderr, ", indexed");
	for (size_t q = 0; q < nlat; q++) {
		const lw_rkme *u = q < cf->nq ? users[q] : lat_users[q - cf->nq];
		timing tm;

		indexed_search(top, &nt, &tm, back, u, C, 1);
		if (q < cf->nq) {
			double rc = recall(top, nt, truth[q], ntruth[q]);

			rsum += rc;
			rmin = rc < rmin ? rc : rmin;
		}
		a[q] = tm.query;
		b[q] = tm.fetch;
		c[q] = tm.rerank;
		e[q] = tm.search;
		f[q] = tm.stat;
		g[q] = tm.search;
		mixes += tm.mixture > 0;
	}
	r->recall = rsum / (double)cf->nq;
	r->recall_min = rmin;
	r->query_p50 = 1e3 * quantile(a, nlat, 0.5);
	r->fetch_p50 = 1e3 * quantile(b, nlat, 0.5);
	r->rerank_p50 = 1e3 * quantile(c, nlat, 0.5);
	r->search_p50 = 1e3 * quantile(e, nlat, 0.5);
	r->search_p99 = 1e3 * quantile(g, nlat, 0.99);
	r->stat_p50 = 1e3 * quantile(f, nlat, 0.5);
	r->stat_p99 = 1e3 * quantile(f, nlat, 0.99);
	r->mixtures = (double)mixes / (double)nlat;
	fprintf(stderr, ": recall %.3f, search p50 %.1f ms\n", r->recall, r->search_p50);

	/* At the largest size: recall and latency for other probes and C. */
	if (last) {
		static const size_t probes[] = { 4, 8, 16, 32, 64 }, cands[] = { 25, 50, 100, 200 };

		printf("\nrecall@10 / search p50 ms at %zu learnwares (%zu users, %zu lists) for probes x C:\n", N,
		       cf->nq, r->lists);
		printf("%8s", "probes");
		for (size_t j = 0; j < sizeof(cands) / sizeof(cands[0]); j++)
			printf("  %14s%-4zu", "C=", cands[j]);
		printf("\n");
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			check(lw_index_set_probes(back, probes[i]), "probes");
			printf("%8zu", probes[i]);
			for (size_t j = 0; j < sizeof(cands) / sizeof(cands[0]); j++) {
				double rs = 0;

				for (size_t q = 0; q < cf->nq; q++) {
					timing tm;

					indexed_search(top, &nt, &tm, back, users[q], cands[j], 0);
					rs += recall(top, nt, truth[q], ntruth[q]);
					a[q] = tm.search;
				}
				printf("  %8.3f %7.1fms", rs / (double)cf->nq, 1e3 * quantile(a, cf->nq, 0.5));
			}
			printf("\n");
		}
		fflush(stdout);
	}
	lw_index_free(back);
	free(lat_add);
	free(lat_rm);
	free(a);
	free(b);
	free(c);
	free(e);
	free(f);
	free(g);
	free(extra_ids);
	free(extra);
}

/* Coarse lists of the largest partition (1 while it is scanned whole). */
static size_t count_lists(const lw_index *ix)
{
	size_t best = 0, lists = 0;

	for (size_t i = 0; i < ix->nparts; i++)
		if (ix->parts[i].count >= best) {
			best = ix->parts[i].count;
			lists = ix->parts[i].nlist;
		}
	return lists;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_search [--quick | --full | --max N] [--queries Q] [--latency L] "
			"[--cands C] [--probes P] [--dir DIR]\n");
	exit(2);
}

static size_t size_arg(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*end || !(v >= 1) || v > 1e9)
		usage();
	return (size_t)v;
}

/* Reference engine figures (statistical search seconds) at the sizes it was measured at. */
static double reference_search_s(size_t n, int *measured)
{
	*measured = 1;
	if (n == 100)
		return 0.37;
	if (n == 1000)
		return 0.87;
	if (n == 5000)
		return 3.5;
	*measured = 0;
	return 0.6e-3 * (double)n; /* its linear growth, about 0.6 ms per learnware */
}

/* A number in the given width and precision (and a suffix), or a dash where there is none. */
static void num(char *buf, size_t len, int width, int prec, const char *suffix, double v)
{
	if (isnan(v))
		snprintf(buf, len, "%*s%*s", width, "-", (int)strlen(suffix), "");
	else
		snprintf(buf, len, "%*.*f%s", width, prec, v, suffix);
}

static void print_tables(const row *rows, size_t nrows, const config *cf)
{
	printf("\nbuild and persistence (lw_index; add/remove single calls on the live index):\n");
	printf("%9s %6s %8s %8s %9s %9s %9s %8s %8s %9s %9s %8s\n", "N", "lists", "gen s", "build s",
	       "add p50us", "add p99us", "rm p50us", "save s", "load s", "file MB", "index MB", "RSS MB");
	for (size_t i = 0; i < nrows; i++) {
		const row *r = &rows[i];

		printf("%9zu %6zu %8.2f %8.2f %9.1f %9.1f %9.1f %8.3f %8.3f %9.1f %9.1f %8.0f\n", r->n, r->lists,
		       r->gen_s, r->build_s, r->add_p50_us, r->add_p99_us, r->remove_p50_us, r->save_s,
		       r->load_s, r->file_mb, r->index_mb, r->rss_mb);
	}
	printf("\nsearch (ms; exact = all N in memory; indexed = query + fetch + re-rank of C = %zu; "
	       "stat = lw_stat_search greedy over the C):\n",
	       cf->cands);
	printf("%9s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %7s %7s %6s\n", "N", "exact50", "exact99",
	       "statall", "query50", "fetch50", "rerank50", "search50", "search99", "stat50", "stat99", "recall",
	       "min", "mix%", "probes");
	for (size_t i = 0; i < nrows; i++) {
		const row *r = &rows[i];

		char e50[16], e99[16], sa[16];

		num(e50, sizeof(e50), 8, 1, "", r->exact_p50);
		num(e99, sizeof(e99), 8, 1, "", r->exact_p99);
		num(sa, sizeof(sa), 8, 1, "", r->statall_p50);
		printf("%9zu %s %s %s %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f %8.3f %7.2f %7.0f %6zu\n", r->n, e50,
		       e99, sa, r->query_p50, r->fetch_p50, r->rerank_p50, r->search_p50, r->search_p99,
		       r->stat_p50, r->stat_p99, r->recall, r->recall_min, 100 * r->mixtures, r->probes);
	}
	printf("\nagainst the reference engine (statistical search 0.37 s @100, 0.87 s @1e3, 3.5 s @5e3, about\n"
	       "0.6 ms per learnware beyond, marked ~; adding a learnware about 13 ms; reloading a 5e3 market 12 s):\n");
	printf("%9s %10s %12s %12s %10s %10s\n", "N", "ref s", "ours exact s", "ours index s", "ref/exact",
	       "ref/index");
	for (size_t i = 0; i < nrows; i++) {
		const row *r = &rows[i];
		int measured;
		double ref = reference_search_s(r->n, &measured);
		double idx = (r->search_p50 - r->rerank_p50 + r->stat_p50) / 1e3; /* query + fetch + stat search */

		char ex[16], rex[16];

		num(ex, sizeof(ex), 12, 4, "", r->statall_p50 / 1e3);
		num(rex, sizeof(rex), 9, 0, "x", ref / (r->statall_p50 / 1e3));
		printf("%9zu %9.3g%s %s %12.4f %s %9.0fx%s\n", r->n, ref, measured ? " " : "~", ex, idx, rex,
		       ref / idx, measured ? "" : " ~");
	}
	for (size_t i = 0; i < nrows; i++)
		if (rows[i].n == 5000 || i + 1 == nrows)
			printf("reload at %zu: ours %.3f s%s; add: ours %.1f us p50 vs about 13 ms (%.0fx)\n",
			       rows[i].n, rows[i].load_s, rows[i].n == 5000 ? " vs 12 s for the reference" : "",
			       rows[i].add_p50_us, 13e3 / rows[i].add_p50_us);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 100, 1000, 5000, 10000, 100000, 1000000 };
	config cf = { 100000, 16, 200, 100, 0, NULL };
	const char *env = getenv("LW_BENCH_MAX");
	char tmpl[] = "/tmp/lw-bench-search-XXXXXX", load0[64], load1[64];
	size_t nsizes = 0, nrows = 0, built = 0, keep;
	row rows[sizeof(sizes) / sizeof(sizes[0])];
	lw_index *ix;
	double gen_s = 0, build_s = 0, gt_s = 0, t_start = now(), t0;
	int threads = 1;

	if (env && *env)
		cf.max = size_arg(env);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quick"))
			cf.max = 10000;
		else if (!strcmp(a, "--full"))
			cf.max = 1000000;
		else if (!strcmp(a, "--max") && v)
			cf.max = size_arg(v), i++;
		else if (!strcmp(a, "--queries") && v)
			cf.nq = size_arg(v), i++;
		else if (!strcmp(a, "--latency") && v)
			cf.nlat = strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--cands") && v)
			cf.cands = size_arg(v), i++;
		else if (!strcmp(a, "--probes") && v)
			cf.probes = size_arg(v), i++;
		else if (!strcmp(a, "--dir") && v)
			cf.dir = v, i++;
		else
			usage();
	}
	if (!cf.dir && !(cf.dir = mkdtemp(tmpl))) {
		perror("bench_search: mkdtemp");
		return 1;
	}
	while (nsizes < sizeof(sizes) / sizeof(sizes[0]) && sizes[nsizes] <= cf.max)
		nsizes++;
#ifdef _OPENMP
	threads = omp_get_max_threads();
#endif
	loadavg(load0, sizeof(load0));
	printf("bench_search: up to %zu learnwares (K %d, d %d, gamma %.1f, %d families); %zu users for recall, "
	       "%zu more for latency; C = %zu; %d threads on %ld cores; load average %s at start\n",
	       sizes[nsizes ? nsizes - 1 : 0], KPTS, DIM, GAMMA, FAMILIES, cf.nq, cf.nlat, cf.cands, threads,
	       sysconf(_SC_NPROCESSORS_ONLN), load0);
	fflush(stdout);

	make_families();
	users = xmalloc(cf.nq * sizeof(*users));
	lat_users = xmalloc((cf.nlat ? cf.nlat : 1) * sizeof(*lat_users));
	truth = xmalloc(cf.nq * sizeof(*truth));
	ntruth = calloc(cf.nq, sizeof(size_t));
	keep = cf.max < MEM_MAX ? cf.max : MEM_MAX;
	mem = xmalloc(keep * sizeof(*mem));
	{
		uint64_t *qid = xmalloc((cf.nq + cf.nlat + 1) * sizeof(uint64_t));

		for (size_t q = 0; q < cf.nq; q++)
			qid[q] = QUERY_BASE + q;
		make_specs(users, qid, cf.nq);
		for (size_t q = 0; q < cf.nlat; q++)
			qid[q] = LATENCY_BASE + q;
		make_specs(lat_users, qid, cf.nlat);
		free(qid);
	}
	check(lw_index_new(&ix, NULL), "index");

	for (size_t s = 0; s < nsizes; s++) {
		while (built < sizes[s]) {
			size_t n = sizes[s] - built < BATCH ? sizes[s] - built : BATCH;
			uint64_t *ids = xmalloc(n * sizeof(uint64_t));
			lw_rkme **batch = xmalloc(n * sizeof(*batch));
			double *d = xmalloc(n * sizeof(double));

			for (size_t i = 0; i < n; i++)
				ids[i] = built + i;
			t0 = now();
			make_specs(batch, ids, n);
			gen_s += now() - t0;
			t0 = now();
			check(lw_index_add_many(ix, ids, (const lw_rkme *const *)batch, n), "add_many");
			build_s += now() - t0;
			t0 = now();
			for (size_t q = 0; q < cf.nq; q++) {
				check(lw_rkme_dist_many(d, users[q], (const lw_rkme *const *)batch, n), "ground truth");
				for (size_t i = 0; i < n; i++)
					top_insert(truth[q], &ntruth[q], (pair){ d[i], ids[i] });
			}
			gt_s += now() - t0;
			for (size_t i = 0; i < n; i++) {
				if (ids[i] < keep)
					mem[ids[i]] = batch[i];
				else
					lw_rkme_free(batch[i]);
			}
			built += n;
			if (built / (64 * BATCH) != (built - n) / (64 * BATCH))
				fprintf(stderr, "  %zu built (gen %.0f s, index %.0f s, ground truth %.0f s)\n", built,
					gen_s, build_s, gt_s);
			free(ids);
			free(batch);
			free(d);
		}
		checkpoint(&rows[nrows++], ix, &cf, gen_s, build_s, s + 1 == nsizes);
	}
	print_tables(rows, nrows, &cf);
	loadavg(load1, sizeof(load1));
	printf("\nground truth %.0f s; peak RSS %.0f MB (build index, loaded copy, %zu specifications in memory); "
	       "load average %s at end; total %.0f s\n",
	       gt_s, rss_mb("VmHWM:"), keep, load1, now() - t_start);
	lw_index_free(ix);
	free_specs(mem, keep);
	free_specs(users, cf.nq);
	free_specs(lat_users, cf.nlat);
	free(mem);
	free(users);
	free(lat_users);
	free(truth);
	free(ntruth);
	free(families);
	if (!strcmp(cf.dir, tmpl))
		rmdir(tmpl);
	return 0;
}
