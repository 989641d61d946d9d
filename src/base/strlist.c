/* strlist.c - an append-only list of strings in one arena. */
#include "base/strlist.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void strlist_init(struct strlist *sl)
{
	memset(sl, 0, sizeof(*sl));
}

void strlist_free(struct strlist *sl)
{
	free(sl->data);
	free(sl->offsets);
	memset(sl, 0, sizeof(*sl));
}

size_t strlist_add(struct strlist *sl, const char *s)
{
	size_t n = strlen(s) + 1;

	if (sl->len + n > sl->cap) {
		sl->cap = sl->cap ? sl->cap : 1024;
		while (sl->len + n > sl->cap)
			sl->cap *= 2;
		sl->data = xrealloc(sl->data, sl->cap);
	}
	if (sl->count == sl->slots) {
		sl->slots = sl->slots ? sl->slots * 2 : 64;
		sl->offsets = xrealloc(sl->offsets, sl->slots * sizeof(*sl->offsets));
	}
	memcpy(sl->data + sl->len, s, n);
	sl->offsets[sl->count] = sl->len;
	sl->len += n;
	return sl->count++;
}

const char *strlist_get(const struct strlist *sl, size_t index)
{
	return sl->data + sl->offsets[index];
}
