/*
 * Image RKME: preprocessing, the reduced-set fit and distances.
 * docs/rkme-image.md describes the algorithm and where it departs from the
 * reference engine (learnware/specification/regular/image/rkme.py).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "lw/kmeans.h"
#include "lw/matrix.h"
#include "lw/qp.h"
#include "lw/rng.h"
#include "rkme_image.h"
#include "util.h"

#define SIDE LW_RKME_IMAGE_SIZE
#define PLANE (SIDE * SIDE)
#define ZCA_REG 0.1
/* Images the whitening matrix is estimated from (docs/rkme-image.md). */
#define ZCA_MAX 1024
#define KERNEL_BIAS 0.01 /* the reference's f1 f2' + 0.01 */
#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-16
/* Lloyd iterations for k-means starting points (k-means++ seeded). */
#define KMEANS_ITER 20
/* Images k-means sees (the starting points need no more). */
#define KMEANS_MAX 2048
/* Distinct streams drawn from one seed. */
#define STREAM_SAMPLE 0x53414d504c45ULL
#define STREAM_INIT 0x494e4954ULL
#define STREAM_NETS 0x4e455453ULL
#define STREAM_BATCH 0x4241544348ULL
/* Most bytes the fit keeps for backward passes at once. */
#define TAPE_BUDGET ((size_t)768 << 20)

void lw_rkme_image_options_init(lw_rkme_image_options *opts)
{
	lw_rkme_image_options def = LW_RKME_IMAGE_OPTIONS_INIT;

	*opts = def;
}

/*
 * The scale of the score transform.  The reference's 5e-5 suits its
 * specifications, which share one noise z and differ only in beta; fitted
 * ones lie 1e-3 (a user and its nearest learnware) to 1e-1 (other classes)
 * apart, and 1e-2, the median distance from a user to a learnware in
 * bench_image, spreads them over (0, 1) (docs/rkme-image.md, "The score
 * transform").
 */
#define SCORE_SCALE 1e-2

double lw_rkme_image_score_transform(double d)
{
	return 1.0 - exp(-d / SCORE_SCALE);
}

static int report(const lw_rkme_image_options *o, const char *stage, double done)
{
	if (o->progress && o->progress(stage, done, o->payload)) {
		lw_error_set(LW_ERRCLASS_INVALID, "cancelled during %s", stage);
		return LW_ECANCEL;
	}
	return 0;
}

/* ---- preprocessing ----------------------------------------------------- */

/* Replace the non-finite values of one image by the mean of its finite ones. */
static int fill_image(float *img, size_t len, size_t index)
{
	double sum = 0;
	size_t count = 0;

	for (size_t i = 0; i < len; i++)
		if (isfinite(img[i])) {
			sum += img[i];
			count++;
		}
	if (count == len)
		return 0;
	if (count == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "image %zu has no finite value (all NaN or Inf)",
			     index + 1);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < len; i++)
		if (!isfinite(img[i]))
			img[i] = (float)(sum / (double)count);
	return 0;
}

/*
 * Image i filled and resized to 32 x 32 into dst (c x 32 x 32); scratch
 * holds one input image.
 */
static int prepare_one(float *dst, const lw_image_batch *X, size_t i, float *scratch)
{
	size_t len = lw_image_batch_stride(X);
	lw_image_batch one = { 1, X->c, X->h, X->w, scratch }, r;
	int err;

	memcpy(scratch, lw_image_batch_at(X, i), len * sizeof(float));
	if ((err = fill_image(scratch, len, i)) < 0)
		return err;
	if (X->h == SIDE && X->w == SIDE) {
		memcpy(dst, scratch, len * sizeof(float));
		return 0;
	}
	if ((err = lw_image_resize(&r, &one, SIDE, SIDE, LW_RESIZE_TRIANGLE)) < 0)
		return err;
	memcpy(dst, r.data, X->c * PLANE * sizeof(float));
	lw_image_batch_dispose(&r);
	return 0;
}

/*
 * ZCA whitening in place of n images of d values: X <- X (C + r I)^-1/2
 * with C = X'X / m over m = min(n, ZCA_MAX) images spread evenly over the n
 * and r = 0.1 tr(C) / d.  m <= d always (d = 1024 c,
 * c >= 2), so C comes from the small Gram matrix G = X_m X_m' / m = U L U':
 * C's eigenvectors are v_i = X_m' u_i / sqrt(m l_i), and
 *   x W = x / sqrt(r) + sum_i ((l_i + r)^-1/2 - r^-1/2) (x . v_i) v_i.
 * With m = n this is exactly the reference's transform (which takes the
 * SVD of the d x d matrix: a minute on two cores for d = 3072).
 */
static int zca(float *x, size_t n, size_t d)
{
	size_t m = n < ZCA_MAX ? n : ZCA_MAX, kept = 0;
	double *X = lw__mallocarray(m, d * sizeof(double)), *G = lw__mallocarray(m, m * sizeof(double));
	double *ev = lw__mallocarray(m, sizeof(double)), *V = NULL, tr = 0, reg, top;
	float *Vf = NULL, *P = NULL, *a = NULL;
	lapack_int info;
	int err = 0;

	if (!X || !G || !ev || !(V = lw__mallocarray(d, m * sizeof(double))) ||
	    !(Vf = lw__mallocarray(d, m * sizeof(float))) || !(P = lw__mallocarray(n, m * sizeof(float))) ||
	    !(a = lw__mallocarray(m, sizeof(float)))) {
		err = LW_ENOMEM;
		goto done;
	}
	/* m images spread evenly over the n (all of them when n <= ZCA_MAX) */
	for (size_t i = 0; i < m; i++) {
		const float *src = x + (i * n / m) * d;

		for (size_t t = 0; t < d; t++)
			X[i * d + t] = src[t];
	}
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)d, 1.0 / (double)m, X,
		    (int)d, 0.0, G, (int)m);
	for (size_t i = 0; i < m; i++)
		tr += G[i * m + i]; /* tr(G) = tr(C) */
	reg = ZCA_REG * tr / (double)d;
	info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)m, G, (lapack_int)m, ev);
	if (info != 0) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "ZCA whitening: eigendecomposition failed (LAPACK "
			     "info %d)", (int)info);
		err = LW_ERROR;
		goto done;
	}
	/* Keep the directions the data spans: l_i above rounding of the largest. */
	top = ev[m - 1];
	for (size_t i = 0; i < m; i++) {
		if (!(ev[i] > 1e-12 * top))
			continue;
		for (size_t j = 0; j < m; j++)
			G[j * m + kept] = G[j * m + i] / sqrt((double)m * ev[i]);
		a[kept++] = (float)(1.0 / sqrt(ev[i] + reg) - 1.0 / sqrt(reg));
	}
	if (kept) {
		/* V (d x kept) = X_m' U_kept diag(1 / sqrt(m l)), in double */
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)kept, (int)m, 1.0, X,
			    (int)d, G, (int)m, 0.0, V, (int)kept);
		for (size_t i = 0; i < d * kept; i++)
			Vf[i] = (float)V[i];
		/* The two products with all n images in float32, as the reference whitens. */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)kept, (int)d, 1.0f, x,
			    (int)d, Vf, (int)kept, 0.0f, P, (int)kept);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < kept; j++)
				P[i * kept + j] *= a[j];
	}
	for (size_t i = 0; i < n * d; i++)
		x[i] = (float)(x[i] / sqrt(reg));
	if (kept)
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)kept, 1.0f, P,
			    (int)kept, Vf, (int)kept, 1.0f, x, (int)d);
done:
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory whitening %zu images of %zu values",
			     n, d);
	free(X);
	free(G);
	free(ev);
	free(V);
	free(Vf);
	free(P);
	free(a);
	return err;
}

/*
 * Fill, resize and standardise every image (statistics over all of them),
 * keep the `m` images listed in keep (all when keep is NULL), then whiten
 * those.  out: m x c x 32 x 32.
 */
static int preprocess(lw_image_batch *out, const lw_image_batch *X, int whiten,
		      const size_t *keep, size_t m)
{
	size_t c = X->c, n = X->n;
	double *sum = NULL, *sq = NULL;
	float *scratch = NULL, *one = NULL;
	size_t *slot = NULL; /* where each kept image goes: its index + 1 (0: not kept) */
	int err;

	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if ((err = lw_image_batch_init(out, m, c, SIDE, SIDE)) < 0)
		return err;
	sum = lw__calloc(c, sizeof(double));
	sq = lw__calloc(c, sizeof(double));
	scratch = lw__mallocarray(lw_image_batch_stride(X), sizeof(float));
	one = lw__mallocarray(c * PLANE, sizeof(float));
	slot = lw__calloc(n, sizeof(size_t));
	if (!sum || !sq || !scratch || !one || !slot) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t j = 0; j < m; j++)
		slot[keep ? keep[j] : j] = j + 1;
	for (size_t i = 0; i < n; i++) {
		if ((err = prepare_one(one, X, i, scratch)) < 0)
			goto done;
		for (size_t ch = 0; ch < c; ch++)
			for (size_t p = 0; p < PLANE; p++) {
				double v = one[ch * PLANE + p];

				sum[ch] += v;
				sq[ch] += v * v;
			}
		if (slot[i])
			memcpy(lw_image_batch_at(out, slot[i] - 1), one, c * PLANE * sizeof(float));
	}
	for (size_t ch = 0; ch < c; ch++) {
		double cnt = (double)n * PLANE, mean = sum[ch] / cnt;
		/* torch.std: the unbiased estimate */
		double var = (sq[ch] - cnt * mean * mean) / (cnt > 1 ? cnt - 1 : 1), sd;

		sd = var > 0 ? sqrt(var) : 0;
		if (!(sd > 1e-12 * (fabs(mean) > 1 ? fabs(mean) : 1))) {
			lw_error_set(LW_ERRCLASS_DATA, "channel %zu is constant over all %zu images (value "
				     "%g): there is no distribution to describe", ch + 1, n, mean);
			err = LW_EINVALID;
			goto done;
		}
		for (size_t i = 0; i < m; i++) {
			float *p = lw_image_batch_at(out, i) + ch * PLANE;

			for (size_t q = 0; q < PLANE; q++)
				p[q] = (float)((p[q] - mean) / sd);
		}
	}
	if (whiten && c > 1)
		err = zca(out->data, m, c * PLANE);
done:
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory preparing %zu images", n);
	if (err < 0)
		lw_image_batch_dispose(out);
	free(sum);
	free(sq);
	free(scratch);
	free(one);
	free(slot);
	return err;
}

static int check_batch(const lw_image_batch *X)
{
	if (!X->data || X->n == 0 || X->c == 0 || X->h == 0 || X->w == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "no images: a batch of %zu x %zu x %zu x %zu", X->n,
			     X->c, X->h, X->w);
		return LW_EINVALID;
	}
	if (X->c > 64) {
		lw_error_set(LW_ERRCLASS_DATA, "images with %zu channels: an image specification takes "
			     "at most 64 (1 gray, 3 colour)", X->c);
		return LW_EINVALID;
	}
	return 0;
}

int lw_rkme_image_preprocess(lw_image_batch *out, const lw_image_batch *X, int whiten)
{
	int err;

	LW_ASSERT_ARG(out && X);
	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if ((err = check_batch(X)) < 0)
		return err;
	return preprocess(out, X, whiten, NULL, X->n);
}

/* ---- specification objects --------------------------------------------- */

int lw__rkme_image_finish(lw_rkme_image *r)
{
	lw__gp_set *gp = lw__calloc(1, sizeof(*gp));
	int err;

	if (!gp)
		return LW_ENOMEM;
	if ((err = lw__gp_set_init(gp, r->z, r->k, r->channels, SIDE, r->model_config.net_depth)) < 0) {
		free(gp);
		return err;
	}
	r->gp = gp;
	return lw__gp_weighted(&r->self_inner, gp, r->beta, gp, r->beta, 1);
}

static int check_config(const lw_rkme_image_net_config *c)
{
	if (c->k == 0 || c->net_width == 0 || c->k > 64 || c->net_width > 4096 ||
	    c->k * c->net_width > 4096) {
		lw_error_set(LW_ERRCLASS_INVALID, "model_config: k %zu x net_width %zu channels is out "
			     "of range (1 to 4096)", c->k, c->net_width);
		return LW_EINVALID;
	}
	if (c->net_depth < 1 || c->net_depth > 5) {
		lw_error_set(LW_ERRCLASS_INVALID, "model_config: net_depth %zu: 32 x 32 images take a "
			     "depth of 1 to 5", c->net_depth);
		return LW_EINVALID;
	}
	if (!isfinite(c->mu) || !isfinite(c->sigma) || c->sigma < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "model_config: mu and sigma must be finite, sigma >= 0");
		return LW_EINVALID;
	}
	return 0;
}

int lw_rkme_image_new(lw_rkme_image **out, const double *z, const double *beta, size_t k,
		      size_t channels, size_t n_models, const lw_rkme_image_net_config *cfg)
{
	lw_rkme_image_net_config def = LW_RKME_IMAGE_NET_CONFIG_INIT;
	lw_rkme_image *r;
	size_t cells;
	int err;

	LW_ASSERT_ARG(out && z && beta && k > 0 && channels > 0);
	*out = NULL;
	if (!cfg)
		cfg = &def;
	if ((err = check_config(cfg)) < 0)
		return err;
	if (!lw__mul_ok(&cells, k, channels * PLANE))
		return LW_ENOMEM;
	if (!(r = lw__calloc(1, sizeof(*r))))
		return LW_ENOMEM;
	r->k = k;
	r->channels = channels;
	r->n_models = n_models;
	r->model_config = *cfg;
	if (!(r->z = lw__mallocarray(cells, sizeof(double))) ||
	    !(r->beta = lw__mallocarray(k, sizeof(double)))) {
		lw_rkme_image_free(r);
		return LW_ENOMEM;
	}
	memcpy(r->z, z, cells * sizeof(double));
	memcpy(r->beta, beta, k * sizeof(double));
	if ((err = lw__rkme_image_finish(r)) < 0) {
		lw_rkme_image_free(r);
		return err;
	}
	*out = r;
	return 0;
}

void lw_rkme_image_free(lw_rkme_image *r)
{
	if (!r)
		return;
	lw__gp_set_dispose(r->gp);
	free(r->gp);
	free(r->z);
	free(r->beta);
	free(r);
}

static int check_pair(const lw_rkme_image *a, const lw_rkme_image *b)
{
	if (a->channels != b->channels) {
		lw_error_set(LW_ERRCLASS_INVALID, "image specifications with %zu and %zu channels "
			     "cannot be compared", a->channels, b->channels);
		return LW_EINVALID;
	}
	return 0;
}

/* b's points prepared at a's depth (the reference builds the kernel from a's config). */
static int gp_of(lw__gp_set *tmp, const lw__gp_set **use, const lw_rkme_image *b, size_t depth)
{
	if (b->model_config.net_depth == depth) {
		*use = b->gp;
		return 0;
	}
	*use = tmp;
	return lw__gp_set_init(tmp, b->z, b->k, b->channels, SIDE, depth);
}

int lw_rkme_image_inner(double *out, const lw_rkme_image *a, const lw_rkme_image *b)
{
	lw__gp_set tmp = { 0 };
	const lw__gp_set *gb;
	int err;

	LW_ASSERT_ARG(out && a && b);
	if ((err = check_pair(a, b)) < 0 ||
	    (err = gp_of(&tmp, &gb, b, a->model_config.net_depth)) < 0)
		return err;
	err = lw__gp_weighted(out, a->gp, a->beta, gb, b->beta, a == b);
	lw__gp_set_dispose(&tmp);
	return err;
}

/* <b, b> in a's kernel: b's cached value when the depths agree. */
static int self_term(double *out, const lw_rkme_image *b, size_t depth)
{
	lw__gp_set tmp;
	int err;

	if (b->model_config.net_depth == depth) {
		*out = b->self_inner;
		return 0;
	}
	if ((err = lw__gp_set_init(&tmp, b->z, b->k, b->channels, SIDE, depth)) < 0)
		return err;
	err = lw__gp_weighted(out, &tmp, b->beta, &tmp, b->beta, 1);
	lw__gp_set_dispose(&tmp);
	return err;
}

int lw_rkme_image_dist(double *out, const lw_rkme_image *a, const lw_rkme_image *b)
{
	double ab, bb;
	int err;

	LW_ASSERT_ARG(out && a && b);
	if ((err = lw_rkme_image_inner(&ab, a, b)) < 0 ||
	    (err = self_term(&bb, b, a->model_config.net_depth)) < 0)
		return err;
	*out = a->self_inner - 2 * ab + bb;
	return 0;
}

int lw_rkme_image_dist_many(double *out, const lw_rkme_image *a, const lw_rkme_image *const *b,
			    size_t m)
{
	int err = 0;

	LW_ASSERT_ARG(out && a && (b || m == 0));
	/* Each distance runs its pairs in parallel already. */
	for (size_t i = 0; i < m && err == 0; i++)
		err = lw_rkme_image_dist(&out[i], a, b[i]);
	return err;
}

int lw_rkme_image_self_dist(double *out, const lw_rkme_image *r)
{
	int err;

	LW_ASSERT_ARG(out && r);
	if ((err = lw_rkme_image_dist(out, r, r)) < 0)
		return err;
	if (!isfinite(*out)) {
		lw_error_set(LW_ERRCLASS_INVALID, "the specification's distance to itself is %g, not a "
			     "finite number", *out);
		return LW_EINVALID;
	}
	return 0;
}

int lw_rkme_image_mmd_data(double *out, const lw_rkme_image *r, const lw_image_batch *Xp)
{
	lw__gp_set xs;
	double *C = NULL, *ones = NULL, zx = 0, xx;
	int err;

	LW_ASSERT_ARG(out && r && Xp && Xp->n > 0);
	if (Xp->c != r->channels || Xp->h != SIDE || Xp->w != SIDE) {
		lw_error_set(LW_ERRCLASS_INVALID, "comparing a %zu-channel image specification with "
			     "%zu x %zu x %zu images: preprocess them first", r->channels, Xp->c,
			     Xp->h, Xp->w);
		return LW_EINVALID;
	}
	if ((err = lw__gp_set_init_f(&xs, Xp->data, Xp->n, Xp->c, SIDE, r->model_config.net_depth)) < 0)
		return err;
	C = lw__mallocarray(r->k, sizeof(double));
	ones = lw__mallocarray(Xp->n, sizeof(double));
	if (!C || !ones) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < Xp->n; i++)
		ones[i] = 1.0 / (double)Xp->n;
	if ((err = lw__gp_row_means(C, r->gp, &xs)) < 0 ||
	    (err = lw__gp_weighted(&xx, &xs, ones, &xs, ones, 1)) < 0)
		goto done;
	for (size_t i = 0; i < r->k; i++)
		zx += r->beta[i] * C[i];
	*out = r->self_inner - 2 * zx + xx;
done:
	lw__gp_set_dispose(&xs);
	free(C);
	free(ones);
	return err;
}

/* ---- random-feature kernel --------------------------------------------- */

/* The networks of one round and the features they give. */
typedef struct {
	lw__rfnet *nets;
	size_t count, F, D; /* networks, features per network, all features */
} rf_bank;

static void bank_dispose(rf_bank *b)
{
	for (size_t i = 0; b->nets && i < b->count; i++)
		lw__rfnet_dispose(&b->nets[i]);
	free(b->nets);
	memset(b, 0, sizeof(*b));
}

static int bank_draw(rf_bank *b, lw_rng *rng, size_t count, size_t c,
		     const lw_rkme_image_net_config *cfg)
{
	int err;

	memset(b, 0, sizeof(*b));
	if (!(b->nets = lw__calloc(count, sizeof(lw__rfnet))))
		return LW_ENOMEM;
	for (size_t i = 0; i < count; i++) {
		if ((err = lw__rfnet_draw(&b->nets[i], rng, c, SIDE, cfg)) < 0) {
			bank_dispose(b);
			return err;
		}
		b->count = i + 1;
	}
	b->F = lw__rfnet_features(&b->nets[0]);
	b->D = b->F * count;
	return 0;
}

/*
 * Work is split into tasks, one network on a range of images each, run in
 * parallel: tasks are large enough (a network on tens of images) that
 * threads seldom wait at a barrier, and OpenBLAS runs single-threaded
 * inside them.  Networks run serially within a task (rkme_image_net.c).
 */
typedef struct {
	size_t net, first, count;
} rf_task;

/* Tasks covering n images for every network, ranges of at most `per` images. */
static rf_task *plan(size_t *ntasks, size_t nets, size_t n, size_t per)
{
	size_t ranges = (n + per - 1) / per, t = 0;
	rf_task *tasks = lw__mallocarray(nets * ranges, sizeof(rf_task));

	*ntasks = 0;
	if (!tasks)
		return NULL;
	for (size_t i = 0; i < nets; i++)
		for (size_t r = 0; r < ranges; r++, t++) {
			tasks[t].net = i;
			tasks[t].first = r * per;
			tasks[t].count = n - r * per < per ? n - r * per : per;
		}
	*ntasks = t;
	return tasks;
}

/* Range size giving every thread about two tasks, at most `cap` images. */
static size_t range_for(size_t nets, size_t n, size_t cap)
{
	size_t threads = (size_t)omp_get_max_threads(), parts, per;

	parts = (2 * threads + nets - 1) / nets;
	per = (n + parts - 1) / (parts ? parts : 1);
	if (per > cap)
		per = cap;
	return per ? per : 1;
}

static int task_failed(int err)
{
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory running the random-feature networks");
	return err;
}

/* mu (D) = mean features of n images over every network. */
static int bank_mean(const rf_bank *b, const float *x, size_t n, double *mu)
{
	size_t stride = b->nets[0].in_c * PLANE, ntasks;
	rf_task *tasks = plan(&ntasks, b->count, n, range_for(b->count, n, 64));
	double *part = tasks ? lw__calloc(ntasks, b->F * sizeof(double)) : NULL;
	int err = 0;

	if (!part) {
		free(tasks);
		return task_failed(LW_ENOMEM);
	}
#pragma omp parallel for schedule(dynamic)
	for (size_t t = 0; t < ntasks; t++) {
		const rf_task *tk = &tasks[t];
		int e = lw__rfnet_sum(&b->nets[tk->net], x + tk->first * stride, tk->count,
				      part + t * b->F);

		if (e < 0) {
#pragma omp atomic write
			err = e;
		}
	}
	memset(mu, 0, b->D * sizeof(double));
	for (size_t t = 0; t < ntasks; t++)
		for (size_t f = 0; f < b->F; f++)
			mu[tasks[t].net * b->F + f] += part[t * b->F + f];
	for (size_t f = 0; f < b->D; f++)
		mu[f] /= (double)n;
	free(part);
	free(tasks);
	return task_failed(err);
}

/* The passes over the reduced points share one plan. */
typedef struct {
	rf_task *tasks;
	size_t ntasks;
	lw__rftape *tapes; /* ntasks, or NULL when tapes are not kept */
} z_plan;

static void z_plan_dispose(z_plan *zp)
{
	for (size_t t = 0; zp->tapes && t < zp->ntasks; t++)
		lw__rftape_dispose(&zp->tapes[t]);
	free(zp->tapes);
	free(zp->tasks);
	memset(zp, 0, sizeof(*zp));
}

static int z_plan_init(z_plan *zp, const rf_bank *b, size_t k, int keep_tapes)
{
	memset(zp, 0, sizeof(*zp));
	if (!(zp->tasks = plan(&zp->ntasks, b->count, k, range_for(b->count, k, 64))) ||
	    (keep_tapes && !(zp->tapes = lw__calloc(zp->ntasks, sizeof(lw__rftape))))) {
		z_plan_dispose(zp);
		return task_failed(LW_ENOMEM);
	}
	return 0;
}

/* Fz (k x D, float) for points z; records the tapes when the plan keeps them. */
static int bank_features(const rf_bank *b, const float *z, float *Fz, z_plan *zp)
{
	size_t stride = b->nets[0].in_c * PLANE;
	int err = 0;

#pragma omp parallel for schedule(dynamic)
	for (size_t t = 0; t < zp->ntasks; t++) {
		const rf_task *tk = &zp->tasks[t];
		int e;

		if (zp->tapes)
			lw__rftape_dispose(&zp->tapes[t]);
		e = lw__rfnet_forward(&b->nets[tk->net], z + tk->first * stride, tk->count,
				      Fz + tk->first * b->D + tk->net * b->F, b->D,
				      zp->tapes ? &zp->tapes[t] : NULL);
		if (e < 0) {
#pragma omp atomic write
			err = e;
		}
	}
	return task_failed(err);
}

/*
 * dz (k x c x 32 x 32) = sum over networks of J' dF, dF (k x D); per
 * network into dzn (count x cells) first, then summed.  Without kept tapes
 * each task runs its network forward again to record one.
 */
static int bank_backward(const rf_bank *b, const float *z, size_t k, z_plan *zp, const float *dF,
			 float *dzn, float *dz)
{
	size_t stride = b->nets[0].in_c * PLANE, cells = k * stride;
	int err = 0;

#pragma omp parallel for schedule(dynamic)
	for (size_t t = 0; t < zp->ntasks; t++) {
		const rf_task *tk = &zp->tasks[t];
		const lw__rfnet *net = &b->nets[tk->net];
		lw__rftape own = { 0 }, *tape = zp->tapes ? &zp->tapes[t] : &own;
		float *feat = NULL;
		int e = 0;

		if (!zp->tapes) {
			if (!(feat = lw__mallocarray(tk->count, b->F * sizeof(float))))
				e = LW_ENOMEM;
			else
				e = lw__rfnet_forward(net, z + tk->first * stride, tk->count, feat, b->F,
						      &own);
		}
		if (e == 0)
			e = lw__rfnet_backward(net, tape, dF + tk->first * b->D + tk->net * b->F, b->D,
					       dzn + tk->net * cells + tk->first * stride);
		lw__rftape_dispose(&own);
		free(feat);
		if (e < 0) {
#pragma omp atomic write
			err = e;
		}
	}
	if (err < 0)
		return task_failed(err);
#pragma omp parallel for schedule(static)
	for (size_t j = 0; j < cells; j++) {
		float g = 0;

		for (size_t i = 0; i < b->count; i++)
			g += dzn[i * cells + j];
		dz[j] = g;
	}
	return 0;
}

/*
 * Kzz = Fz Fz'/D + 0.01 and C = Fz mu / D + 0.01 (double), from float
 * features.
 */
static void rf_kernel(double *Kzz, double *C, const float *Fz, const double *mu, size_t k, size_t D)
{
	for (size_t i = 0; i < k; i++) {
		const float *fi = Fz + i * D;
		double c = 0;

		for (size_t t = 0; t < D; t++)
			c += (double)fi[t] * mu[t];
		C[i] = c / (double)D + KERNEL_BIAS;
		for (size_t j = 0; j <= i; j++) {
			const float *fj = Fz + j * D;
			double s = 0;

			for (size_t t = 0; t < D; t++)
				s += (double)fi[t] * fj[t];
			Kzz[i * k + j] = Kzz[j * k + i] = s / (double)D + KERNEL_BIAS;
		}
	}
}

/* r = Fz' beta - mu; returns the MMD^2 |r|^2/D + 0.01 (sum beta - 1)^2. */
static double rf_residual(double *r, const float *Fz, const double *beta, const double *mu,
			  size_t k, size_t D)
{
	double sq = 0, bs = 0;

	for (size_t t = 0; t < D; t++)
		r[t] = -mu[t];
	for (size_t i = 0; i < k; i++) {
		bs += beta[i];
		for (size_t t = 0; t < D; t++)
			r[t] += beta[i] * Fz[i * D + t];
	}
	for (size_t t = 0; t < D; t++)
		sq += r[t] * r[t];
	return sq / (double)D + KERNEL_BIAS * (bs - 1) * (bs - 1);
}

static float *to_float(const double *x, size_t n)
{
	float *f = lw__mallocarray(n, sizeof(float));

	for (size_t i = 0; f && i < n; i++)
		f[i] = (float)x[i];
	return f;
}

int lw__rkme_image_rf_mmd(double *out, const double *z, const double *beta, size_t k,
			  const float *x, size_t n, size_t c, size_t nets, uint64_t seed,
			  const lw_rkme_image_net_config *cfg, double *beta_out)
{
	rf_bank bank;
	lw_rng rng;
	float *zf = NULL, *Fz = NULL;
	double *mu = NULL, *Kzz = NULL, *C = NULL, *r = NULL;
	const double *b = beta;
	z_plan zp = { 0 };
	int err;

	lw_rng_seed(&rng, seed);
	if ((err = bank_draw(&bank, &rng, nets, c, cfg)) < 0)
		return err;
	zf = to_float(z, k * c * PLANE);
	Fz = lw__mallocarray(k, bank.D * sizeof(float));
	mu = lw__mallocarray(bank.D, sizeof(double));
	r = lw__mallocarray(bank.D, sizeof(double));
	Kzz = lw__mallocarray(k, k * sizeof(double));
	C = lw__mallocarray(k, sizeof(double));
	if (!zf || !Fz || !mu || !r || !Kzz || !C) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = bank_mean(&bank, x, n, mu)) < 0 || (err = z_plan_init(&zp, &bank, k, 0)) < 0 ||
	    (err = bank_features(&bank, zf, Fz, &zp)) < 0)
		goto done;
	if (beta_out) {
		rf_kernel(Kzz, C, Fz, mu, k, bank.D);
		if ((err = lw_qp_simplex(beta_out, Kzz, C, k, NULL)) < 0)
			goto done;
		b = beta_out;
	}
	*out = rf_residual(r, Fz, b, mu, k, bank.D);
done:
	z_plan_dispose(&zp);
	bank_dispose(&bank);
	free(zf);
	free(Fz);
	free(mu);
	free(r);
	free(Kzz);
	free(C);
	return err;
}

int lw__rkme_image_rf_grad(double *grad, double *out, const double *z, const double *beta, size_t k,
			   const float *x, size_t n, size_t c, size_t nets, uint64_t seed,
			   const lw_rkme_image_net_config *cfg)
{
	size_t cells = k * c * PLANE;
	z_plan zp = { 0 };
	rf_bank bank;
	lw_rng rng;
	float *zf = NULL, *Fz = NULL, *dF = NULL, *dz = NULL, *dzn = NULL;
	double *mu = NULL, *r = NULL;
	int err;

	lw_rng_seed(&rng, seed);
	if ((err = bank_draw(&bank, &rng, nets, c, cfg)) < 0)
		return err;
	zf = to_float(z, cells);
	Fz = lw__mallocarray(k, bank.D * sizeof(float));
	dF = lw__mallocarray(k, bank.D * sizeof(float));
	dz = lw__mallocarray(cells, sizeof(float));
	dzn = lw__mallocarray(nets, cells * sizeof(float));
	mu = lw__mallocarray(bank.D, sizeof(double));
	r = lw__mallocarray(bank.D, sizeof(double));
	if (!zf || !Fz || !dF || !dz || !dzn || !mu || !r) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = bank_mean(&bank, x, n, mu)) < 0 || (err = z_plan_init(&zp, &bank, k, 1)) < 0 ||
	    (err = bank_features(&bank, zf, Fz, &zp)) < 0)
		goto done;
	*out = rf_residual(r, Fz, beta, mu, k, bank.D);
	for (size_t i = 0; i < k; i++)
		for (size_t t = 0; t < bank.D; t++)
			dF[i * bank.D + t] = (float)(2.0 * beta[i] * r[t] / (double)bank.D);
	if ((err = bank_backward(&bank, zf, k, &zp, dF, dzn, dz)) < 0)
		goto done;
	/* the (sum beta - 1)^2 term does not depend on z */
	for (size_t j = 0; j < cells; j++)
		grad[j] = dz[j];
done:
	z_plan_dispose(&zp);
	bank_dispose(&bank);
	free(zf);
	free(Fz);
	free(dF);
	free(dz);
	free(dzn);
	free(mu);
	free(r);
	return err;
}

/* ---- the fit ----------------------------------------------------------- */

typedef struct {
	const lw_rkme_image_options *o;
	const lw_image_batch *X; /* preprocessed sample, n x c x 32 x 32 */
	size_t k, c, cells;      /* cells: k * c * 32 * 32 */
	float *z;                /* the reduced points */
	double *m, *v;           /* Adam moments */
	unsigned long t;         /* Adam steps taken */
	double *beta;
	double objective;        /* the last random-feature MMD^2 */
	lw_rng nets_rng, batch_rng;
} fit_state;

static void state_dispose(fit_state *st)
{
	free(st->z);
	free(st->m);
	free(st->v);
	free(st->beta);
}

/* Starting points: k-means centres (seeded k-means++) or N(0, 1) noise. */
static int initial_points(fit_state *st)
{
	const lw_rkme_image_options *o = st->o;
	lw_rng rng;
	int err = 0;

	lw_rng_seed(&rng, o->seed ^ STREAM_INIT);
	if (o->init == LW_RKME_IMAGE_INIT_NOISE) {
		for (size_t i = 0; i < st->cells; i++)
			st->z[i] = (float)lw_rng_normal(&rng);
		return 0;
	}
	{
		lw_kmeans_options ko = LW_KMEANS_OPTIONS_INIT;
		size_t d = st->c * PLANE;
		lw_mat X = LW_MAT_INIT, centres = LW_MAT_INIT;

		/* The sample is in random order: its first images are a random subsample. */
		size_t rows = st->X->n < KMEANS_MAX ? st->X->n : KMEANS_MAX;

		ko.seed = o->seed ^ STREAM_INIT;
		ko.max_iter = KMEANS_ITER;
		if ((err = lw_mat_init(&X, rows, d)) < 0)
			return err;
		for (size_t i = 0; i < rows * d; i++)
			X.data[i] = st->X->data[i];
		if ((err = lw_kmeans(&centres, NULL, &X, st->k, &ko)) == 0)
			for (size_t i = 0; i < st->cells; i++)
				st->z[i] = (float)centres.data[i];
		lw_mat_dispose(&X);
		lw_mat_dispose(&centres);
	}
	return err;
}

/* The images of one round: a random batch, gathered, or all of them. */
static int round_batch(fit_state *st, float **buf, const float **x, size_t *n)
{
	size_t total = st->X->n, want = st->o->batch, stride = st->c * PLANE;
	size_t *idx;

	if (!want || want >= total) {
		*x = st->X->data;
		*n = total;
		return 0;
	}
	if (!*buf && !(*buf = lw__mallocarray(want, stride * sizeof(float))))
		return LW_ENOMEM;
	if (!(idx = lw__mallocarray(want, sizeof(size_t))))
		return LW_ENOMEM;
	if (lw_rng_sample(&st->batch_rng, idx, want, total) < 0) {
		free(idx);
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < want; i++)
		memcpy(*buf + i * stride, lw_image_batch_at(st->X, idx[i]), stride * sizeof(float));
	free(idx);
	*x = *buf;
	*n = want;
	return 0;
}

/* Scratch of the rounds, sized by the first bank (every bank has the same shape). */
typedef struct {
	float *Fz, *dF, *dz, *dzn;
	double *mu, *r, *Kzz, *C;
	int keep_tapes; /* every task's tape fits TAPE_BUDGET: record them with the features */
} round_buf;

static void round_buf_dispose(round_buf *rb)
{
	free(rb->Fz);
	free(rb->dF);
	free(rb->dz);
	free(rb->dzn);
	free(rb->mu);
	free(rb->r);
	free(rb->Kzz);
	free(rb->C);
	memset(rb, 0, sizeof(*rb));
}

static int round_buf_init(round_buf *rb, const rf_bank *bank, size_t k, size_t cells)
{
	const lw__rfnet *net = &bank->nets[0];
	size_t tape = 0;

	memset(rb, 0, sizeof(*rb));
	for (size_t l = 0; l < net->depth; l++)
		tape += net->width * k * (net->size >> l) * (net->size >> l) * sizeof(float);
	rb->keep_tapes = tape <= TAPE_BUDGET / bank->count;
	rb->Fz = lw__mallocarray(k, bank->D * sizeof(float));
	rb->dF = lw__mallocarray(k, bank->D * sizeof(float));
	rb->dz = lw__mallocarray(cells, sizeof(float));
	rb->dzn = lw__mallocarray(bank->count, cells * sizeof(float));
	rb->mu = lw__mallocarray(bank->D, sizeof(double));
	rb->r = lw__mallocarray(bank->D, sizeof(double));
	rb->Kzz = lw__mallocarray(k, k * sizeof(double));
	rb->C = lw__mallocarray(k, sizeof(double));
	if (!rb->Fz || !rb->dF || !rb->dz || !rb->dzn || !rb->mu || !rb->r || !rb->Kzz || !rb->C)
		return LW_ENOMEM;
	return 0;
}

/*
 * One optimiser step on z with the round's networks and mean features:
 * features of z, beta by the QP, the gradient, an Adam step.
 *
 * The gradient of MMD^2 = |Fz' beta - mu|^2 / D with respect to z_i is
 * J_i' (2 beta_i r / D), J_i the Jacobian of z_i's features.  The step
 * uses 2 r / (K D) in place of 2 beta_i r / D: per point, the gradient
 * divided by K beta_i.  Adam divides each coordinate's step by its own
 * running scale, and each coordinate belongs to one point, so a factor per
 * point changes little where beta_i > 0.  Where the QP leaves beta_i = 0
 * the exact gradient vanishes and the point would never move again; with
 * the scaled gradient it descends the witness function f(z_i) . r and
 * becomes worth weighting.
 */
static int z_step(fit_state *st, const rf_bank *bank, round_buf *rb)
{
	size_t k = st->k, D = bank->D;
	double lr = st->o->step_size, b1t, b2t;
	z_plan zp;
	int err;

	if ((err = z_plan_init(&zp, bank, k, rb->keep_tapes)) < 0)
		return err;
	if ((err = bank_features(bank, st->z, rb->Fz, &zp)) < 0)
		goto done;
	rf_kernel(rb->Kzz, rb->C, rb->Fz, rb->mu, k, D);
	if ((err = lw_qp_simplex(st->beta, rb->Kzz, rb->C, k, NULL)) < 0)
		goto done;
	st->objective = rf_residual(rb->r, rb->Fz, st->beta, rb->mu, k, D);
	for (size_t i = 0; i < k; i++)
		for (size_t t = 0; t < D; t++)
			rb->dF[i * D + t] = (float)(2.0 * rb->r[t] / ((double)k * (double)D));
	if ((err = bank_backward(bank, st->z, k, &zp, rb->dF, rb->dzn, rb->dz)) < 0)
		goto done;
	/* Adam */
	st->t++;
	b1t = 1 - pow(ADAM_B1, (double)st->t);
	b2t = 1 - pow(ADAM_B2, (double)st->t);
	for (size_t i = 0; i < st->cells; i++) {
		double g = rb->dz[i];

		st->m[i] = ADAM_B1 * st->m[i] + (1 - ADAM_B1) * g;
		st->v[i] = ADAM_B2 * st->v[i] + (1 - ADAM_B2) * g * g;
		st->z[i] -= (float)(lr * (st->m[i] / b1t) / (sqrt(st->v[i] / b2t) + ADAM_EPS));
	}
done:
	z_plan_dispose(&zp);
	return err;
}

static int optimise(fit_state *st)
{
	const lw_rkme_image_options *o = st->o;
	float *batch_buf = NULL;
	round_buf rb = { 0 };
	rf_bank bank = { 0 };
	int err = 0;

	for (unsigned int s = 0; s < o->steps && err == 0; s++) {
		const float *x;
		size_t n;

		if ((err = report(o, "optimising reduced set", (double)s / o->steps)) < 0 ||
		    (err = bank_draw(&bank, &st->nets_rng, o->n_models, st->c, &o->model_config)) < 0)
			break;
		if (!rb.Fz && (err = round_buf_init(&rb, &bank, st->k, st->cells)) < 0)
			break;
		if ((err = round_batch(st, &batch_buf, &x, &n)) < 0 ||
		    (err = bank_mean(&bank, x, n, rb.mu)) < 0)
			break;
		for (unsigned int it = 0; it < o->inner && err == 0; it++)
			err = z_step(st, &bank, &rb);
		bank_dispose(&bank);
	}
	bank_dispose(&bank);
	round_buf_dispose(&rb);
	free(batch_buf);
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory fitting the image specification");
	return err;
}

/* beta by the simplex QP in the cnn_gp kernel against the whole sample. */
static int final_beta(fit_state *st, double *beta, const double *z)
{
	const lw_rkme_image_options *o = st->o;
	lw__gp_set gz = { 0 }, gx = { 0 };
	double *Kzz = lw__mallocarray(st->k, st->k * sizeof(double));
	double *C = lw__mallocarray(st->k, sizeof(double));
	size_t depth = o->model_config.net_depth;
	int err;

	if (!Kzz || !C) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = report(o, "weighting the reduced set", 0)) < 0 ||
	    (err = lw__gp_set_init(&gz, z, st->k, st->c, SIDE, depth)) < 0 ||
	    (err = lw__gp_set_init_f(&gx, st->X->data, st->X->n, st->c, SIDE, depth)) < 0 ||
	    (err = lw__gp_cross(Kzz, &gz, &gz, 1)) < 0 || (err = lw__gp_row_means(C, &gz, &gx)) < 0 ||
	    (err = lw_qp_simplex(beta, Kzz, C, st->k, NULL)) < 0)
		goto done;
	err = report(o, "weighting the reduced set", 1);
done:
	lw__gp_set_dispose(&gz);
	lw__gp_set_dispose(&gx);
	free(Kzz);
	free(C);
	return err;
}

static int check_options(const lw_rkme_image_options *o)
{
	int err;

	if (o->k == 0 || o->n_models == 0 || o->sample_size == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "K, n_models and the sample size must be at least 1");
		return LW_EINVALID;
	}
	if (!(o->step_size >= 0) || !isfinite(o->step_size)) {
		lw_error_set(LW_ERRCLASS_INVALID, "step size must be >= 0, got %g", o->step_size);
		return LW_EINVALID;
	}
	if (o->init != LW_RKME_IMAGE_INIT_KMEANS && o->init != LW_RKME_IMAGE_INIT_NOISE) {
		lw_error_set(LW_ERRCLASS_INVALID, "unknown initialisation %d", (int)o->init);
		return LW_EINVALID;
	}
	if ((err = check_config(&o->model_config)) < 0)
		return err;
	return 0;
}

/* The reference's rule for few images (as the table RKME's): K < n. */
static size_t effective_k(size_t k, size_t n)
{
	if (k >= n) {
		k = 2 * n / 3;
		if (k < 1)
			k = 1;
	}
	return k;
}

int lw_rkme_image_fit(lw_rkme_image **out, const lw_image_batch *X, const lw_rkme_image_options *opts)
{
	lw_rkme_image_options o = LW_RKME_IMAGE_OPTIONS_INIT;
	lw_image_batch sample = LW_IMAGE_BATCH_INIT;
	fit_state st;
	size_t *keep = NULL, m;
	double *zd = NULL, *beta = NULL;
	lw_rng rng;
	int err;

	LW_ASSERT_ARG(out && X);
	*out = NULL;
	memset(&st, 0, sizeof(st));
	if (opts)
		o = *opts;
	if ((err = check_options(&o)) < 0 || (err = check_batch(X)) < 0)
		return err;
	/*
	 * The subsample, drawn before anything else so that a seed keeps it, in
	 * random order even when every image is kept: k-means uses the first ones.
	 */
	m = X->n < o.sample_size ? X->n : o.sample_size;
	lw_rng_seed(&rng, o.seed ^ STREAM_SAMPLE);
	if (!(keep = lw__mallocarray(m, sizeof(size_t))) || lw_rng_sample(&rng, keep, m, X->n) < 0) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = report(&o, "preprocessing", 0)) < 0 ||
	    (err = preprocess(&sample, X, o.whitening, keep, m)) < 0)
		goto done;
	st.o = &o;
	st.X = &sample;
	st.c = X->c;
	st.k = effective_k(o.k, m);
	st.cells = st.k * st.c * PLANE;
	lw_rng_seed(&st.nets_rng, o.seed ^ STREAM_NETS);
	lw_rng_seed(&st.batch_rng, o.seed ^ STREAM_BATCH);
	if (!(st.z = lw__mallocarray(st.cells, sizeof(float))) ||
	    !(st.m = lw__calloc(st.cells, sizeof(double))) ||
	    !(st.v = lw__calloc(st.cells, sizeof(double))) ||
	    !(st.beta = lw__mallocarray(st.k, sizeof(double))) ||
	    !(zd = lw__mallocarray(st.cells, sizeof(double))) ||
	    !(beta = lw__mallocarray(st.k, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < st.k; i++)
		st.beta[i] = 1.0 / (double)st.k;
	if ((err = report(&o, "initial points", 0)) < 0 || (err = initial_points(&st)) < 0 ||
	    (err = optimise(&st)) < 0)
		goto done;
	for (size_t i = 0; i < st.cells; i++)
		zd[i] = st.z[i];
	if ((err = final_beta(&st, beta, zd)) < 0 ||
	    (err = lw_rkme_image_new(out, zd, beta, st.k, st.c, o.n_models, &o.model_config)) < 0)
		goto done;
done:
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory fitting the image specification");
	state_dispose(&st);
	lw_image_batch_dispose(&sample);
	free(keep);
	free(zd);
	free(beta);
	return err;
}
