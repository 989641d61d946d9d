/* target.c - cp's target rules and the checks made before anything is written. */
#include "run/target.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "base/util.h"
#include "report/quote.h"

/* Copy of s without trailing slashes; "/" and "//" become "/". */
static char *strip_slashes(const char *s)
{
	char *out = xstrdup(s);
	size_t len = strlen(out);

	while (len > 1 && out[len - 1] == '/')
		out[--len] = '\0';
	return out;
}

static int same_inode(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The directory that will hold `path` (a malloc'd copy). */
static char *parent_of(const char *path)
{
	char *copy = xstrdup(path);
	char *dir = xstrdup(dirname(copy));

	free(copy);
	return dir;
}

/*
 * Is the directory `src` equal to `parent` or one of its ancestors, i.e.
 * would a copy made inside `parent` land inside SRC?  Resolved physically
 * (realpath), so symlinked paths are seen through.
 */
static int inside_source(const struct stat *src, const char *parent)
{
	char *real = realpath(parent, NULL);
	int inside = 0;

	if (real == NULL)
		return 0;
	for (;;) {
		struct stat st;
		char *slash;

		if (stat(real, &st) == 0 && same_inode(&st, src)) {
			inside = 1;
			break;
		}
		if (strcmp(real, "/") == 0)
			break;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	free(real);
	return inside;
}

static int has_trailing_slash(const char *path)
{
	size_t len = strlen(path);

	return len > 1 && path[len - 1] == '/';
}

/* "WHAT NAME: WHY" in err, NAME quoted (quote.h); -1. */
static int refuse(char *err, size_t errlen, const char *what, const char *name, const char *why)
{
	char *quoted = quote_alloc(name, QUOTE_ALWAYS);

	snprintf(err, errlen, "%s %s: %s", what, quoted, why);
	free(quoted);
	return -1;
}

/*
 * Decide t->path from DST.  A trailing slash says DST is meant to be a
 * directory: a missing one is created for a directory SRC (rsync's reading)
 * but refused for anything else, and an existing non-directory is refused
 * (cp).  0 or -1 with err.
 */
static int choose_path(const struct options *o, struct target *t, char *err, size_t errlen)
{
	struct stat dst;
	int found = stat(o->dst, &dst) == 0;
	int stat_errno = found ? 0 : errno;

	if (found && S_ISDIR(dst.st_mode) && !o->no_target_directory) {
		char *base = xstrdup(t->src);

		t->path = path_join(o->dst, strcmp(t->src, "/") == 0 ? "" : basename(base));
		free(base);
		return 0;
	}
	if (has_trailing_slash(o->dst) && stat_errno == ENOTDIR)
		return refuse(err, errlen, "cannot access", o->dst, strerror(ENOTDIR));
	if (has_trailing_slash(o->dst) && stat_errno == ENOENT && !S_ISDIR(t->src_st.st_mode))
		return refuse(err, errlen, "cannot create", o->dst, strerror(ENOTDIR));
	t->path = strip_slashes(o->dst);
	return 0;
}

/* Refusals that depend on what is at t->path (`local`: SRC is here too).  0 or -1 with err. */
static int check_existing(struct target *t, int local, char *err, size_t errlen)
{
	struct stat lst, st;
	int src_dir = S_ISDIR(t->src_st.st_mode);
	char *src, *path;

	if (lstat(t->path, &lst) < 0)
		return 0;
	t->exists = 1;
	if (stat(t->path, &st) < 0)
		st = lst; /* a dangling symlink */
	src = quote_alloc(t->operand, QUOTE_ALWAYS);
	path = quote_alloc(t->path, QUOTE_ALWAYS);
	err[0] = '\0';
	if (local && (same_inode(&lst, &t->src_st) || same_inode(&st, &t->src_st)))
		snprintf(err, errlen, "%s and %s are the same file", src, path);
	/*
	 * A directory is never copied through a symlink in the copy's place:
	 * it could lead anywhere, even back into SRC.  cp refuses it too.
	 */
	else if (src_dir && (!S_ISDIR(st.st_mode) || S_ISLNK(lst.st_mode)))
		snprintf(err, errlen, "cannot overwrite non-directory %s with directory %s", path,
			 src);
	else if (!src_dir && S_ISDIR(lst.st_mode))
		snprintf(err, errlen, "cannot overwrite directory %s with non-directory %s", path,
			 src);
	free(src);
	free(path);
	return err[0] == '\0' ? 0 : -1;
}

/* target_resolve once SRC's stat is in t (`local`: SRC is here).  0 or -1 with err. */
static int resolve(const struct options *o, const char *operand, struct target *t, int local,
		   char *err, size_t errlen)
{
	struct stat pst;
	char *parent, *src, *path;
	int rc;

	if (choose_path(o, t, err, errlen) < 0 || check_existing(t, local, err, errlen) < 0)
		return -1;
	parent = parent_of(t->path);
	rc = stat(parent, &pst) < 0 ? errno : S_ISDIR(pst.st_mode) ? 0 : ENOTDIR;
	if (rc != 0) {
		free(parent);
		return refuse(err, errlen, "cannot create", t->path, strerror(rc));
	}
	rc = local && S_ISDIR(t->src_st.st_mode) && inside_source(&t->src_st, parent);
	free(parent);
	if (!rc)
		return 0;
	src = quote_alloc(operand, QUOTE_ALWAYS);
	path = quote_alloc(t->path, QUOTE_ALWAYS);
	snprintf(err, errlen, "cannot copy a directory, %s, into itself, %s", src, path);
	free(src);
	free(path);
	return -1;
}

int target_resolve(const struct options *o, const char *operand, struct target *t, char *err,
		   size_t errlen)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->operand = operand;
	t->src = strip_slashes(operand);
	rc = o->dereference ? stat(operand, &t->src_st) : lstat(operand, &t->src_st);
	if (rc < 0)
		return refuse(err, errlen, "cannot stat", operand, strerror(errno));
	return resolve(o, operand, t, 1, err, errlen);
}

int target_resolve_remote(const struct options *o, const char *operand, const struct stat *src_st,
			  struct target *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof(*t));
	t->operand = operand;
	t->src = strip_slashes(operand);
	t->src_st = *src_st;
	return resolve(o, operand, t, 0, err, errlen);
}

void target_free(struct target *t)
{
	free(t->src);
	free(t->path);
	t->src = t->path = NULL;
}
