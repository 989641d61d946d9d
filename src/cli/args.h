/* args.h - parsing the command line into struct options (core/options.h). */
#ifndef PCOPY_ARGS_H
#define PCOPY_ARGS_H

#include <stddef.h>

#include "core/options.h"

/* What options_parse decided. */
enum parse_result {
	PARSE_RUN,   /* options are valid: copy */
	PARSE_EXIT,  /* --help or --version was printed: exit 0 */
	PARSE_ERROR, /* `err` holds a one-line message: exit 2 */
};

/*
 * Parse argv into *opts.  Help and version go to `out`.  On PARSE_ERROR a
 * message without the program prefix is left in err[errlen].  Resets getopt,
 * so it may be called more than once (tests do).
 */
enum parse_result options_parse(struct options *opts, int argc, char **argv, void *out, char *err,
				size_t errlen);

/* Free what options_parse allocated (opts stays parsed but filterless). */
void options_free(struct options *opts);

/* Print the usage text to `out` (a FILE *). */
void options_usage(void *out);

/* The default number of workers on this machine. */
int options_default_jobs(void);

#endif
