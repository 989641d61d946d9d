/* util.h - small utilities: allocation that dies on failure, writing, clocks. */
#ifndef PCOPY_UTIL_H
#define PCOPY_UTIL_H

#include <limits.h>
#include <stddef.h>

#define PROGRAM_NAME "pcopy"
#define PCOPY_VERSION "0.1.0"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: print a message and exit(2) on out-of-memory. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);

/* Write all of buf to fd, retrying short writes and EINTR.  0 or -1. */
int write_all(int fd, const void *buf, size_t len);

/* Monotonic clock in seconds. */
double monotonic_seconds(void);

/* The most resident memory this process has held so far, in KiB (0: unknown). */
unsigned long long peak_rss_kib(void);

/* Close each of a and b that is an fd (>= 0), leaving errno as it was. */
void close_both(int a, int b);

/* Longest path proc_fd_path makes, with its NUL. */
#define PROC_FD_PATH_MAX (sizeof("/proc/self/fd/") + 12 + NAME_MAX + 1)

/*
 * "/proc/self/fd/FD", or with `name` "/proc/self/fd/FD/NAME": a path to an
 * open fd, or to a name in an open directory, for calls that take no fd.
 * Returns buf, or NULL when it does not fit.
 */
const char *proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd, const char *name);

#endif
