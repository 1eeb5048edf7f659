/*
 * The struct behind lw_package and what manifest.c, zipsafe.c and
 * package.c share: path rules, the manifest's file references and safe
 * extraction.
 */
#ifndef LW_PACKAGE_INTERNAL_H
#define LW_PACKAGE_INTERNAL_H

#include <stdarg.h>

#include "lw/package.h"

/* Names inside a package: bytes, '/'-separated components, and depth. */
#define LW__NAME_MAX 1024
#define LW__COMPONENT_MAX 255
#define LW__DEPTH_MAX 32
/* learnware.yaml is a few hundred bytes; anything near this is not a manifest. */
#define LW__MANIFEST_MAX_BYTES ((size_t)1 << 20)

struct lw_package {
	char *dir; /* absolute */
	lw_manifest manifest;
	lw_package_file *files; /* sorted by name; names owned */
	size_t num_files;
	char *stripped; /* folder stripped from a zip's names, or NULL */
};

/*
 * Normalise a relative name ("./a//b" -> "a/b", a trailing '/' dropped).
 * Returns NULL with *why set ("is absolute", "has a '..' component", ...)
 * when the name cannot denote a file inside a package: empty, absolute,
 * '..', backslashes, control bytes, a drive letter, too long or too deep.
 * Returns NULL with *why NULL when out of memory.
 */
char *lw__path_normalise(const char *name, const char **why);

/*
 * Call fn for each file the manifest names, with the key that names it
 * ("model.file", "stat_specifications[0].file_name") and a pointer to the
 * path, which fn may replace (freeing the old one).  Stops at the first
 * non-zero return and returns it.
 */
typedef int (*lw__manifest_file_fn)(const char *key, char **path, void *payload);
int lw__manifest_each_file(lw_manifest *m, lw__manifest_file_fn fn, void *payload);

/* How many leading bytes of s are valid UTF-8. */
size_t lw__utf8_prefix(const unsigned char *s, size_t n);

/* Append a warning to the manifest; 0 or LW_ENOMEM. */
int lw__manifest_warn(lw_manifest *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A deep copy of a manifest. */
int lw__manifest_copy(lw_manifest *out, const lw_manifest *m);

/* What lw__zip_extract did. */
typedef struct {
	char *stripped; /* the stripped top folder, or NULL */
	int created;    /* extract_dir did not exist before */
} lw__extract_info;

/*
 * Check every entry of the zip (names, types, declared sizes, limits)
 * without writing anything.  Errors name the zip and the entry.
 */
int lw__zip_scan(const char *zip_path, const lw_package_limits *limits);

/*
 * Scan, then extract into dir (created, or an existing empty folder).  On
 * failure nothing written stays behind (dir is removed again if this call
 * created it).
 */
int lw__zip_extract(lw__extract_info *out, const char *zip_path, const char *dir,
		    const lw_package_limits *limits);

/* Remove everything below dir, and dir itself when remove_root; never follows links. */
void lw__remove_tree(const char *dir, int remove_root);

#endif
