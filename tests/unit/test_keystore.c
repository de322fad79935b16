/*
 * Keystore v3 known answers from formats.md §3 (go-ethereum
 * v3_test_vector.json, very-light-scrypt.json, quorum-examples 7nodes key1),
 * writer output checked against an independent computation (Python hashlib
 * scrypt + cryptography AES-CTR/secp256k1 + a reference Keccak), and the
 * parser's error and hostile-parameter paths.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/keystore.h"

/* TESTABLE in keystore.c. */
void keystore_pbkdf2_sha256(const uint8_t *pw, size_t pwlen,
    const uint8_t *salt, size_t saltlen, uint64_t c, uint8_t *out,
    size_t outlen);

#define WIKI_PRIV \
	"7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d"

static const char wiki_scrypt[] =
    "{\"crypto\": {\"cipher\": \"aes-128-ctr\",\n"
    "  \"cipherparams\": {\"iv\": \"83dbcc02d8ccb40e466191a123791e0e\"},\n"
    "  \"ciphertext\": "
    "\"d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c\",\n"
    "  \"kdf\": \"scrypt\", \"kdfparams\": {\"dklen\": 32, \"n\": 262144, "
    "\"r\": 1, \"p\": 8,\n"
    "  \"salt\": "
    "\"ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19\"},\n"
    "  \"mac\": "
    "\"2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097\"},\n"
    "  \"id\": \"3198bc9c-6672-5ab3-d995-4942343ae5b6\", \"version\": 3}";

static const char wiki_pbkdf2[] =
    "{\"crypto\": {\"cipher\": \"aes-128-ctr\",\n"
    "  \"cipherparams\": {\"iv\": \"6087dab2f9fdbbfaddc31a909735c1e6\"},\n"
    "  \"ciphertext\": "
    "\"5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46\",\n"
    "  \"kdf\": \"pbkdf2\", \"kdfparams\": {\"c\": 262144, \"dklen\": 32, "
    "\"prf\": \"hmac-sha256\",\n"
    "  \"salt\": "
    "\"ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd\"},\n"
    "  \"mac\": "
    "\"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2\"},\n"
    "  \"id\": \"3198bc9c-6672-5ab3-d995-4942343ae5b6\", \"version\": 3}";

/* formats.md elides the id of the legacy vectors; it is not read anyway. */
static const char key31[] =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\",\"ciphertext\":"
    "\"9517cd5bdbe69076f9bf5057248c6c050141e970efa36ce53692d5d59a3984\","
    "\"cipherparams\":{\"iv\":\"e0c41130a323adc1446fc82f724bca2f\"},"
    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":2,\"r\":8,\"p\":1,"
    "\"salt\":"
    "\"711f816911c92d649fb4c84b047915679933555030b3552c1212609b38208c63\"},"
    "\"mac\":"
    "\"d5e116151c6aa71470e67a7d42c9620c75c4d23229847dcc127794f0732b0db5\"},"
    "\"version\":3}";

static const char key30[] =
    "{\"crypto\":{\"cipher\":\"aes-128-ctr\",\"ciphertext\":"
    "\"108b7d34f3442fc26ab1ab90ca91476ba6bfa8c00975a49ef9051dc675aa\","
    "\"cipherparams\":{\"iv\":\"3ca92af36ad7c2cd92454c59cea5ef00\"},"
    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":2,\"r\":8,\"p\":1,"
    "\"salt\":"
    "\"d0769e608fb86cda848065642a9c6fa046845c928175662b8e356c77f914cd3b\"},"
    "\"mac\":"
    "\"75d0e6759f7b3cefa319c3be41680ab6beea7d8328653474bd06706d4cc67420\"},"
    "\"version\":3}";

static const char very_light[] =
    "{\"address\":\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8\",\"crypto\":{"
    "\"cipher\":\"aes-128-ctr\",\"ciphertext\":"
    "\"b87781948a1befd247bff51ef4063f716cf6c2d3481163e9a8f42e1f9bb74145\","
    "\"cipherparams\":{\"iv\":\"dc4926b48a105133d2f16b96833abf1e\"},"
    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":2,\"p\":1,\"r\":8,"
    "\"salt\":"
    "\"004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb45410722f8f0\"},"
    "\"mac\":"
    "\"39990c1684557447940d4c69e06b1b82b2aceacb43f284df65c956daf3046b85\"},"
    "\"id\":\"ce541d8d-c79b-40f8-9f8c-20f59616faba\",\"version\":3}";
#define VERY_LIGHT_PRIV \
	"33ff86a4a29a842eedd42a84f569d945c771857d4ddb639de730a547f08030c3"

static const char key1_7nodes[] =
    "{\"address\":\"ed9d02e382b34818e88b88a309c7fe71e65f419d\",\"crypto\":{"
    "\"cipher\":\"aes-128-ctr\",\"ciphertext\":"
    "\"4e77046ba3f699e744acb4a89c36a3ea1158a1bd90a076d36675f4c883864377\","
    "\"cipherparams\":{\"iv\":\"a8932af2a3c0225ee8e872bc0e462c11\"},"
    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":262144,\"p\":1,"
    "\"r\":8,\"salt\":"
    "\"8ca49552b3e92f79c51f2cd3d38dfc723412c212e702bd337a3724e8937aff0f\"},"
    "\"mac\":"
    "\"6d1354fef5aa0418389b1a5d1f5ee0050d7273292a1171c51fd02f9ecff55264\"},"
    "\"id\":\"a65d1ac3-db7e-445d-a1cc-b6c5eeaa05e0\",\"version\":3}";

static void assert_decrypts(const char *json, const char *pw,
    const char *want_hex)
{
	uint8_t priv[32];
	char hex[65], err[256];
	int ret;

	err[0] = '\0';
	ret = keystore_decrypt(json, strlen(json), pw, strlen(pw), priv, err,
	    sizeof(err));
	if (ret != 0)
		fail_msg("decrypt: %d: %s", ret, err);
	encoding_hex(hex, priv, 32);
	assert_string_equal(hex, want_hex);
}

static void assert_address_of(const uint8_t priv[static 32],
    const char *want_hex)
{
	uint8_t pub[64], addr[20];
	char hex[41];

	assert_int_equal(ethkey_pubkey(priv, pub), 0);
	ethkey_address(pub, addr);
	encoding_hex(hex, addr, 20);
	assert_string_equal(hex, want_hex);
}

static void test_wiki_scrypt(void **state)
{
	uint8_t priv[32];

	(void)state;
	/* n=2^18, r=1, p=8: about a second and 32 MiB. */
	assert_decrypts(wiki_scrypt, "testpassword", WIKI_PRIV);
	assert_int_equal(encoding_unhex(priv, 32, WIKI_PRIV, 64), 0);
	assert_address_of(priv, "008aeeda4d805471df9b2a5b0f38a0c3bcba786b");
}

static void test_wiki_pbkdf2(void **state)
{
	(void)state;
	assert_decrypts(wiki_pbkdf2, "testpassword", WIKI_PRIV);
}

/* Legacy short keys are left-padded to 32 bytes. */
static void test_31_byte_key(void **state)
{
	(void)state;
	assert_decrypts(key31, "foo",
	    "00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35");
}

static void test_30_byte_key(void **state)
{
	(void)state;
	assert_decrypts(key30, "foo",
	    "000081c29e8142bb6a81bef5a92bda7a8328a5c85bb2f9542e76f9b0f94fc018");
}

static void test_very_light(void **state)
{
	uint8_t priv[32];

	(void)state;
	assert_decrypts(very_light, "", VERY_LIGHT_PRIV);
	assert_int_equal(encoding_unhex(priv, 32, VERY_LIGHT_PRIV, 64), 0);
	assert_address_of(priv, "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8");
}

static void test_7nodes_key1(void **state)
{
	(void)state;
	/* Standard parameters (n=2^18, r=8, p=1), empty password. */
	assert_decrypts(key1_7nodes, "",
	    "e6181caaffff94a09d7e332fc8da9884d99902c7874eb74354bdcadf411929f1");
}

/* RFC 7914 §11 PBKDF2-HMAC-SHA256 vectors. */
static void test_pbkdf2_rfc7914(void **state)
{
	uint8_t out[64];
	char hex[129];

	(void)state;
	keystore_pbkdf2_sha256((const uint8_t *)"passwd", 6,
	    (const uint8_t *)"salt", 4, 1, out, 64);
	encoding_hex(hex, out, 64);
	assert_string_equal(hex,
	    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
	keystore_pbkdf2_sha256((const uint8_t *)"Password", 8,
	    (const uint8_t *)"NaCl", 4, 80000, out, 64);
	encoding_hex(hex, out, 64);
	assert_string_equal(hex,
	    "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
	    "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

/*
 * keystore_encrypt_with output, byte for byte: geth's member order, one
 * line, no newline. Expected value computed independently (see top).
 */
static void test_encrypt_with_exact(void **state)
{
	static const char want[] =
	    "{\"address\":\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8\","
	    "\"crypto\":{\"cipher\":\"aes-128-ctr\",\"ciphertext\":"
	    "\"1984330d8093879981743ee1404a8e79082cd0688b5c16fe67c8d19e81b6e1"
	    "6e\",\"cipherparams\":{\"iv\":"
	    "\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"},"
	    "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":1024,\"p\":1,"
	    "\"r\":8,\"salt\":"
	    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "\"},\"mac\":"
	    "\"aa4e09a33a2a092acbc3852f7b65734c2e6c9d94afca22df68990fffda9e5d21"
	    "\"},\"id\":\"10111213-1415-4617-9819-1a1b1c1d1e1f\","
	    "\"version\":3}";
	uint8_t priv[32], salt[32], iv[16], uuid[16];
	char out[KEYSTORE_MAX];

	(void)state;
	assert_int_equal(encoding_unhex(priv, 32, VERY_LIGHT_PRIV, 64), 0);
	for (int i = 0; i < 32; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++) {
		iv[i] = (uint8_t)(0xa0 + i);
		uuid[i] = (uint8_t)(0x10 + i);
	}
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1024, 8, 1, salt,
			     iv, uuid, out, sizeof(out)),
	    0);
	assert_string_equal(out, want);
	assert_null(strchr(out, '\n'));
	assert_decrypts(out, "foo", VERY_LIGHT_PRIV);

	/* Exactly-sized buffer works; one byte less is -ENOSPC. */
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1024, 8, 1, salt,
			     iv, uuid, out, sizeof(want)),
	    0);
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1024, 8, 1, salt,
			     iv, uuid, out, sizeof(want) - 1),
	    -ENOSPC);
	/* Invalid key and hostile parameters are refused. */
	memset(priv, 0, sizeof(priv));
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1024, 8, 1, salt,
			     iv, uuid, out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(encoding_unhex(priv, 32, VERY_LIGHT_PRIV, 64), 0);
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1000, 8, 1, salt,
			     iv, uuid, out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(keystore_encrypt_with(priv, "foo", 3, 1UL << 21, 8, 1,
			     salt, iv, uuid, out, sizeof(out)),
	    -EINVAL);
}

static void round_trip(unsigned long n, unsigned p, const char *pw)
{
	uint8_t priv[32], back[32], salt[32], iv[16], uuid[16];
	char out[KEYSTORE_MAX], err[256];

	assert_int_equal(ethkey_generate(priv), 0);
	randombytes_buf(salt, sizeof(salt));
	memset(iv, 0x11, sizeof(iv));
	memset(uuid, 0x22, sizeof(uuid));
	assert_int_equal(keystore_encrypt_with(priv, pw, strlen(pw), n, 8, p,
			     salt, iv, uuid, out, sizeof(out)),
	    0);
	assert_int_equal(keystore_decrypt(out, strlen(out), pw, strlen(pw),
			     back, err, sizeof(err)),
	    0);
	assert_memory_equal(priv, back, 32);
}

static void test_round_trip_tiny_and_light(void **state)
{
	(void)state;
	round_trip(2, 1, "");
	round_trip(16, 2, "correct horse battery staple");
	round_trip(4096, 6, "pässwörd");
}

static void test_encrypt_random(void **state)
{
	uint8_t priv[32], back[32], addr[20], pub[64], want[20];
	char a[KEYSTORE_MAX], b[KEYSTORE_MAX], err[256];
	uint64_t work = 0;

	(void)state;
	assert_int_equal(ethkey_generate(priv), 0);
	assert_int_equal(keystore_encrypt(priv, "pw", 2, KEYSTORE_KDF_LIGHT, a,
			     sizeof(a)),
	    0);
	assert_int_equal(keystore_encrypt(priv, "pw", 2, KEYSTORE_KDF_LIGHT, b,
			     sizeof(b)),
	    0);
	/* Fresh salt, IV and id each time. */
	assert_string_not_equal(a, b);
	assert_non_null(strstr(a, "\"kdfparams\":{\"dklen\":32,\"n\":4096,"
				  "\"p\":6,\"r\":8,\"salt\":\""));
	assert_non_null(strstr(a, "\"version\":3}"));
	assert_int_equal(keystore_check(a, strlen(a), &work, err, sizeof(err)),
	    0);
	assert_int_equal(work, 4096 * 8 * 6);
	assert_int_equal(
	    keystore_decrypt(a, strlen(a), "pw", 2, back, err, sizeof(err)),
	    0);
	assert_memory_equal(priv, back, 32);
	assert_int_equal(
	    keystore_address(a, strlen(a), addr, err, sizeof(err)), 0);
	assert_int_equal(ethkey_pubkey(priv, pub), 0);
	ethkey_address(pub, want);
	assert_memory_equal(addr, want, 20);
	/* The uuid is version 4, variant 10xx. */
	{
		const char *id = strstr(a, "\"id\":\"");

		assert_non_null(id);
		id += 6;
		assert_int_equal(id[8], '-');
		assert_int_equal(id[14], '4');
		assert_non_null(strchr("89ab", id[19]));
		assert_int_equal(id[36], '"');
	}
	assert_int_equal(keystore_encrypt(priv, "pw", 2, (enum keystore_kdf)7,
			     a, sizeof(a)),
	    -EINVAL);
}

static void test_encrypt_standard(void **state)
{
	uint8_t priv[32], back[32];
	char out[KEYSTORE_MAX], err[256];

	(void)state;
	assert_int_equal(ethkey_generate(priv), 0);
	assert_int_equal(keystore_encrypt(priv, "", 0, KEYSTORE_KDF_STANDARD,
			     out, sizeof(out)),
	    0);
	assert_non_null(strstr(out, "\"n\":262144,\"p\":1,\"r\":8,"));
	assert_int_equal(
	    keystore_decrypt(out, strlen(out), "", 0, back, err, sizeof(err)),
	    0);
	assert_memory_equal(priv, back, 32);
}

static void assert_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], 0);
}

static void test_wrong_password(void **state)
{
	uint8_t priv[32];
	char err[256];

	(void)state;
	memset(priv, 0x55, sizeof(priv));
	assert_int_equal(keystore_decrypt(very_light, strlen(very_light), "x",
			     1, priv, err, sizeof(err)),
	    -EACCES);
	assert_non_null(strstr(err, "crypto.mac"));
	assert_zero(priv, 32);
	assert_int_equal(keystore_decrypt(wiki_pbkdf2, strlen(wiki_pbkdf2),
			     "testpassworD", 12, priv, err, sizeof(err)),
	    -EACCES);
	assert_zero(priv, 32);
}

/* Copies src into out with the first occurrence of from replaced by to. */
static void replace(char *out, size_t outlen, const char *src,
    const char *from, const char *to)
{
	const char *at = strstr(src, from);

	assert_non_null(at);
	assert_true(strlen(src) - strlen(from) + strlen(to) < outlen);
	snprintf(out, outlen, "%.*s%s%s", (int)(at - src), src, to,
	    at + strlen(from));
}

static void test_corrupt_mac_and_ciphertext(void **state)
{
	uint8_t priv[32];
	char buf[KEYSTORE_MAX], err[256];

	(void)state;
	replace(buf, sizeof(buf), very_light, "\"mac\":\"3999",
	    "\"mac\":\"3998");
	assert_int_equal(keystore_decrypt(buf, strlen(buf), "", 0, priv, err,
			     sizeof(err)),
	    -EACCES);
	replace(buf, sizeof(buf), very_light, "\"ciphertext\":\"b877",
	    "\"ciphertext\":\"b878");
	assert_int_equal(keystore_decrypt(buf, strlen(buf), "", 0, priv, err,
			     sizeof(err)),
	    -EACCES);
	/* The salt feeds the KDF, so a changed salt fails the MAC too. */
	replace(buf, sizeof(buf), very_light, "\"salt\":\"0042",
	    "\"salt\":\"0043");
	assert_int_equal(keystore_decrypt(buf, strlen(buf), "", 0, priv, err,
			     sizeof(err)),
	    -EACCES);
}

/* geth's ensureInt: kdfparams may be floats; member names any case. */
static void test_lenient_forms(void **state)
{
	char buf[KEYSTORE_MAX], tmp[KEYSTORE_MAX];

	(void)state;
	replace(buf, sizeof(buf), very_light,
	    "{\"dklen\":32,\"n\":2,\"p\":1,\"r\":8,",
	    "{\"dklen\":32.0,\"n\":2.0,\"p\":1e0,\"r\":8.00,");
	assert_decrypts(buf, "", VERY_LIGHT_PRIV);
	/* dklen above 32 only lengthens dk; the first 32 bytes are used. */
	replace(buf, sizeof(buf), very_light, "\"dklen\":32", "\"dklen\":64");
	assert_decrypts(buf, "", VERY_LIGHT_PRIV);
	/* Address with 0x and EIP-55 case; "Crypto" capitalised. */
	replace(tmp, sizeof(tmp), very_light,
	    "\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8\"",
	    "\"0x45DEA0fb0bba44f4fcf290bba71fd57d7117cbb8\"");
	replace(buf, sizeof(buf), tmp, "\"crypto\"", "\"Crypto\"");
	assert_decrypts(buf, "", VERY_LIGHT_PRIV);
	/* Trailing whitespace. */
	snprintf(buf, sizeof(buf), "%s\n", very_light);
	assert_decrypts(buf, "", VERY_LIGHT_PRIV);
}

/* Fails in keystore_decrypt (after the KDF, or in the parser). */
static void assert_decrypt_invalid(const char *json, const char *needle)
{
	uint8_t priv[32];
	char err[256];
	int ret;

	memset(priv, 0x55, sizeof(priv));
	err[0] = '\0';
	ret = keystore_decrypt(json, strlen(json), "", 0, priv, err,
	    sizeof(err));
	if (ret != -EINVAL)
		fail_msg("want -EINVAL, got %d (%s) for %s", ret, err, needle);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	assert_zero(priv, 32);
}

/* Fails in the parser: keystore_check agrees without running the KDF. */
static void assert_invalid(const char *json, const char *needle)
{
	char err[256];

	assert_decrypt_invalid(json, needle);
	err[0] = '\0';
	assert_int_equal(keystore_check(json, strlen(json), NULL, err,
			     sizeof(err)),
	    -EINVAL);
	if (strstr(err, needle) == NULL)
		fail_msg("check: error \"%s\" lacks \"%s\"", err, needle);
}

static void assert_mutation_invalid(const char *from, const char *to,
    const char *needle)
{
	char buf[KEYSTORE_MAX];

	replace(buf, sizeof(buf), very_light, from, to);
	assert_invalid(buf, needle);
}

static void test_malformed_members(void **state)
{
	(void)state;
	assert_invalid("", "keystore: not valid JSON");
	assert_invalid("[1]", "keystore: not a JSON object");
	assert_invalid("{\"version\":3}", "keystore: crypto: missing");
	assert_mutation_invalid("\"version\":3", "\"version\":\"3\"",
	    "keystore: version");
	assert_mutation_invalid("\"version\":3", "\"version\":4",
	    "keystore: version");
	assert_mutation_invalid("\"version\":3", "\"versio\":3",
	    "keystore: version");
	assert_mutation_invalid("\"crypto\":{", "\"crypto\":7,\"x\":{",
	    "keystore: crypto: not an object");
	assert_mutation_invalid("\"aes-128-ctr\"", "\"aes-128-cbc\"",
	    "keystore: crypto.cipher: not supported: \"aes-128-cbc\"");
	assert_mutation_invalid("\"cipher\":", "\"cypher\":",
	    "keystore: crypto.cipher: missing");
	assert_mutation_invalid("\"ciphertext\":\"b8", "\"ciphertext\":\"zz",
	    "keystore: crypto.ciphertext: not hex");
	assert_mutation_invalid("\"ciphertext\":\"b8", "\"ciphertext\":\"b8b8",
	    "keystore: crypto.ciphertext: want 2 to 64 hex");
	assert_mutation_invalid("\"ciphertext\":\"b8", "\"ciphertext\":\"b",
	    "keystore: crypto.ciphertext");
	assert_mutation_invalid("\"iv\":\"dc49", "\"iv\":\"dc",
	    "keystore: crypto.cipherparams.iv: want 32 hex");
	assert_mutation_invalid("\"cipherparams\":{\"iv\":\"dc4926b48a105133d2"
				"f16b96833abf1e\"}",
	    "\"cipherparams\":[]",
	    "keystore: crypto.cipherparams: not an object");
	assert_mutation_invalid("\"mac\":\"3999", "\"mac\":\"0x99",
	    "keystore: crypto.mac: not hex");
	assert_mutation_invalid("\"mac\":\"3999", "\"mac\":\"399",
	    "keystore: crypto.mac: want 64 hex");
	assert_mutation_invalid("\"kdf\":\"scrypt\"", "\"kdf\":\"argon2id\"",
	    "keystore: crypto.kdf: not supported: \"argon2id\"");
	assert_mutation_invalid("\"kdf\":\"scrypt\"", "\"kdf\":1",
	    "keystore: crypto.kdf: not a string");
	assert_mutation_invalid("\"kdfparams\"", "\"kdfparam\"",
	    "keystore: crypto.kdfparams: missing");
	assert_mutation_invalid("\"dklen\":32", "\"dklen\":16",
	    "keystore: crypto.kdfparams.dklen: out of range");
	assert_mutation_invalid("\"dklen\":32,", "",
	    "keystore: crypto.kdfparams.dklen: missing");
	assert_mutation_invalid("\"n\":2", "\"n\":\"2\"",
	    "keystore: crypto.kdfparams.n: not a number");
	assert_mutation_invalid("\"n\":2", "\"n\":2.5",
	    "keystore: crypto.kdfparams.n: not an integer: 2.5");
	assert_mutation_invalid("\"salt\":\"0042", "\"salt\":\"0g42",
	    "keystore: crypto.kdfparams.salt: not hex");
	assert_mutation_invalid("\"address\":\"45de", "\"address\":\"45d",
	    "keystore: address: want 40 hex");
	assert_mutation_invalid("\"address\":\"45de", "\"address\":45,\"x\":\"",
	    "keystore: address: not a string");
	assert_mutation_invalid("\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8\"",
	    "\"0000000000000000000000000000000000000000\"",
	    "keystore: address: zero address");
	assert_mutation_invalid("\"version\":3}", "\"version\":3} x",
	    "keystore: trailing data");
}

/* The file's address must be the decrypted key's (geth's GetKey check). */
static void test_address_mismatch(void **state)
{
	char buf[KEYSTORE_MAX];

	(void)state;
	replace(buf, sizeof(buf), very_light,
	    "\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb8\"",
	    "\"45dea0fb0bba44f4fcf290bba71fd57d7117cbb9\"");
	assert_decrypt_invalid(buf,
	    "keystore: address: 0x45dEA0fb0bBa44f4FCF290bBa71Fd57D7117CBB9 "
	    "does not match the key's address "
	    "0x45DeA0FB0bBA44f4fcF290bbA71Fd57d7117Cbb8");
}

static void test_pbkdf2_params(void **state)
{
	char buf[KEYSTORE_MAX];

	(void)state;
	replace(buf, sizeof(buf), wiki_pbkdf2, "\"hmac-sha256\"",
	    "\"hmac-sha512\"");
	assert_invalid(buf,
	    "keystore: crypto.kdfparams.prf: unsupported PBKDF2 PRF: "
	    "\"hmac-sha512\"");
	replace(buf, sizeof(buf), wiki_pbkdf2, "\"c\": 262144", "\"c\": 0");
	assert_invalid(buf, "keystore: crypto.kdfparams.c: out of range");
	replace(buf, sizeof(buf), wiki_pbkdf2, "\"c\": 262144",
	    "\"c\": 2097152");
	assert_invalid(buf, "keystore: crypto.kdfparams.c: out of range");
	replace(buf, sizeof(buf), wiki_pbkdf2, "\"c\": 262144, ", "");
	assert_invalid(buf, "keystore: crypto.kdfparams.c: missing");
}

/* Hostile KDF parameters fail in the parser, before any work. */
static void test_hostile_kdf_params(void **state)
{
	static const struct {
		const char *params, *needle;
	} cases[] = {
	    {"\"n\":3,\"p\":1,\"r\":8",
		"crypto.kdfparams.n: not a power of two"},
	    {"\"n\":0,\"p\":1,\"r\":8",
		"crypto.kdfparams.n: not a power of two"},
	    {"\"n\":1,\"p\":1,\"r\":8",
		"crypto.kdfparams.n: not a power of two"},
	    {"\"n\":-2,\"p\":1,\"r\":8", "crypto.kdfparams.n: out of range"},
	    {"\"n\":1e300,\"p\":1,\"r\":8", "crypto.kdfparams.n: out of range"},
	    {"\"n\":4611686018427387904,\"p\":1,\"r\":8",
		"crypto.kdfparams.n: scrypt memory"},
	    {"\"n\":524288,\"p\":1,\"r\":8",
		"crypto.kdfparams.n: scrypt memory"},
	    {"\"n\":4194304,\"p\":1,\"r\":1",
		"crypto.kdfparams.n: scrypt memory"},
	    {"\"n\":2,\"p\":1,\"r\":0", "crypto.kdfparams.r: out of range"},
	    {"\"n\":2,\"p\":1,\"r\":257", "crypto.kdfparams.r: out of range"},
	    {"\"n\":2,\"p\":1,\"r\":4294967296",
		"crypto.kdfparams.r: out of range"},
	    {"\"n\":2,\"p\":0,\"r\":8", "crypto.kdfparams.p: out of range"},
	    {"\"n\":2,\"p\":17,\"r\":8", "crypto.kdfparams.p: out of range"},
	    {"\"n\":2,\"p\":1000000000,\"r\":8",
		"crypto.kdfparams.p: out of range"},
	    {"\"n\":262144,\"p\":3,\"r\":8", "crypto.kdfparams: scrypt work"},
	    {"\"n\":1048576,\"p\":16,\"r\":1", "crypto.kdfparams: scrypt work"},
	};
	char buf[KEYSTORE_MAX], params[128];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(params, sizeof(params), "%s,", cases[i].params);
		replace(buf, sizeof(buf), very_light,
		    "\"n\":2,\"p\":1,\"r\":8,", params);
		assert_invalid(buf, cases[i].needle);
	}
	assert_mutation_invalid("\"dklen\":32", "\"dklen\":1000000000",
	    "crypto.kdfparams.dklen: out of range");
	/* Oversized salt (300 bytes). */
	{
		char salt[2 * 300 + 1];

		memset(salt, 'a', sizeof(salt) - 1);
		salt[sizeof(salt) - 1] = '\0';
		replace(buf, sizeof(buf), very_light,
		    "004244bbdc51cadda545b1cfa43cff9ed2ae88e08c61f1479dbb"
		    "45410722f8f0",
		    salt);
		assert_invalid(buf, "crypto.kdfparams.salt: want 0 to 512 hex");
	}
}

static void test_size_limit(void **state)
{
	static char big[KEYSTORE_MAX + 2];
	uint8_t priv[32];
	char err[256];

	(void)state;
	memset(big, ' ', sizeof(big));
	memcpy(big, very_light, strlen(very_light));
	assert_decrypts(very_light, "", VERY_LIGHT_PRIV);
	assert_int_equal(keystore_decrypt(big, KEYSTORE_MAX, "", 0, priv, err,
			     sizeof(err)),
	    0);
	assert_int_equal(keystore_decrypt(big, KEYSTORE_MAX + 1, "", 0, priv,
			     err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "larger than 8192"));
}

static void test_check_work(void **state)
{
	uint64_t work = 0;
	char err[256];

	(void)state;
	assert_int_equal(keystore_check(very_light, strlen(very_light), &work,
			     err, sizeof(err)),
	    0);
	assert_int_equal(work, 16);
	assert_int_equal(keystore_check(wiki_pbkdf2, strlen(wiki_pbkdf2), &work,
			     err, sizeof(err)),
	    0);
	assert_int_equal(work, 262144);
	assert_int_equal(keystore_check(wiki_scrypt, strlen(wiki_scrypt), &work,
			     err, sizeof(err)),
	    0);
	assert_int_equal(work, 262144 * 8);
}

static void test_address(void **state)
{
	uint8_t addr[20];
	char hex[41], err[256], buf[KEYSTORE_MAX];

	(void)state;
	assert_int_equal(keystore_address(very_light, strlen(very_light), addr,
			     err, sizeof(err)),
	    0);
	encoding_hex(hex, addr, 20);
	assert_string_equal(hex, "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8");
	assert_int_equal(keystore_address(key1_7nodes, strlen(key1_7nodes),
			     addr, err, sizeof(err)),
	    0);
	encoding_hex(hex, addr, 20);
	assert_string_equal(hex, "ed9d02e382b34818e88b88a309c7fe71e65f419d");
	replace(buf, sizeof(buf), very_light, "\"45de", "\"0X45DE");
	assert_int_equal(
	    keystore_address(buf, strlen(buf), addr, err, sizeof(err)), 0);
	encoding_hex(hex, addr, 20);
	assert_string_equal(hex, "45dea0fb0bba44f4fcf290bba71fd57d7117cbb8");
	/* The wiki vectors carry no address: geth would not list them. */
	assert_int_equal(keystore_address(wiki_scrypt, strlen(wiki_scrypt),
			     addr, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "keystore: address: missing"));
	replace(buf, sizeof(buf), very_light, "\"45de", "\"zz45de");
	assert_int_equal(
	    keystore_address(buf, strlen(buf), addr, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "\"zz45de"));
	assert_int_equal(keystore_address("nope", 4, addr, err, sizeof(err)),
	    -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wiki_scrypt),
	    cmocka_unit_test(test_wiki_pbkdf2),
	    cmocka_unit_test(test_31_byte_key),
	    cmocka_unit_test(test_30_byte_key),
	    cmocka_unit_test(test_very_light),
	    cmocka_unit_test(test_7nodes_key1),
	    cmocka_unit_test(test_pbkdf2_rfc7914),
	    cmocka_unit_test(test_encrypt_with_exact),
	    cmocka_unit_test(test_round_trip_tiny_and_light),
	    cmocka_unit_test(test_encrypt_random),
	    cmocka_unit_test(test_encrypt_standard),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_corrupt_mac_and_ciphertext),
	    cmocka_unit_test(test_lenient_forms),
	    cmocka_unit_test(test_malformed_members),
	    cmocka_unit_test(test_address_mismatch),
	    cmocka_unit_test(test_pbkdf2_params),
	    cmocka_unit_test(test_hostile_kdf_params),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_check_work),
	    cmocka_unit_test(test_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
