/*
 * Semantic search: the reference engine's EasyFuzzSemanticSearcher over the
 * store (docs/store.md, "Semantic search").
 *
 * Every write of a semantic specification also writes what search needs,
 * in the same transaction: the lowered Name and Description in learnwares
 * (name_lc, desc_lc), which the backend's full-text index follows (SQLite:
 * triggers into an FTS5 trigram table; PostgreSQL: a tsvector of the
 * texts' trigrams, written by the same UPDATE, under GIN), and one
 * learnware_tags row per Class or Tag value, with its position, so "the
 * first value" and "any value" are both SQL.
 *
 * A search is one statement per stage, the same text for both backends but
 * for two fragments (store.h): the user's tag filter travels as one JSON
 * parameter, expanded to rows by the backend's JSON functions, so the
 * statement text does not depend on the user's keys and the prepared
 * statement cache stays small.  The full-text index only proposes
 * candidates; every substring is confirmed here, and the fuzzy stage scores
 * in C (fuzzy.c) exactly as rapidfuzz does.
 */
#include "store.h"

#include <jansson.h>
#include <string.h>

#include "fuzzy.h"
#include "semantic.h"
#include "util.h"

#define MIN_SCORE 75.0 /* the reference's min_score */
#define FTS_MAX 1000   /* longer user names are matched by a scan instead of the index */
#define PAGE 5000      /* rows per statement when walking learnwares */

#define USER_SPEC "user semantic specification"

/* Filter types, as the user's Type says: any non-empty value, the first value in the list, any shared value. */
enum { FILTER_ANY = 0, FILTER_CLASS = 1, FILTER_TAG = 2 };

static int no_memory(void)
{
	lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
	return LW_ENOMEM;
}

/* --- what a learnware's specification contributes --------------------------------- */

void lw__semfields_dispose(lw__semfields *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->desc);
	free(f->tags);
	memset(f, 0, sizeof(*f));
}

/* A String key's text: its Values, or a list's first item (as lw_semantic_name reads it). */
static const char *text_of(json_t *entry)
{
	json_t *v = json_is_object(entry) ? json_object_get(entry, "Values") : NULL;

	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_string(v) ? json_string_value(v) : "";
}

static int add_row(json_t *rows, const char *key, json_int_t n, const char *value)
{
	json_t *row = value ? json_pack("[s, I, s]", key, n, value) : json_pack("[s, I, n]", key, n);

	return row && json_array_append_new(rows, row) == 0 ? 0 : no_memory();
}

/*
 * A key's values in order, a string being a one-element list as
 * lw_semantic reads it; a key with none (an empty list or string, no
 * Values, an entry that is not an object) gets the row at position -1,
 * "present without values", which fails every filter on the key.
 */
static int key_rows(json_t *rows, const char *key, json_t *entry)
{
	json_t *v = json_is_object(entry) ? json_object_get(entry, "Values") : NULL, *item;
	json_int_t pos = 0;
	size_t i;
	int err = 0;

	if (json_is_string(v) && *json_string_value(v))
		err = add_row(rows, key, pos++, json_string_value(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, item)
			if (err == 0 && json_is_string(item))
				err = add_row(rows, key, pos++, json_string_value(item));
	if (err == 0 && pos == 0)
		err = add_row(rows, key, -1, "");
	return err;
}

/* Keys that never filter: the two texts, and the feature blocks (they have no Values). */
static bool untagged(const char *key)
{
	return !strcmp(key, "Name") || !strcmp(key, "Description") || !strcmp(key, "Input") ||
	       !strcmp(key, "Output");
}

int lw__semfields_extract(lw__semfields *out, const char *semantic_json)
{
	json_t *doc = semantic_json ? json_loads(semantic_json, JSON_DECODE_ANY, NULL) : NULL;
	json_t *rows = json_array(), *entry;
	const char *key;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(doc)) {
		json_decref(doc);
		doc = json_object();
	}
	if (!rows || !doc) {
		err = no_memory();
		goto done;
	}
	if (!(out->name = lw__utf8_lower(text_of(json_object_get(doc, "Name")))) ||
	    !(out->desc = lw__utf8_lower(text_of(json_object_get(doc, "Description"))))) {
		err = LW_ENOMEM;
		goto done;
	}
	json_object_foreach(doc, key, entry)
		if (err == 0 && !untagged(key))
			err = key_rows(rows, key, entry);
	if (err < 0)
		goto done;
	out->ntags = json_array_size(rows);
	if (out->ntags && !(out->tags = json_dumps(rows, JSON_COMPACT)))
		err = no_memory();
done:
	json_decref(doc);
	json_decref(rows);
	if (err < 0)
		lw__semfields_dispose(out);
	return err;
}

size_t *lw__cp_offsets(size_t *n, const char *s)
{
	size_t len = strlen(s), k = 0;
	size_t *at = lw__mallocarray(len + 1, sizeof(size_t));

	*n = 0;
	if (!at)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			at[k++] = i;
	at[k] = len;
	*n = k;
	return at;
}

int lw__semsearch_index(lw_store *st, const char *id, const char *semantic_json)
{
	lw__semfields f;
	lw__sqlbuf b = { .len = 0 };
	char *doc = NULL;
	int err;

	if ((err = lw__semfields_extract(&f, semantic_json)) < 0)
		return err;
	if (st->ops->fts_doc && (err = st->ops->fts_doc(&doc, f.name, f.desc)) < 0)
		goto done;
	lw__sql_param(&b, "UPDATE learnwares SET name_lc = $?", LW__TEXT(f.name));
	lw__sql_param(&b, ", desc_lc = $?", LW__TEXT(f.desc));
	if (st->ops->index_set)
		lw__sql_param(&b, st->ops->index_set, LW__TEXT(doc));
	lw__sql_param(&b, " WHERE id = $?", LW__TEXT(id));
	if ((err = lw__store_exec(NULL, st, b.sql, b.p, b.np)) < 0 ||
	    (err = lw__store_exec(NULL, st, "DELETE FROM learnware_tags WHERE learnware_id = $1",
				  (lw__val[]){ LW__TEXT(id) }, 1)) < 0)
		goto done;
	if (f.tags) {
		b = (lw__sqlbuf){ .len = 0 };
		lw__sql_param(&b, "INSERT INTO learnware_tags (learnware_id, key, pos, value) SELECT $?, r.c0, r.c1, r.c2 FROM (",
			      LW__TEXT(id));
		lw__sql_param(&b, st->ops->json_rows, LW__TEXT(f.tags));
		lw__sql_add(&b, ") AS r");
		err = lw__store_exec(NULL, st, b.sql, b.p, b.np);
	}
done:
	free(doc);
	lw__semfields_dispose(&f);
	return err;
}

/* --- the migration's back-fill ------------------------------------------------------- */

#define BACKFILL_PAGE 256

typedef struct {
	char *ids[BACKFILL_PAGE], *docs[BACKFILL_PAGE];
	size_t count;
} doc_page;

static int take_doc(const lw__row *row, void *payload)
{
	doc_page *p = payload;
	size_t i = p->count;

	if (i == BACKFILL_PAGE) /* LIMIT keeps pages this size */
		return 0;
	p->docs[i] = NULL;
	if (!(p->ids[i] = lw__strdup(row->v[0] ? row->v[0] : "")))
		return LW_ENOMEM;
	p->count++;
	return lw__row_dup(&p->docs[i], row, 1);
}

static void doc_page_clear(doc_page *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free(p->ids[i]);
		free(p->docs[i]);
	}
	p->count = 0;
}

int lw__semsearch_backfill(lw_store *st)
{
	doc_page *p = lw__calloc(1, sizeof(*p));
	char last[16] = "";
	int err = p ? 0 : LW_ENOMEM;

	while (err == 0) {
		char after[16];

		memcpy(after, last, sizeof(after));
		doc_page_clear(p);
		/* Keyset paging: rows are updated between pages, never while a statement walks them. */
		err = lw__store_query(st, "SELECT id, semantic FROM learnwares WHERE id > $1 ORDER BY id LIMIT $2",
				      (lw__val[]){ LW__TEXT(after), LW__INT(BACKFILL_PAGE) }, 2, take_doc, p);
		for (size_t i = 0; i < p->count && err == 0; i++)
			err = lw__semsearch_index(st, p->ids[i], p->docs[i]);
		if (err < 0 || p->count < BACKFILL_PAGE)
			break;
		snprintf(last, sizeof(last), "%s", p->ids[p->count - 1]);
	}
	if (p)
		doc_page_clear(p);
	free(p);
	return err;
}

/* --- the user's specification --------------------------------------------------------- */

typedef struct {
	char *filter; /* JSON [[key, type, value|null], ...], or NULL for no tag filter */
	char *id;     /* the "learnware_id" text, or NULL */
	char *name;   /* the lowered Name, "" for none */
} user_query;

static void user_query_dispose(user_query *u)
{
	free(u->filter);
	free(u->id);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* "learnware_id": "..." or {"Values": "..."} (the reference's form); removed from doc. */
static int take_id(user_query *u, json_t *doc)
{
	json_t *v = json_object_get(doc, "learnware_id"), *inner;

	if (!v)
		return 0;
	inner = json_is_object(v) ? json_object_get(v, "Values") : v;
	if (!json_is_string(inner)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     USER_SPEC ": learnware_id must be a string or {\"Values\": \"...\"} (a part of the ids"
			     " wanted), found %s%s", json_kind(inner ? inner : v), inner ? "" : " without Values");
		return LW_EINVALID;
	}
	if (!(u->id = lw__strdup(json_string_value(inner))))
		return LW_ENOMEM;
	return json_object_del(doc, "learnware_id") == 0 ? 0 : no_memory();
}

static bool values_empty(const lw__sem_entry *e)
{
	return e->form == LW__VALUES_NONE || e->values.n == 0 ||
	       (e->form == LW__VALUES_STRING && !e->values.v[0][0]);
}

/* The tag filter as lw_semantic_matches applies it, one row per (key, value). */
static int filter_rows(char **out, const lw_semantic *s)
{
	json_t *rows = json_array();
	int err = rows ? 0 : no_memory();

	*out = NULL;
	for (size_t i = 0; i < s->n && err == 0; i++) {
		const lw__sem_entry *e = &s->entries[i];
		json_int_t type = !e->type ? FILTER_ANY : !strcmp(e->type, "Class") ? FILTER_CLASS
						       : !strcmp(e->type, "Tag") ? FILTER_TAG : FILTER_ANY;

		if (e->side >= 0 || values_empty(e) || untagged(e->key))
			continue;
		if (type == FILTER_ANY)
			err = add_row(rows, e->key, type, NULL);
		for (size_t j = 0; j < e->values.n && err == 0 && type != FILTER_ANY; j++)
			err = add_row(rows, e->key, type, e->values.v[j]);
	}
	if (err == 0 && json_array_size(rows) && !(*out = json_dumps(rows, JSON_COMPACT)))
		err = no_memory();
	json_decref(rows);
	return err;
}

static int parse_user(user_query *u, const char *text)
{
	json_error_t e;
	json_t *doc = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &e);
	lw_semantic *s = NULL;
	const lw__sem_entry *name;
	char *rest = NULL;
	int err = 0;

	if (!doc) {
		lw_error_set(LW_ERRCLASS_JSON, USER_SPEC ": line %d, column %d: %s", e.line, e.column, e.text);
		return LW_EINVALID;
	}
	if (!json_is_object(doc)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     USER_SPEC ": must be a JSON object such as {\"Name\": {\"Type\": \"String\", \"Values\":"
			     " \"house prices\"}}, found %s", json_kind(doc));
		err = LW_EINVALID;
		goto done;
	}
	if ((err = take_id(u, doc)) < 0)
		goto done;
	/* The rest is a semantic specification: its reader names the key at fault. */
	if (!(rest = json_dumps(doc, JSON_COMPACT))) {
		err = no_memory();
		goto done;
	}
	if ((err = lw_semantic_from_json(&s, rest, strlen(rest), USER_SPEC)) < 0)
		goto done;
	name = lw__semantic_entry(s, "Name");
	if (name && name->form == LW__VALUES_LIST) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     USER_SPEC ": Name: \"Values\" must be a string, the text to look for in names and"
			     " descriptions, not a list");
		err = LW_EINVALID;
		goto done;
	}
	if (!(u->name = lw__utf8_lower(name && name->form == LW__VALUES_STRING ? name->values.v[0] : ""))) {
		err = LW_ENOMEM;
		goto done;
	}
	err = filter_rows(&u->filter, s);
done:
	json_decref(doc);
	free(rest);
	lw_semantic_free(s);
	if (err < 0)
		user_query_dispose(u);
	return err;
}

/* --- statements --------------------------------------------------------------------------- */

typedef struct {
	const char *filter;     /* JSON rows, or NULL */
	int usable_only;
	const char *owner;      /* or NULL */
	const char *id_part[2]; /* substrings the id must contain, or NULL */
	const char *match;      /* the backend's full-text parameter, or NULL */
	bool texts;             /* also select name_lc, desc_lc */
} query;

/*
 * A learnware passes the tag filter unless some user key f.k is one it has
 * (a row for the key) and none of its rows for the key satisfies f: a real
 * value (pos >= 0), and for a Class the first one (pos 0) in the user's
 * list, for a Tag any one in it.
 */
#define TAG_FILTER                                                                                             \
	" AND NOT EXISTS (SELECT 1 FROM f WHERE"                                                               \
	" EXISTS (SELECT 1 FROM learnware_tags t WHERE t.learnware_id = l.id AND t.key = f.k)"                 \
	" AND NOT EXISTS (SELECT 1 FROM learnware_tags t WHERE t.learnware_id = l.id AND t.key = f.k"          \
	" AND t.pos >= 0 AND (f.ty = 0 OR ((f.ty = 2 OR t.pos = 0)"                                            \
	" AND t.value IN (SELECT g.v FROM f AS g WHERE g.k = f.k)))))"

static void build(lw__sqlbuf *b, const lw_store *st, const query *q, const char *after, size_t page)
{
	if (q->filter) {
		lw__sql_add(b, "WITH f (k, ty, v) AS (");
		lw__sql_param(b, st->ops->json_rows, LW__TEXT(q->filter));
		lw__sql_add(b, ") ");
	}
	lw__sql_add(b, q->texts ? "SELECT l.id, l.name_lc, l.desc_lc FROM learnwares l WHERE 1 = 1"
				: "SELECT l.id FROM learnwares l WHERE 1 = 1");
	if (q->usable_only)
		lw__sql_add(b, " AND l.usability = 1");
	if (q->owner)
		lw__sql_param(b, " AND l.owner = $?", LW__TEXT(q->owner));
	/* A substring test both dialects share: removing it changes the id. */
	for (int i = 0; i < 2; i++)
		if (q->id_part[i])
			lw__sql_param(b, " AND replace(l.id, $?, '') <> l.id", LW__TEXT(q->id_part[i]));
	if (q->match)
		lw__sql_param(b, st->ops->text_match, LW__TEXT(q->match));
	if (q->filter)
		lw__sql_add(b, TAG_FILTER);
	if (after)
		lw__sql_param(b, " AND l.id > $?", LW__TEXT(after));
	lw__sql_param(b, " ORDER BY l.id LIMIT $?", LW__INT(page));
}

typedef int (*row_fn)(const char *id, const char *name, const char *desc, void *payload);

typedef struct {
	row_fn fn;
	void *payload;
	char last[16];
	size_t n;
} walk;

static int walk_row(const lw__row *row, void *payload)
{
	walk *w = payload;
	const char *id = row->v[0] ? row->v[0] : "";

	snprintf(w->last, sizeof(w->last), "%s", id);
	w->n++;
	return w->fn(id, row->n > 1 && row->v[1] ? row->v[1] : "", row->n > 2 && row->v[2] ? row->v[2] : "",
		     w->payload);
}

/* Every learnware the query selects, in id order, a page per statement. */
static int scan(lw_store *st, const query *q, row_fn fn, void *payload)
{
	walk w = { fn, payload, "", 0 };
	int err;

	do {
		lw__sqlbuf b = { .len = 0 };
		char after[16];

		/* The bound text must not change while the statement runs: copy it. */
		memcpy(after, w.last, sizeof(after));
		build(&b, st, q, *after ? after : NULL, PAGE);
		w.n = 0;
		err = lw__store_query(st, b.sql, b.p, b.np, walk_row, &w);
	} while (err == 0 && w.n == PAGE);
	return err;
}

/* --- the stages ------------------------------------------------------------------------------- */

typedef struct {
	lw_semantic_hits *h;
	size_t cap;
	const char *name;   /* lowered user Name */
	const uint32_t *cp; /* ... as code points */
	size_t ncp;
} collect;

static int add_hit(collect *c, const char *id, double score)
{
	lw_semantic_hits *h = c->h;

	if (h->count == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		char(*ids)[16] = lw__reallocarray(h->ids, cap, sizeof(*h->ids));
		double *scores;

		if (!ids)
			return LW_ENOMEM;
		h->ids = ids;
		if (!(scores = lw__reallocarray(h->scores, cap, sizeof(double))))
			return LW_ENOMEM;
		h->scores = scores;
		c->cap = cap;
	}
	snprintf(h->ids[h->count], sizeof(h->ids[0]), "%s", id);
	h->scores[h->count++] = score;
	return 0;
}

static int take_all(const char *id, const char *name, const char *desc, void *payload)
{
	(void)name;
	(void)desc;
	return add_hit(payload, id, 1.0);
}

/* The reference: name_user in lw_name.lower() or name_user in lw_desc.lower(). */
static int take_exact(const char *id, const char *name, const char *desc, void *payload)
{
	collect *c = payload;

	return strstr(name, c->name) || strstr(desc, c->name) ? add_hit(c, id, 1.0) : 0;
}

static int fuzzy_score(double *out, const collect *c, const char *text)
{
	uint32_t *cp;
	size_t n;

	if (lw__utf8_decode(&cp, &n, text, strlen(text)) < 0)
		return LW_ENOMEM;
	*out = lw__partial_ratio(c->cp, c->ncp, cp, n, MIN_SCORE);
	free(cp);
	return *out < 0 ? LW_ENOMEM : 0;
}

static int take_fuzzy(const char *id, const char *name, const char *desc, void *payload)
{
	collect *c = payload;
	double a, b = 0;
	int err;

	if ((err = fuzzy_score(&a, c, name)) < 0 || (a < 100.0 && (err = fuzzy_score(&b, c, desc)) < 0))
		return err;
	if (b > a)
		a = b;
	return a >= MIN_SCORE ? add_hit(c, id, a / 100.0) : 0;
}

typedef struct {
	double score;
	size_t at;
} ranked;

/* Best first; equal scores keep id order, as Python's stable sorted(..., reverse=True) does. */
static int by_score(const void *x, const void *y)
{
	const ranked *a = x, *b = y;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	return a->at < b->at ? -1 : a->at > b->at;
}

static int rank(lw_semantic_hits *h, size_t limit)
{
	ranked *r = lw__mallocarray(h->count ? h->count : 1, sizeof(*r));
	char(*ids)[16] = lw__mallocarray(h->count ? h->count : 1, sizeof(*ids));
	size_t n = limit && limit < h->count ? limit : h->count;

	if (!r || !ids) {
		free(r);
		free(ids);
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < h->count; i++)
		r[i] = (ranked){ h->scores[i], i };
	qsort(r, h->count, sizeof(*r), by_score);
	for (size_t i = 0; i < n; i++) {
		memcpy(ids[i], h->ids[r[i].at], sizeof(ids[i]));
		h->scores[i] = r[i].score;
	}
	free(h->ids);
	h->ids = ids;
	h->count = n;
	free(r);
	return 0;
}

/* Exact stage: the index proposes, strstr confirms; names too short or too long for it are scanned. */
static int exact_stage(lw_store *st, query *q, collect *c)
{
	int err;

	if (c->ncp >= LW__FTS_MIN && c->ncp <= FTS_MAX) {
		char *match = NULL;

		if ((err = st->ops->fts_query(&match, c->name)) < 0)
			return err;
		q->match = match;
		err = scan(st, q, take_exact, c);
		q->match = NULL;
		free(match);
		return err;
	}
	return scan(st, q, take_exact, c);
}

void lw_semantic_hits_dispose(lw_semantic_hits *h)
{
	if (!h)
		return;
	free(h->ids);
	free(h->scores);
	memset(h, 0, sizeof(*h));
}

int lw_store_semantic_search(lw_semantic_hits *out, lw_store *st, const char *user_semantic_json,
			     const lw_semantic_search_options *opts)
{
	lw_semantic_search_options o = LW_SEMANTIC_SEARCH_OPTIONS_INIT;
	user_query u = { NULL, NULL, NULL };
	collect c = { out, 0, NULL, NULL, 0 };
	uint32_t *cp = NULL;
	query q;
	int err;

	LW_ASSERT_ARG(out);
	memset(out, 0, sizeof(*out));
	LW_ASSERT_ARG(st && user_semantic_json);
	if (opts)
		o = *opts;
	if ((err = parse_user(&u, user_semantic_json)) < 0)
		return err;
	/* An empty id part is in every id, as in Python. */
	q = (query){ u.filter, o.usable_only,
		     o.owner,
		     { o.learnware_id && *o.learnware_id ? o.learnware_id : NULL, u.id && *u.id ? u.id : NULL },
		     NULL, false };
	if (!*u.name) {
		err = scan(st, &q, take_all, &c);
		goto done;
	}
	q.texts = true;
	c.name = u.name;
	if ((err = lw__utf8_decode(&cp, &c.ncp, u.name, strlen(u.name))) < 0)
		goto done;
	c.cp = cp;
	if ((err = exact_stage(st, &q, &c)) < 0 || out->count > 0)
		goto done;
	out->fuzzy = 1;
	if ((err = scan(st, &q, take_fuzzy, &c)) == 0)
		err = rank(out, o.limit);
done:
	free(cp);
	user_query_dispose(&u);
	if (err < 0)
		lw_semantic_hits_dispose(out);
	return err;
}
