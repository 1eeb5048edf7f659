/*
 * CSV tables: one pass over the whole text, fields located in place and
 * only the selected ones converted, rows appended to a geometrically
 * grown matrix.  The rules are in include/lw/data.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"
#include "data_labels.h"

#include <locale.h>
#include <math.h>
#include <string.h>

#include "lw/error.h"
#include "util.h"

#define NONE SIZE_MAX
#define SNIFF_RECORDS 32

/* One field as it stands in the text, quotes included. */
struct span {
	const char *s, *e;
	size_t line; /* where it starts */
	bool quoted;
};

struct spans {
	struct span *v;
	size_t n, cap;
};

enum cell { CELL_NUMBER, CELL_MISSING, CELL_TEXT };

struct csv {
	const char *name;
	const char *base, *p, *end;
	size_t line;      /* line of p, 1-based */
	char delim;
	char *scratch;    /* unescaped text of a quoted field */
	size_t scratch_cap;

	size_t ncols;      /* fields per record */
	size_t first_line; /* line of the first record (the header, if any) */
	char **names;      /* ncols header names, or NULL */
	size_t *dest;      /* per field: output column, or NONE */
	size_t k;          /* output columns */

	double *data;
	size_t rows, cap, max_rows, max_cells;
};

static const char *delim_name(char d)
{
	return d == '\t' ? "tab" : d == ',' ? "','" : d == ';' ? "';'" : "the delimiter";
}

static size_t count_lines(const char *s, const char *e)
{
	size_t n = 0;

	for (; (s = memchr(s, '\n', (size_t)(e - s))); s++)
		n++;
	return n;
}

/* --- fields ------------------------------------------------------------- */

static int unterminated(const struct csv *c, const struct span *f)
{
	lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu: a quoted field starts here but its closing "
		     "'\"' is missing; close the quote, or double any '\"' inside it", c->name,
		     f->line);
	return LW_EINVALID;
}

/*
 * Locate the field at c->p and step past its terminator.  *last is set when
 * the field ends its record (line end or end of text).
 */
static int scan_field(struct csv *c, struct span *f, bool *last)
{
	const char *p = c->p, *end = c->end, *q = p;

	/* Spaces before an opening quote are layout, not data. */
	while (q < end && (*q == ' ' || *q == '\t') && *q != c->delim)
		q++;
	f->quoted = q < end && *q == '"';
	f->s = f->quoted ? q : p;
	f->line = c->line;
	if (f->quoted) {
		for (p = q + 1;;) {
			const char *close = memchr(p, '"', (size_t)(end - p));

			if (!close)
				return unterminated(c, f);
			c->line += count_lines(p, close);
			p = close + 1;
			if (p == end || *p != '"')
				break;
			p++;
		}
	}
	/* An unquoted field, or whatever follows a closing quote. */
	while (p < end && *p != c->delim && *p != '\n')
		p++;
	f->e = p;
	*last = p == end || *p == '\n';
	if (*last && f->e > f->s && f->e[-1] == '\r')
		f->e--;
	if (p < end && *p == '\n')
		c->line++;
	c->p = p < end ? p + 1 : p;
	return 0;
}

static bool is_blank_char(const struct csv *c, char ch)
{
	return (ch == ' ' || ch == '\t' || ch == '\r') && ch != c->delim;
}

/* Skip blank and whitespace-only lines; false at the end of the text. */
static bool next_record(struct csv *c)
{
	while (c->p < c->end) {
		const char *q = c->p;

		while (q < c->end && is_blank_char(c, *q))
			q++;
		if (q == c->end) {
			c->p = q;
			break;
		}
		if (*q != '\n')
			return true;
		c->p = q + 1;
		c->line++;
	}
	return false;
}

static int read_record(struct csv *c, struct spans *r)
{
	bool last = false;
	int err;

	for (r->n = 0; !last; r->n++) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			struct span *v = lw__reallocarray(r->v, cap, sizeof(*v));

			if (!v)
				return LW_ENOMEM;
			r->v = v;
			r->cap = cap;
		}
		if ((err = scan_field(c, &r->v[r->n], &last)) < 0)
			return err;
	}
	return 0;
}

static inline void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/*
 * Unescape a quoted field into c->scratch: the content between the quotes
 * as written, "" undoubled, plus any text after the closing quote.
 */
static int unquote(struct csv *c, const struct span *f, size_t *n)
{
	const char *p = f->s + 1, *e = f->e, *tail;
	size_t o = 0;

	if ((size_t)(e - p) > c->scratch_cap) {
		char *b = lw__reallocarray(c->scratch, (size_t)(e - p), 1);

		if (!b)
			return LW_ENOMEM;
		c->scratch = b;
		c->scratch_cap = (size_t)(e - p);
	}
	for (; p < e && !(*p == '"' && (p + 1 == e || p[1] != '"')); p++) {
		c->scratch[o++] = *p;
		p += *p == '"';
	}
	tail = p + (p < e);
	trim(&tail, &e);
	memcpy(c->scratch + o, tail, (size_t)(e - tail));
	*n = o + (size_t)(e - tail);
	return 0;
}

/* The value of a field: unquoted, or trimmed when it was not quoted. */
static int field_text(struct csv *c, const struct span *f, const char **s, size_t *n)
{
	const char *e = f->e;
	int err;

	if (f->quoted) {
		if ((err = unquote(c, f, n)) < 0)
			return err;
		*s = c->scratch;
		return 0;
	}
	*s = f->s;
	trim(s, &e);
	*n = (size_t)(e - *s);
	return 0;
}

/* Classify a field and convert it: CELL_* or a negative error. */
static int cell_value(struct csv *c, const struct span *f, double *out)
{
	const char *s, *e;
	size_t n;
	int r;

	if ((r = field_text(c, f, &s, &n)) < 0)
		return r;
	e = s + n;
	if (f->quoted)
		trim(&s, &e); /* as for unquoted cells: " 1.5 " is a number */
	n = (size_t)(e - s);
	if (n && (r = lw_data__parse_number(out, s, n)) != 0)
		return r < 0 ? r : CELL_NUMBER;
	if (lw_data__is_missing(s, n)) {
		*out = NAN;
		return CELL_MISSING;
	}
	return CELL_TEXT;
}

/* --- checks before parsing --------------------------------------------- */

static int check_bytes(const struct csv *c)
{
	const unsigned char *b = (const unsigned char *)c->base;
	size_t len = (size_t)(c->end - c->base);
	const char *nul;

	if (len >= 2 && ((b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff))) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the file is UTF-16 text; save it as UTF-8 CSV",
			     c->name);
		return LW_EINVALID;
	}
	if (!(nul = memchr(c->base, '\0', len)))
		return 0;
	lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu: NUL byte at offset %zu: this is a binary "
		     "file, not CSV text%s", c->name, 1 + count_lines(c->base, nul),
		     (size_t)(nul - c->base),
		     lw_data__is_raw(b, len) ? " (it is a raw matrix: read it with lw_data_read)" : "");
	return LW_EINVALID;
}

/* --- delimiter detection ------------------------------------------------ */

/*
 * Count ',', tab and ';' outside quotes in the first records.  The first
 * candidate (in that order) found the same non-zero number of times in
 * every record wins; failing that, the one most frequent in the first
 * record, so a ragged file is reported against its likely delimiter.
 */
static char detect_delimiter(const struct csv *c)
{
	static const char cand[3] = { ',', '\t', ';' };
	size_t count[SNIFF_RECORDS][3] = { { 0 } }, nrec = 0, best = 3, most = 0;
	bool quoted = false, field_start = true, content = false;

	for (const char *p = c->p; p < c->end && nrec < SNIFF_RECORDS; p++) {
		if (quoted) {
			if (*p == '"' && !(p + 1 < c->end && p[1] == '"'))
				quoted = false;
			else
				p += *p == '"';
			continue;
		}
		if (*p == '\n') {
			nrec += content;
			if (nrec < SNIFF_RECORDS)
				memset(count[nrec], 0, sizeof(count[nrec]));
			field_start = true;
			content = false;
			continue;
		}
		quoted = *p == '"' && field_start;
		field_start &= *p == ' ';
		for (int d = 0; d < 3; d++) {
			if (*p == cand[d]) {
				count[nrec][d]++;
				field_start = true;
			}
		}
		content |= *p != ' ' && *p != '\t' && *p != '\r';
	}
	nrec += content && nrec < SNIFF_RECORDS;
	for (int d = 0; d < 3; d++) {
		size_t r = 1;

		while (r < nrec && count[r][d] == count[0][d])
			r++;
		if (count[0][d] && r == nrec)
			return cand[d];
		if (count[0][d] > most) {
			most = count[0][d];
			best = (size_t)d;
		}
	}
	return best < 3 ? cand[best] : ',';
}

/* --- header ----------------------------------------------------------- */

/* The rule documented at LW_DATA_HEADER_AUTO. */
static int detect_header(struct csv *c, const struct spans *first, const struct spans *second,
			 bool *out)
{
	bool any_text = false, all_text = true, paired = false;
	double v;
	int r;

	for (size_t j = 0; j < first->n; j++) {
		if ((r = cell_value(c, &first->v[j], &v)) < 0)
			return r;
		if (r != CELL_TEXT) {
			all_text = false;
			continue;
		}
		any_text = true;
		if (!second->n) {
			paired = true;
		} else if (j < second->n) {
			if ((r = cell_value(c, &second->v[j], &v)) < 0)
				return r;
			paired |= r != CELL_TEXT;
		}
	}
	*out = any_text && (paired || all_text);
	return 0;
}

static int take_names(struct csv *c, const struct spans *first)
{
	if (!(c->names = lw__calloc(first->n, sizeof(char *))))
		return LW_ENOMEM;
	for (size_t j = 0; j < first->n; j++) {
		const char *s;
		size_t n;
		int err;

		if ((err = field_text(c, &first->v[j], &s, &n)) < 0)
			return err;
		if (!(c->names[j] = lw__mallocarray(n + 1, 1)))
			return LW_ENOMEM;
		memcpy(c->names[j], s, n);
		c->names[j][n] = '\0';
	}
	return 0;
}

/*
 * Read the first record, decide whether it is a header, and leave the
 * cursor on the first data record.
 */
static int read_head(struct csv *c, const lw_data_options *o)
{
	struct spans first = { 0 }, second = { 0 };
	const char *start;
	size_t start_line;
	bool header = o->header == LW_DATA_HEADER_YES;
	int err;

	if (!next_record(c)) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the file is empty: no rows to read", c->name);
		return LW_EINVALID;
	}
	start = c->p;
	start_line = c->first_line = c->line;
	if ((err = read_record(c, &first)) < 0)
		goto done;
	c->ncols = first.n;
	if (o->header == LW_DATA_HEADER_AUTO) {
		const char *p = c->p;
		size_t line = c->line;

		if (next_record(c) && (err = read_record(c, &second)) < 0)
			goto done;
		if ((err = detect_header(c, &first, &second, &header)) < 0)
			goto done;
		c->p = p;
		c->line = line;
	}
	if (header) {
		err = take_names(c, &first);
	} else {
		c->p = start;
		c->line = start_line;
	}
done:
	free(first.v);
	free(second.v);
	return err;
}

/* --- rows --------------------------------------------------------------- */

static int ragged(struct csv *c, size_t line, size_t got)
{
	char where[64];

	snprintf(where, sizeof(where), c->names ? "the header (row %zu)" : "row %zu", c->first_line);
	if (got > c->ncols)
		lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu has %zu fields but %s has %zu; quote "
			     "values that contain %s", c->name, line, got, where, c->ncols,
			     delim_name(c->delim));
	else
		lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu has %zu field%s but %s has %zu; add the "
			     "missing fields (leave them empty for missing values)", c->name, line,
			     got, got == 1 ? "" : "s", where, c->ncols);
	return LW_EINVALID;
}

/* Fields left in the current record (for the ragged-row message). */
static size_t count_rest(struct csv *c, bool last)
{
	struct span f;
	size_t n = 0;

	while (!last && scan_field(c, &f, &last) == 0)
		n++;
	return n;
}

/* "1,5": worth a hint when a CSV comes from a decimal-comma locale. */
static bool looks_like_decimal_comma(const char *s, size_t n)
{
	const char *comma = memchr(s, ',', n);
	size_t i, at;
	double v;

	if (!comma || comma == s)
		return false;
	at = (size_t)(comma - s);
	if (lw_data__parse_number(&v, s, at) != 1)
		return false;
	for (i = at + 1; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	return i == n && i > at + 1;
}

/*
 * Whether the --drop hint can show the name as is: short, safe to paste in
 * a shell, and not read as a column number or range.
 */
static bool name_is_selectable(const char *name)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789_.-";
	size_t n = strlen(name);

	return n && n <= LW_DATA_EXCERPT && strspn(name, safe) == n &&
	       strspn(name, "0123456789-") < n;
}

#define EXCERPT_BUF (4 * LW_DATA_EXCERPT + 8)

static int not_a_number(struct csv *c, const struct span *f, size_t j)
{
	char val[EXCERPT_BUF], name[EXCERPT_BUF] = "", num[24];
	const char *s;
	size_t n;
	int err;

	if ((err = field_text(c, f, &s, &n)) < 0)
		return err;
	lw_data__excerpt(val, sizeof(val), s, n);
	if (c->names)
		lw_data__excerpt(name, sizeof(name), c->names[j], strlen(c->names[j]));
	snprintf(num, sizeof(num), "%zu", j + 1);
	lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu, column %zu%s%s%s: '%s' is not a number%s; "
		     "select numeric columns with --columns or drop this one with --drop %s",
		     c->name, f->line, j + 1, c->names ? " '" : "", name, c->names ? "'" : "", val,
		     looks_like_decimal_comma(s, n) ? " (write decimals with '.', not ',')" : "",
		     c->names && name_is_selectable(c->names[j]) ? name : num);
	return LW_EINVALID;
}

static int grow(struct csv *c)
{
	size_t cap;
	double *d;

	if (c->rows < c->cap)
		return 0;
	if (c->rows >= c->max_rows) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: row %zu: more than %zu rows x %zu columns, over "
			     "the limit of %zu values (max_cells); select fewer columns or raise "
			     "the limit", c->name, c->line, c->rows, c->k, c->max_cells);
		return LW_EINVALID;
	}
	cap = c->cap < 256 ? 256 : c->cap + c->cap / 2;
	if (cap > c->max_rows)
		cap = c->max_rows;
	/* cap * k <= max_cells, so only the byte count can overflow. */
	if (!(d = lw__reallocarray(c->data, cap * c->k, sizeof(double))))
		return LW_ENOMEM;
	c->data = d;
	c->cap = cap;
	return 0;
}

static int parse_record(struct csv *c)
{
	size_t line = c->line, j;
	bool last = false;
	double *row;
	int err;

	if ((err = grow(c)) < 0)
		return err;
	row = c->data + c->rows * c->k;
	for (j = 0; !last; j++) {
		struct span f;

		if ((err = scan_field(c, &f, &last)) < 0)
			return err;
		if (j == c->ncols)
			return ragged(c, line, j + 1 + count_rest(c, last));
		if (c->dest[j] == NONE)
			continue;
		if ((err = cell_value(c, &f, &row[c->dest[j]])) < 0)
			return err;
		if (err == CELL_TEXT)
			return not_a_number(c, &f, j);
	}
	if (j != c->ncols)
		return ragged(c, line, j);
	c->rows++;
	return 0;
}

static int plan_columns(struct csv *c, const lw_data_options *o)
{
	const char *why = o->header == LW_DATA_HEADER_NO
				  ? "header reading is off (--header no)"
				  : "the first row looks like data, not names (use --header yes "
				    "if it names the columns)";
	size_t *map;
	int err;

	if ((err = lw_data__select(&map, &c->k, c->name, c->ncols, c->names, why, o)) < 0)
		return err;
	if (!(c->dest = lw__mallocarray(c->ncols, sizeof(size_t)))) {
		free(map);
		return LW_ENOMEM;
	}
	for (size_t j = 0; j < c->ncols; j++)
		c->dest[j] = NONE;
	for (size_t i = 0; i < c->k; i++)
		c->dest[map[i]] = i;
	free(map);
	c->max_cells = o->max_cells;
	c->max_rows = o->max_cells / c->k;
	return 0;
}

/* Hand the rows and the selected names to the caller. */
static int finish(struct csv *c, lw_mat *out, char ***colnames_out)
{
	double *shrunk;
	size_t *map;
	int err = 0;

	if (!c->rows) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the file has a header (row %zu) but no data rows",
			     c->name, c->first_line);
		return LW_EINVALID;
	}
	if (colnames_out && c->names) {
		if (!(map = lw__mallocarray(c->k, sizeof(size_t))))
			return LW_ENOMEM;
		for (size_t j = 0; j < c->ncols; j++)
			if (c->dest[j] != NONE)
				map[c->dest[j]] = j;
		err = lw_data__pick_names(colnames_out, c->names, map, c->k);
		free(map);
		if (err < 0)
			return err;
	}
	if ((shrunk = realloc(c->data, c->rows * c->k * sizeof(double))))
		c->data = shrunk;
	out->rows = c->rows;
	out->cols = c->k;
	out->data = c->data;
	c->data = NULL;
	return 0;
}

static void csv_dispose(struct csv *c)
{
	if (c->names)
		for (size_t j = 0; j < c->ncols; j++)
			free(c->names[j]);
	free(c->names);
	free(c->dest);
	free(c->data);
	free(c->scratch);
}

int lw_data_parse_csv(lw_mat *out, char ***colnames_out, const void *buf, size_t len,
		      const char *name, const lw_data_options *opts)
{
	struct csv c = { 0 };
	lw_data_options o;
	int err;

	LW_ASSERT_ARG(out && (buf || !len));
	*out = (lw_mat)LW_MAT_INIT;
	if (colnames_out)
		*colnames_out = NULL;
	c.name = name ? name : "(buffer)";
	c.base = c.p = buf ? buf : "";
	c.end = c.base + len;
	c.line = 1;
	if ((err = lw_data__options(&o, opts, c.name)) < 0 || (err = check_bytes(&c)) < 0)
		goto done;
	if (len >= 3 && !memcmp(c.p, "\xef\xbb\xbf", 3))
		c.p += 3;
	c.delim = o.delimiter ? o.delimiter : detect_delimiter(&c);
	if ((err = read_head(&c, &o)) < 0 || (err = plan_columns(&c, &o)) < 0)
		goto done;
	while (next_record(&c))
		if ((err = parse_record(&c)) < 0)
			goto done;
	err = finish(&c, out, colnames_out);
done:
	csv_dispose(&c);
	return err;
}

/* --- writing ---------------------------------------------------------- */

/* Numbers as lw__format_double writes them; NaN and infinities as the reader reads them. */
static int format_value(char *buf, size_t cap, double v)
{
	if (isnan(v))
		return snprintf(buf, cap, "NaN");
	if (isinf(v))
		return snprintf(buf, cap, v > 0 ? "inf" : "-inf");
	return cap >= 32 ? lw__format_double(buf, v) : snprintf(buf, cap, "%.17g", v);
}

static bool needs_quotes(const char *s)
{
	size_t n = strlen(s);

	return strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' ||
					       s[n - 1] == '\t'));
}

static bool write_name(FILE *f, const char *s)
{
	if (!needs_quotes(s))
		return fputs(s, f) >= 0;
	if (putc('"', f) == EOF)
		return false;
	for (; *s; s++)
		if ((*s == '"' && putc('"', f) == EOF) || putc(*s, f) == EOF)
			return false;
	return putc('"', f) != EOF;
}

static bool write_header(FILE *f, const char *const *names, size_t cols)
{
	for (size_t j = 0; j < cols; j++)
		if ((j && putc(',', f) == EOF) || !write_name(f, names[j] ? names[j] : ""))
			return false;
	return putc('\n', f) != EOF;
}

static bool write_rows(FILE *f, const lw_mat *m)
{
	char num[40];

	for (size_t i = 0; i < m->rows; i++) {
		const double *r = lw_mat_row(m, i);

		for (size_t j = 0; j < m->cols; j++) {
			int n = format_value(num, sizeof(num), r[j]);

			num[n] = j + 1 < m->cols ? ',' : '\n';
			if (fwrite(num, 1, (size_t)n + 1, f) != (size_t)n + 1)
				return false;
		}
	}
	return true;
}

int lw_data_write_csv(const char *path, const lw_mat *m, const char *const *colnames)
{
	locale_t cloc, old = (locale_t)0;
	bool ok;
	FILE *f;

	LW_ASSERT_ARG(path && m && (m->data || !m->rows || !m->cols));
	if (!(f = fopen(path, "w")))
		return lw_data__os_error("cannot create", path);
	/* printf must write '.' decimals whatever LC_NUMERIC says. */
	if ((cloc = newlocale(LC_ALL_MASK, "C", (locale_t)0)))
		old = uselocale(cloc);
	ok = (!colnames || write_header(f, colnames, m->cols)) && write_rows(f, m);
	if (cloc) {
		uselocale(old);
		freelocale(cloc);
	}
	return lw_data__close_written(f, path, ok);
}

/* --- one column as text (data_labels.h) ---------------------------------- */

typedef struct {
	char *text;
	size_t len, cap;
	size_t *lines;
	size_t n, cap_n;
} text_column;

static int column_push(text_column *t, const char *s, size_t n, size_t line)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap < t->len + n + 1)
			cap *= 2;
		if (!(p = lw__reallocarray(t->text, cap, 1)))
			return LW_ENOMEM;
		t->text = p;
		t->cap = cap;
	}
	if (t->n == t->cap_n) {
		size_t cap = t->cap_n ? 2 * t->cap_n : 256, *l;

		if (!(l = lw__reallocarray(t->lines, cap, sizeof(size_t))))
			return LW_ENOMEM;
		t->lines = l;
		t->cap_n = cap;
	}
	memcpy(t->text + t->len, s, n);
	t->text[t->len + n] = '\0';
	t->len += n + 1;
	t->lines[t->n++] = line;
	return 0;
}

/* The 0-based index of the one column `column` names. */
static int resolve_one(size_t *col, struct csv *c, const char *column, const lw_data_options *o)
{
	lw_data_options one = *o;
	size_t *map, k;
	int err;

	one.columns = column;
	one.drop = NULL;
	if ((err = lw_data__select(&map, &k, c->name, c->ncols, c->names,
				   "the first row looks like data, not names (use --header yes if "
				   "it names the columns)", &one)) < 0)
		return err;
	*col = map[0];
	free(map);
	if (k == 1)
		return 0;
	lw_error_set(LW_ERRCLASS_DATA, "%s: the target '%s' names %zu columns; it must be one",
		     c->name, column, k);
	return LW_EINVALID;
}

static int collect_column(text_column *t, struct csv *c, size_t col)
{
	struct spans rec = { 0 };
	int err = 0;

	while (next_record(c)) {
		size_t line = c->line, n;
		const char *s;

		if ((err = read_record(c, &rec)) < 0)
			break;
		if (rec.n != c->ncols) {
			err = ragged(c, line, rec.n);
			break;
		}
		if ((err = field_text(c, &rec.v[col], &s, &n)) < 0 ||
		    (err = column_push(t, s, n, line)) < 0)
			break;
	}
	free(rec.v);
	if (!err && !t->n) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the file has a header (row %zu) but no data rows",
			     c->name, c->first_line);
		err = LW_EINVALID;
	}
	return err;
}

int lw_data__csv_column_text(char **text_out, size_t **lines_out, size_t *n_out, size_t *col_out,
			     const void *buf, size_t len, const char *name, const char *column,
			     const lw_data_options *opts)
{
	struct csv c = { 0 };
	text_column t = { 0 };
	lw_data_options o;
	int err;

	LW_ASSERT_ARG(text_out && lines_out && n_out && col_out && column && (buf || !len));
	c.name = name ? name : "(buffer)";
	c.base = c.p = buf ? buf : "";
	c.end = c.base + len;
	c.line = 1;
	if ((err = lw_data__options(&o, opts, c.name)) < 0 || (err = check_bytes(&c)) < 0)
		goto done;
	if (len >= 3 && !memcmp(c.p, "\xef\xbb\xbf", 3))
		c.p += 3;
	c.delim = o.delimiter ? o.delimiter : detect_delimiter(&c);
	if ((err = read_head(&c, &o)) < 0 || (err = resolve_one(col_out, &c, column, &o)) < 0 ||
	    (err = collect_column(&t, &c, *col_out)) < 0)
		goto done;
	*text_out = t.text;
	*lines_out = t.lines;
	*n_out = t.n;
	t.text = NULL;
	t.lines = NULL;
done:
	free(t.text);
	free(t.lines);
	csv_dispose(&c);
	return err;
}
