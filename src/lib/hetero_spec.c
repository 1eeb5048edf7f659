/*
 * Heterogeneous specifications (an RKME's points mapped into the shared
 * space), their JSON, and the rules saying when heterogeneous search
 * applies.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetero.h"
#include "rkme.h"
#include "json_out.h"
#include "util.h"

#define MAX_JSON_BYTES ((size_t)256 << 20)
#define MAX_CELLS ((size_t)1 << 26)

/* ---- specifications -------------------------------------------------- */

int lw_hetero_spec_new(lw_hetero_spec **out, const lw_hetero_map *map, const lw_rkme *rkme,
		       const lw_mat *columns)
{
	lw_hetero_spec *s = NULL;
	lw_mat Y = LW_MAT_INIT;
	double *mean = NULL, *std = NULL;
	size_t d;
	int err = LW_ENOMEM;

	LW_ASSERT_ARG(out && map && rkme);
	*out = NULL;
	d = lw_rkme_dim(rkme);
	if (lw_rkme_k(rkme) == 0 || d == 0)
		return lw__invalid("hetero specification: the RKME has no points");
	if (!(mean = lw__mallocarray(d, sizeof(double))) ||
	    !(std = lw__mallocarray(d, sizeof(double))) || !(s = lw__calloc(1, sizeof(*s))))
		goto done;
	if ((err = lw_hetero_stats(mean, std, &rkme->z, rkme->beta)) < 0 ||
	    (err = lw_hetero_map_apply(&Y, map, &rkme->z, columns, mean, std)) < 0 ||
	    (err = lw_rkme_new(&s->rkme, &Y, rkme->beta, map->gamma, rkme->num_points)) < 0)
		goto done;
	memcpy(s->map_id, map->id, LW_HETERO_ID_SIZE);
	s->map_generation = map->generation;
	*out = s;
	s = NULL;
	err = 0;
done:
	lw_hetero_spec_free(s);
	lw_mat_dispose(&Y);
	free(mean);
	free(std);
	return err;
}

int lw_hetero_columns(lw_mat *out, const lw_text_encoder *enc, const lw_semantic *s, size_t dim)
{
	const char **texts;
	int err;

	LW_ASSERT_ARG(out && s);
	memset(out, 0, sizeof(*out));
	if (dim == 0)
		return lw__invalid("hetero columns: the table has no columns");
	if (!(texts = lw__mallocarray(dim, sizeof(*texts))))
		return LW_ENOMEM;
	for (size_t i = 0; i < dim; i++) {
		const char *t = lw_semantic_feature(s, LW_SEMANTIC_INPUT, i);

		texts[i] = t && *t ? t : "Unknown Feature";
	}
	err = lw_text_encode(out, enc, texts, NULL, dim);
	free(texts);
	return err;
}

int lw_hetero_spec_from_semantic(lw_hetero_spec **out, const lw_hetero_map *map,
				 const lw_rkme *rkme, const lw_semantic *s,
				 const lw_text_encoder *enc)
{
	lw_mat cols = LW_MAT_INIT;
	int err;

	LW_ASSERT_ARG(out && map && rkme && s);
	*out = NULL;
	if ((err = lw_hetero_columns(&cols, enc, s, lw_rkme_dim(rkme))) < 0)
		return err;
	err = lw_hetero_spec_new(out, map, rkme, &cols);
	lw_mat_dispose(&cols);
	return err;
}

void lw_hetero_spec_free(lw_hetero_spec *spec)
{
	if (!spec)
		return;
	lw_rkme_free(spec->rkme);
	free(spec);
}

int lw_hetero_spec_is_current(const lw_hetero_spec *spec, const lw_hetero_map *map)
{
	return spec && map && spec->map_id[0] && !strcmp(spec->map_id, map->id);
}

int lw_hetero_spec_dist(double *out, const lw_hetero_spec *a, const lw_hetero_spec *b)
{
	LW_ASSERT_ARG(out && a && b && a->rkme && b->rkme);
	if (a->map_id[0] && b->map_id[0] && strcmp(a->map_id, b->map_id)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "hetero specifications made by two different maps (%s and %s) cannot "
			     "be compared: make both again with the current map",
			     a->map_id, b->map_id);
		return LW_EINVALID;
	}
	if (lw_rkme_dim(a->rkme) != lw_rkme_dim(b->rkme)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "hetero specifications of dimensions %zu and %zu cannot be compared",
			     lw_rkme_dim(a->rkme), lw_rkme_dim(b->rkme));
		return LW_EINVALID;
	}
	return lw_rkme_dist(out, a->rkme, b->rkme);
}

/* ---- JSON ------------------------------------------------------------ */

int lw_hetero_spec_to_json(char **out, const lw_hetero_spec *spec)
{
	const lw_rkme *r;
	lw__jout b = LW__JOUT_INIT;
	char num[64];

	LW_ASSERT_ARG(out && spec && spec->rkme);
	*out = NULL;
	r = spec->rkme;
	for (size_t i = 0; i < r->z.rows * r->z.cols; i++)
		if (!isfinite(r->z.data[i]))
			return lw__invalid("hetero specification holds a non-finite number; not saved");
	for (size_t i = 0; i < r->z.rows; i++)
		if (!isfinite(r->beta[i]))
			return lw__invalid("hetero specification holds a non-finite number; not saved");
	lw__jout_str(&b, "{\"z\":[");
	for (size_t i = 0; i < r->z.rows; i++) {
		lw__jout_str(&b, i ? ",[" : "[");
		for (size_t j = 0; j < r->z.cols; j++) {
			if (j)
				lw__jout_put(&b, ",", 1);
			lw__jout_number(&b, lw_mat_row(&r->z, i)[j]);
		}
		lw__jout_put(&b, "]", 1);
	}
	lw__jout_str(&b, "],\"beta\":[");
	for (size_t i = 0; i < r->z.rows; i++) {
		if (i)
			lw__jout_put(&b, ",", 1);
		lw__jout_number(&b, r->beta[i]);
	}
	lw__jout_str(&b, "],\"embedding\":null,\"weight\":null,\"gamma\":");
	lw__jout_number(&b, r->gamma);
	snprintf(num, sizeof(num), ",\"num_points\":%zu", r->num_points);
	lw__jout_str(&b, num);
	lw__jout_str(&b, ",\"type\":\"" LW_HETERO_SPEC_TYPE "\"");
	if (spec->map_id[0]) {
		lw__jout_str(&b, ",\"map_id\":\"");
		lw__jout_str(&b, spec->map_id);
		snprintf(num, sizeof(num), "\",\"map_generation\":%llu",
			 (unsigned long long)spec->map_generation);
		lw__jout_str(&b, num);
	}
	lw__jout_str(&b, "}");
	if (b.err) {
		free(b.text);
		return LW_ENOMEM;
	}
	*out = b.text;
	return 0;
}

static int json_bad(const char *source, const char *what)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, what);
	return LW_EINVALID;
}

static const char *kind_of(const json_t *v)
{
	return !v			? "nothing (missing key)"
	       : json_is_string(v)	? "a string"
	       : json_is_array(v)	? "an array"
	       : json_is_object(v)	? "an object"
	       : json_is_boolean(v)	? "a boolean"
	       : json_is_null(v)	? "null"
					: "a number";
}

static int get_number(double *out, const json_t *v, const char *source, const char *key)
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

static int read_points(lw_mat *z, double **beta, json_t *root, const char *source)
{
	json_t *jz = json_object_get(root, "z"), *jb = json_object_get(root, "beta"), *row0;
	size_t k, d, cells;
	char key[64];
	int err;

	if (!json_is_array(jz) || json_array_size(jz) == 0)
		return json_bad(source, "\"z\" must be a non-empty array of rows");
	k = json_array_size(jz);
	row0 = json_array_get(jz, 0);
	if (!json_is_array(row0) || (d = json_array_size(row0)) == 0)
		return json_bad(source, "\"z\" rows must be non-empty arrays of numbers (z[0] is not)");
	if (!lw__mul_ok(&cells, k, d) || cells > MAX_CELLS)
		return json_bad(source, "\"z\" is too large");
	if ((err = lw_mat_init(z, k, d)) < 0)
		return err;
	for (size_t i = 0; i < k; i++) {
		json_t *row = json_array_get(jz, i);

		if (!json_is_array(row) || json_array_size(row) != d) {
			lw_error_set(LW_ERRCLASS_JSON,
				     "%s: z[%zu] must be an array of %zu numbers like z[0]", source, i,
				     d);
			return LW_EINVALID;
		}
		for (size_t j = 0; j < d; j++) {
			snprintf(key, sizeof(key), "z[%zu][%zu]", i, j);
			if ((err = get_number(&lw_mat_row(z, i)[j], json_array_get(row, j), source,
					      key)) < 0)
				return err;
		}
	}
	if (!json_is_array(jb) || json_array_size(jb) != k) {
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: \"beta\" must be an array of %zu numbers, one per row of z", source,
			     k);
		return LW_EINVALID;
	}
	if (!(*beta = lw__mallocarray(k, sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < k; i++) {
		snprintf(key, sizeof(key), "beta[%zu]", i);
		if ((err = get_number(&(*beta)[i], json_array_get(jb, i), source, key)) < 0)
			return err;
	}
	return 0;
}

static int read_map_fields(lw_hetero_spec *s, json_t *root, const char *source)
{
	json_t *id = json_object_get(root, "map_id"), *gen = json_object_get(root, "map_generation");
	const char *t;

	if (id && !json_is_null(id)) {
		if (!(t = json_string_value(id)) || strlen(t) != LW_HETERO_ID_SIZE - 1 ||
		    strspn(t, "0123456789abcdef") != LW_HETERO_ID_SIZE - 1)
			return json_bad(source, "\"map_id\" must be 16 lowercase hex digits");
		memcpy(s->map_id, t, LW_HETERO_ID_SIZE);
	}
	if (gen && !json_is_null(gen)) {
		if (!json_is_integer(gen) || json_integer_value(gen) < 0)
			return json_bad(source, "\"map_generation\" must be a non-negative integer");
		s->map_generation = (uint64_t)json_integer_value(gen);
	}
	return 0;
}

int lw_hetero_spec_from_json(lw_hetero_spec **out, const char *text, size_t len,
			     const char *source)
{
	json_error_t je;
	json_t *root, *type, *jn;
	lw_hetero_spec *s = NULL;
	lw_mat z = LW_MAT_INIT;
	double *beta = NULL, gamma;
	size_t num_points;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "hetero specification";
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, je.line,
			     je.column, je.text);
		return LW_EINVALID;
	}
	if (!json_is_object(root)) {
		err = json_bad(source, "the top level must be a JSON object");
		goto done;
	}
	type = json_object_get(root, "type");
	if (!json_is_string(type) || strcmp(json_string_value(type), LW_HETERO_SPEC_TYPE)) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"type\" must be \"%s\", found %s%s%s", source,
			     LW_HETERO_SPEC_TYPE, json_is_string(type) ? "\"" : kind_of(type),
			     json_is_string(type) ? json_string_value(type) : "",
			     json_is_string(type) ? "\"" : "");
		err = LW_EINVALID;
		goto done;
	}
	if ((err = read_points(&z, &beta, root, source)) < 0 ||
	    (err = get_number(&gamma, json_object_get(root, "gamma"), source, "\"gamma\"")) < 0)
		goto done;
	if (!(gamma > 0)) {
		err = json_bad(source, "\"gamma\" must be positive");
		goto done;
	}
	jn = json_object_get(root, "num_points");
	if (jn && (!json_is_integer(jn) || json_integer_value(jn) < 0)) {
		err = json_bad(source, "\"num_points\" must be a non-negative integer");
		goto done;
	}
	num_points = jn ? (size_t)json_integer_value(jn) : 0;
	if (!(s = lw__calloc(1, sizeof(*s)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = read_map_fields(s, root, source)) < 0 ||
	    (err = lw_rkme_new(&s->rkme, &z, beta, gamma, num_points)) < 0)
		goto done;
	*out = s;
	s = NULL;
	err = 0;
done:
	lw_hetero_spec_free(s);
	lw_mat_dispose(&z);
	free(beta);
	json_decref(root);
	return err;
}

int lw_hetero_spec_save(const lw_hetero_spec *spec, const char *path)
{
	char *text;
	int err;

	LW_ASSERT_ARG(spec && path);
	if ((err = lw_hetero_spec_to_json(&text, spec)) < 0)
		return err;
	err = lw__write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
}

int lw_hetero_spec_load(lw_hetero_spec **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_JSON_BYTES)) < 0)
		return err;
	err = lw_hetero_spec_from_json(out, text, len, path);
	free(text);
	return err;
}

/* ---- when heterogeneous search applies ------------------------------- */

/* Values of a key: none, or exactly one equal to one of the allowed (NULL-ended). */
static int empty_or_one_of(const lw_semantic *s, const char *key, const char *const *allowed)
{
	size_t n;
	const char *const *v = lw_semantic_values(&n, s, key);

	if (n == 0)
		return 1;
	if (n != 1 || !v[0])
		return 0;
	for (; *allowed; allowed++)
		if (!strcmp(v[0], *allowed))
			return 1;
	return 0;
}

int lw_hetero_user_applies(const lw_semantic *user, const lw_rkme *table_spec, const char **why)
{
	static const char *const data_ok[] = { "Table", NULL };
	static const char *const task_ok[] = { "Classification", "Regression", NULL };
	const char *reason = "applies";
	size_t dim = 0, described = 0;
	int ok = 0;

	if (!table_spec || lw_rkme_k(table_spec) == 0)
		reason = "the user has no table specification";
	else if (!user)
		reason = "the user has no semantic specification";
	else if (!empty_or_one_of(user, "Data", data_ok))
		reason = "the user's Data type is not Table";
	else if (!empty_or_one_of(user, "Task", task_ok))
		reason = "the user's Task is neither Classification nor Regression";
	else if (lw_semantic_dim(&dim, user, LW_SEMANTIC_INPUT) < 0)
		reason = "the user's semantic specification has no Input.Dimension";
	else {
		for (size_t i = 0; i < dim; i++)
			described += lw_semantic_feature(user, LW_SEMANTIC_INPUT, i) != NULL;
		if (described == 0)
			reason = "the user describes none of the input features (Input.Description)";
		else if (dim != lw_rkme_dim(table_spec))
			reason = "the user's Input.Dimension differs from the table specification's";
		else
			ok = 1;
	}
	if (why)
		*why = reason;
	if (!ok)
		lw_error_clear();
	return ok;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Equal texts ignoring case, leading and trailing space and runs of white space. */
static int same_text(const char *a, const char *b)
{
	for (;;) {
		a = skip_space(a);
		b = skip_space(b);
		if (!*a || !*b)
			return !*a && !*b;
		for (; *a && !isspace((unsigned char)*a) && *b && !isspace((unsigned char)*b); a++, b++)
			if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
				return 0;
		if ((*a && !isspace((unsigned char)*a)) || (*b && !isspace((unsigned char)*b)))
			return 0;
	}
}

int lw_hetero_is_candidate(const lw_semantic *user, size_t user_dim, const lw_semantic *learnware,
			   size_t learnware_dim)
{
	if (user_dim != learnware_dim)
		return 1;
	for (size_t i = 0; i < user_dim; i++) {
		const char *a = user ? lw_semantic_feature(user, LW_SEMANTIC_INPUT, i) : NULL;
		const char *b = learnware ? lw_semantic_feature(learnware, LW_SEMANTIC_INPUT, i) : NULL;

		if (!a || !b || !same_text(a, b))
			return 1;
	}
	return 0;
}
