/*
 * bench/serve: `learnware serve` under load on loopback.
 *
 * Builds a dock of N synthetic learnwares (synth.c: the learnwares of
 * bench_dock, added through the library with the in-process check), starts
 * the real server on it as a child process (`learnware serve --set
 * workers=0 --set threads=4`, port 0) and drives it from C connections, one
 * thread each, blocking sockets with HTTP/1.1 keep-alive:
 *
 *   - statistical searches, POST /api/v1/search {"rkme": <a user's RKME>,
 *     "limit": 10}, the users of bench_dock (20 bodies, in turn), with C
 *     connections and with one;
 *   - semantic-only searches by name, {"semantic": {"Name": ...}, "limit": 10},
 *     with C connections and with one;
 *   - GET /healthz, the floor of the HTTP stack.
 *
 * Each phase prints requests/s, p50, p99 and max latency and the errors
 * (no response, or a status other than 200).  The same searches run
 * directly on the library (lw_dock_search, one thread, the same dock
 * options as the server's search handle) give the baseline the HTTP figures
 * are divided by.  With --soak S the statistical load goes on for S seconds
 * while the server's VmRSS is sampled every 10 s.  Finally the server gets
 * SIGTERM and must exit 0.  The bench exits 1 when a request failed, the
 * server's first hit differed from the library's, or the server did not
 * exit 0.
 *
 * The client and the server share the machine: on a 2-core box the load
 * generator's threads take CPU from the server, and the figures say so
 * (server CPU per phase, load average before and after).
 *
 * Usage: bench_serve [--quick] [--soak SECONDS] [--connections C] [N]
 *        (N = 10000, 20 s phases; --quick: N = 1000, 5 s phases)
 * The server binary: $LW, else `learnware` next to this bench's folder
 * (build/bench/bench_serve -> build/learnware).
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lw.h"
#include "synth.h"

#define USERS 20
#define MAX_CONNS 256
#define SAMPLE_S 10
#define NPHASES 5

/* --- the run's state, for the exit handler ------------------------------------------ */

static char tmp[] = "/tmp/bench_serve.XXXXXX";
static int have_tmp;
static pid_t server = -1;

static void cleanup(void)
{
	char cmd[128];

	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (have_tmp) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "bench_serve: could not remove %s\n", tmp);
		have_tmp = 0;
	}
}

static void fail(const char *what)
{
	fprintf(stderr, "bench_serve: %s\n", what);
	exit(1);
}

static void sleep_s(double s)
{
	struct timespec t;

	if (s <= 0)
		return;
	t.tv_sec = (time_t)s;
	t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* --- building the dock --------------------------------------------------------------- */

static void remove_package(size_t i)
{
	static const char *const files[] = { "learnware.yaml", "model.json", "semantic.json",
					     "stat_spec.json" };
	char path[4300];

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		snprintf(path, sizeof(path), "%s/src/%zu/%s", tmp, i, files[f]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/src/%zu", tmp, i);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/zip/%zu.zip", tmp, i);
	unlink(path);
}

/* Pack and add learnwares 0..n-1 (each package removed once stored); the add times. */
static void build_dock(const char *dock, size_t n, const lw_mat *centres, size_t families,
		       double *times)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;
	double t0 = synth_now(), last = t0;

	o.hetero_auto = 0; /* not what this bench measures */
	if (lw_dock_open(&d, dock, &o) < 0)
		synth_die("open");
	for (size_t i = 0; i < n; i++) {
		lw_dock_added a;
		char zip[4200];
		double t;

		synth_package(tmp, i, centres, families);
		snprintf(zip, sizeof(zip), "%s/zip/%zu.zip", tmp, i);
		t = synth_now();
		if (lw_dock_add(&a, d, zip, NULL, NULL) < 0 || a.status != LW_CHECK_USABLE)
			synth_die(zip);
		times[i] = synth_now() - t;
		lw_dock_added_dispose(&a);
		remove_package(i);
		if (synth_now() - last > 2 || i + 1 == n) {
			last = synth_now();
			fprintf(stderr, "\rbench_serve: added %zu/%zu learnwares (%.0f s)", i + 1, n,
				last - t0);
		}
	}
	fprintf(stderr, "\n");
	lw_dock_free(d);
}

/* --- the library baseline ------------------------------------------------------------ */

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* rounds x USERS searches on one handle, after one warming round; latencies in lat, each
 * user's first hit in top1.  The CPU time this process used per second of the measured rounds. */
static double library_searches(double *lat, char (*top1)[16], lw_dock *d, lw_rkme **users,
			       char sems[][160], size_t rounds)
{
	double t0 = 0, c0 = 0;

	for (size_t k = 0; k <= rounds; k++) {
		if (k == 1) {
			t0 = synth_now();
			c0 = cpu_now();
		}
		for (size_t u = 0; u < USERS; u++) {
			lw_dock_query q = LW_DOCK_QUERY_INIT;
			lw_dock_result r;
			double t = synth_now();

			q.rkme = users ? users[u] : NULL;
			q.semantic_json = sems ? sems[u] : NULL;
			if (lw_dock_search(&r, d, &q) < 0)
				synth_die("search");
			if (k)
				lat[(k - 1) * USERS + u] = synth_now() - t;
			snprintf(top1[u], 16, "%s", r.count ? r.hits[0].id : "-");
			lw_dock_result_dispose(&r);
		}
	}
	return (cpu_now() - c0) / (synth_now() - t0);
}

typedef struct {
	double open_s, stat_cpu, sem_cpu, stat_p50, sem_p50;
} baseline;

/* Open the dock as the server's search handle is opened (the default options) and run the
 * statistical, then the semantic searches; latencies written to stat and sem. */
static void baseline_run(baseline *b, const char *dock, double *stat, double *sem,
			 char (*top1)[16], lw_rkme **users, char sems[][160], size_t rounds,
			 int read_only)
{
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	lw_dock *d = NULL;
	double t = synth_now();

	o.read_only = read_only; /* beside the running server: leave its index file alone */
	if (lw_dock_open(&d, dock, &o) < 0)
		synth_die("open");
	b->open_s = synth_now() - t;
	b->stat_cpu = library_searches(stat, top1, d, users, NULL, rounds);
	b->sem_cpu = library_searches(sem, top1 + USERS, d, NULL, sems, rounds);
	lw_dock_free(d);
	b->stat_p50 = synth_pct(stat, rounds * USERS, 0.5);
	b->sem_p50 = synth_pct(sem, rounds * USERS, 0.5);
}

/* --- the server ------------------------------------------------------------------------ */

static int server_out = -1;

static void find_server(char *out, size_t size)
{
	const char *env = getenv("LW");
	char exe[4096];
	ssize_t len;

	if (env && *env) {
		snprintf(out, size, "%s", env);
		return;
	}
	if ((len = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		fail("cannot read /proc/self/exe; set LW to the learnware binary");
	exe[len] = '\0';
	snprintf(out, size, "%s/../learnware", dirname(exe));
}

/* Start `learnware serve` and read its port from "listening on http://127.0.0.1:PORT". */
static int start_server(const char *exe, const char *dock)
{
	int pipefd[2], port = 0;
	char line[512];
	size_t have = 0;
	double t0 = synth_now();

	if (access(exe, X_OK) != 0) {
		fprintf(stderr, "bench_serve: no server binary at %s (build it, or set LW)\n", exe);
		exit(1);
	}
	if (pipe(pipefd) < 0)
		fail("pipe");
	fflush(NULL);
	if ((server = fork()) < 0)
		fail("fork");
	if (server == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(exe, exe, "serve", "--dock", dock, "--listen", "127.0.0.1:0", "--set", "workers=0",
		      "--set", "threads=4", (char *)NULL);
		fprintf(stderr, "bench_serve: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	server_out = pipefd[0];
	while (have < sizeof(line) - 1) {
		struct pollfd p = { server_out, POLLIN, 0 };
		ssize_t r;
		char *nl;

		if (synth_now() - t0 > 300)
			fail("the server did not say where it listens within 300 s");
		if (poll(&p, 1, 1000) <= 0)
			continue;
		if ((r = read(server_out, line + have, sizeof(line) - 1 - have)) <= 0)
			fail("the server exited before listening");
		have += (size_t)r;
		line[have] = '\0';
		if ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if (sscanf(line, "listening on http://127.0.0.1:%d", &port) != 1 || port <= 0) {
				fprintf(stderr, "bench_serve: unexpected first line from the server: %s\n",
					line);
				exit(1);
			}
			return port;
		}
	}
	fail("no listening line from the server");
	return 0;
}

/* A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or -1. */
static long proc_kib(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* CPU seconds (user + system) the process has used. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[2048], *p;
	unsigned long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "r")))
		return NAN;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* After the command name's closing parenthesis: state is field 3, utime 14, stime 15. */
	if (!(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return NAN;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void loadavg(char *out, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(out, size, "?");
	else
		snprintf(out, size, "%.2f, %.2f, %.2f", a, b, c);
	if (f)
		fclose(f);
}

/* --- the load generator ----------------------------------------------------------------- */

typedef struct {
	char *data;
	size_t len;
} request;

typedef struct {
	/* in */
	const request *reqs;
	size_t nreq, first;
	int port;
	/* out */
	double *lat;
	size_t n, cap, errors, reconnects;
	double end;
	char first_error[160];
	pthread_t thread;
} client;

static atomic_int stop_load;
static atomic_size_t load_done;

static int conn_open(int port)
{
	struct sockaddr_in a;
	struct timeval tv = { 60, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void note_error(client *c, const char *what, int num)
{
	c->errors++;
	if (!c->first_error[0])
		snprintf(c->first_error, sizeof(c->first_error), "%s %d", what, num);
}

/* The end of the header block ("\r\n\r\n") in b[0..n), searching from `from`; 0 if absent. */
static size_t header_end(const char *b, size_t n, size_t from)
{
	for (size_t i = from; i + 4 <= n; i++)
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* Send one request on c's connection (opened if needed) and read the whole response; its
 * body starts at (*buf)[*body] when body is not NULL.  The HTTP status, or -1 when the
 * connection failed (then it is closed). */
static int exchange(client *c, int *fd, char **buf, size_t *cap, const request *rq, size_t *body)
{
	size_t off = 0, have = 0, head = 0, need = 0, scanned = 0;
	int status = -1, keep = 1;

	if (*fd < 0) {
		if ((*fd = conn_open(c->port)) < 0)
			return -1;
		c->reconnects++;
	}
	while (off < rq->len) {
		ssize_t w = write(*fd, rq->data + off, rq->len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto broken;
		off += (size_t)w;
	}
	for (;;) {
		ssize_t r;

		if (have == *cap) {
			char *nb = realloc(*buf, *cap * 2);

			if (!nb)
				fail("out of memory");
			*buf = nb;
			*cap *= 2;
		}
		r = read(*fd, *buf + have, *cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto broken;
		have += (size_t)r;
		if (!head) {
			char *line, *save = NULL;
			long clen = -1;

			head = header_end(*buf, have, scanned);
			scanned = have > 3 ? have - 3 : 0;
			if (!head)
				continue;
			(*buf)[head - 2] = '\0'; /* the header block as text, for parsing */
			if (sscanf(*buf, "HTTP/1.%*d %d", &status) != 1)
				goto broken;
			for (line = strtok_r(*buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
				if (!strncasecmp(line, "content-length:", 15))
					clen = strtol(line + 15, NULL, 10);
				else if (!strncasecmp(line, "connection:", 11)) {
					const char *v = line + 11;

					while (*v == ' ')
						v++;
					keep = strncasecmp(v, "close", 5) != 0;
				}
			}
			if (clen < 0)
				goto broken; /* this client reads Content-Length replies only */
			need = head + (size_t)clen;
		}
		if (have >= need)
			break;
	}
	if (body) {
		if (need == *cap) {
			char *nb = realloc(*buf, *cap + 1);

			if (!nb)
				fail("out of memory");
			*buf = nb;
			*cap += 1;
		}
		(*buf)[need] = '\0';
		*body = head;
	}
	if (have > need || !keep) {
		close(*fd);
		*fd = -1;
	}
	return status;
broken:
	close(*fd);
	*fd = -1;
	return -1;
}

static void *client_main(void *arg)
{
	client *c = arg;
	size_t cap = 1 << 16, i = c->first;
	char *buf = malloc(cap);
	int fd = -1;

	if (!buf)
		fail("out of memory");
	while (!atomic_load(&stop_load)) {
		const request *rq = &c->reqs[i++ % c->nreq];
		double t = synth_now();
		int status = exchange(c, &fd, &buf, &cap, rq, NULL);

		if (status < 0) {
			note_error(c, "connection failed or reply unreadable, errno", errno);
			sleep_s(0.01);
			continue;
		}
		if (c->n == c->cap) {
			double *nl = realloc(c->lat, (c->cap = c->cap ? 2 * c->cap : 4096) * sizeof(double));

			if (!nl)
				fail("out of memory");
			c->lat = nl;
		}
		c->lat[c->n++] = synth_now() - t;
		atomic_fetch_add(&load_done, 1);
		if (status != 200)
			note_error(c, "status", status);
	}
	c->end = synth_now();
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

typedef struct {
	const char *name;
	size_t conns, requests, errors, reconnects;
	double seconds, rps, p50, p99, max, server_cpu;
	char first_error[160];
} phase_result;

static client *load_start(size_t conns, const request *reqs, size_t nreq, int port)
{
	client *cs = calloc(conns, sizeof(client));

	if (!cs)
		fail("out of memory");
	atomic_store(&stop_load, 0);
	atomic_store(&load_done, 0);
	for (size_t k = 0; k < conns; k++) {
		cs[k].reqs = reqs;
		cs[k].nreq = nreq;
		cs[k].first = k * nreq / conns;
		cs[k].port = port;
		if (pthread_create(&cs[k].thread, NULL, client_main, &cs[k]) != 0)
			fail("pthread_create");
	}
	return cs;
}

static void load_stop(phase_result *pr, client *cs, size_t conns, double t0, double cpu0)
{
	double *all, end = t0;
	size_t n = 0;

	atomic_store(&stop_load, 1);
	for (size_t k = 0; k < conns; k++) {
		pthread_join(cs[k].thread, NULL);
		n += cs[k].n;
	}
	pr->conns = conns;
	pr->requests = n;
	pr->errors = pr->reconnects = 0;
	pr->first_error[0] = '\0';
	if (!(all = malloc((n ? n : 1) * sizeof(double))))
		fail("out of memory");
	n = 0;
	for (size_t k = 0; k < conns; k++) {
		memcpy(all + n, cs[k].lat, cs[k].n * sizeof(double));
		n += cs[k].n;
		pr->errors += cs[k].errors;
		/* the first connection is not a reconnect */
		pr->reconnects += cs[k].reconnects ? cs[k].reconnects - 1 : 0;
		if (!pr->first_error[0] && cs[k].first_error[0])
			snprintf(pr->first_error, sizeof(pr->first_error), "%s", cs[k].first_error);
		if (cs[k].end > end)
			end = cs[k].end;
		free(cs[k].lat);
	}
	pr->seconds = end - t0;
	pr->rps = (double)n / pr->seconds;
	pr->p50 = synth_pct(all, n, 0.5);
	pr->p99 = synth_pct(all, n, 0.99);
	pr->max = n ? all[n - 1] : NAN;
	pr->server_cpu = (proc_cpu(server) - cpu0) / pr->seconds;
	free(all);
	free(cs);
}

static void run_phase(phase_result *pr, const char *name, size_t conns, double seconds,
		      const request *reqs, size_t nreq, int port)
{
	double t0 = synth_now(), cpu0 = proc_cpu(server);
	client *cs;

	fprintf(stderr, "bench_serve: %s, %zu connection%s, %.0f s\n", name, conns, conns == 1 ? "" : "s",
		seconds);
	cs = load_start(conns, reqs, nreq, port);
	sleep_s(seconds);
	load_stop(pr, cs, conns, t0, cpu0);
	pr->name = name;
}

static void print_phase(const phase_result *pr)
{
	printf("%-26s %5zu %7.1f %9zu %9.1f %8.2f %8.2f %8.1f %6zu %9.0f%%\n", pr->name, pr->conns,
	       pr->seconds, pr->requests, pr->rps, 1e3 * pr->p50, 1e3 * pr->p99, 1e3 * pr->max,
	       pr->errors, 100 * pr->server_cpu);
}

static request make_request(int port, const char *method, const char *path, const char *body)
{
	request r;
	size_t blen = body ? strlen(body) : 0, cap = blen + 256;

	if (!(r.data = malloc(cap)))
		fail("out of memory");
	if (body)
		r.len = (size_t)snprintf(r.data, cap,
					 "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
					 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
					 method, path, port, blen);
	else
		r.len = (size_t)snprintf(r.data, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
					 method, path, port);
	memcpy(r.data + r.len, body ? body : "", blen);
	r.len += blen;
	return r;
}

/* --- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	size_t n = 10000, conns = 8, families, soak = 0, rounds;
	double phase_s = 20, t, *times, *lib_stat, *lib_sem, lib_stat_p50, lib_stat_p99, lib_sem_p50,
	       lib_sem_p99, t_up, warm_first = 0, warm_s;
	baseline lib[2];
	char dock[4200], exe[4096], sems[USERS][160], body[256], load0[64], load1[64];
	request stat[USERS], sem[USERS], health;
	phase_result ph[NPHASES];
	lw_rkme *users[USERS];
	char top1[2 * USERS][16], top1_after[2 * USERS][16];
	size_t agree = 0;
	lw_mat centres;
	int port, quick = 0, wstatus = 0, ok = 1;
	long rss_up, rss_warm;

	synth_prog = "bench_serve";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--soak") && i + 1 < argc)
			soak = (size_t)strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
			conns = (size_t)strtoull(argv[++i], NULL, 10);
		else if (argv[i][0] != '-')
			n = (size_t)strtoull(argv[i], NULL, 10);
		else {
			fprintf(stderr, "usage: bench_serve [--quick] [--soak SECONDS] [--connections C] [N]\n");
			return 2;
		}
	}
	if (quick) {
		n = n == 10000 ? 1000 : n;
		phase_s = 5;
	}
	if (n < 20)
		n = 20;
	if (conns < 1 || conns > MAX_CONNS)
		fail("--connections must be 1 to 256");
	families = n / 10;
	find_server(exe, sizeof(exe));
	if (access(exe, X_OK) != 0) {
		fprintf(stderr, "bench_serve: no server binary at %s (build it, or set LW)\n", exe);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmp))
		fail("mkdtemp");
	have_tmp = 1;
	atexit(cleanup);
	synth_dirs(tmp);
	synth_centres(&centres, families);
	snprintf(dock, sizeof(dock), "%s/dock", tmp);
	loadavg(load0, sizeof(load0));

	/* The dock, through the library. */
	if (!(times = calloc(n, sizeof(double))))
		fail("out of memory");
	t = synth_now();
	build_dock(dock, n, &centres, families, times);
	printf("bench_serve: %zu learnwares (K=%d, d=%d, %zu families) packed and added in %.1f s; "
	       "add p50 %.1f ms, p99 %.1f ms (in-process check)\n",
	       n, SYNTH_K, SYNTH_D, families, synth_now() - t, 1e3 * synth_pct(times, n, 0.5),
	       1e3 * synth_pct(times, n, 0.99));
	free(times);

	/* The users, their request bodies, and the library baseline on the same dock. */
	for (size_t u = 0; u < USERS; u++) {
		users[u] = synth_user(&centres, families, u);
		snprintf(sems[u], sizeof(sems[u]),
			 "{\"Name\":{\"Type\":\"String\",\"Values\":\"bench learnware %zu\"}}",
			 (42 + u * 499) % n);
	}
	/* Run before the server starts and again right after the HTTP phases (the server idle):
	 * the machine is shared, so the ratios use the two runs pooled. */
	rounds = quick ? 3 : 5;
	lib_stat = calloc(2 * rounds * USERS, sizeof(double));
	lib_sem = calloc(2 * rounds * USERS, sizeof(double));
	if (!lib_stat || !lib_sem)
		fail("out of memory");
	fprintf(stderr, "bench_serve: library baseline\n");
	baseline_run(&lib[0], dock, lib_stat, lib_sem, top1, users, sems, rounds, 0);

	/* The server. */
	t = synth_now();
	port = start_server(exe, dock);
	t_up = synth_now() - t;
	rss_up = proc_kib(server, "VmRSS");
	for (size_t u = 0; u < USERS; u++) {
		char *json = NULL, *b;
		size_t len;

		if (lw_rkme_to_json(&json, users[u]) < 0)
			synth_die("rkme json");
		len = strlen(json) + 64;
		if (!(b = malloc(len)))
			fail("out of memory");
		snprintf(b, len, "{\"rkme\":%s,\"limit\":10}", json);
		stat[u] = make_request(port, "POST", "/api/v1/search", b);
		free(b);
		free(json);
		snprintf(body, sizeof(body), "{\"semantic\":%s,\"limit\":10}", sems[u]);
		sem[u] = make_request(port, "POST", "/api/v1/search", body);
	}
	health = make_request(port, "GET", "/healthz", NULL);

	/* Warm the server as the baseline was warmed: each body once, one connection; the
	 * replies must be of the right kind and rank first what the library ranks first. */
	t = synth_now();
	{
		client c;
		size_t cap = 1 << 16;
		char *buf = malloc(cap);
		int fd = -1;

		memset(&c, 0, sizeof(c));
		c.port = port;
		for (size_t u = 0; u < 2 * USERS; u++) {
			double t1 = synth_now();
			size_t at = 0;
			int st = exchange(&c, &fd, &buf, &cap, u < USERS ? &stat[u] : &sem[u - USERS], &at);
			const char *kind = u < USERS ? "\"kind\":\"statistical\"" : "\"kind\":\"semantic\"";
			const char *first = st == 200 ? strstr(buf + at, "\"items\":[{\"id\":\"") : NULL;

			if (st != 200 || !strstr(buf + at, kind)) {
				fprintf(stderr, "bench_serve: warm-up request %zu answered %d: %.300s\n", u, st,
					st > 0 ? buf + at : "");
				exit(1);
			}
			if (u == 0)
				warm_first = synth_now() - t1;
			agree += first ? !strncmp(first + 16, top1[u], strlen(top1[u])) : !strcmp(top1[u], "-");
		}
		if (fd >= 0)
			close(fd);
		free(buf);
	}
	warm_s = synth_now() - t;
	rss_warm = proc_kib(server, "VmRSS");

	run_phase(&ph[0], "statistical search", conns, phase_s, stat, USERS, port);
	run_phase(&ph[1], "statistical search", 1, phase_s / 2, stat, USERS, port);
	run_phase(&ph[2], "semantic (name) search", conns, phase_s, sem, USERS, port);
	run_phase(&ph[3], "semantic (name) search", 1, phase_s / 2, sem, USERS, port);
	run_phase(&ph[4], "GET /healthz", conns, phase_s, &health, 1, port);

	fprintf(stderr, "bench_serve: library baseline again\n");
	baseline_run(&lib[1], dock, lib_stat + rounds * USERS, lib_sem + rounds * USERS, top1_after,
		     users, sems, rounds, 1);
	for (size_t u = 0; u < 2 * USERS; u++)
		if (strcmp(top1[u], top1_after[u]) != 0) {
			printf("library: user %zu's first hit changed from %s to %s\n", u, top1[u],
			       top1_after[u]);
			ok = 0;
		}
	lib_stat_p50 = synth_pct(lib_stat, 2 * rounds * USERS, 0.5);
	lib_stat_p99 = synth_pct(lib_stat, 2 * rounds * USERS, 0.99);
	lib_sem_p50 = synth_pct(lib_sem, 2 * rounds * USERS, 0.5);
	lib_sem_p99 = synth_pct(lib_sem, 2 * rounds * USERS, 0.99);

	printf("server: %s serve --set workers=0 --set threads=4, up in %.2f s (port %d); "
	       "VmRSS %.1f MiB at start, %.1f MiB after warm-up (first search %.0f ms, 40 warm-up "
	       "requests %.2f s)\n",
	       exe, t_up, port, rss_up / 1024.0, rss_warm / 1024.0, 1e3 * warm_first, warm_s);
	{
		size_t bytes = 0;

		for (size_t u = 0; u < USERS; u++)
			bytes += stat[u].len;
		printf("statistical requests: %.1f KiB each on average (the RKME as JSON, K=%d, d=%d)\n",
		       (double)bytes / USERS / 1024, SYNTH_K, SYNTH_D);
	}
	printf("same first hit over HTTP as from the library: %zu/%d searches\n", agree, 2 * USERS);
	ok = ok && agree == 2 * USERS;
	printf("\nlibrary baseline: lw_dock_search on the same dock, default options (the server's), one\n"
	       "calling thread, %zu rounds of the %d users after a warm round, before the server started\n"
	       "and right after the HTTP phases (dock opened in %.0f / %.0f ms):\n",
	       rounds, USERS, 1e3 * lib[0].open_s, 1e3 * lib[1].open_s);
	printf("  statistical p50 %.2f ms (before %.2f, after %.2f), p99 %.2f ms, %.1f searches/s; "
	       "CPU %.0f%% / %.0f%%\n",
	       1e3 * lib_stat_p50, 1e3 * lib[0].stat_p50, 1e3 * lib[1].stat_p50, 1e3 * lib_stat_p99,
	       1.0 / lib_stat_p50, 100 * lib[0].stat_cpu, 100 * lib[1].stat_cpu);
	printf("  semantic (name) p50 %.3f ms (before %.3f, after %.3f), p99 %.3f ms; CPU %.0f%% / %.0f%%\n",
	       1e3 * lib_sem_p50, 1e3 * lib[0].sem_p50, 1e3 * lib[1].sem_p50, 1e3 * lib_sem_p99,
	       100 * lib[0].sem_cpu, 100 * lib[1].sem_cpu);
	printf("\n%-26s %5s %7s %9s %9s %8s %8s %8s %6s %10s\n", "phase (HTTP, keep-alive)", "conns",
	       "seconds", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "server CPU");
	for (size_t k = 0; k < NPHASES; k++)
		print_phase(&ph[k]);
	printf("\nHTTP p50 / library p50: statistical %.2f (1 connection), %.2f (%zu connections); "
	       "semantic %.2f (1 connection), %.2f (%zu connections)\n",
	       ph[1].p50 / lib_stat_p50, ph[0].p50 / lib_stat_p50, conns, ph[3].p50 / lib_sem_p50,
	       ph[2].p50 / lib_sem_p50, conns);
	printf("HTTP req/s / library searches/s (1 / p50): statistical %.2f (1 connection), %.2f (%zu "
	       "connections); semantic %.2f (1 connection), %.2f (%zu connections)\n",
	       ph[1].rps * lib_stat_p50, ph[0].rps * lib_stat_p50, conns, ph[3].rps * lib_sem_p50,
	       ph[2].rps * lib_sem_p50, conns);
	for (size_t k = 0; k < NPHASES; k++)
		if (ph[k].errors || ph[k].reconnects) {
			printf("  %s (%zu connections): %zu errors, %zu reconnects; first: %s\n", ph[k].name,
			       ph[k].conns, ph[k].errors, ph[k].reconnects, ph[k].first_error);
			ok = ok && ph[k].errors == 0;
		}
	fflush(stdout);

	if (soak) {
		size_t ns = soak / SAMPLE_S + 2, k = 0, prev = 0, base;
		double *ts = calloc(ns, sizeof(double)), t0, cpu0 = proc_cpu(server), cpu_prev = cpu0,
		       rss_base, rss_end;
		long *rss = calloc(ns, sizeof(long));
		size_t *req = calloc(ns, sizeof(size_t));
		phase_result pr;
		client *cs;

		if (!ts || !rss || !req)
			fail("out of memory");
		fprintf(stderr, "bench_serve: soak, statistical search, %zu connections, %zu s\n", conns,
			soak);
		printf("\nsoak: statistical search, %zu connections, %zu s; the server's VmRSS every %d s, and\n"
		       "over the last %d s its requests/s, its CPU (of one core) and the 1-minute load average\n",
		       conns, soak, SAMPLE_S, SAMPLE_S);
		printf("%8s %10s %10s %8s %11s %8s\n", "t (s)", "RSS (MiB)", "requests", "req/s",
		       "server CPU", "load 1m");
		t0 = synth_now();
		cs = load_start(conns, stat, USERS, port);
		for (;;) {
			double el = synth_now() - t0, cpu = proc_cpu(server);
			char la[64], *comma;

			ts[k] = el;
			rss[k] = proc_kib(server, "VmRSS");
			req[k] = atomic_load(&load_done);
			loadavg(la, sizeof(la));
			if ((comma = strchr(la, ',')))
				*comma = '\0';
			printf("%8.0f %10.1f %10zu %8.1f %10.0f%% %8s\n", el, rss[k] / 1024.0, req[k],
			       k ? (double)(req[k] - prev) / (el - ts[k - 1]) : 0.0,
			       k ? 100 * (cpu - cpu_prev) / (el - ts[k - 1]) : 0.0, la);
			fflush(stdout);
			prev = req[k];
			cpu_prev = cpu;
			k++;
			if (el >= (double)soak || k == ns)
				break;
			sleep_s(fmin((double)(k * SAMPLE_S), (double)soak) - (synth_now() - t0));
		}
		load_stop(&pr, cs, conns, t0, cpu0);
		pr.name = "soak: statistical search";
		/* Growth from the end of the first minute (the first sample when shorter). */
		base = 60 / SAMPLE_S < k ? 60 / SAMPLE_S : 0;
		rss_base = rss[base] / 1024.0;
		rss_end = rss[k - 1] / 1024.0;
		printf("\n%-26s %5s %7s %9s %9s %8s %8s %8s %6s %10s\n", "phase", "conns", "seconds",
		       "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors", "server CPU");
		print_phase(&pr);
		printf("RSS at %.0f s %.1f MiB, at the end (%.0f s) %.1f MiB: %+.1f MiB (%+.1f%%) over %.0f s "
		       "and %zu requests; peak (VmHWM) %.1f MiB\n",
		       ts[base], rss_base, ts[k - 1], rss_end, rss_end - rss_base,
		       100 * (rss_end - rss_base) / rss_base, ts[k - 1] - ts[base], req[k - 1] - req[base],
		       proc_kib(server, "VmHWM") / 1024.0);
		if (pr.errors)
			printf("  soak: %zu errors, %zu reconnects; first: %s\n", pr.errors, pr.reconnects,
			       pr.first_error);
		ok = ok && pr.errors == 0;
		free(ts);
		free(rss);
		free(req);
	}

	/* Stop the server: SIGTERM, and it must exit 0. */
	t = synth_now();
	kill(server, SIGTERM);
	for (;;) {
		pid_t w = waitpid(server, &wstatus, WNOHANG);

		if (w == server)
			break;
		if (synth_now() - t > 60) {
			printf("server: still running 60 s after SIGTERM; killed\n");
			ok = 0;
			break;
		}
		sleep_s(0.05);
	}
	if (synth_now() - t <= 60) {
		server = -1;
		if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0)
			printf("server: SIGTERM, exited 0 after %.2f s\n", synth_now() - t);
		else {
			printf("server: SIGTERM, %s %d\n", WIFEXITED(wstatus) ? "exited" : "killed by signal",
			       WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : WTERMSIG(wstatus));
			ok = 0;
		}
	}
	close(server_out);
	loadavg(load1, sizeof(load1));
	printf("load average: %s at the start, %s at the end (%ld cores; the load generator and the "
	       "server share them)\n",
	       load0, load1, sysconf(_SC_NPROCESSORS_ONLN));

	for (size_t u = 0; u < USERS; u++) {
		lw_rkme_free(users[u]);
		free(stat[u].data);
		free(sem[u].data);
	}
	free(health.data);
	free(lib_stat);
	free(lib_sem);
	lw_mat_dispose(&centres);
	return ok ? 0 : 1;
}
