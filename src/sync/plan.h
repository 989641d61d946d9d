/*
 * plan.h - decisions about one entry, apart from the actions: pure
 * functions of the source's and the destination's stat, so that a dry run
 * and the real run decide alike, and tests need no filesystem.
 */
#ifndef PCOPY_PLAN_H
#define PCOPY_PLAN_H

#include <sys/stat.h>
#include <sys/types.h>

#include "core/job.h"
#include "core/options.h"
#include "core/session.h"
#include "report/entry.h"

/*
 * Can an entry whose source has type `src_mode` take the place of `dst`
 * (lstat of what DST has there, or NULL when nothing is there)?  NULL if
 * it can, else the reason it cannot.  A directory replaces a symlink or a
 * special file but never a regular file; nothing but a directory merges
 * into a directory.
 */
const char *plan_replace_conflict(mode_t src_mode, const struct stat *dst);

/* What to do with an entry whose DST already exists. */
enum plan_action {
	PLAN_COPY,     /* copy it anew (data and metadata), replacing DST's */
	PLAN_SKIP,     /* leave DST's entry exactly as it is */
	PLAN_FIX_META, /* the data is equal: set the metadata in place */
	PLAN_LINK,     /* hard-link an equal file from a --link-dest directory */
	PLAN_REWRITE,  /* the data is equal, the metadata is not, and the inode
			  has other names: a fresh copy under this name, told
			  and counted as PLAN_FIX_META (plan_fix_meta) */
};

/*
 * What the decisions compare besides the data: the options, and who runs
 * the copy, which decides what a copy can set (a user keeps a file's group
 * only when a member of it, its owner only when it is the user).
 */
struct plan_context {
	enum update_mode update; /* --update */
	unsigned preserve;       /* enum preserve_bits */
	uid_t euid;              /* owners are set only by root */
	int checksum;            /* -c: trust no stat, look at the files */
	gid_t egid;              /* the group a user's new file gets */
	mode_t umask;            /* the user's: modes of what is not preserved */
	const gid_t *groups;     /* the user's supplementary groups */
	int ngroups;             /* how many */
};

/*
 * The context of a run with options `o`, by a user of effective ids `euid`
 * and `egid`, supplementary groups `groups` (kept by the caller) and umask
 * `umask`.
 */
struct plan_context plan_context_of(const struct options *o, uid_t euid, gid_t egid,
				    const gid_t *groups, int ngroups, mode_t umask);

/* The context of the run `s`: its options and who runs it. */
struct plan_context plan_of_run(const struct session *s);

/* Can the copy be given the group `gid` (root, or a user in that group)? */
int plan_sets_group(const struct plan_context *pc, gid_t gid);

/*
 * The permission bits a copy of `src` ends with: SRC's, less a set-uid
 * (set-gid) bit where the copy cannot have SRC's owner (group); without
 * PRESERVE_MODE, cp's 0666 (0777 for a directory) less the umask.
 */
mode_t plan_copy_mode(const struct plan_context *pc, const struct entry_stat *src);

/*
 * Decide for a non-directory entry with source `src` and `dst` (lstat of
 * DST's entry, NULL when there is none; type conflicts with a directory are
 * plan_replace_conflict's).  UPDATE_ALL copies, UPDATE_NONE skips what
 * exists, UPDATE_OLDER copies when SRC's mtime is newer (ns), and
 * UPDATE_CHANGED copies when type, size or mtime differ (a device's number
 * counts as its data), else fixes the metadata (plan_fix_meta) when what
 * a copy would set differs: the mode (plan_copy_mode) and the owner and
 * group as the user can set them (root: both; a user: the group, when a
 * member of SRC's and the owner of DST's file), else skips.  Symbolic link
 * targets and extended attributes need a look at the files: the caller
 * compares them after a PLAN_SKIP or PLAN_FIX_META (attributes only when
 * plan_metadata_suspect says so).  Access times are not compared: reading
 * a file moves its own.
 */
enum plan_action plan_update(const struct plan_context *pc, const struct entry_stat *src,
			     const struct stat *dst);

/*
 * The metadata of DST's non-directory `dst` must change: PLAN_FIX_META in
 * place when its inode has no other name, else PLAN_REWRITE, so that what
 * shares the inode (an older snapshot, a name SRC no longer links to it)
 * is never changed.  Which of the two is no more than how: a run whose
 * other names of the inode go first may see one name left and fix it in
 * place, so both are told and counted alike.
 */
enum plan_action plan_fix_meta(const struct stat *dst);

/*
 * With --update=changed, must the extended attributes and ACLs of `src`
 * and of its copy `dst` (of any type) be compared, or may they be taken
 * as equal?  Only those preserved count (ACLs with PRESERVE_MODE, the
 * others with PRESERVE_XATTR).  Reading them costs two syscalls per entry
 * at least, so they are compared only with -c, or when SRC's ctime is
 * not earlier than DST's: any chmod, chown, setxattr or setfacl of the
 * source moves its ctime, while the copy's is when pcopy last wrote it
 * (equal counts, for a change in the clock tick of that write).  1 to
 * compare, 0 to assume equal.
 */
int plan_metadata_suspect(const struct plan_context *pc, const struct entry_stat *src,
			  const struct stat *dst);

/*
 * The same for a directory, whose contents are merged, not replaced: with
 * UPDATE_ALL its metadata is always applied (PLAN_FIX_META); otherwise only
 * when its mode, its owner (as root) or its mtime differ from SRC's.
 */
enum plan_action plan_directory(const struct plan_context *pc, const struct entry_stat *src,
				const struct stat *dst);

/*
 * May `cand` (lstat of the entry's path in a --link-dest directory) be
 * hard-linked in place of a copy of `src`?  1 when it is a regular file
 * like `src`, unchanged by the quick check (size and mtime to the ns), and
 * already has what a hard link shares with it and the copy must have: the
 * mode (plan_copy_mode), the owner and group as the user can set them
 * (as plan_update compares them) and, for a user keeping ownership, the
 * user as owner, as a copy would have.  Extended attributes, ACLs and, with
 * -c, the contents need a look at the files: the caller compares them
 * after a 1.  pc->update plays no part.
 */
int plan_link_dest(const struct plan_context *pc, const struct entry_stat *src,
		   const struct stat *cand);

/*
 * What an existing DST directory of mode `now` is narrowed to before
 * anything new is written in it, so that nothing new is ever readable
 * through a mode wider than the copy's: no permission bit that `now` or
 * the copy's (plan_copy_mode of `src`) lacks, the set-id and sticky bits
 * left as they are (plan.c tells why); no group bits, which are an
 * ACL's mask, when DST's ACL may grant more than SRC's (`acl_wider`); and
 * for a user, the owner's rwx, which the copy needs to write there.  The
 * copy's own mode is set at the end, as for every directory.
 */
mode_t plan_narrowed_dir(const struct plan_context *pc, mode_t now, const struct entry_stat *src,
			 int acl_wider);

#endif
