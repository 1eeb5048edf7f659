/*
 * Learnware packages: open a zip (extracted by zipsafe.c) or a folder,
 * read its manifest and check the files it names; pack a folder into a
 * reproducible zip.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "package.h"
#include "util.h"

/* 1980-01-01 00:00, the earliest DOS date: every packed entry gets it. */
#define DOS_DATE_1980 ((1 << 5) | 1)
#define DOS_TIME_MIDNIGHT 0

void lw_package_limits_init(lw_package_limits *limits)
{
	lw_package_limits d = LW_PACKAGE_LIMITS_INIT;

	*limits = d;
}

void lw_pack_options_init(lw_pack_options *opts)
{
	lw_pack_options d = LW_PACK_OPTIONS_INIT;

	*opts = d;
}

static char *join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *s = lw__mallocarray(a + b + 2, 1);

	if (s) {
		memcpy(s, dir, a);
		s[a] = '/';
		memcpy(s + a + 1, name, b + 1);
	}
	return s;
}

/* --- the files of a folder --------------------------------------------------------- */

typedef struct {
	lw_package *p;
	const char *label; /* the folder as the caller named it */
	const lw_package_limits *lim;
	uint64_t total;
} walker;

static int walk_fail(const walker *w, const char *rel, const char *what)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s/%s %s", w->label, rel, what);
	return LW_EINVALID;
}

static int add_file(walker *w, char *rel, const struct stat *st)
{
	lw_package *p = w->p;
	lw_package_file *grown;
	char what[160];

	if (p->num_files >= w->lim->max_entries) {
		snprintf(what, sizeof(what), "is one file too many: a package holds at most %zu",
			 w->lim->max_entries);
		return walk_fail(w, rel, what);
	}
	if ((uint64_t)st->st_size > w->lim->max_file_bytes ||
	    (w->total += (uint64_t)st->st_size) > w->lim->max_total_bytes) {
		snprintf(what, sizeof(what), "takes the package over its size limits (%llu bytes a "
			 "file, %llu in all)", (unsigned long long)w->lim->max_file_bytes,
			 (unsigned long long)w->lim->max_total_bytes);
		return walk_fail(w, rel, what);
	}
	if (!(grown = lw__reallocarray(p->files, p->num_files + 1, sizeof(*grown))))
		return LW_ENOMEM;
	p->files = grown;
	grown[p->num_files].name = rel;
	grown[p->num_files].size = (uint64_t)st->st_size;
	grown[p->num_files].executable = (st->st_mode & S_IXUSR) != 0;
	p->num_files++;
	return 0;
}

static int walk_dir(walker *w, int fd, const char *prefix, int depth);

/* One directory entry: a file is recorded, a folder walked, anything else refused. */
static int walk_entry(walker *w, int dfd, const char *name, const char *prefix, int depth)
{
	char *rel = prefix ? join(prefix, name) : lw__strdup(name), *norm;
	const char *why = NULL;
	struct stat st;
	int err = 0, fd;

	if (!rel)
		return LW_ENOMEM;
	norm = lw__path_normalise(rel, &why);
	if (!norm && !why) {
		err = LW_ENOMEM;
	} else if (!norm || strcmp(norm, rel)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s/%s: a package cannot hold this name (it %s)",
			     w->label, rel, why ? why : "is not in normal form");
		err = LW_EINVALID;
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s/%s", w->label, rel);
		err = LW_EIO;
	} else if (S_ISLNK(st.st_mode)) {
		err = walk_fail(w, rel, "is a symbolic link; a package holds regular files only "
				"(copy the file in instead)");
	} else if (S_ISREG(st.st_mode)) {
		if ((err = add_file(w, rel, &st)) == 0)
			rel = NULL;
	} else if (!S_ISDIR(st.st_mode)) {
		err = walk_fail(w, rel, "is not a regular file or folder");
	} else if (depth >= LW__DEPTH_MAX) {
		err = walk_fail(w, rel, "is nested more than 32 folders deep");
	} else if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s/%s", w->label, rel);
		err = LW_EIO;
	} else {
		err = walk_dir(w, fd, rel, depth + 1);
	}
	free(norm);
	free(rel);
	return err;
}

/* Walk the folder open as fd (which this call closes). */
static int walk_dir(walker *w, int fd, const char *prefix, int depth)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int err = 0;

	if (!d) {
		close(fd);
		lw_error_set(LW_ERRCLASS_OS, "cannot read %s/%s", w->label, prefix ? prefix : "");
		return LW_EIO;
	}
	while (!err && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			err = walk_entry(w, dirfd(d), de->d_name, prefix, depth);
	closedir(d);
	return err;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const lw_package_file *)a)->name, ((const lw_package_file *)b)->name);
}

static const lw_package_file *find_file(const lw_package *p, const char *name)
{
	lw_package_file key = { name, 0, 0 };

	return p->num_files ? bsearch(&key, p->files, p->num_files, sizeof(key), by_name) : NULL;
}

static int list_files(lw_package *p, const char *label, const lw_package_limits *lim)
{
	walker w = { p, label, lim, 0 };
	int fd, err;

	if ((fd = open(p->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open %s", label);
		return LW_EIO;
	}
	if ((err = walk_dir(&w, fd, NULL, 0)) < 0)
		return err;
	if (p->num_files)
		qsort(p->files, p->num_files, sizeof(*p->files), by_name);
	return 0;
}

/* --- the manifest and the files it names ------------------------------------------- */

typedef struct {
	lw_package *p;
	const char *source;
	int flattened; /* a zip with every file at the top, as the reference writes them */
} resolver;

/* A named file must be in the list; a flattened zip holds it under its base name. */
static int resolve_one(const char *key, char **path, void *payload)
{
	resolver *r = payload;
	const char *base = strrchr(*path, '/');
	char *flat;

	if (find_file(r->p, *path))
		return 0;
	if (r->flattened && base && find_file(r->p, base + 1)) {
		if (!(flat = lw__strdup(base + 1)) ||
		    lw__manifest_warn(&r->p->manifest, "%s: %s: '%s' read as '%s' (the zip holds "
				      "every file at its top)", r->source, key, *path, flat) < 0) {
			free(flat);
			return LW_ENOMEM;
		}
		free(*path);
		*path = flat;
		return 0;
	}
	lw_error_set(LW_ERRCLASS_INVALID, "%s: %s: '%s' is not in the package", r->source, key,
		     *path);
	return LW_ENOTFOUND;
}

static int no_manifest(const lw_package *p, const char *label)
{
	char list[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < p->num_files && i < 5 && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 p->files[i].name);
	lw_error_set(LW_ERRCLASS_INVALID, "%s has no " LW_MANIFEST_FILE " at its top (it holds %s%s); "
		     "see docs/package.md", label, p->num_files ? list : "no files",
		     p->num_files > 5 ? ", ..." : "");
	return LW_ENOTFOUND;
}

static int read_manifest(lw_package *p, const char *label, const char *source, const char *yaml)
{
	char *path, *text;
	size_t len;
	int err;

	if (!find_file(p, LW_MANIFEST_FILE)) {
		if (!yaml)
			return no_manifest(p, label);
		return lw_manifest_parse(&p->manifest, yaml, strlen(yaml), source);
	}
	if (!(path = join(p->dir, LW_MANIFEST_FILE)))
		return LW_ENOMEM;
	err = lw__read_file(&text, &len, path, LW__MANIFEST_MAX_BYTES);
	free(path);
	if (err < 0)
		return err;
	err = lw_manifest_parse(&p->manifest, text, len, source);
	free(text);
	return err;
}

static int flattened(const lw_package *p)
{
	for (size_t i = 0; i < p->num_files; i++)
		if (strchr(p->files[i].name, '/'))
			return 0;
	return 1;
}

static int check_manifest(lw_package *p, const char *source, int from_zip)
{
	resolver r = { p, source, from_zip && flattened(p) };
	lw_manifest *m = &p->manifest;

	/* The reference client's name for it, picked up when the manifest does not say. */
	if (!m->semantic_spec && find_file(p, "semantic_specification.json") &&
	    !(m->semantic_spec = lw__strdup("semantic_specification.json")))
		return LW_ENOMEM;
	return lw__manifest_each_file(m, resolve_one, &r);
}

/*
 * Open the folder dir.  label names it in messages (the zip, for an
 * extracted one); yaml stands in for a missing learnware.yaml (packing).
 */
static int open_folder(lw_package **out, const char *dir, const char *label, int from_zip,
		       const char *yaml, const lw_package_limits *limits)
{
	lw_package_limits lim;
	lw_package *p;
	char *source = NULL;
	int err;

	*out = NULL;
	lw_package_limits_init(&lim);
	if (limits)
		lim = *limits;
	if (!(p = lw__calloc(1, sizeof(*p))))
		return LW_ENOMEM;
	if (!(p->dir = realpath(dir, NULL))) {
		lw_error_set(LW_ERRCLASS_OS, "cannot open the package folder %s", dir);
		err = errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
		goto done;
	}
	if (!(source = lw__mallocarray(strlen(label) + sizeof(LW_MANIFEST_FILE) + 2, 1))) {
		err = LW_ENOMEM;
		goto done;
	}
	sprintf(source, "%s%s" LW_MANIFEST_FILE, label, from_zip ? ": " : "/");
	if ((err = list_files(p, label, &lim)) < 0 ||
	    (err = read_manifest(p, label, source, yaml)) < 0 ||
	    (err = check_manifest(p, source, from_zip)) < 0)
		goto done;
	*out = p;
	p = NULL;
done:
	free(source);
	lw_package_free(p);
	return err;
}

int lw_package_open_dir(lw_package **out, const char *dir, const lw_package_limits *limits)
{
	LW_ASSERT_ARG(out && dir);
	*out = NULL;
	return open_folder(out, dir, dir, 0, NULL, limits);
}

int lw_package_open(lw_package **out, const char *zip_path, const char *extract_dir,
		    const lw_package_limits *limits)
{
	lw__extract_info info;
	int err;

	LW_ASSERT_ARG(out && zip_path && extract_dir);
	*out = NULL;
	if ((err = lw__zip_extract(&info, zip_path, extract_dir, limits)) < 0)
		return err;
	if ((err = open_folder(out, extract_dir, zip_path, 1, NULL, limits)) < 0) {
		lw__remove_tree(extract_dir, info.created);
		free(info.stripped);
		return err;
	}
	(*out)->stripped = info.stripped;
	return 0;
}

const lw_manifest *lw_package_manifest(const lw_package *p)
{
	return &p->manifest;
}

const char *lw_package_dir(const lw_package *p)
{
	return p->dir;
}

const lw_package_file *lw_package_files(const lw_package *p, size_t *count)
{
	*count = p->num_files;
	return p->files;
}

const char *lw_package_stripped_folder(const lw_package *p)
{
	return p->stripped;
}

int lw_package_path(char **out, const lw_package *p, const char *name)
{
	const char *why;
	char *norm;

	LW_ASSERT_ARG(out && p && name);
	*out = NULL;
	if (!(norm = lw__path_normalise(name, &why))) {
		if (!why)
			return LW_ENOMEM;
		lw_error_set(LW_ERRCLASS_INVALID, "%s: '%s' %s; name a file inside the package",
			     p->dir, name, why);
		return LW_EINVALID;
	}
	if (!find_file(p, norm)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: no file '%s' in the package", p->dir, norm);
		free(norm);
		return LW_ENOTFOUND;
	}
	*out = join(p->dir, norm);
	free(norm);
	return *out ? 0 : LW_ENOMEM;
}

void lw_package_free(lw_package *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->num_files; i++)
		free((char *)p->files[i].name);
	free(p->files);
	lw_manifest_dispose(&p->manifest);
	free(p->dir);
	free(p->stripped);
	free(p);
}

/* --- packing ----------------------------------------------------------------------- */

enum { PACK_DEFLATE = 0, PACK_STORE = 1, PACK_SKIP = 2 };

typedef struct {
	const lw_package *p;
	const char *zip_path; /* the final name, for messages */
	const char *yaml;     /* learnware.yaml to add from memory, or NULL */
	unsigned char *how;   /* per file: PACK_* */
} packer;

/* Fixed time and mode: the same folder gives the same bytes. */
static int add_entry(zip_t *za, const char *name, zip_source_t *src, int store, int exec)
{
	zip_uint32_t mode = (zip_uint32_t)(S_IFREG | (exec ? 0755 : 0644));
	zip_int64_t idx;

	if (!src)
		return -1;
	if ((idx = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8)) < 0) {
		zip_source_free(src);
		return -1;
	}
	if (zip_set_file_compression(za, (zip_uint64_t)idx, store ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
				     9) < 0 ||
	    zip_file_set_dostime(za, (zip_uint64_t)idx, DOS_TIME_MIDNIGHT, DOS_DATE_1980, 0) < 0 ||
	    zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX, mode << 16) < 0)
		return -1;
	return 0;
}

static int add_files(zip_t *za, const packer *k)
{
	const lw_package *p = k->p;

	if (k->yaml && add_entry(za, LW_MANIFEST_FILE,
				 zip_source_buffer(za, k->yaml, strlen(k->yaml), 0), 0, 0) < 0)
		return -1;
	for (size_t i = 0; i < p->num_files; i++) {
		char *path;
		int rc;

		if (k->how[i] == PACK_SKIP)
			continue;
		if (!(path = join(p->dir, p->files[i].name)))
			return LW_ENOMEM;
		rc = add_entry(za, p->files[i].name, zip_source_file(za, path, 0, -1),
			       k->how[i] == PACK_STORE, p->files[i].executable);
		free(path);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int write_zip(const packer *k, const char *tmp)
{
	zip_t *za;
	int code, rc;

	if (!(za = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &code))) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, code);
		lw_error_set(LW_ERRCLASS_INVALID, "cannot create %s: %s", tmp, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return LW_EIO;
	}
	if ((rc = add_files(za, k)) == 0 && zip_close(za) == 0)
		return 0;
	if (rc != LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_INVALID, "cannot write %s: %s", k->zip_path, zip_strerror(za));
	zip_discard(za);
	unlink(tmp);
	return rc == LW_ENOMEM ? rc : LW_EIO;
}

/* Files that deflate past the ratio limit are stored instead; 1 when any was marked. */
static int mark_stored(packer *k, const char *tmp, const lw_package_limits *lim)
{
	zip_t *za = zip_open(tmp, ZIP_RDONLY, NULL);
	zip_int64_t n = za ? zip_get_num_entries(za, 0) : 0;
	int marked = 0;

	for (zip_int64_t i = 0; i < n; i++) {
		const lw_package_file *f;
		zip_stat_t st;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 || st.size <= lim->ratio_min_bytes ||
		    (double)st.size <= (double)st.comp_size * lim->max_ratio ||
		    !(f = find_file(k->p, st.name)) || k->how[f - k->p->files] != PACK_DEFLATE)
			continue;
		k->how[f - k->p->files] = PACK_STORE;
		marked = 1;
	}
	if (za)
		zip_discard(za);
	return marked;
}

/* A zip_path inside the folder is the previous output: never pack it into itself. */
static void skip_output(packer *k, const char *zip_path)
{
	char *real = realpath(zip_path, NULL);
	size_t len = strlen(k->p->dir);
	const lw_package_file *f;

	if (real && !strncmp(real, k->p->dir, len) && real[len] == '/' &&
	    (f = find_file(k->p, real + len + 1)))
		k->how[f - k->p->files] = PACK_SKIP;
	free(real);
}

/* A fresh name beside zip_path; libzip creates it (ZIP_EXCL), with the usual mode. */
static int temp_name(char **out, const char *zip_path)
{
	size_t len = strlen(zip_path) + 16;
	int fd;

	if (!(*out = lw__mallocarray(len, 1)))
		return LW_ENOMEM;
	snprintf(*out, len, "%s.tmp.XXXXXX", zip_path);
	if ((fd = mkstemp(*out)) < 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a temporary file beside %s", zip_path);
		free(*out);
		*out = NULL;
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	close(fd);
	unlink(*out);
	return 0;
}

/* Belt and braces: the written zip must open with the limits it was packed for. */
static int verify(const char *tmp, const char *zip_path, const lw_package_limits *lim)
{
	char msg[512];
	int err = lw__zip_scan(tmp, lim);

	if (err < 0) {
		snprintf(msg, sizeof(msg), "%s", lw_error_last()->message);
		lw_error_set(LW_ERRCLASS_INVALID, "%s: the packed zip would be refused: %s", zip_path,
			     msg);
	}
	return err;
}

static void fill_stats(lw_pack_stats *out, const packer *k)
{
	struct stat st;

	for (size_t i = 0; i < k->p->num_files; i++) {
		if (k->how[i] == PACK_SKIP)
			continue;
		out->files++;
		out->bytes += k->p->files[i].size;
	}
	if (k->yaml) {
		out->files++;
		out->bytes += strlen(k->yaml);
	}
	out->zip_bytes = stat(k->zip_path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int pack_into(packer *k, const char *zip_path, const lw_package_limits *lim)
{
	char *tmp = NULL;
	int err;

	if ((err = temp_name(&tmp, zip_path)) < 0)
		return err;
	if ((err = write_zip(k, tmp)) < 0)
		goto done;
	if (mark_stored(k, tmp, lim)) {
		unlink(tmp);
		if ((err = write_zip(k, tmp)) < 0)
			goto done;
	}
	if ((err = verify(tmp, zip_path, lim)) < 0)
		goto done;
	if (rename(tmp, zip_path) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot rename %s to %s", tmp, zip_path);
		err = LW_EIO;
	}
done:
	if (err < 0)
		unlink(tmp);
	free(tmp);
	return err;
}

int lw_package_pack(lw_pack_stats *out, const char *src_dir, const char *zip_path,
		    const lw_pack_options *opts)
{
	lw_pack_options o;
	lw_package_limits lim;
	lw_package *p = NULL;
	packer k = { 0 };
	char *yaml = NULL;
	int err;

	LW_ASSERT_ARG(src_dir && zip_path);
	if (out)
		memset(out, 0, sizeof(*out));
	lw_pack_options_init(&o);
	if (opts)
		o = *opts;
	lw_package_limits_init(&lim);
	if (o.limits)
		lim = *o.limits;
	if (o.manifest && (err = lw_manifest_to_yaml(&yaml, o.manifest)) < 0)
		return err;
	if ((err = open_folder(&p, src_dir, src_dir, 0, yaml, &lim)) < 0)
		goto done;
	if (yaml && find_file(p, LW_MANIFEST_FILE)) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s already has a " LW_MANIFEST_FILE "; pack it as "
			     "it is, or remove it to use the manifest given", src_dir);
		err = LW_EINVALID;
		goto done;
	}
	k = (packer){ p, zip_path, yaml, lw__calloc(p->num_files + 1, 1) };
	if (!k.how) {
		err = LW_ENOMEM;
		goto done;
	}
	skip_output(&k, zip_path);
	if ((err = pack_into(&k, zip_path, &lim)) == 0 && out)
		fill_stats(out, &k);
done:
	free(k.how);
	free(yaml);
	lw_package_free(p);
	return err;
}
