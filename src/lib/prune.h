/*
 * Ensemble pruning: the reference engine's MDEP selection (Wu et al.,
 * "Multi-objective Evolutionary Ensemble Pruning Guided by Margin
 * Distribution", PPSN'22) as its EnsemblePruningReuser runs it, with
 * NSGA-II written here.  Used by the reuse module; docs/prune-align.md
 * describes the objectives, the search and where it departs from the
 * reference.  Not part of the public API.
 */
#ifndef LW_PRUNE_H
#define LW_PRUNE_H

#include <stddef.h>
#include <stdint.h>

#include "lw/matrix.h"

/* Generations the reference runs (EnsemblePruningReuser.fit's maxgen). */
#define LW__PRUNE_MAXGEN 500

/* Smallest population; the reference uses one individual per member. */
#define LW__PRUNE_MIN_POP 20

/* How the objectives are computed. */
typedef enum {
	LW__PRUNE_REGRESSION = 1, /* [MSE of the members' mean, size] */
	LW__PRUNE_BINARY,         /* labels 0/1 as -1/+1: [f1, errors, size] */
	LW__PRUNE_MULTICLASS      /* majority vote: [f1, errors, size] */
} lw__prune_mode;

/*
 * The mode the reference picks: regression unless `classification`;
 * binary when every prediction and every label is 0 or 1; else multiclass.
 */
lw__prune_mode lw__prune_mode_of(const lw_mat *preds, const double *y, int classification);

/*
 * The objectives of one subset, all minimised, without the "at least two
 * members" repair the search applies (a singleton is scored as it is).
 *
 * @param[out] out  2 values (regression) or 3 (classification)
 * @param[out] n_obj  2 or 3; may be NULL
 * @param preds  n rows x m members (see lw__prune_select)
 * @param mask  m bytes, non-zero for a selected member; at least one set
 * @return 0 or LW_EINVALID (bad data, as for lw__prune_select, or an empty mask)
 */
int lw__prune_objectives(double *out, size_t *n_obj, const lw_mat *preds, const double *y,
			 int classification, size_t n_classes, const unsigned char *mask);

/*
 * Choose the members of an ensemble from their predictions on labelled
 * validation rows.
 *
 * @param[out] selected  the chosen members' column indices, ascending;
 *        the caller frees it with free()
 * @param[out] count  how many (>= 2 when m >= 2, as in the reference)
 * @param preds  n rows x m members: regression outputs, or class indices
 *        0..n_classes-1 stored as doubles
 * @param y  n labels (targets, or class indices as doubles)
 * @param classification  0 for regression
 * @param n_classes  number of classes, or 0 for the largest index + 1
 *        (ignored for regression)
 * @param seed  seeds every random choice: the same inputs and seed give
 *        the same selection
 * @param maxgen  generations (LW__PRUNE_MAXGEN in the reference); 0 keeps
 *        the best of the first population
 * @return 0, LW_EINVALID (no rows or members, a non-finite value, a class
 *         index that is not an integer in range; the message names the
 *         row and column) or LW_ENOMEM
 */
int lw__prune_select(size_t **selected, size_t *count, const lw_mat *preds, const double *y,
		     int classification, size_t n_classes, uint64_t seed, size_t maxgen);

#endif
