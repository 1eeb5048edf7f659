/*
 * lw_model_open: one entry point for every model kind.  In-process kinds
 * (linear, logistic, mlp, xgboost) read files that came from strangers, so
 * a dock runs them in the sandbox too, through `learnware model-serve`.
 */
#define _POSIX_C_SOURCE 200809L
#include <libgen.h>
#include <stdio.h>
#include <string.h>

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
	return lw__model_open_sandboxed(out, src->kind, label, argv, &opts, limits);
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
