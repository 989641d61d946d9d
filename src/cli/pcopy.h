/*
 * pcopy.h - the program, from argv to exit status, for both binaries:
 * pcopy (cli/main.c: one process, its workers threads or processes) and
 * pcopy-mpi (cli/main_mpi.c: MPI ranks).  Each says how its processes run.
 */
#ifndef PCOPY_PCOPY_H
#define PCOPY_PCOPY_H

struct files_from;
struct filter;
struct options;
struct worker_kind;

/* How this program's processes run. */
struct launch {
	/* The kind of worker that copies, for these options (core/kind.h). */
	const struct worker_kind *(*kind)(const struct options *o);
	/*
	 * Every process has its options, filter rules and list (`ready` says
	 * whether this one has): 0 to go on, -1 to stop with status 2
	 * (reported).  May set o to what the processes agreed.  NULL: go on
	 * when ready.
	 */
	int (*agree)(struct options *o, int ready);
	/*
	 * NULL for the process that walks and reports.  Else this process
	 * serves that one instead (another MPI rank): its exit status.
	 */
	int (*serve)(const struct options *o, const struct filter *filter,
		     const struct files_from *list, unsigned force);
};

/* Run pcopy with argv as `how` says; the exit status. */
int pcopy_main(int argc, char **argv, const struct launch *how);

#endif
