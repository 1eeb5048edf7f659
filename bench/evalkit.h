/*
 * bench/evalkit: what bench_image and bench_text share: the paper's two
 * tables (reuse without labels per user; the user's own model against
 * reuse with n labelled samples), their CSV, the labelled-data curves as
 * SVG, and small helpers (accuracy, reusers, shuffles).
 */
#ifndef LW_BENCH_EVALKIT_H
#define LW_BENCH_EVALKIT_H

#include <stddef.h>
#include <stdint.h>

#include "lw.h"

#define EK_MAX_SIZES 8

/* Reuse without labels (the paper's first table). */
enum { EK_MEAN, EK_BEST, EK_TOP1, EK_JOB, EK_AVG, EK_FREE };
/* With n labelled samples (the paper's curves). */
enum { EK_OWN, EK_PRUNE, EK_AUGMENT, EK_LAB };

extern const char *const ek_free_names[EK_FREE];
extern const char *const ek_lab_names[EK_LAB];

typedef struct {
	const char *name;  /* file stem: <out>/<name>.csv, <out>/<name>-curves.svg */
	const char *title; /* "Fashion-MNIST" */
	size_t n_users;
	size_t n_sizes;
	size_t sizes[EK_MAX_SIZES];
	double (*free_res)[EK_FREE];           /* n_users rows of accuracies */
	double (*lab)[EK_MAX_SIZES][EK_LAB];   /* per user and size: mean over draws; NaN: not run */
	/* The paper's figures to compare with (NaN where it gives none). */
	const char *anchor_name;
	double anchor[EK_FREE];
} ek_results;

/* The name messages start with; set it first. */
extern const char *ek_prog;

/*
 * Run again with OMP_WAIT_POLICY=passive and OPENBLAS_NUM_THREADS=1 unless
 * they are set: both runtimes read them when loaded, and their spinning
 * threads made these benches ten times slower on a busy two-core machine.
 */
void ek_calm_threads(char **argv);

/* "<prog>: <what>: <the library's last error>" and exit 1. */
void ek_die(const char *what);
double ek_now(void);
/* Allocate or exit. */
void *ek_alloc(size_t n, size_t size);
size_t *ek_iota(size_t n);
void ek_shuffle(size_t *idx, size_t n, lw_rng *rng);
/* k distinct values of 0..n-1 in random order. */
void ek_distinct(size_t *out, size_t k, size_t n, lw_rng *rng);
/* The p-quantile (0..1) of v[0..n), which it sorts. */
double ek_pct(double *v, size_t n, double p);
/* mkdir -p. */
void ek_mkdirs(const char *dir);

/* Accuracy of Y (probabilities, argmax; or one column of class indices) against labels y. */
double ek_accuracy(const lw_mat *Y, const double *y);
/* Accuracy of a model on X. */
double ek_model_accuracy(lw_model *m, const lw_mat *X, const double *y);

/*
 * The job selector's settings in both benches.  The reference's (1000
 * herded rows, 2000 boosting rounds at 0.01, patience 300) cost 1-2
 * minutes per user on two cores with 256 or 1024 columns; 200 rows and 20
 * rounds at 0.3 cost about 2 s.
 */
#define EK_HERDING 200
#define EK_SELECTOR_ROUNDS 20
#define EK_SELECTOR_ETA 0.3
#define EK_SELECTOR_PATIENCE 5

/* Options for a classification reuser of `method` with the settings above. */
void ek_reuse_options(lw_reuse_options *o, lw_reuse_method method, size_t n_classes, uint64_t seed);

/*
 * Accuracy on (Xe, ye) of the reuser o describes (method, classification,
 * n_classes, seed) over n members, fitted on Xf with labels yf (NULL
 * without) and user_rkme (may be NULL).
 */
double ek_reuse_accuracy(const lw_reuse_member *mem, size_t n, const lw_reuse_options *o,
			 const lw_mat *Xf, const double *yf, const lw_rkme *user_rkme,
			 const lw_mat *Xe, const double *ye);

void ek_results_init(ek_results *r, size_t n_users, const size_t *sizes, size_t n_sizes);
void ek_results_dispose(ek_results *r);

/* Both tables, means over users with the spread across them, and the paper's figures. */
void ek_print(const ek_results *r);
/* <dir>/<name>.csv (one row per user, method and size) and <dir>/<name>-curves.svg. */
void ek_write(const ek_results *r, const char *dir);

#endif
