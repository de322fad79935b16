/*
 * The public identity document. Every value has a narrow shape (hex, base64,
 * DNS name, IP literal, decimal port), so no member ever needs a JSON escape
 * or shell quoting beyond single quotes: the canonical form is produced with
 * plain printf, and the parser refuses anything that would need escaping.
 * Signature and MAC cover the canonical bytes re-serialized from the parsed
 * struct, never the bytes received, so formatting cannot smuggle anything.
 */
#include "peerd/peerdoc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/keccak.h"

/* NODE_NUMBER is at most 1024 (DESIGN §3). */
#define ORDINAL_MAX 1023
#define CANON_MAX 2048
#define QUOTE_MAX 40

enum member {
	M_V = 0,
	M_NAME,
	M_ORDINAL,
	M_IP,
	M_HOST,
	M_NODE_ID,
	M_ENODE,
	M_ACCOUNT,
	M_TM_PUB,
	M_TM_URL,
	M_P2P_PORT,
	M_RAFT_PORT,
	M_SIG,
	M_MAC,
	M_COUNT
};

static const char *const member_name[M_COUNT] = {"v", "name", "ordinal",
    "ip", "host", "node_id", "enode", "account", "tm_pub", "tm_url",
    "p2p_port", "raft_port", "sig", "mac"};

/*
 * One line: peerdoc "<member>": <what>[: "<value>"]. The value is cut to
 * QUOTE_MAX characters and anything but printable ASCII (and the quote and
 * backslash) becomes '?', so the line is safe for a log or an HTTP body.
 */
static void seterr(char *err, size_t errlen, const char *member,
    const char *what, const char *val, size_t vlen)
{
	char head[40], q[QUOTE_MAX + 4];
	size_t n = 0;

	if (err == NULL || errlen == 0)
		return;
	/* "*" = the document as a whole. */
	if (strcmp(member, "*") == 0)
		snprintf(head, sizeof(head), "peerdoc");
	else
		snprintf(head, sizeof(head), "peerdoc \"%.24s\"", member);
	if (val == NULL) {
		snprintf(err, errlen, "%s: %s", head, what);
		return;
	}
	for (size_t i = 0; i < vlen && n < QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)val[i];

		q[n++] = (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
		    ? '?'
		    : (char)c;
	}
	if (vlen > QUOTE_MAX) {
		memcpy(q + n, "...", 3);
		n += 3;
	}
	q[n] = '\0';
	snprintf(err, errlen, "%s: %s: \"%s\"", head, what, q);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One DNS label: 1..63 of [a-z0-9-], no hyphen at either end. */
static bool label_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool dns_name_ok(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!label_ok(p, l))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* An IP literal in its canonical text form, and not the unspecified one. */
static bool ip_ok(const char *s)
{
	unsigned char bin[16];
	static const unsigned char zero[16];
	char back[INET6_ADDRSTRLEN];
	int af = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;

	if (inet_pton(af, s, bin) != 1)
		return false;
	if (memcmp(bin, zero, af == AF_INET ? 4 : 16) == 0)
		return false;
	/* Round trip: one text per address, so every node renders alike. */
	if (inet_ntop(af, bin, back, sizeof(back)) == NULL)
		return false;
	return strcmp(back, s) == 0;
}

static bool node_id_ok(const char *s)
{
	uint8_t pub[64];

	if (strlen(s) != 128 || !encoding_is_lowerhex(s, 128))
		return false;
	if (encoding_unhex(pub, sizeof(pub), s, 128) != 0)
		return false;
	return ethkey_pub_valid(pub);
}

static bool account_ok(const char *s)
{
	uint8_t addr[20];
	char want[43];

	if (strlen(s) != 42 || s[0] != '0' || s[1] != 'x')
		return false;
	if (encoding_unhex(addr, sizeof(addr), s + 2, 40) != 0)
		return false;
	ethkey_checksum_hex(addr, want);
	return strcmp(want, s) == 0;
}

static bool tm_pub_ok(const char *s)
{
	uint8_t key[32];

	return strlen(s) == ENCODING_B64_32_LEN &&
	    encoding_unbase64(key, sizeof(key), s, ENCODING_B64_32_LEN) == 0;
}

/* Decimal 1..65535 without sign or leading zero, exactly len chars. */
static bool port_text_ok(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = v;
	return true;
}

/* The host part of a URL for ip: IPv6 literals go in brackets. */
static void url_host(const char *ip, char *out, size_t outlen)
{
	if (strchr(ip, ':') != NULL)
		snprintf(out, outlen, "[%s]", ip);
	else
		snprintf(out, outlen, "%s", ip);
}

/*
 * enode must be exactly enode://<node_id>@<H>:<p2p_port>?discport=0 with an
 * optional &raftport=<raft_port>, H being the ip (bracketed if IPv6) or the
 * host of this same document.
 */
static bool enode_ok(const struct peerdoc *d)
{
	char h[2][300], want[sizeof(d->enode) + 1];

	url_host(d->ip, h[0], sizeof(h[0]));
	snprintf(h[1], sizeof(h[1]), "%s", d->host);
	for (int i = 0; i < 2; i++) {
		int n = snprintf(want, sizeof(want),
		    "enode://%s@%s:%u?discport=0", d->node_id, h[i],
		    (unsigned)d->p2p_port);

		if (n < 0 || (size_t)n >= sizeof(want))
			continue;
		if (strcmp(d->enode, want) == 0)
			return true;
		n = snprintf(want + n, sizeof(want) - (size_t)n,
		    "&raftport=%u", (unsigned)d->raft_port);
		if (n > 0 && strcmp(d->enode, want) == 0)
			return true;
	}
	return false;
}

/*
 * tm_url must be http://<H>:<port> with an optional trailing '/', H being
 * the ip (bracketed if IPv6) or the host of this same document.
 */
static bool tm_url_ok(const struct peerdoc *d)
{
	char h[300];
	const char *p = d->tm_url, *colon;
	size_t hl, pl;
	unsigned port;

	if (strncmp(p, "http://", 7) != 0)
		return false;
	p += 7;
	if (*p == '[') {
		const char *rb = strchr(p, ']');

		if (rb == NULL)
			return false;
		colon = rb + 1;
		if (*colon != ':')
			return false;
	} else {
		colon = strchr(p, ':');
		if (colon == NULL)
			return false;
	}
	hl = (size_t)(colon - p);
	url_host(d->ip, h, sizeof(h));
	if (!((strlen(h) == hl && memcmp(h, p, hl) == 0) ||
		(strlen(d->host) == hl && memcmp(d->host, p, hl) == 0)))
		return false;
	p = colon + 1;
	pl = strcspn(p, "/");
	if (!port_text_ok(p, pl, &port))
		return false;
	p += pl;
	return p[0] == '\0' || (p[0] == '/' && p[1] == '\0');
}

/* A string member fits its array (NUL included). */
#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

/*
 * Every member's own shape plus the cross-member rules; sig and mac only if
 * with_sig. Reports the first problem.
 */
static int check_doc(const struct peerdoc *d, bool with_sig, char *err,
    size_t errlen)
{
	const char *f;

	if (!TERMINATED(d->name) || !TERMINATED(d->ip) ||
	    !TERMINATED(d->host) || !TERMINATED(d->node_id) ||
	    !TERMINATED(d->enode) || !TERMINATED(d->account) ||
	    !TERMINATED(d->tm_pub) || !TERMINATED(d->tm_url) ||
	    !TERMINATED(d->sig) || !TERMINATED(d->mac)) {
		seterr(err, errlen, "*", "string not terminated", NULL, 0);
		return -EINVAL;
	}
#define BAD(m, what, val)                                                     \
	do {                                                                  \
		f = (val);                                                    \
		seterr(err, errlen, member_name[m], (what), f, strlen(f));    \
		return -EINVAL;                                               \
	} while (0)
	if (d->ordinal > ORDINAL_MAX) {
		char num[16];

		snprintf(num, sizeof(num), "%u", d->ordinal);
		BAD(M_ORDINAL, "out of range 0..1023", num);
	}
	if (!label_ok(d->name, strlen(d->name)))
		BAD(M_NAME, "not a host name ([a-z0-9-], 1..63)", d->name);
	if (!ip_ok(d->ip))
		BAD(M_IP, "not a canonical IPv4/IPv6 address", d->ip);
	if (!dns_name_ok(d->host))
		BAD(M_HOST, "not a DNS name", d->host);
	/* host is name[.domain] (DESIGN §3, NODE_DOMAIN). */
	{
		size_t nl = strlen(d->name);

		if (strncmp(d->host, d->name, nl) != 0 ||
		    (d->host[nl] != '\0' && d->host[nl] != '.'))
			BAD(M_HOST, "is not name[.domain]", d->host);
	}
	if (!node_id_ok(d->node_id))
		BAD(M_NODE_ID, "not 128 lowercase hex of a curve point",
		    d->node_id);
	if (!account_ok(d->account))
		BAD(M_ACCOUNT, "not a 0x EIP-55 checksummed address",
		    d->account);
	if (!tm_pub_ok(d->tm_pub))
		BAD(M_TM_PUB, "not base64 of 32 bytes", d->tm_pub);
	if (d->p2p_port == 0)
		BAD(M_P2P_PORT, "out of range 1..65535", "0");
	if (d->raft_port == 0)
		BAD(M_RAFT_PORT, "out of range 1..65535", "0");
	if (!enode_ok(d))
		BAD(M_ENODE,
		    "not enode://<node_id>@<ip|host>:<p2p_port>?discport=0"
		    "[&raftport=<raft_port>]",
		    d->enode);
	if (!tm_url_ok(d))
		BAD(M_TM_URL, "not http://<ip|host>:<port>[/]", d->tm_url);
	if (with_sig) {
		if (strlen(d->sig) != 130 || !encoding_is_lowerhex(d->sig, 130))
			BAD(M_SIG, "not 130 lowercase hex", d->sig);
		if (d->mac[0] != '\0' &&
		    (strlen(d->mac) != 64 || !encoding_is_lowerhex(d->mac, 64)))
			BAD(M_MAC, "not 64 lowercase hex", d->mac);
	}
#undef BAD
	return 0;
}

/* Canonical bytes of an already checked document. */
static int canon(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written)
{
	int n = snprintf(out, outlen,
	    "{\"v\":%d,\"name\":\"%s\",\"ordinal\":%u,\"ip\":\"%s\","
	    "\"host\":\"%s\",\"node_id\":\"%s\",\"enode\":\"%s\","
	    "\"account\":\"%s\",\"tm_pub\":\"%s\",\"tm_url\":\"%s\","
	    "\"p2p_port\":%u,\"raft_port\":%u}",
	    PEERDOC_VERSION, d->name, d->ordinal, d->ip, d->host, d->node_id,
	    d->enode, d->account, d->tm_pub, d->tm_url, (unsigned)d->p2p_port,
	    (unsigned)d->raft_port);

	if (n < 0 || (size_t)n >= outlen)
		return -ENOBUFS;
	if (written != NULL)
		*written = (size_t)n;
	return 0;
}

int peerdoc_canonical(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written)
{
	int ret = check_doc(d, false, NULL, 0);

	if (ret < 0)
		return ret;
	return canon(d, out, outlen, written);
}

static int hmac(const uint8_t *secret, size_t secretlen, const char *msg,
    size_t len, uint8_t out[static crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	int ret = 0;

	if (crypto_auth_hmacsha256_init(&st, secret, secretlen) != 0 ||
	    crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
		len) != 0 ||
	    crypto_auth_hmacsha256_final(&st, out) != 0)
		ret = -EINVAL;
	sodium_memzero(&st, sizeof(st));
	return ret;
}

int peerdoc_sign(struct peerdoc *d, const uint8_t nodekey[static 32],
    const uint8_t *secret, size_t secretlen)
{
	char buf[CANON_MAX], own[129];
	uint8_t pub[64], hash[32], sig[65], mac[crypto_auth_hmacsha256_BYTES];
	size_t len;
	int ret;

	if (sodium_init() < 0)
		return -ENOMEM;
	ret = peerdoc_canonical(d, buf, sizeof(buf), &len);
	if (ret < 0)
		return ret;
	/* Refuse to sign for another key: the peers would reject it anyway. */
	ret = ethkey_pubkey(nodekey, pub);
	if (ret < 0)
		return ret;
	encoding_hex(own, pub, sizeof(pub));
	if (strcmp(own, d->node_id) != 0)
		return -EINVAL;
	keccak_256(buf, len, hash);
	ret = ethkey_sign(nodekey, hash, sig);
	if (ret < 0)
		return ret;
	encoding_hex(d->sig, sig, sizeof(sig));
	d->mac[0] = '\0';
	if (secret != NULL && secretlen > 0) {
		ret = hmac(secret, secretlen, buf, len, mac);
		if (ret < 0)
			return ret;
		encoding_hex(d->mac, mac, sizeof(mac));
	}
	return 0;
}

int peerdoc_to_json(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written)
{
	size_t len;
	int ret, n;

	ret = check_doc(d, true, NULL, 0);
	if (ret < 0)
		return ret;
	ret = canon(d, out, outlen, &len);
	if (ret < 0)
		return ret;
	/* Replace the closing brace of the canonical form. */
	len--;
	if (d->mac[0] != '\0')
		n = snprintf(out + len, outlen - len,
		    ",\"sig\":\"%s\",\"mac\":\"%s\"}\n", d->sig, d->mac);
	else
		n = snprintf(out + len, outlen - len, ",\"sig\":\"%s\"}\n",
		    d->sig);
	if (n < 0 || (size_t)n >= outlen - len)
		return -ENOBUFS;
	if (written != NULL)
		*written = len + (size_t)n;
	return 0;
}

/*
 * Characters allowed inside a single-quoted shell value. Only the quote
 * itself can end single quoting, but the set is kept to what the members
 * need (hex, base64, URLs, IPv6) so nothing surprising reaches a script.
 */
static bool shell_safe(const char *s)
{
	static const char extra[] = "._:/@?&=+-[]";

	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || strchr(extra, c) != NULL))
			return false;
	}
	return true;
}

int peerdoc_to_envsh(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written)
{
	char ord[16], p2p[8], raft[8];
	const char *names[] = {"IP", "NODE_ID", "ACCOUNT", "HOSTNAME",
	    "ORDINAL", "ENODE", "TM_PUB", "TM_URL", "P2P_PORT", "RAFT_PORT"};
	const char *vals[10];
	size_t len = 0;

	if (!TERMINATED(d->name) || !TERMINATED(d->ip) ||
	    !TERMINATED(d->node_id) || !TERMINATED(d->enode) ||
	    !TERMINATED(d->account) || !TERMINATED(d->tm_pub) ||
	    !TERMINATED(d->tm_url))
		return -EINVAL;
	snprintf(ord, sizeof(ord), "%u", d->ordinal);
	snprintf(p2p, sizeof(p2p), "%u", (unsigned)d->p2p_port);
	snprintf(raft, sizeof(raft), "%u", (unsigned)d->raft_port);
	vals[0] = d->ip;
	vals[1] = d->node_id;
	vals[2] = d->account;
	vals[3] = d->name;
	vals[4] = ord;
	vals[5] = d->enode;
	vals[6] = d->tm_pub;
	vals[7] = d->tm_url;
	vals[8] = p2p;
	vals[9] = raft;
	for (size_t i = 0; i < 10; i++) {
		int n;

		if (vals[i][0] == '\0' || !shell_safe(vals[i]))
			return -EINVAL;
		n = snprintf(out + len, outlen - len, "%s='%s'\n", names[i],
		    vals[i]);
		if (n < 0 || (size_t)n >= outlen - len)
			return -ENOBUFS;
		len += (size_t)n;
	}
	if (written != NULL)
		*written = len;
	return 0;
}

/* Copies a JSON string member into a fixed array. */
static int take_str(const cJSON *it, enum member m, char *dst, size_t cap,
    char *err, size_t errlen)
{
	size_t l;

	if (!cJSON_IsString(it) || it->valuestring == NULL) {
		seterr(err, errlen, member_name[m], "not a string", NULL, 0);
		return -EPROTO;
	}
	l = strlen(it->valuestring);
	if (l >= cap) {
		seterr(err, errlen, member_name[m], "too long",
		    it->valuestring, l);
		return -EPROTO;
	}
	memcpy(dst, it->valuestring, l + 1);
	return 0;
}

/* An integral JSON number in [min, max]. */
static int take_uint(const cJSON *it, enum member m, double min, double max,
    unsigned *out, char *err, size_t errlen)
{
	double v;
	char num[32];

	if (!cJSON_IsNumber(it)) {
		seterr(err, errlen, member_name[m], "not a number", NULL, 0);
		return -EPROTO;
	}
	v = it->valuedouble;
	/* In range first, so the integer conversion below is defined. */
	if (!(v >= min && v <= max) || (double)(unsigned)v != v) {
		snprintf(num, sizeof(num), "%g", v);
		seterr(err, errlen, member_name[m], "out of range", num,
		    strlen(num));
		return -EPROTO;
	}
	*out = (unsigned)v;
	return 0;
}

static int verify(const struct peerdoc *d, const struct peerdoc_expect *ex,
    char *err, size_t errlen)
{
	char buf[CANON_MAX];
	uint8_t hash[32], sig[65], pub[64], want[64];
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	uint8_t got[crypto_auth_hmacsha256_BYTES];
	size_t len;

	if (canon(d, buf, sizeof(buf), &len) < 0) {
		seterr(err, errlen, "*", "document too large", NULL, 0);
		return -EPROTO;
	}
	keccak_256(buf, len, hash);
	if (encoding_unhex(sig, sizeof(sig), d->sig, 130) != 0 ||
	    encoding_unhex(want, sizeof(want), d->node_id, 128) != 0 ||
	    ethkey_recover(sig, hash, pub) != 0 ||
	    sodium_memcmp(pub, want, sizeof(pub)) != 0) {
		seterr(err, errlen, member_name[M_SIG],
		    "does not verify to node_id", d->sig, strlen(d->sig));
		return -EPROTO;
	}
	if (ex == NULL || ex->secret == NULL)
		return 0;
	if (d->mac[0] == '\0') {
		seterr(err, errlen, member_name[M_MAC],
		    "missing (a cluster secret is set)", NULL, 0);
		return -EPROTO;
	}
	if (encoding_unhex(got, sizeof(got), d->mac, 64) != 0 ||
	    hmac(ex->secret, ex->secretlen, buf, len, mac) != 0 ||
	    crypto_verify_32(got, mac) != 0) {
		sodium_memzero(mac, sizeof(mac));
		seterr(err, errlen, member_name[M_MAC],
		    "does not verify under the cluster secret", d->mac,
		    strlen(d->mac));
		return -EPROTO;
	}
	sodium_memzero(mac, sizeof(mac));
	return 0;
}

static int take_member(const cJSON *it, enum member m, struct peerdoc *d,
    char *err, size_t errlen)
{
	unsigned u = 0;
	int ret;

	switch (m) {
	case M_V:
		ret = take_uint(it, m, PEERDOC_VERSION, PEERDOC_VERSION, &u,
		    err, errlen);
		break;
	case M_NAME:
		return take_str(it, m, d->name, sizeof(d->name), err, errlen);
	case M_ORDINAL:
		ret = take_uint(it, m, 0, ORDINAL_MAX, &u, err, errlen);
		d->ordinal = u;
		break;
	case M_IP:
		return take_str(it, m, d->ip, sizeof(d->ip), err, errlen);
	case M_HOST:
		return take_str(it, m, d->host, sizeof(d->host), err, errlen);
	case M_NODE_ID:
		return take_str(it, m, d->node_id, sizeof(d->node_id), err,
		    errlen);
	case M_ENODE:
		return take_str(it, m, d->enode, sizeof(d->enode), err, errlen);
	case M_ACCOUNT:
		return take_str(it, m, d->account, sizeof(d->account), err,
		    errlen);
	case M_TM_PUB:
		return take_str(it, m, d->tm_pub, sizeof(d->tm_pub), err,
		    errlen);
	case M_TM_URL:
		return take_str(it, m, d->tm_url, sizeof(d->tm_url), err,
		    errlen);
	case M_P2P_PORT:
		ret = take_uint(it, m, 1, 65535, &u, err, errlen);
		d->p2p_port = (uint16_t)u;
		break;
	case M_RAFT_PORT:
		ret = take_uint(it, m, 1, 65535, &u, err, errlen);
		d->raft_port = (uint16_t)u;
		break;
	case M_SIG:
		return take_str(it, m, d->sig, sizeof(d->sig), err, errlen);
	case M_MAC:
		return take_str(it, m, d->mac, sizeof(d->mac), err, errlen);
	default:
		return -EPROTO;
	}
	return ret;
}

int peerdoc_parse(const char *buf, size_t len,
    const struct peerdoc_expect *expect, struct peerdoc *out, char *err,
    size_t errlen)
{
	struct peerdoc d;
	bool seen[M_COUNT] = {false};
	cJSON *root = NULL;
	const cJSON *it;
	const char *end = NULL;
	int ret = -EPROTO;

	memset(&d, 0, sizeof(d));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (len > PEERDOC_MAX) {
		char n[32];

		snprintf(n, sizeof(n), "%zu bytes", len);
		seterr(err, errlen, "*", "document larger than 16384 bytes", n,
		    strlen(n));
		return -E2BIG;
	}
	/*
	 * No member ever needs an escape, and a NUL would end cJSON's strings
	 * early: refusing both keeps parsed values identical to the bytes.
	 */
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\\' || buf[i] == '\0') {
			seterr(err, errlen, "*",
			    buf[i] == '\0' ? "NUL byte in document"
					   : "escape sequence in document",
			    NULL, 0);
			return -EPROTO;
		}
	}
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL) {
		size_t off = 0;
		const char *ep = cJSON_GetErrorPtr();

		if (ep != NULL && ep >= buf && ep <= buf + len)
			off = (size_t)(ep - buf);
		seterr(err, errlen, "*", "not JSON, near", buf + off,
		    len - off);
		goto out;
	}
	for (const char *p = end; p != NULL && p < buf + len; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
			seterr(err, errlen, "*", "data after the document",
			    p, (size_t)(buf + len - p));
			goto out;
		}
	}
	if (!cJSON_IsObject(root)) {
		seterr(err, errlen, "*", "not a JSON object", buf, len);
		goto out;
	}
	cJSON_ArrayForEach(it, root)
	{
		enum member m = M_COUNT;

		for (int i = 0; i < M_COUNT; i++) {
			if (strcmp(it->string, member_name[i]) == 0) {
				m = (enum member)i;
				break;
			}
		}
		if (m == M_COUNT) {
			seterr(err, errlen, "*", "unknown member", it->string,
			    strlen(it->string));
			goto out;
		}
		if (seen[m]) {
			seterr(err, errlen, it->string, "duplicate member",
			    NULL, 0);
			goto out;
		}
		seen[m] = true;
		if (take_member(it, m, &d, err, errlen) < 0)
			goto out;
	}
	for (int i = 0; i < M_COUNT; i++) {
		if (!seen[i] && i != M_MAC) {
			seterr(err, errlen, member_name[i], "missing", NULL,
			    0);
			goto out;
		}
	}
	if (check_doc(&d, true, err, errlen) < 0)
		goto out;
	if (expect != NULL && expect->ordinal >= 0 &&
	    d.ordinal != (unsigned)expect->ordinal) {
		char n[16];

		snprintf(n, sizeof(n), "%u", d.ordinal);
		seterr(err, errlen, member_name[M_ORDINAL],
		    "not the ordinal asked for", n, strlen(n));
		goto out;
	}
	if (expect != NULL && expect->prefix != NULL) {
		char want[sizeof(d.name) + 16];

		snprintf(want, sizeof(want), "%s%u", expect->prefix,
		    d.ordinal);
		if (strcmp(want, d.name) != 0) {
			seterr(err, errlen, member_name[M_NAME],
			    "is not prefix + ordinal", d.name,
			    strlen(d.name));
			goto out;
		}
	}
	if (verify(&d, expect, err, errlen) < 0)
		goto out;
	*out = d;
	ret = 0;
out:
	cJSON_Delete(root);
	return ret;
}

long peerdoc_peek_ordinal(const char *buf, size_t len)
{
	static const char key[] = "\"ordinal\":";
	const size_t klen = sizeof(key) - 1;
	size_t i, end = len < PEERDOC_PEEK_SPAN ? len : PEERDOC_PEEK_SPAN;
	long v = 0;

	for (i = 0; i + klen < end; i++) {
		if (memcmp(buf + i, key, klen) != 0)
			continue;
		i += klen;
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		for (; i < end && buf[i] >= '0' && buf[i] <= '9'; i++) {
			v = v * 10 + (buf[i] - '0');
			if (v > 99999)
				return -1;
		}
		return v;
	}
	return -1;
}
