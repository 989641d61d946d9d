/*
 * pool.c - the worker pool, whatever the kind of its workers (core/kind.h).
 *
 * The pool has room for s->opts->jobs_max workers from the start (their
 * slots are in the shared state) and starts s->opts->jobs; the monitor may
 * start more (pool_grow) until pool_wait has seen the last one end.  A
 * worker's end is learnt either by waiting for it (pool_wait blocks in the
 * kind's `ended`, outside the lock) or, for a KIND_REAPED kind, from the
 * monitor, which reaps on SIGCHLD (pool_reap) and wakes pool_wait.
 *
 * A worker that dies (a kind with KIND_RESPAWN) has its entry in flight
 * reported and its named temporary removed, and is replaced; one that
 * keeps dying idle is a crash loop with a budget, after which the run
 * stops rather than let the walker wait on a queue nobody empties.
 *
 * Lock order: the pool lock is taken first; nothing else is held with it
 * except, inside queue_abort (give_up), the queue lock (a leaf).
 */
#include "run/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "base/util.h"
#include "core/kind.h"
#include "core/queue.h"
#include "dst/dst.h"
#include "report/entry.h"
#include "report/message.h"
#include "run/worker.h"

struct pool {
	const struct session *s;        /* the run */
	const struct worker_kind *kind; /* how its workers run */
	void *state;                    /* the kind's */
	int jobs;                       /* workers started: slots [0, jobs) are in use */
	int capacity;                   /* most workers: room for this many */
	int closed;                     /* pool_wait has seen the end: start no more */
	char *running;                  /* per slot: its worker has not ended */
	int live;                       /* how many have not */
	int waiting;                    /* the slot pool_wait waits for unlocked, or -1 */
	char *respawn;                  /* per slot: its worker died, a replacement is due */
	int idle_deaths_left;           /* deaths without a job tolerated (crash loops) */
	int gave_up;                    /* no worker can be had: the run was stopped */
	pthread_mutex_t lock;           /* guards all of the above but s, kind and state */
	pthread_cond_t changed;         /* a worker ended */
};

/* Start workers until there are `n`; 0, or -1 when one could not start. */
static int start_locked(struct pool *p, int n)
{
	while (p->jobs < n) {
		if (p->kind->start(p->state, p->jobs) < 0)
			return -1;
		p->running[p->jobs] = 1;
		p->live++;
		p->jobs++;
	}
	if (atomic_load(&p->s->shared->jobs_peak) < p->jobs)
		atomic_store(&p->s->shared->jobs_peak, p->jobs);
	return 0;
}

static void pool_release(struct pool *p)
{
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	free(p->running);
	free(p->respawn);
	free(p);
}

struct pool *pool_start(const struct session *s)
{
	struct pool *p = xcalloc(1, sizeof(*p));
	int rc;

	p->s = s;
	p->kind = s->kind;
	p->capacity = s->opts->jobs_max > s->opts->jobs ? s->opts->jobs_max : s->opts->jobs;
	p->running = xcalloc((size_t)p->capacity, 1);
	p->respawn = xcalloc((size_t)p->capacity, 1);
	p->waiting = -1;
	p->idle_deaths_left = 4 * s->opts->jobs + 16;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	p->state = p->kind->open(s, p->capacity);
	if (p->state == NULL) {
		int saved = errno;

		pool_release(p);
		errno = saved;
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	rc = start_locked(p, s->opts->jobs);
	pthread_mutex_unlock(&p->lock);
	if (rc < 0) {
		int saved = errno;

		session_stop(s);
		pool_wait(p);
		pool_free(p);
		errno = saved;
		return NULL;
	}
	return p;
}

/* Remove the named temporary a dead worker left in its job's directory. */
static void remove_dead_temporary(const struct session *s, struct worker_slot *slot)
{
	struct dst *d = dst_open(s, parent_slot(s));

	(void)dst_untemp(d, slot->job.path, slot->tmpname);
	dst_close(d);
	slot->tmpname[0] = '\0';
}

/*
 * No worker is left and none can be started: stop the run rather than let
 * the walker wait on a queue nobody empties.
 */
static void give_up(struct pool *p, const char *why)
{
	if (p->gave_up)
		return;
	p->gave_up = 1;
	report_message("no worker left (%s); stopping", why);
	atomic_fetch_add(&parent_slot(p->s)->errors, 1);
	session_stop(p->s);
}

/* A worker died: account for the entry it was copying, and have it replaced. */
static void handle_death(struct pool *p, int index, int status)
{
	const struct session *s = p->s;
	struct worker_slot *slot = &s->shared->slots[index];
	struct worker_slot *mine = parent_slot(s);
	int was_busy = atomic_load(&slot->busy);
	char reason[64];

	if (WIFSIGNALED(status))
		snprintf(reason, sizeof(reason), "worker killed by signal %d", WTERMSIG(status));
	else
		snprintf(reason, sizeof(reason), "worker exited with status %d",
			 WEXITSTATUS(status));
	if (slot->tmpname[0] != '\0')
		remove_dead_temporary(s, slot);
	if (!was_busy) {
		/* No entry is lost, but the run did not go as asked: an error of its own. */
		report_message("%s while idle", reason);
		atomic_fetch_add(&mine->errors, 1);
	} else {
		report_entry_error(s, mine, slot->job.path, 0, reason);
		atomic_fetch_add(&mine->entries_done, 1);
		atomic_fetch_add(&mine->bytes_done,
				 slot->job.kind == JOB_REGULAR ? slot->job.st.size : 0);
		atomic_store(&slot->busy, 0);
	}
	atomic_store(&slot->bytes_inflight, 0);
	/*
	 * A death with a job costs that job, so replacing it always ends; a
	 * worker that keeps dying idle is a crash loop and gets a budget.
	 */
	if (!was_busy && --p->idle_deaths_left < 0)
		give_up(p, "workers keep dying");
	else
		p->respawn[index] = 1;
}

/* The worker of slot i ended with `status`; the pool lock is held. */
static void note_end_locked(struct pool *p, int i, int status)
{
	p->running[i] = 0;
	p->live--;
	if ((p->kind->flags & KIND_RESPAWN) && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		handle_death(p, i, status);
}

/* Start replacements for dead workers; a failed start is retried next time. */
static void refill_locked(struct pool *p)
{
	for (int i = 0; i < p->jobs; i++) {
		if (!p->respawn[i] || atomic_load(&p->s->shared->stop))
			continue;
		if (p->kind->start(p->state, i) == 0) {
			p->respawn[i] = 0;
			p->running[i] = 1;
			p->live++;
		} else if (p->live == 0) {
			give_up(p, strerror(errno));
			return;
		}
	}
}

/* Note the workers that have ended and replace the dead; the pool lock is held. */
static void reap_locked(struct pool *p)
{
	for (int i = 0; i < p->jobs; i++) {
		int status;

		if (p->running[i] && i != p->waiting && p->kind->ended(p->state, i, 0, &status))
			note_end_locked(p, i, status);
	}
	refill_locked(p);
	pthread_cond_broadcast(&p->changed);
}

void pool_reap(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	reap_locked(p);
	pthread_mutex_unlock(&p->lock);
}

int pool_grow(struct pool *p, int n)
{
	int now;

	pthread_mutex_lock(&p->lock);
	if (n > p->capacity)
		n = p->capacity;
	/* A worker that cannot be had now is not asked for again. */
	if (!p->closed && !atomic_load(&p->s->shared->stop) && start_locked(p, n) < 0)
		p->capacity = p->jobs;
	now = p->jobs;
	pthread_mutex_unlock(&p->lock);
	return now;
}

void pool_follow(struct pool *p)
{
	int n;

	if (p->kind->ready == NULL)
		return;
	n = p->kind->ready(p->state);
	if (n > pool_size(p))
		(void)pool_grow(p, n);
}

int pool_size(struct pool *p)
{
	int n;

	pthread_mutex_lock(&p->lock);
	n = p->closed ? 0 : p->jobs;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* The first slot whose worker runs; the pool lock is held. */
static int first_running(const struct pool *p)
{
	for (int i = 0; i < p->jobs; i++)
		if (p->running[i])
			return i;
	return -1;
}

/* Wait up to a tenth of a second for a change; the pool lock is held. */
static void nap_locked(struct pool *p)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100 * 1000 * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&p->changed, &p->lock, &until);
}

void pool_wait(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->live > 0) {
		int i, status;

		reap_locked(p);
		if (p->live == 0)
			break;
		if (p->kind->flags & KIND_REAPED) {
			/* The monitor wakes us on SIGCHLD; the timeout is a safety net. */
			nap_locked(p);
			continue;
		}
		/* Wait for one, unlocked, so that the monitor may still grow the pool. */
		i = first_running(p);
		p->waiting = i;
		pthread_mutex_unlock(&p->lock);
		(void)p->kind->ended(p->state, i, 1, &status);
		pthread_mutex_lock(&p->lock);
		p->waiting = -1;
		note_end_locked(p, i, status);
	}
	p->closed = 1;
	pthread_mutex_unlock(&p->lock);
}

const struct walk_source *pool_listing(struct pool *p)
{
	if (p == NULL || p->kind->listing == NULL)
		return NULL;
	return p->kind->listing(p->state);
}

void pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	p->kind->close(p->state);
	pool_release(p);
}
