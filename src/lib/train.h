/*
 * What the trainers (train*.c) and the in-process model kinds
 * (model_builtin.c, model_xgboost.c) share.  Not part of the public API.
 */
#ifndef LW_TRAIN_INTERNAL_H
#define LW_TRAIN_INTERNAL_H

#include <stdbool.h>

#include "lw/train.h"
#include "model.h"

/* --- built-in networks (model_builtin.c) ------------------------------- */

typedef enum {
	LW_ACT_IDENTITY = 1,
	LW_ACT_RELU,
	LW_ACT_SOFTMAX
} lw__activation;

/* One dense layer: out = act(W in + b), W is units x inputs, row-major. */
typedef struct {
	size_t inputs, units;
	double *w;
	double *b;
	lw__activation act;
} lw__layer;

/*
 * A linear, logistic or MLP model: inputs are standardised,
 * z = (x - x_mean) / x_scale, with non-finite cells read as the mean;
 * regression outputs are y_mean + y_scale * network(z) when y_mean is set.
 */
typedef struct {
	lw_task task;
	size_t d, k;            /* input and output widths */
	double *x_mean, *x_scale;
	double *y_mean, *y_scale; /* NULL: the network's output as is */
	size_t n_layers;
	lw__layer *layers;
	char **classes;         /* k names, NULL-terminated, or NULL */
	char **features;        /* d names, NULL-terminated, or NULL */
} lw__builtin;

/* An empty network for d inputs and k outputs with n_layers layers of the given widths. */
int lw__builtin_new(lw__builtin **out, lw_task task, const size_t *widths, size_t n_layers);
void lw__builtin_free(lw__builtin *b);
/* Wrap b (which the model then owns, also on failure) as a model of kind. */
int lw__builtin_wrap(lw_model **out, lw_model_kind kind, lw__builtin *b);
/* The network behind m, or NULL when m is not a built-in model. */
const lw__builtin *lw__builtin_of(const lw_model *m);
/* out (n x L->units) = act(in W^T + b) for n rows of L->inputs values. */
void lw__layer_forward(double *out, const lw__layer *L, const double *in, size_t n);
/* Forward pass over n rows of already standardised inputs z (n x d) into out (n x k). */
int lw__builtin_forward(double *out, const lw__builtin *b, const double *z, size_t n);
/* The built-in JSON, parsed; source names the file in messages. */
int lw__builtin_from_json(lw_model **out, lw_model_kind kind, const char *text, size_t len,
			  const char *source);
/* Copy a NULL-terminated list of n names into one allocation (NULL in, NULL out). */
int lw__names_copy(char ***out, const char *const *names, size_t n);

/* --- shared by the trainers (train.c) -------------------------------- */

/* Rows of a fit: the training part and the held-out part. */
typedef struct {
	lw_mat X, Xh;     /* training and held-out features */
	double *y, *yh;   /* their targets / labels */
	size_t k;         /* classes (classification) or 1 */
	const lw_train_options *o;
} lw__fit;

/* Column means and scales over the finite cells of X (scale 1 for constant columns). */
int lw__standardize_fit(double *mean, double *scale, const lw_mat *X);
/* z = (x - mean) / scale in place, non-finite cells becoming 0. */
void lw__standardize_apply(lw_mat *X, const double *mean, const double *scale);

/* Accuracy (classification) or RMSE (regression) of m's predictions. */
int lw__score(double *out, lw_model *m, const lw_mat *X, const double *y, lw_task task);
/* Report progress; LW_ECANCEL (with the message set) when asked to stop. */
int lw__train_progress(const lw_train_options *o, double done);

/* The trainers: fill *out (with the report's iteration fields) from f. */
int lw__train_linear(lw_model **out, lw_train_report *r, const lw__fit *f);
int lw__train_logistic(lw_model **out, lw_train_report *r, const lw__fit *f);
int lw__train_mlp(lw_model **out, lw_train_report *r, const lw__fit *f);
int lw__train_xgboost(lw_model **out, lw_train_report *r, const lw__fit *f);

/*
 * When the logistic trainer's L-BFGS stops: after max_iter iterations, or
 * once the gradient's largest entry (or, euclidean, its length, which a
 * rotation of the inputs keeps) is at most tol.
 */
typedef struct {
	unsigned int max_iter;
	double tol;
	bool euclidean;
} lw__logistic_stop;

/*
 * The logistic trainer's solver on prepared rows Z (n x d, no missing
 * cells), labels y in 0..k-1 and penalty l2: theta ([W (k x d), b (k)])
 * is the start and receives the minimum; *iters the iterations taken.
 */
int lw__logistic_minimize(double *theta, const lw_mat *Z, const double *y, size_t k, double l2,
			  const lw__logistic_stop *stop, unsigned *iters);

/* Store the fit's class and feature names in b. */
int lw__builtin_set_names(lw__builtin *b, const lw__fit *f);

/* --- XGBoost (model_xgboost.c) ------------------------------------ */

/*
 * Safety checks for untrusted files (model_xgboost_check.c): a UBJ file's
 * structure, a JSON file's nesting, and the trees of a loaded booster
 * (given as its own UBJ dump).
 */
int lw__xgboost_check_ubj(const void *buf, size_t len, const char *source);
int lw__xgboost_check_json_depth(const char *text, size_t len, const char *source);
int lw__xgboost_check_model(const void *ubj_buf, size_t len, const char *source);

int lw__xgboost_from_buffer(lw_model **out, const void *buf, size_t len, const char *source);
lw_task lw__xgboost_task(const lw_model *m);
const char *const *lw__xgboost_classes(const lw_model *m);
const char *const *lw__xgboost_features(const lw_model *m);

#endif
