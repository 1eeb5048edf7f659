/*
 * learnware dock - image input: batches of images read from PNG, JPEG,
 * folders of them, IDX files (the MNIST family, optionally gzipped) and raw
 * float32 tensors, and antialiased resizing.
 *
 * A batch holds N images of C channels, H rows and W columns as float32 in
 * N x C x H x W order, values as read: 0..255 for 8-bit files (16-bit PNG is
 * scaled to the same range), anything finite for raw tensors.  Formats,
 * limits and messages: docs/rkme-image.md.
 */
#ifndef LW_IMAGE_H
#define LW_IMAGE_H

#include "common.h"
#include "matrix.h"

LW_BEGIN_DECL

/** N x C x H x W float32 images.  Caller-owned struct; release with lw_image_batch_dispose. */
typedef struct {
	size_t n, c, h, w;
	float *data; /**< n*c*h*w values; image i at data + i*c*h*w, row y of channel ch at +(ch*h + y)*w */
} lw_image_batch;

#define LW_IMAGE_BATCH_INIT { 0, 0, 0, 0, NULL }

/** Allocate a zero-filled batch.  Fails (LW_ENOMEM) on overflow. */
LW_EXTERN(int) lw_image_batch_init(lw_image_batch *b, size_t n, size_t c, size_t h, size_t w);

/** Release the storage; accepts a zeroed or already disposed batch. */
LW_EXTERN(void) lw_image_batch_dispose(lw_image_batch *b);

/** Values per image, c*h*w. */
static inline size_t lw_image_batch_stride(const lw_image_batch *b)
{
	return b->c * b->h * b->w;
}

/** Pointer to image i. */
static inline float *lw_image_batch_at(const lw_image_batch *b, size_t i)
{
	return b->data + i * lw_image_batch_stride(b);
}

/** Limits and selection for lw_image_read. */
typedef struct {
	unsigned int version;
	/**
	 * Resize every image to resize_h x resize_w as it is read (triangle
	 * filter, lw_image_resize); 0 x 0 keeps the size read.  Bounds memory
	 * when a folder holds large photographs.
	 */
	size_t resize_h, resize_w;
	/** With resizing: accept images of different sizes (0: refuse them, naming two). */
	int allow_mixed_sizes;
	/** Keep at most this many images, the first ones in reading order (0: all). */
	size_t limit;
	/** IDX label file (idx1, uint8): keep only images whose label equals `label`. */
	const char *labels;
	long label;
	/** Largest width or height accepted in a file (default 16384). */
	size_t max_side;
	/** Largest width x height of one image (default 2^26, e.g. 8192 x 8192). */
	size_t max_pixels;
	/** Largest n*c*h*w of the whole batch (default 2^30 values, 4 GiB). */
	size_t max_values;
	/** Largest file read (default 1 GiB; a .gz counts decompressed). */
	size_t max_file_bytes;
} lw_image_read_options;

#define LW_IMAGE_READ_OPTIONS_VERSION 1
#define LW_IMAGE_READ_OPTIONS_INIT                                                              \
	{ LW_IMAGE_READ_OPTIONS_VERSION, 0, 0, 0, 0, NULL, 0, 16384, (size_t)1 << 26,             \
	  (size_t)1 << 30, (size_t)1 << 30 }

LW_EXTERN(void) lw_image_read_options_init(lw_image_read_options *opts);

/**
 * Read images from one or more inputs into one batch, in order.  Each path
 * is a PNG or JPEG file, a folder (its *.png, *.jpg and *.jpeg files sorted
 * by name in byte order; other files and sub-folders are skipped), an IDX
 * file of uint8 images (N x H x W, gzipped or not) or a raw tensor
 * (docs/rkme-image.md; gzipped or not).  The kind is told by the file's
 * first bytes, not its name.
 *
 * PNG: palette and grayscale below 8 bits are expanded, alpha is dropped,
 * 16-bit samples are scaled by 255/65535.  Gray and RGB images in one
 * batch: the gray ones are repeated into three channels.  Images of
 * different sizes are refused (the message names both sizes and files)
 * unless they are resized as read with allow_mixed_sizes.
 *
 * @param[out] out  uninitialised; receives the batch
 * @return 0; LW_ENOTFOUND or LW_EIO for a missing or unreadable path;
 *   LW_EINVALID (class LW_ERRCLASS_DATA) for a malformed, truncated or
 *   oversized file, mixed sizes, NaN or Inf in a raw tensor, or nothing to
 *   read; LW_ENOMEM.  Messages start with the file at fault.
 */
LW_EXTERN(int) lw_image_read(lw_image_batch *out, const char *const *paths, size_t npaths,
			     const lw_image_read_options *opts);

/**
 * Decode one PNG, JPEG, IDX or raw tensor held in memory (not gzipped);
 * `name` stands for the file in messages.  The limits and `limit` of opts
 * (NULL: defaults) apply; resizing and labels do not.
 */
LW_EXTERN(int) lw_image_decode(lw_image_batch *out, const void *buf, size_t len, const char *name,
			       const lw_image_read_options *opts);

/**
 * Write a batch as a raw tensor: the 40-byte header (magic "LWTEN\0",
 * version 1, reserved 0, then N, C, H, W as uint64 little-endian) followed
 * by the values as float32 little-endian.  Written atomically.
 */
LW_EXTERN(int) lw_image_write_raw(const char *path, const lw_image_batch *b);

/** Resampling filters for lw_image_resize. */
typedef enum {
	/**
	 * Bilinear with antialiasing: a triangle filter whose support grows
	 * with the downscale factor (PIL's and torchvision's antialias=True).
	 */
	LW_RESIZE_TRIANGLE = 0,
	/** Exact area average: each output pixel is the mean of the input area it covers. */
	LW_RESIZE_AREA = 1
} lw_resize_filter;

/**
 * Resize every image and channel to h x w.
 *
 * @param[out] out  uninitialised; receives in->n x in->c x h x w
 */
LW_EXTERN(int) lw_image_resize(lw_image_batch *out, const lw_image_batch *in, size_t h, size_t w,
			       lw_resize_filter filter);

/** Side of the square images an image learnware's model takes. */
#define LW_IMAGE_MODEL_SIDE 32

/**
 * The rows an image learnware's model predicts on: each image resized to
 * 32 x 32 (triangle filter, as the image RKME does), divided by 255 (so
 * 8-bit files give [0, 1]; NaN pixels become 0.5), flattened in channel,
 * row, column order: images->n rows of c*32*32 columns.
 *
 * @param[out] out  uninitialised; receives the rows
 * @return 0, LW_EINVALID (an empty batch), LW_ENOMEM
 */
LW_EXTERN(int) lw_image_model_rows(lw_mat *out, const lw_image_batch *images);

LW_END_DECL

#endif
