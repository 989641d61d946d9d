/* adapt.h - the adaptive worker count: watch where workers wait, add workers. */
#ifndef PCOPY_ADAPT_H
#define PCOPY_ADAPT_H

#include <stdint.h>
#include <sys/types.h>

#include "core/session.h"
#include "run/pool.h"

/* Seconds between two looks at the workers while the pool may still grow. */
#define ADAPT_TICK 0.025
/* Looks per decision: a decision sees 0.05 s of the run. */
#define ADAPT_WINDOW 2
/* The CPUs are the limit once the workers use this share of them. */
#define ADAPT_CPU_BUSY 0.8
/* The device is the limit once 1/ADAPT_BLOCKED_DIV of the busy workers wait on it. */
#define ADAPT_BLOCKED_DIV 4

/* What the looks of one window saw, summed over the looks. */
struct adapt_window {
	int looks;        /* looks taken */
	int workers;      /* workers looked at, over all looks */
	int blocked;      /* of them, in uninterruptible sleep ('D': the device) */
	int queue_empty;  /* looks that found no job waiting */
	double cpus_used; /* CPUs' worth of run time the workers used meanwhile */
};

/* The monitor's adaptive state for one SRC's pool. */
struct adapt {
	const struct session *s;
	int enabled;             /* no -j, and room to grow */
	int forced;              /* PCOPY_FORCE=adapt_grow: double at every look (tests) */
	int cpus;                /* online CPUs */
	int cap;                 /* most workers: jobs_max, or what the fds allow */
	struct adapt_window win; /* the window being filled */
	double marked_at;        /* when the run times below were read */
	pid_t mark_tid[ADAPTIVE_MAX_JOBS];    /* whose run time each slot's mark is */
	uint64_t mark_run[ADAPTIVE_MAX_JOBS]; /* its run time then, ns (schedstat) */
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
 * many) when on average at least a quarter of the busy workers were blocked on
 * the device, they used less than ADAPT_CPU_BUSY of the CPUs, and jobs
 * were waiting in the queue (the walker keeps up); else as many as now.
 */
int adapt_decide(const struct adapt_window *w, int workers, int cpus, int cap);

#endif
