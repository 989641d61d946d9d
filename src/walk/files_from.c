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
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->paths = xrealloc(l->paths, l->cap * sizeof(*l->paths));
	}
	l->paths[l->count++] = xstrdup(text);
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
