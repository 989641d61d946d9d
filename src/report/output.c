/*
 * output.c - standard output, checked.  A -v listing or a JSON summary that
 * silently did not arrive (a full disk, a closed pipe) would let a script
 * trust a run it never saw, so every write is checked, the first failure is
 * recorded where main can see it (also from a worker process) and told once.
 */
#include "report/output.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "report/message.h"

/* The record before and after a run shares it. */
static _Atomic int local_record;
/* Where failures are recorded: local_record, or the run's shared memory. */
static _Atomic int *record = &local_record;

/* Where output goes instead, or NULL (output_redirect). */
static output_sink_fn *_Atomic sink;

void output_redirect(output_sink_fn *to)
{
	atomic_store(&sink, to);
}

output_sink_fn *output_sink(void)
{
	return atomic_load(&sink);
}

void output_share(_Atomic int *shared)
{
	_Atomic int *next = shared != NULL ? shared : &local_record;

	atomic_store(next, atomic_load(record));
	record = next;
}

/* Record the failure err; the first one of the run is told (except EPIPE). */
static void output_failed(int err)
{
	int expected = 0;

	if (atomic_compare_exchange_strong(record, &expected, err) && err != EPIPE)
		report_message("write error on standard output: %s", strerror(err));
	errno = err;
}

int output_write(const char *buf, size_t len)
{
	output_sink_fn *to = atomic_load(&sink);
	int earlier = atomic_load(record);

	if (to != NULL) {
		to(STDOUT_FILENO, buf, len);
		return 0;
	}
	if (earlier != 0) {
		errno = earlier;
		return -1;
	}
	if (write_all(STDOUT_FILENO, buf, len) == 0)
		return 0;
	output_failed(errno);
	return -1;
}

int output_error(void)
{
	return atomic_load(record);
}

int output_close(void)
{
	int err = 0;

	/* Flush first: fclose would lose the reason of a failed flush. */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout))
		err = errno != 0 ? errno : EIO;
	/* EBADF with nothing pending: stdout was closed and never used. */
	if (fclose(stdout) != 0 && err == 0 && errno != EBADF)
		err = errno;
	if (err == 0)
		return 0;
	output_failed(err);
	return -1;
}
