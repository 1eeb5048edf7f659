/*
 * What the sandbox shares with the model kinds that run in it.
 */
#ifndef LW_SANDBOX_INTERNAL_H
#define LW_SANDBOX_INTERNAL_H

#include <stddef.h>

#include "lw/sandbox.h"

/*
 * Copy n bytes of untrusted text to dst (n + 1 bytes), NUL-terminated, with
 * invalid UTF-8 and control characters other than newline and tab shown as
 * '?': safe for a terminal, a log line or a JSON string.  Returns the length.
 */
size_t lw__sanitize_text(char *dst, const char *src, size_t n);

#endif
