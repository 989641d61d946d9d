/*
 * mpi_forward.c - pcopy-mpi, rank 0: the other ranks as its workers (the
 * MPI worker kind, core/kind.h).  A forwarder thread pops the walker's
 * queue and sends the jobs to ranks 1..N-1 in batches, never more than
 * WINDOW jobs in flight per rank (credit), takes what they report back
 * (counters into their slots, output lines to print, multiply-linked files
 * into the spill), and hands out directories for them to list for the
 * walker (walk/broker.h).
 */
#include "transport/mpi.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "core/kind.h"
#include "core/queue.h"
#include "report/message.h"
#include "report/output.h"
#include "run/spill.h"
#include "transport/mpi_wire.h"
#include "walk/broker.h"

#define RECEIVE_BURST 64 /* messages taken in one go before sending again */

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
	_Atomic int joined;       /* it has ended and been joined */
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
		atomic_store(mpi_counter_of(slot, i), st.counter[i]);
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
			mpi_receive_async(&r->listings, &st);
			continue;
		}
		msg = mpi_receive(&st, &len);
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

/* A listing received: the broker's (mpi_receives_reap's `take`). */
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
	/* BATCH_BYTES, passed by the last job at most (a long path). */
	char *batch = xmalloc(BATCH_BYTES + sizeof(struct job));
	size_t len = 0, n = 0;
	struct job job;

	/* Busy before a job leaves the queue, so that workers_busy never misses it. */
	atomic_store(&r->s->shared->slots[rank - 1].busy, 1);
	while (n < max && len < BATCH_BYTES && (p->bytes < BYTES_WINDOW || p->sent == p->taken)) {
		uint64_t bytes;

		if (queue_try_pop(r->s->queue, &job) < 0) {
			r->walk_over = errno == EPIPE;
			break;
		}
		len += mpi_pack_job(&job, batch + len);
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
	mpi_send_async(&r->sends, rank, TAG_JOBS, xrealloc(batch, len), len);
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
			mpi_send_async(&r->sends, rank, TAG_LIST, paths, len);
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
		mpi_send_async(&r->sends, rank, tag, NULL, 0);
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

		busy |= mpi_receives_reap(&r->listings, 0, take_listing, r->broker);
		if (!r->aborted && (r->give_up || atomic_load(&r->s->shared->stop))) {
			tell_all(r, TAG_ABORT);
			broker_close(r->broker); /* the walker must not wait for a listing */
			r->aborted = 1;
		}
		if (!r->aborted && !r->walk_over)
			busy |= hand_out_listings(r) | dispatch(r);
		if (!r->aborted && r->walk_over)
			tell_all(r, TAG_CLOSE);
		busy |= mpi_sends_reap(&r->sends);
		mpi_idle_pause(&idle, busy);
	}
	/* A rank sends its listings before its DONE: all are being received. */
	mpi_receives_reap(&r->listings, 1, take_listing, r->broker);
	mpi_sends_finish(&r->sends);
	atomic_store(&parent_slot(r->s)->peak_rss_kib, peak_rss_kib());
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
		b.src_fsid = mpi_fsid_of(s->src_root);
		b.dst_fsid = s->opts->dry_run ? 0 : mpi_fsid_of(s->dst_root);
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

static void ranks_free(struct ranks *r);

/* mpi_kind's open: the ranks begin the source, the forwarder starts. */
static void *ranks_start(const struct session *s, int capacity)
{
	struct ranks *r = xcalloc(1, sizeof(*r));
	int rc;

	(void)capacity; /* the ranks there are: s->opts->jobs */
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

/* Rank index+1 runs already: there is nothing to start. */
static int rank_start(void *state, int index)
{
	(void)state;
	(void)index;
	return 0;
}

/*
 * Every rank has ended once the forwarder has: it leaves when all said
 * DONE.  Only pool_wait waits (joins it); asked before, a rank is running.
 */
static int rank_ended(void *state, int index, int block, int *status)
{
	struct ranks *r = state;

	(void)index;
	if (block && !r->joined) {
		pthread_join(r->thread, NULL);
		atomic_store(&r->joined, 1);
	}
	*status = 0;
	return atomic_load(&r->joined);
}

static const struct walk_source *ranks_listing(void *state)
{
	return broker_source(((struct ranks *)state)->broker);
}

static void ranks_free(struct ranks *r)
{
	if (r == NULL)
		return;
	broker_free(r->broker);
	free(r->peers);
	free(r);
}

static void ranks_close(void *state)
{
	ranks_free(state);
}

const struct worker_kind mpi_kind = {
	.name = "mpi",
	.unit = "rank",
	.flags = KIND_LISTS,
	.open = ranks_start,
	.start = rank_start,
	.ended = rank_ended,
	.listing = ranks_listing,
	.close = ranks_close,
};
