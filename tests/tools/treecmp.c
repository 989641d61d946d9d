/*
 * treecmp: compare two directory trees entry by entry, in every attribute
 * pcopy promises to preserve.  Used by the whole-program tests.
 *
 * Both trees are walked together, relative to directory file descriptors
 * (openat/fstatat/readlinkat), so trees deeper than PATH_MAX work: no full
 * path is ever given to a system call.  Extended attributes are read through
 * "/proc/self/fd/DIRFD/NAME" for the same reason (the l*xattr calls take a
 * path and there is no *xattrat in older libcs).  Paths are built only for
 * the report, with unprintable bytes escaped so each difference is one line.
 *
 * Two file descriptors per directory level are held open while walking.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)

/* one entry being compared: its directory fd and name, and its lstat */
struct entry {
	int dirfd;        /* directory holding it, or AT_FDCWD for a top path */
	const char *name; /* name inside dirfd (a whole path when AT_FDCWD) */
	struct stat st;   /* lstat of the entry */
};

/* one non-directory entry that is hard-linked on either side */
struct link_rec {
	dev_t src_dev, dst_dev; /* device of the entry in SRC and DST */
	ino_t src_ino, dst_ino; /* inode of the entry in SRC and DST */
	char *path;             /* printable relative path, owned */
};

/* the comparison's state: options, result, report path, hard links */
struct ctx {
	bool atime;             /* compare access times too */
	bool ignore_top_times;  /* do not compare times of the two top entries */
	bool quiet;             /* report nothing, only the exit status */
	bool differ;            /* at least one difference was found */
	bool error;             /* at least one entry could not be examined */
	char *path;             /* printable relative path of the current entry */
	size_t path_len;        /* strlen(path) */
	size_t path_cap;        /* allocated size of path */
	struct link_rec *links; /* hard-linked entries seen so far */
	size_t nlinks;          /* used elements of links */
	size_t links_cap;       /* allocated elements of links */
	unsigned char *buf_src; /* read buffer for SRC contents */
	unsigned char *buf_dst; /* read buffer for DST contents */
};

static void compare_entry(struct ctx *c, struct entry *s, struct entry *d, bool top);

/* print usage on stderr and exit with status 2 */
static void usage(void)
{
	fputs("usage: treecmp [--atime|--no-atime] [--ignore-top-times] [-q] SRC DST\n"
	      "Compare two trees: presence, type, content, mode (07777), uid, gid,\n"
	      "mtime with nanoseconds, symlink targets, device numbers, xattrs,\n"
	      "hard-link groups and holes.  Access times are NOT compared by default\n"
	      "(reading a tree changes them); --atime compares them, --no-atime is the\n"
	      "default and accepted for clarity.  --ignore-top-times skips the times\n"
	      "of SRC and DST themselves.  One line per difference on stdout.\n"
	      "Exit: 0 identical, 1 different, 2 usage or error.\n",
	      stderr);
	exit(2);
}

/* allocate or die: treecmp cannot do anything useful without memory */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		perror("treecmp: realloc");
		exit(2);
	}
	return p;
}

/* append name (escaped) to the report path, as a new last component */
static void path_push(struct ctx *c, const char *name)
{
	size_t need = c->path_len + 1 + 4 * strlen(name) + 1;
	if (need > c->path_cap) {
		c->path_cap = need * 2;
		c->path = xrealloc(c->path, c->path_cap);
	}
	char *p = c->path + c->path_len;
	*p++ = '/';
	for (const unsigned char *n = (const unsigned char *)name; *n; n++) {
		if (*n < 0x20 || *n >= 0x7f || *n == '\\')
			p += sprintf(p, "\\x%02x", *n);
		else
			*p++ = (char)*n;
	}
	*p = '\0';
	c->path_len = (size_t)(p - c->path);
}

/* remove the last component appended by path_push */
static void path_pop(struct ctx *c, size_t old_len)
{
	c->path_len = old_len;
	c->path[old_len] = '\0';
}

/* report one difference of the current entry */
static void differ(struct ctx *c, const char *fmt, ...)
{
	c->differ = true;
	if (c->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	printf("%s: ", c->path);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* report an error examining the current entry (side is "SRC" or "DST") */
static void fail(struct ctx *c, const char *side, const char *what)
{
	c->error = true;
	fprintf(stderr, "treecmp: %s %s: %s: %s\n", side, c->path, what, strerror(errno));
}

/* name of a file type for reports */
static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "directory";
	case S_IFLNK: return "symlink";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	case S_IFCHR: return "char-device";
	case S_IFBLK: return "block-device";
	default: return "unknown";
	}
}

/* open a regular file for reading without following links or touching atime */
static int open_regular(const struct entry *e)
{
	int fl = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = openat(e->dirfd, e->name, fl | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(e->dirfd, e->name, fl);
	return fd;
}

/* read up to n bytes, retrying short reads; returns bytes read or -1 */
static ssize_t read_full(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* compare the bytes of two open regular files of equal size */
static void compare_bytes(struct ctx *c, int sfd, int dfd)
{
	off_t off = 0;
	for (;;) {
		ssize_t a = read_full(sfd, c->buf_src, BUF_SIZE);
		ssize_t b = read_full(dfd, c->buf_dst, BUF_SIZE);
		if (a < 0 || b < 0) {
			fail(c, a < 0 ? "SRC" : "DST", "read");
			return;
		}
		size_t n = (size_t)(a < b ? a : b);
		for (size_t i = 0; i < n; i++) {
			if (c->buf_src[i] != c->buf_dst[i]) {
				differ(c, "content differs at byte %jd",
				       (intmax_t)(off + (off_t)i));
				return;
			}
		}
		if (a != b) {
			differ(c, "content length differs after byte %jd",
			       (intmax_t)(off + (off_t)n));
			return;
		}
		if (a == 0)
			return;
		off += a;
	}
}

/* true if fd has no data in [from, to) (a hole, or past EOF) */
static bool is_hole(int fd, off_t from, off_t to)
{
	off_t data = lseek(fd, from, SEEK_DATA);
	if (data < 0)
		return errno == ENXIO;
	return data >= to;
}

/*
 * Every hole of SRC before EOF must be a hole in DST too.  Hole edges are
 * rounded inwards to DST's block size: a filesystem with bigger blocks may
 * allocate the partial blocks around a hole.  A hole running to EOF is kept
 * whole (its end is EOF on both sides).
 */
static void compare_holes(struct ctx *c, int sfd, int dfd, const struct stat *sst,
			  const struct stat *dst)
{
	off_t size = sst->st_size;
	off_t blk = dst->st_blksize > 0 ? dst->st_blksize : 4096;
	off_t pos = 0;
	while (pos < size) {
		off_t hole = lseek(sfd, pos, SEEK_HOLE);
		if (hole < 0 || hole >= size)
			return;
		off_t end = lseek(sfd, hole, SEEK_DATA);
		if (end < 0)
			end = size; /* ENXIO: hole runs to EOF */
		off_t a = (hole + blk - 1) / blk * blk;
		off_t b = end == size ? size : end / blk * blk;
		if (a < b && !is_hole(dfd, a, b))
			differ(c, "hole [%jd,%jd) of SRC is data in DST", (intmax_t)hole,
			       (intmax_t)end);
		pos = end;
	}
}

/* compare contents and holes of two regular files */
static void compare_regular(struct ctx *c, struct entry *s, struct entry *d)
{
	if (s->st.st_size != d->st.st_size) {
		differ(c, "size %jd != %jd", (intmax_t)s->st.st_size, (intmax_t)d->st.st_size);
		return;
	}
	int sfd = open_regular(s);
	if (sfd < 0) {
		fail(c, "SRC", "open");
		return;
	}
	int dfd = open_regular(d);
	if (dfd < 0) {
		fail(c, "DST", "open");
		close(sfd);
		return;
	}
	compare_bytes(c, sfd, dfd);
	compare_holes(c, sfd, dfd, &s->st, &d->st);
	close(sfd);
	close(dfd);
}

/* read a symlink's target into a malloc'd string, or NULL on error */
static char *read_link(const struct entry *e)
{
	size_t cap = (size_t)e->st.st_size + 2;
	for (;;) {
		char *t = xrealloc(NULL, cap);
		ssize_t n = readlinkat(e->dirfd, e->name, t, cap);
		if (n < 0) {
			free(t);
			return NULL;
		}
		if ((size_t)n < cap) {
			t[n] = '\0';
			return t;
		}
		free(t);
		cap *= 2;
	}
}

/* compare the targets of two symlinks */
static void compare_symlink(struct ctx *c, struct entry *s, struct entry *d)
{
	char *a = read_link(s);
	if (!a) {
		fail(c, "SRC", "readlink");
		return;
	}
	char *b = read_link(d);
	if (!b)
		fail(c, "DST", "readlink");
	else if (strcmp(a, b) != 0)
		differ(c, "symlink target '%s' != '%s'", a, b);
	free(a);
	free(b);
}

/* build a path naming the entry for the l*xattr calls (short even when deep) */
static void xattr_path(const struct entry *e, char *out, size_t n)
{
	if (e->dirfd == AT_FDCWD)
		snprintf(out, n, "%s", e->name);
	else
		snprintf(out, n, "/proc/self/fd/%d/%s", e->dirfd, e->name);
}

/* list xattr names into a malloc'd buffer (always allocated); length or -1 */
static ssize_t list_xattrs(const char *path, char **out)
{
	*out = xrealloc(NULL, 1);
	for (;;) {
		ssize_t n = llistxattr(path, NULL, 0);
		if (n < 0 && (errno == ENOTSUP || errno == ENOSYS))
			return 0;
		if (n <= 0)
			return n;
		*out = xrealloc(*out, (size_t)n);
		ssize_t m = llistxattr(path, *out, (size_t)n);
		if (m >= 0)
			return m;
		if (errno != ERANGE)
			return -1;
	}
}

/* get one xattr value into a malloc'd buffer; returns its length or -1 */
static ssize_t get_xattr(const char *path, const char *name, char **out)
{
	*out = NULL;
	for (;;) {
		ssize_t n = lgetxattr(path, name, NULL, 0);
		if (n < 0)
			return -1;
		*out = xrealloc(*out, (size_t)n);
		ssize_t m = lgetxattr(path, name, *out, (size_t)n);
		if (m >= 0)
			return m;
		if (errno != ERANGE)
			return -1;
	}
}

/* true if the NUL-separated list contains name */
static bool list_has(const char *list, ssize_t len, const char *name)
{
	for (const char *p = list; p < list + len; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return true;
	return false;
}

/* compare the values of xattrs present in both lists; report those only in SRC */
static void compare_xattr_values(struct ctx *c, const char *sp, const char *dp, const char *sl,
				 ssize_t sn, const char *dl, ssize_t dn)
{
	for (const char *name = sl; name < sl + sn; name += strlen(name) + 1) {
		if (!list_has(dl, dn, name)) {
			differ(c, "xattr %s missing in DST", name);
			continue;
		}
		char *a, *b;
		ssize_t an = get_xattr(sp, name, &a);
		ssize_t bn = get_xattr(dp, name, &b);
		if (an < 0 || bn < 0)
			fail(c, an < 0 ? "SRC" : "DST", name);
		else if (an != bn || memcmp(a, b, (size_t)an) != 0)
			differ(c, "xattr %s value differs", name);
		free(a);
		free(b);
	}
}

/* compare all extended attributes (names and values) of two entries */
static void compare_xattrs(struct ctx *c, struct entry *s, struct entry *d)
{
	char sp[PATH_MAX + 64], dp[PATH_MAX + 64];
	xattr_path(s, sp, sizeof sp);
	xattr_path(d, dp, sizeof dp);
	char *sl, *dl;
	ssize_t sn = list_xattrs(sp, &sl);
	ssize_t dn = list_xattrs(dp, &dl);
	if (sn < 0 || dn < 0) {
		fail(c, sn < 0 ? "SRC" : "DST", "listxattr");
	} else {
		compare_xattr_values(c, sp, dp, sl, sn, dl, dn);
		for (const char *name = dl; name < dl + dn; name += strlen(name) + 1)
			if (!list_has(sl, sn, name))
				differ(c, "xattr %s only in DST", name);
	}
	free(sl);
	free(dl);
}

/* compare two timestamps, reporting a difference under label */
static void compare_time(struct ctx *c, const char *label, const struct timespec *a,
			 const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec || a->tv_nsec != b->tv_nsec)
		differ(c, "%s %jd.%09ld != %jd.%09ld", label, (intmax_t)a->tv_sec, a->tv_nsec,
		       (intmax_t)b->tv_sec, b->tv_nsec);
}

/* compare the inode metadata of two entries of the same type */
static void compare_meta(struct ctx *c, const struct stat *s, const struct stat *d, bool top)
{
	if (!S_ISLNK(s->st_mode) && (s->st_mode & 07777) != (d->st_mode & 07777))
		differ(c, "mode %04o != %04o", (unsigned)(s->st_mode & 07777),
		       (unsigned)(d->st_mode & 07777));
	if (s->st_uid != d->st_uid)
		differ(c, "uid %ju != %ju", (uintmax_t)s->st_uid, (uintmax_t)d->st_uid);
	if (s->st_gid != d->st_gid)
		differ(c, "gid %ju != %ju", (uintmax_t)s->st_gid, (uintmax_t)d->st_gid);
	if ((S_ISCHR(s->st_mode) || S_ISBLK(s->st_mode)) && s->st_rdev != d->st_rdev)
		differ(c, "device %u:%u != %u:%u", major(s->st_rdev), minor(s->st_rdev),
		       major(d->st_rdev), minor(d->st_rdev));
	if (top && c->ignore_top_times)
		return;
	compare_time(c, "mtime", &s->st_mtim, &d->st_mtim);
	if (c->atime)
		compare_time(c, "atime", &s->st_atim, &d->st_atim);
}

/* remember a hard-linked entry for the link-group check at the end */
static void note_link(struct ctx *c, const struct stat *s, const struct stat *d)
{
	if (S_ISDIR(s->st_mode) || (s->st_nlink < 2 && d->st_nlink < 2))
		return;
	if (c->nlinks == c->links_cap) {
		c->links_cap = c->links_cap ? c->links_cap * 2 : 64;
		c->links = xrealloc(c->links, c->links_cap * sizeof *c->links);
	}
	struct link_rec *r = &c->links[c->nlinks++];
	r->src_dev = s->st_dev;
	r->src_ino = s->st_ino;
	r->dst_dev = d->st_dev;
	r->dst_ino = d->st_ino;
	r->path = strdup(c->path);
	if (!r->path) {
		perror("treecmp: strdup");
		exit(2);
	}
}

/* read the names in a directory (without . and ..), sorted bytewise */
static char **read_names(int fd, size_t *count)
{
	int dup_fd = dup(fd);
	DIR *dir = dup_fd < 0 ? NULL : fdopendir(dup_fd);
	if (!dir) {
		if (dup_fd >= 0)
			close(dup_fd);
		return NULL;
	}
	rewinddir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n] = strdup(de->d_name);
		if (!names[n++]) {
			perror("treecmp: strdup");
			exit(2);
		}
	}
	closedir(dir);
	*count = n;
	return names ? names : xrealloc(NULL, sizeof *names);
}

/* qsort comparator for names: bytewise order */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* free a list of names returned by read_names */
static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* compare the child called name in both directories, or report it on one side */
static void compare_child(struct ctx *c, int sfd, int dfd, const char *name, int where)
{
	size_t old = c->path_len;
	path_push(c, name);
	if (where < 0) {
		differ(c, "only in SRC");
	} else if (where > 0) {
		differ(c, "only in DST");
	} else {
		struct entry s = { .dirfd = sfd, .name = name };
		struct entry d = { .dirfd = dfd, .name = name };
		compare_entry(c, &s, &d, false);
	}
	path_pop(c, old);
}

/* compare the children of two open directories by a merge of sorted names */
static void compare_children(struct ctx *c, int sfd, int dfd)
{
	size_t sn, dn;
	char **sl = read_names(sfd, &sn);
	if (!sl) {
		fail(c, "SRC", "readdir");
		return;
	}
	char **dl = read_names(dfd, &dn);
	if (!dl) {
		fail(c, "DST", "readdir");
		free_names(sl, sn);
		return;
	}
	qsort(sl, sn, sizeof *sl, cmp_names);
	qsort(dl, dn, sizeof *dl, cmp_names);
	size_t i = 0, j = 0;
	while (i < sn || j < dn) {
		int r = i == sn ? 1 : j == dn ? -1 : strcmp(sl[i], dl[j]);
		compare_child(c, sfd, dfd, r <= 0 ? sl[i] : dl[j], r);
		i += r <= 0;
		j += r >= 0;
	}
	free_names(sl, sn);
	free_names(dl, dn);
}

/* open a directory entry without following a symlink */
static int open_dir(const struct entry *e)
{
	return openat(e->dirfd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* compare two directories' contents, recursing */
static void compare_dirs(struct ctx *c, struct entry *s, struct entry *d)
{
	int sfd = open_dir(s);
	if (sfd < 0) {
		fail(c, "SRC", "open directory");
		return;
	}
	int dfd = open_dir(d);
	if (dfd < 0) {
		fail(c, "DST", "open directory");
	} else {
		compare_children(c, sfd, dfd);
		close(dfd);
	}
	close(sfd);
}

/* compare one entry present on both sides, in every attribute */
static void compare_entry(struct ctx *c, struct entry *s, struct entry *d, bool top)
{
	if (fstatat(s->dirfd, s->name, &s->st, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(c, "SRC", "lstat");
		return;
	}
	if (fstatat(d->dirfd, d->name, &d->st, AT_SYMLINK_NOFOLLOW) < 0) {
		fail(c, "DST", "lstat");
		return;
	}
	if ((s->st.st_mode & S_IFMT) != (d->st.st_mode & S_IFMT)) {
		differ(c, "type %s != %s", type_name(s->st.st_mode), type_name(d->st.st_mode));
		return;
	}
	compare_meta(c, &s->st, &d->st, top);
	compare_xattrs(c, s, d);
	note_link(c, &s->st, &d->st);
	if (S_ISREG(s->st.st_mode))
		compare_regular(c, s, d);
	else if (S_ISLNK(s->st.st_mode))
		compare_symlink(c, s, d);
	else if (S_ISDIR(s->st.st_mode))
		compare_dirs(c, s, d);
}

/* order link records by their SRC inode (dst=false) or DST inode (dst=true) */
static int link_order(const struct link_rec *a, const struct link_rec *b, bool dst)
{
	dev_t ad = dst ? a->dst_dev : a->src_dev, bd = dst ? b->dst_dev : b->src_dev;
	ino_t ai = dst ? a->dst_ino : a->src_ino, bi = dst ? b->dst_ino : b->src_ino;
	if (ad != bd)
		return ad < bd ? -1 : 1;
	if (ai != bi)
		return ai < bi ? -1 : 1;
	return strcmp(a->path, b->path);
}

/* qsort comparator: by SRC inode */
static int by_src(const void *a, const void *b)
{
	return link_order(a, b, false);
}

/* qsort comparator: by DST inode */
static int by_dst(const void *a, const void *b)
{
	return link_order(a, b, true);
}

/*
 * Check hard-link groups one way: entries sharing an inode on side "one"
 * must share one inode on the other side.  Run both ways, this also catches
 * two groups merged into one.
 */
static void check_links_one_way(struct ctx *c, bool dst)
{
	if (c->nlinks < 2)
		return;
	qsort(c->links, c->nlinks, sizeof *c->links, dst ? by_dst : by_src);
	const char *one = dst ? "DST" : "SRC", *other = dst ? "SRC" : "DST";
	size_t first = 0;
	for (size_t i = 1; i < c->nlinks; i++) {
		struct link_rec *f = &c->links[first], *r = &c->links[i];
		bool same_here = dst ? f->dst_dev == r->dst_dev && f->dst_ino == r->dst_ino
				     : f->src_dev == r->src_dev && f->src_ino == r->src_ino;
		if (!same_here) {
			first = i;
			continue;
		}
		bool same_there = dst ? f->src_dev == r->src_dev && f->src_ino == r->src_ino
				      : f->dst_dev == r->dst_dev && f->dst_ino == r->dst_ino;
		if (!same_there) {
			c->differ = true;
			if (!c->quiet)
				printf("%s: hard link: shares an inode with %s in %s but not in "
				       "%s\n",
				       r->path, f->path, one, other);
		}
	}
}

/* check hard-link groups both ways and free the records */
static void check_links(struct ctx *c)
{
	check_links_one_way(c, false);
	check_links_one_way(c, true);
	for (size_t i = 0; i < c->nlinks; i++)
		free(c->links[i].path);
	free(c->links);
	c->links = NULL;
	c->nlinks = 0;
}

/* parse options into c; returns the index of the first operand */
static int parse_args(struct ctx *c, int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--atime")) {
			c->atime = true;
		} else if (!strcmp(argv[i], "--no-atime")) {
			c->atime = false;
		} else if (!strcmp(argv[i], "--ignore-top-times")) {
			c->ignore_top_times = true;
		} else if (!strcmp(argv[i], "-q")) {
			c->quiet = true;
		} else {
			usage();
		}
	}
	if (argc - i != 2)
		usage();
	return i;
}

int main(int argc, char **argv)
{
	struct ctx c = { 0 };
	int i = parse_args(&c, argc, argv);
	c.path_cap = 256;
	c.path = xrealloc(NULL, c.path_cap);
	strcpy(c.path, ".");
	c.path_len = 1;
	c.buf_src = xrealloc(NULL, BUF_SIZE);
	c.buf_dst = xrealloc(NULL, BUF_SIZE);
	struct entry s = { .dirfd = AT_FDCWD, .name = argv[i] };
	struct entry d = { .dirfd = AT_FDCWD, .name = argv[i + 1] };
	compare_entry(&c, &s, &d, true);
	check_links(&c);
	free(c.path);
	free(c.buf_src);
	free(c.buf_dst);
	if (fflush(stdout) != 0)
		return 2;
	return c.error ? 2 : c.differ ? 1 : 0;
}
