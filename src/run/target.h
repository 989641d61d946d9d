/* target.h - where the copy goes (cp's rules) and what is refused before writing. */
#ifndef PCOPY_TARGET_H
#define PCOPY_TARGET_H

#include <stddef.h>
#include <sys/stat.h>

#include "core/options.h"

/* The resolved copy. */
struct target {
	const char *operand; /* SRC as the user wrote it */
	char *src;           /* SRC without trailing slashes ("/" stays "/") */
	char *path;          /* the path that becomes the copy of SRC */
	struct stat src_st;  /* SRC's stat (lstat unless -L) */
	int exists;          /* path exists already */
};

/*
 * Apply cp's rules to `src` and opts->dst: DST/basename(SRC) when DST is
 * an existing directory (unless -T), else DST.  Refuses a missing SRC, a
 * DST with a trailing slash that is not a directory (unless SRC is one and
 * DST does not exist: then it is made), a
 * missing parent for the copy, a directory onto a non-directory, SRC and the
 * copy being the same file (also through symlinks or hard links), and a
 * directory copied into itself.  Returns 0, or -1 with a message in err.
 * Nothing is written either way.
 */
int target_resolve(const struct options *opts, const char *src, struct target *t, char *err,
		   size_t errlen);

/*
 * The same for a SRC on another machine, whose stat there is `src_st`:
 * nothing of it is looked at here, and no checks compare it with what is
 * here (its device and inode numbers are another machine's).
 */
int target_resolve_remote(const struct options *opts, const char *src, const struct stat *src_st,
			  struct target *t, char *err, size_t errlen);

void target_free(struct target *t);

#endif
