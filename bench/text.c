/*
 * bench/text: the learnware paper's text experiment (its 20-newsgroups
 * protocol) on Debian's package descriptions.
 *
 * The 55 Debian sections (less metapackages, tasks and zope, which describe
 * no software of their own) are grouped into five superclasses, as the
 * paper groups the 20 newsgroups into five; the label is the section.
 * Packages are split into training and test rows by family
 * (tools/text_family.h: a fifth of the families are test rows), so that
 * libfoo1 and libfoo-dev never straddle the split.  Each learnware is
 * trained on a random half of the training rows of three superclasses
 * (capped, see the printed parameters): logistic regression on
 * lw_text_encode rows, and lw_text_spec_fit as its specification.  Each
 * user holds test rows of two superclasses: 10 users, one per pair, as the
 * paper's.  Search: the language filter, then lw_stat_search on the specs'
 * RKMEs.  Reported as bench_image: mean and best in market, Top-1, job
 * selector, averaging; then the user's own model against ensemble pruning
 * and feature augmentation with n labelled rows.
 *
 * Usage: bench_text [--quick] [--augment] [--out DIR] [--learnwares N]
 *                   [--per-learnware N] [--per-user N] [--curve-users N]
 * The corpus is $LW_SHARED_DIR/data/debian_descriptions.csv.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/text_family.h"
#include "evalkit.h"
#include "lw.h"

#define N_SUPER 5
#define LW_SUPER 3
#define USER_SUPER 2
#define MAX_SECTIONS 64
/* Candidates the labelled reusers draw on: the mixture, then the nearest. */
#define MAX_CANDIDATES 6

/* Superclass of each section; sections not listed are left out. */
static const struct {
	const char *name;
	const char *sections[24];
} supers[N_SUPER] = {
	{ "libraries", { "libs", "libdevel", "oldlibs", "introspection", "debug" } },
	{ "programming languages",
	  { "python", "perl", "haskell", "rust", "golang", "javascript", "java", "ruby", "gnu-r", "php",
	    "ocaml", "lisp", "cli-mono", "interpreters" } },
	{ "documents and fonts", { "doc", "text", "tex", "fonts", "localization", "editors" } },
	{ "desktop and media",
	  { "x11", "gnome", "kde", "xfce", "gnustep", "graphics", "sound", "video", "games" } },
	{ "system, network and science",
	  { "admin", "utils", "devel", "vcs", "shells", "otherosfs", "kernel", "embedded", "database",
	    "misc", "net", "web", "httpd", "mail", "comm", "hamradio", "news", "science", "math",
	    "electronics", "education" } },
};

typedef struct {
	size_t learnwares, per_lw, per_user, curve_users, repeats, max_iter;
	int augment;
	size_t sizes[EK_MAX_SIZES], n_sizes;
	int quick;
	const char *out;
} params;

/* The corpus: every kept row's text, embedding, label and superclass. */
typedef struct {
	char **texts, **sections, **packages;
	size_t n_read;
	size_t n;        /* kept rows */
	size_t *row;     /* kept row -> row read */
	double *label;   /* section index */
	int *super, *test;
	lw_mat emb;      /* n x 256 */
	const char *names[MAX_SECTIONS + 1];
	size_t n_classes;
} corpus;

typedef struct {
	char id[32];
	size_t supers[LW_SUPER];
	lw_model *model;
	lw_text_spec *spec;
} learnware;

/* A user's or a learnware's rows: positions in the corpus. */
typedef struct {
	size_t *idx, n;
	lw_mat X;
	double *y;
} rowset;

/* ---- the corpus ------------------------------------------------------------------------ */

static void read_column(char ***out, size_t *n, const char *path, const char *column)
{
	char what[4300];

	snprintf(what, sizeof(what), "%s, column %s", path, column);
	if (lw_text_read(out, n, path, column) < 0)
		ek_die(what);
}

static int section_super(const char *section)
{
	for (int s = 0; s < N_SUPER; s++)
		for (size_t i = 0; supers[s].sections[i]; i++)
			if (!strcmp(section, supers[s].sections[i]))
				return s;
	return -1;
}

static size_t section_index(corpus *c, const char *section)
{
	for (size_t i = 0; i < c->n_classes; i++)
		if (!strcmp(c->names[i], section))
			return i;
	c->names[c->n_classes] = section;
	return c->n_classes++;
}

static void read_corpus(corpus *c, const char *shared)
{
	char path[4200];
	size_t n_sec, n_pkg;
	const char **kept;
	double t0 = ek_now();

	memset(c, 0, sizeof(*c));
	snprintf(path, sizeof(path), "%s/data/debian_descriptions.csv", shared);
	read_column(&c->texts, &c->n_read, path, "text");
	read_column(&c->sections, &n_sec, path, "section");
	read_column(&c->packages, &n_pkg, path, "package");
	if (n_sec != c->n_read || n_pkg != c->n_read) {
		fprintf(stderr, "bench_text: %s: %zu texts, %zu sections and %zu packages: a cell is empty\n",
			path, c->n_read, n_sec, n_pkg);
		exit(1);
	}
	c->row = ek_alloc(c->n_read, sizeof(size_t));
	c->label = ek_alloc(c->n_read, sizeof(double));
	c->super = ek_alloc(c->n_read, sizeof(int));
	c->test = ek_alloc(c->n_read, sizeof(int));
	kept = ek_alloc(c->n_read, sizeof(char *));
	for (size_t i = 0; i < c->n_read; i++) {
		int s = section_super(c->sections[i]);

		if (s < 0)
			continue;
		c->row[c->n] = i;
		c->super[c->n] = s;
		c->label[c->n] = (double)section_index(c, c->sections[i]);
		c->test[c->n] = lw_text_family_heldout(c->packages[i]);
		kept[c->n++] = c->texts[i];
	}
	if (lw_text_encode(&c->emb, NULL, kept, NULL, c->n) < 0)
		ek_die("encode");
	free(kept);
	printf("corpus: %zu of %zu descriptions in %zu sections, encoded in %.0f s\n", c->n, c->n_read,
	       c->n_classes, ek_now() - t0);
}

static void corpus_dispose(corpus *c)
{
	lw_text_free_list(c->texts, c->n_read);
	lw_text_free_list(c->sections, c->n_read);
	lw_text_free_list(c->packages, c->n_read);
	free(c->row);
	free(c->label);
	free(c->super);
	free(c->test);
	lw_mat_dispose(&c->emb);
}

static int has_super(const size_t *s, size_t k, int super)
{
	for (size_t i = 0; i < k; i++)
		if ((int)s[i] == super)
			return 1;
	return 0;
}

/* Rows of split `test` whose superclass is one of s[0..k), each kept with probability frac, at most cap. */
static void draw_rows(rowset *r, const corpus *c, int test, const size_t *s, size_t k, double frac,
		      size_t cap, lw_rng *rng)
{
	size_t *pool = ek_alloc(c->n, sizeof(size_t)), m = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->test[i] == test && has_super(s, k, c->super[i]) && lw_rng_uniform(rng) < frac)
			pool[m++] = i;
	ek_shuffle(pool, m, rng);
	r->n = m < cap ? m : cap;
	r->idx = pool;
	if (lw_mat_take_rows(&r->X, &c->emb, pool, r->n) < 0)
		ek_die("rows");
	r->y = ek_alloc(r->n, sizeof(double));
	for (size_t i = 0; i < r->n; i++)
		r->y[i] = c->label[pool[i]];
}

static void rowset_dispose(rowset *r)
{
	free(r->idx);
	free(r->y);
	lw_mat_dispose(&r->X);
}

static const char **texts_of(const corpus *c, const rowset *r)
{
	const char **t = ek_alloc(r->n, sizeof(char *));

	for (size_t i = 0; i < r->n; i++)
		t[i] = c->texts[c->row[r->idx[i]]];
	return t;
}

/* ---- models and specifications --------------------------------------------------------- */

static lw_model *train_logistic(const corpus *c, const lw_mat *X, const double *y, const params *p,
				uint64_t seed)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m = NULL;

	o.kind = LW_MODEL_LOGISTIC;
	o.task = LW_TASK_CLASSIFICATION;
	o.classes = c->names;
	o.n_classes = c->n_classes;
	o.seed = seed;
	o.holdout = 0;
	o.max_iter = (unsigned int)p->max_iter;
	if (lw_train(&m, NULL, X, y, &o) < 0)
		ek_die("train");
	return m;
}

static lw_text_spec *fit_spec(const corpus *c, const rowset *r, uint64_t seed)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	const char **t = texts_of(c, r);
	lw_text_spec *s = NULL;

	o.seed = seed;
	if (lw_text_spec_fit(&s, NULL, t, NULL, r->n, &o) < 0)
		ek_die("text specification");
	free(t);
	return s;
}

/* Every 3-superclass combination, `per` learnwares each on their own random half. */
static learnware *build_market(size_t *n_out, const corpus *c, const params *p, lw_rng *rng)
{
	size_t combos[16][LW_SUPER], nc = 0, n = p->learnwares;
	learnware *lw = ek_alloc(n, sizeof(learnware));
	double t0 = ek_now();

	for (size_t a = 0; a < N_SUPER; a++)
		for (size_t b = a + 1; b < N_SUPER; b++)
			for (size_t d = b + 1; d < N_SUPER; d++) {
				combos[nc][0] = a;
				combos[nc][1] = b;
				combos[nc++][2] = d;
			}
	for (size_t i = 0; i < n; i++) {
		learnware *l = &lw[i];
		rowset r;

		snprintf(l->id, sizeof(l->id), "lw%02zu", i);
		memcpy(l->supers, combos[i % nc], sizeof(l->supers));
		draw_rows(&r, c, 0, l->supers, LW_SUPER, 0.5, p->per_lw, rng);
		l->model = train_logistic(c, &r.X, r.y, p, 100 + i);
		l->spec = fit_spec(c, &r, 100 + i);
		rowset_dispose(&r);
		fprintf(stderr, "\r  learnware %zu/%zu (%.0f s)", i + 1, n, ek_now() - t0);
	}
	fprintf(stderr, "\n");
	printf("market: %zu learnwares in %.0f s\n", n, ek_now() - t0);
	*n_out = n;
	return lw;
}

/* ---- one user -------------------------------------------------------------------------- */

static double reuse(const learnware *lw, const size_t *which, size_t n, lw_reuse_method method,
		    const corpus *c, const lw_mat *Xf, const double *yf, const lw_rkme *urkme,
		    const lw_mat *Xe, const double *ye, uint64_t seed)
{
	lw_reuse_options o;
	lw_reuse_member mem[MAX_CANDIDATES];

	for (size_t i = 0; i < n; i++) {
		mem[i].id = lw[which[i]].id;
		mem[i].model = lw[which[i]].model;
		mem[i].rkme = lw[which[i]].spec->rkme;
	}
	ek_reuse_options(&o, method, c->n_classes, seed);
	return ek_reuse_accuracy(mem, n, &o, Xf, yf, urkme, Xe, ye);
}

/* The language filter, then the statistical search; indices are market positions. */
static void search(lw_stat_search_result *res, double *dist, const learnware *lw, size_t n,
		   const lw_text_spec *user)
{
	const lw_rkme **cand = ek_alloc(n, sizeof(lw_rkme *));
	size_t *pos = ek_alloc(n, sizeof(size_t)), m = 0;

	for (size_t i = 0; i < n; i++) {
		dist[i] = INFINITY;
		if (lw_text_languages_subset(&user->language, &lw[i].spec->language)) {
			pos[m] = i;
			cand[m++] = lw[i].spec->rkme;
		}
	}
	if (m == 0 || lw_stat_search(res, user->rkme, cand, m, NULL) < 0 || res->n_singles == 0)
		ek_die("search");
	for (size_t i = 0; i < res->n_singles; i++)
		res->singles[i].index = pos[res->singles[i].index];
	for (size_t i = 0; i < res->mixture.count; i++)
		res->mixture.indices[i] = pos[res->mixture.indices[i]];
	for (size_t i = 0; i < m; i++)
		if (lw_text_spec_dist(&dist[pos[i]], user, lw[pos[i]].spec) < 0)
			ek_die("distance");
	free(cand);
	free(pos);
}

static const double *sort_key;
static int by_key(const void *a, const void *b)
{
	double x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];

	return (x > y) - (x < y);
}

static void evaluate_free(double *res, size_t *cand, size_t *n_cand, int *top1_best, const learnware *lw,
			  size_t n, const corpus *c, const rowset *u, const lw_text_spec *uspec,
			  uint64_t seed)
{
	lw_stat_search_result r;
	double *acc = ek_alloc(n, sizeof(double)), *dist = ek_alloc(n, sizeof(double)), best = 0, sum = 0;
	size_t mix[MAX_CANDIDATES], n_mix = 0, *near = ek_iota(n);

	for (size_t i = 0; i < n; i++) {
		acc[i] = ek_model_accuracy(lw[i].model, &u->X, u->y);
		sum += acc[i];
		best = fmax(best, acc[i]);
	}
	res[EK_MEAN] = sum / (double)n;
	res[EK_BEST] = best;
	search(&r, dist, lw, n, uspec);
	res[EK_TOP1] = acc[r.singles[0].index];
	*top1_best = res[EK_TOP1] == best;
	for (size_t i = 0; i < r.mixture.count && n_mix < MAX_CANDIDATES; i++)
		mix[n_mix++] = r.mixture.indices[i];
	for (size_t i = 0; !r.mixture.count && i < r.n_singles && n_mix < 3; i++)
		mix[n_mix++] = r.singles[i].index;
	res[EK_JOB] = reuse(lw, mix, n_mix, LW_REUSE_JOB_SELECTOR, c, &u->X, NULL, uspec->rkme, &u->X, u->y,
			    seed);
	res[EK_AVG] = reuse(lw, mix, n_mix, LW_REUSE_AVERAGE, c, &u->X, NULL, uspec->rkme, &u->X, u->y, seed);
	sort_key = dist;
	qsort(near, n, sizeof(size_t), by_key);
	*n_cand = n_mix;
	memcpy(cand, mix, n_mix * sizeof(size_t));
	for (size_t i = 0; i < n && *n_cand < MAX_CANDIDATES; i++) {
		int dup = 0;

		for (size_t j = 0; j < *n_cand; j++)
			dup |= cand[j] == near[i];
		if (!dup && isfinite(dist[near[i]]))
			cand[(*n_cand)++] = near[i];
	}
	lw_stat_search_result_dispose(&r);
	free(near);
	free(dist);
	free(acc);
}

/* Rows idx[0..n) of u. */
static void take(lw_mat *X, double **y, const rowset *u, const size_t *idx, size_t n)
{
	if (lw_mat_take_rows(X, &u->X, idx, n) < 0)
		ek_die("rows");
	*y = ek_alloc(n, sizeof(double));
	for (size_t i = 0; i < n; i++)
		(*y)[i] = u->y[idx[i]];
}

/* n labelled rows, r draws: own model, pruning, augmentation, scored on the other rows. */
static void evaluate_labelled(double *res, const learnware *lw, const size_t *cand, size_t n_cand,
			      const corpus *c, const rowset *u, size_t n, const params *p, uint64_t seed)
{
	double sum[EK_LAB] = { 0 };
	size_t done = 0;

	for (size_t r = 0; r < p->repeats; r++) {
		size_t *idx = ek_iota(u->n);
		lw_mat Xl, Xe;
		double *yl, *ye;
		lw_rng rng;
		int classes = 0;

		lw_rng_seed(&rng, seed + r);
		ek_shuffle(idx, u->n, &rng);
		take(&Xl, &yl, u, idx, n);
		take(&Xe, &ye, u, idx + n, u->n - n);
		for (size_t i = 1; i < n; i++)
			classes |= yl[i] != yl[0];
		if (classes) {
			lw_model *own = train_logistic(c, &Xl, yl, p, seed + r);

			sum[EK_OWN] += ek_model_accuracy(own, &Xe, ye);
			lw_model_free(own);
			sum[EK_PRUNE] += reuse(lw, cand, n_cand, LW_REUSE_ENSEMBLE_PRUNING, c, &Xl, yl, NULL,
					       &Xe, ye, seed + r);
			sum[EK_AUGMENT] += p->augment ? reuse(lw, cand, n_cand, LW_REUSE_FEATURE_AUGMENT, c,
							      &Xl, yl, NULL, &Xe, ye, seed + r)
						      : NAN;
			done++;
		}
		lw_mat_dispose(&Xl);
		lw_mat_dispose(&Xe);
		free(yl);
		free(ye);
		free(idx);
	}
	for (int k = 0; k < EK_LAB; k++)
		res[k] = done ? sum[k] / (double)done : NAN;
}

/* ---- main ------------------------------------------------------------------------------ */

static void parse(params *p, int argc, char **argv)
{
	static const size_t sizes[] = { 10, 30, 100, 300, 1000 };


	memset(p, 0, sizeof(*p));
	p->out = "build/bench-out";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			p->quick = 1;
		if (!strcmp(argv[i], "--augment"))
			p->augment = 1;
	}
	p->learnwares = p->quick ? 10 : 50;
	p->per_lw = p->quick ? 1000 : 2000;
	p->per_user = p->quick ? 1000 : 2000;
	p->curve_users = p->quick ? 2 : 5;
	p->repeats = 1;
	p->max_iter = 200;
	p->n_sizes = p->quick ? 4 : 5;
	memcpy(p->sizes, sizes, sizeof(sizes));
	for (int i = 1; i + 1 < argc; i++) {
		size_t *v = !strcmp(argv[i], "--learnwares")      ? &p->learnwares
			    : !strcmp(argv[i], "--per-learnware") ? &p->per_lw
			    : !strcmp(argv[i], "--per-user")      ? &p->per_user
			    : !strcmp(argv[i], "--curve-users")   ? &p->curve_users
								  : NULL;

		if (!strcmp(argv[i], "--out"))
			p->out = argv[++i];
		else if (v)
			*v = (size_t)strtoul(argv[++i], NULL, 10);
	}
	if (p->learnwares < 2 || p->per_lw < 50 || p->per_user < 200) {
		fprintf(stderr, "bench_text: need 2 learnwares of 50 rows and users of 200 rows at least\n");
		exit(2);
	}
}

static void print_params(const params *p)
{
	printf("bench_text: the learnware paper's text protocol on Debian's package descriptions%s\n",
	       p->quick ? " (--quick)" : "");
	printf("  superclasses (label: the section):\n");
	for (int s = 0; s < N_SUPER; s++) {
		printf("    %-28s", supers[s].name);
		for (size_t i = 0; supers[s].sections[i]; i++)
			printf("%s%s", i ? " " : "", supers[s].sections[i]);
		printf("\n");
	}
	printf("  left out: metapackages, tasks, zope; split by package family, a fifth to test\n");
	printf("  %zu learnwares, each on a random half of the training rows of 3 superclasses, at most "
	       "%zu rows (the paper: 50 learnwares on 20-newsgroups)\n", p->learnwares, p->per_lw);
	printf("  model: logistic regression (at most %zu L-BFGS iterations) on lw_text_encode rows; "
	       "specification: lw_text_spec_fit (K 100, gamma 0.1)\n", p->max_iter);
	printf("  10 users, one per pair of superclasses, at most %zu test rows each; search: language "
	       "filter, then lw_stat_search (greedy mixture of up to 5)\n", p->per_user);
	printf("  job selector and averaging (vote by probability) over the mixture, or the single "
	       "results without one; selector: %d herded rows, at most %d rounds at %g\n", EK_HERDING,
	       EK_SELECTOR_ROUNDS, EK_SELECTOR_ETA);
	printf("  labelled curves: %zu users, n in {", p->curve_users);
	for (size_t s = 0; s < p->n_sizes; s++)
		printf("%s%zu", s ? ", " : "", p->sizes[s]);
	printf("}, %zu draws each, reusing up to %d candidates (mixture, then nearest)\n", p->repeats,
	       MAX_CANDIDATES);
	if (!p->augment)
		printf("  feature augmentation not run (--augment runs it): its 50 cross-validated logistic "
		       "fits on 256 + 55 m columns and 55 classes take minutes per point\n");
}

int main(int argc, char **argv)
{
	const char *shared = getenv("LW_SHARED_DIR");
	params p;
	corpus c;
	learnware *lw;
	ek_results res;
	lw_rng rng;
	size_t n_lw, u = 0, n_best = 0;
	double t0 = ek_now();

	ek_prog = "bench_text";
	ek_calm_threads(argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!shared) {
		fprintf(stderr, "bench_text: set LW_SHARED_DIR to the shared folder (scripts/bench.sh does)\n");
		return 2;
	}
	parse(&p, argc, argv);
	print_params(&p);
	read_corpus(&c, shared);
	lw_rng_seed(&rng, 11);
	lw = build_market(&n_lw, &c, &p, &rng);
	ek_results_init(&res, N_SUPER * (N_SUPER - 1) / 2, p.sizes, p.n_sizes);
	res.name = "text";
	res.title = "Debian descriptions";
	res.anchor_name = "20-newsgroups, 10 users, 50 learnwares (learnware-engine.md)";
	res.anchor[EK_MEAN] = 0.507;
	res.anchor[EK_BEST] = 0.859;
	res.anchor[EK_TOP1] = 0.846;
	res.anchor[EK_JOB] = 0.845;
	res.anchor[EK_AVG] = 0.862;
	for (size_t a = 0; a < N_SUPER; a++)
		for (size_t b = a + 1; b < N_SUPER; b++, u++) {
			size_t s[USER_SUPER] = { a, b }, cand[MAX_CANDIDATES], nc = 0;
			int top1_best;
			rowset us;
			lw_text_spec *spec;
			double tu = ek_now();

			draw_rows(&us, &c, 1, s, USER_SUPER, 1.0, p.per_user, &rng);
			spec = fit_spec(&c, &us, 5000 + u);
			evaluate_free(res.free_res[u], cand, &nc, &top1_best, lw, n_lw, &c, &us, spec, 5000 + u);
			n_best += top1_best;
			for (size_t k = 0; u < p.curve_users && k < p.n_sizes; k++)
				if (p.sizes[k] + 200 <= us.n)
					evaluate_labelled(res.lab[u][k], lw, cand, nc, &c, &us, p.sizes[k], &p,
							  1000 * (u + 1) + 10 * k);
			printf("  user %zu (%s + %s, %zu rows): Top-1 %.3f, best %.3f (%.0f s)\n", u,
			       supers[a].name, supers[b].name, us.n, res.free_res[u][EK_TOP1],
			       res.free_res[u][EK_BEST], ek_now() - tu);
			lw_text_spec_free(spec);
			rowset_dispose(&us);
		}
	printf("Top-1 is the best in market for %zu of %zu users\n", n_best, res.n_users);
	ek_print(&res);
	ek_write(&res, p.out);
	printf("\nbench_text: %.0f s in all\n", ek_now() - t0);
	ek_results_dispose(&res);
	for (size_t i = 0; i < n_lw; i++) {
		lw_model_free(lw[i].model);
		lw_text_spec_free(lw[i].spec);
	}
	free(lw);
	corpus_dispose(&c);
	return 0;
}
