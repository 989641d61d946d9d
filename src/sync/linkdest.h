/*
 * linkdest.h - --link-dest=DIR: for a regular file about to be copied, an
 * equal file at the same path in an earlier copy (a snapshot), hard-linked
 * instead, so that a new snapshot costs only what changed.
 *
 * A DIR is only ever read: the DST side opens it once per SRC by the path
 * the user gave (which may pass through symbolic links, as `latest` often
 * does) and looks below it without following any symbolic link
 * (dst/dst.h, its "trees"); a link only adds a name in DST.
 */
#ifndef PCOPY_LINKDEST_H
#define PCOPY_LINKDEST_H

#include "core/session.h"
#include "dst/dst.h"

/* Is any DIR in use for this copy (one could be opened)? */
int linkdest_active(const struct session *s);

/*
 * Is there, as `name` in the directory `d` has entered of some DIR (the
 * first that has one, in command-line order), a file that may be
 * hard-linked in place of a copy of src?  It must pass plan_link_dest,
 * have the same extended attributes and ACLs where those are preserved,
 * and with -c the same contents.  Its tree (for dst_link_from), or 0.
 */
int linkdest_find(const struct session *s, struct dst *d, const struct src_entry *src,
		  const char *name);

#endif
