/*
 * build_text_encoder: fit the project's text encoder on a corpus and write
 * data/text-encoder.bin (docs/text.md, "Rebuilding").
 *
 *   build/tools/build_text_encoder ../shared/data/debian_descriptions.csv \
 *       -o data/text-encoder.bin
 *
 * Deterministic: the same corpus gives the same bytes on every run, whatever
 * the number of threads (every text is featurised on its own; the sums that
 * cross texts are integer counts, or run in a fixed block order).
 *
 * Steps: read the "text" column; drop repeated texts; count each IDF slot's
 * document frequency; store sqrt(IDF), IDF = ln((1 + N)/(1 + df)) + 1, in
 * one byte (steps of the largest value / 255); project every text
 * (text_encoder.c) to proj_dim dimensions; take the mean and covariance of
 * the projections and its top out_dim eigenvectors (LAPACK dsyevr); store
 * them as binary16.  The defaults are the shipped encoder's; docs/text.md
 * says how they were chosen.
 */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <errno.h>
#include <getopt.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data_labels.h"
#include "lw.h"
#include "lw/text.h"
#include "sha256.h"
#include "text_encoder.h"
#include "text_family.h"
#include "util.h"

#define BLOCK 2048

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "build_text_encoder: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

/* One CSV column as an array of pointers into a block of strings. */
static char **column(char **block, size_t *n, const char *buf, size_t len, const char *path,
		     const char *name)
{
	size_t *lines = NULL, col;
	char **v, *s;

	if (lw_data__csv_column_text(block, &lines, n, &col, buf, len, path, name, NULL) < 0)
		die(path);
	free(lines);
	if (!(v = malloc(*n * sizeof(*v))))
		exit(1);
	s = *block;
	for (size_t i = 0; i < *n; i++) {
		v[i] = s;
		s += strlen(s) + 1;
	}
	return v;
}

static const char **sort_base;

static int by_text(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sort_base[x], sort_base[y]);

	return c ? c : (x > y) - (x < y);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void putf(unsigned char *p, float f)
{
	uint32_t v;

	memcpy(&v, &f, sizeof(v));
	put32(p, v);
}

static const char usage[] =
	"usage: build_text_encoder CORPUS.csv -o OUT.bin [options]\n"
	"\n"
	"  --column NAME      the text column (default text)\n"
	"  --holdout          leave out the held-out fifth of package families\n"
	"                     (tools/text_family.h; for eval_text_encoder)\n"
	"  --idf-log2 N       IDF table of 2^N slots (18)\n"
	"  --proj-dim N       random projection dimension (1024)\n"
	"  --out-dim N        output dimension (256)\n"
	"  --nnz N            non-zeros per feature in the projection (8)\n"
	"  --char-min N, --char-max N   character n-gram lengths (3, 5; max 0: none)\n"
	"  --word-max N       1: words only, 2: and word bigrams (1)\n"
	"  --word-weight W, --char-weight W   weights of the two groups (1, 1)\n"
	"  --alpha A          scale component j by eigenvalue_j^-A (0)\n"
	"  --idf-power P      store IDF^P (0.5)\n"
	"  --seed N           feature hash seed (1)\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },      { "column", required_argument, NULL, 'c' },
		{ "holdout", no_argument, NULL, 'H' },           { "idf-log2", required_argument, NULL, 1 },
		{ "proj-dim", required_argument, NULL, 2 },      { "out-dim", required_argument, NULL, 3 },
		{ "nnz", required_argument, NULL, 4 },           { "char-min", required_argument, NULL, 5 },
		{ "char-max", required_argument, NULL, 6 },      { "word-max", required_argument, NULL, 7 },
		{ "word-weight", required_argument, NULL, 8 },   { "char-weight", required_argument, NULL, 9 },
		{ "alpha", required_argument, NULL, 10 },        { "seed", required_argument, NULL, 11 },
		{ "idf-power", required_argument, NULL, 12 },
		{ "help", no_argument, NULL, 'h' },              { NULL, 0, NULL, 0 }
	};
	lw__text_params p = { 18, 1024, 256, 8, 3, 5, 1, 1, 1.0f / 16, 1.0f, 1.0f };
	const char *out_path = NULL, *colname = "text", *corpus;
	double alpha = 0, idf_power = 0.5, t0 = now();
	int holdout = 0, c;
	char *buf, *text_block = NULL, *pkg_block = NULL, corpus_hex[65];
	char **texts, **pkgs = NULL;
	size_t len, n, n_pkg, *order, m = 0;
	uint8_t corpus_digest[32];
	lw__sha256 ctx;

	while ((c = getopt_long(argc, argv, "o:c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out_path = optarg; break;
		case 'c': colname = optarg; break;
		case 'H': holdout = 1; break;
		case 1: p.idf_log2 = (uint32_t)atoi(optarg); break;
		case 2: p.proj_dim = (uint32_t)atoi(optarg); break;
		case 3: p.out_dim = (uint32_t)atoi(optarg); break;
		case 4: p.proj_nnz = (uint32_t)atoi(optarg); break;
		case 5: p.char_min = (uint32_t)atoi(optarg); break;
		case 6: p.char_max = (uint32_t)atoi(optarg); break;
		case 7: p.word_max = (uint32_t)atoi(optarg); break;
		case 8: p.word_weight = strtof(optarg, NULL); break;
		case 9: p.char_weight = strtof(optarg, NULL); break;
		case 10: alpha = strtod(optarg, NULL); break;
		case 11: p.seed = strtoull(optarg, NULL, 10); break;
		case 12: idf_power = strtod(optarg, NULL); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind != argc - 1 || !out_path) {
		fputs(usage, stderr);
		return 2;
	}
	corpus = argv[optind];
	/* One BLAS thread: dsyevr is ten times slower threaded, and the sums keep one order. */
	openblas_set_num_threads(1);
	if (lw__read_file(&buf, &len, corpus, (size_t)1 << 31) < 0)
		die(corpus);
	lw__sha256_init(&ctx);
	lw__sha256_update(&ctx, buf, len);
	lw__sha256_final(corpus_digest, &ctx);
	lw__sha256_hex(corpus_hex, corpus_digest);
	texts = column(&text_block, &n, buf, len, corpus, colname);
	if (holdout) {
		pkgs = column(&pkg_block, &n_pkg, buf, len, corpus, "package");
		if (n_pkg != n)
			return 1;
	}
	free(buf);

	/* Distinct texts (of the kept families), in sorted order. */
	order = malloc(n * sizeof(*order));
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_base = (const char **)texts;
	qsort(order, n, sizeof(*order), by_text);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(texts[order[m - 1]], texts[order[i]]))
			continue;
		if (pkgs && lw_text_family_heldout(pkgs[order[i]]))
			continue;
		order[m++] = order[i];
	}
	fprintf(stderr, "%s: %zu rows, %zu distinct texts used, sha256 %s (%.1f s)\n", corpus, n, m,
		corpus_hex, now() - t0);

	/* Document frequencies of the IDF slots. */
	size_t slots = (size_t)1 << p.idf_log2;
	uint32_t *df = calloc(slots, sizeof(*df));
	uint8_t *idf = malloc(slots);

#pragma omp parallel
	{
		lw__text_scratch s = { 0 };
		uint32_t *mine = calloc(slots, sizeof(*mine)), *seen = calloc(slots, sizeof(*seen));

#pragma omp for schedule(dynamic, 64)
		for (size_t i = 0; i < m; i++) {
			const char *t = texts[order[i]];

			if (lw__text_featurize(&s, &p, t, strlen(t)) < 0)
				exit(1);
			/* seen[] holds the last document (i + 1) that counted each slot. */
			for (size_t k = 0; k < s.n_word + s.n_chr; k++) {
				uint64_t h = k < s.n_word ? s.word[k].hash : s.chr[k - s.n_word].hash;
				uint32_t slot = lw__text_idf_slot(&p, h);

				if (seen[slot] != (uint32_t)(i + 1)) {
					seen[slot] = (uint32_t)(i + 1);
					mine[slot]++;
				}
			}
		}
#pragma omp critical(df)
		for (size_t k = 0; k < slots; k++)
			df[k] += mine[k];
		free(mine);
		free(seen);
		lw__text_scratch_dispose(&s);
	}
	{
		size_t used = 0;

		/* Steps of the largest IDF (a slot no text has) / 255. */
		p.idf_step = (float)(pow(log(1.0 + (double)m) + 1, idf_power) / 255);
		for (size_t k = 0; k < slots; k++) {
			double v = pow(log((1.0 + (double)m) / (1.0 + df[k])) + 1, idf_power);
			long q = lround(v / p.idf_step);

			idf[k] = (uint8_t)(q < 1 ? 1 : q > 255 ? 255 : q);
			used += df[k] > 0;
		}
		fprintf(stderr, "IDF: %zu of %zu slots seen (%.1f s)\n", used, slots, now() - t0);
	}

	/* Mean and covariance of the projections, a block of texts at a time. */
	size_t D = p.proj_dim, K = p.out_dim;
	double *X = malloc(BLOCK * D * sizeof(double)), *C = calloc(D * D, sizeof(double)),
	       *mean = calloc(D, sizeof(double)), *w = malloc(D * sizeof(double)),
	       *Z = malloc(D * K * sizeof(double));

	for (size_t b0 = 0; b0 < m; b0 += BLOCK) {
		size_t rows = m - b0 < BLOCK ? m - b0 : BLOCK;

#pragma omp parallel
		{
			lw__text_scratch s = { 0 };

#pragma omp for schedule(dynamic, 16)
			for (size_t r = 0; r < rows; r++) {
				const char *t = texts[order[b0 + r]];

				if (lw__text_featurize(&s, &p, t, strlen(t)) < 0)
					exit(1);
				lw__text_project(X + r * D, &p, idf, &s);
			}
			lw__text_scratch_dispose(&s);
		}
		for (size_t r = 0; r < rows; r++)
			for (size_t j = 0; j < D; j++)
				mean[j] += X[r * D + j];
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)D, (int)rows, 1.0, X, (int)D, 1.0,
			    C, (int)D);
	}
	for (size_t j = 0; j < D; j++)
		mean[j] /= (double)m;
	for (size_t i = 0; i < D; i++)
		for (size_t j = i; j < D; j++)
			C[i * D + j] = C[i * D + j] / (double)m - mean[i] * mean[j];
	double total = 0;

	for (size_t j = 0; j < D; j++)
		total += C[j * D + j];
	fprintf(stderr, "covariance %zu x %zu (%.1f s)\n", D, D, now() - t0);

	{
		lapack_int found, *isuppz = malloc(2 * K * sizeof(lapack_int));
		lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)D, C,
						 (lapack_int)D, 0, 0, (lapack_int)(D - K + 1),
						 (lapack_int)D, 0, &found, w, Z, (lapack_int)K, isuppz);

		if (info != 0 || (size_t)found != K) {
			fprintf(stderr, "build_text_encoder: dsyevr failed (%d)\n", (int)info);
			return 1;
		}
		free(isuppz);
	}
	/* Columns of Z come in ascending eigenvalue order: reverse, fix signs, scale. */
	double *W = malloc(D * K * sizeof(double)), top = 0, kept = 0;

	for (size_t k = 0; k < K; k++) {
		size_t src = K - 1 - k, arg = 0;
		double lam = w[src] > 1e-12 ? w[src] : 1e-12, scale;

		kept += w[src];
		for (size_t i = 1; i < D; i++)
			if (fabs(Z[i * K + src]) > fabs(Z[arg * K + src]))
				arg = i;
		scale = pow(lam, -alpha) * (Z[arg * K + src] < 0 ? -1 : 1);
		for (size_t i = 0; i < D; i++) {
			W[i * K + k] = Z[i * K + src] * scale;
			if (fabs(W[i * K + k]) > top)
				top = fabs(W[i * K + k]);
		}
	}
	/* The output is L2-normalised, so a common factor is free: use binary16's range well. */
	for (size_t i = 0; i < D * K; i++)
		W[i] /= top;
	fprintf(stderr, "SVD: top %zu eigenvalues %.4g .. %.4g, %.1f%% of the variance (%.1f s)\n", K,
		w[K - 1], w[0], 100 * kept / total, now() - t0);

	/* The file. */
	size_t size = lw__text_file_size(&p);
	unsigned char *f = calloc(size, 1), *q;

	memcpy(f, LW_TEXT_MAGIC, 8);
	put32(f + 8, LW_TEXT_FORMAT);
	put32(f + 12, LW_TEXT_HEADER);
	snprintf((char *)f + 16, LW_TEXT_NAME_SIZE, "%s", LW_TEXT_ENCODER_NAME);
	put32(f + 64, LW_TEXT_ENCODER_VERSION);
	put32(f + 68, p.idf_log2);
	put32(f + 72, p.proj_dim);
	put32(f + 76, p.out_dim);
	put32(f + 80, p.proj_nnz);
	put32(f + 84, p.char_min);
	put32(f + 88, p.char_max);
	put32(f + 92, p.word_max);
	put32(f + 96, (uint32_t)p.seed);
	put32(f + 100, (uint32_t)(p.seed >> 32));
	putf(f + 104, p.idf_step);
	putf(f + 108, p.word_weight);
	putf(f + 112, p.char_weight);
	put32(f + 116, (uint32_t)m);
	memcpy(f + 120, corpus_digest, 32);
	q = f + LW_TEXT_HEADER;
	memcpy(q, idf, slots);
	q += slots;
	for (size_t j = 0; j < D; j++, q += 4)
		putf(q, (float)mean[j]);
	for (size_t i = 0; i < D * K; i++, q += 2) {
		uint16_t h = lw__half_from_float((float)W[i]);

		q[0] = (unsigned char)h;
		q[1] = (unsigned char)(h >> 8);
	}
	lw__sha256_init(&ctx);
	lw__sha256_update(&ctx, f, size - 32);
	lw__sha256_final(f + size - 32, &ctx);
	{
		FILE *out = fopen(out_path, "wb");
		char hex[65];

		if (!out || fwrite(f, 1, size, out) != size || fclose(out) != 0) {
			fprintf(stderr, "build_text_encoder: %s: %s\n", out_path, strerror(errno));
			return 1;
		}
		lw__sha256_hex(hex, f + size - 32);
		printf("%s: %zu bytes, encoder %s version %d, sha256 %s (%.1f s)\n", out_path, size,
		       LW_TEXT_ENCODER_NAME, LW_TEXT_ENCODER_VERSION, hex, now() - t0);
	}
	free(f);
	free(W);
	free(Z);
	free(w);
	free(mean);
	free(C);
	free(X);
	free(idf);
	free(df);
	free(order);
	free(texts);
	free(text_block);
	free(pkgs);
	free(pkg_block);
	return 0;
}
