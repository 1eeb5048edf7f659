/*
 * RKME JSON in the reference engine's layout:
 *   {"z":[[...],...],"beta":[...],"gamma":0.1,"num_points":N,"type":"RKMETableSpecification"}
 * The legacy type name RKMEStatSpecification is read as the same thing.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rkme.h"
#include "json_out.h"
#include "util.h"

#define TYPE_TABLE "RKMETableSpecification"
#define TYPE_LEGACY "RKMEStatSpecification"
/* Largest specification file read: the reference caps K*d at 1310720 cells. */
#define MAX_JSON_BYTES ((size_t)256 << 20)
#define MAX_CELLS ((size_t)1 << 26)

static int json_fail(const char *source, const char *fmt, const char *detail)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s%s", source, fmt, detail ? detail : "");
	return LW_EINVALID;
}

/*
 * Python's json module writes NaN and Infinity, which are not JSON; name
 * them plainly instead of passing on jansson's "invalid token".
 */
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

static int get_number(double *out, json_t *v, const char *source, const char *key)
{
	if (!json_is_number(v)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %s must be a number, found %s", source, key,
			     v ? (json_is_string(v) ? "a string" : json_is_array(v) ? "an array"
							: json_is_object(v)  ? "an object"
									     : "null or a boolean")
			       : "nothing (missing key)");
		return LW_EINVALID;
	}
	*out = json_number_value(v);
	if (!isfinite(*out)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %s is not finite", source, key);
		return LW_EINVALID;
	}
	return 0;
}

static int check_type(json_t *root, const char *source)
{
	json_t *t = json_object_get(root, "type");
	const char *name = json_string_value(t);

	if (!t)
		return json_fail(source, "missing key \"type\" (expected \"" TYPE_TABLE "\")", NULL);
	if (!name)
		return json_fail(source, "key \"type\" must be a string", NULL);
	if (strcmp(name, TYPE_TABLE) && strcmp(name, TYPE_LEGACY)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: type \"%s\" is not a table specification (expected \"%s\")",
			     source, name, TYPE_TABLE);
		return LW_EINVALID;
	}
	return 0;
}

/* z: a non-empty array of equally long, non-empty arrays of finite numbers. */
static int read_z(lw_mat *z, json_t *root, const char *source)
{
	json_t *jz = json_object_get(root, "z"), *row0;
	size_t k, d, cells;
	char key[64];
	int err;

	if (!json_is_array(jz) || json_array_size(jz) == 0)
		return json_fail(source, "\"z\" must be a non-empty array of rows", NULL);
	k = json_array_size(jz);
	row0 = json_array_get(jz, 0);
	if (!json_is_array(row0) || (d = json_array_size(row0)) == 0)
		return json_fail(source, "\"z\" rows must be non-empty arrays of numbers (z[0] is not)",
				 NULL);
	if (!lw__mul_ok(&cells, k, d) || cells > MAX_CELLS)
		return json_fail(source, "\"z\" is too large", NULL);
	if ((err = lw_mat_init(z, k, d)) < 0)
		return err;
	for (size_t i = 0; i < k; i++) {
		json_t *row = json_array_get(jz, i);

		if (!json_is_array(row) || json_array_size(row) != d) {
			lw_error_set(LW_ERRCLASS_JSON, "%s: z[%zu] must be an array of %zu numbers like z[0]",
				     source, i, d);
			return LW_EINVALID;
		}
		for (size_t j = 0; j < d; j++) {
			snprintf(key, sizeof(key), "z[%zu][%zu]", i, j);
			if ((err = get_number(&lw_mat_row(z, i)[j], json_array_get(row, j), source, key)) < 0)
				return err;
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
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"beta\" must be an array of %zu numbers, one per row of z",
			     source, k);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < k; i++) {
		snprintf(key, sizeof(key), "beta[%zu]", i);
		if ((err = get_number(&beta[i], json_array_get(jb, i), source, key)) < 0)
			return err;
	}
	return 0;
}

static int read_scalars(lw_rkme *r, json_t *root, const char *source)
{
	json_t *jn = json_object_get(root, "num_points");
	int err;

	if ((err = get_number(&r->gamma, json_object_get(root, "gamma"), source, "\"gamma\"")) < 0)
		return err;
	if (!(r->gamma > 0))
		return json_fail(source, "\"gamma\" must be positive", NULL);
	/* Older files may lack num_points; it is informative only. */
	if (jn && (!json_is_integer(jn) || json_integer_value(jn) < 0))
		return json_fail(source, "\"num_points\" must be a non-negative integer", NULL);
	r->num_points = jn ? (size_t)json_integer_value(jn) : 0;
	return 0;
}

int lw_rkme_from_json(lw_rkme **out, const char *text, size_t len, const char *source)
{
	json_error_t je;
	json_t *root;
	lw_rkme *r = NULL;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "specification";
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return parse_error(source, &je);
	if (!json_is_object(root)) {
		err = json_fail(source, "the top level must be a JSON object", NULL);
		goto done;
	}
	if (!(r = lw__calloc(1, sizeof(*r)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = check_type(root, source)) < 0 || (err = read_z(&r->z, root, source)) < 0)
		goto done;
	if (!(r->beta = lw__mallocarray(r->z.rows, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = read_beta(r->beta, r->z.rows, root, source)) < 0 ||
	    (err = read_scalars(r, root, source)) < 0 || (err = lw__rkme_finish(r)) < 0)
		goto done;
	*out = r;
	r = NULL;
done:
	lw_rkme_free(r);
	json_decref(root);
	return err;
}

/*
 * The reference's layout, key order and compact separators, with each
 * number in its shortest form that reads back bit for bit.
 */
static void write_json(lw__jout *b, const lw_rkme *r)
{
	char num[32];

	lw__jout_str(b, "{\"z\":[");
	for (size_t i = 0; i < r->z.rows; i++) {
		lw__jout_str(b, i ? ",[" : "[");
		for (size_t j = 0; j < r->z.cols; j++) {
			if (j)
				lw__jout_put(b, ",", 1);
			lw__jout_number(b, lw_mat_row(&r->z, i)[j]);
		}
		lw__jout_put(b, "]", 1);
	}
	lw__jout_str(b, "],\"beta\":[");
	for (size_t i = 0; i < r->z.rows; i++) {
		if (i)
			lw__jout_put(b, ",", 1);
		lw__jout_number(b, r->beta[i]);
	}
	lw__jout_str(b, "],\"gamma\":");
	lw__jout_number(b, r->gamma);
	snprintf(num, sizeof(num), "%zu", r->num_points);
	lw__jout_str(b, ",\"num_points\":");
	lw__jout_str(b, num);
	lw__jout_str(b, ",\"type\":\"" TYPE_TABLE "\"}");
}

static int check_finite(const lw_rkme *r)
{
	for (size_t i = 0; i < r->z.rows * r->z.cols; i++)
		if (!isfinite(r->z.data[i]))
			goto bad;
	for (size_t i = 0; i < r->z.rows; i++)
		if (!isfinite(r->beta[i]))
			goto bad;
	if (isfinite(r->gamma))
		return 0;
bad:
	lw_error_set(LW_ERRCLASS_INVALID, "specification holds a non-finite number; not saved");
	return LW_EINVALID;
}

int lw_rkme_to_json(char **out, const lw_rkme *r)
{
	lw__jout b = LW__JOUT_INIT;
	int err;

	LW_ASSERT_ARG(out && r);
	*out = NULL;
	if ((err = check_finite(r)) < 0)
		return err;
	write_json(&b, r);
	if (b.err) {
		free(b.text);
		return LW_ENOMEM;
	}
	*out = b.text;
	return 0;
}

int lw_rkme_load(lw_rkme **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_JSON_BYTES)) < 0)
		return err;
	err = lw_rkme_from_json(out, text, len, path);
	free(text);
	return err;
}

int lw_rkme_save(const lw_rkme *r, const char *path)
{
	char *text;
	int err;

	LW_ASSERT_ARG(r && path);
	if ((err = lw_rkme_to_json(&text, r)) < 0)
		return err;
	err = lw__write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
}
