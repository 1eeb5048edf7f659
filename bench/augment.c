/*
 * bench/augment: feature augmentation's cross-validated logistic fit on
 * wide, many-class inputs, its time and its held-out accuracy.
 *
 * Three cases, each a user with a few labelled rows and learnwares whose
 * outputs are appended to the user's features:
 *  - images: Fashion-MNIST, 2 MLP learnwares trained on 300 training
 *    images; the user labels 200 test images (1024 pixels + 20 outputs,
 *    10 classes) and is scored on 1000 others;
 *  - texts: the 38 largest Debian sections, a logistic learnware on 30
 *    descriptions of each; the user labels 400 others (256 embedding
 *    dimensions + 38 outputs, 38 classes), scored on 20 more per section;
 *  - synthetic: Gaussian classes in 1024 dimensions, 10 classes, a
 *    learnware that knows noisy class means; no files needed.
 *
 * For each: the fit's seconds, the chosen C and its CV accuracy, and the
 * held-out accuracy of feature augmentation, of the user's own logistic
 * model (trained on the labelled rows alone) and of averaging the
 * learnwares.  A case whose data is missing is skipped with a note.
 *
 * Usage: bench_augment [--quick]   (--quick: fewer labelled and held-out rows)
 * Fashion-MNIST is read from LW_FASHION_MNIST or
 * /usr/share/datasets/fashion-mnist, the texts from
 * $LW_SHARED_DIR/data/debian_descriptions.csv.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lw.h"

typedef struct {
	lw_mat X;
	double *y;
} rows;

typedef struct {
	const char *name;
	size_t k;
	rows user, test;
	lw_model *members[2];
	size_t n_members;
} bench_case;

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_augment: %s: %s\n", what, lw_error_last()->message);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "bench_augment: out of memory\n");
		exit(1);
	}
	return p;
}

static void rows_init(rows *r, size_t n, size_t d)
{
	if (lw_mat_init(&r->X, n, d) < 0)
		die("rows");
	r->y = xcalloc(n, sizeof(double));
}

static void rows_dispose(rows *r)
{
	lw_mat_dispose(&r->X);
	free(r->y);
}

/* Append row x (d values) with label y at position *at. */
static void put(rows *r, size_t *at, const double *x, double y)
{
	memcpy(lw_mat_row(&r->X, *at), x, r->X.cols * sizeof(double));
	r->y[(*at)++] = y;
}

static lw_model *train(const rows *r, lw_model_kind kind, size_t k, size_t hidden, uint64_t seed)
{
	lw_train_options o;
	lw_model *m = NULL;

	lw_train_options_init(&o, LW_TRAIN_OPTIONS_VERSION);
	o.kind = kind;
	o.task = LW_TASK_CLASSIFICATION;
	o.n_classes = k;
	o.seed = seed;
	o.epochs = 40;
	o.hidden[0] = hidden;
	o.hidden[1] = 0;
	if (kind == LW_MODEL_LOGISTIC)
		o.holdout = 0;
	if (lw_train(&m, NULL, &r->X, r->y, &o) < 0)
		die("training a model");
	return m;
}

static double accuracy(const lw_mat *P, const double *y, bool probs)
{
	size_t right = 0;

	for (size_t i = 0; i < P->rows; i++) {
		const double *p = lw_mat_row(P, i);
		size_t c = 0;

		if (probs) {
			for (size_t j = 1; j < P->cols; j++)
				c = p[j] > p[c] ? j : c;
		} else {
			c = (size_t)p[0];
		}
		right += (double)c == y[i];
	}
	return (double)right / (double)P->rows;
}

/* --- the cases ------------------------------------------------------------------ */

/* The first `n` images of class c in an IDX pair, as model rows. */
static int read_class(lw_mat *out, const char *dir, const char *img, const char *lab, long c,
		      size_t n)
{
	char ipath[1024], lpath[1024];
	const char *paths[1] = { ipath };
	lw_image_read_options o;
	lw_image_batch b;
	int err;

	snprintf(ipath, sizeof(ipath), "%s/%s", dir, img);
	snprintf(lpath, sizeof(lpath), "%s/%s", dir, lab);
	lw_image_read_options_init(&o);
	o.labels = lpath;
	o.label = c;
	o.limit = n;
	if ((err = lw_image_read(&b, paths, 1, &o)) < 0)
		return err;
	err = lw_image_model_rows(out, &b);
	lw_image_batch_dispose(&b);
	return err;
}

/* Fashion-MNIST: per class, 30 training images for the learnwares, user and test images. */
static bool images_case(bench_case *bc, bool quick)
{
	const char *dir = getenv("LW_FASHION_MNIST");
	size_t per_user = quick ? 10 : 20, per_test = quick ? 30 : 100, a = 0, u = 0, t = 0;
	rows learn;

	dir = dir ? dir : "/usr/share/datasets/fashion-mnist";
	bc->name = "images";
	bc->k = 10;
	rows_init(&learn, 300, 1024);
	rows_init(&bc->user, 10 * per_user, 1024);
	rows_init(&bc->test, 10 * per_test, 1024);
	for (long c = 0; c < 10; c++) {
		lw_mat A = LW_MAT_INIT, B = LW_MAT_INIT;

		if (read_class(&A, dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", c, 30) < 0 ||
		    read_class(&B, dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", c,
			       per_user + per_test) < 0 || A.rows < 30 || B.rows < per_user + per_test) {
			printf("images: skipped (%s)\n", lw_error_last()->message);
			lw_mat_dispose(&A);
			lw_mat_dispose(&B);
			rows_dispose(&learn);
			return false;
		}
		for (size_t i = 0; i < 30; i++)
			put(&learn, &a, lw_mat_row(&A, i), (double)c);
		for (size_t i = 0; i < per_user + per_test; i++)
			put(i < per_user ? &bc->user : &bc->test, i < per_user ? &u : &t,
			    lw_mat_row(&B, i), (double)c);
		lw_mat_dispose(&A);
		lw_mat_dispose(&B);
	}
	bc->members[0] = train(&learn, LW_MODEL_MLP, 10, 64, 0);
	bc->members[1] = train(&learn, LW_MODEL_MLP, 10, 32, 5);
	bc->n_members = 2;
	rows_dispose(&learn);
	return true;
}

static int by_count_desc(const void *a, const void *b)
{
	size_t x = ((const size_t *)a)[1], y = ((const size_t *)b)[1];

	return x < y ? 1 : x > y ? -1 : 0;
}

/* The section id of each row among the distinct labels (which get counts). */
static size_t *section_ids(char **labels, size_t n, size_t (*count)[2], size_t *n_distinct)
{
	size_t *id = xcalloc(n, sizeof(size_t)), m = 0;

	for (size_t i = 0; i < n; i++) {
		size_t s = 0;

		while (s < m && strcmp(labels[count[s][0]], labels[i]))
			s++;
		if (s == m) {
			count[m][0] = i;
			count[m++][1] = 0;
		}
		count[s][1]++;
		id[i] = s;
	}
	*n_distinct = m;
	return id;
}

/* Debian descriptions: the 38 largest sections; 30 texts each train a logistic learnware. */
static bool texts_case(bench_case *bc, bool quick)
{
	const char *shared = getenv("LW_SHARED_DIR");
	char path[1024], **texts = NULL, **labels = NULL;
	size_t nt = 0, nl = 0, k = 38, m = 0, per_test = quick ? 8 : 20, user_n = quick ? 190 : 400;
	size_t (*count)[2], *id, *cls, *seen, a = 0, u = 0, t = 0;
	rows learn;
	lw_mat E;

	snprintf(path, sizeof(path), "%s/data/debian_descriptions.csv", shared ? shared : "/work/shared");
	bc->name = "texts";
	bc->k = k;
	if (lw_text_read(&texts, &nt, path, "text") < 0 || lw_text_read(&labels, &nl, path, "section") < 0 ||
	    nt != nl) {
		printf("texts: skipped (%s)\n", nt != nl ? "texts and sections differ in number"
							   : lw_error_last()->message);
		lw_text_free_list(texts, nt);
		lw_text_free_list(labels, nl);
		return false;
	}
	count = xcalloc(nl, sizeof(*count));
	id = section_ids(labels, nl, count, &m);
	qsort(count, m, sizeof(*count), by_count_desc);
	/* cls[s]: the class of section s, or SIZE_MAX when it is not among the k largest. */
	cls = xcalloc(nl, sizeof(size_t));
	for (size_t s = 0; s < m; s++)
		cls[id[count[s][0]]] = s < k ? s : SIZE_MAX;
	seen = xcalloc(k, sizeof(size_t));
	rows_init(&learn, 30 * k, 256);
	rows_init(&bc->user, user_n, 256);
	rows_init(&bc->test, per_test * k, 256);
	/* Round-robin by rank within the section: the user's rows spread over all classes. */
	for (size_t i = 0; i < nt; i++) {
		size_t c = cls[id[i]], r = c == SIZE_MAX ? 0 : seen[c]++;
		bool want = c != SIZE_MAX && r < 30 + (user_n + k - 1) / k + per_test;

		if (want && lw_text_encode(&E, NULL, (const char *const *)&texts[i], NULL, 1) == 0) {
			double y = (double)c;
			size_t ur = (user_n + k - 1 - c) / k; /* this class's share of the user's rows */

			if (r < 30)
				put(&learn, &a, E.data, y);
			else if (r < 30 + ur)
				put(&bc->user, &u, E.data, y);
			else if (r >= 30 + (user_n + k - 1) / k)
				put(&bc->test, &t, E.data, y);
			lw_mat_dispose(&E);
		}
	}
	bc->user.X.rows = u;
	bc->test.X.rows = t;
	learn.X.rows = a;
	bc->members[0] = train(&learn, LW_MODEL_LOGISTIC, k, 0, 0);
	bc->n_members = 1;
	rows_dispose(&learn);
	free(seen);
	free(cls);
	free(id);
	free(count);
	lw_text_free_list(texts, nt);
	lw_text_free_list(labels, nl);
	return true;
}

/* A softmax model over d inputs whose class scores are mu_c . x - |mu_c|^2 / 2. */
static lw_model *means_classifier(const lw_mat *mu)
{
	rows r;
	lw_model *m;

	/* Trained on points at the means and a little around them: close to nearest-mean. */
	rows_init(&r, mu->rows * 4, mu->cols);
	for (size_t i = 0; i < r.X.rows; i++) {
		double *x = lw_mat_row(&r.X, i);

		for (size_t j = 0; j < mu->cols; j++)
			x[j] = lw_mat_row(mu, i % mu->rows)[j] * (1 + 0.1 * (double)(i / mu->rows));
		r.y[i] = (double)(i % mu->rows);
	}
	m = train(&r, LW_MODEL_LOGISTIC, mu->rows, 0, 0);
	rows_dispose(&r);
	return m;
}

/* Gaussian classes x = mu_y + noise in 1024 dimensions; the learnware knows noisy means. */
static void synthetic_case(bench_case *bc, bool quick)
{
	size_t d = 1024, k = 10, nu = quick ? 100 : 200, nt = quick ? 300 : 1000;
	lw_mat mu, noisy;
	lw_rng rng;

	bc->name = "synthetic";
	bc->k = k;
	lw_rng_seed(&rng, 7);
	if (lw_mat_init(&mu, k, d) < 0 || lw_mat_init(&noisy, k, d) < 0)
		die("means");
	for (size_t i = 0; i < k * d; i++) {
		mu.data[i] = 0.12 * lw_rng_normal(&rng);
		noisy.data[i] = mu.data[i] + 0.12 * lw_rng_normal(&rng);
	}
	rows_init(&bc->user, nu, d);
	rows_init(&bc->test, nt, d);
	for (int s = 0; s < 2; s++) {
		rows *r = s ? &bc->test : &bc->user;

		for (size_t i = 0; i < r->X.rows; i++) {
			size_t c = i % k;

			r->y[i] = (double)c;
			for (size_t j = 0; j < d; j++)
				lw_mat_row(&r->X, i)[j] = lw_mat_row(&mu, c)[j] + lw_rng_normal(&rng);
		}
	}
	bc->members[0] = means_classifier(&noisy);
	bc->n_members = 1;
	lw_mat_dispose(&mu);
	lw_mat_dispose(&noisy);
}

/* --- running one ----------------------------------------------------------------- */

static void run(bench_case *bc)
{
	lw_reuse_member mem[2] = { { "a", bc->members[0], NULL }, { "b", bc->members[1], NULL } };
	lw_reuse_options o = LW_REUSE_OPTIONS_INIT;
	lw_train_options to;
	lw_reuser *r = NULL;
	lw_reuser_info info;
	lw_model *own = NULL;
	lw_mat P = LW_MAT_INIT;
	double t0, secs, acc_aug, acc_own, acc_avg;

	o.task = LW_TASK_CLASSIFICATION;
	o.n_classes = bc->k;
	o.method = LW_REUSE_FEATURE_AUGMENT;
	fprintf(stderr, "%s: fitting on %zu rows x %zu columns...\n", bc->name, bc->user.X.rows,
		bc->user.X.cols);
	t0 = now();
	if (lw_reuser_fit(&r, mem, bc->n_members, &bc->user.X, NULL, bc->user.y, &o) < 0)
		die("feature augmentation");
	secs = now() - t0;
	lw_reuser_info_get(&info, r);
	if (lw_reuser_predict(&P, r, mem, bc->n_members, &bc->test.X) < 0)
		die("predict");
	acc_aug = accuracy(&P, bc->test.y, false);
	lw_mat_dispose(&P);
	lw_reuser_free(r);

	o.method = LW_REUSE_AVERAGE;
	if (lw_reuser_fit(&r, mem, bc->n_members, NULL, NULL, NULL, &o) < 0 ||
	    lw_reuser_predict(&P, r, mem, bc->n_members, &bc->test.X) < 0)
		die("averaging");
	acc_avg = accuracy(&P, bc->test.y, false);
	lw_mat_dispose(&P);
	lw_reuser_free(r);

	lw_train_options_init(&to, LW_TRAIN_OPTIONS_VERSION);
	to.kind = LW_MODEL_LOGISTIC;
	to.task = LW_TASK_CLASSIFICATION;
	to.n_classes = bc->k;
	to.holdout = 0;
	if (lw_train(&own, NULL, &bc->user.X, bc->user.y, &to) < 0 ||
	    lw_model_predict(&P, own, &bc->test.X) < 0)
		die("the user's own model");
	acc_own = accuracy(&P, bc->test.y, true);
	lw_mat_dispose(&P);
	lw_model_free(own);

	printf("%-10s %5zu x %-5zu %3zu %6zu %9.2f %9.0e %7.4f %9.4f %9.4f %9.4f\n", bc->name,
	       bc->user.X.rows, bc->user.X.cols, bc->k, bc->test.X.rows, secs, info.penalty,
	       info.cv_score, acc_aug, acc_own, acc_avg);
	fflush(stdout);
}

static void case_dispose(bench_case *bc)
{
	rows_dispose(&bc->user);
	rows_dispose(&bc->test);
	for (size_t i = 0; i < bc->n_members; i++)
		lw_model_free(bc->members[i]);
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && !strcmp(argv[1], "--quick");
	bench_case bc;

	if (argc > 2 || (argc == 2 && !quick)) {
		fprintf(stderr, "usage: bench_augment [--quick]\n");
		return 2;
	}
	printf("feature augmentation, classification (held-out accuracy)%s\n",
	       quick ? " [--quick]" : "");
	printf("%-10s %13s %3s %6s %9s %9s %7s %9s %9s %9s\n", "case", "rows x cols", "k", "test",
	       "fit s", "C", "cv acc", "augment", "own", "average");
	memset(&bc, 0, sizeof(bc));
	if (images_case(&bc, quick)) {
		run(&bc);
		case_dispose(&bc);
	}
	memset(&bc, 0, sizeof(bc));
	if (texts_case(&bc, quick)) {
		run(&bc);
		case_dispose(&bc);
	}
	memset(&bc, 0, sizeof(bc));
	synthetic_case(&bc, quick);
	run(&bc);
	case_dispose(&bc);
	return 0;
}
