/*
 * The text encoder's tokeniser (src/lib/text_tokenize.c): UTF-8 text to
 * lower-cased word tokens.  Internal; docs/text.md describes the rules.
 */
#ifndef LW_TEXT_TOKENIZE_H
#define LW_TEXT_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

/* Longest token, in code points: longer runs are cut into pieces this long. */
#define LW_TEXT_MAX_TOKEN 64

/* What a code point is to the tokeniser. */
enum {
	LW_TEXT_SEP = 0,     /* separates tokens: spaces, punctuation, symbols, invalid bytes */
	LW_TEXT_WORD = 1,    /* part of a word: letters, digits, combining marks */
	LW_TEXT_ISOLATED = 2 /* a token on its own: CJK ideographs, kana */
};

/*
 * The tokens of one text, lower-cased code points back to back: token i is
 * cp[start[i]] .. cp[start[i + 1] - 1].  Zero-initialise, reuse across
 * texts (buffers grow as needed), release with lw__tokens_dispose.
 */
typedef struct {
	uint32_t *cp;
	size_t *start; /* count + 1 entries */
	size_t count;
	size_t cp_cap, start_cap;
} lw__tokens;

/* Class of one code point (LW_TEXT_SEP, LW_TEXT_WORD or LW_TEXT_ISOLATED). */
int lw__text_cp_class(uint32_t c);

/*
 * Split len bytes of UTF-8 text into tokens.  Bytes that are not valid
 * UTF-8 separate tokens; nothing is refused.  0 or LW_ENOMEM.
 */
int lw__text_tokenize(lw__tokens *t, const char *text, size_t len);

/* Token i as UTF-8 into buf (NUL-terminated, cut to fit); returns its byte length. */
size_t lw__tokens_utf8(const lw__tokens *t, size_t i, char *buf, size_t size);

void lw__tokens_dispose(lw__tokens *t);

#endif
