/*
 * learnware dock - the checker: is a learnware usable?
 *
 * The checks of the reference engine (semantic, statistical, and the model
 * run on generated inputs), every step timed and logged in lines a person
 * can read, and every model run sandboxed with time and memory limits, so
 * a hostile learnware fails its check without harming the checker.
 */
#ifndef LW_CHECK_H
#define LW_CHECK_H

#include "common.h"
#include "model.h"

LW_BEGIN_DECL

/** The reference's statuses: invalid -1, not usable 0, usable 1. */
typedef enum {
	LW_CHECK_INVALID = -1,
	LW_CHECK_NONUSABLE = 0,
	LW_CHECK_USABLE = 1
} lw_check_status;

/** "invalid", "nonusable" or "usable". */
LW_EXTERN(const char *) lw_check_status_name(lw_check_status s);

typedef struct {
	unsigned int version;
	lw_model_limits limits;  /**< for every model step (start-up and predict) */
	size_t sample_rows;      /**< generated rows the model must predict (10) */
	uint64_t seed;           /**< seed of the generated rows (0) */
	const char *serve_exe;   /**< the learnware program, to sandbox in-process kinds; NULL: in-process */
	const char *work_dir;    /**< where a zip is extracted (a fresh folder under $TMPDIR) */
} lw_check_options;

#define LW_CHECK_OPTIONS_VERSION 1
#define LW_CHECK_OPTIONS_INIT \
	{ LW_CHECK_OPTIONS_VERSION, LW_MODEL_LIMITS_INIT, 10, 0, NULL, NULL }

/** The log of one check: one line per step, in order. */
typedef struct lw_check_log lw_check_log;

LW_EXTERN(size_t) lw_check_log_count(const lw_check_log *log);
LW_EXTERN(const char *) lw_check_log_line(const lw_check_log *log, size_t i);
/** All lines joined with newlines. */
LW_EXTERN(const char *) lw_check_log_text(const lw_check_log *log);
LW_EXTERN(void) lw_check_log_free(lw_check_log *log);

/**
 * Check a learnware zip or unpacked folder.  A failing learnware is not an
 * error: the function returns 0 with *status INVALID and the reason in the
 * log.  Errors are for the checker itself (out of memory, no work folder).
 */
LW_EXTERN(int) lw_check(lw_check_status *status, lw_check_log **log, const char *path,
			const lw_check_options *opts);

LW_END_DECL

#endif
