/*
 * Checks that make an untrusted XGBoost model file safe to hand to
 * libxgboost 1.7, which trusts what it reads:
 *
 *  - its UBJ reader copies lengths and counts from the file without
 *    checking them against the buffer (a truncated file reads past the
 *    end), so UBJ input is parsed here first, with every read bounded;
 *  - its JSON reader recurses once per nesting level, so deep nesting is
 *    refused before it can exhaust the stack;
 *  - its predictor follows tree child indices and split feature indices
 *    without bounds checks, so after loading, the booster's own UBJ dump
 *    is walked and every tree is checked: children inside the tree and
 *    after their parent (no cycles), features below num_feature, each
 *    tree's output group in range, no categorical splits.
 *
 * The UBJ subset is the one xgboost writes and reads (json_io.h): '{'
 * objects of 'L'-length keys, '[' arrays (plain, '#L' counted, or '$'
 * typed with d, U, l or L elements), 'S' strings, i U I l L d D numbers,
 * T F Z.  Everything else is refused.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "train.h"
#include "util.h"

#define MAX_DEPTH 64

/* --- a bounded UBJ reader ------------------------------------------------ */

/* A parsed value; strings and typed arrays point into the buffer. */
typedef struct ubj {
	char type;                 /* '{' '[' 'S' 'n' (number) 'T' 'F' 'Z' or '$' (typed array) */
	char elem;                 /* '$': the element marker */
	size_t n;                  /* children, string bytes or typed elements */
	const unsigned char *data; /* 'S' bytes, '$' payload (big-endian) */
	double num;
	struct ubj *kids;          /* '{' and '[': n values */
	const unsigned char **keys; /* '{': n keys */
	size_t *key_len;
} ubj;

typedef struct {
	const unsigned char *base, *p, *end;
	const char *source;
	int err;
} cursor;

static void ubj_dispose(ubj *v)
{
	for (size_t i = 0; v->kids && i < v->n; i++)
		ubj_dispose(&v->kids[i]);
	free(v->kids);
	free(v->keys);
	free(v->key_len);
}

static bool malformed(cursor *c, const char *why)
{
	if (!c->err) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: not a well-formed XGBoost UBJ model: %s at "
			     "byte %td", c->source, why, c->p - c->base);
		c->err = LW_EINVALID;
	}
	return false;
}

static bool take(cursor *c, size_t n, const unsigned char **at)
{
	if ((size_t)(c->end - c->p) < n)
		return malformed(c, "truncated");
	*at = c->p;
	c->p += n;
	return true;
}

static size_t scalar_size(int marker)
{
	switch (marker) {
	case 'i': case 'U': return 1;
	case 'I': return 2;
	case 'l': case 'd': return 4;
	case 'L': case 'D': return 8;
	default: return 0;
	}
}

static uint64_t big_endian(const unsigned char *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/* The value of a scalar of the given marker at b, as a double. */
static double scalar_value(int marker, const unsigned char *b)
{
	uint64_t u = big_endian(b, scalar_size(marker));
	uint32_t u32 = (uint32_t)u;
	float f;
	double d;

	switch (marker) {
	case 'i': return (int8_t)u;
	case 'U': return (uint8_t)u;
	case 'I': return (int16_t)u;
	case 'l': return (int32_t)u32;
	case 'L': return (double)(int64_t)u;
	case 'd': memcpy(&f, &u32, 4); return f;
	default: memcpy(&d, &u, 8); return d;
	}
}

static bool marker(cursor *c, int *m)
{
	const unsigned char *b;

	if (!take(c, 1, &b))
		return false;
	*m = *b;
	return true;
}

static bool expect_marker(cursor *c, int want)
{
	int m;

	return marker(c, &m) && (m == want || malformed(c, "unexpected marker"));
}

/* 'L' then a non-negative int64 no larger than what is left times unit. */
static bool length(cursor *c, size_t unit, size_t *out)
{
	const unsigned char *b;
	uint64_t v;

	if (!expect_marker(c, 'L') || !take(c, 8, &b))
		return false;
	v = big_endian(b, 8);
	if (v > (uint64_t)(c->end - c->p) / (unit ? unit : 1) && unit)
		return malformed(c, "a length past the end of the file");
	if (v >> 62)
		return malformed(c, "a negative length");
	*out = (size_t)v;
	return true;
}

static bool value(cursor *c, ubj *v, int m, int depth);

static bool out_of_memory(cursor *c)
{
	c->err = LW_ENOMEM;
	return false;
}

static bool push(cursor *c, ubj *v, size_t *cap, const unsigned char *key, size_t key_len)
{
	if (v->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 8;
		ubj *k = lw__reallocarray(v->kids, nc, sizeof(ubj));

		if (!k)
			return out_of_memory(c);
		v->kids = k;
		if (v->type == '{') {
			const unsigned char **ks = lw__reallocarray(v->keys, nc, sizeof(*ks));
			size_t *kl = ks ? lw__reallocarray(v->key_len, nc, sizeof(size_t)) : NULL;

			if (ks)
				v->keys = ks;
			if (!ks || !kl)
				return out_of_memory(c);
			v->key_len = kl;
		}
		*cap = nc;
	}
	memset(&v->kids[v->n], 0, sizeof(ubj));
	if (v->type == '{') {
		v->keys[v->n] = key;
		v->key_len[v->n] = key_len;
	}
	v->n++;
	return true;
}

static bool object(cursor *c, ubj *v, int depth)
{
	size_t cap = 0;

	for (;;) {
		const unsigned char *key;
		size_t len;
		int m;

		if (c->p == c->end)
			return malformed(c, "truncated");
		if (*c->p == '}') {
			c->p++;
			return true;
		}
		if (!length(c, 1, &len) || !take(c, len, &key) || !push(c, v, &cap, key, len) ||
		    !marker(c, &m) || !value(c, &v->kids[v->n - 1], m, depth + 1))
			return false;
	}
}

static bool typed_array(cursor *c, ubj *v)
{
	const unsigned char *b;
	int m;

	c->p++;
	if (!marker(c, &m))
		return false;
	if (m != 'd' && m != 'U' && m != 'l' && m != 'L')
		return malformed(c, "an unsupported typed array");
	if (!expect_marker(c, '#') || !length(c, scalar_size(m), &v->n) ||
	    !take(c, v->n * scalar_size(m), &b))
		return false;
	v->type = '$';
	v->elem = (char)m;
	v->data = b;
	return true;
}

static bool array(cursor *c, ubj *v, int depth)
{
	size_t cap = 0, count;
	int m;

	if (c->p < c->end && *c->p == '$')
		return typed_array(c, v);
	if (c->p < c->end && *c->p == '#') {
		c->p++;
		/* Every value takes at least a byte. */
		if (!length(c, 1, &count))
			return false;
		for (size_t i = 0; i < count; i++)
			if (!push(c, v, &cap, NULL, 0) || !marker(c, &m) ||
			    !value(c, &v->kids[v->n - 1], m, depth + 1))
				return false;
		return true;
	}
	for (;;) {
		if (c->p == c->end)
			return malformed(c, "truncated");
		if (*c->p == ']') {
			c->p++;
			return true;
		}
		if (!push(c, v, &cap, NULL, 0) || !marker(c, &m) ||
		    !value(c, &v->kids[v->n - 1], m, depth + 1))
			return false;
	}
}

static bool value(cursor *c, ubj *v, int m, int depth)
{
	const unsigned char *b;

	if (depth > MAX_DEPTH)
		return malformed(c, "nesting too deep");
	v->type = (char)m;
	switch (m) {
	case '{': return object(c, v, depth);
	case '[': return array(c, v, depth);
	case 'S': return length(c, 1, &v->n) && take(c, v->n, &v->data);
	case 'T': case 'F': case 'Z': return true;
	default:
		if (!scalar_size(m))
			return malformed(c, "an unknown marker");
		if (!take(c, scalar_size(m), &b))
			return false;
		v->type = 'n';
		v->num = scalar_value(m, b);
		return true;
	}
}

/* Parse a whole UBJ document (an object, nothing after it). */
static int ubj_parse(ubj *out, const void *buf, size_t len, const char *source)
{
	cursor c = { buf, buf, (const unsigned char *)buf + len, source, 0 };

	memset(out, 0, sizeof(*out));
	out->type = '{';
	if (expect_marker(&c, '{') && object(&c, out, 0) && c.p != c.end)
		malformed(&c, "bytes after the end of the model");
	if (c.err) {
		ubj_dispose(out);
		memset(out, 0, sizeof(*out));
	}
	return c.err;
}

int lw__xgboost_check_ubj(const void *buf, size_t len, const char *source)
{
	ubj root;
	int err = ubj_parse(&root, buf, len, source);

	ubj_dispose(&root);
	return err;
}

/* --- JSON nesting ------------------------------------------------------------ */

int lw__xgboost_check_json_depth(const char *text, size_t len, const char *source)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char ch = text[i];

		if (in_string) {
			i += ch == '\\';
			in_string = ch != '"';
		} else if (ch == '"') {
			in_string = true;
		} else if ((ch == '{' || ch == '[') && ++depth > MAX_DEPTH) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s: JSON nested more than %d levels deep "
				     "is not an XGBoost model", source, MAX_DEPTH);
			return LW_EINVALID;
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return 0;
}

/* --- the trees ---------------------------------------------------------- */

static const ubj *get(const ubj *obj, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; obj && obj->type == '{' && i < obj->n; i++)
		if (obj->key_len[i] == n && !memcmp(obj->keys[i], key, n))
			return &obj->kids[i];
	return NULL;
}

/* Element i of an array of integers (typed or not); false if it is not one. */
static bool int_at(const ubj *a, size_t i, int64_t *out)
{
	double v;

	if (a->type == '$' && a->elem != 'd')
		v = scalar_value(a->elem, a->data + i * scalar_size(a->elem));
	else if (a->type == '[' && a->kids[i].type == 'n')
		v = a->kids[i].num;
	else
		return false;
	*out = (int64_t)v;
	return (double)*out == v;
}

/* A parameter xgboost stores as a decimal string, e.g. "num_nodes":"13". */
static bool param(const ubj *obj, const char *key, int64_t *out)
{
	const ubj *s = get(obj, key);
	char buf[32];
	char *end;

	if (!s || s->type != 'S' || s->n == 0 || s->n >= sizeof(buf))
		return false;
	memcpy(buf, s->data, s->n);
	buf[s->n] = '\0';
	*out = strtoll(buf, &end, 10);
	return !*end && *out >= 0;
}

static bool is_array(const ubj *a)
{
	return a && (a->type == '[' || a->type == '$');
}

typedef struct {
	const char *source;
	int64_t features, groups;
} limits;

static int bad_tree(const limits *l, size_t t, const char *why)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s: tree %zu of the XGBoost model is malformed: %s; "
		     "refusing the model", l->source, t, why);
	return LW_EINVALID;
}

static int check_arrays(const ubj *tree, int64_t n, const limits *l, size_t t)
{
	static const char *const same[] = { "left_children", "right_children", "split_indices",
					     "split_conditions", "default_left", "base_weights" };
	static const char *const empty[] = { "categories", "categories_nodes",
					     "categories_segments", "categories_sizes" };
	const ubj *st = get(tree, "split_type");

	for (size_t k = 0; k < sizeof(same) / sizeof(same[0]); k++)
		if (!is_array(get(tree, same[k])) || get(tree, same[k])->n != (size_t)n)
			return bad_tree(l, t, "an array does not hold num_nodes entries");
	for (size_t k = 0; k < sizeof(empty) / sizeof(empty[0]); k++)
		if (get(tree, empty[k]) && (!is_array(get(tree, empty[k])) || get(tree, empty[k])->n))
			return bad_tree(l, t, "categorical splits are not supported");
	for (size_t i = 0; st && i < st->n; i++) {
		int64_t v;

		if (!is_array(st) || !int_at(st, i, &v) || v != 0)
			return bad_tree(l, t, "categorical splits are not supported");
	}
	return 0;
}

/*
 * Children come after their parent (so walks end), inside the tree, both
 * or neither; no node has two parents; internal nodes split on a feature
 * the model has.
 */
static int check_nodes(const ubj *tree, int64_t n, const limits *l, size_t t)
{
	const ubj *left = get(tree, "left_children"), *right = get(tree, "right_children");
	const ubj *feat = get(tree, "split_indices");
	unsigned char *seen = lw__calloc((size_t)n, 1);
	int err = 0;

	if (!seen)
		return LW_ENOMEM;
	for (int64_t i = 0; i < n && !err; i++) {
		int64_t a, b, f;

		if (!int_at(left, (size_t)i, &a) || !int_at(right, (size_t)i, &b) ||
		    !int_at(feat, (size_t)i, &f))
			err = bad_tree(l, t, "a node index is not an integer");
		else if (a == -1 && b == -1)
			continue;
		else if (a <= i || b <= i || a >= n || b >= n || a == b || seen[a] || seen[b])
			err = bad_tree(l, t, "a child index is out of range or shared");
		else if (f < 0 || f >= l->features)
			err = bad_tree(l, t, "a split uses a feature the model does not have");
		else
			seen[a] = seen[b] = 1;
	}
	free(seen);
	return err;
}

static int check_tree(const ubj *tree, const limits *l, size_t t)
{
	const ubj *tp = get(tree, "tree_param");
	int64_t n, leaf_vec;
	int err;

	if (!param(tp, "num_nodes", &n) || n < 1 || n > INT32_MAX)
		return bad_tree(l, t, "tree_param.num_nodes is missing or out of range");
	if (param(tp, "size_leaf_vector", &leaf_vec) && leaf_vec != 0)
		return bad_tree(l, t, "vector leaves are not supported");
	if ((err = check_arrays(tree, n, l, t)) < 0)
		return err;
	return check_nodes(tree, n, l, t);
}

static int bad_model(const char *source, const char *why)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s: the XGBoost model is malformed or unsupported: %s",
		     source, why);
	return LW_EINVALID;
}

/* The trees of a gbtree model (also the inside of a dart one). */
static int check_gbtree(const ubj *model, const limits *l, size_t *n_trees)
{
	const ubj *trees = get(model, "trees"), *info = get(model, "tree_info");
	int64_t declared, parallel = 1;
	int err;

	if (!trees || trees->type != '[' || !is_array(info) || info->n != trees->n)
		return bad_model(l->source, "\"trees\" and \"tree_info\" must be arrays of one length");
	if (!param(get(model, "gbtree_model_param"), "num_trees", &declared) ||
	    declared != (int64_t)trees->n)
		return bad_model(l->source, "num_trees does not match the trees");
	param(get(model, "gbtree_model_param"), "num_parallel_tree", &parallel);
	if (parallel < 1 || trees->n % (size_t)(parallel * l->groups))
		return bad_model(l->source, "the trees do not fill whole boosting rounds");
	for (size_t t = 0; t < trees->n; t++) {
		int64_t g;

		if (!int_at(info, t, &g) || g < 0 || g >= l->groups)
			return bad_tree(l, t, "its output group is out of range");
		if ((err = check_tree(&trees->kids[t], l, t)) < 0)
			return err;
	}
	*n_trees = trees->n;
	return 0;
}

static int check_booster(const ubj *gb, const limits *l)
{
	const ubj *name = get(gb, "name"), *wd;
	size_t n_trees;
	int err;

	if (name && name->type == 'S' && name->n == 6 && !memcmp(name->data, "gbtree", 6))
		return check_gbtree(get(gb, "model"), l, &n_trees);
	if (name && name->type == 'S' && name->n == 4 && !memcmp(name->data, "dart", 4)) {
		if ((err = check_gbtree(get(get(gb, "gbtree"), "model"), l, &n_trees)) < 0)
			return err;
		wd = get(gb, "weight_drop");
		return is_array(wd) && wd->n == n_trees ? 0
			: bad_model(l->source, "dart's weight_drop does not match the trees");
	}
	if (name && name->type == 'S' && name->n == 8 && !memcmp(name->data, "gblinear", 8)) {
		wd = get(get(gb, "model"), "weights");
		return is_array(wd) && wd->n == (size_t)((l->features + 1) * l->groups) ? 0
			: bad_model(l->source, "gblinear's weights do not match the features");
	}
	return bad_model(l->source, "the booster must be gbtree, dart or gblinear");
}

int lw__xgboost_check_model(const void *ubj_buf, size_t len, const char *source)
{
	const ubj *learner, *mp;
	ubj root;
	limits l = { source, 0, 1 };
	int64_t classes = 0, targets = 1;
	int err;

	if ((err = ubj_parse(&root, ubj_buf, len, source)) < 0)
		return err;
	learner = get(&root, "learner");
	mp = get(learner, "learner_model_param");
	if (!param(mp, "num_feature", &l.features) || l.features < 1) {
		err = bad_model(source, "learner_model_param.num_feature is missing");
		goto done;
	}
	param(mp, "num_class", &classes);
	param(mp, "num_target", &targets);
	if (classes > 1 && targets > 1) {
		err = bad_model(source, "multi-target classifiers are not supported");
		goto done;
	}
	l.groups = classes > 1 ? classes : targets > 1 ? targets : 1;
	err = check_booster(get(learner, "gradient_booster"), &l);
done:
	ubj_dispose(&root);
	return err;
}
