/*
 * The service routes: health, metrics, the OpenAPI document, the taxonomy.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"

void lw__api_healthz(lw__reply *r, lw__request *q)
{
	lw_dock *d = lw__dock_get(q->srv);
	lw_learnware_list l = { 0 };
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;

	/* A real query, so a lost database shows here; one row, so its cost stays flat as the dock grows. */
	f.limit = 1;
	if (!d || lw_store_list(&l, lw_dock_store(d), &f) < 0)
		lw__reply_text(r, 503, "text/plain; charset=utf-8", "unavailable\n");
	else
		lw__reply_text(r, 200, "text/plain; charset=utf-8", "ok\n");
	lw_learnware_list_dispose(&l);
	lw__dock_put(q->srv, d);
}

/* Gauges read from the store: learnwares by status, and the job queue. */
static char *store_gauges(lw_server *s)
{
	static const char *const jobs[] = { "queued", "running", "done", "failed", "cancelled" };
	lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
	size_t counts[LW_JOB_NSTATES] = { 0 }, n;
	char *out = malloc(4096);
	size_t used = 0;
	lw_dock *d = lw__dock_get(s);

	if (!out || !d) {
		free(out);
		lw__dock_put(s, d);
		return NULL;
	}
	used += (size_t)snprintf(out + used, 4096 - used, "# TYPE lw_learnwares gauge\n");
	for (int st = 0; st <= 4; st++) {
		f.status = st;
		if (lw_store_count(&n, lw_dock_store(d), &f) == 0)
			used += (size_t)snprintf(out + used, 4096 - used, "lw_learnwares{status=\"%s\"} %zu\n",
						 lw__status_name(st), n);
	}
	used += (size_t)snprintf(out + used, 4096 - used, "# TYPE lw_jobs gauge\n");
	if (lw_store_job_count(counts, lw_dock_store(d)) == 0)
		for (int j = 0; j < LW_JOB_NSTATES; j++)
			used += (size_t)snprintf(out + used, 4096 - used, "lw_jobs{state=\"%s\"} %zu\n", jobs[j],
						 counts[j]);
	pthread_mutex_lock(&s->search_lock);
	snprintf(out + used, 4096 - used, "# TYPE lw_indexed_learnwares gauge\nlw_indexed_learnwares %zu\n",
		 lw_dock_indexed(s->search));
	pthread_mutex_unlock(&s->search_lock);
	lw__dock_put(s, d);
	return out;
}

void lw__api_metrics(lw__reply *r, lw__request *q)
{
	char *gauges = store_gauges(q->srv);
	char *text = lw__metrics_text(&q->srv->metrics, gauges);

	if (!text)
		lw__reply_error(r, 503, NULL, "out of memory");
	else
		lw__reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", text);
	free(text);
	free(gauges);
}

void lw__api_openapi(lw__reply *r, lw__request *q)
{
	lw__reply_text(r, 200, "application/json", q->srv->openapi);
}

void lw__api_taxonomy(lw__reply *r, lw__request *q)
{
	lw__reply_text(r, 200, "application/json", q->srv->taxonomy);
}
