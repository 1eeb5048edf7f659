/*
 * eval_text_encoder: how well an encoder separates Debian sections
 * (docs/text.md, "Quality").
 *
 *   build/tools/eval_text_encoder ../shared/data/debian_descriptions.csv \
 *       [--encoder FILE] [--queries N] [--projection]
 *
 * Rows of the held-out fifth of package families (tools/text_family.h) are
 * queries; every other row is the database.  Reported: the section of the
 * nearest database row (cosine) and the majority of the 10 nearest, against
 * the query's section; the mean cosine between queries of one section and
 * of different sections (pairs from different families only); and for text
 * RKMEs of 60-text sets of held-out rows, whether the set nearest in MMD^2
 * to each set comes from the same section, for several gammas.
 *
 * Use build_text_encoder --holdout to build an encoder that never saw the
 * queries, so the figures are honest.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data_labels.h"
#include "lw.h"
#include "lw/text.h"
#include "text_encoder.h"
#include "text_family.h"
#include "util.h"

#define TOPK 10
#define SET_SIZE 60

static void die(const char *what)
{
	fprintf(stderr, "eval_text_encoder: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

static char **column(char **block, size_t *n, const char *buf, size_t len, const char *path,
		     const char *name)
{
	size_t *lines = NULL, col;
	char **v, *s;

	if (lw_data__csv_column_text(block, &lines, n, &col, buf, len, path, name, NULL) < 0)
		die(path);
	free(lines);
	v = malloc(*n * sizeof(*v));
	s = *block;
	for (size_t i = 0; i < *n; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	return v;
}

/* Rows idx[0..n) embedded: the encoder's output, or its normalised projection. */
static void embed(lw_mat *out, const lw_text_encoder *enc, char **texts, const size_t *idx, size_t n,
		  int projection)
{
	const char **t = malloc(n * sizeof(*t));

	for (size_t i = 0; i < n; i++)
		t[i] = texts[idx[i]];
	if (!projection) {
		if (lw_text_encode(out, enc, t, NULL, n) < 0)
			die("encode");
	} else {
		lw_mat_init(out, n, enc->p.proj_dim);
#pragma omp parallel
		{
			lw__text_scratch s = { 0 };

#pragma omp for schedule(dynamic, 16)
			for (size_t i = 0; i < n; i++) {
				lw__text_featurize(&s, &enc->p, t[i], strlen(t[i]));
				lw__text_project(lw_mat_row(out, i), &enc->p, enc->idf, &s);
			}
			lw__text_scratch_dispose(&s);
		}
	}
	free(t);
}

static int section_id(char ***names, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*names)[i], s))
			return (int)i;
	*names = realloc(*names, (*n + 1) * sizeof(**names));
	(*names)[*n] = (char *)s;
	return (int)(*n)++;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "encoder", required_argument, NULL, 'e' },
		{ "queries", required_argument, NULL, 'q' },
		{ "projection", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *enc_path = NULL, *corpus;
	size_t max_q = 3000, len, n, n2, n3;
	int projection = 0, c;
	lw_text_encoder *loaded = NULL;
	const lw_text_encoder *enc;
	char *buf, *b1, *b2, *b3, **texts, **pkgs, **secs, **names = NULL;
	size_t n_names = 0;
	struct timespec t0, t1;

	while ((c = getopt_long(argc, argv, "e:q:p", longopts, NULL)) != -1) {
		if (c == 'e')
			enc_path = optarg;
		else if (c == 'q')
			max_q = strtoul(optarg, NULL, 10);
		else if (c == 'p')
			projection = 1;
		else
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: eval_text_encoder CORPUS.csv [--encoder FILE] [--queries N] "
				"[--projection]\n");
		return 2;
	}
	corpus = argv[optind];
	if (enc_path ? lw_text_encoder_load(&loaded, enc_path) : lw_text_encoder_builtin(&enc))
		die(enc_path ? enc_path : "built-in encoder");
	if (loaded)
		enc = loaded;
	if (lw__read_file(&buf, &len, corpus, (size_t)1 << 31) < 0)
		die(corpus);
	texts = column(&b1, &n, buf, len, corpus, "text");
	pkgs = column(&b2, &n2, buf, len, corpus, "package");
	secs = column(&b3, &n3, buf, len, corpus, "section");
	free(buf);

	int *sec = malloc(n * sizeof(int));
	size_t *train = malloc(n * sizeof(size_t)), *test = malloc(n * sizeof(size_t)), nt = 0, nq = 0;

	for (size_t i = 0; i < n; i++) {
		sec[i] = section_id(&names, &n_names, secs[i]);
		if (lw_text_family_heldout(pkgs[i]))
			test[nq++] = i;
		else
			train[nt++] = i;
	}
	size_t all_test = nq, stride = nq > max_q ? nq / max_q : 1, *q = malloc(nq * sizeof(size_t)), m = 0;

	for (size_t i = 0; i < nq && m < max_q; i += stride)
		q[m++] = test[i];
	nq = m;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	lw_mat T, Q;

	embed(&T, enc, texts, train, nt, projection);
	embed(&Q, enc, texts, q, nq, projection);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("encoder %s (%s), %s dimensions %zu; database %zu rows, %zu of %zu held-out queries; "
	       "embedded in %.1f s\n",
	       lw_text_encoder_name(enc), lw_text_encoder_sha256(enc),
	       projection ? "projection" : "output", T.cols, nt, nq, all_test,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9);

	/* Nearest neighbours, a block of database rows at a time. */
	size_t D = T.cols, B = 4096;
	double *S = malloc(nq * B * sizeof(double)), *best = malloc(nq * TOPK * sizeof(double));
	size_t *arg = malloc(nq * TOPK * sizeof(size_t));

	for (size_t i = 0; i < nq * TOPK; i++) {
		best[i] = -INFINITY;
		arg[i] = 0;
	}
	for (size_t b0 = 0; b0 < nt; b0 += B) {
		size_t rows = nt - b0 < B ? nt - b0 : B;

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)rows, (int)D, 1.0,
			    Q.data, (int)D, T.data + b0 * D, (int)D, 0.0, S, (int)rows);
		for (size_t i = 0; i < nq; i++)
			for (size_t j = 0; j < rows; j++) {
				double v = S[i * rows + j];
				double *bi = best + i * TOPK;
				size_t *ai = arg + i * TOPK, k = TOPK;

				if (v <= bi[TOPK - 1])
					continue;
				while (k > 0 && bi[k - 1] < v) {
					if (k < TOPK) {
						bi[k] = bi[k - 1];
						ai[k] = ai[k - 1];
					}
					k--;
				}
				bi[k] = v;
				ai[k] = train[b0 + j];
			}
	}
	size_t hit1 = 0, hitk = 0, *count = calloc(n_names, sizeof(size_t)), major = 0;

	for (size_t i = 0; i < nq; i++) {
		int want = sec[q[i]];
		size_t votes[TOPK] = { 0 }, top = 0;

		hit1 += sec[arg[i * TOPK]] == want;
		/* Majority of the 10 nearest, ties to the nearer. */
		for (size_t k = 0; k < TOPK; k++)
			for (size_t l = 0; l <= k; l++)
				if (sec[arg[i * TOPK + l]] == sec[arg[i * TOPK + k]]) {
					votes[l]++;
					break;
				}
		for (size_t k = 1; k < TOPK; k++)
			if (votes[k] > votes[top])
				top = k;
		hitk += sec[arg[i * TOPK + top]] == want;
		count[want]++;
	}
	for (size_t s = 0; s < n_names; s++)
		if (count[s] > major)
			major = count[s];
	printf("section of the nearest row: %.1f%%; majority of %d nearest: %.1f%%; most frequent "
	       "section: %.1f%%\n",
	       100.0 * hit1 / nq, TOPK, 100.0 * hitk / nq, 100.0 * major / nq);

	/* Mean cosine within and between sections, pairs of different families. */
	double within = 0, between = 0;
	size_t nw = 0, nb = 0;

	for (size_t i = 0; i < nq; i++) {
		char fi[128];

		lw_text_family(fi, sizeof(fi), pkgs[q[i]]);
		for (size_t j = i + 1; j < nq; j++) {
			char fj[128];
			double d = 0;

			lw_text_family(fj, sizeof(fj), pkgs[q[j]]);
			if (!strcmp(fi, fj))
				continue;
			for (size_t k = 0; k < D; k++)
				d += lw_mat_row(&Q, i)[k] * lw_mat_row(&Q, j)[k];
			if (sec[q[i]] == sec[q[j]]) {
				within += d;
				nw++;
			} else {
				between += d;
				nb++;
			}
		}
	}
	printf("mean cosine: same section %.4f (%zu pairs), different sections %.4f (%zu pairs)\n",
	       within / nw, nw, between / nb, nb);

	/* Set retrieval by MMD^2 between text RKMEs of held-out rows. */
	if (!projection) {
		static const double gammas[] = { 0.1, 1, 5, 20 };
		size_t sets = 0, *set_sec = NULL;
		lw_mat *embs = NULL;
		lw_mat Qall;

		embed(&Qall, enc, texts, test, all_test, 0);
		for (size_t s = 0; s < n_names; s++) {
			size_t *rows = NULL, k = 0;

			for (size_t i = 0; i < all_test; i++)
				if (sec[test[i]] == (int)s) {
					rows = realloc(rows, (k + 1) * sizeof(size_t));
					rows[k++] = i;
				}
			/* Two sets per section with enough rows: even and odd rows. */
			for (size_t h = 0; k >= 2 * SET_SIZE && h < 2; h++) {
				size_t pick[SET_SIZE];

				for (size_t i = 0; i < SET_SIZE; i++)
					pick[i] = rows[(2 * i + h) * (k / (2 * SET_SIZE))];
				embs = realloc(embs, (sets + 1) * sizeof(lw_mat));
				set_sec = realloc(set_sec, (sets + 1) * sizeof(size_t));
				lw_mat_take_rows(&embs[sets], &Qall, pick, SET_SIZE);
				set_sec[sets++] = s;
			}
			free(rows);
		}
		for (size_t g = 0; g < sizeof(gammas) / sizeof(gammas[0]); g++) {
			lw_rkme_options o = LW_RKME_OPTIONS_INIT;
			lw_rkme **r = malloc(sets * sizeof(*r));
			size_t ok = 0;
			double same = 0, diff = 0;
			size_t ns = 0, nd = 0;

			o.gamma = gammas[g];
			for (size_t i = 0; i < sets; i++)
				if (lw_rkme_fit(&r[i], &embs[i], &o) < 0)
					die("rkme");
			for (size_t i = 0; i < sets; i++) {
				double bd = INFINITY;
				size_t bj = 0;

				for (size_t j = 0; j < sets; j++) {
					double d;

					if (i == j)
						continue;
					lw_rkme_dist(&d, r[i], r[j]);
					if (d < bd) {
						bd = d;
						bj = j;
					}
					if (set_sec[i] == set_sec[j]) {
						same += d;
						ns++;
					} else {
						diff += d;
						nd++;
					}
				}
				ok += set_sec[bj] == set_sec[i];
			}
			printf("RKME gamma %g: %zu sets of %d texts in %zu sections; nearest set from the "
			       "same section %.1f%%; mean MMD^2 same %.3g, different %.3g (ratio %.2f)\n",
			       gammas[g], sets, SET_SIZE, sets / 2, 100.0 * ok / sets, same / ns, diff / nd,
			       (diff / nd) / (same / ns));
			for (size_t i = 0; i < sets; i++)
				lw_rkme_free(r[i]);
			free(r);
		}
		for (size_t i = 0; i < sets; i++)
			lw_mat_dispose(&embs[i]);
		free(embs);
		free(set_sec);
		lw_mat_dispose(&Qall);
	}
	lw_mat_dispose(&T);
	lw_mat_dispose(&Q);
	lw_text_encoder_free(loaded);
	return 0;
}
