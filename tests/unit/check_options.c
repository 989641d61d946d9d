/* check_options.c - options_parse: defaults, every option, bounds and errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "cli/args.h"
#include "suites.h"

static FILE *out;     /* where --help and --version go */
static char err[256]; /* the error message of the last parse */
static struct options opts;

static void setup(void)
{
	out = tmpfile();
	ck_assert_ptr_nonnull(out);
}

static void teardown(void)
{
	fclose(out);
}

/* Parse a NULL-terminated argument list (argv[0] excluded). */
static enum parse_result parse_list(const char *const *args)
{
	static char *argv[32]; /* opts.srcs points into it */
	int argc = 0;

	argv[argc++] = (char *)"pcopy";
	while (*args != NULL && argc < 31)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return options_parse(&opts, argc, argv, out, err, sizeof(err));
}

#define PARSE(...) parse_list((const char *const[]){ __VA_ARGS__, NULL })

/* What --help or --version wrote. */
static const char *output(void)
{
	static char text[16384];
	size_t n;

	fflush(out);
	rewind(out);
	n = fread(text, 1, sizeof(text) - 1, out);
	text[n] = '\0';
	return text;
}

static void assert_error(enum parse_result r, const char *fragment)
{
	ck_assert_int_eq(r, PARSE_ERROR);
	ck_assert_msg(strstr(err, fragment) != NULL, "error '%s' lacks '%s'", err, fragment);
}

START_TEST(test_defaults)
{
	ck_assert_int_eq(PARSE("src", "dst"), PARSE_RUN);
	ck_assert_str_eq(opts.srcs[0], "src");
	ck_assert_str_eq(opts.dst, "dst");
	ck_assert_int_eq(opts.jobs, options_default_jobs());
	ck_assert_int_eq(opts.mode, MODE_THREAD);
	ck_assert_uint_eq(opts.queue, DEFAULT_QUEUE);
	ck_assert_int_eq(opts.progress, PROGRESS_AUTO);
	ck_assert_int_eq(opts.stats, STATS_NONE);
	ck_assert_uint_eq(opts.preserve, PRESERVE_ALL);
	ck_assert(!opts.verbose && !opts.dry_run && !opts.one_file_system);
	ck_assert(!opts.dereference && !opts.no_target_directory);
	ck_assert(!opts.fsync);
	ck_assert_str_eq(err, "");
}
END_TEST

START_TEST(test_short_flags)
{
	ck_assert_int_eq(PARSE("-v", "-n", "-x", "-L", "-T", "-P", "a", "b"), PARSE_RUN);
	ck_assert(opts.verbose && opts.dry_run && opts.one_file_system);
	ck_assert(opts.dereference && opts.no_target_directory);
	ck_assert_int_eq(opts.progress, PROGRESS_BAR);
	ck_assert_int_eq(PARSE("-vnxLT", "a", "b"), PARSE_RUN);
	ck_assert(opts.verbose && opts.dry_run && opts.one_file_system);
	ck_assert(opts.dereference && opts.no_target_directory);
	ck_assert_int_eq(opts.progress, PROGRESS_AUTO);
}
END_TEST

START_TEST(test_long_flags)
{
	ck_assert_int_eq(PARSE("--verbose", "--dry-run", "--one-file-system", "--dereference",
			       "--no-target-directory", "--fsync", "a", "b"),
			 PARSE_RUN);
	ck_assert(opts.verbose && opts.dry_run && opts.one_file_system);
	ck_assert(opts.dereference && opts.no_target_directory && opts.fsync);
	assert_error(PARSE("--fsync=yes", "a", "b"), "doesn't allow an argument");
}
END_TEST

START_TEST(test_jobs_spellings)
{
	ck_assert_int_eq(PARSE("-j", "4", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.jobs, 4);
	ck_assert_int_eq(PARSE("-j5", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.jobs, 5);
	ck_assert_int_eq(PARSE("--jobs=6", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.jobs, 6);
	ck_assert_int_eq(PARSE("--jobs", "7", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.jobs, 7);
}
END_TEST

/* A value and whether it is accepted. */
static const struct bound {
	const char *arg;
	int ok;
	long value;
} jobs_bounds[] = {
	{"0", 0, 0},    {"1", 1, 1},   {"1024", 1, 1024}, {"1025", 0, 0},
	{"abc", 0, 0},  {"3x", 0, 0},  {"-1", 0, 0},      {"", 0, 0},
	{"99999999999999999999", 0, 0},
}, queue_bounds[] = {
	{"0", 0, 0},       {"1", 1, 1},   {"65536", 1, 65536}, {"65537", 0, 0},
	{"abc", 0, 0},     {"3x", 0, 0},  {"-5", 0, 0},        {"", 0, 0},
	{"18446744073709551617", 0, 0},
};

START_TEST(test_jobs_bounds)
{
	const struct bound *b = &jobs_bounds[_i];
	enum parse_result r = PARSE("-j", b->arg, "a", "b");

	if (b->ok) {
		ck_assert_int_eq(r, PARSE_RUN);
		ck_assert_int_eq(opts.jobs, b->value);
	} else {
		assert_error(r, "invalid number of jobs");
		ck_assert_msg(strstr(err, b->arg) != NULL, "'%s' not quoted in '%s'", b->arg, err);
	}
}
END_TEST

START_TEST(test_queue_bounds)
{
	const struct bound *b = &queue_bounds[_i];
	char arg[64];
	enum parse_result r;

	snprintf(arg, sizeof(arg), "--queue=%s", b->arg);
	r = PARSE(arg, "a", "b");
	if (b->ok) {
		ck_assert_int_eq(r, PARSE_RUN);
		ck_assert_uint_eq(opts.queue, (size_t)b->value);
	} else {
		assert_error(r, "--queue");
	}
}
END_TEST

START_TEST(test_mode)
{
	ck_assert_int_eq(PARSE("--mode=process", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.mode, MODE_PROCESS);
	ck_assert_int_eq(PARSE("--mode", "thread", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.mode, MODE_THREAD);
	assert_error(PARSE("--mode=fork", "a", "b"), "'fork'");
	ck_assert_msg(strstr(err, "--mode") != NULL, "%s", err);
	assert_error(PARSE("--mode=", "a", "b"), "--mode");
}
END_TEST

START_TEST(test_progress)
{
	static const struct {
		const char *arg;
		enum progress_style style;
	} styles[] = {
		{ "--progress=none", PROGRESS_NONE },
		{ "--progress=bar", PROGRESS_BAR },
		{ "--progress=plain", PROGRESS_PLAIN },
		{ "--progress=json", PROGRESS_JSON },
	};

	for (size_t k = 0; k < sizeof(styles) / sizeof(styles[0]); k++) {
		ck_assert_int_eq(PARSE(styles[k].arg, "a", "b"), PARSE_RUN);
		ck_assert_int_eq(opts.progress, styles[k].style);
	}
	ck_assert_int_eq(PARSE("--progress=json", "-P", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.progress, PROGRESS_BAR);
	ck_assert_int_eq(PARSE("-P", "--progress=plain", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.progress, PROGRESS_PLAIN);
	assert_error(PARSE("--progress=fancy", "a", "b"), "'fancy'");
	assert_error(PARSE("--progress=auto", "a", "b"), "--progress");
}
END_TEST

START_TEST(test_stats)
{
	ck_assert_int_eq(PARSE("--stats", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.stats, STATS_TEXT);
	ck_assert_int_eq(PARSE("--stats=text", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.stats, STATS_TEXT);
	ck_assert_int_eq(PARSE("--stats=json", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.stats, STATS_JSON);
	assert_error(PARSE("--stats=xml", "a", "b"), "'xml'");
	/* An optional argument must be attached: "--stats json" is an operand. */
	ck_assert_int_eq(PARSE("--stats", "json", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.stats, STATS_TEXT);
	ck_assert_int_eq(opts.nsrcs, 2);
	ck_assert_str_eq(opts.srcs[0], "json");
}
END_TEST

/* -u and --update are cp's "older"; --update=WHEN takes four words. */
START_TEST(test_update)
{
	static const char *const words[] = { "all", "older", "none", "changed" };
	char arg[32];

	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.update, UPDATE_ALL);
	ck_assert_int_eq(PARSE("-u", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.update, UPDATE_OLDER);
	ck_assert_int_eq(PARSE("--update", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.update, UPDATE_OLDER);
	for (int i = 0; i < 4; i++) {
		snprintf(arg, sizeof(arg), "--update=%s", words[i]);
		ck_assert_int_eq(PARSE(arg, "a", "b"), PARSE_RUN);
		ck_assert_int_eq(opts.update, (enum update_mode)i);
	}
	assert_error(PARSE("--update=newer", "a", "b"), "'newer'");
}
END_TEST

/* -c alone means --update=changed; with another explicit mode it is refused. */
START_TEST(test_checksum)
{
	ck_assert_int_eq(PARSE("-c", "a", "b"), PARSE_RUN);
	ck_assert(opts.checksum);
	ck_assert_int_eq(opts.update, UPDATE_CHANGED);
	ck_assert_int_eq(PARSE("--update=changed", "--checksum", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.update, UPDATE_CHANGED);
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert(!opts.checksum);
	assert_error(PARSE("-c", "-u", "a", "b"), "--update=changed");
	assert_error(PARSE("--update=all", "-c", "a", "b"), "--update=changed");
	assert_error(PARSE("-c", "--update=none", "a", "b"), "--update=changed");
}
END_TEST

/* --link-dest keeps its DIRs in order, 20 at most. */
START_TEST(test_link_dest)
{
	const char *args[24];
	int n = 0;

	ck_assert_int_eq(PARSE("--link-dest=x", "--link-dest", "../y", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.nlink_dests, 2);
	ck_assert_str_eq(opts.link_dests[0], "x");
	ck_assert_str_eq(opts.link_dests[1], "../y");
	ck_assert_int_eq(opts.update, UPDATE_ALL);
	assert_error(PARSE("--link-dest=", "a", "b"), "--link-dest");
	for (; n < LINK_DEST_MAX; n++)
		args[n] = "--link-dest=d";
	args[n] = "a";
	args[n + 1] = "b";
	args[n + 2] = NULL;
	ck_assert_int_eq(parse_list(args), PARSE_RUN);
	ck_assert_int_eq(opts.nlink_dests, LINK_DEST_MAX);
	args[n] = "--link-dest=e";
	args[n + 1] = "a";
	args[n + 2] = "b";
	args[n + 3] = NULL;
	assert_error(parse_list(args), "at most 20");
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.nlink_dests, 0);
}
END_TEST

START_TEST(test_changing)
{
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.changing, CHANGING_FAIL);
	ck_assert_int_eq(PARSE("--changing=copy", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.changing, CHANGING_COPY);
	ck_assert_int_eq(PARSE("--changing", "fail", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.changing, CHANGING_FAIL);
	assert_error(PARSE("--changing=retry", "a", "b"), "'retry'");
	ck_assert_msg(strstr(err, "--changing") != NULL, "%s", err);
	assert_error(PARSE("--changing", "a", "b"), "'a'");
}
END_TEST

START_TEST(test_no_preserve)
{
	ck_assert_int_eq(PARSE("--no-preserve=mode", "a", "b"), PARSE_RUN);
	ck_assert_uint_eq(opts.preserve, PRESERVE_ALL & ~PRESERVE_MODE);
	ck_assert_int_eq(PARSE("--no-preserve=ownership,timestamps", "a", "b"), PARSE_RUN);
	ck_assert_uint_eq(opts.preserve,
			  PRESERVE_ALL & ~(PRESERVE_OWNERSHIP | PRESERVE_TIMESTAMPS));
	ck_assert_int_eq(PARSE("--no-preserve=links", "--no-preserve=xattr", "a", "b"), PARSE_RUN);
	ck_assert_uint_eq(opts.preserve, PRESERVE_ALL & ~(PRESERVE_LINKS | PRESERVE_XATTR));
	ck_assert_int_eq(PARSE("--no-preserve=all", "a", "b"), PARSE_RUN);
	ck_assert_uint_eq(opts.preserve, 0);
	assert_error(PARSE("--no-preserve=mode,colour", "a", "b"), "'colour'");
	assert_error(PARSE("--no-preserve=bogus", "a", "b"), "'bogus'");
}
END_TEST

/* An empty list names no attribute: cp rejects it, so must we. */
START_TEST(test_filter_options_keep_their_order)
{
	ck_assert_int_eq(PARSE("--include=*.c", "a", "--exclude", "*", "--exclude-from=x",
			       "--include-from", "-", "-0", "--files-from=list", "b"),
			 PARSE_RUN);
	ck_assert_uint_eq(opts.nfilters, 4);
	ck_assert_str_eq(opts.filters[0].arg, "*.c");
	ck_assert(opts.filters[0].include && !opts.filters[0].from_file);
	ck_assert_str_eq(opts.filters[1].arg, "*");
	ck_assert(!opts.filters[1].include && !opts.filters[1].from_file);
	ck_assert_str_eq(opts.filters[2].arg, "x");
	ck_assert(!opts.filters[2].include && opts.filters[2].from_file);
	ck_assert_str_eq(opts.filters[3].arg, "-");
	ck_assert(opts.filters[3].include && opts.filters[3].from_file);
	ck_assert(opts.from0);
	ck_assert_str_eq(opts.files_from, "list");
	ck_assert_int_eq(opts.nsrcs, 1);
	options_free(&opts);
	ck_assert_uint_eq(opts.nfilters, 0);
	ck_assert_int_eq(PARSE("--from0", "a", "b"), PARSE_RUN);
	ck_assert(opts.from0 && opts.nfilters == 0 && opts.files_from == NULL);
	assert_error(PARSE("a", "b", "--exclude"), "requires an argument");
}
END_TEST

/* --delete-excluded implies --delete; neither goes with --files-from. */
START_TEST(test_delete)
{
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert(!opts.delete_extraneous && !opts.delete_excluded);
	ck_assert_int_eq(PARSE("--delete", "a", "b"), PARSE_RUN);
	ck_assert(opts.delete_extraneous && !opts.delete_excluded);
	ck_assert_int_eq(PARSE("--delete-excluded", "a", "b"), PARSE_RUN);
	ck_assert(opts.delete_extraneous && opts.delete_excluded);
	assert_error(PARSE("--delete", "--files-from=l", "a", "b"), "--files-from");
	options_free(&opts);
	assert_error(PARSE("--files-from=l", "--delete-excluded", "a", "b"), "--delete");
	options_free(&opts);
}
END_TEST

START_TEST(test_no_preserve_empty_list)
{
	assert_error(PARSE("--no-preserve=", "a", "b"), "--no-preserve");
	assert_error(PARSE("--no-preserve=,", "a", "b"), "--no-preserve");
}
END_TEST

START_TEST(test_operands)
{
	assert_error(PARSE("a"), "missing operand");
	ck_assert_int_eq(parse_list((const char *const[]){ NULL }), PARSE_ERROR);
	ck_assert_str_eq(err, "missing operand");
	/* Several sources go into the last operand, a directory (cp). */
	ck_assert_int_eq(PARSE("a", "b", "c", "d"), PARSE_RUN);
	ck_assert_int_eq(opts.nsrcs, 3);
	ck_assert_str_eq(opts.srcs[0], "a");
	ck_assert_str_eq(opts.srcs[2], "c");
	ck_assert_str_eq(opts.dst, "d");
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.nsrcs, 1);
	/* With -T the destination is the copy itself: one source only. */
	assert_error(PARSE("-T", "a", "b", "c"), "extra operand 'c'");
	assert_error(PARSE("-T", "a", "b", "c", "d"), "extra operand 'c'");
}
END_TEST

START_TEST(test_unknown_and_missing_arguments)
{
	assert_error(PARSE("--bogus", "a", "b"), "unrecognized option '--bogus'");
	assert_error(PARSE("-z", "a", "b"), "invalid option -- 'z'");
	assert_error(PARSE("a", "b", "-j"), "requires an argument");
	assert_error(PARSE("a", "b", "--queue"), "requires an argument");
}
END_TEST

/* The message names the long option the user wrote, not its short twin. */
START_TEST(test_unwanted_argument_names_long_option)
{
	assert_error(PARSE("--verbose=yes", "a", "b"), "--verbose");
	assert_error(PARSE("--dry-run=1", "a", "b"), "--dry-run");
}
END_TEST

START_TEST(test_help_and_version)
{
	ck_assert_int_eq(PARSE("--help"), PARSE_EXIT);
	ck_assert_msg(strncmp(output(), "Usage: pcopy", 12) == 0, "%s", output());
	ck_assert_ptr_nonnull(strstr(output(), "--no-preserve=LIST"));
	ck_assert_ptr_nonnull(strstr(output(), "--fsync"));
	ck_assert_ptr_nonnull(strstr(output(), "24 only source entries"));
	ck_assert_int_eq(ftruncate(fileno(out), 0), 0);
	rewind(out);
	ck_assert_int_eq(PARSE("a", "b", "--version"), PARSE_EXIT);
	ck_assert_str_eq(output(), PROGRAM_NAME " " PCOPY_VERSION "\n");
	ck_assert_int_eq(PARSE("-h"), PARSE_EXIT);
	ck_assert_int_eq(PARSE("-V", "x"), PARSE_EXIT);
}
END_TEST

/* GNU permutation: options may follow the operands; "--" ends options. */
START_TEST(test_options_after_operands)
{
	ck_assert_int_eq(PARSE("src", "-j", "3", "dst", "--mode=process", "-v", "--stats=json"),
			 PARSE_RUN);
	ck_assert_str_eq(opts.srcs[0], "src");
	ck_assert_str_eq(opts.dst, "dst");
	ck_assert_int_eq(opts.jobs, 3);
	ck_assert_int_eq(opts.mode, MODE_PROCESS);
	ck_assert(opts.verbose);
	ck_assert_int_eq(opts.stats, STATS_JSON);
	ck_assert_int_eq(PARSE("-n", "--", "-src", "-dst"), PARSE_RUN);
	ck_assert(opts.dry_run);
	ck_assert_str_eq(opts.srcs[0], "-src");
	ck_assert_str_eq(opts.dst, "-dst");
}
END_TEST

/* Each parse starts from the defaults and from a fresh getopt. */
START_TEST(test_reparse_resets)
{
	ck_assert_int_eq(PARSE("-v", "-j", "9", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert(!opts.verbose);
	ck_assert_int_eq(opts.jobs, options_default_jobs());
	ck_assert_int_eq(PARSE("-j", "9", "a", "b"), PARSE_RUN);
	ck_assert_int_eq(opts.jobs, 9);
	assert_error(PARSE("-j", "0", "a", "b"), "jobs");
	ck_assert_int_eq(PARSE("a", "b"), PARSE_RUN);
	ck_assert_str_eq(err, "");
}
END_TEST

Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_short_flags);
	tcase_add_test(tc, test_long_flags);
	tcase_add_test(tc, test_jobs_spellings);
	tcase_add_loop_test(tc, test_jobs_bounds, 0,
			    (int)(sizeof(jobs_bounds) / sizeof(jobs_bounds[0])));
	tcase_add_loop_test(tc, test_queue_bounds, 0,
			    (int)(sizeof(queue_bounds) / sizeof(queue_bounds[0])));
	tcase_add_test(tc, test_mode);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_changing);
	tcase_add_test(tc, test_no_preserve);
	tcase_add_test(tc, test_no_preserve_empty_list);
	tcase_add_test(tc, test_filter_options_keep_their_order);
	tcase_add_test(tc, test_operands);
	tcase_add_test(tc, test_update);
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_link_dest);
	tcase_add_test(tc, test_unknown_and_missing_arguments);
	tcase_add_test(tc, test_unwanted_argument_names_long_option);
	tcase_add_test(tc, test_help_and_version);
	tcase_add_test(tc, test_options_after_operands);
	tcase_add_test(tc, test_reparse_resets);
	tcase_add_test(tc, test_delete);
	suite_add_tcase(s, tc);
	return s;
}
