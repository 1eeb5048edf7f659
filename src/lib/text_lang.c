/*
 * Language identification of a set of texts with libexttextcat (Cavnar and
 * Trenkle's n-gram ranks, the 160 UTF-8 language models LibreOffice uses),
 * and the reference search's language rule.
 *
 * The reference runs langdetect.detect_langs on " ".join(texts) and keeps
 * the languages whose probability passes 0.1.  Here the joined texts are
 * cut into chunks of about 400 bytes (textcat needs "a couple of hundred
 * bytes"), at most MAX_CHUNKS of them spread evenly over the set, each
 * chunk votes for its best language with its length in bytes, and the
 * languages holding at least a tenth of the votes are reported.
 *
 * Chinese, Japanese and Korean are told apart by their scripts instead:
 * textcat's 400 most frequent n-grams per language cannot cover the
 * thousands of ideographs of a CJK text, so every model scores about the
 * same and textcat answers "unknown" for chunks of a few hundred bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <textcat.h>

#include "lw/text.h"
#include "text_tokenize.h"
#include "util.h"

#ifndef LW_TEXTCAT_DATA_DIR
#define LW_TEXTCAT_DATA_DIR "/usr/share/libexttextcat"
#endif

#define CHUNK 400       /* bytes a chunk gathers before it is classified */
#define CHUNK_MAX 1000  /* longest chunk: a longer text is cut */
#define MAX_CHUNKS 256  /* chunks classified for one set */
#define MIN_SHARE 0.1   /* langdetect's PROB_THRESHOLD */
#define MIN_LETTERS 12  /* a chunk with fewer letters is not classified */

static pthread_once_t tc_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t tc_lock = PTHREAD_MUTEX_INITIALIZER; /* a handle classifies one text at a time */
static void *tc_handle;
static candidate_t *tc_out;
static char tc_dir[1024];

static void tc_init(void)
{
	const char *dir = getenv("LW_TEXTCAT_DIR");
	char conf[1100], prefix[1100];

	if (!dir || !*dir)
		dir = LW_TEXTCAT_DATA_DIR;
	snprintf(tc_dir, sizeof(tc_dir), "%s", dir);
	snprintf(conf, sizeof(conf), "%s/fpdb.conf", dir);
	snprintf(prefix, sizeof(prefix), "%s/", dir);
	if (!(tc_handle = special_textcat_Init(conf, prefix)))
		return;
	if (!(tc_out = textcat_GetClassifyFullOutput(tc_handle))) {
		textcat_Done(tc_handle);
		tc_handle = NULL;
	}
}

/* "en--utf8", "zh-CN-utf8", "haw-utf8": the primary subtag, as ISO 639-1 where it has one. */
static void code_of(char out[LW_TEXT_LANGUAGE_SIZE], const char *id)
{
	static const char *const alias[][2] = {
		{ "gug", "gn" }, { "quz", "qu" }, { "plt", "mg" }, { "sh", "sr" },
	};
	size_t n = 0;

	while (id[n] && id[n] != '-' && n < LW_TEXT_LANGUAGE_SIZE - 1) {
		out[n] = (char)tolower((unsigned char)id[n]);
		n++;
	}
	out[n] = '\0';
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (!strcmp(out, alias[i][0]))
			snprintf(out, LW_TEXT_LANGUAGE_SIZE, "%s", alias[i][1]);
}

typedef struct {
	char code[LW_TEXT_LANGUAGE_SIZE];
	double bytes;
} tally;

static int in(uint32_t c, uint32_t lo, uint32_t hi)
{
	return c >= lo && c <= hi;
}

/*
 * The chunk's letters (word code points other than ASCII digits) and, when
 * most of them are CJK, its language by script: kana make it Japanese,
 * Hangul Korean, ideographs alone Chinese.  Returns the number of letters;
 * code is "" unless the script decided.
 */
static size_t script_of(char code[LW_TEXT_LANGUAGE_SIZE], lw__tokens *t, const char *buf,
			size_t len)
{
	size_t letters = 0, han = 0, kana = 0, hangul = 0;

	code[0] = '\0';
	if (lw__text_tokenize(t, buf, len) < 0)
		return 0;
	for (size_t i = 0; i < t->start[t->count]; i++) {
		uint32_t c = t->cp[i];

		if (c >= '0' && c <= '9')
			continue;
		letters++;
		if (in(c, 0x3040, 0x30ff) || in(c, 0x31f0, 0x31ff) || in(c, 0xff66, 0xff9f))
			kana++;
		else if (in(c, 0x1100, 0x11ff) || in(c, 0x3130, 0x318f) || in(c, 0xac00, 0xd7af))
			hangul++;
		else if (in(c, 0x3400, 0x4dbf) || in(c, 0x4e00, 0x9fff) || in(c, 0xf900, 0xfaff) ||
			 in(c, 0x20000, 0x323af))
			han++;
	}
	if (2 * (han + kana + hangul) < letters)
		return letters;
	if (hangul > han + kana)
		strcpy(code, "ko");
	else if (kana * 10 >= han + kana)
		strcpy(code, "ja");
	else
		strcpy(code, "zh");
	return letters;
}

/* Classify one chunk and add its length to its language's tally. */
static void vote(tally *t, size_t *nt, size_t cap, lw__tokens *tok, const char *buf, size_t len,
		 double *total)
{
	char code[LW_TEXT_LANGUAGE_SIZE];

	if (len == 0 || script_of(code, tok, buf, len) < MIN_LETTERS)
		return;
	if (!code[0]) {
		int k = textcat_ClassifyFull(tc_handle, buf, len, tc_out);

		if (k <= 0) /* UNKNOWN or SHORT */
			return;
		code_of(code, tc_out[0].name);
		if (!code[0])
			return;
	}
	*total += (double)len;
	for (size_t i = 0; i < *nt; i++)
		if (!strcmp(t[i].code, code)) {
			t[i].bytes += (double)len;
			return;
		}
	if (*nt < cap) {
		memcpy(t[*nt].code, code, sizeof(code));
		t[*nt].bytes = (double)len;
		(*nt)++;
	}
}

static int by_votes(const void *a, const void *b)
{
	const tally *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return strcmp(x->code, y->code);
}

/* Cut len bytes at most, back to the start of a UTF-8 sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--;
	return max;
}

int lw_text_detect_languages(lw_text_languages *out, const char *const *texts, const size_t *lens,
			     size_t n)
{
	enum { MAX_TALLY = 200 };
	tally t[MAX_TALLY];
	size_t nt = 0, chunks = 0, stride = 1, at = 0;
	double total = 0;
	char buf[CHUNK_MAX + 1];
	size_t used = 0, chunk_no = 0;
	lw__tokens tok = { 0 };

	LW_ASSERT_ARG(out && (texts || n == 0));
	memset(out, 0, sizeof(*out));
	pthread_once(&tc_once, tc_init);
	if (!tc_handle) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "cannot read the language models in %s (libexttextcat-data; set "
			     "LW_TEXTCAT_DIR to their folder)",
			     tc_dir);
		return LW_EINVALID;
	}
	/* How many chunks the set makes, to spread MAX_CHUNKS of them over it. */
	{
		size_t acc = 0;

		for (size_t i = 0; i < n; i++) {
			acc += utf8_cut(texts[i], lens ? lens[i] : strlen(texts[i]), CHUNK_MAX) + 1;
			if (acc >= CHUNK) {
				chunks++;
				acc = 0;
			}
		}
		if (acc)
			chunks++;
		stride = chunks > MAX_CHUNKS ? (chunks + MAX_CHUNKS - 1) / MAX_CHUNKS : 1;
	}
	pthread_mutex_lock(&tc_lock);
	for (at = 0; at < n; at++) {
		size_t len = lens ? lens[at] : strlen(texts[at]), take;

		take = utf8_cut(texts[at], len, CHUNK_MAX - used); /* used < CHUNK here */
		if (chunk_no % stride == 0) {
			memcpy(buf + used, texts[at], take);
			used += take;
			buf[used++] = ' ';
		} else {
			used += take + 1; /* only counted: this chunk is skipped */
		}
		if (used >= CHUNK || used >= CHUNK_MAX) {
			if (chunk_no % stride == 0)
				vote(t, &nt, MAX_TALLY, &tok, buf, used - 1, &total);
			chunk_no++;
			used = 0;
		}
	}
	if (used && chunk_no % stride == 0)
		vote(t, &nt, MAX_TALLY, &tok, buf, used - 1, &total);
	pthread_mutex_unlock(&tc_lock);
	lw__tokens_dispose(&tok);
	qsort(t, nt, sizeof(t[0]), by_votes);
	for (size_t i = 0; i < nt && out->count < LW_TEXT_MAX_LANGUAGES; i++)
		if (t[i].bytes >= MIN_SHARE * total)
			memcpy(out->code[out->count++], t[i].code, LW_TEXT_LANGUAGE_SIZE);
	return 0;
}

/* Primary subtag, lower case: "zh-CN" -> "zh"; Norwegian Bokmal and Nynorsk as "no". */
static void primary(char out[LW_TEXT_LANGUAGE_SIZE], const char *code)
{
	size_t n = 0;

	while (code[n] && code[n] != '-' && code[n] != '_' && n < LW_TEXT_LANGUAGE_SIZE - 1) {
		out[n] = (char)tolower((unsigned char)code[n]);
		n++;
	}
	out[n] = '\0';
	if (!strcmp(out, "nb") || !strcmp(out, "nn"))
		strcpy(out, "no");
}

int lw_text_languages_subset(const lw_text_languages *user, const lw_text_languages *learnware)
{
	if (!user || user->count == 0)
		return 1;
	if (!learnware)
		return 0;
	for (size_t i = 0; i < user->count; i++) {
		char u[LW_TEXT_LANGUAGE_SIZE], l[LW_TEXT_LANGUAGE_SIZE];
		int found = 0;

		primary(u, user->code[i]);
		for (size_t j = 0; j < learnware->count && !found; j++) {
			primary(l, learnware->code[j]);
			found = !strcmp(u, l);
		}
		if (!found)
			return 0;
	}
	return 1;
}
