/*
 * The client of a dock's HTTP API, accounts: learnware register, login,
 * logout and tokens.  The login keeps a named API token (never the
 * password, never the session token) in $XDG_CONFIG_HOME/learnware/
 * credentials.json, mode 0600.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"

/* --- reading a password ------------------------------------------------------------- */

static int tty_fd = -1;
static struct termios tty_saved;
static volatile sig_atomic_t tty_echo_off;

static void restore_tty(void)
{
	if (tty_echo_off) {
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
		tty_echo_off = 0;
	}
}

/* Ctrl-C at the password prompt: give the terminal its echo back, then die of the signal. */
static void on_prompt_signal(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* One line from fd into buf (no newline); -1 on end of input before anything, or a read error. */
static int read_line_fd(int fd, char *buf, size_t n)
{
	size_t len = 0;
	int got_any = 0;

	for (;;) {
		char ch;
		ssize_t k = read(fd, &ch, 1);

		if (k < 0 && errno == EINTR && !cli_http_interrupted)
			continue;
		if (k <= 0)
			break;
		got_any = 1;
		if (ch == '\n')
			break;
		if (len + 1 < n)
			buf[len++] = ch;
	}
	while (len && buf[len - 1] == '\r')
		len--;
	buf[len] = '\0';
	return got_any && !cli_http_interrupted ? 0 : -1;
}

/*
 * Ask on the terminal (not stdin: that may be a pipe); echo off when secret.
 * 0, or an exit code: CLI_EXIT_USAGE with no terminal or at its end of
 * input (said why), CLI_EXIT_CANCEL when interrupted.
 */
static int ask_tty(char *buf, size_t n, const char *prompt, int secret, const char *verb, const char *opt)
{
	struct sigaction sa, old_int, old_term;
	struct termios quiet;
	int rc;

	buf[0] = '\0';
	if ((tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return cli_usage_error(verb, "no terminal to ask on: use %s", opt);
	if (secret) {
		if (tcgetattr(tty_fd, &tty_saved) < 0) {
			close(tty_fd);
			tty_fd = -1;
			return cli_usage_error(verb, "no terminal to ask on: use %s", opt);
		}
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_prompt_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		quiet = tty_saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tty_echo_off = 1;
		tcsetattr(tty_fd, TCSAFLUSH, &quiet);
	}
	if (write(tty_fd, prompt, strlen(prompt)) < 0) {
		/* nothing to do: the read below still works */
	}
	rc = read_line_fd(tty_fd, buf, n);
	if (secret) {
		restore_tty();
		if (write(tty_fd, "\n", 1) < 0) {
			/* the newline the user typed was not echoed; not worth failing for */
		}
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	close(tty_fd);
	tty_fd = -1;
	if (cli_http_interrupted)
		return CLI_EXIT_CANCEL;
	if (rc < 0) {
		fprintf(stderr, "\nlearnware %s: nothing typed\n", verb);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* The password: the first line of stdin, or asked on the terminal (twice when confirm). */
static int get_password(char *buf, size_t n, const char *verb, int from_stdin, int confirm)
{
	char again[1024];
	int rc;

	if (from_stdin) {
		if (read_line_fd(STDIN_FILENO, buf, n) < 0 && cli_http_interrupted)
			return CLI_EXIT_CANCEL;
		if (!buf[0]) {
			fprintf(stderr, "learnware %s: no password on standard input\n", verb);
			return CLI_EXIT_USAGE;
		}
		return 0;
	}
	if ((rc = ask_tty(buf, n, "Password: ", 1, verb, "--password-stdin")) != 0)
		return rc;
	if (!buf[0]) {
		fprintf(stderr, "learnware %s: empty password\n", verb);
		return CLI_EXIT_USAGE;
	}
	if (confirm) {
		if ((rc = ask_tty(again, sizeof(again), "Password again: ", 1, verb, "--password-stdin")) != 0) {
			memset(again, 0, sizeof(again));
			return rc;
		}
		rc = strcmp(buf, again);
		memset(again, 0, sizeof(again));
		if (rc) {
			fprintf(stderr, "learnware %s: the passwords differ\n", verb);
			return CLI_EXIT_USAGE;
		}
	}
	return 0;
}

/* The e-mail: the option, else asked on the terminal (the saved one as default). */
static int get_email(char *buf, size_t n, const char *verb, const char *opt, const char *saved,
		     int password_stdin)
{
	char prompt[512];
	int rc;

	if (opt) {
		snprintf(buf, n, "%s", opt);
		return 0;
	}
	if (password_stdin)
		return cli_usage_error(verb, "--password-stdin needs --email");
	if (saved)
		snprintf(prompt, sizeof(prompt), "E-mail [%s]: ", saved);
	else
		snprintf(prompt, sizeof(prompt), "E-mail: ");
	if ((rc = ask_tty(buf, n, prompt, 0, verb, "--email")) != 0)
		return rc;
	if (!buf[0] && saved)
		snprintf(buf, n, "%s", saved);
	if (!buf[0]) {
		fprintf(stderr, "learnware %s: no e-mail given\n", verb);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* --- shared option parsing ------------------------------------------------------------ */

typedef struct {
	const char *server, *email, *name, *token_name;
	size_t days;
	int password_stdin, json, forget;
} account_args;

/* Parse the options every account verb knows; positional arguments stay after optind. */
static int parse_account(account_args *a, const char *verb, const char *usage, const char *allowed,
			 int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },  { "email", required_argument, NULL, 'e' },
		{ "name", required_argument, NULL, 'N' },    { "token-name", required_argument, NULL, 't' },
		{ "days", required_argument, NULL, 'D' },    { "password-stdin", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },          { "forget", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c, idx = 0;

	memset(a, 0, sizeof(*a));
	a->days = 90;
	while ((c = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (c != 'h' && c != '?' && !strchr(allowed, c)) {
			for (idx = 0; longopts[idx].name && longopts[idx].val != c; idx++)
				;
			return cli_usage_error(verb, "--%s is not an option of %s", longopts[idx].name, verb);
		}
		switch (c) {
		case 'S': a->server = optarg; break;
		case 'e': a->email = optarg; break;
		case 'N': a->name = optarg; break;
		case 't': a->token_name = optarg; break;
		case 'D':
			if (cli_parse_size(&a->days, optarg, "--days") < 0)
				return CLI_EXIT_USAGE;
			if (a->days < 1 || a->days > 3650)
				return cli_usage_error(verb, "--days must be 1 to 3650");
			break;
		case 'p': a->password_stdin = 1; break;
		case 'j': a->json = 1; break;
		case 'f': a->forget = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	return 0;
}

static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : dflt;
}

static void print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s)
		puts(s);
	free(s);
}

/* --- register --------------------------------------------------------------------------- */

static const char register_usage[] =
	"usage: learnware register [--server URL] [--email E] [--name NAME] [--password-stdin]\n"
	"\n"
	"Create an account on a dock's server (POST /api/v1/auth/register).  The\n"
	"password is asked twice on the terminal, without echo, or read from the\n"
	"first line of standard input with --password-stdin (then --email is needed).\n"
	"Then 'learnware login'.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"      --email E           the account's e-mail (asked when not given)\n"
	"      --name NAME         the name others see (default: the e-mail before '@')\n"
	"      --password-stdin    read the password from standard input\n";

int cmd_register(int argc, char **argv)
{
	char email[512], password[1024], name[512];
	cli_http_response resp;
	account_args a;
	cli_remote r;
	json_t *body, *user;
	int rc;

	if ((rc = parse_account(&a, "register", register_usage, "SeNp", argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind != argc)
		return cli_usage_error("register", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_remote_open(&r, "register", a.server, 0)) != 0)
		return rc;
	free(r.token); /* registering needs no token */
	r.token = NULL;
	r.saved = 0;
	if ((rc = get_email(email, sizeof(email), "register", a.email, NULL, a.password_stdin)) != 0 ||
	    (rc = get_password(password, sizeof(password), "register", a.password_stdin, 1)) != 0) {
		cli_remote_close(&r);
		return rc;
	}
	snprintf(name, sizeof(name), "%s", a.name ? a.name : email);
	if (!a.name)
		name[strcspn(name, "@")] = '\0';
	body = json_pack("{s:s, s:s, s:s}", "email", email, "password", password, "name", name);
	memset(password, 0, sizeof(password));
	if (!body) {
		cli_remote_close(&r);
		fprintf(stderr, "learnware register: the e-mail, name or password is not valid UTF-8\n");
		return CLI_EXIT_INPUT;
	}
	rc = cli_http_json(&resp, &r, "POST", "/api/v1/auth/register", body);
	json_object_set_new(body, "password", json_string(""));
	json_decref(body);
	if (rc < 0 || resp.status / 100 != 2) {
		rc = cli_http_report(&r, email, &resp);
	} else {
		user = json_object_get(resp.json, "user");
		printf("registered %s (user %" PRId64 ", %s) on %s; now 'learnware login --server %s --email %s'\n",
		       email, (int64_t)json_integer_value(json_object_get(user, "id")), jstr(user, "role", "user"),
		       r.server, r.server, email);
		rc = CLI_EXIT_OK;
	}
	cli_http_response_dispose(&resp);
	cli_remote_close(&r);
	return rc;
}

/* --- login ------------------------------------------------------------------------------ */

static const char login_usage[] =
	"usage: learnware login [--server URL] [--email E] [--password-stdin] [--token-name N] [--days N]\n"
	"\n"
	"Log in to a dock's server and keep a named API token for the other remote\n"
	"verbs (submit, status, search --server, download, tokens, logout).  The\n"
	"password is asked on the terminal without echo, or read from the first\n"
	"line of standard input with --password-stdin; it is never stored.  The\n"
	"session of the login is closed at once: only the API token stays, in\n"
	"$XDG_CONFIG_HOME/learnware/credentials.json (~/.config/learnware/), mode 0600.\n"
	"$LEARNWARE_SERVER and $LEARNWARE_TOKEN override the saved server and token.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"      --email E           the account's e-mail (asked when not given)\n"
	"      --password-stdin    read the password from standard input (needs --email)\n"
	"      --token-name N      the API token's name (default cli@HOSTNAME)\n"
	"      --days N            the API token's lifetime, 1 to 3650 days (90)\n";

/* Revoke a previously saved token of the same server; best effort, quietly. */
static void revoke_old(const char *server)
{
	cli_credentials old;
	cli_http_response resp;
	cli_remote r;
	char path[64], *a;

	if (cli_credentials_load(&old) != 0)
		return;
	a = cli_remote_normalise_url(old.server);
	if (a && !strcmp(a, server) && old.token_id > 0) {
		memset(&r, 0, sizeof(r));
		r.verb = "login";
		r.server = a;
		r.token = old.token;
		old.token = NULL;
		a = NULL;
		snprintf(path, sizeof(path), "/api/v1/me/tokens/%" PRId64, old.token_id);
		cli_http_json(&resp, &r, "DELETE", path, NULL);
		cli_http_response_dispose(&resp);
		cli_remote_close(&r);
	}
	free(a);
	cli_credentials_dispose(&old);
}

int cmd_login(int argc, char **argv)
{
	char email[512], password[1024], host[256], token_name[320], path[64], when[32];
	cli_credentials saved, cred;
	cli_http_response resp;
	account_args a;
	cli_remote r;
	json_t *body, *user;
	char *session = NULL;
	int rc, have_saved;

	if ((rc = parse_account(&a, "login", login_usage, "SeptD", argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind != argc)
		return cli_usage_error("login", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_remote_open(&r, "login", a.server, 0)) != 0)
		return rc;
	free(r.token); /* the login asks for its own */
	r.token = NULL;
	r.saved = 0;
	have_saved = cli_credentials_load(&saved) == 0;
	rc = get_email(email, sizeof(email), "login", a.email, have_saved ? saved.email : NULL,
		       a.password_stdin);
	if (have_saved)
		cli_credentials_dispose(&saved);
	if (rc != 0 || (rc = get_password(password, sizeof(password), "login", a.password_stdin, 0)) != 0) {
		cli_remote_close(&r);
		return rc;
	}
	body = json_pack("{s:s, s:s}", "email", email, "password", password);
	memset(password, 0, sizeof(password));
	if (!body) {
		cli_remote_close(&r);
		fprintf(stderr, "learnware login: the e-mail or password is not valid UTF-8\n");
		return CLI_EXIT_INPUT;
	}
	rc = cli_http_json(&resp, &r, "POST", "/api/v1/auth/login", body);
	json_object_set_new(body, "password", json_string(""));
	json_decref(body);
	if (rc < 0 || resp.status != 200 || !json_string_value(json_object_get(resp.json, "token"))) {
		rc = rc < 0 || resp.status != 200 ? cli_http_report(&r, email, &resp) : CLI_EXIT_FAILURE;
		if (rc == CLI_EXIT_FAILURE && resp.status == 200)
			fprintf(stderr, "learnware login: the server's answer has no token\n");
		cli_http_response_dispose(&resp);
		cli_remote_close(&r);
		return rc;
	}
	session = strdup(json_string_value(json_object_get(resp.json, "token")));
	user = json_incref(json_object_get(resp.json, "user"));
	cli_http_response_dispose(&resp);

	/* A named API token for the CLI, created with the session. */
	if (a.token_name) {
		snprintf(token_name, sizeof(token_name), "%s", a.token_name);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(token_name, sizeof(token_name), "cli@%s", host);
	}
	r.token = session;
	body = json_pack("{s:s, s:I}", "name", token_name, "expires_days", (json_int_t)a.days);
	rc = cli_http_json(&resp, &r, "POST", "/api/v1/me/tokens", body);
	json_decref(body);
	if (rc < 0 || resp.status / 100 != 2 || !json_string_value(json_object_get(resp.json, "token"))) {
		rc = rc < 0 || resp.status / 100 != 2 ? cli_http_report(&r, "creating the API token", &resp)
						      : CLI_EXIT_FAILURE;
		if (rc == CLI_EXIT_FAILURE && resp.status / 100 == 2)
			fprintf(stderr, "learnware login: the server's answer has no token\n");
		cli_http_response_dispose(&resp);
		cli_http_json(&resp, &r, "POST", "/api/v1/auth/logout", NULL);
		cli_http_response_dispose(&resp);
		json_decref(user);
		cli_remote_close(&r);
		return rc;
	}
	revoke_old(r.server);
	memset(&cred, 0, sizeof(cred));
	cred.server = r.server;
	cred.email = email;
	cred.token = (char *)json_string_value(json_object_get(resp.json, "token"));
	cred.token_name = token_name;
	cred.token_id = json_integer_value(json_object_get(resp.json, "id"));
	cli_format_time(when, sizeof(when), json_integer_value(json_object_get(resp.json, "expires")));
	rc = cli_credentials_save(&cred);
	if (rc != 0) { /* the token is of no use unsaved: take it back */
		snprintf(path, sizeof(path), "/api/v1/me/tokens/%" PRId64, cred.token_id);
		cli_http_response_dispose(&resp);
		cli_http_json(&resp, &r, "DELETE", path, NULL);
	}
	cli_http_response_dispose(&resp);

	/* The session token is not needed any more. */
	if (cli_http_json(&resp, &r, "POST", "/api/v1/auth/logout", NULL) < 0 || resp.status / 100 != 2)
		fprintf(stderr, "learnware login: warning: the login session could not be closed (%ld); "
				"it expires by itself\n", resp.status);
	cli_http_response_dispose(&resp);
	if (rc == 0) {
		char path_buf[4200];

		cli_credentials_path(path_buf, sizeof(path_buf));
		printf("logged in to %s as %s", r.server, email);
		if (jstr(user, "name", NULL))
			printf(" (%s, %s)", jstr(user, "name", ""), jstr(user, "role", "user"));
		printf("; API token '%s' (id %" PRId64 ") until %s, saved in %s\n", token_name, cred.token_id,
		       when, path_buf);
	}
	json_decref(user);
	cli_remote_close(&r);
	return rc;
}

/* --- logout ------------------------------------------------------------------------------ */

static const char logout_usage[] =
	"usage: learnware logout [--forget]\n"
	"\n"
	"Revoke the saved login's API token on its server (DELETE /api/v1/me/tokens/ID)\n"
	"and remove the saved credentials.  When the server cannot be reached the\n"
	"credentials are kept, unless --forget.\n"
	"\n"
	"      --forget            remove the saved credentials even when the server cannot be told\n";

/* The saved token's id: the one saved, checked against the server's list, else by its name. */
static int find_token_id(int64_t *id, cli_remote *r, const cli_credentials *c, cli_http_response *resp)
{
	json_t *items, *t;
	size_t i, matches = 0;

	*id = 0;
	if (cli_http_json(resp, r, "GET", "/api/v1/me/tokens", NULL) < 0 || resp->status != 200)
		return -1;
	items = json_object_get(resp->json, "items");
	json_array_foreach(items, i, t) {
		int64_t tid = json_integer_value(json_object_get(t, "id"));
		const char *name = json_string_value(json_object_get(t, "name"));
		const char *kind = json_string_value(json_object_get(t, "kind"));

		if (c->token_id > 0 && tid == c->token_id) {
			*id = tid;
			return 0;
		}
		if (c->token_id <= 0 && c->token_name && name && !strcmp(name, c->token_name) &&
		    (!kind || !strcmp(kind, "api"))) {
			*id = tid;
			matches++;
		}
	}
	if (matches > 1)
		*id = 0; /* ambiguous: revoke nothing rather than another client's token */
	return 0;
}

int cmd_logout(int argc, char **argv)
{
	char cred_path[4200], path[64];
	cli_credentials c;
	cli_http_response resp;
	account_args a;
	cli_remote r;
	int64_t id;
	int rc, revoked = 0, loaded;

	memset(&resp, 0, sizeof(resp));
	if ((rc = parse_account(&a, "logout", logout_usage, "f", argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind != argc)
		return cli_usage_error("logout", "unexpected argument '%s'", argv[optind]);
	if (cli_credentials_path(cred_path, sizeof(cred_path)) < 0 || (loaded = cli_credentials_load(&c)) == 1) {
		printf("not logged in\n");
		return CLI_EXIT_OK;
	}
	if (loaded != 0) { /* a broken file: nothing to revoke, just remove it */
		if (unlink(cred_path) < 0) {
			fprintf(stderr, "learnware logout: cannot remove %s: %s\n", cred_path, strerror(errno));
			return CLI_EXIT_IO;
		}
		printf("removed %s\n", cred_path);
		return CLI_EXIT_OK;
	}
	/* The saved login only: neither $LEARNWARE_SERVER nor $LEARNWARE_TOKEN applies. */
	memset(&r, 0, sizeof(r));
	r.verb = "logout";
	r.server = cli_remote_normalise_url(c.server);
	r.token = strdup(c.token);
	r.saved = 1;
	if (!r.server || !r.token) {
		fprintf(stderr, "learnware logout: %s: the saved server '%s' is not a URL\n", cred_path, c.server);
		rc = CLI_EXIT_INPUT;
	} else if (find_token_id(&id, &r, &c, &resp) < 0) {
		if (resp.status == 401) { /* expired or revoked already */
			revoked = 1;
			rc = CLI_EXIT_OK;
		} else {
			rc = cli_http_report(&r, "listing the tokens", &resp);
		}
	} else if (!id) {
		fprintf(stderr, "learnware logout: the saved token is not among the account's tokens; "
				"see 'learnware tokens list'\n");
		rc = CLI_EXIT_OK;
	} else {
		cli_http_response_dispose(&resp);
		snprintf(path, sizeof(path), "/api/v1/me/tokens/%" PRId64, id);
		if (cli_http_json(&resp, &r, "DELETE", path, NULL) == 0 &&
		    (resp.status / 100 == 2 || resp.status == 401 || resp.status == 404)) {
			revoked = 1;
			rc = CLI_EXIT_OK;
		} else {
			rc = cli_http_report(&r, "revoking the token", &resp);
		}
	}
	cli_http_response_dispose(&resp);
	if (rc == CLI_EXIT_OK || a.forget) {
		if (unlink(cred_path) < 0 && errno != ENOENT) {
			fprintf(stderr, "learnware logout: cannot remove %s: %s\n", cred_path, strerror(errno));
			rc = CLI_EXIT_IO;
		} else {
			printf("logged out of %s%s\n", r.server ? r.server : c.server,
			       revoked ? "" : " (the token was not revoked on the server)");
		}
	} else {
		fprintf(stderr, "learnware logout: the credentials stay in %s; 'learnware logout --forget' removes them\n",
			cred_path);
	}
	cli_remote_close(&r);
	cli_credentials_dispose(&c);
	return rc;
}

/* --- tokens ------------------------------------------------------------------------------- */

static const char tokens_usage[] =
	"usage: learnware tokens list [--json]\n"
	"       learnware tokens create NAME [--days N] [--json]\n"
	"       learnware tokens delete ID...\n"
	"\n"
	"The account's tokens on the server: session tokens (from logins) and named\n"
	"API tokens (for scripts: give one as $LEARNWARE_TOKEN).  'create' prints\n"
	"the new token on standard output; the server shows it this once.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"      --days N            lifetime of a created token, 1 to 3650 days (90)\n"
	"      --json              JSON output (list, create)\n";

static int tokens_list(cli_remote *r, const account_args *a)
{
	cli_http_response resp;
	json_t *items, *t;
	size_t i;
	int rc = CLI_EXIT_OK;

	if (cli_http_json(&resp, r, "GET", "/api/v1/me/tokens", NULL) < 0 || resp.status != 200) {
		rc = cli_http_report(r, NULL, &resp);
	} else if (a->json) {
		print_json(resp.json);
	} else {
		items = json_object_get(resp.json, "items");
		printf("%-6s  %-7s  %-20s  %-20s  %s\n", "ID", "KIND", "CREATED", "EXPIRES", "NAME");
		json_array_foreach(items, i, t) {
			char created[32], expires[32];
			int64_t id = json_integer_value(json_object_get(t, "id"));
			const char *kind = json_string_value(json_object_get(t, "kind"));
			const char *name = json_string_value(json_object_get(t, "name"));

			cli_format_time(created, sizeof(created), json_integer_value(json_object_get(t, "created")));
			cli_format_time(expires, sizeof(expires), json_integer_value(json_object_get(t, "expires")));
			printf("%-6" PRId64 "  %-7s  %-20s  %-20s  %s%s\n", id, kind ? kind : "?", created, expires,
			       name ? name : "", r->saved && id == r->token_id ? "  (this login)" : "");
		}
	}
	cli_http_response_dispose(&resp);
	return rc;
}

static int tokens_create(cli_remote *r, const account_args *a, const char *name)
{
	cli_http_response resp;
	json_t *body = json_pack("{s:s, s:I}", "name", name, "expires_days", (json_int_t)a->days);
	const char *token;
	char when[32];
	int rc = CLI_EXIT_OK;

	if (!body) {
		fprintf(stderr, "learnware tokens: the name is not valid UTF-8\n");
		return CLI_EXIT_INPUT;
	}
	if (cli_http_json(&resp, r, "POST", "/api/v1/me/tokens", body) < 0 || resp.status / 100 != 2) {
		rc = cli_http_report(r, name, &resp);
	} else if (!(token = json_string_value(json_object_get(resp.json, "token")))) {
		fprintf(stderr, "learnware tokens: the server's answer has no token\n");
		rc = CLI_EXIT_FAILURE;
	} else if (a->json) {
		print_json(resp.json);
	} else {
		cli_format_time(when, sizeof(when), json_integer_value(json_object_get(resp.json, "expires")));
		fprintf(stderr, "API token %" PRId64 " '%s', valid until %s; it is shown this once:\n",
			(int64_t)json_integer_value(json_object_get(resp.json, "id")), name, when);
		puts(token);
	}
	json_decref(body);
	cli_http_response_dispose(&resp);
	return rc;
}

static int tokens_delete(cli_remote *r, int argc, char **argv, int first)
{
	int worst = CLI_EXIT_OK;

	for (int i = first; i < argc; i++) {
		cli_http_response resp;
		char path[64], *end;
		long long id;
		int rc = CLI_EXIT_OK;

		errno = 0;
		id = strtoll(argv[i], &end, 10);
		if (end == argv[i] || *end || errno || id <= 0) {
			fprintf(stderr, "learnware tokens: '%s' is not a token id (see 'learnware tokens list')\n",
				argv[i]);
			if (worst < CLI_EXIT_USAGE)
				worst = CLI_EXIT_USAGE;
			continue;
		}
		snprintf(path, sizeof(path), "/api/v1/me/tokens/%lld", id);
		if (cli_http_json(&resp, r, "DELETE", path, NULL) < 0 || resp.status / 100 != 2) {
			rc = cli_http_report(r, argv[i], &resp);
		} else {
			printf("token %lld revoked\n", id);
			if (r->saved && id == r->token_id)
				fprintf(stderr, "learnware tokens: that was this login's token; 'learnware login' again\n");
		}
		cli_http_response_dispose(&resp);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

int cmd_tokens(int argc, char **argv)
{
	account_args a;
	cli_remote r;
	const char *cmd;
	int rc;

	if ((rc = parse_account(&a, "tokens", tokens_usage, "SDj", argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (optind >= argc)
		return cli_usage_error("tokens", "a command is needed: list, create NAME or delete ID");
	cmd = argv[optind];
	if (strcmp(cmd, "list") && strcmp(cmd, "create") && strcmp(cmd, "delete"))
		return cli_usage_error("tokens", "unknown command '%s'", cmd);
	if (!strcmp(cmd, "list") && optind + 1 != argc)
		return cli_usage_error("tokens", "list takes no argument");
	if (!strcmp(cmd, "create") && optind + 2 != argc)
		return cli_usage_error("tokens", "create takes one NAME");
	if (!strcmp(cmd, "delete") && optind + 1 >= argc)
		return cli_usage_error("tokens", "delete needs at least one token ID");
	if ((rc = cli_remote_open(&r, "tokens", a.server, 1)) != 0)
		return rc;
	if (!strcmp(cmd, "list"))
		rc = tokens_list(&r, &a);
	else if (!strcmp(cmd, "create"))
		rc = tokens_create(&r, &a, argv[optind + 1]);
	else
		rc = tokens_delete(&r, argc, argv, optind + 1);
	cli_remote_close(&r);
	return rc;
}
