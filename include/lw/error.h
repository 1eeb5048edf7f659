/*
 * learnware dock - error reporting.
 *
 * Fallible functions return an int: 0 on success, LW_ERROR (-1) for a
 * generic failure, or one of the named negative codes below for failures a
 * caller may want to tell apart.  The human-readable detail is kept in a
 * thread-local slot and read with lw_error_last(), which never returns NULL.
 */
#ifndef LW_ERROR_H
#define LW_ERROR_H

#include "common.h"

LW_BEGIN_DECL

/** Return codes. */
enum {
	LW_OK = 0,
	LW_ERROR = -1,     /**< generic failure */
	LW_ENOTFOUND = -3, /**< a file, key or column does not exist */
	LW_EINVALID = -4,  /**< input is malformed or out of range */
	LW_ENOMEM = -5,    /**< out of memory, or a size that overflows */
	LW_EIO = -6,       /**< the operating system refused a read or write */
	LW_ECANCEL = -7,   /**< a progress callback asked to stop */
	LW_EEXISTS = -8    /**< the object exists already (a duplicate learnware, e-mail or token) */
};

/** What part of the system an error comes from. */
typedef enum {
	LW_ERRCLASS_NONE = 0,
	LW_ERRCLASS_NOMEMORY,
	LW_ERRCLASS_OS,      /**< message ends with strerror(errno) */
	LW_ERRCLASS_INVALID, /**< bad argument or bad input data */
	LW_ERRCLASS_DATA,    /**< data file (CSV, raw matrix) */
	LW_ERRCLASS_JSON,    /**< JSON document */
	LW_ERRCLASS_NUMERIC  /**< a numeric routine did not converge */
} lw_error_class;

typedef struct {
	lw_error_class klass;
	const char *message;
} lw_error;

/**
 * The last error set on this thread.  Never NULL: when nothing failed the
 * message is "no error".  The pointer stays valid until the next failing
 * call on the same thread.
 */
LW_EXTERN(const lw_error *) lw_error_last(void);

/** Forget the last error (for callers that handle a failure themselves). */
LW_EXTERN(void) lw_error_clear(void);

/** Set the last error; with LW_ERRCLASS_OS, strerror(errno) is appended. */
LW_EXTERN(void) lw_error_set(lw_error_class klass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

LW_END_DECL

#endif
