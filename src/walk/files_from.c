/*
 * files_from.c - the --files-from list.  Paths are cleaned the way rsync
 * does (a leading '/' is dropped: every path is relative to SRC), except
 * that a ".." component is refused instead of resolved: the list may not
 * name anything outside SRC, and resolving ".." by text would disagree
 * with the kernel about symbolic links.
 */
#include "walk/files_from.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/lines.h"
#include "base/util.h"

void files_from_init(struct files_from *l)
{
	l->paths = NULL;
	l->count = 0;
	l->cap = 0;
}

void files_from_free(struct files_from *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->paths[i]);
	free(l->paths);
	files_from_init(l);
}

/*
 * Clean `text` in place: drop empty and "." components (and so leading,
 * trailing and doubled slashes).  0, or -1 if it has a ".." component.
 */
static int clean_path(char *text)
{
	char *out = text;
	char *save = NULL;

	for (char *c = strtok_r(text, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		size_t len = strlen(c);

		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return -1;
		if (out != text)
			*out++ = '/';
		memmove(out, c, len);
		out += len;
	}
	*out = '\0';
	return 0;
}

/* Append `text`, cleaned (clean_path), to the list. */
static void append(struct files_from *l, const char *text)
{
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->paths = xrealloc(l->paths, l->cap * sizeof(*l->paths));
	}
	l->paths[l->count++] = xstrdup(text);
}

/* What files_from_load hands to each line. */
struct load {
	struct files_from *l;
	char **bad;
};

static int add_line(void *ctx, char *text)
{
	struct load *ld = ctx;
	struct files_from *l = ld->l;
	char *copy;

	if (text[0] == '\0' || text[0] == '#' || text[0] == ';')
		return 0;
	copy = xstrdup(text);
	if (clean_path(text) < 0) {
		*ld->bad = copy;
		errno = EINVAL;
		return -1;
	}
	free(copy);
	append(l, text);
	return 0;
}

/* A byte's rank in the list's order: the end, then '/', then the rest. */
static int rank(unsigned char c)
{
	return c == '\0' ? 0 : c == '/' ? 1 : c + 2;
}

static int compare_paths(const void *a, const void *b)
{
	const unsigned char *p = *(const unsigned char *const *)a;
	const unsigned char *q = *(const unsigned char *const *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return rank(*p) - rank(*q);
}

/* Sort the list and drop repeated paths. */
static void sort_unique(struct files_from *l)
{
	size_t kept = 0;

	if (l->count == 0)
		return; /* no array to sort (qsort wants one all the same) */
	qsort(l->paths, l->count, sizeof(*l->paths), compare_paths);
	for (size_t i = 0; i < l->count; i++) {
		if (kept > 0 && strcmp(l->paths[kept - 1], l->paths[i]) == 0)
			free(l->paths[i]);
		else
			l->paths[kept++] = l->paths[i];
	}
	l->count = kept;
}

int files_from_load(struct files_from *l, const char *path, int nul, char **bad)
{
	struct load ld = { l, bad };

	*bad = NULL;
	if (lines_read(path, nul, add_line, &ld) < 0)
		return -1;
	sort_unique(l);
	return 0;
}

int files_from_inside(const char *path, const char *dir)
{
	size_t len = strlen(dir);

	return len == 0 || (strncmp(path, dir, len) == 0 && path[len] == '/');
}

int files_from_add(struct files_from *l, const char *path)
{
	char *text = xstrdup(path);
	int rc = clean_path(text);

	if (rc == 0) /* whatever it is: "" (SRC itself), or a name starting with '#' */
		append(l, text);
	else
		errno = EINVAL;
	free(text);
	return rc;
}

void files_from_done(struct files_from *l)
{
	sort_unique(l);
}

/* The first of the first n bytes of `path` in the list's order: its index, or l->count. */
static size_t lower_bound(const struct files_from *l, const char *path, size_t n)
{
	size_t lo = 0, hi = l->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const unsigned char *p = (const unsigned char *)l->paths[mid];
		const unsigned char *q = (const unsigned char *)path;
		size_t i = 0;

		while (i < n && p[i] != '\0' && p[i] == q[i])
			i++;
		if (rank(p[i]) - rank(i < n ? q[i] : '\0') < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Is the first n bytes of path in the list? */
static int listed(const struct files_from *l, const char *path, size_t n)
{
	size_t i = lower_bound(l, path, n);

	return i < l->count && strncmp(l->paths[i], path, n) == 0 && l->paths[i][n] == '\0';
}

size_t files_from_first_inside(const struct files_from *l, const char *dir)
{
	size_t len = strlen(dir), i;

	for (size_t end = 0; end <= len; end++) /* dir, or one it is in, listed */
		if ((end == len || dir[end] == '/') && listed(l, dir, end))
			return l->count;
	i = lower_bound(l, dir, len);
	return i < l->count && files_from_inside(l->paths[i], dir) ? i : l->count;
}

int files_from_covers(const struct files_from *l, const char *path, int is_dir)
{
	size_t len = strlen(path), i;

	if (l->count > 0 && l->paths[0][0] == '\0') /* SRC itself */
		return 1;
	for (size_t end = 0; end <= len; end++) /* the path, or a directory it is in */
		if ((path[end] == '/' || end == len) && listed(l, path, end))
			return 1;
	/* A directory on the way: the first path after it in order is inside it. */
	i = lower_bound(l, path, len);
	return is_dir && i < l->count && files_from_inside(l->paths[i], path);
}
