/*
 * Helpers for the sandbox and sandboxed-model tests: packages built at test
 * time (programs compiled from tests/data/models, fixtures made by Debian's
 * python), and checks on messages and on what is left running.
 */
#ifndef LW_MODEL_TESTUTIL_H
#define LW_MODEL_TESTUTIL_H

#include <dirent.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

/* Run argv (absolute path) with envp (NULL: ours) and return its exit status. */
static inline int lwt_run(const char *const *argv, char *const *envp)
{
	pid_t pid;
	int status;

	assert_int_equal(posix_spawn(&pid, argv[0], NULL, NULL, (char *const *)argv,
				     envp ? envp : environ), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* A fresh package directory the sandbox's unprivileged user can read. */
static inline char *lwt_package_dir(void)
{
	char *dir = lwt_mkdtemp();

	assert_int_equal(chmod(dir, 0755), 0);
	return dir;
}

/* Compile tests/data/models/<name>.c into dir/<name> with the system compiler
 * (plain, not sanitised: a sanitised program cannot live under RLIMIT_AS). */
static inline void lwt_compile_model(const char *dir, const char *name)
{
	const char *data = getenv("LW_TEST_DATA");
	char src[1024], bin[1024];
	const char *argv[] = { "/usr/bin/cc", "-O1", "-o", bin, src, NULL };

	assert_non_null(data);
	snprintf(src, sizeof(src), "%s/models/%s.c", data, name);
	snprintf(bin, sizeof(bin), "%s/%s", dir, name);
	if (lwt_run(argv, NULL) != 0)
		fail_msg("cannot compile %s", src);
	assert_int_equal(chmod(bin, 0755), 0);
}

#define lwt_assert_contains(text, fragment)                                          \
	do {                                                                         \
		const char *lwt_t_ = (text), *lwt_f_ = (fragment);                  \
		if (!strstr(lwt_t_, lwt_f_))                                         \
			fail_msg("'%s' lacks '%s'", lwt_t_, lwt_f_);                 \
	} while (0)

/* Processes (threads counted once per process) running as uid. */
static inline int lwt_processes_of(unsigned int uid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300];
		struct stat st;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s", de->d_name);
		if (stat(path, &st) == 0 && st.st_uid == uid)
			n++;
	}
	closedir(d);
	return n;
}

/* Whether a path exists. */
static inline int lwt_exists(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

#endif
