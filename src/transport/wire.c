/* wire.c - the encoding of pcopy's remote protocol (wire.h). */
#include "transport/wire.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* --- little-endian, whatever the machine --- */

static void put_le(unsigned char *out, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *in, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)in[i] << (8 * i);
	return v;
}

void wire_head_put(unsigned char *out, const struct wire_head *h)
{
	put_le(out, h->length, 4);
	put_le(out + 4, h->type, 2);
	put_le(out + 6, h->stream, 2);
}

int wire_head_get(const unsigned char *in, struct wire_head *h)
{
	h->length = (uint32_t)get_le(in, 4);
	h->type = (uint16_t)get_le(in + 4, 2);
	h->stream = (uint16_t)get_le(in + 6, 2);
	return h->length <= WIRE_FRAME_MAX ? 0 : -1;
}

/* --- writing --- */

/* Room for n more bytes; a pointer to them, counted as written. */
static unsigned char *out_grow(struct wire_out *o, size_t n)
{
	unsigned char *at;

	if (o->cap - o->len < n) {
		o->cap = o->cap ? o->cap : 256;
		while (o->cap - o->len < n)
			o->cap *= 2;
		o->buf = xrealloc(o->buf, o->cap);
	}
	at = o->buf + o->len;
	o->len += n;
	return at;
}

void wire_put_u8(struct wire_out *o, uint8_t v)
{
	put_le(out_grow(o, 1), v, 1);
}

void wire_put_u16(struct wire_out *o, uint16_t v)
{
	put_le(out_grow(o, 2), v, 2);
}

void wire_put_u32(struct wire_out *o, uint32_t v)
{
	put_le(out_grow(o, 4), v, 4);
}

void wire_put_u64(struct wire_out *o, uint64_t v)
{
	put_le(out_grow(o, 8), v, 8);
}

void wire_put_i64(struct wire_out *o, int64_t v)
{
	wire_put_u64(o, (uint64_t)v);
}

void wire_put_bytes(struct wire_out *o, const void *p, size_t n)
{
	if (n > 0)
		memcpy(out_grow(o, n), p, n);
}

void wire_put_str(struct wire_out *o, const char *s, size_t n)
{
	wire_put_u32(o, (uint32_t)n);
	wire_put_bytes(o, s, n);
}

void wire_out_free(struct wire_out *o)
{
	free(o->buf);
	memset(o, 0, sizeof(*o));
}

/* --- reading --- */

void wire_in_init(struct wire_in *in, const void *payload, size_t len)
{
	in->p = payload;
	in->left = len;
	in->bad = 0;
}

/* The next n bytes, or NULL (and `in` bad) if fewer are left. */
static const unsigned char *take(struct wire_in *in, size_t n)
{
	const unsigned char *at = in->p;

	if (in->bad || in->left < n) {
		in->bad = 1;
		return NULL;
	}
	in->p += n;
	in->left -= n;
	return at;
}

static uint64_t take_le(struct wire_in *in, size_t n)
{
	const unsigned char *at = take(in, n);

	return at != NULL ? get_le(at, n) : 0;
}

uint8_t wire_u8(struct wire_in *in)
{
	return (uint8_t)take_le(in, 1);
}

uint16_t wire_u16(struct wire_in *in)
{
	return (uint16_t)take_le(in, 2);
}

uint32_t wire_u32(struct wire_in *in)
{
	return (uint32_t)take_le(in, 4);
}

uint64_t wire_u64(struct wire_in *in)
{
	return take_le(in, 8);
}

int64_t wire_i64(struct wire_in *in)
{
	return (int64_t)take_le(in, 8);
}

const void *wire_bytes(struct wire_in *in, size_t n)
{
	return take(in, n);
}

const char *wire_str(struct wire_in *in, size_t max, size_t *len)
{
	uint32_t n = wire_u32(in);
	const char *s;

	*len = 0;
	if (n > max) {
		in->bad = 1;
		return NULL;
	}
	/* A length past the payload gives no string and no length to misuse. */
	s = (const char *)take(in, n);
	if (s != NULL)
		*len = n;
	return s;
}

char *wire_cstr(struct wire_in *in, char *buf, size_t max)
{
	size_t len;
	const char *s = wire_str(in, max, &len);

	if (s == NULL || memchr(s, '\0', len) != NULL) {
		in->bad = 1;
		return NULL;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

int wire_ok(const struct wire_in *in, int whole)
{
	return !in->bad && (!whole || in->left == 0);
}

/* --- names and paths --- */

int wire_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > NAME_MAX)
		return 0;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return 0;
	return memchr(s, '/', len) == NULL && memchr(s, '\0', len) == NULL;
}

int wire_path_ok(const char *s, size_t len)
{
	size_t start = 0;

	if (len == 0)
		return 1;
	if (len >= PATH_MAX)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (!wire_name_ok(s + start, i - start))
			return 0;
		start = i + 1;
	}
	return 1;
}
