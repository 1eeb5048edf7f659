/*
 * The text RKME (src/lib/rkme_text.c): fitting on real texts (Debian's
 * package descriptions, shared/data), the reference's JSON layout plus the
 * encoder's keys, refusing specifications of another encoder, and MMD^2
 * between text specifications.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/text_family.h"
#include "lw/text.h"

/* Descriptions of one section, at most one per package family, from the held-out or the kept families. */
static size_t section_texts(char ***out, char **texts, char **pkgs, char **secs, size_t n,
			    const char *section, int heldout, size_t max)
{
	size_t k = 0;
	char last[128] = "";

	*out = malloc(max * sizeof(char *));
	assert_non_null(*out);
	for (size_t i = 0; i < n && k < max; i++) {
		char fam[128];

		if (strcmp(secs[i], section) || lw_text_family_heldout(pkgs[i]) != heldout)
			continue;
		lw_text_family(fam, sizeof(fam), pkgs[i]);
		if (!strcmp(fam, last))
			continue;
		snprintf(last, sizeof(last), "%s", fam);
		(*out)[k++] = texts[i];
	}
	return k;
}

typedef struct {
	char **text, **pkg, **sec;
	size_t n;
} corpus;

/* The corpus, read once for the whole group (group_setup). */
static corpus the_corpus;

static int group_setup(void **state)
{
	corpus *c = &the_corpus;
	const char *path = lwt_shared_path("data/debian_descriptions.csv");
	size_t n2, n3;

	(void)state;
	if (lw_text_read(&c->text, &c->n, path, "text") < 0 ||
	    lw_text_read(&c->pkg, &n2, path, "package") < 0 ||
	    lw_text_read(&c->sec, &n3, path, "section") < 0) {
		print_error("%s\n", lw_error_last()->message);
		return -1;
	}
	/* No empty cell, so the three lists line up. */
	return c->n == 63666 && n2 == c->n && n3 == c->n ? 0 : -1;
}

static int group_teardown(void **state)
{
	corpus *c = &the_corpus;

	(void)state;
	lw_text_free_list(c->text, c->n);
	lw_text_free_list(c->pkg, c->n);
	lw_text_free_list(c->sec, c->n);
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

/* A text specification of n texts with k reduced points (0: the default, 100). */
static lw_text_spec *fit(char **texts, size_t n, size_t k)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_text_spec *s = NULL;

	if (k)
		o.k = k;
	assert_int_equal(lw_text_spec_fit(&s, NULL, (const char *const *)texts, NULL, n, &o), 0);
	return s;
}

static void test_rkme_text_fit__reference_layout_round_trips_bit_for_bit(void **state)
{
	corpus c;
	char **games, *json, *again;
	size_t n;
	lw_text_spec *s, *r;
	const lw_text_encoder *enc;
	double d;

	(void)state;
	corpus_read(&c);
	n = section_texts(&games, c.text, c.pkg, c.sec, c.n, "games", 0, 300);
	assert_true(n >= 200);
	s = fit(games, n, 0);
	assert_int_equal(lw_rkme_k(s->rkme), 100);
	assert_int_equal(lw_rkme_dim(s->rkme), 256);
	assert_int_equal(s->rkme->num_points, n);
	lwt_assert_near(s->rkme->gamma, 0.1, 0);
	assert_int_equal(s->language.count, 1);
	assert_string_equal(s->language.code[0], "en");
	assert_int_equal(lw_text_encoder_builtin(&enc), 0);
	assert_string_equal(s->encoder, LW_TEXT_ENCODER_NAME);
	assert_int_equal(s->encoder_version, LW_TEXT_ENCODER_VERSION);
	assert_string_equal(s->encoder_sha256, lw_text_encoder_sha256(enc));
	assert_int_equal(lw_text_spec_check_encoder(s, NULL), 0);

	/* The reference's keys in its order, then "language", then the encoder's keys. */
	assert_int_equal(lw_text_spec_to_json(&json, s), 0);
	assert_true(!strncmp(json, "{\"z\":[[", 7));
	{
		const char *b = strstr(json, "],\"beta\":["), *g = strstr(json, "],\"gamma\":0.1,\"num_points\":"),
			   *t = strstr(json, ",\"type\":\"RKMETextSpecification\",\"language\":[\"en\"],"
					     "\"encoder\":\"" LW_TEXT_ENCODER_NAME "\",\"encoder_version\":1,"
					     "\"encoder_sha256\":\"");

		assert_non_null(b);
		assert_non_null(g);
		assert_non_null(t);
		assert_true(b < g && g < t);
		assert_string_equal(json + strlen(json) - 2, "\"}");
		assert_int_equal(strlen(strstr(t, "encoder_sha256\":\"") + 17), 64 + 2);
	}
	assert_int_equal(lw_text_spec_from_json(&r, json, strlen(json), "json"), 0);
	assert_int_equal(lw_rkme_k(r->rkme), 100);
	assert_memory_equal(r->rkme->z.data, s->rkme->z.data, 100 * 256 * sizeof(double));
	assert_memory_equal(r->rkme->beta, s->rkme->beta, 100 * sizeof(double));
	assert_int_equal(r->rkme->num_points, n);
	assert_int_equal(r->language.count, 1);
	assert_string_equal(r->language.code[0], "en");
	assert_string_equal(r->encoder_sha256, s->encoder_sha256);
	assert_int_equal(lw_text_spec_to_json(&again, r), 0);
	assert_string_equal(again, json);
	assert_int_equal(lw_text_spec_dist(&d, s, r), 0);
	lwt_assert_near(d, 0, 1e-12);

	/* Through a file, and the table reader refuses it by type. */
	{
		char *dir = lwt_mkdtemp(), path[512];
		lw_text_spec *f;
		lw_rkme *t;

		snprintf(path, sizeof(path), "%s/spec.json", dir);
		assert_int_equal(lw_text_spec_save(s, path), 0);
		assert_int_equal(lw_text_spec_load(&f, path), 0);
		assert_memory_equal(f->rkme->z.data, s->rkme->z.data, 100 * 256 * sizeof(double));
		lw_text_spec_free(f);
		assert_int_equal(lw_rkme_load(&t, path), LW_EINVALID);
		lwt_rmtree(dir);
		free(dir);
	}
	free(json);
	free(again);
	lw_text_spec_free(s);
	lw_text_spec_free(r);
	free(games);
	corpus_free(&c);
}

/* A copy of json with the first `from` replaced by `to`. */
static char *replace(const char *json, const char *from, const char *to)
{
	const char *at = strstr(json, from);
	char *out;

	assert_non_null(at);
	out = malloc(strlen(json) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	memcpy(out, json, (size_t)(at - json));
	strcpy(out + (at - json), to);
	strcat(out, at + strlen(from));
	return out;
}

static void test_rkme_text_encoder__specs_of_other_encoders_are_refused(void **state)
{
	static const char *const texts[] = {
		"GNU C compiler for the x86 architecture",
		"Library of routines for numerical integration and linear algebra",
		"Puzzle game with falling blocks, playable with the keyboard",
		"Utilities to convert and resize images in many formats",
		"Mail transport agent with spam filtering",
	};
	lw_text_spec *s, *other;
	char *json, *v2, *h2, *ref;
	double d;

	(void)state;
	assert_int_equal(lw_text_spec_fit(&s, NULL, texts, NULL, 5, NULL), 0);
	assert_int_equal(lw_text_spec_to_json(&json, s), 0);

	/* Version 2 of the encoder: read, but not compared. */
	v2 = replace(json, "\"encoder_version\":1", "\"encoder_version\":2");
	assert_int_equal(lw_text_spec_from_json(&other, v2, strlen(v2), "v2.json"), 0);
	assert_int_equal(other->encoder_version, 2);
	assert_int_equal(lw_text_spec_check_encoder(other, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "version 2"));
	assert_non_null(strstr(lw_error_last()->message, "version 1"));
	assert_int_equal(lw_text_spec_dist(&d, s, other), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "different encoders"));
	lw_text_spec_free(other);

	/* Same name and version, another content hash (a rebuilt file). */
	h2 = strdup(json);
	{
		char *hash = strstr(h2, "\"encoder_sha256\":\"") + 18;

		memcpy(hash, hash[0] == '0' ? "1111" : "0000", 4);
	}
	assert_int_equal(lw_text_spec_from_json(&other, h2, strlen(h2), "h2.json"), 0);
	assert_int_equal(lw_text_spec_check_encoder(other, NULL), LW_EINVALID);
	assert_int_equal(lw_text_spec_dist(&d, other, s), LW_EINVALID);
	lw_text_spec_free(other);

	/* The reference's own file names no encoder: its embeddings are a SentenceTransformer's. */
	ref = replace(json, ",\"encoder\":\"", "}");
	*strchr(strstr(ref, ",\"language\":"), '}') = '\0';
	strcat(ref, "}");
	assert_int_equal(lw_text_spec_from_json(&other, ref, strlen(ref), "ref.json"), 0);
	assert_string_equal(other->encoder, "");
	assert_int_equal(lw_text_spec_check_encoder(other, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "reference engine"));
	assert_int_equal(lw_text_spec_dist(&d, s, other), LW_EINVALID);
	lw_text_spec_free(other);

	/* A bad encoder hash is a malformed file. */
	{
		char *bad = replace(json, "\"encoder_sha256\":\"", "\"encoder_sha256\":\"XYZ");

		assert_int_equal(lw_text_spec_from_json(&other, bad, strlen(bad), "bad.json"), LW_EINVALID);
		assert_non_null(strstr(lw_error_last()->message, "encoder_sha256"));
		free(bad);
	}
	free(json);
	free(v2);
	free(h2);
	free(ref);
	lw_text_spec_free(s);
}

static void test_rkme_text_json__reads_the_reference_layout_and_refuses_other_types(void **state)
{
	static const char ref[] =
		"{\"z\":[[0.5,-1.0,2.0],[1.0,0.0,0.25]],\"beta\":[0.25,0.75],\"gamma\":0.1,"
		"\"num_points\":40,\"type\":\"RKMETextSpecification\",\"language\":[\"en\",\"zh-cn\"]}";
	static const char table[] =
		"{\"z\":[[0.5]],\"beta\":[1.0],\"gamma\":0.1,\"num_points\":4,\"type\":\"RKMETableSpecification\"}";
	static const char badlang[] =
		"{\"z\":[[0.5]],\"beta\":[1.0],\"gamma\":0.1,\"type\":\"RKMETextSpecification\",\"language\":[\"e n\"]}";
	static const char badz[] =
		"{\"z\":[[0.5],\"x\"],\"beta\":[1.0,0],\"gamma\":0.1,\"type\":\"RKMETextSpecification\",\"language\":[]}";
	static const char nan[] =
		"{\"z\":[[NaN]],\"beta\":[1.0],\"gamma\":0.1,\"type\":\"RKMETextSpecification\",\"language\":[]}";
	lw_text_spec *s = NULL, *t = NULL;
	lw_text_languages en = { 1, { "en" } };
	double d;

	(void)state;
	assert_int_equal(lw_text_spec_from_json(&s, ref, strlen(ref), "ref.json"), 0);
	assert_int_equal(lw_rkme_k(s->rkme), 2);
	assert_int_equal(lw_rkme_dim(s->rkme), 3);
	assert_int_equal(s->rkme->num_points, 40);
	assert_int_equal(s->language.count, 2);
	assert_string_equal(s->language.code[1], "zh-cn");
	assert_string_equal(s->encoder, "");
	assert_int_equal(lw_text_languages_subset(&en, &s->language), 1);
	/* Two reference specifications compare with each other (same model). */
	assert_int_equal(lw_text_spec_from_json(&t, ref, strlen(ref), "ref.json"), 0);
	assert_int_equal(lw_text_spec_dist(&d, s, t), 0);
	lwt_assert_near(d, 0, 1e-12);
	lw_text_spec_free(t);

	assert_int_equal(lw_text_spec_from_json(&t, table, strlen(table), "t.json"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "RKMETableSpecification\" is not a text"));
	assert_int_equal(lw_text_spec_from_json(&t, badlang, strlen(badlang), "l.json"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "language[0]"));
	assert_int_equal(lw_text_spec_from_json(&t, badz, strlen(badz), "z.json"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "z.json"));
	assert_int_equal(lw_text_spec_from_json(&t, nan, strlen(nan), "n.json"), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "NaN or Infinity"));
	assert_null(t);
	lw_text_spec_free(s);
}

static void test_rkme_text_dist__sets_of_one_section_are_closest(void **state)
{
	static const char *const sections[] = { "games", "science", "fonts", "sound" };
	enum { NS = 4, SET = 80 };
	lw_text_spec *a[NS], *b[NS];
	corpus c;

	(void)state;
	corpus_read(&c);
	for (size_t s = 0; s < NS; s++) {
		char **kept, **held;
		size_t nk = section_texts(&kept, c.text, c.pkg, c.sec, c.n, sections[s], 0, SET);
		size_t nh = section_texts(&held, c.text, c.pkg, c.sec, c.n, sections[s], 1, SET);

		/* Two sets of disjoint package families. */
		assert_true(nk >= SET / 2 && nh >= SET / 2);
		a[s] = fit(kept, nk, 20);
		b[s] = fit(held, nh, 20);
		free(kept);
		free(held);
	}
	for (size_t s = 0; s < NS; s++) {
		double same, other;

		assert_int_equal(lw_text_spec_dist(&same, a[s], b[s]), 0);
		for (size_t t = 0; t < NS; t++) {
			if (t == s)
				continue;
			assert_int_equal(lw_text_spec_dist(&other, a[s], b[t]), 0);
			if (!(same < other))
				fail_msg("%s: MMD^2 to %s's other families %.4g, to %s %.4g", sections[s],
					 sections[s], same, sections[t], other);
		}
	}
	for (size_t s = 0; s < NS; s++) {
		lw_text_spec_free(a[s]);
		lw_text_spec_free(b[s]);
	}
	corpus_free(&c);
}

static void test_rkme_text_fit__needs_two_texts(void **state)
{
	const char *one[] = { "a single text" };
	lw_text_spec *s = NULL;

	(void)state;
	assert_int_equal(lw_text_spec_fit(&s, NULL, one, NULL, 1, NULL), LW_EINVALID);
	assert_null(s);
	assert_non_null(strstr(lw_error_last()->message, "at least 2 texts"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rkme_text_fit__reference_layout_round_trips_bit_for_bit),
		cmocka_unit_test(test_rkme_text_encoder__specs_of_other_encoders_are_refused),
		cmocka_unit_test(test_rkme_text_json__reads_the_reference_layout_and_refuses_other_types),
		cmocka_unit_test(test_rkme_text_dist__sets_of_one_section_are_closest),
		cmocka_unit_test(test_rkme_text_fit__needs_two_texts),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
