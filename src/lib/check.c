/*
 * The learnware checker (the reference's EasySemanticChecker and
 * EasyStatChecker, and more): open the package safely, validate the
 * semantic specification, load and validate the statistical ones, then
 * run the model on generated rows in the sandbox and judge its output.
 * Each step leaves one or more timed lines in the log.
 */
#define _POSIX_C_SOURCE 200809L
#include "lw/check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lw/package.h"
#include "lw/rkme.h"
#include "lw/image.h"
#include "lw/rkme_image.h"
#include "lw/rng.h"
#include "lw/semantic.h"
#include "lw/text.h"
#include "package.h"
#include "util.h"

struct lw_check_log {
	char **lines;
	size_t n, cap;
	char *text;
	double t0;
};

/* What the steps share: the open package, its semantic spec, the verdict. */
typedef struct {
	const lw_check_options *o;
	lw_check_log *log;
	lw_package *pkg;
	lw_semantic *sem;
	size_t input_dim;
	int image;   /* Image data: the model gets rows in [0, 1] */
	lw_mat text_rows; /* Text data: the spec's reduced points, fed to the model */
	lw_check_status status;
	char *temp_dir; /* the work folder this check made, removed at the end */
} check_run;

const char *lw_check_status_name(lw_check_status s)
{
	return s == LW_CHECK_USABLE ? "usable" : s == LW_CHECK_NONUSABLE ? "nonusable" : "invalid";
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* "[  0.012 s] step    ok    message" */
static void log_line(lw_check_log *log, const char *step, const char *verdict, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void log_line(lw_check_log *log, const char *step, const char *verdict, const char *fmt, ...)
{
	char msg[2048], *line;
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = strlen(msg) + 64;
	if (log->n == log->cap) {
		size_t cap = log->cap ? 2 * log->cap : 16;
		char **grown = lw__reallocarray(log->lines, cap, sizeof(char *));

		if (!grown)
			return;
		log->lines = grown;
		log->cap = cap;
	}
	if (!(line = lw__mallocarray(len, 1)))
		return;
	snprintf(line, len, "[%8.3f s] %-11s %-5s %s", now_s() - log->t0, step, verdict, msg);
	log->lines[log->n++] = line;
}

size_t lw_check_log_count(const lw_check_log *log)
{
	return log ? log->n : 0;
}

const char *lw_check_log_line(const lw_check_log *log, size_t i)
{
	return log && i < log->n ? log->lines[i] : NULL;
}

const char *lw_check_log_text(const lw_check_log *log)
{
	lw_check_log *l = (lw_check_log *)log; /* the joined text is a cache */
	size_t total = 1;

	if (!l)
		return "";
	free(l->text);
	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->lines[i]) + 1;
	if (!(l->text = lw__mallocarray(total, 1)))
		return "";
	l->text[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		strcat(l->text, l->lines[i]);
		strcat(l->text, "\n");
	}
	return l->text;
}

void lw_check_log_free(lw_check_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->n; i++)
		free(log->lines[i]);
	free(log->lines);
	free(log->text);
	free(log);
}

/* A failed step: log it and mark the learnware invalid. */
#define FAIL(run, step, ...)                                          \
	do {                                                          \
		log_line((run)->log, step, "FAIL", __VA_ARGS__);       \
		(run)->status = LW_CHECK_INVALID;                     \
	} while (0)

/* A fresh folder for the zip's contents, readable by the sandbox's own uid. */
static int make_work_dir(char **out, const lw_check_options *o)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	if (o->work_dir) {
		*out = lw__strdup(o->work_dir);
		return *out ? 0 : LW_ENOMEM;
	}
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (!(dir = lw__mallocarray(strlen(tmp) + 32, 1)))
		return LW_ENOMEM;
	sprintf(dir, "%s/lwcheck.XXXXXX", tmp);
	if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a work folder under %s", tmp);
		free(dir);
		return LW_EIO;
	}
	*out = dir;
	return 0;
}

static int step_package(check_run *run, const char *path)
{
	struct stat st;
	char *dir = NULL, *sub = NULL;
	int err;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err = lw_package_open_dir(&run->pkg, path, NULL);
	} else {
		if ((err = make_work_dir(&dir, run->o)) < 0)
			return err;
		if ((sub = lw__mallocarray(strlen(dir) + 16, 1)))
			sprintf(sub, "%s/learnware", dir);
		err = sub ? lw_package_open(&run->pkg, path, sub, NULL) : LW_ENOMEM;
		if (!run->o->work_dir) {
			run->temp_dir = dir;
			dir = NULL;
		}
	}
	if (err == LW_ENOMEM)
		goto done;
	if (err < 0) {
		FAIL(run, "package", "%s", lw_error_last()->message);
		err = 0;
		goto done;
	}
	log_line(run->log, "package", "ok", "%s model, unpacked in %s",
		 lw_model_kind_name(lw_package_manifest(run->pkg)->model.kind), lw_package_dir(run->pkg));
done:
	free(dir);
	free(sub);
	return err;
}

static int step_semantic(check_run *run)
{
	const lw_manifest *m = lw_package_manifest(run->pkg);
	lw_semantic_problems problems = { NULL, 0 };
	lw_semantic_status status;
	char *path = NULL;
	int err;

	if (!m->semantic_spec) {
		FAIL(run, "semantic", "no semantic specification: name its file under "
				      "semantic_specification.file_name in learnware.yaml");
		return 0;
	}
	if ((err = lw_package_path(&path, run->pkg, m->semantic_spec)) < 0 ||
	    (err = lw_semantic_load(&run->sem, path)) < 0) {
		free(path);
		if (err == LW_ENOMEM)
			return err;
		FAIL(run, "semantic", "%s", lw_error_last()->message);
		return 0;
	}
	free(path);
	if ((err = lw_semantic_validate(&status, &problems, run->sem, NULL)) < 0)
		return err;
	for (size_t i = 0; i < problems.count; i++)
		FAIL(run, "semantic", "%s", problems.items[i].message);
	lw_semantic_problems_dispose(&problems);
	if (status == LW_SEMANTIC_OK)
		log_line(run->log, "semantic", "ok", "%s / %s: %s", lw_semantic_data(run->sem),
			 lw_semantic_task(run->sem), lw_semantic_name(run->sem));
	return 0;
}

static int is_table_spec(const char *class_name)
{
	return !strcmp(class_name, "RKMETableSpecification") ||
	       !strcmp(class_name, "RKMEStatSpecification");
}

/* One table RKME: it loads, has the Input dimension, and a finite self-distance. */
static int check_table_spec(check_run *run, const lw_manifest_stat_spec *ss)
{
	lw_rkme *r = NULL;
	char *path = NULL;
	int err;

	if ((err = lw_package_path(&path, run->pkg, ss->file_name)) < 0 ||
	    (err = lw_rkme_load(&r, path)) < 0) {
		free(path);
		if (err == LW_ENOMEM)
			return err;
		FAIL(run, "statistical", "%s", lw_error_last()->message);
		return 0;
	}
	free(path);
	if (lw_rkme_dim(r) != run->input_dim)
		FAIL(run, "statistical", "%s has dimension %zu but the semantic Input.Dimension is %zu",
		     ss->file_name, lw_rkme_dim(r), run->input_dim);
	else if (!isfinite(r->self_inner))
		FAIL(run, "statistical", "%s: its distance to itself is not finite", ss->file_name);
	else
		log_line(run->log, "statistical", "ok", "%s: %s, %zu points in %zu dimensions from %zu rows",
			 ss->file_name, ss->class_name, lw_rkme_k(r), lw_rkme_dim(r), r->num_points);
	lw_rkme_free(r);
	return 0;
}

/* One image RKME: it loads, is finite, and its channels fix the model's input width. */
static int check_image_spec(check_run *run, const lw_manifest_stat_spec *ss, size_t *dim)
{
	lw_rkme_image *r = NULL;
	char *path = NULL;
	int err;

	if ((err = lw_package_path(&path, run->pkg, ss->file_name)) < 0 ||
	    (err = lw_rkme_image_load(&r, path)) < 0) {
		free(path);
		lw_rkme_image_free(r);
		if (err == LW_ENOMEM)
			return err;
		FAIL(run, "statistical", "%s", lw_error_last()->message);
		return 0;
	}
	free(path);
	*dim = r->channels * LW_IMAGE_MODEL_SIDE * LW_IMAGE_MODEL_SIDE;
	if (!isfinite(r->self_inner))
		FAIL(run, "statistical", "%s: its distance to itself is not finite", ss->file_name);
	else
		log_line(run->log, "statistical", "ok", "%s: %s, %zu points of %zu x 32 x 32",
			 ss->file_name, ss->class_name, r->k, r->channels);
	lw_rkme_image_free(r);
	return 0;
}

/*
 * One text RKME: it loads, was made by this dock's encoder (otherwise its
 * points live in another space), and lends its points to the model step.
 */
static int check_text_spec(check_run *run, const lw_manifest_stat_spec *ss, size_t *dim)
{
	lw_text_spec *t = NULL;
	char *path = NULL;
	int err;

	if ((err = lw_package_path(&path, run->pkg, ss->file_name)) < 0 ||
	    (err = lw_text_spec_load(&t, path)) < 0 || (err = lw_text_spec_check_encoder(t, NULL)) < 0) {
		free(path);
		lw_text_spec_free(t);
		if (err == LW_ENOMEM)
			return err;
		FAIL(run, "statistical", "%s: %s", ss->file_name, lw_error_last()->message);
		return 0;
	}
	free(path);
	*dim = lw_rkme_dim(t->rkme);
	if (!isfinite(t->rkme->self_inner)) {
		FAIL(run, "statistical", "%s: its distance to itself is not finite", ss->file_name);
	} else if (!run->text_rows.data) {
		if ((err = lw_mat_copy(&run->text_rows, &t->rkme->z)) < 0) {
			lw_text_spec_free(t);
			return err;
		}
		log_line(run->log, "statistical", "ok", "%s: %s, %zu points in %zu dimensions, encoder %s v%u",
			 ss->file_name, ss->class_name, lw_rkme_k(t->rkme), *dim, t->encoder,
			 t->encoder_version);
	}
	lw_text_spec_free(t);
	return 0;
}

/* The specification class each Data type needs. */
static const char *spec_class_for(const char *data)
{
	return !strcmp(data, "Image") ? "RKMEImageSpecification"
	       : !strcmp(data, "Text") ? "RKMETextSpecification"
				       : "RKMETableSpecification";
}

/* Image and text learnwares: the specs fix the model's input width; a declared one must agree. */
static int check_media_specs(check_run *run, const char *data)
{
	const lw_manifest *m = lw_package_manifest(run->pkg);
	const char *want = spec_class_for(data);
	size_t declared = 0, dim = 0, found = 0;
	int err, has_declared = lw_semantic_dim(&declared, run->sem, LW_SEMANTIC_INPUT) == 0;

	run->image = !strcmp(data, "Image");
	for (size_t i = 0; i < m->num_stat_specs; i++) {
		const lw_manifest_stat_spec *ss = &m->stat_specs[i];
		size_t d = 0;

		if (strcmp(ss->class_name, want)) {
			FAIL(run, "statistical", "%s is a %s; %s data needs an %s", ss->file_name,
			     ss->class_name, data, want);
			continue;
		}
		found++;
		err = run->image ? check_image_spec(run, ss, &d) : check_text_spec(run, ss, &d);
		if (err < 0)
			return err;
		if (d && dim && d != dim)
			FAIL(run, "statistical", "%s has %zu dimensions, another specification %zu",
			     ss->file_name, d, dim);
		if (d)
			dim = d;
	}
	if (found == 0)
		FAIL(run, "statistical", "no %s in stat_specifications", want);
	if (run->status == LW_CHECK_INVALID || !dim)
		return 0;
	if (has_declared && declared != dim)
		FAIL(run, "statistical", "the semantic Input.Dimension is %zu, but %s models take %zu "
					 "columns (%s); fix or remove Input.Dimension", declared, data, dim,
		     run->image ? "channels x 32 x 32" : "the text encoder's dimension");
	run->input_dim = dim;
	return 0;
}

static int step_statistical(check_run *run)
{
	const lw_manifest *m = lw_package_manifest(run->pkg);
	const char *data = lw_semantic_data(run->sem);
	size_t tables = 0;
	int err;

	if (data && (!strcmp(data, "Image") || !strcmp(data, "Text")))
		return check_media_specs(run, data);
	if (!data || strcmp(data, "Table")) {
		log_line(run->log, "statistical", "skip", "%s specifications are not checked by this version",
			 data ? data : "(no Data type)");
		if (run->status == LW_CHECK_USABLE)
			run->status = LW_CHECK_NONUSABLE;
		return 0;
	}
	if (lw_semantic_dim(&run->input_dim, run->sem, LW_SEMANTIC_INPUT) < 0) {
		FAIL(run, "statistical", "the semantic specification has no Input.Dimension");
		return 0;
	}
	for (size_t i = 0; i < m->num_stat_specs; i++) {
		if (!is_table_spec(m->stat_specs[i].class_name)) {
			FAIL(run, "statistical", "%s is a %s; Table data needs an RKMETableSpecification",
			     m->stat_specs[i].file_name, m->stat_specs[i].class_name);
			continue;
		}
		tables++;
		if ((err = check_table_spec(run, &m->stat_specs[i])) < 0)
			return err;
	}
	if (tables == 0)
		FAIL(run, "statistical", "no RKMETableSpecification in stat_specifications");
	return 0;
}

static void model_source(lw_model_source *src, const check_run *run)
{
	const lw_manifest_model *mm = &lw_package_manifest(run->pkg)->model;
	lw_model_source init = LW_MODEL_SOURCE_INIT;

	*src = init;
	src->kind = mm->kind;
	src->package_dir = lw_package_dir(run->pkg);
	src->file = mm->file;
	src->command = (const char *const *)mm->command;
	src->module_path = mm->module_path;
	src->class_name = mm->class_name;
	src->kwargs_json = mm->kwargs_json;
	src->serve_exe = run->o->serve_exe;
}

/*
 * Rows to probe the model with: N(0, 1) for a table model, as the
 * reference's checker feeds one; pixels in [0, 1] for an image model; the
 * specification's own points, cycled, for a text model (its inputs are
 * unit-length embeddings, which noise is not).
 */
static int generated_rows(lw_mat *X, const check_run *run, size_t rows, size_t cols, uint64_t seed)
{
	const lw_mat *t = &run->text_rows;
	lw_rng rng;
	int err;

	if ((err = lw_mat_init(X, rows, cols)) < 0)
		return err;
	lw_rng_seed(&rng, seed);
	for (size_t i = 0; i < rows; i++) {
		double *x = lw_mat_row(X, i);

		if (t->data && t->rows && t->cols == cols)
			memcpy(x, lw_mat_row(t, i % t->rows), cols * sizeof(double));
		else
			for (size_t j = 0; j < cols; j++)
				x[j] = run->image ? lw_rng_uniform(&rng) : lw_rng_normal(&rng);
	}
	return 0;
}

/* Judge the predictions by the task, as the reference's checker does. */
static void judge_output(check_run *run, const lw_mat *Y)
{
	const char *task = lw_semantic_task(run->sem);
	const lw_manifest_model *mm = &lw_package_manifest(run->pkg)->model;
	size_t out_dim = 0;
	int classify = task && !strcmp(task, "Classification");

	for (size_t i = 0; i < Y->rows * Y->cols; i++)
		if (!isfinite(Y->data[i])) {
			FAIL(run, "output", "row %zu, column %zu is %g", i / Y->cols, i % Y->cols, Y->data[i]);
			return;
		}
	if (mm->output_ndim && !(mm->output_ndim == 1 && mm->output_shape[0] == Y->cols)) {
		FAIL(run, "output", "%zu columns, but learnware.yaml declares model.output_shape[0] = %zu",
		     Y->cols, mm->output_shape[0]);
		return;
	}
	if (!task || (!classify && strcmp(task, "Regression")) ||
	    lw_semantic_dim(&out_dim, run->sem, LW_SEMANTIC_OUTPUT) < 0) {
		log_line(run->log, "output", "ok", "%zu x %zu, finite", Y->rows, Y->cols);
		return;
	}
	if (classify && Y->cols == 1) {
		for (size_t i = 0; i < Y->rows; i++) {
			double v = Y->data[i];

			if (v != floor(v) || v < 0 || v >= (double)out_dim) {
				FAIL(run, "output", "row %zu: label %g is not a class in [0, %zu)", i, v, out_dim);
				return;
			}
		}
	} else if (Y->cols != out_dim) {
		FAIL(run, "output", "%zu columns, but the semantic Output.Dimension is %zu%s", Y->cols,
		     out_dim, classify ? " (a classifier returns labels in one column or one score per class)" : "");
		return;
	}
	log_line(run->log, "output", "ok", "%zu x %zu for %s with Output.Dimension %zu", Y->rows, Y->cols,
		 task, out_dim);
}

static int step_model(check_run *run)
{
	const lw_manifest_model *mm = &lw_package_manifest(run->pkg)->model;
	lw_model_source src;
	lw_model *model = NULL;
	lw_mat X = LW_MAT_INIT, Y = LW_MAT_INIT;
	double t;
	int err;

	if (mm->input_ndim && !(mm->input_ndim == 1 && mm->input_shape[0] == run->input_dim)) {
		FAIL(run, "model", "learnware.yaml declares model.input_shape[0] = %zu, but the semantic "
				   "Input.Dimension is %zu", mm->input_shape[0], run->input_dim);
		return 0;
	}
	model_source(&src, run);
	t = now_s();
	if ((err = lw_model_open(&model, &src, &run->o->limits)) < 0) {
		FAIL(run, "model", "did not start: %s", lw_error_last()->message);
		return err == LW_ENOMEM ? err : 0;
	}
	log_line(run->log, "model", "ok", "%s model started in %.2f s%s", lw_model_kind_name(mm->kind),
		 now_s() - t, src.serve_exe || mm->kind >= LW_MODEL_PROCESS ? " in the sandbox" : "");
	if (lw_model_input_dim(model) && lw_model_input_dim(model) != run->input_dim) {
		FAIL(run, "model", "expects %zu input columns, but the semantic Input.Dimension is %zu",
		     lw_model_input_dim(model), run->input_dim);
		goto done;
	}
	if ((err = generated_rows(&X, run, run->o->sample_rows, run->input_dim, run->o->seed)) < 0)
		goto done;
	t = now_s();
	if ((err = lw_model_predict(&Y, model, &X)) < 0) {
		FAIL(run, "predict", "on %zu generated rows: %s", X.rows, lw_error_last()->message);
		err = err == LW_ENOMEM ? err : 0;
		goto done;
	}
	log_line(run->log, "predict", "ok", "%zu rows in %.3f s", X.rows, now_s() - t);
	judge_output(run, &Y);
done:
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(model);
	return err;
}

int lw_check(lw_check_status *status, lw_check_log **log, const char *path,
	     const lw_check_options *opts)
{
	lw_check_options o = LW_CHECK_OPTIONS_INIT;
	check_run run;
	int err;

	LW_ASSERT_ARG(status && log && path);
	*log = NULL;
	if (opts)
		o = *opts;
	memset(&run, 0, sizeof(run));
	run.o = &o;
	run.status = LW_CHECK_USABLE;
	if (!(run.log = lw__calloc(1, sizeof(*run.log))))
		return LW_ENOMEM;
	run.log->t0 = now_s();
	/* Each step needs the previous one to have passed. */
	if ((err = step_package(&run, path)) < 0 || run.status == LW_CHECK_INVALID ||
	    (err = step_semantic(&run)) < 0 || run.status == LW_CHECK_INVALID ||
	    (err = step_statistical(&run)) < 0 || run.status != LW_CHECK_USABLE ||
	    (err = step_model(&run)) < 0)
		goto done;
done:
	if (err == 0)
		log_line(run.log, "result", lw_check_status_name(run.status), "%s", path);
	lw_semantic_free(run.sem);
	lw_mat_dispose(&run.text_rows);
	lw_package_free(run.pkg);
	if (run.temp_dir) {
		lw__remove_tree(run.temp_dir, 1);
		free(run.temp_dir);
	}
	*status = run.status;
	if (err < 0) {
		lw_check_log_free(run.log);
		return err;
	}
	*log = run.log;
	return 0;
}
