/*
 * compare.h - comparing the contents of two regular files (-c,
 * --checksum): both are read, chunk by chunk, up to the first difference.
 * Locally that costs no more than reading both, and less than hashing.
 */
#ifndef PCOPY_COMPARE_H
#define PCOPY_COMPARE_H

#include <stdint.h>

/*
 * Do `aname` in adir and `bname` in bdir, two regular files that stat says
 * are `size` bytes long, hold different bytes?  Neither is followed if it
 * is a symbolic link, unless `follow_a` (-L, for a source) for the first.
 * 1 when they differ (in a byte or in length), 0 when they are equal, -1
 * with errno when either cannot be opened or read or is not a regular
 * file.  Safe from any worker (no shared state).
 */
int compare_contents_at(int adir, const char *aname, int follow_a, int bdir, const char *bname,
			uint64_t size);

#endif
