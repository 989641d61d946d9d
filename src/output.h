/*
 * output.h - standard output: every byte pcopy prints there goes through
 * output_write, which checks it.
 */
#ifndef PCOPY_OUTPUT_H
#define PCOPY_OUTPUT_H

#include <stdatomic.h>
#include <stddef.h>

/*
 * Keep the failure record in *record from now on (memory every worker
 * sees, the shared region in process mode), carrying over what was
 * recorded so far; NULL brings it back into this process.  Call it before
 * any worker starts and after all are gone.
 */
void output_share(_Atomic int *record);

/*
 * Write all of buf to standard output; 0, or -1 with errno.  The first
 * failure of the run is recorded and, unless it is EPIPE (the reader is
 * gone: nothing to tell), reported once on stderr as "write error on
 * standard output: REASON".  After a failure nothing more is written, so
 * the output is a clean prefix; later calls fail with the recorded errno.
 */
int output_write(const char *buf, size_t len);

/* The errno of the run's first failure on standard output, or 0. */
int output_error(void);

/*
 * Flush and close standard output (the stdio stream, used by --help and
 * --version), checked like output_write: gnulib's close_stdout.  0 or -1.
 */
int output_close(void);

#endif
