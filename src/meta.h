/* meta.h - applying a source entry's metadata to its copy. */
#ifndef PCOPY_META_H
#define PCOPY_META_H

#include "job.h"
#include "session.h"

/*
 * Apply owner, extended attributes (read from the open source fd `src`;
 * none when it is -1), mode and times of `st` to the open destination fd `dst`, in that order:
 * chown may clear set-id bits and an ACL write changes the group bits, so
 * mode comes after both, and times come last because every other change
 * touches ctime only but some filesystems also bump mtime.  What
 * --no-preserve switches off is skipped; `known` (may be NULL) lets
 * calls be skipped whose outcome is already there.  Returns 0 or -1 with
 * errno set.
 */
struct meta_known {
	mode_t created;    /* permission bits dst already has, or (mode_t)-1 */
	int owner_right;   /* dst already has st's owner and group */
	int inherited_acl; /* dst was made under a default ACL: remove the
			       ACLs the source lacks */
};

int meta_apply_fd(const struct session *s, int src, int dst, const struct entry_stat *st,
		  const struct meta_known *known);

/* Does the directory `dirfd` carry a default ACL its new entries inherit? */
int meta_has_default_acl(int dirfd);

/*
 * Apply owner, extended attributes and times to the entry `dname` in `ddir`
 * without following it (symbolic links and special files, whose mode is
 * set when they are made).  The attributes are read from `sname` in `sdir`
 * (none when sdir is -1); with `strip_acls`, ACLs dst inherited and the
 * source lacks are removed.
 */
int meta_apply_at(const struct session *s, int sdir, const char *sname, int ddir, const char *dname,
		  const struct entry_stat *st, int strip_acls);

/*
 * The permission bits a new entry gets at creation (no set-id bits): the
 * source's, or without PRESERVE_MODE cp's defaults, 0666 (files) or 0777
 * (directories) less the user's umask.
 */
mode_t meta_create_mode(const struct session *s, const struct entry_stat *st);

/*
 * Copy every extended attribute of `src` to `dst`, and with `strip_acls`
 * remove the POSIX ACLs dst has but src does not.  The number of
 * attributes written or removed, or -1.
 */
int xattr_copy_fd(const struct session *s, int src, int dst, int strip_acls);

/*
 * The same for entries named in directories, neither of them followed
 * (through /proc/self/fd; without /proc, nothing is copied).
 */
int xattr_copy_at(const struct session *s, int sdir, const char *sname, int ddir, const char *dname,
		  int strip_acls);

#endif
