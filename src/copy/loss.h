/*
 * loss.h - the metadata of one entry that was asked for and could not be
 * kept: recorded by meta.c and xattr.c as they apply it, reported by the
 * caller, one error line per part.
 */
#ifndef PCOPY_LOSS_H
#define PCOPY_LOSS_H

#include <linux/limits.h>

#include "core/session.h"

/* The parts of an entry's metadata that can fail to reach its copy. */
enum meta_part {
	META_OWNER,       /* owner and group */
	META_ACL,         /* the access ACL */
	META_DEFAULT_ACL, /* a directory's default ACL */
	META_XATTR,       /* the other extended attributes */
	META_MODE,        /* permission bits */
	META_TIMES,       /* access and modification times */
	META_PARTS,
};

/*
 * What of one entry's metadata, asked for, could not be kept.  The copy
 * exists (its data is right); each lost part is an error for the caller
 * to report.  Clear it before each entry.
 */
struct meta_loss {
	int any;                        /* some part was lost */
	int err[META_PARTS];            /* why each part was lost (an errno), or 0 */
	char xattr[XATTR_NAME_MAX + 1]; /* the first extended attribute lost, or "" */
	unsigned xattrs_more;           /* how many more were lost */
};

void meta_loss_clear(struct meta_loss *loss);

/* Record that `part` was lost with `err`; `xattr` names the attribute, or NULL. */
void meta_loss_add(struct meta_loss *loss, enum meta_part part, int err, const char *xattr);

/* Longest text meta_loss_describe makes, with its NUL. */
#define META_LOSS_TEXT_MAX (XATTR_NAME_MAX + 128)

/*
 * If `part` was lost, put "cannot preserve ACL: Operation not supported"
 * (or the like) in buf and return 1; else return 0.
 */
int meta_loss_describe(const struct meta_loss *loss, enum meta_part part,
		       char buf[META_LOSS_TEXT_MAX]);

/*
 * Report each part of relpath's metadata in `loss` as an error of its own
 * ("cannot preserve ACL: ...") naming the copy, counted in `slot`.
 */
void meta_loss_report(const struct session *s, struct worker_slot *slot, const char *relpath,
		      const struct meta_loss *loss);

#endif
