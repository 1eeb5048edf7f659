/*
 * learnware dock - text: the project's sentence encoder, a language
 * identifier and the text RKME (docs/text.md).
 *
 * The reference engine embeds texts with a downloaded SentenceTransformer;
 * this library ships its own encoder instead, data/text-encoder.bin
 * compiled in: hashed word and character n-grams, TF-IDF, a random
 * projection and an SVD fitted on Debian's package descriptions, 256
 * L2-normalised dimensions.  A text specification is the table RKME of its
 * texts' embeddings plus their languages, in the reference's
 * RKMETextSpecification JSON, and records which encoder made it so that
 * specifications from different encoders are never compared.
 */
#ifndef LW_TEXT_H
#define LW_TEXT_H

#include "common.h"
#include "matrix.h"
#include "rkme.h"

LW_BEGIN_DECL

/* ---- the encoder ------------------------------------------------------- */

/** A text encoder.  The built-in one is borrowed; a loaded one is freed by the caller. */
typedef struct lw_text_encoder lw_text_encoder;

/** Name and version of the built-in encoder. */
#define LW_TEXT_ENCODER_NAME "lw-text-hash-svd-256"
#define LW_TEXT_ENCODER_VERSION 1

/**
 * The encoder compiled into the library (data/text-encoder.bin), checked
 * against its content hash on first use.  Borrowed: never free it.
 *
 * @return 0, or LW_EINVALID if the compiled-in file is damaged
 */
LW_EXTERN(int) lw_text_encoder_builtin(const lw_text_encoder **out);

/**
 * An encoder from an encoder file (as tools/build_text_encoder writes),
 * refused with LW_EINVALID unless its trailing SHA-256 matches its content.
 *
 * @param[out] out  owned by the caller; release with lw_text_encoder_free
 * @return 0, LW_ENOTFOUND, LW_EIO, LW_EINVALID, LW_ENOMEM
 */
LW_EXTERN(int) lw_text_encoder_load(lw_text_encoder **out, const char *path);

/** The same from len bytes in memory; source names them in messages. */
LW_EXTERN(int) lw_text_encoder_parse(lw_text_encoder **out, const void *data, size_t len,
				     const char *source);

/** Release a loaded encoder; NULL and the built-in one are left alone. */
LW_EXTERN(void) lw_text_encoder_free(lw_text_encoder *enc);

/** Name, version, content hash (64 lowercase hex digits) and output dimension. */
LW_EXTERN(const char *) lw_text_encoder_name(const lw_text_encoder *enc);
LW_EXTERN(unsigned int) lw_text_encoder_version(const lw_text_encoder *enc);
LW_EXTERN(const char *) lw_text_encoder_sha256(const lw_text_encoder *enc);
LW_EXTERN(size_t) lw_text_encoder_dim(const lw_text_encoder *enc);

/**
 * Embed n texts: row i of out is text i's embedding, of unit length, or
 * all zero when the text has no word (empty, or only punctuation).  The
 * result depends on each text alone, bit for bit, whatever else is in the
 * batch; rows are computed in parallel.
 *
 * @param[out] out  uninitialised; n x lw_text_encoder_dim(enc)
 * @param enc    an encoder, or NULL for the built-in one
 * @param texts  n UTF-8 texts (invalid bytes separate words; nothing is refused)
 * @param lens   their lengths in bytes, or NULL when they are NUL-terminated
 * @return 0, LW_EINVALID, LW_ENOMEM
 */
LW_EXTERN(int) lw_text_encode(lw_mat *out, const lw_text_encoder *enc, const char *const *texts,
			      const size_t *lens, size_t n);

/* ---- languages --------------------------------------------------------- */

#define LW_TEXT_MAX_LANGUAGES 16
#define LW_TEXT_LANGUAGE_SIZE 16

/**
 * A set of language codes: ISO 639-1 ("en", "de", "zh") where the language
 * has one, else ISO 639-3 ("ast"); lower case, the most represented first.
 */
typedef struct {
	size_t count;
	char code[LW_TEXT_MAX_LANGUAGES][LW_TEXT_LANGUAGE_SIZE];
} lw_text_languages;

/**
 * The languages of a set of texts, as the reference's
 * langdetect.detect_langs(" ".join(texts)) reports them: libexttextcat
 * (its 160 UTF-8 language models) classifies the joined texts in chunks of
 * about 400 bytes (chunks mostly in CJK scripts go by script: kana "ja",
 * Hangul "ko", ideographs "zh"), and every language that wins at least 10%
 * of the classified bytes is reported, the most frequent first.  Chunks
 * with fewer than 12 letters count for nothing; when nothing can be
 * classified the set is empty.
 *
 * @param lens  byte lengths, or NULL for NUL-terminated texts
 * @return 0, LW_EINVALID (the language models cannot be read), LW_ENOMEM
 */
LW_EXTERN(int) lw_text_detect_languages(lw_text_languages *out, const char *const *texts,
					const size_t *lens, size_t n);

/**
 * The reference search's rule for text specifications: 1 when every
 * language of the user's is one of the learnware's, else 0 (an empty user
 * set is a subset of anything).  Codes compare case-insensitively on their
 * primary subtag, so the reference's "zh-cn" and "zh-tw" match "zh".
 */
LW_EXTERN(int) lw_text_languages_subset(const lw_text_languages *user,
					const lw_text_languages *learnware);

/* ---- the text RKME ----------------------------------------------------- */

/** A text specification.  Release with lw_text_spec_free. */
typedef struct {
	lw_rkme *rkme;                /**< the table RKME of the texts' embeddings */
	lw_text_languages language;   /**< the texts' languages */
	char encoder[64];             /**< encoder name; "" when the file named none (the reference's) */
	unsigned int encoder_version; /**< 0 when none */
	char encoder_sha256[65];      /**< encoder content hash, hex; "" when none */
} lw_text_spec;

/**
 * Fit a text specification: embed the texts with enc (NULL: the built-in
 * encoder), fit lw_rkme_fit on the embeddings (opts NULL: the reference's
 * defaults, gamma 0.1 and K 100) and detect their languages.  Texts with
 * no word embed as zero vectors and count like any other.
 *
 * @return 0, LW_EINVALID (fewer than 2 texts, bad options), LW_ENOMEM, LW_ECANCEL
 */
LW_EXTERN(int) lw_text_spec_fit(lw_text_spec **out, const lw_text_encoder *enc,
				const char *const *texts, const size_t *lens, size_t n,
				const lw_rkme_options *opts);

LW_EXTERN(void) lw_text_spec_free(lw_text_spec *spec);

/**
 * Parse a specification: the reference's RKMETextSpecification JSON (the
 * table keys plus "language") and this library's encoder keys, which a
 * file written by the reference lacks.  Other keys are ignored.
 */
LW_EXTERN(int) lw_text_spec_from_json(lw_text_spec **out, const char *text, size_t len,
				      const char *source);

/**
 * Serialise: {"z":..,"beta":..,"gamma":..,"num_points":..,
 * "type":"RKMETextSpecification","language":[..],"encoder":"..",
 * "encoder_version":N,"encoder_sha256":".."} (the encoder keys only when
 * set).  Free the result with free().
 */
LW_EXTERN(int) lw_text_spec_to_json(char **out, const lw_text_spec *spec);

LW_EXTERN(int) lw_text_spec_load(lw_text_spec **out, const char *path);
LW_EXTERN(int) lw_text_spec_save(const lw_text_spec *spec, const char *path);

/**
 * Whether spec was made by enc (NULL: the built-in encoder): 0 if its
 * name, version and content hash all match, else LW_EINVALID with a
 * message naming both encoders.  A specification that names no encoder
 * (the reference's) is refused too: its embeddings come from another model.
 */
LW_EXTERN(int) lw_text_spec_check_encoder(const lw_text_spec *spec, const lw_text_encoder *enc);

/**
 * Squared MMD between two text specifications (lw_rkme_dist, with a's
 * gamma); LW_EINVALID, with a message, when they were made by different
 * encoders or their dimensions differ.  Languages are not compared: use
 * lw_text_languages_subset to filter first, as the reference's search does.
 */
LW_EXTERN(int) lw_text_spec_dist(double *out, const lw_text_spec *a, const lw_text_spec *b);

/* ---- reading texts ----------------------------------------------------- */

/**
 * Read texts from a file: with column NULL, one text per line (LF or CRLF,
 * a UTF-8 BOM dropped, blank lines skipped); with a column (a header name
 * or a 1-based index), that column of a CSV file (RFC 4180 quoting, ',' ';'
 * or tab, header detected), empty cells skipped.
 *
 * @param[out] texts  *n NUL-terminated strings; free with lw_text_free_list
 * @return 0, LW_ENOTFOUND (file, column), LW_EIO, LW_EINVALID, LW_ENOMEM
 */
LW_EXTERN(int) lw_text_read(char ***texts, size_t *n, const char *path, const char *column);

/** Free a list from lw_text_read; accepts NULL. */
LW_EXTERN(void) lw_text_free_list(char **texts, size_t n);

LW_END_DECL

#endif
