/*
 * The sketch index: one partition per (dimension, gamma), each a set of
 * coarse lists of int8 sketches, and an id map for updates.  Sketching is
 * in index_sketch.c, list training in index_ivf.c, the file in index_file.c.
 */
#include "index.h"

#include <math.h>
#include <string.h>

#include "util.h"

uint64_t lw__index_mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

void lw_index_options_init(lw_index_options *opts)
{
	lw_index_options def = LW_INDEX_OPTIONS_INIT;

	if (opts)
		*opts = def;
}

int lw_index_new(lw_index **out, const lw_index_options *opts)
{
	lw_index_options o = LW_INDEX_OPTIONS_INIT;
	lw_index *ix;

	LW_ASSERT_ARG(out);
	*out = NULL;
	if (opts && opts->version == 1) {
		/* A version 1 struct ends after seed. */
		o.features = opts->features;
		o.seed = opts->seed;
	} else if (opts && opts->version == LW_INDEX_OPTIONS_VERSION) {
		o = *opts;
	} else if (opts) {
		lw_error_set(LW_ERRCLASS_INVALID, "lw_index_options version %u is unknown (this build knows 1 to %d)",
			     opts->version, LW_INDEX_OPTIONS_VERSION);
		return LW_EINVALID;
	}
	o.version = LW_INDEX_OPTIONS_VERSION;
	if (o.features < 2 || o.features > LW__INDEX_MAX_FEATURES || o.features % 2) {
		lw_error_set(LW_ERRCLASS_INVALID, "sketch length %zu must be even, 2 to %d", o.features,
			     LW__INDEX_MAX_FEATURES);
		return LW_EINVALID;
	}
	if (o.probes < 1 || o.lists > LW__INDEX_MAX_LISTS) {
		lw_error_set(LW_ERRCLASS_INVALID, "index probes %zu must be at least 1 and lists %zu at most %d",
			     o.probes, o.lists, LW__INDEX_MAX_LISTS);
		return LW_EINVALID;
	}
	if (!(ix = lw__calloc(1, sizeof(*ix))))
		return LW_ENOMEM;
	ix->o = o;
	*out = ix;
	return 0;
}

void lw__index_list_dispose(lw__index_list *l)
{
	free(l->ids);
	free(l->scale);
	free(l->norm2);
	free(l->codes);
	memset(l, 0, sizeof(*l));
}

void lw__index_part_dispose(lw__index_part *p)
{
	for (size_t i = 0; p->lists && i < p->nlist; i++)
		lw__index_list_dispose(&p->lists[i]);
	free(p->lists);
	free(p->WT);
	free(p->centroids);
	free(p->cnorm2);
	memset(p, 0, sizeof(*p));
}

void lw_index_free(lw_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nparts; i++)
		lw__index_part_dispose(&ix->parts[i]);
	free(ix->parts);
	free(ix->map);
	free(ix);
}

size_t lw_index_size(const lw_index *ix)
{
	return ix ? ix->map_used : 0;
}

size_t lw_index_bytes(const lw_index *ix)
{
	size_t total;

	if (!ix)
		return 0;
	total = sizeof(*ix) + ix->nparts * sizeof(lw__index_part) + ix->map_cap * sizeof(lw__index_bucket);
	for (size_t i = 0; i < ix->nparts; i++) {
		const lw__index_part *p = &ix->parts[i];

		total += ix->o.features / 2 * p->dim * sizeof(double) + p->nlist * sizeof(lw__index_list);
		if (p->centroids)
			total += p->nlist * (ix->o.features + 1) * sizeof(float);
		for (size_t l = 0; l < p->nlist; l++)
			total += (size_t)p->lists[l].cap * (sizeof(uint64_t) + 2 * sizeof(float) + ix->o.features);
	}
	return total;
}

int lw_index_set_probes(lw_index *ix, size_t probes)
{
	LW_ASSERT_ARG(ix && probes >= 1);
	ix->o.probes = probes;
	return 0;
}

/* --- partitions ------------------------------------------------------------ */

static int find_part(const lw_index *ix, size_t dim, double gamma)
{
	for (size_t i = 0; i < ix->nparts; i++)
		if (ix->parts[i].dim == dim && ix->parts[i].gamma == gamma)
			return (int)i;
	return -1;
}

/* The feature map depends only on (seed, dim, gamma): every dock derives the same one. */
static int part_init(lw__index_part *p, const lw_index *ix, size_t dim, double gamma)
{
	uint64_t gbits;

	memset(p, 0, sizeof(*p));
	p->dim = dim;
	p->gamma = gamma;
	p->nlist = 1;
	if (!(p->lists = lw__calloc(1, sizeof(lw__index_list))) ||
	    !(p->WT = lw__mallocarray(ix->o.features / 2, dim * sizeof(double))))
		return LW_ENOMEM;
	memcpy(&gbits, &gamma, sizeof(gbits));
	return lw__index_feature_map(p->WT, ix->o.features / 2, dim, gamma,
				     lw__index_mix64(ix->o.seed ^ lw__index_mix64(dim) ^
						     lw__index_mix64(gbits + 1)));
}

int lw__index_part_get(lw__index_part **out, lw_index *ix, size_t dim, double gamma)
{
	int at = find_part(ix, dim, gamma), err;
	lw__index_part *grown;

	if (at >= 0) {
		*out = &ix->parts[at];
		return 0;
	}
	if (dim > LW__INDEX_MAP_DOUBLES / (ix->o.features / 2)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "specifications of %zu columns are too wide for %zu sketch features (at most %zu)",
			     dim, ix->o.features, LW__INDEX_MAP_DOUBLES / (ix->o.features / 2));
		return LW_EINVALID;
	}
	if (ix->nparts >= LW__INDEX_MAX_PARTS) {
		lw_error_set(LW_ERRCLASS_INVALID, "the index holds %d (dimension, gamma) partitions already",
			     LW__INDEX_MAX_PARTS);
		return LW_EINVALID;
	}
	if (!(grown = lw__reallocarray(ix->parts, ix->nparts + 1, sizeof(lw__index_part))))
		return LW_ENOMEM;
	ix->parts = grown;
	if ((err = part_init(&ix->parts[ix->nparts], ix, dim, gamma)) < 0) {
		lw__index_part_dispose(&ix->parts[ix->nparts]);
		return err;
	}
	*out = &ix->parts[ix->nparts++];
	return 0;
}

/* --- id map ---------------------------------------------------------------- */

size_t lw__index_map_find(const lw_index *ix, uint64_t id)
{
	size_t mask = ix->map_cap - 1, i;

	if (!ix->map_cap)
		return SIZE_MAX;
	for (i = lw__index_mix64(id) & mask; ix->map[i].pos != UINT32_MAX; i = (i + 1) & mask)
		if (ix->map[i].id == id)
			return i;
	return SIZE_MAX;
}

/* Insert or overwrite; the caller has reserved room. */
void lw__index_map_put(lw_index *ix, lw__index_bucket b)
{
	size_t mask = ix->map_cap - 1, i = lw__index_mix64(b.id) & mask;

	while (ix->map[i].pos != UINT32_MAX && ix->map[i].id != b.id)
		i = (i + 1) & mask;
	if (ix->map[i].pos == UINT32_MAX)
		ix->map_used++;
	ix->map[i] = b;
}

/* Keep the load under one half: probes stay short. */
int lw__index_map_reserve(lw_index *ix, size_t want)
{
	lw__index_bucket *old = ix->map;
	size_t old_cap = ix->map_cap, cap = old_cap ? old_cap : 64;

	while (cap < 2 * want)
		cap *= 2;
	if (cap == old_cap)
		return 0;
	if (!(ix->map = lw__mallocarray(cap, sizeof(lw__index_bucket)))) {
		ix->map = old;
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < cap; i++)
		ix->map[i].pos = UINT32_MAX;
	ix->map_cap = cap;
	ix->map_used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].pos != UINT32_MAX)
			lw__index_map_put(ix, old[i]);
	free(old);
	return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void map_delete(lw_index *ix, size_t i)
{
	size_t mask = ix->map_cap - 1, j = i;

	ix->map[i].pos = UINT32_MAX;
	ix->map_used--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (ix->map[j].pos == UINT32_MAX)
			return;
		home = lw__index_mix64(ix->map[j].id) & mask;
		/* Move j into the hole at i unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			ix->map[i] = ix->map[j];
			ix->map[j].pos = UINT32_MAX;
			i = j;
		}
	}
}

/* --- lists ----------------------------------------------------------------- */

int lw__index_list_reserve(lw__index_list *l, size_t D, size_t cap)
{
	void *p;

	if (cap <= l->cap)
		return 0;
	if (cap > UINT32_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "an index list cannot hold more than %u entries", UINT32_MAX);
		return LW_EINVALID;
	}
	if (!(p = lw__reallocarray(l->ids, cap, sizeof(uint64_t))))
		return LW_ENOMEM;
	l->ids = p;
	if (!(p = lw__reallocarray(l->scale, cap, sizeof(float))))
		return LW_ENOMEM;
	l->scale = p;
	if (!(p = lw__reallocarray(l->norm2, cap, sizeof(float))))
		return LW_ENOMEM;
	l->norm2 = p;
	if (!(p = lw__reallocarray(l->codes, cap, D)))
		return LW_ENOMEM;
	l->codes = p;
	l->cap = (uint32_t)cap;
	return 0;
}

int lw__index_list_push(lw__index_list *l, size_t D, uint64_t id, const int8_t *code, float scale,
			float norm2)
{
	int err;

	if (l->count == l->cap &&
	    (err = lw__index_list_reserve(l, D, l->cap ? (size_t)l->cap + l->cap / 2 + 8 : 16)) < 0)
		return err;
	l->ids[l->count] = id;
	l->scale[l->count] = scale;
	l->norm2[l->count] = norm2;
	memcpy(l->codes + (size_t)l->count * D, code, D);
	l->count++;
	return 0;
}

/* Drop the entry in bucket b by moving its list's last entry into its slot. */
static void remove_at(lw_index *ix, size_t b)
{
	lw__index_bucket e = ix->map[b];
	lw__index_part *p = &ix->parts[e.part];
	lw__index_list *l = &p->lists[e.list];
	uint32_t last = --l->count;
	size_t D = ix->o.features;

	map_delete(ix, b);
	p->count--;
	if (e.pos != last) {
		l->ids[e.pos] = l->ids[last];
		l->scale[e.pos] = l->scale[last];
		l->norm2[e.pos] = l->norm2[last];
		memcpy(l->codes + (size_t)e.pos * D, l->codes + (size_t)last * D, D);
		ix->map[lw__index_map_find(ix, l->ids[e.pos])].pos = e.pos;
	}
}

/* --- updates --------------------------------------------------------------- */

static size_t lists_for(const lw_index *ix, size_t n)
{
	size_t want = ix->o.lists ? ix->o.lists : (size_t)lrint(sqrt((double)n));

	if (want > n)
		want = n;
	return want > LW__INDEX_MAX_LISTS ? LW__INDEX_MAX_LISTS : want;
}

int lw__index_maybe_train(lw_index *ix, lw__index_part *p)
{
	if (p->nlist > 1 && p->count < ix->o.flat_max / 2)
		return lw__index_relist(ix, p, 1);
	if (p->count < ix->o.flat_max || lists_for(ix, p->count) < 2 ||
	    (p->trained_at && p->count < 2 * p->trained_at))
		return 0;
	return lw__index_relist(ix, p, lists_for(ix, p->count));
}

int lw_index_train(lw_index *ix)
{
	int err = 0;

	LW_ASSERT_ARG(ix);
	for (size_t i = 0; i < ix->nparts && err == 0; i++) {
		lw__index_part *p = &ix->parts[i];

		if (p->count >= ix->o.flat_max && lists_for(ix, p->count) >= 2)
			err = lw__index_relist(ix, p, lists_for(ix, p->count));
		else if (p->nlist > 1 && p->count < ix->o.flat_max / 2)
			err = lw__index_relist(ix, p, 1);
	}
	return err;
}

int lw_index_remove(lw_index *ix, uint64_t id)
{
	size_t b;
	uint32_t part;

	LW_ASSERT_ARG(ix);
	if ((b = lw__index_map_find(ix, id)) == SIZE_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "id %llu is not in the index", (unsigned long long)id);
		return LW_ENOTFOUND;
	}
	part = ix->map[b].part;
	remove_at(ix, b);
	return lw__index_maybe_train(ix, &ix->parts[part]);
}

/* i: position in a batch, or SIZE_MAX for a query's specification. */
static int check_spec(const lw_rkme *r, size_t i)
{
	char what[64];

	if (r && lw_rkme_k(r) > 0 && lw_rkme_dim(r) > 0 && lw_rkme_dim(r) <= LW__INDEX_MAX_DIM && r->beta &&
	    r->gamma > 0 && isfinite(r->gamma))
		return 0;
	if (i == SIZE_MAX)
		snprintf(what, sizeof(what), "the query's specification");
	else
		snprintf(what, sizeof(what), "specification %zu of the batch", i);
	lw_error_set(LW_ERRCLASS_INVALID, "%s cannot be sketched: it needs points, 1 to %d columns and a finite gamma > 0",
		     what, LW__INDEX_MAX_DIM);
	return LW_EINVALID;
}

/*
 * Sketch, quantise and place every specification of the batch, in parallel.
 * The error slot is per thread, so the message is set here, for the
 * earliest failure, once the workers are done.
 */
static int sketch_batch(int8_t *codes, lw__index_code *meta, const lw_index *ix,
			const uint32_t *part, const lw_rkme *const *r, size_t n)
{
	size_t D = ix->o.features, first_bad = SIZE_MAX;
	int err = 0;

#pragma omp parallel if (n > 4)
	{
		double *s = lw__mallocarray(D + lw__index_sketch_scratch(D), sizeof(double));
		float *u = lw__mallocarray(D, sizeof(float));
		int mine = s && u ? 0 : LW_ENOMEM;
		size_t at = mine < 0 ? 0 : SIZE_MAX;

#pragma omp for schedule(dynamic, 8)
		for (size_t i = 0; i < n; i++) {
			const lw__index_part *p = &ix->parts[part[i]];
			int8_t *c = codes + i * D;
			lw__index_code *m = &meta[i];

			if (mine < 0)
				continue;
			if ((mine = lw__index_sketch(s, p->WT, D, r[i], s + D)) < 0) {
				at = i;
				continue;
			}
			lw__index_quantise(c, &m->scale, &m->norm2, s, D);
			m->list = 0;
			if (p->nlist > 1) {
				for (size_t j = 0; j < D; j++)
					u[j] = (float)s[j];
				m->list = lw__index_nearest_list(p, u, D);
			}
		}
		if (mine < 0) {
#pragma omp critical(lw_index_batch_error)
			if (at < first_bad || err == 0) {
				first_bad = at;
				err = mine;
			}
		}
		free(s);
		free(u);
	}
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory sketching a batch of %zu specifications", n);
	else if (err < 0 && n == 1)
		lw_error_set(LW_ERRCLASS_INVALID,
			     "the specification's points or weights are not finite: it cannot be sketched");
	else if (err < 0)
		lw_error_set(LW_ERRCLASS_INVALID,
			     "specification %zu of the batch has points or weights that are not finite: it "
			     "cannot be sketched",
			     first_bad);
	return err;
}

int lw_index_add_many(lw_index *ix, const uint64_t *ids, const lw_rkme *const *r, size_t n)
{
	uint32_t *part = NULL;
	int8_t *codes = NULL;
	lw__index_code *meta = NULL;
	char *touched = NULL;
	int err = 0;

	LW_ASSERT_ARG(ix && (n == 0 || (ids && r)));
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((err = check_spec(r[i], i)) < 0)
			return err;
	part = lw__mallocarray(n, sizeof(uint32_t));
	codes = lw__mallocarray(n, ix->o.features);
	meta = lw__mallocarray(n, sizeof(lw__index_code));
	if (!part || !codes || !meta) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		lw__index_part *p;

		if ((err = lw__index_part_get(&p, ix, lw_rkme_dim(r[i]), r[i]->gamma)) < 0)
			goto done;
		part[i] = (uint32_t)(p - ix->parts);
	}
	if ((err = sketch_batch(codes, meta, ix, part, r, n)) < 0 ||
	    (err = lw__index_map_reserve(ix, ix->map_used + n)) < 0)
		goto done;
	if (!(touched = lw__calloc(ix->nparts, 1))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++) {
		lw__index_part *p = &ix->parts[part[i]];
		lw__index_list *l = &p->lists[meta[i].list];
		size_t b = lw__index_map_find(ix, ids[i]);

		if (p->count >= LW__INDEX_MAX_ENTRIES - 1) {
			lw_error_set(LW_ERRCLASS_INVALID, "an index partition is full");
			err = LW_EINVALID;
			goto done;
		}
		if (b != SIZE_MAX)
			remove_at(ix, b);
		if ((err = lw__index_list_push(l, ix->o.features, ids[i], codes + i * ix->o.features,
					       meta[i].scale, meta[i].norm2)) < 0)
			goto done;
		lw__index_map_put(ix, (lw__index_bucket){ ids[i], part[i], meta[i].list, l->count - 1 });
		p->count++;
		touched[part[i]] = 1;
	}
done:
	/* Retrain after the batch, also after a failure part-way through it. */
	for (size_t i = 0; touched && i < ix->nparts; i++) {
		int e2;

		if (touched[i] && (e2 = lw__index_maybe_train(ix, &ix->parts[i])) < 0 && err == 0)
			err = e2;
	}
	free(part);
	free(codes);
	free(meta);
	free(touched);
	return err;
}

int lw_index_add(lw_index *ix, uint64_t id, const lw_rkme *r)
{
	LW_ASSERT_ARG(ix && r);
	return lw_index_add_many(ix, &id, &r, 1);
}

/* --- query ----------------------------------------------------------------- */

typedef struct {
	double d;
	uint64_t id;
} hit;

/* Max-heap on (d, id) holding the best k seen so far. */
static int worse(hit a, hit b)
{
	return a.d > b.d || (a.d == b.d && a.id > b.id);
}

static void heap_push(hit *h, size_t *n, size_t k, hit x)
{
	size_t i;

	if (*n == k) {
		if (!worse(h[0], x))
			return;
		/* Replace the worst and sift down. */
		i = 0;
		for (;;) {
			size_t l = 2 * i + 1, r = l + 1, m = i;
			hit hm = x;

			if (l < k && worse(h[l], hm))
				m = l, hm = h[l];
			if (r < k && worse(h[r], hm))
				m = r;
			if (m == i)
				break;
			h[i] = h[m];
			i = m;
		}
		h[i] = x;
		return;
	}
	for (i = (*n)++; i > 0 && worse(x, h[(i - 1) / 2]); i = (i - 1) / 2)
		h[i] = h[(i - 1) / 2];
	h[i] = x;
}

static int by_hit(const void *a, const void *b)
{
	const hit *x = a, *y = b;

	return worse(*x, *y) ? 1 : worse(*y, *x) ? -1 : 0;
}

static void scan_list(hit *h, size_t *n, size_t k, const lw__index_list *l, const float *u, double un,
		      size_t D)
{
	for (uint32_t i = 0; i < l->count; i++) {
		float dot = lw__index_code_dot(u, l->codes + (size_t)i * D, D);
		double d = un + l->norm2[i] - 2.0 * (double)l->scale[i] * dot;

		if (*n < k || d <= h[0].d)
			heap_push(h, n, k, (hit){ d, l->ids[i] });
	}
}

typedef struct {
	float d;
	uint32_t list;
} probe;

static int by_probe(const void *a, const void *b)
{
	const probe *x = a, *y = b;

	if (x->d != y->d)
		return x->d < y->d ? -1 : 1;
	return x->list < y->list ? -1 : x->list > y->list;
}

int lw_index_query(uint64_t *ids, double *approx, size_t *count, const lw_index *ix,
		   const lw_rkme *user, size_t k)
{
	const lw__index_part *p;
	size_t D, kk, n = 0, seen = 0;
	double *s = NULL, un = 0;
	float *u = NULL;
	hit *h = NULL;
	probe *order = NULL;
	int at, err;

	LW_ASSERT_ARG(ids && count && ix && user);
	*count = 0;
	if ((err = check_spec(user, SIZE_MAX)) < 0)
		return err;
	if ((at = find_part(ix, lw_rkme_dim(user), user->gamma)) < 0 || k == 0 ||
	    ix->parts[at].count == 0)
		return 0;
	p = &ix->parts[at];
	D = ix->o.features;
	kk = k < p->count ? k : p->count;
	err = LW_ENOMEM;
	s = lw__mallocarray(D + lw__index_sketch_scratch(D), sizeof(double));
	u = lw__mallocarray(D, sizeof(float));
	h = lw__mallocarray(kk, sizeof(hit));
	order = lw__mallocarray(p->nlist, sizeof(probe));
	if (!s || !u || !h || !order || (err = lw__index_sketch(s, p->WT, D, user, s + D)) < 0)
		goto done;
	for (size_t j = 0; j < D; j++) {
		u[j] = (float)s[j];
		un += (double)u[j] * u[j];
	}
	if (p->nlist == 1) {
		scan_list(h, &n, kk, &p->lists[0], u, un, D);
	} else {
		for (size_t c = 0; c < p->nlist; c++)
			order[c] = (probe){ p->cnorm2[c] - 2 * lw__index_dot(u, p->centroids + c * D, D),
					    (uint32_t)c };
		qsort(order, p->nlist, sizeof(probe), by_probe);
		/* The nearest `probes` lists, and more while they hold fewer than k entries. */
		for (size_t c = 0; c < p->nlist && (c < ix->o.probes || seen < kk); c++) {
			const lw__index_list *l = &p->lists[order[c].list];

			scan_list(h, &n, kk, l, u, un, D);
			seen += l->count;
		}
	}
	qsort(h, n, sizeof(hit), by_hit);
	for (size_t i = 0; i < n; i++) {
		ids[i] = h[i].id;
		if (approx)
			approx[i] = h[i].d;
	}
	*count = n;
	err = 0;
done:
	free(s);
	free(u);
	free(h);
	free(order);
	return err;
}
