/*
 * entry.h - copying one entry into DST: a regular file, a symbolic link or
 * a special file made anew, or a hard link to another name of the copy.
 */
#ifndef PCOPY_ENTRY_H
#define PCOPY_ENTRY_H

#include "copy/copy.h"
#include "core/job.h"
#include "dst/dst.h"

/*
 * Copy the entry `sname` in directory `sdir` to `dname` in the directory
 * `d` has entered.  `kind` and `hint` are the walker's view of the source
 * (its type, and for links and special files all the metadata); regular
 * files are checked again with fstat after open.  A regular file is
 * written to a temporary and installed only once complete with its
 * metadata set, so `dname` never names a partial file.  On success the
 * slot's counters are updated and 0 returned (c->warning, if not NULL, is
 * to be reported; c->replaced says whether something was there); on
 * failure -1 with errno set (or c->reason, if not NULL), and c->failed_dst
 * set when what failed was DST's (its message then names DST's path).
 *
 * A regular file that changed while it was read is copied again, 3 times at
 * most, after 10, 40 and 160 ms; if it changes every time it fails, or with
 * --changing=copy the last copy is kept with a warning.
 *
 * A copy whose metadata could not all be kept is still made (its data is
 * right) and succeeds; what was lost is left in c->lost for the caller to
 * report.
 */
int copy_entry(struct copier *c, struct dst *d, int sdir, const char *sname, const char *dname,
	       enum job_kind kind, const struct entry_stat *hint);

/*
 * Replace `dname` in the directory `d` has entered by a hard link to
 * `target` (a path from DST's root).  0 when linked (and counted), 1 when
 * they already were the same file (nothing done), -1 on failure
 * (c->failed_dst set; ENOENT: no target).
 */
int link_entry(struct copier *c, struct dst *d, const char *target, const char *dname);

#endif
