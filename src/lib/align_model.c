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

static int wrap(lw_model **out, lw_model *learnware, lw__align *map)
{
	aligned *a = lw__calloc(1, sizeof(*a));
	int err;

	if (!a) {
		lw__align_free(map);
		return LW_ENOMEM;
	}
	a->inner = learnware;
	a->map = map;
	if ((err = lw__model_new(out, lw_model_kind_of(learnware), &aligned_ops, a, map->d_in,
				 lw_model_output_dim(learnware))) < 0)
		aligned_free(&(lw_model){ .impl = a });
	return err;
}

int lw_align_model_map(char **json, const lw_model *wrapped)
{
	LW_ASSERT_ARG(json && wrapped);
	*json = NULL;
	if (wrapped->ops != &aligned_ops) {
		lw_error_set(LW_ERRCLASS_INVALID, "this model is not wrapped by lw_align_model");
		return LW_EINVALID;
	}
	return lw__align_to_text(json, ((const aligned *)wrapped->impl)->map);
}

int lw_align_model_from_map(lw_model **out, lw_model *learnware, const char *json, size_t len)
{
	lw__align *map = NULL;
	size_t d = lw_model_input_dim(learnware);
	int err;

	LW_ASSERT_ARG(out && learnware && json);
	*out = NULL;
	if ((err = lw__align_from_text(&map, json, len, "the alignment map")) < 0)
		return err;
	if (d && map->d_out != d) {
		lw_error_set(LW_ERRCLASS_INVALID, "the alignment map gives %zu columns but the learnware takes %zu",
			     map->d_out, d);
		lw__align_free(map);
		return LW_EINVALID;
	}
	return wrap(out, learnware, map);
}

int lw_align_model(lw_model **out, lw_model *learnware, const lw_rkme *learnware_rkme,
		   const lw_rkme *user_rkme, const lw_align_options *opts)
{
	lw_align_options o = LW_ALIGN_OPTIONS_INIT;
	lw__align_options ao = LW__ALIGN_OPTIONS_INIT;
	size_t d_lw = lw_model_input_dim(learnware);
	lw__align *map = NULL;
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
	if ((err = lw__align_fit(&map, user_rkme, learnware_rkme, &ao)) < 0)
		return err;
	return wrap(out, learnware, map);
}
