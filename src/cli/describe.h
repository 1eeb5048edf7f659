/*
 * The user's column descriptions, given to search as a file, set into the
 * semantic specification's Input so heterogeneous search can apply.
 */
#ifndef LW_CLI_DESCRIBE_H
#define LW_CLI_DESCRIBE_H

#include <jansson.h>
#include <stddef.h>

/*
 * Set root's Input to {"Dimension": dim, "Description": {...}} from FILE:
 * one description per line in column order; a JSON array of strings; a
 * JSON object keyed "0".."dim-1"; or a JSON object keyed by column names,
 * whose order header_from's header row gives (a CSV of the user's data).
 * Returns 0, or a CLI exit code after printing what is wrong and how to fix it.
 */
int cli_set_input_descriptions(json_t *root, const char *file, const char *header_from, size_t dim);

/*
 * The user's semantic specification for a search: semantic_file (or an
 * empty object), with Name set from name and Input from input_desc; *out
 * NULL when none of them is given.  0, or a CLI exit code (printed).
 */
int cli_search_semantic(json_t **out, const char *semantic_file, const char *name,
			const char *input_desc, const char *header_from, size_t dim);

#endif
