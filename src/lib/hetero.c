/*
 * The hetero map: column-conditioned cell tokens, mean pooling and an MLP
 * to the unit sphere of R^h, trained by multi-view contrastive learning
 * with hand-written gradients (docs/hetero.md).
 *
 * For a view holding the cells (x_j, E_j), j in S, x_j a value standardised
 * by its column's statistics (the dock-wide ones of an anchor when the map
 * knows the column's description, else its table's own):
 *
 *   u_j = E_j Wv,  v_j = E_j Wb + b0                  (t each: the column's token weights)
 *   a_j = x_j u_j + v_j,  c_j = relu(a_j)              (the cell token)
 *   p   = (1/|S|) sum_j c_j                           (pooling)
 *   g   = relu(p W1 + b1),  y = g W2 + b2,  e = y/|y| (the point in the shared space)
 *
 * and the loss of a batch of N views is the multi-view InfoNCE
 *
 *   L = (1/N') sum_i [ log sum_{a != i} exp(s_ia) - (1/|P_i|) sum_{p in P_i} s_ip ],
 *   s_ia = e_i . e_a / tau,
 *
 * P_i the other views of i's row, N' the number of views with |P_i| > 0.
 * With M_ia = dL/ds_ia = (softmax_i(a) - [a in P_i]/|P_i|)/N', the gradient
 * with respect to the points is dE = (M + M') E / tau; the rest is the chain
 * rule through the layers, every product through BLAS.  An optional set
 * term (set_contrastive) compares whole column views of a table by MMD^2.
 */
#define _POSIX_C_SOURCE 200809L
#include "hetero.h"

#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastmath.h"
#include "kernel.h"
#include "lw/rng.h"
#include "util.h"

#define ADAM_B1 0.9
#define ADAM_B2 0.999
#define ADAM_EPS 1e-8
/* Largest width of any layer and most parameters a map may have. */
#define MAX_WIDTH ((size_t)1 << 16)
#define MAX_PARAMS ((size_t)1 << 28)
/* Rows mapped at once by lw_hetero_map_apply, and at most this many cells. */
#define APPLY_BLOCK 1024
#define APPLY_CELLS 65536
/* A wide table's chunks hold fewer rows: about this many cells each (at least 2 rows). */
#define CHUNK_CELLS 4096
#define NORM_EPS 1e-12
/* Two column embeddings this close are the same description (an anchor's). */
#define ANCHOR_COS 0.999

/*
 * Threads.  The products here are small (a few hundred rows): OpenBLAS's
 * own threads cost more than they save on them, and a threaded product
 * may round differently with the thread count.  OpenBLAS's OpenMP build
 * takes its thread count from the calling thread's omp_get_max_threads()
 * on every call, so each entry point sets it to 1 for the calling thread
 * only (and puts it back), and this module shares the work among the
 * caller's threads itself, in pieces that do not depend on their number
 * (pgemm, and loops over independent rows): the map is the same bit for
 * bit whatever OMP_NUM_THREADS is.  hetero_threads is the caller's count.
 */
static _Thread_local int hetero_threads = 1;

static int blas_single_begin(void)
{
	int prev = omp_get_max_threads();

	hetero_threads = prev > 0 ? prev : 1;
	omp_set_num_threads(1);
	return prev;
}

static void blas_single_end(int prev)
{
	omp_set_num_threads(prev);
}

/* ---- the map -------------------------------------------------------- */

void lw__hetero_set_views(lw_hetero_map *map)
{
	double *p = map->theta;

	map->Wv = p;
	p += map->m * map->t;
	map->Wb = p;
	p += map->m * map->t;
	map->b0 = p;
	p += map->t;
	map->W1 = p;
	p += map->t * map->hidden;
	map->b1 = p;
	p += map->hidden;
	map->W2 = p;
	p += map->hidden * map->h;
	map->b2 = p;
}

int lw__hetero_alloc(lw_hetero_map **out, size_t m, size_t t, size_t hidden, size_t h)
{
	lw_hetero_map *map;
	size_t a, b, c, n;

	*out = NULL;
	if (m == 0 || t == 0 || hidden == 0 || h == 0 || m > MAX_WIDTH || t > MAX_WIDTH ||
	    hidden > MAX_WIDTH || h > MAX_WIDTH) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "hetero map: widths %zu (embeddings), %zu (tokens), %zu (hidden), %zu "
			     "(output) must each be 1 to %zu",
			     m, t, hidden, h, MAX_WIDTH);
		return LW_EINVALID;
	}
	if (!lw__mul_ok(&a, 2 * m + 1, t) || !lw__mul_ok(&b, t + 1, hidden) ||
	    !lw__mul_ok(&c, hidden + 1, h) || (n = a + b + c) > MAX_PARAMS) {
		lw_error_set(LW_ERRCLASS_INVALID, "hetero map: more than %zu parameters", MAX_PARAMS);
		return LW_EINVALID;
	}
	if (!(map = lw__calloc(1, sizeof(*map))))
		return LW_ENOMEM;
	if (!(map->theta = lw__calloc(n, sizeof(double)))) {
		free(map);
		return LW_ENOMEM;
	}
	map->m = m;
	map->t = t;
	map->hidden = hidden;
	map->h = h;
	map->n_params = n;
	map->gamma = 1.0;
	map->loss_initial = map->loss_final = NAN;
	lw__hetero_set_views(map);
	*out = map;
	return 0;
}

void lw_hetero_map_free(lw_hetero_map *map)
{
	if (!map)
		return;
	free(map->theta);
	free(map->anchors);
	free(map);
}

void lw_hetero_options_init(lw_hetero_options *opts)
{
	lw_hetero_options d = LW_HETERO_OPTIONS_INIT;

	if (opts)
		*opts = d;
}

static int check_options(const lw_hetero_options *o)
{
	if (o->version != LW_HETERO_OPTIONS_VERSION)
		return lw__invalid("hetero map: options version %u, expected %u", o->version,
				   LW_HETERO_OPTIONS_VERSION);
	if (o->partitions < 2 || o->partitions > 64)
		return lw__invalid("hetero map: partitions must be 2 to 64, not %u", o->partitions);
	if (!(o->overlap >= 0 && o->overlap <= 1))
		return lw__invalid("hetero map: overlap must be in [0, 1], not %g", o->overlap);
	if (!(o->temperature > 0 && isfinite(o->temperature)))
		return lw__invalid("hetero map: temperature must be positive, not %g", o->temperature);
	if (!(o->lr > 0 && isfinite(o->lr)))
		return lw__invalid("hetero map: learning rate must be positive, not %g", o->lr);
	if (!(o->clip > 0 && isfinite(o->clip)))
		return lw__invalid("hetero map: clip must be positive, not %g", o->clip);
	if (!(o->gamma > 0 && isfinite(o->gamma)))
		return lw__invalid("hetero map: gamma must be positive, not %g", o->gamma);
	if (!(o->set_weight >= 0 && isfinite(o->set_weight)))
		return lw__invalid("hetero map: set_weight must be 0 or more, not %g", o->set_weight);
	if (!(o->noise >= 0 && isfinite(o->noise)))
		return lw__invalid("hetero map: noise must be 0 or more, not %g", o->noise);
	if (!(o->set_temperature > 0 && isfinite(o->set_temperature)))
		return lw__invalid("hetero map: set_temperature must be positive, not %g",
				   o->set_temperature);
	if (o->epochs == 0 && o->steps == 0)
		return lw__invalid("hetero map: epochs and steps cannot both be 0");
	if (o->batch_sources == 0 || o->batch_rows == 0 || o->batch_sources > 4096 ||
	    o->batch_rows > 65536 || o->batch_sources * o->batch_rows * o->partitions > 65536)
		return lw__invalid("hetero map: a batch of %zu sources x %zu rows x %u views is "
				   "empty or too large (at most 65536 views)",
				   o->batch_sources, o->batch_rows, o->partitions);
	return 0;
}

static void record_options(lw_hetero_map *map, const lw_hetero_options *o)
{
	map->partitions = o->partitions;
	map->epochs = 0;
	map->overlap = o->overlap;
	map->temperature = o->temperature;
	map->lr = o->lr;
	map->clip = o->clip;
	map->batch_sources = o->batch_sources;
	map->batch_rows = o->batch_rows;
	map->seed = o->seed;
	map->generation = o->generation;
	map->gamma = o->gamma;
	map->set_weight = o->set_weight;
	map->set_temperature = o->set_temperature;
	map->noise = o->noise;
}

/*
 * Initial weights: Wv and Wb N(0, 1), so a unit-norm column embedding gives
 * token weights of unit scale; W1 He-normal N(0, 2/t); W2 N(0, 1/hidden);
 * biases 0.  All from lw_rng(seed).
 */
static void init_weights(lw_hetero_map *map, uint64_t seed)
{
	lw_rng rng;
	double s1 = sqrt(2.0 / (double)map->t), s2 = sqrt(1.0 / (double)map->hidden);

	lw_rng_seed(&rng, seed);
	memset(map->theta, 0, map->n_params * sizeof(double));
	for (size_t i = 0; i < map->m * map->t; i++)
		map->Wv[i] = lw_rng_normal(&rng);
	for (size_t i = 0; i < map->m * map->t; i++)
		map->Wb[i] = lw_rng_normal(&rng);
	for (size_t i = 0; i < map->t * map->hidden; i++)
		map->W1[i] = s1 * lw_rng_normal(&rng);
	for (size_t i = 0; i < map->hidden * map->h; i++)
		map->W2[i] = s2 * lw_rng_normal(&rng);
}

int lw_hetero_map_new(lw_hetero_map **out, size_t embed_dim, const lw_hetero_options *opts)
{
	lw_hetero_options d = LW_HETERO_OPTIONS_INIT;
	lw_hetero_map *map;
	int err;

	LW_ASSERT_ARG(out);
	*out = NULL;
	if (!opts)
		opts = &d;
	if ((err = check_options(opts)) < 0)
		return err;
	if ((err = lw__hetero_alloc(&map, embed_dim, opts->token_dim, opts->hidden, opts->out_dim)) <
	    0)
		return err;
	record_options(map, opts);
	init_weights(map, opts->seed);
	if ((err = lw__hetero_update_id(map)) < 0) {
		lw_hetero_map_free(map);
		return err;
	}
	*out = map;
	return 0;
}

const char *lw_hetero_map_id(const lw_hetero_map *map)
{
	return map ? map->id : "";
}

void lw_hetero_map_get_info(lw_hetero_map_info *info, const lw_hetero_map *map)
{
	if (!info)
		return;
	memset(info, 0, sizeof(*info));
	if (!map)
		return;
	info->embed_dim = map->m;
	info->token_dim = map->t;
	info->hidden = map->hidden;
	info->out_dim = map->h;
	info->gamma = map->gamma;
	info->temperature = map->temperature;
	info->overlap = map->overlap;
	info->clip = map->clip;
	info->set_weight = map->set_weight;
	info->set_temperature = map->set_temperature;
	info->noise = map->noise;
	info->lr = map->lr;
	info->partitions = map->partitions;
	info->epochs = map->epochs;
	info->batch_sources = map->batch_sources;
	info->batch_rows = map->batch_rows;
	info->seed = map->seed;
	info->generation = map->generation;
	info->sources = map->sources;
	info->rows = map->rows;
	info->anchors = map->n_anchors;
	info->loss_initial = map->loss_initial;
	info->loss_final = map->loss_final;
	info->train_seconds = map->train_seconds;
	info->id = map->id;
}

/* ---- forward and backward over a batch of views --------------------- */

typedef struct {
	size_t cap_views, cap_cells, cap_cols;
	double *U, *V;       /* n_cols x t */
	double *A;           /* n_cells x t: cell pre-activations */
	double *P;           /* n_views x t */
	double *G1;          /* n_views x hidden (after relu) */
	double *Y;           /* n_views x h (before normalising) */
	double *E;           /* n_views x h, unit rows */
	double *ynorm;       /* n_views */
	/* loss and backward only */
	double *S;           /* n_views x n_views */
	double *dE, *dY;     /* n_views x h */
	double *dG1;         /* n_views x hidden */
	double *dP;          /* n_views x t */
	double *dU, *dV;     /* n_cols x t */
	/* the set term */
	double *K;           /* cap_k x cap_k: the kernel between views, then H */
	size_t cap_k, cap_sets;
	double *As, *Cs;     /* n_sets x n_sets */
	double *wset;        /* n_sets: 1 / |set| */
} workspace;

static void ws_dispose(workspace *w)
{
	free(w->U);
	free(w->V);
	free(w->A);
	free(w->P);
	free(w->G1);
	free(w->Y);
	free(w->E);
	free(w->ynorm);
	free(w->S);
	free(w->dE);
	free(w->dY);
	free(w->dG1);
	free(w->dP);
	free(w->dU);
	free(w->dV);
	free(w->K);
	free(w->As);
	free(w->Cs);
	free(w->wset);
	memset(w, 0, sizeof(*w));
}

/* Grow the buffers to hold a batch; `backward` adds the loss and gradient ones. */
static int ws_reserve(workspace *w, const lw_hetero_map *map, size_t views, size_t cells,
		      size_t cols, int backward)
{
	size_t t = map->t, hd = map->hidden, h = map->h;

	if (views > w->cap_views) {
		free(w->P);
		free(w->G1);
		free(w->Y);
		free(w->E);
		free(w->ynorm);
		free(w->S);
		free(w->dE);
		free(w->dY);
		free(w->dG1);
		free(w->dP);
		free(w->K);
		w->P = w->G1 = w->Y = w->E = w->ynorm = w->S = w->dE = w->dY = w->dG1 = w->dP = NULL;
		w->K = NULL;
		w->cap_k = 0;
		w->cap_views = 0;
		if (!(w->P = lw__mallocarray(views, t * sizeof(double))) ||
		    !(w->G1 = lw__mallocarray(views, hd * sizeof(double))) ||
		    !(w->Y = lw__mallocarray(views, h * sizeof(double))) ||
		    !(w->E = lw__mallocarray(views, h * sizeof(double))) ||
		    !(w->ynorm = lw__mallocarray(views, sizeof(double))))
			return LW_ENOMEM;
		if (backward && (!(w->S = lw__mallocarray(views, views * sizeof(double))) ||
				 !(w->dE = lw__mallocarray(views, h * sizeof(double))) ||
				 !(w->dY = lw__mallocarray(views, h * sizeof(double))) ||
				 !(w->dG1 = lw__mallocarray(views, hd * sizeof(double))) ||
				 !(w->dP = lw__mallocarray(views, t * sizeof(double)))))
			return LW_ENOMEM;
		w->cap_views = views;
	} else if (backward && !w->S) {
		if (!(w->S = lw__mallocarray(w->cap_views, w->cap_views * sizeof(double))) ||
		    !(w->dE = lw__mallocarray(w->cap_views, h * sizeof(double))) ||
		    !(w->dY = lw__mallocarray(w->cap_views, h * sizeof(double))) ||
		    !(w->dG1 = lw__mallocarray(w->cap_views, hd * sizeof(double))) ||
		    !(w->dP = lw__mallocarray(w->cap_views, t * sizeof(double))))
			return LW_ENOMEM;
	}
	if (cells > w->cap_cells) {
		free(w->A);
		w->cap_cells = 0;
		if (!(w->A = lw__mallocarray(cells, t * sizeof(double))))
			return LW_ENOMEM;
		w->cap_cells = cells;
	}
	if (cols > w->cap_cols) {
		free(w->U);
		free(w->V);
		free(w->dU);
		free(w->dV);
		w->U = w->V = w->dU = w->dV = NULL;
		w->cap_cols = 0;
		if (!(w->U = lw__mallocarray(cols, t * sizeof(double))) ||
		    !(w->V = lw__mallocarray(cols, t * sizeof(double))) ||
		    !(w->dU = lw__mallocarray(cols, t * sizeof(double))) ||
		    !(w->dV = lw__mallocarray(cols, t * sizeof(double))))
			return LW_ENOMEM;
		w->cap_cols = cols;
	}
	return 0;
}

/*
 * C = alpha op(A) op(B) + beta C, row-major, M x N with inner size K: cut
 * into blocks of GEMM_BLOCK rows of C, each one single-threaded BLAS call,
 * the blocks shared among the caller's threads.  The blocks do not depend
 * on the thread count, so neither does any bit of C.
 */
#define GEMM_BLOCK 64
static void pgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, size_t M, size_t N, size_t K,
		  double alpha, const double *A, size_t lda, const double *B, size_t ldb,
		  double beta, double *C, size_t ldc)
{
	size_t nb = (M + GEMM_BLOCK - 1) / GEMM_BLOCK;
	int par = hetero_threads > 1 && (double)M * (double)N * (double)K > 2e5;

#pragma omp parallel for num_threads(hetero_threads) schedule(static) if (par)
	for (size_t bi = 0; bi < nb; bi++) {
		size_t r0 = bi * GEMM_BLOCK, rows = M - r0 < GEMM_BLOCK ? M - r0 : GEMM_BLOCK;
		const double *Ab = ta == CblasNoTrans ? A + r0 * lda : A + r0;

		cblas_dgemm(CblasRowMajor, ta, tb, (int)rows, (int)N, (int)K, alpha, Ab, (int)lda, B,
			    (int)ldb, beta, C + r0 * ldc, (int)ldc);
	}
}

/* C (rows x cols) = A (rows x inner) B (inner x cols) [+ C when beta = 1], row-major. */
static void gemm_nn(double *C, const double *A, const double *B, size_t rows, size_t inner,
		    size_t cols, double beta)
{
	pgemm(CblasNoTrans, CblasNoTrans, rows, cols, inner, 1.0, A, inner, B, cols, beta, C, cols);
}

/* Every view's unit point e (w->E) from its cells. */
static void forward(workspace *w, const lw_hetero_map *map, const lw__hetero_batch *b)
{
	size_t t = map->t, hd = map->hidden, h = map->h, nv = b->n_views;

	gemm_nn(w->U, b->cols, map->Wv, b->n_cols, map->m, t, 0.0);
	gemm_nn(w->V, b->cols, map->Wb, b->n_cols, map->m, t, 0.0);
	for (size_t c = 0; c < b->n_cols; c++)
		for (size_t k = 0; k < t; k++)
			w->V[c * t + k] += map->b0[k];
#pragma omp parallel for num_threads(hetero_threads) schedule(static) if (hetero_threads > 1 && nv > 256)
	for (size_t v = 0; v < nv; v++) {
		double *p = w->P + v * t;
		size_t lo = b->cell_start[v], hi = b->cell_start[v + 1];
		double inv = hi > lo ? 1.0 / (double)(hi - lo) : 0.0;

		memset(p, 0, t * sizeof(double));
		for (size_t c = lo; c < hi; c++) {
			const double *u = w->U + b->cell_col[c] * t, *vv = w->V + b->cell_col[c] * t;
			double x = b->cell_val[c], *a = w->A + c * t;

			for (size_t k = 0; k < t; k++) {
				a[k] = x * u[k] + vv[k];
				p[k] += a[k] > 0 ? a[k] : 0;
			}
		}
		for (size_t k = 0; k < t; k++)
			p[k] *= inv;
	}
	for (size_t v = 0; v < nv; v++)
		memcpy(w->G1 + v * hd, map->b1, hd * sizeof(double));
	gemm_nn(w->G1, w->P, map->W1, nv, t, hd, 1.0);
	for (size_t i = 0; i < nv * hd; i++)
		w->G1[i] = w->G1[i] > 0 ? w->G1[i] : 0;
	for (size_t v = 0; v < nv; v++)
		memcpy(w->Y + v * h, map->b2, h * sizeof(double));
	gemm_nn(w->Y, w->G1, map->W2, nv, hd, h, 1.0);
	for (size_t v = 0; v < nv; v++) {
		const double *y = w->Y + v * h;
		double s = 0, *e = w->E + v * h;

		for (size_t k = 0; k < h; k++)
			s += y[k] * y[k];
		s = sqrt(s);
		w->ynorm[v] = s;
		s = 1.0 / (s > NORM_EPS ? s : NORM_EPS);
		for (size_t k = 0; k < h; k++)
			e[k] = y[k] * s;
	}
}

/*
 * The row term, and in w->S the matrix M = dL/ds (zero diagonal).  Returns
 * the number of anchors with a positive.
 */
static size_t row_contrastive(double *loss, workspace *w, const lw_hetero_map *map,
			      const lw__hetero_batch *b)
{
	size_t nv = b->n_views, h = map->h, counted = 0;
	double inv_tau = 1.0 / map->temperature, total = 0;

	pgemm(CblasNoTrans, CblasTrans, nv, nv, h, inv_tau, w->E, h, w->E, h, 0.0, w->S, nv);
	for (size_t i = 0; i < nv; i++) {
		size_t npos = 0;

		for (size_t a = 0; a < nv; a++)
			npos += a != i && b->view_row[a] == b->view_row[i];
		counted += npos > 0;
	}
	/* row by row, in parallel; each row's loss in dP (scratch) summed in order after */
#pragma omp parallel for num_threads(hetero_threads) schedule(static) if (hetero_threads > 1 && nv > 256)
	for (size_t i = 0; i < nv; i++) {
		double *s = w->S + i * nv, mx = -INFINITY, z = 0, pos = 0;
		size_t npos = 0;

		w->dP[i] = 0;

		for (size_t a = 0; a < nv; a++)
			if (a != i && b->view_row[a] == b->view_row[i]) {
				npos++;
				pos += s[a];
			}
		if (npos == 0) {
			memset(s, 0, nv * sizeof(double));
			continue;
		}
		s[i] = -INFINITY;
		for (size_t a = 0; a < nv; a++)
			if (s[a] > mx)
				mx = s[a];
		for (size_t a = 0; a < nv; a++)
			s[a] -= mx;
		s[i] = -1e300;
		lw__exp_nonpos(s, s, nv);
		s[i] = 0;
		for (size_t a = 0; a < nv; a++)
			z += s[a];
		w->dP[i] = log(z) + mx - pos / (double)npos;
		for (size_t a = 0; a < nv; a++) {
			double m = s[a] / z;

			if (a != i && b->view_row[a] == b->view_row[i])
				m -= 1.0 / (double)npos;
			s[a] = m / (double)counted;
		}
		s[i] = 0;
	}
	for (size_t i = 0; i < nv; i++)
		total += w->dP[i];
	*loss = counted ? total / (double)counted : 0;
	return counted;
}

/* dE = (M + M') E / tau from the row term's M in w->S (overwrites dE). */
static void row_grad(workspace *w, const lw_hetero_map *map, const lw__hetero_batch *b)
{
	size_t nv = b->n_views, h = map->h;

	for (size_t i = 0; i < nv; i++)
		for (size_t a = i + 1; a < nv; a++) {
			double s = w->S[i * nv + a] + w->S[a * nv + i];

			w->S[i * nv + a] = w->S[a * nv + i] = s;
		}
	pgemm(CblasNoTrans, CblasNoTrans, nv, h, nv, 1.0 / map->temperature, w->S, nv, w->E, h, 0.0,
	      w->dE, h);
}

static int ws_reserve_sets(workspace *w, size_t nv, size_t ns)
{
	if (nv > w->cap_k) {
		free(w->K);
		w->cap_k = 0;
		if (!(w->K = lw__mallocarray(nv, nv * sizeof(double))))
			return LW_ENOMEM;
		w->cap_k = nv;
	}
	if (ns <= w->cap_sets)
		return 0;
	free(w->As);
	free(w->Cs);
	free(w->wset);
	w->As = w->Cs = w->wset = NULL;
	w->cap_sets = 0;
	if (!(w->As = lw__mallocarray(ns, ns * sizeof(double))) ||
	    !(w->Cs = lw__mallocarray(ns, ns * sizeof(double))) ||
	    !(w->wset = lw__mallocarray(ns, sizeof(double))))
		return LW_ENOMEM;
	w->cap_sets = ns;
	return 0;
}

/*
 * The set term: each set of views (one table's rows through one column
 * view) is a uniformly weighted point set; with A_ij = w_i w_j sum_{p in i,
 * q in j} k(e_p, e_q), the squared MMD between sets is M_ij = A_ii + A_jj -
 * 2 A_ij, and the loss is InfoNCE over sets on the logits -M_ij / tau_s,
 * the positives being the other sets of the same table.  With D = dL/dM,
 * L depends on the kernel through sum_pq C_s(p)s(q) w w k_pq, C_ij =
 * -(D_ij + D_ji) off the diagonal and C_ii = -sum_j C_ij, so
 *
 *   dL/de_p = -4 gamma sum_q H_pq (e_p - e_q),  H_pq = C_s(p)s(q) w_s(p) w_s(q) k_pq.
 *
 * Adds weight * dL/dE to w->dE when grad is set; returns the loss.
 */
static double set_contrastive(workspace *w, const lw_hetero_map *map, const lw__hetero_batch *b,
			      double weight, int grad)
{
	size_t nv = b->n_views, ns = b->n_sets, h = map->h, counted = 0;
	double g = map->gamma, inv_tau = 1.0 / map->set_temperature, total = 0;
	double *K = w->K, *A = w->As, *C = w->Cs, *ws = w->wset;

	for (size_t v = 0; v < nv; v++) {
		double sq = 0;

		for (size_t k = 0; k < h; k++)
			sq += w->E[v * h + k] * w->E[v * h + k];
		w->dP[v] = sq; /* scratch until the backward pass */
	}
	lw__kernel_rbf_rows(K, w->E, w->dP, nv, w->E, w->dP, nv, h, g);
	memset(ws, 0, ns * sizeof(double));
	for (size_t v = 0; v < nv; v++)
		ws[b->view_set[v]] += 1;
	for (size_t i = 0; i < ns; i++)
		ws[i] = ws[i] > 0 ? 1.0 / ws[i] : 0;
	memset(A, 0, ns * ns * sizeof(double));
	for (size_t p = 0; p < nv; p++) {
		size_t sp = b->view_set[p];
		double *a = A + sp * ns;

		for (size_t q = 0; q < nv; q++)
			a[b->view_set[q]] += K[p * nv + q];
	}
	for (size_t i = 0; i < ns; i++)
		for (size_t j = 0; j < ns; j++)
			A[i * ns + j] *= ws[i] * ws[j];
	for (size_t i = 0; i < ns; i++) {
		size_t npos = 0;

		for (size_t j = 0; j < ns; j++)
			npos += j != i && b->set_group[j] == b->set_group[i];
		counted += npos > 0;
	}
	/* logits and D = dL/dM, row by row, into C */
	for (size_t i = 0; i < ns; i++) {
		double *c = C + i * ns, mx = -INFINITY, z = 0, pos = 0;
		size_t npos = 0;

		for (size_t j = 0; j < ns; j++) {
			c[j] = -(A[i * ns + i] + A[j * ns + j] - 2 * A[i * ns + j]) * inv_tau;
			if (j != i && b->set_group[j] == b->set_group[i]) {
				npos++;
				pos += c[j];
			}
		}
		if (npos == 0) {
			memset(c, 0, ns * sizeof(double));
			continue;
		}
		for (size_t j = 0; j < ns; j++)
			if (j != i && c[j] > mx)
				mx = c[j];
		for (size_t j = 0; j < ns; j++)
			z += j != i ? exp(c[j] - mx) : 0;
		total += log(z) + mx - pos / (double)npos;
		for (size_t j = 0; j < ns; j++) {
			double d = j != i ? exp(c[j] - mx) / z : 0;

			if (j != i && b->set_group[j] == b->set_group[i])
				d -= 1.0 / (double)npos;
			/* dlogit/dM = -1/tau */
			c[j] = -d * inv_tau / (double)counted;
		}
	}
	total = counted ? total / (double)counted : 0;
	if (!grad || counted == 0)
		return total;
	for (size_t i = 0; i < ns; i++)
		for (size_t j = i + 1; j < ns; j++) {
			double cij = -(C[i * ns + j] + C[j * ns + i]) * weight;

			C[i * ns + j] = C[j * ns + i] = cij;
		}
	for (size_t i = 0; i < ns; i++) {
		double sum = 0;

		for (size_t j = 0; j < ns; j++)
			if (j != i)
				sum += C[i * ns + j];
		C[i * ns + i] = -sum;
	}
	/* H in place of K, its row sums in dP (scratch) */
	for (size_t p = 0; p < nv; p++) {
		size_t sp = b->view_set[p];
		double sum = 0, *kr = K + p * nv;

		for (size_t q = 0; q < nv; q++) {
			size_t sq = b->view_set[q];

			kr[q] *= C[sp * ns + sq] * ws[sp] * ws[sq];
			sum += kr[q];
		}
		w->dP[p] = sum;
	}
	pgemm(CblasNoTrans, CblasNoTrans, nv, h, nv, 4 * g, K, nv, w->E, h, 1.0, w->dE, h);
	for (size_t p = 0; p < nv; p++)
		for (size_t k = 0; k < h; k++)
			w->dE[p * h + k] -= 4 * g * w->dP[p] * w->E[p * h + k];
	return total;
}

/* From w->dE to the gradient of every parameter (overwrites grad). */
static void backward(double *grad, workspace *w, const lw_hetero_map *map,
		     const lw__hetero_batch *b)
{
	size_t t = map->t, hd = map->hidden, h = map->h, nv = b->n_views, m = map->m;
	double *gWv = grad, *gWb = gWv + m * t, *gb0 = gWb + m * t, *gW1 = gb0 + t,
	       *gb1 = gW1 + t * hd, *gW2 = gb1 + hd, *gb2 = gW2 + hd * h;

	memset(grad, 0, map->n_params * sizeof(double));
	/* through e = y / |y| */
	for (size_t v = 0; v < nv; v++) {
		const double *e = w->E + v * h, *de = w->dE + v * h;
		double *dy = w->dY + v * h, n = w->ynorm[v], ed = 0;

		if (n > NORM_EPS) {
			for (size_t k = 0; k < h; k++)
				ed += e[k] * de[k];
			for (size_t k = 0; k < h; k++)
				dy[k] = (de[k] - e[k] * ed) / n;
		} else {
			for (size_t k = 0; k < h; k++)
				dy[k] = de[k] / NORM_EPS;
		}
	}
	/* output layer */
	pgemm(CblasTrans, CblasNoTrans, hd, h, nv, 1.0, w->G1, hd, w->dY, h, 0.0, gW2, h);
	for (size_t v = 0; v < nv; v++)
		for (size_t k = 0; k < h; k++)
			gb2[k] += w->dY[v * h + k];
	pgemm(CblasNoTrans, CblasTrans, nv, hd, h, 1.0, w->dY, h, map->W2, h, 0.0, w->dG1, hd);
	for (size_t i = 0; i < nv * hd; i++)
		if (!(w->G1[i] > 0))
			w->dG1[i] = 0;
	/* hidden layer */
	pgemm(CblasTrans, CblasNoTrans, t, hd, nv, 1.0, w->P, t, w->dG1, hd, 0.0, gW1, hd);
	for (size_t v = 0; v < nv; v++)
		for (size_t k = 0; k < hd; k++)
			gb1[k] += w->dG1[v * hd + k];
	pgemm(CblasNoTrans, CblasTrans, nv, t, hd, 1.0, w->dG1, hd, map->W1, hd, 0.0, w->dP, t);
	/* pooling and cell tokens */
	memset(w->dU, 0, b->n_cols * t * sizeof(double));
	memset(w->dV, 0, b->n_cols * t * sizeof(double));
	for (size_t v = 0; v < nv; v++) {
		size_t lo = b->cell_start[v], hi = b->cell_start[v + 1];
		double inv = hi > lo ? 1.0 / (double)(hi - lo) : 0.0;
		const double *dp = w->dP + v * t;

		for (size_t c = lo; c < hi; c++) {
			const double *a = w->A + c * t;
			double x = b->cell_val[c], *du = w->dU + b->cell_col[c] * t,
			       *dv = w->dV + b->cell_col[c] * t;

			for (size_t k = 0; k < t; k++)
				if (a[k] > 0) {
					double g = dp[k] * inv;

					du[k] += x * g;
					dv[k] += g;
				}
		}
	}
	for (size_t c = 0; c < b->n_cols; c++)
		for (size_t k = 0; k < t; k++)
			gb0[k] += w->dV[c * t + k];
	pgemm(CblasTrans, CblasNoTrans, m, t, b->n_cols, 1.0, b->cols, m, w->dU, t, 0.0, gWv, t);
	pgemm(CblasTrans, CblasNoTrans, m, t, b->n_cols, 1.0, b->cols, m, w->dV, t, 0.0, gWb, t);
}

static int check_batch(const lw__hetero_batch *b)
{
	if (b->n_views == 0 || b->n_cols == 0 || b->n_views > INT_MAX / 2 || b->n_cols > INT_MAX)
		return lw__invalid("hetero map: a batch needs 1 to %d views and columns", INT_MAX / 2);
	for (size_t v = 0; v < b->n_views; v++)
		if (b->cell_start[v + 1] <= b->cell_start[v])
			return lw__invalid("hetero map: view %zu of the batch has no cells", v);
	for (size_t c = 0; c < b->cell_start[b->n_views]; c++)
		if (b->cell_col[c] >= b->n_cols)
			return lw__invalid("hetero map: cell %zu names column %zu of %zu", c,
					   b->cell_col[c], b->n_cols);
	if (b->view_set)
		for (size_t v = 0; v < b->n_views; v++)
			if (b->view_set[v] >= b->n_sets)
				return lw__invalid("hetero map: view %zu names set %zu of %zu", v,
						   b->view_set[v], b->n_sets);
	return 0;
}

static int batch_loss(double *loss, double *grad, size_t *counted, workspace *w,
		      const lw_hetero_map *map, const lw__hetero_batch *b)
{
	size_t n;
	int err;

	if ((err = ws_reserve(w, map, b->n_views, b->cell_start[b->n_views], b->n_cols, 1)) < 0)
		return err;
	forward(w, map, b);
	n = row_contrastive(loss, w, map, b);
	if (counted)
		*counted = n;
	if (grad)
		row_grad(w, map, b);
	else
		memset(w->dE, 0, b->n_views * map->h * sizeof(double));
	if (b->view_set && b->n_sets > 1 && map->set_weight > 0) {
		if ((err = ws_reserve_sets(w, b->n_views, b->n_sets)) < 0)
			return err;
		*loss += map->set_weight * set_contrastive(w, map, b, map->set_weight, grad != NULL);
	}
	if (grad)
		backward(grad, w, map, b);
	return 0;
}

static int batch_loss_once(double *loss, double *grad, size_t *counted, const lw_hetero_map *map,
			   const lw__hetero_batch *b)
{
	workspace w;
	int err;

	LW_ASSERT_ARG(loss && map && b);
	memset(&w, 0, sizeof(w));
	if ((err = check_batch(b)) < 0)
		return err;
	err = batch_loss(loss, grad, counted, &w, map, b);
	ws_dispose(&w);
	return err;
}

int lw__hetero_batch_loss(double *loss, double *grad, size_t *counted, const lw_hetero_map *map,
			  const lw__hetero_batch *b)
{
	int prev = blas_single_begin(), err = batch_loss_once(loss, grad, counted, map, b);

	blas_single_end(prev);
	return err;
}

/* ---- statistics and mapping ----------------------------------------- */

int lw_hetero_stats(double *mean, double *std, const lw_mat *X, const double *w)
{
	size_t n, d;
	double wsum = 0;
	int uniform = 1;

	LW_ASSERT_ARG(mean && std && X && (X->data || X->rows == 0));
	n = X->rows;
	d = X->cols;
	if (w) {
		for (size_t i = 0; i < n; i++)
			if (w[i] > 0 && isfinite(w[i]))
				wsum += w[i];
		uniform = !(wsum > 0);
	}
	for (size_t j = 0; j < d; j++) {
		double sw = 0, s = 0, ss = 0, mu, var;

		for (size_t i = 0; i < n; i++) {
			double x = X->data[i * d + j], wi = uniform ? 1.0 : w[i];

			if (!isfinite(x) || !(wi > 0) || !isfinite(wi))
				continue;
			sw += wi;
			s += wi * x;
		}
		mu = sw > 0 ? s / sw : 0;
		for (size_t i = 0; i < n; i++) {
			double x = X->data[i * d + j], wi = uniform ? 1.0 : w[i];

			if (!isfinite(x) || !(wi > 0) || !isfinite(wi))
				continue;
			ss += wi * (x - mu) * (x - mu);
		}
		var = sw > 0 ? ss / sw : 0;
		mean[j] = mu;
		std[j] = sqrt(var);
		if (!(std[j] >= 1e-12 * (1 + fabs(mu))) || !isfinite(std[j]))
			std[j] = 1;
	}
	return 0;
}

/*
 * The dock-wide statistics of a column the map has seen under the same
 * description (an anchor whose embedding has cosine >= ANCHOR_COS with e):
 * *mu and *sd are replaced by the anchor's; otherwise they are left alone.
 * Returns the anchor's index, or SIZE_MAX.
 */
size_t lw__hetero_anchor(const lw_hetero_map *map, const double *e, double *mu, double *sd)
{
	size_t m = map->m, best = SIZE_MAX, stride = m + 2;
	double ee = 0, best_cos = ANCHOR_COS;

	for (size_t k = 0; k < m; k++)
		ee += e[k] * e[k];
	if (!(ee > 0) || map->n_anchors == 0)
		return SIZE_MAX;
	for (size_t a = 0; a < map->n_anchors; a++) {
		const double *ae = map->anchors + a * stride;
		double dot = 0, aa = 0, c;

		for (size_t k = 0; k < m; k++) {
			dot += e[k] * ae[k];
			aa += ae[k] * ae[k];
		}
		c = aa > 0 ? dot / sqrt(ee * aa) : 0;
		if (c >= best_cos) {
			best_cos = c;
			best = a;
		}
	}
	if (best != SIZE_MAX) {
		*mu = map->anchors[best * stride + m];
		*sd = map->anchors[best * stride + m + 1];
	}
	return best;
}

/* A value standardised by its column's statistics, clipped; non-finite counts as the mean. */
static double standardise(double x, double mu, double sd, double clip)
{
	double v;

	if (!isfinite(x))
		return 0;
	v = (x - mu) / sd;
	return v > clip ? clip : v < -clip ? -clip : v;
}

static int check_columns(const lw_hetero_map *map, const lw_mat *columns, size_t d,
			 const char *what)
{
	if (!columns || columns->rows != d || columns->cols != map->m) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "hetero map: %s has %zu columns, so it needs %zu x %zu column "
			     "embeddings, not %zu x %zu",
			     what, d, d, map->m, columns ? columns->rows : 0,
			     columns ? columns->cols : 0);
		return LW_EINVALID;
	}
	if (d > INT_MAX)
		return lw__invalid("hetero map: %s has too many columns", what);
	for (size_t i = 0; i < d * map->m; i++)
		if (!isfinite(columns->data[i]))
			return lw__invalid("hetero map: %s: column embedding %zu holds a "
					   "non-finite number",
					   what, i / map->m);
	return 0;
}

static int map_apply(lw_mat *out, const lw_hetero_map *map, const lw_mat *X, const lw_mat *columns,
		     const double *mean, const double *std)
{
	size_t n, d, block, *start = NULL, *col = NULL, *row = NULL;
	double *mu = NULL, *sd = NULL, *val = NULL;
	workspace w;
	int err;

	LW_ASSERT_ARG(out && map && X);
	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	n = X->rows;
	d = X->cols;
	if (d == 0)
		return lw__invalid("hetero map: the table has no columns");
	if ((err = check_columns(map, columns, d, "the table")) < 0)
		return err;
	if ((err = lw_mat_init(out, n, map->h)) < 0)
		return err;
	if (n == 0)
		return 0;
	block = APPLY_CELLS / d < APPLY_BLOCK ? APPLY_CELLS / d : APPLY_BLOCK;
	if (block == 0)
		block = 1;
	if (block > n)
		block = n;
	err = LW_ENOMEM;
	if (!(mu = lw__mallocarray(d, sizeof(double))) || !(sd = lw__mallocarray(d, sizeof(double))) ||
	    !(start = lw__mallocarray(block + 1, sizeof(size_t))) ||
	    !(col = lw__mallocarray(block, d * sizeof(size_t))) ||
	    !(row = lw__mallocarray(block, sizeof(size_t))) ||
	    !(val = lw__mallocarray(block, d * sizeof(double))))
		goto done;
	if (mean && std) {
		for (size_t j = 0; j < d; j++) {
			if (!isfinite(mean[j]) || !(std[j] > 0) || !isfinite(std[j])) {
				err = lw__invalid("hetero map: column %zu: mean %g and std %g must be "
						  "finite, std positive",
						  j, mean[j], std[j]);
				goto done;
			}
			mu[j] = mean[j];
			sd[j] = std[j];
		}
	} else if ((err = lw_hetero_stats(mu, sd, X, NULL)) < 0) {
		goto done;
	}
	for (size_t j = 0; j < d; j++)
		lw__hetero_anchor(map, columns->data + j * map->m, &mu[j], &sd[j]);
	for (size_t i = 0; i < block; i++) {
		start[i] = i * d;
		row[i] = i;
		for (size_t j = 0; j < d; j++)
			col[i * d + j] = j;
	}
	start[block] = block * d;
	if ((err = ws_reserve(&w, map, block, block * d, d, 0)) < 0)
		goto done;
	for (size_t r0 = 0; r0 < n; r0 += block) {
		size_t nb = n - r0 < block ? n - r0 : block;
		lw__hetero_batch b = { .n_views = nb, .n_cols = d, .cell_start = start,
				       .cell_col = col, .cell_val = val, .view_row = row,
				       .cols = columns->data };

		for (size_t i = 0; i < nb; i++)
			for (size_t j = 0; j < d; j++)
				val[i * d + j] = standardise(X->data[(r0 + i) * d + j], mu[j], sd[j],
							     map->clip);
		forward(&w, map, &b);
		memcpy(out->data + r0 * map->h, w.E, nb * map->h * sizeof(double));
	}
	err = 0;
done:
	if (err < 0)
		lw_mat_dispose(out);
	free(mu);
	free(sd);
	free(start);
	free(col);
	free(row);
	free(val);
	ws_dispose(&w);
	return err;
}

int lw_hetero_map_apply(lw_mat *out, const lw_hetero_map *map, const lw_mat *X,
			const lw_mat *columns, const double *mean, const double *std)
{
	int prev = blas_single_begin(), err = map_apply(out, map, X, columns, mean, std);

	blas_single_end(prev);
	return err;
}

/* ---- training data: sources, views and batches ---------------------- */

typedef struct {
	size_t k, d;
	double *x;      /* k x d standardised, clipped values */
	size_t *col;    /* d: index of each column among the unique embeddings */
} table;

typedef struct {
	size_t m, n_tables, rows;
	table *tables;
	double *uniq;   /* n_uniq x m distinct column embeddings */
	size_t n_uniq;
} dataset;

static void dataset_dispose(dataset *ds)
{
	for (size_t i = 0; i < ds->n_tables; i++) {
		free(ds->tables[i].x);
		free(ds->tables[i].col);
	}
	free(ds->tables);
	free(ds->uniq);
	memset(ds, 0, sizeof(*ds));
}

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/*
 * Gather the usable sources (2 columns or more) into standardised tables
 * whose columns index one list of distinct embeddings (many learnwares
 * share descriptions, so a batch embeds each once).
 */
static int dataset_build(dataset *ds, const lw_hetero_map *map, const lw_hetero_source *src,
			 size_t n)
{
	size_t total_cols = 0, slots = 1, *slot = NULL;
	double *mu = NULL, *sd = NULL;
	int err = LW_ENOMEM;
	char what[64];

	memset(ds, 0, sizeof(*ds));
	ds->m = map->m;
	for (size_t s = 0; s < n; s++) {
		size_t d;

		if (!src[s].rkme)
			return lw__invalid("hetero map: source %zu has no RKME", s);
		d = lw_rkme_dim(src[s].rkme);
		snprintf(what, sizeof(what), "source %zu", s);
		if ((err = check_columns(map, src[s].columns, d, what)) < 0)
			return err;
		if (d >= 2 && lw_rkme_k(src[s].rkme) > 0) {
			total_cols += d;
			ds->n_tables++;
		}
	}
	if (ds->n_tables == 0)
		return lw__invalid("hetero map: no source has 2 or more columns to train on");
	while (slots < 2 * total_cols)
		slots *= 2;
	err = LW_ENOMEM;
	if (!(ds->tables = lw__calloc(ds->n_tables, sizeof(table))) ||
	    !(ds->uniq = lw__mallocarray(total_cols, map->m * sizeof(double))) ||
	    !(slot = lw__mallocarray(slots, sizeof(size_t))))
		goto fail;
	for (size_t i = 0; i < slots; i++)
		slot[i] = SIZE_MAX;
	ds->n_tables = 0;
	for (size_t s = 0; s < n; s++) {
		const lw_rkme *r = src[s].rkme;
		size_t d = lw_rkme_dim(r), k = lw_rkme_k(r);
		table *tb;

		if (d < 2 || k == 0)
			continue;
		tb = &ds->tables[ds->n_tables++];
		tb->k = k;
		tb->d = d;
		free(mu);
		free(sd);
		sd = NULL;
		if (!(mu = lw__mallocarray(d, sizeof(double))) ||
		    !(sd = lw__mallocarray(d, sizeof(double))) ||
		    !(tb->x = lw__mallocarray(k, d * sizeof(double))) ||
		    !(tb->col = lw__mallocarray(d, sizeof(size_t))))
			goto fail;
		if ((err = lw_hetero_stats(mu, sd, &r->z, r->beta)) < 0)
			goto fail;
		for (size_t j = 0; j < d; j++)
			lw__hetero_anchor(map, src[s].columns->data + j * map->m, &mu[j], &sd[j]);
		err = LW_ENOMEM;
		for (size_t i = 0; i < k; i++)
			for (size_t j = 0; j < d; j++)
				tb->x[i * d + j] = standardise(r->z.data[i * d + j], mu[j], sd[j],
							       map->clip);
		for (size_t j = 0; j < d; j++) {
			const double *e = src[s].columns->data + j * map->m;
			size_t pos = hash_bytes(e, map->m * sizeof(double)) & (slots - 1);

			while (slot[pos] != SIZE_MAX &&
			       memcmp(ds->uniq + slot[pos] * map->m, e, map->m * sizeof(double)))
				pos = (pos + 1) & (slots - 1);
			if (slot[pos] == SIZE_MAX) {
				memcpy(ds->uniq + ds->n_uniq * map->m, e, map->m * sizeof(double));
				slot[pos] = ds->n_uniq++;
			}
			tb->col[j] = slot[pos];
		}
		ds->rows += k;
	}
	free(mu);
	free(sd);
	free(slot);
	return 0;
fail:
	free(mu);
	free(sd);
	free(slot);
	dataset_dispose(ds);
	return err;
}

/* A chunk of one table's rows: rows order[start .. start+len-1]. */
typedef struct {
	size_t table, start, len;
} chunk;

typedef struct {
	size_t max_views, max_cells;
	size_t *row_order;   /* per table, concatenated: a permutation of its rows */
	size_t *row_base;    /* n_tables: offset of each table's permutation */
	chunk *chunks;
	size_t n_chunks, n_total_chunks;
	/* the batch being built */
	size_t *cell_start, *cell_col, *view_row, *perm, *local, *used;
	size_t *view_set, *set_group, *vcol, vstart[65], n_vsets;
	double *cell_val, *cols;
	size_t n_used;
} planner;

static void planner_dispose(planner *p)
{
	free(p->row_order);
	free(p->row_base);
	free(p->chunks);
	free(p->cell_start);
	free(p->cell_col);
	free(p->view_row);
	free(p->perm);
	free(p->local);
	free(p->used);
	free(p->cell_val);
	free(p->cols);
	free(p->view_set);
	free(p->set_group);
	free(p->vcol);
	memset(p, 0, sizeof(*p));
}

static void shuffle(size_t *a, size_t n, lw_rng *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i), t = a[i - 1];

		a[i - 1] = a[j];
		a[j] = t;
	}
}

/* Rows of a chunk of a d-column table: batch_rows, fewer for a wide one. */
static size_t chunk_rows(const lw_hetero_map *map, size_t d)
{
	size_t r = CHUNK_CELLS / d;

	if (r < 2)
		r = 2;
	return r < map->batch_rows ? r : map->batch_rows;
}

static int planner_init(planner *p, const dataset *ds, const lw_hetero_map *map)
{
	size_t n_chunks = 0, dmax = 0, chunk_cells = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < ds->n_tables; i++) {
		size_t d = ds->tables[i].d, r = chunk_rows(map, d), cells;

		n_chunks += (ds->tables[i].k + r - 1) / r;
		if (d > dmax)
			dmax = d;
		/* a row's views hold its d columns once, plus at most d + partitions overlaps */
		if (!lw__mul_ok(&cells, r, 2 * d + map->partitions))
			return LW_ENOMEM;
		if (cells > chunk_cells)
			chunk_cells = cells;
	}
	p->max_views = map->batch_sources * map->batch_rows * map->partitions;
	if (!lw__mul_ok(&p->max_cells, map->batch_sources, chunk_cells))
		return LW_ENOMEM;
	p->n_total_chunks = n_chunks;
	if (!(p->row_order = lw__mallocarray(ds->rows, sizeof(size_t))) ||
	    !(p->row_base = lw__mallocarray(ds->n_tables, sizeof(size_t))) ||
	    !(p->chunks = lw__mallocarray(n_chunks, sizeof(chunk))) ||
	    !(p->cell_start = lw__mallocarray(p->max_views + 1, sizeof(size_t))) ||
	    !(p->cell_col = lw__mallocarray(p->max_cells, sizeof(size_t))) ||
	    !(p->cell_val = lw__mallocarray(p->max_cells, sizeof(double))) ||
	    !(p->view_row = lw__mallocarray(p->max_views, sizeof(size_t))) ||
	    !(p->perm = lw__mallocarray(dmax, sizeof(size_t))) ||
	    !(p->view_set = lw__mallocarray(p->max_views, sizeof(size_t))) ||
	    !(p->set_group = lw__mallocarray(map->batch_sources, map->partitions * sizeof(size_t))) ||
	    !(p->vcol = lw__mallocarray(map->partitions, dmax * sizeof(size_t))) ||
	    !(p->local = lw__mallocarray(ds->n_uniq, sizeof(size_t))) ||
	    !(p->used = lw__mallocarray(ds->n_uniq, sizeof(size_t))) ||
	    !(p->cols = lw__mallocarray(ds->n_uniq, map->m * sizeof(double)))) {
		planner_dispose(p);
		return LW_ENOMEM;
	}
	for (size_t i = 0, off = 0; i < ds->n_tables; i++) {
		p->row_base[i] = off;
		off += ds->tables[i].k;
	}
	for (size_t i = 0; i < ds->n_uniq; i++)
		p->local[i] = SIZE_MAX;
	return 0;
}

/* One epoch's order: each table's rows shuffled and cut into chunks, the chunks shuffled. */
static void plan_epoch(planner *p, const dataset *ds, const lw_hetero_map *map, lw_rng *rng)
{
	p->n_chunks = 0;
	for (size_t i = 0; i < ds->n_tables; i++) {
		size_t *o = p->row_order + p->row_base[i], k = ds->tables[i].k;
		size_t len = chunk_rows(map, ds->tables[i].d);

		for (size_t r = 0; r < k; r++)
			o[r] = r;
		shuffle(o, k, rng);
		for (size_t s = 0; s < k; s += len) {
			chunk c = { i, s, k - s < len ? k - s : len };

			p->chunks[p->n_chunks++] = c;
		}
	}
	for (size_t i = p->n_chunks; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i);
		chunk t = p->chunks[i - 1];

		p->chunks[i - 1] = p->chunks[j];
		p->chunks[j] = t;
	}
}

/*
 * The column views of one chunk of a table's rows: its columns in a random
 * order cut into min(partitions, d) nearly equal parts (numpy's
 * array_split); view i is part i plus the first ceil(overlap |part 0|)
 * columns of part i+1 (cyclically), never all d columns.  Every row of the
 * chunk is seen through the same views, so that each view of the chunk is
 * a point set for the set term.
 */
static void plan_views(planner *p, const table *tb, const lw_hetero_map *map, lw_rng *rng)
{
	size_t d = tb->d, V = map->partitions < d ? map->partitions : d;
	size_t base = d / V, extra = d % V, len0 = base + (extra > 0), n = 0;
	size_t ov = (size_t)ceil(map->overlap * (double)len0 - 1e-9);

	for (size_t j = 0; j < d; j++)
		p->perm[j] = j;
	shuffle(p->perm, d, rng);
	for (size_t v = 0, start = 0; v < V; v++) {
		size_t len = base + (v < extra), nxt = (v + 1) % V;
		size_t nstart = nxt == 0 ? 0 : start + len, nlen = base + (nxt < extra);
		size_t take = ov < nlen ? ov : nlen;

		if (take > d - len - 1)
			take = d - len - 1;
		p->vstart[v] = n;
		for (size_t q = 0; q < len + take; q++)
			p->vcol[n++] = q < len ? p->perm[start + q] : p->perm[nstart + q - len];
		start += len;
	}
	p->vstart[V] = n;
	p->n_vsets = V;
}

/* Row r of the table through the planned views; view v joins set set0 + v. */
static void add_row(planner *p, size_t *nv, size_t *nc, const table *tb, size_t r, size_t row_id,
		    size_t set0)
{
	const double *x = tb->x + r * tb->d;

	for (size_t v = 0; v < p->n_vsets; v++) {
		p->cell_start[*nv] = *nc;
		p->view_row[*nv] = row_id;
		p->view_set[*nv] = set0 + v;
		for (size_t q = p->vstart[v]; q < p->vstart[v + 1]; q++) {
			size_t j = p->vcol[q], u = tb->col[j];

			if (p->local[u] == SIZE_MAX) {
				p->local[u] = p->n_used;
				p->used[p->n_used++] = u;
			}
			p->cell_col[*nc] = p->local[u];
			p->cell_val[*nc] = x[j];
			(*nc)++;
		}
		(*nv)++;
	}
}

/* Build batch number `bi` of the epoch (chunks bi*S .. bi*S+S-1). */
static void build_batch(lw__hetero_batch *b, planner *p, const dataset *ds,
			const lw_hetero_map *map, size_t bi, double noise, lw_rng *rng)
{
	size_t nv = 0, nc = 0, row_id = 0, ns = 0;
	size_t c0 = bi * map->batch_sources, c1 = c0 + map->batch_sources;

	if (c1 > p->n_chunks)
		c1 = p->n_chunks;
	for (size_t i = 0; i < p->n_used; i++)
		p->local[p->used[i]] = SIZE_MAX;
	p->n_used = 0;
	for (size_t c = c0; c < c1; c++) {
		const chunk *ch = &p->chunks[c];
		const table *tb = &ds->tables[ch->table];
		const size_t *o = p->row_order + p->row_base[ch->table];

		plan_views(p, tb, map, rng);
		for (size_t v = 0; v < p->n_vsets; v++)
			p->set_group[ns + v] = ch->table;
		for (size_t q = 0; q < ch->len; q++)
			add_row(p, &nv, &nc, tb, o[ch->start + q], row_id++, ns);
		ns += p->n_vsets;
	}
	p->cell_start[nv] = nc;
	for (size_t i = 0; i < p->n_used; i++)
		memcpy(p->cols + i * map->m, ds->uniq + p->used[i] * map->m, map->m * sizeof(double));
	/*
	 * Description noise: each column embedding of the batch moves by
	 * Gaussian noise of `noise` times its own norm, then back to that norm,
	 * so the map cannot lean on one exact wording (a user's paraphrase
	 * embeds elsewhere).  With noise 1 the cosine to the original is about
	 * 0.7.
	 */
	if (noise > 0) {
		double sig = noise;

		for (size_t i = 0; i < p->n_used; i++) {
			double *e = p->cols + i * map->m, n2 = 0, e2 = 0;

			for (size_t k = 0; k < map->m; k++)
				e2 += e[k] * e[k];
			for (size_t k = 0; k < map->m; k++) {
				e[k] += sig * sqrt(e2 / (double)map->m) * lw_rng_normal(rng);
				n2 += e[k] * e[k];
			}
			for (size_t k = 0; k < map->m; k++)
				e[k] *= n2 > 0 ? sqrt(e2 / n2) : 0;
		}
	}
	b->n_views = nv;
	b->n_cols = p->n_used;
	b->cell_start = p->cell_start;
	b->cell_col = p->cell_col;
	b->cell_val = p->cell_val;
	b->view_row = p->view_row;
	b->cols = p->cols;
	b->n_sets = ns;
	b->view_set = p->view_set;
	b->set_group = p->set_group;
}

static size_t n_batches(const planner *p, const lw_hetero_map *map)
{
	return (p->n_chunks + map->batch_sources - 1) / map->batch_sources;
}

/* Mean loss of one epoch of batches drawn from rng, without changing the map. */
static int epoch_loss(double *out, const lw_hetero_map *map, const dataset *ds, planner *p,
		      workspace *w, lw_rng *rng)
{
	double total = 0;
	size_t anchors = 0, nb;
	int err;

	plan_epoch(p, ds, map, rng);
	nb = n_batches(p, map);
	for (size_t bi = 0; bi < nb; bi++) {
		lw__hetero_batch b;
		double loss;
		size_t counted;

		build_batch(&b, p, ds, map, bi, 0, rng);
		if ((err = batch_loss(&loss, NULL, &counted, w, map, &b)) < 0)
			return err;
		total += loss * (double)counted;
		anchors += counted;
	}
	*out = anchors ? total / (double)anchors : 0;
	return 0;
}

static int map_loss(double *out, const lw_hetero_map *map, const lw_hetero_source *sources,
		    size_t n, uint64_t seed)
{
	dataset ds;
	planner p;
	workspace w;
	lw_rng rng;
	int err;

	LW_ASSERT_ARG(out && map && (sources || n == 0));
	memset(&w, 0, sizeof(w));
	memset(&p, 0, sizeof(p));
	if ((err = dataset_build(&ds, map, sources, n)) < 0)
		return err;
	if ((err = planner_init(&p, &ds, map)) < 0)
		goto done;
	lw_rng_seed(&rng, seed);
	err = epoch_loss(out, map, &ds, &p, &w, &rng);
done:
	ws_dispose(&w);
	planner_dispose(&p);
	dataset_dispose(&ds);
	return err;
}

int lw_hetero_map_loss(double *out, const lw_hetero_map *map, const lw_hetero_source *sources,
		       size_t n, uint64_t seed)
{
	int prev = blas_single_begin(), err = map_loss(out, map, sources, n, seed);

	blas_single_end(prev);
	return err;
}

/* ---- anchors: dock-wide statistics of each description ---------------- */

/*
 * One anchor per distinct column embedding among the sources (every table,
 * whatever its width): the embedding, and the pooled mean and std of that
 * column over the tables that have it, each table counting once (the mean
 * of their means; the mean of their variances plus the variance of their
 * means).
 */
static int build_anchors(lw_hetero_map *map, const lw_hetero_source *src, size_t n)
{
	size_t m = map->m, stride = m + 2, total = 0, slots = 1, *slot = NULL, na = 0;
	double *acc = NULL, *mu = NULL, *sd = NULL, *cnt = NULL;
	int err = LW_ENOMEM;

	for (size_t s = 0; s < n; s++)
		total += lw_rkme_dim(src[s].rkme);
	while (slots < 2 * total)
		slots *= 2;
	free(map->anchors);
	map->anchors = NULL;
	map->n_anchors = 0;
	if (!(map->anchors = lw__mallocarray(total, stride * sizeof(double))) ||
	    !(acc = lw__calloc(total, 2 * sizeof(double))) ||
	    !(cnt = lw__calloc(total, sizeof(double))) ||
	    !(slot = lw__mallocarray(slots, sizeof(size_t))))
		goto done;
	for (size_t i = 0; i < slots; i++)
		slot[i] = SIZE_MAX;
	/* pass 1: sum of means; pass 2: sum of variances and squared deviations */
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < n; s++) {
			const lw_rkme *r = src[s].rkme;
			size_t d = lw_rkme_dim(r);

			if (lw_rkme_k(r) == 0)
				continue;
			free(mu);
			free(sd);
			sd = NULL;
			if (!(mu = lw__mallocarray(d, sizeof(double))) ||
			    !(sd = lw__mallocarray(d, sizeof(double))))
				goto done;
			if ((err = lw_hetero_stats(mu, sd, &r->z, r->beta)) < 0)
				goto done;
			err = LW_ENOMEM;
			for (size_t j = 0; j < d; j++) {
				const double *e = src[s].columns->data + j * m;
				size_t pos = hash_bytes(e, m * sizeof(double)) & (slots - 1), a;

				while (slot[pos] != SIZE_MAX &&
				       memcmp(map->anchors + slot[pos] * stride, e, m * sizeof(double)))
					pos = (pos + 1) & (slots - 1);
				if (slot[pos] == SIZE_MAX) {
					memcpy(map->anchors + na * stride, e, m * sizeof(double));
					slot[pos] = na++;
				}
				a = slot[pos];
				if (pass == 0) {
					acc[2 * a] += mu[j];
					cnt[a] += 1;
				} else {
					double pm = acc[2 * a] / cnt[a];

					acc[2 * a + 1] += sd[j] * sd[j] + (mu[j] - pm) * (mu[j] - pm);
				}
			}
		}
	for (size_t a = 0; a < na; a++) {
		double pm = acc[2 * a] / cnt[a], pv = acc[2 * a + 1] / cnt[a], psd = sqrt(pv);

		if (!(psd >= 1e-12 * (1 + fabs(pm))) || !isfinite(psd))
			psd = 1;
		map->anchors[a * stride + m] = pm;
		map->anchors[a * stride + m + 1] = psd;
	}
	map->n_anchors = na;
	err = 0;
done:
	if (err < 0) {
		free(map->anchors);
		map->anchors = NULL;
		map->n_anchors = 0;
	}
	free(acc);
	free(cnt);
	free(mu);
	free(sd);
	free(slot);
	return err;
}

/* ---- training -------------------------------------------------------- */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int map_train(lw_hetero_map **out, const lw_hetero_source *sources, size_t n,
		     const lw_hetero_options *opts)
{
	lw_hetero_options d = LW_HETERO_OPTIONS_INIT;
	lw_hetero_map *map = NULL;
	dataset ds;
	planner p;
	workspace w;
	lw_rng rng;
	double *grad = NULL, *m1 = NULL, *m2 = NULL, t0 = now_seconds();
	uint64_t step = 0;
	unsigned int epochs;
	int err;

	LW_ASSERT_ARG(out && (sources || n == 0));
	*out = NULL;
	memset(&ds, 0, sizeof(ds));
	memset(&p, 0, sizeof(p));
	memset(&w, 0, sizeof(w));
	if (!opts)
		opts = &d;
	if ((err = check_options(opts)) < 0)
		return err;
	if (n == 0 || !sources[0].columns)
		return lw__invalid("hetero map: no sources to train on (or the first has no "
				   "column embeddings)");
	if ((err = lw_hetero_map_new(&map, sources[0].columns->cols, opts)) < 0)
		return err;
	for (size_t s = 0; s < n; s++) {
		char what[64];

		if (!sources[s].rkme) {
			err = lw__invalid("hetero map: source %zu has no RKME", s);
			goto done;
		}
		snprintf(what, sizeof(what), "source %zu", s);
		if ((err = check_columns(map, sources[s].columns, lw_rkme_dim(sources[s].rkme),
					 what)) < 0)
			goto done;
	}
	if (opts->anchors && (err = build_anchors(map, sources, n)) < 0)
		goto done;
	if ((err = dataset_build(&ds, map, sources, n)) < 0 ||
	    (err = planner_init(&p, &ds, map)) < 0)
		goto done;
	err = LW_ENOMEM;
	if (!(grad = lw__mallocarray(map->n_params, sizeof(double))) ||
	    !(m1 = lw__calloc(map->n_params, sizeof(double))) ||
	    !(m2 = lw__calloc(map->n_params, sizeof(double))))
		goto done;
	/* views and batches: a stream of their own, apart from the initial weights' */
	lw_rng_seed(&rng, opts->seed ^ 0x68657465726f6d61ULL);
	epochs = opts->epochs;
	if (epochs == 0) {
		size_t per_epoch = (p.n_total_chunks + map->batch_sources - 1) / map->batch_sources;

		epochs = (unsigned int)((opts->steps + per_epoch - 1) / per_epoch);
		if (epochs == 0)
			epochs = 1;
	}
	for (unsigned int epoch = 0; epoch < epochs; epoch++) {
		double total = 0;
		size_t total_anchors = 0, nb;

		plan_epoch(&p, &ds, map, &rng);
		nb = n_batches(&p, map);
		for (size_t bi = 0; bi < nb; bi++) {
			lw__hetero_batch b;
			double loss, c1, c2;
			size_t counted;

			build_batch(&b, &p, &ds, map, bi, map->noise, &rng);
			if ((err = batch_loss(&loss, grad, &counted, &w, map, &b)) < 0)
				goto done;
			total += loss * (double)counted;
			total_anchors += counted;
			if (counted == 0)
				continue;
			step++;
			c1 = 1.0 - pow(ADAM_B1, (double)step);
			c2 = 1.0 - pow(ADAM_B2, (double)step);
			for (size_t i = 0; i < map->n_params; i++) {
				double g = grad[i];

				m1[i] = ADAM_B1 * m1[i] + (1 - ADAM_B1) * g;
				m2[i] = ADAM_B2 * m2[i] + (1 - ADAM_B2) * g * g;
				map->theta[i] -=
					opts->lr * (m1[i] / c1) / (sqrt(m2[i] / c2) + ADAM_EPS);
			}
		}
		total = total_anchors ? total / (double)total_anchors : 0;
		if (epoch == 0)
			map->loss_initial = total;
		map->loss_final = total;
		map->epochs = epoch + 1;
		if (opts->progress &&
		    opts->progress("hetero map", (double)(epoch + 1) / epochs, opts->payload)) {
			lw_error_set(LW_ERRCLASS_INVALID, "hetero map: training cancelled");
			err = LW_ECANCEL;
			goto done;
		}
	}
	for (size_t i = 0; i < map->n_params; i++)
		if (!isfinite(map->theta[i])) {
			err = lw__invalid("hetero map: training diverged (a weight is not finite); "
					  "lower the learning rate");
			goto done;
		}
	map->sources = ds.n_tables;
	map->rows = ds.rows;
	if ((err = lw__hetero_update_id(map)) < 0)
		goto done;
	map->train_seconds = now_seconds() - t0;
	*out = map;
	map = NULL;
	err = 0;
done:
	lw_hetero_map_free(map);
	free(grad);
	free(m1);
	free(m2);
	ws_dispose(&w);
	planner_dispose(&p);
	dataset_dispose(&ds);
	return err;
}

int lw_hetero_map_train(lw_hetero_map **out, const lw_hetero_source *sources, size_t n,
			const lw_hetero_options *opts)
{
	int prev = blas_single_begin(), err = map_train(out, sources, n, opts);

	blas_single_end(prev);
	return err;
}
