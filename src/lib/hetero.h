/*
 * The hetero map's internals, shared by hetero.c (network and training),
 * hetero_file.c (saved form) and hetero_spec.c, and exposed to the tests
 * (gradient check).
 */
#ifndef LW_HETERO_INTERNAL_H
#define LW_HETERO_INTERNAL_H

#include "lw/hetero.h"

struct lw_hetero_map {
	size_t m, t, hidden, h;  /* embed, token, hidden and output widths */
	double gamma;
	/* the options it was trained with (the saved training record) */
	unsigned int partitions, epochs;
	double overlap, temperature, lr, clip;
	double set_weight, set_temperature, noise;
	size_t batch_sources, batch_rows;
	uint64_t seed, generation;
	size_t sources, rows;    /* training data; 0 when untrained */
	double loss_initial, loss_final;
	double train_seconds;    /* not saved */
	/* parameters, one block; the pointers below look into it */
	size_t n_params;
	double *theta;
	double *Wv, *Wb, *b0;    /* m x t, m x t, t: cell tokens */
	double *W1, *b1;         /* t x hidden, hidden */
	double *W2, *b2;         /* hidden x h, h */
	/* anchors: n_anchors x (m + 2): a column embedding, its pooled mean and std */
	size_t n_anchors;
	double *anchors;
	char id[LW_HETERO_ID_SIZE];
};

/*
 * A batch of views.  View v holds the cells cell_start[v] .. cell_start[v+1]-1,
 * each a standardised value and the index of its column in `cols` (n_cols x
 * m embeddings).  Views with the same row id are positives of each other
 * for the row term.  For the set term (view_set not NULL), view v belongs
 * to set view_set[v] (one table's rows through one column view), and sets
 * with the same set_group (the same table) are positives of each other.
 */
typedef struct {
	size_t n_views, n_cols;
	const size_t *cell_start; /* n_views + 1 */
	const size_t *cell_col;
	const double *cell_val;
	const size_t *view_row;
	const double *cols;
	size_t n_sets;
	const size_t *view_set;   /* n_views, or NULL: no set term */
	const size_t *set_group;  /* n_sets */
} lw__hetero_batch;

/* Allocate a map with its parameter block (weights zero, id unset). */
int lw__hetero_alloc(lw_hetero_map **out, size_t m, size_t t, size_t hidden, size_t h);

/* Point Wv .. b2 into theta. */
void lw__hetero_set_views(lw_hetero_map *map);

/*
 * The pooled statistics of the anchor matching column embedding e (cosine
 * 0.999 or more): *mu and *sd replaced, its index returned; SIZE_MAX and
 * left alone when none matches.
 */
size_t lw__hetero_anchor(const lw_hetero_map *map, const double *e, double *mu, double *sd);

/* Recompute map->id from the saved form. */
int lw__hetero_update_id(lw_hetero_map *map);

/*
 * The batch's contrastive loss (multi-view InfoNCE on cosine similarities
 * at the map's temperature, averaged over views that have a positive) and,
 * when grad is not NULL, its gradient (n_params values, overwritten).
 * *counted receives the number of anchors averaged over (may be NULL).
 */
int lw__hetero_batch_loss(double *loss, double *grad, size_t *counted, const lw_hetero_map *map,
			  const lw__hetero_batch *b);

#endif
