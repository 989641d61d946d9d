/*
 * lookahead.c - listings passed from the counting scan to the walker (see
 * lookahead.h).  A mutex-guarded FIFO; the scan only appends, the walker
 * only takes from the front, so each call is O(1) but for dropping listings
 * the walker has already passed.
 */
#include "walk/lookahead.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct lookahead_dir {
	struct lookahead_dir *next;
	uint64_t seq;
	size_t size; /* bytes charged to the budget */
	struct lookahead_list list;
	char path[]; /* the directory's path from the root */
};

void lookahead_init(struct lookahead *la, size_t budget)
{
	pthread_mutex_init(&la->lock, NULL);
	la->head = la->tail = NULL;
	la->used = 0;
	la->budget = budget;
	la->wanted = 0;
	la->off = 0;
}

static void drop_front(struct lookahead *la)
{
	struct lookahead_dir *d = la->head;

	la->head = d->next;
	if (la->head == NULL)
		la->tail = NULL;
	la->used -= d->size;
	free(d->list.data);
	free(d);
}

void lookahead_destroy(struct lookahead *la)
{
	while (la->head != NULL)
		drop_front(la);
	pthread_mutex_destroy(&la->lock);
}

void lookahead_list_add(struct lookahead_list *l, unsigned char d_type, const char *name)
{
	size_t n = strlen(name) + 1;

	if (l->cap - l->len < n + 1) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		while (l->cap - l->len < n + 1)
			l->cap *= 2;
		l->data = xrealloc(l->data, l->cap);
	}
	l->data[l->len++] = (char)d_type;
	memcpy(l->data + l->len, name, n);
	l->len += n;
}

void lookahead_offer(struct lookahead *la, uint64_t seq, const char *path, struct lookahead_list *l)
{
	size_t plen = strlen(path) + 1;
	size_t size = sizeof(struct lookahead_dir) + plen + l->len;
	struct lookahead_dir *d = NULL;

	if (l->len > 0 && l->len < l->cap) { /* it may be kept a while: give back the slack */
		l->data = xrealloc(l->data, l->len);
		l->cap = l->len;
	}
	pthread_mutex_lock(&la->lock);
	/* Not for a directory the walker has passed, nor over the budget. */
	if (!la->off && seq >= la->wanted && la->used + size <= la->budget) {
		d = xmalloc(sizeof(*d) + plen);
		d->next = NULL;
		d->seq = seq;
		d->size = size;
		d->list = *l;
		memcpy(d->path, path, plen);
		if (la->tail != NULL)
			la->tail->next = d;
		else
			la->head = d;
		la->tail = d;
		la->used += size;
	}
	pthread_mutex_unlock(&la->lock);
	if (d == NULL)
		free(l->data);
	l->data = NULL;
	l->len = l->cap = 0;
}

int lookahead_take(struct lookahead *la, uint64_t seq, const char *path, struct lookahead_list *out)
{
	struct lookahead_dir *d;
	int found = 0;

	pthread_mutex_lock(&la->lock);
	la->wanted = seq + 1;
	while (la->head != NULL && la->head->seq < seq)
		drop_front(la);
	d = la->head;
	if (d != NULL && d->seq == seq) {
		if (strcmp(d->path, path) == 0) {
			*out = d->list;
			d->list.data = NULL;
			found = 1;
			drop_front(la);
		} else {
			la->off = 1;
		}
	}
	if (la->off)
		while (la->head != NULL)
			drop_front(la);
	pthread_mutex_unlock(&la->lock);
	return found;
}

int lookahead_list_next(const struct lookahead_list *l, size_t *pos, unsigned char *d_type,
			const char **name)
{
	if (*pos >= l->len)
		return 0;
	*d_type = (unsigned char)l->data[*pos];
	*name = l->data + *pos + 1;
	*pos += 1 + strlen(*name) + 1;
	return 1;
}
