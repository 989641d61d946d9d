/* message.c - error and warning lines (message.h). */
#include "report/message.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "report/output.h"
#include "report/quote.h"

/* Nonzero while a progress bar may be drawn on stderr. */
static atomic_int bar_active;

void report_set_bar_active(int active)
{
	atomic_store(&bar_active, active);
}

/* Put the bar-clearing prefix, the name, the body and a newline in one write. */
void report_line(const char *body)
{
	output_sink_fn *sink = output_sink();
	const char *clear = atomic_load(&bar_active) ? "\r\033[K" : "";
	const char *parts[] = { clear, PROGRAM_NAME ": ", body, "\n" };
	char stackbuf[1024];
	size_t len = 0, at = 0;
	char *line;

	if (sink != NULL) {
		sink(STDERR_FILENO, body, strlen(body));
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(parts); i++)
		len += strlen(parts[i]);
	line = len <= sizeof(stackbuf) ? stackbuf : xmalloc(len);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		size_t n = strlen(parts[i]);

		memcpy(line + at, parts[i], n);
		at += n;
	}
	(void)write_all(STDERR_FILENO, line, len);
	if (line != stackbuf)
		free(line);
}

void report_path_error(const char *path, const char *reason)
{
	size_t len;
	char *name, *body;

	if (path == NULL) {
		report_line(reason);
		return;
	}
	name = quote_alloc(path, QUOTE_ALWAYS);
	len = strlen(name) + strlen(reason) + 3;
	body = xmalloc(len);
	snprintf(body, len, "%s: %s", name, reason);
	report_line(body);
	free(body);
	free(name);
}

void report_message(const char *fmt, ...)
{
	char body[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	report_line(body);
}
