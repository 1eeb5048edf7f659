/*
 * Semantic specifications: reading and writing the reference's JSON shape,
 * accessors, a builder and the search's tag filter.  The taxonomy and the
 * checker that applies it are in taxonomy.c.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "semantic.h"
#include "util.h"

#define QUOTE_MAX 60
#define QBUF (4 * QUOTE_MAX + 8)

static const char *const side_names[2] = { "Input", "Output" };

/* ---- small helpers shared with taxonomy.c ---- */

int lw__strlist_push(lw__strlist *l, const char *s)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4;
		char **v = lw__reallocarray(l->v, cap, sizeof(char *));

		if (!v)
			return LW_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	if (!(copy = lw__strdup(s)))
		return LW_ENOMEM;
	l->v[l->n++] = copy;
	return 0;
}

void lw__strlist_dispose(lw__strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

long lw__strlist_find(const lw__strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], s))
			return (long)i;
	return -1;
}

const char *lw__sem_quote(char *buf, const char *s, size_t max)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)sprintf(buf + o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

char *lw__sem_printf(const char *fmt, ...)
{
	va_list ap;
	int len;
	char *out;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || !(out = lw__mallocarray((size_t)len + 1, 1)))
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return out;
}

/* ---- lookups ---- */

lw__sem_entry *lw__semantic_entry(const lw_semantic *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->entries[i].key, key))
			return &s->entries[i];
	return NULL;
}

long lw__features_find(const lw__features *f, int64_t index)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->desc[mid].index == index)
			return (long)mid;
		if (f->desc[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int side_of(const char *key)
{
	return !strcmp(key, "Input") ? LW_SEMANTIC_INPUT : !strcmp(key, "Output") ? LW_SEMANTIC_OUTPUT : -1;
}

static void features_clear(lw__features *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->desc[i].text);
	free(f->desc);
	memset(f, 0, sizeof(*f));
}

static void entry_dispose(lw__sem_entry *e)
{
	free(e->key);
	free(e->type);
	lw__strlist_dispose(&e->values);
}

void lw_semantic_free(lw_semantic *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		entry_dispose(&s->entries[i]);
	free(s->entries);
	features_clear(&s->side[0]);
	features_clear(&s->side[1]);
	free(s);
}

int lw_semantic_new(lw_semantic **out)
{
	LW_ASSERT_ARG(out);
	*out = lw__calloc(1, sizeof(lw_semantic));
	return *out ? 0 : LW_ENOMEM;
}

/* Append an entry for key (a copy) and return it, or NULL on OOM. */
static lw__sem_entry *entry_append(lw_semantic *s, const char *key)
{
	lw__sem_entry *e;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		lw__sem_entry *v = lw__reallocarray(s->entries, cap, sizeof(*v));

		if (!v)
			return NULL;
		s->entries = v;
		s->cap = cap;
	}
	e = &s->entries[s->n];
	memset(e, 0, sizeof(*e));
	e->side = side_of(key);
	if (!(e->key = lw__strdup(key)))
		return NULL;
	s->n++;
	return e;
}

/* ---- parsing ---- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/*
 * Python's json writes NaN and Infinity, which are not JSON: say so
 * plainly.  jansson names only the first character of the bad token, so
 * look at the text around the error.
 */
static int is_nonfinite_token(const char *text, size_t len, const json_error_t *je)
{
	size_t at = (size_t)je->position, from = at > 12 ? at - 12 : 0;
	const char *near = strstr(je->text, "near '");

	if (!near || !strchr("NI-", near[6]))
		return 0;
	for (size_t i = from; i < len && i <= at + 1; i++)
		if ((len - i >= 3 && !memcmp(text + i, "NaN", 3)) ||
		    (len - i >= 8 && !memcmp(text + i, "Infinity", 8)))
			return 1;
	return 0;
}

static int parse_error(const char *source, const char *text, size_t len, const json_error_t *je)
{
	if (is_nonfinite_token(text, len, je))
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: line %d, column %d: NaN or Infinity is not JSON; a semantic "
			     "specification holds only text, lists and integers",
			     source, je->line, je->column);
	else
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, je->line,
			     je->column, je->text);
	return LW_EINVALID;
}

static int bad(const char *source, const char *key, const char *what, const json_t *found)
{
	char q[QBUF];

	lw_error_set(LW_ERRCLASS_JSON, "%s: %s: %s%s%s", source, lw__sem_quote(q, key, QUOTE_MAX),
		     what, found ? ", found " : "", found ? json_kind(found) : "");
	return LW_EINVALID;
}

static int read_values(lw__sem_entry *e, json_t *v, const char *source)
{
	char what[96];
	size_t i;
	json_t *item;

	if (json_is_string(v)) {
		e->form = LW__VALUES_STRING;
		return lw__strlist_push(&e->values, json_string_value(v));
	}
	if (!json_is_array(v))
		return bad(source, e->key, "\"Values\" must be a list of strings or a string", v);
	if (json_array_size(v) > LW__SEM_MAX_VALUES) {
		snprintf(what, sizeof(what), "\"Values\" has %zu items, over the limit of %d",
			 json_array_size(v), LW__SEM_MAX_VALUES);
		return bad(source, e->key, what, NULL);
	}
	e->form = LW__VALUES_LIST;
	json_array_foreach(v, i, item) {
		int err;

		if (!json_is_string(item)) {
			snprintf(what, sizeof(what), "\"Values\"[%zu] must be a string", i);
			return bad(source, e->key, what, item);
		}
		if ((err = lw__strlist_push(&e->values, json_string_value(item))) < 0)
			return err;
	}
	return 0;
}

static int read_entry(lw__sem_entry *e, json_t *v, const char *source)
{
	json_t *type, *values;

	if (!json_is_object(v))
		return bad(source, e->key, "must be an object {\"Type\": ..., \"Values\": ...}", v);
	type = json_object_get(v, "Type");
	if (type && !json_is_string(type))
		return bad(source, e->key, "\"Type\" must be a string such as \"Class\"", type);
	if (type && !(e->type = lw__strdup(json_string_value(type))))
		return LW_ENOMEM;
	/* A missing Values stays NONE: the reference reads it as empty. */
	values = json_object_get(v, "Values");
	return values ? read_values(e, values, source) : 0;
}

/*
 * A feature index as Python's int() reads the reference's keys: optional
 * sign, then decimal digits (at most 18, so it fits an int64).
 */
static int parse_index(int64_t *out, const char *k)
{
	const char *p = k + (*k == '-' || *k == '+');
	size_t len = strlen(p);

	if (len == 0 || len > 18 || strspn(p, "0123456789") != len)
		return -1;
	*out = strtoll(k, NULL, 10);
	return 0;
}

static int dim_value(int64_t *out, const json_t *d)
{
	double r;

	if (json_is_integer(d)) {
		*out = json_integer_value(d);
		return *out >= 0 ? 0 : -1;
	}
	/* 10.0 is read as 10 (JavaScript clients cannot tell them apart). */
	r = json_is_real(d) ? json_real_value(d) : -1;
	if (!(r >= 0 && r <= 9e15 && r == floor(r)))
		return -1;
	*out = (int64_t)r;
	return 0;
}

static int read_dim(lw__features *f, const char *key, json_t *d, const char *source)
{
	char q[QBUF], num[40];

	if (dim_value(&f->dim, d) == 0) {
		f->has_dim = 1;
		return 0;
	}
	if (json_is_number(d)) {
		lw__format_double(num, json_number_value(d));
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: %s: \"Dimension\" must be a non-negative integer (the number of "
			     "features), found %s", source, lw__sem_quote(q, key, QUOTE_MAX), num);
		return LW_EINVALID;
	}
	return bad(source, key, "\"Dimension\" must be a non-negative integer (the number of features)",
		   d);
}

static int cmp_feature(const void *a, const void *b)
{
	int64_t x = ((const lw__feature *)a)->index, y = ((const lw__feature *)b)->index;

	return (x > y) - (x < y);
}

static int check_unique(const lw__features *f, const char *key, const char *source)
{
	char q[QBUF];

	for (size_t i = 1; i < f->n; i++)
		if (f->desc[i].index == f->desc[i - 1].index) {
			lw_error_set(LW_ERRCLASS_JSON,
				     "%s: %s: \"Description\" describes feature %lld twice "
				     "(keys such as \"1\" and \"01\")",
				     source, lw__sem_quote(q, key, QUOTE_MAX),
				     (long long)f->desc[i].index);
			return LW_EINVALID;
		}
	return 0;
}

static int read_one_feature(lw__features *f, const char *key, const char *k, json_t *v,
			    const char *source)
{
	char q[QBUF], qk[QBUF];
	lw__feature *ft = &f->desc[f->n];

	if (parse_index(&ft->index, k) < 0) {
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: %s: \"Description\" key '%s' is not a feature index (an integer "
			     "such as \"0\")", source, lw__sem_quote(q, key, QUOTE_MAX),
			     lw__sem_quote(qk, k, QUOTE_MAX));
		return LW_EINVALID;
	}
	if (!json_is_string(v)) {
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: %s: \"Description\" of feature '%s' must be a string, found %s",
			     source, lw__sem_quote(q, key, QUOTE_MAX), lw__sem_quote(qk, k, QUOTE_MAX),
			     json_kind(v));
		return LW_EINVALID;
	}
	if (!(ft->text = lw__strdup(json_string_value(v))))
		return LW_ENOMEM;
	f->n++;
	return 0;
}

static int read_desc(lw__features *f, const char *key, json_t *d, const char *source)
{
	const char *k;
	json_t *v;
	size_t n = json_object_size(d);
	int err;

	if (!json_is_object(d))
		return bad(source, key,
			   "\"Description\" must be an object from feature index to text, "
			   "like {\"0\": \"age\"}", d);
	if (n > LW__SEM_MAX_FEATURES)
		return bad(source, key, "\"Description\" has more features than the limit of 4194304",
			   NULL);
	if (!(f->desc = lw__calloc(n, sizeof(lw__feature))))
		return LW_ENOMEM;
	f->cap = n;
	f->has_desc = 1;
	json_object_foreach(d, k, v)
		if ((err = read_one_feature(f, key, k, v, source)) < 0)
			return err;
	qsort(f->desc, f->n, sizeof(lw__feature), cmp_feature);
	return check_unique(f, key, source);
}

static int read_features(lw_semantic *s, lw__sem_entry *e, json_t *v, const char *source)
{
	lw__features *f = &s->side[e->side];
	json_t *d;
	int err;

	if (!json_is_object(v))
		return bad(source, e->key,
			   "must be an object {\"Dimension\": n, \"Description\": {\"0\": \"...\"}}", v);
	f->present = 1;
	if ((d = json_object_get(v, "Dimension")) && (err = read_dim(f, e->key, d, source)) < 0)
		return err;
	if ((d = json_object_get(v, "Description")))
		return read_desc(f, e->key, d, source);
	return 0;
}

static int read_item(lw_semantic *s, const char *key, json_t *v, const char *source)
{
	lw__sem_entry *e;

	/* "Input": null is how Python writes an absent block. */
	if (side_of(key) >= 0 && json_is_null(v))
		return 0;
	if (!(e = entry_append(s, key)))
		return LW_ENOMEM;
	return e->side >= 0 ? read_features(s, e, v, source) : read_entry(e, v, source);
}

static int read_root(lw_semantic *s, json_t *root, const char *source)
{
	const char *key;
	json_t *v;
	int err;

	if (!json_is_object(root)) {
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: the top level must be a JSON object of semantic keys "
			     "(\"Data\", \"Task\", ...), found %s", source, json_kind(root));
		return LW_EINVALID;
	}
	if (json_object_size(root) > LW__SEM_MAX_KEYS) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %zu top-level keys, over the limit of %d", source,
			     json_object_size(root), LW__SEM_MAX_KEYS);
		return LW_EINVALID;
	}
	json_object_foreach(root, key, v)
		if ((err = read_item(s, key, v, source)) < 0)
			return err;
	return 0;
}

int lw_semantic_from_json(lw_semantic **out, const char *text, size_t len, const char *source)
{
	json_error_t je;
	json_t *root = NULL;
	lw_semantic *s = NULL;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "semantic specification";
	if (len > LW__SEM_MAX_BYTES) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: %zu bytes, over the limit of %zu", source, len,
			     LW__SEM_MAX_BYTES);
		return LW_EINVALID;
	}
	if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return parse_error(source, text, len, &je);
	if ((err = lw_semantic_new(&s)) < 0 || (err = read_root(s, root, source)) < 0)
		goto done;
	*out = s;
	s = NULL;
done:
	lw_semantic_free(s);
	json_decref(root);
	return err;
}

int lw_semantic_load(lw_semantic **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, LW__SEM_MAX_BYTES)) < 0)
		return err;
	err = lw_semantic_from_json(out, text, len, path);
	free(text);
	return err;
}

/* ---- writing ---- */

/* json_*_set_new that tolerate a NULL value (OOM) by failing. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : LW_ENOMEM;
}

static json_t *values_json(const lw__sem_entry *e)
{
	json_t *a;

	if (e->form == LW__VALUES_STRING)
		return json_string(e->values.v[0]);
	if (!(a = json_array()))
		return NULL;
	for (size_t i = 0; i < e->values.n; i++)
		if (json_array_append_new(a, json_string(e->values.v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *entry_json(const lw__sem_entry *e)
{
	json_t *o = json_object();

	if (!o || (e->type && put(o, "Type", json_string(e->type)) < 0) ||
	    (e->form != LW__VALUES_NONE && put(o, "Values", values_json(e)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *desc_json(const lw__features *f)
{
	json_t *o = json_object();
	char k[32];

	for (size_t i = 0; o && i < f->n; i++) {
		snprintf(k, sizeof(k), "%lld", (long long)f->desc[i].index);
		if (put(o, k, json_string(f->desc[i].text)) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *features_json(const lw__features *f)
{
	json_t *o = json_object();

	if (!o || (f->has_dim && put(o, "Dimension", json_integer(f->dim)) < 0) ||
	    (f->has_desc && put(o, "Description", desc_json(f)) < 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/*
 * Python's json.dump(ensure_ascii) writes \u00e9 and \u007f where jansson
 * writes \u00E9 and a raw DEL: convert, so files match byte for byte.
 */
static char *pythonize(char *text)
{
	size_t len = strlen(text), dels = 0, o = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		dels += text[i] == 0x7f;
	if (!(out = lw__mallocarray(len + 5 * dels + 1, 1))) {
		free(text);
		return NULL;
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == 0x7f) {
			memcpy(out + o, "\\u007f", 6);
			o += 6;
		} else if (text[i] == '\\') {
			/* An escape pair; after \u, four hex digits. */
			size_t n = text[i + 1] == 'u' ? 6 : 2;

			for (size_t k = 0; k < n; k++)
				out[o++] = (char)tolower((unsigned char)text[i + k]);
			i += n - 1;
		} else {
			out[o++] = text[i];
		}
	}
	out[o] = '\0';
	free(text);
	return out;
}

int lw_semantic_to_json(char **out, const lw_semantic *s)
{
	json_t *root;
	int err = 0;

	LW_ASSERT_ARG(out && s);
	*out = NULL;
	if (!(root = json_object()))
		err = LW_ENOMEM;
	for (size_t i = 0; !err && i < s->n; i++) {
		const lw__sem_entry *e = &s->entries[i];

		err = put(root, e->key, e->side >= 0 ? features_json(&s->side[e->side]) : entry_json(e));
	}
	/* indent 1 and ASCII escapes: the bytes Python's json.dump(indent=1) writes. */
	if (!err && !(*out = json_dumps(root, JSON_INDENT(1) | JSON_ENSURE_ASCII)))
		err = LW_ENOMEM;
	if (!err && !(*out = pythonize(*out)))
		err = LW_ENOMEM;
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing a semantic specification");
	json_decref(root);
	return err;
}

int lw_semantic_save(const lw_semantic *s, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(s && path);
	if ((err = lw_semantic_to_json(&text, s)) < 0)
		return err;
	len = strlen(text);
	text[len] = '\n'; /* the NUL's byte: the file ends with a newline */
	err = lw__write_file_atomic(path, text, len + 1);
	free(text);
	return err;
}

/* ---- accessors ---- */

const char *lw_semantic_type(const lw_semantic *s, const char *key)
{
	const lw__sem_entry *e = s && key ? lw__semantic_entry(s, key) : NULL;

	return e ? e->type : NULL;
}

const char *const *lw_semantic_values(size_t *n, const lw_semantic *s, const char *key)
{
	const lw__sem_entry *e = s && key ? lw__semantic_entry(s, key) : NULL;

	if (!e || e->side >= 0 || e->form == LW__VALUES_NONE) {
		if (n)
			*n = 0;
		return NULL;
	}
	if (n)
		*n = e->values.n;
	return (const char *const *)e->values.v;
}

const char *lw_semantic_first(const lw_semantic *s, const char *key)
{
	size_t n;
	const char *const *v = lw_semantic_values(&n, s, key);

	return n ? v[0] : NULL;
}

const char *lw_semantic_data(const lw_semantic *s)
{
	return lw_semantic_first(s, "Data");
}

const char *lw_semantic_task(const lw_semantic *s)
{
	return lw_semantic_first(s, "Task");
}

const char *lw_semantic_name(const lw_semantic *s)
{
	const char *v = lw_semantic_first(s, "Name");

	return v ? v : "";
}

const char *lw_semantic_description(const lw_semantic *s)
{
	const char *v = lw_semantic_first(s, "Description");

	return v ? v : "";
}

static int side_ok(lw_semantic_side side)
{
	return side == LW_SEMANTIC_INPUT || side == LW_SEMANTIC_OUTPUT;
}

int lw_semantic_dim(size_t *out, const lw_semantic *s, lw_semantic_side side)
{
	LW_ASSERT_ARG(out && s && side_ok(side));
	if (!s->side[side].present || !s->side[side].has_dim) {
		lw_error_set(LW_ERRCLASS_INVALID, "the specification has no %s Dimension",
			     side_names[side]);
		return LW_ENOTFOUND;
	}
	*out = (size_t)s->side[side].dim;
	return 0;
}

const char *lw_semantic_feature(const lw_semantic *s, lw_semantic_side side, size_t i)
{
	long at;

	if (!s || !side_ok(side) || i > INT64_MAX)
		return NULL;
	at = lw__features_find(&s->side[side], (int64_t)i);
	return at < 0 ? NULL : s->side[side].desc[at].text;
}

/* ---- builder ---- */

static int check_text(const char *what, const char *text)
{
	json_t *j = json_string(text);
	char q[QBUF];

	if (j) {
		json_decref(j);
		return 0;
	}
	lw_error_set(LW_ERRCLASS_INVALID, "%s '%s' is not valid UTF-8 text", what,
		     lw__sem_quote(q, text, QUOTE_MAX));
	return LW_EINVALID;
}

static int check_key(const char *key)
{
	if (!*key) {
		lw_error_set(LW_ERRCLASS_INVALID, "a semantic key must not be empty");
		return LW_EINVALID;
	}
	if (side_of(key) >= 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is a feature block: set it with lw_semantic_set_dim",
			     key);
		return LW_EINVALID;
	}
	return check_text("key", key);
}

/* Replace key's Type and Values by type and l (taken over). */
static int set_entry(lw_semantic *s, const char *key, const char *type, lw__values_form form,
		     lw__strlist *l)
{
	lw__sem_entry *e = lw__semantic_entry(s, key);
	char *t = lw__strdup(type);

	if (!t || (!e && !(e = entry_append(s, key)))) {
		free(t);
		lw__strlist_dispose(l);
		return LW_ENOMEM;
	}
	free(e->type);
	lw__strlist_dispose(&e->values);
	e->type = t;
	e->form = form;
	e->values = *l;
	return 0;
}

int lw_semantic_set_values(lw_semantic *s, const char *key, const char *type,
			   const char *const *values, size_t n)
{
	lw__strlist l = { 0 };
	int err;

	LW_ASSERT_ARG(s && key && type && (values || n == 0));
	if ((err = check_key(key)) < 0 || (err = check_text("Type", type)) < 0)
		return err;
	if (n > LW__SEM_MAX_VALUES) {
		lw_error_set(LW_ERRCLASS_INVALID, "%zu values for one key, over the limit of %d", n,
			     LW__SEM_MAX_VALUES);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < n; i++)
		LW_ASSERT_ARG(values[i]);
	for (size_t i = 0; i < n; i++)
		if ((err = check_text("value", values[i])) < 0 ||
		    (err = lw__strlist_push(&l, values[i])) < 0) {
			lw__strlist_dispose(&l);
			return err;
		}
	return set_entry(s, key, type, LW__VALUES_LIST, &l);
}

int lw_semantic_set_string(lw_semantic *s, const char *key, const char *text)
{
	lw__strlist l = { 0 };
	int err;

	LW_ASSERT_ARG(s && key && text);
	if ((err = check_key(key)) < 0 || (err = check_text("text", text)) < 0 ||
	    (err = lw__strlist_push(&l, text)) < 0)
		return err;
	return set_entry(s, key, lw__sem_type_names[LW__TYPE_STRING], LW__VALUES_STRING, &l);
}

int lw_semantic_set_dim(lw_semantic *s, lw_semantic_side side, size_t dim)
{
	lw__features *f;

	LW_ASSERT_ARG(s && side_ok(side));
	if (dim > INT64_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s Dimension %zu is too large", side_names[side], dim);
		return LW_EINVALID;
	}
	if (!lw__semantic_entry(s, side_names[side]) && !entry_append(s, side_names[side]))
		return LW_ENOMEM;
	f = &s->side[side];
	features_clear(f);
	f->present = f->has_dim = f->has_desc = 1;
	f->dim = (int64_t)dim;
	return 0;
}

/* Make room for one more description at position at. */
static int features_insert(lw__features *f, size_t at)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		lw__feature *d = lw__reallocarray(f->desc, cap, sizeof(*d));

		if (!d)
			return LW_ENOMEM;
		f->desc = d;
		f->cap = cap;
	}
	memmove(f->desc + at + 1, f->desc + at, (f->n - at) * sizeof(*f->desc));
	f->n++;
	return 0;
}

int lw_semantic_set_feature(lw_semantic *s, lw_semantic_side side, size_t i, const char *text)
{
	lw__features *f;
	char *copy;
	size_t at = 0;
	long found;
	int err;

	LW_ASSERT_ARG(s && side_ok(side) && text && i <= INT64_MAX);
	f = &s->side[side];
	if (!f->present) {
		lw_error_set(LW_ERRCLASS_INVALID, "no %s block to describe: set its Dimension first",
			     side_names[side]);
		return LW_ENOTFOUND;
	}
	if ((err = check_text("description", text)) < 0 || !(copy = lw__strdup(text)))
		return err < 0 ? err : LW_ENOMEM;
	if ((found = lw__features_find(f, (int64_t)i)) >= 0) {
		free(f->desc[found].text);
		f->desc[found].text = copy;
		return 0;
	}
	while (at < f->n && f->desc[at].index < (int64_t)i)
		at++;
	if ((err = features_insert(f, at)) < 0) {
		free(copy);
		return err;
	}
	f->desc[at] = (lw__feature){ (int64_t)i, copy };
	f->has_desc = 1;
	return 0;
}

int lw_semantic_remove(lw_semantic *s, const char *key)
{
	lw__sem_entry *e;
	size_t at;

	LW_ASSERT_ARG(s && key);
	if (!(e = lw__semantic_entry(s, key))) {
		lw_error_set(LW_ERRCLASS_INVALID, "the specification has no key '%s'", key);
		return LW_ENOTFOUND;
	}
	if (e->side >= 0)
		features_clear(&s->side[e->side]);
	entry_dispose(e);
	at = (size_t)(e - s->entries);
	memmove(e, e + 1, (s->n - at - 1) * sizeof(*e));
	s->n--;
	return 0;
}

/* ---- the search's tag filter ---- */

/* Python's len(Values): items of a list, characters of a string, 0 when absent. */
static int values_empty(const lw__sem_entry *e)
{
	return e->form == LW__VALUES_NONE || e->values.n == 0 ||
	       (e->form == LW__VALUES_STRING && !e->values.v[0][0]);
}

static int lists_intersect(const lw__strlist *a, const lw__strlist *b)
{
	for (size_t i = 0; i < a->n; i++)
		if (lw__strlist_find(b, a->v[i]) >= 0)
			return 1;
	return 0;
}

/*
 * One user key against the learnware's.  A string where a list belongs is
 * taken as a one-element list (the reference would compare substrings or
 * characters; the checker rejects such specifications anyway).
 */
static int key_matches(const lw__sem_entry *u, const lw__sem_entry *l)
{
	if (values_empty(l))
		return 0;
	if (u->type && !strcmp(u->type, "Class"))
		return lw__strlist_find(&u->values, l->values.v[0]) >= 0;
	if (u->type && !strcmp(u->type, "Tag"))
		return lists_intersect(&u->values, &l->values);
	return 1;
}

int lw_semantic_matches(const lw_semantic *user, const lw_semantic *learnware)
{
	if (!user || !learnware)
		return 0;
	for (size_t i = 0; i < user->n; i++) {
		const lw__sem_entry *u = &user->entries[i], *l;

		/* Input/Output carry no Values, so the reference skips them. */
		if (u->side >= 0 || values_empty(u) || !strcmp(u->key, "Name") ||
		    !strcmp(u->key, "Description"))
			continue;
		/* A key the learnware lacks does not filter it out. */
		if ((l = lw__semantic_entry(learnware, u->key)) && !key_matches(u, l))
			return 0;
	}
	return 1;
}
