/*
 * The text encoder: hashed word and character n-grams, sublinear TF-IDF,
 * a signed sparse random projection and an SVD basis fitted on a corpus
 * (docs/text.md; the file layout is in text_encoder.h).
 *
 * Everything here is deterministic and independent of the batch: each
 * text's embedding is computed on its own, with sums in a fixed order.
 */
#define _POSIX_C_SOURCE 200809L
#include "text_encoder.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/error.h"
#include "sha256.h"
#include "util.h"

/* The compiled-in data/text-encoder.bin (src/lib/CMakeLists-embed.cmake). */
extern const unsigned char lw__text_encoder_bin[];
extern const size_t lw__text_encoder_bin_len;

#define FNV_PRIME 0x100000001b3ULL
#define GOLDEN 0x9e3779b97f4a7c15ULL
/* Word boundary markers of character n-grams: beyond Unicode, so never in a token. */
#define BOW 0x110000u
#define EOW 0x110001u
/* Feature kinds, mixed into their hashes. */
enum { KIND_WORD = 1, KIND_BIGRAM = 2, KIND_CHAR = 3, KIND_IDF = 4, KIND_PROJ = 5 };

static inline uint64_t mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ULL;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t kind_seed(const lw__text_params *p, unsigned kind)
{
	return mix64(p->seed + kind * GOLDEN);
}

static uint64_t hash_cps(uint64_t seed, const uint32_t *c, size_t n)
{
	uint64_t h = seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * FNV_PRIME;
	return mix64(h ^ n);
}

/* ---- features ------------------------------------------------------------ */

void lw__text_scratch_dispose(lw__text_scratch *s)
{
	if (!s)
		return;
	lw__tokens_dispose(&s->tokens);
	free(s->word);
	free(s->chr);
	free(s->raw);
	free(s->weight);
	memset(s, 0, sizeof(*s));
}

/* LSD radix sort of a[0..n), a byte at a time; tmp holds n more.  Bytes all keys share are skipped. */
static void radix_sort(uint64_t *a, uint64_t *tmp, size_t n)
{
	uint64_t *src = a, *dst = tmp;

	if (n < 2)
		return;
	for (unsigned shift = 0; shift < 64; shift += 8) {
		size_t count[256] = { 0 }, sum = 0;

		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & 0xff]++;
		if (count[(src[0] >> shift) & 0xff] == n)
			continue;
		for (size_t b = 0; b < 256; b++) {
			size_t c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & 0xff]++] = src[i];
		src = dst;
		dst = src == a ? tmp : a;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

/* Sort raw[0..n) and store the distinct hashes with their counts in *out. */
static int count_runs(lw__text_feat **out, size_t *n_out, size_t *cap, uint64_t *raw, size_t n)
{
	size_t k = 0;

	radix_sort(raw, raw + n, n);
	if (n > *cap) {
		lw__text_feat *f = lw__reallocarray(*out, n, sizeof(*f));

		if (!f)
			return LW_ENOMEM;
		*out = f;
		*cap = n;
	}
	for (size_t i = 0; i < n; i++) {
		if (k && (*out)[k - 1].hash == raw[i]) {
			(*out)[k - 1].count++;
		} else {
			(*out)[k].hash = raw[i];
			(*out)[k].count = 1;
			k++;
		}
	}
	*n_out = k;
	return 0;
}

/* Room for n hashes and the radix sort's n more. */
static int reserve_raw(lw__text_scratch *s, size_t n)
{
	if (n > SIZE_MAX / 2)
		return LW_ENOMEM;
	n *= 2;
	if (n > s->cap_raw) {
		uint64_t *r = lw__reallocarray(s->raw, n, sizeof(*r));

		if (!r)
			return LW_ENOMEM;
		s->raw = r;
		s->cap_raw = n;
	}
	return 0;
}

static int featurize(lw__text_scratch *s, const lw__text_params *p, const char *text, size_t len)
{
	const lw__tokens *t = &s->tokens;
	uint64_t sw = kind_seed(p, KIND_WORD), sb = kind_seed(p, KIND_BIGRAM),
		 sc = kind_seed(p, KIND_CHAR), prev = 0;
	uint32_t marked[LW_TEXT_MAX_TOKEN + 2];
	size_t n = 0, chars = 0, grams = p->char_max >= p->char_min ? p->char_max - p->char_min + 1 : 0;
	int err;

	s->n_word = s->n_chr = 0;
	if ((err = lw__text_tokenize(&s->tokens, text, len)) < 0)
		return err;
	/* Word features first, in raw[0..), then character n-grams after them. */
	if ((err = reserve_raw(s, 2 * t->count + 1)) < 0)
		return err;
	for (size_t i = 0; i < t->count; i++) {
		uint64_t h = hash_cps(sw, t->cp + t->start[i], t->start[i + 1] - t->start[i]);

		s->raw[n++] = h;
		if (p->word_max >= 2 && i > 0)
			s->raw[n++] = mix64((prev * GOLDEN) ^ h ^ sb);
		prev = h;
	}
	if ((err = count_runs(&s->word, &s->n_word, &s->cap_word, s->raw, n)) < 0)
		return err;
	if (grams == 0 || p->char_min == 0)
		return 0;
	for (size_t i = 0; i < t->count; i++)
		chars += (t->start[i + 1] - t->start[i] + 2) * grams;
	if ((err = reserve_raw(s, chars + 1)) < 0)
		return err;
	n = 0;
	for (size_t i = 0; i < t->count; i++) {
		size_t m = t->start[i + 1] - t->start[i] + 2;

		marked[0] = BOW;
		memcpy(marked + 1, t->cp + t->start[i], (m - 2) * sizeof(uint32_t));
		marked[m - 1] = EOW;
		for (size_t g = p->char_min; g <= p->char_max && g <= m; g++)
			for (size_t at = 0; at + g <= m; at++)
				s->raw[n++] = hash_cps(sc, marked + at, g);
	}
	return count_runs(&s->chr, &s->n_chr, &s->cap_chr, s->raw, n);
}

/* Room for the weights of the larger group. */
static int reserve_weights(lw__text_scratch *s)
{
	size_t n = s->n_word > s->n_chr ? s->n_word : s->n_chr;

	if (n > s->cap_weight) {
		double *w = lw__reallocarray(s->weight, n, sizeof(*w));

		if (!w)
			return LW_ENOMEM;
		s->weight = w;
		s->cap_weight = n;
	}
	return 0;
}

int lw__text_featurize(lw__text_scratch *s, const lw__text_params *p, const char *text, size_t len)
{
	int err = featurize(s, p, text, len);

	return err < 0 ? err : reserve_weights(s);
}

uint32_t lw__text_idf_slot(const lw__text_params *p, uint64_t hash)
{
	return (uint32_t)(mix64(hash ^ kind_seed(p, KIND_IDF)) >> (64 - p->idf_log2));
}

/*
 * Add one group's unit-length TF-IDF vector, times weight, through the
 * projection: feature f goes to proj_nnz dimensions with random signs, four
 * of them from each 64-bit hash (16 bits each: a sign bit and 15 bits that
 * pick the dimension).  w is scratch for n weights.
 */
static void project_group(double *out, const lw__text_params *p, const uint8_t *idf,
			  const lw__text_feat *f, size_t n, double weight, double *w)
{
	uint64_t sp = kind_seed(p, KIND_PROJ);
	double norm2 = 0, scale;

	if (n == 0 || weight == 0)
		return;
	for (size_t i = 0; i < n; i++) {
		double tf = f[i].count == 1 ? 1 : 1 + log((double)f[i].count);

		w[i] = tf * idf[lw__text_idf_slot(p, f[i].hash)];
		norm2 += w[i] * w[i];
	}
	if (!(norm2 > 0))
		return;
	scale = weight / sqrt(norm2 * p->proj_nnz);
	for (size_t i = 0; i < n; i++) {
		double v = w[i] * scale;
		uint64_t g = mix64(f[i].hash ^ sp), r = 0;

		for (uint32_t k = 0; k < p->proj_nnz; k++) {
			uint32_t chunk, dim;

			if (k % 4 == 0)
				r = mix64(g + (k / 4 + 1) * GOLDEN);
			chunk = (uint32_t)(r >> (16 * (k % 4))) & 0xffff;
			dim = (uint32_t)(((uint64_t)(chunk >> 1) * p->proj_dim) >> 15);
			out[dim] += (chunk & 1) ? -v : v;
		}
	}
}

int lw__text_project(double *out, const lw__text_params *p, const uint8_t *idf,
		     const lw__text_scratch *s)
{
	double norm2 = 0;

	double *w = s->weight;

	memset(out, 0, p->proj_dim * sizeof(*out));
	/* The IDF step is a common factor of every weight: it cancels in the normalisation. */
	project_group(out, p, idf, s->word, s->n_word, p->word_weight, w);
	project_group(out, p, idf, s->chr, s->n_chr, p->char_weight, w);
	for (uint32_t j = 0; j < p->proj_dim; j++)
		norm2 += out[j] * out[j];
	if (!(norm2 > 0)) {
		memset(out, 0, p->proj_dim * sizeof(*out));
		return 0;
	}
	norm2 = 1 / sqrt(norm2);
	for (uint32_t j = 0; j < p->proj_dim; j++)
		out[j] *= norm2;
	return 1;
}

/* ---- binary16 ------------------------------------------------------------ */

uint16_t lw__half_from_float(float f)
{
	uint32_t x, sign, mant;
	int32_t exp;

	memcpy(&x, &f, sizeof(x));
	sign = (x >> 16) & 0x8000;
	exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffff;
	if (((x >> 23) & 0xff) == 0xff) /* Inf, NaN */
		return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
	if (exp >= 31)
		return (uint16_t)(sign | 0x7c00);
	if (exp <= 0) { /* subnormal or zero */
		uint32_t shift, half, rest;

		if (exp < -10)
			return (uint16_t)sign;
		mant |= 0x800000;
		shift = (uint32_t)(14 - exp);
		half = mant >> shift;
		rest = mant & ((1u << shift) - 1);
		if (rest > (1u << (shift - 1)) || (rest == (1u << (shift - 1)) && (half & 1)))
			half++;
		return (uint16_t)(sign | half);
	}
	{
		uint32_t h = (uint32_t)exp << 10 | mant >> 13, rest = mant & 0x1fff;

		if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
			h++; /* may carry into the exponent, up to Inf: correct */
		return (uint16_t)(sign | h);
	}
}

float lw__half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, x;
	float f;

	if (exp == 0) {
		f = ldexpf((float)mant, -24);
		return sign ? -f : f;
	}
	if (exp == 31)
		x = sign | 0x7f800000 | mant << 13;
	else
		x = sign | (exp + 112) << 23 | mant << 13;
	memcpy(&f, &x, sizeof(f));
	return f;
}

/* ---- the file -------------------------------------------------------------- */

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float rdf32(const unsigned char *p)
{
	uint32_t x = rd32(p);
	float f;

	memcpy(&f, &x, sizeof(f));
	return f;
}

size_t lw__text_file_size(const lw__text_params *p)
{
	size_t w, size;

	if (p->idf_log2 > 30 || !lw__mul_ok(&w, (size_t)p->proj_dim, (size_t)p->out_dim) ||
	    !lw__mul_ok(&w, w, 2))
		return 0;
	size = LW_TEXT_HEADER + ((size_t)1 << p->idf_log2) + 4 * (size_t)p->proj_dim;
	if (size + w < size || size + w + 32 < size + w)
		return 0;
	return size + w + 32;
}

static int bad(const char *source, const char *what)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s: not a usable text encoder file: %s", source, what);
	return LW_EINVALID;
}

static int check_params(const lw__text_params *p, const char *source)
{
	if (p->idf_log2 < 4 || p->idf_log2 > 26)
		return bad(source, "IDF table size out of range");
	if (p->proj_dim < 1 || p->proj_dim > 32768 || p->out_dim < 1 || p->out_dim > p->proj_dim)
		return bad(source, "dimensions out of range");
	if (p->proj_nnz < 1 || p->proj_nnz > 64)
		return bad(source, "projection non-zeros out of range");
	if (p->char_max > 16 || (p->char_max && (p->char_min < 1 || p->char_min > p->char_max)))
		return bad(source, "character n-gram lengths out of range");
	if (p->word_max < 1 || p->word_max > 2)
		return bad(source, "word n-gram length must be 1 or 2");
	if (!(p->idf_step > 0) || !isfinite(p->idf_step) || !(p->word_weight >= 0) ||
	    !isfinite(p->word_weight) || !(p->char_weight >= 0) || !isfinite(p->char_weight) ||
	    !(p->word_weight + p->char_weight > 0))
		return bad(source, "weights out of range");
	return 0;
}

static void hex_of(char out[65], const unsigned char digest[32])
{
	lw__sha256_hex(out, digest);
}

int lw_text_encoder_parse(lw_text_encoder **out, const void *data, size_t len, const char *source)
{
	const unsigned char *b = data;
	lw_text_encoder *e = NULL;
	lw__text_params p;
	unsigned char digest[32];
	lw__sha256 ctx;
	const unsigned char *mean, *w;
	size_t idf_n;
	int err;

	LW_ASSERT_ARG(out && (data || !len));
	*out = NULL;
	if (!source)
		source = "text encoder";
	if (len < LW_TEXT_HEADER + 32 || memcmp(b, LW_TEXT_MAGIC, 8) != 0)
		return bad(source, "no LWTXTENC header");
	if (rd32(b + 8) != LW_TEXT_FORMAT || rd32(b + 12) != LW_TEXT_HEADER)
		return bad(source, "unknown format version");
	lw__sha256_init(&ctx);
	lw__sha256_update(&ctx, b, len - 32);
	lw__sha256_final(digest, &ctx);
	if (memcmp(digest, b + len - 32, 32) != 0)
		return bad(source, "its SHA-256 does not match its content (damaged or edited)");
	if (memchr(b + 16, '\0', LW_TEXT_NAME_SIZE) == NULL || b[16] == '\0')
		return bad(source, "no encoder name");
	p.idf_log2 = rd32(b + 68);
	p.proj_dim = rd32(b + 72);
	p.out_dim = rd32(b + 76);
	p.proj_nnz = rd32(b + 80);
	p.char_min = rd32(b + 84);
	p.char_max = rd32(b + 88);
	p.word_max = rd32(b + 92);
	p.seed = (uint64_t)rd32(b + 96) | (uint64_t)rd32(b + 100) << 32;
	p.idf_step = rdf32(b + 104);
	p.word_weight = rdf32(b + 108);
	p.char_weight = rdf32(b + 112);
	if ((err = check_params(&p, source)) < 0)
		return err;
	if (lw__text_file_size(&p) != len)
		return bad(source, "its size does not match its dimensions");
	if (!(e = lw__calloc(1, sizeof(*e))))
		return LW_ENOMEM;
	e->p = p;
	memcpy(e->name, b + 16, LW_TEXT_NAME_SIZE);
	e->version = rd32(b + 64);
	e->corpus_documents = rd32(b + 116);
	hex_of(e->corpus_sha256, b + 120);
	hex_of(e->sha256, digest);
	idf_n = (size_t)1 << p.idf_log2;
	mean = b + LW_TEXT_HEADER + idf_n;
	w = mean + 4 * (size_t)p.proj_dim;
	e->idf = lw__mallocarray(idf_n, 1);
	e->W = lw__mallocarray((size_t)p.proj_dim * p.out_dim, sizeof(double));
	e->bias = lw__calloc(p.out_dim, sizeof(double));
	if (!e->idf || !e->W || !e->bias) {
		lw_text_encoder_free(e);
		return LW_ENOMEM;
	}
	memcpy(e->idf, b + LW_TEXT_HEADER, idf_n);
	for (size_t i = 0; i < (size_t)p.proj_dim * p.out_dim; i++)
		e->W[i] = lw__half_to_float((uint16_t)(w[2 * i] | w[2 * i + 1] << 8));
	/* bias = W' mean, so that W'(x - mean) = W'x - bias. */
	for (size_t i = 0; i < p.proj_dim; i++) {
		double m = rdf32(mean + 4 * i);

		if (!isfinite(m)) {
			lw_text_encoder_free(e);
			return bad(source, "non-finite mean");
		}
		for (size_t j = 0; j < p.out_dim; j++)
			e->bias[j] += e->W[i * p.out_dim + j] * m;
	}
	for (size_t i = 0; i < (size_t)p.proj_dim * p.out_dim; i++)
		if (!isfinite(e->W[i])) {
			lw_text_encoder_free(e);
			return bad(source, "non-finite basis");
		}
	*out = e;
	return 0;
}

int lw_text_encoder_load(lw_text_encoder **out, const char *path)
{
	char *data;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&data, &len, path, (size_t)256 << 20)) < 0)
		return err;
	err = lw_text_encoder_parse(out, data, len, path);
	free(data);
	return err;
}

void lw_text_encoder_free(lw_text_encoder *enc)
{
	if (!enc || enc->builtin)
		return;
	free(enc->idf);
	free(enc->W);
	free(enc->bias);
	free(enc);
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static lw_text_encoder *builtin_enc;
static int builtin_err;
static char builtin_msg[256];

static void builtin_init(void)
{
	if (lw__text_encoder_bin_len == 0) {
		builtin_err = LW_EINVALID;
		snprintf(builtin_msg, sizeof(builtin_msg),
			 "this library was built without data/text-encoder.bin: build it with "
			 "tools/build_text_encoder (docs/text.md)");
		return;
	}
	builtin_err = lw_text_encoder_parse(&builtin_enc, lw__text_encoder_bin,
					    lw__text_encoder_bin_len, "built-in data/text-encoder.bin");
	if (builtin_err < 0)
		snprintf(builtin_msg, sizeof(builtin_msg), "%s", lw_error_last()->message);
	else
		builtin_enc->builtin = 1;
}

int lw_text_encoder_builtin(const lw_text_encoder **out)
{
	LW_ASSERT_ARG(out);
	pthread_once(&builtin_once, builtin_init);
	*out = builtin_enc;
	if (builtin_err < 0) {
		lw_error_set(builtin_err == LW_ENOMEM ? LW_ERRCLASS_NOMEMORY : LW_ERRCLASS_INVALID, "%s",
			     builtin_msg);
		return builtin_err;
	}
	return 0;
}

const char *lw_text_encoder_name(const lw_text_encoder *enc)
{
	return enc ? enc->name : "";
}

unsigned int lw_text_encoder_version(const lw_text_encoder *enc)
{
	return enc ? enc->version : 0;
}

const char *lw_text_encoder_sha256(const lw_text_encoder *enc)
{
	return enc ? enc->sha256 : "";
}

size_t lw_text_encoder_dim(const lw_text_encoder *enc)
{
	return enc ? enc->p.out_dim : 0;
}

/* ---- encoding ---------------------------------------------------------------- */

#define ENCODE_BLOCK 8 /* texts multiplied by W together, so W is read once for them */

/*
 * Embed texts[i0 .. i1) (at most ENCODE_BLOCK) into their rows of out; x is
 * ENCODE_BLOCK x proj_dim scratch.  Each output element is summed over the
 * projection's dimensions in ascending order, skipping zeros, so a text's
 * embedding does not depend on the texts beside it.
 */
static int encode_block(lw_mat *out, double *x, lw__text_scratch *s, const lw_text_encoder *e,
			const char *const *texts, const size_t *lens, size_t i0, size_t i1)
{
	const lw__text_params *p = &e->p;
	size_t D = p->proj_dim, K = p->out_dim, m = i1 - i0;
	int any[ENCODE_BLOCK];
	int err;

	for (size_t t = 0; t < m; t++) {
		const char *text = texts[i0 + t];

		memset(lw_mat_row(out, i0 + t), 0, K * sizeof(double));
		if ((err = lw__text_featurize(s, p, text, lens ? lens[i0 + t] : strlen(text))) < 0)
			return err;
		any[t] = lw__text_project(x + t * D, p, e->idf, s);
	}
	for (size_t i = 0; i < D; i++) {
		const double *w = e->W + i * K;

		for (size_t t = 0; t < m; t++) {
			double xi = x[t * D + i], *y = lw_mat_row(out, i0 + t);

			if (!any[t] || xi == 0)
				continue;
			/* Elements are independent: vectorising keeps each one's sum exact. */
#pragma omp simd
			for (size_t j = 0; j < K; j++)
				y[j] += xi * w[j];
		}
	}
	for (size_t t = 0; t < m; t++) {
		double *y = lw_mat_row(out, i0 + t), norm2 = 0;

		if (!any[t])
			continue; /* no word: a zero row */
		for (size_t j = 0; j < K; j++) {
			y[j] -= e->bias[j];
			norm2 += y[j] * y[j];
		}
		if (norm2 > 0) {
			norm2 = 1 / sqrt(norm2);
			for (size_t j = 0; j < K; j++)
				y[j] *= norm2;
		}
	}
	return 0;
}

int lw_text_encode(lw_mat *out, const lw_text_encoder *enc, const char *const *texts,
		   const size_t *lens, size_t n)
{
	int err = 0;

	LW_ASSERT_ARG(out && (texts || n == 0));
	memset(out, 0, sizeof(*out));
	if (!enc && (err = lw_text_encoder_builtin(&enc)) < 0)
		return err;
	for (size_t i = 0; i < n; i++)
		if (!texts[i]) {
			lw_error_set(LW_ERRCLASS_INVALID, "text %zu is NULL", i);
			return LW_EINVALID;
		}
	if ((err = lw_mat_init(out, n, enc->p.out_dim)) < 0)
		return err;
#pragma omp parallel if (n > 2 * ENCODE_BLOCK)
	{
		lw__text_scratch s;
		double *x = malloc(ENCODE_BLOCK * enc->p.proj_dim * sizeof(*x));
		int my = x ? 0 : LW_ENOMEM;

		memset(&s, 0, sizeof(s));
#pragma omp for schedule(dynamic, 1)
		for (size_t b = 0; b < (n + ENCODE_BLOCK - 1) / ENCODE_BLOCK; b++) {
			size_t i0 = b * ENCODE_BLOCK, i1 = i0 + ENCODE_BLOCK < n ? i0 + ENCODE_BLOCK : n;

			if (my == 0)
				my = encode_block(out, x, &s, enc, texts, lens, i0, i1);
		}
		if (my < 0) {
#pragma omp critical(lw_text_encode)
			err = my;
		}
		lw__text_scratch_dispose(&s);
		free(x);
	}
	if (err < 0) {
		lw_mat_dispose(out);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory embedding %zu texts", n);
	}
	return err;
}
