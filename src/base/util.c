/* util.c - small utilities shared by every module. */
#include "base/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static void out_of_memory(void)
{
	static const char msg[] = PROGRAM_NAME ": out of memory\n";

	(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
	exit(2);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory();
	return p;
}

char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;

	return memcpy(xmalloc(len), s, len);
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

double monotonic_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned long long peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? (unsigned long long)ru.ru_maxrss : 0;
}

void close_both(int a, int b)
{
	int saved = errno;

	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	errno = saved;
}

const char *proc_fd_path(char buf[PROC_FD_PATH_MAX], int fd, const char *name)
{
	int n = name ? snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d/%s", fd, name)
		     : snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);

	return n > 0 && (size_t)n < PROC_FD_PATH_MAX ? buf : NULL;
}
