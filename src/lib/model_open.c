/*
 * lw_model_open: one entry point for every model kind.  In-process kinds
 * (linear, logistic, mlp, xgboost) read files that came from strangers, so
 * a dock runs them in the sandbox too, through `learnware model-serve`.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "model_process.h"
#include "util.h"

/* Where the learnware program's folder appears inside the sandbox. */
#define SERVE_DIR "/run/learnware-bin"

static int in_process_kind(lw_model_kind k)
{
	return k == LW_MODEL_LINEAR || k == LW_MODEL_LOGISTIC || k == LW_MODEL_MLP ||
	       k == LW_MODEL_XGBOOST;
}

static int open_local(lw_model **out, const lw_model_source *src)
{
	char path[4096];
	int err;

	if ((err = lw__model_package_file(src->package_dir, src->file, "model file")) < 0)
		return err;
	snprintf(path, sizeof(path), "%s/%s", src->package_dir, src->file);
	if (src->kind == LW_MODEL_XGBOOST)
		return lw__model_open_xgboost(out, path);
	if ((err = lw__model_open_builtin(out, path)) == 0 && lw_model_kind_of(*out) != src->kind) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s holds a %s model, but the manifest says %s", path,
			     lw_model_kind_name(lw_model_kind_of(*out)), lw_model_kind_name(src->kind));
		lw_model_free(*out);
		*out = NULL;
		return LW_EINVALID;
	}
	return err;
}

/* Class names (one block, NULL-terminated) from a JSON array of strings. */
static char **names_block(const json_t *a)
{
	size_t n = json_array_size(a), bytes = (n + 1) * sizeof(char *);
	char **out, *p;

	for (size_t i = 0; i < n; i++) {
		if (!json_is_string(json_array_get(a, i)))
			return NULL;
		bytes += strlen(json_string_value(json_array_get(a, i))) + 1;
	}
	if (!n || !(out = lw__mallocarray(bytes, 1)))
		return NULL;
	p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		out[i] = strcpy(p, json_string_value(json_array_get(a, i)));
		p += strlen(p) + 1;
	}
	out[n] = NULL;
	return out;
}

/*
 * A served model answers only numbers; its class names stay in its file.
 * Read them with the JSON parser alone (never the kind's own loader, which
 * is what the sandbox keeps away from untrusted files): "classes" of the
 * built-in format, or the learnware_classes attribute of an XGBoost JSON
 * model.  UBJ files and files without names leave the model without them.
 */
static void served_classes(lw_model *m, const lw_model_source *src)
{
	char *path = lw__mallocarray(strlen(src->package_dir) + strlen(src->file) + 2, 1);
	json_t *root = NULL, *a = NULL, *attr;
	const char *text;

	struct stat st;

	if (!path)
		return;
	sprintf(path, "%s/%s", src->package_dir, src->file);
	/* A big file is a big tree model: its names are not worth parsing it whole. */
	if (stat(path, &st) == 0 && st.st_size < ((off_t)64 << 20))
		root = json_load_file(path, 0, NULL);
	free(path);
	if (!root)
		return;
	a = json_object_get(root, "classes");
	attr = json_object_get(json_object_get(json_object_get(root, "learner"), "attributes"),
			       "learnware_classes");
	if (!a && (text = json_string_value(attr))) {
		json_t *list = json_loads(text, 0, NULL);

		m->classes = json_is_array(list) && json_array_size(list) == lw_model_output_dim(m)
				     ? names_block(list) : NULL;
		json_decref(list);
	} else if (json_is_array(a) && json_array_size(a) == lw_model_output_dim(m)) {
		m->classes = names_block(a);
	}
	json_decref(root);
}

/* learnware model-serve --kind K /learnware/FILE, with the program's folder bound read-only. */
static int open_served(lw_model **out, const lw_model_source *src, const lw_model_limits *limits)
{
	char exe_copy[4096], exe_in[4096 + 32], file_in[4096 + 32], label[4200];
	const char *argv[6];
	lw_sandbox_bind bind;
	lw_sandbox_options opts;
	int err;

	if ((err = lw__model_package_file(src->package_dir, src->file, "model file")) < 0)
		return err;
	snprintf(exe_copy, sizeof(exe_copy), "%s", src->serve_exe);
	bind.host = dirname(exe_copy);
	bind.sandbox = SERVE_DIR;
	snprintf(exe_in, sizeof(exe_in), SERVE_DIR "/%s", strrchr(src->serve_exe, '/') ?
		 strrchr(src->serve_exe, '/') + 1 : src->serve_exe);
	snprintf(file_in, sizeof(file_in), LW_SANDBOX_PACKAGE_DIR "/%s", src->file);
	snprintf(label, sizeof(label), "%s model '%s'", lw_model_kind_name(src->kind), src->file);
	argv[0] = exe_in;
	argv[1] = "model-serve";
	argv[2] = "--kind";
	argv[3] = lw_model_kind_name(src->kind);
	argv[4] = file_in;
	argv[5] = NULL;
	lw__model_sandbox_options(&opts, src->package_dir, limits);
#if defined(__SANITIZE_ADDRESS__)
	/* An AddressSanitizer build serves with itself, and its shadow memory
	 * reserves terabytes of address space: RLIMIT_AS would kill it at start.
	 * CPU time, the timeout and the sandbox still apply. */
	opts.memory_bytes = 0;
#endif
	opts.binds = &bind;
	opts.nbinds = 1;
	if ((err = lw__model_open_sandboxed(out, src->kind, label, argv, &opts, limits)) == 0)
		served_classes(*out, src);
	return err;
}

int lw_model_open(lw_model **out, const lw_model_source *src, const lw_model_limits *limits)
{
	LW_ASSERT_ARG(out && src && src->package_dir);
	*out = NULL;
	if (in_process_kind(src->kind)) {
		if (!src->file) {
			lw_error_set(LW_ERRCLASS_INVALID, "a %s model needs a model file",
				     lw_model_kind_name(src->kind));
			return LW_EINVALID;
		}
		return src->serve_exe ? open_served(out, src, limits) : open_local(out, src);
	}
	if (src->kind == LW_MODEL_PROCESS) {
		if (!src->command || !src->command[0]) {
			lw_error_set(LW_ERRCLASS_INVALID, "a process model needs a command");
			return LW_EINVALID;
		}
		return lw__model_open_process(out, src->package_dir, src->command, limits);
	}
	if (src->kind == LW_MODEL_PYTHON)
		return lw__model_open_python(out, src->package_dir, src->module_path, src->class_name,
					     src->kwargs_json, limits);
	lw_error_set(LW_ERRCLASS_INVALID, "unknown model kind %d", (int)src->kind);
	return LW_EINVALID;
}
