/*
 * secp256k1 key vectors from formats.md §1 (go-ethereum, quorum-examples
 * 7nodes, istanbul-tools QBFT) and §2 (testPrivHex, EIP-55).
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
#include "peerd/ethkey.h"
#include "peerd/keccak.h"

static void unhex(uint8_t *out, size_t n, const char *s)
{
	assert_int_equal(strlen(s), 2 * n);
	assert_int_equal(encoding_unhex(out, n, s, 2 * n), 0);
}

/* nodekey -> enode ID (X||Y) -> address (lowercase, no 0x). */
static void assert_key(const char *priv_hex, const char *enode_hex,
    const char *addr_hex)
{
	uint8_t priv[32], pub[64], addr[20];
	char hex[129];

	unhex(priv, 32, priv_hex);
	assert_true(ethkey_priv_valid(priv));
	assert_int_equal(ethkey_pubkey(priv, pub), 0);
	encoding_hex(hex, pub, 64);
	if (enode_hex != NULL)
		assert_string_equal(hex, enode_hex);
	assert_true(ethkey_pub_valid(pub));
	ethkey_address(pub, addr);
	encoding_hex(hex, addr, 20);
	assert_string_equal(hex, addr_hex);
}

static void test_geth_v4wire_key(void **state)
{
	uint8_t priv[32], pub[64], id[32];
	char hex[65];

	(void)state;
	unhex(priv, 32,
	    "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291");
	assert_int_equal(ethkey_pubkey(priv, pub), 0);
	{
		uint8_t want[64];

		unhex(want, 64,
		    "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f32"
		    "58cd31387574077f301b421bc84df7266c44e9e6d569fc56be008129"
		    "04767bf5ccd1fc7f");
		assert_memory_equal(pub, want, 64);
	}
	/* v4 node ID = keccak256(X||Y) (TestPythonInterop wantID). */
	keccak_256(pub, 64, id);
	encoding_hex(hex, id, 32);
	assert_string_equal(hex,
	    "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
}

static const struct {
	const char *priv, *enode, *addr;
} sevennodes[] = {
    {"1be3b50b31734be48452c29d714941ba165ef0cbf3ccea8ca16c45e3d8d45fb0",
	"ac6b1096ca56b9f6d004b779ae3728bf83f8e22453404cc3cef16a3d9b96608bc67c4b"
	"30db88e0a5a6c6390213f7acbe1153ff6d23ce57380104288ae19373ef",
	"d8dba507e85f116b1f7e231ca8525fc9008a6966"},
    {"9bdd6a2e7cc1ca4a4019029df3834d2633ea6e14034d6dcc3b944396fe13a08b",
	"0ba6b9f606a43a95edc6247cdb1c1e105145817be7bcafd6b2c0ba15d58145f0dc1a19"
	"4f70ba73cd6f4cdd6864edc7687f311254c7555cc32e4d45aeb1b80416",
	"6571d97f340c8495b661a823f2c2145ca47d63c2"},
    {"722f11686b2277dcbd72713d8a3c81c666b585c337d47f503c3c1f3c17cf001d",
	"579f786d4e2830bbcc02815a27e8a9bacccc9605df4dc6f20bcc1a6eb391e7225fff7c"
	"b83e5b4ecd1f3a94d8b733803f2f66b7e871961e7b029e22c155c3a778",
	"e36cbeb565b061217930767886474e3cde903ac5"},
    {"6af685c4de99d44c620ccd9464d19bdeb62a750b9ae49b1740fb28d68a0e5c7d",
	"3d9ca5956b38557aba991e31cf510d4df641dce9cc26bfeb7de082f0c07abb6ede3a58"
	"410c8f249dabeecee4ad3979929ac4c7c496ad20b8cfdd061b7401b4f5",
	"f512a992f3fb749857d758ffda1330e590fa915e"},
    {"103bb5d20384b9af9f693d4287822fef6da7d79cb2317ed815f0081c7ea8d17d",
	"3701f007bfa4cb26512d7df18e6bbd202e8484a6e11d387af6e482b525fa25542d46ff"
	"9c99db87bd419b980c24a086117a397f6d8f88e74351b41693880ea0cb",
	"b912de287f9b047b4228436e94b5b78e3ee16171"},
    {"79999aef8d5197446b6051df47f01fd4d6dd1997aec3f5282e77ea27b6727346",
	"eacaa74c4b0e7a9e12d2fe5fee6595eda841d6d992c35dbbcc50fcee4aa86dfbbdeff7"
	"dc7e72c2305d5a62257f82737a8cffc80474c15c611c037f52db1a3a7b",
	"8157d4437104e3b8df4451a85f7b2438ef6699ff"},
    {"e85dae073b504871ffd7946bf5f45e6fa8dc09eb1536a48c4b6822332008973d",
	"239c1f044a2b03b6c4713109af036b775c5418fe4ca63b04b1ce00124af00ddab7cc08"
	"8fc46020cdc783b6207efe624551be4c06a994993d8d70f684688fb7cf",
	"b131288f355bc27090e542ae0be213c20350b767"},
};

static void test_7nodes_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(sevennodes) / sizeof(sevennodes[0]); i++)
		assert_key(sevennodes[i].priv, sevennodes[i].enode,
		    sevennodes[i].addr);
}

static const struct {
	const char *priv, *addr, *enode;
} qbft4[] = {
    {"34a43df6fc32c3c8561024fd0fbd744eebad5cebb74bc1c3ffa4a8bb2136489b",
	"82f114cde4898983626a27af4eb928ff804e60ee",
	"b4a8371baf676ec384ec6e97c33e30e33e7d68460dc9014a8262258f933eb6476e4330"
	"17e9f1f56e7fc5b2eef9a5655a6426cb491133f64ce1c7f9d08e0c6fa4"},
    {"8a3f9c2ff1b17374d521da6be6a33a77722d84d223ccf41ee9c8e7e9107e1944",
	"21de2bf49c07595cf8c7c64ac5b173a112171cfe",
	"be355d2f3e884be7f5a1698e105de2408ebb921632dfe608a95e5eddfe4352c70d8f21"
	"f8f2ecf59658749b97bf1bdfb939c3d58532f1e511f22f827732ef6043"},
    {"ffe595c61270e51a9f51e6a5288bb9f19e930a264d11243e865508104ae6498c",
	"3f3e6c684f16f7fac8aa6ae20bb04a3910367994",
	"6f6c58bb00418b6892a59936717f597eb8a2e5113a5e68188bb958275f1c5f767fae2d"
	"b4e9f675970c8b20d9f4da2a8e0066292725756446348eb6ea10ac6215"},
    {"321339fbbc84f71c7b0c8aebe2bf53a64951a3bfee75960edaa4313b614f4a3c",
	"e63a320b26610685d3d5124c7c65b360735ab8f2",
	"70465abd32f3bd107eb6cce1b99c57db154b98039efecfcb757b1b8244cbb26846025f"
	"e8a1eadfeaff9a7f49d624d86f82ade87b737233588f36fce78f3fa7b9"},
};

static void test_qbft4_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(qbft4) / sizeof(qbft4[0]); i++)
		assert_key(qbft4[i].priv, qbft4[i].enode, qbft4[i].addr);
}

static void test_geth_testpriv(void **state)
{
	(void)state;
	assert_key(
	    "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032",
	    "7db227d7094ce215c3a0f57e1bcc732551fe351f94249471934567e0f5dc1bf795"
	    "962b8cccb87a2eb56b29fbe37d614e2f4c3c45b789ae4f1f51f4cb21972ffd",
	    "970e8128ab834e8eac17ab8e3812f010678cf791");
}

static void assert_eip55(const char *lower40, const char *want)
{
	uint8_t addr[20];
	char out[43];

	unhex(addr, 20, lower40);
	memset(out, 'X', sizeof(out));
	ethkey_checksum_hex(addr, out);
	assert_string_equal(out, want);
}

static void test_eip55(void **state)
{
	(void)state;
	assert_eip55("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	assert_eip55("fb6916095ca1df60bb79ce92ce3ea74c37c5d359",
	    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
	assert_eip55("dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb",
	    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB");
	assert_eip55("d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb",
	    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb");
	/* "0xa": the short form left-padded to 20 bytes. */
	assert_eip55("000000000000000000000000000000000000000a",
	    "0x000000000000000000000000000000000000000A");
	/* [computed] testAddrHex and 7nodes key1. */
	assert_eip55("970e8128ab834e8eac17ab8e3812f010678cf791",
	    "0x970E8128AB834E8EAC17Ab8E3812F010678CF791");
	assert_eip55("ed9d02e382b34818e88b88a309c7fe71e65f419d",
	    "0xed9d02e382b34818e88B88a309c7fe71E65f419d");
}

static void test_priv_valid_range(void **state)
{
	uint8_t k[32];

	(void)state;
	/* TestToECDSAErrors: zero and all-ff are rejected. */
	memset(k, 0, 32);
	assert_false(ethkey_priv_valid(k));
	memset(k, 0xff, 32);
	assert_false(ethkey_priv_valid(k));
	k[31] = 1;
	memset(k, 0, 31);
	assert_true(ethkey_priv_valid(k));
	/* n itself is invalid, n-1 is the largest valid scalar. */
	unhex(k, 32,
	    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
	assert_false(ethkey_priv_valid(k));
	assert_int_equal(ethkey_pubkey(k, (uint8_t[64]){0}), -EINVAL);
	k[31] = 0x40;
	assert_true(ethkey_priv_valid(k));
	k[31] = 0x42;
	assert_false(ethkey_priv_valid(k));
	/* The QBFT key starting ffe5... is < n. */
	unhex(k, 32,
	    "ffe595c61270e51a9f51e6a5288bb9f19e930a264d11243e865508104ae6498c");
	assert_true(ethkey_priv_valid(k));
}

static void test_pub_valid(void **state)
{
	uint8_t pub[64];

	(void)state;
	unhex(pub, 64,
	    "ca634cae0d49acb401d8a4c6b6fe8c55b70d115bf400769cc1400f3258cd3138"
	    "7574077f301b421bc84df7266c44e9e6d569fc56be00812904767bf5ccd1fc7f");
	assert_true(ethkey_pub_valid(pub));
	pub[63] ^= 0x01;
	assert_false(ethkey_pub_valid(pub));
	memset(pub, 0, sizeof(pub));
	assert_false(ethkey_pub_valid(pub));
	/* X = p is outside the field. */
	unhex(pub, 32,
	    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f");
	assert_false(ethkey_pub_valid(pub));
}

static void test_generate(void **state)
{
	uint8_t a[32], b[32], pub[64];

	(void)state;
	assert_int_equal(ethkey_generate(a), 0);
	assert_int_equal(ethkey_generate(b), 0);
	assert_true(ethkey_priv_valid(a));
	assert_true(ethkey_priv_valid(b));
	assert_memory_not_equal(a, b, 32);
	assert_int_equal(ethkey_pubkey(a, pub), 0);
	assert_true(ethkey_pub_valid(pub));
}

static void test_sign_recover(void **state)
{
	uint8_t priv[32], pub[64], rec[64], hash[32], sig[65], bad[65];

	(void)state;
	unhex(priv, 32,
	    "1be3b50b31734be48452c29d714941ba165ef0cbf3ccea8ca16c45e3d8d45fb0");
	assert_int_equal(ethkey_pubkey(priv, pub), 0);
	keccak_256("peer document", 13, hash);
	assert_int_equal(ethkey_sign(priv, hash, sig), 0);
	assert_true(sig[64] <= 1);
	/* Low-s: s <= n/2 (top byte of s at most 0x7f). */
	assert_true(sig[32] <= 0x7f);
	assert_int_equal(ethkey_recover(sig, hash, rec), 0);
	assert_memory_equal(rec, pub, 64);

	/* RFC 6979: deterministic. */
	memcpy(bad, sig, 65);
	assert_int_equal(ethkey_sign(priv, hash, sig), 0);
	assert_memory_equal(bad, sig, 65);

	/* A tampered hash recovers some other key (or fails). */
	hash[0] ^= 0x01;
	if (ethkey_recover(sig, hash, rec) == 0)
		assert_memory_not_equal(rec, pub, 64);
	hash[0] ^= 0x01;

	/* A tampered signature likewise. */
	memcpy(bad, sig, 65);
	bad[10] ^= 0x80;
	if (ethkey_recover(bad, hash, rec) == 0)
		assert_memory_not_equal(rec, pub, 64);

	/* Flipped v gives the other candidate key. */
	memcpy(bad, sig, 65);
	bad[64] ^= 1;
	if (ethkey_recover(bad, hash, rec) == 0)
		assert_memory_not_equal(rec, pub, 64);

	/* v outside {0,1}, r = 0, and s >= n are rejected. */
	memcpy(bad, sig, 65);
	bad[64] = 27;
	assert_int_equal(ethkey_recover(bad, hash, rec), -EINVAL);
	memcpy(bad, sig, 65);
	memset(bad, 0, 32);
	assert_int_equal(ethkey_recover(bad, hash, rec), -EINVAL);
	memcpy(bad, sig, 65);
	memset(bad + 32, 0xff, 32);
	assert_int_equal(ethkey_recover(bad, hash, rec), -EINVAL);
}

static void test_sign_invalid_key(void **state)
{
	uint8_t priv[32] = {0}, hash[32] = {1}, sig[65];

	(void)state;
	assert_int_equal(ethkey_sign(priv, hash, sig), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_geth_v4wire_key),
	    cmocka_unit_test(test_7nodes_table),
	    cmocka_unit_test(test_qbft4_table),
	    cmocka_unit_test(test_geth_testpriv),
	    cmocka_unit_test(test_eip55),
	    cmocka_unit_test(test_priv_valid_range),
	    cmocka_unit_test(test_pub_valid),
	    cmocka_unit_test(test_generate),
	    cmocka_unit_test(test_sign_recover),
	    cmocka_unit_test(test_sign_invalid_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
