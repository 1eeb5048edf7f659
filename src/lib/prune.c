/*
 * MDEP ensemble pruning with NSGA-II over subset bitmasks.
 *
 * An individual is a mask of m bytes (1 = member kept).  Each generation
 * breeds N children from the N parents (binary tournaments on rank and
 * crowding distance, uniform crossover, bit flips with probability 1/m),
 * repairs any child with fewer than two members by random flips as the
 * reference does, and keeps the best N of parents and children by
 * non-dominated rank, then crowding distance.  Copies of a mask already
 * in the merged population rank after every distinct mask, so the
 * population does not collapse onto a few subsets.
 */
#include "prune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lw/rng.h"
#include "util.h"

/* f1 when the mean margin is not positive (the reference's value). */
#define F1_BAD 1e5
/* Seeded singletons in the first population: best f1, best f2, 8 random. */
#define N_SEEDED 10
/* Largest class index accepted when n_classes is not given. */
#define MAX_INFERRED_CLASSES ((size_t)1 << 24)

/* Rows counted at once by the dense vote count, and the most classes it takes. */
#define VOTE_BLOCK 256
#define VOTE_MAX_CLASSES 4096

typedef struct {
	lw__prune_mode mode;
	size_t n, m, n_obj;
	double *Pt;        /* m x n: each member's predictions together (binary: -1/+1) */
	double *ys;        /* n labels (binary: -1/+1) */
	unsigned *Ct, *yc; /* multiclass: the same as class indices */
	size_t n_classes;

	/* scratch for one evaluation */
	size_t *sel;       /* selected members */
	double *acc;       /* n: sums of the selected members' outputs */
	double *margin;    /* n */
	unsigned *votes;   /* VOTE_BLOCK x n_classes: dense counts, or NULL */
	unsigned *counts;  /* n_classes: sparse counts, all zero between rows */
	unsigned *touched; /* classes with a vote in the current row */
} problem;

/* ---- objectives ---------------------------------------------------- */

/* f1 of the reference: std(margin) / mean(margin), or F1_BAD. */
static double margin_ratio(const double *margin, size_t n)
{
	double mean = 0, var = 0;

	for (size_t i = 0; i < n; i++)
		mean += margin[i];
	mean /= (double)n;
	if (!(mean > 0))
		return F1_BAD;
	for (size_t i = 0; i < n; i++)
		var += (margin[i] - mean) * (margin[i] - mean);
	return sqrt(var / (double)n) / mean;
}

/* acc = sum of the k selected members' columns. */
static void sum_members(const problem *p, size_t k)
{
	memset(p->acc, 0, p->n * sizeof(double));
	for (size_t j = 0; j < k; j++) {
		const double *col = p->Pt + p->sel[j] * p->n;

		for (size_t i = 0; i < p->n; i++)
			p->acc[i] += col[i];
	}
}

static void eval_regression(const problem *p, size_t k, double *f)
{
	double sse = 0;

	sum_members(p, k);
	for (size_t i = 0; i < p->n; i++) {
		double d = p->acc[i] / (double)k - p->ys[i];

		sse += d * d;
	}
	f[0] = sse / (double)p->n;
	f[1] = (double)k;
}

/* Predictions and labels 0/1 read as -1/+1; margin = mean vote * label. */
static void eval_binary(const problem *p, size_t k, double *f)
{
	double errors = 0;

	sum_members(p, k);
	for (size_t i = 0; i < p->n; i++) {
		double mg = p->acc[i] / (double)k * p->ys[i];

		p->margin[i] = mg;
		if (mg < 0)
			errors += 1;
		else if (mg == 0)
			errors += 0.5;
	}
	f[0] = margin_ratio(p->margin, p->n);
	f[1] = errors;
	f[2] = (double)k;
}

/*
 * One row's margin from its vote: the winner top1 with f1 votes, the
 * runner-up's f2 votes, ft votes for the true class.  1 if the vote is wrong.
 */
static int row_margin(double *margin, unsigned top1, unsigned f1, unsigned f2, unsigned ft,
		      unsigned truth, size_t k)
{
	if (top1 == truth) {
		*margin = ((double)f1 - (double)f2) / (double)k;
		return 0;
	}
	*margin = ((double)ft - (double)f1) / (double)k;
	return 1;
}

/* Votes counted in a block of rows x classes: for a few classes. */
static size_t vote_dense(const problem *p, size_t k)
{
	size_t C = p->n_classes, errors = 0;

	for (size_t i0 = 0; i0 < p->n; i0 += VOTE_BLOCK) {
		size_t rows = p->n - i0 < VOTE_BLOCK ? p->n - i0 : VOTE_BLOCK;

		memset(p->votes, 0, rows * C * sizeof(unsigned));
		for (size_t j = 0; j < k; j++) {
			const unsigned *col = p->Ct + p->sel[j] * p->n + i0;

			for (size_t r = 0; r < rows; r++)
				p->votes[r * C + col[r]]++;
		}
		for (size_t r = 0; r < rows; r++) {
			const unsigned *v = p->votes + r * C;
			unsigned top1 = 0, f1 = v[0], f2 = 0;

			for (size_t c = 1; c < C; c++)
				if (v[c] > f1) {
					f1 = v[c];
					top1 = (unsigned)c;
				}
			for (size_t c = 0; c < C; c++)
				if (c != top1 && v[c] > f2)
					f2 = v[c];
			errors += (size_t)row_margin(p->margin + i0 + r, top1, f1, f2,
						     v[p->yc[i0 + r]], p->yc[i0 + r], k);
		}
	}
	return errors;
}

/* Votes counted per row among the classes that got one: for many classes. */
static size_t vote_sparse(const problem *p, size_t k)
{
	size_t errors = 0;

	for (size_t i = 0; i < p->n; i++) {
		unsigned truth = p->yc[i], top1 = 0, f1 = 0, f2 = 0, ft;
		size_t nt = 0;

		for (size_t j = 0; j < k; j++) {
			unsigned c = p->Ct[p->sel[j] * p->n + i];

			if (p->counts[c]++ == 0)
				p->touched[nt++] = c;
		}
		for (size_t t = 0; t < nt; t++) {
			unsigned c = p->touched[t], v = p->counts[c];

			if (v > f1 || (v == f1 && c < top1)) {
				f1 = v;
				top1 = c;
			}
		}
		for (size_t t = 0; t < nt; t++) {
			unsigned c = p->touched[t];

			if (c != top1 && p->counts[c] > f2)
				f2 = p->counts[c];
		}
		ft = p->counts[truth];
		for (size_t t = 0; t < nt; t++)
			p->counts[p->touched[t]] = 0;
		errors += (size_t)row_margin(p->margin + i, top1, f1, f2, ft, truth, k);
	}
	return errors;
}

/*
 * Majority vote, ties to the smaller class index (numpy's argmax of a
 * bincount).  A correct vote's margin is (top1 - top2) / k, a wrong one's
 * (votes for the true class - top1) / k.  Both counts give the same
 * numbers; the dense one is faster while classes are few next to k.
 */
static void eval_multiclass(const problem *p, size_t k, double *f)
{
	size_t errors = p->votes && p->n_classes <= 4 * k + 8 ? vote_dense(p, k) : vote_sparse(p, k);

	f[0] = margin_ratio(p->margin, p->n);
	f[1] = (double)errors;
	f[2] = (double)k;
}

static void evaluate(const problem *p, const unsigned char *mask, double *f)
{
	size_t k = 0;

	for (size_t j = 0; j < p->m; j++)
		if (mask[j])
			p->sel[k++] = j;
	switch (p->mode) {
	case LW__PRUNE_REGRESSION: eval_regression(p, k, f); break;
	case LW__PRUNE_BINARY: eval_binary(p, k, f); break;
	case LW__PRUNE_MULTICLASS: eval_multiclass(p, k, f); break;
	}
}

/* ---- the problem --------------------------------------------------- */

lw__prune_mode lw__prune_mode_of(const lw_mat *preds, const double *y, int classification)
{
	size_t cells = preds->rows * preds->cols;

	if (!classification)
		return LW__PRUNE_REGRESSION;
	for (size_t i = 0; i < cells; i++)
		if (preds->data[i] != 0 && preds->data[i] != 1)
			return LW__PRUNE_MULTICLASS;
	for (size_t i = 0; i < preds->rows; i++)
		if (y[i] != 0 && y[i] != 1)
			return LW__PRUNE_MULTICLASS;
	return LW__PRUNE_BINARY;
}

static int check_class(double v, size_t limit, const char *what, size_t row, size_t col)
{
	if (!(v >= 0) || v != floor(v) || v >= (double)limit) {
		if (col == (size_t)-1)
			lw_error_set(LW_ERRCLASS_INVALID,
				     "ensemble pruning: label of row %zu is %g, not a class index "
				     "in [0, %zu)", row, v, limit);
		else
			lw_error_set(LW_ERRCLASS_INVALID,
				     "ensemble pruning: %s of member %zu on row %zu is %g, not a "
				     "class index in [0, %zu)", what, col, row, v, limit);
		return LW_EINVALID;
	}
	return 0;
}

static void problem_dispose(problem *p)
{
	free(p->Pt);
	free(p->ys);
	free(p->Ct);
	free(p->yc);
	free(p->sel);
	free(p->acc);
	free(p->margin);
	free(p->votes);
	free(p->counts);
	free(p->touched);
	memset(p, 0, sizeof(*p));
}

static int problem_init(problem *p, const lw_mat *preds, const double *y, int classification,
			size_t n_classes)
{
	size_t n, m, cells;

	memset(p, 0, sizeof(*p));
	LW_ASSERT_ARG(preds && y);
	n = preds->rows;
	m = preds->cols;
	if (n == 0 || m == 0 || !preds->data) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "ensemble pruning needs at least one labelled row and one member "
			     "(got %zu rows x %zu members)", n, m);
		return LW_EINVALID;
	}
	if (!lw__mul_ok(&cells, n, m)) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "ensemble pruning: %zu x %zu predictions", n, m);
		return LW_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(y[i])) {
			lw_error_set(LW_ERRCLASS_INVALID,
				     "ensemble pruning: label of row %zu is not finite", i);
			return LW_EINVALID;
		}
		for (size_t j = 0; j < m; j++)
			if (!isfinite(preds->data[i * m + j])) {
				lw_error_set(LW_ERRCLASS_INVALID,
					     "ensemble pruning: prediction of member %zu on row %zu "
					     "is not finite", j, i);
				return LW_EINVALID;
			}
	}
	p->n = n;
	p->m = m;
	p->mode = lw__prune_mode_of(preds, y, classification);
	p->n_obj = p->mode == LW__PRUNE_REGRESSION ? 2 : 3;

	if (classification) {
		size_t limit = n_classes ? n_classes : MAX_INFERRED_CLASSES;
		double top = 0;

		for (size_t i = 0; i < n; i++) {
			if (check_class(y[i], limit, "label", i, (size_t)-1) < 0)
				return LW_EINVALID;
			top = fmax(top, y[i]);
			for (size_t j = 0; j < m; j++) {
				if (check_class(preds->data[i * m + j], limit, "prediction", i, j) < 0)
					return LW_EINVALID;
				top = fmax(top, preds->data[i * m + j]);
			}
		}
		p->n_classes = n_classes ? n_classes : (size_t)top + 1;
	}
	if (!(p->sel = lw__mallocarray(m, sizeof(size_t))) ||
	    !(p->margin = lw__mallocarray(n, sizeof(double))))
		goto nomem;
	if (p->mode == LW__PRUNE_MULTICLASS) {
		size_t C = p->n_classes;

		if (C > UINT32_MAX || !(p->Ct = lw__mallocarray(cells, sizeof(unsigned))) ||
		    !(p->yc = lw__mallocarray(n, sizeof(unsigned))) ||
		    !(p->counts = lw__calloc(C, sizeof(unsigned))) ||
		    !(p->touched = lw__mallocarray(m, sizeof(unsigned))) ||
		    (C <= VOTE_MAX_CLASSES && !(p->votes = lw__mallocarray(VOTE_BLOCK, C * sizeof(unsigned)))))
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			p->yc[i] = (unsigned)y[i];
			for (size_t j = 0; j < m; j++)
				p->Ct[j * n + i] = (unsigned)preds->data[i * m + j];
		}
	} else {
		int binary = p->mode == LW__PRUNE_BINARY;

		if (!(p->Pt = lw__mallocarray(cells, sizeof(double))) ||
		    !(p->ys = lw__mallocarray(n, sizeof(double))) ||
		    !(p->acc = lw__mallocarray(n, sizeof(double))))
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			p->ys[i] = binary ? (y[i] > 0.5 ? 1.0 : -1.0) : y[i];
			for (size_t j = 0; j < m; j++) {
				double v = preds->data[i * m + j];

				p->Pt[j * n + i] = binary ? (v > 0.5 ? 1.0 : -1.0) : v;
			}
		}
	}
	return 0;
nomem:
	problem_dispose(p);
	lw_error_set(LW_ERRCLASS_NOMEMORY, "ensemble pruning: out of memory for %zu rows x %zu "
		     "members", n, m);
	return LW_ENOMEM;
}

int lw__prune_objectives(double *out, size_t *n_obj, const lw_mat *preds, const double *y,
			 int classification, size_t n_classes, const unsigned char *mask)
{
	problem p;
	size_t k = 0;
	int err;

	LW_ASSERT_ARG(out && mask);
	if ((err = problem_init(&p, preds, y, classification, n_classes)) < 0)
		return err;
	for (size_t j = 0; j < p.m; j++)
		k += mask[j] != 0;
	if (k == 0) {
		problem_dispose(&p);
		lw_error_set(LW_ERRCLASS_INVALID, "ensemble pruning: an empty subset has no objectives");
		return LW_EINVALID;
	}
	evaluate(&p, mask, out);
	if (n_obj)
		*n_obj = p.n_obj;
	problem_dispose(&p);
	return 0;
}

/* ---- NSGA-II ------------------------------------------------------- */

typedef struct {
	const problem *p;
	lw_rng rng;
	size_t N, m;           /* population, bits per individual */
	unsigned char *bits;   /* 2N x m: parents, then children */
	double *f;             /* 2N x 3 objectives */
	size_t *rank;          /* 2N; SIZE_MAX for a duplicate */
	double *crowd;         /* 2N */
	uint64_t *hash;        /* 2N */
	size_t *dom;           /* 2N: how many individuals dominate each */
	size_t *front, *next;  /* 2N each */
	size_t *order;         /* 2N: survivors, in order */
	unsigned char *keep_bits; /* N x m */
	double *keep_f;        /* N x 3 */
	size_t *keep_rank;
	double *keep_crowd;
	struct keyed { double v; size_t i; } *keyed; /* 2N */
} nsga;

static unsigned char *bits_of(const nsga *g, size_t i) { return g->bits + i * g->m; }
static double *f_of(const nsga *g, size_t i) { return g->f + i * 3; }

static size_t popcount(const unsigned char *b, size_t m)
{
	size_t k = 0;

	for (size_t j = 0; j < m; j++)
		k += b[j];
	return k;
}

/* The reference's repair: flip each bit with probability 1/m until >= 2 are set. */
static void repair(nsga *g, unsigned char *b)
{
	double pm = 1.0 / (double)g->m;

	while (popcount(b, g->m) <= 1)
		for (size_t j = 0; j < g->m; j++)
			if (lw_rng_uniform(&g->rng) < pm)
				b[j] ^= 1;
}

/* a dominates b: no worse on every objective and better on one. */
static int dominates(const double *a, const double *b, size_t k)
{
	int better = 0;

	for (size_t o = 0; o < k; o++) {
		if (a[o] > b[o])
			return 0;
		if (a[o] < b[o])
			better = 1;
	}
	return better;
}

static uint64_t hash_bits(const unsigned char *b, size_t m)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t j = 0; j < m; j++)
		h = (h ^ b[j]) * 1099511628211ULL;
	return h;
}

static int cmp_keyed(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Crowding distance of the `len` individuals listed in idx. */
static void crowding(nsga *g, const size_t *idx, size_t len)
{
	size_t k = g->p->n_obj;

	for (size_t t = 0; t < len; t++)
		g->crowd[idx[t]] = 0;
	if (len <= 2) {
		for (size_t t = 0; t < len; t++)
			g->crowd[idx[t]] = INFINITY;
		return;
	}
	for (size_t o = 0; o < k; o++) {
		double lo, hi;

		for (size_t t = 0; t < len; t++) {
			g->keyed[t].v = f_of(g, idx[t])[o];
			g->keyed[t].i = idx[t];
		}
		qsort(g->keyed, len, sizeof(*g->keyed), cmp_keyed);
		lo = g->keyed[0].v;
		hi = g->keyed[len - 1].v;
		g->crowd[g->keyed[0].i] = INFINITY;
		g->crowd[g->keyed[len - 1].i] = INFINITY;
		if (!(hi > lo))
			continue;
		for (size_t t = 1; t + 1 < len; t++)
			g->crowd[g->keyed[t].i] +=
				(g->keyed[t + 1].v - g->keyed[t - 1].v) / (hi - lo);
	}
}

/*
 * Rank and crowding distance of the first `total` individuals, and the
 * best `want` of them in g->order: whole fronts in rank order, the last
 * front cut by crowding distance, then duplicates if distinct masks run
 * out.
 */
static void sort_population(nsga *g, size_t total, size_t want)
{
	size_t k = g->p->n_obj, taken = 0, nf = 0, r = 0;

	for (size_t i = 0; i < total; i++) {
		g->hash[i] = hash_bits(bits_of(g, i), g->m);
		g->rank[i] = 0;
		for (size_t j = 0; j < i; j++)
			if (g->hash[j] == g->hash[i] && g->rank[j] != SIZE_MAX &&
			    !memcmp(bits_of(g, j), bits_of(g, i), g->m)) {
				g->rank[i] = SIZE_MAX;
				g->crowd[i] = 0;
				break;
			}
	}
	for (size_t i = 0; i < total; i++) {
		g->dom[i] = 0;
		if (g->rank[i] == SIZE_MAX)
			continue;
		for (size_t j = 0; j < total; j++)
			if (g->rank[j] != SIZE_MAX && dominates(f_of(g, j), f_of(g, i), k))
				g->dom[i]++;
		if (!g->dom[i])
			g->front[nf++] = i;
	}
	while (nf) {
		size_t nn = 0;

		for (size_t t = 0; t < nf; t++)
			g->rank[g->front[t]] = r;
		crowding(g, g->front, nf);
		if (taken < want) {
			if (taken + nf <= want) {
				memcpy(g->order + taken, g->front, nf * sizeof(size_t));
				taken += nf;
			} else {
				for (size_t t = 0; t < nf; t++) {
					/* larger distance first: sort on its negation */
					g->keyed[t].v = -g->crowd[g->front[t]];
					g->keyed[t].i = g->front[t];
				}
				qsort(g->keyed, nf, sizeof(*g->keyed), cmp_keyed);
				for (size_t t = 0; taken < want; t++)
					g->order[taken++] = g->keyed[t].i;
			}
		}
		for (size_t t = 0; t < nf; t++) {
			const double *a = f_of(g, g->front[t]);

			for (size_t j = 0; j < total; j++)
				if (g->rank[j] != SIZE_MAX && g->dom[j] && dominates(a, f_of(g, j), k) &&
				    --g->dom[j] == 0)
					g->next[nn++] = j;
		}
		memcpy(g->front, g->next, nn * sizeof(size_t));
		nf = nn;
		r++;
	}
	for (size_t i = 0; i < total && taken < want; i++)
		if (g->rank[i] == SIZE_MAX)
			g->order[taken++] = i;
}

/* Keep g->order[0..N) as the new parents in slots 0..N-1. */
static void survive(nsga *g)
{
	for (size_t t = 0; t < g->N; t++) {
		size_t i = g->order[t];

		memcpy(g->keep_bits + t * g->m, bits_of(g, i), g->m);
		memcpy(g->keep_f + t * 3, f_of(g, i), 3 * sizeof(double));
		g->keep_rank[t] = g->rank[i];
		g->keep_crowd[t] = g->crowd[i];
	}
	memcpy(g->bits, g->keep_bits, g->N * g->m);
	memcpy(g->f, g->keep_f, g->N * 3 * sizeof(double));
	memcpy(g->rank, g->keep_rank, g->N * sizeof(size_t));
	memcpy(g->crowd, g->keep_crowd, g->N * sizeof(double));
}

/* Binary tournament on (rank, crowding distance); a tie goes to a coin. */
static size_t tournament(nsga *g)
{
	size_t a = (size_t)lw_rng_below(&g->rng, g->N), b = (size_t)lw_rng_below(&g->rng, g->N);

	if (g->rank[a] != g->rank[b])
		return g->rank[a] < g->rank[b] ? a : b;
	if (g->crowd[a] != g->crowd[b])
		return g->crowd[a] > g->crowd[b] ? a : b;
	return lw_rng_u64(&g->rng) >> 63 ? a : b;
}

static void mutate(nsga *g, unsigned char *b)
{
	double pm = 1.0 / (double)g->m;

	for (size_t j = 0; j < g->m; j++)
		if (lw_rng_uniform(&g->rng) < pm)
			b[j] ^= 1;
}

/* Children N..2N-1 from the parents, repaired and evaluated. */
static void breed(nsga *g)
{
	for (size_t c = g->N; c < 2 * g->N; c += 2) {
		const unsigned char *pa = bits_of(g, tournament(g)), *pb = bits_of(g, tournament(g));
		unsigned char *ca = bits_of(g, c), *cb = bits_of(g, c + 1);
		uint64_t coins = 0;

		for (size_t j = 0; j < g->m; j++) {
			int swap;

			if (j % 64 == 0)
				coins = lw_rng_u64(&g->rng);
			swap = (int)(coins & 1);
			coins >>= 1;
			ca[j] = swap ? pb[j] : pa[j];
			cb[j] = swap ? pa[j] : pb[j];
		}
		mutate(g, ca);
		mutate(g, cb);
		repair(g, ca);
		repair(g, cb);
		evaluate(g->p, ca, f_of(g, c));
		evaluate(g->p, cb, f_of(g, c + 1));
	}
}

/* The reference's first population: seeded singletons, then random masks. */
static void first_population(nsga *g)
{
	const problem *p = g->p;
	size_t m = g->m, best1 = 0, best2 = 0, seeded = g->N < N_SEEDED ? g->N : N_SEEDED;
	unsigned char *b = g->bits; /* slot 0 as scratch for the singletons */
	double f[3], b1[3] = { INFINITY, INFINITY, INFINITY }, b2 = INFINITY;

	memset(g->bits, 0, 2 * g->N * m);
	for (size_t j = 0; j < m; j++) {
		b[j] = 1;
		evaluate(p, b, f);
		b[j] = 0;
		if (f[0] < b1[0] || (f[0] == b1[0] && f[1] < b1[1])) {
			memcpy(b1, f, sizeof(f));
			best1 = j;
		}
		if (f[1] < b2) {
			b2 = f[1];
			best2 = j;
		}
	}
	for (size_t i = 0; i < seeded; i++) {
		size_t j = i == 0 ? best1 : i == 1 ? best2 : (size_t)lw_rng_below(&g->rng, m);

		bits_of(g, i)[j] = 1;
	}
	for (size_t i = seeded; i < g->N; i++) {
		unsigned char *r = bits_of(g, i);
		uint64_t coins = 0;

		for (size_t j = 0; j < m; j++) {
			if (j % 64 == 0)
				coins = lw_rng_u64(&g->rng);
			r[j] = (unsigned char)(coins & 1);
			coins >>= 1;
		}
	}
	for (size_t i = 0; i < g->N; i++) {
		repair(g, bits_of(g, i));
		evaluate(p, bits_of(g, i), f_of(g, i));
	}
}

/* Final pick: least error, then fewest members, then (classification) least f1. */
static size_t final_pick(const nsga *g)
{
	size_t best = 0;
	int cls = g->p->mode != LW__PRUNE_REGRESSION;

	for (size_t i = 1; i < g->N; i++) {
		const double *a = f_of(g, i), *b = f_of(g, best);
		double ea = cls ? a[1] : a[0], eb = cls ? b[1] : b[0];
		double sa = cls ? a[2] : a[1], sb = cls ? b[2] : b[1];

		if (ea < eb || (ea == eb && (sa < sb || (sa == sb && cls && a[0] < b[0]))))
			best = i;
	}
	return best;
}

static void nsga_dispose(nsga *g)
{
	free(g->bits);
	free(g->f);
	free(g->rank);
	free(g->crowd);
	free(g->hash);
	free(g->dom);
	free(g->front);
	free(g->next);
	free(g->order);
	free(g->keep_bits);
	free(g->keep_f);
	free(g->keep_rank);
	free(g->keep_crowd);
	free(g->keyed);
}

static int nsga_init(nsga *g, const problem *p, uint64_t seed)
{
	size_t N = p->m > LW__PRUNE_MIN_POP ? p->m : LW__PRUNE_MIN_POP, N2;

	memset(g, 0, sizeof(*g));
	N += N & 1; /* children come in pairs */
	g->p = p;
	g->N = N;
	g->m = p->m;
	lw_rng_seed(&g->rng, seed);
	if (!lw__mul_ok(&N2, N, 2)) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "ensemble pruning: %zu members are too many", p->m);
		return LW_ENOMEM;
	}
	if (!(g->bits = lw__mallocarray(N2, g->m)) || !(g->f = lw__calloc(N2, 3 * sizeof(double))) ||
	    !(g->rank = lw__mallocarray(N2, sizeof(size_t))) ||
	    !(g->crowd = lw__mallocarray(N2, sizeof(double))) ||
	    !(g->hash = lw__mallocarray(N2, sizeof(uint64_t))) ||
	    !(g->dom = lw__mallocarray(N2, sizeof(size_t))) ||
	    !(g->front = lw__mallocarray(N2, sizeof(size_t))) ||
	    !(g->next = lw__mallocarray(N2, sizeof(size_t))) ||
	    !(g->order = lw__mallocarray(N2, sizeof(size_t))) ||
	    !(g->keep_bits = lw__mallocarray(N, g->m)) ||
	    !(g->keep_f = lw__mallocarray(N, 3 * sizeof(double))) ||
	    !(g->keep_rank = lw__mallocarray(N, sizeof(size_t))) ||
	    !(g->keep_crowd = lw__mallocarray(N, sizeof(double))) ||
	    !(g->keyed = lw__mallocarray(N2, sizeof(*g->keyed)))) {
		nsga_dispose(g);
		return LW_ENOMEM;
	}
	return 0;
}

static int take_members(size_t **selected, size_t *count, const unsigned char *mask, size_t m)
{
	size_t k = popcount(mask, m), t = 0;
	size_t *out = lw__mallocarray(k ? k : 1, sizeof(size_t));

	if (!out)
		return LW_ENOMEM;
	for (size_t j = 0; j < m; j++)
		if (mask[j])
			out[t++] = j;
	*selected = out;
	*count = k;
	return 0;
}

int lw__prune_select(size_t **selected, size_t *count, const lw_mat *preds, const double *y,
		     int classification, size_t n_classes, uint64_t seed, size_t maxgen)
{
	problem p;
	nsga g;
	int err;

	LW_ASSERT_ARG(selected && count);
	*selected = NULL;
	*count = 0;
	if ((err = problem_init(&p, preds, y, classification, n_classes)) < 0)
		return err;
	if (p.m <= 2) {
		/* One member, or two: the only subset of at least two members. */
		unsigned char all[2] = { 1, 1 };

		err = take_members(selected, count, all, p.m);
		problem_dispose(&p);
		return err;
	}
	if ((err = nsga_init(&g, &p, seed)) < 0) {
		problem_dispose(&p);
		return err;
	}
	first_population(&g);
	sort_population(&g, g.N, g.N);
	for (size_t gen = 0; gen < maxgen; gen++) {
		breed(&g);
		sort_population(&g, 2 * g.N, g.N);
		survive(&g);
	}
	err = take_members(selected, count, bits_of(&g, final_pick(&g)), g.m);
	nsga_dispose(&g);
	problem_dispose(&p);
	return err;
}
