/*
 * The reusers (reuse.c, reuse_selector.c, reuse_augment.c, reuse_json.c):
 * the struct behind lw_reuser and what the files share.  Not public API.
 */
#ifndef LW_REUSE_INTERNAL_H
#define LW_REUSE_INTERNAL_H

#include "lw/reuse.h"

/* Bounds the checks and the file reader apply. */
#define LW__REUSE_MAX_MEMBERS 100000
#define LW__REUSE_MAX_CLASSES 100000

struct lw_reuser {
	lw_reuse_method method;
	lw_task task;
	lw_average_mode average;  /* averaging: never AUTO */
	size_t n_members;
	char **ids;               /* n_members + 1, NULL-terminated, each its own allocation */
	size_t *member_in;        /* each member's declared input width (0: not declared) */
	size_t *member_out;       /* each member's output width */
	size_t input_dim;         /* the user's columns; 0 when not known */
	size_t output_dim;        /* columns predict answers */
	size_t n_classes;         /* classification; 0 for regression */

	/* job selector */
	double *weights;          /* n_members mixture weights */
	lw_model *selector;       /* NULL with one member */
	char *selector_json;      /* the selector as xgboost JSON (NUL-terminated) */
	unsigned int selector_rounds;

	/* ensemble pruning */
	size_t *kept;
	size_t n_kept;

	/* feature augmentation */
	double *fill;             /* input_dim column means for missing cells */
	size_t n_aug;             /* input_dim + the members' output widths */
	size_t n_coef;            /* rows of coef: 1 (ridge) or n_classes (logistic) */
	double *coef;             /* n_coef x n_aug */
	double *intercept;        /* n_coef */
	double penalty;           /* alpha or C */
	double cv_score;
};

/* An empty reuser with room for n members (ids, widths). */
int lw__reuser_alloc(lw_reuser **out, size_t n);

/* Report progress; LW_ECANCEL with the message set when asked to stop. */
int lw__reuse_progress(const lw_reuse_options *o, const char *stage, double done);

/*
 * Predict X with member i of r, checking the answer: X->rows rows of
 * r->member_out[i] finite values, and for a classification label column
 * integers in [0, n_classes).  Failures name the member.
 */
int lw__reuse_member_predict(lw_mat *out, const lw_reuser *r, size_t i,
			     const lw_reuse_member *m, const lw_mat *X);

/* The class member i's output row p says: its argmax, or its label. */
size_t lw__reuse_class_of(const lw_reuser *r, size_t i, const double *p);

/* Job selector (reuse_selector.c): weights, herding, the selector. */
int lw__reuse_selector_fit(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			   const lw_rkme *user_rkme, const lw_reuse_options *o);
/* route[i] = the member row i of X goes to. */
int lw__reuse_selector_route(size_t *route, lw_reuser *r, const lw_mat *X);
/* Members in r's order; X already checked. */
int lw__reuse_selector_predict(lw_mat *out, lw_reuser *r, const lw_reuse_member *members,
			       const lw_mat *X);
/* The selector from its xgboost JSON (takes ownership of json, also on failure). */
int lw__reuse_selector_open(lw_reuser *r, char *json, size_t len, const char *source);

/* Feature augmentation (reuse_augment.c). */
int lw__reuse_augment_fit(lw_reuser *r, const lw_reuse_member *members, const lw_mat *X,
			  const double *y, const lw_reuse_options *o);
int lw__reuse_augment_predict(lw_mat *out, const lw_reuser *r, const lw_reuse_member *members,
			      const lw_mat *X);

/*
 * Ridge with the intercept free and alpha from the grid chosen by exact
 * leave-one-out error (sklearn's RidgeCV): coef gets A->cols values.
 * For tests and for the augmenter.
 */
int lw__ridge_loo(double *coef, double *intercept, double *alpha, double *loo_mse,
		  const lw_mat *A, const double *y, const double *alphas, size_t n_alphas);

#endif
