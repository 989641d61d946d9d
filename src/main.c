/*
 * main.c - pcopy: options, checks and wiring.  The only place that decides
 * the exit status: 0 all copied, 1 some entries failed or standard output
 * failed, 2 nothing could start, 24 only source entries vanished (rsync's
 * meaning), 128+N stopped by signal N (141, SIGPIPE's, when the reader of
 * standard output went away).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "change.h"
#include "copy.h"
#include "copytree.h"
#include "durable.h"
#include "filelist.h"
#include "filter.h"
#include "linkdest.h"
#include "lookahead.h"
#include "monitor.h"
#include "mpi_transport.h"
#include "options.h"
#include "output.h"
#include "path.h"
#include "pool.h"
#include "progress.h"
#include "queue.h"
#include "scan.h"
#include "session.h"
#include "spill.h"
#include "target.h"
#include "update.h"
#include "util.h"
#include "worker.h"

/* Exit statuses. */
enum {
	EXIT_ALL_COPIED = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_CANNOT_START = 2,
	EXIT_VANISHED = 24, /* rsync's: some source entries vanished, nothing else failed */
};

/* Roots of a run and the names to copy when SRC is a single entry. */
struct roots {
	char *src_name; /* single entry: SRC's name in src_root, else NULL */
	char *dst_name; /* single entry: the copy's name in dst_root */
};

static void usage_error(const char *msg)
{
	report_message("%s", msg);
	fputs("Try 'pcopy --help' for more information.\n", stderr);
}

/*
 * Process-wide settings every worker inherits.  openat2 is the kernel's, the
 * same for every run in the process: path.c keeps it (copy_set_force sets
 * the run's own fallbacks).
 */
static mode_t setup_process(unsigned force)
{
	mode_t old = umask(0); /* modes are computed explicitly (meta.c) */

	signal(SIGPIPE, SIG_IGN); /* a closed stdout is a write error, not death */
	signal(SIGXFSZ, SIG_IGN); /* past ulimit -f: EFBIG for that file only */
	if (force & FORCE_NO_OPENAT2)
		path_disable_openat2();
	return old;
}

/*
 * Open (and for a tree, make) the copy's top directory as s->dst_root.
 * One that exists is made safe to write in by copytree_start.
 */
static int open_dst_root(struct session *s, const struct target *t)
{
	if (mkdir(t->path, 0700) < 0 && errno != EEXIST)
		return -1;
	s->dst_root = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return s->dst_root < 0 ? -1 : 0;
}

/* Open the directory holding `path`, and give its name there in *name (malloc'd). */
static int open_parent(const char *path, char **name)
{
	char *copy = xstrdup(path);
	int fd;

	*name = xstrdup(basename(copy));
	strcpy(copy, path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	return fd;
}

/* Open SRC and DST roots; for a single entry, their parent directories. */
static int open_roots(struct session *s, const struct target *t, struct roots *r)
{
	s->src_root = s->dst_root = -1;
	if (S_ISDIR(t->src_st.st_mode)) {
		s->src_root = open(t->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->src_root < 0) {
			report_path_error(t->src, strerror(errno));
			return -1;
		}
		if (s->opts->dry_run) {
			/* Look, never make: a dry run predicts conflicts with what is there. */
			if (t->exists)
				s->dst_root = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			return 0;
		}
		if (open_dst_root(s, t) < 0) {
			report_path_error(t->path, strerror(errno));
			return -1;
		}
		return 0;
	}
	s->src_root = open_parent(t->src, &r->src_name);
	s->dst_root = open_parent(t->path, &r->dst_name);
	if (s->src_root < 0 || s->dst_root < 0) {
		report_path_error(s->src_root < 0 ? t->src : t->path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * --fsync: note the file system of the directory the copy goes into (DST,
 * or for a single entry the directory that gets its name).  0, or -1
 * (reported).
 */
static int note_durable(struct session *s, const struct target *t)
{
	if (s->durable == NULL || durable_note(s->durable, s->dst_root) == 0)
		return 0;
	report_path_error(t->path, strerror(errno));
	return -1;
}

/*
 * --fsync, at the end: sync the file systems written to.  A failure is an
 * error of the whole copy, reported under `display`.
 */
static void sync_durable(const struct session *s, const char *display)
{
	char reason[256];

	if (s->durable == NULL || durable_sync(s->durable) == 0)
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
	enum plan_action action = PLAN_COPY;
	struct linkdest ld;
	struct stat st;
	int there = fstatat(s->dst_root, r->dst_name, &st, AT_SYMLINK_NOFOLLOW) == 0;

	linkdest_init(&ld, s);
	if (update_looks_first(s))
		action = update_decide(s, &ld, s->src_root, r->src_name, s->dst_root, r->dst_name,
				       es, there ? &st : NULL);
	linkdest_free(&ld);
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
	w.dst_dir = s->dst_root;
	copier_set_dst_dir(&w.copier, s->dst_root);
	(void)worker_copy_named(&w, kind_of_mode(es.mode), r->src_name, r->dst_name, "", &es);
	w.src_dir = w.dst_dir = -1;
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
	s->worker_stats = !(s->force & FORCE_WALKER_STATS);
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
	/* pcopy-mpi's other ranks list directories for the walker, even in a dry run. */
	if (tree && (!s->opts->dry_run || s->opts->mode == MODE_MPI)) {
		if (!s->opts->dry_run)
			share_stats(s);
		s->queue =
			queue_create(s->opts->queue,
				     s->opts->mode == MODE_PROCESS ? QUEUE_SHARED : QUEUE_PRIVATE);
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
 * Copy one SRC operand to where cp's rules put it.  0, or -1 if it could
 * not start.  The copy's path is left in *path (malloc'd) when path is not NULL.
 */
static int run_source(struct session *s, struct monitor *m, const char *src, char **path)
{
	struct roots r = { NULL, NULL };
	struct target t;
	char err[1024];
	int rc = -1;

	if (target_resolve(s->opts, src, &t, err, sizeof(err)) < 0) {
		report_message("%s", err);
		target_free(&t);
		return -1;
	}
	s->src_display = t.src;
	s->dst_display = t.path;
	if (s->list != NULL && !S_ISDIR(t.src_st.st_mode)) {
		report_message("--files-from needs a directory SRC, not '%s'", t.src);
		target_free(&t);
		return -1;
	}
	if (path != NULL)
		*path = xstrdup(t.path);
	if (open_roots(s, &t, &r) == 0 && note_durable(s, &t) == 0) {
		linkdest_open_roots(s, t.path, S_ISDIR(t.src_st.st_mode));
		rc = run_copy(s, &t, &r, m);
		linkdest_close_roots(s);
	}
	pool_free(m->pool);
	m->pool = NULL;
	queue_destroy(s->queue);
	s->queue = NULL;
	if (s->src_root >= 0)
		close(s->src_root);
	if (s->dst_root >= 0)
		close(s->dst_root);
	free(r.src_name);
	free(r.dst_name);
	target_free(&t);
	return rc;
}

/* Rank of an exit status, to keep the worst: a signal, 2, 1, 24, 0. */
static int status_rank(int status)
{
	switch (status) {
	case EXIT_ALL_COPIED: return 0;
	case EXIT_VANISHED: return 1;
	case EXIT_SOME_FAILED: return 2;
	case EXIT_CANNOT_START: return 3;
	default: return 4; /* 128+N */
	}
}

static int worse_status(int a, int b)
{
	return status_rank(b) > status_rank(a) ? b : a;
}

/*
 * Copy every SRC in turn, with one shared state, so that progress and
 * stats add up across them; each has its own roots, queue and workers.
 * The status is the worst of all: 2 if some SRC could not start, 1 if
 * some entry failed, 24 if some source entries vanished and nothing else
 * went wrong, 128+N after signal N (which ends the run at once).
 */
static int run(const struct options *o, const struct filter *filter, const struct filelist *list,
	       mode_t user_umask, unsigned force)
{
	struct session s = {
		.opts = o,
		.umask = user_umask,
		.filter = filter,
		.list = list,
		.force = force,
		.spill_fd = -1,
	};
	struct monitor m = { .s = &s, .style = o->progress, .start = monotonic_seconds() };
	struct durable durable;
	int status = EXIT_ALL_COPIED;
	char *target = NULL; /* the copy's path, for --stats (one SRC) */
	int started = 0;

	m.last_draw = m.start;
	monitor_block_signals(&m.signals);
	s.shared = shared_state_create(o->jobs_max, o->mode == MODE_PROCESS);
	if (s.shared == NULL) {
		report_message("cannot map shared memory: %s", strerror(errno));
		return EXIT_CANNOT_START;
	}
	session_ids_init(&s);
	copy_set_force(s.shared, force);
	output_share(&s.shared->stdout_error); /* workers record there too */
	durable_init(&durable);
	if (o->fsync && !o->dry_run)
		s.durable = &durable;
	for (int i = 0; i < o->nsrcs && !atomic_load(&s.shared->stop); i++) {
		s.final_source = i == o->nsrcs - 1;
		if (run_source(&s, &m, o->srcs[i], o->nsrcs == 1 ? &target : NULL) == 0)
			started = 1;
		else
			status = EXIT_CANNOT_START;
	}
	if (!atomic_load(&s.shared->stop))
		sync_durable(&s, target != NULL ? target : o->dst);
	durable_free(&durable);
	/* Stopped by a signal or a closed stdout: no "done" line, no stats. */
	if (started && atomic_load(&m.caught) == 0 && output_error() != EPIPE) {
		monitor_final(&m);
		s.dst_display = target != NULL ? target : o->dst;
		print_stats(&s, monotonic_seconds() - m.start);
	}
	if (stats_errors(&s) > 0)
		status = worse_status(status, EXIT_SOME_FAILED);
	else if (stats_vanished(&s) > 0)
		status = worse_status(status, EXIT_VANISHED);
	if (atomic_load(&m.caught) != 0)
		status = 128 + atomic_load(&m.caught);
	output_share(NULL);
	free(target);
	session_ids_free(&s);
	shared_state_destroy(s.shared);
	return status;
}

/*
 * The rules of the filter options, in their order, reading the files now
 * that -0 is known.  0, or -1 when a file cannot be read (reported).
 */
static int build_filter(const struct options *o, struct filter *f)
{
	filter_init(f);
	for (size_t i = 0; i < o->nfilters; i++) {
		const struct filter_arg *fo = &o->filters[i];

		if (!fo->from_file) {
			filter_add(f, fo->arg, fo->include);
		} else if (filter_load(f, fo->arg, fo->include, o->from0) < 0) {
			report_path_error(fo->arg, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The --files-from list, if any.  0, or -1 when it cannot be used (reported). */
static int load_list(const struct options *o, struct filelist *l)
{
	char *bad = NULL;

	filelist_init(l);
	if (o->files_from == NULL || filelist_load(l, o->files_from, o->from0, &bad) == 0)
		return 0;
	if (bad != NULL)
		report_message("--files-from: '%s': a path with '..' is refused", bad);
	else
		report_path_error(o->files_from, strerror(errno));
	free(bad);
	return -1;
}

/* Several sources go into DST, which must then be a directory (cp). */
static int check_many_sources(const struct options *o)
{
	struct stat st;

	if (o->nsrcs < 2 || (stat(o->dst, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	report_message("target '%s' is not a directory", o->dst);
	return -1;
}

/*
 * Close standard output and fold its fate into the status.  A reader that
 * went away (EPIPE; SIGPIPE is ignored) ends pcopy as SIGPIPE would have,
 * without a message: status 128+SIGPIPE, like the other signals.  Any
 * other failure was reported once and makes a clean run (or one with only
 * vanished entries) a failed one.
 */
static int close_stdout(int status)
{
	int err;

	(void)output_close();
	err = output_error();
	if (err == EPIPE && status < 128)
		return 128 + SIGPIPE;
	if (err != 0 && (status == EXIT_ALL_COPIED || status == EXIT_VANISHED))
		return EXIT_SOME_FAILED;
	return status;
}

/* The whole run of this process, options to exit status. */
static int pcopy(int argc, char **argv)
{
	struct options opts;
	char err[1024];
	unsigned force = force_flags_from_env();
	struct filter filter;
	struct filelist list;
	mode_t user_umask;
	int status, ready;

	/*
	 * --help and --version are the only stdio output: a buffer that holds
	 * them whole makes a failure show at the checked flush (output_close)
	 * with its own errno, not inside fputs, whose errno stdio loses.
	 */
	static char help_buffer[16384];

	setvbuf(stdout, help_buffer, _IOFBF, sizeof(help_buffer));
	switch (options_parse(&opts, argc, argv, stdout, err, sizeof(err))) {
	case PARSE_EXIT: options_free(&opts); return close_stdout(EXIT_ALL_COPIED);
	case PARSE_ERROR:
		usage_error(err);
		options_free(&opts);
		return close_stdout(EXIT_CANNOT_START);
	case PARSE_RUN: break;
	}
	if (opts.progress == PROGRESS_AUTO)
		opts.progress = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
	filter_init(&filter);
	filelist_init(&list);
	ready = check_many_sources(&opts) == 0 && build_filter(&opts, &filter) == 0 &&
		load_list(&opts, &list) == 0;
	/* pcopy-mpi: all ranks start or none does. */
	if (mpi_ready(&opts, ready) < 0) {
		status = EXIT_CANNOT_START;
		goto out;
	}
	user_umask = setup_process(force);
	if (mpi_rank() > 0)
		status = mpi_serve(&opts, filter.count > 0 ? &filter : NULL,
				   opts.files_from ? &list : NULL, force);
	else
		status = run(&opts, filter.count > 0 ? &filter : NULL,
			     opts.files_from ? &list : NULL, user_umask, force);
out:
	filelist_free(&list);
	filter_free(&filter);
	options_free(&opts);
	return close_stdout(status);
}

int main(int argc, char **argv)
{
	int status;

	if (mpi_start(&argc, &argv) < 0)
		return EXIT_CANNOT_START;
	status = pcopy(argc, argv);
	mpi_end(status);
	return status;
}
