/* meta.c - ownership, extended attributes, mode and times of copies. */
#include "meta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util.h"

void entry_stat_from(struct entry_stat *out, const struct stat *st)
{
	out->dev = st->st_dev;
	out->ino = st->st_ino;
	out->size = (uint64_t)st->st_size;
	out->blocks = (uint64_t)st->st_blocks;
	out->rdev = st->st_rdev;
	out->atime_sec = st->st_atim.tv_sec;
	out->atime_nsec = st->st_atim.tv_nsec;
	out->mtime_sec = st->st_mtim.tv_sec;
	out->mtime_nsec = st->st_mtim.tv_nsec;
	out->mode = st->st_mode;
	out->uid = st->st_uid;
	out->gid = st->st_gid;
	out->nlink = (uint32_t)st->st_nlink;
}

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

/*
 * Give dst the source's owner.  Without privilege the owner cannot change
 * (and that is not an error, as with cp -a), but the group can when we are
 * a member.  Reports which ids the copy ended up with.
 */
static int set_owner_fd(const struct session *s, int dst, const struct entry_stat *st,
			int *uid_kept, int *gid_kept)
{
	*uid_kept = st->uid == s->euid;
	*gid_kept = st->gid == s->egid;
	if (!preserving(s, PRESERVE_OWNERSHIP))
		return 0;
	if (fchown(dst, st->uid, st->gid) == 0) {
		*uid_kept = *gid_kept = 1;
		return 0;
	}
	if (errno != EPERM && errno != EINVAL)
		return -1;
	*gid_kept = fchown(dst, (uid_t)-1, st->gid) == 0;
	return 0;
}

/* Final permission bits: set-id bits only where the matching id was kept. */
static mode_t final_mode(const struct session *s, const struct entry_stat *st, int uid_kept,
			 int gid_kept)
{
	mode_t mode = st->mode & 07777;

	if (!preserving(s, PRESERVE_MODE))
		return meta_create_mode(s, st);
	if (!uid_kept)
		mode &= ~(mode_t)S_ISUID;
	if (!gid_kept)
		mode &= ~(mode_t)S_ISGID;
	return mode;
}

int meta_apply_fd(const struct session *s, int src, int dst, const struct entry_stat *st,
		  const struct meta_known *known)
{
	static const struct meta_known nothing = { (mode_t)-1, 0, 1 };
	struct timespec ts[2];
	int uid_kept = 1, gid_kept = 1, xattrs = 0;
	mode_t mode;

	if (known == NULL)
		known = &nothing;
	if (!known->owner_right && set_owner_fd(s, dst, st, &uid_kept, &gid_kept) < 0)
		return -1;
	if (src >= 0 && preserving(s, PRESERVE_XATTR) &&
	    (xattrs = xattr_copy_fd(s, src, dst, known->inherited_acl)) < 0)
		return -1;
	/* An ACL write or removal rewrites the group bits: set the mode after. */
	mode = final_mode(s, st, uid_kept, gid_kept);
	if ((mode != known->created || xattrs > 0) && fchmod(dst, mode) < 0)
		return -1;
	if (preserving(s, PRESERVE_TIMESTAMPS)) {
		times_of(st, ts);
		if (futimens(dst, ts) < 0)
			return -1;
	}
	return 0;
}

int meta_apply_at(const struct session *s, int sdir, const char *sname, int ddir, const char *dname,
		  const struct entry_stat *st, int strip_acls)
{
	struct timespec ts[2];
	int xattrs = 0;

	if (preserving(s, PRESERVE_OWNERSHIP) &&
	    fchownat(ddir, dname, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != EPERM && errno != EINVAL)
			return -1;
		/* Unprivileged: keep the group if we can, as for files. */
		(void)fchownat(ddir, dname, (uid_t)-1, st->gid, AT_SYMLINK_NOFOLLOW);
	}
	if (sdir >= 0 && preserving(s, PRESERVE_XATTR) &&
	    (xattrs = xattr_copy_at(s, sdir, sname, ddir, dname, strip_acls)) < 0)
		return -1;
	/* An ACL write or removal rewrites the group bits; links have none. */
	if (xattrs > 0 && !S_ISLNK(st->mode) &&
	    fchmodat(ddir, dname, meta_create_mode(s, st), AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (preserving(s, PRESERVE_TIMESTAMPS)) {
		times_of(st, ts);
		if (utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
	}
	return 0;
}

/*
 * Where the attributes of one entry are reached: an open fd, or, for
 * entries that cannot be opened (symbolic links, special files), a path
 * the l*xattr calls resolve without following its last component.
 */
struct xnode {
	int fd;           /* used when path is NULL */
	const char *path; /* "/proc/self/fd/DIRFD/NAME" */
};

static ssize_t xn_list(const struct xnode *n, char *buf, size_t size)
{
	return n->path ? llistxattr(n->path, buf, size) : flistxattr(n->fd, buf, size);
}

static ssize_t xn_get(const struct xnode *n, const char *name, void *buf, size_t size)
{
	return n->path ? lgetxattr(n->path, name, buf, size) : fgetxattr(n->fd, name, buf, size);
}

static int xn_set(const struct xnode *n, const char *name, const void *value, size_t size)
{
	return n->path ? lsetxattr(n->path, name, value, size, 0)
		       : fsetxattr(n->fd, name, value, size, 0);
}

static int xn_remove(const struct xnode *n, const char *name)
{
	return n->path ? lremovexattr(n->path, name) : fremovexattr(n->fd, name);
}

/* List src's attribute names into a malloc'd buffer; its length or -1. */
static ssize_t list_xattrs(const struct xnode *src, char **names)
{
	ssize_t size = xn_list(src, NULL, 0);

	*names = NULL;
	while (size > 0) {
		ssize_t got;

		*names = xrealloc(*names, (size_t)size);
		got = xn_list(src, *names, (size_t)size);
		if (got >= 0 || errno != ERANGE)
			return got;
		size = xn_list(src, NULL, 0); /* grew meanwhile: ask again */
	}
	return size;
}

/* Read one attribute into *value (grown as needed); its length or -1. */
static ssize_t get_xattr(const struct xnode *src, const char *name, char **value, size_t *cap)
{
	for (;;) {
		ssize_t got = xn_get(src, name, *value, *cap);

		if (got >= 0 || errno != ERANGE)
			return got;
		got = xn_get(src, name, NULL, 0);
		if (got < 0)
			return -1;
		*cap = (size_t)got + 64;
		*value = xrealloc(*value, *cap);
	}
}

/*
 * Whether a failed fsetxattr may be passed over: the destination has no
 * xattr support (warn once per run), or an unprivileged user meets a
 * namespace only root may write.
 */
static int xattr_failure_tolerated(const struct session *s, const char *name)
{
	if (errno == ENOTSUP) {
		if (atomic_exchange(&s->shared->xattr_warned, 1) == 0)
			report_message("warning: destination does not support "
				       "extended attributes; they are not copied");
		return 1;
	}
	if (errno == EPERM && s->euid != 0 &&
	    (strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0))
		return 1;
	return 0;
}

static const char *const acl_names[] = { "system.posix_acl_access", "system.posix_acl_default" };

int meta_has_default_acl(int dirfd)
{
	return fgetxattr(dirfd, acl_names[1], NULL, 0) > 0;
}

/* Is `name` among the `len` bytes of NUL-separated names? */
static int name_listed(const char *names, ssize_t len, const char *name)
{
	for (const char *n = names; names != NULL && n < names + len; n += strlen(n) + 1)
		if (strcmp(n, name) == 0)
			return 1;
	return 0;
}

/*
 * Remove from dst the ACLs it inherited from a default ACL of its new
 * parent but src does not have, so the copy grants no access the source
 * does not.  How many were removed.
 */
static int strip_inherited_acls(const char *names, ssize_t len, const struct xnode *dst)
{
	int removed = 0;

	for (size_t i = 0; i < ARRAY_LEN(acl_names); i++)
		if (!name_listed(names, len, acl_names[i]) && xn_remove(dst, acl_names[i]) == 0)
			removed++;
	return removed;
}

static int xattr_copy(const struct session *s, const struct xnode *src, const struct xnode *dst,
		      int strip_acls)
{
	char *names = NULL, *value = NULL;
	size_t cap = 256;
	ssize_t len = list_xattrs(src, &names);
	int rc = 0, copied = 0;

	if (len < 0 && errno != ENOTSUP) {
		free(names);
		return -1;
	}
	if (strip_acls)
		copied += strip_inherited_acls(names, len, dst);
	if (len <= 0) {
		free(names);
		return copied; /* nothing (or no xattr support) on the source */
	}
	value = xmalloc(cap);
	for (char *name = names; name < names + len; name += strlen(name) + 1) {
		ssize_t vlen = get_xattr(src, name, &value, &cap);

		if (vlen < 0) {
			if (errno == ENODATA) /* removed meanwhile */
				continue;
			rc = -1;
			break;
		}
		if (xn_set(dst, name, value, (size_t)vlen) == 0) {
			copied++;
		} else if (!xattr_failure_tolerated(s, name)) {
			rc = -1;
			break;
		}
	}
	free(value);
	free(names);
	return rc < 0 ? -1 : copied;
}

int xattr_copy_fd(const struct session *s, int src, int dst, int strip_acls)
{
	struct xnode from = { src, NULL }, to = { dst, NULL };

	return xattr_copy(s, &from, &to, strip_acls);
}

int xattr_copy_at(const struct session *s, int sdir, const char *sname, int ddir, const char *dname,
		  int strip_acls)
{
	char sbuf[PROC_FD_PATH_MAX], dbuf[PROC_FD_PATH_MAX];
	struct xnode from = { -1, proc_fd_path(sbuf, sdir, sname) };
	struct xnode to = { -1, proc_fd_path(dbuf, ddir, dname) };
	int rc;

	if (from.path == NULL || to.path == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	rc = xattr_copy(s, &from, &to, strip_acls);
	/* Without /proc, or with the source gone meanwhile: nothing to copy. */
	if (rc < 0 && errno == ENOENT &&
	    (access("/proc/self/fd", F_OK) < 0 ||
	     fstatat(sdir, sname, &(struct stat){ 0 }, AT_SYMLINK_NOFOLLOW) < 0))
		return 0;
	return rc;
}
