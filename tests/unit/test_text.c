/*
 * The text encoder (src/lib/text_tokenize.c, text_encoder.c), the language
 * identifier (text_lang.c) and reading texts (text_io.c).
 *
 * Real data only: Debian's package descriptions (shared/data) for the
 * encoder's semantics, and the translations Debian's dpkg ships
 * (/usr/share/locale/LANG/LC_MESSAGES/dpkg.mo) and its licence texts
 * (/usr/share/common-licenses) for the languages.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/text_family.h"
#include "data_labels.h"
#include "lw/text.h"
#include "sha256.h"
#include "text_encoder.h"
#include "text_tokenize.h"
#include "util.h"

/* SHA-256 of data/text-encoder.bin as shipped: a new encoder must change this on purpose. */
#define SHIPPED_SHA256 "816df76022c75a65342a9860a71446fd4afb3805aa886ddd4d53c857135035c3"

/* ---- tokeniser ------------------------------------------------------------------ */

static void expect_tokens(const char *text, const char *const *want, size_t n)
{
	lw__tokens t = { 0 };
	char buf[512];

	assert_int_equal(lw__text_tokenize(&t, text, strlen(text)), 0);
	if (t.count != n) {
		for (size_t i = 0; i < t.count; i++) {
			lw__tokens_utf8(&t, i, buf, sizeof(buf));
			print_message("token %zu: '%s'\n", i, buf);
		}
		fail_msg("'%s': %zu tokens, expected %zu", text, t.count, n);
	}
	for (size_t i = 0; i < n; i++) {
		lw__tokens_utf8(&t, i, buf, sizeof(buf));
		if (strcmp(buf, want[i]))
			fail_msg("'%s': token %zu is '%s', expected '%s'", text, i, buf, want[i]);
	}
	lw__tokens_dispose(&t);
}

static void test_text_tokenize__ascii_is_lowered_and_split_at_punctuation(void **state)
{
	static const char *const want[] = { "gnu", "c", "library", "x86", "64", "foo", "bar",
					    "it", "s", "2024", "c3po" };

	(void)state;
	expect_tokens("GNU C Library: x86-64 (foo_bar), it's 2024! C3PO", want, 11);
	expect_tokens("", NULL, 0);
	expect_tokens(" \t\r\n.,;:!?-- ", NULL, 0);
}

static void test_text_tokenize__non_ascii_words_are_kept_and_lowered(void **state)
{
	/* Latin with diacritics, German sharp s, Greek with tonos, Cyrillic, Armenian. */
	static const char *const latin[] = { "ünïcode", "straße", "œuvre", "çà", "ελληνικά",
					     "русский", "язык", "հայերեն" };
	/* Devanagari and Arabic words keep their combining marks; Persian's ZWNJ joins. */
	static const char *const marks[] = { "हिन्दी", "العربية", "میخواهم" };
	/* Each CJK ideograph and kana is a token; Hangul words are runs. */
	static const char *const cjk[] = { "日", "本", "語", "の", "テ", "キ", "ス", "ト", "한국어", "문장" };
	/* Full-width letters and digits fold to ASCII; emoji, symbols and invalid bytes split. */
	static const char *const misc[] = { "abc12", "a", "b", "x", "y", "caf" };

	(void)state;
	expect_tokens("ÜNÏCODE Straße ŒUVRE, ÇÀ — ΕΛΛΗΝΙΚΆ «Русский язык» ՀԱՅԵՐԵՆ", latin, 8);
	expect_tokens("हिन्दी، العربية؛ می\u200cخواهم", marks, 3);
	expect_tokens("日本語のテキスト。한국어 문장", cjk, 10);
	expect_tokens("ＡＢＣ１２ a😀b x\xff\xfey caf\xc3", misc, 6); /* "café" cut in its é */
}

static void test_text_tokenize__long_runs_are_cut(void **state)
{
	char text[200];
	lw__tokens t = { 0 };

	(void)state;
	memset(text, 'a', 150);
	text[150] = '\0';
	assert_int_equal(lw__text_tokenize(&t, text, 150), 0);
	assert_int_equal(t.count, 3); /* 64 + 64 + 22 */
	assert_int_equal(t.start[1] - t.start[0], LW_TEXT_MAX_TOKEN);
	assert_int_equal(t.start[3] - t.start[2], 150 - 2 * LW_TEXT_MAX_TOKEN);
	lw__tokens_dispose(&t);
}

/* ---- the encoder file ----------------------------------------------------------- */

/* data/text-encoder.bin in the source tree (tests/data/../../data), or NULL. */
static char *source_encoder_path(void)
{
	const char *td = getenv("LW_TEST_DATA");
	char *path;

	if (!td || !*td)
		return NULL;
	path = malloc(strlen(td) + 64);
	assert_non_null(path);
	sprintf(path, "%s/../../data/text-encoder.bin", td);
	return path;
}

static void test_text_encoder__builtin_is_the_shipped_file_with_a_valid_hash(void **state)
{
	const lw_text_encoder *enc;
	char *path = source_encoder_path(), *data, hex[LW_SHA256_HEX], trailer[LW_SHA256_HEX];
	size_t len;

	(void)state;
	assert_int_equal(lw_text_encoder_builtin(&enc), 0);
	assert_string_equal(lw_text_encoder_name(enc), LW_TEXT_ENCODER_NAME);
	assert_int_equal(lw_text_encoder_version(enc), LW_TEXT_ENCODER_VERSION);
	assert_int_equal(lw_text_encoder_dim(enc), 256);
	assert_string_equal(lw_text_encoder_sha256(enc), SHIPPED_SHA256);
	/* The file in the tree: its trailer is the SHA-256 of the rest, and it is what was compiled in. */
	assert_non_null(path);
	assert_int_equal(lw__read_file(&data, &len, path, (size_t)64 << 20), 0);
	assert_true(len > 32 && len <= (size_t)2 << 20); /* small enough to ship */
	lw__sha256_buf(hex, data, len - 32);
	lw__sha256_hex(trailer, (const uint8_t *)data + len - 32);
	assert_string_equal(hex, trailer);
	assert_string_equal(hex, SHIPPED_SHA256);
	free(data);
	free(path);
}

static void test_text_encoder__damaged_or_truncated_file_is_refused(void **state)
{
	char *path = source_encoder_path(), *data;
	lw_text_encoder *enc = NULL;
	size_t len;

	(void)state;
	assert_non_null(path);
	assert_int_equal(lw__read_file(&data, &len, path, (size_t)64 << 20), 0);
	assert_int_equal(lw_text_encoder_parse(&enc, data, len, "copy"), 0);
	assert_string_equal(lw_text_encoder_sha256(enc), SHIPPED_SHA256);
	lw_text_encoder_free(enc);
	data[LW_TEXT_HEADER + 1000] ^= 1; /* one bit of the IDF table */
	assert_int_equal(lw_text_encoder_parse(&enc, data, len, "copy"), LW_EINVALID);
	assert_null(enc);
	assert_non_null(strstr(lw_error_last()->message, "SHA-256 does not match"));
	data[LW_TEXT_HEADER + 1000] ^= 1;
	assert_int_equal(lw_text_encoder_parse(&enc, data, len - 1, "copy"), LW_EINVALID);
	assert_int_equal(lw_text_encoder_parse(&enc, data, 100, "copy"), LW_EINVALID);
	assert_int_equal(lw_text_encoder_load(&enc, "/nonexistent/text-encoder.bin"), LW_ENOTFOUND);
	free(data);
	free(path);
}

static void test_text_half__round_trips_and_rounds_to_nearest_even(void **state)
{
	(void)state;
	for (uint32_t h = 0; h < 0x10000; h++) {
		float f = lw__half_to_float((uint16_t)h);

		if (isnan(f))
			continue;
		assert_int_equal(lw__half_from_float(f), h);
	}
	assert_int_equal(lw__half_from_float(1.0f), 0x3c00);
	assert_int_equal(lw__half_from_float(1.0f + 1.0f / 2048), 0x3c00);     /* tie: to even */
	assert_int_equal(lw__half_from_float(1.0f + 3.0f / 2048), 0x3c02);     /* tie: to even */
	assert_int_equal(lw__half_from_float(65520.0f), 0x7c00);                /* overflows to Inf */
	assert_int_equal(lw__half_from_float(-2.9802322e-8f), 0x8000);          /* under half the smallest */
}

/* ---- the shared descriptions corpus ------------------------------------------------ */

typedef struct {
	char *buf, *pkg_block, *sec_block, *text_block;
	char **pkg, **sec, **text;
	size_t n;
} corpus;

static char **split_block(char *block, size_t n)
{
	char **v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i] = block;
		block += strlen(block) + 1;
	}
	return v;
}

/* The corpus, read once for the whole group (group_setup). */
static corpus the_corpus;

static int group_setup(void **state)
{
	corpus *c = &the_corpus;
	const char *path = lwt_shared_path("data/debian_descriptions.csv");
	size_t len, *lines, col, n2 = 0, n3 = 0;

	(void)state;
	memset(c, 0, sizeof(*c));
	if (lw__read_file(&c->buf, &len, path, (size_t)1 << 30) < 0 ||
	    lw_data__csv_column_text(&c->pkg_block, &lines, &c->n, &col, c->buf, len, path, "package",
				     NULL) < 0)
		goto fail;
	free(lines);
	if (lw_data__csv_column_text(&c->sec_block, &lines, &n2, &col, c->buf, len, path, "section",
				     NULL) < 0)
		goto fail;
	free(lines);
	if (lw_data__csv_column_text(&c->text_block, &lines, &n3, &col, c->buf, len, path, "text",
				     NULL) < 0)
		goto fail;
	free(lines);
	if (c->n != 63666 || n2 != c->n || n3 != c->n)
		return -1;
	c->pkg = split_block(c->pkg_block, c->n);
	c->sec = split_block(c->sec_block, c->n);
	c->text = split_block(c->text_block, c->n);
	return 0;
fail:
	print_error("%s\n", lw_error_last()->message);
	return -1;
}

static int group_teardown(void **state)
{
	corpus *c = &the_corpus;

	(void)state;
	free(c->buf);
	free(c->pkg_block);
	free(c->sec_block);
	free(c->text_block);
	free(c->pkg);
	free(c->sec);
	free(c->text);
	return 0;
}

static void corpus_read(corpus *c)
{
	*c = the_corpus;
}

static void corpus_free(corpus *c)
{
	(void)c;
}

/*
 * Up to per rows of each section, one per package family (siblings such as
 * libfoo1 / libfoo-dev share near-identical texts), spread over the corpus.
 */
static size_t pick_rows(size_t *rows, const corpus *c, const char *const *sections, size_t ns,
			size_t per)
{
	size_t n = 0;

	for (size_t s = 0; s < ns; s++) {
		size_t got = 0, total = 0, stride;
		char last[128] = "";

		for (size_t i = 0; i < c->n; i++)
			total += !strcmp(c->sec[i], sections[s]);
		stride = total / (2 * per) > 1 ? total / (2 * per) : 1;
		for (size_t i = 0, seen = 0; i < c->n && got < per; i++) {
			char fam[128];

			if (strcmp(c->sec[i], sections[s]) || seen++ % stride)
				continue;
			lw_text_family(fam, sizeof(fam), c->pkg[i]);
			if (!strcmp(fam, last))
				continue;
			snprintf(last, sizeof(last), "%s", fam);
			rows[n++] = i;
			got++;
		}
		assert_true(got >= per / 2);
	}
	return n;
}

static void test_text_encode__is_deterministic_unit_length_and_batch_independent(void **state)
{
	static const char *const sections[] = { "games", "science" };
	size_t rows[100], n;
	const char *texts[102];
	lw_mat A, B, one;
	corpus c;

	(void)state;
	corpus_read(&c);
	n = pick_rows(rows, &c, sections, 2, 50);
	for (size_t i = 0; i < n; i++)
		texts[i] = c.text[rows[i]];
	texts[n] = "";
	texts[n + 1] = " ... !!! -- ";
	assert_int_equal(lw_text_encode(&A, NULL, texts, NULL, n + 2), 0);
	assert_int_equal(lw_text_encode(&B, NULL, texts, NULL, n + 2), 0);
	assert_int_equal(A.rows, n + 2);
	assert_int_equal(A.cols, 256);
	assert_memory_equal(A.data, B.data, A.rows * A.cols * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double norm2 = 0;

		for (size_t j = 0; j < A.cols; j++)
			norm2 += lw_mat_row(&A, i)[j] * lw_mat_row(&A, i)[j];
		lwt_assert_near(norm2, 1.0, 1e-12);
	}
	for (size_t j = 0; j < A.cols; j++) {
		assert_true(lw_mat_row(&A, n)[j] == 0);     /* no word: a zero row */
		assert_true(lw_mat_row(&A, n + 1)[j] == 0);
	}
	/* A text alone gives the same bits as in a batch. */
	for (size_t i = 0; i < n; i += 17) {
		size_t len = strlen(texts[i]);

		assert_int_equal(lw_text_encode(&one, NULL, &texts[i], &len, 1), 0);
		assert_memory_equal(one.data, lw_mat_row(&A, i), A.cols * sizeof(double));
		lw_mat_dispose(&one);
	}
	lw_mat_dispose(&A);
	lw_mat_dispose(&B);
	corpus_free(&c);
}

static void test_text_encode__descriptions_of_one_section_are_closer_than_of_two(void **state)
{
	static const char *const sections[] = { "fonts", "games", "science", "sound", "mail",
						"database", "hamradio", "kernel" };
	enum { NS = sizeof(sections) / sizeof(sections[0]), PER = 40 };
	size_t rows[NS * PER], n, hits = 0;
	const char *texts[NS * PER];
	double within = 0, between = 0;
	size_t nw = 0, nb = 0;
	lw_mat E;
	corpus c;

	(void)state;
	corpus_read(&c);
	n = pick_rows(rows, &c, sections, NS, PER);
	for (size_t i = 0; i < n; i++)
		texts[i] = c.text[rows[i]];
	assert_int_equal(lw_text_encode(&E, NULL, texts, NULL, n), 0);
	for (size_t i = 0; i < n; i++) {
		double best = -2;
		size_t arg = i;
		char fi[128];

		lw_text_family(fi, sizeof(fi), c.pkg[rows[i]]);
		for (size_t j = 0; j < n; j++) {
			double d = 0;
			char fj[128];

			if (j == i)
				continue;
			lw_text_family(fj, sizeof(fj), c.pkg[rows[j]]);
			if (!strcmp(fi, fj))
				continue; /* siblings would flatter the encoder */
			for (size_t k = 0; k < E.cols; k++)
				d += lw_mat_row(&E, i)[k] * lw_mat_row(&E, j)[k];
			if (d > best) {
				best = d;
				arg = j;
			}
			if (j > i && !strcmp(c.sec[rows[i]], c.sec[rows[j]])) {
				within += d;
				nw++;
			} else if (j > i) {
				between += d;
				nb++;
			}
		}
		hits += arg != i && !strcmp(c.sec[rows[arg]], c.sec[rows[i]]);
	}
	within /= (double)nw;
	between /= (double)nb;
	print_message("%zu descriptions of %d sections: mean cosine %.4f within a section, %.4f "
		      "between; nearest description from the same section %.1f%% (chance %.1f%%)\n",
		      n, NS, within, between, 100.0 * hits / n, 100.0 / NS);
	assert_true(within > between + 0.03);
	assert_true(hits > n / 2);
	lw_mat_dispose(&E);
	corpus_free(&c);
}

/* ---- languages -------------------------------------------------------------------- */

static uint32_t mo32(const unsigned char *p, int swap)
{
	return swap ? (uint32_t)p[3] | (uint32_t)p[2] << 8 | (uint32_t)p[1] << 16 | (uint32_t)p[0] << 24
		    : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * Up to max translated messages of at least 40 bytes from a gettext .mo
 * catalogue (GNU gettext's format: magic, count, tables of (length,
 * offset)); returns their number, 0 if the file is missing.  The strings
 * point into *data, which the caller frees.
 */
static size_t mo_messages(const char **out, size_t max, char **data, const char *path)
{
	const unsigned char *b;
	size_t len, n = 0, count, trans;
	int swap;

	if (lw__read_file(data, &len, path, (size_t)16 << 20) < 0)
		return 0;
	b = (const unsigned char *)*data;
	assert_true(len > 28);
	swap = mo32(b, 0) != 0x950412de;
	assert_int_equal(mo32(b, swap), 0x950412de);
	count = mo32(b + 8, swap);
	trans = mo32(b + 16, swap);
	for (size_t i = 0; i < count && n < max; i++) {
		size_t l = mo32(b + trans + 8 * i, swap), off = mo32(b + trans + 8 * i + 4, swap);

		assert_true(off + l < len);
		if (l >= 40 && !memchr(b + off, '\0', l) && strncmp((const char *)b + off, "Project-Id", 10))
			out[n++] = (const char *)b + off;
	}
	return n;
}

static void test_text_detect_languages__dpkg_translations_by_language(void **state)
{
	static const struct {
		const char *locale, *code;
	} cases[] = {
		{ "de", "de" }, { "fr", "fr" }, { "es", "es" }, { "it", "it" },
		{ "pt", "pt" }, { "nl", "nl" }, { "pl", "pl" }, { "sv", "sv" },
		{ "ru", "ru" }, { "ja", "ja" }, { "zh_CN", "zh" },
	};
	size_t tested = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256], *data = NULL;
		const char *msgs[60];
		lw_text_languages langs;
		size_t n;

		snprintf(path, sizeof(path), "/usr/share/locale/%s/LC_MESSAGES/dpkg.mo", cases[i].locale);
		if ((n = mo_messages(msgs, 60, &data, path)) == 0) {
			free(data);
			continue;
		}
		assert_true(n >= 20);
		assert_int_equal(lw_text_detect_languages(&langs, msgs, NULL, n), 0);
		if (langs.count < 1 || strcmp(langs.code[0], cases[i].code))
			fail_msg("%s: %zu messages detected as '%s' (%zu languages), expected '%s'", path, n,
				 langs.count ? langs.code[0] : "", langs.count, cases[i].code);
		tested++;
		free(data);
	}
	if (tested < 6)
		skip(); /* a minimal image without dpkg's translations */
}

static void test_text_detect_languages__english_licences_and_a_mixed_set(void **state)
{
	static const char *const licences[] = { "GPL-3", "Apache-2.0", "LGPL-2.1", "MPL-2.0" };
	const char *texts[400], *de[60], *fr[60];
	char *bufs[4], *dd = NULL, *fd = NULL;
	lw_text_languages langs, user;
	size_t n = 0, nde, nfr;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		char path[128], *line;
		size_t len;

		snprintf(path, sizeof(path), "/usr/share/common-licenses/%s", licences[i]);
		assert_int_equal(lw__read_file(&bufs[i], &len, path, (size_t)1 << 20), 0);
		for (line = strtok(bufs[i], "\n"); line && n < 400; line = strtok(NULL, "\n"))
			if (strlen(line) > 30)
				texts[n++] = line;
	}
	assert_true(n > 100);
	assert_int_equal(lw_text_detect_languages(&langs, texts, NULL, n), 0);
	assert_int_equal(langs.count, 1);
	assert_string_equal(langs.code[0], "en");

	/* German and French messages together: both are reported, and {de} is a subset. */
	nde = mo_messages(de, 60, &dd, "/usr/share/locale/de/LC_MESSAGES/dpkg.mo");
	nfr = mo_messages(fr, 60, &fd, "/usr/share/locale/fr/LC_MESSAGES/dpkg.mo");
	if (nde >= 20 && nfr >= 20) {
		const char *mixed[120];
		size_t m = 0;

		for (size_t i = 0; i < nde || i < nfr; i++) {
			if (i < nde)
				mixed[m++] = de[i];
			if (i < nfr)
				mixed[m++] = fr[i];
		}
		assert_int_equal(lw_text_detect_languages(&langs, mixed, NULL, m), 0);
		assert_int_equal(langs.count, 2);
		assert_true(!strcmp(langs.code[0], "de") || !strcmp(langs.code[1], "de"));
		assert_true(!strcmp(langs.code[0], "fr") || !strcmp(langs.code[1], "fr"));
		assert_int_equal(lw_text_detect_languages(&user, de, NULL, nde), 0);
		assert_int_equal(lw_text_languages_subset(&user, &langs), 1);
		assert_int_equal(lw_text_languages_subset(&langs, &user), 0);
	}
	/* Nothing to classify: an empty set. */
	{
		const char *none[] = { "", "1234 5678", "!!!" };

		assert_int_equal(lw_text_detect_languages(&langs, none, NULL, 3), 0);
		assert_int_equal(langs.count, 0);
	}
	for (size_t i = 0; i < 4; i++)
		free(bufs[i]);
	free(dd);
	free(fd);
}

static void test_text_languages_subset__follows_the_reference_rule(void **state)
{
	lw_text_languages en = { 1, { "en" } }, en_de = { 2, { "de", "en" } }, none = { 0, { "" } },
			  zh_cn = { 1, { "zh-cn" } }, zh = { 2, { "en", "zh" } }, fr_en = { 2, { "fr", "EN" } },
			  nb = { 1, { "nb" } }, no = { 1, { "no" } };

	(void)state;
	assert_int_equal(lw_text_languages_subset(&en, &en_de), 1);
	assert_int_equal(lw_text_languages_subset(&en_de, &en), 0);
	assert_int_equal(lw_text_languages_subset(&none, &en), 1);
	assert_int_equal(lw_text_languages_subset(&none, &none), 1);
	assert_int_equal(lw_text_languages_subset(&en, &none), 0);
	assert_int_equal(lw_text_languages_subset(&zh_cn, &zh), 1); /* langdetect's zh-cn is Chinese */
	assert_int_equal(lw_text_languages_subset(&fr_en, &en_de), 0);
	assert_int_equal(lw_text_languages_subset(&en, &fr_en), 1); /* case-insensitive */
	assert_int_equal(lw_text_languages_subset(&nb, &no), 1);
}

/* ---- reading texts ------------------------------------------------------------------ */

static void test_text_read__lines_and_csv_columns(void **state)
{
	char *dir = lwt_mkdtemp(), *lines, *csv, **t;
	size_t n;

	(void)state;
	lines = lwt_write_file(dir, "t.txt", "\xef\xbb\xbf" "first text\r\n\r\n  \nsecond, with comma\nthird");
	assert_int_equal(lw_text_read(&t, &n, lines, NULL), 0);
	assert_int_equal(n, 3);
	assert_string_equal(t[0], "first text");
	assert_string_equal(t[1], "second, with comma");
	assert_string_equal(t[2], "third");
	lw_text_free_list(t, n);
	csv = lwt_write_file(dir, "t.csv", "id,text\r\n1,\"quoted, with \"\"quotes\"\"\r\nand a line\"\r\n2,\r\n3,plain\r\n");
	assert_int_equal(lw_text_read(&t, &n, csv, "text"), 0);
	assert_int_equal(n, 2); /* the empty cell is skipped */
	assert_string_equal(t[0], "quoted, with \"quotes\"\r\nand a line");
	assert_string_equal(t[1], "plain");
	lw_text_free_list(t, n);
	assert_int_equal(lw_text_read(&t, &n, csv, "2"), 0);
	assert_int_equal(n, 2);
	lw_text_free_list(t, n);
	assert_int_equal(lw_text_read(&t, &n, csv, "body"), LW_ENOTFOUND);
	assert_int_equal(lw_text_read(&t, &n, "/nonexistent.txt", NULL), LW_ENOTFOUND);
	free(lines);
	free(csv);
	lwt_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_tokenize__ascii_is_lowered_and_split_at_punctuation),
		cmocka_unit_test(test_text_tokenize__non_ascii_words_are_kept_and_lowered),
		cmocka_unit_test(test_text_tokenize__long_runs_are_cut),
		cmocka_unit_test(test_text_encoder__builtin_is_the_shipped_file_with_a_valid_hash),
		cmocka_unit_test(test_text_encoder__damaged_or_truncated_file_is_refused),
		cmocka_unit_test(test_text_half__round_trips_and_rounds_to_nearest_even),
		cmocka_unit_test(test_text_encode__is_deterministic_unit_length_and_batch_independent),
		cmocka_unit_test(test_text_encode__descriptions_of_one_section_are_closer_than_of_two),
		cmocka_unit_test(test_text_detect_languages__dpkg_translations_by_language),
		cmocka_unit_test(test_text_detect_languages__english_licences_and_a_mixed_set),
		cmocka_unit_test(test_text_languages_subset__follows_the_reference_rule),
		cmocka_unit_test(test_text_read__lines_and_csv_columns),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
