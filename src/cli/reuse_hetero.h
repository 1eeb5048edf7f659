/*
 * learnware reuse over learnwares of other feature spaces: each is aligned
 * to the user's described columns through the dock's heterogeneous map,
 * then averaged or used to augment the user's features (docs/hetero.md).
 */
#ifndef LW_CLI_REUSE_HETERO_H
#define LW_CLI_REUSE_HETERO_H

#include "lw/dock.h"
#include "lw/reuse.h"

typedef struct {
	const char *method;      /* average, feature-augment or average-augment */
	const char *input_desc;  /* the user's column descriptions (describe.h) */
	const char *header_from; /* the CSV whose header names them, or NULL */
	lw_task task;
	size_t n_classes;        /* 0: from the labels, or the learnwares' outputs */
	uint64_t seed;
} cli_hetero_reuse;

/*
 * Predict the user's rows X with the members (opened from d: models and
 * table RKMEs), aligned to X's columns; y: X->rows labels for the
 * augmenting methods, NULL to average.
 */
int cli_reuse_hetero(lw_mat *Y, lw_dock *d, const lw_reuse_member *m, size_t n, const lw_mat *X,
		     const double *y, const cli_hetero_reuse *h);

#endif
