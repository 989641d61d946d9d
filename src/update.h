/*
 * update.h - bringing an existing DST entry up to date (-u, --update):
 * decide with plan.h what it needs, then copy it, fix its metadata or
 * leave it alone.  An entry left alone costs a stat of DST and nothing
 * else: no open of the source, no write to DST.
 */
#ifndef PCOPY_UPDATE_H
#define PCOPY_UPDATE_H

#include <sys/stat.h>

#include "copy.h"
#include "plan.h"

/*
 * What the entry `dname` in ddir needs to match `sname` in sdir (stat
 * `st`), given `dst` (lstat of dname, or NULL): plan_update refined by
 * what only the files can tell (a symbolic link's target).
 */
enum plan_action update_decide(const struct session *s, int sdir, const char *sname, int ddir,
			       const char *dname, const struct entry_stat *st,
			       const struct stat *dst);

/*
 * Bring `dname` in ddir up to date with `sname` in sdir.  Returns 0 with
 * *action saying what was done (PLAN_SKIP is counted in the slot as
 * unchanged), or -1 with errno (or c->reason) set.  *before is the type
 * of what DST had (0 for nothing), for change_of_copy.
 */
int update_entry(struct copier *c, int sdir, const char *sname, int ddir, const char *dname,
		 enum job_kind kind, const struct entry_stat *st, enum plan_action *action,
		 mode_t *before);

#endif
