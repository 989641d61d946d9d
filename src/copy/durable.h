/*
 * durable.h - --fsync: what makes a copy durable beyond each file's own
 * fsync (dst/local.c).  The parent notes every destination directory it made or
 * wrote into; at the end each file system they are on is synced once
 * (syncfs), which makes durable the names of files and links, the
 * directories, symlinks and special files, and metadata fixed in place.
 */
#ifndef PCOPY_DURABLE_H
#define PCOPY_DURABLE_H

#include <sys/types.h>

/* The file systems to sync: one open directory on each. */
struct durable {
	int *fds;      /* a directory fd on each file system */
	dev_t *devs;   /* the device of each */
	size_t count;  /* file systems noted */
	size_t cap;    /* entries allocated */
	dev_t last;    /* the device noted last, to skip the usual repeat */
	int have_last; /* `last` is set */
};

void durable_init(struct durable *d);

/* Close the fds; nothing is synced. */
void durable_free(struct durable *d);

/*
 * Note the destination directory `dirfd` (not kept: a new file system gets
 * a dup of it).  0, or -1 with errno when it cannot be stat'ed or dup'ed.
 */
int durable_note(struct durable *d, int dirfd);

/*
 * syncfs each file system noted, then forget them.  0, or -1 with errno of
 * the first failure (all are tried).
 */
int durable_sync(struct durable *d);

#endif
