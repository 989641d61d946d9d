/*
 * lookahead.h - directory listings read by the counting scan, kept for the
 * walker so each directory is read once.
 *
 * The scan runs ahead of the walker and reads every directory; without this
 * the walker reads each one again.  The scan offers each listing it read in
 * full; the walker, about to read a directory, takes it instead.  Both walk
 * with the same rules and number the directories in the order they read
 * them, so the walker asks for listing number N and checks that its path is
 * the one it wants.  Listings are kept up to a byte budget: past it the scan
 * only counts, and the walker reads those directories itself.  Once the two
 * walks differ (the walker skipped a directory the scan entered, or a
 * directory changed between them) nothing more is kept, and the walker
 * reads every directory itself, as it does with no scan at all.
 */
#ifndef PCOPY_LOOKAHEAD_H
#define PCOPY_LOOKAHEAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of listings kept at most: 50,000 short names fit. */
#define LOOKAHEAD_BUDGET ((size_t)1 << 20)

struct lookahead_dir;

/* Listings offered and not yet taken, oldest first. */
struct lookahead {
	pthread_mutex_t lock;
	struct lookahead_dir *head, *tail;
	size_t used;     /* bytes held */
	size_t budget;   /* bytes allowed */
	uint64_t wanted; /* the walker has passed every listing below this */
	int off;         /* the walks differed: nothing more is kept */
};

/*
 * One directory's listing, built by the scan and handed to the walker:
 * entries packed as a d_type byte followed by the NUL-terminated name.
 */
struct lookahead_list {
	char *data;
	size_t len, cap;
};

void lookahead_init(struct lookahead *la, size_t budget);
void lookahead_destroy(struct lookahead *la);

/* Append an entry to a listing being built. */
void lookahead_list_add(struct lookahead_list *l, unsigned char d_type, const char *name);

/*
 * The scan read directory number `seq` (its path from the root is `path`)
 * in full: keep the listing if the walker has not passed that directory
 * and the budget allows.  Takes l->data either way and leaves l empty.
 */
void lookahead_offer(struct lookahead *la, uint64_t seq, const char *path,
		     struct lookahead_list *l);

/*
 * The walker is about to read directory number `seq` at `path`: the
 * listing, moved into *out (free out->data), and 1; or 0 when it was not
 * kept.  Older listings are dropped.  A listing numbered `seq` with another
 * path means the walks differ: everything is dropped and 0 returned, now
 * and from then on.
 */
int lookahead_take(struct lookahead *la, uint64_t seq, const char *path,
		   struct lookahead_list *out);

/* Step through a listing: *pos starts at 0; 0 at the end. */
int lookahead_list_next(const struct lookahead_list *l, size_t *pos, unsigned char *d_type,
			const char **name);

#endif
