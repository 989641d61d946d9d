/*
 * pool.c - the worker pool.  Threads are joined; processes are reaped by the
 * monitor thread on SIGCHLD (pool_reap) while the main thread, done walking,
 * sleeps in pool_wait until the last one is gone.  Both sides take the pool
 * lock around waitpid, so a child is reaped exactly once.
 *
 * A replacement worker may be forked by the monitor thread.  Its
 * PR_SET_PDEATHSIG follows that thread, not the process, which is safe
 * because the monitor is joined only after pool_wait has reaped everyone.
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
	int jobs;                /* number of workers */
	struct worker *workers;  /* thread mode: each thread's state */
	pthread_t *threads;      /* thread mode: the threads */
	pid_t *pids;             /* process mode: pid per slot, 0 when gone */
	struct ranks *ranks;     /* MPI mode: the other ranks, fed by a forwarder */
	pid_t parent;            /* our pid, for the children's death check */
	int live;                /* process mode: workers not yet reaped */
	char *respawn;           /* process mode: slot waits for a replacement */
	int idle_deaths_left;    /* deaths without a job tolerated (crash loops) */
	int gave_up;             /* no worker can be had: the run was stopped */
	pthread_mutex_t lock;    /* guards pids, live, respawn, the counts */
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
	p->jobs = s->opts->jobs;
	p->parent = getpid();
	p->idle_deaths_left = 4 * p->jobs + 16;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->changed, NULL);
	return p;
}

static int start_threads(struct pool *p)
{
	p->workers = xcalloc((size_t)p->jobs, sizeof(*p->workers));
	p->threads = xcalloc((size_t)p->jobs, sizeof(*p->threads));
	for (int i = 0; i < p->jobs; i++) {
		int rc;

		worker_init(&p->workers[i], p->s, &p->s->shared->slots[i]);
		rc = pthread_create(&p->threads[i], NULL, thread_main, &p->workers[i]);
		if (rc != 0) {
			worker_free(&p->workers[i]);
			p->jobs = i; /* only these get joined */
			errno = rc;
			return -1;
		}
	}
	return 0;
}

struct pool *pool_start(const struct session *s)
{
	struct pool *p = pool_alloc(s);
	int rc = 0;

	if (s->opts->mode == MODE_MPI) {
		p->jobs = 0; /* no worker here: the other ranks are the workers */
		p->ranks = ranks_start(s);
		rc = p->ranks != NULL ? 0 : -1;
	} else if (s->opts->mode == MODE_THREAD) {
		rc = start_threads(p);
	} else {
		p->pids = xcalloc((size_t)p->jobs, sizeof(*p->pids));
		p->respawn = xcalloc((size_t)p->jobs, 1);
		for (int i = 0; i < p->jobs && rc == 0; i++)
			rc = spawn_process(p, i);
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

	if (slot->tmpname[0] != '\0')
		remove_dead_temporary(s, slot);
	if (was_busy) {
		if (WIFSIGNALED(status))
			snprintf(reason, sizeof(reason), "worker killed by signal %d",
				 WTERMSIG(status));
		else
			snprintf(reason, sizeof(reason), "worker exited with status %d",
				 WEXITSTATUS(status));
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

void pool_wait(struct pool *p)
{
	if (p->ranks != NULL) {
		ranks_wait(p->ranks);
		return;
	}
	if (p->pids == NULL) {
		for (int i = 0; i < p->jobs; i++) {
			pthread_join(p->threads[i], NULL);
			worker_free(&p->workers[i]);
		}
		p->jobs = 0;
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
	pthread_mutex_unlock(&p->lock);
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
