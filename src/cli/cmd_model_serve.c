/*
 * learnware model-serve: serve one of the in-process model kinds (linear,
 * logistic, mlp, xgboost) over the model protocol (docs/model-protocol.md)
 * on stdin/stdout.  The checker and the dock run it inside the sandbox, so
 * a hostile model file meets libxgboost or the JSON reader there, not in
 * the dock's own process.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lw/train.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model protocol is little-endian; add byte swapping for this host"
#endif

/* Largest request accepted: the host sends at most ~8 MiB per batch. */
#define MAX_REQUEST_VALUES ((uint64_t)1 << 24)

static const char serve_usage[] =
	"usage: learnware model-serve --kind linear|logistic|mlp|xgboost MODEL\n"
	"\n"
	"Load MODEL and answer predict requests on stdin/stdout in the framed\n"
	"model protocol (docs/model-protocol.md).  Used by the checker and the\n"
	"dock to run models inside the sandbox; not meant for a terminal.\n";

static int read_full(void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t r = read(STDIN_FILENO, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? 1 : -1; /* 1: end of input */
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int write_full(const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(STDOUT_FILENO, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void send_error(const char *msg)
{
	int64_t status = -1;
	uint64_t len = strlen(msg);

	if (len > 65536)
		len = 65536;
	write_full(&status, 8);
	write_full(&len, 8);
	write_full(msg, (size_t)len);
}

static int send_hello(const lw_model *m)
{
	uint32_t hello[4];

	memcpy(hello, "LWMP", 4);
	hello[1] = 1;
	hello[2] = (uint32_t)lw_model_input_dim(m);
	hello[3] = (uint32_t)lw_model_output_dim(m);
	return write_full(hello, sizeof(hello));
}

/* One request: read the batch, predict, reply.  1 at end of input. */
static int serve_one(lw_model *m)
{
	uint64_t head[2];
	lw_mat X = LW_MAT_INIT, Y = LW_MAT_INIT;
	int rc;

	if ((rc = read_full(head, sizeof(head))) != 0)
		return rc > 0 ? 1 : -1;
	if (head[0] == 0 || head[1] == 0 || head[0] > MAX_REQUEST_VALUES / head[1]) {
		send_error("request of unsupported size");
		return -1;
	}
	if (lw_mat_init(&X, (size_t)head[0], (size_t)head[1]) < 0 ||
	    read_full(X.data, X.rows * X.cols * sizeof(double)) != 0) {
		lw_mat_dispose(&X);
		return -1;
	}
	if (lw_model_predict(&Y, m, &X) < 0) {
		lw_mat_dispose(&X);
		send_error(lw_error_last()->message);
		return -1;
	}
	head[1] = Y.cols;
	rc = write_full(head, sizeof(head)) || write_full(Y.data, Y.rows * Y.cols * sizeof(double));
	lw_mat_dispose(&X);
	lw_mat_dispose(&Y);
	return rc ? -1 : 0;
}

int cmd_model_serve(int argc, char **argv)
{
	static const struct option longopts[] = { { "kind", required_argument, NULL, 'k' },
						  { "help", no_argument, NULL, 'h' },
						  { NULL, 0, NULL, 0 } };
	lw_model_kind kind = 0;
	lw_model *m = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'k' && !(kind = lw_model_kind_from_name(optarg)))
			return cli_usage_error("model-serve", "unknown model kind '%s'", optarg);
		if (c == 'h') {
			fputs(serve_usage, stdout);
			return CLI_EXIT_OK;
		}
		if (c != 'k')
			return cli_usage_error("model-serve", "unknown option");
	}
	if (!kind || optind != argc - 1)
		return cli_usage_error("model-serve", "expected --kind KIND and one MODEL file");
	if (lw_model_load_file(&m, kind, argv[optind]) < 0) {
		send_error(lw_error_last()->message);
		return CLI_EXIT_INPUT;
	}
	if (send_hello(m) < 0) {
		lw_model_free(m);
		return CLI_EXIT_IO;
	}
	while ((rc = serve_one(m)) == 0)
		;
	lw_model_free(m);
	return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
