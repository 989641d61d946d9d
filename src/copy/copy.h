/* copy.h - copying one entry: a regular file, a symlink or a special file. */
#ifndef PCOPY_COPY_H
#define PCOPY_COPY_H

#include "copy/meta.h"
#include "core/job.h"
#include "core/session.h"

/* The reason given for an entry that is no longer of the type it was listed as. */
#define COPY_TYPE_CHANGED "changed type while being copied"

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
	int file_split;           /* it was copied as ranges (copy_ranges) */
	int dst_dir;              /* the destination directory set last, or -1 */
	int dir_known;            /* the two below are learnt for it (on its first creation) */
	int inherited_acl;        /* it has a default ACL */
	gid_t dir_gid;            /* its group */
	struct meta_loss lost;    /* metadata the last copy could not keep */
	_Atomic int *given_up;    /* copying a range: set when another range of the file failed */
};

void copier_init(struct copier *c, const struct session *s, struct worker_slot *slot);
void copier_free(struct copier *c);

/*
 * Copy the entry `sname` in directory `sdir` to `dname` in `ddir`.  `kind`
 * and `hint` are the walker's view of the source (its type, and for links
 * and special files all the metadata); regular files are re-checked with
 * fstat after open.  A regular file is written to a temporary and linked or
 * renamed into place only once complete with its metadata set, so `dname`
 * never names a partial file.  On success the slot's counters are updated
 * and 0 returned (c->warning, if not NULL, is to be reported); on failure -1
 * with errno set (or c->reason, if not NULL), and c->failed_dst set when
 * what failed was DST's (its message then names DST's path).
 *
 * A regular file that changed while it was read is copied again, 3 times at
 * most, after 10, 40 and 160 ms; if it changes every time it fails, or with
 * --changing=copy the last copy is kept with a warning.
 *
 * A copy whose metadata could not all be kept is still made (its data is
 * right) and succeeds; what was lost is left in c->lost for the caller to
 * report.
 */
int copy_entry(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
	       enum job_kind kind, const struct entry_stat *hint);

/*
 * Replace `dname` in `ddir` by a hard link to `tname` in `tdir` (all in the
 * destination).  0 when linked (and counted), 1 when they already were the
 * same file (nothing done), -1 on failure (c->failed_dst set).
 */
int link_entry(struct copier *c, int tdir, const char *tname, int ddir, const char *dname);

/* The same without counting it: `tname` in `tdir` may be outside DST (--link-dest). */
int link_replace(struct copier *c, int tdir, const char *tname, int ddir, const char *dname);

/*
 * The destination directory is now `ddir`: what a file created in it will
 * inherit (a default ACL, the directory's group) is learnt on the first
 * creation there and kept for the next ones.
 */
void copier_set_dst_dir(struct copier *c, int ddir);

/* Apply PCOPY_FORCE's fallbacks to the run's shared state, before copying. */
void copy_set_force(struct shared_state *sh, unsigned force);

/* Remove a named temporary left by a worker that died.  0 or -1. */
int copy_remove_temporary(int ddir, const char *tmpname);

#endif
