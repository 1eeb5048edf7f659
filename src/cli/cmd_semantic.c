/*
 * learnware semantic: check, write and list semantic specifications (what
 * a learnware is, in words) against the taxonomy.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lw/semantic.h"

static const char semantic_usage[] =
	"usage: learnware semantic <command> [options]\n"
	"\n"
	"  check SEM.json           list every problem of a semantic specification\n"
	"  new [options] -o SEM.json\n"
	"                           write a specification from options, checked first\n"
	"  taxonomy [--json]        the keys, their types and allowed values\n"
	"\n"
	"Run 'learnware semantic <command> --help' for its options.\n";

static const char check_usage[] =
	"usage: learnware semantic check SEM.json [options]\n"
	"\n"
	"Apply the reference engine's semantic checker to SEM.json and print every\n"
	"problem, each naming the key, the value at fault and what is allowed.\n"
	"Exit 0 when the specification is valid, 3 when it is not (or unreadable).\n"
	"\n"
	"  -t, --taxonomy FILE    check against this taxonomy (extends or replaces\n"
	"                         the built-in one; see docs/semantic.md)\n"
	"      --fill-defaults    first add missing keys that have a default (License:\n"
	"                         Apache-2.0), as the reference does on reload\n"
	"  -q, --quiet            print nothing; the exit code tells\n";

static const char new_usage[] =
	"usage: learnware semantic new [options] -o SEM.json\n"
	"\n"
	"Write a semantic specification in the reference engine's JSON shape. It is\n"
	"checked first: when invalid, every problem is printed and nothing is written.\n"
	"\n"
	"  -o, --output FILE         where to write it ('-' for standard output)\n"
	"      --data D              Table, Image or Text\n"
	"      --task T              Classification, Regression, Feature Extraction, ...\n"
	"      --library L           Scikit-learn, PyTorch, TensorFlow or Others\n"
	"      --scenario LIST       one or more, comma-separated: Business,Financial\n"
	"      --license L           MIT, Apache-2.0, ... (default Apache-2.0)\n"
	"      --name NAME           a short name (required)\n"
	"      --description TEXT    what it does (required)\n"
	"      --set KEY=VALUES      any other key of the taxonomy (comma-separated\n"
	"                            values for Class and Tag keys)\n"
	"      --input-dim N         number of input features (Table data needs it)\n"
	"      --input-desc-file F   one line per input feature, in order: its meaning\n"
	"                            (sets --input-dim when that is not given)\n"
	"      --output-dim N        output dimension: targets, or classes (>= 2)\n"
	"      --output-desc-file F  one line per output dimension\n"
	"  -t, --taxonomy FILE       use this taxonomy instead of the built-in one\n"
	"\n"
	"Run 'learnware semantic taxonomy' for every allowed value.\n";

static const char taxonomy_usage[] =
	"usage: learnware semantic taxonomy [--json] [-t FILE]\n"
	"\n"
	"Print the taxonomy: each key with its Type (Class: exactly one value, Tag:\n"
	"one or more, String: text), whether it is required, its allowed values and\n"
	"default, and when the Input and Output blocks are required. --json prints\n"
	"it as a taxonomy file, a starting point for a dock's own (docs/semantic.md).\n"
	"\n"
	"  -t, --taxonomy FILE    show this taxonomy (with the built-in one it extends)\n"
	"      --json             the taxonomy file format\n";

static int sub_help(const char *text, int code)
{
	fputs(text, code ? stderr : stdout);
	return code;
}

static int load_taxonomy(lw_taxonomy **out, const char *path)
{
	int err = path ? lw_taxonomy_load(out, path) : lw_taxonomy_builtin(out);

	return err < 0 ? cli_fail(err) : 0;
}

static void print_problems(FILE *f, const lw_semantic_problems *p)
{
	for (size_t i = 0; i < p->count; i++)
		fprintf(f, "  %s\n", p->items[i].message);
}

/* Validate s; print the problems to f when there are some. */
static int validate(int *valid, const lw_semantic *s, const lw_taxonomy *t, FILE *f,
		    const char *what)
{
	lw_semantic_problems p;
	lw_semantic_status status;
	int err;

	if ((err = lw_semantic_validate(&status, &p, s, t)) < 0)
		return cli_fail(err);
	*valid = status == LW_SEMANTIC_OK;
	if (!*valid && f) {
		fprintf(f, "%s: invalid semantic specification, %zu problem%s:\n", what, p.count,
			p.count == 1 ? "" : "s");
		print_problems(f, &p);
	}
	lw_semantic_problems_dispose(&p);
	return 0;
}

static int semantic_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "taxonomy", required_argument, NULL, 't' }, { "fill-defaults", no_argument, NULL, 1 },
		{ "quiet", no_argument, NULL, 'q' },          { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *taxonomy = NULL;
	lw_taxonomy *t = NULL;
	lw_semantic *s = NULL;
	int c, fill = 0, quiet = 0, valid = 0, rc;

	while ((c = getopt_long(argc, argv, "t:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': taxonomy = optarg; break;
		case 1: fill = 1; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(check_usage, stdout); return CLI_EXIT_OK;
		default: return cli_usage_error("semantic check", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("semantic check", "expected one SEM.json file, got %d",
				       argc - optind);
	if ((rc = load_taxonomy(&t, taxonomy)) != 0)
		return rc;
	if ((rc = lw_semantic_load(&s, argv[optind])) < 0 ||
	    (fill && (rc = lw_semantic_fill_defaults(s, t)) < 0))
		rc = cli_fail(rc);
	else if ((rc = validate(&valid, s, t, quiet ? NULL : stdout, argv[optind])) == 0 && valid &&
		 !quiet)
		printf("%s: valid semantic specification\n", argv[optind]);
	lw_semantic_free(s);
	lw_taxonomy_free(t);
	return rc ? rc : valid ? CLI_EXIT_OK : CLI_EXIT_INPUT;
}

/* ---- new ---- */

#define MAX_SETS 32

typedef struct {
	const char *output, *taxonomy, *name, *description;
	const char *list_key[5 + MAX_SETS], *list_arg[5 + MAX_SETS];
	size_t nlist;
	const char *desc_file[2];
	size_t dim[2];
	int has_dim[2];
} new_opts;

/* Record "--data Table" and friends, and "--set KEY=VALUES", in command-line order. */
static int add_list(new_opts *o, const char *key, const char *arg)
{
	if (o->nlist == sizeof(o->list_key) / sizeof(o->list_key[0]))
		return cli_usage_error("semantic new", "too many --set options (at most %d)", MAX_SETS);
	o->list_key[o->nlist] = key;
	o->list_arg[o->nlist++] = arg;
	return 0;
}

static int add_set(new_opts *o, char *arg)
{
	char *eq = strchr(arg, '=');

	if (!eq || eq == arg)
		return cli_usage_error("semantic new", "--set expects KEY=VALUES, got '%s'", arg);
	*eq = '\0';
	return add_list(o, arg, eq + 1);
}

static int new_options(int argc, char **argv, new_opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },     { "taxonomy", required_argument, NULL, 't' },
		{ "data", required_argument, NULL, 1 },         { "task", required_argument, NULL, 2 },
		{ "library", required_argument, NULL, 3 },      { "scenario", required_argument, NULL, 4 },
		{ "license", required_argument, NULL, 5 },      { "name", required_argument, NULL, 6 },
		{ "description", required_argument, NULL, 7 },  { "set", required_argument, NULL, 8 },
		{ "input-dim", required_argument, NULL, 9 },    { "input-desc-file", required_argument, NULL, 10 },
		{ "output-dim", required_argument, NULL, 11 },  { "output-desc-file", required_argument, NULL, 12 },
		{ "help", no_argument, NULL, 'h' },             { NULL, 0, NULL, 0 }
	};
	static const char *const list_keys[] = { "Data", "Task", "Library", "Scenario", "License" };
	int c, bad = 0;

	while (!bad && (c = getopt_long(argc, argv, "o:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 't': o->taxonomy = optarg; break;
		case 1: case 2: case 3: case 4: case 5: bad = add_list(o, list_keys[c - 1], optarg); break;
		case 6: o->name = optarg; break;
		case 7: o->description = optarg; break;
		case 8: bad = add_set(o, optarg); break;
		case 9: case 11:
			o->has_dim[c == 11] = 1;
			bad = cli_parse_size(&o->dim[c == 11], optarg, c == 9 ? "--input-dim" : "--output-dim")
				      ? CLI_EXIT_USAGE : 0;
			break;
		case 10: case 12: o->desc_file[c == 12] = optarg; break;
		case 'h': fputs(new_usage, stdout); return -1;
		default: return cli_usage_error("semantic new", "unknown option");
		}
	}
	if (bad)
		return bad;
	if (optind != argc)
		return cli_usage_error("semantic new", "unexpected argument '%s'", argv[optind]);
	if (!o->output)
		return cli_usage_error("semantic new", "missing -o SEM.json");
	return 0;
}

/* Split "a, b,c" at commas into trimmed, non-empty values (pointers into buf). */
static size_t split_list(char *buf, const char **v)
{
	size_t n = 0;

	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		char *end;

		while (*tok == ' ')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && end[-1] == ' ')
			*--end = '\0';
		if (*tok)
			v[n++] = tok;
	}
	return n;
}

static int set_key(lw_semantic *s, const lw_taxonomy *t, const char *key, const char *arg)
{
	const char *type = lw_taxonomy_type(t, key), **v = NULL;
	char *buf = NULL;
	size_t commas = 0;
	int err = LW_ENOMEM;

	if (!type) {
		lw_error_set(LW_ERRCLASS_INVALID, "'%s' is not a key of the taxonomy "
						  "(see 'learnware semantic taxonomy')", key);
		return LW_ENOTFOUND;
	}
	if (!strcmp(type, "String"))
		return lw_semantic_set_string(s, key, arg);
	for (const char *p = arg; *p; p++)
		commas += *p == ',';
	if ((buf = strdup(arg)) && (v = malloc((commas + 1) * sizeof(*v))))
		err = lw_semantic_set_values(s, key, type, v, split_list(buf, v));
	else
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
	free(v);
	free(buf);
	return err;
}

/* The lines of a file, without their line ends. */
typedef struct {
	char **v;
	size_t n;
} lines;

static void lines_free(lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static int lines_push(lines *l, char *line)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(char *));

	if (!v) {
		free(line);
		lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory");
		return LW_ENOMEM;
	}
	l->v = v;
	l->v[l->n++] = line;
	return 0;
}

static int read_lines(lines *l, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int err = 0;

	if (!f) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", path);
		return LW_ENOTFOUND;
	}
	while (!err && (len = getline(&line, &cap, f)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		err = lines_push(l, line);
		line = NULL;
		cap = 0;
	}
	if (!err && ferror(f)) {
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s", path);
		err = LW_EIO;
	}
	free(line);
	fclose(f);
	return err;
}

/*
 * Input or Output from --*-dim and --*-desc-file: line i of the file
 * describes feature i (a blank line: none); without a dim, the file's
 * line count is the Dimension.
 */
static int build_side(lw_semantic *s, const new_opts *o, lw_semantic_side side)
{
	lines l = { NULL, 0 };
	int err = 0;

	if (!o->has_dim[side] && !o->desc_file[side])
		return 0;
	if (o->desc_file[side] && (err = read_lines(&l, o->desc_file[side])) < 0)
		goto done;
	if ((err = lw_semantic_set_dim(s, side, o->has_dim[side] ? o->dim[side] : l.n)) < 0)
		goto done;
	for (size_t i = 0; !err && i < l.n; i++)
		if (l.v[i][0])
			err = lw_semantic_set_feature(s, side, i, l.v[i]);
done:
	lines_free(&l);
	return err;
}

/* Keys build() sets first, in the reference's order. */
static int is_named_key(const char *key)
{
	static const char *const named[] = { "Data", "Task", "Library", "License", "Scenario" };

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (!strcmp(key, named[i]))
			return 1;
	return 0;
}

/* The reference's key order: Data, Task, Library, License, Scenario, Name, Description. */
static int build(lw_semantic *s, const lw_taxonomy *t, const new_opts *o)
{
	static const char *const order[] = { "Data", "Task", "Library", "License", "Scenario" };
	int err = 0;

	for (size_t k = 0; k < 5; k++)
		for (size_t i = 0; !err && i < o->nlist; i++)
			if (!strcmp(o->list_key[i], order[k]))
				err = set_key(s, t, o->list_key[i], o->list_arg[i]);
	if (!err && o->name)
		err = lw_semantic_set_string(s, "Name", o->name);
	if (!err && o->description)
		err = lw_semantic_set_string(s, "Description", o->description);
	for (size_t i = 0; !err && i < o->nlist; i++)
		if (!is_named_key(o->list_key[i]))
			err = set_key(s, t, o->list_key[i], o->list_arg[i]);
	if (!err)
		err = build_side(s, o, LW_SEMANTIC_INPUT);
	if (!err)
		err = build_side(s, o, LW_SEMANTIC_OUTPUT);
	if (!err)
		err = lw_semantic_fill_defaults(s, t);
	return err;
}

static int write_spec(const lw_semantic *s, const char *output)
{
	char *text;
	int err;

	if (strcmp(output, "-"))
		return lw_semantic_save(s, output);
	if ((err = lw_semantic_to_json(&text, s)) < 0)
		return err;
	puts(text);
	free(text);
	return 0;
}

static int semantic_new(int argc, char **argv)
{
	new_opts o = { 0 };
	lw_taxonomy *t = NULL;
	lw_semantic *s = NULL;
	int rc, err, valid = 0;

	if ((rc = new_options(argc, argv, &o)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = load_taxonomy(&t, o.taxonomy)) != 0)
		return rc;
	if ((err = lw_semantic_new(&s)) < 0 || (err = build(s, t, &o)) < 0)
		rc = cli_fail(err);
	else if ((rc = validate(&valid, s, t, stderr, "learnware: nothing written")) == 0 && !valid)
		rc = CLI_EXIT_INPUT;
	else if (rc == 0 && (err = write_spec(s, o.output)) < 0)
		rc = cli_fail(err);
	lw_semantic_free(s);
	lw_taxonomy_free(t);
	return rc;
}

/* ---- taxonomy ---- */

static int semantic_taxonomy(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "taxonomy", required_argument, NULL, 't' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 }
	};
	const char *path = NULL;
	lw_taxonomy *t = NULL;
	char *text = NULL;
	int c, json = 0, rc, err;

	while ((c = getopt_long(argc, argv, "t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': path = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(taxonomy_usage, stdout); return CLI_EXIT_OK;
		default: return cli_usage_error("semantic taxonomy", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("semantic taxonomy", "unexpected argument '%s'", argv[optind]);
	if ((rc = load_taxonomy(&t, path)) != 0)
		return rc;
	err = json ? lw_taxonomy_to_json(&text, t) : lw_taxonomy_describe(&text, t);
	if (err == 0)
		fputs(text, stdout);
	if (err == 0 && json)
		putchar('\n');
	free(text);
	lw_taxonomy_free(t);
	return err < 0 ? cli_fail(err) : CLI_EXIT_OK;
}

int cmd_semantic(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	optind = 1;
	if (!sub || !strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help"))
		return sub_help(semantic_usage, sub ? CLI_EXIT_OK : CLI_EXIT_USAGE);
	if (!strcmp(sub, "check"))
		return semantic_check(argc - 1, argv + 1);
	if (!strcmp(sub, "new"))
		return semantic_new(argc - 1, argv + 1);
	if (!strcmp(sub, "taxonomy"))
		return semantic_taxonomy(argc - 1, argv + 1);
	fprintf(stderr, "learnware semantic: unknown command '%s'\n", sub);
	return sub_help(semantic_usage, CLI_EXIT_USAGE);
}
