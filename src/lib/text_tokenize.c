/*
 * The text encoder's tokeniser: UTF-8 in, lower-cased word tokens out.
 *
 * A token is a maximal run of word code points (letters, digits and
 * combining marks, in any script), except that each CJK ideograph and
 * each kana is a token on its own, as those scripts do not put spaces
 * between words.  Everything else (spaces, punctuation, symbols, emoji,
 * private-use and invalid bytes) separates tokens; a few format
 * characters (zero-width joiners, the soft hyphen, variation selectors,
 * the byte order mark) are dropped without splitting a word.  Letters are
 * lowered with Python's str.lower (lw__lower_cp, Unicode 14), and
 * full-width ASCII letters and digits become ASCII ones.
 */
#include "text_tokenize.h"

#include <string.h>

#include "fuzzy.h"
#include "util.h"

#define LW_TEXT_IGNORE 3 /* dropped without splitting a word */

typedef struct {
	uint32_t lo, hi;
	int cls;
} cp_range;

/*
 * Non-ASCII code points that are not ordinary word characters, sorted.
 * Anything not listed (and at or above 0x80) is a word character.
 */
static const cp_range ranges[] = {
	{ 0x80, 0xa9, LW_TEXT_SEP },         /* C1 controls, no-break space, Latin-1 punctuation */
	{ 0xab, 0xac, LW_TEXT_SEP },         { 0xad, 0xad, LW_TEXT_IGNORE }, /* soft hyphen */
	{ 0xae, 0xb1, LW_TEXT_SEP },         { 0xb4, 0xb4, LW_TEXT_SEP },
	{ 0xb6, 0xb8, LW_TEXT_SEP },         { 0xbb, 0xbb, LW_TEXT_SEP },
	{ 0xbf, 0xbf, LW_TEXT_SEP },         { 0xd7, 0xd7, LW_TEXT_SEP }, /* multiplication sign */
	{ 0xf7, 0xf7, LW_TEXT_SEP },         /* division sign */
	{ 0x37e, 0x37e, LW_TEXT_SEP },       { 0x387, 0x387, LW_TEXT_SEP }, /* Greek punctuation */
	{ 0x55a, 0x55f, LW_TEXT_SEP },       { 0x589, 0x58a, LW_TEXT_SEP }, /* Armenian */
	{ 0x5be, 0x5be, LW_TEXT_SEP },       { 0x5c0, 0x5c0, LW_TEXT_SEP }, /* Hebrew */
	{ 0x5c3, 0x5c3, LW_TEXT_SEP },       { 0x5c6, 0x5c6, LW_TEXT_SEP },
	{ 0x5f3, 0x5f4, LW_TEXT_SEP },       { 0x609, 0x60d, LW_TEXT_SEP }, /* Arabic */
	{ 0x61b, 0x61b, LW_TEXT_SEP },       { 0x61d, 0x61f, LW_TEXT_SEP },
	{ 0x66a, 0x66d, LW_TEXT_SEP },       { 0x6d4, 0x6d4, LW_TEXT_SEP },
	{ 0x964, 0x965, LW_TEXT_SEP },       { 0x970, 0x970, LW_TEXT_SEP }, /* Devanagari */
	{ 0xe4f, 0xe4f, LW_TEXT_SEP },       { 0xe5a, 0xe5b, LW_TEXT_SEP }, /* Thai */
	{ 0x10fb, 0x10fb, LW_TEXT_SEP },     { 0x1360, 0x1368, LW_TEXT_SEP }, /* Georgian, Ethiopic */
	{ 0x166e, 0x166e, LW_TEXT_SEP },     { 0x1680, 0x1680, LW_TEXT_SEP },
	{ 0x169b, 0x169c, LW_TEXT_SEP },     { 0x16eb, 0x16ed, LW_TEXT_SEP },
	{ 0x17d4, 0x17da, LW_TEXT_SEP },     { 0x1800, 0x180a, LW_TEXT_SEP }, /* Khmer, Mongolian */
	{ 0x2000, 0x200b, LW_TEXT_SEP },     /* spaces */
	{ 0x200c, 0x200d, LW_TEXT_IGNORE },  /* zero-width (non-)joiner */
	{ 0x200e, 0x206f, LW_TEXT_SEP },     /* general punctuation */
	{ 0x20a0, 0x214f, LW_TEXT_SEP },     /* currency, combining marks for symbols, letterlike */
	{ 0x2190, 0x2bff, LW_TEXT_SEP },     /* arrows, mathematical operators, ... , symbols */
	{ 0x2e00, 0x2e7f, LW_TEXT_SEP },     /* supplemental punctuation */
	{ 0x2ff0, 0x3004, LW_TEXT_SEP },     /* ideographic description, CJK symbols */
	{ 0x3005, 0x3007, LW_TEXT_ISOLATED }, { 0x3008, 0x3020, LW_TEXT_SEP },
	{ 0x3030, 0x3030, LW_TEXT_SEP },     { 0x303b, 0x303c, LW_TEXT_ISOLATED },
	{ 0x303d, 0x303f, LW_TEXT_SEP },     { 0x3040, 0x309f, LW_TEXT_ISOLATED }, /* hiragana */
	{ 0x30a0, 0x30a0, LW_TEXT_SEP },     { 0x30a1, 0x30fa, LW_TEXT_ISOLATED }, /* katakana */
	{ 0x30fb, 0x30fb, LW_TEXT_SEP },     { 0x30fc, 0x30ff, LW_TEXT_ISOLATED },
	{ 0x31f0, 0x31ff, LW_TEXT_ISOLATED }, { 0x3400, 0x4dbf, LW_TEXT_ISOLATED }, /* CJK ext. A */
	{ 0x4dc0, 0x4dff, LW_TEXT_SEP },     /* Yijing hexagrams */
	{ 0x4e00, 0x9fff, LW_TEXT_ISOLATED }, /* CJK unified ideographs */
	{ 0xd800, 0xf8ff, LW_TEXT_SEP },     /* surrogates (and invalid bytes), private use */
	{ 0xf900, 0xfaff, LW_TEXT_ISOLATED }, /* CJK compatibility ideographs */
	{ 0xfd3e, 0xfd3f, LW_TEXT_SEP },     /* ornate parentheses */
	{ 0xfe00, 0xfe0f, LW_TEXT_IGNORE },  /* variation selectors */
	{ 0xfe10, 0xfe1f, LW_TEXT_SEP },     { 0xfe30, 0xfe6f, LW_TEXT_SEP }, /* CJK compatibility, small forms */
	{ 0xfeff, 0xfeff, LW_TEXT_IGNORE },  /* byte order mark */
	{ 0xff00, 0xff0f, LW_TEXT_SEP },     { 0xff1a, 0xff20, LW_TEXT_SEP }, /* full-width punctuation */
	{ 0xff3b, 0xff40, LW_TEXT_SEP },     { 0xff5b, 0xff65, LW_TEXT_SEP },
	{ 0xff66, 0xff9f, LW_TEXT_ISOLATED }, /* half-width katakana */
	{ 0xffe0, 0xffff, LW_TEXT_SEP },     /* full-width signs, specials (U+FFFD) */
	{ 0x1f000, 0x1fbff, LW_TEXT_SEP },   /* tiles, cards, emoji, pictographs, legacy computing */
	{ 0x20000, 0x323af, LW_TEXT_ISOLATED }, /* CJK extensions B-H */
	{ 0xe0000, 0xe007f, LW_TEXT_IGNORE }, /* tags */
	{ 0xe0100, 0xe01ef, LW_TEXT_IGNORE }, /* variation selectors supplement */
	{ 0xf0000, 0x10ffff, LW_TEXT_SEP },  /* private use planes */
};

static int cp_class(uint32_t c)
{
	size_t lo = 0, hi = sizeof(ranges) / sizeof(ranges[0]);

	if (c < 0x80)
		return ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (c >= '0' && c <= '9') ? LW_TEXT_WORD
											    : LW_TEXT_SEP;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c < ranges[mid].lo)
			hi = mid;
		else if (c > ranges[mid].hi)
			lo = mid + 1;
		else
			return ranges[mid].cls;
	}
	return LW_TEXT_WORD;
}

int lw__text_cp_class(uint32_t c)
{
	int cls = cp_class(c);

	return cls == LW_TEXT_IGNORE ? LW_TEXT_SEP : cls;
}

/* Lower case, and full-width ASCII letters and digits as ASCII. */
static uint32_t fold(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
	c = lw__lower_cp(c);
	if (c >= 0xff10 && c <= 0xff19)
		return '0' + (c - 0xff10);
	if (c >= 0xff41 && c <= 0xff5a)
		return 'a' + (c - 0xff41);
	return c;
}

/* One code point at p (left bytes); *used gets its length; 0xfffd for an invalid byte. */
static uint32_t decode(const unsigned char *p, size_t left, size_t *used)
{
	uint32_t c, min;
	size_t need;

	*used = 1;
	if (p[0] < 0x80)
		return p[0];
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
		return 0xfffd;
	}
	if (left <= need)
		return 0xfffd;
	c = p[0] & (0x3f >> need);
	for (size_t i = 1; i <= need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0xfffd;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0xfffd;
	*used = need + 1;
	return c;
}

static int grow(lw__tokens *t, size_t cps, size_t starts)
{
	if (cps > t->cp_cap) {
		uint32_t *p = lw__reallocarray(t->cp, cps, sizeof(*p));

		if (!p)
			return LW_ENOMEM;
		t->cp = p;
		t->cp_cap = cps;
	}
	if (starts > t->start_cap) {
		size_t *p = lw__reallocarray(t->start, starts, sizeof(*p));

		if (!p)
			return LW_ENOMEM;
		t->start = p;
		t->start_cap = starts;
	}
	return 0;
}

int lw__text_tokenize(lw__tokens *t, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t at = 0, k = 0, run = 0; /* run: code points in the open token */
	int err;

	t->count = 0;
	/* At most one code point and one token per byte. */
	if ((err = grow(t, len + 1, len + 2)) < 0)
		return err;
	while (at < len) {
		size_t used;
		uint32_t c = decode(p + at, len - at, &used);
		int cls = cp_class(c);

		at += used;
		if (cls == LW_TEXT_IGNORE)
			continue;
		if (cls != LW_TEXT_WORD || run == LW_TEXT_MAX_TOKEN) {
			if (run)
				t->count++; /* close the open token */
			run = 0;
		}
		if (cls == LW_TEXT_SEP)
			continue;
		if (run == 0)
			t->start[t->count] = k;
		t->cp[k++] = fold(c);
		run++;
		if (cls == LW_TEXT_ISOLATED) {
			t->count++;
			run = 0;
		}
	}
	if (run)
		t->count++;
	t->start[t->count] = k;
	return 0;
}

size_t lw__tokens_utf8(const lw__tokens *t, size_t i, char *buf, size_t size)
{
	size_t n = 0;

	if (size == 0)
		return 0;
	for (size_t j = i < t->count ? t->start[i] : 0; i < t->count && j < t->start[i + 1]; j++) {
		uint32_t c = t->cp[j];
		char tmp[4];
		size_t w;

		if (c < 0x80) {
			tmp[0] = (char)c;
			w = 1;
		} else if (c < 0x800) {
			tmp[0] = (char)(0xc0 | c >> 6);
			tmp[1] = (char)(0x80 | (c & 0x3f));
			w = 2;
		} else if (c < 0x10000) {
			tmp[0] = (char)(0xe0 | c >> 12);
			tmp[1] = (char)(0x80 | (c >> 6 & 0x3f));
			tmp[2] = (char)(0x80 | (c & 0x3f));
			w = 3;
		} else {
			tmp[0] = (char)(0xf0 | c >> 18);
			tmp[1] = (char)(0x80 | (c >> 12 & 0x3f));
			tmp[2] = (char)(0x80 | (c >> 6 & 0x3f));
			tmp[3] = (char)(0x80 | (c & 0x3f));
			w = 4;
		}
		if (n + w >= size)
			break;
		memcpy(buf + n, tmp, w);
		n += w;
	}
	buf[n] = '\0';
	return n;
}

void lw__tokens_dispose(lw__tokens *t)
{
	if (!t)
		return;
	free(t->cp);
	free(t->start);
	memset(t, 0, sizeof(*t));
}
