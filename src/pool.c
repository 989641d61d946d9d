/*
 * pool.c - the worker pool.  Threads are joined; processes are reaped by the
 * monitor thread on SIGCHLD (pool_reap) while the main thread, done walking,
 * sleeps in pool_wait until the last one is gone.  Both sides take the pool
 * lock around waitpid, so a child is reaped exactly once.
 *
 * The pool has room for s->opts->jobs_max workers from the start (their
 * slots are in the shared state) and starts s->opts->jobs; the monitor may
 * start more (pool_grow) until pool_wait has seen the last one exit.
 *
 * A replacement or an added worker may be forked (or created) by the
 * monitor thread.  A process's PR_SET_PDEATHSIG follows that thread, not
 * the process, which is safe because the monitor is joined only after
 * pool_wait has reaped everyone.
 *
 * Lock order: the pool lock is taken first; nothing else is held with it
 * except, inside queue_abort (give_up), the queue lock (a leaf).
 */
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "mpi_transport.h"
#include "path.h"
#include "queue.h"
#include "util.h"
#include "worker.h"

struct pool {
	const struct session *s; /* the run */
	int jobs;                /* workers started: slots [0, jobs) are in use */
	int capacity;            /* most workers: room for this many */
	int joined;              /* thread mode: threads pool_wait has joined */
	int closed;              /* pool_wait has seen the end: start no more */
	struct worker *workers;  /* thread mode: each thread's state */
	pthread_t *threads;      /* thread mode: the threads */
	pid_t *pids;             /* process mode: pid per slot, 0 when gone */
	struct ranks *ranks;     /* MPI mode: the other ranks, fed by a forwarder */
	pid_t parent;            /* our pid, for the children's death check */
	int live;                /* process mode: workers not yet reaped */
	char *respawn;           /* process mode: slot waits for a replacement */
	int idle_deaths_left;    /* deaths without a job tolerated (crash loops) */
	int gave_up;             /* no worker can be had: the run was stopped */
	pthread_mutex_t lock;    /* guards jobs, joined, closed, pids, live, respawn, the counts */
	pthread_cond_t changed;  /* a worker was reaped */
};

static void *thread_main(void *arg)
{
	worker_main(arg);
	return NULL;
}

/* Body of a worker process; never returns. */
static void process_main(const struct session *s, int index, pid_t parent)
{
	struct worker w;

	/* Die with the parent; if it is already gone, do not start. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	worker_init(&w, s, &s->shared->slots[index]);
	worker_main(&w);
	worker_free(&w);
	_exit(0);
}

/* Fork the worker for slot `index`; 0 or -1. */
static int spawn_process(struct pool *p, int index)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0)
		process_main(p->s, index, p->parent);
	p->pids[index] = pid;
	p->live++;
	return 0;
}

static struct pool *pool_alloc(const struct session *s)
{
	struct pool *p = xcalloc(1, sizeof(*p));

	p->s = s;
	p->capacity = s->opts->jobs_max > s->opts->jobs ? s->opts->jobs_max : s->opts->jobs;
	if (s->opts->mode == MODE_MPI)
		p->capacity = 0; /* no worker here: the other ranks are the workers */
	p->parent = getpid();
	p->idle_deaths_left = 4 * s->opts->jobs + 16;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	if (s->opts->mode == MODE_MPI) {
		/* nothing to keep: ranks_start has it all */
	} else if (s->opts->mode == MODE_THREAD) {
		p->workers = xcalloc((size_t)p->capacity, sizeof(*p->workers));
		p->threads = xcalloc((size_t)p->capacity, sizeof(*p->threads));
	} else {
		p->pids = xcalloc((size_t)p->capacity, sizeof(*p->pids));
		p->respawn = xcalloc((size_t)p->capacity, 1);
	}
	return p;
}

/* Start the worker thread of slot `index`; 0 or -1. */
static int spawn_thread(struct pool *p, int index)
{
	int rc;

	worker_init(&p->workers[index], p->s, &p->s->shared->slots[index]);
	rc = pthread_create(&p->threads[index], NULL, thread_main, &p->workers[index]);
	if (rc != 0) {
		worker_free(&p->workers[index]);
		errno = rc;
		return -1;
	}
	return 0;
}

/* Start workers until there are `n`; 0, or -1 when one could not start. */
static int start_locked(struct pool *p, int n)
{
	while (p->jobs < n) {
		int rc = p->pids == NULL ? spawn_thread(p, p->jobs) : spawn_process(p, p->jobs);

		if (rc < 0)
			return -1;
		p->jobs++;
	}
	if (atomic_load(&p->s->shared->jobs_peak) < p->jobs)
		atomic_store(&p->s->shared->jobs_peak, p->jobs);
	return 0;
}

struct pool *pool_start(const struct session *s)
{
	struct pool *p = pool_alloc(s);
	int rc;

	if (s->opts->mode == MODE_MPI) {
		p->ranks = ranks_start(s);
		rc = p->ranks != NULL ? 0 : -1;
	} else {
		pthread_mutex_lock(&p->lock);
		rc = start_locked(p, s->opts->jobs);
		pthread_mutex_unlock(&p->lock);
	}
	if (rc < 0) {
		int saved = errno;

		atomic_store(&s->shared->stop, 1);
		queue_abort(s->queue);
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
	char *dir = xstrdup(slot->job.path);
	int fd;

	dir[path_dirlen(dir)] = '\0';
	fd = open_beneath(s->dst_root, dir, O_RDONLY | O_DIRECTORY, 0, 0);
	if (fd >= 0) {
		(void)copy_remove_temporary(fd, slot->tmpname);
		close(fd);
	}
	free(dir);
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
	atomic_store(&p->s->shared->stop, 1);
	queue_abort(p->s->queue);
}

/* A worker died abnormally: account for the entry it was copying. */
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

/* Start replacements for dead workers; a failed fork is retried next time. */
static void refill_locked(struct pool *p)
{
	for (int i = 0; i < p->jobs; i++) {
		if (!p->respawn[i] || atomic_load(&p->s->shared->stop))
			continue;
		if (spawn_process(p, i) == 0) {
			p->respawn[i] = 0;
		} else if (p->live == 0) {
			give_up(p, strerror(errno));
			return;
		}
	}
}

/* Reap what has exited and replace the dead; the pool lock is held. */
static void reap_locked(struct pool *p)
{
	for (int i = 0; i < p->jobs; i++) {
		int status;

		if (p->pids[i] <= 0 || waitpid(p->pids[i], &status, WNOHANG) <= 0)
			continue;
		p->pids[i] = 0;
		p->live--;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			handle_death(p, i, status);
	}
	refill_locked(p);
	pthread_cond_broadcast(&p->changed);
}

void pool_reap(struct pool *p)
{
	if (p->pids == NULL)
		return;
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

int pool_size(struct pool *p)
{
	int n;

	pthread_mutex_lock(&p->lock);
	n = p->closed ? 0 : p->jobs;
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* Thread mode: join every thread, also those added while we wait. */
static void join_threads(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->joined < p->jobs) {
		int i = p->joined;

		pthread_mutex_unlock(&p->lock);
		pthread_join(p->threads[i], NULL);
		worker_free(&p->workers[i]);
		pthread_mutex_lock(&p->lock);
		p->joined++;
	}
	p->closed = 1;
	pthread_mutex_unlock(&p->lock);
}

void pool_wait(struct pool *p)
{
	if (p->ranks != NULL) {
		ranks_wait(p->ranks);
		p->closed = 1;
		return;
	}
	if (p->pids == NULL) {
		join_threads(p);
		return;
	}
	pthread_mutex_lock(&p->lock);
	while (p->live > 0) {
		struct timespec until;

		reap_locked(p);
		if (p->live == 0)
			break;
		/* The monitor wakes us on SIGCHLD; the timeout is a safety net. */
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 100 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->changed, &p->lock, &until);
	}
	p->closed = 1;
	pthread_mutex_unlock(&p->lock);
}

const struct walk_source *pool_listing(struct pool *p)
{
	return p != NULL && p->ranks != NULL ? ranks_listing(p->ranks) : NULL;
}

void pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->changed);
	ranks_free(p->ranks);
	free(p->workers);
	free(p->threads);
	free(p->pids);
	free(p->respawn);
	free(p);
}
