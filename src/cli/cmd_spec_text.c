/*
 * learnware spec text: a text RKME from a file of texts; and `spec dist`
 * when its files are text specifications (docs/text.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "lw/text.h"

/* Entry points for cmd_spec.c. */
int cmd_spec_text(int argc, char **argv);
int cmd_spec_text_is_dist(int argc, char **argv);
int cmd_spec_text_dist(int argc, char **argv);

static const char text_usage[] =
	"usage: learnware spec text INPUT -o OUT.json [options]\n"
	"\n"
	"Fit a text RKME: embed every text with the built-in encoder\n"
	"(" LW_TEXT_ENCODER_NAME ", 256 dimensions), fit a table RKME to the\n"
	"embeddings and detect the texts' languages. INPUT is a text file, one text\n"
	"per line (blank lines skipped), or a CSV file (RFC 4180 quoting) with a\n"
	"text column: --column names it; a .csv or .tsv file without --column uses\n"
	"its \"text\" column. The output is the reference's RKMETextSpecification\n"
	"JSON plus the encoder's name, version and hash (docs/text.md).\n"
	"\n"
	"  -o, --output FILE      where to write the specification (required)\n"
	"  -c, --column NAME      the CSV column holding the texts: a header name or a\n"
	"                         1-based index\n"
	"  -k, --k N              reduced points before clamping (default 100)\n"
	"  -g, --gamma G          RBF kernel width (default 0.1)\n"
	"      --steps N          alternating z/beta rounds (default 3)\n"
	"      --seed N           seed of the k-means++ initialisation (default 0)\n"
	"  -q, --quiet            no summary\n";

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

static int text_options(int argc, char **argv, lw_rkme_options *ro, const char **output,
			const char **column, int *quiet)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, { "column", required_argument, NULL, 'c' },
		{ "k", required_argument, NULL, 'k' },      { "gamma", required_argument, NULL, 'g' },
		{ "steps", required_argument, NULL, 1 },    { "seed", required_argument, NULL, 2 },
		{ "quiet", no_argument, NULL, 'q' },        { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t steps;
	int c;

	while ((c = getopt_long(argc, argv, "o:c:k:g:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'o': *output = optarg; break;
		case 'c': *column = optarg; break;
		case 'k': bad = cli_parse_size(&ro->k, optarg, "--k"); break;
		case 'g': bad = cli_parse_double(&ro->gamma, optarg, "--gamma"); break;
		case 1:
			bad = cli_parse_size(&steps, optarg, "--steps");
			if (!bad && steps > 1000)
				return cli_usage_error("spec text", "--steps %zu is over 1000", steps);
			ro->steps = (unsigned)steps;
			break;
		case 2: bad = cli_parse_u64(&ro->seed, optarg, "--seed"); break;
		case 'q': *quiet = 1; break;
		case 'h': fputs(text_usage, stdout); return -1;
		default: return cli_usage_error("spec text", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	return 0;
}

int cmd_spec_text(int argc, char **argv)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	const char *output = NULL, *column = NULL, *input;
	lw_text_spec *spec = NULL;
	char **texts = NULL;
	size_t n = 0;
	struct timespec t0;
	int quiet = 0, rc, err;

	optind = 1;
	if ((rc = text_options(argc, argv, &ro, &output, &column, &quiet)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind != argc - 1)
		return cli_usage_error("spec text", "expected one INPUT file, got %d", argc - optind);
	if (!output)
		return cli_usage_error("spec text", "missing -o OUT.json");
	input = argv[optind];
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!column && (ends_with(input, ".csv") || ends_with(input, ".tsv"))) {
		err = lw_text_read(&texts, &n, input, "text");
		if (err == LW_ENOTFOUND && strstr(lw_error_last()->message, "no text column")) {
			fprintf(stderr, "learnware: %s; name the column holding the texts with --column\n",
				lw_error_last()->message);
			return CLI_EXIT_NOTFOUND;
		}
	} else {
		err = lw_text_read(&texts, &n, input, column);
	}
	if (err < 0)
		return cli_fail(err);
	if (n < 2) {
		lw_text_free_list(texts, n);
		fprintf(stderr, "learnware: %s: has %zu text; a specification needs at least 2 (with 1 "
				"it would publish the text's embedding)\n",
			input, n);
		return CLI_EXIT_INPUT;
	}
	err = lw_text_spec_fit(&spec, NULL, (const char *const *)texts, NULL, n, &ro);
	if (err == 0)
		err = lw_text_spec_save(spec, output);
	if (err == 0 && !quiet) {
		printf("%s: %zu texts -> %zu reduced points in %zu dimensions, gamma %g, language", output,
		       n, lw_rkme_k(spec->rkme), lw_rkme_dim(spec->rkme), spec->rkme->gamma);
		for (size_t i = 0; i < spec->language.count; i++)
			printf("%s%s", i ? "," : " ", spec->language.code[i]);
		printf("%s, encoder %s version %u, %.2f s\n", spec->language.count ? "" : " unknown",
		       spec->encoder, spec->encoder_version, seconds_since(&t0));
	}
	lw_text_free_list(texts, n);
	lw_text_spec_free(spec);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* 1 when the JSON file at path is a text specification (unreadable files: 0). */
static int is_text_spec(const char *path)
{
	json_t *root = json_load_file(path, 0, NULL);
	const char *type = json_string_value(json_object_get(root, "type"));
	int yes = type && !strcmp(type, "RKMETextSpecification");

	json_decref(root);
	return yes;
}

/* The positional arguments of `spec dist` (argv[0] is "dist"). */
static int positional(int argc, char **argv, const char **files, int max)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			continue; /* dist's options take no argument */
		if (n < max)
			files[n] = argv[i];
		n++;
	}
	return n;
}

int cmd_spec_text_is_dist(int argc, char **argv)
{
	const char *files[2];

	if (positional(argc, argv, files, 2) != 2)
		return 0;
	return is_text_spec(files[0]) || is_text_spec(files[1]);
}

int cmd_spec_text_dist(int argc, char **argv)
{
	const char *files[2];
	lw_text_spec *a = NULL, *b = NULL;
	int json = 0, err;
	double d;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (argv[i][0] == '-' && argv[i][1] && strcmp(argv[i], "--"))
			return cli_usage_error("spec dist", "unknown option '%s'", argv[i]);
	}
	positional(argc, argv, files, 2);
	for (int i = 0; i < 2; i++)
		if (!is_text_spec(files[i])) {
			fprintf(stderr, "learnware: %s is not a text specification (RKMETextSpecification) "
					"but %s is: only specifications of one kind can be compared\n",
				files[i], files[1 - i]);
			return CLI_EXIT_INPUT;
		}
	if ((err = lw_text_spec_load(&a, files[0])) == 0 &&
	    (err = lw_text_spec_load(&b, files[1])) == 0 && (err = lw_text_spec_dist(&d, a, b)) == 0)
		printf(json ? "{\"mmd2\":%.17g}\n" : "%.17g\n", d);
	lw_text_spec_free(a);
	lw_text_spec_free(b);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}
