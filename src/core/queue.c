/*
 * queue.c - a bounded ring of job records shared by the walker and workers.
 *
 * One robust mutex guards the ring.  Waiting is done on two futex words,
 * not on pthread condition variables: a process-shared condvar whose waiter
 * is SIGKILLed can leave the condvar's internal group counts stuck and hang
 * the next signaller, while a futex word owned by nobody cannot.  A waiter
 * reads the word's sequence number under the lock, drops the lock and sleeps
 * only if the number is unchanged; every state change that a waiter could
 * care about bumps the number under the lock, so no wakeup is lost.
 *
 * `head` and `tail` count pops and pushes since creation; the number queued
 * is tail - head.  Each operation publishes its effect with a single store,
 * so a worker killed while holding the lock leaves a consistent ring behind
 * (the robust mutex hands the next locker EOWNERDEAD, and it carries on).
 *
 * Producers are woken only when the ring has drained to `low_water`, not on
 * every pop: a walker that outruns the workers then sleeps and wakes once per
 * half-ring instead of once per file.  Consumers likewise are woken once
 * `wake_batch` jobs are waiting, or by queue_flush: where jobs are cheaper
 * than a wake-up (an unchanged entry with --update is one stat), workers
 * that outran the walker would otherwise sleep and wake once per job.
 *
 * Lock order: the queue lock is a leaf; nothing else is taken while holding it.
 */
#include "core/queue.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct queue {
	pthread_mutex_t lock;           /* guards every field below but the futex words */
	_Atomic uint32_t not_empty_seq; /* futex word consumers sleep on */
	_Atomic uint32_t not_full_seq;  /* futex word producers sleep on */
	uint32_t consumers_waiting;     /* consumers asleep (may overcount after a kill) */
	uint32_t producers_waiting;     /* producers asleep */
	uint32_t consumers_woken;       /* of those, woken and not yet back under the lock */
	uint32_t producers_woken;
	uint64_t head;        /* jobs popped since creation */
	uint64_t tail;        /* jobs pushed since creation */
	int closed;           /* no more pushes; pops drain then fail */
	int futex_private;    /* FUTEX_PRIVATE_FLAG for the private backend */
	size_t capacity;      /* slots in records[] */
	size_t low_water;     /* wake producers when this few are left */
	size_t wake_batch;    /* wake consumers when this many are queued */
	size_t map_size;      /* bytes mapped, for munmap */
	struct job records[]; /* the ring */
};

/* Bytes of a record worth copying: header, path and its NUL, what follows it. */
static size_t job_used_size(const struct job *job)
{
	return JOB_HEADER_SIZE + job->path_len + 1 + job->meta_len;
}

static void futex_wait(struct queue *q, _Atomic uint32_t *word, uint32_t seen)
{
	int op = FUTEX_WAIT | q->futex_private;

	/* EAGAIN (word changed) and EINTR both just mean: look again. */
	(void)syscall(SYS_futex, (uint32_t *)word, op, seen, NULL, NULL, 0);
}

static void futex_wake(struct queue *q, _Atomic uint32_t *word, int count)
{
	int op = FUTEX_WAKE | q->futex_private;

	(void)syscall(SYS_futex, (uint32_t *)word, op, count, NULL, NULL, 0);
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() atomic_signal_fence(memory_order_seq_cst)
#endif

/* Tries at taking a held lock before sleeping on it. */
#define LOCK_SPINS 100

/*
 * Take the lock; if its last owner died holding it, the ring is still
 * sound.  It is held for a copy of one record, far less than a sleep and
 * a wake-up cost, so a contended lock is tried a little before sleeping
 * (robust mutexes do not spin by themselves).
 */
static void queue_lock(struct queue *q)
{
	int rc = EBUSY;

	for (int i = 0; i < LOCK_SPINS && rc == EBUSY; i++) {
		rc = pthread_mutex_trylock(&q->lock);
		if (rc == EBUSY)
			cpu_relax();
	}
	if (rc == EBUSY)
		rc = pthread_mutex_lock(&q->lock);
	if (rc == EOWNERDEAD)
		pthread_mutex_consistent(&q->lock);
}

static void queue_unlock(struct queue *q)
{
	pthread_mutex_unlock(&q->lock);
}

/*
 * Sleep on `word` with the lock released; `waiting` counts the sleepers,
 * `woken` those a waker has already woken (see should_wake).
 */
static void queue_sleep(struct queue *q, _Atomic uint32_t *word, uint32_t *waiting, uint32_t *woken)
{
	uint32_t seen = atomic_load(word);

	(*waiting)++;
	queue_unlock(q);
	futex_wait(q, word, seen);
	queue_lock(q);
	(*waiting)--;
	if (*woken > 0)
		(*woken)--;
}

/*
 * Is there a sleeper no wake-up is on its way to?  A woken thread counts as
 * waiting until it runs and takes the lock, which on a busy machine is a
 * while: without this, every push (or pop) meanwhile made another futex
 * call, 42,000 of them in a 50,000-file --update run.  A sleeper that wakes
 * for another reason takes a pending wake-up's place, which at worst costs
 * one more wake-up later, never a lost one.  Call with the lock held; it
 * counts the wake-up the caller then makes.
 */
static int should_wake(uint32_t waiting, uint32_t *woken)
{
	if (waiting <= *woken)
		return 0;
	(*woken)++;
	return 1;
}

static int init_lock(struct queue *q, enum queue_backend backend)
{
	pthread_mutexattr_t attr;
	int rc;

	if (pthread_mutexattr_init(&attr) != 0)
		return -1;
	if (backend == QUEUE_SHARED) {
		pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
		pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	}
	rc = pthread_mutex_init(&q->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

struct queue *queue_create(size_t capacity, enum queue_backend backend)
{
	size_t size;
	struct queue *q;
	int flags = MAP_ANONYMOUS;

	if (capacity == 0 || capacity > (SIZE_MAX - sizeof(*q)) / sizeof(struct job)) {
		errno = EINVAL;
		return NULL;
	}
	size = sizeof(*q) + capacity * sizeof(struct job);
	flags |= backend == QUEUE_SHARED ? MAP_SHARED : MAP_PRIVATE;
	q = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (q == MAP_FAILED)
		return NULL;
	/* mmap memory is zeroed: counters, flags and futex words start at 0. */
	q->capacity = capacity;
	q->low_water = capacity / 2;
	q->wake_batch = capacity >= 32 ? 8 : 1;
	q->map_size = size;
	q->futex_private = backend == QUEUE_PRIVATE ? FUTEX_PRIVATE_FLAG : 0;
	if (init_lock(q, backend) != 0) {
		int saved = errno;

		munmap(q, size);
		errno = saved;
		return NULL;
	}
	return q;
}

void queue_destroy(struct queue *q)
{
	if (q == NULL)
		return;
	pthread_mutex_destroy(&q->lock);
	munmap(q, q->map_size);
}

int queue_push(struct queue *q, const struct job *job)
{
	int wake;

	queue_lock(q);
	while (q->tail - q->head >= q->capacity && !q->closed)
		queue_sleep(q, &q->not_full_seq, &q->producers_waiting, &q->producers_woken);
	if (q->closed) {
		queue_unlock(q);
		errno = EPIPE;
		return -1;
	}
	memcpy(&q->records[q->tail % q->capacity], job, job_used_size(job));
	q->tail++;
	wake = q->tail - q->head >= q->wake_batch &&
	       should_wake(q->consumers_waiting, &q->consumers_woken);
	if (wake)
		atomic_fetch_add(&q->not_empty_seq, 1);
	queue_unlock(q);
	if (wake)
		futex_wake(q, &q->not_empty_seq, 1);
	return 0;
}

void queue_flush(struct queue *q)
{
	int wake;

	queue_lock(q);
	wake = q->tail != q->head && q->consumers_waiting > q->consumers_woken;
	if (wake) {
		q->consumers_woken = q->consumers_waiting; /* all of them, below */
		atomic_fetch_add(&q->not_empty_seq, 1);
	}
	queue_unlock(q);
	if (wake)
		futex_wake(q, &q->not_empty_seq, INT_MAX);
}

/*
 * Move the oldest job into *out, the lock held and the ring not empty, and
 * release the lock.
 */
static void take_locked(struct queue *q, struct job *out, _Atomic int *busy)
{
	const struct job *slot = &q->records[q->head % q->capacity];
	int wake;

	memcpy(out, slot, job_used_size(slot));
	/* Mark busy before the job leaves the ring (see queue.h). */
	if (busy != NULL)
		atomic_store(busy, 1);
	q->head++;
	wake = q->tail - q->head <= q->low_water &&
	       should_wake(q->producers_waiting, &q->producers_woken);
	if (wake)
		atomic_fetch_add(&q->not_full_seq, 1);
	queue_unlock(q);
	if (wake)
		futex_wake(q, &q->not_full_seq, INT_MAX);
}

int queue_pop(struct queue *q, struct job *out, _Atomic int *busy)
{
	queue_lock(q);
	while (q->tail == q->head && !q->closed)
		queue_sleep(q, &q->not_empty_seq, &q->consumers_waiting, &q->consumers_woken);
	if (q->tail == q->head) {
		queue_unlock(q);
		errno = EPIPE;
		return -1;
	}
	take_locked(q, out, busy);
	return 0;
}

int queue_try_pop(struct queue *q, struct job *out)
{
	queue_lock(q);
	if (q->tail == q->head) {
		errno = q->closed ? EPIPE : EAGAIN;
		queue_unlock(q);
		return -1;
	}
	take_locked(q, out, NULL);
	return 0;
}

/* Mark closed (optionally dropping the contents) and wake every sleeper. */
static void queue_shut(struct queue *q, int drop)
{
	queue_lock(q);
	q->closed = 1;
	if (drop)
		q->head = q->tail;
	atomic_fetch_add(&q->not_empty_seq, 1);
	atomic_fetch_add(&q->not_full_seq, 1);
	queue_unlock(q);
	futex_wake(q, &q->not_empty_seq, INT_MAX);
	futex_wake(q, &q->not_full_seq, INT_MAX);
}

void queue_close(struct queue *q)
{
	queue_shut(q, 0);
}

void queue_abort(struct queue *q)
{
	queue_shut(q, 1);
}

size_t queue_length(struct queue *q)
{
	size_t n;

	queue_lock(q);
	n = (size_t)(q->tail - q->head);
	queue_unlock(q);
	return n;
}

size_t queue_capacity(const struct queue *q)
{
	return q->capacity;
}
