/* walk.h - a directory-tree walker that hands each entry to a visitor. */
#ifndef PCOPY_WALK_H
#define PCOPY_WALK_H

#include <stdatomic.h>
#include <sys/stat.h>

struct files_from;
struct filter;
struct listing;
struct lookahead;
struct lookahead_list;
struct src_meta;

/*
 * The `err` of a directory met again inside itself while following
 * symbolic links (-L): a cycle, not followed.  Not an errno, so that a
 * symbolic link loop (ELOOP) is told apart.
 */
#define WALK_CYCLE (-1)

/* One entry met by the walker. */
struct walk_entry {
	int dirfd;                   /* open source directory holding the entry */
	const char *name;            /* its name in dirfd */
	const char *relpath;         /* its path from the root */
	const struct stat *st;       /* fstatat of it (links followed only with follow) */
	int typed_only;              /* st holds only the type, from d_type (names_only,
				  lazy_regular) */
	int unchanged;               /* whoever read the directory for the walker found
				  DST's copy of this regular file up to date
				  (listing.h's LISTING_UNCHANGED) */
	const struct src_meta *meta; /* a remote source: what was read of the entry
					there (core/job.h); dirfd is then -1 */
};

/* A source directory's listing, as read (for walk_visitor.listed). */
struct walk_listing {
	int dirfd;                          /* the directory, or -1 if it could not be opened */
	const char *relpath;                /* its path from the root ("" for the root) */
	const struct lookahead_list *names; /* every name read (excluded ones too), with d_type;
					       NULL when none could be read */
	int complete;                       /* 0: it could not be read to its end */
};

/* What the walker calls; ctx is passed back to each. */
struct walk_visitor {
	/* A non-directory entry.  Return 0 to go on, -1 to stop the walk. */
	int (*entry)(void *ctx, const struct walk_entry *e);
	/*
	 * A directory, before anything inside it.  `descend` says whether the
	 * walker will enter it (0 across a mount with one_file_system).
	 * Return 1 to enter, 0 to skip it, -1 to stop the walk.
	 */
	int (*directory)(void *ctx, const struct walk_entry *e, int descend);
	/* relpath could not be read (an errno), or would loop (WALK_CYCLE). */
	void (*error)(void *ctx, const char *relpath, int err);
	void *ctx;
	/*
	 * relpath, found in its directory's listing, was gone (ENOENT) when it
	 * was stat'ed, or (is_dir) is a directory visited but gone before it
	 * could be read.  NULL: such an entry is skipped without a word, such
	 * a directory is an error.  Last, so that visitors written without it
	 * leave it NULL.
	 */
	void (*vanished)(void *ctx, const char *relpath, int is_dir);
	/*
	 * May be NULL.
	 * A directory's whole listing, after it is read and before any of its
	 * entries is visited; also, with complete == 0, when it could not be
	 * read to its end, after `error` said why (the names read, if any, are
	 * visited next).  Return 0 to go on, -1 to stop the walk.
	 */
	int (*listed)(void *ctx, const struct walk_listing *l);
	/*
	 * May be NULL.  Every entry of a directory has been visited; the walk
	 * goes on with reading its subdirectories (or another directory).
	 */
	void (*dir_done)(void *ctx);
};

/*
 * Someone who reads directories for the walker (pcopy-mpi: the other
 * ranks, listing.h).  The walker still opens each directory (visitors
 * want its fd) and still decides everything; it only takes the names and
 * stats instead of reading them.  Called on the walker's thread.
 *
 * A source on another machine (walk_tree's root -1) reads every
 * directory: nothing is opened here, `take` saying 0 means the directory
 * could not be read there (errno says why), and each entry comes with
 * its stat (or the errno of its stat there) and its src_meta.  A take
 * that says 0 with ECANCELED ends the walk without a word: the source
 * has said why.
 */
struct walk_source {
	/*
	 * The walker is about to read the directory `relpath`: 1 with its
	 * listing moved into *out (listing_free it), or 0 when the walker must
	 * read it itself.
	 */
	int (*take)(void *ctx, const char *relpath, struct listing *out);
	/*
	 * The walker read `relpath` itself, or took the counting scan's
	 * listing of it (after take said 0): its names, so that the
	 * directories inside it can be read for the walker.  `names` may be
	 * NULL (nothing could be read).
	 */
	void (*read_itself)(void *ctx, const char *relpath, const struct lookahead_list *names);
	/* The walk is over (on the walker's thread, like the others). */
	void (*finished)(void *ctx);
	void *ctx;
};

/* How to walk. */
struct walk_options {
	int follow;          /* follow symbolic links (-L) */
	int one_file_system; /* do not enter other filesystems (-x) */
	int names_only;      /* stat directories only: other entries get a
				  stat with just the type from d_type (where
				  the filesystem gives it) */
	int lazy_regular;    /* the same for regular files only: whoever
				  copies them stats them */
	_Atomic int *stop;   /* checked between entries; may be NULL */
	/* Listings shared between two walks of the same tree (lookahead.h):
	   the producer offers what it reads, the other takes them; NULL for
	   none. */
	struct lookahead *lookahead;
	int lookahead_produce;
	/* Entries it excludes are not visited (nor entered); NULL for none. */
	const struct filter *filter;
	/* --files-from: visit these paths (and all inside the directories
	   among them), each after the directories leading to it, instead of
	   the whole tree; NULL for the whole tree. */
	const struct files_from *files;
	/* Directories read by someone else; NULL: the walker reads them all
	   (it must be NULL with `files`). */
	const struct walk_source *source;
	/* Root -1 (a source on another machine): the root's stat there. */
	const struct stat *root_st;
};

/*
 * With these options, can an entry's d_type stand in for its stat
 * (names_only, lazy_regular)?  Whoever reads for the walker stats the
 * others.
 */
int walk_type_is_enough(const struct walk_options *o, unsigned char d_type);

/*
 * Walk the tree under the directory fd `root` (not visiting root itself),
 * or only the paths of o->files; root -1 walks what o->source reads on
 * another machine, whose root is o->root_st (no o->files).
 * A directory's entries are visited first, then its subdirectories, each
 * opened afresh beneath root by relative path, so the walker holds only
 * one directory fd at any time, whatever the depth.  Returns 0 when the
 * walk ran to the end, -1 when a visitor or the stop flag ended it.
 */
int walk_tree(int root, const struct walk_options *o, const struct walk_visitor *v);

#endif
