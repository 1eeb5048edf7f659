#define _POSIX_C_SOURCE 200809L

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index.h" /* private: lists, map and options, to check their invariants */

/* A specification of a blob centred at c (d dims), fitted from 200 rows. */
static lw_rkme *blob(const double *c, size_t d, uint64_t seed)
{
	lw_mat X;
	lw_rng rng;
	lw_rkme *r;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&X, 200, d), 0);
	for (size_t i = 0; i < 200; i++)
		for (size_t j = 0; j < d; j++)
			lw_mat_row(&X, i)[j] = c[j] + lw_rng_normal(&rng);
	o.k = 20;
	o.steps = 1;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), 0);
	lw_mat_dispose(&X);
	return r;
}

#define NB 60
#define D 5

static lw_rkme *specs[NB];
static double centres[NB][D];

/*
 * A synthetic dock for the coarse lists: FAM families of Gaussian blobs in
 * FD dimensions; member i of a family shifts the family's centre by its own
 * offset.  K = FK points each, made directly (no fit), so hundreds are cheap.
 */
#define FAM 24
#define FD 6
#define FK 12
#define FN 600

static lw_rkme *dock[FN];
static double fam_centre[FAM][FD];

static lw_rkme *member(uint64_t id)
{
	double beta[FK], off[FD];
	lw_rng rng;
	lw_mat Z;
	lw_rkme *r;
	size_t f;

	lw_rng_seed(&rng, 0xd0c4 + id * 7919);
	f = (size_t)lw_rng_below(&rng, FAM);
	for (int t = 0; t < FD; t++)
		off[t] = 0.4 * lw_rng_normal(&rng);
	assert_int_equal(lw_mat_init(&Z, FK, FD), 0);
	for (int i = 0; i < FK; i++) {
		beta[i] = 1.0 / FK;
		for (int t = 0; t < FD; t++)
			lw_mat_row(&Z, i)[t] = fam_centre[f][t] + off[t] + 0.5 * lw_rng_normal(&rng);
	}
	assert_int_equal(lw_rkme_new(&r, &Z, beta, 0.1, 100), 0);
	lw_mat_dispose(&Z);
	return r;
}

static int make_specs(void **state)
{
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 42);
	for (int i = 0; i < NB; i++) {
		for (int j = 0; j < D; j++)
			centres[i][j] = 2.5 * lw_rng_normal(&rng);
		specs[i] = blob(centres[i], D, 100 + i);
	}
	for (int f = 0; f < FAM; f++)
		for (int t = 0; t < FD; t++)
			fam_centre[f][t] = 2.0 * lw_rng_normal(&rng);
	for (int i = 0; i < FN; i++)
		dock[i] = member((uint64_t)i);
	return 0;
}

static int free_specs(void **state)
{
	(void)state;
	for (int i = 0; i < NB; i++)
		lw_rkme_free(specs[i]);
	for (int i = 0; i < FN; i++)
		lw_rkme_free(dock[i]);
	return 0;
}

static lw_index *build(void)
{
	lw_index *ix;

	assert_int_equal(lw_index_new(&ix, NULL), 0);
	for (int i = 0; i < NB; i++)
		assert_int_equal(lw_index_add(ix, 1000 + i, specs[i]), 0);
	assert_int_equal(lw_index_size(ix), NB);
	return ix;
}

/* Every map bucket points at its entry and every entry has its bucket. */
static void assert_consistent(const lw_index *ix)
{
	size_t entries = 0;

	for (size_t p = 0; p < ix->nparts; p++) {
		const lw__index_part *part = &ix->parts[p];
		size_t in_part = 0;

		for (size_t l = 0; l < part->nlist; l++) {
			const lw__index_list *li = &part->lists[l];

			assert_true(li->count <= li->cap);
			for (uint32_t i = 0; i < li->count; i++) {
				size_t b = lw__index_map_find(ix, li->ids[i]);

				assert_true(b != SIZE_MAX);
				assert_int_equal(ix->map[b].part, p);
				assert_int_equal(ix->map[b].list, l);
				assert_int_equal(ix->map[b].pos, i);
			}
			in_part += li->count;
		}
		assert_int_equal(in_part, part->count);
		entries += in_part;
	}
	assert_int_equal(entries, lw_index_size(ix));
}

/* An index over the synthetic dock whose lists train at `flat_max` entries. */
static lw_index *build_dock(size_t n, size_t flat_max, size_t probes)
{
	lw_index_options o = LW_INDEX_OPTIONS_INIT;
	uint64_t ids[FN];
	lw_index *ix;

	o.flat_max = flat_max;
	o.probes = probes;
	for (size_t i = 0; i < n; i++)
		ids[i] = 5000 + i;
	assert_int_equal(lw_index_new(&ix, &o), 0);
	assert_int_equal(lw_index_add_many(ix, ids, (const lw_rkme *const *)dock, n), 0);
	assert_int_equal(lw_index_size(ix), n);
	return ix;
}

static char *file_path(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	sprintf(p, "%s/%s", dir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long size;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)size + 1);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

static void spit(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);
}

/* The file is refused with LW_EINVALID, a message naming it, and no index. */
static void assert_refused(const char *path)
{
	lw_index *back = (lw_index *)1;

	assert_int_equal(lw_index_load(&back, path), LW_EINVALID);
	assert_null(back);
	assert_non_null(strstr(lw_error_last()->message, path));
	assert_non_null(strstr(lw_error_last()->message, "rebuild"));
}

/* --- sketches --------------------------------------------------------------- */

static void test_index_query__finds_the_same_blob_first(void **state)
{
	lw_index *ix = build();
	uint64_t ids[5];
	double approx[5];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 7) {
		lw_rkme *q = blob(centres[i], D, 9000 + i); /* fresh rows, same distribution */

		assert_int_equal(lw_index_query(ids, approx, &n, ix, q, 5), 0);
		assert_int_equal(n, 5);
		assert_int_equal(ids[0], 1000 + i);
		for (size_t j = 1; j < n; j++)
			assert_true(approx[j - 1] <= approx[j]);
		lw_rkme_free(q);
	}
	lw_index_free(ix);
}

static void test_index_estimates__track_the_exact_mmd(void **state)
{
	lw_index *ix = build();
	uint64_t ids[NB];
	double approx[NB];
	size_t n;

	(void)state;
	assert_int_equal(lw_index_query(ids, approx, &n, ix, specs[3], NB), 0);
	assert_int_equal(n, NB);
	double sq = 0, worst = 0;
	for (size_t j = 0; j < n; j++) {
		double exact, e;

		assert_int_equal(lw_rkme_dist(&exact, specs[3], specs[ids[j] - 1000]), 0);
		e = fabs(approx[j] - exact);
		sq += e * e;
		worst = e > worst ? e : worst;
	}
	lw_index_free(ix);
	/*
	 * 256 orthogonal frequency pairs estimate each kernel value with a
	 * standard deviation under 1/sqrt(512); errors within one blob are
	 * correlated, so an MMD^2 estimate can be off by a few hundredths.
	 */
	assert_true(sqrt(sq / n) < 0.05);
	assert_true(worst < 0.15);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * What the rerank relies on: every specification distinctly close to the
 * query (exact MMD^2 within 0.2 of the best, among its exact top 5) is among
 * the sketch's best 20.  Beyond that, the far blobs tie at about 0.75 and
 * their order is noise for both.
 */
static void test_index_candidates__contain_the_close_specifications(void **state)
{
	lw_index *ix = build();
	uint64_t ids[20];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 5) {
		lw_rkme *q = blob(centres[i], D, 7000 + i);
		double exact[NB], sorted[NB];

		assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 20), 0);
		for (int j = 0; j < NB; j++)
			assert_int_equal(lw_rkme_dist(&exact[j], q, specs[j]), 0);
		memcpy(sorted, exact, sizeof(exact));
		qsort(sorted, NB, sizeof(double), by_value);
		for (int j = 0; j < NB; j++) {
			int found = 0;

			if (exact[j] > sorted[4] || exact[j] > sorted[0] + 0.2)
				continue;
			for (size_t t = 0; t < n; t++)
				found |= ids[t] == (uint64_t)(1000 + j);
			if (!found)
				fail_msg("query %d: exact top-5 member %d missing from the sketch's top 20", i, j);
		}
		lw_rkme_free(q);
	}
	lw_index_free(ix);
}

static void test_index_query__edge_cases(void **state)
{
	lw_index *ix, *empty;
	uint64_t ids[NB + 10];
	lw_rkme other;
	size_t n = 99;

	(void)state;
	ix = build();
	assert_int_equal(lw_index_new(&empty, NULL), 0);
	assert_int_equal(lw_index_query(ids, NULL, &n, empty, specs[0], 5), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[0], 0), 0);
	assert_int_equal(n, 0);
	/* Asking for more than there are gives them all, once each. */
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[0], NB + 10), 0);
	assert_int_equal(n, NB);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			assert_true(ids[i] != ids[j]);
	/* Another gamma is another partition: nothing to find. */
	other = *specs[0];
	other.gamma = 0.5;
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, &other, 5), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lw_index_query(NULL, NULL, &n, ix, specs[0], 5), LW_EINVALID);
	lw_index_free(empty);
	lw_index_free(ix);
}

/* --- updates ---------------------------------------------------------------- */

static void test_index_remove_and_replace__keep_ids_consistent(void **state)
{
	lw_index *ix = build();
	uint64_t ids[NB];
	size_t n;

	(void)state;
	for (int i = 0; i < NB; i += 2)
		assert_int_equal(lw_index_remove(ix, 1000 + i), 0);
	assert_int_equal(lw_index_remove(ix, 1000), LW_ENOTFOUND);
	assert_int_equal(lw_index_size(ix), NB / 2);
	assert_consistent(ix);
	/* Every survivor is still found first for its own specification. */
	for (int i = 1; i < NB; i += 2) {
		assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[i], 1), 0);
		assert_int_equal(ids[0], 1000 + i);
	}
	/* Replacing an id's specification moves it. */
	assert_int_equal(lw_index_add(ix, 1001, specs[2]), 0);
	assert_int_equal(lw_index_size(ix), NB / 2);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[2], 1), 0);
	assert_int_equal(ids[0], 1001);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, specs[2], NB), 0);
	assert_int_equal(n, NB / 2);
	assert_consistent(ix);
	lw_index_free(ix);
}

static void test_index_other_dimension__gets_its_own_partition(void **state)
{
	lw_index *ix = build();
	double c[3] = { 0, 0, 0 };
	lw_rkme *q = blob(c, 3, 5);
	uint64_t ids[4];
	size_t n;

	(void)state;
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 4), 0);
	assert_int_equal(n, 0);
	assert_int_equal(lw_index_add(ix, 7, q), 0);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 4), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 7);
	/* An id moves between partitions when its specification changes dimension. */
	assert_int_equal(lw_index_add(ix, 1003, q), 0);
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, q, 4), 0);
	assert_int_equal(n, 2);
	assert_int_equal(lw_index_size(ix), NB + 1);
	assert_consistent(ix);
	lw_rkme_free(q);
	lw_index_free(ix);
}

static void test_index_add_many__matches_single_adds(void **state)
{
	lw_index *one, *many;
	uint64_t ids[NB + 1], a[NB], b[NB];
	const lw_rkme *batch[NB + 1];
	double da[NB], db[NB];
	size_t na, nb;

	(void)state;
	one = build();
	for (int i = 0; i < NB; i++) {
		ids[i] = 1000 + i;
		batch[i] = specs[i];
	}
	/* A later duplicate in the batch replaces the earlier entry. */
	ids[NB] = 1004;
	batch[NB] = specs[9];
	assert_int_equal(lw_index_add(one, 1004, specs[9]), 0);
	assert_int_equal(lw_index_new(&many, NULL), 0);
	assert_int_equal(lw_index_add_many(many, ids, batch, NB + 1), 0);
	assert_int_equal(lw_index_size(many), NB);
	assert_consistent(many);
	for (int q = 0; q < NB; q += 11) {
		assert_int_equal(lw_index_query(a, da, &na, one, specs[q], NB), 0);
		assert_int_equal(lw_index_query(b, db, &nb, many, specs[q], NB), 0);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na * sizeof(uint64_t));
		assert_memory_equal(da, db, na * sizeof(double));
	}
	assert_int_equal(lw_index_add_many(many, NULL, NULL, 0), 0);
	lw_index_free(one);
	lw_index_free(many);
}

static void test_index_add__refuses_what_cannot_be_sketched(void **state)
{
	lw_index *ix = build();
	lw_rkme bad = *specs[1];
	const lw_rkme *batch[10];
	uint64_t ids[10];
	double *z = malloc(lw_rkme_k(specs[1]) * D * sizeof(double));

	(void)state;
	bad.gamma = 0;
	assert_int_equal(lw_index_add(ix, 1, &bad), LW_EINVALID);
	bad.gamma = NAN;
	assert_int_equal(lw_index_add(ix, 1, &bad), LW_EINVALID);
	/* A non-finite point rejects the whole batch (sketched in parallel) before anything is added. */
	bad = *specs[1];
	memcpy(z, specs[1]->z.data, lw_rkme_k(specs[1]) * D * sizeof(double));
	z[3] = NAN;
	bad.z.data = z;
	for (int i = 0; i < 10; i++) {
		ids[i] = 1 + (uint64_t)i;
		batch[i] = i == 7 ? &bad : specs[i];
	}
	assert_int_equal(lw_index_add_many(ix, ids, batch, 10), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "specification 7 of the batch"));
	assert_non_null(strstr(lw_error_last()->message, "not finite"));
	assert_int_equal(lw_index_add(ix, 1, &bad), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "not finite"));
	assert_int_equal(lw_index_size(ix), NB);
	assert_int_equal(lw_index_add(ix, 1, NULL), LW_EINVALID);
	assert_consistent(ix);
	free(z);
	lw_index_free(ix);
}

static void test_index_options__versions_and_limits(void **state)
{
	lw_index_options o, def = LW_INDEX_OPTIONS_INIT;
	struct {
		unsigned int version;
		size_t features;
		uint64_t seed;
	} v1 = { 1, 64, 7 };
	lw_index *ix = (lw_index *)1;

	(void)state;
	lw_index_options_init(&o);
	assert_int_equal(o.version, def.version);
	assert_int_equal(o.features, def.features);
	assert_int_equal(o.seed, def.seed);
	assert_int_equal(o.probes, def.probes);
	assert_int_equal(o.flat_max, def.flat_max);
	assert_int_equal(o.lists, def.lists);
	/* A version 1 struct is read up to its seed; the rest are defaults. */
	assert_int_equal(lw_index_new(&ix, (const lw_index_options *)(const void *)&v1), 0);
	assert_int_equal(ix->o.features, 64);
	assert_int_equal(ix->o.seed, 7);
	assert_int_equal(ix->o.probes, def.probes);
	assert_int_equal(ix->o.flat_max, def.flat_max);
	lw_index_free(ix);
	o.version = 99;
	assert_int_equal(lw_index_new(&ix, &o), LW_EINVALID);
	assert_null(ix);
	lw_index_options_init(&o);
	o.features = 255;
	assert_int_equal(lw_index_new(&ix, &o), LW_EINVALID);
	lw_index_options_init(&o);
	o.probes = 0;
	assert_int_equal(lw_index_new(&ix, &o), LW_EINVALID);
	lw_index_options_init(&o);
	o.lists = LW__INDEX_MAX_LISTS + 1;
	assert_int_equal(lw_index_new(&ix, &o), LW_EINVALID);
	assert_int_equal(lw_index_new(&ix, NULL), 0);
	assert_int_equal(lw_index_set_probes(ix, 0), LW_EINVALID);
	assert_int_equal(lw_index_set_probes(ix, 5), 0);
	assert_int_equal(ix->o.probes, 5);
	lw_index_free(ix);
}

static void test_index_bytes__count_the_sketches(void **state)
{
	lw_index *ix, *empty;

	(void)state;
	assert_int_equal(lw_index_new(&empty, NULL), 0);
	ix = build();
	assert_true(lw_index_bytes(empty) < lw_index_bytes(ix));
	/* D int8 codes, an id, a scale and a norm per entry at least. */
	assert_true(lw_index_bytes(ix) >= NB * (512 + 16));
	assert_int_equal(lw_index_bytes(NULL), 0);
	lw_index_free(empty);
	lw_index_free(ix);
}

/* --- coarse lists ------------------------------------------------------------ */

typedef struct {
	double d;
	uint64_t id;
} ranked;

static int by_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* recall@10 of (index top C, exact re-rank) against the exact top 10, over queries. */
static double dock_recall(const lw_index *ix, size_t n, size_t C, int queries)
{
	uint64_t *ids = malloc(C * sizeof(uint64_t));
	ranked *all = malloc(n * sizeof(ranked)), *mine = malloc(C * sizeof(ranked));
	double *d = malloc(n * sizeof(double)), total = 0;

	for (int q = 0; q < queries; q++) {
		lw_rkme *u = member(100000 + (uint64_t)q);
		size_t got, hits = 0;

		assert_int_equal(lw_rkme_dist_many(d, u, (const lw_rkme *const *)dock, n), 0);
		for (size_t i = 0; i < n; i++)
			all[i] = (ranked){ d[i], 5000 + i };
		qsort(all, n, sizeof(ranked), by_ranked);
		assert_int_equal(lw_index_query(ids, NULL, &got, ix, u, C), 0);
		assert_int_equal(got, C);
		for (size_t i = 0; i < got; i++)
			mine[i] = (ranked){ d[ids[i] - 5000], ids[i] };
		qsort(mine, got, sizeof(ranked), by_ranked);
		for (size_t i = 0; i < 10; i++)
			for (size_t j = 0; j < 10; j++)
				hits += all[i].id == mine[j].id;
		total += (double)hits / 10;
		lw_rkme_free(u);
	}
	free(ids);
	free(all);
	free(mine);
	free(d);
	return total / queries;
}

static void test_index_lists__keep_recall_on_a_synthetic_dock(void **state)
{
	lw_index *ix = build_dock(FN, 128, 4), *flat = build_dock(FN, FN + 1, 4);
	const lw__index_part *p = &ix->parts[0];
	uint32_t largest = 0;
	double with_lists, without;

	(void)state;
	/* 600 entries: sqrt gives 24 lists, of which a query scans 4 (a sixth). */
	assert_int_equal(p->nlist, 24);
	assert_int_equal(flat->parts[0].nlist, 1);
	for (size_t l = 0; l < p->nlist; l++)
		largest = p->lists[l].count > largest ? p->lists[l].count : largest;
	assert_true(largest < 4 * FN / p->nlist); /* balanced: no list swallows the dock */
	assert_consistent(ix);
	with_lists = dock_recall(ix, FN, 40, 12);
	without = dock_recall(flat, FN, 40, 12);
	print_message("recall@10 with C = 40: %.3f with 4 of 24 lists, %.3f scanning all\n", with_lists,
		      without);
	assert_true(without >= 0.95);
	assert_true(with_lists >= 0.9);
	lw_index_free(ix);
	lw_index_free(flat);
}

static void test_index_lists__retrain_as_the_partition_doubles(void **state)
{
	lw_index *ix = build_dock(127, 128, 4);
	lw__index_part *p = &ix->parts[0];

	(void)state;
	assert_int_equal(p->nlist, 1);
	assert_int_equal(lw_index_add(ix, 5127, dock[127]), 0);
	assert_int_equal(p->nlist, 11); /* sqrt(128) */
	assert_int_equal(p->trained_at, 128);
	for (int i = 128; i < 255; i++)
		assert_int_equal(lw_index_add(ix, 5000 + (uint64_t)i, dock[i]), 0);
	assert_int_equal(p->trained_at, 128);
	assert_int_equal(lw_index_add(ix, 5255, dock[255]), 0);
	assert_int_equal(p->trained_at, 256);
	assert_int_equal(p->nlist, 16);
	assert_consistent(ix);
	/* An explicit training uses the current size. */
	assert_int_equal(lw_index_add(ix, 5256, dock[256]), 0);
	assert_int_equal(lw_index_train(ix), 0);
	assert_int_equal(p->trained_at, 257);
	/* Shrinking below flat_max / 2 merges the lists into one again. */
	for (int i = 0; i < 200; i++)
		assert_int_equal(lw_index_remove(ix, 5000 + (uint64_t)i), 0);
	assert_int_equal(p->nlist, 1);
	assert_int_equal(p->trained_at, 0);
	assert_int_equal(lw_index_size(ix), 57);
	assert_consistent(ix);
	lw_index_free(ix);
}

static void test_index_lists__updates_keep_ids_consistent(void **state)
{
	lw_index *ix = build_dock(400, 128, 4);
	uint64_t ids[400];
	size_t n;

	(void)state;
	assert_true(ix->parts[0].nlist > 1);
	for (int i = 0; i < 400; i += 3)
		assert_int_equal(lw_index_remove(ix, 5000 + (uint64_t)i), 0);
	/* Replace: id 5001 takes member 402's specification. */
	assert_int_equal(lw_index_add(ix, 5001, dock[402]), 0);
	assert_consistent(ix);
	for (int i = 1; i < 400; i += 3) {
		const lw_rkme *own = i == 1 ? dock[402] : dock[i];

		/* Its own sketch is at distance 0: found first with a few lists probed. */
		assert_int_equal(lw_index_query(ids, NULL, &n, ix, own, 1), 0);
		assert_int_equal(ids[0], 5000 + (uint64_t)i);
	}
	assert_int_equal(lw_index_query(ids, NULL, &n, ix, dock[5], 400), 0);
	assert_int_equal(n, lw_index_size(ix));
	lw_index_free(ix);
}

/* --- files ------------------------------------------------------------------- */

static void test_index_save_load__answers_the_same(void **state)
{
	char *dir = lwt_mkdtemp(), path[512];
	lw_index *ix = build(), *back;
	uint64_t a[10], b[10];
	double da[10], db[10];
	size_t na, nb;

	(void)state;
	lw_index_remove(ix, 1005);
	snprintf(path, sizeof(path), "%s/index.bin", dir);
	assert_int_equal(lw_index_save(ix, path), 0);
	assert_int_equal(lw_index_load(&back, path), 0);
	assert_int_equal(lw_index_size(back), NB - 1);
	assert_int_equal(lw_index_query(a, da, &na, ix, specs[8], 10), 0);
	assert_int_equal(lw_index_query(b, db, &nb, back, specs[8], 10), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(uint64_t));
	assert_memory_equal(da, db, na * sizeof(double));
	lw_index_free(back);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(dir);
}

static void test_index_save_load__keeps_lists_and_options(void **state)
{
	char *dir = lwt_mkdtemp(), *p1 = file_path(dir, "a.lwix"), *p2 = file_path(dir, "b.lwix");
	lw_index *ix = build_dock(300, 128, 3), *back;
	unsigned char *f1, *f2;
	size_t l1, l2, na, nb;
	uint64_t a[30], b[30];
	double da[30], db[30];

	(void)state;
	assert_int_equal(lw_index_add(ix, 77, specs[0]), 0); /* a second partition */
	assert_int_equal(lw_index_save(ix, p1), 0);
	assert_int_equal(lw_index_load(&back, p1), 0);
	assert_int_equal(lw_index_size(back), 301);
	assert_int_equal(back->o.probes, 3);
	assert_int_equal(back->o.flat_max, 128);
	assert_int_equal(back->nparts, 2);
	assert_int_equal(back->parts[0].nlist, ix->parts[0].nlist);
	assert_int_equal(back->parts[0].trained_at, ix->parts[0].trained_at);
	assert_int_equal(lw_index_bytes(back) > 0, 1);
	assert_consistent(back);
	for (int q = 0; q < 300; q += 37) {
		assert_int_equal(lw_index_query(a, da, &na, ix, dock[q], 30), 0);
		assert_int_equal(lw_index_query(b, db, &nb, back, dock[q], 30), 0);
		assert_int_equal(na, nb);
		assert_memory_equal(a, b, na * sizeof(uint64_t));
		assert_memory_equal(da, db, na * sizeof(double));
	}
	/* Saving what was loaded writes the same bytes. */
	assert_int_equal(lw_index_save(back, p2), 0);
	f1 = slurp(p1, &l1);
	f2 = slurp(p2, &l2);
	assert_int_equal(l1, l2);
	assert_memory_equal(f1, f2, l1);
	/* And a loaded index takes updates like any other. */
	assert_int_equal(lw_index_remove(back, 5010), 0);
	assert_int_equal(lw_index_add(back, 5010, dock[10]), 0);
	assert_consistent(back);
	free(f1);
	free(f2);
	lw_index_free(back);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(p1);
	free(p2);
	free(dir);
}

static void test_index_load_damaged_file__is_refused(void **state)
{
	char *dir = lwt_mkdtemp(), path[512];
	lw_index *ix = build(), *back = (lw_index *)1;
	FILE *f;
	long size;

	(void)state;
	snprintf(path, sizeof(path), "%s/index.bin", dir);
	assert_int_equal(lw_index_save(ix, path), 0);
	f = fopen(path, "r+b");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	assert_int_equal(ftruncate(fileno(f), size - 100), 0);
	fclose(f);
	assert_refused(path);
	free(lwt_write_file(dir, "junk.bin", "LWIDX but not really"));
	snprintf(path, sizeof(path), "%s/junk.bin", dir);
	assert_refused(path);
	snprintf(path, sizeof(path), "%s/missing.bin", dir);
	assert_int_equal(lw_index_load(&back, path), LW_ENOTFOUND);
	assert_null(back);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(dir);
}

static void test_index_load_truncated_file__is_refused_at_every_length(void **state)
{
	char *dir = lwt_mkdtemp(), *full = file_path(dir, "full.lwix"), *cut = file_path(dir, "cut.lwix");
	lw_index *ix = build_dock(200, 128, 4);
	unsigned char *buf;
	size_t len, step;

	(void)state;
	assert_int_equal(lw_index_save(ix, full), 0);
	buf = slurp(full, &len);
	/* Every length through the headers, then a spread through the body. */
	step = len / 150;
	for (size_t n = 0; n < len; n += n < 400 || n + 64 > len ? 1 : step) {
		spit(cut, buf, n);
		assert_refused(cut);
	}
	/* Trailing bytes are refused too. */
	buf = realloc(buf, len + 3);
	memset(buf + len, 0, 3);
	spit(cut, buf, len + 3);
	assert_refused(cut);
	free(buf);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(full);
	free(cut);
	free(dir);
}

static void test_index_load_corrupted_file__is_refused(void **state)
{
	char *dir = lwt_mkdtemp(), *full = file_path(dir, "full.lwix"), *bad = file_path(dir, "bad.lwix");
	lw_index *ix = build_dock(200, 128, 4), *back;
	unsigned char *buf;
	size_t len, step;

	(void)state;
	assert_int_equal(lw_index_save(ix, full), 0);
	buf = slurp(full, &len);
	/* One changed byte anywhere, header, lists or checksum, is caught. */
	step = len / 150;
	for (size_t at = 0; at < len; at += at < 200 || at + 16 > len ? 1 : step) {
		buf[at] ^= 0x5a;
		spit(bad, buf, len);
		buf[at] ^= 0x5a;
		assert_refused(bad);
	}
	/* The untouched file still loads. */
	spit(bad, buf, len);
	assert_int_equal(lw_index_load(&back, bad), 0);
	lw_index_free(back);
	/* A file of format 1 (the previous build) is refused by its version. */
	memcpy(buf, "LWIDX\0\1\0", 8);
	spit(bad, buf, len);
	assert_refused(bad);
	assert_non_null(strstr(lw_error_last()->message, "format 1"));
	free(buf);
	lw_index_free(ix);
	lwt_rmtree(dir);
	free(full);
	free(bad);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_query__finds_the_same_blob_first),
		cmocka_unit_test(test_index_estimates__track_the_exact_mmd),
		cmocka_unit_test(test_index_candidates__contain_the_close_specifications),
		cmocka_unit_test(test_index_query__edge_cases),
		cmocka_unit_test(test_index_remove_and_replace__keep_ids_consistent),
		cmocka_unit_test(test_index_other_dimension__gets_its_own_partition),
		cmocka_unit_test(test_index_add_many__matches_single_adds),
		cmocka_unit_test(test_index_add__refuses_what_cannot_be_sketched),
		cmocka_unit_test(test_index_options__versions_and_limits),
		cmocka_unit_test(test_index_bytes__count_the_sketches),
		cmocka_unit_test(test_index_lists__keep_recall_on_a_synthetic_dock),
		cmocka_unit_test(test_index_lists__retrain_as_the_partition_doubles),
		cmocka_unit_test(test_index_lists__updates_keep_ids_consistent),
		cmocka_unit_test(test_index_save_load__answers_the_same),
		cmocka_unit_test(test_index_save_load__keeps_lists_and_options),
		cmocka_unit_test(test_index_load_damaged_file__is_refused),
		cmocka_unit_test(test_index_load_truncated_file__is_refused_at_every_length),
		cmocka_unit_test(test_index_load_corrupted_file__is_refused),
	};
	return cmocka_run_group_tests(tests, make_specs, free_specs);
}
