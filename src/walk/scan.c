/*
 * scan.c - the counting scan.  The walker is held back by the bounded queue,
 * so its totals are final only near the end; this scan walks the same tree
 * with the same rules to give the progress display its totals early.  It
 * reads names only (a stat per directory, not per file), so it costs about
 * one getdents per directory; the byte total is then estimated from the
 * entries the walker has measured (progress.c).  It runs only when
 * progress is shown, and it passes the listings it reads on to the walker
 * (lookahead.h), which then need not read those directories again.
 */
#include "walk/scan.h"

#include <sys/stat.h>

#include "walk/walk.h"

static int count_entry(void *arg, const struct walk_entry *e)
{
	struct scan *sc = arg;

	(void)e;
	atomic_fetch_add_explicit(&sc->entries, 1, memory_order_relaxed);
	return 0;
}

static int count_directory(void *arg, const struct walk_entry *e, int descend)
{
	(void)arg;
	(void)e;
	return descend;
}

static void ignore_error(void *arg, const char *relpath, int err)
{
	(void)arg;
	(void)relpath;
	(void)err;
}

static void *scan_main(void *arg)
{
	struct scan *sc = arg;
	struct walk_options wo = {
		.follow = sc->s->opts->dereference,
		.one_file_system = sc->s->opts->one_file_system,
		.names_only = 1,
		.stop = &sc->cancel,
		.lookahead = sc->lookahead,
		.lookahead_produce = 1,
		.filter = sc->s->filter,
		.files = sc->s->list,
	};
	struct walk_visitor v = {
		.entry = count_entry, .directory = count_directory, .error = ignore_error, .ctx = sc
	};

	(void)walk_tree(sc->s->src_root, &wo, &v);
	return NULL;
}

int scan_start(struct scan *sc, const struct session *s, struct lookahead *la,
	       uint64_t counted_before)
{
	atomic_store(&sc->entries, counted_before);
	atomic_store(&sc->cancel, 0);
	sc->s = s;
	sc->lookahead = la;
	sc->running = pthread_create(&sc->thread, NULL, scan_main, sc) == 0;
	return sc->running ? 0 : -1;
}

void scan_stop(struct scan *sc)
{
	if (!sc->running)
		return;
	atomic_store(&sc->cancel, 1);
	pthread_join(sc->thread, NULL);
	sc->running = 0;
}
