/*
 * peerdoc: canonical form, sign/parse round trip, every way a document can
 * be wrong, and /env.sh sourced by a real /bin/sh.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/peerdoc.h"

/* istanbul-tools QBFT 4-node table, node 0 (formats.md §5). */
static const char nodekey_hex[] =
    "34a43df6fc32c3c8561024fd0fbd744eebad5cebb74bc1c3ffa4a8bb2136489b";
static const char node_id_hex[] =
    "b4a8371baf676ec384ec6e97c33e30e33e7d68460dc9014a8262258f933eb6476e43"
    "3017e9f1f56e7fc5b2eef9a5655a6426cb491133f64ce1c7f9d08e0c6fa4";
/* Another table entry: a valid key that is not node 0's. */
static const char other_key_hex[] =
    "8a3f9c2ff1b17374d521da6be6a33a77722d84d223ccf41ee9c8e7e9107e1944";
static const uint8_t secret[] = "correct horse battery staple";

static void key(const char *hex, uint8_t out[32])
{
	assert_int_equal(encoding_unhex(out, 32, hex, 64), 0);
}

static void make_doc(struct peerdoc *d)
{
	memset(d, 0, sizeof(*d));
	d->ordinal = 0;
	strcpy(d->name, "quorum-0");
	strcpy(d->ip, "10.0.0.1");
	strcpy(d->host, "quorum-0.quorum.default.svc.cluster.local");
	strcpy(d->node_id, node_id_hex);
	snprintf(d->enode, sizeof(d->enode),
	    "enode://%s@10.0.0.1:30303?discport=0&raftport=50400",
	    node_id_hex);
	strcpy(d->account, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	strcpy(d->tm_pub, "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=");
	strcpy(d->tm_url, "http://10.0.0.1:9000/");
	d->p2p_port = 30303;
	d->raft_port = 50400;
}

static void signed_doc(struct peerdoc *d, const uint8_t *sec, size_t seclen)
{
	uint8_t k[32];

	make_doc(d);
	key(nodekey_hex, k);
	assert_int_equal(peerdoc_sign(d, k, sec, seclen), 0);
}

static size_t to_json(const struct peerdoc *d, char *buf, size_t cap)
{
	size_t len = 0;

	assert_int_equal(peerdoc_to_json(d, buf, cap, &len), 0);
	assert_int_equal(strlen(buf), len);
	return len;
}

static void assert_same(const struct peerdoc *a, const struct peerdoc *b)
{
	assert_int_equal(a->ordinal, b->ordinal);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->ip, b->ip);
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->node_id, b->node_id);
	assert_string_equal(a->enode, b->enode);
	assert_string_equal(a->account, b->account);
	assert_string_equal(a->tm_pub, b->tm_pub);
	assert_string_equal(a->tm_url, b->tm_url);
	assert_int_equal(a->p2p_port, b->p2p_port);
	assert_int_equal(a->raft_port, b->raft_port);
	assert_string_equal(a->sig, b->sig);
	assert_string_equal(a->mac, b->mac);
}

static void test_canonical_exact(void **state)
{
	struct peerdoc d;
	char buf[2048], want[2048];
	size_t len = 0;

	(void)state;
	make_doc(&d);
	assert_int_equal(peerdoc_canonical(&d, buf, sizeof(buf), &len), 0);
	snprintf(want, sizeof(want),
	    "{\"v\":1,\"name\":\"quorum-0\",\"ordinal\":0,\"ip\":\"10.0.0.1\","
	    "\"host\":\"quorum-0.quorum.default.svc.cluster.local\","
	    "\"node_id\":\"%s\",\"enode\":\"enode://%s@10.0.0.1:30303?"
	    "discport=0&raftport=50400\",\"account\":\"0x5aAeb6053F3E94C9b9A0"
	    "9f33669435E7Ef1BeAed\",\"tm_pub\":\"BULeR8JyUWhiuuCMU/HLA0Q5pzkYT"
	    "+cHII3ZKBey3Bo=\",\"tm_url\":\"http://10.0.0.1:9000/\","
	    "\"p2p_port\":30303,\"raft_port\":50400}",
	    node_id_hex, node_id_hex);
	assert_string_equal(buf, want);
	assert_int_equal(len, strlen(want));
	/* Too small a buffer is an error, not a truncated document. */
	assert_int_equal(peerdoc_canonical(&d, buf, len, &len), -ENOBUFS);
	/* A value that would need escaping never gets serialized. */
	strcpy(d.name, "quorum\"-0");
	assert_int_equal(peerdoc_canonical(&d, buf, sizeof(buf), &len),
	    -EINVAL);
}

static void test_round_trip(void **state)
{
	struct peerdoc d, p;
	struct peerdoc_expect ex = {.ordinal = 0, .prefix = "quorum-"};
	char buf[4096], canon[2048], err[256];
	size_t len, clen;

	(void)state;
	signed_doc(&d, NULL, 0);
	assert_int_equal(strlen(d.sig), 130);
	assert_string_equal(d.mac, "");
	len = to_json(&d, buf, sizeof(buf));
	/* canonical members, then sig, compact, one trailing newline */
	assert_int_equal(peerdoc_canonical(&d, canon, sizeof(canon), &clen),
	    0);
	assert_memory_equal(buf, canon, clen - 1);
	assert_int_equal(strncmp(buf + clen - 1, ",\"sig\":\"", 8), 0);
	assert_string_equal(buf + len - 3, "\"}\n");
	assert_null(strstr(buf, "\"mac\""));
	memset(&p, 0, sizeof(p));
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    0);
	assert_same(&d, &p);
	/* No expectations at all is fine too. */
	assert_int_equal(peerdoc_parse(buf, len, NULL, &p, err, sizeof(err)),
	    0);
	/* Other formatting of the same document: the signature still holds. */
	{
		cJSON *j = cJSON_Parse(buf);
		char *pretty = cJSON_Print(j);

		assert_non_null(pretty);
		assert_int_equal(peerdoc_parse(pretty, strlen(pretty), &ex, &p,
				     err, sizeof(err)),
		    0);
		cJSON_free(pretty);
		cJSON_Delete(j);
	}
}

static void test_round_trip_ipv6_and_host(void **state)
{
	struct peerdoc d, p;
	uint8_t k[32];
	char buf[4096], err[256];
	size_t len;

	(void)state;
	make_doc(&d);
	strcpy(d.ip, "fd00::1");
	snprintf(d.enode, sizeof(d.enode), "enode://%s@[fd00::1]:30303?"
	    "discport=0", node_id_hex);
	strcpy(d.tm_url, "http://[fd00::1]:9000");
	key(nodekey_hex, k);
	assert_int_equal(peerdoc_sign(&d, k, NULL, 0), 0);
	len = to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_parse(buf, len, NULL, &p, err, sizeof(err)),
	    0);
	assert_same(&d, &p);
	/* DNS mode: host in both URLs. */
	make_doc(&d);
	{
		char t[1024];

		snprintf(t, sizeof(t), "enode://%s@%s:30303?discport=0"
		    "&raftport=50400", node_id_hex, d.host);
		strcpy(d.enode, t);
	}
	snprintf(d.tm_url, sizeof(d.tm_url), "http://%s:9000/", d.host);
	assert_int_equal(peerdoc_sign(&d, k, NULL, 0), 0);
	len = to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_parse(buf, len, NULL, &p, err, sizeof(err)),
	    0);
	assert_same(&d, &p);
	/* A non-canonical IPv6 text is refused. */
	strcpy(d.ip, "fd00:0::1");
	assert_int_equal(peerdoc_sign(&d, k, NULL, 0), -EINVAL);
}

static void test_sign_refuses_other_key(void **state)
{
	struct peerdoc d;
	uint8_t k[32];

	(void)state;
	make_doc(&d);
	key(other_key_hex, k);
	assert_int_equal(peerdoc_sign(&d, k, NULL, 0), -EINVAL);
	assert_string_equal(d.sig, "");
	/* An unsigned document is never served. */
	{
		char buf[4096];
		size_t len;

		assert_int_equal(peerdoc_to_json(&d, buf, sizeof(buf), &len),
		    -EINVAL);
	}
}

static void test_no_secret_in_output(void **state)
{
	struct peerdoc d;
	char buf[4096], sh[4096], upper[65];
	size_t len;

	(void)state;
	signed_doc(&d, secret, sizeof(secret) - 1);
	to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_to_envsh(&d, sh, sizeof(sh), &len), 0);
	for (size_t i = 0; i < 64; i++)
		upper[i] = (char)((nodekey_hex[i] >= 'a')
			? nodekey_hex[i] - 'a' + 'A'
			: nodekey_hex[i]);
	upper[64] = '\0';
	assert_null(strstr(buf, nodekey_hex));
	assert_null(strstr(buf, upper));
	assert_null(strstr(buf, (const char *)secret));
	assert_null(strstr(sh, nodekey_hex));
	assert_null(strstr(sh, upper));
	assert_null(strstr(sh, (const char *)secret));
	/* Not even a 16-hex-char slice of the key. */
	for (size_t i = 0; i + 16 <= 64; i++) {
		char piece[17];

		memcpy(piece, nodekey_hex + i, 16);
		piece[16] = '\0';
		assert_null(strstr(buf, piece));
	}
}

static void test_mac(void **state)
{
	struct peerdoc d, p;
	struct peerdoc_expect ex = {.ordinal = -1,
	    .secret = secret,
	    .secretlen = sizeof(secret) - 1};
	struct peerdoc_expect wrong = ex;
	char buf[4096], err[256];
	size_t len;

	(void)state;
	signed_doc(&d, secret, sizeof(secret) - 1);
	assert_int_equal(strlen(d.mac), 64);
	len = to_json(&d, buf, sizeof(buf));
	assert_non_null(strstr(buf, ",\"mac\":\""));
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    0);
	assert_same(&d, &p);
	/* Without a secret the mac is carried but not required. */
	assert_int_equal(peerdoc_parse(buf, len, NULL, &p, err, sizeof(err)),
	    0);
	/* Wrong secret. */
	wrong.secret = (const uint8_t *)"another secret";
	wrong.secretlen = 14;
	assert_int_equal(peerdoc_parse(buf, len, &wrong, &p, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"mac\""));
	/* Secret one byte shorter (length matters, not just prefix). */
	wrong.secret = secret;
	wrong.secretlen = sizeof(secret) - 2;
	assert_int_equal(peerdoc_parse(buf, len, &wrong, &p, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"mac\""));
	/* Missing mac while a secret is set. */
	signed_doc(&d, NULL, 0);
	len = to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"mac\""));
	assert_non_null(strstr(err, "missing"));
}

/* Parses json (a document) with one member replaced by raw JSON text. */
static int parse_with(const char *json, const char *member, const char *raw,
    const struct peerdoc_expect *ex, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(json), *v;
	char *text;
	struct peerdoc p;
	int ret;

	assert_non_null(j);
	if (raw != NULL) {
		v = cJSON_Parse(raw);
		assert_non_null(v);
		if (cJSON_GetObjectItemCaseSensitive(j, member) != NULL)
			assert_true(cJSON_ReplaceItemInObjectCaseSensitive(j,
			    member, v));
		else
			cJSON_AddItemToObject(j, member, v);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(j, member);
	}
	text = cJSON_PrintUnformatted(j);
	assert_non_null(text);
	ret = peerdoc_parse(text, strlen(text), ex, &p, err, errlen);
	cJSON_free(text);
	cJSON_Delete(j);
	return ret;
}

struct tamper {
	const char *member;
	const char *raw; /* NULL = delete the member */
	const char *blame; /* member the error must name */
};

static void test_every_member_tampered(void **state)
{
	static const struct tamper bad[] = {
	    {"v", "2", "v"},
	    {"v", "\"1\"", "v"},
	    {"v", NULL, "v"},
	    {"name", "\"Quorum-0\"", "name"},
	    {"name", "\"quorum-0.x\"", "name"},
	    {"name", "\"\"", "name"},
	    {"name", "0", "name"},
	    {"name", NULL, "name"},
	    {"ordinal", "1.5", "ordinal"},
	    {"ordinal", "-1", "ordinal"},
	    {"ordinal", "\"0\"", "ordinal"},
	    {"ordinal", "1e10", "ordinal"},
	    {"ordinal", NULL, "ordinal"},
	    {"ip", "\"10.0.0\"", "ip"},
	    {"ip", "\"010.0.0.1\"", "ip"},
	    {"ip", "\"0.0.0.0\"", "ip"},
	    {"ip", "\"10.0.0.1 \"", "ip"},
	    {"ip", "null", "ip"},
	    {"ip", NULL, "ip"},
	    {"host", "\"quorum-0..local\"", "host"},
	    {"host", "\"quorum-0.-x\"", "host"},
	    {"host", "\"Quorum-0\"", "host"},
	    {"host", "\"quorum-00\"", "host"},
	    {"host", "\"other\"", "host"},
	    {"host", NULL, "host"},
	    {"node_id", "\"B4A8\"", "node_id"},
	    {"node_id",
		"\"000000000000000000000000000000000000000000000000000000000000"
		"000000000000000000000000000000000000000000000000000000000000"
		"00000000\"",
		"node_id"},
	    {"node_id", NULL, "node_id"},
	    {"enode", "\"enode://x@10.0.0.1:30303\"", "enode"},
	    {"enode", "[]", "enode"},
	    {"enode", NULL, "enode"},
	    {"account", "\"0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\"",
		"account"},
	    {"account", "\"5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"",
		"account"},
	    {"account", NULL, "account"},
	    {"tm_pub", "\"BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo\"",
		"tm_pub"},
	    {"tm_pub", "\"BULeR8JyUWhiuuCMU_HLA0Q5pzkYT+cHII3ZKBey3Bo=\"",
		"tm_pub"},
	    {"tm_pub", NULL, "tm_pub"},
	    {"tm_url", "\"https://10.0.0.1:9000/\"", "tm_url"},
	    {"tm_url", "\"http://10.0.0.1/\"", "tm_url"},
	    {"tm_url", "\"http://10.0.0.1:09000/\"", "tm_url"},
	    {"tm_url", "\"http://10.0.0.1:9000/x\"", "tm_url"},
	    {"tm_url", "\"http://10.6.6.6:9000/\"", "tm_url"},
	    {"tm_url", NULL, "tm_url"},
	    {"p2p_port", "0", "p2p_port"},
	    {"p2p_port", "65536", "p2p_port"},
	    {"p2p_port", "\"30303\"", "p2p_port"},
	    {"p2p_port", NULL, "p2p_port"},
	    {"raft_port", "0", "raft_port"},
	    {"raft_port", "true", "raft_port"},
	    {"raft_port", NULL, "raft_port"},
	    {"sig", "\"00\"", "sig"},
	    {"sig", NULL, "sig"},
	    {"mac", "\"zz\"", "mac"},
	    {"mac", "5", "mac"},
	    {"extra", "1", "extra"},
	};
	/* Well-shaped but different values: only the signature catches them. */
	static const struct tamper forged[] = {
	    {"account", "\"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\"",
		"sig"},
	    {"tm_pub", "\"QfeDAys9MPDs2XHExtc84jKGHxZg/aj52DTh0vtA3Xc=\"",
		"sig"},
	    {"tm_url", "\"http://10.0.0.1:9001/\"", "sig"},
	    {"tm_url", "\"http://10.0.0.1:9000\"", "sig"},
	    {"host", "\"quorum-0\"", "sig"},
	    {"enode", NULL, "sig"}, /* filled in below: raftport dropped */
	};
	struct peerdoc d;
	char buf[4096], err[256], raw[512], blame[32];

	(void)state;
	signed_doc(&d, NULL, 0);
	to_json(&d, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(parse_with(buf, bad[i].member, bad[i].raw,
				     NULL, err, sizeof(err)),
		    -EPROTO);
		snprintf(blame, sizeof(blame), "\"%s\"", bad[i].blame);
		if (strstr(err, blame) == NULL)
			fail_msg("%s=%s: error does not name it: %s",
			    bad[i].member, bad[i].raw ? bad[i].raw : "(none)",
			    err);
	}
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		const char *r = forged[i].raw;

		if (r == NULL) {
			snprintf(raw, sizeof(raw),
			    "\"enode://%s@10.0.0.1:30303?discport=0\"",
			    node_id_hex);
			r = raw;
		}
		assert_int_equal(parse_with(buf, forged[i].member, r, NULL,
				     err, sizeof(err)),
		    -EPROTO);
		if (strstr(err, "\"sig\"") == NULL)
			fail_msg("%s forged: %s", forged[i].member, err);
	}
	/* Recovery id out of range. */
	memcpy(raw, d.sig, 131);
	raw[128] = '0';
	raw[129] = '2';
	{
		char q[sizeof(raw) + 3];

		snprintf(q, sizeof(q), "\"%s\"", raw);
		assert_int_equal(parse_with(buf, "sig", q, NULL, err,
				     sizeof(err)),
		    -EPROTO);
		assert_non_null(strstr(err, "\"sig\""));
	}
	/* The error quotes the bad value, sanitized. */
	assert_int_equal(parse_with(buf, "ip", "\"1.2.3\\n4\"", NULL, err,
			     sizeof(err)),
	    -EPROTO);
	assert_null(strchr(err, '\n'));
}

static void test_expectations(void **state)
{
	struct peerdoc d, p;
	struct peerdoc_expect ex = {.ordinal = 1, .prefix = NULL};
	char buf[4096], err[256];
	size_t len;

	(void)state;
	signed_doc(&d, NULL, 0);
	len = to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"ordinal\""));
	ex.ordinal = 0;
	ex.prefix = "node-";
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"name\""));
	assert_non_null(strstr(err, "quorum-0"));
	ex.prefix = "quorum-";
	assert_int_equal(peerdoc_parse(buf, len, &ex, &p, err, sizeof(err)),
	    0);
}

static void test_size_limit(void **state)
{
	struct peerdoc d, p;
	char *big, err[256];
	size_t len;

	(void)state;
	signed_doc(&d, NULL, 0);
	big = malloc(PEERDOC_MAX + 2);
	assert_non_null(big);
	len = to_json(&d, big, PEERDOC_MAX + 2);
	/* Exactly the limit (trailing whitespace) is accepted... */
	memset(big + len, ' ', PEERDOC_MAX - len);
	assert_int_equal(peerdoc_parse(big, PEERDOC_MAX, NULL, &p, err,
			     sizeof(err)),
	    0);
	/* ...one byte more is not, whatever it holds. */
	big[PEERDOC_MAX] = ' ';
	assert_int_equal(peerdoc_parse(big, PEERDOC_MAX + 1, NULL, &p, err,
			     sizeof(err)),
	    -E2BIG);
	free(big);
}

static void test_garbage(void **state)
{
	static const char *const junk[] = {
	    "",
	    " ",
	    "null",
	    "[]",
	    "\"x\"",
	    "{",
	    "{}",
	    "{\"v\":1}",
	    "\xff\xfe{}",
	    "{\"v\":1,,}",
	};
	struct peerdoc d, p;
	char buf[4096], err[256];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		err[0] = '\0';
		assert_int_equal(peerdoc_parse(junk[i], strlen(junk[i]), NULL,
				     &p, err, sizeof(err)),
		    -EPROTO);
		assert_true(strlen(err) > 0);
	}
	signed_doc(&d, NULL, 0);
	len = to_json(&d, buf, sizeof(buf));
	/* Trailing data after the object. */
	memcpy(buf + len, "{}", 3);
	assert_int_equal(peerdoc_parse(buf, len + 2, NULL, &p, err,
			     sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "after"));
	/* Truncated document. */
	assert_int_equal(peerdoc_parse(buf, len - 3, NULL, &p, err,
			     sizeof(err)),
	    -EPROTO);
	/* A NUL inside, and a JSON escape, are both refused. */
	len = to_json(&d, buf, sizeof(buf));
	buf[20] = '\0';
	assert_int_equal(peerdoc_parse(buf, len, NULL, &p, err, sizeof(err)),
	    -EPROTO);
	{
		char *q;

		len = to_json(&d, buf, sizeof(buf));
		q = strstr(buf, "quorum-0");
		assert_non_null(q);
		/* "quorum-0" -> "quorum-\u0030": same value once decoded */
		memmove(q + 12, q + 8, len - (size_t)(q + 8 - buf) + 1);
		memcpy(q + 7, "\\u0030", 6);
		assert_int_equal(peerdoc_parse(buf, len + 5, NULL, &p, err,
				     sizeof(err)),
		    -EPROTO);
		assert_non_null(strstr(err, "escape"));
	}
}

static void test_duplicate_member(void **state)
{
	struct peerdoc d, p;
	char buf[4096], err[256];
	size_t len;

	(void)state;
	signed_doc(&d, NULL, 0);
	len = to_json(&d, buf, sizeof(buf));
	/* Same value twice, then a conflicting second value. */
	strcpy(buf + len - 2, ",\"ip\":\"10.0.0.1\"}\n");
	assert_int_equal(peerdoc_parse(buf, strlen(buf), NULL, &p, err,
			     sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"ip\""));
	assert_non_null(strstr(err, "duplicate"));
	strcpy(buf + len - 2, ",\"v\":1}\n");
	assert_int_equal(peerdoc_parse(buf, strlen(buf), NULL, &p, err,
			     sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "\"v\""));
}

/* Values the shell must never see unquoted. */
static void test_envsh_refuses_hostile(void **state)
{
	static const char *const hostile[] = {
	    "$(touch pwned)",
	    "`touch pwned`",
	    "'; touch pwned; '",
	    "a'b",
	    "a\nb",
	    "a b",
	    "a\"b",
	    "a\\b",
	    "$HOME",
	    "a;b",
	    "a|b",
	    "",
	};
	struct peerdoc d;
	char sh[4096];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		for (int field = 0; field < 7; field++) {
			char *dst;
			size_t cap;

			make_doc(&d);
			switch (field) {
			case 0:
				dst = d.ip, cap = sizeof(d.ip);
				break;
			case 1:
				dst = d.node_id, cap = sizeof(d.node_id);
				break;
			case 2:
				dst = d.account, cap = sizeof(d.account);
				break;
			case 3:
				dst = d.name, cap = sizeof(d.name);
				break;
			case 4:
				dst = d.enode, cap = sizeof(d.enode);
				break;
			case 5:
				dst = d.tm_pub, cap = sizeof(d.tm_pub);
				break;
			default:
				dst = d.tm_url, cap = sizeof(d.tm_url);
				break;
			}
			snprintf(dst, cap, "%s", hostile[i]);
			assert_int_equal(peerdoc_to_envsh(&d, sh, sizeof(sh),
					     &len),
			    -EINVAL);
		}
	}
	/* An unterminated array is refused, not read past. */
	make_doc(&d);
	memset(d.ip, 'a', sizeof(d.ip));
	assert_int_equal(peerdoc_to_envsh(&d, sh, sizeof(sh), &len), -EINVAL);
}

/* Writes the doc's env.sh, sources it with /bin/sh, returns its output. */
static void source_envsh(const struct peerdoc *d, char *out, size_t cap)
{
	char dir[] = "/tmp/test_peerdoc.XXXXXX", path[128], sh[4096];
	char cmd[256];
	size_t len, got;
	FILE *f;
	DIR *dd;
	struct dirent *e;
	int entries = 0;

	assert_int_equal(peerdoc_to_envsh(d, sh, sizeof(sh), &len), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/env.sh", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(sh, 1, len, f), len);
	fclose(f);
	snprintf(path, sizeof(path), "%s/check.sh", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("set -u\n. ./env.sh\nprintf '%s|' \"$IP\" \"$NODE_ID\" "
	      "\"$ACCOUNT\" \"$HOSTNAME\" \"$ORDINAL\" \"$ENODE\" \"$TM_PUB\" "
	      "\"$TM_URL\" \"$P2P_PORT\" \"$RAFT_PORT\"\nwait\n",
	    f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && /bin/sh ./check.sh", dir);
	f = popen(cmd, "r");
	assert_non_null(f);
	got = fread(out, 1, cap - 1, f);
	out[got] = '\0';
	assert_int_equal(pclose(f), 0);
	/* Sourcing created nothing: only our two files are there. */
	dd = opendir(dir);
	assert_non_null(dd);
	while ((e = readdir(dd)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0)
			continue;
		if (strcmp(e->d_name, "env.sh") != 0 &&
		    strcmp(e->d_name, "check.sh") != 0)
			fail_msg("sourcing created %s", e->d_name);
		entries++;
	}
	closedir(dd);
	assert_int_equal(entries, 2);
	snprintf(path, sizeof(path), "%s/env.sh", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/check.sh", dir);
	unlink(path);
	rmdir(dir);
}

static void test_envsh_sourced(void **state)
{
	struct peerdoc d;
	char out[4096], want[4096], sh[4096];
	size_t len;

	(void)state;
	make_doc(&d);
	assert_int_equal(peerdoc_to_envsh(&d, sh, sizeof(sh), &len), 0);
	assert_int_equal(strlen(sh), len);
	assert_non_null(strstr(sh, "\nACCOUNT='0x5aAeb6053F3E94C9b9A09f336694"
				   "35E7Ef1BeAed'\n"));
	assert_int_equal(strncmp(sh, "IP='10.0.0.1'\nNODE_ID='", 23), 0);
	assert_string_equal(sh + len - 18, "RAFT_PORT='50400'\n");
	/* The enode's '&' and '?' would background / glob if unquoted. */
	source_envsh(&d, out, sizeof(out));
	snprintf(want, sizeof(want), "%s|%s|%s|%s|%u|%s|%s|%s|%u|%u|", d.ip,
	    d.node_id, d.account, d.name, d.ordinal, d.enode, d.tm_pub,
	    d.tm_url, (unsigned)d.p2p_port, (unsigned)d.raft_port);
	assert_string_equal(out, want);
	/* IPv6 brackets (glob characters) come back exact as well. */
	strcpy(d.ip, "fd00::a:1");
	snprintf(d.enode, sizeof(d.enode), "enode://%s@[fd00::a:1]:30303?"
	    "discport=0", node_id_hex);
	strcpy(d.tm_url, "http://[fd00::a:1]:9000/");
	source_envsh(&d, out, sizeof(out));
	snprintf(want, sizeof(want), "%s|%s|%s|%s|%u|%s|%s|%s|%u|%u|", d.ip,
	    d.node_id, d.account, d.name, d.ordinal, d.enode, d.tm_pub,
	    d.tm_url, (unsigned)d.p2p_port, (unsigned)d.raft_port);
	assert_string_equal(out, want);
	/* Output buffer too small. */
	assert_int_equal(peerdoc_to_envsh(&d, sh, 100, &len), -ENOBUFS);
}

/* peerdoc_peek_ordinal: a hint from the canonical opening, nothing more. */
static void test_peek_ordinal(void **state)
{
	struct peerdoc d;
	char buf[PEERDOC_MAX], big[400];
	size_t len;

	(void)state;
	signed_doc(&d, NULL, 0);
	len = to_json(&d, buf, sizeof(buf));
	assert_int_equal(peerdoc_peek_ordinal(buf, len), (long)d.ordinal);
	assert_int_equal(peerdoc_peek_ordinal("{\"ordinal\":17,", 15), 17);
	assert_int_equal(peerdoc_peek_ordinal("{\"ordinal\":17", 11), -1);
	assert_int_equal(peerdoc_peek_ordinal("{\"ordinal\":x1}", 15), -1);
	assert_int_equal(peerdoc_peek_ordinal("{\"ordinal\":1234567}", 20),
	    -1);
	assert_int_equal(peerdoc_peek_ordinal("", 0), -1);
	assert_int_equal(peerdoc_peek_ordinal("garbage", 7), -1);
	/* Beyond the span it does not look. */
	memset(big, ' ', sizeof(big));
	memcpy(big + 300, "\"ordinal\":5,", 12);
	assert_int_equal(peerdoc_peek_ordinal(big, sizeof(big)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_canonical_exact),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_round_trip_ipv6_and_host),
	    cmocka_unit_test(test_sign_refuses_other_key),
	    cmocka_unit_test(test_no_secret_in_output),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_every_member_tampered),
	    cmocka_unit_test(test_expectations),
	    cmocka_unit_test(test_size_limit),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_duplicate_member),
	    cmocka_unit_test(test_envsh_refuses_hostile),
	    cmocka_unit_test(test_envsh_sourced),
	    cmocka_unit_test(test_peek_ordinal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
