/*
 * kind.h - the seam between the pool and how its workers run.
 *
 * Threads (run/kind_thread.c), processes (run/kind_process.c) and MPI ranks
 * (transport/mpi_forward.c) each fill one of these tables; main picks one
 * for the run (cli/) and the pool (run/pool.c) works through it alone, so
 * that nothing outside a kind's own files asks which kind runs.  Every kind
 * runs the same worker function, worker_main, on one slot of the shared
 * state per worker, wherever that worker is.
 *
 * A kind that adds workers elsewhere (ssh streams to another machine,
 * say) implements the same table: `start` brings worker `index` up,
 * `ended` says when it is gone and how it went, and the pool does the rest
 * (growth, deaths and their replacement, waiting).
 */
#ifndef PCOPY_KIND_H
#define PCOPY_KIND_H

struct session;
struct walk_source;

/* What a kind is, for those who size, share or report (enum bits). */
enum kind_flags {
	/*
	 * Each worker is a process of its own: the queue and the slots live in
	 * MAP_SHARED memory made before the workers start, and the thread id
	 * a worker puts in its slot is that process's pid.
	 */
	KIND_PROCESSES = 1 << 0,
	/* The workers share this process's fd table: its limit caps how many run. */
	KIND_SHARED_FDS = 1 << 1,
	/* A worker that dies is replaced, and what it held is accounted for. */
	KIND_RESPAWN = 1 << 2,
	/* The workers read directories for the walker (`listing`), also in a dry run. */
	KIND_LISTS = 1 << 3,
	/*
	 * Its workers' ends are learnt from SIGCHLD: the monitor reaps them
	 * (pool_reap), and the pool waits for that instead of blocking in
	 * `ended`.
	 */
	KIND_REAPED = 1 << 4,
};

struct worker_kind {
	const char *name; /* its --mode and --stats name: "thread", "process", "mpi" */
	const char *unit; /* one worker in --stats's per-worker figures ("rank"), or NULL */
	unsigned flags;   /* enum kind_flags */

	/*
	 * Set up for at most `capacity` workers of session s, before any
	 * starts.  The kind's state, or NULL with errno set (0 when the
	 * reason has been reported).
	 */
	void *(*open)(const struct session *s, int capacity);

	/* Start the worker of slot `index`: worker_main on it.  0, or -1 with errno. */
	int (*start)(void *state, int index);

	/*
	 * Has the worker of slot `index` ended?  1 with *status set (a wait
	 * status: 0 for an orderly end) once it has, 0 while it runs; with
	 * `block`, waits for it (never for a KIND_REAPED kind).  Not asked
	 * again about a slot that said 1, unless it was started again.
	 */
	int (*ended)(void *state, int index, int block, int *status);

	/* Where the walker takes directory listings (KIND_LISTS), or NULL. */
	const struct walk_source *(*listing)(void *state);

	/*
	 * May be NULL.  How many workers the kind can run now: one whose
	 * workers need something that comes as the run goes (a connection
	 * each) says so, and the pool grows to it (pool_follow).
	 */
	int (*ready)(void *state);

	/* Free the state, once every worker has ended. */
	void (*close)(void *state);
};

#endif
