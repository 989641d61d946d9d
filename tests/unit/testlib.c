/* testlib.c - fixtures and observations shared by the unit-test suites. */
#include "testlib.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Where scratch directories go: made by scratch_base_make, else /tmp. */
static char scratch_base[64] = "/tmp";

void scratch_base_make(void)
{
	char path[sizeof(scratch_base)] = "/tmp/pcopy-unit.XXXXXX";

	if (mkdtemp(path) != NULL)
		memcpy(scratch_base, path, sizeof(path));
}

void scratch_base_remove(void)
{
	if (strcmp(scratch_base, "/tmp") != 0)
		(void)remove_tree_at(AT_FDCWD, scratch_base);
}

void scratch_make(struct scratch *s)
{
	snprintf(s->path, sizeof(s->path), "%s/scratch.XXXXXX", scratch_base);
	ck_assert_ptr_nonnull(mkdtemp(s->path));
	s->fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(s->fd, 0);
}

void scratch_remove(struct scratch *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->path[0] != '\0')
		(void)remove_tree_at(AT_FDCWD, s->path);
	s->path[0] = '\0';
}

/* Remove everything inside the open directory `fd`, then close it. */
static int empty_directory(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (remove_tree_at(dirfd(d), de->d_name) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int remove_tree_at(int dirfd, const char *name)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || empty_directory(fd) < 0)
		return -1;
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

int write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	const char *p = data;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0) { /* the umask may have taken bits away */
		close(fd);
		return -1;
	}
	return close(fd);
}

char *read_file_at(int dirfd, const char *name, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t cap = 4096, used = 0;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	while (buf != NULL && (n = read(fd, buf + used, cap - used)) > 0) {
		used += (size_t)n;
		if (used == cap) {
			char *bigger = realloc(buf, cap * 2);

			if (bigger == NULL)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
	}
	close(fd);
	*len = used;
	return buf;
}

void fill_pattern(unsigned char *buf, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
}

double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void test_pause(double seconds)
{
	struct timespec ts = {
		.tv_sec = (time_t)seconds,
		.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int task_in_futex(pid_t pid, pid_t tid)
{
	char path[64], text[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	/* "202 0x... ..." while blocked in a syscall, "running" otherwise. */
	return strtol(text, NULL, 10) == SYS_futex && text[0] != 'r';
}

int wait_task_in_futex(pid_t pid, pid_t tid, double timeout)
{
	double end = test_now() + timeout;
	int streak = 0;

	while (test_now() < end) {
		streak = task_in_futex(pid, tid) ? streak + 1 : 0;
		if (streak >= 3)
			return 1;
		test_pause(0.005);
	}
	return 0;
}

int wait_flag(_Atomic int *flag, double timeout)
{
	double end = test_now() + timeout;

	while (!atomic_load(flag)) {
		if (test_now() >= end)
			return 0;
		test_pause(0.001);
	}
	return 1;
}

int wait_child(pid_t pid, double timeout)
{
	double end = test_now() + timeout;
	int status;
	pid_t got;

	while ((got = waitpid(pid, &status, WNOHANG)) == 0) {
		if (test_now() >= end) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return -1;
		}
		test_pause(0.001);
	}
	if (got < 0)
		return -1;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

void child_die_with_parent(void)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}
