/*
 * adapt.c - without -j, the number of workers follows the device.  On a
 * tmpfs, or with a warm page cache, copying is CPU work and one worker per
 * CPU is right.  On a disk read cold, a worker spends most of its time
 * asleep in the kernel waiting for a read, and the device serves many
 * reads at once: then more workers are faster, up to a plateau
 * (bench/RESULTS.md, "Cold disk: small files").
 *
 * The monitor looks at each worker's scheduler state every ADAPT_TICK.
 * Uninterruptible sleep ('D') is a worker waiting on I/O; a worker waiting
 * for a job sleeps interruptibly ('S') on the queue's futex.  After
 * ADAPT_WINDOW looks it also reads how much CPU time the workers used
 * (schedstat), decides (adapt_decide), and the pool may double.  The CPU
 * test counts what the workers used, not what was runnable: on a machine
 * others keep busy, workers that wait for a CPU still leave the device
 * idle, and more of them keep more reads in flight.
 * Workers are never taken away: a grown pool only costs idle threads.
 */
#include "run/adapt.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/task.h"
#include "base/util.h"
#include "core/queue.h"

/*
 * Thread mode: the workers share one fd table.  A worker holds a
 * directory on each side, a file on each, and one per --link-dest DIR;
 * the walker and the roots keep some more.  Growing must not make a run
 * fail with EMFILE that one worker per CPU would have finished.
 */
#define FDS_PER_WORKER 6
#define FDS_RESERVED 32

/* The most workers the fd limit leaves room for (thread mode). */
static int fd_cap(const struct session *s)
{
	struct rlimit rl;
	rlim_t per = FDS_PER_WORKER + (rlim_t)s->opts->nlink_dests;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return s->opts->jobs_max;
	room = rl.rlim_cur > FDS_RESERVED ? (rl.rlim_cur - FDS_RESERVED) / per : 0;
	return room < (rlim_t)s->opts->jobs_max ? (int)room : s->opts->jobs_max;
}

void adapt_init(struct adapt *a, const struct session *s)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(a, 0, sizeof(*a));
	a->s = s;
	a->cap = s->opts->mode == MODE_THREAD ? fd_cap(s) : s->opts->jobs_max;
	a->enabled = s->opts->jobs_adaptive && a->cap > s->opts->jobs;
	a->forced = (s->force & FORCE_ADAPT_GROW) != 0;
	a->cpus = cpus > 0 ? (int)cpus : 1;
}

int adapt_active(const struct adapt *a)
{
	return a->enabled;
}

int adapt_decide(const struct adapt_window *w, int workers, int cpus, int cap)
{
	int more = workers * 2 < cap ? workers * 2 : cap;

	if (w->looks == 0 || w->workers == 0 || workers >= cap)
		return workers;
	if (2 * w->queue_empty > w->looks) /* the walker is the limit */
		return workers;
	if (w->cpus_used >= ADAPT_CPU_BUSY * cpus) /* the CPUs are the limit */
		return workers;
	/*
	 * On average at least a quarter of the workers blocked (compared
	 * without dividing).  Half was too many: from a cold disk, with the
	 * CPUs busy, the workers are mostly runnable and growth stopped short
	 * of the fastest count (bench/RESULTS.md, "growth at a quarter of the
	 * workers blocked").
	 */
	return ADAPT_BLOCKED_DIV * w->blocked >= w->workers ? more : workers;
}

/* The pid under which worker thread `tid` is found in /proc. */
static pid_t pid_of(const struct adapt *a, pid_t tid)
{
	return a->s->opts->mode == MODE_PROCESS ? tid : getpid();
}

/* Look at each worker of the pool once. */
static void look(struct adapt *a, int workers)
{
	const struct session *s = a->s;

	for (int i = 0; i < workers; i++) {
		pid_t tid = atomic_load(&s->shared->slots[i].tid);
		int state;

		if (tid == 0 || !atomic_load(&s->shared->slots[i].busy))
			continue; /* waiting for a job, or between two */
		state = task_state(pid_of(a, tid), tid);
		if (state == 0)
			continue;
		a->win.workers++;
		a->win.blocked += state == 'D';
	}
	a->win.queue_empty += s->queue != NULL && queue_length(s->queue) == 0;
	a->win.looks++;
}

/*
 * The CPUs' worth the workers used since the last call: the growth of each
 * one's run time (schedstat) over the time between the two calls.  A
 * worker seen for the first time only sets its mark; the first call
 * returns 0 (nothing to compare with yet).
 */
static double cpus_used(struct adapt *a, int workers)
{
	double now = monotonic_seconds(), since = a->marked_at;
	uint64_t used = 0;

	for (int i = 0; i < workers && i < ADAPTIVE_MAX_JOBS; i++) {
		pid_t tid = atomic_load(&a->s->shared->slots[i].tid);
		uint64_t run, runq;

		if (tid == 0 || task_schedstat(pid_of(a, tid), tid, &run, &runq) < 0)
			continue;
		if (a->mark_tid[i] == tid && run >= a->mark_run[i])
			used += run - a->mark_run[i];
		a->mark_tid[i] = tid;
		a->mark_run[i] = run;
	}
	a->marked_at = now;
	return since > 0 && now > since ? (double)used / 1e9 / (now - since) : 0.0;
}

void adapt_tick(struct adapt *a, struct pool *p)
{
	int workers, want;

	if (!a->enabled || p == NULL)
		return;
	workers = pool_size(p);
	if (workers == 0) { /* the pool has ended */
		a->enabled = 0;
		return;
	}
	look(a, workers);
	if (a->win.looks < (a->forced ? 1 : ADAPT_WINDOW))
		return;
	a->win.cpus_used = cpus_used(a, workers);
	want = adapt_decide(&a->win, workers, a->cpus, a->cap);
	if (a->forced)
		want = workers * 2 < a->cap ? workers * 2 : a->cap;
	memset(&a->win, 0, sizeof(a->win));
	if (want > workers && pool_grow(p, want) >= a->cap)
		a->enabled = 0;
	if (pool_size(p) < want) /* could not start them: stop trying */
		a->enabled = 0;
}
