/* queue.h - the bounded walker->workers queue, in private or shared memory. */
#ifndef PCOPY_QUEUE_H
#define PCOPY_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

/* Where the queue lives: private memory for threads, shared for processes. */
enum queue_backend {
	QUEUE_PRIVATE, /* threads of one process */
	QUEUE_SHARED,  /* processes forked after queue_create */
};

struct queue;

/*
 * Create a queue of `capacity` job records.  The whole queue (control block
 * and records) is one mmap'd region; QUEUE_SHARED maps it MAP_SHARED so it
 * survives fork().  Returns NULL with errno set on failure.
 */
struct queue *queue_create(size_t capacity, enum queue_backend backend);

/* Unmap the queue.  No thread or process may use it afterwards. */
void queue_destroy(struct queue *q);

/*
 * Append a copy of *job, blocking while the queue is full.  Returns 0, or -1
 * with errno EPIPE once the queue is closed.
 */
int queue_push(struct queue *q, const struct job *job);

/*
 * A push wakes a sleeping consumer only once a few jobs are waiting; call
 * this when the producer may be slow to push more (before it reads a
 * directory, say), so that no job waits for company.
 */
void queue_flush(struct queue *q);

/*
 * Remove the oldest job into *out, blocking while the queue is empty.
 * `busy` (may be NULL) is set to 1 under the queue lock before the job
 * leaves the queue, so a watcher never sees a job in neither place.
 * Returns 0, or -1 with errno EPIPE when the queue is closed and empty.
 */
int queue_pop(struct queue *q, struct job *out, _Atomic int *busy);

/*
 * queue_pop without the wait, for a consumer that has other things to
 * watch (pcopy-mpi's forwarder): -1 with errno EAGAIN when the queue is
 * empty but open, EPIPE when it is closed and empty.
 */
int queue_try_pop(struct queue *q, struct job *out);

/* Close: pushes fail, pops drain what is left, every waiter wakes up. */
void queue_close(struct queue *q);

/* Close and drop what is queued (used when stopping on a signal). */
void queue_abort(struct queue *q);

/* Number of jobs queued right now (a snapshot). */
size_t queue_length(struct queue *q);

/* Capacity given at creation. */
size_t queue_capacity(const struct queue *q);

#endif
