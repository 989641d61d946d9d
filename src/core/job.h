/* job.h - the fixed-size, pointer-free record the walker hands to workers. */
#ifndef PCOPY_JOB_H
#define PCOPY_JOB_H

#include <stddef.h>
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

/*
 * What was read of a source entry on another machine (a remote copy,
 * transport/remote.h), where a local copy reads the entry itself.  Each
 * part may be absent (NULL) when the copy does not need it.
 */
struct src_meta {
	const char *link_target;     /* a symbolic link's target (NUL-terminated) */
	const unsigned char *xattrs; /* its extended attributes, ACLs among them, */
	size_t xattrs_len;           /* packed as copy/xattr.h's xattr_list */
	int has_xattrs;              /* 0: they were not read (not asked for) */
	const unsigned char *hash;   /* -c: XXH3-128 of a regular file's data (16 bytes) */
};

#define SRC_META_HASH_SIZE 16

/*
 * The packed form of a src_meta, in a job record or a listing: u8 parts
 * (bits: 1 target, 2 xattrs, 4 hash), then for each part present in that
 * order: the target as u32 length and bytes with its NUL, the xattrs as u32 length and
 * bytes, the hash's 16 bytes.  Little-endian.
 */
/* Bytes m packs into. */
size_t src_meta_size(const struct src_meta *m);
/* Pack m into out (src_meta_size bytes). */
void src_meta_pack(const struct src_meta *m, unsigned char *out);
/*
 * Read a packed src_meta of len bytes, m pointing into buf.  0, or -1 when
 * the bytes are not one (they may come from another machine).  The
 * xattrs are checked by whoever applies them (xattr.h).
 */
int src_meta_unpack(const unsigned char *buf, size_t len, struct src_meta *m);

/* Record size: a page, so a queue of a few hundred costs about a MiB. */
#define JOB_RECORD_SIZE 4096
#define JOB_HEADER_SIZE (sizeof(uint32_t) * 4 + sizeof(uint64_t) + sizeof(struct entry_stat))
/* Longest relative path a record carries, with its NUL. */
#define JOB_PATH_MAX (JOB_RECORD_SIZE - JOB_HEADER_SIZE)

/*
 * One unit of work.  `path` is relative to both the source and the
 * destination root (the same relative path on each side); the worker opens
 * it beneath its root fds.  No pointers, so it can live in shared memory.
 */
struct job {
	uint32_t kind;     /* enum job_kind */
	uint32_t path_len; /* strlen(path) */
	uint32_t meta_len; /* a remote source: bytes of packed src_meta
				    after the path's NUL, else 0 */
	uint32_t reserved;
	uint64_t seq;            /* walk order (JOB_UNSTATED only) */
	struct entry_stat st;    /* the walker's view of the source entry
				    (JOB_UNSTATED: zero) */
	char path[JOB_PATH_MAX]; /* relative path, NUL-terminated (then meta_len
				    bytes of packed src_meta) */
};

_Static_assert(sizeof(struct job) == JOB_RECORD_SIZE, "job record size");

/* The job that copies an entry of type `mode` (not a directory). */
enum job_kind kind_of_mode(mode_t mode);

/* Fill an entry_stat from a struct stat. */
void entry_stat_from(struct entry_stat *out, const struct stat *st);

#endif
