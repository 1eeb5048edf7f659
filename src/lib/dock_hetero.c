/*
 * The dock's heterogeneous map (docs/hetero.md, "In the dock"): trained
 * on the usable table learnwares whose columns are described, retrained
 * as they grow, persisted under <files>/hetero/, with every described
 * learnware's heterogeneous specification stored beside its others.
 *
 * The newest "hetero.map" event (actor "hetero") names the current map:
 * specifications are written before it is appended, so switching maps is
 * that one append, and every handle picks the new map up at its next
 * look.  A stored specification of another map is remade in memory from
 * the current one (one forward pass), so nothing is ever compared across
 * maps.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define ACTOR "hetero"
#define KIND "hetero.map"

/* <files>/hetero, or that folder's map file for id (id NULL: the folder). */
static char *hetero_path(const lw_dock *d, const char *id)
{
	const char *root = lw_store_root(d->st);
	char *p = lw__mallocarray(strlen(root) + 64, 1);

	if (p && id)
		sprintf(p, "%s/hetero/map-%s.lwhm", root, id);
	else if (p)
		sprintf(p, "%s/hetero", root);
	return p;
}

int lw__dock_described(const lw_semantic *s, size_t dim)
{
	size_t declared = 0;

	if (!s || lw_semantic_dim(&declared, s, LW_SEMANTIC_INPUT) < 0 || declared != dim)
		return 0;
	for (size_t i = 0; i < dim; i++) {
		const char *f = lw_semantic_feature(s, LW_SEMANTIC_INPUT, i);

		if (f && *f)
			return 1;
	}
	return 0;
}

/* --- the current map ----------------------------------------------------------- */

typedef struct {
	int64_t event;
	char id[LW_HETERO_ID_SIZE];
	uint64_t generation;
	size_t trained_on;
} map_event;

static int newest_map_event(map_event *out, lw_dock *d)
{
	lw_event_filter f = LW_EVENT_FILTER_INIT;
	lw_event_list l = { NULL, 0 };
	int err;

	memset(out, 0, sizeof(*out));
	f.actor = ACTOR;
	f.limit = 1;
	if ((err = lw_store_event_list(&l, d->st, &f)) < 0)
		return err;
	if (l.count && l.items[0].detail_json && !strcmp(l.items[0].kind, KIND)) {
		json_t *o = json_loads(l.items[0].detail_json, 0, NULL);
		const char *id = json_string_value(json_object_get(o, "map_id"));

		if (id && strlen(id) == LW_HETERO_ID_SIZE - 1) {
			out->event = l.items[0].id;
			memcpy(out->id, id, LW_HETERO_ID_SIZE);
			out->generation = (uint64_t)json_integer_value(json_object_get(o, "generation"));
			out->trained_on = (size_t)json_integer_value(json_object_get(o, "trained_on"));
		}
		json_decref(o);
	}
	lw_event_list_dispose(&l);
	return 0;
}

static void set_current(lw_dock *d, lw_hetero_map *map, const map_event *e)
{
	lw_hetero_map_free(d->hmap);
	d->hmap = map;
	d->hmap_event = e->event;
	d->hmap_generation = e->generation;
	d->hmap_trained_on = e->trained_on;
}

int lw__dock_hetero_map(const lw_hetero_map **out, lw_dock *d)
{
	lw_hetero_map *map = NULL;
	map_event e;
	char *path;
	int err;

	*out = NULL;
	if ((err = newest_map_event(&e, d)) < 0)
		return err;
	if (!e.event || e.event == d->hmap_event) {
		*out = d->hmap;
		return 0;
	}
	if (!(path = hetero_path(d, e.id)))
		return LW_ENOMEM;
	err = lw_hetero_map_load(&map, path);
	free(path);
	if (err < 0)
		return err;
	set_current(d, map, &e);
	*out = map;
	return 0;
}

int lw_dock_hetero_map(const lw_hetero_map **out, lw_dock *d)
{
	LW_ASSERT_ARG(out && d);
	return lw__dock_hetero_map(out, d);
}

/* --- specifications --------------------------------------------------------------- */

static int store_spec(lw_dock *d, const char *id, const lw_hetero_spec *hs)
{
	lw_store_spec spec = { NULL, LW_HETERO_SPEC_TYPE, lw_rkme_dim(hs->rkme), NULL, 0 };
	char *json = NULL;
	int err;

	if ((err = lw_hetero_spec_to_json(&json, hs)) < 0)
		return err;
	spec.json = json;
	spec.len = strlen(json);
	err = lw_store_spec_put(d->st, id, &spec);
	free(json);
	return err;
}

/* The stored specification when the current map made it. */
static int stored_spec(lw_hetero_spec **out, lw_dock *d, const char *id, const lw_hetero_map *map)
{
	char *json = NULL;
	int err;

	*out = NULL;
	if ((err = lw_store_spec_get(&json, d->st, id, LW_HETERO_SPEC_TYPE)) < 0)
		return err == LW_ENOTFOUND ? 0 : err;
	err = lw_hetero_spec_from_json(out, json, strlen(json), id);
	free(json);
	if (err == 0 && !lw_hetero_spec_is_current(*out, map)) {
		lw_hetero_spec_free(*out);
		*out = NULL;
	}
	return err == LW_EINVALID ? 0 : err;
}

int lw__dock_hetero_spec(const lw_hetero_spec **out, lw_hetero_spec **owned, lw_dock *d,
			 const char *id, const lw_rkme *rkme, const lw_semantic *sem)
{
	const lw_hetero_map *map = d->hmap;
	lw__dock_cached *slot = lw__dock_cache_find(d, lw__dock_key(id));
	lw_hetero_spec *hs = NULL;
	int err;

	*out = NULL;
	*owned = NULL;
	if (!map)
		return LW_ENOTFOUND;
	if (slot && slot->hetero && lw_hetero_spec_is_current(slot->hetero, map)) {
		*out = slot->hetero;
		return 0;
	}
	if ((err = stored_spec(&hs, d, id, map)) < 0)
		return err;
	if (!hs && (err = lw_hetero_spec_from_semantic(&hs, map, rkme, sem, NULL)) < 0)
		return err;
	if (slot) {
		lw_hetero_spec_free(slot->hetero);
		slot->hetero = hs;
	} else {
		*owned = hs; /* the table RKME went uncached: so does this */
	}
	*out = hs;
	return 0;
}

/* --- training ---------------------------------------------------------------------- */

typedef struct {
	lw_dock *d;
	char (*ids)[16];
	lw_rkme **rkme;
	lw_mat *cols;
	size_t n, cap;
} sources;

static void sources_dispose(sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		lw_rkme_free(s->rkme[i]);
		lw_mat_dispose(&s->cols[i]);
	}
	free(s->ids);
	free(s->rkme);
	free(s->cols);
}

static int sources_grow(sources *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64;
	void *p;

	if (!(p = lw__reallocarray(s->ids, cap, sizeof(*s->ids))))
		return LW_ENOMEM;
	s->ids = p;
	if (!(p = lw__reallocarray(s->rkme, cap, sizeof(*s->rkme))))
		return LW_ENOMEM;
	s->rkme = p;
	if (!(p = lw__reallocarray(s->cols, cap, sizeof(*s->cols))))
		return LW_ENOMEM;
	s->cols = p;
	s->cap = cap;
	return 0;
}

/* One usable table learnware: kept when its columns are described (count_only: just counted). */
static int gather_one(const lw_store_spec *spec, void *payload)
{
	sources *s = payload;
	lw_learnware_record rec = { 0 };
	lw_semantic *sem = NULL;
	lw_rkme *r = NULL;
	int err;

	if (lw_rkme_from_json(&r, spec->json, spec->len, spec->learnware_id) < 0)
		return 0; /* it stays out of search too */
	if ((err = lw_store_get(&rec, s->d->st, spec->learnware_id)) < 0 ||
	    lw_semantic_from_json(&sem, rec.semantic_json, strlen(rec.semantic_json), rec.id) < 0 ||
	    !lw__dock_described(sem, lw_rkme_dim(r)))
		goto done;
	if (s->n == s->cap && (err = sources_grow(s)) < 0)
		goto done;
	if ((err = lw_hetero_columns(&s->cols[s->n], NULL, sem, lw_rkme_dim(r))) < 0)
		goto done;
	snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", spec->learnware_id);
	s->rkme[s->n++] = r;
	r = NULL;
done:
	lw_semantic_free(sem);
	lw_learnware_record_dispose(&rec);
	lw_rkme_free(r);
	return err == LW_ENOTFOUND ? 0 : err;
}

static int gather(sources *s, lw_dock *d)
{
	lw_spec_filter f = LW_SPEC_FILTER_INIT;

	memset(s, 0, sizeof(*s));
	s->d = d;
	f.type = LW__TABLE_SPEC;
	f.usable_only = 1;
	return lw_store_foreach_spec(d->st, &f, gather_one, s);
}

static int due(const lw_dock *d, size_t described_now)
{
	if (described_now < 2)
		return 0;
	if (!d->hmap)
		return described_now >= d->o.hetero_min;
	return (double)described_now >= (double)d->hmap_trained_on * (1.0 + d->o.hetero_growth);
}

/* Map files other than the current one: no handle loads them again. */
static void remove_old_maps(lw_dock *d, const char *keep)
{
	char *dir = hetero_path(d, NULL), name[64];
	struct dirent *e;
	DIR *dh = dir ? opendir(dir) : NULL;

	snprintf(name, sizeof(name), "map-%s.lwhm", keep);
	while (dh && (e = readdir(dh))) {
		if (strncmp(e->d_name, "map-", 4) || !strcmp(e->d_name, name))
			continue;
		char *p = lw__mallocarray(strlen(dir) + strlen(e->d_name) + 2, 1);

		if (p) {
			sprintf(p, "%s/%s", dir, e->d_name);
			unlink(p);
			free(p);
		}
	}
	if (dh)
		closedir(dh);
	free(dir);
}

static int train_and_switch(lw_dock *d, const sources *s)
{
	lw_hetero_options o = LW_HETERO_OPTIONS_INIT;
	lw_hetero_source *src = lw__calloc(s->n, sizeof(*src));
	lw_hetero_map *map = NULL;
	map_event e;
	char *dir = NULL, *path = NULL, detail[256];
	int err;

	if (!src)
		return LW_ENOMEM;
	if (d->o.hetero)
		o = *d->o.hetero;
	o.generation = d->hmap_generation + 1;
	o.progress = d->o.progress;
	o.payload = d->o.payload;
	for (size_t i = 0; i < s->n; i++) {
		src[i].rkme = s->rkme[i];
		src[i].columns = &s->cols[i];
	}
	if ((err = lw_hetero_map_train(&map, src, s->n, &o)) < 0)
		goto done;
	dir = hetero_path(d, NULL);
	path = hetero_path(d, lw_hetero_map_id(map));
	if (!dir || !path) {
		err = LW_ENOMEM;
		goto done;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s: %s", dir, strerror(errno));
		err = LW_EIO;
		goto done;
	}
	if ((err = lw_hetero_map_save(map, path)) < 0)
		goto done;
	for (size_t i = 0; i < s->n && err == 0; i++) {
		lw_hetero_spec *hs = NULL;

		if ((err = lw_hetero_spec_new(&hs, map, s->rkme[i], &s->cols[i])) == 0)
			err = store_spec(d, s->ids[i], hs);
		lw_hetero_spec_free(hs);
	}
	if (err < 0)
		goto done;
	memset(&e, 0, sizeof(e));
	snprintf(e.id, sizeof(e.id), "%s", lw_hetero_map_id(map));
	e.generation = o.generation;
	e.trained_on = s->n;
	snprintf(detail, sizeof(detail), "{\"map_id\":\"%s\",\"generation\":%" PRIu64 ",\"trained_on\":%zu}",
		 e.id, e.generation, e.trained_on);
	if ((err = lw_store_event_append(&e.event, d->st, ACTOR, KIND, NULL, detail)) < 0)
		goto done;
	set_current(d, map, &e);
	map = NULL;
	remove_old_maps(d, e.id);
done:
	lw_hetero_map_free(map);
	free(src);
	free(dir);
	free(path);
	return err;
}

int lw_dock_hetero_train(int *trained, lw_dock *d, int force)
{
	lw_learnware_filter uf = LW_LEARNWARE_FILTER_INIT;
	const lw_hetero_map *cur;
	size_t usable = 0;
	sources s;
	int err;

	LW_ASSERT_ARG(d);
	memset(&s, 0, sizeof(s));
	if (trained)
		*trained = 0;
	if ((err = lw__dock_hetero_map(&cur, d)) < 0)
		return err;
	uf.usability = LW_USABILITY_USABLE;
	if ((err = lw_store_count(&usable, d->st, &uf)) < 0 || (err = gather(&s, d)) < 0)
		goto done;
	d->hetero_walked = 1;
	d->hetero_walk_described = s.n;
	d->hetero_walk_usable = usable;
	if (force && s.n < 2) {
		lw_error_set(LW_ERRCLASS_INVALID, "a heterogeneous map needs at least 2 usable table learnwares "
						  "with described Input columns; the dock has %zu", s.n);
		err = LW_EINVALID;
		goto done;
	}
	if (!force && !due(d, s.n))
		goto done;
	if ((err = train_and_switch(d, &s)) == 0 && trained)
		*trained = 1;
done:
	sources_dispose(&s);
	return err;
}

int lw_dock_hetero_info_get(lw_dock_hetero_info *out, lw_dock *d)
{
	const lw_hetero_map *cur;
	sources s;
	int err;

	LW_ASSERT_ARG(out && d);
	memset(out, 0, sizeof(*out));
	if ((err = lw__dock_hetero_map(&cur, d)) < 0 || (err = gather(&s, d)) < 0)
		return err;
	if (cur) {
		snprintf(out->map_id, sizeof(out->map_id), "%s", lw_hetero_map_id(cur));
		out->generation = d->hmap_generation;
		out->trained_on = d->hmap_trained_on;
	}
	out->described = s.n;
	out->due = due(d, s.n);
	sources_dispose(&s);
	return 0;
}

/* --- a learnware that became usable ---------------------------------------------- */

/* Its specification under the current map, stored at once so searches need not make it. */
static int spec_for_new(lw_dock *d, const char *id)
{
	lw_learnware_record rec = { 0 };
	lw_semantic *sem = NULL;
	lw_hetero_spec *hs = NULL;
	const lw_rkme *r;
	lw_rkme *own = NULL;
	int err;

	if (!d->hmap)
		return 0;
	if ((err = lw__dock_rkme(&r, &own, d, id)) < 0)
		return err == LW_ENOTFOUND ? 0 : err;
	if ((err = lw_store_get(&rec, d->st, id)) == 0 &&
	    lw_semantic_from_json(&sem, rec.semantic_json, strlen(rec.semantic_json), id) == 0 &&
	    lw__dock_described(sem, lw_rkme_dim(r)) &&
	    (err = lw_hetero_spec_from_semantic(&hs, d->hmap, r, sem, NULL)) == 0)
		err = store_spec(d, id, hs);
	lw_hetero_spec_free(hs);
	lw_semantic_free(sem);
	lw_learnware_record_dispose(&rec);
	lw_rkme_free(own);
	return err;
}

/*
 * The policy needs the described learnwares counted, a walk over every
 * usable one.  Each learnware that became usable since the last walk adds
 * at most one, so the walk is skipped while even that bound is short of
 * what would make a map due.
 */
static int worth_counting(lw_dock *d)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	size_t usable = 0, bound;
	double need;

	f.usability = LW_USABILITY_USABLE;
	if (lw_store_count(&usable, d->st, &f) < 0)
		return 0;
	need = d->hmap ? (double)d->hmap_trained_on * (1.0 + d->o.hetero_growth) : (double)d->o.hetero_min;
	bound = !d->hetero_walked ? usable
		: d->hetero_walk_described + (usable > d->hetero_walk_usable ? usable - d->hetero_walk_usable : 0);
	if ((double)bound < need || bound < 2)
		return 0;
	d->hetero_walk_usable = usable;
	return 1;
}

void lw__dock_hetero_usable(lw_dock *d, const char *id)
{
	const lw_hetero_map *cur;

	/* Heterogeneous upkeep never fails the add that triggered it: the next one retries. */
	if (lw__dock_hetero_map(&cur, d) < 0)
		return;
	spec_for_new(d, id);
	if (d->o.hetero_auto && worth_counting(d))
		lw_dock_hetero_train(NULL, d, 0);
}
