/*
 * worker.c - worker_main, the one function every kind of worker runs
 * (core/kind.h).  Only how it is started and reaped differs, which keeps the
 * thread-vs-process comparison honest.
 */
#include "run/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/task.h"
#include "base/util.h"
#include "core/queue.h"
#include "report/change.h"
#include "report/message.h"
#include "report/output.h"
#include "report/quote.h"
#include "run/spill.h"
#include "sync/entry.h"
#include "sync/plan.h"
#include "sync/update.h"

void worker_init(struct worker *w, const struct session *s, struct worker_slot *slot)
{
	w->s = s;
	w->slot = slot;
	copier_init(&w->copier, s, slot);
	pathbuf_init(&w->dir);
	w->src_dir = -1;
	w->dst = dst_open(s, slot);
}

static void close_dirs(struct worker *w)
{
	if (w->src_dir >= 0)
		close(w->src_dir);
	w->src_dir = -1;
}

void worker_free(struct worker *w)
{
	close_dirs(w);
	pathbuf_free(&w->dir);
	dst_close(w->dst);
	w->dst = NULL;
	copier_free(&w->copier);
}

int worker_open_dirs(struct worker *w, const char *relpath, size_t dirlen)
{
	int follow = w->s->opts->dereference;

	/* DST's handle may have been moved elsewhere meanwhile: entering is cheap when not. */
	if ((w->src_dir >= 0 || w->s->remote != NULL) && w->dir.len == dirlen &&
	    memcmp(w->dir.data, relpath, dirlen) == 0)
		return dst_enter(w->dst, relpath, dirlen);
	close_dirs(w);
	pathbuf_set(&w->dir, relpath, dirlen);
	w->copier.failed_dst = 0;
	if (w->s->remote == NULL) { /* a remote source's is read there */
		w->src_dir = open_beneath(w->s->src_root, w->dir.data, O_RDONLY | O_DIRECTORY, 0,
					  follow);
		if (w->src_dir < 0)
			return -1;
	}
	if (dst_enter(w->dst, relpath, dirlen) < 0) {
		int saved = errno;

		close_dirs(w);
		w->copier.failed_dst = 1;
		errno = saved;
		return -1;
	}
	return 0;
}

int source_gone_at(const struct session *s, int dirfd, const char *name)
{
	int flags = s->opts->dereference ? 0 : AT_SYMLINK_NOFOLLOW;
	struct stat st;

	return fstatat(dirfd, name, &st, flags) < 0 && errno == ENOENT;
}

int source_gone(const struct session *s, const char *relpath)
{
	int fd, gone;

	if (s->remote != NULL) /* the other machine said ENOENT: it is gone */
		return 1;
	if (*relpath == '\0') /* SRC itself: the caller looks with source_gone_at */
		return 0;
	fd = open_parent_beneath(s->src_root, relpath, s->opts->dereference);
	if (fd < 0)
		return errno == ENOENT;
	gone = source_gone_at(s, fd, path_basename(relpath));
	close(fd);
	return gone;
}

void report_entry_failure(const struct session *s, struct worker_slot *slot, const char *relpath,
			  int err, const char *reason)
{
	if (err == ENOENT && reason == NULL && source_gone(s, relpath))
		report_entry_vanished(s, slot, relpath);
	else
		report_entry_error(s, slot, relpath, err, reason);
}

/* The type of `name` in the directory `d` has entered, or 0 when there is nothing. */
static mode_t type_at(struct dst *d, const char *name)
{
	struct stat st;

	return dst_lstat(d, 0, name, &st) == 0 ? st.st_mode & S_IFMT : 0;
}

/*
 * Copy or bring up to date one entry; *action and *before (what DST had)
 * say what it took.  Without --update or --link-dest the copy does not
 * look first, unless -i must tell a replaced type; c->replaced tells the
 * rest.
 */
static int copy_or_update(struct worker *w, enum job_kind kind, const char *sname,
			  const char *dname, const struct entry_stat *st, enum plan_action *action,
			  mode_t *before)
{
	struct copier *c = &w->copier;
	int rc;

	c->reason = NULL;
	c->warning = NULL;
	*action = PLAN_COPY;
	*before = 0;
	if (update_looks_first(w->s))
		return update_entry(c, w->dst, w->src_dir, sname, dname, kind, st, action, before);
	if (w->s->opts->itemize != ITEMIZE_NONE)
		*before = type_at(w->dst, dname);
	rc = copy_entry(c, w->dst, w->src_dir, sname, dname, kind, st);
	if (rc == 0 && *before == 0 && c->replaced)
		*before = st->mode & S_IFMT;
	return rc;
}

/*
 * Report a failed copy: a source entry gone since the walk is a vanished
 * warning, anything else an error.  A single-entry SRC ("") is looked for
 * by its name in the source directory, which is the root.
 */
static void report_copy_failure(struct worker *w, const char *sname, const char *relpath, int err)
{
	const char *reason = w->copier.reason;

	if (w->copier.failed_dst)
		report_dst_error(w->s, w->slot, relpath, err, reason);
	else if (*relpath == '\0' && err == ENOENT && reason == NULL &&
		 (w->s->remote != NULL || source_gone_at(w->s, w->src_dir, sname)))
		report_entry_vanished(w->s, w->slot, relpath);
	else
		report_entry_failure(w->s, w->slot, relpath, err, reason);
}

/* The change an action made over `before` (change_of_copy's). */
static enum change change_of_action(enum plan_action action, mode_t mode, mode_t before)
{
	if (action == PLAN_FIX_META || action == PLAN_REWRITE)
		return CHANGE_METADATA;
	return action == PLAN_LINK ? CHANGE_LINKED : change_of_copy(mode, before);
}

void worker_report_planned(const struct session *s, struct worker_slot *slot,
			   enum plan_action action, const struct entry_stat *es, mode_t before,
			   const char *relpath)
{
	if (action == PLAN_SKIP) {
		atomic_fetch_add_explicit(&slot->unchanged, 1, memory_order_relaxed);
		return;
	}
	if (action == PLAN_COPY)
		slot_count_dry_run(slot, kind_of_mode(es->mode), es->size);
	report_change(s, slot, change_of_action(action, es->mode, before), es->mode, relpath);
}

int worker_copy_named(struct worker *w, enum job_kind kind, const char *sname, const char *dname,
		      const char *relpath, const struct entry_stat *st)
{
	enum plan_action action = PLAN_COPY;
	mode_t before = 0;
	int rc = copy_or_update(w, kind, sname, dname, st, &action, &before);

	if (rc == 0) {
		meta_loss_report(w->s, w->slot, relpath, &w->copier.lost);
		if (w->copier.warning != NULL)
			report_entry_warning(w->s, relpath, w->copier.warning);
		if (action != PLAN_SKIP)
			report_change(w->s, w->slot, change_of_action(action, st->mode, before),
				      st->mode, relpath);
	} else if (!atomic_load(&w->s->shared->stop)) {
		/* After a stop request the half-done copy is dropped without a word. */
		report_copy_failure(w, sname, relpath, errno);
	}
	worker_count_done(w->slot, kind, st, action);
	return rc;
}

void worker_count_done(struct worker_slot *slot, enum job_kind kind, const struct entry_stat *st,
		       enum plan_action action)
{
	uint64_t bytes = kind == JOB_REGULAR ? st->size : 0;

	atomic_fetch_add_explicit(&slot->bytes_done, bytes, memory_order_relaxed);
	/* Progress follows the data to copy: what needed none is taken out of it. */
	if (action != PLAN_COPY)
		atomic_fetch_add_explicit(&slot->bytes_skipped, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&slot->entries_done, 1, memory_order_relaxed);
}

int worker_run(struct worker *w, enum job_kind kind, const char *relpath,
	       const struct entry_stat *st)
{
	const char *name = path_basename(relpath);

	if (worker_open_dirs(w, relpath, path_dirlen(relpath)) == 0)
		return worker_copy_named(w, kind, name, name, relpath, st);
	if (atomic_load(&w->s->shared->stop))
		; /* a stop's half-done work is dropped without a word */
	else if (w->copier.failed_dst)
		report_dst_error(w->s, w->slot, relpath, errno, NULL);
	else
		report_entry_failure(w->s, w->slot, relpath, errno, NULL);
	worker_count_done(w->slot, kind, st, PLAN_COPY);
	return -1;
}

/*
 * A regular file by its directory listing: stat it here, not in the walker
 * (spill.h), count it into the totals and copy it as what it is.  A name
 * of a multiply-linked inode goes back to the walker, whose rule says
 * which name is copied and which are linked.  A stat that fails is
 * reported as the walker would have: not counted, vanished if gone.
 */
static void run_unstated(struct worker *w, struct job *job)
{
	const struct session *s = w->s;
	struct shared_state *sh = s->shared;
	const char *name = path_basename(job->path);
	int flags = s->opts->dereference ? 0 : AT_SYMLINK_NOFOLLOW;
	struct stat st;

	if (worker_open_dirs(w, job->path, path_dirlen(job->path)) < 0 ||
	    fstatat(w->src_dir, name, &st, flags) < 0) {
		if (!atomic_load(&sh->stop))
			report_entry_failure(s, w->slot, job->path, errno, NULL);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		report_entry_error(s, w->slot, job->path, 0, COPY_TYPE_CHANGED);
		return;
	}
	entry_stat_from(&job->st, &st);
	if (s->spill_fd >= 0 && st.st_nlink > 1) {
		char why[96];

		if (spill_add(s->spill_fd, (int)(w->slot - sh->slots), w->slot, job->seq, &job->st,
			      job->path) == 0)
			return;
		snprintf(why, sizeof(why), "cannot keep its hard links: %s", strerror(errno));
		report_entry_error(s, w->slot, job->path, 0, why); /* and copy it on its own */
	}
	job->kind = kind_of_mode(st.st_mode); /* what a dying worker was copying (run/pool.c) */
	atomic_fetch_add(&sh->queued_entries, 1);
	if (S_ISREG(st.st_mode))
		atomic_fetch_add(&sh->queued_bytes, job->st.size);
	(void)worker_run(w, (enum job_kind)job->kind, job->path, &job->st);
}

static uint64_t ns_between(double from, double to)
{
	return to > from ? (uint64_t)((to - from) * 1e9) : 0;
}

void worker_count_idle(struct worker_slot *slot, double since)
{
	atomic_fetch_add_explicit(&slot->idle_ns, ns_between(since, monotonic_seconds()),
				  memory_order_relaxed);
}

void worker_account_time(struct worker_slot *slot, double start)
{
	uint64_t life = ns_between(start, monotonic_seconds());
	uint64_t idle = atomic_load_explicit(&slot->idle_ns, memory_order_relaxed);
	uint64_t cpu = 0, runq = 0, used;
	struct timespec ts;

	if (task_schedstat(getpid(), gettid(), &cpu, &runq) < 0 &&
	    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		cpu = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	used = cpu + runq + idle;
	atomic_fetch_add_explicit(&slot->cpu_ns, cpu, memory_order_relaxed);
	atomic_fetch_add_explicit(&slot->runq_ns, runq, memory_order_relaxed);
	atomic_fetch_add_explicit(&slot->wait_ns, life > used ? life - used : 0,
				  memory_order_relaxed);
}

void worker_main(struct worker *w)
{
	struct job *job = &w->slot->job;
	double start = monotonic_seconds(), asked = start;

	/* The idle time is this worker's; a replaced one starts again. */
	atomic_store_explicit(&w->slot->idle_ns, 0, memory_order_relaxed);
	atomic_store(&w->slot->tid, (int)gettid());
	while (!atomic_load(&w->s->shared->stop) &&
	       queue_pop(w->s->queue, job, &w->slot->busy) == 0) {
		worker_count_idle(w->slot, asked);
		if (job->kind == JOB_UNSTATED)
			run_unstated(w, job);
		else
			(void)worker_run(w, (enum job_kind)job->kind, job->path, &job->st);
		atomic_store(&w->slot->busy, 0);
		asked = monotonic_seconds();
	}
	worker_count_idle(w->slot, asked);
	atomic_store(&w->slot->tid, 0);
	worker_account_time(w->slot, start);
	close_dirs(w);
}
