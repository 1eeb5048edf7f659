/*
 * learnware train: fit a model to a table, images or texts, so a developer
 * can go from data to a learnware's model without Python.  learnware
 * predict: run a model file on them.  Images and texts become rows as
 * media.c makes them (docs/models.md, "Image and text inputs").
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lw/train.h"
#include "media.h"

static const char train_usage[] =
	"usage: learnware train --model KIND DATA --target COL -o MODEL [options]\n"
	"       learnware train --images PATH... --labels FILE -o MODEL [options]\n"
	"       learnware train --text FILE [--text-column COL]\n"
	"                       (--labels FILE | --label-column COL) -o MODEL [options]\n"
	"\n"
	"Fit a model to the rows of DATA (CSV or raw matrix, see docs/data-formats.md)\n"
	"and save it: linear, logistic and mlp as learnware-model JSON (docs/models.md),\n"
	"xgboost as xgboost's own JSON, or UBJ when MODEL ends in .ubj. A random part of\n"
	"the rows (--holdout) is set aside: the model is fit on the rest, and the held-out\n"
	"rows score it and stop mlp and xgboost training early. Classification labels\n"
	"may be text; they are stored in the model, sorted. Missing feature cells are\n"
	"allowed; rows without a target are not.\n"
	"\n"
	"  -m, --model KIND       linear, logistic, mlp or xgboost (required)\n"
	"      --task TASK        regression or classification (linear: regression,\n"
	"                         logistic: classification; required for mlp, xgboost)\n"
	"  -t, --target COL       the column to predict: a name or 1-based index\n"
	"  -o, --output FILE      where to write the model (required)\n"
	"  -c, --columns LIST     feature columns: names, 1-based indices, ranges\n"
	"  -d, --drop LIST        leave these columns out (ids, text)\n"
	"      --header auto|yes|no   whether the first CSV row names the columns\n"
	"      --delimiter C      ',' ';' or 'tab' (default: detected)\n"
	"      --seed N           split, initial weights, batches (default 0)\n"
	"      --holdout F        fraction held out, 0 to fit on every row (0.2)\n"
	"      --alpha A          linear: ridge penalty on standardised inputs (1e-3)\n"
	"      --l2 L             logistic, mlp: L2 weight penalty (1e-4)\n"
	"      --max-iter N       logistic: most L-BFGS iterations (500)\n"
	"      --hidden LIST      mlp: hidden layer widths, e.g. 128,64 (64,64)\n"
	"      --epochs N         mlp: most passes over the data (200)\n"
	"      --learning-rate R  mlp: Adam step size (1e-3)\n"
	"      --batch-size N     mlp: rows per step (64)\n"
	"      --rounds N         xgboost: most boosting rounds (300)\n"
	"      --max-depth N      xgboost: tree depth (6)\n"
	"      --eta E            xgboost: learning rate (0.1)\n"
	"      --threads N        xgboost: threads, 0 = all cores (0)\n"
	"      --early-stopping N mlp, xgboost: stop after N epochs or rounds without\n"
	"                         a better held-out loss; 0 = never (10)\n"
	"  -q, --quiet            no progress line and no summary\n"
	"\n"
	"Image and text learnwares (docs/models.md, \"Image and text inputs\"): the\n"
	"model gets the rows the checker and reuse feed it. Classification is the\n"
	"default task (regression for linear); the default model is mlp for images,\n"
	"logistic for texts.\n"
	"      --images PATH...   PNG/JPEG files, folders of them, IDX or raw tensor\n"
	"                         files; each image resized to 32 x 32, /255, one row\n"
	"                         of channels x 32 x 32 columns\n"
	"      --mixed-sizes      accept images of different sizes\n"
	"      --text FILE        one text per line, or a CSV column (--text-column;\n"
	"                         a .csv/.tsv file: its \"text\" column); each text\n"
	"                         embedded by the built-in encoder (256 columns)\n"
	"      --text-column COL  the column of --text holding the texts\n"
	"      --labels FILE      one label per input: an IDX label file (.gz or not),\n"
	"                         one label per line, or --label-column of a CSV\n"
	"      --label-column COL a column of --labels, or without --labels of the\n"
	"                         --text CSV\n"
	"      --limit N          read only the first N images or texts (and labels)\n";

static const char predict_usage[] =
	"usage: learnware predict MODEL DATA [-o OUT.csv] [options]\n"
	"       learnware predict MODEL --images PATH... [-o OUT.csv] [options]\n"
	"       learnware predict MODEL --text FILE [--text-column COL] [-o OUT.csv]\n"
	"\n"
	"Run a model on the rows of DATA and write its predictions as CSV: one column\n"
	"per regression target, or one probability column per class (p_<class>) and\n"
	"the most probable class (label). When the model names its features and no\n"
	"--columns or --drop is given, those columns are read by name.\n"
	"\n"
	"  -k, --kind KIND        linear, logistic, mlp or xgboost (default: from the file)\n"
	"  -o, --output FILE      where to write (default: standard output)\n"
	"  -c, --columns LIST     feature columns: names, 1-based indices, ranges\n"
	"  -d, --drop LIST        leave these columns out\n"
	"      --header auto|yes|no   whether the first CSV row names the columns\n"
	"      --delimiter C      ',' ';' or 'tab' (default: detected)\n"
	"      --images PATH...   images instead of DATA, as 'learnware train' reads them\n"
	"      --mixed-sizes      accept images of different sizes\n"
	"      --text FILE        texts instead of DATA (one per line, or --text-column)\n"
	"      --text-column COL  the column of a CSV --text holding the texts\n"
	"      --limit N          only the first N images or texts\n";

static int parse_header_mode(lw_data_options *d, const char *arg, const char *verb)
{
	if (!strcmp(arg, "auto"))
		d->header = LW_DATA_HEADER_AUTO;
	else if (!strcmp(arg, "yes"))
		d->header = LW_DATA_HEADER_YES;
	else if (!strcmp(arg, "no"))
		d->header = LW_DATA_HEADER_NO;
	else
		return cli_usage_error(verb, "--header must be auto, yes or no, not '%s'", arg);
	return 0;
}

static int parse_delimiter(lw_data_options *d, const char *arg, const char *verb)
{
	if (!strcmp(arg, "tab") || !strcmp(arg, "\\t") || !strcmp(arg, "\t"))
		d->delimiter = '\t';
	else if (!strcmp(arg, ",") || !strcmp(arg, ";"))
		d->delimiter = arg[0];
	else
		return cli_usage_error(verb, "--delimiter must be ',', ';' or 'tab', not '%s'", arg);
	return 0;
}

static int parse_hidden(lw_train_options *o, const char *arg)
{
	size_t n = 0;
	const char *p = arg;

	memset(o->hidden, 0, sizeof(o->hidden));
	while (*p) {
		char *end;
		unsigned long long v = strtoull(p, &end, 10);

		if (end == p || v == 0 || v > 1000000 || n == LW_TRAIN_MAX_HIDDEN ||
		    (*end && *end != ',') || *p == '-')
			return cli_usage_error("train", "--hidden takes 1 to %d positive widths "
					       "separated by commas, e.g. 128,64; not '%s'",
					       LW_TRAIN_MAX_HIDDEN, arg);
		o->hidden[n++] = (size_t)v;
		p = *end ? end + 1 : end;
	}
	return n ? 0 : cli_usage_error("train", "--hidden needs at least one width");
}

static int parse_uint(unsigned *out, const char *arg, const char *opt)
{
	size_t v;

	if (cli_parse_size(&v, arg, opt) < 0)
		return CLI_EXIT_USAGE;
	if (v > 100000000) {
		fprintf(stderr, "learnware: %s %s is too large\n", opt, arg);
		return CLI_EXIT_USAGE;
	}
	*out = (unsigned)v;
	return 0;
}

typedef struct {
	lw_train_options o;
	lw_data_options d;
	const char *output, *target, *data;
	int quiet, task_given;
	cli_media media;
	char what[1024]; /* what the rows came from, for the summary */
} train_args;

/* Options of one letter or without a short form (numbered from 256). */
enum {
	OPT_TASK = 256, OPT_HEADER, OPT_DELIM, OPT_SEED, OPT_HOLDOUT, OPT_ALPHA, OPT_L2,
	OPT_MAXITER, OPT_HIDDEN, OPT_EPOCHS, OPT_LR, OPT_BATCH, OPT_ROUNDS, OPT_DEPTH, OPT_ETA,
	OPT_THREADS, OPT_EARLY
};

static int train_option(train_args *a, int c, const char *arg)
{
	lw_train_options *o = &a->o;

	switch (c) {
	case 'm':
		o->kind = lw_model_kind_from_name(arg);
		if (o->kind != LW_MODEL_LINEAR && o->kind != LW_MODEL_LOGISTIC &&
		    o->kind != LW_MODEL_MLP && o->kind != LW_MODEL_XGBOOST)
			return cli_usage_error("train", "--model must be linear, logistic, mlp or "
					       "xgboost, not '%s'", arg);
		return 0;
	case OPT_TASK:
		a->task_given = 1;
		if (!(o->task = lw_task_from_name(arg)))
			return cli_usage_error("train", "--task must be regression or classification, "
					       "not '%s'", arg);
		return 0;
	case 't': a->target = arg; return 0;
	case 'o': a->output = arg; return 0;
	case 'c': a->d.columns = arg; return 0;
	case 'd': a->d.drop = arg; return 0;
	case 'q': a->quiet = 1; return 0;
	case OPT_HEADER: return parse_header_mode(&a->d, arg, "train");
	case OPT_DELIM: return parse_delimiter(&a->d, arg, "train");
	case OPT_SEED: return cli_parse_u64(&o->seed, arg, "--seed") ? CLI_EXIT_USAGE : 0;
	case OPT_HOLDOUT: return cli_parse_double(&o->holdout, arg, "--holdout") ? CLI_EXIT_USAGE : 0;
	case OPT_ALPHA: return cli_parse_double(&o->alpha, arg, "--alpha") ? CLI_EXIT_USAGE : 0;
	case OPT_L2: return cli_parse_double(&o->l2, arg, "--l2") ? CLI_EXIT_USAGE : 0;
	case OPT_MAXITER: return parse_uint(&o->max_iter, arg, "--max-iter");
	case OPT_HIDDEN: return parse_hidden(o, arg);
	case OPT_EPOCHS: return parse_uint(&o->epochs, arg, "--epochs");
	case OPT_LR:
		return cli_parse_double(&o->learning_rate, arg, "--learning-rate") ? CLI_EXIT_USAGE : 0;
	case OPT_BATCH: return cli_parse_size(&o->batch_size, arg, "--batch-size") ? CLI_EXIT_USAGE : 0;
	case OPT_ROUNDS: return parse_uint(&o->rounds, arg, "--rounds");
	case OPT_DEPTH: return parse_uint(&o->max_depth, arg, "--max-depth");
	case OPT_ETA: return cli_parse_double(&o->eta, arg, "--eta") ? CLI_EXIT_USAGE : 0;
	case OPT_THREADS: return parse_uint(&o->threads, arg, "--threads");
	case OPT_EARLY: return parse_uint(&o->early_stopping, arg, "--early-stopping");
	default:
		c = c ? cli_media_option(&a->media, c, arg, "train") : 1;
		return c == 1 ? cli_usage_error("train", "unknown option") : c;
	}
}

static int train_options(train_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },   { "task", required_argument, NULL, OPT_TASK },
		{ "target", required_argument, NULL, 't' },  { "output", required_argument, NULL, 'o' },
		{ "columns", required_argument, NULL, 'c' }, { "drop", required_argument, NULL, 'd' },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "delimiter", required_argument, NULL, OPT_DELIM },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "holdout", required_argument, NULL, OPT_HOLDOUT },
		{ "alpha", required_argument, NULL, OPT_ALPHA }, { "l2", required_argument, NULL, OPT_L2 },
		{ "max-iter", required_argument, NULL, OPT_MAXITER },
		{ "hidden", required_argument, NULL, OPT_HIDDEN },
		{ "epochs", required_argument, NULL, OPT_EPOCHS },
		{ "learning-rate", required_argument, NULL, OPT_LR },
		{ "batch-size", required_argument, NULL, OPT_BATCH },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "max-depth", required_argument, NULL, OPT_DEPTH },
		{ "eta", required_argument, NULL, OPT_ETA },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "early-stopping", required_argument, NULL, OPT_EARLY },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ "labels", required_argument, NULL, CLI_OPT_LABELS },
		CLI_MEDIA_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	a->o.kind = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:t:o:c:d:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(train_usage, stdout);
			return -1;
		}
		if ((rc = train_option(a, c == '?' ? 0 : c, optarg)) != 0)
			return rc;
	}
	return 0;
}

/* Images or texts: the positionals are more images; labels are required. */
static int train_check_media(train_args *a, int argc, char **argv)
{
	cli_media_kind k = cli_media_kind_of(&a->media);
	int rc;

	for (int i = optind; i < argc; i++) {
		if (k == CLI_MEDIA_TEXT)
			return cli_usage_error("train", "--text reads one file; unexpected '%s'", argv[i]);
		if ((rc = cli_media_add_image(&a->media, argv[i])) != 0)
			return rc;
	}
	if ((rc = cli_media_validate(&a->media, "train", 1)) != 0)
		return rc;
	if (a->target || a->d.columns || a->d.drop)
		return cli_usage_error("train", "--target, --columns and --drop are for tables; give "
				       "the labels of images or texts with --labels or --label-column");
	if (!a->media.labels && !a->media.label_column)
		return cli_usage_error("train", "missing the labels: --labels FILE (one per %s)%s",
				       k == CLI_MEDIA_IMAGES ? "image" : "text",
				       k == CLI_MEDIA_TEXT ? " or --label-column COL of the --text CSV" : "");
	if (!a->o.kind)
		a->o.kind = k == CLI_MEDIA_IMAGES ? LW_MODEL_MLP : LW_MODEL_LOGISTIC;
	if (!a->task_given)
		a->o.task = a->o.kind == LW_MODEL_LINEAR ? LW_TASK_REGRESSION : LW_TASK_CLASSIFICATION;
	a->data = NULL;
	return a->output ? 0 : cli_usage_error("train", "missing -o MODEL");
}

/* Required arguments, and the task a kind implies. */
static int train_check(train_args *a, int argc, char **argv)
{
	if (cli_media_kind_of(&a->media) != CLI_MEDIA_NONE || a->media.text)
		return train_check_media(a, argc, argv);
	if (a->media.labels || a->media.label_column || a->media.limit || a->media.mixed_sizes ||
	    a->media.text_column)
		return cli_usage_error("train", "--labels, --label-column, --text-column, --limit and "
				       "--mixed-sizes go with --images or --text; a table's labels "
				       "are its --target column");
	if (optind != argc - 1)
		return cli_usage_error("train", "expected one DATA file, got %d", argc - optind);
	a->data = argv[optind];
	if (!a->o.kind)
		return cli_usage_error("train", "missing --model linear|logistic|mlp|xgboost");
	if (!a->target)
		return cli_usage_error("train", "missing --target COL (the column to predict)");
	if (!a->output)
		return cli_usage_error("train", "missing -o MODEL");
	if (!a->task_given && (a->o.kind == LW_MODEL_MLP || a->o.kind == LW_MODEL_XGBOOST))
		return cli_usage_error("train", "missing --task regression|classification for %s",
				       lw_model_kind_name(a->o.kind));
	if (!a->task_given)
		a->o.task = a->o.kind == LW_MODEL_LOGISTIC ? LW_TASK_CLASSIFICATION
							   : LW_TASK_REGRESSION;
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* What train read: features, targets, and the names to keep in the model. */
typedef struct {
	lw_mat X;
	double *y;
	char **names, **labels, **classes;
	size_t n_classes;
} train_data;

static void train_data_dispose(train_data *t)
{
	lw_mat_dispose(&t->X);
	free(t->y);
	lw_data_free_names(t->names);
	lw_data_free_names(t->labels);
	free(t->classes);
}

/* Regression targets given as labels: each must be a finite number. */
static int numeric_targets(double **y, char **labels, size_t n, const char *path)
{
	if (!(*y = malloc((n ? n : 1) * sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *end;

		(*y)[i] = strtod(labels[i], &end);
		if (end == labels[i] || *end || !isfinite((*y)[i])) {
			lw_error_set(LW_ERRCLASS_DATA, "%s: label %zu is '%s', not a number; a regression "
				     "needs numeric targets (or train with --task classification)", path,
				     i + 1, labels[i]);
			return LW_EINVALID;
		}
	}
	return 0;
}

/* Images or texts: the model rows, then their labels. */
static int read_media(train_data *t, train_args *a)
{
	const char *path = a->media.labels ? a->media.labels : a->media.text;
	int err;

	if ((err = cli_media_rows(&t->X, a->what, sizeof(a->what), &a->media)) < 0 ||
	    (err = cli_media_labels(&t->labels, &a->media, t->X.rows)) < 0)
		return err;
	a->data = a->what;
	if (a->o.task == LW_TASK_REGRESSION)
		return numeric_targets(&t->y, t->labels, t->X.rows, path);
	if ((err = lw_train_encode_labels(&t->y, &t->classes, &t->n_classes,
					  (const char *const *)t->labels, t->X.rows)) < 0)
		return err;
	a->o.classes = (const char *const *)t->classes;
	a->o.n_classes = t->n_classes;
	return 0;
}

static int read_training(train_data *t, train_args *a)
{
	int err;

	if (cli_media_kind_of(&a->media) != CLI_MEDIA_NONE)
		return read_media(t, a);
	if (a->o.task == LW_TASK_REGRESSION)
		return lw_data_read_xy(&t->X, &t->names, &t->y, a->data, a->target, &a->d);
	if ((err = lw_data_read_target(&t->X, &t->names, &t->labels, a->data, a->target, &a->d)) < 0 ||
	    (err = lw_train_encode_labels(&t->y, &t->classes, &t->n_classes,
					  (const char *const *)t->labels, t->X.rows)) < 0)
		return err;
	a->o.classes = (const char *const *)t->classes;
	a->o.n_classes = t->n_classes;
	return 0;
}

static const char *iteration_word(lw_model_kind k)
{
	return k == LW_MODEL_XGBOOST ? "rounds" : k == LW_MODEL_MLP ? "epochs"
					     : k == LW_MODEL_LOGISTIC ? "iterations" : "solve";
}

static void print_summary(const train_args *a, const train_data *t, const lw_train_report *r,
			  double secs)
{
	int cls = a->o.task == LW_TASK_CLASSIFICATION;

	printf("%s: %s %s on %s: %zu rows x %zu features", a->output,
	       lw_model_kind_name(a->o.kind), lw_task_name(a->o.task), a->data, t->X.rows, t->X.cols);
	if (cls)
		printf(", %zu classes", t->n_classes);
	printf("\n  fit on %zu rows, %zu held out; %s %.4f train", r->train_rows, r->holdout_rows,
	       r->metric, r->train_metric);
	if (r->holdout_rows)
		printf(", %.4f held out", r->holdout_metric);
	if (a->o.kind == LW_MODEL_LINEAR)
		printf("; %.2f s\n", secs);
	else
		printf("; %u %s%s; %.2f s\n", r->iterations, iteration_word(a->o.kind),
		       r->stopped_early ? " (stopped early)" : "", secs);
}

int cmd_train(int argc, char **argv)
{
	train_args a = { LW_TRAIN_OPTIONS_INIT, LW_DATA_OPTIONS_INIT, NULL, NULL, NULL, 0, 0,
			 { 0 }, "" };
	train_data t = { LW_MAT_INIT, NULL, NULL, NULL, NULL, 0 };
	lw_train_report r;
	lw_model *m = NULL;
	cli_progress prog;
	struct timespec t0;
	int rc, err;

	if ((rc = train_options(&a, argc, argv)) == 0)
		rc = train_check(&a, argc, argv);
	if (rc != 0) {
		cli_media_dispose(&a.media);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = read_training(&t, &a)) < 0)
		goto done;
	a.o.feature_names = (const char *const *)t.names;
	cli_progress_init(&prog, a.quiet);
	a.o.progress = cli_progress_cb;
	a.o.payload = &prog;
	err = lw_train(&m, &r, &t.X, t.y, &a.o);
	cli_progress_end(&prog);
	if (err == 0 && (err = lw_model_save(m, a.output)) == 0 && !a.quiet)
		print_summary(&a, &t, &r, seconds_since(&t0));
done:
	lw_model_free(m);
	train_data_dispose(&t);
	cli_media_dispose(&a.media);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* --- predict ------------------------------------------------------------ */

typedef struct {
	lw_data_options d;
	lw_model_kind kind;
	const char *output, *model, *data;
	cli_media media;
} predict_args;

static int predict_option(predict_args *a, int c, const char *arg)
{
	switch (c) {
	case 'k':
		a->kind = lw_model_kind_from_name(arg);
		if (a->kind != LW_MODEL_LINEAR && a->kind != LW_MODEL_LOGISTIC &&
		    a->kind != LW_MODEL_MLP && a->kind != LW_MODEL_XGBOOST)
			return cli_usage_error("predict", "--kind must be linear, logistic, mlp "
					       "or xgboost, not '%s'", arg);
		return 0;
	case 'o': a->output = arg; return 0;
	case 'c': a->d.columns = arg; return 0;
	case 'd': a->d.drop = arg; return 0;
	case OPT_HEADER: return parse_header_mode(&a->d, arg, "predict");
	case OPT_DELIM: return parse_delimiter(&a->d, arg, "predict");
	default:
		c = c != '?' ? cli_media_option(&a->media, c, arg, "predict") : 1;
		return c == 1 ? cli_usage_error("predict", "unknown option") : c;
	}
}

/* MODEL, then DATA or (with --images) more images. */
static int predict_positionals(predict_args *a, int argc, char **argv)
{
	int n = argc - optind, rc;

	if (cli_media_kind_of(&a->media) == CLI_MEDIA_NONE) {
		if (n != 2)
			return cli_usage_error("predict", "expected MODEL and DATA, got %d file%s", n,
					       n == 1 ? "" : "s");
		if (a->media.limit || a->media.mixed_sizes || a->media.text_column)
			return cli_usage_error("predict", "--limit, --mixed-sizes and --text-column go "
					       "with --images or --text");
		a->model = argv[optind];
		a->data = argv[optind + 1];
		return 0;
	}
	if (n < 1)
		return cli_usage_error("predict", "missing MODEL");
	a->model = argv[optind];
	for (int i = optind + 1; i < argc; i++) {
		if (a->media.text)
			return cli_usage_error("predict", "--text reads one file; unexpected '%s'", argv[i]);
		if ((rc = cli_media_add_image(&a->media, argv[i])) != 0)
			return rc;
	}
	if (a->d.columns || a->d.drop)
		return cli_usage_error("predict", "--columns and --drop are for tables, not images or texts");
	return cli_media_validate(&a->media, "predict", 0);
}

static int predict_options(predict_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },    { "output", required_argument, NULL, 'o' },
		{ "columns", required_argument, NULL, 'c' }, { "drop", required_argument, NULL, 'd' },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "delimiter", required_argument, NULL, OPT_DELIM },
		{ "help", no_argument, NULL, 'h' },          CLI_MEDIA_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:o:c:d:h", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(predict_usage, stdout);
			return -1;
		}
		if ((rc = predict_option(a, c, optarg)) != 0)
			return rc;
	}
	return predict_positionals(a, argc, argv);
}

/*
 * The model's feature names as a --columns list, or NULL when it has none
 * or one would not survive the list syntax (a comma, or all digits).
 */
static char *columns_from_names(const char *const *names)
{
	size_t len = 1;
	char *list;

	for (size_t j = 0; names && names[j]; j++) {
		if (strchr(names[j], ',') || !names[j][0] ||
		    strspn(names[j], "0123456789-") == strlen(names[j]))
			return NULL;
		len += strlen(names[j]) + 1;
	}
	if (!names || !(list = malloc(len)))
		return NULL;
	list[0] = '\0';
	for (size_t j = 0; names[j]; j++) {
		if (j)
			strcat(list, ",");
		strcat(list, names[j]);
	}
	return list;
}

/* The rows to predict: by the model's names when the user chose no columns. */
static int read_inputs(lw_mat *X, predict_args *a, const lw_model *m)
{
	char *byname = NULL, saved[1024];
	int err;

	if (!a->d.columns && !a->d.drop)
		byname = columns_from_names(lw_model_feature_names(m));
	if (byname) {
		lw_data_options d = a->d;

		d.columns = byname;
		err = lw_data_read(X, NULL, a->data, &d);
		free(byname);
		if (err != LW_ENOTFOUND)
			return err;
		/* No header, or other names: fall back to every column, but keep this reason. */
		snprintf(saved, sizeof(saved), "%s", lw_error_last()->message);
		if ((err = lw_data_read(X, NULL, a->data, &a->d)) == 0 &&
		    X->cols != lw_model_input_dim(m)) {
			lw_mat_dispose(X);
			lw_error_set(LW_ERRCLASS_DATA, "%s (the model reads its columns by name)",
				     saved);
			return LW_ENOTFOUND;
		}
		return err;
	}
	return lw_data_read(X, NULL, a->data, &a->d);
}

static void write_name(FILE *f, const char *prefix, const char *s)
{
	size_t n = strlen(s);
	int quote = strpbrk(s, ",\"\r\n") || (n && (s[0] == ' ' || s[n - 1] == ' '));

	if (!quote) {
		fprintf(f, "%s%s", prefix, s);
		return;
	}
	fputc('"', f);
	fputs(prefix, f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void write_header(FILE *f, const lw_model *m, size_t k)
{
	const char *const *classes = lw_model_classes(m);
	int cls = lw_model_task(m) == LW_TASK_CLASSIFICATION;
	char num[32];

	for (size_t j = 0; j < k; j++) {
		if (j)
			fputc(',', f);
		snprintf(num, sizeof(num), "%zu", j);
		if (cls)
			write_name(f, "p_", classes ? classes[j] : num);
		else if (k == 1)
			fputs("prediction", f);
		else
			fprintf(f, "prediction_%zu", j + 1);
	}
	fputs(cls ? ",label\n" : "\n", f);
}

/* Shortest of %.15g..%.17g that reads back exactly. */
static void write_number(FILE *f, double v)
{
	char buf[32];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

static void write_rows(FILE *f, const lw_model *m, const lw_mat *P)
{
	const char *const *classes = lw_model_classes(m);
	int cls = lw_model_task(m) == LW_TASK_CLASSIFICATION;

	for (size_t i = 0; i < P->rows; i++) {
		const double *p = lw_mat_row(P, i);
		size_t best = 0;

		for (size_t j = 0; j < P->cols; j++) {
			if (j)
				fputc(',', f);
			write_number(f, p[j]);
			best = p[j] > p[best] ? j : best;
		}
		if (cls && classes)
			write_name(f, ",", classes[best]);
		else if (cls)
			fprintf(f, ",%zu", best);
		fputc('\n', f);
	}
}

static int write_predictions(const char *path, const lw_model *m, const lw_mat *P)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	int bad;

	if (!f) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s", path);
		return LW_EIO;
	}
	write_header(f, m, P->cols);
	write_rows(f, m, P);
	bad = ferror(f);
	if (path)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad) {
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path ? path : "standard output");
		if (path)
			remove(path);
		return LW_EIO;
	}
	return 0;
}

/* The rows to predict, from images, texts or a table; the width is the model's. */
static int predict_inputs(lw_mat *X, predict_args *a, const lw_model *m)
{
	cli_media_kind k = cli_media_kind_of(&a->media);
	char what[1024], got[160], want[160];
	int err;

	if (k == CLI_MEDIA_NONE)
		return read_inputs(X, a, m);
	if ((err = cli_media_rows(X, what, sizeof(what), &a->media)) < 0 ||
	    X->cols == lw_model_input_dim(m))
		return err;
	cli_media_describe_width(got, sizeof(got), k, X->cols);
	cli_media_describe_width(want, sizeof(want), k, lw_model_input_dim(m));
	lw_error_set(LW_ERRCLASS_DATA, "%s: the %s give %s, but %s takes %s; it was not trained on "
		     "such %s", a->model, what, got, a->model, want,
		     k == CLI_MEDIA_IMAGES ? "images (see docs/models.md)" : "texts");
	lw_mat_dispose(X);
	return LW_EINVALID;
}

int cmd_predict(int argc, char **argv)
{
	predict_args a = { LW_DATA_OPTIONS_INIT, 0, NULL, NULL, NULL, { 0 } };
	lw_mat X = LW_MAT_INIT, P = LW_MAT_INIT;
	lw_model *m = NULL;
	int rc, err;

	if ((rc = predict_options(&a, argc, argv)) != 0) {
		cli_media_dispose(&a.media);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if ((err = lw_model_load_file(&m, a.kind, a.model)) == 0 &&
	    (err = predict_inputs(&X, &a, m)) == 0 && (err = lw_model_predict(&P, m, &X)) == 0)
		err = write_predictions(a.output, m, &P);
	if (err == LW_EINVALID && m && X.data && X.cols != lw_model_input_dim(m)) {
		char why[768];

		snprintf(why, sizeof(why), "%s", lw_error_last()->message);
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %s; choose the columns with --columns or --drop",
			     a.data, why);
	}
	lw_mat_dispose(&X);
	lw_mat_dispose(&P);
	lw_model_free(m);
	cli_media_dispose(&a.media);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}
