/*
 * Constellation/Tessera key files: formats.md §7 (7nodes tm1/tm2) and §8
 * (Tessera sample_full pair, lockedprivatekey.json).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/tmkey.h"

static const struct {
	const char *pub, *key;
} pairs[] = {
    /* quorum-examples 7nodes tm1, tm2 */
    {"BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=",
	"Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgtA="},
    {"QfeDAys9MPDs2XHExtc84jKGHxZg/aj52DTh0vtA3Xc=",
	"nDFwJNHSiT1gNzKBy9WJvMhmYRkW3TzFUmPsNzR6oFk="},
    /* Tessera sample_full.json */
    {"/+UuD63zItL1EbjxkKUljMgG8Z1w0AJ8pNOR4iq2yQc=",
	"yAWAJjwPqUtNVlqGjSrBmr1/iIkghuOh1803Yzx9jLM="},
    /* [computed] public key of lockedprivatekey.json's decrypted secret */
    {"zP9kWRDB83v7TSZrAEXRgeexKkejHM48cpZOqnt3oyo=",
	"6ccai0+GXRRVbNckE+JubN+UQ9+8pMCx86dZI683X7w="},
};

static void test_known_pairs(void **state)
{
	uint8_t secret[32], pub[32], want[32];
	char json[TMKEY_JSON_MAX], file[TMKEY_JSON_MAX], err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		snprintf(file, sizeof(file),
		    "{\"data\":{\"bytes\":\"%s\"},\"type\":\"unlocked\"}",
		    pairs[i].key);
		assert_int_equal(tmkey_parse(file, strlen(file), secret, err,
				     sizeof(err)),
		    0);
		assert_int_equal(tmkey_public(secret, pub), 0);
		assert_int_equal(tmkey_parse_pub(pairs[i].pub,
				     strlen(pairs[i].pub), want, err,
				     sizeof(err)),
		    0);
		assert_memory_equal(pub, want, 32);
		/* The writer reproduces the upstream file byte for byte. */
		assert_int_equal(tmkey_to_json(secret, json, sizeof(json)), 0);
		assert_string_equal(json, file);
	}
}

/* formats.md §7: the exact tm1.key file. */
static void test_tm1_file_exact(void **state)
{
	static const char tm1_key[] =
	    "{\"data\":{\"bytes\":"
	    "\"Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgtA=\"},"
	    "\"type\":\"unlocked\"}";
	uint8_t secret[32];
	char json[TMKEY_JSON_MAX], err[256];

	(void)state;
	assert_int_equal(tmkey_parse(tm1_key, strlen(tm1_key), secret, err,
			     sizeof(err)),
	    0);
	assert_int_equal(tmkey_to_json(secret, json, sizeof(json)), 0);
	assert_string_equal(json, tm1_key);
	assert_null(strchr(json, '\n'));
}

/* Tessera's member order, whitespace and trailing newline. */
static void test_parse_tessera_form(void **state)
{
	static const char tessera[] =
	    "{\n  \"type\" : \"unlocked\",\n  \"data\" : {\n    \"bytes\" : "
	    "\"yAWAJjwPqUtNVlqGjSrBmr1/iIkghuOh1803Yzx9jLM=\"\n  }\n}\n";
	uint8_t secret[32], pub[32], want[32];
	char err[256];

	(void)state;
	assert_int_equal(tmkey_parse(tessera, strlen(tessera), secret, err,
			     sizeof(err)),
	    0);
	assert_int_equal(tmkey_public(secret, pub), 0);
	assert_int_equal(encoding_unbase64(want, 32,
			     "/+UuD63zItL1EbjxkKUljMgG8Z1w0AJ8pNOR4iq2yQc=",
			     44),
	    0);
	assert_memory_equal(pub, want, 32);
}

static void test_round_trip(void **state)
{
	uint8_t pub[32], secret[32], back[32], pub2[32];
	char json[TMKEY_JSON_MAX], b64[ENCODING_B64_32_LEN + 1], err[256];

	(void)state;
	assert_int_equal(tmkey_generate(pub, secret), 0);
	assert_int_equal(tmkey_public(secret, pub2), 0);
	assert_memory_equal(pub, pub2, 32);
	assert_int_equal(tmkey_to_json(secret, json, sizeof(json)), 0);
	assert_int_equal(strlen(json), 83);
	assert_int_equal(
	    tmkey_parse(json, strlen(json), back, err, sizeof(err)), 0);
	assert_memory_equal(back, secret, 32);
	encoding_base64(b64, sizeof(b64), pub, 32);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(tmkey_parse_pub(b64, 44, pub2, err, sizeof(err)), 0);
	assert_memory_equal(pub, pub2, 32);
	/* Two generated pairs differ. */
	assert_int_equal(tmkey_generate(pub2, back), 0);
	assert_memory_not_equal(pub, pub2, 32);
}

static void test_to_json_short_buffer(void **state)
{
	uint8_t secret[32] = {1};
	char json[83];

	(void)state;
	assert_int_equal(tmkey_to_json(secret, json, sizeof(json)), -ENOSPC);
	assert_int_equal(tmkey_to_json(secret, json, 0), -ENOSPC);
}

static void test_pub_strict(void **state)
{
	static const char good[] =
	    "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=";
	uint8_t pub[32];
	char buf[64], err[256];

	(void)state;
	snprintf(buf, sizeof(buf), "%s\n", good);
	err[0] = '\0';
	assert_int_equal(tmkey_parse_pub(buf, 45, pub, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "newline"));
	snprintf(buf, sizeof(buf), "%s\r\n", good);
	assert_int_equal(tmkey_parse_pub(buf, 46, pub, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "tm.pub"));
	assert_int_equal(tmkey_parse_pub(good, 43, pub, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "43"));
	snprintf(buf, sizeof(buf), " %s", good);
	assert_int_equal(tmkey_parse_pub(buf, 45, pub, err, sizeof(err)),
	    -EINVAL);
	memcpy(buf, good, sizeof(good));
	buf[5] = '*';
	assert_int_equal(tmkey_parse_pub(buf, 44, pub, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "BULeR*"));
	assert_int_equal(tmkey_parse_pub("", 0, pub, err, sizeof(err)),
	    -EINVAL);
}

/* formats.md §8: Tessera lockedprivatekey.json. */
static void test_locked_rejected(void **state)
{
	static const char locked[] =
	    "{\"data\": {\"aopts\": {\"variant\": \"id\", \"memory\": 1048576, "
	    "\"iterations\": 10, \"parallelism\": 4},\n"
	    "  \"password\": \"q\", \"snonce\": "
	    "\"x3HUNXH6LQldKtEv3q0h0hR4S12Ur9pC\",\n"
	    "  \"asalt\": \"7Sem2tc6fjEfW3yYUDN/kSslKEW0e1zqKnBCWbZu2Zw=\",\n"
	    "  \"sbox\": "
	    "\"d0CmRus0rP0bdc7P7d/wnOyEW14pwFJmcLbdu2W3HmDNRWVJtoNpHrauA/"
	    "Sr5Vxc\"},\n"
	    " \"type\": \"argon2sbox\"}";
	uint8_t secret[32];
	char err[256];

	(void)state;
	memset(secret, 0x55, sizeof(secret));
	err[0] = '\0';
	assert_int_equal(tmkey_parse(locked, strlen(locked), secret, err,
			     sizeof(err)),
	    -ENOTSUP);
	assert_non_null(strstr(err, "locked keys are not supported"));
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(secret[i], 0);
}

static void assert_parse_fails(const char *json, const char *needle)
{
	uint8_t secret[32];
	char err[256];

	memset(secret, 0x55, sizeof(secret));
	err[0] = '\0';
	assert_int_equal(
	    tmkey_parse(json, strlen(json), secret, err, sizeof(err)),
	    -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	for (size_t i = 0; i < 32; i++)
		assert_int_equal(secret[i], 0);
}

#define TM1_B64 "Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgtA="
#define UNLOCKED_WITH(b) "{\"type\":\"unlocked\",\"data\":{\"bytes\":" b "}}"

static void test_parse_errors(void **state)
{
	(void)state;
	assert_parse_fails("", "not valid JSON");
	assert_parse_fails("{\"data\":", "not valid JSON");
	assert_parse_fails("[]", "not a JSON object");
	assert_parse_fails("{\"data\":{\"bytes\":\"" TM1_B64 "\"}}",
	    "tm.key: type");
	assert_parse_fails(
	    "{\"data\":{\"bytes\":\"" TM1_B64 "\"},\"type\":\"vault\"}",
	    "\"vault\"");
	assert_parse_fails("{\"type\":\"unlocked\"}", "tm.key: data");
	assert_parse_fails("{\"type\":\"unlocked\",\"data\":\"x\"}",
	    "tm.key: data");
	assert_parse_fails("{\"type\":\"unlocked\",\"data\":{}}",
	    "tm.key: data.bytes");
	assert_parse_fails(UNLOCKED_WITH("7"), "tm.key: data.bytes");
	/* 31-byte key; missing padding; trailing newline inside the value. */
	assert_parse_fails(
	    UNLOCKED_WITH("\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\""),
	    "tm.key: data.bytes");
	assert_parse_fails(
	    UNLOCKED_WITH("\"Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgtA\""),
	    "tm.key: data.bytes");
	assert_parse_fails(UNLOCKED_WITH("\"" TM1_B64 "\\n\""),
	    "tm.key: data.bytes");
	/* Member names are case-sensitive (Aeson, Jackson). */
	assert_parse_fails(
	    "{\"Type\":\"unlocked\",\"data\":{\"bytes\":\"" TM1_B64 "\"}}",
	    "tm.key: type");
	assert_parse_fails(UNLOCKED_WITH("\"" TM1_B64 "\"") " x",
	    "trailing data");
}

/* A bad key's error text never echoes the secret's base64. */
static void test_error_hides_secret(void **state)
{
	static const char bad[] =
	    "{\"type\":\"unlocked\",\"data\":{\"bytes\":"
	    "\"Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgt\"}}";
	uint8_t secret[32];
	char err[256];

	(void)state;
	assert_int_equal(
	    tmkey_parse(bad, strlen(bad), secret, err, sizeof(err)), -EINVAL);
	assert_null(strstr(err, "Wl+x"));
}

static void test_parse_size_limit(void **state)
{
	static const char key[] =
	    "{\"type\":\"unlocked\",\"data\":{\"bytes\":"
	    "\"Wl+xSyXVuuqzpvznOS7dOobhcn4C5auxkFRi7yLtgtA=\"}}";
	static char big[5000];
	uint8_t secret[32];
	char err[256];

	(void)state;
	memset(big, ' ', sizeof(big));
	memcpy(big, key, strlen(key));
	/* Trailing whitespace is fine up to the size limit. */
	assert_int_equal(tmkey_parse(big, 4096, secret, err, sizeof(err)), 0);
	assert_int_equal(
	    tmkey_parse(big, sizeof(big), secret, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "larger"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_known_pairs),
	    cmocka_unit_test(test_tm1_file_exact),
	    cmocka_unit_test(test_parse_tessera_form),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_to_json_short_buffer),
	    cmocka_unit_test(test_pub_strict),
	    cmocka_unit_test(test_locked_rejected),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_error_hides_secret),
	    cmocka_unit_test(test_parse_size_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
