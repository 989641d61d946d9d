/* progress.h - progress and stats: collecting the counters and formatting them. */
#ifndef PCOPY_PROGRESS_H
#define PCOPY_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/options.h"
#include "core/session.h"

/* Weight of one entry in the percentage, in bytes: small files cost time too. */
#define PROGRESS_ENTRY_WEIGHT 16384

/* What the progress line shows. */
struct progress_counts {
	uint64_t entries_done;  /* non-directory entries finished */
	uint64_t entries_total; /* known so far (final unless scanning) */
	uint64_t bytes_done;    /* regular-file bytes finished or in flight */
	uint64_t bytes_total;
	uint64_t bytes_skipped; /* of bytes_done, what --update found needed no copy */
	int scanning;           /* totals may still change: the walk has not ended */
	double elapsed_s;       /* since the start */
};

/*
 * Add up the workers' slots and the best totals known: the walker's once it
 * has finished, else the larger of the walker's and `scanned`, the entries
 * the counting scan has found so far (0 when none runs).
 */
void progress_collect(const struct session *s, uint64_t scanned, double elapsed_s,
		      struct progress_counts *out);

/*
 * The percentage to show: bytes plus PROGRESS_ENTRY_WEIGHT per entry, done
 * over total, both less the bytes that needed no copy (so an incremental
 * run follows the data it copies, not the tree's size); never below `previous`, and below 100 until `finished`, when
 * it is exactly 100.
 */
double progress_percent(const struct progress_counts *c, double previous, int finished);

/*
 * Format one progress report in `style` (bar, plain or json) into buf,
 * NUL-terminated, with its line ending ("\r" + clear for bar, "\n" for the
 * others, "\n" for a finished bar).  Returns the length.
 */
size_t progress_format(enum progress_style style, const struct progress_counts *c, double percent,
		       int finished, char *buf, size_t len);

/* The end-of-run summary. */
struct run_stats {
	const char *target; /* the copy's path (DST, or DST/basename(SRC)) */
	const char *mode;   /* the kind of the workers: "thread", "process", "mpi" */
	int jobs;           /* workers used: the most running at once */
	int jobs_start;     /* workers at the start (-j, or the default) */
	int adaptive;       /* no -j: the count could grow past jobs_start */
	/*
	 * A kind with per-worker figures (core/kind.h's unit, "rank" for MPI):
	 * the unit and how many, else NULL and 0.  Worker k > 0 works in slot
	 * k-1, worker 0 (the walker) in the parent's, the last one of
	 * `slots`, which gives each one's files and bytes.
	 */
	const char *unit;
	int units;
	int nslots; /* slots in all: the walker's is the last */
	const struct worker_slot *slots;
	uint64_t files, dirs, symlinks, specials, hardlinks; /* entries made, by kind */
	uint64_t created, updated, meta_updated, unchanged;  /* entries by change (change.h) */
	uint64_t deleted, linked;                            /* --delete, --link-dest */
	uint64_t bytes;        /* regular-file bytes of the tree, copied or not */
	uint64_t bytes_copied; /* bytes written */
	uint64_t errors;
	uint64_t vanished; /* source entries gone before they were copied */
	double elapsed_s;
	/* The workers' time, summed over them (worker.c, account_time). */
	double cpu_s;         /* on a CPU */
	double runq_s;        /* waiting for a CPU */
	double wait_s;        /* asleep with a job: the device, or a lock */
	double idle_s;        /* waiting for a job */
	uint64_t split_files; /* files copied as ranges at once (copy/data.c) */
};

void stats_collect(const struct session *s, double elapsed_s, struct run_stats *out);

/* Error lines printed so far, all workers and the parent together. */
uint64_t stats_errors(const struct session *s);

/* Source entries reported vanished so far (warnings, not errors). */
uint64_t stats_vanished(const struct session *s);

/*
 * Format the summary (text lines, or one JSON line that has the target as
 * a lossless JSON string, quote_json) into buf like snprintf: the return is
 * the length of the whole summary, and when it is `len` or more buf holds
 * only its start.
 */
size_t stats_format(enum stats_style style, const struct run_stats *st, char *buf, size_t len);

#endif
