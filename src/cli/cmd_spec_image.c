/*
 * learnware spec image: fit an image RKME to PNG/JPEG files, folders, IDX
 * files or raw tensors; and `spec dist` / `spec show` / `spec herd` for
 * image specifications (the cnn_gp kernel; herd writes the reduced
 * images).  docs/rkme-image.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "cmd_spec_image.h"
#include "lw/image.h"
#include "lw/rkme_image.h"

static const char image_usage[] =
	"usage: learnware spec image INPUT... -o OUT.json [options]\n"
	"\n"
	"Fit an image RKME (the reference engine's RKMEImageSpecification) to\n"
	"images.  INPUT is a PNG or JPEG file, a folder of them (sorted by name),\n"
	"an IDX file of the MNIST family (.gz or not) or a raw float32 tensor;\n"
	"see docs/rkme-image.md.  Every image is resized to 32 x 32 as it is read.\n"
	"\n"
	"  -o, --output FILE      where to write the specification (required)\n"
	"  -k, --k N              reduced images (default 50)\n"
	"      --steps N          optimisation rounds, fresh random networks each\n"
	"                         (default 50; 0 keeps the starting points)\n"
	"      --seed S           seed of the subsample, start and networks (default 0)\n"
	"      --no-whiten        no ZCA whitening of colour images\n"
	"      --init kmeans|noise  starting points: k-means centres (default) or\n"
	"                         the reference's N(0, 1) noise\n"
	"      --sample N         images the fit keeps, drawn at random (default 5000)\n"
	"      --limit N          read only the first N images\n"
	"      --labels FILE      IDX label file of an IDX input; with --class C,\n"
	"      --class C          keep the images of that class only\n"
	"      --mixed-sizes      accept images of different sizes\n"
	"      --n-models N       random networks per round (default 2)\n"
	"      --net-width W      networks of 2 W channels (default 16; the\n"
	"                         reference's 16 networks of 2 x 128 cost ~300x more)\n"
	"  -q, --quiet            no progress line and no summary\n";

static const char dist_usage[] =
	"usage: learnware spec dist A.json B.json [--json]\n"
	"\n"
	"Image specifications: the squared MMD in the cnn_gp kernel (the reference's\n"
	"search kernel), <A,A> - 2<A,B> + <B,B>; with --json also the dock's\n"
	"image score transform of it, 1 - exp(-d / 1e-2) (docs/rkme-image.md).\n";

static const char show_usage[] =
	"usage: learnware spec show SPEC.json [--json]\n"
	"\n"
	"Summarise an image specification: reduced images (K), channels, size,\n"
	"images summarised (num_points, when the file records it), the networks'\n"
	"configuration, <A,A> and the distance to itself in the cnn_gp kernel, and\n"
	"the weights.\n";

static const char herd_usage[] =
	"usage: learnware spec herd IMAGE_SPEC.json -o OUT.lwten [-n N]\n"
	"\n"
	"Write the reduced images z of an image specification as a raw float32\n"
	"tensor (K x channels x 32 x 32, docs/rkme-image.md), the heaviest first;\n"
	"-n N keeps the N heaviest. They are images after the specification's\n"
	"preprocessing (standardised, whitened for colour), not pixels in [0, 255];\n"
	"their weights are printed. An image specification holds no generator to\n"
	"herd new images from.\n";

typedef struct {
	lw_rkme_image_options fit;
	lw_image_read_options read;
	const char *output;
	int quiet;
	int have_class;
} image_opts;

static int parse_init(lw_rkme_image_options *o, const char *arg)
{
	if (!strcmp(arg, "kmeans"))
		o->init = LW_RKME_IMAGE_INIT_KMEANS;
	else if (!strcmp(arg, "noise"))
		o->init = LW_RKME_IMAGE_INIT_NOISE;
	else
		return cli_usage_error("spec image", "--init must be kmeans or noise, not '%s'", arg);
	return 0;
}

static int parse_class(image_opts *io, const char *arg)
{
	size_t c;

	if (cli_parse_size(&c, arg, "--class") < 0)
		return CLI_EXIT_USAGE;
	if (c > 255)
		return cli_usage_error("spec image", "--class %zu: IDX labels are 0 to 255", c);
	io->read.label = (long)c;
	io->have_class = 1;
	return 0;
}

/* Options into io; returns 0, an exit code, or -1 after --help. */
static int image_options(int argc, char **argv, image_opts *io)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' }, { "k", required_argument, NULL, 'k' },
		{ "steps", required_argument, NULL, 1 },    { "seed", required_argument, NULL, 2 },
		{ "no-whiten", no_argument, NULL, 3 },      { "init", required_argument, NULL, 4 },
		{ "sample", required_argument, NULL, 5 },   { "limit", required_argument, NULL, 6 },
		{ "labels", required_argument, NULL, 7 },   { "class", required_argument, NULL, 8 },
		{ "mixed-sizes", no_argument, NULL, 9 },    { "n-models", required_argument, NULL, 10 },
		{ "net-width", required_argument, NULL, 11 }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 }
	};
	size_t steps;
	int c;

	while ((c = getopt_long(argc, argv, "o:k:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'o': io->output = optarg; break;
		case 'k': bad = cli_parse_size(&io->fit.k, optarg, "--k"); break;
		case 1:
			bad = cli_parse_size(&steps, optarg, "--steps");
			if (!bad && steps > 10000)
				return cli_usage_error("spec image", "--steps %zu is over 10000", steps);
			io->fit.steps = (unsigned)steps;
			break;
		case 2: bad = cli_parse_u64(&io->fit.seed, optarg, "--seed"); break;
		case 3: io->fit.whitening = 0; break;
		case 4: bad = parse_init(&io->fit, optarg) != 0; break;
		case 5: bad = cli_parse_size(&io->fit.sample_size, optarg, "--sample"); break;
		case 6: bad = cli_parse_size(&io->read.limit, optarg, "--limit"); break;
		case 7: io->read.labels = optarg; break;
		case 8: bad = parse_class(io, optarg) != 0; break;
		case 9: io->read.allow_mixed_sizes = 1; break;
		case 10: bad = cli_parse_size(&io->fit.n_models, optarg, "--n-models"); break;
		case 11: bad = cli_parse_size(&io->fit.model_config.net_width, optarg, "--net-width"); break;
		case 'q': io->quiet = 1; break;
		case 'h': fputs(image_usage, stdout); return -1;
		default: return cli_usage_error("spec image", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (optind >= argc)
		return cli_usage_error("spec image", "expected at least one INPUT");
	if (!io->output)
		return cli_usage_error("spec image", "missing -o OUT.json");
	if (!io->read.labels != !io->have_class)
		return cli_usage_error("spec image", "--labels and --class go together");
	if (io->fit.k == 0 || io->fit.sample_size == 0 || io->fit.n_models == 0 ||
	    io->fit.model_config.net_width == 0 || io->fit.n_models > 256 ||
	    io->fit.model_config.net_width > 2048)
		return cli_usage_error("spec image", "--k, --sample, --n-models (at most 256) and "
				       "--net-width (at most 2048) must be at least 1");
	return 0;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

static int spec_image(int argc, char **argv)
{
	image_opts io;
	lw_image_batch X = LW_IMAGE_BATCH_INIT;
	lw_rkme_image *r = NULL;
	cli_progress prog;
	struct timespec t0;
	int rc, err;

	memset(&io, 0, sizeof(io));
	lw_rkme_image_options_init(&io.fit);
	lw_image_read_options_init(&io.read);
	/* The fit resizes to 32 x 32 anyway: doing it as each image is read bounds memory. */
	io.read.resize_h = io.read.resize_w = LW_RKME_IMAGE_SIZE;
	if ((rc = image_options(argc, argv, &io)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((err = lw_image_read(&X, (const char *const *)argv + optind, (size_t)(argc - optind),
				 &io.read)) < 0) {
		if (strstr(lw_error_last()->message, "must have one size"))
			fprintf(stderr, "learnware: %s\n(--mixed-sizes resizes each image to 32 x 32 "
				"whatever its size)\n", lw_error_last()->message);
		else
			return cli_fail(err);
		return CLI_EXIT_INPUT;
	}
	if (X.n < 2) {
		fprintf(stderr, "learnware: %zu image read; a specification needs at least 2 (with 1 "
				"it would publish the image itself)\n", X.n);
		lw_image_batch_dispose(&X);
		return CLI_EXIT_INPUT;
	}
	cli_progress_init(&prog, io.quiet);
	io.fit.progress = cli_progress_cb;
	io.fit.payload = &prog;
	err = lw_rkme_image_fit(&r, &X, &io.fit);
	cli_progress_end(&prog);
	if (err == 0)
		err = lw_rkme_image_save(r, io.output);
	if (err == 0 && !io.quiet)
		printf("%s: %zu images (%zu channel%s) -> %zu reduced images of 32 x 32, %.2f s\n",
		       io.output, X.n, X.c, X.c > 1 ? "s" : "", r->k, seconds_since(&t0));
	lw_image_batch_dispose(&X);
	lw_rkme_image_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/* --json and --help, then `npos` files. */
static int parse_small(int argc, char **argv, const char *verb, const char *help, int *json,
		       int npos)
{
	static const struct option longopts[] = { { "json", no_argument, NULL, 'j' },
						   { "help", no_argument, NULL, 'h' },
						   { NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': *json = 1; break;
		case 'h': fputs(help, stdout); return -1;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	if (argc - optind != npos)
		return cli_usage_error(verb, "expected %d specification file%s, got %d", npos,
				       npos > 1 ? "s" : "", argc - optind);
	return 0;
}

static int spec_image_dist(int argc, char **argv)
{
	lw_rkme_image *a = NULL, *b = NULL;
	double d;
	int json = 0, rc, err;

	if ((rc = parse_small(argc, argv, "spec dist", dist_usage, &json, 2)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_rkme_image_load(&a, argv[optind])) == 0 &&
	    (err = lw_rkme_image_load(&b, argv[optind + 1])) == 0 &&
	    (err = lw_rkme_image_dist(&d, a, b)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lw_error_last()->message);
		lw_error_set(LW_ERRCLASS_INVALID, "%s and %s: %s", argv[optind], argv[optind + 1], why);
	}
	if (err == 0 && json)
		printf("{\"mmd2\":%.17g,\"kernel\":\"cnn_gp\",\"score_distance\":%.17g}\n", d,
		       lw_rkme_image_score_transform(d));
	else if (err == 0)
		printf("%.17g\n", d);
	lw_rkme_image_free(a);
	lw_rkme_image_free(b);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/*
 * The images a specification summarises: the reference's image JSON does
 * not record them, a "num_points" key is shown when a writer added one.
 */
static void num_points(char *buf, size_t len, const char *path, int json)
{
	json_t *root = json_load_file(path, 0, NULL);
	json_t *n = json_object_get(root, "num_points");

	if (json_is_integer(n))
		snprintf(buf, len, "%lld", (long long)json_integer_value(n));
	else
		snprintf(buf, len, "%s", json ? "null" : "not recorded (the image JSON has no num_points)");
	json_decref(root);
}

static int spec_image_show(int argc, char **argv)
{
	lw_rkme_image *r = NULL;
	double min = INFINITY, max = -INFINITY, sum = 0, sq = 0, eff, self;
	size_t negative = 0;
	char num[64];
	int json = 0, rc, err;

	if ((rc = parse_small(argc, argv, "spec show", show_usage, &json, 1)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_rkme_image_load(&r, argv[optind])) < 0 ||
	    (err = lw_rkme_image_self_dist(&self, r)) < 0)
		goto done;
	for (size_t i = 0; i < r->k; i++) {
		double b = r->beta[i];

		min = b < min ? b : min;
		max = b > max ? b : max;
		sum += b;
		sq += b * b;
		negative += b < 0;
	}
	eff = sq > 0 ? sum * sum / sq : 0;
	num_points(num, sizeof(num), argv[optind], json);
	if (json)
		printf("{\"type\":\"RKMEImageSpecification\",\"k\":%zu,\"channels\":%zu,\"size\":32,"
		       "\"num_points\":%s,"
		       "\"n_models\":%zu,\"model_config\":{\"k\":%zu,\"net_width\":%zu,\"net_depth\":%zu},"
		       "\"self_inner\":%.17g,\"self_dist\":%.17g,\"beta\":{\"min\":%.17g,\"max\":%.17g,"
		       "\"sum\":%.17g,\"negative\":%zu,\"effective_points\":%.6g}}\n",
		       r->k, r->channels, num, r->n_models, r->model_config.k, r->model_config.net_width,
		       r->model_config.net_depth, r->self_inner, self, min, max, sum, negative, eff);
	else
		printf("file           %s\n"
		       "type           RKMEImageSpecification\n"
		       "points (K)     %zu\n"
		       "channels       %zu\n"
		       "size           32 x 32\n"
		       "images (n)     %s\n"
		       "networks       %zu per round, %zu channels, depth %zu\n"
		       "<A,A>          %.10g (cnn_gp kernel)\n"
		       "self-distance  %.10g\n"
		       "beta           min %.4g, max %.4g, sum %.10g, %zu negative, "
		       "%.1f effective points\n",
		       argv[optind], r->k, r->channels, num, r->n_models,
		       r->model_config.k * r->model_config.net_width, r->model_config.net_depth,
		       r->self_inner, self, min, max, sum, negative, eff);
done:
	lw_rkme_image_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

typedef struct {
	double beta;
	size_t i;
} weighted;

static int heavier_first(const void *a, const void *b)
{
	const weighted *x = a, *y = b;

	return x->beta < y->beta ? 1 : x->beta > y->beta ? -1 : (x->i > y->i) - (x->i < y->i);
}

/* -n and -o for herd. */
static int herd_options(int argc, char **argv, size_t *n, const char **output)
{
	static const struct option longopts[] = { { "n", required_argument, NULL, 'n' },
						   { "output", required_argument, NULL, 'o' },
						   { "help", no_argument, NULL, 'h' },
						   { NULL, 0, NULL, 0 } };
	int c;

	while ((c = getopt_long(argc, argv, "n:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (cli_parse_size(n, optarg, "-n") < 0)
				return CLI_EXIT_USAGE;
			break;
		case 'o': *output = optarg; break;
		case 'h': fputs(herd_usage, stdout); return -1;
		default: return cli_usage_error("spec herd", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("spec herd", "expected 1 specification file, got %d", argc - optind);
	if (!*output)
		return cli_usage_error("spec herd", "missing -o OUT.lwten (an image specification's "
				       "reduced images are written as a raw tensor)");
	return 0;
}

/* The n heaviest reduced images, as a batch, and their weights in order. */
static int heaviest(lw_image_batch *b, double *w, const lw_rkme_image *r, size_t n)
{
	size_t stride = r->channels * LW_RKME_IMAGE_SIZE * LW_RKME_IMAGE_SIZE;
	weighted *order = malloc(r->k * sizeof(*order));
	int err;

	if (!order)
		return LW_ENOMEM;
	for (size_t i = 0; i < r->k; i++)
		order[i] = (weighted){ r->beta[i], i };
	qsort(order, r->k, sizeof(*order), heavier_first);
	if ((err = lw_image_batch_init(b, n, r->channels, LW_RKME_IMAGE_SIZE, LW_RKME_IMAGE_SIZE)) == 0)
		for (size_t i = 0; i < n; i++) {
			const double *z = r->z + order[i].i * stride;

			for (size_t j = 0; j < stride; j++)
				lw_image_batch_at(b, i)[j] = (float)z[j];
			w[i] = order[i].beta;
		}
	free(order);
	return err;
}

static int spec_image_herd(int argc, char **argv)
{
	lw_image_batch b = LW_IMAGE_BATCH_INIT;
	lw_rkme_image *r = NULL;
	const char *output = NULL;
	double *w = NULL;
	size_t n = 0;
	int rc, err;

	if ((rc = herd_options(argc, argv, &n, &output)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((err = lw_rkme_image_load(&r, argv[optind])) < 0)
		return cli_fail(err);
	if (n == 0 || n > r->k)
		n = r->k;
	if (!(w = malloc(n * sizeof(double))))
		err = LW_ENOMEM;
	else if ((err = heaviest(&b, w, r, n)) == 0 && (err = lw_image_write_raw(output, &b)) == 0) {
		printf("%s: %zu of %zu reduced images of %zu x 32 x 32 (preprocessed, not pixels); "
		       "weights:", output, n, r->k, r->channels);
		for (size_t i = 0; i < n; i++)
			printf(" %.4g", w[i]);
		putchar('\n');
	}
	free(w);
	lw_image_batch_dispose(&b);
	lw_rkme_image_free(r);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

/*
 * Whether a file is an image specification: the reference writes "type"
 * last, after z; other writers may put it first.  Looks at both ends.
 */
static int is_image_spec(const char *path)
{
	char head[257], tail[257];
	size_t n;
	long size;
	FILE *f = fopen(path, "rb");
	int found;

	if (!f)
		return 0;
	n = fread(head, 1, 256, f);
	head[n] = '\0';
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > 256 ? size - 256 : 0, SEEK_SET);
	n = fread(tail, 1, 256, f);
	tail[n] = '\0';
	fclose(f);
	found = strstr(head, "RKMEImageSpecification") || strstr(head, "RKME_IMAGE_VERSION") ||
		strstr(tail, "\"RKMEImageSpecification\"");
	return found;
}

/* The first argument that is neither an option nor the value of one (-n, -o, --seed). */
static const char *first_file(int argc, char **argv)
{
	static const char *const valued[] = { "-n", "--n", "-o", "--output", "--seed", NULL };

	for (int i = 1; i < argc; i++) {
		int skip = 0;

		for (size_t j = 0; valued[j]; j++)
			skip |= !strcmp(argv[i], valued[j]);
		if (skip)
			i++;
		else if (argv[i][0] != '-')
			return argv[i];
	}
	return NULL;
}

int cmd_spec_image_dispatch(const char *sub, int argc, char **argv)
{
	const char *file;

	if (!strcmp(sub, "image"))
		return spec_image(argc, argv);
	if (strcmp(sub, "dist") && strcmp(sub, "show") && strcmp(sub, "herd"))
		return -1;
	if (!(file = first_file(argc, argv)) || !is_image_spec(file))
		return -1;
	if (!strcmp(sub, "herd"))
		return spec_image_herd(argc, argv);
	return !strcmp(sub, "dist") ? spec_image_dist(argc, argv) : spec_image_show(argc, argv);
}
