/* entry.c - the lines about one entry (entry.h). */
#include "report/entry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/path.h"
#include "report/message.h"

/* Report "pcopy: 'ROOT/relpath': reason" and count the error in `slot`. */
static void report_error_under(const char *root, struct worker_slot *slot, const char *relpath,
			       int err, const char *reason)
{
	char *path = path_join(root, relpath);

	/* rename(2) of a non-directory over a directory: say it as cp does. */
	if (reason == NULL && err == EISDIR)
		reason = REASON_DIR_BY_NONDIR;
	report_path_error(path, reason ? reason : strerror(err));
	free(path);
	atomic_fetch_add_explicit(&slot->errors, 1, memory_order_relaxed);
}

void report_entry_error(const struct session *s, struct worker_slot *slot, const char *relpath,
			int err, const char *reason)
{
	report_error_under(s->src_display, slot, relpath, err, reason);
}

void report_dst_error(const struct session *s, struct worker_slot *slot, const char *relpath,
		      int err, const char *reason)
{
	report_error_under(s->dst_display, slot, relpath, err, reason);
}

void report_entry_vanished(const struct session *s, struct worker_slot *slot, const char *relpath)
{
	report_entry_warning(s, relpath, "vanished");
	atomic_fetch_add_explicit(&slot->vanished, 1, memory_order_relaxed);
}

void report_entry_warning(const struct session *s, const char *relpath, const char *warning)
{
	char *path = path_join(s->src_display, relpath);

	report_path_error(path, warning);
	free(path);
}
