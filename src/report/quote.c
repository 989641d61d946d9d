/*
 * quote.c - names made safe to print.  A file name is any bytes but '/' and
 * NUL: a newline would split one message into two lines, an ESC would reach
 * the terminal, and bytes that are not UTF-8 cannot go into JSON as they
 * are.  Both encodings here are lossless, so a script gets the exact bytes
 * back (bash for the text, surrogateescape for the JSON).
 */
#include "report/quote.h"

#include <stdio.h>
#include <string.h>

#include "base/util.h"

/* An snprintf-like output: writes what fits, counts everything. */
struct sink {
	char *out;   /* buffer, may be NULL when size is 0 */
	size_t size; /* its size, NUL included */
	size_t len;  /* length of the whole result so far */
};

static void put_byte(struct sink *k, char c)
{
	if (k->len + 1 < k->size)
		k->out[k->len] = c;
	k->len++;
}

static void put_bytes(struct sink *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_byte(k, s[i]);
}

static void put_str(struct sink *k, const char *s)
{
	put_bytes(k, s, strlen(s));
}

static size_t sink_finish(struct sink *k)
{
	if (k->size > 0)
		k->out[k->len < k->size ? k->len : k->size - 1] = '\0';
	return k->len;
}

/*
 * Length (1 to 4) of the well-formed UTF-8 sequence at p, or 0 when the
 * byte at p starts none: a stray continuation byte, C0/C1 and F5..FF, an
 * overlong form, a surrogate (ED A0..BF), past U+10FFFF, or a sequence cut
 * short.  p is NUL-terminated and NUL is no continuation byte, so the scan
 * never reads past the end.
 */
static size_t utf8_length(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (p[0] == 0xed)
		hi = 0x9f; /* surrogates U+D800..U+DFFF */
	else if (p[0] == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (p[0] == 0xf4)
		hi = 0x8f; /* past U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/* Is the n-byte sequence at p a control character (C0, DEL or C1)? */
static int is_control(const unsigned char *p, size_t n)
{
	if (n == 1)
		return p[0] < 0x20 || p[0] == 0x7f;
	return n == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

int quote_is_plain(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	while (*p != '\0') {
		size_t n = utf8_length(p);

		if (n == 0 || is_control(p, n) || *p == '\'')
			return 0;
		p += n;
	}
	return 1;
}

/* Where the shell-escaped output is: outside quotes, in '...' or in $'...'. */
enum shell_state { IN_NOTHING, IN_SINGLE, IN_DOLLAR };

/* Close the current quoting and open `want`. */
static void shell_enter(struct sink *k, enum shell_state *state, enum shell_state want)
{
	if (*state == want)
		return;
	if (*state != IN_NOTHING)
		put_byte(k, '\'');
	if (want == IN_SINGLE)
		put_byte(k, '\'');
	else if (want == IN_DOLLAR)
		put_str(k, "$'");
	*state = want;
}

/* One byte inside $'...': a C escape where bash has one, else \ooo. */
static void shell_escape_byte(struct sink *k, unsigned char c)
{
	static const char named[] = "abtnvfr"; /* bytes 7 to 13 */
	char buf[5];

	if (c >= 7 && c <= 13) {
		buf[0] = '\\';
		buf[1] = named[c - 7];
		put_bytes(k, buf, 2);
		return;
	}
	snprintf(buf, sizeof(buf), "\\%03o", c);
	put_bytes(k, buf, 4);
}

static void shell_escape(struct sink *k, const unsigned char *p)
{
	enum shell_state state = IN_NOTHING;

	while (*p != '\0') {
		size_t n = utf8_length(p);

		if (n == 0 || is_control(p, n)) {
			shell_enter(k, &state, IN_DOLLAR);
			for (size_t i = 0; i < (n ? n : 1); i++)
				shell_escape_byte(k, p[i]);
		} else if (*p == '\'') {
			shell_enter(k, &state, IN_NOTHING);
			put_str(k, "\\'");
		} else {
			shell_enter(k, &state, IN_SINGLE);
			put_bytes(k, (const char *)p, n);
		}
		p += n ? n : 1;
	}
	shell_enter(k, &state, IN_NOTHING);
}

size_t quote_name(char *out, size_t size, const char *name, enum quote_style style)
{
	struct sink k = { out, size, 0 };

	if (*name == '\0')
		put_str(&k, "''"); /* even bare: a line is never empty */
	else if (!quote_is_plain(name))
		shell_escape(&k, (const unsigned char *)name);
	else if (style == QUOTE_ALWAYS) {
		put_byte(&k, '\'');
		put_str(&k, name);
		put_byte(&k, '\'');
	} else {
		put_str(&k, name);
	}
	return sink_finish(&k);
}

char *quote_alloc(const char *name, enum quote_style style)
{
	size_t len = quote_name(NULL, 0, name, style);
	char *out = xmalloc(len + 1);

	quote_name(out, len + 1, name, style);
	return out;
}

/* One character as \u00XX, or one stray byte as the lone surrogate \udcXX. */
static void json_escape_unit(struct sink *k, unsigned int unit)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "\\u%04x", unit);
	put_bytes(k, buf, 6);
}

/* An ASCII byte: JSON's short escapes, \u00XX for other controls. */
static void json_escape_ascii(struct sink *k, unsigned char c)
{
	const char *short_form = NULL;

	switch (c) {
	case '"': short_form = "\\\""; break;
	case '\\': short_form = "\\\\"; break;
	case '\b': short_form = "\\b"; break;
	case '\f': short_form = "\\f"; break;
	case '\n': short_form = "\\n"; break;
	case '\r': short_form = "\\r"; break;
	case '\t': short_form = "\\t"; break;
	}
	if (short_form != NULL)
		put_str(k, short_form);
	else if (c < 0x20 || c == 0x7f)
		json_escape_unit(k, c);
	else
		put_byte(k, (char)c);
}

size_t quote_json(char *out, size_t size, const char *s)
{
	struct sink k = { out, size, 0 };
	const unsigned char *p = (const unsigned char *)s;

	put_byte(&k, '"');
	while (*p != '\0') {
		size_t n = utf8_length(p);

		if (n == 0)
			json_escape_unit(&k, 0xdc00u | *p); /* surrogateescape */
		else if (n == 1)
			json_escape_ascii(&k, *p);
		else if (is_control(p, n))
			json_escape_unit(&k, p[1]); /* C1: U+0080..U+009F */
		else
			put_bytes(&k, (const char *)p, n);
		p += n ? n : 1;
	}
	put_byte(&k, '"');
	return sink_finish(&k);
}

char *quote_json_alloc(const char *s)
{
	size_t len = quote_json(NULL, 0, s);
	char *out = xmalloc(len + 1);

	quote_json(out, len + 1, s);
	return out;
}
