/* job.h - the fixed-size, pointer-free record the walker hands to workers. */
#ifndef PCOPY_JOB_H
#define PCOPY_JOB_H

#include <stdint.h>
#include <sys/stat.h>

/* What a job asks a worker to do. */
enum job_kind {
	JOB_REGULAR = 1, /* copy a regular file's data and metadata */
	JOB_SYMLINK,     /* recreate a symbolic link */
	JOB_SPECIAL,     /* recreate a FIFO, socket or device node */
	JOB_UNSTATED,    /* a name readdir says is a regular file, not yet
			    stat'ed: the worker stats it, then copies it as
			    what it is (spill.h tells why) */
};

/*
 * The part of struct stat a copy needs, fixed-width so the record means the
 * same thing in every process.  Filled by the walker from fstatat().
 */
struct entry_stat {
	uint64_t dev;      /* device of the source entry */
	uint64_t ino;      /* inode of the source entry */
	uint64_t size;     /* st_size */
	uint64_t blocks;   /* st_blocks, 512-byte units: tells sparse files */
	uint64_t rdev;     /* device number of a device node */
	int64_t atime_sec; /* access time */
	int64_t atime_nsec;
	int64_t mtime_sec; /* modification time */
	int64_t mtime_nsec;
	int64_t ctime_sec; /* status change time: moved by chmod, chown, setxattr */
	int64_t ctime_nsec;
	uint32_t mode;  /* st_mode: type and permission bits */
	uint32_t uid;   /* owner */
	uint32_t gid;   /* group */
	uint32_t nlink; /* link count: >1 means a hard-link candidate */
};

/* Record size: a page, so a queue of a few hundred costs about a MiB. */
#define JOB_RECORD_SIZE 4096
#define JOB_HEADER_SIZE (sizeof(uint32_t) * 2 + sizeof(uint64_t) + sizeof(struct entry_stat))
/* Longest relative path a record carries, with its NUL. */
#define JOB_PATH_MAX (JOB_RECORD_SIZE - JOB_HEADER_SIZE)

/*
 * One unit of work.  `path` is relative to both the source and the
 * destination root (the same relative path on each side); the worker opens
 * it beneath its root fds.  No pointers, so it can live in shared memory.
 */
struct job {
	uint32_t kind;           /* enum job_kind */
	uint32_t path_len;       /* strlen(path) */
	uint64_t seq;            /* walk order (JOB_UNSTATED only) */
	struct entry_stat st;    /* the walker's view of the source entry
				    (JOB_UNSTATED: zero) */
	char path[JOB_PATH_MAX]; /* relative path, NUL-terminated */
};

_Static_assert(sizeof(struct job) == JOB_RECORD_SIZE, "job record size");

/* The job that copies an entry of type `mode` (not a directory). */
enum job_kind kind_of_mode(mode_t mode);

/* Fill an entry_stat from a struct stat. */
void entry_stat_from(struct entry_stat *out, const struct stat *st);

#endif
