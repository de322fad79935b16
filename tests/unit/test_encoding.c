/* Strict hex/base64 codecs (libsodium-backed). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/encoding.h"

static const uint8_t bin4[4] = {0x00, 0xab, 0xCD, 0xff};

static void test_hex_encode(void **state)
{
	char out[9];

	(void)state;
	memset(out, 'X', sizeof(out));
	encoding_hex(out, bin4, sizeof(bin4));
	assert_string_equal(out, "00abcdff");
	encoding_hex(out, bin4, 0);
	assert_string_equal(out, "");
}

static void test_unhex_ok(void **state)
{
	uint8_t b[4];

	(void)state;
	assert_int_equal(encoding_unhex(b, 4, "00abcdff", 8), 0);
	assert_memory_equal(b, bin4, 4);
	/* Either case decodes, as geth's hex.DecodeString does. */
	assert_int_equal(encoding_unhex(b, 4, "00ABcDFF", 8), 0);
	assert_memory_equal(b, bin4, 4);
	/* Only inlen characters are read. */
	assert_int_equal(encoding_unhex(b, 4, "00abcdffJUNK", 8), 0);
	assert_memory_equal(b, bin4, 4);
}

/* Every byte value, as either digit, against the C library's idea of hex. */
static void test_unhex_every_byte(void **state)
{
	char in[2];
	uint8_t b;
	int c, pos, want;

	(void)state;
	for (c = 0; c < 256; c++) {
		for (pos = 0; pos < 2; pos++) {
			in[pos] = (char)c;
			in[1 - pos] = '7';
			want = isxdigit(c) ? 0 : -EINVAL;
			assert_int_equal(encoding_unhex(&b, 1, in, 2), want);
			if (want != 0)
				continue;
			{
				char z[3] = {in[0], in[1], '\0'};

				assert_int_equal(b, strtol(z, NULL, 16));
			}
		}
	}
}

static void test_unhex_strict(void **state)
{
	uint8_t b[4];

	(void)state;
	assert_int_equal(encoding_unhex(b, 4, "00abcdf", 7), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00abcdff00", 10), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "0xabcdff", 8), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00abcdfg", 8), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00ab cdf", 8), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00ab:cdf", 8), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00abcd\nf", 8), -EINVAL);
	assert_int_equal(encoding_unhex(b, 4, "00ab\0cdf", 8), -EINVAL);
	/* Output is wiped on failure. */
	memset(b, 0x55, sizeof(b));
	assert_int_equal(encoding_unhex(b, 4, "00abcdfZ", 8), -EINVAL);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
}

static void test_is_lowerhex(void **state)
{
	(void)state;
	assert_true(encoding_is_lowerhex("0123456789abcdef", 16));
	assert_true(encoding_is_lowerhex("", 0));
	assert_false(encoding_is_lowerhex("0123456789abcdeF", 16));
	assert_false(encoding_is_lowerhex("g", 1));
	assert_false(encoding_is_lowerhex("ab\0", 3));
	assert_true(encoding_is_lowerhex("abZ", 2));
	/* The neighbours of each range, and bytes above 0x7f. */
	assert_false(encoding_is_lowerhex("/", 1));
	assert_false(encoding_is_lowerhex(":", 1));
	assert_false(encoding_is_lowerhex("`", 1));
	assert_false(encoding_is_lowerhex("A", 1));
	assert_false(encoding_is_lowerhex("\xb0", 1));
	assert_false(encoding_is_lowerhex("\xff", 1));
	/* A bad byte anywhere, first or last of a long run. */
	assert_false(encoding_is_lowerhex("X0123456789abcdef0123456789abcdef", 33));
	assert_false(encoding_is_lowerhex("0123456789abcdef0123456789abcdefX", 33));
}

/* formats.md §7: tm1.pub. */
static const char tm1_pub[] = "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=";

static void test_base64_round_trip(void **state)
{
	uint8_t b[32];
	char out[ENCODING_B64_32_LEN + 1];

	(void)state;
	assert_int_equal(strlen(tm1_pub), ENCODING_B64_32_LEN);
	assert_int_equal(encoding_unbase64(b, 32, tm1_pub, 44), 0);
	assert_int_equal(b[0], 0x05);
	assert_int_equal(b[1], 0x42);
	assert_int_equal(b[2], 0xde);
	encoding_base64(out, sizeof(out), b, 32);
	assert_string_equal(out, tm1_pub);
}

static void test_base64_small(void **state)
{
	uint8_t b[3];
	char out[9];

	(void)state;
	encoding_base64(out, sizeof(out), (const uint8_t *)"foob", 4);
	assert_string_equal(out, "Zm9vYg==");
	assert_int_equal(encoding_unbase64(b, 3, "Zm9v", 4), 0);
	assert_memory_equal(b, "foo", 3);
	/* Short output buffer: empty string, no overflow or abort. */
	encoding_base64(out, 8, (const uint8_t *)"foob", 4);
	assert_string_equal(out, "");
}

static void test_base64_strict(void **state)
{
	uint8_t b[32];
	char buf[64];

	(void)state;
	/* Trailing newline, leading space, missing padding. */
	snprintf(buf, sizeof(buf), "%s\n", tm1_pub);
	assert_int_equal(encoding_unbase64(b, 32, buf, 45), -EINVAL);
	snprintf(buf, sizeof(buf), " %s", tm1_pub);
	assert_int_equal(encoding_unbase64(b, 32, buf, 45), -EINVAL);
	assert_int_equal(encoding_unbase64(b, 32, tm1_pub, 43), -EINVAL);
	/* Embedded whitespace at the same length. */
	memcpy(buf, tm1_pub, 45);
	buf[10] = '\n';
	assert_int_equal(encoding_unbase64(b, 32, buf, 44), -EINVAL);
	/* URL-safe alphabet is not standard base64. */
	memcpy(buf, tm1_pub, 45);
	buf[19] = '_';
	assert_int_equal(encoding_unbase64(b, 32, buf, 44), -EINVAL);
	/* Non-zero padding bits ('o' -> 'p') are not canonical. */
	memcpy(buf, tm1_pub, 45);
	buf[42] = 'p';
	assert_int_equal(encoding_unbase64(b, 32, buf, 44), -EINVAL);
	/* Wrong decoded length. */
	assert_int_equal(encoding_unbase64(b, 31, tm1_pub, 44), -EINVAL);
	assert_int_equal(encoding_unbase64(b, 3, "Zm9vYg==", 8), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_encode),
	    cmocka_unit_test(test_unhex_ok),
	    cmocka_unit_test(test_unhex_every_byte),
	    cmocka_unit_test(test_unhex_strict),
	    cmocka_unit_test(test_is_lowerhex),
	    cmocka_unit_test(test_base64_round_trip),
	    cmocka_unit_test(test_base64_small),
	    cmocka_unit_test(test_base64_strict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
