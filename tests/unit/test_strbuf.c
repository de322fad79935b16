#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/strbuf.h"

static void test_appendf(void **state)
{
	char buf[12];
	size_t used = 0;

	(void)state;
	buf[0] = '\0';
	assert_int_equal(strbuf_appendf(buf, sizeof(buf), &used, "%s=%d", "a",
	    1), 0);
	assert_int_equal(strbuf_appendf(buf, sizeof(buf), &used, ",%s", "bc"),
	    0);
	assert_string_equal(buf, "a=1,bc");
	assert_int_equal(used, 6);
	/* Does not fit: nothing appended, still terminated. */
	assert_int_equal(strbuf_appendf(buf, sizeof(buf), &used, "%s",
	    "123456"), -E2BIG);
	assert_int_equal(used, 6);
	assert_string_equal(buf, "a=1,bc");
	assert_int_equal(strbuf_appendf(buf, sizeof(buf), &used, "%s", "12345"),
	    0);
	assert_string_equal(buf, "a=1,bc12345");
	assert_int_equal(strbuf_appendf(buf, sizeof(buf), &used, "x"), -E2BIG);
}

static void test_seterr(void **state)
{
	char err[8];

	(void)state;
	strbuf_seterr(err, sizeof(err), "%s: %d", "long message", 42);
	assert_int_equal(strlen(err), 7);
	strbuf_seterr(NULL, 0, "ignored");
	strbuf_seterr(err, 0, "ignored");
	assert_int_equal(strlen(err), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_appendf),
	    cmocka_unit_test(test_seterr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
