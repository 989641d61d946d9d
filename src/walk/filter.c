/*
 * filter.c - rsync's include/exclude pattern rules, matched with fnmatch(3).
 *
 * The forms follow rsync(1), "INCLUDE/EXCLUDE PATTERN RULES":
 *   - a leading '/' anchors the pattern at the top of SRC;
 *   - a trailing '/' matches directories only;
 *   - a pattern with no '/' inside and no "**" matches the last component;
 *     one with a '/' inside matches as many trailing components as it has
 *     (so "a/b" matches "a/b" and "x/a/b"), unless anchored;
 *   - '*', '?' and '[...]' never match a '/'; "**" matches anything;
 *     an unanchored pattern with "**" is tried at every component start,
 *     and one that starts with "**" matches as if the path began with '/';
 *     a pattern ending in "***" also matches the directory itself.
 * fnmatch with FNM_PATHNAME does the matching; "**" (which FNM_PATHNAME
 * reads as '*') is handled by cutting the pattern at each "**" and letting
 * fnmatch match the pieces around the cuts.  A pattern without '*', '?'
 * or '[' is matched literally (FNM_NOESCAPE), as rsync does.
 */
#include "walk/filter.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "base/lines.h"
#include "base/util.h"
#include "walk/files_from.h"

/* How a rule matches. */
enum rule_flags {
	RULE_INCLUDE = 1 << 0,      /* an include rule (else exclude) */
	RULE_ANCHORED = 1 << 1,     /* started with '/': match from the top */
	RULE_DIR_ONLY = 1 << 2,     /* ended with '/': directories only */
	RULE_WILD = 1 << 3,         /* has '*', '?' or '[' */
	RULE_WILD2 = 1 << 4,        /* has "**" */
	RULE_WILD2_PREFIX = 1 << 5, /* starts with "**" */
	RULE_WILD3_SUFFIX = 1 << 6, /* ends with "***" */
};

/* One rule. */
struct filter_rule {
	char *pattern;  /* without the anchoring '/' and the trailing '/' */
	char **pieces;  /* with RULE_WILD2: pattern cut at each run of stars >= 2 */
	size_t npieces; /* pieces (the number of "**" plus one) */
	int slashes;    /* '/' in pattern */
	unsigned flags; /* enum rule_flags */
	char *text;     /* as given, without a "+ " or "- " (filter_rule_text) */
};

void filter_init(struct filter *f)
{
	f->rules = NULL;
	f->count = 0;
	f->cap = 0;
	f->list = NULL;
}

static void rule_free(struct filter_rule *r)
{
	for (size_t i = 0; i < r->npieces; i++)
		free(r->pieces[i]);
	free(r->pieces);
	free(r->pattern);
	free(r->text);
}

void filter_free(struct filter *f)
{
	for (size_t i = 0; i < f->count; i++)
		rule_free(&f->rules[i]);
	free(f->rules);
	filter_init(f);
}

/* Cut r->pattern at every run of two or more '*' into r->pieces. */
static void cut_at_double_stars(struct filter_rule *r)
{
	const char *p = r->pattern;

	for (;;) {
		const char *cut = strstr(p, "**");
		size_t len = cut != NULL ? (size_t)(cut - p) : strlen(p);

		r->pieces = xrealloc(r->pieces, (r->npieces + 1) * sizeof(*r->pieces));
		r->pieces[r->npieces] = xmalloc(len + 1);
		memcpy(r->pieces[r->npieces], p, len);
		r->pieces[r->npieces++][len] = '\0';
		if (cut == NULL)
			return;
		p = cut + strspn(cut, "*");
	}
}

/* Fill r from the pattern text; 0, or -1 if it is empty (no rule). */
static int rule_parse(struct filter_rule *r, const char *text)
{
	size_t len = strlen(text);

	if (len > 1 && text[len - 1] == '/') {
		r->flags |= RULE_DIR_ONLY;
		len--;
	}
	if (*text == '/') {
		r->flags |= RULE_ANCHORED;
		text++;
		len = len > 0 ? len - 1 : 0;
	}
	if (len == 0)
		return -1;
	r->pattern = xmalloc(len + 1);
	memcpy(r->pattern, text, len);
	r->pattern[len] = '\0';
	if (strpbrk(r->pattern, "*?[") != NULL)
		r->flags |= RULE_WILD;
	if (strstr(r->pattern, "**") != NULL) {
		r->flags |= RULE_WILD2;
		if (strncmp(r->pattern, "**", 2) == 0 && !(r->flags & RULE_ANCHORED))
			r->flags |= RULE_WILD2_PREFIX;
		if (len >= 3 && strcmp(r->pattern + len - 3, "***") == 0)
			r->flags |= RULE_WILD3_SUFFIX;
		cut_at_double_stars(r);
	}
	for (const char *p = r->pattern; (p = strchr(p, '/')) != NULL; p++)
		r->slashes++;
	return 0;
}

int filter_add(struct filter *f, const char *text, int include)
{
	struct filter_rule r = { NULL, NULL, 0, 0, 0, NULL };

	if (strcmp(text, "!") == 0) {
		filter_free(f);
		return 0;
	}
	if ((text[0] == '+' || text[0] == '-') && text[1] == ' ') {
		include = text[0] == '+';
		text += 2;
	}
	if (include)
		r.flags |= RULE_INCLUDE;
	if (rule_parse(&r, text) < 0)
		return 0;
	r.text = xstrdup(text);
	if (f->count == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 8;
		f->rules = xrealloc(f->rules, f->cap * sizeof(*f->rules));
	}
	f->rules[f->count++] = r;
	return 0;
}

const char *filter_rule_text(const struct filter *f, size_t i, int *include)
{
	*include = (f->rules[i].flags & RULE_INCLUDE) != 0;
	return f->rules[i].text;
}

/* What filter_load hands to each line. */
struct load {
	struct filter *f;
	int include;
};

static int load_line(void *ctx, char *text)
{
	struct load *l = ctx;

	if (text[0] == '\0' || text[0] == '#' || text[0] == ';')
		return 0;
	return filter_add(l->f, text, l->include);
}

int filter_load(struct filter *f, const char *path, int include, int nul)
{
	struct load l = { f, include };

	return lines_read(path, nul, load_line, &l);
}

/* Does `pattern` match all of s[from, to)? */
static int match_span(const char *pattern, char *s, size_t from, size_t to)
{
	char saved = s[to];
	int ok;

	s[to] = '\0';
	ok = fnmatch(pattern, s + from, FNM_PATHNAME) == 0;
	s[to] = saved;
	return ok;
}

/*
 * The earliest end of a span of s that `pattern` matches, the span
 * starting at `from` (or anywhere after it with `float_start`).  The
 * earliest end is the only one worth trying: a "**" follows the piece and
 * takes whatever a later end would have.  1 with *end set, or 0.
 */
static int earliest_match(const char *pattern, char *s, size_t from, int float_start, size_t *end)
{
	size_t len = strlen(s);

	for (size_t e = from; e <= len; e++)
		for (size_t b = from; b <= (float_start ? e : from); b++)
			if (match_span(pattern, s, b, e)) {
				*end = e;
				return 1;
			}
	return 0;
}

/* Does all of s match r's pieces joined by "**" (which match anything)? */
static int match_pieces(const struct filter_rule *r, char *s)
{
	size_t len = strlen(s);
	size_t pos = 0;

	if (!earliest_match(r->pieces[0], s, 0, 0, &pos))
		return 0;
	for (size_t k = 1; k + 1 < r->npieces; k++)
		if (!earliest_match(r->pieces[k], s, pos, 1, &pos))
			return 0;
	for (size_t b = pos; b <= len; b++)
		if (fnmatch(r->pieces[r->npieces - 1], s + b, FNM_PATHNAME) == 0)
			return 1;
	return 0;
}

/*
 * A rule with "**": anchored ones (and those starting with "**", which
 * see the path with a leading '/') match the whole path; others are tried
 * from the start of every component.  A directory is seen with a trailing
 * '/' by a rule ending in "***", so that "dir/" followed by "***" matches "dir" too.
 */
static int match_wild2(const struct filter_rule *r, const char *relpath, int is_dir)
{
	int prefix = (r->flags & RULE_WILD2_PREFIX) != 0;
	int suffix = is_dir && (r->flags & RULE_WILD3_SUFFIX);
	size_t len = strlen(relpath);
	char *s = xmalloc(len + 3);
	int ok;

	s[0] = '/';
	memcpy(s + prefix, relpath, len);
	strcpy(s + prefix + len, suffix ? "/" : "");
	ok = match_pieces(r, s);
	if (!(r->flags & RULE_ANCHORED) && !prefix)
		for (char *p = s; !ok && (p = strchr(p, '/')) != NULL; p++)
			ok = match_pieces(r, p + 1);
	free(s);
	return ok;
}

/* The last n components of path (all of it if it has fewer). */
static const char *last_components(const char *path, int n)
{
	const char *p = path + strlen(path);

	while (p > path)
		if (*--p == '/' && --n == 0)
			return p + 1;
	return path;
}

static int rule_matches(const struct filter_rule *r, const char *relpath, int is_dir)
{
	const char *subject = relpath;

	if ((r->flags & RULE_DIR_ONLY) && !is_dir)
		return 0;
	if (r->flags & RULE_WILD2)
		return match_wild2(r, relpath, is_dir);
	if (!(r->flags & RULE_ANCHORED))
		subject = last_components(relpath, r->slashes + 1);
	return fnmatch(r->pattern, subject,
		       FNM_PATHNAME | ((r->flags & RULE_WILD) ? 0 : FNM_NOESCAPE)) == 0;
}

/* The first rule that matches relpath: 1 if it excludes, 0 if it includes, -1 if none does. */
static int ruled(const struct filter *f, const char *relpath, int is_dir)
{
	for (size_t i = 0; i < f->count; i++)
		if (rule_matches(&f->rules[i], relpath, is_dir))
			return !(f->rules[i].flags & RULE_INCLUDE);
	return -1;
}

int filter_excluded(const struct filter *f, const char *relpath, int is_dir)
{
	int rule = f != NULL ? ruled(f, relpath, is_dir) : 0;

	if (rule >= 0)
		return rule;
	return f->list != NULL && !files_from_covers(f->list, relpath, is_dir);
}

int filter_rules_exclude(const struct filter *f, const char *relpath, int is_dir)
{
	return f != NULL && ruled(f, relpath, is_dir) == 1;
}
