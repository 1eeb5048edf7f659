/*
 * learnware dock - the learnware package: a zip holding learnware.yaml
 * (the manifest), the model's files, the statistical specifications and
 * the semantic specification.
 *
 * The manifest is a superset of the reference engine's: a reference zip
 * (model class in __init__.py, stat_spec.json) reads as a python-kind
 * learnware, and this dock's own kinds add model.kind, model.file,
 * model.command and the shapes (docs/package.md has the schema).
 *
 * Zips are untrusted: lw_package_open checks every entry name, type and
 * size against lw_package_limits before it writes a byte, counts the bytes
 * it actually decompresses, and removes what it wrote when anything fails.
 */
#ifndef LW_PACKAGE_H
#define LW_PACKAGE_H

#include "common.h"
#include "model.h"

LW_BEGIN_DECL

/** The manifest's file name at the top of a package. */
#define LW_MANIFEST_FILE "learnware.yaml"
/** The manifest format this dock writes and the newest it reads. */
#define LW_MANIFEST_FORMAT_VERSION 1
/** Most dimensions in model.input_shape / model.output_shape. */
#define LW_MANIFEST_MAX_DIMS 8

/** One entry of stat_specifications. */
typedef struct {
	char *module_path; /**< "learnware.specification" */
	char *class_name;  /**< "RKMETableSpecification" */
	char *file_name;   /**< path in the package ("stat_spec.json") */
	char *kwargs_json; /**< the kwargs mapping as compact JSON ("{}") */
} lw_manifest_stat_spec;

/**
 * The model section.  Paths are relative to the package and normalised
 * ("./a//b" reads as "a/b").  The reference's fields (class_name,
 * module_path, kwargs_json) get its defaults when the kind is python and
 * are NULL when absent otherwise.
 */
typedef struct {
	lw_model_kind kind;
	char *file;        /**< linear, logistic, mlp, xgboost: the model file; else NULL */
	char **command;    /**< process: NULL-terminated argv, command[0] a file in the package */
	size_t command_len;
	char *class_name;  /**< python: the class to instantiate ("Model") */
	char *module_path; /**< python: the file defining it ("__init__.py") */
	char *kwargs_json; /**< python: constructor kwargs as compact JSON ("{}") */
	size_t input_shape[LW_MANIFEST_MAX_DIMS];
	size_t input_ndim; /**< 0: not declared */
	size_t output_shape[LW_MANIFEST_MAX_DIMS];
	size_t output_ndim; /**< 0: not declared */
} lw_manifest_model;

/** A parsed learnware.yaml with every default applied.  Release with lw_manifest_dispose. */
typedef struct {
	unsigned int format_version; /**< 1 (also for reference files, which have none) */
	char *name;                  /**< NULL when absent */
	char *id;                    /**< the reference client's `id`; NULL when absent */
	lw_manifest_model model;
	lw_manifest_stat_spec *stat_specs; /**< default: one RKMETableSpecification in stat_spec.json */
	size_t num_stat_specs;
	char *semantic_spec; /**< semantic specification file; NULL when none */
	char **warnings;     /**< keys that were ignored, as the reference ignores them */
	size_t num_warnings;
} lw_manifest;

/**
 * Parse learnware.yaml text.  `source` names the file in messages, which
 * also name the key at fault ("learnware.yaml: model.kind: ...").
 *
 * @param[out] out  caller-allocated; zeroed on failure
 * @return 0 or LW_EINVALID (malformed YAML, a wrong type or value), LW_ENOMEM
 */
LW_EXTERN(int) lw_manifest_parse(lw_manifest *out, const char *text, size_t len,
				 const char *source);

/** Read and parse a manifest file (LW_ENOTFOUND when it does not exist). */
LW_EXTERN(int) lw_manifest_load(lw_manifest *out, const char *path);

/**
 * The manifest as YAML that lw_manifest_parse reads back to the same
 * struct (warnings aside); free the result with free().
 */
LW_EXTERN(int) lw_manifest_to_yaml(char **out, const lw_manifest *m);

/**
 * Check that every file the manifest names (model file, command[0],
 * module_path, specification files) is a regular file inside dir, reached
 * without following a symbolic link.
 *
 * @return 0, LW_ENOTFOUND (a file is missing), LW_EINVALID (not a regular file)
 */
LW_EXTERN(int) lw_manifest_check_files(const lw_manifest *m, const char *dir);

/** Release the manifest's contents and zero it; accepts an empty struct. */
LW_EXTERN(void) lw_manifest_dispose(lw_manifest *m);

/** What a package may hold: applied when opening a zip and when packing. */
typedef struct {
	unsigned int version;
	size_t max_entries;       /**< zip entries or files (10,000) */
	uint64_t max_total_bytes; /**< uncompressed, all files together (2 GiB) */
	uint64_t max_file_bytes;  /**< one file, uncompressed (1 GiB) */
	double max_ratio;         /**< uncompressed / compressed size of an entry (200) */
	uint64_t ratio_min_bytes; /**< entries up to this size skip the ratio check (1 MiB) */
} lw_package_limits;

#define LW_PACKAGE_LIMITS_VERSION 1
#define LW_PACKAGE_LIMITS_INIT                                                         \
	{ LW_PACKAGE_LIMITS_VERSION, 10000, (uint64_t)2 << 30, (uint64_t)1 << 30, 200.0, \
	  (uint64_t)1 << 20 }

LW_EXTERN(void) lw_package_limits_init(lw_package_limits *limits);

/** An opened package: a folder of regular files and its manifest. */
typedef struct lw_package lw_package;

/** One file of a package. */
typedef struct {
	const char *name; /**< relative, '/'-separated */
	uint64_t size;
	int executable;   /**< the owner may execute it */
} lw_package_file;

/**
 * Extract the zip into extract_dir (created when missing; if it exists it
 * must be an empty folder), then parse and check its manifest.  A single
 * folder holding every entry is stripped, as the reference does.  Nothing
 * is written until every entry has passed the name, type and size checks;
 * on any failure what was written is removed again.
 *
 * @param limits  NULL for LW_PACKAGE_LIMITS_INIT
 * @return 0, LW_ENOTFOUND (no zip, no learnware.yaml, a named file is
 *         missing), LW_EINVALID (a hostile or malformed zip or manifest, a
 *         limit exceeded, extract_dir not empty), LW_EIO, LW_ENOMEM
 */
LW_EXTERN(int) lw_package_open(lw_package **out, const char *zip_path, const char *extract_dir,
			       const lw_package_limits *limits);

/**
 * Open an unpacked package folder: every entry must be a regular file or
 * a folder (no symbolic links), within the limits, and the manifest's
 * files must exist.
 */
LW_EXTERN(int) lw_package_open_dir(lw_package **out, const char *dir,
				   const lw_package_limits *limits);

/** The manifest, borrowed from the package. */
LW_EXTERN(const lw_manifest *) lw_package_manifest(const lw_package *p);
/** The package's folder as an absolute path, borrowed. */
LW_EXTERN(const char *) lw_package_dir(const lw_package *p);
/** The files, sorted by name; borrowed. */
LW_EXTERN(const lw_package_file *) lw_package_files(const lw_package *p, size_t *count);
/** The folder stripped from the zip's entry names, or NULL (borrowed). */
LW_EXTERN(const char *) lw_package_stripped_folder(const lw_package *p);

/**
 * Absolute path of the package file `name` (relative; "..", absolute
 * names and names of folders are refused).  Free with free().
 *
 * @return 0, LW_ENOTFOUND (no such file), LW_EINVALID (a bad name), LW_ENOMEM
 */
LW_EXTERN(int) lw_package_path(char **out, const lw_package *p, const char *name);

/** Release the package; its folder stays on disk.  Accepts NULL. */
LW_EXTERN(void) lw_package_free(lw_package *p);

typedef struct {
	unsigned int version;
	/** Written into the zip as learnware.yaml when the folder has none; NULL: use the folder's. */
	const lw_manifest *manifest;
	const lw_package_limits *limits; /**< the package must open within these (NULL: defaults) */
} lw_pack_options;

#define LW_PACK_OPTIONS_VERSION 1
#define LW_PACK_OPTIONS_INIT { LW_PACK_OPTIONS_VERSION, NULL, NULL }

LW_EXTERN(void) lw_pack_options_init(lw_pack_options *opts);

/** What went into a zip. */
typedef struct {
	size_t files;
	uint64_t bytes;     /**< uncompressed */
	uint64_t zip_bytes; /**< the zip file */
} lw_pack_stats;

/**
 * Pack the folder src_dir into zip_path.  The folder is opened as
 * lw_package_open_dir does (manifest parsed, named files present, no
 * symbolic links, within the limits) before anything is written.  Entries
 * are sorted by name with fixed timestamps and modes, so the same folder
 * gives the same bytes; an entry that would trip the ratio limit is
 * stored uncompressed.  The zip is written to a temporary name beside
 * zip_path and renamed over it.  A zip_path inside src_dir is left out.
 *
 * @param[out] out  what went in; may be NULL
 */
LW_EXTERN(int) lw_package_pack(lw_pack_stats *out, const char *src_dir, const char *zip_path,
			       const lw_pack_options *opts);

/**
 * The SHA-256 of a file as 64 lowercase hex digits, the content hash the
 * store keeps and the resumable upload checks.
 * @return 0, or LW_ENOTFOUND / LW_EIO when the file cannot be read.
 */
LW_EXTERN(int) lw_file_sha256(char out[65], const char *path);

LW_END_DECL

#endif
