/*
 * IDX files (the MNIST family: big-endian header, uint8 images N x H x W,
 * labels N) and raw float32 tensors, both read as streams so that a .gz
 * file is decompressed on the fly and a selection (--limit, a class) stops
 * or skips without holding the whole file.
 */
#include <math.h>
#include <string.h>

#include "image.h"
#include "util.h"

#define IDX_UBYTE 0x08

size_t lw__stream_read(lw__stream *s, void *dst, size_t n)
{
	size_t got = 0;

	if (s->failed)
		return 0;
	if (!s->gz) {
		got = n < s->len - s->pos ? n : s->len - s->pos;
		memcpy(dst, s->mem + s->pos, got);
		s->pos += got;
	} else {
		while (got < n) {
			unsigned chunk = n - got > (1u << 30) ? 1u << 30 : (unsigned)(n - got);
			int r = gzread(s->gz, (unsigned char *)dst + got, chunk);
			int zerr;

			if (r < 0) {
				const char *why = gzerror(s->gz, &zerr);

				lw_error_set(LW_ERRCLASS_DATA, "%s: cannot decompress: %s (a damaged "
					     ".gz file?)", s->name, why ? why : "zlib error");
				s->failed = 1;
				break;
			}
			if (r == 0)
				break;
			got += (size_t)r;
		}
	}
	s->consumed += got;
	return got;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static float lef32(const unsigned char *p)
{
	uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static int truncated(lw__stream *s, const char *what, size_t i, size_t n, uint64_t promised)
{
	if (s->failed)
		return LW_EINVALID;
	lw_error_set(LW_ERRCLASS_DATA,
		     "%s: truncated: the data ends inside %s %zu of %zu (after %llu bytes; the "
		     "header promises %llu)",
		     s->name, what, i + 1, n, (unsigned long long)s->consumed,
		     (unsigned long long)promised);
	return LW_EINVALID;
}

/* After the last record: anything more is a sign of a wrong header. */
static int expect_end(lw__stream *s, uint64_t promised)
{
	unsigned char extra;

	if (lw__stream_read(s, &extra, 1) == 0)
		return s->failed ? LW_EINVALID : 0;
	lw_error_set(LW_ERRCLASS_DATA, "%s: trailing bytes after the %llu the header describes: "
		     "a wrong header or two files joined", s->name, (unsigned long long)promised);
	return LW_EINVALID;
}

static bool picked(const lw__image_pick *p, size_t i)
{
	return !p->labels || (long)p->labels[i] == p->label;
}

/* The selection's count check: a label file must describe every image. */
static int check_labels(const lw__image_pick *p, size_t n, const char *name)
{
	if (p->labels && p->nlabels != n) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: holds %zu images but the label file has %zu labels",
			     name, n, p->nlabels);
		return LW_EINVALID;
	}
	return 0;
}

/* Room for `want` images; the batch grows by doubling. */
static int reserve(lw_image_batch *b, size_t *cap, size_t want, const lw__image_pick *p,
		   const char *name)
{
	size_t stride = lw_image_batch_stride(b), bytes;
	float *d;

	if (want > p->max_values / stride) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: more than %zu images of %zu values: over the "
			     "limit of %zu values in a batch", name, want - 1, stride, p->max_values);
		return LW_EINVALID;
	}
	if (want <= *cap)
		return 0;
	if (want < 2 * *cap)
		want = 2 * *cap;
	if (want > p->max_values / stride)
		want = p->max_values / stride;
	if (!lw__mul_ok(&bytes, want, stride) || !(d = lw__reallocarray(b->data, bytes, sizeof(float))))
		return LW_ENOMEM;
	b->data = d;
	*cap = want;
	return 0;
}

/* No image was kept: say why instead of returning an empty batch. */
static int none_picked(const lw__image_pick *p, const char *name)
{
	if (p->labels)
		lw_error_set(LW_ERRCLASS_DATA, "%s: no image has label %ld", name, p->label);
	else
		lw_error_set(LW_ERRCLASS_DATA, "%s: holds no image", name);
	return LW_EINVALID;
}

int lw__idx_decode(lw_image_batch *out, lw__stream *s, const lw__image_pick *pick,
		   const lw_image_read_options *o)
{
	unsigned char head[16], *pix = NULL;
	size_t n, h, w, plane, cap = 0, kept = 0, i;
	uint64_t promised;
	int err;

	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if (lw__stream_read(s, head, 4) != 4)
		return truncated(s, "the header", 0, 1, 16);
	if (head[0] || head[1]) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: not an IDX file (bad magic)", s->name);
		return LW_EINVALID;
	}
	if (head[2] != IDX_UBYTE || head[3] != 3) {
		lw_error_set(LW_ERRCLASS_DATA,
			     "%s: an IDX file of type 0x%02x with %u dimensions; images are read from "
			     "uint8 (0x08) files of 3 dimensions, N x H x W%s",
			     s->name, head[2], head[3],
			     head[3] == 1 ? " (this looks like a label file: pass it as the labels)" : "");
		return LW_EINVALID;
	}
	if (lw__stream_read(s, head + 4, 12) != 12)
		return truncated(s, "the header", 0, 1, 16);
	n = be32(head + 4);
	h = be32(head + 8);
	w = be32(head + 12);
	if (n == 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the header says it holds 0 images", s->name);
		return LW_EINVALID;
	}
	if ((err = lw__image_check_size(h, w, 1, s->name, o)) < 0 ||
	    (err = check_labels(pick, n, s->name)) < 0)
		return err;
	plane = h * w;
	promised = 16 + (uint64_t)n * plane;
	if (promised > o->max_file_bytes) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the header promises %llu bytes, over the %zu-byte "
			     "limit on a file", s->name, (unsigned long long)promised, o->max_file_bytes);
		return LW_EINVALID;
	}
	out->c = 1;
	out->h = h;
	out->w = w;
	if (!(pix = lw__mallocarray(plane, 1)))
		return LW_ENOMEM;
	for (i = 0; i < n && (!pick->limit || kept < pick->limit); i++) {
		if (lw__stream_read(s, pix, plane) != plane) {
			err = truncated(s, "image", i, n, promised);
			goto done;
		}
		if (!picked(pick, i))
			continue;
		if ((err = reserve(out, &cap, kept + 1, pick, s->name)) < 0)
			goto done;
		for (size_t p = 0; p < plane; p++)
			out->data[kept * plane + p] = (float)pix[p];
		out->n = ++kept;
	}
	if (kept == 0)
		err = none_picked(pick, s->name);
	else if (i == n) /* every record read: a limit stops early instead */
		err = expect_end(s, promised);
done:
	free(pix);
	if (err < 0)
		lw_image_batch_dispose(out);
	return err;
}

int lw__idx_read_labels(unsigned char **labels, size_t *n, const char *path,
			const lw_image_read_options *o)
{
	lw__stream s = { 0 };
	unsigned char head[8];
	size_t count;
	int err = 0;

	*labels = NULL;
	*n = 0;
	s.name = path;
	if (!(s.gz = gzopen(path, "rb"))) {
		lw_error_set(LW_ERRCLASS_OS, "%s: cannot open the label file", path);
		return LW_EIO;
	}
	if (lw__stream_read(&s, head, 8) != 8) {
		err = truncated(&s, "the header", 0, 1, 8);
		goto done;
	}
	if (head[0] || head[1] || head[2] != IDX_UBYTE || head[3] != 1) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: not an IDX label file (uint8, 1 dimension: magic "
			     "00 00 08 01)", path);
		err = LW_EINVALID;
		goto done;
	}
	count = be32(head + 4);
	if (count == 0 || count > o->max_file_bytes) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the header says %zu labels", path, count);
		err = LW_EINVALID;
		goto done;
	}
	if (!(*labels = lw__mallocarray(count, 1))) {
		err = LW_ENOMEM;
		goto done;
	}
	if (lw__stream_read(&s, *labels, count) != count) {
		err = truncated(&s, "the labels", 0, 1, 8 + (uint64_t)count);
		goto done;
	}
	if ((err = expect_end(&s, 8 + (uint64_t)count)) < 0)
		goto done;
	*n = count;
done:
	gzclose(s.gz);
	if (err < 0) {
		free(*labels);
		*labels = NULL;
	}
	return err;
}

/* The first non-finite value of an image, named by its position. */
static int non_finite(const lw__stream *s, size_t i, size_t at, size_t h, size_t w, float v)
{
	size_t plane = h * w;

	lw_error_set(LW_ERRCLASS_DATA, "%s: image %zu, channel %zu, row %zu, column %zu is %s: a "
		     "raw tensor must hold finite values",
		     s->name, i + 1, at / plane + 1, at % plane / w + 1, at % w + 1,
		     isnan(v) ? "NaN" : "infinite");
	return LW_EINVALID;
}

int lw__tensor_decode(lw_image_batch *out, lw__stream *s, const lw__image_pick *pick,
		      const lw_image_read_options *o)
{
	unsigned char head[LW_TENSOR_HEADER_LEN], *buf = NULL;
	uint64_t dims[4], promised;
	size_t n, c, h, w, stride, cap = 0, kept = 0, i;
	int err;

	*out = (lw_image_batch)LW_IMAGE_BATCH_INIT;
	if (lw__stream_read(s, head, sizeof(head)) != sizeof(head))
		return truncated(s, "the header", 0, 1, LW_TENSOR_HEADER_LEN);
	if (memcmp(head, LW_TENSOR_MAGIC, LW_TENSOR_MAGIC_LEN)) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: not a raw tensor (no \"LWTEN\\0\" magic)", s->name);
		return LW_EINVALID;
	}
	if (head[6] != LW_TENSOR_VERSION || head[7] != 0) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: raw tensor version byte %u, reserved byte %u: this "
			     "build reads version %d with reserved 0",
			     s->name, head[6], head[7], LW_TENSOR_VERSION);
		return LW_EINVALID;
	}
	for (int k = 0; k < 4; k++)
		dims[k] = le64(head + 8 + 8 * k);
	if (dims[0] == 0 || dims[1] == 0 || dims[1] > LW_TENSOR_MAX_CHANNELS || dims[0] > SIZE_MAX ||
	    dims[2] > o->max_side || dims[3] > o->max_side) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the header says %llu x %llu x %llu x %llu (N x C x "
			     "H x W); N must be positive, C at most %d and H, W at most %zu",
			     s->name, (unsigned long long)dims[0], (unsigned long long)dims[1],
			     (unsigned long long)dims[2], (unsigned long long)dims[3],
			     LW_TENSOR_MAX_CHANNELS, o->max_side);
		return LW_EINVALID;
	}
	n = (size_t)dims[0];
	c = (size_t)dims[1];
	h = (size_t)dims[2];
	w = (size_t)dims[3];
	if ((err = lw__image_check_size(h, w, c, s->name, o)) < 0 ||
	    (err = check_labels(pick, n, s->name)) < 0)
		return err;
	stride = c * h * w;
	if (__builtin_mul_overflow((uint64_t)stride * 4, dims[0], &promised) ||
	    promised > o->max_file_bytes) {
		lw_error_set(LW_ERRCLASS_DATA, "%s: the header promises %llu x %zu float32 values, "
			     "over the %zu-byte limit on a file",
			     s->name, (unsigned long long)dims[0], stride, o->max_file_bytes);
		return LW_EINVALID;
	}
	promised += LW_TENSOR_HEADER_LEN;
	out->c = c;
	out->h = h;
	out->w = w;
	if (!(buf = lw__mallocarray(stride, 4)))
		return LW_ENOMEM;
	for (i = 0; i < n && (!pick->limit || kept < pick->limit); i++) {
		float *dst;

		if (lw__stream_read(s, buf, stride * 4) != stride * 4) {
			err = truncated(s, "image", i, n, promised);
			goto done;
		}
		if (!picked(pick, i))
			continue;
		if ((err = reserve(out, &cap, kept + 1, pick, s->name)) < 0)
			goto done;
		dst = out->data + kept * stride;
		for (size_t p = 0; p < stride; p++) {
			dst[p] = lef32(buf + 4 * p);
			if (!isfinite(dst[p])) {
				err = non_finite(s, i, p, h, w, dst[p]);
				goto done;
			}
		}
		out->n = ++kept;
	}
	if (kept == 0)
		err = none_picked(pick, s->name);
	else if (i == n) /* every record read: a limit stops early instead */
		err = expect_end(s, promised);
done:
	free(buf);
	if (err < 0)
		lw_image_batch_dispose(out);
	return err;
}
