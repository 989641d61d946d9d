/*
 * filter.h - rsync's include/exclude rules: an ordered list of patterns,
 * checked in order against a path relative to the top of SRC; the first
 * rule that matches decides, and a path no rule matches is included.
 */
#ifndef PCOPY_FILTER_H
#define PCOPY_FILTER_H

#include <stddef.h>

struct filter_rule;
struct files_from;

/* The rules of a run, in the order they were given. */
struct filter {
	struct filter_rule *rules; /* rules[0] is checked first */
	size_t count;              /* rules in use */
	size_t cap;                /* rules allocated */
	/* After the rules, a --files-from list (not owned; NULL for none):
	   what it covers is included, anything else excluded
	   (files_from_covers).  A remote copy applies the list so on both
	   machines, the sending one walking the whole tree. */
	const struct files_from *list;
};

void filter_init(struct filter *f);
void filter_free(struct filter *f);

/*
 * Append the rule `text` as --include (include != 0) or --exclude gives
 * it.  As in rsync, a text starting with "+ " or "- " is an include or an
 * exclude whatever the option, and "!" clears the list.  An empty pattern
 * adds nothing.  Always 0.
 */
int filter_add(struct filter *f, const char *text, int include);

/*
 * Append the rules of the file `path` ("-": stdin), one per line, or
 * NUL-separated with `nul`.  Blank lines and lines starting with '#' or
 * ';' are ignored.  0, or -1 with errno when it cannot be read.
 */
int filter_load(struct filter *f, const char *path, int include, int nul);

/*
 * Is `relpath` (from the top of SRC, no leading slash, never empty)
 * excluded?  `is_dir` says whether it is a directory (rules ending in '/'
 * match directories only).  The first rule that matches decides, else
 * f->list if there is one.  1 excluded, 0 included.  f may be NULL.
 */
int filter_excluded(const struct filter *f, const char *relpath, int is_dir);

/* The same by the rules alone, the list left out: 1 when a rule excludes it. */
int filter_rules_exclude(const struct filter *f, const char *relpath, int is_dir);

/*
 * Rule i as it was given (without a "+ " or "- "), and whether it
 * includes: filter_add of "+ TEXT" or "- TEXT" makes it again (a remote
 * copy sends the rules so).
 */
const char *filter_rule_text(const struct filter *f, size_t i, int *include);

#endif
