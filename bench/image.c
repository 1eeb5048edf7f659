/*
 * bench/image: the learnware paper's image experiment (its CIFAR-10
 * protocol) on Fashion-MNIST.
 *
 * Each learnware is trained on an unbalanced subset of four classes
 * (0.4:0.4:0.1:0.1) of the training images: an MLP on
 * lw_image_model_rows, the image RKME (lw_rkme_image_fit) as its
 * specification, and a table RKME of its model rows for the job selector.
 * Each user holds test images of six classes (0.3:0.3:0.1:0.1:0.1:0.1),
 * fits the image RKME of them the same way and searches the market with
 * lw_stat_search_space in the cnn_gp kernel.  Reported: the mean and the
 * best learnware of the market on the user's images, the Top-1 result,
 * the job selector and averaging over the recommended mixture; then, with
 * n labelled images, the user's own MLP against ensemble pruning and
 * feature augmentation over the search's best candidates.  Also the
 * distribution of the specifications' distances, which the image score
 * transform is scaled by (docs/rkme-image.md).
 *
 * Usage: bench_image [--quick] [--out DIR] [--learnwares N] [--users N]
 *                    [--per-learnware N] [--curve-users N] [--spec-steps N]
 * Fashion-MNIST is read from /usr/share/datasets/fashion-mnist (Debian's
 * dataset-fashion-mnist) or $LW_FASHION_MNIST.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evalkit.h"
#include "lw.h"

#define N_CLASSES 10
#define LW_CLASSES 4
#define USER_CLASSES 6
/* Candidates the labelled reusers draw on: the mixture, then the nearest. */
#define MAX_CANDIDATES 6
/*
 * Table RKMEs of model rows (1024 values in [0, 1]) for the job selector:
 * the default gamma 0.1 makes exp(-0.1 |x - y|^2) vanish between any two
 * images (median |x - y|^2 is about 90 here), so gamma is 1 / 90.
 */
#define TABLE_GAMMA (1.0 / 90.0)
/* Their reduced points: 50 rather than 100 halves the fit (about 1.4 s in 1024 dimensions). */
#define TABLE_K 50

static const char *const class_names[N_CLASSES] = { "T-shirt/top", "Trouser", "Pullover", "Dress",
						    "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
						    "Ankle boot" };
static const double lw_props[LW_CLASSES] = { 0.4, 0.4, 0.1, 0.1 };
static const double user_props[USER_CLASSES] = { 0.3, 0.3, 0.1, 0.1, 0.1, 0.1 };

typedef struct {
	size_t learnwares, per_lw, users, per_user, curve_users, repeats;
	size_t spec_k, spec_steps;
	size_t sizes[EK_MAX_SIZES], n_sizes;
	int quick;
	const char *out;
} params;

/* One class's images, as read (1 x 28 x 28, 0..255). */
typedef struct {
	lw_image_batch train[N_CLASSES], test[N_CLASSES];
} fmnist;

/* A set of images with their labels. */
typedef struct {
	lw_image_batch img;
	double *y;
	lw_mat rows; /* lw_image_model_rows */
} imageset;

typedef struct {
	char id[32];
	size_t classes[LW_CLASSES];
	lw_model *model;
	lw_rkme_image *spec;
	lw_rkme *table;
} learnware;

typedef struct {
	learnware *lw;
	size_t n;
	double *inner; /* n x n: <spec_i, spec_j> */
} market;

/* ---- data ------------------------------------------------------------------------------ */

static void read_split(lw_image_batch *out, const char *dir, const char *images, const char *labels)
{
	char ipath[4200], lpath[4200], what[4300];
	const char *paths[1] = { ipath };

	snprintf(ipath, sizeof(ipath), "%s/%s", dir, images);
	snprintf(lpath, sizeof(lpath), "%s/%s", dir, labels);
	for (int c = 0; c < N_CLASSES; c++) {
		lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;

		o.labels = lpath;
		o.label = c;
		snprintf(what, sizeof(what), "%s (install dataset-fashion-mnist or set LW_FASHION_MNIST)",
			 ipath);
		if (lw_image_read(&out[c], paths, 1, &o) < 0)
			ek_die(what);
	}
}

static void read_fmnist(fmnist *d)
{
	const char *dir = getenv("LW_FASHION_MNIST");

	if (!dir)
		dir = "/usr/share/datasets/fashion-mnist";
	read_split(d->train, dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz");
	read_split(d->test, dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
}

/* n images drawn without replacement in proportions props over classes cls, shuffled. */
static void draw_set(imageset *s, const lw_image_batch *pools, const size_t *cls, const double *props,
		     size_t k, size_t n, lw_rng *rng)
{
	const lw_image_batch *p0 = &pools[cls[0]];
	size_t stride = lw_image_batch_stride(p0), m = 0, *order;
	size_t (*src)[2] = ek_alloc(n, sizeof(*src));

	for (size_t c = 0; c < k; c++) {
		const lw_image_batch *pool = &pools[cls[c]];
		size_t want = (size_t)llround(props[c] * (double)n), *pick;

		if (want > pool->n)
			want = pool->n;
		pick = ek_alloc(pool->n, sizeof(size_t));
		if (lw_rng_sample(rng, pick, want, pool->n) < 0)
			ek_die("sample");
		for (size_t i = 0; i < want && m < n; i++) {
			src[m][0] = cls[c];
			src[m++][1] = pick[i];
		}
		free(pick);
	}
	order = ek_iota(m);
	ek_shuffle(order, m, rng);
	if (lw_image_batch_init(&s->img, m, p0->c, p0->h, p0->w) < 0)
		ek_die("images");
	s->y = ek_alloc(m, sizeof(double));
	for (size_t i = 0; i < m; i++) {
		size_t c = src[order[i]][0], j = src[order[i]][1];

		memcpy(lw_image_batch_at(&s->img, i), lw_image_batch_at(&pools[c], j), stride * sizeof(float));
		s->y[i] = (double)c;
	}
	if (lw_image_model_rows(&s->rows, &s->img) < 0)
		ek_die("model rows");
	free(order);
	free(src);
}

static void imageset_dispose(imageset *s)
{
	lw_image_batch_dispose(&s->img);
	lw_mat_dispose(&s->rows);
	free(s->y);
}

/* Rows idx[0..n) of s (images not copied: the reusers need rows only). */
static void take_rows(lw_mat *X, double **y, const imageset *s, const size_t *idx, size_t n)
{
	if (lw_mat_take_rows(X, &s->rows, idx, n) < 0)
		ek_die("rows");
	*y = ek_alloc(n, sizeof(double));
	for (size_t i = 0; i < n; i++)
		(*y)[i] = s->y[idx[i]];
}

/* ---- models and specifications --------------------------------------------------------- */

/* The MLP of learnwares and of users with labels; tiny sets get no hold-out. */
static lw_model *train_mlp(const lw_mat *X, const double *y, uint64_t seed)
{
	lw_train_options o = LW_TRAIN_OPTIONS_INIT;
	lw_model *m = NULL;

	o.kind = LW_MODEL_MLP;
	o.task = LW_TASK_CLASSIFICATION;
	o.classes = class_names;
	o.n_classes = N_CLASSES;
	o.seed = seed;
	o.hidden[0] = 128;
	o.hidden[1] = 0;
	o.epochs = 60;
	o.early_stopping = 5;
	if (X->rows < 100) {
		o.holdout = 0;
		o.early_stopping = 0;
		o.epochs = 100;
	}
	if (lw_train(&m, NULL, X, y, &o) < 0)
		ek_die("train");
	return m;
}

static lw_rkme_image *fit_spec(const imageset *s, const params *p, uint64_t seed)
{
	lw_rkme_image_options o = LW_RKME_IMAGE_OPTIONS_INIT;
	lw_rkme_image *r = NULL;

	o.k = p->spec_k;
	o.steps = (unsigned int)p->spec_steps;
	o.seed = seed;
	if (lw_rkme_image_fit(&r, &s->img, &o) < 0)
		ek_die("image specification");
	return r;
}

static lw_rkme *fit_table(const lw_mat *rows, uint64_t seed)
{
	lw_rkme_options o = LW_RKME_OPTIONS_INIT;
	lw_rkme *r = NULL;

	o.gamma = TABLE_GAMMA;
	o.k = TABLE_K;
	o.seed = seed;
	if (lw_rkme_fit(&r, rows, &o) < 0)
		ek_die("table RKME");
	return r;
}

/* Median squared distance between model rows of the first learnware's set, for TABLE_GAMMA. */
static double median_sqdist(const lw_mat *X)
{
	size_t n = X->rows < 300 ? X->rows : 300, m = 0;
	double *d = ek_alloc(n * n / 2 + 1, sizeof(double)), med;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			double s = 0;

			for (size_t c = 0; c < X->cols; c++) {
				double t = lw_mat_row(X, i)[c] - lw_mat_row(X, j)[c];

				s += t * t;
			}
			d[m++] = s;
		}
	med = ek_pct(d, m, 0.5);
	free(d);
	return med;
}

static void build_market(market *mk, const fmnist *d, const params *p, lw_rng *rng)
{
	double t0 = ek_now();

	mk->n = p->learnwares;
	mk->lw = ek_alloc(mk->n, sizeof(learnware));
	for (size_t i = 0; i < mk->n; i++) {
		learnware *l = &mk->lw[i];
		imageset s;

		snprintf(l->id, sizeof(l->id), "lw%02zu", i);
		ek_distinct(l->classes, LW_CLASSES, N_CLASSES, rng);
		draw_set(&s, d->train, l->classes, lw_props, LW_CLASSES, p->per_lw, rng);
		if (i == 0)
			printf("median squared distance between model rows: %.1f (table RKME gamma 1/%.0f)\n",
			       median_sqdist(&s.rows), 1.0 / TABLE_GAMMA);
		l->model = train_mlp(&s.rows, s.y, 100 + i);
		l->spec = fit_spec(&s, p, 100 + i);
		l->table = fit_table(&s.rows, 100 + i);
		imageset_dispose(&s);
		fprintf(stderr, "\r  learnware %zu/%zu (%.0f s)", i + 1, mk->n, ek_now() - t0);
	}
	mk->inner = ek_alloc(mk->n * mk->n, sizeof(double));
	for (size_t i = 0; i < mk->n; i++)
		for (size_t j = 0; j <= i; j++) {
			if (lw_rkme_image_inner(&mk->inner[i * mk->n + j], mk->lw[i].spec, mk->lw[j].spec) < 0)
				ek_die("inner product");
			mk->inner[j * mk->n + i] = mk->inner[i * mk->n + j];
		}
	fprintf(stderr, "\n");
	printf("market: %zu learnwares in %.0f s\n", mk->n, ek_now() - t0);
}

static void market_dispose(market *mk)
{
	for (size_t i = 0; i < mk->n; i++) {
		lw_model_free(mk->lw[i].model);
		lw_rkme_image_free(mk->lw[i].spec);
		lw_rkme_free(mk->lw[i].table);
	}
	free(mk->lw);
	free(mk->inner);
}

/* ---- search ---------------------------------------------------------------------------- */

/* The user's side of the search space: inner products computed once, reused by every search. */
typedef struct {
	const market *mk;
	const lw_rkme_image *user;
	double *user_inner; /* n: <user, spec_i> */
	double *dist;       /* n: MMD^2 */
} space;

static int space_dist_all(double *d, void *payload)
{
	const space *s = payload;

	memcpy(d, s->dist, s->mk->n * sizeof(double));
	return 0;
}

static int space_inner_user(double *out, size_t i, void *payload)
{
	const space *s = payload;

	*out = s->user_inner[i];
	return 0;
}

static int space_inner(double *out, size_t i, size_t j, void *payload)
{
	const space *s = payload;

	*out = s->mk->inner[i * s->mk->n + j];
	return 0;
}

static void space_init(space *s, const market *mk, const lw_rkme_image *user)
{
	s->mk = mk;
	s->user = user;
	s->user_inner = ek_alloc(mk->n, sizeof(double));
	s->dist = ek_alloc(mk->n, sizeof(double));
	for (size_t i = 0; i < mk->n; i++) {
		if (lw_rkme_image_inner(&s->user_inner[i], user, mk->lw[i].spec) < 0)
			ek_die("user inner product");
		s->dist[i] = user->self_inner - 2 * s->user_inner[i] + mk->lw[i].spec->self_inner;
	}
}

static void space_dispose(space *s)
{
	free(s->user_inner);
	free(s->dist);
}

/* The reference searcher's transform, to compare ours with. */
static double reference_transform(double d)
{
	return 1.0 - exp(-d / 5e-5);
}

static void search(lw_stat_search_result *res, space *s, double (*transform)(double))
{
	lw_search_space sp = { s->mk->n, s->user->self_inner, space_dist_all, space_inner_user,
			       space_inner, transform, s };

	if (lw_stat_search_space(res, &sp, NULL) < 0 || res->n_singles == 0)
		ek_die("search");
}

/* ---- one user -------------------------------------------------------------------------- */

/* What the search says, for the score-transform report. */
typedef struct {
	double top1_score[2], mix_score[2]; /* [0] reference transform, [1] ours */
	size_t kept[2];
	int has_mix, top1_is_best;
	size_t top1, mix_size;
} search_stats;

static void members_of(lw_reuse_member *mem, const market *mk, const size_t *which, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mem[i].id = mk->lw[which[i]].id;
		mem[i].model = mk->lw[which[i]].model;
		mem[i].rkme = mk->lw[which[i]].table;
	}
}

static double reuse(const market *mk, const size_t *which, size_t n, lw_reuse_method method,
		    const params *p, const lw_mat *Xf, const double *yf, const lw_rkme *urkme,
		    const lw_mat *Xe, const double *ye, uint64_t seed)
{
	lw_reuse_options o;
	lw_reuse_member mem[MAX_CANDIDATES + 8];
	double a;

	(void)p;
	members_of(mem, mk, which, n);
	ek_reuse_options(&o, method, N_CLASSES, seed);
	a = ek_reuse_accuracy(mem, n, &o, Xf, yf, urkme, Xe, ye);
	return a;
}

/* Nearest first, by MMD^2. */
static const double *sort_key;
static int by_key(const void *a, const void *b)
{
	double x = sort_key[*(const size_t *)a], y = sort_key[*(const size_t *)b];

	return (x > y) - (x < y);
}

/* Seconds spent per stage, over all users. */
enum { T_SPEC, T_PREDICT, T_SEARCH, T_JOB, T_AVG, T_LAB, T_N };
static double stage_time[T_N];
static const char *const stage_names[T_N] = { "user specification", "market predictions", "search",
					      "job selector", "averaging", "labelled reuse" };

static double lap(int stage, double since)
{
	double t = ek_now();

	stage_time[stage] += t - since;
	return t;
}

/* Data-free figures; the labelled reusers' candidates come back in cand. */
static void evaluate_free(double *res, search_stats *st, size_t *cand, size_t *n_cand, const market *mk,
			  const imageset *u, space *s, const params *p, uint64_t seed)
{
	lw_stat_search_result r0, r1;
	double *acc = ek_alloc(mk->n, sizeof(double)), best = 0, sum = 0;
	size_t mix[MAX_CANDIDATES + 8], n_mix = 0, *near = ek_iota(mk->n);
	lw_rkme *urkme = fit_table(&u->rows, seed);
	double t = ek_now();

	for (size_t i = 0; i < mk->n; i++) {
		acc[i] = ek_model_accuracy(mk->lw[i].model, &u->rows, u->y);
		sum += acc[i];
		best = fmax(best, acc[i]);
	}
	res[EK_MEAN] = sum / (double)mk->n;
	res[EK_BEST] = best;
	t = lap(T_PREDICT, t);
	search(&r0, s, reference_transform);
	search(&r1, s, lw_rkme_image_score_transform);
	st->top1 = r1.singles[0].index;
	res[EK_TOP1] = acc[st->top1];
	st->top1_is_best = acc[r1.singles[0].index] == best;
	for (int k = 0; k < 2; k++) {
		const lw_stat_search_result *r = k ? &r1 : &r0;

		st->top1_score[k] = r->singles[0].score;
		st->kept[k] = r->n_singles;
		st->mix_score[k] = r->mixture.count ? r->mixture.score : NAN;
	}
	/* The mixture's members; without one, the single results (at most 3). */
	st->has_mix = r1.mixture.count > 0;
	for (size_t i = 0; i < r1.mixture.count && n_mix < MAX_CANDIDATES; i++)
		mix[n_mix++] = r1.mixture.indices[i];
	for (size_t i = 0; !st->has_mix && i < r1.n_singles && n_mix < 3; i++)
		mix[n_mix++] = r1.singles[i].index;
	st->mix_size = n_mix;
	t = lap(T_SEARCH, t);
	res[EK_JOB] = reuse(mk, mix, n_mix, LW_REUSE_JOB_SELECTOR, p, &u->rows, NULL, urkme, &u->rows,
			    u->y, seed);
	t = lap(T_JOB, t);
	res[EK_AVG] = reuse(mk, mix, n_mix, LW_REUSE_AVERAGE, p, &u->rows, NULL, urkme, &u->rows, u->y,
			    seed);
	lap(T_AVG, t);
	/* Candidates for the labelled reusers: the mixture, then the nearest others. */
	sort_key = s->dist;
	qsort(near, mk->n, sizeof(size_t), by_key);
	*n_cand = n_mix;
	memcpy(cand, mix, n_mix * sizeof(size_t));
	for (size_t i = 0; i < mk->n && *n_cand < MAX_CANDIDATES; i++) {
		int dup = 0;

		for (size_t j = 0; j < *n_cand; j++)
			dup |= cand[j] == near[i];
		if (!dup)
			cand[(*n_cand)++] = near[i];
	}
	lw_stat_search_result_dispose(&r0);
	lw_stat_search_result_dispose(&r1);
	lw_rkme_free(urkme);
	free(near);
	free(acc);
}

/* With n labelled images: own MLP, pruning, augmentation, scored on the user's other images. */
static int evaluate_labelled(double *res, const market *mk, const size_t *cand, size_t n_cand,
			     const imageset *u, size_t n, const params *p, uint64_t seed)
{
	size_t *idx = ek_iota(u->rows.rows), rest = u->rows.rows - n;
	lw_mat Xl, Xe;
	double *yl, *ye;
	lw_rng rng;
	int classes = 0;

	lw_rng_seed(&rng, seed);
	ek_shuffle(idx, u->rows.rows, &rng);
	take_rows(&Xl, &yl, u, idx, n);
	take_rows(&Xe, &ye, u, idx + n, rest);
	for (size_t i = 1; i < n; i++)
		classes |= yl[i] != yl[0];
	if (classes) {
		lw_model *own = train_mlp(&Xl, yl, seed);

		res[EK_OWN] = ek_model_accuracy(own, &Xe, ye);
		lw_model_free(own);
		res[EK_PRUNE] = reuse(mk, cand, n_cand, LW_REUSE_ENSEMBLE_PRUNING, p, &Xl, yl, NULL, &Xe,
				      ye, seed);
		res[EK_AUGMENT] = reuse(mk, cand, n_cand, LW_REUSE_FEATURE_AUGMENT, p, &Xl, yl, NULL, &Xe,
					ye, seed);
	}
	lw_mat_dispose(&Xl);
	lw_mat_dispose(&Xe);
	free(yl);
	free(ye);
	free(idx);
	return classes;
}

/* ---- reports --------------------------------------------------------------------------- */

static void quantiles(const char *what, double *v, size_t n)
{
	printf("  %-34s %5zu  min %.2e  10%% %.2e  50%% %.2e  90%% %.2e  max %.2e\n", what, n,
	       ek_pct(v, n, 0), ek_pct(v, n, 0.1), ek_pct(v, n, 0.5), ek_pct(v, n, 0.9), ek_pct(v, n, 1));
}

/* The distances the score transform sees, and what each transform makes of them. */
static void report_distances(const market *mk, double *user_d, double *top_d, size_t n_users,
			     const search_stats *st)
{
	size_t n = mk->n, m = 0, n_ud = n_users * n;
	double *lw_d = ek_alloc(n * n, sizeof(double)), *share = ek_alloc(n * n, sizeof(double));
	size_t n_share = 0;
	double ts[2] = { 0, 0 }, kept[2] = { 0, 0 }, ms[2] = { 0, 0 };
	size_t n_mix = 0, best = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++) {
			size_t common = 0;
			double d = mk->inner[i * n + i] - 2 * mk->inner[i * n + j] + mk->inner[j * n + j];

			for (int a = 0; a < LW_CLASSES; a++)
				for (int b = 0; b < LW_CLASSES; b++)
					common += mk->lw[i].classes[a] == mk->lw[j].classes[b];
			lw_d[m++] = d;
			if (common == LW_CLASSES)
				share[n_share++] = d;
		}
	printf("\nimage specification distances (cnn_gp MMD^2):\n");
	quantiles("learnware to learnware", lw_d, m);
	if (n_share)
		quantiles("  the same four classes", share, n_share);
	quantiles("user to learnware", user_d, n_ud);
	quantiles("user to its Top-1", top_d, n_users);
	for (size_t u = 0; u < n_users; u++) {
		for (int t = 0; t < 2; t++) {
			ts[t] += st[u].top1_score[t] / (double)n_users;
			kept[t] += (double)st[u].kept[t] / (double)n_users;
			if (st[u].has_mix && !isnan(st[u].mix_score[t]))
				ms[t] += st[u].mix_score[t];
		}
		n_mix += st[u].has_mix;
		best += st[u].top1_is_best;
	}
	printf("search scores, mean over users:\n  the reference's transform, 1 - exp(-d / 5e-5): Top-1 %.3f, "
	       "%.1f single results kept\n", ts[0], kept[0]);
	printf("  lw_rkme_image_score_transform, 1 - exp(-d / 1e-2): Top-1 %.3f, %.1f single results "
	       "kept, mixture %.3f\n", ts[1], kept[1], n_mix ? ms[1] / (double)n_mix : NAN);
	printf("mixtures recommended for %zu of %zu users; Top-1 is the best in market for %zu\n", n_mix,
	       n_users, best);
	free(lw_d);
	free(share);
}

/* ---- main ------------------------------------------------------------------------------ */

static void parse(params *p, int argc, char **argv)
{
	static const size_t sizes[] = { 10, 30, 100, 300 }, quick_sizes[] = { 10, 100 };

	memset(p, 0, sizeof(*p));
	p->out = "build/bench-out";
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--quick"))
			p->quick = 1;
	p->learnwares = p->quick ? 12 : 50;
	/* 100 users, as the paper, take about half an hour on two cores: --users 100. */
	p->per_lw = p->quick ? 500 : 1000;
	p->users = p->quick ? 8 : 30;
	p->per_user = p->quick ? 600 : 800;
	/* Feature augmentation's cross-validated logistic on 1024 + 10 m columns: 10-30 s a fit. */
	p->curve_users = p->quick ? 1 : 2;
	p->repeats = 1;
	p->spec_k = p->quick ? 20 : 50;
	p->spec_steps = p->quick ? 0 : 3;
	p->n_sizes = p->quick ? 2 : 4;
	memcpy(p->sizes, p->quick ? quick_sizes : sizes, p->n_sizes * sizeof(size_t));
	for (int i = 1; i + 1 < argc; i++) {
		size_t *v = !strcmp(argv[i], "--learnwares")      ? &p->learnwares
			    : !strcmp(argv[i], "--users")         ? &p->users
			    : !strcmp(argv[i], "--per-learnware") ? &p->per_lw
			    : !strcmp(argv[i], "--curve-users")   ? &p->curve_users
			    : !strcmp(argv[i], "--spec-steps")    ? &p->spec_steps
								  : NULL;

		if (!strcmp(argv[i], "--out"))
			p->out = argv[++i];
		else if (v)
			*v = (size_t)strtoul(argv[++i], NULL, 10);
	}
	if (p->curve_users > p->users)
		p->curve_users = p->users;
	if (p->learnwares < 2 || p->users < 1 || p->per_lw < 20) {
		fprintf(stderr, "bench_image: need at least 2 learnwares of 20 images and 1 user\n");
		exit(2);
	}
}

static void print_params(const params *p)
{
	printf("bench_image: the learnware paper's image protocol on Fashion-MNIST%s\n",
	       p->quick ? " (--quick)" : "");
	printf("  %zu learnwares, %zu training images each, 4 classes 0.4:0.4:0.1:0.1 "
	       "(the paper: 50 learnwares on CIFAR-10)\n", p->learnwares, p->per_lw);
	printf("  model: MLP 1024-128-10 on lw_image_model_rows; specification: image RKME K=%zu, %zu "
	       "rounds (the default 50 rounds cost 29 s per specification)\n", p->spec_k, p->spec_steps);
	printf("  %zu users (the paper's 100: --users 100), %zu test images each, 6 classes "
	       "0.3:0.3:0.1:0.1:0.1:0.1; search: cnn_gp kernel, greedy mixture of up to 5\n", p->users,
	       p->per_user);
	printf("  job selector: table RKMEs of model rows (K %d, gamma 1/%.0f), %d herded rows, at most %d "
	       "boosting rounds at %g; averaging: vote by probability\n", TABLE_K, 1.0 / TABLE_GAMMA,
	       EK_HERDING, EK_SELECTOR_ROUNDS, EK_SELECTOR_ETA);
	printf("  labelled curves: the first %zu users, n in {", p->curve_users);
	for (size_t s = 0; s < p->n_sizes; s++)
		printf("%s%zu", s ? ", " : "", p->sizes[s]);
	printf("}, one draw each, reusing up to %d candidates (mixture, then nearest)\n", MAX_CANDIDATES);
}

int main(int argc, char **argv)
{
	params p;
	fmnist d;
	market mk;
	ek_results res;
	lw_rng rng;
	search_stats *st;
	double t0 = ek_now(), *user_d, *top_d;

	ek_prog = "bench_image";
	ek_calm_threads(argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse(&p, argc, argv);
	print_params(&p);
	read_fmnist(&d);
	lw_rng_seed(&rng, 7);
	build_market(&mk, &d, &p, &rng);
	ek_results_init(&res, p.users, p.sizes, p.n_sizes);
	res.name = "image";
	res.title = "Fashion-MNIST";
	res.anchor_name = "CIFAR-10, 100 users, 50 learnwares (learnware-engine.md)";
	res.anchor[EK_MEAN] = 0.346;
	res.anchor[EK_BEST] = 0.688;
	res.anchor[EK_TOP1] = 0.534;
	res.anchor[EK_JOB] = 0.534;
	res.anchor[EK_AVG] = 0.676;
	st = ek_alloc(p.users, sizeof(*st));
	user_d = ek_alloc(p.users * mk.n, sizeof(double));
	top_d = ek_alloc(p.users, sizeof(double));
	for (size_t u = 0; u < p.users; u++) {
		size_t cls[USER_CLASSES], cand[MAX_CANDIDATES], nc = 0;
		imageset us;
		lw_rkme_image *spec;
		space s;
		double tu = ek_now();

		ek_distinct(cls, USER_CLASSES, N_CLASSES, &rng);
		draw_set(&us, d.test, cls, user_props, USER_CLASSES, p.per_user, &rng);
		spec = fit_spec(&us, &p, 5000 + u);
		space_init(&s, &mk, spec);
		lap(T_SPEC, tu);
		memcpy(user_d + u * mk.n, s.dist, mk.n * sizeof(double));
		evaluate_free(res.free_res[u], &st[u], cand, &nc, &mk, &us, &s, &p, 5000 + u);
		top_d[u] = s.dist[st[u].top1];
		double tl = ek_now();
		for (size_t k = 0; u < p.curve_users && k < p.n_sizes; k++)
			if (p.sizes[k] + 200 <= us.rows.rows)
				evaluate_labelled(res.lab[u][k], &mk, cand, nc, &us, p.sizes[k], &p,
						  1000 * (u + 1) + k);
		lap(T_LAB, tl);
		space_dispose(&s);
		lw_rkme_image_free(spec);
		imageset_dispose(&us);
		fprintf(stderr, "\r  user %zu/%zu (%.1f s)   ", u + 1, p.users, ek_now() - tu);
	}
	fprintf(stderr, "\n");
	report_distances(&mk, user_d, top_d, p.users, st);
	ek_print(&res);
	ek_write(&res, p.out);
	printf("\nseconds per user:");
	for (int k = 0; k < T_N; k++)
		printf("%s %s %.2f", k ? "," : "", stage_names[k],
		       stage_time[k] / (double)(k == T_LAB ? (p.curve_users ? p.curve_users : 1) : p.users));
	printf("\nbench_image: %.0f s in all\n", ek_now() - t0);
	ek_results_dispose(&res);
	market_dispose(&mk);
	for (int c = 0; c < N_CLASSES; c++) {
		lw_image_batch_dispose(&d.train[c]);
		lw_image_batch_dispose(&d.test[c]);
	}
	free(st);
	free(user_d);
	free(top_d);
	return 0;
}
