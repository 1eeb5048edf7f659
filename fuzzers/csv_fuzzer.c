/*
 * Fuzz the CSV reader (and the format dispatch) on arbitrary bytes.
 *
 * Each input is parsed twice: with the default options, and with a
 * delimiter, header mode, column lists and cell cap picked by one byte of
 * the input so the fuzzer can steer into every option path.  Besides
 * crashes, the harness aborts when an invariant breaks: an error must leave
 * no output behind and a message; a success a well-formed matrix; and the
 * number parser's fast path must agree bit for bit with strtod.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "lw/data.h"
#include "lw/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const lists[] = {
	NULL,	  "1",	 "2-3",	      "3-",    "1,1,2", "a",	     "b,1",
	"0",	  "3-1", "x-y",	      " 2 , 1 ", ",,",	    "-",     "c,a,b",
	"1-99999999999999999999999", "99999999999999999999999", "A", "2,a-b,1-",
};

#define NLISTS (sizeof(lists) / sizeof(lists[0]))

static void check_result(int err, lw_mat *m, char **names)
{
	size_t n = 0;

	if (err < 0) {
		if (m->data || m->rows || m->cols || names || !*lw_error_last()->message)
			abort();
		return;
	}
	if (!m->data || !m->rows || !m->cols)
		abort();
	if (names) {
		while (names[n])
			n++;
		if (n != m->cols)
			abort();
	}
	/* Touch every cell so ASan sees the whole allocation is valid. */
	for (size_t i = 0; i < m->rows * m->cols; i++)
		if (m->data[i] != m->data[i] && !isnan(m->data[i]))
			abort();
	lw_data_free_names(names);
	lw_mat_dispose(m);
}

/* lw_data__parse_number must equal strtod on every short token. */
static void check_numbers(const uint8_t *data, size_t size)
{
	size_t i = 0;

	while (i < size) {
		size_t n = 0;
		char tok[48], *end;
		double got = 0, want;
		int r, ok;

		while (i + n < size && n < sizeof(tok) - 1 && !strchr(",;\t\n", data[i + n]))
			n++;
		memcpy(tok, data + i, n);
		tok[n] = '\0';
		i += n + 1;
		r = lw_data__parse_number(&got, tok, n);
		want = strtod(tok, &end);
		ok = n && end == tok + n && !isspace((unsigned char)tok[0]);
		if (r != ok)
			abort();
		if (ok && memcmp(&got, &want, sizeof(got)) && !(isnan(got) && isnan(want)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	unsigned sel = size ? data[size / 2] ^ (unsigned)(size * 7) : 0;
	lw_mat m = LW_MAT_INIT;
	char **names = (char **)&o; /* must be overwritten */
	int err;

	err = lw_data_parse(&m, &names, data, size, "fuzz.csv", NULL);
	check_result(err, &m, names);

	o.delimiter = ",;\t|"[sel & 3];
	if (sel & 4)
		o.delimiter = 0;
	o.header = (lw_data_header)((sel >> 3) % 3);
	o.columns = lists[(sel >> 5) % NLISTS];
	o.drop = lists[(sel * 5 + size) % NLISTS];
	o.max_cells = sel & 0x100 ? 7 : 0;
	names = (char **)&o;
	err = lw_data_parse_csv(&m, &names, data, size, "fuzz.csv", &o);
	check_result(err, &m, names);

	check_numbers(data, size);
	return 0;
}
