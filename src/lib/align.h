/*
 * Feature alignment: the reference engine's FeatureAlignLearnware map.
 *
 * A small network (one ReLU hidden layer, or none) takes a row of the
 * user's feature space (d_in columns) into a learnware's (d_out columns).
 * It is trained, full batch with Adam, to minimise the weighted RBF MMD^2
 * between the user's RKME points pushed through it and the learnware's
 * RKME:
 *
 *   L = b_u' K(f(Z_u), f(Z_u)) b_u - 2 b_u' K(f(Z_u), Z_l) b_l + b_l' K(Z_l, Z_l) b_l
 *
 * with the exact gradient and hand-written backpropagation.  Used by the
 * reuse module; docs/prune-align.md describes it.  Not part of the public
 * API.
 */
#ifndef LW_ALIGN_H
#define LW_ALIGN_H

#include <stddef.h>
#include <stdint.h>

#include "lw/matrix.h"
#include "lw/rkme.h"

struct json_t; /* jansson's */

#define LW__ALIGN_OPTIONS_VERSION 1

typedef struct {
	unsigned int version; /* LW__ALIGN_OPTIONS_VERSION */
	size_t hidden;        /* ReLU units of the hidden layer; 0: an affine map (1024) */
	unsigned int epochs;  /* full-batch Adam steps (50) */
	double lr;            /* Adam step size (1e-3) */
	double gamma;         /* kernel width of the MMD (0.1) */
	uint64_t seed;        /* initial weights (0) */
} lw__align_options;

#define LW__ALIGN_OPTIONS_INIT { LW__ALIGN_OPTIONS_VERSION, 1024, 50, 1e-3, 0.1, 0 }

/*
 * A fitted map.  Parameters are one flat array, theta = [W1 | b1 | W2 | b2]
 * (W1 hidden x d_in and b1 hidden, absent when hidden is 0; W2 d_out x
 * width and b2 d_out, where width is hidden, or d_in without a hidden
 * layer), every matrix row-major.
 */
typedef struct lw__align {
	size_t d_in, hidden, d_out;
	size_t n_params;
	double *theta;
	double *W1, *b1, *W2, *b2; /* views into theta (W1, b1 NULL without a hidden layer) */
	double gamma;              /* the kernel width it was trained with */
	double loss_initial;       /* MMD^2 before the first step */
	double loss_final;         /* MMD^2 after the last step */
} lw__align;

/*
 * Train a map from the user's feature space to the learnware's.
 *
 * @param[out] out  the map, freed with lw__align_free
 * @param user  the user's RKME (d_in = its dimension)
 * @param learnware  the learnware's RKME (d_out = its dimension)
 * @param o  options, or NULL for the reference's defaults
 * @return 0, LW_EINVALID (bad options, an empty RKME, a non-finite loss:
 *         the message says which) or LW_ENOMEM
 */
int lw__align_fit(lw__align **out, const lw_rkme *user, const lw_rkme *learnware,
		  const lw__align_options *o);

/*
 * Map the rows of X (n x d_in) into out (uninitialised; n x d_out).  A
 * non-finite cell is replaced by its column's mean over the finite cells
 * of X first, as the reference does.
 *
 * @return 0, LW_EINVALID (wrong column count, a column with no finite
 *         cell) or LW_ENOMEM
 */
int lw__align_apply(lw_mat *out, const lw__align *a, const lw_mat *X);

/*
 * The loss L above for the map as it stands, and its gradient with
 * respect to theta (grad: n_params values, or NULL).  For tests and for
 * the fit itself.
 */
int lw__align_loss(double *loss, double *grad, const lw__align *a, const lw_rkme *user,
		   const lw_rkme *learnware, double gamma);

/* A map with the given shape and PyTorch's default initialisation from seed. */
int lw__align_new(lw__align **out, size_t d_in, size_t hidden, size_t d_out, uint64_t seed);

void lw__align_free(lw__align *a);

/*
 * The map as a JSON object:
 *   {"type": "FeatureAlign", "version": 1, "d_in": D, "hidden": H,
 *    "d_out": E, "activation": "relu", "gamma": G,
 *    "loss_initial": L0, "loss_final": L1,
 *    "layers": [{"w": [[...], ...], "b": [...]}, ...]}
 * with one layer per weight matrix, in order.  *out is a new reference.
 */
int lw__align_to_json(struct json_t **out, const lw__align *a);

/* Read the object lw__align_to_json writes; `source` names it in messages. */
int lw__align_from_json(lw__align **out, const struct json_t *j, const char *source);

/* The same as compact text (free with free()), and back. */
int lw__align_to_text(char **out, const lw__align *a);
int lw__align_from_text(lw__align **out, const char *text, size_t len, const char *source);

#endif
