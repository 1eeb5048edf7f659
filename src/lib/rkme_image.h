/*
 * Internal pieces of the image RKME: the cnn_gp kernel's per-image state
 * (cnn_gp.c) and the random convolutional feature networks
 * (rkme_image_net.c), exposed for rkme_image*.c and the tests.
 */
#ifndef LW_RKME_IMAGE_INTERNAL_H
#define LW_RKME_IMAGE_INTERNAL_H

#include "lw/rkme_image.h"
#include "lw/rng.h"

/* ---- cnn_gp ---- */

/*
 * A set of images prepared for the cnn_gp kernel: each image's variance
 * maps before every ReLU (they depend on the image alone) and its
 * self-kernel value, so a pair costs only its cross terms.
 */
typedef struct lw__gp_set {
	size_t n, c, size, depth;
	double *x;    /* n x c x size x size, a copy */
	double *var;  /* n x var_len: pre-ReLU variance maps, level by level */
	double *self; /* k(x_i, x_i) */
	size_t var_len;
} lw__gp_set;

int lw__gp_set_init(lw__gp_set *s, const double *x, size_t n, size_t c, size_t size, size_t depth);
/* Same, from float images. */
int lw__gp_set_init_f(lw__gp_set *s, const float *x, size_t n, size_t c, size_t size,
		      size_t depth);
void lw__gp_set_dispose(lw__gp_set *s);

/* out (a->n x b->n) = k(a_i, b_j); same != 0: a and b are one set (diagonal = self). */
int lw__gp_cross(double *out, const lw__gp_set *a, const lw__gp_set *b, int same);

/* sum_ij wa_i wb_j k(a_i, b_j); same as above. */
int lw__gp_weighted(double *out, const lw__gp_set *a, const double *wa, const lw__gp_set *b,
		    const double *wb, int same);

/* out_i = mean_j k(a_i, b_j) (a->n values), without storing the matrix. */
int lw__gp_row_means(double *out, const lw__gp_set *a, const lw__gp_set *b);

/* The kernel's branch-free acos, for its test against libm. */
double lw__gp_acos(double c);

/* ---- random convolutional feature networks ---- */

/* One network: depth blocks of conv 3x3 (pad 1) -> ReLU -> avgpool 2. */
typedef struct {
	size_t in_c, width, depth, size;
	float **w; /* depth: width x (cin * 9), row-major */
	float **b; /* depth: width */
} lw__rfnet;

/* Draw a network: weights N(mu, sigma or sqrt(2/(9 cin))), bias N(0, 0.1). */
int lw__rfnet_draw(lw__rfnet *net, lw_rng *rng, size_t in_c, size_t size,
		   const lw_rkme_image_net_config *cfg);
void lw__rfnet_dispose(lw__rfnet *net);

/* Features per image: width x (size / 2^depth)^2. */
size_t lw__rfnet_features(const lw__rfnet *net);

/* What a forward pass keeps for the backward pass: every ReLU output. */
typedef struct {
	size_t n;
	float **relu; /* depth: width x n x s_l x s_l, s_l = size / 2^l */
} lw__rftape;

void lw__rftape_dispose(lw__rftape *t);

/*
 * feat (n x features, row stride ld) = the network on n images (n x in_c
 * x size x size).  With a tape, keeps what lw__rfnet_backward needs.
 * These functions run on the calling thread (callers parallelise).
 */
int lw__rfnet_forward(const lw__rfnet *net, const float *x, size_t n, float *feat, size_t ld,
		      lw__rftape *tape);

/* sum (features) += the features of n images, accumulated in double. */
int lw__rfnet_sum(const lw__rfnet *net, const float *x, size_t n, double *sum);

/*
 * dx (n x in_c x size x size) = J' dfeat: the gradient with respect to the
 * images of sum_i dfeat_i . f(x_i), through the pass recorded in tape.
 */
int lw__rfnet_backward(const lw__rfnet *net, const lw__rftape *tape, const float *dfeat,
		       size_t ld, float *dx);

/*
 * The random-feature MMD^2 of (z, beta) to the images x under `nets`
 * networks drawn from seed: |sum_i beta_i f(z_i) - mean_x f(x)|^2 / D
 * + 0.01 (sum beta - 1)^2, f the features of all networks and D their
 * number.  With beta_out, beta is instead solved by the simplex QP in that
 * kernel, used, and returned (k values).  For tests and evaluation.
 */
int lw__rkme_image_rf_mmd(double *out, const double *z, const double *beta, size_t k,
			  const float *x, size_t n, size_t c, size_t nets, uint64_t seed,
			  const lw_rkme_image_net_config *cfg, double *beta_out);

/*
 * The exact gradient of that MMD^2 (beta given) with respect to z, k x c x
 * 32 x 32 values, and the MMD^2 itself.  For the finite-difference test.
 */
int lw__rkme_image_rf_grad(double *grad, double *out, const double *z, const double *beta, size_t k,
			   const float *x, size_t n, size_t c, size_t nets, uint64_t seed,
			   const lw_rkme_image_net_config *cfg);

/* Fill the cached fields of a new specification (the cnn_gp maps, <r, r>). */
int lw__rkme_image_finish(lw_rkme_image *r);

#endif
