/*
 * The job selector (the reference's JobSelectorReuser):
 *
 *  1. mixture weights w: the simplex QP matching the user's RKME with the
 *     members' (K_ij = <r_i, r_j>, c_i = <u, r_i>);
 *  2. max(5, floor(herding_num * w_i)) rows herded from member i's RKME,
 *     labelled i; the last fifth of each member's rows is held out;
 *  3. a gradient-boosted classifier over the labels, trained through
 *     libxgboost's C API with early stopping on the held-out rows, then
 *     trained again on every herded row for the best number of rounds;
 *  4. each user row goes to the member the selector gives the highest
 *     probability (ties to the lower position).
 *
 * docs/reuse.md maps the reference's LightGBM settings to xgboost's.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "lw/qp.h"
#include "reuse.h"
#include "train.h"
#include "util.h"

/* LightGBM's default leaf count, the bound on the reference's trees. */
#define SELECTOR_LEAVES "31"
/* Rounds between progress reports. */
#define PROGRESS_EVERY 50

/* --- errors -------------------------------------------------------------- */

static int xgb_fail(const char *what)
{
	const char *msg = XGBGetLastError(), *p;
	int len;

	if (!msg || !*msg)
		msg = "unknown error";
	if (msg[0] == '[' && (p = strstr(msg, ": ")) && p - msg < 200)
		msg = p + 2;
	len = (int)strcspn(msg, "\n");
	lw_error_set(LW_ERRCLASS_NUMERIC, "job selector: %s: xgboost says: %.*s", what,
		     len < 400 ? len : 400, msg);
	return LW_ERROR;
}

/* --- 1. mixture weights -------------------------------------------------- */

/* X with each non-finite cell replaced by its column's mean over the finite ones. */
static int fill_missing(lw_mat *out, const lw_mat *X)
{
	int err;

	if ((err = lw_mat_copy(out, X)) < 0)
		return err;
	for (size_t j = 0; j < X->cols; j++) {
		double s = 0;
		size_t c = 0;

		for (size_t i = 0; i < X->rows; i++)
			if (isfinite(lw_mat_row(X, i)[j])) {
				s += lw_mat_row(X, i)[j];
				c++;
			}
		if (!c) {
			lw_mat_dispose(out);
			lw_error_set(LW_ERRCLASS_INVALID, "column %zu of the user's rows has no "
				     "finite value; drop it", j + 1);
			return LW_EINVALID;
		}
		for (size_t i = 0; i < X->rows; i++)
			if (!isfinite(lw_mat_row(out, i)[j]))
				lw_mat_row(out, i)[j] = s / (double)c;
	}
	return 0;
}

/*
 * c_i = <u, r_i>: with the user's RKME as given, or, from the rows, the
 * inner product of their unreduced embedding (every row, weight 1/n, the
 * reference's reduce=False) with r_i, computed in O(n K d) without
 * building that embedding.  Missing cells are column means first.
 */
static int user_inner(double *c, const lw_reuse_member *members, size_t m, const lw_mat *X,
		      const lw_rkme *user)
{
	lw_mat Xf = LW_MAT_INIT;
	int err = 0;

	if (!user && (err = fill_missing(&Xf, X)) < 0)
		return err;
	for (size_t i = 0; i < m && !err; i++)
		err = user ? lw_rkme_inner(&c[i], user, members[i].rkme)
			   : lw_rkme_inner_data(&c[i], members[i].rkme, &Xf);
	lw_mat_dispose(&Xf);
	return err;
}

static int mixture_weights(double *w, const lw_reuse_member *members, size_t m, const lw_mat *X,
			   const lw_rkme *user)
{
	double *K = lw__mallocarray(m * m, sizeof(double)), *c = lw__mallocarray(m, sizeof(double));
	int err = LW_ENOMEM;

	if (!K || !c || (err = user_inner(c, members, m, X, user)) < 0)
		goto done;
	for (size_t i = 0; i < m; i++)
		for (size_t j = i; j < m; j++) {
			if ((err = lw_rkme_inner(&K[i * m + j], members[i].rkme, members[j].rkme)) < 0)
				goto done;
			K[j * m + i] = K[i * m + j];
		}
	if ((err = lw_qp_simplex(w, K, c, m, NULL)) < 0)
		goto done;
	/* The solver's answer is on the simplex; clamp rounding dust below zero. */
	for (size_t i = 0; i < m; i++)
		w[i] = w[i] > 0 ? w[i] : 0;
done:
	free(K);
	free(c);
	return err;
}

/* --- 2. herding --------------------------------------------------------- */

/* Herded rows in three sets: training (first 4/5 of each member), held out, all. */
typedef struct {
	size_t d, n_train, n_valid, n_all;
	float *x_train, *x_valid, *x_all;
	float *y_train, *y_valid, *y_all;
} herd_set;

static void herd_dispose(herd_set *h)
{
	free(h->x_train);
	free(h->x_valid);
	free(h->x_all);
	free(h->y_train);
	free(h->y_valid);
	free(h->y_all);
}

static size_t herd_count(size_t herding_num, double w)
{
	double v = floor((double)herding_num * w);

	return v > 5 ? (size_t)v : 5;
}

static int herd_alloc(herd_set *h, const size_t *count, size_t m, size_t d)
{
	size_t cells;

	h->d = d;
	for (size_t i = 0; i < m; i++) {
		h->n_all += count[i];
		h->n_valid += count[i] / 5;
	}
	h->n_train = h->n_all - h->n_valid;
	if (!lw__mul_ok(&cells, h->n_all, d))
		return LW_ENOMEM;
	if (!(h->x_train = lw__mallocarray(h->n_train * d, sizeof(float))) ||
	    !(h->x_valid = lw__mallocarray(h->n_valid * d, sizeof(float))) ||
	    !(h->x_all = lw__mallocarray(cells, sizeof(float))) ||
	    !(h->y_train = lw__mallocarray(h->n_train, sizeof(float))) ||
	    !(h->y_valid = lw__mallocarray(h->n_valid, sizeof(float))) ||
	    !(h->y_all = lw__mallocarray(h->n_all, sizeof(float))))
		return LW_ENOMEM;
	return 0;
}

static void put_row(float *x, float *y, size_t at, const double *row, size_t d, size_t label)
{
	for (size_t t = 0; t < d; t++)
		x[at * d + t] = (float)row[t];
	y[at] = (float)label;
}

static int herd(herd_set *h, const lw_reuse_member *members, size_t m, const double *w,
		const lw_reuse_options *o)
{
	size_t *count = lw__mallocarray(m, sizeof(size_t)), tr = 0, va = 0, all = 0;
	size_t d = lw_rkme_dim(members[0].rkme);
	lw_mat H = LW_MAT_INIT;
	int err = LW_ENOMEM;

	if (!count)
		return err;
	for (size_t i = 0; i < m; i++)
		count[i] = herd_count(o->herding_num, w[i]);
	if ((err = herd_alloc(h, count, m, d)) < 0)
		goto done;
	for (size_t i = 0; i < m; i++) {
		size_t n_valid = count[i] / 5;
		uint64_t seed = o->seed + 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);

		if ((err = lw_rkme_herd(&H, members[i].rkme, count[i], seed)) < 0)
			goto done;
		for (size_t a = 0; a < count[i]; a++) {
			const double *row = lw_mat_row(&H, a);

			put_row(h->x_all, h->y_all, all++, row, d, i);
			if (a < count[i] - n_valid)
				put_row(h->x_train, h->y_train, tr++, row, d, i);
			else
				put_row(h->x_valid, h->y_valid, va++, row, d, i);
		}
		lw_mat_dispose(&H);
		if ((err = lw__reuse_progress(o, "herding", (double)(i + 1) / (double)m)) < 0)
			goto done;
	}
done:
	lw_mat_dispose(&H);
	free(count);
	return err;
}

/* --- 3. the selector ------------------------------------------------------ */

static int dmatrix(DMatrixHandle *out, const float *x, const float *y, size_t n, size_t d)
{
	*out = NULL;
	if (XGDMatrixCreateFromMat(x, (bst_ulong)n, (bst_ulong)d, NAN, out) != 0 ||
	    XGDMatrixSetFloatInfo(*out, "label", y, (bst_ulong)n) != 0)
		return xgb_fail("cannot build the herded rows' matrix");
	return 0;
}

static int set_param(BoosterHandle h, const char *name, const char *value)
{
	char what[128];

	if (XGBoosterSetParam(h, name, value) == 0)
		return 0;
	snprintf(what, sizeof(what), "parameter %s=%s refused", name, value);
	return xgb_fail(what);
}

/*
 * The reference's LGBMClassifier(n_estimators 2000, learning_rate 0.01,
 * max_depth 66, boost_from_average False) in xgboost's terms: leaf-wise
 * trees of at most 31 leaves (LightGBM's num_leaves, which binds long
 * before depth 66), xgboost's own regularisation (lambda 1,
 * min_child_weight 1), base_score 0.5 (a zero margin: no boost from the
 * average).
 */
static int set_params(BoosterHandle h, size_t m, const lw_reuse_options *o)
{
	char buf[64];
	int err;

	if ((err = set_param(h, "objective", m > 2 ? "multi:softprob" : "binary:logistic")) < 0 ||
	    (err = set_param(h, "eval_metric", m > 2 ? "mlogloss" : "logloss")) < 0 ||
	    (err = set_param(h, "tree_method", "hist")) < 0 ||
	    (err = set_param(h, "grow_policy", "lossguide")) < 0 ||
	    (err = set_param(h, "max_leaves", SELECTOR_LEAVES)) < 0 ||
	    (err = set_param(h, "max_depth", "0")) < 0 ||
	    (err = set_param(h, "base_score", "0.5")) < 0 ||
	    (err = set_param(h, "verbosity", "0")) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%zu", m);
	if (m > 2 && (err = set_param(h, "num_class", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%.17g", o->selector_eta);
	if ((err = set_param(h, "eta", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%u", (unsigned)((o->seed ^ (o->seed >> 32)) & 0x7fffffff));
	if ((err = set_param(h, "seed", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%u", o->threads);
	return o->threads ? set_param(h, "nthread", buf) : 0;
}

/* The metric after the last ':' of an evaluation line. */
static double parse_eval(const char *line)
{
	const char *colon = line ? strrchr(line, ':') : NULL;

	return colon ? strtod(colon + 1, NULL) : NAN;
}

/* Rounds with early stopping on the held-out rows; *best_rounds = 1 + the best round. */
static int early_stop(unsigned *best_rounds, DMatrixHandle dtrain, DMatrixHandle dvalid,
		      size_t m, const lw_reuse_options *o)
{
	DMatrixHandle cache[2] = { dtrain, dvalid };
	const char *names[1] = { "valid" }, *line;
	BoosterHandle h = NULL;
	double best_loss = INFINITY;
	int best = 0, err;

	if (XGBoosterCreate(cache, 2, &h) != 0)
		return xgb_fail("cannot create a booster");
	if ((err = set_params(h, m, o)) < 0)
		goto done;
	for (int round = 0; round < (int)o->selector_rounds; round++) {
		double loss;

		if (XGBoosterUpdateOneIter(h, round, dtrain) != 0) {
			err = xgb_fail("boosting failed");
			goto done;
		}
		if (XGBoosterEvalOneIter(h, round, &dvalid, names, 1, &line) != 0) {
			err = xgb_fail("evaluation failed");
			goto done;
		}
		if ((loss = parse_eval(line)) < best_loss) {
			best_loss = loss;
			best = round;
		} else if (o->selector_patience && round - best >= (int)o->selector_patience) {
			break;
		}
		if ((round + 1) % PROGRESS_EVERY == 0 &&
		    (err = lw__reuse_progress(o, "selector",
					      0.5 * (round + 1) / o->selector_rounds)) < 0)
			goto done;
	}
	*best_rounds = (unsigned)best + 1;
done:
	XGBoosterFree(h);
	return err;
}

/* The selector trained on every herded row for `rounds` rounds, as xgboost JSON. */
static int train_all(char **json, size_t *len, DMatrixHandle dall, unsigned rounds, size_t m,
		     const lw_reuse_options *o)
{
	BoosterHandle h = NULL;
	const char *buf;
	bst_ulong blen;
	int err;

	*json = NULL;
	if (XGBoosterCreate(&dall, 1, &h) != 0)
		return xgb_fail("cannot create a booster");
	if ((err = set_params(h, m, o)) < 0)
		goto done;
	for (unsigned round = 0; round < rounds; round++) {
		if (XGBoosterUpdateOneIter(h, (int)round, dall) != 0) {
			err = xgb_fail("boosting failed");
			goto done;
		}
		if ((round + 1) % PROGRESS_EVERY == 0 &&
		    (err = lw__reuse_progress(o, "selector", 0.5 + 0.5 * (round + 1) / rounds)) < 0)
			goto done;
	}
	if (XGBoosterSaveModelToBuffer(h, "{\"format\":\"json\"}", &blen, &buf) != 0) {
		err = xgb_fail("cannot serialise the selector");
		goto done;
	}
	if (!(*json = lw__mallocarray((size_t)blen + 1, 1))) {
		err = LW_ENOMEM;
		goto done;
	}
	memcpy(*json, buf, (size_t)blen);
	(*json)[blen] = '\0';
	*len = (size_t)blen;
done:
	XGBoosterFree(h);
	return err;
}

int lw__reuse_selector_open(lw_reuser *r, char *json, size_t len, const char *source)
{
	int err;

	free(r->selector_json);
	r->selector_json = json;
	lw_model_free(r->selector);
	r->selector = NULL;
	if ((err = lw__xgboost_from_buffer(&r->selector, json, len, source)) < 0)
		return err;
	if (lw_model_task(r->selector) != LW_TASK_CLASSIFICATION ||
	    lw_model_output_dim(r->selector) != r->n_members ||
	    (r->input_dim && lw_model_input_dim(r->selector) != r->input_dim)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: the selector is not a classifier over the "
			     "%zu learnwares taking %zu columns", source, r->n_members, r->input_dim);
		return LW_EINVALID;
	}
	return 0;
}

static int train_selector(lw_reuser *r, const herd_set *h, const lw_reuse_options *o)
{
	DMatrixHandle dtrain = NULL, dvalid = NULL, dall = NULL;
	char *json = NULL;
	size_t len = 0;
	int err;

	if ((err = dmatrix(&dtrain, h->x_train, h->y_train, h->n_train, h->d)) < 0 ||
	    (err = dmatrix(&dvalid, h->x_valid, h->y_valid, h->n_valid, h->d)) < 0 ||
	    (err = dmatrix(&dall, h->x_all, h->y_all, h->n_all, h->d)) < 0 ||
	    (err = early_stop(&r->selector_rounds, dtrain, dvalid, r->n_members, o)) < 0 ||
	    (err = train_all(&json, &len, dall, r->selector_rounds, r->n_members, o)) < 0)
		goto done;
	err = lw__reuse_selector_open(r, json, len, "job selector");
done:
	if (dtrain)
		XGDMatrixFree(dtrain);
	if (dvalid)
		XGDMatrixFree(dvalid);
	if (dall)
		XGDMatrixFree(dall);
	return err;
}

int lw__reuse_selector_fit(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			   const lw_rkme *user_rkme, const lw_reuse_options *o)
{
	size_t m = r->n_members;
	herd_set h = { 0 };
	int err;

	if (!(r->weights = lw__calloc(m, sizeof(double))))
		return LW_ENOMEM;
	if (m == 1) {
		r->weights[0] = 1;
		return 0;
	}
	if ((err = mixture_weights(r->weights, members, m, X, user_rkme)) == 0 &&
	    (err = herd(&h, members, m, r->weights, o)) == 0)
		err = train_selector(r, &h, o);
	herd_dispose(&h);
	return err;
}

/* --- 4. routing ----------------------------------------------------------- */

int lw__reuse_selector_route(size_t *route, lw_reuser *r, const lw_mat *X)
{
	lw_mat P = LW_MAT_INIT;
	int err;

	if (!r->selector) {
		memset(route, 0, X->rows * sizeof(size_t));
		return 0;
	}
	if ((err = lw_model_predict(&P, r->selector, X)) < 0)
		return err;
	for (size_t a = 0; a < X->rows; a++) {
		const double *p = lw_mat_row(&P, a);
		size_t best = 0;

		for (size_t c = 1; c < P.cols; c++)
			best = p[c] > p[best] ? c : best;
		route[a] = best;
	}
	lw_mat_dispose(&P);
	return 0;
}

/* Member i's predictions for the rows routed to it, put in their places. */
static int predict_member(lw_mat *out, lw_reuser *r, size_t i, const lw_reuse_member *m,
			  const lw_mat *X, const size_t *idx, size_t count)
{
	lw_mat sub = LW_MAT_INIT, P = LW_MAT_INIT;
	int err;

	if ((err = lw_mat_take_rows(&sub, X, idx, count)) < 0 ||
	    (err = lw__reuse_member_predict(&P, r, i, m, &sub)) < 0)
		goto done;
	for (size_t a = 0; a < count; a++) {
		const double *p = lw_mat_row(&P, a);
		double *o = lw_mat_row(out, idx[a]);

		if (r->task == LW_TASK_CLASSIFICATION)
			o[0] = (double)lw__reuse_class_of(r, i, p);
		else
			memcpy(o, p, out->cols * sizeof(double));
	}
done:
	lw_mat_dispose(&sub);
	lw_mat_dispose(&P);
	return err;
}

int lw__reuse_selector_predict(lw_mat *out, lw_reuser *r, const lw_reuse_member *members,
			       const lw_mat *X)
{
	size_t *route = lw__mallocarray(X->rows, sizeof(size_t));
	size_t *idx = lw__mallocarray(X->rows, sizeof(size_t));
	int err = LW_ENOMEM;

	if (!route || !idx || (err = lw_mat_init(out, X->rows, r->output_dim)) < 0 ||
	    (err = lw__reuse_selector_route(route, r, X)) < 0)
		goto done;
	for (size_t i = 0; i < r->n_members; i++) {
		size_t count = 0;

		for (size_t a = 0; a < X->rows; a++)
			if (route[a] == i)
				idx[count++] = a;
		/* Only the members that get rows are asked, as in the reference. */
		if (count && (err = predict_member(out, r, i, &members[i], X, idx, count)) < 0)
			goto done;
	}
done:
	free(route);
	free(idx);
	if (err < 0)
		lw_mat_dispose(out);
	return err;
}
