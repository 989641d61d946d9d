/*
 * mpi.h - pcopy-mpi: MPI ranks as a kind of worker (core/kind.h).
 *
 * Rank 0 runs pcopy as usual: it walks, owns the terminal and decides the
 * exit status.  Its pool's workers are the other ranks (mpi_kind,
 * mpi_forward.c): a forwarder thread pops the walker's queue and sends the
 * jobs to ranks 1..N-1 in batches, never more than a fixed number in
 * flight per rank (credit).  Each of those ranks (mpi_serve.c) pushes what
 * it receives onto a queue of its own, where one worker thread runs the
 * same worker_main as the other kinds; the rank sends back how far its
 * worker got, its slot's counters and its output lines, which rank 0 puts
 * in that rank's slot and prints.  The same forwarder hands out
 * directories for the ranks to read for rank 0's walker, and passes their
 * listings back to it (walk/broker.h); a dry run starts the ranks for that
 * alone.  The messages are in mpi_wire.h.
 *
 * Only pcopy-mpi (cli/main_mpi.c) is built with these files.
 */
#ifndef PCOPY_MPI_H
#define PCOPY_MPI_H

struct files_from;
struct filter;
struct options;
struct worker_kind;

/* Start MPI (every rank); 0, or -1 when it cannot start (reported). */
int mpi_start(int *argc, char ***argv);

/* This process's rank: 0 is the one that walks and reports. */
int mpi_rank(void);

/*
 * Every rank got its options, filters and lists (`ready` says whether this
 * one did): start only if all did, with one copying worker per other rank.
 * 0, or -1 when some rank is not ready or there is only one rank (reported
 * by rank 0).
 */
int mpi_ready(struct options *o, int ready);

/*
 * A rank other than 0: serve rank 0's sources until it says there are no
 * more.  The exit status of this rank (rank 0 reports the run's): 0, or
 * 128+N when stop signal N made it stop.
 */
int mpi_serve(const struct options *o, const struct filter *filter, const struct files_from *list,
	      unsigned force);

/*
 * Rank 0 tells the others the run is over; every rank then stops MPI,
 * unless `status` (this rank's exit status) says a signal stopped it.
 */
void mpi_end(int status);

/*
 * Rank 0's workers: the other ranks, fed by messages.  Opening it for one
 * tree SRC has every other rank open the same roots (refused when one sees
 * another directory: reported, errno 0) and starts the forwarder.
 */
extern const struct worker_kind mpi_kind;

#endif
