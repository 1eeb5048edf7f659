/* The JSON writers' text buffer (json_out.h). */
#include "json_out.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

void lw__jout_put(lw__jout *o, const char *s, size_t n)
{
	if (o->err)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *t;

		while (cap < o->len + n + 1)
			cap *= 2;
		if (!(t = lw__reallocarray(o->text, cap, 1))) {
			o->err = LW_ENOMEM;
			return;
		}
		o->text = t;
		o->cap = cap;
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

void lw__jout_str(lw__jout *o, const char *s)
{
	lw__jout_put(o, s, strlen(s));
}

void lw__jout_number(lw__jout *o, double v)
{
	char num[32];

	if (v == 0 && signbit(v))
		lw__jout_str(o, "-0.0");
	else
		lw__jout_put(o, num, (size_t)lw__format_double(num, v));
}

void lw__jout_size(lw__jout *o, size_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%zu", v);
	lw__jout_str(o, num);
}

void lw__jout_numbers(lw__jout *o, const double *v, size_t n)
{
	lw__jout_put(o, "[", 1);
	for (size_t i = 0; i < n; i++) {
		if (i)
			lw__jout_put(o, ",", 1);
		lw__jout_number(o, v[i]);
	}
	lw__jout_put(o, "]", 1);
}
