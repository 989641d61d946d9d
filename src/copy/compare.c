/* compare.c - comparing the contents of two regular files (compare.h). */
#include "copy/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

/* Bytes read from each file at a time: big, for few calls on big files. */
#define COMPARE_CHUNK ((size_t)1 << 20)

/*
 * Read up to `want` bytes, short only at the end of the file: a count that
 * stops exactly at `expect` (where stat says the file ends) is taken as
 * the end, as data.c does, so a small file costs one read.  Bytes or -1.
 */
static ssize_t read_upto(int fd, char *buf, size_t want, size_t expect)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = read(fd, buf + got, want - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == expect)
			break;
	}
	return (ssize_t)got;
}

/* Open a file for comparing: a regular file only, never a FIFO's hang. */
static int open_regular(int dir, const char *name, int follow)
{
	int fd = openat(dir, name,
			O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	close(fd);
	errno = EINVAL;
	return -1;
}

/* Compare the open files a and b, `size` bytes said; 1, 0 or -1. */
static int compare_fds(int a, int b, uint64_t size)
{
	size_t cap = size < COMPARE_CHUNK ? (size_t)size + 1 : COMPARE_CHUNK;
	char *abuf = xmalloc(2 * cap), *bbuf = abuf + cap;
	uint64_t done = 0;
	int rc = -1;

	if (size > cap) { /* only worth a call where readahead can help */
		(void)posix_fadvise(a, 0, 0, POSIX_FADV_SEQUENTIAL);
		(void)posix_fadvise(b, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	for (;;) {
		size_t expect = done < size && size - done < cap ? (size_t)(size - done) : cap;
		ssize_t na = read_upto(a, abuf, cap, expect);
		ssize_t nb = na < 0 ? -1 : read_upto(b, bbuf, cap, expect);

		if (na < 0 || nb < 0)
			break;
		if (na != nb || memcmp(abuf, bbuf, (size_t)na) != 0) {
			rc = 1;
			break;
		}
		done += (uint64_t)na;
		if ((size_t)na < cap) { /* both ended here */
			rc = 0;
			break;
		}
	}
	free(abuf);
	return rc;
}

int compare_contents_at(int adir, const char *aname, int follow_a, int bdir, const char *bname,
			uint64_t size)
{
	int a = open_regular(adir, aname, follow_a);
	int b = a < 0 ? -1 : open_regular(bdir, bname, 0);
	int rc = -1;

	if (b >= 0)
		rc = compare_fds(a, b, size);
	close_both(a, b);
	return rc;
}
