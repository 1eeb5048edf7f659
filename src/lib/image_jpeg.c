/*
 * JPEG decoding through libjpeg(-turbo), from memory.
 *
 * Gray files give one channel, YCbCr and RGB files three; CMYK files are
 * refused with a message.  libjpeg's warnings (corrupt data, a premature
 * end of the file) are errors here, as PIL's "image file is truncated" is:
 * a half-decoded image would enter a specification as if it were data.
 * A progressive file may hold any number of scans, each a full pass over
 * the coefficients; more than MAX_SCANS is refused (libjpeg-turbo's djpeg
 * offers the same limit as -maxscans).
 *
 * As in image_png.c, everything a longjmp must not lose lives in a
 * context outside the function that calls setjmp.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include "image.h"
#include "util.h"

#define MAX_SCANS 1000

typedef struct {
	struct jpeg_error_mgr pub; /* first: libjpeg's err pointer is this struct */
	struct jpeg_progress_mgr progress;
	struct jpeg_decompress_struct cinfo;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX + 64];
	unsigned char *row;
	int own_error; /* msg is complete: do not prefix it */
} jpeg_ctx;

static void on_error_exit(j_common_ptr cinfo)
{
	jpeg_ctx *c = (jpeg_ctx *)cinfo->err;

	c->pub.format_message(cinfo, c->msg);
	longjmp(c->jb, 1);
}

/* Warnings (level -1) stop the decode; trace messages are dropped. */
static void on_emit(j_common_ptr cinfo, int level)
{
	if (level < 0)
		on_error_exit(cinfo);
}

static void on_output(j_common_ptr cinfo)
{
	(void)cinfo;
}

static void fail(jpeg_ctx *c, const char *why) __attribute__((noreturn));
static void fail(jpeg_ctx *c, const char *why)
{
	snprintf(c->msg, sizeof(c->msg), "%s", why);
	longjmp(c->jb, 1);
}

static void on_progress(j_common_ptr cinfo)
{
	jpeg_ctx *c = (jpeg_ctx *)cinfo->err;

	if (cinfo->is_decompressor && ((j_decompress_ptr)cinfo)->input_scan_number > MAX_SCANS) {
		snprintf(c->msg, sizeof(c->msg), "more than %d progressive scans (a decompression bomb?)",
			 MAX_SCANS);
		longjmp(c->jb, 1);
	}
}

static int decode(jpeg_ctx *c, lw_image_batch *out, const unsigned char *buf, size_t len,
		  const char *name, const lw_image_read_options *o)
{
	j_decompress_ptr ci = &c->cinfo;
	size_t h, w, ch, plane;
	int err;

	if (setjmp(c->jb))
		return LW_EINVALID;
	jpeg_create_decompress(ci);
	ci->progress = &c->progress;
	jpeg_mem_src(ci, buf, (unsigned long)len);
	jpeg_read_header(ci, TRUE);
	h = ci->image_height;
	w = ci->image_width;
	if ((err = lw__image_check_size(h, w, 3, name, o)) < 0) {
		c->own_error = 1;
		return err;
	}
	switch (ci->jpeg_color_space) {
	case JCS_GRAYSCALE: ci->out_color_space = JCS_GRAYSCALE; break;
	case JCS_YCbCr:
	case JCS_RGB: ci->out_color_space = JCS_RGB; break;
	default:
		snprintf(c->msg, sizeof(c->msg), "%s: a %s JPEG; only gray and RGB (YCbCr) JPEGs are "
			 "read: convert it to RGB first", name,
			 ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK ? "CMYK"
											: "non-RGB");
		c->own_error = 1;
		return LW_EINVALID;
	}
	jpeg_start_decompress(ci);
	ch = (size_t)ci->output_components;
	if (ch != 1 && ch != 3)
		fail(c, "unexpected number of output components");
	plane = h * w;
	if ((err = lw_image_batch_init(out, 1, ch, h, w)) < 0 ||
	    !(c->row = lw__mallocarray(w, ch)))
		return LW_ENOMEM;
	while (ci->output_scanline < ci->output_height) {
		size_t y = ci->output_scanline;
		JSAMPROW rows[1] = { c->row };

		if (jpeg_read_scanlines(ci, rows, 1) != 1)
			fail(c, "the decoder returned no scanline");
		for (size_t x = 0; x < w; x++)
			for (size_t k = 0; k < ch; k++)
				out->data[k * plane + y * w + x] = (float)c->row[x * ch + k];
	}
	jpeg_finish_decompress(ci);
	return 0;
}

int lw__jpeg_decode(lw_image_batch *out, const unsigned char *buf, size_t len, const char *name,
		    const lw_image_read_options *o)
{
	jpeg_ctx *c = lw__calloc(1, sizeof(*c));
	int err;

	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if (!c)
		return LW_ENOMEM;
	c->cinfo.err = jpeg_std_error(&c->pub);
	c->pub.error_exit = on_error_exit;
	c->pub.emit_message = on_emit;
	c->pub.output_message = on_output;
	c->progress.progress_monitor = on_progress;
	err = decode(c, out, buf, len, name, o);
	if (err == LW_EINVALID && !c->own_error)
		lw_error_set(LW_ERRCLASS_DATA, "%s: cannot decode the JPEG: %s", name, c->msg);
	else if (err == LW_EINVALID && c->msg[0])
		lw_error_set(LW_ERRCLASS_DATA, "%s", c->msg);
	else if (err == LW_ENOMEM)
		lw_error_set(LW_ERRCLASS_NOMEMORY, "%s: out of memory decoding the JPEG", name);
	if (err < 0)
		lw_image_batch_dispose(out);
	jpeg_destroy_decompress(&c->cinfo);
	free(c->row);
	free(c);
	return err;
}
