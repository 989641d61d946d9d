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

/*
 * A destination for everything this process would print, stdout and error
 * lines alike: pcopy-mpi's worker ranks hand it all to rank 0, which owns
 * the terminal.  The sink gets STDOUT_FILENO and bytes for standard output
 * (whole lines), or STDERR_FILENO and the body of one error line, without
 * "pcopy: " and the newline (report_line prints it).  It may be called
 * from any thread.
 */
typedef void output_sink_fn(int fd, const char *buf, size_t len);

/* Send output to `sink` from now on; NULL writes it here again. */
void output_redirect(output_sink_fn *sink);

/* The sink set by output_redirect, or NULL. */
output_sink_fn *output_sink(void);

/* The errno of the run's first failure on standard output, or 0. */
int output_error(void);

/*
 * Flush and close standard output (the stdio stream, used by --help and
 * --version), checked like output_write: gnulib's close_stdout.  0 or -1.
 */
int output_close(void);

#endif
