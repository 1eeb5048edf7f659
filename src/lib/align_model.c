/*
 * A learnware wrapped to take the user's columns: the alignment map of
 * align.c, then the learnware's own predict.
 */
#include <stdlib.h>

#include "align.h"
#include "lw/reuse.h"
#include "model.h"
#include "util.h"

typedef struct {
	lw__align *map;
	lw_model *inner; /* borrowed */
} aligned;

static int aligned_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	aligned *a = m->impl;
	lw_mat Z;
	int err;

	if ((err = lw__align_apply(&Z, a->map, X)) < 0)
		return err;
	err = lw_model_predict(out, a->inner, &Z);
	lw_mat_dispose(&Z);
	return err;
}

static void aligned_free(lw_model *m)
{
	aligned *a = m->impl;

	if (a)
		lw__align_free(a->map);
	free(a);
}

static const lw_model_ops aligned_ops = { aligned_predict, NULL, aligned_free };

int lw_align_model(lw_model **out, lw_model *learnware, const lw_rkme *learnware_rkme,
		   const lw_rkme *user_rkme, const lw_align_options *opts)
{
	lw_align_options o = LW_ALIGN_OPTIONS_INIT;
	lw__align_options ao = LW__ALIGN_OPTIONS_INIT;
	size_t d_lw = lw_model_input_dim(learnware);
	aligned *a;
	int err;

	LW_ASSERT_ARG(out && learnware && learnware_rkme && user_rkme);
	*out = NULL;
	if (opts)
		o = *opts;
	if (d_lw && lw_rkme_dim(learnware_rkme) != d_lw) {
		lw_error_set(LW_ERRCLASS_INVALID, "the learnware's RKME has %zu columns but its model takes %zu",
			     lw_rkme_dim(learnware_rkme), d_lw);
		return LW_EINVALID;
	}
	ao.hidden = o.hidden;
	ao.epochs = o.epochs;
	ao.lr = o.lr;
	ao.seed = o.seed;
	/* The map is trained under the learnware's own kernel. */
	ao.gamma = learnware_rkme->gamma;
	if (!(a = lw__calloc(1, sizeof(*a))))
		return LW_ENOMEM;
	a->inner = learnware;
	if ((err = lw__align_fit(&a->map, user_rkme, learnware_rkme, &ao)) < 0 ||
	    (err = lw__model_new(out, lw_model_kind_of(learnware), &aligned_ops, a, lw_rkme_dim(user_rkme),
				 lw_model_output_dim(learnware))) < 0) {
		lw__align_free(a->map);
		free(a);
		return err;
	}
	return 0;
}
