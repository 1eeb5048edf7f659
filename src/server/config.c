/*
 * The server's configuration: one table of keys drives the defaults, the
 * file parser, the environment and the documentation, so no key can be
 * read in one place and forgotten in another.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lw/error.h"
#include "lw/server.h"

typedef enum { K_STR, K_INT, K_BOOL } kind;

typedef struct {
	const char *name;
	kind k;
	size_t off;
	const char *def; /* text form of the default */
	long min, max;
	const char *meaning;
} key;

#define S(f) offsetof(lw_server_config, f)

static const key keys[] = {
	{ "dock", K_STR, S(dock), "dock", 0, 0,
	  "the store: a folder (embedded SQLite) or a postgresql:// URL" },
	{ "files_root", K_STR, S(files_root), "", 0, 0,
	  "the folder of learnware files shared by every process of a PostgreSQL dock" },
	{ "listen", K_STR, S(listen), "127.0.0.1:8080", 0, 0,
	  "host:port to listen on (port 0 picks a free port)" },
	{ "web_root", K_STR, S(web_root), "", 0, 0,
	  "folder of the web UI's files (default: the installed or source web/ folder)" },
	{ "upload_dir", K_STR, S(upload_dir), "", 0, 0,
	  "where uploads are assembled (default: <files root>/uploads)" },
	{ "threads", K_INT, S(threads), "4", 1, 256, "request threads" },
	{ "workers", K_INT, S(workers), "1", 0, 64,
	  "verification threads in the server (0: run `learnware worker` instead)" },
	{ "session_hours", K_INT, S(session_hours), "168", 1, 24 * 365,
	  "lifetime of the session token a login gives" },
	{ "max_upload_mb", K_INT, S(max_upload_mb), "1024", 1, 1 << 20, "largest package accepted" },
	{ "max_body_kb", K_INT, S(max_body_kb), "8192", 1, 1 << 20,
	  "largest JSON body or form field (an RKME file in a search counts)" },
	{ "login_attempts", K_INT, S(login_attempts), "10", 1, 1000000,
	  "failed logins allowed per e-mail and per client address within login_window_s" },
	{ "login_window_s", K_INT, S(login_window_s), "300", 1, 86400,
	  "the window of login_attempts, and the wait once it is used up" },
	{ "upload_ttl_hours", K_INT, S(upload_ttl_hours), "24", 1, 24 * 365,
	  "unfinished resumable uploads are removed after this long" },
	{ "job_timeout_s", K_INT, S(job_timeout_s), "900", 10, 86400,
	  "a verification job whose worker has been silent this long is retried" },
	{ "job_attempts", K_INT, S(job_attempts), "3", 1, 100,
	  "claims of one job before it is failed for good" },
	{ "check_timeout_s", K_INT, S(check_timeout_s), "30", 1, 86400,
	  "wall-clock limit of each model step while a learnware is checked" },
	{ "check_memory_mb", K_INT, S(check_memory_mb), "2048", 64, 1 << 20,
	  "address-space limit of a model while it is checked" },
	{ "allow_register", K_BOOL, S(allow_register), "true", 0, 1,
	  "whether anyone may register (false: only admins create accounts)" },
	{ "access_log", K_BOOL, S(access_log), "false", 0, 1, "one line per request on stderr" },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const lw_server_config_key *lw_server_config_keys(void)
{
	static lw_server_config_key out[NKEYS + 1];

	if (!out[0].name)
		for (size_t i = 0; i < NKEYS; i++) {
			out[i].name = keys[i].name;
			out[i].meaning = keys[i].meaning;
			out[i].default_value = keys[i].def;
		}
	return out;
}

static const key *find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static int set(lw_server_config *c, const key *k, const char *v, const char *where)
{
	char *end, *copy;
	long n;

	switch (k->k) {
	case K_STR:
		if (!(copy = strdup(v)))
			return LW_ENOMEM;
		free(*(char **)((char *)c + k->off));
		*(char **)((char *)c + k->off) = copy;
		return 0;
	case K_BOOL:
		if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes"))
			n = 1;
		else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no"))
			n = 0;
		else {
			lw_error_set(LW_ERRCLASS_INVALID, "%s%s: \"%s\" is not a boolean: use true or false",
				     where, k->name, v);
			return LW_EINVALID;
		}
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	case K_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s%s: \"%s\" is not a whole number from %ld to %ld",
				     where, k->name, v, k->min, k->max);
			return LW_EINVALID;
		}
		*(int *)((char *)c + k->off) = (int)n;
		return 0;
	}
	return LW_EINVALID;
}

void lw_server_config_init(lw_server_config *c)
{
	memset(c, 0, sizeof(*c));
	c->version = LW_SERVER_CONFIG_VERSION;
	for (size_t i = 0; i < NKEYS; i++)
		if (set(c, &keys[i], keys[i].def, "") < 0)
			abort(); /* a default that does not parse is a programming error */
}

void lw_server_config_dispose(lw_server_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].k == K_STR)
			free(*(char **)((char *)c + keys[i].off));
	memset(c, 0, sizeof(*c));
}

int lw_server_config_set(lw_server_config *c, const char *name, const char *value)
{
	const key *k = find(name);

	if (!k) {
		lw_error_set(LW_ERRCLASS_INVALID, "unknown configuration key \"%s\" (see learnware serve --help)",
			     name);
		return LW_ENOTFOUND;
	}
	return set(c, k, value, "");
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* One `key = value` line; value may be "quoted" (then # is kept). */
static int parse_line(lw_server_config *c, char *line, const char *path, int no)
{
	char where[PATH_MAX + 32], *eq, *name, *value;
	const key *k;

	snprintf(where, sizeof(where), "%s:%d: ", path, no);
	if (!(eq = strchr(line, '='))) {
		lw_error_set(LW_ERRCLASS_INVALID, "%sexpected key = value", where);
		return LW_EINVALID;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (!(k = find(name))) {
		lw_error_set(LW_ERRCLASS_INVALID, "%sunknown key \"%s\" (learnware serve --help lists them)",
			     where, name);
		return LW_EINVALID;
	}
	if (*value == '"') {
		char *close = strrchr(value + 1, '"');

		if (!close || trim(close + 1)[0] != '\0') {
			lw_error_set(LW_ERRCLASS_INVALID, "%s%s: unterminated quoted value", where, name);
			return LW_EINVALID;
		}
		*close = '\0';
		value++;
	} else {
		char *hash = strchr(value, '#');

		if (hash) {
			*hash = '\0';
			value = trim(value);
		}
	}
	return set(c, k, value, where);
}

int lw_server_config_load(lw_server_config *c, const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int no = 0, err = 0;

	if (!f) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open the configuration %s", path);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	while (err == 0 && fgets(line, sizeof(line), f)) {
		char *s;

		no++;
		if (!strchr(line, '\n') && !feof(f)) {
			lw_error_set(LW_ERRCLASS_INVALID, "%s:%d: line longer than %zu bytes", path, no,
				     sizeof(line) - 2);
			err = LW_EINVALID;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		err = parse_line(c, s, path, no);
	}
	fclose(f);
	return err;
}

int lw_server_config_env(lw_server_config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char var[64], where[80];
		const char *v;
		size_t j;
		int err;

		snprintf(var, sizeof(var), "LEARNWARE_");
		for (j = 0; keys[i].name[j] && j + 11 < sizeof(var); j++)
			var[10 + j] = (char)toupper((unsigned char)keys[i].name[j]);
		var[10 + j] = '\0';
		if (!(v = getenv(var)))
			continue;
		snprintf(where, sizeof(where), "environment %s: ", var);
		if ((err = set(c, &keys[i], v, where)) < 0)
			return err;
	}
	return 0;
}
