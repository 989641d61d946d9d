/* change.c - counting and telling what a run did to each entry (change.h). */
#include "report/change.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/path.h"
#include "base/util.h"
#include "report/output.h"
#include "report/quote.h"

/* Per change: its -i letter, its JSON name. */
static const struct {
	char letter;
	const char *name;
} changes[] = {
	[CHANGE_CREATED] = { '+', "created" },   [CHANGE_UPDATED] = { '>', "updated" },
	[CHANGE_REPLACED] = { '!', "replaced" }, [CHANGE_METADATA] = { '.', "metadata" },
	[CHANGE_HARDLINK] = { 'h', "hardlink" }, [CHANGE_LINKED] = { 'L', "linked" },
	[CHANGE_DELETED] = { '-', "deleted" },
};

enum change change_of_copy(mode_t src_mode, mode_t before)
{
	if (before == 0)
		return CHANGE_CREATED;
	return (before & S_IFMT) == (src_mode & S_IFMT) ? CHANGE_UPDATED : CHANGE_REPLACED;
}

static char type_letter(mode_t mode)
{
	if (S_ISREG(mode))
		return 'f';
	if (S_ISDIR(mode))
		return 'd';
	return S_ISLNK(mode) ? 'l' : 's';
}

static const char *type_name(mode_t mode)
{
	if (S_ISREG(mode))
		return "file";
	if (S_ISDIR(mode))
		return "dir";
	return S_ISLNK(mode) ? "symlink" : "special";
}

size_t change_format_text(enum change change, mode_t mode, const char *path, char *buf, size_t len)
{
	size_t need = quote_name(NULL, 0, path, QUOTE_BARE) + 4;

	if (len > 0) {
		snprintf(buf, len, "%c%c ", changes[change].letter, type_letter(mode));
		if (len > 3)
			quote_name(buf + 3, len - 3, path, QUOTE_BARE);
		if (need < len) {
			buf[need - 1] = '\n';
			buf[need] = '\0';
		}
	}
	return need;
}

/* The -i line for json: {"change":...,"type":...,"path":...}, malloc'd. */
static char *format_json(enum change change, mode_t mode, const char *path, size_t *len)
{
	char *quoted = quote_json_alloc(path);
	size_t cap = strlen(quoted) + 64;
	char *line = xmalloc(cap);

	*len = (size_t)snprintf(line, cap, "{\"change\":\"%s\",\"type\":\"%s\",\"path\":%s}\n",
				changes[change].name, type_name(mode), quoted);
	free(quoted);
	return line;
}

static void count_change(struct worker_slot *slot, enum change change)
{
	_Atomic uint64_t *counter = NULL;

	switch (change) {
	case CHANGE_CREATED: counter = &slot->created; break;
	case CHANGE_UPDATED:
	case CHANGE_REPLACED: counter = &slot->updated; break;
	case CHANGE_METADATA: counter = &slot->meta_updated; break;
	case CHANGE_LINKED: counter = &slot->linked; break;
	case CHANGE_DELETED: counter = &slot->deleted; break;
	case CHANGE_HARDLINK: break; /* counted where it is made (link_entry) */
	}
	if (counter != NULL)
		atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

void report_change(const struct session *s, struct worker_slot *slot, enum change change,
		   mode_t mode, const char *relpath)
{
	enum itemize_style style = s->opts->itemize;
	char *path, *line;
	size_t len;

	count_change(slot, change);
	if (style == ITEMIZE_NONE && (!s->opts->verbose || change == CHANGE_DELETED))
		return;
	path = path_join(s->dst_display, relpath);
	if (style == ITEMIZE_JSON) {
		line = format_json(change, mode, path, &len);
	} else if (style == ITEMIZE_TEXT) {
		len = change_format_text(change, mode, path, NULL, 0);
		line = xmalloc(len + 1);
		change_format_text(change, mode, path, line, len + 1);
	} else {
		len = quote_name(NULL, 0, path, QUOTE_BARE) + 1;
		line = xmalloc(len + 1);
		quote_name(line, len, path, QUOTE_BARE);
		line[len - 1] = '\n';
	}
	/* One write per line, so lines from concurrent workers never interleave. */
	if (output_write(line, len) < 0 && errno == EPIPE)
		session_stop(s);
	free(line);
	free(path);
}
