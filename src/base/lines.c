/* lines.c - one line at a time from a file or stdin, for the list options. */
#include "base/lines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Call `line` for every record of fp; 0 or -1 with errno. */
static int read_records(FILE *fp, int nul, int (*line)(void *ctx, char *text), void *ctx)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	errno = 0;
	while ((len = getdelim(&buf, &cap, nul ? '\0' : '\n', fp)) >= 0) {
		if (len > 0 && buf[len - 1] == (nul ? '\0' : '\n'))
			buf[--len] = '\0';
		if (!nul && len > 0 && buf[len - 1] == '\r')
			buf[--len] = '\0';
		if (line(ctx, buf) < 0) {
			rc = -1;
			break;
		}
		errno = 0;
	}
	if (rc == 0 && ferror(fp)) {
		if (errno == 0)
			errno = EIO;
		rc = -1;
	}
	free(buf);
	return rc;
}

int lines_read(const char *path, int nul, int (*line)(void *ctx, char *text), void *ctx)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	int rc;
	int saved;

	if (fp == NULL)
		return -1;
	rc = read_records(fp, nul, line, ctx);
	saved = errno;
	if (fp != stdin)
		fclose(fp);
	errno = saved;
	return rc;
}
