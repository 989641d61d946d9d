/*
 * data.h - a regular file's data, from one open file to another: the
 * machinery of the local copy (dst/local.c fills its temporaries with it).
 */
#ifndef PCOPY_DATA_H
#define PCOPY_DATA_H

#include <stdint.h>
#include <sys/stat.h>

#include "copy/copy.h"
#include "core/session.h"

/*
 * Copy the data of the file `in` (fstat gave st) to `out`, to its end
 * (not its size: procfs says 0), holes kept as holes; a big file read cold
 * is copied as a few ranges at once.  Sets *copied to what was copied: the
 * caller judges a difference from st's size.  0, or -1 with errno (or
 * c->reason) and c->failed_dst when writing failed.  A stop request ends
 * it with EINTR.
 */
int copy_data(struct copier *c, int in, int out, const struct stat *st, uint64_t *copied);

/* Has a stop been asked for?  Then c->reason and errno (EINTR) say so. */
int copy_stop_requested(struct copier *c);

/*
 * Can only writing have failed with `err`?  Where copy_file_range or
 * sendfile fail, the call does not say which side did; these say DST.
 */
int copy_failed_writing(int err);

/* Apply PCOPY_FORCE's fallbacks to the run's shared state, before copying. */
void copy_set_force(struct shared_state *sh, unsigned force);

#endif
