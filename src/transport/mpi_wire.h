/*
 * mpi_wire.h - pcopy-mpi's messages, and the ways of sending and
 * receiving them that rank 0's forwarder (mpi_forward.c) and the other
 * ranks (mpi_serve.c) share.  mpi.h has the picture.
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
 *	k -> 0  SPILL   the multiply-linked files it measured (run/spill.h),
 *	k -> 0  LINES   and its output, while it works
 *	0 -> k  CLOSE   the walk is over (or ABORT: stop, drop what is queued)
 *	k -> 0  DONE    its last counters: it has finished
 *
 * and, at any time between GO and CLOSE, the listing of directories for
 * rank 0's walker (walk/broker.h):
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
 * Memory stays flat whatever the tree and the number of ranks.  Rank 0
 * sends a rank at most WINDOW jobs it has not yet taken off its queue,
 * and that queue holds WINDOW; a rank holds at most OUTBOX_MAX of output
 * (mpi_serve.c) and one reply of listings (walk/broker.h, LISTING_MAX);
 * rank 0's broker holds what broker.c bounds.  What grows with the tree
 * grows in every mode, on rank 0 as in pcopy: the names of the
 * directories, kept for the last metadata pass, and those of the
 * multiply-linked files, kept to link them (those the workers find are
 * spilled to an anonymous file first: run/spill.h).
 */
#ifndef PCOPY_MPI_WIRE_H
#define PCOPY_MPI_WIRE_H

#include <mpi.h>

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/job.h"
#include "core/session.h"

#define BATCH 64 /* jobs in one message, at most */
/*
 * and their bytes: under Open MPI's shared-memory eager limit
 * (btl_vader_eager_limit, 4 KiB with its header), a batch is copied out
 * at once, and its send is done without a rendezvous.
 */
#define BATCH_BYTES 3840
/*
 * Jobs sent to a rank that it has not taken yet: some 25 ms of copying
 * small files, so that neither rank 0 nor the rank's own loop, waiting
 * for a CPU on a busy node, leaves its worker without work.  Its queue
 * holds as many (4 MiB).
 */
#define WINDOW (16 * BATCH)
#define BYTES_WINDOW (16 << 20) /* and their bytes, past the first job */
#define IDLE_MIN_US 20          /* first sleep of an idle loop */
#define IDLE_MAX_US 250         /* longest, while copying */

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

/* The counters of a slot a rank reports, in message order (mpi_wire.c). */
#define NCOUNTERS 27

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

/*
 * The sends in flight of one loop, each with the buffer it owns until it
 * completes.  The requests are kept apart, in one array, so that a look
 * at all of them is one MPI_Testsome: one turn of MPI's progress engine,
 * which on an oversubscribed node yields the CPU each time it finds
 * nothing to do.
 */
struct sends {
	MPI_Request *req;
	void **buf; /* malloc'd */
	size_t count, cap;
};

/*
 * A receive in flight.  A listing is past MPI's eager size, so a blocking
 * receive of one would wait (spinning, in Open MPI) until its sender,
 * busy reading the next directory, moves it on: rank 0 takes listings
 * with MPI_Irecv and finishes them in its loop instead.
 */
struct incoming {
	char *buf; /* malloc'd, `len` bytes */
	size_t len;
	int rank; /* the sender */
};

/* The receives in flight of one loop (requests apart, as in struct sends). */
struct receives {
	MPI_Request *req;
	struct incoming *v;
	size_t count, cap;
};

/* An idle loop's sleep: short after work, doubling while there is none. */
struct idle {
	long us;     /* the next sleep */
	long max_us; /* the longest: IDLE_MAX_US if 0 */
};

/* The counter i of `slot` (i < NCOUNTERS, in the order STATUS carries them). */
_Atomic uint64_t *mpi_counter_of(struct worker_slot *slot, size_t i);

/* Send `len` bytes of `buf` (malloc'd, owned by the send from now on) to `rank`. */
void mpi_send_async(struct sends *q, int rank, int tag, void *buf, size_t len);

/* Send a copy of a small message. */
void mpi_send_copy(struct sends *q, int rank, int tag, const void *msg, size_t len);

/* Free the buffers of the sends that completed; 1 if any did. */
int mpi_sends_reap(struct sends *q);

/* Wait for every send (its receiver is polling), then free them. */
void mpi_sends_finish(struct sends *q);

/* Receive the message `st` announced; a malloc'd buffer of *len bytes. */
char *mpi_receive(const MPI_Status *st, size_t *len);

/* Start receiving the message `st` announced. */
void mpi_receive_async(struct receives *q, const MPI_Status *st);

/*
 * Hand each receive that completed (every one, waiting, with `wait`) to
 * `take`, then free it; 1 if any did.
 */
int mpi_receives_reap(struct receives *q, int wait,
		      void (*take)(void *ctx, int rank, const char *msg, size_t len), void *ctx);

/* Sleep as an idle loop does (`busy`: there was work, start short again). */
void mpi_idle_pause(struct idle *d, int busy);

/*
 * Bytes a job takes in a batch: its kind, path length and sequence, its
 * stat (unless JOB_UNSTATED, whose stat is zero) and its path, rounded to
 * keep the next aligned.
 */
size_t mpi_packed_size(const struct job *job);

/* Pack `job` at `out` (mpi_packed_size bytes); their number. */
size_t mpi_pack_job(const struct job *job, char *out);

/* Unpack the job at `at` of a batch of `len` bytes; its packed size, or 0 if malformed. */
size_t mpi_unpack_job(const char *batch, size_t len, size_t at, struct job *job);

/*
 * A file system's statfs f_fsid, or 0 when it gives none: unlike st_dev,
 * the same number on every machine that mounts it.
 */
uint64_t mpi_fsid_of(int fd);

/*
 * Is `st` (on file system `fsid`) the root rank 0 opened?  The same inode
 * on the same device, or, across machines, on a file system with the same
 * f_fsid.
 */
int mpi_same_root(const struct stat *st, uint64_t fsid, const struct stat *want,
		  uint64_t want_fsid);

/* The signals that stop a run (the monitor takes them on rank 0). */
void mpi_stop_signals(sigset_t *set);

#endif
