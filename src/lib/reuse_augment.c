/*
 * Feature augmentation (the reference's FeatureAugmentReuser): the user's
 * features, missing cells filled with the column means, followed by every
 * member's outputs on them; then
 *
 *  - regression: ridge with a free intercept, alpha from {0.01, 0.1, 1,
 *    10, 100} chosen by exact leave-one-out error through one SVD (what
 *    sklearn's RidgeCV computes);
 *  - classification: L2 logistic regression, C from logspace(-4, 4, 10)
 *    chosen by 5-fold stratified cross-validated accuracy and refitted on
 *    every row (LogisticRegressionCV's defaults), each fit by the
 *    project's logistic trainer (train_logistic.c, L-BFGS, max_iter 1000).
 *
 * The fitted model is kept as plain coefficients on the augmented
 * features, so predict and the saved file need nothing else.
 */
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "reuse.h"
#include "train.h"
#include "util.h"

static const double ridge_alphas[] = { 0.01, 0.1, 1.0, 10.0, 100.0 };
#define N_CS 10
#define N_FOLDS 5
#define LOGISTIC_MAX_ITER 1000

/* --- the augmented table ----------------------------------------------- */

/* Column means over the finite cells; a column without one is an error. */
static int column_means(double *mean, const lw_mat *X)
{
	for (size_t j = 0; j < X->cols; j++) {
		double s = 0;
		size_t c = 0;

		for (size_t i = 0; i < X->rows; i++) {
			double v = lw_mat_row(X, i)[j];

			if (isfinite(v)) {
				s += v;
				c++;
			}
		}
		if (!c) {
			lw_error_set(LW_ERRCLASS_INVALID, "column %zu of the labelled rows has no "
				     "finite value, so its missing cells cannot be filled; drop it",
				     j + 1);
			return LW_EINVALID;
		}
		mean[j] = s / (double)c;
	}
	return 0;
}

/* X with every non-finite cell replaced by its column's fill value. */
static int filled(lw_mat *out, const lw_mat *X, const double *fill)
{
	int err;

	if ((err = lw_mat_copy(out, X)) < 0)
		return err;
	for (size_t i = 0; i < out->rows; i++) {
		double *row = lw_mat_row(out, i);

		for (size_t j = 0; j < out->cols; j++)
			if (!isfinite(row[j]))
				row[j] = fill[j];
	}
	return 0;
}

/* [X | member 0's outputs | member 1's | ...] for the filled rows Xf. */
static int augmented(lw_mat *A, const lw_reuser *r, const lw_reuse_member *members,
		     const lw_mat *Xf)
{
	size_t at = Xf->cols;
	lw_mat P = LW_MAT_INIT;
	int err;

	if ((err = lw_mat_init(A, Xf->rows, r->n_aug)) < 0)
		return err;
	for (size_t i = 0; i < Xf->rows; i++)
		memcpy(lw_mat_row(A, i), lw_mat_row(Xf, i), Xf->cols * sizeof(double));
	for (size_t m = 0; m < r->n_members; m++) {
		if ((err = lw__reuse_member_predict(&P, r, m, &members[m], Xf)) < 0) {
			lw_mat_dispose(A);
			return err;
		}
		for (size_t i = 0; i < Xf->rows; i++)
			memcpy(lw_mat_row(A, i) + at, lw_mat_row(&P, i), P.cols * sizeof(double));
		at += P.cols;
		lw_mat_dispose(&P);
	}
	return 0;
}

/* --- ridge with leave-one-out alpha ------------------------------------ */

/* Mean squared leave-one-out error for one alpha, from the SVD of the centred rows. */
static double loo_mse(const double *U, const double *s, const double *Uty, size_t n, size_t k,
		      const double *yc, double alpha, double *f)
{
	double sum = 0;

	for (size_t j = 0; j < k; j++)
		f[j] = s[j] * s[j] / (s[j] * s[j] + alpha);
	for (size_t i = 0; i < n; i++) {
		const double *u = U + i * k;
		double h = 1.0 / (double)n, fit = 0, e;

		for (size_t j = 0; j < k; j++) {
			h += u[j] * u[j] * f[j];
			fit += u[j] * f[j] * Uty[j];
		}
		if (!(1 - h > 1e-12))
			return INFINITY;
		e = (yc[i] - fit) / (1 - h);
		sum += e * e;
	}
	return sum / (double)n;
}

/*
 * With the intercept free, the hat matrix of ridge on A is
 * 11'/n + Ac (Ac'Ac + alpha I)^-1 Ac' (Ac: A centred), so with Ac = U S V'
 * every alpha's leave-one-out residuals (y_i - yhat_i) / (1 - h_ii) come
 * from one SVD.
 */
int lw__ridge_loo(double *coef, double *intercept, double *alpha, double *mse,
		  const lw_mat *A, const double *y, const double *alphas, size_t n_alphas)
{
	size_t n = A->rows, p = A->cols, k = n < p ? n : p;
	double *xm = lw__calloc(p, sizeof(double)), *yc = lw__mallocarray(n, sizeof(double));
	double *s = lw__mallocarray(k, sizeof(double)), *U = lw__mallocarray(n, k * sizeof(double));
	double *VT = lw__mallocarray(k, p * sizeof(double)), *Uty = lw__calloc(k, sizeof(double));
	double *f = lw__mallocarray(k, sizeof(double)), ym = 0, best = INFINITY;
	size_t pick = n_alphas - 1;
	lw_mat C = LW_MAT_INIT;
	lapack_int info;
	int err = LW_ENOMEM;

	if (!xm || !yc || !s || !U || !VT || !Uty || !f || (err = lw_mat_copy(&C, A)) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		ym += y[i];
		for (size_t j = 0; j < p; j++)
			xm[j] += lw_mat_row(A, i)[j];
	}
	ym /= (double)n;
	for (size_t j = 0; j < p; j++)
		xm[j] /= (double)n;
	for (size_t i = 0; i < n; i++) {
		yc[i] = y[i] - ym;
		for (size_t j = 0; j < p; j++)
			lw_mat_row(&C, i)[j] -= xm[j];
	}
	info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)n, (lapack_int)p, C.data,
			      (lapack_int)p, s, U, (lapack_int)k, VT, (lapack_int)p);
	if (info != 0) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "ridge: the SVD of the augmented features did not "
			     "converge (LAPACK dgesdd info %d)", (int)info);
		err = LW_ERROR;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < k; j++)
			Uty[j] += U[i * k + j] * yc[i];
	/* The first alpha with the least error (sklearn's argmin); the largest if none is finite. */
	for (size_t a = 0; a < n_alphas; a++) {
		double e = loo_mse(U, s, Uty, n, k, yc, alphas[a], f);

		if (e < best) {
			best = e;
			pick = a;
		}
	}
	*alpha = alphas[pick];
	*mse = best;
	/* w = V diag(s / (s^2 + alpha)) U'y */
	for (size_t j = 0; j < p; j++)
		coef[j] = 0;
	for (size_t t = 0; t < k; t++) {
		double g = s[t] / (s[t] * s[t] + *alpha) * Uty[t];

		for (size_t j = 0; j < p; j++)
			coef[j] += VT[t * p + j] * g;
	}
	*intercept = ym;
	for (size_t j = 0; j < p; j++)
		*intercept -= xm[j] * coef[j];
	err = 0;
done:
	free(xm);
	free(yc);
	free(s);
	free(U);
	free(VT);
	free(Uty);
	free(f);
	lw_mat_dispose(&C);
	return err;
}

/* --- logistic regression with cross-validated C ------------------------- */

/*
 * StratifiedKFold(n_folds) without shuffling, as sklearn assigns it:
 * classes numbered by first appearance, and within each class its rows,
 * in order, fill fold 0, then fold 1, ..., in the counts the sorted
 * labels dealt round-robin give.
 */
static int stratified_folds(size_t *fold, const double *y, size_t n, size_t k, size_t n_folds)
{
	size_t *enc = lw__mallocarray(k, sizeof(size_t)), *code = lw__mallocarray(n, sizeof(size_t));
	size_t *count = lw__calloc(k, sizeof(size_t)), *alloc = lw__calloc(n_folds * k, sizeof(size_t));
	size_t *next = lw__calloc(k, sizeof(size_t)), *used = lw__calloc(k, sizeof(size_t));
	size_t seen = 0;
	int err = LW_ENOMEM;

	if (!enc || !code || !count || !alloc || !next || !used)
		goto done;
	for (size_t c = 0; c < k; c++)
		enc[c] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t c = (size_t)y[i];

		if (enc[c] == SIZE_MAX)
			enc[c] = seen++;
		code[i] = enc[c];
		count[code[i]]++;
	}
	/* The sorted codes dealt round-robin: position t goes to fold t % n_folds. */
	for (size_t c = 0, t = 0; c < seen; c++)
		for (size_t a = 0; a < count[c]; a++, t++)
			alloc[(t % n_folds) * k + c]++;
	for (size_t i = 0; i < n; i++) {
		size_t c = code[i];

		while (used[c] == alloc[next[c] * k + c]) {
			next[c]++;
			used[c] = 0;
		}
		fold[i] = next[c];
		used[c]++;
	}
	err = 0;
done:
	free(enc);
	free(code);
	free(count);
	free(alloc);
	free(next);
	free(used);
	return err;
}

/*
 * Fit W (k x p) and b (k) on the rows of A: sklearn's objective
 * C sum_i loss_i + |w|^2 / 2 is mean loss + |w|^2 / (2 C n), which the
 * softmax trainer's (l2/2)|W|^2 gives with l2 = 1/(C n); for two classes
 * its two weight rows split w, so l2 = 2/(C n).  The trainer works on
 * standardised columns; the coefficients are mapped back to raw ones.
 */
static int fit_logistic(double *W, double *b, const lw_mat *A, const double *y, size_t k,
			double C, uint64_t seed)
{
	lw_train_options t;
	lw_model *m = NULL;
	const lw__builtin *net;
	size_t p = A->cols;
	int err;

	lw_train_options_init(&t, LW_TRAIN_OPTIONS_VERSION);
	t.kind = LW_MODEL_LOGISTIC;
	t.task = LW_TASK_CLASSIFICATION;
	t.holdout = 0;
	t.n_classes = k;
	t.max_iter = LOGISTIC_MAX_ITER;
	t.seed = seed;
	t.l2 = (k == 2 ? 2.0 : 1.0) / (C * (double)A->rows);
	if ((err = lw_train(&m, NULL, A, y, &t)) < 0)
		return err;
	net = lw__builtin_of(m);
	for (size_t c = 0; c < k; c++) {
		const double *w = net->layers[0].w + c * p;

		b[c] = net->layers[0].b[c];
		for (size_t j = 0; j < p; j++) {
			W[c * p + j] = w[j] / net->x_scale[j];
			b[c] -= W[c * p + j] * net->x_mean[j];
		}
	}
	lw_model_free(m);
	return 0;
}

/* The class with the highest score W a + b (ties to the lower class). */
static size_t logistic_class(const double *W, const double *b, const double *a, size_t p, size_t k)
{
	size_t best = 0;
	double top = -INFINITY;

	for (size_t c = 0; c < k; c++) {
		double s = b[c];

		for (size_t j = 0; j < p; j++)
			s += W[c * p + j] * a[j];
		if (s > top) {
			top = s;
			best = c;
		}
	}
	return best;
}

/* Rows of A (and y) in fold f (in) or out of it. */
static int fold_rows(lw_mat *As, double **ys, size_t *cnt, const lw_mat *A, const double *y,
		     const size_t *fold, size_t f, bool in, size_t *idx)
{
	size_t m = 0;
	int err;

	for (size_t i = 0; i < A->rows; i++)
		if ((fold[i] == f) == in)
			idx[m++] = i;
	*cnt = m;
	if ((err = lw_mat_take_rows(As, A, idx, m)) < 0)
		return err;
	if (!(*ys = lw__mallocarray(m ? m : 1, sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < m; i++)
		(*ys)[i] = y[idx[i]];
	return 0;
}

/* Accuracy on fold f of C's model fitted on the other folds. */
static int fold_accuracy(double *acc, const lw_mat *A, const double *y, const size_t *fold,
			 size_t f, size_t k, double C, uint64_t seed, size_t *idx)
{
	lw_mat Atr = LW_MAT_INIT, Ate = LW_MAT_INIT;
	double *ytr = NULL, *yte = NULL, *W = NULL, *b = NULL;
	size_t ntr, nte, p = A->cols, right = 0;
	bool one_class = true;
	int err;

	if ((err = fold_rows(&Atr, &ytr, &ntr, A, y, fold, f, false, idx)) < 0 ||
	    (err = fold_rows(&Ate, &yte, &nte, A, y, fold, f, true, idx)) < 0)
		goto done;
	for (size_t i = 1; i < ntr; i++)
		one_class &= ytr[i] == ytr[0];
	if (!(W = lw__mallocarray(k * p, sizeof(double))) || !(b = lw__mallocarray(k, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	/* A training part with one class predicts that class. */
	if (!one_class && (err = fit_logistic(W, b, &Atr, ytr, k, C, seed)) < 0)
		goto done;
	for (size_t i = 0; i < nte; i++) {
		size_t c = one_class ? (size_t)ytr[0]
				     : logistic_class(W, b, lw_mat_row(&Ate, i), p, k);

		right += (double)c == yte[i];
	}
	*acc = (double)right / (double)nte;
done:
	lw_mat_dispose(&Atr);
	lw_mat_dispose(&Ate);
	free(ytr);
	free(yte);
	free(W);
	free(b);
	return err;
}

/* The number of folds: 5, or fewer when no class has 5 rows (at least 2; 0: no CV). */
static size_t fold_count(const double *y, size_t n, size_t k)
{
	size_t *count = lw__calloc(k, sizeof(size_t)), top = 0;

	if (!count)
		return 0;
	for (size_t i = 0; i < n; i++)
		count[(size_t)y[i]]++;
	for (size_t c = 0; c < k; c++)
		top = count[c] > top ? count[c] : top;
	free(count);
	top = top < N_FOLDS ? top : N_FOLDS;
	return top >= 2 ? top : 0;
}

static int logistic_cv(lw_reuser *r, const lw_mat *A, const double *y, const lw_reuse_options *o)
{
	size_t n = A->rows, k = r->n_classes, folds = fold_count(y, n, k);
	size_t *fold = lw__mallocarray(n, sizeof(size_t)), *idx = lw__mallocarray(n, sizeof(size_t));
	double score[N_CS] = { 0 }, best = -1;
	int err = LW_ENOMEM, pick = -1;

	if (!fold || !idx)
		goto done;
	if (folds && (err = stratified_folds(fold, y, n, k, folds)) < 0)
		goto done;
	for (int c = 0; folds && c < N_CS; c++) {
		double C = pow(10.0, -4.0 + 8.0 * c / (N_CS - 1));

		for (size_t f = 0; f < folds; f++) {
			double acc = 0;

			if ((err = fold_accuracy(&acc, A, y, fold, f, k, C, o->seed, idx)) < 0)
				goto done;
			score[c] += acc / (double)folds;
		}
		if (score[c] > best) {
			best = score[c];
			pick = c;
		}
		if ((err = lw__reuse_progress(o, "augment", (c + 1.0) / (N_CS + 1.0))) < 0)
			goto done;
	}
	/* Too few rows for folds: sklearn's LogisticRegression default, C = 1. */
	r->penalty = pick >= 0 ? pow(10.0, -4.0 + 8.0 * pick / (N_CS - 1)) : 1.0;
	r->cv_score = pick >= 0 ? best : NAN;
	r->n_coef = k;
	if (!(r->coef = lw__mallocarray(k, r->n_aug * sizeof(double))) ||
	    !(r->intercept = lw__mallocarray(k, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	err = fit_logistic(r->coef, r->intercept, A, y, k, r->penalty, o->seed);
done:
	free(fold);
	free(idx);
	return err;
}

/* --- fit and predict ------------------------------------------------------ */

int lw__reuse_augment_fit(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			  const double *y, const lw_reuse_options *o)
{
	lw_mat Xf = LW_MAT_INIT, A = LW_MAT_INIT;
	int err;

	r->n_aug = X->cols;
	for (size_t i = 0; i < r->n_members; i++)
		r->n_aug += r->member_out[i];
	if (!(r->fill = lw__mallocarray(X->cols, sizeof(double))))
		return LW_ENOMEM;
	if ((err = lw__reuse_progress(o, "augment", 0)) < 0 ||
	    (err = column_means(r->fill, X)) < 0 || (err = filled(&Xf, X, r->fill)) < 0 ||
	    (err = augmented(&A, r, members, &Xf)) < 0)
		goto done;
	if (r->task == LW_TASK_REGRESSION) {
		r->n_coef = 1;
		if (!(r->coef = lw__mallocarray(r->n_aug, sizeof(double))) ||
		    !(r->intercept = lw__mallocarray(1, sizeof(double)))) {
			err = LW_ENOMEM;
			goto done;
		}
		err = lw__ridge_loo(r->coef, r->intercept, &r->penalty, &r->cv_score, &A, y,
				    ridge_alphas, sizeof(ridge_alphas) / sizeof(ridge_alphas[0]));
	} else {
		err = logistic_cv(r, &A, y, o);
	}
	if (!err)
		err = lw__reuse_progress(o, "augment", 1);
done:
	lw_mat_dispose(&Xf);
	lw_mat_dispose(&A);
	return err;
}

int lw__reuse_augment_predict(lw_mat *out, const lw_reuser *r, const lw_reuse_member *members,
			      const lw_mat *X)
{
	lw_mat Xf = LW_MAT_INIT, A = LW_MAT_INIT;
	size_t p = r->n_aug;
	int err;

	if ((err = filled(&Xf, X, r->fill)) < 0 || (err = augmented(&A, r, members, &Xf)) < 0 ||
	    (err = lw_mat_init(out, X->rows, 1)) < 0)
		goto done;
	for (size_t i = 0; i < X->rows; i++) {
		const double *a = lw_mat_row(&A, i);

		if (r->task == LW_TASK_REGRESSION) {
			double s = r->intercept[0];

			for (size_t j = 0; j < p; j++)
				s += r->coef[j] * a[j];
			out->data[i] = s;
		} else {
			out->data[i] = (double)logistic_class(r->coef, r->intercept, a, p,
							      r->n_classes);
		}
	}
done:
	lw_mat_dispose(&Xf);
	lw_mat_dispose(&A);
	return err;
}
