#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *lwt_shared_path(const char *rel)
{
	static char buf[4096];
	const char *root = getenv("LW_SHARED_DIR");
	struct stat st;

	if (!root || !*root)
		root = "../shared";
	snprintf(buf, sizeof(buf), "%s/%s", root, rel);
	if (stat(buf, &st) != 0)
		fail_msg("shared file %s missing: set LW_SHARED_DIR to the team's shared folder", buf);
	return buf;
}

char *lwt_mkdtemp(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	path = malloc(strlen(tmp) + 32);
	assert_non_null(path);
	sprintf(path, "%s/lwtest.XXXXXX", tmp);
	assert_non_null(mkdtemp(path));
	return path;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

void lwt_rmtree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *lwt_write_file(const char *dir, const char *name, const char *text)
{
	char *path = malloc(strlen(dir) + strlen(name) + 2);
	FILE *f;

	assert_non_null(path);
	sprintf(path, "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

void lwt_gmm(lw_mat *out, size_t n, size_t d, size_t components, double spread, uint64_t seed)
{
	lw_rng rng;
	lw_mat centres;

	lw_rng_seed(&rng, seed);
	assert_int_equal(lw_mat_init(&centres, components, d), 0);
	for (size_t i = 0; i < components * d; i++)
		centres.data[i] = spread * lw_rng_normal(&rng);
	assert_int_equal(lw_mat_init(out, n, d), 0);
	for (size_t i = 0; i < n; i++) {
		const double *c = lw_mat_row(&centres, (size_t)lw_rng_below(&rng, components));
		double *r = lw_mat_row(out, i);

		for (size_t j = 0; j < d; j++)
			r[j] = c[j] + lw_rng_normal(&rng);
	}
	lw_mat_dispose(&centres);
}

int lwt_dock_dir_setup(void **state)
{
	lwt_dock_dir *f = calloc(1, sizeof(*f));

	f->tmp = lwt_mkdtemp();
	f->dock = malloc(strlen(f->tmp) + 8);
	sprintf(f->dock, "%s/dock", f->tmp);
	*state = f;
	return 0;
}

int lwt_dock_dir_teardown(void **state)
{
	lwt_dock_dir *f = *state;

	lwt_rmtree(f->tmp);
	free(f->tmp);
	free(f->dock);
	free(f);
	return 0;
}
