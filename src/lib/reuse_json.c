/*
 * A fitted reuser as one JSON document (docs/reuse.md):
 *
 *   {"format": "learnware-reuser", "version": 1, "method": M, "task": T,
 *    "input_dim": D, "output_dim": O, "n_classes": K,
 *    "members": [{"id": ..., "input_dim": ..., "output_dim": ...}, ...],
 *    ... the method's fitted parameters ...}
 *
 * Doubles are written with 17 significant digits, so a saved reuser
 * predicts exactly as the one that was fitted; the job selector's model
 * is xgboost's own JSON, embedded as an object.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reuse.h"
#include "util.h"

#define FORMAT_NAME "learnware-reuser"
#define FORMAT_VERSION 1
#define MAX_FILE_BYTES ((size_t)1 << 30)

/* --- writing ------------------------------------------------------------- */

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *num_array(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, num(v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *size_array(const size_t *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer((json_int_t)v[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* Every json_* call below returns NULL or -1 on failure; count the failures. */
static void set(json_t *o, const char *key, json_t *v, int *bad)
{
	if (!v || json_object_set_new(o, key, v) != 0)
		(*bad)++;
}

static json_t *members_json(const lw_reuser *r, int *bad)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < r->n_members; i++) {
		json_t *m = json_object();

		if (!m || json_array_append_new(a, m) != 0) {
			(*bad)++;
			break;
		}
		set(m, "id", json_string(r->ids[i]), bad);
		set(m, "input_dim", json_integer((json_int_t)r->member_in[i]), bad);
		set(m, "output_dim", json_integer((json_int_t)r->member_out[i]), bad);
	}
	return a;
}

static json_t *coef_json(const lw_reuser *r)
{
	json_t *a = json_array();

	for (size_t c = 0; a && c < r->n_coef; c++)
		if (json_array_append_new(a, num_array(r->coef + c * r->n_aug, r->n_aug)) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static int method_json(json_t *root, const lw_reuser *r, int *bad)
{
	json_error_t je;
	json_t *sel;

	switch (r->method) {
	case LW_REUSE_AVERAGE:
		set(root, "average", json_string(lw_average_mode_name(r->average)), bad);
		break;
	case LW_REUSE_JOB_SELECTOR:
		set(root, "weights", num_array(r->weights, r->n_members), bad);
		set(root, "selector_rounds", json_integer(r->selector_rounds), bad);
		if (!r->selector_json)
			break;
		if (!(sel = json_loads(r->selector_json, 0, &je))) {
			lw_error_set(LW_ERRCLASS_JSON, "cannot embed the job selector: xgboost's "
				     "JSON does not parse: %s", je.text);
			return LW_ERROR;
		}
		set(root, "selector", sel, bad);
		break;
	case LW_REUSE_ENSEMBLE_PRUNING:
		set(root, "kept", size_array(r->kept, r->n_kept), bad);
		break;
	default:
		set(root, "fill", num_array(r->fill, r->input_dim), bad);
		set(root, "penalty", num(r->penalty), bad);
		set(root, "cv_score", num(r->cv_score), bad);
		set(root, "coef", coef_json(r), bad);
		set(root, "intercept", num_array(r->intercept, r->n_coef), bad);
		break;
	}
	return 0;
}

int lw_reuser_save(const lw_reuser *r, const char *path)
{
	json_t *root = json_object();
	char *text = NULL;
	int bad = 0, err;

	LW_ASSERT_ARG(r && path);
	if (!root)
		goto oom;
	set(root, "format", json_string(FORMAT_NAME), &bad);
	set(root, "version", json_integer(FORMAT_VERSION), &bad);
	set(root, "method", json_string(lw_reuse_method_name(r->method)), &bad);
	set(root, "task", json_string(lw_task_name(r->task)), &bad);
	set(root, "input_dim", json_integer((json_int_t)r->input_dim), &bad);
	set(root, "output_dim", json_integer((json_int_t)r->output_dim), &bad);
	set(root, "n_classes", json_integer((json_int_t)r->n_classes), &bad);
	set(root, "members", members_json(r, &bad), &bad);
	if ((err = method_json(root, r, &bad)) < 0) {
		json_decref(root);
		return err;
	}
	if (bad || !(text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17))))
		goto oom;
	json_decref(root);
	err = lw__write_file_atomic(path, text, strlen(text));
	free(text);
	return err;
oom:
	json_decref(root);
	lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory writing the reuser to %s", path);
	return LW_ENOMEM;
}

/* --- reading ------------------------------------------------------------- */

typedef struct {
	const char *source;
	json_t *root;
} reader;

static int bad_key(const reader *rd, const char *key, const char *what)
{
	lw_error_set(LW_ERRCLASS_JSON, "%s: \"%s\" %s; save the reuser again with "
		     "lw_reuser_save (learnware fit)", rd->source, key, what);
	return LW_EINVALID;
}

static int get_size(size_t *out, const reader *rd, json_t *obj, const char *key, size_t lo,
		    size_t hi)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)lo ||
	    (uint64_t)json_integer_value(v) > (uint64_t)hi) {
		char what[96];

		snprintf(what, sizeof(what), "must be an integer in %zu..%zu", lo, hi);
		return bad_key(rd, key, what);
	}
	*out = (size_t)json_integer_value(v);
	return 0;
}

static int get_string(const char **out, const reader *rd, json_t *obj, const char *key)
{
	if (!(*out = json_string_value(json_object_get(obj, key))))
		return bad_key(rd, key, "must be a string");
	return 0;
}

/* An array of exactly n finite numbers, copied into a new allocation. */
static int get_numbers(double **out, const reader *rd, json_t *a, const char *key, size_t n)
{
	*out = NULL;
	if (!json_is_array(a) || json_array_size(a) != n) {
		char what[96];

		snprintf(what, sizeof(what), "must be an array of %zu numbers", n);
		return bad_key(rd, key, what);
	}
	if (!(*out = lw__mallocarray(n ? n : 1, sizeof(double))))
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_number(v) || !isfinite(json_number_value(v))) {
			free(*out);
			*out = NULL;
			return bad_key(rd, key, "must hold finite numbers only");
		}
		(*out)[i] = json_number_value(v);
	}
	return 0;
}

static int get_number(double *out, const reader *rd, const char *key, int null_ok)
{
	json_t *v = json_object_get(rd->root, key);

	if (null_ok && json_is_null(v)) {
		*out = NAN;
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)))
		return bad_key(rd, key, null_ok ? "must be a finite number or null"
						: "must be a finite number");
	*out = json_number_value(v);
	return 0;
}

static int read_members(lw_reuser *r, const reader *rd, json_t *a)
{
	int err;

	for (size_t i = 0; i < r->n_members; i++) {
		json_t *m = json_array_get(a, i);
		const char *id;

		if (!json_is_object(m))
			return bad_key(rd, "members", "must hold objects");
		if ((err = get_string(&id, rd, m, "id")) < 0 ||
		    (err = get_size(&r->member_in[i], rd, m, "input_dim", 0, INT32_MAX)) < 0 ||
		    (err = get_size(&r->member_out[i], rd, m, "output_dim", 1, INT32_MAX)) < 0)
			return err;
		if (!*id)
			return bad_key(rd, "id", "must not be empty");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->ids[j], id))
				return bad_key(rd, "members", "names a learnware twice");
		if (!(r->ids[i] = lw__strdup(id)))
			return LW_ENOMEM;
	}
	return 0;
}

/* The shapes fit would have produced for this method and task. */
static int check_shapes(const lw_reuser *r, const reader *rd)
{
	bool cls = r->task == LW_TASK_CLASSIFICATION;

	if (cls && r->n_classes < 2)
		return bad_key(rd, "n_classes", "must be at least 2 for classification");
	if (!cls && r->n_classes)
		return bad_key(rd, "n_classes", "must be 0 for regression");
	for (size_t i = 0; i < r->n_members; i++) {
		if (cls && r->member_out[i] != 1 && r->member_out[i] != r->n_classes)
			return bad_key(rd, "members", "has an output width that is neither 1 nor "
				       "n_classes");
		if (!cls && r->member_out[i] != r->member_out[0])
			return bad_key(rd, "members", "has members with different output widths");
		if (r->input_dim && r->member_in[i] && r->member_in[i] != r->input_dim)
			return bad_key(rd, "members", "has a member whose input_dim is not the "
				       "reuser's");
	}
	if (r->output_dim != (cls || r->method == LW_REUSE_ENSEMBLE_PRUNING ||
				      r->method == LW_REUSE_FEATURE_AUGMENT
			      ? 1 : r->member_out[0]))
		return bad_key(rd, "output_dim", "does not follow from the method and the members");
	if (!r->input_dim && r->method != LW_REUSE_AVERAGE)
		return bad_key(rd, "input_dim", "must be positive for this method");
	return 0;
}

static int read_selector(lw_reuser *r, const reader *rd)
{
	json_t *sel = json_object_get(rd->root, "selector");
	char source[600], *text;
	size_t rounds;
	int err;

	if ((err = get_numbers(&r->weights, rd, json_object_get(rd->root, "weights"), "weights",
			       r->n_members)) < 0 ||
	    (err = get_size(&rounds, rd, rd->root, "selector_rounds", 0, INT32_MAX)) < 0)
		return err;
	r->selector_rounds = (unsigned)rounds;
	for (size_t i = 0; i < r->n_members; i++)
		if (r->weights[i] < 0)
			return bad_key(rd, "weights", "must be non-negative");
	if (r->n_members == 1)
		return sel ? bad_key(rd, "selector", "must be absent with one learnware") : 0;
	if (!json_is_object(sel))
		return bad_key(rd, "selector", "must be xgboost's JSON model (an object)");
	if (!(text = json_dumps(sel, JSON_COMPACT | JSON_REAL_PRECISION(17)))) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory reading %s", rd->source);
		return LW_ENOMEM;
	}
	snprintf(source, sizeof(source), "%s: selector", rd->source);
	return lw__reuse_selector_open(r, text, strlen(text), source);
}

static int read_kept(lw_reuser *r, const reader *rd)
{
	json_t *a = json_object_get(rd->root, "kept");

	if (!json_is_array(a) || !json_array_size(a) || json_array_size(a) > r->n_members)
		return bad_key(rd, "kept", "must be a non-empty array of member positions");
	if (r->task == LW_TASK_REGRESSION && r->member_out[0] != 1)
		return bad_key(rd, "members", "must answer one output each for ensemble pruning");
	r->n_kept = json_array_size(a);
	if (!(r->kept = lw__mallocarray(r->n_kept, sizeof(size_t))))
		return LW_ENOMEM;
	for (size_t i = 0; i < r->n_kept; i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (uint64_t)json_integer_value(v) >= r->n_members ||
		    (i && (size_t)json_integer_value(v) <= r->kept[i - 1]))
			return bad_key(rd, "kept", "must hold ascending member positions");
		r->kept[i] = (size_t)json_integer_value(v);
	}
	return 0;
}

static int read_augment(lw_reuser *r, const reader *rd)
{
	json_t *coef = json_object_get(rd->root, "coef");
	int err;

	r->n_aug = r->input_dim;
	for (size_t i = 0; i < r->n_members; i++)
		r->n_aug += r->member_out[i];
	r->n_coef = r->task == LW_TASK_REGRESSION ? 1 : r->n_classes;
	if ((err = get_numbers(&r->fill, rd, json_object_get(rd->root, "fill"), "fill",
			       r->input_dim)) < 0 ||
	    (err = get_number(&r->penalty, rd, "penalty", 0)) < 0 ||
	    (err = get_number(&r->cv_score, rd, "cv_score", 1)) < 0 ||
	    (err = get_numbers(&r->intercept, rd, json_object_get(rd->root, "intercept"),
			       "intercept", r->n_coef)) < 0)
		return err;
	if (!(r->penalty > 0))
		return bad_key(rd, "penalty", "must be positive");
	if (!json_is_array(coef) || json_array_size(coef) != r->n_coef)
		return bad_key(rd, "coef", "must hold one row per class (one for regression)");
	/* Every row's length before the allocation, which a hostile width could make huge. */
	for (size_t c = 0; c < r->n_coef; c++)
		if (json_array_size(json_array_get(coef, c)) != r->n_aug)
			return bad_key(rd, "coef", "rows must be as long as input_dim plus the "
				       "members' output widths");
	if (!(r->coef = lw__mallocarray(r->n_coef, r->n_aug * sizeof(double))))
		return LW_ENOMEM;
	for (size_t c = 0; c < r->n_coef; c++) {
		double *row;

		if ((err = get_numbers(&row, rd, json_array_get(coef, c), "coef", r->n_aug)) < 0)
			return err;
		memcpy(r->coef + c * r->n_aug, row, r->n_aug * sizeof(double));
		free(row);
	}
	return 0;
}

static int read_header(lw_reuser **out, const reader *rd)
{
	const char *format, *method, *task;
	json_t *members = json_object_get(rd->root, "members");
	size_t version, n;
	lw_reuser *r;
	int err;

	if ((err = get_string(&format, rd, rd->root, "format")) < 0)
		return err;
	if (strcmp(format, FORMAT_NAME))
		return bad_key(rd, "format", "must be \"" FORMAT_NAME "\"");
	if ((err = get_size(&version, rd, rd->root, "version", FORMAT_VERSION, FORMAT_VERSION)) < 0 ||
	    (err = get_string(&method, rd, rd->root, "method")) < 0 ||
	    (err = get_string(&task, rd, rd->root, "task")) < 0)
		return err;
	if (!lw_reuse_method_from_name(method))
		return bad_key(rd, "method", "must be average, job-selector, ensemble-pruning or "
			       "feature-augment");
	if (!lw_task_from_name(task))
		return bad_key(rd, "task", "must be regression or classification");
	if (!json_is_array(members) || !(n = json_array_size(members)) ||
	    n > LW__REUSE_MAX_MEMBERS)
		return bad_key(rd, "members", "must be a non-empty array");
	if ((err = lw__reuser_alloc(&r, n)) < 0)
		return err;
	*out = r;
	r->method = lw_reuse_method_from_name(method);
	r->task = lw_task_from_name(task);
	if ((err = get_size(&r->input_dim, rd, rd->root, "input_dim", 0, INT32_MAX)) < 0 ||
	    (err = get_size(&r->output_dim, rd, rd->root, "output_dim", 1, INT32_MAX)) < 0 ||
	    (err = get_size(&r->n_classes, rd, rd->root, "n_classes", 0, LW__REUSE_MAX_CLASSES)) < 0 ||
	    (err = read_members(r, rd, members)) < 0)
		return err;
	return check_shapes(r, rd);
}

static int read_method(lw_reuser *r, const reader *rd)
{
	const char *mode;
	int err;

	switch (r->method) {
	case LW_REUSE_AVERAGE:
		if ((err = get_string(&mode, rd, rd->root, "average")) < 0)
			return err;
		r->average = lw_average_mode_from_name(mode);
		if (!r->average || (r->task == LW_TASK_REGRESSION) != (r->average == LW_AVERAGE_MEAN))
			return bad_key(rd, "average", "must be mean (regression), vote_by_label or "
				       "vote_by_prob (classification)");
		return 0;
	case LW_REUSE_JOB_SELECTOR:
		return read_selector(r, rd);
	case LW_REUSE_ENSEMBLE_PRUNING:
		return read_kept(r, rd);
	default:
		return read_augment(r, rd);
	}
}

int lw_reuser_load(lw_reuser **out, const char *path)
{
	reader rd = { path, NULL };
	lw_reuser *r = NULL;
	json_error_t je;
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_FILE_BYTES)) < 0)
		return err;
	rd.root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!rd.root) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", path, je.line, je.column,
			     je.text);
		return LW_EINVALID;
	}
	if (!json_is_object(rd.root)) {
		err = bad_key(&rd, "(top level)", "must be a JSON object");
		goto done;
	}
	if ((err = read_header(&r, &rd)) < 0 || (err = read_method(r, &rd)) < 0)
		goto done;
	*out = r;
	r = NULL;
done:
	lw_reuser_free(r);
	json_decref(rd.root);
	return err;
}
