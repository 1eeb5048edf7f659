/*
 * Background threads: verification workers, which claim queued jobs and
 * run the sandboxed checker, and the index refresher, which keeps the
 * search dock in step with changes made by any process on the store
 * (workers here or elsewhere, other replicas).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

typedef struct {
	const lw_server_config *c;
	volatile int *stop;
	char name[160];
	int sweeper; /* this thread also requeues jobs of silent workers */
	lw_server *srv; /* in a server: refresh its search at once after a check */
} worker_arg;

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Jobs whose worker went silent (killed, crashed, machine lost) are retried. */
static void requeue_stale(lw_store *st, const lw_server_config *c, const char *who)
{
	size_t n = 0;

	if (lw_store_job_requeue_stale(&n, st, (int64_t)c->job_timeout_s * 1000, c->job_attempts) < 0)
		fprintf(stderr, "%s: cannot requeue stale jobs: %s\n", who, lw_error_last()->message);
	else if (n)
		fprintf(stderr, "%s: requeued %zu job(s) whose worker went silent\n", who, n);
}

static void *work_loop(void *p)
{
	worker_arg *a = p;
	lw_dock_options o;
	lw_dock *d = NULL;
	double last_sweep = 0;
	int64_t seen = 0;

	lw__dock_options(&o, a->c, 0);
	/* A worker retrains the heterogeneous map when a job makes it due: in the background. */
	o.hetero_auto = 1;
	while (!*a->stop && lw_dock_open(&d, a->c->dock, &o) < 0) {
		fprintf(stderr, "%s: cannot open the dock: %s; retrying\n", a->name, lw_error_last()->message);
		nap_ms(2000);
	}
	while (d && !*a->stop) {
		lw_store *st = lw_dock_store(d);
		int did = 0;

		if (a->sweeper && lw__now_s() - last_sweep > 10) {
			requeue_stale(st, a->c, a->name);
			last_sweep = lw__now_s();
		}
		lw_store_event_newest(&seen, st);
		if (lw_dock_work(&did, d, a->name) < 0) {
			fprintf(stderr, "%s: %s\n", a->name, lw_error_last()->message);
			nap_ms(1000);
			continue;
		}
		/* The verdict is searchable here now, without waiting for the refresher. */
		if (did && a->srv) {
			pthread_mutex_lock(&a->srv->search_lock);
			if (lw_dock_refresh(a->srv->search) < 0)
				fprintf(stderr, "%s: cannot refresh the index: %s\n", a->name,
					lw_error_last()->message);
			pthread_mutex_unlock(&a->srv->search_lock);
		}
		/* An empty queue: sleep until something happens on the store. */
		if (!did)
			lw_store_wait_event(st, seen, 1000);
	}
	lw_dock_free(d);
	return NULL;
}

static int start_workers(pthread_t **threads, worker_arg **args, size_t n, const lw_server_config *c,
			 volatile int *stop, const char *prefix, lw_server *srv)
{
	char host[64] = "host";

	gethostname(host, sizeof(host) - 1);
	*threads = calloc(n ? n : 1, sizeof(**threads));
	*args = calloc(n ? n : 1, sizeof(**args));
	if (!*threads || !*args)
		return LW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		worker_arg *a = &(*args)[i];

		a->c = c;
		a->stop = stop;
		a->sweeper = i == 0;
		a->srv = srv;
		snprintf(a->name, sizeof(a->name), "%s:%s:%ld:%zu", prefix, host, (long)getpid(), i);
		if (pthread_create(&(*threads)[i], NULL, work_loop, a) != 0) {
			lw_error_set(LW_ERRCLASS_OS, "cannot start a worker thread");
			return LW_ERROR;
		}
	}
	return 0;
}

/* --- the refresher --------------------------------------------------------------------- */

static void *refresh_loop(void *p)
{
	lw_server *s = p;
	lw_store_options so = LW_STORE_OPTIONS_INIT;
	lw_store *st = NULL;
	int64_t seen = 0;

	so.root = *s->c.files_root ? s->c.files_root : NULL;
	while (!s->stopping && lw_store_open(&st, s->c.dock, &so) < 0) {
		fprintf(stderr, "learnware serve: refresher cannot open the store: %s\n",
			lw_error_last()->message);
		nap_ms(2000);
	}
	if (st)
		lw_store_event_newest(&seen, st);
	while (st && !s->stopping) {
		int64_t newest = seen;
		int got = lw_store_wait_event(st, seen, 500);

		if (got < 0) {
			nap_ms(1000);
			continue;
		}
		if (got == 0 || lw_store_event_newest(&newest, st) < 0 || newest <= seen)
			continue;
		pthread_mutex_lock(&s->search_lock);
		if (lw_dock_refresh(s->search) < 0)
			fprintf(stderr, "learnware serve: cannot refresh the index: %s\n",
				lw_error_last()->message);
		pthread_mutex_unlock(&s->search_lock);
		seen = newest;
	}
	lw_store_free(st);
	return NULL;
}

int lw__workers_start(lw_server *s)
{
	int err;

	if (pthread_create(&s->refresher, NULL, refresh_loop, s) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot start the index refresher");
		return LW_ERROR;
	}
	s->refresher_started = true;
	s->nworkers = (size_t)s->c.workers;
	if ((err = start_workers(&s->workers, (worker_arg **)&s->worker_args, s->nworkers, &s->c,
				 (volatile int *)&s->stopping, "serve", s)) < 0)
		s->nworkers = 0; /* threads already started are joined at stop: none were */
	return err;
}

void lw__workers_stop(lw_server *s)
{
	s->stopping = 1;
	for (size_t i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i], NULL);
	free(s->workers);
	s->workers = NULL;
	s->nworkers = 0;
	free(s->worker_args);
	s->worker_args = NULL;
	if (s->refresher_started)
		pthread_join(s->refresher, NULL);
	s->refresher_started = false;
}

int lw_worker_run(const lw_server_config *c, int threads, volatile int *stop)
{
	pthread_t *t = NULL;
	worker_arg *args = NULL;
	int err;

	if (threads < 1)
		threads = 1;
	err = start_workers(&t, &args, (size_t)threads, c, stop, "worker", NULL);
	for (int i = 0; t && i < threads; i++)
		if (t[i])
			pthread_join(t[i], NULL);
	free(t);
	free(args);
	return err;
}
