/*
 * learnware search against a dock's server (POST /api/v1/search): the same
 * options, table and --json shape as the local search in cmd_search.c.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "describe.h"
#include "http.h"
#include "lw/dock.h"

/* Search talks to a server with --server, else $LEARNWARE_SERVER, else (no dock given) the saved login. */
int cli_search_wants_server(int argc, char **argv)
{
	const char *env;
	cli_credentials c;
	int dock = 0;

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--server") || !strncmp(argv[i], "--server=", 9))
			return 1;
		if (!strcmp(argv[i], "--dock") || !strncmp(argv[i], "--dock=", 7) || !strncmp(argv[i], "-d", 2))
			dock = 1;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 0;
	}
	if (dock)
		return 0;
	if ((env = getenv("LEARNWARE_SERVER")) && env[0])
		return 1;
	if ((env = getenv("LEARNWARE_DOCK")) && env[0])
		return 0;
	if (cli_credentials_load(&c) == 0) {
		cli_credentials_dispose(&c);
		return 1;
	}
	return 0;
}

typedef struct {
	const char *server, *semantic, *rkme, *name, *input_desc, *header_from;
	size_t limit, page;
	int json, quiet;
} remote_search_args;

static int parse(remote_search_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 'S' },   { "semantic", required_argument, NULL, 's' },
		{ "rkme", required_argument, NULL, 'r' },     { "name", required_argument, NULL, 'N' },
		{ "max", required_argument, NULL, 'n' },      { "limit", required_argument, NULL, 'n' },
		{ "page", required_argument, NULL, 'P' },     { "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ "input-desc", required_argument, NULL, 'D' }, { "header-from", required_argument, NULL, 'H' },
		/* local-only options, refused with a reason */
		{ "dock", required_argument, NULL, 'd' },     { "files-root", required_argument, NULL, 'X' },
		{ "id", required_argument, NULL, 'X' },       { "mixture", required_argument, NULL, 'X' },
		{ "max-search-num", required_argument, NULL, 'X' }, { "exact", no_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 }
	};
	int c, idx = 0;

	a->limit = 10;
	a->page = 1;
	while ((c = getopt_long(argc, argv, "d:s:r:n:qh", longopts, &idx)) != -1) {
		switch (c) {
		case 'S': a->server = optarg; break;
		case 's': a->semantic = optarg; break;
		case 'r': a->rkme = optarg; break;
		case 'N': a->name = optarg; break;
		case 'D': a->input_desc = optarg; break;
		case 'H': a->header_from = optarg; break;
		case 'j': a->json = 1; break;
		case 'q': a->quiet = 1; break;
		case 'n':
			if (cli_parse_size(&a->limit, optarg, "--limit") < 0)
				return CLI_EXIT_USAGE;
			if (a->limit == 0 || a->limit > 100)
				a->limit = 100; /* the API's largest page */
			break;
		case 'P':
			if (cli_parse_size(&a->page, optarg, "--page") < 0)
				return CLI_EXIT_USAGE;
			if (a->page < 1)
				return cli_usage_error("search", "--page counts from 1");
			break;
		case 'd':
			return cli_usage_error("search", "--dock and --server exclude each other");
		case 'X':
			return cli_usage_error("search", "--%s searches a local dock only, not a server",
					       longopts[idx].name);
		case 'h': return -1; /* cmd_search prints the help */
		default: return cli_usage_error("search", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("search", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The user's specification (any type): checked with the library (its messages), sent as the file's JSON. */
static int user_rkme(json_t **out, size_t *table_dim, const char *path)
{
	lw_dock_user_spec spec;
	json_error_t jerr;
	int err;

	*out = NULL;
	*table_dim = 0;
	if (!path)
		return 0;
	if ((err = lw_dock_user_spec_load(&spec, path)) < 0)
		return cli_fail(err);
	*table_dim = spec.rkme ? lw_rkme_dim(spec.rkme) : 0;
	lw_dock_user_spec_dispose(&spec);
	if (!(*out = json_load_file(path, 0, &jerr))) {
		fprintf(stderr, "learnware: %s line %d: %s\n", path, jerr.line, jerr.text);
		return CLI_EXIT_INPUT;
	}
	return 0;
}

static double num(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fill_hit(lw_dock_hit *h, const json_t *item)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	const char *name = json_string_value(json_object_get(item, "name"));

	snprintf(h->id, sizeof(h->id), "%s", id ? id : "?");
	h->name = (char *)(name ? name : ""); /* borrowed from the answer */
	h->score = num(item, "score");
	h->mmd2 = num(item, "mmd2");
}

static int to_result(lw_dock_result *r, size_t *total, const json_t *ans);

/* The result's arrays (its strings are borrowed from the answer). */
static void result_free(lw_dock_result *r)
{
	free(r->hits);
	free(r->mixture);
	free(r->weights);
	if (r->hetero) {
		result_free(r->hetero);
		free(r->hetero);
	}
}

/* The answer's "heterogeneous" object (or why it did not run), as the local search reports it. */
static int hetero_result(lw_dock_result *r, const json_t *ans)
{
	const json_t *h = json_object_get(ans, "heterogeneous");
	const char *map = json_string_value(json_object_get(h, "map_id"));
	size_t ignored;

	r->hetero_why = json_string_value(json_object_get(ans, "heterogeneous_why"));
	if (!json_is_object(h))
		return 0;
	if (!(r->hetero = calloc(1, sizeof(*r->hetero))))
		return -1;
	snprintf(r->hetero_map, sizeof(r->hetero_map), "%s", map ? map : "");
	return to_result(r->hetero, &ignored, h);
}

/* The server's answer as the local search's result (strings borrowed from ans). */
static int to_result(lw_dock_result *r, size_t *total, const json_t *ans)
{
	const json_t *items = json_object_get(ans, "items"), *mix = json_object_get(ans, "mixture");
	const json_t *members = json_object_get(mix, "items");
	const char *kind;
	json_t *it;
	size_t i;

	memset(r, 0, sizeof(*r));
	if (!json_is_array(items))
		return -1;
	kind = json_string_value(json_object_get(ans, "kind"));
	r->statistical = kind && !strcmp(kind, "statistical");
	r->count = json_array_size(items);
	if (r->count && !(r->hits = calloc(r->count, sizeof(*r->hits))))
		return -1;
	json_array_foreach(items, i, it)
		fill_hit(&r->hits[i], it);
	if (json_is_array(members) && json_array_size(members)) {
		r->mixture_count = json_array_size(members);
		r->mixture = calloc(r->mixture_count, sizeof(*r->mixture));
		r->weights = calloc(r->mixture_count, sizeof(*r->weights));
		if (!r->mixture || !r->weights)
			return -1;
		json_array_foreach(members, i, it) {
			fill_hit(&r->mixture[i], it);
			r->weights[i] = num(it, "weight");
		}
		r->mixture_score = num(mix, "score");
		r->mixture_mmd2 = num(mix, "mmd2");
	}
	r->candidates = (size_t)json_integer_value(json_object_get(ans, "candidates"));
	/* "total" counts the results; what passed the semantic filter is
	 * "semantic_matches" when the server says, else at least what was ranked. */
	*total = (size_t)json_integer_value(json_object_get(ans, "total"));
	if (json_is_integer(json_object_get(ans, "semantic_matches")))
		r->semantic_matches = (size_t)json_integer_value(json_object_get(ans, "semantic_matches"));
	else
		r->semantic_matches = r->statistical && r->candidates > *total ? r->candidates : *total;
	r->fuzzy = json_is_true(json_object_get(ans, "fuzzy"));
	r->used_index = json_is_true(json_object_get(ans, "index"));
	return hetero_result(r, ans);
}

int cmd_search_remote(int argc, char **argv)
{
	remote_search_args a;
	cli_http_response resp;
	lw_dock_result res;
	cli_remote r;
	json_t *semantic = NULL, *rkme = NULL, *body;
	size_t total = 0, dim = 0;
	int rc;

	memset(&a, 0, sizeof(a));
	if ((rc = parse(&a, argc, argv)) != 0)
		return rc; /* -1: --help, shown by the caller */
	if ((rc = user_rkme(&rkme, &dim, a.rkme)) != 0)
		return rc;
	if ((rc = cli_search_semantic(&semantic, a.semantic, a.name, a.input_desc, a.header_from, dim)) != 0) {
		json_decref(rkme);
		return rc;
	}
	if ((rc = cli_remote_open(&r, "search", a.server, 0)) != 0) {
		json_decref(semantic);
		json_decref(rkme);
		return rc;
	}
	body = json_pack("{s:I, s:I}", "page", (json_int_t)a.page, "limit", (json_int_t)a.limit);
	if (semantic)
		json_object_set_new(body, "semantic", semantic);
	if (rkme)
		json_object_set_new(body, "rkme", rkme);
	if (cli_http_json(&resp, &r, "POST", "/api/v1/search", body) < 0 || resp.status != 200) {
		rc = cli_http_report(&r, NULL, &resp);
	} else if (to_result(&res, &total, resp.json) < 0) {
		fprintf(stderr, "learnware search: the server's answer is not a search result\n");
		rc = CLI_EXIT_FAILURE;
		result_free(&res);
	} else {
		size_t first = (a.page - 1) * a.limit;

		if (a.json) {
			cli_search_print_json(&res);
		} else {
			cli_search_print_table(&res);
			if (res.count && first + res.count < total)
				printf("results %zu-%zu of %zu; --page %zu for more\n", first + 1, first + res.count,
				       total, a.page + 1);
		}
		result_free(&res);
		rc = CLI_EXIT_OK;
	}
	json_decref(body);
	cli_http_response_dispose(&resp);
	cli_remote_close(&r);
	return rc;
}
