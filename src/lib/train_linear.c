/*
 * Linear regression: ridge least squares on standardised inputs,
 *   min_w |Z w + b - y|^2 + alpha |w|^2,  b = mean(y),
 * solved through the normal equations (Z'Z + alpha I) w = Z'(y - b) with
 * a Cholesky factorisation.  Standardising first keeps Z'Z well scaled
 * whatever the columns' units, and makes alpha mean the same on any data.
 */
#include <cblas.h>
#include <lapacke.h>
#include <string.h>

#include "train.h"
#include "util.h"

/* w (d) and the intercept from the standardised rows Z. */
static int solve(double *w, double *intercept, const lw_mat *Z, const double *y, double alpha)
{
	size_t n = Z->rows, d = Z->cols;
	double *A = lw__mallocarray(d * d, sizeof(double)), *yc = lw__mallocarray(n, sizeof(double));
	double mean = 0;
	lapack_int info;
	int err = 0;

	if (!A || !yc) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		mean += y[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		yc[i] = y[i] - mean;
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n, 1.0, Z->data, (int)d,
		    0.0, A, (int)d);
	for (size_t j = 0; j < d; j++)
		A[j * d + j] += alpha;
	cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0, Z->data, (int)d, yc, 1, 0.0, w, 1);
	info = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, 1, A, (lapack_int)d, w, 1);
	if (info != 0) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "linear regression: the features are collinear or "
			     "constant (the normal equations are singular at column %d); use a "
			     "positive ridge alpha", (int)info);
		err = LW_ERROR;
	}
	*intercept = mean;
done:
	free(A);
	free(yc);
	return err;
}

int lw__train_linear(lw_model **out, lw_train_report *r, const lw__fit *f)
{
	size_t widths[2] = { f->X.cols, 1 };
	lw__builtin *b = NULL;
	lw_mat Z = LW_MAT_INIT;
	int err;

	if ((err = lw__builtin_new(&b, LW_TASK_REGRESSION, widths, 1)) < 0 ||
	    (err = lw__builtin_set_names(b, f)) < 0 ||
	    (err = lw__standardize_fit(b->x_mean, b->x_scale, &f->X)) < 0 ||
	    (err = lw_mat_copy(&Z, &f->X)) < 0)
		goto done;
	lw__standardize_apply(&Z, b->x_mean, b->x_scale);
	b->layers[0].act = LW_ACT_IDENTITY;
	if ((err = solve(b->layers[0].w, b->layers[0].b, &Z, f->y, f->o->alpha)) < 0 ||
	    (err = lw__train_progress(f->o, 1.0)) < 0)
		goto done;
	r->iterations = 1;
	err = lw__builtin_wrap(out, LW_MODEL_LINEAR, b);
	b = NULL;
done:
	lw__builtin_free(b);
	lw_mat_dispose(&Z);
	return err;
}
