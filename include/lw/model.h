/*
 * learnware dock - models behind one interface.
 *
 * A learnware's model is opened from its package by kind: built-in
 * (linear, logistic/softmax, MLP in the project's JSON format), XGBoost
 * (JSON or UBJ saved by xgboost 1.7), a sandboxed process speaking the
 * framed protocol of docs/model-protocol.md, or a reference-format Python
 * learnware run through the shipped shim.  Every kind answers the same
 * calls: its input and output widths, and predict on a batch of rows.
 */
#ifndef LW_MODEL_H
#define LW_MODEL_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

typedef struct lw_model lw_model;

typedef enum {
	LW_MODEL_LINEAR = 1, /**< linear regression, one or more outputs */
	LW_MODEL_LOGISTIC,   /**< logistic / softmax regression: class probabilities */
	LW_MODEL_MLP,        /**< dense ReLU network */
	LW_MODEL_XGBOOST,    /**< gradient-boosted trees through libxgboost */
	LW_MODEL_PROCESS,    /**< a program in the package, sandboxed */
	LW_MODEL_PYTHON      /**< a reference-format Python learnware, sandboxed */
} lw_model_kind;

/** "linear", "logistic", "mlp", "xgboost", "process", "python"; NULL if unknown. */
LW_EXTERN(const char *) lw_model_kind_name(lw_model_kind kind);
/** The kind named by `name`, or 0 when the name is unknown. */
LW_EXTERN(lw_model_kind) lw_model_kind_from_name(const char *name);

/** Limits applied to sandboxed kinds (process, python); ignored by in-process kinds. */
typedef struct {
	unsigned int version;
	double timeout_s;        /**< wall clock per call, start-up included (30) */
	size_t memory_bytes;     /**< address-space limit (2 GiB) */
	double cpu_s;            /**< CPU seconds over the model's life (120) */
	size_t max_output_bytes; /**< bytes a model may write before it is killed (256 MiB) */
} lw_model_limits;

#define LW_MODEL_LIMITS_VERSION 1
#define LW_MODEL_LIMITS_INIT \
	{ LW_MODEL_LIMITS_VERSION, 30.0, (size_t)2 << 30, 120.0, (size_t)256 << 20 }

/** Where a model comes from: its kind and the fields that kind reads. */
typedef struct {
	unsigned int version;
	lw_model_kind kind;
	const char *package_dir;     /**< the unpacked learnware */
	const char *file;            /**< linear/logistic/mlp/xgboost: model file, relative to package_dir */
	const char *const *command;  /**< process: argv, NULL-terminated, argv[0] relative to package_dir */
	const char *module_path;     /**< python: module file ("__init__.py") */
	const char *class_name;      /**< python: class ("Model") */
	const char *kwargs_json;     /**< python: constructor arguments as a JSON object ("{}") */
	/**
	 * The learnware program, to run in-process kinds sandboxed through its
	 * `model-serve` verb; NULL opens them in this process (trusted files only).
	 */
	const char *serve_exe;
} lw_model_source;

#define LW_MODEL_SOURCE_VERSION 1
#define LW_MODEL_SOURCE_INIT { LW_MODEL_SOURCE_VERSION, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL }

/**
 * Open a model of any kind.  Process and python models always run in the
 * sandbox under limits (NULL: LW_MODEL_LIMITS_INIT); so do the in-process
 * kinds when src->serve_exe is set.
 */
LW_EXTERN(int) lw_model_open(lw_model **out, const lw_model_source *src,
			     const lw_model_limits *limits);

LW_EXTERN(lw_model_kind) lw_model_kind_of(const lw_model *m);
/** Columns predict expects; 0 when the model does not say (some process models). */
LW_EXTERN(size_t) lw_model_input_dim(const lw_model *m);
/** Columns predict returns: 1 for labels or one regression target, else classes or targets. */
LW_EXTERN(size_t) lw_model_output_dim(const lw_model *m);

/**
 * Predict every row of X.  out is uninitialised on entry and receives
 * X->rows x lw_model_output_dim(m) values.  Fails with LW_EINVALID when X
 * has the wrong width, and with the model's error (a crash, a timeout,
 * malformed output) for sandboxed kinds; the model is then unusable.
 */
LW_EXTERN(int) lw_model_predict(lw_mat *out, lw_model *m, const lw_mat *X);

/** Save in the kind's own file format (built-in and XGBoost kinds). */
LW_EXTERN(int) lw_model_save(const lw_model *m, const char *path);

/** Release the model; for sandboxed kinds this stops the process. Accepts NULL. */
LW_EXTERN(void) lw_model_free(lw_model *m);

LW_END_DECL

#endif
