/* task.c - a thread's scheduler state and times, from /proc (task.h). */
#include "base/task.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Read a small /proc file into buf, NUL-terminated; its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	const char *paren;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	/* "tid (comm) S ...": comm may hold anything, even ") ". */
	paren = strrchr(buf, ')');
	return paren != NULL && paren[1] == ' ' ? (unsigned char)paren[2] : 0;
}

int task_schedstat(pid_t pid, pid_t tid, uint64_t *run_ns, uint64_t *runq_ns)
{
	unsigned long long run, wait;
	char path[64], buf[128];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if (read_small(path, buf, sizeof(buf)) <= 0 || sscanf(buf, "%llu %llu", &run, &wait) != 2)
		return -1;
	*run_ns = run;
	*runq_ns = wait;
	return 0;
}
