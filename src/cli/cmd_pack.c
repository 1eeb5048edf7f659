/*
 * learnware pack: a learnware folder into a zip.  learnware unpack: a zip
 * into a folder, safely.  Both print what the package holds.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lw/package.h"

static const char pack_usage[] =
	"usage: learnware pack DIR -o OUT.zip [options]\n"
	"\n"
	"Pack the learnware folder DIR into a zip. DIR holds learnware.yaml (the\n"
	"manifest, see docs/package.md), the model's files and the specifications.\n"
	"Before anything is written, the manifest is read, every file it names must\n"
	"be in DIR, and DIR must hold only regular files and folders (no symbolic\n"
	"links) within the limits 'learnware unpack' applies. The same folder always\n"
	"gives the same zip (sorted entries, fixed times and modes).\n"
	"\n"
	"  -o, --output FILE      the zip to write (required); replaced atomically\n"
	"  -q, --quiet            no summary\n"
	"\n"
	"Without a learnware.yaml in DIR, describe the model and one is written into\n"
	"the zip:\n"
	"      --kind KIND        linear, logistic, mlp, xgboost, process or python\n"
	"      --model-file FILE  the model file, or for process the program to run\n"
	"      --name NAME        the learnware's name\n"
	"      --stat-spec FILE   statistical specification (default stat_spec.json);\n"
	"                         its JSON \"type\" gives the class (RKMETableSpecification,\n"
	"                         RKMEImageSpecification, RKMETextSpecification)\n"
	"      --semantic FILE    semantic specification\n"
	"      --input-shape N[,N...]   --output-shape N[,N...]\n"
	"                         (when neither is given, for linear, logistic, mlp\n"
	"                         and xgboost: the model file's input and output widths)\n";

static const char unpack_usage[] =
	"usage: learnware unpack ZIP -o DIR [options]\n"
	"\n"
	"Extract a learnware zip into DIR (created; if it exists it must be empty)\n"
	"and check its manifest. Entries that are absolute, climb out with '..',\n"
	"are links or devices, collide, or break a limit refuse the whole archive\n"
	"before anything is written; a failure leaves nothing behind. A single top\n"
	"folder holding every entry is stripped, as the reference engine does.\n"
	"\n"
	"  -o, --output DIR       where to extract (required)\n"
	"      --max-entries N    most entries (10000)\n"
	"      --max-bytes N      most bytes unpacked in all (2147483648)\n"
	"      --max-file-bytes N most bytes unpacked for one file (1073741824)\n"
	"      --max-ratio R      most expansion of one entry over 1 MiB (200)\n"
	"  -q, --quiet            no summary\n";

static void human(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]))
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* DIR/rel, or NULL when out of memory. */
static char *join(const char *dir, const char *rel)
{
	char *p = malloc(strlen(dir) + strlen(rel) + 2);

	if (p)
		sprintf(p, "%s/%s", dir, rel);
	return p;
}

/*
 * The JSON "type" of a specification file (RKMETableSpecification, ...),
 * copied into buf; "" when the file is missing or names none (the pack
 * itself reports a missing file).
 */
static void spec_type(char *buf, size_t len, const char *dir, const char *rel)
{
	char *path = join(dir, rel);
	json_t *root = path ? json_load_file(path, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(root, "type"));

	/* Only a class name can become one (the manifest's rule); else the default. */
	if (t && (!*t || strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
			     strlen(t) || (*t >= '0' && *t <= '9')))
		t = NULL;
	snprintf(buf, len, "%s", t ? t : "");
	json_decref(root);
	free(path);
}

static void print_shape(const char *label, const size_t *shape, size_t n)
{
	if (!n)
		return;
	printf(", %s [", label);
	for (size_t i = 0; i < n; i++)
		printf("%s%zu", i ? ", " : "", shape[i]);
	putchar(']');
}

static void print_model(const lw_manifest_model *mm)
{
	printf("  model:         %s", lw_model_kind_name(mm->kind));
	if (mm->file)
		printf(" (%s)", mm->file);
	else if (mm->command)
		printf(" (%s%s)", mm->command[0], mm->command_len > 1 ? " ..." : "");
	else if (mm->module_path)
		printf(" (%s in %s)", mm->class_name, mm->module_path);
	print_shape("input", mm->input_shape, mm->input_ndim);
	print_shape("output", mm->output_shape, mm->output_ndim);
	putchar('\n');
}

static void print_summary(const lw_package *p)
{
	const lw_manifest *m = lw_package_manifest(p);
	const lw_package_file *files;
	size_t n;
	char size[32];

	if (m->name)
		printf("  name:          %s\n", m->name);
	print_model(&m->model);
	for (size_t i = 0; i < m->num_stat_specs; i++)
		printf("  statistical:   %s (%s)\n", m->stat_specs[i].class_name,
		       m->stat_specs[i].file_name);
	printf("  semantic:      %s\n", m->semantic_spec ? m->semantic_spec : "(none)");
	files = lw_package_files(p, &n);
	printf("  files:\n");
	for (size_t i = 0; i < n && i < 20; i++) {
		human(size, sizeof(size), files[i].size);
		printf("    %10s  %s%s\n", size, files[i].name, files[i].executable ? "*" : "");
	}
	if (n > 20)
		printf("    ... and %zu more\n", n - 20);
}

static void print_warnings(const lw_manifest *m)
{
	for (size_t i = 0; i < m->num_warnings; i++)
		fprintf(stderr, "learnware: warning: %s\n", m->warnings[i]);
}

/* A class_name that is not its file's JSON "type" fails the checker: say so now. */
static void warn_spec_types(const lw_manifest *m, const char *dir)
{
	char type[128];

	for (size_t i = 0; i < m->num_stat_specs; i++) {
		const lw_manifest_stat_spec *s = &m->stat_specs[i];

		spec_type(type, sizeof(type), dir, s->file_name);
		if (type[0] && s->class_name && strcmp(type, s->class_name))
			fprintf(stderr, "learnware: warning: %s/learnware.yaml: stat_specifications[%zu] "
				"says class_name %s, but %s is a %s; the checker will refuse it: set "
				"class_name: %s\n", dir, i, s->class_name, s->file_name, type, type);
	}
}

/* "3,32,32" into a shape. */
static int parse_shape(size_t *shape, size_t *ndim, const char *arg, const char *opt)
{
	const char *p = arg;

	for (*ndim = 0; *p; (*ndim)++) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (*ndim == LW_MANIFEST_MAX_DIMS || end == p || v == 0 || (*end && *end != ',') ||
		    *p == '-')
			return cli_usage_error("pack", "%s expects positive integers separated by "
					       "commas (at most %d), not '%s'", opt,
					       LW_MANIFEST_MAX_DIMS, arg);
		shape[*ndim] = (size_t)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

typedef struct {
	const char *output, *kind, *model_file, *name, *stat_spec, *semantic;
	lw_manifest_model shapes; /* only the shapes are used */
	int quiet, described;
} pack_args;

static int dup_opt(char **out, const char *s)
{
	return s && !(*out = strdup(s)) ? -1 : 0;
}

/*
 * The model file's widths as its shapes, when the options gave neither.
 * A model that does not load keeps none: packing a broken model is allowed
 * (the checker is the judge), so this only warns.
 */
static int shapes_from_model(lw_manifest_model *mm, const char *dir)
{
	char *path;
	lw_model *m = NULL;
	int err;

	if (mm->kind == LW_MODEL_PROCESS || mm->kind == LW_MODEL_PYTHON || !mm->file ||
	    mm->input_ndim || mm->output_ndim)
		return 0;
	if (!(path = join(dir, mm->file)))
		return LW_ENOMEM;
	err = lw_model_load_file(&m, mm->kind, path);
	free(path);
	if (err == LW_ENOMEM)
		return err;
	if (err < 0) {
		if (err != LW_ENOTFOUND) /* a missing file: the pack names it */
			fprintf(stderr, "learnware: warning: %s; no model.input_shape written\n",
				lw_error_last()->message);
		lw_error_clear();
		return 0;
	}
	mm->input_shape[0] = lw_model_input_dim(m);
	mm->output_shape[0] = lw_model_output_dim(m);
	mm->input_ndim = mm->output_ndim = 1;
	lw_model_free(m);
	return 0;
}

/* A manifest from the options, for a folder without learnware.yaml. */
static int build_manifest(lw_manifest *m, const pack_args *a, const char *dir)
{
	lw_manifest_model *mm = &m->model;
	const char *spec = a->stat_spec ? a->stat_spec : "stat_spec.json";
	char type[128];
	int err;

	memset(m, 0, sizeof(*m));
	if (!(mm->kind = lw_model_kind_from_name(a->kind)))
		return cli_usage_error("pack", "--kind must be linear, logistic, mlp, xgboost, process "
				       "or python, not '%s'", a->kind);
	if (mm->kind == LW_MODEL_PROCESS) {
		if (!a->model_file)
			return cli_usage_error("pack", "--kind process needs --model-file PROGRAM");
		if (!(mm->command = calloc(2, sizeof(char *))) || dup_opt(&mm->command[0], a->model_file))
			return -1;
		mm->command_len = 1;
	} else if (mm->kind == LW_MODEL_PYTHON) {
		if (dup_opt(&mm->module_path, a->model_file))
			return -1;
	} else if (dup_opt(&mm->file, a->model_file)) {
		return -1;
	}
	memcpy(mm->input_shape, a->shapes.input_shape, sizeof(mm->input_shape));
	memcpy(mm->output_shape, a->shapes.output_shape, sizeof(mm->output_shape));
	mm->input_ndim = a->shapes.input_ndim;
	mm->output_ndim = a->shapes.output_ndim;
	if ((err = shapes_from_model(mm, dir)) < 0)
		return -1;
	if (!(m->stat_specs = calloc(1, sizeof(*m->stat_specs))))
		return -1;
	m->num_stat_specs = 1;
	spec_type(type, sizeof(type), dir, spec);
	if (dup_opt(&m->stat_specs[0].file_name, spec) ||
	    dup_opt(&m->stat_specs[0].class_name, type[0] ? type : NULL) ||
	    dup_opt(&m->name, a->name) || dup_opt(&m->semantic_spec, a->semantic))
		return -1;
	return 0;
}

/* 0: parsed; 1: --help shown; otherwise an exit code. */
static int pack_options(int argc, char **argv, pack_args *a)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },   { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },           { "kind", required_argument, NULL, 1 },
		{ "model-file", required_argument, NULL, 2 }, { "name", required_argument, NULL, 3 },
		{ "stat-spec", required_argument, NULL, 4 },  { "semantic", required_argument, NULL, 5 },
		{ "input-shape", required_argument, NULL, 6 },
		{ "output-shape", required_argument, NULL, 7 },
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case 'o': a->output = optarg; break;
		case 'q': a->quiet = 1; break;
		case 'h': fputs(pack_usage, stdout); return 1;
		case 1: a->kind = optarg; break;
		case 2: a->model_file = optarg; break;
		case 3: a->name = optarg; break;
		case 4: a->stat_spec = optarg; break;
		case 5: a->semantic = optarg; break;
		case 6:
			rc = parse_shape(a->shapes.input_shape, &a->shapes.input_ndim, optarg,
					 "--input-shape");
			break;
		case 7:
			rc = parse_shape(a->shapes.output_shape, &a->shapes.output_ndim, optarg,
					 "--output-shape");
			break;
		default: return cli_usage_error("pack", "unknown option");
		}
		if (rc)
			return rc;
		a->described |= c >= 2 && c <= 7;
	}
	if (optind + 1 != argc)
		return cli_usage_error("pack", optind >= argc ? "missing the folder to pack"
							       : "expected one folder, got %d",
				       argc - optind);
	if (!a->output)
		return cli_usage_error("pack", "missing -o OUT.zip");
	if (a->described && !a->kind)
		return cli_usage_error("pack", "--model-file and the other manifest options need "
				       "--kind");
	return 0;
}

static int pack_report(const char *dir, const char *output, const lw_pack_stats *st, int quiet)
{
	char bytes[32], zipped[32];
	lw_package *p = NULL;

	/* The folder as packed, for its warnings; a generated manifest is only in the zip. */
	if (lw_package_open_dir(&p, dir, NULL) < 0)
		lw_error_clear();
	if (p) {
		print_warnings(lw_package_manifest(p));
		warn_spec_types(lw_package_manifest(p), dir);
	}
	if (!quiet) {
		human(bytes, sizeof(bytes), st->bytes);
		human(zipped, sizeof(zipped), st->zip_bytes);
		printf("packed %zu files (%s) into %s (%s)\n", st->files, bytes, output, zipped);
		if (p)
			print_summary(p);
	}
	lw_package_free(p);
	return CLI_EXIT_OK;
}

int cmd_pack(int argc, char **argv)
{
	pack_args a = { 0 };
	lw_pack_options opts = LW_PACK_OPTIONS_INIT;
	lw_manifest m = { 0 };
	lw_pack_stats st;
	int rc, err;

	optind = 1;
	if ((rc = pack_options(argc, argv, &a)) != 0)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if (a.kind) {
		if ((rc = build_manifest(&m, &a, argv[optind])) != 0) {
			lw_manifest_dispose(&m);
			if (rc < 0)
				fprintf(stderr, "learnware: out of memory\n");
			return rc < 0 ? CLI_EXIT_FAILURE : rc;
		}
		opts.manifest = &m;
	}
	err = lw_package_pack(&st, argv[optind], a.output, &opts);
	lw_manifest_dispose(&m);
	if (err < 0)
		return cli_fail(err);
	return pack_report(argv[optind], a.output, &st, a.quiet);
}

static int unpack_options(int argc, char **argv, const char **output, lw_package_limits *lim,
			  int *quiet)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "max-entries", required_argument, NULL, 1 },
		{ "max-bytes", required_argument, NULL, 2 },
		{ "max-file-bytes", required_argument, NULL, 3 },
		{ "max-ratio", required_argument, NULL, 4 },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t v;
	int c, bad;

	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		bad = 0;
		switch (c) {
		case 'o': *output = optarg; break;
		case 'q': *quiet = 1; break;
		case 'h': fputs(unpack_usage, stdout); return 1;
		case 1: bad = cli_parse_size(&lim->max_entries, optarg, "--max-entries"); break;
		case 2:
			bad = cli_parse_u64(&v, optarg, "--max-bytes");
			lim->max_total_bytes = v;
			break;
		case 3:
			bad = cli_parse_u64(&v, optarg, "--max-file-bytes");
			lim->max_file_bytes = v;
			break;
		case 4:
			bad = cli_parse_double(&lim->max_ratio, optarg, "--max-ratio");
			if (!bad && !(lim->max_ratio >= 1))
				return cli_usage_error("unpack", "--max-ratio must be at least 1");
			break;
		default: return cli_usage_error("unpack", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("unpack", optind >= argc ? "missing the zip to unpack"
								 : "expected one zip, got %d",
				       argc - optind);
	if (!*output)
		return cli_usage_error("unpack", "missing -o DIR");
	return 0;
}

int cmd_unpack(int argc, char **argv)
{
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;
	const char *output = NULL, *stripped;
	const lw_package_file *files;
	lw_package *p;
	int quiet = 0, rc, err;
	uint64_t bytes = 0;
	char size[32];
	size_t n;

	optind = 1;
	if ((rc = unpack_options(argc, argv, &output, &lim, &quiet)) != 0)
		return rc == 1 ? CLI_EXIT_OK : rc;
	if ((err = lw_package_open(&p, argv[optind], output, &lim)) < 0)
		return cli_fail(err);
	print_warnings(lw_package_manifest(p));
	if (!quiet) {
		files = lw_package_files(p, &n);
		for (size_t i = 0; i < n; i++)
			bytes += files[i].size;
		human(size, sizeof(size), bytes);
		stripped = lw_package_stripped_folder(p);
		printf("unpacked %s into %s: %zu files (%s)%s%s%s\n", argv[optind], output, n, size,
		       stripped ? ", top folder '" : "", stripped ? stripped : "",
		       stripped ? "' stripped" : "");
		print_summary(p);
	}
	lw_package_free(p);
	return CLI_EXIT_OK;
}
