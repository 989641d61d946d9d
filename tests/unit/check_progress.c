/* check_progress.c - percentages, progress lines and the stats summary. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/progress.h"
#include "run/kinds.h"
#include "suites.h"

static struct progress_counts counts(uint64_t entries_done, uint64_t entries_total,
				     uint64_t bytes_done, uint64_t bytes_total)
{
	struct progress_counts c = {
		.entries_done = entries_done,
		.entries_total = entries_total,
		.bytes_done = bytes_done,
		.bytes_total = bytes_total,
		.elapsed_s = 2.0,
	};

	return c;
}

START_TEST(test_percent_empty_totals)
{
	struct progress_counts c = counts(0, 0, 0, 0);

	ck_assert_double_eq(progress_percent(&c, 0.0, 0), 0.0);
	ck_assert_double_eq(progress_percent(&c, 12.5, 0), 12.5);
	ck_assert_double_eq(progress_percent(&c, 0.0, 1), 100.0);
}
END_TEST

START_TEST(test_percent_weights_entries_and_bytes)
{
	struct progress_counts c = counts(0, 0, 500, 1000);

	ck_assert_double_eq_tol(progress_percent(&c, 0.0, 0), 50.0, 1e-9);
	c = counts(1, 2, 0, 0);
	ck_assert_double_eq_tol(progress_percent(&c, 0.0, 0), 50.0, 1e-9);
	/* One entry weighs PROGRESS_ENTRY_WEIGHT bytes. */
	c = counts(1, 1, 0, 3 * PROGRESS_ENTRY_WEIGHT);
	ck_assert_double_eq_tol(progress_percent(&c, 0.0, 0), 25.0, 1e-9);
}
END_TEST

/* Bytes --update did not copy leave both sides: the rest is the work. */
START_TEST(test_percent_follows_work_to_do)
{
	/* 100 entries of 10 MB, 99 found unchanged, the last one half copied. */
	struct progress_counts c = counts(99, 100, 995 * 1000000ull, 1000 * 1000000ull);

	c.bytes_skipped = 990 * 1000000ull;
	ck_assert_double_eq_tol(progress_percent(&c, 0.0, 0),
				100.0 * (5e6 + 99.0 * PROGRESS_ENTRY_WEIGHT) /
					(10e6 + 100.0 * PROGRESS_ENTRY_WEIGHT),
				1e-9);
	/* Without the skipped bytes taken out it would read 99.5%. */
	ck_assert_double_lt(progress_percent(&c, 0.0, 0), 60.0);
}
END_TEST

START_TEST(test_percent_capped_until_finished)
{
	struct progress_counts c = counts(10, 10, 1000, 1000);

	ck_assert_double_eq(progress_percent(&c, 0.0, 0), 99.9);
	ck_assert_double_eq(progress_percent(&c, 99.9, 0), 99.9);
	ck_assert_double_eq(progress_percent(&c, 99.9, 1), 100.0);
	c = counts(1, 10, 0, 1000);
	ck_assert_double_eq(progress_percent(&c, 40.0, 1), 100.0);
}
END_TEST

/* Totals that grow while scanning make the raw ratio fall; the shown one must not. */
START_TEST(test_percent_monotonic)
{
	unsigned seed = 7;
	uint64_t done = 0, total = 10;
	double shown = 0.0;

	for (int step = 0; step < 5000; step++) {
		struct progress_counts c;
		double next;

		total += (uint64_t)(rand_r(&seed) % 7);
		done += (uint64_t)(rand_r(&seed) % 5);
		if (done > total)
			done = total;
		c = counts(done / 3, total / 3, done * 1000, total * 1000);
		next = progress_percent(&c, shown, 0);
		ck_assert_double_ge(next, shown);
		ck_assert_double_le(next, 99.9);
		shown = next;
	}
	ck_assert_double_gt(shown, 0.0);
}
END_TEST

/* Every field of a JSON progress line, read back. */
struct json_progress {
	double percent, elapsed, rate;
	unsigned long long files_done, files_total, bytes_done, bytes_total;
	char scanning[8], done[8];
};

static void parse_json_progress(const char *line, struct json_progress *p)
{
	int n = sscanf(line,
		       "{\"percent\":%lf,\"files_done\":%llu,\"files_total\":%llu,"
		       "\"bytes_done\":%llu,\"bytes_total\":%llu,\"elapsed_s\":%lf,"
		       "\"rate_bps\":%lf,\"scanning\":%7[a-z],\"done\":%7[a-z]}",
		       &p->percent, &p->files_done, &p->files_total, &p->bytes_done,
		       &p->bytes_total, &p->elapsed, &p->rate, p->scanning, p->done);

	ck_assert_msg(n == 9, "parsed %d fields of '%s'", n, line);
}

START_TEST(test_format_json)
{
	struct progress_counts c = counts(3, 10, 4096, 8192);
	struct json_progress p;
	char buf[512];
	size_t len;

	c.scanning = 1;
	len = progress_format(PROGRESS_JSON, &c, 42.5, 0, buf, sizeof(buf));
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(buf[len - 1], '\n');
	parse_json_progress(buf, &p);
	ck_assert_double_eq_tol(p.percent, 42.5, 1e-9);
	ck_assert_uint_eq(p.files_done, 3);
	ck_assert_uint_eq(p.files_total, 10);
	ck_assert_uint_eq(p.bytes_done, 4096);
	ck_assert_uint_eq(p.bytes_total, 8192);
	ck_assert_double_eq_tol(p.elapsed, 2.0, 1e-9);
	ck_assert_double_eq_tol(p.rate, 2048.0, 1e-9);
	ck_assert_str_eq(p.scanning, "true");
	ck_assert_str_eq(p.done, "false");
}
END_TEST

START_TEST(test_format_json_finished)
{
	struct progress_counts c = counts(10, 10, 8192, 8192);
	struct json_progress p;
	char buf[512];

	c.scanning = 1;
	progress_format(PROGRESS_JSON, &c, 100.0, 1, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "{\"percent\":100,", 15) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "\"done\":true"));
	parse_json_progress(buf, &p);
	ck_assert_double_eq(p.percent, 100.0);
	ck_assert_str_eq(p.scanning, "false");
	ck_assert_str_eq(p.done, "true");
}
END_TEST

START_TEST(test_format_plain)
{
	struct progress_counts c = counts(3, 10, 512, 1024);
	char buf[512];
	size_t len = progress_format(PROGRESS_PLAIN, &c, 50.0, 0, buf, sizeof(buf));

	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_ptr_null(strchr(buf, '\r'));
	ck_assert_ptr_null(strchr(buf, '\033'));
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + len - 1);
	ck_assert_msg(strstr(buf, " 50.0%") == buf, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "3/10 files"));
	c.scanning = 1;
	progress_format(PROGRESS_PLAIN, &c, 50.0, 0, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "3/10+ files"));
}
END_TEST

/* The 20 characters between '[' and ']'. */
static const char *bar_of(const char *line)
{
	static char bar[21];
	const char *open = strchr(line, '[');

	ck_assert_ptr_nonnull(open);
	ck_assert_int_eq(open[21], ']');
	memcpy(bar, open + 1, 20);
	bar[20] = '\0';
	return bar;
}

START_TEST(test_format_bar)
{
	struct progress_counts c = counts(5, 10, 512, 1024);
	char buf[512];
	size_t len = progress_format(PROGRESS_BAR, &c, 50.0, 0, buf, sizeof(buf));

	ck_assert_int_eq(buf[0], '\r');
	ck_assert_ptr_nonnull(strstr(buf, "\033[K"));
	ck_assert_int_ne(buf[len - 1], '\n');
	ck_assert_str_eq(bar_of(buf), "##########..........");
	ck_assert_ptr_nonnull(strstr(buf, "5/10 files"));
	len = progress_format(PROGRESS_BAR, &c, 100.0, 1, buf, sizeof(buf));
	ck_assert_int_eq(buf[0], '\r');
	ck_assert_int_eq(buf[len - 1], '\n');
	ck_assert_str_eq(bar_of(buf), "####################");
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + len - 1);
}
END_TEST

START_TEST(test_format_truncates)
{
	struct progress_counts c = counts(5, 10, 512, 1024);
	char buf[16];

	for (int style = PROGRESS_BAR; style <= PROGRESS_JSON; style++) {
		memset(buf, 'x', sizeof(buf));
		ck_assert_uint_eq(progress_format((enum progress_style)style, &c, 50.0, 0, buf,
						  sizeof(buf)),
				  sizeof(buf) - 1);
		ck_assert_int_eq(buf[sizeof(buf) - 1], '\0');
	}
}
END_TEST

/* The number after "key": in a JSON object. */
static double json_number(const char *json, const char *key)
{
	char pattern[64];
	const char *at;
	double v;

	snprintf(pattern, sizeof(pattern), "\"%s\":", key);
	at = strstr(json, pattern);
	ck_assert_msg(at != NULL, "key %s missing in %s", key, json);
	ck_assert_int_eq(sscanf(at + strlen(pattern), "%lf", &v), 1);
	return v;
}

START_TEST(test_stats_json)
{
	struct run_stats st = {
		.mode = "process",
		.jobs = 4,
		.files = 10,
		.dirs = 3,
		.symlinks = 2,
		.specials = 1,
		.hardlinks = 5,
		.created = 11,
		.updated = 12,
		.meta_updated = 13,
		.unchanged = 14,
		.deleted = 15,
		.linked = 16,
		.bytes = 3000,
		.bytes_copied = 1000,
		.errors = 7,
		.vanished = 9,
		.elapsed_s = 2.0,
	};
	static const char *const changes[] = { "created",   "updated", "meta_updated",
					       "unchanged", "deleted", "linked" };
	char buf[1024];
	size_t len = stats_format(STATS_JSON, &st, buf, sizeof(buf));

	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(buf[0], '{');
	ck_assert_str_eq(buf + len - 2, "}\n");
	ck_assert_ptr_nonnull(strstr(buf, "\"mode\":\"process\""));
	ck_assert_double_eq(json_number(buf, "jobs"), 4);
	ck_assert_double_eq(json_number(buf, "files"), 10);
	ck_assert_double_eq(json_number(buf, "dirs"), 3);
	ck_assert_double_eq(json_number(buf, "symlinks"), 2);
	ck_assert_double_eq(json_number(buf, "specials"), 1);
	ck_assert_double_eq(json_number(buf, "hardlinks"), 5);
	for (int i = 0; i < 6; i++)
		ck_assert_double_eq(json_number(buf, changes[i]), 11 + i);
	ck_assert_double_eq(json_number(buf, "bytes"), 3000);
	ck_assert_double_eq(json_number(buf, "bytes_copied"), 1000);
	ck_assert_double_eq(json_number(buf, "errors"), 7);
	ck_assert_double_eq(json_number(buf, "vanished"), 9);
	ck_assert_double_eq_tol(json_number(buf, "elapsed_s"), 2.0, 1e-9);
	ck_assert_double_eq_tol(json_number(buf, "bytes_per_s"), 500.0, 1e-9);
	ck_assert_double_eq_tol(json_number(buf, "files_per_s"), 5.0, 1e-9);
	ck_assert_double_eq(json_number(buf, "jobs_start"), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"adaptive\":false"));
}
END_TEST

/* The worker count used, where it started, and where the workers' time went. */
START_TEST(test_stats_adaptive)
{
	struct run_stats st = {
		.mode = "thread",
		.jobs = 16,
		.jobs_start = 2,
		.adaptive = 1,
		.elapsed_s = 1.0,
		.cpu_s = 0.5,
		.runq_s = 0.25,
		.wait_s = 12.5,
		.idle_s = 2.0,
	};
	char buf[1024];

	stats_format(STATS_JSON, &st, buf, sizeof(buf));
	ck_assert_double_eq(json_number(buf, "jobs"), 16);
	ck_assert_double_eq(json_number(buf, "jobs_start"), 2);
	ck_assert_ptr_nonnull(strstr(buf, "\"adaptive\":true"));
	ck_assert_double_eq_tol(json_number(buf, "cpu_s"), 0.5, 1e-9);
	ck_assert_double_eq_tol(json_number(buf, "runq_s"), 0.25, 1e-9);
	ck_assert_double_eq_tol(json_number(buf, "wait_s"), 12.5, 1e-9);
	ck_assert_double_eq_tol(json_number(buf, "idle_s"), 2.0, 1e-9);
	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "mode: thread, 16 jobs (2 at the start, ", 39) == 0, "%s", buf);
	ck_assert_msg(strstr(buf, "workers: cpu 0.500 s  waiting for a cpu 0.250 s  for the "
				  "device 12.500 s  for a job 2.000 s\n") != NULL,
		      "%s", buf);
	st.jobs = 2; /* adaptive, but nothing was added */
	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "mode: thread, 2 jobs (default: none added)\n", 43) == 0, "%s",
		      buf);
}
END_TEST

/*
 * A kind with per-worker figures (MPI's ranks): each one's files, bytes,
 * directories listed, CPU and idle time and peak memory, worker 0 being
 * the parent's slot; then what the walker waited and spent.  The keys
 * follow the kind's unit.
 */
START_TEST(test_stats_json_ranks)
{
	struct worker_slot slots[3];
	struct run_stats st = {
		.mode = "mpi", .jobs = 2, .unit = "rank", .units = 3, .nslots = 3, .slots = slots
	};
	char buf[1024];

	memset(slots, 0, sizeof(slots));
	atomic_store(&slots[0].files, 5);
	atomic_store(&slots[0].bytes, 50);
	atomic_store(&slots[0].dirs_listed, 3);
	atomic_store(&slots[0].entries_listed, 30);
	atomic_store(&slots[1].files, 6);
	atomic_store(&slots[1].bytes, 60);
	atomic_store(&slots[2].files, 1); /* the parent: rank 0 */
	atomic_store(&slots[2].bytes, 10);
	atomic_store(&slots[2].dirs_listed, 1);
	atomic_store(&slots[2].entries_listed, 4);
	atomic_store(&slots[2].listing_wait_ns, 1500000000);
	atomic_store(&slots[2].walker_cpu_ns, 250000000);
	atomic_store(&slots[0].cpu_ns, 2250000000);
	atomic_store(&slots[0].idle_ns, 125000000);
	atomic_store(&slots[0].peak_rss_kib, 16384);
	atomic_store(&slots[0].judged, 7);
	atomic_store(&slots[1].peak_rss_kib, 17000);
	atomic_store(&slots[2].peak_rss_kib, 30720);
	stats_format(STATS_JSON, &st, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\"adaptive\":false,\"ranks\":3,\"per_rank\":["
				  "{\"files\":1,\"bytes\":10,\"dirs_listed\":1,\"entries_listed\":"
				  "4,\"judged\":0,"
				  "\"cpu_s\":0.000,\"idle_s\":0.000,\"peak_rss_kib\":30720},"
				  "{\"files\":5,\"bytes\":50,\"dirs_listed\":3,\"entries_listed\":"
				  "30,\"judged\":7,"
				  "\"cpu_s\":2.250,\"idle_s\":0.125,\"peak_rss_kib\":16384},"
				  "{\"files\":6,\"bytes\":60,\"dirs_listed\":0,\"entries_listed\":"
				  "0,\"judged\":0,"
				  "\"cpu_s\":0.000,\"idle_s\":0.000,\"peak_rss_kib\":17000}],"
				  "\"listing_wait_s\":1.500000,\"walker_cpu_s\":0.250000,") != NULL,
		      "%s", buf);
	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "listed: rank 0 1 dirs 4 entries, rank 1 3 dirs 30 entries, "
				  "rank 2 0 dirs 0 entries\nwalker (rank 0): waited for listings "
				  "1.500 s  cpu 0.250 s\npeak memory: rank 0 30.0 MiB, rank 1 "
				  "16.0 MiB, rank 2 16.6 MiB\n") != NULL,
		      "%s", buf);
	st.unit = "stream";
	stats_format(STATS_JSON, &st, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\"streams\":3,\"per_stream\":[{\"files\":1,") != NULL, "%s",
		      buf);
	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "listed: stream 0 1 dirs") != NULL, "%s", buf);
	st.unit = NULL;
	st.slots = NULL;
	stats_format(STATS_JSON, &st, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "ranks"));
	ck_assert_ptr_null(strstr(buf, "listing"));
}
END_TEST

/* The target goes in as a lossless JSON string; a short buffer gets the start. */
START_TEST(test_stats_json_target)
{
	struct run_stats st = { .target = "dst/a\"b\n\033\377", .mode = "thread", .jobs = 1 };
	char buf[1024], small[16];
	size_t len = stats_format(STATS_JSON, &st, buf, sizeof(buf));

	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_msg(strstr(buf, "\"target\":\"dst/a\\\"b\\n\\u001b\\udcff\"") != NULL, "%s", buf);
	ck_assert_str_eq(buf + len - 2, "}\n");
	ck_assert_uint_eq(stats_format(STATS_JSON, &st, small, sizeof(small)), len);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(strncmp(small, buf, sizeof(small) - 1) == 0);
}
END_TEST

START_TEST(test_stats_zero_elapsed)
{
	struct run_stats st = { .mode = "thread", .jobs = 1, .files = 1, .bytes = 1 };
	char buf[1024];

	stats_format(STATS_JSON, &st, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "inf"));
	ck_assert_ptr_null(strstr(buf, "nan"));
	ck_assert_double_eq(json_number(buf, "elapsed_s"), 0.0);
	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "inf"));
	ck_assert_ptr_null(strstr(buf, "nan"));
}
END_TEST

START_TEST(test_stats_text)
{
	struct run_stats st = {
		.mode = "thread",
		.jobs = 4,
		.files = 10,
		.dirs = 3,
		.bytes = 2048,
		.errors = 1,
		.vanished = 2,
		.elapsed_s = 1.0,
	};
	char buf[1024];

	stats_format(STATS_TEXT, &st, buf, sizeof(buf));
	ck_assert_msg(strncmp(buf, "mode: thread, 4 jobs\n", 21) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "files: 10  dirs: 3"));
	ck_assert_ptr_nonnull(strstr(buf, "bytes: 2048 (2.0 KiB)  copied: 0 (0 B)  errors: 1"));
	ck_assert_ptr_nonnull(strstr(buf, "vanished: 2\n"));
	ck_assert_ptr_null(strchr(buf, '{'));
}
END_TEST

/* A session with three worker slots and the parent's. */
static struct options collect_opts = { .jobs = 3, .mode = MODE_PROCESS };
static struct session collect_session = { .opts = &collect_opts, .kind = &process_kind };

static void collect_setup(void)
{
	struct shared_state *sh = shared_state_create(collect_opts.jobs, 0);

	ck_assert_ptr_nonnull(sh);
	ck_assert_int_eq(sh->nslots, collect_opts.jobs + 1);
	for (int k = 0; k < sh->nslots; k++) {
		atomic_store(&sh->slots[k].entries_done, 1 + (uint64_t)k);
		atomic_store(&sh->slots[k].bytes_done, 100 * (uint64_t)(k + 1));
		atomic_store(&sh->slots[k].bytes_inflight, 10);
		atomic_store(&sh->slots[k].files, 2);
		atomic_store(&sh->slots[k].dirs, 1);
		atomic_store(&sh->slots[k].errors, (uint64_t)k);
		atomic_store(&sh->slots[k].vanished, 2 * (uint64_t)k);
		atomic_store(&sh->slots[k].bytes, 1000);
	}
	collect_session.shared = sh;
}

static void collect_teardown(void)
{
	shared_state_destroy(collect_session.shared);
	collect_session.shared = NULL;
}

START_TEST(test_collect_sums_slots)
{
	struct shared_state *sh = collect_session.shared;
	struct progress_counts c;

	atomic_store(&sh->queued_entries, 50);
	atomic_store(&sh->queued_bytes, 5000);
	atomic_store(&sh->walk_done, 1);
	progress_collect(&collect_session, 0, 3.0, &c);
	ck_assert_uint_eq(c.entries_done, 1 + 2 + 3 + 4);
	ck_assert_uint_eq(c.entries_total, 50);
	ck_assert_uint_eq(c.bytes_done, 100 + 200 + 300 + 400 + 4 * 10);
	ck_assert_uint_eq(c.bytes_total, 5000);
	ck_assert_int_eq(c.scanning, 0);
	ck_assert_double_eq(c.elapsed_s, 3.0);
	ck_assert_ptr_eq(parent_slot(&collect_session), &sh->slots[3]);
}
END_TEST

/* Done never exceeds total; an unfinished walk takes the scan's larger count. */
START_TEST(test_collect_clamps_and_uses_scan)
{
	struct shared_state *sh = collect_session.shared;
	struct progress_counts c;

	atomic_store(&sh->queued_entries, 5);
	atomic_store(&sh->queued_bytes, 600);
	progress_collect(&collect_session, 0, 1.0, &c);
	ck_assert_uint_eq(c.entries_done, 5);
	ck_assert_uint_eq(c.bytes_done, 600);
	ck_assert_int_eq(c.scanning, 1);
	/* The scan counts names; bytes scale by the walker's mean size. */
	progress_collect(&collect_session, 80, 1.0, &c);
	ck_assert_uint_eq(c.entries_total, 80);
	ck_assert_uint_eq(c.bytes_total, 600 * 80 / 5);
	ck_assert_uint_eq(c.entries_done, 10);
	ck_assert_uint_eq(c.bytes_done, 1040);
	ck_assert_int_eq(c.scanning, 1);
	/* Whatever the scan has counted, the byte total is an estimate until the walk ends. */
	progress_collect(&collect_session, 80, 1.0, &c);
	ck_assert_int_eq(c.scanning, 1);
	/* Once the walk is done its totals are final, whatever the scan says. */
	atomic_store(&sh->walk_done, 1);
	progress_collect(&collect_session, 80, 1.0, &c);
	ck_assert_uint_eq(c.entries_total, 5);
	ck_assert_uint_eq(c.bytes_total, 600);
}
END_TEST

START_TEST(test_stats_collect)
{
	struct run_stats st;

	stats_collect(&collect_session, 4.0, &st);
	ck_assert_str_eq(st.mode, "process");
	ck_assert_int_eq(st.jobs, 3);
	ck_assert_uint_eq(st.files, 8);
	ck_assert_uint_eq(st.dirs, 4);
	ck_assert_uint_eq(st.bytes_copied, 4000);
	ck_assert_uint_eq(st.errors, 0 + 1 + 2 + 3);
	ck_assert_uint_eq(stats_errors(&collect_session), 6);
	ck_assert_uint_eq(st.vanished, 0 + 2 + 4 + 6);
	ck_assert_uint_eq(stats_vanished(&collect_session), 12);
	ck_assert_double_eq(st.elapsed_s, 4.0);
	/* No pool ran: the count asked for; else the most that ran. */
	ck_assert_int_eq(st.jobs_start, 3);
	atomic_store(&collect_session.shared->jobs_peak, 7);
	atomic_store(&collect_session.shared->slots[1].wait_ns, 1500000000);
	atomic_store(&collect_session.shared->slots[2].wait_ns, 500000000);
	atomic_store(&collect_session.shared->slots[0].cpu_ns, 250000000);
	stats_collect(&collect_session, 4.0, &st);
	ck_assert_int_eq(st.jobs, 7);
	ck_assert_int_eq(st.jobs_start, 3);
	ck_assert_double_eq_tol(st.wait_s, 2.0, 1e-9);
	ck_assert_double_eq_tol(st.cpu_s, 0.25, 1e-9);
}
END_TEST

Suite *progress_suite(void)
{
	Suite *s = suite_create("progress");
	TCase *percent = tcase_create("percent");
	TCase *format = tcase_create("format");
	TCase *collect = tcase_create("collect");

	tcase_add_test(percent, test_percent_empty_totals);
	tcase_add_test(percent, test_percent_weights_entries_and_bytes);
	tcase_add_test(percent, test_percent_capped_until_finished);
	tcase_add_test(percent, test_percent_follows_work_to_do);
	tcase_add_test(percent, test_percent_monotonic);
	suite_add_tcase(s, percent);

	tcase_add_test(format, test_format_json);
	tcase_add_test(format, test_format_json_finished);
	tcase_add_test(format, test_format_plain);
	tcase_add_test(format, test_format_bar);
	tcase_add_test(format, test_format_truncates);
	tcase_add_test(format, test_stats_json);
	tcase_add_test(format, test_stats_adaptive);
	tcase_add_test(format, test_stats_json_target);
	tcase_add_test(format, test_stats_json_ranks);
	tcase_add_test(format, test_stats_zero_elapsed);
	tcase_add_test(format, test_stats_text);
	suite_add_tcase(s, format);

	tcase_add_checked_fixture(collect, collect_setup, collect_teardown);
	tcase_add_test(collect, test_collect_sums_slots);
	tcase_add_test(collect, test_collect_clamps_and_uses_scan);
	tcase_add_test(collect, test_stats_collect);
	suite_add_tcase(s, collect);
	return s;
}
