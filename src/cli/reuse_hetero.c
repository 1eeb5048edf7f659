/*
 * Heterogeneous reuse for `learnware reuse --input-desc`: the user's
 * column descriptions and the learnwares' own (from their semantic
 * specifications) are embedded by the text encoder, and the dock's current
 * map carries rows between the spaces (lw_hetero_reuser_fit).
 */
#define _POSIX_C_SOURCE 200809L
#include "reuse_hetero.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "describe.h"

/* Column embeddings of a semantic specification's Input descriptions. */
static int columns_of_json(lw_mat *out, const char *json, size_t dim, const char *source)
{
	lw_semantic *s = NULL;
	int err = lw_semantic_from_json(&s, json, strlen(json), source);

	if (err == 0)
		err = lw_hetero_columns(out, NULL, s, dim);
	lw_semantic_free(s);
	return err;
}

static int user_columns(lw_mat *out, const cli_hetero_reuse *h, size_t dim)
{
	json_t *root = json_object();
	char *json = NULL;
	int rc = cli_set_input_descriptions(root, h->input_desc, h->header_from, dim), err;

	if (rc != 0) {
		json_decref(root);
		lw_error_set(LW_ERRCLASS_DATA, "%s: the column descriptions were refused (above)", h->input_desc);
		return LW_EINVALID;
	}
	json = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!json)
		return LW_ENOMEM;
	err = columns_of_json(out, json, dim, h->input_desc);
	free(json);
	return err;
}

static int learnware_columns(lw_mat *out, lw_dock *d, const lw_reuse_member *m)
{
	lw_learnware_record rec = { 0 };
	int err;

	if (!m->rkme) {
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has no table specification: heterogeneous "
						  "reuse aligns table learnwares only", m->id);
		return LW_EINVALID;
	}
	if ((err = lw_store_get(&rec, lw_dock_store(d), m->id)) == 0)
		err = columns_of_json(out, rec.semantic_json, lw_rkme_dim(m->rkme), m->id);
	lw_learnware_record_dispose(&rec);
	return err;
}

static int method_of(lw_hetero_reuse_method *out, const char *name, int labelled)
{
	if (!strcmp(name, "average") || !strcmp(name, "align"))
		*out = labelled ? LW_HETERO_REUSE_AUGMENT : LW_HETERO_REUSE_AVERAGE;
	else if (!strcmp(name, "feature-augment"))
		*out = LW_HETERO_REUSE_AUGMENT;
	else if (!strcmp(name, "average-augment"))
		*out = LW_HETERO_REUSE_AVERAGE_AUGMENT;
	else {
		lw_error_set(LW_ERRCLASS_INVALID, "--method %s does not cross feature spaces: with "
						  "--input-desc use average, feature-augment or average-augment", name);
		return LW_EINVALID;
	}
	if (*out != LW_HETERO_REUSE_AVERAGE && !labelled) {
		lw_error_set(LW_ERRCLASS_INVALID, "--method %s needs labels (--target or --labels)", name);
		return LW_EINVALID;
	}
	return 0;
}

int cli_reuse_hetero(lw_mat *Y, lw_dock *d, const lw_reuse_member *m, size_t n, const lw_mat *X,
		     const double *y, const cli_hetero_reuse *h)
{
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	const lw_hetero_map *map;
	lw_hetero_learnware *lws = calloc(n ? n : 1, sizeof(*lws));
	lw_mat ucols = LW_MAT_INIT, *cols = calloc(n ? n : 1, sizeof(*cols));
	lw_hetero_reuser *r = NULL;
	lw_hetero_user u;
	int err;

	if (!lws || !cols) {
		err = LW_ENOMEM;
		goto done;
	}
	if ((err = method_of(&o.method, h->method, y != NULL)) < 0 || (err = lw_dock_hetero_map(&map, d)) < 0)
		goto done;
	if (!map) {
		lw_error_set(LW_ERRCLASS_INVALID, "the dock has no heterogeneous map yet: 'learnware dock "
						  "hetero train' makes one from its described table learnwares");
		err = LW_EINVALID;
		goto done;
	}
	if ((err = user_columns(&ucols, h, X->cols)) < 0)
		goto done;
	for (size_t i = 0; i < n && err == 0; i++) {
		lws[i].id = m[i].id;
		lws[i].model = m[i].model;
		lws[i].rkme = m[i].rkme;
		lws[i].columns = &cols[i];
		err = learnware_columns(&cols[i], d, &m[i]);
	}
	if (err < 0)
		goto done;
	u.map = map;
	u.columns = &ucols;
	u.X = X;
	o.task = h->task;
	o.n_classes = h->n_classes;
	o.seed = h->seed;
	if ((err = lw_hetero_reuser_fit(&r, &u, lws, n, y ? X : NULL, y, &o)) == 0)
		err = lw_hetero_reuser_predict(Y, r, X);
done:
	lw_hetero_reuser_free(r);
	for (size_t i = 0; cols && i < n; i++)
		lw_mat_dispose(&cols[i]);
	free(cols);
	free(lws);
	lw_mat_dispose(&ucols);
	return err;
}
