/* strlist.h - an append-only list of strings in one arena. */
#ifndef PCOPY_STRLIST_H
#define PCOPY_STRLIST_H

#include <stddef.h>

/* Strings packed back to back; each is found by its offset. */
struct strlist {
	char *data;      /* the packed strings, each NUL-terminated */
	size_t len;      /* bytes used in data */
	size_t cap;      /* bytes allocated for data */
	size_t *offsets; /* where each string starts */
	size_t count;    /* strings in the list */
	size_t slots;    /* entries allocated in offsets */
};

void strlist_init(struct strlist *sl);
void strlist_free(struct strlist *sl);
/* Append a copy of s; returns its index. */
size_t strlist_add(struct strlist *sl, const char *s);
/* The index-th string (valid until the next add). */
const char *strlist_get(const struct strlist *sl, size_t index);

#endif
