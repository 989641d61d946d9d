/*
 * linkdest.h - --link-dest=DIR: for a regular file about to be copied, an
 * equal file at the same path in an earlier copy (a snapshot), hard-linked
 * instead, so that a new snapshot costs only what changed.
 *
 * A DIR is only ever read.  It is opened once per SRC by the path the user
 * gave (which may pass through symbolic links, as `latest` often does),
 * and everything below it is opened beneath it without following any
 * symbolic link (path.h): nothing outside a DIR is looked at, nothing in
 * it is written, and a link only adds a name in DST.
 */
#ifndef PCOPY_LINKDEST_H
#define PCOPY_LINKDEST_H

#include <stddef.h>

#include "base/path.h"
#include "copy/copy.h"
#include "core/job.h"
#include "core/session.h"

/*
 * Open the --link-dest DIRs into s->link_dest_roots for one copy: DIR/PATH
 * stands for PATH below s->dst_root, so a relative DIR is taken from the
 * copy's path `copy_path` (for a tree), or from the directory it is in
 * (`tree` 0: a single entry).  A DIR that cannot be opened is left out
 * with a warning (not an error: the files are copied instead, as rsync
 * does).  Before the workers start.
 */
void linkdest_open_roots(struct session *s, const char *copy_path, int tree);
void linkdest_close_roots(struct session *s);

/*
 * One worker's view of the DIRs: the directory of each that matches the
 * one it copies into, opened on first use and kept while the worker stays
 * in that directory.
 */
struct linkdest {
	const struct session *s;
	struct pathbuf dir;     /* its path relative to the roots ("" for the top) */
	int fds[LINK_DEST_MAX]; /* it in each DIR: an fd, -1 if missing, -2 not opened yet */
	int found;              /* the fd in which linkdest_find found the file, or -1 */
};

void linkdest_init(struct linkdest *ld, const struct session *s);
void linkdest_free(struct linkdest *ld);

/* Is any DIR in use for this copy? */
int linkdest_active(const struct session *s);

/* The entries asked about next are in the directory `reldir` (len bytes). */
void linkdest_enter(struct linkdest *ld, const char *reldir, size_t len);

/*
 * Is there, as `name` in the current directory of some DIR (the first
 * that has one, in command-line order), a file that may be hard-linked in
 * place of a copy of `sname` in sdir (its stat `st`)?  It must pass
 * plan_link_dest, have the same extended attributes and ACLs where those
 * are preserved, and with -c the same contents.  1 (ld->found set) or 0.
 */
int linkdest_find(struct linkdest *ld, int sdir, const char *sname, const char *name,
		  const struct entry_stat *st);

/*
 * Make `dname` in ddir a hard link to the file linkdest_find found as
 * `name`, replacing what is there.  0, or -1 with errno (then copy it).
 */
int linkdest_link(struct linkdest *ld, struct copier *c, const char *name, int ddir,
		  const char *dname);

/*
 * The same where DST has nothing: 0, or -1 with errno (EEXIST when it has
 * something after all, which is then left as it is).
 */
int linkdest_link_new(struct linkdest *ld, const char *name, int ddir, const char *dname);

#endif
