/*
 * xattr.c - copying extended attributes, POSIX ACLs among them.
 *
 * The normal case, a source without attributes, costs one flistxattr.
 * Whatever cannot be written is recorded as lost and the rest is still
 * copied; an access ACL that cannot be written leaves the bits it granted
 * for the caller, so that the mode grants no more than the ACL did.
 *
 * A remote source's attributes come as a packed list (xattr.h's
 * xattr_list), which is read as if it were a file's: one copy and one
 * comparison serve both.
 */
#include "copy/xattr.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/util.h"
#include "copy/acl.h"

/* listxattrat(2), in the numbers every architecture shares since 5.x. */
#ifndef SYS_LISTXATTRAT
#define SYS_LISTXATTRAT 465
#endif

/*
 * Where the attributes of one entry are reached: an open fd, or, for
 * entries that cannot be opened (symbolic links, special files), a path
 * the l*xattr calls resolve without following its last component, or,
 * for an entry on another machine, the list read there (read only).
 */
struct xnode {
	int fd;                    /* used when path is NULL; -1: no attributes */
	const char *path;          /* "/proc/self/fd/DIRFD/NAME" */
	int listed;                /* the attributes are in ... */
	const unsigned char *list; /* ... this xattr_list, before all else */
	size_t list_len;
};

/* One entry of an xattr_list. */
struct xentry {
	const char *name; /* NUL-terminated, inside the list */
	size_t name_len;
	const unsigned char *value;
	size_t value_len;
};

/*
 * The entry of `list` (`len` bytes) at `pos` (< len) into *e: the
 * position after it, or 0 when it is malformed.  Nothing beyond the list
 * is read, whatever its bytes.
 */
static size_t entry_at(const unsigned char *list, size_t len, size_t pos, struct xentry *e)
{
	size_t room = len - pos < XATTR_NAME_MAX + 1 ? len - pos : XATTR_NAME_MAX + 1;
	const unsigned char *nul = memchr(list + pos, '\0', room);
	uint32_t le;

	if (nul == NULL || nul == list + pos)
		return 0; /* a name too long, unterminated or empty */
	e->name = (const char *)(list + pos);
	e->name_len = (size_t)(nul - (list + pos));
	pos += e->name_len + 1;
	if (len - pos < sizeof(le))
		return 0;
	memcpy(&le, list + pos, sizeof(le));
	e->value_len = le32toh(le);
	pos += sizeof(le);
	if (e->value_len > XATTR_SIZE_MAX || len - pos < e->value_len)
		return 0;
	e->value = list + pos;
	return pos + e->value_len;
}

int xattr_list_check(const void *data, size_t len)
{
	struct xentry e;
	size_t pos = 0, next;

	while (pos < len && (next = entry_at(data, len, pos, &e)) != 0)
		pos = next;
	if (pos == len)
		return 0;
	errno = EINVAL;
	return -1;
}

/* The entry of n's list at *pos into *e, *pos moved past it; 0 at the end. */
static int list_next(const struct xnode *n, size_t *pos, struct xentry *e)
{
	size_t next = *pos < n->list_len ? entry_at(n->list, n->list_len, *pos, e) : 0;

	*pos = next != 0 ? next : n->list_len; /* a malformed tail ends it */
	return next != 0;
}

/* listxattr(2) of a list: its names, each with its NUL. */
static ssize_t list_names(const struct xnode *n, char *buf, size_t size)
{
	struct xentry e;
	size_t need = 0;

	for (size_t pos = 0; list_next(n, &pos, &e);) {
		if (need + e.name_len + 1 <= size)
			memcpy(buf + need, e.name, e.name_len + 1);
		need += e.name_len + 1;
	}
	if (size > 0 && need > size) {
		errno = ERANGE;
		return -1;
	}
	return (ssize_t)need;
}

/* getxattr(2) of a list. */
static ssize_t list_value(const struct xnode *n, const char *name, void *buf, size_t size)
{
	struct xentry e;

	for (size_t pos = 0; list_next(n, &pos, &e);) {
		if (strcmp(e.name, name) != 0)
			continue;
		if (size > 0 && e.value_len > size) {
			errno = ERANGE;
			return -1;
		}
		if (size > 0)
			memcpy(buf, e.value, e.value_len);
		return (ssize_t)e.value_len;
	}
	errno = ENODATA;
	return -1;
}

static ssize_t xn_list(const struct xnode *n, char *buf, size_t size)
{
	if (n->listed)
		return list_names(n, buf, size);
	return n->path ? llistxattr(n->path, buf, size) : flistxattr(n->fd, buf, size);
}

static ssize_t xn_get(const struct xnode *n, const char *name, void *buf, size_t size)
{
	if (n->listed)
		return list_value(n, name, buf, size);
	return n->path ? lgetxattr(n->path, name, buf, size) : fgetxattr(n->fd, name, buf, size);
}

/* Only a destination is written, and a list is never one: EROFS. */
static int xn_set(const struct xnode *n, const char *name, const void *value, size_t size)
{
	if (n->listed) {
		errno = EROFS;
		return -1;
	}
	return n->path ? lsetxattr(n->path, name, value, size, 0)
		       : fsetxattr(n->fd, name, value, size, 0);
}

static int xn_remove(const struct xnode *n, const char *name)
{
	if (n->listed) {
		errno = EROFS;
		return -1;
	}
	return n->path ? lremovexattr(n->path, name) : fremovexattr(n->fd, name);
}

/* Can n's attributes be read (otherwise: the source's are not known)? */
static int xn_readable(const struct xnode *n)
{
	return n->listed || n->path != NULL || n->fd >= 0;
}

/*
 * The node `src` names: its list, its fd, or a path to its name built in
 * buf.  0, or -1 with ENAMETOOLONG when that path does not fit.
 */
static int source_node(const struct xattr_source *src, char buf[PROC_FD_PATH_MAX], struct xnode *n)
{
	*n = (struct xnode){ .fd = -1 };
	if (src->listed) {
		n->listed = 1;
		n->list = src->list;
		n->list_len = src->list_len;
	} else if (src->fd >= 0) {
		n->fd = src->fd;
	} else if (src->dir >= 0) {
		n->path = proc_fd_path(buf, src->dir, src->name);
		if (n->path == NULL) {
			errno = ENAMETOOLONG;
			return -1;
		}
	}
	return 0;
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

/* Which part of the metadata the attribute `name` is. */
static enum meta_part part_of(const char *name)
{
	if (strcmp(name, ACL_ACCESS_XATTR) == 0)
		return META_ACL;
	return strcmp(name, ACL_DEFAULT_XATTR) == 0 ? META_DEFAULT_ACL : META_XATTR;
}

/* Does `flags` ask for the attribute `name`? */
static int wanted(unsigned flags, const char *name)
{
	return (flags & (acl_is_xattr_name(name) ? XATTR_ACLS : XATTR_OTHERS)) != 0;
}

/*
 * May a failed write of `name` pass without a word?  Only where cp -a is
 * silent too: an unprivileged user meeting a namespace only root may
 * write, as with a chown that fails for want of privilege.
 */
static int write_failure_expected(const struct session *s, const char *name)
{
	return errno == EPERM && s->euid != 0 &&
	       (strncmp(name, "security.", 9) == 0 || strncmp(name, "trusted.", 8) == 0);
}

/*
 * The access ACL `value` could not be written to dst.  If it holds no more
 * than mode bits do, nothing is lost.  Otherwise remove any ACL dst
 * inherited instead, and leave the bits the source's ACL granted (the
 * group's: its entry within the mask) for the mode.
 */
static void access_acl_not_written(const struct xnode *dst, const char *value, size_t len,
				   struct xattr_result *res, struct meta_loss *loss)
{
	int err = errno;
	struct acl_summary acl;

	if (acl_summarize(value, len, &acl) < 0) {
		acl.bits = 0700; /* unreadable: grant group and others nothing */
		acl.extended = 1;
	}
	if (!acl.extended)
		return;
	(void)xn_remove(dst, ACL_ACCESS_XATTR);
	res->acl_lost = 1;
	res->acl_bits = acl.bits;
	meta_loss_add(loss, META_ACL, err, NULL);
}

/* Copy the attribute `name`; value/cap are a reusable buffer. */
static void copy_one(const struct session *s, const struct xnode *src, const struct xnode *dst,
		     const char *name, char **value, size_t *cap, struct xattr_result *res,
		     struct meta_loss *loss)
{
	ssize_t len = get_xattr(src, name, value, cap);

	if (len < 0) {
		if (errno != ENODATA) /* ENODATA: removed meanwhile */
			meta_loss_add(loss, part_of(name), errno, name);
		return;
	}
	if (xn_set(dst, name, *value, (size_t)len) == 0) {
		res->changed++;
	} else if (part_of(name) == META_ACL) {
		access_acl_not_written(dst, *value, (size_t)len, res, loss);
	} else if (!write_failure_expected(s, name)) {
		int err = errno;

		if (part_of(name) == META_DEFAULT_ACL) /* not the inherited one instead */
			(void)xn_remove(dst, ACL_DEFAULT_XATTR);
		meta_loss_add(loss, part_of(name), err, name);
	}
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
 * parent and does not get from src, so the copy grants no access the
 * source does not.  Without XATTR_ACLS (mode not preserved) the access
 * ACL goes and a directory keeps the default ACL it inherited, as with cp.
 * A failure to remove an inherited access ACL is a loss: it would widen
 * access.
 */
static void strip_inherited_acls(const char *names, ssize_t len, unsigned flags,
				 const struct xnode *dst, struct xattr_result *res,
				 struct meta_loss *loss)
{
	static const char *const acls[] = { ACL_ACCESS_XATTR, ACL_DEFAULT_XATTR };

	for (size_t i = 0; i < ARRAY_LEN(acls); i++) {
		if ((flags & XATTR_ACLS) ? name_listed(names, len, acls[i]) : i > 0)
			continue;
		if (xn_remove(dst, acls[i]) == 0)
			res->changed++;
		else if (i == 0 && errno != ENODATA && errno != ENOTSUP && errno != ENOENT)
			meta_loss_add(loss, META_ACL, errno, NULL);
	}
}

/*
 * Remove from dst the attributes of the kinds `flags` copies that src (its
 * `len` bytes of names) does not have.  A failure is a loss: the copy would
 * carry what the source no longer does.
 */
static void remove_extra(const struct session *s, const char *names, ssize_t len, unsigned flags,
			 const struct xnode *dst, struct xattr_result *res, struct meta_loss *loss)
{
	char *have = NULL;
	ssize_t n = list_xattrs(dst, &have);

	if (n < 0 && errno != ENOTSUP && errno != ENOENT)
		meta_loss_add(loss, META_XATTR, errno, NULL);
	for (char *name = have; n > 0 && name < have + n; name += strlen(name) + 1) {
		if (!wanted(flags, name) || name_listed(names, len, name))
			continue;
		if (xn_remove(dst, name) == 0)
			res->changed++;
		else if (errno != ENODATA && !write_failure_expected(s, name))
			meta_loss_add(loss, part_of(name), errno, name);
	}
	free(have);
}

static int xattr_copy(const struct session *s, const struct xnode *src, const struct xnode *dst,
		      unsigned flags, struct xattr_result *res, struct meta_loss *loss)
{
	char *names = NULL, *value = NULL;
	size_t cap = 256;
	ssize_t len = 0;
	int lost = loss->any;

	int known = 0; /* src's attributes are known (none, if its file system has none) */

	memset(res, 0, sizeof(*res));
	if (xn_readable(src) && (flags & (XATTR_ACLS | XATTR_OTHERS))) {
		len = list_xattrs(src, &names);
		known = len >= 0 || errno == ENOTSUP;
	}
	/* ENOTSUP: the source holds none; ENOENT: a path without /proc. */
	if (len < 0 && errno != ENOTSUP && errno != ENOENT)
		meta_loss_add(loss, META_XATTR, errno, NULL);
	if (flags & XATTR_STRIP_INHERITED)
		strip_inherited_acls(names, len, flags, dst, res, loss);
	if ((flags & XATTR_REMOVE_EXTRA) && known)
		remove_extra(s, names, len < 0 ? 0 : len, flags, dst, res, loss);
	if (len > 0)
		value = xmalloc(cap);
	for (char *name = names; len > 0 && name < names + len; name += strlen(name) + 1)
		if (wanted(flags, name))
			copy_one(s, src, dst, name, &value, &cap, res, loss);
	free(value);
	free(names);
	return loss->any && !lost ? -1 : 0;
}

/* A path that does not fit: nothing copied, and that is a loss. */
static int path_too_long(struct xattr_result *res, struct meta_loss *loss)
{
	memset(res, 0, sizeof(*res));
	meta_loss_add(loss, META_XATTR, ENAMETOOLONG, NULL);
	return -1;
}

int xattr_copy_fd(const struct session *s, const struct xattr_source *src, int dst, unsigned flags,
		  struct xattr_result *res, struct meta_loss *loss)
{
	char sbuf[PROC_FD_PATH_MAX];
	struct xnode from, to = { .fd = dst };

	if (source_node(src, sbuf, &from) < 0)
		return path_too_long(res, loss);
	return xattr_copy(s, &from, &to, flags, res, loss);
}

int xattr_copy_at(const struct session *s, const struct xattr_source *src, int ddir,
		  const char *dname, unsigned flags, struct xattr_result *res,
		  struct meta_loss *loss)
{
	char sbuf[PROC_FD_PATH_MAX], dbuf[PROC_FD_PATH_MAX];
	struct xnode from, to = { .fd = -1, .path = proc_fd_path(dbuf, ddir, dname) };

	if (source_node(src, sbuf, &from) < 0 || to.path == NULL)
		return path_too_long(res, loss);
	return xattr_copy(s, &from, &to, flags, res, loss);
}

/* Append the attribute `name` and its value to the list *list of *len bytes. */
static void list_add(unsigned char **list, size_t *len, const char *name, const void *value,
		     size_t value_len)
{
	size_t name_len = strlen(name) + 1;
	uint32_t le = htole32((uint32_t)value_len);
	unsigned char *at;

	*list = xrealloc(*list, *len + name_len + sizeof(le) + value_len);
	at = *list + *len;
	memcpy(at, name, name_len);
	memcpy(at + name_len, &le, sizeof(le));
	memcpy(at + name_len + sizeof(le), value, value_len);
	*len += name_len + sizeof(le) + value_len;
}

/*
 * listxattrat(2) (Linux 6.13): the size of the name list of `name` in dir
 * without the walk of /proc/self/fd a path costs, which for a file
 * without attributes is most of the comparison.  -1 with ENOSYS where the
 * kernel lacks it (or the headers its number).
 */
static ssize_t list_size_at(int dir, const char *name)
{
#if defined(__x86_64__) || defined(__aarch64__)
	static atomic_int missing;
	ssize_t size;

	if (!atomic_load_explicit(&missing, memory_order_relaxed)) {
		size = syscall(SYS_LISTXATTRAT, dir, name, AT_SYMLINK_NOFOLLOW, NULL, (size_t)0);
		if (size >= 0 || errno != ENOSYS)
			return size < 0 && errno == ENOTSUP ? 0 : size;
		atomic_store_explicit(&missing, 1, memory_order_relaxed);
	}
#else
	(void)dir;
	(void)name;
#endif
	errno = ENOSYS;
	return -1;
}

int xattr_list_read(int fd, int dir, const char *name, unsigned flags, unsigned char **out,
		    size_t *len)
{
	const struct xattr_source src = { .fd = fd, .dir = fd < 0 ? dir : -1, .name = name };
	char buf[PROC_FD_PATH_MAX], *names = NULL, *value = NULL;
	size_t cap = 256;
	struct xnode n;
	ssize_t nlen;
	int err;

	*out = NULL;
	*len = 0;
	/* Most entries have none: said by listxattrat without a path through /proc. */
	if (fd < 0 && list_size_at(dir, name) == 0)
		return 0;
	nlen = source_node(&src, buf, &n) < 0 ? -1 : list_xattrs(&n, &names);
	err = nlen < 0 && errno != ENOTSUP ? errno : 0; /* ENOTSUP: it holds none */
	if (nlen > 0)
		value = xmalloc(cap);
	for (char *a = names; err == 0 && nlen > 0 && a < names + nlen; a += strlen(a) + 1) {
		ssize_t got;

		if (!wanted(flags, a))
			continue;
		got = get_xattr(&n, a, &value, &cap);
		if (got >= 0)
			list_add(out, len, a, value, (size_t)got);
		else if (errno != ENODATA) /* ENODATA: removed meanwhile */
			err = errno;
	}
	free(value);
	free(names);
	if (err == 0)
		return 0;
	free(*out);
	*out = NULL;
	*len = 0;
	errno = err;
	return -1;
}

/* The size of n's name list; 0 where the file system keeps none.  -1 on error. */
static ssize_t list_size(const struct xnode *n)
{
	ssize_t size = xn_list(n, NULL, 0);

	return size < 0 && errno == ENOTSUP ? 0 : size;
}

/* How many of the names listed are of the kinds `flags` asks for. */
static size_t count_wanted(const char *names, ssize_t len, unsigned flags)
{
	size_t count = 0;

	for (const char *n = names; names != NULL && n < names + len; n += strlen(n) + 1)
		count += wanted(flags, n) != 0;
	return count;
}

/* Does b hold the attribute `name` with a's value?  1, 0 or -1. */
static int same_value(const struct xnode *a, const struct xnode *b, const char *name, char **va,
		      size_t *ca, char **vb, size_t *cb)
{
	ssize_t la = get_xattr(a, name, va, ca);
	ssize_t lb = la < 0 ? -1 : get_xattr(b, name, vb, cb);

	if (la < 0 || lb < 0)
		return errno == ENODATA ? 0 : -1;
	return la == lb && memcmp(*va, *vb, (size_t)la) == 0;
}

static int xattr_equal(const struct xnode *a, const struct xnode *b, unsigned flags)
{
	char *an = NULL, *bn = NULL, *va = NULL, *vb = NULL;
	size_t ca = 256, cb = 256;
	ssize_t al = list_size(a), bl = al < 0 ? -1 : list_size(b);
	int rc = al < 0 || bl < 0 ? -1 : 1;

	/* The usual case, no attributes on either side, ends here. */
	if (rc > 0 && al > 0)
		al = list_xattrs(a, &an);
	if (rc > 0 && al >= 0 && bl > 0)
		bl = list_xattrs(b, &bn);
	if (al < 0 || bl < 0)
		rc = -1;
	else if (count_wanted(an, al, flags) != count_wanted(bn, bl, flags))
		rc = 0;
	if (rc > 0 && al > 0) {
		va = xmalloc(ca);
		vb = xmalloc(cb);
	}
	for (char *n = an; rc > 0 && n < an + al; n += strlen(n) + 1)
		if (wanted(flags, n))
			rc = name_listed(bn, bl, n) ? same_value(a, b, n, &va, &ca, &vb, &cb) : 0;
	free(an);
	free(bn);
	free(va);
	free(vb);
	return rc;
}


/*
 * xattr_equal of a, whose name list is `asize` bytes (-1: not known yet),
 * and `bname` in bdir.
 */
static int equal_to_at(const struct xnode *a, ssize_t asize, int bdir, const char *bname,
		       unsigned flags)
{
	ssize_t bsize = asize == 0 ? list_size_at(bdir, bname) : -1;
	char bbuf[PROC_FD_PATH_MAX];
	struct xnode b = { .fd = -1, .path = proc_fd_path(bbuf, bdir, bname) };

	/* Neither has any: equal (anything else is read through /proc). */
	if (asize == 0 && bsize == 0)
		return 1;
	if (b.path == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return xattr_equal(a, &b, flags);
}

int xattr_equal_at(int adir, const char *aname, int bdir, const char *bname, unsigned flags)
{
	char abuf[PROC_FD_PATH_MAX];
	struct xnode a = { .fd = -1, .path = proc_fd_path(abuf, adir, aname) };

	if (a.path == NULL) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return equal_to_at(&a, list_size_at(adir, aname), bdir, bname, flags);
}

int xattr_list_equal_at(const void *list, size_t len, int bdir, const char *bname, unsigned flags)
{
	struct xnode a = { .fd = -1, .listed = 1, .list = list, .list_len = len };

	return equal_to_at(&a, len == 0 ? 0 : -1, bdir, bname, flags);
}
