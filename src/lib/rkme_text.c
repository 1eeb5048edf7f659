/*
 * The text RKME: the table RKME of the texts' embeddings plus their
 * languages, in the reference's RKMETextSpecification JSON
 *   {"z":..,"beta":..,"gamma":..,"num_points":..,"type":"RKMETextSpecification",
 *    "language":["en"],"encoder":"lw-text-hash-svd-256","encoder_version":1,
 *    "encoder_sha256":"..."}
 * (the reference writes the table keys and "language"; the encoder keys are
 * this library's, and the reference ignores keys it does not know).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lw/text.h"
#include "util.h"

#define TYPE_TEXT "RKMETextSpecification"
#define TABLE_TAIL ",\"type\":\"RKMETableSpecification\"}"
#define MAX_JSON_BYTES ((size_t)256 << 20)

void lw_text_spec_free(lw_text_spec *spec)
{
	if (!spec)
		return;
	lw_rkme_free(spec->rkme);
	free(spec);
}

static void set_encoder(lw_text_spec *s, const lw_text_encoder *enc)
{
	snprintf(s->encoder, sizeof(s->encoder), "%s", lw_text_encoder_name(enc));
	s->encoder_version = lw_text_encoder_version(enc);
	snprintf(s->encoder_sha256, sizeof(s->encoder_sha256), "%s", lw_text_encoder_sha256(enc));
}

int lw_text_spec_fit(lw_text_spec **out, const lw_text_encoder *enc, const char *const *texts,
		     const size_t *lens, size_t n, const lw_rkme_options *opts)
{
	lw_rkme_options defaults = LW_RKME_OPTIONS_INIT;
	lw_text_spec *s = NULL;
	lw_mat X = LW_MAT_INIT;
	int err;

	LW_ASSERT_ARG(out && (texts || n == 0));
	*out = NULL;
	if (n < 2) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "a text specification needs at least 2 texts, got %zu (with 1 it would "
			     "publish the text's embedding itself)",
			     n);
		return LW_EINVALID;
	}
	if (!enc && (err = lw_text_encoder_builtin(&enc)) < 0)
		return err;
	if (!(s = lw__calloc(1, sizeof(*s))))
		return LW_ENOMEM;
	if ((err = lw_text_encode(&X, enc, texts, lens, n)) < 0 ||
	    (err = lw_rkme_fit(&s->rkme, &X, opts ? opts : &defaults)) < 0 ||
	    (err = lw_text_detect_languages(&s->language, texts, lens, n)) < 0)
		goto done;
	set_encoder(s, enc);
	*out = s;
	s = NULL;
done:
	lw_mat_dispose(&X);
	lw_text_spec_free(s);
	return err;
}

/* ---- JSON --------------------------------------------------------------------- */

static int fail(const char *source, const char *what)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, what);
	return LW_EINVALID;
}

/* Language codes and encoder names are written unescaped: keep them plain. */
static int plain(const char *s, int code)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (code ? !(isalnum(c) || c == '-' || c == '_')
			 : (c < 0x20 || c >= 0x7f || c == '"' || c == '\\'))
			return 0;
	}
	return 1;
}

static int read_languages(lw_text_languages *out, json_t *root, const char *source)
{
	json_t *jl = json_object_get(root, "language"), *v;
	size_t i;
	char msg[160];

	memset(out, 0, sizeof(*out));
	if (!jl) /* the reference always writes it; an older file may not */
		return 0;
	if (!json_is_array(jl))
		return fail(source, "\"language\" must be an array of language codes");
	if (json_array_size(jl) > LW_TEXT_MAX_LANGUAGES) {
		snprintf(msg, sizeof(msg), "\"language\" lists %zu codes; at most %d are read",
			 json_array_size(jl), LW_TEXT_MAX_LANGUAGES);
		return fail(source, msg);
	}
	json_array_foreach(jl, i, v) {
		const char *code = json_string_value(v);

		if (!code || !code[0] || strlen(code) >= LW_TEXT_LANGUAGE_SIZE || !plain(code, 1)) {
			snprintf(msg, sizeof(msg),
				 "language[%zu] must be a language code such as \"en\" or \"zh-cn\"", i);
			return fail(source, msg);
		}
		memcpy(out->code[out->count++], code, strlen(code) + 1);
	}
	return 0;
}

static int read_encoder(lw_text_spec *s, json_t *root, const char *source)
{
	json_t *jn = json_object_get(root, "encoder"), *jv = json_object_get(root, "encoder_version"),
	       *jh = json_object_get(root, "encoder_sha256");
	const char *name = json_string_value(jn), *hash = json_string_value(jh);

	if (!jn && !jv && !jh)
		return 0; /* the reference's: made by its SentenceTransformer */
	if (!name || !name[0] || strlen(name) >= sizeof(s->encoder) || !plain(name, 0))
		return fail(source, "\"encoder\" must be an encoder name such as \"" LW_TEXT_ENCODER_NAME "\"");
	if (!json_is_integer(jv) || json_integer_value(jv) < 1 || json_integer_value(jv) > 1000000)
		return fail(source, "\"encoder_version\" must be a positive integer");
	if (!hash || strlen(hash) != 64 || strspn(hash, "0123456789abcdef") != 64)
		return fail(source, "\"encoder_sha256\" must be 64 lowercase hex digits");
	memcpy(s->encoder, name, strlen(name) + 1);
	s->encoder_version = (unsigned int)json_integer_value(jv);
	memcpy(s->encoder_sha256, hash, 65);
	return 0;
}

int lw_text_spec_from_json(lw_text_spec **out, const char *text, size_t len, const char *source)
{
	json_error_t je;
	json_t *root = NULL;
	lw_text_spec *s = NULL;
	const char *type;
	char *table = NULL;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "text specification";
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		/* The table reader words JSON errors (NaN, Infinity) best. */
		lw_rkme *r = NULL;

		err = lw_rkme_from_json(&r, text, len, source);
		lw_rkme_free(r);
		return err < 0 ? err : fail(source, je.text);
	}
	if (!json_is_object(root)) {
		err = fail(source, "the top level must be a JSON object");
		goto done;
	}
	type = json_string_value(json_object_get(root, "type"));
	if (!type || strcmp(type, TYPE_TEXT) != 0) {
		char msg[200];

		snprintf(msg, sizeof(msg), "type \"%.100s\" is not a text specification (expected \"%s\")",
			 type ? type : "(missing)", TYPE_TEXT);
		err = fail(source, msg);
		goto done;
	}
	if (!(s = lw__calloc(1, sizeof(*s)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = read_languages(&s->language, root, source)) < 0 ||
	    (err = read_encoder(s, root, source)) < 0)
		goto done;
	/* The rest is a table specification: let its reader check z, beta and gamma. */
	if (json_object_set_new(root, "type", json_string("RKMETableSpecification")) < 0 ||
	    !(table = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = lw_rkme_from_json(&s->rkme, table, strlen(table), source)) < 0)
		goto done;
	*out = s;
	s = NULL;
done:
	free(table);
	json_decref(root);
	lw_text_spec_free(s);
	return err;
}

int lw_text_spec_to_json(char **out, const lw_text_spec *spec)
{
	char *table = NULL, *text;
	size_t len, tail = strlen(TABLE_TAIL), cap;
	int err;

	LW_ASSERT_ARG(out && spec && spec->rkme);
	*out = NULL;
	for (size_t i = 0; i < spec->language.count; i++)
		if (!spec->language.code[i][0] || !plain(spec->language.code[i], 1))
			return lw__invalid("language[%zu] is not a language code", i);
	if (!plain(spec->encoder, 0) || !plain(spec->encoder_sha256, 0))
		return lw__invalid("the encoder name or hash holds characters JSON would escape");
	if ((err = lw_rkme_to_json(&table, spec->rkme)) < 0)
		return err;
	len = strlen(table);
	if (len < tail || strcmp(table + len - tail, TABLE_TAIL) != 0) {
		free(table);
		lw_error_set(LW_ERRCLASS_INVALID, "unexpected table specification layout");
		return LW_ERROR;
	}
	cap = len + 256 + spec->language.count * (LW_TEXT_LANGUAGE_SIZE + 3);
	if (!(text = lw__reallocarray(table, cap, 1))) {
		free(table);
		return LW_ENOMEM;
	}
	len -= tail;
	len += (size_t)snprintf(text + len, cap - len, ",\"type\":\"" TYPE_TEXT "\",\"language\":[");
	for (size_t i = 0; i < spec->language.count; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\"%s\"", i ? "," : "",
					spec->language.code[i]);
	len += (size_t)snprintf(text + len, cap - len, "]");
	if (spec->encoder[0])
		len += (size_t)snprintf(text + len, cap - len,
					",\"encoder\":\"%s\",\"encoder_version\":%u,\"encoder_sha256\":\"%s\"",
					spec->encoder, spec->encoder_version, spec->encoder_sha256);
	snprintf(text + len, cap - len, "}");
	*out = text;
	return 0;
}

int lw_text_spec_load(lw_text_spec **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_JSON_BYTES)) < 0)
		return err;
	err = lw_text_spec_from_json(out, text, len, path);
	free(text);
	return err;
}

int lw_text_spec_save(const lw_text_spec *spec, const char *path)
{
	char *text;
	int err;

	LW_ASSERT_ARG(spec && path);
	if ((err = lw_text_spec_to_json(&text, spec)) < 0)
		return err;
	err = lw__write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
}

/* ---- encoders and distances ------------------------------------------------------ */

static void describe(char *buf, size_t size, const char *name, unsigned int version, const char *hash)
{
	if (!name[0])
		snprintf(buf, size, "no encoder (a reference engine specification, embedded by its "
				    "SentenceTransformer)");
	else
		snprintf(buf, size, "encoder %s version %u (sha256 %.12s...)", name, version, hash);
}

static int same_encoder(const char *n1, unsigned v1, const char *h1, const char *n2, unsigned v2,
			const char *h2)
{
	return !strcmp(n1, n2) && v1 == v2 && !strcmp(h1, h2);
}

int lw_text_spec_check_encoder(const lw_text_spec *spec, const lw_text_encoder *enc)
{
	char have[160], want[160];
	int err;

	LW_ASSERT_ARG(spec);
	if (!enc && (err = lw_text_encoder_builtin(&enc)) < 0)
		return err;
	if (spec->encoder[0] && same_encoder(spec->encoder, spec->encoder_version, spec->encoder_sha256,
					     lw_text_encoder_name(enc), lw_text_encoder_version(enc),
					     lw_text_encoder_sha256(enc)))
		return 0;
	describe(have, sizeof(have), spec->encoder, spec->encoder_version, spec->encoder_sha256);
	describe(want, sizeof(want), lw_text_encoder_name(enc), lw_text_encoder_version(enc),
		 lw_text_encoder_sha256(enc));
	lw_error_set(LW_ERRCLASS_INVALID,
		     "the text specification was made by %s, not by %s: its embeddings cannot be "
		     "compared; make it again from the texts with this encoder",
		     have, want);
	return LW_EINVALID;
}

int lw_text_spec_dist(double *out, const lw_text_spec *a, const lw_text_spec *b)
{
	char da[160], db[160];

	LW_ASSERT_ARG(out && a && b && a->rkme && b->rkme);
	if (!same_encoder(a->encoder, a->encoder_version, a->encoder_sha256, b->encoder,
			  b->encoder_version, b->encoder_sha256)) {
		describe(da, sizeof(da), a->encoder, a->encoder_version, a->encoder_sha256);
		describe(db, sizeof(db), b->encoder, b->encoder_version, b->encoder_sha256);
		lw_error_set(LW_ERRCLASS_INVALID,
			     "text specifications made by different encoders cannot be compared: "
			     "the first by %s, the second by %s",
			     da, db);
		return LW_EINVALID;
	}
	return lw_rkme_dist(out, a->rkme, b->rkme);
}
