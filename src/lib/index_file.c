/*
 * The sketch index's file (format 2, docs/index.md): a header, then per
 * partition its centroids and its lists' ids, scales and int8 codes, then
 * a checksum of everything before it.  Feature maps and norms are not
 * stored: they are derived again on load.  The load checks the checksum
 * first, then parses, checking every count against the bytes left in the
 * file before anything is allocated for it.
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "index.h"
#include "util.h"

#define MAGIC "LWIDX"  /* and a NUL: 6 bytes, then the format byte and a 0 */
#define FORMAT 2
#define BYTE_ORDER_MARK 0x01020304u

/* --- checksum -------------------------------------------------------------- */

/*
 * Four multiply-xor lanes over 32-byte blocks of the byte stream, whatever
 * the write and read calls' sizes: a changed byte changes its lane (each
 * step is a bijection) and the final fold keeps that difference.  Meant
 * to catch damage, not tampering.
 */
typedef struct {
	uint64_t lane[4], total;
	unsigned char buf[32];
	size_t nbuf;
} hasher;

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t lane_step(uint64_t h, uint64_t w)
{
	return rotl(h ^ w, 31) * 0x9e3779b97f4a7c15ULL;
}

static void hash_init(hasher *x)
{
	static const uint64_t iv[4] = { 0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL,
					0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL };

	memset(x, 0, sizeof(*x));
	memcpy(x->lane, iv, sizeof(iv));
}

static void hash_block(hasher *x, const unsigned char *b)
{
	for (int k = 0; k < 4; k++) {
		uint64_t w;

		memcpy(&w, b + 8 * k, 8);
		x->lane[k] = lane_step(x->lane[k], w);
	}
}

static void hash_update(hasher *x, const void *data, size_t n)
{
	const unsigned char *b = data;

	x->total += n;
	if (x->nbuf) {
		size_t take = 32 - x->nbuf < n ? 32 - x->nbuf : n;

		memcpy(x->buf + x->nbuf, b, take);
		x->nbuf += take;
		b += take;
		n -= take;
		if (x->nbuf < 32)
			return;
		hash_block(x, x->buf);
		x->nbuf = 0;
	}
	for (; n >= 32; b += 32, n -= 32)
		hash_block(x, b);
	memcpy(x->buf, b, n);
	x->nbuf = n;
}

static uint64_t hash_final(const hasher *x)
{
	uint64_t lane[4], out = x->total;

	memcpy(lane, x->lane, sizeof(lane));
	for (size_t i = 0; i < x->nbuf; i++)
		lane[i & 3] = lane_step(lane[i & 3], x->buf[i]);
	for (int k = 0; k < 4; k++)
		out = lw__index_mix64(out ^ lane[k]) + (uint64_t)k;
	return out;
}

typedef struct {
	FILE *f;
	const char *path;
	hasher hash;
	uint64_t left; /* bytes not read yet (reader) */
	int bad;       /* a write failed (writer) */
} stream;

/* --- save ------------------------------------------------------------------ */

static void put(stream *s, const void *p, size_t size, size_t n)
{
	if (s->bad || n == 0)
		return;
	if (fwrite(p, size, n, s->f) != n) {
		s->bad = 1;
		return;
	}
	hash_update(&s->hash, p, size * n);
}

static void put_u64(stream *s, uint64_t v)
{
	put(s, &v, sizeof(v), 1);
}

int lw_index_save(const lw_index *ix, const char *path)
{
	char magic[8] = MAGIC "\0\0\0";
	uint32_t mark[2] = { BYTE_ORDER_MARK, 0 };
	stream s = { 0 };
	char *tmp;
	int err;

	LW_ASSERT_ARG(ix && path);
	hash_init(&s.hash);
	magic[6] = FORMAT;
	if ((err = lw__atomic_open(&s.f, &tmp, path)) < 0)
		return err;
	put(&s, magic, 1, 8);
	put(&s, mark, sizeof(uint32_t), 2);
	put_u64(&s, ix->o.features);
	put_u64(&s, ix->o.seed);
	put_u64(&s, ix->o.probes);
	put_u64(&s, ix->o.flat_max);
	put_u64(&s, ix->o.lists);
	put_u64(&s, ix->nparts);
	put_u64(&s, ix->map_used);
	for (size_t i = 0; i < ix->nparts; i++) {
		const lw__index_part *p = &ix->parts[i];

		put_u64(&s, p->dim);
		put(&s, &p->gamma, sizeof(double), 1);
		put_u64(&s, p->count);
		put_u64(&s, p->nlist);
		put_u64(&s, p->trained_at);
		if (p->nlist > 1)
			put(&s, p->centroids, sizeof(float), p->nlist * ix->o.features);
		for (size_t l = 0; l < p->nlist; l++)
			put(&s, &p->lists[l].count, sizeof(uint32_t), 1);
		for (size_t l = 0; l < p->nlist; l++) {
			const lw__index_list *li = &p->lists[l];

			put(&s, li->ids, sizeof(uint64_t), li->count);
			put(&s, li->scale, sizeof(float), li->count);
			put(&s, li->codes, ix->o.features, li->count);
		}
	}
	if (!s.bad) {
		uint64_t sum = hash_final(&s.hash);

		if (fwrite(&sum, sizeof(sum), 1, s.f) != 1)
			s.bad = 1;
	}
	if (s.bad)
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
	err = lw__atomic_close(s.f, tmp, path, !s.bad);
	return s.bad ? LW_EIO : err;
}

/* --- load ------------------------------------------------------------------ */

static int corrupt(const char *path, const char *what)
{
	lw_error_set(LW_ERRCLASS_DATA, "%s: not a usable index (%s); delete it to rebuild", path, what);
	return LW_EINVALID;
}

/* Read n items of size bytes, refusing to run past the end of the file. */
static int get(stream *s, void *p, size_t size, size_t n, const char *what)
{
	size_t bytes;

	if (n == 0)
		return 0;
	if (!lw__mul_ok(&bytes, size, n) || bytes > s->left || fread(p, size, n, s->f) != n)
		return corrupt(s->path, what);
	s->left -= bytes;
	return 0;
}

static int get_u64(stream *s, uint64_t *v, const char *what)
{
	return get(s, v, sizeof(*v), 1, what);
}

/* Can the rest of the file hold n records of size bytes? */
static int fits(const stream *s, uint64_t n, uint64_t size)
{
	return size == 0 || n <= s->left / size;
}

static int read_list(lw_index *ix, stream *s, lw__index_part *p, uint32_t part, uint32_t l, uint32_t n)
{
	lw__index_list *li = &p->lists[l];
	size_t D = ix->o.features;
	int err;

	if (!fits(s, n, sizeof(uint64_t) + sizeof(float) + D))
		return corrupt(s->path, "truncated list");
	if ((err = lw__index_list_reserve(li, D, n)) < 0 ||
	    (err = get(s, li->ids, sizeof(uint64_t), n, "truncated ids")) < 0 ||
	    (err = get(s, li->scale, sizeof(float), n, "truncated scales")) < 0 ||
	    (err = get(s, li->codes, D, n, "truncated sketches")) < 0)
		return err;
	for (uint32_t i = 0; i < n; i++) {
		if (!isfinite(li->scale[i]) || li->scale[i] < 0)
			return corrupt(s->path, "a sketch scale is not finite");
		if (lw__index_map_find(ix, li->ids[i]) != SIZE_MAX)
			return corrupt(s->path, "an id appears twice");
		lw__index_map_put(ix, (lw__index_bucket){ li->ids[i], part, l, i });
		li->count = i + 1;
	}
	p->count += n;
	return 0;
}

static int read_part(lw_index *ix, stream *s)
{
	size_t D = ix->o.features;
	uint64_t dim, count, nlist, trained_at;
	uint32_t *sizes = NULL, part;
	double gamma;
	lw__index_part *p;
	uint64_t sum = 0;
	int err;

	if ((err = get_u64(s, &dim, "truncated partition header")) < 0 ||
	    (err = get(s, &gamma, sizeof(double), 1, "truncated partition header")) < 0 ||
	    (err = get_u64(s, &count, "truncated partition header")) < 0 ||
	    (err = get_u64(s, &nlist, "truncated partition header")) < 0 ||
	    (err = get_u64(s, &trained_at, "truncated partition header")) < 0)
		return err;
	if (dim == 0 || dim > LW__INDEX_MAX_DIM || !(gamma > 0) || !isfinite(gamma) ||
	    count >= LW__INDEX_MAX_ENTRIES || nlist == 0 || nlist > LW__INDEX_MAX_LISTS ||
	    !fits(s, count, sizeof(uint64_t) + sizeof(float) + D) ||
	    !fits(s, nlist, (nlist > 1 ? D * sizeof(float) : 0) + sizeof(uint32_t)))
		return corrupt(s->path, "bad partition header");
	for (size_t i = 0; i < ix->nparts; i++)
		if (ix->parts[i].dim == dim && ix->parts[i].gamma == gamma)
			return corrupt(s->path, "a partition appears twice");
	if ((err = lw__index_part_get(&p, ix, (size_t)dim, gamma)) < 0)
		return err;
	part = (uint32_t)(p - ix->parts);
	if (nlist > 1) {
		lw__index_list *lists = lw__calloc((size_t)nlist, sizeof(lw__index_list));

		p->centroids = lw__mallocarray((size_t)nlist, D * sizeof(float));
		p->cnorm2 = lw__mallocarray((size_t)nlist, sizeof(float));
		if (!lists || !p->centroids || !p->cnorm2) {
			free(lists);
			return LW_ENOMEM;
		}
		free(p->lists);
		p->lists = lists;
		p->nlist = (size_t)nlist;
		p->trained_at = (size_t)trained_at;
		if ((err = get(s, p->centroids, sizeof(float), (size_t)nlist * D, "truncated centroids")) < 0)
			return err;
		for (size_t c = 0; c < nlist; c++) {
			p->cnorm2[c] = lw__index_dot(p->centroids + c * D, p->centroids + c * D, D);
			if (!isfinite(p->cnorm2[c]))
				return corrupt(s->path, "a centroid is not finite");
		}
	}
	if (!(sizes = lw__mallocarray((size_t)nlist, sizeof(uint32_t))))
		return LW_ENOMEM;
	if ((err = get(s, sizes, sizeof(uint32_t), (size_t)nlist, "truncated list sizes")) < 0)
		goto done;
	for (size_t l = 0; l < nlist; l++)
		sum += sizes[l];
	if (sum != count) {
		err = corrupt(s->path, "list sizes do not add up");
		goto done;
	}
	for (size_t l = 0; l < nlist && err == 0; l++)
		err = read_list(ix, s, p, part, (uint32_t)l, sizes[l]);
done:
	free(sizes);
	return err;
}

/* |sketch|^2 is derived, not stored. */
static void fill_norms(lw_index *ix)
{
	for (size_t i = 0; i < ix->nparts; i++) {
		lw__index_part *p = &ix->parts[i];

#pragma omp parallel for schedule(dynamic, 1)
		for (size_t l = 0; l < p->nlist; l++) {
			lw__index_list *li = &p->lists[l];

			for (uint32_t e = 0; e < li->count; e++)
				li->norm2[e] = lw__index_code_norm2(li->codes + (size_t)e * ix->o.features,
								    li->scale[e], ix->o.features);
		}
	}
}

static int check_magic(const stream *s, const char *magic)
{
	if (memcmp(magic, MAGIC, 6) != 0)
		return corrupt(s->path, "not an index file");
	if (magic[6] != FORMAT || magic[7] != 0) {
		char what[96];

		snprintf(what, sizeof(what), "format %d, this build reads format %d", magic[6], FORMAT);
		return corrupt(s->path, what);
	}
	return 0;
}

static int read_index(lw_index **out, stream *s)
{
	lw_index_options o = LW_INDEX_OPTIONS_INIT;
	uint64_t head[7];
	uint32_t mark[2];
	char magic[8];
	int err;

	if ((err = get(s, magic, 1, 8, "too short for a header")) < 0 || (err = check_magic(s, magic)) < 0)
		return err;
	if ((err = get(s, mark, sizeof(uint32_t), 2, "truncated header")) < 0 ||
	    (err = get(s, head, sizeof(uint64_t), 7, "truncated header")) < 0)
		return err;
	if (mark[0] != BYTE_ORDER_MARK)
		return corrupt(s->path, "written on a machine of another byte order");
	o.features = (size_t)head[0];
	o.seed = head[1];
	o.probes = (size_t)head[2];
	o.flat_max = (size_t)head[3];
	o.lists = (size_t)head[4];
	if (head[0] < 2 || head[0] > LW__INDEX_MAX_FEATURES || head[0] % 2 || head[2] == 0 ||
	    head[2] > SIZE_MAX / 2 || head[4] > LW__INDEX_MAX_LISTS || head[5] > LW__INDEX_MAX_PARTS ||
	    !fits(s, head[6], sizeof(uint64_t) + sizeof(float) + head[0]))
		return corrupt(s->path, "bad header");
	if ((err = lw_index_new(out, &o)) < 0 || (err = lw__index_map_reserve(*out, (size_t)head[6])) < 0)
		return err;
	for (uint64_t i = 0; i < head[5] && err == 0; i++)
		err = read_part(*out, s);
	if (err < 0)
		return err;
	if ((*out)->map_used != head[6])
		return corrupt(s->path, "entry count does not match");
	if (s->left != sizeof(uint64_t))
		return corrupt(s->path, "trailing bytes");
	fill_norms(*out);
	return 0;
}

/*
 * First pass: the checksum over the whole file, so that damage is refused
 * before any count in it sizes an allocation or a computation.  Reading
 * the file twice costs little: the second pass comes from the page cache.
 */
static int verify(stream *s)
{
	size_t chunk = (size_t)1 << 20, n;
	unsigned char *buf;
	uint64_t body, sum;
	int err = 0;

	if (s->left < 8 + sizeof(sum))
		return corrupt(s->path, "too short for a header");
	if (!(buf = lw__mallocarray(chunk, 1)))
		return LW_ENOMEM;
	body = s->left - sizeof(sum);
	/* The version first: an older file deserves a clearer word than "damaged". */
	if (fread(buf, 1, 8, s->f) != 8)
		err = corrupt(s->path, "too short for a header");
	else
		err = check_magic(s, (const char *)buf);
	if (err < 0) {
		free(buf);
		return err;
	}
	hash_update(&s->hash, buf, 8);
	for (uint64_t done = 8; done < body; done += n) {
		n = body - done < chunk ? (size_t)(body - done) : chunk;
		if (fread(buf, 1, n, s->f) != n) {
			err = corrupt(s->path, "cannot read it through");
			break;
		}
		hash_update(&s->hash, buf, n);
	}
	free(buf);
	if (err == 0 && fread(&sum, sizeof(sum), 1, s->f) != 1)
		err = corrupt(s->path, "cannot read its checksum");
	if (err == 0 && sum != hash_final(&s->hash))
		err = corrupt(s->path, "checksum mismatch: truncated or damaged");
	if (err == 0 && fseek(s->f, 0, SEEK_SET) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot rewind %s", s->path);
		err = LW_EIO;
	}
	return err;
}

int lw_index_load(lw_index **out, const char *path)
{
	stream s = { 0 };
	struct stat st;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if (!(s.f = fopen(path, "rb"))) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", path);
		return LW_ENOTFOUND;
	}
	if (fstat(fileno(s.f), &st) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot stat %s", path);
		fclose(s.f);
		return LW_EIO;
	}
	s.path = path;
	hash_init(&s.hash);
	s.left = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	if ((err = verify(&s)) == 0)
		err = read_index(out, &s);
	fclose(s.f);
	if (err < 0) {
		lw_index_free(*out);
		*out = NULL;
	}
	return err;
}
