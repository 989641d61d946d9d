/*
 * data.c - a regular file's data, from one open file to another (data.h).
 *
 * Data goes through copy_file_range (which also reflinks on file systems
 * that can), else sendfile, else read/write (see fallback_chunk).  Each
 * fallback is remembered for the whole run (in the shared state, so a
 * fallback one worker process learns serves the others too) and no file
 * pays for probing again.  A big file read cold is copied as a few ranges
 * at once (copy_ranges).
 *
 * A file is read to its end, whatever its size said: procfs files say 0
 * and sysfs files 4096.
 */
#include "copy/data.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/task.h"
#include "base/util.h"

/* Bytes per copy_file_range call: big, yet a stop request waits for one chunk only. */
#define COPY_CHUNK ((size_t)16 << 20)
/* Size of the read/write fallback buffer. */
#define RW_BUFFER_SIZE ((size_t)256 << 10)

void copy_set_force(struct shared_state *sh, unsigned force)
{
	if (force & (FORCE_NO_COPY_FILE_RANGE | FORCE_CROSS_FS))
		atomic_store(&sh->no_copy_file_range, 1);
	if (force & FORCE_NO_COPY_FILE_RANGE)
		atomic_store(&sh->no_sendfile, 1);
	if (force & FORCE_NO_TMPFILE)
		atomic_store(&sh->no_tmpfile, 1);
}

/* Stop requested?  Then fail with EINTR. */
int copy_stop_requested(struct copier *c)
{
	if (!atomic_load_explicit(&c->s->shared->stop, memory_order_relaxed))
		return 0;
	c->reason = "interrupted";
	errno = EINTR;
	return 1;
}

/* pwrite all of buf at off, retrying short writes and EINTR.  0 or -1. */
static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Data goes by the cheapest way the two files allow:
 *
 *   copy_file_range  within one file system: no copy through user space,
 *                    and a reflink or a server-side copy where there is one;
 *   sendfile         across file systems (copy_file_range says EXDEV): the
 *                    kernel moves page-cache pages through a pipe, one
 *                    memory copy instead of read/write's two, which shows
 *                    in the CPU a big file costs (bench/RESULTS.md,
 *                    "sendfile across file systems");
 *   read/write       where neither works (a procfs file, say).
 */

/* errno values that say copy_file_range (or sendfile) cannot work between these files. */
static int cfr_unsupported(int err)
{
	return err == EXDEV || err == ENOSYS || err == EOPNOTSUPP || err == EINVAL ||
	       err == EBADF || err == ETXTBSY;
}

/* May the current file's data go through copy_file_range? */
static int cfr_usable(const struct copier *c)
{
	return !c->file_no_cfr && !atomic_load(&c->s->shared->no_copy_file_range);
}

/* Through sendfile, copy_file_range being refused? */
static int sendfile_usable(const struct copier *c)
{
	return !c->file_no_sendfile && !atomic_load(&c->s->shared->no_sendfile);
}

/*
 * copy_file_range or sendfile refused the current file: set its flag for
 * this file (`file_flag`) and, for a file with data blocks, the one for the
 * whole run (`run_flag`: DST on a file system of another kind, say).  The
 * refusal of a file without (procfs, sysfs, an empty or inline file) says
 * nothing about the others.
 */
static void refused(struct copier *c, int *file_flag, _Atomic int *run_flag)
{
	*file_flag = 1;
	if (c->file_has_blocks)
		atomic_store(run_flag, 1);
}

/*
 * The ways after copy_file_range: up to *want bytes at the current offsets
 * (or, with `off` not NULL, at *off in both files), by sendfile or else
 * read/write; bytes copied or -1.  `first`: nothing of the file was copied
 * yet, so a refusal may still fall back.  *want is lowered to what was
 * really asked for, so the caller can tell a short count (end of file)
 * from a capped one.
 */
static ssize_t fallback_chunk(struct copier *c, int in, int out, size_t *want, off_t *off,
			      int first)
{
	ssize_t got;

	if (sendfile_usable(c)) {
		off_t at = off != NULL ? *off : 0;

		/* sendfile writes at out's offset: put it where the data goes. */
		if (off != NULL && lseek(out, at, SEEK_SET) < 0)
			return -1;
		do
			got = sendfile(out, in, off != NULL ? &at : NULL, *want);
		while (got < 0 && errno == EINTR);
		if (got >= 0 || !first || !cfr_unsupported(errno))
			return got;
		refused(c, &c->file_no_sendfile, &c->s->shared->no_sendfile);
	}
	if (c->buf == NULL)
		c->buf = xmalloc(RW_BUFFER_SIZE);
	if (*want > RW_BUFFER_SIZE)
		*want = RW_BUFFER_SIZE;
	do
		got = off != NULL ? pread(in, c->buf, *want, *off) : read(in, c->buf, *want);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return got;
	if ((off != NULL ? pwrite_all(out, c->buf, (size_t)got, *off)
			 : write_all(out, c->buf, (size_t)got)) < 0) {
		c->failed_dst = 1;
		return -1;
	}
	return got;
}

/* Copy up to *want bytes at the current offsets (see fallback_chunk); bytes or -1. */
static ssize_t copy_chunk(struct copier *c, int in, int out, size_t *want, uint64_t done)
{
	ssize_t n;

	if (!cfr_usable(c))
		return fallback_chunk(c, in, out, want, NULL, done == 0);
	do
		n = copy_file_range(in, NULL, out, NULL, *want, 0);
	while (n < 0 && errno == EINTR);
	/* Only a first call may fall back: later offsets are already moved. */
	if (n < 0 && done == 0 && cfr_unsupported(errno)) {
		refused(c, &c->file_no_cfr, &c->s->shared->no_copy_file_range);
		return fallback_chunk(c, in, out, want, NULL, 1);
	}
	return n;
}

/*
 * How much to ask for next.  Up to `size`, one byte more than is left, so
 * that growth shows and a small file costs a single call; past it (the file
 * grew, or its size said nothing, as procfs's 0), a whole chunk.
 */
static size_t stream_want(uint64_t size, uint64_t done)
{
	if (size == 0 || done > size || size + 1 - done > COPY_CHUNK)
		return COPY_CHUNK;
	return (size_t)(size + 1 - done);
}

/*
 * Past the `size` fstat gave at open: where to stop.  A file that grew is
 * copied up to the size it has now and no further, which for a log is the
 * end of an append (chasing its end could last forever), and the copy will
 * be judged changed; one whose size says nothing (procfs, sysfs) is read to
 * its end.
 */
static uint64_t stream_limit(int in, uint64_t size, uint64_t done)
{
	struct stat now;

	if (fstat(in, &now) < 0 || (uint64_t)now.st_size == size)
		return UINT64_MAX;
	return (uint64_t)now.st_size > done ? (uint64_t)now.st_size : done;
}

/*
 * Copy the whole file, which fstat said is `size` bytes long, to its end, as
 * cp does: a short count at exactly `size` is its end, else a count of 0,
 * else the limit set once past `size` (stream_limit).  *copied is what was
 * copied; the caller judges a difference from `size`.
 */
static int copy_stream(struct copier *c, int in, int out, uint64_t size, uint64_t *copied)
{
	uint64_t done = 0, limit = UINT64_MAX;
	int past = 0;

	for (;;) {
		size_t want = stream_want(size, done);
		ssize_t n;

		if (limit - done < want)
			want = (size_t)(limit - done);
		if (copy_stop_requested(c))
			return -1;
		n = copy_chunk(c, in, out, &want, done);
		if (n < 0)
			return -1;
		done += (uint64_t)n;
		atomic_store_explicit(&c->slot->bytes_inflight, done, memory_order_relaxed);
		if (n == 0 || done >= limit || ((size_t)n < want && done == size))
			break;
		if (done > size && !past) {
			past = 1;
			limit = stream_limit(in, size, done);
			if (done >= limit)
				break;
		}
	}
	*copied = done;
	return 0;
}

/* The current file's bytes covered so far (copied, or a hole passed over) grew by n. */
static void advance(struct copier *c, uint64_t n)
{
	atomic_fetch_add_explicit(&c->slot->bytes_inflight, n, memory_order_relaxed);
}

/*
 * Copy [off, end) with explicit offsets (for sparse files and ranges).
 * Returns the offset reached: `end`, or less where the file ended first;
 * -1 on error.
 */
static off_t copy_range_at(struct copier *c, int in, int out, off_t off, off_t end)
{
	while (off < end) {
		size_t want = (uint64_t)(end - off) > COPY_CHUNK ? COPY_CHUNK : (size_t)(end - off);
		ssize_t n = -1;

		if (copy_stop_requested(c))
			return -1;
		if (c->given_up != NULL &&
		    atomic_load_explicit(c->given_up, memory_order_relaxed)) {
			errno = ECANCELED; /* not this range's error: another's is reported */
			return -1;
		}
		if (cfr_usable(c)) {
			off_t inoff = off, outoff = off;

			n = copy_file_range(in, &inoff, out, &outoff, want, 0);
			if (n < 0 && cfr_unsupported(errno))
				refused(c, &c->file_no_cfr, &c->s->shared->no_copy_file_range);
		}
		/* Explicit offsets: any chunk may fall back, nothing has moved. */
		if (n < 0 && !cfr_usable(c))
			n = fallback_chunk(c, in, out, &want, &off, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break; /* the end of the file came first */
		off += n;
		advance(c, (uint64_t)n);
	}
	return off;
}

/*
 * The data extents of [from, to) (SEEK_DATA/SEEK_HOLE), copied; holes are
 * passed over.  Sets *reached: `to`, or less where the data ended first
 * (the file shrank).  Returns 0, -1 on error, or 1 if the file system
 * cannot tell holes (nothing was done: copy the range whole).
 */
static int copy_extents(struct copier *c, int in, int out, off_t from, off_t to, off_t *reached)
{
	off_t pos = from;

	while (pos < to) {
		off_t data = lseek(in, pos, SEEK_DATA);
		off_t hole, got;

		if (data < 0 && errno == ENXIO)
			break; /* only a hole is left */
		if (data < 0)
			return pos == from && errno == EINVAL ? 1 : -1;
		if (data >= to)
			break;
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		if (hole > to)
			hole = to;
		advance(c, (uint64_t)(data - pos));
		got = copy_range_at(c, in, out, data, hole);
		if (got < 0)
			return -1;
		if (got < hole) {
			*reached = got;
			return 0;
		}
		pos = hole;
	}
	advance(c, (uint64_t)(to - pos));
	*reached = to;
	return 0;
}

/*
 * A file with holes: copy only its data extents and set the size with
 * ftruncate, so holes stay holes, also at the end.  Where the data ends
 * before `size` (the file shrank, or is a sysfs file: 4096 bytes and no
 * blocks), the copy ends there too, never padded with zeros.  Sets
 * *copied.  Returns 1 if the filesystem cannot tell holes (the caller
 * copies it whole).
 */
static int copy_sparse(struct copier *c, int in, int out, uint64_t size, uint64_t *copied)
{
	off_t reached;
	int rc = copy_extents(c, in, out, 0, (off_t)size, &reached);

	if (rc != 0)
		return rc;
	*copied = (uint64_t)reached;
	return *copied < size ? 0 : ftruncate(out, (off_t)size);
}

/*
 * Big files read cold are copied as SPLIT_WAYS ranges at once, each by a
 * thread of the worker through descriptions of its own (their own file
 * offsets and readahead), into the one temporary, which is installed
 * only when every range is done.  From a disk one stream leaves the device
 * idle while its data is written out; four keep it busy, as fast as
 * reading alone (bench/RESULTS.md, "four ranges per big file read cold").
 * Warm it gains nothing (the copy is CPU work, and ranges only add
 * threads to it), so a file mostly in the page cache is one stream.
 */
#define SPLIT_WAYS 4
#define SPLIT_MIN ((uint64_t)64 << 20)   /* smallest file split */
#define SPLIT_RANGE ((uint64_t)16 << 20) /* smallest range; ranges start on a multiple */
#define SPLIT_SAMPLES 16                 /* pages looked at to tell a cold file */

/* One range of a file copied as ranges (copy_ranges). */
struct range {
	struct copier c; /* the worker's, with a buffer of its own */
	int in, out;     /* the file and the temporary */
	off_t from, to;  /* what it copies */
	off_t reached;   /* where it stopped: `to`, or less where the file ended */
	int sparse;      /* the file has holes: copy its extents only */
	int rc;          /* 0, or -1 with err (and c.reason) */
	int err;
	pthread_t thread;
	int threaded; /* `thread` runs it */
};

/*
 * Is most of the file in the page cache?  One byte read with RWF_NOWAIT,
 * which never starts I/O, at each of SPLIT_SAMPLES places spread over it:
 * EAGAIN says that page is not.  (mincore(2) would answer only the file's
 * owner or writer; others are told every page is cached.)  A file system
 * that cannot read without waiting counts as cached.
 */
static int mostly_cached(int fd, uint64_t size)
{
	int cached = 0;

	for (int i = 0; i < SPLIT_SAMPLES; i++) {
		char byte;
		struct iovec iov = { &byte, 1 };
		ssize_t n = preadv2(fd, &iov, 1, (off_t)(size / SPLIT_SAMPLES * (uint64_t)i),
				    RWF_NOWAIT);

		if (n < 0 && errno != EAGAIN)
			return 1;
		cached += n >= 0;
	}
	return cached * 2 > SPLIT_SAMPLES;
}

/*
 * Into how many ranges to split the file (1: copy it as one stream), and
 * the multiple they start on.  PCOPY_FORCE=split_all splits every file of
 * two pages or more, cold or not, so the tests can; one_stream none.
 */
static int split_ways(const struct copier *c, int in, const struct stat *st, uint64_t *align)
{
	uint64_t size = (uint64_t)st->st_size;
	uint64_t ways;

	if ((c->s->force & FORCE_ONE_STREAM) || st->st_blocks == 0)
		return 1;
	if (c->s->force & FORCE_SPLIT_ALL)
		*align = (uint64_t)sysconf(_SC_PAGESIZE);
	else if (size >= SPLIT_MIN && !mostly_cached(in, size))
		*align = SPLIT_RANGE;
	else
		return 1;
	ways = size / *align;
	return ways < 2 ? 1 : ways > SPLIT_WAYS ? SPLIT_WAYS : (int)ways;
}

static void copy_one_range(struct range *r)
{
	int rc = r->sparse ? copy_extents(&r->c, r->in, r->out, r->from, r->to, &r->reached) : 1;

	if (rc == 1) {
		r->reached = copy_range_at(&r->c, r->in, r->out, r->from, r->to);
		rc = r->reached < 0 ? -1 : 0;
	}
	r->rc = rc;
	r->err = rc < 0 ? errno : 0;
	if (rc < 0)
		atomic_store(r->c.given_up, 1); /* the others stop at their next chunk */
}

/*
 * A range's thread: its CPU time and its waits for a CPU go to the
 * worker's counters (--stats cpu_s, runq_s); the worker, asleep until its
 * ranges are done, counts that time as waiting with a job (wait_s).
 */
static void *range_main(void *arg)
{
	struct range *r = arg;
	uint64_t cpu, runq;

	copy_one_range(r);
	if (task_schedstat(getpid(), gettid(), &cpu, &runq) == 0) {
		atomic_fetch_add_explicit(&r->c.slot->cpu_ns, cpu, memory_order_relaxed);
		atomic_fetch_add_explicit(&r->c.slot->runq_ns, runq, memory_order_relaxed);
	}
	return NULL;
}

/* A description of its own of the file open as `fd`, or -1. */
static int reopen(int fd, int flags)
{
	char proc[PROC_FD_PATH_MAX];

	return open(proc_fd_path(proc, fd, NULL), flags | O_CLOEXEC);
}

/* Set up range i of n, each `per` bytes but the last; -1 if the file could not be opened again. */
static int range_init(struct range *r, const struct copier *c, int in, int out,
		      const struct stat *st, uint64_t per, int i, int n, _Atomic int *given_up)
{
	uint64_t size = (uint64_t)st->st_size;

	r->c = *c;
	r->c.buf = NULL;
	r->c.reason = NULL;
	r->c.given_up = given_up;
	r->from = (off_t)(per * (uint64_t)i);
	r->to = (off_t)(i + 1 == n ? size : per * (uint64_t)(i + 1));
	r->sparse = (uint64_t)st->st_blocks * 512 < size;
	r->threaded = 0;
	r->in = i == 0 ? in : reopen(in, O_RDONLY | O_NOCTTY);
	r->out = i == 0 ? out : reopen(out, O_WRONLY);
	return r->in < 0 || r->out < 0 ? -1 : 0;
}

/*
 * Close what range_init opened for range i and free its buffer.  -1 with
 * errno when closing its description of the copy failed: a write error the
 * file system reports only then (see temp_close_checked).
 */
static int range_free(struct range *r, int i)
{
	int rc = 0;

	if (i > 0 && r->in >= 0)
		close(r->in);
	if (i > 0 && r->out >= 0)
		rc = close(r->out);
	copier_free(&r->c);
	return rc;
}

/*
 * Copy the file as `ways` ranges of a multiple of `align` bytes at once:
 * the first in this thread, the others each in a thread of its own (or,
 * should one not start, after it here).  Sets *copied as copy_sparse
 * does: the size, or where the data ended first, the copy cut there.
 * Returns 0, -1 on error, or 1 if the file could not be opened again
 * (nothing was done: copy it as one stream).  A range that fails makes
 * the others give up at their next chunk; its error is the one reported.
 */
static int copy_ranges(struct copier *c, int in, int out, const struct stat *st, int ways,
		       uint64_t align, uint64_t *copied)
{
	uint64_t size = (uint64_t)st->st_size;
	uint64_t per = (size / (uint64_t)ways + align - 1) / align * align;
	struct range r[SPLIT_WAYS];
	sigset_t all, old;
	int n = (int)((size + per - 1) / per), failed = -1;
	_Atomic int given_up = 0;

	if (n > ways)
		n = ways;
	for (int i = 0; i < n; i++) {
		if (range_init(&r[i], c, in, out, st, per, i, n, &given_up) < 0) {
			for (; i >= 0; i--)
				(void)range_free(&r[i], i); /* nothing was written */
			return 1;
		}
	}
	/* Signals stay with the worker's thread, as before. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 1; i < n; i++)
		r[i].threaded = pthread_create(&r[i].thread, NULL, range_main, &r[i]) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	copy_one_range(&r[0]);
	for (int i = 1; i < n; i++) {
		if (r[i].threaded)
			pthread_join(r[i].thread, NULL);
		else
			copy_one_range(&r[i]);
	}
	*copied = size;
	for (int i = 0; i < n; i++) {
		if (r[i].rc < 0 && (failed < 0 || r[failed].err == ECANCELED))
			failed = i;
		if (r[i].rc == 0 && r[i].reached < r[i].to && (uint64_t)r[i].reached < *copied)
			*copied = (uint64_t)r[i].reached;
	}
	if (failed >= 0) {
		c->reason = r[failed].c.reason;
		c->failed_dst = r[failed].c.failed_dst;
		errno = r[failed].err;
	}
	for (int i = 0; i < n; i++) {
		int saved = errno;

		if (range_free(&r[i], i) < 0 && failed < 0) {
			failed = i;
			c->failed_dst = 1;
		} else {
			errno = saved;
		}
	}
	if (failed >= 0)
		return -1;
	c->file_split = 1;
	/* Holes kept to the end; a copy cut short holds no bytes past the cut. */
	return ftruncate(out, (off_t)*copied);
}

/* Copy the data of the file `in` (fstat gave st) to `out`; sets *copied. */
int copy_data(struct copier *c, int in, int out, const struct stat *st, uint64_t *copied)
{
	uint64_t size = (uint64_t)st->st_size, align;
	int ways, rc;

	/* An empty file gains nothing from copy_file_range (procfs ones refuse it). */
	c->file_no_cfr = size == 0;
	c->file_no_sendfile = 0;
	c->file_has_blocks = st->st_blocks > 0;
	c->file_split = 0;
	/* Each attempt starts again from nothing (copy_regular). */
	atomic_store_explicit(&c->slot->bytes_inflight, 0, memory_order_relaxed);
	ways = split_ways(c, in, st, &align);
	if (ways > 1 && (rc = copy_ranges(c, in, out, st, ways, align, copied)) <= 0)
		return rc;
	if ((uint64_t)st->st_blocks * 512 < size) {
		rc = copy_sparse(c, in, out, size, copied);
		if (rc <= 0)
			return rc;
		if (lseek(in, 0, SEEK_SET) < 0)
			return -1;
	}
	return copy_stream(c, in, out, size, copied);
}

int copy_failed_writing(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG || err == EROFS;
}
