/*
 * The verification job queue.  A job moves queued -> running (claimed by a
 * worker) -> done or failed; a running job whose worker stops beating its
 * heart goes back to queued.  Each move updates the learnware's status in
 * the same transaction, so the two never disagree.
 */
#include "store.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

#define JOB_COLS "id, learnware_id, state, worker, attempts, created, started, heartbeat, finished, log"

void lw_job_record_dispose(lw_job_record *j)
{
	if (!j)
		return;
	free(j->worker);
	free(j->log);
	memset(j, 0, sizeof(*j));
}

typedef struct {
	lw_job_record *out;
	bool found;
} one_job;

static int take_job(const lw__row *row, void *payload)
{
	one_job *o = payload;
	lw_job_record *j = o->out;
	int err;

	o->found = true;
	j->id = lw__row_int(row, 0);
	snprintf(j->learnware_id, sizeof(j->learnware_id), "%s", row->v[1] ? row->v[1] : "");
	j->state = (int)lw__row_int(row, 2);
	j->attempts = (int)lw__row_int(row, 4);
	j->created = lw__row_int(row, 5);
	j->started = lw__row_int(row, 6);
	j->heartbeat = lw__row_int(row, 7);
	j->finished = lw__row_int(row, 8);
	if ((err = lw__row_dup(&j->worker, row, 3)) < 0 || (err = lw__row_dup(&j->log, row, 9)) < 0)
		lw_job_record_dispose(j);
	return err;
}

static int job_query(lw_job_record *out, lw_store *st, const char *sql, const lw__val *p, size_t np,
		     const char *what)
{
	one_job o = { out, false };
	int err;

	memset(out, 0, sizeof(*out));
	if ((err = lw__store_query(st, sql, p, np, take_job, &o)) == 0 && !o.found) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s", what);
		err = LW_ENOTFOUND;
	}
	if (err < 0)
		lw_job_record_dispose(out);
	return err;
}

static int set_learnware(lw_store *st, const char *id, int status, int usability, int64_t now)
{
	int64_t n = 0;
	int err;

	if (usability == LW_USABILITY_ANY)
		err = lw__store_exec(&n, st, "UPDATE learnwares SET status = $2, updated = $3 WHERE id = $1",
				     (lw__val[]){ LW__TEXT(id), LW__INT(status), LW__INT(now) }, 3);
	else
		err = lw__store_exec(&n, st,
				     "UPDATE learnwares SET status = $2, usability = $3, updated = $4 WHERE id = $1",
				     (lw__val[]){ LW__TEXT(id), LW__INT(status), LW__INT(usability), LW__INT(now) }, 4);
	if (err == 0 && n == 0) {
		lw_error_set(LW_ERRCLASS_INVALID, "no learnware %s", id);
		err = LW_ENOTFOUND;
	}
	return err;
}

static int enqueue_tx(int64_t *out_id, lw_store *st, const char *id)
{
	int64_t now = lw__store_now();
	int err;

	if ((err = set_learnware(st, id, LW_STATUS_QUEUED, LW_USABILITY_ANY, now)) < 0)
		return err;
	/* One queued job per learnware is enough. */
	err = lw__store_int(out_id, st, "SELECT id FROM jobs WHERE learnware_id = $1 AND state = 0",
			    (lw__val[]){ LW__TEXT(id) }, 1);
	if (err != LW_ENOTFOUND)
		return err;
	return lw__store_int(out_id, st,
			     "INSERT INTO jobs (learnware_id, state, attempts, created) VALUES ($1, 0, 0, $2)"
			     " RETURNING id",
			     (lw__val[]){ LW__TEXT(id), LW__INT(now) }, 2);
}

int lw_store_job_enqueue(int64_t *out_id, lw_store *st, const char *learnware_id)
{
	int64_t id = 0;
	int err;

	LW_ASSERT_ARG(st);
	if ((err = lw__store_check_id(learnware_id)) < 0 || (err = lw__store_begin(st)) < 0)
		return err;
	if ((err = enqueue_tx(&id, st, learnware_id)) < 0)
		lw__store_rollback(st);
	else
		err = lw__store_commit(st);
	if (out_id)
		*out_id = err == 0 ? id : 0;
	return err;
}

int lw_store_job_claim(lw_job_record *out, lw_store *st, const char *worker)
{
	int64_t now = lw__store_now();
	int err;

	LW_ASSERT_ARG(out && st && worker && *worker);
	memset(out, 0, sizeof(*out));
	/* Idle workers poll: look before taking the write lock. */
	if ((err = lw__store_int(&now, st, "SELECT 1 FROM jobs WHERE state = 0 LIMIT 1", NULL, 0)) < 0) {
		if (err == LW_ENOTFOUND)
			lw_error_set(LW_ERRCLASS_INVALID, "no job is queued");
		return err;
	}
	now = lw__store_now();
	if ((err = lw__store_begin(st)) < 0)
		return err;
	err = job_query(out, st, st->ops->claim, (lw__val[]){ LW__TEXT(worker), LW__INT(now) }, 2,
			"no job is queued");
	if (err == 0)
		err = set_learnware(st, out->learnware_id, LW_STATUS_PROCESSING, LW_USABILITY_ANY, now);
	if (err < 0) {
		lw__store_rollback(st);
		lw_job_record_dispose(out);
		return err;
	}
	if ((err = lw__store_commit(st)) < 0)
		lw_job_record_dispose(out);
	return err;
}

static int lost(int64_t id, const char *worker)
{
	lw_error_set(LW_ERRCLASS_INVALID, "job %lld is no longer running for worker %s (requeued or cancelled)",
		     (long long)id, worker);
	return LW_ENOTFOUND;
}

int lw_store_job_heartbeat(lw_store *st, int64_t id, const char *worker)
{
	int64_t n = 0;
	int err;

	LW_ASSERT_ARG(st && worker);
	err = lw__store_exec(&n, st, "UPDATE jobs SET heartbeat = $3 WHERE id = $1 AND worker = $2 AND state = 1",
			     (lw__val[]){ LW__INT(id), LW__TEXT(worker), LW__INT(lw__store_now()) }, 3);
	return err == 0 && n == 0 ? lost(id, worker) : err;
}

static int finish_tx(lw_store *st, int64_t id, const char *worker, int ok, int usability, const char *log)
{
	int64_t now = lw__store_now();
	char *lw_id = NULL;
	int err;

	err = lw__store_text(&lw_id, st,
			     "UPDATE jobs SET state = $3, finished = $4, log = $5"
			     " WHERE id = $1 AND worker = $2 AND state = 1 RETURNING learnware_id",
			     (lw__val[]){ LW__INT(id), LW__TEXT(worker), LW__INT(ok ? LW_JOB_DONE : LW_JOB_FAILED),
					  LW__INT(now), LW__TEXT(log) },
			     5);
	if (err == LW_ENOTFOUND)
		err = lost(id, worker);
	if (err == 0)
		err = set_learnware(st, lw_id, ok ? LW_STATUS_SUCCESS : LW_STATUS_FAILED,
				    ok ? usability : LW_USABILITY_INVALID, now);
	free(lw_id);
	return err;
}

int lw_store_job_finish(lw_store *st, int64_t id, const char *worker, int ok, int usability,
			const char *log)
{
	int err;

	LW_ASSERT_ARG(st && worker);
	if (usability < LW_USABILITY_INVALID || usability > LW_USABILITY_USABLE) {
		lw_error_set(LW_ERRCLASS_INVALID, "usability %d out of range", usability);
		return LW_EINVALID;
	}
	if ((err = lw__store_begin(st)) < 0)
		return err;
	if ((err = finish_tx(st, id, worker, ok, usability, log)) < 0) {
		lw__store_rollback(st);
		return err;
	}
	return lw__store_commit(st);
}

typedef struct {
	char (*ids)[16];
	size_t count;
} id_list;

static int take_id(const lw__row *row, void *payload)
{
	id_list *l = payload;
	char(*slot)[16] = lw__store_grow((void **)&l->ids, &l->count, sizeof(*slot));

	if (!slot)
		return LW_ENOMEM;
	snprintf(*slot, sizeof(*slot), "%s", row->v[0] ? row->v[0] : "");
	return 0;
}

/* Move stale jobs with the given statement and set their learnwares' status. */
static int move_stale(size_t *count, lw_store *st, const char *sql, const lw__val *p, size_t np, int status,
		      int usability, int64_t now)
{
	id_list l = { NULL, 0 };
	int err = lw__store_query(st, sql, p, np, take_id, &l);

	for (size_t i = 0; i < l.count && err == 0; i++)
		if ((err = set_learnware(st, l.ids[i], status, usability, now)) == LW_ENOTFOUND)
			err = 0;
	*count += l.count;
	free(l.ids);
	return err;
}

static int requeue_tx(size_t *count, lw_store *st, int64_t timeout_ms, int max_attempts)
{
	int64_t now = lw__store_now(), cutoff = now - timeout_ms;
	int err = 0;

	if (max_attempts > 0)
		err = move_stale(count, st,
				 "UPDATE jobs SET state = 3, finished = $2,"
				 " log = COALESCE(log, '') || $3"
				 " WHERE state = 1 AND heartbeat < $1 AND attempts >= $4 RETURNING learnware_id",
				 (lw__val[]){ LW__INT(cutoff), LW__INT(now),
					      LW__TEXT("the check's worker stopped responding too many times\n"),
					      LW__INT(max_attempts) },
				 4, LW_STATUS_FAILED, LW_USABILITY_INVALID, now);
	if (err == 0)
		err = move_stale(count, st,
				 "UPDATE jobs SET state = 0, worker = NULL WHERE state = 1 AND heartbeat < $1"
				 " RETURNING learnware_id",
				 (lw__val[]){ LW__INT(cutoff) }, 1, LW_STATUS_QUEUED, LW_USABILITY_ANY, now);
	return err;
}

int lw_store_job_requeue_stale(size_t *out_count, lw_store *st, int64_t timeout_ms, int max_attempts)
{
	size_t n = 0;
	int err;

	LW_ASSERT_ARG(st && timeout_ms >= 0);
	if ((err = lw__store_begin(st)) < 0)
		return err;
	if ((err = requeue_tx(&n, st, timeout_ms, max_attempts)) < 0)
		lw__store_rollback(st);
	else
		err = lw__store_commit(st);
	if (out_count)
		*out_count = err == 0 ? n : 0;
	return err;
}

int lw_store_job_get(lw_job_record *out, lw_store *st, int64_t id)
{
	char what[48];

	LW_ASSERT_ARG(out && st);
	snprintf(what, sizeof(what), "no job %lld", (long long)id);
	return job_query(out, st, "SELECT " JOB_COLS " FROM jobs WHERE id = $1", (lw__val[]){ LW__INT(id) }, 1,
			 what);
}

int lw_store_job_latest(lw_job_record *out, lw_store *st, const char *learnware_id)
{
	char what[64];
	int err;

	LW_ASSERT_ARG(out && st);
	if ((err = lw__store_check_id(learnware_id)) < 0)
		return err;
	snprintf(what, sizeof(what), "learnware %s has no verification job", learnware_id);
	return job_query(out, st, "SELECT " JOB_COLS " FROM jobs WHERE learnware_id = $1 ORDER BY id DESC LIMIT 1",
			 (lw__val[]){ LW__TEXT(learnware_id) }, 1, what);
}

static int take_count(const lw__row *row, void *payload)
{
	size_t *counts = payload;
	int64_t state = lw__row_int(row, 0);

	if (state >= 0 && state < LW_JOB_NSTATES)
		counts[state] = (size_t)lw__row_int(row, 1);
	return 0;
}

int lw_store_job_count(size_t *counts, lw_store *st)
{
	LW_ASSERT_ARG(counts && st);
	memset(counts, 0, LW_JOB_NSTATES * sizeof(size_t));
	return lw__store_query(st, "SELECT state, count(*) FROM jobs GROUP BY state", NULL, 0, take_count, counts);
}
