/*
 * learnware: one program, one verb per step of the learnware paradigm.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One row per verb: a helper adds its verb here and its cmd_ in cli.h. */
static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} verbs[] = {
	{ "spec", cmd_spec },
	{ "pack", cmd_pack }, { "unpack", cmd_unpack },
	{ "semantic", cmd_semantic },
	{ "model-serve", cmd_model_serve },
	{ "check", cmd_check },
	{ "dock", cmd_dock }, { "search", cmd_search },
	{ "reuse", cmd_reuse }, { "fit", cmd_fit },
	{ "train", cmd_train }, { "predict", cmd_predict },
	{ "register", cmd_register }, { "login", cmd_login }, { "logout", cmd_logout },
	{ "tokens", cmd_tokens }, { "submit", cmd_submit }, { "status", cmd_status },
	{ "download", cmd_download },
	{ "serve", cmd_serve }, { "worker", cmd_worker }, { "admin", cmd_admin },
};

static const char usage[] =
	"usage: learnware <verb> [options]\n"
	"\n"
	"Verbs:\n"
	"  spec     generate and inspect statistical specifications (table, image, text RKME)\n"
	"  semantic check, write and list semantic specifications (taxonomy)\n"
	"  train    fit a linear, logistic, MLP or XGBoost model to a table, images or texts\n"
	"  predict  run a model file on a table, images or texts, predictions as CSV\n"
	"  check    check a learnware zip or folder as the dock will (sandboxed)\n"
	"  pack     pack a learnware folder into a zip (checked, reproducible)\n"
	"  unpack   extract a learnware zip safely and show its manifest\n"
	"  dock     keep a dock: add, list, show, update, delete, export, import, hetero\n"
	"  search   find learnwares for a task: semantic filter, MMD ranking, mixture,\n"
	"           and learnwares of other feature spaces (--input-desc)\n"
	"  reuse    predict with learnwares: average, job selector, pruning, augmentation,\n"
	"           across feature spaces (--input-desc)\n"
	"  fit      fit a reuser and save it, to predict later with 'reuse --reuser'\n"
	"\n"
	"The dock as a service:\n"
	"  serve    the HTTP API, the web UI and background verification\n"
	"  worker   verification workers for a served dock (other processes or machines)\n"
	"  admin    create an admin account ('admin create --email E')\n"
	"\n"
	"Client of a dock's server ('learnware search --server URL' searches one):\n"
	"  register create an account on a server\n"
	"  login    log in and keep an API token; logout revokes it\n"
	"  submit   upload learnware zips for the server to check (--wait for the verdict)\n"
	"  status   a submitted learnware's status, verdict and check log\n"
	"  download fetch learnware zips from a server\n"
	"  tokens   list, create and revoke API tokens\n"
	"  help     show this text\n"
	"\n"
	"Run 'learnware <verb> --help' for a verb's options.\n"
	"\n"
	"Exit codes: 0 success, 1 computation failed, 2 bad command line,\n"
	"3 malformed or unusable input, 4 file/column/key not found,\n"
	"5 read or write refused by the system, 130 interrupted.\n";

int main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb || !strcmp(verb, "help") || !strcmp(verb, "--help") || !strcmp(verb, "-h")) {
		fputs(usage, verb ? stdout : stderr);
		return verb ? CLI_EXIT_OK : CLI_EXIT_USAGE;
	}
	if (!strcmp(verb, "--version") || !strcmp(verb, "version")) {
		printf("learnware %s\n", LW_VERSION);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1);
	fprintf(stderr, "learnware: unknown verb '%s'\n%s", verb, usage);
	return CLI_EXIT_USAGE;
}
