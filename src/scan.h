/* scan.h - a names-only counting walk ahead of the copy, so progress has totals early. */
#ifndef PCOPY_SCAN_H
#define PCOPY_SCAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "options.h"

struct filter;
struct lookahead;

/* A counting scan running in its own thread. */
struct scan {
	_Atomic uint64_t entries; /* non-directory entries counted so far (earlier
				     sources' entries included) */
	_Atomic int done;         /* the scan reached the end */
	_Atomic int cancel;       /* asks the scan to stop early */
	int root;                 /* source root fd (borrowed) */
	const struct options *opts;
	const struct filter *filter; /* what the walk skips, or NULL */
	struct lookahead *lookahead; /* where listings are offered, or NULL */
	pthread_t thread;
	int running; /* thread was started */
};

/*
 * Start counting the tree under `root` from `counted_before` (the entries
 * of sources already copied), skipping what `filter` excludes as the copy
 * does, offering the listings it reads to `la` (may be NULL); 0 or -1
 * (then there are no early totals).
 */
int scan_start(struct scan *sc, int root, const struct options *opts, const struct filter *filter,
	       struct lookahead *la, uint64_t counted_before);

/* Stop the scan (if still running) and join it. */
void scan_stop(struct scan *sc);

#endif
