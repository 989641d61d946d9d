/* testlib.h - fixtures and observations shared by the unit-test suites. */
#ifndef PCOPY_TESTLIB_H
#define PCOPY_TESTLIB_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

/* Seconds every wait in the tests gives up after (valgrind is slow). */
#define TEST_WAIT_S 60.0

/* A scratch directory under /tmp: its path and an open fd on it. */
struct scratch {
	char path[128];
	int fd;
};

/*
 * Make the directory every scratch directory of this run goes in, and remove
 * it with all inside once the run is over, so a test that fails (and so
 * skips its teardown in its forked process) leaves nothing in /tmp.
 */
void scratch_base_make(void);
void scratch_base_remove(void);

/* Make a fresh scratch directory; ck_asserts on failure. */
void scratch_make(struct scratch *s);
/* Remove it with everything inside, however deep. */
void scratch_remove(struct scratch *s);

/* Remove `name` in `dirfd` and, for a directory, all below it.  0 or -1. */
int remove_tree_at(int dirfd, const char *name);

/* Write `len` bytes to a new file `name` in `dirfd` with `mode`.  0 or -1. */
int write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);

/* Read all of `name` in `dirfd` into a malloc'd buffer; NULL on failure. */
char *read_file_at(int dirfd, const char *name, size_t *len);

/* Fill buf with bytes from a simple generator seeded by `seed`. */
void fill_pattern(unsigned char *buf, size_t len, unsigned seed);

/* Monotonic time in seconds. */
double test_now(void);

/* Sleep for `seconds` (a pause between polls, never an assertion). */
void test_pause(double seconds);

/*
 * Whether task `tid` of process `pid` is asleep in futex(2) right now
 * (read from /proc/PID/task/TID/syscall).  The queue sleeps only there.
 */
int task_in_futex(pid_t pid, pid_t tid);

/*
 * Poll until task `tid` of `pid` has been seen asleep in futex(2) several
 * times in a row, or `timeout` seconds pass.  1 when seen, else 0.
 */
int wait_task_in_futex(pid_t pid, pid_t tid, double timeout);

/* Poll until *flag is nonzero or `timeout` seconds pass.  1 when set, else 0. */
int wait_flag(_Atomic int *flag, double timeout);

/*
 * Wait for child `pid` to exit, at most `timeout` seconds (then kill it).
 * Returns its exit code, 128+N if signal N ended it, or -1 on timeout.
 */
int wait_child(pid_t pid, double timeout);

/* In a forked child: die with the parent, so no child outlives a failed test. */
void child_die_with_parent(void);

#endif
