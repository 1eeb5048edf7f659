/*
 * A user's statistical specification of any type, told by its JSON
 * "type", so that one --rkme option or one "rkme" field serves table, text
 * and image searches alike.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <jansson.h>
#include <string.h>

#include "util.h"

/* Large enough for an image specification of K = 1000 colour points. */
#define USER_SPEC_MAX ((size_t)256 << 20)

static int type_of(char *out, size_t n, const char *text, size_t len, const char *source)
{
	json_error_t e;
	json_t *root = json_loadb(text, len, 0, &e);
	const char *t;

	if (!root) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: line %d, column %d: %s", source, e.line, e.column, e.text);
		return LW_EINVALID;
	}
	t = json_string_value(json_object_get(root, "type"));
	snprintf(out, n, "%s", t ? t : "");
	json_decref(root);
	if (!*out) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: no string \"type\": a specification names its type "
					       "(RKMETableSpecification, RKMETextSpecification or "
					       "RKMEImageSpecification)", source);
		return LW_EINVALID;
	}
	return 0;
}

int lw_dock_user_spec_parse(lw_dock_user_spec *out, const char *text, size_t len, const char *source)
{
	char type[64];
	int err;

	LW_ASSERT_ARG(out && text && source);
	memset(out, 0, sizeof(*out));
	if ((err = type_of(type, sizeof(type), text, len, source)) < 0)
		return err;
	if (!strcmp(type, LW__TEXT_SPEC))
		return lw_text_spec_from_json(&out->text, text, len, source);
	if (!strcmp(type, LW__IMAGE_SPEC))
		return lw_rkme_image_from_json(&out->image, text, len, source);
	/* Table, the reference's older name for it, or a type the table parser names in its error. */
	return lw_rkme_from_json(&out->rkme, text, len, source);
}

int lw_dock_user_spec_load(lw_dock_user_spec *out, const char *path)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	LW_ASSERT_ARG(out && path);
	memset(out, 0, sizeof(*out));
	if ((err = lw__read_file(&text, &len, path, USER_SPEC_MAX)) < 0)
		return err;
	err = lw_dock_user_spec_parse(out, text, len, path);
	free(text);
	return err;
}

void lw_dock_user_spec_dispose(lw_dock_user_spec *s)
{
	if (!s)
		return;
	lw_rkme_free(s->rkme);
	lw_text_spec_free(s->text);
	lw_rkme_image_free(s->image);
	memset(s, 0, sizeof(*s));
}

void lw_dock_query_set_spec(lw_dock_query *q, const lw_dock_user_spec *s)
{
	q->rkme = s->rkme;
	q->text = s->text;
	q->image = s->image;
}

const char *lw_dock_user_spec_type(const lw_dock_user_spec *s)
{
	return s->text ? LW__TEXT_SPEC : s->image ? LW__IMAGE_SPEC : s->rkme ? LW__TABLE_SPEC : NULL;
}
