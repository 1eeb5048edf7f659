/*
 * learnware dock - running an untrusted program in a sandbox.
 *
 * lw_sandbox runs one program under bubblewrap (/usr/bin/bwrap) and talks
 * to it over its stdin and stdout; its stderr is kept, bounded, for error
 * messages.  The program sees:
 *  - no network (a private network namespace with only a loopback device),
 *    its own user, PID, IPC, UTS and cgroup namespaces, a new session, and
 *    no way to create further user namespaces;
 *  - read-only /usr (with the /bin, /lib* links or directories),
 *    /etc/alternatives and /etc/ld.so.cache (Debian's BLAS for numpy is
 *    chosen through both), the package directory at LW_SANDBOX_PACKAGE_DIR
 *    (also its working directory) and any extra read-only binds;
 *  - a private /tmp and /dev/shm, each a tmpfs capped at file_bytes, a
 *    minimal read-only /dev and its own /proc; nothing else of the host's
 *    file system, and nothing else writable;
 *  - an environment of exactly PATH=/usr/bin:/bin, HOME=/tmp, TMPDIR=/tmp,
 *    LANG=C.UTF-8, one BLAS/OpenMP thread (OPENBLAS_, OMP_, MKL_NUM_THREADS),
 *    LW_SANDBOX=1 and PWD, plus the caller's entries, which win.
 * Limits, set on bubblewrap and inherited by everything it starts:
 * RLIMIT_AS (memory_bytes per process), RLIMIT_CPU (cpu_s per process,
 * SIGXCPU then SIGKILL a second later), RLIMIT_FSIZE (file_bytes),
 * RLIMIT_CORE 0, RLIMIT_NOFILE 1024, RLIMIT_NPROC (max_tasks), nice +10,
 * and the caller's wall-clock deadlines, after which everything is killed.
 *
 * Started by root, the program runs as an unprivileged uid of its own
 * (2000000000 + a slot) that owns no file, so RLIMIT_NPROC counts only its
 * own processes and threads: a fork bomb stops at max_tasks.  The package
 * directory must then be readable by others (mode o+rx), which start
 * checks.  Started by another user, the program keeps that uid and
 * max_tasks is added to the tasks the user already runs.
 *
 * Stopping kills the namespace's init, so every process the program started
 * dies with it, and returns once they are gone.  The sandbox also dies with
 * the thread that started it (bubblewrap's --die-with-parent), so start it
 * from a thread that outlives its use.  bubblewrap reports a program killed
 * by signal s as exit status 128 + s, so such statuses read as signals.
 * Deadlines are absolute times on lw_sandbox_now()'s clock.  A handle is
 * used by one thread at a time.
 */
#ifndef LW_SANDBOX_H
#define LW_SANDBOX_H

#include "common.h"

LW_BEGIN_DECL

typedef struct lw_sandbox lw_sandbox;

/** Where the package directory appears inside the sandbox. */
#define LW_SANDBOX_PACKAGE_DIR "/learnware"

/** A host file or directory made visible, read-only, inside the sandbox. */
typedef struct {
	const char *host;    /**< existing path on the host */
	const char *sandbox; /**< absolute path inside the sandbox */
} lw_sandbox_bind;

typedef struct {
	unsigned int version;
	const char *package_dir;      /**< bound read-only at LW_SANDBOX_PACKAGE_DIR; NULL for none */
	const lw_sandbox_bind *binds; /**< nbinds extra read-only binds */
	size_t nbinds;
	const char *const *env;       /**< extra "NAME=value" entries, NULL-terminated; NULL for none */
	size_t memory_bytes;          /**< address space of each process (2 GiB); 0: unlimited */
	double cpu_s;                 /**< CPU seconds of each process (120); 0: unlimited */
	size_t file_bytes;            /**< largest file, and size of /tmp and /dev/shm (256 MiB) */
	unsigned int max_tasks;       /**< processes and threads, bubblewrap's 2 included (64) */
	size_t read_ahead_bytes;      /**< stdout buffered while the host still writes (256 MiB) */
	size_t stderr_bytes;          /**< tail of stderr kept (4096) */
} lw_sandbox_options;

#define LW_SANDBOX_OPTIONS_VERSION 1
#define LW_SANDBOX_OPTIONS_INIT                                                     \
	{ LW_SANDBOX_OPTIONS_VERSION, NULL, NULL, 0, NULL, (size_t)2 << 30, 120.0,  \
	  (size_t)256 << 20, 64, (size_t)256 << 20, 4096 }

/** How a sandboxed program ended. */
typedef enum {
	LW_SANDBOX_RUNNING = 0, /**< it has not ended */
	LW_SANDBOX_EXITED,      /**< it exited; code is its status */
	LW_SANDBOX_SIGNALED,    /**< a signal the host did not send killed it; code is the signal */
	LW_SANDBOX_TIMEOUT,     /**< the host killed it when a deadline passed */
	LW_SANDBOX_KILLED       /**< the host killed it on request, or when it would not stop */
} lw_sandbox_end;

typedef struct {
	lw_sandbox_end end;
	int code;
	/** A phrase for messages: "exited with status 3", "died of signal 11
	 * (Segmentation fault)", "exceeded its CPU time limit of 2 s (SIGXCPU)",
	 * "was killed at its wall-clock deadline"... */
	char reason[160];
} lw_sandbox_exit;

/** Fill opts with the defaults above. */
LW_EXTERN(void) lw_sandbox_options_init(lw_sandbox_options *opts);

/** Seconds on a monotonic clock: a deadline is lw_sandbox_now() + timeout. */
LW_EXTERN(double) lw_sandbox_now(void);

/**
 * Start argv (argv[0] an absolute path inside the sandbox; no PATH search)
 * with opts (NULL for the defaults).  Fails with LW_ENOTFOUND when bwrap or
 * a bound path is missing, LW_EINVALID for bad options or an unreadable
 * package directory.  Namespace set-up errors surface on the first read as
 * an exit with bubblewrap's message in the stderr tail.
 */
LW_EXTERN(int) lw_sandbox_start(lw_sandbox **out, const char *const *argv,
				const lw_sandbox_options *opts);

/**
 * Write all len bytes to the program's stdin by the deadline, reading
 * ahead whatever it writes meanwhile.  Fails with LW_ERROR when the deadline
 * passes (the program is killed), LW_EIO when it closed its stdin or died.
 */
LW_EXTERN(int) lw_sandbox_write(lw_sandbox *sb, const void *buf, size_t len, double deadline);

/**
 * Read exactly len bytes of its stdout by the deadline.  Fails with
 * LW_ERROR on the deadline (the program is killed) and LW_EIO when its
 * output ends first; the message says how many bytes came.
 */
LW_EXTERN(int) lw_sandbox_read(lw_sandbox *sb, void *buf, size_t len, double deadline);

/** Close the program's stdin: end of input. */
LW_EXTERN(void) lw_sandbox_close_input(lw_sandbox *sb);

/**
 * End the program: close its stdin, give it grace_s seconds to exit, then
 * kill everything in the sandbox and reap it.  out (may be NULL) says how it
 * ended.  Calling it again returns the same ending.
 */
LW_EXTERN(void) lw_sandbox_stop(lw_sandbox_exit *out, lw_sandbox *sb, double grace_s);

/**
 * The last stderr_bytes of what the program wrote to stderr, with control
 * characters other than newline and tab and invalid UTF-8 shown as '?'.
 * Borrowed from sb, valid until its next call.
 */
LW_EXTERN(const char *) lw_sandbox_stderr(lw_sandbox *sb);

/** The host uid the program runs as (the caller's own when not root). */
LW_EXTERN(unsigned int) lw_sandbox_uid(const lw_sandbox *sb);

/** Stop (no grace) and release. Accepts NULL. */
LW_EXTERN(void) lw_sandbox_free(lw_sandbox *sb);

LW_END_DECL

#endif
