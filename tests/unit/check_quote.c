/*
 * check_quote.c - the shell-escaped names of messages and -v lines, and the
 * lossless JSON strings: plain names, quotes, control characters, invalid
 * UTF-8 (stray bytes, cut sequences, overlong forms, surrogates) and valid
 * multibyte characters.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "report/quote.h"
#include "suites.h"

/* quote_name into a fresh string, checked against the length it returns. */
static char *quoted(const char *name, enum quote_style style)
{
	char *q = quote_alloc(name, style);
	char small[4];
	size_t len = quote_name(small, sizeof(small), name, style);

	ck_assert_uint_eq(len, strlen(q));
	ck_assert_uint_eq(strlen(small), len < sizeof(small) ? len : sizeof(small) - 1);
	ck_assert(strncmp(small, q, strlen(small)) == 0);
	return q;
}

static void assert_always(const char *name, const char *want)
{
	char *q = quoted(name, QUOTE_ALWAYS);

	ck_assert_str_eq(q, want);
	free(q);
}

static void assert_bare(const char *name, const char *want)
{
	char *q = quoted(name, QUOTE_BARE);

	ck_assert_str_eq(q, want);
	free(q);
}

static void assert_json(const char *s, const char *want)
{
	char *q = quote_json_alloc(s);
	char small[3];
	size_t len = quote_json(small, sizeof(small), s);

	ck_assert_str_eq(q, want);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_uint_eq(strlen(small), len < sizeof(small) ? len : sizeof(small) - 1);
	ck_assert(strncmp(small, want, strlen(small)) == 0);
	free(q);
}

START_TEST(test_plain)
{
	ck_assert(quote_is_plain("data/words.txt"));
	ck_assert(quote_is_plain("with space and \\ and \"double\""));
	ck_assert(quote_is_plain(""));
	assert_always("a/b c", "'a/b c'");
	assert_bare("a/b c", "a/b c");
	assert_always("back\\slash", "'back\\slash'");
	assert_bare("$HOME", "$HOME");
	assert_always("$HOME", "'$HOME'");
}
END_TEST

START_TEST(test_empty)
{
	assert_always("", "''");
	assert_bare("", "''");
	assert_json("", "\"\"");
}
END_TEST

START_TEST(test_single_quote)
{
	ck_assert(!quote_is_plain("it's"));
	assert_always("it's", "'it'\\''s'");
	assert_bare("it's", "'it'\\''s'");
	assert_always("'", "\\'");
	assert_always("''x", "\\'\\''x'");
	assert_always("x'", "'x'\\'");
}
END_TEST

START_TEST(test_controls)
{
	ck_assert(!quote_is_plain("a\nb"));
	assert_always("a\nb", "'a'$'\\n''b'");
	assert_bare("a\nb", "'a'$'\\n''b'");
	assert_always("\n", "$'\\n'");
	assert_always("tab\there", "'tab'$'\\t''here'");
	assert_always("\033[31mred", "$'\\033''[31mred'");
	assert_always("del\177", "'del'$'\\177'");
	assert_always("\a\b\t\n\v\f\r\001", "$'\\a\\b\\t\\n\\v\\f\\r\\001'");
	assert_always("a\n'", "'a'$'\\n'\\'");
	/* C1 controls are escaped byte by byte: U+009B is a CSI to some terminals. */
	ck_assert(!quote_is_plain("x\302\233y"));
	assert_always("x\302\233y", "'x'$'\\302\\233''y'");
}
END_TEST

START_TEST(test_invalid_utf8)
{
	static const char *const invalid[] = {
		"\377",                 /* never in UTF-8 */
		"\200",                 /* stray continuation byte */
		"\303",                 /* cut two-byte sequence */
		"\346\227",             /* cut three-byte sequence */
		"\300\200",             /* overlong NUL */
		"\301\277",             /* overlong '?' */
		"\340\200\257",         /* overlong '/' in three bytes */
		"\360\200\200\257",     /* overlong in four bytes */
		"\355\240\200",         /* surrogate U+D800 */
		"\355\277\277",         /* surrogate U+DFFF */
		"\364\220\200\200",     /* past U+10FFFF */
		"\370\210\200\200\200", /* five-byte form */
	};

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		ck_assert_msg(!quote_is_plain(invalid[i]), "case %zu taken as plain", i);
	assert_always("\377", "$'\\377'");
	assert_always("a\377b", "'a'$'\\377''b'");
	assert_always("\303x", "$'\\303''x'");
	assert_always("\346\227.", "$'\\346\\227''.'");
	assert_always("\300\200", "$'\\300\\200'");
	assert_always("\355\240\200", "$'\\355\\240\\200'");
	/* a valid character right after a stray byte is kept whole */
	assert_always("\377\303\251", "$'\\377''\303\251'");
}
END_TEST

START_TEST(test_multibyte)
{
	static const char *const valid[] = {
		"caf\303\251",              /* é */
		"\346\227\245\346\234\254", /* 日本 */
		"\360\237\230\200",         /* emoji U+1F600 */
		"\302\240nbsp",             /* U+00A0, first after C1 */
		"\355\237\277",             /* U+D7FF, last before surrogates */
		"\356\200\200",             /* U+E000, first after them */
		"\364\217\277\277",         /* U+10FFFF */
	};

	for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		ck_assert_msg(quote_is_plain(valid[i]), "case %zu not plain", i);
	assert_always("caf\303\251", "'caf\303\251'");
	assert_bare("\346\227\245\346\234\254/\360\237\230\200",
		    "\346\227\245\346\234\254/\360\237\230\200");
	assert_always("\346\227\245\n", "'\346\227\245'$'\\n'");
}
END_TEST

START_TEST(test_json_plain)
{
	assert_json("dst/a b", "\"dst/a b\"");
	assert_json("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\"");
	assert_json("it's", "\"it's\"");
	assert_json("caf\303\251 \346\227\245\346\234\254 \360\237\230\200",
		    "\"caf\303\251 \346\227\245\346\234\254 \360\237\230\200\"");
}
END_TEST

START_TEST(test_json_controls)
{
	assert_json("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
	assert_json("\033[0m", "\"\\u001b[0m\"");
	assert_json("\001\037\177", "\"\\u0001\\u001f\\u007f\"");
	assert_json("\302\205", "\"\\u0085\"");
}
END_TEST

START_TEST(test_json_invalid_utf8)
{
	assert_json("\377", "\"\\udcff\"");
	assert_json("a\200b", "\"a\\udc80b\"");
	assert_json("\303", "\"\\udcc3\"");
	assert_json("\300\200", "\"\\udcc0\\udc80\"");
	assert_json("\355\240\200", "\"\\udced\\udca0\\udc80\"");
	assert_json("\346\227", "\"\\udce6\\udc97\"");
	assert_json("\377\303\251", "\"\\udcff\303\251\"");
}
END_TEST

Suite *quote_suite(void)
{
	Suite *s = suite_create("quote");
	TCase *text = tcase_create("text");
	TCase *json = tcase_create("json");

	tcase_add_test(text, test_plain);
	tcase_add_test(text, test_empty);
	tcase_add_test(text, test_single_quote);
	tcase_add_test(text, test_controls);
	tcase_add_test(text, test_invalid_utf8);
	tcase_add_test(text, test_multibyte);
	tcase_add_test(json, test_json_plain);
	tcase_add_test(json, test_json_controls);
	tcase_add_test(json, test_json_invalid_utf8);
	suite_add_tcase(s, text);
	suite_add_tcase(s, json);
	return s;
}
