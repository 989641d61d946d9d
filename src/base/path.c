/* path.c - race-safe opening of paths beneath a root, and path buffers. */
#include "base/path.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"

/* Set once openat2 is known to be missing (or is switched off for tests). */
static atomic_int openat2_missing;

void path_disable_openat2(void)
{
	atomic_store(&openat2_missing, 1);
}

/* Only O_CREAT and O_TMPFILE opens may carry a mode (openat2 insists). */
static mode_t mode_for(int flags, mode_t mode)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode : 0;
}

/* openat2 beneath dirfd with no symlinks; -1/ENOSYS when the kernel lacks it. */
static int openat2_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = mode_for(flags, mode),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	/* EAGAIN: a concurrent rename raced the lookup; it is safe to retry. */
	for (int tries = 0; tries < 8; tries++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

/*
 * O_DIRECTORY|O_NOFOLLOW on a symlink fails with ENOTDIR; say ELOOP, as
 * openat2 does, when a link is what stopped us.
 */
static int symlink_errno(int dirfd, const char *name, int err)
{
	struct stat st;

	if (err == ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return ELOOP;
	return err;
}

/* Open path one component at a time, refusing symlinks and "..". */
static int open_by_components(int dirfd, const char *path, int flags, mode_t mode)
{
	char *copy = xstrdup(path);
	char *save = NULL;
	char *comp = strtok_r(copy, "/", &save);
	int cur = dirfd;
	int fd = -1;

	if (comp == NULL) /* "" or "/": the directory itself */
		comp = ".";
	for (;;) {
		char *next = strtok_r(NULL, "/", &save);

		if (strcmp(comp, "..") == 0) {
			errno = EXDEV; /* what RESOLVE_BENEATH says */
			fd = -1;
		} else if (next == NULL) {
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC,
				    mode_for(flags, mode));
		} else {
			fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (fd < 0)
			errno = symlink_errno(cur, comp, errno);
		if (cur != dirfd) {
			int saved = errno;

			close(cur);
			errno = saved;
		}
		if (fd < 0 || next == NULL)
			break;
		cur = fd;
		comp = next;
	}
	free(copy);
	return fd;
}

/* Open one piece shorter than PATH_MAX. */
static int open_piece(int dirfd, const char *path, int flags, mode_t mode, int follow)
{
	int fd;

	if (follow)
		return openat(dirfd, *path ? path : ".", flags | O_CLOEXEC, mode_for(flags, mode));
	if (!atomic_load(&openat2_missing)) {
		fd = openat2_beneath(dirfd, *path ? path : ".", flags, mode);
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		atomic_store(&openat2_missing, 1);
	}
	return open_by_components(dirfd, path, flags, mode);
}

int open_beneath(int root, const char *relpath, int flags, mode_t mode, int follow)
{
	int dirfd = root;
	int fd;

	/* Too long for one syscall: open leading directories in pieces. */
	while (strlen(relpath) >= PATH_MAX) {
		const char *cut = relpath + PATH_MAX - 1;
		char *prefix;
		int next;

		while (cut > relpath && *cut != '/')
			cut--;
		if (cut == relpath) {
			errno = ENAMETOOLONG;
			fd = -1;
			goto out;
		}
		prefix = xmalloc((size_t)(cut - relpath) + 1);
		memcpy(prefix, relpath, (size_t)(cut - relpath));
		prefix[cut - relpath] = '\0';
		next = open_piece(dirfd, prefix, O_PATH | O_DIRECTORY, 0, follow);
		free(prefix);
		if (dirfd != root)
			close(dirfd);
		if (next < 0)
			return -1;
		dirfd = next;
		relpath = cut + 1;
	}
	fd = open_piece(dirfd, relpath, flags, mode, follow);
out:
	if (dirfd != root) {
		int saved = errno;

		close(dirfd);
		errno = saved;
	}
	return fd;
}

int open_parent_beneath(int root, const char *relpath, int follow)
{
	char *dir = xstrdup(relpath);
	int fd;

	dir[path_dirlen(dir)] = '\0';
	fd = open_beneath(root, dir, O_RDONLY | O_DIRECTORY | O_NOCTTY, 0, follow);
	free(dir);
	return fd;
}

int open_parent_dir(const char *path, char **name)
{
	char *copy = xstrdup(path);
	int fd;

	*name = xstrdup(basename(copy));
	strcpy(copy, path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	return fd;
}

const char *path_basename(const char *relpath)
{
	const char *slash = strrchr(relpath, '/');

	return slash ? slash + 1 : relpath;
}

size_t path_dirlen(const char *relpath)
{
	const char *slash = strrchr(relpath, '/');

	return slash ? (size_t)(slash - relpath) : 0;
}

int path_partial_name(const char *name, char *out)
{
	size_t len = strlen(name);

	if (1 + len + strlen(PARTIAL_SUFFIX) > NAME_MAX)
		return -1;
	out[0] = '.';
	memcpy(out + 1, name, len);
	strcpy(out + 1 + len, PARTIAL_SUFFIX);
	return 0;
}

int path_partial_of(const char *name, char *out)
{
	size_t len = strlen(name), suffix = strlen(PARTIAL_SUFFIX);

	if (len <= 1 + suffix || len > NAME_MAX || name[0] != '.' ||
	    strcmp(name + len - suffix, PARTIAL_SUFFIX) != 0)
		return 0;
	memcpy(out, name + 1, len - 1 - suffix);
	out[len - 1 - suffix] = '\0';
	return 1;
}

void pathbuf_init(struct pathbuf *pb)
{
	pb->cap = 256;
	pb->data = xmalloc(pb->cap);
	pb->data[0] = '\0';
	pb->len = 0;
}

void pathbuf_free(struct pathbuf *pb)
{
	free(pb->data);
	pb->data = NULL;
	pb->len = pb->cap = 0;
}

static void pathbuf_reserve(struct pathbuf *pb, size_t need)
{
	if (need <= pb->cap)
		return;
	while (pb->cap < need)
		pb->cap *= 2;
	pb->data = xrealloc(pb->data, pb->cap);
}

size_t pathbuf_push(struct pathbuf *pb, const char *name)
{
	size_t old = pb->len;
	size_t nlen = strlen(name);

	pathbuf_reserve(pb, pb->len + nlen + 2);
	if (pb->len > 0)
		pb->data[pb->len++] = '/';
	memcpy(pb->data + pb->len, name, nlen + 1);
	pb->len += nlen;
	return old;
}

void pathbuf_trim(struct pathbuf *pb, size_t len)
{
	pb->len = len;
	pb->data[len] = '\0';
}

void pathbuf_set(struct pathbuf *pb, const char *s, size_t len)
{
	pathbuf_reserve(pb, len + 1);
	memcpy(pb->data, s, len);
	pathbuf_trim(pb, len);
}

char *path_join(const char *prefix, const char *rel)
{
	size_t plen = strlen(prefix);
	size_t rlen = strlen(rel);
	char *out = xmalloc(plen + rlen + 2);

	memcpy(out, prefix, plen);
	if (rlen > 0) {
		out[plen] = '/';
		memcpy(out + plen + 1, rel, rlen + 1);
	} else {
		out[plen] = '\0';
	}
	return out;
}
