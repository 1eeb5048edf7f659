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
 *    every row (LogisticRegressionCV's defaults).  As sklearn's path does,
 *    each fold fits the Cs in increasing order, each from the previous
 *    one's weights, with the logistic trainer's L-BFGS (train_logistic.c)
 *    stopped once the gradient's length is below 1e-5 (or after 1000
 *    iterations); rows narrower than wide are first rotated onto their
 *    row space (space_init), which leaves every fit the same but cheaper.
 *
 * Every product here is small (a few hundred rows): OpenBLAS's threads
 * cost far more than they save on them, the more so on a busy machine
 * (the CV took minutes with 2 threads where 1 takes seconds), so the
 * logistic fits run with one BLAS thread.  OpenBLAS's OpenMP build reads
 * the calling thread's omp_get_max_threads() on every call, so setting
 * it for this thread alone (and putting it back) is enough.
 *
 * The fitted model is kept as plain coefficients on the augmented
 * features, so predict and the saved file need nothing else.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "reuse.h"
#include "train.h"
#include "util.h"

static const double ridge_alphas[] = { 0.01, 0.1, 1.0, 10.0, 100.0 };
#define N_CS 10
#define N_FOLDS 5
#define LOGISTIC_MAX_ITER 1000
#define LOGISTIC_TOL 1e-5

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
 * sklearn's objective C sum_i loss_i + |w|^2 / 2 is mean loss +
 * |w|^2 / (2 C n), which the softmax solver's (l2/2)|W|^2 gives with
 * l2 = 1/(C n); for two classes its two weight rows split w, so
 * l2 = 2/(C n).
 */
static double path_l2(double C, size_t n, size_t k)
{
	return (k == 2 ? 2.0 : 1.0) / (C * (double)n);
}

/*
 * A logistic problem as the solver sees it: the training rows standardised
 * by their own means and scales (as lw_train does) into F and, when there
 * are fewer rows than columns, rotated onto their row space: with
 * Z = U S V' (thin SVD), F = Z V = U S.  The penalised optimum's weights
 * lie in that space (l2 W = -G'Z), and L-BFGS's steps stay in it, so the
 * fit on F's n columns is the fit on Z's p at n/p of the cost.  T holds
 * other rows to score, transformed alike (or none).
 */
typedef struct {
	lw_mat F, T;
	double *mean, *scale;
	double *VT; /* r x p: the rotation, or NULL */
} space;

static void space_dispose(space *s)
{
	lw_mat_dispose(&s->F);
	lw_mat_dispose(&s->T);
	free(s->mean);
	free(s->scale);
	free(s->VT);
}

/* F = U S from the thin SVD of Z (n < p), and VT. */
static int rotate(space *s, lw_mat *Z)
{
	size_t n = Z->rows, p = Z->cols;
	double *sv = lw__mallocarray(n, sizeof(double));
	lapack_int info;
	int err;

	s->VT = lw__mallocarray(n, p * sizeof(double));
	if (!sv || !s->VT || (err = lw_mat_init(&s->F, n, n)) < 0) {
		free(sv);
		return LW_ENOMEM;
	}
	info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)n, (lapack_int)p, Z->data,
			      (lapack_int)p, sv, s->F.data, (lapack_int)n, s->VT, (lapack_int)p);
	if (info != 0) {
		free(sv);
		lw_error_set(LW_ERRCLASS_NUMERIC, "logistic: the SVD of the augmented features did "
			     "not converge (LAPACK dgesdd info %d)", (int)info);
		return LW_ERROR;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			lw_mat_row(&s->F, i)[j] *= sv[j];
	free(sv);
	return 0;
}

/* The space of training rows A, with rows T (or NULL) to score in it. */
static int space_init(space *s, const lw_mat *A, const lw_mat *T)
{
	size_t p = A->cols;
	lw_mat Z = LW_MAT_INIT, Tz = LW_MAT_INIT;
	int err = LW_ENOMEM;

	*s = (space){ LW_MAT_INIT, LW_MAT_INIT, lw__mallocarray(p, sizeof(double)),
		      lw__mallocarray(p, sizeof(double)), NULL };
	if (!s->mean || !s->scale)
		goto done;
	if ((err = lw__standardize_fit(s->mean, s->scale, A)) < 0 || (err = lw_mat_copy(&Z, A)) < 0 ||
	    (T && (err = lw_mat_copy(&Tz, T)) < 0))
		goto done;
	lw__standardize_apply(&Z, s->mean, s->scale);
	if (T)
		lw__standardize_apply(&Tz, s->mean, s->scale);
	if (A->rows >= p) {
		s->F = Z;
		s->T = Tz;
		return 0;
	}
	if ((err = rotate(s, &Z)) < 0 || !T)
		goto done;
	/* T V: the scored rows in the rotated coordinates. */
	if ((err = lw_mat_init(&s->T, T->rows, A->rows)) < 0)
		goto done;
	if (T->rows)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T->rows, (int)A->rows,
			    (int)p, 1.0, Tz.data, (int)p, s->VT, (int)p, 0.0, s->T.data,
			    (int)A->rows);
done:
	lw_mat_dispose(&Z);
	lw_mat_dispose(&Tz);
	return err;
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

/* Progress over every fit of the cross-validation and the refit. */
typedef struct {
	const lw_reuse_options *o;
	size_t done, total;
} ticker;

static int tick(ticker *t)
{
	return lw__reuse_progress(t->o, "augment", (double)++t->done / (double)(t->total + 1));
}

/*
 * The penalty path: theta (k x (F's width + 1), zero or a start) fitted
 * for Cs[0], Cs[1], ... Cs[count - 1] in turn, each fit starting from the
 * previous one's weights (sklearn's path does the same).  With yt, the
 * accuracy on s->T after fit c is added, times weight, to score[c].
 */
static int path(double *theta, const space *s, const double *y, size_t k, const double *Cs,
		int count, const double *yt, double *score, double weight, ticker *tk)
{
	lw__logistic_stop stop = { LOGISTIC_MAX_ITER, LOGISTIC_TOL, true };
	size_t r = s->F.cols;
	unsigned iters;
	int err;

	for (int c = 0; c < count; c++) {
		size_t right = 0;

		if ((err = lw__logistic_minimize(theta, &s->F, y, k, path_l2(Cs[c], s->F.rows, k),
						 &stop, &iters)) < 0)
			return err;
		for (size_t i = 0; yt && i < s->T.rows; i++)
			right += (double)logistic_class(theta, theta + k * r, lw_mat_row(&s->T, i), r,
							k) == yt[i];
		if (yt)
			score[c] += weight * (double)right / (double)s->T.rows;
		if ((err = tick(tk)) < 0)
			return err;
	}
	return 0;
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

/* Add to score[c] the accuracy on fold f of every C's model fitted on the other folds. */
static int fold_scores(double *score, const lw_mat *A, const double *y, const size_t *fold,
		       size_t f, size_t folds, size_t k, const double *Cs, size_t *idx, ticker *tk)
{
	lw_mat Atr = LW_MAT_INIT, Ate = LW_MAT_INIT;
	double *ytr = NULL, *yte = NULL, *theta = NULL;
	size_t ntr, nte, right = 0;
	bool one_class = true;
	space s = { LW_MAT_INIT, LW_MAT_INIT, NULL, NULL, NULL };
	int err;

	if ((err = fold_rows(&Atr, &ytr, &ntr, A, y, fold, f, false, idx)) < 0 ||
	    (err = fold_rows(&Ate, &yte, &nte, A, y, fold, f, true, idx)) < 0)
		goto done;
	for (size_t i = 1; i < ntr; i++)
		one_class &= ytr[i] == ytr[0];
	if (one_class) {
		/* A training part with one class predicts that class, whatever C. */
		for (size_t i = 0; i < nte; i++)
			right += yte[i] == ytr[0];
		for (int c = 0; c < N_CS; c++)
			score[c] += (double)right / (double)nte / (double)folds;
		tk->done += N_CS;
		goto done;
	}
	if ((err = space_init(&s, &Atr, &Ate)) < 0)
		goto done;
	if (!(theta = lw__calloc(k * (s.F.cols + 1), sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	err = path(theta, &s, ytr, k, Cs, N_CS, yte, score, 1.0 / (double)folds, tk);
done:
	space_dispose(&s);
	lw_mat_dispose(&Atr);
	lw_mat_dispose(&Ate);
	free(ytr);
	free(yte);
	free(theta);
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

/*
 * The refit on every row along Cs[0..count) (so the chosen C, the last,
 * is reached as in the folds), its weights mapped back from the rotated,
 * standardised coordinates to raw ones: W = (Theta VT) / scale,
 * b -= W mean.
 */
static int refit(lw_reuser *r, const lw_mat *A, const double *y, const double *Cs, int count,
		 ticker *tk)
{
	size_t k = r->n_classes, p = A->cols, w;
	double *theta = NULL;
	space s;
	int err;

	if ((err = space_init(&s, A, NULL)) < 0)
		goto done;
	w = s.F.cols;
	if (!(theta = lw__calloc(k * (w + 1), sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = path(theta, &s, y, k, Cs, count, NULL, NULL, 0, tk)) < 0)
		goto done;
	if (s.VT)
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)k, (int)p, (int)w, 1.0,
			    theta, (int)w, s.VT, (int)p, 0.0, r->coef, (int)p);
	else
		memcpy(r->coef, theta, k * p * sizeof(double));
	for (size_t c = 0; c < k; c++) {
		r->intercept[c] = theta[k * w + c];
		for (size_t j = 0; j < p; j++) {
			r->coef[c * p + j] /= s.scale[j];
			r->intercept[c] -= r->coef[c * p + j] * s.mean[j];
		}
	}
done:
	space_dispose(&s);
	free(theta);
	return err;
}

static int logistic_cv(lw_reuser *r, const lw_mat *A, const double *y, const lw_reuse_options *o)
{
	size_t n = A->rows, k = r->n_classes, folds = fold_count(y, n, k);
	size_t *fold = lw__mallocarray(n, sizeof(size_t)), *idx = lw__mallocarray(n, sizeof(size_t));
	double Cs[N_CS], score[N_CS] = { 0 }, best = -1, one = 1.0;
	ticker tk = { o, 0, (folds + 1) * N_CS };
	int err = LW_ENOMEM, pick = -1;

	if (!fold || !idx)
		goto done;
	for (int c = 0; c < N_CS; c++)
		Cs[c] = pow(10.0, -4.0 + 8.0 * c / (N_CS - 1));
	if (folds && (err = stratified_folds(fold, y, n, k, folds)) < 0)
		goto done;
	for (size_t f = 0; f < folds; f++)
		if ((err = fold_scores(score, A, y, fold, f, folds, k, Cs, idx, &tk)) < 0)
			goto done;
	/* The first C with the best mean accuracy (sklearn's argmax). */
	for (int c = 0; folds && c < N_CS; c++)
		if (score[c] > best) {
			best = score[c];
			pick = c;
		}
	/* Too few rows for folds: sklearn's LogisticRegression default, C = 1. */
	r->penalty = pick >= 0 ? Cs[pick] : 1.0;
	r->cv_score = pick >= 0 ? best : NAN;
	r->n_coef = k;
	if (!(r->coef = lw__mallocarray(k, r->n_aug * sizeof(double))) ||
	    !(r->intercept = lw__mallocarray(k, sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	err = pick >= 0 ? refit(r, A, y, Cs, pick + 1, &tk) : refit(r, A, y, &one, 1, &tk);
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
		int threads = omp_get_max_threads();

		omp_set_num_threads(1);
		err = logistic_cv(r, &A, y, o);
		omp_set_num_threads(threads);
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
