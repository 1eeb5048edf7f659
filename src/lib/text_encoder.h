/*
 * The text encoder's internals (src/lib/text_encoder.c), shared with its
 * builder, tools/build_text_encoder.c.  docs/text.md describes the model;
 * this header describes the file.
 *
 * data/text-encoder.bin, all numbers little-endian:
 *
 *   offset  size  field
 *        0     8  magic "LWTXTENC"
 *        8     4  file format version (1)
 *       12     4  header size in bytes (256): the body starts there
 *       16    48  encoder name, NUL-padded ("lw-text-hash-svd-256")
 *       64     4  encoder version (1)
 *       68     4  idf_log2: the IDF table has 2^idf_log2 entries
 *       72     4  proj_dim: dimension of the random projection (1024)
 *       76     4  out_dim: dimension of the output (256)
 *       80     4  proj_nnz: non-zeros per feature in the projection (8)
 *       84     4  char_min: shortest character n-gram (3)
 *       88     4  char_max: longest character n-gram (5)
 *       92     4  word_max: longest word n-gram (1: words; 2: and bigrams)
 *       96     8  seed of the feature hashes
 *      104     4  idf_step (float32): a feature's IDF weight = byte * idf_step
 *      108     4  word_weight (float32): weight of the word features
 *      112     4  char_weight (float32): weight of the character n-grams
 *      116     4  corpus documents the IDF and the SVD were fitted on
 *      120    32  SHA-256 of the corpus file
 *      152   104  zero
 *      256        body:
 *                   idf    uint8[2^idf_log2]   IDF weights (sqrt of IDF when shipped)
 *                   mean   float32[proj_dim]           mean of the corpus' projections
 *                   W      binary16[proj_dim][out_dim] the SVD basis, row-major
 *      end-32  32  SHA-256 of every byte before it: the encoder's content hash
 */
#ifndef LW_TEXT_ENCODER_INTERNAL_H
#define LW_TEXT_ENCODER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lw/text.h"
#include "text_tokenize.h"

#define LW_TEXT_MAGIC "LWTXTENC"
#define LW_TEXT_FORMAT 1
#define LW_TEXT_HEADER 256
#define LW_TEXT_NAME_SIZE 48

/* The featuriser's settings, as the file stores them. */
typedef struct {
	uint32_t idf_log2, proj_dim, out_dim, proj_nnz;
	uint32_t char_min, char_max, word_max;
	uint64_t seed;
	float idf_step, word_weight, char_weight;
} lw__text_params;

/* A feature and its count in one text. */
typedef struct {
	uint64_t hash;
	uint32_t count;
} lw__text_feat;

/*
 * Scratch space for featurising texts one after another (zero-initialise,
 * release with lw__text_scratch_dispose): the tokens, and each group's
 * distinct features with their counts, sorted by hash.
 */
typedef struct {
	lw__tokens tokens;
	lw__text_feat *word, *chr;
	size_t n_word, n_chr, cap_word, cap_chr;
	uint64_t *raw;   /* hashes before counting, and the radix sort's buffer */
	size_t cap_raw;
	double *weight;  /* TF-IDF weights of one group, for lw__text_project */
	size_t cap_weight;
} lw__text_scratch;

void lw__text_scratch_dispose(lw__text_scratch *s);

/* Tokenise a text and collect its word and character n-gram features. */
int lw__text_featurize(lw__text_scratch *s, const lw__text_params *p, const char *text, size_t len);

/* The IDF table slot of a feature. */
uint32_t lw__text_idf_slot(const lw__text_params *p, uint64_t hash);

/*
 * The featurised text's TF-IDF vector through the signed sparse random
 * projection: out[proj_dim], L2-normalised, or all zero (return 0) when
 * the text has no features; returns 1 otherwise.
 */
int lw__text_project(double *out, const lw__text_params *p, const uint8_t *idf,
		     const lw__text_scratch *s);

/* IEEE binary16 <-> float, round to nearest even. */
uint16_t lw__half_from_float(float f);
float lw__half_to_float(uint16_t h);

/* Bytes of an encoder file with these dimensions (0 on overflow). */
size_t lw__text_file_size(const lw__text_params *p);

struct lw_text_encoder {
	lw__text_params p;
	char name[LW_TEXT_NAME_SIZE + 1];
	unsigned int version;
	char sha256[65];
	char corpus_sha256[65];
	uint32_t corpus_documents;
	uint8_t *idf;  /* 2^idf_log2 */
	double *W;     /* proj_dim x out_dim */
	double *bias;  /* out_dim: W' mean */
	int builtin;   /* the library's own: lw_text_encoder_free leaves it */
};

#endif
