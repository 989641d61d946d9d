/*
 * remote_listing.h - LISTING frames (remote.h): one directory of the
 * sender's walk, names in the order read with each entry's stat (or why
 * it has none) and what was read of it (core/job.h's src_meta).  A large
 * directory takes several frames, each but the last marked `more`.
 *
 *	u32 operand      which SRC operand's walk
 *	str relpath      the directory, from that operand's root
 *	i32 err          0, or the errno of a read of it that failed (the
 *	                 names before it follow)
 *	u8  more         another frame of the same directory follows
 *	u32 count        entries in this frame, each:
 *	    u8  d_type
 *	    str name
 *	    i32 err      0 (a stat follows), the errno of its stat there,
 *	                 LISTING_NOT_STATED (excluded there) or
 *	                 LISTING_CYCLE (-L: a directory met inside itself)
 *	    [stat]       remote_conn.h's
 *	    str meta     packed src_meta, empty for none
 *
 * The decoder trusts nothing: every name is one name, every path beneath
 * the root, every stat of a known type, every meta well formed.
 */
#ifndef PCOPY_REMOTE_LISTING_H
#define PCOPY_REMOTE_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "transport/wire.h"

struct listing;

/* Entries in one frame, at most. */
#define LISTING_FRAME_ENTRIES 65536

/* A frame being built: begin, entries, end. */
struct listing_frame {
	struct wire_out o;
	uint32_t count;
	size_t count_at; /* where the count goes in o */
	size_t more_at;  /* where the more flag goes */
};

void listing_frame_begin(struct listing_frame *f, uint32_t operand, const char *relpath,
			 int32_t err);
void listing_frame_entry(struct listing_frame *f, unsigned char d_type, const char *name,
			 int32_t err, const struct stat *st, const void *meta, size_t meta_len);
/* Finish the frame (o holds its payload), saying whether more follow. */
void listing_frame_end(struct listing_frame *f, int more);

/* What a decoded frame says besides its entries. */
struct listing_frame_head {
	uint32_t operand;
	char relpath[4096];
	int32_t err;
	int more;
};

/*
 * Decode a LISTING payload, appending its entries to l (listing.h, with
 * metas).  0, or -1 when it is not a well-formed frame (l may have some
 * entries added: drop it).  `with_hash`: -c, entries' metas may carry a
 * hash; `with_xattrs`: they may carry xattrs.
 */
int listing_frame_decode(const void *payload, size_t len, struct listing_frame_head *h,
			 struct listing *l);

#endif
