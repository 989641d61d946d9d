/* worker.h - the worker: pops jobs and copies them, in a thread or a process. */
#ifndef PCOPY_WORKER_H
#define PCOPY_WORKER_H

#include "base/path.h"
#include "copy/copy.h"
#include "core/session.h"
#include "dst/dst.h"
#include "sync/plan.h"

/*
 * A worker's private state.  Jobs from one directory arrive together, so
 * the worker keeps that directory open on both sides and reuses the fds
 * until a job from another directory comes.
 */
struct worker {
	const struct session *s;  /* the run */
	struct worker_slot *slot; /* shared counters and in-flight job */
	struct copier copier;     /* per-worker copy state */
	struct pathbuf dir;       /* relative path of the cached directory */
	int src_dir;              /* that directory in SRC, or -1 */
	struct dst *dst;          /* DST, that directory entered once src_dir is open */
};

void worker_init(struct worker *w, const struct session *s, struct worker_slot *slot);
void worker_free(struct worker *w);

/* Pop and run jobs until the queue is closed and empty or a stop is asked. */
void worker_main(struct worker *w);

/*
 * As a worker's thread leaves, add where its time since `start`
 * (monotonic_seconds) went to its slot (--stats): on a CPU, waiting for
 * one, waiting for a job (slot->idle_ns, which the worker counts as it
 * goes), and the rest, asleep with a job: the device, or a lock.
 */
void worker_account_time(struct worker_slot *slot, double start);

/* Count the time since `since` (monotonic_seconds) as waited for a job. */
void worker_count_idle(struct worker_slot *slot, double since);

/*
 * Copy (or with --update bring up to date) `sname` in the worker's open
 * source directory to `dname` in its destination directory, then report
 * what happened under `relpath` (its path below the roots; "" names SRC
 * itself) and count it done.  0, or -1 (reported).
 */
int worker_copy_named(struct worker *w, enum job_kind kind, const char *sname, const char *dname,
		      const char *relpath, const struct entry_stat *st);

/*
 * Dry run: count and tell what the real run would do with an entry whose
 * decision is `action`, DST having `before` there (its st_mode, 0 for
 * nothing): unchanged, or the change report_change tells.
 */
void worker_report_planned(const struct session *s, struct worker_slot *slot,
			   enum plan_action action, const struct entry_stat *es, mode_t before,
			   const char *relpath);

/*
 * Count an entry finished, copied or not, for progress; `action` says
 * whether its data had to be copied (PLAN_COPY) or not.
 */
void worker_count_done(struct worker_slot *slot, enum job_kind kind, const struct entry_stat *st,
		       enum plan_action action);

/*
 * Copy the entry at `relpath` (same relative path under both roots), report
 * a failure and count the result.  Used by workers for queued jobs and by
 * the walker for entries whose path does not fit a job record or that must
 * be copied on their own (a hard link whose first name failed).  0 if it
 * was copied, else -1 (reported).
 */
int worker_run(struct worker *w, enum job_kind kind, const char *relpath,
	       const struct entry_stat *st);

/*
 * Open the directory part of relpath in SRC and enter it in DST (cached);
 * 0, or -1 with errno and w->copier.failed_dst set when DST's failed.
 */
int worker_open_dirs(struct worker *w, const char *relpath, size_t dirlen);

/*
 * Is `name` in the source directory `dirfd` gone?  Looked at again after a
 * failure with ENOENT, which may have come from DST (a directory removed
 * under us): that is an error, only a source entry that is no longer there
 * has vanished.  Follows a symbolic link only with -L, as the copy does.
 */
int source_gone_at(const struct session *s, int dirfd, const char *name);

/* The same for relpath beneath SRC's root: gone when a directory on its way is. */
int source_gone(const struct session *s, const char *relpath);

/*
 * Report a failure of relpath with errno `err`: vanished (a warning) when
 * err is ENOENT, `reason` is NULL and the source entry is gone, else an
 * error (report_entry_error).
 */
void report_entry_failure(const struct session *s, struct worker_slot *slot, const char *relpath,
			  int err, const char *reason);

#endif
