/*
 * The semantic taxonomy (which keys a specification has, their Type and
 * allowed values, defaults, and when Input/Output are required) and the
 * checker that applies it.  The built-in taxonomy is data/taxonomy.json,
 * compiled in by cmake/EmbedFile.cmake; a dock may load a file that
 * extends or replaces it (format in docs/semantic.md).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic.h"
#include "util.h"

#define FORMAT_NAME "learnware-taxonomy"
#define QMAX 60
#define QBUF (4 * QMAX + 8)
/* Allowed values listed in one message, and unknown values reported per key. */
#define LIST_MAX 30
#define UNKNOWN_MAX 10
#define RANGE_MAX 5

const char *const lw__sem_type_names[3] = { "Class", "Tag", "String" };
static const char *const side_names[2] = { "Input", "Output" };

static void key_dispose(lw__tax_key *k)
{
	free(k->key);
	lw__strlist_dispose(&k->values);
	lw__strlist_dispose(&k->deflt);
}

static void conds_dispose(lw__tax_conds *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->conds[i].key);
		free(c->conds[i].value);
	}
	free(c->conds);
}

void lw_taxonomy_free(lw_taxonomy *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		key_dispose(&t->keys[i]);
	free(t->keys);
	for (int s = 0; s < 2; s++) {
		conds_dispose(&t->required_when[s]);
		conds_dispose(&t->min_dim[s]);
	}
	free(t);
}

const lw__tax_key *lw__taxonomy_find(const lw_taxonomy *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->keys[i].key, key))
			return &t->keys[i];
	return NULL;
}

/* ---- reading a taxonomy file ---- */

static int tfail(const char *source, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int tfail(const char *source, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, msg);
	return LW_EINVALID;
}

/* Reject members outside `known` (NULL-terminated): typos must not pass silently. */
static int only_members(json_t *obj, const char *const *known, const char *where,
			const char *source)
{
	const char *k;
	json_t *v;
	char q[QBUF];

	json_object_foreach(obj, k, v) {
		size_t i = 0;

		while (known[i] && strcmp(known[i], k))
			i++;
		if (!known[i])
			return tfail(source, "%s: unknown member '%s'", where, lw__sem_quote(q, k, QMAX));
	}
	return 0;
}

static int parse_type(lw__sem_type *out, json_t *v, const char *key, const char *source)
{
	const char *name = json_string_value(v);
	char q[QBUF];

	for (int i = 0; name && i < 3; i++)
		if (!strcmp(name, lw__sem_type_names[i])) {
			*out = (lw__sem_type)i;
			return 0;
		}
	return tfail(source, "keys.%s: \"Type\" must be \"Class\", \"Tag\" or \"String\"",
		     lw__sem_quote(q, key, QMAX));
}

/* Append the strings of list v to l, skipping ones already there unless dup_is_error. */
static int add_strings(lw__strlist *l, json_t *v, const char *where, int dup_is_error,
		       const char *source)
{
	char q[QBUF];
	size_t i;
	json_t *item;
	int err;

	if (!json_is_array(v) || json_array_size(v) > LW__SEM_MAX_VALUES)
		return tfail(source, "%s must be a list of at most %d strings", where,
			     LW__SEM_MAX_VALUES);
	json_array_foreach(v, i, item) {
		const char *s = json_string_value(item);

		if (!s || !*s)
			return tfail(source, "%s[%zu] must be a non-empty string", where, i);
		if (lw__strlist_find(l, s) >= 0) {
			if (dup_is_error)
				return tfail(source, "%s lists '%s' twice", where, lw__sem_quote(q, s, QMAX));
			continue;
		}
		if ((err = lw__strlist_push(l, s)) < 0)
			return err;
	}
	return 0;
}

static int read_default(lw__tax_key *k, json_t *v, const char *where, const char *source)
{
	lw__strlist_dispose(&k->deflt);
	k->has_default = 1;
	if (k->type == LW__TYPE_STRING) {
		if (!json_is_string(v))
			return tfail(source, "%s: a String key's \"Default\" must be a string", where);
		return lw__strlist_push(&k->deflt, json_string_value(v));
	}
	return add_strings(&k->deflt, v, where, 1, source);
}

static int read_required(lw__tax_key *k, json_t *v, const char *where, const char *source)
{
	if (!json_is_boolean(v))
		return tfail(source, "%s: \"Required\" must be true or false", where);
	k->required = json_is_true(v);
	return 0;
}


/* Values, Required and Default of a new key, or additions to an existing one. */
static int read_key_parts(lw__tax_key *k, json_t *def, int is_new, const char *where,
			  const char *source)
{
	json_t *values = json_object_get(def, "Values"), *v;
	char at[QBUF + 32];
	int err;

	snprintf(at, sizeof(at), "%s.Values", where);
	if (k->type == LW__TYPE_STRING && values)
		return tfail(source, "%s: a String key takes no \"Values\"", where);
	if (is_new && k->type != LW__TYPE_STRING && !values)
		return tfail(source, "%s: a %s key needs \"Values\", its allowed values", where,
			     lw__sem_type_names[k->type]);
	if (values && (err = add_strings(&k->values, values, at, is_new, source)) < 0)
		return err;
	if (is_new && k->type != LW__TYPE_STRING && k->values.n == 0)
		return tfail(source, "%s must list at least one allowed value", at);
	if ((v = json_object_get(def, "Required")) && (err = read_required(k, v, where, source)) < 0)
		return err;
	snprintf(at, sizeof(at), "%s.Default", where);
	if ((v = json_object_get(def, "Default")) && (err = read_default(k, v, at, source)) < 0)
		return err;
	return 0;
}

/* A new key, appended (or put in place of `old` when "Replace" is true). */
static int new_key(lw_taxonomy *t, lw__tax_key *old, const char *name, json_t *def,
		   const char *where, const char *source)
{
	lw__tax_key k = { 0 };
	json_t *type = json_object_get(def, "Type");
	lw__tax_key *keys;
	int err;

	k.required = 1;
	if (!type)
		return tfail(source, "%s: missing \"Type\" (\"Class\", \"Tag\" or \"String\")", where);
	if ((err = parse_type(&k.type, type, name, source)) < 0)
		return err;
	if (!(k.key = lw__strdup(name)) || (err = read_key_parts(&k, def, 1, where, source)) < 0)
		goto fail;
	if (old) {
		key_dispose(old);
		*old = k;
		return 0;
	}
	if (t->n >= LW__SEM_MAX_KEYS || !(keys = lw__reallocarray(t->keys, t->n + 1, sizeof(k)))) {
		err = t->n >= LW__SEM_MAX_KEYS ? tfail(source, "more than %d keys", LW__SEM_MAX_KEYS)
					       : LW_ENOMEM;
		goto fail;
	}
	t->keys = keys;
	t->keys[t->n++] = k;
	return 0;
fail:
	key_dispose(&k);
	return err ? err : LW_ENOMEM;
}

/* More allowed values, or a new Required or Default, for a key already there. */
static int extend_key(lw__tax_key *k, json_t *def, const char *where, const char *source)
{
	json_t *type = json_object_get(def, "Type");
	lw__sem_type ty;
	int err;

	if (type && (err = parse_type(&ty, type, k->key, source)) < 0)
		return err;
	if (type && ty != k->type)
		return tfail(source, "%s: cannot change \"Type\" from %s to %s; add \"Replace\": true "
				     "to redefine the key", where, lw__sem_type_names[k->type],
			     lw__sem_type_names[ty]);
	return read_key_parts(k, def, 0, where, source);
}

static int read_key(lw_taxonomy *t, const char *name, json_t *def, const char *source)
{
	static const char *const members[] = { "Type", "Values", "Required", "Default", "Replace",
					       "comment", NULL };
	lw__tax_key *old = (lw__tax_key *)lw__taxonomy_find(t, name);
	json_t *replace = json_object_get(def, "Replace");
	char where[QBUF + 8], q[QBUF];
	int err;

	snprintf(where, sizeof(where), "keys.%s", lw__sem_quote(q, name, QMAX));
	if (!json_is_object(def))
		return tfail(source, "%s must be an object {\"Type\": ..., \"Values\": [...]}", where);
	if ((err = only_members(def, members, where, source)) < 0)
		return err;
	if (!*name || !strcmp(name, "Input") || !strcmp(name, "Output"))
		return tfail(source, "%s: not a usable key name (Input and Output are built in)", where);
	if (replace && !json_is_boolean(replace))
		return tfail(source, "%s: \"Replace\" must be true or false", where);
	if (old && !json_is_true(replace))
		return extend_key(old, def, where, source);
	return new_key(t, old, name, def, where, source);
}

static int read_keys(lw_taxonomy *t, json_t *keys, const char *source)
{
	const char *name;
	json_t *def;
	int err;

	if (!json_is_object(keys))
		return tfail(source, "\"keys\" must be an object from key name to its definition");
	json_object_foreach(keys, name, def)
		if ((err = read_key(t, name, def, source)) < 0)
			return err;
	return 0;
}

/* Add (key, value, n) to c, or update n when the pair is already there. */
static int cond_put(lw__tax_conds *c, const char *key, const char *value, int64_t n)
{
	lw__tax_cond *v;

	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->conds[i].key, key) && !strcmp(c->conds[i].value, value)) {
			c->conds[i].n = n;
			return 0;
		}
	if (!(v = lw__reallocarray(c->conds, c->n + 1, sizeof(*v))))
		return LW_ENOMEM;
	c->conds = v;
	v = &c->conds[c->n];
	v->n = n;
	v->key = lw__strdup(key);
	v->value = lw__strdup(value);
	if (!v->key || !v->value) {
		free(v->key);
		free(v->value);
		return LW_ENOMEM;
	}
	c->n++;
	return 0;
}

/* "RequiredWhen": {"Data": ["Table"], ...} */
static int read_required_when(lw__tax_conds *c, json_t *v, const char *where, const char *source)
{
	const char *key;
	json_t *list;
	lw__strlist vals = { 0 };
	int err = 0;

	if (!json_is_object(v))
		return tfail(source, "%s must be an object like {\"Data\": [\"Table\"]}", where);
	json_object_foreach(v, key, list) {
		if ((err = add_strings(&vals, list, where, 0, source)) < 0)
			break;
		for (size_t i = 0; !err && i < vals.n; i++)
			err = cond_put(c, key, vals.v[i], 0);
		lw__strlist_dispose(&vals);
		if (err)
			break;
	}
	lw__strlist_dispose(&vals);
	return err;
}

/* "MinDimension": {"Task": {"Classification": 2}} */
static int read_min_dim(lw__tax_conds *c, json_t *v, const char *where, const char *source)
{
	const char *key, *value;
	json_t *map, *n;
	int err;

	if (!json_is_object(v))
		return tfail(source, "%s must be an object like {\"Task\": {\"Classification\": 2}}", where);
	json_object_foreach(v, key, map) {
		if (!json_is_object(map))
			return tfail(source, "%s: each key maps values to a minimum Dimension", where);
		json_object_foreach(map, value, n) {
			if (!json_is_integer(n) || json_integer_value(n) < 0)
				return tfail(source, "%s: the minimum must be a non-negative integer", where);
			if ((err = cond_put(c, key, value, json_integer_value(n))) < 0)
				return err;
		}
	}
	return 0;
}

static int read_side(lw_taxonomy *t, int side, json_t *def, const char *source)
{
	static const char *const members[] = { "RequiredWhen", "MinDimension", "comment", NULL };
	char where[64];
	json_t *v;
	int err;

	snprintf(where, sizeof(where), "features.%s", side_names[side]);
	if (!json_is_object(def))
		return tfail(source, "%s must be an object", where);
	if ((err = only_members(def, members, where, source)) < 0)
		return err;
	snprintf(where, sizeof(where), "features.%s.RequiredWhen", side_names[side]);
	if ((v = json_object_get(def, "RequiredWhen")) &&
	    (err = read_required_when(&t->required_when[side], v, where, source)) < 0)
		return err;
	snprintf(where, sizeof(where), "features.%s.MinDimension", side_names[side]);
	if ((v = json_object_get(def, "MinDimension")) &&
	    (err = read_min_dim(&t->min_dim[side], v, where, source)) < 0)
		return err;
	return 0;
}

static int read_features(lw_taxonomy *t, json_t *v, const char *source)
{
	static const char *const members[] = { "Input", "Output", "comment", NULL };
	json_t *def;
	int err;

	if (!json_is_object(v))
		return tfail(source, "\"features\" must be an object with \"Input\" and \"Output\"");
	if ((err = only_members(v, members, "features", source)) < 0)
		return err;
	for (int side = 0; side < 2; side++)
		if ((def = json_object_get(v, side_names[side])) &&
		    (err = read_side(t, side, def, source)) < 0)
			return err;
	return 0;
}

/* A condition must name a Class key and one of its values. */
static int check_conds(const lw_taxonomy *t, const lw__tax_conds *c, const char *where,
		       const char *source)
{
	char q[QBUF], qv[QBUF];

	for (size_t i = 0; i < c->n; i++) {
		const lw__tax_key *k = lw__taxonomy_find(t, c->conds[i].key);

		if (!k || k->type != LW__TYPE_CLASS)
			return tfail(source, "%s: '%s' is not a Class key of the taxonomy", where,
				     lw__sem_quote(q, c->conds[i].key, QMAX));
		if (lw__strlist_find(&k->values, c->conds[i].value) < 0)
			return tfail(source, "%s: '%s' is not an allowed value of %s", where,
				     lw__sem_quote(qv, c->conds[i].value, QMAX),
				     lw__sem_quote(q, k->key, QMAX));
	}
	return 0;
}

/* A default must pass the key's own rule. */
static int check_default(const lw__tax_key *k, const char *source)
{
	char q[QBUF], qv[QBUF];

	if (!k->has_default)
		return 0;
	if (k->type == LW__TYPE_STRING ? !k->deflt.v[0][0]
				       : k->deflt.n == 0 || (k->type == LW__TYPE_CLASS && k->deflt.n != 1))
		return tfail(source, "keys.%s.Default: needs %s", lw__sem_quote(q, k->key, QMAX),
			     k->type == LW__TYPE_CLASS ? "exactly one value"
			     : k->type == LW__TYPE_TAG ? "at least one value" : "a non-empty text");
	for (size_t i = 0; k->type != LW__TYPE_STRING && i < k->deflt.n; i++)
		if (lw__strlist_find(&k->values, k->deflt.v[i]) < 0)
			return tfail(source, "keys.%s.Default: '%s' is not one of its allowed values",
				     lw__sem_quote(q, k->key, QMAX), lw__sem_quote(qv, k->deflt.v[i], QMAX));
	return 0;
}

static int check_taxonomy(const lw_taxonomy *t, const char *source)
{
	int err;

	for (size_t i = 0; i < t->n; i++)
		if ((err = check_default(&t->keys[i], source)) < 0)
			return err;
	for (int side = 0; side < 2; side++) {
		char where[64];

		snprintf(where, sizeof(where), "features.%s", side_names[side]);
		if ((err = check_conds(t, &t->required_when[side], where, source)) < 0 ||
		    (err = check_conds(t, &t->min_dim[side], where, source)) < 0)
			return err;
	}
	return 0;
}

/* The header: format, version and what the file starts from. */
static int read_base(lw_taxonomy **out, json_t *root, const char *source)
{
	static const char *const members[] = { "format", "version", "extends", "keys", "features",
					       "comment", NULL };
	const char *format = json_string_value(json_object_get(root, "format"));
	json_t *version = json_object_get(root, "version"), *ext = json_object_get(root, "extends");
	int err;

	if (!json_is_object(root))
		return tfail(source, "the top level must be a JSON object");
	if (!format || strcmp(format, FORMAT_NAME))
		return tfail(source, "not a taxonomy file: \"format\" must be \"" FORMAT_NAME "\"");
	if (version && (!json_is_integer(version) || json_integer_value(version) != 1))
		return tfail(source, "\"version\" must be 1 (the taxonomy format this build reads)");
	if ((err = only_members(root, members, "the top level", source)) < 0)
		return err;
	if (ext && !json_is_null(ext) && strcmp(json_string_value(ext) ? json_string_value(ext) : "",
						"builtin"))
		return tfail(source, "\"extends\" must be \"builtin\" (or absent to replace the "
				     "built-in taxonomy)");
	if (ext && !json_is_null(ext))
		return lw_taxonomy_builtin(out);
	*out = lw__calloc(1, sizeof(lw_taxonomy));
	return *out ? 0 : LW_ENOMEM;
}

static int read_taxonomy(lw_taxonomy **out, json_t *root, const char *source)
{
	json_t *keys = json_object_get(root, "keys"), *features;
	int err;

	if ((err = read_base(out, root, source)) < 0)
		return err;
	if (!keys)
		return tfail(source, "missing \"keys\", the semantic keys and their allowed values");
	if ((err = read_keys(*out, keys, source)) < 0)
		return err;
	if ((features = json_object_get(root, "features")) &&
	    (err = read_features(*out, features, source)) < 0)
		return err;
	if ((*out)->n == 0)
		return tfail(source, "\"keys\" is empty: a taxonomy needs at least one key");
	return check_taxonomy(*out, source);
}

int lw_taxonomy_from_json(lw_taxonomy **out, const char *text, size_t len, const char *source)
{
	json_error_t je;
	json_t *root;
	lw_taxonomy *t = NULL;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "taxonomy";
	if (len > LW__SEM_MAX_BYTES)
		return tfail(source, "%zu bytes, over the limit of %zu", len, LW__SEM_MAX_BYTES);
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return tfail(source, "line %d, column %d: %s", je.line, je.column, je.text);
	err = read_taxonomy(&t, root, source);
	json_decref(root);
	if (err < 0) {
		lw_taxonomy_free(t);
		return err;
	}
	*out = t;
	return 0;
}

int lw_taxonomy_builtin(lw_taxonomy **out)
{
	return lw_taxonomy_from_json(out, lw__taxonomy_json, lw__taxonomy_json_len,
				     "built-in taxonomy");
}

int lw_taxonomy_load(lw_taxonomy **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, LW__SEM_MAX_BYTES)) < 0)
		return err;
	err = lw_taxonomy_from_json(out, text, len, path);
	free(text);
	return err;
}

/* ---- accessors ---- */

size_t lw_taxonomy_count(const lw_taxonomy *t)
{
	return t ? t->n : 0;
}

const char *lw_taxonomy_key(const lw_taxonomy *t, size_t i)
{
	return t && i < t->n ? t->keys[i].key : NULL;
}

const char *lw_taxonomy_type(const lw_taxonomy *t, const char *key)
{
	const lw__tax_key *k = t && key ? lw__taxonomy_find(t, key) : NULL;

	return k ? lw__sem_type_names[k->type] : NULL;
}

const char *const *lw_taxonomy_values(size_t *n, const lw_taxonomy *t, const char *key)
{
	const lw__tax_key *k = t && key ? lw__taxonomy_find(t, key) : NULL;

	if (n)
		*n = k ? k->values.n : 0;
	return k && k->values.n ? (const char *const *)k->values.v : NULL;
}

int lw_taxonomy_required(const lw_taxonomy *t, const char *key)
{
	const lw__tax_key *k = t && key ? lw__taxonomy_find(t, key) : NULL;

	return k ? k->required : 0;
}

/* ---- writing and describing ---- */

static int jput(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : LW_ENOMEM;
}

static json_t *strlist_json(const lw__strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n; i++)
		if (json_array_append_new(a, json_string(l->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *key_json(const lw__tax_key *k)
{
	json_t *o = json_object();
	int err = o ? jput(o, "Type", json_string(lw__sem_type_names[k->type])) : LW_ENOMEM;

	if (!err && k->type != LW__TYPE_STRING)
		err = jput(o, "Values", strlist_json(&k->values));
	if (!err && !k->required)
		err = jput(o, "Required", json_false());
	if (!err && k->has_default)
		err = jput(o, "Default", k->type == LW__TYPE_STRING ? json_string(k->deflt.v[0])
								    : strlist_json(&k->deflt));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Add one condition to {"Data": ["Table"]}, or with numbers {"Task": {"Classification": 2}}. */
static int cond_json_add(json_t *o, const lw__tax_cond *c, int with_n)
{
	json_t *group = json_object_get(o, c->key);

	if (!group && jput(o, c->key, group = with_n ? json_object() : json_array()) < 0)
		return LW_ENOMEM;
	if (with_n)
		return jput(group, c->value, json_integer(c->n));
	return json_array_append_new(group, json_string(c->value)) == 0 ? 0 : LW_ENOMEM;
}

static json_t *conds_json(const lw__tax_conds *c, int with_n)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < c->n; i++)
		if (cond_json_add(o, &c->conds[i], with_n) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

static json_t *side_json(const lw_taxonomy *t, int side)
{
	json_t *o = json_object();
	int err = o ? 0 : LW_ENOMEM;

	if (!err && t->required_when[side].n)
		err = jput(o, "RequiredWhen", conds_json(&t->required_when[side], 0));
	if (!err && t->min_dim[side].n)
		err = jput(o, "MinDimension", conds_json(&t->min_dim[side], 1));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *taxonomy_json(const lw_taxonomy *t)
{
	json_t *root = json_object(), *keys = json_object(), *features = json_object();
	int err = root && keys && features ? 0 : LW_ENOMEM;

	if (!err)
		err = jput(root, "format", json_string(FORMAT_NAME));
	if (!err)
		err = jput(root, "version", json_integer(1));
	for (size_t i = 0; !err && i < t->n; i++)
		err = jput(keys, t->keys[i].key, key_json(&t->keys[i]));
	for (int side = 0; !err && side < 2; side++)
		err = jput(features, side_names[side], side_json(t, side));
	if (!err && !(err = jput(root, "keys", json_incref(keys))))
		err = jput(root, "features", json_incref(features));
	json_decref(keys);
	json_decref(features);
	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int lw_taxonomy_to_json(char **out, const lw_taxonomy *t)
{
	json_t *root;

	LW_ASSERT_ARG(out && t);
	root = taxonomy_json(t);
	*out = root ? json_dumps(root, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;
	json_decref(root);
	if (!*out) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing the taxonomy");
		return LW_ENOMEM;
	}
	return 0;
}

/* A growing string; a failed append marks it failed and later ones do nothing. */
typedef struct {
	char *s;
	size_t len, cap;
	int failed;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *s;

		while (n >= 0 && cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (n < 0 || !(s = lw__reallocarray(b->s, cap, 1))) {
			b->failed = 1;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* "a, b, c", at most max items. */
static void sb_join(sbuf *b, const lw__strlist *l, size_t max)
{
	for (size_t i = 0; i < l->n && i < max; i++)
		sb_printf(b, "%s%s", i ? ", " : "", l->v[i]);
	if (l->n > max)
		sb_printf(b, ", ... (%zu more: see 'learnware semantic taxonomy')", l->n - max);
}

static void describe_key(sbuf *b, const lw__tax_key *k)
{
	sb_printf(b, "%-12s %-7s %-9s ", k->key, lw__sem_type_names[k->type],
		  k->required ? "required" : "optional");
	if (k->type == LW__TYPE_STRING)
		sb_printf(b, "any non-empty text");
	else
		sb_join(b, &k->values, SIZE_MAX);
	if (k->has_default) {
		sb_printf(b, "; default ");
		sb_join(b, &k->deflt, SIZE_MAX);
	}
	sb_printf(b, "\n");
}

static void describe_side(sbuf *b, const lw_taxonomy *t, int side)
{
	const lw__tax_conds *r = &t->required_when[side], *m = &t->min_dim[side];

	sb_printf(b, "%-12s %-7s ", side_names[side], "block");
	if (r->n == 0)
		sb_printf(b, "optional");
	for (size_t i = 0; i < r->n; i++)
		if (i && !strcmp(r->conds[i].key, r->conds[i - 1].key))
			sb_printf(b, " or %s", r->conds[i].value);
		else
			sb_printf(b, "%s%s is %s", i ? ", or when " : "required when ",
				  r->conds[i].key, r->conds[i].value);
	for (size_t i = 0; i < m->n; i++)
		sb_printf(b, "; Dimension >= %lld when %s is %s", (long long)m->conds[i].n,
			  m->conds[i].key, m->conds[i].value);
	sb_printf(b, "\n");
}

int lw_taxonomy_describe(char **out, const lw_taxonomy *t)
{
	sbuf b = { 0 };

	LW_ASSERT_ARG(out && t);
	*out = NULL;
	sb_printf(&b, "%-12s %-7s %-9s %s\n", "KEY", "TYPE", "", "ALLOWED VALUES");
	for (size_t i = 0; i < t->n; i++)
		describe_key(&b, &t->keys[i]);
	for (int side = 0; side < 2; side++)
		describe_side(&b, t, side);
	if (b.failed) {
		free(b.s);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory describing the taxonomy");
		return LW_ENOMEM;
	}
	*out = b.s;
	return 0;
}

/* ---- the semantic checker ---- */

typedef struct {
	lw_semantic_problems p;
	size_t cap;
	int failed;
} checker;

static void add(checker *c, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void add(checker *c, const char *key, const char *fmt, ...)
{
	lw_semantic_problem *pr;
	va_list ap;
	int n;

	if (c->failed)
		return;
	if (c->p.count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 8;

		if (!(pr = lw__reallocarray(c->p.items, cap, sizeof(*pr)))) {
			c->failed = 1;
			return;
		}
		c->p.items = pr;
		c->cap = cap;
	}
	pr = &c->p.items[c->p.count];
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	pr->key = lw__strdup(key);
	pr->message = n >= 0 ? lw__mallocarray((size_t)n + 1, 1) : NULL;
	if (!pr->key || !pr->message) {
		free(pr->key);
		free(pr->message);
		c->failed = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(pr->message, (size_t)n + 1, fmt, ap);
	va_end(ap);
	c->p.count++;
}

void lw_semantic_problems_dispose(lw_semantic_problems *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		free(p->items[i].key);
		free(p->items[i].message);
	}
	free(p->items);
	p->items = NULL;
	p->count = 0;
}

/* The allowed values of k as "A, B, C" (at most LIST_MAX) in buf. */
static const char *allowed(char *buf, size_t size, const lw__tax_key *k)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < k->values.n && i < LIST_MAX && o < size; i++)
		o += (size_t)snprintf(buf + o, size - o, "%s%s", i ? ", " : "", k->values.v[i]);
	if (k->values.n > LIST_MAX && o < size)
		snprintf(buf + o, size - o, ", ... (%zu more: see 'learnware semantic taxonomy')",
			 k->values.n - LIST_MAX);
	return buf;
}

/* What key k takes, for a message about a missing key or Values. */
static const char *takes(char *buf, size_t size, const lw__tax_key *k)
{
	char list[2048];

	if (k->type == LW__TYPE_STRING)
		snprintf(buf, size, "a non-empty text");
	else
		snprintf(buf, size, "%s of: %s",
			 k->type == LW__TYPE_CLASS ? "exactly one" : "one or more",
			 allowed(list, sizeof(list), k));
	return buf;
}

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Case-insensitive edit distance of two strings of at most 64 bytes, a
 * swap of neighbours counting as one edit ("Tabel" is 1 from "Table").
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), rows[3][65];

	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *r = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
		int ca = tolower((unsigned char)a[i - 1]);

		r[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			int cb = tolower((unsigned char)b[j - 1]);

			r[j] = min3(up[j] + 1, r[j - 1] + 1, up[j - 1] + (ca != cb));
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    cb == tolower((unsigned char)a[i - 2]) && up2[j - 2] + 1 < r[j])
				r[j] = up2[j - 2] + 1;
		}
	}
	return rows[la % 3][lb];
}

/* p (3 or more characters) starts s, ignoring case. */
static int is_prefix_ci(const char *p, const char *s)
{
	size_t n = strlen(p);

	if (n < 3 || strlen(s) <= n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)p[i]) != tolower((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The allowed value v was probably meant as: near in spelling, or v is its start. */
static const char *suggest(const char *v, const lw__strlist *allowed_values)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, lv = strlen(v);

	if (lv == 0 || lv > 64)
		return NULL;
	for (size_t i = 0; i < allowed_values->n; i++) {
		const char *a = allowed_values->v[i];
		size_t la = strlen(a), d, limit;

		if (la > 64)
			continue;
		d = edit_distance(v, a);
		limit = (la > lv ? la : lv) / 3;
		if ((d <= (limit ? limit : 1) || is_prefix_ci(v, a)) && d < best_d) {
			best = a;
			best_d = d;
		}
	}
	return best;
}

static void check_type(checker *c, const lw__sem_entry *e, const lw__tax_key *k)
{
	char q[QBUF];

	if (!e->type)
		add(c, k->key, "%s: \"Type\" is missing; it must be \"%s\"", k->key,
		    lw__sem_type_names[k->type]);
	else if (strcmp(e->type, lw__sem_type_names[k->type]))
		add(c, k->key, "%s: \"Type\" is '%s'; it must be \"%s\"", k->key,
		    lw__sem_quote(q, e->type, QMAX), lw__sem_type_names[k->type]);
}

static void check_string(checker *c, const lw__sem_entry *e, const lw__tax_key *k)
{
	if (e->form == LW__VALUES_LIST)
		add(c, k->key, "%s: \"Values\" must be a string (a non-empty text), not a list", k->key);
	else if (!e->values.v[0][0])
		add(c, k->key, "%s: is empty; it needs a non-empty text", k->key);
}

static void check_count(checker *c, const lw__sem_entry *e, const lw__tax_key *k)
{
	char list[2048], q0[QBUF], q1[QBUF];
	size_t n = e->values.n;

	if (k->type == LW__TYPE_TAG && n == 0)
		add(c, k->key, "%s: needs at least one value; allowed: %s", k->key,
		    allowed(list, sizeof(list), k));
	else if (k->type == LW__TYPE_CLASS && n == 0)
		add(c, k->key, "%s: needs exactly one value, found none; allowed: %s", k->key,
		    allowed(list, sizeof(list), k));
	else if (k->type == LW__TYPE_CLASS && n > 1)
		add(c, k->key, "%s: needs exactly one value, found %zu ('%s', '%s'%s)", k->key, n,
		    lw__sem_quote(q0, e->values.v[0], QMAX), lw__sem_quote(q1, e->values.v[1], QMAX),
		    n > 2 ? ", ..." : "");
}

static void check_allowed(checker *c, const lw__sem_entry *e, const lw__tax_key *k)
{
	char list[2048], q[QBUF], qs[QBUF], hint[QBUF + 32];
	size_t unknown = 0;

	for (size_t i = 0; i < e->values.n; i++) {
		const char *v = e->values.v[i], *s;

		if (lw__strlist_find(&k->values, v) >= 0 || ++unknown > UNKNOWN_MAX)
			continue;
		hint[0] = '\0';
		if ((s = suggest(v, &k->values)))
			snprintf(hint, sizeof(hint), "; did you mean '%s'?", lw__sem_quote(qs, s, QMAX));
		add(c, k->key, "%s: '%s' is not an allowed value; allowed: %s%s", k->key,
		    lw__sem_quote(q, v, QMAX), allowed(list, sizeof(list), k), hint);
	}
	if (unknown > UNKNOWN_MAX)
		add(c, k->key, "%s: %zu more values are not allowed", k->key, unknown - UNKNOWN_MAX);
}

static void check_list(checker *c, const lw__sem_entry *e, const lw__tax_key *k)
{
	char q[QBUF];

	/* Judge a lone string as a one-element list too, so its value gets checked. */
	if (e->form == LW__VALUES_STRING)
		add(c, k->key, "%s: \"Values\" must be a list, like [\"%s\"], not a string", k->key,
		    lw__sem_quote(q, e->values.v[0], QMAX));
	check_count(c, e, k);
	check_allowed(c, e, k);
}

static void check_key(checker *c, const lw_semantic *s, const lw__tax_key *k)
{
	const lw__sem_entry *e = lw__semantic_entry(s, k->key);
	char what[2200];

	if (!e) {
		if (k->required)
			add(c, k->key, "%s: missing; it takes Type \"%s\" with %s", k->key,
			    lw__sem_type_names[k->type], takes(what, sizeof(what), k));
		return;
	}
	check_type(c, e, k);
	if (e->form == LW__VALUES_NONE)
		add(c, k->key, "%s: \"Values\" is missing; it takes %s", k->key,
		    takes(what, sizeof(what), k));
	else if (k->type == LW__TYPE_STRING)
		check_string(c, e, k);
	else
		check_list(c, e, k);
}

/* The first condition of c that s meets, or NULL. */
static const lw__tax_cond *met(const lw__tax_conds *c, const lw_semantic *s)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *v = lw_semantic_first(s, c->conds[i].key);

		if (v && !strcmp(v, c->conds[i].value))
			return &c->conds[i];
	}
	return NULL;
}

static void check_range(checker *c, const lw__features *f, const char *name)
{
	char list[RANGE_MAX * 24 + 8], allows[64];
	size_t o = 0, bad = 0;

	for (size_t i = 0; i < f->n; i++) {
		int64_t ix = f->desc[i].index;

		if (ix >= 0 && ix < f->dim)
			continue;
		if (bad++ < RANGE_MAX)
			o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%lld'", o ? ", " : "",
					      (long long)ix);
	}
	if (!bad)
		return;
	if (f->dim == 0)
		snprintf(allows, sizeof(allows), "Dimension 0 allows none");
	else
		snprintf(allows, sizeof(allows), "Dimension %lld allows 0 to %lld", (long long)f->dim,
			 (long long)f->dim - 1);
	add(c, name, "%s: \"Description\" key%s %s%s%s out of range; %s", name, bad > 1 ? "s" : "",
	    list, bad > RANGE_MAX ? ", ..." : "", bad > 1 ? " are" : " is", allows);
}

static void check_side(checker *c, const lw_semantic *s, const lw_taxonomy *t, int side)
{
	const lw__tax_cond *why = met(&t->required_when[side], s), *min;
	const lw__features *f = &s->side[side];
	const char *name = side_names[side];

	/* As in the reference, a block nothing requires is not examined. */
	if (!why)
		return;
	if (!f->present) {
		add(c, name, "%s: missing; %s '%s' requires it: {\"Dimension\": number of %s, "
			     "\"Description\": {\"0\": \"what %s 0 is\", ...}}",
		    name, why->key, why->value, side ? "outputs" : "features", side ? "output" : "feature");
		return;
	}
	if (!f->has_dim)
		add(c, name, "%s: \"Dimension\" is missing; it takes the number of %s", name,
		    side ? "outputs" : "features");
	if (!f->has_desc)
		add(c, name, "%s: \"Description\" is missing; it takes an object from feature index "
			     "to text, such as {\"0\": \"age\"} (may be empty)", name);
	if ((min = met(&t->min_dim[side], s)) && f->has_dim && f->dim < min->n)
		add(c, name, "%s: Dimension is %lld; %s '%s' needs at least %lld", name,
		    (long long)f->dim, min->key, min->value, (long long)min->n);
	if (f->has_dim)
		check_range(c, f, name);
}

int lw_semantic_validate(lw_semantic_status *status, lw_semantic_problems *problems,
			 const lw_semantic *s, const lw_taxonomy *t)
{
	lw_taxonomy *own = NULL;
	checker c = { { NULL, 0 }, 0, 0 };
	int err;

	LW_ASSERT_ARG(status && s);
	*status = LW_SEMANTIC_INVALID;
	if (problems)
		*problems = (lw_semantic_problems){ NULL, 0 };
	if (!t && (err = lw_taxonomy_builtin(&own)) < 0)
		return err;
	if (!t)
		t = own;
	for (size_t i = 0; i < t->n; i++)
		check_key(&c, s, &t->keys[i]);
	for (int side = 0; side < 2; side++)
		check_side(&c, s, t, side);
	lw_taxonomy_free(own);
	if (c.failed) {
		lw_semantic_problems_dispose(&c.p);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory validating a semantic specification");
		return LW_ENOMEM;
	}
	*status = c.p.count ? LW_SEMANTIC_INVALID : LW_SEMANTIC_OK;
	if (problems)
		*problems = c.p;
	else
		lw_semantic_problems_dispose(&c.p);
	return 0;
}

int lw_semantic_fill_defaults(lw_semantic *s, const lw_taxonomy *t)
{
	lw_taxonomy *own = NULL;
	int err = 0;

	LW_ASSERT_ARG(s);
	if (!t && (err = lw_taxonomy_builtin(&own)) < 0)
		return err;
	if (!t)
		t = own;
	for (size_t i = 0; !err && i < t->n; i++) {
		const lw__tax_key *k = &t->keys[i];

		if (!k->has_default || lw__semantic_entry(s, k->key))
			continue;
		err = k->type == LW__TYPE_STRING
			      ? lw_semantic_set_string(s, k->key, k->deflt.v[0])
			      : lw_semantic_set_values(s, k->key, lw__sem_type_names[k->type],
						       (const char *const *)k->deflt.v, k->deflt.n);
	}
	lw_taxonomy_free(own);
	return err;
}
