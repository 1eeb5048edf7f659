/*
 * learnware.yaml: parsed with libfyaml into lw_manifest (docs/package.md
 * has the schema), written back as YAML, and the files it names.
 *
 * The reference engine reads this file with PyYAML and ignores keys it does
 * not know, so unknown keys are kept as warnings rather than errors; a key
 * it does know with a wrong type or value is an error naming the key.
 * Aliases are refused outright: a manifest has no use for them and they
 * are how YAML bombs are built.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libfyaml.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "package.h"
#include "util.h"

#define MAX_STRING 4096    /* names, paths, class names */
#define MAX_LIST 256       /* stat specifications, command arguments */
#define MAX_DIM 1000000000 /* one shape dimension */
#define MAX_WARNINGS 32
#define MAX_DEPTH 64       /* nesting inside kwargs */

#define DEFAULT_CLASS "Model"
#define DEFAULT_MODULE "__init__.py"
#define DEFAULT_SPEC_MODULE "learnware.specification"
#define DEFAULT_SPEC_CLASS "RKMETableSpecification"
#define DEFAULT_SPEC_FILE "stat_spec.json"
#define DEFAULT_SEMANTIC_FILE "semantic_specification.json"
#define KIND_LIST "linear, logistic, mlp, xgboost, process, python"

typedef struct {
	const char *source; /* names the file in messages */
	lw_manifest *m;
	int specs_given;
	int depth; /* of the kwargs value being converted */
} ctx;

/* A value in the document and the key path that reached it ("model.kind"). */
typedef struct {
	char key[160];
	struct fy_node *v;
	int line; /* of the key, 1-based; 0 when unknown */
} field;

static int bad(const ctx *c, const field *f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int bad(const ctx *c, const field *f, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->line > 0)
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: %s (line %d)", c->source, f->key, msg,
			     f->line);
	else
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: %s", c->source, f->key, msg);
	return LW_EINVALID;
}

int lw__manifest_warn(lw_manifest *m, const char *fmt, ...)
{
	char msg[512], **grown;
	va_list ap;

	if (m->num_warnings >= MAX_WARNINGS)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!(grown = lw__reallocarray(m->warnings, m->num_warnings + 1, sizeof(*grown))))
		return LW_ENOMEM;
	m->warnings = grown;
	if (!(grown[m->num_warnings] = lw__strdup(msg)))
		return LW_ENOMEM;
	m->num_warnings++;
	return 0;
}

static int node_line(struct fy_node *n)
{
	struct fy_token *t = n && fy_node_is_scalar(n) ? fy_node_get_scalar_token(n) : NULL;
	const struct fy_mark *mk = t ? fy_token_start_mark(t) : NULL;

	return mk ? mk->line + 1 : 0;
}

static const char *node_kind(struct fy_node *n)
{
	if (fy_node_is_alias(n))
		return "an alias";
	if (fy_node_is_mapping(n))
		return "a mapping";
	if (fy_node_is_sequence(n))
		return "a list";
	return "a scalar";
}

static int is_null(struct fy_node *n)
{
	static const char *const nulls[] = { "~", "null", "Null", "NULL" };
	const char *s;
	size_t len;

	if (!n)
		return 1;
	if (!fy_node_is_scalar(n) || fy_node_is_alias(n) || fy_node_get_style(n) != FYNS_PLAIN)
		return 0;
	s = fy_node_get_scalar(n, &len);
	if (!s || len == 0)
		return 1;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (len == strlen(nulls[i]) && !memcmp(s, nulls[i], len))
			return 1;
	return 0;
}

size_t lw__utf8_prefix(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char b = s[i];
		size_t k;
		uint32_t cp;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			k = 1, cp = b & 0x1f;
		else if (b >= 0xe0 && b <= 0xef)
			k = 2, cp = b & 0x0f;
		else if (b >= 0xf0 && b <= 0xf4)
			k = 3, cp = b & 0x07;
		else
			return i;
		if (n - i <= k)
			return i;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += k + 1;
	}
	return n;
}

static int utf8_ok(const unsigned char *s, size_t n)
{
	return lw__utf8_prefix(s, n) == n;
}

/* Scalar text that is valid UTF-8 without NUL; control bytes only when allowed. */
static int scalar_bytes(const char **out, size_t *len, const ctx *c, const field *f,
			int allow_control)
{
	const char *s;

	if (fy_node_is_alias(f->v))
		return bad(c, f, "aliases (*name) are not supported; write the value out");
	if (!fy_node_is_scalar(f->v))
		return bad(c, f, "must be a single value, found %s", node_kind(f->v));
	if (!(s = fy_node_get_scalar(f->v, len)))
		s = "", *len = 0;
	if (memchr(s, '\0', *len))
		return bad(c, f, "holds a NUL character");
	if (!utf8_ok((const unsigned char *)s, *len))
		return bad(c, f, "is not valid UTF-8");
	for (size_t i = 0; !allow_control && i < *len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad(c, f, "holds a control character (byte 0x%02x)",
				   (unsigned)(unsigned char)s[i]);
	*out = s;
	return 0;
}

/* A non-empty string; *out stays as it is for a YAML null. */
static int get_string(char **out, const ctx *c, const field *f)
{
	const char *s;
	size_t len;
	int err;

	if (is_null(f->v))
		return 0;
	if ((err = scalar_bytes(&s, &len, c, f, 0)) < 0)
		return err;
	if (len == 0)
		return bad(c, f, "must not be empty");
	if (len > MAX_STRING)
		return bad(c, f, "is %zu bytes long, over the limit of %d", len, MAX_STRING);
	free(*out);
	if (!(*out = lw__mallocarray(len + 1, 1)))
		return LW_ENOMEM;
	memcpy(*out, s, len);
	(*out)[len] = '\0';
	return 0;
}

/* A relative path inside the package, normalised. */
static int get_path(char **out, const ctx *c, const field *f)
{
	char *raw = NULL, *norm;
	const char *why = NULL;
	int err;

	if ((err = get_string(&raw, c, f)) < 0 || !raw)
		return err;
	norm = lw__path_normalise(raw, &why);
	if (!norm) {
		err = why ? bad(c, f, "'%.200s' %s; name a file inside the package", raw, why)
			  : LW_ENOMEM;
		free(raw);
		return err;
	}
	free(raw);
	free(*out);
	*out = norm;
	return 0;
}

static int is_identifier(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

static int get_class_name(char **out, const ctx *c, const field *f)
{
	int err = get_string(out, c, f);

	if (err == 0 && *out && !is_identifier(*out))
		return bad(c, f, "'%.200s' is not a Python class name", *out);
	return err;
}

/* A plain decimal integer in [lo, hi]. */
static int get_uint(size_t *out, const ctx *c, const field *f, size_t lo, size_t hi)
{
	const char *s;
	size_t len, v = 0;
	int err;

	if ((err = scalar_bytes(&s, &len, c, f, 0)) < 0)
		return err;
	if (len == 0 || len > 12 || fy_node_get_style(f->v) != FYNS_PLAIN)
		goto not_int;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto not_int;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return bad(c, f, "%zu is out of range (%zu to %zu)", v, lo, hi);
	*out = v;
	return 0;
not_int:
	return bad(c, f, "'%.*s' is not a whole number", (int)(len > 40 ? 40 : len), s);
}

/* 1 for a YAML null (the caller keeps its default), 0 for a mapping. */
static int expect_map(const ctx *c, const field *f)
{
	if (is_null(f->v))
		return 1;
	if (fy_node_is_alias(f->v))
		return bad(c, f, "aliases (*name) are not supported; write the value out");
	if (!fy_node_is_mapping(f->v))
		return bad(c, f, "must be a mapping of keys, found %s", node_kind(f->v));
	return 0;
}

static int expect_list(const ctx *c, const field *f, size_t max)
{
	int n;

	if (fy_node_is_alias(f->v))
		return bad(c, f, "aliases (*name) are not supported; write the value out");
	if (!fy_node_is_sequence(f->v))
		return bad(c, f, "must be a list, found %s", node_kind(f->v));
	n = fy_node_sequence_item_count(f->v);
	if (n < 0 || (size_t)n > max)
		return bad(c, f, "has %d items, over the limit of %zu", n, max);
	return 0;
}

static void item_field(field *item, const field *list, size_t i, struct fy_node *v)
{
	snprintf(item->key, sizeof(item->key), "%.130s[%zu]", list->key, i);
	item->v = v;
	item->line = node_line(v) ? node_line(v) : list->line;
}

/* name: the key, NUL-terminated; f: its value, key path extended. */
typedef int (*key_fn)(ctx *c, const char *name, const field *f, void *target);

/* Call fn for each key of the mapping map. */
static int each_key(ctx *c, const field *map, key_fn fn, void *target)
{
	struct fy_node_pair *p;
	void *iter = NULL;
	int err;

	while ((p = fy_node_mapping_iterate(map->v, &iter))) {
		struct fy_node *k = fy_node_pair_key(p);
		field key = { "", k, node_line(k) ? node_line(k) : map->line }, f;
		const char *name;
		size_t len;

		snprintf(key.key, sizeof(key.key), "%s", map->key);
		if (!k || !fy_node_is_scalar(k))
			return bad(c, &key, "keys must be plain names, found %s",
				   k ? node_kind(k) : "an empty key");
		if ((err = scalar_bytes(&name, &len, c, &key, 0)) < 0)
			return err;
		if (!(name = fy_node_get_scalar0(k)))
			return LW_ENOMEM;
		snprintf(f.key, sizeof(f.key), "%.90s%s%.*s", map->key, map->key[0] ? "." : "",
			 (int)(len < 64 ? len : 64), name);
		f.v = fy_node_pair_value(p);
		f.line = key.line;
		if ((err = fn(c, name, &f, target)) < 0)
			return err;
	}
	return 0;
}

static int unknown_key(ctx *c, const field *f)
{
	if (f->line > 0)
		return lw__manifest_warn(c->m, "%s: %s: unknown key, ignored (line %d)", c->source,
					 f->key, f->line);
	return lw__manifest_warn(c->m, "%s: %s: unknown key, ignored", c->source, f->key);
}

/* --- kwargs: YAML values resolved as PyYAML resolves them, kept as JSON ------------ */

static int match_int(const char *s)
{
	s += *s == '-' || *s == '+';
	if (*s == '0')
		return s[1] == '\0';
	if (*s < '1' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	return *s == '\0';
}

/* [-+]? digits with a '.' or an exponent (YAML 1.1 and 1.2 floats alike). */
static int match_float(const char *s)
{
	int digits = 0, dot = 0;

	s += *s == '-' || *s == '+';
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
		if (*s == '.')
			dot = 1;
		else
			digits++;
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
		return *s == '\0';
	}
	return dot && *s == '\0';
}

static int in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return 1;
	return 0;
}

static int plain_to_json(json_t **out, const ctx *c, const field *f, const char *s, size_t len)
{
	static const char *const trues[] = { "true", "True", "TRUE", "yes", "Yes", "YES",
					     "on",   "On",   "ON",   NULL };
	static const char *const falses[] = { "false", "False", "FALSE", "no", "No", "NO",
					      "off",   "Off",   "OFF",   NULL };
	static const char *const specials[] = { ".inf",  ".Inf",  ".INF", "+.inf", "-.inf", "-.Inf",
						"-.INF", ".nan",  ".NaN", ".NAN",  NULL };
	char buf[64];

	/* Nothing this long is a number or a keyword. */
	if (len >= sizeof(buf))
		return (*out = json_stringn(s, len)) ? 0 : LW_ENOMEM;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (in_list(buf, trues) || in_list(buf, falses)) {
		*out = json_boolean(in_list(buf, trues));
	} else if (in_list(buf, specials)) {
		return bad(c, f, "'%s' is not a finite number, which JSON cannot hold", buf);
	} else if (match_int(buf)) {
		long long v;

		errno = 0;
		v = strtoll(buf, NULL, 10);
		*out = errno == ERANGE ? json_real(strtod(buf, NULL)) : json_integer(v);
	} else if (match_float(buf) && isfinite(strtod(buf, NULL))) {
		*out = json_real(strtod(buf, NULL));
	} else {
		*out = json_stringn(s, len);
	}
	return *out ? 0 : LW_ENOMEM;
}

static int to_json(json_t **out, ctx *c, const field *f);

static int seq_to_json(json_t *arr, ctx *c, const field *f)
{
	struct fy_node *item;
	void *iter = NULL;
	size_t i = 0;
	int err;

	while ((item = fy_node_sequence_iterate(f->v, &iter))) {
		field sub;
		json_t *j;

		item_field(&sub, f, i++, item);
		if ((err = to_json(&j, c, &sub)) < 0)
			return err;
		if (json_array_append_new(arr, j) < 0)
			return LW_ENOMEM;
	}
	return 0;
}

static int member_to_json(ctx *c, const char *name, const field *f, void *obj)
{
	json_t *j;
	int err;

	if ((err = to_json(&j, c, f)) < 0)
		return err;
	return json_object_set_new(obj, name, j) < 0 ? LW_ENOMEM : 0;
}

static int to_json(json_t **out, ctx *c, const field *f)
{
	const char *s;
	size_t len;
	int err;

	*out = NULL;
	if (is_null(f->v))
		return (*out = json_null()) ? 0 : LW_ENOMEM;
	if (fy_node_is_alias(f->v))
		return bad(c, f, "aliases (*name) are not supported; write the value out");
	if (fy_node_is_scalar(f->v)) {
		if ((err = scalar_bytes(&s, &len, c, f, 1)) < 0)
			return err;
		if (fy_node_get_style(f->v) != FYNS_PLAIN)
			return (*out = json_stringn(s, len)) ? 0 : LW_ENOMEM;
		return plain_to_json(out, c, f, s, len);
	}
	if (c->depth >= MAX_DEPTH)
		return bad(c, f, "is nested more than %d levels deep", MAX_DEPTH);
	if (!(*out = fy_node_is_mapping(f->v) ? json_object() : json_array()))
		return LW_ENOMEM;
	c->depth++;
	err = fy_node_is_mapping(f->v) ? each_key(c, f, member_to_json, *out)
				       : seq_to_json(*out, c, f);
	c->depth--;
	if (err < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return err;
}

/* kwargs: a mapping (or null: {}) stored as compact JSON. */
static int get_kwargs(char **out, ctx *c, const field *f)
{
	json_t *j = NULL;
	char *text;
	int err;

	if ((err = expect_map(c, f)) < 0)
		return err;
	if (err == 0 && (err = to_json(&j, c, f)) < 0)
		return err;
	text = j ? json_dumps(j, JSON_COMPACT) : lw__strdup("{}");
	json_decref(j);
	if (!text)
		return LW_ENOMEM;
	free(*out);
	*out = text;
	return 0;
}

/* --- the schema -------------------------------------------------------------------- */

/* A shape: a list of positive integers, or one integer for a single dimension. */
static int get_shape(size_t *shape, size_t *ndim, ctx *c, const field *f)
{
	struct fy_node *item;
	void *iter = NULL;
	int err;

	*ndim = 0;
	if (is_null(f->v))
		return 0;
	if (fy_node_is_scalar(f->v) && !fy_node_is_alias(f->v)) {
		*ndim = 1;
		return get_uint(&shape[0], c, f, 1, MAX_DIM);
	}
	if ((err = expect_list(c, f, LW_MANIFEST_MAX_DIMS)) < 0)
		return err;
	while ((item = fy_node_sequence_iterate(f->v, &iter))) {
		field sub;

		item_field(&sub, f, *ndim, item);
		if ((err = get_uint(&shape[*ndim], c, &sub, 1, MAX_DIM)) < 0)
			return err;
		(*ndim)++;
	}
	if (*ndim == 0)
		return bad(c, f, "must list at least one dimension (or be left out)");
	return 0;
}

/* command: a list of strings (or one string), the first a file in the package. */
static int get_command(lw_manifest_model *mm, ctx *c, const field *f)
{
	struct fy_node *item;
	void *iter = NULL;
	size_t n = 0;
	int err;

	if (is_null(f->v))
		return 0;
	if (fy_node_is_scalar(f->v) && !fy_node_is_alias(f->v)) {
		if (!(mm->command = lw__calloc(2, sizeof(char *))))
			return LW_ENOMEM;
		if ((err = get_path(&mm->command[0], c, f)) < 0)
			return err;
		if (!mm->command[0])
			return bad(c, f, "must name the program to run, e.g. [bin/model]");
		mm->command_len = 1;
		return 0;
	}
	if ((err = expect_list(c, f, MAX_LIST)) < 0)
		return err;
	if (fy_node_sequence_item_count(f->v) == 0)
		return bad(c, f, "must name the program to run, e.g. [bin/model]");
	if (!(mm->command = lw__calloc((size_t)fy_node_sequence_item_count(f->v) + 1,
				       sizeof(char *))))
		return LW_ENOMEM;
	while ((item = fy_node_sequence_iterate(f->v, &iter))) {
		field sub;

		item_field(&sub, f, n, item);
		err = n == 0 ? get_path(&mm->command[0], c, &sub)
			     : get_string(&mm->command[n], c, &sub);
		if (err < 0)
			return err;
		if (!mm->command[n])
			return bad(c, &sub, "must not be null");
		mm->command_len = ++n;
	}
	return 0;
}

static int get_kind(lw_model_kind *out, ctx *c, const field *f)
{
	char *name = NULL;
	int err;

	if ((err = get_string(&name, c, f)) < 0 || !name)
		return err;
	*out = lw_model_kind_from_name(name);
	if (!*out)
		err = bad(c, f, "'%.80s' is not a model kind; use one of " KIND_LIST, name);
	free(name);
	return err;
}

static int model_key(ctx *c, const char *name, const field *f, void *target)
{
	lw_manifest_model *mm = target;

	if (!strcmp(name, "kind"))
		return get_kind(&mm->kind, c, f);
	if (!strcmp(name, "file"))
		return get_path(&mm->file, c, f);
	if (!strcmp(name, "command"))
		return get_command(mm, c, f);
	if (!strcmp(name, "class_name"))
		return get_class_name(&mm->class_name, c, f);
	if (!strcmp(name, "module_path"))
		return get_path(&mm->module_path, c, f);
	if (!strcmp(name, "kwargs"))
		return get_kwargs(&mm->kwargs_json, c, f);
	if (!strcmp(name, "input_shape"))
		return get_shape(mm->input_shape, &mm->input_ndim, c, f);
	if (!strcmp(name, "output_shape"))
		return get_shape(mm->output_shape, &mm->output_ndim, c, f);
	return unknown_key(c, f);
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

static int set_default(char **slot, const char *value)
{
	if (*slot)
		return 0;
	return (*slot = lw__strdup(value)) ? 0 : LW_ENOMEM;
}

/* Without model.kind: a command means process, a .py module python (the reference). */
static int infer_kind(ctx *c, const field *at)
{
	lw_manifest_model *mm = &c->m->model;
	const char *module = mm->module_path ? mm->module_path : DEFAULT_MODULE;

	if (mm->command)
		mm->kind = LW_MODEL_PROCESS;
	else if (mm->file)
		return bad(c, at, "missing; say which kind of model model.file '%s' holds "
			   "(linear, logistic, mlp or xgboost)", mm->file);
	else if (ends_with(module, ".py"))
		mm->kind = LW_MODEL_PYTHON;
	else
		return bad(c, at, "missing, and model.module_path '%s' is not a .py file; "
			   "use one of " KIND_LIST, module);
	return 0;
}

static int check_kind_fields(ctx *c, const field *at)
{
	lw_manifest_model *mm = &c->m->model;
	const char *kind = lw_model_kind_name(mm->kind);

	switch (mm->kind) {
	case LW_MODEL_PROCESS:
		if (!mm->command)
			return bad(c, at, "kind process needs model.command, the program to run "
				   "and its arguments, e.g. [bin/model, --serve]");
		if (mm->file)
			return bad(c, at, "kind process takes no model.file; name the program in "
				   "model.command");
		return 0;
	case LW_MODEL_PYTHON:
		if (mm->file || mm->command)
			return bad(c, at, "kind python takes no model.%s; the model is the class "
				   "model.class_name in model.module_path",
				   mm->file ? "file" : "command");
		if (set_default(&mm->class_name, DEFAULT_CLASS) < 0 ||
		    set_default(&mm->module_path, DEFAULT_MODULE) < 0 ||
		    set_default(&mm->kwargs_json, "{}") < 0)
			return LW_ENOMEM;
		if (!ends_with(mm->module_path, ".py"))
			return bad(c, at, "kind python needs model.module_path to be a .py file, not "
				   "'%s'", mm->module_path);
		return 0;
	default:
		if (!mm->file)
			return bad(c, at, "kind %s needs model.file, the model file in the package",
				   kind);
		if (mm->command)
			return bad(c, at, "kind %s takes no model.command (that is for kind process)",
				   kind);
		return 0;
	}
}

static int finish_model(ctx *c, int line)
{
	field at = { "model.kind", NULL, line };
	int err;

	if (!c->m->model.kind && (err = infer_kind(c, &at)) < 0)
		return err;
	snprintf(at.key, sizeof(at.key), "model");
	return check_kind_fields(c, &at);
}

static int spec_key(ctx *c, const char *name, const field *f, void *target)
{
	lw_manifest_stat_spec *s = target;

	if (!strcmp(name, "module_path"))
		return get_string(&s->module_path, c, f);
	if (!strcmp(name, "class_name"))
		return get_class_name(&s->class_name, c, f);
	if (!strcmp(name, "file_name"))
		return get_path(&s->file_name, c, f);
	if (!strcmp(name, "kwargs"))
		return get_kwargs(&s->kwargs_json, c, f);
	return unknown_key(c, f);
}

static int spec_defaults(lw_manifest_stat_spec *s)
{
	if (set_default(&s->module_path, DEFAULT_SPEC_MODULE) < 0 ||
	    set_default(&s->class_name, DEFAULT_SPEC_CLASS) < 0 ||
	    set_default(&s->file_name, DEFAULT_SPEC_FILE) < 0 ||
	    set_default(&s->kwargs_json, "{}") < 0)
		return LW_ENOMEM;
	return 0;
}

static int read_stat_specs(ctx *c, const field *f)
{
	struct fy_node *item;
	void *iter = NULL;
	lw_manifest *m = c->m;
	int err, n;

	if (is_null(f->v))
		return 0;
	if ((err = expect_list(c, f, MAX_LIST)) < 0)
		return err;
	c->specs_given = 1;
	if ((n = fy_node_sequence_item_count(f->v)) == 0)
		return 0;
	if (!(m->stat_specs = lw__calloc((size_t)n, sizeof(*m->stat_specs))))
		return LW_ENOMEM;
	while ((item = fy_node_sequence_iterate(f->v, &iter))) {
		lw_manifest_stat_spec *s = &m->stat_specs[m->num_stat_specs++];
		field sub;

		item_field(&sub, f, m->num_stat_specs - 1, item);
		if ((err = expect_map(c, &sub)) < 0 ||
		    (err == 0 && (err = each_key(c, &sub, spec_key, s)) < 0) ||
		    (err = spec_defaults(s)) < 0)
			return err;
	}
	return 0;
}

static int semantic_key(ctx *c, const char *name, const field *f, void *target)
{
	if (!strcmp(name, "file_name"))
		return get_path(target, c, f);
	return unknown_key(c, f);
}

/* semantic_specification: {file_name: ...}, or just the file name. */
static int read_semantic(ctx *c, const field *f)
{
	int err;

	if (fy_node_is_scalar(f->v) && !fy_node_is_alias(f->v) && !is_null(f->v))
		return get_path(&c->m->semantic_spec, c, f);
	if ((err = expect_map(c, f)) != 0)
		return err < 0 ? err : 0;
	if ((err = each_key(c, f, semantic_key, &c->m->semantic_spec)) < 0)
		return err;
	return set_default(&c->m->semantic_spec, DEFAULT_SEMANTIC_FILE);
}

static int read_format_version(ctx *c, const field *f)
{
	size_t v;
	int err;

	if ((err = get_uint(&v, c, f, 1, 1000000)) < 0)
		return err;
	if (v > LW_MANIFEST_FORMAT_VERSION)
		return bad(c, f, "version %zu is newer than this dock reads (%d); upgrade learnware",
			   v, LW_MANIFEST_FORMAT_VERSION);
	c->m->format_version = (unsigned)v;
	return 0;
}

static int root_key(ctx *c, const char *name, const field *f, void *target)
{
	lw_manifest *m = target;
	int err;

	if (!strcmp(name, "format_version"))
		return read_format_version(c, f);
	if (!strcmp(name, "name"))
		return get_string(&m->name, c, f);
	if (!strcmp(name, "id"))
		return get_string(&m->id, c, f);
	if (!strcmp(name, "stat_specifications"))
		return read_stat_specs(c, f);
	if (!strcmp(name, "semantic_specification"))
		return read_semantic(c, f);
	if (strcmp(name, "model"))
		return unknown_key(c, f);
	if ((err = expect_map(c, f)) != 0)
		return err < 0 ? err : 0;
	return each_key(c, f, model_key, &m->model);
}

/* The line of the top-level key `model`, for messages about the section as a whole. */
static int model_line(struct fy_node *root)
{
	struct fy_node_pair *p;
	void *iter = NULL;

	while ((p = fy_node_mapping_iterate(root, &iter))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *s;
		size_t len;

		if (k && fy_node_is_scalar(k) && (s = fy_node_get_scalar(k, &len)) && len == 5 &&
		    !memcmp(s, "model", 5))
			return node_line(k);
	}
	return 0;
}

static int read_root(ctx *c, struct fy_node *root)
{
	field top = { "", root, 0 };
	int err;

	c->m->format_version = LW_MANIFEST_FORMAT_VERSION;
	if (!root || !fy_node_is_mapping(root)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: must be a mapping of keys (model:, "
			     "stat_specifications:, ...), found %s", c->source,
			     !root ? "an empty document" : is_null(root) ? "null" : node_kind(root));
		return LW_EINVALID;
	}
	if ((err = each_key(c, &top, root_key, c->m)) < 0 ||
	    (err = finish_model(c, model_line(root))) < 0)
		return err;
	if (!c->specs_given) {
		if (!(c->m->stat_specs = lw__calloc(1, sizeof(*c->m->stat_specs))))
			return LW_ENOMEM;
		c->m->num_stat_specs = 1;
		return spec_defaults(c->m->stat_specs);
	}
	return 0;
}

/* libfyaml's first collected error, with its position (1-based there, unlike marks). */
static int yaml_error(struct fy_diag *diag, const char *source)
{
	struct fy_diag_error *e;
	void *iter = NULL;

	if (diag && (e = fy_diag_errors_iterate(diag, &iter)))
		lw_error_set(LW_ERRCLASS_INVALID, "%s: line %d, column %d: %s", source, e->line,
			     e->column, e->msg ? e->msg : "malformed YAML");
	else /* libfyaml builds no document from one without content, and says nothing */
		lw_error_set(LW_ERRCLASS_INVALID, "%s: holds no YAML document (it is empty or only "
			     "comments); write at least a model: section", source);
	return LW_EINVALID;
}

static struct fy_diag *quiet_diag(void)
{
	struct fy_diag_cfg dcfg;
	struct fy_diag *diag;

	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.output_fn = NULL;
	dcfg.colorize = false;
	if ((diag = fy_diag_create(&dcfg)))
		fy_diag_set_collect_errors(diag, true);
	return diag;
}

static size_t line_at(const char *text, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

/*
 * Text libfyaml 0.7.12 gets wrong is refused before it sees it: invalid
 * UTF-8 (a directive followed by a bad byte, "%\x8a", loops forever; a
 * manifest is UTF-8 anyway) and four single quotes in a row (two escaped
 * quotes: 'a''''b' reads as "a'''", and longer runs leak memory).
 */
static int check_text(const char *text, size_t len, const char *source)
{
	size_t ok = lw__utf8_prefix((const unsigned char *)text, len);

	for (size_t i = 0; i + 4 <= len; i++)
		if (!memcmp(text + i, "''''", 4)) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s: line %zu: four single quotes in a row "
				     "are not supported (the YAML library misreads them); write the "
				     "value in double quotes", source, line_at(text, i));
			return LW_EINVALID;
		}
	if (len && memchr(text, '\0', len)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: holds a NUL byte; a manifest is YAML text "
			     "in UTF-8", source);
		return LW_EINVALID;
	}
	if (ok == len)
		return 0;
	lw_error_set(LW_ERRCLASS_INVALID, "%s: line %zu: byte 0x%02x is not UTF-8; a manifest is "
		     "YAML text in UTF-8", source, line_at(text, ok), (unsigned)(unsigned char)text[ok]);
	return LW_EINVALID;
}

int lw_manifest_parse(lw_manifest *out, const char *text, size_t len, const char *source)
{
	struct fy_parse_cfg cfg = { NULL, FYPCF_QUIET | FYPCF_COLLECT_DIAG, NULL, NULL };
	struct fy_document *doc = NULL;
	ctx c = { source, out, 0, 0 };
	int err;

	LW_ASSERT_ARG(out && (text || !len) && source);
	memset(out, 0, sizeof(*out));
	if (len > LW__MANIFEST_MAX_BYTES) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is %zu bytes, over the limit of %zu for a "
			     "manifest", source, len, LW__MANIFEST_MAX_BYTES);
		return LW_EINVALID;
	}
	if ((err = check_text(text, len, source)) < 0)
		return err;
	if (!(cfg.diag = quiet_diag())) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory creating a YAML parser");
		return LW_ENOMEM;
	}
	/* libfyaml wants a non-NULL buffer even for an empty document. */
	if (!(doc = fy_document_build_from_string(&cfg, len ? text : "", len)))
		err = yaml_error(cfg.diag, source);
	else
		err = read_root(&c, fy_document_root(doc));
	fy_document_destroy(doc);
	fy_diag_destroy(cfg.diag);
	if (err < 0)
		lw_manifest_dispose(out);
	return err;
}

int lw_manifest_load(lw_manifest *out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	memset(out, 0, sizeof(*out));
	if ((err = lw__read_file(&text, &len, path, LW__MANIFEST_MAX_BYTES)) < 0)
		return err;
	err = lw_manifest_parse(out, text, len, path);
	free(text);
	return err;
}

static void free_spec(lw_manifest_stat_spec *s)
{
	free(s->module_path);
	free(s->class_name);
	free(s->file_name);
	free(s->kwargs_json);
}

void lw_manifest_dispose(lw_manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->id);
	free(m->model.file);
	for (size_t i = 0; m->model.command && m->model.command[i]; i++)
		free(m->model.command[i]);
	free(m->model.command);
	free(m->model.class_name);
	free(m->model.module_path);
	free(m->model.kwargs_json);
	for (size_t i = 0; i < m->num_stat_specs; i++)
		free_spec(&m->stat_specs[i]);
	free(m->stat_specs);
	free(m->semantic_spec);
	for (size_t i = 0; i < m->num_warnings; i++)
		free(m->warnings[i]);
	free(m->warnings);
	memset(m, 0, sizeof(*m));
}

/* --- writing ----------------------------------------------------------------------- */

/*
 * A YAML double-quoted scalar: every string reads back byte for byte.  A
 * quote after a quote is escaped, so no run of them trips check_text.
 */
static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const char *start = s; *s; s++) {
		unsigned char b = (unsigned char)*s;

		if (b == '"' || b == '\\')
			fprintf(f, "\\%c", b);
		else if (b == '\'' && s > start && s[-1] == '\'')
			fputs("\\x27", f);
		else if (b < 0x20 || b == 0x7f)
			fprintf(f, "\\x%02x", b);
		else
			fputc(b, f);
	}
	fputc('"', f);
}

/* JSON is YAML flow syntax; re-dump it so only a valid object is written. */
static int put_kwargs(FILE *f, const char *indent, const char *json, const char *key)
{
	json_error_t je;
	json_t *j;
	char *text;

	if (!json)
		return 0;
	if (!(j = json_loads(json, 0, &je)) || !json_is_object(j)) {
		json_decref(j);
		lw_error_set(LW_ERRCLASS_INVALID, "manifest: %s is not a JSON object: %.100s", key,
			     json);
		return LW_EINVALID;
	}
	text = json_dumps(j, 0);
	json_decref(j);
	if (!text)
		return LW_ENOMEM;
	fprintf(f, "%skwargs: ", indent);
	/* Quotes only occur inside JSON strings, where \u0027 means the same. */
	for (const char *c = text; *c; c++)
		*c == '\'' ? fputs("\\u0027", f) : fputc(*c, f);
	fputc('\n', f);
	free(text);
	return 0;
}

static void put_shape(FILE *f, const char *key, const size_t *shape, size_t n)
{
	if (!n)
		return;
	fprintf(f, "  %s: [", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%zu", i ? ", " : "", shape[i]);
	fputs("]\n", f);
}

static void put_key(FILE *f, const char *indent, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, "%s%s: ", indent, key);
	put_str(f, value);
	fputc('\n', f);
}

static int put_model(FILE *f, const lw_manifest_model *mm)
{
	const char *kind = lw_model_kind_name(mm->kind);

	if (!kind) {
		lw_error_set(LW_ERRCLASS_INVALID, "manifest: model.kind %d is not a model kind",
			     (int)mm->kind);
		return LW_EINVALID;
	}
	fprintf(f, "model:\n  kind: %s\n", kind);
	put_key(f, "  ", "file", mm->file);
	if (mm->command) {
		fputs("  command: [", f);
		for (size_t i = 0; mm->command[i]; i++) {
			fputs(i ? ", " : "", f);
			put_str(f, mm->command[i]);
		}
		fputs("]\n", f);
	}
	put_key(f, "  ", "class_name", mm->class_name);
	put_key(f, "  ", "module_path", mm->module_path);
	put_shape(f, "input_shape", mm->input_shape, mm->input_ndim);
	put_shape(f, "output_shape", mm->output_shape, mm->output_ndim);
	return put_kwargs(f, "  ", mm->kwargs_json, "model.kwargs");
}

static int put_specs(FILE *f, const lw_manifest *m)
{
	int err;

	fputs(m->num_stat_specs ? "stat_specifications:\n" : "stat_specifications: []\n", f);
	for (size_t i = 0; i < m->num_stat_specs; i++) {
		const lw_manifest_stat_spec *s = &m->stat_specs[i];

		fputs("  - ", f);
		/* put_key indents every key; the first one sits after the dash. */
		put_key(f, "", "module_path", s->module_path ? s->module_path : DEFAULT_SPEC_MODULE);
		/* Every key the reference reads from an entry, defaults included:
		 * its loader indexes class_name and kwargs without a fallback. */
		put_key(f, "    ", "class_name", s->class_name ? s->class_name : DEFAULT_SPEC_CLASS);
		put_key(f, "    ", "file_name", s->file_name);
		if ((err = put_kwargs(f, "    ", s->kwargs_json ? s->kwargs_json : "{}",
				      "stat_specifications.kwargs")) < 0)
			return err;
	}
	return 0;
}

int lw_manifest_to_yaml(char **out, const lw_manifest *m)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int err;

	LW_ASSERT_ARG(out && m);
	*out = NULL;
	if (!(f = open_memstream(&buf, &size))) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing a manifest");
		return LW_ENOMEM;
	}
	fprintf(f, "# learnware package manifest (docs/package.md)\nformat_version: %u\n",
		m->format_version ? m->format_version : LW_MANIFEST_FORMAT_VERSION);
	put_key(f, "", "name", m->name);
	put_key(f, "", "id", m->id);
	if ((err = put_model(f, &m->model)) == 0 && (err = put_specs(f, m)) == 0 &&
	    m->semantic_spec) {
		fputs("semantic_specification:\n", f);
		put_key(f, "  ", "file_name", m->semantic_spec);
	}
	if (fclose(f) != 0 && !err) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing a manifest");
		err = LW_ENOMEM;
	}
	if (err < 0)
		free(buf);
	else
		*out = buf;
	return err;
}

/* --- the files it names ------------------------------------------------------------ */

int lw__manifest_each_file(lw_manifest *m, lw__manifest_file_fn fn, void *payload)
{
	char key[64];
	int err;

	if (m->model.file && (err = fn("model.file", &m->model.file, payload)))
		return err;
	if (m->model.command && m->model.command[0] &&
	    (err = fn("model.command[0]", &m->model.command[0], payload)))
		return err;
	if (m->model.module_path && (err = fn("model.module_path", &m->model.module_path, payload)))
		return err;
	for (size_t i = 0; i < m->num_stat_specs; i++) {
		snprintf(key, sizeof(key), "stat_specifications[%zu].file_name", i);
		if (m->stat_specs[i].file_name &&
		    (err = fn(key, &m->stat_specs[i].file_name, payload)))
			return err;
	}
	if (m->semantic_spec &&
	    (err = fn("semantic_specification.file_name", &m->semantic_spec, payload)))
		return err;
	return 0;
}

static int missing(const char *dir, const char *key, const char *path, const char *what)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: '%s' %s", dir, key, path, what);
	return LW_EINVALID;
}

/* Open the folder holding rel's last component, never through a link. */
static int open_parent(int *out, const char **base, int dfd, char *rel, const char *dir,
		       const char *key, const char *path)
{
	char *slash;
	int fd = dfd, next;

	*out = -1;
	while ((slash = strchr(rel, '/'))) {
		*slash = '\0';
		next = openat(fd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != dfd)
			close(fd);
		if (next < 0) {
			if (errno == ENOENT) {
				lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: '%s' is not in the package",
					     dir, key, path);
				return LW_ENOTFOUND;
			}
			return missing(dir, key, path, "crosses a symbolic link or a file; a package "
				       "holds regular files in folders only");
		}
		fd = next;
		rel = slash + 1;
	}
	*out = fd;
	*base = rel;
	return 0;
}

typedef struct {
	const char *dir;
	int fd;
} dir_check;

static int check_in_dir(const char *key, char **path, void *payload)
{
	const dir_check *dc = payload;
	const char *dir = dc->dir, *base;
	int dfd = dc->fd, fd, err;
	char *rel = lw__strdup(*path);
	struct stat st;

	if (!rel)
		return LW_ENOMEM;
	if ((err = open_parent(&fd, &base, dfd, rel, dir, key, *path)) == 0) {
		if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: '%s' is not in the package", dir,
				     key, *path);
			err = LW_ENOTFOUND;
		} else if (S_ISLNK(st.st_mode)) {
			err = missing(dir, key, *path, "is a symbolic link; a package holds regular "
				      "files only");
		} else if (!S_ISREG(st.st_mode)) {
			err = missing(dir, key, *path, "is not a regular file");
		}
		if (fd != dfd)
			close(fd);
	}
	free(rel);
	return err;
}

int lw_manifest_check_files(const lw_manifest *m, const char *dir)
{
	dir_check dc = { dir, -1 };
	int err;

	LW_ASSERT_ARG(m && dir);
	if ((dc.fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open the package folder %s", dir);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	/* each_file may rewrite paths; check_in_dir never does. */
	err = lw__manifest_each_file((lw_manifest *)m, check_in_dir, &dc);
	close(dc.fd);
	return err;
}
