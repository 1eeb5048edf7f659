/*
 * learnware dock - training models in-process, and the built-in and
 * XGBoost model files.
 *
 * A developer with a table and no Python goes from rows to a model that
 * a learnware can ship: lw_train fits one of four kinds, lw_model_save
 * writes it, lw_model_load_file reads it back.  The built-in kinds
 * (linear, logistic, mlp) use the JSON format of docs/models.md; XGBoost
 * models are xgboost 1.7's own JSON or UBJ files.
 *
 * Outputs: a regression model predicts its targets (one column here); a
 * classifier predicts class probabilities, one column per class, even
 * for two classes.
 */
#ifndef LW_TRAIN_H
#define LW_TRAIN_H

#include "common.h"
#include "matrix.h"
#include "model.h"

LW_BEGIN_DECL

typedef enum {
	LW_TASK_REGRESSION = 1,
	LW_TASK_CLASSIFICATION
} lw_task;

/** "regression" or "classification"; NULL if unknown. */
LW_EXTERN(const char *) lw_task_name(lw_task task);
/** The task named by `name`, or 0 when the name is unknown. */
LW_EXTERN(lw_task) lw_task_from_name(const char *name);

/** Most hidden layers an MLP may have. */
#define LW_TRAIN_MAX_HIDDEN 8

#define LW_TRAIN_OPTIONS_VERSION 1

/**
 * What to train and how.  Every kind first sets aside a random `holdout`
 * fraction of the rows (drawn with `seed`): the model is fit on the rest,
 * the held-out rows score it and stop MLP and XGBoost training early.
 */
typedef struct {
	unsigned int version;   /**< LW_TRAIN_OPTIONS_VERSION */
	lw_model_kind kind;     /**< LINEAR, LOGISTIC, MLP or XGBOOST (MLP) */
	lw_task task;           /**< (LW_TASK_REGRESSION) */
	uint64_t seed;          /**< split, initial weights, batches, xgboost (0) */
	double holdout;         /**< fraction held out, in [0, 0.9]; 0 fits on every row (0.2) */

	/**
	 * Classification: names of the classes 0..n_classes-1 (NULL-free),
	 * stored in the model; or NULL, and then n_classes may be 0 to mean
	 * "the largest label + 1".
	 */
	const char *const *classes;
	size_t n_classes;
	/** X->cols column names stored in the model, or NULL. */
	const char *const *feature_names;

	/** linear: ridge penalty alpha*|w|^2 on standardised inputs (1e-3). */
	double alpha;
	/** logistic and mlp: L2 penalty (l2/2)|W|^2 added to the mean loss (1e-4). */
	double l2;
	/** logistic: most L-BFGS iterations (500). */
	unsigned int max_iter;

	/** mlp: widths of the hidden ReLU layers, 0-terminated ({64, 64}). */
	size_t hidden[LW_TRAIN_MAX_HIDDEN];
	unsigned int epochs;    /**< mlp: most passes over the data (200) */
	double learning_rate;   /**< mlp: Adam step size (1e-3) */
	size_t batch_size;      /**< mlp: rows per Adam step (64) */

	unsigned int rounds;    /**< xgboost: most boosting rounds (300) */
	unsigned int max_depth; /**< xgboost: tree depth (6) */
	double eta;             /**< xgboost: learning rate (0.1) */
	unsigned int threads;   /**< xgboost: threads, 0 = all cores (0) */

	/**
	 * mlp and xgboost: stop after this many epochs or rounds without a
	 * better held-out loss, keeping the best (10); 0 never stops early.
	 */
	unsigned int early_stopping;

	lw_progress_cb progress; /**< stage "training", or NULL */
	void *payload;
} lw_train_options;

#define LW_TRAIN_OPTIONS_INIT                                                      \
	{ LW_TRAIN_OPTIONS_VERSION, LW_MODEL_MLP, LW_TASK_REGRESSION, 0, 0.2,      \
	  NULL, 0, NULL, 1e-3, 1e-4, 500, { 64, 64 }, 200, 1e-3, 64, 300, 6, 0.1,  \
	  0, 10, NULL, NULL }

/** Fill o with the defaults; LW_EINVALID for an unknown version. */
LW_EXTERN(int) lw_train_options_init(lw_train_options *o, unsigned int version);

/** How a fit went (the numbers `learnware train` prints). */
typedef struct {
	size_t train_rows, holdout_rows;
	const char *metric;     /**< "accuracy" or "rmse" */
	double train_metric;    /**< on the rows the model was fit on */
	double holdout_metric;  /**< on the held-out rows; NaN without any */
	unsigned int iterations; /**< L-BFGS iterations, epochs or rounds kept; 1 for linear */
	int stopped_early;      /**< 1 when early stopping ended the fit */
} lw_train_report;

/**
 * Fit a model to the rows of X.
 *
 * Non-finite feature cells are missing values: the built-in kinds
 * replace them by the column's training mean (also at predict time),
 * XGBoost handles them natively.
 *
 * @param[out] out the model (free with lw_model_free); NULL on error
 * @param[out] report NULL, or the fit's summary
 * @param X the features, at least 2 rows
 * @param y X->rows targets (regression, finite) or class labels 0..C-1
 *        stored as doubles (classification; at least two classes present)
 * @param o options, or NULL for the defaults (an MLP regressor)
 * @return 0, LW_EINVALID (bad data or options, message says which),
 *         LW_ERROR (the solver failed), LW_ECANCEL or LW_ENOMEM
 */
LW_EXTERN(int) lw_train(lw_model **out, lw_train_report *report, const lw_mat *X,
			const double *y, const lw_train_options *o);

/**
 * Turn text class labels into 0..C-1: the distinct labels sorted
 * (numerically when every label is a number, else by byte value) give
 * the class order.
 *
 * @param[out] y_out n labels as doubles (caller frees with free())
 * @param[out] classes_out the C class names, NULL-terminated, in one
 *        allocation (caller frees with free())
 * @param[out] n_classes C
 */
LW_EXTERN(int) lw_train_encode_labels(double **y_out, char ***classes_out, size_t *n_classes,
				      const char *const *labels, size_t n);

/**
 * Open a model file of one of the in-process kinds.
 *
 * @param kind LW_MODEL_LINEAR, _LOGISTIC or _MLP (the built-in JSON, whose
 *        "kind" must agree), LW_MODEL_XGBOOST (xgboost JSON or UBJ), or 0
 *        to tell from the content
 * @return 0, LW_ENOTFOUND or LW_EIO (file), LW_EINVALID (the message names
 *         the key at fault), LW_ENOMEM
 */
LW_EXTERN(int) lw_model_load_file(lw_model **out, lw_model_kind kind, const char *path);

/** The model's task; 0 when its kind does not say. */
LW_EXTERN(lw_task) lw_model_task(const lw_model *m);

/**
 * The class names of a classifier, NULL-terminated, one per output
 * column; NULL when the model has none.  Borrowed from the model.
 */
LW_EXTERN(const char *const *) lw_model_classes(const lw_model *m);

/** The input columns' names (NULL-terminated), or NULL; borrowed. */
LW_EXTERN(const char *const *) lw_model_feature_names(const lw_model *m);

LW_END_DECL

#endif
