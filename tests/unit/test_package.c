#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "lw/package.h"

/* Every test gets a fresh folder in *state, removed afterwards. */
static int setup(void **state)
{
	*state = lwt_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	lwt_rmtree(*state);
	free(*state);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

static void expect_message(const char *fragment)
{
	if (!strstr(lw_error_last()->message, fragment))
		fail_msg("message '%s' lacks '%s'", lw_error_last()->message, fragment);
}

static int exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t len)
{
	char *p = path_in(dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(p);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* --- zips built here with libzip -------------------------------------------------- */

typedef struct {
	const char *name;
	const char *data; /* NULL: a folder entry */
	size_t len;       /* 0: strlen(data) */
	unsigned mode;    /* Unix mode with type bits; 0: libzip's default */
} zent;

static void build_zip(const char *path, const zent *e, size_t n)
{
	zip_t *za;
	int code;

	za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
	assert_non_null(za);
	for (size_t i = 0; i < n; i++) {
		zip_int64_t idx;

		if (!e[i].data) {
			idx = zip_dir_add(za, e[i].name, 0);
		} else {
			size_t len = e[i].len ? e[i].len : strlen(e[i].data);
			zip_source_t *src = zip_source_buffer(za, e[i].data, len, 0);

			idx = zip_file_add(za, e[i].name, src, 0);
		}
		if (idx < 0)
			fail_msg("cannot add %s: %s", e[i].name, zip_strerror(za));
		if (e[i].mode)
			assert_int_equal(zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0,
									  ZIP_OPSYS_UNIX, e[i].mode << 16), 0);
	}
	assert_int_equal(zip_close(za), 0);
}

/* Replace every occurrence of `from` with the n bytes `to` in the file's bytes. */
static void patch_n(const char *path, const char *from, const char *to, size_t n)
{
	size_t len, hits = 0;
	char *buf = read_all(path, &len);
	FILE *f;

	assert_int_equal(strlen(from), n);
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(buf + i, from, n)) {
			memcpy(buf + i, to, n);
			hits++;
		}
	assert_true(hits >= 2); /* local header and central directory */
	f = fopen(path, "wb");
	fwrite(buf, 1, len, f);
	fclose(f);
	free(buf);
}

static void patch_bytes(const char *path, const char *from, const char *to)
{
	patch_n(path, from, to, strlen(to));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* Make the entry `name` claim `size` uncompressed bytes, in both of its headers. */
static void lie_about_size(const char *path, const char *name, uint32_t size)
{
	size_t len, eocd = 0, n = strlen(name);
	unsigned char *b = (unsigned char *)read_all(path, &len);
	FILE *f;

	for (size_t i = len - 22;; i--)
		if (get32(b + i) == 0x06054b50) {
			eocd = i;
			break;
		}
	for (size_t off = get32(b + eocd + 16); get32(b + off) == 0x02014b50;) {
		size_t nlen = b[off + 28] | (size_t)b[off + 29] << 8;
		size_t extra = b[off + 30] | (size_t)b[off + 31] << 8;
		size_t comment = b[off + 32] | (size_t)b[off + 33] << 8;

		if (nlen == n && !memcmp(b + off + 46, name, n)) {
			put32(b + off + 24, size);
			put32(b + get32(b + off + 42) + 22, size);
		}
		off += 46 + nlen + extra + comment;
	}
	f = fopen(path, "wb");
	fwrite(b, 1, len, f);
	fclose(f);
	free(b);
}

static const char LINEAR_YAML[] = "name: demo\n"
				  "model:\n  kind: linear\n  file: model.json\n";
static const char SPEC_JSON[] =
	"{\"z\":[[1,2]],\"beta\":[1],\"gamma\":0.1,\"num_points\":3,\"type\":\"RKMETableSpecification\"}";

/* A zip holding a valid linear package plus the extra entries. */
static char *zip_with(const char *dir, const zent *extra, size_t n)
{
	zent e[32] = {
		{ "learnware.yaml", LINEAR_YAML, 0, 0 },
		{ "model.json", "{}", 0, 0 },
		{ "stat_spec.json", SPEC_JSON, 0, 0 },
	};
	char *zip = path_in(dir, "t.zip");

	assert_true(n <= 29);
	if (n)
		memcpy(e + 3, extra, n * sizeof(*extra));
	build_zip(zip, e, n + 3);
	return zip;
}

/* lw_package_open refuses with code and message, and nothing stays behind. */
static void expect_refused(const char *dir, const char *zip, const lw_package_limits *lim,
			   int code, const char *fragment)
{
	char *out = path_in(dir, "out");
	lw_package *p = (lw_package *)1;

	assert_int_equal(lw_package_open(&p, zip, out, lim), code);
	assert_null(p);
	expect_message(fragment);
	if (exists(out))
		fail_msg("%s was left behind", out);
	free(out);
}

/* --- manifest ---------------------------------------------------------------------- */

static void parse_ok(lw_manifest *m, const char *yaml)
{
	if (lw_manifest_parse(m, yaml, strlen(yaml), "learnware.yaml") != 0)
		fail_msg("parse failed: %s", lw_error_last()->message);
}

static void test_package_manifest__reads_every_field(void **state)
{
	static const char yaml[] =
		"format_version: 1\n"
		"name: \"diamonds \\\"price\\\"\"\n"
		"id: lw-42\n"
		"model:\n"
		"  kind: mlp\n"
		"  file: ./models//net.json\n"
		"  input_shape: [3, 32]\n"
		"  output_shape: 5\n"
		"stat_specifications:\n"
		"  - class_name: RKMETableSpecification\n"
		"    file_name: specs/table.json\n"
		"    kwargs: {gamma: 0.5}\n"
		"  - module_path: learnware.specification\n"
		"    class_name: RKMETextSpecification\n"
		"    file_name: text.json\n"
		"semantic_specification:\n"
		"  file_name: semantic.json\n";
	lw_manifest m;

	(void)state;
	parse_ok(&m, yaml);
	assert_int_equal(m.format_version, 1);
	assert_string_equal(m.name, "diamonds \"price\"");
	assert_string_equal(m.id, "lw-42");
	assert_int_equal(m.model.kind, LW_MODEL_MLP);
	assert_string_equal(m.model.file, "models/net.json");
	assert_int_equal(m.model.input_ndim, 2);
	assert_int_equal(m.model.input_shape[0], 3);
	assert_int_equal(m.model.input_shape[1], 32);
	assert_int_equal(m.model.output_ndim, 1);
	assert_int_equal(m.model.output_shape[0], 5);
	assert_null(m.model.class_name);
	assert_null(m.model.command);
	assert_int_equal(m.num_stat_specs, 2);
	assert_string_equal(m.stat_specs[0].module_path, "learnware.specification");
	assert_string_equal(m.stat_specs[0].file_name, "specs/table.json");
	assert_string_equal(m.stat_specs[0].kwargs_json, "{\"gamma\":0.5}");
	assert_string_equal(m.stat_specs[1].class_name, "RKMETextSpecification");
	assert_string_equal(m.stat_specs[1].kwargs_json, "{}");
	assert_string_equal(m.semantic_spec, "semantic.json");
	assert_int_equal(m.num_warnings, 0);
	lw_manifest_dispose(&m);
}

static void test_package_manifest__reference_defaults(void **state)
{
	lw_manifest m;

	(void)state;
	parse_ok(&m, "model:\n  class_name: MyModel\n");
	assert_int_equal(m.model.kind, LW_MODEL_PYTHON);
	assert_string_equal(m.model.class_name, "MyModel");
	assert_string_equal(m.model.module_path, "__init__.py");
	assert_string_equal(m.model.kwargs_json, "{}");
	assert_int_equal(m.num_stat_specs, 1);
	assert_string_equal(m.stat_specs[0].module_path, "learnware.specification");
	assert_string_equal(m.stat_specs[0].class_name, "RKMETableSpecification");
	assert_string_equal(m.stat_specs[0].file_name, "stat_spec.json");
	assert_null(m.semantic_spec);
	lw_manifest_dispose(&m);

	parse_ok(&m, "{}");
	assert_int_equal(m.model.kind, LW_MODEL_PYTHON);
	assert_string_equal(m.model.class_name, "Model");
	lw_manifest_dispose(&m);

	parse_ok(&m, "model:\n  command: [bin/serve, --fast]\nstat_specifications: []\n");
	assert_int_equal(m.model.kind, LW_MODEL_PROCESS);
	assert_int_equal(m.model.command_len, 2);
	assert_string_equal(m.model.command[1], "--fast");
	assert_null(m.model.command[2]);
	assert_int_equal(m.num_stat_specs, 0);
	lw_manifest_dispose(&m);
}

static void test_package_manifest__kwargs_resolve_as_pyyaml(void **state)
{
	lw_manifest m;

	(void)state;
	parse_ok(&m, "model:\n  kwargs: {a: 1, b: yes, c: 'x', d: null, e: [1, 2.5, -3e2], f: ~, "
		     "g: \"1\", h: {i: Off}, j: hello world, k: 99999999999999999999}\n");
	assert_string_equal(m.model.kwargs_json,
			    "{\"a\":1,\"b\":true,\"c\":\"x\",\"d\":null,\"e\":[1,2.5,-300.0],"
			    "\"f\":null,\"g\":\"1\",\"h\":{\"i\":false},\"j\":\"hello world\","
			    "\"k\":1e20}");
	lw_manifest_dispose(&m);
}

static void test_package_manifest__unknown_keys_are_warnings(void **state)
{
	lw_manifest m;

	(void)state;
	parse_ok(&m, "model:\n  kind: linear\n  file: m.json\n  input_shpae: [3]\nextra: 1\n");
	assert_int_equal(m.num_warnings, 2);
	assert_non_null(strstr(m.warnings[0], "learnware.yaml: model.input_shpae: unknown key"));
	assert_non_null(strstr(m.warnings[0], "line 4"));
	assert_non_null(strstr(m.warnings[1], "extra"));
	lw_manifest_dispose(&m);
}

static void test_package_manifest__errors_name_the_key(void **state)
{
	static const struct {
		const char *yaml, *fragment;
	} cases[] = {
		{ "model:\n  kind: tensorflow\n",
		  "learnware.yaml: model.kind: 'tensorflow' is not a model kind; use one of linear, "
		  "logistic, mlp, xgboost, process, python (line 2)" },
		{ "model: [1\n", "learnware.yaml: line " },
		{ "model:\n\tkind: x\n", "learnware.yaml: line 2" },
		{ "- a\n- b\n", "must be a mapping of keys" },
		{ "", "holds no YAML document" },
		{ "# nothing\n", "holds no YAML document" },
		{ "~\n", "found null" },
		{ "name: a\nname: b\n", "duplicate key" },
		{ "x: &a linear\nmodel: {kind: *a}\n", "model.kind: aliases" },
		{ "model:\n  kind: linear\n", "model: kind linear needs model.file" },
		{ "model:\n  file: m.json\n", "model.kind: missing; say which kind" },
		{ "model:\n  module_path: m.so\n", "model.kind: missing, and model.module_path 'm.so'" },
		{ "model:\n  kind: linear\n  file: ../m.json\n",
		  "model.file: '../m.json' has a '..' component" },
		{ "model:\n  kind: linear\n  file: /etc/passwd\n", "model.file: '/etc/passwd' is an absolute path" },
		{ "model:\n  kind: linear\n  file: 'a\\b'\n", "holds a backslash" },
		{ "model:\n  kind: linear\n  file: [a]\n", "model.file: must be a single value, found a list" },
		{ "model:\n  kind: linear\n  file: m\n  command: [x]\n", "takes no model.command" },
		{ "model:\n  kind: process\n", "kind process needs model.command" },
		{ "model:\n  kind: process\n  command: []\n", "model.command: must name the program" },
		{ "model:\n  kind: python\n  file: m.json\n", "kind python takes no model.file" },
		{ "model:\n  kind: python\n  module_path: m.txt\n", "needs model.module_path to be a .py" },
		{ "model:\n  class_name: 1abc\n", "model.class_name: '1abc' is not a Python class name" },
		{ "model:\n  input_shape: [3, a]\n", "model.input_shape[1]: 'a' is not a whole number" },
		{ "model:\n  input_shape: [0]\n", "model.input_shape[0]: 0 is out of range" },
		{ "model:\n  input_shape: []\n", "must list at least one dimension" },
		{ "model:\n  output_shape: [1,1,1,1,1,1,1,1,1]\n", "over the limit of 8" },
		{ "model:\n  kwargs: [1]\n", "model.kwargs: must be a mapping of keys, found a list" },
		{ "model:\n  kwargs: {a: .inf}\n", "model.kwargs.a: '.inf' is not a finite number" },
		{ "stat_specifications: 5\n", "stat_specifications: must be a list" },
		{ "stat_specifications:\n  - file_name: ../x\n",
		  "stat_specifications[0].file_name: '../x' has a '..' component" },
		{ "stat_specifications:\n  - [a]\n", "stat_specifications[0]: must be a mapping" },
		{ "semantic_specification: {file_name: /x}\n", "semantic_specification.file_name" },
		{ "format_version: 2\n", "format_version: version 2 is newer than this dock reads" },
		{ "format_version: one\n", "format_version: 'one' is not a whole number" },
		{ "name: \"a\\x01b\"\n", "name: holds a control character" },
		{ "name: \"\"\n", "name: must not be empty" },
		{ "? [a]\n: b\n", "keys must be plain names" },
		/* libfyaml 0.7.12 loops forever on this one: it must not see it. */
		{ "%\x8a", "learnware.yaml: line 1: byte 0x8a is not UTF-8" },
		{ "name: ok\nid: \xff\n", "line 2: byte 0xff is not UTF-8" },
		/* It misreads 'a''''b' and leaks on longer runs. */
		{ "name: ok\nid: 'a''''b'\n", "line 2: four single quotes in a row" },
	};
	lw_manifest m;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = lw_manifest_parse(&m, cases[i].yaml, strlen(cases[i].yaml), "learnware.yaml");

		if (rc != LW_EINVALID)
			fail_msg("case %zu (%s): rc %d", i, cases[i].yaml, rc);
		if (!strstr(lw_error_last()->message, cases[i].fragment))
			fail_msg("case %zu: message '%s' lacks '%s'", i, lw_error_last()->message,
				 cases[i].fragment);
		assert_null(m.model.file);
		assert_null(m.stat_specs);
	}
	assert_int_equal(lw_manifest_parse(&m, "name: a\0b", 9, "learnware.yaml"), LW_EINVALID);
	expect_message("NUL");
}

static void expect_same_manifest(const lw_manifest *a, const lw_manifest *b)
{
#define SAME_STR(x, y)                                    \
	do {                                              \
		if ((x) || (y))                           \
			assert_string_equal((x) ? (x) : "(null)", (y) ? (y) : "(null)"); \
	} while (0)
	SAME_STR(a->name, b->name);
	SAME_STR(a->id, b->id);
	assert_int_equal(a->model.kind, b->model.kind);
	SAME_STR(a->model.file, b->model.file);
	assert_int_equal(a->model.command_len, b->model.command_len);
	for (size_t i = 0; i < a->model.command_len; i++)
		SAME_STR(a->model.command[i], b->model.command[i]);
	SAME_STR(a->model.class_name, b->model.class_name);
	SAME_STR(a->model.module_path, b->model.module_path);
	SAME_STR(a->model.kwargs_json, b->model.kwargs_json);
	assert_int_equal(a->model.input_ndim, b->model.input_ndim);
	assert_int_equal(a->model.output_ndim, b->model.output_ndim);
	assert_memory_equal(a->model.input_shape, b->model.input_shape, sizeof(a->model.input_shape));
	assert_int_equal(a->num_stat_specs, b->num_stat_specs);
	for (size_t i = 0; i < a->num_stat_specs; i++) {
		SAME_STR(a->stat_specs[i].module_path, b->stat_specs[i].module_path);
		SAME_STR(a->stat_specs[i].class_name, b->stat_specs[i].class_name);
		SAME_STR(a->stat_specs[i].file_name, b->stat_specs[i].file_name);
		SAME_STR(a->stat_specs[i].kwargs_json, b->stat_specs[i].kwargs_json);
	}
	SAME_STR(a->semantic_spec, b->semantic_spec);
#undef SAME_STR
}

static void test_package_manifest__yaml_round_trips(void **state)
{
	static const char *const docs[] = {
		"name: 'it''s \"quoted\" \\ and ünïcode'\nmodel:\n  kind: xgboost\n  file: m.ubj\n"
		"  input_shape: [4]\n  output_shape: [2, 3]\nsemantic_specification: s.json\n",
		"model:\n  class_name: Net\n  kwargs: {layers: [64, 32], act: relu, p: 0.5, f: false, "
		"n: null, s: \"a\\tb\"}\nstat_specifications:\n  - kwargs: {x: {y: [1]}}\n",
		"id: x\nmodel:\n  kind: process\n  command: [bin/run, \"--a b\", '#']\nstat_specifications: []\n",
		/* Runs of quotes written back must not be refused when read again. */
		"name: \"\\x27\\x27\\x27\\x27\"\nmodel:\n  kwargs: {\"q''\": \"\\x27\\x27\\x27\\x27\"}\n",
	};
	lw_manifest a, b;
	char *yaml;

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		parse_ok(&a, docs[i]);
		assert_int_equal(lw_manifest_to_yaml(&yaml, &a), 0);
		parse_ok(&b, yaml);
		expect_same_manifest(&a, &b);
		free(yaml);
		lw_manifest_dispose(&a);
		lw_manifest_dispose(&b);
	}
}

static void test_package_manifest__check_files(void **state)
{
	const char *dir = *state;
	lw_manifest m;
	char *target, *link;

	parse_ok(&m, LINEAR_YAML);
	assert_int_equal(lw_manifest_check_files(&m, dir), LW_ENOTFOUND);
	expect_message("model.file: 'model.json' is not in the package");
	free(lwt_write_file(dir, "model.json", "{}"));
	assert_int_equal(lw_manifest_check_files(&m, dir), LW_ENOTFOUND);
	expect_message("stat_specifications[0].file_name: 'stat_spec.json'");
	/* A link, even to a file inside, is not a package file. */
	target = path_in(dir, "model.json");
	link = path_in(dir, "stat_spec.json");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(lw_manifest_check_files(&m, dir), LW_EINVALID);
	expect_message("is a symbolic link");
	unlink(link);
	free(lwt_write_file(dir, "stat_spec.json", SPEC_JSON));
	assert_int_equal(lw_manifest_check_files(&m, dir), 0);
	free(target);
	free(link);
	lw_manifest_dispose(&m);
}

/* --- pack and unpack --------------------------------------------------------------- */

/* A package folder: linear model, spec, semantic spec, a subfolder and a program. */
static char *make_folder(const char *dir, const char *name)
{
	char *src = path_in(dir, name), *sub;

	assert_int_equal(mkdir(src, 0755), 0);
	free(lwt_write_file(src, "learnware.yaml", LINEAR_YAML));
	free(lwt_write_file(src, "model.json", "{\"kind\":\"linear\"}"));
	free(lwt_write_file(src, "stat_spec.json", SPEC_JSON));
	free(lwt_write_file(src, "semantic_specification.json", "{\"Name\":{\"Values\":\"x\"}}"));
	sub = path_in(src, "docs");
	assert_int_equal(mkdir(sub, 0755), 0);
	free(lwt_write_file(sub, "README.md", "# demo\n"));
	free(sub);
	sub = lwt_write_file(src, "run.sh", "#!/bin/sh\n");
	assert_int_equal(chmod(sub, 0755), 0);
	free(sub);
	return src;
}

static void expect_same_file(const char *a, const char *b)
{
	size_t la, lb;
	char *x = read_all(a, &la), *y = read_all(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(x, y, la);
	free(x);
	free(y);
}

static void test_package_pack__round_trips(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *zip = path_in(dir, "lw.zip"), *out = path_in(dir, "out");
	const lw_package_file *files;
	lw_pack_stats st;
	lw_package *p;
	size_t n;
	char *path, *orig;
	struct stat sb;

	assert_int_equal(lw_package_pack(&st, src, zip, NULL), 0);
	assert_int_equal(st.files, 6);
	assert_true(st.zip_bytes > 0);
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	assert_null(lw_package_stripped_folder(p));
	assert_int_equal(lw_package_manifest(p)->model.kind, LW_MODEL_LINEAR);
	assert_string_equal(lw_package_manifest(p)->name, "demo");
	/* semantic_specification.json is picked up without a manifest key. */
	assert_string_equal(lw_package_manifest(p)->semantic_spec, "semantic_specification.json");
	files = lw_package_files(p, &n);
	assert_int_equal(n, 6);
	assert_string_equal(files[0].name, "docs/README.md");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(lw_package_path(&path, p, files[i].name), 0);
		orig = path_in(src, files[i].name);
		expect_same_file(orig, path);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal((sb.st_mode & S_IXUSR) != 0, !strcmp(files[i].name, "run.sh"));
		assert_int_equal(files[i].executable, !strcmp(files[i].name, "run.sh"));
		free(orig);
		free(path);
	}
	assert_int_equal(lw_package_path(&path, p, "../src/model.json"), LW_EINVALID);
	assert_int_equal(lw_package_path(&path, p, "nope.json"), LW_ENOTFOUND);
	assert_int_equal(lw_package_path(&path, p, "docs"), LW_ENOTFOUND);
	assert_int_equal(lw_package_path(&path, p, "./docs//README.md"), 0);
	free(path);
	assert_non_null(strstr(lw_package_dir(p), "/out"));
	lw_package_free(p);
	free(src);
	free(zip);
	free(out);
}

static void test_package_pack__same_folder_same_bytes(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *a = path_in(dir, "a.zip"), *b = path_in(dir, "b.zip");
	char *model = path_in(src, "model.json");
	struct timespec times[2] = { { 1000000, 0 }, { 1000000, 0 } };

	assert_int_equal(lw_package_pack(NULL, src, a, NULL), 0);
	assert_int_equal(utimensat(AT_FDCWD, model, times, 0), 0);
	assert_int_equal(lw_package_pack(NULL, src, b, NULL), 0);
	expect_same_file(a, b);
	/* Packing again over an existing zip replaces it. */
	assert_int_equal(lw_package_pack(NULL, src, a, NULL), 0);
	expect_same_file(a, b);
	free(src);
	free(a);
	free(b);
	free(model);
}

static void test_package_pack__leaves_its_own_output_out(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *zip = path_in(src, "lw.zip"), *out = path_in(dir, "out");
	lw_pack_stats st;
	lw_package *p;

	assert_int_equal(lw_package_pack(&st, src, zip, NULL), 0);
	assert_int_equal(lw_package_pack(&st, src, zip, NULL), 0);
	assert_int_equal(st.files, 6);
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	lw_package_free(p);
	free(src);
	free(zip);
	free(out);
}

static void test_package_pack__refuses_bad_folders(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *zip = path_in(dir, "lw.zip");
	char *link = path_in(src, "escape"), *spec = path_in(src, "stat_spec.json");

	assert_int_equal(symlink("/etc/passwd", link), 0);
	assert_int_equal(lw_package_pack(NULL, src, zip, NULL), LW_EINVALID);
	expect_message("escape is a symbolic link");
	assert_false(exists(zip));
	unlink(link);

	unlink(spec);
	assert_int_equal(lw_package_pack(NULL, src, zip, NULL), LW_ENOTFOUND);
	expect_message("stat_specifications[0].file_name: 'stat_spec.json' is not in the package");
	assert_false(exists(zip));

	free(lwt_write_file(src, "stat_spec.json", SPEC_JSON));
	free(lwt_write_file(src, "learnware.yaml", "model:\n  kind: linear\n  file: /etc/passwd\n"));
	assert_int_equal(lw_package_pack(NULL, src, zip, NULL), LW_EINVALID);
	expect_message("is an absolute path");
	assert_false(exists(zip));
	assert_int_equal(lw_package_pack(NULL, link, zip, NULL), LW_ENOTFOUND);
	free(src);
	free(zip);
	free(link);
	free(spec);
}

static void test_package_pack__writes_a_given_manifest(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *zip = path_in(dir, "lw.zip"), *out = path_in(dir, "out");
	char *yaml = path_in(src, "learnware.yaml");
	lw_pack_options opts = LW_PACK_OPTIONS_INIT;
	lw_manifest m;
	lw_package *p;

	parse_ok(&m, "model:\n  kind: logistic\n  file: model.json\n  output_shape: [3]\n");
	opts.manifest = &m;
	assert_int_equal(lw_package_pack(NULL, src, zip, &opts), LW_EINVALID);
	expect_message("already has a learnware.yaml");
	unlink(yaml);
	assert_int_equal(lw_package_pack(NULL, src, zip, &opts), 0);
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	assert_int_equal(lw_package_manifest(p)->model.kind, LW_MODEL_LOGISTIC);
	assert_int_equal(lw_package_manifest(p)->model.output_shape[0], 3);
	lw_package_free(p);
	lw_manifest_dispose(&m);
	free(src);
	free(zip);
	free(out);
	free(yaml);
}

/* A file that deflates past the ratio limit is stored, so the zip still opens. */
static void test_package_pack__stores_what_would_look_like_a_bomb(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *zip = path_in(dir, "lw.zip"), *out = path_in(dir, "out");
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;
	lw_pack_options opts = LW_PACK_OPTIONS_INIT;
	char *zeros = calloc(1, 256 << 10);
	lw_package *p;

	write_bytes(src, "weights.bin", zeros, 256 << 10);
	lim.ratio_min_bytes = 4096;
	opts.limits = &lim;
	assert_int_equal(lw_package_pack(NULL, src, zip, &opts), 0);
	assert_int_equal(lw_package_open(&p, zip, out, &lim), 0);
	lw_package_free(p);
	free(zeros);
	free(src);
	free(zip);
	free(out);
}

/* --- reference-format zips --------------------------------------------------------- */

static void test_package_open__reference_zip_with_top_folder(void **state)
{
	const char *dir = *state;
	static const zent e[] = {
		{ "my_learnware/", NULL, 0, 0 },
		{ "my_learnware/learnware.yaml",
		  "model:\n  class_name: MyModel\n  kwargs: {}\nstat_specifications:\n"
		  "  - module_path: learnware.specification\n    class_name: RKMETableSpecification\n"
		  "    file_name: stat_spec.json\n    kwargs: {}\n", 0, 0 },
		{ "my_learnware/__init__.py", "class MyModel:\n    pass\n", 0, 0 },
		{ "my_learnware/stat_spec.json", SPEC_JSON, 0, 0 },
		{ "my_learnware/requirements.txt", "numpy\n", 0, 0 },
		{ "my_learnware/weights/", NULL, 0, 0 },
		{ "my_learnware/weights/model.pkl", "pickle", 0, 0 },
	};
	char *zip = path_in(dir, "ref.zip"), *out = path_in(dir, "out");
	const lw_manifest *m;
	lw_package *p;
	size_t n;

	build_zip(zip, e, sizeof(e) / sizeof(e[0]));
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	m = lw_package_manifest(p);
	assert_int_equal(m->model.kind, LW_MODEL_PYTHON);
	assert_string_equal(m->model.class_name, "MyModel");
	assert_string_equal(m->model.module_path, "__init__.py");
	assert_string_equal(lw_package_stripped_folder(p), "my_learnware");
	lw_package_files(p, &n);
	assert_int_equal(n, 5);
	lw_package_free(p);
	free(zip);
	free(out);
}

/* convert_folder_to_zipfile stores every file under its base name. */
static void test_package_open__flattened_reference_zip(void **state)
{
	const char *dir = *state;
	static const zent e[] = {
		{ "learnware.yaml",
		  "model:\n  class_name: M\n  module_path: src/__init__.py\nstat_specifications:\n"
		  "  - file_name: specs/stat_spec.json\n", 0, 0 },
		{ "__init__.py", "class M: pass\n", 0, 0 },
		{ "stat_spec.json", SPEC_JSON, 0, 0 },
	};
	char *zip = path_in(dir, "flat.zip"), *out = path_in(dir, "out");
	const lw_manifest *m;
	lw_package *p;

	build_zip(zip, e, sizeof(e) / sizeof(e[0]));
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	m = lw_package_manifest(p);
	assert_string_equal(m->model.module_path, "__init__.py");
	assert_string_equal(m->stat_specs[0].file_name, "stat_spec.json");
	assert_int_equal(m->num_warnings, 2);
	assert_non_null(strstr(m->warnings[0], "'src/__init__.py' read as '__init__.py'"));
	lw_package_free(p);
	free(zip);
	free(out);
}

/* --- hostile and broken zips ------------------------------------------------------- */

static void test_package_open__refuses_hostile_names(void **state)
{
	const char *dir = *state;
	static const struct {
		zent e;
		const char *fragment;
	} cases[] = {
		{ { "../evil", "x", 0, 0 }, "entry '../evil' has a '..' component; refusing" },
		{ { "a/../../evil", "x", 0, 0 }, "has a '..' component" },
		{ { "/abs", "x", 0, 0 }, "entry '/abs' is an absolute path" },
		{ { "a\\..\\b", "x", 0, 0 }, "holds a backslash" },
		{ { "C:/windows", "x", 0, 0 }, "starts with a drive letter" },
		{ { "new\nline", "x", 0, 0 }, "entry 'new?line' holds a control character" },
		{ { "link", "/etc/passwd", 0, S_IFLNK | 0777 }, "entry 'link' is a symbolic link" },
		{ { "fifo", "", 1, S_IFIFO | 0644 }, "is not a regular file or folder" },
		{ { "dir/", NULL, 0, S_IFREG | 0644 }, "ends in '/' but is marked as a file" },
	};
	char *zip;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zip = zip_with(dir, &cases[i].e, 1);
		expect_refused(dir, zip, NULL, LW_EINVALID, cases[i].fragment);
		free(zip);
	}
}

static void test_package_open__refuses_collisions(void **state)
{
	const char *dir = *state;
	static const zent slashes[] = { { "docs/a", "1", 0, 0 }, { "docs//a", "2", 0, 0 } };
	static const zent file_dir[] = { { "x", "file", 0, 0 }, { "x/y", "inside", 0, 0 } };
	static const zent dup[] = { { "learnwarf.yaml", "model: {kind: linear}\n", 0, 0 } };
	char *zip;

	zip = zip_with(dir, slashes, 2);
	expect_refused(dir, zip, NULL, LW_EINVALID, "two entries are named 'docs/a'");
	free(zip);
	zip = zip_with(dir, file_dir, 2);
	expect_refused(dir, zip, NULL, LW_EINVALID,
		       "entry 'x/y' needs 'x' to be a folder, but the archive has a file");
	free(zip);
	/* libzip will not write two equal names: rename one in the bytes. */
	zip = zip_with(dir, dup, 1);
	patch_bytes(zip, "learnwarf.yaml", "learnware.yaml");
	expect_refused(dir, zip, NULL, LW_EINVALID, "two entries are named 'learnware.yaml'");
	free(zip);
	/* libzip shows a NUL in a name as a space; Python stops at it. */
	zip = zip_with(dir, dup, 1);
	patch_n(zip, "learnwarf.yaml", "learnware\0yaml", 14);
	expect_refused(dir, zip, NULL, LW_EINVALID, "holds a NUL byte in its name");
	free(zip);
}

static void test_package_open__refuses_too_many_entries(void **state)
{
	const char *dir = *state;
	char *zip = path_in(dir, "many.zip"), name[32];
	zip_t *za;
	int code;

	za = zip_open(zip, ZIP_CREATE | ZIP_TRUNCATE, &code);
	assert_non_null(za);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "f%05d", i);
		assert_true(zip_file_add(za, name, zip_source_buffer(za, "x", 1, 0), 0) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	expect_refused(dir, zip, NULL, LW_EINVALID,
		       "many.zip holds 20000 entries, over the limit of 10000");
	free(zip);
}

static void test_package_open__refuses_bombs(void **state)
{
	const char *dir = *state;
	size_t big = (size_t)16 << 20;
	char *zeros = calloc(1, big), *zip;
	zent e = { "zeros.bin", zeros, big, 0 };
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;

	/* 16 MiB of zeros deflate to ~16 KiB: over 200:1 by the header alone. */
	zip = zip_with(dir, &e, 1);
	expect_refused(dir, zip, NULL, LW_EINVALID, "entry 'zeros.bin' expands");
	expect_message("over the ratio limit of 200:1");
	/* Honest but too big for the limits given. */
	lim.max_ratio = 1e9;
	lim.max_file_bytes = 1 << 20;
	expect_refused(dir, zip, &lim, LW_EINVALID, "over the limit of 1048576 per file");
	lim = (lw_package_limits)LW_PACKAGE_LIMITS_INIT;
	lim.max_ratio = 1e9;
	lim.max_total_bytes = 8 << 20;
	expect_refused(dir, zip, &lim, LW_EINVALID, "t.zip unpacks to 16777");
	/* A header that claims 1000 bytes: the bytes written are counted, not trusted. */
	lie_about_size(zip, "zeros.bin", 1000);
	expect_refused(dir, zip, NULL, LW_EINVALID,
		       "entry 'zeros.bin' holds more than the 1000 bytes its header says");
	free(zip);
	free(zeros);
}

static void test_package_open__refuses_a_lying_header(void **state)
{
	const char *dir = *state;
	char data[4096];
	zent e = { "data.bin", data, sizeof(data), 0 };
	char *zip;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7919 % 251);
	zip = zip_with(dir, &e, 1);
	lie_about_size(zip, "data.bin", 100);
	expect_refused(dir, zip, NULL, LW_EINVALID,
		       "entry 'data.bin' holds more than the 100 bytes its header says");
	free(zip);
	zip = zip_with(dir, &e, 1);
	lie_about_size(zip, "data.bin", 100000);
	expect_refused(dir, zip, NULL, LW_EINVALID, "data.bin");
	free(zip);
}

static void test_package_open__broken_packages_leave_nothing(void **state)
{
	const char *dir = *state;
	static const zent bad_yaml[] = { { "learnware.yaml", "model: [\n", 0, 0 } };
	static const zent no_model[] = { { "learnware.yaml", LINEAR_YAML, 0, 0 },
					 { "stat_spec.json", SPEC_JSON, 0, 0 } };
	static const zent no_manifest[] = { { "model.json", "{}", 0, 0 } };
	static const zent deep[] = { { "a/b/learnware.yaml", LINEAR_YAML, 0, 0 },
				     { "a/b/model.json", "{}", 0, 0 } };
	char *zip = path_in(dir, "b.zip"), *junk = path_in(dir, "junk.zip");

	build_zip(zip, bad_yaml, 1);
	expect_refused(dir, zip, NULL, LW_EINVALID, "b.zip: learnware.yaml: line 2");
	build_zip(zip, no_model, 2);
	expect_refused(dir, zip, NULL, LW_ENOTFOUND,
		       "b.zip: learnware.yaml: model.file: 'model.json' is not in the package");
	build_zip(zip, no_manifest, 1);
	expect_refused(dir, zip, NULL, LW_ENOTFOUND, "b.zip has no learnware.yaml at its top (it "
		       "holds model.json)");
	build_zip(zip, deep, 2);
	expect_refused(dir, zip, NULL, LW_ENOTFOUND, "(it holds b/learnware.yaml, b/model.json)");
	free(lwt_write_file(dir, "junk.zip", "this is not a zip archive at all, just text"));
	expect_refused(dir, junk, NULL, LW_EINVALID, "junk.zip is not a zip archive");
	unlink(junk);
	expect_refused(dir, junk, NULL, LW_ENOTFOUND, "junk.zip");
	free(zip);
	free(junk);
}

static void test_package_open__target_must_be_new_or_empty(void **state)
{
	const char *dir = *state;
	char *zip = zip_with(dir, NULL, 0), *out = path_in(dir, "out"), *keep;
	lw_package *p;

	assert_int_equal(mkdir(out, 0755), 0);
	keep = lwt_write_file(out, "keep.txt", "mine");
	assert_int_equal(lw_package_open(&p, zip, out, NULL), LW_EINVALID);
	expect_message("exists and is not empty");
	assert_true(exists(keep));
	unlink(keep);
	/* An empty folder is used, and emptied again (but kept) on failure. */
	assert_int_equal(lw_package_open(&p, zip, out, NULL), 0);
	lw_package_free(p);
	lwt_rmtree(out);
	assert_int_equal(mkdir(out, 0755), 0);
	lie_about_size(zip, "model.json", 1);
	assert_int_equal(lw_package_open(&p, zip, out, NULL), LW_EINVALID);
	assert_true(exists(out));
	assert_int_equal(rmdir(out), 0); /* empty */
	free(zip);
	free(out);
	free(keep);
}

static void test_package_open_dir__refuses_links(void **state)
{
	const char *dir = *state;
	char *src = make_folder(dir, "src"), *link = path_in(src, "model.json");
	lw_package *p;

	assert_int_equal(lw_package_open_dir(&p, src, NULL), 0);
	lw_package_free(p);
	unlink(link);
	assert_int_equal(symlink("/etc/hostname", link), 0);
	assert_int_equal(lw_package_open_dir(&p, src, NULL), LW_EINVALID);
	assert_null(p);
	expect_message("model.json is a symbolic link");
	free(src);
	free(link);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_package_manifest__reads_every_field),
		T(test_package_manifest__reference_defaults),
		T(test_package_manifest__kwargs_resolve_as_pyyaml),
		T(test_package_manifest__unknown_keys_are_warnings),
		T(test_package_manifest__errors_name_the_key),
		T(test_package_manifest__yaml_round_trips),
		T(test_package_manifest__check_files),
		T(test_package_pack__round_trips),
		T(test_package_pack__same_folder_same_bytes),
		T(test_package_pack__leaves_its_own_output_out),
		T(test_package_pack__refuses_bad_folders),
		T(test_package_pack__writes_a_given_manifest),
		T(test_package_pack__stores_what_would_look_like_a_bomb),
		T(test_package_open__reference_zip_with_top_folder),
		T(test_package_open__flattened_reference_zip),
		T(test_package_open__refuses_hostile_names),
		T(test_package_open__refuses_collisions),
		T(test_package_open__refuses_too_many_entries),
		T(test_package_open__refuses_bombs),
		T(test_package_open__refuses_a_lying_header),
		T(test_package_open__broken_packages_leave_nothing),
		T(test_package_open__target_must_be_new_or_empty),
		T(test_package_open_dir__refuses_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
