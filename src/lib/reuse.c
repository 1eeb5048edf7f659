/*
 * Reusers: the checks every method shares, averaging, ensemble pruning
 * (the search is prune.c's), and fit / predict / route dispatching to
 * the job selector (reuse_selector.c) and feature augmentation
 * (reuse_augment.c).  Saving and loading are in reuse_json.c.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prune.h"
#include "reuse.h"
#include "util.h"

static const char *const method_names[] = {
	[LW_REUSE_AVERAGE] = "average",
	[LW_REUSE_JOB_SELECTOR] = "job-selector",
	[LW_REUSE_ENSEMBLE_PRUNING] = "ensemble-pruning",
	[LW_REUSE_FEATURE_AUGMENT] = "feature-augment",
};

static const char *const average_names[] = {
	[LW_AVERAGE_MEAN] = "mean",
	[LW_AVERAGE_VOTE_LABEL] = "vote_by_label",
	[LW_AVERAGE_VOTE_PROB] = "vote_by_prob",
};

const char *lw_reuse_method_name(lw_reuse_method method)
{
	return method >= LW_REUSE_AVERAGE && method <= LW_REUSE_FEATURE_AUGMENT
		       ? method_names[method]
		       : NULL;
}

lw_reuse_method lw_reuse_method_from_name(const char *name)
{
	for (int m = LW_REUSE_AVERAGE; name && m <= LW_REUSE_FEATURE_AUGMENT; m++)
		if (!strcmp(name, method_names[m]))
			return (lw_reuse_method)m;
	return 0;
}

const char *lw_average_mode_name(lw_average_mode mode)
{
	return mode >= LW_AVERAGE_MEAN && mode <= LW_AVERAGE_VOTE_PROB ? average_names[mode] : NULL;
}

lw_average_mode lw_average_mode_from_name(const char *name)
{
	for (int m = LW_AVERAGE_MEAN; name && m <= LW_AVERAGE_VOTE_PROB; m++)
		if (!strcmp(name, average_names[m]))
			return (lw_average_mode)m;
	return LW_AVERAGE_AUTO;
}

int lw_reuse_options_init(lw_reuse_options *o, unsigned int version)
{
	static const lw_reuse_options defaults = LW_REUSE_OPTIONS_INIT;

	LW_ASSERT_ARG(o);
	if (version != LW_REUSE_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "lw_reuse_options version %u is unknown (this "
			     "library has %d)", version, LW_REUSE_OPTIONS_VERSION);
		return LW_EINVALID;
	}
	*o = defaults;
	return 0;
}

/* --- helpers ----------------------------------------------------------- */

int lw__reuse_progress(const lw_reuse_options *o, const char *stage, double done)
{
	if (o && o->progress && o->progress(stage, done, o->payload)) {
		lw_error_set(LW_ERRCLASS_NONE, "reuse cancelled during %s", stage);
		return LW_ECANCEL;
	}
	return 0;
}

int lw__reuser_alloc(lw_reuser **out, size_t n)
{
	lw_reuser *r = lw__calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return LW_ENOMEM;
	r->n_members = n;
	if (!(r->ids = lw__calloc(n + 1, sizeof(char *))) ||
	    !(r->member_in = lw__calloc(n ? n : 1, sizeof(size_t))) ||
	    !(r->member_out = lw__calloc(n ? n : 1, sizeof(size_t)))) {
		lw_reuser_free(r);
		return LW_ENOMEM;
	}
	r->penalty = NAN;
	r->cv_score = NAN;
	*out = r;
	return 0;
}

void lw_reuser_free(lw_reuser *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->ids && i < r->n_members; i++)
		free(r->ids[i]);
	free(r->ids);
	free(r->member_in);
	free(r->member_out);
	free(r->weights);
	lw_model_free(r->selector);
	free(r->selector_json);
	free(r->kept);
	free(r->fill);
	free(r->coef);
	free(r->intercept);
	free(r);
}

/* The member's error, with its id in front. */
static int member_failed(const char *id, int err)
{
	char inner[700];

	snprintf(inner, sizeof(inner), "%s", lw_error_last()->message);
	lw_error_set(lw_error_last()->klass, "learnware '%s': predict failed: %s", id, inner);
	return err < 0 ? err : LW_ERROR;
}

int lw__reuse_member_predict(lw_mat *out, const lw_reuser *r, size_t i,
			     const lw_reuse_member *m, const lw_mat *X)
{
	const char *id = r->ids[i];
	size_t w = r->member_out[i];
	lw_mat P = LW_MAT_INIT;
	int err;

	*out = (lw_mat)LW_MAT_INIT;
	if ((err = lw_model_predict(&P, m->model, X)) < 0)
		return member_failed(id, err);
	if (P.rows != X->rows || P.cols != w) {
		err = lw__invalid("learnware '%s' answered %zu x %zu values for %zu rows; expected %zu "
			      "columns", id, P.rows, P.cols, X->rows, w);
		goto done;
	}
	for (size_t a = 0; a < P.rows; a++) {
		const double *p = lw_mat_row(&P, a);

		for (size_t c = 0; c < w; c++) {
			if (!isfinite(p[c])) {
				err = lw__invalid("learnware '%s' predicted %g at row %zu, column %zu; "
					      "reuse needs finite outputs (check that row's "
					      "features)", id, p[c], a + 1, c + 1);
				goto done;
			}
			if (r->task == LW_TASK_CLASSIFICATION && w == 1 &&
			    !(p[c] >= 0 && p[c] == floor(p[c]) && p[c] < (double)r->n_classes)) {
				err = lw__invalid("learnware '%s' predicted the label %g at row %zu, which "
					      "is not a class index 0..%zu", id, p[c], a + 1,
					      r->n_classes - 1);
				goto done;
			}
		}
	}
	*out = P;
	P = (lw_mat)LW_MAT_INIT;
done:
	lw_mat_dispose(&P);
	return err;
}

size_t lw__reuse_class_of(const lw_reuser *r, size_t i, const double *p)
{
	size_t best = 0;

	if (r->member_out[i] == 1)
		return (size_t)p[0];
	for (size_t c = 1; c < r->member_out[i]; c++)
		best = p[c] > p[best] ? c : best;
	return best;
}

/* The first index of the largest of n values: numpy's argmax, so ties go low. */
static size_t argmax(const double *v, size_t n)
{
	size_t best = 0;

	for (size_t c = 1; c < n; c++)
		best = v[c] > v[best] ? c : best;
	return best;
}

/* --- checks at fit time ------------------------------------------------ */

static int check_options(const lw_reuse_options *o)
{
	if (o->version != LW_REUSE_OPTIONS_VERSION)
		return lw__invalid("lw_reuse_options version %u is unknown (this library has %d)",
			       o->version, LW_REUSE_OPTIONS_VERSION);
	if (!lw_reuse_method_name(o->method))
		return lw__invalid("unknown reuse method %d: use average, job-selector, "
			       "ensemble-pruning or feature-augment", (int)o->method);
	if (o->task != LW_TASK_REGRESSION && o->task != LW_TASK_CLASSIFICATION)
		return lw__invalid("the task must be regression or classification");
	if (o->n_classes == 1 || o->n_classes > LW__REUSE_MAX_CLASSES)
		return lw__invalid("n_classes %zu: a classifier needs 2 to %d classes (0 to take them "
			       "from the members)", o->n_classes, LW__REUSE_MAX_CLASSES);
	if (o->average != LW_AVERAGE_AUTO && !lw_average_mode_name(o->average))
		return lw__invalid("unknown averaging mode %d: use mean, vote_by_label or vote_by_prob",
			       (int)o->average);
	if (o->method == LW_REUSE_AVERAGE && o->task == LW_TASK_REGRESSION &&
	    (o->average == LW_AVERAGE_VOTE_LABEL || o->average == LW_AVERAGE_VOTE_PROB))
		return lw__invalid("averaging mode %s is for classification; regression averages "
			       "with mean", lw_average_mode_name(o->average));
	if (o->method == LW_REUSE_AVERAGE && o->task == LW_TASK_CLASSIFICATION &&
	    o->average == LW_AVERAGE_MEAN)
		return lw__invalid("averaging mode mean is for regression; classification votes with "
			       "vote_by_label or vote_by_prob");
	if (o->method == LW_REUSE_JOB_SELECTOR &&
	    (!o->herding_num || o->herding_num > 10000000 || !o->selector_rounds ||
	     !(o->selector_eta > 0 && o->selector_eta <= 1)))
		return lw__invalid("the job selector needs herding_num in 1..10000000, selector_rounds "
			       "> 0 and selector_eta in (0, 1]");
	return 0;
}

/* Ids present, non-empty, unique; models present. */
static int check_ids(const lw_reuse_member *members, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!members[i].id || !*members[i].id)
			return lw__invalid("member %zu has no id; give every learnware its id", i + 1);
		if (!members[i].model)
			return lw__invalid("learnware '%s' has no model", members[i].id);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(members[i].id, members[j].id))
				return lw__invalid("learnware '%s' is given twice; give each learnware "
					       "once", members[i].id);
	}
	return 0;
}

/* Labels (when given) as class indices: non-negative integers; their largest. */
static int check_class_labels(double *top, const double *y, size_t n)
{
	*top = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			return lw__invalid("label row %zu is %g; drop rows without a label", i + 1, y[i]);
		if (!(y[i] >= 0 && y[i] == floor(y[i]) && y[i] < (double)LW__REUSE_MAX_CLASSES))
			return lw__invalid("label row %zu: %g is not a class index 0..C-1 (encode text "
				       "labels first)", i + 1, y[i]);
		*top = y[i] > *top ? y[i] : *top;
	}
	return 0;
}

/* The number of classes from the options, the members' widths or the labels. */
static int decide_classes(lw_reuser *r, const lw_reuse_member *members, const double *y,
			  size_t n_rows, const lw_reuse_options *o)
{
	size_t k = o->n_classes, from = SIZE_MAX;
	double top = 0;
	int err;

	for (size_t i = 0; !k && i < r->n_members; i++)
		if (r->member_out[i] > 1) {
			k = r->member_out[i];
			from = i;
		}
	if (y && (err = check_class_labels(&top, y, n_rows)) < 0)
		return err;
	if (!k && y)
		k = (size_t)top + 1;
	if (!k)
		return lw__invalid("cannot tell the number of classes: every learnware answers one label "
			       "column and no labels are given; set n_classes");
	if (k < 2)
		return lw__invalid("every label is class 0; a classifier needs at least two classes");
	for (size_t i = 0; i < r->n_members; i++)
		if (r->member_out[i] != 1 && r->member_out[i] != k)
			return lw__invalid("learnware '%s' answers %zu columns, but %s; a classifier "
				       "answers one probability per class or one label column",
				       members[i].id, r->member_out[i],
				       from == SIZE_MAX ? "there are n_classes classes"
							: "another learnware answers a different "
							  "number");
	if (y && (size_t)top >= k)
		return lw__invalid("label %g is not a class index below the %zu classes the learnwares "
			       "answer; set n_classes or check the labels", top, k);
	r->n_classes = k;
	return 0;
}

/* Widths: each member's input against the user's, outputs agreeing. */
static int check_shapes(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			const lw_rkme *user_rkme, const lw_reuse_options *o)
{
	size_t d = X ? X->cols : user_rkme ? lw_rkme_dim(user_rkme) : 0;

	if (X && user_rkme && lw_rkme_dim(user_rkme) != X->cols)
		return lw__invalid("the user's RKME has %zu columns but the rows have %zu",
			       lw_rkme_dim(user_rkme), X->cols);
	for (size_t i = 0; i < r->n_members; i++) {
		size_t in = lw_model_input_dim(members[i].model);
		size_t out = lw_model_output_dim(members[i].model);

		r->member_in[i] = in;
		r->member_out[i] = out;
		if (!out)
			return lw__invalid("learnware '%s' declares no output columns", members[i].id);
		if (in && d && in != d)
			return lw__invalid("learnware '%s' takes %zu input columns but the user's %s "
				       "%zu; reuse learnwares of the user's feature space (or align "
				       "them first)", members[i].id, in, X ? "rows have" : "RKME has", d);
		if (!d)
			d = in;
		if (o->task == LW_TASK_REGRESSION && out != r->member_out[0])
			return lw__invalid("learnware '%s' answers %zu outputs but '%s' answers %zu; "
				       "reuse learnwares with the same outputs", members[i].id, out,
				       members[0].id, r->member_out[0]);
	}
	r->input_dim = d;
	return 0;
}

static int check_regression_labels(const double *y, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(y[i]))
			return lw__invalid("label row %zu is %g; drop rows without a finite label", i + 1,
				       y[i]);
	for (size_t i = 1; i < n; i++)
		if (y[i] != y[0])
			return 0;
	return lw__invalid("every label is %g; there is nothing to fit (use a data-free method: "
		       "average or job-selector)", y[0]);
}

/* X and y for the methods that learn from labels. */
static int check_labelled(const lw_mat *X, const double *y, const lw_reuse_options *o)
{
	const char *name = lw_reuse_method_name(o->method);

	if (!X || !y)
		return lw__invalid("%s learns from labelled rows: give the user's rows and their labels",
			       name);
	if (X->rows == 0)
		return lw__invalid("%s learns from labelled rows, and none are given", name);
	if (X->rows < 2)
		return lw__invalid("%s needs at least 2 labelled rows, got 1", name);
	if (o->task == LW_TASK_REGRESSION)
		return check_regression_labels(y, X->rows);
	for (size_t i = 1; i < X->rows; i++)
		if (y[i] != y[0])
			return 0;
	return lw__invalid("every label is class %g; a classifier needs labels of at least two "
		       "classes", y[0]);
}

static int check_rkmes(const lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
		       const lw_rkme *user_rkme)
{
	if (!user_rkme && (!X || !X->rows))
		return lw__invalid("the job selector needs the user's rows or the user's RKME");
	for (size_t i = 0; i < r->n_members; i++) {
		if (!members[i].rkme)
			return lw__invalid("learnware '%s' has no RKME; the job selector needs every "
				       "learnware's table specification", members[i].id);
		if (lw_rkme_dim(members[i].rkme) != r->input_dim)
			return lw__invalid("learnware '%s''s RKME has %zu columns, the user's data %zu",
				       members[i].id, lw_rkme_dim(members[i].rkme), r->input_dim);
	}
	return 0;
}

/* --- ensemble pruning --------------------------------------------------- */

/* n x m: member j's regression output, or the class it says. */
static int member_columns(lw_mat *out, const lw_reuser *r, const lw_reuse_member *members,
			  const lw_mat *X, const size_t *which, size_t m)
{
	lw_mat P = LW_MAT_INIT;
	int err;

	if ((err = lw_mat_init(out, X->rows, m)) < 0)
		return err;
	for (size_t j = 0; j < m; j++) {
		size_t i = which ? which[j] : j;

		if ((err = lw__reuse_member_predict(&P, r, i, &members[i], X)) < 0)
			break;
		for (size_t a = 0; a < X->rows; a++)
			lw_mat_row(out, a)[j] = r->task == LW_TASK_REGRESSION
							 ? lw_mat_row(&P, a)[0]
							 : (double)lw__reuse_class_of(r, i, lw_mat_row(&P, a));
		lw_mat_dispose(&P);
	}
	if (err < 0)
		lw_mat_dispose(out);
	return err;
}

static int prune_fit(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
		     const double *y, const lw_reuse_options *o)
{
	lw_mat P = LW_MAT_INIT;
	int err;

	if (r->task == LW_TASK_REGRESSION && r->member_out[0] != 1)
		return lw__invalid("ensemble pruning averages one output per learnware, but '%s' "
			       "answers %zu", members[0].id, r->member_out[0]);
	if ((err = lw__reuse_progress(o, "pruning", 0)) < 0 ||
	    (err = member_columns(&P, r, members, X, NULL, r->n_members)) < 0)
		return err;
	err = lw__prune_select(&r->kept, &r->n_kept, &P, y, r->task == LW_TASK_CLASSIFICATION,
			       r->n_classes, o->seed, o->prune_maxgen);
	lw_mat_dispose(&P);
	if (!err)
		err = lw__reuse_progress(o, "pruning", 1);
	return err;
}

/* --- combining members: averaging and the pruned ensemble --------------- */

static void softmax_add(double *acc, const double *p, size_t k, double *tmp)
{
	double mx = p[0], s = 0;

	for (size_t c = 1; c < k; c++)
		mx = p[c] > mx ? p[c] : mx;
	for (size_t c = 0; c < k; c++)
		s += (tmp[c] = exp(p[c] - mx));
	for (size_t c = 0; c < k; c++)
		acc[c] += tmp[c] / s;
}

/*
 * Accumulate the members in `which` (m of them) into acc (n x width):
 * outputs summed (MEAN), one vote per class (VOTE_LABEL) or softmaxes
 * summed (VOTE_PROB); a label member counts as its one-hot vector.
 */
static int accumulate(lw_mat *acc, const lw_reuser *r, const lw_reuse_member *members,
		      const lw_mat *X, const size_t *which, size_t m, lw_average_mode mode)
{
	size_t width = mode == LW_AVERAGE_MEAN ? r->member_out[0] : r->n_classes;
	double *onehot = NULL, *tmp = NULL;
	lw_mat P = LW_MAT_INIT;
	int err;

	if ((err = lw_mat_init(acc, X->rows, width)) < 0)
		return err;
	if (!(onehot = lw__calloc(width, sizeof(double))) ||
	    !(tmp = lw__mallocarray(width, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t j = 0; j < m; j++) {
		size_t i = which ? which[j] : j;

		if ((err = lw__reuse_member_predict(&P, r, i, &members[i], X)) < 0)
			goto done;
		for (size_t a = 0; a < X->rows; a++) {
			const double *p = lw_mat_row(&P, a);
			double *s = lw_mat_row(acc, a);

			if (mode == LW_AVERAGE_MEAN) {
				for (size_t c = 0; c < width; c++)
					s[c] += p[c];
			} else if (mode == LW_AVERAGE_VOTE_LABEL) {
				s[lw__reuse_class_of(r, i, p)] += 1;
			} else if (r->member_out[i] == 1) {
				onehot[(size_t)p[0]] = 1;
				softmax_add(s, onehot, width, tmp);
				onehot[(size_t)p[0]] = 0;
			} else {
				softmax_add(s, p, width, tmp);
			}
		}
		lw_mat_dispose(&P);
	}
done:
	free(onehot);
	free(tmp);
	lw_mat_dispose(&P);
	if (err < 0)
		lw_mat_dispose(acc);
	return err;
}

/* The mean (regression) or the argmax (classification) of the accumulated members. */
static int combine(lw_mat *out, const lw_reuser *r, const lw_reuse_member *members,
		   const lw_mat *X, const size_t *which, size_t m, lw_average_mode mode)
{
	lw_mat acc = LW_MAT_INIT;
	int err;

	if ((err = accumulate(&acc, r, members, X, which, m, mode)) < 0)
		return err;
	if (mode == LW_AVERAGE_MEAN) {
		for (size_t c = 0; c < acc.rows * acc.cols; c++)
			acc.data[c] /= (double)m;
		*out = acc;
		return 0;
	}
	if ((err = lw_mat_init(out, X->rows, 1)) == 0)
		for (size_t a = 0; a < X->rows; a++)
			out->data[a] = (double)argmax(lw_mat_row(&acc, a), acc.cols);
	lw_mat_dispose(&acc);
	return err;
}

/* --- fit ------------------------------------------------------------------ */

static int copy_ids(lw_reuser *r, const lw_reuse_member *members)
{
	for (size_t i = 0; i < r->n_members; i++)
		if (!(r->ids[i] = lw__strdup(members[i].id)))
			return LW_ENOMEM;
	return 0;
}

static int check_inputs(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			const lw_rkme *user_rkme, const double *y, const lw_reuse_options *o)
{
	bool labelled = o->method == LW_REUSE_ENSEMBLE_PRUNING ||
			o->method == LW_REUSE_FEATURE_AUGMENT;
	int err;

	if (X && X->rows && X->cols && !X->data)
		return lw__invalid("the user's rows have no data");
	if (X && X->cols == 0)
		return lw__invalid("the user's rows have no columns");
	if ((err = check_ids(members, r->n_members)) < 0 ||
	    (err = check_shapes(r, members, X, user_rkme, o)) < 0)
		return err;
	if (labelled && (err = check_labelled(X, y, o)) < 0)
		return err;
	if (o->task == LW_TASK_CLASSIFICATION &&
	    (err = decide_classes(r, members, labelled ? y : NULL, X ? X->rows : 0, o)) < 0)
		return err;
	if (o->method == LW_REUSE_JOB_SELECTOR && (err = check_rkmes(r, members, X, user_rkme)) < 0)
		return err;
	return 0;
}

int lw_reuser_fit(lw_reuser **out, const lw_reuse_member *members, size_t n, const lw_mat *X,
		  const lw_rkme *user_rkme, const double *y, const lw_reuse_options *o)
{
	static const lw_reuse_options defaults = LW_REUSE_OPTIONS_INIT;
	lw_reuser *r = NULL;
	int err;

	LW_ASSERT_ARG(out);
	*out = NULL;
	o = o ? o : &defaults;
	if ((err = check_options(o)) < 0)
		return err;
	if (n == 0 || !members)
		return lw__invalid("no learnwares to reuse: give at least one");
	if (n > LW__REUSE_MAX_MEMBERS)
		return lw__invalid("%zu learnwares are more than the %d a reuser takes", n,
			       LW__REUSE_MAX_MEMBERS);
	if ((err = lw__reuser_alloc(&r, n)) < 0)
		return err;
	r->method = o->method;
	r->task = o->task;
	if ((err = check_inputs(r, members, X, user_rkme, y, o)) < 0 ||
	    (err = copy_ids(r, members)) < 0)
		goto done;
	r->output_dim = r->task == LW_TASK_CLASSIFICATION ? 1 : r->member_out[0];
	switch (o->method) {
	case LW_REUSE_AVERAGE:
		r->average = o->average != LW_AVERAGE_AUTO ? o->average
			     : r->task == LW_TASK_REGRESSION ? LW_AVERAGE_MEAN
							     : LW_AVERAGE_VOTE_PROB;
		break;
	case LW_REUSE_JOB_SELECTOR:
		err = lw__reuse_selector_fit(r, members, X, user_rkme, o);
		break;
	case LW_REUSE_ENSEMBLE_PRUNING:
		r->output_dim = 1;
		err = prune_fit(r, members, X, y, o);
		break;
	default:
		r->output_dim = 1;
		err = lw__reuse_augment_fit(r, members, X, y, o);
		break;
	}
	if (err < 0)
		goto done;
	*out = r;
	r = NULL;
done:
	lw_reuser_free(r);
	return err;
}

/* --- predict ----------------------------------------------------------- */

/* members in r's order, checked against what r was fitted with. */
static int order_members(lw_reuse_member *ord, const lw_reuser *r,
			 const lw_reuse_member *members, size_t n)
{
	if (n != r->n_members)
		return lw__invalid("this reuser was fitted on %zu learnwares ('%s'%s), but %zu are given; "
			       "give the same learnwares again", r->n_members, r->ids[0],
			       r->n_members > 1 ? ", ..." : "", n);
	for (size_t i = 0; i < n; i++)
		if (!members[i].id || !members[i].model)
			return lw__invalid("member %zu has no %s", i + 1, members[i].id ? "model" : "id");
	for (size_t i = 0; i < r->n_members; i++) {
		size_t found = SIZE_MAX;

		for (size_t j = 0; j < n; j++)
			if (!strcmp(members[j].id, r->ids[i])) {
				if (found != SIZE_MAX)
					return lw__invalid("learnware '%s' is given twice", r->ids[i]);
				found = j;
			}
		if (found == SIZE_MAX)
			return lw__invalid("learnware '%s', which this reuser was fitted on, is not "
				       "among those given", r->ids[i]);
		ord[i] = members[found];
		if (lw_model_input_dim(ord[i].model) != r->member_in[i] ||
		    lw_model_output_dim(ord[i].model) != r->member_out[i])
			return lw__invalid("learnware '%s' now takes %zu and answers %zu columns; the "
				       "reuser was fitted when it took %zu and answered %zu: refit",
				       r->ids[i], lw_model_input_dim(ord[i].model),
				       lw_model_output_dim(ord[i].model), r->member_in[i],
				       r->member_out[i]);
	}
	return 0;
}

static int check_rows(const lw_reuser *r, const lw_mat *X)
{
	if (!X || (X->rows && X->cols && !X->data))
		return lw__invalid("no rows to predict");
	if (r->input_dim && X->cols != r->input_dim)
		return lw__invalid("the rows have %zu columns; this reuser takes %zu", X->cols,
			       r->input_dim);
	for (size_t i = 0; !r->input_dim && i < r->n_members; i++)
		if (r->member_in[i] && r->member_in[i] != X->cols)
			return lw__invalid("the rows have %zu columns; learnware '%s' takes %zu",
				       X->cols, r->ids[i], r->member_in[i]);
	if (X->cols == 0)
		return lw__invalid("the rows have no columns");
	return 0;
}

int lw_reuser_predict(lw_mat *out, lw_reuser *r, const lw_reuse_member *members, size_t n,
		      const lw_mat *X)
{
	lw_reuse_member *ord = NULL;
	int err;

	LW_ASSERT_ARG(out && r && (members || !n));
	*out = (lw_mat)LW_MAT_INIT;
	if ((err = check_rows(r, X)) < 0)
		return err;
	if (!(ord = lw__mallocarray(r->n_members, sizeof(*ord))))
		return LW_ENOMEM;
	if ((err = order_members(ord, r, members, n)) < 0)
		goto done;
	if (X->rows == 0) {
		err = lw_mat_init(out, 0, r->output_dim);
		goto done;
	}
	switch (r->method) {
	case LW_REUSE_AVERAGE:
		err = combine(out, r, ord, X, NULL, r->n_members, r->average);
		break;
	case LW_REUSE_JOB_SELECTOR:
		err = lw__reuse_selector_predict(out, r, ord, X);
		break;
	case LW_REUSE_ENSEMBLE_PRUNING:
		err = combine(out, r, ord, X, r->kept, r->n_kept,
			      r->task == LW_TASK_REGRESSION ? LW_AVERAGE_MEAN : LW_AVERAGE_VOTE_LABEL);
		break;
	default:
		err = lw__reuse_augment_predict(out, r, ord, X);
		break;
	}
done:
	free(ord);
	return err;
}

int lw_reuser_route(size_t *out, lw_reuser *r, const lw_mat *X)
{
	int err;

	LW_ASSERT_ARG(r && (out || (X && !X->rows)));
	if (r->method != LW_REUSE_JOB_SELECTOR)
		return lw__invalid("only the job selector routes rows; this reuser is %s",
			       lw_reuse_method_name(r->method));
	if ((err = check_rows(r, X)) < 0)
		return err;
	return X->rows ? lw__reuse_selector_route(out, r, X) : 0;
}

/* --- describing ---------------------------------------------------------- */

void lw_reuser_info_get(lw_reuser_info *out, const lw_reuser *r)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!r)
		return;
	out->method = r->method;
	out->task = r->task;
	out->average = r->average;
	out->n_members = r->n_members;
	out->member_ids = (const char *const *)r->ids;
	out->input_dim = r->input_dim;
	out->output_dim = r->output_dim;
	out->n_classes = r->n_classes;
	out->weights = r->weights;
	out->selector_rounds = r->selector_rounds;
	out->kept = r->kept;
	out->n_kept = r->n_kept;
	out->penalty = r->penalty;
	out->cv_score = r->cv_score;
}

const char *const *lw_reuser_member_ids(const lw_reuser *r, size_t *n)
{
	if (n)
		*n = r ? r->n_members : 0;
	return r ? (const char *const *)r->ids : NULL;
}
