#define _GNU_SOURCE
#include "model_testutil.h"

#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdbool.h>

#include "lw/sandbox.h"

/* Short limits: every test ends in a few seconds at most. */
static lw_sandbox_options options(void)
{
	lw_sandbox_options o;

	lw_sandbox_options_init(&o);
	o.memory_bytes = (size_t)512 << 20;
	o.cpu_s = 10;
	o.file_bytes = (size_t)1 << 20;
	o.max_tasks = 32;
	return o;
}

static lw_sandbox *start(const char *const *argv, const lw_sandbox_options *o)
{
	lw_sandbox *sb = NULL;

	if (lw_sandbox_start(&sb, argv, o) < 0)
		fail_msg("cannot start %s: %s", argv[0], lw_error_last()->message);
	return sb;
}

static lw_sandbox *sh(const char *script, const lw_sandbox_options *o)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	return start(argv, o);
}

/* Everything the program writes to stdout, NUL-terminated. */
static char *read_all(lw_sandbox *sb, double timeout_s)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	double deadline = lw_sandbox_now() + timeout_s;

	assert_non_null(buf);
	while (len + 1 < cap && lw_sandbox_read(sb, buf + len, 1, deadline) == 0)
		len++;
	buf[len] = '\0';
	return buf;
}

static lw_sandbox_exit stop(lw_sandbox *sb, double grace_s)
{
	lw_sandbox_exit e;

	lw_sandbox_stop(&e, sb, grace_s);
	return e;
}

static void test_sandbox_round_trip__cat_echoes_more_than_a_pipe_holds(void **state)
{
	const char *argv[] = { "/bin/cat", NULL };
	size_t n = (size_t)6 << 20;
	unsigned char *in = malloc(n), *back = malloc(n);
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	lw_sandbox_exit e;

	(void)state;
	assert_non_null(in);
	assert_non_null(back);
	for (size_t i = 0; i < n; i++)
		in[i] = (unsigned char)(i * 2654435761u >> 13);
	o.read_ahead_bytes = n;
	sb = start(argv, &o);
	/* cat answers while we write: the write must read ahead, not deadlock */
	assert_int_equal(lw_sandbox_write(sb, in, n, lw_sandbox_now() + 10), 0);
	assert_int_equal(lw_sandbox_read(sb, back, n, lw_sandbox_now() + 10), 0);
	assert_memory_equal(in, back, n);
	e = stop(sb, 2);
	assert_int_equal(e.end, LW_SANDBOX_EXITED);
	assert_int_equal(e.code, 0);
	lw_sandbox_free(sb);
	free(in);
	free(back);
}

static void test_sandbox_environment__is_exactly_the_minimal_one(void **state)
{
	const char *argv[] = { "/usr/bin/env", NULL };
	const char *extra[] = { "EXTRA=1", "OMP_NUM_THREADS=2", NULL };
	static const char *const expected[] = {
		"LW_SANDBOX=1\n", "PATH=/usr/bin:/bin\n", "HOME=/tmp\n", "TMPDIR=/tmp\n",
		"LANG=C.UTF-8\n", "OPENBLAS_NUM_THREADS=1\n", "MKL_NUM_THREADS=1\n",
		"OMP_NUM_THREADS=2\n", "EXTRA=1\n", "PWD=/\n", /* bwrap's, after --chdir */
	};
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	char *out;
	size_t total = 0;

	(void)state;
	setenv("LW_HOST_SECRET", "leaked", 1);
	o.env = extra;
	sb = start(argv, &o);
	out = read_all(sb, 5);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		lwt_assert_contains(out, expected[i]);
		total += strlen(expected[i]);
	}
	assert_int_equal(strlen(out), total);
	assert_null(strstr(out, "OMP_NUM_THREADS=1"));
	unsetenv("LW_HOST_SECRET");
	free(out);
	lw_sandbox_free(sb);
}

static void test_sandbox_identity__is_an_unprivileged_uid_under_the_limits(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	char *out, expect[64];

	(void)state;
	sb = sh("id -u; id -G; cat /proc/self/limits; ls /proc | grep -c '^[0-9]'; nice", &o);
	out = read_all(sb, 5);
	snprintf(expect, sizeof(expect), "%u\n%u\n", lw_sandbox_uid(sb), lw_sandbox_uid(sb));
	assert_true(strncmp(out, expect, strlen(expect)) == 0);
	if (geteuid() == 0)
		assert_true(lw_sandbox_uid(sb) >= 2000000000u);
	lwt_assert_contains(out, "Max address space         536870912            536870912");
	lwt_assert_contains(out, "Max cpu time              10                   11");
	lwt_assert_contains(out, "Max file size             1048576              1048576");
	lwt_assert_contains(out, "Max core file size        0                    0");
	lwt_assert_contains(out, "Max open files            1024                 1024");
	if (geteuid() == 0)
		lwt_assert_contains(out, "Max processes             32                   32");
	/* its own PID namespace: bwrap's init, sh, grep and ls, or nearly */
	assert_true(strstr(out, "\n4\n") || strstr(out, "\n3\n") || strstr(out, "\n5\n"));
	assert_true(strstr(out, "\n10\n") || strstr(out, "\n19\n"));
	free(out);
	lw_sandbox_free(sb);
}

static void test_sandbox_filesystem__is_read_only_but_a_private_tmp(void **state)
{
	char *pkg = lwt_package_dir(), *out;
	lw_sandbox_options o = options();
	lw_sandbox *sb;

	(void)state;
	free(lwt_write_file(pkg, "weights.txt", "42\n"));
	o.package_dir = pkg;
	sb = sh("pwd; cat weights.txt; echo hi > /tmp/t && cat /tmp/t;"
		"for f in /learnware/x /x /usr/x /etc/x /dev/x; do touch $f 2>/dev/null || echo no $f; done;"
		"ls /root /home /work /etc/shadow /var /sys 2>/dev/null | wc -l", &o);
	out = read_all(sb, 5);
	assert_string_equal(out, "/learnware\n42\nhi\nno /learnware/x\nno /x\nno /usr/x\nno /etc/x\n"
				 "no /dev/x\n0\n");
	assert_false(lwt_exists(pkg, "x"));
	free(out);
	lw_sandbox_free(sb);
	lwt_rmtree(pkg);
	free(pkg);
}

static void test_sandbox_deadline__kills_a_sleeper_on_time(void **state)
{
	const char *argv[] = { "/bin/sleep", "30", NULL };
	lw_sandbox_options o = options();
	lw_sandbox *sb = start(argv, &o);
	double t0 = lw_sandbox_now();
	char c;
	lw_sandbox_exit e;

	(void)state;
	assert_int_equal(lw_sandbox_read(sb, &c, 1, t0 + 0.5), LW_ERROR);
	lwt_assert_contains(lw_error_last()->message, "killed at its wall-clock deadline");
	assert_true(lw_sandbox_now() - t0 < 1.5);
	e = stop(sb, 1);
	assert_int_equal(e.end, LW_SANDBOX_TIMEOUT);
	assert_int_equal(lwt_processes_of(lw_sandbox_uid(sb)), 0);
	lw_sandbox_free(sb);
}

static void test_sandbox_exit__reports_status_and_stderr(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb = sh("echo 'it went wrong' >&2; exit 3", &o);
	char c;
	lw_sandbox_exit e;

	(void)state;
	assert_int_equal(lw_sandbox_read(sb, &c, 1, lw_sandbox_now() + 5), LW_EIO);
	lwt_assert_contains(lw_error_last()->message, "output ended after 0 of 1 bytes");
	e = stop(sb, 2);
	assert_int_equal(e.end, LW_SANDBOX_EXITED);
	assert_int_equal(e.code, 3);
	assert_string_equal(e.reason, "exited with status 3");
	assert_string_equal(lw_sandbox_stderr(sb), "it went wrong\n");
	/* a second stop says the same */
	e = stop(sb, 0);
	assert_int_equal(e.code, 3);
	lw_sandbox_free(sb);
}

static void test_sandbox_signal__is_named(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb = sh("kill -SEGV $$", &o);
	lw_sandbox_exit e = stop(sb, 5);

	(void)state;
	assert_int_equal(e.end, LW_SANDBOX_SIGNALED);
	assert_int_equal(e.code, SIGSEGV);
	assert_string_equal(e.reason, "died of signal 11 (Segmentation fault)");
	lw_sandbox_free(sb);
}

static void test_sandbox_cpu_limit__stops_a_spinner(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	lw_sandbox_exit e;

	(void)state;
	o.cpu_s = 1;
	sb = sh("while :; do :; done", &o);
	e = stop(sb, 5);
	assert_int_equal(e.end, LW_SANDBOX_SIGNALED);
	assert_int_equal(e.code, SIGXCPU);
	assert_string_equal(e.reason, "exceeded its CPU time limit of 1 s (SIGXCPU)");
	lw_sandbox_free(sb);
}

static void test_sandbox_file_limit__stops_a_disk_filler(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb = sh("head -c 50000000 /dev/zero > /tmp/fill", &o);
	lw_sandbox_exit e = stop(sb, 5);

	(void)state;
	assert_int_equal(e.end, LW_SANDBOX_SIGNALED);
	assert_int_equal(e.code, SIGXFSZ);
	assert_string_equal(e.reason, "exceeded its file size limit of 1048576 bytes (SIGXFSZ)");
	lw_sandbox_free(sb);
}

static void test_sandbox_tmpfs__is_capped_in_size(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	char *out;

	(void)state;
	/* many files each under the file limit: the tmpfs itself runs out */
	sb = sh("i=0; while head -c 400000 /dev/zero > /tmp/f$i 2>/dev/null; do i=$((i+1)); done;"
		"du -sk /tmp | cut -f1; j=0; while head -c 400000 /dev/zero > /dev/shm/f$j "
		"2>/dev/null; do j=$((j+1)); done; echo $i $j", &o);
	out = read_all(sb, 10);
	/* 1 MiB holds two files of 400 kB, not three */
	lwt_assert_contains(out, "\n2 2\n");
	assert_true(atoi(out) <= 1024);
	free(out);
	lw_sandbox_free(sb);
}

static void test_sandbox_fork_bomb__is_contained_and_cleaned_up(void **state)
{
	lw_sandbox_options o = options();
	const char *argv[] = { "/bin/bash", "-c", "f() { f | f & }; f; sleep 60", NULL };
	double t0 = lw_sandbox_now();
	lw_sandbox *sb = start(argv, &o);
	char c;
	lw_sandbox_exit e;

	(void)state;
	assert_int_equal(lw_sandbox_read(sb, &c, 1, t0 + 1.5), LW_ERROR);
	e = stop(sb, 0);
	assert_int_equal(e.end, LW_SANDBOX_TIMEOUT);
	lwt_assert_contains(lw_sandbox_stderr(sb), "Resource temporarily unavailable");
	/* stop returns once the whole PID namespace is gone, promptly */
	assert_int_equal(lwt_processes_of(lw_sandbox_uid(sb)), 0);
	assert_true(lw_sandbox_now() - t0 < 4);
	lw_sandbox_free(sb);
}

static void test_sandbox_stderr__keeps_a_bounded_tail_without_blocking(void **state)
{
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	lw_sandbox_exit e;
	char c;

	(void)state;
	o.stderr_bytes = 64;
	sb = sh("yes noise | head -c 2000000 >&2; printf 'bad\\001\\377 last words\\n' >&2", &o);
	assert_int_equal(lw_sandbox_read(sb, &c, 1, lw_sandbox_now() + 10), LW_EIO);
	e = stop(sb, 2);
	assert_int_equal(e.end, LW_SANDBOX_EXITED);
	assert_int_equal(strlen(lw_sandbox_stderr(sb)), 64);
	/* control bytes and invalid UTF-8 are shown as '?' */
	lwt_assert_contains(lw_sandbox_stderr(sb), "noise\nnobad?? last words\n");
	lw_sandbox_free(sb);
}

static void test_sandbox_dead_reader__does_not_raise_sigpipe_in_the_host(void **state)
{
	const char *argv[] = { "/bin/true", NULL };
	lw_sandbox_options o = options();
	lw_sandbox *sb = start(argv, &o);
	size_t n = (size_t)8 << 20;
	char *buf = calloc(1, n);

	(void)state;
	assert_int_equal(lw_sandbox_write(sb, buf, n, lw_sandbox_now() + 5), LW_EIO);
	lwt_assert_contains(lw_error_last()->message, "stopped reading its input");
	free(buf);
	lw_sandbox_free(sb);
}

static void test_sandbox_start__rejects_what_it_cannot_run(void **state)
{
	const char *relative[] = { "bin/model", NULL };
	const char *missing[] = { "/nonexistent/program", NULL };
	lw_sandbox_options o = options();
	lw_sandbox *sb = (lw_sandbox *)1;
	char *pkg = lwt_mkdtemp(), c;

	(void)state;
	assert_int_equal(lw_sandbox_start(&sb, relative, &o), LW_EINVALID);
	assert_null(sb);
	lwt_assert_contains(lw_error_last()->message, "absolute path");
	o.package_dir = "/nonexistent/package";
	assert_int_equal(lw_sandbox_start(&sb, missing, &o), LW_ENOTFOUND);
	lwt_assert_contains(lw_error_last()->message, "/nonexistent/package");
	if (geteuid() == 0) {
		o.package_dir = pkg; /* mkdtemp's 0700 */
		assert_int_equal(lw_sandbox_start(&sb, missing, &o), LW_EINVALID);
		lwt_assert_contains(lw_error_last()->message, "chmod -R a+rX");
	}
	o.package_dir = NULL;
	o.max_tasks = 1;
	assert_int_equal(lw_sandbox_start(&sb, missing, &o), LW_EINVALID);
	o = options();
	sb = start(missing, &o);
	assert_int_equal(lw_sandbox_read(sb, &c, 1, lw_sandbox_now() + 5), LW_EIO);
	lwt_assert_contains(stop(sb, 2).reason, "could not be sandboxed");
	lwt_assert_contains(lw_sandbox_stderr(sb), "/nonexistent/program");
	lw_sandbox_free(sb);
	lwt_rmtree(pkg);
	free(pkg);
}

/* Run fn in a child process; its exit status is the result. */
static int in_child(int (*fn)(char *msg, size_t cap), char *msg, size_t cap)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		char buf[1024] = "";
		int rc = fn(buf, sizeof(buf));
		ssize_t w = write(fds[1], buf, strlen(buf));

		(void)w;
		_exit(rc);
	}
	close(fds[1]);
	n = read(fds[0], msg, cap - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Where user namespaces are refused, start fails and says so. */
static int start_without_namespaces(char *msg, size_t cap)
{
	const char *argv[] = { "/bin/true", NULL };
	lw_sandbox *sb;
	int rc;

	if (unshare(CLONE_NEWUSER) != 0) /* unmapped: it may create no further one */
		return snprintf(msg, cap, "unshare: %s", strerror(errno)), 2;
	rc = lw_sandbox_start(&sb, argv, NULL);
	snprintf(msg, cap, "%s", lw_error_last()->message);
	lw_sandbox_free(sb);
	return rc == LW_ERROR ? 0 : 1;
}

static void test_sandbox_no_namespaces__fail_at_start_with_bwraps_reason(void **state)
{
	char msg[1024];

	(void)state;
	assert_int_equal(in_child(start_without_namespaces, msg, sizeof(msg)), 0);
	lwt_assert_contains(msg, "cannot create the sandbox: bwrap: No permissions to create new "
			    "namespace");
}

/* Started by an ordinary user, the sandbox keeps that uid and still bounds tasks. */
static int fork_bomb_as_user(char *msg, size_t cap)
{
	const char *argv[] = { "/bin/bash", "-c", "f() { f | f & }; f; sleep 60", NULL };
	unsigned int uid = 2100000000u + (unsigned int)getpid() % 1000;
	lw_sandbox_options o = options();
	lw_sandbox *sb;
	char c;
	lw_sandbox_exit e;

	if (setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid))
		return snprintf(msg, cap, "cannot become uid %u", uid), 2;
	o.max_tasks = 16;
	if (lw_sandbox_start(&sb, argv, &o) < 0)
		return snprintf(msg, cap, "%s", lw_error_last()->message), 3;
	lw_sandbox_read(sb, &c, 1, lw_sandbox_now() + 1);
	lw_sandbox_stop(&e, sb, 0);
	snprintf(msg, cap, "uid %u; %s; processes left %d; stderr: %s", lw_sandbox_uid(sb),
		 e.reason, lwt_processes_of(uid) - 1, lw_sandbox_stderr(sb));
	lw_sandbox_free(sb);
	return e.end == LW_SANDBOX_TIMEOUT && lwt_processes_of(uid) == 1 ? 0 : 1;
}

static void test_sandbox_as_ordinary_user__still_contains_a_fork_bomb(void **state)
{
	char msg[1024];

	(void)state;
	if (geteuid() != 0)
		fail_msg("this test switches users: run the suite as root, as CI does");
	if (in_child(fork_bomb_as_user, msg, sizeof(msg)) != 0)
		fail_msg("%s", msg);
	lwt_assert_contains(msg, "Resource temporarily unavailable");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_round_trip__cat_echoes_more_than_a_pipe_holds),
		cmocka_unit_test(test_sandbox_environment__is_exactly_the_minimal_one),
		cmocka_unit_test(test_sandbox_identity__is_an_unprivileged_uid_under_the_limits),
		cmocka_unit_test(test_sandbox_filesystem__is_read_only_but_a_private_tmp),
		cmocka_unit_test(test_sandbox_deadline__kills_a_sleeper_on_time),
		cmocka_unit_test(test_sandbox_exit__reports_status_and_stderr),
		cmocka_unit_test(test_sandbox_signal__is_named),
		cmocka_unit_test(test_sandbox_cpu_limit__stops_a_spinner),
		cmocka_unit_test(test_sandbox_file_limit__stops_a_disk_filler),
		cmocka_unit_test(test_sandbox_tmpfs__is_capped_in_size),
		cmocka_unit_test(test_sandbox_fork_bomb__is_contained_and_cleaned_up),
		cmocka_unit_test(test_sandbox_stderr__keeps_a_bounded_tail_without_blocking),
		cmocka_unit_test(test_sandbox_dead_reader__does_not_raise_sigpipe_in_the_host),
		cmocka_unit_test(test_sandbox_start__rejects_what_it_cannot_run),
		cmocka_unit_test(test_sandbox_no_namespaces__fail_at_start_with_bwraps_reason),
		cmocka_unit_test(test_sandbox_as_ordinary_user__still_contains_a_fork_bomb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
