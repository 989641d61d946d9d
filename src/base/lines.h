/* lines.h - reading a list of names or patterns from a file or stdin. */
#ifndef PCOPY_LINES_H
#define PCOPY_LINES_H

/*
 * Call line(ctx, text) for each line of the file `path` ("-" reads
 * stdin).  Lines end with '\n', or with '\0' when `nul` is set; without
 * `nul` a '\r' before the '\n' is dropped too (files written on Windows).
 * The last line needs no terminator.  `text` may be modified by `line`.
 * Returns 0, or -1 with errno when the file cannot be read or `line`
 * returned -1 (which stops the reading).
 */
int lines_read(const char *path, int nul, int (*line)(void *ctx, char *text), void *ctx);

#endif
