/*
 * Image RKME: the cnn_gp kernel (against the reference algorithm, symmetry,
 * positive semi-definiteness, its self-kernel path), the random-feature
 * networks (against a direct convolution, the gradient against finite
 * differences), preprocessing, the JSON, and fits on Fashion-MNIST
 * (Debian's dataset-fashion-mnist).
 */
#include "testutil.h"

#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lw/image.h"
#include "lw/rkme_image.h"
#include "rkme_image.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/"
#define PLANE 1024

/* Images of one Fashion-MNIST class (cls < 0: any), the first `limit` of the file. */
static void fashion(lw_image_batch *b, const char *set, long cls, size_t limit)
{
	char img[256], lab[256];
	const char *paths[1] = { img };
	lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;
	struct stat st;

	snprintf(img, sizeof(img), FMNIST "%s-images-idx3-ubyte.gz", set);
	snprintf(lab, sizeof(lab), FMNIST "%s-labels-idx1-ubyte.gz", set);
	if (stat(img, &st) != 0)
		fail_msg("%s is missing: apt-get install dataset-fashion-mnist (scripts/setup.sh does)",
			 img);
	o.limit = limit;
	if (cls >= 0) {
		o.labels = lab;
		o.label = cls;
	}
	if (lw_image_read(b, paths, 1, &o) != 0)
		fail_msg("%s", lw_error_last()->message);
}

/* Deterministic test images, as in the numpy translation that gave the fixtures below. */
static void wave_images(double *out, size_t n, size_t c, double seed)
{
	for (size_t r = 0; r < n * c * PLANE; r++)
		out[r] = sin((double)r * 0.37 + seed) * 1.5 + cos((double)r * 0.011 * seed);
}

/* ---- cnn_gp ---------------------------------------------------------------- */

static void test_cnn_gp_acos__matches_libm(void **state)
{
	double worst = 0;

	(void)state;
	for (int i = -100000; i <= 100000; i++) {
		double c = i / 100000.0;

		worst = fmax(worst, fabs(lw__gp_acos(c) - acos(c)));
	}
	worst = fmax(worst, fabs(lw__gp_acos(0.5 + 1e-12) - acos(0.5 + 1e-12)));
	worst = fmax(worst, fabs(lw__gp_acos(-1e-300) - acos(-1e-300)));
	if (worst > 2e-15)
		fail_msg("acos differs from libm by %g", worst);
}

/*
 * Values from a line-by-line numpy translation of the reference's cnn_gp.py
 * (F.conv2d with a ones kernel, the ReLU update with np.arccos, the
 * diagonal set to xx), in float64, on wave_images(4, c, 1) and
 * wave_images(3, c, 2).
 */
static void test_cnn_gp_kernel__matches_the_reference_algorithm(void **state)
{
	static const double self1[4] = { 5.479856244048041e-01, 3.485880152987028e-01,
					  3.041835090236358e-01, 3.903151291764917e-01 };
	static const double cross3[4] = { 3.995309318712036e-01, 4.653368728233635e-01,
					   4.452254711005397e-01, 3.502724155446967e-01 };
	double *x = malloc(4 * 3 * PLANE * sizeof(double)), *y = malloc(3 * 3 * PLANE * sizeof(double));
	double K[16];

	(void)state;
	wave_images(x, 4, 1, 1);
	assert_int_equal(lw_cnn_gp_kernel(K, x, 4, NULL, 0, 1, 32, 3), 0);
	for (int j = 0; j < 4; j++)
		lwt_assert_near(K[j], self1[j], 1e-13);
	lwt_assert_near(K[15], 5.500748020199996e-01, 1e-13);
	wave_images(x, 4, 3, 1);
	wave_images(y, 3, 3, 2);
	assert_int_equal(lw_cnn_gp_kernel(K, x, 4, y, 3, 3, 32, 3), 0);
	for (int j = 0; j < 3; j++)
		lwt_assert_near(K[j], cross3[j], 1e-13);
	lwt_assert_near(K[3], cross3[3], 1e-13);
	lwt_assert_near(K[11], 3.459273215742537e-01, 1e-13);
	free(x);
	free(y);
}

static void test_cnn_gp_kernel__is_symmetric_and_positive_semidefinite(void **state)
{
	lw_image_batch X, Xp;
	size_t n = 24;
	double *x = malloc(n * PLANE * sizeof(double)), *K = malloc(n * n * sizeof(double));
	double ev[24], top;

	(void)state;
	fashion(&X, "t10k", -1, n);
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), 0);
	for (size_t i = 0; i < n * PLANE; i++)
		x[i] = Xp.data[i];
	assert_int_equal(lw_cnn_gp_kernel(K, x, n, NULL, 0, 1, 32, 3), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			assert_true(K[i * n + j] == K[j * n + i]);
	assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, K, (lapack_int)n, ev), 0);
	top = ev[n - 1];
	if (ev[0] < -1e-9 * top)
		fail_msg("smallest eigenvalue %g of a kernel whose largest is %g", ev[0], top);
	lw_image_batch_dispose(&X);
	lw_image_batch_dispose(&Xp);
	free(x);
	free(K);
}

/* k(x, x) through the pair path (x against a copy) equals the self-kernel's xx chain. */
static void test_cnn_gp_kernel__pair_path_matches_the_self_kernel_path(void **state)
{
	size_t n = 5;
	double *x = malloc(n * 3 * PLANE * sizeof(double)), Ks[25], Kc[25];

	(void)state;
	wave_images(x, n, 3, 3);
	assert_int_equal(lw_cnn_gp_kernel(Ks, x, n, NULL, 0, 3, 32, 3), 0);
	assert_int_equal(lw_cnn_gp_kernel(Kc, x, n, x, n, 3, 32, 3), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double tol = i == j ? 1e-7 * Ks[i * n + i] : 1e-15;

			lwt_assert_near(Kc[i * n + j], Ks[i * n + j], tol);
		}
	free(x);
}

static void test_cnn_gp_kernel__refuses_sizes_that_do_not_fit_the_depth(void **state)
{
	double x[24 * 24], K[1];

	(void)state;
	memset(x, 0, sizeof(x));
	assert_int_equal(lw_cnn_gp_kernel(K, x, 1, NULL, 0, 1, 24, 4), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "multiple of 2^depth"));
}

/* ---- specifications: distances and JSON ------------------------------------ */

static lw_rkme_image *wave_spec(size_t k, size_t c, double seed)
{
	double *z = malloc(k * c * PLANE * sizeof(double)), *beta = malloc(k * sizeof(double));
	lw_rkme_image *r;

	wave_images(z, k, c, seed);
	for (size_t i = 0; i < k; i++)
		beta[i] = (double)(i + 1) / (double)(k * (k + 1) / 2);
	assert_int_equal(lw_rkme_image_new(&r, z, beta, k, c, 16, NULL), 0);
	free(z);
	free(beta);
	return r;
}

static void test_rkme_image_dist__is_zero_to_itself_and_symmetric(void **state)
{
	lw_rkme_image *a = wave_spec(6, 3, 1), *b = wave_spec(4, 3, 2), *g = wave_spec(3, 1, 1);
	lw_rkme_image *many[2];
	double aa, ab, ba, self, d[2];

	(void)state;
	assert_int_equal(lw_rkme_image_dist(&aa, a, a), 0);
	assert_true(fabs(aa) < 1e-12);
	assert_int_equal(lw_rkme_image_self_dist(&self, a), 0);
	assert_true(fabs(self) < 1e-12);
	assert_int_equal(lw_rkme_image_dist(&ab, a, b), 0);
	assert_int_equal(lw_rkme_image_dist(&ba, b, a), 0);
	assert_true(ab > 1e-4);
	lwt_assert_near(ab, ba, 1e-12);
	many[0] = a;
	many[1] = b;
	assert_int_equal(lw_rkme_image_dist_many(d, a, (const lw_rkme_image *const *)many, 2), 0);
	lwt_assert_near(d[0], aa, 1e-15);
	lwt_assert_near(d[1], ab, 1e-15);
	assert_int_equal(lw_rkme_image_dist(&ab, a, g), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "channels"));
	lw_rkme_image_free(a);
	lw_rkme_image_free(b);
	lw_rkme_image_free(g);
}

static void test_rkme_image_score_transform__spreads_fitted_distances_over_0_1(void **state)
{
	/* bench_image's user-to-learnware distances: nearest 1e-3 to 3e-3, median 1e-2, most 4e-2. */
	static const double d[] = { 2e-3, 5e-3, 1e-2, 2e-2, 4e-2 };
	double prev = 0;

	(void)state;
	lwt_assert_near(lw_rkme_image_score_transform(0), 0, 0);
	lwt_assert_near(lw_rkme_image_score_transform(1e-2), 1 - exp(-1), 1e-15);
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		double t = lw_rkme_image_score_transform(d[i]);

		/* Monotone, and none saturated (the reference's 5e-5 sends all of them to 1). */
		assert_true(t > prev + 0.05);
		assert_true(t < 0.99);
		prev = t;
	}
}

#define HEAD "{\"RKME_IMAGE_VERSION\":1,\"msg\":null,\"z\":[[[["

static void test_rkme_image_json__round_trips_in_the_reference_layout(void **state)
{
	lw_rkme_image *a = wave_spec(3, 3, 5), *b;
	char *text, *again;

	(void)state;
	a->z[7] = -0.0;
	a->z[8] = 0.1;
	assert_int_equal(lw_rkme_image_to_json(&text, a), 0);
	assert_true(!strncmp(text, HEAD, sizeof(HEAD) - 1));
	assert_non_null(strstr(text, "],\"beta\":["));
	assert_non_null(strstr(text, ",\"n_models\":16,\"model_config\":{\"k\":2,\"mu\":0,\"sigma\":null,"
				     "\"net_width\":128,\"net_depth\":3},\"type\":\"RKMEImageSpecification\"}"));
	assert_int_equal(lw_rkme_image_from_json(&b, text, strlen(text), "a.json"), 0);
	assert_int_equal(b->k, 3);
	assert_int_equal(b->channels, 3);
	assert_memory_equal(a->z, b->z, 3 * 3 * PLANE * sizeof(double));
	assert_memory_equal(a->beta, b->beta, 3 * sizeof(double));
	assert_int_equal(lw_rkme_image_to_json(&again, b), 0);
	assert_string_equal(text, again);
	free(text);
	free(again);
	lw_rkme_image_free(a);
	lw_rkme_image_free(b);
}

static void expect_json_error(const char *doc, const char *needle)
{
	lw_rkme_image *r = NULL;

	assert_int_equal(lw_rkme_image_from_json(&r, doc, strlen(doc), "s.json"), LW_EINVALID);
	assert_null(r);
	if (!strstr(lw_error_last()->message, needle))
		fail_msg("error \"%s\" should mention \"%s\"", lw_error_last()->message, needle);
}

static void test_rkme_image_json_bad_documents__name_what_is_wrong(void **state)
{
	(void)state;
	expect_json_error("{\"z\":[[[[1]]]],\"beta\":[1],\"type\":\"RKMETableSpecification\"}",
			  "not an image specification");
	expect_json_error("{\"z\":[[[[1]]]],\"beta\":[1],\"type\":\"RKMEImageSpecification\"}",
			  "z[0][0] must be 32 rows of 32");
	expect_json_error("{\"z\":[],\"beta\":[],\"type\":\"RKMEImageSpecification\"}", "\"z\"");
	expect_json_error("{\"z\":[[[[NaN]]]],\"type\":\"RKMEImageSpecification\"}", "NaN or Infinity");
	expect_json_error("{\"RKME_IMAGE_VERSION\":2,\"type\":\"RKMEImageSpecification\"}",
			  "RKME_IMAGE_VERSION");
}

static void test_rkme_image_json__reads_the_model_config_it_is_given(void **state)
{
	lw_rkme_image *a = wave_spec(2, 1, 4), *b;
	char *text, *p;

	(void)state;
	assert_int_equal(lw_rkme_image_to_json(&text, a), 0);
	/* depth 2 and a sigma: kept, and the kernel built with depth 2 */
	p = strstr(text, "\"sigma\":null,\"net_width\":128,\"net_depth\":3");
	assert_non_null(p);
	memcpy(p, "\"sigma\":0.25,\"net_width\":128,\"net_depth\":2", 42);
	assert_int_equal(lw_rkme_image_from_json(&b, text, strlen(text), "s.json"), 0);
	assert_int_equal(b->model_config.net_depth, 2);
	lwt_assert_near(b->model_config.sigma, 0.25, 0);
	assert_true(fabs(b->self_inner - a->self_inner) > 1e-6);
	free(text);
	lw_rkme_image_free(a);
	lw_rkme_image_free(b);
}

/* ---- random-feature networks ----------------------------------------------- */

/* A direct evaluation of one network on one image, for comparison. */
static void naive_forward(const lw__rfnet *net, const float *x, double *feat)
{
	size_t s = net->size, cin = net->in_c;
	double *a = malloc(cin * s * s * sizeof(double));

	for (size_t i = 0; i < cin * s * s; i++)
		a[i] = x[i];
	for (size_t l = 0; l < net->depth; l++, s /= 2) {
		double *r = malloc(net->width * s * s * sizeof(double));
		double *p = malloc(net->width * (s / 2) * (s / 2) * sizeof(double));

		for (size_t o = 0; o < net->width; o++)
			for (size_t y = 0; y < s; y++)
				for (size_t xx = 0; xx < s; xx++) {
					double v = net->b[l][o];

					for (size_t c = 0; c < cin; c++)
						for (int ky = 0; ky < 3; ky++)
							for (int kx = 0; kx < 3; kx++) {
								long sy = (long)y + ky - 1, sx = (long)xx + kx - 1;

								if (sy < 0 || sx < 0 || sy >= (long)s || sx >= (long)s)
									continue;
								v += net->w[l][o * cin * 9 + c * 9 + (size_t)(ky * 3 + kx)] *
								     a[(c * s + (size_t)sy) * s + (size_t)sx];
							}
					r[(o * s + y) * s + xx] = v > 0 ? v : 0;
				}
		for (size_t o = 0; o < net->width; o++)
			for (size_t y = 0; y < s / 2; y++)
				for (size_t xx = 0; xx < s / 2; xx++) {
					const double *q = r + (o * s + 2 * y) * s + 2 * xx;

					p[(o * (s / 2) + y) * (s / 2) + xx] = 0.25 * (q[0] + q[1] + q[s] + q[s + 1]);
				}
		free(a);
		free(r);
		a = p;
		cin = net->width;
	}
	memcpy(feat, a, net->width * s * s * sizeof(double));
	free(a);
}

static void test_rkme_image_rfnet_forward__matches_a_direct_convolution(void **state)
{
	lw_rkme_image_net_config cfg = { 1, 5, 2, 0.0, 0.0 };
	lw__rfnet net;
	lw_rng rng;
	float *x = malloc(3 * 2 * PLANE * sizeof(float)), *feat;
	double want[5 * 64];
	size_t F;

	(void)state;
	lw_rng_seed(&rng, 11);
	assert_int_equal(lw__rfnet_draw(&net, &rng, 2, 32, &cfg), 0);
	F = lw__rfnet_features(&net);
	assert_int_equal(F, 5 * 8 * 8);
	for (size_t i = 0; i < 3 * 2 * PLANE; i++)
		x[i] = (float)lw_rng_normal(&rng);
	feat = malloc(3 * F * sizeof(float));
	assert_int_equal(lw__rfnet_forward(&net, x, 3, feat, F, NULL), 0);
	for (size_t i = 0; i < 3; i++) {
		naive_forward(&net, x + i * 2 * PLANE, want);
		for (size_t f = 0; f < F; f++)
			lwt_assert_near(feat[i * F + f], want[f], 1e-4 * (1 + fabs(want[f])));
	}
	lw__rfnet_dispose(&net);
	free(x);
	free(feat);
}

/*
 * The hand-written backward pass through conv, ReLU and pooling: the
 * gradient of the random-feature MMD^2 along a random direction equals
 * the central difference of the objective (features in float32, hence the
 * tolerance; a much larger step crosses ReLU kinks).
 */
static void test_rkme_image_rf_gradient__matches_finite_differences(void **state)
{
	lw_rkme_image_net_config cfg = { 1, 6, 3, 0.0, 0.0 };
	size_t k = 3, n = 8, c = 2, cells = k * c * PLANE;
	double *z = malloc(cells * sizeof(double)), *zp = malloc(cells * sizeof(double));
	double *g = malloc(cells * sizeof(double)), *dir = malloc(cells * sizeof(double));
	double beta[3] = { 0.5, 0.3, 0.2 }, f0, fp, fm, slope = 0, h = 1e-3;
	float *x = malloc(n * c * PLANE * sizeof(float));
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 5);
	for (size_t i = 0; i < n * c * PLANE; i++)
		x[i] = (float)(lw_rng_normal(&rng) + 0.5);
	for (size_t i = 0; i < cells; i++) {
		z[i] = lw_rng_normal(&rng);
		dir[i] = lw_rng_normal(&rng);
	}
	assert_int_equal(lw__rkme_image_rf_grad(g, &f0, z, beta, k, x, n, c, 2, 77, &cfg), 0);
	for (size_t i = 0; i < cells; i++)
		slope += g[i] * dir[i];
	for (size_t i = 0; i < cells; i++)
		zp[i] = z[i] + h * dir[i];
	assert_int_equal(lw__rkme_image_rf_mmd(&fp, zp, beta, k, x, n, c, 2, 77, &cfg, NULL), 0);
	for (size_t i = 0; i < cells; i++)
		zp[i] = z[i] - h * dir[i];
	assert_int_equal(lw__rkme_image_rf_mmd(&fm, zp, beta, k, x, n, c, 2, 77, &cfg, NULL), 0);
	if (fabs((fp - fm) / (2 * h) - slope) > 2e-2 * fabs(slope) || !(fabs(slope) > 0))
		fail_msg("directional derivative %.8g, central difference %.8g", slope,
			 (fp - fm) / (2 * h));
	free(z);
	free(zp);
	free(g);
	free(dir);
	free(x);
}

/* ---- preprocessing ---------------------------------------------------------- */

static void test_rkme_image_preprocess__fills_resizes_and_standardises(void **state)
{
	lw_image_batch X, Xp;
	double sum = 0, sq = 0;
	size_t n = 6;

	(void)state;
	assert_int_equal(lw_image_batch_init(&X, n, 1, 20, 30), 0);
	for (size_t i = 0; i < n * 600; i++)
		X.data[i] = (float)(i % 97);
	X.data[5] = NAN;
	X.data[601] = INFINITY;
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), 0);
	assert_int_equal(Xp.h, 32);
	assert_int_equal(Xp.w, 32);
	for (size_t i = 0; i < n * PLANE; i++) {
		assert_true(isfinite(Xp.data[i]));
		sum += Xp.data[i];
		sq += (double)Xp.data[i] * Xp.data[i];
	}
	lwt_assert_near(sum / (n * PLANE), 0, 1e-6);
	lwt_assert_near(sq / (n * PLANE - 1), 1, 1e-5);
	lw_image_batch_dispose(&Xp);
	/* an image with no finite value, a constant data set */
	for (size_t i = 600; i < 1200; i++)
		X.data[i] = NAN;
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "image 2 has no finite value"));
	for (size_t i = 0; i < n * 600; i++)
		X.data[i] = 3;
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "constant"));
	lw_image_batch_dispose(&X);
}

/*
 * ZCA: X' = X W with W = (C + r I)^-1/2, C = X'X/n, r = 0.1 tr(C)/D, so
 * tr(X'^T X'/n) = sum_i s_i / (s_i + r) over the eigenvalues s_i of C,
 * which are those of the small Gram matrix X X'/n.
 */
static void test_rkme_image_preprocess__zca_whitens_colour_images(void **state)
{
	size_t n = 12, d = 3 * PLANE;
	lw_image_batch X, Xs, Xw;
	double G[144], ev[12], tr = 0, want = 0, got = 0;

	(void)state;
	assert_int_equal(lw_image_batch_init(&X, n, 3, 32, 32), 0);
	for (size_t i = 0; i < n * d; i++)
		X.data[i] = (float)(128 + 100 * sin(0.001 * (double)(i % d) * (double)(i / d + 1)) +
				    (double)(i % 7));
	assert_int_equal(lw_rkme_image_preprocess(&Xs, &X, 0), 0);
	assert_int_equal(lw_rkme_image_preprocess(&Xw, &X, 1), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double s = 0;

			for (size_t t = 0; t < d; t++)
				s += (double)Xs.data[i * d + t] * Xs.data[j * d + t];
			G[i * n + j] = s / (double)n;
		}
	for (size_t i = 0; i < n; i++)
		tr += G[i * n + i];
	assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)n, G, (lapack_int)n, ev), 0);
	for (size_t i = 0; i < n; i++)
		want += fmax(ev[i], 0) / (fmax(ev[i], 0) + 0.1 * tr / (double)d);
	for (size_t i = 0; i < n * d; i++)
		got += (double)Xw.data[i] * Xw.data[i];
	got /= (double)n;
	lwt_assert_near(got, want, 1e-3 * want);
	lw_image_batch_dispose(&X);
	lw_image_batch_dispose(&Xs);
	lw_image_batch_dispose(&Xw);
}

/* ---- fits on Fashion-MNIST ----------------------------------------------------- */

/* Small settings: the tests must run in seconds, under ASan too. */
static lw_rkme_image_options small_options(void)
{
	lw_rkme_image_options o = LW_RKME_IMAGE_OPTIONS_INIT;

	o.k = 10;
	o.steps = 12;
	o.inner = 1;
	o.batch = 96;
	o.n_models = 2;
	o.model_config.k = 1;
	o.model_config.net_width = 12;
	o.step_size = 0.02;
	return o;
}

static double rf_quality(const lw_rkme_image *r, const lw_image_batch *Xp,
			 const lw_rkme_image_net_config *cfg)
{
	double mmd, *beta = malloc(r->k * sizeof(double));

	/* held-out networks (a seed the fits never use), beta re-solved for them */
	assert_int_equal(lw__rkme_image_rf_mmd(&mmd, r->z, r->beta, r->k, Xp->data, Xp->n, Xp->c, 4,
					       424242, cfg, beta), 0);
	free(beta);
	return mmd;
}

/*
 * The reference leaves z at seeded N(0, 1) noise and fits only beta.
 * Optimising z fits the data better in the random-feature kernel, from
 * that very noise as from k-means centres, and in the cnn_gp kernel too.
 */
static void test_rkme_image_fit__beats_the_references_noise_points(void **state)
{
	lw_rkme_image_options o = small_options();
	lw_image_batch X, Xp;
	lw_rkme_image *noise, *from_noise, *fitted;
	double q_noise, q_from_noise, q_fit, g_noise, g_fit;

	(void)state;
	fashion(&X, "train", -1, 240);
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), 0);
	o.init = LW_RKME_IMAGE_INIT_NOISE;
	o.steps = 0;
	assert_int_equal(lw_rkme_image_fit(&noise, &X, &o), 0);
	o.steps = 12;
	o.step_size = 0.1;
	assert_int_equal(lw_rkme_image_fit(&from_noise, &X, &o), 0);
	o = small_options();
	assert_int_equal(lw_rkme_image_fit(&fitted, &X, &o), 0);
	assert_int_equal(fitted->k, 10);
	q_noise = rf_quality(noise, &Xp, &o.model_config);
	q_from_noise = rf_quality(from_noise, &Xp, &o.model_config);
	q_fit = rf_quality(fitted, &Xp, &o.model_config);
	assert_int_equal(lw_rkme_image_mmd_data(&g_noise, noise, &Xp), 0);
	assert_int_equal(lw_rkme_image_mmd_data(&g_fit, fitted, &Xp), 0);
	print_message("random-feature MMD^2: noise %.3g, noise optimised %.3g, fitted %.3g; "
		      "cnn_gp MMD^2: noise %.3g, fitted %.3g\n",
		      q_noise, q_from_noise, q_fit, g_noise, g_fit);
	assert_true(q_from_noise < 0.5 * q_noise);
	assert_true(q_fit < 0.1 * q_noise);
	assert_true(g_fit < 0.1 * g_noise);
	lw_rkme_image_free(noise);
	lw_rkme_image_free(from_noise);
	lw_rkme_image_free(fitted);
	lw_image_batch_dispose(&X);
	lw_image_batch_dispose(&Xp);
}

/* Against k-means centres alone (no step on z), the steps lower the MMD^2. */
static void test_rkme_image_fit__steps_improve_on_the_starting_centres(void **state)
{
	lw_rkme_image_options o = small_options();
	lw_image_batch X, Xp;
	lw_rkme_image *start, *fitted;
	double q0, q1;

	(void)state;
	fashion(&X, "train", -1, 240);
	assert_int_equal(lw_rkme_image_preprocess(&Xp, &X, 1), 0);
	o.steps = 0;
	assert_int_equal(lw_rkme_image_fit(&start, &X, &o), 0);
	o = small_options();
	assert_int_equal(lw_rkme_image_fit(&fitted, &X, &o), 0);
	q0 = rf_quality(start, &Xp, &o.model_config);
	q1 = rf_quality(fitted, &Xp, &o.model_config);
	print_message("random-feature MMD^2: centres %.3g, after %u rounds %.3g\n", q0, o.steps, q1);
	assert_true(q1 < q0);
	lw_rkme_image_free(start);
	lw_rkme_image_free(fitted);
	lw_image_batch_dispose(&X);
	lw_image_batch_dispose(&Xp);
}

static lw_rkme_image *class_spec(const char *set, long cls)
{
	lw_rkme_image_options o = small_options();
	lw_image_batch X;
	lw_rkme_image *r;

	fashion(&X, set, cls, 150);
	assert_int_equal(lw_rkme_image_fit(&r, &X, &o), 0);
	lw_image_batch_dispose(&X);
	return r;
}

/* The search's question: is a user's data like a learnware's? */
static void test_rkme_image_dist__same_class_is_closer_than_another_class(void **state)
{
	lw_rkme_image *shirts = class_spec("train", 0), *shirts2 = class_spec("t10k", 0);
	lw_rkme_image *boots = class_spec("t10k", 9), *bags = class_spec("t10k", 8);
	double same, other, other2;

	(void)state;
	assert_int_equal(lw_rkme_image_dist(&same, shirts2, shirts), 0);
	assert_int_equal(lw_rkme_image_dist(&other, shirts2, boots), 0);
	assert_int_equal(lw_rkme_image_dist(&other2, shirts2, bags), 0);
	print_message("T-shirts vs T-shirts %.3g, vs ankle boots %.3g, vs bags %.3g\n", same, other,
		      other2);
	assert_true(same < other);
	assert_true(same < other2);
	/* The score transform tells them apart (the reference's maps all three to 1). */
	assert_true(lw_rkme_image_score_transform(other) - lw_rkme_image_score_transform(same) > 0.3);
	lw_rkme_image_free(shirts);
	lw_rkme_image_free(shirts2);
	lw_rkme_image_free(boots);
	lw_rkme_image_free(bags);
}

static void test_rkme_image_fit__same_seed_same_specification(void **state)
{
	lw_rkme_image_options o = small_options();
	lw_image_batch X;
	lw_rkme_image *a, *b;
	char *ja, *jb;

	(void)state;
	o.steps = 3;
	fashion(&X, "t10k", 3, 60);
	assert_int_equal(lw_rkme_image_fit(&a, &X, &o), 0);
	assert_int_equal(lw_rkme_image_fit(&b, &X, &o), 0);
	assert_int_equal(lw_rkme_image_to_json(&ja, a), 0);
	assert_int_equal(lw_rkme_image_to_json(&jb, b), 0);
	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
	lw_rkme_image_free(a);
	lw_rkme_image_free(b);
	lw_image_batch_dispose(&X);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cnn_gp_acos__matches_libm),
		cmocka_unit_test(test_cnn_gp_kernel__matches_the_reference_algorithm),
		cmocka_unit_test(test_cnn_gp_kernel__is_symmetric_and_positive_semidefinite),
		cmocka_unit_test(test_cnn_gp_kernel__pair_path_matches_the_self_kernel_path),
		cmocka_unit_test(test_cnn_gp_kernel__refuses_sizes_that_do_not_fit_the_depth),
		cmocka_unit_test(test_rkme_image_dist__is_zero_to_itself_and_symmetric),
		cmocka_unit_test(test_rkme_image_score_transform__spreads_fitted_distances_over_0_1),
		cmocka_unit_test(test_rkme_image_json__round_trips_in_the_reference_layout),
		cmocka_unit_test(test_rkme_image_json_bad_documents__name_what_is_wrong),
		cmocka_unit_test(test_rkme_image_json__reads_the_model_config_it_is_given),
		cmocka_unit_test(test_rkme_image_rfnet_forward__matches_a_direct_convolution),
		cmocka_unit_test(test_rkme_image_rf_gradient__matches_finite_differences),
		cmocka_unit_test(test_rkme_image_preprocess__fills_resizes_and_standardises),
		cmocka_unit_test(test_rkme_image_preprocess__zca_whitens_colour_images),
		cmocka_unit_test(test_rkme_image_fit__beats_the_references_noise_points),
		cmocka_unit_test(test_rkme_image_fit__steps_improve_on_the_starting_centres),
		cmocka_unit_test(test_rkme_image_dist__same_class_is_closer_than_another_class),
		cmocka_unit_test(test_rkme_image_fit__same_seed_same_specification),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
