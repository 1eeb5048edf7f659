/*
 * Random convolutional feature networks of the image RKME (the reference's
 * _ConvNet_wide): `depth` blocks of conv 3x3 (padding 1) to `width`
 * channels, ReLU and 2x2 average pooling; the features of an image are the
 * last block's output, flattened channel by channel.
 *
 * Convolutions are im2col + cblas_sgemm in float32 (as the reference runs
 * them).  Inside a chunk of images activations are stored channel-major
 * over the chunk, C x (images x H x W), so one GEMM convolves the whole
 * chunk.  The backward pass computes the gradient with respect to the
 * input images only (the weights are fixed): pool, ReLU and im2col each
 * have an exact adjoint.
 *
 * Everything here runs on the calling thread: the callers (rkme_image.c)
 * run networks and ranges of images in parallel, tasks large enough that
 * threads do not spend their time meeting at barriers, and OpenBLAS runs
 * single-threaded inside them.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "rkme_image.h"
#include "util.h"

/* Floats an im2col buffer or a layer output may take per chunk (64 MiB). */
#define CHUNK_FLOATS ((size_t)1 << 24)

void lw__rfnet_dispose(lw__rfnet *net)
{
	if (!net)
		return;
	for (size_t l = 0; net->w && l < net->depth; l++)
		free(net->w[l]);
	for (size_t l = 0; net->b && l < net->depth; l++)
		free(net->b[l]);
	free(net->w);
	free(net->b);
	memset(net, 0, sizeof(*net));
}

int lw__rfnet_draw(lw__rfnet *net, lw_rng *rng, size_t in_c, size_t size,
		   const lw_rkme_image_net_config *cfg)
{
	memset(net, 0, sizeof(*net));
	net->in_c = in_c;
	net->width = cfg->k * cfg->net_width;
	net->depth = cfg->net_depth;
	net->size = size;
	if (!(net->w = lw__calloc(net->depth, sizeof(float *))) ||
	    !(net->b = lw__calloc(net->depth, sizeof(float *))))
		goto nomem;
	for (size_t l = 0; l < net->depth; l++) {
		size_t cin = l ? net->width : in_c, fan = cin * 9;
		double sd = cfg->sigma > 0 ? cfg->sigma : sqrt(2.0) / sqrt((double)fan);

		if (!(net->w[l] = lw__mallocarray(net->width, fan * sizeof(float))) ||
		    !(net->b[l] = lw__mallocarray(net->width, sizeof(float))))
			goto nomem;
		for (size_t i = 0; i < net->width * fan; i++)
			net->w[l][i] = (float)(cfg->mu + sd * lw_rng_normal(rng));
		for (size_t i = 0; i < net->width; i++)
			net->b[l][i] = (float)(0.1 * lw_rng_normal(rng));
	}
	return 0;
nomem:
	lw__rfnet_dispose(net);
	return LW_ENOMEM;
}

size_t lw__rfnet_features(const lw__rfnet *net)
{
	size_t s = net->size >> net->depth;

	return net->width * s * s;
}

void lw__rftape_dispose(lw__rftape *t)
{
	if (!t || !t->relu)
		return;
	for (size_t l = 0; t->relu[l]; l++)
		free(t->relu[l]);
	free(t->relu);
	memset(t, 0, sizeof(*t));
}

/* Images per chunk: keeps every per-chunk buffer under CHUNK_FLOATS. */
static size_t chunk_images(const lw__rfnet *net, size_t n)
{
	size_t per = 0, cb;

	for (size_t l = 0; l < net->depth; l++) {
		size_t s = net->size >> l, cin = l ? net->width : net->in_c;
		size_t cols = cin * 9 * s * s, out = net->width * s * s;

		per = cols > per ? cols : per;
		per = out > per ? out : per;
	}
	cb = CHUNK_FLOATS / per;
	if (cb < 1)
		cb = 1;
	return cb < n ? cb : n;
}

/* cols ((cin 9) x (m s s)) from a (cin x m x s x s), zero padding 1. */
static void im2col(float *cols, const float *a, size_t cin, size_t m, size_t s)
{
	size_t plane = s * s, ncol = m * plane;

	for (size_t r = 0; r < cin * 9; r++) {
		size_t c = r / 9, ky = r % 9 / 3, kx = r % 3;
		float *dst = cols + r * ncol;
		const float *src = a + c * ncol;

		for (size_t b = 0; b < m; b++)
			for (size_t y = 0; y < s; y++) {
				float *d = dst + b * plane + y * s;
				long sy = (long)y + (long)ky - 1;
				const float *row;

				if (sy < 0 || sy >= (long)s) {
					memset(d, 0, s * sizeof(float));
					continue;
				}
				row = src + b * plane + (size_t)sy * s;
				if (kx == 1) {
					memcpy(d, row, s * sizeof(float));
				} else if (kx == 0) { /* d[x] = row[x - 1] */
					d[0] = 0.0f;
					memcpy(d + 1, row, (s - 1) * sizeof(float));
				} else { /* d[x] = row[x + 1] */
					memcpy(d, row + 1, (s - 1) * sizeof(float));
					d[s - 1] = 0.0f;
				}
			}
	}
}

/* The adjoint of im2col: da (cin x m x s x s) = sum of dcols over the taps. */
static void col2im(float *da, const float *dcols, size_t cin, size_t m, size_t s)
{
	size_t plane = s * s, ncol = m * plane;

	for (size_t c = 0; c < cin; c++) {
		float *dst = da + c * ncol;

		memset(dst, 0, ncol * sizeof(float));
		for (size_t k = 0; k < 9; k++) {
			size_t ky = k / 3, kx = k % 3;
			const float *src = dcols + (c * 9 + k) * ncol;

			for (size_t b = 0; b < m; b++)
				for (size_t y = 0; y < s; y++) {
					long ty = (long)y + (long)ky - 1;
					float *d;
					const float *g;

					if (ty < 0 || ty >= (long)s)
						continue;
					d = dst + b * plane + (size_t)ty * s;
					g = src + b * plane + y * s;
					if (kx == 1) {
						for (size_t x = 0; x < s; x++)
							d[x] += g[x];
					} else if (kx == 0) { /* column x fed d[x - 1] */
						for (size_t x = 1; x < s; x++)
							d[x - 1] += g[x];
					} else { /* column x fed d[x + 1] */
						for (size_t x = 0; x + 1 < s; x++)
							d[x + 1] += g[x];
					}
				}
		}
	}
}

/*
 * Bias and ReLU in place on the convolution's output (width x m x s x s),
 * then its 2x2 means into pooled: one pass over each image plane while it
 * is in cache.
 */
static void bias_relu_pool(float *pooled, float *out, const float *bias, size_t width, size_t m,
			   size_t s)
{
	size_t plane = s * s, h = s / 2;

	for (size_t r = 0; r < width * m; r++) {
		float b = bias[r / m], *src = out + r * plane, *dst = pooled + r * h * h;

		for (size_t p = 0; p < plane; p++) {
			float v = src[p] + b;

			src[p] = v > 0 ? v : 0;
		}
		for (size_t y = 0; y < h; y++)
			for (size_t x = 0; x < h; x++) {
				const float *q = src + 2 * y * s + 2 * x;

				dst[y * h + x] = 0.25f * (q[0] + q[1] + q[s] + q[s + 1]);
			}
	}
}

/* Buffers of one chunk, sized for the largest layer. */
typedef struct {
	float *a, *cols, *out;
	size_t cap_a, cap_cols, cap_out;
} chunk_buf;

static int chunk_buf_init(chunk_buf *cb, const lw__rfnet *net, size_t m)
{
	memset(cb, 0, sizeof(*cb));
	for (size_t l = 0; l < net->depth; l++) {
		size_t s = net->size >> l, cin = l ? net->width : net->in_c;

		if (cin * m * s * s > cb->cap_a)
			cb->cap_a = cin * m * s * s;
		if (cin * 9 * m * s * s > cb->cap_cols)
			cb->cap_cols = cin * 9 * m * s * s;
		if (net->width * m * s * s > cb->cap_out)
			cb->cap_out = net->width * m * s * s;
	}
	if (!(cb->a = lw__mallocarray(cb->cap_a, sizeof(float))) ||
	    !(cb->cols = lw__mallocarray(cb->cap_cols, sizeof(float))) ||
	    !(cb->out = lw__mallocarray(cb->cap_out, sizeof(float))))
		return LW_ENOMEM;
	return 0;
}

static void chunk_buf_dispose(chunk_buf *cb)
{
	free(cb->a);
	free(cb->cols);
	free(cb->out);
}

/*
 * One chunk of m images forward; the last block's pooled output is left in
 * cb->a (width x m x P).  relu[l], when given, receives each ReLU output.
 */
static void forward_chunk(const lw__rfnet *net, const float *x, size_t m, chunk_buf *cb,
			  float *const *relu)
{
	size_t plane = net->size * net->size;

	/* N x C x H x W -> C x N x H x W */
	for (size_t c = 0; c < net->in_c; c++)
		for (size_t b = 0; b < m; b++)
			memcpy(cb->a + (c * m + b) * plane, x + (b * net->in_c + c) * plane,
			       plane * sizeof(float));
	for (size_t l = 0; l < net->depth; l++) {
		size_t s = net->size >> l, cin = l ? net->width : net->in_c, ncol = m * s * s;
		float *out = relu ? relu[l] : cb->out;

		im2col(cb->cols, cb->a, cin, m, s);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)net->width, (int)ncol,
			    (int)(cin * 9), 1.0f, net->w[l], (int)(cin * 9), cb->cols, (int)ncol, 0.0f,
			    out, (int)ncol);
		bias_relu_pool(cb->a, out, net->b[l], net->width, m, s);
	}
}

static int alloc_tape(lw__rftape *t, const lw__rfnet *net, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->n = n;
	if (!(t->relu = lw__calloc(net->depth + 1, sizeof(float *))))
		return LW_ENOMEM;
	for (size_t l = 0; l < net->depth; l++) {
		size_t s = net->size >> l;

		if (!(t->relu[l] = lw__mallocarray(net->width * n, s * s * sizeof(float)))) {
			lw__rftape_dispose(t);
			return LW_ENOMEM;
		}
	}
	return 0;
}

/* The tape's ReLU outputs of the chunk starting at image i0 (m images). */
static void tape_slices(float **out, const lw__rftape *t, const lw__rfnet *net, size_t i0,
			size_t m)
{
	(void)m;
	for (size_t l = 0; l < net->depth; l++) {
		size_t s = net->size >> l;

		out[l] = t->relu[l] + net->width * i0 * s * s;
	}
}

int lw__rfnet_forward(const lw__rfnet *net, const float *x, size_t n, float *feat, size_t ld,
		      lw__rftape *tape)
{
	size_t m = chunk_images(net, n), fs = net->size >> net->depth, P = fs * fs;
	float **slices = NULL;
	chunk_buf cb;
	int err;

	if (tape && (err = alloc_tape(tape, net, n)) < 0)
		return err;
	if ((err = chunk_buf_init(&cb, net, m)) < 0 ||
	    (tape && !(slices = lw__calloc(net->depth, sizeof(float *))))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i0 = 0; i0 < n; i0 += m) {
		size_t mm = n - i0 < m ? n - i0 : m;

		if (tape)
			tape_slices(slices, tape, net, i0, mm);
		forward_chunk(net, x + i0 * net->in_c * net->size * net->size, mm, &cb, slices);
		/* width x mm x P -> mm rows of width*P features */
		for (size_t b = 0; b < mm; b++)
			for (size_t c = 0; c < net->width; c++)
				memcpy(feat + (i0 + b) * ld + c * P, cb.a + (c * mm + b) * P,
				       P * sizeof(float));
	}
done:
	chunk_buf_dispose(&cb);
	free(slices);
	if (err < 0 && tape)
		lw__rftape_dispose(tape);
	return err;
}

int lw__rfnet_sum(const lw__rfnet *net, const float *x, size_t n, double *sum)
{
	size_t m = chunk_images(net, n), fs = net->size >> net->depth, P = fs * fs;
	chunk_buf cb;
	int err;

	if ((err = chunk_buf_init(&cb, net, m)) < 0)
		goto done;
	for (size_t i0 = 0; i0 < n; i0 += m) {
		size_t mm = n - i0 < m ? n - i0 : m;

		forward_chunk(net, x + i0 * net->in_c * net->size * net->size, mm, &cb, NULL);
		for (size_t c = 0; c < net->width; c++)
			for (size_t b = 0; b < mm; b++)
				for (size_t p = 0; p < P; p++)
					sum[c * P + p] += cb.a[(c * mm + b) * P + p];
	}
done:
	chunk_buf_dispose(&cb);
	return err;
}

int lw__rfnet_backward(const lw__rfnet *net, const lw__rftape *tape, const float *dfeat,
		       size_t ld, float *dx)
{
	size_t n = tape->n, m = chunk_images(net, n), fs = net->size >> net->depth, P = fs * fs;
	size_t plane = net->size * net->size;
	float **relu = NULL;
	chunk_buf cb;
	int err;

	if ((err = chunk_buf_init(&cb, net, m)) < 0 ||
	    !(relu = lw__calloc(net->depth, sizeof(float *)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i0 = 0; i0 < n; i0 += m) {
		size_t mm = n - i0 < m ? n - i0 : m;

		tape_slices(relu, tape, net, i0, mm);
		/* d(pooled output), width x mm x P, from the feature rows */
		for (size_t b = 0; b < mm; b++)
			for (size_t c = 0; c < net->width; c++)
				memcpy(cb.a + (c * mm + b) * P, dfeat + (i0 + b) * ld + c * P,
				       P * sizeof(float));
		for (size_t l = net->depth; l-- > 0;) {
			size_t s = net->size >> l, h = s / 2, cin = l ? net->width : net->in_c;
			size_t ncol = mm * s * s;
			const float *r = relu[l];

			/* through the pool and the ReLU: dp = (da / 4 upsampled) * [r > 0] */
			for (size_t row = 0; row < net->width * mm; row++)
				for (size_t y = 0; y < s; y++) {
					const float *up = cb.a + row * h * h + (y / 2) * h, *rr = r + (row * s + y) * s;
					float *dp = cb.out + (row * s + y) * s;

					for (size_t x = 0; x < s; x++)
						dp[x] = rr[x] > 0 ? 0.25f * up[x / 2] : 0.0f;
				}
			/* through the convolution: dcols = W' dp, then col2im */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(cin * 9), (int)ncol,
				    (int)net->width, 1.0f, net->w[l], (int)(cin * 9), cb.out, (int)ncol,
				    0.0f, cb.cols, (int)ncol);
			col2im(cb.a, cb.cols, cin, mm, s);
		}
		/* C x mm x H x W -> mm x C x H x W */
		for (size_t c = 0; c < net->in_c; c++)
			for (size_t b = 0; b < mm; b++)
				memcpy(dx + ((i0 + b) * net->in_c + c) * plane, cb.a + (c * mm + b) * plane,
				       plane * sizeof(float));
	}
done:
	chunk_buf_dispose(&cb);
	free(relu);
	return err;
}
