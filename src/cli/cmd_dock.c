/*
 * learnware dock: the organiser on the command line (init, add, list,
 * show, update, delete, download, export, import, verify, reindex).
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "lw/dock.h"

static const char dock_usage[] =
	"usage: learnware dock COMMAND [options] [ARGS]\n"
	"\n"
	"Keep a dock of learnwares: every package is checked in the sandbox before\n"
	"it is stored, and only usable learnwares are searched ('learnware search').\n"
	"The dock is a folder (SQLite and files, the default) or a postgresql:// URI\n"
	"with --files-root; give it with --dock or $LEARNWARE_DOCK.\n"
	"\n"
	"Commands:\n"
	"  init DIR                 create an empty dock\n"
	"  add ZIP...               check and store learnwares (invalid ones are refused;\n"
	"                           the same content twice is refused)\n"
	"  list                     usable learnwares (--all: every one)\n"
	"  show ID                  one learnware: record, semantic specification, check log\n"
	"  update ID                --semantic FILE: new semantic specification (status kept);\n"
	"                           --zip FILE: new package (checked again)\n"
	"  delete ID...             remove learnwares; their ids are never reused\n"
	"  download ID -o FILE      copy a learnware's package out of the dock\n"
	"  export -o FILE           the whole dock as one zip\n"
	"  import FILE              add every learnware of an export (each checked again)\n"
	"  verify                   check learnwares whose check never finished\n"
	"  reindex                  rebuild the search index from the store\n"
	"  hetero [train]           the heterogeneous map: its state, or train one now\n"
	"                           (add and import train it when due: docs/hetero.md)\n"
	"\n"
	"Options:\n"
	"  -d, --dock DIR|URI       the dock (default $LEARNWARE_DOCK)\n"
	"      --files-root DIR     files folder of a postgresql:// dock\n"
	"      --semantic FILE      semantic specification (add: overrides the package's)\n"
	"      --owner NAME         owner recorded with added learnwares\n"
	"      --zip FILE           new package (update)\n"
	"  -o, --output FILE        where download and export write\n"
	"      --all                list every learnware, not only usable ones\n"
	"      --json               JSON output (list, show, add, hetero)\n"
	"      --no-hetero          add, import: do not train the heterogeneous map even\n"
	"                           when due (train later with 'dock hetero train')\n"
	"      --hetero-steps N     training steps of a heterogeneous map (800)\n"
	"      --timeout S --memory MB --cpu S   limits of the model checks (30, 2048, 120)\n"
	"  -q, --quiet              no progress, no check logs\n";

typedef struct {
	const char *dock, *files_root, *semantic, *owner, *zip, *output;
	int all, json, quiet, no_hetero;
	lw_dock_options o;
	lw_hetero_options ho;
	char self[4096];
} dock_args;

static int parse(dock_args *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dock", required_argument, NULL, 'd' },   { "files-root", required_argument, NULL, 'F' },
		{ "semantic", required_argument, NULL, 's' }, { "owner", required_argument, NULL, 'O' },
		{ "zip", required_argument, NULL, 'z' },     { "output", required_argument, NULL, 'o' },
		{ "all", no_argument, NULL, 'a' },           { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "memory", required_argument, NULL, 'm' },
		{ "cpu", required_argument, NULL, 'c' },     { "quiet", no_argument, NULL, 'q' },
		{ "no-hetero", no_argument, NULL, 'H' },     { "hetero-steps", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
	};
	size_t mb, steps;
	ssize_t len;
	int c;

	a->dock = getenv("LEARNWARE_DOCK");
	while ((c = getopt_long(argc, argv, "d:o:qh", longopts, NULL)) != -1) {
		int bad = 0;

		switch (c) {
		case 'd': a->dock = optarg; break;
		case 'F': a->files_root = optarg; break;
		case 's': a->semantic = optarg; break;
		case 'O': a->owner = optarg; break;
		case 'z': a->zip = optarg; break;
		case 'o': a->output = optarg; break;
		case 'a': a->all = 1; break;
		case 'j': a->json = 1; break;
		case 'q': a->quiet = 1; break;
		case 'H': a->no_hetero = 1; break;
		case 'S':
			if (!(bad = cli_parse_size(&steps, optarg, "--hetero-steps")) && (steps < 1 || steps > 1000000))
				bad = cli_usage_error("dock", "--hetero-steps must be from 1 to 1000000");
			a->ho.steps = (unsigned int)steps;
			a->ho.epochs = 0;
			break;
		case 't': bad = cli_parse_double(&a->o.check.limits.timeout_s, optarg, "--timeout"); break;
		case 'c': bad = cli_parse_double(&a->o.check.limits.cpu_s, optarg, "--cpu"); break;
		case 'm':
			bad = cli_parse_size(&mb, optarg, "--memory");
			a->o.check.limits.memory_bytes = mb << 20;
			break;
		case 'h': fputs(dock_usage, stdout); return -1;
		default: return cli_usage_error("dock", "unknown option");
		}
		if (bad)
			return CLI_EXIT_USAGE;
	}
	if (!(a->o.check.limits.timeout_s > 0) || a->o.check.limits.memory_bytes < ((size_t)16 << 20))
		return cli_usage_error("dock", "--timeout must be positive and --memory at least 16");
	/* This very program serves in-process model kinds inside the sandbox. */
	if ((len = readlink("/proc/self/exe", a->self, sizeof(a->self) - 1)) > 0) {
		a->self[len] = '\0';
		a->o.check.serve_exe = a->self;
	}
	a->o.files_root = a->files_root;
	a->o.hetero = &a->ho;
	return 0;
}

static int read_text(char **out, const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16, len = 0, got;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		fprintf(stderr, "learnware: cannot read %s\n", path);
		return CLI_EXIT_NOTFOUND;
	}
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (len + 1 == cap) {
			char *p = cap < (16u << 20) ? realloc(buf, cap *= 2) : NULL;

			if (!p) {
				free(buf);
				fclose(f);
				fprintf(stderr, "learnware: %s is over 16 MiB; a semantic specification is small\n", path);
				return CLI_EXIT_INPUT;
			}
			buf = p;
		}
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

static const char *status_name(int s)
{
	static const char *names[] = { "waiting", "queued", "processing", "success", "failed" };

	return s >= 0 && s <= 4 ? names[s] : "?";
}

static const char *verdict_name(const lw_learnware_record *r)
{
	if (r->status != LW_STATUS_SUCCESS && r->status != LW_STATUS_FAILED)
		return "unchecked";
	return r->usability == LW_USABILITY_USABLE ? "usable"
	       : r->usability == LW_USABILITY_INVALID ? "invalid" : "nonusable";
}

static void format_time(char *buf, size_t n, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static json_t *record_json(const lw_learnware_record *r)
{
	json_t *sem = r->semantic_json ? json_loads(r->semantic_json, 0, NULL) : NULL;

	return json_pack("{s:s, s:s?, s:s, s:s, s:I, s:I, s:s, s:o}", "id", r->id, "owner", r->owner,
			 "status", status_name(r->status), "verdict", verdict_name(r), "created",
			 (json_int_t)r->created, "updated", (json_int_t)r->updated, "sha256",
			 r->content_sha256, "semantic", sem ? sem : json_null());
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
	json_decref(j);
}

/*
 * After adding or importing, the heterogeneous map is trained once when
 * the dock has grown enough, rather than after each learnware of a batch.
 */
static int hetero_after(lw_dock *d, const dock_args *a, int rc)
{
	int trained = 0, err;

	if (a->no_hetero)
		return rc;
	if ((err = lw_dock_hetero_train(&trained, d, 0)) < 0) {
		fprintf(stderr, "learnware: the heterogeneous map was not trained (the learnwares are "
				"stored): %s; retry with 'learnware dock hetero train'\n", lw_error_last()->message);
		return rc ? rc : CLI_EXIT_FAILURE;
	}
	if (trained && !a->quiet && !a->json)
		fputs("trained a new heterogeneous map ('learnware dock hetero' shows it)\n", stderr);
	return rc;
}

static int do_hetero(lw_dock *d, const dock_args *a, int argc, char **argv)
{
	lw_dock_hetero_info info;
	int nargs = argc - optind, err, trained = 0;

	if (nargs > 1 || (nargs == 1 && strcmp(argv[optind], "train")))
		return cli_usage_error("dock", "hetero takes no argument, or 'train'");
	if (nargs == 1 && (err = lw_dock_hetero_train(&trained, d, 1)) < 0)
		return cli_fail(err);
	if ((err = lw_dock_hetero_info_get(&info, d)) < 0)
		return cli_fail(err);
	if (a->json) {
		print_json(json_pack("{s:s?, s:I, s:I, s:I, s:b}", "map_id", *info.map_id ? info.map_id : NULL,
				     "generation", (json_int_t)info.generation, "trained_on",
				     (json_int_t)info.trained_on, "described", (json_int_t)info.described,
				     "due", info.due));
		return CLI_EXIT_OK;
	}
	if (*info.map_id)
		printf("map %s, generation %llu, trained on %zu learnwares\n", info.map_id,
		       (unsigned long long)info.generation, info.trained_on);
	else
		printf("no heterogeneous map yet\n");
	printf("%zu usable table learnwares describe their columns; %s\n", info.described,
	       info.due ? "a new map is due" : "no new map is due");
	return CLI_EXIT_OK;
}

static int do_add(lw_dock *d, dock_args *a, int argc, char **argv)
{
	char *sem = NULL;
	int rc, worst = CLI_EXIT_OK;
	json_t *arr = a->json ? json_array() : NULL;

	if (optind >= argc)
		return cli_usage_error("dock", "add needs at least one learnware zip");
	if (a->semantic && (rc = read_text(&sem, a->semantic)) != 0)
		return rc;
	for (int i = optind; i < argc; i++) {
		lw_dock_added out;
		int err = lw_dock_add(&out, d, argv[i], sem, a->owner);

		if (err < 0) {
			int code = cli_fail(err);

			if (out.log && !a->quiet && !a->json)
				fputs(out.log, stderr);
			if (code > worst)
				worst = code;
		} else if (a->json) {
			json_array_append_new(arr, record_json(&out.record));
		} else {
			if (!a->quiet)
				fputs(out.log, stdout);
			printf("%s  %s  %s\n", out.record.id, lw_check_status_name(out.status), argv[i]);
		}
		lw_dock_added_dispose(&out);
	}
	if (arr)
		print_json(arr);
	free(sem);
	return hetero_after(d, a, worst);
}

static int do_list(lw_dock *d, dock_args *a)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	lw_learnware_list l = { NULL, 0 };
	json_t *arr = a->json ? json_array() : NULL;
	char after[16] = "";
	int err;

	if (!a->all)
		f.usability = LW_USABILITY_USABLE;
	f.limit = 1000;
	if (!a->json)
		printf("%-8s  %-10s  %-9s  %-20s  %s\n", "ID", "STATUS", "VERDICT", "UPDATED", "NAME");
	do {
		lw_learnware_list_dispose(&l);
		f.after_id = after[0] ? after : NULL;
		if ((err = lw_store_list(&l, lw_dock_store(d), &f)) < 0) {
			json_decref(arr);
			return cli_fail(err);
		}
		for (size_t i = 0; i < l.count; i++) {
			const lw_learnware_record *r = &l.items[i];

			if (arr) {
				json_array_append_new(arr, record_json(r));
			} else {
				json_t *sem = r->semantic_json ? json_loads(r->semantic_json, 0, NULL) : NULL;
				const char *name = json_string_value(
					json_object_get(json_object_get(sem, "Name"), "Values"));
				char when[32];

				format_time(when, sizeof(when), r->updated);
				printf("%-8s  %-10s  %-9s  %-20s  %s\n", r->id, status_name(r->status),
				       verdict_name(r), when, name ? name : "");
				json_decref(sem);
			}
		}
		if (l.count)
			snprintf(after, sizeof(after), "%s", l.items[l.count - 1].id);
	} while (l.count == f.limit);
	lw_learnware_list_dispose(&l);
	if (arr)
		print_json(arr);
	return CLI_EXIT_OK;
}

static int do_show(lw_dock *d, dock_args *a, const char *id)
{
	lw_learnware_record r = { 0 };
	char *log = NULL, when[32];
	int err;

	if ((err = lw_store_get(&r, lw_dock_store(d), id)) < 0)
		return cli_fail(err);
	lw_dock_check_log(&log, d, id);
	if (a->json) {
		json_t *j = record_json(&r);

		json_object_set_new(j, "check_log", log ? json_string(log) : json_null());
		print_json(j);
	} else {
		json_t *sem = r.semantic_json ? json_loads(r.semantic_json, 0, NULL) : NULL;
		char *pretty = sem ? json_dumps(sem, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

		printf("id        %s\nstatus    %s\nverdict   %s\n", r.id, status_name(r.status),
		       verdict_name(&r));
		printf("owner     %s\nsha256    %s\nfile      %s/%s\n", r.owner ? r.owner : "-",
		       r.content_sha256, lw_store_root(lw_dock_store(d)), r.zip_path);
		format_time(when, sizeof(when), r.created);
		printf("created   %s\n", when);
		format_time(when, sizeof(when), r.updated);
		printf("updated   %s\nsemantic specification:\n%s\n", when, pretty ? pretty : "(none)");
		if (log && !a->quiet)
			printf("check log:\n%s", log);
		free(pretty);
		json_decref(sem);
	}
	free(log);
	lw_learnware_record_dispose(&r);
	return CLI_EXIT_OK;
}

static int do_update(lw_dock *d, dock_args *a, const char *id)
{
	char *sem = NULL;
	int rc, err;

	if (!a->semantic && !a->zip)
		return cli_usage_error("dock", "update needs --semantic FILE, --zip FILE or both");
	if (a->semantic && (rc = read_text(&sem, a->semantic)) != 0)
		return rc;
	if (a->zip) {
		lw_dock_added out;

		err = lw_dock_update_zip(&out, d, id, a->zip, sem);
		if (err == 0 && !a->quiet)
			fputs(out.log, stdout);
		if (err == 0)
			printf("%s  %s  %s\n", id, lw_check_status_name(out.status), a->zip);
		else if (out.log && !a->quiet)
			fputs(out.log, stderr);
		lw_dock_added_dispose(&out);
	} else {
		err = lw_dock_update_semantic(d, id, sem);
		if (err == 0)
			printf("%s  semantic specification updated\n", id);
	}
	free(sem);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

static int do_copy_out(lw_dock *d, dock_args *a, const char *id)
{
	lw_learnware_record r = { 0 };
	char *src;
	FILE *in, *out;
	char buf[1 << 16];
	size_t n;
	int err, rc = CLI_EXIT_OK;

	if (!a->output)
		return cli_usage_error("dock", "download needs -o FILE");
	if ((err = lw_store_get(&r, lw_dock_store(d), id)) < 0)
		return cli_fail(err);
	src = malloc(strlen(lw_store_root(lw_dock_store(d))) + strlen(r.zip_path) + 2);
	if (src)
		sprintf(src, "%s/%s", lw_store_root(lw_dock_store(d)), r.zip_path);
	in = src ? fopen(src, "rb") : NULL;
	out = in ? fopen(a->output, "wb") : NULL;
	if (!in || !out) {
		fprintf(stderr, "learnware: cannot copy %s to %s\n", src ? src : id, a->output);
		rc = CLI_EXIT_IO;
	}
	while (rc == CLI_EXIT_OK && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = CLI_EXIT_IO;
	if (out && fclose(out) != 0)
		rc = CLI_EXIT_IO;
	if (in)
		fclose(in);
	if (rc == CLI_EXIT_OK && !a->quiet)
		printf("%s  %s\n", id, a->output);
	free(src);
	lw_learnware_record_dispose(&r);
	return rc;
}

static int run(lw_dock *d, dock_args *a, const char *cmd, int argc, char **argv)
{
	int nargs = argc - optind, err;
	size_t n1 = 0, n2 = 0, n3 = 0;

	if (!strcmp(cmd, "add"))
		return do_add(d, a, argc, argv);
	if (!strcmp(cmd, "hetero"))
		return do_hetero(d, a, argc, argv);
	if (!strcmp(cmd, "list"))
		return nargs ? cli_usage_error("dock", "list takes no arguments") : do_list(d, a);
	if (!strcmp(cmd, "show") || !strcmp(cmd, "update") || !strcmp(cmd, "download")) {
		if (nargs != 1)
			return cli_usage_error("dock", "%s needs one learnware id", cmd);
		return cmd[0] == 's' ? do_show(d, a, argv[optind])
		       : cmd[0] == 'u' ? do_update(d, a, argv[optind]) : do_copy_out(d, a, argv[optind]);
	}
	if (!strcmp(cmd, "delete")) {
		int worst = CLI_EXIT_OK;

		if (!nargs)
			return cli_usage_error("dock", "delete needs at least one learnware id");
		for (int i = optind; i < argc; i++) {
			if ((err = lw_dock_delete(d, argv[i])) < 0)
				worst = cli_fail(err);
			else if (!a->quiet)
				printf("%s  deleted\n", argv[i]);
		}
		return worst;
	}
	if (!strcmp(cmd, "export")) {
		if (!a->output || nargs)
			return cli_usage_error("dock", "export needs -o FILE and no arguments");
		if ((err = lw_dock_export(&n1, d, a->output)) < 0)
			return cli_fail(err);
		printf("exported %zu learnwares to %s\n", n1, a->output);
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "import")) {
		if (nargs != 1)
			return cli_usage_error("dock", "import needs one export zip");
		err = lw_dock_import(&n1, &n2, &n3, d, argv[optind]);
		printf("imported %zu learnwares, %zu already here, %zu refused\n", n1, n2, n3);
		return err < 0 ? cli_fail(err) : hetero_after(d, a, n3 ? CLI_EXIT_INPUT : CLI_EXIT_OK);
	}
	if (!strcmp(cmd, "verify")) {
		if ((err = lw_dock_verify_pending(&n1, d)) < 0)
			return cli_fail(err);
		printf("checked %zu learnwares\n", n1);
		return CLI_EXIT_OK;
	}
	if (!strcmp(cmd, "reindex")) {
		if ((err = lw_dock_reindex(d)) < 0)
			return cli_fail(err);
		printf("indexed %zu learnwares\n", lw_dock_indexed(d));
		return CLI_EXIT_OK;
	}
	return cli_usage_error("dock", "unknown command '%s'", cmd);
}

int cmd_dock(int argc, char **argv)
{
	dock_args a;
	const lw_dock_options def = LW_DOCK_OPTIONS_INIT;
	cli_progress prog;
	lw_dock *d = NULL;
	const char *cmd;
	int rc, err;

	memset(&a, 0, sizeof(a));
	a.o = def;
	lw_hetero_options_init(&a.ho);
	/* add and import train the map once, after the batch (hetero_after). */
	a.o.hetero_auto = 0;
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(dock_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	cmd = argv[1];
	if ((rc = parse(&a, argc - 1, argv + 1)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	/* getopt ran on argv + 1: shift optind back to argv. */
	argc -= 1;
	argv += 1;
	if (!strcmp(cmd, "init")) {
		if (argc - optind != 1)
			return cli_usage_error("dock", "init needs the dock's folder or URI");
		a.dock = argv[optind];
	}
	if (!a.dock)
		return cli_usage_error("dock", "no dock: give --dock DIR or set LEARNWARE_DOCK");
	cli_progress_init(&prog, a.quiet);
	a.o.progress = cli_progress_cb;
	a.o.payload = &prog;
	err = lw_dock_open(&d, a.dock, &a.o);
	cli_progress_end(&prog);
	if (err < 0)
		return cli_fail(err);
	if (!strcmp(cmd, "init")) {
		size_t n = 0;
		lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;

		lw_store_count(&n, lw_dock_store(d), &f);
		printf("dock at %s (%s): %zu learnwares\n", lw_store_root(lw_dock_store(d)),
		       lw_store_backend(lw_dock_store(d)), n);
		rc = CLI_EXIT_OK;
	} else {
		rc = run(d, &a, cmd, argc, argv);
	}
	cli_progress_end(&prog);
	lw_dock_free(d);
	return rc;
}
