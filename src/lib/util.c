/*
 * Checked allocation: every failure leaves a message in the error slot so
 * callers only need to propagate LW_ENOMEM.
 */
#include "util.h"

#include <string.h>

static void *oom(size_t n, size_t sz)
{
	lw_error_set(LW_ERRCLASS_NOMEMORY, "out of memory allocating %zu x %zu bytes", n, sz);
	return NULL;
}

void *lw__calloc(size_t n, size_t sz)
{
	size_t total;
	void *p;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	p = calloc(total ? n : 1, total ? sz : 1);
	return p ? p : oom(n, sz);
}

void *lw__mallocarray(size_t n, size_t sz)
{
	size_t total;
	void *p;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	p = malloc(total ? total : 1);
	return p ? p : oom(n, sz);
}

void *lw__reallocarray(void *p, size_t n, size_t sz)
{
	size_t total;
	void *q;

	if (!lw__mul_ok(&total, n, sz))
		return oom(n, sz);
	q = realloc(p, total ? total : 1);
	return q ? q : oom(n, sz);
}

char *lw__strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = lw__mallocarray(len, 1);

	if (p)
		memcpy(p, s, len);
	return p;
}
