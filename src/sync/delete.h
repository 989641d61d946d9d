/*
 * delete.h - --delete: each directory of the copy is made to hold only
 * what SRC's directory of the same path holds.
 *
 * The walker reads a source directory whole and hands its listing over
 * (walk.h, `listed`) before it visits any entry in it; that DST directory
 * is then listed and compared with it, name by name, and what SRC lacks is
 * removed, before anything of SRC's is queued there.  So memory is one
 * directory's two listings, never the tree, and no worker's temporary can
 * be mistaken for an extraneous entry.  The same step removes an entry
 * whose type changes to or from a directory, which no rename can replace:
 * the copy then makes SRC's entry where nothing is.
 *
 * Safety: DST is listed and entries removed through the DST interface
 * (dst/dst.h), which opens DST's directories beneath the copy's root with
 * no symbolic link followed anywhere; a directory tree goes depth first
 * the same way, and a symbolic link is removed as a link.  Nothing outside
 * the copy is ever touched.  A source directory that could not be read, or not to its
 * end, deletes nothing in its copy nor below it: one error line says so.
 */
#ifndef PCOPY_DELETE_H
#define PCOPY_DELETE_H

#include <sys/types.h>

#include "base/path.h"
#include "core/session.h"
#include "dst/dst.h"
#include "walk/lookahead.h"
#include "walk/nameset.h"

struct walk_listing;

/* What becomes of one entry of a DST directory. */
enum delete_action {
	DELETE_KEEP,    /* SRC has it (the copy updates it), or the filter protects it */
	DELETE_EXTRA,   /* SRC has no such entry (or it is excluded, --delete-excluded) */
	DELETE_REPLACE, /* SRC has it with a type to or from a directory: make way */
};

/*
 * Decide for an entry of type `dst_type` (S_IFMT bits) in DST, where SRC's
 * entry of that name has type `src_type` (0: SRC has none), `excluded`
 * saying whether the filter excludes DST's entry (by its path and type).
 * An excluded entry is kept, unless `delete_excluded`.  Pure.
 */
enum delete_action delete_decide(mode_t dst_type, mode_t src_type, int excluded,
				 int delete_excluded);

/* The deleting side of a run: the walker's, one per walk. */
struct deleter {
	const struct session *s;
	struct worker_slot *slot;   /* where changes and errors are counted */
	struct nameset src;         /* SRC's names in the directory compared */
	struct pathbuf path;        /* path of the DST entry at hand, from the root */
	struct pathbuf blocked;     /* a directory whose listing failed ... */
	int is_blocked;             /* ... when set: nothing deleted in or below it */
	struct lookahead_list made; /* dry run: names deleted to make way ... */
	struct nameset made_set;    /* ... indexed ... */
	struct pathbuf made_dir;    /* ... in this directory */
	struct dst *dst;            /* the walker's handle on DST (not ours) */
};

void deleter_init(struct deleter *d, const struct session *s, struct worker_slot *slot,
		  struct dst *dst);
void deleter_free(struct deleter *d);

/*
 * The walker read (or failed to read) SRC's directory l->relpath: remove
 * from DST's directory of that path each entry delete_decide does not
 * keep, reporting each as CHANGE_DELETED (change.h; a directory's contents
 * before it).  With --dry-run only report, exactly as the real run would.
 * Failures are reported and counted; the walk goes on.
 */
void delete_listed(struct deleter *d, const struct walk_listing *l);

/*
 * Dry run: did delete_listed, in the directory being walked, delete DST's
 * `relpath` to make way for SRC's entry (so that nothing is there now, as
 * far as the dry run is concerned)?  1 or 0.
 */
int delete_made_way(const struct deleter *d, const char *relpath);

#endif
