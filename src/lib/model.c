/*
 * What every model kind shares: shape checks around predict, and release.
 */
#include "model.h"

#include <string.h>

#include "util.h"

static const char *const kind_names[] = {
	[LW_MODEL_LINEAR] = "linear",   [LW_MODEL_LOGISTIC] = "logistic",
	[LW_MODEL_MLP] = "mlp",         [LW_MODEL_XGBOOST] = "xgboost",
	[LW_MODEL_PROCESS] = "process", [LW_MODEL_PYTHON] = "python",
};

const char *lw_model_kind_name(lw_model_kind kind)
{
	if ((size_t)kind >= sizeof(kind_names) / sizeof(kind_names[0]))
		return NULL;
	return kind_names[kind];
}

lw_model_kind lw_model_kind_from_name(const char *name)
{
	for (size_t k = 1; name && k < sizeof(kind_names) / sizeof(kind_names[0]); k++)
		if (kind_names[k] && !strcmp(kind_names[k], name))
			return (lw_model_kind)k;
	return 0;
}

int lw__model_new(lw_model **out, lw_model_kind kind, const lw_model_ops *ops, void *impl,
		  size_t input_dim, size_t output_dim)
{
	lw_model *m = lw__calloc(1, sizeof(*m));

	*out = NULL;
	if (!m)
		return LW_ENOMEM;
	m->ops = ops;
	m->kind = kind;
	m->impl = impl;
	m->input_dim = input_dim;
	m->output_dim = output_dim;
	*out = m;
	return 0;
}

lw_model_kind lw_model_kind_of(const lw_model *m)
{
	return m->kind;
}

size_t lw_model_input_dim(const lw_model *m)
{
	return m->input_dim;
}

size_t lw_model_output_dim(const lw_model *m)
{
	return m->output_dim;
}

int lw_model_predict(lw_mat *out, lw_model *m, const lw_mat *X)
{
	int err;

	LW_ASSERT_ARG(out && m && X);
	out->rows = out->cols = 0;
	out->data = NULL;
	if (m->input_dim && X->cols != m->input_dim) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s model expects %zu input columns, got %zu",
			     lw_model_kind_name(m->kind), m->input_dim, X->cols);
		return LW_EINVALID;
	}
	if ((err = m->ops->predict(m, out, X)) < 0)
		return err;
	if (out->rows != X->rows || (m->output_dim && out->cols != m->output_dim)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s model returned %zu x %zu for %zu rows (expected %zu columns)",
			     lw_model_kind_name(m->kind), out->rows, out->cols, X->rows, m->output_dim);
		lw_mat_dispose(out);
		return LW_EINVALID;
	}
	return 0;
}

int lw_model_save(const lw_model *m, const char *path)
{
	LW_ASSERT_ARG(m && path);
	if (!m->ops->save) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s models cannot be saved to a file",
			     lw_model_kind_name(m->kind));
		return LW_EINVALID;
	}
	return m->ops->save(m, path);
}

void lw_model_free(lw_model *m)
{
	if (!m)
		return;
	if (m->ops && m->ops->free)
		m->ops->free(m);
	free(m->classes);
	free(m);
}
