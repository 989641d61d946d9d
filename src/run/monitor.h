/* monitor.h - the parent's watcher thread: signals, dead workers, growth, progress. */
#ifndef PCOPY_MONITOR_H
#define PCOPY_MONITOR_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>

#include "core/session.h"
#include "run/adapt.h"
#include "run/pool.h"
#include "walk/scan.h"

/* The monitor and the progress renderer it drives. */
struct monitor {
	const struct session *s;
	struct pool *pool; /* may be NULL (dry run, single entry) */
	struct scan *scan; /* may be NULL (no progress shown) */
	enum progress_style style;
	double start;       /* monotonic start time */
	double last_draw;   /* when progress was last drawn */
	double percent;     /* last percentage shown: never goes down */
	sigset_t signals;   /* what the monitor waits for */
	_Atomic int finish; /* main asks the monitor to exit */
	_Atomic int caught; /* the signal that stopped the run, or 0 */
	struct adapt adapt; /* no -j: growing the pool (monitor thread only) */
	pthread_t thread;
	int running;
};

/*
 * Block SIGINT, SIGTERM, SIGHUP, SIGCHLD and SIGUSR1 in the calling thread (call
 * before any thread or worker process is made, so all inherit the mask).
 */
void monitor_block_signals(sigset_t *set);

/*
 * Start the monitor thread.  0 or -1.  It may be started and finished once
 * per SRC: what was shown (percent, last draw) and a caught signal carry
 * over, so the caller zeroes them (and sets last_draw = start) once.
 */
int monitor_start(struct monitor *m);

/* Ask the monitor to exit and join it. */
void monitor_finish(struct monitor *m);

/* Draw the final progress line (percent 100, done). */
void monitor_final(struct monitor *m);

#endif
