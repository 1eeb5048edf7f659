/*
 * learnware dock - semantic specifications and their taxonomy.
 *
 * A semantic specification describes a learnware in words: its data type,
 * task, library, scenarios, license, name, description, and the meaning of
 * its input and output features.  The JSON shape is the reference engine's:
 *
 *   {"Data": {"Type": "Class", "Values": ["Table"]},
 *    "Scenario": {"Type": "Tag", "Values": ["Business", "Financial"]},
 *    "Name": {"Type": "String", "Values": "house prices"}, ...,
 *    "Input": {"Dimension": 2, "Description": {"0": "area", "1": "rooms"}}}
 *
 * Which keys exist, their Type and allowed values live in a taxonomy: the
 * built-in one (data/taxonomy.json, embedded at build time) or one a dock
 * loads from a file that extends or replaces it.  Parsing checks only the
 * JSON structure; lw_semantic_validate applies the taxonomy's rules and
 * reports every problem.  See docs/semantic.md.
 */
#ifndef LW_SEMANTIC_H
#define LW_SEMANTIC_H

#include "common.h"

LW_BEGIN_DECL

/** A taxonomy of semantic keys.  Release with lw_taxonomy_free. */
typedef struct lw_taxonomy lw_taxonomy;

/** A parsed semantic specification.  Release with lw_semantic_free. */
typedef struct lw_semantic lw_semantic;

/** The built-in taxonomy (the reference engine's). */
LW_EXTERN(int) lw_taxonomy_builtin(lw_taxonomy **out);

/**
 * A taxonomy from JSON text in the format of data/taxonomy.json.  With
 * "extends": "builtin" it adds to the built-in taxonomy (new keys, new
 * allowed values, new defaults); without, it replaces it.
 */
LW_EXTERN(int) lw_taxonomy_from_json(lw_taxonomy **out, const char *text, size_t len,
				     const char *source);
LW_EXTERN(int) lw_taxonomy_load(lw_taxonomy **out, const char *path);

/** The whole taxonomy as a self-contained file (no "extends"); free() it. */
LW_EXTERN(int) lw_taxonomy_to_json(char **out, const lw_taxonomy *t);

LW_EXTERN(void) lw_taxonomy_free(lw_taxonomy *t);

/** The taxonomy as a human-readable table (one line per key); free() it. */
LW_EXTERN(int) lw_taxonomy_describe(char **out, const lw_taxonomy *t);

/** Number of keys, and the i-th key name (NULL past the end). */
LW_EXTERN(size_t) lw_taxonomy_count(const lw_taxonomy *t);
LW_EXTERN(const char *) lw_taxonomy_key(const lw_taxonomy *t, size_t i);

/** "Class", "Tag" or "String"; NULL for a key the taxonomy lacks. */
LW_EXTERN(const char *) lw_taxonomy_type(const lw_taxonomy *t, const char *key);

/** Allowed values of a Class or Tag key (NULL, *n = 0 otherwise). */
LW_EXTERN(const char *const *) lw_taxonomy_values(size_t *n, const lw_taxonomy *t,
						  const char *key);

/** 1 when a specification must have the key, 0 when it may lack it. */
LW_EXTERN(int) lw_taxonomy_required(const lw_taxonomy *t, const char *key);

/** Parse a specification; `source` names it in messages. */
LW_EXTERN(int) lw_semantic_from_json(lw_semantic **out, const char *text, size_t len,
				     const char *source);
LW_EXTERN(int) lw_semantic_load(lw_semantic **out, const char *path);

/**
 * Serialise in the reference's layout (its json.dump(indent=1): keys in
 * document order, non-ASCII escaped); free the result with free().
 */
LW_EXTERN(int) lw_semantic_to_json(char **out, const lw_semantic *s);
LW_EXTERN(int) lw_semantic_save(const lw_semantic *s, const char *path);

LW_EXTERN(void) lw_semantic_free(lw_semantic *s);

/** Which feature block: "Input" or "Output". */
typedef enum { LW_SEMANTIC_INPUT = 0, LW_SEMANTIC_OUTPUT = 1 } lw_semantic_side;

/*
 * Accessors.  Returned strings are borrowed from the specification and
 * live until it is changed or freed.
 */

/** The key's "Type" as written; NULL when the key or its Type is absent. */
LW_EXTERN(const char *) lw_semantic_type(const lw_semantic *s, const char *key);

/**
 * The key's Values: a list's items, or a string as a one-element list.
 * NULL with *n = 0 when the key or its Values is absent.
 */
LW_EXTERN(const char *const *) lw_semantic_values(size_t *n, const lw_semantic *s,
						  const char *key);

/** The first value of a key ("Table" for Data), or NULL. */
LW_EXTERN(const char *) lw_semantic_first(const lw_semantic *s, const char *key);

/** Shorthands: Data and Task's first value (or NULL), Name and Description ("" if absent). */
LW_EXTERN(const char *) lw_semantic_data(const lw_semantic *s);
LW_EXTERN(const char *) lw_semantic_task(const lw_semantic *s);
LW_EXTERN(const char *) lw_semantic_name(const lw_semantic *s);
LW_EXTERN(const char *) lw_semantic_description(const lw_semantic *s);

/** Input or Output Dimension; LW_ENOTFOUND when the block or its Dimension is absent. */
LW_EXTERN(int) lw_semantic_dim(size_t *out, const lw_semantic *s, lw_semantic_side side);

/** Description of feature i of the block, or NULL when it has none. */
LW_EXTERN(const char *) lw_semantic_feature(const lw_semantic *s, lw_semantic_side side,
					    size_t i);

/*
 * Builder.  Keys keep the order they were first set in; setting a key
 * again replaces its Type and Values in place.
 */

/** An empty specification. */
LW_EXTERN(int) lw_semantic_new(lw_semantic **out);

/** Set a list-valued key ("Class" or "Tag" type); n may be 0. */
LW_EXTERN(int) lw_semantic_set_values(lw_semantic *s, const char *key, const char *type,
				      const char *const *values, size_t n);

/** Set a "String" key. */
LW_EXTERN(int) lw_semantic_set_string(lw_semantic *s, const char *key, const char *text);

/** Create (or reset to no descriptions) the Input or Output block. */
LW_EXTERN(int) lw_semantic_set_dim(lw_semantic *s, lw_semantic_side side, size_t dim);

/** Describe feature i of an existing block (replacing an earlier text). */
LW_EXTERN(int) lw_semantic_set_feature(lw_semantic *s, lw_semantic_side side, size_t i,
				       const char *text);

/** Remove a key ("Input" and "Output" included); LW_ENOTFOUND when absent. */
LW_EXTERN(int) lw_semantic_remove(lw_semantic *s, const char *key);

/**
 * Add each key the specification lacks and the taxonomy has a default for
 * (License: Apache-2.0), as the reference does when it reloads a market.
 * t may be NULL for the built-in taxonomy.
 */
LW_EXTERN(int) lw_semantic_fill_defaults(lw_semantic *s, const lw_taxonomy *t);

/** Outcome of validation; the values are the reference checker's codes. */
typedef enum { LW_SEMANTIC_INVALID = -1, LW_SEMANTIC_OK = 0 } lw_semantic_status;

/** One problem: the key at fault and a message that starts with it. */
typedef struct {
	char *key;
	char *message;
} lw_semantic_problem;

/** Every problem validation found, in taxonomy order.  Empty with _dispose. */
typedef struct {
	lw_semantic_problem *items;
	size_t count;
} lw_semantic_problems;

LW_EXTERN(void) lw_semantic_problems_dispose(lw_semantic_problems *p);

/**
 * Apply the reference's semantic checker: every required key present with
 * the taxonomy's Type; a Class has exactly one allowed value, a Tag one or
 * more, a String is non-empty; Table data needs Input, Classification and
 * Regression need Output (Classification with Dimension > 1), and
 * Description keys lie in [0, Dimension).  Unlike the reference it goes on
 * after the first problem and reports all of them.
 *
 * @param[out] status    LW_SEMANTIC_OK or LW_SEMANTIC_INVALID
 * @param[out] problems  may be NULL; otherwise filled (empty when OK)
 * @param t              NULL for the built-in taxonomy (pass one when
 *                       validating many specifications)
 * @return 0, or LW_ENOMEM / LW_EINVALID for a failure of the call itself
 */
LW_EXTERN(int) lw_semantic_validate(lw_semantic_status *status, lw_semantic_problems *problems,
				    const lw_semantic *s, const lw_taxonomy *t);

/**
 * The reference's semantic tag filter (EasyFuzzSemanticSearcher): for every
 * key of the user's with non-empty Values that the learnware also has,
 * except Name and Description, the learnware's Values must be non-empty; a
 * Class (by the user's Type) matches when the learnware's first value is in
 * the user's list, a Tag when the two lists share a value.
 *
 * @return 1 when the learnware passes, 0 when it does not
 */
LW_EXTERN(int) lw_semantic_matches(const lw_semantic *user, const lw_semantic *learnware);

LW_END_DECL

#endif
