/* dirstream.c - the names of an open directory, read with getdents64(2). */
#include "base/dirstream.h"

#include <dirent.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"

/* The record getdents64 fills (linux_dirent64). */
struct record {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

void dirstream_start(struct dirstream *d, int fd, char *buf)
{
	d->fd = fd;
	d->pos = d->len = 0;
	d->buf = buf;
}

char *dirstream_buffer(void)
{
	return xmalloc(DIRSTREAM_BUF);
}

int dirstream_next(struct dirstream *d, unsigned char *type, const char **name)
{
	for (;;) {
		const struct record *r;

		if (d->pos >= d->len) {
			ssize_t n = getdents64(d->fd, d->buf, DIRSTREAM_BUF);

			if (n <= 0)
				return n < 0 ? -1 : 0;
			d->pos = 0;
			d->len = (size_t)n;
		}
		r = (const struct record *)(void *)(d->buf + d->pos);
		d->pos += r->reclen;
		if (strcmp(r->name, ".") == 0 || strcmp(r->name, "..") == 0)
			continue;
		*type = r->type;
		*name = r->name;
		return 1;
	}
}
