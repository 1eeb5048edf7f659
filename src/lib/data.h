/*
 * Internals shared by the data readers (data.c, data_csv.c, data_raw.c)
 * and the fuzz harnesses.  Not part of the public API.
 */
#ifndef LW_DATA_PRIVATE_H
#define LW_DATA_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lw/data.h"

#define LW_RAW_MAGIC "LWMAT\0"
#define LW_RAW_MAGIC_LEN 6
#define LW_RAW_VERSION 1
#define LW_RAW_HEADER_LEN 24

/* Longest excerpt of a value or name quoted in an error message. */
#define LW_DATA_EXCERPT 48

/* The missing-value tokens, NULL-terminated (they read as NaN). */
extern const char *const lw_data__missing_tokens[];

/* Checked copy of the caller's options (defaults for NULL); name is the file. */
int lw_data__options(lw_data_options *out, const lw_data_options *opts, const char *name);

/* Whether s[0..n) is one of lw_data__missing_tokens. */
bool lw_data__is_missing(const char *s, size_t n);

/*
 * Parse s[0..n) as a whole C-locale number (strtod syntax, no surrounding
 * spaces).  Returns 1 and sets *out for a number, 0 for anything else.
 * Plain decimals take an exact fast path; the rest goes to strtod, so the
 * result always equals strtod's.
 */
int lw_data__parse_number(double *out, const char *s, size_t n);

/*
 * Write a printable excerpt of s[0..n) to dst (cap bytes): control bytes
 * as \xNN, cut with "..." past LW_DATA_EXCERPT bytes.
 */
void lw_data__excerpt(char *dst, size_t cap, const char *s, size_t n);

/*
 * Resolve opts->columns and opts->drop for a table of ncols columns.
 * names holds ncols names, or is NULL when the source has none, with
 * why_nameless saying why for the error message.  On success *map_out
 * (caller frees) holds the *k_out selected 0-based source columns in
 * output order; k_out is at least 1.
 */
int lw_data__select(size_t **map_out, size_t *k_out, const char *path, size_t ncols,
		    char *const *names, const char *why_nameless, const lw_data_options *opts);

/* A NULL-terminated copy of names[map[0..k)], freed by lw_data_free_names. */
int lw_data__pick_names(char ***out, char *const *names, const size_t *map, size_t k);

/*
 * Raw reader core.  When owned is non-NULL it is a malloc'd copy of buf
 * that the reader may reuse as the matrix storage (the file readers pass
 * their buffer to avoid a second copy); it is then consumed either way.
 */
int lw_data__parse_raw(lw_mat *out, const unsigned char *buf, size_t len, const char *name,
		       const lw_data_options *opts, unsigned char *owned);

/* Set an LW_ERRCLASS_OS error "<what> '<path>'" and return its code. */
int lw_data__os_error(const char *what, const char *path);

/*
 * Finish a file written through f: close it, report a write error (ok
 * false, ferror or fclose failing) and then remove the partial file.
 */
int lw_data__close_written(FILE *f, const char *path, bool ok);

/* Whether buf starts with the raw magic. */
bool lw_data__is_raw(const void *buf, size_t len);

#endif
