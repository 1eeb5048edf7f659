/*
 * Thread-local last-error slot (see include/lw/error.h).
 */
#include "lw/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LW_ERROR_MAX 1024

static _Thread_local char error_buf[LW_ERROR_MAX];
static _Thread_local lw_error last_error = { LW_ERRCLASS_NONE, NULL };

const lw_error *lw_error_last(void)
{
	static const lw_error none = { LW_ERRCLASS_NONE, "no error" };
	return last_error.message ? &last_error : &none;
}

void lw_error_clear(void)
{
	last_error.klass = LW_ERRCLASS_NONE;
	last_error.message = NULL;
}

void lw_error_set(lw_error_class klass, const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(error_buf, sizeof(error_buf), fmt, ap);
	va_end(ap);
	if (len < 0)
		len = 0;
	if ((size_t)len >= sizeof(error_buf))
		len = (int)sizeof(error_buf) - 1;

	if (klass == LW_ERRCLASS_OS && saved_errno != 0)
		snprintf(error_buf + len, sizeof(error_buf) - (size_t)len, ": %s",
			 strerror(saved_errno));

	last_error.klass = klass;
	last_error.message = error_buf;
	errno = saved_errno;
}
