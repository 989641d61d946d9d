/*
 * listing.c - listings with stats, and walk-order keys (see listing.h).
 *
 * The packed form is a header, the stats as an array, then the names in
 * lookahead.h's form: unpacking checks every length, since it reads what
 * another process sent.
 */
#include "walk/listing.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* The start of a packed listing. */
struct packed_head {
	uint64_t count;     /* entries */
	uint64_t names_len; /* bytes of names after the stats */
};

void listing_init(struct listing *l)
{
	memset(l, 0, sizeof(*l));
}

void listing_free(struct listing *l)
{
	free(l->names.data);
	free(l->stats);
	free(l->metas);
	free(l->meta);
	listing_init(l);
}

void listing_add(struct listing *l, unsigned char d_type, const char *name, const struct stat *st,
		 int err)
{
	struct listing_stat *ls;

	if (l->count == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->stats = xrealloc(l->stats, l->cap * sizeof(*l->stats));
		if (l->metas != NULL)
			l->metas = xrealloc(l->metas, l->cap * sizeof(*l->metas));
	}
	if (l->metas != NULL)
		memset(&l->metas[l->count], 0, sizeof(*l->metas));
	ls = &l->stats[l->count++];
	memset(ls, 0, sizeof(*ls));
	if (st != NULL)
		ls->st = *st;
	ls->err = st != NULL && err != LISTING_UNCHANGED ? 0 : err;
	lookahead_list_add(&l->names, d_type, name);
}

void listing_set_meta(struct listing *l, const void *packed, size_t len)
{
	struct listing_meta *m;

	if (l->metas == NULL)
		l->metas = xcalloc(l->cap, sizeof(*l->metas));
	if (l->meta_len + len > l->meta_cap) {
		l->meta_cap = (l->meta_len + len) * 2;
		l->meta = xrealloc(l->meta, l->meta_cap);
	}
	m = &l->metas[l->count - 1];
	m->at = (uint32_t)l->meta_len;
	m->len = (uint32_t)len;
	memcpy(l->meta + l->meta_len, packed, len);
	l->meta_len += len;
}

const unsigned char *listing_meta_of(const struct listing *l, size_t i, size_t *len)
{
	if (l->metas == NULL || l->metas[i].len == 0)
		return NULL;
	*len = l->metas[i].len;
	return l->meta + l->metas[i].at;
}

void listing_append(struct listing *l, const struct listing *from)
{
	size_t pos = 0;
	unsigned char d_type;
	const char *name;

	for (size_t i = 0; lookahead_list_next(&from->names, &pos, &d_type, &name); i++) {
		const struct listing_stat *ls = &from->stats[i];
		int stated = ls->err == 0 || ls->err == LISTING_UNCHANGED;
		const unsigned char *meta;
		size_t len;

		listing_add(l, d_type, name, stated ? &ls->st : NULL, ls->err);
		if ((meta = listing_meta_of(from, i, &len)) != NULL)
			listing_set_meta(l, meta, len);
	}
}

size_t listing_bytes(const struct listing *l)
{
	return sizeof(*l) + l->names.cap + l->cap * sizeof(*l->stats) +
	       (l->metas != NULL ? l->cap * sizeof(*l->metas) : 0) + l->meta_cap;
}

char *listing_pack(const struct listing *l, size_t *len)
{
	struct packed_head head = { l->count, l->names.len };
	size_t stats_len = l->count * sizeof(*l->stats);
	char *buf;

	*len = sizeof(head) + stats_len + l->names.len;
	buf = xmalloc(*len);
	memcpy(buf, &head, sizeof(head));
	if (stats_len > 0)
		memcpy(buf + sizeof(head), l->stats, stats_len);
	if (l->names.len > 0)
		memcpy(buf + sizeof(head) + stats_len, l->names.data, l->names.len);
	return buf;
}

/* Do `len` bytes of names hold exactly `count` entries, each NUL-terminated? */
static int names_well_formed(const char *names, size_t len, uint64_t count)
{
	uint64_t seen = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *end = memchr(names + pos + 1, '\0', len - pos - 1);

		if (len - pos < 2 || end == NULL)
			return 0;
		pos = (size_t)(end - names) + 1;
		seen++;
	}
	return seen == count;
}

int listing_unpack(const char *buf, size_t len, struct listing *l)
{
	struct packed_head head;
	size_t stats_len;

	listing_init(l);
	if (len < sizeof(head))
		return -1;
	memcpy(&head, buf, sizeof(head));
	if (head.count > (len - sizeof(head)) / sizeof(*l->stats))
		return -1;
	stats_len = (size_t)head.count * sizeof(*l->stats);
	if (head.names_len != len - sizeof(head) - stats_len ||
	    !names_well_formed(buf + sizeof(head) + stats_len, (size_t)head.names_len, head.count))
		return -1;
	l->count = l->cap = (size_t)head.count;
	if (stats_len > 0)
		l->stats = memcpy(xmalloc(stats_len), buf + sizeof(head), stats_len);
	l->names.len = l->names.cap = (size_t)head.names_len;
	if (l->names.len > 0)
		l->names.data =
			memcpy(xmalloc(l->names.len), buf + sizeof(head) + stats_len, l->names.len);
	return 0;
}

void walk_key_child(const struct walk_key *parent, uint32_t index, struct walk_key *child)
{
	child->depth = parent->depth + 1;
	child->index = xmalloc(child->depth * sizeof(*child->index));
	if (parent->depth > 0)
		memcpy(child->index, parent->index, parent->depth * sizeof(*child->index));
	child->index[parent->depth] = index;
}

void walk_key_copy(const struct walk_key *from, struct walk_key *to)
{
	to->depth = from->depth;
	to->index = xmalloc((from->depth + 1) * sizeof(*to->index));
	if (from->depth > 0)
		memcpy(to->index, from->index, from->depth * sizeof(*to->index));
}

void walk_key_free(struct walk_key *k)
{
	free(k->index);
	k->index = NULL;
	k->depth = 0;
}

int walk_key_compare(const struct walk_key *a, const struct walk_key *b)
{
	size_t n = a->depth < b->depth ? a->depth : b->depth;

	for (size_t i = 0; i < n; i++)
		if (a->index[i] != b->index[i])
			return a->index[i] < b->index[i] ? -1 : 1;
	/* One is the other's ancestor: the ancestor is entered first. */
	return (a->depth > b->depth) - (a->depth < b->depth);
}
