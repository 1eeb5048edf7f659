/*
 * The built-in model kinds - linear, logistic (softmax) and MLP - as one
 * stack of dense layers behind input standardisation, and their JSON file
 * format (docs/models.md).
 */
#include <cblas.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_out.h"
#include "train.h"
#include "util.h"

#define FORMAT_NAME "learnware-model"
#define FORMAT_VERSION 1
/* Largest model file read, and most parameters in one layer. */
#define MAX_JSON_BYTES ((size_t)1 << 30)
#define MAX_LAYER_CELLS ((size_t)1 << 27)
/* Rows pushed through the network at once: bounds the scratch memory. */
#define PREDICT_BLOCK 512

/* --- the network ---------------------------------------------------- */

void lw__builtin_free(lw__builtin *b)
{
	if (!b)
		return;
	for (size_t l = 0; b->layers && l < b->n_layers; l++) {
		free(b->layers[l].w);
		free(b->layers[l].b);
	}
	free(b->layers);
	free(b->x_mean);
	free(b->x_scale);
	free(b->y_mean);
	free(b->y_scale);
	free(b->classes);
	free(b->features);
	free(b);
}

/* widths: n_layers + 1 sizes, inputs first.  Activations are left 0. */
int lw__builtin_new(lw__builtin **out, lw_task task, const size_t *widths, size_t n_layers)
{
	lw__builtin *b = lw__calloc(1, sizeof(*b));
	size_t cells;

	*out = NULL;
	if (!b)
		return LW_ENOMEM;
	b->task = task;
	b->d = widths[0];
	b->k = widths[n_layers];
	b->n_layers = n_layers;
	if (!(b->layers = lw__calloc(n_layers, sizeof(lw__layer))) ||
	    !(b->x_mean = lw__calloc(b->d, sizeof(double))) ||
	    !(b->x_scale = lw__mallocarray(b->d, sizeof(double))))
		goto nomem;
	for (size_t j = 0; j < b->d; j++)
		b->x_scale[j] = 1;
	for (size_t l = 0; l < n_layers; l++) {
		lw__layer *L = &b->layers[l];

		L->inputs = widths[l];
		L->units = widths[l + 1];
		if (!lw__mul_ok(&cells, L->inputs, L->units) ||
		    !(L->w = lw__calloc(cells, sizeof(double))) ||
		    !(L->b = lw__calloc(L->units, sizeof(double))))
			goto nomem;
	}
	*out = b;
	return 0;
nomem:
	lw__builtin_free(b);
	return LW_ENOMEM;
}

static void softmax_rows(double *h, size_t n, size_t k)
{
	for (size_t i = 0; i < n; i++) {
		double *r = h + i * k, mx = r[0], s = 0;

		for (size_t j = 1; j < k; j++)
			mx = r[j] > mx ? r[j] : mx;
		for (size_t j = 0; j < k; j++)
			s += (r[j] = exp(r[j] - mx));
		for (size_t j = 0; j < k; j++)
			r[j] /= s;
	}
}

static void activate(double *h, size_t n, size_t k, lw__activation act)
{
	if (act == LW_ACT_RELU) {
		for (size_t i = 0; i < n * k; i++)
			h[i] = h[i] > 0 ? h[i] : 0;
	} else if (act == LW_ACT_SOFTMAX) {
		softmax_rows(h, n, k);
	}
}

/* out (n x units) = act(in W^T + b). */
void lw__layer_forward(double *out, const lw__layer *L, const double *in, size_t n)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * L->units, L->b, L->units * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)L->units,
		    (int)L->inputs, 1.0, in, (int)L->inputs, L->w, (int)L->inputs, 1.0, out,
		    (int)L->units);
	activate(out, n, L->units, L->act);
}

static size_t widest(const lw__builtin *b)
{
	size_t w = 0;

	for (size_t l = 0; l < b->n_layers; l++)
		w = b->layers[l].units > w ? b->layers[l].units : w;
	return w;
}

int lw__builtin_forward(double *out, const lw__builtin *b, const double *z, size_t n)
{
	double *buf[2] = { NULL, NULL };
	const double *in = z;
	int err = 0;

	if (b->n_layers > 1 && (!(buf[0] = lw__mallocarray(n * widest(b), sizeof(double))) ||
				!(buf[1] = lw__mallocarray(n * widest(b), sizeof(double))))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t l = 0; l < b->n_layers; l++) {
		double *dst = l + 1 == b->n_layers ? out : buf[l % 2];

		lw__layer_forward(dst, &b->layers[l], in, n);
		in = dst;
	}
done:
	free(buf[0]);
	free(buf[1]);
	return err;
}

/* Standardise rows [i0, i0+n) of X into z; missing cells become the mean (0). */
static void standardize_block(double *z, const lw__builtin *b, const lw_mat *X, size_t i0,
			      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const double *x = lw_mat_row(X, i0 + i);

		for (size_t j = 0; j < b->d; j++)
			z[i * b->d + j] = isfinite(x[j]) ? (x[j] - b->x_mean[j]) / b->x_scale[j] : 0;
	}
}

static void unscale_outputs(lw_mat *out, const lw__builtin *b)
{
	if (!b->y_mean)
		return;
	for (size_t i = 0; i < out->rows; i++)
		for (size_t j = 0; j < b->k; j++)
			lw_mat_row(out, i)[j] = b->y_mean[j] + b->y_scale[j] * lw_mat_row(out, i)[j];
}

static int builtin_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	const lw__builtin *b = m->impl;
	size_t block = X->rows < PREDICT_BLOCK ? X->rows : PREDICT_BLOCK;
	double *z = NULL;
	int err;

	if (X->rows > INT32_MAX) {
		lw_error_set(LW_ERRCLASS_INVALID, "predict: %zu rows is over the limit of %d",
			     X->rows, INT32_MAX);
		return LW_EINVALID;
	}
	if ((err = lw_mat_init(out, X->rows, b->k)) < 0)
		return err;
	if (X->rows && !(z = lw__mallocarray(block, b->d * sizeof(double)))) {
		err = LW_ENOMEM;
		goto done;
	}
	for (size_t i0 = 0; i0 < X->rows; i0 += block) {
		size_t n = X->rows - i0 < block ? X->rows - i0 : block;

		standardize_block(z, b, X, i0, n);
		if ((err = lw__builtin_forward(lw_mat_row(out, i0), b, z, n)) < 0)
			goto done;
	}
	unscale_outputs(out, b);
done:
	free(z);
	if (err < 0)
		lw_mat_dispose(out);
	return err;
}

static int builtin_save(const lw_model *m, const char *path);

static void builtin_free(lw_model *m)
{
	lw__builtin_free(m->impl);
}

static const lw_model_ops builtin_ops = { builtin_predict, builtin_save, builtin_free };

const lw__builtin *lw__builtin_of(const lw_model *m)
{
	return m && m->ops == &builtin_ops ? m->impl : NULL;
}

int lw__builtin_wrap(lw_model **out, lw_model_kind kind, lw__builtin *b)
{
	int err = lw__model_new(out, kind, &builtin_ops, b, b->d, b->k);

	if (err < 0)
		lw__builtin_free(b);
	return err;
}

int lw__names_copy(char ***out, const char *const *names, size_t n)
{
	size_t bytes = (n + 1) * sizeof(char *);
	char **list, *p;

	*out = NULL;
	if (!names)
		return 0;
	for (size_t i = 0; i < n; i++)
		bytes += strlen(names[i]) + 1;
	/* One block, so a plain free() releases it. */
	if (!(list = lw__mallocarray(bytes, 1)))
		return LW_ENOMEM;
	p = (char *)(list + n + 1);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(names[i]) + 1;

		list[i] = memcpy(p, names[i], len);
		p += len;
	}
	list[n] = NULL;
	*out = list;
	return 0;
}

/* --- reading JSON ----------------------------------------------------- */

typedef struct {
	const char *source;
	json_t *root;
} reader;

static int bad(const reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(const reader *r, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lw_error_set(LW_ERRCLASS_JSON, "%s: %s", r->source, msg);
	return LW_EINVALID;
}

/* Python's json writes NaN and Infinity, which are not JSON: say so plainly. */
static int parse_error(const char *source, const json_error_t *je)
{
	const char *near = strstr(je->text, "near '");

	if (near && (!strncmp(near + 6, "NaN", 3) || !strncmp(near + 6, "Infinity", 8) ||
		     !strncmp(near + 6, "-Infinity", 9))) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: NaN or Infinity in the "
			     "model; a model file must hold finite numbers (was it trained on data "
			     "with missing values?)", source, je->line, je->column);
		return LW_EINVALID;
	}
	lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, je->line, je->column,
		     je->text);
	return LW_EINVALID;
}

static const char *type_of(const json_t *v)
{
	return !v                ? "nothing (missing key)"
	       : json_is_string(v) ? "a string"
	       : json_is_array(v)  ? "an array"
	       : json_is_object(v) ? "an object"
	       : json_is_number(v) ? "a number"
				   : "null or a boolean";
}

static int get_string(const char **out, const reader *r, const char *key)
{
	json_t *v = json_object_get(r->root, key);

	if (!json_is_string(v))
		return bad(r, "\"%s\" must be a string, found %s", key, type_of(v));
	*out = json_string_value(v);
	return 0;
}

static int get_size(size_t *out, const reader *r, const char *key)
{
	json_t *v = json_object_get(r->root, key);

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > (json_int_t)INT32_MAX)
		return bad(r, "\"%s\" must be a positive integer below 2^31, found %s", key,
			   json_is_integer(v) ? "a value out of range" : type_of(v));
	*out = (size_t)json_integer_value(v);
	return 0;
}

/* n finite numbers from a JSON array; what names it in messages, e.g. "x_mean". */
static int get_numbers(double *out, const reader *r, json_t *a, size_t n, const char *what,
		       const char *why)
{
	if (!json_is_array(a))
		return bad(r, "%s must be an array of %zu numbers (%s), found %s", what, n, why,
			   type_of(a));
	if (json_array_size(a) != n)
		return bad(r, "%s has %zu numbers, expected %zu (%s)", what, json_array_size(a), n,
			   why);
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(a, i);

		if (!json_is_number(v))
			return bad(r, "%s[%zu] must be a number, found %s", what, i, type_of(v));
		out[i] = json_number_value(v);
		if (!isfinite(out[i]))
			return bad(r, "%s[%zu] is not finite", what, i);
	}
	return 0;
}

/* Optional vector key: absent leaves out untouched. */
static int get_vector(double *out, const reader *r, const char *key, size_t n, const char *why)
{
	json_t *a = json_object_get(r->root, key);
	char what[64];

	if (!a)
		return 0;
	snprintf(what, sizeof(what), "\"%s\"", key);
	return get_numbers(out, r, a, n, what, why);
}

static int get_names(char ***out, const reader *r, const char *key, size_t n, const char *why)
{
	json_t *a = json_object_get(r->root, key);
	const char **tmp;
	int err;

	*out = NULL;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) != n)
		return bad(r, "\"%s\" must be an array of %zu strings (%s)", key, n, why);
	if (!(tmp = lw__mallocarray(n, sizeof(char *))))
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(tmp[i] = json_string_value(json_array_get(a, i)))) {
			free(tmp);
			return bad(r, "\"%s\"[%zu] must be a string, found %s", key, i,
				   type_of(json_array_get(a, i)));
		}
	}
	err = lw__names_copy(out, tmp, n);
	free(tmp);
	return err;
}

static const char *const act_names[] = {
	[LW_ACT_IDENTITY] = "identity", [LW_ACT_RELU] = "relu", [LW_ACT_SOFTMAX] = "softmax"
};

static int get_activation(lw__activation *out, const reader *r, json_t *layer, size_t l)
{
	json_t *v = json_object_get(layer, "activation");
	const char *name = json_string_value(v);

	for (int a = LW_ACT_IDENTITY; name && a <= LW_ACT_SOFTMAX; a++) {
		if (!strcmp(name, act_names[a])) {
			*out = (lw__activation)a;
			return 0;
		}
	}
	return bad(r, "layers[%zu].activation must be \"relu\", \"identity\" or \"softmax\", "
		   "found %s%s%s", l, name ? "\"" : "", name ? name : type_of(v), name ? "\"" : "");
}

/* The widths of the layers: inputs, then each layer's units (from its bias). */
static int read_widths(size_t *widths, const reader *r, json_t *layers, size_t n)
{
	size_t cells;

	for (size_t l = 0; l < n; l++) {
		json_t *L = json_array_get(layers, l), *bias = json_object_get(L, "bias");

		if (!json_is_object(L))
			return bad(r, "layers[%zu] must be an object with \"weights\", \"bias\" and "
				   "\"activation\"", l);
		if (!json_is_array(bias) || json_array_size(bias) == 0)
			return bad(r, "layers[%zu].bias must be a non-empty array of numbers (one per "
				   "unit)", l);
		widths[l + 1] = json_array_size(bias);
		if (!lw__mul_ok(&cells, widths[l], widths[l + 1]) || cells > MAX_LAYER_CELLS ||
		    widths[l + 1] > INT32_MAX)
			return bad(r, "layers[%zu] has %zu x %zu weights, over the limit of %zu", l,
				   widths[l + 1], widths[l], MAX_LAYER_CELLS);
	}
	return 0;
}

static int read_layer(lw__layer *L, const reader *r, json_t *jl, size_t l)
{
	json_t *w = json_object_get(jl, "weights");
	char what[64], why[96];
	int err;

	snprintf(what, sizeof(what), "layers[%zu].bias", l);
	if ((err = get_numbers(L->b, r, json_object_get(jl, "bias"), L->units, what, "one per unit")) < 0)
		return err;
	if (!json_is_array(w) || json_array_size(w) != L->units)
		return bad(r, "layers[%zu].weights must be an array of %zu rows, one per unit (the "
			   "length of its bias)", l, L->units);
	if (l)
		snprintf(why, sizeof(why), "the units of layers[%zu]", l - 1);
	else
		snprintf(why, sizeof(why), "input_dim");
	for (size_t u = 0; u < L->units; u++) {
		snprintf(what, sizeof(what), "layers[%zu].weights[%zu]", l, u);
		if ((err = get_numbers(L->w + u * L->inputs, r, json_array_get(w, u), L->inputs,
				       what, why)) < 0)
			return err;
	}
	return get_activation(&L->act, r, jl, l);
}

/* Which layer shapes and activations each kind allows. */
static int check_structure(const reader *r, lw_model_kind kind, const lw__builtin *b)
{
	lw__activation last = b->layers[b->n_layers - 1].act;
	lw__activation want = b->task == LW_TASK_CLASSIFICATION ? LW_ACT_SOFTMAX : LW_ACT_IDENTITY;

	if (kind != LW_MODEL_MLP && b->n_layers != 1)
		return bad(r, "a %s model has exactly one layer, found %zu", lw_model_kind_name(kind),
			   b->n_layers);
	if (last != want)
		return bad(r, "the last layer's activation must be \"%s\" for %s, found \"%s\"",
			   act_names[want], lw_task_name(b->task), act_names[last]);
	for (size_t l = 0; l + 1 < b->n_layers; l++)
		if (b->layers[l].act == LW_ACT_SOFTMAX)
			return bad(r, "layers[%zu]: \"softmax\" is only allowed on the last layer", l);
	if (b->task == LW_TASK_CLASSIFICATION && b->k < 2)
		return bad(r, "a classifier needs output_dim >= 2 (one probability per class), "
			   "found %zu", b->k);
	return 0;
}

static int read_header(lw_model_kind *kind, lw_task *task, const reader *r, lw_model_kind want)
{
	const char *fmt, *k, *t;
	json_t *v = json_object_get(r->root, "version");
	int err;

	if ((err = get_string(&fmt, r, "format")) < 0)
		return err;
	if (strcmp(fmt, FORMAT_NAME))
		return bad(r, "\"format\" is \"%s\", expected \"" FORMAT_NAME "\"", fmt);
	if (!json_is_integer(v) || json_integer_value(v) != FORMAT_VERSION)
		return bad(r, "\"version\" must be %d (this program reads version %d files)",
			   FORMAT_VERSION, FORMAT_VERSION);
	if ((err = get_string(&k, r, "kind")) < 0 || (err = get_string(&t, r, "task")) < 0)
		return err;
	*kind = lw_model_kind_from_name(k);
	if (*kind != LW_MODEL_LINEAR && *kind != LW_MODEL_LOGISTIC && *kind != LW_MODEL_MLP)
		return bad(r, "\"kind\" is \"%s\"; built-in models are \"linear\", \"logistic\" or "
			   "\"mlp\"", k);
	if (want && want != *kind)
		return bad(r, "\"kind\" is \"%s\", but a %s model was asked for", k,
			   lw_model_kind_name(want));
	if (!(*task = lw_task_from_name(t)))
		return bad(r, "\"task\" is \"%s\"; expected \"regression\" or \"classification\"", t);
	if ((*kind == LW_MODEL_LINEAR) != (*task == LW_TASK_REGRESSION) && *kind != LW_MODEL_MLP)
		return bad(r, "a %s model cannot do %s", k, t);
	return 0;
}

static int read_scaling(lw__builtin *b, const reader *r)
{
	int err;

	if ((err = get_vector(b->x_mean, r, "x_mean", b->d, "input_dim")) < 0 ||
	    (err = get_vector(b->x_scale, r, "x_scale", b->d, "input_dim")) < 0)
		return err;
	for (size_t j = 0; j < b->d; j++)
		if (!(b->x_scale[j] > 0))
			return bad(r, "\"x_scale\"[%zu] must be positive, found %g", j, b->x_scale[j]);
	if (!json_object_get(r->root, "y_mean") && !json_object_get(r->root, "y_scale"))
		return 0;
	if (b->task != LW_TASK_REGRESSION)
		return bad(r, "\"y_mean\" and \"y_scale\" are for regression models only");
	if (!(b->y_mean = lw__calloc(b->k, sizeof(double))) ||
	    !(b->y_scale = lw__mallocarray(b->k, sizeof(double))))
		return LW_ENOMEM;
	for (size_t j = 0; j < b->k; j++)
		b->y_scale[j] = 1;
	if ((err = get_vector(b->y_mean, r, "y_mean", b->k, "output_dim")) < 0 ||
	    (err = get_vector(b->y_scale, r, "y_scale", b->k, "output_dim")) < 0)
		return err;
	return 0;
}

/* Everything after the header: shapes, layers, scaling, names. */
static int read_body(lw__builtin **out, const reader *r, lw_model_kind kind, lw_task task)
{
	json_t *layers = json_object_get(r->root, "layers");
	size_t n, d, k, *widths = NULL;
	lw__builtin *b = NULL;
	int err;

	if ((err = get_size(&d, r, "input_dim")) < 0 || (err = get_size(&k, r, "output_dim")) < 0)
		return err;
	if (!json_is_array(layers) || (n = json_array_size(layers)) == 0 || n > 64)
		return bad(r, "\"layers\" must be an array of 1 to 64 layers, found %s",
			   json_is_array(layers) ? "another length" : type_of(layers));
	if (!(widths = lw__mallocarray(n + 1, sizeof(size_t))))
		return LW_ENOMEM;
	widths[0] = d;
	if ((err = read_widths(widths, r, layers, n)) < 0)
		goto done;
	if (widths[n] != k) {
		err = bad(r, "the last layer has %zu units but \"output_dim\" is %zu", widths[n], k);
		goto done;
	}
	if ((err = lw__builtin_new(&b, task, widths, n)) < 0)
		goto done;
	for (size_t l = 0; l < n; l++)
		if ((err = read_layer(&b->layers[l], r, json_array_get(layers, l), l)) < 0)
			goto done;
	if ((err = check_structure(r, kind, b)) < 0 || (err = read_scaling(b, r)) < 0 ||
	    (err = get_names(&b->classes, r, "classes", k, "one per output")) < 0 ||
	    (err = get_names(&b->features, r, "feature_names", d, "one per input")) < 0)
		goto done;
	if (b->classes && task != LW_TASK_CLASSIFICATION)
		err = bad(r, "\"classes\" is for classification models only");
done:
	free(widths);
	if (err < 0)
		lw__builtin_free(b);
	else
		*out = b;
	return err;
}

int lw__builtin_from_json(lw_model **out, lw_model_kind want, const char *text, size_t len,
			  const char *source)
{
	reader r = { source ? source : "model", NULL };
	json_error_t je;
	lw_model_kind kind = 0;
	lw_task task = 0;
	lw__builtin *b = NULL;
	int err;

	*out = NULL;
	if (!(r.root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)))
		return parse_error(r.source, &je);
	if (!json_is_object(r.root))
		err = bad(&r, "the top level must be a JSON object");
	else if ((err = read_header(&kind, &task, &r, want)) == 0 &&
		 (err = read_body(&b, &r, kind, task)) == 0)
		err = lw__builtin_wrap(out, kind, b);
	json_decref(r.root);
	return err;
}

int lw__model_open_builtin(lw_model **out, const char *path)
{
	char *text;
	size_t len;
	int err;

	LW_ASSERT_ARG(out && path);
	*out = NULL;
	if ((err = lw__read_file(&text, &len, path, MAX_JSON_BYTES)) < 0)
		return err;
	err = lw__builtin_from_json(out, 0, text, len, path);
	free(text);
	return err;
}

/* --- writing JSON ----------------------------------------------------- */

/* A JSON string through jansson's escaping; names must be UTF-8. */
static void put_string(lw__jout *t, const char *s)
{
	json_t *j = json_string(s);
	char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

	if (!q && !t->err) {
		lw_error_set(LW_ERRCLASS_INVALID, "the name '%.60s' is not valid UTF-8 text; "
			     "model files hold UTF-8", s);
		t->err = LW_EINVALID;
	}
	if (q)
		lw__jout_str(t, q);
	free(q);
	json_decref(j);
}

static void put_key(lw__jout *t, const char *key)
{
	lw__jout_str(t, ",\n\"");
	lw__jout_str(t, key);
	lw__jout_str(t, "\":");
}

static void put_names(lw__jout *t, const char *key, char *const *names)
{
	if (!names)
		return;
	put_key(t, key);
	lw__jout_put(t, "[", 1);
	for (size_t i = 0; names[i]; i++) {
		if (i)
			lw__jout_put(t, ",", 1);
		put_string(t, names[i]);
	}
	lw__jout_put(t, "]", 1);
}

static void put_layer(lw__jout *t, const lw__layer *L)
{
	lw__jout_str(t, "{\"activation\":\"");
	lw__jout_str(t, act_names[L->act]);
	lw__jout_str(t, "\",\n \"bias\":");
	lw__jout_numbers(t, L->b, L->units);
	lw__jout_str(t, ",\n \"weights\":[");
	for (size_t u = 0; u < L->units; u++) {
		lw__jout_str(t, u ? ",\n  " : "\n  ");
		lw__jout_numbers(t, L->w + u * L->inputs, L->inputs);
	}
	lw__jout_str(t, "]}");
}

static void write_json(lw__jout *t, lw_model_kind kind, const lw__builtin *b)
{
	char num[64];

	lw__jout_str(t, "{\"format\":\"" FORMAT_NAME "\",\n\"version\":1");
	put_key(t, "kind");
	put_string(t, lw_model_kind_name(kind));
	put_key(t, "task");
	put_string(t, lw_task_name(b->task));
	snprintf(num, sizeof(num), "%zu", b->d);
	put_key(t, "input_dim");
	lw__jout_str(t, num);
	snprintf(num, sizeof(num), "%zu", b->k);
	put_key(t, "output_dim");
	lw__jout_str(t, num);
	put_names(t, "classes", b->classes);
	put_names(t, "feature_names", b->features);
	put_key(t, "x_mean");
	lw__jout_numbers(t, b->x_mean, b->d);
	put_key(t, "x_scale");
	lw__jout_numbers(t, b->x_scale, b->d);
	if (b->y_mean) {
		put_key(t, "y_mean");
		lw__jout_numbers(t, b->y_mean, b->k);
		put_key(t, "y_scale");
		lw__jout_numbers(t, b->y_scale, b->k);
	}
	put_key(t, "layers");
	lw__jout_put(t, "[", 1);
	for (size_t l = 0; l < b->n_layers; l++) {
		lw__jout_str(t, l ? ",\n" : "\n");
		put_layer(t, &b->layers[l]);
	}
	lw__jout_str(t, "]}\n");
}

static bool all_finite(const double *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		if (!isfinite(v[i]))
			return false;
	return true;
}

static int check_finite(const lw__builtin *b)
{
	bool ok = all_finite(b->x_mean, b->d) && all_finite(b->x_scale, b->d) &&
		  all_finite(b->y_mean, b->k) && all_finite(b->y_scale, b->k);

	for (size_t l = 0; ok && l < b->n_layers; l++)
		ok = all_finite(b->layers[l].w, b->layers[l].inputs * b->layers[l].units) &&
		     all_finite(b->layers[l].b, b->layers[l].units);
	if (ok)
		return 0;
	lw_error_set(LW_ERRCLASS_NUMERIC, "the model holds a non-finite parameter (training "
		     "diverged?); not saved");
	return LW_EINVALID;
}

static int builtin_save(const lw_model *m, const char *path)
{
	lw__jout t = LW__JOUT_INIT;
	int err;

	if ((err = check_finite(m->impl)) < 0)
		return err;
	write_json(&t, m->kind, m->impl);
	err = t.err ? t.err : lw__write_file_atomic(path, t.text, t.len);
	free(t.text);
	return err;
}
