#define _GNU_SOURCE
#include "model_testutil.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "lw/sandbox.h"
#include "model.h"
#include "util.h"

/* One package for every test: the well-behaved model and the hostile one,
 * compiled at test time from tests/data/models. */
static char *pkg;

static int setup(void **state)
{
	(void)state;
	pkg = lwt_package_dir();
	lwt_compile_model(pkg, "echo_model");
	lwt_compile_model(pkg, "hostile");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lwt_rmtree(pkg);
	free(pkg);
	return 0;
}

static lw_model_limits limits(double timeout_s)
{
	lw_model_limits l = LW_MODEL_LIMITS_INIT;

	l.timeout_s = timeout_s;
	l.memory_bytes = (size_t)256 << 20;
	l.cpu_s = 10;
	l.max_output_bytes = (size_t)1 << 20;
	return l;
}

static lw_model *open_ok(const char *const *argv, double timeout_s)
{
	lw_model_limits l = limits(timeout_s);
	lw_model *m = NULL;

	if (lw__model_open_process(&m, pkg, argv, &l) < 0)
		fail_msg("cannot open %s: %s", argv[0], lw_error_last()->message);
	return m;
}

static void fill(lw_mat *X, size_t rows, size_t cols)
{
	assert_int_equal(lw_mat_init(X, rows, cols), 0);
	for (size_t i = 0; i < rows * cols; i++)
		X->data[i] = (double)(i % 17) - 8.0 + (double)i / 1024.0;
}

static void expect_sum_and_max(const lw_mat *X, const lw_mat *Y)
{
	assert_int_equal(Y->rows, X->rows);
	assert_int_equal(Y->cols, 2);
	for (size_t i = 0; i < X->rows; i++) {
		double sum = 0, max = lw_mat_row(X, i)[0];

		for (size_t j = 0; j < X->cols; j++) {
			sum += lw_mat_row(X, i)[j];
			max = fmax(max, lw_mat_row(X, i)[j]);
		}
		assert_true(lw_mat_row(Y, i)[0] == sum && lw_mat_row(Y, i)[1] == max);
	}
}

static void test_model_process_round_trip__one_process_serves_many_calls(void **state)
{
	const char *argv[] = { "echo_model", "3", NULL };
	lw_model *m = open_ok(argv, 10);
	lw_mat X, Y, wide;

	(void)state;
	assert_int_equal(lw_model_kind_of(m), LW_MODEL_PROCESS);
	assert_int_equal(lw_model_input_dim(m), 3);
	assert_int_equal(lw_model_output_dim(m), 2);
	for (size_t rows = 1; rows <= 1000; rows *= 10) {
		fill(&X, rows, 3);
		assert_int_equal(lw_model_predict(&Y, m, &X), 0);
		expect_sum_and_max(&X, &Y);
		lw_mat_dispose(&X);
		lw_mat_dispose(&Y);
	}
	/* more than one request's worth (8 MiB) of input */
	fill(&X, 500000, 3);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	expect_sum_and_max(&X, &Y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	fill(&X, 0, 3);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_int_equal(Y.rows, 0);
	assert_int_equal(Y.cols, 2);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	/* a wrong width is refused before the model sees it, and it lives on */
	fill(&wide, 2, 4);
	assert_int_equal(lw_model_predict(&Y, m, &wide), LW_EINVALID);
	fill(&X, 2, 3);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_mat_dispose(&wide);
	lw_model_free(m);
}

static void test_model_process_streaming__a_model_answering_while_reading_works(void **state)
{
	const char *argv[] = { "echo_model", "0", "stream", NULL };
	lw_model *m = open_ok(argv, 20);
	lw_mat X, Y;

	(void)state;
	assert_int_equal(lw_model_input_dim(m), 0);
	fill(&X, 300000, 2);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	expect_sum_and_max(&X, &Y);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(m);
}

/* Open `hostile ATTACK args...` and predict one batch of 5 rows: the call
 * that fails (open or predict) returns rc, and its message has every
 * fragment.  Returns the message. */
static const char *expect_failure(const char *const *argv, double timeout_s, double cpu_s,
				  int rc, const char *const *fragments)
{
	static char msg[1024];
	lw_model_limits l = limits(timeout_s);
	lw_model *m = NULL;
	lw_mat X, Y;
	double t0 = lw_sandbox_now();
	int got;

	l.cpu_s = cpu_s;
	fill(&X, 5, 3);
	if ((got = lw__model_open_process(&m, pkg, argv, &l)) == 0) {
		got = lw_model_predict(&Y, m, &X);
		assert_null(Y.data);
	}
	snprintf(msg, sizeof(msg), "%s", lw_error_last()->message);
	print_message("%s %s: %s\n", argv[0], argv[1], msg);
	if (got != rc)
		fail_msg("%s %s: returned %d, expected %d; message: %s", argv[0], argv[1], got, rc, msg);
	for (size_t i = 0; fragments[i]; i++)
		lwt_assert_contains(msg, fragments[i]);
	/* quickly: within the deadline and a second of grace */
	assert_true(lw_sandbox_now() - t0 < timeout_s + 1.5);
	if (m) {
		/* dead for good: later calls repeat why */
		assert_int_equal(lw_model_predict(&Y, m, &X), LW_ERROR);
		assert_string_equal(lw_error_last()->message, msg);
	}
	lw_model_free(m);
	lw_mat_dispose(&X);
	return msg;
}

#define FAILS(attack, timeout, rc, ...)                                                   \
	do {                                                                               \
		const char *argv_[] = { "hostile", attack, NULL };                          \
		const char *frags_[] = { __VA_ARGS__, NULL };                              \
		expect_failure(argv_, timeout, 10, rc, frags_);                            \
	} while (0)

static void test_model_process_crashes__name_the_signal_and_keep_stderr(void **state)
{
	(void)state;
	FAILS("segv", 5, LW_EIO,
	      "process model 'hostile' died of signal 11 (Segmentation fault) while predicting "
	      "a batch of 5 rows", "stderr: about to dereference NULL");
	FAILS("abort", 5, LW_EIO, "died of signal 6 (Aborted)", "stderr: about to abort");
	FAILS("exit3", 5, LW_EIO, "exited with status 3 while predicting a batch of 5 rows "
	      "(the program's output ended after 0 of 16 bytes); stderr: giving up");
	FAILS("short", 5, LW_EIO, "exited with status 0", "output ended after 4 of 40 bytes");
	FAILS("exit_at_start", 5, LW_EIO, "exited with status 2 while starting",
	      "stderr: missing dependency");
}

static void test_model_process_hangs__are_killed_at_the_deadline(void **state)
{
	(void)state;
	FAILS("spin", 1, LW_ERROR, "process model 'hostile' was killed after 1.0 s wall-clock "
	      "timeout while predicting a batch of 5 rows; stderr: (empty)");
	FAILS("sleep", 1, LW_ERROR, "killed after 1.0 s wall-clock timeout");
	FAILS("silent", 1, LW_ERROR, "killed after 1.0 s wall-clock timeout while starting");
}

static void test_model_process_cpu_hog__hits_the_cpu_limit(void **state)
{
	const char *argv[] = { "hostile", "spin", NULL };
	const char *frags[] = { "exceeded its CPU time limit of 1 s (SIGXCPU)", NULL };

	(void)state;
	expect_failure(argv, 5, 0.5, LW_EIO, frags);
}

static void test_model_process_garbage__is_a_protocol_error_naming_the_bytes(void **state)
{
	(void)state;
	FAILS("garbage", 5, LW_EINVALID, "broke the protocol while starting: expected the hello's "
	      "magic \"LWMP\", got 48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 20 49 20 "
	      "(\"Hello, world! I \")");
	FAILS("version", 5, LW_EINVALID, "it speaks protocol version 7, the host version 1");
	FAILS("garbage_reply", 5, LW_EINVALID, "header 54 72 61 63 65 62 61 63 6b 20 28 6d 6f 73 "
	      "74 20 (\"Traceback (most \")");
	FAILS("rows", 5, LW_EINVALID, "its reply has 6 rows for a batch of 5");
	FAILS("huge", 5, LW_EINVALID, "its reply has 1099511627776 columns; 1 to 1048576 allowed");
	FAILS("nan", 5, LW_EINVALID, "it returned nan at row 0, column 0; predictions must be "
	      "finite");
}

static void test_model_process_error_frames__carry_the_models_message(void **state)
{
	(void)state;
	FAILS("error_frame", 5, LW_ERROR, "reported an error while predicting a batch of 5 rows: "
	      "the model says no (second line)");
	FAILS("start_error", 5, LW_ERROR, "reported an error while starting: cannot load "
	      "weights.bin");
}

static void test_model_process_fork_bomb__is_bounded_and_leaves_nothing(void **state)
{
	const char *argv[] = { "hostile", "forkbomb", NULL };
	const char *frags[] = { "was killed after 1.0 s wall-clock timeout",
				"Resource temporarily unavailable", NULL };
	const char *msg, *uid;
	int forked;

	(void)state;
	msg = expect_failure(argv, 1, 10, LW_ERROR, frags);
	assert_non_null(strstr(msg, "forked "));
	forked = atoi(strstr(msg, "forked ") + 7);
	/* the default budget is 64 tasks, bwrap's and the bomb's own included */
	assert_true(forked > 0 && forked < 64);
	assert_non_null(uid = strstr(msg, "as uid "));
	assert_int_equal(lwt_processes_of((unsigned int)strtoul(uid + 7, NULL, 10)), 0);
}

static void test_model_process_disk_filler__is_capped_and_cannot_touch_the_package(void **state)
{
	(void)state;
	FAILS("disk", 5, LW_EIO, "exceeded its file size limit of 1048576 bytes (SIGXFSZ)");
	FAILS("disk_enospc", 5, LW_EIO, "exited with status 1",
	      "/tmp/fill0: wrote 1048576 bytes, then File too large",
	      "/tmp/fill1: wrote 0 bytes, then No space left on device",
	      "/dev/shm/fill: wrote 1048576 bytes, then File too large",
	      "/learnware/fill: wrote 0 bytes, then Read-only file system",
	      "/fill: wrote 0 bytes, then Read-only file system");
	assert_false(lwt_exists(pkg, "fill"));
}

static void test_model_process_memory_hog__gets_no_more_than_its_limit(void **state)
{
	const char *argv[] = { "hostile", "alloc", NULL };
	const char *frags[] = { "exited with status 1", "malloc(10 GiB): Cannot allocate memory",
				NULL };
	const char *msg = expect_failure(argv, 5, 10, LW_EIO, frags);

	(void)state;
	/* 256 MiB of address space, the program itself included */
	assert_true(atoi(strstr(msg, "then touched ") + 13) <= 256);
}

/* Predict one batch of 2 rows with `hostile ATTACK args...`: the model
 * answers with one column per attempt, 1 where it succeeded. */
static void expect_all_attempts_failed(const char *const *argv, size_t attempts)
{
	lw_model *m = open_ok(argv, 5);
	lw_mat X, Y;

	fill(&X, 2, 3);
	if (lw_model_predict(&Y, m, &X) < 0)
		fail_msg("%s", lw_error_last()->message);
	assert_int_equal(Y.cols, attempts);
	for (size_t i = 0; i < 2 * attempts; i++)
		if (Y.data[i] != 0)
			fail_msg("%s attempt %zu succeeded", argv[1], i % attempts);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(m);
}

static void test_model_process_network__is_unreachable(void **state)
{
	struct sockaddr_in addr = { AF_INET, 0, { htonl(INADDR_LOOPBACK) }, { 0 } };
	struct sockaddr_un un = { AF_UNIX, { 0 } };
	socklen_t len = sizeof(addr);
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int unix_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	char port[16], name[64];
	const char *argv[] = { "hostile", "net", port, name, NULL };

	(void)state;
	/* the host listens on 127.0.0.1 and on an abstract unix socket */
	assert_int_equal(bind(tcp, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(tcp, 4), 0);
	assert_int_equal(getsockname(tcp, (struct sockaddr *)&addr, &len), 0);
	snprintf(port, sizeof(port), "%u", ntohs(addr.sin_port));
	snprintf(name, sizeof(name), "lw-test-%d", (int)getpid());
	memcpy(un.sun_path + 1, name, strlen(name));
	assert_int_equal(bind(unix_fd, (struct sockaddr *)&un,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name))), 0);
	assert_int_equal(listen(unix_fd, 4), 0);
	expect_all_attempts_failed(argv, 4);
	/* and nothing reached it */
	assert_int_equal(accept(tcp, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(accept(unix_fd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	close(tcp);
	close(unix_fd);
}

static void test_model_process_escapes__find_nothing_to_read_write_or_signal(void **state)
{
	char pid[16];
	const char *argv[] = { "hostile", "escape", pid, pkg, NULL };

	(void)state;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	expect_all_attempts_failed(argv, 9);
	assert_false(lwt_exists(pkg, "pwned"));
}

static void test_model_process_stderr_flood__neither_blocks_nor_grows(void **state)
{
	const char *argv[] = { "hostile", "stderr_flood", NULL };
	lw_model *m = open_ok(argv, 10);
	lw_mat X, Y;

	(void)state;
	fill(&X, 3, 3);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	assert_true(Y.data[0] == 7 && Y.data[2] == 7);
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	lw_model_free(m);
}

/* The fenced block after `heading` in docs/model-protocol.md, written to pkg/name. */
static void extract_example(const char *heading, const char *fence, const char *prefix,
			    const char *name)
{
	char path[1024], *doc, *start, *end, *text;
	size_t len;

	snprintf(path, sizeof(path), "%s/../../docs/model-protocol.md", getenv("LW_TEST_DATA"));
	assert_int_equal(lw__read_file(&doc, &len, path, 1 << 20), 0);
	assert_non_null(start = strstr(doc, heading));
	assert_non_null(start = strstr(start, fence));
	start += strlen(fence);
	assert_non_null(end = strstr(start, "\n```"));
	assert_non_null(text = calloc(1, strlen(prefix) + (size_t)(end - start) + 2));
	sprintf(text, "%s%.*s\n", prefix, (int)(end - start), start);
	snprintf(path, sizeof(path), "%s/%s", pkg, name);
	free(lwt_write_file(pkg, name, text));
	assert_int_equal(chmod(path, 0755), 0);
	free(text);
	free(doc);
}

/* The protocol document's two example models work as printed. */
static void test_model_process_doc_examples__run_as_printed(void **state)
{
	const char *py[] = { "example.py", NULL }, *c[] = { "example_c", NULL };
	const char *cc[] = { "/usr/bin/cc", "-O1", "-x", "c", "-o", NULL, NULL, NULL };
	char src[1024], bin[1024];
	lw_model *m;
	lw_mat X, Y;

	(void)state;
	extract_example("## A model in Python", "```python\n", "#!/usr/bin/python3\n", "example.py");
	extract_example("## A model in C", "```c\n", "", "example.c");
	snprintf(src, sizeof(src), "%s/example.c", pkg);
	snprintf(bin, sizeof(bin), "%s/example_c", pkg);
	cc[5] = bin;
	cc[6] = src;
	assert_int_equal(lwt_run(cc, NULL), 0);
	fill(&X, 4, 3);
	m = open_ok(py, 10);
	assert_int_equal(lw_model_input_dim(m), 3);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	for (size_t i = 0; i < 4; i++)
		lwt_assert_near(Y.data[i], lw_mat_row(&X, i)[0] + lw_mat_row(&X, i)[1] +
				lw_mat_row(&X, i)[2], 1e-12);
	lw_mat_dispose(&Y);
	lw_model_free(m);
	m = open_ok(c, 10);
	assert_int_equal(lw_model_predict(&Y, m, &X), 0);
	for (size_t i = 0; i < 4; i++)
		assert_true(Y.data[i] == lw_mat_row(&X, i)[0]);
	lw_mat_dispose(&Y);
	lw_model_free(m);
	lw_mat_dispose(&X);
}

static void test_model_process_open__checks_the_program_path(void **state)
{
	const char *up[] = { "../echo_model", NULL };
	const char *abs[] = { "/bin/sh", NULL };
	const char *missing[] = { "bin/model", NULL };
	lw_model *m = (lw_model *)1;

	(void)state;
	assert_int_equal(lw__model_open_process(&m, pkg, up, NULL), LW_EINVALID);
	assert_null(m);
	lwt_assert_contains(lw_error_last()->message, "relative path inside the package");
	assert_int_equal(lw__model_open_process(&m, pkg, abs, NULL), LW_EINVALID);
	assert_int_equal(lw__model_open_process(&m, pkg, missing, NULL), LW_ENOTFOUND);
	lwt_assert_contains(lw_error_last()->message, "'bin/model' is not a file in the package");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_process_round_trip__one_process_serves_many_calls),
		cmocka_unit_test(test_model_process_streaming__a_model_answering_while_reading_works),
		cmocka_unit_test(test_model_process_crashes__name_the_signal_and_keep_stderr),
		cmocka_unit_test(test_model_process_hangs__are_killed_at_the_deadline),
		cmocka_unit_test(test_model_process_cpu_hog__hits_the_cpu_limit),
		cmocka_unit_test(test_model_process_garbage__is_a_protocol_error_naming_the_bytes),
		cmocka_unit_test(test_model_process_error_frames__carry_the_models_message),
		cmocka_unit_test(test_model_process_fork_bomb__is_bounded_and_leaves_nothing),
		cmocka_unit_test(test_model_process_disk_filler__is_capped_and_cannot_touch_the_package),
		cmocka_unit_test(test_model_process_memory_hog__gets_no_more_than_its_limit),
		cmocka_unit_test(test_model_process_network__is_unreachable),
		cmocka_unit_test(test_model_process_escapes__find_nothing_to_read_write_or_signal),
		cmocka_unit_test(test_model_process_stderr_flood__neither_blocks_nor_grows),
		cmocka_unit_test(test_model_process_doc_examples__run_as_printed),
		cmocka_unit_test(test_model_process_open__checks_the_program_path),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
