/*
 * The client of a dock's HTTP API, learnwares: learnware submit (multipart
 * or the resumable upload), status and download.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "http.h"
#include "lw/package.h"

/* Packages up to this size go in one multipart request; bigger ones by the resumable flow. */
#define MULTIPART_MAX ((uint64_t)8 << 20)
#define CHUNK_DEFAULT ((size_t)4 << 20)
/* Consecutive failed chunks before the upload gives up. */
#define CHUNK_RETRIES 5
/* Consecutive unanswered polls (about a minute) before --wait gives up. */
#define POLL_RETRIES 20

typedef struct {
	const char *server, *semantic, *output;
	int wait, json, quiet, log, resumable;
	size_t chunk;
	double timeout;
} remote_args;

static int parse_remote(remote_args *a, const char *verb, const char *usage, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },   { "semantic", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },   { "wait", no_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },  { "json", no_argument, NULL, 'j' },
		{ "log", no_argument, NULL, 'l' },            { "resumable", no_argument, NULL, 'R' },
		{ "chunk-size", required_argument, NULL, 'C' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 }
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->chunk = CHUNK_DEFAULT;
	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'S': a->server = optarg; break;
		case 's': a->semantic = optarg; break;
		case 'o': a->output = optarg; break;
		case 'w': a->wait = 1; break;
		case 'j': a->json = 1; break;
		case 'l': a->log = 1; break;
		case 'R': a->resumable = 1; break;
		case 'q': a->quiet = 1; break;
		case 't':
			if (cli_parse_double(&a->timeout, optarg, "--timeout") < 0)
				return CLI_EXIT_USAGE;
			if (!(a->timeout > 0))
				return cli_usage_error(verb, "--timeout must be positive");
			break;
		case 'C':
			if (cli_parse_size(&a->chunk, optarg, "--chunk-size") < 0)
				return CLI_EXIT_USAGE;
			if (a->chunk < 1024 || a->chunk > ((size_t)64 << 20))
				return cli_usage_error(verb, "--chunk-size must be 1024 to 67108864 bytes");
			break;
		case 'h': fputs(usage, stdout); return -1;
		default: return cli_usage_error(verb, "unknown option");
		}
	}
	return 0;
}

/* A learnware id as the API wants it: 8 digits ("42" becomes "00000042"). */
static int normalise_id(char out[9], const char *arg)
{
	size_t len = strlen(arg);

	if (!len || len > 8 || strspn(arg, "0123456789") != len)
		return -1;
	snprintf(out, 9, "%08lu", strtoul(arg, NULL, 10));
	return 0;
}

static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

static void print_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (s)
		puts(s);
	free(s);
}

/* Sleep, cut short by Ctrl-C. */
static void nap(double seconds)
{
	struct timespec ts;

	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (!cli_http_interrupted && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static double monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* --- submit ------------------------------------------------------------------------------ */

static const char submit_usage[] =
	"usage: learnware submit ZIP... [--semantic FILE] [--wait [--timeout S]] [--server URL] [options]\n"
	"\n"
	"Upload learnware packages to a dock's server, which checks them in its\n"
	"sandbox.  Packages up to 8 MiB go in one request; bigger ones by the\n"
	"resumable upload (4 MiB chunks, each retried up to 5 times from where the\n"
	"server has it; the server verifies the whole file's SHA-256).  Prints\n"
	"'ID  STATUS  ZIP' per package; with --wait, 'ID  VERDICT  ZIP' once the\n"
	"check has run, and the check's log unless the learnware is usable.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"  -s, --semantic FILE     semantic specification (JSON) overriding the packages'\n"
	"      --wait              wait for each check's verdict\n"
	"      --timeout S         with --wait: give up after S seconds\n"
	"      --resumable         use the resumable upload whatever the size\n"
	"      --chunk-size BYTES  resumable chunk size (4194304)\n"
	"      --json              one JSON array of the learnwares as the server shows them\n"
	"  -q, --quiet             no progress bar\n"
	"\n"
	"Exit status: 0; 3 when the server refuses a package (duplicate, invalid,\n"
	"too large) or, with --wait, it is not usable; 4 for a missing file; 1 when\n"
	"the server cannot be reached or the check failed to run.\n";

/* Take the learnware out of a 202 {"learnware": ...} answer. */
static json_t *take_learnware(cli_http_response *resp)
{
	json_t *lw = json_object_get(resp->json, "learnware");

	return json_is_object(lw) && json_string_value(json_object_get(lw, "id")) ? json_incref(lw) : NULL;
}

static int put_offset(uint64_t *offset, const cli_http_response *resp, uint64_t size)
{
	json_t *o = json_object_get(resp->json, "offset");

	if (!json_is_integer(o) || json_integer_value(o) < 0 || (uint64_t)json_integer_value(o) > size)
		return -1;
	*offset = (uint64_t)json_integer_value(o);
	return 0;
}

/* The resumable flow: create, PUT chunks (resuming after failures), finish. */
static int upload_resumable(json_t **lw, cli_remote *r, const remote_args *a, const char *zip, uint64_t size,
			    const json_t *semantic)
{
	char sha[65], path[128];
	cli_http_response resp;
	cli_xfer_progress prog;
	json_t *body;
	char *buf = NULL, *upload_id = NULL;
	uint64_t offset = 0;
	int fd = -1, failures = 0, rc, err;

	*lw = NULL;
	memset(&resp, 0, sizeof(resp));
	if ((err = lw_file_sha256(sha, zip)) < 0) {
		fprintf(stderr, "learnware submit: %s: %s\n", zip, lw_error_last()->message);
		return err == LW_ENOTFOUND ? CLI_EXIT_NOTFOUND : CLI_EXIT_IO;
	}
	body = json_pack("{s:I, s:s}", "size", (json_int_t)size, "sha256", sha);
	rc = cli_http_json(&resp, r, "POST", "/api/v1/uploads", body);
	json_decref(body);
	if (rc < 0 || resp.status / 100 != 2) {
		rc = cli_http_report(r, zip, &resp);
		cli_http_response_dispose(&resp);
		return rc;
	}
	if (!json_string_value(json_object_get(resp.json, "id")) ||
	    strlen(json_string_value(json_object_get(resp.json, "id"))) > 64 ||
	    strspn(json_string_value(json_object_get(resp.json, "id")), "0123456789abcdefABCDEF") !=
		    strlen(json_string_value(json_object_get(resp.json, "id")))) {
		fprintf(stderr, "learnware submit: %s: the server's answer has no upload id\n", zip);
		cli_http_response_dispose(&resp);
		return CLI_EXIT_FAILURE;
	}
	upload_id = strdup(json_string_value(json_object_get(resp.json, "id")));
	put_offset(&offset, &resp, size);
	cli_http_response_dispose(&resp);
	snprintf(path, sizeof(path), "/api/v1/uploads/%s", upload_id);
	if ((fd = open(zip, O_RDONLY | O_CLOEXEC)) < 0 || !(buf = malloc(a->chunk))) {
		fprintf(stderr, "learnware submit: %s: %s\n", zip, strerror(errno));
		rc = CLI_EXIT_IO;
		goto done;
	}
	cli_xfer_progress_init(&prog, a->quiet, zip, size);
	rc = CLI_EXIT_OK;
	while (offset < size) {
		size_t n = size - offset < a->chunk ? (size_t)(size - offset) : a->chunk, got = 0;
		int transient;

		while (got < n) {
			ssize_t k = pread(fd, buf + got, n - got, (off_t)(offset + got));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				cli_xfer_progress_end(&prog);
				fprintf(stderr, "learnware submit: %s: %s\n", zip,
					k < 0 ? strerror(errno) : "the file shrank while being sent");
				rc = CLI_EXIT_IO;
				goto done;
			}
			got += (size_t)k;
		}
		prog.base = offset;
		if (cli_http_put_chunk(&resp, r, path, buf, n, offset, &prog) == 0 && resp.status == 200 &&
		    put_offset(&offset, &resp, size) == 0) {
			failures = 0;
			cli_http_response_dispose(&resp);
			cli_xfer_progress_draw(&prog, offset, 0);
			continue;
		}
		/* No answer, a server error, a stale offset or a rate limit: ask where to resume. */
		transient = !resp.status || resp.status >= 500 || resp.status == 409 || resp.status == 429 ||
			    resp.status == 200;
		if (cli_http_interrupted || !transient || ++failures > CHUNK_RETRIES) {
			cli_xfer_progress_end(&prog);
			if (resp.status == 200)
				fprintf(stderr, "learnware submit: %s: the server's answer has no offset\n", zip);
			else
				rc = cli_http_report(r, zip, &resp);
			if (failures > CHUNK_RETRIES)
				fprintf(stderr, "learnware submit: %s: gave up after %d failed tries at byte %" PRIu64 "\n",
					zip, CHUNK_RETRIES, offset);
			if (rc == CLI_EXIT_OK)
				rc = CLI_EXIT_FAILURE;
			cli_http_response_dispose(&resp);
			goto done;
		}
		nap(resp.retry_after > 0 && resp.retry_after < 60 ? (double)resp.retry_after
								  : (double)(1 << (failures - 1)) * 0.5);
		cli_http_response_dispose(&resp);
		if (cli_http_json(&resp, r, "GET", path, NULL) == 0 && resp.status == 200)
			put_offset(&offset, &resp, size);
		cli_http_response_dispose(&resp);
	}
	cli_xfer_progress_end(&prog);
	body = json_object();
	if (semantic)
		json_object_set(body, "semantic", (json_t *)semantic);
	snprintf(path, sizeof(path), "/api/v1/uploads/%s/finish", upload_id);
	rc = cli_http_json(&resp, r, "POST", path, body);
	json_decref(body);
	if (rc < 0 || resp.status / 100 != 2) {
		/* A lost answer may have finished it: leave that to expire; delete what was refused. */
		if (!resp.status) {
			free(upload_id);
			upload_id = NULL;
		}
		rc = cli_http_report(r, zip, &resp);
	} else if (!(*lw = take_learnware(&resp))) {
		fprintf(stderr, "learnware submit: %s: the server's answer has no learnware\n", zip);
		rc = CLI_EXIT_FAILURE;
	} else {
		rc = CLI_EXIT_OK;
		free(upload_id);
		upload_id = NULL;
	}
	cli_http_response_dispose(&resp);
done:
	if (upload_id) { /* do not leave a half upload behind, even after Ctrl-C */
		int interrupted = cli_http_interrupted;

		cli_http_interrupted = 0;
		snprintf(path, sizeof(path), "/api/v1/uploads/%s", upload_id);
		cli_http_json(&resp, r, "DELETE", path, NULL);
		cli_http_response_dispose(&resp);
		cli_http_interrupted = interrupted;
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	free(upload_id);
	return rc;
}

static int upload_multipart(json_t **lw, cli_remote *r, const remote_args *a, const char *zip, uint64_t size,
			    const char *semantic_text)
{
	cli_http_response resp;
	cli_xfer_progress prog;
	int rc;

	*lw = NULL;
	cli_xfer_progress_init(&prog, a->quiet, zip, size);
	rc = cli_http_multipart(&resp, r, "/api/v1/learnwares", zip, semantic_text, &prog);
	cli_xfer_progress_end(&prog);
	if (rc < 0 || resp.status / 100 != 2) {
		rc = cli_http_report(r, zip, &resp);
	} else if (!(*lw = take_learnware(&resp))) {
		fprintf(stderr, "learnware submit: %s: the server's answer has no learnware\n", zip);
		rc = CLI_EXIT_FAILURE;
	} else {
		rc = CLI_EXIT_OK;
	}
	cli_http_response_dispose(&resp);
	return rc;
}

static int finished(const char *status)
{
	return status && (!strcmp(status, "success") || !strcmp(status, "failed"));
}

/* Poll the verification until the check ran; *ver gets its last answer. */
static int wait_check(json_t **ver, cli_remote *r, const remote_args *a, const char *id, const char *zip)
{
	cli_http_response resp;
	char path[64], shown[32] = "";
	double start = monotonic(), pause = 0.25;
	int tty = !a->quiet && isatty(STDERR_FILENO), rc, lost = 0;

	*ver = NULL;
	snprintf(path, sizeof(path), "/api/v1/learnwares/%s/verification", id);
	for (;;) {
		const char *status;

		if (cli_http_json(&resp, r, "GET", path, NULL) < 0 || resp.status != 200) {
			/* A busy or restarting server is worth waiting for a while; anything else is not. */
			if (((resp.status == 0 && !cli_http_interrupted) || resp.status == 429 || resp.status == 503) &&
			    ++lost <= POLL_RETRIES) {
				cli_http_response_dispose(&resp);
				goto again;
			}
			if (tty)
				fprintf(stderr, "\r\033[K");
			rc = cli_http_report(r, zip, &resp);
			cli_http_response_dispose(&resp);
			return rc;
		}
		lost = 0;
		status = jstr(resp.json, "status", NULL);
		if (finished(status)) {
			*ver = json_incref(resp.json);
			cli_http_response_dispose(&resp);
			if (tty && shown[0])
				fprintf(stderr, "\r\033[K");
			return CLI_EXIT_OK;
		}
		if (tty && status && strcmp(status, shown)) {
			fprintf(stderr, "\r\033[K%s: %s %s", zip, id, status);
			snprintf(shown, sizeof(shown), "%s", status);
		}
		cli_http_response_dispose(&resp);
again:
		if (a->timeout > 0 && monotonic() - start > a->timeout) {
			if (tty && shown[0])
				fprintf(stderr, "\r\033[K");
			fprintf(stderr, "learnware submit: %s: %s not checked after %.0f s (status %s)\n", zip, id,
				a->timeout, shown[0] ? shown : "unknown");
			return CLI_EXIT_FAILURE;
		}
		nap(pause);
		if (cli_http_interrupted) {
			if (tty && shown[0])
				fprintf(stderr, "\r\033[K");
			fprintf(stderr, "learnware submit: %s: interrupted while waiting for %s\n", zip, id);
			return CLI_EXIT_CANCEL;
		}
		if ((pause *= 1.5) > 3.0)
			pause = 3.0;
	}
}

/* The semantic file, checked to be a JSON object; both forms are kept. */
static int load_semantic(json_t **obj, char **text, const char *path)
{
	json_error_t jerr;

	*obj = NULL;
	*text = NULL;
	if (!path)
		return 0;
	if (!(*obj = json_load_file(path, 0, &jerr))) {
		fprintf(stderr, "learnware: %s line %d: %s\n", path, jerr.line, jerr.text);
		return jerr.line < 1 && strstr(jerr.text, "unable to open") ? CLI_EXIT_NOTFOUND : CLI_EXIT_INPUT;
	}
	if (!json_is_object(*obj)) {
		fprintf(stderr, "learnware: %s: a semantic specification is a JSON object\n", path);
		json_decref(*obj);
		*obj = NULL;
		return CLI_EXIT_INPUT;
	}
	*text = json_dumps(*obj, JSON_COMPACT);
	return 0;
}

int cmd_submit(int argc, char **argv)
{
	remote_args a;
	cli_remote r;
	json_t *semantic = NULL, *all;
	char *semantic_text = NULL;
	int rc, worst = CLI_EXIT_OK;

	if ((rc = parse_remote(&a, "submit", submit_usage, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (a.output || a.log)
		return cli_usage_error("submit", "-o and --log are not options of submit");
	if (optind >= argc)
		return cli_usage_error("submit", "at least one learnware zip is needed");
	if (a.timeout > 0 && !a.wait)
		return cli_usage_error("submit", "--timeout goes with --wait");
	if ((rc = load_semantic(&semantic, &semantic_text, a.semantic)) != 0)
		return rc;
	if ((rc = cli_remote_open(&r, "submit", a.server, 1)) != 0) {
		json_decref(semantic);
		free(semantic_text);
		return rc;
	}
	r.quiet = a.quiet;
	all = a.json ? json_array() : NULL;
	for (int i = optind; i < argc && !cli_http_interrupted; i++) {
		const char *zip = argv[i];
		json_t *lw = NULL, *ver = NULL;
		struct stat st;

		if (stat(zip, &st) < 0) {
			int e = errno;

			fprintf(stderr, "learnware submit: %s: %s\n", zip, strerror(e));
			rc = e == ENOENT || e == ENOTDIR ? CLI_EXIT_NOTFOUND : CLI_EXIT_IO;
		} else if (!S_ISREG(st.st_mode)) {
			fprintf(stderr, "learnware submit: %s: not a file (pack a folder with 'learnware pack')\n", zip);
			rc = CLI_EXIT_INPUT;
		} else if (a.resumable || (uint64_t)st.st_size > MULTIPART_MAX) {
			rc = upload_resumable(&lw, &r, &a, zip, (uint64_t)st.st_size, semantic);
		} else {
			rc = upload_multipart(&lw, &r, &a, zip, (uint64_t)st.st_size, semantic_text);
		}
		if (rc == CLI_EXIT_OK && a.wait)
			rc = wait_check(&ver, &r, &a, jstr(lw, "id", ""), zip);
		if (lw && !ver) {
			if (all)
				json_array_append(all, lw);
			else if (!a.wait)
				printf("%s  %s  %s\n", jstr(lw, "id", "?"), jstr(lw, "status", "?"), zip);
		} else if (ver) {
			const char *status = jstr(ver, "status", "?"), *verdict = jstr(ver, "verdict", "unchecked");
			const char *log = jstr(ver, "log", NULL);
			int usable = !strcmp(status, "success") && !strcmp(verdict, "usable");

			if (all) {
				json_object_set_new(lw, "status", json_string(status));
				json_object_set_new(lw, "verdict", json_string(verdict));
				json_object_set(lw, "verification", ver);
				json_array_append(all, lw);
			} else {
				printf("%s  %s  %s\n", jstr(lw, "id", "?"), strcmp(status, "failed") ? verdict : "failed",
				       zip);
				fflush(stdout);
				if (!usable && log && log[0]) {
					fprintf(stderr, "check log of %s (%s):\n%s%s", jstr(lw, "id", "?"), zip, log,
						log[strlen(log) - 1] == '\n' ? "" : "\n");
				}
			}
			if (!usable)
				rc = !strcmp(status, "failed") ? CLI_EXIT_FAILURE : CLI_EXIT_INPUT;
		}
		fflush(stdout);
		json_decref(lw);
		json_decref(ver);
		if (rc > worst)
			worst = rc;
	}
	if (cli_http_interrupted && worst < CLI_EXIT_CANCEL)
		worst = CLI_EXIT_CANCEL;
	if (all) {
		print_json(all);
		json_decref(all);
	}
	cli_remote_close(&r);
	json_decref(semantic);
	free(semantic_text);
	return worst;
}

/* --- status ------------------------------------------------------------------------------ */

static const char status_usage[] =
	"usage: learnware status ID... [--log] [--json] [--server URL]\n"
	"\n"
	"A submitted learnware's verification on a dock's server: 'ID  STATUS  VERDICT\n"
	"UPDATED  NAME' (status waiting, queued, processing, success or failed;\n"
	"verdict usable, nonusable, invalid or unchecked).  Learnwares that are not\n"
	"usable are visible only to their owner and admins.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"      --log               also the check's log (owner or admin)\n"
	"      --json              one JSON array (with --log, each has its verification)\n";

int cmd_status(int argc, char **argv)
{
	remote_args a;
	cli_remote r;
	json_t *all;
	int rc, worst = CLI_EXIT_OK, header = 0;

	if ((rc = parse_remote(&a, "status", status_usage, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (a.output || a.semantic || a.wait || a.resumable || a.timeout > 0)
		return cli_usage_error("status", "status takes --log, --json and --server");
	if (optind >= argc)
		return cli_usage_error("status", "at least one learnware ID is needed");
	for (int i = optind; i < argc; i++) {
		char id[9];

		if (normalise_id(id, argv[i]) < 0)
			return cli_usage_error("status", "'%s' is not a learnware id (8 digits)", argv[i]);
	}
	if ((rc = cli_remote_open(&r, "status", a.server, 0)) != 0)
		return rc;
	all = a.json ? json_array() : NULL;
	for (int i = optind; i < argc && !cli_http_interrupted; i++) {
		cli_http_response resp, vresp;
		char id[9], path[64], when[32];
		json_t *lw = NULL;

		normalise_id(id, argv[i]);
		snprintf(path, sizeof(path), "/api/v1/learnwares/%s", id);
		memset(&vresp, 0, sizeof(vresp));
		if (cli_http_json(&resp, &r, "GET", path, NULL) < 0 || resp.status != 200 ||
		    !json_is_object(resp.json)) {
			rc = resp.status == 200 ? CLI_EXIT_FAILURE : cli_http_report(&r, id, &resp);
			if (resp.status == 200)
				fprintf(stderr, "learnware status: %s: the server's answer is not a learnware\n", id);
		} else {
			lw = json_incref(resp.json);
			rc = CLI_EXIT_OK;
			if (a.log) {
				strcat(path, "/verification");
				if (cli_http_json(&vresp, &r, "GET", path, NULL) < 0 || vresp.status != 200)
					rc = cli_http_report(&r, id, &vresp);
			}
		}
		if (lw && all) {
			if (vresp.json)
				json_object_set(lw, "verification", vresp.json);
			json_array_append(all, lw);
		} else if (lw) {
			const char *log = jstr(vresp.json, "log", NULL);

			if (!header++)
				printf("%-8s  %-10s  %-9s  %-20s  %s\n", "ID", "STATUS", "VERDICT", "UPDATED", "NAME");
			cli_format_time(when, sizeof(when), json_integer_value(json_object_get(lw, "updated")));
			printf("%-8s  %-10s  %-9s  %-20s  %s\n", jstr(lw, "id", id), jstr(lw, "status", "?"),
			       jstr(lw, "verdict", "?"), when, jstr(lw, "name", ""));
			if (a.log && vresp.status == 200) {
				if (log && log[0])
					printf("check log:\n%s%s", log, log[strlen(log) - 1] == '\n' ? "" : "\n");
				else
					printf("check log: (none yet)\n");
			}
		}
		json_decref(lw);
		cli_http_response_dispose(&resp);
		cli_http_response_dispose(&vresp);
		if (rc > worst)
			worst = rc;
	}
	if (all) {
		print_json(all);
		json_decref(all);
	}
	if (cli_http_interrupted && worst < CLI_EXIT_CANCEL)
		worst = CLI_EXIT_CANCEL;
	cli_remote_close(&r);
	return worst;
}

/* --- download ------------------------------------------------------------------------------ */

static const char download_usage[] =
	"usage: learnware download ID... [-o FILE|DIR] [--server URL] [-q]\n"
	"\n"
	"Download learnware packages from a dock's server into learnware-ID.zip\n"
	"(in the current folder, or in DIR; one ID may go to FILE).  Each file is\n"
	"written beside its target and renamed into place once its SHA-256 matches\n"
	"the server's record, so a failed download leaves nothing behind.\n"
	"\n"
	"      --server URL        the server (default $LEARNWARE_SERVER, else the saved login's)\n"
	"  -o, --output FILE|DIR   where to write (several IDs: a folder, created if missing)\n"
	"  -q, --quiet             no progress bar\n";

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int download_one(cli_remote *r, const remote_args *a, const char *id, const char *target)
{
	cli_http_response resp;
	cli_xfer_progress prog;
	char *tmp = NULL, path[64], sha[65], expect[65] = "";
	uint64_t size = 0;
	mode_t mask;
	FILE *fp = NULL;
	int fd, rc, ok;

	/* The record first: a quick 404, the size for the bar, the hash to check. */
	snprintf(path, sizeof(path), "/api/v1/learnwares/%s", id);
	if (cli_http_json(&resp, r, "GET", path, NULL) < 0 || resp.status != 200) {
		rc = cli_http_report(r, id, &resp);
		cli_http_response_dispose(&resp);
		return rc;
	}
	snprintf(expect, sizeof(expect), "%s", jstr(resp.json, "sha256", ""));
	if (json_integer_value(json_object_get(resp.json, "size")) > 0)
		size = (uint64_t)json_integer_value(json_object_get(resp.json, "size"));
	cli_http_response_dispose(&resp);

	if (!(tmp = malloc(strlen(target) + 16))) {
		fprintf(stderr, "learnware download: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	sprintf(tmp, "%s.partXXXXXX", target);
	if ((fd = mkstemp(tmp)) < 0 || !(fp = fdopen(fd, "wb"))) {
		fprintf(stderr, "learnware download: cannot write %s: %s\n", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		free(tmp);
		return CLI_EXIT_IO;
	}
	mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	cli_xfer_progress_init(&prog, a->quiet, target, size);
	snprintf(path, sizeof(path), "/api/v1/learnwares/%s/file", id);
	rc = cli_http_download(&resp, r, path, fp, &prog);
	cli_xfer_progress_end(&prog);
	ok = fflush(fp) == 0 && fsync(fd) == 0;
	if (fclose(fp) != 0)
		ok = 0;
	if (rc < 0 || resp.status != 200) {
		rc = cli_http_report(r, id, &resp);
	} else if (!ok) {
		fprintf(stderr, "learnware download: cannot write %s: %s\n", tmp, strerror(errno));
		rc = CLI_EXIT_IO;
	} else if (lw_file_sha256(sha, tmp) < 0) {
		fprintf(stderr, "learnware download: %s: %s\n", tmp, lw_error_last()->message);
		rc = CLI_EXIT_IO;
	} else if (expect[0] && strcmp(sha, expect)) {
		fprintf(stderr, "learnware download: %s: the file's SHA-256 %.12s... is not the server's %.12s...\n",
			id, sha, expect);
		rc = CLI_EXIT_FAILURE;
	} else if (rename(tmp, target) < 0) {
		fprintf(stderr, "learnware download: cannot write %s: %s\n", target, strerror(errno));
		rc = CLI_EXIT_IO;
	} else {
		struct stat st;

		stat(target, &st);
		printf("%s  %s  %lld bytes\n", id, target, (long long)st.st_size);
		rc = CLI_EXIT_OK;
	}
	if (rc != CLI_EXIT_OK)
		unlink(tmp);
	cli_http_response_dispose(&resp);
	free(tmp);
	return rc;
}

int cmd_download(int argc, char **argv)
{
	remote_args a;
	cli_remote r;
	int rc, worst = CLI_EXIT_OK, many, to_dir;

	if ((rc = parse_remote(&a, "download", download_usage, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (a.semantic || a.wait || a.resumable || a.timeout > 0 || a.log || a.json)
		return cli_usage_error("download", "download takes -o, --server and -q");
	if (optind >= argc)
		return cli_usage_error("download", "at least one learnware ID is needed");
	for (int i = optind; i < argc; i++) {
		char id[9];

		if (normalise_id(id, argv[i]) < 0)
			return cli_usage_error("download", "'%s' is not a learnware id (8 digits)", argv[i]);
	}
	many = argc - optind > 1;
	to_dir = a.output && (many || is_dir(a.output));
	if (to_dir && !is_dir(a.output) && mkdir(a.output, 0777) < 0) {
		fprintf(stderr, "learnware download: cannot create %s: %s\n", a.output, strerror(errno));
		return CLI_EXIT_IO;
	}
	if ((rc = cli_remote_open(&r, "download", a.server, 0)) != 0)
		return rc;
	r.quiet = a.quiet;
	for (int i = optind; i < argc && !cli_http_interrupted; i++) {
		char id[9], *target;
		size_t n;

		normalise_id(id, argv[i]);
		n = (a.output ? strlen(a.output) : 0) + 32;
		if (!(target = malloc(n))) {
			worst = CLI_EXIT_FAILURE;
			break;
		}
		if (to_dir)
			snprintf(target, n, "%s/learnware-%s.zip", a.output, id);
		else if (a.output)
			snprintf(target, n, "%s", a.output);
		else
			snprintf(target, n, "learnware-%s.zip", id);
		rc = download_one(&r, &a, id, target);
		free(target);
		if (rc > worst)
			worst = rc;
	}
	if (cli_http_interrupted && worst < CLI_EXIT_CANCEL)
		worst = CLI_EXIT_CANCEL;
	cli_remote_close(&r);
	return worst;
}
