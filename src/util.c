/* util.c - small utilities shared by every module. */
#include "util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "quote.h"

/* Nonzero while a progress bar may be drawn on stderr. */
static atomic_int bar_active;

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

void report_set_bar_active(int active)
{
	atomic_store(&bar_active, active);
}

/* Put the bar-clearing prefix, the name, the body and a newline in one write. */
void report_line(const char *body)
{
	output_sink_fn *sink = output_sink();
	const char *clear = atomic_load(&bar_active) ? "\r\033[K" : "";
	const char *parts[] = { clear, PROGRAM_NAME ": ", body, "\n" };
	char stackbuf[1024];
	size_t len = 0, at = 0;
	char *line;

	if (sink != NULL) {
		sink(STDERR_FILENO, body, strlen(body));
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		len += strlen(parts[i]);
	line = len <= sizeof(stackbuf) ? stackbuf : xmalloc(len);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		size_t n = strlen(parts[i]);

		memcpy(line + at, parts[i], n);
		at += n;
	}
	(void)write_all(STDERR_FILENO, line, len);
	if (line != stackbuf)
		free(line);
}

void report_path_error(const char *path, const char *reason)
{
	size_t len;
	char *name, *body;

	if (path == NULL) {
		report_line(reason);
		return;
	}
	name = quote_alloc(path, QUOTE_ALWAYS);
	len = strlen(name) + strlen(reason) + 3;
	body = xmalloc(len);
	snprintf(body, len, "%s: %s", name, reason);
	report_line(body);
	free(body);
	free(name);
}

void report_message(const char *fmt, ...)
{
	char body[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	report_line(body);
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
