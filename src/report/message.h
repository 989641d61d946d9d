/*
 * message.h - error and warning lines on stderr: "pcopy: 'path': reason",
 * each written whole with one write(2), so that lines of concurrent workers
 * never interleave.
 */
#ifndef PCOPY_MESSAGE_H
#define PCOPY_MESSAGE_H

/*
 * Print "pcopy: 'path': reason" on stderr with a single write(2), so lines
 * from concurrent workers never interleave.  The path is quoted by
 * quote_name (QUOTE_ALWAYS), so the line is one line whatever the name.
 * `path` may be NULL for a line without a path.  When a progress bar is on
 * screen the line first clears it.
 */
void report_path_error(const char *path, const char *reason);

/*
 * Same as report_path_error, with a printf-style message instead of a path;
 * a name in the message must have been quoted with quote_name.
 */
void report_message(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Print "pcopy: BODY" as report_message does (or hand BODY to the output
 * sink, output.h): the way out of every error line.
 */
void report_line(const char *body);

/* Tell report_* to clear a progress bar line before printing. */
void report_set_bar_active(int active);

#endif
