/*
 * Internal helpers shared by the library's modules: checked allocation and
 * overflow-checked size arithmetic.  Not part of the public API.
 */
#ifndef LW_UTIL_H
#define LW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lw/error.h"

/* Set an argument error and return -1 when expr is false. */
#define LW_ASSERT_ARG(expr)                                                  \
	do {                                                                 \
		if (!(expr)) {                                               \
			lw_error_set(LW_ERRCLASS_INVALID,                    \
				     "invalid argument: '%s'", #expr);       \
			return LW_EINVALID;                                  \
		}                                                            \
	} while (0)

/* a*b, false on overflow. */
static inline bool lw__mul_ok(size_t *out, size_t a, size_t b)
{
	return !__builtin_mul_overflow(a, b, out);
}

/* Allocate n elements of size sz, zeroed; NULL (and the error set) on overflow or OOM. */
void *lw__calloc(size_t n, size_t sz);
/* Allocate n elements of size sz, uninitialised. */
void *lw__mallocarray(size_t n, size_t sz);
/* Grow p to n elements of size sz. */
void *lw__reallocarray(void *p, size_t n, size_t sz);
/* strdup that sets the error on failure. */
char *lw__strdup(const char *s);

/*
 * Read a whole file into a NUL-terminated buffer (caller frees).  Files over
 * max bytes are refused before anything is allocated.  Errors name the path.
 */
/* lw_error_set(LW_ERRCLASS_INVALID, ...), then LW_EINVALID: one line per refusal. */
int lw__invalid(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int lw__read_file(char **out, size_t *len, const char *path, size_t max);

/*
 * The shortest of "%.15g", "%.16g", "%.17g" that reads back as exactly v
 * (0.1 prints as "0.1", not "0.10000000000000001").  buf needs 32 bytes;
 * returns the length written.
 */
int lw__format_double(char *buf, double v);

/*
 * Streamed atomic write: lw__atomic_open gives a FILE on a temporary name
 * beside path; lw__atomic_close(ok = 1) flushes, fsyncs and renames it over
 * path, (ok = 0) deletes it.  Both free *tmp.
 */
int lw__atomic_open(FILE **f, char **tmp, const char *path);
int lw__atomic_close(FILE *f, char *tmp, const char *path, int ok);

/* Write len bytes to path through a temporary file, fsync and rename. */
int lw__write_file_atomic(const char *path, const char *data, size_t len);

#endif
