/* meta.c - ownership, extended attributes, mode and times of copies. */
#include "copy/meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/acl.h"
#include "copy/xattr.h"

static int preserving(const struct session *s, unsigned bit)
{
	return (s->opts->preserve & bit) != 0;
}

static void times_of(const struct entry_stat *st, struct timespec ts[2])
{
	ts[0].tv_sec = st->atime_sec;
	ts[0].tv_nsec = st->atime_nsec;
	ts[1].tv_sec = st->mtime_sec;
	ts[1].tv_nsec = st->mtime_nsec;
}

mode_t meta_create_mode(const struct session *s, const struct entry_stat *st)
{
	/* Not preserving: what a new file or directory gets, as with cp. */
	if (!preserving(s, PRESERVE_MODE))
		return (S_ISDIR(st->mode) ? 0777 : 0666) & ~s->umask;
	return st->mode & 0777;
}

unsigned meta_xattr_kinds(const struct session *s)
{
	return (preserving(s, PRESERVE_MODE) ? XATTR_ACLS : 0) |
	       (preserving(s, PRESERVE_XATTR) ? XATTR_OTHERS : 0);
}

/* Which attributes to copy, and what to remove from dst. */
static unsigned xattr_flags(const struct session *s, const struct meta_known *known)
{
	return meta_xattr_kinds(s) | (known->inherited_acl ? XATTR_STRIP_INHERITED : 0) |
	       (known->existing ? XATTR_REMOVE_EXTRA : 0);
}

/* Does the copy have the source's owner and group?  Set-id bits depend on it. */
struct ids_kept {
	int uid; /* the copy's owner is the source's */
	int gid; /* the copy's group is the source's */
};

/*
 * Without the source's ids given (not asked for, or chown failed), learn
 * the copy's where it matters: when the source has set-id bits to keep.
 */
static void learn_ids(const struct session *s, int dst, const struct entry_stat *st,
		      struct ids_kept *kept)
{
	struct stat now;

	if (!(st->mode & (S_ISUID | S_ISGID)) || !preserving(s, PRESERVE_MODE))
		return;
	if (fstat(dst, &now) < 0) {
		kept->uid = kept->gid = 0;
		return;
	}
	kept->uid = now.st_uid == st->uid;
	kept->gid = now.st_gid == st->gid;
}

/*
 * Give dst the source's owner.  Without privilege the owner cannot change
 * (and that is not an error, as with cp -a), but the group can when we are
 * a member.  As root, or for another reason, a failure is a loss.
 */
static void set_owner_fd(const struct session *s, int dst, const struct entry_stat *st,
			 const struct meta_known *known, struct ids_kept *kept,
			 struct meta_loss *loss)
{
	kept->uid = kept->gid = 1;
	if (known->owner_right)
		return;
	if (preserving(s, PRESERVE_OWNERSHIP)) {
		if (fchown(dst, st->uid, st->gid) == 0)
			return;
		if (s->euid != 0 && (errno == EPERM || errno == EINVAL)) {
			kept->uid = st->uid == s->euid;
			kept->gid = fchown(dst, (uid_t)-1, st->gid) == 0;
			return;
		}
		meta_loss_add(loss, META_OWNER, errno, NULL);
	}
	learn_ids(s, dst, st, kept);
}

/*
 * Final permission bits: set-id bits only where the matching id was kept;
 * where the source's ACL could not be written, no more than it granted.
 */
static mode_t final_mode(const struct session *s, const struct entry_stat *st,
			 const struct ids_kept *kept, const struct xattr_result *xr)
{
	mode_t mode = st->mode & 07777;

	if (!preserving(s, PRESERVE_MODE))
		return meta_create_mode(s, st);
	if (!kept->uid)
		mode &= ~(mode_t)S_ISUID;
	if (!kept->gid)
		mode &= ~(mode_t)S_ISGID;
	if (xr->acl_lost)
		mode &= ~(mode_t)0777 | xr->acl_bits;
	return mode;
}

int meta_apply_fd(const struct session *s, const struct xattr_source *src, int dst,
		  const struct entry_stat *st, const struct meta_known *known,
		  struct meta_loss *loss)
{
	static const struct meta_known nothing = { (mode_t)-1, 0, 1, 1 };
	struct xattr_result xr = { 0 };
	struct ids_kept kept;
	struct timespec ts[2];
	unsigned flags;
	int lost = loss->any;
	mode_t mode;

	if (known == NULL)
		known = &nothing;
	set_owner_fd(s, dst, st, known, &kept, loss);
	flags = xattr_flags(s, known);
	if (flags != 0)
		(void)xattr_copy_fd(s, src, dst, flags, &xr, loss);
	/* An ACL write or removal rewrites the group bits: set the mode after. */
	mode = final_mode(s, st, &kept, &xr);
	if ((mode != known->created || xr.changed > 0 || xr.acl_lost) && fchmod(dst, mode) < 0)
		meta_loss_add(loss, META_MODE, errno, NULL);
	if (preserving(s, PRESERVE_TIMESTAMPS)) {
		times_of(st, ts);
		if (futimens(dst, ts) < 0)
			meta_loss_add(loss, META_TIMES, errno, NULL);
	}
	return loss->any && !lost ? -1 : 0;
}

int meta_apply_at(const struct session *s, const struct xattr_source *src, int ddir,
		  const char *dname, const struct entry_stat *st, const struct meta_known *known,
		  struct meta_loss *loss)
{
	struct xattr_result xr = { 0 };
	struct timespec ts[2];
	unsigned flags = xattr_flags(s, known);
	int lost = loss->any;

	if (preserving(s, PRESERVE_OWNERSHIP) &&
	    fchownat(ddir, dname, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		/* Unprivileged: keep the group if we can, as for files. */
		if (s->euid != 0 && (errno == EPERM || errno == EINVAL))
			(void)fchownat(ddir, dname, (uid_t)-1, st->gid, AT_SYMLINK_NOFOLLOW);
		else
			meta_loss_add(loss, META_OWNER, errno, NULL);
	}
	if (xattr_source_given(src) && flags != 0)
		(void)xattr_copy_at(s, src, ddir, dname, flags, &xr, loss);
	/* An ACL write or removal rewrites the group bits; links have none. */
	if ((xr.changed > 0 || xr.acl_lost) && !S_ISLNK(st->mode)) {
		mode_t mode = meta_create_mode(s, st);

		if (xr.acl_lost)
			mode &= xr.acl_bits;
		if (fchmodat(ddir, dname, mode, AT_SYMLINK_NOFOLLOW) < 0)
			meta_loss_add(loss, META_MODE, errno, NULL);
	}
	if (preserving(s, PRESERVE_TIMESTAMPS)) {
		times_of(st, ts);
		if (utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
			meta_loss_add(loss, META_TIMES, errno, NULL);
	}
	return loss->any && !lost ? -1 : 0;
}

int meta_has_default_acl(int dirfd)
{
	return fgetxattr(dirfd, ACL_DEFAULT_XATTR, NULL, 0) > 0;
}
