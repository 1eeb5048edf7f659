/*
 * bench/hetero: heterogeneous search and reuse on real tables, the paper's
 * two heterogeneous scenarios (docs/hetero.md, "Evaluation").
 *
 * (a) different feature engineering (diamonds, price regression): the
 *     market's learnwares are built from one data set with five recipes
 *     (column subsets, derived columns, one-hot against ordinal grades) on
 *     three colour bands; users hold another band's rows through one of two
 *     recipes no learnware used.
 * (b) different tasks (letter): no two tables in the shared data set folder
 *     are of related tasks, so one data set is split into two: learnwares
 *     tell the letters A-M apart (four recipes), users tell N-Z apart
 *     through a recipe no learnware used.
 *
 * One hetero map is trained on every learnware's RKME and column
 * descriptions (one sentence per column, written below); each user's
 * heterogeneous specification is compared with every learnware's by MMD,
 * and the nearest of the user's task type are aligned and reused.
 *
 * Usage: bench_hetero [--quick] [--out DIR] [--map-gamma G]
 *   --quick       fewer learnwares, users, draws and sizes, a shorter map training
 *   --out DIR     where the curves go as CSV and SVG (build/bench-out)
 *   --map-gamma   the alignment's map_gamma (default: the library's)
 * LW_SHARED_DIR names the shared folder (scripts/bench.sh sets it).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lw.h"

#define MAX_COLS 24
#define MAX_SIZES 5
#define TOP_K 3
#define USER_LETTERS 5 /* (b): each user tells this many of the letters N-Z apart */
#define USER_ROWS 1500

static int quick;
/* --map-gamma: the alignment's map_gamma for every aligned learnware but the ablations */
static double map_gamma = -1;

static lw_hetero_align_options align_defaults(void)
{
	lw_hetero_align_options o = LW_HETERO_ALIGN_OPTIONS_INIT;

	if (map_gamma >= 0)
		o.map_gamma = map_gamma;
	return o;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_hetero: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		fprintf(stderr, "bench_hetero: out of memory\n");
		exit(1);
	}
	return p;
}

static void shuffle(size_t *idx, size_t n, lw_rng *rng)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)lw_rng_below(rng, i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* --- features and recipes ------------------------------------------------------------ */

/* A derived column: its description (one sentence) and how it is computed from a base row. */
typedef struct {
	const char *desc;
	double (*f)(const double *b);
} feature;

typedef struct {
	const char *name;
	const feature *cols[MAX_COLS];
} recipe;

static size_t recipe_dim(const recipe *r)
{
	size_t d = 0;

	while (d < MAX_COLS && r->cols[d])
		d++;
	return d;
}

/* diamonds base rows: carat, cut 0-4, colour 0-6, clarity 0-7, depth, table, x, y, z */
enum { B_CARAT, B_CUT, B_COLOR, B_CLARITY, B_DEPTH, B_TABLE, B_X, B_Y, B_Z, B_DIAMONDS };

#define BASE(name, i) static double name(const double *b) { return b[i]; }
BASE(d_carat, B_CARAT)
BASE(d_cut, B_CUT)
BASE(d_color, B_COLOR)
BASE(d_clarity, B_CLARITY)
BASE(d_depth, B_DEPTH)
BASE(d_table, B_TABLE)
BASE(d_x, B_X)
BASE(d_y, B_Y)
BASE(d_z, B_Z)
static double d_logcarat(const double *b) { return log10(b[B_CARAT]); }
static double d_volume(const double *b) { return b[B_X] * b[B_Y] * b[B_Z]; }
#define ONEHOT(name, i, v) static double name(const double *b) { return b[i] == (v); }
ONEHOT(d_cut0, B_CUT, 0)
ONEHOT(d_cut1, B_CUT, 1)
ONEHOT(d_cut2, B_CUT, 2)
ONEHOT(d_cut3, B_CUT, 3)
ONEHOT(d_cut4, B_CUT, 4)
ONEHOT(d_col0, B_COLOR, 0)
ONEHOT(d_col1, B_COLOR, 1)
ONEHOT(d_col2, B_COLOR, 2)
ONEHOT(d_col3, B_COLOR, 3)
ONEHOT(d_col4, B_COLOR, 4)
ONEHOT(d_col5, B_COLOR, 5)
ONEHOT(d_col6, B_COLOR, 6)

static const feature F_CARAT = { "weight of the diamond in carats", d_carat };
static const feature F_LOGCARAT = { "base ten logarithm of the weight of the diamond in carats",
				    d_logcarat };
static const feature F_CUT = { "quality of the cut as a grade from 0 (fair) to 4 (ideal)", d_cut };
static const feature F_COLOR = { "colour grade from 0 (D, colourless) to 6 (J, slightly tinted)",
				 d_color };
static const feature F_CLARITY = {
	"clarity grade from 0 (I1, visible inclusions) to 7 (IF, internally flawless)", d_clarity
};
static const feature F_DEPTH = { "total depth as a percentage of the mean diameter", d_depth };
static const feature F_TABLE = { "width of the top facet as a percentage of the widest diameter",
				 d_table };
static const feature F_X = { "length of the diamond in millimetres", d_x };
static const feature F_Y = { "width of the diamond in millimetres", d_y };
static const feature F_Z = { "height of the diamond in millimetres", d_z };
static const feature F_VOLUME = { "length times width times height of the diamond in cubic "
				  "millimetres", d_volume };
static const feature F_CUT1H[5] = {
	{ "1 if the cut is graded fair, else 0", d_cut0 },
	{ "1 if the cut is graded good, else 0", d_cut1 },
	{ "1 if the cut is graded very good, else 0", d_cut2 },
	{ "1 if the cut is graded premium, else 0", d_cut3 },
	{ "1 if the cut is graded ideal, else 0", d_cut4 },
};
static const feature F_COL1H[7] = {
	{ "1 if the colour grade is D, else 0", d_col0 }, { "1 if the colour grade is E, else 0", d_col1 },
	{ "1 if the colour grade is F, else 0", d_col2 }, { "1 if the colour grade is G, else 0", d_col3 },
	{ "1 if the colour grade is H, else 0", d_col4 }, { "1 if the colour grade is I, else 0", d_col5 },
	{ "1 if the colour grade is J, else 0", d_col6 },
};

static const recipe DIAMOND_LW[] = {
	{ "grades", { &F_CARAT, &F_CUT, &F_COLOR, &F_CLARITY, &F_DEPTH, &F_TABLE } },
	{ "measures", { &F_X, &F_Y, &F_Z, &F_DEPTH, &F_TABLE, &F_COLOR, &F_CLARITY } },
	{ "one-hot cut", { &F_CARAT, &F_CUT1H[0], &F_CUT1H[1], &F_CUT1H[2], &F_CUT1H[3], &F_CUT1H[4],
			   &F_CLARITY, &F_COLOR } },
	{ "log+volume", { &F_LOGCARAT, &F_VOLUME, &F_COLOR, &F_CLARITY, &F_CUT } },
	{ "one-hot colour", { &F_CARAT, &F_COL1H[0], &F_COL1H[1], &F_COL1H[2], &F_COL1H[3],
			      &F_COL1H[4], &F_COL1H[5], &F_COL1H[6], &F_CLARITY, &F_TABLE } },
};
static const recipe DIAMOND_USER[] = {
	{ "user mix", { &F_CARAT, &F_X, &F_COLOR, &F_CLARITY, &F_CUT, &F_VOLUME } },
	{ "user one-hot", { &F_LOGCARAT, &F_Y, &F_Z, &F_COL1H[0], &F_COL1H[1], &F_COL1H[2],
			    &F_COL1H[3], &F_COL1H[4], &F_COL1H[5], &F_COL1H[6], &F_CLARITY,
			    &F_DEPTH } },
};

/* letter base rows: the 16 features of letter.csv in order */
#define LBASE(name, i) static double name(const double *b) { return b[i]; }
LBASE(l_xbox, 0)
LBASE(l_ybox, 1)
LBASE(l_width, 2)
LBASE(l_high, 3)
LBASE(l_onpix, 4)
LBASE(l_xbar, 5)
LBASE(l_ybar, 6)
LBASE(l_x2bar, 7)
LBASE(l_y2bar, 8)
LBASE(l_xybar, 9)
LBASE(l_x2ybr, 10)
LBASE(l_xy2br, 11)
LBASE(l_xege, 12)
LBASE(l_xegvy, 13)
LBASE(l_yege, 14)
LBASE(l_yegvx, 15)
static double l_area(const double *b) { return b[2] * b[3]; }
static double l_density(const double *b) { return b[4] / (b[2] * b[3] + 1); }
static double l_aspect(const double *b) { return (b[2] + 1) / (b[3] + 1); }

static const feature L_XBOX = { "horizontal position of the letter's box", l_xbox };
static const feature L_YBOX = { "vertical position of the letter's box", l_ybox };
static const feature L_WIDTH = { "width of the letter's box", l_width };
static const feature L_HIGH = { "height of the letter's box", l_high };
static const feature L_ONPIX = { "total number of on pixels", l_onpix };
static const feature L_XBAR = { "mean horizontal position of the on pixels in the box", l_xbar };
static const feature L_YBAR = { "mean vertical position of the on pixels in the box", l_ybar };
static const feature L_X2BAR = { "mean squared horizontal distance of the on pixels", l_x2bar };
static const feature L_Y2BAR = { "mean squared vertical distance of the on pixels", l_y2bar };
static const feature L_XYBAR = { "mean product of horizontal and vertical distances", l_xybar };
static const feature L_X2YBR = { "mean of x squared times y over the on pixels", l_x2ybr };
static const feature L_XY2BR = { "mean of x times y squared over the on pixels", l_xy2br };
static const feature L_XEGE = { "mean number of edges met scanning left to right", l_xege };
static const feature L_XEGVY = { "correlation of left to right edge counts with vertical "
				 "position", l_xegvy };
static const feature L_YEGE = { "mean number of edges met scanning bottom to top", l_yege };
static const feature L_YEGVX = { "correlation of bottom to top edge counts with horizontal "
				 "position", l_yegvx };
static const feature L_AREA = { "area of the letter's box, width times height", l_area };
static const feature L_DENSITY = { "share of the box's pixels that are on", l_density };
static const feature L_ASPECT = { "ratio of the box's width to its height", l_aspect };

static const recipe LETTER_LW[] = {
	{ "box+moments", { &L_XBOX, &L_YBOX, &L_WIDTH, &L_HIGH, &L_ONPIX, &L_XBAR, &L_YBAR, &L_X2BAR,
			   &L_Y2BAR, &L_XYBAR } },
	{ "edges", { &L_XEGE, &L_XEGVY, &L_YEGE, &L_YEGVX, &L_X2YBR, &L_XY2BR, &L_XBAR, &L_YBAR,
		     &L_ONPIX } },
	{ "derived shape", { &L_AREA, &L_DENSITY, &L_ASPECT, &L_X2BAR, &L_Y2BAR, &L_XYBAR, &L_XEGE,
			     &L_YEGE, &L_X2YBR } },
	{ "compact", { &L_WIDTH, &L_HIGH, &L_ONPIX, &L_XYBAR, &L_X2YBR, &L_XY2BR, &L_XEGVY, &L_YEGVX,
		       &L_YBAR } },
};
static const recipe LETTER_USER = {
	"user letters", { &L_WIDTH, &L_HIGH, &L_ASPECT, &L_ONPIX, &L_XBAR, &L_YBAR, &L_X2BAR, &L_Y2BAR,
			  &L_XYBAR, &L_XEGE, &L_YEGE, &L_XEGVY }
};

/* --- tables ------------------------------------------------------------------------------ */

typedef struct {
	lw_mat B;   /* base rows */
	double *y;  /* target or class index */
	size_t n;
} base_table;

/* Rows idx of a base table through a recipe. */
static void through(lw_mat *X, double *y, const base_table *t, const size_t *idx, size_t n,
		    const recipe *r)
{
	size_t d = recipe_dim(r);

	if (lw_mat_init(X, n, d) < 0)
		die("matrix");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			lw_mat_row(X, i)[j] = r->cols[j]->f(lw_mat_row(&t->B, idx[i]));
	for (size_t i = 0; y && i < n; i++)
		y[i] = t->y[idx[i]];
}

static void embed_recipe(lw_mat *out, const recipe *r)
{
	const char *texts[MAX_COLS];
	size_t d = recipe_dim(r);

	for (size_t j = 0; j < d; j++)
		texts[j] = r->cols[j]->desc;
	if (lw_text_encode(out, NULL, texts, NULL, d) < 0)
		die("encode descriptions");
}

static int level(const char *s, const char *const *levels, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, levels[i]))
			return i;
	return -1;
}

static void read_diamonds(base_table *t, const char *path)
{
	static const char *cuts[] = { "Fair", "Good", "Very Good", "Premium", "Ideal" };
	static const char *colors[] = { "D", "E", "F", "G", "H", "I", "J" };
	static const char *clar[] = { "I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF" };
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 60000;

	if (!f || !fgets(line, sizeof(line), f)) {
		fprintf(stderr, "bench_hetero: cannot read %s\n", path);
		exit(1);
	}
	if (lw_mat_init(&t->B, cap, B_DIAMONDS) < 0)
		die("matrix");
	t->y = xcalloc(cap, sizeof(double));
	t->n = 0;
	while (fgets(line, sizeof(line), f) && t->n < cap) {
		char *field[10], *save = NULL;
		size_t k = 0;
		double *b = lw_mat_row(&t->B, t->n);

		line[strcspn(line, "\r\n")] = '\0';
		for (char *tok = strtok_r(line, ",", &save); tok && k < 10; tok = strtok_r(NULL, ",", &save))
			field[k++] = tok;
		if (k != 10)
			continue;
		b[B_CUT] = level(field[1], cuts, 5);
		b[B_COLOR] = level(field[2], colors, 7);
		b[B_CLARITY] = level(field[3], clar, 8);
		b[B_CARAT] = atof(field[0]);
		b[B_DEPTH] = atof(field[4]);
		b[B_TABLE] = atof(field[5]);
		b[B_X] = atof(field[6]);
		b[B_Y] = atof(field[7]);
		b[B_Z] = atof(field[8]);
		/* The 20 rows with a zero dimension are dropped: a volume of 0 is a recording error. */
		if (b[B_CUT] < 0 || b[B_COLOR] < 0 || b[B_CLARITY] < 0 || !(b[B_X] * b[B_Y] * b[B_Z] > 0))
			continue;
		t->y[t->n++] = atof(field[9]);
	}
	fclose(f);
}

static void read_letter(base_table *t, const char *path)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char **labels = NULL;

	if (lw_data_read_target(&t->B, NULL, &labels, path, "label", &o) < 0)
		die(path);
	t->n = t->B.rows;
	t->y = xcalloc(t->n, sizeof(double));
	for (size_t i = 0; i < t->n; i++)
		t->y[i] = labels[i][0] - 'A';
	lw_data_free_names(labels);
}

/* Rows of t whose value says keep(row) */
static size_t *rows_where(size_t *n, const base_table *t, int (*keep)(const base_table *, size_t, int),
			  int arg)
{
	size_t *idx = xcalloc(t->n, sizeof(size_t));

	*n = 0;
	for (size_t i = 0; i < t->n; i++)
		if (keep(t, i, arg))
			idx[(*n)++] = i;
	return idx;
}

/* --- the market ----------------------------------------------------------------------------- */

typedef struct {
	char id[48];
	const recipe *rec;
	int group;           /* the colour band (a) or row subset (b) */
	int classification;
	size_t n_classes;
	lw_model *model;
	lw_rkme *rkme;
	lw_mat cols;
	lw_hetero_spec *spec;
} learnware;

static lw_model *train(const lw_mat *X, const double *y, int classification, size_t k,
		       uint64_t seed, int small)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m = NULL;

	o.kind = LW_MODEL_XGBOOST;
	o.task = classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
	o.n_classes = classification ? k : 0;
	o.seed = seed;
	o.rounds = classification ? 40 : 200;
	o.threads = 1; /* xgboost's spinning threads stall on a busy machine; one is faster here */
	if (small) {
		o.holdout = X->rows >= 50 ? 0.2 : 0.0;
		if (o.holdout == 0.0) {
			o.early_stopping = 0;
			o.rounds = 50;
		}
	}
	if (lw_train(&m, NULL, X, y, &o) < 0)
		die("train");
	return m;
}

/* The learner feature augmentation uses, on the user's features alone. */
static lw_model *train_linear(const lw_mat *X, const double *y, int classification, size_t k)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m = NULL;

	o.kind = classification ? LW_MODEL_LOGISTIC : LW_MODEL_LINEAR;
	o.task = classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
	o.n_classes = classification ? k : 0;
	o.holdout = 0;
	o.alpha = 1.0;
	o.l2 = 1e-2;
	if (lw_train(&m, NULL, X, y, &o) < 0)
		die("train linear");
	return m;
}

static void learnware_make(learnware *l, const base_table *t, const size_t *idx, size_t n,
			   const recipe *r, int group, int classification, size_t k, uint64_t seed)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_mat X;
	double *y = xcalloc(n, sizeof(double));

	through(&X, y, t, idx, n, r);
	l->rec = r;
	l->group = group;
	l->classification = classification;
	l->n_classes = k;
	l->model = train(&X, y, classification, k, seed, 0);
	ro.seed = seed;
	if (lw_rkme_fit(&l->rkme, &X, &ro) < 0)
		die("rkme");
	embed_recipe(&l->cols, r);
	lw_mat_dispose(&X);
	free(y);
}

static void learnware_dispose(learnware *l)
{
	lw_model_free(l->model);
	lw_rkme_free(l->rkme);
	lw_mat_dispose(&l->cols);
	lw_hetero_spec_free(l->spec);
}

static lw_hetero_learnware as_hetero(const learnware *l)
{
	return (lw_hetero_learnware){ l->id, l->model, l->rkme, &l->cols };
}

/* --- scores -------------------------------------------------------------------------------- */

/* RMSE, or accuracy of class indices (from probabilities when Y has several columns). */
static double score(int classification, const lw_mat *Y, const double *y)
{
	double s = 0;

	for (size_t i = 0; i < Y->rows; i++) {
		const double *row = lw_mat_row(Y, i);

		if (classification) {
			size_t best = 0;

			for (size_t j = 1; j < Y->cols; j++)
				best = row[j] > row[best] ? j : best;
			s += (Y->cols == 1 ? (size_t)llround(row[0]) : best) == (size_t)y[i];
		} else {
			s += (row[0] - y[i]) * (row[0] - y[i]);
		}
	}
	return classification ? s / (double)Y->rows : sqrt(s / (double)Y->rows);
}

static double model_score(lw_model *m, const lw_mat *X, const double *y, int classification)
{
	lw_mat Y;
	double s;

	if (lw_model_predict(&Y, m, X) < 0)
		die("predict");
	s = score(classification, &Y, y);
	lw_mat_dispose(&Y);
	return s;
}

/* One learnware aligned with the given options, scored on the user's rows. */
static double aligned_score(const lw_hetero_user *u, const learnware *l,
			    const lw_hetero_align_options *o, const double *y)
{
	lw_hetero_learnware hl = as_hetero(l);
	lw_hetero_align_options d = align_defaults();
	lw_model *a = NULL;
	double s;

	if (lw_hetero_align(&a, u, &hl, o ? o : &d) < 0)
		die(l->id);
	s = model_score(a, u->X, y, l->classification);
	lw_model_free(a);
	return s;
}

/* The reference's FeatureAlignLearnware: an MLP fitted by MMD between the raw RKMEs. */
static double reference_align_score(const lw_rkme *user_rkme, const lw_mat *X, const double *y,
				    const learnware *l)
{
	lw_align_options o = LW_ALIGN_OPTIONS_INIT;
	lw_model *a = NULL;
	double s;

	if (lw_align_model(&a, l->model, l->rkme, user_rkme, &o) < 0)
		die("reference alignment");
	s = model_score(a, X, y, l->classification);
	lw_model_free(a);
	return s;
}

static double hetero_reuse_score(const lw_hetero_user *u, learnware *const *lws, size_t n,
				 lw_hetero_reuse_method method, const lw_mat *Xl, const double *yl,
				 const lw_mat *Xe, const double *ye, int classification, size_t k,
				 uint64_t seed)
{
	lw_hetero_reuse_options o = LW_HETERO_REUSE_OPTIONS_INIT;
	lw_hetero_learnware hl[TOP_K];
	lw_hetero_reuser *r = NULL;
	lw_mat Y;
	double s;

	for (size_t i = 0; i < n; i++)
		hl[i] = as_hetero(lws[i]);
	o.method = method;
	o.align = align_defaults();
	o.task = classification ? LW_TASK_CLASSIFICATION : LW_TASK_REGRESSION;
	o.n_classes = classification ? k : 0;
	o.seed = seed;
	if (lw_hetero_reuser_fit(&r, u, hl, n, Xl, yl, &o) < 0 ||
	    lw_hetero_reuser_predict(&Y, r, Xe) < 0)
		die("hetero reuse");
	s = score(classification, &Y, ye);
	lw_mat_dispose(&Y);
	lw_hetero_reuser_free(r);
	return s;
}

/* --- an experiment ------------------------------------------------------------------------- */

enum { F_MEAN, F_BEST, F_TOP1, F_AVG, F_NO_QUANT, F_NO_MAP, F_NW, F_MAP_ONLY, F_REF, F_N };
static const char *const free_names[F_N] = {
	"mean in market", "best in market", "Top-1", "average Top-3",
	"no quantile maps", "no map term", "local mean (NW)", "map only", "reference MMD",
};
#define F_MAIN F_NO_QUANT /* the first F_MAIN columns are the main table, the rest Top-1 ablations */
enum { L_OWN, L_OWN_LIN, L_AUG1, L_AUGK, L_AVGAUG, L_N };
static const char *const lab_names[L_N] = {
	"own xgboost", "own linear", "augment Top-1", "augment Top-3", "average-augment Top-3",
};

typedef struct {
	const char *name;
	int classification;
	size_t n_classes;
	int free_reuse;            /* the learnwares answer the user's labels: data-free figures */
	size_t sizes[MAX_SIZES], n_sizes, repeats;
	/* users */
	size_t n_users;
	char (*user_names)[48];
	lw_mat *X, *cols;
	double **y;
	int *group;
	/* results */
	double (*free_res)[F_N];
	double (*lab)[MAX_SIZES][L_N];
	int (*lab_done)[MAX_SIZES];
	size_t top1_same_set, top1_same_group, top1_rank_sum;
} experiment;

static void experiment_alloc(experiment *e, size_t n_users)
{
	e->n_users = n_users;
	e->user_names = xcalloc(n_users, sizeof(*e->user_names));
	e->X = xcalloc(n_users, sizeof(lw_mat));
	e->cols = xcalloc(n_users, sizeof(lw_mat));
	e->y = xcalloc(n_users, sizeof(double *));
	e->group = xcalloc(n_users, sizeof(int));
	e->free_res = xcalloc(n_users, sizeof(*e->free_res));
	e->lab = xcalloc(n_users, sizeof(*e->lab));
	e->lab_done = xcalloc(n_users, sizeof(*e->lab_done));
}

static void experiment_dispose(experiment *e)
{
	for (size_t u = 0; u < e->n_users; u++) {
		lw_mat_dispose(&e->X[u]);
		lw_mat_dispose(&e->cols[u]);
		free(e->y[u]);
	}
	free(e->user_names);
	free(e->X);
	free(e->cols);
	free(e->y);
	free(e->group);
	free(e->free_res);
	free(e->lab);
	free(e->lab_done);
}

typedef struct {
	learnware *lw;
	size_t n;
	lw_hetero_map *map;
} market;

typedef struct {
	double d;
	size_t i;
} ranked;

static int by_dist(const void *a, const void *b)
{
	const ranked *p = a, *q = b;

	return p->d < q->d ? -1 : p->d > q->d ? 1 : (p->i > q->i) - (p->i < q->i);
}

/*
 * Heterogeneous search: the user's specification against every learnware's;
 * the nearest of the user's task type (what the dock's semantic filter on
 * Task keeps) go to top.  *same_set says whether the overall nearest is of
 * the user's task type.
 */
static size_t search(learnware **top, int *same_set, lw_rkme **user_rkme, const market *m,
		     const lw_mat *X, const lw_mat *cols, int classification, uint64_t seed)
{
	lw_rkme_options ro = LW_RKME_OPTIONS_INIT;
	lw_rkme *urkme = NULL;
	lw_hetero_spec *us = NULL;
	ranked *r = xcalloc(m->n, sizeof(ranked));
	size_t n = 0;

	ro.seed = seed;
	if (lw_rkme_fit(&urkme, X, &ro) < 0 || lw_hetero_spec_new(&us, m->map, urkme, cols) < 0)
		die("user specification");
	for (size_t i = 0; i < m->n; i++) {
		r[i].i = i;
		if (lw_hetero_spec_dist(&r[i].d, us, m->lw[i].spec) < 0)
			die("hetero distance");
	}
	qsort(r, m->n, sizeof(ranked), by_dist);
	*same_set = m->lw[r[0].i].classification == classification;
	for (size_t i = 0; i < m->n && n < TOP_K; i++)
		if (m->lw[r[i].i].classification == classification)
			top[n++] = &m->lw[r[i].i];
	lw_hetero_spec_free(us);
	*user_rkme = urkme;
	free(r);
	return n;
}

static void data_free(double *res, const experiment *e, size_t u, const market *m,
		      learnware *const *top, size_t n_top, const lw_hetero_user *hu,
		      const lw_rkme *urkme, uint64_t seed)
{
	lw_hetero_align_options no_quant = align_defaults(), no_map = align_defaults();
	lw_hetero_align_options nw = align_defaults(), map_only = align_defaults();
	double sum = 0, best = INFINITY;
	size_t cnt = 0;

	no_quant.similar_cosine = 2;
	no_map.map_gamma = 0;
	nw.local_linear = 0;
	map_only.match_cosine = map_only.similar_cosine = 2;
	for (size_t i = 0; i < m->n; i++) {
		double s;

		if (m->lw[i].classification != e->classification)
			continue;
		s = aligned_score(hu, &m->lw[i], NULL, e->y[u]);
		sum += s;
		cnt++;
		best = fmin(best, s);
	}
	res[F_MEAN] = sum / (double)cnt;
	res[F_BEST] = best;
	res[F_TOP1] = aligned_score(hu, top[0], NULL, e->y[u]);
	res[F_NO_QUANT] = aligned_score(hu, top[0], &no_quant, e->y[u]);
	res[F_NO_MAP] = aligned_score(hu, top[0], &no_map, e->y[u]);
	res[F_NW] = aligned_score(hu, top[0], &nw, e->y[u]);
	res[F_MAP_ONLY] = aligned_score(hu, top[0], &map_only, e->y[u]);
	res[F_REF] = reference_align_score(urkme, &e->X[u], e->y[u], top[0]);
	res[F_AVG] = hetero_reuse_score(hu, top, n_top, LW_HETERO_REUSE_AVERAGE, NULL, NULL, &e->X[u],
					e->y[u], e->classification, e->n_classes, seed);
}

/* One draw of n labelled rows; the rest of the user's rows score. 0 when the draw is unusable. */
static int labelled(double *res, const experiment *e, size_t u, learnware *const *top, size_t n_top,
		    const lw_hetero_user *hu, size_t n, uint64_t seed)
{
	const lw_mat *X = &e->X[u];
	size_t *idx = xcalloc(X->rows, sizeof(size_t)), rest = X->rows - n;
	double *yl = xcalloc(n, sizeof(double)), *ye = xcalloc(rest, sizeof(double));
	lw_mat Xl, Xe;
	lw_model *own;
	int ok = 1;
	lw_rng rng;

	for (size_t i = 0; i < X->rows; i++)
		idx[i] = i;
	lw_rng_seed(&rng, seed);
	shuffle(idx, X->rows, &rng);
	if (lw_mat_take_rows(&Xl, X, idx, n) < 0 || lw_mat_take_rows(&Xe, X, idx + n, rest) < 0)
		die("rows");
	for (size_t i = 0; i < n; i++)
		yl[i] = e->y[u][idx[i]];
	for (size_t i = 0; i < rest; i++)
		ye[i] = e->y[u][idx[n + i]];
	for (size_t i = 1; e->classification && i < n; i++)
		ok &= yl[i] == yl[0];
	ok = !e->classification || !ok;
	if (ok) {
		own = train(&Xl, yl, e->classification, e->n_classes, seed, 1);
		res[L_OWN] = model_score(own, &Xe, ye, e->classification);
		lw_model_free(own);
		own = train_linear(&Xl, yl, e->classification, e->n_classes);
		res[L_OWN_LIN] = model_score(own, &Xe, ye, e->classification);
		lw_model_free(own);
		res[L_AUG1] = hetero_reuse_score(hu, top, 1, LW_HETERO_REUSE_AUGMENT, &Xl, yl, &Xe, ye,
						 e->classification, e->n_classes, seed);
		res[L_AUGK] = hetero_reuse_score(hu, top, n_top, LW_HETERO_REUSE_AUGMENT, &Xl, yl, &Xe,
						 ye, e->classification, e->n_classes, seed);
		res[L_AVGAUG] = hetero_reuse_score(hu, top, n_top, LW_HETERO_REUSE_AVERAGE_AUGMENT, &Xl,
						   yl, &Xe, ye, e->classification, e->n_classes, seed);
	}
	lw_mat_dispose(&Xl);
	lw_mat_dispose(&Xe);
	free(idx);
	free(yl);
	free(ye);
	return ok;
}

static void run_users(experiment *e, const market *m)
{
	for (size_t u = 0; u < e->n_users; u++) {
		learnware *top[TOP_K];
		lw_hetero_user hu = { m->map, &e->cols[u], &e->X[u] };
		lw_rkme *urkme = NULL;
		double t0 = now();
		int same_set;
		size_t n_top = search(top, &same_set, &urkme, m, &e->X[u], &e->cols[u],
				      e->classification, 100 + u);

		e->top1_same_set += same_set;
		e->top1_same_group += top[0]->group == e->group[u];
		if (e->free_reuse)
			data_free(e->free_res[u], e, u, m, top, n_top, &hu, urkme, 200 + u);
		lw_rkme_free(urkme);
		for (size_t s = 0; s < e->n_sizes; s++) {
			double sum[L_N] = { 0 }, one[L_N];
			size_t done = 0;

			for (size_t r = 0; r < e->repeats; r++)
				if (labelled(one, e, u, top, n_top, &hu, e->sizes[s],
					     1000 * (u + 1) + 10 * s + r)) {
					for (int k = 0; k < L_N; k++)
						sum[k] += one[k];
					done++;
				}
			e->lab_done[u][s] = (int)done;
			for (int k = 0; k < L_N; k++)
				e->lab[u][s][k] = done ? sum[k] / (double)done : NAN;
		}
		fprintf(stderr, "  %s: user %s (%zu rows): Top-1 %s, %.1f s\n", e->name,
			e->user_names[u], e->X[u].rows, top[0]->id, now() - t0);
	}
}

/* --- output ----------------------------------------------------------------------------- */

static void curve_stats(double *mean, double *sd, size_t *users, const experiment *e, size_t s, int k)
{
	double sum = 0, sq = 0;
	size_t n = 0;

	for (size_t u = 0; u < e->n_users; u++)
		if (e->lab_done[u][s]) {
			sum += e->lab[u][s][k];
			sq += e->lab[u][s][k] * e->lab[u][s][k];
			n++;
		}
	*mean = n ? sum / (double)n : NAN;
	*sd = n > 1 ? sqrt(fmax(0, sq / (double)n - *mean * *mean)) : 0;
	*users = n;
}

static void print_free(const experiment *e, const char *title, const char *unit, int from, int to)
{
	double avg[F_N] = { 0 };

	printf("\n%s (%s)\n%-22s", title, unit, "user");
	for (int k = from; k < to; k++)
		printf(" %16s", free_names[k]);
	printf("\n");
	for (size_t u = 0; u < e->n_users; u++) {
		printf("%-22s", e->user_names[u]);
		for (int k = from; k < to; k++) {
			printf(" %16.1f", e->free_res[u][k]);
			avg[k] += e->free_res[u][k] / (double)e->n_users;
		}
		printf("\n");
	}
	printf("%-22s", "mean");
	for (int k = from; k < to; k++)
		printf(" %16.1f", avg[k]);
	printf("\n");
}

static void print_tables(const experiment *e)
{
	const char *unit = e->classification ? "accuracy, higher is better" : "RMSE, lower is better";

	printf("\n== %s\n", e->name);
	printf("search: the nearest learnware (of all) is of the user's data set for %zu of %zu users",
	       e->top1_same_set, e->n_users);
	if (e->free_reuse)
		printf("; the Top-1 is of the user's colour band for %zu", e->top1_same_group);
	printf("\n");
	if (e->free_reuse) {
		print_free(e, "without labels", unit, 0, F_MAIN);
		print_free(e, "Top-1 aligned otherwise (ablations of lw_hetero_align; reference MMD: "
			      "lw_align_model)", unit, F_MAIN, F_N);
	}
	printf("\nwith n labelled rows (%s; mean over users of the mean over %zu draws, +- sd across "
	       "users)\n%-6s %-5s", unit, e->repeats, "n", "users");
	for (int k = 0; k < L_N; k++)
		printf(" %22s", lab_names[k]);
	printf("\n");
	for (size_t s = 0; s < e->n_sizes; s++) {
		size_t users = 0;

		for (int k = 0; k < L_N; k++) {
			double mu, sd;

			curve_stats(&mu, &sd, &users, e, s, k);
			if (k == 0)
				printf("%-6zu %-5zu", e->sizes[s], users);
			printf(e->classification ? "       %6.3f +- %-6.3f" : "     %8.1f +- %-7.1f", mu,
			       sd);
		}
		printf("\n");
	}
}

static void write_csv(const experiment *e, const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bench_hetero: cannot write %s\n", path);
		exit(1);
	}
	fprintf(f, "labels,method,%s,sd,users\n", e->classification ? "accuracy" : "rmse");
	for (size_t s = 0; s < e->n_sizes; s++)
		for (int k = 0; k < L_N; k++) {
			double mu, sd;
			size_t users;

			curve_stats(&mu, &sd, &users, e, s, k);
			fprintf(f, "%zu,%s,%.6g,%.6g,%zu\n", e->sizes[s], lab_names[k], mu, sd, users);
		}
	if (fclose(f) != 0)
		exit(1);
}

/* The curves on a log axis of labels, one polyline per method; a dashed level for Top-1. */
static void write_svg(const experiment *e, const char *path)
{
	static const char *const color[L_N] = { "#444444", "#999999", "#d95f02", "#1b9e77", "#7570b3" };
	const double W = 680, H = 400, L = 70, R = 200, T = 34, Bm = 50;
	double v[MAX_SIZES][L_N], lo = INFINITY, hi = -INFINITY, level = NAN;
	double lx0 = log10((double)e->sizes[0]), lx1 = log10((double)e->sizes[e->n_sizes - 1]);
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "bench_hetero: cannot write %s\n", path);
		exit(1);
	}
	for (size_t s = 0; s < e->n_sizes; s++)
		for (int k = 0; k < L_N; k++) {
			double sd;
			size_t users;

			curve_stats(&v[s][k], &sd, &users, e, s, k);
			if (isfinite(v[s][k])) {
				lo = fmin(lo, v[s][k]);
				hi = fmax(hi, v[s][k]);
			}
		}
	if (e->free_reuse) {
		level = 0;
		for (size_t u = 0; u < e->n_users; u++)
			level += e->free_res[u][F_TOP1] / (double)e->n_users;
		lo = fmin(lo, level);
		hi = fmax(hi, level);
	}
	if (!(hi > lo))
		hi = lo + 1;
	lo -= 0.05 * (hi - lo);
	hi += 0.05 * (hi - lo);
	if (!(lx1 > lx0))
		lx1 = lx0 + 1;
#define XS(n) (L + (W - L - R) * (log10((double)(n)) - lx0) / (lx1 - lx0))
#define YS(y) (T + (H - T - Bm) * (hi - (y)) / (hi - lo))
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
	fprintf(f, "<text x=\"%.0f\" y=\"20\" font-size=\"14\">%s: %s</text>\n", L, e->name,
		e->classification ? "accuracy" : "RMSE");
	fprintf(f, "<path d=\"M%.0f %.0fV%.0fH%.0f\" fill=\"none\" stroke=\"black\"/>\n", L, T, H - Bm,
		W - R);
	for (size_t s = 0; s < e->n_sizes; s++)
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%zu</text>\n",
			XS(e->sizes[s]), H - Bm + 16, e->sizes[s]);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">labelled rows (log scale)</text>\n",
		(L + W - R) / 2, H - 14);
	for (int i = 0; i <= 4; i++) {
		double y = lo + (hi - lo) * i / 4.0;

		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", L - 6,
			YS(y) + 4, y);
	}
	if (isfinite(level))
		fprintf(f, "<path d=\"M%.0f %.1fH%.0f\" stroke=\"#e7298a\" stroke-dasharray=\"6,4\"/>\n"
			   "<text x=\"%.0f\" y=\"%.1f\" fill=\"#e7298a\">Top-1 aligned, no labels</text>\n",
			L, YS(level), W - R, W - R + 8, YS(level) + 4);
	for (int k = 0; k < L_N; k++) {
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color[k]);
		for (size_t s = 0; s < e->n_sizes; s++)
			if (isfinite(v[s][k]))
				fprintf(f, "%.1f,%.1f ", XS(e->sizes[s]), YS(v[s][k]));
		fprintf(f, "\"/>\n<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\">%s</text>\n", W - R + 8,
			T + 30.0 + 18.0 * k, color[k], lab_names[k]);
	}
#undef XS
#undef YS
	fprintf(f, "</svg>\n");
	if (fclose(f) != 0)
		exit(1);
}

static void write_outputs(const experiment *e, const char *out_dir, const char *stem)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s.csv", out_dir, stem);
	write_csv(e, path);
	snprintf(path, sizeof(path), "%s/%s.svg", out_dir, stem);
	write_svg(e, path);
	printf("curves: %s/%s.{csv,svg}\n", out_dir, stem);
}

/* --- building the two experiments ----------------------------------------------------------- */

static int colour_band(double c)
{
	return c <= 1 ? 0 : c <= 3 ? 1 : 2; /* D-E, F-G, H-J */
}

static int in_band(const base_table *t, size_t i, int band)
{
	return colour_band(lw_mat_row(&t->B, i)[B_COLOR]) == band;
}

static int letter_half(const base_table *t, size_t i, int second)
{
	return (t->y[i] >= 13) == second;
}


static const char *const band_names[3] = { "D-E", "F-G", "H-J" };

/* (a): per colour band, the rows split in halves: the market's and the users'. */
static void build_diamonds(market *m, experiment *e, const base_table *t)
{
	size_t n_lw_rows = quick ? 1500 : 2500, n_user_rows = 2000;
	size_t n_rec = sizeof(DIAMOND_LW) / sizeof(DIAMOND_LW[0]), n_urec = 2;
	lw_rng rng;

	lw_rng_seed(&rng, 11);
	experiment_alloc(e, 3 * n_urec);
	for (int b = 0; b < 3; b++) {
		size_t n, half;
		size_t *idx = rows_where(&n, t, in_band, b);

		shuffle(idx, n, &rng);
		half = n / 2;
		for (size_t r = 0; r < n_rec; r++) {
			learnware *l = &m->lw[m->n++];
			size_t *pick = idx + (r * n_lw_rows) % (half - n_lw_rows);

			snprintf(l->id, sizeof(l->id), "diamonds %s %s", band_names[b], DIAMOND_LW[r].name);
			learnware_make(l, t, pick, n_lw_rows, &DIAMOND_LW[r], b, 0, 0, 300 + m->n);
		}
		for (size_t r = 0; r < n_urec; r++) {
			size_t u = (size_t)b * n_urec + r;

			snprintf(e->user_names[u], sizeof(e->user_names[u]), "%s %s", band_names[b],
				 DIAMOND_USER[r].name);
			e->group[u] = b;
			e->y[u] = xcalloc(n_user_rows, sizeof(double));
			through(&e->X[u], e->y[u], t, idx + half + r * n_user_rows, n_user_rows,
				&DIAMOND_USER[r]);
			embed_recipe(&e->cols[u], &DIAMOND_USER[r]);
		}
		free(idx);
	}
}

/* Rows of the chosen letters (5 of N-Z, in picked[]), labels 0..4 in their order. */
static size_t *letter_rows(size_t *n, const base_table *t, const int *picked, size_t n_rows,
			   lw_rng *rng)
{
	size_t *idx = xcalloc(t->n, sizeof(size_t)), m = 0;

	for (size_t i = 0; i < t->n; i++)
		for (int c = 0; c < USER_LETTERS; c++)
			if ((int)t->y[i] == picked[c])
				idx[m++] = i;
	shuffle(idx, m, rng);
	*n = m < n_rows ? m : n_rows;
	return idx;
}

/* (b): learnwares on random row subsets of A-M; each user tells 5 letters of N-Z apart. */
static void build_letter(market *m, experiment *e, const base_table *t)
{
	size_t n_rec = sizeof(LETTER_LW) / sizeof(LETTER_LW[0]), subsets = quick ? 1 : 2;
	size_t n_users = quick ? 3 : 6, n_rows = 2000, na;
	size_t *a = rows_where(&na, t, letter_half, 0);
	lw_rng rng;

	lw_rng_seed(&rng, 12);
	shuffle(a, na, &rng);
	for (size_t s = 0; s < subsets; s++)
		for (size_t r = 0; r < n_rec; r++) {
			learnware *l = &m->lw[m->n++];
			size_t *pick = a + ((s * n_rec + r) * n_rows) % (na - n_rows);

			snprintf(l->id, sizeof(l->id), "letters A-M %s #%zu", LETTER_LW[r].name, s + 1);
			learnware_make(l, t, pick, n_rows, &LETTER_LW[r], (int)s, 1, 13, 400 + m->n);
		}
	experiment_alloc(e, n_users);
	for (size_t u = 0; u < n_users; u++) {
		int picked[USER_LETTERS];
		size_t pool[13], nu, *rows;
		double *y;

		for (size_t c = 0; c < 13; c++)
			pool[c] = 13 + c;
		shuffle(pool, 13, &rng);
		for (int c = 0; c < USER_LETTERS; c++) {
			picked[c] = (int)pool[c];
			e->user_names[u][c] = (char)('A' + pool[c]);
		}
		rows = letter_rows(&nu, t, picked, USER_ROWS, &rng);
		y = xcalloc(nu, sizeof(double));
		e->group[u] = -1;
		through(&e->X[u], y, t, rows, nu, &LETTER_USER);
		for (size_t i = 0; i < nu; i++)
			for (int c = 0; c < USER_LETTERS; c++)
				if ((int)y[i] == picked[c]) {
					y[i] = c;
					break;
				}
		e->y[u] = y;
		embed_recipe(&e->cols[u], &LETTER_USER);
		free(rows);
	}
	free(a);
}

static void train_map(market *m)
{
	lw_hetero_options o = LW_HETERO_OPTIONS_INIT;
	lw_hetero_source *src = xcalloc(m->n, sizeof(*src));
	lw_hetero_map_info info;
	double t0 = now();

	if (quick)
		o.steps = 200;
	for (size_t i = 0; i < m->n; i++)
		src[i] = (lw_hetero_source){ m->lw[i].rkme, &m->lw[i].cols };
	if (lw_hetero_map_train(&m->map, src, m->n, &o) < 0)
		die("hetero map");
	for (size_t i = 0; i < m->n; i++)
		if (lw_hetero_spec_new(&m->lw[i].spec, m->map, m->lw[i].rkme, &m->lw[i].cols) < 0)
			die("hetero spec");
	lw_hetero_map_get_info(&info, m->map);
	printf("hetero map %s: %zu learnwares, %zu rows, %u epochs, loss %.3f -> %.3f, %.1f s\n",
	       info.id, info.sources, info.rows, info.epochs, info.loss_initial, info.loss_final,
	       now() - t0);
	free(src);
}

/* mkdir -p */
static void make_dirs(const char *dir)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static void set_sizes(experiment *e, const size_t *sizes, size_t n)
{
	memcpy(e->sizes, sizes, n * sizeof(size_t));
	e->n_sizes = n;
}

int main(int argc, char **argv)
{
	static const size_t full_sizes[] = { 10, 30, 100, 300, 1000 };
	const char *shared = getenv("LW_SHARED_DIR"), *out_dir = "build/bench-out";
	char path[4200];
	base_table diamonds = { LW_MAT_INIT, NULL, 0 }, letter = { LW_MAT_INIT, NULL, 0 };
	experiment fe = { 0 }, tasks = { 0 };
	market m = { 0 };
	double t0 = now();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = 1;
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			out_dir = argv[++i];
		} else if (!strcmp(argv[i], "--map-gamma") && i + 1 < argc) {
			map_gamma = atof(argv[++i]);
		} else {
			fprintf(stderr, "usage: bench_hetero [--quick] [--out DIR] [--map-gamma G]\n");
			return 2;
		}
	}
	if (!shared) {
		fprintf(stderr, "bench_hetero: set LW_SHARED_DIR to the shared folder (scripts/bench.sh "
				"does)\n");
		return 2;
	}
	make_dirs(out_dir);
	printf("bench_hetero: heterogeneous search and reuse on %s/data%s\n", shared,
	       quick ? " (--quick: fewer learnwares, users, draws and sizes)" : "");
	snprintf(path, sizeof(path), "%s/data/diamonds.csv", shared);
	read_diamonds(&diamonds, path);
	snprintf(path, sizeof(path), "%s/data/letter.csv", shared);
	read_letter(&letter, path);

	m.lw = xcalloc(32, sizeof(learnware));
	fe = (experiment){ .name = "(a) different feature engineering: diamonds price",
			   .classification = 0, .free_reuse = 1, .repeats = quick ? 1 : 3 };
	tasks = (experiment){ .name = "(b) different tasks: letters A-M -> 5 of N-Z",
			      .classification = 1, .n_classes = USER_LETTERS, .repeats = quick ? 1 : 2 };
	set_sizes(&fe, full_sizes, quick ? 4 : 5);
	set_sizes(&tasks, full_sizes, quick ? 3 : 4);
	build_diamonds(&m, &fe, &diamonds);
	build_letter(&m, &tasks, &letter);
	printf("market: %zu learnwares built in %.1f s\n", m.n, now() - t0);
	train_map(&m);

	run_users(&fe, &m);
	print_tables(&fe);
	write_outputs(&fe, out_dir, "hetero-feature-engineering");
	run_users(&tasks, &m);
	print_tables(&tasks);
	write_outputs(&tasks, out_dir, "hetero-tasks");

	printf("\nbench_hetero: %.0f s in all\n", now() - t0);
	for (size_t i = 0; i < m.n; i++)
		learnware_dispose(&m.lw[i]);
	free(m.lw);
	lw_hetero_map_free(m.map);
	experiment_dispose(&fe);
	experiment_dispose(&tasks);
	lw_mat_dispose(&diamonds.B);
	lw_mat_dispose(&letter.B);
	free(diamonds.y);
	free(letter.y);
	return 0;
}
