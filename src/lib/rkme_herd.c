/*
 * Kernel herding from an RKME: synthetic rows whose empirical embedding
 * tracks the specification's, used to label data for reuse without ever
 * seeing the developer's rows.
 */
#include <math.h>
#include <string.h>

#include "fastmath.h"
#include "kernel.h"
#include "lw/rkme.h"
#include "lw/rng.h"
#include "util.h"

/*
 * Candidates drawn per requested sample (the reference's 100), and their
 * spread (variance 0.25).  The greedy pass costs samples x candidates, so
 * past MAX_CANDIDATES the pool grows only as 4 per sample.
 */
#define CANDIDATES_PER_SAMPLE 100
#define MAX_CANDIDATES 200000
#define CANDIDATE_SD 0.5
/* Candidates per kernel block when evaluating the embedding. */
#define EVAL_BLOCK 4096
/* Samples one call may ask for. */
#define MAX_SAMPLES 10000000

/* Candidates around the reduced points, picked in proportion to max(beta, 0). */
static int draw_candidates(lw_mat *cand, const lw_rkme *r, size_t count, lw_rng *rng)
{
	size_t d = lw_rkme_dim(r);
	int err;

	if ((err = lw_mat_init(cand, count, d)) < 0)
		return err;
	for (size_t i = 0; i < count; i++) {
		const double *z = lw_mat_row(&r->z, lw_rng_categorical(rng, r->beta, lw_rkme_k(r)));
		double *c = lw_mat_row(cand, i);

		for (size_t t = 0; t < d; t++)
			c[t] = z[t] + CANDIDATE_SD * lw_rng_normal(rng);
	}
	return 0;
}

/* fs[c] = sum_j beta_j k(z_j, cand_c): the embedding evaluated at each candidate. */
static int embedding_at(double *fs, const lw_rkme *r, const lw_mat *cand)
{
	size_t k = lw_rkme_k(r), d = lw_rkme_dim(r);
	double *K = lw__mallocarray(EVAL_BLOCK, k * sizeof(double));
	double *cn = lw__mallocarray(cand->rows, sizeof(double));
	double *zn = lw__mallocarray(k, sizeof(double));

	if (!K || !cn || !zn) {
		free(K);
		free(cn);
		free(zn);
		return LW_ENOMEM;
	}
	lw_mat_row_sqnorms(cand, cn);
	lw_mat_row_sqnorms(&r->z, zn);
	for (size_t start = 0; start < cand->rows; start += EVAL_BLOCK) {
		size_t m = cand->rows - start < EVAL_BLOCK ? cand->rows - start : EVAL_BLOCK;

		lw__kernel_rbf_rows(K, lw_mat_row(cand, start), cn + start, m, r->z.data, zn, k, d,
				    r->gamma);
		for (size_t c = 0; c < m; c++) {
			double s = 0;
			for (size_t j = 0; j < k; j++)
				s += r->beta[j] * K[c * k + j];
			fs[start + c] = s;
		}
	}
	free(K);
	free(cn);
	free(zn);
	return 0;
}

/*
 * Greedy choice: at step t take the candidate maximising
 * (t + 1) fs(c) - sum_{s < t} k(S_s, c); the running sum is updated with
 * one kernel row per pick, so the whole run is O(n * candidates * d).
 */
static void herd_greedy(lw_mat *out, const lw_mat *cand, const double *fs, double *penalty,
			double *scratch, double gamma)
{
	size_t d = cand->cols;

	memset(penalty, 0, cand->rows * sizeof(double));
	for (size_t t = 0; t < out->rows; t++) {
		size_t best = 0;
		double best_score = -INFINITY;
		const double *pick;

		for (size_t c = 0; c < cand->rows; c++) {
			double score = (double)(t + 1) * fs[c] - penalty[c];

			if (score > best_score) {
				best_score = score;
				best = c;
			}
		}
		pick = lw_mat_row(cand, best);
		memcpy(lw_mat_row(out, t), pick, d * sizeof(double));
		for (size_t c = 0; c < cand->rows; c++) {
			const double *x = lw_mat_row(cand, c);
			double dist = 0;

			for (size_t j = 0; j < d; j++)
				dist += (x[j] - pick[j]) * (x[j] - pick[j]);
			scratch[c] = -gamma * dist;
		}
		lw__exp_nonpos(scratch, scratch, cand->rows);
		for (size_t c = 0; c < cand->rows; c++)
			penalty[c] += scratch[c];
	}
}

int lw_rkme_herd(lw_mat *out, const lw_rkme *r, size_t n, uint64_t seed)
{
	lw_mat cand = LW_MAT_INIT;
	double *fs = NULL, *penalty = NULL, *scratch = NULL;
	size_t count;
	lw_rng rng;
	int err;

	LW_ASSERT_ARG(out && r);
	if (n == 0 || n > MAX_SAMPLES) {
		lw_error_set(LW_ERRCLASS_INVALID, "cannot herd %zu samples (1 to %d)", n, MAX_SAMPLES);
		return LW_EINVALID;
	}
	count = n * CANDIDATES_PER_SAMPLE;
	if (count > MAX_CANDIDATES)
		count = n * 4 > MAX_CANDIDATES ? n * 4 : MAX_CANDIDATES;
	lw_rng_seed(&rng, seed);
	if ((err = lw_mat_init(out, n, lw_rkme_dim(r))) < 0)
		return err;
	if ((err = draw_candidates(&cand, r, count, &rng)) < 0)
		goto done;
	fs = lw__mallocarray(count, sizeof(double));
	penalty = lw__mallocarray(count, sizeof(double));
	scratch = lw__mallocarray(count, sizeof(double));
	if (!fs || !penalty || !scratch) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = embedding_at(fs, r, &cand)) < 0)
		goto done;
	herd_greedy(out, &cand, fs, penalty, scratch, r->gamma);
done:
	if (err < 0)
		lw_mat_dispose(out);
	lw_mat_dispose(&cand);
	free(fs);
	free(penalty);
	free(scratch);
	return err;
}
