/*
 * Fuzz the sketch index file reader: any bytes must load or be refused
 * cleanly; an index that loads must answer a query and save to a file that
 * loads again to the same size.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A user specification of dimension d near the origin. */
static lw_rkme *probe(size_t d)
{
	lw_mat z;
	double beta[2] = { 0.5, 0.5 };
	lw_rkme *r = NULL;

	if (lw_mat_init(&z, 2, d) < 0)
		return NULL;
	for (size_t i = 0; i < 2 * d; i++)
		z.data[i] = (double)(i % 3) * 0.1;
	lw_rkme_new(&r, &z, beta, 0.1, 2);
	lw_mat_dispose(&z);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], again[80];
	lw_index *ix = NULL, *ix2 = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/lw-index-fuzz.%ld", (long)getpid());
	snprintf(again, sizeof(again), "%s.again", path);
	if (!(f = fopen(path, "wb")))
		return 0;
	if (size && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return 0;
	}
	fclose(f);
	if (lw_index_load(&ix, path) == 0) {
		/* Query every plausible dimension: none may crash. */
		for (size_t d = 1; d <= 24; d++) {
			lw_rkme *user = probe(d);
			uint64_t ids[10];
			size_t got = 0;

			if (user)
				lw_index_query(ids, NULL, &got, ix, user, 10);
			if (got > 10)
				abort();
			lw_rkme_free(user);
		}
		if (lw_index_save(ix, again) == 0) {
			if (lw_index_load(&ix2, again) != 0 || lw_index_size(ix2) != lw_index_size(ix))
				abort();
			lw_index_free(ix2);
		}
		unlink(again);
		lw_index_free(ix);
	}
	unlink(path);
	return 0;
}
