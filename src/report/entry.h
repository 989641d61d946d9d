/*
 * entry.h - the lines about one entry: "pcopy: 'PATH': reason", PATH the
 * source entry (SRC/relpath) or its copy (DST/relpath), each an error or a
 * warning of the run, counted in a slot.
 */
#ifndef PCOPY_REPORT_ENTRY_H
#define PCOPY_REPORT_ENTRY_H

#include "core/session.h"

/* The reasons a copy refuses to replace what DST has (cp's wording). */
#define REASON_NONDIR_BY_DIR "cannot overwrite non-directory with directory"
#define REASON_DIR_BY_NONDIR "cannot overwrite directory with non-directory"

/*
 * Report "pcopy: 'SRC/relpath': reason" (err's text when reason is NULL)
 * and count the error in `slot`: a failure of the source entry, or of its
 * copy as a whole.
 */
void report_entry_error(const struct session *s, struct worker_slot *slot, const char *relpath,
			int err, const char *reason);

/*
 * The same naming the copy, "pcopy: 'DST/relpath': reason": a failure in
 * DST (making, writing, installing, metadata that could not be kept).
 */
void report_dst_error(const struct session *s, struct worker_slot *slot, const char *relpath,
		      int err, const char *reason);

/*
 * Report "pcopy: 'SRC/relpath': vanished", a warning: the source entry was
 * listed but is gone (ENOENT) before it could be copied.  Counted in
 * slot->vanished; a run whose only problems are these exits 24, as rsync.
 */
void report_entry_vanished(const struct session *s, struct worker_slot *slot, const char *relpath);

/* Report "pcopy: 'SRC/relpath': warning", which is not an error. */
void report_entry_warning(const struct session *s, const char *relpath, const char *warning);

#endif
