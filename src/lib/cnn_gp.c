/*
 * The convolutional NNGP kernel of the reference engine's search
 * (learnware/specification/regular/image/cnn_gp.py, after Garriga-Alonso,
 * Aitchison and Rasmussen, "Deep Convolutional Networks as shallow Gaussian
 * Processes", ICLR 2019), in double precision.
 *
 * For images x, y (C x S x S) the kernel tracks three maps per position:
 * xy, xx and yy, starting from channel means of x*y, x*x and y*y.  Then
 * `depth` times:
 *   conv 3x3 "same":  m <- (sqrt 2 / 9) * (3x3 sum of m, zero padded) + 0.1
 *   ReLU:             xy <- (sqrt(max(xx yy - xy^2, 0)) + (pi - theta) xy) / 2 pi,
 *                     theta = acos(clamp(xy / sqrt(xx yy + tiny), -1, 1)),
 *                     xx <- xx / 2, yy <- yy / 2
 *   conv 2x2 stride 2 (var_w 1, no bias): the mean of each 2x2 block
 * and a last conv over the remaining (S / 2^depth)^2 positions: their mean.
 * The result is the final xy.  For the kernel of a set with itself the
 * reference sets the diagonal to xx after every ReLU, i.e. k(x, x) is the
 * xx chain; off the diagonal nothing changes.
 *
 * xx and yy depend on one image each, so a prepared set keeps every
 * image's maps before each ReLU and a pair costs only its xy chain.
 */
#include <math.h>
#include <string.h>

#include "rkme_image.h"
#include "util.h"

#define GP_PI 3.14159265358979323846
#define GP_VAR_W 1.4142135623730951 /* the reference's var_weight = sqrt(2) */
#define GP_VAR_B 0.1
#define GP_TINY 1.1754943508222875e-38 /* np.finfo(np.float32).tiny */
#define GP_MAX_DEPTH 10

/*
 * out = (sqrt 2 / 9) * zero-padded 3x3 box sum of m (s x s) + 0.1, as a
 * horizontal then a vertical 3-sum (row sums in out, then combined).
 */
static void conv3(double *out, const double *m, size_t s, double *rows)
{
	const double scale = GP_VAR_W / 9.0;

	for (size_t y = 0; y < s; y++) {
		const double *src = m + y * s;
		double *dst = rows + y * s;

		dst[0] = src[0] + (s > 1 ? src[1] : 0);
		for (size_t x = 1; x + 1 < s; x++)
			dst[x] = src[x - 1] + src[x] + src[x + 1];
		if (s > 1)
			dst[s - 1] = src[s - 2] + src[s - 1];
	}
	for (size_t y = 0; y < s; y++) {
		const double *up = y > 0 ? rows + (y - 1) * s : NULL, *mid = rows + y * s,
			     *dn = y + 1 < s ? rows + (y + 1) * s : NULL;
		double *dst = out + y * s;

		if (up && dn) {
#pragma omp simd
			for (size_t x = 0; x < s; x++)
				dst[x] = scale * (up[x] + mid[x] + dn[x]) + GP_VAR_B;
		} else {
			const double *other = up ? up : dn;

			for (size_t x = 0; x < s; x++)
				dst[x] = scale * (mid[x] + (other ? other[x] : 0)) + GP_VAR_B;
		}
	}
}

/* out (s/2 x s/2) = mean of each 2x2 block of m (s x s). */
static void pool2(double *out, const double *m, size_t s)
{
	size_t h = s / 2;

	for (size_t y = 0; y < h; y++)
		for (size_t x = 0; x < h; x++) {
			const double *r0 = m + 2 * y * s + 2 * x, *r1 = r0 + s;

			out[y * h + x] = 0.25 * (r0[0] + r0[1] + r1[0] + r1[1]);
		}
}

static double mean_of(const double *m, size_t len)
{
	double s = 0;

	for (size_t i = 0; i < len; i++)
		s += m[i];
	return s / (double)len;
}

/* clang 14 emits target_clones without their ifunc on ELF: plain code there. */
#if defined(__GNUC__) && !defined(__clang__)
#define GP_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GP_CLONES
#endif

/*
 * acos(c) for c in [-1, 1] without branches, so the loop below becomes SIMD
 * code: asin(t) = t + t^3 P(t^2) on [0, 1/2] (P a degree-12 least-squares
 * fit to the Taylor series, within 1.2e-15), and for |c| > 1/2
 * acos|c| = 2 asin(sqrt((1 - |c|) / 2)).  Within 2e-15 of libm
 * (tests/unit/test_rkme_image.c).
 */
static inline double acos_poly(double c)
{
	double a = fabs(c), big = a > 0.5;
	double z = big ? 0.5 * (1.0 - a) : a * a;
	double t = big ? sqrt(z) : a;
	double p = 0.00671560854157089;

	p = p * z + 0.009022625963400022;
	p = p * z + 0.008378029459029454;
	p = p * z + 0.006084898955810475;
	p = p * z + 0.01091131197292072;
	p = p * z + 0.01125561254888188;
	p = p * z + 0.014010283421029661;
	p = p * z + 0.01734846039240778;
	p = p * z + 0.022372407435379455;
	p = p * z + 0.030381936205739604;
	p = p * z + 0.04464285728170519;
	p = p * z + 0.07499999999909297;
	p = p * z + 0.16666666666666768;
	p = t + t * z * p; /* asin(t) */
	{
		double r = big ? 2.0 * p : 0.5 * GP_PI - p; /* acos(a) */

		return c < 0 ? GP_PI - r : r;
	}
}

double lw__gp_acos(double c)
{
	return acos_poly(c);
}

/* The arc-cosine update of one map in place, given both variance maps. */
GP_CLONES
static void relu_xy(double *xy, const double *vx, const double *vy, size_t len)
{
	const double inv2pi = 1.0 / (2.0 * GP_PI);

#pragma omp simd
	for (size_t p = 0; p < len; p++) {
		double xxyy = vx[p] * vy[p] + GP_TINY;
		double v = xy[p];
		double c = v / sqrt(xxyy);
		double s2 = xxyy - v * v;

		c = c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
		xy[p] = (sqrt(s2 > 0 ? s2 : 0.0) + (GP_PI - acos_poly(c)) * v) * inv2pi;
	}
}

static size_t var_len(size_t size, size_t depth)
{
	size_t len = 0;

	for (size_t l = 0; l < depth; l++)
		len += (size >> l) * (size >> l);
	return len;
}

/* Channel mean of a * b per position. */
static void channel_mean(double *out, const double *a, const double *b, size_t c, size_t plane)
{
	double inv = 1.0 / (double)c;

#pragma omp simd
	for (size_t p = 0; p < plane; p++)
		out[p] = a[p] * b[p];
	for (size_t ch = 1; ch < c; ch++) {
		const double *pa = a + ch * plane, *pb = b + ch * plane;

#pragma omp simd
		for (size_t p = 0; p < plane; p++)
			out[p] += pa[p] * pb[p];
	}
	if (c > 1)
		for (size_t p = 0; p < plane; p++)
			out[p] *= inv;
}

/* Variance maps of one image and its self-kernel value; scratch 3 size^2. */
static double image_maps(double *var, const double *x, size_t c, size_t size, size_t depth,
			 double *scratch)
{
	double *m = scratch, *t = scratch + size * size, *rows = t + size * size;
	size_t s = size;

	channel_mean(m, x, x, c, size * size);
	for (size_t l = 0; l < depth; l++, s /= 2) {
		conv3(var, m, s, rows);
		for (size_t p = 0; p < s * s; p++)
			t[p] = var[p] / 2.0;
		pool2(m, t, s);
		var += s * s;
	}
	return mean_of(m, s * s);
}

/* k(x_i, y_j) through the xy chain; scratch 3 size^2. */
static double pair(const lw__gp_set *a, size_t i, const lw__gp_set *b, size_t j, double *scratch)
{
	size_t size = a->size, plane = size * size, s = size;
	const double *va = a->var + i * a->var_len, *vb = b->var + j * b->var_len;
	double *m = scratch, *t = scratch + plane, *rows = t + plane;

	channel_mean(m, a->x + i * a->c * plane, b->x + j * b->c * plane, a->c, plane);
	for (size_t l = 0; l < a->depth; l++, s /= 2) {
		conv3(t, m, s, rows);
		relu_xy(t, va, vb, s * s);
		pool2(m, t, s);
		va += s * s;
		vb += s * s;
	}
	return mean_of(m, s * s);
}

static int check_shape(size_t c, size_t size, size_t depth)
{
	if (depth < 1 || depth > GP_MAX_DEPTH || size == 0 || c == 0 ||
	    size % ((size_t)1 << depth) != 0) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "cnn_gp kernel: %zu x %zu images with %zu channels do not fit a depth of "
			     "%zu (the side must be a multiple of 2^depth, depth 1 to %d)",
			     size, size, c, depth, GP_MAX_DEPTH);
		return LW_EINVALID;
	}
	return 0;
}

static int set_alloc(lw__gp_set *s, size_t n, size_t c, size_t size, size_t depth)
{
	size_t cells;

	memset(s, 0, sizeof(*s));
	if (check_shape(c, size, depth) < 0)
		return LW_EINVALID;
	s->n = n;
	s->c = c;
	s->size = size;
	s->depth = depth;
	s->var_len = var_len(size, depth);
	if (!lw__mul_ok(&cells, n, c * size * size) ||
	    !(s->x = lw__mallocarray(cells ? cells : 1, sizeof(double))) ||
	    !(s->var = lw__mallocarray(n ? n : 1, s->var_len * sizeof(double))) ||
	    !(s->self = lw__mallocarray(n ? n : 1, sizeof(double)))) {
		lw__gp_set_dispose(s);
		return LW_ENOMEM;
	}
	return 0;
}

static int set_maps(lw__gp_set *s)
{
	int failed = 0;

#pragma omp parallel if (s->n > 8)
	{
		double *scratch = malloc(3 * s->size * s->size * sizeof(double));

#pragma omp for schedule(static)
		for (size_t i = 0; i < s->n; i++)
			if (scratch)
				s->self[i] = image_maps(s->var + i * s->var_len,
							s->x + i * s->c * s->size * s->size, s->c,
							s->size, s->depth, scratch);
		if (!scratch) {
#pragma omp atomic write
			failed = 1;
		}
		free(scratch);
	}
	if (failed) {
		lw__gp_set_dispose(s);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory in the cnn_gp kernel");
		return LW_ENOMEM;
	}
	return 0;
}

int lw__gp_set_init(lw__gp_set *s, const double *x, size_t n, size_t c, size_t size, size_t depth)
{
	int err;

	if ((err = set_alloc(s, n, c, size, depth)) < 0)
		return err;
	memcpy(s->x, x, n * c * size * size * sizeof(double));
	return set_maps(s);
}

int lw__gp_set_init_f(lw__gp_set *s, const float *x, size_t n, size_t c, size_t size,
		      size_t depth)
{
	int err;

	if ((err = set_alloc(s, n, c, size, depth)) < 0)
		return err;
	for (size_t i = 0; i < n * c * size * size; i++)
		s->x[i] = x[i];
	return set_maps(s);
}

void lw__gp_set_dispose(lw__gp_set *s)
{
	if (!s)
		return;
	free(s->x);
	free(s->var);
	free(s->self);
	memset(s, 0, sizeof(*s));
}

static int check_pair_sets(const lw__gp_set *a, const lw__gp_set *b)
{
	if (a->c != b->c || a->size != b->size || a->depth != b->depth) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "cnn_gp kernel between %zu-channel %zux%zu images (depth %zu) and "
			     "%zu-channel %zux%zu images (depth %zu)",
			     a->c, a->size, a->size, a->depth, b->c, b->size, b->size, b->depth);
		return LW_EINVALID;
	}
	return 0;
}

/* Images of b handled together, so that they stay in cache across a's. */
#define GP_TILE 16

/*
 * out (a->n x b->n) = k(a_i, b_j).  With `same`, a and b are one set:
 * the diagonal is the self-kernel and the lower triangle a copy.  Pairs run
 * in parallel, a tile of b's images against every image of a at a time.
 */
int lw__gp_cross(double *out, const lw__gp_set *a, const lw__gp_set *b, int same)
{
	size_t na = a->n, nb = b->n, tiles = (nb + GP_TILE - 1) / GP_TILE, work = tiles * na;
	int failed = 0, err;

	if ((err = check_pair_sets(a, b)) < 0)
		return err;
#pragma omp parallel if (na * nb > 4)
	{
		double *scratch = malloc(3 * a->size * a->size * sizeof(double));

#pragma omp for schedule(dynamic, 4)
		for (size_t q = 0; q < work; q++) {
			size_t t = q / na, i = q % na, j1 = (t + 1) * GP_TILE < nb ? (t + 1) * GP_TILE : nb;

			for (size_t j = t * GP_TILE; scratch && j < j1; j++) {
				if (same && j < i)
					continue;
				out[i * nb + j] = same && i == j ? a->self[i] : pair(a, i, b, j, scratch);
			}
		}
		if (!scratch) {
#pragma omp atomic write
			failed = 1;
		}
		free(scratch);
	}
	if (failed) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory in the cnn_gp kernel");
		return LW_ENOMEM;
	}
	if (same)
		for (size_t i = 0; i < na; i++)
			for (size_t j = 0; j < i; j++)
				out[i * nb + j] = out[j * nb + i];
	return 0;
}

int lw__gp_weighted(double *out, const lw__gp_set *a, const double *wa, const lw__gp_set *b,
		    const double *wb, int same)
{
	double *K;
	size_t na = a->n, nb = b->n;
	double total = 0;
	int err;

	if (!(K = lw__mallocarray(na * nb > 0 ? na * nb : 1, sizeof(double))))
		return LW_ENOMEM;
	if ((err = lw__gp_cross(K, a, b, same)) == 0) {
		for (size_t i = 0; i < na; i++) {
			double row = 0;

			for (size_t j = 0; j < nb; j++)
				row += K[i * nb + j] * wb[j];
			total += wa[i] * row;
		}
		*out = total;
	}
	free(K);
	return err;
}

int lw__gp_row_means(double *out, const lw__gp_set *a, const lw__gp_set *b)
{
	size_t na = a->n, nb = b->n;
	double *K;
	int err;

	if ((err = check_pair_sets(a, b)) < 0)
		return err;
	/* One row block at a time keeps memory at 64 rows x nb. */
	if (!(K = lw__mallocarray(64, (nb ? nb : 1) * sizeof(double))))
		return LW_ENOMEM;
	for (size_t i0 = 0; i0 < na && err == 0; i0 += 64) {
		lw__gp_set rows = *a;

		rows.n = na - i0 < 64 ? na - i0 : 64;
		rows.x = a->x + i0 * a->c * a->size * a->size;
		rows.var = a->var + i0 * a->var_len;
		rows.self = a->self + i0;
		if ((err = lw__gp_cross(K, &rows, b, 0)) < 0)
			break;
		for (size_t i = 0; i < rows.n; i++)
			out[i0 + i] = mean_of(K + i * nb, nb);
	}
	free(K);
	return err;
}

int lw_cnn_gp_kernel(double *out, const double *x, size_t nx, const double *y, size_t ny,
		     size_t channels, size_t size, size_t depth)
{
	lw__gp_set a, b;
	int err;

	LW_ASSERT_ARG(out && x && nx > 0);
	LW_ASSERT_ARG(!y || ny > 0);
	if ((err = lw__gp_set_init(&a, x, nx, channels, size, depth)) < 0)
		return err;
	if (!y) {
		err = lw__gp_cross(out, &a, &a, 1);
	} else if ((err = lw__gp_set_init(&b, y, ny, channels, size, depth)) == 0) {
		err = lw__gp_cross(out, &a, &b, 0);
		lw__gp_set_dispose(&b);
	}
	lw__gp_set_dispose(&a);
	return err;
}
