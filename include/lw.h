/*
 * learnware dock - the public API in one include.
 *
 * Conventions (see docs/conventions.md):
 *  - functions are lw_<module>_<verb>; out-parameters come first;
 *  - fallible functions return 0 or a negative LW_E* code, with the detail
 *    in lw_error_last();
 *  - an object returned through an out-parameter belongs to the caller and
 *    is released with its type's _free (library objects) or _dispose (the
 *    contents of caller-allocated structs); both accept NULL.
 */
#ifndef LW_H
#define LW_H

#include "lw/common.h"
#include "lw/error.h"
#include "lw/matrix.h"
#include "lw/rng.h"
#include "lw/kernel.h"
#include "lw/kmeans.h"
#include "lw/qp.h"
#include "lw/rkme.h"
#include "lw/data.h"
#include "lw/model.h"
#include "lw/semantic.h"
#include "lw/package.h"
#include "lw/check.h"
#include "lw/search.h"
#include "lw/index.h"
#include "lw/dock.h"
#include "lw/store.h"
#include "lw/train.h"
#include "lw/sandbox.h"
#include "lw/reuse.h"
#include "lw/image.h"
#include "lw/rkme_image.h"
#include "lw/text.h"
#include "lw/hetero.h"

#endif
