/*
 * Image and text inputs of the model verbs (train, predict, reuse): the
 * rows an image or text learnware's model takes (docs/models.md, "Image
 * and text inputs") and the labels given beside them (media.c).
 */
#ifndef LW_CLI_MEDIA_H
#define LW_CLI_MEDIA_H

#include "lw.h"

typedef enum { CLI_MEDIA_NONE = 0, CLI_MEDIA_IMAGES, CLI_MEDIA_TEXT } cli_media_kind;

/* What the options named; the paths are borrowed from argv. */
typedef struct {
	const char **images;      /* --images PATH (and the positional paths after it) */
	size_t n_images;
	const char *text;         /* --text FILE */
	const char *text_column;  /* --text-column COL of a CSV --text */
	const char *labels;       /* --labels FILE: IDX labels, one per line, or a CSV column */
	const char *label_column; /* --label-column COL: of --labels, else of the --text CSV */
	size_t limit;             /* --limit N: the first N images or texts (0: all) */
	int mixed_sizes;          /* --mixed-sizes */
} cli_media;

/* Long options every media verb takes: give cli_media_option the codes. */
enum {
	CLI_OPT_IMAGES = 400, CLI_OPT_TEXT, CLI_OPT_TEXT_COLUMN, CLI_OPT_LABELS,
	CLI_OPT_LABEL_COLUMN, CLI_OPT_LIMIT, CLI_OPT_MIXED
};

#define CLI_MEDIA_LONGOPTS                                                      \
	{ "images", required_argument, NULL, CLI_OPT_IMAGES },                  \
	{ "text", required_argument, NULL, CLI_OPT_TEXT },                      \
	{ "text-column", required_argument, NULL, CLI_OPT_TEXT_COLUMN },        \
	{ "label-column", required_argument, NULL, CLI_OPT_LABEL_COLUMN },      \
	{ "limit", required_argument, NULL, CLI_OPT_LIMIT },                    \
	{ "mixed-sizes", no_argument, NULL, CLI_OPT_MIXED }

/* Handle one media option; 1 when c is not one, 0 when done, else an exit code. */
int cli_media_option(cli_media *m, int c, const char *arg, const char *verb);

/* Add a positional path to --images (after the verb's own positionals). */
int cli_media_add_image(cli_media *m, const char *path);

/* Which input the options chose; usage errors for contradictions (exit code, or 0). */
cli_media_kind cli_media_kind_of(const cli_media *m);
int cli_media_validate(const cli_media *m, const char *verb, int labels_allowed);

void cli_media_dispose(cli_media *m);

/* The inputs as the model's rows, and a description for summaries ("300 images ..."). */
int cli_media_rows(lw_mat *X, char *what, size_t what_len, const cli_media *m);

/*
 * The labels for `rows` inputs (NULL-terminated, one block: free with
 * lw_data_free_names).  *labels is NULL when none were given.
 */
int cli_media_labels(char ***labels, const cli_media *m, size_t rows);

/* "1024 columns (1-channel images)" or "256 columns (text encoder ...)", for messages. */
void cli_media_describe_width(char *buf, size_t len, cli_media_kind kind, size_t cols);

/*
 * n strings (not freed) as one NULL-terminated block that
 * lw_data_free_names releases, as the data readers return names; each is
 * trimmed of blanks and tabs at both ends.  NULL when out of memory.
 */
char **cli_pack_strings(char **v, size_t n);

#endif
