/*
 * Request metrics for /metrics (Prometheus text format): counts per route
 * and status, and a latency histogram per route.  Lock-free counters:
 * request threads only ever add.
 */
#ifndef LW_SERVER_METRICS_H
#define LW_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#define LW__METRIC_ROUTES 64
#define LW__METRIC_CODES 6   /* 1xx..5xx, and "other" */
#define LW__METRIC_BUCKETS 12

typedef struct {
	const char *names[LW__METRIC_ROUTES]; /* route names, set once at start */
	size_t nroutes;
	atomic_ullong count[LW__METRIC_ROUTES][LW__METRIC_CODES];
	atomic_ullong bucket[LW__METRIC_ROUTES][LW__METRIC_BUCKETS + 1]; /* +Inf last */
	atomic_ullong sum_us[LW__METRIC_ROUTES];
	atomic_ullong searches, downloads, uploads;
} lw__metrics;

/* Upper bounds of the latency buckets, in seconds. */
extern const double lw__metric_bounds[LW__METRIC_BUCKETS];

/* The slot for a route name (registered on first use); the last slot takes the rest. */
size_t lw__metrics_slot(lw__metrics *m, const char *name);
void lw__metrics_observe(lw__metrics *m, size_t slot, int status, double seconds);
/* Append the text exposition to a growing buffer; returns it (caller frees) or NULL. */
char *lw__metrics_text(lw__metrics *m, const char *extra);

#endif
