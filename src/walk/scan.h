/* scan.h - a names-only counting walk ahead of the copy, so progress has totals early. */
#ifndef PCOPY_SCAN_H
#define PCOPY_SCAN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/session.h"

struct lookahead;

/* A counting scan running in its own thread. */
struct scan {
	_Atomic uint64_t entries;    /* non-directory entries counted so far (earlier
				     sources' entries included) */
	_Atomic int cancel;          /* asks the scan to stop early */
	const struct session *s;     /* the roots, options, filter and list to walk */
	struct lookahead *lookahead; /* where listings are offered, or NULL */
	pthread_t thread;
	int running; /* thread was started */
};

/*
 * Start counting the tree under s->src_root, as the copy walks it (the same
 * options, filter and list), from `counted_before` (the entries of sources
 * already copied), offering the listings it reads to `la` (may be NULL);
 * 0 or -1 (then there are no early totals).
 */
int scan_start(struct scan *sc, const struct session *s, struct lookahead *la,
	       uint64_t counted_before);

/* Stop the scan (if still running) and join it. */
void scan_stop(struct scan *sc);

#endif
