/*
 * Random-Fourier-feature sketches of RKMEs, one partition per (dimension,
 * gamma), with an id map for updates and a binary file for fast start.
 */
#include "lw/index.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "lw/rng.h"
#include "util.h"

#define INDEX_MAGIC "LWIDX\0\1\0"
#define BYTE_ORDER_MARK 0x01020304u
#define MAX_FEATURES 65536
#define MAX_DIM 1000000

typedef struct {
	size_t dim;
	double gamma;
	double *W;     /* D/2 x dim frequencies, N(0, 2 gamma) */
	float *vec;    /* cap x D sketches */
	float *norm2;  /* |sketch|^2 per slot */
	uint64_t *ids; /* id per slot */
	size_t count, cap;
} partition;

/* Open addressing with linear probing; slot SIZE_MAX marks an empty bucket. */
typedef struct {
	uint64_t id;
	uint32_t part;
	size_t slot;
} bucket;

struct lw_index {
	size_t D;
	uint64_t seed;
	partition *parts;
	size_t nparts;
	bucket *map;
	size_t map_cap, map_used;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

int lw_index_new(lw_index **out, const lw_index_options *opts)
{
	lw_index_options o = LW_INDEX_OPTIONS_INIT;
	lw_index *ix;

	LW_ASSERT_ARG(out);
	*out = NULL;
	if (opts)
		o = *opts;
	if (o.features < 2 || o.features > MAX_FEATURES || o.features % 2) {
		lw_error_set(LW_ERRCLASS_INVALID, "sketch length %zu must be even, 2 to %d", o.features,
			     MAX_FEATURES);
		return LW_EINVALID;
	}
	if (!(ix = lw__calloc(1, sizeof(*ix))))
		return LW_ENOMEM;
	ix->D = o.features;
	ix->seed = o.seed;
	*out = ix;
	return 0;
}

static void partition_dispose(partition *p)
{
	free(p->W);
	free(p->vec);
	free(p->norm2);
	free(p->ids);
}

void lw_index_free(lw_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nparts; i++)
		partition_dispose(&ix->parts[i]);
	free(ix->parts);
	free(ix->map);
	free(ix);
}

size_t lw_index_size(const lw_index *ix)
{
	return ix ? ix->map_used : 0;
}

/* The feature map depends only on (seed, dim, gamma): every dock derives the same one. */
static int partition_init(partition *p, const lw_index *ix, size_t dim, double gamma)
{
	uint64_t gbits;
	lw_rng rng;
	double sd = sqrt(2.0 * gamma);

	memset(p, 0, sizeof(*p));
	p->dim = dim;
	p->gamma = gamma;
	p->W = lw__mallocarray(ix->D / 2, dim * sizeof(double));
	if (!p->W)
		return LW_ENOMEM;
	memcpy(&gbits, &gamma, sizeof(gbits));
	lw_rng_seed(&rng, mix64(ix->seed ^ mix64(dim) ^ mix64(gbits + 1)));
	for (size_t i = 0; i < ix->D / 2 * dim; i++)
		p->W[i] = sd * lw_rng_normal(&rng);
	return 0;
}

static int find_partition(const lw_index *ix, size_t dim, double gamma)
{
	for (size_t i = 0; i < ix->nparts; i++)
		if (ix->parts[i].dim == dim && ix->parts[i].gamma == gamma)
			return (int)i;
	return -1;
}

static int get_partition(partition **out, lw_index *ix, size_t dim, double gamma)
{
	int at = find_partition(ix, dim, gamma), err;
	partition *grown;

	if (at >= 0) {
		*out = &ix->parts[at];
		return 0;
	}
	if (!(grown = lw__reallocarray(ix->parts, ix->nparts + 1, sizeof(partition))))
		return LW_ENOMEM;
	ix->parts = grown;
	if ((err = partition_init(&ix->parts[ix->nparts], ix, dim, gamma)) < 0) {
		partition_dispose(&ix->parts[ix->nparts]);
		return err;
	}
	*out = &ix->parts[ix->nparts++];
	return 0;
}

/*
 * sketch (D doubles) = sqrt(2/D) sum_i beta_i [cos(W z_i), sin(W z_i)]: the
 * paired form, whose estimate of k(x, y) has lower variance than cosines
 * with random phases (Sutherland and Schneider, 2015).
 */
static int sketch(double *out, const lw_index *ix, const partition *p, const lw_rkme *r)
{
	size_t k = lw_rkme_k(r), m = ix->D / 2;
	double *proj = lw__mallocarray(k, 3 * m * sizeof(double)), scale = sqrt(1.0 / (double)m);
	double *sn = proj + k * m, *cs = sn + k * m;

	if (!proj)
		return LW_ENOMEM;
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)k, (int)m, (int)p->dim, 1.0,
		    r->z.data, (int)p->dim, p->W, (int)p->dim, 0.0, proj, (int)m);
	lw__sincos(sn, cs, proj, k * m);
	memset(out, 0, ix->D * sizeof(double));
	for (size_t i = 0; i < k; i++) {
		double w = r->beta[i] * scale;

		for (size_t j = 0; j < m; j++) {
			out[2 * j] += w * cs[i * m + j];
			out[2 * j + 1] += w * sn[i * m + j];
		}
	}
	free(proj);
	return 0;
}

/* --- id map ------------------------------------------------------------ */

static size_t map_find(const lw_index *ix, uint64_t id)
{
	size_t mask = ix->map_cap - 1, i;

	if (!ix->map_cap)
		return SIZE_MAX;
	for (i = mix64(id) & mask; ix->map[i].slot != SIZE_MAX; i = (i + 1) & mask)
		if (ix->map[i].id == id)
			return i;
	return SIZE_MAX;
}

static void map_put_nogrow(lw_index *ix, bucket b)
{
	size_t mask = ix->map_cap - 1, i = mix64(b.id) & mask;

	while (ix->map[i].slot != SIZE_MAX && ix->map[i].id != b.id)
		i = (i + 1) & mask;
	if (ix->map[i].slot == SIZE_MAX)
		ix->map_used++;
	ix->map[i] = b;
}

/* Keep the load under one half: probes stay short. */
static int map_reserve(lw_index *ix, size_t want)
{
	bucket *old = ix->map;
	size_t old_cap = ix->map_cap, cap = old_cap ? old_cap : 64;

	while (cap < 2 * want)
		cap *= 2;
	if (cap == old_cap)
		return 0;
	if (!(ix->map = lw__mallocarray(cap, sizeof(bucket)))) {
		ix->map = old;
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		ix->map[i].slot = SIZE_MAX;
	ix->map_cap = cap;
	ix->map_used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].slot != SIZE_MAX)
			map_put_nogrow(ix, old[i]);
	free(old);
	return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void map_delete(lw_index *ix, size_t i)
{
	size_t mask = ix->map_cap - 1, j = i;

	ix->map[i].slot = SIZE_MAX;
	ix->map_used--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (ix->map[j].slot == SIZE_MAX)
			return;
		home = mix64(ix->map[j].id) & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ix->map[i] = ix->map[j];
			ix->map[j].slot = SIZE_MAX;
			i = j;
		}
	}
}

/* --- updates ----------------------------------------------------------- */

static int partition_grow(partition *p, size_t D)
{
	size_t cap = p->cap ? 2 * p->cap : 64;
	float *vec, *norm2;
	uint64_t *ids;

	if (!(vec = lw__reallocarray(p->vec, cap, D * sizeof(float))))
		return LW_ENOMEM;
	p->vec = vec;
	if (!(norm2 = lw__reallocarray(p->norm2, cap, sizeof(float))))
		return LW_ENOMEM;
	p->norm2 = norm2;
	if (!(ids = lw__reallocarray(p->ids, cap, sizeof(uint64_t))))
		return LW_ENOMEM;
	p->ids = ids;
	p->cap = cap;
	return 0;
}

static void store_sketch(partition *p, size_t slot, const double *s, size_t D)
{
	float *v = p->vec + slot * D;
	double n2 = 0;

	for (size_t j = 0; j < D; j++) {
		v[j] = (float)s[j];
		n2 += (double)v[j] * v[j];
	}
	p->norm2[slot] = (float)n2;
}

/* Drop a slot by moving the partition's last entry into it. */
static void remove_slot(lw_index *ix, partition *p, uint32_t part, size_t slot)
{
	size_t last = --p->count;

	if (slot != last) {
		size_t b;

		memcpy(p->vec + slot * ix->D, p->vec + last * ix->D, ix->D * sizeof(float));
		p->norm2[slot] = p->norm2[last];
		p->ids[slot] = p->ids[last];
		b = map_find(ix, p->ids[slot]);
		ix->map[b] = (bucket){ p->ids[slot], part, slot };
	}
}

int lw_index_remove(lw_index *ix, uint64_t id)
{
	size_t b;
	bucket e;

	LW_ASSERT_ARG(ix);
	if ((b = map_find(ix, id)) == SIZE_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "id %llu is not in the index", (unsigned long long)id);
		return LW_ENOTFOUND;
	}
	e = ix->map[b];
	map_delete(ix, b);
	remove_slot(ix, &ix->parts[e.part], e.part, e.slot);
	return 0;
}

int lw_index_add(lw_index *ix, uint64_t id, const lw_rkme *r)
{
	double *s = NULL;
	partition *p;
	int err;

	LW_ASSERT_ARG(ix && r);
	if (map_find(ix, id) != SIZE_MAX && (err = lw_index_remove(ix, id)) < 0)
		return err;
	if ((err = get_partition(&p, ix, lw_rkme_dim(r), r->gamma)) < 0 ||
	    (err = map_reserve(ix, ix->map_used + 1)) < 0)
		return err;
	if (p->count == p->cap && (err = partition_grow(p, ix->D)) < 0)
		return err;
	if (!(s = lw__mallocarray(ix->D, sizeof(double))))
		return LW_ENOMEM;
	if ((err = sketch(s, ix, p, r)) == 0) {
		store_sketch(p, p->count, s, ix->D);
		p->ids[p->count] = id;
		map_put_nogrow(ix, (bucket){ id, (uint32_t)(p - ix->parts), p->count });
		p->count++;
	}
	free(s);
	return err;
}

/* --- query ------------------------------------------------------------- */

typedef struct {
	double d;
	size_t slot;
} hit;

/* Max-heap on d holding the best k seen so far. */
static void heap_push(hit *h, size_t *n, size_t k, hit x)
{
	size_t i;

	if (*n == k) {
		if (x.d >= h[0].d)
			return;
		/* Replace the worst and sift down. */
		i = 0;
		for (;;) {
			size_t l = 2 * i + 1, r = l + 1, m = i;
			double dm = x.d;

			if (l < k && h[l].d > dm)
				m = l, dm = h[l].d;
			if (r < k && h[r].d > dm)
				m = r;
			if (m == i)
				break;
			h[i] = h[m];
			i = m;
		}
		h[i] = x;
		return;
	}
	for (i = (*n)++; i > 0 && h[(i - 1) / 2].d < x.d; i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = x;
}

static int by_hit(const void *a, const void *b)
{
	const hit *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->slot < y->slot ? -1 : x->slot > y->slot;
}

int lw_index_query(uint64_t *ids, double *approx, size_t *count, const lw_index *ix,
		   const lw_rkme *user, size_t k)
{
	const partition *p;
	double *s = NULL, un = 0;
	float *u = NULL, *dots = NULL;
	hit *h = NULL;
	size_t n = 0;
	int at, err = LW_ENOMEM;

	LW_ASSERT_ARG(ids && count && ix && user);
	*count = 0;
	if ((at = find_partition(ix, lw_rkme_dim(user), user->gamma)) < 0 || k == 0)
		return 0;
	p = &ix->parts[at];
	s = lw__mallocarray(ix->D, sizeof(double));
	u = lw__mallocarray(ix->D, sizeof(float));
	dots = lw__mallocarray(p->count ? p->count : 1, sizeof(float));
	h = lw__mallocarray(k, sizeof(hit));
	if (!s || !u || !dots || !h || (err = sketch(s, ix, p, user)) < 0)
		goto done;
	for (size_t j = 0; j < ix->D; j++) {
		u[j] = (float)s[j];
		un += (double)u[j] * u[j];
	}
	if (p->count)
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)p->count, (int)ix->D, 1.0f, p->vec,
			    (int)ix->D, u, 1, 0.0f, dots, 1);
	for (size_t i = 0; i < p->count; i++)
		heap_push(h, &n, k, (hit){ un + p->norm2[i] - 2.0 * dots[i], i });
	qsort(h, n, sizeof(hit), by_hit);
	for (size_t i = 0; i < n; i++) {
		ids[i] = p->ids[h[i].slot];
		if (approx)
			approx[i] = h[i].d;
	}
	*count = n;
	err = 0;
done:
	free(s);
	free(u);
	free(dots);
	free(h);
	return err;
}

/* --- persistence ------------------------------------------------------- */

static int write_all(FILE *f, const void *p, size_t size, size_t n)
{
	return fwrite(p, size, n, f) == n ? 0 : -1;
}

int lw_index_save(const lw_index *ix, const char *path)
{
	uint64_t head[4] = { BYTE_ORDER_MARK, ix ? ix->D : 0, ix ? ix->seed : 0, ix ? ix->nparts : 0 };
	FILE *f;
	char *tmp;
	int err, bad = 0;

	LW_ASSERT_ARG(ix && path);
	if ((err = lw__atomic_open(&f, &tmp, path)) < 0)
		return err;
	bad |= write_all(f, INDEX_MAGIC, 1, 8) | write_all(f, head, sizeof(uint64_t), 4);
	for (size_t i = 0; i < ix->nparts && !bad; i++) {
		const partition *p = &ix->parts[i];
		uint64_t meta[2] = { p->dim, p->count };

		bad |= write_all(f, meta, sizeof(uint64_t), 2) | write_all(f, &p->gamma, sizeof(double), 1) |
		       write_all(f, p->ids, sizeof(uint64_t), p->count) |
		       write_all(f, p->vec, sizeof(float), p->count * ix->D);
	}
	if (bad)
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
	err = lw__atomic_close(f, tmp, path, !bad);
	return bad ? LW_EIO : err;
}

static int corrupt(const char *path, const char *what)
{
	lw_error_set(LW_ERRCLASS_DATA, "%s: not a usable index (%s); delete it to rebuild", path, what);
	return LW_EINVALID;
}

static int read_partition(lw_index *ix, FILE *f, const char *path)
{
	uint64_t meta[2];
	double gamma;
	partition *p;
	int err;

	if (fread(meta, sizeof(uint64_t), 2, f) != 2 || fread(&gamma, sizeof(double), 1, f) != 1)
		return corrupt(path, "truncated partition header");
	if (meta[0] == 0 || meta[0] > MAX_DIM || !(gamma > 0) || !isfinite(gamma) ||
	    meta[1] > ((uint64_t)1 << 32))
		return corrupt(path, "bad partition header");
	if ((err = get_partition(&p, ix, (size_t)meta[0], gamma)) < 0)
		return err;
	while (p->cap < meta[1])
		if ((err = partition_grow(p, ix->D)) < 0)
			return err;
	if (fread(p->ids, sizeof(uint64_t), meta[1], f) != meta[1] ||
	    fread(p->vec, sizeof(float) * ix->D, meta[1], f) != meta[1])
		return corrupt(path, "truncated sketches");
	if ((err = map_reserve(ix, ix->map_used + meta[1])) < 0)
		return err;
	for (size_t i = 0; i < meta[1]; i++) {
		const float *v = p->vec + i * ix->D;
		double n2 = 0;

		if (map_find(ix, p->ids[i]) != SIZE_MAX)
			return corrupt(path, "an id appears twice");
		for (size_t j = 0; j < ix->D; j++)
			n2 += (double)v[j] * v[j];
		if (!isfinite(n2))
			return corrupt(path, "a sketch is not finite");
		p->norm2[i] = (float)n2;
		map_put_nogrow(ix, (bucket){ p->ids[i], (uint32_t)(p - ix->parts), i });
		p->count++;
	}
	return 0;
}

int lw_index_load(lw_index **out, const char *path)
{
	lw_index_options o = LW_INDEX_OPTIONS_INIT;
	uint64_t head[4];
	char magic[8];
	FILE *f;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if (!(f = fopen(path, "rb"))) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", path);
		return LW_ENOTFOUND;
	}
	if (fread(magic, 1, 8, f) != 8 || memcmp(magic, INDEX_MAGIC, 8) ||
	    fread(head, sizeof(uint64_t), 4, f) != 4) {
		err = corrupt(path, "bad header");
		goto done;
	}
	if (head[0] != BYTE_ORDER_MARK || head[1] < 2 || head[1] % 2 || head[1] > MAX_FEATURES || head[3] > 4096) {
		err = corrupt(path, "written on another architecture or damaged");
		goto done;
	}
	o.features = (size_t)head[1];
	o.seed = head[2];
	if ((err = lw_index_new(out, &o)) < 0)
		goto done;
	for (uint64_t i = 0; i < head[3] && err == 0; i++)
		err = read_partition(*out, f, path);
	if (err == 0 && fgetc(f) != EOF)
		err = corrupt(path, "trailing bytes");
done:
	fclose(f);
	if (err < 0) {
		lw_index_free(*out);
		*out = NULL;
	}
	return err;
}
