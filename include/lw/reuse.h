/*
 * learnware dock - reusing the learnwares a search found.
 *
 * A reuser turns a few learnwares ("members") into one predictor for the
 * user's rows, with the reference engine's methods (docs/reuse.md):
 *
 *  - averaging: the mean of the members' outputs (regression), or a vote
 *    by label or by probability (classification); needs nothing to fit;
 *  - job selector: the mixture weights of the members' RKMEs that best
 *    match the user's RKME, herded samples labelled by member, a
 *    gradient-boosted selector (libxgboost) trained on them, and each user
 *    row routed to the member it selects; needs the user's rows or RKME;
 *  - ensemble pruning: the subset of members chosen by the reference's
 *    multi-objective search on labelled rows, then averaged or voted;
 *  - feature augmentation: the members' outputs appended to the user's
 *    features and a cross-validated ridge (regression) or logistic
 *    (classification) model fitted on labelled rows.
 *
 * Members are borrowed: the reuser keeps their ids and shapes, never the
 * models, and the caller gives the same members again at predict time (in
 * any order; they are matched by id).  A fitted reuser is saved as JSON and
 * loaded back to predict without refitting.
 *
 * Predictions: regression gives one column per output (the members' common
 * output width for averaging and the job selector, one column for ensemble
 * pruning and feature augmentation); classification gives ONE column, the
 * predicted class index 0..n_classes-1 stored as a double.
 */
#ifndef LW_REUSE_H
#define LW_REUSE_H

#include "common.h"
#include "matrix.h"
#include "model.h"
#include "rkme.h"
#include "train.h"

LW_BEGIN_DECL

typedef enum {
	LW_REUSE_AVERAGE = 1,      /**< "average": no fitting */
	LW_REUSE_JOB_SELECTOR,     /**< "job-selector": the user's rows or RKME, no labels */
	LW_REUSE_ENSEMBLE_PRUNING, /**< "ensemble-pruning": labelled rows */
	LW_REUSE_FEATURE_AUGMENT   /**< "feature-augment": labelled rows */
} lw_reuse_method;

/** "average", "job-selector", "ensemble-pruning", "feature-augment"; NULL if unknown. */
LW_EXTERN(const char *) lw_reuse_method_name(lw_reuse_method method);
/** The method named by `name` (the names above), or 0 when unknown. */
LW_EXTERN(lw_reuse_method) lw_reuse_method_from_name(const char *name);

/** How LW_REUSE_AVERAGE combines the members. */
typedef enum {
	LW_AVERAGE_AUTO = 0,     /**< MEAN for regression, VOTE_PROB for classification */
	LW_AVERAGE_MEAN,         /**< "mean": regression, the mean of the outputs */
	LW_AVERAGE_VOTE_LABEL,   /**< "vote_by_label": each member's argmax, majority, ties to the lower class */
	LW_AVERAGE_VOTE_PROB     /**< "vote_by_prob": softmax of each member's output, mean, argmax */
} lw_average_mode;

/** "mean", "vote_by_label", "vote_by_prob" (the reference's names); NULL for AUTO or unknown. */
LW_EXTERN(const char *) lw_average_mode_name(lw_average_mode mode);
/** The mode named by `name`, or LW_AVERAGE_AUTO when unknown. */
LW_EXTERN(lw_average_mode) lw_average_mode_from_name(const char *name);

/** One learnware to reuse.  Every pointer is borrowed for the length of the call. */
typedef struct {
	const char *id;     /**< unique, non-empty: names the member in messages and saved files */
	lw_model *model;    /**< its model; classifiers answer probabilities (one column per class) or labels (one column) */
	const lw_rkme *rkme; /**< its table RKME: the job selector needs it, the others ignore it (NULL) */
} lw_reuse_member;

typedef struct {
	unsigned int version;       /**< LW_REUSE_OPTIONS_VERSION */
	lw_reuse_method method;     /**< (LW_REUSE_AVERAGE) */
	lw_task task;               /**< (LW_TASK_REGRESSION) */
	/**
	 * Classification: the number of classes; 0 takes the members' output
	 * width (when some member answers probabilities), else the largest
	 * label + 1.  (0)
	 */
	size_t n_classes;
	lw_average_mode average;    /**< averaging only (LW_AVERAGE_AUTO) */

	/* job selector */
	size_t herding_num;         /**< herded samples in all: member i gets max(5, herding_num * w_i) (1000) */
	unsigned int selector_rounds;   /**< most boosting rounds (2000, the reference's n_estimators) */
	double selector_eta;        /**< learning rate (0.01) */
	unsigned int selector_patience; /**< rounds without a better held-out loss before stopping (300) */
	/**
	 * xgboost threads, 0 = all cores (1: the herded set is ~herding_num
	 * rows, too small to share out, and threads only add contention).
	 */
	unsigned int threads;

	/* ensemble pruning */
	size_t prune_maxgen;        /**< generations of the search (500) */

	uint64_t seed;              /**< herding, the selector, the pruning search, the folds (0) */
	/** Stages "herding", "selector", "pruning", "augment"; non-zero cancels.  Or NULL. */
	lw_progress_cb progress;
	void *payload;
} lw_reuse_options;

#define LW_REUSE_OPTIONS_VERSION 1
#define LW_REUSE_OPTIONS_INIT                                                          \
	{ LW_REUSE_OPTIONS_VERSION, LW_REUSE_AVERAGE, LW_TASK_REGRESSION, 0, LW_AVERAGE_AUTO, \
	  1000, 2000, 0.01, 300, 1, 500, 0, NULL, NULL }

/** Fill o with the defaults; LW_EINVALID for an unknown version. */
LW_EXTERN(int) lw_reuse_options_init(lw_reuse_options *o, unsigned int version);

/** A fitted reuser.  Release with lw_reuser_free. */
typedef struct lw_reuser lw_reuser;

/**
 * Fit a reuser of o->method over n members.
 *
 * What each method reads:
 *  - average: nothing (X, user_rkme and y may be NULL; X, when given,
 *    is checked against the members' widths);
 *  - job selector: user_rkme, or X when user_rkme is NULL (the rows then
 *    stand for their unreduced RKME, every row with weight 1/n, as in the
 *    reference), and every member's rkme;
 *  - ensemble pruning and feature augmentation: X and y (X->rows labels:
 *    finite targets, or class indices 0..n_classes-1 as doubles).
 *
 * @param[out] out  the reuser (free with lw_reuser_free); NULL on error
 * @param members   n members (n >= 1), borrowed
 * @param X         the user's rows, or NULL (see above)
 * @param user_rkme the user's RKME, or NULL
 * @param y         labels for X's rows, or NULL
 * @param o         options, or NULL for the defaults (averaging, regression)
 * @return 0; LW_EINVALID (bad options, shapes or labels, or a member that
 *         answers a non-finite value or a label out of range: the message
 *         names the member's id and the row and column); a failing
 *         member's own code (the message starts "learnware '<id>': predict
 *         failed: "); LW_ERROR (the selector's training failed);
 *         LW_ECANCEL; LW_ENOMEM
 */
LW_EXTERN(int) lw_reuser_fit(lw_reuser **out, const lw_reuse_member *members, size_t n,
			     const lw_mat *X, const lw_rkme *user_rkme, const double *y,
			     const lw_reuse_options *o);

/**
 * Predict the rows of X.  members must be the reuser's members (matched
 * by id, in any order) with the shapes they had when it was fitted.
 *
 * @param[out] out  uninitialised; receives X->rows x lw_reuser_info's
 *        output_dim values: regression outputs, or class indices
 * @return 0; LW_EINVALID (a member missing, unknown or reshaped, X of the
 *         wrong width, a member answering non-finite values); a failing
 *         member's own code, its message prefixed with its id; LW_ENOMEM
 */
LW_EXTERN(int) lw_reuser_predict(lw_mat *out, lw_reuser *r, const lw_reuse_member *members,
				 size_t n, const lw_mat *X);

/**
 * The job selector's choice for each row of X: out[i] is the position,
 * among the reuser's members (lw_reuser_member_ids order), of the member
 * row i is routed to.  LW_EINVALID for the other methods.
 */
LW_EXTERN(int) lw_reuser_route(size_t *out, lw_reuser *r, const lw_mat *X);

/** What a fitted reuser holds; every pointer is borrowed from it. */
typedef struct {
	lw_reuse_method method;
	lw_task task;
	lw_average_mode average;     /**< averaging: the mode in use (never AUTO) */
	size_t n_members;
	const char *const *member_ids; /**< n_members ids, NULL-terminated */
	size_t input_dim;            /**< columns predict takes; 0 when not known (averaging without X) */
	size_t output_dim;           /**< columns predict answers */
	size_t n_classes;            /**< classification; 0 for regression */
	const double *weights;       /**< job selector: the n_members mixture weights; else NULL */
	unsigned int selector_rounds; /**< job selector: boosting rounds kept (0 with one member) */
	const size_t *kept;          /**< ensemble pruning: the kept members' positions, ascending */
	size_t n_kept;
	double penalty;              /**< feature augmentation: ridge alpha or logistic C chosen */
	double cv_score;             /**< its cross-validated score: mean squared LOO error, or accuracy */
} lw_reuser_info;

/** Describe r (NULL leaves out zeroed). */
LW_EXTERN(void) lw_reuser_info_get(lw_reuser_info *out, const lw_reuser *r);

/** The members' ids in the reuser's order, NULL-terminated; *n gets their count (n may be NULL). */
LW_EXTERN(const char *const *) lw_reuser_member_ids(const lw_reuser *r, size_t *n);

/**
 * Save as one JSON file (docs/reuse.md): the method, the members' ids and
 * shapes, and every fitted parameter (the selector's XGBoost model
 * embedded as xgboost's own JSON).  Written atomically.
 * @return 0, LW_EIO, LW_ENOMEM
 */
LW_EXTERN(int) lw_reuser_save(const lw_reuser *r, const char *path);

/**
 * Load a file lw_reuser_save wrote.
 * @return 0; LW_ENOTFOUND or LW_EIO (the file); LW_EINVALID (malformed:
 *         the message names the key); LW_ENOMEM
 */
LW_EXTERN(int) lw_reuser_load(lw_reuser **out, const char *path);

/* --- feature alignment ----------------------------------------------------------- */

typedef struct {
	unsigned int version;  /**< LW_ALIGN_OPTIONS_VERSION */
	size_t hidden;         /**< hidden ReLU units of the map (1024); 0: an affine map */
	unsigned int epochs;   /**< full-batch Adam steps (50) */
	double lr;             /**< Adam step size (1e-3) */
	uint64_t seed;         /**< the map's initial weights (0) */
} lw_align_options;

#define LW_ALIGN_OPTIONS_VERSION 1
#define LW_ALIGN_OPTIONS_INIT { LW_ALIGN_OPTIONS_VERSION, 1024, 50, 1e-3, 0 }

/**
 * Feature alignment (the reference's FeatureAlignLearnware): wrap a
 * learnware whose columns differ from the user's.  A map from the user's
 * space into the learnware's (docs/prune-align.md) is trained so that the
 * mapped user RKME matches the learnware's RKME (MMD^2 under its kernel);
 * the wrapped model applies it, then the learnware's predict.  Use it as a
 * member of any reuser, e.g. feature augmentation when labels are given.
 *
 * @param[out] out   takes the user's columns; free it before the learnware
 * @param learnware  borrowed: it must outlive *out
 * @return 0; LW_EINVALID (an RKME that does not match the model's width)
 */
LW_EXTERN(int) lw_align_model(lw_model **out, lw_model *learnware, const lw_rkme *learnware_rkme,
			      const lw_rkme *user_rkme, const lw_align_options *opts);

/** The map of a model lw_align_model made, as JSON text (free it); LW_EINVALID for another model. */
LW_EXTERN(int) lw_align_model_map(char **json, const lw_model *wrapped);

/** Wrap a learnware with a map lw_align_model_map gave (the learnware must outlive *out). */
LW_EXTERN(int) lw_align_model_from_map(lw_model **out, lw_model *learnware, const char *json, size_t len);

/** Release the reuser (not its members).  Accepts NULL. */
LW_EXTERN(void) lw_reuser_free(lw_reuser *r);

LW_END_DECL

#endif
