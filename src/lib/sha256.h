/*
 * SHA-256 (FIPS 180-4), for content hashes of learnware files.  Internal.
 */
#ifndef LW_SHA256_H
#define LW_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define LW_SHA256_HEX 65 /* 64 lowercase hex digits and a NUL */

typedef struct {
	uint32_t h[8];
	uint64_t bytes; /* message length so far */
	uint8_t block[64];
	size_t used; /* bytes waiting in block */
} lw__sha256;

void lw__sha256_init(lw__sha256 *c);
void lw__sha256_update(lw__sha256 *c, const void *data, size_t len);
/* Finish and write the 32-byte digest; c must be initialised again before reuse. */
void lw__sha256_final(uint8_t digest[32], lw__sha256 *c);
/* Digest as lowercase hex, the form the store keeps. */
void lw__sha256_hex(char out[LW_SHA256_HEX], const uint8_t digest[32]);
/* One-shot hex digest of a buffer. */
void lw__sha256_buf(char out[LW_SHA256_HEX], const void *data, size_t len);

#endif
