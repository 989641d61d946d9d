/*
 * durable.c - --fsync: one syncfs per destination file system at the end.
 *
 * Why syncfs rather than an fsync of each directory: one call per file
 * system ends a run sooner than one per directory (bench/RESULTS.md,
 * "the cost of --fsync on a real disk"), and syncfs also covers what
 * no directory fsync does: a hard link's inode, metadata fixed in place by
 * --update=changed.  Since Linux 5.8 it reports writeback errors of the file
 * system; it also writes back others' dirty data there, which a busy file
 * system makes slower, not wrong.
 */
#include "copy/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

void durable_init(struct durable *d)
{
	d->fds = NULL;
	d->devs = NULL;
	d->count = d->cap = 0;
	d->have_last = 0;
}

void durable_free(struct durable *d)
{
	for (size_t i = 0; i < d->count; i++)
		close(d->fds[i]);
	free(d->fds);
	free(d->devs);
	durable_init(d);
}

int durable_note(struct durable *d, int dirfd)
{
	struct stat st;
	int fd;

	if (fstat(dirfd, &st) < 0)
		return -1;
	if (d->have_last && d->last == st.st_dev)
		return 0;
	d->last = st.st_dev;
	d->have_last = 1;
	for (size_t i = 0; i < d->count; i++)
		if (d->devs[i] == st.st_dev)
			return 0;
	fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (d->count == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 4;
		d->fds = xrealloc(d->fds, d->cap * sizeof(*d->fds));
		d->devs = xrealloc(d->devs, d->cap * sizeof(*d->devs));
	}
	d->fds[d->count] = fd;
	d->devs[d->count++] = st.st_dev;
	return 0;
}

int durable_sync(struct durable *d)
{
	int err = 0;

	for (size_t i = 0; i < d->count; i++)
		if (syncfs(d->fds[i]) < 0 && err == 0)
			err = errno;
	durable_free(d);
	errno = err;
	return err ? -1 : 0;
}
