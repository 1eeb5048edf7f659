/*
 * Image batches: reading files and folders into one batch, antialiased
 * resizing, raw tensor output.  The decoders are in image_png.c,
 * image_jpeg.c and image_idx.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util.h"

int lw_image_batch_init(lw_image_batch *b, size_t n, size_t c, size_t h, size_t w)
{
	size_t cells;

	LW_ASSERT_ARG(b);
	*b = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if (!lw__mul_ok(&cells, n, c) || !lw__mul_ok(&cells, cells, h) ||
	    !lw__mul_ok(&cells, cells, w)) {
		lw_error_set(LW_ERRCLASS_NOMEMORY, "image batch %zu x %zu x %zu x %zu is too large", n,
			     c, h, w);
		return LW_ENOMEM;
	}
	if (cells && !(b->data = lw__calloc(cells, sizeof(float))))
		return LW_ENOMEM;
	b->n = n;
	b->c = c;
	b->h = h;
	b->w = w;
	return 0;
}

void lw_image_batch_dispose(lw_image_batch *b)
{
	if (!b)
		return;
	free(b->data);
	*b = (lw_image_batch)LW_IMAGE_BATCH_INIT;
}

void lw_image_read_options_init(lw_image_read_options *opts)
{
	lw_image_read_options def = LW_IMAGE_READ_OPTIONS_INIT;

	*opts = def;
}

void lw__image_options_fill(lw_image_read_options *dst, const lw_image_read_options *src)
{
	lw_image_read_options def = LW_IMAGE_READ_OPTIONS_INIT;

	*dst = src ? *src : def;
	if (!dst->max_side)
		dst->max_side = def.max_side;
	if (!dst->max_pixels)
		dst->max_pixels = def.max_pixels;
	if (!dst->max_values)
		dst->max_values = def.max_values;
	if (!dst->max_file_bytes)
		dst->max_file_bytes = def.max_file_bytes;
}

int lw__image_check_size(size_t h, size_t w, size_t c, const char *name,
			 const lw_image_read_options *o)
{
	if (h == 0 || w == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: an image of %zux%zu pixels (width x height)", name,
			     w, h);
		return LW_EINVALID;
	}
	if (h > o->max_side || w > o->max_side || h * w > o->max_pixels ||
	    h * w > o->max_values / (c ? c : 1)) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: an image of %zux%zu pixels (width x height) is over the limits (%zu "
			     "on a side, %zu pixels): refused before decoding, as a decompression bomb "
			     "would be",
			     name, w, h, o->max_side, o->max_pixels);
		return LW_EINVALID;
	}
	return 0;
}

lw__image_kind lw__image_sniff(const unsigned char *b, size_t len)
{
	if (len >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
		return LW_IMG_PNG;
	if (len >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
		return LW_IMG_JPEG;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return LW_IMG_GZIP;
	if (len >= LW_TENSOR_MAGIC_LEN && !memcmp(b, LW_TENSOR_MAGIC, LW_TENSOR_MAGIC_LEN))
		return LW_IMG_TENSOR;
	if (len >= 4 && b[0] == 0 && b[1] == 0 && b[2] >= 0x08 && b[2] <= 0x0e && b[3] >= 1)
		return LW_IMG_IDX;
	return LW_IMG_UNKNOWN;
}

static int unknown_kind(const char *name, const unsigned char *b, size_t len)
{
	char hex[3 * 8 + 1] = "";

	for (size_t i = 0; i < len && i < 8; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", b[i]);
	lw_error_set(LW_ERRCLASS_DATA,
		     "%s: not an image file this reader knows (PNG, JPEG, IDX or a raw tensor, "
		     "told apart by their first bytes; these are %s)",
		     name, len ? hex : "none: the file is empty");
	return LW_EINVALID;
}

/* ---- resizing ---------------------------------------------------------- */

/* Taps of one output pixel: `count` input pixels from `first`. */
typedef struct {
	size_t first, count;
	double *w;
} taps;

/*
 * Triangle taps as PIL and torchvision's antialias compute them: support
 * 1 scaled by the downscale factor, weights normalised to sum 1.
 */
static void triangle_taps(taps *t, size_t out, size_t in, double *wbuf, size_t maxk)
{
	double scale = (double)in / (double)out;
	double fs = scale > 1.0 ? scale : 1.0, support = fs, ss = 1.0 / fs;

	for (size_t i = 0; i < out; i++) {
		double center = ((double)i + 0.5) * scale, total = 0;
		long lo = (long)(center - support + 0.5), hi = (long)(center + support + 0.5);

		if (lo < 0)
			lo = 0;
		if (hi > (long)in)
			hi = (long)in;
		if ((size_t)(hi - lo) > maxk)
			hi = lo + (long)maxk;
		t[i].first = (size_t)lo;
		t[i].count = (size_t)(hi - lo);
		t[i].w = wbuf + i * maxk;
		for (size_t j = 0; j < t[i].count; j++) {
			double x = ((double)(lo + (long)j) - center + 0.5) * ss;
			double v = 1.0 - fabs(x);

			t[i].w[j] = v > 0 ? v : 0;
			total += t[i].w[j];
		}
		for (size_t j = 0; j < t[i].count; j++)
			t[i].w[j] = total > 0 ? t[i].w[j] / total : 0;
	}
}

/* Area taps: the overlap of [i s, (i+1) s) with each input pixel, over s. */
static void area_taps(taps *t, size_t out, size_t in, double *wbuf, size_t maxk)
{
	double scale = (double)in / (double)out;

	for (size_t i = 0; i < out; i++) {
		double a = (double)i * scale, b = (double)(i + 1) * scale;
		size_t lo = (size_t)floor(a), hi = (size_t)ceil(b);

		if (hi > in)
			hi = in;
		if (hi <= lo)
			hi = lo + 1;
		if (hi - lo > maxk)
			hi = lo + maxk;
		t[i].first = lo;
		t[i].count = hi - lo;
		t[i].w = wbuf + i * maxk;
		for (size_t j = 0; j < t[i].count; j++) {
			double p0 = (double)(lo + j), p1 = p0 + 1;
			double ov = (b < p1 ? b : p1) - (a > p0 ? a : p0);

			t[i].w[j] = (ov > 0 ? ov : 0) / scale;
		}
	}
}

/* Largest number of taps one output pixel can have. */
static size_t max_taps(size_t out, size_t in, lw_resize_filter f)
{
	double scale = (double)in / (double)out;

	if (f == LW_RESIZE_AREA)
		return (size_t)ceil(scale) + 2;
	return (size_t)ceil((scale > 1 ? scale : 1) * 2) + 3;
}

int lw_image_resize(lw_image_batch *out, const lw_image_batch *in, size_t h, size_t w,
		    lw_resize_filter filter)
{
	size_t kh, kw, planes;
	taps *th = NULL, *tw = NULL;
	double *wh = NULL, *ww = NULL;
	int err;

	LW_ASSERT_ARG(out && in && (in->data || in->n == 0));
	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	LW_ASSERT_ARG(h > 0 && w > 0 && in->h > 0 && in->w > 0);
	LW_ASSERT_ARG(filter == LW_RESIZE_TRIANGLE || filter == LW_RESIZE_AREA);
	if ((err = lw_image_batch_init(out, in->n, in->c, h, w)) < 0)
		return err;
	kh = max_taps(h, in->h, filter);
	kw = max_taps(w, in->w, filter);
	th = lw__mallocarray(h, sizeof(taps));
	tw = lw__mallocarray(w, sizeof(taps));
	wh = lw__mallocarray(h, kh * sizeof(double));
	ww = lw__mallocarray(w, kw * sizeof(double));
	if (!th || !tw || !wh || !ww) {
		err = LW_ENOMEM;
		goto done;
	}
	if (filter == LW_RESIZE_AREA) {
		area_taps(th, h, in->h, wh, kh);
		area_taps(tw, w, in->w, ww, kw);
	} else {
		triangle_taps(th, h, in->h, wh, kh);
		triangle_taps(tw, w, in->w, ww, kw);
	}
	planes = in->n * in->c;
	/* Horizontal pass into a per-plane scratch (in->h x w), then vertical. */
#pragma omp parallel if (planes * in->h * in->w > 1 << 18)
	{
		double *tmp = malloc(in->h * w * sizeof(double));

#pragma omp for schedule(static)
		for (size_t p = 0; p < planes; p++) {
			const float *src = in->data + p * in->h * in->w;
			float *dst = out->data + p * h * w;

			if (!tmp)
				continue;
			for (size_t y = 0; y < in->h; y++)
				for (size_t x = 0; x < w; x++) {
					const float *row = src + y * in->w + tw[x].first;
					double s = 0;

					for (size_t j = 0; j < tw[x].count; j++)
						s += tw[x].w[j] * row[j];
					tmp[y * w + x] = s;
				}
			for (size_t y = 0; y < h; y++)
				for (size_t x = 0; x < w; x++) {
					double s = 0;

					for (size_t j = 0; j < th[y].count; j++)
						s += th[y].w[j] * tmp[(th[y].first + j) * w + x];
					dst[y * w + x] = (float)s;
				}
		}
		if (!tmp) {
#pragma omp atomic write
			err = LW_ENOMEM;
		}
		free(tmp);
	}
done:
	free(th);
	free(tw);
	free(wh);
	free(ww);
	if (err < 0) {
		if (err == LW_ENOMEM)
			lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory resizing images");
		lw_image_batch_dispose(out);
	}
	return err;
}

/* ---- assembling a batch ------------------------------------------------ */

/* The batch being read and what the first file fixed. */
typedef struct {
	lw_image_batch b;
	size_t cap;
	char *first_name;
	size_t first_h, first_w;
	const lw_image_read_options *o;
	unsigned char *labels;
	size_t nlabels;
} acc;

/* Repeat the single channel of every image into three. */
static int gray_to_rgb(lw_image_batch *b, size_t cap)
{
	size_t plane = b->h * b->w, keep = cap > b->n ? cap : b->n;
	float *d = lw__mallocarray(keep, 3 * plane * sizeof(float));

	if (!d)
		return LW_ENOMEM;
	for (size_t i = 0; i < b->n; i++)
		for (size_t ch = 0; ch < 3; ch++)
			memcpy(d + (i * 3 + ch) * plane, b->data + i * plane, plane * sizeof(float));
	free(b->data);
	b->data = d;
	b->c = 3;
	return 0;
}

static int mixed_sizes(const acc *a, const lw_image_batch *img, const char *name)
{
	lw_error_set(LW_ERRCLASS_DATA,
		     "%s is %zux%zu but %s is %zux%zu (width x height): the images of one batch "
		     "must have one size; resize them first, or read them resized",
		     name, img->w, img->h, a->first_name, a->first_w, a->first_h);
	return LW_EINVALID;
}

/* Append the images of one file (consumed) to the batch. */
static int acc_add(acc *a, lw_image_batch *img, const char *name)
{
	const lw_image_read_options *o = a->o;
	size_t stride, take, room, bytes;
	int resizing = o->resize_h && o->resize_w, err;

	if (!a->first_name) {
		if (!(a->first_name = lw__strdup(name)))
			return LW_ENOMEM;
		a->first_h = img->h;
		a->first_w = img->w;
	} else if ((img->h != a->first_h || img->w != a->first_w) &&
		   !(resizing && o->allow_mixed_sizes)) {
		return mixed_sizes(a, img, name);
	}
	if (resizing && (img->h != o->resize_h || img->w != o->resize_w)) {
		lw_image_batch r;

		if ((err = lw_image_resize(&r, img, o->resize_h, o->resize_w, LW_RESIZE_TRIANGLE)) < 0)
			return err;
		lw_image_batch_dispose(img);
		*img = r;
	}
	if (a->b.n > 0 && a->b.c != img->c) {
		if (a->b.c == 1 && img->c == 3)
			err = gray_to_rgb(&a->b, a->cap);
		else if (a->b.c == 3 && img->c == 1)
			err = gray_to_rgb(img, img->n);
		else {
			lw_error_set(LW_ERRCLASS_DATA, "%s has %zu channels but %s has %zu: only gray "
				     "(1) and RGB (3) images mix in one batch",
				     name, img->c, a->first_name, a->b.c);
			return LW_EINVALID;
		}
		if (err < 0)
			return err;
	}
	if (a->b.n == 0) {
		a->b.c = img->c;
		a->b.h = img->h;
		a->b.w = img->w;
	}
	stride = lw_image_batch_stride(&a->b);
	take = img->n;
	if (o->limit && take > o->limit - a->b.n)
		take = o->limit - a->b.n;
	room = o->max_values / stride;
	if (a->b.n + take > room) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: more than %zu images of %zux%zu pixels in %zu "
			     "channels: over the limit of %zu values in a batch",
			     name, room, a->b.w, a->b.h, a->b.c, o->max_values);
		return LW_EINVALID;
	}
	if (a->b.n + take > a->cap) {
		size_t cap = a->cap * 2 > a->b.n + take ? a->cap * 2 : a->b.n + take;
		float *d;

		if (cap > room)
			cap = room;
		if (!lw__mul_ok(&bytes, cap, stride) ||
		    !(d = lw__reallocarray(a->b.data, bytes, sizeof(float))))
			return LW_ENOMEM;
		a->b.data = d;
		a->cap = cap;
	}
	memcpy(a->b.data + a->b.n * stride, img->data, take * stride * sizeof(float));
	a->b.n += take;
	return 0;
}

static int full(const acc *a)
{
	return a->o->limit && a->b.n >= a->o->limit;
}

static int needs_labels_input(const char *name)
{
	lw_error_set(LW_ERRCLASS_INVALID, "%s: a label file selects images of IDX files and raw "
		     "tensors only, not of PNG or JPEG files", name);
	return LW_EINVALID;
}

/* One PNG or JPEG held in memory. */
static int add_encoded(acc *a, const unsigned char *buf, size_t len, lw__image_kind kind,
		       const char *name)
{
	lw_image_batch img;
	int err;

	if (a->labels)
		return needs_labels_input(name);
	err = kind == LW_IMG_PNG ? lw__png_decode(&img, buf, len, name, a->o)
				 : lw__jpeg_decode(&img, buf, len, name, a->o);
	if (err < 0)
		return err;
	err = acc_add(a, &img, name);
	lw_image_batch_dispose(&img);
	return err;
}

/* An IDX or raw tensor stream, with the selection. */
static int add_stream(acc *a, lw__stream *s, lw__image_kind kind)
{
	lw__image_pick pick = { 0 };
	lw_image_batch img;
	int err;

	pick.limit = a->o->limit ? a->o->limit - a->b.n : 0;
	pick.labels = a->labels;
	pick.nlabels = a->nlabels;
	pick.label = a->o->label;
	pick.max_values = a->o->max_values;
	err = kind == LW_IMG_IDX ? lw__idx_decode(&img, s, &pick, a->o)
				 : lw__tensor_decode(&img, s, &pick, a->o);
	if (err < 0)
		return err;
	err = acc_add(a, &img, s->name);
	lw_image_batch_dispose(&img);
	return err;
}

static int add_file(acc *a, const char *path)
{
	unsigned char head[8];
	lw__stream s = { 0 };
	lw__image_kind kind;
	size_t got, len;
	char *buf;
	FILE *f;
	int err;

	if (!(f = fopen(path, "rb"))) {
		lw_error_set(LW_ERRCLASS_OS, "%s: cannot open", path);
		return errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
	}
	got = fread(head, 1, sizeof(head), f);
	fclose(f);
	kind = lw__image_sniff(head, got);
	if (kind == LW_IMG_PNG || kind == LW_IMG_JPEG) {
		if ((err = lw__read_file(&buf, &len, path, a->o->max_file_bytes)) < 0)
			return err;
		err = add_encoded(a, (unsigned char *)buf, len, kind, path);
		free(buf);
		return err;
	}
	if (kind == LW_IMG_UNKNOWN)
		return unknown_kind(path, head, got);
	/* IDX, raw tensor, or either gzipped: zlib reads plain files as they are. */
	s.name = path;
	if (!(s.gz = gzopen(path, "rb"))) {
		lw_error_set(LW_ERRCLASS_OS, "%s: cannot open", path);
		return LW_EIO;
	}
	got = lw__stream_read(&s, head, sizeof(head));
	kind = lw__image_sniff(head, got);
	if (kind != LW_IMG_IDX && kind != LW_IMG_TENSOR) {
		err = LW_EINVALID;
		if (!s.failed)
			lw_error_set(LW_ERRCLASS_DATA, "%s: a gzipped file that holds neither an IDX file "
				     "nor a raw tensor", path);
	} else if (gzrewind(s.gz) != 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: cannot rewind the compressed stream", path);
		err = LW_EIO;
	} else {
		s.consumed = 0;
		err = add_stream(a, &s, kind);
	}
	gzclose(s.gz);
	return err;
}

static int has_image_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');

	return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
		       !strcasecmp(dot, ".jpeg"));
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The folder's image files, sorted, as joined paths. */
static int list_folder(char ***out, size_t *n, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t cap = 0, count = 0;
	int err = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		lw_error_set(LW_ERRCLASS_OS, "%s: cannot list the folder", dir);
		return LW_EIO;
	}
	while ((e = readdir(d))) {
		struct stat st;
		size_t len;
		char *path;

		if (e->d_name[0] == '.' || !has_image_suffix(e->d_name))
			continue;
		len = strlen(dir) + strlen(e->d_name) + 2;
		if (!(path = lw__mallocarray(len, 1))) {
			err = LW_ENOMEM;
			break;
		}
		snprintf(path, len, "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		if (count == cap) {
			char **t = lw__reallocarray(names, cap ? 2 * cap : 64, sizeof(char *));

			if (!t) {
				free(path);
				err = LW_ENOMEM;
				break;
			}
			names = t;
			cap = cap ? 2 * cap : 64;
		}
		names[count++] = path;
	}
	closedir(d);
	if (err == 0 && count == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the folder holds no .png, .jpg or .jpeg file", dir);
		err = LW_EINVALID;
	}
	if (err < 0) {
		for (size_t i = 0; i < count; i++)
			free(names[i]);
		free(names);
		return err;
	}
	qsort(names, count, sizeof(char *), cmp_names);
	*out = names;
	*n = count;
	return 0;
}

static int add_folder(acc *a, const char *dir)
{
	char **files;
	size_t n;
	int err;

	if (a->labels)
		return needs_labels_input(dir);
	if ((err = list_folder(&files, &n, dir)) < 0)
		return err;
	for (size_t i = 0; i < n && err == 0 && !full(a); i++)
		err = add_file(a, files[i]);
	for (size_t i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return err;
}

static void acc_dispose(acc *a)
{
	lw_image_batch_dispose(&a->b);
	free(a->first_name);
	free(a->labels);
}

int lw_image_read(lw_image_batch *out, const char *const *paths, size_t npaths,
		  const lw_image_read_options *opts)
{
	lw_image_read_options o;
	acc a;
	int err = 0;

	LW_ASSERT_ARG(out && paths && npaths > 0);
	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	memset(&a, 0, sizeof(a));
	lw__image_options_fill(&o, opts);
	a.o = &o;
	if ((o.resize_h == 0) != (o.resize_w == 0)) {
		lw_error_set(LW_ERRCLASS_INVALID, "resize to %zux%zu: give both sides or neither",
			     o.resize_w, o.resize_h);
		return LW_EINVALID;
	}
	if (o.labels && (err = lw__idx_read_labels(&a.labels, &a.nlabels, o.labels, &o)) < 0)
		return err;
	for (size_t i = 0; i < npaths && err == 0 && !full(&a); i++) {
		struct stat st;

		LW_ASSERT_ARG(paths[i]);
		if (stat(paths[i], &st) != 0) {
			lw_error_set(LW_ERRCLASS_OS, "%s: cannot read", paths[i]);
			err = errno == ENOENT ? LW_ENOTFOUND : LW_EIO;
		} else if (S_ISDIR(st.st_mode)) {
			err = add_folder(&a, paths[i]);
		} else {
			err = add_file(&a, paths[i]);
		}
	}
	if (err == 0) {
		*out = a.b;
		a.b = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	}
	acc_dispose(&a);
	return err;
}

int lw_image_decode(lw_image_batch *out, const void *buf, size_t len, const char *name,
		    const lw_image_read_options *opts)
{
	lw_image_read_options o;
	lw__image_pick pick = { 0 };
	lw__stream s = { 0 };
	lw__image_kind kind;
	const unsigned char *b = buf;

	LW_ASSERT_ARG(out && (buf || len == 0));
	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	lw__image_options_fill(&o, opts);
	if (!name)
		name = "image";
	kind = lw__image_sniff(b, len);
	switch (kind) {
	case LW_IMG_PNG: return lw__png_decode(out, b, len, name, &o);
	case LW_IMG_JPEG: return lw__jpeg_decode(out, b, len, name, &o);
	case LW_IMG_IDX:
	case LW_IMG_TENSOR:
		s.mem = b;
		s.len = len;
		s.name = name;
		pick.limit = o.limit;
		pick.max_values = o.max_values;
		return kind == LW_IMG_IDX ? lw__idx_decode(out, &s, &pick, &o)
					  : lw__tensor_decode(out, &s, &pick, &o);
	case LW_IMG_GZIP:
		lw_error_set(LW_ERRCLASS_DATA, "%s: gzipped data: decode it from a file (lw_image_read)",
			     name);
		return LW_EINVALID;
	default: return unknown_kind(name, b, len);
	}
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

int lw_image_write_raw(const char *path, const lw_image_batch *b)
{
	unsigned char head[LW_TENSOR_HEADER_LEN], chunk[4096];
	size_t cells;
	FILE *f;
	char *tmp;
	int err, ok = 1;

	LW_ASSERT_ARG(path && b && (b->data || b->n == 0));
	cells = b->n * lw_image_batch_stride(b);
	memcpy(head, LW_TENSOR_MAGIC, LW_TENSOR_MAGIC_LEN);
	head[6] = LW_TENSOR_VERSION;
	head[7] = 0;
	put_le64(head + 8, b->n);
	put_le64(head + 16, b->c);
	put_le64(head + 24, b->h);
	put_le64(head + 32, b->w);
	if ((err = lw__atomic_open(&f, &tmp, path)) < 0)
		return err;
	ok = fwrite(head, 1, sizeof(head), f) == sizeof(head);
	for (size_t i = 0; ok && i < cells; i += sizeof(chunk) / 4) {
		size_t m = cells - i < sizeof(chunk) / 4 ? cells - i : sizeof(chunk) / 4;

		for (size_t j = 0; j < m; j++) {
			uint32_t u;

			memcpy(&u, &b->data[i + j], 4);
			for (int k = 0; k < 4; k++)
				chunk[4 * j + (size_t)k] = (unsigned char)(u >> (8 * k));
		}
		ok = fwrite(chunk, 4, m, f) == m;
	}
	if (!ok)
		lw_error_set(LW_ERRCLASS_OS, "%s: cannot write", path);
	err = lw__atomic_close(f, tmp, path, ok);
	return ok ? err : (err < 0 ? err : LW_EIO);
}
