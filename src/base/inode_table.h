/* inode_table.h - remembers (dev, ino) of multiply-linked files already seen. */
#ifndef PCOPY_INODE_TABLE_H
#define PCOPY_INODE_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/strlist.h"

struct inode_entry;

/* An open-addressing hash from (dev, ino) to the first path seen for it. */
struct inode_table {
	struct inode_entry *entries; /* cap slots, ino 0 with used 0 = free */
	size_t cap;                  /* a power of two */
	size_t count;                /* slots in use */
	struct strlist paths;        /* the first relative path of each inode */
};

void inode_table_init(struct inode_table *t);
void inode_table_free(struct inode_table *t);

/*
 * If (dev, ino) was seen, return the relative path it was first seen at;
 * otherwise remember `relpath` for it and return NULL.
 */
const char *inode_table_check(struct inode_table *t, uint64_t dev, uint64_t ino,
			      const char *relpath);

/* The path remembered for (dev, ino), or NULL; never adds. */
const char *inode_table_find(const struct inode_table *t, uint64_t dev, uint64_t ino);

#endif
