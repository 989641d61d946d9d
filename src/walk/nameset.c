/* nameset.c - a directory listing indexed by name (nameset.h). */
#include "walk/nameset.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "walk/lookahead.h"

void nameset_init(struct nameset *ns)
{
	memset(ns, 0, sizeof(*ns));
}

void nameset_free(struct nameset *ns)
{
	free(ns->slots);
	nameset_init(ns);
}

/* FNV-1a: short names, no adversary to fear beyond slower lookups. */
static size_t hash_name(const char *name)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h ^ (h >> 32));
}

/* The slot holding `name`, or the empty slot where it would go. */
static size_t find_slot(const struct nameset *ns, const char *name)
{
	size_t i = hash_name(name) & ns->mask;

	while (ns->slots[i] != 0 && strcmp(ns->data + ns->slots[i], name) != 0)
		i = (i + 1) & ns->mask;
	return i;
}

/* Room for `count` names at most half full, cleared. */
static void make_room(struct nameset *ns, size_t count)
{
	size_t want = 16;

	while (want < 2 * count)
		want *= 2;
	if (want > ns->cap) {
		free(ns->slots);
		ns->slots = xmalloc(want * sizeof(*ns->slots));
		ns->cap = want;
	}
	/* A small directory after a big one: use the small part, stay fast. */
	ns->mask = want - 1;
	memset(ns->slots, 0, want * sizeof(*ns->slots));
}

void nameset_build(struct nameset *ns, const struct lookahead_list *l)
{
	size_t count = 0;

	for (size_t pos = 0; l != NULL && pos < l->len; pos += strlen(l->data + pos + 1) + 2)
		count++;
	make_room(ns, count);
	ns->data = l != NULL ? l->data : NULL;
	for (size_t pos = 0; l != NULL && pos < l->len; pos += strlen(l->data + pos + 1) + 2) {
		size_t i = find_slot(ns, l->data + pos + 1);

		if (ns->slots[i] == 0)
			ns->slots[i] = pos + 1;
	}
}

int nameset_find(const struct nameset *ns, const char *name, unsigned char *d_type)
{
	size_t i;

	if (ns->slots == NULL)
		return 0;
	i = find_slot(ns, name);
	if (ns->slots[i] == 0)
		return 0;
	if (d_type != NULL)
		*d_type = (unsigned char)ns->data[ns->slots[i] - 1];
	return 1;
}
