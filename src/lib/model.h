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
};

/* A new model of the given kind around impl (which the model then owns). */
int lw__model_new(lw_model **out, lw_model_kind kind, const lw_model_ops *ops, void *impl,
		  size_t input_dim, size_t output_dim);

#endif
