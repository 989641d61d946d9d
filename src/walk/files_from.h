/* files_from.h - the --files-from list: paths to copy, read, cleaned and sorted. */
#ifndef PCOPY_FILES_FROM_H
#define PCOPY_FILES_FROM_H

#include <stddef.h>

/*
 * Paths relative to the top of SRC, without leading, trailing or doubled
 * slashes or "." components; "" stands for SRC itself.  Sorted by
 * component ('/' before any other byte), so that a directory comes just
 * before everything inside it, and without duplicates.
 */
struct files_from {
	char **paths;
	size_t count;
	size_t cap;
};

void files_from_init(struct files_from *l);
void files_from_free(struct files_from *l);

/*
 * Read the list in the file `path` ("-": stdin), one path per line, or
 * NUL-separated with `nul`.  Blank entries and entries starting with '#'
 * or ';' are skipped, as rsync does.  Returns 0; or -1 with errno when
 * the file cannot be read, or with EINVAL and *bad set to the offending
 * entry (malloc'd) when a path has a ".." component.
 */
int files_from_load(struct files_from *l, const char *path, int nul, char **bad);

/* Is `path` inside the directory `dir` (from the same list; "" holds everything)? */
int files_from_inside(const char *path, const char *dir);

/*
 * Add one path, cleaned as a line of a list is; then files_from_done
 * once all are in.  0, or -1 with EINVAL when it has a ".." component.
 */
int files_from_add(struct files_from *l, const char *path);
void files_from_done(struct files_from *l);

/*
 * Does the list take `path` (relative to SRC, not empty): a listed path,
 * anything inside one, and, when it is a directory, one on the way to a
 * listed path?  In O(depth × log n): the list is sorted.
 */
int files_from_covers(const struct files_from *l, const char *path, int is_dir);

/*
 * The index of the first path strictly inside the directory `dir` ("" for
 * SRC) that the walk is to look for, or l->count for none: none when dir
 * or a directory it is in is listed (all inside comes, listed or not).
 */
size_t files_from_first_inside(const struct files_from *l, const char *dir);

#endif
