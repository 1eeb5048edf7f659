/*
 * Heterogeneous reuse (src/lib/reuse_hetero.c): aligning a learnware of
 * another feature space to the user's columns, and the reusers over
 * aligned learnwares.  Synthetic tables with a known structure, so what
 * alignment should recover is known: two latent factors u, v behind four
 * described columns, a linear learnware on them.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/hetero.h"

/* The learnware's columns, one description each. */
static const char *const LW_COLS[4] = {
	"age of the customer in years",
	"yearly income of the customer in thousands of euros",
	"number of purchases in the last month",
	"distance from home to the nearest store in kilometres",
};

/* Latent rows: u, v ~ N(0,1); columns 0..3 = u, 2u + v, v, u - v, plus noise. */
static void latent_rows(lw_mat *X, double *y, size_t n, uint64_t seed)
{
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(X, n, 4), 0);
	for (size_t i = 0; i < n; i++) {
		double u = lw_rng_normal(&rng), v = lw_rng_normal(&rng), *x = lw_mat_row(X, i);

		x[0] = 40 + 10 * (u + 0.1 * lw_rng_normal(&rng));
		x[1] = 50 + 10 * (2 * u + v + 0.1 * lw_rng_normal(&rng));
		x[2] = 5 + 2 * (v + 0.1 * lw_rng_normal(&rng));
		x[3] = 10 + 3 * (u - v + 0.1 * lw_rng_normal(&rng));
		/* drawn either way, so the rows do not depend on y being asked for */
		double t = 3 * u - 2 * v + 0.1 * lw_rng_normal(&rng);

		if (y)
			y[i] = t;
	}
}

static void embed(lw_mat *out, const char *const *texts, size_t n)
{
	assert_int_equal(lw_text_encode(out, NULL, texts, NULL, n), 0);
}

/* The learnware: a linear model on its 4 columns, its RKME, its column embeddings. */
typedef struct {
	lw_model *model;
	lw_rkme *rkme;
	lw_mat cols;
	lw_hetero_learnware lw;
} fixture_lw;

static void lw_make(fixture_lw *f, const char *id, uint64_t seed)
{
	lw_train_options t = LW_TRAIN_OPTIONS_INIT;
	lw_rkme_options r = LW_RKME_OPTIONS_INIT;
	lw_mat X;
	double y[600];

	latent_rows(&X, y, 600, seed);
	t.kind = LW_MODEL_LINEAR;
	t.holdout = 0;
	assert_int_equal(lw_train(&f->model, NULL, &X, y, &t), 0);
	r.k = 60;
	r.seed = seed;
	assert_int_equal(lw_rkme_fit(&f->rkme, &X, &r), 0);
	embed(&f->cols, LW_COLS, 4);
	f->lw = (lw_hetero_learnware){ id, f->model, f->rkme, &f->cols };
	lw_mat_dispose(&X);
}

static void lw_dispose(fixture_lw *f)
{
	lw_model_free(f->model);
	lw_rkme_free(f->rkme);
	lw_mat_dispose(&f->cols);
}

static lw_hetero_map *untrained_map(void)
{
	const lw_text_encoder *enc = NULL;
	lw_hetero_map *map = NULL;

	assert_int_equal(lw_text_encoder_builtin(&enc), 0);
	assert_int_equal(lw_hetero_map_new(&map, lw_text_encoder_dim(enc), NULL), 0);
	return map;
}

/* The user's table: column j is f(learnware column src[j]); descriptions given. */
typedef struct {
	lw_mat X, cols;
	double *y;
	lw_hetero_user user;
} fixture_user;

static void user_make(fixture_user *u, const lw_hetero_map *map, const char *const *desc,
		      size_t d, void (*fill)(double *out, const double *x), size_t n,
		      uint64_t seed)
{
	lw_mat L;

	u->y = malloc(n * sizeof(double));
	latent_rows(&L, u->y, n, seed);
	assert_int_equal(lw_mat_init(&u->X, n, d), 0);
	for (size_t i = 0; i < n; i++)
		fill(lw_mat_row(&u->X, i), lw_mat_row(&L, i));
	embed(&u->cols, desc, d);
	u->user = (lw_hetero_user){ map, &u->cols, &u->X };
	lw_mat_dispose(&L);
}

static void user_dispose(fixture_user *u)
{
	lw_mat_dispose(&u->X);
	lw_mat_dispose(&u->cols);
	free(u->y);
}

static double rmse(const lw_mat *Y, const double *y)
{
	double s = 0;

	for (size_t i = 0; i < Y->rows; i++)
		s += (lw_mat_row(Y, i)[0] - y[i]) * (lw_mat_row(Y, i)[0] - y[i]);
	return sqrt(s / (double)Y->rows);
}

/* RMSE of predicting the mean of y: the trivial baseline. */
static double baseline(const double *y, size_t n)
{
	double m = 0, s = 0;

	for (size_t i = 0; i < n; i++)
		m += y[i] / (double)n;
	for (size_t i = 0; i < n; i++)
		s += (y[i] - m) * (y[i] - m);
	return sqrt(s / (double)n);
}

/* Align the learnware again with o (replacing *a) and return its RMSE on the user's rows. */
static double realign_rmse(lw_model **a, const fixture_user *u, const fixture_lw *f,
			   const lw_hetero_align_options *o)
{
	lw_mat Y = LW_MAT_INIT;
	double e;

	lw_model_free(*a);
	*a = NULL;
	assert_int_equal(lw_hetero_align(a, &u->user, &f->lw, o), 0);
	assert_int_equal(lw_model_predict(&Y, *a, &u->X), 0);
	e = rmse(&Y, u->y);
	lw_mat_dispose(&Y);
	return e;
}

/* ---- alignment ------------------------------------------------------- */

static const char *const PERM_DESC[4] = { LW_COLS[3], LW_COLS[0], LW_COLS[2], LW_COLS[1] };
static const size_t PERM[4] = { 3, 0, 2, 1 }; /* user column j = learnware column PERM[j] */

static void fill_permuted(double *out, const double *x)
{
	for (size_t j = 0; j < 4; j++)
		out[j] = x[PERM[j]];
}

static void test_hetero_align__recovers_permuted_columns(void **state)
{
	fixture_lw f;
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_align_info info;
	lw_model *a = NULL;
	lw_mat Y, G, L, Yl;

	(void)state;
	lw_make(&f, "lw", 1);
	user_make(&u, map, PERM_DESC, 4, fill_permuted, 300, 2);
	assert_int_equal(lw_hetero_align(&a, &u.user, &f.lw, NULL), 0);
	assert_int_equal(lw_hetero_align_info_get(&info, a), 0);
	assert_int_equal(info.matched, 4);
	for (size_t j = 0; j < 4; j++)
		assert_int_equal(PERM[info.source[j]], j);
	assert_int_equal(lw_model_input_dim(a), 4);
	assert_int_equal(lw_model_output_dim(a), 1);
	/* Every column copied: the learnware sees exactly its own columns. */
	latent_rows(&L, NULL, 300, 2);
	assert_int_equal(lw_hetero_align_transform(&G, a, &u.X), 0);
	for (size_t i = 0; i < L.rows * 4; i++)
		assert_true(G.data[i] == L.data[i]);
	assert_int_equal(lw_model_predict(&Y, a, &u.X), 0);
	assert_int_equal(lw_model_predict(&Yl, f.model, &L), 0);
	for (size_t i = 0; i < Y.rows; i++)
		assert_true(Y.data[i] == Yl.data[i]);
	assert_true(rmse(&Y, u.y) < 0.2 * baseline(u.y, 300));
	lw_mat_dispose(&Y);
	lw_mat_dispose(&Yl);
	lw_mat_dispose(&G);
	lw_mat_dispose(&L);
	lw_model_free(a);
	user_dispose(&u);
	lw_dispose(&f);
	lw_hetero_map_free(map);
}

/* The user has age and purchases as the learnware does, income in other units under another
 * description, and a column the learnware never saw; income and distance must be imputed. */
static const char *const PART_DESC[4] = {
	"monthly salary of the client in cents",
	LW_COLS[2],
	LW_COLS[0],
	"favourite colour code of the client",
};

static void fill_partial(double *out, const double *x)
{
	out[0] = x[1] * 100000.0 / 12.0;
	out[1] = x[2];
	out[2] = x[0];
	out[3] = fmod(fabs(x[0] * 7.31 + x[2] * 3.7), 5.0);
}

/* Correlation of column j of A and column k of B. */
static double corr(const lw_mat *A, size_t j, const lw_mat *B, size_t k)
{
	double ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
	size_t n = A->rows;

	for (size_t i = 0; i < n; i++) {
		ma += lw_mat_row(A, i)[j] / (double)n;
		mb += lw_mat_row(B, i)[k] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		double a = lw_mat_row(A, i)[j] - ma, b = lw_mat_row(B, i)[k] - mb;

		sab += a * b;
		saa += a * a;
		sbb += b * b;
	}
	return sab / sqrt(saa * sbb);
}

static void test_hetero_align__imputes_unmatched_columns(void **state)
{
	fixture_lw f;
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_align_options o = LW_HETERO_ALIGN_OPTIONS_INIT;
	lw_hetero_align_info info;
	lw_model *a = NULL;
	lw_mat Y, G, L;
	double base, err, other;

	(void)state;
	lw_make(&f, "lw", 3);
	user_make(&u, map, PART_DESC, 4, fill_partial, 400, 4);
	o.map_gamma = 0; /* the copied columns alone */
	assert_int_equal(lw_hetero_align(&a, &u.user, &f.lw, &o), 0);
	assert_int_equal(lw_hetero_align_info_get(&info, a), 0);
	assert_int_equal(info.matched, 2);
	assert_int_equal(info.source[0], 2);
	assert_int_equal(info.source[2], 1);
	assert_true(info.source[1] == SIZE_MAX && info.source[3] == SIZE_MAX);
	assert_true(info.bandwidth > 0 && info.bandwidth < 1);
	latent_rows(&L, NULL, 400, 4);
	assert_int_equal(lw_hetero_align_transform(&G, a, &u.X), 0);
	print_message("imputed income r = %.3f, distance r = %.3f\n", corr(&G, 1, &L, 1),
		      corr(&G, 3, &L, 3));
	/* Income = 2u + v and distance = u - v follow from age (u) and purchases (v). */
	assert_true(corr(&G, 1, &L, 1) > 0.9);
	assert_true(corr(&G, 3, &L, 3) > 0.9);
	assert_int_equal(lw_model_predict(&Y, a, &u.X), 0);
	base = baseline(u.y, 400);
	err = rmse(&Y, u.y);
	print_message("aligned RMSE %.3f, trivial baseline %.3f\n", err, base);
	assert_true(err < 0.5 * base);
	lw_mat_dispose(&Y);
	/* The local mean (Nadaraya-Watson) flattens the slopes of the imputed columns: worse. */
	o.local_linear = 0;
	other = realign_rmse(&a, &u, &f, &o);
	print_message("with the local mean: RMSE %.3f\n", other);
	assert_true(other > 1.3 * err);
	lw_mat_dispose(&G);
	lw_mat_dispose(&L);
	lw_model_free(a);
	user_dispose(&u);
	lw_dispose(&f);
	lw_hetero_map_free(map);
}

/* Age, and income in euros rather than thousands of euros, described alike: the income is
 * quantile-mapped back, and with age it gives purchases and distance. */
static const char *const RESCALED_DESC[2] = {
	LW_COLS[0],
	"yearly income of the customer in euros",
};

static void fill_rescaled(double *out, const double *x)
{
	out[0] = x[0];
	out[1] = x[1] * 1000.0;
}

static void test_hetero_align__undoes_a_change_of_units(void **state)
{
	fixture_lw f;
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_align_options o = LW_HETERO_ALIGN_OPTIONS_INIT;
	lw_hetero_align_info info;
	lw_model *a = NULL;
	lw_mat G, L, Y;
	double mae = 0, base, err, other;

	(void)state;
	lw_make(&f, "lw", 17);
	user_make(&u, map, RESCALED_DESC, 2, fill_rescaled, 500, 18);
	assert_int_equal(lw_hetero_align(&a, &u.user, &f.lw, NULL), 0);
	assert_int_equal(lw_hetero_align_info_get(&info, a), 0);
	assert_int_equal(info.matched, 1);
	assert_int_equal(info.similar, 1);
	assert_int_equal(info.source[1], 1);
	assert_int_equal(info.quantile[1], 1);
	latent_rows(&L, NULL, 500, 18);
	assert_int_equal(lw_hetero_align_transform(&G, a, &u.X), 0);
	/* Within a seventh of the income's spread (22) on average: the learnware's quantiles come
	 * from its 60 RKME points, not its rows. */
	for (size_t i = 0; i < 500; i++)
		mae += fabs(lw_mat_row(&G, i)[1] - lw_mat_row(&L, i)[1]) / 500;
	print_message("income in euros mapped back: mean error %.3f (spread 22)\n", mae);
	assert_true(mae < 3.0);
	assert_true(corr(&G, 1, &L, 1) > 0.995);
	assert_int_equal(lw_model_predict(&Y, a, &u.X), 0);
	base = baseline(u.y, 500);
	err = rmse(&Y, u.y);
	print_message("aligned RMSE %.3f, trivial baseline %.3f\n", err, base);
	assert_true(err < 0.4 * base);
	lw_mat_dispose(&Y);
	/* Without quantile maps the income is imputed from age alone: purchases are lost. */
	o.similar_cosine = 2;
	other = realign_rmse(&a, &u, &f, &o);
	print_message("with the income imputed: RMSE %.3f\n", other);
	assert_true(other > 2 * err);
	lw_mat_dispose(&G);
	lw_mat_dispose(&L);
	lw_model_free(a);
	user_dispose(&u);
	lw_dispose(&f);
	lw_hetero_map_free(map);
}

/* A map trained briefly on the learnware's own specification (60 steps). */
static lw_hetero_map *trained_map(const fixture_lw *f)
{
	lw_hetero_options o = LW_HETERO_OPTIONS_INIT;
	lw_hetero_source src[1] = { { f->rkme, &f->cols } };
	lw_hetero_map *map = NULL;

	o.steps = 60;
	assert_int_equal(lw_hetero_map_train(&map, src, 1, &o), 0);
	return map;
}

static void test_hetero_align__map_orders_rows_without_matches(void **state)
{
	fixture_lw f;
	fixture_user u;
	lw_hetero_map *map;
	lw_hetero_align_options o = LW_HETERO_ALIGN_OPTIONS_INIT;
	lw_model *a = NULL;
	lw_mat Y;
	double base, err;

	(void)state;
	lw_make(&f, "lw", 5);
	map = trained_map(&f);
	user_make(&u, map, PERM_DESC, 4, fill_permuted, 300, 6);
	o.match_cosine = o.similar_cosine = 2; /* carry nothing: the map alone places the rows */
	assert_int_equal(lw_hetero_align(&a, &u.user, &f.lw, &o), 0);
	assert_int_equal(lw_model_predict(&Y, a, &u.X), 0);
	base = baseline(u.y, 300);
	err = rmse(&Y, u.y);
	print_message("map-only aligned RMSE %.3f, trivial baseline %.3f\n", err, base);
	assert_true(err < 0.8 * base);
	lw_mat_dispose(&Y);
	lw_model_free(a);
	user_dispose(&u);
	lw_dispose(&f);
	lw_hetero_map_free(map);
}

/* ---- reusers --------------------------------------------------------- */

static void test_hetero_reuse__average_is_mean_of_aligned(void **state)
{
	fixture_lw f[2];
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_learnware lws[2];
	lw_hetero_reuser *r = NULL;
	lw_mat Y, A, B;

	(void)state;
	lw_make(&f[0], "a", 7);
	lw_make(&f[1], "b", 8);
	lws[0] = f[0].lw;
	lws[1] = f[1].lw;
	user_make(&u, map, PART_DESC, 4, fill_partial, 200, 9);
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, lws, 2, NULL, NULL, &o), 0);
	assert_int_equal(lw_hetero_reuser_predict(&Y, r, &u.X), 0);
	assert_int_equal(lw_model_predict(&A, lw_hetero_reuser_aligned(r, 0), &u.X), 0);
	assert_int_equal(lw_model_predict(&B, lw_hetero_reuser_aligned(r, 1), &u.X), 0);
	assert_null(lw_hetero_reuser_aligned(r, 2));
	for (size_t i = 0; i < Y.rows; i++)
		lwt_assert_near(Y.data[i], (A.data[i] + B.data[i]) / 2, 1e-9);
	assert_true(rmse(&Y, u.y) < 0.5 * baseline(u.y, 200));
	lw_mat_dispose(&Y);
	lw_mat_dispose(&A);
	lw_mat_dispose(&B);
	lw_hetero_reuser_free(r);
	user_dispose(&u);
	lw_dispose(&f[0]);
	lw_dispose(&f[1]);
	lw_hetero_map_free(map);
}

/* Twenty labels: each augmenting reuser fits and beats the trivial baseline on unseen rows. */
static void test_hetero_reuse__augment_with_few_labels(void **state)
{
	fixture_lw f[2];
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_learnware lws[2];
	lw_hetero_reuser *r = NULL;
	lw_mat Xl = LW_MAT_INIT, Xe = LW_MAT_INIT, Y;
	size_t n = 20, lab[20], ev[300];
	double yl[20], ye[300], e_aug, e_avg_aug, e_one;

	(void)state;
	lw_make(&f[0], "a", 10);
	lw_make(&f[1], "b", 11);
	lws[0] = f[0].lw;
	lws[1] = f[1].lw;
	user_make(&u, map, PART_DESC, 4, fill_partial, 320, 12);
	for (size_t i = 0; i < 320; i++)
		(i < n ? lab : ev)[i < n ? i : i - n] = i;
	assert_int_equal(lw_mat_take_rows(&Xl, &u.X, lab, n), 0);
	assert_int_equal(lw_mat_take_rows(&Xe, &u.X, ev, 300), 0);
	for (size_t i = 0; i < n; i++)
		yl[i] = u.y[i];
	for (size_t i = 0; i < 300; i++)
		ye[i] = u.y[i + n];

	o.method = LW_HETERO_REUSE_AUGMENT;
	o.align.map_gamma = 0;
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, lws, 1, &Xl, yl, &o), 0);
	assert_int_equal(lw_hetero_reuser_predict(&Y, r, &Xe), 0);
	assert_int_equal(Y.cols, 1);
	e_one = rmse(&Y, ye);
	lw_mat_dispose(&Y);
	lw_hetero_reuser_free(r);

	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, lws, 2, &Xl, yl, &o), 0);
	assert_int_equal(lw_hetero_reuser_predict(&Y, r, &Xe), 0);
	e_aug = rmse(&Y, ye);
	lw_mat_dispose(&Y);
	lw_hetero_reuser_free(r);

	o.method = LW_HETERO_REUSE_AVERAGE_AUGMENT;
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, lws, 2, &Xl, yl, &o), 0);
	assert_int_equal(lw_hetero_reuser_predict(&Y, r, &Xe), 0);
	e_avg_aug = rmse(&Y, ye);
	lw_mat_dispose(&Y);
	lw_hetero_reuser_free(r);

	print_message("augment 1: %.3f, augment 2: %.3f, average-augment: %.3f, baseline %.3f\n",
		      e_one, e_aug, e_avg_aug, baseline(ye, 300));
	assert_true(e_one < 0.5 * baseline(ye, 300));
	assert_true(e_aug < 0.5 * baseline(ye, 300));
	assert_true(e_avg_aug < 0.5 * baseline(ye, 300));
	lw_mat_dispose(&Xl);
	lw_mat_dispose(&Xe);
	user_dispose(&u);
	lw_dispose(&f[0]);
	lw_dispose(&f[1]);
	lw_hetero_map_free(map);
}

/* A 3-class learnware helps a binary user task: its probabilities are features. */
static void test_hetero_reuse__augment_across_label_spaces(void **state)
{
	lw_train_options t = LW_TRAIN_OPTIONS_INIT;
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_map *map = untrained_map();
	lw_hetero_learnware l;
	lw_hetero_reuser *r = NULL;
	fixture_user u;
	lw_model *m = NULL;
	lw_rkme *rk = NULL;
	lw_mat X, cols, Y;
	double y3[600], yb[300];
	size_t right = 0;

	(void)state;
	latent_rows(&X, y3, 600, 13);
	for (size_t i = 0; i < 600; i++)
		y3[i] = y3[i] < -1 ? 0 : y3[i] < 1 ? 1 : 2;
	t.kind = LW_MODEL_LOGISTIC;
	t.task = LW_TASK_CLASSIFICATION;
	t.holdout = 0;
	assert_int_equal(lw_train(&m, NULL, &X, y3, &t), 0);
	ro.k = 60;
	assert_int_equal(lw_rkme_fit(&rk, &X, &ro), 0);
	embed(&cols, LW_COLS, 4);
	l = (lw_hetero_learnware){ "three", m, rk, &cols };
	user_make(&u, map, PERM_DESC, 4, fill_permuted, 300, 14);
	for (size_t i = 0; i < 300; i++)
		yb[i] = u.y[i] > 0;
	o.method = LW_HETERO_REUSE_AUGMENT;
	o.task = LW_TASK_CLASSIFICATION;
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, &l, 1, &u.X, yb, &o), 0);
	assert_int_equal(lw_hetero_reuser_predict(&Y, r, &u.X), 0);
	assert_int_equal(Y.cols, 1);
	for (size_t i = 0; i < 300; i++)
		right += Y.data[i] == yb[i];
	assert_true(right > 270);
	lw_mat_dispose(&Y);
	lw_hetero_reuser_free(r);
	/* Averaging needs the user's label space: 3 outputs against 2 classes is refused. */
	o.method = LW_HETERO_REUSE_AVERAGE;
	o.n_classes = 2;
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, &l, 1, NULL, NULL, &o), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "answers 3 columns"));
	lw_mat_dispose(&X);
	lw_mat_dispose(&cols);
	lw_model_free(m);
	lw_rkme_free(rk);
	user_dispose(&u);
	lw_hetero_map_free(map);
}

/* ---- errors ---------------------------------------------------------- */

static void expect_error(int err, const char *needle)
{
	assert_int_equal(err, LW_EINVALID);
	if (!strstr(lw_error_last()->message, needle))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, needle);
}

static void test_hetero_reuse__bad_inputs_are_refused(void **state)
{
	fixture_lw f;
	fixture_user u;
	lw_hetero_map *map = untrained_map();
	lw_hetero_align_options ao = LW_HETERO_ALIGN_OPTIONS_INIT;
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_learnware bad, two[2];
	lw_hetero_user bu;
	lw_hetero_reuser *r = NULL;
	lw_model *a = NULL;
	lw_mat narrow = LW_MAT_INIT, G;
	double y[300] = { 0 };

	(void)state;
	lw_make(&f, "lw", 15);
	user_make(&u, map, PART_DESC, 4, fill_partial, 300, 16);
	/* embeddings that do not describe the rows */
	assert_int_equal(lw_mat_init(&narrow, 3, u.cols.cols), 0);
	memcpy(narrow.data, u.cols.data, 3 * u.cols.cols * sizeof(double));
	bu = u.user;
	bu.columns = &narrow;
	expect_error(lw_hetero_align(&a, &bu, &f.lw, NULL), "column embeddings are 3 x 256");
	assert_null(a);
	/* the learnware's embeddings against its RKME */
	bad = f.lw;
	bad.columns = &narrow;
	expect_error(lw_hetero_align(&a, &u.user, &bad, NULL), "learnware 'lw' has 3 x 256");
	/* nothing matched and the map switched off */
	ao.match_cosine = ao.similar_cosine = 2;
	ao.map_gamma = 0;
	expect_error(lw_hetero_align(&a, &u.user, &f.lw, &ao), "no column description matches");
	ao = (lw_hetero_align_options)LW_HETERO_ALIGN_OPTIONS_INIT;
	ao.bandwidth = -1;
	expect_error(lw_hetero_align(&a, &u.user, &f.lw, &ao), "bandwidth");
	ao.version = 99;
	expect_error(lw_hetero_align(&a, &u.user, &f.lw, &ao), "version 99");
	/* a model that is not aligned */
	expect_error(lw_hetero_align_transform(&G, f.model, &u.X), "not made by lw_hetero_align");
	/* reusers */
	two[0] = two[1] = f.lw;
	expect_error(lw_hetero_reuser_fit(&r, &u.user, two, 2, NULL, NULL, &o), "given twice");
	expect_error(lw_hetero_reuser_fit(&r, &u.user, two, 0, NULL, NULL, &o), "no learnwares");
	o.method = LW_HETERO_REUSE_AUGMENT;
	expect_error(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, NULL, NULL, &o), "labelled rows");
	expect_error(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, &narrow, y, &o),
		     "labelled rows have 256 columns");
	y[7] = NAN;
	expect_error(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, &u.X, y, &o), "label row 8");
	y[7] = 0.5;
	o.task = LW_TASK_CLASSIFICATION;
	expect_error(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, &u.X, y, &o),
		     "0.5 is not a class index");
	o.method = 9;
	expect_error(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, &u.X, y, &o), "unknown hetero reuse");
	assert_null(r);
	/* predict with rows of the wrong width */
	o = (lw_hetero_reuse_options)LW_HETERO_REUSE_OPTIONS_INIT;
	assert_int_equal(lw_hetero_reuser_fit(&r, &u.user, &f.lw, 1, NULL, NULL, &o), 0);
	expect_error(lw_hetero_reuser_predict(&G, r, &narrow), "takes the user's 4");
	lw_hetero_reuser_free(r);
	lw_mat_dispose(&narrow);
	user_dispose(&u);
	lw_dispose(&f);
	lw_hetero_map_free(map);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hetero_align__recovers_permuted_columns),
		cmocka_unit_test(test_hetero_align__imputes_unmatched_columns),
		cmocka_unit_test(test_hetero_align__undoes_a_change_of_units),
		cmocka_unit_test(test_hetero_align__map_orders_rows_without_matches),
		cmocka_unit_test(test_hetero_reuse__average_is_mean_of_aligned),
		cmocka_unit_test(test_hetero_reuse__augment_with_few_labels),
		cmocka_unit_test(test_hetero_reuse__augment_across_label_spaces),
		cmocka_unit_test(test_hetero_reuse__bad_inputs_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
