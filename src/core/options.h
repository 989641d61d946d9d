/* options.h - what the user asked for: the command line as a plain struct (cli/args.c parses it). */
#ifndef PCOPY_OPTIONS_H
#define PCOPY_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* --mode: how workers run (main turns it into a kind, core/kind.h). */
enum worker_mode {
	MODE_THREAD,  /* pthreads in this process */
	MODE_PROCESS, /* forked processes sharing the queue by mmap */
};

/* How progress is shown on stderr. */
enum progress_style {
	PROGRESS_AUTO, /* bar on a terminal, none otherwise (resolved in main) */
	PROGRESS_NONE,
	PROGRESS_BAR,
	PROGRESS_PLAIN,
	PROGRESS_JSON,
};

/* The end-of-run summary. */
enum stats_style {
	STATS_NONE,
	STATS_TEXT, /* key: value lines on stderr */
	STATS_JSON, /* one object on stdout */
};

/* What to do with a file that changes each time it is copied (--changing). */
enum changing_policy {
	CHANGING_FAIL, /* report it, leave nothing under its name (the default) */
	CHANGING_COPY, /* keep the last copy, with a warning */
};

/* -i, --itemize-changes: one line per changed entry on stdout. */
enum itemize_style {
	ITEMIZE_NONE,
	ITEMIZE_TEXT, /* "XY PATH" (change.h) */
	ITEMIZE_JSON, /* one object per line */
};

/* Parts of the metadata that are preserved (all by default). */
enum preserve_bits {
	PRESERVE_MODE = 1 << 0,
	PRESERVE_OWNERSHIP = 1 << 1,
	PRESERVE_TIMESTAMPS = 1 << 2,
	PRESERVE_LINKS = 1 << 3,
	PRESERVE_XATTR = 1 << 4,
	PRESERVE_ALL = (1 << 5) - 1,
};

/* Which existing DST entries are replaced (-u, --update=WHEN). */
enum update_mode {
	UPDATE_ALL,     /* every one: the default */
	UPDATE_OLDER,   /* only when SRC's mtime is newer (-u, as GNU cp) */
	UPDATE_NONE,    /* never: existing entries are left alone */
	UPDATE_CHANGED, /* rsync's quick check: type, size or mtime differ */
};

/*
 * Defaults, chosen by measurement (bench/RESULTS.md, "Worker count, queue
 * and mode"): as many workers as online CPUs, within [MIN_DEFAULT_JOBS,
 * MAX_DEFAULT_JOBS].
 */
#define MIN_DEFAULT_JOBS 2
#define MAX_DEFAULT_JOBS 8
/*
 * Without -j the pool starts at the default and may grow to this many
 * workers while they wait on the device (run/adapt.h).
 */
#define ADAPTIVE_MAX_JOBS 32
#define DEFAULT_QUEUE 256
#define MAX_JOBS 1024
#define MAX_QUEUE 65536
/* Most --link-dest directories searched (rsync's limit). */
#define LINK_DEST_MAX 20

/* One --exclude, --include, --exclude-from or --include-from. */
struct filter_arg {
	const char *arg; /* the pattern, or the file of patterns ("-": stdin) */
	bool include;    /* --include or --include-from */
	bool from_file;  /* --exclude-from or --include-from */
	bool listed;     /* --listed (what a client tells its server): a path of
			    its --files-from list, for the filter's list */
};

struct options {
	char *const *srcs;             /* SRC operands (argv's) */
	int nsrcs;                     /* how many: 1, or more into a directory */
	const char *dst;               /* DST operand (the last one) */
	int jobs;                      /* -j: number of workers (at the start) */
	int jobs_max;                  /* most workers: jobs, unless adaptive */
	bool jobs_adaptive;            /* no -j: the pool may grow to jobs_max */
	enum worker_mode mode;         /* --mode */
	size_t queue;                  /* --queue: capacity in jobs */
	enum progress_style progress;  /* --progress, -P */
	enum stats_style stats;        /* --stats */
	unsigned preserve;             /* enum preserve_bits */
	enum update_mode update;       /* -u, --update */
	enum changing_policy changing; /* --changing */
	enum itemize_style itemize;    /* -i, --itemize-changes */
	bool verbose;                  /* -v */
	bool dry_run;                  /* -n */
	bool one_file_system;          /* -x */
	bool dereference;              /* -L */
	bool no_target_directory;      /* -T */
	struct filter_arg *filters;    /* filter options in command-line order
					 (malloc'd: options_free) */
	size_t nfilters;               /* how many */
	const char *files_from;        /* --files-from: FILE, or NULL */
	bool from0;                    /* -0: lists in files are NUL-separated */
	bool fsync;                    /* --fsync: all written is durable at exit 0 */

	/* Comparing with what exists: -c, --link-dest. */
	bool checksum;     /* -c: --update=changed also compares contents */
	bool update_given; /* -u or --update was on the command line */
	int nlink_dests;   /* how many --link-dest DIRs */
	/* The --link-dest DIRs, in command-line order (argv's). */
	const char *link_dests[LINK_DEST_MAX];
	bool delete_extraneous; /* --delete: remove what SRC does not have */
	bool delete_excluded;   /* --delete-excluded: excluded entries too */

	/* A remote copy (HOST:PATH operands: transport/remote.h). */
	const char *rsh;            /* -e, --rsh: the command that reaches HOST */
	const char *remote_pcopy;   /* --remote-pcopy: pcopy's path there */
	int streams;                /* --streams: connections, 1..64 */
	bool streams_given;         /* it was given: else a default from the CPUs of
				       both machines (remote_default_streams) */
	unsigned long long bwlimit; /* --bwlimit: bytes of file data a second, or 0 */
	bool partial;               /* --partial: keep, and resume, what arrived of a
				       file whose copy was cut (path.h's partial name) */
	int umask;                  /* --umask (what a client tells its server): the
				     user's umask there, or -1: this process's */
};

/* --streams: the default and the most. */
#define DEFAULT_STREAMS 4
#define MAX_STREAMS 64

#endif
