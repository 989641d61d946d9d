/*
 * mpi_transport.c - pcopy-mpi's transport: the walker's queue carried to
 * the other ranks by MPI messages (mpi_transport.h has the picture).
 *
 * One source, as rank 0 and rank k see it:
 *
 *	0 -> k  BEGIN   the roots (paths, device and inode), the umask, how
 *	                rank 0 walks (for listing) and whether DST is there
 *	k -> 0  READY   it opened the same roots, or which one differs
 *	0 -> k  GO      all ranks are ready (or not: then nothing more)
 *	0 -> k  JOBS    batches of job records ...
 *	k -> 0  STATUS  ... jobs taken so far, whether it is idle, its slot's
 *	                counters and what it added to the totals (JOB_UNSTATED),
 *	k -> 0  SPILL   the multiply-linked files it measured (spill.h),
 *	k -> 0  LINES   and its output, while it works
 *	0 -> k  CLOSE   the walk is over (or ABORT: stop, drop what is queued)
 *	k -> 0  DONE    its last counters: it has finished
 *
 * and, at any time between GO and CLOSE, the listing of directories for
 * rank 0's walker (mpi_listing.h):
 *
 *	0 -> k  LIST    paths of directories to read
 *	k -> 0  LISTING one directory's names and stats, or "cannot"
 *
 * and END, 0 -> k, once there are no more sources.  MPI keeps the order of
 * the messages between two ranks, so a rank's lines (and listings) arrive
 * before its DONE.
 *
 * Only one thread per process calls MPI at a time (MPI_THREAD_SERIALIZED):
 * on rank 0 the main thread between sources and the forwarder during one;
 * on the others the main thread, while a worker thread copies.  Nobody
 * blocks in a send: sends are MPI_Isend, completed later by the same loop
 * that receives, so two ranks sending each other large messages cannot
 * deadlock.  A loop that finds nothing to do sleeps, longer each time up
 * to IDLE_MAX_US, rather than spin: ranks share the CPUs with the copying.
 *
 * Memory stays flat on any tree: rank 0 sends a rank at most WINDOW jobs
 * it has not yet taken off its queue, and that queue holds WINDOW.
 */
#include "mpi_transport.h"

#include <mpi.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "dirstream.h"
#include "linkdest.h"
#include "mpi_listing.h"
#include "output.h"
#include "pool.h"
#include "queue.h"
#include "session.h"
#include "spill.h"
#include "util.h"
#include "walk.h"

#define BATCH 32                /* jobs in one message, at most */
#define WINDOW (8 * BATCH)      /* jobs sent to a rank that it has not taken yet */
#define BYTES_WINDOW (16 << 20) /* and their bytes, past the first job */
#define STATUS_INTERVAL 0.05    /* seconds between two reports of a busy rank */
#define IDLE_MIN_US 20          /* first sleep of an idle loop */
#define IDLE_MAX_US 250         /* longest, while copying */
#define IDLE_FED_US 1000        /* longest, while a rank's worker has FED jobs queued */
#define FED (WINDOW / 4)        /* a millisecond of copying even of empty files */
#define SIGNAL_INTERVAL 0.005   /* seconds between two looks for a stop signal */
#define WAIT_MAX_US 10000       /* longest, waiting for a source to begin */
#define RECEIVE_BURST 64        /* messages taken in one go before sending again */
#define OUTBOX_MAX (1 << 20)    /* bytes of output a rank holds before its worker waits */

/* Message tags (the order of a source is in the comment above). */
enum tag {
	TAG_BEGIN = 1,
	TAG_READY,
	TAG_GO,
	TAG_JOBS,
	TAG_CLOSE,
	TAG_ABORT,
	TAG_STATUS,
	TAG_LINES,
	TAG_SPILL,
	TAG_DONE,
	TAG_END,
	TAG_LIST,
	TAG_LISTING,
};

/* BEGIN: the roots rank 0 opened, followed by the two paths, NUL-terminated. */
struct begin {
	uint64_t src_dev, src_ino;   /* SRC's directory */
	uint64_t dst_dev, dst_ino;   /* the copy's top directory */
	uint64_t src_fsid, dst_fsid; /* their file systems' statfs f_fsid (0: none) */
	uint32_t umask;              /* the user's umask */
	uint32_t src_len;            /* strlen of the SRC path (the second follows it) */
	uint32_t spill;              /* multiply-linked files go back to rank 0 (spill.h) */
	uint32_t flags;              /* BEGIN_* */
};

/*
 * begin.flags: how rank 0 walks (the walk_options a lister reads
 * directories with), and a dry run, whose DST need not exist: the ranks
 * only list, so they neither open nor check it.
 */
enum { BEGIN_FOLLOW = 1, BEGIN_LAZY_REGULAR = 2, BEGIN_NO_DST = 4 };

/* READY: which root a rank could not match (0: none), and why. */
enum root { ROOT_NONE, ROOT_SRC, ROOT_DST };
struct ready {
	int32_t root; /* enum root */
	int32_t err;  /* errno of opening it, or 0: it is another directory */
};

/* The counters of a slot a rank reports, in message order. */
static const size_t counter_offsets[] = {
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
	offsetof(struct worker_slot, split_files),
};
#define NCOUNTERS ARRAY_LEN(counter_offsets)

/* STATUS and DONE. */
struct status {
	uint64_t taken;          /* jobs taken off the rank's queue this source */
	uint64_t queued_entries; /* what its worker measured into the totals, */
	uint64_t queued_bytes;   /* this source (JOB_UNSTATED) */
	uint32_t idle;           /* its queue is empty and its worker holds nothing */
	uint32_t pad;
	uint64_t counter[NCOUNTERS]; /* its slot, as counter_offsets lists */
};

/* LINES: records of this header and `len` bytes of output for `fd`. */
struct line_head {
	uint32_t fd;  /* STDOUT_FILENO or STDERR_FILENO (output.h's sink) */
	uint32_t len; /* bytes that follow */
};

static int my_rank;           /* this process's rank */
static int world_size;        /* ranks in the run */
static int serving;           /* mpi_ready let the run start: rank 0 owes END */
static int saved_stderr = -1; /* ranks > 0: stderr, kept aside until mpi_ready */
static int stop_signal;       /* ranks > 0: the stop signal taken, or 0 */
/* Ranks > 0, during a source: SRC's device as this node numbers it, and as rank 0 does. */
static uint64_t src_dev_here, src_dev_rank0;

static _Atomic uint64_t *counter_of(struct worker_slot *slot, size_t i)
{
	return (_Atomic uint64_t *)(void *)((char *)slot + counter_offsets[i]);
}

/* --- sending without blocking --- */

/* A send in flight and the buffer it owns until it completes. */
struct pending {
	MPI_Request request;
	void *buf; /* malloc'd */
};

/* The sends of one loop. */
struct sends {
	struct pending *v;
	size_t count, cap;
};

/* Send `len` bytes of `buf` (malloc'd, owned by the send from now on) to `rank`. */
static void send_async(struct sends *q, int rank, int tag, void *buf, size_t len)
{
	struct pending *p;

	if (q->count == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	p = &q->v[q->count++];
	p->buf = buf;
	MPI_Isend(buf, (int)len, MPI_BYTE, rank, tag, MPI_COMM_WORLD, &p->request);
}

/* Send a copy of a small message. */
static void send_copy(struct sends *q, int rank, int tag, const void *msg, size_t len)
{
	send_async(q, rank, tag, memcpy(xmalloc(len), msg, len), len);
}

/* Free the buffers of the sends that completed; 1 if any did. */
static int sends_reap(struct sends *q)
{
	size_t kept = 0;
	int any = 0;

	for (size_t i = 0; i < q->count; i++) {
		int done = 0;

		MPI_Test(&q->v[i].request, &done, MPI_STATUS_IGNORE);
		if (done) {
			free(q->v[i].buf);
			any = 1;
		} else {
			q->v[kept++] = q->v[i];
		}
	}
	q->count = kept;
	return any;
}

/* Wait for every send (its receiver is polling), then free them. */
static void sends_finish(struct sends *q)
{
	for (size_t i = 0; i < q->count; i++) {
		MPI_Wait(&q->v[i].request, MPI_STATUS_IGNORE);
		free(q->v[i].buf);
	}
	free(q->v);
	memset(q, 0, sizeof(*q));
}

/* --- receiving --- */

/* Receive the message `st` announced; a malloc'd buffer of *len bytes. */
static char *receive(const MPI_Status *st, size_t *len)
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

/*
 * A receive in flight.  A listing is past MPI's eager size, so a blocking
 * receive of one would wait (spinning, in Open MPI) until its sender,
 * busy reading the next directory, moves it on: rank 0 takes listings
 * with MPI_Irecv and finishes them in its loop instead.
 */
struct incoming {
	MPI_Request request;
	char *buf; /* malloc'd, `len` bytes */
	size_t len;
	int rank; /* the sender */
};

/* The receives in flight of one loop. */
struct receives {
	struct incoming *v;
	size_t count, cap;
};

/* Start receiving the message `st` announced. */
static void receive_async(struct receives *q, const MPI_Status *st)
{
	struct incoming *in;
	int count = 0;

	if (q->count == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 16;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	in = &q->v[q->count++];
	MPI_Get_count(st, MPI_BYTE, &count);
	in->len = count > 0 ? (size_t)count : 0;
	in->buf = xmalloc(in->len > 0 ? in->len : 1);
	in->rank = st->MPI_SOURCE;
	MPI_Irecv(in->buf, count, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD,
		  &in->request);
}

/*
 * Hand each receive that completed (every one, waiting, with `wait`) to
 * `take`, then free it; 1 if any did.
 */
static int receives_reap(struct receives *q, int wait,
			 void (*take)(void *ctx, int rank, const char *msg, size_t len), void *ctx)
{
	size_t kept = 0;
	int any = 0;

	for (size_t i = 0; i < q->count; i++) {
		int done = 1;

		if (wait)
			MPI_Wait(&q->v[i].request, MPI_STATUS_IGNORE);
		else
			MPI_Test(&q->v[i].request, &done, MPI_STATUS_IGNORE);
		if (done) {
			take(ctx, q->v[i].rank, q->v[i].buf, q->v[i].len);
			free(q->v[i].buf);
			any = 1;
		} else {
			q->v[kept++] = q->v[i];
		}
	}
	q->count = kept;
	if (wait) {
		free(q->v);
		memset(q, 0, sizeof(*q));
	}
	return any;
}

/* An idle loop's sleep: short after work, doubling while there is none. */
struct idle {
	long us;     /* the next sleep */
	long max_us; /* the longest: IDLE_MAX_US if 0 */
};

static void idle_pause(struct idle *d, int busy)
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

/* The next message from rank 0 (waiting for it), in a malloc'd buffer. */
static char *next_from_rank0(int *tag, size_t *len)
{
	/* Nothing to copy meanwhile (a dry run, a single file): sleep longer. */
	struct idle idle = { 0, WAIT_MAX_US };
	MPI_Status st;
	int flag = 0;

	for (;;) {
		MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (flag)
			break;
		idle_pause(&idle, 0);
	}
	*tag = st.MPI_TAG;
	return receive(&st, len);
}

/* --- job batches --- */

/* Bytes a job takes in a batch: its used part, rounded to keep the next aligned. */
static size_t packed_size(const struct job *job)
{
	return (JOB_HEADER_SIZE + job->path_len + 1 + 7) & ~(size_t)7;
}

/* Unpack the job at `at` of a batch of `len` bytes; its packed size, or 0 if malformed. */
static size_t unpack_job(const char *batch, size_t len, size_t at, struct job *job)
{
	if (len - at < JOB_HEADER_SIZE)
		return 0;
	memcpy(job, batch + at, JOB_HEADER_SIZE);
	if (job->path_len >= JOB_PATH_MAX || packed_size(job) > len - at)
		return 0;
	memcpy(job->path, batch + at + JOB_HEADER_SIZE, job->path_len + 1);
	job->path[job->path_len] = '\0';
	return packed_size(job);
}

/* --- start and end --- */

/* The signals that stop a run (monitor.c takes them on rank 0). */
static void stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
}

/* Ranks > 0 print nothing themselves: rank 0 owns the terminal. */
static void discard_output(int fd, const char *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
}

int mpi_start(int *argc, char ***argv)
{
	int provided = 0;
	sigset_t stops;

	/*
	 * Blocked before MPI starts its own threads, which inherit the mask:
	 * else mpirun's SIGTERM (it sends one to every rank on SIGINT) lands
	 * in one of them and kills the rank outright, temporaries and all.
	 */
	stop_signals(&stops);
	pthread_sigmask(SIG_BLOCK, &stops, NULL);
	if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
		report_message("cannot start MPI");
		return -1;
	}
	MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &world_size);
	if (provided < MPI_THREAD_SERIALIZED) {
		if (my_rank == 0)
			report_message("this MPI cannot be called from more than one thread "
				       "(MPI_THREAD_SERIALIZED)");
		MPI_Finalize();
		return -1;
	}
	if (my_rank > 0) {
		/* Until mpi_ready, whatever a rank would say rank 0 says too: once. */
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		output_redirect(discard_output);
		if (null >= 0) {
			saved_stderr = dup(STDERR_FILENO);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			close(null);
		}
	}
	return 0;
}

int mpi_rank(void)
{
	return my_rank;
}

int mpi_ready(struct options *o, int ready)
{
	int mine = ready ? world_size : my_rank, first_unready = 0;

	MPI_Allreduce(&mine, &first_unready, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
	if (my_rank > 0 && saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
	if (first_unready < world_size) {
		if (my_rank == 0 && first_unready > 0)
			report_message("rank %d cannot start with these options (are the files "
				       "they name on a shared file system?)",
				       first_unready);
		return -1;
	}
	if (world_size < 2) {
		report_message("pcopy-mpi needs 2 ranks or more (mpirun -np N): rank 0 walks, "
			       "the others copy");
		return -1;
	}
	o->mode = MODE_MPI;
	o->jobs = o->jobs_max = world_size - 1; /* the ranks are the workers: no more */
	o->jobs_adaptive = false;
	serving = 1;
	return 0;
}

void mpi_end(int status)
{
	/*
	 * Stopped by a signal: mpirun is tearing the job down, and would let
	 * MPI_Finalize wait for it until its SIGKILL comes.
	 */
	if (status >= 128)
		return;
	if (my_rank == 0 && serving)
		for (int rank = 1; rank < world_size; rank++)
			MPI_Send(NULL, 0, MPI_BYTE, rank, TAG_END, MPI_COMM_WORLD);
	MPI_Finalize();
}

/* --- rank 0: the forwarder --- */

/* What rank 0 knows of another rank during one SRC. */
struct peer {
	uint64_t sent;              /* jobs sent */
	uint64_t taken;             /* jobs it has taken off its queue (its last report) */
	uint64_t bytes;             /* bytes of the jobs sent and not taken */
	uint64_t entries_measured;  /* its status's queued_entries, added to ours */
	uint64_t bytes_measured;    /* its status's queued_bytes, added to ours */
	int idle;                   /* its last status said it was idle */
	uint64_t job_bytes[WINDOW]; /* bytes of job number n at [n % WINDOW], while not taken */
	int closed;                 /* CLOSE sent: no more jobs */
	int done;                   /* DONE received: it has finished */
};

struct ranks {
	const struct session *s;
	struct peer *peers;       /* by rank; [0] unused */
	struct sends sends;       /* sends in flight */
	int next;                 /* the rank offered the next batch first, less 1 */
	int walk_over;            /* s->queue is closed and empty */
	int aborted;              /* ABORT sent to every rank */
	int give_up;              /* abort at once (the forwarder could not start) */
	pthread_t thread;         /* the forwarder */
	struct broker *broker;    /* who lists which directory for the walker */
	struct receives listings; /* listings being received */
};

/*
 * A rank's slot is busy while it has jobs it has not reported done with:
 * copytree.c waits on that (workers_busy) before it reads the spill back.
 */
static void mark_busy(struct ranks *r, int rank)
{
	const struct peer *p = &r->peers[rank];

	atomic_store(&r->s->shared->slots[rank - 1].busy, !(p->idle && p->taken == p->sent));
}

/* A rank's multiply-linked files, into its slot's region of our spill. */
static void take_spill(struct ranks *r, int rank, const char *msg, size_t len)
{
	const struct session *s = r->s;

	if (s->spill_fd >= 0 &&
	    spill_append(s->spill_fd, rank - 1, &s->shared->slots[rank - 1], msg, len) == 0)
		return;
	report_message("cannot keep the multiply-linked files of rank %d: %s", rank,
		       strerror(s->spill_fd >= 0 ? errno : EBADF));
	atomic_fetch_add(&parent_slot(s)->errors, 1);
}

/* A rank's counters, into its slot (rank k works in slot k-1). */
static void take_status(struct ranks *r, int rank, const char *msg, size_t len)
{
	struct worker_slot *slot = &r->s->shared->slots[rank - 1];
	struct peer *p = &r->peers[rank];
	struct status st;

	if (len != sizeof(st))
		return;
	memcpy(&st, msg, sizeof(st));
	for (; p->taken < st.taken; p->taken++)
		p->bytes -= p->job_bytes[p->taken % WINDOW];
	/* What its worker measured counts into the totals (copytree.c). */
	atomic_fetch_add(&r->s->shared->queued_entries, st.queued_entries - p->entries_measured);
	atomic_fetch_add(&r->s->shared->queued_bytes, st.queued_bytes - p->bytes_measured);
	p->entries_measured = st.queued_entries;
	p->bytes_measured = st.queued_bytes;
	p->idle = (int)st.idle;
	mark_busy(r, rank);
	for (size_t i = 0; i < NCOUNTERS; i++)
		atomic_store(counter_of(slot, i), st.counter[i]);
}

/* Print a rank's output as if it were ours: whole lines, through the usual ways out. */
static void print_lines(const struct session *s, const char *msg, size_t len)
{
	struct line_head head;

	for (size_t at = 0; len - at >= sizeof(head); at += head.len) {
		memcpy(&head, msg + at, sizeof(head));
		at += sizeof(head);
		if (head.len > len - at)
			return;
		if (head.fd == STDOUT_FILENO) {
			if (output_write(msg + at, head.len) < 0 && errno == EPIPE)
				session_stop(s);
		} else {
			char *body = xmalloc(head.len + 1);

			memcpy(body, msg + at, head.len);
			body[head.len] = '\0';
			report_line(body);
			free(body);
		}
	}
}

/* Take what the ranks sent; 1 if anything came. */
static int receive_reports(struct ranks *r)
{
	int any = 0;

	for (int n = 0; n < RECEIVE_BURST; n++) {
		MPI_Status st;
		int flag = 0;
		size_t len;
		char *msg;

		MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
		if (!flag)
			break;
		any = 1;
		if (st.MPI_TAG == TAG_LISTING) {
			receive_async(&r->listings, &st);
			continue;
		}
		msg = receive(&st, &len);
		if (st.MPI_TAG == TAG_LINES)
			print_lines(r->s, msg, len);
		else if (st.MPI_TAG == TAG_SPILL)
			take_spill(r, st.MPI_SOURCE, msg, len);
		else if (st.MPI_TAG == TAG_STATUS || st.MPI_TAG == TAG_DONE)
			take_status(r, st.MPI_SOURCE, msg, len);
		if (st.MPI_TAG == TAG_DONE)
			r->peers[st.MPI_SOURCE].done = 1;
		free(msg);
	}
	return any;
}

/* A listing received: the broker's (receives_reap's `take`). */
static void take_listing(void *ctx, int rank, const char *msg, size_t len)
{
	if (broker_arrived(ctx, rank, msg, len) == 0)
		return;
	/* Another pcopy-mpi on that rank?  Our walker would wait for it forever. */
	report_message("a malformed listing from rank %d", rank);
	MPI_Abort(MPI_COMM_WORLD, 2);
}

/* Send `rank` up to `max` jobs the walker queued; how many were sent. */
static size_t send_batch(struct ranks *r, int rank, size_t max)
{
	struct peer *p = &r->peers[rank];
	char *batch = xmalloc(max * sizeof(struct job));
	size_t len = 0, n = 0;
	struct job job;

	/* Busy before a job leaves the queue, so that workers_busy never misses it. */
	atomic_store(&r->s->shared->slots[rank - 1].busy, 1);
	while (n < max && (p->bytes < BYTES_WINDOW || p->sent == p->taken)) {
		uint64_t bytes;

		if (queue_try_pop(r->s->queue, &job) < 0) {
			r->walk_over = errno == EPIPE;
			break;
		}
		memset(batch + len, 0, packed_size(&job));
		memcpy(batch + len, &job, JOB_HEADER_SIZE + job.path_len + 1);
		len += packed_size(&job);
		n++;
		bytes = job.kind == JOB_REGULAR ? job.st.size : 0;
		p->job_bytes[p->sent++ % WINDOW] = bytes;
		p->bytes += bytes;
	}
	if (n == 0) {
		free(batch);
		mark_busy(r, rank);
		return 0;
	}
	send_async(&r->sends, rank, TAG_JOBS, xrealloc(batch, len), len);
	return n;
}

/*
 * Offer each rank with credit a batch, in turn; 1 if anything was sent.
 * A batch is at most a fair share of what is queued, so that a few big
 * files go to as many ranks, and a rank holding BYTES_WINDOW gets no more
 * until it takes some, so that none sits on files another could copy.
 */
static int dispatch(struct ranks *r)
{
	int workers = r->s->opts->jobs;
	size_t share = queue_length(r->s->queue) / (size_t)workers + 1;
	int any = 0;

	for (int i = 0; i < workers && !r->walk_over; i++) {
		int rank = 1 + (r->next + i) % workers;
		struct peer *p = &r->peers[rank];
		size_t max = WINDOW - (size_t)(p->sent - p->taken);

		if (max > BATCH)
			max = BATCH;
		if (max > share)
			max = share;
		if (max == 0 || (p->bytes >= BYTES_WINDOW && p->sent != p->taken))
			continue;
		if (send_batch(r, rank, max) == 0 && !r->walk_over &&
		    queue_length(r->s->queue) == 0)
			break; /* nothing queued */
		any = 1;
	}
	r->next = (r->next + 1) % workers;
	return any;
}

/* Send each rank the directories the broker has for it to list; 1 if any went. */
static int hand_out_listings(struct ranks *r)
{
	int any = 0;

	for (int rank = 1; rank <= r->s->opts->jobs; rank++) {
		size_t len;
		char *paths = broker_next_batch(r->broker, rank, &len);

		if (paths != NULL) {
			send_async(&r->sends, rank, TAG_LIST, paths, len);
			any = 1;
		}
	}
	return any;
}

/* Tell every rank not told yet that there is nothing more (`tag`: CLOSE or ABORT). */
static void tell_all(struct ranks *r, int tag)
{
	for (int rank = 1; rank <= r->s->opts->jobs; rank++) {
		if (tag == TAG_CLOSE && r->peers[rank].closed)
			continue;
		send_async(&r->sends, rank, tag, NULL, 0);
		r->peers[rank].closed = 1;
	}
}

static int all_done(const struct ranks *r)
{
	for (int rank = 1; rank <= r->s->opts->jobs; rank++)
		if (!r->peers[rank].done)
			return 0;
	return 1;
}

/* The forwarder: walker's queue out, reports in, until every rank is done. */
static void *forward_main(void *arg)
{
	struct ranks *r = arg;
	struct idle idle = { 0 };

	while (!all_done(r)) {
		int busy = receive_reports(r);

		busy |= receives_reap(&r->listings, 0, take_listing, r->broker);
		if (!r->aborted && (r->give_up || atomic_load(&r->s->shared->stop))) {
			tell_all(r, TAG_ABORT);
			broker_close(r->broker); /* the walker must not wait for a listing */
			r->aborted = 1;
		}
		if (!r->aborted && !r->walk_over)
			busy |= hand_out_listings(r) | dispatch(r);
		if (!r->aborted && r->walk_over)
			tell_all(r, TAG_CLOSE);
		busy |= sends_reap(&r->sends);
		idle_pause(&idle, busy);
	}
	/* A rank sends its listings before its DONE: all are being received. */
	receives_reap(&r->listings, 1, take_listing, r->broker);
	sends_finish(&r->sends);
	return NULL;
}

/* Report that `rank` does not see `path` as rank 0 does. */
static void report_other_root(int rank, const char *path, const struct ready *a)
{
	char reason[256];

	if (a->err != 0)
		snprintf(reason, sizeof(reason), "rank %d cannot open it: %s", rank,
			 strerror(a->err));
	else
		snprintf(reason, sizeof(reason),
			 "rank %d sees another directory here (every rank needs the same SRC "
			 "and DST, on a shared file system)",
			 rank);
	report_path_error(path, reason);
}

/*
 * A file system's statfs f_fsid, or 0 when it gives none.  Unlike st_dev,
 * which the kernel numbers per machine (an NFS or Lustre mount gets a
 * number of its own on each client), f_fsid names the file system itself
 * on network file systems (from the server) and on local ones (from the
 * device or UUID).
 */
static uint64_t fsid_of(int fd)
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
static int same_root(const struct stat *st, uint64_t fsid, const struct stat *want,
		     uint64_t want_fsid)
{
	if (st->st_ino != want->st_ino)
		return 0;
	return st->st_dev == want->st_dev || (want_fsid != 0 && fsid == want_fsid);
}

/* BEGIN to every rank, their READY back, then GO (or not); 0 when all are ready. */
static int begin_all(struct ranks *r)
{
	const struct session *s = r->s;
	size_t src_len = strlen(s->src_display), dst_len = strlen(s->dst_display);
	size_t len = sizeof(struct begin) + src_len + dst_len + 2;
	char *msg = xcalloc(1, len);
	struct begin b = { .umask = (uint32_t)s->umask,
			   .src_len = (uint32_t)src_len,
			   .spill = s->spill_fd >= 0,
			   .flags = (s->opts->dereference ? BEGIN_FOLLOW : 0) |
				    (s->worker_stats ? BEGIN_LAZY_REGULAR : 0) |
				    (s->opts->dry_run ? BEGIN_NO_DST : 0) };
	struct stat src, dst = { 0 };
	int go = fstat(s->src_root, &src) == 0 &&
		 (s->opts->dry_run || fstat(s->dst_root, &dst) == 0);

	if (go) {
		b.src_dev = src.st_dev, b.src_ino = src.st_ino;
		b.dst_dev = dst.st_dev, b.dst_ino = dst.st_ino;
		b.src_fsid = fsid_of(s->src_root);
		b.dst_fsid = s->opts->dry_run ? 0 : fsid_of(s->dst_root);
	}
	memcpy(msg, &b, sizeof(b));
	memcpy(msg + sizeof(b), s->src_display, src_len + 1);
	memcpy(msg + sizeof(b) + src_len + 1, s->dst_display, dst_len + 1);
	for (int rank = 1; rank <= s->opts->jobs; rank++)
		MPI_Send(msg, (int)len, MPI_BYTE, rank, TAG_BEGIN, MPI_COMM_WORLD);
	free(msg);
	for (int rank = 1; rank <= s->opts->jobs; rank++) {
		struct ready a;

		MPI_Recv(&a, sizeof(a), MPI_BYTE, rank, TAG_READY, MPI_COMM_WORLD,
			 MPI_STATUS_IGNORE);
		if (a.root != ROOT_NONE && go)
			report_other_root(rank,
					  a.root == ROOT_SRC ? s->src_display : s->dst_display, &a);
		go = go && a.root == ROOT_NONE;
	}
	for (int rank = 1; rank <= s->opts->jobs; rank++)
		MPI_Send(&go, 1, MPI_INT, rank, TAG_GO, MPI_COMM_WORLD);
	return go ? 0 : -1;
}

/*
 * The broker of one SRC: the other ranks list its directories, unless
 * PCOPY_FORCE=walker_lists (for comparison) or --files-from (walk.c reads
 * only the listed paths).
 */
static struct broker *start_broker(const struct session *s)
{
	struct broker_config c = {
		.listers = s->opts->jobs,
		.enabled = !(s->force & FORCE_WALKER_LISTS) && s->list == NULL,
		.root = s->src_root,
		.one_file_system = s->opts->one_file_system,
		.filter = s->filter,
		.slot = parent_slot(s),
	};

	return broker_create(&c);
}

struct ranks *ranks_start(const struct session *s)
{
	struct ranks *r = xcalloc(1, sizeof(*r));
	int rc;

	r->s = s;
	r->broker = start_broker(s);
	r->peers = xcalloc((size_t)s->opts->jobs + 1, sizeof(*r->peers));
	for (int rank = 1; rank <= s->opts->jobs; rank++)
		r->peers[rank].idle = 1; /* nothing sent yet */
	if (begin_all(r) < 0) {
		ranks_free(r);
		errno = 0; /* reported */
		return NULL;
	}
	rc = pthread_create(&r->thread, NULL, forward_main, r);
	if (rc != 0) {
		/* The ranks have started: stop them here and now. */
		r->give_up = 1;
		forward_main(r);
		ranks_free(r);
		errno = rc;
		return NULL;
	}
	return r;
}

void ranks_wait(struct ranks *r)
{
	pthread_join(r->thread, NULL);
}

const struct walk_source *ranks_listing(struct ranks *r)
{
	return broker_source(r->broker);
}

void ranks_free(struct ranks *r)
{
	if (r == NULL)
		return;
	broker_free(r->broker);
	free(r->peers);
	free(r);
}

/* --- ranks > 0: serving --- */

/*
 * This rank's output, waiting to go to rank 0.  One LINES message is in
 * flight at a time; while it is, the worker that fills the outbox past
 * OUTBOX_MAX waits, so a slow reader of rank 0's output slows the copy
 * down instead of filling memory.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t taken; /* the outbox was emptied into a message */
	char *buf;            /* struct line_head, bytes, ... */
	size_t len, cap;
	pthread_t server; /* the thread that sends it: it never waits */
} outbox = { .lock = PTHREAD_MUTEX_INITIALIZER, .taken = PTHREAD_COND_INITIALIZER };

/* The output sink of ranks > 0. */
static void to_outbox(int fd, const char *buf, size_t len)
{
	struct line_head head = { (uint32_t)fd, (uint32_t)len };

	pthread_mutex_lock(&outbox.lock);
	while (outbox.len >= OUTBOX_MAX && !pthread_equal(pthread_self(), outbox.server))
		pthread_cond_wait(&outbox.taken, &outbox.lock);
	if (outbox.len + sizeof(head) + len > outbox.cap) {
		outbox.cap = 2 * (outbox.len + sizeof(head) + len);
		outbox.buf = xrealloc(outbox.buf, outbox.cap);
	}
	memcpy(outbox.buf + outbox.len, &head, sizeof(head));
	memcpy(outbox.buf + outbox.len + sizeof(head), buf, len);
	outbox.len += sizeof(head) + len;
	pthread_mutex_unlock(&outbox.lock);
}

/*
 * Send what the outbox holds to rank 0, unless the last of these sends
 * (in `q`, for lines only) is still in flight; 1 if something was sent.
 */
static int send_lines(struct sends *q)
{
	char *buf;
	size_t len;

	sends_reap(q);
	if (q->count > 0)
		return 0;
	pthread_mutex_lock(&outbox.lock);
	buf = outbox.buf;
	len = outbox.len;
	outbox.buf = NULL;
	outbox.len = outbox.cap = 0;
	pthread_cond_broadcast(&outbox.taken);
	pthread_mutex_unlock(&outbox.lock);
	if (len == 0) {
		free(buf);
		return 0;
	}
	send_async(q, 0, TAG_LINES, buf, len);
	return 1;
}

/* Send this rank's counters, jobs taken and idleness (TAG_STATUS or TAG_DONE). */
static void send_status(struct sends *q, const struct session *s, uint64_t taken, int idle, int tag)
{
	struct status st = {
		.taken = taken,
		.queued_entries = atomic_load(&s->shared->queued_entries),
		.queued_bytes = atomic_load(&s->shared->queued_bytes),
		.idle = (uint32_t)idle,
	};

	for (size_t i = 0; i < NCOUNTERS; i++)
		st.counter[i] = atomic_load(counter_of(&s->shared->slots[0], i));
	send_copy(q, 0, tag, &st, sizeof(st));
}

/* Open a root as rank 0 did; its fd, or -1 with a->err set. */
static int open_root(const char *path, int flags, const struct stat *want, uint64_t want_fsid,
		     enum root which, struct ready *a)
{
	const char *other = getenv("PCOPY_TEST_OTHER_ROOT"); /* test hook: "RANK" */
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | flags);
	struct stat st;

	if (a->root != ROOT_NONE)
		return fd;
	if (fd < 0 || fstat(fd, &st) < 0) {
		a->root = which;
		a->err = errno;
	} else if (!same_root(&st, fsid_of(fd), want, want_fsid) ||
		   (which == ROOT_DST && other != NULL && atoi(other) == my_rank)) {
		a->root = which;
	}
	return fd;
}

/*
 * Has mpirun passed on a stop signal (it sends SIGTERM to every rank on
 * SIGINT or SIGTERM)?  They are blocked in ranks > 0 (mpi_serve) and taken
 * here, so the worker stops as in the other modes: the entry in hand is
 * dropped and its temporary removed.
 */
static int stop_signal_taken(void)
{
	static const struct timespec now = { 0, 0 };
	sigset_t stops;
	int sig;

	stop_signals(&stops);
	sig = sigtimedwait(&stops, NULL, &now);
	if (sig > 0 && stop_signal == 0)
		stop_signal = sig;
	return sig > 0;
}

/* A rank's side of one source, between GO and DONE. */
struct server {
	struct session *s;
	struct sends sends;       /* reports in flight */
	struct sends lines;       /* the LINES message in flight */
	uint64_t pushed;          /* jobs received and queued */
	uint64_t reported;        /* jobs taken, as last told rank 0 */
	int reported_idle;        /* idleness, as last told rank 0 */
	uint64_t spill_sent;      /* bytes of this rank's spill region sent to rank 0 */
	double last;              /* when rank 0 was last told */
	int closed;               /* CLOSE or ABORT came: no more jobs */
	struct walk_options walk; /* how rank 0 walks: how to list for it */
	char *dirbuf;             /* for the directory being listed (dirstream.h) */
};

/* Queue the jobs of a batch (never waits: WINDOW bounds what rank 0 sends). */
static void queue_batch(struct server *sv, const char *batch, size_t len)
{
	struct job job;
	size_t n;

	for (size_t at = 0; (n = unpack_job(batch, len, at, &job)) > 0; at += n)
		sv->pushed += queue_push(sv->s->queue, &job) == 0;
	/* A push wakes the worker only once a few jobs wait: no more may come. */
	queue_flush(sv->s->queue);
}

/* List the directories of a LIST message for rank 0's walker: one LISTING. */
static void list_directories(struct server *sv, const char *paths, size_t len)
{
	struct worker_slot *slot = &sv->s->shared->slots[0];
	struct lister_reply reply = { .dev_here = src_dev_here, .dev_rank0 = src_dev_rank0 };

	if (len == 0 || paths[len - 1] != '\0') {
		/* Another pcopy-mpi on rank 0?  Its walker would wait for us forever. */
		report_message("rank %d: a malformed LIST message", my_rank);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	for (size_t at = 0; at < len; at += strlen(paths + at) + 1)
		lister_read(sv->s->src_root, &sv->walk, paths + at, sv->dirbuf, &reply);
	send_async(&sv->sends, 0, TAG_LISTING, reply.buf, reply.len);
	/* A reply is past MPI's eager size: rank 0's receive waits for us to
	 * move it on, so do that before reading more. */
	sends_reap(&sv->sends);
	atomic_fetch_add(&slot->dirs_listed, reply.dirs);
	atomic_fetch_add(&slot->entries_listed, reply.entries);
}

/* Take what rank 0 sent: jobs, directories to list, CLOSE or ABORT; 1 if anything came. */
static int take_orders(struct server *sv)
{
	MPI_Status st;
	int flag = 0, any = 0;

	while (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), flag) {
		size_t len;
		char *msg = receive(&st, &len);

		if (st.MPI_TAG == TAG_JOBS)
			queue_batch(sv, msg, len);
		else if (st.MPI_TAG == TAG_LIST)
			list_directories(sv, msg, len);
		else if (st.MPI_TAG == TAG_ABORT)
			session_stop(sv->s);
		else if (st.MPI_TAG == TAG_CLOSE)
			queue_close(sv->s->queue);
		sv->closed |= st.MPI_TAG == TAG_ABORT || st.MPI_TAG == TAG_CLOSE;
		free(msg);
		any = 1;
		/* Reading took a while: report, send lines, look for a stop first. */
		if (st.MPI_TAG == TAG_LIST)
			break;
	}
	return any;
}

/* Send rank 0 what the worker added to this rank's spill region since last time. */
static void forward_spill(struct server *sv)
{
	const struct session *s = sv->s;
	size_t len;
	char *records;

	if (s->spill_fd < 0)
		return;
	errno = 0;
	records = spill_take(s->spill_fd, 0, &s->shared->slots[0], sv->spill_sent, &len);
	if (records == NULL && errno != 0) {
		/* Rank 0 would never learn of these files: end the job. */
		report_message("rank %d cannot read its multiply-linked files: %s", my_rank,
			       strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	if (records == NULL)
		return;
	sv->spill_sent += len;
	if (src_dev_here != src_dev_rank0)
		spill_map_dev(records, len, src_dev_here, src_dev_rank0);
	send_async(&sv->sends, 0, TAG_SPILL, records, len);
}

/*
 * Tell rank 0 how many jobs the worker has taken (its credit back) once a
 * part of a batch is, or sooner when the queue runs low; whether it is
 * idle when that changes, after what it spilled (copytree.c waits for the
 * workers to be idle, then reads the spill); and the counters for
 * progress every STATUS_INTERVAL anyway.
 */
static void report_progress(struct server *sv, size_t queued)
{
	uint64_t taken = sv->pushed - queued;
	/* Read before the spill: a worker publishes its spill before it is not busy. */
	int idle = queued == 0 && !atomic_load(&sv->s->shared->slots[0].busy);

	forward_spill(sv);
	if (taken - sv->reported >= BATCH / 2 || (taken > sv->reported && queued < BATCH / 2) ||
	    idle != sv->reported_idle || monotonic_seconds() - sv->last >= STATUS_INTERVAL) {
		sv->reported = taken;
		sv->reported_idle = idle;
		sv->last = monotonic_seconds();
		send_status(&sv->sends, sv->s, taken, idle, TAG_STATUS);
	}
}

/*
 * --fsync: the names this rank's worker made are durable once its own view
 * of DST's file system is synced (on another node, rank 0's syncfs does not
 * reach them); before DONE, so that a failure is counted and its line
 * arrives first.
 */
static void sync_written(struct session *s)
{
	char reason[256];

	if (!s->opts->fsync || s->opts->dry_run || syncfs(s->dst_root) == 0)
		return;
	snprintf(reason, sizeof(reason), "rank %d cannot sync to stable storage: %s", my_rank,
		 strerror(errno));
	report_path_error(s->dst_display, reason);
	atomic_fetch_add(&s->shared->slots[0].errors, 1);
}

/*
 * One source's jobs (and directories to list, read with rank 0's
 * flags): receive, queue, report, until rank 0 closes and all are done.
 */
static void serve_jobs(struct session *s, uint32_t flags)
{
	struct server sv = { .s = s,
			     .walk = { .follow = (flags & BEGIN_FOLLOW) != 0,
				       .lazy_regular = (flags & BEGIN_LAZY_REGULAR) != 0 },
			     .dirbuf = dirstream_buffer() };
	struct idle idle = { 0 };
	double last_signal_look = 0;
	struct pool *pool;

	s->queue = queue_create(WINDOW, QUEUE_PRIVATE);
	pool = s->queue != NULL ? pool_start(s) : NULL;
	if (pool == NULL) {
		/* Rank 0 would wait for this rank forever: end the job. */
		report_message("rank %d cannot start its worker: %s", my_rank, strerror(errno));
		send_lines(&sv.lines);
		sends_finish(&sv.lines);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	for (;;) {
		int busy = take_orders(&sv);
		double now = monotonic_seconds();
		size_t queued;

		/* Looking costs a system call: a few times in a stop's reaction time. */
		if (now - last_signal_look >= SIGNAL_INTERVAL) {
			last_signal_look = now;
			if (stop_signal_taken())
				session_stop(s);
		}
		queued = queue_length(s->queue);
		/* Closed, drained, and the worker holds nothing (queue_pop sets busy first). */
		if (sv.closed && queued == 0 && !atomic_load(&s->shared->slots[0].busy))
			break;
		busy |= send_lines(&sv.lines);
		report_progress(&sv, queued);
		busy |= sends_reap(&sv.sends);
		/*
		 * Each wake-up takes the CPU from a worker (ranks share the CPUs):
		 * while ours has plenty to do, wake seldom.
		 */
		idle.max_us = queued >= FED ? IDLE_FED_US : IDLE_MAX_US;
		idle_pause(&idle, busy && queued < FED);
	}
	pool_wait(pool);
	pool_free(pool);
	queue_destroy(s->queue);
	s->queue = NULL;
	sync_written(s);
	/* The last lines, then DONE: MPI keeps their order. */
	sends_finish(&sv.lines);
	send_lines(&sv.lines);
	forward_spill(&sv);
	send_status(&sv.sends, s, sv.pushed, 1, TAG_DONE);
	sends_finish(&sv.lines);
	sends_finish(&sv.sends);
	free(sv.dirbuf);
}

/*
 * A source begins: what this rank's worker measures (JOB_UNSTATED) is
 * counted afresh, and with `spill` the multiply-linked files it finds go
 * to a spill file of its own, whose records forward_spill sends on.
 */
static void start_measures(struct session *s, int spill)
{
	atomic_store(&s->shared->queued_entries, 0);
	atomic_store(&s->shared->queued_bytes, 0);
	atomic_store(&s->shared->slots[0].spilled, 0);
	s->spill_fd = spill ? spill_create() : -1;
	if (spill && s->spill_fd < 0) {
		/* Its worker would copy them apart, not as links: end the job. */
		report_message("rank %d cannot make its spill file: %s", my_rank, strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
}

/* A BEGIN: open the same roots, say whether they are, and on GO serve the jobs. */
static void serve_source(struct session *s, const char *msg, size_t len)
{
	struct ready a = { ROOT_NONE, 0 };
	struct stat src = { 0 }, dst = { 0 }, here;
	const char *src_path, *dst_path;
	struct begin b;
	size_t go_len;
	int tag = 0;
	char *go;

	memcpy(&b, msg, len < sizeof(b) ? len : sizeof(b));
	if (len < sizeof(b) + 2 || b.src_len > len - sizeof(b) - 2 || msg[len - 1] != '\0') {
		/* Another pcopy-mpi on rank 0?  Rank 0 would wait for us forever. */
		report_message("rank %d: a malformed BEGIN message", my_rank);
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	src_path = msg + sizeof(b);
	dst_path = src_path + b.src_len + 1;
	src.st_dev = b.src_dev, src.st_ino = b.src_ino;
	dst.st_dev = b.dst_dev, dst.st_ino = b.dst_ino;
	s->umask = (mode_t)b.umask;
	s->plan.umask = s->umask;
	s->src_display = src_path;
	s->dst_display = dst_path;
	s->src_root = open_root(src_path, 0, &src, b.src_fsid, ROOT_SRC, &a);
	s->dst_root = b.flags & BEGIN_NO_DST
			      ? -1
			      : open_root(dst_path, O_NOFOLLOW, &dst, b.dst_fsid, ROOT_DST, &a);
	/* What this node calls SRC's device is rank 0's number for it (spill, listings). */
	src_dev_here = s->src_root >= 0 && fstat(s->src_root, &here) == 0 ? here.st_dev : 0;
	src_dev_rank0 = b.src_dev;
	MPI_Send(&a, sizeof(a), MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
	go = next_from_rank0(&tag, &go_len);
	if (tag == TAG_GO && go_len == sizeof(int) && *(int *)(void *)go) {
		start_measures(s, b.spill);
		linkdest_open_roots(s, dst_path, 1);
		serve_jobs(s, b.flags);
		linkdest_close_roots(s);
		if (s->spill_fd >= 0)
			close(s->spill_fd);
		s->spill_fd = -1;
	}
	free(go);
	close_both(s->src_root, s->dst_root);
}

int mpi_serve(const struct options *o, const struct filter *filter, const struct filelist *list,
	      unsigned force)
{
	struct options mine = *o;
	struct session s = {
		.opts = &mine,
		.filter = filter,
		.list = list,
		.force = force,
		.spill_fd = -1, /* per source: start_measures */
	};

	/* One worker thread per rank: the ranks are the workers. */
	mine.jobs = mine.jobs_max = 1;
	mine.jobs_adaptive = false;
	mine.mode = MODE_THREAD;
	s.shared = shared_state_create(mine.jobs_max, 0);
	if (s.shared == NULL) {
		report_message("rank %d cannot map its state: %s", my_rank, strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	copy_set_force(s.shared, force);
	session_ids_init(&s);
	outbox.server = pthread_self();
	output_redirect(to_outbox);
	for (;;) {
		int tag = 0;
		size_t len;
		char *msg = next_from_rank0(&tag, &len);

		if (tag == TAG_BEGIN)
			serve_source(&s, msg, len);
		free(msg);
		if (tag == TAG_END)
			break;
	}
	output_redirect(NULL);
	session_ids_free(&s);
	shared_state_destroy(s.shared);
	return stop_signal != 0 ? 128 + stop_signal : 0;
}
