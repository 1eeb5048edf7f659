/*
 * The python kind: a reference-format learnware (a class with predict in
 * the package's module) run by the shipped shim, learnware_shim.py, with
 * Debian's /usr/bin/python3 as a process model in the sandbox.  The
 * reference needs a conda environment per learnware; here the host's
 * Python with numpy and scikit-learn serves them all.
 */
#define _POSIX_C_SOURCE 200809L
#include "model.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model_process.h"
#include "util.h"

#define PYTHON "/usr/bin/python3"
#define SHIM_NAME "learnware_shim.py"
#define SHIM_IN_SANDBOX "/run/learnware/" SHIM_NAME

#ifndef LW_SHIM_SOURCE_DIR
#define LW_SHIM_SOURCE_DIR ""
#endif

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The shim: in $LW_SHIM_DIR, else in share/learnware beside the running
 * program's bin/ (the installed layout), else in the source tree. */
static int find_shim(char *buf, size_t cap)
{
	const char *env = getenv("LW_SHIM_DIR");
	char exe[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		snprintf(buf, cap, "%s/%s", env, SHIM_NAME);
		if (is_file(buf))
			return 0;
		lw_error_set(LW_ERRCLASS_INVALID, "LW_SHIM_DIR is %s, which holds no %s", env,
			     SHIM_NAME);
		return LW_ENOTFOUND;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) > 0) {
		char *slash;

		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		snprintf(buf, cap, "%s/../share/learnware/%s", exe, SHIM_NAME);
		if (is_file(buf))
			return 0;
	}
	snprintf(buf, cap, "%s/%s", LW_SHIM_SOURCE_DIR, SHIM_NAME);
	if (LW_SHIM_SOURCE_DIR[0] && is_file(buf))
		return 0;
	lw_error_set(LW_ERRCLASS_INVALID, "cannot find %s: set LW_SHIM_DIR to the folder holding "
		     "it (share/learnware where the dock is installed)", SHIM_NAME);
	return LW_ENOTFOUND;
}

static int check_class_name(const char *name)
{
	bool ok = *name && !(*name >= '0' && *name <= '9');

	for (const char *c = name; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		     (*c >= '0' && *c <= '9') || *c == '_';
	if (!ok) {
		lw_error_set(LW_ERRCLASS_INVALID, "python model class_name '%s' is not a Python "
			     "identifier", name);
		return LW_EINVALID;
	}
	return 0;
}

static int check_kwargs(const char *kwargs_json)
{
	json_error_t jerr;
	json_t *j = json_loads(kwargs_json, 0, &jerr);
	bool ok = j && json_is_object(j);

	json_decref(j);
	if (!ok) {
		lw_error_set(LW_ERRCLASS_JSON, "python model kwargs must be a JSON object: %s",
			     j ? "got another JSON value" : jerr.text);
		return LW_EINVALID;
	}
	return 0;
}

static int check_python(void)
{
	if (access(PYTHON, X_OK) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "python models need Debian's %s (apt-get install "
			     "python3 python3-numpy)", PYTHON);
		return LW_ENOTFOUND;
	}
	return 0;
}

static int start(lw_model **out, const char *package_dir, const char *shim,
		 const char *module_path, const char *class_name, const char *kwargs_json,
		 const lw_model_limits *limits)
{
	/* -I: no user site, no PYTHON* variables, no script folder on sys.path;
	 * -B: the package is read-only anyway; faulthandler: a crash in native
	 * code leaves a traceback on stderr; no_debug_ranges: no ^^^ lines
	 * crowding the stderr tail */
	const char *argv[] = { PYTHON, "-I", "-B", "-X", "faulthandler", "-X", "no_debug_ranges",
			       SHIM_IN_SANDBOX, LW_SANDBOX_PACKAGE_DIR, module_path, class_name,
			       kwargs_json, NULL };
	lw_sandbox_bind bind = { shim, SHIM_IN_SANDBOX };
	lw_sandbox_options opts;
	char label[300];

	lw__model_sandbox_options(&opts, package_dir, limits);
	opts.binds = &bind;
	opts.nbinds = 1;
	snprintf(label, sizeof(label), "python model '%s' (%s)", class_name, module_path);
	return lw__model_open_sandboxed(out, LW_MODEL_PYTHON, label, argv, &opts, limits);
}

int lw__model_open_python(lw_model **out, const char *package_dir, const char *module_path,
			  const char *class_name, const char *kwargs_json,
			  const lw_model_limits *limits)
{
	char shim[PATH_MAX + 64];
	int rc;

	LW_ASSERT_ARG(out && package_dir);
	*out = NULL;
	module_path = module_path ? module_path : "__init__.py";
	class_name = class_name ? class_name : "Model";
	kwargs_json = kwargs_json ? kwargs_json : "{}";
	if ((rc = check_class_name(class_name)) < 0 || (rc = check_kwargs(kwargs_json)) < 0 ||
	    (rc = lw__model_package_file(package_dir, module_path, "python model module")) < 0 ||
	    (rc = check_python()) < 0 || (rc = find_shim(shim, sizeof(shim))) < 0)
		return rc;
	return start(out, package_dir, shim, module_path, class_name, kwargs_json, limits);
}
