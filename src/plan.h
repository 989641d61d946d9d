/*
 * plan.h - decisions about one entry, apart from the actions: pure
 * functions of the source's and the destination's stat, so that a dry run
 * and the real run decide alike, and tests need no filesystem.
 */
#ifndef PCOPY_PLAN_H
#define PCOPY_PLAN_H

#include <sys/stat.h>

/* The reasons a copy refuses to replace what DST has (cp's wording). */
#define PLAN_NONDIR_BY_DIR "cannot overwrite non-directory with directory"
#define PLAN_DIR_BY_NONDIR "cannot overwrite directory with non-directory"

/*
 * Can an entry whose source has type `src_mode` take the place of `dst`
 * (lstat of what DST has there, or NULL when nothing is there)?  NULL if
 * it can, else the reason it cannot.  A directory replaces a symlink or a
 * special file but never a regular file; nothing but a directory merges
 * into a directory.
 */
const char *plan_replace_conflict(mode_t src_mode, const struct stat *dst);

#endif
