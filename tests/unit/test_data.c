#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data.h"
#include "lw/data.h"

static char *tmpdir;

static int group_setup(void **state)
{
	(void)state;
	tmpdir = lwt_mkdtemp();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	lwt_rmtree(tmpdir);
	free(tmpdir);
	return 0;
}

/* Write len bytes (NULs allowed) to tmpdir/name; caller frees the path. */
static char *write_bytes(const char *name, const void *bytes, size_t len)
{
	char *path = lwt_write_file(tmpdir, name, "");
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	return path;
}

/* Read text as a file through lw_data_read; *path_out (if given) keeps its path. */
static int read_text(lw_mat *m, char ***names, const char *text, const lw_data_options *o)
{
	char *path = lwt_write_file(tmpdir, "t.csv", text);
	int err = lw_data_read(m, names, path, o);

	free(path);
	return err;
}

static void assert_message_has(const char *needle)
{
	const char *msg = lw_error_last()->message;

	if (!strstr(msg, needle))
		fail_msg("error message lacks \"%s\": %s", needle, msg);
}

/* The read fails with code, leaves nothing behind, and the message holds each needle. */
static void expect_error(const char *text, const lw_data_options *o, int code, const char *n1,
			 const char *n2, const char *n3)
{
	lw_mat m = LW_MAT_INIT;
	char **names = NULL;

	assert_int_equal(read_text(&m, &names, text, o), code);
	assert_null(m.data);
	assert_int_equal(m.rows, 0);
	assert_null(names);
	assert_message_has("t.csv");
	if (n1)
		assert_message_has(n1);
	if (n2)
		assert_message_has(n2);
	if (n3)
		assert_message_has(n3);
}

static void expect_values(const lw_mat *m, size_t rows, size_t cols, const double *want)
{
	assert_int_equal(m->rows, rows);
	assert_int_equal(m->cols, cols);
	for (size_t i = 0; i < rows * cols; i++) {
		if (isnan(want[i]))
			assert_true(isnan(m->data[i]));
		else if (m->data[i] != want[i])
			fail_msg("cell %zu: %.17g, want %.17g", i, m->data[i], want[i]);
	}
}

static void expect_names(char **names, const char *const *want, size_t n)
{
	assert_non_null(names);
	for (size_t j = 0; j < n; j++)
		assert_string_equal(names[j], want[j]);
	assert_null(names[n]);
}

/* Read text with options and check the whole table. */
static void expect_table(const char *text, const lw_data_options *o, size_t rows, size_t cols,
			 const double *want, const char *const *want_names)
{
	lw_mat m = LW_MAT_INIT;
	char **names = NULL;
	int err = read_text(&m, &names, text, o);

	if (err)
		fail_msg("read failed (%d): %s", err, lw_error_last()->message);
	expect_values(&m, rows, cols, want);
	if (want_names)
		expect_names(names, want_names, cols);
	else
		assert_null(names);
	lw_data_free_names(names);
	lw_mat_dispose(&m);
}

/* --- header ------------------------------------------------------------- */

static void test_data_header__auto_detects_names(void **state)
{
	const double want[] = { 1, 2, 3, 4 };
	const char *const names[] = { "a", "b" };

	(void)state;
	expect_table("a,b\n1,2\n3,4\n", NULL, 2, 2, want, names);
}

static void test_data_header__auto_detects_data(void **state)
{
	const double want[] = { 1, 2, 3, 4 };

	(void)state;
	expect_table("1,2\n3,4\n", NULL, 2, 2, want, NULL);
}

static void test_data_header__auto_with_text_and_missing_columns(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const double want[] = { 1, 2 };
	const char *const names[] = { "x" };

	(void)state;
	/* "name" sits over text, but "x" over a number: a header. */
	o.drop = "name";
	expect_table("name,x\nbob,1\nal,2\n", &o, 2, 1, want, names);
	/* Text over text, number over number: data. */
	o.drop = "1";
	expect_table("bob,1\nal,2\n", &o, 2, 1, want, NULL);
	/* A name over a missing value is still a name. */
	o.drop = NULL;
	expect_table("x\nNA\n2\n", NULL, 2, 1, (const double[]){ NAN, 2 }, names);
}

static void test_data_header__auto_all_text_first_row(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "v" };

	(void)state;
	o.columns = "v";
	expect_table("u,v\nfoo,1\n", &o, 1, 1, (const double[]){ 1 }, names);
}

static void test_data_header__forced(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "1", "2" };

	(void)state;
	o.header = LW_DATA_HEADER_YES;
	expect_table("1,2\n3,4\n", &o, 1, 2, (const double[]){ 3, 4 }, names);
	o.header = LW_DATA_HEADER_NO;
	expect_error("a,b\n1,2\n", &o, LW_EINVALID, "row 1, column 1: 'a' is not a number",
		     "--drop 1", NULL);
}

static void test_data_header__only_header_is_an_error(void **state)
{
	(void)state;
	expect_error("a,b\n", NULL, LW_EINVALID, "header (row 1) but no data rows", NULL, NULL);
	expect_error("\n\na,b\n\n", NULL, LW_EINVALID, "header (row 3)", NULL, NULL);
}

/* --- delimiters ----------------------------------------------------------- */

static void test_data_delimiter__detects_each(void **state)
{
	const double want[] = { 1.5, 2, 3, 4 };
	const char *const names[] = { "a", "b" };

	(void)state;
	expect_table("a,b\n1.5,2\n3,4\n", NULL, 2, 2, want, names);
	expect_table("a;b\n1.5;2\n3;4\n", NULL, 2, 2, want, names);
	expect_table("a\tb\n1.5\t2\n3\t4\n", NULL, 2, 2, want, names);
}

static void test_data_delimiter__semicolon_with_commas_in_text(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "n" };

	(void)state;
	/* ',' appears, but not the same number of times on each line. */
	o.drop = "city";
	expect_table("city;n\nParis, France;1\nRome;2\n", &o, 2, 1, (const double[]){ 1, 2 },
		     names);
}

static void test_data_delimiter__ignores_quoted(void **state)
{
	const char *const names[] = { "a,b", "c" };

	(void)state;
	expect_table("\"a,b\";c\n1;2\n", NULL, 1, 2, (const double[]){ 1, 2 }, names);
}

static void test_data_delimiter__explicit(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "a", "b" };

	(void)state;
	o.delimiter = '|';
	expect_table("a|b\n1|2\n", &o, 1, 2, (const double[]){ 1, 2 }, names);
	o.delimiter = '"';
	expect_error("a\n1\n", &o, LW_EINVALID, NULL, NULL, NULL);
}

static void test_data_delimiter__single_column(void **state)
{
	const char *const names[] = { "x" };

	(void)state;
	expect_table("x\n1\n2\n3", NULL, 3, 1, (const double[]){ 1, 2, 3 }, names);
	expect_table("7\n", NULL, 1, 1, (const double[]){ 7 }, NULL);
}

/* --- quoting and lines -------------------------------------------------- */

static void test_data_quotes__rfc4180(void **state)
{
	const char *const names[] = { "say \"hi\"", "two\nlines", "c,d" };

	(void)state;
	expect_table("\"say \"\"hi\"\"\",\"two\nlines\",\"c,d\"\n\"1.5\", \" 2 \",3\n", NULL, 1,
		     3, (const double[]){ 1.5, 2, 3 }, names);
}

static void test_data_quotes__rows_count_lines_inside_quotes(void **state)
{
	(void)state;
	/* The header spans lines 1-2, so the bad cell is on line 4. */
	expect_error("\"a\nb\",c\n1,2\nx,3\n", NULL, LW_EINVALID, "row 4, column 1 'a\\x0ab'",
		     "'x'", NULL);
}

static void test_data_quotes__unterminated(void **state)
{
	(void)state;
	expect_error("a,b\n1,2\n\"3,4\n5,6\n", NULL, LW_EINVALID, "row 3", "closing '\"'", NULL);
	expect_error("a,b\n1,\"2\n", NULL, LW_EINVALID, "row 2", "quoted field", NULL);
}

static void test_data_lines__crlf_bom_and_no_final_newline(void **state)
{
	const double want[] = { 1, 2, 3, 4 };
	const char *const names[] = { "a", "b" };

	(void)state;
	expect_table("a,b\r\n1,2\r\n3,4\r\n", NULL, 2, 2, want, names);
	expect_table("\xef\xbb\xbf" "a,b\r\n1,2\r\n3,4", NULL, 2, 2, want, names);
	expect_table("a,b\n1,2\n3,4", NULL, 2, 2, want, names);
	expect_table("\"a\",\"b\"\r\n\"1\",\"2\"\r\n3,\"4\"", NULL, 2, 2, want, names);
}

static void test_data_lines__blank_lines_skipped(void **state)
{
	const double want[] = { 1, 2, 3, 4 };
	const char *const names[] = { "a", "b" };

	(void)state;
	expect_table("\n\na,b\n\n1,2\n   \n3,4\n \t\r\n\n  ", NULL, 2, 2, want, names);
	/* Rows are line numbers, blank lines included. */
	expect_error("a,b\n\n1,x\n", NULL, LW_EINVALID, "row 3, column 2 'b': 'x'", NULL, NULL);
}

static void test_data_lines__tab_only_line_is_a_row_in_tsv(void **state)
{
	(void)state;
	expect_table("1\t2\n\t\n", NULL, 2, 2, (const double[]){ 1, 2, NAN, NAN }, NULL);
}

static void test_data_lines__ragged_rows(void **state)
{
	(void)state;
	expect_error("a,b\n1,2\n1,2,3\n", NULL, LW_EINVALID,
		     "row 3 has 3 fields but the header (row 1) has 2", NULL, NULL);
	expect_error("a,b,c\n1,2,3\n4,5\n", NULL, LW_EINVALID,
		     "row 3 has 2 fields but the header (row 1) has 3", NULL, NULL);
	expect_error("1;2\n3;4;5;6\n", NULL, LW_EINVALID, "row 2 has 4 fields but row 1 has 2",
		     "';'", NULL);
}

static void test_data_bytes__nul_and_utf16_rejected(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char *path;

	(void)state;
	path = write_bytes("t.csv", "a,b\n1,\0\n", 8);
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), LW_EINVALID);
	assert_message_has("row 2");
	assert_message_has("NUL byte at offset 6");
	free(path);
	path = write_bytes("t.csv", "\xff\xfe" "a\0,\0b\0", 8);
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), LW_EINVALID);
	assert_message_has("UTF-16");
	assert_null(m.data);
	free(path);
}

static void test_data_empty__file_and_whitespace(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;

	(void)state;
	expect_error("", NULL, LW_EINVALID, "empty", NULL, NULL);
	expect_error("\n \r\n\t\n", NULL, LW_EINVALID, "empty", NULL, NULL);
	expect_error("\xef\xbb\xbf", NULL, LW_EINVALID, "empty", NULL, NULL);
	o.drop = "1-2";
	expect_error("a,b\n1,2\n", &o, LW_EINVALID, "no columns left", "a, b", NULL);
}

/* --- cells -------------------------------------------------------------- */

static void test_data_cells__missing_tokens_are_nan(void **state)
{
	(void)state;
	expect_table(",NA,N/A,nan,NaN,NULL,null,?, , \"\"\n1,2,3,4,5,6,7,8,9,10\n", NULL, 2, 10,
		     (const double[]){ NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN,
				       1, 2, 3, 4, 5, 6, 7, 8, 9, 10 },
		     NULL);
}

static void test_data_cells__infinities(void **state)
{
	(void)state;
	expect_table("inf,Inf,-inf,Infinity,-Infinity,+inf,1e999,-1e999\n", NULL, 1, 8,
		     (const double[]){ INFINITY, INFINITY, -INFINITY, INFINITY, -INFINITY,
				       INFINITY, INFINITY, -INFINITY },
		     NULL);
}

static void test_data_cells__number_forms(void **state)
{
	lw_mat m = LW_MAT_INIT;

	(void)state;
	expect_table("  1.5  ,+2,1e3,.5,5.,-0.25e-2,0x10,\t7\t,000123,12345678901234567890123\n",
		     NULL, 1, 10,
		     (const double[]){ 1.5, 2, 1000, 0.5, 5, -0.0025, 16, 7, 123,
				       12345678901234567890123.0 },
		     NULL);
	assert_int_equal(read_text(&m, NULL, "-0\n", NULL), 0);
	assert_true(m.data[0] == 0 && signbit(m.data[0]));
	lw_mat_dispose(&m);
}

/* The fast decimal path must be bit-identical to strtod. */
static void test_data_cells__parse_matches_strtod(void **state)
{
	lw_rng rng;
	char buf[512], *end;
	double got, want;

	(void)state;
	lw_rng_seed(&rng, 11);
	for (int i = 0; i < 200000; i++) {
		double mag = pow(10, (int)lw_rng_below(&rng, 60) - 30);
		double x = (lw_rng_uniform(&rng) - 0.5) * mag;
		int n;

		if (i % 7 == 0)
			x = (double)(int64_t)(lw_rng_u64(&rng) >> lw_rng_below(&rng, 64));
		switch (i % 6) {
		case 0: n = snprintf(buf, sizeof(buf), "%.17g", x); break;
		case 1: n = snprintf(buf, sizeof(buf), "%.15g", x); break;
		case 2: n = snprintf(buf, sizeof(buf), "%.6g", x); break;
		case 3: n = snprintf(buf, sizeof(buf), "%.3f", x); break;
		case 4: n = snprintf(buf, sizeof(buf), "%.12e", x); break;
		default: n = snprintf(buf, sizeof(buf), "%.20f", x); break;
		}
		want = strtod(buf, &end);
		assert_int_equal(lw_data__parse_number(&got, buf, (size_t)n), 1);
		if (memcmp(&got, &want, sizeof(got)))
			fail_msg("'%s': %.17g, strtod %.17g", buf, got, want);
	}
	assert_int_equal(lw_data__parse_number(&got, "1e", 2), 0);
	assert_int_equal(lw_data__parse_number(&got, ".", 1), 0);
	assert_int_equal(lw_data__parse_number(&got, "1.2.3", 5), 0);
	assert_int_equal(lw_data__parse_number(&got, " 1", 2), 0);
	assert_int_equal(lw_data__parse_number(&got, "1,5", 3), 0);
	assert_int_equal(lw_data__parse_number(&got, "9007199254740993", 16), 1);
	assert_true(got == 9007199254740992.0);
}

static void test_data_cells__text_names_row_column_and_value(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char *path = lwt_write_file(tmpdir, "diamonds.csv",
				    "carat,cut,price\n0.23,Ideal,326\n0.21,Premium,326\n");
	char want[1024];

	(void)state;
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), LW_EINVALID);
	snprintf(want, sizeof(want),
		 "%s: row 2, column 2 'cut': 'Ideal' is not a number; select numeric columns "
		 "with --columns or drop this one with --drop cut",
		 path);
	assert_string_equal(lw_error_last()->message, want);
	assert_int_equal(lw_error_last()->klass, LW_ERRCLASS_DATA);
	free(path);
	expect_error("1,2\n3,oops\n", NULL, LW_EINVALID, "row 2, column 2: 'oops' is not a number",
		     "--drop 2", NULL);
	/* A name that would need shell quoting is hinted by number. */
	expect_error("id,sale price\n1,$3\n", NULL, LW_EINVALID,
		     "row 2, column 2 'sale price': '$3'", "--drop 2", NULL);
}

static void test_data_cells__decimal_comma_hint(void **state)
{
	(void)state;
	expect_error("a;b\n1,5;2\n", NULL, LW_EINVALID, "row 2, column 1 'a': '1,5'",
		     "decimals with '.'", NULL);
}

static void test_data_cells__long_values_are_cut_in_messages(void **state)
{
	char text[600] = "x\n";

	(void)state;
	memset(text + 2, 'y', 500);
	text[502] = '\0';
	expect_error(text, NULL, LW_EINVALID, "'yyyyyyyy", "...'", NULL);
	assert_true(strlen(lw_error_last()->message) < 400);
}

/* --- column selection --------------------------------------------------- */

static const char select_csv[] = "a,b,c,d,e\n1,2,3,4,5\n6,7,8,9,10\n";

static void test_data_select__by_name_index_and_range(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const n1[] = { "e", "a", "b", "c" }, *const n2[] = { "b", "c", "d", "e" };

	(void)state;
	o.columns = " e , 1-3 ,a";
	expect_table(select_csv, &o, 2, 4, (const double[]){ 5, 1, 2, 3, 10, 6, 7, 8 }, n1);
	o.columns = "2-";
	expect_table(select_csv, &o, 2, 4, (const double[]){ 2, 3, 4, 5, 7, 8, 9, 10 }, n2);
	o.columns = "4,4,d,";
	expect_table(select_csv, &o, 2, 1, (const double[]){ 4, 9 }, (const char *const[]){ "d" });
}

static void test_data_select__drop(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "b", "d" };

	(void)state;
	o.drop = "a,c,5";
	expect_table(select_csv, &o, 2, 2, (const double[]){ 2, 4, 7, 9 }, names);
	o.columns = "1-4";
	o.drop = "a,3";
	expect_table(select_csv, &o, 2, 2, (const double[]){ 2, 4, 7, 9 }, names);
}

static void test_data_select__unparsed_text_columns(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	const char *const names[] = { "price" };

	(void)state;
	o.columns = "price";
	expect_table("name,price,note\nbob,1,\"x,\"\"y\"\"\"\nal,2,-\n", &o, 2, 1,
		     (const double[]){ 1, 2 }, names);
}

static void test_data_select__errors(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;

	(void)state;
	o.columns = "a,prize";
	expect_error(select_csv, &o, LW_ENOTFOUND, "--columns names no column 'prize'",
		     "the 5 columns are: a, b, c, d, e", NULL);
	o.columns = "A";
	expect_error(select_csv, &o, LW_ENOTFOUND, "did you mean 'a'?", NULL, NULL);
	o.columns = "6";
	expect_error(select_csv, &o, LW_ENOTFOUND, "column 6, which is out of range", "a, b", NULL);
	o.columns = "0";
	expect_error(select_csv, &o, LW_EINVALID, "start at 1", NULL, NULL);
	o.columns = "4-2";
	expect_error(select_csv, &o, LW_EINVALID, "4-2 is backwards", NULL, NULL);
	o.columns = "1-9";
	expect_error(select_csv, &o, LW_ENOTFOUND, "out of range", NULL, NULL);
	o.columns = NULL;
	o.drop = "z";
	expect_error(select_csv, &o, LW_ENOTFOUND, "--drop names no column 'z'", NULL, NULL);
	o.drop = "a";
	expect_error("1,2\n", &o, LW_ENOTFOUND, "by name", "looks like data", NULL);
	o.drop = NULL;
	o.columns = "x";
	expect_error("x,x,y\n1,2,3\n", &o, LW_EINVALID, "ambiguous (columns 1 and 2)", NULL, NULL);
}

static void test_data_select__long_column_lists_are_cut(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char *text = malloc(20000), *p = text;

	(void)state;
	for (int j = 0; j < 500; j++)
		p += sprintf(p, "%scolumn_number_%d", j ? "," : "", j);
	p += sprintf(p, "\n");
	for (int j = 0; j < 500; j++)
		p += sprintf(p, "%s%d", j ? "," : "", j);
	p += sprintf(p, "\n");
	o.columns = "nope";
	expect_error(text, &o, LW_ENOTFOUND, "column_number_0, column_number_1", "more)", NULL);
	/*
	 * Control bytes print 4x wider; with these widths the list used to
	 * run past its buffer (found by the fuzzer).
	 */
	p = text + sprintf(text, "%025d", 0);
	for (int j = 1; j < 20; j++)
		p += sprintf(p, ",%d%060d", j, 0);
	for (char *q = text; *q; q++)
		*q = *q == '0' ? '\x14' : *q;
	p += sprintf(p, "\n");
	for (int j = 0; j < 20; j++)
		p += sprintf(p, "%s%d", j ? "," : "", j);
	p += sprintf(p, "\n");
	expect_error(text, &o, LW_ENOTFOUND, "\\x14\\x14", "more)", NULL);
	free(text);
}

static void test_data_limits__max_cells(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;

	(void)state;
	o.max_cells = 6;
	expect_table("1,2\n3,4\n5,6\n", &o, 3, 2, (const double[]){ 1, 2, 3, 4, 5, 6 }, NULL);
	expect_error("1,2\n3,4\n5,6\n7,8\n", &o, LW_EINVALID, "row 4", "max_cells", NULL);
	o.columns = "1";
	expect_table("1,2\n3,4\n5,6\n7,8\n", &o, 4, 1, (const double[]){ 1, 3, 5, 7 }, NULL);
}

static void test_data_options__init_and_version(void **state)
{
	lw_data_options o, init = LW_DATA_OPTIONS_INIT;
	lw_mat m = LW_MAT_INIT;

	(void)state;
	memset(&o, 0xff, sizeof(o));
	assert_int_equal(lw_data_options_init(&o, LW_DATA_OPTIONS_VERSION), 0);
	assert_int_equal(o.version, init.version);
	assert_int_equal(o.header, LW_DATA_HEADER_AUTO);
	assert_int_equal(o.delimiter, 0);
	assert_null(o.columns);
	assert_null(o.drop);
	assert_int_equal(o.max_cells, LW_DATA_MAX_CELLS_DEFAULT);
	assert_int_equal(lw_data_options_init(&o, 99), LW_EINVALID);
	o = init;
	o.version = 2;
	assert_int_equal(lw_data_parse_csv(&m, NULL, "1\n", 2, "x", &o), LW_EINVALID);
	assert_message_has("version");
}

/* --- files -------------------------------------------------------------- */

static void test_data_read__missing_file_and_directory(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char *path = lwt_write_file(tmpdir, "nope", "");

	(void)state;
	remove(path);
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), LW_ENOTFOUND);
	assert_int_equal(lw_error_last()->klass, LW_ERRCLASS_OS);
	assert_message_has(path);
	assert_message_has("No such file");
	assert_int_equal(lw_data_read(&m, NULL, tmpdir, NULL), LW_EIO);
	assert_message_has(tmpdir);
	assert_null(m.data);
	free(path);
}

static void test_data_read__parse_buffer(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char **names = NULL;

	(void)state;
	/* No terminator needed: the buffer ends inside a number. */
	assert_int_equal(lw_data_parse(&m, &names, "x\n12345", 6, "mem", NULL), 0);
	expect_values(&m, 1, 1, (const double[]){ 1234 });
	expect_names(names, (const char *const[]){ "x" }, 1);
	lw_data_free_names(names);
	lw_mat_dispose(&m);
	assert_int_equal(lw_data_parse_csv(&m, NULL, "x\ny", 3, "mem", NULL), LW_EINVALID);
	assert_message_has("mem: row 2, column 1 'x': 'y'");
}

/* --- raw matrices -------------------------------------------------------- */

static void random_matrix(lw_mat *m, size_t rows, size_t cols, uint64_t seed)
{
	static const double special[] = { 0.0, -0.0, 1e-310, -1e308, 0.1 };
	lw_rng rng;

	assert_int_equal(lw_mat_init(m, rows, cols), 0);
	lw_rng_seed(&rng, seed);
	for (size_t i = 0; i < rows * cols; i++)
		m->data[i] = lw_rng_normal(&rng) * pow(10, (int)lw_rng_below(&rng, 40) - 20);
	for (size_t i = 0; i < 5 && i < rows * cols; i++)
		m->data[i] = special[i];
	if (rows * cols > 7) {
		m->data[5] = NAN;
		m->data[6] = INFINITY;
		m->data[7] = -INFINITY;
	}
}

static void assert_same_bits(const lw_mat *a, const lw_mat *b)
{
	assert_int_equal(a->rows, b->rows);
	assert_int_equal(a->cols, b->cols);
	assert_memory_equal(a->data, b->data, a->rows * a->cols * sizeof(double));
}

static void test_data_raw__round_trip(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char *path = lwt_write_file(tmpdir, "m.lwm", "");
	lw_mat m, back = LW_MAT_INIT;
	char **names = (char **)&o;

	(void)state;
	random_matrix(&m, 37, 5, 1);
	assert_int_equal(lw_data_write_raw(path, &m), 0);
	assert_int_equal(lw_data_read(&back, &names, path, NULL), 0);
	assert_null(names);
	assert_same_bits(&m, &back);
	lw_mat_dispose(&back);
	assert_int_equal(lw_data_read_raw(&back, NULL, path, NULL), 0);
	assert_same_bits(&m, &back);
	lw_mat_dispose(&back);
	o.columns = "5,1-2";
	o.drop = "2";
	assert_int_equal(lw_data_read(&back, NULL, path, &o), 0);
	assert_int_equal(back.cols, 2);
	for (size_t i = 0; i < m.rows; i++) {
		assert_memory_equal(&back.data[i * 2], &m.data[i * 5 + 4], sizeof(double));
		assert_memory_equal(&back.data[i * 2 + 1], &m.data[i * 5], sizeof(double));
	}
	lw_mat_dispose(&back);
	lw_mat_dispose(&m);
	free(path);
}

static void test_data_raw__layout_is_little_endian(void **state)
{
	static const unsigned char want[24 + 16] = {
		'L', 'W', 'M', 'A', 'T', 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0xf0, 0x3f, /* 1.0 */
		0, 0, 0, 0, 0, 0, 0, 0xc0, /* -2.0 */
	};
	lw_mat m = { 1, 2, (double[]){ 1.0, -2.0 } };
	char *path = lwt_write_file(tmpdir, "m.lwm", "");
	unsigned char got[64];
	FILE *f;

	(void)state;
	assert_int_equal(lw_data_write_raw(path, &m), 0);
	f = fopen(path, "rb");
	assert_int_equal(fread(got, 1, sizeof(got), f), sizeof(want));
	fclose(f);
	assert_memory_equal(got, want, sizeof(want));
	free(path);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* A raw image with the given header fields and `values` doubles of payload. */
static int read_raw_image(uint64_t rows, uint64_t cols, size_t values, const char *magic,
			  const lw_data_options *o)
{
	size_t len = 24 + values * 8;
	unsigned char *img = calloc(1, len);
	lw_mat m = LW_MAT_INIT;
	char *path;
	int err;

	memcpy(img, magic, 8);
	put_u64(img + 8, rows);
	put_u64(img + 16, cols);
	path = write_bytes("r.lwm", img, len);
	err = lw_data_read(&m, NULL, path, o);
	if (err == 0 && !o)
		assert_int_equal(m.rows * m.cols, values);
	if (err < 0)
		assert_null(m.data);
	lw_mat_dispose(&m);
	free(img);
	free(path);
	return err;
}

static const char good_magic[8] = { 'L', 'W', 'M', 'A', 'T', 0, 1, 0 };

static void test_data_raw__size_must_match(void **state)
{
	(void)state;
	assert_int_equal(read_raw_image(2, 3, 6, good_magic, NULL), 0);
	assert_int_equal(read_raw_image(2, 3, 5, good_magic, NULL), LW_EINVALID);
	assert_message_has("r.lwm: a 2 x 3 raw matrix takes 72 bytes, but the file has 64 "
			   "(truncated)");
	assert_int_equal(read_raw_image(2, 3, 7, good_magic, NULL), LW_EINVALID);
	assert_message_has("takes 72 bytes, but the file has 80 (trailing bytes)");
	assert_int_equal(read_raw_image(0, 3, 0, good_magic, NULL), LW_EINVALID);
	assert_message_has("empty");
}

static void test_data_raw__absurd_headers_allocate_nothing(void **state)
{
	(void)state;
	/* Sizes that would need exabytes fail on the size check, not malloc. */
	assert_int_equal(read_raw_image(UINT64_C(1) << 40, UINT64_C(1) << 20, 1, good_magic, NULL),
			 LW_EINVALID);
	assert_message_has("but the file has 32");
	assert_int_equal(read_raw_image(UINT64_C(1) << 62, 4, 1, good_magic, NULL), LW_EINVALID);
	assert_message_has("overflows");
	assert_int_equal(read_raw_image(UINT64_MAX, UINT64_MAX, 0, good_magic, NULL), LW_EINVALID);
	assert_message_has("overflows");
}

static void test_data_raw__bad_magic_version_and_header(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char *path;

	(void)state;
	assert_int_equal(read_raw_image(1, 1, 1, "LWMAT\0\2\0", NULL), LW_EINVALID);
	assert_message_has("version byte 2");
	path = write_bytes("r.lwm", "LWMAT\0\1\0\1\0", 10);
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), LW_EINVALID);
	assert_message_has("header cut short: 10 of 24 bytes");
	free(path);
	path = write_bytes("r.lwm", "1,2\n", 4);
	assert_int_equal(lw_data_read_raw(&m, NULL, path, NULL), LW_EINVALID);
	assert_message_has("not a raw matrix file");
	free(path);
	/* Read as CSV, a raw file is binary; say what it is. */
	path = write_bytes("r.lwm", "LWMAT\0\1\0", 8);
	assert_int_equal(lw_data_read_csv(&m, NULL, path, NULL), LW_EINVALID);
	assert_message_has("raw matrix");
	free(path);
}

static void test_data_raw__selection(void **state)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;

	(void)state;
	o.columns = "2";
	assert_int_equal(read_raw_image(2, 3, 6, good_magic, &o), 0);
	o.columns = "price";
	assert_int_equal(read_raw_image(2, 3, 6, good_magic, &o), LW_ENOTFOUND);
	assert_message_has("raw matrix files have no column names");
	o.columns = "4";
	assert_int_equal(read_raw_image(2, 3, 6, good_magic, &o), LW_ENOTFOUND);
	assert_message_has("the file has 3 columns");
	o.columns = "2-3";
	o.max_cells = 3;
	assert_int_equal(read_raw_image(2, 3, 6, good_magic, &o), LW_EINVALID);
	assert_message_has("max_cells");
}

/* --- writing CSV ---------------------------------------------------------- */

static void test_data_write_csv__round_trip(void **state)
{
	const char *const names[] = { "plain", "with,comma", "with \"quote\"", " edge", "NA" };
	char *path = lwt_write_file(tmpdir, "w.csv", "");
	lw_mat m, back = LW_MAT_INIT;
	char **got = NULL;

	(void)state;
	random_matrix(&m, 41, 5, 2);
	assert_int_equal(lw_data_write_csv(path, &m, names), 0);
	assert_int_equal(lw_data_read(&back, &got, path, NULL), 0);
	expect_names(got, names, 5);
	assert_int_equal(back.rows, m.rows);
	for (size_t i = 0; i < m.rows * m.cols; i++) {
		if (isnan(m.data[i]))
			assert_true(isnan(back.data[i]));
		else
			assert_memory_equal(&back.data[i], &m.data[i], sizeof(double));
	}
	lw_data_free_names(got);
	lw_mat_dispose(&back);
	lw_mat_dispose(&m);
	free(path);
}

static void test_data_write_csv__short_numbers(void **state)
{
	lw_mat m = { 2, 3, (double[]){ 0.1, 1.0 / 3, 100, -2.5e-300, NAN, -INFINITY } };
	char *path = lwt_write_file(tmpdir, "w.csv", ""), text[256] = "";
	FILE *f;

	(void)state;
	assert_int_equal(lw_data_write_csv(path, &m, NULL), 0);
	f = fopen(path, "r");
	assert_true(fread(text, 1, sizeof(text) - 1, f) > 0);
	fclose(f);
	assert_string_equal(text, "0.1,0.3333333333333333,100\n-2.5e-300,NaN,-inf\n");
	assert_int_equal(lw_data_write_csv("/nonexistent/dir/w.csv", &m, NULL), LW_ENOTFOUND);
	assert_message_has("/nonexistent/dir/w.csv");
	free(path);
}

/* --- the team's real data sets ------------------------------------------- */

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) * 1e-6;
}

static void test_data_shared__boston(void **state)
{
	lw_mat m = LW_MAT_INIT;
	char **names = NULL;
	const double *last;

	(void)state;
	assert_int_equal(lw_data_read(&m, &names, lwt_shared_path("data/boston.csv"), NULL), 0);
	assert_int_equal(m.rows, 506);
	assert_int_equal(m.cols, 14);
	assert_string_equal(names[0], "crim");
	assert_string_equal(names[13], "target");
	assert_null(names[14]);
	assert_true(m.data[0] == 0.00632);
	assert_true(m.data[13] == 24);
	last = lw_mat_row(&m, 505);
	assert_true(last[0] == 0.04741 && last[7] == 2.505 && last[13] == 19);
	lw_data_free_names(names);
	lw_mat_dispose(&m);
}

static void test_data_shared__diamonds_without_text_columns(void **state)
{
	const char *const want[] = { "carat", "depth", "table", "x", "y", "z", "price" };
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	lw_mat m = LW_MAT_INIT;
	char **names = NULL;
	struct timespec t0;
	const double *last;

	(void)state;
	o.drop = "cut,color,clarity";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lw_data_read(&m, &names, lwt_shared_path("data/diamonds.csv"), &o), 0);
	print_message("diamonds.csv: %zu x %zu in %.1f ms\n", m.rows, m.cols, ms_since(&t0));
	assert_int_equal(m.rows, 53940);
	assert_int_equal(m.cols, 7);
	expect_names(names, want, 7);
	assert_true(m.data[0] == 0.23 && m.data[1] == 61.5 && m.data[5] == 2.43 &&
		    m.data[6] == 326);
	last = lw_mat_row(&m, 53939);
	assert_true(last[0] == 0.75 && last[1] == 62.2 && last[6] == 2757);
	lw_data_free_names(names);
	lw_mat_dispose(&m);
}

static void test_data_shared__diamonds_text_column_is_reported(void **state)
{
	lw_mat m = LW_MAT_INIT;

	(void)state;
	assert_int_equal(lw_data_read(&m, NULL, lwt_shared_path("data/diamonds.csv"), NULL),
			 LW_EINVALID);
	assert_message_has("diamonds.csv: row 2, column 2 'cut': 'Ideal' is not a number");
	assert_message_has("--drop cut");
}

static void test_data_speed__50k_rows_20_columns(void **state)
{
	lw_mat m = LW_MAT_INIT;
	size_t cap = 50000 * 20 * 24, n = 0;
	char *text = malloc(cap);
	struct timespec t0;
	lw_rng rng;
	double ms;
	char *path;

	(void)state;
	lw_rng_seed(&rng, 3);
	for (int i = 0; i < 50000; i++)
		for (int j = 0; j < 20; j++)
			n += (size_t)snprintf(text + n, cap - n, "%.6g%c", lw_rng_normal(&rng) * 100,
					      j == 19 ? '\n' : ',');
	path = lwt_write_file(tmpdir, "big.csv", text);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lw_data_read(&m, NULL, path, NULL), 0);
	ms = ms_since(&t0);
	print_message("50000 x 20 (%zu bytes): %.1f ms\n", n, ms);
	assert_int_equal(m.rows, 50000);
	assert_int_equal(m.cols, 20);
	/* Generous: sanitizer builds run several times slower. */
	assert_true(ms < 2000);
	lw_mat_dispose(&m);
	free(text);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_header__auto_detects_names),
		cmocka_unit_test(test_data_header__auto_detects_data),
		cmocka_unit_test(test_data_header__auto_with_text_and_missing_columns),
		cmocka_unit_test(test_data_header__auto_all_text_first_row),
		cmocka_unit_test(test_data_header__forced),
		cmocka_unit_test(test_data_header__only_header_is_an_error),
		cmocka_unit_test(test_data_delimiter__detects_each),
		cmocka_unit_test(test_data_delimiter__semicolon_with_commas_in_text),
		cmocka_unit_test(test_data_delimiter__ignores_quoted),
		cmocka_unit_test(test_data_delimiter__explicit),
		cmocka_unit_test(test_data_delimiter__single_column),
		cmocka_unit_test(test_data_quotes__rfc4180),
		cmocka_unit_test(test_data_quotes__rows_count_lines_inside_quotes),
		cmocka_unit_test(test_data_quotes__unterminated),
		cmocka_unit_test(test_data_lines__crlf_bom_and_no_final_newline),
		cmocka_unit_test(test_data_lines__blank_lines_skipped),
		cmocka_unit_test(test_data_lines__tab_only_line_is_a_row_in_tsv),
		cmocka_unit_test(test_data_lines__ragged_rows),
		cmocka_unit_test(test_data_bytes__nul_and_utf16_rejected),
		cmocka_unit_test(test_data_empty__file_and_whitespace),
		cmocka_unit_test(test_data_cells__missing_tokens_are_nan),
		cmocka_unit_test(test_data_cells__infinities),
		cmocka_unit_test(test_data_cells__number_forms),
		cmocka_unit_test(test_data_cells__parse_matches_strtod),
		cmocka_unit_test(test_data_cells__text_names_row_column_and_value),
		cmocka_unit_test(test_data_cells__decimal_comma_hint),
		cmocka_unit_test(test_data_cells__long_values_are_cut_in_messages),
		cmocka_unit_test(test_data_select__by_name_index_and_range),
		cmocka_unit_test(test_data_select__drop),
		cmocka_unit_test(test_data_select__unparsed_text_columns),
		cmocka_unit_test(test_data_select__errors),
		cmocka_unit_test(test_data_select__long_column_lists_are_cut),
		cmocka_unit_test(test_data_limits__max_cells),
		cmocka_unit_test(test_data_options__init_and_version),
		cmocka_unit_test(test_data_read__missing_file_and_directory),
		cmocka_unit_test(test_data_read__parse_buffer),
		cmocka_unit_test(test_data_raw__round_trip),
		cmocka_unit_test(test_data_raw__layout_is_little_endian),
		cmocka_unit_test(test_data_raw__size_must_match),
		cmocka_unit_test(test_data_raw__absurd_headers_allocate_nothing),
		cmocka_unit_test(test_data_raw__bad_magic_version_and_header),
		cmocka_unit_test(test_data_raw__selection),
		cmocka_unit_test(test_data_write_csv__round_trip),
		cmocka_unit_test(test_data_write_csv__short_numbers),
		cmocka_unit_test(test_data_shared__boston),
		cmocka_unit_test(test_data_shared__diamonds_without_text_columns),
		cmocka_unit_test(test_data_shared__diamonds_text_column_is_reported),
		cmocka_unit_test(test_data_speed__50k_rows_20_columns),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
