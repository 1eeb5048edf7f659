/*
 * Raw matrix files: a 24-byte little-endian header and row-major float64
 * values (layout in include/lw/data.h and docs/data-formats.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "data.h"

#include <inttypes.h>
#include <string.h>

#include "lw/error.h"
#include "util.h"

#define HOST_IS_LE (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)

/* Byte-wise loads and stores: correct on any host, one mov on x86. */
static uint64_t load_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void store_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static double load_f64(const unsigned char *p)
{
	uint64_t u = load_u64(p);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

bool lw_data__is_raw(const void *buf, size_t len)
{
	return len >= LW_RAW_MAGIC_LEN && !memcmp(buf, LW_RAW_MAGIC, LW_RAW_MAGIC_LEN);
}

static int bad_size(const char *name, uint64_t rows, uint64_t cols, uint64_t want, size_t len)
{
	lw_error_set(LW_ERRCLASS_DATA,
		     "%s: a %" PRIu64 " x %" PRIu64 " raw matrix takes %" PRIu64 " bytes, but the "
		     "file has %zu (%s); it was cut short or written wrongly",
		     name, rows, cols, want, len, len < want ? "truncated" : "trailing bytes");
	return LW_EINVALID;
}

/* Validate the header against the buffer length before anything is allocated. */
static int check_header(uint64_t *rows, uint64_t *cols, const unsigned char *b, size_t len,
			const char *name)
{
	uint64_t cells, bytes;

	if (!lw_data__is_raw(b, len)) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: not a raw matrix file (it does not start with "
			     "\"LWMAT\\0\"); write one with lw_data_write_raw", name);
		return LW_EINVALID;
	}
	if (len < LW_RAW_HEADER_LEN) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: raw matrix header cut short: %zu of %d bytes",
			     name, len, LW_RAW_HEADER_LEN);
		return LW_EINVALID;
	}
	if (b[6] != LW_RAW_VERSION || b[7] != 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: raw matrix version byte %u, reserved byte %u: "
			     "this build reads version %d with reserved 0", name, (unsigned)b[6],
			     (unsigned)b[7], LW_RAW_VERSION);
		return LW_EINVALID;
	}
	*rows = load_u64(b + 8);
	*cols = load_u64(b + 16);
	if (__builtin_mul_overflow(*rows, *cols, &cells) ||
	    __builtin_mul_overflow(cells, (uint64_t)8, &bytes) ||
	    __builtin_add_overflow(bytes, (uint64_t)LW_RAW_HEADER_LEN, &bytes)) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: raw matrix header claims %" PRIu64 " x %" PRIu64
			     " values, which overflows; the file is damaged", name, *rows, *cols);
		return LW_EINVALID;
	}
	if (bytes != (uint64_t)len)
		return bad_size(name, *rows, *cols, bytes, len);
	if (!cells) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the raw matrix is empty (%" PRIu64 " x %" PRIu64
			     "): no values to read", name, *rows, *cols);
		return LW_EINVALID;
	}
	return 0;
}

static bool is_identity(const size_t *map, size_t k, size_t cols)
{
	if (k != cols)
		return false;
	for (size_t j = 0; j < k; j++)
		if (map[j] != j)
			return false;
	return true;
}

/*
 * Decode the selected columns into row-major doubles.  dst may be the
 * buffer src lies in (src = dst + 24 bytes): row i is staged in tmp and
 * written to bytes that only rows before i+1 were read from.
 */
static void decode(double *dst, const unsigned char *src, size_t rows, size_t cols,
		   const size_t *map, size_t k, double *tmp)
{
	if (HOST_IS_LE && is_identity(map, k, cols)) {
		memmove(dst, src, rows * cols * sizeof(double));
		return;
	}
	for (size_t i = 0; i < rows; i++) {
		const unsigned char *r = src + i * cols * sizeof(double);

		for (size_t j = 0; j < k; j++)
			tmp[j] = load_f64(r + map[j] * sizeof(double));
		memmove(dst + i * k, tmp, k * sizeof(double));
	}
}

static int fill(lw_mat *out, const unsigned char *src, size_t rows, size_t cols,
		const size_t *map, size_t k, unsigned char **owned)
{
	double *tmp = lw__mallocarray(k, sizeof(double)), *dst, *shrunk;

	if (!tmp)
		return LW_ENOMEM;
	dst = *owned ? (double *)(void *)*owned : lw__mallocarray(rows * k, sizeof(double));
	if (!dst) {
		free(tmp);
		return LW_ENOMEM;
	}
	*owned = NULL;
	decode(dst, src, rows, cols, map, k, tmp);
	free(tmp);
	if ((shrunk = realloc(dst, rows * k * sizeof(double))))
		dst = shrunk;
	out->rows = rows;
	out->cols = k;
	out->data = dst;
	return 0;
}

int lw_data__parse_raw(lw_mat *out, const unsigned char *buf, size_t len, const char *name,
		       const lw_data_options *opts, unsigned char *owned)
{
	lw_data_options o;
	uint64_t rows, cols;
	size_t *map = NULL, k;
	int err;

	*out = (lw_mat)LW_MAT_INIT;
	if ((err = lw_data__options(&o, opts, name)) < 0 ||
	    (err = check_header(&rows, &cols, buf, len, name)) < 0)
		goto done;
	/* The exact size check passed: rows * cols * 8 < len fits size_t. */
	if ((err = lw_data__select(&map, &k, name, (size_t)cols, NULL,
				   "raw matrix files have no column names", &o)) < 0)
		goto done;
	if (rows * k > o.max_cells) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: %" PRIu64 " rows x %zu columns is more than the "
			     "limit of %zu values (max_cells); select fewer columns", name, rows, k,
			     o.max_cells);
		err = LW_EINVALID;
		goto done;
	}
	if (owned)
		buf = owned;
	err = fill(out, buf + LW_RAW_HEADER_LEN, (size_t)rows, (size_t)cols, map, k, &owned);
done:
	free(owned);
	free(map);
	return err;
}

int lw_data_parse_raw(lw_mat *out, char ***colnames_out, const void *buf, size_t len,
		      const char *name, const lw_data_options *opts)
{
	LW_ASSERT_ARG(out && (buf || !len));
	if (colnames_out)
		*colnames_out = NULL;
	return lw_data__parse_raw(out, buf, len, name ? name : "(buffer)", opts, NULL);
}

static bool write_values(FILE *f, const lw_mat *m)
{
	size_t n = m->rows * m->cols;
	unsigned char chunk[4096];

	if (!n)
		return true;
	if (HOST_IS_LE)
		return fwrite(m->data, sizeof(double), n, f) == n;
	for (size_t i = 0; i < n;) {
		size_t c = 0;

		for (; i < n && c < sizeof(chunk); i++, c += 8) {
			uint64_t u;

			memcpy(&u, &m->data[i], sizeof(u));
			store_u64(chunk + c, u);
		}
		if (fwrite(chunk, 1, c, f) != c)
			return false;
	}
	return true;
}

int lw_data_write_raw(const char *path, const lw_mat *m)
{
	unsigned char hdr[LW_RAW_HEADER_LEN];
	size_t n;
	FILE *f;

	LW_ASSERT_ARG(path && m);
	LW_ASSERT_ARG(lw__mul_ok(&n, m->rows, m->cols) && (m->data || !n));
	memcpy(hdr, LW_RAW_MAGIC, LW_RAW_MAGIC_LEN);
	hdr[6] = LW_RAW_VERSION;
	hdr[7] = 0;
	store_u64(hdr + 8, m->rows);
	store_u64(hdr + 16, m->cols);
	if (!(f = fopen(path, "wb")))
		return lw_data__os_error("cannot create", path);
	return lw_data__close_written(f, path,
				      fwrite(hdr, sizeof(hdr), 1, f) == 1 && write_values(f, m));
}
