/*
 * Fuzz the raw matrix reader on arbitrary bytes.
 *
 * Each input is parsed from a borrowed buffer and from an owned copy (the
 * file readers' in-place path); both must agree.  Inputs that parse with
 * all columns must decode to exactly the bytes after the header.  Column
 * lists picked by one byte of the input cover selection.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "lw/data.h"
#include "lw/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const lists[] = {
	NULL, "1", "2", "2-", "1-2", "2,1", "3,1,1", "0", "name", "2-1", "1-99999999999999999999",
};

#define NLISTS (sizeof(lists) / sizeof(lists[0]))

static void check_failed(int err, const lw_mat *m)
{
	if (err < 0 && (m->data || m->rows || m->cols || !*lw_error_last()->message))
		abort();
	if (err == 0 && (!m->data || !m->rows || !m->cols))
		abort();
}

static int parse_owned(lw_mat *m, const uint8_t *data, size_t size, const lw_data_options *o)
{
	unsigned char *copy = malloc(size ? size : 1);

	if (!copy)
		abort();
	if (size)
		memcpy(copy, data, size);
	return lw_data__parse_raw(m, copy, size, "fuzz.raw", o, copy);
}

static void run(const uint8_t *data, size_t size, const lw_data_options *o)
{
	lw_mat a = LW_MAT_INIT, b = LW_MAT_INIT;
	char **names = (char **)&a; /* must be overwritten */
	int ea = lw_data_parse_raw(&a, &names, data, size, "fuzz.raw", o);
	int eb = parse_owned(&b, data, size, o);

	if (names)
		abort();
	check_failed(ea, &a);
	check_failed(eb, &b);
	if (ea != eb || a.rows != b.rows || a.cols != b.cols)
		abort();
	if (ea == 0 && memcmp(a.data, b.data, a.rows * a.cols * sizeof(double)))
		abort();
	if (ea == 0 && !o->columns && !o->drop &&
	    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
	    memcmp(a.data, data + LW_RAW_HEADER_LEN, a.rows * a.cols * sizeof(double)))
		abort();
	lw_mat_dispose(&a);
	lw_mat_dispose(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	unsigned sel = size ? data[size - 1] : 0;

	run(data, size, &o);
	o.columns = lists[sel % NLISTS];
	o.drop = lists[(sel / NLISTS) % NLISTS];
	o.max_cells = sel & 0x80 ? 3 : 0;
	run(data, size, &o);
	return 0;
}
