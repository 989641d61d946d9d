/*
 * local.c - DST on a local file system (dst.h), race-safe: every
 * directory is opened beneath the root (or a --link-dest DIR) with no
 * symbolic link followed (base/path.h), and every entry relative to its
 * directory's fd, so nothing planted in DST meanwhile leads out of it.
 *
 * A regular file is written into an O_TMPFILE in its directory (no name at
 * all, so nothing is left behind even after SIGKILL), given its metadata,
 * and only then linked in under its final name.  Where O_TMPFILE is
 * missing, a named temporary ".pcopy-tmp.PID.N" is renamed over the final
 * name instead; its name is recorded in the handle's slot so the parent
 * can remove it if the worker dies.  Links, symbolic links and special
 * files replace what is there the same way: made under a temporary name
 * and renamed over it.
 */
#include "dst/dst.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dirstream.h"
#include "base/path.h"
#include "base/util.h"
#include "copy/compare.h"
#include "copy/copy.h"
#include "copy/data.h"
#include "copy/durable.h"
#include "copy/hash.h"
#include "copy/meta.h"
#include "copy/xattr.h"
#include "report/message.h"
#include "walk/lookahead.h"

/* Mode of a file while it is written: no group or other access. */
#define TEMP_MODE 0600

/* Makes named temporaries unique within the process. */
static atomic_uint tmp_counter;

/* A handle: the root, the directory entered, that directory in each --link-dest DIR. */
struct local {
	struct dst d;
	int root;              /* s->dst_root (not ours) */
	struct pathbuf dir;    /* the directory entered, from the root ("" is the root) */
	int dir_fd;            /* it, or -1 */
	int learnt;            /* the two below are learnt for it (on its first creation) */
	int inherited_acl;     /* it has a default ACL */
	gid_t dir_gid;         /* its group */
	int ld[LINK_DEST_MAX]; /* it in each --link-dest DIR: an fd, -1 missing, -2 not opened */
	char *dirbuf;          /* for listing (dirstream.h), allocated on first use */
};

static struct local *local_of(struct dst *d)
{
	return (struct local *)d;
}

static const struct session *run_of(struct dst *d)
{
	return d->s;
}

/* --- the run: roots --- */

/*
 * Open a --link-dest DIR as taken from `base`.  A copy that does not exist
 * yet (a dry run) cannot be walked through by the kernel: there "../x" is
 * taken lexically, as the real run, having made the copy, will find it.
 */
static int open_linkdest(const char *base, const char *dir)
{
	char *b = xstrdup(base);
	char *path;
	int fd;

	while (strncmp(dir, "../", 3) == 0 && access(b, F_OK) < 0) {
		char *parent = xstrdup(dirname(b));

		free(b);
		b = parent;
		dir += 3;
	}
	path = dir[0] == '/' ? xstrdup(dir) : path_join(b, dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(path);
	free(b);
	return fd;
}

/*
 * Open the --link-dest DIRs into s->link_dest_roots: DIR/PATH stands for
 * PATH below the copy, so a relative DIR is taken from the copy's path (a
 * tree) or from the directory it is in (a single entry).  A DIR that
 * cannot be opened is left out with a warning: the files are copied
 * instead, as rsync does.
 */
static void open_linkdests(struct session *s, const char *copy_path, int tree)
{
	char *base = xstrdup(copy_path);
	char *parent = tree ? base : dirname(base);

	s->nlink_dest_roots = 0;
	for (int i = 0; i < s->opts->nlink_dests; i++) {
		const char *dir = s->opts->link_dests[i];
		int fd = open_linkdest(parent, dir);

		if (fd < 0) {
			char reason[256];

			snprintf(reason, sizeof(reason), "--link-dest not used: %s",
				 strerror(errno));
			report_path_error(dir, reason);
			continue;
		}
		s->link_dest_roots[s->nlink_dest_roots++] = fd;
	}
	free(base);
}

static int local_root_open(struct session *s, const char *path, int tree, char **name)
{
	s->dst_root = -1;
	s->nlink_dest_roots = 0;
	if (!tree) {
		s->dst_root = open_parent_dir(path, name);
	} else if (s->opts->dry_run) {
		/* Look, never make: a dry run predicts conflicts with what is there. */
		s->dst_root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		open_linkdests(s, path, tree);
		return 0;
	} else if (mkdir(path, 0700) == 0 || errno == EEXIST) {
		/* One that exists is made safe to write in by the walk (run/copytree.c). */
		s->dst_root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (s->dst_root < 0 || (s->durable != NULL && durable_note(s->durable, s->dst_root) < 0))
		return -1;
	open_linkdests(s, path, tree);
	return 0;
}

static void local_root_close(struct session *s)
{
	for (int i = 0; i < s->nlink_dest_roots; i++)
		close(s->link_dest_roots[i]);
	s->nlink_dest_roots = 0;
	if (s->dst_root >= 0)
		close(s->dst_root);
	s->dst_root = -1;
}

static int local_sync(struct session *s)
{
	return s->durable == NULL ? 0 : durable_sync(s->durable);
}

/* --- a handle --- */

/* Forget the directory entered, in DST and in the --link-dest DIRs. */
static void leave(struct local *l)
{
	if (l->dir_fd >= 0 && l->dir_fd != l->root)
		close(l->dir_fd);
	l->dir_fd = -1;
	l->learnt = 0;
	for (int i = 0; i < LINK_DEST_MAX; i++) {
		if (l->ld[i] >= 0)
			close(l->ld[i]);
		l->ld[i] = -2;
	}
}

static struct dst *local_open(const struct session *s, struct worker_slot *slot)
{
	struct local *l = xcalloc(1, sizeof(*l));

	l->d.ops = &dst_local;
	l->d.s = s;
	l->d.slot = slot;
	l->root = s->dst_root;
	l->dir_fd = -1;
	pathbuf_init(&l->dir);
	for (int i = 0; i < LINK_DEST_MAX; i++)
		l->ld[i] = -2;
	return &l->d;
}

static void local_close(struct dst *d)
{
	struct local *l = local_of(d);

	leave(l);
	pathbuf_free(&l->dir);
	free(l->dirbuf);
	free(l);
}

static int local_enter(struct dst *d, const char *reldir, size_t len)
{
	struct local *l = local_of(d);

	if (l->dir_fd >= 0 && l->dir.len == len && memcmp(l->dir.data, reldir, len) == 0)
		return 0;
	leave(l);
	pathbuf_set(&l->dir, reldir, len);
	if (l->root < 0) {
		errno = ENOENT; /* a dry run into a DST not made yet */
		return -1;
	}
	l->dir_fd = len == 0 ? l->root
			     : open_beneath(l->root, l->dir.data, O_RDONLY | O_DIRECTORY, 0, 0);
	return l->dir_fd < 0 ? -1 : 0;
}

/*
 * The directory entered in tree `tree`: DST's (0), or the k-th --link-dest
 * DIR's, opened on first use; -1 with errno where it has none.
 */
static int dir_of(struct local *l, int tree)
{
	int *fd;

	if (tree == 0) {
		if (l->dir_fd < 0)
			errno = EBADF;
		return l->dir_fd;
	}
	if (tree > run_of(&l->d)->nlink_dest_roots) {
		errno = EINVAL;
		return -1;
	}
	fd = &l->ld[tree - 1];
	if (*fd == -2)
		*fd = open_beneath(run_of(&l->d)->link_dest_roots[tree - 1], l->dir.data,
				   O_RDONLY | O_DIRECTORY, 0, 0);
	return *fd;
}

/*
 * What the directory entered gives a file made in it: a default ACL, a
 * group.  Learnt on the first creation in it, so that a run which creates
 * nothing there (an up-to-date --update) pays nothing for it.
 */
static void learn_dir(struct local *l)
{
	struct stat st;

	if (l->learnt)
		return;
	l->inherited_acl = meta_has_default_acl(l->dir_fd);
	l->dir_gid = fstat(l->dir_fd, &st) == 0 ? st.st_gid : (gid_t)-1;
	l->learnt = 1;
}

/*
 * Where src's attributes are read: for a remote source, the list read on
 * its machine (none, if it was not read); else its open `fd`, or with fd
 * -1 `name` in `dir` (-1: none).
 */
static struct xattr_source attrs_of(const struct src_entry *src, int fd, int dir, const char *name)
{
	const struct src_meta *m = src->meta;

	if (m != NULL)
		return (struct xattr_source){ .listed = m->has_xattrs,
					      .list = m->xattrs,
					      .list_len = m->xattrs_len,
					      .fd = -1,
					      .dir = -1 };
	return (struct xattr_source){ .fd = fd, .dir = dir, .name = name };
}

/* --- looking --- */

static int local_lstat(struct dst *d, int tree, const char *name, struct stat *st)
{
	int dir = dir_of(local_of(d), tree);

	return dir < 0 ? -1 : fstatat(dir, name, st, AT_SYMLINK_NOFOLLOW);
}

static ssize_t local_readlink(struct dst *d, const char *name, char *buf, size_t len)
{
	return readlinkat(local_of(d)->dir_fd, name, buf, len);
}

/*
 * Does the regular file open as `fd` differ from a remote source, whose
 * machine sent its hash?  A size that differs tells without a read.
 * 1, 0 or -1.
 */
static int differs_from_hash(int fd, const struct src_entry *src)
{
	unsigned char hash[HASH_SIZE];
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || src->meta->hash == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)st.st_size != src->st->size)
		return 1;
	if (hash_fd(fd, (uint64_t)st.st_size, hash) < 0)
		return -1;
	return memcmp(hash, src->meta->hash, HASH_SIZE) != 0;
}

/* Locally both files are read (compare.h says why); across machines each side hashes its own. */
static int local_compare(struct dst *d, int tree, const char *name, const struct src_entry *src)
{
	int dir = dir_of(local_of(d), tree);
	int fd, rc;

	if (dir < 0)
		return -1;
	if (src->meta == NULL)
		return compare_contents_at(src->dir, src->name, src->follow, dir, name,
					   src->st->size);
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the open. */
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = differs_from_hash(fd, src);
	close_both(fd, -1);
	return rc;
}

static int local_attrs_equal(struct dst *d, int tree, const char *name, const struct src_entry *src,
			     unsigned kinds)
{
	int dir = dir_of(local_of(d), tree);
	const struct src_meta *m = src->meta;

	if (dir < 0)
		return -1;
	if (m == NULL)
		return xattr_equal_at(src->dir, src->name, dir, name, kinds);
	if (m->has_xattrs)
		return xattr_list_equal_at(m->xattrs, m->xattrs_len, dir, name, kinds);
	/* Not read on SRC's machine, so not asked for: nothing to tell them apart. */
	errno = ENODATA;
	return kinds == 0 ? 1 : -1;
}

static int local_trees(struct dst *d)
{
	return run_of(d)->nlink_dest_roots;
}

static int local_list(struct dst *d, struct lookahead_list *out)
{
	struct local *l = local_of(d);
	int fd = openat(l->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirstream dir;
	const char *name;
	unsigned char type;
	int rc, saved;

	if (fd < 0)
		return -1;
	if (l->dirbuf == NULL)
		l->dirbuf = dirstream_buffer();
	dirstream_start(&dir, fd, l->dirbuf);
	while ((rc = dirstream_next(&dir, &type, &name)) > 0)
		lookahead_list_add(out, type, name);
	saved = errno;
	close(fd);
	errno = saved;
	return rc < 0 ? -1 : 0;
}

/* --- directories --- */

static int local_mkdir(struct dst *d, const char *name, struct stat *before)
{
	int dir = local_of(d)->dir_fd;

	before->st_mode = 0;
	if (mkdirat(dir, name, 0700) == 0)
		return 0;
	if (errno != EEXIST || fstatat(dir, name, before, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISDIR(before->st_mode))
		return 0;
	if (S_ISREG(before->st_mode)) {
		errno = ENOTDIR; /* cp's rule: a file is not replaced by a directory */
		return -1;
	}
	if (unlinkat(dir, name, 0) < 0 || mkdirat(dir, name, 0700) < 0)
		return -1;
	return 0;
}

/*
 * Through an O_PATH descriptor and /proc, so that a directory swapped for
 * a symbolic link meanwhile is not followed (fchmodat would follow it).
 */
static int local_chmod_dir(struct dst *d, const char *name, mode_t mode)
{
	char proc[PROC_FD_PATH_MAX];
	int fd = openat(local_of(d)->dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = chmod(proc_fd_path(proc, fd, NULL), mode);
	close_both(fd, -1);
	return rc;
}

static int local_dir_meta(struct dst *d, const char *relpath, const struct src_entry *src,
			  unsigned flags, struct meta_loss *lost)
{
	/* A directory made under a default ACL inherits it: strip what SRC lacks. */
	const struct meta_known known = { .created = (mode_t)-1,
					  .inherited_acl = 1,
					  .existing = (flags & DST_DIR_EXISTED) != 0 };
	const struct session *s = run_of(d);
	const struct xattr_source from = attrs_of(src, src->fd, -1, NULL);
	int fd = open_beneath(s->dst_root, relpath, O_RDONLY | O_DIRECTORY, 0, 0);
	int rc = 0;

	if (fd < 0)
		return -1;
	if (!(flags & DST_DIR_UP_TO_DATE))
		(void)meta_apply_fd(s, &from, fd, src->st, &known, lost);
	/* --fsync: its file system is synced at the end (durable.h). */
	if (s->durable != NULL && durable_note(s->durable, fd) < 0)
		rc = -1;
	close_both(fd, -1);
	return rc;
}

/* --- temporaries --- */

static void make_tmpname(char *out)
{
	snprintf(out, TMPNAME_MAX, TMPNAME_PREFIX "%ld.%u", (long)getpid(),
		 atomic_fetch_add(&tmp_counter, 1));
}

/* Record (or clear, with "") the named temporary the parent must clean up. */
static void note_tmpname(struct dst *d, const char *name)
{
	size_t len = strnlen(name, TMPNAME_MAX - 1); /* make_tmpname's fit */

	memcpy(d->slot->tmpname, name, len);
	d->slot->tmpname[len] = '\0';
}

/* Rename the named temporary over `name`; it is gone either way after. */
static int rename_into_place(struct dst *d, int dir, char *tmpname, const char *name)
{
	int rc = renameat(dir, tmpname, dir, name);
	int saved = errno;

	if (rc < 0)
		(void)unlinkat(dir, tmpname, 0);
	note_tmpname(d, "");
	tmpname[0] = '\0';
	errno = saved;
	return rc;
}

static int create_named(struct dst *d, int dir, struct dst_file *f)
{
	for (int tries = 0; tries < 100; tries++) {
		make_tmpname(f->name);
		note_tmpname(d, f->name);
		f->fd = openat(dir, f->name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			       TEMP_MODE);
		if (f->fd >= 0 || errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		note_tmpname(d, "");
		f->name[0] = '\0';
	}
	return f->fd < 0 ? -1 : 0;
}

/* Mode 0600 until its metadata is applied, whichever kind it is. */
static int local_create(struct dst *d, struct dst_file *f)
{
	_Atomic int *no_tmpfile = &run_of(d)->shared->no_tmpfile;
	int dir = local_of(d)->dir_fd;

	f->fd = -1;
	f->linked = 0;
	f->resumed = 0;
	f->name[0] = '\0';
	if (!atomic_load(no_tmpfile)) {
		f->fd = openat(dir, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, TEMP_MODE);
		if (f->fd >= 0)
			return 0;
		if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
			return -1;
		atomic_store(no_tmpfile, 1);
	}
	return create_named(d, dir, f);
}

static int local_fill(struct dst *d, struct dst_file *f, struct copier *c, int in,
		      const struct stat *st, uint64_t *copied)
{
	(void)d;
	return copy_data(c, in, f->fd, st, copied);
}

/*
 * Does a file made in the directory entered already have the source's
 * owner?  It gets our uid, and our gid or the directory's (setgid
 * directory, grpid mount): when all of these match the source, fchown
 * would change nothing.
 */
static int owner_is_right(const struct local *l, const struct entry_stat *st)
{
	const struct session *s = l->d.s;

	return st->uid == s->euid && st->gid == s->egid && l->dir_gid == s->egid;
}

/*
 * Close what was written, checked: some file systems (NFS, FUSE) send the
 * data then and report a write error only to close(2).  A named temporary
 * is closed for good; an O_TMPFILE, whose fd its linking needs, has a
 * duplicate closed, which flushes it as well.  0, or -1 with errno.
 */
static int close_checked(struct dst_file *f)
{
	int fd = f->name[0] != '\0' ? f->fd : dup(f->fd);

	if (fd < 0)
		return -1;
	if (fd == f->fd)
		f->fd = -1;
	return close(fd);
}

static int local_finish(struct dst *d, struct dst_file *f, const struct src_entry *src,
			struct meta_loss *lost)
{
	struct local *l = local_of(d);
	const struct xattr_source from = attrs_of(src, src->fd, -1, NULL);
	struct meta_known known;

	learn_dir(l);
	known.created = TEMP_MODE;
	/* A partial taken up was made by another run: its owner and
	   attributes are not known to be a new file's. */
	known.owner_right = !f->resumed && owner_is_right(l, src->st);
	known.inherited_acl = l->inherited_acl;
	known.existing = f->resumed;
	/* Lost metadata is reported, but the data is right: the file is still good. */
	(void)meta_apply_fd(d->s, &from, f->fd, src->st, &known, lost);
	/*
	 * --fsync: data and inode (size, mode, times) on disk before the name,
	 * so a crash never leaves an empty or partial file under it.  The
	 * name itself is made durable by the sync at the end (dst_sync).
	 */
	if (d->s->opts->fsync && fsync(f->fd) < 0)
		return -1;
	return close_checked(f);
}

/* Does the name of f, a partial taken up, still lead to the file taken up? */
static int still_named(int dir, const struct dst_file *f)
{
	struct stat there;

	return fstatat(dir, f->name, &there, AT_SYMLINK_NOFOLLOW) == 0 && there.st_ino == f->ino &&
	       there.st_dev == f->dev;
}

/* Give an O_TMPFILE the name `name`; fails with EEXIST like link(2). */
static int link_tmpfile(const struct session *s, int fd, int dir, const char *name)
{
	_Atomic int *no_empty_path_link = &s->shared->no_empty_path_link;
	char proc[PROC_FD_PATH_MAX];

	if (!atomic_load(no_empty_path_link)) {
		if (linkat(fd, "", dir, name, AT_EMPTY_PATH) == 0)
			return 0;
		/* Without CAP_DAC_READ_SEARCH the kernel answers ENOENT. */
		if (errno != ENOENT && errno != EPERM)
			return -1;
		atomic_store(no_empty_path_link, 1);
	}
	return linkat(AT_FDCWD, proc_fd_path(proc, fd, NULL), dir, name, AT_SYMLINK_FOLLOW);
}

static int local_install(struct dst *d, struct dst_file *f, const char *name, int *replaced)
{
	int dir = local_of(d)->dir_fd;

	if (f->resumed && !still_named(dir, f)) {
		errno = ESTALE; /* its name was taken meanwhile: installed it would not be ours */
		return -1;
	}
	if (f->name[0] != '\0') {
		/* Only to tell what was done: the rename replaces either way. */
		*replaced = faccessat(dir, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
		if (rename_into_place(d, dir, f->name, name) < 0)
			return -1;
		f->linked = 1;
		return 0;
	}
	if (link_tmpfile(d->s, f->fd, dir, name) == 0) {
		f->linked = 1;
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	*replaced = 1;
	/* Something is in the way: link under a temporary name, rename over it. */
	for (int tries = 0; tries < 100; tries++) {
		make_tmpname(f->name);
		note_tmpname(d, f->name);
		if (link_tmpfile(d->s, f->fd, dir, f->name) == 0)
			break;
		f->name[0] = '\0';
		if (errno != EEXIST) {
			note_tmpname(d, "");
			return -1;
		}
	}
	if (f->name[0] == '\0' || rename_into_place(d, dir, f->name, name) < 0)
		return -1;
	f->linked = 1;
	return 0;
}

static void local_discard(struct dst *d, struct dst_file *f)
{
	int saved = errno;

	if (f->name[0] != '\0' && !f->linked) {
		(void)unlinkat(local_of(d)->dir_fd, f->name, 0);
		note_tmpname(d, "");
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	errno = saved;
}

static int local_resume(struct dst *d, struct dst_file *f, const char *name, struct stat *st)
{
	int dir = local_of(d)->dir_fd, fd;
	char partial[NAME_MAX + 1];

	if (path_partial_name(name, partial) < 0) {
		errno = ENOENT;
		return -1;
	}
	/* Non-blocking: a FIFO put there must not hold the run up. */
	fd = openat(dir, partial, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	f->fd = fd;
	f->linked = 0;
	f->resumed = 1;
	snprintf(f->name, sizeof(f->name), "%s", partial);
	/*
	 * Ours alone: owner-only, one link, and not another run's, which
	 * holds the lock while it uses it and may have installed it under
	 * its final name since we opened it (the name no longer leads to it).
	 */
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_uid == d->s->euid &&
	    st->st_nlink == 1 && (st->st_mode & 07777) == TEMP_MODE &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0) {
		f->dev = st->st_dev;
		f->ino = st->st_ino;
		if (still_named(dir, f))
			return 0;
	}
	close(fd);
	*f = (struct dst_file){ .fd = -1 };
	errno = EPERM;
	return -1;
}

static int local_keep(struct dst *d, struct dst_file *f, const char *name, uint64_t len,
		      const struct timespec *mtime)
{
	const struct timespec times[2] = { { 0, UTIME_OMIT }, *mtime };
	int dir = local_of(d)->dir_fd, rc;
	char partial[NAME_MAX + 1];

	if (path_partial_name(name, partial) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (len > INT64_MAX || ftruncate(f->fd, (off_t)len) < 0 || fchmod(f->fd, TEMP_MODE) < 0 ||
	    futimens(f->fd, times) < 0)
		return -1;
	if (strcmp(f->name, partial) == 0) { /* taken up, and kept again */
		f->linked = 1;
		return 0;
	}
	/* Never over another's: a run that kept one meanwhile keeps it. */
	if (f->name[0] == '\0')
		rc = link_tmpfile(d->s, f->fd, dir, partial);
	else if ((rc = renameat2(dir, f->name, dir, partial, RENAME_NOREPLACE)) == 0)
		note_tmpname(d, "");
	if (rc == 0)
		f->linked = 1; /* kept: not to be removed with f */
	return rc;
}

static int local_untemp(struct dst *d, const char *relpath, const char *tmpname)
{
	int dir, rc;

	if (strncmp(tmpname, TMPNAME_PREFIX, strlen(TMPNAME_PREFIX)) != 0) {
		errno = EINVAL;
		return -1;
	}
	dir = open_parent_beneath(local_of(d)->root, relpath, 0);
	if (dir < 0)
		return -1;
	rc = unlinkat(dir, tmpname, 0);
	close_both(dir, -1);
	return rc;
}

/* --- other entries --- */

/* What `make` needs to know. */
struct node_args {
	const char *target; /* a symbolic link's, or NULL */
	mode_t mode;        /* else the special file's type and permission bits */
	dev_t rdev;         /* and device number */
};

static int make(const struct node_args *a, int dir, const char *name)
{
	if (a->target != NULL)
		return symlinkat(a->target, dir, name);
	return mknodat(dir, name, a->mode, a->rdev);
}

/*
 * Make the entry under its final name, or, when something is already
 * there, under a temporary name renamed over it; then apply owner,
 * attributes and times (what cannot be kept goes to `lost`).
 */
static int local_node(struct dst *d, const char *name, const struct src_entry *src,
		      const char *target, int *replaced, struct meta_loss *lost)
{
	struct local *l = local_of(d);
	struct node_args a = { .target = target,
			       .mode = (src->st->mode & S_IFMT) | meta_create_mode(d->s, src->st),
			       .rdev = (dev_t)src->st->rdev };
	const struct xattr_source from = attrs_of(src, -1, src->dir, src->name);
	struct meta_known known = { .inherited_acl = 0 };
	char tmp[TMPNAME_MAX];

	learn_dir(l);
	known.inherited_acl = l->inherited_acl;
	*replaced = 0;
	if (make(&a, l->dir_fd, name) == 0) {
		(void)meta_apply_at(d->s, &from, l->dir_fd, name, src->st, &known, lost);
		return 0;
	}
	if (errno != EEXIST)
		return -1;
	*replaced = 1;
	make_tmpname(tmp);
	note_tmpname(d, tmp);
	if (make(&a, l->dir_fd, tmp) < 0) {
		note_tmpname(d, "");
		return -1;
	}
	(void)meta_apply_at(d->s, &from, l->dir_fd, tmp, src->st, &known, lost);
	return rename_into_place(d, l->dir_fd, tmp, name);
}

/*
 * A regular file's metadata, in place, from its source opened here (a
 * remote source's attributes came with it: nothing to open).
 */
static int fix_regular(struct dst *d, const char *name, const struct src_entry *src,
		       struct meta_loss *lost)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	int in = src->meta != NULL ? -1 : openat(src->dir, src->name, flags);
	int out = in < 0 && src->meta == NULL ? -1 : openat(local_of(d)->dir_fd, name, flags);
	const struct xattr_source from = attrs_of(src, in, -1, NULL);
	int rc = -1;

	if (out >= 0) {
		(void)meta_apply_fd(d->s, &from, out, src->st, NULL, lost);
		rc = 0;
	}
	close_both(in, out);
	return rc;
}

static int local_fix_meta(struct dst *d, const char *name, const struct src_entry *src,
			  struct meta_loss *lost)
{
	/* Attributes SRC no longer has go (a link has no ACLs to strip). */
	struct meta_known known = { .inherited_acl = !S_ISLNK(src->st->mode), .existing = 1 };
	const struct xattr_source from = attrs_of(src, -1, src->dir, src->name);

	if (S_ISREG(src->st->mode))
		return fix_regular(d, name, src, lost);
	(void)meta_apply_at(d->s, &from, local_of(d)->dir_fd, name, src->st, &known, lost);
	return 0;
}

/* Same inode on both names already? */
static int same_file_at(int adir, const char *aname, int bdir, const char *bname)
{
	struct stat a, b;

	return fstatat(adir, aname, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	       fstatat(bdir, bname, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/*
 * Replace `name` in the directory entered by a hard link to `tname` in
 * `tdir`: 0 linked, 1 already the same file, -1 with errno.
 */
static int link_replace(struct dst *d, int tdir, const char *tname, const char *name, int *replaced)
{
	int dir = local_of(d)->dir_fd;
	char tmp[TMPNAME_MAX];

	*replaced = 0;
	if (linkat(tdir, tname, dir, name, 0) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	/* rename(2) between two links of one inode does nothing: check first. */
	if (same_file_at(tdir, tname, dir, name))
		return 1;
	*replaced = 1;
	make_tmpname(tmp);
	note_tmpname(d, tmp);
	if (linkat(tdir, tname, dir, tmp, 0) < 0) {
		note_tmpname(d, "");
		return -1;
	}
	return rename_into_place(d, dir, tmp, name);
}

static int local_link(struct dst *d, const char *target, const char *name, int *replaced)
{
	int tdir = open_parent_beneath(local_of(d)->root, target, 0);
	int rc;

	if (tdir < 0)
		return -1;
	rc = link_replace(d, tdir, path_basename(target), name, replaced);
	close_both(tdir, -1);
	return rc;
}

/*
 * By name, not following it: should the file have been swapped for a
 * symbolic link since it was looked at, the link is what is linked, and
 * nothing outside the DIR is reached.
 */
static int local_link_from(struct dst *d, int tree, const char *name, int *replaced)
{
	struct local *l = local_of(d);
	int from = tree > 0 ? dir_of(l, tree) : -1;

	if (from < 0) {
		if (tree <= 0)
			errno = EINVAL;
		return -1;
	}
	if (replaced == NULL)
		return linkat(from, name, l->dir_fd, name, 0);
	return link_replace(d, from, name, name, replaced) < 0 ? -1 : 0;
}

static int local_remove(struct dst *d, const char *name, int is_dir)
{
	return unlinkat(local_of(d)->dir_fd, name, is_dir ? AT_REMOVEDIR : 0);
}

const struct dst_ops dst_local = {
	.root_open = local_root_open,
	.root_close = local_root_close,
	.sync = local_sync,
	.open = local_open,
	.close = local_close,
	.enter = local_enter,
	.lstat = local_lstat,
	.readlink = local_readlink,
	.compare = local_compare,
	.attrs_equal = local_attrs_equal,
	.trees = local_trees,
	.list = local_list,
	.mkdir = local_mkdir,
	.chmod_dir = local_chmod_dir,
	.create = local_create,
	.fill = local_fill,
	.finish = local_finish,
	.install = local_install,
	.discard = local_discard,
	.resume = local_resume,
	.keep = local_keep,
	.node = local_node,
	.fix_meta = local_fix_meta,
	.link = local_link,
	.link_from = local_link_from,
	.remove = local_remove,
	.dir_meta = local_dir_meta,
	.untemp = local_untemp,
};
