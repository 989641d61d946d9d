/*
 * nameset.h - the names of one directory listing, indexed for lookup by
 * name: what --delete compares DST's entries with.  It indexes the listing
 * in place (no copy of the names), so memory is one slot per name on top
 * of the listing, bounded by the largest directory, never the tree.
 */
#ifndef PCOPY_NAMESET_H
#define PCOPY_NAMESET_H

#include <stddef.h>

struct lookahead_list;

/* An open-addressing hash table of offsets into a listing. */
struct nameset {
	const char *data; /* the listing indexed (not owned) */
	size_t *slots;    /* offset of a name + 1, or 0 for an empty slot */
	size_t mask;      /* slots allocated - 1 (a power of two - 1) */
	size_t cap;       /* slots allocated, kept between builds */
};

void nameset_init(struct nameset *ns);
void nameset_free(struct nameset *ns);

/*
 * Index the names of `l` (lookahead.h's packed form: a d_type byte, then
 * the name and its NUL), replacing what was indexed before.  `l` must
 * outlive the lookups.  l == NULL or empty gives an empty set.
 */
void nameset_build(struct nameset *ns, const struct lookahead_list *l);

/*
 * Is `name` in the set?  1, with its d_type in *d_type when not NULL, or
 * 0.  A name listed twice is found once (the first).
 */
int nameset_find(const struct nameset *ns, const char *name, unsigned char *d_type);

#endif
