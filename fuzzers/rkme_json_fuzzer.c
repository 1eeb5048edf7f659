/*
 * Fuzz the RKME JSON reader: any bytes must give a specification or a clean
 * error, and an accepted specification must serialise and read back to the
 * same numbers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lw_rkme *r = NULL, *again = NULL;
	char *text = NULL;

	if (lw_rkme_from_json(&r, (const char *)data, size, "fuzz") != 0)
		return 0;
	if (lw_rkme_to_json(&text, r) == 0) {
		if (lw_rkme_from_json(&again, text, strlen(text), "fuzz-again") != 0 ||
		    lw_rkme_k(again) != lw_rkme_k(r) || lw_rkme_dim(again) != lw_rkme_dim(r) ||
		    memcmp(again->beta, r->beta, lw_rkme_k(r) * sizeof(double)) != 0)
			abort();
	}
	free(text);
	lw_rkme_free(again);
	lw_rkme_free(r);
	return 0;
}
