/*
 * learnware dock - image RKME (the reference's RKMEImageSpecification) and
 * the convolutional NNGP kernel the dock compares image specifications with.
 *
 * An image RKME is K weighted 32 x 32 images (beta, z) in the space of the
 * data after its preprocessing (per-channel standardisation, ZCA whitening
 * for colour).  It is fitted with random convolutional feature networks
 * and compared with the cnn_gp kernel (Garriga-Alonso et al., ICLR'19).
 * docs/rkme-image.md gives the algorithm, the JSON and where this
 * implementation departs from the reference engine.
 */
#ifndef LW_RKME_IMAGE_H
#define LW_RKME_IMAGE_H

#include "common.h"
#include "image.h"

LW_BEGIN_DECL

/** Side of the images a specification holds. */
#define LW_RKME_IMAGE_SIZE 32

/** The reference's model_config: the random networks' shape. */
typedef struct {
	size_t k;         /**< width multiplier (2) */
	size_t net_width; /**< conv layers have k * net_width channels (128) */
	size_t net_depth; /**< conv/ReLU/pool blocks (3); also the depth of the cnn_gp kernel */
	double mu;        /**< mean of the conv weights (0) */
	double sigma;     /**< their deviation; 0 means the reference's null: sqrt(2 / (9 in)) */
} lw_rkme_image_net_config;

#define LW_RKME_IMAGE_NET_CONFIG_INIT { 2, 128, 3, 0.0, 0.0 }

/** An image RKME.  Allocated by the library; release with lw_rkme_image_free. */
typedef struct lw_rkme_image {
	size_t k;            /**< reduced points */
	size_t channels;     /**< 1 (gray) or 3 (colour) */
	double *z;           /**< k x channels x 32 x 32 */
	double *beta;        /**< k weights */
	size_t n_models;     /**< random networks per kernel evaluation (16) */
	lw_rkme_image_net_config model_config;
	double self_inner;   /**< <r, r> in the cnn_gp kernel, computed when created; read-only */
	struct lw__gp_set *gp; /**< private: per-point maps of the cnn_gp kernel */
} lw_rkme_image;

/** Initialisation of the reduced points before they are optimised. */
typedef enum {
	/** k-means centres of the preprocessed images (averages: no image is published as is) */
	LW_RKME_IMAGE_INIT_KMEANS = 0,
	/** seeded N(0, 1) noise, the reference's starting point */
	LW_RKME_IMAGE_INIT_NOISE = 1
} lw_rkme_image_init;

/**
 * Fit settings.  The defaults differ from the reference's where its
 * settings cost too much on a CPU (docs/rkme-image.md says which and why):
 * 2 networks of 32 channels per round instead of 16 of 256, and a random
 * batch of 128 images per round instead of all 5000.
 */
typedef struct {
	unsigned int version;
	size_t k;               /**< reduced points (50) */
	unsigned int steps;     /**< rounds, each with freshly drawn networks (50) */
	unsigned int inner;     /**< Adam steps on z per round (3, as the reference) */
	double step_size;       /**< Adam learning rate on z (0.01, the reference's) */
	size_t sample_size;     /**< images kept, drawn without replacement (5000) */
	size_t batch;           /**< images whose mean features a round uses (128; 0: all) */
	size_t n_models;        /**< networks per round, the JSON's n_models (2) */
	lw_rkme_image_net_config model_config; /**< network shape (k 2 x net_width 16, depth 3) */
	int whitening;          /**< ZCA whitening of colour images (1) */
	lw_rkme_image_init init;
	uint64_t seed;          /**< all randomness: subsample, initial points, networks (0) */
	lw_progress_cb progress;
	void *payload;
} lw_rkme_image_options;

#define LW_RKME_IMAGE_OPTIONS_VERSION 1
#define LW_RKME_IMAGE_OPTIONS_INIT                                                             \
	{ LW_RKME_IMAGE_OPTIONS_VERSION, 50, 50, 3, 0.01, 5000, 128, 2,                          \
	  { 2, 16, 3, 0.0, 0.0 }, 1, LW_RKME_IMAGE_INIT_KMEANS, 0, NULL, NULL }

LW_EXTERN(void) lw_rkme_image_options_init(lw_rkme_image_options *opts);

/**
 * The preprocessing a fit applies, for callers that compare a
 * specification with data: non-finite values replaced by their image's
 * mean over finite values, resizing to 32 x 32 (triangle filter,
 * antialiased), per-channel standardisation over (N, H, W) and, for colour
 * images with `whiten`, ZCA whitening (cov = X'X/N, regularised by
 * 0.1 tr/D).
 *
 * @param[out] out  uninitialised; receives n x c x 32 x 32
 * @return 0; LW_EINVALID for an empty batch, an image with no finite
 *   value or a constant channel; LW_ENOMEM
 */
LW_EXTERN(int) lw_rkme_image_preprocess(lw_image_batch *out, const lw_image_batch *X, int whiten);

/**
 * Fit an image RKME to a batch of images (any size; values as read).
 * Takes lw_rkme_image_preprocess's steps, subsamples, then optimises the
 * reduced points by Adam steps on the squared MMD in the random-feature
 * kernel, re-solving beta by the simplex QP between steps; beta is finally
 * solved in the cnn_gp kernel over the whole sample.
 *
 * @param[out] out  the new specification, owned by the caller
 * @return 0, LW_EINVALID, LW_ENOMEM, LW_ECANCEL
 */
LW_EXTERN(int) lw_rkme_image_fit(lw_rkme_image **out, const lw_image_batch *X,
				 const lw_rkme_image_options *opts);

/**
 * A new specification holding copies of z (k x channels x 32 x 32) and
 * beta.  cfg NULL means the reference's model_config.
 */
LW_EXTERN(int) lw_rkme_image_new(lw_rkme_image **out, const double *z, const double *beta, size_t k,
				 size_t channels, size_t n_models, const lw_rkme_image_net_config *cfg);

LW_EXTERN(void) lw_rkme_image_free(lw_rkme_image *r);

/** <a, b> = sum_ij beta_a_i beta_b_j k(z_a_i, z_b_j) in the cnn_gp kernel of a's depth. */
LW_EXTERN(int) lw_rkme_image_inner(double *out, const lw_rkme_image *a, const lw_rkme_image *b);

/**
 * Squared MMD <a,a> - 2<a,b> + <b,b> in the cnn_gp kernel (the reference's
 * dist; it can be slightly negative for near-equal specifications).
 * Channels must match.
 */
LW_EXTERN(int) lw_rkme_image_dist(double *out, const lw_rkme_image *a, const lw_rkme_image *b);

/** out[i] = dist(a, b[i]) for m specifications, in parallel. */
LW_EXTERN(int) lw_rkme_image_dist_many(double *out, const lw_rkme_image *a,
				       const lw_rkme_image *const *b, size_t m);

/**
 * The reference checker's test: dist(r, r) computed as the search computes
 * it, and refused (LW_EINVALID, with a message) when it is not finite.
 */
LW_EXTERN(int) lw_rkme_image_self_dist(double *out, const lw_rkme_image *r);

/**
 * The transform of image distances before they become search scores:
 * 1 - exp(-d / 1e-2).  The reference's searcher divides by 5e-5, which
 * sends every distance between fitted specifications to 1; 1e-2 is about
 * the median user-to-learnware distance measured by bench_image
 * (docs/rkme-image.md).  Monotone: ranking by it is ranking by d.
 */
LW_EXTERN(double) lw_rkme_image_score_transform(double d);

/**
 * Squared MMD between the specification and preprocessed images (as
 * lw_rkme_image_preprocess returns them) in the cnn_gp kernel.  O(n^2):
 * for evaluation on a few hundred images, not for search.
 */
LW_EXTERN(int) lw_rkme_image_mmd_data(double *out, const lw_rkme_image *r,
				      const lw_image_batch *Xp);

/** Parse the reference's JSON; `source` names it in messages. */
LW_EXTERN(int) lw_rkme_image_from_json(lw_rkme_image **out, const char *text, size_t len,
				       const char *source);

/** Serialise as the reference's compact JSON; free the result with free(). */
LW_EXTERN(int) lw_rkme_image_to_json(char **out, const lw_rkme_image *r);

LW_EXTERN(int) lw_rkme_image_load(lw_rkme_image **out, const char *path);
LW_EXTERN(int) lw_rkme_image_save(const lw_rkme_image *r, const char *path);

/**
 * The cnn_gp kernel between two sets of square images (n x channels x
 * size x size, row-major), with `depth` blocks of [conv 3x3, ReLU, conv
 * 2x2 stride 2] and a final conv over what is left: size must be a
 * multiple of 2^depth.  y NULL: the kernel of x with itself, with the
 * reference's diagonal handling (out is nx x nx).
 *
 * @param[out] out  nx x ny, row-major, caller-allocated
 */
LW_EXTERN(int) lw_cnn_gp_kernel(double *out, const double *x, size_t nx, const double *y, size_t ny,
				size_t channels, size_t size, size_t depth);

LW_END_DECL

#endif
