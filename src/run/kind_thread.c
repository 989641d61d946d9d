/*
 * kind_thread.c - workers as threads of this process (core/kind.h): the
 * queue and the slots in private memory, the fd table shared.
 */
#include "run/kinds.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "base/util.h"
#include "core/kind.h"
#include "run/worker.h"

/* One worker thread. */
struct thread_worker {
	struct worker w;  /* its state (worker.h) */
	pthread_t thread; /* running worker_main on w */
	_Atomic int done; /* worker_main has returned: joining does not wait */
};

/* The kind's state: a worker per slot. */
struct threads {
	const struct session *s;
	struct thread_worker *workers; /* [capacity] */
};

static void *thread_main(void *arg)
{
	struct thread_worker *t = arg;

	worker_main(&t->w);
	atomic_store(&t->done, 1);
	return NULL;
}

static void *threads_open(const struct session *s, int capacity)
{
	struct threads *t = xcalloc(1, sizeof(*t));

	t->s = s;
	t->workers = xcalloc((size_t)capacity, sizeof(*t->workers));
	return t;
}

static int threads_start(void *state, int index)
{
	struct threads *t = state;
	struct thread_worker *tw = &t->workers[index];
	int rc;

	worker_init(&tw->w, t->s, &t->s->shared->slots[index]);
	atomic_store(&tw->done, 0);
	rc = pthread_create(&tw->thread, NULL, thread_main, tw);
	if (rc != 0) {
		worker_free(&tw->w);
		errno = rc;
		return -1;
	}
	return 0;
}

static int threads_ended(void *state, int index, int block, int *status)
{
	struct thread_worker *tw = &((struct threads *)state)->workers[index];

	if (!block && !atomic_load(&tw->done))
		return 0;
	pthread_join(tw->thread, NULL);
	worker_free(&tw->w);
	*status = 0;
	return 1;
}

static void threads_close(void *state)
{
	struct threads *t = state;

	free(t->workers);
	free(t);
}

const struct worker_kind thread_kind = {
	.name = "thread",
	.flags = KIND_SHARED_FDS,
	.open = threads_open,
	.start = threads_start,
	.ended = threads_ended,
	.close = threads_close,
};
