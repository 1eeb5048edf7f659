/*
 * The struct behind lw_model and the per-kind entry points.  Each kind
 * lives in its own file (model_builtin.c, model_xgboost.c, model_process.c,
 * model_python.c) and fills an lw_model with its ops.
 */
#ifndef LW_MODEL_INTERNAL_H
#define LW_MODEL_INTERNAL_H

#include "lw/model.h"

typedef struct {
	/* out is uninitialised; X already has the right width. */
	int (*predict)(lw_model *m, lw_mat *out, const lw_mat *X);
	/* NULL when the kind cannot be saved. */
	int (*save)(const lw_model *m, const char *path);
	void (*free)(lw_model *m);
} lw_model_ops;

struct lw_model {
	const lw_model_ops *ops;
	lw_model_kind kind;
	size_t input_dim;  /* 0: not declared */
	size_t output_dim;
	void *impl;        /* the kind's own state */
	char **classes;    /* class names read beside the kind (a served model's file), or NULL */
};

/* A new model of the given kind around impl (which the model then owns). */
int lw__model_new(lw_model **out, lw_model_kind kind, const lw_model_ops *ops, void *impl,
		  size_t input_dim, size_t output_dim);

/* Built-in JSON models (linear, logistic, mlp; kind from the file) and XGBoost JSON/UBJ files. */
int lw__model_open_builtin(lw_model **out, const char *path);
int lw__model_open_xgboost(lw_model **out, const char *path);

/* A sandboxed program speaking docs/model-protocol.md; argv[0] is relative to package_dir.
 * limits may be NULL for the defaults. */
int lw__model_open_process(lw_model **out, const char *package_dir, const char *const *argv,
			   const lw_model_limits *limits);
/* A reference-format learnware (class_name(**kwargs) from module_path, which has predict) run
 * by the shipped shim with /usr/bin/python3; NULLs mean "__init__.py", "Model" and "{}". */
int lw__model_open_python(lw_model **out, const char *package_dir, const char *module_path,
			  const char *class_name, const char *kwargs_json,
			  const lw_model_limits *limits);

#endif
