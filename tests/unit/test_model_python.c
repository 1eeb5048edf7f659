#define _GNU_SOURCE
#include "model_testutil.h"

#include <math.h>

#include "model.h"

/*
 * A reference-format learnware built at test time: Debian's python trains
 * and pickles a scikit-learn classifier into the package and writes, beside
 * it, test rows and what sklearn predicts for them.  The package's
 * __init__.py holds the reference's Model class and a few misbehaving ones.
 */
static char *pkg;

#define ROWS 50
#define FEATURES 4
#define CLASSES 3

static const char init_py[] =
	"import os\n"
	"import pickle\n"
	"\n"
	"import numpy as np\n"
	"from learnware.model import BaseModel\n"
	"\n"
	"HERE = os.path.dirname(os.path.abspath(__file__))\n"
	"\n"
	"\n"
	"class Model(BaseModel):\n"
	"    def __init__(self, scale=1.0):\n"
	"        super().__init__(input_shape=(4,), output_shape=(3,))\n"
	"        with open(os.path.join(HERE, 'model.pkl'), 'rb') as f:\n"
	"            self.model = pickle.load(f)\n"
	"        self.scale = scale\n"
	"\n"
	"    def fit(self, X, y):\n"
	"        pass\n"
	"\n"
	"    def predict(self, X):\n"
	"        return self.model.predict_proba(X) * self.scale\n"
	"\n"
	"\n"
	"class Labels(Model):\n"
	"    def __init__(self):\n"
	"        super().__init__()\n"
	"        self.output_shape = (1,)\n"
	"\n"
	"    def predict(self, X):\n"
	"        return self.model.predict(X)\n"
	"\n"
	"\n"
	"class Noisy(BaseModel):\n"
	"    def __init__(self):\n"
	"        super().__init__(input_shape=None, output_shape=(1,))\n"
	"        print('constructing')\n"
	"\n"
	"    def predict(self, X):\n"
	"        print('predicting', X.shape)\n"
	"        os.write(1, b'raw bytes on fd 1\\n')\n"
	"        return X.sum(axis=1)\n"
	"\n"
	"\n"
	"class Broken(BaseModel):\n"
	"    def predict(self, X):\n"
	"        raise ValueError('bad batch of %d rows' % len(X))\n"
	"\n"
	"\n"
	"class Strings(BaseModel):\n"
	"    def predict(self, X):\n"
	"        return np.array(['cat'] * len(X))\n"
	"\n"
	"\n"
	"class Greedy(BaseModel):\n"
	"    def predict(self, X):\n"
	"        self.hoard = bytearray(10 * 1024 ** 3)\n"
	"        return X[:, 0]\n"
	"\n"
	"\n"
	"class Snoop(BaseModel):\n"
	"    def predict(self, X):\n"
	"        import socket\n"
	"        found = []\n"
	"        for path in ('/etc/shadow', '/root', '/home'):\n"
	"            found.append(os.path.exists(path))\n"
	"        try:\n"
	"            socket.create_connection(('1.1.1.1', 443), timeout=1)\n"
	"            found.append(True)\n"
	"        except OSError:\n"
	"            found.append(False)\n"
	"        return np.tile(np.array(found, dtype=float), (len(X), 1))\n";

static const char broken_import_py[] = "import torch_is_not_installed\n";

static const char fixture_py[] =
	"import pickle, sys\n"
	"import numpy as np\n"
	"from sklearn.linear_model import LogisticRegression\n"
	"pkg = sys.argv[1]\n"
	"rng = np.random.default_rng(0)\n"
	"X = rng.normal(size=(300, 4))\n"
	"y = (X[:, 0] + 2 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)\n"
	"clf = LogisticRegression(max_iter=1000).fit(X, y)\n"
	"with open(pkg + '/model.pkl', 'wb') as f:\n"
	"    pickle.dump(clf, f)\n"
	"T = rng.normal(size=(50, 4))\n"
	"T.astype('<f8').tofile(pkg + '/X.bin')\n"
	"clf.predict_proba(T).astype('<f8').tofile(pkg + '/proba.bin')\n"
	"clf.predict(T).astype('<f8').tofile(pkg + '/labels.bin')\n";

static int setup(void **state)
{
	char *fixture;
	const char *argv[] = { "/usr/bin/python3", "-I", NULL, NULL, NULL };
	char *envp[] = { "OPENBLAS_NUM_THREADS=1", "PATH=/usr/bin:/bin", NULL };

	(void)state;
	umask(022);
	pkg = lwt_package_dir();
	free(lwt_write_file(pkg, "__init__.py", init_py));
	free(lwt_write_file(pkg, "broken_import.py", broken_import_py));
	fixture = lwt_write_file(pkg, "fixture.py", fixture_py);
	argv[2] = fixture;
	argv[3] = pkg;
	if (lwt_run(argv, envp) != 0)
		fail_msg("the fixture needs Debian's python3-sklearn (scripts/setup.sh installs it)");
	free(fixture);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lwt_rmtree(pkg);
	free(pkg);
	return 0;
}

static void load_bin(lw_mat *m, const char *name, size_t rows, size_t cols)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", pkg, name);
	assert_int_equal(lw_mat_init(m, rows, cols), 0);
	assert_non_null(f = fopen(path, "rb"));
	assert_int_equal(fread(m->data, sizeof(double), rows * cols, f), rows * cols);
	fclose(f);
}

static lw_model_limits limits(void)
{
	lw_model_limits l = LW_MODEL_LIMITS_INIT;

	l.timeout_s = 20;
	l.memory_bytes = (size_t)1 << 30;
	return l;
}

static lw_model *open_ok(const char *module, const char *cls, const char *kwargs)
{
	lw_model_limits l = limits();
	lw_model *m = NULL;

	if (lw__model_open_python(&m, pkg, module, cls, kwargs, &l) < 0)
		fail_msg("cannot open %s: %s", cls, lw_error_last()->message);
	return m;
}

static void test_model_python_sklearn__matches_what_sklearn_predicts(void **state)
{
	lw_model *m = open_ok(NULL, NULL, "{\"scale\": 2.0}");
	lw_mat X, proba, Y;

	(void)state;
	assert_int_equal(lw_model_kind_of(m), LW_MODEL_PYTHON);
	assert_int_equal(lw_model_input_dim(m), FEATURES);
	assert_int_equal(lw_model_output_dim(m), CLASSES);
	load_bin(&X, "X.bin", ROWS, FEATURES);
	load_bin(&proba, "proba.bin", ROWS, CLASSES);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_int_equal(Y.rows, ROWS);
	for (size_t i = 0; i < ROWS * CLASSES; i++)
		lwt_assert_near(Y.data[i], 2.0 * proba.data[i], 1e-12);
	lw_mat_dispose(&Y);
	/* the same process serves the next call */
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	lwt_assert_near(Y.data[0], 2.0 * proba.data[0], 1e-12);
	lw_mat_dispose(&Y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&proba);
	lw_model_free(m);
}

static void test_model_python_labels__become_one_column(void **state)
{
	lw_model *m = open_ok("__init__.py", "Labels", NULL);
	lw_mat X, labels, Y;

	(void)state;
	assert_int_equal(lw_model_output_dim(m), 1);
	load_bin(&X, "X.bin", ROWS, FEATURES);
	load_bin(&labels, "labels.bin", ROWS, 1);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_int_equal(Y.cols, 1);
	assert_memory_equal(Y.data, labels.data, ROWS * sizeof(double));
	lw_mat_dispose(&Y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&labels);
	lw_model_free(m);
}

static void test_model_python_prints__do_not_corrupt_the_protocol(void **state)
{
	lw_model *m = open_ok(NULL, "Noisy", NULL);
	lw_mat X, Y;

	(void)state;
	assert_int_equal(lw_model_input_dim(m), 0);
	assert_int_equal(lw_mat_init(&X, 3, 2), 0);
	for (size_t i = 0; i < 6; i++)
		X.data[i] = (double)i;
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_true(Y.data[0] == 1 && Y.data[1] == 5 && Y.data[2] == 9);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(m);
}

/* Open cls and predict 2 rows of 4: the failing call's message has every fragment. */
static void expect_failure(const char *module, const char *cls, int rc, const char *const *frags)
{
	lw_model_limits l = limits();
	lw_model *m = NULL;
	lw_mat X, Y;
	int got;

	assert_int_equal(lw_mat_init(&X, 2, 4), 0);
	if ((got = lw__model_open_python(&m, pkg, module, cls, NULL, &l)) == 0)
		got = lw_model_predict(&Y, m, &X);
	print_message("%s: %s\n", cls, lw_error_last()->message);
	if (got != rc)
		fail_msg("%s returned %d, expected %d: %s", cls, got, rc, lw_error_last()->message);
	for (size_t i = 0; frags[i]; i++)
		lwt_assert_contains(lw_error_last()->message, frags[i]);
	if (m)
		assert_int_equal(lw_model_predict(&Y, m, &X), LW_ERROR);
	lw_model_free(m);
	lw_mat_dispose(&X);
}

#define FAILS(module, cls, rc, ...)                                  \
	do {                                                          \
		const char *frags_[] = { __VA_ARGS__, NULL };         \
		expect_failure(module, cls, rc, frags_);              \
	} while (0)

static void test_model_python_exceptions__become_error_frames(void **state)
{
	(void)state;
	FAILS(NULL, "Broken", LW_ERROR, "python model 'Broken' (__init__.py) reported an error "
	      "while predicting a batch of 2 rows: ValueError: bad batch of 2 rows",
	      "stderr: Traceback (most recent call last):");
	FAILS(NULL, "Strings", LW_ERROR, "TypeError: predict returned <U3 values, not numbers");
	FAILS(NULL, "Greedy", LW_ERROR, "reported an error while predicting a batch of 2 rows: "
	      "MemoryError");
	FAILS("broken_import.py", "Model", LW_ERROR, "reported an error while starting: "
	      "ModuleNotFoundError: No module named 'torch_is_not_installed'");
	FAILS(NULL, "Nope", LW_ERROR, "AttributeError: __init__.py has no class Nope");
}

static void test_model_python_snooping__finds_nothing(void **state)
{
	lw_model *m = open_ok(NULL, "Snoop", NULL);
	lw_mat X, Y;

	(void)state;
	assert_int_equal(lw_mat_init(&X, 2, 1), 0);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_int_equal(Y.cols, 4);
	for (size_t i = 0; i < 8; i++)
		assert_true(Y.data[i] == 0);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(m);
}

static void test_model_python_open__checks_its_arguments(void **state)
{
	lw_model *m = (lw_model *)1;
	char *empty = lwt_mkdtemp();

	(void)state;
	assert_int_equal(lw__model_open_python(&m, pkg, NULL, "Model", "[1]", NULL), LW_EINVALID);
	assert_null(m);
	lwt_assert_contains(lw_error_last()->message, "kwargs must be a JSON object");
	assert_int_equal(lw__model_open_python(&m, pkg, NULL, "os.system", NULL, NULL),
			 LW_EINVALID);
	assert_int_equal(lw__model_open_python(&m, pkg, "../x.py", NULL, NULL, NULL), LW_EINVALID);
	assert_int_equal(lw__model_open_python(&m, pkg, "missing.py", NULL, NULL, NULL),
			 LW_ENOTFOUND);
	setenv("LW_SHIM_DIR", empty, 1);
	assert_int_equal(lw__model_open_python(&m, pkg, NULL, NULL, NULL, NULL), LW_ENOTFOUND);
	lwt_assert_contains(lw_error_last()->message, "holds no learnware_shim.py");
	unsetenv("LW_SHIM_DIR");
	lwt_rmtree(empty);
	free(empty);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_python_sklearn__matches_what_sklearn_predicts),
		cmocka_unit_test(test_model_python_labels__become_one_column),
		cmocka_unit_test(test_model_python_prints__do_not_corrupt_the_protocol),
		cmocka_unit_test(test_model_python_exceptions__become_error_frames),
		cmocka_unit_test(test_model_python_snooping__finds_nothing),
		cmocka_unit_test(test_model_python_open__checks_its_arguments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
