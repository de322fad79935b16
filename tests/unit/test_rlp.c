/*
 * RLP encoder: yellow-paper examples and every upstream extraData vector of
 * formats.md §5, byte for byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/rlp.h"

/* Hex (optional 0x) -> bytes; the test data are trusted. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n;

	if (hex[0] == '0' && hex[1] == 'x')
		hex += 2;
	n = strlen(hex) / 2;
	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want)
{
	uint8_t w[RLP_EXTRA_MAX];
	size_t wl = unhex(want, w, sizeof(w));

	assert_int_equal(len, wl);
	assert_memory_equal(got, w, wl);
}

static void addrs(const char *const *hex, size_t n,
    uint8_t (*out)[RLP_ADDR_LEN])
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(unhex(hex[i], out[i], RLP_ADDR_LEN),
		    RLP_ADDR_LEN);
}

static void test_strings(void **state)
{
	uint8_t out[128], big[56];
	size_t len = 0;

	(void)state;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len,
			     (const uint8_t *)"dog", 3),
	    0);
	assert_hex(out, len, "83646f67");
	len = 0;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, NULL, 0), 0);
	assert_hex(out, len, "80");
	len = 0;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len,
			     (const uint8_t *)"\x00", 1),
	    0);
	assert_hex(out, len, "00");
	len = 0;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len,
			     (const uint8_t *)"\x80", 1),
	    0);
	assert_hex(out, len, "8180");
	/* 56 bytes: first length that needs the long form. */
	memset(big, 'a', sizeof(big));
	len = 0;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, big, 55), 0);
	assert_int_equal(len, 56);
	assert_int_equal(out[0], 0xb7);
	len = 0;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, big, 56), 0);
	assert_int_equal(len, 58);
	assert_int_equal(out[0], 0xb8);
	assert_int_equal(out[1], 56);
	assert_memory_equal(out + 2, big, 56);
}

static void test_uints(void **state)
{
	uint8_t out[16];
	size_t len;

	(void)state;
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 0), 0);
	assert_hex(out, len, "80");
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 15), 0);
	assert_hex(out, len, "0f");
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 127), 0);
	assert_hex(out, len, "7f");
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 128), 0);
	assert_hex(out, len, "8180");
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 1024), 0);
	assert_hex(out, len, "820400");
	len = 0;
	assert_int_equal(rlp_uint(out, sizeof(out), &len, UINT64_MAX), 0);
	assert_hex(out, len, "88ffffffffffffffff");
}

static void test_lists(void **state)
{
	uint8_t out[256], big[60];
	size_t len = 0, m, inner, inner2;

	(void)state;
	/* ["cat", "dog"] */
	rlp_list_begin(&len, &m);
	assert_int_equal(rlp_bytes(out, sizeof(out), &len,
			     (const uint8_t *)"cat", 3),
	    0);
	assert_int_equal(rlp_bytes(out, sizeof(out), &len,
			     (const uint8_t *)"dog", 3),
	    0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, m), 0);
	assert_hex(out, len, "c88363617483646f67");
	/* [] */
	len = 0;
	rlp_list_begin(&len, &m);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, m), 0);
	assert_hex(out, len, "c0");
	/* Set-theoretic three: [ [], [[]], [ [], [[]] ] ] */
	len = 0;
	rlp_list_begin(&len, &m);
	rlp_list_begin(&len, &inner);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner), 0);
	rlp_list_begin(&len, &inner);
	rlp_list_begin(&len, &inner2);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner2), 0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner), 0);
	rlp_list_begin(&len, &inner);
	rlp_list_begin(&len, &inner2);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner2), 0);
	rlp_list_begin(&len, &inner2);
	{
		size_t i3;

		rlp_list_begin(&len, &i3);
		assert_int_equal(rlp_list_end(out, sizeof(out), &len, i3), 0);
	}
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner2), 0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, inner), 0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, m), 0);
	assert_hex(out, len, "c7c0c1c0c3c0c1c0");
	/* A list whose payload is 58 bytes takes the long header f83a. */
	memset(big, 'x', sizeof(big));
	len = 0;
	rlp_list_begin(&len, &m);
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, big, 56), 0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, m), 0);
	assert_int_equal(len, 60);
	assert_int_equal(out[0], 0xf8);
	assert_int_equal(out[1], 58);
	assert_int_equal(out[2], 0xb8);
}

static void test_overflow(void **state)
{
	uint8_t out[8], one[20] = {1};
	size_t len = 0, m;

	(void)state;
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, one, 8), -ENOBUFS);
	assert_int_equal(len, 0);
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, one, 7), 0);
	assert_int_equal(len, 8);
	assert_int_equal(rlp_uint(out, sizeof(out), &len, 5), -ENOBUFS);
	assert_int_equal(len, 8);
	/* No room left for the list header. */
	len = 0;
	rlp_list_begin(&len, &m);
	assert_int_equal(rlp_bytes(out, sizeof(out), &len, one, 7), 0);
	assert_int_equal(rlp_list_end(out, sizeof(out), &len, m), -ENOBUFS);
	assert_int_equal(len, 8);
	/* Extra data for 4 validators does not fit in 100 bytes. */
	{
		uint8_t v[4][RLP_ADDR_LEN] = {{0}}, buf[100];
		size_t l = 7;

		assert_int_equal(rlp_ibft_extra(v, 4, true, buf, sizeof(buf),
				     &l),
		    -ENOBUFS);
		assert_int_equal(rlp_qbft_extra(v, 4, buf, 50, &l), -ENOBUFS);
		assert_int_equal(l, 7);
	}
}

/* quorum-examples 7nodes, sorted as in istanbul-genesis.json. */
static const char *const seven_sorted[] = {
    "6571d97f340c8495b661a823f2c2145ca47d63c2",
    "8157d4437104e3b8df4451a85f7b2438ef6699ff",
    "b131288f355bc27090e542ae0be213c20350b767",
    "b912de287f9b047b4228436e94b5b78e3ee16171",
    "d8dba507e85f116b1f7e231ca8525fc9008a6966",
    "e36cbeb565b061217930767886474e3cde903ac5",
    "f512a992f3fb749857d758ffda1330e590fa915e",
};

/* istanbul-tools README validators, in README order. */
static const char *const tools4[] = {
    "475cc98b5521ab2a1335683e7567c8048bfe79ed",
    "07d8299de61faed3686ba4c4e6c3b9083d7e2371",
    "4fe035ce99af680d89e2c4d73aca01dbfc1bd2fd",
    "dc421209441a754f79c4a4ecd2b49c935aad0312",
};

static void test_ibft_7nodes_empty_seal(void **state)
{
	uint8_t v[7][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(seven_sorted, 7, v);
	assert_int_equal(rlp_ibft_extra(v, 7, false, out, sizeof(out), &len),
	    0);
	assert_hex(out, len,
	    "0x0000000000000000000000000000000000000000000000000000000000000000"
	    "f897f893946571d97f340c8495b661a823f2c2145ca47d63c2948157d4437104e3"
	    "b8df4451a85f7b2438ef6699ff94b131288f355bc27090e542ae0be213c20350b7"
	    "6794b912de287f9b047b4228436e94b5b78e3ee1617194d8dba507e85f116b1f7e"
	    "231ca8525fc9008a696694e36cbeb565b061217930767886474e3cde903ac594f5"
	    "12a992f3fb749857d758ffda1330e590fa915e80c0");
}

static void test_ibft_7nodes_1node_zero_seal(void **state)
{
	uint8_t v[1][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(&seven_sorted[4], 1, v); /* d8db... = node 1 */
	assert_int_equal(rlp_ibft_extra(v, 1, true, out, sizeof(out), &len),
	    0);
	assert_hex(out, len,
	    "0x0000000000000000000000000000000000000000000000000000000000000000"
	    "f85ad594d8dba507e85f116b1f7e231ca8525fc9008a6966b84100000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000000"
	    "00000000000000000000000000000000000000000000000000c0");
}

static void test_ibft_istanbul_tools_readme(void **state)
{
	uint8_t v[4][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(tools4, 4, v);
	assert_int_equal(rlp_ibft_extra(v, 4, true, out, sizeof(out), &len),
	    0);
	assert_hex(out, len,
	    "0x0000000000000000000000000000000000000000000000000000000000000000"
	    "f89af85494475cc98b5521ab2a1335683e7567c8048bfe79ed9407d8299de61fae"
	    "d3686ba4c4e6c3b9083d7e2371944fe035ce99af680d89e2c4d73aca01dbfc1bd2"
	    "fd94dc421209441a754f79c4a4ecd2b49c935aad0312b841000000000000000000"
	    "000000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000c0");
}

static void test_qbft_istanbul_tools_readme(void **state)
{
	uint8_t v[4][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(tools4, 4, v);
	assert_int_equal(rlp_qbft_extra(v, 4, out, sizeof(out), &len), 0);
	assert_hex(out, len,
	    "0xf87aa00000000000000000000000000000000000000000000000000000000000"
	    "000000f85494475cc98b5521ab2a1335683e7567c8048bfe79ed9407d8299de61f"
	    "aed3686ba4c4e6c3b9083d7e2371944fe035ce99af680d89e2c4d73aca01dbfc1b"
	    "d2fd94dc421209441a754f79c4a4ecd2b49c935aad0312c080c0");
}

static void test_qbft_setup_genesis(void **state)
{
	static const char *const setup4[] = {
	    "82f114cde4898983626a27af4eb928ff804e60ee",
	    "21de2bf49c07595cf8c7c64ac5b173a112171cfe",
	    "3f3e6c684f16f7fac8aa6ae20bb04a3910367994",
	    "e63a320b26610685d3d5124c7c65b360735ab8f2",
	};
	uint8_t v[4][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(setup4, 4, v);
	assert_int_equal(rlp_qbft_extra(v, 4, out, sizeof(out), &len), 0);
	assert_hex(out, len,
	    "0xf87aa00000000000000000000000000000000000000000000000000000000000"
	    "000000f8549482f114cde4898983626a27af4eb928ff804e60ee9421de2bf49c07"
	    "595cf8c7c64ac5b173a112171cfe943f3e6c684f16f7fac8aa6ae20bb04a391036"
	    "799494e63a320b26610685d3d5124c7c65b360735ab8f2c080c0");
}

static void test_qbft_7nodes_computed(void **state)
{
	uint8_t v[7][RLP_ADDR_LEN], out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	addrs(seven_sorted, 7, v);
	assert_int_equal(rlp_qbft_extra(v, 7, out, sizeof(out), &len), 0);
	assert_hex(out, len,
	    "0xf8b9a00000000000000000000000000000000000000000000000000000000000"
	    "000000f893946571d97f340c8495b661a823f2c2145ca47d63c2948157d4437104"
	    "e3b8df4451a85f7b2438ef6699ff94b131288f355bc27090e542ae0be213c20350"
	    "b76794b912de287f9b047b4228436e94b5b78e3ee1617194d8dba507e85f116b1f"
	    "7e231ca8525fc9008a696694e36cbeb565b061217930767886474e3cde903ac594"
	    "f512a992f3fb749857d758ffda1330e590fa915ec080c0");
}

/* 1024 validators: the largest set, with 3-byte list length headers. */
static void test_max_validators(void **state)
{
	static uint8_t v[1024][RLP_ADDR_LEN];
	static uint8_t out[RLP_EXTRA_MAX];
	size_t len = 0;

	(void)state;
	memset(v, 0x11, sizeof(v));
	assert_int_equal(rlp_qbft_extra(v, 1024, out, sizeof(out), &len), 0);
	/* outer f9 + 2, vanity 33, validators f9 5400 + 21*1024, c0 80 c0 */
	assert_int_equal(len, 3 + 33 + 3 + 21 * 1024 + 3);
	assert_int_equal(out[0], 0xf9);
	assert_int_equal(out[36], 0xf9);
	assert_int_equal(out[37], 0x54);
	assert_int_equal(out[38], 0x00);
	len = 0;
	assert_int_equal(rlp_ibft_extra(v, 1024, true, out, sizeof(out), &len),
	    0);
	assert_int_equal(len, 32 + 3 + 3 + 21 * 1024 + 67 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_uints),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_ibft_7nodes_empty_seal),
	    cmocka_unit_test(test_ibft_7nodes_1node_zero_seal),
	    cmocka_unit_test(test_ibft_istanbul_tools_readme),
	    cmocka_unit_test(test_qbft_istanbul_tools_readme),
	    cmocka_unit_test(test_qbft_setup_genesis),
	    cmocka_unit_test(test_qbft_7nodes_computed),
	    cmocka_unit_test(test_max_validators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
