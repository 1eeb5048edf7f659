/*
 * learnware dock - heterogeneous feature spaces: one shared space for
 * tables with different columns.
 *
 * A learnware's RKME lives in its own feature space (its d columns), so it
 * can only be compared with users who have the same columns.  The hetero
 * map joins these "specification islands": it places a table row x (d
 * values) whose columns are described by the embeddings E (d x m, one
 * L2-normalised text embedding per column description) at a point of one
 * shared space R^h.  Mapping the reduced points z of an RKME, and keeping
 * its weights beta, gives a *heterogeneous specification* that can be
 * compared by MMD^2 with any other, whatever columns either table had.
 *
 * The map is trained on the dock's own specifications (the z rows of its
 * table learnwares and their column descriptions; never raw data) with a
 * contrastive multi-view loss: two overlapping subsets of one row's
 * columns must land close together and away from other rows.
 * docs/hetero.md gives the method, its maths, the formats and the
 * measured figures.
 *
 *   lw_hetero_source src[] = { { rkme_a, &cols_a }, { rkme_b, &cols_b }, ... };
 *   lw_hetero_map *map;
 *   lw_hetero_map_train(&map, src, n, NULL);       // or lw_hetero_map_load
 *   lw_hetero_spec *sa, *sb;
 *   lw_hetero_spec_new(&sa, map, rkme_a, &cols_a);
 *   lw_hetero_spec_new(&sb, map, user_rkme, &user_cols);
 *   lw_hetero_spec_dist(&mmd2, sa, sb);
 *
 * Column embeddings are taken as a matrix, so this module does not depend
 * on how they are made; lw_hetero_columns makes them from a semantic
 * specification's Input descriptions with the project's text encoder.
 */
#ifndef LW_HETERO_H
#define LW_HETERO_H

#include "common.h"
#include "matrix.h"
#include "model.h"
#include "rkme.h"
#include "semantic.h"
#include "text.h"
#include "train.h"

LW_BEGIN_DECL

/** A trained (or freshly initialised) map.  Release with lw_hetero_map_free. */
typedef struct lw_hetero_map lw_hetero_map;

/** Length of a map id: 16 lowercase hex digits and a NUL. */
#define LW_HETERO_ID_SIZE 17

/** The specification type name, as the reference engine writes it. */
#define LW_HETERO_SPEC_TYPE "HeteroMapTableSpecification"

/** How a map is shaped and trained (docs/hetero.md); the defaults are measured there. */
typedef struct {
	unsigned int version;
	size_t token_dim;        /**< width of a cell token (64) */
	size_t hidden;           /**< hidden units of the MLP after pooling (128) */
	size_t out_dim;          /**< h, dimension of the shared space (64) */
	unsigned int partitions; /**< column views of a table's rows (3) */
	double overlap;          /**< a view also takes this share of the next view's columns (0.5) */
	double temperature;      /**< row term: InfoNCE temperature on cosine similarities (0.1) */
	double gamma;            /**< kernel width of the specifications (and the set term) (1) */
	double set_weight;       /**< weight of the set term, MMD^2 between views (0: off) */
	double set_temperature;  /**< set term: InfoNCE temperature on -MMD^2 (0.1) */
	unsigned int epochs;     /**< passes over the training rows (0: enough for `steps`) */
	unsigned int steps;      /**< with epochs 0: whole passes until this many Adam steps (800) */
	size_t batch_sources;    /**< tables whose rows share a batch (16) */
	size_t batch_rows;       /**< rows taken from each of them (32) */
	double lr;               /**< Adam's learning rate (1e-3) */
	double clip;             /**< standardised values are clipped to +-clip (6) */
	int anchors;             /**< keep dock-wide statistics per description (1) */
	double noise;            /**< description noise in training, times the embedding's norm (1) */
	uint64_t seed;           /**< initial weights, views, batches and noise (0) */
	uint64_t generation;     /**< the dock's counter of retrains, recorded in the map (0) */
	lw_progress_cb progress; /**< called after each epoch ("hetero map", done); non-zero cancels */
	void *payload;
} lw_hetero_options;

#define LW_HETERO_OPTIONS_VERSION 1
#define LW_HETERO_OPTIONS_INIT                                                             \
	{ LW_HETERO_OPTIONS_VERSION, 64, 128, 64, 3, 0.5, 0.1, 1.0, 0.0, 0.1, 0, 800, 16, 32, 1e-3, \
	  6.0, 1, 1.0, 0, 0, NULL, NULL }

/** Fill opts with the defaults (LW_HETERO_OPTIONS_INIT). */
LW_EXTERN(void) lw_hetero_options_init(lw_hetero_options *opts);

/**
 * One table the map learns from: a learnware's table RKME (K x d) and the
 * embeddings of its d column descriptions (d x m).  Both borrowed.
 */
typedef struct {
	const lw_rkme *rkme;
	const lw_mat *columns;
} lw_hetero_source;

/** What a map is and how it was made. */
typedef struct {
	size_t embed_dim;        /**< m: width of the column embeddings it takes */
	size_t token_dim, hidden, out_dim;
	double gamma;            /**< kernel width of its specifications */
	double temperature, overlap, clip, lr;
	double set_weight, set_temperature, noise;
	unsigned int partitions, epochs;
	size_t batch_sources, batch_rows;
	uint64_t seed, generation;
	size_t sources, rows;    /**< training data: tables and z rows (0, 0: untrained) */
	size_t anchors;          /**< descriptions with dock-wide statistics */
	double loss_initial;     /**< contrastive loss over the first epoch (NaN: untrained) */
	double loss_final;       /**< ... and over the last */
	double train_seconds;    /**< wall time of the training (0 for a loaded map) */
	const char *id;          /**< the map id, borrowed from the map */
} lw_hetero_map_info;

/**
 * Train a map on the given tables.  Every table, whatever its width, gives
 * its columns' statistics to the anchors; tables with fewer than 2 columns
 * are not trained on (one column makes no two views), and at least one
 * must have 2 or more.  Every source's column embeddings must have the
 * same width m.  The map is the same bit for bit for the same sources,
 * options and seed on a given build, whatever the thread count.
 *
 * @return 0, LW_EINVALID (shapes, options), LW_ENOMEM, LW_ECANCEL
 */
LW_EXTERN(int) lw_hetero_map_train(lw_hetero_map **out, const lw_hetero_source *sources,
				   size_t n, const lw_hetero_options *opts);

/**
 * An untrained map for column embeddings of width embed_dim: the initial
 * weights lw_hetero_map_train would start from, no anchors (the reference
 * engine maps with such a map until it has trained one).
 */
LW_EXTERN(int) lw_hetero_map_new(lw_hetero_map **out, size_t embed_dim,
				 const lw_hetero_options *opts);

LW_EXTERN(void) lw_hetero_map_free(lw_hetero_map *map);

/**
 * The map's id: the first 16 hex digits of the SHA-256 of its saved form
 * (weights, dimensions and training record), so a retrained map has a new
 * id and the same map saved and loaded keeps it.  Borrowed.
 */
LW_EXTERN(const char *) lw_hetero_map_id(const lw_hetero_map *map);

/** Fill info (its id is borrowed from the map). */
LW_EXTERN(void) lw_hetero_map_get_info(lw_hetero_map_info *info, const lw_hetero_map *map);

/**
 * The mean contrastive loss of the map on the tables, with views and
 * batches drawn from seed as training draws them but without description
 * noise (an evaluation: nothing changes).  Lower is better; log(number of
 * other views in a batch) is chance.
 */
LW_EXTERN(int) lw_hetero_map_loss(double *out, const lw_hetero_map *map,
				  const lw_hetero_source *sources, size_t n, uint64_t seed);

/**
 * Column statistics used to standardise values before mapping: the
 * w-weighted mean and standard deviation of each column of X (w = NULL:
 * uniform; negative weights count as 0; all-zero weights as uniform).
 * Non-finite cells are skipped.  A column whose deviation is below
 * 1e-12 (1 + |mean|) gets std 1, so it maps as its mean.
 *
 * @param mean, std  X->cols values each
 */
LW_EXTERN(int) lw_hetero_stats(double *mean, double *std, const lw_mat *X, const double *w);

/**
 * Place rows in the shared space.  Each value is standardised, then
 * clipped to +-clip: with the map's dock-wide statistics when it has an
 * anchor for the column's description (an embedding with cosine 0.999 or
 * more), else with the given mean and std (NULL: lw_hetero_stats of X
 * itself).  A non-finite value counts as the mean.
 *
 * @param[out] out  uninitialised; X->rows x out_dim, every row of unit norm
 * @param columns   X->cols x embed_dim column embeddings
 */
LW_EXTERN(int) lw_hetero_map_apply(lw_mat *out, const lw_hetero_map *map, const lw_mat *X,
				   const lw_mat *columns, const double *mean, const double *std);

/** Save the map to one file (binary: docs/hetero.md), atomically. */
LW_EXTERN(int) lw_hetero_map_save(const lw_hetero_map *map, const char *path);

/**
 * Load a map.  A file that is not a map, of a newer format version, cut
 * short, or whose checksum does not match is refused with LW_EINVALID and
 * a message saying which.
 */
LW_EXTERN(int) lw_hetero_map_load(lw_hetero_map **out, const char *path);

/** The saved form in memory (free() it), and back; `source` names it in messages. */
LW_EXTERN(int) lw_hetero_map_to_buffer(unsigned char **out, size_t *len, const lw_hetero_map *map);
LW_EXTERN(int) lw_hetero_map_from_buffer(lw_hetero_map **out, const void *buf, size_t len,
					 const char *source);

/** A heterogeneous specification.  Release with lw_hetero_spec_free. */
typedef struct {
	lw_rkme *rkme;                   /**< owned: K x h points in the shared space, the
					      source's beta and num_points, the map's gamma */
	char map_id[LW_HETERO_ID_SIZE];  /**< the map that made it; "" when unknown */
	uint64_t map_generation;         /**< that map's generation */
} lw_hetero_spec;

/**
 * Map a table RKME into the shared space: its z rows through the map
 * (lw_hetero_map_apply, the RKME's own beta-weighted column statistics for
 * columns without an anchor); beta and num_points kept; gamma the map's.
 *
 * @param columns  lw_rkme_dim(rkme) x embed_dim column embeddings
 */
LW_EXTERN(int) lw_hetero_spec_new(lw_hetero_spec **out, const lw_hetero_map *map,
				  const lw_rkme *rkme, const lw_mat *columns);

LW_EXTERN(void) lw_hetero_spec_free(lw_hetero_spec *spec);

/**
 * Column embeddings from a semantic specification: row i is the text
 * encoder's embedding of Input feature i's description; a feature without
 * one is embedded as "Unknown Feature", as the reference does.
 *
 * @param[out] out  uninitialised; dim x lw_text_encoder_dim(enc)
 * @param enc  the text encoder, NULL for the built-in one
 * @param dim  the table's column count (the RKME's dimension)
 */
LW_EXTERN(int) lw_hetero_columns(lw_mat *out, const lw_text_encoder *enc, const lw_semantic *s,
				 size_t dim);

/**
 * lw_hetero_spec_new with the column embeddings made by lw_hetero_columns
 * from the semantic specification's Input descriptions.
 */
LW_EXTERN(int) lw_hetero_spec_from_semantic(lw_hetero_spec **out, const lw_hetero_map *map,
					    const lw_rkme *rkme, const lw_semantic *s,
					    const lw_text_encoder *enc);

/**
 * 1 when the specification was made by this map (its id matches), 0 when
 * it must be made again (another map, or unknown).
 */
LW_EXTERN(int) lw_hetero_spec_is_current(const lw_hetero_spec *spec, const lw_hetero_map *map);

/**
 * Squared MMD between two heterogeneous specifications (lw_rkme_dist, a's
 * gamma).  Specifications made by two different maps (both ids known) or
 * of different dimensions are refused with LW_EINVALID.
 */
LW_EXTERN(int) lw_hetero_spec_dist(double *out, const lw_hetero_spec *a, const lw_hetero_spec *b);

/**
 * JSON in the reference's layout plus our map fields:
 *   {"z":[[...]],"beta":[...],"embedding":null,"weight":null,"gamma":g,
 *    "num_points":N,"type":"HeteroMapTableSpecification",
 *    "map_id":"0123456789abcdef","map_generation":3}
 * Reading accepts the reference's files (no num_points, no map fields:
 * map id ""); numbers read back bit for bit.  Free the text with free().
 */
LW_EXTERN(int) lw_hetero_spec_to_json(char **out, const lw_hetero_spec *spec);
LW_EXTERN(int) lw_hetero_spec_from_json(lw_hetero_spec **out, const char *text, size_t len,
					const char *source);
LW_EXTERN(int) lw_hetero_spec_save(const lw_hetero_spec *spec, const char *path);
LW_EXTERN(int) lw_hetero_spec_load(lw_hetero_spec **out, const char *path);

/*
 * When heterogeneous search applies (the reference's HeteroSearcher rules).
 */

/**
 * Whether a user's requirement calls for heterogeneous search: a table
 * specification is given; Data is empty or exactly [Table]; Task is empty
 * or exactly [Classification] or [Regression]; Input has a Dimension
 * equal to the table specification's, and at least one feature
 * description.
 *
 * @param why  NULL, or receives a static sentence saying which rule failed
 *             (or "applies")
 * @return 1 when it applies, 0 when not
 */
LW_EXTERN(int) lw_hetero_user_applies(const lw_semantic *user, const lw_rkme *table_spec,
				      const char **why);

/**
 * Whether a learnware lives in another feature space than the user's, and
 * so is a candidate of heterogeneous (rather than ordinary) search: the
 * dimensions differ, or some feature's description differs (compared
 * ignoring case and runs of white space; a missing description differs
 * from any text).  Dimensions are the table specifications' (pass the
 * semantic Input.Dimension when there is none).
 *
 * @return 1 when it is a candidate, 0 when the spaces are the same
 */
LW_EXTERN(int) lw_hetero_is_candidate(const lw_semantic *user, size_t user_dim,
				      const lw_semantic *learnware, size_t learnware_dim);

/*
 * Heterogeneous reuse: learnwares of other feature spaces predicting for
 * the user's rows (docs/hetero.md, "Reuse").
 *
 *   lw_hetero_user u = { map, &user_cols, &user_rows };
 *   lw_hetero_learnware l = { "00000042", model, rkme, &lw_cols };
 *   lw_model *aligned;
 *   lw_hetero_align(&aligned, &u, &l, NULL);        // takes the user's columns
 *   lw_model_predict(&Y, aligned, &user_rows);
 *
 *   lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
 *   o.method = LW_HETERO_REUSE_AUGMENT;            // with labels
 *   lw_hetero_reuser_fit(&r, &u, lws, n, &X_labelled, y, &o);
 *   lw_hetero_reuser_predict(&Y, r, &X);
 */

/** The user's side.  Every pointer is borrowed for the call. */
typedef struct {
	const lw_hetero_map *map; /**< the dock's map; must outlive the models made from it */
	const lw_mat *columns;    /**< d_u x embed_dim: embeddings of the user's column descriptions */
	const lw_mat *X;          /**< the user's unlabelled rows (d_u columns, at least 2): their
				       column statistics place the rows in the shared space */
} lw_hetero_user;

/** A learnware of another feature space.  Every pointer is borrowed for the call. */
typedef struct {
	const char *id;         /**< unique, non-empty: names it in messages */
	lw_model *model;        /**< takes d_l columns; must outlive the models made from it */
	const lw_rkme *rkme;    /**< its table RKME (K x d_l) */
	const lw_mat *columns;  /**< d_l x embed_dim: embeddings of its column descriptions */
} lw_hetero_learnware;

/** How a learnware is aligned to the user's columns (docs/hetero.md); defaults measured there. */
typedef struct {
	unsigned int version;
	/**
	 * A learnware column is copied from the user column whose description
	 * embedding has at least this cosine with its own (one to one, most
	 * similar first).  0.95: the same description up to case, spacing and
	 * punctuation; above 1: copy nothing.
	 */
	double match_cosine;
	/**
	 * Then a learnware column left over takes the user column left over
	 * whose description has at least this cosine with its own (0.75: "weight
	 * in carats" and "logarithm of the weight in carats"), through a
	 * quantile map: the user's value at level p becomes the learnware's
	 * (beta-weighted) value at level p, which undoes a change of units or
	 * any increasing transform.  Above 1: none.
	 */
	double similar_cosine;
	/** Kernel width on the copied columns, in the learnware's standard deviations (0: Scott's rule). */
	double bandwidth;
	/** Weight of the squared distance in the shared space in the kernel (4); 0: the map is not used. */
	double map_gamma;
	/**
	 * 1: the other columns by kernel-weighted local linear regression on
	 * the carried ones (ridge 0.01 on the slopes, kept within the points'
	 * range); 0: the kernel-weighted mean (Nadaraya-Watson).  (1)
	 */
	int local_linear;
} lw_hetero_align_options;

#define LW_HETERO_ALIGN_OPTIONS_VERSION 1
#define LW_HETERO_ALIGN_OPTIONS_INIT { LW_HETERO_ALIGN_OPTIONS_VERSION, 0.95, 0.75, 0.0, 4.0, 1 }

/**
 * Feature alignment: wrap a learnware so that it takes the user's columns.
 * Each row is carried into the learnware's feature space: columns whose
 * descriptions match a user column are copied, those whose descriptions
 * are only similar are quantile-mapped, the others are the kernel
 * regression of the learnware's RKME points (weights beta_k times a
 * Gaussian in the carried columns and in the shared space of the map).
 * The wrapped model answers what the learnware answers.
 *
 * @param[out] out  takes d_u columns; free it before the learnware and the map
 * @return 0; LW_EINVALID (shapes, options, no column matched with map_gamma
 *         0: the message says which); LW_ENOMEM
 */
LW_EXTERN(int) lw_hetero_align(lw_model **out, const lw_hetero_user *user,
			       const lw_hetero_learnware *learnware,
			       const lw_hetero_align_options *opts);

/** What an aligned model does; pointers borrowed from it. */
typedef struct {
	size_t user_dim, learnware_dim;
	size_t points;          /**< the learnware's RKME points it imputes from */
	size_t matched;         /**< learnware columns copied from a user column */
	size_t similar;         /**< learnware columns quantile-mapped from a user column */
	const size_t *source;   /**< learnware_dim entries: the user column taken, or SIZE_MAX */
	const unsigned char *quantile; /**< learnware_dim entries: 1 where quantile-mapped */
	double bandwidth;       /**< kernel width on the copied columns in use (standard deviations) */
	double map_gamma;
} lw_hetero_align_info;

/** Describe a model lw_hetero_align made; LW_EINVALID for any other model. */
LW_EXTERN(int) lw_hetero_align_info_get(lw_hetero_align_info *out, const lw_model *aligned);

/**
 * The user's rows carried into the learnware's feature space (what the
 * aligned model feeds the learnware).
 * @param[out] out  uninitialised; X->rows x learnware_dim
 */
LW_EXTERN(int) lw_hetero_align_transform(lw_mat *out, const lw_model *aligned, const lw_mat *X);

typedef enum {
	LW_HETERO_REUSE_AVERAGE = 1,    /**< "average": the aligned learnwares' mean, or vote by
					     probability; no labels (one learnware: it alone) */
	LW_HETERO_REUSE_AUGMENT,        /**< "augment": the user's features and every aligned
					     learnware's outputs, ridge or logistic on labels */
	LW_HETERO_REUSE_AVERAGE_AUGMENT /**< "average-augment": the user's features and the
					     aligned learnwares' averaged output */
} lw_hetero_reuse_method;

/** "average", "augment", "average-augment"; NULL if unknown. */
LW_EXTERN(const char *) lw_hetero_reuse_method_name(lw_hetero_reuse_method method);

typedef struct {
	unsigned int version;
	lw_hetero_reuse_method method; /**< (LW_HETERO_REUSE_AVERAGE) */
	lw_task task;                  /**< the user's task (LW_TASK_REGRESSION) */
	/**
	 * Classification: the user's classes.  0: the labels' largest + 1, or
	 * for averaging the learnwares' output width.  The augmenting methods
	 * take learnwares of any label space (their outputs are features);
	 * averaging needs the user's.
	 */
	size_t n_classes;
	lw_hetero_align_options align;
	uint64_t seed;                 /**< the augmenter's folds and fits (0) */
} lw_hetero_reuse_options;

#define LW_HETERO_REUSE_OPTIONS_VERSION 1
#define LW_HETERO_REUSE_OPTIONS_INIT                                               \
	{ LW_HETERO_REUSE_OPTIONS_VERSION, LW_HETERO_REUSE_AVERAGE, LW_TASK_REGRESSION, 0, \
	  LW_HETERO_ALIGN_OPTIONS_INIT, 0 }

/** A fitted heterogeneous reuser.  Release with lw_hetero_reuser_free. */
typedef struct lw_hetero_reuser lw_hetero_reuser;

/**
 * Align n learnwares to the user's columns and fit o->method on them.
 *
 * @param X  labelled rows in the user's columns (the augmenting methods; NULL
 *           for averaging), y their X->rows labels: finite targets, or class
 *           indices 0..n_classes-1 as doubles
 * @return 0; LW_EINVALID (shapes, labels, options; the message names the
 *         learnware or row); a learnware's own error, its id in front; LW_ENOMEM
 */
LW_EXTERN(int) lw_hetero_reuser_fit(lw_hetero_reuser **out, const lw_hetero_user *user,
				    const lw_hetero_learnware *learnwares, size_t n,
				    const lw_mat *X, const double *y,
				    const lw_hetero_reuse_options *o);

/**
 * Predict rows in the user's columns: regression outputs, or ONE column
 * of class indices (as lw_reuser_predict).  The learnwares' models and the
 * map given to fit must still be alive.
 */
LW_EXTERN(int) lw_hetero_reuser_predict(lw_mat *out, lw_hetero_reuser *r, const lw_mat *X);

/** The aligned model of learnware i (fit's order), borrowed from r; NULL when out of range. */
LW_EXTERN(lw_model *) lw_hetero_reuser_aligned(const lw_hetero_reuser *r, size_t i);

/** Release r (not the learnwares nor the map).  Accepts NULL. */
LW_EXTERN(void) lw_hetero_reuser_free(lw_hetero_reuser *r);

LW_END_DECL

#endif
