/*
 * copytree.h - copying a whole directory tree: the walker's side of a run.
 *
 * The caller owns the sequence, with the workers' part between the walk
 * and the finish:
 *
 *	ct = copytree_start(s);
 *	copytree_walk(ct, la);
 *	queue_close(s->queue);   the workers drain it
 *	pool_wait(pool);         and are gone
 *	copytree_finish(ct);     hard links, then directory metadata
 */
#ifndef PCOPY_COPYTREE_H
#define PCOPY_COPYTREE_H

#include "core/session.h"

struct copytree;
struct lookahead;

/*
 * The state of copying SRC (s->src_root) into DST (s->dst_root, whose top
 * directory main has made), owned by the caller until copytree_finish.
 */
struct copytree *copytree_start(const struct session *s);

/*
 * Walk SRC, make each directory in DST before queueing what is inside it,
 * and queue every other entry for the workers (entries whose path does not
 * fit a job record are copied here).  Later names of a multiply-linked
 * inode are remembered instead of queued.  With --delete each directory
 * of the copy is cleaned of what SRC's lacks (delete.h) once SRC's is
 * read and before anything in it is queued.  With --dry-run nothing is
 * queued or written (s->queue may be NULL).  `la`, when not NULL, holds
 * listings the counting scan read, taken instead of reading those
 * directories again (lookahead.h).  Regular files are queued unstat'ed
 * when s->worker_stats: the walk then ends only once the workers have
 * measured them all (so the totals are final) and the multiply-linked
 * ones they handed back are queued or remembered (spill.h).  The queue
 * is left open.
 */
void copytree_walk(struct copytree *ct, struct lookahead *la);

/*
 * Once the workers are gone: make the remembered hard links and apply
 * directory metadata, deepest first (neither in a dry run or after a
 * stop), then free ct.
 */
void copytree_finish(struct copytree *ct);

/* Errors of all three are reported and counted in the parent's slot. */

#endif
