/* path.h - opening relative paths safely beneath a root directory fd. */
#ifndef PCOPY_PATH_H
#define PCOPY_PATH_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Open `relpath` beneath the directory fd `root` ("" opens root itself).
 * With follow == 0 no symbolic link is followed anywhere in the path and the
 * result cannot escape root: openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS),
 * or a per-component O_NOFOLLOW walk where the kernel lacks openat2.  With
 * follow != 0 (-L on the source) links are followed.  Paths longer than
 * PATH_MAX are opened in pieces.  O_CLOEXEC is always added.  Returns an fd,
 * or -1 with errno set.
 */
int open_beneath(int root, const char *relpath, int flags, mode_t mode, int follow);

/*
 * Open the directory holding `relpath` (its path up to the last '/')
 * beneath `root`, as open_beneath does with O_RDONLY | O_DIRECTORY.
 */
int open_parent_beneath(int root, const char *relpath, int follow);

/*
 * Open the directory holding the path `path` (absolute, or from the
 * current directory) and give the name `path` has there in *name
 * (malloc'd).  An fd, or -1 with errno (*name set all the same).
 */
int open_parent_dir(const char *path, char **name);

/* Never use openat2 (PCOPY_FORCE=no_openat2, and kernels without it). */
void path_disable_openat2(void);

/* The last component of a relative path (the whole path if it has no '/'). */
const char *path_basename(const char *relpath);

/* Length of the directory part of relpath ("a/b/c" -> 3, "c" -> 0). */
size_t path_dirlen(const char *relpath);

/*
 * --partial: what arrived of the file `name` before its copy was cut is
 * kept beside it as ".NAME.pcopy-partial".  That name into out (NAME_MAX
 * + 1 bytes); 0, or -1 when it would be too long (nothing is kept then).
 */
#define PARTIAL_SUFFIX ".pcopy-partial"
int path_partial_name(const char *name, char *out);

/* Is `name` a partial's?  Then 1, with the name it belongs to in out (NAME_MAX + 1). */
int path_partial_of(const char *name, char *out);

/*
 * A growable path buffer, for walkers that extend and trim a path as they
 * descend and return.
 */
struct pathbuf {
	char *data; /* NUL-terminated */
	size_t len; /* strlen(data) */
	size_t cap; /* bytes allocated */
};

void pathbuf_init(struct pathbuf *pb);
void pathbuf_free(struct pathbuf *pb);
/* Append "/name" (or "name" when empty); returns the old length for pathbuf_trim. */
size_t pathbuf_push(struct pathbuf *pb, const char *name);
void pathbuf_trim(struct pathbuf *pb, size_t len);
void pathbuf_set(struct pathbuf *pb, const char *s, size_t len);

/* Join "prefix/rel" (or "prefix" when rel is empty) into a new string. */
char *path_join(const char *prefix, const char *rel);

#endif
