/*
 * Helpers shared by the unit tests.
 */
#ifndef LW_TESTUTIL_H
#define LW_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "lw.h"

/*
 * Absolute path of a file under the team's shared folder (LW_SHARED_DIR).
 * The returned string is static and overwritten by the next call.  Fails
 * the test when the folder is missing: the fixtures are part of the suite.
 */
const char *lwt_shared_path(const char *rel);

/* A fresh private directory under $TMPDIR, removed by lwt_rmtree. */
char *lwt_mkdtemp(void);
void lwt_rmtree(const char *dir);

/* Write text to dir/name and return the joined path (caller frees). */
char *lwt_write_file(const char *dir, const char *name, const char *text);

/*
 * n x d points from a seeded mixture of `components` isotropic Gaussians
 * whose centres are N(0, spread^2 I): the synthetic family the issue's
 * fit-quality targets are stated on.
 */
void lwt_gmm(lw_mat *out, size_t n, size_t d, size_t components, double spread, uint64_t seed);

/*
 * A private folder and a dock path inside it ("<tmp>/dock", not created):
 * cmocka setup and teardown for tests that each open a fresh dock.
 */
typedef struct {
	char *tmp;
	char *dock;
} lwt_dock_dir;

int lwt_dock_dir_setup(void **state);
int lwt_dock_dir_teardown(void **state);

/* assert |a - b| <= tol with both values in the failure message. */
#define lwt_assert_near(a, b, tol)                                               \
	do {                                                                     \
		double lwt_a_ = (a), lwt_b_ = (b);                               \
		if (!(fabs(lwt_a_ - lwt_b_) <= (tol)))                           \
			fail_msg("%s = %.12g, %s = %.12g, |diff| > %g", #a, lwt_a_, \
				 #b, lwt_b_, (double)(tol));                     \
	} while (0)

#endif
