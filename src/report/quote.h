/*
 * quote.h - one way out for every name pcopy prints: shell-escaped text for
 * messages and -v lines, a lossless JSON string for machine output.
 */
#ifndef PCOPY_QUOTE_H
#define PCOPY_QUOTE_H

#include <stddef.h>

/* How quote_name shows a plain name (see quote_is_plain). */
enum quote_style {
	QUOTE_ALWAYS, /* error lines: 'name' when plain, else shell-escaped */
	QUOTE_BARE,   /* -v lines: name as is when plain, else shell-escaped */
};

/*
 * Is `name` plain: valid UTF-8 with no control character (a byte below
 * 0x20, DEL, or U+0080..U+009F) and no single quote?  A plain name needs no
 * escaping, and a bare plain name never holds a quote, so a quoted line is
 * never mistaken for a bare one.
 */
int quote_is_plain(const char *name);

/*
 * Write `name` as `style` asks into out (NUL-terminated, at most `size`
 * bytes with the NUL), like snprintf; return the length of the whole result.
 * A name that is not plain is shell-escaped the GNU way, so that bash reads
 * it back as the exact bytes: printable runs in single quotes, a single
 * quote as \' outside them, and each control or invalid UTF-8 byte inside
 * $'...' as \a \b \t \n \v \f \r or three octal digits (\033, \377):
 * "a\nb" is 'a'$'\n''b', "it's" is 'it'\''s'.
 */
size_t quote_name(char *out, size_t size, const char *name, enum quote_style style);

/* quote_name into a new string (dies on out-of-memory); the caller frees it. */
char *quote_alloc(const char *name, enum quote_style style);

/*
 * Write the bytes of `s` as a JSON string literal, double quotes included,
 * like snprintf; return the length of the whole result.  Valid UTF-8 passes
 * through; '"', '\' and control characters are escaped (\n, \u001b, ...);
 * each byte that is not part of valid UTF-8 becomes the lone surrogate
 * \udcXX (XX the byte), which Python decodes back to the byte with
 * json.loads() and str.encode("utf-8", "surrogateescape").
 */
size_t quote_json(char *out, size_t size, const char *s);

/* quote_json into a new string (dies on out-of-memory); the caller frees it. */
char *quote_json_alloc(const char *s);

#endif
