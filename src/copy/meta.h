/* meta.h - applying a source entry's metadata to its copy. */
#ifndef PCOPY_META_H
#define PCOPY_META_H

#include <stddef.h>

#include "copy/loss.h"
#include "core/job.h"
#include "core/session.h"

struct xattr_source;

/*
 * Apply owner, extended attributes and ACLs (read from `src`, copy/xattr.h:
 * the source's fd or name, or the list read on its machine; none when it
 * gives none of these), mode and times of `st` to the open
 * destination fd `dst`, in that order: chown may clear set-id bits and an
 * ACL write changes the group bits, so mode comes after both, and times
 * come last because every other change touches ctime only but some
 * filesystems also bump mtime.  What --no-preserve switches off is
 * skipped; `known` (may be NULL) lets calls be skipped whose outcome is
 * already there.  Set-id bits are kept only where the copy has the
 * source's owner (set-uid) or group (set-gid); an access ACL that cannot
 * be written leaves permission bits no wider than the ACL granted.
 * Every part asked for is tried; what could not be kept is added to
 * `loss`.  Returns 0, or -1 when something was lost.
 */
struct meta_known {
	mode_t created;    /* permission bits dst already has, or (mode_t)-1 */
	int owner_right;   /* dst already has st's owner and group */
	int inherited_acl; /* dst was made under a default ACL: remove the
			       ACLs it is not to have */
	int existing;      /* dst was there before (fixed in place): remove
			      the attributes src does not have */
};

int meta_apply_fd(const struct session *s, const struct xattr_source *src, int dst,
		  const struct entry_stat *st, const struct meta_known *known,
		  struct meta_loss *loss);

/*
 * Which extended attributes a copy carries (xattr.h's XATTR_ACLS,
 * XATTR_OTHERS): as in cp, ACLs belong to the mode, not to the extended
 * attributes, though both are stored as attributes.
 */
unsigned meta_xattr_kinds(const struct session *s);

/* Does the directory `dirfd` carry a default ACL its new entries inherit? */
int meta_has_default_acl(int dirfd);

/*
 * Apply owner, extended attributes and times to the entry `dname` in `ddir`
 * without following it (symbolic links and special files, whose mode is
 * set when they are made).  The attributes are read from `src` as for
 * meta_apply_fd, but where it gives none nothing is done with them, not
 * even inherited ACLs removed; of `known`, only inherited_acl and existing
 * are used.  What was lost goes to `loss`, as for meta_apply_fd.
 */
int meta_apply_at(const struct session *s, const struct xattr_source *src, int ddir,
		  const char *dname, const struct entry_stat *st, const struct meta_known *known,
		  struct meta_loss *loss);

/*
 * The permission bits a new entry gets at creation (no set-id bits): the
 * source's, or without PRESERVE_MODE cp's defaults, 0666 (files) or 0777
 * (directories) less the user's umask.
 */
mode_t meta_create_mode(const struct session *s, const struct entry_stat *st);

#endif
