/*
 * Data readers: file loading, format dispatch, number parsing and column
 * selection shared by the CSV (data_csv.c) and raw (data_raw.c) readers.
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/error.h"
#include "util.h"

const char *const lw_data__missing_tokens[] = {
	"", "NA", "N/A", "nan", "NaN", "NULL", "null", "?", NULL
};

int lw_data_options_init(lw_data_options *opts, unsigned int version)
{
	static const lw_data_options defaults = LW_DATA_OPTIONS_INIT;

	LW_ASSERT_ARG(opts);
	if (version != LW_DATA_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "unsupported lw_data_options version %u", version);
		return LW_EINVALID;
	}
	*opts = defaults;
	return 0;
}

int lw_data__options(lw_data_options *out, const lw_data_options *opts, const char *name)
{
	unsigned char d;

	if (!opts)
		return lw_data_options_init(out, LW_DATA_OPTIONS_VERSION);
	if (opts->version != LW_DATA_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: unsupported lw_data_options version %u",
			     name, opts->version);
		return LW_EINVALID;
	}
	*out = *opts;
	if (!out->max_cells)
		out->max_cells = LW_DATA_MAX_CELLS_DEFAULT;
	d = (unsigned char)out->delimiter;
	/* These would make quoting or line splitting ambiguous. */
	if (d == '"' || d == '\n' || d == '\r') {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: invalid CSV delimiter 0x%02x: use ',', ';' "
			     "or tab", name, d);
		return LW_EINVALID;
	}
	if (out->header != LW_DATA_HEADER_AUTO && out->header != LW_DATA_HEADER_YES &&
	    out->header != LW_DATA_HEADER_NO) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: invalid header mode %d", name,
			     (int)out->header);
		return LW_EINVALID;
	}
	return 0;
}

bool lw_data__is_missing(const char *s, size_t n)
{
	for (const char *const *t = lw_data__missing_tokens; *t; t++)
		if (strlen(*t) == n && !memcmp(*t, s, n))
			return true;
	return false;
}

/* A plain decimal [+-]digits[.digits][e[+-]digits] as +-m * 10^scale. */
struct decimal {
	uint64_t m;
	int scale;
	bool neg;
};

/* Append digits to d->m; false past 19 significant digits. */
static inline bool scan_digits(struct decimal *d, const char **pp, const char *e, int *sig, int step)
{
	const char *p = *pp;

	if (!d->m)
		for (; p < e && *p == '0'; p++)
			d->scale += step;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		if (++*sig > 19)
			return false;
		d->m = d->m * 10 + (uint64_t)(*p - '0');
		d->scale += step;
	}
	*pp = p;
	return true;
}

/* False for other syntax and for more than 19 significant digits. */
static bool scan_decimal(struct decimal *d, const char *p, const char *e)
{
	const char *start;
	int sig = 0, x = 0;
	bool xneg = false;

	*d = (struct decimal){ 0, 0, false };
	if (p < e && (*p == '-' || *p == '+'))
		d->neg = *p++ == '-';
	start = p;
	if (!scan_digits(d, &p, e, &sig, 0))
		return false;
	if (p < e && *p == '.') {
		p++;
		if (!scan_digits(d, &p, e, &sig, -1))
			return false;
		if (p == start + 1)
			return false; /* a lone "." */
	} else if (p == start) {
		return false;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		if (++p < e && (*p == '-' || *p == '+'))
			xneg = *p++ == '-';
		if (p == e)
			return false;
		for (; p < e && *p >= '0' && *p <= '9'; p++)
			if ((x = x * 10 + (*p - '0')) > 9999)
				return false;
		d->scale += xneg ? -x : x;
	}
	return p == e;
}

static const double pow10_dbl[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,
				    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
				    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27 };

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 u128;

static const uint64_t pow5[] = {
	1, 5, 25, 125, 625, 3125, 15625, 78125, 390625, 1953125, 9765625, 48828125,
	244140625, 1220703125, 6103515625, 30517578125, 152587890625, 762939453125,
	3814697265625, 19073486328125, 95367431640625, 476837158203125, 2384185791015625,
	11920928955078125, 59604644775390625, 298023223876953125, 1490116119384765625,
	7450580596923828125,
};

/* Sign of m / 10^k - a * 2^f, computed exactly; false if past 128 bits. */
static bool cmp_midpoint(int *sign, uint64_t m, int k, uint64_t a, int f)
{
	u128 l = m, r = a;
	int s = f + k;

	/* m / (5^k 2^k) against a 2^f is m against a 5^k 2^(f+k). */
	r *= pow5[k];
	if (s >= 0) {
		if (s > 63 || (r >> (127 - s)))
			return false;
		r <<= s;
	} else {
		if (s < -63)
			return false;
		l <<= -s;
	}
	*sign = (l > r) - (l < r);
	return true;
}

/*
 * m / 10^k for mantissas past 2^53 (17-digit output of repr or %.17g):
 * take the double quotient, then step it to the neighbour the exact value
 * rounds to, judged by exact comparisons with the midpoints around it.
 */
static bool divide_exact(double *out, uint64_t m, int k)
{
	double d = (double)m / pow10_dbl[k];

	for (int tries = 0; tries < 4; tries++) {
		uint64_t bits, mant;
		int exp, up, down;

		memcpy(&bits, &d, sizeof(bits));
		mant = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
		exp = (int)(bits >> 52) - 1075;
		if (!cmp_midpoint(&up, m, k, 2 * mant + 1, exp - 1))
			return false;
		/* Below a power of two the spacing halves. */
		if (mant == UINT64_C(1) << 52 ? !cmp_midpoint(&down, m, k, 4 * mant - 1, exp - 2)
					      : !cmp_midpoint(&down, m, k, 2 * mant - 1, exp - 1))
			return false;
		if (up > 0 || (up == 0 && (mant & 1))) {
			bits++;
		} else if (down < 0 || (down == 0 && (mant & 1))) {
			bits--;
		} else {
			*out = d;
			return true;
		}
		memcpy(&d, &bits, sizeof(d));
	}
	return false;
}
#else
static bool divide_exact(double *out, uint64_t m, int k)
{
	(void)out, (void)m, (void)k;
	return false;
}
#endif

/*
 * Exact conversion of plain decimals, bit-identical to strtod.  Below 2^53
 * the mantissa times or over an exact power of ten up to 1e22 is one
 * correctly rounded operation (Clinger); longer mantissas with a fraction
 * go through divide_exact.  Needs doubles without excess precision.
 */
static bool parse_decimal(double *out, const char *p, const char *e)
{
	struct decimal d;
	double v;

	if (FLT_EVAL_METHOD != 0 || !scan_decimal(&d, p, e))
		return false;
	if (!d.m) {
		v = 0.0;
	} else if (d.m <= UINT64_C(1) << 53 && d.scale >= -22 && d.scale <= 22) {
		v = (double)d.m;
		v = d.scale < 0 ? v / pow10_dbl[-d.scale] : v * pow10_dbl[d.scale];
	} else if (d.scale >= -27 && d.scale < 0) {
		if (!divide_exact(&v, d.m, -d.scale))
			return false;
	} else {
		return false;
	}
	*out = d.neg ? -v : v;
	return true;
}

/* strtod in the C locale whatever the program's LC_NUMERIC says. */
static double strtod_c(const char *s, char **end)
{
	locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	locale_t old = c ? uselocale(c) : (locale_t)0;
	double v = strtod(s, end);

	if (c) {
		uselocale(old);
		freelocale(c);
	}
	return v;
}

int lw_data__parse_number(double *out, const char *s, size_t n)
{
	char small[128], *buf = small, *end;
	double v;

	if (parse_decimal(out, s, s + n))
		return 1;
	/* strtod would skip these itself; the caller has trimmed. */
	if (!n || s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\v' || s[0] == '\f' ||
	    s[0] == '\r')
		return 0;
	if (n >= sizeof(small) && !(buf = lw__mallocarray(n + 1, 1)))
		return LW_ENOMEM;
	memcpy(buf, s, n);
	buf[n] = '\0';
	v = strtod_c(buf, &end);
	if (buf != small)
		free(buf);
	if (end != buf + n)
		return 0;
	*out = v;
	return 1;
}

void lw_data__excerpt(char *dst, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == LW_DATA_EXCERPT) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

/* --- column selection ------------------------------------------------- */

struct selctx {
	const char *path;
	size_t ncols;
	char *const *names;
	const char *why_nameless;
	const char *option; /* "--columns" or "--drop", for messages */
};

/* "the N columns are: a, b, c" or "the file has N columns", cut to fit dst. */
static void describe_columns(char *dst, size_t cap, const struct selctx *s)
{
	size_t o, j;

	if (!s->names) {
		snprintf(dst, cap, "the file has %zu column%s", s->ncols, s->ncols == 1 ? "" : "s");
		return;
	}
	o = (size_t)snprintf(dst, cap, "the %zu columns are: ", s->ncols);
	for (j = 0; j < s->ncols; j++) {
		char ex[4 * LW_DATA_EXCERPT + 8];

		lw_data__excerpt(ex, sizeof(ex), s->names[j], strlen(s->names[j]));
		/* Stop at ~320 bytes, always leaving room for the "more" tail. */
		if (o > 320 || o + strlen(ex) + 2 + 40 > cap)
			break;
		o += (size_t)snprintf(dst + o, cap - o, "%s%s", j ? ", " : "", ex);
	}
	if (j < s->ncols)
		snprintf(dst + o, cap - o, "%s... (%zu more)", j ? ", " : "", s->ncols - j);
}

static int not_found(const struct selctx *s, const char *what)
{
	char cols[512];

	describe_columns(cols, sizeof(cols), s);
	lw_error_set(LW_ERRCLASS_DATA, "%s: %s %s; %s", s->path, s->option, what, cols);
	return LW_ENOTFOUND;
}

/* Digits only; saturates instead of overflowing. */
static bool parse_index(size_t *out, const char *p, size_t n)
{
	size_t v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v > (SIZE_MAX - 9) / 10 ? SIZE_MAX : v * 10 + (size_t)(p[i] - '0');
	}
	*out = v;
	return true;
}

static int check_index(const struct selctx *s, size_t i)
{
	char what[96];

	if (i == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: %s: column numbers start at 1, not 0", s->path,
			     s->option);
		return LW_EINVALID;
	}
	if (i > s->ncols) {
		snprintf(what, sizeof(what), "names column %zu, which is out of range", i);
		return not_found(s, what);
	}
	return 0;
}

/* Index of the column called name; ambiguous and unknown names fail. */
static int find_name(size_t *out, const struct selctx *s, const char *name, size_t n)
{
	char ex[4 * LW_DATA_EXCERPT + 8], what[640];
	size_t found = SIZE_MAX, close = SIZE_MAX;

	lw_data__excerpt(ex, sizeof(ex), name, n);
	if (!s->names) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: %s selects column '%s' by name, but %s; use 1-based column "
			     "numbers (the file has %zu columns)",
			     s->path, s->option, ex, s->why_nameless, s->ncols);
		return LW_ENOTFOUND;
	}
	for (size_t j = 0; j < s->ncols; j++) {
		const char *c = s->names[j];

		if (strlen(c) != n)
			continue;
		if (!memcmp(c, name, n)) {
			if (found != SIZE_MAX) {
				lw_error_set(LW_ERRCLASS_DATA,
					     "%s: %s: the name '%s' is ambiguous (columns %zu and "
					     "%zu); select by number instead",
					     s->path, s->option, ex, found + 1, j + 1);
				return LW_EINVALID;
			}
			found = j;
		} else if (close == SIZE_MAX && !strncasecmp(c, name, n)) {
			close = j;
		}
	}
	if (found != SIZE_MAX) {
		*out = found;
		return 0;
	}
	if (close != SIZE_MAX)
		snprintf(what, sizeof(what), "names no column '%s' (did you mean '%s'?)", ex,
			 s->names[close]);
	else
		snprintf(what, sizeof(what), "names no column '%s'", ex);
	return not_found(s, what);
}

/* Resolve one list item (trimmed, non-empty) to 0-based columns [lo, hi]. */
static int resolve_item(size_t *lo, size_t *hi, const struct selctx *s, const char *p, size_t n)
{
	const char *dash = memchr(p, '-', n);
	size_t a, b;
	int err;

	if (parse_index(&a, p, n)) {
		if ((err = check_index(s, a)) < 0)
			return err;
		*lo = *hi = a - 1;
		return 0;
	}
	if (!dash || !parse_index(&a, p, (size_t)(dash - p)))
		return (err = find_name(lo, s, p, n)) < 0 ? err : (*hi = *lo, 0);
	b = s->ncols;
	if (dash + 1 < p + n && !parse_index(&b, dash + 1, (size_t)(p + n - dash - 1)))
		return (err = find_name(lo, s, p, n)) < 0 ? err : (*hi = *lo, 0);
	if ((err = check_index(s, a)) < 0 || (err = check_index(s, b)) < 0)
		return err;
	if (a > b) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: %s: the range %zu-%zu is backwards; write %zu-%zu",
			     s->path, s->option, a, b, b, a);
		return LW_EINVALID;
	}
	*lo = a - 1;
	*hi = b - 1;
	return 0;
}

/*
 * Mark the columns a list names.  With order, newly marked columns are
 * also appended to order[*k] in list order.
 */
static int apply_list(const struct selctx *s, const char *list, unsigned char *mark,
		      size_t *order, size_t *k)
{
	const char *p = list;

	while (*p) {
		const char *e = strchr(p, ','), *next;
		size_t lo, hi;
		int err;

		next = e ? e + 1 : p + strlen(p);
		e = e ? e : next;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (p < e) {
			if ((err = resolve_item(&lo, &hi, s, p, (size_t)(e - p))) < 0)
				return err;
			for (size_t j = lo; j <= hi; j++) {
				if (order && !mark[j])
					order[(*k)++] = j;
				mark[j] = 1;
			}
		}
		p = next;
	}
	return 0;
}

static int select_none(const struct selctx *s, const lw_data_options *o)
{
	char cols[512];

	describe_columns(cols, sizeof(cols), s);
	lw_error_set(LW_ERRCLASS_DATA, "%s: no columns left to read after --columns '%s' and "
		     "--drop '%s'; %s", s->path, o->columns ? o->columns : "(all)",
		     o->drop ? o->drop : "", cols);
	return LW_EINVALID;
}

int lw_data__select(size_t **map_out, size_t *k_out, const char *path, size_t ncols,
		    char *const *names, const char *why_nameless, const lw_data_options *opts)
{
	struct selctx s = { path, ncols, names, why_nameless, "--columns" };
	unsigned char *mark = lw__calloc(ncols, 1);
	size_t *map = lw__mallocarray(ncols, sizeof(size_t)), k = 0, kept = 0;
	int err = LW_ENOMEM;

	*map_out = NULL;
	*k_out = 0;
	if (!mark || !map)
		goto done;
	if (opts->columns) {
		if ((err = apply_list(&s, opts->columns, mark, map, &k)) < 0)
			goto done;
	} else {
		for (k = 0; k < ncols; k++)
			map[k] = k;
	}
	memset(mark, 0, ncols);
	s.option = "--drop";
	if (opts->drop && (err = apply_list(&s, opts->drop, mark, NULL, NULL)) < 0)
		goto done;
	for (size_t i = 0; i < k; i++)
		if (!mark[map[i]])
			map[kept++] = map[i];
	if (!kept) {
		err = select_none(&s, opts);
		goto done;
	}
	*map_out = map;
	*k_out = kept;
	map = NULL;
	err = 0;
done:
	free(mark);
	free(map);
	return err;
}

int lw_data__pick_names(char ***out, char *const *names, const size_t *map, size_t k)
{
	size_t bytes = (k + 1) * sizeof(char *), len;
	char **list, *p;

	for (size_t i = 0; i < k; i++)
		bytes += strlen(names[map[i]]) + 1;
	/* One block: lw_data_free_names is a single free(). */
	if (!(list = lw__mallocarray(bytes, 1)))
		return LW_ENOMEM;
	p = (char *)(list + k + 1);
	for (size_t i = 0; i < k; i++) {
		len = strlen(names[map[i]]) + 1;
		list[i] = memcpy(p, names[map[i]], len);
		p += len;
	}
	list[k] = NULL;
	*out = list;
	return 0;
}

void lw_data_free_names(char **names)
{
	free(names);
}

/* --- files -------------------------------------------------------------- */

int lw_data__os_error(const char *what, const char *path)
{
	int code = errno == ENOENT || errno == ENOTDIR ? LW_ENOTFOUND : LW_EIO;

	lw_error_set(LW_ERRCLASS_OS, "%s '%s'", what, path);
	return code;
}

int lw_data__close_written(FILE *f, const char *path, bool ok)
{
	int err = 0;

	if (!ok || ferror(f)) {
		err = lw_data__os_error("cannot write", path);
		fclose(f);
	} else if (fclose(f) != 0) {
		err = lw_data__os_error("cannot write", path);
	}
	/* Leave no half-written file that a later read would trust. */
	if (err < 0)
		remove(path);
	return err;
}

/*
 * The whole file in one malloc'd buffer.  read() rather than mmap: pipes
 * work too, and a file truncated under us cannot raise SIGBUS.
 */
static int read_all(unsigned char **out, size_t *len, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = NULL, *grown;
	struct stat st;

	if (fd < 0)
		return lw_data__os_error("cannot open", path);
	if (fstat(fd, &st) != 0)
		st.st_mode = 0;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		err = lw_data__os_error("cannot read", path);
		goto done;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size < SIZE_MAX / 2)
		cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t r;

		if (!buf || n == cap) {
			cap = buf ? cap + cap / 2 : cap;
			if (cap > SIZE_MAX / 2 || !(grown = lw__reallocarray(buf, cap, 1))) {
				err = LW_ENOMEM;
				goto done;
			}
			buf = grown;
		}
		if ((r = read(fd, buf + n, cap - n)) < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = lw_data__os_error("cannot read", path);
			goto done;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
done:
	close(fd);
	if (err < 0) {
		free(buf);
		return err;
	}
	*out = buf;
	*len = n;
	return 0;
}

enum format { FMT_AUTO, FMT_CSV, FMT_RAW };

static int read_path(lw_mat *out, char ***colnames_out, const char *path,
		     const lw_data_options *opts, enum format fmt)
{
	unsigned char *buf;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = (lw_mat)LW_MAT_INIT;
	if (colnames_out)
		*colnames_out = NULL;
	if ((err = read_all(&buf, &len, path)) < 0)
		return err;
	if (fmt == FMT_RAW || (fmt == FMT_AUTO && lw_data__is_raw(buf, len)))
		return lw_data__parse_raw(out, buf, len, path, opts, buf);
	err = lw_data_parse_csv(out, colnames_out, buf, len, path, opts);
	free(buf);
	return err;
}

int lw_data_read(lw_mat *out, char ***colnames_out, const char *path,
		 const lw_data_options *opts)
{
	return read_path(out, colnames_out, path, opts, FMT_AUTO);
}

int lw_data_read_csv(lw_mat *out, char ***colnames_out, const char *path,
		     const lw_data_options *opts)
{
	return read_path(out, colnames_out, path, opts, FMT_CSV);
}

int lw_data_read_raw(lw_mat *out, char ***colnames_out, const char *path,
		     const lw_data_options *opts)
{
	return read_path(out, colnames_out, path, opts, FMT_RAW);
}

int lw_data_parse(lw_mat *out, char ***colnames_out, const void *buf, size_t len,
		  const char *name, const lw_data_options *opts)
{
	if (lw_data__is_raw(buf, len))
		return lw_data_parse_raw(out, colnames_out, buf, len, name, opts);
	return lw_data_parse_csv(out, colnames_out, buf, len, name, opts);
}
