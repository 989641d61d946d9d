/*
 * listing.h - directory listings read for the walker by someone else (in
 * pcopy-mpi, by the other ranks): each name with its d_type and, where the
 * walker would stat it, the stat, so the walker needs no getdents or
 * fstatat of its own.  Also the key that orders directories as the walker
 * enters them, so that whoever hands out the reading can hand out first
 * what the walker needs first.
 *
 * The pure parts only; the broker and the listers are in broker.c.
 */
#ifndef PCOPY_LISTING_H
#define PCOPY_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "walk/lookahead.h"

/* What the lister learnt of one entry by stat'ing it. */
struct listing_stat {
	struct stat st; /* valid when err == 0 */
	int32_t err;    /* 0; errno of the fstatat; or LISTING_NOT_STATED */
	int32_t pad;
};

/* err of an entry the lister did not stat (the walker decides without, or stats it). */
#define LISTING_NOT_STATED (-1)
/*
 * err of a regular file the lister stat'ed (st is valid) and whose copy in
 * DST it found up to date, as a worker would decide (broker.h's judge):
 * the walker only counts it.
 */
#define LISTING_UNCHANGED (-2)
/*
 * err of a directory met inside itself while following links (-L) in a
 * remote source's listing (walk.h's WALK_CYCLE there).
 */
#define LISTING_CYCLE (-3)

/* Where an entry's packed src_meta (core/job.h) is in a listing's `meta`. */
struct listing_meta {
	uint32_t at, len; /* len 0: none */
};

/* One directory's listing: names in the order read, and a stat for each. */
struct listing {
	struct lookahead_list names; /* d_type byte + name + NUL, as lookahead.h */
	struct listing_stat *stats;  /* stats[i] is for the i-th name */
	size_t count, cap;           /* names held, stats allocated */
	/* A remote source's listing (transport/remote.h) also holds what was
	   read of each entry there; NULL otherwise (and in listing_pack). */
	struct listing_meta *metas; /* metas[i] is for the i-th name */
	unsigned char *meta;        /* the packed src_metas */
	size_t meta_len, meta_cap;
};

void listing_init(struct listing *l);
void listing_free(struct listing *l);

/*
 * Append an entry: st NULL with err its errno (or LISTING_NOT_STATED), or
 * its stat with err 0 (or LISTING_UNCHANGED).
 */
void listing_add(struct listing *l, unsigned char d_type, const char *name, const struct stat *st,
		 int err);

/* Give the entry added last `len` bytes of packed src_meta (job.h). */
void listing_set_meta(struct listing *l, const void *packed, size_t len);

/* The packed src_meta of entry i: its bytes and *len, or NULL. */
const unsigned char *listing_meta_of(const struct listing *l, size_t i, size_t *len);

/* Append every entry of `from` (stats and metas too) to l. */
void listing_append(struct listing *l, const struct listing *from);

/* Bytes the listing holds (for a memory budget). */
size_t listing_bytes(const struct listing *l);

/* The packed form, for a message: a malloc'd buffer of *len bytes. */
char *listing_pack(const struct listing *l, size_t *len);

/*
 * Rebuild a listing from `len` bytes packed by listing_pack (l is
 * overwritten).  0, or -1 when they are not a well-formed listing (l is
 * then empty).
 */
int listing_unpack(const char *buf, size_t len, struct listing *l);

/*
 * Where a directory comes in the walk.  walk.c visits a directory's
 * entries, then each of its subdirectories in listing order, each the
 * same way: a pre-order.  A directory's key is its parent's key followed
 * by its index in the parent's listing, so comparing keys as sequences
 * (a prefix first) gives the walker's order.  The root's key is empty.
 */
struct walk_key {
	uint32_t *index; /* one per level below the root (malloc'd) */
	size_t depth;
};

/* The key of the child at `index` of a directory whose key is `parent`. */
void walk_key_child(const struct walk_key *parent, uint32_t index, struct walk_key *child);
void walk_key_copy(const struct walk_key *from, struct walk_key *to);
void walk_key_free(struct walk_key *k);

/* <0, 0 or >0 as directory a is entered before, as, or after b. */
int walk_key_compare(const struct walk_key *a, const struct walk_key *b);

#endif
