/*
 * pcopy.c - the program, options to exit status, for pcopy and pcopy-mpi
 * alike (each main says how its processes run: pcopy.h).  The only place
 * that decides the exit status: 0 all copied, 1 some entries failed or
 * standard output failed, 2 nothing could start, 24 only source entries
 * vanished (rsync's meaning), 128+N stopped by signal N (141, SIGPIPE's,
 * when the reader of standard output went away).
 */
#include "cli/pcopy.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/path.h"
#include "base/util.h"
#include "cli/args.h"
#include "core/session.h"
#include "report/message.h"
#include "report/output.h"
#include "run/run.h"
#include "transport/remote_main.h"
#include "walk/files_from.h"
#include "walk/filter.h"

/* Exit statuses. */
enum {
	EXIT_ALL_COPIED = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_CANNOT_START = 2,
	EXIT_VANISHED = 24, /* rsync's: some source entries vanished, nothing else failed */
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
 * The status of a run: the worst of what happened (a signal, then 2,
 * then 1, then 24): 2 if some SRC could not start, 1 if some entry
 * failed, 24 if some source entries vanished and nothing else went wrong,
 * 128+N after signal N (which ends the run at once).
 */
static int status_of(const struct run_outcome *r)
{
	int status = r->cannot_start ? EXIT_CANNOT_START : EXIT_ALL_COPIED;

	if (r->errors > 0)
		status = worse_status(status, EXIT_SOME_FAILED);
	else if (r->vanished > 0)
		status = worse_status(status, EXIT_VANISHED);
	if (r->signal != 0)
		status = 128 + r->signal;
	return status;
}

/*
 * The rules of the filter options, in their order, reading the files now
 * that -0 is known; a server's --listed paths go into `listed`, which
 * becomes the filter's list.  0, or -1 when a file cannot be read, or a
 * listed path has a ".." (reported).
 */
static int build_filter(const struct options *o, struct filter *f, struct files_from *listed)
{
	int lists = 0;

	filter_init(f);
	for (size_t i = 0; i < o->nfilters; i++) {
		const struct filter_arg *fo = &o->filters[i];

		if (fo->listed) {
			lists = 1;
			if (files_from_add(listed, fo->arg) < 0) {
				report_message("--listed: '%s': a path with '..' is refused", fo->arg);
				return -1;
			}
		} else if (!fo->from_file) {
			filter_add(f, fo->arg, fo->include);
		} else if (filter_load(f, fo->arg, fo->include, o->from0) < 0) {
			report_path_error(fo->arg, strerror(errno));
			return -1;
		}
	}
	if (lists) {
		files_from_done(listed);
		f->list = listed;
	}
	return 0;
}

/* The --files-from list, if any.  0, or -1 when it cannot be used (reported). */
static int load_list(const struct options *o, struct files_from *l)
{
	char *bad = NULL;

	files_from_init(l);
	if (o->files_from == NULL || files_from_load(l, o->files_from, o->from0, &bad) == 0)
		return 0;
	if (bad != NULL)
		report_message("--files-from: '%s': a path with '..' is refused", bad);
	else
		report_path_error(o->files_from, strerror(errno));
	free(bad);
	return -1;
}

/* Several sources go into DST, which must then be a directory (cp): checked where DST is. */
static int check_many_sources(const struct options *o, int remote)
{
	struct stat st;

	if (o->nsrcs < 2 || remote == REMOTE_PUSH ||
	    (stat(o->dst, &st) == 0 && S_ISDIR(st.st_mode)))
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

int pcopy_main(int argc, char **argv, const struct launch *how)
{
	struct options opts;
	char err[1024];
	unsigned force = force_flags_from_env();
	struct filter filter;
	struct files_from list, listed;
	struct run_outcome outcome;
	mode_t user_umask;
	int status, ready, rc;
	int server = remote_is_server(argc, argv), remote = REMOTE_NONE;

	/*
	 * --help and --version are the only stdio output: a buffer that holds
	 * them whole makes a failure show at the checked flush (output_close)
	 * with its own errno, not inside fputs, whose errno stdio loses.
	 */
	static char help_buffer[16384];

	setvbuf(stdout, help_buffer, _IOFBF, sizeof(help_buffer));
	/* pcopy --server: the options come from the client, in the handshake. */
	if (server == 2)
		return remote_join(argv[3]);
	if (server && remote_server_start(&argc, &argv) < 0)
		return EXIT_CANNOT_START;
	switch (options_parse(&opts, argc, argv, stdout, err, sizeof(err))) {
	case PARSE_EXIT: options_free(&opts); return close_stdout(EXIT_ALL_COPIED);
	case PARSE_ERROR:
		usage_error(err);
		options_free(&opts);
		status = close_stdout(EXIT_CANNOT_START);
		if (server) /* a client of another version, say */
			remote_server_end(status);
		return status;
	case PARSE_RUN: break;
	}
	if (!server && (remote = remote_kind_of(&opts, err, sizeof(err))) < 0) {
		usage_error(err);
		options_free(&opts);
		return close_stdout(EXIT_CANNOT_START);
	}
	if (opts.progress == PROGRESS_AUTO)
		opts.progress = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
	filter_init(&filter);
	files_from_init(&list);
	files_from_init(&listed);
	ready = check_many_sources(&opts, remote) == 0 &&
		build_filter(&opts, &filter, &listed) == 0 &&
		load_list(&opts, &list) == 0;
	if (how->agree != NULL ? how->agree(&opts, ready) < 0 : !ready) {
		status = EXIT_CANNOT_START;
		goto out;
	}
	user_umask = setup_process(force);
	if (opts.umask >= 0) /* a server copies as its client's user would */
		user_umask = (mode_t)opts.umask;
	if (how->serve != NULL) {
		status = how->serve(&opts, filter.count > 0 || filter.list ? &filter : NULL,
				    opts.files_from ? &list : NULL, force);
		goto out;
	}
	if (server)
		rc = remote_server_run(&opts, filter.count > 0 || filter.list ? &filter : NULL,
				       opts.files_from ? &list : NULL, user_umask, force, &outcome,
				       &status);
	else if (remote != REMOTE_NONE)
		rc = remote_client(&opts, remote, filter.count > 0 || filter.list ? &filter : NULL,
				   opts.files_from ? &list : NULL, user_umask, force, &outcome,
				   &status);
	else
		rc = run_all(&opts, how->kind(&opts), filter.count > 0 || filter.list ? &filter : NULL,
			     opts.files_from ? &list : NULL, user_umask, force, NULL, &outcome);
	if (rc < 0)
		status = EXIT_CANNOT_START;
	else if (rc == 0)
		status = status_of(&outcome);
out:
	if (server) {
		status = close_stdout(status);
		remote_server_end(status);
		files_from_free(&list);
		files_from_free(&listed);
		filter_free(&filter);
		options_free(&opts);
		return status;
	}
	files_from_free(&list);
	files_from_free(&listed);
	filter_free(&filter);
	options_free(&opts);
	return close_stdout(status);
}
