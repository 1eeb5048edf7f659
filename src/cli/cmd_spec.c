/*
 * learnware spec: generate, compare, inspect and sample RKME specifications.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd_spec_image.h"

static const char spec_usage[] =
	"usage: learnware spec <command> [options]\n"
	"\n"
	"  table DATA -o OUT.json   fit a table RKME to a CSV or raw matrix file\n"
	"  text TEXTS -o OUT.json   fit a text RKME to texts (lines or a CSV column)\n"
	"  image INPUT... -o OUT.json  fit an image RKME to PNG/JPEG, folders, IDX, tensors\n"
	"  dist A.json B.json       squared MMD between two specifications\n"
	"  show SPEC.json           summary of a specification\n"
	"  herd SPEC.json -n N -o OUT.csv\n"
	"                           draw N synthetic rows by kernel herding\n"
	"\n"
	"Run 'learnware spec <command> --help' for its options.\n";

static const char table_usage[] =
	"usage: learnware spec table DATA -o OUT.json [options]\n"
	"\n"
	"Fit a Reduced Kernel Mean Embedding to the rows of DATA (CSV with or\n"
	"without a header, comma/semicolon/tab separated, or a raw float64 matrix;\n"
	"see docs/data-formats.md). NaN and Inf cells are replaced by their column's\n"
	"mean. The output is the reference engine's RKMETableSpecification JSON.\n"
	"\n"
	"  -o, --output FILE      where to write the specification (required)\n"
	"  -k, --k N              reduced points before clamping (default 100)\n"
	"  -g, --gamma G          RBF kernel width, k = exp(-G |x-y|^2) (default 0.1)\n"
	"      --steps N          alternating z/beta rounds (default 3)\n"
	"      --step-size S      z step as a fraction of the Newton-scaled step\n"
	"                         (default 1; see docs/rkme.md)\n"
	"      --seed N           seed of the k-means++ initialisation (default 0)\n"
	"      --no-reduce        keep every row with weight 1/n (large output)\n"
	"      --signed-beta      allow negative weights (unconstrained solve)\n"
	"  -c, --columns LIST     use only these columns: names or 1-based indices\n"
	"                         and ranges, e.g. 1-5,8,price\n"
	"  -d, --drop LIST        use every column except these (e.g. the target)\n"
	"      --header auto|yes|no   whether the first CSV row names the columns\n"
	"      --delimiter C      ',' ';' or 'tab' (default: detected)\n"
	"  -q, --quiet            no progress line and no summary\n";

static int sub_help(const char *text, int code)
{
	fputs(text, code ? stderr : stdout);
	return code;
}

static int parse_header_mode(lw_data_options *d, const char *arg)
{
	if (!strcmp(arg, "auto"))
		d->header = LW_DATA_HEADER_AUTO;
	else if (!strcmp(arg, "yes"))
		d->header = LW_DATA_HEADER_YES;
	else if (!strcmp(arg, "no"))
		d->header = LW_DATA_HEADER_NO;
	else
		return cli_usage_error("spec table", "--header must be auto, yes or no, not '%s'", arg);
	return 0;
}

static int parse_delimiter(lw_data_options *d, const char *arg)
{
	if (!strcmp(arg, "tab") || !strcmp(arg, "\\t") || !strcmp(arg, "\t"))
		d->delimiter = '\t';
	else if (!strcmp(arg, ",") || !strcmp(arg, ";"))
		d->delimiter = arg[0];
	else
		return cli_usage_error("spec table", "--delimiter must be ',', ';' or 'tab', not '%s'",
				       arg);
	return 0;
}

/* Parse `spec table` options into the fit and data options. */
static int table_options(int argc, char **argv, lw_rkme_options *ro, lw_data_options *dopt,
			 const char **output, int *quiet)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, { "k", required_argument, NULL, 'k' },
		{ "gamma", required_argument, NULL, 'g' },  { "steps", required_argument, NULL, 1 },
		{ "step-size", required_argument, NULL, 2 }, { "seed", required_argument, NULL, 3 },
		{ "no-reduce", no_argument, NULL, 4 },       { "signed-beta", no_argument, NULL, 5 },
		{ "columns", required_argument, NULL, 'c' }, { "drop", required_argument, NULL, 'd' },
		{ "header", required_argument, NULL, 6 },    { "delimiter", required_argument, NULL, 7 },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t steps;
	int c;

	while ((c = getopt_long(argc, argv, "o:k:g:c:d:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'o': *output = optarg; break;
		case 'k': bad = cli_parse_size(&ro->k, optarg, "--k"); break;
		case 'g': bad = cli_parse_double(&ro->gamma, optarg, "--gamma"); break;
		case 1:
			bad = cli_parse_size(&steps, optarg, "--steps");
			if (!bad && steps > 1000)
				return cli_usage_error("spec table", "--steps %zu is over 1000", steps);
			ro->steps = (unsigned)steps;
			break;
		case 2: bad = cli_parse_double(&ro->step_size, optarg, "--step-size"); break;
		case 3: bad = cli_parse_u64(&ro->seed, optarg, "--seed"); break;
		case 4: ro->reduce = 0; break;
		case 5: ro->nonnegative_beta = 0; break;
		case 'c': dopt->columns = optarg; break;
		case 'd': dopt->drop = optarg; break;
		case 6: bad = parse_header_mode(dopt, optarg) != 0; break;
		case 7: bad = parse_delimiter(dopt, optarg) != 0; break;
		case 'q': *quiet = 1; break;
		case 'h': fputs(table_usage, stdout); return -1; /* done: exit 0 */
		default: return cli_usage_error("spec table", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

static int spec_table(int argc, char **argv)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_data_options dopt = LW_DATA_OPTIONS_INIT;
	lw_mat X = LW_MAT_INIT;
	lw_rkme *r = NULL;
	const char *output = NULL;
	cli_progress prog;
	struct timespec t0;
	int quiet = 0, rc, err;

	if ((rc = table_options(argc, argv, &ro, &dopt, &output, &quiet)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind != argc - 1)
		return cli_usage_error("spec table", "expected one DATA file, got %d", argc - optind);
	if (!output)
		return cli_usage_error("spec table", "missing -o OUT.json");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = lw_data_read(&X, NULL, argv[optind], &dopt)) < 0)
		return cli_fail(err);
	if (X.rows < 2) {
		lw_mat_dispose(&X);
		fprintf(stderr, "learnware: %s: has %zu data row; a specification needs at least 2 "
				"(with 1 it would publish the row itself)\n",
			argv[optind], X.rows);
		return CLI_EXIT_INPUT;
	}
	cli_progress_init(&prog, quiet);
	ro.progress = cli_progress_cb;
	ro.payload = &prog;
	err = lw_rkme_fit(&r, &X, &ro);
	cli_progress_end(&prog);
	if (err == 0)
		err = lw_rkme_save(r, output);
	if (err == 0 && !quiet)
		printf("%s: %zu rows x %zu columns -> %zu reduced points, gamma %g, %.2f s\n", output,
		       X.rows, X.cols, lw_rkme_k(r), r->gamma, seconds_since(&t0));
	lw_mat_dispose(&X);
	lw_rkme_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

static const char dist_usage[] =
	"usage: learnware spec dist A.json B.json [--json]\n"
	"\n"
	"Print the squared maximum mean discrepancy between two specifications,\n"
	"<A,A> - 2<A,B> + <B,B> with A's gamma (the reference engine's dist).\n";

static const char show_usage[] =
	"usage: learnware spec show SPEC.json [--json]\n"
	"\n"
	"Summarise a specification: rows summarised (n), reduced points (K),\n"
	"dimension (d), gamma, self inner product <A,A>, and the weights.\n"
	"Image specifications also show channels, size and the distance to\n"
	"itself; text ones the languages and the encoder (name, version, hash).\n";

static const char herd_usage[] =
	"usage: learnware spec herd SPEC.json -n N -o OUT.csv [--seed S]\n"
	"       learnware spec herd IMAGE_SPEC.json -o OUT.lwten [-n N]\n"
	"\n"
	"Draw N synthetic rows whose kernel mean embedding tracks the\n"
	"specification's (kernel herding), written as CSV with columns x1..xd;\n"
	"for a text specification rows of the encoder's embeddings (e1..ed), the\n"
	"inputs of a text learnware's model. An image specification's reduced\n"
	"images are written as a raw tensor instead, the heaviest first.\n";

/* Parse the flags shared by the small commands: --json, -n, -o, --seed, --help. */
typedef struct {
	int json;
	size_t n;
	const char *output;
	uint64_t seed;
} small_opts;

static int parse_small(int argc, char **argv, const char *verb, const char *help,
		       small_opts *o, int npos)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },         { "n", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' }, { "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	int c;

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
	if (argc - optind != npos)
		return cli_usage_error(verb, "expected %d specification file%s, got %d", npos,
				       npos > 1 ? "s" : "", argc - optind);
	return 0;
}

static int spec_dist(int argc, char **argv)
{
	small_opts o = { 0 };
	lw_rkme *a = NULL, *b = NULL;
	double d;
	int rc, err;

	if ((rc = parse_small(argc, argv, "spec dist", dist_usage, &o, 2)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_rkme_load(&a, argv[optind])) == 0 &&
	    (err = lw_rkme_load(&b, argv[optind + 1])) == 0 && (err = lw_rkme_dist(&d, a, b)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lw_error_last()->message);
		lw_error_set(LW_ERRCLASS_INVALID, "%s and %s: %s", argv[optind], argv[optind + 1], why);
	}
	if (err == 0)
		printf(o.json ? "{\"mmd2\":%.17g}\n" : "%.17g\n", d);
	lw_rkme_free(a);
	lw_rkme_free(b);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* Weight summary printed by `spec show`. */
typedef struct {
	double min, max, sum, effective;
	size_t negative;
} weight_stats;

static weight_stats weights_of(const lw_rkme *r)
{
	weight_stats w = { INFINITY, -INFINITY, 0, 0, 0 };
	double sq = 0;

	for (size_t i = 0; i < lw_rkme_k(r); i++) {
		double b = r->beta[i];

		w.min = b < w.min ? b : w.min;
		w.max = b > w.max ? b : w.max;
		w.sum += b;
		sq += b * b;
		w.negative += b < 0;
	}
	/* Kish's effective sample size: how many points carry the weight. */
	w.effective = sq > 0 ? w.sum * w.sum / sq : 0;
	return w;
}

static int spec_show(int argc, char **argv)
{
	small_opts o = { 0 };
	lw_rkme *r = NULL;
	weight_stats w;
	double self;
	int rc, err;

	if ((rc = parse_small(argc, argv, "spec show", show_usage, &o, 1)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_rkme_load(&r, argv[optind])) < 0 || (err = lw_rkme_inner(&self, r, r)) < 0)
		goto done;
	w = weights_of(r);
	if (o.json)
		printf("{\"type\":\"RKMETableSpecification\",\"n\":%zu,\"k\":%zu,\"d\":%zu,"
		       "\"gamma\":%.17g,\"self_inner\":%.17g,\"beta\":{\"min\":%.17g,\"max\":%.17g,"
		       "\"sum\":%.17g,\"negative\":%zu,\"effective_points\":%.6g}}\n",
		       r->num_points, lw_rkme_k(r), lw_rkme_dim(r), r->gamma, self, w.min, w.max,
		       w.sum, w.negative, w.effective);
	else
		printf("file           %s\n"
		       "type           RKMETableSpecification\n"
		       "rows (n)       %zu\n"
		       "points (K)     %zu\n"
		       "dimension (d)  %zu\n"
		       "gamma          %g\n"
		       "<A,A>          %.10g\n"
		       "beta           min %.4g, max %.4g, sum %.10g, %zu negative, "
		       "%.1f effective points\n",
		       argv[optind], r->num_points, lw_rkme_k(r), lw_rkme_dim(r), r->gamma, self,
		       w.min, w.max, w.sum, w.negative, w.effective);
done:
	lw_rkme_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* Herded rows as CSV with a header x1..xd, so they read back as data. */
static int write_samples(const char *path, const lw_mat *S)
{
	char **names = calloc(S->cols, sizeof(char *));
	int err = LW_ENOMEM;

	if (!names)
		goto done;
	for (size_t j = 0; j < S->cols; j++) {
		if (!(names[j] = malloc(24)))
			goto done;
		snprintf(names[j], 24, "x%zu", j + 1);
	}
	err = lw_data_write_csv(path, S, (const char *const *)names);
done:
	if (err == LW_ENOMEM && !names)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
	for (size_t j = 0; names && j < S->cols; j++)
		free(names[j]);
	free(names);
	return err;
}

static int spec_herd(int argc, char **argv)
{
	small_opts o = { 0 };
	lw_rkme *r = NULL;
	lw_mat S = LW_MAT_INIT;
	int rc, err;

	if ((rc = parse_small(argc, argv, "spec herd", herd_usage, &o, 1)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (o.n == 0)
		return cli_usage_error("spec herd", "missing -n N (a positive number of rows)");
	if (!o.output)
		return cli_usage_error("spec herd", "missing -o OUT.csv");
	if ((err = lw_rkme_load(&r, argv[optind])) == 0 &&
	    (err = lw_rkme_herd(&S, r, o.n, o.seed)) == 0)
		err = write_samples(o.output, &S);
	lw_mat_dispose(&S);
	lw_rkme_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* Text specifications: src/cli/cmd_spec_text.c. */
int cmd_spec_text(int argc, char **argv);
int cmd_spec_text_is_dist(int argc, char **argv);
int cmd_spec_text_dist(int argc, char **argv);
int cmd_spec_text_is_spec(int argc, char **argv);
int cmd_spec_text_show(int argc, char **argv);
int cmd_spec_text_herd(int argc, char **argv);

int cmd_spec(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	int rc;

	optind = 1;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))
		return sub_help(spec_usage, sub ? CLI_EXIT_OK : CLI_EXIT_USAGE);
	if (!strcmp(sub, "table"))
		return spec_table(argc - 1, argv + 1);
	if ((rc = cmd_spec_image_dispatch(sub, argc - 1, argv + 1)) >= 0) /* cmd_spec_image.c */
		return rc;
	if (!strcmp(sub, "text")) /* cmd_spec_text.c */
		return cmd_spec_text(argc - 1, argv + 1);
	if (!strcmp(sub, "dist") && cmd_spec_text_is_dist(argc - 1, argv + 1))
		return cmd_spec_text_dist(argc - 1, argv + 1);
	if (!strcmp(sub, "dist"))
		return spec_dist(argc - 1, argv + 1);
	if (!strcmp(sub, "show") && cmd_spec_text_is_spec(argc - 1, argv + 1))
		return cmd_spec_text_show(argc - 1, argv + 1);
	if (!strcmp(sub, "herd") && cmd_spec_text_is_spec(argc - 1, argv + 1))
		return cmd_spec_text_herd(argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return spec_show(argc - 1, argv + 1);
	if (!strcmp(sub, "herd"))
		return spec_herd(argc - 1, argv + 1);
	fprintf(stderr, "learnware spec: unknown command '%s'\n", sub);
	return sub_help(spec_usage, CLI_EXIT_USAGE);
}
