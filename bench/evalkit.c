/*
 * bench/evalkit: tables, CSV and SVG curves of the image and text
 * evaluations (see evalkit.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "evalkit.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *ek_prog = "bench";

const char *const ek_free_names[EK_FREE] = { "mean in market", "best in market", "Top-1 reuse",
					     "job selector", "averaging" };
const char *const ek_lab_names[EK_LAB] = { "user's own model", "ensemble pruning",
					   "feature augmentation" };
static const char *const free_keys[EK_FREE] = { "mean", "best", "top1", "job_selector", "averaging" };
static const char *const lab_keys[EK_LAB] = { "own", "ensemble_pruning", "feature_augment" };

void ek_calm_threads(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") && getenv("OPENBLAS_NUM_THREADS"))
		return;
	setenv("OMP_WAIT_POLICY", "passive", 0);
	setenv("OPENBLAS_NUM_THREADS", "1", 0);
	execv("/proc/self/exe", argv);
	/* Not Linux: go on as we are. */
}

void ek_die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", ek_prog, what, lw_error_last()->message);
	exit(1);
}

double ek_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

void *ek_alloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "%s: out of memory\n", ek_prog);
		exit(1);
	}
	return p;
}

size_t *ek_iota(size_t n)
{
	size_t *idx = ek_alloc(n, sizeof(size_t));

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return idx;
}

void ek_shuffle(size_t *idx, size_t n, lw_rng *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

void ek_distinct(size_t *out, size_t k, size_t n, lw_rng *rng)
{
	size_t *all = ek_iota(n);

	ek_shuffle(all, n, rng);
	memcpy(out, all, k * sizeof(size_t));
	free(all);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double ek_pct(double *v, size_t n, double p)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t)floor(p * (double)(n - 1) + 0.5)];
}

void ek_mkdirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return;
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++)
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];

			path[i] = '\0';
			if (mkdir(path, 0755) != 0 && errno != EEXIST) {
				fprintf(stderr, "%s: cannot create %s: %s\n", ek_prog, path, strerror(errno));
				exit(1);
			}
			path[i] = c;
		}
}

/* ---- accuracy ------------------------------------------------------------ */

double ek_accuracy(const lw_mat *Y, const double *y)
{
	size_t right = 0;

	for (size_t i = 0; i < Y->rows; i++) {
		const double *row = lw_mat_row(Y, i);
		size_t best = 0;

		for (size_t j = 1; j < Y->cols; j++)
			if (row[j] > row[best])
				best = j;
		if (Y->cols == 1)
			best = (size_t)llround(row[0]);
		right += best == (size_t)y[i];
	}
	return Y->rows ? (double)right / (double)Y->rows : NAN;
}

double ek_model_accuracy(lw_model *m, const lw_mat *X, const double *y)
{
	lw_mat Y;
	double a;

	if (lw_model_predict(&Y, m, X) < 0)
		ek_die("predict");
	a = ek_accuracy(&Y, y);
	lw_mat_dispose(&Y);
	return a;
}

void ek_reuse_options(lw_reuse_options *o, lw_reuse_method method, size_t n_classes, uint64_t seed)
{
	lw_reuse_options_init(o, LW_REUSE_OPTIONS_VERSION);
	o->method = method;
	o->task = LW_TASK_CLASSIFICATION;
	o->n_classes = n_classes;
	o->average = LW_AVERAGE_VOTE_PROB;
	o->herding_num = EK_HERDING;
	o->selector_rounds = EK_SELECTOR_ROUNDS;
	o->selector_eta = EK_SELECTOR_ETA;
	o->selector_patience = EK_SELECTOR_PATIENCE;
	o->threads = 0;
	o->seed = seed;
}

double ek_reuse_accuracy(const lw_reuse_member *mem, size_t n, const lw_reuse_options *o,
			 const lw_mat *Xf, const double *yf, const lw_rkme *user_rkme,
			 const lw_mat *Xe, const double *ye)
{
	lw_reuser *r = NULL;
	lw_mat Y;
	double a;

	if (lw_reuser_fit(&r, mem, n, Xf, user_rkme, yf, o) < 0)
		ek_die(lw_reuse_method_name(o->method));
	if (lw_reuser_predict(&Y, r, mem, n, Xe) < 0)
		ek_die(lw_reuse_method_name(o->method));
	a = ek_accuracy(&Y, ye);
	lw_mat_dispose(&Y);
	lw_reuser_free(r);
	return a;
}

/* ---- results ------------------------------------------------------------- */

void ek_results_init(ek_results *r, size_t n_users, const size_t *sizes, size_t n_sizes)
{
	memset(r, 0, sizeof(*r));
	r->n_users = n_users;
	r->n_sizes = n_sizes < EK_MAX_SIZES ? n_sizes : EK_MAX_SIZES;
	memcpy(r->sizes, sizes, r->n_sizes * sizeof(size_t));
	r->free_res = ek_alloc(n_users, sizeof(*r->free_res));
	r->lab = ek_alloc(n_users, sizeof(*r->lab));
	for (size_t u = 0; u < n_users; u++)
		for (size_t s = 0; s < EK_MAX_SIZES; s++)
			for (int k = 0; k < EK_LAB; k++)
				r->lab[u][s][k] = NAN;
	for (int k = 0; k < EK_FREE; k++)
		r->anchor[k] = NAN;
}

void ek_results_dispose(ek_results *r)
{
	free(r->free_res);
	free(r->lab);
	memset(r, 0, sizeof(*r));
}

/* Mean and standard deviation across users of column k (labelled: size s), NaNs left out. */
static size_t user_stats(const ek_results *r, int labelled, size_t s, int k, double *mean, double *sd)
{
	double sum = 0, sq = 0;
	size_t n = 0;

	for (size_t u = 0; u < r->n_users; u++) {
		double v = labelled ? r->lab[u][s][k] : r->free_res[u][k];

		if (isnan(v))
			continue;
		sum += v;
		sq += v * v;
		n++;
	}
	*mean = n ? sum / (double)n : NAN;
	*sd = n > 1 ? sqrt(fmax(0, (sq - sum * sum / (double)n) / (double)(n - 1))) : 0;
	return n;
}

static void print_free(const ek_results *r)
{
	double m[EK_FREE], sd;

	printf("\n%s: reuse without labels (accuracy on each user's data; mean over %zu users, "
	       "sd across users)\n", r->title, r->n_users);
	printf("%-16s %9s %7s %10s\n", "", "accuracy", "sd", "paper");
	for (int k = 0; k < EK_FREE; k++) {
		user_stats(r, 0, 0, k, &m[k], &sd);
		printf("%-16s %9.3f %7.3f %10.3f\n", ek_free_names[k], m[k], sd, r->anchor[k]);
	}
	printf("(paper: %s)\n", r->anchor_name);
	printf("behind best in market, points: Top-1 %.1f (paper %.1f), job selector %.1f (paper %.1f), "
	       "averaging %.1f (paper %.1f)\n",
	       100 * (m[EK_BEST] - m[EK_TOP1]), 100 * (r->anchor[EK_BEST] - r->anchor[EK_TOP1]),
	       100 * (m[EK_BEST] - m[EK_JOB]), 100 * (r->anchor[EK_BEST] - r->anchor[EK_JOB]),
	       100 * (m[EK_BEST] - m[EK_AVG]), 100 * (r->anchor[EK_BEST] - r->anchor[EK_AVG]));
}

static void print_labelled(const ek_results *r)
{
	printf("\n%s: with n labelled samples of the user's (accuracy on the user's other samples; "
	       "mean over users, sd across users)\n", r->title);
	printf("%-7s %-6s", "n", "users");
	for (int k = 0; k < EK_LAB; k++)
		printf(" %22s", ek_lab_names[k]);
	printf("\n");
	for (size_t s = 0; s < r->n_sizes; s++) {
		double m, sd;
		size_t n = user_stats(r, 1, s, 0, &m, &sd);

		if (!n)
			continue;
		printf("%-7zu %-6zu", r->sizes[s], n);
		for (int k = 0; k < EK_LAB; k++) {
			if (user_stats(r, 1, s, k, &m, &sd))
				printf("       %7.3f +- %5.3f", m, sd);
			else
				printf(" %22s", "not run");
		}
		printf("\n");
	}
}

void ek_print(const ek_results *r)
{
	print_free(r);
	print_labelled(r);
}

/* ---- files --------------------------------------------------------------- */

static FILE *open_out(const char *dir, const char *name, const char *suffix, char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s%s", dir, name, suffix);
	if (!(f = fopen(path, "w"))) {
		fprintf(stderr, "%s: cannot write %s: %s\n", ek_prog, path, strerror(errno));
		exit(1);
	}
	return f;
}

static void close_out(FILE *f, const char *path)
{
	if (ferror(f) | (fclose(f) != 0)) {
		fprintf(stderr, "%s: writing %s failed\n", ek_prog, path);
		exit(1);
	}
}

static void write_csv(const ek_results *r, const char *dir)
{
	char path[4300];
	FILE *f = open_out(dir, r->name, ".csv", path, sizeof(path));

	fprintf(f, "table,user,labels,method,accuracy\n");
	for (size_t u = 0; u < r->n_users; u++)
		for (int k = 0; k < EK_FREE; k++)
			fprintf(f, "no_labels,%zu,0,%s,%.6f\n", u, free_keys[k], r->free_res[u][k]);
	for (size_t u = 0; u < r->n_users; u++)
		for (size_t s = 0; s < r->n_sizes; s++)
			for (int k = 0; k < EK_LAB; k++)
				if (!isnan(r->lab[u][s][k]))
					fprintf(f, "labelled,%zu,%zu,%s,%.6f\n", u, r->sizes[s], lab_keys[k],
						r->lab[u][s][k]);
	close_out(f, path);
	printf("numbers: %s\n", path);
}

/* Plot geometry: margins around the axes, data ranges. */
typedef struct {
	double W, H, L, R, T, B;
	double x0, x1, lo, hi;
} plot;

static double px(const plot *p, double n)
{
	return p->L + (p->W - p->L - p->R) * (log10(n) - p->x0) / (p->x1 - p->x0);
}

static double py(const plot *p, double v)
{
	return p->T + (p->H - p->T - p->B) * (p->hi - v) / (p->hi - p->lo);
}

static void svg_axes(FILE *f, const plot *p, const ek_results *r)
{
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", p->L,
		p->H - p->B, p->W - p->R, p->H - p->B);
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", p->L, p->T,
		p->L, p->H - p->B);
	for (size_t s = 0; s < r->n_sizes; s++)
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%zu</text>\n",
			px(p, (double)r->sizes[s]), p->H - p->B + 18, r->sizes[s]);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">labelled samples of the user's "
		   "(log scale)</text>\n", (p->L + p->W - p->R) / 2, p->H - 12);
	for (int i = 0; i <= 5; i++) {
		double v = p->lo + (p->hi - p->lo) * i / 5.0;

		fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n", p->L,
			py(p, v), p->W - p->R, py(p, v));
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.3f</text>\n", p->L - 6,
			py(p, v) + 4, v);
	}
	fprintf(f, "<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" text-anchor=\"middle\">"
		   "accuracy</text>\n", (p->T + p->H - p->B) / 2, (p->T + p->H - p->B) / 2);
}

static void svg_level(FILE *f, const plot *p, double v, const char *color, const char *label, int row)
{
	fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\" "
		   "stroke-dasharray=\"6,4\"/>\n", p->L, py(p, v), p->W - p->R, py(p, v), color);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">- - %s</text>\n", p->W - p->R + 10,
		p->T + 20.0 + 18.0 * row, color, label);
}

static void write_svg(const ek_results *r, const char *dir)
{
	static const char *const colors[EK_LAB] = { "#444444", "#d95f02", "#1b9e77" };
	plot p = { 680, 420, 70, 200, 40, 50, 0, 1, INFINITY, -INFINITY };
	double curve[EK_LAB][EK_MAX_SIZES], level[2], sd;
	char path[4300];
	FILE *f;

	for (int k = 0; k < EK_LAB; k++)
		for (size_t s = 0; s < r->n_sizes; s++) {
			if (!user_stats(r, 1, s, k, &curve[k][s], &sd)) {
				curve[k][s] = NAN;
				continue;
			}
			p.lo = fmin(p.lo, curve[k][s]);
			p.hi = fmax(p.hi, curve[k][s]);
		}
	user_stats(r, 0, 0, EK_AVG, &level[0], &sd);
	user_stats(r, 0, 0, EK_JOB, &level[1], &sd);
	for (int i = 0; i < 2; i++) {
		p.lo = fmin(p.lo, level[i]);
		p.hi = fmax(p.hi, level[i]);
	}
	if (!(p.hi > p.lo) || r->n_sizes == 0)
		return; /* nothing labelled was run */
	p.lo = fmax(0, floor(p.lo * 20 - 0.5) / 20);
	p.hi = fmin(1, ceil(p.hi * 20 + 0.5) / 20);
	p.x0 = log10((double)r->sizes[0]) - 0.1;
	p.x1 = log10((double)r->sizes[r->n_sizes - 1]) + 0.1;
	f = open_out(dir, r->name, "-curves.svg", path, sizeof(path));
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", p.W, p.H);
	fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"14\">%s: accuracy against labelled samples "
		   "(mean over users)</text>\n", p.L, r->title);
	svg_axes(f, &p, r);
	for (int k = 0; k < EK_LAB; k++) {
		int any = 0;

		for (size_t s = 0; s < r->n_sizes; s++)
			any |= !isnan(curve[k][s]);
		if (!any)
			continue; /* a method the bench did not run */
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[k]);
		for (size_t s = 0; s < r->n_sizes; s++)
			if (!isnan(curve[k][s]))
				fprintf(f, "%.1f,%.1f ", px(&p, (double)r->sizes[s]), py(&p, curve[k][s]));
		fprintf(f, "\"/>\n");
		for (size_t s = 0; s < r->n_sizes; s++)
			if (!isnan(curve[k][s]))
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
					px(&p, (double)r->sizes[s]), py(&p, curve[k][s]), colors[k]);
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">&#8212; %s</text>\n", p.W - p.R + 10,
			p.T + 20.0 + 18.0 * k, colors[k], ek_lab_names[k]);
	}
	svg_level(f, &p, level[0], "#7570b3", "averaging, no labels", EK_LAB);
	svg_level(f, &p, level[1], "#e7298a", "job selector, no labels", EK_LAB + 1);
	fprintf(f, "</svg>\n");
	close_out(f, path);
	printf("curves: %s\n", path);
}

void ek_write(const ek_results *r, const char *dir)
{
	ek_mkdirs(dir);
	write_csv(r, dir);
	write_svg(r, dir);
}
