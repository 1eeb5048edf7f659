/*
 * Logistic (softmax) regression: multinomial cross-entropy on
 * standardised inputs with an L2 penalty on the weights (not the biases),
 *   f(W, b) = mean_i -log softmax(W z_i + b)[y_i] + (l2/2) |W|^2,
 * minimised by L-BFGS with a backtracking (Armijo) line search.  Two
 * classes are the same model with two rows of weights, so binary and
 * multi-class problems share one path and both predict probabilities.
 * lw__logistic_minimize exposes the solver on prepared rows, from a given
 * start and with its own stop, for feature augmentation's penalty path.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "train.h"
#include "util.h"

#define HISTORY 10
#define GRAD_TOL 1e-6
#define F_TOL 1e-12
#define MAX_HALVINGS 40

typedef struct {
	const lw_mat *Z;
	const double *y;
	size_t k, d;
	double l2;
	double *S; /* n x k scores, then gradients of the mean loss */
} problem;

/* Loss at theta = [W (k x d), b (k)]; its gradient into g. */
static double eval(problem *p, const double *theta, double *g)
{
	size_t n = p->Z->rows, k = p->k, d = p->d;
	const double *W = theta, *b = theta + k * d;
	double loss = 0, reg = 0;

	for (size_t i = 0; i < n; i++)
		memcpy(p->S + i * k, b, k * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)k, (int)d, 1.0,
		    p->Z->data, (int)d, W, (int)d, 1.0, p->S, (int)k);
	memset(g + k * d, 0, k * sizeof(double));
	for (size_t i = 0; i < n; i++) {
		double *s = p->S + i * k, mx = s[0], sum = 0;
		size_t yi = (size_t)p->y[i];

		for (size_t c = 1; c < k; c++)
			mx = s[c] > mx ? s[c] : mx;
		for (size_t c = 0; c < k; c++)
			sum += exp(s[c] - mx);
		loss += mx + log(sum) - s[yi];
		for (size_t c = 0; c < k; c++) {
			s[c] = exp(s[c] - mx) / sum / (double)n;
			g[k * d + c] += s[c];
		}
		s[yi] -= 1.0 / (double)n;
		g[k * d + yi] -= 1.0 / (double)n;
	}
	/* gW = S' Z + l2 W */
	memcpy(g, W, k * d * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)k, (int)d, (int)n, 1.0, p->S,
		    (int)k, p->Z->data, (int)d, p->l2, g, (int)d);
	for (size_t i = 0; i < k * d; i++)
		reg += W[i] * W[i];
	return loss / (double)n + 0.5 * p->l2 * reg;
}

/* L-BFGS state: the last HISTORY steps s and gradient changes y. */
typedef struct {
	size_t dim, used, next;
	double *s[HISTORY], *y[HISTORY], rho[HISTORY];
} lbfgs;

static double dot(const double *a, const double *b, size_t n)
{
	return cblas_ddot((int)n, a, 1, b, 1);
}

/* dir = -H g by the two-loop recursion. */
static void direction(double *dir, const lbfgs *h, const double *g)
{
	double alpha[HISTORY];
	size_t n = h->dim;

	for (size_t i = 0; i < n; i++)
		dir[i] = -g[i];
	for (size_t t = 0; t < h->used; t++) {
		size_t j = (h->next + HISTORY - 1 - t) % HISTORY;

		alpha[j] = h->rho[j] * dot(h->s[j], dir, n);
		cblas_daxpy((int)n, -alpha[j], h->y[j], 1, dir, 1);
	}
	if (h->used) {
		size_t j = (h->next + HISTORY - 1) % HISTORY;

		cblas_dscal((int)n, 1.0 / (h->rho[j] * dot(h->y[j], h->y[j], n)), dir, 1);
	}
	for (size_t t = h->used; t-- > 0;) {
		size_t j = (h->next + HISTORY - 1 - t) % HISTORY;
		double beta = h->rho[j] * dot(h->y[j], dir, n);

		cblas_daxpy((int)n, alpha[j] - beta, h->s[j], 1, dir, 1);
	}
}

/* Keep the step when it has positive curvature (else the update would break H's definiteness). */
static void remember(lbfgs *h, const double *x1, const double *x0, const double *g1,
		     const double *g0)
{
	size_t j = h->next, n = h->dim;
	double sy;

	for (size_t i = 0; i < n; i++) {
		h->s[j][i] = x1[i] - x0[i];
		h->y[j][i] = g1[i] - g0[i];
	}
	sy = dot(h->s[j], h->y[j], n);
	if (!(sy > 1e-12 * dot(h->y[j], h->y[j], n))) {
		/* Slot j held the oldest pair when the history was full: it is gone now. */
		h->used -= h->used == HISTORY;
		return;
	}
	h->rho[j] = 1.0 / sy;
	h->next = (j + 1) % HISTORY;
	h->used += h->used < HISTORY;
}

static double norm_inf(const double *g, size_t n)
{
	double m = 0;

	for (size_t i = 0; i < n; i++)
		m = fabs(g[i]) > m ? fabs(g[i]) : m;
	return m;
}

static double grad_norm(const double *g, size_t n, const lw__logistic_stop *stop)
{
	return stop->euclidean ? cblas_dnrm2((int)n, g, 1) : norm_inf(g, n);
}

typedef struct {
	double *x, *g, *x1, *g1, *dir;
} vectors;

/* Backtrack from step t along dir until the Armijo condition holds; false if it never does. */
static bool line_search(problem *p, vectors *v, double *f, double t, size_t n)
{
	double slope = dot(v->g, v->dir, n);

	if (!(slope < 0))
		return false;
	for (int h = 0; h < MAX_HALVINGS; h++, t *= 0.5) {
		double f1;

		for (size_t i = 0; i < n; i++)
			v->x1[i] = v->x[i] + t * v->dir[i];
		f1 = eval(p, v->x1, v->g1);
		if (isfinite(f1) && f1 <= *f + 1e-4 * t * slope) {
			*f = f1;
			return true;
		}
	}
	return false;
}

/* L-BFGS from theta until stop says; o (or NULL) gets progress and may cancel. */
static int minimize(problem *p, double *theta, const lw__logistic_stop *stop,
		    const lw_train_options *o, unsigned *iters)
{
	size_t n = p->k * p->d + p->k;
	lbfgs h = { n, 0, 0, { NULL }, { NULL }, { 0 } };
	vectors v = { theta, NULL, NULL, NULL, NULL };
	double f, f_old;
	unsigned it = 0;
	int err = LW_ENOMEM;

	for (int j = 0; j < HISTORY; j++)
		if (!(h.s[j] = lw__mallocarray(n, sizeof(double))) ||
		    !(h.y[j] = lw__mallocarray(n, sizeof(double))))
			goto done;
	if (!(v.g = lw__mallocarray(n, sizeof(double))) || !(v.x1 = lw__mallocarray(n, sizeof(double))) ||
	    !(v.g1 = lw__mallocarray(n, sizeof(double))) || !(v.dir = lw__mallocarray(n, sizeof(double))))
		goto done;
	f = eval(p, v.x, v.g);
	for (err = 0; it < stop->max_iter && grad_norm(v.g, n, stop) > stop->tol; it++) {
		direction(v.dir, &h, v.g);
		f_old = f;
		/* The first step has no curvature yet: scale it to a unit move. */
		if (!line_search(p, &v, &f, h.used ? 1.0 : 1.0 / (1.0 + grad_norm(v.g, n, stop)), n)) {
			if (!h.used)
				break;
			/* A stale curvature model: restart from steepest descent once. */
			h.used = h.next = 0;
			continue;
		}
		remember(&h, v.x1, v.x, v.g1, v.g);
		memcpy(v.x, v.x1, n * sizeof(double));
		memcpy(v.g, v.g1, n * sizeof(double));
		if (o && (err = lw__train_progress(o, (double)(it + 1) / stop->max_iter)) < 0)
			goto done;
		if (f_old - f <= F_TOL * (fabs(f) > 1 ? fabs(f) : 1)) {
			it++;
			break;
		}
	}
	*iters = it;
done:
	for (int j = 0; j < HISTORY; j++) {
		free(h.s[j]);
		free(h.y[j]);
	}
	free(v.g);
	free(v.x1);
	free(v.g1);
	free(v.dir);
	return err;
}

int lw__train_logistic(lw_model **out, lw_train_report *r, const lw__fit *f)
{
	size_t d = f->X.cols, k = f->k, widths[2] = { d, k };
	problem p = { NULL, f->y, k, d, f->o->l2, NULL };
	lw__logistic_stop stop = { f->o->max_iter, GRAD_TOL, false };
	lw__builtin *b = NULL;
	lw_mat Z = LW_MAT_INIT;
	double *theta = NULL;
	int err;

	if ((err = lw__builtin_new(&b, LW_TASK_CLASSIFICATION, widths, 1)) < 0 ||
	    (err = lw__builtin_set_names(b, f)) < 0 ||
	    (err = lw__standardize_fit(b->x_mean, b->x_scale, &f->X)) < 0 ||
	    (err = lw_mat_copy(&Z, &f->X)) < 0)
		goto done;
	lw__standardize_apply(&Z, b->x_mean, b->x_scale);
	p.Z = &Z;
	if (!(theta = lw__calloc(k * d + k, sizeof(double))) ||
	    !(p.S = lw__mallocarray(Z.rows, k * sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = minimize(&p, theta, &stop, f->o, &r->iterations)) < 0)
		goto done;
	memcpy(b->layers[0].w, theta, k * d * sizeof(double));
	memcpy(b->layers[0].b, theta + k * d, k * sizeof(double));
	b->layers[0].act = LW_ACT_SOFTMAX;
	err = lw__builtin_wrap(out, LW_MODEL_LOGISTIC, b);
	b = NULL;
done:
	lw__builtin_free(b);
	lw_mat_dispose(&Z);
	free(theta);
	free(p.S);
	return err;
}

int lw__logistic_minimize(double *theta, const lw_mat *Z, const double *y, size_t k, double l2,
			  const lw__logistic_stop *stop, unsigned *iters)
{
	problem p = { Z, y, k, Z->cols, l2, lw__mallocarray(Z->rows, k * sizeof(double)) };
	int err;

	if (!p.S)
		return LW_ENOMEM;
	err = minimize(&p, theta, stop, NULL, iters);
	free(p.S);
	return err;
}
