/*
 * xattr.h - copying extended attributes from a source entry to its copy.
 * POSIX ACLs are attributes too, but cp counts them as part of the mode,
 * so the caller says which of the two kinds to copy.
 */
#ifndef PCOPY_XATTR_H
#define PCOPY_XATTR_H

#include <limits.h> /* XATTR_NAME_MAX, XATTR_SIZE_MAX */
#include <stddef.h>
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
 * An xattr_list: the attributes of an entry read on one machine and
 * carried to another (a remote copy), as repeated entries
 *
 *	name    1 to XATTR_NAME_MAX (255) bytes, no NUL among them
 *	NUL
 *	u32     the value's length, little-endian, at most XATTR_SIZE_MAX (65536)
 *	value   that many bytes
 *
 * with nothing after the last; no entries (0 bytes) is no attributes.
 * Names come in the order the source listed them.
 */

/*
 * Read the attributes of the kinds `flags` asks for (XATTR_ACLS,
 * XATTR_OTHERS) of the open fd `fd`, or with fd -1 of `name` in `dir`
 * (not followed), into a malloc'd xattr_list: *out (NULL when empty) and
 * *len.  A file system without attributes (ENOTSUP) has none.  0, or -1
 * with errno (nothing to free).
 */
int xattr_list_read(int fd, int dir, const char *name, unsigned flags, unsigned char **out,
		    size_t *len);

/*
 * Are `len` bytes at `data` (from another machine: trusted in nothing) a
 * well-formed xattr_list?  0, or -1 with EINVAL.  Only a list that passed
 * is given to what follows.
 */
int xattr_list_check(const void *data, size_t len);

/*
 * Where a source's attributes are read from, the first that applies: a
 * list read on its machine (`listed`), an open fd, an entry named in a
 * directory (not followed).  None of these: the source's are not known.
 */
struct xattr_source {
	int listed;                /* the source is remote: its attributes are ... */
	const unsigned char *list; /* ... this checked xattr_list ... */
	size_t list_len;           /* ... of this many bytes */
	int fd;                    /* else: the source open, or -1 */
	int dir;                   /* else: `name` in `dir`, or -1 */
	const char *name;
};

/* Does src say where its attributes are? */
static inline int xattr_source_given(const struct xattr_source *src)
{
	return src->listed || src->fd >= 0 || src->dir >= 0;
}

/*
 * Copy the attributes `flags` asks for from `src` to the open fd `dst`.
 * Each one that cannot be kept is recorded in `loss` and the others are
 * still copied.  0, or -1 when something was lost.
 */
int xattr_copy_fd(const struct session *s, const struct xattr_source *src, int dst, unsigned flags,
		  struct xattr_result *res, struct meta_loss *loss);

/*
 * The same to the entry `dname` in `ddir`, not followed (through
 * /proc/self/fd; without /proc, nothing is copied).
 */
int xattr_copy_at(const struct session *s, const struct xattr_source *src, int ddir,
		  const char *dname, unsigned flags, struct xattr_result *res,
		  struct meta_loss *loss);

/*
 * Do `aname` in adir and `bname` in bdir (neither followed) carry the same
 * attributes of the kinds `flags` asks for (XATTR_ACLS, XATTR_OTHERS):
 * the same names with the same values?  1 if they do, 0 if not, -1 with
 * errno when either list cannot be read.  A file system without attributes
 * (ENOTSUP) has none.  Costs one llistxattr per file when neither has any.
 */
int xattr_equal_at(int adir, const char *aname, int bdir, const char *bname, unsigned flags);

/* The same for a source read elsewhere: the xattr_list `list` of `len` bytes against bname. */
int xattr_list_equal_at(const void *list, size_t len, int bdir, const char *bname, unsigned flags);

#endif
