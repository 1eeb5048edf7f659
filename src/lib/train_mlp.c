/*
 * Multi-layer perceptron: dense ReLU hidden layers and a linear
 * (regression) or softmax (classification) output, trained by Adam on
 * seeded mini-batches.  Inputs are standardised and, for regression, so
 * is the target, so one learning rate suits any units; the model stores
 * both scalings and predicts in the data's own units.
 *
 * Loss: cross-entropy, or half the mean squared error on the standardised
 * target, plus (l2/2)|W|^2.  After every epoch the held-out loss is
 * measured; the best epoch's weights are kept and training stops after
 * early_stopping epochs without improvement.
 *
 * All parameters live in one flat vector theta (layer by layer: W, then
 * b), so Adam's moments, the gradient and the best snapshot are flat too.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "lw/rng.h"
#include "train.h"
#include "util.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
/* Relative held-out improvement that counts as progress. */
#define IMPROVE 1e-4

typedef struct {
	const lw__fit *f;
	size_t L, widths[LW_TRAIN_MAX_HIDDEN + 2], B, widest, n_params;
	lw__layer *view, *gview; /* layers over theta and over the gradient */
	double *theta, *grad, *m, *v, *best;
	double **A;      /* L + 1 activations, B x width; A[0] is the batch */
	double *dz, *da; /* B x widest */
	double *y;       /* training targets, standardised for regression */
	lw_mat Z, Zh;    /* standardised training and held-out rows */
	double *yh;
	unsigned long step;
} mlp;

static void layer_views(lw__layer *view, double *base, const mlp *n)
{
	double *p = base;

	for (size_t l = 0; l < n->L; l++) {
		view[l].inputs = n->widths[l];
		view[l].units = n->widths[l + 1];
		view[l].w = p;
		p += view[l].inputs * view[l].units;
		view[l].b = p;
		p += view[l].units;
		view[l].act = l + 1 < n->L ? LW_ACT_RELU
			      : n->f->o->task == LW_TASK_CLASSIFICATION ? LW_ACT_SOFTMAX
									  : LW_ACT_IDENTITY;
	}
}

static int shape(mlp *n)
{
	const lw_train_options *o = n->f->o;
	size_t cells;

	n->widths[0] = n->f->X.cols;
	n->L = 0;
	while (n->L < LW_TRAIN_MAX_HIDDEN && o->hidden[n->L]) {
		n->widths[n->L + 1] = o->hidden[n->L];
		n->L++;
	}
	n->widths[++n->L] = n->f->k;
	n->B = o->batch_size < n->f->X.rows ? o->batch_size : n->f->X.rows;
	n->n_params = n->widest = 0;
	for (size_t l = 0; l < n->L; l++) {
		if (!lw__mul_ok(&cells, n->widths[l] + 1, n->widths[l + 1]) || cells > INT32_MAX ||
		    n->n_params + cells > ((size_t)1 << 28)) {
			lw_error_set(LW_ERRCLASS_INVALID, "mlp: layer %zu (%zu x %zu) is too large",
				     l + 1, n->widths[l + 1], n->widths[l]);
			return LW_EINVALID;
		}
		n->n_params += cells;
		n->widest = n->widths[l + 1] > n->widest ? n->widths[l + 1] : n->widest;
	}
	return 0;
}

static int alloc_all(mlp *n)
{
	size_t p = n->n_params, w = n->widest > n->widths[0] ? n->widest : n->widths[0];

	if (!(n->view = lw__calloc(n->L, sizeof(lw__layer))) ||
	    !(n->gview = lw__calloc(n->L, sizeof(lw__layer))) ||
	    !(n->theta = lw__calloc(p, sizeof(double))) || !(n->grad = lw__calloc(p, sizeof(double))) ||
	    !(n->m = lw__calloc(p, sizeof(double))) || !(n->v = lw__calloc(p, sizeof(double))) ||
	    !(n->best = lw__calloc(p, sizeof(double))) ||
	    !(n->A = lw__calloc(n->L + 1, sizeof(double *))) ||
	    !(n->dz = lw__mallocarray(n->B, w * sizeof(double))) ||
	    !(n->da = lw__mallocarray(n->B, w * sizeof(double))) ||
	    !(n->y = lw__mallocarray(n->f->X.rows, sizeof(double))))
		return LW_ENOMEM;
	for (size_t l = 0; l <= n->L; l++)
		if (!(n->A[l] = lw__mallocarray(n->B, n->widths[l] * sizeof(double))))
			return LW_ENOMEM;
	layer_views(n->view, n->theta, n);
	layer_views(n->gview, n->grad, n);
	return 0;
}

static void mlp_dispose(mlp *n)
{
	for (size_t l = 0; n->A && l <= n->L; l++)
		free(n->A[l]);
	free(n->A);
	free(n->view);
	free(n->gview);
	free(n->theta);
	free(n->grad);
	free(n->m);
	free(n->v);
	free(n->best);
	free(n->dz);
	free(n->da);
	free(n->y);
	free(n->yh);
	lw_mat_dispose(&n->Z);
	lw_mat_dispose(&n->Zh);
}

/* He initialisation for ReLU layers, Glorot for the output. */
static void init_weights(mlp *n, lw_rng *rng)
{
	for (size_t l = 0; l < n->L; l++) {
		lw__layer *V = &n->view[l];
		double sd = l + 1 < n->L ? sqrt(2.0 / (double)V->inputs)
					 : sqrt(2.0 / (double)(V->inputs + V->units));

		for (size_t i = 0; i < V->inputs * V->units; i++)
			V->w[i] = sd * lw_rng_normal(rng);
	}
}

/* Standardised copies of the rows, and of the target for regression. */
static int prepare(mlp *n, lw__builtin *b)
{
	const lw__fit *f = n->f;
	int err;

	if ((err = lw__standardize_fit(b->x_mean, b->x_scale, &f->X)) < 0 ||
	    (err = lw_mat_copy(&n->Z, &f->X)) < 0 || (err = lw_mat_copy(&n->Zh, &f->Xh)) < 0)
		return err;
	lw__standardize_apply(&n->Z, b->x_mean, b->x_scale);
	lw__standardize_apply(&n->Zh, b->x_mean, b->x_scale);
	if (!(n->yh = lw__mallocarray(f->Xh.rows ? f->Xh.rows : 1, sizeof(double))))
		return LW_ENOMEM;
	memcpy(n->y, f->y, f->X.rows * sizeof(double));
	memcpy(n->yh, f->yh, f->Xh.rows * sizeof(double));
	if (f->o->task != LW_TASK_REGRESSION)
		return 0;
	if (!(b->y_mean = lw__calloc(1, sizeof(double))) ||
	    !(b->y_scale = lw__calloc(1, sizeof(double))))
		return LW_ENOMEM;
	{
		lw_mat ym = { f->X.rows, 1, f->y };

		if ((err = lw__standardize_fit(b->y_mean, b->y_scale, &ym)) < 0)
			return err;
	}
	for (size_t i = 0; i < f->X.rows; i++)
		n->y[i] = (n->y[i] - b->y_mean[0]) / b->y_scale[0];
	for (size_t i = 0; i < f->Xh.rows; i++)
		n->yh[i] = (n->yh[i] - b->y_mean[0]) / b->y_scale[0];
	return 0;
}

/* Mean loss of out (rows x k) against targets y (no penalty). */
static double loss_of(const double *out, const double *y, size_t rows, size_t k, bool classify)
{
	double s = 0;

	for (size_t i = 0; i < rows; i++) {
		if (classify) {
			double p = out[i * k + (size_t)y[i]];

			s -= log(p > 1e-300 ? p : 1e-300);
		} else {
			s += 0.5 * (out[i] - y[i]) * (out[i] - y[i]);
		}
	}
	return s / (double)rows;
}

/* Output gradient of the mean loss over the batch, into dz. */
static void output_grad(mlp *n, const size_t *idx, size_t rows)
{
	size_t k = n->widths[n->L];
	const double *out = n->A[n->L];

	for (size_t i = 0; i < rows; i++) {
		for (size_t c = 0; c < k; c++)
			n->dz[i * k + c] = out[i * k + c] / (double)rows;
		if (n->f->o->task == LW_TASK_CLASSIFICATION)
			n->dz[i * k + (size_t)n->y[idx[i]]] -= 1.0 / (double)rows;
		else
			n->dz[i * k] -= n->y[idx[i]] / (double)rows;
	}
}

/* Gradients of every layer from dz (the output layer's), through the ReLUs. */
static void backward(mlp *n, size_t rows)
{
	for (size_t l = n->L; l-- > 0;) {
		lw__layer *V = &n->view[l], *G = &n->gview[l];
		int in = (int)V->inputs, un = (int)V->units;

		memcpy(G->w, V->w, V->inputs * V->units * sizeof(double));
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, un, in, (int)rows, 1.0, n->dz,
			    un, n->A[l], in, n->f->o->l2, G->w, in);
		memset(G->b, 0, V->units * sizeof(double));
		for (size_t i = 0; i < rows; i++)
			cblas_daxpy(un, 1.0, n->dz + i * V->units, 1, G->b, 1);
		if (!l)
			break;
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, in, un, 1.0, n->dz,
			    un, V->w, in, 0.0, n->da, in);
		for (size_t i = 0; i < rows * V->inputs; i++)
			n->dz[i] = n->A[l][i] > 0 ? n->da[i] : 0;
	}
}

static void adam(mlp *n)
{
	double lr = n->f->o->learning_rate, c1, c2;

	n->step++;
	c1 = 1 - pow(ADAM_B1, (double)n->step);
	c2 = 1 - pow(ADAM_B2, (double)n->step);
	for (size_t i = 0; i < n->n_params; i++) {
		double g = n->grad[i];

		n->m[i] = ADAM_B1 * n->m[i] + (1 - ADAM_B1) * g;
		n->v[i] = ADAM_B2 * n->v[i] + (1 - ADAM_B2) * g * g;
		n->theta[i] -= lr * (n->m[i] / c1) / (sqrt(n->v[i] / c2) + ADAM_EPS);
	}
}

static void batch_step(mlp *n, const size_t *idx, size_t rows)
{
	size_t d = n->widths[0];

	for (size_t i = 0; i < rows; i++)
		memcpy(n->A[0] + i * d, lw_mat_row(&n->Z, idx[i]), d * sizeof(double));
	for (size_t l = 0; l < n->L; l++)
		lw__layer_forward(n->A[l + 1], &n->view[l], n->A[l], rows);
	output_grad(n, idx, rows);
	backward(n, rows);
	adam(n);
}

static void shuffle(size_t *perm, size_t count, lw_rng *rng)
{
	for (size_t i = count - 1; i > 0; i--) {
		size_t j = (size_t)lw_rng_below(rng, i + 1), t = perm[i];

		perm[i] = perm[j];
		perm[j] = t;
	}
}

/* Loss on the held-out rows with the current weights. */
static int holdout_loss(double *out, const mlp *n)
{
	lw__builtin net = { 0 };
	size_t rows = n->Zh.rows, k = n->widths[n->L];
	double *pred = lw__mallocarray(rows, k * sizeof(double));
	int err;

	if (!pred)
		return LW_ENOMEM;
	net.n_layers = n->L;
	net.layers = n->view;
	if ((err = lw__builtin_forward(pred, &net, n->Zh.data, rows)) == 0)
		*out = loss_of(pred, n->yh, rows, k, n->f->o->task == LW_TASK_CLASSIFICATION);
	free(pred);
	return err;
}

/* Track the best epoch; *stop when early stopping says so. */
static int after_epoch(mlp *n, double *best, unsigned *since, bool *stop)
{
	double loss;
	int err;

	*stop = false;
	if (!n->Zh.rows)
		return 0;
	if ((err = holdout_loss(&loss, n)) < 0)
		return err;
	if (!isfinite(loss)) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "mlp: the loss became non-finite (diverged); "
			     "use a smaller learning rate");
		return LW_ERROR;
	}
	if (!isfinite(*best) || loss < *best - IMPROVE * fabs(*best)) {
		*best = loss;
		*since = 0;
		memcpy(n->best, n->theta, n->n_params * sizeof(double));
		return 0;
	}
	(*since)++;
	*stop = n->f->o->early_stopping && *since >= n->f->o->early_stopping;
	return 0;
}

static int train_epochs(mlp *n, lw_rng *rng, lw_train_report *r)
{
	const lw_train_options *o = n->f->o;
	size_t rows = n->Z.rows, *perm = lw__mallocarray(rows, sizeof(size_t));
	double best = INFINITY;
	unsigned since = 0, e;
	bool stop = false;
	int err = 0;

	if (!perm)
		return LW_ENOMEM;
	for (size_t i = 0; i < rows; i++)
		perm[i] = i;
	for (e = 0; e < o->epochs && !stop; e++) {
		shuffle(perm, rows, rng);
		for (size_t i0 = 0; i0 < rows; i0 += n->B)
			batch_step(n, perm + i0, rows - i0 < n->B ? rows - i0 : n->B);
		if ((err = after_epoch(n, &best, &since, &stop)) < 0 ||
		    (err = lw__train_progress(o, (double)(e + 1) / o->epochs)) < 0)
			goto done;
	}
	/* Keep the best epoch's weights when a held-out set chose them. */
	if (n->Zh.rows && isfinite(best))
		memcpy(n->theta, n->best, n->n_params * sizeof(double));
	r->iterations = n->Zh.rows ? e - since : e;
	r->stopped_early = stop;
done:
	free(perm);
	return err;
}

static void copy_out(lw__builtin *b, const mlp *n)
{
	for (size_t l = 0; l < n->L; l++) {
		const lw__layer *V = &n->view[l];

		memcpy(b->layers[l].w, V->w, V->inputs * V->units * sizeof(double));
		memcpy(b->layers[l].b, V->b, V->units * sizeof(double));
		b->layers[l].act = V->act;
	}
}

static int check_finite(const mlp *n)
{
	for (size_t i = 0; i < n->n_params; i++) {
		if (!isfinite(n->theta[i])) {
			lw_error_set(LW_ERRCLASS_NUMERIC, "mlp: the weights became non-finite "
				     "(diverged); use a smaller learning rate");
			return LW_ERROR;
		}
	}
	return 0;
}

int lw__train_mlp(lw_model **out, lw_train_report *r, const lw__fit *f)
{
	mlp n = { 0 };
	lw__builtin *b = NULL;
	lw_rng rng;
	int err;

	n.f = f;
	/* A stream of its own, apart from the one that split the rows. */
	lw_rng_seed(&rng, f->o->seed ^ 0x6d6c7021ULL);
	if ((err = shape(&n)) < 0 || (err = alloc_all(&n)) < 0 ||
	    (err = lw__builtin_new(&b, f->o->task, n.widths, n.L)) < 0 ||
	    (err = lw__builtin_set_names(b, f)) < 0 || (err = prepare(&n, b)) < 0)
		goto done;
	init_weights(&n, &rng);
	if ((err = train_epochs(&n, &rng, r)) < 0 || (err = check_finite(&n)) < 0)
		goto done;
	copy_out(b, &n);
	err = lw__builtin_wrap(out, LW_MODEL_MLP, b);
	b = NULL;
done:
	lw__builtin_free(b);
	mlp_dispose(&n);
	return err;
}
