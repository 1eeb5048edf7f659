/*
 * lw_train: checks, the held-out split and scoring shared by every kind,
 * then the kind's trainer (train_linear.c, train_logistic.c,
 * train_mlp.c, model_xgboost.c).  Also opening model files by content.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lw/rng.h"
#include "train.h"
#include "util.h"

#define MAX_MODEL_BYTES ((size_t)1 << 30)

static const char *const task_names[] = {
	[LW_TASK_REGRESSION] = "regression", [LW_TASK_CLASSIFICATION] = "classification"
};

const char *lw_task_name(lw_task task)
{
	return task == LW_TASK_REGRESSION || task == LW_TASK_CLASSIFICATION ? task_names[task]
									    : NULL;
}

lw_task lw_task_from_name(const char *name)
{
	for (int t = LW_TASK_REGRESSION; name && t <= LW_TASK_CLASSIFICATION; t++)
		if (!strcmp(name, task_names[t]))
			return (lw_task)t;
	return 0;
}

int lw_train_options_init(lw_train_options *o, unsigned int version)
{
	static const lw_train_options defaults = LW_TRAIN_OPTIONS_INIT;

	LW_ASSERT_ARG(o);
	if (version != LW_TRAIN_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "lw_train_options version %u is unknown (this "
			     "library has %d)", version, LW_TRAIN_OPTIONS_VERSION);
		return LW_EINVALID;
	}
	*o = defaults;
	return 0;
}

/* --- checks ----------------------------------------------------------- */

static int check_kind_task(const lw_train_options *o)
{
	const char *k = lw_model_kind_name(o->kind);

	if (o->kind != LW_MODEL_LINEAR && o->kind != LW_MODEL_LOGISTIC && o->kind != LW_MODEL_MLP &&
	    o->kind != LW_MODEL_XGBOOST)
		return lw__invalid("cannot train a %s model: the kinds trained here are linear, "
			       "logistic, mlp and xgboost", k ? k : "unknown");
	if (o->task != LW_TASK_REGRESSION && o->task != LW_TASK_CLASSIFICATION)
		return lw__invalid("the task must be regression or classification");
	if (o->kind == LW_MODEL_LINEAR && o->task == LW_TASK_CLASSIFICATION)
		return lw__invalid("linear models do regression; for classification use logistic");
	if (o->kind == LW_MODEL_LOGISTIC && o->task == LW_TASK_REGRESSION)
		return lw__invalid("logistic models do classification; for regression use linear");
	return 0;
}

static int check_hyper(const lw_train_options *o)
{
	if (!(o->holdout >= 0 && o->holdout <= 0.9))
		return lw__invalid("holdout %g must be in [0, 0.9]", o->holdout);
	if (!(o->alpha >= 0 && isfinite(o->alpha)) || !(o->l2 >= 0 && isfinite(o->l2)))
		return lw__invalid("alpha and l2 must be finite and non-negative");
	if (o->kind == LW_MODEL_LOGISTIC && o->max_iter == 0)
		return lw__invalid("max_iter must be positive");
	if (o->kind == LW_MODEL_MLP &&
	    (!o->epochs || !o->batch_size || !(o->learning_rate > 0 && o->learning_rate < 10)))
		return lw__invalid("mlp needs epochs > 0, batch_size > 0 and a learning rate in (0, 10)");
	if (o->kind == LW_MODEL_MLP && o->hidden[0] == 0)
		return lw__invalid("mlp needs at least one hidden layer (hidden[0] > 0)");
	if (o->kind == LW_MODEL_XGBOOST && (!o->rounds || !o->max_depth || o->max_depth > 64 ||
					    !(o->eta > 0 && o->eta <= 1)))
		return lw__invalid("xgboost needs rounds > 0, max_depth in 1..64 and eta in (0, 1]");
	return 0;
}

/* The number of classes, and every label an integer below it. */
static int check_labels(size_t *k, const double *y, size_t n, const lw_train_options *o)
{
	double top = 0;
	size_t first_other = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		if (!(y[i] >= 0 && y[i] == floor(y[i]) && y[i] < 1e9))
			return lw__invalid("row %zu: class label %g is not an integer 0..C-1", i + 1, y[i]);
		top = y[i] > top ? y[i] : top;
		if (first_other == SIZE_MAX && y[i] != y[0])
			first_other = i;
	}
	*k = o->n_classes ? o->n_classes : (size_t)top + 1;
	if ((size_t)top >= *k)
		return lw__invalid("class label %g is out of range for %zu classes", top, *k);
	if (first_other == SIZE_MAX)
		return lw__invalid("every row has the same class (%s); a classifier needs at least two",
			       o->classes ? o->classes[(size_t)y[0]] : "label 0");
	for (size_t c = 0; o->classes && c < *k; c++)
		if (!o->classes[c])
			return lw__invalid("class name %zu is NULL", c);
	return 0;
}

static int check_targets(const double *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(y[i]))
			return lw__invalid("row %zu: the target is %g; drop rows without a finite target",
				       i + 1, y[i]);
	for (size_t i = 1; i < n; i++)
		if (y[i] != y[0])
			return 0;
	return lw__invalid("the target is the same (%g) in every row; there is nothing to learn", y[0]);
}

static int check_data(size_t *k, const lw_mat *X, const double *y, const lw_train_options *o)
{
	if (X->rows < 2 || X->cols == 0)
		return lw__invalid("training needs at least 2 rows and 1 feature column, got %zu x %zu",
			       X->rows, X->cols);
	if (X->rows > INT32_MAX || X->cols > INT32_MAX)
		return lw__invalid("%zu x %zu is too large to train on", X->rows, X->cols);
	*k = 1;
	return o->task == LW_TASK_CLASSIFICATION ? check_labels(k, y, X->rows, o)
						 : check_targets(y, X->rows);
}

/* --- the split ---------------------------------------------------------- */

static void fit_dispose(lw__fit *f)
{
	lw_mat_dispose(&f->X);
	lw_mat_dispose(&f->Xh);
	free(f->y);
	free(f->yh);
}

static int take(lw_mat *Xo, double **yo, const lw_mat *X, const double *y, const size_t *idx,
		size_t n)
{
	int err;

	if ((err = lw_mat_take_rows(Xo, X, idx, n)) < 0)
		return err;
	if (!(*yo = lw__mallocarray(n ? n : 1, sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++)
		(*yo)[i] = y[idx[i]];
	return 0;
}

/* A seeded shuffle; the last floor(holdout * n) rows are held out. */
static int split(lw__fit *f, const lw_mat *X, const double *y)
{
	size_t n = X->rows, nh = (size_t)floor(f->o->holdout * (double)n), *perm;
	lw_rng rng;
	int err;

	if (n - nh < 2)
		nh = 0;
	if (!(perm = lw__mallocarray(n, sizeof(size_t))))
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	lw_rng_seed(&rng, f->o->seed);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)lw_rng_below(&rng, i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
	err = take(&f->X, &f->y, X, y, perm, n - nh);
	if (!err)
		err = take(&f->Xh, &f->yh, X, y, perm + n - nh, nh);
	free(perm);
	return err;
}

/* The training part must still hold two classes. */
static int check_split(const lw__fit *f)
{
	if (f->o->task != LW_TASK_CLASSIFICATION)
		return 0;
	for (size_t i = 1; i < f->X.rows; i++)
		if (f->y[i] != f->y[0])
			return 0;
	return lw__invalid("after holding out %zu rows, the %zu training rows all have one class; "
		       "use more data or a smaller holdout", f->Xh.rows, f->X.rows);
}

/* --- helpers for the trainers ------------------------------------------ */

int lw__standardize_fit(double *mean, double *scale, const lw_mat *X)
{
	for (size_t j = 0; j < X->cols; j++) {
		double s = 0, ss = 0, m;
		size_t c = 0;

		for (size_t i = 0; i < X->rows; i++) {
			double v = lw_mat_row(X, i)[j];

			if (isfinite(v)) {
				s += v;
				c++;
			}
		}
		if (!c)
			return lw__invalid("feature column %zu has no finite value in the training rows; "
				       "drop it", j + 1);
		m = s / (double)c;
		for (size_t i = 0; i < X->rows; i++) {
			double v = lw_mat_row(X, i)[j];

			if (isfinite(v))
				ss += (v - m) * (v - m);
		}
		mean[j] = m;
		/* A constant column standardises to 0, not to 0/0. */
		scale[j] = ss > 0 ? sqrt(ss / (double)c) : 1;
		if (!(scale[j] > 1e-300 && isfinite(scale[j])))
			scale[j] = 1;
	}
	return 0;
}

void lw__standardize_apply(lw_mat *X, const double *mean, const double *scale)
{
	for (size_t i = 0; i < X->rows; i++) {
		double *r = lw_mat_row(X, i);

		for (size_t j = 0; j < X->cols; j++)
			r[j] = isfinite(r[j]) ? (r[j] - mean[j]) / scale[j] : 0;
	}
}

int lw__score(double *out, lw_model *m, const lw_mat *X, const double *y, lw_task task)
{
	lw_mat P;
	double acc = 0;
	int err;

	*out = NAN;
	if (!X->rows)
		return 0;
	if ((err = lw_model_predict(&P, m, X)) < 0)
		return err;
	for (size_t i = 0; i < X->rows; i++) {
		const double *p = lw_mat_row(&P, i);

		if (task == LW_TASK_CLASSIFICATION) {
			size_t best = 0;

			for (size_t c = 1; c < P.cols; c++)
				best = p[c] > p[best] ? c : best;
			acc += (double)best == y[i];
		} else {
			acc += (p[0] - y[i]) * (p[0] - y[i]);
		}
	}
	acc /= (double)X->rows;
	*out = task == LW_TASK_CLASSIFICATION ? acc : sqrt(acc);
	lw_mat_dispose(&P);
	return 0;
}

int lw__train_progress(const lw_train_options *o, double done)
{
	if (o->progress && o->progress("training", done, o->payload)) {
		lw_error_set(LW_ERRCLASS_NONE, "training cancelled");
		return LW_ECANCEL;
	}
	return 0;
}

int lw__builtin_set_names(lw__builtin *b, const lw__fit *f)
{
	int err;

	if (f->o->task == LW_TASK_CLASSIFICATION &&
	    (err = lw__names_copy(&b->classes, f->o->classes, b->k)) < 0)
		return err;
	return lw__names_copy(&b->features, f->o->feature_names, b->d);
}

/* --- lw_train ------------------------------------------------------------ */

static int dispatch(lw_model **out, lw_train_report *r, const lw__fit *f)
{
	switch (f->o->kind) {
	case LW_MODEL_LINEAR: return lw__train_linear(out, r, f);
	case LW_MODEL_LOGISTIC: return lw__train_logistic(out, r, f);
	case LW_MODEL_MLP: return lw__train_mlp(out, r, f);
	default: return lw__train_xgboost(out, r, f);
	}
}

int lw_train(lw_model **out, lw_train_report *report, const lw_mat *X, const double *y,
	     const lw_train_options *o)
{
	static const lw_train_options defaults = LW_TRAIN_OPTIONS_INIT;
	lw_train_report r = { 0 };
	lw__fit f = { LW_MAT_INIT, LW_MAT_INIT, NULL, NULL, 1, NULL };
	lw_model *m = NULL;
	int err;

	LW_ASSERT_ARG(out && X && y && (X->data || !X->rows || !X->cols));
	*out = NULL;
	f.o = o ? o : &defaults;
	if (f.o->version != LW_TRAIN_OPTIONS_VERSION)
		return lw__invalid("lw_train_options version %u is unknown", f.o->version);
	if ((err = check_kind_task(f.o)) < 0 || (err = check_hyper(f.o)) < 0 ||
	    (err = check_data(&f.k, X, y, f.o)) < 0 || (err = split(&f, X, y)) < 0 ||
	    (err = check_split(&f)) < 0 || (err = dispatch(&m, &r, &f)) < 0)
		goto done;
	r.train_rows = f.X.rows;
	r.holdout_rows = f.Xh.rows;
	r.metric = f.o->task == LW_TASK_CLASSIFICATION ? "accuracy" : "rmse";
	if ((err = lw__score(&r.train_metric, m, &f.X, f.y, f.o->task)) < 0 ||
	    (err = lw__score(&r.holdout_metric, m, &f.Xh, f.yh, f.o->task)) < 0)
		goto done;
	if (report)
		*report = r;
	*out = m;
	m = NULL;
done:
	lw_model_free(m);
	fit_dispose(&f);
	return err;
}

/* --- labels ------------------------------------------------------------ */

typedef struct {
	const char *s;
	double v;
	size_t i;
} label_ref;

/* v is 0 for every label unless all are numbers, so mixed labels sort as text. */
static int cmp_label(const void *a, const void *b)
{
	const label_ref *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return strcmp(x->s, y->s);
}

static bool is_number(double *out, const char *s)
{
	char *end;

	*out = strtod(s, &end);
	return end != s && !*end && isfinite(*out);
}

int lw_train_encode_labels(double **y_out, char ***classes_out, size_t *n_classes,
			   const char *const *labels, size_t n)
{
	label_ref *refs = NULL;
	const char **names = NULL;
	double *y = NULL;
	size_t k = 0;
	bool numeric = true;
	int err = LW_ENOMEM;

	LW_ASSERT_ARG(y_out && classes_out && n_classes && (labels || !n));
	*y_out = NULL;
	*classes_out = NULL;
	*n_classes = 0;
	for (size_t i = 0; i < n; i++)
		LW_ASSERT_ARG(labels[i]);
	if (!(refs = lw__mallocarray(n, sizeof(*refs))) || !(y = lw__mallocarray(n, sizeof(double))) ||
	    !(names = lw__mallocarray(n, sizeof(char *))))
		goto done;
	for (size_t i = 0; i < n; i++) {
		refs[i] = (label_ref){ labels[i], 0, i };
		numeric &= is_number(&refs[i].v, labels[i]);
	}
	for (size_t i = 0; !numeric && i < n; i++)
		refs[i].v = 0;
	qsort(refs, n, sizeof(*refs), cmp_label);
	for (size_t i = 0; i < n; i++) {
		if (!i || strcmp(refs[i].s, refs[i - 1].s))
			names[k++] = refs[i].s;
		y[refs[i].i] = (double)(k - 1);
	}
	if ((err = lw__names_copy(classes_out, names, k)) < 0)
		goto done;
	*y_out = y;
	y = NULL;
	*n_classes = k;
done:
	free(refs);
	free(names);
	free(y);
	return err;
}

/* --- opening files ------------------------------------------------------ */

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* XGBoost JSON starts {"learner": ...; UBJ is '{' then a binary length marker. */
static lw_model_kind sniff(const char *text, size_t len)
{
	const char *end = text + len, *p = skip_space(text, end);

	if (p == end || *p != '{')
		return 0;
	p = skip_space(p + 1, end);
	if (p < end && *p != '"' && *p != '}')
		return LW_MODEL_XGBOOST;
	if ((size_t)(end - p) >= 9 && !memcmp(p, "\"learner\"", 9))
		return LW_MODEL_XGBOOST;
	return LW_MODEL_MLP; /* some built-in kind: the file's "kind" says which */
}

int lw_model_load_file(lw_model **out, lw_model_kind kind, const char *path)
{
	lw_model_kind found;
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if (kind && kind != LW_MODEL_LINEAR && kind != LW_MODEL_LOGISTIC && kind != LW_MODEL_MLP &&
	    kind != LW_MODEL_XGBOOST)
		return lw__invalid("%s: lw_model_load_file opens linear, logistic, mlp and xgboost "
			       "models, not %s ones", path,
			       lw_model_kind_name(kind) ? lw_model_kind_name(kind) : "other");
	if ((err = lw__read_file(&text, &len, path, MAX_MODEL_BYTES)) < 0)
		return err;
	found = sniff(text, len);
	if (!found && kind != LW_MODEL_XGBOOST) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: not a model file: expected a learnware-model "
			     "JSON document or an XGBoost JSON or UBJ model", path);
		err = LW_EINVALID;
	} else if (kind && kind != LW_MODEL_XGBOOST && found == LW_MODEL_XGBOOST) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is an XGBoost model, not a %s model", path,
			     lw_model_kind_name(kind));
		err = LW_EINVALID;
	} else if (kind == LW_MODEL_XGBOOST || (!kind && found == LW_MODEL_XGBOOST)) {
		err = lw__xgboost_from_buffer(out, text, len, path);
	} else {
		err = lw__builtin_from_json(out, kind, text, len, path);
	}
	free(text);
	return err;
}

lw_task lw_model_task(const lw_model *m)
{
	const lw__builtin *b = lw__builtin_of(m);

	if (b)
		return b->task;
	return m && m->kind == LW_MODEL_XGBOOST ? lw__xgboost_task(m) : 0;
}

const char *const *lw_model_classes(const lw_model *m)
{
	const lw__builtin *b = lw__builtin_of(m);

	if (b)
		return (const char *const *)b->classes;
	if (m && m->classes)
		return (const char *const *)m->classes;
	return m && m->kind == LW_MODEL_XGBOOST ? lw__xgboost_classes(m) : NULL;
}

const char *const *lw_model_feature_names(const lw_model *m)
{
	const lw__builtin *b = lw__builtin_of(m);

	if (b)
		return (const char *const *)b->features;
	return m && m->kind == LW_MODEL_XGBOOST ? lw__xgboost_features(m) : NULL;
}
