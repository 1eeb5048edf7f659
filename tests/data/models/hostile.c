/*
 * Hostile process models for the sandbox tests: one program, one attack per
 * first argument.  Each says hello (unless its attack is at start-up), then
 * attacks on the first batch.  Attacks that cannot be seen from outside
 * (network, escapes) answer the batch with one column per attempt, 1 where
 * the attempt succeeded, and log each attempt on stderr.
 *
 *   hostile ATTACK [ARGS...]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *attack;
static char **args;

static int read_all(void *p, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(0, (char *)p + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void out(const void *p, size_t n)
{
	fwrite(p, 1, n, stdout);
	fflush(stdout);
}

static void hello(uint32_t version)
{
	uint32_t h[4] = { 0, version, 0, 0 };

	memcpy(h, "LWMP", 4);
	out(h, sizeof(h));
}

static void reply(uint64_t rows, uint64_t cols, const double *row)
{
	uint64_t head[2] = { rows, cols };

	out(head, sizeof(head));
	for (uint64_t i = 0; i < rows; i++)
		out(row, cols * sizeof(double));
}

static void error_frame(const char *msg)
{
	int64_t head[2] = { -1, (int64_t)strlen(msg) };

	out(head, sizeof(head));
	out(msg, strlen(msg));
}

/* ---- attacks on a batch ---- */

static void fork_bomb(void)
{
	int n = 0;

	for (; n < 1000; n++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0)
			for (;;)
				fork();
	}
	fprintf(stderr, "forked %d of 1000 children (%s) as uid %u\n", n,
		n < 1000 ? strerror(errno) : "", (unsigned int)getuid());
	for (;;)
		pause();
}

static void fill(const char *path, int *ok)
{
	static char block[1 << 16];
	long long total = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0)
		for (ssize_t w; (w = write(fd, block, sizeof(block))) > 0;)
			total += w;
	fprintf(stderr, "%s: wrote %lld bytes, then %s\n", path, total, strerror(errno));
	if (ok)
		*ok = fd >= 0;
	if (fd >= 0)
		close(fd);
}

static void fill_disk(int keep_going)
{
	char path[64];

	if (keep_going)
		signal(SIGXFSZ, SIG_IGN);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/tmp/fill%d", i);
		fill(path, NULL);
	}
	fill("/dev/shm/fill", NULL);
	fill("/learnware/fill", NULL);
	fill("/fill", NULL);
	exit(1);
}

static void allocate(void)
{
	size_t big = (size_t)10 << 30, mb = 0;
	char *p = malloc(big);

	fprintf(stderr, "malloc(10 GiB): %s\n", p ? "succeeded" : strerror(errno));
	if (p)
		memset(p, 1, big);
	while ((p = malloc((size_t)64 << 20))) {
		memset(p, 1, (size_t)64 << 20);
		mb += 64;
	}
	fprintf(stderr, "then touched %zu MiB in 64 MiB blocks before malloc failed\n", mb);
	exit(1);
}

static double try_connect(int family, int type, const struct sockaddr *addr, socklen_t len,
			  const char *what)
{
	int fd = socket(family, type, 0);
	int rc = fd < 0 ? -1 : connect(fd, addr, len);

	if (rc == 0 && type == SOCK_DGRAM)
		rc = send(fd, "x", 1, 0) == 1 ? 0 : -1;
	fprintf(stderr, "%s: %s\n", what, rc == 0 ? "CONNECTED" : strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc == 0;
}

/* args: TCP port the host listens on at 127.0.0.1, abstract unix socket name */
static void network(uint64_t rows)
{
	struct sockaddr_in local = { AF_INET, htons((uint16_t)atoi(args[0])), { 0 }, { 0 } };
	struct sockaddr_in external = { AF_INET, htons(53), { 0 }, { 0 } };
	struct sockaddr_un un = { AF_UNIX, { 0 } };
	double y[4];

	inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
	inet_pton(AF_INET, "1.1.1.1", &external.sin_addr);
	memcpy(un.sun_path + 1, args[1], strlen(args[1]));
	y[0] = try_connect(AF_INET, SOCK_STREAM, (void *)&local, sizeof(local), "tcp 127.0.0.1");
	y[1] = try_connect(AF_INET, SOCK_STREAM, (void *)&external, sizeof(external), "tcp 1.1.1.1:53");
	y[2] = try_connect(AF_INET, SOCK_DGRAM, (void *)&external, sizeof(external), "udp 1.1.1.1:53");
	y[3] = try_connect(AF_UNIX, SOCK_STREAM, (void *)&un,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(args[1])),
			   "abstract unix socket");
	reply(rows, 4, y);
}

static double attempt(int ok, const char *what)
{
	fprintf(stderr, "%s: %s\n", what, ok ? "SUCCEEDED" : strerror(errno));
	return ok;
}

static int opens(const char *path, int flags)
{
	int fd = open(path, flags, 0644);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* args: the host's pid, the package's path on the host */
static void escape(uint64_t rows)
{
	double y[9];

	y[0] = attempt(opens("/etc/shadow", O_RDONLY), "read /etc/shadow");
	y[1] = attempt(opens("/root", O_RDONLY | O_DIRECTORY), "open /root");
	y[2] = attempt(opens("/learnware/pwned", O_WRONLY | O_CREAT), "write the package");
	y[3] = attempt(opens("/usr/pwned", O_WRONLY | O_CREAT), "write /usr");
	y[4] = attempt(opens("/pwned", O_WRONLY | O_CREAT), "write /");
	y[5] = attempt(kill((pid_t)atoi(args[0]), 0) == 0, "signal the host");
	y[6] = attempt(setuid(0) == 0, "setuid(0)");
	y[7] = attempt(unshare(CLONE_NEWUSER) == 0, "new user namespace");
	y[8] = attempt(opens(args[1], O_RDONLY | O_DIRECTORY), "open the host's package path");
	reply(rows, 9, y);
}

static void attack_batch(uint64_t rows)
{
	static const double nan_row[1] = { NAN };
	static char noise[1 << 16];

	if (!strcmp(attack, "segv")) {
		fprintf(stderr, "about to dereference NULL\n");
		*(volatile int *)NULL = 1;
	} else if (!strcmp(attack, "abort")) {
		fprintf(stderr, "about to abort\n");
		abort();
	} else if (!strcmp(attack, "exit3")) {
		fprintf(stderr, "giving up\n");
		exit(3);
	} else if (!strcmp(attack, "spin")) {
		for (volatile unsigned long i = 0;; i++)
			;
	} else if (!strcmp(attack, "sleep")) {
		for (;;)
			pause();
	} else if (!strcmp(attack, "rows")) {
		reply(rows + 1, 1, (double[]){ 1 });
	} else if (!strcmp(attack, "short")) {
		uint64_t head[2] = { rows, 1 };

		out(head, sizeof(head));
		out((double[]){ 1 }, 4);
		exit(0);
	} else if (!strcmp(attack, "huge")) {
		uint64_t head[2] = { rows, (uint64_t)1 << 40 };

		out(head, sizeof(head));
	} else if (!strcmp(attack, "nan")) {
		reply(rows, 1, nan_row);
	} else if (!strcmp(attack, "garbage_reply")) {
		out("Traceback (most recent call last):\n  oops\n", 42);
	} else if (!strcmp(attack, "error_frame")) {
		error_frame("the model says no\n(second line)");
	} else if (!strcmp(attack, "forkbomb")) {
		fork_bomb();
	} else if (!strcmp(attack, "disk")) {
		fill_disk(0);
	} else if (!strcmp(attack, "disk_enospc")) {
		fill_disk(1);
	} else if (!strcmp(attack, "alloc")) {
		allocate();
	} else if (!strcmp(attack, "net")) {
		network(rows);
	} else if (!strcmp(attack, "escape")) {
		escape(rows);
	} else if (!strcmp(attack, "stderr_flood")) {
		memset(noise, 'e', sizeof(noise));
		for (int i = 0; i < 800; i++)
			fwrite(noise, 1, sizeof(noise), stderr);
		fprintf(stderr, "\nlast words\n");
		reply(rows, 1, (double[]){ 7 });
	} else {
		reply(rows, 1, (double[]){ 0 });
	}
}

/* ---- attacks at start-up ---- */

static int attack_start(void)
{
	if (!strcmp(attack, "garbage")) {
		out("Hello, world! I am not a model.\n", 32);
		pause();
	} else if (!strcmp(attack, "silent")) {
		pause();
	} else if (!strcmp(attack, "version")) {
		hello(7);
		pause();
	} else if (!strcmp(attack, "start_error")) {
		error_frame("cannot load weights.bin");
		return 1;
	} else if (!strcmp(attack, "exit_at_start")) {
		fprintf(stderr, "missing dependency\n");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t head[2];
	int rc;

	attack = argc > 1 ? argv[1] : "none";
	args = argv + 2;
	if ((rc = attack_start()) >= 0)
		return rc;
	hello(1);
	while (read_all(head, sizeof(head)) == 0) {
		double *x = malloc(head[0] * head[1] * sizeof(double) + 8);

		if (!x || read_all(x, head[0] * head[1] * sizeof(double)) != 0)
			return 1;
		free(x);
		attack_batch(head[0]);
	}
	return 0;
}
