/*
 * Fuzz the semantic specification and taxonomy readers with the same
 * bytes.  Any input must give an object or a clean error; an accepted
 * specification must validate without failing, match itself, and write
 * JSON that reads back and writes the same bytes again; an accepted
 * taxonomy likewise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lw.h"
#include "lw/semantic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* to_json, from_json, to_json: the two texts must be equal. */
static void semantic_round_trip(const lw_semantic *s)
{
	lw_semantic *again = NULL;
	char *a = NULL, *b = NULL;

	if (lw_semantic_to_json(&a, s) != 0 ||
	    lw_semantic_from_json(&again, a, strlen(a), "fuzz-again") != 0 ||
	    lw_semantic_to_json(&b, again) != 0 || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	lw_semantic_free(again);
}

static void check_semantic(const lw_semantic *s, const lw_taxonomy *t)
{
	lw_semantic_problems p;
	lw_semantic_status status;

	if (lw_semantic_validate(&status, &p, s, t) != 0)
		abort();
	if ((status == LW_SEMANTIC_OK) != (p.count == 0))
		abort();
	/* Every message starts with the key it is about. */
	for (size_t i = 0; i < p.count; i++)
		if (strncmp(p.items[i].message, p.items[i].key, strlen(p.items[i].key)) != 0)
			abort();
	lw_semantic_problems_dispose(&p);
	if (!lw_semantic_matches(s, s))
		abort();
	semantic_round_trip(s);
}

static void check_taxonomy(const lw_taxonomy *t)
{
	lw_taxonomy *again = NULL;
	char *a = NULL, *b = NULL;

	if (lw_taxonomy_to_json(&a, t) != 0 ||
	    lw_taxonomy_from_json(&again, a, strlen(a), "fuzz-again") != 0 ||
	    lw_taxonomy_to_json(&b, again) != 0 || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	lw_taxonomy_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static lw_taxonomy *builtin;
	lw_semantic *s = NULL;
	lw_taxonomy *t = NULL;

	if (!builtin && lw_taxonomy_builtin(&builtin) != 0)
		abort();
	if (lw_semantic_from_json(&s, (const char *)data, size, "fuzz") == 0)
		check_semantic(s, builtin);
	else if (s || !lw_error_last()->message[0])
		abort();
	if (lw_taxonomy_from_json(&t, (const char *)data, size, "fuzz") == 0) {
		check_taxonomy(t);
		if (s)
			check_semantic(s, t);
	} else if (t) {
		abort();
	}
	lw_semantic_free(s);
	lw_taxonomy_free(t);
	return 0;
}
