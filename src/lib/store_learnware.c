/*
 * Learnware records, their files and their statistical specifications.
 *
 * The three writes that touch files follow store.c's marker rule; the
 * comments at each LW__FAULT point say what a crash there leaves and why
 * the next sweep settles it.
 */
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LW_COLS "id, owner, semantic, zip_path, sha256, status, usability, created, updated"

void lw_learnware_record_dispose(lw_learnware_record *r)
{
	if (!r)
		return;
	free(r->owner);
	free(r->semantic_json);
	free(r->zip_path);
	free(r->content_sha256);
	memset(r, 0, sizeof(*r));
}

void lw_learnware_list_dispose(lw_learnware_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		lw_learnware_record_dispose(&l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

static int from_row(lw_learnware_record *r, const lw__row *row)
{
	int err;

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", row->v[0] ? row->v[0] : "");
	r->status = (int)lw__row_int(row, 5);
	r->usability = (int)lw__row_int(row, 6);
	r->created = lw__row_int(row, 7);
	r->updated = lw__row_int(row, 8);
	if ((err = lw__row_dup(&r->owner, row, 1)) < 0 || (err = lw__row_dup(&r->semantic_json, row, 2)) < 0 ||
	    (err = lw__row_dup(&r->zip_path, row, 3)) < 0 || (err = lw__row_dup(&r->content_sha256, row, 4)) < 0)
		lw_learnware_record_dispose(r);
	return err;
}

typedef struct {
	lw_learnware_record *one;
	bool found;
	lw_learnware_list *list;
} collect;

static int take_record(const lw__row *row, void *payload)
{
	collect *c = payload;
	lw_learnware_record *r;

	if (c->one) {
		c->found = true;
		return from_row(c->one, row);
	}
	if (!(r = lw__store_grow((void **)&c->list->items, &c->list->count, sizeof(*r))))
		return LW_ENOMEM;
	return from_row(r, row);
}

int lw_store_get(lw_learnware_record *out, lw_store *st, const char *id)
{
	collect c = { out, false, NULL };
	int err;

	LW_ASSERT_ARG(out && st);
	memset(out, 0, sizeof(*out));
	if ((err = lw__store_check_id(id)) < 0)
		return err;
	err = lw__store_query(st, "SELECT " LW_COLS " FROM learnwares WHERE id = $1",
			      (lw__val[]){ LW__TEXT(id) }, 1, take_record, &c);
	if (err == 0 && !c.found) {
		lw_error_set(LW_ERRCLASS_INVALID, "no learnware %s", id);
		err = LW_ENOTFOUND;
	}
	if (err < 0)
		lw_learnware_record_dispose(out);
	return err;
}

static void filter_where(lw__sqlbuf *b, const lw_learnware_filter *f, bool paging)
{
	lw__sql_add(b, " WHERE 1 = 1");
	if (f->owner)
		lw__sql_param(b, " AND owner = $?", LW__TEXT(f->owner));
	if (f->status >= 0)
		lw__sql_param(b, " AND status = $?", LW__INT(f->status));
	if (f->usability != LW_USABILITY_ANY)
		lw__sql_param(b, " AND usability = $?", LW__INT(f->usability));
	if (paging && f->after_id)
		lw__sql_param(b, " AND id > $?", LW__TEXT(f->after_id));
}

int lw_store_list(lw_learnware_list *out, lw_store *st, const lw_learnware_filter *filter)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	collect c = { NULL, false, out };
	lw__sqlbuf b = { .len = 0 };
	int err;

	LW_ASSERT_ARG(out && st);
	out->items = NULL;
	out->count = 0;
	if (filter)
		f = *filter;
	lw__sql_add(&b, "SELECT " LW_COLS " FROM learnwares");
	filter_where(&b, &f, true);
	lw__sql_param(&b, " ORDER BY id LIMIT $?", LW__INT(f.limit ? (int64_t)f.limit : INT64_MAX));
	lw__sql_param(&b, " OFFSET $?", LW__INT(f.offset));
	if ((err = lw__store_query(st, b.sql, b.p, b.np, take_record, &c)) < 0)
		lw_learnware_list_dispose(out);
	return err;
}

int lw_store_count(size_t *out, lw_store *st, const lw_learnware_filter *filter)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	lw__sqlbuf b = { .len = 0 };
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(out && st);
	if (filter)
		f = *filter;
	lw__sql_add(&b, "SELECT count(*) FROM learnwares");
	filter_where(&b, &f, false);
	err = lw__store_int(&n, st, b.sql, b.p, b.np);
	*out = (size_t)n;
	return err;
}

static int check_specs(const lw_store_spec *specs, size_t n)
{
	if (n && !specs) {
		lw_error_set(LW_ERRCLASS_INVALID, "%zu specifications announced, none given", n);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < n; i++) {
		if (!specs[i].type || !*specs[i].type || !specs[i].json) {
			lw_error_set(LW_ERRCLASS_INVALID, "specification %zu needs a type and a JSON text", i);
			return LW_EINVALID;
		}
		if (specs[i].dim > (size_t)INT64_MAX) {
			lw_error_set(LW_ERRCLASS_INVALID, "specification %zu: dimension %zu is too large", i,
				     specs[i].dim);
			return LW_EINVALID;
		}
	}
	return 0;
}

static int check_new(const lw_learnware_new *in, bool semantic_required)
{
	int err;

	if (!in || !in->zip_path) {
		lw_error_set(LW_ERRCLASS_INVALID, "a learnware needs a zip file");
		return LW_EINVALID;
	}
	if ((in->semantic_json || semantic_required) &&
	    (err = lw__store_check_json(in->semantic_json, "the semantic specification", true)) < 0)
		return err;
	return check_specs(in->specs, in->nspecs);
}

static int put_spec(lw_store *st, const char *id, const lw_store_spec *s)
{
	return lw__store_exec(NULL, st,
			      "INSERT INTO specs (learnware_id, type, dim, body) VALUES ($1, $2, $3, $4)"
			      " ON CONFLICT (learnware_id, type) DO UPDATE SET dim = excluded.dim, body = excluded.body",
			      (lw__val[]){ LW__TEXT(id), LW__TEXT(s->type), LW__INT(s->dim), LW__TEXT(s->json) }, 4);
}

static int put_specs(lw_store *st, const char *id, const lw_learnware_new *in)
{
	int err = 0;

	for (size_t i = 0; i < in->nspecs && err == 0; i++)
		err = put_spec(st, id, &in->specs[i]);
	return err;
}

static int insert_job(int64_t *out_id, lw_store *st, const char *id, int64_t now)
{
	return lw__store_int(out_id, st,
			     "INSERT INTO jobs (learnware_id, state, attempts, created) VALUES ($1, 0, 0, $2)"
			     " RETURNING id",
			     (lw__val[]){ LW__TEXT(id), LW__INT(now) }, 2);
}

/* The learnware that holds this content, in dup; LW_ENOTFOUND when none does. */
static int find_duplicate(char dup[16], lw_store *st, const char *sha)
{
	char *other = NULL;
	int err = lw__store_text(&other, st, "SELECT id FROM learnwares WHERE sha256 = $1",
				 (lw__val[]){ LW__TEXT(sha) }, 1);

	if (err == 0) {
		snprintf(dup, 16, "%s", other ? other : "");
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has the same content (SHA-256 %s)", dup, sha);
	}
	free(other);
	return err;
}

static int refuse_duplicate(char dup[16], lw_store *st, const char *sha)
{
	int err = find_duplicate(dup, st, sha);

	if (err == LW_ENOTFOUND)
		return 0;
	return err == 0 ? LW_EEXISTS : err;
}

/*
 * A write that lost a race on the UNIQUE index (another process stored the
 * same content between our look and our insert) names the winner as the
 * look would have; any other conflict keeps its own message.
 */
static void name_winner(char dup[16], lw_store *st, const char *sha)
{
	const lw_error *e = lw_error_last();
	lw_error_class klass = e->klass;
	char saved[1024];

	if (*dup)
		return;
	snprintf(saved, sizeof(saved), "%s", e->message);
	if (find_duplicate(dup, st, sha) != 0) {
		errno = 0; /* the message has its strerror already */
		lw_error_set(klass, "%s", saved);
	}
}

/*
 * Refuse known content, then link the copy into files/learnwares.  On
 * failure only what this call made is removed: a name that clashed with an
 * existing file (LW_EEXISTS from the link) is somebody else's.
 */
static int publish(char dup[16], lw_store *st, const char *name, const char *sha)
{
	int err;

	if ((err = refuse_duplicate(dup, st, sha)) < 0) {
		lw__store_unmark(st, name);
		return err;
	}
	if ((err = lw__store_publish(st, name)) == LW_EEXISTS)
		lw__store_unmark(st, name);
	else if (err < 0)
		lw__store_discard(st, name, name);
	return err;
}

/* The preferred id's number when it was never given; LW_ENOTFOUND otherwise. */
static int claim_preferred(int64_t *n, lw_store *st, const lw_learnware_new *in)
{
	const char *p = in->version >= 2 ? in->preferred_id : NULL;
	char *end;
	long long v;

	if (!p || !*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 12)
		return LW_ENOTFOUND;
	v = strtoll(p, &end, 10);
	if (v <= 0)
		return LW_ENOTFOUND;
	return lw__store_int(n, st, st->ops->claim_id, (lw__val[]){ LW__INT(v) }, 1);
}

/* The new row, its specifications and its job; the caller's transaction commits them. */
static int insert_record(char id[16], lw_store *st, const lw_learnware_new *in, const char *name,
			 const char *sha)
{
	char path[sizeof(LW__ZIP_DIR) + LW__ZIP_NAME];
	int64_t n, now = lw__store_now(), job;
	int err;

	snprintf(path, sizeof(path), "%s%s", LW__ZIP_DIR, name);
	if ((err = claim_preferred(&n, st, in)) == LW_ENOTFOUND)
		err = lw__store_int(&n, st, st->ops->next_id, NULL, 0);
	if (err < 0)
		return err;
	snprintf(id, 16, "%08" PRId64, n);
	err = lw__store_exec(NULL, st,
			     "INSERT INTO learnwares (" LW_COLS ") VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
			     (lw__val[]){ LW__TEXT(id), LW__TEXT(in->owner), LW__TEXT(in->semantic_json),
					  LW__TEXT(path), LW__TEXT(sha),
					  LW__INT(in->enqueue ? LW_STATUS_QUEUED : LW_STATUS_WAITING), LW__INT(now) },
			     7);
	if (err < 0 || (err = lw__semsearch_index(st, id, in->semantic_json)) < 0 ||
	    (err = put_specs(st, id, in)) < 0)
		return err;
	return in->enqueue ? insert_job(&job, st, id, now) : 0;
}

/*
 * Copy, then publish under files/learnwares, then insert: a row never
 * exists without its file, and the copy left in files/tmp until after the
 * commit marks the file so a sweep can remove it if its row never came.
 * When a commit fails its outcome is unknown (a lost connection), so the
 * files stay as they are and the next sweep asks the database.
 */
static int add_locked(char id[16], char dup[16], lw_store *st, const lw_learnware_new *in)
{
	char name[LW__ZIP_NAME], sha[65];
	int err;

	if ((err = lw__store_copy_in(name, sha, st, in->zip_path)) < 0)
		return err;
	LW__FAULT("add:copied"); /* a copy in tmp and nothing else: the sweep deletes it */
	if ((err = publish(dup, st, name, sha)) < 0)
		return err;
	LW__FAULT("add:published"); /* marked, no row: the sweep deletes file and marker */
	if ((err = lw__store_begin(st)) < 0)
		goto discard;
	if ((err = insert_record(id, st, in, name, sha)) < 0) {
		lw__store_rollback(st);
		if (err == LW_EEXISTS)
			name_winner(dup, st, sha);
		goto discard;
	}
	LW__FAULT("add:inserted"); /* the transaction dies with the process: as above */
	if ((err = lw__store_commit(st)) < 0)
		return err;
	LW__FAULT("add:committed"); /* marked, with its row: the sweep keeps the file */
	lw__store_unmark(st, name);
	return 0;
discard:
	lw__store_discard(st, name, name);
	return err;
}

int lw_store_add(lw_learnware_record *out, lw_store *st, const lw_learnware_new *in)
{
	char id[16], dup[16] = "";
	int err;

	LW_ASSERT_ARG(st);
	if (out)
		memset(out, 0, sizeof(*out));
	if ((err = check_new(in, true)) < 0 || (err = lw__store_lock_shared(st)) < 0)
		return err;
	err = add_locked(id, dup, st, in);
	lw__store_unlock(st);
	if (err == 0 && out)
		err = lw_store_get(out, st, id);
	else if (err == LW_EEXISTS && out)
		memcpy(out->id, dup, sizeof(dup));
	return err;
}

static int changed_one(int err, int64_t changes, const char *id)
{
	if (err == 0 && changes == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "no learnware %s", id);
		return LW_ENOTFOUND;
	}
	return err;
}

/* The document and what search keeps of it change in one transaction. */
int lw_store_update_semantic(lw_store *st, const char *id, const char *semantic_json)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	if ((err = lw__store_check_id(id)) < 0 ||
	    (err = lw__store_check_json(semantic_json, "the semantic specification", true)) < 0 ||
	    (err = lw__store_begin(st)) < 0)
		return err;
	err = lw__store_exec(&n, st, "UPDATE learnwares SET semantic = $2, updated = $3 WHERE id = $1",
			     (lw__val[]){ LW__TEXT(id), LW__TEXT(semantic_json), LW__INT(lw__store_now()) }, 3);
	if ((err = changed_one(err, n, id)) < 0 || (err = lw__semsearch_index(st, id, semantic_json)) < 0) {
		lw__store_rollback(st);
		return err;
	}
	return lw__store_commit(st);
}

int lw_store_set_status(lw_store *st, const char *id, int status, int usability)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st);
	if ((err = lw__store_check_id(id)) < 0)
		return err;
	if (status < LW_STATUS_WAITING || status > LW_STATUS_FAILED || usability < LW_USABILITY_INVALID ||
	    usability > LW_USABILITY_USABLE) {
		lw_error_set(LW_ERRCLASS_INVALID, "status %d or usability %d out of range", status, usability);
		return LW_EINVALID;
	}
	err = lw__store_exec(&n, st,
			     "UPDATE learnwares SET status = $2, usability = $3, updated = $4 WHERE id = $1",
			     (lw__val[]){ LW__TEXT(id), LW__INT(status), LW__INT(usability),
					  LW__INT(lw__store_now()) },
			     4);
	return changed_one(err, n, id);
}

/* Lock the row and return its file name; the transaction must be open. */
static int lock_file(char name[LW__ZIP_NAME], lw_store *st, const char *id)
{
	char *path = NULL;
	const char *base;
	int err = lw__store_text(&path, st, st->ops->lock_learnware, (lw__val[]){ LW__TEXT(id) }, 1);

	if (err == LW_ENOTFOUND)
		lw_error_set(LW_ERRCLASS_INVALID, "no learnware %s", id);
	if (err == 0 && (!(base = lw__store_zip_name(path)) || strlen(base) >= LW__ZIP_NAME)) {
		lw_error_set(LW_ERRCLASS_DATA, "learnware %s has a zip path '%s' outside the store", id, path);
		err = LW_EINVALID;
	}
	if (err == 0)
		snprintf(name, LW__ZIP_NAME, "%s", base);
	free(path);
	return err;
}

/*
 * Marker on the file, then the row goes, then the file: a crash before the
 * commit leaves a marked file that a row still refers to (kept), after it
 * one no row refers to (deleted).
 */
static int delete_locked(lw_store *st, const char *id)
{
	char name[LW__ZIP_NAME], marker[LW__MARKER_NAME] = "";
	int64_t n = 0;
	int err;

	if ((err = lw__store_begin(st)) < 0)
		return err;
	if ((err = lock_file(name, st, id)) < 0 || (err = lw__store_mark(marker, st, name)) < 0)
		goto fail;
	LW__FAULT("delete:marked");
	if ((err = lw__store_exec(&n, st, "DELETE FROM learnwares WHERE id = $1",
				  (lw__val[]){ LW__TEXT(id) }, 1)) < 0)
		goto fail;
	if ((err = lw__store_commit(st)) < 0)
		return err;
	LW__FAULT("delete:committed");
	lw__store_discard(st, name, marker);
	return 0;
fail:
	lw__store_rollback(st);
	if (*marker)
		lw__store_unmark(st, marker);
	return err;
}

int lw_store_delete(lw_store *st, const char *id)
{
	int err;

	LW_ASSERT_ARG(st);
	if ((err = lw__store_check_id(id)) < 0 || (err = lw__store_lock_shared(st)) < 0)
		return err;
	err = delete_locked(st, id);
	lw__store_unlock(st);
	return err;
}

static int swap_record(lw_store *st, const char *id, const lw_learnware_new *in, const char *name,
		       const char *sha)
{
	char path[sizeof(LW__ZIP_DIR) + LW__ZIP_NAME];
	int64_t now = lw__store_now(), job;
	int err;

	snprintf(path, sizeof(path), "%s%s", LW__ZIP_DIR, name);
	if ((err = lw__store_exec(NULL, st,
				  "UPDATE learnwares SET zip_path = $2, sha256 = $3, status = $4, usability = 0,"
				  " semantic = COALESCE($5, semantic), updated = $6 WHERE id = $1",
				  (lw__val[]){ LW__TEXT(id), LW__TEXT(path), LW__TEXT(sha),
					       LW__INT(in->enqueue ? LW_STATUS_QUEUED : LW_STATUS_WAITING),
					       LW__TEXT(in->semantic_json), LW__INT(now) },
				  6)) < 0 ||
	    (in->semantic_json && (err = lw__semsearch_index(st, id, in->semantic_json)) < 0) ||
	    (err = lw__store_exec(NULL, st, "DELETE FROM specs WHERE learnware_id = $1",
				  (lw__val[]){ LW__TEXT(id) }, 1)) < 0 ||
	    (err = put_specs(st, id, in)) < 0)
		return err;
	/* A check of the old file must not report on the new one. */
	if ((err = lw__store_exec(NULL, st,
				  "UPDATE jobs SET state = 4, finished = $2 WHERE learnware_id = $1 AND state IN (0, 1)",
				  (lw__val[]){ LW__TEXT(id), LW__INT(now) }, 2)) < 0)
		return err;
	return in->enqueue ? insert_job(&job, st, id, now) : 0;
}

/*
 * New file published and marked, old file marked, then one transaction
 * swaps the row over: before its commit the sweep keeps only the old file,
 * after it only the new one.
 */
static int replace_locked(char dup[16], lw_store *st, const char *id, const lw_learnware_new *in)
{
	char name[LW__ZIP_NAME], old[LW__ZIP_NAME], marker[LW__MARKER_NAME] = "", sha[65];
	int err;

	if ((err = lw__store_copy_in(name, sha, st, in->zip_path)) < 0)
		return err;
	if ((err = publish(dup, st, name, sha)) < 0)
		return err;
	LW__FAULT("replace:published");
	if ((err = lw__store_begin(st)) < 0)
		goto discard;
	if ((err = lock_file(old, st, id)) < 0 || (err = lw__store_mark(marker, st, old)) < 0 ||
	    (err = swap_record(st, id, in, name, sha)) < 0) {
		lw__store_rollback(st);
		if (*marker)
			lw__store_unmark(st, marker);
		if (err == LW_EEXISTS)
			name_winner(dup, st, sha);
		goto discard;
	}
	LW__FAULT("replace:swapped");
	if ((err = lw__store_commit(st)) < 0)
		return err;
	LW__FAULT("replace:committed");
	lw__store_unmark(st, name);
	lw__store_discard(st, old, marker);
	return 0;
discard:
	lw__store_discard(st, name, name);
	return err;
}

int lw_store_replace_zip(lw_learnware_record *out, lw_store *st, const char *id, const lw_learnware_new *in)
{
	char dup[16] = "";
	int err;

	LW_ASSERT_ARG(st);
	if (out)
		memset(out, 0, sizeof(*out));
	if ((err = lw__store_check_id(id)) < 0 || (err = check_new(in, false)) < 0 ||
	    (err = lw__store_lock_shared(st)) < 0)
		return err;
	err = replace_locked(dup, st, id, in);
	lw__store_unlock(st);
	if (err == 0 && out)
		err = lw_store_get(out, st, id);
	else if (err == LW_EEXISTS && out)
		memcpy(out->id, dup, sizeof(dup));
	return err;
}

/* --- statistical specifications --- */

int lw_store_spec_put(lw_store *st, const char *id, const lw_store_spec *spec)
{
	int err;

	LW_ASSERT_ARG(st && spec);
	if ((err = lw__store_check_id(id)) < 0 || (err = check_specs(spec, 1)) < 0)
		return err;
	if ((err = put_spec(st, id, spec)) == LW_ENOTFOUND)
		lw_error_set(LW_ERRCLASS_INVALID, "no learnware %s", id);
	return err;
}

int lw_store_spec_get(char **out, lw_store *st, const char *id, const char *type)
{
	int err;

	LW_ASSERT_ARG(out && st && type);
	*out = NULL;
	if ((err = lw__store_check_id(id)) < 0)
		return err;
	err = lw__store_text(out, st, "SELECT body FROM specs WHERE learnware_id = $1 AND type = $2",
			     (lw__val[]){ LW__TEXT(id), LW__TEXT(type) }, 2);
	if (err == LW_ENOTFOUND)
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has no %s specification", id, type);
	return err;
}

typedef struct {
	char *id, *type, *json;
	size_t dim;
} spec_row;

typedef struct {
	spec_row *rows;
	size_t count;
} spec_page;

static void page_dispose(spec_page *p)
{
	for (size_t i = 0; i < p->count; i++) {
		free(p->rows[i].id);
		free(p->rows[i].type);
		free(p->rows[i].json);
	}
	free(p->rows);
	p->rows = NULL;
	p->count = 0;
}

static int take_spec(const lw__row *row, void *payload)
{
	spec_page *p = payload;
	spec_row *r = lw__store_grow((void **)&p->rows, &p->count, sizeof(*r));
	int err;

	if (!r)
		return LW_ENOMEM;
	r->dim = (size_t)lw__row_int(row, 2);
	if ((err = lw__row_dup(&r->id, row, 0)) < 0 || (err = lw__row_dup(&r->type, row, 1)) < 0 ||
	    (err = lw__row_dup(&r->json, row, 3)) < 0)
		return err;
	return 0;
}

#define SPEC_PAGE 256

/* Keyset paging: each page starts after the last (id, type) of the one before. */
static int spec_page_fetch(spec_page *p, lw_store *st, const lw_spec_filter *f, const spec_row *last)
{
	lw__sqlbuf b = { .len = 0 };

	lw__sql_add(&b, "SELECT s.learnware_id, s.type, s.dim, s.body FROM specs s");
	lw__sql_add(&b, f->usable_only ? " JOIN learnwares l ON l.id = s.learnware_id WHERE l.usability = 1"
				       : " WHERE 1 = 1");
	if (f->type)
		lw__sql_param(&b, " AND s.type = $?", LW__TEXT(f->type));
	if (f->dim)
		lw__sql_param(&b, " AND s.dim = $?", LW__INT(f->dim));
	if (last) {
		lw__sql_param(&b, " AND (s.learnware_id > $?", LW__TEXT(last->id));
		lw__sql_param(&b, " OR (s.learnware_id = $?", LW__TEXT(last->id));
		lw__sql_param(&b, " AND s.type > $?))", LW__TEXT(last->type));
	}
	lw__sql_param(&b, " ORDER BY s.learnware_id, s.type LIMIT $?", LW__INT(SPEC_PAGE));
	return lw__store_query(st, b.sql, b.p, b.np, take_spec, p);
}

static int spec_page_emit(const spec_page *p, lw_store_spec_cb cb, void *payload)
{
	int rc = 0;

	for (size_t i = 0; i < p->count && rc == 0; i++) {
		lw_store_spec s = { p->rows[i].id, p->rows[i].type, p->rows[i].dim, p->rows[i].json,
				    strlen(p->rows[i].json) };

		rc = cb(&s, payload);
	}
	return rc;
}

int lw_store_foreach_spec(lw_store *st, const lw_spec_filter *filter, lw_store_spec_cb cb, void *payload)
{
	lw_spec_filter f = LW_SPEC_FILTER_INIT;
	spec_page page = { NULL, 0 }, prev = { NULL, 0 };
	int rc = 0;

	LW_ASSERT_ARG(st && cb);
	if (filter)
		f = *filter;
	do {
		page_dispose(&prev);
		prev = page;
		page = (spec_page){ NULL, 0 };
		if ((rc = spec_page_fetch(&page, st, &f, prev.count ? &prev.rows[prev.count - 1] : NULL)) == 0)
			rc = spec_page_emit(&page, cb, payload);
	} while (rc == 0 && page.count == SPEC_PAGE);
	page_dispose(&prev);
	page_dispose(&page);
	return rc;
}
