/*
 * Python's str.lower and rapidfuzz's fuzz.partial_ratio (src/lib/fuzzy.c).
 * Expected scores are rapidfuzz 3's own results for these pairs (the
 * reference engine's fuzzy search calls fuzz.partial_ratio on lowered
 * names); the random cross-check compares against a direct, slow reading of
 * the definition.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzzy.h"

static double pr(const char *a, const char *b)
{
	double r = lw__partial_ratio_utf8(a, b, 0);

	assert_true(r >= 0);
	return r;
}

static void test_fuzzy_partial_ratio__matches_rapidfuzz(void **state)
{
	static const struct {
		const char *a, *b;
		double score;
	} v[] = {
		/* The reference's fuzzy search test: "laernwaer" against its learnwares' names and descriptions. */
		{ "laernwaer", "learnware", 82.35294117647058 },
		{ "laernwaer", "learnware_0", 82.35294117647058 },
		{ "laernwaer", "test_learnware_number_0", 77.77777777777779 },
		/* rapidfuzz's documented examples. */
		{ "this is a test", "this is a test!", 100 },
		{ "a certain string", "cetain", 83.33333333333334 },
		{ "fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear", 93.02325581395348 },
		{ "house prices", "predicting house prices in boston", 100 },
		{ "hause", "house prices", 80 },
		{ "straße", "strasse", 80 },
		{ "日本語", "日本", 100 },
		{ "xyz", "abc", 0 },
		{ "abc", "a", 100 },
		/* Needles longer than one machine word. */
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		  "xxxxxxxxxxaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaacyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
		  98.59154929577466 },
		{ "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij",
		  "zzabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghiXzz", 98.75 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		double ab = pr(v[i].a, v[i].b), ba = pr(v[i].b, v[i].a);

		/* Bit for bit: the search keeps scores >= 75, so 75 must be 75.0 exactly. */
		if (ab != v[i].score || ba != v[i].score)
			fail_msg("partial_ratio('%s', '%s') = %.17g / %.17g, rapidfuzz says %.17g", v[i].a, v[i].b, ab,
				 ba, v[i].score);
	}
}

/* Cases worked out by hand from the definition. */
static void test_fuzzy_partial_ratio__follows_the_definition(void **state)
{
	(void)state;
	/* Both empty: 100; one empty: 0. */
	assert_true(pr("", "") == 100.0);
	assert_true(pr("", "abc") == 0.0 && pr("abc", "") == 0.0);
	/* A substring scores 100. */
	assert_true(pr("abc", "xabcx") == 100.0);
	/* Window "abxd": LCS 3, distance 2 of 8: exactly 75, the search's threshold. */
	assert_true(pr("abcd", "abxd") == 75.0);
	/* Equal lengths, both ways: the full window "ba" has LCS 1 (50), the prefix "b" 2*1/3. */
	assert_true(pr("ab", "ba") == (1.0 - 1.0 / 3.0) * 100.0);
	/* Windows "xa", "ax", "xb", "bx" each share one code point: 2 of 4. */
	assert_true(pr("ab", "xaxbx") == 50.0);
	/* Code points, not bytes: "é" is one code point against "e". */
	assert_true(pr("é", "e") == 0.0);
	assert_true(pr("café", "le café noir") == 100.0);
	/* The prefix t[:1] = "b" against needle "ab": 2*1/(2+1). */
	assert_true(pr("ab", "bzzzz") == (1.0 - 1.0 / 3.0) * 100.0);
	/* And the suffix "a" of "zzzza". */
	assert_true(pr("ab", "zzzza") == (1.0 - 1.0 / 3.0) * 100.0);
}

/* --- a slow, direct reading of the definition ------------------------------------------ */

static size_t lcs_dp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t *row = calloc(nb + 1, sizeof(size_t)), best;

	assert_non_null(row);
	for (size_t i = 1; i <= na; i++) {
		size_t diag = 0;

		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];

			row[j] = a[i - 1] == b[j - 1] ? diag + 1 : (row[j] > row[j - 1] ? row[j] : row[j - 1]);
			diag = up;
		}
	}
	best = row[nb];
	free(row);
	return best;
}

static double ratio_dp(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t l = lcs_dp(a, na, b, nb);

	return (1.0 - (double)(na + nb - 2 * l) / (double)(na + nb)) * 100.0;
}

/* Needle s against every window of t: full length, and shorter prefixes and suffixes. */
static double one_way_slow(const uint32_t *s, size_t m, const uint32_t *t, size_t n)
{
	double best = 0, r;

	for (size_t i = 0; i + m <= n; i++)
		if ((r = ratio_dp(s, m, t + i, m)) > best)
			best = r;
	for (size_t k = 1; k < m; k++) {
		if ((r = ratio_dp(s, m, t, k)) > best)
			best = r;
		if ((r = ratio_dp(s, m, t + n - k, k)) > best)
			best = r;
	}
	return best;
}

static double partial_ratio_slow(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	double r;

	if (!na || !nb)
		return na == nb ? 100.0 : 0.0;
	if (na > nb)
		return partial_ratio_slow(b, nb, a, na);
	r = one_way_slow(a, na, b, nb);
	if (na == nb && r != 100.0) {
		double r2 = one_way_slow(b, nb, a, na);

		r = r2 > r ? r2 : r;
	}
	return r;
}

static void random_text(uint32_t *out, size_t n, lw_rng *rng, const uint32_t *alphabet, size_t k)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[lw_rng_below(rng, k)];
}

static void test_fuzzy_partial_ratio__agrees_with_the_slow_definition(void **state)
{
	static const uint32_t alpha[] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', ' ', 0xe9, 0x65e5, 0x1f600 };
	uint32_t a[150], b[400];
	lw_rng rng;
	size_t checked = 0, above = 0;

	(void)state;
	lw_rng_seed(&rng, 42);
	for (int round = 0; round < 1500; round++) {
		size_t k = 2 + lw_rng_below(&rng, sizeof(alpha) / sizeof(alpha[0]) - 1);
		size_t na = lw_rng_below(&rng, round % 10 == 0 ? 150 : 20), nb = lw_rng_below(&rng, round % 3 ? 60 : 400);
		double fast, cut, slow;

		random_text(a, na, &rng, alpha, k);
		random_text(b, nb, &rng, alpha, k);
		fast = lw__partial_ratio(a, na, b, nb, 0);
		cut = lw__partial_ratio(a, na, b, nb, 75);
		slow = partial_ratio_slow(a, na, b, nb);
		if (fast != slow)
			fail_msg("round %d (%zu, %zu code points): %.17g, the definition gives %.17g", round, na, nb, fast,
				 slow);
		/* With a cutoff, scores at or above it are exact and the rest stay below it. */
		if (slow >= 75 ? cut != slow : cut >= 75)
			fail_msg("round %d: with cutoff 75: %.17g, the definition gives %.17g", round, cut, slow);
		checked++;
		above += slow >= 75;
	}
	assert_int_equal(checked, 1500);
	assert_true(above > 100); /* the sample reaches the threshold often enough to matter */
}

/* --- lower case ------------------------------------------------------------------------ */

static void test_fuzzy_lower__as_python_str_lower(void **state)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{ "House Prices", "house prices" },
		{ "ÀÉÎÕÜ Ÿ", "àéîõü ÿ" },       /* Latin-1, and U+0178 outside it */
		{ "ĀĂĄ ǅ", "āăą ǆ" },           /* Latin Extended-A (stride 2), a title-case digraph */
		{ "ΑΒΓ ΆΈ", "αβγ άέ" },         /* Greek */
		{ "МОСКВА Ё", "москва ё" },     /* Cyrillic */
		{ "ＡＢＣ", "ａｂｃ" },          /* full-width */
		{ "𐐀𐐁", "𐐨𐐩" },               /* Deseret, outside the BMP */
		{ "İstanbul", "i̇stanbul" },     /* U+0130 lowers to two code points */
		{ "Straße ẞ", "straße ß" },     /* U+1E9E lowers to a shorter encoding */
		{ "Ⱥ", "ⱥ" },                   /* and U+023A to a longer one */
		{ "日本語 123 _-", "日本語 123 _-" },
		{ "ΑΣ", "ασ" },                 /* departure: Python writes the final sigma */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *l = lw__utf8_lower(v[i].in);

		assert_non_null(l);
		assert_string_equal(l, v[i].out);
		free(l);
	}
	assert_int_equal(lw__lower_cp('Z'), 'z');
	assert_int_equal(lw__lower_cp(0x2c6f), 0x250); /* a mapping whose delta is large and negative */
	assert_int_equal(lw__lower_cp(0x101), 0x101);  /* the odd members of a stride-2 run are lower case */
}

static void test_fuzzy_utf8__invalid_bytes_survive(void **state)
{
	const char bad[] = "A\xff\xc3(\xe2\x82Z\xed\xa0\x80";
	uint32_t *cp;
	size_t n;
	char *l;

	(void)state;
	assert_int_equal(lw__utf8_decode(&cp, &n, bad, strlen(bad)), 0);
	/* A, 0xff, 0xc3, '(', 0xe2, 0x82, Z, then the encoded surrogate's three bytes. */
	assert_int_equal(n, 10);
	assert_int_equal(cp[0], 'A');
	assert_int_equal(cp[1], 0xdcff);
	assert_int_equal(cp[2], 0xdcc3);
	assert_int_equal(cp[3], '(');
	assert_int_equal(cp[6], 'Z');
	assert_int_equal(cp[7], 0xdced);
	free(cp);
	assert_non_null(l = lw__utf8_lower(bad));
	assert_string_equal(l, "a\xff\xc3(\xe2\x82z\xed\xa0\x80");
	free(l);
}

/* 20,000 texts of 400 code points, the size of a large market's descriptions. */
static void test_fuzzy_partial_ratio__scales_to_a_market(void **state)
{
	enum { N = 20000, LEN = 400 };
	static const char words[][10] = { "model", "data", "house", "price", "learn", "ware", "table", "image",
					  "text", "the", "of", "for", "regression", "class" };
	const char *needle = "laernwaer";
	uint32_t q[16], *t = malloc(LEN * sizeof(uint32_t));
	size_t nq = strlen(needle), hits = 0;
	struct timespec t0, t1;
	lw_rng rng;

	(void)state;
	assert_non_null(t);
	for (size_t i = 0; i < nq; i++)
		q[i] = (uint32_t)needle[i];
	lw_rng_seed(&rng, 7);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int d = 0; d < N; d++) {
		size_t n = 0;

		while (n < LEN) {
			const char *w = words[lw_rng_below(&rng, sizeof(words) / sizeof(words[0]))];

			for (; *w && n < LEN; w++)
				t[n++] = (uint32_t)*w;
			if (n < LEN)
				t[n++] = ' ';
		}
		hits += lw__partial_ratio(q, nq, t, n, 75) >= 75;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("    %d partial_ratio calls on %d code points: %.0f ms, %zu at 75 or more\n", N, LEN,
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6, hits);
	assert_true(hits > 0);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzzy_partial_ratio__matches_rapidfuzz),
		cmocka_unit_test(test_fuzzy_partial_ratio__follows_the_definition),
		cmocka_unit_test(test_fuzzy_partial_ratio__agrees_with_the_slow_definition),
		cmocka_unit_test(test_fuzzy_lower__as_python_str_lower),
		cmocka_unit_test(test_fuzzy_utf8__invalid_bytes_survive),
		cmocka_unit_test(test_fuzzy_partial_ratio__scales_to_a_market),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
