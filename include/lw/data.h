/*
 * learnware dock - numeric tables from CSV text and raw binary matrices.
 *
 * The readers turn a file into an lw_mat (rows x selected columns) and,
 * optionally, the selected columns' names.  docs/data-formats.md describes
 * both formats in full; the summary:
 *
 * CSV: RFC 4180 quoting, LF or CRLF, optional UTF-8 BOM, ',' ';' or tab
 * (detected), optional header row (detected).  Blank and whitespace-only
 * lines are skipped.  Cells are C-locale numbers (strtod syntax, leading
 * and trailing spaces allowed, "inf"/"Infinity" with a sign give +-Inf,
 * out-of-range values give +-Inf or 0), or one of the missing-value tokens
 * "", NA, N/A, nan, NaN, NULL, null, ? which give NaN.  Any other text in a
 * selected column is an error; columns that are not selected are never
 * parsed, so text columns can be dropped.
 *
 * Raw matrix (all integers little-endian):
 *   offset  0  6 bytes  magic "LWMAT\0"
 *   offset  6  1 byte   format version, 1
 *   offset  7  1 byte   reserved, 0
 *   offset  8  uint64   rows
 *   offset 16  uint64   cols
 *   offset 24  rows*cols IEEE-754 binary64, little-endian, row-major
 * The file size must be exactly 24 + 8*rows*cols.
 *
 * Errors: LW_ENOTFOUND (missing file, unknown column), LW_EIO (the OS
 * refused; errno text appended), LW_EINVALID (malformed content or
 * options, class LW_ERRCLASS_DATA), LW_ENOMEM.  Every message names the
 * file and, for content errors, the row (1-based line number in the file),
 * the column (1-based index and name) and the offending value.
 */
#ifndef LW_DATA_H
#define LW_DATA_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

/** Whether the first CSV row holds column names. */
typedef enum {
	/**
	 * Decide from the content: the first row is a header when it has a
	 * text field (neither a number nor a missing-value token) whose
	 * column holds a number or a missing-value token in the second row,
	 * when every field of the first row is text, or when it is the only
	 * row and has a text field.
	 */
	LW_DATA_HEADER_AUTO = 0,
	LW_DATA_HEADER_YES,
	LW_DATA_HEADER_NO
} lw_data_header;

#define LW_DATA_OPTIONS_VERSION 1

/** Default cap on rows x selected columns: 2e9 cells, 16 GB of doubles. */
#define LW_DATA_MAX_CELLS_DEFAULT ((size_t)2000000000)

typedef struct {
	unsigned int version; /**< LW_DATA_OPTIONS_VERSION */

	/** CSV field separator; 0 detects one of ',' ';' '\t'. */
	char delimiter;

	/** CSV only: whether the first row names the columns. */
	lw_data_header header;

	/**
	 * Columns to read, in this order, or NULL for all: a comma-separated
	 * list of 1-based indices, ranges "2-5" (or "7-" up to the last
	 * column) and names (which need a header).  An item that is all
	 * digits is an index, never a name.  Repeats are read once.
	 */
	const char *columns;

	/** Columns to leave out, same syntax (e.g. the target column). */
	const char *drop;

	/** Refuse tables with more rows x selected columns; 0 = default. */
	size_t max_cells;
} lw_data_options;

#define LW_DATA_OPTIONS_INIT                                                       \
	{ LW_DATA_OPTIONS_VERSION, 0, LW_DATA_HEADER_AUTO, NULL, NULL,             \
	  LW_DATA_MAX_CELLS_DEFAULT }

/**
 * Fill opts with the defaults (same as LW_DATA_OPTIONS_INIT).
 *
 * @param version LW_DATA_OPTIONS_VERSION
 * @return 0, or LW_EINVALID for an unknown version
 */
LW_EXTERN(int) lw_data_options_init(lw_data_options *opts, unsigned int version);

/**
 * Read a table from a file: a raw matrix when the file starts with the raw
 * magic, CSV otherwise.
 *
 * @param[out] out uninitialised matrix; filled on success, zeroed on error
 * @param[out] colnames_out NULL, or where to store the selected columns'
 *        names (NULL-terminated, out->cols entries; free with
 *        lw_data_free_names).  Set to NULL when the source has no names
 *        (CSV without a header, raw matrix).
 * @param path file to read; it appears in every error message
 * @param opts options, or NULL for the defaults
 * @return 0 or a negative LW_E* code
 */
LW_EXTERN(int) lw_data_read(lw_mat *out, char ***colnames_out, const char *path,
			    const lw_data_options *opts);

/** Like lw_data_read, but always as CSV. */
LW_EXTERN(int) lw_data_read_csv(lw_mat *out, char ***colnames_out, const char *path,
				const lw_data_options *opts);

/** Like lw_data_read, but always as a raw matrix (columns by index only). */
LW_EXTERN(int) lw_data_read_raw(lw_mat *out, char ***colnames_out, const char *path,
				const lw_data_options *opts);

/**
 * The in-memory forms of the three readers: parse len bytes at buf (no
 * terminator needed).  name stands for the file in error messages.
 */
LW_EXTERN(int) lw_data_parse(lw_mat *out, char ***colnames_out, const void *buf, size_t len,
			     const char *name, const lw_data_options *opts);
LW_EXTERN(int) lw_data_parse_csv(lw_mat *out, char ***colnames_out, const void *buf,
				 size_t len, const char *name, const lw_data_options *opts);
LW_EXTERN(int) lw_data_parse_raw(lw_mat *out, char ***colnames_out, const void *buf,
				 size_t len, const char *name, const lw_data_options *opts);

/**
 * Write m as a raw matrix file (format above), replacing path.
 *
 * @return 0, LW_ENOTFOUND or LW_EIO (a partial file is removed)
 */
LW_EXTERN(int) lw_data_write_raw(const char *path, const lw_mat *m);

/**
 * Write m as comma-separated text with LF line ends.  Each value is the
 * shortest of "%.15g", "%.16g", "%.17g" that reads back to the same double,
 * so the file round-trips exactly; NaN is written "NaN", infinities
 * "inf"/"-inf".  Names containing ',', '"', a line break or edge spaces are
 * quoted.
 *
 * @param colnames NULL for no header row, else m->cols names
 * @return 0, LW_ENOTFOUND or LW_EIO (a partial file is removed)
 */
LW_EXTERN(int) lw_data_write_csv(const char *path, const lw_mat *m,
				 const char *const *colnames);

/** Free a name list returned by a reader; accepts NULL. */
LW_EXTERN(void) lw_data_free_names(char **names);

/**
 * Read a table for supervised learning: the column `target` (a name or a
 * 1-based index) as text labels, and every other selected column as the
 * features (opts->columns and opts->drop select them; the target is left
 * out even when selected).  Cells are the text as written, unquoted and,
 * unless quoted, trimmed; numeric targets of a raw matrix are written in
 * their shortest exact form.  A missing-value token or empty cell in the
 * target is an error naming its row: rows without a target cannot train.
 *
 * @param[out] X uninitialised; the features on success
 * @param[out] colnames_out NULL, or the features' names as lw_data_read
 * @param[out] labels X->rows labels, NULL-terminated; free with
 *        lw_data_free_names
 * @return 0 or a negative LW_E* code, as lw_data_read
 */
LW_EXTERN(int) lw_data_read_target(lw_mat *X, char ***colnames_out, char ***labels,
				   const char *path, const char *target,
				   const lw_data_options *opts);

/**
 * Like lw_data_read_target for a numeric target: *y (caller frees with
 * free()) receives X->rows finite values.  Text, missing and infinite
 * targets are errors naming the row.
 */
LW_EXTERN(int) lw_data_read_xy(lw_mat *X, char ***colnames_out, double **y, const char *path,
			       const char *target, const lw_data_options *opts);

LW_END_DECL

#endif
