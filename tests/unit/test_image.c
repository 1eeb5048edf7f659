/*
 * Image input: PNG and JPEG written here with libpng and libjpeg, IDX built
 * from bytes, raw tensors, folders, the limits and the resampling filters.
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "lw/image.h"

/* ---- writers ----------------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
	char *p = malloc(strlen(dir) + strlen(name) + 2);

	assert_non_null(p);
	sprintf(p, "%s/%s", dir, name);
	return p;
}

/* A PNG of w x h with `channels` interleaved samples of `depth` bits (8 or 16, or < 8 gray). */
static void write_png(const char *path, int w, int h, int color_type, int depth,
		      const unsigned char *rows, size_t rowbytes, const png_color *palette,
		      int npalette, const png_byte *trns, int ntrns)
{
	FILE *f = fopen(path, "wb");
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);

	assert_non_null(f);
	assert_non_null(png);
	assert_non_null(info);
	if (setjmp(png_jmpbuf(png)))
		fail_msg("libpng failed writing %s", path);
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (palette)
		png_set_PLTE(png, info, palette, npalette);
	if (trns)
		png_set_tRNS(png, info, trns, ntrns, NULL);
	png_write_info(png, info);
	for (int y = 0; y < h; y++)
		png_write_row(png, rows + (size_t)y * rowbytes);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	fclose(f);
}

/* An 8-bit gray PNG whose pixel (x, y) is base + 10 y + x. */
static void write_gray(const char *path, int w, int h, int base)
{
	unsigned char *px = malloc((size_t)w * h);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			px[y * w + x] = (unsigned char)(base + 10 * y + x);
	write_png(path, w, h, PNG_COLOR_TYPE_GRAY, 8, px, (size_t)w, NULL, 0, NULL, 0);
	free(px);
}

static void write_jpeg(const char *path, int w, int h, int comps, const unsigned char *px)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr jerr;
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	c.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&c);
	jpeg_stdio_dest(&c, f);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = comps;
	c.in_color_space = comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 100, TRUE);
	c.comp_info[0].h_samp_factor = c.comp_info[0].v_samp_factor = 1; /* no chroma subsampling */
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);

		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	fclose(f);
}

static void write_bytes(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

static unsigned char *read_bytes(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *b;
	long len;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)len + 1);
	assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*n = (size_t)len;
	return b;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* IDX bytes of n images h x w, pixel (i, y, x) = (i * 7 + y * w + x) % 256. */
static unsigned char *idx_bytes(size_t *len, uint32_t n, uint32_t h, uint32_t w)
{
	unsigned char *b = malloc(16 + (size_t)n * h * w);

	b[0] = b[1] = 0;
	b[2] = 0x08;
	b[3] = 3;
	put_be32(b + 4, n);
	put_be32(b + 8, h);
	put_be32(b + 12, w);
	for (size_t i = 0; i < n; i++)
		for (size_t p = 0; p < (size_t)h * w; p++)
			b[16 + i * h * w + p] = (unsigned char)((i * 7 + p) % 256);
	*len = 16 + (size_t)n * h * w;
	return b;
}

static void write_gz(const char *path, const void *b, size_t n)
{
	gzFile gz = gzopen(path, "wb");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, b, (unsigned)n), (int)n);
	gzclose(gz);
}

static int read_one(lw_image_batch *b, const char *path, const lw_image_read_options *o)
{
	const char *paths[1] = { path };

	return lw_image_read(b, paths, 1, o);
}

static void assert_error_mentions(const char *a, const char *b)
{
	const char *msg = lw_error_last()->message;

	if (!strstr(msg, a) || (b && !strstr(msg, b)))
		fail_msg("error \"%s\" should mention \"%s\"%s%s", msg, a, b ? " and " : "", b ? b : "");
}

/* ---- PNG ----------------------------------------------------------------- */

static void test_image_png_gray_and_rgb__read_as_stored(void **state)
{
	char *dir = lwt_mkdtemp(), *gray = join(dir, "g.png"), *rgb = join(dir, "c.png");
	unsigned char px[2 * 3 * 3];
	lw_image_batch b;

	(void)state;
	write_gray(gray, 3, 2, 100);
	assert_int_equal(read_one(&b, gray, NULL), 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.c, 1);
	assert_int_equal(b.h, 2);
	assert_int_equal(b.w, 3);
	assert_true(b.data[0] == 100.0f && b.data[2] == 102.0f && b.data[4] == 111.0f);
	lw_image_batch_dispose(&b);

	for (int i = 0; i < 18; i++)
		px[i] = (unsigned char)(i * 10);
	write_png(rgb, 3, 2, PNG_COLOR_TYPE_RGB, 8, px, 9, NULL, 0, NULL, 0);
	assert_int_equal(read_one(&b, rgb, NULL), 0);
	assert_int_equal(b.c, 3);
	/* planar: channel 0 holds every pixel's red sample */
	assert_true(b.data[0] == 0.0f && b.data[1] == 30.0f && b.data[6] == 10.0f &&
		    b.data[12] == 20.0f && b.data[17] == 170.0f);
	lw_image_batch_dispose(&b);
	lwt_rmtree(dir);
	free(gray);
	free(rgb);
	free(dir);
}

static void test_image_png_palette_alpha_16bit_and_1bit__are_expanded(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "x.png");
	png_color pal[2] = { { 255, 0, 0 }, { 0, 0, 255 } };
	png_byte trns[2] = { 255, 0 };
	unsigned char idx[2] = { 0, 1 }, rgba[2 * 4] = { 1, 2, 3, 0, 4, 5, 6, 255 };
	unsigned char g16[4] = { 0xff, 0xff, 0x80, 0x00 }, bits[1] = { 0x80 };
	lw_image_batch b;

	(void)state;
	/* palette with transparency: RGB from the palette, alpha dropped */
	write_png(p, 2, 1, PNG_COLOR_TYPE_PALETTE, 8, idx, 2, pal, 2, trns, 2);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.c, 3);
	assert_true(b.data[0] == 255.0f && b.data[1] == 0.0f && b.data[5] == 255.0f);
	lw_image_batch_dispose(&b);
	/* RGBA: the colour as stored, alpha dropped */
	write_png(p, 2, 1, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba, 8, NULL, 0, NULL, 0);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.c, 3);
	assert_true(b.data[0] == 1.0f && b.data[1] == 4.0f && b.data[3] == 5.0f && b.data[5] == 6.0f);
	lw_image_batch_dispose(&b);
	/* 16-bit gray: scaled by 255/65535 */
	write_png(p, 2, 1, PNG_COLOR_TYPE_GRAY, 16, g16, 4, NULL, 0, NULL, 0);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.c, 1);
	lwt_assert_near(b.data[0], 255.0, 1e-4);
	lwt_assert_near(b.data[1], 32768.0 * 255.0 / 65535.0, 1e-4);
	lw_image_batch_dispose(&b);
	/* 1-bit gray: expanded to 0 and 255 */
	write_png(p, 2, 1, PNG_COLOR_TYPE_GRAY, 1, bits, 1, NULL, 0, NULL, 0);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_true(b.data[0] == 255.0f && b.data[1] == 0.0f);
	lw_image_batch_dispose(&b);
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

static void test_image_png_truncated_or_corrupt__is_an_error_naming_the_file(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "cut.png");
	unsigned char *bytes;
	size_t n;
	lw_image_batch b;

	(void)state;
	write_gray(p, 16, 16, 0);
	bytes = read_bytes(p, &n);
	write_bytes(p, bytes, n - 30);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("cut.png", "truncated");
	bytes[40] ^= 0x55; /* inside IDAT: the CRC no longer matches */
	write_bytes(p, bytes, n);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("cut.png", "PNG");
	free(bytes);
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

/* A PNG signature and an IHDR claiming w x h: no pixel data follows. */
static void test_image_png_huge_dimensions__refused_before_decoding(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "bomb.png");
	unsigned char f[8 + 25] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;
	lw_image_batch b;

	(void)state;
	put_be32(f + 8, 13);
	memcpy(f + 12, "IHDR", 4);
	put_be32(f + 16, 60000);
	put_be32(f + 20, 60000);
	f[24] = 8; /* depth */
	f[25] = 0; /* gray */
	put_be32(f + 29, (uint32_t)crc32(0, f + 12, 17));
	write_bytes(p, f, sizeof(f));
	assert_int_equal(read_one(&b, p, &o), LW_EINVALID);
	assert_error_mentions("bomb.png", "limit");
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

/* ---- JPEG ---------------------------------------------------------------- */

static void test_image_jpeg_gray_and_rgb__decode_close_to_the_source(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "a.jpg");
	unsigned char px[16 * 16 * 3];
	lw_image_batch b;
	double worst = 0;

	(void)state;
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 16; x++)
			for (int k = 0; k < 3; k++)
				px[(y * 16 + x) * 3 + k] = (unsigned char)(40 + 8 * x + 4 * y + 20 * k);
	write_jpeg(p, 16, 16, 3, px);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.c, 3);
	assert_int_equal(b.h, 16);
	for (int k = 0; k < 3; k++)
		for (int q = 0; q < 256; q++)
			worst = fmax(worst, fabs(b.data[k * 256 + q] - px[q * 3 + k]));
	if (worst > 4.0)
		fail_msg("colour JPEG decoded %g away from its source", worst);
	lw_image_batch_dispose(&b);
	for (int q = 0; q < 256; q++)
		px[q] = (unsigned char)(q % 16 * 10 + q / 16);
	write_jpeg(p, 16, 16, 1, px);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.c, 1);
	worst = 0;
	for (int q = 0; q < 256; q++)
		worst = fmax(worst, fabs(b.data[q] - px[q]));
	assert_true(worst <= 3.0);
	lw_image_batch_dispose(&b);
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

static void test_image_jpeg_truncated__is_an_error_not_a_gray_image(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "cut.jpg");
	unsigned char px[32 * 32], *bytes;
	size_t n;
	lw_image_batch b;

	(void)state;
	for (int q = 0; q < 32 * 32; q++)
		px[q] = (unsigned char)(q * 37 % 251);
	write_jpeg(p, 32, 32, 1, px);
	bytes = read_bytes(p, &n);
	write_bytes(p, bytes, n / 2);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("cut.jpg", "JPEG");
	free(bytes);
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

/* ---- folders ------------------------------------------------------------- */

static void test_image_folder__sorted_by_name_with_gray_repeated_into_rgb(void **state)
{
	char *dir = lwt_mkdtemp(), *a = join(dir, "a.png"), *bb = join(dir, "b.PNG"),
	     *c = join(dir, "c.png"), *t = join(dir, "notes.txt");
	unsigned char rgb[2 * 2 * 3];
	lw_image_batch b;

	(void)state;
	for (int i = 0; i < 12; i++)
		rgb[i] = (unsigned char)(200 + i);
	write_gray(c, 2, 2, 30);
	write_png(bb, 2, 2, PNG_COLOR_TYPE_RGB, 8, rgb, 6, NULL, 0, NULL, 0);
	write_gray(a, 2, 2, 10);
	write_bytes(t, "not an image", 12);
	assert_int_equal(read_one(&b, dir, NULL), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.c, 3);
	/* a (gray 10, repeated in three channels), then b (RGB), then c (gray 30) */
	assert_true(b.data[0] == 10.0f && b.data[4] == 10.0f && b.data[8] == 10.0f);
	assert_true(b.data[12] == 200.0f && b.data[16] == 201.0f);
	assert_true(b.data[24] == 30.0f && b.data[32] == 30.0f);
	lw_image_batch_dispose(&b);
	lwt_rmtree(dir);
	free(a);
	free(bb);
	free(c);
	free(t);
	free(dir);
}

static void test_image_folder_mixed_sizes__error_names_both_files_and_sizes(void **state)
{
	char *dir = lwt_mkdtemp(), *a = join(dir, "a.png"), *bb = join(dir, "b.png");
	lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;
	lw_image_batch b;

	(void)state;
	write_gray(a, 4, 4, 0);
	write_gray(bb, 6, 3, 0);
	assert_int_equal(read_one(&b, dir, NULL), LW_EINVALID);
	assert_error_mentions("b.png is 6x3", "a.png is 4x4");
	/* read resized: still refused unless mixed sizes are allowed */
	o.resize_h = o.resize_w = 2;
	assert_int_equal(read_one(&b, dir, &o), LW_EINVALID);
	o.allow_mixed_sizes = 1;
	assert_int_equal(read_one(&b, dir, &o), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.h, 2);
	assert_int_equal(b.w, 2);
	lw_image_batch_dispose(&b);
	lwt_rmtree(dir);
	free(a);
	free(bb);
	free(dir);
}

static void test_image_folder_without_images__is_an_error(void **state)
{
	char *dir = lwt_mkdtemp(), *t = lwt_write_file(dir, "readme.txt", "x");
	lw_image_batch b;

	(void)state;
	assert_int_equal(read_one(&b, dir, NULL), LW_EINVALID);
	assert_error_mentions("no .png", NULL);
	lwt_rmtree(dir);
	free(t);
	free(dir);
}

/* ---- IDX ----------------------------------------------------------------- */

static void test_image_idx_from_bytes__gives_n_gray_images(void **state)
{
	size_t len;
	unsigned char *bytes = idx_bytes(&len, 3, 2, 4);
	lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;
	lw_image_batch b;

	(void)state;
	assert_int_equal(lw_image_decode(&b, bytes, len, "mem.idx", NULL), 0);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.c, 1);
	assert_int_equal(b.h, 2);
	assert_int_equal(b.w, 4);
	assert_true(b.data[0] == 0.0f && b.data[7] == 7.0f && b.data[8] == 7.0f && b.data[23] == 21.0f);
	lw_image_batch_dispose(&b);
	o.limit = 2;
	assert_int_equal(lw_image_decode(&b, bytes, len, "mem.idx", &o), 0);
	assert_int_equal(b.n, 2);
	lw_image_batch_dispose(&b);
	free(bytes);
}

static void test_image_idx_gzip__limit_and_label_select_images(void **state)
{
	char *dir = lwt_mkdtemp(), *img = join(dir, "x-idx3-ubyte.gz"), *lab = join(dir, "y.gz");
	unsigned char labels[8 + 6] = { 0, 0, 8, 1 }, *bytes;
	lw_image_read_options o = LW_IMAGE_READ_OPTIONS_INIT;
	size_t len;
	lw_image_batch b;

	(void)state;
	bytes = idx_bytes(&len, 6, 2, 2);
	write_gz(img, bytes, len);
	put_be32(labels + 4, 6);
	memcpy(labels + 8, "\x03\x01\x03\x00\x03\x01", 6);
	write_gz(lab, labels, sizeof(labels));
	assert_int_equal(read_one(&b, img, NULL), 0);
	assert_int_equal(b.n, 6);
	lw_image_batch_dispose(&b);
	o.labels = lab;
	o.label = 3;
	assert_int_equal(read_one(&b, img, &o), 0);
	assert_int_equal(b.n, 3);
	/* images 0, 2 and 4: first pixel 0, 14, 28 */
	assert_true(b.data[0] == 0.0f && b.data[4] == 14.0f && b.data[8] == 28.0f);
	lw_image_batch_dispose(&b);
	o.limit = 2;
	assert_int_equal(read_one(&b, img, &o), 0);
	assert_int_equal(b.n, 2);
	lw_image_batch_dispose(&b);
	o.limit = 0;
	o.label = 9;
	assert_int_equal(read_one(&b, img, &o), LW_EINVALID);
	assert_error_mentions("no image has label 9", NULL);
	free(bytes);
	lwt_rmtree(dir);
	free(img);
	free(lab);
	free(dir);
}

static void test_image_idx_truncated_trailing_and_absurd__are_errors(void **state)
{
	size_t len;
	unsigned char *bytes = idx_bytes(&len, 3, 2, 2), *more = malloc(len + 1);
	lw_image_batch b;

	(void)state;
	assert_int_equal(lw_image_decode(&b, bytes, len - 1, "t.idx", NULL), LW_EINVALID);
	assert_error_mentions("t.idx", "truncated");
	memcpy(more, bytes, len);
	more[len] = 0;
	assert_int_equal(lw_image_decode(&b, more, len + 1, "t.idx", NULL), LW_EINVALID);
	assert_error_mentions("t.idx", "trailing");
	put_be32(bytes + 8, 100000);
	put_be32(bytes + 12, 100000);
	assert_int_equal(lw_image_decode(&b, bytes, len, "t.idx", NULL), LW_EINVALID);
	assert_error_mentions("t.idx", "limit");
	bytes[3] = 1; /* a label file passed as images */
	assert_int_equal(lw_image_decode(&b, bytes, len, "t.idx", NULL), LW_EINVALID);
	assert_error_mentions("label", NULL);
	free(bytes);
	free(more);
}

/* ---- raw tensors ----------------------------------------------------------- */

static void test_image_raw_tensor__round_trips_and_refuses_nan(void **state)
{
	char *dir = lwt_mkdtemp(), *p = join(dir, "x.lwt");
	lw_image_batch a, b;
	unsigned char *bytes;
	size_t n;
	float nan = NAN;

	(void)state;
	assert_int_equal(lw_image_batch_init(&a, 2, 3, 4, 5), 0);
	for (size_t i = 0; i < 120; i++)
		a.data[i] = (float)i * 0.25f - 7.0f;
	assert_int_equal(lw_image_write_raw(p, &a), 0);
	assert_int_equal(read_one(&b, p, NULL), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.c, 3);
	assert_int_equal(b.h, 4);
	assert_int_equal(b.w, 5);
	assert_memory_equal(a.data, b.data, 120 * sizeof(float));
	lw_image_batch_dispose(&b);
	bytes = read_bytes(p, &n);
	assert_int_equal(n, 40 + 120 * 4);
	/* image 2, channel 1, row 3, column 2 = value 60 + 2 * 5 + 1 = 71 */
	memcpy(bytes + 40 + 4 * 71, &nan, 4);
	write_bytes(p, bytes, n);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("image 2, channel 1, row 3, column 2 is NaN", NULL);
	write_bytes(p, bytes, n - 8);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("x.lwt", "truncated");
	free(bytes);
	lw_image_batch_dispose(&a);
	lwt_rmtree(dir);
	free(p);
	free(dir);
}

static void test_image_read_missing_or_unknown__say_what_is_wrong(void **state)
{
	char *dir = lwt_mkdtemp(), *p = lwt_write_file(dir, "x.png", "GIF89a....");
	char *missing = join(dir, "nope.png");
	lw_image_batch b;

	(void)state;
	assert_int_equal(read_one(&b, missing, NULL), LW_ENOTFOUND);
	assert_error_mentions("nope.png", NULL);
	assert_int_equal(read_one(&b, p, NULL), LW_EINVALID);
	assert_error_mentions("x.png", "47 49 46");
	lwt_rmtree(dir);
	free(p);
	free(missing);
	free(dir);
}

/* ---- resizing -------------------------------------------------------------- */

static void test_image_resize_area__matches_a_hand_computed_box_average(void **state)
{
	lw_image_batch in, out;
	float v[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

	(void)state;
	/* 3x3 -> 2x2: output pixel 0 covers input [0, 1.5) in each direction */
	assert_int_equal(lw_image_batch_init(&in, 1, 1, 3, 3), 0);
	memcpy(in.data, v, sizeof(v));
	assert_int_equal(lw_image_resize(&out, &in, 2, 2, LW_RESIZE_AREA), 0);
	/* (1 + 0.5*2 + 0.5*4 + 0.25*5) / 2.25 */
	lwt_assert_near(out.data[0], (1 + 0.5 * 2 + 0.5 * 4 + 0.25 * 5) / 2.25, 1e-6);
	lwt_assert_near(out.data[3], (0.25 * 5 + 0.5 * 6 + 0.5 * 8 + 9) / 2.25, 1e-6);
	lw_image_batch_dispose(&out);
	lw_image_batch_dispose(&in);
	/* 4x4 -> 2x2: plain 2x2 block means */
	assert_int_equal(lw_image_batch_init(&in, 1, 1, 4, 4), 0);
	for (int i = 0; i < 16; i++)
		in.data[i] = (float)(i * i);
	assert_int_equal(lw_image_resize(&out, &in, 2, 2, LW_RESIZE_AREA), 0);
	lwt_assert_near(out.data[0], (0 + 1 + 16 + 25) / 4.0, 1e-5);
	lwt_assert_near(out.data[3], (100 + 121 + 196 + 225) / 4.0, 1e-5);
	lw_image_batch_dispose(&out);
	lw_image_batch_dispose(&in);
}

static void test_image_resize_triangle__antialiases_down_and_is_bilinear_up(void **state)
{
	lw_image_batch in, out;

	(void)state;
	/* 1 x 4 -> 1 x 2: support 2, weights (0.75, 0.75, 0.25) / 1.75 (PIL, torchvision) */
	assert_int_equal(lw_image_batch_init(&in, 1, 1, 1, 4), 0);
	for (int i = 0; i < 4; i++)
		in.data[i] = (float)(1 << i); /* 1 2 4 8 */
	assert_int_equal(lw_image_resize(&out, &in, 1, 2, LW_RESIZE_TRIANGLE), 0);
	lwt_assert_near(out.data[0], (0.75 * 1 + 0.75 * 2 + 0.25 * 4) / 1.75, 1e-6);
	lwt_assert_near(out.data[1], (0.25 * 2 + 0.75 * 4 + 0.75 * 8) / 1.75, 1e-6);
	lw_image_batch_dispose(&out);
	/* 1 x 2 -> 1 x 4: bilinear with half-pixel centres, edges clamped */
	in.w = 2;
	assert_int_equal(lw_image_resize(&out, &in, 1, 4, LW_RESIZE_TRIANGLE), 0);
	lwt_assert_near(out.data[0], 1.0, 1e-6);
	lwt_assert_near(out.data[1], 0.75 * 1 + 0.25 * 2, 1e-6);
	lwt_assert_near(out.data[2], 0.25 * 1 + 0.75 * 2, 1e-6);
	lwt_assert_near(out.data[3], 2.0, 1e-6);
	lw_image_batch_dispose(&out);
	lw_image_batch_dispose(&in);
	/* a constant image stays constant at any scale */
	assert_int_equal(lw_image_batch_init(&in, 2, 3, 28, 28), 0);
	for (size_t i = 0; i < 2 * 3 * 28 * 28; i++)
		in.data[i] = 7.5f;
	assert_int_equal(lw_image_resize(&out, &in, 32, 32, LW_RESIZE_TRIANGLE), 0);
	for (size_t i = 0; i < 2 * 3 * 32 * 32; i++)
		lwt_assert_near(out.data[i], 7.5, 1e-5);
	lw_image_batch_dispose(&out);
	assert_int_equal(lw_image_resize(&out, &in, 5, 9, LW_RESIZE_AREA), 0);
	for (size_t i = 0; i < 2 * 3 * 5 * 9; i++)
		lwt_assert_near(out.data[i], 7.5, 1e-5);
	lw_image_batch_dispose(&out);
	lw_image_batch_dispose(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_png_gray_and_rgb__read_as_stored),
		cmocka_unit_test(test_image_png_palette_alpha_16bit_and_1bit__are_expanded),
		cmocka_unit_test(test_image_png_truncated_or_corrupt__is_an_error_naming_the_file),
		cmocka_unit_test(test_image_png_huge_dimensions__refused_before_decoding),
		cmocka_unit_test(test_image_jpeg_gray_and_rgb__decode_close_to_the_source),
		cmocka_unit_test(test_image_jpeg_truncated__is_an_error_not_a_gray_image),
		cmocka_unit_test(test_image_folder__sorted_by_name_with_gray_repeated_into_rgb),
		cmocka_unit_test(test_image_folder_mixed_sizes__error_names_both_files_and_sizes),
		cmocka_unit_test(test_image_folder_without_images__is_an_error),
		cmocka_unit_test(test_image_idx_from_bytes__gives_n_gray_images),
		cmocka_unit_test(test_image_idx_gzip__limit_and_label_select_images),
		cmocka_unit_test(test_image_idx_truncated_trailing_and_absurd__are_errors),
		cmocka_unit_test(test_image_raw_tensor__round_trips_and_refuses_nan),
		cmocka_unit_test(test_image_read_missing_or_unknown__say_what_is_wrong),
		cmocka_unit_test(test_image_resize_area__matches_a_hand_computed_box_average),
		cmocka_unit_test(test_image_resize_triangle__antialiases_down_and_is_bilinear_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
