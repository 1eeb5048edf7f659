#include "testutil.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "reuse.h"

/* ---- helpers -------------------------------------------------------- */

static char *tmpdir;

static int setup(void **state)
{
	(void)state;
	tmpdir = lwt_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lwt_rmtree(tmpdir);
	free(tmpdir);
	return 0;
}

/* A built-in model from its JSON text (docs/models.md). */
static lw_model *model_json(const char *json)
{
	static int seq;
	char name[32], *path;
	lw_model *m = NULL;

	snprintf(name, sizeof(name), "m%d.json", seq++);
	path = lwt_write_file(tmpdir, name, json);
	if (lw_model_load_file(&m, 0, path) != 0)
		fail_msg("%s", lw_error_last()->message);
	free(path);
	return m;
}

/* y = w . x + b over d inputs. */
static lw_model *linear(const double *w, size_t d, double b)
{
	char json[1024];
	int at = snprintf(json, sizeof(json),
			  "{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"linear\","
			  "\"task\":\"regression\",\"input_dim\":%zu,\"output_dim\":1,"
			  "\"layers\":[{\"weights\":[[", d);

	for (size_t j = 0; j < d; j++)
		at += snprintf(json + at, sizeof(json) - (size_t)at, "%s%.17g", j ? "," : "", w[j]);
	snprintf(json + at, sizeof(json) - (size_t)at,
		 "]],\"bias\":[%.17g],\"activation\":\"identity\"}]}", b);
	return model_json(json);
}

/* A 2-input softmax classifier over k classes: rows of W (k x 2) and bias b. */
static lw_model *logistic(const double *W, const double *b, size_t k)
{
	char json[2048];
	int at = snprintf(json, sizeof(json),
			  "{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"logistic\","
			  "\"task\":\"classification\",\"input_dim\":2,\"output_dim\":%zu,"
			  "\"layers\":[{\"weights\":[", k);

	for (size_t c = 0; c < k; c++)
		at += snprintf(json + at, sizeof(json) - (size_t)at, "%s[%.17g,%.17g]",
			       c ? "," : "", W[2 * c], W[2 * c + 1]);
	at += snprintf(json + at, sizeof(json) - (size_t)at, "],\"bias\":[");
	for (size_t c = 0; c < k; c++)
		at += snprintf(json + at, sizeof(json) - (size_t)at, "%s%.17g", c ? "," : "", b[c]);
	snprintf(json + at, sizeof(json) - (size_t)at, "],\"activation\":\"softmax\"}]}");
	return model_json(json);
}

/* A classifier that answers the probabilities p (k of them) whatever the row. */
static lw_model *constant_probs(const double *p, size_t k)
{
	double W[16] = { 0 }, b[8];

	for (size_t c = 0; c < k; c++)
		b[c] = log(p[c]);
	return logistic(W, b, k);
}

/* A model whose predict always fails. */
static int broken_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	(void)m;
	(void)out;
	(void)X;
	lw_error_set(LW_ERRCLASS_INVALID, "the model crashed");
	return LW_ERROR;
}

static void broken_free(lw_model *m)
{
	(void)m;
}

static const lw_model_ops broken_ops = { broken_predict, NULL, broken_free };

static lw_model *broken(size_t d, size_t k)
{
	lw_model *m;

	assert_int_equal(lw__model_new(&m, LW_MODEL_PROCESS, &broken_ops, NULL, d, k), 0);
	return m;
}

/* n rows of N(centre, sd^2) in 2-D. */
static void blob(lw_mat *X, size_t n, double cx, double cy, double sd, uint64_t seed)
{
	lw_rng rng;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(X, n, 2), 0);
	for (size_t i = 0; i < n; i++) {
		lw_mat_row(X, i)[0] = cx + sd * lw_rng_normal(&rng);
		lw_mat_row(X, i)[1] = cy + sd * lw_rng_normal(&rng);
	}
}

/* Rows of a then b, one matrix. */
static void stack(lw_mat *out, const lw_mat *a, const lw_mat *b)
{
	assert_int_equal(lw_mat_init(out, a->rows + b->rows, a->cols), 0);
	memcpy(out->data, a->data, a->rows * a->cols * sizeof(double));
	memcpy(out->data + a->rows * a->cols, b->data, b->rows * b->cols * sizeof(double));
}

static lw_rkme *spec_of(const lw_mat *X)
{
	lw_rkme_options ro;
	lw_rkme *r = NULL;

	lw_rkme_options_init(&ro);
	ro.k = 30;
	if (lw_rkme_fit(&r, X, &ro) != 0)
		fail_msg("%s", lw_error_last()->message);
	return r;
}

static lw_reuser *fit_ok(const lw_reuse_member *m, size_t n, const lw_mat *X,
			 const lw_rkme *user, const double *y, const lw_reuse_options *o)
{
	lw_reuser *r = NULL;

	if (lw_reuser_fit(&r, m, n, X, user, y, o) != 0)
		fail_msg("fit: %s", lw_error_last()->message);
	return r;
}

static void predict_ok(lw_mat *out, lw_reuser *r, const lw_reuse_member *m, size_t n,
		       const lw_mat *X)
{
	if (lw_reuser_predict(out, r, m, n, X) != 0)
		fail_msg("predict: %s", lw_error_last()->message);
}

/* Save, load, predict again: the same bits. */
static void assert_round_trip(lw_reuser *r, const lw_reuse_member *m, size_t n, const lw_mat *X)
{
	char *path = lwt_write_file(tmpdir, "reuser.json", "");
	lw_reuser *back = NULL;
	lw_mat a = LW_MAT_INIT, b = LW_MAT_INIT;
	lw_reuser_info ia, ib;

	if (lw_reuser_save(r, path) != 0)
		fail_msg("save: %s", lw_error_last()->message);
	if (lw_reuser_load(&back, path) != 0)
		fail_msg("load: %s", lw_error_last()->message);
	predict_ok(&a, r, m, n, X);
	predict_ok(&b, back, m, n, X);
	assert_int_equal(a.rows, b.rows);
	assert_int_equal(a.cols, b.cols);
	assert_memory_equal(a.data, b.data, a.rows * a.cols * sizeof(double));
	lw_reuser_info_get(&ia, r);
	lw_reuser_info_get(&ib, back);
	assert_int_equal(ia.method, ib.method);
	assert_int_equal(ia.task, ib.task);
	assert_int_equal(ia.n_members, ib.n_members);
	assert_int_equal(ia.input_dim, ib.input_dim);
	assert_int_equal(ia.n_kept, ib.n_kept);
	for (size_t i = 0; i < ia.n_members; i++)
		assert_string_equal(ia.member_ids[i], ib.member_ids[i]);
	assert_null(ib.member_ids[ib.n_members]);
	lw_mat_dispose(&a);
	lw_mat_dispose(&b);
	lw_reuser_free(back);
	free(path);
}

#define assert_fails(call, code, fragment)                                             \
	do {                                                                           \
		int rc_ = (call);                                                      \
		if (rc_ != (code))                                                     \
			fail_msg("%s returned %d (%s), expected %d", #call, rc_,       \
				 lw_error_last()->message, (int)(code));               \
		if (!strstr(lw_error_last()->message, fragment))                       \
			fail_msg("'%s' lacks '%s'", lw_error_last()->message, fragment); \
	} while (0)

/* ---- names and options ------------------------------------------------ */

static void test_reuse_names__round_trip(void **state)
{
	lw_reuse_options o;

	(void)state;
	for (int m = LW_REUSE_AVERAGE; m <= LW_REUSE_FEATURE_AUGMENT; m++)
		assert_int_equal(lw_reuse_method_from_name(lw_reuse_method_name((lw_reuse_method)m)), m);
	assert_string_equal(lw_reuse_method_name(LW_REUSE_JOB_SELECTOR), "job-selector");
	assert_null(lw_reuse_method_name(0));
	assert_int_equal(lw_reuse_method_from_name("vote"), 0);
	assert_int_equal(lw_average_mode_from_name("vote_by_prob"), LW_AVERAGE_VOTE_PROB);
	assert_null(lw_average_mode_name(LW_AVERAGE_AUTO));
	assert_int_equal(lw_reuse_options_init(&o, LW_REUSE_OPTIONS_VERSION), 0);
	assert_int_equal(o.herding_num, 1000);
	assert_int_equal(o.selector_rounds, 2000);
	assert_int_equal(o.selector_patience, 300);
	assert_int_equal(o.prune_maxgen, 500);
	assert_int_equal(lw_reuse_options_init(&o, 99), LW_EINVALID);
}

/* ---- averaging -------------------------------------------------------- */

static void test_reuse_average__regression_mean(void **state)
{
	double w1[] = { 1, 0 }, w2[] = { 3, 0 };
	lw_reuse_member m[2] = { { "a", linear(w1, 2, 1), NULL }, { "b", linear(w2, 2, -1), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_mat X, P;
	lw_reuser *r;

	(void)state;
	blob(&X, 50, 0, 0, 2, 1);
	r = fit_ok(m, 2, NULL, NULL, NULL, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.average, LW_AVERAGE_MEAN);
	assert_int_equal(info.input_dim, 2);
	assert_int_equal(info.output_dim, 1);
	predict_ok(&P, r, m, 2, &X);
	assert_int_equal(P.rows, 50);
	for (size_t i = 0; i < 50; i++)
		lwt_assert_near(P.data[i], 2 * lw_mat_row(&X, i)[0], 1e-12);
	assert_round_trip(r, m, 2, &X);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_mat_dispose(&X);
	lw_model_free(m[0].model);
	lw_model_free(m[1].model);
}

static void test_reuse_average__vote_by_label_majority_and_ties(void **state)
{
	double p0[] = { 0.6, 0.3, 0.1 }, p1[] = { 0.2, 0.7, 0.1 };
	double w0[] = { 0, 0 };
	lw_reuse_member m[4] = { { "zero", constant_probs(p0, 3), NULL },
				 { "one", constant_probs(p1, 3), NULL },
				 { "one-again", constant_probs(p1, 3), NULL },
				 { "two-label", linear(w0, 2, 2), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuse_member tie[2] = { m[3], m[0] };
	lw_mat X, P;
	lw_reuser *r;

	(void)state;
	o.task = LW_TASK_CLASSIFICATION;
	o.average = LW_AVERAGE_VOTE_LABEL;
	blob(&X, 5, 0, 0, 1, 2);
	/* 0, 1, 1, 2 (a label member): class 1 wins. */
	r = fit_ok(m, 4, NULL, NULL, NULL, &o);
	predict_ok(&P, r, m, 4, &X);
	assert_int_equal(P.cols, 1);
	for (size_t i = 0; i < 5; i++)
		assert_true(P.data[i] == 1.0);
	assert_round_trip(r, m, 4, &X);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	/* 2 against 0: a tie goes to the lower class, as numpy's bincount argmax. */
	r = fit_ok(tie, 2, NULL, NULL, NULL, &o);
	predict_ok(&P, r, tie, 2, &X);
	for (size_t i = 0; i < 5; i++)
		assert_true(P.data[i] == 0.0);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_mat_dispose(&X);
	for (int i = 0; i < 4; i++)
		lw_model_free(m[i].model);
}

/* softmax(p) averaged over members, as the reference does even for probabilities. */
static void test_reuse_average__vote_by_prob_softmaxes_each_output(void **state)
{
	/* By labels 1 wins (two votes); by softmaxed probabilities 0 does. */
	double p0[] = { 0.98, 0.01, 0.01 }, p1[] = { 0.3, 0.36, 0.34 };
	lw_reuse_member m[3] = { { "a", constant_probs(p0, 3), NULL },
				 { "b", constant_probs(p1, 3), NULL },
				 { "c", constant_probs(p1, 3), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	double mean[3] = { 0 };
	const double *ps[3] = { p0, p1, p1 };
	lw_reuser_info info;
	lw_mat X, P;
	lw_reuser *r;
	size_t want = 0;

	(void)state;
	for (int j = 0; j < 3; j++) {
		double s = 0;

		for (int c = 0; c < 3; c++)
			s += exp(ps[j][c]);
		for (int c = 0; c < 3; c++)
			mean[c] += exp(ps[j][c]) / s / 3;
	}
	for (size_t c = 1; c < 3; c++)
		want = mean[c] > mean[want] ? c : want;
	o.task = LW_TASK_CLASSIFICATION;
	blob(&X, 4, 0, 0, 1, 3);
	r = fit_ok(m, 3, &X, NULL, NULL, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.average, LW_AVERAGE_VOTE_PROB);
	assert_int_equal(info.n_classes, 3);
	predict_ok(&P, r, m, 3, &X);
	for (size_t i = 0; i < 4; i++)
		assert_true(P.data[i] == (double)want);
	assert_int_equal(want, 0);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	o.average = LW_AVERAGE_VOTE_LABEL;
	r = fit_ok(m, 3, &X, NULL, NULL, &o);
	predict_ok(&P, r, m, 3, &X);
	assert_true(P.data[0] == 1.0);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_mat_dispose(&X);
	for (int i = 0; i < 3; i++)
		lw_model_free(m[i].model);
}

/* ---- job selector ------------------------------------------------------ */

/*
 * Two blobs far apart; learnware A is y = 2 x0 + 1 (right on blob A),
 * B is y = -x1 + 0.5 x0 - 4 (right on blob B).  The user holds 30% A
 * rows and 70% B rows.
 */
static void test_reuse_selector__routes_two_blobs(void **state)
{
	double wa[] = { 2, 0 }, wb[] = { 0.5, -1 };
	lw_mat A, B, UA, UB, U, P;
	lw_reuse_member m[2];
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_reuser *r;
	size_t *route, right = 0, exact = 0;

	(void)state;
	blob(&A, 300, -3, 0, 0.7, 10);
	blob(&B, 300, 3, 0, 0.7, 11);
	blob(&UA, 150, -3, 0, 0.7, 12);
	blob(&UB, 350, 3, 0, 0.7, 13);
	stack(&U, &UA, &UB);
	m[0] = (lw_reuse_member){ "A", linear(wa, 2, 1), spec_of(&A) };
	m[1] = (lw_reuse_member){ "B", linear(wb, 2, -4), spec_of(&B) };
	o.method = LW_REUSE_JOB_SELECTOR;
	o.seed = 5;
	/* A missing cell: the column's mean for the weights, xgboost's default branch for routing. */
	lw_mat_row(&U, 3)[1] = NAN;
	r = fit_ok(m, 2, &U, NULL, NULL, &o);
	lw_reuser_info_get(&info, r);
	lwt_assert_near(info.weights[0], 0.3, 0.05);
	lwt_assert_near(info.weights[0] + info.weights[1], 1, 1e-9);
	assert_true(info.selector_rounds >= 1 && info.selector_rounds <= 2000);
	route = malloc(U.rows * sizeof(size_t));
	assert_int_equal(lw_reuser_route(route, r, &U), 0);
	predict_ok(&P, r, m, 2, &U);
	for (size_t i = 0; i < U.rows; i++) {
		const double *x = lw_mat_row(&U, i);
		size_t truth = i < 150 ? 0 : 1;
		double want = truth == 0 ? 2 * x[0] + 1 : 0.5 * x[0] - x[1] - 4;

		right += route[i] == truth;
		exact += fabs(P.data[i] - want) < 1e-9;
	}
	if (right < 0.95 * (double)U.rows || exact < 0.95 * (double)U.rows)
		fail_msg("routed %zu of %zu rows right, %zu predictions exact", right, U.rows, exact);
	assert_round_trip(r, m, 2, &U);
	free(route);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_mat_dispose(&A);
	lw_mat_dispose(&B);
	lw_mat_dispose(&UA);
	lw_mat_dispose(&UB);
	lw_mat_dispose(&U);
	for (int i = 0; i < 2; i++) {
		lw_model_free(m[i].model);
		lw_rkme_free((lw_rkme *)m[i].rkme);
	}
}

/* Three classifiers, each answering its own class: the selector's classes are the blobs'. */
static void test_reuse_selector__three_members_classify(void **state)
{
	double centres[3][2] = { { -4, 0 }, { 4, 0 }, { 0, 6 } };
	lw_mat D[3], U[3], UU, UUU, P;
	lw_reuse_member m[3];
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_reuser *r;
	lw_rkme *user;
	size_t right = 0;
	char ids[3][8];

	(void)state;
	for (int i = 0; i < 3; i++) {
		double p[3] = { 0.1, 0.1, 0.1 };

		p[i] = 0.8;
		blob(&D[i], 200, centres[i][0], centres[i][1], 0.8, 20 + (uint64_t)i);
		blob(&U[i], 100, centres[i][0], centres[i][1], 0.8, 30 + (uint64_t)i);
		snprintf(ids[i], sizeof(ids[i]), "c%d", i);
		m[i] = (lw_reuse_member){ ids[i], constant_probs(p, 3), spec_of(&D[i]) };
	}
	stack(&UU, &U[0], &U[1]);
	stack(&UUU, &UU, &U[2]);
	/* A user RKME instead of rows; it is reduced, unlike the one fitted from rows. */
	user = spec_of(&UUU);
	o.method = LW_REUSE_JOB_SELECTOR;
	o.task = LW_TASK_CLASSIFICATION;
	o.herding_num = 300;
	r = fit_ok(m, 3, NULL, user, NULL, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.n_classes, 3);
	for (int i = 0; i < 3; i++)
		lwt_assert_near(info.weights[i], 1.0 / 3, 0.07);
	predict_ok(&P, r, m, 3, &UUU);
	for (size_t a = 0; a < UUU.rows; a++)
		right += P.data[a] == (double)(a / 100);
	if (right < 0.95 * (double)UUU.rows)
		fail_msg("%zu of %zu rows right", right, UUU.rows);
	assert_round_trip(r, m, 3, &UUU);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_rkme_free(user);
	for (int i = 0; i < 3; i++) {
		lw_mat_dispose(&D[i]);
		lw_mat_dispose(&U[i]);
		lw_model_free(m[i].model);
		lw_rkme_free((lw_rkme *)m[i].rkme);
	}
	lw_mat_dispose(&UU);
	lw_mat_dispose(&UUU);
}

static void test_reuse_selector__one_member_is_that_member(void **state)
{
	double w[] = { 1, 1 };
	lw_mat X, P;
	lw_reuse_member m[1];
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_reuser *r;

	(void)state;
	blob(&X, 40, 1, 1, 1, 40);
	m[0] = (lw_reuse_member){ "only", linear(w, 2, 0), spec_of(&X) };
	o.method = LW_REUSE_JOB_SELECTOR;
	r = fit_ok(m, 1, &X, NULL, NULL, &o);
	lw_reuser_info_get(&info, r);
	assert_true(info.weights[0] == 1.0);
	assert_int_equal(info.selector_rounds, 0);
	predict_ok(&P, r, m, 1, &X);
	for (size_t i = 0; i < X.rows; i++)
		lwt_assert_near(P.data[i], lw_mat_row(&X, i)[0] + lw_mat_row(&X, i)[1], 1e-12);
	assert_round_trip(r, m, 1, &X);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	lw_mat_dispose(&X);
	lw_model_free(m[0].model);
	lw_rkme_free((lw_rkme *)m[0].rkme);
}

static int cancel_at_selector(const char *stage, double done, void *payload)
{
	(void)done;
	(*(int *)payload)++;
	return !strcmp(stage, "selector");
}

static void test_reuse_selector__progress_can_cancel(void **state)
{
	double w[] = { 1, 0 };
	lw_mat A, B, U;
	lw_reuse_member m[2];
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	int calls = 0;

	(void)state;
	blob(&A, 100, -3, 0, 0.5, 50);
	blob(&B, 100, 3, 0, 0.5, 51);
	stack(&U, &A, &B);
	m[0] = (lw_reuse_member){ "A", linear(w, 2, 0), spec_of(&A) };
	m[1] = (lw_reuse_member){ "B", linear(w, 2, 1), spec_of(&B) };
	o.method = LW_REUSE_JOB_SELECTOR;
	o.herding_num = 100;
	o.progress = cancel_at_selector;
	o.payload = &calls;
	assert_fails(lw_reuser_fit(&r, m, 2, &U, NULL, NULL, &o), LW_ECANCEL, "cancelled");
	assert_null(r);
	assert_true(calls >= 3);
	lw_mat_dispose(&A);
	lw_mat_dispose(&B);
	lw_mat_dispose(&U);
	for (int i = 0; i < 2; i++) {
		lw_model_free(m[i].model);
		lw_rkme_free((lw_rkme *)m[i].rkme);
	}
}

/* ---- ensemble pruning --------------------------------------------------- */

static void test_reuse_prune__keeps_the_pair_whose_mean_is_right(void **state)
{
	double w1[] = { 1, 0 }, w3[] = { 3, 0 }, wm[] = { -1, 0 };
	lw_reuse_member m[4] = { { "up", linear(w1, 2, 0.5), NULL },
				 { "wild", linear(w3, 2, 0), NULL },
				 { "down", linear(w1, 2, -0.5), NULL },
				 { "flip", linear(wm, 2, 2), NULL } };
	lw_reuse_member shuffled[4] = { m[3], m[1], m[0], m[2] };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_mat X, T, P;
	lw_reuser *r;
	double *y;

	(void)state;
	blob(&X, 60, 0, 0, 2, 60);
	blob(&T, 30, 0, 0, 2, 61);
	y = malloc(X.rows * sizeof(double));
	for (size_t i = 0; i < X.rows; i++)
		y[i] = lw_mat_row(&X, i)[0];
	o.method = LW_REUSE_ENSEMBLE_PRUNING;
	o.seed = 3;
	r = fit_ok(m, 4, &X, NULL, y, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.n_kept, 2);
	assert_int_equal(info.kept[0], 0);
	assert_int_equal(info.kept[1], 2);
	/* Members again, in another order: matched by id. */
	predict_ok(&P, r, shuffled, 4, &T);
	for (size_t i = 0; i < T.rows; i++)
		lwt_assert_near(P.data[i], lw_mat_row(&T, i)[0], 1e-12);
	assert_round_trip(r, m, 4, &T);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	free(y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&T);
	for (int i = 0; i < 4; i++)
		lw_model_free(m[i].model);
}

static void test_reuse_prune__classification_votes_the_kept(void **state)
{
	double Wr[] = { -10, 0, 10, 0 }, Wr2[] = { -20, 0, 20, 0 }, b[] = { 0, 0 };
	double p0[] = { 0.9, 0.1 }, p1[] = { 0.2, 0.8 };
	lw_reuse_member m[4] = { { "all-zero", constant_probs(p0, 2), NULL },
				 { "right", logistic(Wr, b, 2), NULL },
				 { "all-one", constant_probs(p1, 2), NULL },
				 { "right-too", logistic(Wr2, b, 2), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_mat X, P;
	lw_reuser *r;
	double *y;

	(void)state;
	blob(&X, 80, 0, 0, 2, 70);
	y = malloc(X.rows * sizeof(double));
	for (size_t i = 0; i < X.rows; i++)
		y[i] = lw_mat_row(&X, i)[0] > 0;
	o.method = LW_REUSE_ENSEMBLE_PRUNING;
	o.task = LW_TASK_CLASSIFICATION;
	r = fit_ok(m, 4, &X, NULL, y, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.n_kept, 2);
	assert_int_equal(info.kept[0], 1);
	assert_int_equal(info.kept[1], 3);
	predict_ok(&P, r, m, 4, &X);
	for (size_t i = 0; i < X.rows; i++)
		assert_true(P.data[i] == y[i]);
	assert_round_trip(r, m, 4, &X);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	free(y);
	lw_mat_dispose(&X);
	for (int i = 0; i < 4; i++)
		lw_model_free(m[i].model);
}

/* ---- feature augmentation ------------------------------------------------ */

/* Leave-one-out by refitting n times, against the one-SVD formula. */
static double brute_loo(const lw_mat *A, const double *y, double alpha)
{
	size_t n = A->rows, p = A->cols;
	double sum = 0;

	for (size_t out = 0; out < n; out++) {
		double xm[16] = { 0 }, ym = 0, M[256] = { 0 }, v[16] = { 0 }, pred;

		for (size_t i = 0; i < n; i++) {
			if (i == out)
				continue;
			ym += y[i] / (double)(n - 1);
			for (size_t j = 0; j < p; j++)
				xm[j] += lw_mat_row(A, i)[j] / (double)(n - 1);
		}
		for (size_t i = 0; i < n; i++) {
			const double *a = lw_mat_row(A, i);

			if (i == out)
				continue;
			for (size_t j = 0; j < p; j++) {
				v[j] += (a[j] - xm[j]) * (y[i] - ym);
				for (size_t t = 0; t < p; t++)
					M[j * p + t] += (a[j] - xm[j]) * (a[t] - xm[t]);
			}
		}
		for (size_t j = 0; j < p; j++)
			M[j * p + j] += alpha;
		assert_int_equal(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)p, 1, M,
					       (lapack_int)p, v, 1), 0);
		pred = ym;
		for (size_t j = 0; j < p; j++)
			pred += v[j] * (lw_mat_row(A, out)[j] - xm[j]);
		sum += (y[out] - pred) * (y[out] - pred);
	}
	return sum / (double)n;
}

static void test_reuse_ridge__loo_matches_refitting(void **state)
{
	size_t shapes[2][2] = { { 15, 3 }, { 6, 9 } };

	(void)state;
	for (int s = 0; s < 2; s++) {
		size_t n = shapes[s][0], p = shapes[s][1];
		double y[16], coef[16], icpt, alpha, mse, one[1] = { 0.7 };
		lw_rng rng;
		lw_mat A;

		lw_rng_seed(&rng, 80 + (uint64_t)s);
		assert_int_equal(lw_mat_init(&A, n, p), 0);
		for (size_t i = 0; i < n; i++) {
			y[i] = lw_rng_normal(&rng);
			for (size_t j = 0; j < p; j++)
				lw_mat_row(&A, i)[j] = lw_rng_normal(&rng) + (double)j;
		}
		assert_int_equal(lw__ridge_loo(coef, &icpt, &alpha, &mse, &A, y, one, 1), 0);
		assert_true(alpha == 0.7);
		lwt_assert_near(mse, brute_loo(&A, y, 0.7), 1e-9 * (1 + mse));
		lw_mat_dispose(&A);
	}
}

/* y = 2 relu(x1) + 3 x0: only the member's (non-linear) output makes it linear. */
static void test_reuse_augment__recovers_member_and_feature(void **state)
{
	const char *mlp = "{\"format\":\"learnware-model\",\"version\":1,\"kind\":\"mlp\","
			  "\"task\":\"regression\",\"input_dim\":2,\"output_dim\":1,"
			  "\"layers\":[{\"weights\":[[0,1]],\"bias\":[0],\"activation\":\"relu\"},"
			  "{\"weights\":[[1]],\"bias\":[0],\"activation\":\"identity\"}]}";
	lw_reuse_member m[1] = { { "relu", model_json(mlp), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_mat X, T, P;
	lw_reuser *r;
	double *y, fill = 0;

	(void)state;
	blob(&X, 200, 0, 0, 1.5, 90);
	blob(&T, 50, 0, 0, 1.5, 91);
	y = malloc(X.rows * sizeof(double));
	for (size_t i = 0; i < X.rows; i++) {
		const double *x = lw_mat_row(&X, i);

		y[i] = 2 * (x[1] > 0 ? x[1] : 0) + 3 * x[0];
	}
	/* A missing cell is filled with its column's mean. */
	lw_mat_row(&X, 7)[0] = NAN;
	for (size_t i = 0; i < X.rows; i++)
		fill += i == 7 ? 0 : lw_mat_row(&X, i)[0] / (double)(X.rows - 1);
	y[7] = 2 * (lw_mat_row(&X, 7)[1] > 0 ? lw_mat_row(&X, 7)[1] : 0) + 3 * fill;
	o.method = LW_REUSE_FEATURE_AUGMENT;
	r = fit_ok(m, 1, &X, NULL, y, &o);
	lw_reuser_info_get(&info, r);
	assert_true(info.penalty == 0.01);
	assert_true(info.cv_score < 1e-3);
	predict_ok(&P, r, m, 1, &T);
	for (size_t i = 0; i < T.rows; i++) {
		const double *x = lw_mat_row(&T, i);

		lwt_assert_near(P.data[i], 2 * (x[1] > 0 ? x[1] : 0) + 3 * x[0], 2e-2);
	}
	lw_mat_row(&T, 0)[1] = NAN;
	assert_round_trip(r, m, 1, &T);
	lw_mat_dispose(&P);
	lw_reuser_free(r);
	free(y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&T);
	lw_model_free(m[0].model);
}

/* Labels are the member's classes shifted by one: learnt through its probabilities. */
static void test_reuse_augment__classification_learns_a_relabelling(void **state)
{
	double W[] = { 3, 0, -1.5, 2.6, -1.5, -2.6 }, b[] = { 0, 0, 0 };
	lw_reuse_member m[1] = { { "sectors", logistic(W, b, 3), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser_info info;
	lw_mat X, T, P, Q;
	lw_reuser *r;
	double *y;
	size_t right = 0;

	(void)state;
	blob(&X, 150, 0, 0, 2, 100);
	blob(&T, 100, 0, 0, 2, 101);
	assert_int_equal(lw_model_predict(&Q, m[0].model, &X), 0);
	y = malloc(X.rows * sizeof(double));
	for (size_t i = 0; i < X.rows; i++) {
		const double *q = lw_mat_row(&Q, i);
		size_t c = q[1] > q[0] ? 1 : 0;

		c = q[2] > q[c] ? 2 : c;
		y[i] = (double)((c + 1) % 3);
	}
	lw_mat_dispose(&Q);
	o.method = LW_REUSE_FEATURE_AUGMENT;
	o.task = LW_TASK_CLASSIFICATION;
	r = fit_ok(m, 1, &X, NULL, y, &o);
	lw_reuser_info_get(&info, r);
	assert_int_equal(info.n_classes, 3);
	assert_true(info.cv_score > 0.9);
	assert_true(info.penalty >= 1e-4 && info.penalty <= 1e4);
	assert_int_equal(lw_model_predict(&Q, m[0].model, &T), 0);
	predict_ok(&P, r, m, 1, &T);
	for (size_t i = 0; i < T.rows; i++) {
		const double *q = lw_mat_row(&Q, i);
		size_t c = q[1] > q[0] ? 1 : 0;

		c = q[2] > q[c] ? 2 : c;
		right += P.data[i] == (double)((c + 1) % 3);
	}
	if (right < 95)
		fail_msg("%zu of 100 rows right", right);
	assert_round_trip(r, m, 1, &T);
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_reuser_free(r);
	free(y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&T);
	lw_model_free(m[0].model);
}

/* A softmax model over mu's columns scoring class c by mu_c . x - |mu_c|^2 / 2: the nearest mean. */
static lw_model *nearest_mean(const lw_mat *mu)
{
	size_t k = mu->rows, d = mu->cols, cap = 256 + k * d * 26, at;
	char *json = malloc(cap);
	lw_model *m;

	assert_non_null(json);
	at = (size_t)snprintf(json, cap, "{\"format\":\"learnware-model\",\"version\":1,"
			      "\"kind\":\"logistic\",\"task\":\"classification\",\"input_dim\":%zu,"
			      "\"output_dim\":%zu,\"layers\":[{\"weights\":[", d, k);
	for (size_t c = 0; c < k; c++)
		for (size_t j = 0; j < d; j++)
			at += (size_t)snprintf(json + at, cap - at, "%s%.6f%s", j ? "," : c ? ",[" : "[",
					       lw_mat_row(mu, c)[j], j + 1 == d ? "]" : "");
	at += (size_t)snprintf(json + at, cap - at, "],\"bias\":[");
	for (size_t c = 0; c < k; c++) {
		double b = -0.5 * cblas_ddot((int)d, lw_mat_row(mu, c), 1, lw_mat_row(mu, c), 1);

		at += (size_t)snprintf(json + at, cap - at, "%s%.6f", c ? "," : "", b);
	}
	snprintf(json + at, cap - at, "],\"activation\":\"softmax\"}]}");
	m = model_json(json);
	free(json);
	return m;
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/*
 * Wide rows and many classes (the shape of a few hundred images or texts
 * with their embeddings): the cross-validated fit takes a second or so, not
 * the minutes a cold start per C and threaded BLAS took, and the member's
 * outputs make it beat a logistic model on the user's rows alone.
 */
static void test_reuse_augment__wide_many_classes_fast_and_better(void **state)
{
	size_t d = 400, k = 12, n = 120, nt = 360, right_aug = 0, right_own = 0;
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_train_options to = LW_TRAIN_OPTIONS_INIT;
	lw_reuse_member m[1] = { { "means", NULL, NULL } };
	lw_mat mu, noisy, X, T, P, Q;
	lw_model *own = NULL;
	lw_reuser *r;
	double *y = malloc(n * sizeof(double)), *yt = malloc(nt * sizeof(double)), t0, secs;
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 120);
	assert_int_equal(lw_mat_init(&mu, k, d), 0);
	assert_int_equal(lw_mat_init(&noisy, k, d), 0);
	for (size_t i = 0; i < k * d; i++) {
		mu.data[i] = 0.15 * lw_rng_normal(&rng);
		noisy.data[i] = mu.data[i] + 0.15 * lw_rng_normal(&rng);
	}
	assert_int_equal(lw_mat_init(&X, n, d), 0);
	assert_int_equal(lw_mat_init(&T, nt, d), 0);
	for (size_t i = 0; i < n + nt; i++) {
		double *x = i < n ? lw_mat_row(&X, i) : lw_mat_row(&T, i - n);

		(i < n ? y : yt)[i < n ? i : i - n] = (double)(i % k);
		for (size_t j = 0; j < d; j++)
			x[j] = lw_mat_row(&mu, i % k)[j] + lw_rng_normal(&rng);
	}
	m[0].model = nearest_mean(&noisy);
	o.method = LW_REUSE_FEATURE_AUGMENT;
	o.task = LW_TASK_CLASSIFICATION;
	t0 = seconds();
	r = fit_ok(m, 1, &X, NULL, y, &o);
	secs = seconds() - t0;
	if (secs > 15)
		fail_msg("the fit took %.1f s", secs);
	predict_ok(&P, r, m, 1, &T);
	to.kind = LW_MODEL_LOGISTIC;
	to.task = LW_TASK_CLASSIFICATION;
	to.holdout = 0;
	assert_int_equal(lw_train(&own, NULL, &X, y, &to), 0);
	assert_int_equal(lw_model_predict(&Q, own, &T), 0);
	for (size_t i = 0; i < nt; i++) {
		const double *q = lw_mat_row(&Q, i);
		size_t c = 0;

		for (size_t j = 1; j < k; j++)
			c = q[j] > q[c] ? j : c;
		right_own += (double)c == yt[i];
		right_aug += P.data[i] == yt[i];
	}
	print_message("wide augment: %.2f s, %zu vs own %zu of %zu right\n", secs, right_aug,
		      right_own, nt);
	if (right_aug < right_own + nt / 20)
		fail_msg("augment %zu of %zu right, the user's own model %zu", right_aug, nt, right_own);
	lw_mat_dispose(&P);
	lw_mat_dispose(&Q);
	lw_model_free(own);
	lw_reuser_free(r);
	lw_model_free(m[0].model);
	lw_mat_dispose(&mu);
	lw_mat_dispose(&noisy);
	lw_mat_dispose(&X);
	lw_mat_dispose(&T);
	free(y);
	free(yt);
}

/* ---- errors ---------------------------------------------------------------- */

static void test_reuse_errors__members_and_shapes(void **state)
{
	double w2[] = { 1, 1 }, w3[] = { 1, 1, 1 }, huge[] = { 1e308, 0 }, w0[] = { 0, 0 };
	double p2[] = { 0.5, 0.5 }, p3[] = { 0.2, 0.3, 0.5 };
	lw_model *a = linear(w2, 2, 0), *wide = linear(w3, 3, 0), *inf = linear(huge, 2, 0);
	lw_model *two = constant_probs(p2, 2), *three = constant_probs(p3, 3);
	lw_model *bad = broken(2, 1), *label = linear(w0, 2, 0.5);
	lw_model *twoout = NULL;
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	lw_mat X, P;

	(void)state;
	assert_int_equal(lw__model_new(&twoout, LW_MODEL_PROCESS, &broken_ops, NULL, 2, 2), 0);
	blob(&X, 10, 5, 5, 1, 110);
	{
		lw_reuse_member m[2] = { { "a", a, NULL }, { "a", a, NULL } };

		assert_fails(lw_reuser_fit(&r, m, 0, &X, NULL, NULL, &o), LW_EINVALID,
			     "no learnwares");
		assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
			     "'a' is given twice");
		m[1].id = "";
		assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID, "no id");
	}
	{
		lw_reuse_member m[2] = { { "a", a, NULL }, { "wide", wide, NULL } };

		assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
			     "'wide' takes 3 input columns");
		m[1] = (lw_reuse_member){ "twoout", twoout, NULL };
		assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
			     "'twoout' answers 2 outputs");
	}
	{
		lw_reuse_member m[2] = { { "two", two, NULL }, { "three", three, NULL } };

		o.task = LW_TASK_CLASSIFICATION;
		assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
			     "'three' answers 3 columns");
		/* A label column that is not a class index fails at predict time. */
		m[1] = (lw_reuse_member){ "label", label, NULL };
		r = fit_ok(m, 2, &X, NULL, NULL, &o);
		assert_fails(lw_reuser_predict(&P, r, m, 2, &X), LW_EINVALID,
			     "'label' predicted the label 0.5 at row 1");
		lw_reuser_free(r);
		r = NULL;
		o.task = LW_TASK_REGRESSION;
	}
	{
		lw_reuse_member m[2] = { { "a", a, NULL }, { "bad", bad, NULL } };

		r = fit_ok(m, 2, &X, NULL, NULL, &o);
		assert_fails(lw_reuser_predict(&P, r, m, 2, &X), LW_ERROR,
			     "learnware 'bad': predict failed: the model crashed");
		lw_reuser_free(r);
		r = NULL;
		m[1] = (lw_reuse_member){ "inf", inf, NULL };
		r = fit_ok(m, 2, &X, NULL, NULL, &o);
		assert_fails(lw_reuser_predict(&P, r, m, 2, &X), LW_EINVALID,
			     "'inf' predicted inf at row 1");
		lw_reuser_free(r);
		r = NULL;
	}
	lw_mat_dispose(&X);
	lw_model_free(a);
	lw_model_free(wide);
	lw_model_free(inf);
	lw_model_free(two);
	lw_model_free(three);
	lw_model_free(bad);
	lw_model_free(label);
	lw_model_free(twoout);
}

static void test_reuse_errors__labels(void **state)
{
	double w[] = { 1, 0 }, p2[] = { 0.4, 0.6 };
	lw_reuse_member reg[1] = { { "lin", linear(w, 2, 0), NULL } };
	lw_reuse_member cls[1] = { { "cls", constant_probs(p2, 2), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	lw_mat X, E = { 0, 2, NULL };
	double y[12];

	(void)state;
	blob(&X, 12, 0, 0, 1, 120);
	for (int i = 0; i < 12; i++)
		y[i] = i % 2;
	for (int method = LW_REUSE_ENSEMBLE_PRUNING; method <= LW_REUSE_FEATURE_AUGMENT; method++) {
		o.method = (lw_reuse_method)method;
		o.task = LW_TASK_REGRESSION;
		assert_fails(lw_reuser_fit(&r, reg, 1, &X, NULL, NULL, &o), LW_EINVALID,
			     "labelled rows");
		assert_fails(lw_reuser_fit(&r, reg, 1, &E, NULL, y, &o), LW_EINVALID, "none are given");
		y[4] = NAN;
		assert_fails(lw_reuser_fit(&r, reg, 1, &X, NULL, y, &o), LW_EINVALID, "label row 5");
		for (int i = 0; i < 12; i++)
			y[i] = 3;
		assert_fails(lw_reuser_fit(&r, reg, 1, &X, NULL, y, &o), LW_EINVALID,
			     "every label is 3");
		o.task = LW_TASK_CLASSIFICATION;
		assert_fails(lw_reuser_fit(&r, cls, 1, &X, NULL, y, &o), LW_EINVALID,
			     "every label is class 3");
		y[2] = 1.5;
		assert_fails(lw_reuser_fit(&r, cls, 1, &X, NULL, y, &o), LW_EINVALID,
			     "1.5 is not a class index");
		y[2] = 1;
		assert_fails(lw_reuser_fit(&r, cls, 1, &X, NULL, y, &o), LW_EINVALID,
			     "label 3 is not a class index below the 2 classes");
		for (int i = 0; i < 12; i++)
			y[i] = i % 2;
		assert_null(r);
	}
	lw_mat_dispose(&X);
	lw_model_free(reg[0].model);
	lw_model_free(cls[0].model);
}

static void test_reuse_errors__options_and_selector_inputs(void **state)
{
	double w[] = { 1, 0 };
	lw_mat X, X3;
	lw_rkme *spec, *spec3;
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	lw_reuse_member m[2];

	(void)state;
	blob(&X, 30, 0, 0, 1, 130);
	assert_int_equal(lw_mat_init(&X3, 30, 3), 0);
	for (size_t i = 0; i < 90; i++)
		X3.data[i] = sin((double)i * 1.7);
	spec = spec_of(&X);
	spec3 = spec_of(&X3);
	m[0] = (lw_reuse_member){ "a", linear(w, 2, 0), spec };
	m[1] = (lw_reuse_member){ "b", linear(w, 2, 1), NULL };
	o.version = 7;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID, "version 7");
	o.version = LW_REUSE_OPTIONS_VERSION;
	o.average = LW_AVERAGE_VOTE_LABEL;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "vote_by_label is for classification");
	o.task = LW_TASK_CLASSIFICATION;
	o.average = LW_AVERAGE_MEAN;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "mean is for regression");
	o.average = LW_AVERAGE_AUTO;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "set n_classes");
	o.task = LW_TASK_REGRESSION;
	o.method = LW_REUSE_JOB_SELECTOR;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "'b' has no RKME");
	m[1].rkme = spec3;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "'b''s RKME has 3 columns");
	m[1].rkme = spec;
	assert_fails(lw_reuser_fit(&r, m, 2, NULL, NULL, NULL, &o), LW_EINVALID,
		     "the user's rows or the user's RKME");
	assert_fails(lw_reuser_fit(&r, m, 2, &X, spec3, NULL, &o), LW_EINVALID,
		     "RKME has 3 columns but the rows have 2");
	for (size_t i = 0; i < X.rows; i++)
		lw_mat_row(&X, i)[1] = NAN;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID,
		     "column 2 of the user's rows has no finite value");
	o.selector_rounds = 0;
	assert_fails(lw_reuser_fit(&r, m, 2, &X, NULL, NULL, &o), LW_EINVALID, "selector_rounds");
	assert_null(r);
	lw_mat_dispose(&X);
	lw_mat_dispose(&X3);
	lw_rkme_free(spec);
	lw_rkme_free(spec3);
	lw_model_free(m[0].model);
	lw_model_free(m[1].model);
}

static void test_reuse_errors__predict_with_other_members(void **state)
{
	double w[] = { 1, 0 }, w3[] = { 1, 0, 0 };
	lw_reuse_member m[2] = { { "a", linear(w, 2, 0), NULL }, { "b", linear(w, 2, 1), NULL } };
	lw_reuse_member other[2] = { m[0], { "c", m[1].model, NULL } };
	lw_reuse_member reshaped[2] = { m[0], { "b", linear(w3, 3, 0), NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r;
	lw_mat X, X3, P;
	size_t route[4];

	(void)state;
	blob(&X, 4, 0, 0, 1, 140);
	assert_int_equal(lw_mat_init(&X3, 4, 3), 0);
	r = fit_ok(m, 2, &X, NULL, NULL, &o);
	assert_fails(lw_reuser_predict(&P, r, m, 1, &X), LW_EINVALID, "fitted on 2 learnwares");
	assert_fails(lw_reuser_predict(&P, r, other, 2, &X), LW_EINVALID,
		     "'b', which this reuser was fitted on, is not among those given");
	assert_fails(lw_reuser_predict(&P, r, reshaped, 2, &X), LW_EINVALID, "'b' now takes 3");
	assert_fails(lw_reuser_predict(&P, r, m, 2, &X3), LW_EINVALID, "this reuser takes 2");
	assert_fails(lw_reuser_route(route, r, &X), LW_EINVALID, "only the job selector");
	/* No rows is an answer with no rows. */
	X.rows = 0;
	predict_ok(&P, r, m, 2, &X);
	assert_int_equal(P.rows, 0);
	assert_int_equal(P.cols, 1);
	lw_mat_dispose(&P);
	X.rows = 4;
	lw_reuser_free(r);
	lw_mat_dispose(&X);
	lw_mat_dispose(&X3);
	lw_model_free(m[0].model);
	lw_model_free(m[1].model);
	lw_model_free(reshaped[1].model);
}

static void test_reuse_errors__ensemble_pruning_needs_one_output(void **state)
{
	lw_model *twoout = NULL;
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	lw_mat X;
	double y[6] = { 1, 2, 3, 4, 5, 6 };

	(void)state;
	assert_int_equal(lw__model_new(&twoout, LW_MODEL_PROCESS, &broken_ops, NULL, 2, 2), 0);
	{
		lw_reuse_member m[1] = { { "two", twoout, NULL } };

		blob(&X, 6, 0, 0, 1, 150);
		o.method = LW_REUSE_ENSEMBLE_PRUNING;
		assert_fails(lw_reuser_fit(&r, m, 1, &X, NULL, y, &o), LW_EINVALID,
			     "'two' answers 2");
		/* Feature augmentation asks the member, which fails: the id is named. */
		o.method = LW_REUSE_FEATURE_AUGMENT;
		assert_fails(lw_reuser_fit(&r, m, 1, &X, NULL, y, &o), LW_ERROR, "learnware 'two'");
	}
	lw_mat_dispose(&X);
	lw_model_free(twoout);
}

static void test_reuse_errors__load_rejects_bad_files(void **state)
{
	lw_reuser *r = NULL;
	char *path;

	(void)state;
	assert_int_equal(lw_reuser_load(&r, "/nonexistent/reuser.json"), LW_ENOTFOUND);
	path = lwt_write_file(tmpdir, "bad.json", "{\"format\":");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "line 1");
	free(path);
	path = lwt_write_file(tmpdir, "bad.json", "{\"format\":\"learnware-model\"}");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "\"format\" must be");
	free(path);
	path = lwt_write_file(tmpdir, "bad.json",
			      "{\"format\":\"learnware-reuser\",\"version\":1,\"method\":\"magic\","
			      "\"task\":\"regression\"}");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "\"method\" must be");
	free(path);
	path = lwt_write_file(tmpdir, "bad.json",
			      "{\"format\":\"learnware-reuser\",\"version\":1,\"method\":\"average\","
			      "\"task\":\"regression\",\"input_dim\":2,\"output_dim\":1,"
			      "\"n_classes\":0,\"members\":[{\"id\":\"a\",\"input_dim\":2,"
			      "\"output_dim\":1}],\"average\":\"vote_by_prob\"}");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "\"average\" must be");
	free(path);
	path = lwt_write_file(tmpdir, "bad.json",
			      "{\"format\":\"learnware-reuser\",\"version\":1,"
			      "\"method\":\"ensemble-pruning\",\"task\":\"regression\","
			      "\"input_dim\":2,\"output_dim\":1,\"n_classes\":0,\"members\":"
			      "[{\"id\":\"a\",\"input_dim\":2,\"output_dim\":1},{\"id\":\"b\","
			      "\"input_dim\":2,\"output_dim\":1}],\"kept\":[1,0]}");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "\"kept\" must hold ascending");
	free(path);
	path = lwt_write_file(tmpdir, "bad.json",
			      "{\"format\":\"learnware-reuser\",\"version\":1,"
			      "\"method\":\"job-selector\",\"task\":\"regression\","
			      "\"input_dim\":2,\"output_dim\":1,\"n_classes\":0,\"members\":"
			      "[{\"id\":\"a\",\"input_dim\":2,\"output_dim\":1},{\"id\":\"b\","
			      "\"input_dim\":2,\"output_dim\":1}],\"weights\":[0.5,0.5],"
			      "\"selector_rounds\":3,\"selector\":{\"learner\":{}}}");
	assert_fails(lw_reuser_load(&r, path), LW_EINVALID, "selector");
	free(path);
	assert_null(r);
}

/* Alignment: the wrapper takes the user's width and answers with the
 * learnware's outputs (that the map lowers the MMD is test_align's). */
static void test_align_model__takes_the_users_columns_answers_the_learnwares(void **state)
{
	const double w[3] = { 1, 1, 1 };
	lw_model *lw = linear(w, 3, 0.0), *wrapped = NULL;
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_align_options ao = LW_ALIGN_OPTIONS_INIT;
	lw_rkme *user = NULL, *target = NULL;
	lw_mat U, V, Y;
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 5);
	assert_int_equal(lw_mat_init(&U, 200, 2), 0);
	assert_int_equal(lw_mat_init(&V, 200, 3), 0);
	for (size_t i = 0; i < 200; i++) {
		double a = lw_rng_normal(&rng), b = lw_rng_normal(&rng);

		U.data[2 * i] = a;
		U.data[2 * i + 1] = b;
		/* The learnware's space: the same rows, embedded and shifted. */
		V.data[3 * i] = a + 2;
		V.data[3 * i + 1] = b - 1;
		V.data[3 * i + 2] = 0.5 * (a + b);
	}
	ro.k = 50;
	assert_int_equal(lw_rkme_fit(&user, &U, &ro), 0);
	assert_int_equal(lw_rkme_fit(&target, &V, &ro), 0);
	ao.hidden = 32;
	ao.epochs = 300;
	ao.lr = 1e-2;
	assert_int_equal(lw_align_model(&wrapped, lw, target, user, &ao), 0);
	assert_int_equal(lw_model_input_dim(wrapped), 2);
	assert_int_equal(lw_model_output_dim(wrapped), 1);
	assert_int_equal(lw_model_predict(&Y, wrapped, &U), 0);
	assert_int_equal(Y.rows, 200);
	lw_mat_dispose(&Y);
	/* The wrong width is refused with the model's message. */
	assert_int_equal(lw_model_predict(&Y, wrapped, &V), LW_EINVALID);
	{
		/* Its map, saved and applied again, predicts bit for bit the same. */
		lw_model *again = NULL;
		lw_mat Y1, Y2;
		char *json = NULL;

		assert_int_equal(lw_align_model_map(&json, wrapped), 0);
		assert_int_equal(lw_align_model_from_map(&again, lw, json, strlen(json)), 0);
		assert_int_equal(lw_model_predict(&Y1, wrapped, &U), 0);
		assert_int_equal(lw_model_predict(&Y2, again, &U), 0);
		assert_memory_equal(Y1.data, Y2.data, U.rows * sizeof(double));
		lw_mat_dispose(&Y1);
		lw_mat_dispose(&Y2);
		free(json);
		lw_model_free(again);
		assert_int_equal(lw_align_model_map(&json, lw), LW_EINVALID);
		assert_int_equal(lw_align_model_from_map(&again, lw, "{}", 2), LW_EINVALID);
	}

	/* An RKME of another width than the model's is refused. */
	lw_model_free(wrapped);
	assert_int_equal(lw_align_model(&wrapped, lw, user, user, &ao), LW_EINVALID);
	lw_rkme_free(user);
	lw_rkme_free(target);
	lw_mat_dispose(&U);
	lw_mat_dispose(&V);
	lw_model_free(lw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_align_model__takes_the_users_columns_answers_the_learnwares),
		cmocka_unit_test(test_reuse_names__round_trip),
		cmocka_unit_test(test_reuse_average__regression_mean),
		cmocka_unit_test(test_reuse_average__vote_by_label_majority_and_ties),
		cmocka_unit_test(test_reuse_average__vote_by_prob_softmaxes_each_output),
		cmocka_unit_test(test_reuse_selector__routes_two_blobs),
		cmocka_unit_test(test_reuse_selector__three_members_classify),
		cmocka_unit_test(test_reuse_selector__one_member_is_that_member),
		cmocka_unit_test(test_reuse_selector__progress_can_cancel),
		cmocka_unit_test(test_reuse_prune__keeps_the_pair_whose_mean_is_right),
		cmocka_unit_test(test_reuse_prune__classification_votes_the_kept),
		cmocka_unit_test(test_reuse_ridge__loo_matches_refitting),
		cmocka_unit_test(test_reuse_augment__recovers_member_and_feature),
		cmocka_unit_test(test_reuse_augment__classification_learns_a_relabelling),
		cmocka_unit_test(test_reuse_augment__wide_many_classes_fast_and_better),
		cmocka_unit_test(test_reuse_errors__members_and_shapes),
		cmocka_unit_test(test_reuse_errors__labels),
		cmocka_unit_test(test_reuse_errors__options_and_selector_inputs),
		cmocka_unit_test(test_reuse_errors__predict_with_other_members),
		cmocka_unit_test(test_reuse_errors__ensemble_pruning_needs_one_output),
		cmocka_unit_test(test_reuse_errors__load_rejects_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
