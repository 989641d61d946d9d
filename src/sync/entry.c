/*
 * entry.c - copying one entry into DST (entry.h): a regular file through a
 * temporary installed only once complete, a symbolic link or a special
 * file made anew, a hard link to another name of the copy.
 *
 * A regular file is read to its end, whatever its size said.  Whether it
 * changed meanwhile is told by a second fstat (size and ctime); one that
 * did is copied again from scratch a few times.
 */
#include "sync/entry.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/data.h"

/* Pauses before copying a file again that changed while it was copied. */
static const unsigned change_backoff_ms[] = { 10, 40, 160 };

/* Open flags for a source entry: never follow a link unless -L. */
static int nofollow(const struct copier *c)
{
	return c->s->opts->dereference ? 0 : O_NOFOLLOW;
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

/* A file installed: count it, unless it is a metadata fix (PLAN_REWRITE). */
static void count_file(struct copier *c, uint64_t copied)
{
	if (!c->rewrite) {
		atomic_fetch_add_explicit(&c->slot->files, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&c->slot->bytes, copied, memory_order_relaxed);
	}
	if (c->file_split)
		atomic_fetch_add_explicit(&c->slot->split_files, 1, memory_order_relaxed);
}

/*
 * One attempt: a fresh open and a fresh temporary, installed only when the
 * file did not change meanwhile (or, on the `last` attempt, per --changing).
 * A temporary that is not installed is discarded.
 */
static enum attempt copy_regular_once(struct copier *c, struct dst *d, int sdir, const char *sname,
				      const char *dname, int last)
{
	struct dst_file f = { .fd = -1 };
	struct stat st, now;
	struct entry_stat es;
	struct src_entry src;
	uint64_t copied = 0;
	enum attempt rc = ATTEMPT_FAILED;
	int in = open_regular(c, sdir, sname, &st);

	if (in < 0)
		return ATTEMPT_FAILED;
	if (dst_create(d, &f) < 0) {
		c->failed_dst = 1;
		goto out;
	}
	if (dst_fill(d, &f, c, in, &st, &copied) < 0) {
		c->failed_dst |= copy_failed_writing(errno);
		goto out;
	}
	rc = check_unchanged(in, &st, &now);
	if (rc == ATTEMPT_CHANGED && last)
		rc = keep_last_copy(c, copied, &now);
	if (rc != ATTEMPT_DONE)
		goto out;
	/* The metadata of what was read, from the fstat of the open file. */
	entry_stat_from(&es, &st);
	src = (struct src_entry){ .dir = sdir, .name = sname, .fd = in, .st = &es };
	if (dst_finish(d, &f, &src, &c->lost) < 0 || dst_install(d, &f, dname, &c->replaced) < 0) {
		c->failed_dst = 1;
		rc = ATTEMPT_FAILED;
		goto out;
	}
	count_file(c, copied);
out:
	dst_discard(d, &f);
	close(in);
	return rc;
}

/*
 * One attempt at a file of a source on another machine (c->source): its
 * data into a fresh temporary, installed once it arrived whole and
 * checked, with the stat it was read with.  A file that changed while it
 * was read there is kept on the `last` attempt only under --changing=copy.
 *
 * --partial: the temporary is the partial an earlier run kept, if any,
 * and what the fetch checked is kept as the partial when it fails.
 */
static enum attempt copy_remote_once(struct copier *c, struct dst *d, const char *dname, int last)
{
	struct dst_file f = { .fd = -1 };
	struct entry_stat es;
	struct src_entry src;
	struct stat part;
	uint64_t copied = 0;
	enum attempt rc = ATTEMPT_FAILED;
	int got, partial = c->s->opts->partial;

	c->resume_from = 0;
	if (partial && dst_resume(d, &f, dname, &part) == 0) {
		c->resume_from = (uint64_t)part.st_size;
		c->resume_mtime = part.st_mtim;
	} else {
		/* A partial may be kept where there is none (not over another's). */
		partial = partial && errno == ENOENT;
		if (dst_create(d, &f) < 0) {
			c->failed_dst = 1;
			return ATTEMPT_FAILED;
		}
	}
	got = c->source->fetch(c, f.fd, &es, &copied);
	if (got < 0 && partial && !c->failed_dst && copied > 0) {
		struct timespec mtime = { (time_t)es.mtime_sec, (long)es.mtime_nsec };

		(void)dst_keep(d, &f, dname, copied, &mtime);
	}
	if (got > 0 && last) {
		struct stat now = { .st_size = (off_t)es.size };

		got = keep_last_copy(c, copied, &now) == ATTEMPT_DONE ? 0 : -1;
	}
	if (got != 0) {
		rc = got > 0 ? ATTEMPT_CHANGED : ATTEMPT_FAILED;
		goto out;
	}
	src = (struct src_entry){ .dir = -1, .fd = -1, .st = &es, .meta = c->meta };
	if (dst_finish(d, &f, &src, &c->lost) < 0 || dst_install(d, &f, dname, &c->replaced) < 0) {
		c->failed_dst = 1;
		goto out;
	}
	count_file(c, copied - c->resume_from); /* what moved this time */
	rc = ATTEMPT_DONE;
out:
	dst_discard(d, &f);
	return rc;
}

/* Sleep `ms` milliseconds in short steps, watching for a stop.  0 or -1. */
static int pause_before_retry(struct copier *c, unsigned ms)
{
	while (ms > 0) {
		unsigned step = ms < 10 ? ms : 10;
		struct timespec ts = { 0, (long)step * 1000000L };

		if (copy_stop_requested(c))
			return -1;
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= step;
	}
	return copy_stop_requested(c) ? -1 : 0;
}

/* A regular file, copied again while it changes (see copy_entry). */
static int copy_regular(struct copier *c, struct dst *d, int sdir, const char *sname,
			const char *dname)
{
	for (size_t retry = 0;; retry++) {
		int last = retry == ARRAY_LEN(change_backoff_ms);
		enum attempt rc = c->source != NULL
					  ? copy_remote_once(c, d, dname, last)
					  : copy_regular_once(c, d, sdir, sname, dname, last);

		if (rc != ATTEMPT_CHANGED)
			return rc == ATTEMPT_DONE ? 0 : -1;
		if (pause_before_retry(c, change_backoff_ms[retry]) < 0)
			return -1;
	}
}

/*
 * readlink into a malloc'd string; NULL with errno on failure.  A remote
 * source's target (`meta`, else NULL) was read on its machine.
 */
static char *read_link(const struct src_meta *meta, int dir, const char *name, uint64_t size_hint)
{
	size_t cap = size_hint > 0 && size_hint < PATH_MAX ? (size_t)size_hint + 1 : PATH_MAX;

	if (meta != NULL) {
		if (meta->link_target != NULL)
			return xstrdup(meta->link_target);
		errno = ENODATA;
		return NULL;
	}
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

/*
 * A symbolic link (target read here, or for a remote source there:
 * c->meta) or a special file, made anew in DST.
 */
static int copy_node(struct copier *c, struct dst *d, int sdir, const char *sname,
		     const char *dname, const struct entry_stat *st)
{
	struct src_entry src = { .dir = sdir, .name = sname, .fd = -1, .st = st, .meta = c->meta };
	char *target = NULL;
	_Atomic uint64_t *counter = &c->slot->specials;
	int rc;

	if (S_ISLNK(st->mode)) {
		target = read_link(c->meta, sdir, sname, st->size);
		if (target == NULL)
			return -1;
		counter = &c->slot->symlinks;
	}
	rc = dst_node(d, dname, &src, target, &c->replaced, &c->lost);
	free(target);
	if (rc < 0) {
		c->failed_dst = 1;
		return -1;
	}
	if (!c->rewrite)
		atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
	return 0;
}

int copy_entry(struct copier *c, struct dst *d, int sdir, const char *sname, const char *dname,
	       enum job_kind kind, const struct entry_stat *hint)
{
	int rc;

	c->reason = NULL;
	c->failed_dst = 0;
	c->warning = NULL;
	c->replaced = 0;
	meta_loss_clear(&c->lost);
	switch (kind) {
	case JOB_REGULAR: rc = copy_regular(c, d, sdir, sname, dname); break;
	case JOB_SYMLINK:
	case JOB_SPECIAL: rc = copy_node(c, d, sdir, sname, dname, hint); break;
	default: errno = EINVAL; rc = -1;
	}
	atomic_store_explicit(&c->slot->bytes_inflight, 0, memory_order_relaxed);
	return rc;
}

int link_entry(struct copier *c, struct dst *d, const char *target, const char *dname)
{
	int rc = dst_link(d, target, dname, &c->replaced);

	c->failed_dst = rc < 0;
	if (rc == 0)
		atomic_fetch_add_explicit(&c->slot->hardlinks, 1, memory_order_relaxed);
	return rc;
}
