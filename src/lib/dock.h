/*
 * The dock's private state, shared by dock.c (open, index upkeep, cache),
 * dock_organise.c (add, update, delete), dock_search.c and dock_export.c.
 */
#ifndef LW_DOCK_PRIVATE_H
#define LW_DOCK_PRIVATE_H

#include "lw/dock.h"
#include "lw/index.h"
#include "lw/semantic.h"

/* The table specification: the one type the sketch index holds. */
#define LW__TABLE_SPEC "RKMETableSpecification"
/* Text and image specifications: searched by an exact scan. */
#define LW__TEXT_SPEC "RKMETextSpecification"
#define LW__IMAGE_SPEC "RKMEImageSpecification"

typedef enum { LW__MEDIA_NONE = 0, LW__MEDIA_TEXT, LW__MEDIA_IMAGE } lw__media_kind;

/* One learnware's parsed specifications, kept for exact ranking. */
typedef struct {
	uint64_t id; /* 0: empty slot (ids start at 1) */
	lw_rkme *rkme;
	void *media;           /* an lw_text_spec or lw_rkme_image, or NULL */
	lw_hetero_spec *hetero; /* its heterogeneous specification, of map hetero->map_id */
	lw__media_kind media_kind;
	size_t media_bytes;
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
	size_t media_bytes; /* held by cached text and image specifications */
	/* <a, b> of image learnwares' specifications (cnn_gp is costly); emptied with the cache. */
	struct lw__pair_inner *pairs;
	size_t pairs_cap, pairs_used;
	char **unpacked; /* folders lw_dock_model_open made, removed on free */
	size_t n_unpacked;
	/* The heterogeneous map as of the newest "hetero.map" event seen (dock_hetero.c). */
	lw_hetero_map *hmap;
	int64_t hmap_event;
	uint64_t hmap_generation;
	size_t hmap_trained_on;
	/* The policy's last walk: described and usable learnwares then (worth_counting). */
	int hetero_walked;
	size_t hetero_walk_described, hetero_walk_usable;
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

/*
 * The learnware's text or image specification (kind), parsed once and
 * cached as lw__dock_rkme caches table ones; LW_ENOTFOUND when it has none.
 * Release an owned one with lw__dock_media_free.
 */
int lw__dock_media(const void **out, void **owned, lw_dock *d, const char *id, lw__media_kind kind);
void lw__dock_media_free(void *spec, lw__media_kind kind);

/* Forget a cached specification (after a delete or a new file). */
void lw__dock_uncache(lw_dock *d, const char *id);

/* lw_dock_add, giving the learnware preferred_id when this store never gave it. */
int lw__dock_add_as(lw_dock_added *out, lw_dock *d, const char *zip_path, const char *semantic_json,
		    const char *owner, const char *preferred_id);

/* The learnwares the semantic stage let through, sorted by id for lookups. */
typedef struct {
	int all;            /* no semantic filter: every usable learnware */
	char (*ids)[16];    /* in the stage's order (fuzzy: best first) */
	double *scores;
	size_t n;
	int fuzzy;
	char (*sorted)[16];
} lw__semantic_set;

int lw__semantic_stage(lw__semantic_set *s, lw_dock *d, const lw_dock_query *q);
int lw__semantic_has(const lw__semantic_set *s, const char *id);
void lw__semantic_set_dispose(lw__semantic_set *s);

/* A hit for learnware id, its semantic Name looked up. */
int lw__dock_fill_hit(lw_dock_hit *h, lw_dock *d, const char *id, double score, double mmd2);

/*
 * The ranked hits and mixture of a statistical search over candidates
 * ids[].  A mixture member's MMD the singles lack comes from dist[] (every
 * candidate's, when known) or is computed from rkme[] (table searches).
 */
int lw__dock_stat_results(lw_dock_result *out, lw_dock *d, const char (*ids)[16],
			  const lw_stat_search_result *r, const double *dist, const lw_rkme *const *rkme,
			  const lw_rkme *user, size_t max_results);

/* A learnware became usable: give it a heterogeneous specification, retrain when due. */
void lw__dock_hetero_usable(lw_dock *d, const char *id);

/* The heterogeneous part of a search (dock_hetero_search.c); sets out->hetero or out->hetero_why. */
int lw__dock_search_hetero(lw_dock_result *out, lw_dock *d, const lw__semantic_set *s,
			   const lw_dock_query *q);

/* The current map (loaded when a newer one was made), or NULL when the dock has none. */
int lw__dock_hetero_map(const lw_hetero_map **out, lw_dock *d);

/*
 * The heterogeneous specification of a learnware under the current map:
 * cached in its table RKME's slot, else read from the store, else made;
 * returned in *owned too when it has no slot (free it).
 */
int lw__dock_hetero_spec(const lw_hetero_spec **out, lw_hetero_spec **owned, lw_dock *d,
			 const char *id, const lw_rkme *rkme, const lw_semantic *sem);

/* A cached inner product of two image learnwares' specifications (keys a < b). */
struct lw__pair_inner {
	uint64_t a, b; /* 0, 0: empty */
	double v;
};

/* The cached <a, b>, 1 when found; remember one (dropped when the table is full). */
int lw__dock_pair_get(const lw_dock *d, uint64_t a, uint64_t b, double *v);
void lw__dock_pair_put(lw_dock *d, uint64_t a, uint64_t b, double v);

/* Whether a semantic specification describes any of the dim input columns it declares. */
int lw__dock_described(const lw_semantic *s, size_t dim);

/* The cache slot holding key, or NULL. */
lw__dock_cached *lw__dock_cache_find(lw_dock *d, uint64_t key);

/* lw_dock_search for a text or image user specification (dock_search_media.c). */
int lw__dock_search_media(lw_dock_result *out, lw_dock *d, const lw__semantic_set *s,
			  const lw_dock_query *q);

/* The semantic Name of a semantic specification's JSON, or "" (caller frees). */
char *lw__dock_semantic_name(const char *semantic_json);

#endif
