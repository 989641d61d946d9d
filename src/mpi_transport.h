/*
 * mpi_transport.h - pcopy-mpi: MPI ranks as the third worker kind.
 *
 * Rank 0 runs pcopy as usual: it walks, owns the terminal and decides the
 * exit status.  Its pool (pool.c) in MODE_MPI is a forwarder thread that
 * pops the walker's queue and sends the jobs to ranks 1..N-1 in batches,
 * never more than a fixed number in flight per rank (credit).  Each of
 * those ranks pushes what it receives onto a queue of its own, where one
 * worker thread runs the same worker_main as the other modes; the rank
 * sends back how far its worker got, its slot's counters and its output
 * lines, which rank 0 puts in that rank's slot and prints.  The same
 * forwarder hands out directories for the ranks to read for rank 0's
 * walker, and passes their listings back to it (mpi_listing.h); a dry run
 * starts the ranks for that alone.
 *
 * Only pcopy-mpi is built with PCOPY_MPI; in pcopy these are stubs of a
 * single rank that never runs in MPI mode.
 */
#ifndef PCOPY_MPI_TRANSPORT_H
#define PCOPY_MPI_TRANSPORT_H

#include <errno.h>

struct filelist;
struct filter;
struct options;
struct ranks;
struct session;
struct walk_source;

#ifdef PCOPY_MPI

/* Start MPI (every rank); 0, or -1 when it cannot start (reported). */
int mpi_start(int *argc, char ***argv);

/* This process's rank: 0 is the one that walks and reports. */
int mpi_rank(void);

/*
 * Every rank got its options, filters and lists (`ready` says whether this
 * one did): start only if all did, with rank 0's options set to MPI mode,
 * one copying worker per other rank.  0, or -1 when some rank is not
 * ready or there is only one rank (reported by rank 0).
 */
int mpi_ready(struct options *o, int ready);

/*
 * A rank other than 0: serve rank 0's sources until it says there are no
 * more.  The exit status of this rank (rank 0 reports the run's): 0, or
 * 128+N when stop signal N made it stop.
 */
int mpi_serve(const struct options *o, const struct filter *filter, const struct filelist *list,
	      unsigned force);

/*
 * Rank 0 tells the others the run is over; every rank then stops MPI,
 * unless `status` (this rank's exit status) says a signal stopped it.
 */
void mpi_end(int status);

/*
 * Rank 0, one tree SRC: have every other rank open the same roots (refused
 * when one sees another directory: reported, errno 0) and start forwarding
 * s->queue to them.  NULL on failure.
 */
struct ranks *ranks_start(const struct session *s);

/* Wait until every rank has finished the jobs of this SRC (close or abort s->queue first). */
void ranks_wait(struct ranks *r);

/*
 * Rank 0's walker takes its directory listings from here: the other ranks
 * read them (mpi_listing.h).  Valid until ranks_free.
 */
const struct walk_source *ranks_listing(struct ranks *r);

/* Free what ranks_start made (after ranks_wait). */
void ranks_free(struct ranks *r);

#else /* one process, no MPI */

static inline int mpi_start(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static inline int mpi_rank(void)
{
	return 0;
}

static inline int mpi_ready(struct options *o, int ready)
{
	(void)o;
	return ready ? 0 : -1;
}

static inline int mpi_serve(const struct options *o, const struct filter *filter,
			    const struct filelist *list, unsigned force)
{
	(void)o;
	(void)filter;
	(void)list;
	(void)force;
	return 2;
}

static inline void mpi_end(int status)
{
	(void)status;
}

static inline struct ranks *ranks_start(const struct session *s)
{
	(void)s;
	errno = ENOSYS;
	return NULL;
}

static inline void ranks_wait(struct ranks *r)
{
	(void)r;
}

static inline const struct walk_source *ranks_listing(struct ranks *r)
{
	(void)r;
	return NULL;
}

static inline void ranks_free(struct ranks *r)
{
	(void)r;
}

#endif /* PCOPY_MPI */

#endif
