/*
 * dirstream.h - the names of an open directory, read with getdents64(2).
 *
 * readdir(3) on an fd costs fdopendir's two fcntl calls and a buffer
 * allocated per directory; a walk of many small directories (and --delete
 * lists DST's as well) pays that for each.  A dirstream reads into a
 * caller-owned buffer reused for every directory, and leaves the fd alone.
 */
#ifndef PCOPY_DIRSTREAM_H
#define PCOPY_DIRSTREAM_H

#include <stddef.h>

/* Big enough for a few hundred names per call, as glibc's readdir uses. */
#define DIRSTREAM_BUF 32768

struct dirstream {
	int fd;          /* the directory, open by the caller */
	size_t pos, len; /* unread records are buf[pos, len) */
	char *buf;       /* DIRSTREAM_BUF bytes, 8-byte aligned */
};

/* Read `fd` from its start with `buf` (DIRSTREAM_BUF bytes, from dirstream_buffer). */
void dirstream_start(struct dirstream *d, int fd, char *buf);

/* A buffer for dirstream_start; free() it. */
char *dirstream_buffer(void);

/*
 * The next name other than "." and "..": 1 with *type (a DT_ value) and
 * *name (valid until the next call) set, 0 at the end, -1 with errno.
 */
int dirstream_next(struct dirstream *d, unsigned char *type, const char **name);

#endif
