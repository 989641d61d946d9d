/* session.h - what every part of one pcopy run shares. */
#ifndef PCOPY_SESSION_H
#define PCOPY_SESSION_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/job.h"
#include "core/options.h"

struct durable;
struct worker_kind;
struct dst_ops;
struct walk_source;
struct files_from;
struct filter;

/* PCOPY_FORCE flags: force the fallback paths (and growth), for tests. */
enum force_flags {
	FORCE_NO_TMPFILE = 1 << 0,         /* named temporaries instead of O_TMPFILE */
	FORCE_NO_COPY_FILE_RANGE = 1 << 1, /* read/write instead of copy_file_range (or sendfile) */
	FORCE_NO_OPENAT2 = 1 << 2,         /* per-component O_NOFOLLOW walk */
	FORCE_WALKER_STATS = 1 << 3,       /* the walker stats every entry (no JOB_UNSTATED) */
	FORCE_ADAPT_GROW = 1 << 4,         /* no -j: the pool grows whatever the device */
	FORCE_CROSS_FS = 1 << 5,           /* copy_file_range refuses, as across file systems */
	FORCE_WALKER_LISTS = 1 << 6,       /* pcopy-mpi: rank 0 reads every directory itself */
	FORCE_SPLIT_ALL = 1 << 7,          /* every file of two pages or more is copied as ranges */
	FORCE_ONE_STREAM = 1 << 8,         /* no file is copied as ranges, not even a cold one */
	FORCE_WORKERS_JUDGE = 1 << 9,      /* pcopy-mpi: listers leave every file to a job */
};

/* Longest name of a named temporary, with its NUL. */
#define TMPNAME_MAX 64
/* Prefix of named temporaries; nothing with it survives a run. */
#define TMPNAME_PREFIX ".pcopy-tmp."

/*
 * One worker's window, in memory the parent can read (shared in process
 * mode).  Counters are written by the owner only and read by the parent's
 * monitor for progress; `job` and `tmpname` tell the parent what a killed
 * worker was doing.  Aligned so two workers never share a cache line.
 */
struct worker_slot {
	_Atomic int busy;                 /* `job` is in flight */
	_Atomic uint64_t entries_done;    /* non-directory entries finished (ok or not) */
	_Atomic uint64_t bytes_done;      /* bytes of finished entries (for progress) */
	_Atomic uint64_t bytes_inflight;  /* bytes of the current file copied so far */
	_Atomic uint64_t bytes_skipped;   /* bytes of finished files --update did not copy */
	_Atomic uint64_t files;           /* regular files copied */
	_Atomic uint64_t symlinks;        /* symbolic links copied */
	_Atomic uint64_t specials;        /* fifos, sockets, devices copied */
	_Atomic uint64_t hardlinks;       /* hard links made */
	_Atomic uint64_t dirs;            /* directories copied */
	_Atomic uint64_t bytes;           /* regular-file bytes copied */
	_Atomic uint64_t errors;          /* error lines printed */
	_Atomic uint64_t vanished;        /* source entries gone before they were copied */
	_Atomic uint64_t unchanged;       /* entries --update left as they were */
	_Atomic uint64_t created;         /* entries made where DST had none (change.h) */
	_Atomic uint64_t updated;         /* entries whose data replaced DST's */
	_Atomic uint64_t meta_updated;    /* entries --update=changed fixed in place */
	_Atomic uint64_t linked;          /* files hard-linked from --link-dest */
	_Atomic uint64_t deleted;         /* entries --delete removed */
	_Atomic uint64_t split_files;     /* regular files copied as ranges at once (copy/data.c) */
	_Atomic uint64_t spilled;         /* bytes in this slot's spill region (spill.h) */
	_Atomic int tid;                  /* the worker's thread id while it runs, or 0 */
	_Atomic uint64_t idle_ns;         /* time the worker waited for a job */
	_Atomic uint64_t cpu_ns;          /* its CPU time, added when it exits */
	_Atomic uint64_t runq_ns;         /* time it waited for a CPU, added at exit */
	_Atomic uint64_t wait_ns;         /* time off CPU with a job: device, locks */
	_Atomic uint64_t dirs_listed;     /* pcopy-mpi: directories this rank read for the walk */
	_Atomic uint64_t entries_listed;  /* and the names in them (walk/broker.h) */
	_Atomic uint64_t judged;          /* and the regular files compared with DST there */
	_Atomic uint64_t listing_wait_ns; /* rank 0: its walker waited for listings */
	_Atomic uint64_t walker_cpu_ns;   /* rank 0: its walker's CPU time */
	_Atomic uint64_t peak_rss_kib;    /* pcopy-mpi: the rank's peak resident memory */
	char tmpname[TMPNAME_MAX];        /* named temporary in job's directory, or "" */
	struct job job;                   /* the job in flight */
} __attribute__((aligned(64)));

/*
 * The region shared by the parent and all workers: flags and one slot per
 * worker plus one for the parent (walker, inline copies, final metadata).
 */
struct shared_state {
	_Atomic int stop;                /* set on SIGINT/SIGTERM: stop promptly */
	_Atomic int stdout_error;        /* errno of the first failed write to stdout (output.c) */
	_Atomic uint64_t queued_entries; /* non-directory entries the walker found */
	_Atomic uint64_t queued_bytes;   /* their bytes */
	_Atomic int walk_done;           /* the walker has finished: totals are final */
	_Atomic int jobs_peak;           /* most workers running at once (run/pool.c) */
	/*
	 * Sticky fallbacks (copy/data.c), learnt by whichever worker meets the
	 * refusal first and kept for the whole run, in every worker process
	 * too; PCOPY_FORCE sets them at the start (copy_set_force).
	 */
	_Atomic int no_copy_file_range; /* copy_file_range refused a file with data */
	_Atomic int no_sendfile;        /* read/write: so did sendfile, after it */
	_Atomic int no_tmpfile;         /* named temporaries: O_TMPFILE is not supported */
	_Atomic int no_empty_path_link; /* link via /proc: linkat(AT_EMPTY_PATH) needs privilege */
	int nslots;                     /* workers + 1 */
	size_t map_size;                /* bytes mapped */
	struct worker_slot slots[];     /* [0, jobs_max) workers, then the parent */
};

struct copy_source;
struct src_meta;

/*
 * A source on another machine (transport/remote.h), as the run sees it:
 * its operands' roots, and where the data of the files the parent copies
 * itself comes from (the workers have their own: the kind's).
 */
struct src_remote {
	/*
	 * SRC operand i, now to be copied: its stat there into *st and what was
	 * read of it into *meta (valid until the next call).  0, or -1 with
	 * errno (the reason it could not be stat'ed there).
	 */
	int (*root)(void *ctx, int i, struct stat *st, const struct src_meta **meta);
	const struct copy_source *parent_source;
	void *ctx;
};

/* Everything a worker needs, immutable once the workers start. */
struct session {
	const struct options *opts;     /* parsed command line */
	const struct worker_kind *kind; /* how the workers run (kind.h) */
	const struct dst_ops *dst_ops;  /* how DST is reached (dst/dst.h) */
	int src_root;                   /* fd of the source directory (-1: remote) */
	/* A source on another machine, or NULL: then its root's stat there and
	   what was read of it. */
	const struct src_remote *remote;
	const struct stat *src_root_st;
	const struct src_meta *src_root_meta;
	int dst_root;                  /* local DST (dst/local.c): its directory's fd */
	const char *src_display;       /* SRC as the user wrote it, for messages */
	const char *dst_display;       /* target path, for -v */
	struct queue *queue;           /* walker -> workers */
	struct shared_state *shared;   /* slots and flags */
	const struct filter *filter;   /* --exclude/--include rules, or NULL */
	const struct files_from *list; /* --files-from paths, or NULL: all */
	struct durable *durable;       /* --fsync: file systems to sync (parent only), or NULL */
	int worker_stats;              /* regular files are stat'ed by the workers (JOB_UNSTATED) */
	int spill_fd;                  /* where they hand back multiply-linked ones (spill.h),
					or -1 when hard links are not kept */
	mode_t umask;                  /* the user's umask (ours is 0) */
	uid_t euid;                    /* effective ids, for ownership decisions */
	gid_t egid;
	gid_t *groups;    /* supplementary groups (malloc'd), for the same */
	int ngroups;      /* how many */
	unsigned force;   /* enum force_flags */
	int final_source; /* the last SRC: the end of its walk makes the totals final */
	/* Directories read for the walker by the workers (pool_listing), or NULL. */
	const struct walk_source *listing;
	int link_dest_roots[LINK_DEST_MAX]; /* local DST: the --link-dest DIRs opened */
	int nlink_dest_roots;               /* how many DIRs could be opened (dst_root_open) */
};

/*
 * Learn who runs the copy: its effective ids and supplementary groups,
 * which decide what a copy can keep (sync/plan.h).  Release with
 * session_ids_free.
 */
void session_ids_init(struct session *s);
void session_ids_free(struct session *s);

/* Map the shared state for up to `jobs` workers (MAP_SHARED when `shared`). */
struct shared_state *shared_state_create(int jobs, int shared);
void shared_state_destroy(struct shared_state *st);

/*
 * Stop the run promptly, as a stop signal does: set the flag every loop
 * checks and abort the queue so nobody sleeps on it.  Callable from a
 * worker thread or process.
 */
void session_stop(const struct session *s);

/* The parent's own slot. */
struct worker_slot *parent_slot(const struct session *s);

/*
 * Count one entry a dry run would have copied, as the copy itself would
 * (files and their bytes, symlinks or special files).
 */
void slot_count_dry_run(struct worker_slot *slot, enum job_kind kind, uint64_t size);

/* Parse PCOPY_FORCE. */
unsigned force_flags_from_env(void);

#endif
