/*
 * Text matching for semantic search: Python's str.lower and rapidfuzz's
 * fuzz.partial_ratio, so the dock ranks names as the reference engine does.
 *
 * partial_ratio slides the shorter sequence (the needle, length m) over
 * the longer one (length n) and keeps the best normalised Indel similarity
 * 2 * LCS / (m + k) of a window of length k: every window of length m, and
 * the prefixes and suffixes shorter than m.  LCS lengths come from the
 * bit-parallel algorithm (Allison-Dix, Hyyro), one machine word per 64
 * needle code points.  The prefixes cost one pass over the haystack's start
 * and the suffixes one pass backwards over its end (the LCS of a growing
 * prefix is read off after each step).  The n - m + 1 full windows are
 * searched by bisection: two windows one step apart differ by at most 2 in
 * distance (one code point leaves, one enters), so between windows a and b
 * nothing can beat (d(a) + d(b)) / 2 - (b - a), and intervals whose bound
 * cannot improve on the best score so far, or reach the cutoff, are skipped;
 * before that, a sliding histogram of shared code points bounds every full
 * window at once and usually rules them all out.
 */
#include "fuzzy.h"

#include <string.h>

#include "util.h"

/* --- UTF-8 -------------------------------------------------------------------- */

/* Length of the valid sequence at p (left bytes available) and its code point; 0 if invalid. */
static size_t decode_one(uint32_t *out, const unsigned char *p, size_t left)
{
	uint32_t c, min;
	size_t need;

	if (p[0] < 0x80) {
		*out = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		need = 1;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		need = 2;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		need = 3;
		min = 0x10000;
	} else {
		return 0;
	}
	c = p[0] & (0x3f >> need);
	if (left <= need)
		return 0;
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*out = c;
	return need + 1;
}

int lw__utf8_decode(uint32_t **out, size_t *n, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t *cp = lw__mallocarray(len ? len : 1, sizeof(*cp));
	size_t k = 0, at = 0;

	*out = NULL;
	*n = 0;
	if (!cp)
		return LW_ENOMEM;
	while (at < len) {
		size_t used = decode_one(&cp[k], p + at, len - at);

		if (used == 0) {
			cp[k] = 0xdc00 + p[at]; /* p[at] >= 0x80 here */
			used = 1;
		}
		k++;
		at += used;
	}
	*out = cp;
	*n = k;
	return 0;
}

static size_t encode_one(char *out, uint32_t c)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | c >> 6);
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | c >> 12);
		out[1] = (char)(0x80 | (c >> 6 & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | c >> 18);
	out[1] = (char)(0x80 | (c >> 12 & 0x3f));
	out[2] = (char)(0x80 | (c >> 6 & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* --- lower case ------------------------------------------------------------------ */

/*
 * Every code point whose Python str.lower is one other code point, as runs:
 * lo..hi in steps of stride map to c + delta.  Generated from Python 3.11
 * (Unicode 14.0.0) by comparing chr(c).lower() with c for every code point;
 * U+0130, the one code point that lowers to two, is handled in code.
 */
static const struct {
	uint32_t lo, hi;
	int32_t delta;
	uint32_t stride;
} lower_runs[] = {
	{ 0x0041, 0x005a, 32, 1 }, { 0x00c0, 0x00d6, 32, 1 }, { 0x00d8, 0x00de, 32, 1 },
	{ 0x0100, 0x012e, 1, 2 }, { 0x0132, 0x0136, 1, 2 }, { 0x0139, 0x0147, 1, 2 },
	{ 0x014a, 0x0176, 1, 2 }, { 0x0178, 0x0178, -121, 1 }, { 0x0179, 0x017d, 1, 2 },
	{ 0x0181, 0x0181, 210, 1 }, { 0x0182, 0x0184, 1, 2 }, { 0x0186, 0x0186, 206, 1 },
	{ 0x0187, 0x0187, 1, 1 }, { 0x0189, 0x018a, 205, 1 }, { 0x018b, 0x018b, 1, 1 },
	{ 0x018e, 0x018e, 79, 1 }, { 0x018f, 0x018f, 202, 1 }, { 0x0190, 0x0190, 203, 1 },
	{ 0x0191, 0x0191, 1, 1 }, { 0x0193, 0x0193, 205, 1 }, { 0x0194, 0x0194, 207, 1 },
	{ 0x0196, 0x0196, 211, 1 }, { 0x0197, 0x0197, 209, 1 }, { 0x0198, 0x0198, 1, 1 },
	{ 0x019c, 0x019c, 211, 1 }, { 0x019d, 0x019d, 213, 1 }, { 0x019f, 0x019f, 214, 1 },
	{ 0x01a0, 0x01a4, 1, 2 }, { 0x01a6, 0x01a6, 218, 1 }, { 0x01a7, 0x01a7, 1, 1 },
	{ 0x01a9, 0x01a9, 218, 1 }, { 0x01ac, 0x01ac, 1, 1 }, { 0x01ae, 0x01ae, 218, 1 },
	{ 0x01af, 0x01af, 1, 1 }, { 0x01b1, 0x01b2, 217, 1 }, { 0x01b3, 0x01b5, 1, 2 },
	{ 0x01b7, 0x01b7, 219, 1 }, { 0x01b8, 0x01b8, 1, 1 }, { 0x01bc, 0x01bc, 1, 1 },
	{ 0x01c4, 0x01c4, 2, 1 }, { 0x01c5, 0x01c5, 1, 1 }, { 0x01c7, 0x01c7, 2, 1 },
	{ 0x01c8, 0x01c8, 1, 1 }, { 0x01ca, 0x01ca, 2, 1 }, { 0x01cb, 0x01db, 1, 2 },
	{ 0x01de, 0x01ee, 1, 2 }, { 0x01f1, 0x01f1, 2, 1 }, { 0x01f2, 0x01f4, 1, 2 },
	{ 0x01f6, 0x01f6, -97, 1 }, { 0x01f7, 0x01f7, -56, 1 }, { 0x01f8, 0x021e, 1, 2 },
	{ 0x0220, 0x0220, -130, 1 }, { 0x0222, 0x0232, 1, 2 }, { 0x023a, 0x023a, 10795, 1 },
	{ 0x023b, 0x023b, 1, 1 }, { 0x023d, 0x023d, -163, 1 }, { 0x023e, 0x023e, 10792, 1 },
	{ 0x0241, 0x0241, 1, 1 }, { 0x0243, 0x0243, -195, 1 }, { 0x0244, 0x0244, 69, 1 },
	{ 0x0245, 0x0245, 71, 1 }, { 0x0246, 0x024e, 1, 2 }, { 0x0370, 0x0372, 1, 2 },
	{ 0x0376, 0x0376, 1, 1 }, { 0x037f, 0x037f, 116, 1 }, { 0x0386, 0x0386, 38, 1 },
	{ 0x0388, 0x038a, 37, 1 }, { 0x038c, 0x038c, 64, 1 }, { 0x038e, 0x038f, 63, 1 },
	{ 0x0391, 0x03a1, 32, 1 }, { 0x03a3, 0x03ab, 32, 1 }, { 0x03cf, 0x03cf, 8, 1 },
	{ 0x03d8, 0x03ee, 1, 2 }, { 0x03f4, 0x03f4, -60, 1 }, { 0x03f7, 0x03f7, 1, 1 },
	{ 0x03f9, 0x03f9, -7, 1 }, { 0x03fa, 0x03fa, 1, 1 }, { 0x03fd, 0x03ff, -130, 1 },
	{ 0x0400, 0x040f, 80, 1 }, { 0x0410, 0x042f, 32, 1 }, { 0x0460, 0x0480, 1, 2 },
	{ 0x048a, 0x04be, 1, 2 }, { 0x04c0, 0x04c0, 15, 1 }, { 0x04c1, 0x04cd, 1, 2 },
	{ 0x04d0, 0x052e, 1, 2 }, { 0x0531, 0x0556, 48, 1 }, { 0x10a0, 0x10c5, 7264, 1 },
	{ 0x10c7, 0x10c7, 7264, 1 }, { 0x10cd, 0x10cd, 7264, 1 }, { 0x13a0, 0x13ef, 38864, 1 },
	{ 0x13f0, 0x13f5, 8, 1 }, { 0x1c90, 0x1cba, -3008, 1 }, { 0x1cbd, 0x1cbf, -3008, 1 },
	{ 0x1e00, 0x1e94, 1, 2 }, { 0x1e9e, 0x1e9e, -7615, 1 }, { 0x1ea0, 0x1efe, 1, 2 },
	{ 0x1f08, 0x1f0f, -8, 1 }, { 0x1f18, 0x1f1d, -8, 1 }, { 0x1f28, 0x1f2f, -8, 1 },
	{ 0x1f38, 0x1f3f, -8, 1 }, { 0x1f48, 0x1f4d, -8, 1 }, { 0x1f59, 0x1f5f, -8, 2 },
	{ 0x1f68, 0x1f6f, -8, 1 }, { 0x1f88, 0x1f8f, -8, 1 }, { 0x1f98, 0x1f9f, -8, 1 },
	{ 0x1fa8, 0x1faf, -8, 1 }, { 0x1fb8, 0x1fb9, -8, 1 }, { 0x1fba, 0x1fbb, -74, 1 },
	{ 0x1fbc, 0x1fbc, -9, 1 }, { 0x1fc8, 0x1fcb, -86, 1 }, { 0x1fcc, 0x1fcc, -9, 1 },
	{ 0x1fd8, 0x1fd9, -8, 1 }, { 0x1fda, 0x1fdb, -100, 1 }, { 0x1fe8, 0x1fe9, -8, 1 },
	{ 0x1fea, 0x1feb, -112, 1 }, { 0x1fec, 0x1fec, -7, 1 }, { 0x1ff8, 0x1ff9, -128, 1 },
	{ 0x1ffa, 0x1ffb, -126, 1 }, { 0x1ffc, 0x1ffc, -9, 1 }, { 0x2126, 0x2126, -7517, 1 },
	{ 0x212a, 0x212a, -8383, 1 }, { 0x212b, 0x212b, -8262, 1 }, { 0x2132, 0x2132, 28, 1 },
	{ 0x2160, 0x216f, 16, 1 }, { 0x2183, 0x2183, 1, 1 }, { 0x24b6, 0x24cf, 26, 1 },
	{ 0x2c00, 0x2c2f, 48, 1 }, { 0x2c60, 0x2c60, 1, 1 }, { 0x2c62, 0x2c62, -10743, 1 },
	{ 0x2c63, 0x2c63, -3814, 1 }, { 0x2c64, 0x2c64, -10727, 1 }, { 0x2c67, 0x2c6b, 1, 2 },
	{ 0x2c6d, 0x2c6d, -10780, 1 }, { 0x2c6e, 0x2c6e, -10749, 1 }, { 0x2c6f, 0x2c6f, -10783, 1 },
	{ 0x2c70, 0x2c70, -10782, 1 }, { 0x2c72, 0x2c72, 1, 1 }, { 0x2c75, 0x2c75, 1, 1 },
	{ 0x2c7e, 0x2c7f, -10815, 1 }, { 0x2c80, 0x2ce2, 1, 2 }, { 0x2ceb, 0x2ced, 1, 2 },
	{ 0x2cf2, 0x2cf2, 1, 1 }, { 0xa640, 0xa66c, 1, 2 }, { 0xa680, 0xa69a, 1, 2 },
	{ 0xa722, 0xa72e, 1, 2 }, { 0xa732, 0xa76e, 1, 2 }, { 0xa779, 0xa77b, 1, 2 },
	{ 0xa77d, 0xa77d, -35332, 1 }, { 0xa77e, 0xa786, 1, 2 }, { 0xa78b, 0xa78b, 1, 1 },
	{ 0xa78d, 0xa78d, -42280, 1 }, { 0xa790, 0xa792, 1, 2 }, { 0xa796, 0xa7a8, 1, 2 },
	{ 0xa7aa, 0xa7aa, -42308, 1 }, { 0xa7ab, 0xa7ab, -42319, 1 }, { 0xa7ac, 0xa7ac, -42315, 1 },
	{ 0xa7ad, 0xa7ad, -42305, 1 }, { 0xa7ae, 0xa7ae, -42308, 1 }, { 0xa7b0, 0xa7b0, -42258, 1 },
	{ 0xa7b1, 0xa7b1, -42282, 1 }, { 0xa7b2, 0xa7b2, -42261, 1 }, { 0xa7b3, 0xa7b3, 928, 1 },
	{ 0xa7b4, 0xa7c2, 1, 2 }, { 0xa7c4, 0xa7c4, -48, 1 }, { 0xa7c5, 0xa7c5, -42307, 1 },
	{ 0xa7c6, 0xa7c6, -35384, 1 }, { 0xa7c7, 0xa7c9, 1, 2 }, { 0xa7d0, 0xa7d0, 1, 1 },
	{ 0xa7d6, 0xa7d8, 1, 2 }, { 0xa7f5, 0xa7f5, 1, 1 }, { 0xff21, 0xff3a, 32, 1 },
	{ 0x10400, 0x10427, 40, 1 }, { 0x104b0, 0x104d3, 40, 1 }, { 0x10570, 0x1057a, 39, 1 },
	{ 0x1057c, 0x1058a, 39, 1 }, { 0x1058c, 0x10592, 39, 1 }, { 0x10594, 0x10595, 39, 1 },
	{ 0x10c80, 0x10cb2, 64, 1 }, { 0x118a0, 0x118bf, 32, 1 }, { 0x16e40, 0x16e5f, 32, 1 },
	{ 0x1e900, 0x1e921, 34, 1 },
};

uint32_t lw__lower_cp(uint32_t c)
{
	size_t lo = 0, hi = sizeof(lower_runs) / sizeof(lower_runs[0]);

	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	/* The last run starting at or before c. */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (lower_runs[mid].lo <= c)
			lo = mid;
		else
			hi = mid;
	}
	if (c >= lower_runs[lo].lo && c <= lower_runs[lo].hi && (c - lower_runs[lo].lo) % lower_runs[lo].stride == 0)
		return (uint32_t)((int32_t)c + lower_runs[lo].delta);
	return c;
}

char *lw__utf8_lower(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), at = 0, k = 0;
	/* A lowered code point takes at most 1.5 times its bytes (U+0130: 2 bytes to 3). */
	char *out = lw__mallocarray(len / 2 * 3 + 4, 1);

	if (!out)
		return NULL;
	while (at < len) {
		uint32_t c;
		size_t used = decode_one(&c, p + at, len - at);

		if (used == 0) {
			out[k++] = (char)p[at++];
			continue;
		}
		at += used;
		if (c == 0x130) {
			out[k++] = 'i';
			k += encode_one(out + k, 0x307);
		} else {
			k += encode_one(out + k, lw__lower_cp(c));
		}
	}
	out[k] = '\0';
	return out;
}

/* --- bit-parallel LCS ------------------------------------------------------------ */

/*
 * A needle's match masks: each distinct code point gets a row number (0
 * for code points the needle lacks) and two rows of nw words, with bit i
 * set where the needle, read forwards (fwd) or backwards (rev), has it at
 * position i.  Code points below 256 find their row directly, the others
 * through an open-addressing table.
 */
typedef struct {
	size_t m, nw, nrows;
	uint64_t *fwd, *rev; /* nrows * nw each; row 0 is zero */
	uint32_t *count;     /* per row: how often the needle has it */
	uint32_t direct[256];
	uint32_t *keys, *vals; /* cap entries; key 0 = empty (such code points are direct) */
	size_t cap;
	void *block; /* all of the arrays */
} pattern;

static size_t hash_slot(const pattern *p, uint32_t c)
{
	size_t h = (size_t)(c * 2654435761u) & (p->cap - 1);

	while (p->keys[h] && p->keys[h] != c)
		h = (h + 1) & (p->cap - 1);
	return h;
}

static uint32_t row_of(const pattern *p, uint32_t c)
{
	size_t h;

	if (c < 256)
		return p->direct[c];
	h = hash_slot(p, c);
	return p->keys[h] == c ? p->vals[h] : 0;
}

static int pattern_init(pattern *p, const uint32_t *s, size_t m)
{
	size_t words, bytes;

	memset(p, 0, sizeof(*p));
	p->m = m;
	p->nw = (m + 63) / 64;
	for (p->cap = 16; p->cap < 2 * m; p->cap *= 2)
		;
	/* (m + 1) rows of nw words, twice; then the counts and the table. */
	if (!lw__mul_ok(&words, m + 1, 2 * p->nw) || !lw__mul_ok(&bytes, words, sizeof(uint64_t)) ||
	    !(p->block = lw__calloc(1, bytes + (m + 1 + 2 * p->cap) * sizeof(uint32_t))))
		return LW_ENOMEM;
	p->fwd = p->block;
	p->rev = p->fwd + (m + 1) * p->nw;
	p->count = (uint32_t *)(p->rev + (m + 1) * p->nw);
	p->keys = p->count + m + 1;
	p->vals = p->keys + p->cap;
	p->nrows = 1;
	for (size_t i = 0; i < m; i++) {
		uint32_t c = s[i], row = row_of(p, c);

		if (row == 0) {
			row = (uint32_t)p->nrows++;
			if (c < 256) {
				p->direct[c] = row;
			} else {
				size_t h = hash_slot(p, c);

				p->keys[h] = c;
				p->vals[h] = row;
			}
		}
		p->fwd[row * p->nw + i / 64] |= (uint64_t)1 << (i % 64);
		p->rev[row * p->nw + (m - 1 - i) / 64] |= (uint64_t)1 << ((m - 1 - i) % 64);
		p->count[row]++;
	}
	return 0;
}

static void pattern_dispose(pattern *p)
{
	free(p->block);
	memset(p, 0, sizeof(*p));
}

/* The LCS state against one row set (fwd or rev): nw words, all ones when reset. */
typedef struct {
	const uint64_t *rows;
	uint64_t *v;
	size_t m, nw;
} lcs;

static void lcs_reset(lcs *l)
{
	memset(l->v, 0xff, l->nw * sizeof(uint64_t));
}

/* Feed one text code point, by its row: V' = (V + (V & M)) | (V & ~M). */
static void lcs_step(lcs *l, uint32_t row)
{
	const uint64_t *pm = l->rows + (size_t)row * l->nw;
	unsigned char carry = 0;

	if (row == 0)
		return;
	for (size_t w = 0; w < l->nw; w++) {
		uint64_t v = l->v[w], u = v & pm[w], sum;
		unsigned char c1 = __builtin_add_overflow(v, u, &sum);
		unsigned char c2 = __builtin_add_overflow(sum, (uint64_t)carry, &sum);

		carry = c1 | c2;
		l->v[w] = sum | (v & ~pm[w]);
	}
}

/* The LCS of the needle and the text fed since the reset: the cleared bits among the first m. */
static size_t lcs_value(const lcs *l)
{
	size_t n = 0;

	for (size_t w = 0; w < l->nw; w++) {
		uint64_t z = ~l->v[w];

		if (w == l->nw - 1 && l->m % 64)
			z &= ((uint64_t)1 << (l->m % 64)) - 1;
		n += (size_t)__builtin_popcountll(z);
	}
	return n;
}

static size_t lcs_of(lcs *l, const uint32_t *rows, size_t len)
{
	lcs_reset(l);
	for (size_t i = 0; i < len; i++)
		lcs_step(l, rows[i]);
	return lcs_value(l);
}

/* rapidfuzz's arithmetic, so equal scores are equal doubles. */
static double score_of(size_t dist, size_t lensum)
{
	return (1.0 - (double)dist / (double)lensum) * 100.0;
}

/* --- partial_ratio ------------------------------------------------------------------ */

/*
 * The most code points any full window (length m) shares with the needle,
 * counted with multiplicity: a window's LCS is at most that.  One pass,
 * sliding a histogram of the needle's code points; have[] has nrows slots.
 */
static size_t window_shared(const pattern *p, const uint32_t *rows, size_t n, uint32_t *have)
{
	size_t m = p->m, shared = 0, best = 0;

	for (size_t i = 0; i < n; i++) {
		uint32_t in = rows[i];

		if (in && have[in]++ < p->count[in])
			shared++;
		if (i >= m) {
			uint32_t out = rows[i - m];

			if (out && --have[out] < p->count[out])
				shared--;
		}
		if (i + 1 >= m && shared > best)
			best = shared;
	}
	return best;
}

typedef struct {
	size_t a, b;
} span;

/* The best full window of the needle (length m) in the text's rows (length n >= m), by bisection. */
static int best_window(double *best, lcs *l, const uint32_t *rows, size_t n, double cutoff)
{
	size_t m = l->m, last = n - m, nspan = 0, cap = 64;
	size_t *d = lw__mallocarray(last + 1, sizeof(size_t));
	span *stack = lw__mallocarray(cap, sizeof(span));
	int err = 0;

	if (!d || !stack) {
		err = LW_ENOMEM;
		goto done;
	}
	d[0] = 2 * m - 2 * lcs_of(l, rows, m);
	d[last] = 2 * m - 2 * lcs_of(l, rows + last, m);
	if (score_of(d[0], 2 * m) > *best)
		*best = score_of(d[0], 2 * m);
	if (score_of(d[last], 2 * m) > *best)
		*best = score_of(d[last], 2 * m);
	if (last >= 2)
		stack[nspan++] = (span){ 0, last };
	while (nspan > 0 && *best < 100.0) {
		span sp = stack[--nspan];
		size_t mid = sp.a + (sp.b - sp.a) / 2, sum = d[sp.a] + d[sp.b], reach = 2 * (sp.b - sp.a);
		size_t bound = sum > reach ? (sum - reach + 1) / 2 : 0;
		double s, limit = score_of(bound, 2 * m);

		if (limit <= *best || limit < cutoff)
			continue;
		d[mid] = 2 * m - 2 * lcs_of(l, rows + mid, m);
		if ((s = score_of(d[mid], 2 * m)) > *best)
			*best = s;
		if (nspan + 2 > cap) {
			span *grown = lw__reallocarray(stack, cap * 2, sizeof(span));

			if (!grown) {
				err = LW_ENOMEM;
				goto done;
			}
			stack = grown;
			cap *= 2;
		}
		if (mid - sp.a >= 2)
			stack[nspan++] = (span){ sp.a, mid };
		if (sp.b - mid >= 2)
			stack[nspan++] = (span){ mid, sp.b };
	}
done:
	free(d);
	free(stack);
	return err;
}

/* The needle s (length m >= 1) against t (length n >= m). */
static int one_way(double *out, const uint32_t *s, size_t m, const uint32_t *t, size_t n, double cutoff)
{
	pattern p;
	uint32_t *rows = NULL, *have = NULL;
	uint64_t *v = NULL;
	lcs fwd, rev;
	double best = 0, bound;
	int err;

	*out = 0;
	if ((err = pattern_init(&p, s, m)) < 0)
		return err;
	if (!(rows = lw__mallocarray(n, sizeof(uint32_t))) || !(have = lw__calloc(p.nrows, sizeof(uint32_t))) ||
	    !(v = lw__mallocarray(2 * p.nw, sizeof(uint64_t)))) {
		err = LW_ENOMEM;
		goto done;
	}
	fwd = (lcs){ p.fwd, v, m, p.nw };
	rev = (lcs){ p.rev, v + p.nw, m, p.nw };
	/* The text as the needle's row numbers, looked up once. */
	for (size_t i = 0; i < n; i++)
		rows[i] = row_of(&p, t[i]);
	/* Prefixes t[:k] and suffixes t[n-k:] for k < m, one pass each. */
	lcs_reset(&fwd);
	lcs_reset(&rev);
	for (size_t k = 1; k < m; k++) {
		double a, b;

		lcs_step(&fwd, rows[k - 1]);
		lcs_step(&rev, rows[n - k]);
		a = score_of(m + k - 2 * lcs_value(&fwd), m + k);
		b = score_of(m + k - 2 * lcs_value(&rev), m + k);
		if (a > best)
			best = a;
		if (b > best)
			best = b;
	}
	/* The full windows, unless none can share enough code points to matter. */
	bound = score_of(2 * m - 2 * window_shared(&p, rows, n, have), 2 * m);
	if (best < 100.0 && bound > best && bound >= cutoff)
		err = best_window(&best, &fwd, rows, n, cutoff);
	*out = best;
done:
	free(rows);
	free(have);
	free(v);
	pattern_dispose(&p);
	return err;
}

static int partial_ratio(double *out, const uint32_t *a, size_t na, const uint32_t *b, size_t nb, double cutoff)
{
	double other;
	int err;

	if (na == 0 || nb == 0) {
		*out = na == nb ? 100.0 : 0.0;
		return 0;
	}
	if (na > nb)
		return partial_ratio(out, b, nb, a, na, cutoff);
	if ((err = one_way(out, a, na, b, nb, cutoff)) < 0 || na != nb || *out == 100.0)
		return err;
	/* Equal lengths: rapidfuzz also slides the second over the first. */
	if ((err = one_way(&other, b, nb, a, na, cutoff)) == 0 && other > *out)
		*out = other;
	return err;
}

double lw__partial_ratio(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, double cutoff)
{
	double r = 0;

	return partial_ratio(&r, a, na, b, nb, cutoff) < 0 ? -1.0 : r;
}

double lw__partial_ratio_utf8(const char *a, const char *b, double cutoff)
{
	uint32_t *ca = NULL, *cb = NULL;
	size_t na = 0, nb = 0;
	double r = -1.0;

	if (lw__utf8_decode(&ca, &na, a, strlen(a)) == 0 && lw__utf8_decode(&cb, &nb, b, strlen(b)) == 0)
		r = lw__partial_ratio(ca, na, cb, nb, cutoff);
	free(ca);
	free(cb);
	return r;
}
