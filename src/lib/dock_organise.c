/*
 * The organiser: adding, updating and deleting learnwares, and the worker
 * that runs deferred checks.  Every package is unpacked once into a
 * private folder, its specifications read from there, and the sandboxed
 * checker run on that folder; only then does the store see it, and invalid
 * learnwares are refused, as in the reference.  With defer_check the store
 * sees it first, with a job queued, and lw_dock_work runs the same check
 * on the stored package later (an invalid one is then kept, marked so).
 */
#define _POSIX_C_SOURCE 200809L
#include "dock.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lw/image.h"
#include "lw/package.h"
#include "package.h"
#include "util.h"

#define SEMANTIC_MAX (1u << 20)
#define SPEC_MAX (256u << 20)

/* out->log of a deferred add or update, in place of a check log. */
#define QUEUED_LOG                                                                          \
	"not checked yet: the semantic and statistical specifications were read; the check "  \
	"is queued for a worker (learnware worker, or a server's worker threads)\n"

/* A package unpacked and checked, ready for the store. */
typedef struct {
	char *tmp;           /* private folder; the package is in tmp/learnware */
	lw_package *pkg;
	char *semantic_json; /* the override, or the package's file */
	lw_store_spec *specs;
	char **spec_json;
	size_t nspecs;
	lw_check_status status;
	char *log;
} prepared;

static void prepared_dispose(prepared *p)
{
	lw_package_free(p->pkg);
	if (p->tmp) {
		lw__remove_tree(p->tmp, 1);
		free(p->tmp);
	}
	free(p->semantic_json);
	for (size_t i = 0; i < p->nspecs; i++)
		free(p->spec_json[i]);
	free(p->spec_json);
	free(p->specs);
	free(p->log);
	memset(p, 0, sizeof(*p));
}

void lw_dock_added_dispose(lw_dock_added *a)
{
	if (!a)
		return;
	lw_learnware_record_dispose(&a->record);
	free(a->log);
	memset(a, 0, sizeof(*a));
}

static int make_tmp(char **out)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || !*base)
		base = "/tmp";
	if (!(dir = lw__mallocarray(strlen(base) + 32, 1)))
		return LW_ENOMEM;
	sprintf(dir, "%s/lwdock.XXXXXX", base);
	/* The sandbox's uid reads the package: the folder must be world-readable. */
	if (!mkdtemp(dir) || chmod(dir, 0755) != 0) {
		lw_error_set(LW_ERRCLASS_OS, "cannot create a work folder under %s", base);
		free(dir);
		return LW_EIO;
	}
	*out = dir;
	return 0;
}

/* Validate a semantic specification, naming every problem. */
static int validate_semantic(lw_dock *d, const char *json, const char *source)
{
	lw_semantic_problems problems = { NULL, 0 };
	lw_semantic_status status;
	lw_semantic *s = NULL;
	char msg[1024];
	size_t used = 0;
	int err;

	if ((err = lw_semantic_from_json(&s, json, strlen(json), source)) < 0)
		return err;
	err = lw_semantic_validate(&status, &problems, s, d->tax);
	lw_semantic_free(s);
	if (err < 0)
		return err;
	if (status == LW_SEMANTIC_OK) {
		lw_semantic_problems_dispose(&problems);
		return 0;
	}
	msg[0] = '\0';
	for (size_t i = 0; i < problems.count && used < sizeof(msg) - 4; i++)
		used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s", i ? "; " : "",
					 problems.items[i].message);
	lw_semantic_problems_dispose(&problems);
	lw_error_set(LW_ERRCLASS_INVALID, "%s: invalid semantic specification: %s", source, msg);
	return LW_EINVALID;
}

/* The semantic specification: the override (also written over the package's copy
 * so that the checker sees it), or the package's own file. */
static int read_semantic(prepared *p, lw_dock *d, const char *override, const char *zip)
{
	const lw_manifest *m = lw_package_manifest(p->pkg);
	char *path = NULL;
	size_t len;
	int err;

	if (override) {
		const char *name = m->semantic_spec ? m->semantic_spec : "semantic_specification.json";

		if (!(p->semantic_json = lw__strdup(override)))
			return LW_ENOMEM;
		if ((err = validate_semantic(d, override, "the semantic specification given")) < 0)
			return err;
		if (!(path = lw__mallocarray(strlen(lw_package_dir(p->pkg)) + strlen(name) + 2, 1)))
			return LW_ENOMEM;
		sprintf(path, "%s/%s", lw_package_dir(p->pkg), name);
		err = lw__write_file_atomic(path, override, strlen(override));
		free(path);
		return err;
	}
	if (!m->semantic_spec) {
		lw_error_set(LW_ERRCLASS_INVALID,
			     "%s has no semantic specification: give one (learnware dock add --semantic "
			     "FILE) or pack semantic_specification.json with it", zip);
		return LW_EINVALID;
	}
	if ((err = lw_package_path(&path, p->pkg, m->semantic_spec)) < 0)
		return err;
	err = lw__read_file(&p->semantic_json, &len, path, SEMANTIC_MAX);
	free(path);
	if (err < 0)
		return err;
	return validate_semantic(d, p->semantic_json, m->semantic_spec);
}

/* The width of the rows a specification describes (its model's input); 0 for an unknown type. */
static int spec_dim(size_t *dim, const lw_store_spec *spec, const char *file)
{
	int err = 0;

	*dim = 0;
	if (!strcmp(spec->type, LW__TABLE_SPEC)) {
		lw_rkme *r = NULL;

		if ((err = lw_rkme_from_json(&r, spec->json, spec->len, file)) == 0)
			*dim = lw_rkme_dim(r);
		lw_rkme_free(r);
	} else if (!strcmp(spec->type, LW__TEXT_SPEC)) {
		lw_text_spec *t = NULL;

		if ((err = lw_text_spec_from_json(&t, spec->json, spec->len, file)) == 0)
			*dim = lw_rkme_dim(t->rkme);
		lw_text_spec_free(t);
	} else if (!strcmp(spec->type, LW__IMAGE_SPEC)) {
		lw_rkme_image *r = NULL;

		if ((err = lw_rkme_image_from_json(&r, spec->json, spec->len, file)) == 0)
			*dim = r->channels * LW_IMAGE_MODEL_SIDE * LW_IMAGE_MODEL_SIDE;
		lw_rkme_image_free(r);
	}
	return err;
}

/* Every statistical specification the manifest names, with its dimension. */
static int read_specs(prepared *p)
{
	const lw_manifest *m = lw_package_manifest(p->pkg);
	int err = 0;

	p->specs = lw__calloc(m->num_stat_specs ? m->num_stat_specs : 1, sizeof(*p->specs));
	p->spec_json = lw__calloc(m->num_stat_specs ? m->num_stat_specs : 1, sizeof(char *));
	if (!p->specs || !p->spec_json)
		return LW_ENOMEM;
	for (size_t i = 0; i < m->num_stat_specs && err == 0; i++) {
		const lw_manifest_stat_spec *ss = &m->stat_specs[i];
		lw_store_spec *spec = &p->specs[i];
		char *path = NULL;
		size_t len = 0;

		/* A file the manifest names but the package lacks is the package's fault. */
		if ((err = lw_package_path(&path, p->pkg, ss->file_name)) == LW_ENOTFOUND)
			err = LW_EINVALID;
		if (err == 0)
			err = lw__read_file(&p->spec_json[i], &len, path, SPEC_MAX);
		free(path);
		p->nspecs = i + 1;
		spec->type = !strcmp(ss->class_name, "RKMEStatSpecification") ? LW__TABLE_SPEC
									      : ss->class_name;
		spec->json = p->spec_json[i];
		spec->len = len;
		if (err == 0)
			err = spec_dim(&spec->dim, spec, ss->file_name);
	}
	return err;
}

/* The first FAIL line of a check log, for the refusal message. */
static const char *first_failure(const char *log, char *buf, size_t n)
{
	const char *f = log ? strstr(log, " FAIL ") : NULL;
	const char *end;

	if (!f)
		return "see the check log";
	f += 6;
	while (*f == ' ')
		f++;
	end = strchr(f, '\n');
	snprintf(buf, n, "%.*s", (int)(end ? (size_t)(end - f) : strlen(f)), f);
	return buf;
}

/*
 * Unpack, read and validate the specifications, and (with check) run the
 * sandboxed checker; without it the verdict waits for a worker.
 */
/* Logs outlive the private folder: name the package's root instead of its temporary path. */
static void strip_path(char *log, const char *dir)
{
	static const char shown[] = "<package>";
	size_t dl = strlen(dir);
	char *at;

	if (dl < sizeof(shown))
		return;
	while ((at = strstr(log, dir))) {
		memcpy(at, shown, sizeof(shown) - 1);
		memmove(at + sizeof(shown) - 1, at + dl, strlen(at + dl) + 1);
	}
}

static int prepare(prepared *p, lw_dock *d, const char *zip, const char *semantic_override, int check)
{
	lw_check_log *log = NULL;
	char *dir = NULL, why[512];
	int err;

	memset(p, 0, sizeof(*p));
	if ((err = make_tmp(&p->tmp)) < 0)
		return err;
	if (!(dir = lw__mallocarray(strlen(p->tmp) + 16, 1)))
		return LW_ENOMEM;
	sprintf(dir, "%s/learnware", p->tmp);
	if ((err = lw_package_open(&p->pkg, zip, dir, NULL)) < 0 ||
	    (err = read_semantic(p, d, semantic_override, zip)) < 0 || (err = read_specs(p)) < 0)
		goto done;
	if (!check) {
		p->status = LW_CHECK_NONUSABLE;
		if (!(p->log = lw__strdup(QUEUED_LOG)))
			err = LW_ENOMEM;
		goto done;
	}
	if ((err = lw_check(&p->status, &log, dir, &d->o.check)) < 0)
		goto done;
	if (!(p->log = lw__strdup(lw_check_log_text(log)))) {
		err = LW_ENOMEM;
		goto done;
	}
	strip_path(p->log, dir);
	if (p->status == LW_CHECK_INVALID) {
		lw_error_set(LW_ERRCLASS_INVALID, "%s: refused, the check found it invalid: %s", zip,
			     first_failure(p->log, why, sizeof(why)));
		err = LW_EINVALID;
	}
done:
	lw_check_log_free(log);
	free(dir);
	return err;
}

/* The event lw_dock_check_log reads the log from: verdict is the check's, or "failed". */
static int checked_event(lw_dock *d, const char *id, const char *verdict, const char *log)
{
	json_t *o = json_pack("{s:s, s:s}", "verdict", verdict, "log", log ? log : "");
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int err = text ? lw__dock_event(d, "learnware.checked", id, text) : LW_ENOMEM;

	json_decref(o);
	free(text);
	return err;
}

static int usability_of(lw_check_status status)
{
	return status == LW_CHECK_USABLE ? LW_USABILITY_USABLE
	       : status == LW_CHECK_NONUSABLE ? LW_USABILITY_NONUSABLE
					      : LW_USABILITY_INVALID;
}

/* Record a verdict: events around the status change keep every index in step. */
static int record_verdict(lw_dock *d, lw_learnware_record *rec, lw_check_status status,
			  const char *log)
{
	int usability = usability_of(status);
	int err;

	if ((err = lw__dock_event(d, "learnware.checking", rec->id, NULL)) < 0 ||
	    (err = lw_store_set_status(d->st, rec->id, LW_STATUS_SUCCESS, usability)) < 0 ||
	    (err = checked_event(d, rec->id, lw_check_status_name(status), log)) < 0)
		return err;
	rec->status = LW_STATUS_SUCCESS;
	rec->usability = usability;
	if ((err = lw__dock_resync(d, rec->id)) < 0)
		return err;
	if (usability == LW_USABILITY_USABLE)
		lw__dock_hetero_usable(d, rec->id);
	return 0;
}

static void fill_new(lw_learnware_new *in, const prepared *p, const char *zip, const char *owner,
		     const char *preferred_id)
{
	in->preferred_id = preferred_id;
	in->owner = owner;
	in->semantic_json = p->semantic_json;
	in->zip_path = zip;
	in->specs = p->specs;
	in->nspecs = p->nspecs;
	in->enqueue = 0;
}

/* A deferred check queues its job with the write, in the same transaction. */
static int deferred(const lw_dock *d)
{
	return d->o.defer_check != 0;
}

int lw_dock_add(lw_dock_added *out, lw_dock *d, const char *zip_path, const char *semantic_json,
		const char *owner)
{
	return lw__dock_add_as(out, d, zip_path, semantic_json, owner, NULL);
}

int lw__dock_add_as(lw_dock_added *out, lw_dock *d, const char *zip_path, const char *semantic_json,
		    const char *owner, const char *preferred_id)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	prepared p;
	int err;

	LW_ASSERT_ARG(out && d && zip_path);
	memset(out, 0, sizeof(*out));
	err = prepare(&p, d, zip_path, semantic_json, !deferred(d));
	out->status = p.status;
	out->log = p.log;
	p.log = NULL;
	if (err < 0)
		goto done;
	fill_new(&in, &p, zip_path, owner, preferred_id);
	in.enqueue = deferred(d);
	/* Stored first as waiting (or queued): a crash before the verdict leaves it for verify. */
	if ((err = lw_store_add(&out->record, d->st, &in)) < 0 ||
	    (err = lw__dock_event(d, "learnware.add", out->record.id, NULL)) < 0)
		goto done;
	if (!deferred(d))
		err = record_verdict(d, &out->record, p.status, out->log);
done:
	prepared_dispose(&p);
	return err;
}

int lw_dock_update_zip(lw_dock_added *out, lw_dock *d, const char *id, const char *zip_path,
		       const char *semantic_json)
{
	lw_learnware_new in = LW_LEARNWARE_NEW_INIT;
	lw_learnware_record old = { 0 };
	prepared p;
	int err;

	LW_ASSERT_ARG(out && d && id && zip_path);
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	/* Without a new semantic specification the package's, or else the stored one, is kept. */
	if ((err = lw_store_get(&old, d->st, id)) < 0)
		return err;
	err = prepare(&p, d, zip_path, semantic_json, !deferred(d));
	if (err == LW_EINVALID && !semantic_json && !p.semantic_json && p.pkg &&
	    !lw_package_manifest(p.pkg)->semantic_spec) {
		prepared_dispose(&p);
		err = prepare(&p, d, zip_path, old.semantic_json, !deferred(d));
	}
	out->status = p.status;
	out->log = p.log;
	p.log = NULL;
	if (err < 0)
		goto done;
	fill_new(&in, &p, zip_path, NULL, NULL);
	in.enqueue = deferred(d);
	if ((err = lw__dock_event(d, "learnware.replacing", id, NULL)) < 0 ||
	    (err = lw_store_replace_zip(&out->record, d->st, id, &in)) < 0)
		goto done;
	lw__dock_uncache(d, id);
	if ((err = lw__dock_event(d, "learnware.replaced", id, NULL)) < 0)
		goto done;
	/* Queued, the new package is out of search until a worker checks it. */
	err = deferred(d) ? lw__dock_resync(d, id) : record_verdict(d, &out->record, p.status, out->log);
done:
	lw_learnware_record_dispose(&old);
	prepared_dispose(&p);
	return err;
}

int lw_dock_update_semantic(lw_dock *d, const char *id, const char *semantic_json)
{
	int err;

	LW_ASSERT_ARG(d && id && semantic_json);
	if ((err = validate_semantic(d, semantic_json, "the semantic specification given")) < 0 ||
	    (err = lw_store_update_semantic(d->st, id, semantic_json)) < 0 ||
	    (err = lw__dock_event(d, "learnware.semantic", id, NULL)) < 0)
		return err;
	/* New column descriptions move its heterogeneous specification. */
	lw__dock_uncache(d, id);
	lw__dock_hetero_usable(d, id);
	return 0;
}

int lw_dock_delete(lw_dock *d, const char *id)
{
	lw_learnware_record rec = { 0 };
	int err;

	LW_ASSERT_ARG(d && id);
	if ((err = lw_store_get(&rec, d->st, id)) < 0)
		return err;
	lw_learnware_record_dispose(&rec);
	if ((err = lw__dock_event(d, "learnware.deleting", id, NULL)) < 0 ||
	    (err = lw_store_delete(d->st, id)) < 0 || (err = lw__dock_resync(d, id)) < 0)
		return err;
	return lw__dock_event(d, "learnware.deleted", id, NULL);
}

/*
 * Check a stored learnware with its stored semantic specification: 0 with
 * the verdict and its log in p, or the error of a check that could not run
 * (LW_EIO, LW_ENOMEM, ...).  A package refused before the checker ran (a
 * bad semantic or statistical specification, an unsafe zip) is invalid,
 * the reason its log: an invalid stored learnware keeps its record.
 */
static int check_stored(prepared *p, lw_dock *d, const lw_learnware_record *rec)
{
	const char *root = lw_store_root(d->st);
	char *zip = lw__mallocarray(strlen(root) + strlen(rec->zip_path) + 2, 1);
	int err;

	memset(p, 0, sizeof(*p));
	if (!zip)
		return LW_ENOMEM;
	sprintf(zip, "%s/%s", root, rec->zip_path);
	err = prepare(p, d, zip, rec->semantic_json, 1);
	free(zip);
	if (err != LW_EINVALID)
		return err;
	if (!p->log && !(p->log = lw__strdup(lw_error_last()->message)))
		return LW_ENOMEM;
	p->status = LW_CHECK_INVALID;
	return 0;
}

/* Check one stored learnware again, outside the queue. */
static int verify_one(lw_dock *d, lw_learnware_record *rec)
{
	prepared p;
	int err = check_stored(&p, d, rec);

	if (err == 0)
		err = record_verdict(d, rec, p.status, p.log);
	prepared_dispose(&p);
	return err;
}

/*
 * The outcome of a claimed job, bracketed by events as record_verdict's
 * status change is.  A job no longer ours (cancelled by a new package,
 * requeued as stale) leaves its outcome to whoever has it now.
 */
static int finish_job(lw_dock *d, const lw_job_record *job, const char *worker, int ok,
		      lw_check_status status, const char *log)
{
	int err;

	if ((err = lw__dock_event(d, "learnware.checking", job->learnware_id, NULL)) < 0)
		return err;
	err = lw_store_job_finish(d->st, job->id, worker, ok,
				  ok ? usability_of(status) : LW_USABILITY_INVALID, log);
	if (err == LW_ENOTFOUND)
		return 0;
	if (err < 0 || (err = checked_event(d, job->learnware_id,
					    ok ? lw_check_status_name(status) : "failed", log)) < 0 ||
	    (err = lw__dock_resync(d, job->learnware_id)) < 0)
		return err;
	if (ok && status == LW_CHECK_USABLE)
		lw__dock_hetero_usable(d, job->learnware_id);
	return 0;
}

/* Check a claimed job's learnware; a check that could not run fails the job and is returned. */
static int run_job(lw_dock *d, const lw_job_record *job, const lw_learnware_record *rec, const char *worker)
{
	const lw_error *e;
	lw_error_class klass;
	char why[1024];
	prepared p;
	int err = check_stored(&p, d, rec), rc;

	if (err == 0) {
		rc = finish_job(d, job, worker, 1, p.status, p.log);
		prepared_dispose(&p);
		return rc;
	}
	prepared_dispose(&p);
	e = lw_error_last();
	klass = e->klass;
	snprintf(why, sizeof(why), "%s", *e->message ? e->message : "the check could not run");
	if ((rc = finish_job(d, job, worker, 0, LW_CHECK_INVALID, why)) < 0)
		return rc;
	errno = 0; /* the message has its strerror already */
	lw_error_set(klass, "%s", why);
	return err;
}

int lw_dock_work(int *did, lw_dock *d, const char *worker)
{
	lw_learnware_record rec = { 0 };
	lw_job_record job;
	int err;

	LW_ASSERT_ARG(did && d && worker && *worker);
	*did = 0;
	if ((err = lw_store_job_claim(&job, d->st, worker)) == LW_ENOTFOUND)
		return 0;
	if (err < 0)
		return err;
	*did = 1;
	err = lw_store_get(&rec, d->st, job.learnware_id);
	if (err == 0)
		err = run_job(d, &job, &rec, worker);
	else if (err == LW_ENOTFOUND)
		err = 0; /* deleted since the claim: its job went with it */
	lw_learnware_record_dispose(&rec);
	lw_job_record_dispose(&job);
	return err;
}

int lw_dock_verify_pending(size_t *count, lw_dock *d)
{
	static const int pending[] = { LW_STATUS_WAITING, LW_STATUS_QUEUED, LW_STATUS_PROCESSING };
	size_t done = 0;
	int err = 0;

	LW_ASSERT_ARG(d);
	for (size_t s = 0; s < sizeof(pending) / sizeof(pending[0]) && err == 0; s++) {
		lw_learnware_filter f = LW_LEARNWARE_FILTER_INIT;
		lw_learnware_list l = { NULL, 0 };

		f.status = pending[s];
		if ((err = lw_store_list(&l, d->st, &f)) < 0)
			break;
		for (size_t i = 0; i < l.count && err == 0; i++) {
			if ((err = verify_one(d, &l.items[i])) == 0)
				done++;
		}
		lw_learnware_list_dispose(&l);
	}
	if (count)
		*count = done;
	return err;
}

/* The log of the newest "learnware.checked" event, and its time; *out NULL when none. */
static int event_log(char **out, int64_t *time, lw_dock *d, const char *id)
{
	lw_event_filter f = LW_EVENT_FILTER_INIT;
	lw_event_list l = { NULL, 0 };
	int err;

	*out = NULL;
	f.learnware_id = id;
	f.limit = 200;
	if ((err = lw_store_event_list(&l, d->st, &f)) < 0)
		return err;
	for (size_t i = 0; i < l.count && !*out; i++) {
		json_t *o;

		if (strcmp(l.items[i].kind, "learnware.checked") || !l.items[i].detail_json)
			continue;
		o = json_loads(l.items[i].detail_json, 0, NULL);
		*out = lw__strdup(json_string_value(json_object_get(o, "log")));
		*time = l.items[i].time;
		json_decref(o);
	}
	lw_event_list_dispose(&l);
	return 0;
}

/*
 * The checks write their log to a "learnware.checked" event, lw_dock_work
 * to its job too; the queue alone fails a job whose workers kept dying.
 * So the newest of the two wins, and a check queued or running since the
 * last log (a new package) means there is no log for what is stored now.
 */
int lw_dock_check_log(char **out, lw_dock *d, const char *id)
{
	lw_job_record job = { 0 };
	int64_t at = 0;
	int err;

	LW_ASSERT_ARG(out && d && id);
	if ((err = event_log(out, &at, d, id)) < 0)
		return err;
	err = lw_store_job_latest(&job, d->st, id);
	if (err < 0 && err != LW_ENOTFOUND && err != LW_EINVALID) {
		free(*out);
		*out = NULL;
		return err;
	}
	if (err == 0 && (job.state == LW_JOB_DONE || job.state == LW_JOB_FAILED) && job.log &&
	    (!*out || job.finished > at)) {
		free(*out);
		*out = job.log;
		job.log = NULL;
	} else if (err == 0 && (job.state == LW_JOB_QUEUED || job.state == LW_JOB_RUNNING) &&
		   (!*out || job.created >= at)) {
		free(*out);
		*out = NULL;
		lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has no check log yet: its check is %s", id,
			     job.state == LW_JOB_QUEUED ? "queued" : "running");
		lw_job_record_dispose(&job);
		return LW_ENOTFOUND;
	}
	lw_job_record_dispose(&job);
	if (*out)
		return 0;
	lw_error_set(LW_ERRCLASS_INVALID, "learnware %s has no check log", id);
	return LW_ENOTFOUND;
}
