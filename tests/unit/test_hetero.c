/*
 * The hetero map and heterogeneous specifications, on real tables from the
 * shared folder (diamonds, boston, letter) with column descriptions written
 * here: the "developer" ones for the dock's learnwares, and for diamonds
 * also a "user" paraphrase, as a user with their own table would write.
 *
 * Column descriptions become vectors through the project's text encoder
 * when the library has one compiled in, and otherwise through a hashed bag
 * of words and character trigrams defined below (deterministic, 256 wide).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hetero.h"
#include "lw/hetero.h"
#include "lw/text.h"

#ifdef __SANITIZE_ADDRESS__
#define LWT_ASAN 1
#else
#define LWT_ASAN 0
#endif

/* ---- column descriptions -------------------------------------------- */

typedef struct {
	const char *name; /* the CSV column */
	const char *dev;  /* as the data set's documentation says it */
	const char *user; /* as a user with their own table might say it */
} coldesc;

/* ggplot2's documentation of diamonds, and a user's paraphrase. */
static const coldesc DIAMONDS[] = {
	{ "carat", "weight of the diamond (0.2-5.01)", "diamond weight in carats" },
	{ "depth", "total depth percentage = z / mean(x, y) = 2 * z / (x + y) (43-79)",
	  "height of the stone as a percentage of its average diameter" },
	{ "table", "width of top of diamond relative to widest point (43-95)",
	  "size of the flat top facet as a percent of the stone's width" },
	{ "x", "length in mm (0-10.74)", "length of the diamond in millimetres" },
	{ "y", "width in mm (0-58.9)", "width of the diamond in millimetres" },
	{ "z", "depth in mm (0-31.8)", "height of the diamond in millimetres" },
};

/* mlbench's BostonHousing documentation. */
static const coldesc BOSTON[] = {
	{ "crim", "per capita crime rate by town", NULL },
	{ "zn", "proportion of residential land zoned for lots over 25,000 sq.ft", NULL },
	{ "indus", "proportion of non-retail business acres per town", NULL },
	{ "chas", "Charles River dummy variable (= 1 if tract bounds river; 0 otherwise)", NULL },
	{ "nox", "nitric oxides concentration (parts per 10 million)", NULL },
	{ "rm", "average number of rooms per dwelling", NULL },
	{ "age", "proportion of owner-occupied units built prior to 1940", NULL },
	{ "dis", "weighted distances to five Boston employment centres", NULL },
	{ "rad", "index of accessibility to radial highways", NULL },
	{ "tax", "full-value property-tax rate per USD 10,000", NULL },
	{ "ptratio", "pupil-teacher ratio by town", NULL },
	{ "b", "1000(B - 0.63)^2 where B is the proportion of blacks by town", NULL },
	{ "lstat", "percentage of lower status of the population", NULL },
};

/* The UCI Letter Recognition documentation. */
static const coldesc LETTER[] = {
	{ "x.box", "horizontal position of box", NULL },
	{ "y.box", "vertical position of box", NULL },
	{ "width", "width of box", NULL },
	{ "high", "height of box", NULL },
	{ "onpix", "total number of on pixels", NULL },
	{ "x.bar", "mean x of on pixels in box", NULL },
	{ "y.bar", "mean y of on pixels in box", NULL },
	{ "x2bar", "mean x variance", NULL },
	{ "y2bar", "mean y variance", NULL },
	{ "xybar", "mean x y correlation", NULL },
	{ "x2ybr", "mean of x * x * y", NULL },
	{ "xy2br", "mean of x * y * y", NULL },
	{ "x.ege", "mean edge count left to right", NULL },
	{ "xegvy", "correlation of x.ege with y", NULL },
	{ "y.ege", "mean edge count bottom to top", NULL },
	{ "yegvx", "correlation of y.ege with x", NULL },
};

#define N_DIAMONDS (sizeof(DIAMONDS) / sizeof(DIAMONDS[0]))
#define N_BOSTON (sizeof(BOSTON) / sizeof(BOSTON[0]))
#define N_LETTER (sizeof(LETTER) / sizeof(LETTER[0]))
#define HASH_DIM 256

/* ---- the fallback encoder: hashed words and character trigrams ------ */

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void hash_add(double *v, const char *s, size_t n, double w)
{
	uint64_t h = fnv1a(s, n);

	v[h % HASH_DIM] += (h >> 63) ? w : -w;
}

static int stopword(const char *w, size_t n)
{
	static const char *const stop[] = { "a",  "an", "the", "of", "in",   "to", "by", "for",
					    "and", "or", "as",  "is", "per", "from", "with", "on",
					    "at",  "its", NULL };

	for (size_t i = 0; stop[i]; i++)
		if (strlen(stop[i]) == n && !strncmp(stop[i], w, n))
			return 1;
	return 0;
}

/* One text: each word (lowercase letters and digits) weight 1, its trigrams 0.3; unit norm. */
static void hash_embed(double *v, const char *text)
{
	char word[128];
	double s = 0;

	memset(v, 0, HASH_DIM * sizeof(double));
	for (const char *p = text; *p;) {
		size_t n = 0;

		while (*p && !isalnum((unsigned char)*p))
			p++;
		while (*p && isalnum((unsigned char)*p)) {
			if (n + 2 < sizeof(word) - 1)
				word[1 + n++] = (char)tolower((unsigned char)*p);
			p++;
		}
		if (n == 0 || stopword(word + 1, n))
			continue;
		hash_add(v, word + 1, n, 1.0);
		word[0] = '<';
		word[n + 1] = '>';
		for (size_t i = 0; i + 3 <= n + 2; i++)
			hash_add(v, word + i, 3, 0.3);
	}
	for (size_t i = 0; i < HASH_DIM; i++)
		s += v[i] * v[i];
	s = s > 0 ? 1.0 / sqrt(s) : 0;
	for (size_t i = 0; i < HASH_DIM; i++)
		v[i] *= s;
}

static int have_encoder = -1;

/* n texts -> n x m embeddings: the project's encoder when compiled in, else hashing. */
static void embed_texts(lw_mat *out, const char *const *texts, size_t n)
{
	if (have_encoder < 0) {
		const lw_text_encoder *enc;

		have_encoder = lw_text_encoder_builtin(&enc) == 0;
		lw_error_clear();
		if (have_encoder)
			print_message("column descriptions embedded by the built-in text encoder "
				      "%s %u (%.12s)\n",
				      lw_text_encoder_name(enc), lw_text_encoder_version(enc),
				      lw_text_encoder_sha256(enc));
		else
			print_message("column descriptions embedded by hashed words (no encoder "
				      "built in)\n");
	}
	if (have_encoder) {
		assert_int_equal(lw_text_encode(out, NULL, texts, NULL, n), 0);
		return;
	}
	assert_int_equal(lw_mat_init(out, n, HASH_DIM), 0);
	for (size_t i = 0; i < n; i++)
		hash_embed(lw_mat_row(out, i), texts[i]);
}

/* ---- data ------------------------------------------------------------ */

typedef struct {
	lw_mat X;               /* all rows, the described columns in table order */
	const coldesc *desc;
	size_t d;
} dataset;

static void load(dataset *ds, const char *file, const coldesc *desc, size_t d)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char cols[512] = "";

	for (size_t j = 0; j < d; j++) {
		strcat(cols, j ? "," : "");
		strcat(cols, desc[j].name);
	}
	o.columns = cols;
	assert_int_equal(lw_data_read(&ds->X, NULL, lwt_shared_path(file), &o), 0);
	assert_int_equal(ds->X.cols, d);
	ds->desc = desc;
	ds->d = d;
}

/* The rows idx[0..n) of columns cols[0..k) of ds. */
static void take(lw_mat *out, const dataset *ds, const size_t *idx, size_t n, const size_t *cols,
		 size_t k)
{
	assert_int_equal(lw_mat_init(out, n, k), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < k; j++)
			out->data[i * k + j] = ds->X.data[idx[i] * ds->d + cols[j]];
}

/* Column embeddings of cols[0..k): the user's descriptions or the developer's. */
static void embed_cols(lw_mat *out, const dataset *ds, const size_t *cols, size_t k, int user)
{
	const char *texts[64];

	for (size_t j = 0; j < k; j++)
		texts[j] = user && ds->desc[cols[j]].user ? ds->desc[cols[j]].user
							  : ds->desc[cols[j]].dev;
	embed_texts(out, texts, k);
}

static lw_rkme *fit(const lw_mat *X, size_t k, uint64_t seed)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_rkme *r = NULL;

	o.k = k;
	o.seed = seed;
	/*
	 * Small groups of integer-valued rows (letter) hold repeated rows, on
	 * which the RKME's QP can break down for one seed: try another.
	 */
	for (int attempt = 0; attempt < 3; attempt++, o.seed += 1000)
		if (lw_rkme_fit(&r, X, &o) == 0)
			return r;
	fail_msg("RKME of %zu x %zu: %s", X->rows, X->cols, lw_error_last()->message);
	return r;
}

/* A table: an RKME of some rows and columns of a data set, and its column embeddings. */
typedef struct {
	lw_rkme *rkme;
	lw_mat cols;
} table;

static void table_make(table *t, const dataset *ds, const size_t *rows, size_t n,
		       const size_t *cols, size_t k, int user, size_t K, uint64_t seed)
{
	lw_mat X;

	take(&X, ds, rows, n, cols, k);
	t->rkme = fit(&X, K, seed);
	lw_mat_dispose(&X);
	embed_cols(&t->cols, ds, cols, k, user);
}

static void table_dispose(table *t)
{
	lw_rkme_free(t->rkme);
	lw_mat_dispose(&t->cols);
	t->rkme = NULL;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* k distinct columns of d, ascending. */
static void pick_cols(size_t *out, size_t k, size_t d, lw_rng *rng)
{
	assert_int_equal(lw_rng_sample(rng, out, k, d), 0);
	qsort(out, k, sizeof(size_t), cmp_size);
}

/* n distinct rows among those i with i % 2 == parity. */
static void pick_rows(size_t *out, size_t n, size_t total, int parity, lw_rng *rng)
{
	assert_int_equal(lw_rng_sample(rng, out, n, (total - (size_t)parity + 1) / 2), 0);
	for (size_t i = 0; i < n; i++)
		out[i] = 2 * out[i] + (size_t)parity;
}

/* ---- the shared fixture: three data sets, a dock, a trained map ------- */

/* Diamonds column sets of the two users: different feature engineering. */
static const size_t COLS_A[] = { 0, 1, 2 };    /* carat, depth, table */
static const size_t COLS_B[] = { 0, 3, 4, 5 }; /* carat, x, y, z */

typedef struct {
	dataset diamonds, boston, letter;
	table *dock;
	size_t n_dock;
	lw_hetero_source *src;
	lw_hetero_map *map;
	double train_seconds;
} fixture;

static int same_set(const size_t *a, size_t na, const size_t *b, size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/*
 * The dock: learnwares on even rows of each data set, each on a random
 * subset of the columns (never exactly the users' diamonds sets A or B),
 * with the developer's descriptions.
 */
static void build_dock(fixture *f, size_t per_set, size_t rows, size_t K)
{
	const dataset *sets[3] = { &f->diamonds, &f->boston, &f->letter };
	size_t *idx = malloc(rows * sizeof(size_t)), cols[32];
	lw_rng rng;

	lw_rng_seed(&rng, 7);
	f->n_dock = 3 * per_set;
	f->dock = calloc(f->n_dock, sizeof(table));
	f->src = calloc(f->n_dock, sizeof(lw_hetero_source));
	for (size_t s = 0, t = 0; s < 3; s++) {
		const dataset *ds = sets[s];
		size_t n = ds->X.rows / 2 < rows ? ds->X.rows / 4 : rows;

		for (size_t i = 0; i < per_set; i++, t++) {
			size_t lo = ds->d < 4 ? 2 : 3, hi = ds->d < 10 ? ds->d - 1 : 10;
			size_t k = lo + (size_t)lw_rng_below(&rng, hi - lo + 1);

			do
				pick_cols(cols, k, ds->d, &rng);
			while (s == 0 && (same_set(cols, k, COLS_A, 3) || same_set(cols, k, COLS_B, 4)));
			pick_rows(idx, n, ds->X.rows, 0, &rng);
			table_make(&f->dock[t], ds, idx, n, cols, k, 0, K, t);
			f->src[t].rkme = f->dock[t].rkme;
			f->src[t].columns = &f->dock[t].cols;
		}
	}
	free(idx);
}

/* The unit tests' training: the defaults, with fewer steps (120 on the fixture's dock). */
static void test_options(lw_hetero_options *o)
{
	lw_hetero_options_init(o);
	o->epochs = 40;
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	lw_hetero_options o;
	struct timespec t0, t1;

	load(&f->diamonds, "data/diamonds.csv", DIAMONDS, N_DIAMONDS);
	load(&f->boston, "data/boston.csv", BOSTON, N_BOSTON);
	load(&f->letter, "data/letter.csv", LETTER, N_LETTER);
	build_dock(f, 8, 800, 40);
	test_options(&o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (lw_hetero_map_train(&f->map, f->src, f->n_dock, &o) != 0) {
		fprintf(stderr, "training failed: %s\n", lw_error_last()->message);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->train_seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
	{
		lw_hetero_map_info info;

		lw_hetero_map_get_info(&info, f->map);
		print_message("trained on %zu learnwares (%zu rows) in %.2f s: loss %.3f -> %.3f over "
			      "%u epochs, gamma %.3g, id %s\n",
			      info.sources, info.rows, f->train_seconds, info.loss_initial,
			      info.loss_final, info.epochs, info.gamma, info.id);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	for (size_t i = 0; i < f->n_dock; i++)
		table_dispose(&f->dock[i]);
	free(f->dock);
	free(f->src);
	lw_hetero_map_free(f->map);
	lw_mat_dispose(&f->diamonds.X);
	lw_mat_dispose(&f->boston.X);
	lw_mat_dispose(&f->letter.X);
	free(f);
	return 0;
}

/* ---- the gradient --------------------------------------------------- */

static void test_hetero_grad__matches_finite_differences(void **state)
{
	lw_hetero_options o;
	lw_hetero_map *map;
	lw_rng rng;
	/*
	 * 4 rows: 2, 3, 2 and 1 views (the last has no positive, so it is only a
	 * negative); for the set term, rows 0 and 1 are a table seen through
	 * views (sets) 0, 1 and 2, rows 2 and 3 another through sets 3 and 4.
	 */
	static const size_t view_row[] = { 0, 0, 1, 1, 1, 2, 2, 3 };
	static const size_t view_set[] = { 0, 1, 0, 1, 2, 3, 4, 3 };
	static const size_t set_group[] = { 0, 0, 0, 1, 1 };
	size_t nv = 8, n_cols = 4, start[9], col[64], nc = 0;
	double val[64], cols[4 * 5], loss, *grad, worst = 0;

	(void)state;
	lw_hetero_options_init(&o);
	o.token_dim = 4;
	o.hidden = 6;
	o.out_dim = 3;
	o.temperature = 0.5;
	o.gamma = 0.8;
	o.set_weight = 0.7;
	o.set_temperature = 0.3;
	assert_int_equal(lw_hetero_map_new(&map, 5, &o), 0);
	lw_rng_seed(&rng, 3);
	/* non-zero biases, so every path of the gradient is exercised */
	for (size_t i = 0; i < map->t; i++)
		map->b0[i] = 0.3 * lw_rng_normal(&rng);
	for (size_t i = 0; i < map->hidden; i++)
		map->b1[i] = 0.3 * lw_rng_normal(&rng);
	for (size_t i = 0; i < map->h; i++)
		map->b2[i] = 0.3 * lw_rng_normal(&rng);
	for (size_t i = 0; i < 20; i++)
		cols[i] = lw_rng_normal(&rng) / 2;
	for (size_t v = 0; v < nv; v++) {
		size_t k = 1 + (size_t)lw_rng_below(&rng, 3);

		start[v] = nc;
		for (size_t c = 0; c < k; c++, nc++) {
			col[nc] = (size_t)lw_rng_below(&rng, n_cols);
			val[nc] = lw_rng_normal(&rng);
		}
	}
	start[nv] = nc;
	{
		lw__hetero_batch b = { .n_views = nv, .n_cols = n_cols, .cell_start = start,
				       .cell_col = col, .cell_val = val, .view_row = view_row,
				       .cols = cols, .n_sets = 5, .view_set = view_set,
				       .set_group = set_group };
		size_t counted;

		grad = malloc(map->n_params * sizeof(double));
		assert_int_equal(lw__hetero_batch_loss(&loss, grad, &counted, map, &b), 0);
		assert_int_equal(counted, 7);
		assert_true(loss > 0 && isfinite(loss));
		for (size_t i = 0; i < map->n_params; i++) {
			double keep = map->theta[i], lp, lm, fd, eps = 1e-6;

			map->theta[i] = keep + eps;
			assert_int_equal(lw__hetero_batch_loss(&lp, NULL, NULL, map, &b), 0);
			map->theta[i] = keep - eps;
			assert_int_equal(lw__hetero_batch_loss(&lm, NULL, NULL, map, &b), 0);
			map->theta[i] = keep;
			fd = (lp - lm) / (2 * eps);
			if (fabs(fd - grad[i]) > 1e-7 + 1e-5 * fabs(fd))
				fail_msg("parameter %zu of %zu: analytic %.10g, finite difference %.10g",
					 i, map->n_params, grad[i], fd);
			if (fabs(fd - grad[i]) > worst)
				worst = fabs(fd - grad[i]);
		}
	}
	print_message("%zu parameters, largest |analytic - finite difference| %.2e\n", map->n_params,
		      worst);
	free(grad);
	lw_hetero_map_free(map);
}

/* ---- training ------------------------------------------------------- */

static void test_hetero_map__same_seed_same_map(void **state)
{
	fixture *f = *state;
	lw_hetero_options o;
	lw_hetero_map *a, *b, *c;
	unsigned char *ba, *bb;
	size_t la, lb;
	lw_mat ya, yb;

	lw_hetero_options_init(&o);
	o.epochs = 3;
	o.seed = 11;
	assert_int_equal(lw_hetero_map_train(&a, f->src, f->n_dock, &o), 0);
	assert_int_equal(lw_hetero_map_train(&b, f->src, f->n_dock, &o), 0);
	o.seed = 12;
	assert_int_equal(lw_hetero_map_train(&c, f->src, f->n_dock, &o), 0);
	assert_int_equal(lw_hetero_map_to_buffer(&ba, &la, a), 0);
	assert_int_equal(lw_hetero_map_to_buffer(&bb, &lb, b), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(ba, bb, la);
	assert_string_equal(lw_hetero_map_id(a), lw_hetero_map_id(b));
	assert_string_not_equal(lw_hetero_map_id(a), lw_hetero_map_id(c));
	assert_int_equal(lw_hetero_map_apply(&ya, a, &f->dock[0].rkme->z, &f->dock[0].cols, NULL,
					     NULL), 0);
	assert_int_equal(lw_hetero_map_apply(&yb, b, &f->dock[0].rkme->z, &f->dock[0].cols, NULL,
					     NULL), 0);
	assert_memory_equal(ya.data, yb.data, ya.rows * ya.cols * sizeof(double));
	for (size_t i = 0; i < ya.rows; i++) {
		double s = 0;

		for (size_t k = 0; k < ya.cols; k++)
			s += lw_mat_row(&ya, i)[k] * lw_mat_row(&ya, i)[k];
		lwt_assert_near(s, 1.0, 1e-12);
	}
	lw_mat_dispose(&ya);
	lw_mat_dispose(&yb);
	free(ba);
	free(bb);
	lw_hetero_map_free(a);
	lw_hetero_map_free(b);
	lw_hetero_map_free(c);
}

/* Held-out learnwares: odd rows, random columns, one per data set. */
static void held_out(table *t, fixture *f, size_t rows, size_t K)
{
	const dataset *sets[3] = { &f->diamonds, &f->boston, &f->letter };
	size_t *idx = malloc(rows * sizeof(size_t)), cols[32];
	lw_rng rng;

	lw_rng_seed(&rng, 1234);
	for (size_t s = 0; s < 3; s++) {
		const dataset *ds = sets[s];
		size_t n = ds->X.rows / 2 < rows ? ds->X.rows / 4 : rows, k = ds->d < 6 ? 3 : 5;

		pick_cols(cols, k, ds->d, &rng);
		pick_rows(idx, n, ds->X.rows, 1, &rng);
		table_make(&t[s], ds, idx, n, cols, k, 0, K, 100 + s);
	}
	free(idx);
}

static void test_hetero_train__lowers_contrastive_loss(void **state)
{
	fixture *f = *state;
	lw_hetero_options o;
	lw_hetero_map *untrained;
	lw_hetero_map_info info;
	lw_hetero_source hs[3];
	table ho[3];
	double before, after, ho_before, ho_after;

	test_options(&o);
	assert_int_equal(lw_hetero_map_new(&untrained, f->map->m, &o), 0);
	assert_int_equal(lw_hetero_map_loss(&before, untrained, f->src, f->n_dock, 99), 0);
	assert_int_equal(lw_hetero_map_loss(&after, f->map, f->src, f->n_dock, 99), 0);
	held_out(ho, f, 800, 40);
	for (size_t i = 0; i < 3; i++) {
		hs[i].rkme = ho[i].rkme;
		hs[i].columns = &ho[i].cols;
	}
	assert_int_equal(lw_hetero_map_loss(&ho_before, untrained, hs, 3, 99), 0);
	assert_int_equal(lw_hetero_map_loss(&ho_after, f->map, hs, 3, 99), 0);
	lw_hetero_map_get_info(&info, f->map);
	print_message("contrastive loss: training tables %.3f untrained -> %.3f trained; held-out "
		      "tables %.3f -> %.3f (over training: %.3f -> %.3f)\n",
		      before, after, ho_before, ho_after, info.loss_initial, info.loss_final);
	assert_true(after < 0.9 * before);
	assert_true(ho_after < ho_before);
	assert_true(info.loss_final < info.loss_initial);
	for (size_t i = 0; i < 3; i++)
		table_dispose(&ho[i]);
	lw_hetero_map_free(untrained);
}

/* Tables of 1, 2, 300 and 1500 columns: narrow ones make few views, wide ones small chunks. */
static void test_hetero_train__narrow_and_wide_tables(void **state)
{
	static const size_t widths[] = { 1, 2, 300, 1500 };
	lw_hetero_source src[4];
	lw_rkme *r[4];
	lw_mat cols[4], X, Y;
	lw_hetero_options o;
	lw_hetero_map *m;
	lw_hetero_map_info info;
	lw_rng rng;

	(void)state;
	lw_rng_seed(&rng, 31);
	for (size_t i = 0; i < 4; i++) {
		size_t d = widths[i];

		assert_int_equal(lw_mat_init(&X, 60, d), 0);
		for (size_t c = 0; c < 60 * d; c++)
			X.data[c] = lw_rng_normal(&rng) + (double)(c % d);
		r[i] = fit(&X, 20, i);
		lw_mat_dispose(&X);
		assert_int_equal(lw_mat_init(&cols[i], d, 8), 0);
		for (size_t c = 0; c < d * 8; c++)
			cols[i].data[c] = lw_rng_normal(&rng);
		src[i].rkme = r[i];
		src[i].columns = &cols[i];
	}
	lw_hetero_options_init(&o);
	o.epochs = 2;
	o.token_dim = 8;
	o.hidden = 8;
	o.out_dim = 4;
	assert_int_equal(lw_hetero_map_train(&m, src, 4, &o), 0);
	lw_hetero_map_get_info(&info, m);
	assert_int_equal(info.sources, 3); /* the 1-column table is not trained on */
	assert_int_equal(info.anchors, 1 + 2 + 300 + 1500);
	assert_true(isfinite(info.loss_final));
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(lw_hetero_map_apply(&Y, m, &r[i]->z, &cols[i], NULL, NULL), 0);
		assert_int_equal(Y.rows, lw_rkme_k(r[i]));
		assert_int_equal(Y.cols, 4);
		for (size_t c = 0; c < Y.rows * Y.cols; c++)
			assert_true(isfinite(Y.data[c]));
		lw_mat_dispose(&Y);
		lw_mat_dispose(&cols[i]);
		lw_rkme_free(r[i]);
	}
	lw_hetero_map_free(m);
}

/* ---- the shared space ------------------------------------------------ */

typedef struct {
	table a, b, boston, letter;
} users;

static void make_users(users *u, fixture *f, size_t K)
{
	size_t *idx = malloc(2000 * sizeof(size_t)), all[16];
	lw_rng rng;

	for (size_t j = 0; j < 16; j++)
		all[j] = j;
	lw_rng_seed(&rng, 4321);
	/* the same diamonds rows, two column sets, the user's own descriptions */
	pick_rows(idx, 2000, f->diamonds.X.rows, 1, &rng);
	table_make(&u->a, &f->diamonds, idx, 2000, COLS_A, 3, 1, K, 1);
	table_make(&u->b, &f->diamonds, idx, 2000, COLS_B, 4, 1, K, 2);
	pick_rows(idx, 250, f->boston.X.rows, 1, &rng);
	table_make(&u->boston, &f->boston, idx, 250, all, N_BOSTON, 1, K, 3);
	pick_rows(idx, 2000, f->letter.X.rows, 1, &rng);
	table_make(&u->letter, &f->letter, idx, 2000, all, N_LETTER, 1, K, 4);
	free(idx);
}

static void users_dispose(users *u)
{
	table_dispose(&u->a);
	table_dispose(&u->b);
	table_dispose(&u->boston);
	table_dispose(&u->letter);
}

/* MMD^2 between the hetero specifications of two tables under a map. */
static double hdist(const lw_hetero_map *map, const table *x, const table *y)
{
	lw_hetero_spec *sx, *sy;
	double d;

	assert_int_equal(lw_hetero_spec_new(&sx, map, x->rkme, &x->cols), 0);
	assert_int_equal(lw_hetero_spec_new(&sy, map, y->rkme, &y->cols), 0);
	assert_int_equal(lw_hetero_spec_dist(&d, sx, sy), 0);
	lw_hetero_spec_free(sx);
	lw_hetero_spec_free(sy);
	return d;
}

static void test_hetero_spec__same_rows_other_columns_closer_than_other_data(void **state)
{
	fixture *f = *state;
	lw_hetero_options o;
	lw_hetero_map *untrained;
	users u;
	double ab, a_bos, b_bos, a_let, b_let, bos_let;

	make_users(&u, f, 50);
	test_options(&o);
	assert_int_equal(lw_hetero_map_new(&untrained, f->map->m, &o), 0);
	for (int trained = 0; trained < 2; trained++) {
		const lw_hetero_map *map = trained ? f->map : untrained;

		ab = hdist(map, &u.a, &u.b);
		a_bos = hdist(map, &u.a, &u.boston);
		b_bos = hdist(map, &u.b, &u.boston);
		a_let = hdist(map, &u.a, &u.letter);
		b_let = hdist(map, &u.b, &u.letter);
		bos_let = hdist(map, &u.boston, &u.letter);
		print_message("%s map (gamma %.3g): MMD^2 diamonds A-B %.4f | A-boston %.4f B-boston "
			      "%.4f | A-letter %.4f B-letter %.4f | boston-letter %.4f\n",
			      trained ? "trained" : "untrained", map->gamma, ab, a_bos, b_bos, a_let,
			      b_let, bos_let);
	}
	/* the trained map's figures are the last computed */
	assert_true(ab < a_bos);
	assert_true(ab < b_bos);
	assert_true(ab < a_let);
	assert_true(ab < b_let);
	users_dispose(&u);
	lw_hetero_map_free(untrained);
}

/* ---- persistence ---------------------------------------------------- */

static void test_hetero_map_file__round_trip_bit_for_bit(void **state)
{
	fixture *f = *state;
	char *dir = lwt_mkdtemp(), path[4096];
	lw_hetero_map *back;
	lw_hetero_map_info i1, i2;
	unsigned char *b1, *b2;
	size_t l1, l2;
	lw_mat y1, y2;

	snprintf(path, sizeof(path), "%s/map.lwhm", dir);
	assert_int_equal(lw_hetero_map_save(f->map, path), 0);
	assert_int_equal(lw_hetero_map_load(&back, path), 0);
	assert_string_equal(lw_hetero_map_id(back), lw_hetero_map_id(f->map));
	assert_int_equal(lw_hetero_map_to_buffer(&b1, &l1, f->map), 0);
	assert_int_equal(lw_hetero_map_to_buffer(&b2, &l2, back), 0);
	assert_int_equal(l1, l2);
	assert_memory_equal(b1, b2, l1);
	lw_hetero_map_get_info(&i1, f->map);
	lw_hetero_map_get_info(&i2, back);
	assert_int_equal(i1.embed_dim, i2.embed_dim);
	assert_int_equal(i1.out_dim, i2.out_dim);
	assert_int_equal(i1.sources, i2.sources);
	assert_int_equal(i1.rows, i2.rows);
	assert_true(i1.gamma == i2.gamma && i1.loss_final == i2.loss_final);
	assert_int_equal(lw_hetero_map_apply(&y1, f->map, &f->dock[1].rkme->z, &f->dock[1].cols,
					     NULL, NULL), 0);
	assert_int_equal(lw_hetero_map_apply(&y2, back, &f->dock[1].rkme->z, &f->dock[1].cols,
					     NULL, NULL), 0);
	assert_memory_equal(y1.data, y2.data, y1.rows * y1.cols * sizeof(double));
	print_message("map file: %zu bytes, id %s\n", l1, lw_hetero_map_id(back));
	lw_mat_dispose(&y1);
	lw_mat_dispose(&y2);
	free(b1);
	free(b2);
	lw_hetero_map_free(back);
	lwt_rmtree(dir);
	free(dir);
}

static void expect_refused(const unsigned char *buf, size_t len, const char *needle)
{
	lw_hetero_map *m = (lw_hetero_map *)1;

	assert_int_equal(lw_hetero_map_from_buffer(&m, buf, len, "map.bin"), LW_EINVALID);
	assert_null(m);
	if (!strstr(lw_error_last()->message, needle))
		fail_msg("message \"%s\" does not say \"%s\"", lw_error_last()->message, needle);
}

static void test_hetero_map_file__refuses_corrupt_and_foreign_files(void **state)
{
	fixture *f = *state;
	unsigned char *buf, *copy;
	size_t len;
	lw_hetero_map *m;
	char *dir = lwt_mkdtemp(), *path;
	static const char json[] = "{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1}";

	assert_int_equal(lw_hetero_map_to_buffer(&buf, &len, f->map), 0);
	copy = malloc(len);
	/* one flipped bit among the weights */
	memcpy(copy, buf, len);
	copy[len / 2] ^= 0x10;
	expect_refused(copy, len, "checksum mismatch");
	/* one flipped bit in the header's gamma, and in its anchor count */
	memcpy(copy, buf, len);
	copy[120] ^= 1;
	expect_refused(copy, len, "checksum mismatch");
	memcpy(copy, buf, len);
	copy[112] ^= 1;
	expect_refused(copy, len, "checksum mismatch");
	/* cut short, and with bytes added */
	expect_refused(buf, len - 100, "cut short");
	expect_refused(buf, 40, "cut short");
	memcpy(copy, buf, len);
	expect_refused(copy, len - 1, "cut short");
	/* a newer format version */
	memcpy(copy, buf, len);
	copy[6] = 2;
	expect_refused(copy, len, "format version 2");
	/* not a map at all */
	expect_refused((const unsigned char *)json, sizeof(json) - 1, "not a hetero map file");
	expect_refused(buf, 0, "not a hetero map file");
	/* and through the file reader, which names the path */
	path = lwt_write_file(dir, "spec.json", json);
	assert_int_equal(lw_hetero_map_load(&m, path), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, path));
	free(path);
	path = malloc(strlen(dir) + 16);
	sprintf(path, "%s/missing", dir);
	assert_int_equal(lw_hetero_map_load(&m, path), LW_ENOTFOUND);
	free(path);
	free(copy);
	free(buf);
	lwt_rmtree(dir);
	free(dir);
}

static void test_hetero_spec_json__round_trip_and_reference_files(void **state)
{
	fixture *f = *state;
	lw_hetero_spec *s, *back, *ref;
	char *t1, *t2, *dir = lwt_mkdtemp(), path[4096];
	double d;
	/* the reference engine's layout: no num_points, no map fields */
	static const char reference[] =
		"{\"z\":[[0.1,0.2],[0.3,-0.4]],\"beta\":[0.25,0.75],\"embedding\":null,"
		"\"weight\":null,\"gamma\":0.1,\"type\":\"HeteroMapTableSpecification\"}";

	assert_int_equal(lw_hetero_spec_new(&s, f->map, f->dock[2].rkme, &f->dock[2].cols), 0);
	assert_int_equal(lw_rkme_k(s->rkme), lw_rkme_k(f->dock[2].rkme));
	assert_int_equal(lw_rkme_dim(s->rkme), f->map->h);
	assert_memory_equal(s->rkme->beta, f->dock[2].rkme->beta, lw_rkme_k(s->rkme) * sizeof(double));
	assert_true(s->rkme->gamma == f->map->gamma);
	assert_string_equal(s->map_id, lw_hetero_map_id(f->map));
	assert_true(lw_hetero_spec_is_current(s, f->map));
	assert_int_equal(lw_hetero_spec_to_json(&t1, s), 0);
	assert_non_null(strstr(t1, "\"embedding\":null,\"weight\":null,\"gamma\":"));
	assert_non_null(strstr(t1, "\"type\":\"HeteroMapTableSpecification\""));
	assert_non_null(strstr(t1, lw_hetero_map_id(f->map)));
	snprintf(path, sizeof(path), "%s/hetero.json", dir);
	assert_int_equal(lw_hetero_spec_save(s, path), 0);
	assert_int_equal(lw_hetero_spec_load(&back, path), 0);
	assert_int_equal(lw_hetero_spec_to_json(&t2, back), 0);
	assert_string_equal(t1, t2);
	assert_memory_equal(back->rkme->z.data, s->rkme->z.data,
			    s->rkme->z.rows * s->rkme->z.cols * sizeof(double));
	assert_string_equal(back->map_id, s->map_id);
	assert_int_equal(lw_hetero_spec_dist(&d, s, back), 0);
	assert_true(fabs(d) < 1e-12);

	assert_int_equal(lw_hetero_spec_from_json(&ref, reference, sizeof(reference) - 1,
						  "ref.json"), 0);
	assert_string_equal(ref->map_id, "");
	assert_false(lw_hetero_spec_is_current(ref, f->map));
	assert_int_equal(lw_rkme_k(ref->rkme), 2);
	assert_true(ref->rkme->beta[1] == 0.75 && lw_mat_row(&ref->rkme->z, 1)[1] == -0.4);
	/* errors name the key */
	{
		static const char bad_type[] = "{\"z\":[[1]],\"beta\":[1],\"gamma\":0.1,"
					       "\"type\":\"RKMETableSpecification\"}";
		static const char bad_z[] = "{\"z\":[[1],[\"a\"]],\"beta\":[1,0],\"gamma\":0.1,"
					    "\"type\":\"HeteroMapTableSpecification\"}";
		lw_hetero_spec *x;

		assert_int_equal(lw_hetero_spec_from_json(&x, bad_type, sizeof(bad_type) - 1,
							  "t.json"), LW_EINVALID);
		assert_non_null(strstr(lw_error_last()->message, "HeteroMapTableSpecification"));
		assert_int_equal(lw_hetero_spec_from_json(&x, bad_z, sizeof(bad_z) - 1, "z.json"),
				 LW_EINVALID);
		assert_non_null(strstr(lw_error_last()->message, "z[1][0]"));
	}
	free(t1);
	free(t2);
	lw_hetero_spec_free(s);
	lw_hetero_spec_free(back);
	lw_hetero_spec_free(ref);
	lwt_rmtree(dir);
	free(dir);
}

static void test_hetero_spec__retrained_map_makes_specs_stale(void **state)
{
	fixture *f = *state;
	lw_hetero_options o;
	lw_hetero_map *next;
	lw_hetero_spec *old_spec, *new_spec;
	double d;

	/* the dock grows: one more learnware, a retrain, the next generation */
	test_options(&o);
	o.epochs = 2;
	o.generation = 1;
	assert_int_equal(lw_hetero_map_train(&next, f->src, f->n_dock - 1, &o), 0);
	assert_string_not_equal(lw_hetero_map_id(next), lw_hetero_map_id(f->map));
	assert_int_equal(lw_hetero_spec_new(&old_spec, f->map, f->dock[0].rkme, &f->dock[0].cols), 0);
	assert_int_equal(lw_hetero_spec_new(&new_spec, next, f->dock[0].rkme, &f->dock[0].cols), 0);
	assert_true(lw_hetero_spec_is_current(old_spec, f->map));
	assert_false(lw_hetero_spec_is_current(old_spec, next));
	assert_true(lw_hetero_spec_is_current(new_spec, next));
	assert_true(new_spec->map_generation == 1);
	assert_int_equal(lw_hetero_spec_dist(&d, old_spec, new_spec), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "different maps"));
	lw_hetero_spec_free(old_spec);
	lw_hetero_spec_free(new_spec);
	lw_hetero_map_free(next);
}

static void test_hetero_apply__refuses_bad_shapes(void **state)
{
	fixture *f = *state;
	lw_mat y, narrow;
	lw_hetero_source one;
	lw_hetero_map *m;
	lw_rkme *r1;
	lw_mat X1;

	/* embeddings for 2 columns given for a 3-column table */
	assert_int_equal(lw_mat_init(&narrow, 2, f->map->m), 0);
	assert_int_equal(lw_hetero_map_apply(&y, f->map, &f->dock[0].rkme->z, &narrow, NULL, NULL),
			 lw_rkme_dim(f->dock[0].rkme) == 2 ? 0 : LW_EINVALID);
	lw_mat_dispose(&y);
	lw_mat_dispose(&narrow);
	/* embeddings of another width */
	assert_int_equal(lw_mat_init(&narrow, lw_rkme_dim(f->dock[0].rkme), f->map->m + 1), 0);
	assert_int_equal(lw_hetero_map_apply(&y, f->map, &f->dock[0].rkme->z, &narrow, NULL, NULL),
			 LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "column embeddings"));
	lw_mat_dispose(&narrow);
	/* nothing with two columns to train on */
	assert_int_equal(lw_mat_init(&X1, 10, 1), 0);
	for (size_t i = 0; i < 10; i++)
		X1.data[i] = (double)i;
	r1 = fit(&X1, 5, 0);
	assert_int_equal(lw_mat_init(&narrow, 1, f->map->m), 0);
	narrow.data[0] = 1;
	one.rkme = r1;
	one.columns = &narrow;
	assert_int_equal(lw_hetero_map_train(&m, &one, 1, NULL), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "2 or more columns"));
	/* ... but a one-column table still maps */
	assert_int_equal(lw_hetero_map_apply(&y, f->map, &r1->z, &narrow, NULL, NULL), 0);
	assert_int_equal(y.rows, lw_rkme_k(r1));
	lw_mat_dispose(&y);
	lw_mat_dispose(&narrow);
	lw_mat_dispose(&X1);
	lw_rkme_free(r1);
}

/* ---- anchors --------------------------------------------------------- */

static void test_hetero_anchor__pools_statistics_of_a_description(void **state)
{
	fixture *f = *state;
	const size_t carat = 0;
	lw_mat dev, user;
	double sum = 0, sumsq = 0, mu, sd, pm, pv;
	double means[64], sds[64];
	size_t n = 0, a;

	/* the developers' "carat" description, in every dock table that has it */
	embed_cols(&dev, &f->diamonds, &carat, 1, 0);
	embed_cols(&user, &f->diamonds, &carat, 1, 1);
	for (size_t t = 0; t < f->n_dock; t++) {
		const lw_rkme *r = f->dock[t].rkme;

		for (size_t j = 0; j < lw_rkme_dim(r); j++)
			if (!memcmp(lw_mat_row(&f->dock[t].cols, j), dev.data, dev.cols * sizeof(double))) {
				double *m = malloc(lw_rkme_dim(r) * sizeof(double));
				double *d = malloc(lw_rkme_dim(r) * sizeof(double));

				assert_int_equal(lw_hetero_stats(m, d, &r->z, r->beta), 0);
				means[n] = m[j];
				sds[n++] = d[j];
				free(m);
				free(d);
			}
	}
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++)
		sum += means[i];
	pm = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sumsq += sds[i] * sds[i] + (means[i] - pm) * (means[i] - pm);
	pv = sumsq / (double)n;
	mu = sd = -1;
	a = lw__hetero_anchor(f->map, dev.data, &mu, &sd);
	assert_true(a != SIZE_MAX);
	lwt_assert_near(mu, pm, 1e-12 * (1 + fabs(pm)));
	lwt_assert_near(sd, sqrt(pv), 1e-12 * (1 + sqrt(pv)));
	print_message("carat in %zu dock tables: pooled mean %.4f, std %.4f\n", n, mu, sd);
	/* a paraphrase is another description: the table's own statistics stay */
	mu = sd = -1;
	assert_true(lw__hetero_anchor(f->map, user.data, &mu, &sd) == SIZE_MAX);
	assert_true(mu == -1 && sd == -1);
	lw_mat_dispose(&dev);
	lw_mat_dispose(&user);
}

static int cancel_at_once(const char *stage, double done, void *payload)
{
	(void)stage;
	(void)done;
	++*(int *)payload;
	return 1;
}

static void test_hetero_train__progress_can_cancel(void **state)
{
	fixture *f = *state;
	lw_hetero_options o;
	lw_hetero_map *m = (lw_hetero_map *)1;
	int calls = 0;

	test_options(&o);
	o.progress = cancel_at_once;
	o.payload = &calls;
	assert_int_equal(lw_hetero_map_train(&m, f->src, f->n_dock, &o), LW_ECANCEL);
	assert_null(m);
	assert_int_equal(calls, 1);
	o.progress = NULL;
	o.epochs = 0;
	o.steps = 0;
	assert_int_equal(lw_hetero_map_train(&m, f->src, f->n_dock, &o), LW_EINVALID);
	o.steps = 800;
	o.version = 99;
	assert_int_equal(lw_hetero_map_train(&m, f->src, f->n_dock, &o), LW_EINVALID);
	assert_non_null(strstr(lw_error_last()->message, "options version"));
}

/* ---- when heterogeneous search applies ------------------------------- */

static lw_semantic *semantic(const char *data, const char *task, size_t dim, size_t described,
			     const char *const *texts)
{
	lw_semantic *s;

	assert_int_equal(lw_semantic_new(&s), 0);
	assert_int_equal(lw_semantic_set_values(s, "Data", "Class", &data, data ? 1 : 0), 0);
	assert_int_equal(lw_semantic_set_values(s, "Task", "Class", &task, task ? 1 : 0), 0);
	if (dim != (size_t)-1) {
		assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_INPUT, dim), 0);
		for (size_t i = 0; i < described; i++)
			assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, i, texts[i]), 0);
	}
	return s;
}

static void test_hetero_rules__user_applies(void **state)
{
	static const char *const texts[] = { "weight in carats", "depth percentage", "table width",
					     "length in mm", "width in mm", "height in mm" };
	fixture *f = *state;
	lw_rkme *r = f->dock[0].rkme;
	size_t d = lw_rkme_dim(r);
	const char *why;
	lw_semantic *s;

	assert_true(d <= 5);
	s = semantic("Table", "Regression", d, 1, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 1);
	assert_string_equal(why, "applies");
	assert_int_equal(lw_hetero_user_applies(s, NULL, &why), 0);
	assert_non_null(strstr(why, "no table specification"));
	lw_semantic_free(s);

	s = semantic(NULL, NULL, d, d, texts); /* Data and Task empty */
	assert_int_equal(lw_hetero_user_applies(s, r, NULL), 1);
	lw_semantic_free(s);
	s = semantic("Table", "Classification", d, 2, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, NULL), 1);
	lw_semantic_free(s);

	s = semantic("Image", "Classification", d, d, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
	assert_non_null(strstr(why, "Data"));
	lw_semantic_free(s);
	s = semantic("Table", "Segmentation", d, d, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
	assert_non_null(strstr(why, "Task"));
	lw_semantic_free(s);
	s = semantic("Table", "Regression", d, 0, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
	assert_non_null(strstr(why, "describes none"));
	lw_semantic_free(s);
	s = semantic("Table", "Regression", d + 1, 1, texts);
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
	assert_non_null(strstr(why, "Dimension"));
	lw_semantic_free(s);
	s = semantic("Table", "Regression", (size_t)-1, 0, texts); /* no Input at all */
	assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
	assert_non_null(strstr(why, "Input.Dimension"));
	lw_semantic_free(s);
	{
		const char *two[] = { "Table", "Text" };

		assert_int_equal(lw_semantic_new(&s), 0);
		assert_int_equal(lw_semantic_set_values(s, "Data", "Class", two, 2), 0);
		assert_int_equal(lw_semantic_set_dim(s, LW_SEMANTIC_INPUT, d), 0);
		assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 0, "x"), 0);
		assert_int_equal(lw_hetero_user_applies(s, r, &why), 0);
		lw_semantic_free(s);
	}
}

static void test_hetero_rules__candidate_when_feature_space_differs(void **state)
{
	static const char *const a[] = { "Weight in carats", "depth  percentage", "table width" };
	static const char *const b[] = { "weight in  CARATS ", "Depth percentage", "table width" };
	static const char *const c[] = { "weight in carats", "depth percentage", "price in USD" };
	lw_semantic *u = semantic("Table", "Regression", 3, 3, a);
	lw_semantic *same = semantic("Table", "Regression", 3, 3, b);
	lw_semantic *other = semantic("Table", "Regression", 3, 3, c);
	lw_semantic *fewer = semantic("Table", "Regression", 3, 2, b);

	(void)state;
	assert_int_equal(lw_hetero_is_candidate(u, 3, same, 3), 0);
	assert_int_equal(lw_hetero_is_candidate(u, 3, other, 3), 1);
	assert_int_equal(lw_hetero_is_candidate(u, 3, fewer, 3), 1);
	assert_int_equal(lw_hetero_is_candidate(u, 3, same, 4), 1);
	assert_int_equal(lw_hetero_is_candidate(u, 2, same, 3), 1);
	lw_semantic_free(u);
	lw_semantic_free(same);
	lw_semantic_free(other);
	lw_semantic_free(fewer);
}

/* ---- descriptions through the project's text encoder ----------------- */

static void test_hetero_columns__from_semantic_descriptions(void **state)
{
	static const char *const texts[] = { "weight of the diamond in carats", NULL,
					     "length in mm" };
	fixture *f = *state;
	const lw_text_encoder *enc;
	lw_semantic *s;
	lw_mat cols, one;
	lw_hetero_spec *spec;
	lw_rkme *r;
	lw_mat X;
	const char *unknown = "Unknown Feature";

	if (lw_text_encoder_builtin(&enc) != 0) {
		lw_error_clear();
		print_message("no text encoder compiled in: skipped\n");
		skip();
	}
	s = semantic("Table", "Regression", 3, 1, texts);
	assert_int_equal(lw_semantic_set_feature(s, LW_SEMANTIC_INPUT, 2, texts[2]), 0);
	assert_int_equal(lw_hetero_columns(&cols, NULL, s, 3), 0);
	assert_int_equal(cols.rows, 3);
	assert_int_equal(cols.cols, lw_text_encoder_dim(enc));
	assert_int_equal(lw_text_encode(&one, NULL, &unknown, NULL, 1), 0);
	assert_memory_equal(lw_mat_row(&cols, 1), one.data, one.cols * sizeof(double));
	lw_mat_dispose(&one);
	if (cols.cols == f->map->m) {
		lw_rng rng;

		lw_rng_seed(&rng, 5);
		assert_int_equal(lw_mat_init(&X, 50, 3), 0);
		for (size_t i = 0; i < 150; i++)
			X.data[i] = lw_rng_normal(&rng);
		r = fit(&X, 10, 0);
		assert_int_equal(lw_hetero_spec_from_semantic(&spec, f->map, r, s, NULL), 0);
		assert_int_equal(lw_rkme_k(spec->rkme), 10);
		lw_hetero_spec_free(spec);
		lw_rkme_free(r);
		lw_mat_dispose(&X);
	}
	lw_mat_dispose(&cols);
	lw_semantic_free(s);
}

/* ---- evaluation (LW_HETERO_EVAL=1): the figures of docs/hetero.md ----- */

/* Row groups of a data set: sub-populations (diamonds cut x colour, letters). */
typedef struct {
	const dataset *ds;
	size_t n_groups;
	size_t *group;          /* per row */
	lw_mat mu_sd;           /* 2 x d: global mean and std, for the oracle */
} grouped;

static size_t label_index(const char *label, const char *const *levels)
{
	for (size_t i = 0; levels[i]; i++)
		if (!strcmp(label, levels[i]))
			return i;
	fail_msg("unknown level '%s'", label);
	return 0;
}

static char **read_labels(const char *file, const char *target, size_t rows)
{
	lw_data_options o = LW_DATA_OPTIONS_INIT;
	char **labels;
	lw_mat X;

	o.columns = "1";
	assert_int_equal(lw_data_read_target(&X, NULL, &labels, lwt_shared_path(file), target, &o), 0);
	assert_int_equal(X.rows, rows);
	lw_mat_dispose(&X);
	return labels;
}

static void group_stats(grouped *g)
{
	const lw_mat *X = &g->ds->X;

	assert_int_equal(lw_mat_init(&g->mu_sd, 2, X->cols), 0);
	assert_int_equal(lw_hetero_stats(g->mu_sd.data, g->mu_sd.data + X->cols, X, NULL), 0);
}

static void group_diamonds(grouped *g, const dataset *ds)
{
	static const char *const cuts[] = { "Fair", "Good", "Very Good", "Premium", "Ideal", NULL };
	static const char *const colours[] = { "D", "E", "F", "G", "H", "I", "J", NULL };
	char **cut = read_labels("data/diamonds.csv", "cut", ds->X.rows);
	char **colour = read_labels("data/diamonds.csv", "color", ds->X.rows);

	g->ds = ds;
	g->n_groups = 35;
	g->group = malloc(ds->X.rows * sizeof(size_t));
	for (size_t i = 0; i < ds->X.rows; i++)
		g->group[i] = 7 * label_index(cut[i], cuts) + label_index(colour[i], colours);
	lw_data_free_names(cut);
	lw_data_free_names(colour);
	group_stats(g);
}

static void group_letter(grouped *g, const dataset *ds)
{
	char **label = read_labels("data/letter.csv", "label", ds->X.rows);

	g->ds = ds;
	g->n_groups = 26;
	g->group = malloc(ds->X.rows * sizeof(size_t));
	for (size_t i = 0; i < ds->X.rows; i++)
		g->group[i] = (size_t)(label[i][0] - 'A');
	lw_data_free_names(label);
	group_stats(g);
}

/* Boston has no sub-populations to speak of: 4 random groups. */
static void group_boston(grouped *g, const dataset *ds)
{
	lw_rng rng;

	lw_rng_seed(&rng, 77);
	g->ds = ds;
	g->n_groups = 4;
	g->group = malloc(ds->X.rows * sizeof(size_t));
	for (size_t i = 0; i < ds->X.rows; i++)
		g->group[i] = (size_t)lw_rng_below(&rng, 4);
	group_stats(g);
}

/* Up to max rows of group gi with the given parity (even: developers, odd: users). */
static size_t group_rows(size_t *out, const grouped *g, size_t gi, int parity, size_t max)
{
	size_t n = 0;

	for (size_t i = (size_t)parity; i < g->ds->X.rows && n < max; i += 2)
		if (g->group[i] == gi)
			out[n++] = i;
	return n;
}

/* The oracle: an RKME of the rows on every column, standardised by the data set's stats. */
static lw_rkme *oracle_rkme(const grouped *g, const size_t *rows, size_t n, uint64_t seed)
{
	size_t d = g->ds->d;
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_rkme *r;
	lw_mat X;

	assert_int_equal(lw_mat_init(&X, n, d), 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < d; j++)
			X.data[i * d + j] = (g->ds->X.data[rows[i] * d + j] - g->mu_sd.data[j]) /
					    g->mu_sd.data[d + j];
	o.k = 50;
	o.seed = seed;
	o.gamma = 1.0 / (double)d;
	assert_int_equal(lw_rkme_fit(&r, &X, &o), 0);
	lw_mat_dispose(&X);
	return r;
}

typedef struct {
	table t;
	size_t set, group;
	lw_rkme *oracle; /* borrowed from the group's, or owned (users) */
	lw_rkme *spec;   /* the points in the shared space, for the map being scored */
	table twin;      /* users: the same rows through other columns */
} eval_lw;

static double spearman(const double *a, const double *b, size_t n)
{
	double *ra = malloc(n * sizeof(double)), *rb = malloc(n * sizeof(double)), ma = 0, mb = 0;
	double sab = 0, saa = 0, sbb = 0;

	for (size_t i = 0; i < n; i++) {
		ra[i] = rb[i] = 0;
		for (size_t j = 0; j < n; j++) {
			ra[i] += (a[j] < a[i]) + 0.5 * (a[j] == a[i] && j != i);
			rb[i] += (b[j] < b[i]) + 0.5 * (b[j] == b[i] && j != i);
		}
		ma += ra[i] / (double)n;
		mb += rb[i] / (double)n;
	}
	for (size_t i = 0; i < n; i++) {
		sab += (ra[i] - ma) * (rb[i] - mb);
		saa += (ra[i] - ma) * (ra[i] - ma);
		sbb += (rb[i] - mb) * (rb[i] - mb);
	}
	free(ra);
	free(rb);
	return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
}

static void random_cols(size_t *cols, size_t *k, size_t d, lw_rng *rng)
{
	size_t lo = d < 4 ? 2 : 3, hi = d < 10 ? d - 1 : 10;

	*k = lo + (size_t)lw_rng_below(rng, hi - lo + 1);
	pick_cols(cols, *k, d, rng);
}

/* The table's hetero specification under map, with kernel width gamma. */
static lw_rkme *eval_spec(const lw_hetero_map *map, const table *t, double gamma)
{
	lw_hetero_spec *s;
	lw_rkme *r;
	lw_mat Y;

	assert_int_equal(lw_hetero_spec_new(&s, map, t->rkme, &t->cols), 0);
	assert_int_equal(lw_mat_copy(&Y, &s->rkme->z), 0);
	assert_int_equal(lw_rkme_new(&r, &Y, s->rkme->beta, gamma, s->rkme->num_points), 0);
	lw_mat_dispose(&Y);
	lw_hetero_spec_free(s);
	return r;
}

/*
 * Score a map: each user ranks every learnware by MMD^2 between hetero
 * specifications.  Across data sets: is the nearest learnware from the
 * user's data set, and the reciprocal rank of the first that is.  Within
 * diamonds and letter: Spearman correlation, over that data set's
 * learnwares, with the oracle (MMD^2 on every column, same rows), and
 * whether the nearest is from the user's own group.
 */
static void eval_score(const char *label, const lw_hetero_map *map, double gamma, eval_lw *lw,
		       size_t n_lw, eval_lw *us, size_t n_us, const users *ab)
{
	size_t set_hits = 0, group_hits[3] = { 0 }, group_users[3] = { 0 };
	double rho[3] = { 0 }, mrr = 0, *hd = malloc(n_lw * sizeof(double));
	double *hs = malloc(n_lw * sizeof(double)), *od = malloc(n_lw * sizeof(double));

	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n_lw; i++) {
		lw_rkme_free(lw[i].spec);
		lw[i].spec = eval_spec(map, &lw[i].t, gamma);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("%s: %zu hetero specifications in %.3f s\n", label, n_lw,
		      (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
	size_t twin_wins = 0, twin_pairs = 0;
	lw_rkme **sp_all = malloc(2 * n_us * sizeof(lw_rkme *));

	for (size_t u = 0; u < n_us; u++) {
		sp_all[2 * u] = eval_spec(map, &us[u].t, gamma);
		sp_all[2 * u + 1] = eval_spec(map, &us[u].twin, gamma);
	}
	/* same rows through two column sets, against every table of another data set */
	for (size_t u = 0; u < n_us; u++) {
		double dt;

		assert_int_equal(lw_rkme_dist(&dt, sp_all[2 * u], sp_all[2 * u + 1]), 0);
		for (size_t v = 0; v < 2 * n_us; v++) {
			double dv;

			if (us[v / 2].set == us[u].set)
				continue;
			assert_int_equal(lw_rkme_dist(&dv, sp_all[2 * u], sp_all[v]), 0);
			twin_wins += dt < dv;
			twin_pairs++;
		}
	}
	for (size_t u = 0; u < n_us; u++) {
		size_t s = us[u].set, best = 0, first = 1, m = 0, bw = SIZE_MAX;
		lw_rkme *sp = sp_all[2 * u];

		for (size_t i = 0; i < n_lw; i++) {
			assert_int_equal(lw_rkme_dist(&hd[i], sp, lw[i].spec), 0);
			if (hd[i] < hd[best])
				best = i;
		}
		set_hits += lw[best].set == s;
		for (size_t i = 0; i < n_lw; i++)
			if (lw[i].set != s) {
				int before = 1;

				for (size_t j = 0; j < n_lw; j++)
					if (lw[j].set == s && hd[j] <= hd[i])
						before = 0;
				first += before;
			}
		mrr += 1.0 / (double)first;
		for (size_t i = 0; i < n_lw; i++)
			if (lw[i].set == s) {
				hs[m] = hd[i];
				assert_int_equal(lw_rkme_dist(&od[m], us[u].oracle, lw[i].oracle), 0);
				m++;
				if (bw == SIZE_MAX || hd[i] < hd[bw])
					bw = i;
			}
		if (s != 1) {
			rho[s] += spearman(hs, od, m);
			group_hits[s] += lw[bw].group == us[u].group;
			group_users[s]++;
		}
	}
	for (size_t u = 0; u < 2 * n_us; u++)
		lw_rkme_free(sp_all[u]);
	free(sp_all);
	{
		lw_rkme *a = eval_spec(map, &ab->a, gamma), *b = eval_spec(map, &ab->b, gamma);
		lw_rkme *bos = eval_spec(map, &ab->boston, gamma);
		lw_rkme *let = eval_spec(map, &ab->letter, gamma);
		double dab, dabos, dbbos, dalet, dblet;

		lw_rkme_dist(&dab, a, b);
		lw_rkme_dist(&dabos, a, bos);
		lw_rkme_dist(&dbbos, b, bos);
		lw_rkme_dist(&dalet, a, let);
		lw_rkme_dist(&dblet, b, let);
		print_message("%-10s gamma %.3g | A-B/nearest other %.2f | same rows AUC %.3f | nearest "
			      "from own data set %zu/%zu, MRR %.3f | diamonds: rho %.3f, own group "
			      "%zu/%zu | letter: rho %.3f, own letter %zu/%zu\n",
			      label, gamma, dab / fmin(fmin(dabos, dbbos), fmin(dalet, dblet)),
			      (double)twin_wins / (double)twin_pairs, set_hits, n_us,
			      mrr / (double)n_us, rho[0] / (double)group_users[0], group_hits[0],
			      group_users[0], rho[2] / (double)group_users[2], group_hits[2],
			      group_users[2]);
		lw_rkme_free(a);
		lw_rkme_free(b);
		lw_rkme_free(bos);
		lw_rkme_free(let);
	}
	free(hd);
	free(hs);
	free(od);
}

/* "key=value,..." over the options, for the ablations of docs/hetero.md. */
static void eval_options(lw_hetero_options *o, const char *spec)
{
	char buf[512], *save = NULL;

	if (!spec)
		return;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		double v;

		if (!eq)
			fail_msg("LW_HETERO_EVAL_OPTS: '%s' is not key=value", kv);
		*eq = '\0';
		v = atof(eq + 1);
		if (!strcmp(kv, "noise"))
			o->noise = v;
		else if (!strcmp(kv, "anchors"))
			o->anchors = (int)v;
		else if (!strcmp(kv, "set_weight"))
			o->set_weight = v;
		else if (!strcmp(kv, "set_temperature"))
			o->set_temperature = v;
		else if (!strcmp(kv, "temperature"))
			o->temperature = v;
		else if (!strcmp(kv, "gamma"))
			o->gamma = v;
		else if (!strcmp(kv, "epochs"))
			o->epochs = (unsigned int)v;
		else if (!strcmp(kv, "steps"))
			o->steps = (unsigned int)v;
		else if (!strcmp(kv, "partitions"))
			o->partitions = (unsigned int)v;
		else if (!strcmp(kv, "out_dim"))
			o->out_dim = (size_t)v;
		else if (!strcmp(kv, "lr"))
			o->lr = v;
		else
			fail_msg("LW_HETERO_EVAL_OPTS: unknown option '%s'", kv);
	}
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

/*
 * LW_HETERO_EVAL=R: a dock of every diamonds group (cut x colour, 35),
 * every letter (26) and 4 random groups of boston, R learnwares each on
 * random column subsets of even rows (developers' descriptions); 12 users
 * per data set on odd rows of a random group with their own column subset
 * (the users' descriptions for diamonds).
 */
static void test_hetero_eval__dock_figures(void **state)
{
	fixture *f = *state;
	const char *env = getenv("LW_HETERO_EVAL");
	size_t reps = env && atoi(env) > 0 ? (size_t)atoi(env) : 1;
	grouped sets[3];
	lw_rkme **oracles[3];
	eval_lw *lw, us[36];
	size_t n_lw = 0, n_us = 0, cap = 0, *rows, cols[32], k;
	lw_hetero_source *src;
	lw_hetero_options o;
	lw_hetero_map *untrained, *trained;
	lw_hetero_map_info info;
	lw_rng rng;
	users ab;
	struct timespec t0;

	if (!env) {
		print_message("set LW_HETERO_EVAL=1 (or the column subsets per group) to run\n");
		skip();
	}
	rows = malloc(2000 * sizeof(size_t));
	group_diamonds(&sets[0], &f->diamonds);
	group_boston(&sets[1], &f->boston);
	group_letter(&sets[2], &f->letter);
	lw_rng_seed(&rng, 2024);
	for (size_t s = 0; s < 3; s++)
		cap += sets[s].n_groups * reps;
	lw = calloc(cap, sizeof(*lw));
	src = calloc(cap, sizeof(*src));
	for (size_t s = 0; s < 3; s++) {
		oracles[s] = calloc(sets[s].n_groups, sizeof(lw_rkme *));
		for (size_t gi = 0; gi < sets[s].n_groups; gi++) {
			size_t n = group_rows(rows, &sets[s], gi, 0, 1000);

			oracles[s][gi] = oracle_rkme(&sets[s], rows, n, gi);
			for (size_t r = 0; r < reps; r++, n_lw++) {
				random_cols(cols, &k, sets[s].ds->d, &rng);
				table_make(&lw[n_lw].t, sets[s].ds, rows, n, cols, k, 0, 100, n_lw);
				lw[n_lw].set = s;
				lw[n_lw].group = gi;
				lw[n_lw].oracle = oracles[s][gi];
				src[n_lw].rkme = lw[n_lw].t.rkme;
				src[n_lw].columns = &lw[n_lw].t.cols;
			}
		}
	}
	lw_rng_seed(&rng, 99);
	for (size_t s = 0; s < 3; s++)
		for (size_t u = 0; u < 12; u++, n_us++) {
			size_t gi = (size_t)lw_rng_below(&rng, sets[s].n_groups);
			size_t n = group_rows(rows, &sets[s], gi, 1, 1000);

			random_cols(cols, &k, sets[s].ds->d, &rng);
			table_make(&us[n_us].t, sets[s].ds, rows, n, cols, k, 1, 100, 500 + n_us);
			random_cols(cols, &k, sets[s].ds->d, &rng);
			table_make(&us[n_us].twin, sets[s].ds, rows, n, cols, k, 1, 100, 700 + n_us);
			us[n_us].oracle = oracle_rkme(&sets[s], rows, n, 900 + n_us);
			us[n_us].set = s;
			us[n_us].group = gi;
			us[n_us].spec = NULL;
		}
	make_users(&ab, f, 50);
	lw_hetero_options_init(&o);
	eval_options(&o, getenv("LW_HETERO_EVAL_OPTS"));
	assert_int_equal(lw_hetero_map_new(&untrained, f->map->m, &o), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(lw_hetero_map_train(&trained, src, n_lw, &o), 0);
	lw_hetero_map_get_info(&info, trained);
	print_message("eval dock: %zu learnwares, %zu rows; trained in %.1f s (%u epochs, loss %.3f "
		      "-> %.3f, gamma %.3g)\n",
		      n_lw, info.rows, seconds_since(&t0), info.epochs, info.loss_initial,
		      info.loss_final, info.gamma);
	eval_score("untrained", untrained, 1.0, lw, n_lw, us, n_us, &ab);
	for (double g = 0.5; g <= 2; g *= 2)
		eval_score("trained", trained, g * info.gamma, lw, n_lw, us, n_us, &ab);
	for (size_t i = 0; i < n_lw; i++) {
		table_dispose(&lw[i].t);
		lw_rkme_free(lw[i].spec);
	}
	for (size_t u = 0; u < n_us; u++) {
		table_dispose(&us[u].t);
		table_dispose(&us[u].twin);
		lw_rkme_free(us[u].oracle);
	}
	for (size_t s = 0; s < 3; s++) {
		for (size_t gi = 0; gi < sets[s].n_groups; gi++)
			lw_rkme_free(oracles[s][gi]);
		free(oracles[s]);
		free(sets[s].group);
		lw_mat_dispose(&sets[s].mu_sd);
	}
	users_dispose(&ab);
	free(lw);
	free(src);
	free(rows);
	lw_hetero_map_free(untrained);
	lw_hetero_map_free(trained);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hetero_grad__matches_finite_differences),
		cmocka_unit_test(test_hetero_map__same_seed_same_map),
		cmocka_unit_test(test_hetero_train__lowers_contrastive_loss),
		cmocka_unit_test(test_hetero_train__narrow_and_wide_tables),
		cmocka_unit_test(test_hetero_spec__same_rows_other_columns_closer_than_other_data),
		cmocka_unit_test(test_hetero_map_file__round_trip_bit_for_bit),
		cmocka_unit_test(test_hetero_map_file__refuses_corrupt_and_foreign_files),
		cmocka_unit_test(test_hetero_spec_json__round_trip_and_reference_files),
		cmocka_unit_test(test_hetero_spec__retrained_map_makes_specs_stale),
		cmocka_unit_test(test_hetero_apply__refuses_bad_shapes),
		cmocka_unit_test(test_hetero_anchor__pools_statistics_of_a_description),
		cmocka_unit_test(test_hetero_train__progress_can_cancel),
		cmocka_unit_test(test_hetero_rules__user_applies),
		cmocka_unit_test(test_hetero_rules__candidate_when_feature_space_differs),
		cmocka_unit_test(test_hetero_columns__from_semantic_descriptions),
		cmocka_unit_test(test_hetero_eval__dock_figures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
