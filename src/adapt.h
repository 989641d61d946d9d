/* adapt.h - the adaptive worker count: watch where workers wait, add workers. */
#ifndef PCOPY_ADAPT_H
#define PCOPY_ADAPT_H

#include <stdint.h>
#include <sys/types.h>

#include "pool.h"
#include "session.h"

/* Seconds between two looks at the workers while the pool may still grow. */
#define ADAPT_TICK 0.025
/* Looks per decision: a decision sees 0.05 s of the run. */
#define ADAPT_WINDOW 2

/* What the looks of one window saw, summed over the looks. */
struct adapt_window {
	int looks;       /* looks taken */
	int workers;     /* workers looked at, over all looks */
	int blocked;     /* of them, in uninterruptible sleep ('D': the device) */
	int running;     /* of them, running or waiting for a CPU ('R') */
	int queue_empty; /* looks that found no job waiting */
};

/* The monitor's adaptive state for one SRC's pool. */
struct adapt {
	const struct session *s;
	int enabled;             /* no -j, and room to grow */
	int forced;              /* PCOPY_FORCE=adapt_grow: double at every look (tests) */
	int cpus;                /* online CPUs */
	int cap;                 /* most workers: jobs_max, or what the fds allow */
	struct adapt_window win; /* the window being filled */
};

/* Set up for a new pool of session s (growth only when s->opts->jobs_adaptive). */
void adapt_init(struct adapt *a, const struct session *s);

/* Does the monitor still need to look (ADAPT_TICK) at this pool? */
int adapt_active(const struct adapt *a);

/*
 * Look at the workers of pool p once, and at the end of a window decide,
 * and grow p if the decision says so.  Called by the monitor every tick.
 */
void adapt_tick(struct adapt *a, struct pool *p);

/*
 * The decision, a pure function: how many workers to have after window w,
 * with `workers` now on `cpus` CPUs and room for `cap`.  More (twice as
 * many) when on average at least half the workers were blocked on the
 * device, fewer than `cpus` were running (the CPU has room) and jobs were
 * waiting in the queue (the walker keeps up); else as many as now.
 */
int adapt_decide(const struct adapt_window *w, int workers, int cpus, int cap);

/*
 * The scheduler state of thread `tid` of process `pid` ('R', 'S', 'D'...),
 * from /proc/PID/task/TID/stat, or 0 when it cannot be read.
 */
int task_state(pid_t pid, pid_t tid);

/* The calling thread's time spent waiting for a CPU, in ns (schedstat), or 0. */
uint64_t task_runqueue_ns(void);

#endif
