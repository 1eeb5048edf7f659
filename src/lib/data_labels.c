/*
 * Tables with a target column: the features through the ordinary readers
 * (with the target dropped), the target as text (CSV labels such as "A"
 * or "libs") or as numbers.  The file is read once and parsed twice.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "data.h"
#include "data_labels.h"
#include "util.h"

/* Files are held in memory whole; the cell limit bounds the rest. */
#define MAX_FILE_BYTES ((size_t)1 << 40)

typedef struct {
	const char *path, *target;
	char *text;     /* CSV: n NUL-terminated cells */
	size_t *lines;  /* CSV: their line numbers */
	double *values; /* raw matrix: the target values */
	size_t n, col;
} target_column;

static void target_dispose(target_column *t)
{
	free(t->text);
	free(t->lines);
	free(t->values);
}

/* A raw matrix has no names: the target is a column number. */
static int raw_target(target_column *t, const char *buf, size_t len, const lw_data_options *o)
{
	lw_data_options one = *o;
	lw_mat col = LW_MAT_INIT;
	int err;

	if (strspn(t->target, "0123456789") != strlen(t->target) || !*t->target) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: a raw matrix has no column names; give the "
			     "target as a 1-based column number, not '%s'", t->path, t->target);
		return LW_ENOTFOUND;
	}
	one.columns = t->target;
	one.drop = NULL;
	if ((err = lw_data__parse_raw(&col, (const unsigned char *)buf, len, t->path, &one, NULL)) < 0)
		return err;
	t->values = col.data;
	t->n = col.rows;
	t->col = (size_t)strtoull(t->target, NULL, 10) - 1;
	return 0;
}

/* The column selector names its option "--columns"; here the user gave --target. */
static void name_target_option(void)
{
	const char *m = lw_error_last()->message, *at = strstr(m, ": --columns ");
	char fixed[1024];

	if (!at)
		return;
	snprintf(fixed, sizeof(fixed), "%.*s: --target %s", (int)(at - m), m, at + strlen(": --columns "));
	lw_error_set(LW_ERRCLASS_DATA, "%s", fixed);
}

static int read_column(target_column *t, const char *buf, size_t len, const lw_data_options *o)
{
	int err;

	if (lw_data__is_raw(buf, len))
		return raw_target(t, buf, len, o);
	err = lw_data__csv_column_text(&t->text, &t->lines, &t->n, &t->col, buf, len, t->path,
				       t->target, o);
	if (err == LW_ENOTFOUND || err == LW_EINVALID)
		name_target_option();
	return err;
}

/* The features: the caller's selection less the target column. */
static int read_features(lw_mat *X, char ***names, const target_column *t, const char *buf,
			 size_t len, const lw_data_options *o)
{
	lw_data_options fo = *o;
	size_t cap = (o->drop ? strlen(o->drop) : 0) + 32;
	char *drop = lw__mallocarray(cap, 1);
	int err;

	if (!drop)
		return LW_ENOMEM;
	snprintf(drop, cap, "%s%s%zu", o->drop ? o->drop : "", o->drop ? "," : "", t->col + 1);
	fo.drop = drop;
	err = lw_data_parse(X, names, buf, len, t->path, &fo);
	free(drop);
	if (!err && X->rows != t->n) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: read %zu feature rows but %zu targets", t->path,
			     X->rows, t->n);
		lw_mat_dispose(X);
		err = LW_EINVALID;
	}
	if (err < 0 && names) {
		lw_data_free_names(*names);
		*names = NULL;
	}
	return err;
}

/* Turns the target column into the caller's form (labels or numbers). */
typedef int (*convert_fn)(void *out, const target_column *t);

/* The target first, so its problems are reported before the features'. */
static int read_both(lw_mat *X, char ***names, target_column *t, const char *path,
		     const lw_data_options *opts, convert_fn convert, void *converted)
{
	lw_data_options o;
	char *buf;
	size_t len;
	int err;

	*X = (lw_mat)LW_MAT_INIT;
	if (names)
		*names = NULL;
	if ((err = lw_data__options(&o, opts, path)) < 0 ||
	    (err = lw__read_file(&buf, &len, path, MAX_FILE_BYTES)) < 0)
		return err;
	if ((err = read_column(t, buf, len, &o)) == 0 && (err = convert(converted, t)) == 0)
		err = read_features(X, names, t, buf, len, &o);
	free(buf);
	return err;
}

/* Cell i of a CSV target column, and the start of the next. */
static const char *next_cell(const char *s)
{
	return s + strlen(s) + 1;
}

static int missing_target(const target_column *t, size_t i, const char *cell)
{
	char ex[4 * LW_DATA_EXCERPT + 8];

	lw_data__excerpt(ex, sizeof(ex), cell, strlen(cell));
	if (t->lines)
		lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu: the target '%s' is missing ('%s'); drop "
			     "rows without a target", t->path, t->lines[i], t->target, ex);
	else
		lw_error_set(LW_ERRCLASS_DATA, "%s: data row %zu: the target column %s is NaN; drop "
			     "rows without a target", t->path, i + 1, t->target);
	return LW_EINVALID;
}

/* The labels as one NULL-terminated block (the lw_data_free_names layout). */
static int pack_labels(void *outp, const target_column *t)
{
	size_t bytes = (t->n + 1) * sizeof(char *), tlen;
	const char *s = t->text;
	char num[32], **list, *p;

	for (size_t i = 0; s && i < t->n; i++, s = next_cell(s))
		if (lw_data__is_missing(s, strlen(s)))
			return missing_target(t, i, s);
	for (size_t i = 0; t->values && i < t->n; i++)
		if (isnan(t->values[i]))
			return missing_target(t, i, "NaN");
	tlen = t->text ? (size_t)(s - t->text) : 32 * t->n;
	if (!(list = lw__mallocarray(bytes + tlen, 1)))
		return LW_ENOMEM;
	p = (char *)(list + t->n + 1);
	s = t->text;
	for (size_t i = 0; i < t->n; i++) {
		const char *cell = s ? s : num;
		size_t n;

		if (!s)
			lw__format_double(num, t->values[i]);
		n = strlen(cell) + 1;
		list[i] = memcpy(p, cell, n);
		p += n;
		s = s ? next_cell(s) : NULL;
	}
	list[t->n] = NULL;
	*(char ***)outp = list;
	return 0;
}

int lw_data_read_target(lw_mat *X, char ***colnames_out, char ***labels, const char *path,
			const char *target, const lw_data_options *opts)
{
	target_column t = { path, target, NULL, NULL, NULL, 0, 0 };
	int err;

	LW_ASSERT_ARG(X && labels && path && target);
	*labels = NULL;
	if ((err = read_both(X, colnames_out, &t, path, opts, pack_labels, labels)) < 0) {
		lw_data_free_names(*labels);
		*labels = NULL;
	}
	target_dispose(&t);
	return err;
}

static int not_numeric(const target_column *t, size_t i, const char *cell)
{
	char ex[4 * LW_DATA_EXCERPT + 8];

	lw_data__excerpt(ex, sizeof(ex), cell, strlen(cell));
	lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu: the target '%s' is '%s', not a number; text "
		     "labels need a classification task", t->path, t->lines[i], t->target, ex);
	return LW_EINVALID;
}

static int to_numbers(double *y, const target_column *t)
{
	const char *s = t->text;

	for (size_t i = 0; i < t->n; i++) {
		if (t->values) {
			y[i] = t->values[i];
		} else {
			size_t n = strlen(s), a = strspn(s, " \t");

			while (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t'))
				n--;
			if (lw_data__is_missing(s + a, n - a))
				return missing_target(t, i, s);
			if (lw_data__parse_number(&y[i], s + a, n - a) != 1)
				return not_numeric(t, i, s);
			s = next_cell(s);
		}
		if (isnan(y[i]))
			return missing_target(t, i, "NaN");
		if (!isfinite(y[i])) {
			lw_error_set(LW_ERRCLASS_DATA, "%s: %s %zu: the target '%s' is infinite",
				     t->path, t->lines ? "row" : "data row",
				     t->lines ? t->lines[i] : i + 1, t->target);
			return LW_EINVALID;
		}
	}
	return 0;
}

static int convert_numbers(void *outp, const target_column *t)
{
	double **y = outp;

	if (!(*y = lw__mallocarray(t->n, sizeof(double))))
		return LW_ENOMEM;
	return to_numbers(*y, t);
}

int lw_data_read_xy(lw_mat *X, char ***colnames_out, double **y, const char *path,
		    const char *target, const lw_data_options *opts)
{
	target_column t = { path, target, NULL, NULL, NULL, 0, 0 };
	int err;

	LW_ASSERT_ARG(X && y && path && target);
	*y = NULL;
	if ((err = read_both(X, colnames_out, &t, path, opts, convert_numbers, y)) < 0) {
		free(*y);
		*y = NULL;
	}
	target_dispose(&t);
	return err;
}
