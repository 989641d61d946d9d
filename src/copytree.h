/* copytree.h - copying a whole directory tree: the walker's side of a run. */
#ifndef PCOPY_COPYTREE_H
#define PCOPY_COPYTREE_H

#include "session.h"

struct lookahead;

/*
 * Walk SRC (s->src_root), make each directory in DST before queueing what
 * is inside it, and queue every other entry for the workers (entries whose
 * path does not fit a job record are copied here).  Later names of a
 * multiply-linked inode are remembered instead of queued.  When the walk
 * ends the queue is closed; once the workers are gone (`wait_workers`) the
 * hard links are made and directory metadata applied, deepest first.
 * With --delete each directory of the copy is cleaned of what SRC's lacks
 * (delete.h) once SRC's is read and before anything in it is queued.
 * With --dry-run nothing is queued or written and `wait_workers` may be
 * NULL.  `la`, when not NULL, holds listings the counting scan read, taken
 * instead of reading those directories again (lookahead.h).  Errors are
 * reported and counted in the parent's slot.
 */
void copytree_run(const struct session *s, struct lookahead *la, void (*wait_workers)(void *),
		  void *arg);

#endif
