/*
 * Fuzz the learnware.yaml reader: any bytes must give a manifest or a clean
 * error, and an accepted manifest must write out as YAML that reads back to
 * the same struct.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw.h"
#include "lw/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_model(const lw_manifest_model *a, const lw_manifest_model *b)
{
	if (a->kind != b->kind || !same_str(a->file, b->file) || a->command_len != b->command_len ||
	    !same_str(a->class_name, b->class_name) || !same_str(a->module_path, b->module_path) ||
	    !same_str(a->kwargs_json, b->kwargs_json) || a->input_ndim != b->input_ndim ||
	    a->output_ndim != b->output_ndim ||
	    memcmp(a->input_shape, b->input_shape, sizeof(a->input_shape)) ||
	    memcmp(a->output_shape, b->output_shape, sizeof(a->output_shape)))
		return 0;
	for (size_t i = 0; i < a->command_len; i++)
		if (!same_str(a->command[i], b->command[i]))
			return 0;
	return 1;
}

static int same_manifest(const lw_manifest *a, const lw_manifest *b)
{
	if (!same_str(a->name, b->name) || !same_str(a->id, b->id) || !same_model(&a->model, &b->model) ||
	    a->num_stat_specs != b->num_stat_specs || !same_str(a->semantic_spec, b->semantic_spec) ||
	    a->format_version != b->format_version)
		return 0;
	for (size_t i = 0; i < a->num_stat_specs; i++) {
		const lw_manifest_stat_spec *x = &a->stat_specs[i], *y = &b->stat_specs[i];

		if (!same_str(x->module_path, y->module_path) || !same_str(x->class_name, y->class_name) ||
		    !same_str(x->file_name, y->file_name) || !same_str(x->kwargs_json, y->kwargs_json))
			return 0;
	}
	return 1;
}

/* Relative, normalised, no '..' component. */
static int inside(const char *path)
{
	if (!path || !*path || path[0] == '/')
		return 0;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n + (p[n] == '/');
	}
	return 1;
}

/* A parsed manifest has a kind, its defaults, and the fields its kind needs. */
static void check_invariants(const lw_manifest *m)
{
	const lw_manifest_model *mm = &m->model;

	if (!lw_model_kind_name(mm->kind) || m->format_version != LW_MANIFEST_FORMAT_VERSION)
		abort();
	if (mm->kind == LW_MODEL_PROCESS && (!mm->command || !mm->command_len ||
					     mm->command[mm->command_len]))
		abort();
	if (mm->kind == LW_MODEL_PYTHON && (!mm->class_name || !mm->module_path || !mm->kwargs_json))
		abort();
	if (mm->kind != LW_MODEL_PROCESS && mm->kind != LW_MODEL_PYTHON && !mm->file)
		abort();
	if ((mm->file && !inside(mm->file)) || (mm->module_path && !inside(mm->module_path)) ||
	    (m->semantic_spec && !inside(m->semantic_spec)))
		abort();
	for (size_t i = 0; i < m->num_stat_specs; i++)
		if (!m->stat_specs[i].kwargs_json || !inside(m->stat_specs[i].file_name))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_manifest m, back;
	char *yaml = NULL;

	if (lw_manifest_parse(&m, (const char *)data, size, "fuzz.yaml") != 0) {
		if (m.model.file || m.stat_specs || m.name || m.warnings || !lw_error_last()->message[0])
			abort();
		return 0;
	}
	check_invariants(&m);
	if (lw_manifest_to_yaml(&yaml, &m) != 0)
		abort();
	if (lw_manifest_parse(&back, yaml, strlen(yaml), "fuzz-back.yaml") != 0 ||
	    !same_manifest(&m, &back) || back.num_warnings)
		abort();
	free(yaml);
	lw_manifest_dispose(&back);
	lw_manifest_dispose(&m);
	return 0;
}
