/*
 * The dock: opening a store, and keeping the sketch index of its usable
 * learnwares persisted and in step with the store.
 *
 * The index is saved as <files root>/index/sketch-<E>.lwix, where E is the
 * newest store event it reflects.  Every change that can move a learnware
 * in or out of search is bracketed by events (one before, one after), so a
 * dock that opens replays the events newer than E, re-reading each
 * learnware they name from the store: a crash between the two events
 * leaves a "before" event behind, and a reader that saw the "before" event
 * while the change was still in flight sees the "after" one next time.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/rkme_image.h"
#include "lw/text.h"
#include "package.h"
#include "util.h"

/* Replaying more distinct learnwares than this rebuilds the index instead. */
#define REPLAY_MAX 5000
/* Parsed specifications kept for re-ranking; the cache is emptied when full. */
#define CACHE_MAX 65536
/* Bytes of parsed text and image specifications cached (an image one is ~0.4-1.2 MB). */
#define MEDIA_CACHE_MAX ((size_t)512 << 20)

uint64_t lw__dock_key(const char *id)
{
	char *end;
	unsigned long long v;

	if (!id || !*id)
		return 0;
	errno = 0;
	v = strtoull(id, &end, 10);
	return errno || *end ? 0 : (uint64_t)v;
}

int lw__dock_event(lw_dock *d, const char *kind, const char *id, const char *detail_json)
{
	/* last_event stays: saving replays every newer event, ours included,
	 * so that another process's changes in between are not skipped. */
	d->dirty = 1;
	return lw_store_event_append(NULL, d->st, "dock", kind, id, detail_json);
}

char *lw__dock_semantic_name(const char *semantic_json)
{
	json_t *root = semantic_json ? json_loads(semantic_json, 0, NULL) : NULL;
	const char *name = json_string_value(json_object_get(json_object_get(root, "Name"), "Values"));
	char *out = lw__strdup(name ? name : "");

	json_decref(root);
	return out;
}

/* --- the cache of parsed specifications ------------------------------------- */

static size_t cache_home(const lw_dock *d, uint64_t key)
{
	return (size_t)(key * 0x9e3779b97f4a7c15ULL) & (d->cache_cap - 1);
}

static lw__dock_cached *cache_slot(lw_dock *d, uint64_t key)
{
	size_t i = cache_home(d, key);

	while (d->cache[i].id && d->cache[i].id != key)
		i = (i + 1) & (d->cache_cap - 1);
	return &d->cache[i];
}

lw__dock_cached *lw__dock_cache_find(lw_dock *d, uint64_t key)
{
	lw__dock_cached *slot = key ? cache_slot(d, key) : NULL;

	return slot && slot->id == key ? slot : NULL;
}

void lw__dock_media_free(void *spec, lw__media_kind kind)
{
	if (kind == LW__MEDIA_TEXT)
		lw_text_spec_free(spec);
	else if (kind == LW__MEDIA_IMAGE)
		lw_rkme_image_free(spec);
}

static void slot_empty(lw_dock *d, lw__dock_cached *slot)
{
	lw_rkme_free(slot->rkme);
	lw_hetero_spec_free(slot->hetero);
	lw__dock_media_free(slot->media, slot->media_kind);
	d->media_bytes -= slot->media_bytes;
	memset(slot, 0, sizeof(*slot));
}

/* Pairs of image specifications: 2^16 slots, a table that fills is emptied. */
#define PAIRS_CAP 65536

static void pairs_clear(lw_dock *d)
{
	if (d->pairs)
		memset(d->pairs, 0, d->pairs_cap * sizeof(*d->pairs));
	d->pairs_used = 0;
}

static size_t pair_home(uint64_t a, uint64_t b)
{
	return (size_t)((a * 0x9e3779b97f4a7c15ULL) ^ (b * 0xc2b2ae3d27d4eb4fULL)) & (PAIRS_CAP - 1);
}

int lw__dock_pair_get(const lw_dock *d, uint64_t a, uint64_t b, double *v)
{
	if (!d->pairs)
		return 0;
	for (size_t i = pair_home(a, b); d->pairs[i].a; i = (i + 1) & (PAIRS_CAP - 1))
		if (d->pairs[i].a == a && d->pairs[i].b == b) {
			*v = d->pairs[i].v;
			return 1;
		}
	return 0;
}

void lw__dock_pair_put(lw_dock *d, uint64_t a, uint64_t b, double v)
{
	size_t i;

	if (!d->pairs && !(d->pairs = lw__calloc(PAIRS_CAP, sizeof(*d->pairs))))
		return; /* a cache: doing without is fine */
	d->pairs_cap = PAIRS_CAP;
	if (d->pairs_used + 1 > PAIRS_CAP / 2)
		pairs_clear(d);
	for (i = pair_home(a, b); d->pairs[i].a; i = (i + 1) & (PAIRS_CAP - 1))
		if (d->pairs[i].a == a && d->pairs[i].b == b)
			return;
	d->pairs[i].a = a;
	d->pairs[i].b = b;
	d->pairs[i].v = v;
	d->pairs_used++;
}

static void cache_clear(lw_dock *d)
{
	for (size_t i = 0; i < d->cache_cap; i++)
		slot_empty(d, &d->cache[i]);
	d->cache_used = 0;
	d->media_bytes = 0;
	pairs_clear(d);
}

/*
 * Linear probing without tombstones: after emptying a slot, later entries
 * of the same run move back into it unless their home lies after the hole.
 */
void lw__dock_uncache(lw_dock *d, const char *id)
{
	uint64_t key = lw__dock_key(id);
	size_t mask = d->cache_cap - 1, hole, j;
	lw__dock_cached *slot;

	/* A changed specification may be in any cached pair. */
	if (key)
		pairs_clear(d);
	if (!key || !d->cache_used || (slot = cache_slot(d, key))->id != key)
		return;
	slot_empty(d, slot);
	d->cache_used--;
	hole = (size_t)(slot - d->cache);
	for (j = (hole + 1) & mask; d->cache[j].id; j = (j + 1) & mask) {
		size_t home = cache_home(d, d->cache[j].id);

		/* Stays when its home is cyclically in (hole, j]. */
		if (hole <= j ? (home > hole && home <= j) : (home > hole || home <= j))
			continue;
		d->cache[hole] = d->cache[j];
		memset(&d->cache[j], 0, sizeof(d->cache[j]));
		hole = j;
	}
}

/*
 * The slot for key, made when missing.  NULL when the cache is full: the
 * caller then hands its parsed specification over (owned) when it may not
 * empty the cache, or empties it and asks again.
 */
static lw__dock_cached *cache_claim(lw_dock *d, uint64_t key, size_t extra_bytes, int may_clear)
{
	lw__dock_cached *slot = cache_slot(d, key);

	if (slot->id == key && d->media_bytes + extra_bytes <= MEDIA_CACHE_MAX)
		return slot;
	if (d->cache_used + 1 > d->cache_cap / 2 || d->media_bytes + extra_bytes > MEDIA_CACHE_MAX) {
		if (!may_clear)
			return NULL;
		cache_clear(d);
		slot = cache_slot(d, key);
	}
	if (slot->id != key) {
		slot->id = key;
		d->cache_used++;
	}
	return slot;
}

static int check_key(uint64_t *key, const char *id)
{
	if (!(*key = lw__dock_key(id))) {
		lw_error_set(LW_ERRCLASS_INVALID, "'%s' is not a learnware id", id);
		return LW_EINVALID;
	}
	return 0;
}

int lw__dock_rkme(const lw_rkme **out, lw_rkme **owned, lw_dock *d, const char *id)
{
	lw__dock_cached *slot;
	lw_rkme *r = NULL;
	char *json = NULL;
	uint64_t key;
	int err;

	*out = NULL;
	if (owned)
		*owned = NULL;
	if ((err = check_key(&key, id)) < 0)
		return err;
	slot = cache_slot(d, key);
	if (slot->id == key && slot->rkme) {
		*out = slot->rkme;
		return 0;
	}
	if ((err = lw_store_spec_get(&json, d->st, id, LW__TABLE_SPEC)) < 0)
		return err;
	err = lw_rkme_from_json(&r, json, strlen(json), id);
	free(json);
	if (err < 0)
		return err;
	/* Full while a caller holds cached pointers: hand this one over. */
	if (!(slot = cache_claim(d, key, 0, owned == NULL))) {
		*owned = r;
		*out = r;
		return 0;
	}
	slot->rkme = r;
	*out = r;
	return 0;
}

static int media_parse(void **out, size_t *bytes, const char *json, const char *id, lw__media_kind kind)
{
	int err;

	if (kind == LW__MEDIA_TEXT) {
		lw_text_spec *t = NULL;

		if ((err = lw_text_spec_from_json(&t, json, strlen(json), id)) == 0)
			*bytes = t->rkme->z.rows * t->rkme->z.cols * sizeof(double) + sizeof(*t);
		*out = t;
	} else {
		lw_rkme_image *r = NULL;

		if ((err = lw_rkme_image_from_json(&r, json, strlen(json), id)) == 0)
			*bytes = r->k * r->channels * 1024 * sizeof(double) * 2 + sizeof(*r);
		*out = r;
	}
	return err;
}

int lw__dock_media(const void **out, void **owned, lw_dock *d, const char *id, lw__media_kind kind)
{
	lw__dock_cached *slot;
	void *spec = NULL;
	char *json = NULL;
	size_t bytes = 0;
	uint64_t key;
	int err;

	*out = NULL;
	if (owned)
		*owned = NULL;
	if ((err = check_key(&key, id)) < 0)
		return err;
	slot = cache_slot(d, key);
	if (slot->id == key && slot->media && slot->media_kind == kind) {
		*out = slot->media;
		return 0;
	}
	if ((err = lw_store_spec_get(&json, d->st, id,
				     kind == LW__MEDIA_TEXT ? LW__TEXT_SPEC : LW__IMAGE_SPEC)) < 0)
		return err;
	err = media_parse(&spec, &bytes, json, id, kind);
	free(json);
	if (err < 0)
		return err;
	slot = cache_claim(d, key, bytes, owned == NULL);
	if (!slot || (slot->media && slot->media_kind != kind)) {
		if (!owned) {
			lw__dock_media_free(spec, kind);
			lw_error_set(LW_ERRCLASS_INVALID, "learnware %s holds two kinds of specification", id);
			return LW_EINVALID;
		}
		*owned = spec;
		*out = spec;
		return 0;
	}
	slot->media = spec;
	slot->media_kind = kind;
	slot->media_bytes = bytes;
	d->media_bytes += bytes;
	*out = spec;
	return 0;
}

/* --- keeping the index in step -------------------------------------------- */

int lw__dock_resync(lw_dock *d, const char *id)
{
	lw_learnware_record rec = { 0 };
	uint64_t key = lw__dock_key(id);
	const lw_rkme *r;
	int err, usable;

	if (!key)
		return 0;
	lw__dock_uncache(d, id);
	if (!d->ix)
		return 0; /* no_index: nothing to keep in step */
	err = lw_store_get(&rec, d->st, id);
	if (err < 0 && err != LW_ENOTFOUND)
		return err;
	usable = err == 0 && rec.usability == LW_USABILITY_USABLE;
	lw_learnware_record_dispose(&rec);
	d->dirty = 1;
	if (usable) {
		err = lw__dock_rkme(&r, NULL, d, id);
		if (err == 0)
			return lw_index_add(d->ix, key, r);
		if (err != LW_ENOTFOUND && err != LW_EINVALID)
			return err;
	}
	err = lw_index_remove(d->ix, key);
	return err == LW_ENOTFOUND ? 0 : err;
}

/* Specifications are parsed in batches and sketched together (in parallel). */
#define REBUILD_BATCH 1024

typedef struct {
	lw_dock *d;
	size_t done, total;
	uint64_t keys[REBUILD_BATCH];
	lw_rkme *r[REBUILD_BATCH];
	size_t n;
} rebuild_walk;

static int rebuild_flush(rebuild_walk *w)
{
	int err = w->n ? lw_index_add_many(w->d->ix, w->keys, (const lw_rkme *const *)w->r, w->n) : 0;

	for (size_t i = 0; i < w->n; i++)
		lw_rkme_free(w->r[i]);
	w->done += w->n;
	w->n = 0;
	if (err == 0 && w->d->o.progress && w->total &&
	    w->d->o.progress("indexing", (double)w->done / (double)w->total, w->d->o.payload) != 0)
		err = LW_ECANCEL;
	return err;
}

static int rebuild_one(const lw_store_spec *spec, void *payload)
{
	rebuild_walk *w = payload;
	uint64_t key = lw__dock_key(spec->learnware_id);
	lw_rkme *r = NULL;

	/* A specification that does not parse stays out of search, as it would on add. */
	if (!key || lw_rkme_from_json(&r, spec->json, spec->len, spec->learnware_id) < 0)
		return 0;
	w->keys[w->n] = key;
	w->r[w->n++] = r;
	return w->n == REBUILD_BATCH ? rebuild_flush(w) : 0;
}

static int rebuild(lw_dock *d)
{
	lw_spec_filter f = LW_SPEC_FILTER_INIT;
	lw_index_options io = LW_INDEX_OPTIONS_INIT;
	lw_learnware_filter lf = LW_LEARNWARE_FILTER_INIT;
	rebuild_walk *w = lw__calloc(1, sizeof(*w));
	int64_t newest;
	int err;

	if (!w)
		return LW_ENOMEM;
	w->d = d;

	/* Read the newest event first: what happens during the walk replays later. */
	lf.usability = LW_USABILITY_USABLE;
	if ((err = lw_store_event_newest(&newest, d->st)) < 0 ||
	    (err = lw_store_count(&w->total, d->st, &lf)) < 0)
		goto done;
	lw_index_free(d->ix);
	d->ix = NULL;
	cache_clear(d);
	if ((err = lw_index_new(&d->ix, &io)) < 0)
		goto done;
	f.type = LW__TABLE_SPEC;
	f.usable_only = 1;
	err = lw_store_foreach_spec(d->st, &f, rebuild_one, w);
	if (err == 0)
		err = rebuild_flush(w);
	/* One training at the final size, rather than one per doubling. */
	if (err == 0)
		err = lw_index_train(d->ix);
	if (err == 0) {
		d->last_event = newest;
		d->dirty = 1;
	}
done:
	for (size_t i = 0; i < w->n; i++)
		lw_rkme_free(w->r[i]);
	free(w);
	return err;
}

/*
 * Resync the learnwares named by events newer than last_event (pages
 * fetched newest first, down to last_event); rebuild when too many.  The
 * store makes ids visible in order, so none older than the newest seen can
 * appear later.
 */
static int replay(lw_dock *d)
{
	lw_event_filter f = LW_EVENT_FILTER_INIT;
	lw_event_list l = { 0 };
	char (*ids)[16] = NULL;
	size_t n = 0, cap = 0;
	int64_t newest = d->last_event;
	int err = 0, more = 1, too_many = 0;

	f.limit = 500;
	f.after_id = d->last_event;
	while (more && !too_many) {
		if ((err = lw_store_event_list(&l, d->st, &f)) < 0)
			goto done;
		more = l.count == f.limit;
		for (size_t i = 0; i < l.count; i++) {
			const lw_event_record *e = &l.items[i];

			if (e->id <= d->last_event) {
				more = 0;
				break;
			}
			if (e->id > newest)
				newest = e->id;
			if (!e->learnware_id)
				continue;
			if (n == cap) {
				void *p = lw__reallocarray(ids, cap = cap ? 2 * cap : 64, sizeof(*ids));

				if (!p) {
					err = LW_ENOMEM;
					goto done;
				}
				ids = p;
			}
			snprintf(ids[n++], sizeof(ids[0]), "%s", e->learnware_id);
			if (n > REPLAY_MAX) {
				too_many = 1;
				break;
			}
		}
		if (l.count)
			f.before_id = l.items[l.count - 1].id;
		lw_event_list_dispose(&l);
	}
	if (too_many) {
		err = rebuild(d);
		goto done;
	}
	for (size_t i = 0; i < n && err == 0; i++)
		err = lw__dock_resync(d, ids[i]);
	if (err == 0 && newest > d->last_event) {
		d->last_event = newest;
		d->dirty = 1;
	}
done:
	lw_event_list_dispose(&l);
	free(ids);
	return err;
}

/* The saved index with the highest event number, or none. */
static int newest_index_file(char **path, int64_t *event, const char *dir)
{
	struct dirent *de;
	DIR *dh = opendir(dir);
	long long best = -1;

	*path = NULL;
	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		long long e;
		char tail[8];

		if (sscanf(de->d_name, "sketch-%lld.lw%7s", &e, tail) == 2 && !strcmp(tail, "ix") &&
		    e > best)
			best = e;
	}
	closedir(dh);
	if (best < 0)
		return 0;
	if (!(*path = lw__mallocarray(strlen(dir) + 48, 1)))
		return LW_ENOMEM;
	sprintf(*path, "%s/sketch-%lld.lwix", dir, best);
	*event = best;
	return 0;
}

static int load_index(lw_dock *d)
{
	lw_index_options io = LW_INDEX_OPTIONS_INIT;
	char *path = NULL;
	int64_t event = 0;
	int err;

	if ((err = newest_index_file(&path, &event, d->index_dir)) < 0)
		return err;
	if (path && lw_index_load(&d->ix, path) == 0) {
		d->last_event = event;
		free(path);
		return replay(d);
	}
	/* No index yet, or an unreadable one: rebuild from the store. */
	free(path);
	if (d->ix == NULL && (err = lw_index_new(&d->ix, &io)) < 0)
		return err;
	return rebuild(d);
}

/* Save as sketch-<last_event>.lwix and remove older files. */
static int save_index(lw_dock *d)
{
	struct dirent *de;
	char *path;
	DIR *dh;
	int err;

	if (!d->dirty || d->o.read_only)
		return 0;
	if ((err = replay(d)) < 0)
		return err;
	if (mkdir(d->index_dir, 0755) != 0 && errno != EEXIST) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s: %s", d->index_dir, strerror(errno));
		return LW_EIO;
	}
	if (!(path = lw__mallocarray(strlen(d->index_dir) + 48, 1)))
		return LW_ENOMEM;
	sprintf(path, "%s/sketch-%" PRId64 ".lwix", d->index_dir, d->last_event);
	err = lw_index_save(d->ix, path);
	if (err == 0 && (dh = opendir(d->index_dir))) {
		const char *mine = strrchr(path, '/') + 1;

		while ((de = readdir(dh))) {
			long long e;

			if (sscanf(de->d_name, "sketch-%lld.lwix", &e) == 1 && e < d->last_event &&
			    strcmp(de->d_name, mine) && unlinkat(dirfd(dh), de->d_name, 0) != 0)
				break;
		}
		closedir(dh);
	}
	free(path);
	if (err == 0)
		d->dirty = 0;
	return err;
}

/* --- open and free ------------------------------------------------------------ */

int lw_dock_open(lw_dock **out, const char *url, const lw_dock_options *opts)
{
	lw_store_options so = LW_STORE_OPTIONS_INIT;
	lw_dock *d;
	const char *root;
	int err;

	LW_ASSERT_ARG(out && url);
	*out = NULL;
	if (!(d = lw__calloc(1, sizeof(*d))))
		return LW_ENOMEM;
	if (opts) {
		d->o = *opts;
		if (opts->version < 2)
			d->o.defer_check = d->o.no_index = 0;
		if (opts->version < 3) {
			d->o.hetero_auto = 1;
			d->o.hetero_min = 20;
			d->o.hetero_growth = 0.25;
			d->o.hetero = NULL;
		}
	} else {
		lw_dock_options def = LW_DOCK_OPTIONS_INIT;

		d->o = def;
	}
	so.root = d->o.files_root;
	d->cache_cap = 2 * CACHE_MAX;
	if (!(d->cache = lw__calloc(d->cache_cap, sizeof(*d->cache)))) {
		err = LW_ENOMEM;
		goto fail;
	}
	if ((err = lw_store_open(&d->st, url, &so)) < 0 || (err = lw_taxonomy_builtin(&d->tax)) < 0)
		goto fail;
	root = lw_store_root(d->st);
	if (!(d->index_dir = lw__mallocarray(strlen(root) + 8, 1))) {
		err = LW_ENOMEM;
		goto fail;
	}
	sprintf(d->index_dir, "%s/index", root);
	if (!d->o.no_index && (err = load_index(d)) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	lw_dock_free(d);
	return err;
}

void lw_dock_free(lw_dock *d)
{
	if (!d)
		return;
	/* A failed save is not fatal: the next open replays the events. */
	if (d->ix && d->st)
		save_index(d);
	if (d->cache)
		cache_clear(d);
	for (size_t i = 0; i < d->n_unpacked; i++) {
		lw__remove_tree(d->unpacked[i], 1);
		free(d->unpacked[i]);
	}
	free(d->unpacked);
	free(d->cache);
	free(d->pairs);
	lw_index_free(d->ix);
	lw_hetero_map_free(d->hmap);
	lw_taxonomy_free(d->tax);
	lw_store_free(d->st);
	free(d->index_dir);
	free(d);
}

lw_store *lw_dock_store(lw_dock *d)
{
	return d ? d->st : NULL;
}

size_t lw_dock_indexed(const lw_dock *d)
{
	return d && d->ix ? lw_index_size(d->ix) : 0;
}

/* no_index handles have no index to search, rebuild or refresh. */
static int refuse_no_index(const char *what)
{
	lw_error_set(LW_ERRCLASS_INVALID,
		     "cannot %s: this dock handle was opened without an index (no_index)", what);
	return LW_EINVALID;
}

int lw_dock_reindex(lw_dock *d)
{
	int err;

	LW_ASSERT_ARG(d);
	if (!d->ix)
		return refuse_no_index("rebuild the index");
	if ((err = rebuild(d)) < 0)
		return err;
	return save_index(d);
}

int lw_dock_refresh(lw_dock *d)
{
	int64_t newest = 0;
	int err;

	LW_ASSERT_ARG(d);
	if (!d->ix)
		return 0;
	/* The usual case, nothing new, costs one index probe. */
	if ((err = lw_store_event_newest(&newest, d->st)) < 0 || newest <= d->last_event)
		return err;
	return replay(d);
}
