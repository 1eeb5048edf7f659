/*
 * Internal pieces of the image readers (image.c, image_png.c, image_jpeg.c,
 * image_idx.c).
 */
#ifndef LW_IMAGE_INTERNAL_H
#define LW_IMAGE_INTERNAL_H

#include <stdbool.h>
#include <zlib.h>

#include "lw/image.h"

#define LW_TENSOR_MAGIC "LWTEN\0"
#define LW_TENSOR_MAGIC_LEN 6
#define LW_TENSOR_VERSION 1
#define LW_TENSOR_HEADER_LEN 40
/* Channels a raw tensor may declare. */
#define LW_TENSOR_MAX_CHANNELS 4096

/* What the first bytes of a file say it is. */
typedef enum {
	LW_IMG_UNKNOWN = 0,
	LW_IMG_PNG,
	LW_IMG_JPEG,
	LW_IMG_IDX,
	LW_IMG_TENSOR,
	LW_IMG_GZIP
} lw__image_kind;

lw__image_kind lw__image_sniff(const unsigned char *b, size_t len);

/* One PNG or JPEG in memory: a batch of one image, channels 1 or 3. */
int lw__png_decode(lw_image_batch *out, const unsigned char *buf, size_t len, const char *name,
		   const lw_image_read_options *o);
int lw__jpeg_decode(lw_image_batch *out, const unsigned char *buf, size_t len, const char *name,
		    const lw_image_read_options *o);

/*
 * A byte stream over a (possibly gzipped) file or a memory buffer, read
 * in order: IDX and raw tensors are decoded from one without holding the
 * whole file.
 */
typedef struct {
	gzFile gz;                 /* NULL: memory */
	const unsigned char *mem;
	size_t len, pos;
	const char *name;
	uint64_t consumed;         /* bytes delivered so far */
	int failed;                /* a decompression error: the message is set */
} lw__stream;

/* Read up to n bytes; returns how many (fewer only at the end or on error). */
size_t lw__stream_read(lw__stream *s, void *dst, size_t n);

/*
 * Images chosen while decoding a stream: at most `limit` (0: all), and
 * with `labels` only those with labels[i] == label (nlabels entries).
 */
typedef struct {
	size_t limit;
	const unsigned char *labels;
	size_t nlabels;
	long label;
	size_t max_values; /* refuse to keep more than this many values */
} lw__image_pick;

/* Decode an IDX (uint8, N x H x W) or raw tensor stream after sniffing it. */
int lw__idx_decode(lw_image_batch *out, lw__stream *s, const lw__image_pick *pick,
		   const lw_image_read_options *o);
int lw__tensor_decode(lw_image_batch *out, lw__stream *s, const lw__image_pick *pick,
		      const lw_image_read_options *o);

/* Read an idx1 uint8 label file (gzipped or not): labels owned by the caller. */
int lw__idx_read_labels(unsigned char **labels, size_t *n, const char *path,
			const lw_image_read_options *o);

/* The options with zero limits replaced by their defaults. */
void lw__image_options_fill(lw_image_read_options *dst, const lw_image_read_options *src);

/* Check one image's size against the limits; `name` prefixes the message. */
int lw__image_check_size(size_t h, size_t w, size_t c, const char *name,
			 const lw_image_read_options *o);

#endif
