/*
 * Column descriptions for `learnware search --input-desc`: the issue's
 * "JSON file, or a header row and a descriptions file", turned into the
 * semantic Input the heterogeneous rules read (docs/hetero.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "describe.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DESC_MAX ((size_t)4 << 20)

static int fail_input(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail_input(const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "learnware: %s: ", file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_INPUT;
}

/* Lines of a text file, trimmed, blank ones skipped: one per column. */
static int from_lines(json_t *desc, const char *file, const char *text, size_t dim)
{
	size_t n = 0;
	const char *p = text;

	while (*p) {
		const char *end = strchr(p, '\n'), *e;
		char key[32];

		if (!end)
			end = p + strlen(p);
		for (e = end; e > p && isspace((unsigned char)e[-1]); e--)
			;
		while (p < e && isspace((unsigned char)*p))
			p++;
		if (e > p) {
			if (n == dim)
				break;
			snprintf(key, sizeof(key), "%zu", n++);
			json_object_set_new(desc, key, json_stringn(p, (size_t)(e - p)));
		}
		p = *end ? end + 1 : end;
	}
	if (n != dim) {
		char detail[96];

		snprintf(detail, sizeof(detail), "%zu lines, but the specification has %zu columns", n, dim);
		return fail_input(file, "%s: give one description per column, in order", detail);
	}
	return 0;
}

/*
 * Column names, in order, from the header of the user's data: the header
 * and the first row are parsed (the row tells the delimiter and that the
 * header is one), not the whole file.
 */
static int header_names(char ***names, size_t *n, const char *path)
{
	lw_data_options o;
	lw_mat m = LW_MAT_INIT;
	char *head = NULL, *line = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "rb");
	int err = 0;

	if (!f) {
		fprintf(stderr, "learnware: cannot open %s\n", path);
		return CLI_EXIT_NOTFOUND;
	}
	for (int i = 0; i < 2 && err == 0; i++) {
		ssize_t got = getline(&line, &cap, f);
		char *grown;

		if (got <= 0)
			break;
		if (!(grown = realloc(head, len + (size_t)got + 1))) {
			err = LW_ENOMEM;
			break;
		}
		head = grown;
		memcpy(head + len, line, (size_t)got);
		len += (size_t)got;
	}
	fclose(f);
	free(line);
	lw_data_options_init(&o, LW_DATA_OPTIONS_VERSION);
	o.header = LW_DATA_HEADER_YES;
	if (err == 0)
		err = lw_data_parse(&m, names, head ? head : "", len, path, &o);
	*n = m.cols;
	lw_mat_dispose(&m);
	free(head);
	if (err < 0)
		return cli_fail(err);
	if (!*names)
		return fail_input(path, "%s", "has no header row to name the columns");
	return 0;
}

static int from_object(json_t *desc, const char *file, json_t *obj, const char *header_from, size_t dim)
{
	char **names = NULL, key[32];
	size_t n = 0;
	const char *k;
	json_t *v;
	int rc = 0;

	if (header_from && (rc = header_names(&names, &n, header_from)) != 0)
		return rc;
	if (names && n != dim) {
		char detail[160];

		snprintf(detail, sizeof(detail), "its header names %zu columns, but the specification has %zu", n, dim);
		lw_data_free_names(names);
		return fail_input(header_from, "%s: give the data the specification was made from", detail);
	}
	json_object_foreach(obj, k, v) {
		char *end;
		unsigned long i = strtoul(k, &end, 10);
		size_t at = dim;

		if (!json_is_string(v)) {
			rc = fail_input(file, "the description of \"%s\" is not a string", k);
			break;
		}
		if (*k && !*end && i < dim) {
			at = i;
		} else {
			for (size_t j = 0; names && j < n; j++)
				if (!strcmp(names[j], k))
					at = j;
		}
		if (at == dim) {
			if (names)
				rc = fail_input(file, "\"%s\" is not a column of the header", k);
			else
				rc = fail_input(file, "\"%s\" is not a column index: name columns with "
						      "--header-from DATA.csv", k);
			break;
		}
		snprintf(key, sizeof(key), "%zu", at);
		json_object_set(desc, key, v);
	}
	lw_data_free_names(names);
	return rc;
}

int cli_set_input_descriptions(json_t *root, const char *file, const char *header_from, size_t dim)
{
	json_t *desc = json_object(), *parsed = NULL;
	char *text = NULL;
	size_t len = 0;
	const char *p;
	int rc = 0;
	FILE *f = fopen(file, "rb");

	if (!f) {
		fprintf(stderr, "learnware: cannot open %s\n", file);
		json_decref(desc);
		return CLI_EXIT_NOTFOUND;
	}
	text = malloc(DESC_MAX + 1);
	if (text)
		len = fread(text, 1, DESC_MAX + 1, f);
	fclose(f);
	if (!text || len > DESC_MAX) {
		free(text);
		json_decref(desc);
		return fail_input(file, "%s", "is over 4 MiB: too large for column descriptions");
	}
	text[len] = '\0';
	for (p = text; isspace((unsigned char)*p); p++)
		;
	if (*p == '{' || *p == '[') {
		json_error_t e;

		if (!(parsed = json_loads(text, 0, &e))) {
			fprintf(stderr, "learnware: %s line %d: %s\n", file, e.line, e.text);
			rc = CLI_EXIT_INPUT;
		} else if (json_is_array(parsed)) {
			if (json_array_size(parsed) != dim)
				rc = fail_input(file, "%s", "the array needs one description per column");
			for (size_t i = 0; rc == 0 && i < dim; i++) {
				char key[32];

				snprintf(key, sizeof(key), "%zu", i);
				if (!json_is_string(json_array_get(parsed, i)))
					rc = fail_input(file, "entry %s of the array is not a string", key);
				else
					json_object_set(desc, key, json_array_get(parsed, i));
			}
		} else {
			rc = from_object(desc, file, parsed, header_from, dim);
		}
	} else {
		rc = from_lines(desc, file, text, dim);
	}
	if (rc == 0)
		json_object_set_new(root, "Input", json_pack("{s:I, s:O}", "Dimension", (json_int_t)dim,
							     "Description", desc));
	json_decref(desc);
	json_decref(parsed);
	free(text);
	return rc;
}

int cli_search_semantic(json_t **out, const char *semantic_file, const char *name,
			const char *input_desc, const char *header_from, size_t dim)
{
	json_t *root = NULL;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (semantic_file) {
		if (!(root = json_load_file(semantic_file, 0, &jerr))) {
			fprintf(stderr, "learnware: %s line %d: %s\n", semantic_file, jerr.line, jerr.text);
			return jerr.line < 1 && strstr(jerr.text, "unable to open") ? CLI_EXIT_NOTFOUND
										: CLI_EXIT_INPUT;
		}
		if (!json_is_object(root)) {
			fprintf(stderr, "learnware: %s: a semantic specification is a JSON object\n",
				semantic_file);
			json_decref(root);
			return CLI_EXIT_INPUT;
		}
	}
	if ((name || input_desc) && !root)
		root = json_object();
	if (name)
		json_object_set_new(root, "Name", json_pack("{s:s, s:s}", "Type", "String", "Values", name));
	if (input_desc) {
		if (!dim)
			rc = cli_usage_error("search", "--input-desc describes the columns of a table --rkme");
		else
			rc = cli_set_input_descriptions(root, input_desc, header_from, dim);
		if (rc != 0) {
			json_decref(root);
			return rc;
		}
	}
	*out = root;
	return 0;
}
