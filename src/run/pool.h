/* pool.h - starting, growing, watching and reaping the pool of workers. */
#ifndef PCOPY_POOL_H
#define PCOPY_POOL_H

#include "core/session.h"

struct pool;

/*
 * Start s->opts->jobs workers of kind s->kind (core/kind.h), with room
 * for s->opts->jobs_max, each running worker_main on its own slot,
 * wherever the kind runs it.  A kind whose workers are processes forks
 * them here, so call this before the parent starts any other thread.
 * NULL with errno set on failure, or errno 0 when the reason has been
 * reported (workers already started are stopped and reaped).
 */
struct pool *pool_start(const struct session *s);

/*
 * Process mode: reap workers that exited.  A worker that died abnormally
 * has its in-flight entry reported as failed, its named temporary removed,
 * and is replaced by a new worker unless a stop was asked.  Called by the
 * monitor on SIGCHLD; a no-op in thread mode.
 */
void pool_reap(struct pool *p);

/*
 * Start more workers, up to `n` in all (at most jobs_max), unless the run
 * is stopping or pool_wait has seen the end.  A worker that cannot be
 * started ends the growth, not the run.  Returns how many workers there are.
 */
int pool_grow(struct pool *p, int n);

/*
 * Grow to as many workers as the kind says it can run now (its `ready`),
 * if it says; called by the monitor as the run goes.
 */
void pool_follow(struct pool *p);

/* Workers started so far (slots [0, n) are in use); 0 once pool_wait ended. */
int pool_size(struct pool *p);

/*
 * Wait until every worker has exited, also those pool_grow adds meanwhile
 * (close or abort the queue first).
 */
void pool_wait(struct pool *p);

/*
 * Where the walker takes directory listings read by the workers (a kind
 * with KIND_LISTS: walk/broker.h), or NULL: it reads them all.
 */
const struct walk_source *pool_listing(struct pool *p);

/* Free the pool (after pool_wait). */
void pool_free(struct pool *p);

#endif
