/*
 * Request counters and latency histograms in the Prometheus text format.
 */
#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const double lw__metric_bounds[LW__METRIC_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
};

size_t lw__metrics_slot(lw__metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nroutes; i++)
		if (!strcmp(m->names[i], name))
			return i;
	if (m->nroutes < LW__METRIC_ROUTES) {
		m->names[m->nroutes] = name;
		return m->nroutes++;
	}
	return LW__METRIC_ROUTES - 1;
}

void lw__metrics_observe(lw__metrics *m, size_t slot, int status, double seconds)
{
	int code = status >= 100 && status < 600 ? status / 100 - 1 : LW__METRIC_CODES - 1;
	size_t b = 0;

	if (slot >= LW__METRIC_ROUTES)
		return;
	atomic_fetch_add(&m->count[slot][code], 1);
	while (b < LW__METRIC_BUCKETS && seconds > lw__metric_bounds[b])
		b++;
	atomic_fetch_add(&m->bucket[slot][b], 1);
	atomic_fetch_add(&m->sum_us[slot], (unsigned long long)(seconds * 1e6));
}

typedef struct {
	char *s;
	size_t len, cap;
	int bad;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *p = realloc(b->s, b->cap * 2 + (size_t)n);
		if (!p) {
			b->bad = 1;
			return;
		}
		b->s = p;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static const char *const code_names[LW__METRIC_CODES] = { "1xx", "2xx", "3xx", "4xx", "5xx", "other" };

char *lw__metrics_text(lw__metrics *m, const char *extra)
{
	buf b = { malloc(8192), 0, 8192, 0 };

	if (!b.s)
		return NULL;
	b.s[0] = '\0';
	put(&b, "# HELP lw_http_requests_total HTTP requests by route and status class.\n"
		"# TYPE lw_http_requests_total counter\n");
	for (size_t r = 0; r < m->nroutes; r++)
		for (int c = 0; c < LW__METRIC_CODES; c++) {
			unsigned long long n = atomic_load(&m->count[r][c]);

			if (n)
				put(&b, "lw_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n",
				    m->names[r], code_names[c], n);
		}
	put(&b, "# HELP lw_http_request_seconds Request latency by route.\n"
		"# TYPE lw_http_request_seconds histogram\n");
	for (size_t r = 0; r < m->nroutes; r++) {
		unsigned long long cum = 0;

		for (int k = 0; k <= LW__METRIC_BUCKETS; k++) {
			cum += atomic_load(&m->bucket[r][k]);
			if (k < LW__METRIC_BUCKETS)
				put(&b, "lw_http_request_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
				    m->names[r], lw__metric_bounds[k], cum);
			else
				put(&b, "lw_http_request_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
				    m->names[r], cum);
		}
		put(&b, "lw_http_request_seconds_sum{route=\"%s\"} %.6f\n", m->names[r],
		    (double)atomic_load(&m->sum_us[r]) / 1e6);
		put(&b, "lw_http_request_seconds_count{route=\"%s\"} %llu\n", m->names[r], cum);
	}
	put(&b, "# TYPE lw_searches_total counter\nlw_searches_total %llu\n",
	    atomic_load(&m->searches));
	put(&b, "# TYPE lw_downloads_total counter\nlw_downloads_total %llu\n",
	    atomic_load(&m->downloads));
	put(&b, "# TYPE lw_uploads_total counter\nlw_uploads_total %llu\n", atomic_load(&m->uploads));
	if (extra)
		put(&b, "%s", extra);
	if (b.bad) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
