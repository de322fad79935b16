#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/identity.h"
#include "peerd/tmkey.h"

static char dir[64];
static struct settings s;
static char err[IDENTITY_ERR_LEN];

static void load_settings(const char *pwfile)
{
	char dd[96], pw[300];
	const char *env[] = {dd, "KEYSTORE_KDF=light", pwfile ? pw : NULL,
	    NULL};
	char *argv[] = {"identity", NULL};
	char e[SETTINGS_ERR_LEN];

	snprintf(dd, sizeof(dd), "DATA_DIR=%s", dir);
	snprintf(pw, sizeof(pw), "ACCOUNT_PASSWORD_FILE=%s", pwfile ? pwfile :
	    "");
	assert_int_equal(settings_load(&s, SETTINGS_IDENTITY, 1, argv, env,
	    NULL, NULL, e, sizeof(e)), 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_identity.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	load_settings(NULL);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void path_of(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", dir, rel);
}

static size_t read_path(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static size_t read_rel(const char *rel, char *buf, size_t len)
{
	char p[256];

	path_of(p, sizeof(p), rel);
	return read_path(p, buf, len);
}

static void write_rel(const char *rel, const char *data, size_t len)
{
	char p[256];
	FILE *f;

	path_of(p, sizeof(p), rel);
	f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(p, 0600);
}

static mode_t mode_of(const char *rel)
{
	char p[256];
	struct stat st;

	path_of(p, sizeof(p), rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static bool exists_rel(const char *rel)
{
	char p[256];
	struct stat st;

	path_of(p, sizeof(p), rel);
	return stat(p, &st) == 0;
}

static void test_create_then_reuse(void **state)
{
	struct identity a, b;
	char buf[256], hex[65];
	uint8_t secret[32], pub[32], npub[64];
	struct stat st1, st2;
	char ks[300];
	const char *base;

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	/* nodekey: 64 lowercase hex + newline, 0600; dirs 0700. */
	assert_int_equal(read_rel("dd/geth/nodekey", buf, sizeof(buf)), 65);
	assert_int_equal(buf[64], '\n');
	assert_true(encoding_is_lowerhex(buf, 64));
	encoding_hex(hex, a.nodekey, 32);
	assert_memory_equal(buf, hex, 64);
	assert_int_equal(mode_of("dd/geth/nodekey"), 0600);
	assert_int_equal(mode_of("dd/geth"), 0700);
	assert_int_equal(mode_of("dd/keystore"), 0700);
	assert_int_equal(mode_of("keys"), 0700);
	assert_int_equal(mode_of("keys/password"), 0600);
	assert_int_equal(mode_of("keys/tm.key"), 0600);
	assert_int_equal(mode_of("keys/tm.pub"), 0600);
	/* tm.pub: 44 base64 chars, no newline, the pair of tm.key. */
	assert_int_equal(read_rel("keys/tm.pub", buf, sizeof(buf)), 44);
	assert_int_equal(tmkey_parse_pub(buf, 44, pub, err, sizeof(err)), 0);
	assert_memory_equal(pub, a.tm_pub, 32);
	read_rel("keys/tm.key", buf, sizeof(buf));
	assert_int_equal(tmkey_parse(buf, strlen(buf), secret, err,
	    sizeof(err)), 0);
	assert_int_equal(tmkey_public(secret, pub), 0);
	assert_memory_equal(pub, a.tm_pub, 32);
	assert_int_equal(ethkey_pubkey(a.nodekey, npub), 0);
	assert_memory_equal(npub, a.node_pub, 64);
	/* Keystore file name: UTC--<time>--<address>, 0600. */
	base = strrchr(a.keystore_path, '/') + 1;
	assert_memory_equal(base, "UTC--", 5);
	encoding_hex(hex, a.account, 20);
	assert_string_equal(base + strlen(base) - 40, hex);
	assert_int_equal(stat(a.keystore_path, &st1), 0);
	assert_int_equal(st1.st_mode & 0777, 0600);
	snprintf(ks, sizeof(ks), "%s", a.keystore_path);

	/* Second run: same identity, the file untouched. */
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)), 0);
	assert_memory_equal(a.nodekey, b.nodekey, 32);
	assert_memory_equal(a.account, b.account, 20);
	assert_memory_equal(a.tm_pub, b.tm_pub, 32);
	assert_string_equal(ks, b.keystore_path);
	assert_int_equal(stat(b.keystore_path, &st2), 0);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	assert_int_equal(st1.st_ino, st2.st_ino);
	identity_wipe(&a);
	identity_wipe(&b);
}

static void test_partial_completed(void **state)
{
	struct identity a, b;
	char p[256];

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	path_of(p, sizeof(p), "keys/tm.key");
	unlink(p);
	path_of(p, sizeof(p), "keys/tm.pub");
	unlink(p);
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)), 0);
	assert_memory_equal(a.nodekey, b.nodekey, 32);
	assert_memory_equal(a.account, b.account, 20);
	assert_memory_not_equal(a.tm_pub, b.tm_pub, 32);
	assert_true(exists_rel("keys/tm.key"));
	/* Only the node key left: the rest is created around it. */
	unlink(b.keystore_path);
	path_of(p, sizeof(p), "keys/password");
	unlink(p);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	assert_memory_equal(a.nodekey, b.nodekey, 32);
	identity_wipe(&a);
	identity_wipe(&b);
}

struct bad_key {
	const char *content;
	const char *why;
};

static void test_corrupt_nodekey(void **state)
{
	static const struct bad_key cases[] = {
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
		"too short"},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n",
		"too short"},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX",
		"not 64 hex"},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdefX",
		"unexpected byte"},
	    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n\n\n",
		"too long"},
	    {"0000000000000000000000000000000000000000000000000000000000000000\n",
		"not a valid secp256k1"},
	    {"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n",
		"not a valid secp256k1"},
	    {"fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
		"not a valid secp256k1"},
	};
	struct identity id;
	char buf[256], p[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char sub[128];

		snprintf(sub, sizeof(sub), "mkdir -p '%s/dd/geth'", dir);
		assert_int_equal(system(sub), 0);
		write_rel("dd/geth/nodekey", cases[i].content,
		    strlen(cases[i].content));
		assert_int_equal(identity_load_or_create(&s, &id, err,
		    sizeof(err)), -EINVAL);
		path_of(p, sizeof(p), "dd/geth/nodekey");
		if (strstr(err, p) == NULL || strstr(err, cases[i].why) == NULL)
			fail_msg("case %zu: error \"%s\"", i, err);
		/* The file is left as it was, nothing else is written. */
		assert_int_equal(read_rel("dd/geth/nodekey", buf, sizeof(buf)),
		    strlen(cases[i].content));
		assert_string_equal(buf, cases[i].content);
		assert_false(exists_rel("keys"));
		assert_false(exists_rel("dd/keystore"));
	}
}

static void test_tolerated_nodekey_forms(void **state)
{
	/* geth accepts up to two trailing CR/LF, and upper-case hex. */
	static const char *const ok[] = {
	    "1BE3B50B31734BE48452C29D714941BA165EF0CBF3CCEA8CA16C45E3D8D45FB0",
	    "1be3b50b31734be48452c29d714941ba165ef0cbf3ccea8ca16c45e3d8d45fb0\r\n",
	};
	struct identity id;
	char hex[129];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		char sub[128];

		snprintf(sub, sizeof(sub), "mkdir -p '%s/dd/geth'", dir);
		assert_int_equal(system(sub), 0);
		write_rel("dd/geth/nodekey", ok[i], strlen(ok[i]));
		assert_int_equal(identity_load_or_create(&s, &id, err,
		    sizeof(err)), 0);
		encoding_hex(hex, id.node_pub, 64);
		assert_string_equal(hex,
		    "ac6b1096ca56b9f6d004b779ae3728bf83f8e22453404cc3cef16a3d9b9"
		    "6608bc67c4b30db88e0a5a6c6390213f7acbe1153ff6d23ce573801042"
		    "88ae19373ef");
		identity_wipe(&id);
	}
}

static void test_corrupt_keystore(void **state)
{
	struct identity a, b;
	char buf[8192], *mac, saved[8192];
	size_t n;
	FILE *f;

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	f = fopen(a.keystore_path, "rb");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	mac = strstr(buf, "\"mac\":\"");
	assert_non_null(mac);
	mac += 7;
	*mac = *mac == '0' ? '1' : '0';
	f = fopen(a.keystore_path, "wb");
	fwrite(buf, 1, n, f);
	fclose(f);
	memcpy(saved, buf, n + 1);
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, a.keystore_path));
	assert_non_null(strstr(err, "MAC"));
	f = fopen(a.keystore_path, "rb");
	assert_int_equal(fread(buf, 1, sizeof(buf) - 1, f), n);
	fclose(f);
	assert_memory_equal(buf, saved, n);
	identity_wipe(&a);
}

static void test_tm_pub_mismatch(void **state)
{
	struct identity a;

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	write_rel("keys/tm.pub", "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=",
	    44);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "tm.pub does not match"));
	write_rel("keys/tm.pub", "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=\n",
	    45);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "tm.pub"));
	write_rel("keys/tm.key", "{\"type\":\"unlocked\"}", 19);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "tm.key"));
}

static void test_password_file(void **state)
{
	struct identity a;
	char pw[128];
	FILE *f;

	(void)state;
	snprintf(pw, sizeof(pw), "%s/pw.txt", dir);
	load_settings(pw);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "ACCOUNT_PASSWORD_FILE"));
	assert_false(exists_rel("keys"));
	f = fopen(pw, "w");
	fputs("correct horse\nsecond line ignored\n", f);
	fclose(f);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	assert_false(exists_rel("keys/password"));
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	/* A different password no longer opens the keystore. */
	f = fopen(pw, "w");
	fputs("battery staple\n", f);
	fclose(f);
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "MAC"));
}


static void write_path(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* keys/keystore.ok: what lets a restart skip the KDF, and only while valid. */
static void test_keystore_seal(void **state)
{
	struct identity a, b;
	char ks[8192], pw[256], seal[128], want[IDENTITY_SEAL_LEN + 1], *mac;
	uint8_t other[32];
	size_t kslen, pwlen;
	char orig;

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	/* Created with the identity: 64 hex + newline, 0600. */
	assert_int_equal(mode_of("keys/keystore.ok"), 0600);
	assert_int_equal(read_rel("keys/keystore.ok", seal, sizeof(seal)), 65);
	kslen = read_path(a.keystore_path, ks, sizeof(ks));
	pwlen = read_rel("keys/password", pw, sizeof(pw)) - 1; /* '\n' */
	identity_keystore_seal(a.nodekey, pw, pwlen, ks, kslen, want);
	assert_memory_equal(seal, want, 64);
	assert_int_equal(seal[64], '\n');
	/* Keyed by the node key: another key gives another seal. */
	memcpy(other, a.nodekey, 32);
	other[31] ^= 1;
	identity_keystore_seal(other, pw, pwlen, ks, kslen, want);
	assert_memory_not_equal(seal, want, 64);

	/*
	 * A valid seal is trusted instead of the KDF: a keystore whose MAC
	 * is broken loads while sealed (the seal vouches for these bytes)...
	 */
	mac = strstr(ks, "\"mac\":\"") + 7;
	orig = *mac;
	*mac = orig == '0' ? '1' : '0';
	write_path(a.keystore_path, ks, kslen);
	identity_keystore_seal(a.nodekey, pw, pwlen, ks, kslen, want);
	want[64] = '\n';
	write_rel("keys/keystore.ok", want, 65);
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)), 0);
	assert_memory_equal(a.account, b.account, 20);
	/* ...and once the seal is wrong, the KDF runs and finds the MAC bad. */
	write_rel("keys/keystore.ok", "0000\n", 5);
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "MAC"));
	/* Repaired keystore, seal gone: opened with the KDF and resealed. */
	*mac = orig;
	write_path(a.keystore_path, ks, kslen);
	path_of(pw, sizeof(pw), "keys/keystore.ok");
	unlink(pw);
	assert_int_equal(identity_load_or_create(&s, &b, err, sizeof(err)), 0);
	assert_memory_equal(a.account, b.account, 20);
	assert_int_equal(read_rel("keys/keystore.ok", pw, sizeof(pw)), 65);
	assert_memory_equal(pw, seal, 65);
	identity_wipe(&a);
	identity_wipe(&b);
}

static void test_public_view(void **state)
{
	struct identity a;
	struct peerdoc d;
	char hex[129];

	(void)state;
	assert_int_equal(identity_load_or_create(&s, &a, err, sizeof(err)), 0);
	s.node_ordinal = 2;
	strcpy(s.node_domain, "q.ns.svc.cluster.local");
	strcpy(s.node_ip, "10.0.0.3");
	identity_public(&a, &s, &d);
	assert_string_equal(d.name, "quorum-2");
	assert_string_equal(d.host, "quorum-2.q.ns.svc.cluster.local");
	encoding_hex(hex, a.node_pub, 64);
	assert_string_equal(d.node_id, hex);
	assert_int_equal(strlen(d.account), 42);
	assert_int_equal(strlen(d.tm_pub), 44);
	assert_non_null(strstr(d.enode, "@10.0.0.3:30303?discport=0&raftport="
	    "50400"));
	assert_string_equal(d.tm_url, "http://10.0.0.3:9000/");
	s.address_mode = ADDRESS_DNS;
	s.consensus = CONSENSUS_QBFT;
	identity_public(&a, &s, &d);
	assert_non_null(strstr(d.enode,
	    "@quorum-2.q.ns.svc.cluster.local:30303?discport=0"));
	assert_null(strstr(d.enode, "raftport"));
	identity_wipe(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_then_reuse, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_partial_completed, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_nodekey, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_tolerated_nodekey_forms, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_keystore, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_tm_pub_mismatch, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_password_file, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_keystore_seal, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_public_view, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
