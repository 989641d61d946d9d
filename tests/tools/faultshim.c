/*
 * faultshim.c - an LD_PRELOAD fault injector for pcopy's fault tests.
 *
 * Build: cc -shared -fPIC -o faultshim.so faultshim.c -ldl
 * Use:   LD_PRELOAD=/abs/faultshim.so FAULT_OP=write FAULT_NTH=3 FAULT_ERRNO=EIO pcopy ...
 *
 * Configuration (environment, read once at load time):
 *   FAULT_OP=write|read|copy_file_range|sendfile|open|opendir|readlink|fsync|close
 *       which calls are candidates: write = write/pwrite/pwrite64,
 *       read = read/pread/pread64, copy_file_range, sendfile =
 *       sendfile/sendfile64, open = open/openat
 *       (and the *64 aliases) of an existing file for reading, opendir =
 *       the same opens of a directory (O_DIRECTORY, not O_PATH), readlink =
 *       readlink/readlinkat, fsync = fsync/fdatasync/syncfs (regular files
 *       only, unless FAULT_ANY_FD: syncfs takes a directory), close = close
 *       of a regular file open for writing (O_WRONLY or O_RDWR, as
 *       fcntl(F_GETFL) tells before the close; an O_TMPFILE file, not linked
 *       yet, reads "DIR/#123 (deleted)" in /proc/self/fd).
 *   FAULT_NTH=N       fire on the N-th candidate call only, or
 *   FAULT_EVERY=N     fire on every N-th candidate call; neither: every call.
 *   FAULT_ERRNO=EIO|ENOSPC|EFBIG|EDQUOT|EACCES|... (or a number)
 *                     a firing call fails with -1 and that errno, doing nothing;
 *                     but a firing close really closes the fd first, then
 *                     returns -1 with that errno (as NFS reports a delayed
 *                     write error at close).
 *   FAULT_SHORT=1     a firing write/read/copy_file_range/sendfile asks the kernel for half
 *                     the bytes (at least 1): a real short transfer, the data that
 *                     is transferred is correct.
 *   FAULT_ACTION=unlink|shrink|grow|rewrite|dir|fifo|symlink
 *                     before a firing call, change the file it is about (for read
 *                     copy_file_range and sendfile the file read from, for open, opendir
 *                     and readlink the path): remove it (a directory with all
 *                     inside it), truncate it to half its size, append
 *                     64 KiB, overwrite its first 64 KiB with zeros in place (same
 *                     size), or replace it by a directory, a FIFO or a symlink
 *                     (to FAULT_LINK_TARGET, default /etc/passwd). Then the call
 *                     runs (or fails, if FAULT_ERRNO is also set).
 *   FAULT_DELAY_US=N  sleep N microseconds before a firing call (to slow a copy).
 *   FAULT_PATH_SUBSTR=S  only fds whose /proc/self/fd link contains S (for
 *                     copy_file_range and sendfile: either fd), or for open a path argument
 *                     containing S.
 *   FAULT_ANY_FD=1    also fds that are not regular files (pipes, sockets...);
 *                     by default only regular files are candidates, so that
 *                     pcopy's own pipes are left alone. fds 0-2 never are.
 *   FAULT_LOG=FILE    append one line per firing call to FILE.
 *
 * Candidate calls are counted with one atomic counter in a MAP_SHARED page
 * made at load time, so the count is shared by the process and every child
 * it forks: FAULT_NTH hits once per pcopy run in thread and process mode.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum op {
	OP_NONE,
	OP_WRITE,
	OP_READ,
	OP_CFR,
	OP_OPEN,
	OP_OPENDIR,
	OP_READLINK,
	OP_FSYNC,
	OP_SENDFILE,
	OP_CLOSE
};
enum action {
	ACT_NONE,
	ACT_UNLINK,
	ACT_SHRINK,
	ACT_GROW,
	ACT_REWRITE,
	ACT_DIR,
	ACT_FIFO,
	ACT_SYMLINK
};

static struct {
	enum op op;              /* calls that are candidates */
	long nth;                /* fire on this candidate only (0: unused) */
	long every;              /* fire on every every-th candidate (0: unused) */
	int err;                 /* errno to fail with (0: do not fail) */
	int shortio;             /* halve the byte count */
	enum action action;      /* change the file first */
	long delay_us;           /* sleep first */
	const char *substr;      /* fd link / path filter (NULL: none) */
	const char *link_target; /* target for ACT_SYMLINK */
	const char *log;         /* log file (NULL: none) */
	int any_fd;              /* also non-regular fds */
} cfg;

static atomic_long private_counter;
static atomic_long *counter = &private_counter; /* shared after init */
static _Thread_local int busy;                  /* inside the shim's own calls */

/* The real functions, found with dlsym(RTLD_NEXT) on first use. */
#define REAL(name)                            \
	static __typeof__(name) *real_##name; \
	if (!real_##name)                     \
	real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

static int errno_by_name(const char *s)
{
	static const struct {
		const char *name;
		int value;
	} names[] = {
		{ "EIO", EIO },
		{ "ENOSPC", ENOSPC },
		{ "EFBIG", EFBIG },
		{ "EDQUOT", EDQUOT },
		{ "EACCES", EACCES },
		{ "EPERM", EPERM },
		{ "EINTR", EINTR },
		{ "EAGAIN", EAGAIN },
		{ "ENOMEM", ENOMEM },
		{ "EXDEV", EXDEV },
		{ "ENOSYS", ENOSYS },
		{ "EINVAL", EINVAL },
		{ "EOPNOTSUPP", EOPNOTSUPP },
		{ "EROFS", EROFS },
		{ "ENOENT", ENOENT },
		{ "ESTALE", ESTALE },
		{ "EBADF", EBADF },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].value;
	return atoi(s);
}

static long env_long(const char *name)
{
	const char *s = getenv(name);
	return s ? atol(s) : 0;
}

__attribute__((constructor)) static void faultshim_init(void)
{
	static const char *ops[] = { "",        "write",    "read",  "copy_file_range", "open",
				     "opendir", "readlink", "fsync", "sendfile",        "close" };
	static const char *acts[] = { "",        "unlink", "shrink", "grow",
				      "rewrite", "dir",    "fifo",   "symlink" };
	const char *s;

	if ((s = getenv("FAULT_OP")))
		for (size_t i = 1; i < sizeof ops / sizeof ops[0]; i++)
			if (strcmp(s, ops[i]) == 0)
				cfg.op = (enum op)i;
	if ((s = getenv("FAULT_ACTION")))
		for (size_t i = 1; i < sizeof acts / sizeof acts[0]; i++)
			if (strcmp(s, acts[i]) == 0)
				cfg.action = (enum action)i;
	if ((s = getenv("FAULT_ERRNO")))
		cfg.err = errno_by_name(s);
	cfg.nth = env_long("FAULT_NTH");
	cfg.every = env_long("FAULT_EVERY");
	cfg.shortio = env_long("FAULT_SHORT") != 0;
	cfg.delay_us = env_long("FAULT_DELAY_US");
	cfg.any_fd = env_long("FAULT_ANY_FD") != 0;
	cfg.substr = getenv("FAULT_PATH_SUBSTR");
	cfg.log = getenv("FAULT_LOG");
	cfg.link_target = getenv("FAULT_LINK_TARGET");
	if (!cfg.link_target)
		cfg.link_target = "/etc/passwd";

	/* One counter for this process and all its forked children. */
	void *p = mmap(NULL, sizeof(atomic_long), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		counter = p;
		atomic_init(counter, 0);
	}
}

/* Is fd a candidate by number and type? Puts its /proc/self/fd link into link. */
static int fd_candidate(int fd, char *link, size_t size)
{
	char proc[64];
	struct stat st;
	ssize_t n;

	link[0] = '\0';
	if (fd >= 0 && fd <= 2)
		return 0;
	if (!cfg.any_fd && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
		return 0;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	n = readlink(proc, link, size - 1);
	link[n > 0 ? n : 0] = '\0';
	return 1;
}

static int path_matches(const char *path)
{
	return !cfg.substr || strstr(path, cfg.substr) != NULL;
}

/* Count a candidate call; does this one fire? */
static int count_fires(void)
{
	long n = atomic_fetch_add(counter, 1) + 1;

	if (cfg.nth)
		return n == cfg.nth;
	if (cfg.every)
		return n % cfg.every == 0;
	return 1;
}

static void log_fire(const char *call, const char *what)
{
	char line[PATH_MAX + 128];
	int fd, len;

	if (!cfg.log)
		return;
	len = snprintf(line, sizeof line, "faultshim: pid %ld: %s on %s\n", (long)getpid(), call,
		       what);
	if (len >= (int)sizeof line)
		len = sizeof line - 1;
	fd = open(cfg.log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t ignored = write(fd, line, (size_t)len); /* best effort */
		(void)ignored;
		close(fd);
	}
}

/* Remove (dirfd, path), a directory with everything inside it too. */
static void remove_tree_at(int at, const char *path)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (unlinkat(at, path, 0) == 0 || (errno != EISDIR && errno != EPERM))
		return;
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			remove_tree_at(dirfd(d), de->d_name);
	closedir(d);
	unlinkat(at, path, AT_REMOVEDIR);
}

/* Change the file (dirfd, path) as FAULT_ACTION says; best effort, the test
 * checks what pcopy made of it. */
static void do_action(int dirfd, const char *path)
{
	static const char grow[65536];
	struct stat st;
	int fd, ignored;

	switch (cfg.action) {
	case ACT_NONE: break;
	case ACT_UNLINK: remove_tree_at(dirfd, path); break;
	case ACT_SHRINK:
		fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && fstat(fd, &st) == 0)
			ignored = ftruncate(fd, st.st_size / 2);
		if (fd >= 0)
			close(fd);
		break;
	case ACT_GROW:
		fd = openat(dirfd, path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd >= 0)
			ignored = (int)write(fd, grow, sizeof grow);
		if (fd >= 0)
			close(fd);
		break;
	case ACT_REWRITE:
		fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0)
			ignored = (int)pwrite(fd, grow, sizeof grow, 0);
		if (fd >= 0)
			close(fd);
		break;
	case ACT_DIR:
		unlinkat(dirfd, path, 0);
		mkdirat(dirfd, path, 0755);
		break;
	case ACT_FIFO:
		unlinkat(dirfd, path, 0);
		mkfifoat(dirfd, path, 0644);
		break;
	case ACT_SYMLINK:
		unlinkat(dirfd, path, 0);
		ignored = symlinkat(cfg.link_target, dirfd, path);
		break;
	}
	(void)ignored;
}

/*
 * Decide for one call: returns -1 (with errno set) if the call must fail,
 * else 0, possibly after sleeping, changing the file and halving *count.
 * fd2 is copy_file_range's or sendfile's other fd (-1 otherwise); path is open's path.
 */
static int inject(enum op op, const char *call, int fd, int fd2, const char *path, size_t *count)
{
	char link[PATH_MAX], link2[PATH_MAX];
	int match, saved_errno = errno; /* a call that succeeds keeps errno */

	if (cfg.op != op || busy)
		return 0;
	busy = 1;
	if (op == OP_OPEN || op == OP_OPENDIR || op == OP_READLINK) {
		snprintf(link, sizeof link, "%s", path);
		match = path_matches(link);
	} else if (fd2 >= 0) { /* copy_file_range, sendfile: both fds candidates, either matches */
		match = fd_candidate(fd, link, sizeof link) &&
			fd_candidate(fd2, link2, sizeof link2) &&
			(path_matches(link) || path_matches(link2));
	} else {
		match = fd_candidate(fd, link, sizeof link) && path_matches(link);
	}
	if (!match || !count_fires()) {
		busy = 0;
		errno = saved_errno;
		return 0;
	}
	log_fire(call, link);
	if (cfg.delay_us > 0) {
		struct timespec ts = { cfg.delay_us / 1000000, cfg.delay_us % 1000000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (cfg.action != ACT_NONE)
		do_action(op == OP_OPEN || op == OP_OPENDIR || op == OP_READLINK ? fd : AT_FDCWD,
			  link);
	busy = 0;
	if (cfg.err) {
		errno = cfg.err;
		return -1;
	}
	if (cfg.shortio && count && *count > 1)
		*count /= 2;
	errno = saved_errno;
	return 0;
}

ssize_t write(int fd, const void *buf, size_t count)
{
	REAL(write);
	if (inject(OP_WRITE, "write", fd, -1, NULL, &count) < 0)
		return -1;
	return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)
{
	REAL(pwrite);
	if (inject(OP_WRITE, "pwrite", fd, -1, NULL, &count) < 0)
		return -1;
	return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off64_t offset)
{
	REAL(pwrite64);
	if (inject(OP_WRITE, "pwrite64", fd, -1, NULL, &count) < 0)
		return -1;
	return real_pwrite64(fd, buf, count, offset);
}

ssize_t read(int fd, void *buf, size_t count)
{
	REAL(read);
	if (inject(OP_READ, "read", fd, -1, NULL, &count) < 0)
		return -1;
	return real_read(fd, buf, count);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
	REAL(pread);
	if (inject(OP_READ, "pread", fd, -1, NULL, &count) < 0)
		return -1;
	return real_pread(fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off64_t offset)
{
	REAL(pread64);
	if (inject(OP_READ, "pread64", fd, -1, NULL, &count) < 0)
		return -1;
	return real_pread64(fd, buf, count, offset);
}

ssize_t copy_file_range(int fd_in, off64_t *off_in, int fd_out, off64_t *off_out, size_t len,
			unsigned int flags)
{
	REAL(copy_file_range);
	if (inject(OP_CFR, "copy_file_range", fd_in, fd_out, NULL, &len) < 0)
		return -1;
	return real_copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
}

ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
	REAL(sendfile);
	if (inject(OP_SENDFILE, "sendfile", in_fd, out_fd, NULL, &count) < 0)
		return -1;
	return real_sendfile(out_fd, in_fd, offset, count);
}

ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
	REAL(sendfile64);
	if (inject(OP_SENDFILE, "sendfile64", in_fd, out_fd, NULL, &count) < 0)
		return -1;
	return real_sendfile64(out_fd, in_fd, offset, count);
}

/*
 * open: only opens of an existing file for reading are candidates, of a
 * directory for opendir.  Which op an open is, or OP_NONE.
 */
static enum op open_op(int flags)
{
	/* glibc's __O_TMPFILE holds O_DIRECTORY's bit: test the whole of it. */
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_PATH)) ||
	    (flags & __O_TMPFILE) == __O_TMPFILE)
		return OP_NONE;
	return flags & O_DIRECTORY ? OP_OPENDIR : OP_OPEN;
}

#define OPEN_MODE(flags, mode)                           \
	do {                                             \
		if ((flags) & (O_CREAT | __O_TMPFILE)) { \
			va_list ap;                      \
			va_start(ap, flags);             \
			mode = va_arg(ap, mode_t);       \
			va_end(ap);                      \
		}                                        \
	} while (0)

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	REAL(openat);
	OPEN_MODE(flags, mode);
	if (open_op(flags) != OP_NONE &&
	    inject(open_op(flags), "openat", dirfd, -1, path, NULL) < 0)
		return -1;
	return real_openat(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;
	REAL(openat64);
	OPEN_MODE(flags, mode);
	if (open_op(flags) != OP_NONE &&
	    inject(open_op(flags), "openat64", dirfd, -1, path, NULL) < 0)
		return -1;
	return real_openat64(dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	REAL(open);
	OPEN_MODE(flags, mode);
	if (open_op(flags) != OP_NONE &&
	    inject(open_op(flags), "open", AT_FDCWD, -1, path, NULL) < 0)
		return -1;
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	REAL(open64);
	OPEN_MODE(flags, mode);
	if (open_op(flags) != OP_NONE &&
	    inject(open_op(flags), "open64", AT_FDCWD, -1, path, NULL) < 0)
		return -1;
	return real_open64(path, flags, mode);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	REAL(readlinkat);
	if (inject(OP_READLINK, "readlinkat", dirfd, -1, path, NULL) < 0)
		return -1;
	return real_readlinkat(dirfd, path, buf, size);
}

ssize_t readlink(const char *path, char *buf, size_t size)
{
	REAL(readlink);
	if (inject(OP_READLINK, "readlink", AT_FDCWD, -1, path, NULL) < 0)
		return -1;
	return real_readlink(path, buf, size);
}

int fsync(int fd)
{
	REAL(fsync);
	if (inject(OP_FSYNC, "fsync", fd, -1, NULL, NULL) < 0)
		return -1;
	return real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	if (inject(OP_FSYNC, "fdatasync", fd, -1, NULL, NULL) < 0)
		return -1;
	return real_fdatasync(fd);
}

int syncfs(int fd)
{
	REAL(syncfs);
	if (inject(OP_FSYNC, "syncfs", fd, -1, NULL, NULL) < 0)
		return -1;
	return real_syncfs(fd);
}

/*
 * close: only a regular file open for writing is a candidate.  A firing
 * close closes the fd for real (after the delay), then fails with FAULT_ERRNO
 * if set: the fd is gone either way, as after any close(2).
 */
int close(int fd)
{
	char link[PATH_MAX];
	int flags, ret, saved_errno = errno;

	REAL(close);
	if (cfg.op != OP_CLOSE || busy || fd < 0)
		return real_close(fd);
	busy = 1;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY || !fd_candidate(fd, link, sizeof link) ||
	    !path_matches(link) || !count_fires()) {
		busy = 0;
		errno = saved_errno;
		return real_close(fd);
	}
	log_fire("close", link);
	if (cfg.delay_us > 0) {
		struct timespec ts = { cfg.delay_us / 1000000, cfg.delay_us % 1000000 * 1000 };
		nanosleep(&ts, NULL);
	}
	busy = 0;
	ret = real_close(fd);
	if (cfg.err) {
		errno = cfg.err;
		return -1;
	}
	return ret;
}
