/*
 * run.c - one run of pcopy: every SRC in turn, each copied to where cp's
 * rules put it (target.h), by the walker and a pool of workers (or, for a
 * single entry, here), with one shared state so that progress and stats
 * add up across them.
 */
#include "run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "base/util.h"
#include "copy/copy.h"
#include "copy/data.h"
#include "copy/durable.h"
#include "core/kind.h"
#include "core/queue.h"
#include "core/session.h"
#include "dst/dst.h"
#include "report/change.h"
#include "report/message.h"
#include "report/output.h"
#include "report/progress.h"
#include "report/quote.h"
#include "run/copytree.h"
#include "run/monitor.h"
#include "run/pool.h"
#include "run/spill.h"
#include "run/target.h"
#include "run/worker.h"
#include "sync/update.h"
#include "walk/filter.h"
#include "walk/lookahead.h"
#include "walk/scan.h"

/* Roots of a run and the names to copy when SRC is a single entry. */
struct roots {
	char *src_name; /* single entry: SRC's name in src_root, else NULL */
	char *dst_name; /* single entry: the copy's name in dst_root */
};

/*
 * Open SRC's root and set up DST's (dst.h); for a single entry, the
 * directories that hold them.  0, or -1 (reported).
 */
static int open_roots(struct session *s, const struct target *t, struct roots *r)
{
	int tree = S_ISDIR(t->src_st.st_mode);

	if (s->remote != NULL) /* read there: nothing to open here */
		r->src_name = tree ? NULL : xstrdup(path_basename(t->src));
	else
		s->src_root = tree ? open(t->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
				   : open_parent_dir(t->src, &r->src_name);
	if (s->src_root < 0 && s->remote == NULL) {
		report_path_error(t->src, strerror(errno));
		return -1;
	}
	if (dst_root_open(s, t->path, tree, &r->dst_name) < 0) {
		report_path_error(t->path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * --fsync, at the end: sync the file systems written to.  A failure is an
 * error of the whole copy, reported under `display`.
 */
static void sync_durable(const struct session *s, const char *display)
{
	char reason[256];

	if (s->durable == NULL || dst_sync((struct session *)s) == 0)
		return;
	snprintf(reason, sizeof(reason), "cannot sync to stable storage: %s", strerror(errno));
	report_path_error(display, reason);
	atomic_fetch_add(&parent_slot(s)->errors, 1);
}

/*
 * Dry run of a single entry: decide as the real run would (update.h), and
 * count and tell what it would do.  target_resolve refused type conflicts.
 */
static void dry_run_single(const struct session *s, const struct roots *r,
			   const struct entry_stat *es)
{
	struct worker_slot *slot = parent_slot(s);
	struct src_entry src = { .dir = s->src_root,
				 .name = r->src_name,
				 .fd = -1,
				 .follow = s->opts->dereference,
				 .st = es,
				 .meta = s->src_root_meta };
	enum plan_action action = PLAN_COPY;
	struct dst *d = dst_open(s, slot);
	struct stat st;
	int there = dst_enter(d, "", 0) == 0 && dst_lstat(d, 0, r->dst_name, &st) == 0;
	int tree;

	if (update_looks_first(s))
		action = update_decide(s, d, &src, r->dst_name, there ? &st : NULL, &tree);
	dst_close(d);
	worker_report_planned(s, slot, action, es, there ? st.st_mode : 0, "");
	worker_count_done(slot, kind_of_mode(es->mode), es, action);
}

/*
 * SRC is not a directory: copy the one entry here, in the main thread, as
 * a worker whose directories are the roots ("" names it in messages).
 */
static void copy_single(const struct session *s, const struct target *t, const struct roots *r)
{
	/* The filter sees a single entry by its name, as rsync does. */
	int excluded = filter_excluded(s->filter, r->src_name, 0);
	struct entry_stat es;
	struct worker w;

	entry_stat_from(&es, &t->src_st);
	if (!excluded) {
		atomic_fetch_add(&s->shared->queued_entries, 1);
		atomic_fetch_add(&s->shared->queued_bytes, S_ISREG(es.mode) ? es.size : 0);
	}
	if (s->final_source)
		atomic_store(&s->shared->walk_done, 1);
	if (excluded)
		return;
	if (s->opts->dry_run) {
		dry_run_single(s, r, &es);
		return;
	}
	worker_init(&w, s, parent_slot(s));
	w.src_dir = s->src_root; /* borrowed: given back before worker_free */
	if (s->remote != NULL) {
		w.copier.source = s->remote->parent_source;
		w.copier.src_path = "";
		w.copier.meta = s->src_root_meta;
	}
	if (dst_enter(w.dst, "", 0) == 0)
		(void)worker_copy_named(&w, kind_of_mode(es.mode), r->src_name, r->dst_name, "",
					&es);
	else
		report_dst_error(s, parent_slot(s), "", errno, NULL);
	w.src_dir = -1;
	worker_free(&w);
}

/*
 * SRC is a directory: walk it, queueing its entries for the workers (none
 * in a dry run), let them drain the queue, then make the hard links and
 * set directory metadata.
 */
static void copy_tree(const struct session *s, struct lookahead *la, struct pool *pool)
{
	struct copytree *ct = copytree_start(s);

	copytree_walk(ct, la);
	if (s->final_source)
		atomic_store(&s->shared->walk_done, 1);
	if (s->queue != NULL)
		queue_close(s->queue);
	if (pool != NULL)
		pool_wait(pool);
	copytree_finish(ct);
}

static void print_stats(const struct session *s, double elapsed)
{
	struct run_stats st;
	char stackbuf[1024];
	char *buf = stackbuf;
	size_t len;

	if (s->opts->stats == STATS_NONE)
		return;
	stats_collect(s, elapsed, &st);
	len = stats_format(s->opts->stats, &st, buf, sizeof(stackbuf));
	if (len >= sizeof(stackbuf)) { /* a long target */
		buf = xmalloc(len + 1);
		stats_format(s->opts->stats, &st, buf, len + 1);
	}
	if (s->opts->stats == STATS_JSON)
		(void)output_write(buf, len);
	else
		(void)write_all(STDERR_FILENO, buf, len);
	if (buf != stackbuf)
		free(buf);
}

/*
 * Let the workers stat the regular files (JOB_UNSTATED), a cost the walker
 * would otherwise pay for the whole tree on one CPU.  When hard links are
 * kept, the workers hand multiply-linked files back through a spill file;
 * without one the walker stats everything itself.
 */
static void share_stats(struct session *s)
{
	s->spill_fd = -1;
	/* A remote source's listings come with every stat made there. */
	s->worker_stats = !(s->force & FORCE_WALKER_STATS) && s->remote == NULL;
	if (s->worker_stats && (s->opts->preserve & PRESERVE_LINKS)) {
		s->spill_fd = spill_create();
		s->worker_stats = s->spill_fd >= 0;
	}
	for (int i = 0; i < s->shared->nslots; i++)
		atomic_store(&s->shared->slots[i].spilled, 0);
}

static void unshare_stats(struct session *s)
{
	if (s->spill_fd >= 0)
		close(s->spill_fd);
	s->spill_fd = -1;
	s->worker_stats = 0;
}

/*
 * Start the workers, walk (or copy the one entry), wait.  -1 if nothing
 * could start.  The monitor runs for the length of one SRC.
 */
static int run_copy(struct session *s, const struct target *t, const struct roots *r,
		    struct monitor *m)
{
	int tree = S_ISDIR(t->src_st.st_mode);
	struct scan sc = { .running = 0 };
	struct lookahead la;

	m->pool = NULL;
	/* Workers that list directories for the walker do so even in a dry run. */
	if (tree && (!s->opts->dry_run || (s->kind->flags & KIND_LISTS))) {
		enum queue_backend memory =
			(s->kind->flags & KIND_PROCESSES) ? QUEUE_SHARED : QUEUE_PRIVATE;

		if (!s->opts->dry_run)
			share_stats(s);
		s->queue = queue_create(s->opts->queue, memory);
		if (s->queue == NULL || (m->pool = pool_start(s)) == NULL) {
			if (errno != 0) /* else pool_start has told why */
				report_message("cannot start workers: %s", strerror(errno));
			unshare_stats(s);
			return -1;
		}
	}
	s->listing = pool_listing(m->pool);
	lookahead_init(&la, LOOKAHEAD_BUDGET);
	if (tree && m->style != PROGRESS_NONE &&
	    scan_start(&sc, s, &la, atomic_load(&s->shared->queued_entries)) == 0)
		m->scan = &sc;
	if (monitor_start(m) < 0)
		report_message("cannot start the monitor: %s", strerror(errno));
	if (tree)
		copy_tree(s, m->scan != NULL ? &la : NULL, m->pool);
	else
		copy_single(s, t, r);
	/* The monitor reads the scan's counters: stop it before the scan. */
	monitor_finish(m);
	if (m->scan != NULL)
		scan_stop(m->scan);
	m->scan = NULL;
	lookahead_destroy(&la);
	s->listing = NULL;
	unshare_stats(s);
	return 0;
}

/*
 * Where SRC operand `index` (`src`) is copied to: cp's rules, from its stat
 * here or, for a remote source, there.  0, or -1 with a message in err.
 */
static int resolve_source(struct session *s, int index, const char *src, struct target *t,
			  char *err, size_t errlen)
{
	struct stat st;
	char *quoted;

	if (s->remote == NULL)
		return target_resolve(s->opts, src, t, err, errlen);
	if (s->remote->root(s->remote->ctx, index, &st, &s->src_root_meta) == 0)
		return target_resolve_remote(s->opts, src, &st, t, err, errlen);
	memset(t, 0, sizeof(*t));
	if (errno == ECANCELED) { /* the source gave up, and says why itself */
		err[0] = '\0';
		return -1;
	}
	quoted = quote_alloc(src, QUOTE_ALWAYS);
	snprintf(err, errlen, "cannot stat %s: %s", quoted, strerror(errno));
	free(quoted);
	return -1;
}

/*
 * Copy SRC operand `index` (`src`) to where cp's rules put it.  0, or -1
 * if it could not start.  The copy's path is left in *path (malloc'd)
 * when path is not NULL.
 */
static int run_source(struct session *s, struct monitor *m, int index, const char *src, char **path)
{
	struct roots r = { NULL, NULL };
	struct target t;
	char err[1024];
	int rc = -1;

	if (resolve_source(s, index, src, &t, err, sizeof(err)) < 0) {
		if (err[0] != '\0')
			report_message("%s", err);
		target_free(&t);
		return -1;
	}
	s->src_display = t.src;
	s->dst_display = t.path;
	s->src_root_st = &t.src_st;
	if (s->list != NULL && !S_ISDIR(t.src_st.st_mode)) {
		report_message("--files-from needs a directory SRC, not '%s'", t.src);
		target_free(&t);
		return -1;
	}
	if (path != NULL)
		*path = xstrdup(t.path);
	if (open_roots(s, &t, &r) == 0)
		rc = run_copy(s, &t, &r, m);
	pool_free(m->pool);
	m->pool = NULL;
	queue_destroy(s->queue);
	s->queue = NULL;
	if (s->src_root >= 0)
		close(s->src_root);
	s->src_root = -1;
	dst_root_close(s);
	free(r.src_name);
	free(r.dst_name);
	target_free(&t);
	s->src_root_st = NULL;
	s->src_root_meta = NULL;
	return rc;
}

int run_all(const struct options *o, const struct worker_kind *kind, const struct filter *filter,
	    const struct files_from *list, mode_t user_umask, unsigned force,
	    const struct src_remote *remote, struct run_outcome *out)
{
	struct session s = {
		.opts = o,
		.kind = kind,
		.dst_ops = &dst_local,
		.src_root = -1,
		.remote = remote,
		.dst_root = -1,
		.umask = user_umask,
		.filter = filter,
		.list = list,
		.force = force,
		.spill_fd = -1,
	};
	struct monitor m = { .s = &s, .style = o->progress, .start = monotonic_seconds() };
	struct durable durable;
	char *target = NULL; /* the copy's path, for --stats (one SRC) */

	memset(out, 0, sizeof(*out));
	m.last_draw = m.start;
	monitor_block_signals(&m.signals);
	s.shared = shared_state_create(o->jobs_max, (kind->flags & KIND_PROCESSES) != 0);
	if (s.shared == NULL) {
		report_message("cannot map shared memory: %s", strerror(errno));
		return -1;
	}
	session_ids_init(&s);
	copy_set_force(s.shared, force);
	output_share(&s.shared->stdout_error); /* workers record there too */
	durable_init(&durable);
	if (o->fsync && !o->dry_run)
		s.durable = &durable;
	for (int i = 0; i < o->nsrcs && !atomic_load(&s.shared->stop); i++) {
		s.final_source = i == o->nsrcs - 1;
		if (run_source(&s, &m, i, o->srcs[i], o->nsrcs == 1 ? &target : NULL) == 0)
			out->started = 1;
		else
			out->cannot_start = 1;
	}
	if (!atomic_load(&s.shared->stop))
		sync_durable(&s, target != NULL ? target : o->dst);
	durable_free(&durable);
	/* Stopped by a signal or a closed stdout: no "done" line, no stats. */
	if (out->started && atomic_load(&m.caught) == 0 && output_error() != EPIPE) {
		monitor_final(&m);
		s.dst_display = target != NULL ? target : o->dst;
		print_stats(&s, monotonic_seconds() - m.start);
	}
	out->errors = stats_errors(&s);
	out->vanished = stats_vanished(&s);
	out->signal = atomic_load(&m.caught);
	output_share(NULL);
	free(target);
	session_ids_free(&s);
	shared_state_destroy(s.shared);
	return 0;
}
