/*
 * run.h - one run of pcopy: every SRC copied in turn to where cp's rules
 * put it, with one shared state so that progress and stats add up across
 * them, each SRC with its own roots, queue and pool of workers.
 */
#ifndef PCOPY_RUN_H
#define PCOPY_RUN_H

#include <stdint.h>
#include <sys/types.h>

#include "core/options.h"

struct files_from;
struct filter;
struct src_remote;
struct worker_kind;

/* How a run went, for main to turn into the exit status. */
struct run_outcome {
	int started;       /* some SRC started */
	int cannot_start;  /* some SRC could not start (its line says why) */
	int signal;        /* the stop signal that ended the run, or 0 */
	uint64_t errors;   /* error lines, over the parent and every worker */
	uint64_t vanished; /* source entries gone before they were copied */
};

/*
 * Copy o->srcs to o->dst as cp's rules say, with workers of `kind`; the
 * filter rules and the --files-from list may be NULL; `user_umask` is the
 * user's (the process's is 0 by now), `force` PCOPY_FORCE's flags.
 * `remote` is NULL, or where the SRCs are read on another machine
 * (core/session.h; then `kind` is one whose workers fetch from there).
 * Progress, -v, -i and --stats are shown as the run goes.  0 with *out
 * filled, or -1 when not even the run's state could be made (reported).
 */
int run_all(const struct options *o, const struct worker_kind *kind, const struct filter *filter,
	    const struct files_from *list, mode_t user_umask, unsigned force,
	    const struct src_remote *remote, struct run_outcome *out);

#endif
