/*
 * The dock's private state, shared by dock.c (open, index upkeep, cache),
 * dock_organise.c (add, update, delete), dock_search.c and dock_export.c.
 */
#ifndef LW_DOCK_PRIVATE_H
#define LW_DOCK_PRIVATE_H

#include "lw/dock.h"
#include "lw/index.h"
#include "lw/semantic.h"

/* The only statistical specification type the index and search hold yet. */
#define LW__TABLE_SPEC "RKMETableSpecification"

/* One parsed specification kept for exact re-ranking. */
typedef struct {
	uint64_t id; /* 0: empty slot (ids start at 1) */
	lw_rkme *rkme;
} lw__dock_cached;

struct lw_dock {
	lw_store *st;
	lw_dock_options o;
	lw_index *ix;
	lw_taxonomy *tax;
	char *index_dir;     /* <files root>/index */
	int64_t last_event;  /* the newest event the index reflects */
	int dirty;           /* the index changed since it was saved */
	lw__dock_cached *cache;
	size_t cache_cap, cache_used;
	char **unpacked; /* folders lw_dock_model_open made, removed on free */
	size_t n_unpacked;
};

/* "%08d" ids as index keys; 0 for an id that is not one. */
uint64_t lw__dock_key(const char *id);

/* Append an event naming a learnware the index may have to re-read. */
int lw__dock_event(lw_dock *d, const char *kind, const char *id, const char *detail_json);

/* Bring one learnware's index entry in line with the store. */
int lw__dock_resync(lw_dock *d, const char *id);

/*
 * The learnware's table RKME, parsed once and cached (borrowed).  With
 * owned NULL a full cache is emptied first, invalidating earlier pointers;
 * with owned set it never is, and a specification that does not fit is
 * returned in *owned for the caller to free.
 */
int lw__dock_rkme(const lw_rkme **out, lw_rkme **owned, lw_dock *d, const char *id);

/* Forget a cached specification (after a delete or a new file). */
void lw__dock_uncache(lw_dock *d, const char *id);

/* lw_dock_add, giving the learnware preferred_id when this store never gave it. */
int lw__dock_add_as(lw_dock_added *out, lw_dock *d, const char *zip_path, const char *semantic_json,
		    const char *owner, const char *preferred_id);

/* The semantic Name of a semantic specification's JSON, or "" (caller frees). */
char *lw__dock_semantic_name(const char *semantic_json);

#endif
