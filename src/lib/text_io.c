/*
 * Reading texts: one per line, or one column of a CSV file.
 */
#include <string.h>

#include "data_labels.h"
#include "lw/text.h"
#include "util.h"

#define MAX_TEXT_FILE ((size_t)2 << 30)

void lw_text_free_list(char **texts, size_t n)
{
	if (!texts)
		return;
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f')
			return 0;
	return 1;
}

/* Append a copy of s[0..n) to the list. */
static int push(char ***list, size_t *n, size_t *cap, const char *s, size_t len)
{
	char *copy;

	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		char **l = lw__reallocarray(*list, c, sizeof(*l));

		if (!l)
			return LW_ENOMEM;
		*list = l;
		*cap = c;
	}
	if (!(copy = lw__mallocarray(len + 1, 1)))
		return LW_ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	(*list)[(*n)++] = copy;
	return 0;
}

static int read_lines(char ***out, size_t *n_out, const char *buf, size_t len, const char *path)
{
	size_t at = 0, n = 0, cap = 0;
	char **list = NULL;
	int err = 0;

	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		at = 3;
	if (memchr(buf, '\0', len))
		return lw__invalid("%s: has a NUL byte: not a text file", path);
	while (at < len && err == 0) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - buf) : len, stop = end;

		if (stop > at && buf[stop - 1] == '\r')
			stop--;
		if (!blank(buf + at, stop - at))
			err = push(&list, &n, &cap, buf + at, stop - at);
		at = end + 1;
	}
	if (err == 0 && n == 0)
		err = lw__invalid("%s: has no text (every line is blank)", path);
	if (err < 0) {
		lw_text_free_list(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return 0;
}

static int read_column(char ***out, size_t *n_out, const char *buf, size_t len, const char *path,
		       const char *column)
{
	lw_data_options opts = LW_DATA_OPTIONS_INIT;
	char *cells = NULL, **list = NULL;
	size_t *lines = NULL, cells_n = 0, col, n = 0, cap = 0;
	const char *s;
	int err;

	if ((err = lw_data__csv_column_text(&cells, &lines, &cells_n, &col, buf, len, path, column,
					    &opts)) < 0) {
		/* The CSV reader words it for `--columns`: name the text column instead. */
		const char *rest = strstr(lw_error_last()->message, "; the ");

		if (err == LW_ENOTFOUND && rest) {
			char *keep = lw__strdup(rest);

			if (keep)
				lw_error_set(LW_ERRCLASS_DATA, "%s: no text column '%s'%s", path, column, keep);
			free(keep);
		}
		return err;
	}
	s = cells;
	for (size_t i = 0; i < cells_n && err == 0; i++) {
		size_t l = strlen(s);

		if (!blank(s, l))
			err = push(&list, &n, &cap, s, l);
		s += l + 1;
	}
	if (err == 0 && n == 0)
		err = lw__invalid("%s: column %zu has no text", path, col + 1);
	free(cells);
	free(lines);
	if (err < 0) {
		lw_text_free_list(list, n);
		return err;
	}
	*out = list;
	*n_out = n;
	return 0;
}

int lw_text_read(char ***texts, size_t *n, const char *path, const char *column)
{
	char *buf;
	size_t len;
	int err;

	LW_ASSERT_ARG(texts && n && path);
	*texts = NULL;
	*n = 0;
	if ((err = lw__read_file(&buf, &len, path, MAX_TEXT_FILE)) < 0)
		return err;
	err = column ? read_column(texts, n, buf, len, path, column) : read_lines(texts, n, buf, len, path);
	free(buf);
	return err;
}
