/*
 * A growing text buffer for the JSON writers (RKME, image and hetero
 * specifications, built-in models): numbers in their shortest form that
 * reads back bit for bit.  A failed allocation sets err and later calls do
 * nothing, so a writer checks once at the end.
 */
#ifndef LW_JSON_OUT_H
#define LW_JSON_OUT_H

#include <stddef.h>

typedef struct {
	char *text; /* NUL-terminated; the caller frees it */
	size_t len, cap;
	int err;    /* 0, LW_ENOMEM, or an error the writer recorded itself */
} lw__jout;

#define LW__JOUT_INIT { NULL, 0, 0, 0 }

void lw__jout_put(lw__jout *o, const char *s, size_t n);
void lw__jout_str(lw__jout *o, const char *s);
/* "-0" would read back as the integer 0: negative zero is written "-0.0". */
void lw__jout_number(lw__jout *o, double v);
void lw__jout_size(lw__jout *o, size_t v);
/* "[v0,v1,...]" */
void lw__jout_numbers(lw__jout *o, const double *v, size_t n);

#endif
