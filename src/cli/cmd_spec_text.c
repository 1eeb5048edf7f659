/*
 * learnware spec text: a text RKME from a file of texts; and `spec dist`,
 * `spec show` and `spec herd` when their files are text specifications
 * (docs/text.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <math.h>
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
int cmd_spec_text_is_spec(int argc, char **argv);
int cmd_spec_text_show(int argc, char **argv);
int cmd_spec_text_herd(int argc, char **argv);

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

/* ---- show and herd ------------------------------------------------------ */

static const char show_usage[] =
	"usage: learnware spec show TEXT_SPEC.json [--json]\n"
	"\n"
	"Summarise a text specification: texts summarised (n), reduced points (K),\n"
	"dimension (d), gamma, <A,A>, the weights, the texts' languages and the\n"
	"encoder that embedded them (name, version, content hash).\n";

static const char herd_usage[] =
	"usage: learnware spec herd TEXT_SPEC.json -n N -o OUT.csv [--seed S]\n"
	"\n"
	"Draw N synthetic rows by kernel herding in the encoder's embedding space,\n"
	"written as CSV with columns e1..ed: inputs for a text learnware's model\n"
	"(learnware predict MODEL OUT.csv), not texts, which the embeddings cannot\n"
	"give back.\n";

/* The first argument that is neither an option nor the value of -n, -o or --seed. */
static const char *first_file(int argc, char **argv)
{
	static const char *const valued[] = { "-n", "--n", "-o", "--output", "--seed", NULL };

	for (int i = 1; i < argc; i++) {
		int skip = 0;

		for (size_t j = 0; valued[j]; j++)
			skip |= !strcmp(argv[i], valued[j]);
		if (skip)
			i++;
		else if (argv[i][0] != '-' || !argv[i][1])
			return argv[i];
	}
	return NULL;
}

int cmd_spec_text_is_spec(int argc, char **argv)
{
	const char *file = first_file(argc, argv);

	return file && is_text_spec(file);
}

typedef struct {
	int json;
	size_t n;
	const char *output;
	uint64_t seed;
} small_opts;

static int parse_small(int argc, char **argv, const char *verb, const char *help, small_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },         { "n", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' }, { "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = 1; break;
		case 'n':
			if (cli_parse_size(&o->n, optarg, "-n") < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'o': o->output = optarg; break;
		case 's':
			if (cli_parse_u64(&o->seed, optarg, "--seed") < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'h': fputs(help, stdout); return -1;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(verb, "expected 1 specification file, got %d", argc - optind);
	return 0;
}

static void print_languages(const lw_text_languages *l, int json)
{
	for (size_t i = 0; i < l->count; i++)
		printf(json ? "%s\"%s\"" : "%s%s", i ? "," : "", l->code[i]);
	if (!json && !l->count)
		fputs("unknown", stdout);
}

static void show_text(const char *path, const lw_text_spec *t, double self, int json)
{
	const lw_rkme *r = t->rkme;
	double min = INFINITY, max = -INFINITY, sum = 0;

	for (size_t i = 0; i < lw_rkme_k(r); i++) {
		min = r->beta[i] < min ? r->beta[i] : min;
		max = r->beta[i] > max ? r->beta[i] : max;
		sum += r->beta[i];
	}
	if (json) {
		printf("{\"type\":\"RKMETextSpecification\",\"n\":%zu,\"k\":%zu,\"d\":%zu,"
		       "\"gamma\":%.17g,\"self_inner\":%.17g,\"language\":[", r->num_points,
		       lw_rkme_k(r), lw_rkme_dim(r), r->gamma, self);
		print_languages(&t->language, 1);
		printf("],\"encoder\":\"%s\",\"encoder_version\":%u,\"encoder_sha256\":\"%s\","
		       "\"beta\":{\"min\":%.17g,\"max\":%.17g,\"sum\":%.17g}}\n", t->encoder,
		       t->encoder_version, t->encoder_sha256, min, max, sum);
		return;
	}
	printf("file           %s\n"
	       "type           RKMETextSpecification\n"
	       "texts (n)      %zu\n"
	       "points (K)     %zu\n"
	       "dimension (d)  %zu\n"
	       "gamma          %g\n"
	       "<A,A>          %.10g\n"
	       "beta           min %.4g, max %.4g, sum %.10g\n"
	       "languages      ",
	       path, r->num_points, lw_rkme_k(r), lw_rkme_dim(r), r->gamma, self, min, max, sum);
	print_languages(&t->language, 0);
	if (t->encoder[0])
		printf("\nencoder        %s version %u\nencoder hash   %s\n", t->encoder,
		       t->encoder_version, t->encoder_sha256);
	else
		printf("\nencoder        none named (the reference's: another embedding space)\n");
}

int cmd_spec_text_show(int argc, char **argv)
{
	small_opts o = { 0 };
	lw_text_spec *t = NULL;
	double self;
	int rc, err;

	if ((rc = parse_small(argc, argv, "spec show", show_usage, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_text_spec_load(&t, argv[optind])) == 0 &&
	    (err = lw_rkme_inner(&self, t->rkme, t->rkme)) == 0)
		show_text(argv[optind], t, self, o.json);
	lw_text_spec_free(t);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* Herded embeddings as CSV with a header e1..ed. */
static int write_embeddings(const char *path, const lw_mat *S)
{
	char **names = calloc(S->cols + 1, sizeof(char *));
	int err = LW_ENOMEM;

	for (size_t j = 0; names && j < S->cols; j++) {
		if (!(names[j] = malloc(24)))
			goto done;
		snprintf(names[j], 24, "e%zu", j + 1);
	}
	if (names)
		err = lw_data_write_csv(path, S, (const char *const *)names);
done:
	if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
	for (size_t j = 0; names && j < S->cols; j++)
		free(names[j]);
	free(names);
	return err;
}

int cmd_spec_text_herd(int argc, char **argv)
{
	small_opts o = { 0 };
	lw_text_spec *t = NULL;
	lw_mat S = LW_MAT_INIT;
	int rc, err;

	if ((rc = parse_small(argc, argv, "spec herd", herd_usage, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.n == 0)
		return cli_usage_error("spec herd", "missing -n N (a positive number of rows)");
	if (!o.output)
		return cli_usage_error("spec herd", "missing -o OUT.csv");
	if ((err = lw_text_spec_load(&t, argv[optind])) == 0 &&
	    (err = lw_rkme_herd(&S, t->rkme, o.n, o.seed)) == 0 &&
	    (err = write_embeddings(o.output, &S)) == 0)
		printf("%s: %zu rows of %zu embedding dimensions (encoder %s): model inputs, not texts\n",
		       o.output, S.rows, S.cols, t->encoder[0] ? t->encoder : "not named");
	lw_mat_dispose(&S);
	lw_text_spec_free(t);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}
