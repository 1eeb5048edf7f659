/*
 * learnware check: run the dock's checks on a learnware zip or folder.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lw/check.h"

static const char check_usage[] =
	"usage: learnware check LEARNWARE.zip|DIR [options]\n"
	"\n"
	"Check a learnware the way the dock will: a safe unpack, the semantic\n"
	"specification, the statistical specifications, and the model run on\n"
	"generated rows inside the sandbox (no network, read-only package, time\n"
	"and memory limits).  Prints one line per step and the verdict: usable,\n"
	"nonusable or invalid.  Exit status 0 when usable, 3 otherwise.\n"
	"\n"
	"  --timeout S     wall-clock limit for starting the model and for each\n"
	"                  predict call, in seconds (default 30)\n"
	"  --memory MB     address-space limit of the model's processes (2048)\n"
	"  --cpu S         CPU seconds the model may use (120)\n"
	"  --rows N        generated rows to predict (10)\n"
	"  --work-dir DIR  where to unpack a zip (default: a new folder in $TMPDIR)\n"
	"  --in-process    run linear/logistic/mlp/xgboost models in this process\n"
	"                  instead of the sandbox (only for files you trust)\n"
	"  -q, --quiet     print only the verdict\n";

static int parse(int argc, char **argv, lw_check_options *o, int *quiet, int *in_process)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' }, { "memory", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },     { "rows", required_argument, NULL, 'r' },
		{ "work-dir", required_argument, NULL, 'w' }, { "in-process", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t mb;
	int c;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 't': bad = cli_parse_double(&o->limits.timeout_s, optarg, "--timeout"); break;
		case 'm':
			bad = cli_parse_size(&mb, optarg, "--memory");
			o->limits.memory_bytes = mb << 20;
			break;
		case 'c': bad = cli_parse_double(&o->limits.cpu_s, optarg, "--cpu"); break;
		case 'r': bad = cli_parse_size(&o->sample_rows, optarg, "--rows"); break;
		case 'w': o->work_dir = optarg; break;
		case 'i': *in_process = 1; break;
		case 'q': *quiet = 1; break;
		case 'h': fputs(check_usage, stdout); return -1;
		default: return cli_usage_error("check", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (!(o->limits.timeout_s > 0) || o->sample_rows == 0 || o->sample_rows > 100000 ||
	    o->limits.memory_bytes < ((size_t)16 << 20))
		return cli_usage_error("check", "--timeout must be positive, --rows 1 to 100000, "
						"--memory at least 16");
	if (optind != argc - 1)
		return cli_usage_error("check", "expected one learnware zip or folder");
	return 0;
}

int cmd_check(int argc, char **argv)
{
	lw_check_options o = LW_CHECK_OPTIONS_INIT;
	lw_check_status status;
	lw_check_log *log = NULL;
	char self[4096];
	ssize_t len;
	int quiet = 0, in_process = 0, rc, err;

	if ((rc = parse(argc, argv, &o, &quiet, &in_process)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	/* This very program serves in-process kinds inside the sandbox. */
	if (!in_process && (len = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[len] = '\0';
		o.serve_exe = self;
	}
	if ((err = lw_check(&status, &log, argv[optind], &o)) < 0)
		return cli_fail(err);
	if (!quiet)
		fputs(lw_check_log_text(log), stdout);
	else
		printf("%s\n", lw_check_status_name(status));
	lw_check_log_free(log);
	return status == LW_CHECK_USABLE ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}
