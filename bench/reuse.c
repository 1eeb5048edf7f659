/*
 * bench/reuse: the paper's evaluation of the whole pipeline on real data.
 *
 * Homogeneous regression (diamonds, like the paper's 53 stores): the table
 * is split into its natural groups, cut x colour; each group's training
 * part becomes a learnware (an XGBoost model packed with its RKME and
 * checked into a dock), and each group's test part is a user.
 * Classification with partial label spaces (letter, like the paper's image
 * experiment): learnwares see four classes in proportions 0.4:0.4:0.1:0.1,
 * users hold six in 0.3:0.3:0.1:0.1:0.1:0.1.
 *
 * For every user: the mean and the best learnware of the market, the Top-1
 * search result, the job selector and averaging over the recommended
 * mixture; then, with 10 to 1000 labelled rows, a model the user trains
 * alone against ensemble pruning and feature augmentation over the search
 * results.  Tables go to standard output, the labelled-data curves to SVG
 * files (bench/reuse-<task>.svg under the build folder, or --out DIR).
 *
 * Usage: bench_reuse [--quick] [--out DIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lw.h"

#define MAX_LABELLED 5
static const size_t labelled_sizes[MAX_LABELLED] = { 10, 30, 100, 300, 1000 };

enum { M_MEAN, M_BEST, M_TOP1, M_JOB, M_AVG, M_FREE };
static const char *free_names[M_FREE] = { "mean in market", "best in market", "Top-1 reuse",
					   "job selector", "averaging" };
enum { L_OWN, L_PRUNE, L_AUGMENT, L_N };
static const char *lab_names[L_N] = { "user's own model", "ensemble pruning", "feature augmentation" };

typedef struct {
	lw_mat X;
	double *y;
} table;

typedef struct {
	char name[64];
	table train, test;
} group;

typedef struct {
	const char *task_name; /* "regression" or "classification" */
	int classification;
	size_t n_classes;
	const char *const *classes;
	size_t repeats;
	size_t max_candidates; /* learnwares a labelled reuser may draw on */
	/* Results: per user, the data-free figures and the labelled means/stds. */
	size_t n_users;
	double (*free_res)[M_FREE];
	double (*lab_mean)[MAX_LABELLED][L_N];
	int (*lab_done)[MAX_LABELLED];
} task;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_reuse: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

static void table_init(table *t, size_t rows, size_t cols)
{
	if (lw_mat_init(&t->X, rows, cols) < 0 || !(t->y = calloc(rows ? rows : 1, sizeof(double))))
		die("out of memory");
}

static void table_dispose(table *t)
{
	lw_mat_dispose(&t->X);
	free(t->y);
}

/* Rows idx[0..n) of src. */
static void table_take(table *out, const table *src, const size_t *idx, size_t n)
{
	table_init(out, n, src->X.cols);
	for (size_t i = 0; i < n; i++) {
		memcpy(lw_mat_row(&out->X, i), lw_mat_row(&src->X, idx[i]), src->X.cols * sizeof(double));
		out->y[i] = src->y[idx[i]];
	}
}

static void shuffle(size_t *idx, size_t n, lw_rng *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

static size_t *iota(size_t n)
{
	size_t *idx = malloc((n ? n : 1) * sizeof(size_t));

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return idx;
}

/* --- data sets -------------------------------------------------------------------------- */

static int level(const char *s, const char *const *levels, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, levels[i]))
			return (int)i;
	return -1;
}

/*
 * diamonds.csv: carat,cut,color,clarity,depth,table,x,y,z,price.  Features:
 * carat, clarity (ordinal), depth, table, x, y, z; target: price.  Groups:
 * cut x colour, each split 60/40 into the learnware's and the user's rows.
 */
static size_t read_diamonds(group **out, const char *path, uint64_t seed)
{
	static const char *cuts[] = { "Fair", "Good", "Very Good", "Premium", "Ideal" };
	static const char *colors[] = { "D", "E", "F", "G", "H", "I", "J" };
	static const char *clarities[] = { "I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF" };
	FILE *f = fopen(path, "r");
	char line[512];
	size_t count[35] = { 0 }, cap = 60000, ng = 0;
	int *gid;
	group *g;
	lw_rng rng;
	table raw;

	if (!f) {
		fprintf(stderr, "bench_reuse: cannot read %s\n", path);
		exit(1);
	}
	table_init(&raw, cap, 7);
	gid = malloc(cap * sizeof(int));
	size_t n = 0;
	if (!fgets(line, sizeof(line), f))
		die("empty diamonds.csv");
	while (fgets(line, sizeof(line), f) && n < cap) {
		char *field[10], *save = NULL, *p = line;
		size_t k = 0;
		int cut, color, clarity;

		line[strcspn(line, "\r\n")] = '\0';
		for (char *tok = strtok_r(p, ",", &save); tok && k < 10; tok = strtok_r(NULL, ",", &save))
			field[k++] = tok;
		if (k != 10)
			continue;
		cut = level(field[1], cuts, 5);
		color = level(field[2], colors, 7);
		clarity = level(field[3], clarities, 8);
		if (cut < 0 || color < 0 || clarity < 0)
			continue;
		double *row = lw_mat_row(&raw.X, n);
		row[0] = atof(field[0]);
		row[1] = clarity;
		row[2] = atof(field[4]);
		row[3] = atof(field[5]);
		row[4] = atof(field[6]);
		row[5] = atof(field[7]);
		row[6] = atof(field[8]);
		raw.y[n] = atof(field[9]);
		gid[n++] = cut * 7 + color;
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		count[gid[i]]++;
	g = calloc(35, sizeof(*g));
	lw_rng_seed(&rng, seed);
	for (int c = 0; c < 35; c++) {
		size_t *idx = malloc((count[c] ? count[c] : 1) * sizeof(size_t)), m = 0, ntrain;

		for (size_t i = 0; i < n; i++)
			if (gid[i] == c)
				idx[m++] = i;
		shuffle(idx, m, &rng);
		/* 60/40: the larger groups' users can then label up to 1000 rows. */
		ntrain = m * 3 / 5;
		snprintf(g[ng].name, sizeof(g[ng].name), "%s %s", cuts[c / 7], colors[c % 7]);
		table_take(&g[ng].train, &raw, idx, ntrain);
		table_take(&g[ng].test, &raw, idx + ntrain, m - ntrain);
		ng++;
		free(idx);
	}
	free(gid);
	table_dispose(&raw);
	*out = g;
	return ng;
}

/* letter.csv: 16 integer features, label A-Z. */
static void read_letter(table *out, const char *path)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char **labels = NULL;

	if (lw_data_read_target(&out->X, NULL, &labels, path, "label", &o) < 0)
		die(path);
	out->y = malloc(out->X.rows * sizeof(double));
	for (size_t i = 0; i < out->X.rows; i++)
		out->y[i] = labels[i][0] - 'A';
	lw_data_free_names(labels);
}

/* n rows whose classes follow props over cls (sampled without replacement per class). */
static void sample_classes(table *out, const table *src, const int *cls, const double *props, size_t k,
			   size_t n, lw_rng *rng)
{
	size_t *idx = malloc(n * sizeof(size_t)), m = 0;

	for (size_t c = 0; c < k; c++) {
		size_t want = (size_t)(props[c] * (double)n + 0.5), *pool = malloc(src->X.rows * sizeof(size_t)),
		       np = 0;

		for (size_t i = 0; i < src->X.rows; i++)
			if ((int)src->y[i] == cls[c])
				pool[np++] = i;
		shuffle(pool, np, rng);
		for (size_t i = 0; i < want && i < np && m < n; i++)
			idx[m++] = pool[i];
		free(pool);
	}
	shuffle(idx, m, rng);
	table_take(out, src, idx, m);
	free(idx);
}

static void distinct_classes(int *cls, size_t k, size_t n_classes, lw_rng *rng)
{
	size_t *all = iota(n_classes);

	shuffle(all, n_classes, rng);
	for (size_t i = 0; i < k; i++)
		cls[i] = (int)all[i];
	free(all);
}

/* --- the market --------------------------------------------------------------------------- */

static void write_text(const char *dir, const char *name, const char *text)
{
	char path[4300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "bench_reuse: cannot write %s\n", path);
		exit(1);
	}
}

static char *semantic_json(const task *t, const char *name, size_t dim)
{
	size_t cap = 8192, used;
	char *s = malloc(cap);

	used = (size_t)snprintf(s, cap,
				"{\"Data\":{\"Type\":\"Class\",\"Values\":[\"Table\"]},"
				"\"Task\":{\"Type\":\"Class\",\"Values\":[\"%s\"]},"
				"\"Library\":{\"Type\":\"Class\",\"Values\":[\"Others\"]},"
				"\"License\":{\"Type\":\"Class\",\"Values\":[\"MIT\"]},"
				"\"Scenario\":{\"Type\":\"Tag\",\"Values\":[\"Business\"]},"
				"\"Name\":{\"Type\":\"String\",\"Values\":\"%s\"},"
				"\"Description\":{\"Type\":\"String\",\"Values\":\"bench_reuse learnware %s\"},"
				"\"Input\":{\"Dimension\":%zu,\"Description\":{",
				t->classification ? "Classification" : "Regression", name, name, dim);
	for (size_t j = 0; j < dim; j++)
		used += (size_t)snprintf(s + used, cap - used, "%s\"%zu\":\"feature %zu\"", j ? "," : "", j, j);
	snprintf(s + used, cap - used, "}},\"Output\":{\"Dimension\":%zu,\"Description\":{\"0\":\"%s\"}}}",
		 t->classification ? t->n_classes : 1, t->classification ? "class" : "target");
	return s;
}

static lw_model *train(const task *t, const table *d, uint64_t seed, int small)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m = NULL;

	o.kind = LW_MODEL_XGBOOST;
	o.task = t->classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
	o.seed = seed;
	o.classes = t->classes;
	o.n_classes = t->classification ? t->n_classes : 0;
	o.rounds = t->classification ? 100 : 300;
	/* Tiny labelled sets: no hold-out to spare, a few rounds. */
	if (small) {
		o.holdout = d->X.rows >= 50 ? 0.2 : 0.0;
		if (o.holdout == 0.0) {
			o.early_stopping = 0;
			o.rounds = 50;
		}
	}
	if (lw_train(&m, NULL, &d->X, d->y, &o) < 0)
		die("train");
	return m;
}

/* Train, specify, describe, pack and check one learnware into the dock. */
static void add_learnware(lw_dock *dock, const task *t, const char *work, const char *name, const table *d,
			  uint64_t seed)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	char dir[4200], zip[4300], *json = NULL, *sem;
	lw_model *m = train(t, d, seed, 0);
	lw_rkme *r = NULL;
	lw_dock_added a;

	snprintf(dir, sizeof(dir), "%s/src-%llu", work, (unsigned long long)seed);
	mkdir(dir, 0755);
	snprintf(zip, sizeof(zip), "%s/model.json", dir);
	if (lw_model_save(m, zip) < 0)
		die("save model");
	lw_model_free(m);
	ro.seed = seed;
	if (lw_rkme_fit(&r, &d->X, &ro) < 0 || lw_rkme_to_json(&json, r) < 0)
		die("rkme");
	write_text(dir, "stat_spec.json", json);
	free(json);
	lw_rkme_free(r);
	sem = semantic_json(t, name, d->X.cols);
	write_text(dir, "semantic.json", sem);
	free(sem);
	snprintf(zip, sizeof(zip), "model:\n  kind: xgboost\n  file: model.json\n  input_shape: [%zu]\n"
		 "  output_shape: [%zu]\nsemantic_specification: semantic.json\n",
		 d->X.cols, t->classification ? t->n_classes : 1);
	write_text(dir, "learnware.yaml", zip);
	snprintf(zip, sizeof(zip), "%s.zip", dir);
	if (lw_package_pack(NULL, dir, zip, NULL) < 0)
		die("pack");
	if (lw_dock_add(&a, dock, zip, NULL, "bench") < 0 || a.status != LW_CHECK_USABLE) {
		fprintf(stderr, "%s", a.log ? a.log : "");
		die(name);
	}
	lw_dock_added_dispose(&a);
}

/* --- metrics ------------------------------------------------------------------------------ */

/* RMSE, or accuracy of class indices (from probabilities when Y has several columns). */
static double score(const task *t, const lw_mat *Y, const double *y)
{
	double s = 0;

	for (size_t i = 0; i < Y->rows; i++) {
		const double *row = lw_mat_row(Y, i);

		if (t->classification) {
			size_t best = 0;

			for (size_t j = 1; j < Y->cols; j++)
				if (row[j] > row[best])
					best = j;
			s += (Y->cols == 1 ? (size_t)llround(row[0]) : best) == (size_t)y[i];
		} else {
			s += (row[0] - y[i]) * (row[0] - y[i]);
		}
	}
	return t->classification ? s / (double)Y->rows : sqrt(s / (double)Y->rows);
}

static int better(const task *t, double a, double b)
{
	return t->classification ? a > b : a < b;
}

/* --- one user ------------------------------------------------------------------------------ */

typedef struct {
	lw_dock *dock;
	char (*ids)[16]; /* every learnware of the market */
	lw_model **models;
	lw_rkme **rkmes;
	size_t n;
} market;

static size_t market_find(const market *m, const char *id)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->ids[i], id))
			return i;
	fprintf(stderr, "bench_reuse: search returned unknown id %s\n", id);
	exit(1);
}

static void market_open(market *m, const char *dock_dir)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	lw_learnware_list l = { NULL, 0 };

	if (lw_dock_open(&m->dock, dock_dir, NULL) < 0 || lw_store_list(&l, lw_dock_store(m->dock), &f) < 0)
		die("open market");
	m->n = l.count;
	m->ids = calloc(l.count, sizeof(*m->ids));
	m->models = calloc(l.count, sizeof(*m->models));
	m->rkmes = calloc(l.count, sizeof(*m->rkmes));
	for (size_t i = 0; i < l.count; i++) {
		snprintf(m->ids[i], 16, "%s", l.items[i].id);
		if (lw_dock_model_open(&m->models[i], m->dock, m->ids[i]) < 0 ||
		    lw_dock_rkme(&m->rkmes[i], m->dock, m->ids[i]) < 0)
			die(m->ids[i]);
	}
	lw_learnware_list_dispose(&l);
}

static void market_close(market *m)
{
	for (size_t i = 0; i < m->n; i++) {
		lw_model_free(m->models[i]);
		lw_rkme_free(m->rkmes[i]);
	}
	free(m->models);
	free(m->rkmes);
	free(m->ids);
	lw_dock_free(m->dock);
}

static void members_of(lw_reuse_member *out, const market *m, const size_t *which, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		out[i].id = m->ids[which[i]];
		out[i].model = m->models[which[i]];
		out[i].rkme = m->rkmes[which[i]];
	}
}

static double reuse_score(const task *t, const market *m, const size_t *which, size_t n, lw_reuse_method method,
			  const table *fit, const table *eval, const lw_rkme *user_rkme, uint64_t seed)
{
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_reuse_member *mem = calloc(n, sizeof(*mem));
	lw_reuser *r = NULL;
	lw_mat Y;
	double s;

	members_of(mem, m, which, n);
	o.method = method;
	o.task = t->classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
	o.n_classes = t->n_classes;
	o.average = t->classification ? LW_AVERAGE_VOTE_PROB : LW_AVERAGE_MEAN;
	o.seed = seed;
	if (lw_reuser_fit(&r, mem, n, &fit->X, user_rkme, fit->y, &o) < 0 ||
	    lw_reuser_predict(&Y, r, mem, n, &eval->X) < 0)
		die("reuse");
	s = score(t, &Y, eval->y);
	lw_mat_dispose(&Y);
	lw_reuser_free(r);
	free(mem);
	return s;
}

/* Data-free figures for one user; the search results come back in top/mix. */
static void evaluate_free(double *res, size_t *cands, size_t *n_cands, const task *t, const market *m,
			  const table *user, uint64_t seed)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_dock_query q = LW_DOCK_QUERY_INIT;
	lw_dock_result sr;
	lw_rkme *urkme = NULL;
	size_t mix[64], n_mix = 0;
	double sum = 0, best = t->classification ? -1 : INFINITY;

	for (size_t i = 0; i < m->n; i++) {
		lw_mat Y;
		double s;

		if (lw_model_predict(&Y, m->models[i], &user->X) < 0)
			die(m->ids[i]);
		s = score(t, &Y, user->y);
		lw_mat_dispose(&Y);
		sum += s;
		if (better(t, s, best))
			best = s;
	}
	res[M_MEAN] = sum / (double)m->n;
	res[M_BEST] = best;
	/* The user's only message to the dock: the RKME of their rows. */
	ro.seed = seed;
	if (lw_rkme_fit(&urkme, &user->X, &ro) < 0)
		die("user rkme");
	q.rkme = urkme;
	q.max_results = 0;
	if (lw_dock_search(&sr, m->dock, &q) < 0 || sr.count == 0)
		die("search");
	size_t top = market_find(m, sr.hits[0].id);
	{
		lw_mat Y;

		if (lw_model_predict(&Y, m->models[top], &user->X) < 0)
			die("top-1");
		res[M_TOP1] = score(t, &Y, user->y);
		lw_mat_dispose(&Y);
	}
	for (size_t i = 0; i < sr.mixture_count && n_mix < 64; i++)
		mix[n_mix++] = market_find(m, sr.mixture[i].id);
	if (!n_mix)
		mix[n_mix++] = top;
	res[M_JOB] = reuse_score(t, m, mix, n_mix, LW_REUSE_JOB_SELECTOR, user, user, urkme, seed);
	res[M_AVG] = reuse_score(t, m, mix, n_mix, LW_REUSE_AVERAGE, user, user, urkme, seed);
	/* Labelled reusers draw on the best singles and the mixture. */
	*n_cands = 0;
	for (size_t i = 0; i < n_mix; i++)
		cands[(*n_cands)++] = mix[i];
	for (size_t i = 0; i < sr.count && *n_cands < t->max_candidates; i++) {
		size_t k = market_find(m, sr.hits[i].id), dup = 0;

		for (size_t j = 0; j < *n_cands; j++)
			dup |= cands[j] == k;
		if (!dup)
			cands[(*n_cands)++] = k;
	}
	lw_dock_result_dispose(&sr);
	lw_rkme_free(urkme);
}

/* With n labelled rows: own model, pruning, augmentation; the rest of the user's rows score. */
static int evaluate_labelled(double *res, const task *t, const market *m, const size_t *cands, size_t n_cands,
			     const table *user, size_t n, uint64_t seed)
{
	size_t *idx = iota(user->X.rows), rest;
	table lab, eval;
	lw_rng rng;
	lw_mat Y;

	/* Keep at least 100 rows (or a fifth) to score on. */
	if (n + (user->X.rows / 5 > 100 ? user->X.rows / 5 : 100) > user->X.rows) {
		free(idx);
		return 0;
	}
	lw_rng_seed(&rng, seed);
	shuffle(idx, user->X.rows, &rng);
	rest = user->X.rows - n;
	table_take(&lab, user, idx, n);
	table_take(&eval, user, idx + n, rest);
	if (t->classification) {
		/* A labelled set of one class trains no classifier: skip the draw. */
		int one = 1;

		for (size_t i = 1; i < n; i++)
			one &= lab.y[i] == lab.y[0];
		if (one) {
			table_dispose(&lab);
			table_dispose(&eval);
			free(idx);
			return 0;
		}
	}
	lw_model *own = train(t, &lab, seed, 1);
	if (lw_model_predict(&Y, own, &eval.X) < 0)
		die("own model");
	res[L_OWN] = score(t, &Y, eval.y);
	lw_mat_dispose(&Y);
	lw_model_free(own);
	res[L_PRUNE] = reuse_score(t, m, cands, n_cands, LW_REUSE_ENSEMBLE_PRUNING, &lab, &eval, NULL, seed);
	res[L_AUGMENT] = reuse_score(t, m, cands, n_cands, LW_REUSE_FEATURE_AUGMENT, &lab, &eval, NULL, seed);
	table_dispose(&lab);
	table_dispose(&eval);
	free(idx);
	return 1;
}

/* --- driving a task ------------------------------------------------------------------------ */

static void run_users(task *t, const market *m, const table *users, const char *const *user_names)
{
	t->free_res = calloc(t->n_users, sizeof(*t->free_res));
	t->lab_mean = calloc(t->n_users, sizeof(*t->lab_mean));
	t->lab_done = calloc(t->n_users, sizeof(*t->lab_done));
	for (size_t u = 0; u < t->n_users; u++) {
		size_t cands[64], nc = 0;
		double t0 = now();

		evaluate_free(t->free_res[u], cands, &nc, t, m, &users[u], 7 + u);
		for (size_t s = 0; s < MAX_LABELLED; s++) {
			double sum[L_N] = { 0 }, one[L_N];
			size_t done = 0;

			for (size_t r = 0; r < t->repeats; r++)
				if (evaluate_labelled(one, t, m, cands, nc, &users[u], labelled_sizes[s],
						      1000 * (u + 1) + 10 * s + r)) {
					for (int k = 0; k < L_N; k++)
						sum[k] += one[k];
					done++;
				}
			t->lab_done[u][s] = (int)done;
			for (int k = 0; k < L_N; k++)
				t->lab_mean[u][s][k] = done ? sum[k] / (double)done : NAN;
		}
		fprintf(stderr, "  %s user %-12s (%zu rows): %.1f s\n", t->task_name, user_names[u],
			users[u].X.rows, now() - t0);
	}
}

static void print_tables(const task *t, const char *const *user_names)
{
	const char *unit = t->classification ? "accuracy, higher is better" : "RMSE, lower is better";
	double avg[M_FREE] = { 0 };

	printf("\n%s: data-free reuse per user (%s)\n", t->task_name, unit);
	printf("%-14s", "user");
	for (int k = 0; k < M_FREE; k++)
		printf(" %15s", free_names[k]);
	printf("\n");
	for (size_t u = 0; u < t->n_users; u++) {
		printf("%-14s", user_names[u]);
		for (int k = 0; k < M_FREE; k++) {
			printf(" %15.4g", t->free_res[u][k]);
			avg[k] += t->free_res[u][k] / (double)t->n_users;
		}
		printf("\n");
	}
	printf("%-14s", "mean");
	for (int k = 0; k < M_FREE; k++)
		printf(" %15.4g", avg[k]);
	printf("\nTop-1 recovers %.0f%% of the gap between mean and best in market; the best data-free "
	       "reuser is %s best in market on average.\n",
	       100.0 * (avg[M_MEAN] - avg[M_TOP1]) / (avg[M_MEAN] - avg[M_BEST]),
	       better(t, avg[M_JOB], avg[M_BEST]) || better(t, avg[M_AVG], avg[M_BEST]) ||
			       avg[M_JOB] == avg[M_BEST] || avg[M_AVG] == avg[M_BEST]
		       ? "at least as good as"
		       : "behind");

	printf("\n%s: with labelled user rows (mean over users of the mean over %zu draws; "
	       "+- the standard deviation across users)\n", t->task_name, t->repeats);
	printf("%-8s %-6s", "labels", "users");
	for (int k = 0; k < L_N; k++)
		printf(" %24s", lab_names[k]);
	printf("\n");
	for (size_t s = 0; s < MAX_LABELLED; s++) {
		double mean[L_N] = { 0 }, sq[L_N] = { 0 };
		size_t n = 0;

		for (size_t u = 0; u < t->n_users; u++) {
			if (!t->lab_done[u][s])
				continue;
			n++;
			for (int k = 0; k < L_N; k++) {
				mean[k] += t->lab_mean[u][s][k];
				sq[k] += t->lab_mean[u][s][k] * t->lab_mean[u][s][k];
			}
		}
		printf("%-8zu %-6zu", labelled_sizes[s], n);
		for (int k = 0; k < L_N; k++) {
			double mu = n ? mean[k] / (double)n : NAN;
			double sd = n > 1 ? sqrt(fmax(0, sq[k] / (double)n - mu * mu)) : 0;

			printf("     %9.4g +- %-9.3g", mu, sd);
		}
		printf("\n");
	}
}

/* The labelled-data curves, plus the best data-free reuser as a level. */
static void write_svg(const task *t, const char *path)
{
	const double W = 640, H = 400, L = 70, R = 190, T = 30, B = 50;
	const char *colors[L_N] = { "#444444", "#d95f02", "#1b9e77" };
	double curve[L_N][MAX_LABELLED], lo = INFINITY, hi = -INFINITY, free_best = 0;
	int have[MAX_LABELLED] = { 0 };
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bench_reuse: cannot write %s\n", path);
		return;
	}
	for (size_t u = 0; u < t->n_users; u++)
		free_best += better(t, t->free_res[u][M_JOB], t->free_res[u][M_AVG]) ? t->free_res[u][M_JOB]
										 : t->free_res[u][M_AVG];
	free_best /= (double)t->n_users;
	for (size_t s = 0; s < MAX_LABELLED; s++)
		for (int k = 0; k < L_N; k++) {
			double sum = 0;
			size_t n = 0;

			for (size_t u = 0; u < t->n_users; u++)
				if (t->lab_done[u][s]) {
					sum += t->lab_mean[u][s][k];
					n++;
				}
			curve[k][s] = n ? sum / (double)n : NAN;
			if (n) {
				have[s] = 1;
				lo = fmin(lo, curve[k][s]);
				hi = fmax(hi, curve[k][s]);
			}
		}
	lo = fmin(lo, free_best);
	hi = fmax(hi, free_best);
	if (!(hi > lo)) {
		hi = lo + 1;
	}
	double pad = 0.05 * (hi - lo);
	lo -= pad;
	hi += pad;
#define XS(s) (L + (W - L - R) * (log10((double)labelled_sizes[s]) - 1.0) / 2.0)
#define YS(v) (T + (H - T - B) * (hi - (v)) / (hi - lo))
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		W, H);
	fprintf(f, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">%s: %s against labelled user rows</text>\n", L,
		t->task_name, t->classification ? "accuracy" : "RMSE");
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, T, L, H - B);
	for (size_t s = 0; s < MAX_LABELLED; s++)
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%zu</text>\n", XS(s), H - B + 18,
			labelled_sizes[s]);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">labelled rows (log scale)</text>\n",
		(L + W - R) / 2, H - 12);
	for (int i = 0; i <= 4; i++) {
		double v = lo + (hi - lo) * i / 4.0;

		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", L - 6, YS(v) + 4, v);
	}
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#7570b3\" stroke-dasharray=\"6,4\"/>\n",
		L, YS(free_best), W - R, YS(free_best));
	fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" fill=\"#7570b3\">best data-free reuser</text>\n", W - R + 8,
		YS(free_best) + 4);
	for (int k = 0; k < L_N; k++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[k]);
		for (size_t s = 0; s < MAX_LABELLED; s++)
			if (have[s] && isfinite(curve[k][s]))
				fprintf(f, "%.1f,%.1f ", XS(s), YS(curve[k][s]));
		fprintf(f, "\"/>\n");
		for (size_t s = 0; s < MAX_LABELLED; s++)
			if (have[s] && isfinite(curve[k][s]))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", XS(s),
					YS(curve[k][s]), colors[k]);
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n", W - R + 8, T + 20.0 + 18.0 * k,
			colors[k], lab_names[k]);
	}
	fprintf(f, "</svg>\n");
	fclose(f);
#undef XS
#undef YS
}

/* --- main ----------------------------------------------------------------------------------- */

static void regression(const char *shared, const char *work, const char *out_dir, int quick)
{
	task t = { "regression (diamonds, cut x colour)", 0, 0, NULL, quick ? 1 : 3, 8, 0, NULL, NULL, NULL };
	char path[4200], dock_dir[4200], svg[4200];
	group *g;
	size_t ng = read_diamonds(&g, (snprintf(path, sizeof(path), "%s/data/diamonds.csv", shared), path), 1);
	table *users = calloc(ng, sizeof(*users));
	const char **names = calloc(ng, sizeof(char *));
	lw_dock *dock = NULL;
	market m = { 0 };
	double t0 = now();

	snprintf(dock_dir, sizeof(dock_dir), "%s/diamonds-dock", work);
	if (lw_dock_open(&dock, dock_dir, NULL) < 0)
		die("dock");
	for (size_t i = 0; i < ng; i++)
		add_learnware(dock, &t, work, g[i].name, &g[i].train, 100 + i);
	lw_dock_free(dock);
	fprintf(stderr, "bench_reuse: %zu diamonds learnwares in %.1f s\n", ng, now() - t0);
	market_open(&m, dock_dir);
	/* --quick: every fourth group, so small and large users both appear. */
	for (size_t i = 0; i < ng; i += quick ? 4 : 1) {
		users[t.n_users] = g[i].test;
		names[t.n_users++] = g[i].name;
	}
	run_users(&t, &m, users, names);
	print_tables(&t, names);
	snprintf(svg, sizeof(svg), "%s/reuse-regression.svg", out_dir);
	write_svg(&t, svg);
	printf("curves: %s\n", svg);
	market_close(&m);
	for (size_t i = 0; i < ng; i++) {
		table_dispose(&g[i].train);
		table_dispose(&g[i].test);
	}
	free(g);
	free(users);
	free(names);
	free(t.free_res);
	free(t.lab_mean);
	free(t.lab_done);
}

static void classification(const char *shared, const char *work, const char *out_dir, int quick)
{
	static char class_names[26][2];
	static const char *classes[26];
	static const double lw_props[4] = { 0.4, 0.4, 0.1, 0.1 };
	static const double user_props[6] = { 0.3, 0.3, 0.1, 0.1, 0.1, 0.1 };
	size_t n_lw = quick ? 12 : 30, n_users = quick ? 6 : 12;
	task t = { "classification (letter, partial label spaces)", 1, 26, classes, quick ? 1 : 2, 4, n_users,
		   NULL, NULL, NULL };
	char path[4200], dock_dir[4200], svg[4200], (*names)[32] = calloc(n_users, sizeof(*names));
	const char **name_ptr = calloc(n_users, sizeof(char *));
	table all, train_part, test_part, *users = calloc(n_users, sizeof(*users));
	size_t *idx, ntrain;
	lw_dock *dock = NULL;
	market m = { 0 };
	lw_rng rng;
	double t0 = now();

	for (int c = 0; c < 26; c++) {
		class_names[c][0] = (char)('A' + c);
		classes[c] = class_names[c];
	}
	snprintf(path, sizeof(path), "%s/data/letter.csv", shared);
	read_letter(&all, path);
	lw_rng_seed(&rng, 2);
	idx = iota(all.X.rows);
	shuffle(idx, all.X.rows, &rng);
	ntrain = all.X.rows * 4 / 5;
	table_take(&train_part, &all, idx, ntrain);
	table_take(&test_part, &all, idx + ntrain, all.X.rows - ntrain);
	snprintf(dock_dir, sizeof(dock_dir), "%s/letter-dock", work);
	if (lw_dock_open(&dock, dock_dir, NULL) < 0)
		die("dock");
	for (size_t i = 0; i < n_lw; i++) {
		int cls[4];
		table d;
		char name[64];

		distinct_classes(cls, 4, 26, &rng);
		sample_classes(&d, &train_part, cls, lw_props, 4, 1000, &rng);
		snprintf(name, sizeof(name), "letters %c%c%c%c", 'A' + cls[0], 'A' + cls[1], 'A' + cls[2],
			 'A' + cls[3]);
		add_learnware(dock, &t, work, name, &d, 500 + i);
		table_dispose(&d);
	}
	lw_dock_free(dock);
	fprintf(stderr, "bench_reuse: %zu letter learnwares in %.1f s\n", n_lw, now() - t0);
	for (size_t u = 0; u < n_users; u++) {
		int cls[6];

		distinct_classes(cls, 6, 26, &rng);
		sample_classes(&users[u], &test_part, cls, user_props, 6, 600, &rng);
		snprintf(names[u], sizeof(names[u]), "%c%c%c%c%c%c", 'A' + cls[0], 'A' + cls[1], 'A' + cls[2],
			 'A' + cls[3], 'A' + cls[4], 'A' + cls[5]);
		name_ptr[u] = names[u];
	}
	market_open(&m, dock_dir);
	run_users(&t, &m, users, name_ptr);
	print_tables(&t, name_ptr);
	snprintf(svg, sizeof(svg), "%s/reuse-classification.svg", out_dir);
	write_svg(&t, svg);
	printf("curves: %s\n", svg);
	market_close(&m);
	for (size_t u = 0; u < n_users; u++)
		table_dispose(&users[u]);
	table_dispose(&all);
	table_dispose(&train_part);
	table_dispose(&test_part);
	free(users);
	free(idx);
	free(names);
	free(name_ptr);
	free(t.free_res);
	free(t.lab_mean);
	free(t.lab_done);
}

int main(int argc, char **argv)
{
	const char *shared = getenv("LW_SHARED_DIR"), *out_dir = ".";
	char work[] = "/tmp/bench_reuse.XXXXXX", cmd[4200];
	int quick = 0;
	double t0 = now();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out_dir = argv[++i];
	}
	if (!shared) {
		fprintf(stderr, "bench_reuse: set LW_SHARED_DIR to the shared folder (scripts/bench.sh does)\n");
		return 2;
	}
	/* The checker's sandbox reads packages from here: keep it traversable. */
	if (!mkdtemp(work) || chmod(work, 0755) != 0)
		return 1;
	printf("bench_reuse: the paper's protocols on %s/data%s\n", shared, quick ? " (--quick: fewer users and draws)" : "");
	regression(shared, work, out_dir, quick);
	classification(shared, work, out_dir, quick);
	printf("\nbench_reuse: %.0f s in all\n", now() - t0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", work);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_reuse: could not remove %s\n", work);
	return 0;
}
