/*
 * Fuzz safe extraction: any bytes, written as a zip, must open as a package
 * or fail cleanly.  A failure leaves nothing behind; a success leaves only
 * regular files and folders, all inside the target, and the files the
 * manifest names.  Small limits keep every run fast.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lw.h"
#include "lw/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256], zip_path[300], out_path[300];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void cleanup(void)
{
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof(root), "%s/lwzipfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		abort();
	snprintf(zip_path, sizeof(zip_path), "%s/in.zip", root);
	snprintf(out_path, sizeof(out_path), "%s/out", root);
	atexit(cleanup);
}

/* Only regular files and folders below out. */
static int check_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_SL || flag == FTW_SLN || (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) ||
	    strncmp(path, out_path, strlen(out_path)))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_package_limits lim = LW_PACKAGE_LIMITS_INIT;
	lw_package *p = NULL;
	FILE *f;

	if (!root[0])
		setup();
	if (!(f = fopen(zip_path, "wb")) || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	lim.max_entries = 64;
	lim.max_total_bytes = 1 << 20;
	lim.max_file_bytes = 256 << 10;
	lim.ratio_min_bytes = 4096;
	if (lw_package_open(&p, zip_path, out_path, &lim) != 0) {
		if (p || access(out_path, F_OK) == 0 || !lw_error_last()->message[0])
			abort();
		return 0;
	}
	if (nftw(out_path, check_entry, 16, FTW_PHYS) != 0 ||
	    lw_manifest_check_files(lw_package_manifest(p), lw_package_dir(p)) != 0)
		abort();
	lw_package_free(p);
	nftw(out_path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
