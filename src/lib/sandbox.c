/*
 * Running an untrusted program under bubblewrap (see include/lw/sandbox.h).
 *
 * The host forks a child that sets the resource limits, drops to an
 * unprivileged uid when the host is root, and execs bwrap, which builds the
 * namespaces and mounts and starts an init as PID 1 of the new PID
 * namespace, which runs the program.  The host talks over pipes with poll()
 * and a deadline, never blocking past it.  To end it all, the host kills
 * that init: the kernel then kills every process of the namespace, however
 * many a fork bomb made and whatever session or group they moved to.
 */
#define _GNU_SOURCE
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define BWRAP "/usr/bin/bwrap"
/* A range no distribution hands out (above systemd-nspawn's container
 * range): files never belong to these uids, and each sandbox gets its own so
 * RLIMIT_NPROC, counted per uid, is a per-sandbox budget. */
#define UID_BASE 2000000000u
#define UID_SLOTS 65536u
#define NICE_INCREMENT 10
#define NOFILE_LIMIT 1024
#define MAX_BINDS 32
#define SETUP_TIMEOUT_S 10.0
/* after the kill, how long stop waits for the namespace to empty */
#define TEARDOWN_TIMEOUT_S 5.0

struct lw_sandbox {
	pid_t pid;         /* bwrap, leader of its own process group; 0 once reaped */
	int in, out, err;  /* our ends of its stdin, stdout, stderr; -1 when closed */
	int pidfd;         /* readable when bwrap exits; -1 when unsupported */
	int initfd;        /* readable when the namespace's init, hence all, exited */
	unsigned int uid;
	double cpu_s;
	size_t file_bytes;
	lw_sandbox_end kill_reason; /* set when the host sends SIGKILL */
	lw_sandbox_exit exit;
	bool out_eof;
	unsigned char *ahead; /* stdout read while writing, not yet consumed */
	size_t ahead_off, ahead_len, ahead_cap, ahead_max;
	char *tail;           /* last stderr bytes, raw */
	size_t tail_len, tail_cap;
	char *tail_view;      /* sanitised copy handed out */
};

/* Everything the forked child needs, prepared before fork: after it only
 * async-signal-safe calls are allowed. */
typedef struct {
	char **argv, **envp;
	int fds[5 + MAX_BINDS]; /* become 0, 1, 2, 3... in the child */
	int nfds;
	int status_fd;          /* reports a failure before exec */
	struct rlimit limits[6];
	int resources[6];
	int nlimits;
	int nice_value;
	bool switch_uid;
	unsigned int uid;
	pid_t parent;
} child_plan;

enum { STAGE_FDS = 1, STAGE_LIMITS, STAGE_UID, STAGE_EXEC };

static void drain_stderr(lw_sandbox *sb);
static void kill_now(lw_sandbox *sb, lw_sandbox_end why);
static void wait_exit(lw_sandbox *sb, double deadline);

/* ---- small helpers ---- */

void lw_sandbox_options_init(lw_sandbox_options *opts)
{
	lw_sandbox_options defaults = LW_SANDBOX_OPTIONS_INIT;

	*opts = defaults;
}

double lw_sandbox_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* A growing NULL-terminated array of strings the array owns. */
typedef struct {
	char **v;
	size_t n, cap;
} strvec;

static int strvec_push(strvec *sv, const char *s)
{
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? 2 * sv->cap : 64;
		char **v = lw__reallocarray(sv->v, cap, sizeof(*v));

		if (!v)
			return LW_ENOMEM;
		sv->v = v;
		sv->cap = cap;
	}
	if (!(sv->v[sv->n] = lw__strdup(s)))
		return LW_ENOMEM;
	sv->v[++sv->n] = NULL;
	return 0;
}

static int strvec_push_num(strvec *sv, unsigned long long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", v);
	return strvec_push(sv, buf);
}

static void strvec_dispose(strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

/* ---- the bwrap command line ---- */

/* /bin, /lib... are symlinks into /usr on merged-/usr systems and
 * directories elsewhere: recreate whichever the host has. */
static int push_system_dirs(strvec *a)
{
	static const char *const dirs[] = { "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32" };
	int err = 0;

	err = err ? err : strvec_push(a, "--ro-bind");
	err = err ? err : strvec_push(a, "/usr");
	err = err ? err : strvec_push(a, "/usr");
	for (size_t i = 0; !err && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char target[256];
		ssize_t n = readlink(dirs[i], target, sizeof(target) - 1);
		struct stat st;

		if (n > 0) {
			target[n] = '\0';
			err = strvec_push(a, "--symlink");
			err = err ? err : strvec_push(a, target);
			err = err ? err : strvec_push(a, dirs[i]);
		} else if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			err = strvec_push(a, "--ro-bind");
			err = err ? err : strvec_push(a, dirs[i]);
			err = err ? err : strvec_push(a, dirs[i]);
		}
	}
	return err;
}

static int push_tmpfs(strvec *a, const char *dest, size_t bytes)
{
	int err = strvec_push(a, "--size");

	err = err ? err : strvec_push_num(a, bytes);
	err = err ? err : strvec_push(a, "--tmpfs");
	return err ? err : strvec_push(a, dest);
}

/* Bind-mount sources are passed as open fds (numbered from 3 in the child)
 * so bwrap, already unprivileged, need not traverse the host's path; the
 * info fd comes after them. */
static int build_args(strvec *a, const char *const *argv, const lw_sandbox_options *o)
{
	static const char *const head[] = {
		BWRAP, "--unshare-all", "--unshare-user", "--disable-userns",
		"--die-with-parent", "--new-session",
		/* numpy finds Debian's BLAS through these two */
		"--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
		"--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
		"--proc", "/proc", "--dev", "/dev",
	};
	int err = 0, fd = 3;

	for (size_t i = 0; !err && i < sizeof(head) / sizeof(head[0]); i++)
		err = strvec_push(a, head[i]);
	err = err ? err : push_system_dirs(a);
	err = err ? err : push_tmpfs(a, "/tmp", o->file_bytes);
	err = err ? err : push_tmpfs(a, "/dev/shm", o->file_bytes);
	if (!err && o->package_dir) {
		err = strvec_push(a, "--ro-bind-fd");
		err = err ? err : strvec_push_num(a, (unsigned long long)fd++);
		err = err ? err : strvec_push(a, LW_SANDBOX_PACKAGE_DIR);
	}
	for (size_t i = 0; !err && i < o->nbinds; i++) {
		err = strvec_push(a, "--ro-bind-fd");
		err = err ? err : strvec_push_num(a, (unsigned long long)fd++);
		err = err ? err : strvec_push(a, o->binds[i].sandbox);
	}
	/* /dev's own tmpfs has no size cap: keep the program from filling it */
	err = err ? err : strvec_push(a, "--remount-ro");
	err = err ? err : strvec_push(a, "/dev");
	err = err ? err : strvec_push(a, "--remount-ro");
	err = err ? err : strvec_push(a, "/");
	err = err ? err : strvec_push(a, "--chdir");
	err = err ? err : strvec_push(a, o->package_dir ? LW_SANDBOX_PACKAGE_DIR : "/");
	/* the pid of the namespace's init: the sandbox is gone when it is */
	err = err ? err : strvec_push(a, "--info-fd");
	err = err ? err : strvec_push_num(a, (unsigned long long)fd);
	err = err ? err : strvec_push(a, "--");
	for (size_t i = 0; !err && argv[i]; i++)
		err = strvec_push(a, argv[i]);
	return err;
}

static bool env_overridden(const char *entry, const char *const *extra)
{
	size_t name = strcspn(entry, "=");

	for (size_t i = 0; extra && extra[i]; i++)
		if (!strncmp(extra[i], entry, name + 1))
			return true;
	return false;
}

static int build_env(strvec *e, const char *const *extra)
{
	static const char *const base[] = {
		"PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
		/* one core per model unless it asks: also keeps threads under max_tasks */
		"OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1",
	};
	int err = strvec_push(e, "LW_SANDBOX=1");

	for (size_t i = 0; !err && i < sizeof(base) / sizeof(base[0]); i++)
		if (!env_overridden(base[i], extra))
			err = strvec_push(e, base[i]);
	for (size_t i = 0; !err && extra && extra[i]; i++)
		err = strvec_push(e, extra[i]);
	return err;
}

/* ---- resource limits and uid ---- */

/* Tasks (processes and threads) the user already runs: RLIMIT_NPROC
 * counts them too when the host cannot switch to a uid of its own. */
static unsigned long count_user_tasks(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	unsigned long total = 0;

	while (d && (de = readdir(d))) {
		char path[300], line[256];
		unsigned long ruid = ~0UL, threads = 0;
		FILE *f;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "Uid: %lu", &ruid);
			sscanf(line, "Threads: %lu", &threads);
		}
		fclose(f);
		if (ruid == uid)
			total += threads;
	}
	if (d)
		closedir(d);
	return total;
}

static void add_limit(child_plan *p, int resource, rlim_t soft, rlim_t hard)
{
	p->resources[p->nlimits] = resource;
	p->limits[p->nlimits].rlim_cur = soft;
	p->limits[p->nlimits].rlim_max = hard;
	p->nlimits++;
}

static void plan_limits(child_plan *p, const lw_sandbox_options *o)
{
	rlim_t cpu = o->cpu_s > 0 ? (rlim_t)ceil(o->cpu_s) : RLIM_INFINITY;
	rlim_t tasks = o->max_tasks;
	int prio;

	add_limit(p, RLIMIT_AS, o->memory_bytes ? o->memory_bytes : RLIM_INFINITY,
		  o->memory_bytes ? o->memory_bytes : RLIM_INFINITY);
	/* SIGXCPU at the soft limit says why; SIGKILL a second later if ignored */
	add_limit(p, RLIMIT_CPU, cpu, cpu == RLIM_INFINITY ? cpu : cpu + 1);
	add_limit(p, RLIMIT_FSIZE, o->file_bytes, o->file_bytes);
	add_limit(p, RLIMIT_CORE, 0, 0);
	add_limit(p, RLIMIT_NOFILE, NOFILE_LIMIT, NOFILE_LIMIT);
	if (!p->switch_uid)
		tasks += count_user_tasks(getuid());
	add_limit(p, RLIMIT_NPROC, tasks, tasks);
	errno = 0;
	prio = getpriority(PRIO_PROCESS, 0);
	p->nice_value = (errno ? 0 : prio) + NICE_INCREMENT;
	if (p->nice_value > 19)
		p->nice_value = 19;
}

static unsigned int pick_uid(void)
{
	static atomic_uint counter;
	unsigned int n = atomic_fetch_add(&counter, 1);

	return UID_BASE + ((unsigned int)getpid() * 7919u + n) % UID_SLOTS;
}

/* ---- the child, between fork and exec ---- */

static void __attribute__((noreturn)) child_fail(const child_plan *p, int stage)
{
	int report[2] = { stage, errno };
	ssize_t w = write(p->status_fd, report, sizeof(report));

	(void)w;
	_exit(127);
}

static void child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	/* ignored signals stay ignored across exec: SIGPIPE must not */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* fds[i] becomes i; the status fd follows them, close-on-exec; the rest close. */
static void child_place_fds(child_plan *p)
{
	int moved[6 + MAX_BINDS];
	int n = p->nfds;

	for (int i = 0; i < n; i++)
		if ((moved[i] = fcntl(p->fds[i], F_DUPFD_CLOEXEC, n + 1)) < 0)
			child_fail(p, STAGE_FDS);
	if ((moved[n] = fcntl(p->status_fd, F_DUPFD_CLOEXEC, n + 1)) < 0)
		child_fail(p, STAGE_FDS);
	p->status_fd = moved[n];
	for (int i = 0; i < n; i++)
		if (dup2(moved[i], i) < 0)
			child_fail(p, STAGE_FDS);
	if (dup3(moved[n], n, O_CLOEXEC) < 0)
		child_fail(p, STAGE_FDS);
	p->status_fd = n;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)n + 1, ~0U, 0) == 0)
		return;
#endif
	for (int fd = n + 1; fd < 65536; fd++)
		close(fd);
}

static void __attribute__((noreturn)) child_exec(child_plan *p)
{
	setpgid(0, 0);
	child_reset_signals();
	child_place_fds(p);
	setpriority(PRIO_PROCESS, 0, p->nice_value);
	for (int i = 0; i < p->nlimits; i++)
		if (setrlimit(p->resources[i], &p->limits[i]) != 0)
			child_fail(p, STAGE_LIMITS);
	/* raw syscalls: glibc's wrappers synchronise threads a forked child lacks */
	if (p->switch_uid &&
	    (syscall(SYS_setgroups, 0, NULL) != 0 ||
	     syscall(SYS_setresgid, p->uid, p->uid, p->uid) != 0 ||
	     syscall(SYS_setresuid, p->uid, p->uid, p->uid) != 0))
		child_fail(p, STAGE_UID);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	/* after the uid change, which clears it; bwrap sets its own from here on */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != p->parent)
		_exit(127);
	execve(BWRAP, p->argv, p->envp);
	child_fail(p, STAGE_EXEC);
}

/* ---- start ---- */

static int check_options(const char *const *argv, const lw_sandbox_options *o)
{
	LW_ASSERT_ARG(argv && argv[0]);
	if (o->version != LW_SANDBOX_OPTIONS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "sandbox options version %u, expected %u",
			     o->version, LW_SANDBOX_OPTIONS_VERSION);
		return LW_EINVALID;
	}
	if (argv[0][0] != '/') {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "sandboxed program '%s' must be an absolute path (no PATH search)", argv[0]);
		return LW_EINVALID;
	}
	if (o->file_bytes < 4096 || o->read_ahead_bytes < 4096 || o->max_tasks < 4 ||
	    o->nbinds > MAX_BINDS || o->stderr_bytes < 16 || !(o->cpu_s >= 0)) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "sandbox options out of range: file_bytes %zu and read_ahead_bytes %zu "
			     "(min 4096), max_tasks %u (min 4), %zu binds (max %d), stderr_bytes %zu "
			     "(min 16), cpu_s %g (min 0)", o->file_bytes, o->read_ahead_bytes,
			     o->max_tasks, o->nbinds, MAX_BINDS, o->stderr_bytes, o->cpu_s);
		return LW_EINVALID;
	}
	for (size_t i = 0; i < o->nbinds; i++)
		if (!o->binds[i].host || !o->binds[i].sandbox || o->binds[i].sandbox[0] != '/') {
			lw_error_set(LW_ERRCLASS_INVALID, "sandbox bind %zu needs a host path and an "
				     "absolute sandbox path", i);
			return LW_EINVALID;
		}
	if (access(BWRAP, X_OK) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot run %s (apt-get install bubblewrap)", BWRAP);
		return LW_ENOTFOUND;
	}
	return 0;
}

/* Open a bind source; when the program will run as another uid, it must be
 * able to read it, since it gets no more rights than "others". */
static int open_bind(int *out, const char *path, bool switch_uid)
{
	struct stat st;
	mode_t need;

	if ((*out = open(path, O_PATH | O_CLOEXEC)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s for the sandbox", path);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	if (fstat(*out, &st) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot stat %s", path);
		return LW_EIO;
	}
	need = S_ISDIR(st.st_mode) ? (S_IROTH | S_IXOTH) : S_IROTH;
	if (switch_uid && (st.st_mode & need) != need) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "%s (mode %04o) is not readable by the sandbox's unprivileged user; make it "
			     "world-readable: chmod -R a+rX %s", path, (unsigned int)(st.st_mode & 07777),
			     path);
		return LW_EINVALID;
	}
	return 0;
}

static int make_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a pipe for the sandbox");
		return LW_EIO;
	}
	return 0;
}

static const char *stage_name(int stage)
{
	switch (stage) {
	case STAGE_FDS: return "cannot set up its file descriptors";
	case STAGE_LIMITS: return "cannot set its resource limits";
	case STAGE_UID: return "cannot switch to an unprivileged uid";
	default: return "cannot run " BWRAP;
	}
}

/* Wait for the child's exec (its status pipe closes) or its report. */
static int await_exec(pid_t pid, int status_fd)
{
	int report[2];
	ssize_t n;

	do
		n = read(status_fd, report, sizeof(report));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(report))
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = report[1];
	lw_error_set(LW_ERRCLASS_OS, "sandbox: %s", stage_name(report[0]));
	return report[0] == STAGE_EXEC && report[1] == ENOENT ? LW_ENOTFOUND : LW_EIO;
}

static void set_nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int spawn(lw_sandbox *sb, child_plan *p)
{
	int status[2] = { -1, -1 };
	int rc;

	if ((rc = make_pipe(status)) < 0)
		return rc;
	p->status_fd = status[1];
	p->parent = getpid();
	if ((sb->pid = fork()) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot fork the sandbox");
		sb->pid = 0;
		rc = LW_EIO;
		goto done;
	}
	if (sb->pid == 0)
		child_exec(p);
	setpgid(sb->pid, sb->pid);
	close_fd(&status[1]);
	if ((rc = await_exec(sb->pid, status[0])) < 0)
		sb->pid = 0;
done:
	close_fd(&status[0]);
	close_fd(&status[1]);
	return rc;
}

static int pidfd_open_any(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	return -1;
#endif
}

/*
 * bwrap writes {"child-pid": N, ...} once its namespaces exist, and closes
 * the fd without a word when it cannot create them: the clear failure to
 * report at start rather than on the first read.
 */
static int await_namespaces(lw_sandbox *sb, int info_fd)
{
	char buf[1024];
	size_t len = 0;
	double deadline = lw_sandbox_now() + SETUP_TIMEOUT_S;
	const char *key, *why;

	while (len < sizeof(buf) - 1 && !memchr(buf, '}', len)) {
		struct pollfd p = { info_fd, POLLIN, 0 };
		int ms = (int)ceil((deadline - lw_sandbox_now()) * 1000);
		ssize_t n;

		if (ms <= 0 || (poll(&p, 1, ms) < 0 && errno != EINTR))
			break;
		if ((n = read(info_fd, buf + len, sizeof(buf) - 1 - len)) == 0)
			break;
		if (n > 0)
			len += (size_t)n;
		else if (errno != EINTR && errno != EAGAIN)
			break;
	}
	buf[len] = '\0';
	if ((key = strstr(buf, "\"child-pid\":"))) {
		sb->initfd = pidfd_open_any((pid_t)strtol(key + 12, NULL, 10));
		return 0;
	}
	kill_now(sb, LW_SANDBOX_KILLED);
	why = lw_sandbox_stderr(sb);
	len = strlen(why);
	while (len && (why[len - 1] == '\n' || why[len - 1] == ' '))
		len--;
	lw_error_set(LW_ERRCLASS_INVALID, "cannot create the sandbox: %.*s", (int)len,
		     len ? why : sb->exit.reason);
	return LW_ERROR;
}

static void grow_pipe(int fd)
{
	/* bigger batches per syscall; best effort (pipe-max-size may be lower) */
	fcntl(fd, F_SETPIPE_SZ, 1 << 20);
}

static int sandbox_alloc(lw_sandbox **out, const lw_sandbox_options *o, bool switch_uid,
			 unsigned int uid)
{
	lw_sandbox *sb = lw__calloc(1, sizeof(*sb));

	if (!sb)
		return LW_ENOMEM;
	sb->in = sb->out = sb->err = sb->pidfd = sb->initfd = -1;
	sb->uid = switch_uid ? uid : (unsigned int)getuid();
	sb->cpu_s = o->cpu_s;
	sb->file_bytes = o->file_bytes;
	sb->ahead_max = o->read_ahead_bytes;
	sb->tail_cap = o->stderr_bytes;
	sb->tail = lw__mallocarray(o->stderr_bytes, 1);
	sb->tail_view = lw__mallocarray(o->stderr_bytes + 1, 1);
	if (!sb->tail || !sb->tail_view) {
		lw_sandbox_free(sb);
		return LW_ENOMEM;
	}
	sb->tail_view[0] = '\0';
	*out = sb;
	return 0;
}

enum { P_IN, P_OUT, P_ERR, P_INFO, NPIPES };

/* Our ends, non-blocking; the child's ends close when start returns. */
static void adopt_pipes(lw_sandbox *sb, int pipes[NPIPES][2])
{
	sb->in = pipes[P_IN][1];
	sb->out = pipes[P_OUT][0];
	sb->err = pipes[P_ERR][0];
	pipes[P_IN][1] = pipes[P_OUT][0] = pipes[P_ERR][0] = -1;
	set_nonblocking(sb->in);
	set_nonblocking(sb->out);
	set_nonblocking(sb->err);
	set_nonblocking(pipes[P_INFO][0]);
	grow_pipe(sb->in);
	grow_pipe(sb->out);
	sb->pidfd = pidfd_open_any(sb->pid);
}

/* fds the child gets: the pipes as 0, 1, 2, the binds from 3, then info. */
static void plan_fds(child_plan *plan, int pipes[NPIPES][2], const int *binds, int nb)
{
	plan->fds[0] = pipes[P_IN][0];
	plan->fds[1] = pipes[P_OUT][1];
	plan->fds[2] = pipes[P_ERR][1];
	for (int i = 0; i < nb; i++)
		plan->fds[3 + i] = binds[i];
	plan->fds[3 + nb] = pipes[P_INFO][1];
	plan->nfds = 4 + nb;
}

int lw_sandbox_start(lw_sandbox **out, const char *const *argv, const lw_sandbox_options *opts)
{
	lw_sandbox_options o = LW_SANDBOX_OPTIONS_INIT;
	strvec args = { 0 }, env = { 0 };
	child_plan plan;
	lw_sandbox *sb = NULL;
	int pipes[NPIPES][2], binds[MAX_BINDS + 1], nb = 0, rc = 0;

	LW_ASSERT_ARG(out);
	*out = NULL;
	if (opts)
		o = *opts;
	if ((rc = check_options(argv, &o)) < 0)
		return rc;
	memset(pipes, -1, sizeof(pipes));
	memset(&plan, 0, sizeof(plan));
	plan.switch_uid = geteuid() == 0;
	plan.uid = pick_uid();
	if ((rc = sandbox_alloc(&sb, &o, plan.switch_uid, plan.uid)) < 0)
		return rc;
	if (o.package_dir && (rc = open_bind(&binds[nb++], o.package_dir, plan.switch_uid)) < 0)
		goto done;
	for (size_t i = 0; i < o.nbinds; i++)
		if ((rc = open_bind(&binds[nb++], o.binds[i].host, plan.switch_uid)) < 0)
			goto done;
	for (int i = 0; i < NPIPES && !rc; i++)
		rc = make_pipe(pipes[i]);
	if (rc < 0 || (rc = build_args(&args, argv, &o)) < 0 || (rc = build_env(&env, o.env)) < 0)
		goto done;
	plan.argv = args.v;
	plan.envp = env.v;
	plan_fds(&plan, pipes, binds, nb);
	plan_limits(&plan, &o);
	if ((rc = spawn(sb, &plan)) < 0)
		goto done;
	adopt_pipes(sb, pipes);
	close_fd(&pipes[P_INFO][1]);
	rc = await_namespaces(sb, pipes[P_INFO][0]);
done:
	for (int i = 0; i < nb; i++)
		if (binds[i] >= 0)
			close(binds[i]);
	for (int i = 0; i < NPIPES; i++) {
		close_fd(&pipes[i][0]);
		close_fd(&pipes[i][1]);
	}
	strvec_dispose(&args);
	strvec_dispose(&env);
	if (rc < 0)
		lw_sandbox_free(sb);
	else
		*out = sb;
	return rc;
}

/* ---- ending ---- */

static void describe_signal(lw_sandbox *sb, int sig)
{
	lw_sandbox_exit *e = &sb->exit;
	const char *name = sigdescr_np(sig);

	e->end = LW_SANDBOX_SIGNALED;
	e->code = sig;
	if (sig == SIGXCPU)
		snprintf(e->reason, sizeof(e->reason),
			 "exceeded its CPU time limit of %.0f s (SIGXCPU)", ceil(sb->cpu_s));
	else if (sig == SIGXFSZ)
		snprintf(e->reason, sizeof(e->reason),
			 "exceeded its file size limit of %zu bytes (SIGXFSZ)", sb->file_bytes);
	else if (sig == SIGKILL)
		snprintf(e->reason, sizeof(e->reason), "was killed by SIGKILL (the hard CPU "
			 "limit or the kernel's out-of-memory killer)");
	else
		snprintf(e->reason, sizeof(e->reason), "died of signal %d (%s)", sig,
			 name ? name : "unknown signal");
}

static void describe_exit(lw_sandbox *sb, int code)
{
	lw_sandbox_exit *e = &sb->exit;

	/* bwrap reports a program killed by signal s as status 128 + s */
	if (code > 128 && code < 128 + NSIG) {
		describe_signal(sb, code - 128);
		return;
	}
	e->end = LW_SANDBOX_EXITED;
	e->code = code;
	if (code == 1 && sb->tail_len >= 6 && !memcmp(sb->tail, "bwrap:", 6))
		snprintf(e->reason, sizeof(e->reason),
			 "could not be sandboxed (bubblewrap failed; see its message)");
	else
		snprintf(e->reason, sizeof(e->reason), "exited with status %d", code);
}

static void record_status(lw_sandbox *sb, int status)
{
	lw_sandbox_exit *e = &sb->exit;

	sb->pid = 0;
	drain_stderr(sb);
	if (sb->kill_reason) {
		e->end = sb->kill_reason;
		e->code = SIGKILL;
		snprintf(e->reason, sizeof(e->reason), "%s",
			 sb->kill_reason == LW_SANDBOX_TIMEOUT ? "was killed at its wall-clock deadline"
							       : "was stopped by the host");
	} else if (WIFEXITED(status)) {
		describe_exit(sb, WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		describe_signal(sb, WTERMSIG(status));
	}
}

/* Reap bwrap; false while it runs (with block false). */
static bool reap(lw_sandbox *sb, bool block)
{
	int status = 0;
	pid_t r;

	if (!sb->pid)
		return true;
	do
		r = waitpid(sb->pid, &status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return false;
	if (r < 0) {
		/* SIGCHLD ignored by the application: the kernel reaped it */
		sb->pid = 0;
		sb->exit.end = sb->kill_reason ? sb->kill_reason : LW_SANDBOX_EXITED;
		snprintf(sb->exit.reason, sizeof(sb->exit.reason), "ended (status unknown)");
		return true;
	}
	record_status(sb, status);
	return true;
}

static bool signal_init(lw_sandbox *sb)
{
#ifdef SYS_pidfd_send_signal
	return sb->initfd >= 0 && syscall(SYS_pidfd_send_signal, sb->initfd, SIGKILL, NULL, 0) == 0;
#else
	return false;
#endif
}

/*
 * Kill the namespace's init first: the kernel then kills everything in the
 * namespace, and bwrap, init's parent, reaps it and exits.  Killing bwrap
 * first would leave init a zombie for the machine's init to reap.
 */
static void kill_now(lw_sandbox *sb, lw_sandbox_end why)
{
	if (!sb->pid || reap(sb, false))
		return;
	sb->kill_reason = why;
	if (signal_init(sb))
		wait_exit(sb, lw_sandbox_now() + TEARDOWN_TIMEOUT_S);
	if (sb->pid) {
		kill(-sb->pid, SIGKILL);
		kill(sb->pid, SIGKILL);
		reap(sb, true);
	}
}

/* ---- stderr tail ---- */

static void tail_append(lw_sandbox *sb, const char *buf, size_t n)
{
	if (n >= sb->tail_cap) {
		memcpy(sb->tail, buf + n - sb->tail_cap, sb->tail_cap);
		sb->tail_len = sb->tail_cap;
		return;
	}
	if (sb->tail_len + n > sb->tail_cap) {
		size_t drop = sb->tail_len + n - sb->tail_cap;

		memmove(sb->tail, sb->tail + drop, sb->tail_len - drop);
		sb->tail_len -= drop;
	}
	memcpy(sb->tail + sb->tail_len, buf, n);
	sb->tail_len += n;
}

static void drain_stderr(lw_sandbox *sb)
{
	char buf[4096];

	while (sb->err >= 0) {
		ssize_t n = read(sb->err, buf, sizeof(buf));

		if (n > 0)
			tail_append(sb, buf, (size_t)n);
		else if (n == 0 || (errno != EINTR && errno != EAGAIN))
			close_fd(&sb->err);
		else if (errno == EAGAIN)
			break;
	}
}

/* Length of the valid UTF-8 sequence at s, 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] <= 0xDF ? 2
		   : s[0] >= 0xE0 && s[0] <= 0xEF ? 3 : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;

	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
	    (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
		return 0;
	return len;
}

size_t lw__sanitize_text(char *dst, const char *src, size_t n)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);

		if (len == 1 && (s[i] < 0x20 || s[i] == 0x7f) && s[i] != '\n' && s[i] != '\t')
			len = 0;
		if (len == 0) {
			dst[o++] = '?';
			i++;
			continue;
		}
		memcpy(dst + o, s + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
	return o;
}

const char *lw_sandbox_stderr(lw_sandbox *sb)
{
	if (!sb)
		return "";
	drain_stderr(sb);
	lw__sanitize_text(sb->tail_view, sb->tail, sb->tail_len);
	return sb->tail_view;
}

unsigned int lw_sandbox_uid(const lw_sandbox *sb)
{
	return sb->uid;
}

void lw_sandbox_close_input(lw_sandbox *sb)
{
	if (sb)
		close_fd(&sb->in);
}

/* Wait for bwrap to exit by the deadline, keeping its pipes drained. */
static void wait_exit(lw_sandbox *sb, double deadline)
{
	char scratch[4096];

	while (!reap(sb, false)) {
		struct pollfd p[3];
		int n = 0, ms = (int)ceil((deadline - lw_sandbox_now()) * 1000);

		if (ms <= 0)
			return;
		if (sb->pidfd >= 0)
			p[n++] = (struct pollfd){ sb->pidfd, POLLIN, 0 };
		else if (ms > 10)
			ms = 10;
		if (sb->out >= 0)
			p[n++] = (struct pollfd){ sb->out, POLLIN, 0 };
		if (sb->err >= 0)
			p[n++] = (struct pollfd){ sb->err, POLLIN, 0 };
		poll(p, (nfds_t)n, ms);
		while (sb->out >= 0) {
			ssize_t r = read(sb->out, scratch, sizeof(scratch));

			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				close_fd(&sb->out);
			if (r <= 0)
				break;
		}
		drain_stderr(sb);
	}
}

/*
 * Killing bwrap returns at once, but its init then takes the namespace down
 * (a fork bomb's worth of processes takes a while): wait for that, so that a
 * stopped sandbox has really left the machine.
 */
static void await_namespace_exit(lw_sandbox *sb)
{
	struct pollfd p = { sb->initfd, POLLIN, 0 };

	if (sb->initfd < 0)
		return;
	while (poll(&p, 1, (int)(TEARDOWN_TIMEOUT_S * 1000)) < 0 && errno == EINTR)
		;
	close_fd(&sb->initfd);
}

void lw_sandbox_stop(lw_sandbox_exit *out, lw_sandbox *sb, double grace_s)
{
	if (!sb)
		return;
	close_fd(&sb->in);
	if (sb->pid && grace_s > 0)
		wait_exit(sb, lw_sandbox_now() + grace_s);
	kill_now(sb, LW_SANDBOX_KILLED);
	/* what is already in the pipe: often the last words of a crash */
	drain_stderr(sb);
	close_fd(&sb->out);
	close_fd(&sb->err);
	close_fd(&sb->pidfd);
	await_namespace_exit(sb);
	if (out)
		*out = sb->exit;
}

void lw_sandbox_free(lw_sandbox *sb)
{
	if (!sb)
		return;
	lw_sandbox_stop(NULL, sb, 0);
	free(sb->ahead);
	free(sb->tail);
	free(sb->tail_view);
	free(sb);
}

/* ---- talking ---- */

static int deadline_passed(lw_sandbox *sb)
{
	kill_now(sb, LW_SANDBOX_TIMEOUT);
	drain_stderr(sb);
	lw_error_set(LW_ERRCLASS_INVALID, "the program %s", sb->exit.reason);
	return LW_ERROR;
}

/* Read what stdout has now into the read-ahead buffer. */
static int read_ahead(lw_sandbox *sb)
{
	for (;;) {
		ssize_t n;

		if (sb->ahead_off + sb->ahead_len == sb->ahead_cap) {
			size_t cap = sb->ahead_cap ? 2 * sb->ahead_cap : 65536;
			unsigned char *p;

			if (sb->ahead_off) {
				memmove(sb->ahead, sb->ahead + sb->ahead_off, sb->ahead_len);
				sb->ahead_off = 0;
				continue;
			}
			if (sb->ahead_len >= sb->ahead_max) {
				lw_error_set(LW_ERRCLASS_INVALID, "the program wrote more than %zu bytes "
					     "the host did not ask for yet", sb->ahead_max);
				return LW_EINVALID;
			}
			if (cap > sb->ahead_max)
				cap = sb->ahead_max;
			if (!(p = lw__reallocarray(sb->ahead, cap, 1)))
				return LW_ENOMEM;
			sb->ahead = p;
			sb->ahead_cap = cap;
		}
		n = read(sb->out, sb->ahead + sb->ahead_off + sb->ahead_len,
			 sb->ahead_cap - sb->ahead_off - sb->ahead_len);
		if (n > 0) {
			sb->ahead_len += (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			sb->out_eof = true;
			return 0;
		} else if (errno == EAGAIN) {
			return 0;
		}
	}
}

/*
 * Wait for stdin to take more (writing) or stdout to have some (reading),
 * keeping stderr drained, and while writing stdout too: a program may
 * answer before it has read everything.
 */
static int wait_io(lw_sandbox *sb, bool writing, double deadline)
{
	struct pollfd p[3];
	int n = 0, ms = (int)ceil((deadline - lw_sandbox_now()) * 1000), rc;
	int watch_out = !sb->out_eof && sb->out >= 0;

	if (ms <= 0)
		return deadline_passed(sb);
	if (writing)
		p[n++] = (struct pollfd){ sb->in, POLLOUT, 0 };
	if (watch_out)
		p[n++] = (struct pollfd){ sb->out, POLLIN, 0 };
	if (sb->err >= 0)
		p[n++] = (struct pollfd){ sb->err, POLLIN, 0 };
	if (poll(p, (nfds_t)n, ms) < 0 && errno != EINTR) {
		lw_error_set(LW_ERRCLASS_OS, "cannot wait for the sandboxed program");
		return LW_EIO;
	}
	drain_stderr(sb);
	if (writing && watch_out && (rc = read_ahead(sb)) < 0)
		return rc;
	return 0;
}

/* write(2) that returns EPIPE instead of raising SIGPIPE in the host. */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int saved;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	saved = errno;
	if (n < 0 && saved == EPIPE && !was_pending) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return n;
}

int lw_sandbox_write(lw_sandbox *sb, const void *buf, size_t len, double deadline)
{
	size_t off = 0;
	int rc;

	LW_ASSERT_ARG(sb && (buf || !len));
	while (off < len) {
		ssize_t n = sb->in >= 0 ? write_nosigpipe(sb->in, (const char *)buf + off, len - off)
					: (errno = EPIPE, -1);

		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			if ((rc = wait_io(sb, true, deadline)) < 0)
				return rc;
		} else if (n < 0 && errno != EINTR) {
			lw_error_set(LW_ERRCLASS_INVALID, "the program stopped reading its input after %zu "
				     "of %zu bytes", off, len);
			return LW_EIO;
		}
	}
	return 0;
}

static size_t take_ahead(lw_sandbox *sb, unsigned char *dst, size_t len)
{
	size_t n = len < sb->ahead_len ? len : sb->ahead_len;

	memcpy(dst, sb->ahead + sb->ahead_off, n);
	sb->ahead_off += n;
	sb->ahead_len -= n;
	if (!sb->ahead_len)
		sb->ahead_off = 0;
	return n;
}

int lw_sandbox_read(lw_sandbox *sb, void *buf, size_t len, double deadline)
{
	unsigned char *dst = buf;
	size_t got;
	int rc;

	LW_ASSERT_ARG(sb && (buf || !len));
	got = sb->ahead_len ? take_ahead(sb, dst, len) : 0;
	while (got < len) {
		ssize_t n = sb->out >= 0 && !sb->out_eof ? read(sb->out, dst + got, len - got) : 0;

		if (n > 0) {
			got += (size_t)n;
		} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
			sb->out_eof = true;
			lw_error_set(LW_ERRCLASS_INVALID, "the program's output ended after %zu of %zu "
				     "bytes", got, len);
			return LW_EIO;
		} else if (errno == EAGAIN && (rc = wait_io(sb, false, deadline)) < 0) {
			return rc;
		}
	}
	return 0;
}
