/*
 * Image RKME JSON in the reference engine's layout (RKMEImageSpecification.save):
 *   {"RKME_IMAGE_VERSION":1,"msg":null,"z":[K][C][32][32],"beta":[K],"n_models":16,
 *    "model_config":{"k":2,"mu":0,"sigma":null,"net_width":128,"net_depth":3},
 *    "type":"RKMEImageSpecification"}
 * Keys in the reference's order, compact separators, each number in its
 * shortest form that reads back bit for bit.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rkme_image.h"
#include "json_out.h"
#include "util.h"

#define TYPE_IMAGE "RKMEImageSpecification"
#define IMAGE_VERSION 1
#define SIDE LW_RKME_IMAGE_SIZE
#define MAX_JSON_BYTES ((size_t)512 << 20)
#define MAX_CELLS ((size_t)1 << 26)
#define MAX_CHANNELS 64

static int fail(const char *source, const char *what)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, what);
	return LW_EINVALID;
}

static int parse_error(const char *source, const json_error_t *je)
{
	const char *near = strstr(je->text, "near '");

	if (near && (!strncmp(near + 6, "NaN", 3) || !strncmp(near + 6, "Infinity", 8) ||
		     !strncmp(near + 6, "-Infinity", 9))) {
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: line %d, column %d: NaN or Infinity in the file; a specification "
			     "must hold finite numbers: regenerate it from data without them",
			     source, je->line, je->column);
		return LW_EINVALID;
	}
	lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, je->line, je->column,
		     je->text);
	return LW_EINVALID;
}

static const char *kind_of(json_t *v)
{
	return !v ? "nothing (missing key)"
	       : json_is_string(v) ? "a string"
	       : json_is_array(v)  ? "an array"
	       : json_is_object(v) ? "an object"
	       : json_is_null(v)   ? "null"
				   : "a boolean";
}

static int get_number(double *out, json_t *v, const char *source, const char *key)
{
	if (!json_is_number(v)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %s must be a number, found %s", source, key,
			     kind_of(v));
		return LW_EINVALID;
	}
	*out = json_number_value(v);
	if (!isfinite(*out)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %s is not finite", source, key);
		return LW_EINVALID;
	}
	return 0;
}

/* A non-negative integer key; `def` when missing and allowed. */
static int get_size(size_t *out, json_t *obj, const char *key, const char *source, int required,
		    size_t def, size_t lo, size_t hi)
{
	json_t *v = json_object_get(obj, key);

	if (!v && !required) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    (uint64_t)json_integer_value(v) > hi) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"%s\" must be an integer from %zu to %zu, found %s",
			     source, key, lo, hi, json_is_integer(v) ? "one out of range" : kind_of(v));
		return LW_EINVALID;
	}
	*out = (size_t)json_integer_value(v);
	return 0;
}

static int check_type(json_t *root, const char *source)
{
	json_t *t = json_object_get(root, "type");
	const char *name = json_string_value(t);
	json_t *ver = json_object_get(root, "RKME_IMAGE_VERSION");

	if (!t)
		return fail(source, "missing key \"type\" (expected \"" TYPE_IMAGE "\")");
	if (!name)
		return fail(source, "key \"type\" must be a string");
	if (strcmp(name, TYPE_IMAGE)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: type \"%s\" is not an image specification "
			     "(expected \"%s\")", source, name, TYPE_IMAGE);
		return LW_EINVALID;
	}
	if (ver && (!json_is_integer(ver) || json_integer_value(ver) != IMAGE_VERSION)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: RKME_IMAGE_VERSION must be %d (this build's "
			     "format)", source, IMAGE_VERSION);
		return LW_EINVALID;
	}
	return 0;
}

/* z: K x C x 32 x 32 nested arrays of finite numbers. */
static int read_z(double **z, size_t *k, size_t *c, json_t *root, const char *source)
{
	json_t *jz = json_object_get(root, "z"), *first;
	size_t cells, at = 0;
	char key[96];
	int err;

	if (!json_is_array(jz) || json_array_size(jz) == 0)
		return fail(source, "\"z\" must be a non-empty array of K images (K x C x 32 x 32)");
	first = json_array_get(jz, 0);
	if (!json_is_array(first) || json_array_size(first) == 0 ||
	    json_array_size(first) > MAX_CHANNELS)
		return fail(source, "z[0] must be an array of 1 to 64 channels of 32 x 32 values");
	*k = json_array_size(jz);
	*c = json_array_size(first);
	if (!lw__mul_ok(&cells, *k, *c * SIDE * SIDE) || cells > MAX_CELLS)
		return fail(source, "\"z\" is too large");
	if (!(*z = lw__mallocarray(cells, sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < *k; i++) {
		json_t *img = json_array_get(jz, i);

		if (!json_is_array(img) || json_array_size(img) != *c) {
			lw_error_set(LW_ERRCLASS_JSON, "%s: z[%zu] must hold %zu channels like z[0]",
				     source, i, *c);
			return LW_EINVALID;
		}
		for (size_t ch = 0; ch < *c; ch++) {
			json_t *plane = json_array_get(img, ch);

			if (!json_is_array(plane) || json_array_size(plane) != SIDE) {
				lw_error_set(LW_ERRCLASS_JSON, "%s: z[%zu][%zu] must be 32 rows of 32 "
					     "values (image specifications are 32 x 32)", source, i, ch);
				return LW_EINVALID;
			}
			for (size_t y = 0; y < SIDE; y++) {
				json_t *row = json_array_get(plane, y);

				if (!json_is_array(row) || json_array_size(row) != SIDE) {
					lw_error_set(LW_ERRCLASS_JSON, "%s: z[%zu][%zu][%zu] must be a row "
						     "of 32 numbers", source, i, ch, y);
					return LW_EINVALID;
				}
				for (size_t x = 0; x < SIDE; x++) {
					json_t *v = json_array_get(row, x);

					if (json_is_number(v) && isfinite(json_number_value(v))) {
						(*z)[at++] = json_number_value(v);
						continue;
					}
					snprintf(key, sizeof(key), "z[%zu][%zu][%zu][%zu]", i, ch, y, x);
					if ((err = get_number(&(*z)[at], v, source, key)) < 0)
						return err;
				}
			}
		}
	}
	return 0;
}

static int read_beta(double *beta, size_t k, json_t *root, const char *source)
{
	json_t *jb = json_object_get(root, "beta");
	char key[32];
	int err;

	if (!json_is_array(jb) || json_array_size(jb) != k) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"beta\" must be an array of %zu numbers, one per "
			     "image of z", source, k);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < k; i++) {
		snprintf(key, sizeof(key), "beta[%zu]", i);
		if ((err = get_number(&beta[i], json_array_get(jb, i), source, key)) < 0)
			return err;
	}
	return 0;
}

/* model_config; missing keys (or the whole object) take the reference's defaults. */
static int read_config(lw_rkme_image_net_config *cfg, json_t *root, const char *source)
{
	lw_rkme_image_net_config def = LW_RKME_IMAGE_NET_CONFIG_INIT;
	json_t *mc = json_object_get(root, "model_config"), *mu, *sigma;
	int err;

	*cfg = def;
	if (!mc || json_is_null(mc))
		return 0;
	if (!json_is_object(mc))
		return fail(source, "\"model_config\" must be an object");
	if ((err = get_size(&cfg->k, mc, "k", source, 0, def.k, 1, 64)) < 0 ||
	    (err = get_size(&cfg->net_width, mc, "net_width", source, 0, def.net_width, 1, 4096)) < 0 ||
	    (err = get_size(&cfg->net_depth, mc, "net_depth", source, 0, def.net_depth, 1, 5)) < 0)
		return err;
	mu = json_object_get(mc, "mu");
	sigma = json_object_get(mc, "sigma");
	if (mu && !json_is_null(mu) &&
	    (err = get_number(&cfg->mu, mu, source, "model_config.mu")) < 0)
		return err;
	if (sigma && !json_is_null(sigma) &&
	    (err = get_number(&cfg->sigma, sigma, source, "model_config.sigma")) < 0)
		return err;
	if (cfg->sigma < 0)
		return fail(source, "model_config.sigma must be null or >= 0");
	return 0;
}

int lw_rkme_image_from_json(lw_rkme_image **out, const char *text, size_t len, const char *source)
{
	lw_rkme_image_net_config cfg;
	json_error_t je;
	json_t *root;
	double *z = NULL, *beta = NULL;
	size_t k = 0, c = 0, n_models;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "specification";
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return parse_error(source, &je);
	if (!json_is_object(root)) {
		err = fail(source, "the top level must be a JSON object");
		goto done;
	}
	if ((err = check_type(root, source)) < 0 || (err = read_z(&z, &k, &c, root, source)) < 0)
		goto done;
	if (!(beta = lw__mallocarray(k, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = read_beta(beta, k, root, source)) < 0 ||
	    (err = get_size(&n_models, root, "n_models", source, 0, 16, 1, 4096)) < 0 ||
	    (err = read_config(&cfg, root, source)) < 0)
		goto done;
	if ((err = lw_rkme_image_new(out, z, beta, k, c, n_models, &cfg)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lw_error_last()->message);
		lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, why);
	}
done:
	free(z);
	free(beta);
	json_decref(root);
	return err;
}

static void write_json(lw__jout *b, const lw_rkme_image *r)
{
	const lw_rkme_image_net_config *mc = &r->model_config;
	const double *z = r->z;

	lw__jout_str(b, "{\"RKME_IMAGE_VERSION\":1,\"msg\":null,\"z\":[");
	for (size_t i = 0; i < r->k; i++) {
		lw__jout_str(b, i ? ",[" : "[");
		for (size_t ch = 0; ch < r->channels; ch++) {
			lw__jout_str(b, ch ? ",[" : "[");
			for (size_t y = 0; y < SIDE; y++) {
				lw__jout_str(b, y ? ",[" : "[");
				for (size_t x = 0; x < SIDE; x++) {
					if (x)
						lw__jout_put(b, ",", 1);
					lw__jout_number(b, *z++);
				}
				lw__jout_put(b, "]", 1);
			}
			lw__jout_put(b, "]", 1);
		}
		lw__jout_put(b, "]", 1);
	}
	lw__jout_str(b, "],\"beta\":[");
	for (size_t i = 0; i < r->k; i++) {
		if (i)
			lw__jout_put(b, ",", 1);
		lw__jout_number(b, r->beta[i]);
	}
	lw__jout_str(b, "],\"n_models\":");
	lw__jout_size(b, r->n_models);
	lw__jout_str(b, ",\"model_config\":{\"k\":");
	lw__jout_size(b, mc->k);
	lw__jout_str(b, ",\"mu\":");
	if (mc->mu == 0)
		lw__jout_str(b, "0");
	else
		lw__jout_number(b, mc->mu);
	lw__jout_str(b, ",\"sigma\":");
	if (mc->sigma > 0)
		lw__jout_number(b, mc->sigma);
	else
		lw__jout_str(b, "null");
	lw__jout_str(b, ",\"net_width\":");
	lw__jout_size(b, mc->net_width);
	lw__jout_str(b, ",\"net_depth\":");
	lw__jout_size(b, mc->net_depth);
	lw__jout_str(b, "},\"type\":\"" TYPE_IMAGE "\"}");
}

int lw_rkme_image_to_json(char **out, const lw_rkme_image *r)
{
	lw__jout b = LW__JOUT_INIT;
	size_t cells;

	LW_ASSERT_ARG(out && r);
	*out = NULL;
	cells = r->k * r->channels * SIDE * SIDE;
	for (size_t i = 0; i < cells; i++)
		if (!isfinite(r->z[i]))
			goto bad;
	for (size_t i = 0; i < r->k; i++)
		if (!isfinite(r->beta[i]))
			goto bad;
	write_json(&b, r);
	if (b.err) {
		free(b.text);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing the specification");
		return LW_ENOMEM;
	}
	*out = b.text;
	return 0;
bad:
	lw_error_set(LW_ERRCLASS_INVALID, "specification holds a non-finite number; not saved");
	return LW_EINVALID;
}

int lw_rkme_image_load(lw_rkme_image **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_JSON_BYTES)) < 0)
		return err;
	err = lw_rkme_image_from_json(out, text, len, path);
	free(text);
	return err;
}

int lw_rkme_image_save(const lw_rkme_image *r, const char *path)
{
	char *text;
	int err;

	LW_ASSERT_ARG(r && path);
	if ((err = lw_rkme_image_to_json(&text, r)) < 0)
		return err;
	err = lw__write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
}
