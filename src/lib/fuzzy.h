/*
 * Text matching for semantic search, as the reference engine does it in
 * Python: str.lower on UTF-8 text, and rapidfuzz's fuzz.partial_ratio on
 * code points.  Not part of the public API (docs/store.md, "Semantic search").
 */
#ifndef LW_FUZZY_H
#define LW_FUZZY_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode UTF-8 into code points; *out (free it) gets *n of them.  A byte
 * that does not start a valid sequence becomes U+DC80 + (byte - 0x80), as
 * Python's surrogateescape decodes it, so no input is lost or refused.
 */
int lw__utf8_decode(uint32_t **out, size_t *n, const char *s, size_t len);

/*
 * Python's str.lower: the Unicode 14 lower-case mappings, U+0130 (capital I
 * with dot) to "i" + U+0307.  One departure: capital sigma is always
 * lowered to U+03C3, where Python writes the final form U+03C2 at the end
 * of a word.  Bytes that are not valid UTF-8 are copied unchanged.  A new
 * string (free it), or NULL with the error set.
 */
char *lw__utf8_lower(const char *s);

/* Python's str.lower of one code point (the single-code-point mappings only). */
uint32_t lw__lower_cp(uint32_t c);

/*
 * rapidfuzz.fuzz.partial_ratio(a, b) (rapidfuzz 3, no processor): the best
 * normalised Indel similarity, 0..100, of the shorter sequence against the
 * windows of the longer one that have its length, and against the longer
 * one's shorter prefixes and suffixes; both ways round for equal lengths.
 * 100 for two empty sequences, 0 when only one is empty.
 *
 * Scores are computed exactly as rapidfuzz computes them,
 * (1 - distance / (len1 + len2)) * 100 in doubles, so they compare equal to
 * its results.  A score below cutoff (0 disables) may be reported as any
 * value below cutoff: windows that cannot reach it are not examined.
 */
double lw__partial_ratio(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, double cutoff);

/* The same on UTF-8 text; a negative value with the error set when out of memory. */
double lw__partial_ratio_utf8(const char *a, const char *b, double cutoff);

#endif
