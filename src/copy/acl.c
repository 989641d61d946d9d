/*
 * acl.c - reading the binary form of a POSIX ACL.  pcopy copies ACLs as
 * opaque attributes; it looks inside only when one cannot be written, to
 * give the copy permission bits that grant no more than the ACL did.
 */
#include "copy/acl.h"

#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

/* The value's layout (linux/posix_acl_xattr.h), little-endian. */
#define ACL_XATTR_VERSION 2
#define ACL_HEADER_SIZE 4 /* u32 version */
#define ACL_ENTRY_SIZE 8  /* u16 tag, u16 perm, u32 id */

/* Entry tags. */
enum {
	TAG_USER_OBJ = 0x01,
	TAG_USER = 0x02,
	TAG_GROUP_OBJ = 0x04,
	TAG_GROUP = 0x08,
	TAG_MASK = 0x10,
	TAG_OTHER = 0x20,
};

int acl_is_xattr_name(const char *name)
{
	return strcmp(name, ACL_ACCESS_XATTR) == 0 || strcmp(name, ACL_DEFAULT_XATTR) == 0;
}

static uint16_t read_u16(const unsigned char *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static uint32_t read_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

int acl_summarize(const void *value, size_t len, struct acl_summary *out)
{
	const unsigned char *p = value;
	unsigned user = 0, group = 0, other = 0, mask = 07, seen = 0;

	if (len < ACL_HEADER_SIZE || (len - ACL_HEADER_SIZE) % ACL_ENTRY_SIZE != 0 ||
	    read_u32(p) != ACL_XATTR_VERSION)
		goto invalid;
	for (size_t at = ACL_HEADER_SIZE; at < len; at += ACL_ENTRY_SIZE) {
		unsigned tag = read_u16(p + at), perm = read_u16(p + at + 2) & 07;

		switch (tag) {
		case TAG_USER_OBJ: user = perm; break;
		case TAG_GROUP_OBJ: group = perm; break;
		case TAG_OTHER: other = perm; break;
		case TAG_MASK: mask = perm; break;
		case TAG_USER:
		case TAG_GROUP: break;
		default: goto invalid;
		}
		seen |= tag;
	}
	/* The three base entries are required; a named entry requires a mask. */
	if ((seen & (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER)) !=
		    (TAG_USER_OBJ | TAG_GROUP_OBJ | TAG_OTHER) ||
	    ((seen & (TAG_USER | TAG_GROUP)) && !(seen & TAG_MASK)))
		goto invalid;
	out->bits = (mode_t)(user << 6 | (group & mask) << 3 | other);
	out->extended = (seen & (TAG_USER | TAG_GROUP | TAG_MASK)) != 0;
	return 0;
invalid:
	errno = EINVAL;
	return -1;
}
