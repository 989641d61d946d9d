/*
 * change.h - what a run did to one entry of DST, said once: counted for
 * --stats, printed by -i (itemize) or -v.  Every part of the copy that
 * changes DST (workers, the walker, the hard-link and delete passes, the
 * dry run predicting them) reports through report_change.
 */
#ifndef PCOPY_CHANGE_H
#define PCOPY_CHANGE_H

#include <sys/types.h>

#include "core/session.h"

/* What happened to the entry. */
enum change {
	CHANGE_CREATED,  /* '+': nothing was there; made anew */
	CHANGE_UPDATED,  /* '>': its data replaced, same type */
	CHANGE_REPLACED, /* '!': an entry of another type replaced */
	CHANGE_METADATA, /* '.': only its metadata set, in place */
	CHANGE_HARDLINK, /* 'h': made a hard link to another name of the tree */
	CHANGE_LINKED,   /* 'L': hard-linked from a --link-dest directory */
	CHANGE_DELETED,  /* '-': removed (--delete) */
};

/*
 * The change a copy of a `src_mode` entry made over `before` (the type
 * bits of what DST had; 0 for nothing).
 */
enum change change_of_copy(mode_t src_mode, mode_t before);

/*
 * Count `change` in `slot` and tell it: with -i one line "XY PATH" (text)
 * or one JSON object (json) on stdout, else with -v the path (deletions
 * aside).  `mode` is the entry's type (the new one, or the deleted one's),
 * relpath its path under the copy.  Safe from any worker.
 */
void report_change(const struct session *s, struct worker_slot *slot, enum change change,
		   mode_t mode, const char *relpath);

/* The line for -i=text into buf (NUL-terminated); its length.  For tests. */
size_t change_format_text(enum change change, mode_t mode, const char *path, char *buf, size_t len);

#endif
