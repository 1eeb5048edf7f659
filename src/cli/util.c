/*
 * Error reporting, number parsing and the progress line for the CLI.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(int err)
{
	fprintf(stderr, "learnware: %s\n", lw_error_last()->message);
	switch (err) {
	case LW_EINVALID:
	case LW_EEXISTS:
		return CLI_EXIT_INPUT;
	case LW_ENOTFOUND:
		return CLI_EXIT_NOTFOUND;
	case LW_EIO:
		return CLI_EXIT_IO;
	case LW_ECANCEL:
		return CLI_EXIT_CANCEL;
	default:
		return CLI_EXIT_FAILURE;
	}
}

void cli_error_append(const char *text)
{
	const lw_error *e = lw_error_last();
	char msg[1024];

	snprintf(msg, sizeof(msg), "%s", e->message);
	lw_error_set(e->klass == LW_ERRCLASS_OS ? LW_ERRCLASS_DATA : e->klass, "%s%s", msg, text);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "learnware %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'learnware %s --help'.\n", verb);
	return CLI_EXIT_USAGE;
}

int cli_parse_double(double *out, const char *arg, const char *opt)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (end == arg || *end || errno == ERANGE) {
		fprintf(stderr, "learnware: %s expects a number, got '%s'\n", opt, arg);
		return -1;
	}
	return 0;
}

int cli_parse_u64(uint64_t *out, const char *arg, const char *opt)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (end == arg || *end || errno == ERANGE || arg[0] == '-') {
		fprintf(stderr, "learnware: %s expects a non-negative integer, got '%s'\n", opt, arg);
		return -1;
	}
	return 0;
}

int cli_parse_size(size_t *out, const char *arg, const char *opt)
{
	uint64_t v;

	if (cli_parse_u64(&v, arg, opt) < 0)
		return -1;
	if (v > SIZE_MAX) {
		fprintf(stderr, "learnware: %s value '%s' is too large\n", opt, arg);
		return -1;
	}
	*out = (size_t)v;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, int quiet)
{
	memset(p, 0, sizeof(*p));
	p->enabled = !quiet && isatty(STDERR_FILENO);
}

/* Redraw at most ten times a second, and always on a new stage or at 100%. */
int cli_progress_cb(const char *stage, double done, void *payload)
{
	cli_progress *p = payload;
	double t;

	if (!p || !p->enabled)
		return 0;
	t = now();
	if (strcmp(stage, p->last_stage) == 0 && done < 1.0 && t - p->last_time < 0.1)
		return 0;
	p->last_time = t;
	snprintf(p->last_stage, sizeof(p->last_stage), "%s", stage);
	fprintf(stderr, "\r\033[K%s %3.0f%%", stage, 100.0 * done);
	fflush(stderr);
	return 0;
}

void cli_progress_end(cli_progress *p)
{
	if (p->enabled && p->last_stage[0]) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}
