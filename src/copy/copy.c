/*
 * copy.c - copying one entry.
 *
 * A regular file is written into an O_TMPFILE in the destination directory
 * (no name at all, so nothing is left behind even after SIGKILL), given its
 * metadata, and only then linked in under its final name.  Where O_TMPFILE
 * is missing, a named temporary ".pcopy-tmp.PID.N" is renamed over the final
 * name instead; its name is recorded in the worker's slot so the parent can
 * remove it if the worker dies.  Data goes through copy_file_range (which
 * also reflinks on filesystems that can), else sendfile, else read/write
 * (see fallback_chunk).  Each fallback is
 * remembered for the whole run (in the shared state, so a fallback one worker
 * process learns serves the others too) and no file pays for probing again.
 * A big file read cold is copied as a few ranges at once (copy_ranges).
 *
 * A file is read to its end, whatever its size said: procfs files say 0 and
 * sysfs files 4096.  Whether it changed meanwhile is told by a second fstat
 * (size and ctime); one that did is copied again from scratch a few times.
 */
#include "copy/copy.h"

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
#include <time.h>
#include <unistd.h>

#include "base/task.h"
#include "base/util.h"
#include "copy/meta.h"

/* Bytes per copy_file_range call: big, yet a stop request waits for one chunk only. */
#define COPY_CHUNK ((size_t)16 << 20)
/* Size of the read/write fallback buffer. */
#define RW_BUFFER_SIZE ((size_t)256 << 10)

/* Pauses before copying a file again that changed while it was copied. */
static const unsigned change_backoff_ms[] = { 10, 40, 160 };
/* Makes named temporaries unique within the process. */
static atomic_uint tmp_counter;

void copy_set_force(struct shared_state *sh, unsigned force)
{
	if (force & (FORCE_NO_COPY_FILE_RANGE | FORCE_CROSS_FS))
		atomic_store(&sh->no_copy_file_range, 1);
	if (force & FORCE_NO_COPY_FILE_RANGE)
		atomic_store(&sh->no_sendfile, 1);
	if (force & FORCE_NO_TMPFILE)
		atomic_store(&sh->no_tmpfile, 1);
}

void copier_init(struct copier *c, const struct session *s, struct worker_slot *slot)
{
	c->s = s;
	c->slot = slot;
	c->buf = NULL;
	c->reason = NULL;
	c->failed_dst = 0;
	c->warning = NULL;
	c->replaced = 0;
	c->rewrite = 0;
	c->file_no_cfr = 0;
	c->file_no_sendfile = 0;
	c->file_has_blocks = 0;
	c->file_split = 0;
	c->dst_dir = -1;
	c->dir_known = 0;
	c->inherited_acl = 0;
	c->dir_gid = (gid_t)-1;
	meta_loss_clear(&c->lost);
	c->given_up = NULL;
}

void copier_free(struct copier *c)
{
	free(c->buf);
	c->buf = NULL;
}

void copier_set_dst_dir(struct copier *c, int ddir)
{
	c->dst_dir = ddir;
	c->dir_known = 0;
}

/*
 * What the destination directory `ddir` gives a file made in it: a default
 * ACL, a group.  Learnt on the first creation in it, so that a run which
 * creates nothing there (an up-to-date --update) pays nothing for it.
 */
static void learn_dst_dir(struct copier *c, int ddir)
{
	struct stat st;

	if (c->dir_known && ddir == c->dst_dir)
		return;
	c->inherited_acl = meta_has_default_acl(ddir);
	c->dir_gid = fstat(ddir, &st) == 0 ? st.st_gid : (gid_t)-1;
	c->dir_known = ddir == c->dst_dir;
}

/* Mode of a file while it is written: no group or other access. */
#define TEMP_MODE 0600

/* A file being written: an O_TMPFILE (name "") or a named temporary. */
struct tempfile {
	int fd;                 /* open for writing, or -1 */
	int linked;             /* it now has its final name */
	char name[TMPNAME_MAX]; /* named temporary, or "" */
};

static void make_tmpname(char *out)
{
	snprintf(out, TMPNAME_MAX, TMPNAME_PREFIX "%ld.%u", (long)getpid(),
		 atomic_fetch_add(&tmp_counter, 1));
}

/* Record (or clear, with "") the named temporary the parent must clean up. */
static void slot_set_tmpname(struct copier *c, const char *name)
{
	snprintf(c->slot->tmpname, TMPNAME_MAX, "%s", name);
}

static int temp_create_named(struct copier *c, int ddir, struct tempfile *t)
{
	for (int tries = 0; tries < 100; tries++) {
		make_tmpname(t->name);
		slot_set_tmpname(c, t->name);
		t->fd = openat(ddir, t->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       TEMP_MODE);
		if (t->fd >= 0 || errno != EEXIST)
			break;
	}
	if (t->fd < 0) {
		slot_set_tmpname(c, "");
		t->name[0] = '\0';
	}
	return t->fd < 0 ? -1 : 0;
}

/*
 * Create the file to write, mode 0600 until its metadata is applied: no
 * group or other access while it is incomplete, whichever kind it is.
 */
static int temp_create(struct copier *c, int ddir, struct tempfile *t)
{
	t->linked = 0;
	t->name[0] = '\0';
	if (!atomic_load(&c->s->shared->no_tmpfile)) {
		t->fd = openat(ddir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, TEMP_MODE);
		if (t->fd >= 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -1;
		atomic_store(&c->s->shared->no_tmpfile, 1);
	}
	return temp_create_named(c, ddir, t);
}

/* Give an O_TMPFILE the name `name`; fails with EEXIST like link(2). */
static int link_tmpfile(const struct copier *c, int fd, int ddir, const char *name)
{
	_Atomic int *no_empty_path_link = &c->s->shared->no_empty_path_link;
	char proc[PROC_FD_PATH_MAX];

	if (!atomic_load(no_empty_path_link)) {
		if (linkat(fd, "", ddir, name, AT_EMPTY_PATH) == 0)
			return 0;
		/* Without CAP_DAC_READ_SEARCH the kernel answers ENOENT. */
		if (errno != ENOENT && errno != EPERM)
			return -1;
		atomic_store(no_empty_path_link, 1);
	}
	return linkat(AT_FDCWD, proc_fd_path(proc, fd, NULL), ddir, name, AT_SYMLINK_FOLLOW);
}

/* Rename the named temporary over `dname`; it is gone either way after. */
static int rename_into_place(struct copier *c, int ddir, char *tmpname, const char *dname)
{
	int rc = renameat(ddir, tmpname, ddir, dname);
	int saved = errno;

	if (rc < 0)
		(void)unlinkat(ddir, tmpname, 0);
	slot_set_tmpname(c, "");
	tmpname[0] = '\0';
	errno = saved;
	return rc;
}

/* Put the finished file under its final name, replacing what was there. */
static int temp_install(struct copier *c, int ddir, const char *dname, struct tempfile *t)
{
	if (t->name[0] != '\0') {
		/* Only to tell what was done: the rename replaces either way. */
		c->replaced = faccessat(ddir, dname, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		if (rename_into_place(c, ddir, t->name, dname) < 0)
			return -1;
		t->linked = 1;
		return 0;
	}
	if (link_tmpfile(c, t->fd, ddir, dname) == 0) {
		t->linked = 1;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	c->replaced = 1;
	/* Something is in the way: link under a temporary name, rename over it. */
	for (int tries = 0; tries < 100; tries++) {
		make_tmpname(t->name);
		slot_set_tmpname(c, t->name);
		if (link_tmpfile(c, t->fd, ddir, t->name) == 0)
			break;
		t->name[0] = '\0';
		if (errno != EEXIST) {
			slot_set_tmpname(c, "");
			return -1;
		}
	}
	if (t->name[0] == '\0' || rename_into_place(c, ddir, t->name, dname) < 0)
		return -1;
	t->linked = 1;
	return 0;
}

/*
 * Close what was written, checked, before it is given its name: some file
 * systems (NFS, FUSE) send the data then and report a write error only to
 * close(2).  A named temporary is closed for good; an O_TMPFILE, whose fd
 * its linking needs, has a duplicate closed, which flushes it as well.
 * 0, or -1 with errno.
 */
static int temp_close_checked(struct tempfile *t)
{
	int fd = t->name[0] != '\0' ? t->fd : dup(t->fd);

	if (fd < 0)
		return -1;
	if (fd == t->fd)
		t->fd = -1;
	return close(fd);
}

/* Close the file; a named temporary that was not installed is removed. */
static void temp_discard(struct copier *c, int ddir, struct tempfile *t)
{
	int saved = errno;

	if (t->name[0] != '\0' && !t->linked) {
		(void)unlinkat(ddir, t->name, 0);
		slot_set_tmpname(c, "");
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	errno = saved;
}

int copy_remove_temporary(int ddir, const char *tmpname)
{
	if (strncmp(tmpname, TMPNAME_PREFIX, strlen(TMPNAME_PREFIX)) != 0) {
		errno = EINVAL;
		return -1;
	}
	return unlinkat(ddir, tmpname, 0);
}

/* Stop requested?  Then fail with EINTR. */
static int stop_requested(struct copier *c)
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
 *                    memory copy instead of read/write's two (measured: a
 *                    1 GiB file from ext4 to tmpfs, warm, 0.43 s of CPU
 *                    against 0.54 s, medians of 5);
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
		if (stop_requested(c))
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

		if (stop_requested(c))
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
 * idle while its data is written out; four keep it busy: three cold 1 GiB
 * files from ext4 to a tmpfs, 1.68 s against 2.00 s for one stream each,
 * and 1.70 s for three `cat`s only reading them (README, "Big files read
 * cold").
 * Warm it gains nothing (the copy is CPU work: 1.19 s against 0.87 s
 * from a tmpfs), so a file mostly in the page cache is one stream.
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
static int copy_data(struct copier *c, int in, int out, const struct stat *st, uint64_t *copied)
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

/*
 * Can only writing have failed with `err`?  Where copy_file_range or
 * sendfile fail, the call does not say which side did; these say DST.
 */
static int writing_errno(int err)
{
	return err == ENOSPC || err == EDQUOT || err == EFBIG || err == EROFS;
}

/* Open flags for a source entry: never follow a link unless -L. */
static int nofollow(const struct copier *c)
{
	return c->s->opts->dereference ? 0 : O_NOFOLLOW;
}

/*
 * Does a file we create in the destination directory already have the
 * source's owner?  It gets our uid, and our gid or the directory's (setgid
 * directory, grpid mount): when all of these match the source, fchown
 * would change nothing.
 */
static int owner_is_right(const struct copier *c, const struct entry_stat *st)
{
	return st->uid == c->s->euid && st->gid == c->s->egid && c->dir_gid == c->s->egid;
}

/* How one attempt at copying a regular file ended. */
enum attempt {
	ATTEMPT_FAILED = -1, /* an error: errno or c->reason says which */
	ATTEMPT_DONE = 0,    /* installed under its final name */
	ATTEMPT_CHANGED = 1, /* the file changed meanwhile: nothing installed */
};

/* Why a file is given up on: it changed each time it was copied. */
static const char changed_reason[] = "file changed while being copied";

/*
 * Did the source change while its data was read?  Its ctime moves with every
 * write and truncation, so a copy that read some bytes before a change and
 * some after (the same size, neither version) is caught.  When nothing
 * moved yet `copied` differs from the size, the size does not describe the
 * contents (procfs says 0, sysfs 4096) and what was read to the end is the
 * file, as cp takes it.  Leaves the fresh fstat in *now.
 */
static enum attempt check_unchanged(int in, const struct stat *before, struct stat *now)
{
	if (fstat(in, now) < 0)
		return ATTEMPT_FAILED;
	if (now->st_ctim.tv_sec != before->st_ctim.tv_sec ||
	    now->st_ctim.tv_nsec != before->st_ctim.tv_nsec || now->st_size != before->st_size)
		return ATTEMPT_CHANGED;
	return ATTEMPT_DONE;
}

/*
 * The last attempt also saw a change.  With --changing=copy its copy is
 * kept: it holds what was read from offset 0 to the end without a gap, so an
 * append-only log gives a prefix of itself.  One longer than the file is now
 * would include bytes since cut off (or zeros put by ftruncate): refused.
 */
static enum attempt keep_last_copy(struct copier *c, uint64_t copied, const struct stat *now)
{
	if (c->s->opts->changing != CHANGING_COPY || copied > (uint64_t)now->st_size) {
		c->reason = changed_reason;
		return ATTEMPT_FAILED;
	}
	c->warning = "warning: file kept changing while being copied; "
		     "the last copy was kept and may already be out of date";
	return ATTEMPT_DONE;
}

/* Open a regular source file and fstat it; its fd, or -1. */
static int open_regular(struct copier *c, int sdir, const char *sname, struct stat *st)
{
	/* O_NONBLOCK: should a FIFO have replaced the file, open must not hang. */
	int in = openat(sdir, sname, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | nofollow(c));
	int saved;

	if (in < 0)
		return -1;
	if (fstat(in, st) == 0) {
		if (S_ISREG(st->st_mode))
			return in;
		c->reason = COPY_TYPE_CHANGED;
	}
	saved = errno;
	close(in);
	errno = saved;
	return -1;
}

/* Metadata on the finished temporary, then its final name; counted. */
static int install_copy(struct copier *c, int in, int ddir, const char *dname, struct tempfile *t,
			const struct stat *st, uint64_t copied)
{
	struct meta_known known;
	struct entry_stat es;

	entry_stat_from(&es, st);
	learn_dst_dir(c, ddir);
	known.created = TEMP_MODE;
	known.owner_right = owner_is_right(c, &es);
	known.inherited_acl = c->inherited_acl;
	known.existing = 0;
	/* Lost metadata is reported, but the data is right: install the copy. */
	(void)meta_apply_fd(c->s, in, t->fd, &es, &known, &c->lost);
	/*
	 * --fsync: data and inode (size, mode, times) on disk before the name,
	 * so a crash never leaves an empty or partial file under it.  The
	 * name itself is made durable by the sync at the end (main.c).
	 */
	if (c->s->opts->fsync && fsync(t->fd) < 0)
		return -1;
	if (temp_close_checked(t) < 0 || temp_install(c, ddir, dname, t) < 0)
		return -1;
	if (!c->rewrite) {
		atomic_fetch_add_explicit(&c->slot->files, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&c->slot->bytes, copied, memory_order_relaxed);
	}
	if (c->file_split)
		atomic_fetch_add_explicit(&c->slot->split_files, 1, memory_order_relaxed);
	return 0;
}

/*
 * One attempt: a fresh open and a fresh temporary, installed only when the
 * file did not change meanwhile (or, on the `last` attempt, per --changing).
 * A temporary that is not installed is discarded.
 */
static enum attempt copy_regular_once(struct copier *c, int sdir, const char *sname, int ddir,
				      const char *dname, int last)
{
	struct tempfile t = { .fd = -1 };
	struct stat st, now;
	uint64_t copied = 0;
	enum attempt rc = ATTEMPT_FAILED;
	int in = open_regular(c, sdir, sname, &st);

	if (in < 0)
		return ATTEMPT_FAILED;
	if (temp_create(c, ddir, &t) < 0) {
		c->failed_dst = 1;
		goto out;
	}
	if (copy_data(c, in, t.fd, &st, &copied) < 0) {
		c->failed_dst |= writing_errno(errno);
		goto out;
	}
	rc = check_unchanged(in, &st, &now);
	if (rc == ATTEMPT_CHANGED && last)
		rc = keep_last_copy(c, copied, &now);
	if (rc == ATTEMPT_DONE && install_copy(c, in, ddir, dname, &t, &st, copied) < 0) {
		c->failed_dst = 1;
		rc = ATTEMPT_FAILED;
	}
out:
	temp_discard(c, ddir, &t);
	close(in);
	return rc;
}

/* Sleep `ms` milliseconds in short steps, watching for a stop.  0 or -1. */
static int pause_before_retry(struct copier *c, unsigned ms)
{
	while (ms > 0) {
		unsigned step = ms < 10 ? ms : 10;
		struct timespec ts = { 0, (long)step * 1000000L };

		if (stop_requested(c))
			return -1;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= step;
	}
	return stop_requested(c) ? -1 : 0;
}

/* A regular file, copied again while it changes (see copy_entry). */
static int copy_regular(struct copier *c, int sdir, const char *sname, int ddir, const char *dname)
{
	for (size_t retry = 0;; retry++) {
		enum attempt rc = copy_regular_once(c, sdir, sname, ddir, dname,
						    retry == ARRAY_LEN(change_backoff_ms));

		if (rc != ATTEMPT_CHANGED)
			return rc == ATTEMPT_DONE ? 0 : -1;
		if (pause_before_retry(c, change_backoff_ms[retry]) < 0)
			return -1;
	}
}

/*
 * Make an entry with `create(ddir, name)` under its final name, or, when
 * something is already there, under a temporary name renamed over it; then
 * apply owner and times (what cannot be kept goes to c->lost).
 */
static int create_in_place(struct copier *c, int sdir, const char *sname, int ddir,
			   const char *dname, const struct entry_stat *st,
			   int (*create)(const void *arg, int dir, const char *name),
			   const void *arg)
{
	struct meta_known known = { .inherited_acl = 0 };
	char tmp[TMPNAME_MAX];

	learn_dst_dir(c, ddir);
	known.inherited_acl = c->inherited_acl;
	if (create(arg, ddir, dname) == 0) {
		(void)meta_apply_at(c->s, sdir, sname, ddir, dname, st, &known, &c->lost);
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	c->replaced = 1;
	make_tmpname(tmp);
	slot_set_tmpname(c, tmp);
	if (create(arg, ddir, tmp) < 0) {
		slot_set_tmpname(c, "");
		return -1;
	}
	(void)meta_apply_at(c->s, sdir, sname, ddir, tmp, st, &known, &c->lost);
	return rename_into_place(c, ddir, tmp, dname);
}

static int make_symlink(const void *target, int dir, const char *name)
{
	return symlinkat(target, dir, name);
}

/* What make_special needs to know. */
struct special_args {
	mode_t mode; /* type and permission bits */
	dev_t rdev;  /* device number */
};

static int make_special(const void *arg, int dir, const char *name)
{
	const struct special_args *sa = arg;

	return mknodat(dir, name, sa->mode, sa->rdev);
}

/* readlink into a malloc'd string; NULL with errno on failure. */
static char *read_link(int dir, const char *name, uint64_t size_hint)
{
	size_t cap = size_hint > 0 && size_hint < PATH_MAX ? (size_t)size_hint + 1 : PATH_MAX;

	for (;;) {
		char *buf = xmalloc(cap);
		ssize_t n = readlinkat(dir, name, buf, cap);

		if (n < 0) {
			free(buf);
			return NULL;
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			return buf;
		}
		free(buf);
		cap *= 2;
	}
}

static int copy_symlink(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
			const struct entry_stat *st)
{
	char *target = read_link(sdir, sname, st->size);
	int rc;

	if (target == NULL)
		return -1;
	rc = create_in_place(c, sdir, sname, ddir, dname, st, make_symlink, target);
	free(target);
	if (rc < 0) {
		c->failed_dst = 1;
		return -1;
	}
	if (!c->rewrite)
		atomic_fetch_add_explicit(&c->slot->symlinks, 1, memory_order_relaxed);
	return 0;
}

static int copy_special(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
			const struct entry_stat *st)
{
	struct special_args sa = {
		.mode = (st->mode & S_IFMT) | meta_create_mode(c->s, st),
		.rdev = (dev_t)st->rdev,
	};

	if (create_in_place(c, sdir, sname, ddir, dname, st, make_special, &sa) < 0) {
		c->failed_dst = 1;
		return -1;
	}
	if (!c->rewrite)
		atomic_fetch_add_explicit(&c->slot->specials, 1, memory_order_relaxed);
	return 0;
}

int copy_entry(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
	       enum job_kind kind, const struct entry_stat *hint)
{
	int rc;

	c->reason = NULL;
	c->failed_dst = 0;
	c->warning = NULL;
	c->replaced = 0;
	meta_loss_clear(&c->lost);
	switch (kind) {
	case JOB_REGULAR: rc = copy_regular(c, sdir, sname, ddir, dname); break;
	case JOB_SYMLINK: rc = copy_symlink(c, sdir, sname, ddir, dname, hint); break;
	case JOB_SPECIAL: rc = copy_special(c, sdir, sname, ddir, dname, hint); break;
	default: errno = EINVAL; rc = -1;
	}
	atomic_store_explicit(&c->slot->bytes_inflight, 0, memory_order_relaxed);
	return rc;
}

/* Same inode on both names already? */
static int same_file_at(int adir, const char *aname, int bdir, const char *bname)
{
	struct stat a, b;

	return fstatat(adir, aname, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstatat(bdir, bname, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int link_replace(struct copier *c, int tdir, const char *tname, int ddir, const char *dname)
{
	char tmp[TMPNAME_MAX];

	c->replaced = 0;
	c->failed_dst = 1; /* whatever fails below is DST's */
	if (linkat(tdir, tname, ddir, dname, 0) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	/* rename(2) between two links of one inode does nothing: check first. */
	if (same_file_at(tdir, tname, ddir, dname))
		return 1;
	c->replaced = 1;
	make_tmpname(tmp);
	slot_set_tmpname(c, tmp);
	if (linkat(tdir, tname, ddir, tmp, 0) < 0) {
		slot_set_tmpname(c, "");
		return -1;
	}
	return rename_into_place(c, ddir, tmp, dname);
}

int link_entry(struct copier *c, int tdir, const char *tname, int ddir, const char *dname)
{
	int rc = link_replace(c, tdir, tname, ddir, dname);

	if (rc == 0)
		atomic_fetch_add_explicit(&c->slot->hardlinks, 1, memory_order_relaxed);
	return rc;
}
