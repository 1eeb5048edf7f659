/*
 * Feature alignment by MMD^2 between RKMEs, trained with hand-written
 * backpropagation through BLAS.
 *
 * The gradient of L with respect to the mapped user points Y = f(Z_u),
 * with K = K(Y, Y), C = K(Y, Z_l), s = K b_u and t = C b_l, is row by row
 *
 *   dL/dY_i = 4 gamma b_u,i [ (t_i - s_i) Y_i + (K (b_u . Y))_i - (C (b_l . Z_l))_i ]
 *
 * (from d/dy exp(-gamma |y - y'|^2) = -2 gamma (y - y') k), after which
 * the two dense layers are differentiated as usual.
 */
#include "align.h"

#include <cblas.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "lw/rng.h"
#include "util.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
/* Rows mapped at once by lw__align_apply: bounds the hidden activations. */
#define APPLY_BLOCK 1024
/* Largest width of any layer, and most parameters, a map may have. */
#define MAX_WIDTH ((size_t)1 << 24)
#define MAX_PARAMS ((size_t)1 << 28)
#define TYPE_NAME "FeatureAlign"
#define FORMAT_VERSION 1

/* ---- the network --------------------------------------------------- */

static size_t width_of(const lw__align *a)
{
	return a->hidden ? a->hidden : a->d_in;
}

static void set_views(lw__align *a)
{
	double *p = a->theta;
	size_t width = width_of(a);

	a->W1 = a->b1 = NULL;
	if (a->hidden) {
		a->W1 = p;
		p += a->hidden * a->d_in;
		a->b1 = p;
		p += a->hidden;
	}
	a->W2 = p;
	p += a->d_out * width;
	a->b2 = p;
}

static int alloc_map(lw__align **out, size_t d_in, size_t hidden, size_t d_out)
{
	lw__align *a;
	size_t width = hidden ? hidden : d_in, l1 = 0, l2, n;

	*out = NULL;
	if (d_in == 0 || d_out == 0 || d_in > MAX_WIDTH || d_out > MAX_WIDTH || hidden > MAX_WIDTH) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "feature alignment: a map from %zu to %zu columns through %zu hidden "
			     "units is not possible (each must be 1 to %zu; hidden may be 0)",
			     d_in, d_out, hidden, MAX_WIDTH);
		return LW_EINVALID;
	}
	if ((hidden && (!lw__mul_ok(&l1, hidden, d_in + 1))) || !lw__mul_ok(&l2, d_out, width + 1) ||
	    (n = l1 + l2) > MAX_PARAMS) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "feature alignment: %zu x %zu x %zu needs more than %zu parameters",
			     d_in, hidden, d_out, MAX_PARAMS);
		return LW_EINVALID;
	}
	if (!(a = lw__calloc(1, sizeof(*a))))
		return LW_ENOMEM;
	if (!(a->theta = lw__calloc(n, sizeof(double)))) {
		free(a);
		return LW_ENOMEM;
	}
	a->d_in = d_in;
	a->hidden = hidden;
	a->d_out = d_out;
	a->n_params = n;
	a->gamma = 0.1;
	a->loss_initial = a->loss_final = NAN;
	set_views(a);
	*out = a;
	return 0;
}

/* PyTorch's nn.Linear default: weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
static void init_layer(double *w, double *b, size_t units, size_t inputs, lw_rng *rng)
{
	double bound = 1.0 / sqrt((double)inputs);

	for (size_t i = 0; i < units * inputs; i++)
		w[i] = (2 * lw_rng_uniform(rng) - 1) * bound;
	for (size_t i = 0; i < units; i++)
		b[i] = (2 * lw_rng_uniform(rng) - 1) * bound;
}

int lw__align_new(lw__align **out, size_t d_in, size_t hidden, size_t d_out, uint64_t seed)
{
	lw__align *a;
	lw_rng rng;
	int err;

	LW_ASSERT_ARG(out);
	if ((err = alloc_map(&a, d_in, hidden, d_out)) < 0)
		return err;
	lw_rng_seed(&rng, seed);
	if (hidden)
		init_layer(a->W1, a->b1, hidden, d_in, &rng);
	init_layer(a->W2, a->b2, d_out, width_of(a), &rng);
	*out = a;
	return 0;
}

void lw__align_free(lw__align *a)
{
	if (!a)
		return;
	free(a->theta);
	free(a);
}

/* out (n x units) = in (n x inputs) W' + b. */
static void dense(double *out, const double *in, size_t n, const double *W, const double *b,
		  size_t units, size_t inputs)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * units, b, units * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)units, (int)inputs, 1.0,
		    in, (int)inputs, W, (int)inputs, 1.0, out, (int)units);
}

/* Y (n x d_out) = f(X); H (n x hidden) keeps the ReLU outputs. */
static void forward(double *Y, double *H, const lw__align *a, const double *X, size_t n)
{
	if (!a->hidden) {
		dense(Y, X, n, a->W2, a->b2, a->d_out, a->d_in);
		return;
	}
	dense(H, X, n, a->W1, a->b1, a->hidden, a->d_in);
	for (size_t i = 0; i < n * a->hidden; i++)
		H[i] = H[i] > 0 ? H[i] : 0;
	dense(Y, H, n, a->W2, a->b2, a->d_out, a->hidden);
}

/* ---- loss and gradient --------------------------------------------- */

typedef struct {
	size_t ku, kl;
	double *H, *dH;           /* ku x hidden each */
	double *Y, *G, *bY;       /* ku x d_out each */
	double *Kyy, *Kyz;        /* ku x ku, ku x kl */
	double *yn, *zn;          /* ku, kl */
	double *bz;               /* kl x d_out: b_l . Z_l */
	double *s, *t;            /* ku each */
	double self_l;            /* b_l' K(Z_l, Z_l) b_l */
} work;

static void work_dispose(work *w)
{
	free(w->H);
	free(w->Y);
	free(w->G);
	free(w->bY);
	free(w->dH);
	free(w->Kyy);
	free(w->Kyz);
	free(w->yn);
	free(w->zn);
	free(w->bz);
	free(w->s);
	free(w->t);
	memset(w, 0, sizeof(*w));
}

static int check_pair(const lw__align *a, const lw_rkme *user, const lw_rkme *lw, double gamma)
{
	if (!(gamma > 0) || !isfinite(gamma)) {
		lw_error_set(LW_ERRCLASS_INVALID, "feature alignment: gamma must be positive, not %g",
			     gamma);
		return LW_EINVALID;
	}
	if (lw_rkme_k(user) == 0 || lw_rkme_k(lw) == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "feature alignment: the %s RKME has no points",
			     lw_rkme_k(user) == 0 ? "user's" : "learnware's");
		return LW_EINVALID;
	}
	if (lw_rkme_k(user) > INT_MAX || lw_rkme_k(lw) > INT_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "feature alignment: RKME too large for BLAS");
		return LW_EINVALID;
	}
	if (a && (lw_rkme_dim(user) != a->d_in || lw_rkme_dim(lw) != a->d_out)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "feature alignment: the map takes %zu columns to %zu, but the user's "
			     "RKME has %zu and the learnware's %zu",
			     a->d_in, a->d_out, lw_rkme_dim(user), lw_rkme_dim(lw));
		return LW_EINVALID;
	}
	return 0;
}

static int work_init(work *w, const lw__align *a, const lw_rkme *lw, double gamma)
{
	size_t ku = w->ku, kl = lw_rkme_k(lw), d = a->d_out, h = a->hidden ? a->hidden : 1;
	double *Kzz = NULL;
	int err = LW_ENOMEM;

	w->kl = kl;
	if (!(w->H = lw__mallocarray(ku, h * sizeof(double))) ||
	    !(w->dH = lw__mallocarray(ku, h * sizeof(double))) ||
	    !(w->Y = lw__mallocarray(ku, d * sizeof(double))) ||
	    !(w->G = lw__mallocarray(ku, d * sizeof(double))) ||
	    !(w->bY = lw__mallocarray(ku, d * sizeof(double))) ||
	    !(w->Kyy = lw__mallocarray(ku, ku * sizeof(double))) ||
	    !(w->Kyz = lw__mallocarray(ku, kl * sizeof(double))) ||
	    !(w->yn = lw__mallocarray(ku, sizeof(double))) ||
	    !(w->zn = lw__mallocarray(kl, sizeof(double))) ||
	    !(w->bz = lw__mallocarray(kl, d * sizeof(double))) ||
	    !(w->s = lw__mallocarray(ku, sizeof(double))) ||
	    !(w->t = lw__mallocarray(ku, sizeof(double))) ||
	    !(Kzz = lw__mallocarray(kl, kl * sizeof(double))))
		goto done;
	lw_mat_row_sqnorms(&lw->z, w->zn);
	for (size_t j = 0; j < kl; j++)
		for (size_t c = 0; c < d; c++)
			w->bz[j * d + c] = lw->beta[j] * lw->z.data[j * d + c];
	lw__kernel_rbf_rows(Kzz, lw->z.data, w->zn, kl, lw->z.data, w->zn, kl, d, gamma);
	w->self_l = 0;
	for (size_t i = 0; i < kl; i++) {
		double r = 0;

		for (size_t j = 0; j < kl; j++)
			r += Kzz[i * kl + j] * lw->beta[j];
		w->self_l += lw->beta[i] * r;
	}
	err = 0;
done:
	free(Kzz);
	if (err < 0)
		work_dispose(w);
	return err;
}

/* L, and (grad non-NULL) dL/dtheta. */
static void loss_grad(double *loss, double *grad, const lw__align *a, work *w,
		      const lw_rkme *user, const lw_rkme *lw, double gamma)
{
	size_t ku = w->ku, kl = w->kl, d = a->d_out, width = width_of(a);
	const double *bu = user->beta, *bl = lw->beta, *Zu = user->z.data;
	const double *in = a->hidden ? w->H : Zu;
	double self_u = 0, cross = 0;

	forward(w->Y, w->H, a, Zu, ku);
	for (size_t i = 0; i < ku; i++) {
		const double *y = w->Y + i * d;
		double s = 0;

		for (size_t c = 0; c < d; c++)
			s += y[c] * y[c];
		w->yn[i] = s;
	}
	lw__kernel_rbf_rows(w->Kyy, w->Y, w->yn, ku, w->Y, w->yn, ku, d, gamma);
	lw__kernel_rbf_rows(w->Kyz, w->Y, w->yn, ku, lw->z.data, w->zn, kl, d, gamma);
	for (size_t i = 0; i < ku; i++) {
		double s = 0, t = 0;

		for (size_t j = 0; j < ku; j++)
			s += w->Kyy[i * ku + j] * bu[j];
		for (size_t j = 0; j < kl; j++)
			t += w->Kyz[i * kl + j] * bl[j];
		w->s[i] = s;
		w->t[i] = t;
		self_u += bu[i] * s;
		cross += bu[i] * t;
	}
	*loss = self_u - 2 * cross + w->self_l;
	if (!grad)
		return;

	/* G = K (b_u . Y) - C (b_l . Z_l), then the diagonal terms and scale. */
	for (size_t i = 0; i < ku; i++)
		for (size_t c = 0; c < d; c++)
			w->bY[i * d + c] = bu[i] * w->Y[i * d + c];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ku, (int)d, (int)ku, 1.0,
		    w->Kyy, (int)ku, w->bY, (int)d, 0.0, w->G, (int)d);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ku, (int)d, (int)kl, -1.0,
		    w->Kyz, (int)kl, w->bz, (int)d, 1.0, w->G, (int)d);
	for (size_t i = 0; i < ku; i++) {
		double f = 4 * gamma * bu[i], diag = w->t[i] - w->s[i];

		for (size_t c = 0; c < d; c++)
			w->G[i * d + c] = f * (w->G[i * d + c] + diag * w->Y[i * d + c]);
	}

	/* Output layer: dW2 = G' in, db2 = column sums of G. */
	{
		double *gW2 = grad + (a->W2 - a->theta), *gb2 = grad + (a->b2 - a->theta);

		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)width, (int)ku, 1.0,
			    w->G, (int)d, in, (int)width, 0.0, gW2, (int)width);
		memset(gb2, 0, d * sizeof(double));
		for (size_t i = 0; i < ku; i++)
			for (size_t c = 0; c < d; c++)
				gb2[c] += w->G[i * d + c];
	}
	if (!a->hidden)
		return;

	/* Hidden layer: dA = (G W2) masked by the ReLU, dW1 = dA' Z_u, db1 = sums. */
	{
		size_t h = a->hidden, din = a->d_in;
		double *gW1 = grad + (a->W1 - a->theta), *gb1 = grad + (a->b1 - a->theta);

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ku, (int)h, (int)d, 1.0,
			    w->G, (int)d, a->W2, (int)h, 0.0, w->dH, (int)h);
		for (size_t i = 0; i < ku * h; i++)
			if (!(w->H[i] > 0))
				w->dH[i] = 0;
		cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)h, (int)din, (int)ku, 1.0,
			    w->dH, (int)h, Zu, (int)din, 0.0, gW1, (int)din);
		memset(gb1, 0, h * sizeof(double));
		for (size_t i = 0; i < ku; i++)
			for (size_t u = 0; u < h; u++)
				gb1[u] += w->dH[i * h + u];
	}
}

int lw__align_loss(double *loss, double *grad, const lw__align *a, const lw_rkme *user,
		   const lw_rkme *learnware, double gamma)
{
	work w = { 0 };
	int err;

	LW_ASSERT_ARG(loss && a && user && learnware);
	if ((err = check_pair(a, user, learnware, gamma)) < 0)
		return err;
	w.ku = lw_rkme_k(user);
	if ((err = work_init(&w, a, learnware, gamma)) < 0)
		return err;
	loss_grad(loss, grad, a, &w, user, learnware, gamma);
	work_dispose(&w);
	return 0;
}

/* ---- training ------------------------------------------------------ */

static int check_options(const lw__align_options *o)
{
	if (o->version != LW__ALIGN_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "feature alignment: unknown options version %u",
			     o->version);
		return LW_EINVALID;
	}
	if (!(o->lr > 0) || !isfinite(o->lr)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "feature alignment: the learning rate must be positive, not %g", o->lr);
		return LW_EINVALID;
	}
	return 0;
}

int lw__align_fit(lw__align **out, const lw_rkme *user, const lw_rkme *learnware,
		  const lw__align_options *o)
{
	static const lw__align_options defaults = LW__ALIGN_OPTIONS_INIT;
	lw__align *a = NULL;
	work w = { 0 };
	double *grad = NULL, *m = NULL, *v = NULL, loss;
	int err;

	LW_ASSERT_ARG(out && user && learnware);
	*out = NULL;
	if (!o)
		o = &defaults;
	if ((err = check_options(o)) < 0 || (err = check_pair(NULL, user, learnware, o->gamma)) < 0)
		return err;
	if ((err = lw__align_new(&a, lw_rkme_dim(user), o->hidden, lw_rkme_dim(learnware),
				 o->seed)) < 0)
		return err;
	a->gamma = o->gamma;
	w.ku = lw_rkme_k(user);
	if ((err = work_init(&w, a, learnware, o->gamma)) < 0)
		goto done;
	err = LW_ENOMEM;
	if (!(grad = lw__mallocarray(a->n_params, sizeof(double))) ||
	    !(m = lw__calloc(a->n_params, sizeof(double))) ||
	    !(v = lw__calloc(a->n_params, sizeof(double))))
		goto done;
	for (unsigned int epoch = 0; epoch < o->epochs; epoch++) {
		double c1 = 1 - pow(ADAM_B1, epoch + 1.0), c2 = 1 - pow(ADAM_B2, epoch + 1.0);

		loss_grad(&loss, grad, a, &w, user, learnware, o->gamma);
		if (epoch == 0)
			a->loss_initial = loss;
		if (!isfinite(loss)) {
			lw_error_set(LW_ERRCLASS_NUMERIC,
				     "feature alignment: the loss is not finite at epoch %u; try a "
				     "smaller learning rate", epoch);
			err = LW_EINVALID;
			goto done;
		}
		for (size_t i = 0; i < a->n_params; i++) {
			double g = grad[i];

			m[i] = ADAM_B1 * m[i] + (1 - ADAM_B1) * g;
			v[i] = ADAM_B2 * v[i] + (1 - ADAM_B2) * g * g;
			a->theta[i] -= o->lr * (m[i] / c1) / (sqrt(v[i] / c2) + ADAM_EPS);
		}
	}
	loss_grad(&loss, NULL, a, &w, user, learnware, o->gamma);
	a->loss_final = loss;
	if (o->epochs == 0)
		a->loss_initial = loss;
	if (!isfinite(loss)) {
		lw_error_set(LW_ERRCLASS_NUMERIC, "feature alignment: the final loss is not finite");
		err = LW_EINVALID;
		goto done;
	}
	*out = a;
	a = NULL;
	err = 0;
done:
	free(grad);
	free(m);
	free(v);
	work_dispose(&w);
	lw__align_free(a);
	return err;
}

/* ---- applying ------------------------------------------------------ */

/* A copy of X with non-finite cells set to their column's finite mean, or NULL if none. */
static int fill_missing(double **out, const lw_mat *X)
{
	size_t n = X->rows, d = X->cols, bad = 0;
	double *F, *mean;

	*out = NULL;
	for (size_t i = 0; i < n * d; i++)
		bad += !isfinite(X->data[i]);
	if (!bad)
		return 0;
	if (!(F = lw__mallocarray(n, d * sizeof(double))))
		return LW_ENOMEM;
	if (!(mean = lw__calloc(d, sizeof(double)))) {
		free(F);
		return LW_ENOMEM;
	}
	for (size_t c = 0; c < d; c++) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++)
			if (isfinite(X->data[i * d + c])) {
				mean[c] += X->data[i * d + c];
				k++;
			}
		if (!k) {
			lw_error_set(LW_ERRCLASS_INVALID,
				     "feature alignment: column %zu has no finite value to fill "
				     "its missing cells with", c);
			free(F);
			free(mean);
			return LW_EINVALID;
		}
		mean[c] /= (double)k;
	}
	for (size_t i = 0; i < n * d; i++)
		F[i] = isfinite(X->data[i]) ? X->data[i] : mean[i % d];
	free(mean);
	*out = F;
	return 0;
}

int lw__align_apply(lw_mat *out, const lw__align *a, const lw_mat *X)
{
	double *filled = NULL, *H = NULL;
	const double *src;
	size_t block;
	int err;

	LW_ASSERT_ARG(out && a && X);
	memset(out, 0, sizeof(*out));
	if (X->cols != a->d_in) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "feature alignment: the map takes %zu columns, the data has %zu",
			     a->d_in, X->cols);
		return LW_EINVALID;
	}
	if ((err = fill_missing(&filled, X)) < 0)
		return err;
	src = filled ? filled : X->data;
	block = X->rows < APPLY_BLOCK ? X->rows : APPLY_BLOCK;
	if ((err = lw_mat_init(out, X->rows, a->d_out)) < 0)
		goto done;
	if (a->hidden && block && !(H = lw__mallocarray(block, a->hidden * sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < X->rows; i += block) {
		size_t rows = X->rows - i < block ? X->rows - i : block;

		forward(out->data + i * a->d_out, H, a, src + i * a->d_in, rows);
	}
done:
	if (err < 0)
		lw_mat_dispose(out);
	free(H);
	free(filled);
	return err;
}

/* ---- JSON ---------------------------------------------------------- */

static json_t *vector_json(const double *v, size_t n)
{
	json_t *arr = json_array();

	for (size_t j = 0; arr && j < n; j++)
		if (json_array_append_new(arr, json_real(v[j])) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	return arr;
}

static json_t *layer_json(const double *w, const double *b, size_t units, size_t inputs)
{
	json_t *W = json_array(), *B = vector_json(b, units), *o = NULL;

	for (size_t i = 0; W && i < units; i++)
		if (json_array_append_new(W, vector_json(w + i * inputs, inputs)) < 0) {
			json_decref(W);
			W = NULL;
		}
	if (W && B)
		o = json_pack("{s:O, s:O}", "w", W, "b", B);
	json_decref(W);
	json_decref(B);
	return o;
}

/* json_real of a NaN fails: loss fields that were never set are left out. */
static int set_real(json_t *o, const char *key, double v)
{
	return isfinite(v) ? json_object_set_new(o, key, json_real(v)) : 0;
}

int lw__align_to_json(struct json_t **out, const lw__align *a)
{
	json_t *o = NULL, *layers = NULL, *l;

	LW_ASSERT_ARG(out && a);
	*out = NULL;
	if (!(layers = json_array()))
		goto nomem;
	if (a->hidden) {
		if (!(l = layer_json(a->W1, a->b1, a->hidden, a->d_in)) ||
		    json_array_append_new(layers, l) < 0)
			goto nomem;
	}
	if (!(l = layer_json(a->W2, a->b2, a->d_out, width_of(a))) ||
	    json_array_append_new(layers, l) < 0)
		goto nomem;
	o = json_pack("{s:s, s:i, s:I, s:I, s:I, s:s, s:f, s:O}", "type", TYPE_NAME, "version",
		      FORMAT_VERSION, "d_in", (json_int_t)a->d_in, "hidden", (json_int_t)a->hidden,
		      "d_out", (json_int_t)a->d_out, "activation", "relu", "gamma", a->gamma,
		      "layers", layers);
	if (!o || set_real(o, "loss_initial", a->loss_initial) < 0 ||
	    set_real(o, "loss_final", a->loss_final) < 0)
		goto nomem;
	json_decref(layers);
	*out = o;
	return 0;
nomem:
	json_decref(layers);
	json_decref(o);
	lw_error_set(LW_ERRCLASS_NOMEMORY, "feature alignment: out of memory writing JSON");
	return LW_ENOMEM;
}

static int json_bad(const char *source, const char *what)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", source, what);
	return LW_EINVALID;
}

static int get_size(size_t *out, const json_t *o, const char *key, const char *source)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"%s\" must be a non-negative integer", source,
			     key);
		return LW_EINVALID;
	}
	*out = (size_t)json_integer_value(v);
	return 0;
}

/* rows x cols finite numbers (rows == 0: a flat array of cols) into dst. */
static int read_numbers(double *dst, const json_t *v, size_t rows, size_t cols, size_t layer,
			const char *key, const char *source)
{
	size_t outer = rows ? rows : 1;

	if (!json_is_array(v) || json_array_size(v) != (rows ? rows : cols))
		goto bad;
	for (size_t i = 0; i < outer; i++) {
		const json_t *row = rows ? json_array_get(v, i) : v;

		if (!json_is_array(row) || json_array_size(row) != cols)
			goto bad;
		for (size_t j = 0; j < cols; j++) {
			const json_t *x = json_array_get(row, j);

			if (!json_is_number(x) || !isfinite(json_number_value(x)))
				goto bad;
			dst[i * cols + j] = json_number_value(x);
		}
	}
	return 0;
bad:
	if (rows)
		lw_error_set(LW_ERRCLASS_JSON,
			     "%s: layers[%zu].%s must be %zu rows of %zu finite numbers", source,
			     layer, key, rows, cols);
	else
		lw_error_set(LW_ERRCLASS_JSON, "%s: layers[%zu].%s must be %zu finite numbers",
			     source, layer, key, cols);
	return LW_EINVALID;
}

int lw__align_from_json(lw__align **out, const struct json_t *j, const char *source)
{
	lw__align *a = NULL;
	const json_t *layers, *t, *g;
	size_t d_in, hidden, d_out, nl;
	int err;

	LW_ASSERT_ARG(out);
	*out = NULL;
	if (!source)
		source = "feature alignment";
	if (!json_is_object(j))
		return json_bad(source, "a feature alignment map must be a JSON object");
	t = json_object_get(j, "type");
	if (!json_is_string(t) || strcmp(json_string_value(t), TYPE_NAME))
		return json_bad(source, "\"type\" must be \"" TYPE_NAME "\"");
	t = json_object_get(j, "version");
	if (!json_is_integer(t) || json_integer_value(t) != FORMAT_VERSION)
		return json_bad(source, "\"version\" must be 1 (written by another release?)");
	t = json_object_get(j, "activation");
	if (t && (!json_is_string(t) || strcmp(json_string_value(t), "relu")))
		return json_bad(source, "\"activation\" must be \"relu\"");
	if ((err = get_size(&d_in, j, "d_in", source)) < 0 ||
	    (err = get_size(&hidden, j, "hidden", source)) < 0 ||
	    (err = get_size(&d_out, j, "d_out", source)) < 0)
		return err;
	if ((err = alloc_map(&a, d_in, hidden, d_out)) < 0)
		return err;
	g = json_object_get(j, "gamma");
	if (g) {
		if (!json_is_number(g) || !(json_number_value(g) > 0) ||
		    !isfinite(json_number_value(g))) {
			err = json_bad(source, "\"gamma\" must be a positive number");
			goto done;
		}
		a->gamma = json_number_value(g);
	}
	if ((t = json_object_get(j, "loss_initial")) && json_is_number(t))
		a->loss_initial = json_number_value(t);
	if ((t = json_object_get(j, "loss_final")) && json_is_number(t))
		a->loss_final = json_number_value(t);
	layers = json_object_get(j, "layers");
	nl = hidden ? 2 : 1;
	if (!json_is_array(layers) || json_array_size(layers) != nl) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: \"layers\" must be an array of %zu layer%s", source,
			     nl, nl == 1 ? "" : "s");
		err = LW_EINVALID;
		goto done;
	}
	for (size_t l = 0; l < nl; l++) {
		const json_t *L = json_array_get(layers, l);
		int last = l + 1 == nl;
		size_t units = last ? d_out : hidden, inputs = l == 0 ? d_in : hidden;
		double *W = last ? a->W2 : a->W1, *B = last ? a->b2 : a->b1;

		if (!json_is_object(L)) {
			lw_error_set(LW_ERRCLASS_JSON, "%s: layers[%zu] must be an object", source, l);
			err = LW_EINVALID;
			goto done;
		}
		if ((err = read_numbers(W, json_object_get(L, "w"), units, inputs, l, "w", source)) < 0 ||
		    (err = read_numbers(B, json_object_get(L, "b"), 0, units, l, "b", source)) < 0)
			goto done;
	}
	*out = a;
	a = NULL;
	err = 0;
done:
	lw__align_free(a);
	return err;
}

int lw__align_to_text(char **out, const lw__align *a)
{
	json_t *j;
	int err;

	LW_ASSERT_ARG(out && a);
	*out = NULL;
	if ((err = lw__align_to_json(&j, a)) < 0)
		return err;
	*out = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));
	json_decref(j);
	if (!*out) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "feature alignment: out of memory writing JSON");
		return LW_ENOMEM;
	}
	return 0;
}

int lw__align_from_text(lw__align **out, const char *text, size_t len, const char *source)
{
	json_error_t je;
	json_t *j;
	int err;

	LW_ASSERT_ARG(out && text);
	*out = NULL;
	if (!source)
		source = "feature alignment";
	if (!(j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, je.line,
			     je.column, je.text);
		return LW_EINVALID;
	}
	err = lw__align_from_json(out, j, source);
	json_decref(j);
	return err;
}
