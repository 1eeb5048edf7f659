/*
 * learnware dock - the dock: a store of checked learnwares, a sketch index
 * over their statistical specifications, and the search that joins them.
 *
 * The organiser's operations (add, update, delete, export, import) go
 * through the dock so that every change is checked, recorded as an event
 * and reflected in the index.  The index is persisted beside the store and
 * brought up to date when a dock opens: from the events when few changes
 * happened since it was saved, by a rebuild otherwise (docs/dock.md).
 * A dock handle is not thread-safe; open one per thread.
 */
#ifndef LW_DOCK_H
#define LW_DOCK_H

#include "common.h"
#include "check.h"
#include "hetero.h"
#include "rkme.h"
#include "rkme_image.h"
#include "search.h"
#include "store.h"
#include "text.h"

LW_BEGIN_DECL

typedef struct lw_dock lw_dock;

typedef struct {
	unsigned int version;
	const char *files_root;      /**< files root for a postgresql:// store (NULL otherwise) */
	lw_check_options check;      /**< how add and update check learnwares */
	size_t exact_limit;          /**< up to this many candidates, search without the index (4096) */
	size_t rerank;               /**< index candidates re-ranked by the exact MMD (256) */
	int read_only;               /**< do not write the index file back */
	lw_progress_cb progress;     /**< long steps (rebuilding the index, import) */
	void *payload;
	/** Version 2: add and update_zip store the learnware with a verification
	 *  job queued instead of running the checker; lw_dock_work runs it. */
	int defer_check;
	/** Version 2: keep no search index (open neither loads, rebuilds nor saves
	 *  one; lw_dock_search refuses): for handles that never search. */
	int no_index;
	/**
	 * Version 3: when a table learnware becomes usable, (re)train the
	 * heterogeneous map if it is due (lw_dock_hetero_train), in line (1).
	 * Handles that must answer quickly set 0 and leave it to a worker.
	 */
	int hetero_auto;
	/** Version 3: described table learnwares before the first map (20). */
	size_t hetero_min;
	/** Version 3: retrain when they grew by this share since the last map (0.25). */
	double hetero_growth;
	/** Version 3: how maps are trained (NULL: LW_HETERO_OPTIONS_INIT); seed and generation are set by the dock. */
	const lw_hetero_options *hetero;
} lw_dock_options;

#define LW_DOCK_OPTIONS_VERSION 3
#define LW_DOCK_OPTIONS_INIT \
	{ LW_DOCK_OPTIONS_VERSION, NULL, LW_CHECK_OPTIONS_INIT, 4096, 256, 0, NULL, NULL, 0, 0, \
	  1, 20, 0.25, NULL }

/**
 * Create the dock at url (a directory for the embedded SQLite store, or a
 * postgresql:// URI) when it does not exist, and open it.
 * @return 0; the store's errors (see lw_store_open); LW_EINVALID when the
 *         index file is corrupt is NOT an error: it is rebuilt.
 */
LW_EXTERN(int) lw_dock_open(lw_dock **out, const char *url, const lw_dock_options *opts);
LW_EXTERN(void) lw_dock_free(lw_dock *d);

/** The dock's store, borrowed (for listing and reading records). */
LW_EXTERN(lw_store *) lw_dock_store(lw_dock *d);

/** Number of learnwares in the search index (usable ones with a table RKME). */
LW_EXTERN(size_t) lw_dock_indexed(const lw_dock *d);

/** What an add or a new file's check concluded. */
typedef struct {
	lw_learnware_record record; /**< the stored learnware (empty when refused) */
	lw_check_status status;     /**< the checker's verdict */
	char *log;                  /**< the checker's log */
} lw_dock_added;

LW_EXTERN(void) lw_dock_added_dispose(lw_dock_added *a);

/**
 * Check the package and store it.  An invalid learnware is refused
 * (LW_EINVALID, the reason in out->log and lw_error_last); a nonusable one
 * is stored but never searched; a usable one is indexed.
 *
 * With options.defer_check the checker does not run: the package is
 * unpacked, its semantic specification validated and its statistical
 * specifications read (either refused with LW_EINVALID), and it is stored
 * with a verification job queued (status queued, never searched until
 * lw_dock_work has checked it); out->status is LW_CHECK_NONUSABLE and
 * out->log says it was queued.
 *
 * @param semantic_json  overrides the package's semantic specification (NULL: the package's)
 * @param owner          opaque owner name, or NULL
 * @return 0; LW_EINVALID (refused, or no semantic specification anywhere);
 *         LW_EEXISTS (the same content is in the dock: out->record.id names it)
 */
LW_EXTERN(int) lw_dock_add(lw_dock_added *out, lw_dock *d, const char *zip_path,
			   const char *semantic_json, const char *owner);

/** Replace the semantic specification; the status is kept.  @return 0, LW_ENOTFOUND, LW_EINVALID. */
LW_EXTERN(int) lw_dock_update_semantic(lw_dock *d, const char *id, const char *semantic_json);

/** Replace the package: it is checked again as by lw_dock_add (or queued, with defer_check). */
LW_EXTERN(int) lw_dock_update_zip(lw_dock_added *out, lw_dock *d, const char *id,
				  const char *zip_path, const char *semantic_json);

/** Delete a learnware and its files; its id is never given again.  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_dock_delete(lw_dock *d, const char *id);

/**
 * Check again the learnwares whose check never finished (status waiting,
 * queued, or processing after a crash).
 * @param[out] count  how many were checked, or NULL
 */
LW_EXTERN(int) lw_dock_verify_pending(size_t *count, lw_dock *d);

/** Rebuild the index from the store and save it.  @return 0; LW_EINVALID with no_index. */
LW_EXTERN(int) lw_dock_reindex(lw_dock *d);

/**
 * The latest check log of a learnware (caller frees): the log of its last
 * check, by lw_dock_add, lw_dock_work or lw_dock_verify_pending, or of a
 * job the queue failed (a worker that kept dying).
 * @return 0; LW_ENOTFOUND for an unknown id, or one never checked or whose
 *         new package's check is still queued or running.
 */
LW_EXTERN(int) lw_dock_check_log(char **out, lw_dock *d, const char *id);

/* --- deferred checks ------------------------------------------------------------ */

/**
 * Run one queued verification job as worker (a name unique among running
 * workers): claim it, check the stored package with its stored semantic
 * specification in the sandbox as lw_dock_add does, and record the
 * outcome.  A verdict (usable, nonusable, invalid) finishes the job done
 * with that usability; an invalid package keeps its record, marked
 * invalid, the reason in the log.  A check that could not run (LW_EIO,
 * LW_ENOMEM, the sandbox missing) fails the job with the error as its log
 * and is returned.  The log is the job's and what lw_dock_check_log gives.
 * A job cancelled or requeued meanwhile (lw_store_job_requeue_stale) is
 * dropped.  The learnware joins this handle's index when usable; other
 * handles see it after lw_dock_refresh.
 *
 * @param[out] did  1 when a job was claimed, 0 when the queue was empty
 * @return 0; the store's errors; a system error of the check (the job failed)
 */
LW_EXTERN(int) lw_dock_work(int *did, lw_dock *d, const char *worker);

/**
 * Bring this handle's index up to date with what other handles and
 * processes changed (replaying the store's events newer than the index).
 * One small query when nothing changed; a no-op with no_index.
 */
LW_EXTERN(int) lw_dock_refresh(lw_dock *d);

/* --- the heterogeneous map ------------------------------------------------------ */

/** Where the dock's heterogeneous map stands. */
typedef struct {
	char map_id[LW_HETERO_ID_SIZE]; /**< the current map, "" when none */
	uint64_t generation;            /**< its generation (1 for the first map) */
	size_t trained_on;              /**< described table learnwares it was trained on */
	size_t described;               /**< usable table learnwares with described columns now */
	int due;                        /**< the policy (hetero_min, hetero_growth) says retrain */
} lw_dock_hetero_info;

/**
 * The dock's current heterogeneous map (loaded when another handle made a
 * newer one), borrowed from d until the next call on d; *out NULL when
 * the dock has none.  What heterogeneous reuse aligns with.
 */
LW_EXTERN(int) lw_dock_hetero_map(const lw_hetero_map **out, lw_dock *d);

/** Read the map's state (walks the usable learnwares' semantic specifications). */
LW_EXTERN(int) lw_dock_hetero_info_get(lw_dock_hetero_info *out, lw_dock *d);

/**
 * Train a new map on the usable table learnwares with described columns
 * (their RKMEs' reduced points and descriptions: never raw data) when the
 * policy says so, or always with force: save it under <files>/hetero/,
 * store every described learnware's heterogeneous specification, then
 * make it current with one event (searches before it use the old map).
 * A learnware that becomes usable meanwhile gets its specification from
 * the current map at once.
 *
 * @param[out] trained  1 when a map was trained, or NULL
 * @return 0; LW_EINVALID (force with fewer than 2 described learnwares);
 *         the store's and the trainer's errors
 */
LW_EXTERN(int) lw_dock_hetero_train(int *trained, lw_dock *d, int force);

/* --- reusing stored learnwares ----------------------------------------------------- */

/**
 * Open a stored learnware's model, run as the checker runs it (in the
 * sandbox, under opts.check's limits).  The package is unpacked into a
 * private folder that lw_dock_free removes: free the model before the dock.
 * @return 0; LW_ENOTFOUND for an unknown id; the model's own errors.
 */
LW_EXTERN(int) lw_dock_model_open(lw_model **out, lw_dock *d, const char *id);

/** A copy of a stored learnware's table RKME (free it).  @return 0 or LW_ENOTFOUND. */
LW_EXTERN(int) lw_dock_rkme(lw_rkme **out, lw_dock *d, const char *id);

/* --- search ------------------------------------------------------------------ */

typedef struct {
	unsigned int version;
	const char *semantic_json;  /**< the user's semantic specification, or NULL */
	const lw_rkme *rkme;        /**< the user's table RKME, or NULL: semantic search only */
	const char *id;             /**< only ids containing this, or NULL */
	size_t max_results;         /**< single results returned (0: every one kept) */
	lw_stat_search_options stat;
	int exact;                  /**< 1: never use the index */
	/**
	 * Version 2: the user's text specification (searched among text
	 * learnwares: those whose languages include the user's, made by this
	 * library's encoder, ranked by the Gaussian MMD), or NULL.
	 */
	const lw_text_spec *text;
	/** Version 2: the user's image specification (image learnwares, cnn_gp MMD), or NULL. */
	const lw_rkme_image *image;
	/**
	 * Version 3: heterogeneous search (docs/hetero.md): 0 runs it beside
	 * the table search when the reference's rules apply (a table RKME and
	 * described Input columns in semantic_json) and the dock has a map;
	 * -1 never.
	 */
	int hetero;
} lw_dock_query;

#define LW_DOCK_QUERY_VERSION 3
#define LW_DOCK_QUERY_INIT \
	{ LW_DOCK_QUERY_VERSION, NULL, NULL, NULL, 0, LW_STAT_SEARCH_OPTIONS_INIT, 0, NULL, NULL, 0 }

typedef struct {
	char id[16];
	char *name;   /**< the learnware's semantic Name */
	double score; /**< the reference's score (statistical), or 1 / the fuzzy score (semantic) */
	double mmd2;  /**< squared MMD to the user (statistical results), else NaN */
} lw_dock_hit;

typedef struct lw_dock_result {
	lw_dock_hit *hits;        /**< ranked results */
	size_t count;
	lw_dock_hit *mixture;     /**< the recommended mixture, or NULL */
	double *weights;          /**< its weights (summing to 1) */
	size_t mixture_count;
	double mixture_mmd2, mixture_score;
	size_t semantic_matches;  /**< learnwares the semantic filter let through */
	int fuzzy;                /**< the names matched only by the fuzzy stage */
	int statistical;          /**< hits are ranked by MMD (a user RKME was given) */
	int used_index;           /**< candidates came from the sketch index */
	size_t candidates;        /**< specifications compared by the exact MMD */
	/**
	 * The heterogeneous search: learnwares of other feature spaces ranked
	 * in the shared space (hits, mixture, candidates), or NULL when it did
	 * not run; hetero_why then says why (a static sentence), else NULL.
	 */
	struct lw_dock_result *hetero;
	const char *hetero_why;
	char hetero_map[LW_HETERO_ID_SIZE]; /**< the map it used ("" when none) */
} lw_dock_result;

/** A user's statistical specification of one of the three types. */
typedef struct {
	lw_rkme *rkme;        /**< RKMETableSpecification, or NULL */
	lw_text_spec *text;   /**< RKMETextSpecification, or NULL */
	lw_rkme_image *image; /**< RKMEImageSpecification, or NULL */
} lw_dock_user_spec;

/**
 * Parse a specification of any type, told by its JSON "type" (the
 * reference's files all carry one); source names it in messages.
 * @return 0; LW_EINVALID (malformed, no type, an unknown type: the
 *         message names the file and the key); LW_ENOMEM
 */
LW_EXTERN(int) lw_dock_user_spec_parse(lw_dock_user_spec *out, const char *text, size_t len,
				       const char *source);
/** lw_dock_user_spec_parse on a file (at most 256 MiB). */
LW_EXTERN(int) lw_dock_user_spec_load(lw_dock_user_spec *out, const char *path);
LW_EXTERN(void) lw_dock_user_spec_dispose(lw_dock_user_spec *s);
/** The specification's type name, or NULL for an empty one. */
LW_EXTERN(const char *) lw_dock_user_spec_type(const lw_dock_user_spec *s);
/** Point the query's rkme, text and image at the specification's (borrowed). */
LW_EXTERN(void) lw_dock_query_set_spec(lw_dock_query *q, const lw_dock_user_spec *s);

LW_EXTERN(void) lw_dock_result_dispose(lw_dock_result *r);

/**
 * Search the usable learnwares: the semantic filter, then (with a user
 * RKME) the statistical ranking and mixture among those that pass.  The
 * index is as of the handle's last open, change or lw_dock_refresh.
 * At most one of rkme, text and image may be set; text and image
 * learnwares are ranked by an exact scan of those that pass (no index).
 * @return 0; LW_EINVALID for a bad query (two user specifications, a text
 *         specification made by another encoder), or a no_index handle.
 */
LW_EXTERN(int) lw_dock_search(lw_dock_result *out, lw_dock *d, const lw_dock_query *q);

/* --- export and import ---------------------------------------------------------- */

/**
 * Write the whole dock to one zip: dock.json (every record: id, semantic
 * specification, owner, status, verdict, times, content hash) and each
 * learnware's package.
 */
LW_EXTERN(int) lw_dock_export(size_t *count, lw_dock *d, const char *zip_path);

/**
 * Add every learnware of an exported dock.  Each is checked again; one
 * whose content is already here is skipped.  A learnware keeps its id
 * when this dock never gave that id (or a higher one), so a dock restored
 * into an empty one has the same ids; otherwise it gets the next id.
 * @param[out] added, skipped, refused  counts, or NULL
 */
LW_EXTERN(int) lw_dock_import(size_t *added, size_t *skipped, size_t *refused, lw_dock *d,
			      const char *zip_path);

LW_END_DECL

#endif
