/*
 * dst.h - the destination: every operation on DST goes through here.
 *
 * A `struct dst` is one thread's handle on DST (each worker has one, and
 * the parent has its own for the walk and the final passes): the root of
 * the copy, and a directory entered below it (dst_enter), in which names
 * are looked up, made, replaced and removed.  Nothing else in pcopy opens,
 * stats, writes, links, renames or removes anything in DST, nor reads the
 * --link-dest directories, which are on DST's side too.  What an entry is
 * copied from is passed as a `struct src_entry`, which an implementation
 * reads as it needs (its data, its attributes).
 *
 * One implementation today: the local file system (dst/local.c), race-safe
 * against what others do in DST meanwhile: every directory is opened
 * beneath the root without following a symbolic link (base/path.h), and
 * every entry relative to its directory's fd.
 *
 * A copy to another machine does not need a second implementation: it
 * runs pcopy where DST is, with a source that is elsewhere (src_entry's
 * meta; transport/remote.h), so every decision and write stays local to
 * DST and goes through this interface.
 */
#ifndef PCOPY_DST_H
#define PCOPY_DST_H

#include <limits.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "copy/loss.h"
#include "core/job.h"
#include "core/session.h"

struct copier;
struct lookahead_list;

/* The local file system's implementation (dst/local.c). */
extern const struct dst_ops dst_local;

/* The source entry an operation copies from, as the DST side may read it. */
struct src_entry {
	int dir;                     /* the source directory ... */
	const char *name;            /* ... and the entry's name in it */
	int fd;                      /* the entry open for reading (regular files), or -1 */
	int follow;                  /* -L: `name` may be a link to follow */
	const struct entry_stat *st; /* its stat */
	const struct src_meta *meta; /* a remote source: what was read there (dir is
					 then -1 and fd -1); NULL for a local one */
};

/* A regular file being written: a temporary until it is installed. */
struct dst_file {
	int fd;                 /* local: open for writing, or -1 */
	int linked;             /* it has its final name */
	int resumed;            /* a partial taken up (dst_resume), not made anew: */
	dev_t dev;              /* its device and inode, which its name must */
	ino_t ino;              /* still lead to when it is installed */
	char name[NAME_MAX + 1]; /* local: a named temporary (or a partial taken
				    up: dst_resume), or "" (O_TMPFILE) */
};

struct dst;

/* What dst_dir_meta learnt the walk knows of a directory (bits). */
enum dst_dir_flags {
	DST_DIR_ATTRS_DIFFER = 1 << 0, /* its attributes differ from SRC's */
	DST_DIR_EXISTED = 1 << 1,      /* DST had it before the run (merged into) */
	DST_DIR_UP_TO_DATE = 1 << 2,   /* its metadata is SRC's already: leave it */
};

/* What an implementation provides (the local one: dst/local.c). */
struct dst_ops {
	/* The run's: set up DST for one SRC, and end it (dst_root_open, below). */
	int (*root_open)(struct session *s, const char *path, int tree, char **name);
	void (*root_close)(struct session *s);
	int (*sync)(struct session *s);

	/* A handle for one thread, counting in `slot`; NULL with errno. */
	struct dst *(*open)(const struct session *s, struct worker_slot *slot);
	void (*close)(struct dst *d);
	int (*enter)(struct dst *d, const char *reldir, size_t len);

	/* Looking, for the decisions. */
	int (*lstat)(struct dst *d, int tree, const char *name, struct stat *st);
	ssize_t (*readlink)(struct dst *d, const char *name, char *buf, size_t len);
	int (*compare)(struct dst *d, int tree, const char *name, const struct src_entry *src);
	int (*attrs_equal)(struct dst *d, int tree, const char *name, const struct src_entry *src,
			   unsigned kinds);
	int (*trees)(struct dst *d);
	int (*list)(struct dst *d, struct lookahead_list *out);

	/* Making and replacing. */
	int (*mkdir)(struct dst *d, const char *name, struct stat *before);
	int (*chmod_dir)(struct dst *d, const char *name, mode_t mode);
	int (*create)(struct dst *d, struct dst_file *f);
	int (*fill)(struct dst *d, struct dst_file *f, struct copier *c, int in,
		    const struct stat *st, uint64_t *copied);
	int (*finish)(struct dst *d, struct dst_file *f, const struct src_entry *src,
		      struct meta_loss *lost);
	int (*install)(struct dst *d, struct dst_file *f, const char *name, int *replaced);
	void (*discard)(struct dst *d, struct dst_file *f);
	int (*resume)(struct dst *d, struct dst_file *f, const char *name, struct stat *st);
	int (*keep)(struct dst *d, struct dst_file *f, const char *name, uint64_t len,
		    const struct timespec *mtime);
	int (*node)(struct dst *d, const char *name, const struct src_entry *src,
		    const char *target, int *replaced, struct meta_loss *lost);
	int (*fix_meta)(struct dst *d, const char *name, const struct src_entry *src,
			struct meta_loss *lost);
	int (*link)(struct dst *d, const char *target, const char *name, int *replaced);
	int (*link_from)(struct dst *d, int tree, const char *name, int *replaced);
	int (*remove)(struct dst *d, const char *name, int is_dir);
	int (*dir_meta)(struct dst *d, const char *relpath, const struct src_entry *src,
			unsigned flags, struct meta_loss *lost);
	int (*untemp)(struct dst *d, const char *relpath, const char *tmpname);
};

/* The part of a handle every implementation has. */
struct dst {
	const struct dst_ops *ops;
	const struct session *s;  /* the run */
	struct worker_slot *slot; /* where a named temporary is recorded (slot->tmpname) */
};

/*
 * Set up DST for one SRC (s->dst_ops): for a tree, `path` is the copy's
 * top directory, made unless it exists (not in a dry run, where a missing
 * one is no error); for a single entry, the directory that will hold
 * `path` is the root and *name its name there (malloc'd).  Also opens the
 * --link-dest DIRs (a DIR that cannot be is a warning) and, with --fsync,
 * notes the file system.  0, or -1 with errno (reported by the caller).
 */
static inline int dst_root_open(struct session *s, const char *path, int tree, char **name)
{
	return s->dst_ops->root_open(s, path, tree, name);
}

/* End what dst_root_open began, once every handle is closed. */
static inline void dst_root_close(struct session *s)
{
	s->dst_ops->root_close(s);
}

/* --fsync, at the end of the run: what was written is on stable storage.  0 or -1. */
static inline int dst_sync(struct session *s)
{
	return s->dst_ops->sync(s);
}

/*
 * A handle on the run's DST for one thread, whose temporaries are
 * recorded in `slot`; NULL with errno.
 */
static inline struct dst *dst_open(const struct session *s, struct worker_slot *slot)
{
	return s->dst_ops->open(s, slot);
}

static inline void dst_close(struct dst *d)
{
	if (d != NULL)
		d->ops->close(d);
}

/*
 * Enter the directory `reldir` (its first `len` bytes; "" is the root):
 * the names the operations below take are in it from now on.  Entering
 * the one entered already costs nothing.  0, or -1 with errno.
 */
static inline int dst_enter(struct dst *d, const char *reldir, size_t len)
{
	return d->ops->enter(d, reldir, len);
}

/*
 * lstat of `name` in tree `tree` (0: DST; k: the k-th --link-dest DIR).
 * 0, or -1 with errno (ENOENT: nothing there).
 */
static inline int dst_lstat(struct dst *d, int tree, const char *name, struct stat *st)
{
	return d->ops->lstat(d, tree, name, st);
}

/* readlink of `name` into buf (no NUL added): its length, or -1 with errno. */
static inline ssize_t dst_readlink(struct dst *d, const char *name, char *buf, size_t len)
{
	return d->ops->readlink(d, name, buf, len);
}

/*
 * -c: do the contents of the regular file `name` in tree `tree` differ
 * from src's (its size src->st->size)?  1 when they differ, 0 when equal,
 * -1 with errno when either cannot be read.
 */
static inline int dst_compare(struct dst *d, int tree, const char *name,
			      const struct src_entry *src)
{
	return d->ops->compare(d, tree, name, src);
}

/*
 * Does `name` in tree `tree` carry the same extended attributes of the
 * kinds `kinds` (copy/xattr.h's XATTR_ACLS, XATTR_OTHERS) as src?  1, 0,
 * or -1 with errno.
 */
static inline int dst_attrs_equal(struct dst *d, int tree, const char *name,
				  const struct src_entry *src, unsigned kinds)
{
	return d->ops->attrs_equal(d, tree, name, src, kinds);
}

/* How many --link-dest DIRs there are to look into (trees 1 to this). */
static inline int dst_trees(struct dst *d)
{
	return d->ops->trees(d);
}

/*
 * The names of the directory entered, each with its d_type, into `out`
 * (walk/lookahead.h's packed form).  0, or -1 with errno (what was read
 * before a failure is in `out`).
 */
static inline int dst_list(struct dst *d, struct lookahead_list *out)
{
	return d->ops->list(d, out);
}

/*
 * Make the directory `name`, owner-only until its metadata is set at the
 * end, or reuse the one there (*before then its lstat; st_mode 0 for
 * nothing).  A symbolic link or other non-directory there is replaced,
 * except a regular file (ENOTDIR).  0, or -1 with errno.
 */
static inline int dst_mkdir(struct dst *d, const char *name, struct stat *before)
{
	return d->ops->mkdir(d, name, before);
}

/* Set the permission bits of the directory `name`, not following a link.  0 or -1. */
static inline int dst_chmod_dir(struct dst *d, const char *name, mode_t mode)
{
	return d->ops->chmod_dir(d, name, mode);
}

/*
 * Begin a new regular file in the directory entered: nameless (or under a
 * temporary name, recorded in the slot), mode 0600 until its metadata is
 * set, so that no one else reads it incomplete.  0, or -1 with errno.
 */
static inline int dst_create(struct dst *d, struct dst_file *f)
{
	return d->ops->create(d, f);
}

/*
 * Fill f with the data of the regular source file `in` (fstat gave st), to
 * its end, holes kept, as copy/data.h's copy_data does; *copied is what
 * was copied.  0, or -1 with errno (c->reason).
 */
static inline int dst_fill(struct dst *d, struct dst_file *f, struct copier *c, int in,
			   const struct stat *st, uint64_t *copied)
{
	return d->ops->fill(d, f, c, in, st, copied);
}

/*
 * Give f src's owner, attributes, mode and times (what cannot be kept goes
 * to `lost`; the file is still good), then, with --fsync, put it on
 * stable storage, and close what was written, checked.  0, or -1 with
 * errno: f is then not to be installed.
 */
static inline int dst_finish(struct dst *d, struct dst_file *f, const struct src_entry *src,
			     struct meta_loss *lost)
{
	return d->ops->finish(d, f, src, lost);
}

/*
 * Put f under `name` in the directory entered, replacing what is there in
 * one step (*replaced: something was).  0, or -1 with errno.
 */
static inline int dst_install(struct dst *d, struct dst_file *f, const char *name, int *replaced)
{
	return d->ops->install(d, f, name, replaced);
}

/* Drop f, installed or not; nothing of an uninstalled one is left. */
static inline void dst_discard(struct dst *d, struct dst_file *f)
{
	d->ops->discard(d, f);
}

/*
 * --partial: take up the partial kept of `name` in the directory entered
 * (base/path.h's partial name) as f, open for reading and writing and
 * locked against another run taking it up too, to be installed or
 * discarded as dst_create's; its stat in *st.  0, or -1 with errno:
 * ENOENT, none; EPERM, not one this run may trust (not ours, not a plain
 * owner-only file of one link, or another run's), left alone.
 */
static inline int dst_resume(struct dst *d, struct dst_file *f, const char *name, struct stat *st)
{
	return d->ops->resume(d, f, name, st);
}

/*
 * --partial: keep the first `len` bytes of f, which is not to be
 * installed, as the partial of `name`, owner-only and with `mtime` (the
 * source file's, to know it by), replacing any before.  0, or -1 with
 * errno.  f is then discarded as ever.
 */
static inline int dst_keep(struct dst *d, struct dst_file *f, const char *name, uint64_t len,
			   const struct timespec *mtime)
{
	return d->ops->keep(d, f, name, len, mtime);
}

/*
 * Make `name` a symbolic link to `target` (not NULL) or a special file of
 * src's type, mode and device number, replacing what is there in one step
 * (*replaced), then give it src's owner, attributes and times (what cannot
 * be kept goes to `lost`).  0, or -1 with errno.
 */
static inline int dst_node(struct dst *d, const char *name, const struct src_entry *src,
			   const char *target, int *replaced, struct meta_loss *lost)
{
	return d->ops->node(d, name, src, target, replaced, lost);
}

/*
 * Set src's metadata on `name` in place (sync/plan.h's PLAN_FIX_META),
 * removing the attributes src does not have; what cannot be kept goes to
 * `lost`.  0, or -1 with errno (EACCES: it cannot be opened for it).
 */
static inline int dst_fix_meta(struct dst *d, const char *name, const struct src_entry *src,
			       struct meta_loss *lost)
{
	return d->ops->fix_meta(d, name, src, lost);
}

/*
 * Make `name` in the directory entered a hard link to `target` (a path
 * from the root), replacing what is there in one step (*replaced).  0
 * when linked, 1 when they already were one file (nothing done), -1 with
 * errno (ENOENT: no target).
 */
static inline int dst_link(struct dst *d, const char *target, const char *name, int *replaced)
{
	return d->ops->link(d, target, name, replaced);
}

/*
 * --link-dest: make `name` a hard link to `name` in tree `tree` (> 0), as
 * dst_link does; with `replaced` NULL, only where nothing is (EEXIST
 * else, and nothing is touched).
 */
static inline int dst_link_from(struct dst *d, int tree, const char *name, int *replaced)
{
	return d->ops->link_from(d, tree, name, replaced);
}

/* Remove `name` (an empty directory, with is_dir).  0, or -1 with errno. */
static inline int dst_remove(struct dst *d, const char *name, int is_dir)
{
	return d->ops->remove(d, name, is_dir);
}

/*
 * At the end: give the directory `relpath` src's owner, attributes, mode
 * and times, unless it is up to date (`flags`, enum dst_dir_flags, say
 * what the walk learnt of it); with --fsync, note its file system either
 * way.  What cannot be kept goes to `lost`.  0, or -1 with errno.
 */
static inline int dst_dir_meta(struct dst *d, const char *relpath, const struct src_entry *src,
			       unsigned flags, struct meta_loss *lost)
{
	return d->ops->dir_meta(d, relpath, src, flags, lost);
}

/* Remove the temporary `tmpname` a dead worker left beside `relpath`.  0 or -1. */
static inline int dst_untemp(struct dst *d, const char *relpath, const char *tmpname)
{
	return d->ops->untemp(d, relpath, tmpname);
}

#endif
