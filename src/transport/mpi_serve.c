/*
 * mpi_serve.c - pcopy-mpi, ranks other than 0: each serves rank 0's
 * sources with one worker thread of its own, running worker_main on the
 * jobs rank 0 sends, and reads directories for rank 0's walker.
 */
#include "transport/mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/dirstream.h"
#include "base/util.h"
#include "copy/copy.h"
#include "copy/data.h"
#include "copy/durable.h"
#include "core/queue.h"
#include "core/session.h"
#include "dst/dst.h"
#include "report/message.h"
#include "report/output.h"
#include "run/kinds.h"
#include "run/pool.h"
#include "run/spill.h"
#include "sync/update.h"
#include "transport/mpi_wire.h"
#include "walk/broker.h"
#include "walk/walk.h"

#define STATUS_INTERVAL 0.05  /* seconds between two reports of a busy rank */
#define IDLE_FED_US 1000      /* longest, while a rank's worker has FED jobs queued */
#define FED (WINDOW / 4)      /* a millisecond of copying even of empty files */
#define SIGNAL_INTERVAL 0.005 /* seconds between two looks for a stop signal */
#define WAIT_MAX_US 10000     /* longest, waiting for a source to begin */
#define OUTBOX_MAX (1 << 20)  /* bytes of output a rank holds before its worker waits */

static int stop_signal; /* the stop signal taken, or 0 */
/* During a source: SRC's device as this node numbers it, and as rank 0 does. */
static uint64_t src_dev_here, src_dev_rank0;

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
		mpi_idle_pause(&idle, 0);
	}
	*tag = st.MPI_TAG;
	return mpi_receive(&st, len);
}

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

	mpi_sends_reap(q);
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
	mpi_send_async(q, 0, TAG_LINES, buf, len);
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

	if (tag == TAG_DONE) /* the rank's peak: its process holds no more later */
		atomic_store(&s->shared->slots[0].peak_rss_kib, peak_rss_kib());
	for (size_t i = 0; i < NCOUNTERS; i++)
		st.counter[i] = atomic_load(mpi_counter_of(&s->shared->slots[0], i));
	mpi_send_copy(q, 0, tag, &st, sizeof(st));
}

/*
 * Is the root this rank opened as `fd` (-1: it could not, errno says why)
 * the one rank 0 opened?  Else a->root says which is not, and a->err why.
 */
static void check_root(int fd, const struct stat *want, uint64_t want_fsid, enum root which,
		       struct ready *a)
{
	const char *other = getenv("PCOPY_TEST_OTHER_ROOT"); /* test hook: "RANK" */
	struct stat st;

	if (a->root != ROOT_NONE)
		return;
	if (fd < 0 || fstat(fd, &st) < 0) {
		a->root = which;
		a->err = errno;
	} else if (!mpi_same_root(&st, mpi_fsid_of(fd), want, want_fsid) ||
		   (which == ROOT_DST && other != NULL && atoi(other) == mpi_rank())) {
		a->root = which;
	}
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

	mpi_stop_signals(&stops);
	sig = sigtimedwait(&stops, NULL, &now);
	if (sig > 0 && stop_signal == 0)
		stop_signal = sig;
	return sig > 0;
}

/* A rank's side of one source, between GO and DONE. */
struct server {
	struct session *s;
	struct sends sends;        /* reports in flight */
	struct sends lines;        /* the LINES message in flight */
	uint64_t pushed;           /* jobs received and queued */
	uint64_t reported;         /* jobs taken, as last told rank 0 */
	int reported_idle;         /* idleness, as last told rank 0 */
	uint64_t spill_sent;       /* bytes of this rank's spill region sent to rank 0 */
	double last;               /* when rank 0 was last told */
	int closed;                /* CLOSE or ABORT came: no more jobs */
	struct walk_options walk;  /* how rank 0 walks: how to list for it */
	char *dirbuf;              /* for the directory being listed (dirstream.h) */
	struct lister_judge judge; /* the files it lists, against DST (judging) */
	struct dst *look;          /* DST, as the lister sees it; NULL: not judging */
};

/* The judge's `enter`: the directory of DST that `relpath` is copied to, if any. */
static int judge_enter(void *ctx, const char *relpath)
{
	struct server *sv = ctx;

	return dst_enter(sv->look, relpath, strlen(relpath));
}

/* The judge's `unchanged`: what a worker would decide (update_decide). */
static int judge_unchanged(void *ctx, int dirfd, const char *name, const struct stat *st)
{
	struct server *sv = ctx;
	struct entry_stat es;
	struct src_entry src = {
		.dir = dirfd, .name = name, .fd = -1, .follow = sv->s->opts->dereference, .st = &es
	};
	struct stat dst;
	int tree;

	entry_stat_from(&es, st);
	return dst_lstat(sv->look, 0, name, &dst) == 0 &&
	       update_decide(sv->s, sv->look, &src, name, &dst, &tree) == PLAN_SKIP;
}

/*
 * Judge the files listed against DST when a worker would only look at
 * them: an incremental run (--update other than all) that neither reads
 * contents (-c) nor is dry.  The lister's handle on DST only looks.
 */
static void start_judging(struct server *sv, uint32_t flags)
{
	const struct session *s = sv->s;

	if ((flags & BEGIN_NO_DST) || s->opts->dry_run || s->opts->update == UPDATE_ALL ||
	    s->opts->checksum || (s->force & FORCE_WORKERS_JUDGE))
		return;
	sv->look = dst_open(s, &s->shared->slots[0]);
	sv->judge = (struct lister_judge){ judge_enter, judge_unchanged, sv };
}

/* Queue the jobs of a batch (never waits: WINDOW bounds what rank 0 sends). */
static void queue_batch(struct server *sv, const char *batch, size_t len)
{
	struct job job;
	size_t n;

	for (size_t at = 0; (n = mpi_unpack_job(batch, len, at, &job)) > 0; at += n)
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
		report_message("rank %d: a malformed LIST message", mpi_rank());
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	for (size_t at = 0; at < len; at += strlen(paths + at) + 1)
		lister_read(sv->s->src_root, &sv->walk, paths + at, sv->dirbuf,
			    sv->look != NULL ? &sv->judge : NULL, &reply);
	mpi_send_async(&sv->sends, 0, TAG_LISTING, reply.buf, reply.len);
	/* A reply is past MPI's eager size: rank 0's mpi_receive waits for us to
	 * move it on, so do that before reading more. */
	mpi_sends_reap(&sv->sends);
	atomic_fetch_add(&slot->dirs_listed, reply.dirs);
	atomic_fetch_add(&slot->entries_listed, reply.entries);
	atomic_fetch_add(&slot->judged, reply.judged);
}

/* Take what rank 0 sent: jobs, directories to list, CLOSE or ABORT; 1 if anything came. */
static int take_orders(struct server *sv)
{
	MPI_Status st;
	int flag = 0, any = 0;

	while (MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), flag) {
		size_t len;
		char *msg = mpi_receive(&st, &len);

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
		report_message("rank %d cannot read its multiply-linked files: %s", mpi_rank(),
			       strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	if (records == NULL)
		return;
	sv->spill_sent += len;
	if (src_dev_here != src_dev_rank0)
		spill_map_dev(records, len, src_dev_here, src_dev_rank0);
	mpi_send_async(&sv->sends, 0, TAG_SPILL, records, len);
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

	if (s->durable == NULL || dst_sync(s) == 0)
		return;
	snprintf(reason, sizeof(reason), "rank %d cannot sync to stable storage: %s", mpi_rank(),
		 strerror(errno));
	report_path_error(s->dst_display, reason);
	atomic_fetch_add(&s->shared->slots[0].errors, 1);
}

/*
 * One source's jobs (and directories to list, read with rank 0's
 * flags): mpi_receive, queue, report, until rank 0 closes and all are done.
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

	start_judging(&sv, flags);
	s->queue = queue_create(WINDOW, QUEUE_PRIVATE);
	pool = s->queue != NULL ? pool_start(s) : NULL;
	if (pool == NULL) {
		/* Rank 0 would wait for this rank forever: end the job. */
		report_message("rank %d cannot start its worker: %s", mpi_rank(), strerror(errno));
		send_lines(&sv.lines);
		mpi_sends_finish(&sv.lines);
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
		busy |= mpi_sends_reap(&sv.sends);
		/*
		 * Each wake-up takes the CPU from a worker (ranks share the CPUs):
		 * while ours has plenty to do, wake seldom.
		 */
		idle.max_us = queued >= FED ? IDLE_FED_US : IDLE_MAX_US;
		mpi_idle_pause(&idle, busy && queued < FED);
	}
	pool_wait(pool);
	pool_free(pool);
	queue_destroy(s->queue);
	s->queue = NULL;
	sync_written(s);
	/* The last lines, then DONE: MPI keeps their order. */
	mpi_sends_finish(&sv.lines);
	send_lines(&sv.lines);
	forward_spill(&sv);
	send_status(&sv.sends, s, sv.pushed, 1, TAG_DONE);
	mpi_sends_finish(&sv.lines);
	mpi_sends_finish(&sv.sends);
	dst_close(sv.look);
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
		report_message("rank %d cannot make its spill file: %s", mpi_rank(),
			       strerror(errno));
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
}

/* A BEGIN: open the same roots, say whether they are, and on GO serve the jobs. */
static void serve_source(struct session *s, const char *msg, size_t len)
{
	struct ready a = { ROOT_NONE, 0 };
	struct stat src = { 0 }, dst = { 0 }, here;
	struct durable durable;
	const char *src_path, *dst_path;
	struct begin b;
	size_t go_len;
	int tag = 0;
	char *go;

	memcpy(&b, msg, len < sizeof(b) ? len : sizeof(b));
	if (len < sizeof(b) + 2 || b.src_len > len - sizeof(b) - 2 || msg[len - 1] != '\0') {
		/* Another pcopy-mpi on rank 0?  Rank 0 would wait for us forever. */
		report_message("rank %d: a malformed BEGIN message", mpi_rank());
		MPI_Abort(MPI_COMM_WORLD, 2);
	}
	src_path = msg + sizeof(b);
	dst_path = src_path + b.src_len + 1;
	src.st_dev = b.src_dev, src.st_ino = b.src_ino;
	dst.st_dev = b.dst_dev, dst.st_ino = b.dst_ino;
	s->umask = (mode_t)b.umask;
	s->src_display = src_path;
	s->dst_display = dst_path;
	s->src_root = open(src_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	check_root(s->src_root, &src, b.src_fsid, ROOT_SRC, &a);
	durable_init(&durable);
	s->durable = s->opts->fsync && !s->opts->dry_run ? &durable : NULL;
	/* A dry run's ranks only list: DST need not even exist. */
	if (!(b.flags & BEGIN_NO_DST))
		check_root(dst_root_open(s, dst_path, 1, NULL) < 0 ? -1 : s->dst_root, &dst,
			   b.dst_fsid, ROOT_DST, &a);
	/* What this node calls SRC's device is rank 0's number for it (spill, listings). */
	src_dev_here = s->src_root >= 0 && fstat(s->src_root, &here) == 0 ? here.st_dev : 0;
	src_dev_rank0 = b.src_dev;
	MPI_Send(&a, sizeof(a), MPI_BYTE, 0, TAG_READY, MPI_COMM_WORLD);
	go = next_from_rank0(&tag, &go_len);
	if (tag == TAG_GO && go_len == sizeof(int) && *(int *)(void *)go) {
		start_measures(s, b.spill);
		serve_jobs(s, b.flags);
		if (s->spill_fd >= 0)
			close(s->spill_fd);
		s->spill_fd = -1;
	}
	free(go);
	close_both(s->src_root, -1);
	s->src_root = -1;
	dst_root_close(s);
	durable_free(&durable);
	s->durable = NULL;
}

int mpi_serve(const struct options *o, const struct filter *filter, const struct files_from *list,
	      unsigned force)
{
	struct options mine = *o;
	struct session s = {
		.opts = &mine,
		.kind = &thread_kind,
		.dst_ops = &dst_local,
		.dst_root = -1,
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
		report_message("rank %d cannot map its state: %s", mpi_rank(), strerror(errno));
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
