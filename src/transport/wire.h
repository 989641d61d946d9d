/*
 * wire.h - the encoding of pcopy's remote protocol (pcopy HOST:..., pcopy
 * --server): frames, and the fields inside them, bounded at every step.
 *
 * A frame is a header of 8 bytes, then its payload:
 *
 *	u32 length   bytes of payload that follow, at most WIRE_FRAME_MAX
 *	u16 type     what it is (the protocol's own list: remote.h)
 *	u16 stream   which of the run's streams it belongs to, for the
 *	             frames a stream forwards (0 on a stream's own frames)
 *
 * Every integer is little-endian, whatever the machine.  Inside a payload,
 * fields follow one another with no padding; a string is a u32 length and
 * its bytes, no NUL.  The reading side trusts nothing: a decoder
 * (struct wire_in) checks each length against what is left and against
 * the bound the caller gives before it hands out a field, and once one
 * check fails every later read fails too, so a caller checks wire_ok once
 * at the end of a frame.  Names and paths from the wire are checked to be
 * what they claim before they are used beneath a root (wire_name_ok,
 * wire_path_ok).
 */
#ifndef PCOPY_WIRE_H
#define PCOPY_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_HEAD_SIZE 8
#define WIRE_FRAME_MAX ((uint32_t)4 << 20) /* bytes of one payload, at most */

/* A frame's header, decoded. */
struct wire_head {
	uint32_t length;
	uint16_t type;
	uint16_t stream;
};

/* Encode a header into `out` (WIRE_HEAD_SIZE bytes). */
void wire_head_put(unsigned char *out, const struct wire_head *h);

/* Decode a header; -1 when its length passes WIRE_FRAME_MAX. */
int wire_head_get(const unsigned char *in, struct wire_head *h);

/* --- writing a payload --- */

/* A payload being built: a growing buffer (malloc'd). */
struct wire_out {
	unsigned char *buf;
	size_t len, cap;
};

void wire_put_u8(struct wire_out *o, uint8_t v);
void wire_put_u16(struct wire_out *o, uint16_t v);
void wire_put_u32(struct wire_out *o, uint32_t v);
void wire_put_u64(struct wire_out *o, uint64_t v);
void wire_put_i64(struct wire_out *o, int64_t v);
void wire_put_bytes(struct wire_out *o, const void *p, size_t n);
/* A string: its length (u32), then its n bytes. */
void wire_put_str(struct wire_out *o, const char *s, size_t n);
void wire_out_free(struct wire_out *o);

/* --- reading a payload --- */

/* A payload being read; `bad` once a read went past it or a bound. */
struct wire_in {
	const unsigned char *p;
	size_t left;
	int bad;
};

void wire_in_init(struct wire_in *in, const void *payload, size_t len);

/* Each returns the field, or 0 (NULL) and marks `in` bad. */
uint8_t wire_u8(struct wire_in *in);
uint16_t wire_u16(struct wire_in *in);
uint32_t wire_u32(struct wire_in *in);
uint64_t wire_u64(struct wire_in *in);
int64_t wire_i64(struct wire_in *in);
/* n bytes in place (not copied). */
const void *wire_bytes(struct wire_in *in, size_t n);
/* A string of at most `max` bytes, in place: not NUL-terminated; *len its length. */
const char *wire_str(struct wire_in *in, size_t max, size_t *len);
/* The same, copied into `buf` (max + 1 bytes) with a NUL; NULL if it holds a NUL. */
char *wire_cstr(struct wire_in *in, char *buf, size_t max);

/* Was everything read within bounds, and (with `whole`) all of it? */
int wire_ok(const struct wire_in *in, int whole);

/* --- what names and paths may be --- */

/*
 * Is s (len bytes) one name in a directory: not empty, not "." or "..",
 * no '/' and no NUL, at most NAME_MAX bytes?
 */
int wire_name_ok(const char *s, size_t len);

/*
 * Is s (len bytes) a path beneath a root: "" (the root itself) or names
 * joined by single '/', each wire_name_ok, at most PATH_MAX - 1 bytes?
 * No leading or trailing '/', no "..", nothing absolute.
 */
int wire_path_ok(const char *s, size_t len);

#endif
