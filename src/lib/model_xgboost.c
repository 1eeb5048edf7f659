/*
 * XGBoost models through libxgboost's C API: files saved by xgboost 1.7
 * (JSON or UBJ), prediction in place from our row-major doubles, and
 * training with early stopping on the held-out rows.
 *
 * Classifiers always answer class probabilities, one column per class:
 * binary objectives give [1 - p, p], multi:softprob its rows, and
 * multi:softmax (which predicts a label) the softmax of its margins.
 * Class and feature names this program trains with are kept in the
 * booster's string attributes, which xgboost saves and ignores.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "train.h"
#include "util.h"

#define ATTR_CLASSES "learnware_classes"
#define ATTR_FEATURES "learnware_feature_names"

typedef enum {
	OUT_RAW,        /* regression and anything else: the prediction as is */
	OUT_BINARY,     /* one probability or 0/1 label -> [1 - p, p] */
	OUT_LOGITRAW,   /* one margin -> sigmoid -> [1 - p, p] */
	OUT_SOFTPROB,   /* k probabilities */
	OUT_SOFTMAX     /* k margins -> softmax */
} out_mode;

typedef struct {
	BoosterHandle h;
	lw_task task;
	out_mode mode;
	size_t d, k;
	char **classes, **features;
} xgb;

/* --- errors ---------------------------------------------------------- */

/* XGBoost's message without its "[time] /path/file.cc:line: " prefix. */
static const char *xgb_message(void)
{
	const char *msg = XGBGetLastError(), *p;

	if (!msg || !*msg)
		return "unknown error";
	if (msg[0] == '[' && (p = strstr(msg, ": ")) && p - msg < 200)
		msg = p + 2;
	return msg;
}

static int xgb_fail(int code, const char *source, const char *what)
{
	const char *msg = xgb_message();
	/* Its first line; a stack trace follows. */
	int len = (int)strcspn(msg, "\n");

	lw_error_set(code == LW_EINVALID ? LW_ERRCLASS_INVALID : LW_ERRCLASS_NUMERIC,
		     "%s: %s: xgboost says: %.*s", source, what, len < 400 ? len : 400, msg);
	return code;
}

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;
static int quiet_rc;

/* xgboost logs warnings to stderr by default; errors reach us through return codes. */
static void make_quiet(void)
{
	quiet_rc = XGBSetGlobalConfig("{\"verbosity\":0}");
}

static int init_library(const char *source)
{
	pthread_once(&quiet_once, make_quiet);
	return quiet_rc ? xgb_fail(LW_ERROR, source, "cannot configure libxgboost") : 0;
}

/* --- the model ------------------------------------------------------- */

static void xgb_dispose(xgb *x)
{
	if (!x)
		return;
	if (x->h)
		XGBoosterFree(x->h);
	free(x->classes);
	free(x->features);
	free(x);
}

static const xgb *xgb_of(const lw_model *m);

/* The predictions in place: a JSON __array_interface__ over X's doubles. */
static int predict_raw(const xgb *x, const lw_mat *X, int type, const float **res, size_t *len)
{
	char iface[192], cfg[192];
	bst_ulong const *shape;
	bst_ulong dim, total = 1;

	snprintf(iface, sizeof(iface), "{\"data\":[%ju,true],\"shape\":[%zu,%zu],\"typestr\":\"<f8\","
		 "\"version\":3}", (uintmax_t)(uintptr_t)X->data, X->rows, X->cols);
	snprintf(cfg, sizeof(cfg), "{\"type\":%d,\"training\":false,\"iteration_begin\":0,"
		 "\"iteration_end\":0,\"strict_shape\":false,\"missing\":NaN,\"cache_id\":0}", type);
	if (XGBoosterPredictFromDense(x->h, iface, cfg, NULL, &shape, &dim, res) != 0)
		return xgb_fail(LW_ERROR, "xgboost model", "predict failed");
	for (bst_ulong i = 0; i < dim; i++)
		total *= shape[i];
	*len = (size_t)total;
	return 0;
}

static void fill_output(lw_mat *out, const xgb *x, const float *r)
{
	for (size_t i = 0; i < out->rows; i++) {
		double *o = lw_mat_row(out, i), s = 0, mx;

		switch (x->mode) {
		case OUT_BINARY:
		case OUT_LOGITRAW:
			o[1] = x->mode == OUT_BINARY ? (double)r[i] : 1 / (1 + exp(-(double)r[i]));
			o[0] = 1 - o[1];
			break;
		case OUT_SOFTMAX:
			mx = r[i * x->k];
			for (size_t c = 1; c < x->k; c++)
				mx = r[i * x->k + c] > mx ? r[i * x->k + c] : mx;
			for (size_t c = 0; c < x->k; c++)
				s += (o[c] = exp((double)r[i * x->k + c] - mx));
			for (size_t c = 0; c < x->k; c++)
				o[c] /= s;
			break;
		default:
			for (size_t c = 0; c < x->k; c++)
				o[c] = r[i * x->k + c];
		}
	}
}

/* Infinities are missing values here as in the built-in kinds; xgboost would refuse them. */
static int finite_copy(lw_mat *out, const lw_mat *X, const lw_mat **use)
{
	size_t n = X->rows * X->cols, i;
	int err;

	*use = X;
	for (i = 0; i < n && !isinf(X->data[i]); i++)
		;
	if (i == n)
		return 0;
	if ((err = lw_mat_copy(out, X)) < 0)
		return err;
	for (i = 0; i < n; i++)
		if (isinf(out->data[i]))
			out->data[i] = NAN;
	*use = out;
	return 0;
}

static int xgb_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	const xgb *x = m->impl;
	const lw_mat *use;
	lw_mat tmp = LW_MAT_INIT;
	const float *res = NULL;
	size_t len = 0;
	int err;

	if ((err = lw_mat_init(out, X->rows, x->k)) < 0 || !X->rows)
		return err;
	if ((err = finite_copy(&tmp, X, &use)) < 0 ||
	    (err = predict_raw(x, use, x->mode == OUT_SOFTMAX || x->mode == OUT_LOGITRAW, &res, &len)) < 0)
		goto done;
	if (len != X->rows * (x->mode == OUT_BINARY || x->mode == OUT_LOGITRAW ? 1 : x->k)) {
		lw_error_set(LW_ERRCLASS_INVALID, "xgboost model: predict returned %zu values for "
			     "%zu rows of %zu outputs", len, X->rows, x->k);
		err = LW_EINVALID;
		goto done;
	}
	fill_output(out, x, res);
done:
	lw_mat_dispose(&tmp);
	if (err < 0)
		lw_mat_dispose(out);
	return err;
}

static int xgb_save(const lw_model *m, const char *path)
{
	const xgb *x = m->impl;
	size_t n = strlen(path);
	bool ubj = n >= 4 && !strcmp(path + n - 4, ".ubj");
	const char *buf;
	bst_ulong len;

	if (XGBoosterSaveModelToBuffer(x->h, ubj ? "{\"format\":\"ubj\"}" : "{\"format\":\"json\"}",
				       &len, &buf) != 0)
		return xgb_fail(LW_ERROR, path, "cannot serialise the model");
	return lw__write_file_atomic(path, buf, (size_t)len);
}

static void xgb_free(lw_model *m)
{
	xgb_dispose(m->impl);
}

static const lw_model_ops xgb_ops = { xgb_predict, xgb_save, xgb_free };

static const xgb *xgb_of(const lw_model *m)
{
	return m && m->ops == &xgb_ops ? m->impl : NULL;
}

lw_task lw__xgboost_task(const lw_model *m)
{
	const xgb *x = xgb_of(m);

	return x ? x->task : 0;
}

const char *const *lw__xgboost_classes(const lw_model *m)
{
	const xgb *x = xgb_of(m);

	return x ? (const char *const *)x->classes : NULL;
}

const char *const *lw__xgboost_features(const lw_model *m)
{
	const xgb *x = xgb_of(m);

	return x ? (const char *const *)x->features : NULL;
}

/* --- what a booster is ------------------------------------------------ */

static size_t param_size(json_t *params, const char *key, size_t dflt)
{
	const char *s = json_string_value(json_object_get(params, key));
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 ? (size_t)v : dflt;
}

/* Task, output mode and width from the objective in the booster's configuration. */
static int read_objective(xgb *x, const char *source)
{
	const char *cfg, *obj;
	bst_ulong len;
	json_error_t je;
	json_t *root, *learner, *params;
	size_t classes, targets;

	if (XGBoosterSaveJsonConfig(x->h, &len, &cfg) != 0)
		return xgb_fail(LW_EINVALID, source, "cannot read the model's configuration");
	if (!(root = json_loadb(cfg, (size_t)len, 0, &je))) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: xgboost's configuration is not JSON: %s", source,
			     je.text);
		return LW_EINVALID;
	}
	learner = json_object_get(root, "learner");
	params = json_object_get(learner, "learner_model_param");
	obj = json_string_value(json_object_get(json_object_get(learner, "objective"), "name"));
	obj = obj ? obj : "";
	classes = param_size(params, "num_class", 0);
	targets = param_size(params, "num_target", 1);
	x->task = LW_TASK_CLASSIFICATION;
	x->k = 2;
	if (!strcmp(obj, "binary:logistic") || !strcmp(obj, "binary:hinge")) {
		x->mode = OUT_BINARY;
	} else if (!strcmp(obj, "binary:logitraw")) {
		x->mode = OUT_LOGITRAW;
	} else if (!strncmp(obj, "multi:", 6) && classes >= 2) {
		x->mode = strcmp(obj, "multi:softmax") ? OUT_SOFTPROB : OUT_SOFTMAX;
		x->k = classes;
	} else {
		x->task = LW_TASK_REGRESSION;
		x->mode = OUT_RAW;
		x->k = targets;
	}
	json_decref(root);
	return 0;
}

/* A JSON array of strings from an attribute; NULL when absent or of another length. */
static int names_from_attr(char ***out, const xgb *x, const char *key, size_t n,
			   const char *source)
{
	const char *val, **tmp = NULL;
	json_t *a = NULL;
	int ok, err = 0;

	*out = NULL;
	if (XGBoosterGetAttr(x->h, key, &val, &ok) != 0)
		return xgb_fail(LW_EINVALID, source, "cannot read the model's attributes");
	if (!ok || !(a = json_loads(val, 0, NULL)) || !json_is_array(a) || json_array_size(a) != n)
		goto done;
	if (!(tmp = lw__mallocarray(n, sizeof(char *)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		if (!(tmp[i] = json_string_value(json_array_get(a, i))))
			goto done;
	err = lw__names_copy(out, tmp, n);
done:
	free(tmp);
	json_decref(a);
	return err;
}

/* Feature names: ours, else those a Python xgboost user trained with. */
static int read_features(xgb *x, const char *source)
{
	const char **names;
	bst_ulong n;
	int err;

	if ((err = names_from_attr(&x->features, x, ATTR_FEATURES, x->d, source)) < 0 || x->features)
		return err;
	if (XGBoosterGetStrFeatureInfo(x->h, "feature_name", &n, &names) != 0)
		return xgb_fail(LW_EINVALID, source, "cannot read the model's feature names");
	return n == x->d ? lw__names_copy(&x->features, names, x->d) : 0;
}

static int describe(xgb *x, const char *source)
{
	bst_ulong d;
	int err;

	if (XGBoosterGetNumFeature(x->h, &d) != 0)
		return xgb_fail(LW_EINVALID, source, "cannot read the number of features");
	if (d == 0 || d > INT32_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: the XGBoost model declares %ju input features",
			     source, (uintmax_t)d);
		return LW_EINVALID;
	}
	x->d = (size_t)d;
	if ((err = read_objective(x, source)) < 0 || (err = read_features(x, source)) < 0)
		return err;
	if (x->task == LW_TASK_CLASSIFICATION)
		return names_from_attr(&x->classes, x, ATTR_CLASSES, x->k, source);
	return 0;
}

/* Wrap the booster (which the model then owns, also on failure). */
static int wrap(lw_model **out, BoosterHandle h, const char *source)
{
	xgb *x = lw__calloc(1, sizeof(*x));
	int err;

	if (!x) {
		XGBoosterFree(h);
		return LW_ENOMEM;
	}
	x->h = h;
	if ((err = describe(x, source)) < 0 ||
	    (err = lw__model_new(out, LW_MODEL_XGBOOST, &xgb_ops, x, x->d, x->k)) < 0)
		xgb_dispose(x);
	return err;
}

/*
 * Only what xgboost 1.7 saves as JSON ('{' '"') or UBJ ('{' and a
 * letter), checked before libxgboost sees it; its older binary format
 * has no checks here and is refused.
 */
static int check_input(const unsigned char *b, size_t len, const char *source)
{
	if (len >= 2 && b[0] == '{' && b[1] == '"')
		return lw__xgboost_check_json_depth((const char *)b, len, source);
	if (len >= 2 && b[0] == '{' && ((b[1] | 0x20) >= 'a' && (b[1] | 0x20) <= 'z'))
		return lw__xgboost_check_ubj(b, len, source);
	lw_error_set(LW_ERRCLASS_INVALID, "%s: not an XGBoost model saved as JSON or UBJ by "
		     "xgboost 1.x (save it with Booster.save_model(\"model.json\"))", source);
	return LW_EINVALID;
}

/* The trees as xgboost holds them must be safe to walk (model_xgboost_check.c). */
static int check_loaded(BoosterHandle h, const char *source)
{
	const char *buf;
	bst_ulong len;

	if (XGBoosterSaveModelToBuffer(h, "{\"format\":\"ubj\"}", &len, &buf) != 0)
		return xgb_fail(LW_EINVALID, source, "cannot re-read the loaded model");
	return lw__xgboost_check_model(buf, (size_t)len, source);
}

int lw__xgboost_from_buffer(lw_model **out, const void *buf, size_t len, const char *source)
{
	BoosterHandle h;
	int err;

	*out = NULL;
	source = source ? source : "xgboost model";
	if ((err = init_library(source)) < 0)
		return err;
	if ((err = check_input(buf, len, source)) < 0)
		return err;
	if (XGBoosterCreate(NULL, 0, &h) != 0)
		return xgb_fail(LW_ERROR, source, "cannot create a booster");
	if (XGBoosterLoadModelFromBuffer(h, buf, (bst_ulong)len) != 0) {
		err = xgb_fail(LW_EINVALID, source, "not a readable XGBoost JSON or UBJ model");
		XGBoosterFree(h);
		return err;
	}
	if ((err = check_loaded(h, source)) < 0) {
		XGBoosterFree(h);
		return err;
	}
	return wrap(out, h, source);
}

int lw__model_open_xgboost(lw_model **out, const char *path)
{
	char *buf;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&buf, &len, path, (size_t)1 << 30)) < 0)
		return err;
	err = lw__xgboost_from_buffer(out, buf, len, path);
	free(buf);
	return err;
}

/* --- training ---------------------------------------------------------- */

/* A DMatrix of the rows as floats, non-finite cells missing, with labels. */
static int make_dmatrix(DMatrixHandle *out, const lw_mat *X, const double *y)
{
	size_t cells = X->rows * X->cols;
	float *v = lw__mallocarray(cells ? cells : 1, sizeof(float));
	float *lab = lw__mallocarray(X->rows ? X->rows : 1, sizeof(float));
	int err = 0;

	*out = NULL;
	if (!v || !lab) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < cells; i++)
		v[i] = isfinite(X->data[i]) ? (float)X->data[i] : NAN;
	for (size_t i = 0; i < X->rows; i++)
		lab[i] = (float)y[i];
	if (XGDMatrixCreateFromMat(v, (bst_ulong)X->rows, (bst_ulong)X->cols, NAN, out) != 0 ||
	    XGDMatrixSetFloatInfo(*out, "label", lab, (bst_ulong)X->rows) != 0)
		err = xgb_fail(LW_ERROR, "xgboost", "cannot build the training matrix");
done:
	free(v);
	free(lab);
	return err;
}

static int set_param(BoosterHandle h, const char *name, const char *value)
{
	char what[96];

	if (XGBoosterSetParam(h, name, value) == 0)
		return 0;
	snprintf(what, sizeof(what), "parameter %s=%s refused", name, value);
	return xgb_fail(LW_EINVALID, "xgboost", what);
}

static int set_params(BoosterHandle h, const lw__fit *f)
{
	const lw_train_options *o = f->o;
	bool cls = o->task == LW_TASK_CLASSIFICATION, multi = cls && f->k > 2;
	char buf[64];
	int err;

	if ((err = set_param(h, "objective", !cls ? "reg:squarederror" : multi ? "multi:softprob"
							 : "binary:logistic")) < 0 ||
	    (err = set_param(h, "eval_metric", !cls ? "rmse" : multi ? "mlogloss" : "logloss")) < 0 ||
	    (err = set_param(h, "tree_method", "hist")) < 0 || (err = set_param(h, "verbosity", "0")) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%zu", f->k);
	if (multi && (err = set_param(h, "num_class", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%u", o->max_depth);
	if ((err = set_param(h, "max_depth", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%.17g", o->eta);
	if ((err = set_param(h, "eta", buf)) < 0)
		return err;
	/* xgboost's seed is a 32-bit int: fold ours in. */
	snprintf(buf, sizeof(buf), "%u", (unsigned)((o->seed ^ (o->seed >> 32)) & 0x7fffffff));
	if ((err = set_param(h, "seed", buf)) < 0)
		return err;
	snprintf(buf, sizeof(buf), "%u", o->threads);
	return o->threads ? set_param(h, "nthread", buf) : 0;
}

/* A JSON array of names as a booster attribute. */
static int set_names_attr(BoosterHandle h, const char *key, const char *const *names, size_t n)
{
	json_t *a = json_array();
	char *text = NULL;
	int err = 0;

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(names[i])) != 0) {
			lw_error_set(LW_ERRCLASS_INVALID, "xgboost: the name '%.60s' is not valid "
				     "UTF-8 text", names[i]);
			err = LW_EINVALID;
			goto done;
		}
	if (!a || !(text = json_dumps(a, JSON_COMPACT))) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
		err = LW_ENOMEM;
	} else if (XGBoosterSetAttr(h, key, text) != 0) {
		err = xgb_fail(LW_ERROR, "xgboost", "cannot set an attribute");
	}
done:
	free(text);
	json_decref(a);
	return err;
}

/* The metric after "valid-<name>:" in an evaluation line. */
static double parse_eval(const char *line)
{
	const char *colon = line ? strrchr(line, ':') : NULL;

	return colon ? strtod(colon + 1, NULL) : NAN;
}

typedef struct {
	int best, rounds;
	double best_loss;
	bool stopped;
} boost_state;

static int boost(BoosterHandle h, DMatrixHandle dtrain, DMatrixHandle dvalid, const lw__fit *f,
		 boost_state *s)
{
	const lw_train_options *o = f->o;
	const char *names[1] = { "valid" }, *line;
	int err;

	s->best = -1;
	s->best_loss = INFINITY;
	for (s->rounds = 0; s->rounds < (int)o->rounds; s->rounds++) {
		double loss;

		if (XGBoosterUpdateOneIter(h, s->rounds, dtrain) != 0)
			return xgb_fail(LW_ERROR, "xgboost", "boosting failed");
		if ((err = lw__train_progress(o, (double)(s->rounds + 1) / o->rounds)) < 0)
			return err;
		if (!dvalid)
			continue;
		if (XGBoosterEvalOneIter(h, s->rounds, &dvalid, names, 1, &line) != 0)
			return xgb_fail(LW_ERROR, "xgboost", "evaluation failed");
		if ((loss = parse_eval(line)) < s->best_loss) {
			s->best_loss = loss;
			s->best = s->rounds;
		} else if (o->early_stopping && s->rounds - s->best >= (int)o->early_stopping) {
			s->stopped = true;
			s->rounds++;
			break;
		}
	}
	return 0;
}

/* The booster cut back to its best round (a new handle; the old one is freed). */
static int keep_best(BoosterHandle *h, const boost_state *s)
{
	BoosterHandle cut;

	if (s->best < 0 || s->best + 1 >= s->rounds)
		return 0;
	if (XGBoosterSlice(*h, 0, s->best + 1, 1, &cut) != 0)
		return xgb_fail(LW_ERROR, "xgboost", "cannot keep the best rounds");
	XGBoosterFree(*h);
	*h = cut;
	return 0;
}

static int set_attrs(BoosterHandle h, const lw__fit *f)
{
	int err = 0;

	if (f->o->task == LW_TASK_CLASSIFICATION && f->o->classes)
		err = set_names_attr(h, ATTR_CLASSES, f->o->classes, f->k);
	if (!err && f->o->feature_names)
		err = set_names_attr(h, ATTR_FEATURES, f->o->feature_names, f->X.cols);
	return err;
}

int lw__train_xgboost(lw_model **out, lw_train_report *r, const lw__fit *f)
{
	DMatrixHandle dm[2] = { NULL, NULL };
	BoosterHandle h = NULL;
	boost_state s = { 0 };
	int err;

	if ((err = init_library("xgboost")) < 0 || (err = make_dmatrix(&dm[0], &f->X, f->y)) < 0 ||
	    (f->Xh.rows && (err = make_dmatrix(&dm[1], &f->Xh, f->yh)) < 0))
		goto done;
	if (XGBoosterCreate(dm, f->Xh.rows ? 2 : 1, &h) != 0) {
		err = xgb_fail(LW_ERROR, "xgboost", "cannot create a booster");
		goto done;
	}
	if ((err = set_params(h, f)) < 0 || (err = boost(h, dm[0], dm[1], f, &s)) < 0 ||
	    (err = keep_best(&h, &s)) < 0 || (err = set_attrs(h, f)) < 0)
		goto done;
	r->iterations = (unsigned)(s.best >= 0 ? s.best + 1 : s.rounds);
	r->stopped_early = s.stopped;
	err = wrap(out, h, "xgboost");
	h = NULL;
done:
	if (h)
		XGBoosterFree(h);
	if (dm[0])
		XGDMatrixFree(dm[0]);
	if (dm[1])
		XGDMatrixFree(dm[1]);
	return err;
}
