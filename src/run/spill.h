/*
 * spill.h - multiply-linked files handed back by the workers.
 *
 * The walker leaves the stat of a regular file to the worker that copies
 * it (JOB_UNSTATED), which spreads the walk's costliest call over every
 * worker.  But only the walker may decide which name of a multiply-linked
 * inode is copied and which are linked to it, in walk order.  So a worker
 * that finds st_nlink > 1 copies nothing: it appends the entry to its own
 * region of one shared memfd, and once the workers are idle the walker
 * reads every region back in walk order (each region is already in that
 * order: a worker pops jobs first-in, first-out).
 *
 * One writer per region (the worker of that slot, or its replacement), one
 * reader after all writers are idle: no lock.  The bytes a region holds
 * are published in the slot's `spilled` counter only after they are
 * written, so a worker killed mid-record leaves nothing half-read.
 */
#ifndef PCOPY_SPILL_H
#define PCOPY_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "core/session.h"

/* An anonymous file for every slot's region, or -1 (errno set). */
int spill_create(void);

/* Append an entry to the region of `slot` (at `index` in the slot array).  0 or -1. */
int spill_add(int fd, int index, struct worker_slot *slot, uint64_t seq,
	      const struct entry_stat *st, const char *relpath);

/* One entry read back. */
struct spill_entry {
	uint64_t seq;         /* walk order */
	struct entry_stat st; /* the worker's stat */
	const char *relpath;  /* valid until the next spill_next */
};

/* Reads the regions of all slots back, merged in walk order. */
struct spill_reader;

struct spill_reader *spill_reader_open(int fd, const struct shared_state *sh);

/* The next entry in walk order: 1, or 0 at the end (or on a read error: -1). */
int spill_next(struct spill_reader *r, struct spill_entry *out);

void spill_reader_close(struct spill_reader *r);

/*
 * pcopy-mpi carries a rank's region to rank 0 as it grows: the whole
 * records of region `index` from byte `from` to what `slot` has published,
 * in a malloc'd buffer of *len bytes, or NULL with *len 0 when there are
 * none (or, errno set, when they cannot be read)...
 */
char *spill_take(int fd, int index, const struct worker_slot *slot, uint64_t from, size_t *len);

/*
 * ... with the device number `from` replaced by `to` in each record
 * (SRC's file system as the rank's node and rank 0's number it) ...
 */
void spill_map_dev(char *records, size_t len, uint64_t from, uint64_t to);

/* ... and rank 0 appends them to the region of the rank's slot.  0 or -1. */
int spill_append(int fd, int index, struct worker_slot *slot, const char *records, size_t len);

#endif
