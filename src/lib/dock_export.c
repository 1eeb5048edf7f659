/*
 * Export and import of a whole dock: one zip holding dock.json (the
 * records) and learnwares/<id>.zip (the packages, stored as they are).
 * Import treats the file as untrusted: names are matched exactly, sizes
 * and ratios are bounded, and every learnware is checked again on add.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "lw/package.h"
#include "package.h"
#include "util.h"

#define EXPORT_FORMAT "learnware-dock-export"
#define EXPORT_VERSION 1
#define DOCK_JSON_MAX ((zip_uint64_t)256 << 20)
#define LIST_PAGE 1000

static int zip_fail(zip_t *za, const char *what, const char *path)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s %s: %s", what, path, za ? zip_strerror(za) : "cannot open");
	return LW_EIO;
}

static json_t *record_json(const lw_learnware_record *r, const char *file)
{
	json_t *sem = r->semantic_json ? json_loads(r->semantic_json, 0, NULL) : NULL;

	return json_pack("{s:s, s:s?, s:o, s:i, s:i, s:I, s:I, s:s, s:s}", "id", r->id, "owner",
			 r->owner, "semantic", sem ? sem : json_object(), "status", r->status,
			 "usability", r->usability, "created", (json_int_t)r->created, "updated",
			 (json_int_t)r->updated, "sha256", r->content_sha256, "file", file);
}

/* Add one learnware's record and package to the archive. */
static int export_one(zip_t *za, json_t *list, lw_dock *d, const lw_learnware_record *r)
{
	const char *root = lw_store_root(d->st);
	char name[64], *path;
	zip_source_t *src;
	zip_int64_t idx;

	snprintf(name, sizeof(name), "learnwares/%s.zip", r->id);
	if (!(path = lw__mallocarray(strlen(root) + strlen(r->zip_path) + 2, 1)))
		return LW_ENOMEM;
	sprintf(path, "%s/%s", root, r->zip_path);
	src = zip_source_file(za, path, 0, -1);
	free(path);
	if (!src || (idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8)) < 0) {
		zip_source_free(src);
		return zip_fail(za, "cannot add to the export", name);
	}
	/* Packages are zips already: store them as they are. */
	zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
	zip_file_set_mtime(za, (zip_uint64_t)idx, (time_t)(r->updated / 1000), 0);
	if (json_array_append_new(list, record_json(r, name)) < 0)
		return LW_ENOMEM;
	return 0;
}

static int add_dock_json(zip_t *za, json_t *doc)
{
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	zip_source_t *src;

	if (!text)
		return LW_ENOMEM;
	/* libzip frees the buffer (freep = 1) once the archive is written. */
	if (!(src = zip_source_buffer(za, text, strlen(text), 1))) {
		free(text);
		return zip_fail(za, "cannot write", "dock.json");
	}
	if (zip_file_add(za, "dock.json", src, ZIP_FL_ENC_UTF_8) < 0) {
		zip_source_free(src);
		return zip_fail(za, "cannot write", "dock.json");
	}
	return 0;
}

int lw_dock_export(size_t *count, lw_dock *d, const char *zip_path)
{
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	json_t *doc, *list;
	zip_t *za;
	char after[16] = "";
	size_t n = 0;
	int err = 0, code = 0;

	LW_ASSERT_ARG(d && zip_path);
	/* libzip writes a temporary file and renames it on close: never half an export. */
	if (!(za = zip_open(zip_path, ZIP_CREATE | ZIP_TRUNCATE, &code))) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create %s", zip_path);
		return LW_EIO;
	}
	list = json_array();
	doc = json_pack("{s:s, s:i, s:s, s:o}", "format", EXPORT_FORMAT, "version", EXPORT_VERSION,
			"backend", lw_store_backend(d->st), "learnwares", list);
	if (!doc) {
		err = LW_ENOMEM;
		goto done;
	}
	f.limit = LIST_PAGE;
	for (;;) {
		lw_learnware_list l = { NULL, 0 };

		f.after_id = after[0] ? after : NULL;
		if ((err = lw_store_list(&l, d->st, &f)) < 0)
			break;
		for (size_t i = 0; i < l.count && err == 0; i++, n++)
			err = export_one(za, list, d, &l.items[i]);
		if (l.count)
			snprintf(after, sizeof(after), "%s", l.items[l.count - 1].id);
		lw_learnware_list_dispose(&l);
		if (err < 0 || l.count < LIST_PAGE)
			break;
		if (d->o.progress && d->o.progress("exporting", (double)n, d->o.payload) != 0) {
			err = LW_ECANCEL;
			break;
		}
	}
	if (err == 0)
		err = add_dock_json(za, doc);
done:
	json_decref(doc);
	if (err == 0 && zip_close(za) != 0) {
		err = zip_fail(za, "cannot write", zip_path);
		zip_discard(za);
	} else if (err < 0) {
		zip_discard(za);
		unlink(zip_path);
	}
	if (count)
		*count = n;
	return err;
}

/* --- import ------------------------------------------------------------------ */

/* Read a whole entry, refusing more than max bytes or a bomb-like ratio. */
static int read_entry(char **out, zip_uint64_t *len, zip_t *za, zip_int64_t idx,
		      zip_uint64_t max, const char *name)
{
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;
	zip_stat_t st;
	zip_file_t *zf;
	char *buf;
	zip_int64_t got;

	zip_stat_init(&st);
	if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) ||
	    !(st.valid & ZIP_STAT_COMP_SIZE))
		return zip_fail(za, "cannot read", name);
	if (st.size > max || (st.size > lim.ratio_min_bytes &&
			      (double)st.size > lim.max_ratio * (double)(st.comp_size + 1))) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: %llu bytes (%llu compressed) is over the limits",
			     name, (unsigned long long)st.size, (unsigned long long)st.comp_size);
		return LW_EINVALID;
	}
	if (!(buf = lw__mallocarray(st.size + 1, 1)))
		return LW_ENOMEM;
	if (!(zf = zip_fopen_index(za, (zip_uint64_t)idx, 0))) {
		free(buf);
		return zip_fail(za, "cannot read", name);
	}
	got = zip_fread(zf, buf, st.size);
	zip_fclose(zf);
	if (got < 0 || (zip_uint64_t)got != st.size) {
		free(buf);
		lw_error_set(LW_ERRCLASS_INVALID, "%s: truncated or corrupt entry", name);
		return LW_EINVALID;
	}
	buf[st.size] = '\0';
	*out = buf;
	*len = st.size;
	return 0;
}

/* "learnwares/<digits>.zip" and nothing else. */
static int valid_member_name(const char *s)
{
	size_t n;

	if (!s || strncmp(s, "learnwares/", 11))
		return 0;
	s += 11;
	n = strspn(s, "0123456789");
	return n > 0 && n <= 12 && !strcmp(s + n, ".zip");
}

static int import_one(lw_dock *d, zip_t *za, json_t *item, const char *tmp_zip, size_t *added,
		      size_t *skipped, size_t *refused)
{
	const char *file = json_string_value(json_object_get(item, "file"));
	const char *owner = json_string_value(json_object_get(item, "owner"));
	const char *id = json_string_value(json_object_get(item, "id"));
	json_t *sem = json_object_get(item, "semantic");
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;
	lw_dock_added a;
	zip_uint64_t len;
	zip_int64_t idx;
	char *data = NULL, *sem_text = NULL;
	int err;

	if (!valid_member_name(file) || (idx = zip_name_locate(za, file, 0)) < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "dock.json names '%s', which is not a package in the export",
			     file ? file : "(no file)");
		return LW_EINVALID;
	}
	if ((err = read_entry(&data, &len, za, idx, lim.max_total_bytes, file)) < 0)
		return err;
	err = lw__write_file_atomic(tmp_zip, data, (size_t)len);
	free(data);
	if (err < 0)
		return err;
	if (json_is_object(sem) && json_object_size(sem) && !(sem_text = json_dumps(sem, JSON_COMPACT)))
		return LW_ENOMEM;
	/* Ids survive an import into a dock that never gave them. */
	err = lw__dock_add_as(&a, d, tmp_zip, sem_text, owner, id);
	free(sem_text);
	lw_dock_added_dispose(&a);
	if (err == 0)
		(*added)++;
	else if (err == LW_EEXISTS)
		(*skipped)++;
	else if (err == LW_EINVALID)
		(*refused)++;
	else
		return err;
	return 0;
}

static int import_all(size_t *added, size_t *skipped, size_t *refused, lw_dock *d, const char *zip_path);

/* The heterogeneous map is trained once after the import, not after each learnware. */
int lw_dock_import(size_t *added, size_t *skipped, size_t *refused, lw_dock *d, const char *zip_path)
{
	int hold, err;

	LW_ASSERT_ARG(d && zip_path);
	hold = d->o.hetero_auto;
	d->o.hetero_auto = 0;
	err = import_all(added, skipped, refused, d, zip_path);
	d->o.hetero_auto = hold;
	if (err == 0 && hold)
		lw_dock_hetero_train(NULL, d, 0); /* a failure leaves it due: the next add retries */
	return err;
}

static int import_all(size_t *added, size_t *skipped, size_t *refused, lw_dock *d, const char *zip_path)
{
	size_t n_added = 0, n_skipped = 0, n_refused = 0;
	json_t *doc = NULL, *list;
	json_error_t jerr;
	zip_t *za;
	zip_int64_t idx;
	zip_uint64_t len;
	char *text = NULL, tmpdir[4096], tmp_zip[4200];
	const char *base = getenv("TMPDIR");
	int err, code = 0;

	LW_ASSERT_ARG(d && zip_path);
	if (!(za = zip_open(zip_path, ZIP_RDONLY | ZIP_CHECKCONS, &code))) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s is not a readable zip (libzip error %d)", zip_path, code);
		return LW_EINVALID;
	}
	if ((idx = zip_name_locate(za, "dock.json", 0)) < 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s has no dock.json: not a dock export", zip_path);
		zip_discard(za);
		return LW_EINVALID;
	}
	if ((err = read_entry(&text, &len, za, idx, DOCK_JSON_MAX, "dock.json")) < 0)
		goto done;
	if (!(doc = json_loadb(text, (size_t)len, 0, &jerr))) {
		lw_error_set(LW_ERRCLASS_JSON, "%s: dock.json line %d: %s", zip_path, jerr.line, jerr.text);
		err = LW_EINVALID;
		goto done;
	}
	list = json_object_get(doc, "learnwares");
	if (strcmp(json_string_value(json_object_get(doc, "format")) ?
		   json_string_value(json_object_get(doc, "format")) : "", EXPORT_FORMAT) ||
	    json_integer_value(json_object_get(doc, "version")) != EXPORT_VERSION || !json_is_array(list)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: dock.json is not a version %d %s", zip_path,
			     EXPORT_VERSION, EXPORT_FORMAT);
		err = LW_EINVALID;
		goto done;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/lwimport.XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir)) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a work folder for the import");
		err = LW_EIO;
		goto done;
	}
	snprintf(tmp_zip, sizeof(tmp_zip), "%s/learnware.zip", tmpdir);
	for (size_t i = 0; i < json_array_size(list) && err == 0; i++) {
		err = import_one(d, za, json_array_get(list, i), tmp_zip, &n_added, &n_skipped, &n_refused);
		if (err == LW_EINVALID) {
			n_refused++;
			err = 0;
		}
		if (err == 0 && d->o.progress &&
		    d->o.progress("importing", (double)(i + 1) / (double)json_array_size(list),
				  d->o.payload) != 0)
			err = LW_ECANCEL;
	}
	unlink(tmp_zip);
	rmdir(tmpdir);
done:
	json_decref(doc);
	free(text);
	zip_discard(za);
	if (added)
		*added = n_added;
	if (skipped)
		*skipped = n_skipped;
	if (refused)
		*refused = n_refused;
	return err;
}
