/*
 * broker.h - directories read for the walker by its workers (today
 * pcopy-mpi's other ranks, a kind with KIND_LISTS: core/kind.h).
 *
 * Rank 0's walker stays the one place of decisions (order, filters, hard
 * links, -i lines); only the reading moves.  A broker on rank 0 knows the
 * directories that are coming (the subdirectories of every listing seen),
 * hands them out to the ranks in the order the walker will want them
 * (listing.h's keys, smallest first), a few in flight per rank, and holds
 * what comes back, up to a byte budget, until the walker takes it.  A
 * rank lists a directory as walk.c would read it: the names, and the stat
 * of each entry the walker would stat.
 *
 * The broker's two sides run on two threads of rank 0: the forwarder
 * (broker_next_batch, broker_arrived: transport/mpi_forward.c does the
 * MPI part) and the walker (through broker_source's walk_source).  No MPI
 * here.
 */
#ifndef PCOPY_BROKER_H
#define PCOPY_BROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct filter;
struct walk_options;
struct walk_source;
struct worker_slot;

/* How the broker is set up for one SRC. */
struct broker_config {
	int listers;                 /* ranks 1..listers list directories */
	int enabled;                 /* 0: the walker reads every directory itself */
	int root;                    /* SRC's fd (for its device and inode) */
	int one_file_system;         /* -x: do not hand out other file systems */
	const struct filter *filter; /* excluded directories are not handed out */
	struct worker_slot *slot;    /* rank 0's: what its walker read and waited */
	size_t known_max;            /* directories known ahead of the walker, at
					most (0: broker.c's KNOWN_MAX) */
};

struct broker;

struct broker *broker_create(const struct broker_config *c);
void broker_free(struct broker *b);

/* The walker's side (valid until broker_free). */
const struct walk_source *broker_source(struct broker *b);

/*
 * The forwarder: the relative paths to send `rank` next, each with its
 * NUL, in a malloc'd buffer of *len bytes; NULL when it has no credit, or
 * nothing is to be listed, or the budget is spent.
 */
char *broker_next_batch(struct broker *b, int rank, size_t *len);

/*
 * The forwarder: a reply (lister_read's message) came from `rank`.  -1
 * when it is malformed: the directories of its rest are never answered,
 * so the caller must end the run (the walker would wait for them).
 */
int broker_arrived(struct broker *b, int rank, const char *msg, size_t len);

/* The run is stopping: hand out nothing more, and wait for nothing. */
void broker_close(struct broker *b);

/* A lister's reply to one LIST message, growing as it reads. */
struct lister_reply {
	char *buf; /* the message for broker_arrived (malloc'd) */
	size_t len, cap;
	uint64_t dirs;    /* directories it could read */
	uint64_t entries; /* and the names in them */
	uint64_t judged;  /* and the regular files in them the judge compared */
	/*
	 * A stat on device dev_here says dev_rank0 instead: SRC's file
	 * system as this node and rank 0's see it (on another node an NFS or
	 * Lustre mount has a device number of its own).  Equal: as read.
	 */
	uint64_t dev_here, dev_rank0;
};

/*
 * A lister's look at DST, for an incremental run: the regular files whose
 * copy in DST is up to date need no job at all (listing.h's
 * LISTING_UNCHANGED), so a re-run over an unchanged tree sends the walker
 * listings and nothing else.  The lister stats each regular file then,
 * and passes on the stat of those with one link (the others' are left to
 * whoever copies them, as without a judge: spill.h).
 */
struct lister_judge {
	/* About to read `relpath`: 0 to judge its regular files, -1 not to. */
	int (*enter)(void *ctx, const char *relpath);
	/* 1 if DST's copy of the file `name` in the SRC directory `dirfd`
	 * (stat `st`) is up to date, as a worker would decide; else 0. */
	int (*unchanged)(void *ctx, int dirfd, const char *name, const struct stat *st);
	void *ctx;
};

/*
 * A lister (ranks > 0): read the directory `relpath` beneath `root` as
 * the walker would with options `o` (follow, names_only, lazy_regular),
 * with `dirbuf` (dirstream.h), judging its regular files with `judge`
 * (NULL: none), and add it to r (zeroed at first): its names and stats,
 * or that it could not be read (the walker then reads it itself, and says
 * why).  A directory whose listing would pass 1 MiB, and every directory
 * once r holds 1 MiB, is answered "could not be read".
 */
void lister_read(int root, const struct walk_options *o, const char *relpath, char *dirbuf,
		 const struct lister_judge *judge, struct lister_reply *r);

#endif
