/*
 * learnware reuse and learnware fit: turn learnwares from a dock into
 * predictions for the user's rows, with or without labels.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lw/dock.h"
#include "lw/reuse.h"
#include "media.h"
#include "reuse_hetero.h"

static const char reuse_usage[] =
	"usage: learnware reuse --dock DIR --learnwares ID,ID,... --method M --data USER.csv\n"
	"                       [--labels LABELS.csv | --target COL] -o PREDICTIONS.csv [options]\n"
	"       learnware reuse --dock DIR --reuser FITTED.json --data USER.csv -o PREDICTIONS.csv\n"
	"       learnware reuse --dock DIR --learnwares IDS --method M\n"
	"                       (--images PATH... | --text FILE) [--labels FILE] -o PREDICTIONS.csv\n"
	"       learnware fit   --dock DIR --learnwares ID,ID,... --method M --data USER.csv\n"
	"                       [--labels LABELS.csv | --target COL] -o FITTED.json [options]\n"
	"\n"
	"Reuse learnwares of a dock on the user's rows.  Methods (the reference's\n"
	"reusers, docs/reuse.md):\n"
	"  average           mean of the outputs (regression) or a vote (classification)\n"
	"  job-selector      route each row to the learnware whose data it resembles\n"
	"                    (mixture weights from the RKMEs; no labels)\n"
	"  ensemble-pruning  the subset the reference's multi-objective search keeps\n"
	"                    (needs labels)\n"
	"  feature-augment   the learnwares' outputs as extra features of a\n"
	"                    cross-validated ridge or logistic model (needs labels)\n"
	"  align             for learnwares of another feature space: a map from the\n"
	"                    user's columns into each one's, trained to match its RKME,\n"
	"                    then feature-augment with labels, average without\n"
	"  average-augment   (--input-desc) the user's features and the aligned\n"
	"                    learnwares' averaged output (needs labels)\n"
	"With --input-desc the learnwares may have other columns than the user's:\n"
	"each is aligned to the user's described columns through the dock's\n"
	"heterogeneous map (copied, quantile-mapped or imputed: docs/hetero.md),\n"
	"then averaged (no labels) or used by feature-augment / average-augment.\n"
	"'reuse' fits and predicts in one go; 'fit' saves the fitted reuser, and\n"
	"'reuse --reuser' predicts with it again without refitting.\n"
	"\n"
	"  -d, --dock DIR|URI       the dock (default $LEARNWARE_DOCK)\n"
	"      --files-root DIR     files folder of a postgresql:// dock\n"
	"  -l, --learnwares IDS     comma-separated learnware ids\n"
	"  -m, --method M           see above\n"
	"      --data FILE          the user's rows (CSV or raw; --columns selects)\n"
	"      --columns LIST       columns of --data to use, in the learnwares' order\n"
	"      --drop LIST          columns of --data to leave out\n"
	"      --target COL         a column of --data holding the labels (left out of the features)\n"
	"      --labels FILE        labels in their own file (first column, one per row)\n"
	"      --task T             regression (default) or classification\n"
	"      --classes N          classification: the number of classes (default: from the models)\n"
	"      --average MODE       mean, vote_by_label or vote_by_prob (average)\n"
	"      --seed S             seed of herding, the selector, the pruning search (0)\n"
	"      --reuser FILE        (reuse) predict with a reuser 'fit' saved\n"
	"      --input-desc FILE    what each column of --data means: one line per column,\n"
	"                           a JSON array, or a JSON object keyed by index or name\n"
	"      --header-from CSV    the CSV whose header orders the names in --input-desc\n"
	"  -o, --output FILE        predictions CSV (reuse) or the fitted reuser (fit)\n"
	"  -q, --quiet              no progress line\n"
	"\n"
	"Image and text learnwares (their semantic Data type, or their specification)\n"
	"take the user's images or texts instead of --data, turned into the rows their\n"
	"models take (docs/models.md); the task defaults to the learnwares' semantic\n"
	"Task. job-selector works for text learnwares (their RKMEs are over the\n"
	"encoder's embeddings), not image ones; align for neither.\n"
	"      --images PATH...     PNG/JPEG files, folders, IDX or raw tensor files\n"
	"      --mixed-sizes        accept images of different sizes\n"
	"      --text FILE          one text per line, or a CSV column (--text-column)\n"
	"      --text-column COL    the column of a CSV --text holding the texts\n"
	"      --labels FILE        one label per input: IDX labels, one per line, or\n"
	"                           --label-column of a CSV\n"
	"      --label-column COL   a column of --labels, or without it of the --text CSV\n"
	"      --limit N            only the first N images or texts (and labels)\n";

typedef struct {
	const char *dock, *files_root, *learnwares, *method, *data, *columns, *drop, *target, *labels;
	const char *average, *reuser, *output, *input_desc, *header_from;
	int quiet, align, task_given;
	lw_reuse_options o;
	cli_media media;
	char self[4096];
} reuse_args;

static int check_args(reuse_args *a, int argc, char **argv, const char *verb);

static int parse(reuse_args *a, int argc, char **argv, const char *verb)
{
	static const struct option longopts[] = {
		{ "dock", required_argument, NULL, 'd' },       { "files-root", required_argument, NULL, 'F' },
		{ "learnwares", required_argument, NULL, 'l' }, { "method", required_argument, NULL, 'm' },
		{ "data", required_argument, NULL, 'D' },       { "columns", required_argument, NULL, 'C' },
		{ "drop", required_argument, NULL, 'X' },
		{ "target", required_argument, NULL, 'T' },     { "labels", required_argument, NULL, 'L' },
		{ "task", required_argument, NULL, 't' },       { "classes", required_argument, NULL, 'k' },
		{ "average", required_argument, NULL, 'a' },    { "seed", required_argument, NULL, 's' },
		{ "reuser", required_argument, NULL, 'r' },     { "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },            { "help", no_argument, NULL, 'h' },
		{ "input-desc", required_argument, NULL, 'I' }, { "header-from", required_argument, NULL, 'H' },
		CLI_MEDIA_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	a->dock = getenv("LEARNWARE_DOCK");
	while ((c = getopt_long(argc, argv, "d:l:m:o:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'd': a->dock = optarg; break;
		case 'F': a->files_root = optarg; break;
		case 'l': a->learnwares = optarg; break;
		case 'm': a->method = optarg; break;
		case 'D': a->data = optarg; break;
		case 'C': a->columns = optarg; break;
		case 'X': a->drop = optarg; break;
		case 'T': a->target = optarg; break;
		case 'L': a->labels = optarg; break;
		case 'a': a->average = optarg; break;
		case 'r': a->reuser = optarg; break;
		case 'o': a->output = optarg; break;
		case 'I': a->input_desc = optarg; break;
		case 'H': a->header_from = optarg; break;
		case 'q': a->quiet = 1; break;
		case 'k': bad = cli_parse_size(&a->o.n_classes, optarg, "--classes"); break;
		case 's': bad = cli_parse_u64(&a->o.seed, optarg, "--seed"); break;
		case 't':
			a->task_given = 1;
			if (!strcmp(optarg, "regression"))
				a->o.task = LW_TASK_REGRESSION;
			else if (!strcmp(optarg, "classification"))
				a->o.task = LW_TASK_CLASSIFICATION;
			else
				return cli_usage_error(verb, "--task is regression or classification, not '%s'", optarg);
			break;
		case 'h': fputs(reuse_usage, stdout); return -1;
		default:
			bad = c != '?' ? cli_media_option(&a->media, c, optarg, verb) : 1;
			if (bad == 1)
				return cli_usage_error(verb, "unknown option");
			if (bad)
				return bad;
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	return check_args(a, argc, argv, verb);
}

/* Images or texts instead of --data: the positionals are more images. */
static int check_media(reuse_args *a, int argc, char **argv, const char *verb)
{
	int rc;

	for (int i = optind; i < argc; i++) {
		if (cli_media_kind_of(&a->media) != CLI_MEDIA_IMAGES)
			return cli_usage_error(verb, "unexpected argument '%s'", argv[i]);
		if ((rc = cli_media_add_image(&a->media, argv[i])) != 0)
			return rc;
	}
	a->media.labels = a->labels;
	if ((rc = cli_media_validate(&a->media, verb, 1)) != 0)
		return rc;
	if (cli_media_kind_of(&a->media) == CLI_MEDIA_NONE)
		return 0;
	if (a->data || a->columns || a->drop || a->target)
		return cli_usage_error(verb, "--data, --columns, --drop and --target are for tables; "
				       "with --images or --text give labels with --labels or "
				       "--label-column");
	if (a->method && !strcmp(a->method, "align"))
		return cli_usage_error(verb, "--method align maps table columns; image and text "
				       "learnwares take fixed inputs: use average, job-selector (text), "
				       "ensemble-pruning or feature-augment");
	return 0;
}

static int check_args(reuse_args *a, int argc, char **argv, const char *verb)
{
	int rc;

	if (!a->dock)
		return cli_usage_error(verb, "no dock: give --dock DIR or set LEARNWARE_DOCK");
	if ((rc = check_media(a, argc, argv, verb)) != 0)
		return rc;
	if (cli_media_kind_of(&a->media) == CLI_MEDIA_NONE && optind != argc)
		return cli_usage_error(verb, "unexpected argument '%s'", argv[optind]);
	if (cli_media_kind_of(&a->media) == CLI_MEDIA_NONE && !a->data)
		return cli_usage_error(verb, "the user's inputs are required: --data (a table), "
				       "--images or --text");
	if (!a->output)
		return cli_usage_error(verb, "-o is required");
	if (a->reuser && (strcmp(verb, "reuse") || a->method || a->learnwares))
		return cli_usage_error(verb, "--reuser predicts with a fitted reuser: give it alone, with 'reuse'");
	if (!a->reuser && (!a->method || !a->learnwares))
		return cli_usage_error(verb, "--learnwares and --method are required");
	if (a->input_desc) {
		if (strcmp(verb, "reuse") || a->reuser)
			return cli_usage_error(verb, "--input-desc reuses learnwares of other feature spaces in "
						     "one go ('reuse'); such a reuser has no saved form yet");
		if (cli_media_kind_of(&a->media) != CLI_MEDIA_NONE)
			return cli_usage_error(verb, "--input-desc describes table columns (--data)");
		return a->target && a->labels
			       ? cli_usage_error(verb, "give the labels with --target or --labels, not both")
			       : 0;
	}
	if (a->method && !strcmp(a->method, "align")) {
		a->align = 1;
		a->o.method = a->target || a->labels ? LW_REUSE_FEATURE_AUGMENT : LW_REUSE_AVERAGE;
	} else if (a->method && !(a->o.method = lw_reuse_method_from_name(a->method))) {
		return cli_usage_error(verb, "--method is average, job-selector, ensemble-pruning, "
					     "feature-augment or align, not '%s'", a->method);
	}
	if (a->average && (a->o.average = lw_average_mode_from_name(a->average)) == LW_AVERAGE_AUTO)
		return cli_usage_error(verb, "--average is mean, vote_by_label or vote_by_prob, not '%s'",
				       a->average);
	if (a->target && a->labels)
		return cli_usage_error(verb, "give the labels with --target or --labels, not both");
	return 0;
}

static void free_each(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Labels in their own file: the first field of each line; a header line is
 * recognised by the count (one line more than the data has rows). */
static int read_label_file(char ***out, const char *path, size_t rows)
{
	FILE *f = fopen(path, "r");
	char line[4096], **v;
	size_t n = 0;

	if (!f) {
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s", path);
		return LW_ENOTFOUND;
	}
	if (!(v = calloc(rows + 2, sizeof(char *)))) {
		fclose(f);
		return LW_ENOMEM;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		p[strcspn(p, ",;\t\r\n")] = '\0';
		while (*p == ' ' || *p == '"')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '"'))
			*--end = '\0';
		if (!*p && feof(f))
			break;
		if (n == rows + 1 || !(v[n++] = strdup(p))) {
			free_each(v);
			fclose(f);
			lw_error_set(LW_ERRCLASS_DATA, "%s has more lines than the %zu rows of the data", path, rows);
			return LW_EINVALID;
		}
	}
	fclose(f);
	if (n == rows + 1) { /* a header */
		free(v[0]);
		memmove(v, v + 1, rows * sizeof(char *));
		v[rows] = NULL;
		n = rows;
	}
	if (n != rows) {
		free_each(v);
		lw_error_set(LW_ERRCLASS_DATA, "%s has %zu labels for %zu rows of data", path, n, rows);
		return LW_EINVALID;
	}
	*out = cli_pack_strings(v, n);
	free_each(v);
	return *out ? 0 : LW_ENOMEM;
}

/* The user's rows, and their labels as text when given (NULL otherwise). */
static int read_user(lw_mat *X, char ***labels, const reuse_args *a)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	int err;

	*labels = NULL;
	if (cli_media_kind_of(&a->media) != CLI_MEDIA_NONE) {
		char what[1024];

		if ((err = cli_media_rows(X, what, sizeof(what), &a->media)) < 0)
			return err;
		return cli_media_labels(labels, &a->media, X->rows);
	}
	o.columns = a->columns;
	o.drop = a->drop;
	if (a->target)
		return lw_data_read_target(X, NULL, labels, a->data, a->target, &o);
	if ((err = lw_data_read(X, NULL, a->data, &o)) < 0)
		return err;
	return a->labels ? read_label_file(labels, a->labels, X->rows) : 0;
}

/* Text labels as numbers: regression targets, or class indices, by the
 * learnwares' class names when they have them (else integers 0..k-1). */
static int convert_labels(double **out, char **labels, size_t n, const reuse_args *a,
			  const lw_reuse_member *members)
{
	const char *const *classes = a->o.task == LW_TASK_CLASSIFICATION ? lw_model_classes(members[0].model) : NULL;
	const char *src = a->labels ? a->labels : a->data ? a->data : a->media.text;
	double *y = malloc((n ? n : 1) * sizeof(double));

	if (!y)
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *end;
		size_t k;

		if (classes) {
			for (k = 0; classes[k] && strcmp(classes[k], labels[i]); k++)
				;
			if (!classes[k]) {
				lw_error_set(LW_ERRCLASS_DATA, "%s: label %zu '%s' is not a class of learnware %s "
					     "(its classes: %s, %s, ...)", src, i + 1, labels[i], members[0].id,
					     classes[0], classes[1] ? classes[1] : "");
				free(y);
				return LW_EINVALID;
			}
			y[i] = (double)k;
			continue;
		}
		y[i] = strtod(labels[i], &end);
		if (end == labels[i] || *end || !isfinite(y[i]) ||
		    (a->o.task == LW_TASK_CLASSIFICATION && (y[i] < 0 || y[i] != (double)(long)y[i]))) {
			lw_error_set(LW_ERRCLASS_DATA, "%s: label %zu '%s' is not %s", src, i + 1, labels[i],
				     a->o.task == LW_TASK_CLASSIFICATION ? "a class index (0, 1, ...)" : "a finite number");
			free(y);
			return LW_EINVALID;
		}
	}
	*out = y;
	return 0;
}

/* What a learnware takes, from its semantic Data type or else its specifications. */
typedef struct {
	cli_media_kind kind; /* CLI_MEDIA_NONE: a table */
	int classification;  /* its semantic Task is Classification */
} member_info;

static const char *const media_data[] = { "Table", "Image", "Text" };
static const char *const media_spec[] = { "RKMETableSpecification", "RKMEImageSpecification",
					  "RKMETextSpecification" };

static int member_info_get(member_info *out, lw_dock *d, const char *id)
{
	lw_learnware_record rec = { 0 };
	lw_semantic *sem = NULL;
	const char *data = NULL, *task;
	char *json = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = lw_store_get(&rec, lw_dock_store(d), id)) < 0)
		return err;
	if (rec.semantic_json &&
	    lw_semantic_from_json(&sem, rec.semantic_json, strlen(rec.semantic_json), id) == 0) {
		data = lw_semantic_data(sem);
		task = lw_semantic_task(sem);
		out->classification = task && !strcmp(task, "Classification");
	}
	lw_error_clear();
	for (int k = CLI_MEDIA_IMAGES; k <= CLI_MEDIA_TEXT; k++) {
		if (data ? !strcmp(data, media_data[k])
			 : lw_store_spec_get(&json, lw_dock_store(d), id, media_spec[k]) == 0)
			out->kind = (cli_media_kind)k;
		free(json);
		json = NULL;
	}
	lw_error_clear();
	lw_semantic_free(sem);
	lw_learnware_record_dispose(&rec);
	return 0;
}

/* Every learnware must take the user's kind of input; the first one's Task is the default. */
static int check_member_kinds(reuse_args *a, lw_dock *d, const char *const *ids, size_t n)
{
	static const char *const option[] = { "--data", "--images", "--text" };
	cli_media_kind user = cli_media_kind_of(&a->media);
	member_info info;
	int err;

	for (size_t i = 0; i < n; i++) {
		if ((err = member_info_get(&info, d, ids[i])) < 0)
			return err;
		if (i == 0 && !a->task_given && user != CLI_MEDIA_NONE)
			a->o.task = info.classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
		if (info.kind == user)
			continue;
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s is a%s %s learnware, but the user's "
			     "inputs are %s (%s): give its inputs with %s, or reuse %s learnwares",
			     ids[i], info.kind == CLI_MEDIA_IMAGES ? "n" : "", media_data[info.kind],
			     user == CLI_MEDIA_NONE ? "a table" : user == CLI_MEDIA_IMAGES ? "images" : "texts",
			     option[user], option[info.kind], media_data[user]);
		return LW_EINVALID;
	}
	if (user == CLI_MEDIA_IMAGES && a->o.method == LW_REUSE_JOB_SELECTOR) {
		lw_error_set(LW_ERRCLASS_INVALID, "--method job-selector routes rows by table RKMEs; "
			     "image learnwares have image RKMEs, of another space: use average, "
			     "ensemble-pruning or feature-augment");
		return LW_EINVALID;
	}
	return 0;
}

/* Each member's model must take the width of the user's image or text rows. */
static int check_member_widths(const reuse_args *a, const lw_reuse_member *m, size_t n,
			       const lw_mat *X)
{
	cli_media_kind k = cli_media_kind_of(&a->media);
	char got[160], want[160];

	for (size_t i = 0; i < n && k != CLI_MEDIA_NONE; i++) {
		if (lw_model_input_dim(m[i].model) == X->cols)
			continue;
		cli_media_describe_width(got, sizeof(got), k, X->cols);
		cli_media_describe_width(want, sizeof(want), k, lw_model_input_dim(m[i].model));
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s takes %s, but the user's %s give %s",
			     m[i].id, want, k == CLI_MEDIA_IMAGES ? "images" : "texts", got);
		return LW_EINVALID;
	}
	return 0;
}

/* Text learnwares' RKMEs live in the encoder's space, as the user's rows: the job selector uses them. */
static int text_rkmes(lw_reuse_member *m, size_t n, lw_dock *d)
{
	for (size_t i = 0; i < n; i++) {
		lw_text_spec *t = NULL;
		char *json = NULL;
		int err;

		if (m[i].rkme)
			continue;
		if ((err = lw_store_spec_get(&json, lw_dock_store(d), m[i].id, media_spec[CLI_MEDIA_TEXT])) == 0)
			err = lw_text_spec_from_json(&t, json, strlen(json), m[i].id);
		free(json);
		if (err == LW_ENOTFOUND) {
			lw_error_clear();
			continue; /* the job selector names the member without one */
		}
		if (err < 0)
			return err;
		m[i].rkme = t->rkme;
		t->rkme = NULL;
		lw_text_spec_free(t);
	}
	return 0;
}

/* The members named by a comma-separated id list (or by a fitted reuser). */
static int open_members(lw_reuse_member **out, size_t *n, lw_dock *d, const char *const *ids, size_t count)
{
	lw_reuse_member *m = calloc(count ? count : 1, sizeof(*m));
	int err = 0;

	if (!m)
		return LW_ENOMEM;
	for (size_t i = 0; i < count && err == 0; i++) {
		lw_rkme *r = NULL;

		m[i].id = ids[i];
		if ((err = lw_dock_model_open(&m[i].model, d, ids[i])) == 0) {
			err = lw_dock_rkme(&r, d, ids[i]);
			if (err == LW_ENOTFOUND)
				err = 0; /* only the job selector needs one; it says so */
			m[i].rkme = r;
		}
		*n = i + 1;
	}
	*out = m;
	return err;
}

/*
 * Wrap every member whose width differs from the user's in an alignment
 * map; inner[i] keeps the learnware's own model (NULL when not wrapped).
 */
static int align_members(lw_reuse_member *m, lw_model **inner, size_t n, const lw_mat *X, uint64_t seed)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_align_options ao = LW_ALIGN_OPTIONS_INIT;
	lw_rkme *user = NULL;
	int err = 0;

	ro.seed = ao.seed = seed;
	for (size_t i = 0; i < n && err == 0; i++) {
		lw_model *wrapped = NULL;

		if (lw_model_input_dim(m[i].model) == X->cols)
			continue;
		if (!m[i].rkme) {
			lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has no table RKME to align to", m[i].id);
			return LW_EINVALID;
		}
		if (!user && (err = lw_rkme_fit(&user, X, &ro)) < 0)
			break;
		if ((err = lw_align_model(&wrapped, m[i].model, m[i].rkme, user, &ao)) < 0)
			break;
		inner[i] = m[i].model;
		m[i].model = wrapped;
	}
	lw_rkme_free(user);
	return err;
}

/* Keep each member's alignment map in the saved reuser, under "alignment". */
static int save_alignment(const char *path, const lw_reuse_member *m, lw_model **inner, size_t n)
{
	json_t *root = json_load_file(path, 0, NULL), *maps = json_object();
	char tmp[4200];
	int err = 0;

	if (!root || !maps) {
		json_decref(root);
		json_decref(maps);
		lw_error_set(LW_ERRCLASS_INVALID, "cannot read back %s", path);
		return LW_EIO;
	}
	for (size_t i = 0; i < n && err == 0; i++) {
		char *text = NULL;

		if (!inner[i])
			continue;
		if ((err = lw_align_model_map(&text, m[i].model)) == 0)
			json_object_set_new(maps, m[i].id, json_loads(text, 0, NULL));
		free(text);
	}
	json_object_set_new(root, "alignment", maps);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (err == 0 && (json_dump_file(root, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0)) {
		lw_error_set(LW_ERRCLASS_OS, "cannot write %s", path);
		unlink(tmp);
		err = LW_EIO;
	}
	json_decref(root);
	return err;
}

/* Wrap the members a saved reuser aligned, with its maps. */
static int load_alignment(const char *path, lw_reuse_member *m, lw_model **inner, size_t n)
{
	json_t *root = json_load_file(path, 0, NULL), *maps = json_object_get(root, "alignment");
	int err = 0;

	for (size_t i = 0; i < n && err == 0 && json_is_object(maps); i++) {
		json_t *map = json_object_get(maps, m[i].id);
		char *text = map ? json_dumps(map, JSON_COMPACT) : NULL;
		lw_model *wrapped = NULL;

		if (!map)
			continue;
		if (!text)
			err = LW_ENOMEM;
		else if ((err = lw_align_model_from_map(&wrapped, m[i].model, text, strlen(text))) == 0) {
			inner[i] = m[i].model;
			m[i].model = wrapped;
		}
		free(text);
	}
	json_decref(root);
	return err;
}

static void close_members(lw_reuse_member *m, lw_model **inner, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		lw_model_free(m[i].model);
		if (inner)
			lw_model_free(inner[i]);
		lw_rkme_free((lw_rkme *)m[i].rkme);
	}
	free(m);
}

static size_t split_ids(char ***out, char *list)
{
	size_t n = 0, cap = 8;
	char **ids = malloc(cap * sizeof(char *)), *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t && ids; t = strtok_r(NULL, ",", &save)) {
		if (n + 1 == cap)
			ids = realloc(ids, (cap *= 2) * sizeof(char *));
		if (ids)
			ids[n++] = t;
	}
	if (ids)
		ids[n] = NULL;
	*out = ids;
	return ids ? n : 0;
}

/* Labels as numbers: targets, or class indices 0..C-1 (as the table reusers take them). */
static int numeric_labels(double **out, char **labels, size_t n, const reuse_args *a)
{
	double *y = malloc((n ? n : 1) * sizeof(double));
	const char *src = a->labels ? a->labels : a->data;

	if (!y)
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *end;

		y[i] = strtod(labels[i], &end);
		if (end == labels[i] || *end || !isfinite(y[i]) ||
		    (a->o.task == LW_TASK_CLASSIFICATION && (y[i] < 0 || y[i] != (double)(long)y[i]))) {
			lw_error_set(LW_ERRCLASS_DATA, "%s: label %zu '%s' is not %s", src, i + 1, labels[i],
				     a->o.task == LW_TASK_CLASSIFICATION ? "a class index (0, 1, ...)"
									 : "a finite number");
			free(y);
			return LW_EINVALID;
		}
	}
	*out = y;
	return 0;
}

/* --input-desc: learnwares of other feature spaces, aligned through the dock's map. */
static int run_hetero(reuse_args *a, lw_dock *d, const lw_reuse_member *m, size_t n, const lw_mat *X,
		      char **labels)
{
	cli_hetero_reuse h = { a->method, a->input_desc, a->header_from, a->o.task, a->o.n_classes, a->o.seed };
	lw_mat Y = LW_MAT_INIT;
	double *y = NULL;
	int err = labels ? numeric_labels(&y, labels, X->rows, a) : 0;

	if (err == 0)
		err = cli_reuse_hetero(&Y, d, m, n, X, y, &h);
	if (err == 0) {
		const char *col[] = { "prediction" };

		err = lw_data_write_csv(a->output, &Y, Y.cols == 1 ? col : NULL);
		if (err == 0 && !a->quiet)
			printf("%zu predictions from %zu learnwares of other feature spaces: %s\n", Y.rows, n,
			       a->output);
	}
	lw_mat_dispose(&Y);
	free(y);
	return err;
}

static int run(reuse_args *a, int fit_only)
{
	lw_dock_options dopts = LW_DOCK_OPTIONS_INIT;
	lw_reuse_member *members = NULL;
	lw_model **inner = NULL;
	lw_reuser *r = NULL;
	lw_dock *d = NULL;
	lw_mat X = { 0 }, Y = { 0 };
	double *y = NULL;
	char *list = NULL, **ids = NULL, **labels = NULL;
	size_t n_ids = 0, n_members = 0;
	ssize_t len;
	int err;

	/* Members run as the checker runs them: in the sandbox. */
	if ((len = readlink("/proc/self/exe", a->self, sizeof(a->self) - 1)) > 0) {
		a->self[len] = '\0';
		dopts.check.serve_exe = a->self;
	}
	dopts.files_root = a->files_root;
	dopts.read_only = 1;
	if ((err = read_user(&X, &labels, a)) < 0 || (err = lw_dock_open(&d, a->dock, &dopts)) < 0)
		goto done;
	if (a->reuser) {
		const char *const *rid;

		if ((err = lw_reuser_load(&r, a->reuser)) < 0)
			goto done;
		rid = lw_reuser_member_ids(r, &n_ids);
		if ((err = check_member_kinds(a, d, rid, n_ids)) < 0)
			goto done;
		if ((err = open_members(&members, &n_members, d, rid, n_ids)) == 0 &&
		    !(inner = calloc(n_members ? n_members : 1, sizeof(*inner))))
			err = LW_ENOMEM;
		if (err == 0)
			err = check_member_widths(a, members, n_members, &X);
		if (err == 0)
			err = load_alignment(a->reuser, members, inner, n_members);
	} else {
		if (!(list = strdup(a->learnwares))) {
			err = LW_ENOMEM;
			goto done;
		}
		n_ids = split_ids(&ids, list);
		if (!n_ids) {
			lw_error_set(LW_ERRCLASS_INVALID, "--learnwares names no learnware");
			err = LW_EINVALID;
			goto done;
		}
		if ((err = check_member_kinds(a, d, (const char *const *)ids, n_ids)) < 0)
			goto done;
		if ((err = open_members(&members, &n_members, d, (const char *const *)ids, n_ids)) == 0 &&
		    a->align && !(inner = calloc(n_members, sizeof(*inner))))
			err = LW_ENOMEM;
		if (err == 0 && a->input_desc) {
			err = run_hetero(a, d, members, n_members, &X, labels);
			goto done;
		}
		if (err == 0)
			err = check_member_widths(a, members, n_members, &X);
		if (err == 0 && cli_media_kind_of(&a->media) == CLI_MEDIA_TEXT)
			err = text_rkmes(members, n_members, d);
		if (err == 0 && a->align)
			err = align_members(members, inner, n_members, &X, a->o.seed);
		if (err == 0 && (!labels || (err = convert_labels(&y, labels, X.rows, a, members)) == 0))
			err = lw_reuser_fit(&r, members, n_members, &X, NULL, y, &a->o);
	}
	if (err < 0)
		goto done;
	if (fit_only) {
		if ((err = lw_reuser_save(r, a->output)) == 0 && a->align)
			err = save_alignment(a->output, members, inner, n_members);
		if (err == 0 && !a->quiet)
			printf("fitted %s%s over %zu learnwares: %s\n", a->align ? "align + " : "",
			       lw_reuse_method_name(a->o.method), n_members, a->output);
	} else if ((err = lw_reuser_predict(&Y, r, members, n_members, &X)) == 0) {
		const char *col[] = { "prediction" };

		err = lw_data_write_csv(a->output, &Y, Y.cols == 1 ? col : NULL);
		if (err == 0 && !a->quiet)
			printf("%zu predictions from %zu learnwares: %s\n", Y.rows, n_members, a->output);
	}
done:
	lw_mat_dispose(&Y);
	lw_reuser_free(r);
	/* Models before the dock: it removes their unpacked folders. */
	close_members(members, inner, n_members);
	free(inner);
	lw_dock_free(d);
	lw_mat_dispose(&X);
	free(y);
	lw_data_free_names(labels);
	free(ids);
	free(list);
	cli_media_dispose(&a->media);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

int cmd_reuse(int argc, char **argv)
{
	const lw_reuse_options o0 = LW_REUSE_OPTIONS_INIT;
	reuse_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.o = o0;
	if ((rc = parse(&a, argc, argv, "reuse")) != 0) {
		cli_media_dispose(&a.media);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	return run(&a, 0);
}

int cmd_fit(int argc, char **argv)
{
	const lw_reuse_options o0 = LW_REUSE_OPTIONS_INIT;
	reuse_args a;
	int rc;

	memset(&a, 0, sizeof(a));
	a.o = o0;
	if ((rc = parse(&a, argc, argv, "fit")) != 0) {
		cli_media_dispose(&a.media);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	return run(&a, 1);
}
