/*
 * Models that run in the sandbox and speak docs/model-protocol.md: the
 * process kind, and the python kind, which is a process running the shim.
 */
#ifndef LW_MODEL_PROCESS_H
#define LW_MODEL_PROCESS_H

#include "lw/sandbox.h"
#include "model.h"

/* Sandbox options for a model of package_dir under limits (NULL: defaults). */
void lw__model_sandbox_options(lw_sandbox_options *out, const char *package_dir,
			       const lw_model_limits *limits);

/*
 * Start argv in the sandbox and wait for its hello; the model then serves
 * predict calls until freed.  label names it in messages ("process model
 * 'bin/model'").
 */
int lw__model_open_sandboxed(lw_model **out, lw_model_kind kind, const char *label,
			     const char *const *argv, const lw_sandbox_options *opts,
			     const lw_model_limits *limits);

/* Check that rel is a relative path inside the package (no "..") naming an
 * existing file; what names it in messages ("program", "module"). */
int lw__model_package_file(const char *package_dir, const char *rel, const char *what);

#endif
