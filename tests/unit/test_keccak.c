/*
 * Keccak-256 known answers: formats.md §0/§2 ("abc", empty string), plus
 * rate-boundary lengths computed with an independent reference
 * implementation (pattern byte i = i % 251).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/keccak.h"

static void hexstr(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void assert_keccak(const void *data, size_t len, const char *want)
{
	uint8_t h[32];
	char got[65];

	keccak_256(data, len, h);
	hexstr(h, sizeof(h), got);
	assert_string_equal(got, want);
}

static void test_abc(void **state)
{
	(void)state;
	assert_keccak("abc", 3,
	    "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
}

static void test_empty(void **state)
{
	(void)state;
	assert_keccak("", 0,
	    "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
}

/* Not NIST SHA3-256 (whose "abc" digest starts 3a985da7). */
static void test_not_sha3(void **state)
{
	uint8_t h[32];

	(void)state;
	keccak_256("abc", 3, h);
	assert_int_not_equal(h[0], 0x3a);
}

static const struct {
	size_t len;
	const char *hex;
} boundary[] = {
    {135, "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62"},
    {136, "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e"},
    {137, "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db"},
    {200, "bfb0aa97863e797943cf7c33bb7e880bb4543f3d2703c0923c6901c2af57b890"},
    {272, "8e2476e65823b24d96ebe239f2c1534cdf763e689e2410c3b1cb0c74e6177bfc"},
    {1000,
	"af692982e84a5a9688359025660a7857cd28ee7c8d867cfa1677baf2e6d1f63b"},
};

static void test_rate_boundaries(void **state)
{
	uint8_t buf[1000];

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i % 251);
	for (size_t i = 0; i < sizeof(boundary) / sizeof(boundary[0]); i++)
		assert_keccak(buf, boundary[i].len, boundary[i].hex);
}

/* Any split of the input into updates gives the one-shot digest. */
static void test_incremental(void **state)
{
	uint8_t buf[1000], one[32], inc[32];
	struct keccak_ctx c;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i % 251);
	keccak_256(buf, sizeof(buf), one);
	for (size_t step = 1; step < 300; step += 7) {
		keccak_init(&c);
		for (size_t off = 0; off < sizeof(buf); off += step) {
			size_t n = sizeof(buf) - off < step ? sizeof(buf) - off
							    : step;
			keccak_update(&c, buf + off, n);
		}
		keccak_final(&c, inc);
		assert_memory_equal(one, inc, 32);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_abc),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_not_sha3),
	    cmocka_unit_test(test_rate_boundaries),
	    cmocka_unit_test(test_incremental),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
