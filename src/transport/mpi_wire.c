/* mpi_wire.c - sending and receiving pcopy-mpi's messages (mpi_wire.h). */
#include "transport/mpi_wire.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>

#include "base/util.h"

static const size_t counter_offsets[NCOUNTERS] = {
	offsetof(struct worker_slot, entries_done),   offsetof(struct worker_slot, bytes_done),
	offsetof(struct worker_slot, bytes_inflight), offsetof(struct worker_slot, bytes_skipped),
	offsetof(struct worker_slot, files),          offsetof(struct worker_slot, symlinks),
	offsetof(struct worker_slot, specials),       offsetof(struct worker_slot, hardlinks),
	offsetof(struct worker_slot, dirs),           offsetof(struct worker_slot, bytes),
	offsetof(struct worker_slot, errors),         offsetof(struct worker_slot, vanished),
	offsetof(struct worker_slot, unchanged),      offsetof(struct worker_slot, created),
	offsetof(struct worker_slot, updated),        offsetof(struct worker_slot, meta_updated),
	offsetof(struct worker_slot, linked),         offsetof(struct worker_slot, deleted),
	offsetof(struct worker_slot, dirs_listed),    offsetof(struct worker_slot, entries_listed),
	offsetof(struct worker_slot, split_files),    offsetof(struct worker_slot, idle_ns),
	offsetof(struct worker_slot, cpu_ns),         offsetof(struct worker_slot, runq_ns),
	offsetof(struct worker_slot, wait_ns),        offsetof(struct worker_slot, peak_rss_kib),
	offsetof(struct worker_slot, judged),
};

_Atomic uint64_t *mpi_counter_of(struct worker_slot *slot, size_t i)
{
	return (_Atomic uint64_t *)(void *)((char *)slot + counter_offsets[i]);
}

/* --- sending without blocking --- */

/* Send `len` bytes of `buf` (malloc'd, owned by the send from now on) to `rank`. */
void mpi_send_async(struct sends *q, int rank, int tag, void *buf, size_t len)
{
	if (q->count == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->req = xrealloc(q->req, q->cap * sizeof(*q->req));
		q->buf = xrealloc(q->buf, q->cap * sizeof(*q->buf));
	}
	q->buf[q->count] = buf;
	MPI_Isend(buf, (int)len, MPI_BYTE, rank, tag, MPI_COMM_WORLD, &q->req[q->count++]);
}

/* Send a copy of a small message. */
void mpi_send_copy(struct sends *q, int rank, int tag, const void *msg, size_t len)
{
	mpi_send_async(q, rank, tag, memcpy(xmalloc(len), msg, len), len);
}

/*
 * Test the `count` requests of `req` at once (MPI_Testsome), or wait for
 * them all; those done become MPI_REQUEST_NULL.  1 if any was done.
 */
static int test_all(MPI_Request *req, size_t count, int wait)
{
	int few[64], *done = few, ndone = 0;

	if (count == 0)
		return 0;
	if (wait) {
		MPI_Waitall((int)count, req, MPI_STATUSES_IGNORE);
		return 1;
	}
	if (count > ARRAY_LEN(few))
		done = xmalloc(count * sizeof(*done));
	MPI_Testsome((int)count, req, &ndone, done, MPI_STATUSES_IGNORE);
	if (done != few)
		free(done);
	return ndone > 0 && ndone != MPI_UNDEFINED;
}

/* Free the buffers of the sends done (MPI_REQUEST_NULL), keeping the others in order. */
static void sends_compact(struct sends *q)
{
	size_t kept = 0;

	for (size_t i = 0; i < q->count; i++) {
		if (q->req[i] == MPI_REQUEST_NULL) {
			free(q->buf[i]);
			continue;
		}
		q->req[kept] = q->req[i];
		q->buf[kept++] = q->buf[i];
	}
	q->count = kept;
}

/* Free the buffers of the sends that completed; 1 if any did. */
int mpi_sends_reap(struct sends *q)
{
	int any = test_all(q->req, q->count, 0);

	if (any)
		sends_compact(q);
	return any;
}

/* Wait for every send (its receiver is polling), then free them. */
void mpi_sends_finish(struct sends *q)
{
	test_all(q->req, q->count, 1);
	sends_compact(q);
	free(q->req);
	free(q->buf);
	memset(q, 0, sizeof(*q));
}

/* --- receiving --- */

/* Receive the message `st` announced; a malloc'd buffer of *len bytes. */
char *mpi_receive(const MPI_Status *st, size_t *len)
{
	int count = 0;
	char *buf;

	MPI_Get_count(st, MPI_BYTE, &count);
	buf = xmalloc(count > 0 ? (size_t)count : 1);
	MPI_Recv(buf, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
		 MPI_STATUS_IGNORE);
	*len = (size_t)count;
	return buf;
}

/* Start receiving the message `st` announced. */
void mpi_receive_async(struct receives *q, const MPI_Status *st)
{
	struct incoming *in;
	int count = 0;

	if (q->count == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->req = xrealloc(q->req, q->cap * sizeof(*q->req));
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	in = &q->v[q->count];
	MPI_Get_count(st, MPI_BYTE, &count);
	in->len = count > 0 ? (size_t)count : 0;
	in->buf = xmalloc(in->len > 0 ? in->len : 1);
	in->rank = st->MPI_SOURCE;
	MPI_Irecv(in->buf, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
		  &q->req[q->count++]);
}

/*
 * Hand each receive that completed (every one, waiting, with `wait`) to
 * `take`, in the order they began, then free it; 1 if any did.
 */
int mpi_receives_reap(struct receives *q, int wait,
		      void (*take)(void *ctx, int rank, const char *msg, size_t len), void *ctx)
{
	size_t kept = 0;
	int any = test_all(q->req, q->count, wait);

	for (size_t i = 0; any && i < q->count; i++) {
		if (q->req[i] == MPI_REQUEST_NULL) {
			take(ctx, q->v[i].rank, q->v[i].buf, q->v[i].len);
			free(q->v[i].buf);
			continue;
		}
		q->req[kept] = q->req[i];
		q->v[kept++] = q->v[i];
	}
	if (any)
		q->count = kept;
	if (wait) {
		free(q->req);
		free(q->v);
		memset(q, 0, sizeof(*q));
	}
	return any;
}

void mpi_idle_pause(struct idle *d, int busy)
{
	struct timespec ts;
	long max;

	if (busy || d->us < IDLE_MIN_US) {
		d->us = IDLE_MIN_US;
		if (busy)
			return;
	}
	ts.tv_sec = 0;
	ts.tv_nsec = d->us * 1000;
	nanosleep(&ts, NULL);
	max = d->max_us > 0 ? d->max_us : IDLE_MAX_US;
	d->us = d->us * 2 > max ? max : d->us * 2;
}

/* --- job batches --- */

/* A packed job: this (the start of struct job), then its stat unless JOB_UNSTATED, then its path. */
#define PACKED_HEAD offsetof(struct job, st)

/* Bytes of a packed job's stat: none for JOB_UNSTATED. */
static size_t packed_stat_size(const struct job *job)
{
	return job->kind == JOB_UNSTATED ? 0 : sizeof(job->st);
}

size_t mpi_packed_size(const struct job *job)
{
	return (PACKED_HEAD + packed_stat_size(job) + job->path_len + 1 + 7) & ~(size_t)7;
}

size_t mpi_pack_job(const struct job *job, char *out)
{
	size_t size = mpi_packed_size(job), stat_size = packed_stat_size(job);

	memset(out, 0, size);
	memcpy(out, job, PACKED_HEAD);
	memcpy(out + PACKED_HEAD, &job->st, stat_size);
	memcpy(out + PACKED_HEAD + stat_size, job->path, job->path_len + 1);
	return size;
}

size_t mpi_unpack_job(const char *batch, size_t len, size_t at, struct job *job)
{
	size_t stat_size;

	if (len - at < PACKED_HEAD)
		return 0;
	memcpy(job, batch + at, PACKED_HEAD);
	job->meta_len = 0; /* ranks share one machine's source: nothing read elsewhere */
	stat_size = packed_stat_size(job);
	if (job->path_len >= JOB_PATH_MAX || mpi_packed_size(job) > len - at)
		return 0;
	memset(&job->st, 0, sizeof(job->st));
	memcpy(&job->st, batch + at + PACKED_HEAD, stat_size);
	memcpy(job->path, batch + at + PACKED_HEAD + stat_size, job->path_len + 1);
	job->path[job->path_len] = '\0';
	return mpi_packed_size(job);
}

/*
 * A file system's statfs f_fsid, or 0 when it gives none.  Unlike st_dev,
 * which the kernel numbers per machine (an NFS or Lustre mount gets a
 * number of its own on each client), f_fsid names the file system itself
 * on network file systems (from the server) and on local ones (from the
 * device or UUID).
 */
uint64_t mpi_fsid_of(int fd)
{
	struct statfs sf;
	uint32_t half[2];
	uint64_t id;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	memcpy(half, &sf.f_fsid, sizeof(half));
	id = (uint64_t)half[0] << 32 | half[1];
	return id;
}

/*
 * Is `st` (on file system `fsid`) the root rank 0 opened?  The same inode
 * on the same device, or, across machines, on a file system with the same
 * f_fsid.
 */
int mpi_same_root(const struct stat *st, uint64_t fsid, const struct stat *want, uint64_t want_fsid)
{
	if (st->st_ino != want->st_ino)
		return 0;
	return st->st_dev == want->st_dev || (want_fsid != 0 && fsid == want_fsid);
}

/* The signals that stop a run (monitor.c takes them on rank 0). */
void mpi_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}
