/*
 * The process kind: a program in the package speaking the framed protocol
 * of docs/model-protocol.md in the sandbox.  One process serves every
 * predict call.  Any failure stops it for good, and the message says what
 * it was doing, how it ended and what it last wrote to stderr.
 */
#define _POSIX_C_SOURCE 200809L
#include "model_process.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model protocol is little-endian: this host needs byte swapping added"
#endif

#define PROTOCOL_VERSION 1
#define MAX_COLS ((uint64_t)1 << 20)
#define MAX_MESSAGE 65536
#define CHUNK_BYTES ((size_t)8 << 20)
#define STOP_GRACE_S 1.0
#define SHOWN_MESSAGE 300
#define SHOWN_STDERR 400

typedef struct {
	lw_sandbox *sb;
	char *label;        /* "process model 'bin/model'" */
	lw_model_limits limits;
	size_t cols;        /* output width: declared, or seen in the first reply */
	char *death;        /* the message that stopped it, repeated later */
} remote;

/* ---- messages ---- */

/* The end of the program's stderr on one line. */
static void stderr_summary(char *buf, size_t cap, lw_sandbox *sb)
{
	const char *s = lw_sandbox_stderr(sb);
	size_t len = strlen(s), start, o = 0;

	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	start = len > SHOWN_STDERR ? len - SHOWN_STDERR : 0;
	while (start < len && ((unsigned char)s[start] & 0xC0) == 0x80)
		start++;
	if (start)
		o += (size_t)snprintf(buf, cap, "...");
	for (size_t i = start; i < len && o + 4 < cap; i++) {
		if (s[i] == '\n') {
			memcpy(buf + o, " | ", 3);
			o += 3;
		} else {
			buf[o++] = s[i];
		}
	}
	buf[o] = '\0';
	if (!o)
		snprintf(buf, cap, "(empty)");
}

/*
 * Record why the model stopped, "<label> <how> while <doing><detail>;
 * stderr: <tail>", and set it as the error.
 */
static int finish(remote *r, int rc, const char *how, const char *doing, const char *detail)
{
	char tail[3 * SHOWN_STDERR + 8];
	size_t len;

	stderr_summary(tail, sizeof(tail), r->sb);
	len = strlen(r->label) + strlen(how) + strlen(doing) + strlen(detail) + strlen(tail) + 32;
	free(r->death);
	if (!(r->death = lw__mallocarray(len, 1)))
		return LW_ENOMEM;
	snprintf(r->death, len, "%s %s while %s%s; stderr: %s", r->label, how, doing, detail, tail);
	lw_error_set(LW_ERRCLASS_INVALID, "%s", r->death);
	return rc;
}

/* A sandbox call failed: the deadline passed or the program ended. */
static int died(remote *r, int rc, const char *doing)
{
	char detail[300], how[200];
	lw_sandbox_exit e;

	snprintf(detail, sizeof(detail), " (%s)", lw_error_last()->message);
	lw_sandbox_stop(&e, r->sb, STOP_GRACE_S);
	if (e.end == LW_SANDBOX_TIMEOUT) {
		snprintf(how, sizeof(how), "was killed after %.1f s wall-clock timeout",
			 r->limits.timeout_s);
		return finish(r, rc, how, doing, "");
	}
	return finish(r, rc, e.reason, doing, detail);
}

/* The program is alive but broke the protocol: stop it at once. */
static int violation(remote *r, const char *doing, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int violation(remote *r, const char *doing, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	what[0] = ':';
	what[1] = ' ';
	va_start(ap, fmt);
	vsnprintf(what + 2, sizeof(what) - 2, fmt, ap);
	va_end(ap);
	lw_sandbox_stop(NULL, r->sb, 0);
	return finish(r, LW_EINVALID, "broke the protocol", doing, what);
}

/* "48 65 6c 6c ... ("Hell...")": what a header held. */
static void show_bytes(char *buf, size_t cap, const unsigned char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 4 < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%02x ", p[i]);
	o += (size_t)snprintf(buf + o, cap - o, "(\"");
	for (size_t i = 0; i < n && o + 4 < cap; i++)
		buf[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	snprintf(buf + o, cap - o, "\")");
}

/* The model sent an error frame instead of what was asked. */
static int error_frame(remote *r, const unsigned char *h, const char *doing, double deadline)
{
	char msg[SHOWN_MESSAGE + 3], *text;
	uint64_t len;
	int rc;

	memcpy(&len, h + 8, 8);
	if (len > MAX_MESSAGE)
		return violation(r, doing, "an error frame of %llu bytes; at most %d allowed",
				 (unsigned long long)len, MAX_MESSAGE);
	if (!(text = lw__mallocarray((size_t)len + 1, 1)))
		return LW_ENOMEM;
	if ((rc = lw_sandbox_read(r->sb, text, (size_t)len, deadline)) < 0) {
		free(text);
		return died(r, rc, doing);
	}
	text[len] = '\0';
	if (len > SHOWN_MESSAGE)
		len = SHOWN_MESSAGE;
	while (len && ((unsigned char)text[len] & 0xC0) == 0x80)
		len--;
	msg[0] = ':';
	msg[1] = ' ';
	lw__sanitize_text(msg + 2, text, (size_t)len);
	free(text);
	for (char *c = msg; *c; c++)
		if (*c == '\n' || *c == '\t')
			*c = ' ';
	lw_sandbox_stop(NULL, r->sb, STOP_GRACE_S);
	return finish(r, LW_ERROR, "reported an error", doing, msg);
}

/* ---- start ---- */

static int read_hello(remote *r, size_t *in_dim, double deadline)
{
	const char *doing = "starting";
	unsigned char h[16];
	char shown[128];
	uint32_t v[3];
	int64_t status;
	int rc;

	if ((rc = lw_sandbox_read(r->sb, h, sizeof(h), deadline)) < 0)
		return died(r, rc, doing);
	memcpy(&status, h, 8);
	if (memcmp(h, "LWMP", 4) && status < 0)
		return error_frame(r, h, doing, deadline);
	if (memcmp(h, "LWMP", 4)) {
		show_bytes(shown, sizeof(shown), h, sizeof(h));
		return violation(r, doing, "expected the hello's magic \"LWMP\", got %s", shown);
	}
	memcpy(v, h + 4, sizeof(v));
	if (v[0] != PROTOCOL_VERSION)
		return violation(r, doing, "it speaks protocol version %u, the host version %d",
				 v[0], PROTOCOL_VERSION);
	if (v[1] > MAX_COLS || v[2] > MAX_COLS)
		return violation(r, doing, "its hello declares %u input and %u output columns; at "
				 "most %llu allowed", v[1], v[2], (unsigned long long)MAX_COLS);
	*in_dim = v[1];
	r->cols = v[2];
	return 0;
}

static void remote_free(remote *r)
{
	if (!r)
		return;
	if (r->sb)
		lw_sandbox_stop(NULL, r->sb, r->limits.timeout_s < STOP_GRACE_S ? r->limits.timeout_s
										 : STOP_GRACE_S);
	lw_sandbox_free(r->sb);
	free(r->label);
	free(r->death);
	free(r);
}

static int process_predict(lw_model *m, lw_mat *out, const lw_mat *X);

static void process_free(lw_model *m)
{
	remote_free(m->impl);
}

static const lw_model_ops process_ops = { process_predict, NULL, process_free };

static int check_limits(lw_model_limits *out, const lw_model_limits *in)
{
	lw_model_limits defaults = LW_MODEL_LIMITS_INIT;

	*out = in ? *in : defaults;
	if (out->version != LW_MODEL_LIMITS_VERSION) {
		lw_error_set(LW_ERRCLASS_INVALID, "model limits version %u, expected %u", out->version,
			     LW_MODEL_LIMITS_VERSION);
		return LW_EINVALID;
	}
	if (!(out->timeout_s > 0) || !(out->cpu_s >= 0) || out->max_output_bytes < 4096) {
		lw_error_set(LW_ERRCLASS_INVALID, "model limits out of range: timeout_s %g (> 0), "
			     "cpu_s %g (>= 0), max_output_bytes %zu (>= 4096)", out->timeout_s,
			     out->cpu_s, out->max_output_bytes);
		return LW_EINVALID;
	}
	return 0;
}

void lw__model_sandbox_options(lw_sandbox_options *out, const char *package_dir,
			       const lw_model_limits *limits)
{
	lw_model_limits defaults = LW_MODEL_LIMITS_INIT;

	if (!limits)
		limits = &defaults;
	lw_sandbox_options_init(out);
	out->package_dir = package_dir;
	out->memory_bytes = limits->memory_bytes;
	out->cpu_s = limits->cpu_s;
	out->file_bytes = limits->max_output_bytes;
	out->read_ahead_bytes = limits->max_output_bytes;
}

int lw__model_open_sandboxed(lw_model **out, lw_model_kind kind, const char *label,
			     const char *const *argv, const lw_sandbox_options *opts,
			     const lw_model_limits *limits)
{
	remote *r = lw__calloc(1, sizeof(*r));
	double deadline;
	size_t in_dim = 0;
	int rc;

	*out = NULL;
	if (!r)
		return LW_ENOMEM;
	if ((rc = check_limits(&r->limits, limits)) < 0 || !(r->label = lw__strdup(label)))
		goto fail;
	deadline = lw_sandbox_now() + r->limits.timeout_s;
	if ((rc = lw_sandbox_start(&r->sb, argv, opts)) < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", lw_error_last()->message);
		lw_error_set(lw_error_last()->klass, "%s cannot start: %s", label, why);
		goto fail;
	}
	if ((rc = read_hello(r, &in_dim, deadline)) < 0 ||
	    (rc = lw__model_new(out, kind, &process_ops, r, in_dim, r->cols)) < 0)
		goto fail;
	return 0;
fail:
	remote_free(r);
	return rc < 0 ? rc : LW_ENOMEM;
}

/* ---- predict ---- */

static int check_reply(remote *r, const unsigned char *h, size_t rows, const char *doing)
{
	int64_t got;
	uint64_t cols;
	char shown[128];

	memcpy(&got, h, 8);
	memcpy(&cols, h + 8, 8);
	show_bytes(shown, sizeof(shown), h, 16);
	if ((uint64_t)got != rows)
		return violation(r, doing, "its reply has %lld rows for a batch of %zu; header %s",
				 (long long)got, rows, shown);
	if (cols == 0 || cols > MAX_COLS)
		return violation(r, doing, "its reply has %llu columns; 1 to %llu allowed; header %s",
				 (unsigned long long)cols, (unsigned long long)MAX_COLS, shown);
	if (r->cols && cols != r->cols)
		return violation(r, doing, "its reply has %llu columns, not the %zu of its hello or "
				 "earlier replies", (unsigned long long)cols, r->cols);
	if (rows * cols > r->limits.max_output_bytes / sizeof(double))
		return violation(r, doing, "its reply of %zu x %llu values is over the %zu-byte "
				 "output limit", rows, (unsigned long long)cols,
				 r->limits.max_output_bytes);
	return 0;
}

static int check_finite(remote *r, const lw_mat *out, size_t first, size_t rows,
			const char *doing)
{
	for (size_t i = first; i < first + rows; i++)
		for (size_t j = 0; j < out->cols; j++)
			if (!isfinite(lw_mat_row(out, i)[j]))
				return violation(r, doing, "it returned %g at row %zu, column %zu; "
						 "predictions must be finite",
						 lw_mat_row(out, i)[j], i, j);
	return 0;
}

/* Send rows [first, first + rows) of X and read their predictions into out. */
static int predict_batch(remote *r, lw_mat *out, const lw_mat *X, size_t first, size_t rows,
			 double deadline)
{
	uint64_t head[2] = { rows, X->cols };
	unsigned char h[16];
	char doing[96];
	int rc;

	snprintf(doing, sizeof(doing), "predicting a batch of %zu rows", rows);
	if ((rc = lw_sandbox_write(r->sb, head, sizeof(head), deadline)) < 0 ||
	    (rc = lw_sandbox_write(r->sb, lw_mat_row(X, first), rows * X->cols * sizeof(double),
				   deadline)) < 0 ||
	    (rc = lw_sandbox_read(r->sb, h, sizeof(h), deadline)) < 0)
		return died(r, rc, doing);
	memcpy(head, h, 8);
	if ((int64_t)head[0] < 0)
		return error_frame(r, h, doing, deadline);
	if ((rc = check_reply(r, h, rows, doing)) < 0)
		return rc;
	memcpy(&head[1], h + 8, 8);
	r->cols = (size_t)head[1];
	if (!out->data && (rc = lw_mat_init(out, X->rows, r->cols)) < 0)
		return rc;
	if ((rc = lw_sandbox_read(r->sb, lw_mat_row(out, first), rows * r->cols * sizeof(double),
				  deadline)) < 0)
		return died(r, rc, doing);
	return check_finite(r, out, first, rows, doing);
}

/* Rows per request: about CHUNK_BYTES of input, within the output limit. */
static size_t batch_rows(const remote *r, const lw_mat *X)
{
	size_t rows = CHUNK_BYTES / (sizeof(double) * (X->cols ? X->cols : 1));

	if (r->cols && rows > r->limits.max_output_bytes / (sizeof(double) * r->cols))
		rows = r->limits.max_output_bytes / (sizeof(double) * r->cols);
	return rows ? rows : 1;
}

static int process_predict(lw_model *m, lw_mat *out, const lw_mat *X)
{
	remote *r = m->impl;
	double deadline = lw_sandbox_now() + r->limits.timeout_s;
	size_t step = batch_rows(r, X);
	int rc = 0;

	if (r->death) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s", r->death);
		return LW_ERROR;
	}
	if (X->rows == 0)
		return lw_mat_init(out, 0, r->cols);
	for (size_t first = 0; first < X->rows && rc == 0; first += step)
		rc = predict_batch(r, out, X, first, X->rows - first < step ? X->rows - first : step,
				   deadline);
	if (rc < 0)
		lw_mat_dispose(out);
	return rc;
}

/* ---- the process kind ---- */

int lw__model_package_file(const char *package_dir, const char *rel, const char *what)
{
	char *path;
	struct stat st;
	size_t len;
	int rc = 0;

	if (!rel || !*rel || rel[0] == '/' || !strcmp(rel, "..") || !strncmp(rel, "../", 3) ||
	    strstr(rel, "/../") || ((len = strlen(rel)) >= 3 && !strcmp(rel + len - 3, "/.."))) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s '%s' must be a relative path inside the package",
			     what, rel ? rel : "");
		return LW_EINVALID;
	}
	if (!(path = lw__mallocarray(strlen(package_dir) + strlen(rel) + 2, 1)))
		return LW_ENOMEM;
	sprintf(path, "%s/%s", package_dir, rel);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s '%s' is not a file in the package %s", what, rel,
			     package_dir);
		rc = LW_ENOTFOUND;
	}
	free(path);
	return rc;
}

int lw__model_open_process(lw_model **out, const char *package_dir, const char *const *argv,
			   const lw_model_limits *limits)
{
	lw_sandbox_options opts;
	const char **args = NULL;
	char *program = NULL, label[300];
	size_t n = 0;
	int rc;

	LW_ASSERT_ARG(out && package_dir && argv);
	*out = NULL;
	if ((rc = lw__model_package_file(package_dir, argv[0], "process model program")) < 0)
		return rc;
	while (argv[n])
		n++;
	args = lw__calloc(n + 1, sizeof(*args));
	program = lw__mallocarray(strlen(argv[0]) + sizeof(LW_SANDBOX_PACKAGE_DIR) + 1, 1);
	if (!args || !program) {
		rc = LW_ENOMEM;
		goto done;
	}
	sprintf(program, "%s/%s", LW_SANDBOX_PACKAGE_DIR, argv[0]);
	args[0] = program;
	for (size_t i = 1; i < n; i++)
		args[i] = argv[i];
	snprintf(label, sizeof(label), "process model '%s'", argv[0]);
	lw__model_sandbox_options(&opts, package_dir, limits);
	rc = lw__model_open_sandboxed(out, LW_MODEL_PROCESS, label, args, &opts, limits);
done:
	free(args);
	free(program);
	return rc;
}
