/*
 * PNG decoding through libpng's low-level API, from memory.
 *
 * The simplified png_image API would treat 16-bit samples as linear light
 * and gamma-encode them on the way to 8 bits; images here keep the values
 * stored in the file, 16-bit ones scaled by 255/65535, so the transforms are
 * set by hand: palette and low-bit-depth gray expanded, alpha dropped
 * (as PIL's convert("RGB") does).
 *
 * libpng reports errors by longjmp.  The state that must survive one lives
 * in a context owned by the caller of the function that calls setjmp, so
 * none of it is a local of that function (C11 7.13.2.1).
 */
#include <png.h>
#include <setjmp.h>
#include <string.h>

#include "image.h"
#include "util.h"

typedef struct {
	const unsigned char *buf;
	size_t len, pos;
	jmp_buf jb;
	char msg[256];
	png_structp png;
	png_infop info;
	unsigned char *pixels;
	png_bytep *rows;
	int limit_error; /* the size check failed: message set already */
} png_ctx;

static void on_error(png_structp png, png_const_charp msg)
{
	png_ctx *c = png_get_error_ptr(png);

	snprintf(c->msg, sizeof(c->msg), "%s", msg);
	longjmp(c->jb, 1);
}

/* Ancillary-chunk complaints (bad sRGB profiles and the like) are not errors. */
static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static size_t be32(const unsigned char *p)
{
	return (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
}

static void read_mem(png_structp png, png_bytep dst, size_t n)
{
	png_ctx *c = png_get_io_ptr(png);

	if (n > c->len - c->pos)
		png_error(png, "the file is truncated (it ends inside the image data)");
	memcpy(dst, c->buf + c->pos, n);
	c->pos += n;
}

/* Samples of one row, as float, into the planar output; alpha skipped. */
static void convert_row(float *out, size_t plane, const unsigned char *row, size_t w,
			int channels, int depth16, int colour)
{
	for (size_t x = 0; x < w; x++) {
		for (int ch = 0; ch < colour; ch++) {
			size_t at = x * (size_t)channels + (size_t)ch;
			float v;

			if (depth16)
				v = (float)((double)((unsigned)row[2 * at] << 8 | row[2 * at + 1]) *
					    (255.0 / 65535.0));
			else
				v = (float)row[at];
			out[(size_t)ch * plane + x] = v;
		}
	}
}

static int decode(png_ctx *c, lw_image_batch *out, const char *name,
		  const lw_image_read_options *o)
{
	png_uint_32 w, h;
	int channels, depth, colour, err;
	size_t rowbytes, bytes;

	if (setjmp(c->jb))
		return LW_EINVALID;
	png_set_read_fn(c->png, c, read_mem);
	png_set_user_limits(c->png, (png_uint_32)(o->max_side < 0x7fffffff ? o->max_side : 0x7fffffff),
			    (png_uint_32)(o->max_side < 0x7fffffff ? o->max_side : 0x7fffffff));
	png_read_info(c->png, c->info);
	w = png_get_image_width(c->png, c->info);
	h = png_get_image_height(c->png, c->info);
	if ((err = lw__image_check_size(h, w, 3, name, o)) < 0) {
		c->limit_error = 1;
		return err;
	}
	if (png_get_color_type(c->png, c->info) == PNG_COLOR_TYPE_PALETTE)
		png_set_palette_to_rgb(c->png);
	if (png_get_color_type(c->png, c->info) == PNG_COLOR_TYPE_GRAY &&
	    png_get_bit_depth(c->png, c->info) < 8)
		png_set_expand_gray_1_2_4_to_8(c->png);
	png_set_interlace_handling(c->png);
	png_read_update_info(c->png, c->info);
	channels = png_get_channels(c->png, c->info);
	depth = png_get_bit_depth(c->png, c->info);
	if ((depth != 8 && depth != 16) || channels < 1 || channels > 4)
		png_error(c->png, "unsupported sample layout after expansion");
	colour = channels >= 3 ? 3 : 1; /* 2 and 4 carry alpha, dropped */
	rowbytes = png_get_rowbytes(c->png, c->info);
	if (!lw__mul_ok(&bytes, rowbytes, h) || !(c->pixels = lw__mallocarray(bytes, 1)) ||
	    !(c->rows = lw__mallocarray(h, sizeof(png_bytep))))
		return LW_ENOMEM;
	for (png_uint_32 y = 0; y < h; y++)
		c->rows[y] = c->pixels + (size_t)y * rowbytes;
	png_read_image(c->png, c->rows);
	png_read_end(c->png, NULL);
	if ((err = lw_image_batch_init(out, 1, (size_t)colour, h, w)) < 0)
		return err;
	for (png_uint_32 y = 0; y < h; y++)
		convert_row(out->data + (size_t)y * w, (size_t)h * w, c->rows[y], w, channels,
			    depth == 16, colour);
	return 0;
}

int lw__png_decode(lw_image_batch *out, const unsigned char *buf, size_t len, const char *name,
		   const lw_image_read_options *o)
{
	png_ctx *c;
	int err;

	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	/* The size, from the IHDR chunk that must come first, before libpng sees it. */
	if (len >= 24 && !memcmp(buf + 12, "IHDR", 4) &&
	    (err = lw__image_check_size(be32(buf + 20), be32(buf + 16), 3, name, o)) < 0)
		return err;
	if (!(c = lw__calloc(1, sizeof(*c))))
		return LW_ENOMEM;
	c->buf = buf;
	c->len = len;
	if (!(c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning)) ||
	    !(c->info = png_create_info_struct(c->png))) {
		err = LW_ENOMEM;
		lw_error_set(LW_ERRCLASS_NOMEMORY, "%s: out of memory starting libpng", name);
		goto done;
	}
	err = decode(c, out, name, o);
	if (err == LW_EINVALID && !c->limit_error)
		lw_error_set(LW_ERRCLASS_DATA, "%s: cannot decode the PNG: %s", name, c->msg);
	else if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "%s: out of memory decoding the PNG", name);
	if (err < 0)
		lw_image_batch_dispose(out);
done:
	png_destroy_read_struct(&c->png, c->info ? &c->info : NULL, NULL);
	free(c->pixels);
	free(c->rows);
	free(c);
	return err;
}
