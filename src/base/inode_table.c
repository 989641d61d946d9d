/* inode_table.c - hard-link bookkeeping: the only memory that grows with the tree. */
#include "base/inode_table.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct inode_entry {
	uint64_t dev; /* device */
	uint64_t ino; /* inode */
	size_t path;  /* index in paths */
	int used;     /* slot taken */
};

void inode_table_init(struct inode_table *t)
{
	t->cap = 64;
	t->count = 0;
	t->entries = xcalloc(t->cap, sizeof(*t->entries));
	strlist_init(&t->paths);
}

void inode_table_free(struct inode_table *t)
{
	free(t->entries);
	strlist_free(&t->paths);
	t->entries = NULL;
	t->cap = t->count = 0;
}

static size_t hash_of(uint64_t dev, uint64_t ino)
{
	uint64_t h = ino * 0x9E3779B97F4A7C15ull ^ dev * 0xC2B2AE3D27D4EB4Full;

	return (size_t)(h ^ (h >> 29));
}

/* The slot holding (dev, ino), or the free slot where it would go. */
static struct inode_entry *find_slot(struct inode_entry *entries, size_t cap, uint64_t dev,
				     uint64_t ino)
{
	size_t i = hash_of(dev, ino) & (cap - 1);

	while (entries[i].used && (entries[i].dev != dev || entries[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return &entries[i];
}

static void grow(struct inode_table *t)
{
	size_t cap = t->cap * 2;
	struct inode_entry *entries = xcalloc(cap, sizeof(*entries));

	for (size_t i = 0; i < t->cap; i++)
		if (t->entries[i].used)
			*find_slot(entries, cap, t->entries[i].dev, t->entries[i].ino) =
				t->entries[i];
	free(t->entries);
	t->entries = entries;
	t->cap = cap;
}

const char *inode_table_find(const struct inode_table *t, uint64_t dev, uint64_t ino)
{
	const struct inode_entry *e = find_slot(t->entries, t->cap, dev, ino);

	return e->used ? strlist_get(&t->paths, e->path) : NULL;
}

const char *inode_table_check(struct inode_table *t, uint64_t dev, uint64_t ino,
			      const char *relpath)
{
	struct inode_entry *e;

	if (2 * (t->count + 1) > t->cap)
		grow(t);
	e = find_slot(t->entries, t->cap, dev, ino);
	if (e->used)
		return strlist_get(&t->paths, e->path);
	e->used = 1;
	e->dev = dev;
	e->ino = ino;
	e->path = strlist_add(&t->paths, relpath);
	t->count++;
	return NULL;
}
