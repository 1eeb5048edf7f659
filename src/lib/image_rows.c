/*
 * Images as an image learnware's model sees them: the RKME's 32 x 32
 * before standardisation, scaled to [0, 1], one row per image.  Fixing
 * this in the library lets the checker, `learnware train` and reuse feed
 * every image model the same rows (docs/models.md).
 */
#include "image.h"
#include "util.h"

#include <math.h>
#include <string.h>

int lw_image_model_rows(lw_mat *out, const lw_image_batch *images)
{
	lw_image_batch r = LW_IMAGE_BATCH_INIT;
	const lw_image_batch *src = images;
	size_t d;
	int err;

	LW_ASSERT_ARG(out && images);
	memset(out, 0, sizeof(*out));
	if (!images->n || !images->c || !images->h || !images->w || !images->data) {
		lw_error_set(LW_ERRCLASS_INVALID, "no images to turn into model rows");
		return LW_EINVALID;
	}
	if (images->h != LW_IMAGE_MODEL_SIDE || images->w != LW_IMAGE_MODEL_SIDE) {
		if ((err = lw_image_resize(&r, images, LW_IMAGE_MODEL_SIDE, LW_IMAGE_MODEL_SIDE,
					   LW_RESIZE_TRIANGLE)) < 0)
			return err;
		src = &r;
	}
	d = lw_image_batch_stride(src);
	if ((err = lw_mat_init(out, src->n, d)) == 0) {
		for (size_t i = 0; i < src->n * d; i++) {
			double v = src->data[i] / 255.0;

			/* A missing pixel reads as NaN; the model gets mid-grey. */
			out->data[i] = isfinite(v) ? v : 0.5;
		}
	}
	lw_image_batch_dispose(&r);
	return err;
}
