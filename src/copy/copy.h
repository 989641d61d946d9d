/*
 * copy.h - one worker's copying state (the copier), shared by the data
 * machinery (data.h) and the copy of one entry (sync/entry.h).
 */
#ifndef PCOPY_COPY_H
#define PCOPY_COPY_H

#include "copy/loss.h"
#include "core/job.h"
#include "core/session.h"

/* The reason given for an entry that is no longer of the type it was listed as. */
#define COPY_TYPE_CHANGED "changed type while being copied"

struct copier;

/*
 * A source on another machine (transport/remote.h): where the data of its
 * regular files comes from, in place of reading them here.
 */
struct copy_source {
	/*
	 * Write the data of the regular file c->src_path into the open, empty
	 * file `out` (holes left as holes), checked end to end; its stat as it
	 * was read into *st and the bytes written into *copied.  0, 1 when it
	 * changed while it was read (nothing usable written), or -1 with errno
	 * (c->reason may say more, c->failed_dst where writing failed); then,
	 * if the file's first range arrived, *st as it was read and in
	 * *copied the length of what was checked, from byte 0.
	 *
	 * With c->resume_from, `out` holds that many bytes already, checked
	 * by an earlier run from the source file then modified at
	 * c->resume_mtime: only the rest is fetched, unless the file is no
	 * longer the one they came from (c->resume_from is then set to 0
	 * and it all comes again).
	 */
	int (*fetch)(struct copier *c, int out, struct entry_stat *st, uint64_t *copied);
	void *ctx;
};

/* One worker's copying state; one per worker, never shared. */
struct copier {
	const struct session *s;  /* the run */
	struct worker_slot *slot; /* this worker's counters and in-flight state */
	char *buf;                /* read/write buffer, allocated on first use */
	const char *reason;       /* why the last copy failed, when errno says too little */
	int failed_dst;           /* and it failed in DST (making, writing, installing) */
	const char *warning;      /* the last copy succeeded, but this must be said */
	int replaced;             /* the last copy or link took the place of an entry */
	int rewrite;              /* the copy made is a metadata fix (PLAN_REWRITE): not
				     counted as a copy */
	int file_no_cfr;          /* copy_file_range refused the file being copied */
	int file_no_sendfile;     /* and so did sendfile */
	int file_has_blocks;      /* it has data blocks (procfs and sysfs files have none) */
	int file_split;           /* it was copied as ranges (data.c) */
	struct meta_loss lost;    /* metadata the last copy could not keep */
	_Atomic int *given_up;    /* copying a range: set when another range of the file failed */
	/* A source on another machine: where its files' data comes from, and
	   for the entry being copied, its path and what was read of it there.
	   NULL for a local source. */
	const struct copy_source *source;
	const char *src_path;
	const struct src_meta *meta;
	uint64_t resume_from;          /* --partial: see copy_source.fetch */
	struct timespec resume_mtime;
};

void copier_init(struct copier *c, const struct session *s, struct worker_slot *slot);
void copier_free(struct copier *c);

#endif
