/*
 * learnware serve | worker | admin: run the dock as a service, run
 * verification workers beside it, and create accounts from the shell.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "lw/server.h"

#ifndef LW_WEB_SOURCE_DIR
#define LW_WEB_SOURCE_DIR ""
#endif

static const char serve_usage[] =
	"usage: learnware serve [--dock URL] [--listen HOST:PORT] [--config FILE] [--set KEY=VALUE]...\n"
	"\n"
	"Serve the dock over HTTP: the JSON API under /api/v1 (docs/api.md), the web\n"
	"UI at /, /healthz and /metrics.  Learnwares submitted are checked by worker\n"
	"threads in the background (--set workers=0 leaves that to `learnware worker`).\n"
	"\n"
	"Configuration: defaults, then --config FILE (`key = value` lines), then\n"
	"LEARNWARE_<KEY> environment variables, then --set and the options below.\n"
	"The first admin: LEARNWARE_ADMIN_EMAIL and LEARNWARE_ADMIN_PASSWORD (created\n"
	"when missing), or `learnware admin create`.\n"
	"\n"
	"Options:\n"
	"  -d, --dock URL        the dock: a folder, or postgresql://... (LEARNWARE_DOCK)\n"
	"  -l, --listen H:P      address to listen on (127.0.0.1:8080; port 0: any free one)\n"
	"  -c, --config FILE     configuration file\n"
	"  -s, --set KEY=VALUE   one configuration key\n"
	"  -t, --threads N       request threads (4)\n"
	"  -h, --help            this text, with every configuration key\n";

static void print_keys(void)
{
	printf("\nConfiguration keys:\n");
	for (const lw_server_config_key *k = lw_server_config_keys(); k->name; k++)
		printf("  %-17s %s%s%s%s\n", k->name, k->meaning, *k->default_value ? " (" : "",
		       k->default_value, *k->default_value ? ")" : "");
}

/* The web UI: installed beside bin/ (share/learnware/web), else the source tree. */
static void default_web_root(lw_server_config *c)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n;

	if (c->web_root && *c->web_root)
		return;
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		char *slash;

		self[n] = '\0';
		if ((slash = strrchr(self, '/')))
			*slash = '\0';
		snprintf(path, sizeof(path), "%s/../share/learnware/web/index.html", self);
		if (access(path, R_OK) == 0) {
			path[strlen(path) - strlen("/index.html")] = '\0';
			lw_server_config_set(c, "web_root", path);
			return;
		}
	}
	lw_server_config_set(c, "web_root", LW_WEB_SOURCE_DIR);
}

/* Options shared by serve and worker; returns -1 to go on, else an exit code. */
static int configure(lw_server_config *c, int argc, char **argv, const char *verb, const char *usage,
		     const char *threads_key)
{
	static const struct option opts[] = {
		{ "dock", required_argument, NULL, 'd' }, { "listen", required_argument, NULL, 'l' },
		{ "config", required_argument, NULL, 'c' }, { "set", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *dock = NULL, *listen = NULL, *threads = NULL;
	char *sets[32];
	int nsets = 0, opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:l:c:s:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd': dock = optarg; break;
		case 'l': listen = optarg; break;
		case 'c': config = optarg; break;
		case 't': threads = optarg; break;
		case 's':
			if (nsets == 32 || !strchr(optarg, '='))
				return cli_usage_error(verb, "--set takes KEY=VALUE (at most 32 of them)");
			sets[nsets++] = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			print_keys();
			return CLI_EXIT_OK;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error(verb, "unexpected argument \"%s\"", argv[optind]);
	if ((config && (err = lw_server_config_load(c, config)) < 0) || (err = lw_server_config_env(c)) < 0)
		return cli_fail(err);
	for (int i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');

		*eq = '\0';
		err = lw_server_config_set(c, sets[i], eq + 1);
		*eq = '=';
		if (err < 0)
			return cli_fail(err);
	}
	if ((dock && (err = lw_server_config_set(c, "dock", dock)) < 0) ||
	    (listen && (err = lw_server_config_set(c, "listen", listen)) < 0) ||
	    (threads && (err = lw_server_config_set(c, threads_key, threads)) < 0))
		return cli_fail(err);
	return -1;
}

int cmd_serve(int argc, char **argv)
{
	lw_server_config c;
	lw_server *s = NULL;
	sigset_t stop;
	int rc, err, sig = 0;

	lw_server_config_init(&c);
	if ((rc = configure(&c, argc, argv, "serve", serve_usage, "threads")) >= 0)
		goto done;
	default_web_root(&c);
	/* Block the stop signals before any thread starts, so that every thread
	 * inherits the mask and only sigwait below ever receives them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((err = lw_server_start(&s, &c)) < 0) {
		rc = cli_fail(err);
		goto done;
	}
	printf("listening on %s\n", lw_server_url(s));
	fflush(stdout);
	fprintf(stderr, "learnware serve: dock %s, %d request threads, %d workers; Ctrl-C stops\n", c.dock,
		c.threads, c.workers);
	sigwait(&stop, &sig);
	fprintf(stderr, "learnware serve: stopping\n");
	lw_server_stop(s);
	rc = CLI_EXIT_OK;
done:
	lw_server_config_dispose(&c);
	return rc;
}

static const char worker_usage[] =
	"usage: learnware worker [--dock URL] [--threads N] [--config FILE] [--set KEY=VALUE]...\n"
	"\n"
	"Check queued learnwares in the sandbox, for servers started with workers = 0\n"
	"or to add checking capacity on other machines (PostgreSQL docks: every\n"
	"worker claims jobs with SELECT ... FOR UPDATE SKIP LOCKED, so no job runs\n"
	"twice; a job whose worker dies is retried after job_timeout_s).\n"
	"\n"
	"Options: as for `learnware serve`, plus\n"
	"  -t, --threads N       worker threads (1)\n";

static volatile int worker_stop;

static void on_worker_signal(int sig)
{
	(void)sig;
	worker_stop = 1;
}

int cmd_worker(int argc, char **argv)
{
	lw_server_config c;
	struct sigaction sa = { 0 };
	int rc, err;

	lw_server_config_init(&c);
	lw_server_config_set(&c, "workers", "1");
	if ((rc = configure(&c, argc, argv, "worker", worker_usage, "workers")) >= 0)
		goto done;
	sa.sa_handler = on_worker_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	fprintf(stderr, "learnware worker: dock %s, %d thread(s); Ctrl-C stops after the current check\n",
		c.dock, c.workers);
	err = lw_worker_run(&c, c.workers, &worker_stop);
	rc = err < 0 ? cli_fail(err) : CLI_EXIT_OK;
done:
	lw_server_config_dispose(&c);
	return rc;
}

static const char admin_usage[] =
	"usage: learnware admin create --email E [--name N] [--password-stdin] [--dock URL]\n"
	"\n"
	"Create an admin account (or make an existing account admin and set its\n"
	"password).  The password is asked on the terminal, or read from the first\n"
	"line of standard input with --password-stdin.\n";

static int read_password(char *buf, size_t n, int from_stdin)
{
	struct termios old, quiet;
	int tty = !from_stdin && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *nl;

	if (tty) {
		fprintf(stderr, "password: ");
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (!fgets(buf, (int)n, stdin))
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if ((nl = strchr(buf, '\n')))
		*nl = '\0';
	return buf[0] ? 0 : -1;
}

int cmd_admin(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "email", required_argument, NULL, 'e' }, { "name", required_argument, NULL, 'n' },
		{ "dock", required_argument, NULL, 'd' }, { "password-stdin", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	const char *email = NULL, *name = "admin", *dock = NULL;
	int from_stdin = 0, opt, err, rc;
	lw_server_config c;
	char pw[1024];

	if (argc < 2 || strcmp(argv[1], "create") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(admin_usage, stdout);
			return CLI_EXIT_OK;
		}
		return cli_usage_error("admin", "the only subcommand is `create`");
	}
	optind = 2;
	while ((opt = getopt_long(argc, argv, "e:n:d:ph", opts, NULL)) != -1) {
		switch (opt) {
		case 'e': email = optarg; break;
		case 'n': name = optarg; break;
		case 'd': dock = optarg; break;
		case 'p': from_stdin = 1; break;
		case 'h': fputs(admin_usage, stdout); return CLI_EXIT_OK;
		default: return cli_usage_error("admin", "unknown option");
		}
	}
	if (!email)
		return cli_usage_error("admin", "--email is required");
	lw_server_config_init(&c);
	if ((err = lw_server_config_env(&c)) < 0 || (dock && (err = lw_server_config_set(&c, "dock", dock)) < 0)) {
		rc = cli_fail(err);
	} else if (read_password(pw, sizeof(pw), from_stdin) < 0) {
		rc = cli_usage_error("admin", "no password given");
	} else if ((err = lw_server_user_put(&c, email, name, pw, 1)) < 0) {
		rc = cli_fail(err);
	} else {
		printf("admin %s is ready on %s\n", email, c.dock);
		rc = CLI_EXIT_OK;
	}
	memset(pw, 0, sizeof(pw));
	lw_server_config_dispose(&c);
	return rc;
}
