/*
 * update.h - bringing an existing DST entry up to date (-u, --update,
 * -c, --link-dest): decide with plan.h what it needs, then copy it, fix
 * its metadata, hard-link it from a --link-dest DIR or leave it alone.
 * An entry left alone costs a stat of DST and nothing else (with -c, a
 * read of both files): no write to DST.
 */
#ifndef PCOPY_UPDATE_H
#define PCOPY_UPDATE_H

#include <sys/stat.h>

#include "copy/copy.h"
#include "dst/dst.h"
#include "sync/plan.h"

/*
 * Must an entry be looked at before it is copied: --update other than
 * all, or --link-dest DIRs?  Else it is copied without a look.
 */
int update_looks_first(const struct session *s);

/*
 * With --update=changed, do the extended attributes or ACLs that a copy
 * keeps differ between src and its copy `dname` in the directory `d` has
 * entered (lstat `dst`), of any type?  They are read only where
 * plan_metadata_suspect says so (-c, or SRC's ctime later than DST's),
 * else taken as equal.  1 also when either cannot be read: the fix
 * reports why.
 */
int update_attributes_differ(const struct session *s, struct dst *d, const struct src_entry *src,
			     const char *dname, const struct stat *dst);

/*
 * What the entry `dname` in the directory `d` has entered needs to match
 * src, given `dst` (lstat of dname, or NULL): plan_update refined by what
 * only the files can tell (a symbolic link's target; with -c, a regular
 * file's contents; update_attributes_differ), then, where that says copy,
 * PLAN_LINK when linkdest_find finds an equal file in a --link-dest DIR
 * (its tree in *tree, else 0).
 */
enum plan_action update_decide(const struct session *s, struct dst *d, const struct src_entry *src,
			       const char *dname, const struct stat *dst, int *tree);

/*
 * Bring `dname` in the directory `d` has entered up to date with `sname`
 * in sdir (stat `st`; update_decide).  Returns 0 with *action saying what
 * was done (PLAN_SKIP is counted in the slot as unchanged; a PLAN_LINK
 * that could not be made, across file systems say, is copied and says
 * PLAN_COPY), or -1 with errno (or c->reason) set.  *before is the type of
 * what DST had (0 for nothing), for change_of_copy.
 */
int update_entry(struct copier *c, struct dst *d, int sdir, const char *sname, const char *dname,
		 enum job_kind kind, const struct entry_stat *st, enum plan_action *action,
		 mode_t *before);

#endif
