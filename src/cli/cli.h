/*
 * Shared pieces of the learnware command-line program.
 */
#ifndef LW_CLI_H
#define LW_CLI_H

#include "lw.h"

/* Exit codes: documented in docs/cli.md and by `learnware help`. */
enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* a computation failed */
	CLI_EXIT_USAGE = 2,   /* bad command line */
	CLI_EXIT_INPUT = 3,   /* malformed or unusable input data */
	CLI_EXIT_NOTFOUND = 4,/* a file, column or key does not exist */
	CLI_EXIT_IO = 5,      /* the system refused a read or write */
	CLI_EXIT_CANCEL = 130 /* interrupted */
};

/* Print "learnware: <last library error>" and map the code to an exit code. */
int cli_fail(int err);

/* Append text to the library's last error message, keeping its class. */
void cli_error_append(const char *text);

/* Print "learnware <verb>: <message>" plus a hint to use --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse numbers from option arguments, with the option named on error. */
int cli_parse_double(double *out, const char *arg, const char *opt);
int cli_parse_size(size_t *out, const char *arg, const char *opt);
int cli_parse_u64(uint64_t *out, const char *arg, const char *opt);

/* A progress line on stderr when it is a terminal; a no-op otherwise. */
typedef struct {
	int enabled;
	double last_time;
	char last_stage[64];
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet);
int cli_progress_cb(const char *stage, double done, void *payload);
void cli_progress_end(cli_progress *p);

/* Verbs. */
int cmd_spec(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_semantic(int argc, char **argv);
int cmd_model_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_dock(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_reuse(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_predict(int argc, char **argv);
/* The client of a dock's HTTP API (cmd_remote*.c, http.c). */
int cmd_register(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_tokens(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_download(int argc, char **argv);
/* The dock as a service (cmd_serve.c, on include/lw/server.h). */
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_admin(int argc, char **argv);

/* The local search's output, shared with the remote search. */
void cli_search_print_table(const lw_dock_result *r);
void cli_search_print_json(const lw_dock_result *r);

#endif
