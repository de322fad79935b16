/*
 * AES-128-CTR through the lazily loaded libcrypto: NIST SP 800-38A F.5.1
 * (CTR-AES128.Encrypt) known answers, a length that ends inside a block,
 * in-place use, and the error when the library cannot be loaded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/aesctr.h"

int aesctr_load(const char *soname);

static const uint8_t key[16] = { 0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2,
	0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c };
static const uint8_t ctr[16] = { 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
	0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
static const uint8_t plain[64] = { 0x6b, 0xc1, 0xbe, 0xe2, 0x2e, 0x40, 0x9f,
	0x96, 0xe9, 0x3d, 0x7e, 0x11, 0x73, 0x93, 0x17, 0x2a, 0xae, 0x2d, 0x8a,
	0x57, 0x1e, 0x03, 0xac, 0x9c, 0x9e, 0xb7, 0x6f, 0xac, 0x45, 0xaf, 0x8e,
	0x51, 0x30, 0xc8, 0x1c, 0x46, 0xa3, 0x5c, 0xe4, 0x11, 0xe5, 0xfb, 0xc1,
	0x19, 0x1a, 0x0a, 0x52, 0xef, 0xf6, 0x9f, 0x24, 0x45, 0xdf, 0x4f, 0x9b,
	0x17, 0xad, 0x2b, 0x41, 0x7b, 0xe6, 0x6c, 0x37, 0x10 };
static const uint8_t cipher[64] = { 0x87, 0x4d, 0x61, 0x91, 0xb6, 0x20, 0xe3,
	0x26, 0x1b, 0xef, 0x68, 0x64, 0x99, 0x0d, 0xb6, 0xce, 0x98, 0x06, 0xf6,
	0x6b, 0x79, 0x70, 0xfd, 0xff, 0x86, 0x17, 0x18, 0x7b, 0xb9, 0xff, 0xfd,
	0xff, 0x5a, 0xe4, 0xdf, 0x3e, 0xdb, 0xd5, 0xd3, 0x5e, 0x5b, 0x4f, 0x09,
	0x02, 0x0d, 0xb0, 0x3e, 0xab, 0x1e, 0x03, 0x1d, 0xda, 0x2f, 0xbe, 0x03,
	0xd1, 0x79, 0x21, 0x70, 0xa0, 0xf3, 0x00, 0x9c, 0xee };

static void test_nist_vectors(void **state)
{
	uint8_t out[64], back[64];
	char err[200] = "";

	(void)state;
	assert_int_equal(aesctr_apply(key, ctr, plain, 64, out, err,
				 sizeof(err)), 0);
	assert_memory_equal(out, cipher, 64);
	/* CTR is its own inverse. */
	assert_int_equal(aesctr_apply(key, ctr, out, 64, back, err,
				 sizeof(err)), 0);
	assert_memory_equal(back, plain, 64);
}

static void test_partial_block_and_in_place(void **state)
{
	uint8_t buf[33];
	char err[200] = "";

	(void)state;
	memcpy(buf, plain, sizeof(buf));
	assert_int_equal(aesctr_apply(key, ctr, buf, sizeof(buf), buf, err,
				 sizeof(err)), 0);
	assert_memory_equal(buf, cipher, sizeof(buf));
	assert_int_equal(aesctr_apply(key, ctr, buf, 0, buf, err,
				 sizeof(err)), 0);
	assert_memory_equal(buf, cipher, sizeof(buf));
}

static void test_library_missing(void **state)
{
	uint8_t out[16];
	char err[200] = "";

	(void)state;
	assert_int_equal(aesctr_apply(key, ctr, plain, 16, out, err,
				 sizeof(err)), 0);
	/* As on a system without libcrypto: a clear error, not a crash. */
	assert_int_equal(aesctr_load("libcrypto-missing.so.0"), -ENOSYS);
	assert_int_equal(aesctr_apply(key, ctr, plain, 16, out, err,
				 sizeof(err)), -ENOSYS);
	assert_non_null(strstr(err, "cannot load libcrypto-missing.so.0"));
	assert_null(strchr(err, '\n'));
	assert_string_equal(aesctr_load_error(), err);
	/* The real one again, for whatever runs next. */
	assert_int_equal(aesctr_load(NULL), 0);
	assert_string_equal(aesctr_load_error(), "");
	assert_int_equal(aesctr_apply(key, ctr, plain, 16, out, err,
				 sizeof(err)), 0);
	assert_memory_equal(out, cipher, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nist_vectors),
		cmocka_unit_test(test_partial_block_and_in_place),
		cmocka_unit_test(test_library_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
