/*
 * learnware search: find learnwares for a user's task in a dock, by their
 * semantic specification and the RKME of their data.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http.h"
#include "lw/dock.h"
#include "describe.h"

static const char search_usage[] =
	"usage: learnware search [--dock DIR] [--semantic USER.json] [--rkme USER_RKME.json] [options]\n"
	"\n"
	"Search the dock's usable learnwares as the reference market does: the\n"
	"semantic filter (Class values must match, Tag values intersect, the Name\n"
	"found in names and descriptions, fuzzily when nothing matches exactly),\n"
	"then, with the user's RKME, the ranking by MMD and a recommended mixture\n"
	"with its weights.  Without --rkme only the semantic stage runs.\n"
	"\n"
	"  -d, --dock DIR|URI      the dock (default $LEARNWARE_DOCK)\n"
	"      --files-root DIR    files folder of a postgresql:// dock\n"
	"  -s, --semantic FILE     the user's semantic specification (JSON)\n"
	"  -r, --rkme FILE         the user's statistical specification: a table, text or\n"
	"                          image RKME ('learnware spec table|text|image'), told\n"
	"                          by its \"type\"; text and image ones search learnwares\n"
	"                          of that type only\n"
	"      --name TEXT         look for TEXT in names and descriptions (sets Name)\n"
	"      --input-desc FILE   what each column of your table means (sets Input, so\n"
	"                          learnwares of other feature spaces are searched too:\n"
	"                          docs/hetero.md): one line per column, a JSON array,\n"
	"                          or a JSON object keyed by index or column name\n"
	"      --header-from DATA  the CSV whose header orders the names in --input-desc\n"
	"      --id TEXT           only learnwares whose id contains TEXT\n"
	"  -n, --max N             at most N single results (default 10; 0: all)\n"
	"      --mixture M         greedy (default), auto or none\n"
	"      --max-search-num N  largest mixture; its candidates are the top N^2 (5)\n"
	"      --exact             rank every candidate exactly, never via the index\n"
	"      --json              one JSON object\n"
	"  -q, --quiet             no progress line\n"
	"\n"
	"On a dock's server instead (POST /api/v1/search): --server URL, else\n"
	"$LEARNWARE_SERVER, else, when no dock is given, the saved login's server\n"
	"('learnware login').  The same table and --json; -n is the page size\n"
	"(at most 100), --id, --mixture, --max-search-num and --exact are local only.\n"
	"      --server URL        search this server's usable learnwares\n"
	"      --limit N           results per page (as -n; default 10)\n"
	"      --page P            the page of results (from 1)\n";

typedef struct {
	const char *dock, *files_root, *semantic, *rkme, *name, *input_desc, *header_from;
	int json, quiet;
	lw_dock_query q;
} search_args;

static int parse(search_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dock", required_argument, NULL, 'd' },    { "files-root", required_argument, NULL, 'F' },
		{ "semantic", required_argument, NULL, 's' }, { "rkme", required_argument, NULL, 'r' },
		{ "name", required_argument, NULL, 'N' },     { "id", required_argument, NULL, 'I' },
		{ "max", required_argument, NULL, 'n' },      { "mixture", required_argument, NULL, 'M' },
		{ "max-search-num", required_argument, NULL, 'S' },
		{ "exact", no_argument, NULL, 'e' },          { "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ "input-desc", required_argument, NULL, 'D' }, { "header-from", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	a->dock = getenv("LEARNWARE_DOCK");
	a->q.max_results = 10;
	while ((c = getopt_long(argc, argv, "d:s:r:n:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'd': a->dock = optarg; break;
		case 'F': a->files_root = optarg; break;
		case 's': a->semantic = optarg; break;
		case 'r': a->rkme = optarg; break;
		case 'N': a->name = optarg; break;
		case 'D': a->input_desc = optarg; break;
		case 'H': a->header_from = optarg; break;
		case 'I': a->q.id = optarg; break;
		case 'n': bad = cli_parse_size(&a->q.max_results, optarg, "--max"); break;
		case 'S': bad = cli_parse_size(&a->q.stat.max_search_num, optarg, "--max-search-num"); break;
		case 'e': a->q.exact = 1; break;
		case 'j': a->json = 1; break;
		case 'q': a->quiet = 1; break;
		case 'M':
			if (!strcmp(optarg, "greedy"))
				a->q.stat.method = LW_MIXTURE_GREEDY;
			else if (!strcmp(optarg, "auto"))
				a->q.stat.method = LW_MIXTURE_AUTO;
			else if (!strcmp(optarg, "none"))
				a->q.stat.method = LW_MIXTURE_NONE;
			else
				return cli_usage_error("search", "--mixture is greedy, auto or none, not '%s'",
						       optarg);
			break;
		case 'h': fputs(search_usage, stdout); return -1;
		default: return cli_usage_error("search", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("search", "unexpected argument '%s'", argv[optind]);
	if (!a->dock)
		return cli_usage_error("search", "no dock: give --dock DIR or set LEARNWARE_DOCK (or --server URL)");
	if (a->q.stat.max_search_num < 1 || a->q.stat.max_search_num > 100)
		return cli_usage_error("search", "--max-search-num must be 1 to 100");
	return 0;
}

/* The user's semantic JSON text (NULL when none). */
static int user_semantic(char **out, const search_args *a, size_t dim)
{
	json_t *root;
	int rc = cli_search_semantic(&root, a->semantic, a->name, a->input_desc, a->header_from, dim);

	*out = NULL;
	if (rc == 0 && root) {
		*out = json_dumps(root, JSON_COMPACT);
		json_decref(root);
	}
	return rc;
}

static json_t *hit_json(const lw_dock_hit *h, int statistical)
{
	json_t *o = json_pack("{s:s, s:s, s:f}", "id", h->id, "name", h->name ? h->name : "", "score",
			      h->score);

	if (statistical && isfinite(h->mmd2))
		json_object_set_new(o, "mmd2", json_real(h->mmd2));
	return o;
}

static json_t *result_json(const lw_dock_result *r)
{
	json_t *singles = json_array(), *root;

	for (size_t i = 0; i < r->count; i++)
		json_array_append_new(singles, hit_json(&r->hits[i], r->statistical));
	root = json_pack("{s:s, s:I, s:b, s:b, s:o}", "kind", r->statistical ? "statistical" : "semantic",
			 "semantic_matches", (json_int_t)r->semantic_matches, "fuzzy", r->fuzzy, "index",
			 r->used_index, "single", singles);
	if (r->mixture_count) {
		json_t *members = json_array();

		for (size_t i = 0; i < r->mixture_count; i++) {
			json_t *m = hit_json(&r->mixture[i], 1);

			json_object_del(m, "score");
			json_object_set_new(m, "weight", json_real(r->weights[i]));
			json_array_append_new(members, m);
		}
		json_object_set_new(root, "mixture",
				    json_pack("{s:o, s:f, s:f}", "learnwares", members, "score",
					      r->mixture_score, "mmd2", r->mixture_mmd2));
	} else if (r->statistical) {
		json_object_set_new(root, "mixture", json_null());
	}
	if (r->statistical)
		json_object_set_new(root, "candidates", json_integer((json_int_t)r->candidates));
	if (r->hetero) {
		json_t *h = result_json(r->hetero);

		json_object_set_new(h, "map_id", json_string(r->hetero_map));
		json_object_set_new(root, "heterogeneous", h);
	} else if (r->hetero_why) {
		json_object_set_new(root, "heterogeneous", json_null());
		json_object_set_new(root, "heterogeneous_why", json_string(r->hetero_why));
	}
	return root;
}

void cli_search_print_json(const lw_dock_result *r)
{
	json_t *root = result_json(r);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (text)
		puts(text);
	free(text);
	json_decref(root);
}

static void print_ranked(const lw_dock_result *r)
{
	if (!r->statistical) {
		printf("%zu learnwares match%s\n", r->semantic_matches,
		       r->fuzzy ? " (fuzzy name match)" : "");
		if (r->count)
			printf("%-4s  %-8s  %-5s  %s\n", "RANK", "ID", "SCORE", "NAME");
		for (size_t i = 0; i < r->count; i++)
			printf("%-4zu  %-8s  %5.3f  %s\n", i + 1, r->hits[i].id, r->hits[i].score,
			       r->hits[i].name);
		return;
	}
	if (!r->count) {
		printf("no learnware has a specification comparable with yours (same type and dimension)\n");
		return;
	}
	printf("%-4s  %-8s  %-5s  %-10s  %s\n", "RANK", "ID", "SCORE", "MMD^2", "NAME");
	for (size_t i = 0; i < r->count; i++)
		printf("%-4zu  %-8s  %5.3f  %-10.4g  %s\n", i + 1, r->hits[i].id, r->hits[i].score,
		       r->hits[i].mmd2, r->hits[i].name);
	if (!r->mixture_count) {
		printf("no mixture does better than the best single learnware\n");
		return;
	}
	printf("mixture of %zu (score %.3f, MMD^2 %.4g):\n", r->mixture_count, r->mixture_score,
	       r->mixture_mmd2);
	printf("      %-8s  %-6s  %-10s  %s\n", "ID", "WEIGHT", "MMD^2", "NAME");
	for (size_t i = 0; i < r->mixture_count; i++)
		printf("      %-8s  %6.3f  %-10.4g  %s\n", r->mixture[i].id, r->weights[i],
		       r->mixture[i].mmd2, r->mixture[i].name);
}

void cli_search_print_table(const lw_dock_result *r)
{
	if (r->statistical)
		printf("%zu learnwares pass the semantic filter%s; %zu ranked by MMD%s\n", r->semantic_matches,
		       r->fuzzy ? " (fuzzy name match)" : "", r->candidates,
		       r->used_index ? " after the sketch index" : "");
	print_ranked(r);
	if (r->hetero) {
		printf("\nheterogeneous search (map %s): %zu learnwares of other feature spaces ranked "
		       "in the shared space\n", r->hetero_map, r->hetero->candidates);
		print_ranked(r->hetero);
	} else if (r->hetero_why && !strncmp(r->hetero_why, "the dock has no", 15)) {
		printf("\nno heterogeneous search: %s\n", r->hetero_why);
	}
}

int cmd_search(int argc, char **argv)
{
	const lw_dock_query q0 = LW_DOCK_QUERY_INIT;
	lw_dock_options o = LW_DOCK_OPTIONS_INIT;
	search_args a;
	lw_dock_result r;
	lw_dock_user_spec user = { NULL, NULL, NULL };
	lw_dock *d = NULL;
	cli_progress prog;
	char *sem = NULL;
	int rc, err;

	/* A server instead of a dock (cmd_remote_search.c): the same options and output. */
	if (cli_search_wants_server(argc, argv)) {
		if ((rc = cmd_search_remote(argc, argv)) >= 0)
			return rc;
		fputs(search_usage, stdout);
		return CLI_EXIT_OK;
	}
	memset(&a, 0, sizeof(a));
	a.q = q0;
	if ((rc = parse(&a, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (a.rkme && (err = lw_dock_user_spec_load(&user, a.rkme)) < 0)
		return cli_fail(err);
	if ((rc = user_semantic(&sem, &a, user.rkme ? lw_rkme_dim(user.rkme) : 0)) != 0) {
		lw_dock_user_spec_dispose(&user);
		return rc;
	}
	cli_progress_init(&prog, a.quiet);
	o.files_root = a.files_root;
	o.progress = cli_progress_cb;
	o.payload = &prog;
	a.q.semantic_json = sem;
	lw_dock_query_set_spec(&a.q, &user);
	err = lw_dock_open(&d, a.dock, &o);
	if (err == 0)
		err = lw_dock_search(&r, d, &a.q);
	cli_progress_end(&prog);
	if (err < 0) {
		rc = cli_fail(err);
	} else {
		if (a.json)
			cli_search_print_json(&r);
		else
			cli_search_print_table(&r);
		lw_dock_result_dispose(&r);
		rc = CLI_EXIT_OK;
	}
	lw_dock_free(d);
	lw_dock_user_spec_dispose(&user);
	free(sem);
	return rc;
}
