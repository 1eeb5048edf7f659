/*
 * Images and texts as model rows, and their labels, for train, predict
 * and reuse.  The conventions are the library's (lw_image_model_rows,
 * lw_text_encode with the built-in encoder), so a model trained here takes
 * the rows the checker and the dock's reuse feed it.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "cli.h"
#include "media.h"

/* Most labels an IDX file may hold: gzread counts in int. */
#define MAX_IDX_LABELS ((size_t)1 << 30)

int cli_media_add_image(cli_media *m, const char *path)
{
	const char **v = realloc(m->images, (m->n_images + 1) * sizeof(*v));

	if (!v) {
		fprintf(stderr, "learnware: out of memory\n");
		return CLI_EXIT_FAILURE;
	}
	v[m->n_images++] = path;
	m->images = v;
	return 0;
}

int cli_media_option(cli_media *m, int c, const char *arg, const char *verb)
{
	switch (c) {
	case CLI_OPT_IMAGES: return cli_media_add_image(m, arg);
	case CLI_OPT_TEXT: m->text = arg; return 0;
	case CLI_OPT_TEXT_COLUMN: m->text_column = arg; return 0;
	case CLI_OPT_LABELS: m->labels = arg; return 0;
	case CLI_OPT_LABEL_COLUMN: m->label_column = arg; return 0;
	case CLI_OPT_MIXED: m->mixed_sizes = 1; return 0;
	case CLI_OPT_LIMIT:
		if (cli_parse_size(&m->limit, arg, "--limit") < 0)
			return CLI_EXIT_USAGE;
		if (m->limit == 0)
			return cli_usage_error(verb, "--limit must be at least 1");
		return 0;
	default: return 1;
	}
}

cli_media_kind cli_media_kind_of(const cli_media *m)
{
	return m->n_images ? CLI_MEDIA_IMAGES : m->text ? CLI_MEDIA_TEXT : CLI_MEDIA_NONE;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && !strcasecmp(s + n - k, suffix);
}

/* The --text column: as given, or "text" for a .csv/.tsv file, as `spec text` does. */
static const char *text_column(const cli_media *m)
{
	if (m->text_column)
		return m->text_column;
	return ends_with(m->text, ".csv") || ends_with(m->text, ".tsv") ? "text" : NULL;
}

int cli_media_validate(const cli_media *m, const char *verb, int labels_allowed)
{
	cli_media_kind k = cli_media_kind_of(m);

	if (m->n_images && m->text)
		return cli_usage_error(verb, "give --images or --text, not both");
	if (k != CLI_MEDIA_TEXT && m->text_column)
		return cli_usage_error(verb, "--text-column names a column of the --text CSV; give --text");
	if (k == CLI_MEDIA_NONE && (m->limit || m->mixed_sizes || m->label_column))
		return cli_usage_error(verb, "--limit, --mixed-sizes and --label-column go with "
				       "--images or --text");
	if (k != CLI_MEDIA_IMAGES && m->mixed_sizes)
		return cli_usage_error(verb, "--mixed-sizes goes with --images");
	if (!labels_allowed && (m->labels || m->label_column))
		return cli_usage_error(verb, "labels are not read here: leave out --labels and "
				       "--label-column");
	if (k == CLI_MEDIA_TEXT && m->label_column && !m->labels && !text_column(m))
		return cli_usage_error(verb, "--label-column without --labels reads the labels from "
				       "the --text CSV: name its text column with --text-column");
	if (k == CLI_MEDIA_IMAGES && m->label_column && !m->labels)
		return cli_usage_error(verb, "--label-column names a column of --labels FILE; give "
				       "--labels");
	return 0;
}

void cli_media_dispose(cli_media *m)
{
	free(m->images);
	m->images = NULL;
	m->n_images = 0;
}

static int read_texts(char ***texts, size_t *n, const cli_media *m)
{
	const char *col = text_column(m);
	int err = lw_text_read(texts, n, m->text, col);

	if (err == LW_ENOTFOUND && col && !m->text_column &&
	    strstr(lw_error_last()->message, "no text column"))
		cli_error_append("; name the column holding the texts with --text-column");
	if (err == 0 && m->limit && *n > m->limit) {
		for (size_t i = m->limit; i < *n; i++)
			free((*texts)[i]);
		*n = m->limit;
	}
	return err;
}

static int text_rows(lw_mat *X, char *what, size_t what_len, const cli_media *m)
{
	const lw_text_encoder *enc;
	char **texts = NULL;
	size_t n = 0;
	int err;

	if ((err = lw_text_encoder_builtin(&enc)) < 0 || (err = read_texts(&texts, &n, m)) < 0)
		return err;
	err = lw_text_encode(X, enc, (const char *const *)texts, NULL, n);
	lw_text_free_list(texts, n);
	snprintf(what, what_len, "%zu texts of %s (encoder %s)", n, m->text, lw_text_encoder_name(enc));
	return err;
}

/* "a.png", or "3 inputs (a.png, ...)", for messages. */
static void image_source(char *buf, size_t len, const cli_media *m)
{
	if (m->n_images == 1)
		snprintf(buf, len, "%s", m->images[0]);
	else
		snprintf(buf, len, "%zu inputs (%s, ...)", m->n_images, m->images[0]);
}

static int image_rows(lw_mat *X, char *what, size_t what_len, const cli_media *m)
{
	lw_image_read_options ro;
	lw_image_batch b = LW_IMAGE_BATCH_INIT;
	char src[512];
	int err;

	lw_image_read_options_init(&ro);
	/* The model rows are 32 x 32: resizing as each image is read bounds memory. */
	ro.resize_h = ro.resize_w = LW_IMAGE_MODEL_SIDE;
	ro.allow_mixed_sizes = m->mixed_sizes;
	ro.limit = m->limit;
	if ((err = lw_image_read(&b, m->images, m->n_images, &ro)) < 0) {
		if (strstr(lw_error_last()->message, "must have one size"))
			cli_error_append(" (--mixed-sizes resizes each image to 32 x 32 whatever its "
					 "size)");
		return err;
	}
	err = lw_image_model_rows(X, &b);
	image_source(src, sizeof(src), m);
	snprintf(what, what_len, "%zu images of %zu channel%s from %s", b.n, b.c, b.c > 1 ? "s" : "",
		 src);
	lw_image_batch_dispose(&b);
	return err;
}

int cli_media_rows(lw_mat *X, char *what, size_t what_len, const cli_media *m)
{
	*X = (lw_mat)LW_MAT_INIT;
	if (cli_media_kind_of(m) == CLI_MEDIA_IMAGES)
		return image_rows(X, what, what_len, m);
	return text_rows(X, what, what_len, m);
}

/* ---- labels ------------------------------------------------------------- */

char **cli_pack_strings(char **v, size_t n)
{
	size_t bytes = (n + 1) * sizeof(char *);
	char **out, *p;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(v[i]) + 1;
	if (!(out = malloc(bytes)))
		return NULL;
	p = (char *)(out + n + 1);
	for (size_t i = 0; i < n; i++) {
		const char *s = v[i];
		size_t len;

		s += strspn(s, " \t");
		len = strlen(s);
		while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		out[i] = memcpy(p, s, len);
		p[len] = '\0';
		p += len + 1;
	}
	out[n] = NULL;
	return out;
}

static int idx_fail(gzFile f, const char *path, const char *what)
{
	gzclose(f);
	lw_error_set(LW_ERRCLASS_DATA, "%s: %s", path, what);
	return LW_EINVALID;
}

/* An IDX label file's count and labels, as "0".."255" (after the 8-byte header). */
static int idx_labels(char ***out, size_t *n, gzFile f, const unsigned char *head, const char *path)
{
	size_t count = (size_t)head[4] << 24 | (size_t)head[5] << 16 | (size_t)head[6] << 8 | head[7];
	unsigned char *raw, extra;
	char **v;
	int got;

	if (count == 0 || count > MAX_IDX_LABELS)
		return idx_fail(f, path, "the IDX label file holds no label");
	if (!(raw = malloc(count)) || !(v = malloc((count + 1) * sizeof(char *) + 4 * count))) {
		free(raw);
		gzclose(f);
		return LW_ENOMEM;
	}
	got = gzread(f, raw, (unsigned)count);
	if (got != (int)count || gzread(f, &extra, 1) != 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the IDX header promises %zu labels but the file holds %s",
			 count, got < (int)count ? "fewer" : "more");
		free(raw);
		free(v);
		return idx_fail(f, path, msg);
	}
	for (size_t i = 0; i < count; i++) {
		v[i] = (char *)(v + count + 1) + 4 * i;
		snprintf(v[i], 4, "%u", raw[i]);
	}
	v[count] = NULL;
	free(raw);
	gzclose(f);
	*out = v;
	*n = count;
	return 0;
}

/* 1 when the file (gzipped or not) starts like IDX; *f stays open then. */
static int is_idx(gzFile *f, unsigned char *head, const char *path)
{
	*f = gzopen(path, "rb");
	if (!*f)
		return 0;
	if (gzread(*f, head, 8) == 8 && head[0] == 0 && head[1] == 0 && head[2] == 0x08)
		return 1;
	gzclose(*f);
	*f = NULL;
	return 0;
}

/* Labels from a file: IDX (uint8, gzipped or not), a CSV column, or one per line. */
static int read_label_file(char ***out, size_t *n, const char *path, const char *column)
{
	unsigned char head[8];
	char **lines = NULL;
	gzFile f;
	int err;

	if (!column && is_idx(&f, head, path)) {
		if (head[3] != 1)
			return idx_fail(f, path, "an IDX file of images or tensors, not of labels "
					"(idx1, one uint8 per item)");
		return idx_labels(out, n, f, head, path);
	}
	if ((err = lw_text_read(&lines, n, path, column)) < 0) {
		const char *msg = lw_error_last()->message, *at = strstr(msg, "no text column");
		char fixed[1024];

		if (err == LW_ENOTFOUND && at) { /* the reader words it for texts */
			snprintf(fixed, sizeof(fixed), "%.*sno label column%s", (int)(at - msg), msg,
				 at + strlen("no text column"));
			lw_error_set(LW_ERRCLASS_DATA, "%s", fixed);
		}
		return err;
	}
	*out = cli_pack_strings(lines, *n);
	lw_text_free_list(lines, *n);
	return *out ? 0 : LW_ENOMEM;
}

static int count_mismatch(const cli_media *m, const char *path, size_t nl, size_t rows)
{
	if (cli_media_kind_of(m) == CLI_MEDIA_TEXT && !m->labels)
		lw_error_set(LW_ERRCLASS_DATA, "%s: column '%s' has %zu texts but column '%s' has %zu "
			     "labels; every row needs both (empty cells are skipped)", path,
			     text_column(m) ? text_column(m) : "1", rows, m->label_column, nl);
	else if (cli_media_kind_of(m) == CLI_MEDIA_TEXT)
		lw_error_set(LW_ERRCLASS_DATA, "%s: %zu labels for the %zu texts of %s; give one label "
			     "per text, in order (blank lines and empty cells are skipped)", path, nl,
			     rows, m->text);
	else
		lw_error_set(LW_ERRCLASS_DATA, "%s: %zu labels for the %zu images read; give one label "
			     "per image, in reading order (a folder's files sorted by name)%s", path,
			     nl, rows, nl < rows && !m->limit ? ", or read fewer images with --limit" : "");
	return LW_EINVALID;
}

int cli_media_labels(char ***labels, const cli_media *m, size_t rows)
{
	const char *path = m->labels ? m->labels : m->text;
	size_t n = 0;
	int err;

	*labels = NULL;
	if (!m->labels && !m->label_column)
		return 0;
	if ((err = read_label_file(labels, &n, path, m->label_column)) < 0)
		return err;
	if (n > rows && m->limit)
		n = rows; /* --limit read the first images or texts: their labels come first too */
	if (n != rows) {
		lw_data_free_names(*labels);
		*labels = NULL;
		return count_mismatch(m, path, n, rows);
	}
	(*labels)[n] = NULL;
	return 0;
}

void cli_media_describe_width(char *buf, size_t len, cli_media_kind kind, size_t cols)
{
	if (kind == CLI_MEDIA_IMAGES && cols % (LW_IMAGE_MODEL_SIDE * LW_IMAGE_MODEL_SIDE) == 0)
		snprintf(buf, len, "%zu columns (%zu-channel images of 32 x 32)", cols,
			 cols / (LW_IMAGE_MODEL_SIDE * LW_IMAGE_MODEL_SIDE));
	else if (kind == CLI_MEDIA_TEXT)
		snprintf(buf, len, "%zu columns (the embeddings of the text encoder %s)", cols,
			 LW_TEXT_ENCODER_NAME);
	else
		snprintf(buf, len, "%zu columns", cols);
}
