/*
 * Reusing stored learnwares: their models, opened the way the checker
 * opens them, and their specifications.
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw/package.h"
#include "package.h"
#include "util.h"

/* A fresh folder under $TMPDIR that the sandbox's uid can read. */
static int unpack_dir(char **out, lw_dock *d)
{
	const char *base = getenv("TMPDIR");
	char *dir, **list;

	if (!base || !*base)
		base = "/tmp";
	if (!(dir = lw__mallocarray(strlen(base) + 32, 1)))
		return LW_ENOMEM;
	sprintf(dir, "%s/lwmodel.XXXXXX", base);
	if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a folder under %s", base);
		free(dir);
		return LW_EIO;
	}
	if (!(list = lw__reallocarray(d->unpacked, d->n_unpacked + 1, sizeof(*list)))) {
		rmdir(dir);
		free(dir);
		return LW_ENOMEM;
	}
	d->unpacked = list;
	d->unpacked[d->n_unpacked++] = dir;
	*out = dir;
	return 0;
}

int lw_dock_model_open(lw_model **out, lw_dock *d, const char *id)
{
	lw_learnware_record rec = { 0 };
	lw_model_source src = LW_MODEL_SOURCE_INIT;
	const lw_manifest_model *mm;
	lw_package *pkg = NULL;
	char *dir, *zip = NULL;
	const char *root;
	int err;

	LW_ASSERT_ARG(out && d && id);
	*out = NULL;
	if ((err = lw_store_get(&rec, d->st, id)) < 0)
		return err;
	root = lw_store_root(d->st);
	if (!(zip = lw__mallocarray(strlen(root) + strlen(rec.zip_path) + 2, 1))) {
		err = LW_ENOMEM;
		goto done;
	}
	sprintf(zip, "%s/%s", root, rec.zip_path);
	if ((err = unpack_dir(&dir, d)) < 0 || (err = lw_package_open(&pkg, zip, dir, NULL)) < 0)
		goto done;
	mm = &lw_package_manifest(pkg)->model;
	src.kind = mm->kind;
	src.package_dir = lw_package_dir(pkg);
	src.file = mm->file;
	src.command = (const char *const *)mm->command;
	src.module_path = mm->module_path;
	src.class_name = mm->class_name;
	src.kwargs_json = mm->kwargs_json;
	src.serve_exe = d->o.check.serve_exe;
	if ((err = lw_model_open(out, &src, &d->o.check.limits)) < 0)
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s: %s", id, lw_error_last()->message);
done:
	lw_package_free(pkg);
	free(zip);
	lw_learnware_record_dispose(&rec);
	return err;
}

int lw_dock_rkme(lw_rkme **out, lw_dock *d, const char *id)
{
	char *json = NULL;
	int err;

	LW_ASSERT_ARG(out && d && id);
	*out = NULL;
	if ((err = lw_store_spec_get(&json, d->st, id, LW__TABLE_SPEC)) < 0)
		return err;
	err = lw_rkme_from_json(out, json, strlen(json), id);
	free(json);
	return err;
}
