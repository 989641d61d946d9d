/*
 * xattr.h - copying extended attributes from a source entry to its copy.
 * POSIX ACLs are attributes too, but cp counts them as part of the mode,
 * so the caller says which of the two kinds to copy.
 */
#ifndef PCOPY_XATTR_H
#define PCOPY_XATTR_H

#include <sys/types.h>

#include "copy/loss.h"
#include "core/session.h"

/* What to do (bits). */
enum xattr_flags {
	XATTR_ACLS = 1 << 0,            /* copy the two ACLs */
	XATTR_OTHERS = 1 << 1,          /* copy every other attribute */
	XATTR_STRIP_INHERITED = 1 << 2, /* dst was made under a default ACL: remove
					   what it inherited and is not copied */
	XATTR_REMOVE_EXTRA = 1 << 3,    /* dst was there before (--update fixing it
					   in place): remove its attributes of the
					   kinds copied that src does not have */
};

/* What happened, for the mode set next. */
struct xattr_result {
	int changed;     /* attributes written or removed (each rewrites group bits) */
	int acl_lost;    /* the source's access ACL could not be written */
	mode_t acl_bits; /* then: the owner, group and other bits it granted */
};

/*
 * Copy the attributes `flags` asks for from the open fd `src` (none when
 * -1) to the open fd `dst`.  Each one that cannot be kept is recorded in
 * `loss` and the others are still copied.  0, or -1 when something was
 * lost.
 */
int xattr_copy_fd(const struct session *s, int src, int dst, unsigned flags,
		  struct xattr_result *res, struct meta_loss *loss);

/*
 * The same for entries named in directories, neither of them followed
 * (through /proc/self/fd; without /proc, nothing is copied).
 */
int xattr_copy_at(const struct session *s, int sdir, const char *sname, int ddir, const char *dname,
		  unsigned flags, struct xattr_result *res, struct meta_loss *loss);

/*
 * Do `aname` in adir and `bname` in bdir (neither followed) carry the same
 * attributes of the kinds `flags` asks for (XATTR_ACLS, XATTR_OTHERS):
 * the same names with the same values?  1 if they do, 0 if not, -1 with
 * errno when either list cannot be read.  A file system without attributes
 * (ENOTSUP) has none.  Costs one llistxattr per file when neither has any.
 */
int xattr_equal_at(int adir, const char *aname, int bdir, const char *bname, unsigned flags);

#endif
