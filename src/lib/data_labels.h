/*
 * One CSV column as text, for reading a target column (data_labels.c);
 * implemented in data_csv.c beside the parser it shares.  Internal.
 */
#ifndef LW_DATA_LABELS_H
#define LW_DATA_LABELS_H

#include <stddef.h>

#include "lw/data.h"

/*
 * The cells of the one column `column` (a name or 1-based index) of every
 * data row, as lw_data_parse_csv would see them (unquoted; trimmed unless
 * quoted).  *text_out holds *n_out NUL-terminated strings back to back,
 * *lines_out their rows' line numbers, *col_out the column's 0-based
 * index; the caller frees text and lines.  Only opts' delimiter, header
 * and max_cells apply.
 */
int lw_data__csv_column_text(char **text_out, size_t **lines_out, size_t *n_out, size_t *col_out,
			     const void *buf, size_t len, const char *name, const char *column,
			     const lw_data_options *opts);

#endif
