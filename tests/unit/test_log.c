#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/log.h"

static void test_text_line(void **state)
{
	char buf[256];
	const char *kv[] = {"child", "geth", "note", "two words", NULL};

	(void)state;
	assert_int_equal(log_format_line(buf, sizeof(buf), LOG_TEXT, LOG_INFO,
	    "quorum-peerd", 1, "spawned", kv), 0);
	assert_string_equal(buf,
	    "info  quorum-peerd[1]: spawned child=geth note=\"two words\"");
}

static void test_json_line(void **state)
{
	char buf[256];
	const char *kv[] = {"code", "137", "signal", "SIGKILL", "odd",
	    "a\"b\nc", NULL};

	(void)state;
	assert_int_equal(log_format_line(buf, sizeof(buf), LOG_JSON, LOG_WARN,
	    "quorum-peerd", 7, "exit", kv), 0);
	assert_string_equal(buf,
	    "{\"level\":\"warn\",\"role\":\"quorum-peerd\",\"pid\":7,"
	    "\"msg\":\"exit\",\"code\":137,\"signal\":\"SIGKILL\","
	    "\"odd\":\"a\\\"b\\u000ac\"}");
}

static void test_one_line_always(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(log_format_line(buf, sizeof(buf), LOG_TEXT, LOG_ERROR,
	    "r", 1, "bad\nline\r", NULL), 0);
	assert_null(strchr(buf, '\n'));
	assert_null(strchr(buf, '\r'));
}

static void test_truncation(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(log_format_line(buf, sizeof(buf), LOG_TEXT, LOG_INFO,
	    "role", 1, "a long message that does not fit", NULL), -E2BIG);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

static void test_parse(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	assert_int_equal(log_level_parse("debug", &l), 0);
	assert_int_equal(l, LOG_DEBUG);
	assert_int_equal(log_level_parse("loud", &l), -EINVAL);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_JSON);
	assert_int_equal(log_format_parse("xml", &f), -EINVAL);
	log_init(LOG_WARN, LOG_TEXT, "t");
	assert_false(log_enabled(LOG_INFO));
	assert_true(log_enabled(LOG_ERROR));
}

static void test_errno_preserved(void **state)
{
	(void)state;
	log_init(LOG_DEBUG, LOG_TEXT, "t");
	errno = EPIPE;
	log_warn("writing");
	assert_int_equal(errno, EPIPE);
	log_event(LOG_INFO, "ev", "k", "v", NULL);
	assert_int_equal(errno, EPIPE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_line),
	    cmocka_unit_test(test_json_line),
	    cmocka_unit_test(test_one_line_always),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_errno_preserved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
