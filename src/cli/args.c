/* args.c - getopt_long parsing of pcopy's command line (args.h). */
#include "cli/args.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "report/quote.h"

/* Long-only options get values above the char range. */
enum {
	OPT_MODE = 256,
	OPT_QUEUE,
	OPT_PROGRESS,
	OPT_STATS,
	OPT_NO_PRESERVE,
	OPT_UPDATE,
	OPT_ITEMIZE,
	OPT_CHANGING,
	OPT_EXCLUDE,
	OPT_INCLUDE,
	OPT_EXCLUDE_FROM,
	OPT_INCLUDE_FROM,
	OPT_FILES_FROM,
	OPT_FSYNC,
	OPT_LINK_DEST,
	OPT_DELETE,
	OPT_DELETE_EXCLUDED,
	OPT_REMOTE_PCOPY,
	OPT_STREAMS,
	OPT_UMASK,
	OPT_BWLIMIT,
	OPT_PARTIAL,
	OPT_LISTED,
};

static const struct option long_options[] = {
	{ "jobs", required_argument, NULL, 'j' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "queue", required_argument, NULL, OPT_QUEUE },
	{ "progress", required_argument, NULL, OPT_PROGRESS },
	{ "stats", optional_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "one-file-system", no_argument, NULL, 'x' },
	{ "dereference", no_argument, NULL, 'L' },
	{ "no-target-directory", no_argument, NULL, 'T' },
	{ "no-preserve", required_argument, NULL, OPT_NO_PRESERVE },
	{ "update", optional_argument, NULL, OPT_UPDATE },
	{ "checksum", no_argument, NULL, 'c' },
	{ "link-dest", required_argument, NULL, OPT_LINK_DEST },
	{ "itemize-changes", optional_argument, NULL, OPT_ITEMIZE },
	{ "changing", required_argument, NULL, OPT_CHANGING },
	{ "exclude", required_argument, NULL, OPT_EXCLUDE },
	{ "include", required_argument, NULL, OPT_INCLUDE },
	{ "exclude-from", required_argument, NULL, OPT_EXCLUDE_FROM },
	{ "include-from", required_argument, NULL, OPT_INCLUDE_FROM },
	{ "files-from", required_argument, NULL, OPT_FILES_FROM },
	{ "from0", no_argument, NULL, '0' },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "delete", no_argument, NULL, OPT_DELETE },
	{ "delete-excluded", no_argument, NULL, OPT_DELETE_EXCLUDED },
	{ "rsh", required_argument, NULL, 'e' },
	{ "remote-pcopy", required_argument, NULL, OPT_REMOTE_PCOPY },
	{ "streams", required_argument, NULL, OPT_STREAMS },
	{ "umask", required_argument, NULL, OPT_UMASK },
	{ "bwlimit", required_argument, NULL, OPT_BWLIMIT },
	{ "partial", no_argument, NULL, OPT_PARTIAL },
	{ "listed", required_argument, NULL, OPT_LISTED },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char usage_text[] =
	"Usage: pcopy [OPTION]... SRC DST\n"
	"  or:  pcopy [OPTION]... SRC... DIR\n"
	"Copy the tree SRC to DST, or each SRC into the existing directory DIR,\n"
	"in parallel, preserving everything (like cp -a).\n"
	"\n"
	"  -j, --jobs=N             exactly N workers, 1..1024 (default: start with\n"
	"                           one per CPU, 2..8, and add more, up to 32,\n"
	"                           while they wait on the device)\n"
	"      --mode=MODE          worker kind: thread or process (default thread)\n"
	"      --queue=N            capacity of the walker->workers queue, 1..65536\n"
	"                           (default 256)\n"
	"      --progress=STYLE     bar, plain, json or none (default: bar when\n"
	"                           stderr is a terminal, none otherwise)\n"
	"  -P                       same as --progress=bar\n"
	"      --stats[=FORMAT]     summary at the end: text (stderr, the default)\n"
	"                           or json (one object on stdout)\n"
	"  -v, --verbose            print each copied destination path on stdout\n"
	"  -i, --itemize-changes[=FORMAT]  one line per entry changed, on stdout:\n"
	"                           text (the default: \"XY PATH\", X what was done,\n"
	"                           Y the type; see pcopy(1)) or json\n"
	"  -n, --dry-run            walk and report, write nothing\n"
	"  -x, --one-file-system    stay on SRC's file system\n"
	"  -L, --dereference        follow symbolic links in SRC\n"
	"  -T, --no-target-directory  treat DST as the copy itself, even if it is\n"
	"                           an existing directory (merge into it)\n"
	"      --no-preserve=LIST   do not preserve these: mode (ACLs too),\n"
	"                           ownership, timestamps, links, xattr, all\n"
	"  -u, --update[=WHEN]      which existing DST entries to replace: all (the\n"
	"                           default without -u), older (only when SRC is\n"
	"                           newer; -u and --update alone), none, or changed\n"
	"                           (type, size or mtime differ; equal data with\n"
	"                           other metadata gets only its metadata fixed)\n"
	"  -c, --checksum           with changed (implied), compare contents too\n"
	"      --link-dest=DIR      hard-link files unchanged in DIR (relative to\n"
	"                           the copy; up to 20, in order), not copy them\n"
	"      --changing=WHAT      a file that changes while it is copied is\n"
	"                           copied again, up to 3 more times (after 10, 40\n"
	"                           and 160 ms); if it changed every time: fail\n"
	"                           (the default) reports it and installs nothing,\n"
	"                           copy keeps the last copy with a warning\n"
	"      --exclude=PATTERN    skip what PATTERN matches (rsync's rules: a\n"
	"                           leading / anchors at the top of SRC, a trailing\n"
	"                           / matches directories only, * stays within a\n"
	"                           name, ** crosses /); an excluded directory is\n"
	"                           not entered\n"
	"      --include=PATTERN    do not skip what PATTERN matches; rules are\n"
	"                           checked in command-line order, the first that\n"
	"                           matches decides, no match means included\n"
	"      --exclude-from=FILE  --exclude each pattern in FILE, one per line\n"
	"                           (blank lines and lines starting with # or ;\n"
	"                           are ignored; FILE - is stdin)\n"
	"      --include-from=FILE  --include each pattern in FILE, the same way\n"
	"      --files-from=FILE    copy only the paths listed in FILE (relative\n"
	"                           to SRC, with their parent directories; a\n"
	"                           listed directory is copied whole)\n"
	"  -0, --from0              names and patterns in FILEs end with NUL, not\n"
	"                           newline\n"
	"      --fsync              make everything written durable before exiting 0:\n"
	"                           each file is fsync'ed before it gets its name,\n"
	"                           and DST's file system is synced at the end\n"
	"      --delete             remove from the copy what SRC does not have, and\n"
	"                           entries whose type changes to or from a\n"
	"                           directory (made anew); excluded names are kept;\n"
	"                           nothing is deleted where SRC could not be read\n"
	"      --delete-excluded    --delete, and remove excluded names from the copy\n"
	"\n"
	"Remote copies: SRC or DST as [USER@]HOST:PATH (not both), over ssh:\n"
	"  -e, --rsh=COMMAND        how to reach HOST (default: $PCOPY_RSH, or ssh)\n"
	"      --remote-pcopy=PATH  pcopy's path on HOST (default: pcopy)\n"
	"      --bwlimit=RATE       send file data at most this fast, all streams\n"
	"                           together: KiB/s, or with a suffix K, M or G\n"
	"      --streams=N          at most N connections, 1..64 (default: by CPUs, <= 4)\n"
	"      --partial            keep what arrived of a file cut off, hidden and\n"
	"                           owner-only beside it, and resume from it\n"
	"\n"
	"  -h, --help               show this help and exit\n"
	"  -V, --version            show the version and exit\n"
	"\n"
	"If DST is an existing directory, the copy is DST/basename(SRC).\n"
	"Files are read to their end, as cp does: /proc and /sys files whose\n"
	"size says 0 or 4096 are copied whole.\n"
	"Exit status: 0 all copied, 1 some entries failed or standard output\n"
	"failed, 2 usage error or nothing could start, 24 only source entries\n"
	"vanished during the copy (warnings; rsync's status), 128+N stopped by\n"
	"signal N (141: the reader of standard output went away).\n";

void options_free(struct options *opts)
{
	free(opts->filters);
	opts->filters = NULL;
	opts->nfilters = 0;
}

#ifdef PCOPY_MPI
/* pcopy-mpi (transport/mpi.h): how the ranks share the work. */
static const char mpi_usage_text[] =
	"\n"
	"pcopy-mpi runs as MPI ranks: mpirun -np N pcopy-mpi [OPTION]... SRC DST\n"
	"Rank 0 walks SRC and prints progress, stats and errors; ranks 1..N-1\n"
	"read its directories for it and copy (N-1 workers, whatever -j and\n"
	"--mode say).  SRC and DST must be the same directories on every rank (a\n"
	"shared file system), or nothing starts.\n";
#endif

void options_usage(void *out)
{
	fputs(usage_text, out);
#ifdef PCOPY_MPI
	fputs(mpi_usage_text, out);
#endif
}

/* Parse a decimal in [min, max]; 0 or -1. */
static int parse_range(const char *arg, long min, long max, long *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > max)
		return -1;
	*value = v;
	return 0;
}

/* Find `word` in `names` (NULL-terminated); its index or -1. */
static int lookup_word(const char *word, const char *const *names)
{
	for (int i = 0; names[i] != NULL; i++)
		if (strcmp(word, names[i]) == 0)
			return i;
	return -1;
}

/* Turn "mode,links" into preserve bits cleared from *preserve. */
static int parse_no_preserve(const char *list, unsigned *preserve, char *err, size_t errlen)
{
	static const char *const names[] = { "mode",  "ownership", "timestamps", "links",
					     "xattr", "all",       NULL };
	static const unsigned bits[] = { PRESERVE_MODE,  PRESERVE_OWNERSHIP, PRESERVE_TIMESTAMPS,
					 PRESERVE_LINKS, PRESERVE_XATTR,     PRESERVE_ALL };
	char *copy = xstrdup(list);
	char *save = NULL;
	int rc = 0;

	/* strtok_r skips empty words; an empty list or word is still an error. */
	if (*list == '\0' || *list == ',' || list[strlen(list) - 1] == ',' ||
	    strstr(list, ",,") != NULL) {
		snprintf(err, errlen, "invalid --no-preserve list '%s'", list);
		free(copy);
		return -1;
	}
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int i = lookup_word(w, names);

		if (i < 0) {
			snprintf(err, errlen, "invalid --no-preserve attribute '%s'", w);
			rc = -1;
			break;
		}
		*preserve &= ~bits[i];
	}
	free(copy);
	return rc;
}

/*
 * --bwlimit's RATE as rsync reads it: a number of KiB a second, or with a
 * suffix K, M or G (powers of 1024); 0 is no limit.  0, or -1 and err.
 */
static int parse_rate(const char *arg, unsigned long long *rate, char *err, size_t errlen)
{
	char *end;
	double v;
	double unit = 1024;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && *end != '\0' && end[1] == '\0') {
		const char *units = "KMG";
		const char *u = strchr(units, *end & ~0x20);

		if (u != NULL) {
			for (unit = 1024; u > units; u--)
				unit *= 1024;
			end++;
		}
	}
	if (errno != 0 || end == arg || *end != '\0' || v < 0 || v * unit > 1e18) {
		snprintf(err, errlen, "invalid --bwlimit '%s'", arg);
		return -1;
	}
	*rate = (unsigned long long)(v * unit);
	return 0;
}

int options_default_jobs(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < MIN_DEFAULT_JOBS)
		return MIN_DEFAULT_JOBS;
	return cpus > MAX_DEFAULT_JOBS ? MAX_DEFAULT_JOBS : (int)cpus;
}

static void set_defaults(struct options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->jobs = options_default_jobs();
	opts->jobs_max = ADAPTIVE_MAX_JOBS > opts->jobs ? ADAPTIVE_MAX_JOBS : opts->jobs;
	opts->jobs_adaptive = true;
	opts->mode = MODE_THREAD;
	opts->queue = DEFAULT_QUEUE;
	opts->progress = PROGRESS_AUTO;
	opts->stats = STATS_NONE;
	opts->preserve = PRESERVE_ALL;
	opts->update = UPDATE_ALL;
	opts->changing = CHANGING_FAIL;
	opts->rsh = getenv("PCOPY_RSH");
	if (opts->rsh == NULL || *opts->rsh == '\0')
		opts->rsh = "ssh";
	opts->remote_pcopy = "pcopy";
	opts->streams = DEFAULT_STREAMS;
	opts->umask = -1;
}

/* Remember a filter option; main reads the files once all options are known (-0). */
static void add_filter_option(struct options *opts, int c, const char *arg)
{
	struct filter_arg *fo;

	opts->filters = xrealloc(opts->filters, (opts->nfilters + 1) * sizeof(*opts->filters));
	fo = &opts->filters[opts->nfilters++];
	fo->arg = arg;
	fo->include = c == OPT_INCLUDE || c == OPT_INCLUDE_FROM;
	fo->from_file = c == OPT_INCLUDE_FROM || c == OPT_EXCLUDE_FROM;
	fo->listed = c == OPT_LISTED;
}

/* Handle one long-only option; 0 or -1 with err filled. */
static int parse_long_only(struct options *opts, int c, const char *arg, const char *argv_option,
			   char *err, size_t errlen)
{
	static const char *const modes[] = { "thread", "process", NULL };
	static const char *const styles[] = { "none", "bar", "plain", "json", NULL };
	static const char *const stats[] = { "text", "json", NULL };
	static const char *const updates[] = { "all", "older", "none", "changed", NULL };
	static const char *const itemizes[] = { "text", "json", NULL };
	static const char *const changing[] = { "fail", "copy", NULL };
	long v;
	int i;

	switch (c) {
	case OPT_MODE:
		if ((i = lookup_word(arg, modes)) < 0)
			goto bad;
		opts->mode = i == 0 ? MODE_THREAD : MODE_PROCESS;
		return 0;
	case OPT_QUEUE:
		if (parse_range(arg, 1, MAX_QUEUE, &v) != 0)
			goto bad;
		opts->queue = (size_t)v;
		return 0;
	case OPT_PROGRESS:
		if ((i = lookup_word(arg, styles)) < 0)
			goto bad;
		opts->progress = (enum progress_style)(PROGRESS_NONE + i);
		return 0;
	case OPT_STATS:
		if (arg == NULL) {
			opts->stats = STATS_TEXT;
			return 0;
		}
		if ((i = lookup_word(arg, stats)) < 0)
			goto bad;
		opts->stats = i == 0 ? STATS_TEXT : STATS_JSON;
		return 0;
	case OPT_NO_PRESERVE: return parse_no_preserve(arg, &opts->preserve, err, errlen);
	case OPT_ITEMIZE:
		if (arg == NULL) {
			opts->itemize = ITEMIZE_TEXT;
			return 0;
		}
		if ((i = lookup_word(arg, itemizes)) < 0)
			goto bad;
		opts->itemize = i == 0 ? ITEMIZE_TEXT : ITEMIZE_JSON;
		return 0;
	case OPT_UPDATE:
		opts->update_given = true;
		if (arg == NULL) {
			opts->update = UPDATE_OLDER;
			return 0;
		}
		if ((i = lookup_word(arg, updates)) < 0)
			goto bad;
		opts->update = (enum update_mode)i;
		return 0;
	case OPT_CHANGING:
		if ((i = lookup_word(arg, changing)) < 0)
			goto bad;
		opts->changing = i == 0 ? CHANGING_FAIL : CHANGING_COPY;
		return 0;
	case OPT_EXCLUDE:
	case OPT_INCLUDE:
	case OPT_EXCLUDE_FROM:
	case OPT_INCLUDE_FROM: add_filter_option(opts, c, arg); return 0;
	case OPT_FILES_FROM: opts->files_from = arg; return 0;
	case OPT_FSYNC: opts->fsync = true; return 0;
	case OPT_LINK_DEST:
		if (opts->nlink_dests == LINK_DEST_MAX) {
			snprintf(err, errlen, "at most %d --link-dest directories", LINK_DEST_MAX);
			return -1;
		}
		if (*arg == '\0')
			goto bad;
		opts->link_dests[opts->nlink_dests++] = arg;
		return 0;
	case OPT_DELETE: opts->delete_extraneous = true; return 0;
	case OPT_DELETE_EXCLUDED: opts->delete_extraneous = opts->delete_excluded = true; return 0;
	case OPT_REMOTE_PCOPY: opts->remote_pcopy = arg; return 0;
	case OPT_STREAMS:
		if (parse_range(arg, 1, MAX_STREAMS, &v) < 0) {
			snprintf(err, errlen, "invalid --streams '%s' (1..%d)", arg, MAX_STREAMS);
			return -1;
		}
		opts->streams = (int)v;
		opts->streams_given = true;
		return 0;
	case OPT_BWLIMIT: return parse_rate(arg, &opts->bwlimit, err, errlen);
	case OPT_PARTIAL: opts->partial = true; return 0;
	case OPT_LISTED: /* not in --help: the client's --files-from, for its server */
		add_filter_option(opts, c, arg);
		return 0;
	case OPT_UMASK: { /* not in --help: the client's, for its server */
		char *end;
		unsigned long m = strtoul(arg, &end, 8);

		if (*arg == '\0' || *end != '\0' || m > 0777) {
			snprintf(err, errlen, "invalid --umask '%s'", arg);
			return -1;
		}
		opts->umask = (int)m;
		return 0;
	}
	}
bad:
	snprintf(err, errlen, "invalid argument '%s' for '%s'", arg ? arg : "", argv_option);
	return -1;
}

/* Handle one option character; 0, 1 (help/version printed) or -1. */
static int parse_one(struct options *opts, int c, const char *argv_option, void *out, char *err,
		     size_t errlen)
{
	long v;

	switch (c) {
	case 'j':
		if (parse_range(optarg, 1, MAX_JOBS, &v) != 0) {
			snprintf(err, errlen, "invalid number of jobs '%s' (1..%d)", optarg,
				 MAX_JOBS);
			return -1;
		}
		opts->jobs = opts->jobs_max = (int)v;
		opts->jobs_adaptive = false; /* exactly N, to compare at a fixed size */
		return 0;
	case 'P': opts->progress = PROGRESS_BAR; return 0;
	case 'v': opts->verbose = true; return 0;
	case 'n': opts->dry_run = true; return 0;
	case 'x': opts->one_file_system = true; return 0;
	case 'L': opts->dereference = true; return 0;
	case 'T': opts->no_target_directory = true; return 0;
	case 'u':
		opts->update = UPDATE_OLDER;
		opts->update_given = true;
		return 0;
	case 'c': opts->checksum = true; return 0;
	case 'e': opts->rsh = optarg; return 0;
	case 'i': opts->itemize = ITEMIZE_TEXT; return 0;
	case '0': opts->from0 = true; return 0;
	case 'h': options_usage(out); return 1;
	case 'V': fprintf(out, "%s %s\n", PROGRAM_NAME, PCOPY_VERSION); return 1;
	default: return parse_long_only(opts, c, optarg, argv_option, err, errlen);
	}
}

/*
 * The operands left after the options: SRC... DST, with room for one SRC
 * only under -T, where DST is the copy itself (cp).  0, or -1 and err.
 */
static int check_operands(const struct options *opts, int argc, char **argv, char *err,
			  size_t errlen)
{
	char *extra;

	if (argc - optind < 2) {
		snprintf(err, errlen, "missing operand");
		return -1;
	}
	if (!opts->no_target_directory || argc - optind == 2)
		return 0;
	extra = quote_alloc(argv[optind + 2], QUOTE_ALWAYS); /* a name, so quoted */
	snprintf(err, errlen, "extra operand %s", extra);
	free(extra);
	return -1;
}

/*
 * -c is a change test, as rsync's: alone it means --update=changed; with
 * another --update mode, which compares no data, it has no meaning and is
 * refused.  0, or -1 and err.
 */
static int check_checksum(struct options *opts, char *err, size_t errlen)
{
	if (!opts->checksum)
		return 0;
	if (!opts->update_given) {
		opts->update = UPDATE_CHANGED;
		return 0;
	}
	if (opts->update == UPDATE_CHANGED)
		return 0;
	snprintf(err, errlen, "-c, --checksum compares contents only with --update=changed");
	return -1;
}

enum parse_result options_parse(struct options *opts, int argc, char **argv, void *out, char *err,
				size_t errlen)
{
	int index = -1;
	int c;

	set_defaults(opts);
	err[0] = '\0';
	optind = 0; /* full reset, so tests can parse repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:PvnxLTuci0hVe:", long_options, &index)) != -1) {
		/* The option as the user wrote it, for messages. */
		const char *as_written = argv[optind - 1];
		char name[64];
		int rc;

		if (index >= 0)
			snprintf(name, sizeof(name), "--%s", long_options[index].name);
		else
			snprintf(name, sizeof(name), "-%c", c);
		index = -1;

		if (c == '?') {
			int is_long = strncmp(as_written, "--", 2) == 0;

			/* A known long option that got "=value" has optopt set. */
			if (is_long && optopt != 0)
				snprintf(err, errlen, "option '%.*s' doesn't allow an argument",
					 (int)strcspn(as_written, "="), as_written);
			else if (!is_long && optopt > 0 && optopt < 128)
				snprintf(err, errlen, "invalid option -- '%c'", optopt);
			else
				snprintf(err, errlen, "unrecognized option '%s'", as_written);
			return PARSE_ERROR;
		}
		if (c == ':') {
			snprintf(err, errlen, "option '%s' requires an argument", as_written);
			return PARSE_ERROR;
		}
		rc = parse_one(opts, c, name, out, err, errlen);
		if (rc != 0)
			return rc > 0 ? PARSE_EXIT : PARSE_ERROR;
	}
	if (check_operands(opts, argc, argv, err, errlen) < 0 ||
	    check_checksum(opts, err, errlen) < 0)
		return PARSE_ERROR;
	/* rsync deletes only within listed directories; pcopy does not guess. */
	if (opts->files_from != NULL && opts->delete_extraneous) {
		snprintf(err, errlen, "--files-from cannot be combined with --delete");
		return PARSE_ERROR;
	}
	/* The list is relative to SRC: there is room for one (rsync). */
	if (opts->files_from != NULL && argc - optind > 2) {
		snprintf(err, errlen, "--files-from takes one SRC, not '%s' too", argv[optind + 1]);
		return PARSE_ERROR;
	}
	opts->srcs = argv + optind;
	opts->nsrcs = argc - optind - 1;
	opts->dst = argv[argc - 1];
	return PARSE_RUN;
}
