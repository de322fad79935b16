/*
 * JSON-RPC 2.0 over geth's IPC socket: a small validating JSON reader
 * (no tree, no allocation: replies are checked in place and the typed
 * decoders walk the "result" text), then the client on the event loop.
 */
#include "peerd/gethrpc.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEPTH_MAX 64      /* nesting accepted anywhere in a reply */
#define OUT_MAX (256u * 1024u) /* queued request bytes */
#define RETRY_MS 50       /* connect again after EAGAIN (backlog full) */
#define READS_PER_EVENT 16

/* ------------------------------------------------------------------ */
/* JSON reading                                                        */
/* ------------------------------------------------------------------ */

struct jp {
	const char *p, *end;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void j_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* A string at j->p; raw and rawlen: its body between the quotes. */
static int j_string(struct jp *j, const char **raw, size_t *rawlen)
{
	const char *p = j->p, *start;

	if (p >= j->end || *p != '"')
		return -1;
	start = ++p;
	while (p < j->end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*raw = start;
			*rawlen = (size_t)(p - start);
			j->p = p + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			p++;
			continue;
		}
		if (++p >= j->end)
			return -1;
		if (*p == 'u') {
			if (j->end - p < 5)
				return -1;
			for (int i = 1; i <= 4; i++)
				if (hexval(p[i]) < 0)
					return -1;
			p += 5;
		} else if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
			p++;
		} else {
			return -1;
		}
	}
	return -1;
}

static int j_number(struct jp *j)
{
	const char *p = j->p, *end = j->end;

	if (p < end && *p == '-')
		p++;
	if (p >= end)
		return -1;
	if (*p == '0') {
		p++;
	} else if (*p >= '1' && *p <= '9') {
		while (p < end && is_digit(*p))
			p++;
	} else {
		return -1;
	}
	if (p < end && *p == '.') {
		if (++p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	j->p = p;
	return 0;
}

static int j_literal(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

/* One value at j->p (after whitespace), nested at most DEPTH_MAX. */
static int j_value(struct jp *j, int depth)
{
	const char *raw;
	size_t rawlen;
	char close;

	j_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '"':
		return j_string(j, &raw, &rawlen);
	case 't':
		return j_literal(j, "true");
	case 'f':
		return j_literal(j, "false");
	case 'n':
		return j_literal(j, "null");
	case '{':
	case '[':
		break;
	default:
		return j_number(j);
	}
	if (depth >= DEPTH_MAX)
		return -1;
	close = *j->p == '{' ? '}' : ']';
	j->p++;
	j_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			j_ws(j);
			if (j_string(j, &raw, &rawlen) < 0)
				return -1;
			j_ws(j);
			if (j->p >= j->end || *j->p != ':')
				return -1;
			j->p++;
		}
		if (j_value(j, depth + 1) < 0)
			return -1;
		j_ws(j);
		if (j->p >= j->end)
			return -1;
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		if (*j->p != ',')
			return -1;
		j->p++;
	}
}

/* Iterates the members of an object or the elements of an array. */
struct jit {
	struct jp j;
	char close;
	bool first;
};

static int it_open(struct jit *it, const char *p, size_t len, char open)
{
	it->j.p = p;
	it->j.end = p + len;
	j_ws(&it->j);
	if (it->j.p >= it->j.end || *it->j.p != open)
		return -1;
	it->j.p++;
	it->close = open == '{' ? '}' : ']';
	it->first = true;
	return 0;
}

/*
 * Next member (key body set) or element (key NULL): 1, 0 at the end (then
 * only whitespace may follow), -1 malformed.
 */
static int it_next(struct jit *it, const char **key, size_t *keylen,
    const char **v, size_t *vlen)
{
	struct jp *j = &it->j;
	const char *vs;

	j_ws(j);
	if (j->p >= j->end)
		return -1;
	if (*j->p == it->close) {
		j->p++;
		j_ws(j);
		return j->p == j->end ? 0 : -1;
	}
	if (!it->first) {
		if (*j->p != ',')
			return -1;
		j->p++;
		j_ws(j);
	}
	it->first = false;
	if (it->close == '}') {
		if (j_string(j, key, keylen) < 0)
			return -1;
		j_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return -1;
		j->p++;
	}
	j_ws(j);
	vs = j->p;
	if (j_value(j, 1) < 0)
		return -1;
	*v = vs;
	*vlen = (size_t)(j->p - vs);
	return 1;
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 4 | (unsigned)hexval(p[i]);
	return v;
}

/*
 * Decodes a validated string body into out (cap bytes with the NUL).
 * Strict: only printable ASCII, else -EPROTO. Lenient: anything else
 * becomes '?'. -E2BIG when it does not fit (out has the prefix).
 */
static int str_decode(const char *raw, size_t n, char *out, size_t cap,
    bool strict)
{
	size_t i = 0, o = 0;

	if (cap == 0)
		return -E2BIG;
	while (i < n) {
		unsigned c = (unsigned char)raw[i];

		if (c == '\\') {
			char e = raw[i + 1];

			i += 2;
			switch (e) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				c = hex4(raw + i);
				i += 4;
				/* A surrogate pair is one (non-ASCII) char. */
				if (c >= 0xd800 && c <= 0xdbff && i + 6 <= n &&
				    raw[i] == '\\' && raw[i + 1] == 'u' &&
				    hex4(raw + i + 2) >= 0xdc00 &&
				    hex4(raw + i + 2) <= 0xdfff)
					i += 6;
				break;
			default: c = (unsigned char)e; break;
			}
		} else {
			i++;
		}
		if (c < 0x20 || c >= 0x7f) {
			if (strict)
				return -EPROTO;
			c = '?';
		}
		if (o + 1 >= cap) {
			out[o] = '\0';
			return -E2BIG;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* A JSON string value (whitespace around it allowed), decoded strictly. */
static int value_string(const char *v, size_t n, char *out, size_t cap)
{
	struct jp j = {v, v + n};
	const char *raw;
	size_t rawlen;

	j_ws(&j);
	if (j_string(&j, &raw, &rawlen) < 0)
		return -EPROTO;
	j_ws(&j);
	if (j.p != j.end)
		return -EPROTO;
	return str_decode(raw, rawlen, out, cap, true);
}

/* The raw body of a JSON string value with no escapes in it. */
static int value_plain(const char *v, size_t n, const char **raw,
    size_t *rawlen)
{
	struct jp j = {v, v + n};

	j_ws(&j);
	if (j_string(&j, raw, rawlen) < 0)
		return -1;
	j_ws(&j);
	if (j.p != j.end || memchr(*raw, '\\', *rawlen) != NULL)
		return -1;
	return 0;
}

/* A non-negative integer literal (no sign, fraction or exponent). */
static int value_uint(const char *v, size_t n, uint64_t max, uint64_t *out)
{
	struct jp j = {v, v + n};
	const char *s;
	uint64_t x = 0;

	j_ws(&j);
	s = j.p;
	while (j.p < j.end && is_digit(*j.p)) {
		unsigned d = (unsigned)(*j.p - '0');

		if (x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
		j.p++;
	}
	if (j.p == s || (*s == '0' && j.p - s > 1))
		return -1;
	j_ws(&j);
	if (j.p != j.end || x > max)
		return -1;
	*out = x;
	return 0;
}

static int value_bool(const char *v, size_t n, bool *out)
{
	struct jp j = {v, v + n};

	j_ws(&j);
	if (j_literal(&j, "true") == 0)
		*out = true;
	else if (j_literal(&j, "false") == 0)
		*out = false;
	else
		return -1;
	j_ws(&j);
	return j.p == j.end ? 0 : -1;
}

static bool value_is_null(const char *v, size_t n)
{
	struct jp j = {v, v + n};

	j_ws(&j);
	if (j_literal(&j, "null") < 0)
		return false;
	j_ws(&j);
	return j.p == j.end;
}

/* A member name, decoded; "" for one too long to be any we know. */
static void key_name(const char *raw, size_t n, char out[static 24])
{
	if (str_decode(raw, n, out, 24, false) < 0)
		out[0] = '\0';
}

/* ------------------------------------------------------------------ */
/* Pure parsers                                                        */
/* ------------------------------------------------------------------ */

/* Up to 40 bytes of s for an error line: printable ASCII, others '?'. */
static const char *excerpt(const char *s, size_t n, char out[static 48])
{
	size_t i, k = n > 40 ? 40 : n;

	for (i = 0; i < k; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	memcpy(out + i, n > k ? "..." : "", n > k ? 4 : 1);
	return out;
}

#define FAIL(...)                                                          \
	do {                                                               \
		if (err != NULL && errlen > 0)                             \
			snprintf(err, errlen, __VA_ARGS__);                \
		return -EPROTO;                                            \
	} while (0)

static int parse_error_obj(const char *v, size_t n, struct gethrpc_reply *out,
    char *err, size_t errlen)
{
	struct jit it;
	const char *k, *mv;
	size_t kl, ml;
	bool have_code = false, have_msg = false;
	char name[24];
	int r;

	if (it_open(&it, v, n, '{') < 0)
		FAIL("reply: \"error\" is not an object");
	while ((r = it_next(&it, &k, &kl, &mv, &ml)) == 1) {
		key_name(k, kl, name);
		if (strcmp(name, "code") == 0) {
			struct jp j = {mv, mv + ml};
			bool neg = false;
			uint64_t x;

			if (have_code)
				FAIL("reply: \"error\" has two codes");
			have_code = true;
			if (*j.p == '-') {
				neg = true;
				j.p++;
			}
			if (value_uint(j.p, (size_t)(j.end - j.p),
				(uint64_t)LONG_MAX, &x) < 0)
				FAIL("reply: error code is not an integer");
			out->code = neg ? -(long)x : (long)x;
		} else if (strcmp(name, "message") == 0) {
			struct jp j = {mv, mv + ml};
			const char *raw;
			size_t rl;

			if (have_msg)
				FAIL("reply: \"error\" has two messages");
			have_msg = true;
			if (j_string(&j, &raw, &rl) < 0)
				FAIL("reply: error message is not a string");
			(void)str_decode(raw, rl, out->message,
			    sizeof(out->message), false);
		}
	}
	if (r < 0)
		FAIL("reply: malformed \"error\" object");
	if (!have_code || !have_msg)
		FAIL("reply: \"error\" without code or message");
	return 0;
}

int gethrpc_parse_reply(const char *buf, size_t len, uint64_t *id,
    struct gethrpc_reply *out, char *err, size_t errlen)
{
	struct jit it;
	const char *k, *v, *ev = NULL;
	size_t kl, vl, evl = 0;
	bool have_id = false, have_ver = false, have_res = false;
	char name[24];
	int r;

	memset(out, 0, sizeof(*out));
	*id = 0;
	if (it_open(&it, buf, len, '{') < 0)
		FAIL("reply: not a JSON object");
	while ((r = it_next(&it, &k, &kl, &v, &vl)) == 1) {
		key_name(k, kl, name);
		if (strcmp(name, "jsonrpc") == 0) {
			char ver[8];

			if (have_ver)
				FAIL("reply: two \"jsonrpc\" members");
			have_ver = true;
			if (value_string(v, vl, ver, sizeof(ver)) < 0 ||
			    strcmp(ver, "2.0") != 0)
				FAIL("reply: \"jsonrpc\" is not \"2.0\"");
		} else if (strcmp(name, "id") == 0) {
			uint64_t x;

			if (have_id)
				FAIL("reply: two \"id\" members");
			have_id = true;
			if (value_uint(v, vl, UINT64_MAX, &x) == 0)
				*id = x;
		} else if (strcmp(name, "result") == 0) {
			if (have_res)
				FAIL("reply: two \"result\" members");
			have_res = true;
			out->result = v;
			out->result_len = vl;
		} else if (strcmp(name, "error") == 0) {
			if (ev != NULL)
				FAIL("reply: two \"error\" members");
			ev = v;
			evl = vl;
		}
	}
	if (r < 0)
		FAIL("reply: malformed JSON");
	if (!have_id)
		FAIL("reply: no \"id\"");
	/* "error": null next to a result is the JSON-RPC 1.0 habit. */
	if (ev != NULL && have_res && value_is_null(ev, evl))
		ev = NULL;
	if (ev != NULL && have_res)
		FAIL("reply: both \"result\" and \"error\"");
	if (ev == NULL && !have_res)
		FAIL("reply: neither \"result\" nor \"error\"");
	if (ev != NULL) {
		out->result = NULL;
		out->result_len = 0;
		out->is_error = true;
		return parse_error_obj(ev, evl, out, err, errlen);
	}
	return 0;
}

static int quantity(const char *v, size_t n, uint64_t *out)
{
	const char *raw;
	size_t rl;
	uint64_t x = 0;

	if (value_plain(v, n, &raw, &rl) < 0 || rl < 3 || rl > 18 ||
	    raw[0] != '0' || raw[1] != 'x' || (raw[2] == '0' && rl > 3))
		return -1;
	for (size_t i = 2; i < rl; i++) {
		int h = hexval(raw[i]);

		if (h < 0)
			return -1;
		x = x << 4 | (uint64_t)h;
	}
	*out = x;
	return 0;
}

int gethrpc_quantity(const char *json, size_t len, uint64_t *out, char *err,
    size_t errlen)
{
	char ex[48];

	if (quantity(json, len, out) < 0)
		FAIL("not a hex quantity (\"0x\" + 1..16 hex digits, no "
		     "leading zero): %s",
		    excerpt(json, len, ex));
	return 0;
}

int gethrpc_bool(const char *json, size_t len, bool *out, char *err,
    size_t errlen)
{
	char ex[48];

	if (value_bool(json, len, out) < 0)
		FAIL("not true or false: %s", excerpt(json, len, ex));
	return 0;
}

int gethrpc_string(const char *json, size_t len, char *out, size_t outlen,
    char *err, size_t errlen)
{
	int r = value_string(json, len, out, outlen);

	if (r == -E2BIG)
		FAIL("string longer than %zu bytes", outlen ? outlen - 1 : 0);
	if (r < 0)
		FAIL("not a string of printable ASCII");
	return 0;
}

int gethrpc_syncing(const char *json, size_t len,
    struct gethrpc_syncing *out, char *err, size_t errlen)
{
	struct jit it;
	const char *k, *v;
	size_t kl, vl;
	unsigned seen = 0;
	char name[24];
	bool b;
	int r;

	memset(out, 0, sizeof(*out));
	if (value_bool(json, len, &b) == 0) {
		if (b)
			FAIL("eth_syncing: true is not an answer");
		return 0;
	}
	if (it_open(&it, json, len, '{') < 0)
		FAIL("eth_syncing: neither false nor an object");
	while ((r = it_next(&it, &k, &kl, &v, &vl)) == 1) {
		uint64_t *dst;
		unsigned bit;

		key_name(k, kl, name);
		if (strcmp(name, "currentBlock") == 0)
			dst = &out->current, bit = 1;
		else if (strcmp(name, "highestBlock") == 0)
			dst = &out->highest, bit = 2;
		else
			continue;
		if (seen & bit)
			FAIL("eth_syncing: %s twice", name);
		seen |= bit;
		if (quantity(v, vl, dst) < 0)
			FAIL("eth_syncing.%s: not a hex quantity", name);
	}
	if (r < 0)
		FAIL("eth_syncing: malformed object");
	if (seen != 3)
		FAIL("eth_syncing: no currentBlock or highestBlock");
	out->syncing = true;
	return 0;
}

static bool role_ok(const char *r)
{
	return strcmp(r, "minter") == 0 || strcmp(r, "verifier") == 0 ||
	       strcmp(r, "learner") == 0 || r[0] == '\0';
}

int gethrpc_raft_role(const char *json, size_t len,
    char role[static GETHRPC_ROLE_MAX], char *err, size_t errlen)
{
	char ex[48];

	if (value_string(json, len, role, GETHRPC_ROLE_MAX) < 0 ||
	    !role_ok(role)) {
		role[0] = '\0';
		FAIL("raft role: not \"minter\", \"verifier\", \"learner\" or "
		     "\"\": %s",
		    excerpt(json, len, ex));
	}
	return 0;
}

/* n hex digits after an optional prefix, lowercased into out. */
static int hex_id(const char *v, size_t len, const char *prefix, size_t n,
    char *out)
{
	const char *raw;
	size_t rl, pl = strlen(prefix);

	if (value_plain(v, len, &raw, &rl) < 0 || rl != pl + n ||
	    memcmp(raw, prefix, pl) != 0)
		return -1;
	memcpy(out, prefix, pl);
	for (size_t i = 0; i < n; i++) {
		int h = hexval(raw[pl + i]);

		if (h < 0)
			return -1;
		out[pl + i] = "0123456789abcdef"[h];
	}
	out[pl + n] = '\0';
	return 0;
}

int gethrpc_node_id(const char *json, size_t len,
    char id[static GETHRPC_NODE_ID_LEN + 1], char *err, size_t errlen)
{
	char ex[48];

	if (hex_id(json, len, "", GETHRPC_NODE_ID_LEN, id) < 0) {
		id[0] = '\0';
		FAIL("not a node ID (128 hex): %s", excerpt(json, len, ex));
	}
	return 0;
}

int gethrpc_address(const char *json, size_t len,
    char addr[static GETHRPC_ADDR_LEN + 1], char *err, size_t errlen)
{
	char ex[48];

	if (hex_id(json, len, "0x", 40, addr) < 0) {
		addr[0] = '\0';
		FAIL("not an address (0x + 40 hex): %s",
		    excerpt(json, len, ex));
	}
	return 0;
}

/* One element of a JSON array, decoded into slot. */
typedef int elem_fn(const char *v, size_t vl, size_t idx, void *slot,
    char *err, size_t errlen);

/*
 * A JSON array of at most max elements, element i decoded by fn into
 * out + i * size; what names it in errors ("<what>: more than <max><unit>").
 */
static int decode_array(const char *json, size_t len, const char *what,
    const char *unit, elem_fn *fn, void *out, size_t size, size_t max,
    size_t *n, char *err, size_t errlen)
{
	struct jit it;
	const char *v;
	size_t vl;
	int r;

	*n = 0;
	if (it_open(&it, json, len, '[') < 0)
		FAIL("%s: not an array", what);
	while ((r = it_next(&it, NULL, NULL, &v, &vl)) == 1) {
		if (*n == max) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s: more than %zu%s",
				    what, max, unit);
			return -E2BIG;
		}
		r = fn(v, vl, *n, (char *)out + *n * size, err, errlen);
		if (r < 0)
			return r;
		(*n)++;
	}
	if (r < 0)
		FAIL("%s: malformed array", what);
	return 0;
}

static int validator_elem(const char *v, size_t vl, size_t idx, void *slot,
    char *err, size_t errlen)
{
	if (hex_id(v, vl, "0x", 40, slot) < 0)
		FAIL("validators[%zu]: not an address (0x + 40 hex)", idx);
	return 0;
}

int gethrpc_addresses(const char *json, size_t len,
    char (*out)[GETHRPC_ADDR_LEN + 1], size_t max, size_t *n, char *err,
    size_t errlen)
{
	return decode_array(json, len, "validators", "", validator_elem, out,
	    sizeof(*out), max, n, err, errlen);
}

/* One admin_peers entry: the node ID in its "enode" (enode://<id>@...). */
static int peer_entry(const char *json, size_t len, size_t idx, void *slot,
    char *err, size_t errlen)
{
	char *id = slot;
	struct jit it;
	const char *k, *v, *raw;
	size_t kl, vl, rl;
	char name[24];
	bool seen = false;
	int r;

	if (it_open(&it, json, len, '{') < 0)
		FAIL("admin_peers[%zu]: not an object", idx);
	while ((r = it_next(&it, &k, &kl, &v, &vl)) == 1) {
		key_name(k, kl, name);
		if (strcmp(name, "enode") != 0)
			continue;
		if (value_plain(v, vl, &raw, &rl) < 0 || rl < 8 +
		    GETHRPC_NODE_ID_LEN + 1 || memcmp(raw, "enode://", 8) != 0 ||
		    raw[8 + GETHRPC_NODE_ID_LEN] != '@')
			FAIL("admin_peers[%zu].enode: not enode://<128 hex>@",
			    idx);
		for (size_t i = 0; i < GETHRPC_NODE_ID_LEN; i++) {
			int h = hexval(raw[8 + i]);

			if (h < 0)
				FAIL("admin_peers[%zu].enode: not enode://"
				    "<128 hex>@", idx);
			id[i] = "0123456789abcdef"[h];
		}
		id[GETHRPC_NODE_ID_LEN] = '\0';
		seen = true;
	}
	if (r < 0)
		FAIL("admin_peers[%zu]: malformed object", idx);
	if (!seen)
		FAIL("admin_peers[%zu]: no enode", idx);
	return 0;
}

int gethrpc_peer_ids(const char *json, size_t len,
    char (*out)[GETHRPC_NODE_ID_LEN + 1], size_t max, size_t *n, char *err,
    size_t errlen)
{
	return decode_array(json, len, "admin_peers", "", peer_entry, out,
	    sizeof(*out), max, n, err, errlen);
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || strchr(".:_%[]-", c) != NULL;
}

enum {
	M_ID = 1, M_NODE = 2, M_P2P = 4, M_RAFT = 8, M_HOST = 16,
	M_ROLE = 32, M_ACTIVE = 64, M_ALL = 127
};

static int raft_member(const char *json, size_t len, size_t idx, void *slot,
    char *err, size_t errlen)
{
	struct gethrpc_raft_member *m = slot;
	static const char *const names[] = {"raftId", "nodeId", "p2pPort",
	    "raftPort", "hostname", "role", "nodeActive"};
	struct jit it;
	const char *k, *v;
	size_t kl, vl;
	unsigned seen = 0;
	char name[24];
	uint64_t x;
	int r, f;

	memset(m, 0, sizeof(*m));
	if (it_open(&it, json, len, '{') < 0)
		FAIL("raft_cluster[%zu]: not an object", idx);
	while ((r = it_next(&it, &k, &kl, &v, &vl)) == 1) {
		key_name(k, kl, name);
		for (f = 0; f < 7; f++)
			if (strcmp(name, names[f]) == 0)
				break;
		if (f == 7)
			continue;
		if (seen & (1u << f))
			FAIL("raft_cluster[%zu]: %s twice", idx, names[f]);
		seen |= 1u << f;
		switch (1 << f) {
		case M_ID:
			if (value_uint(v, vl, 65535, &x) < 0 || x == 0)
				FAIL("raft_cluster[%zu].raftId: not 1..65535",
				    idx);
			m->raft_id = (unsigned)x;
			break;
		case M_NODE:
			if (hex_id(v, vl, "", GETHRPC_NODE_ID_LEN,
				m->node_id) < 0)
				FAIL("raft_cluster[%zu].nodeId: not 128 hex",
				    idx);
			break;
		case M_P2P:
		case M_RAFT:
			if (value_uint(v, vl, 65535, &x) < 0)
				FAIL("raft_cluster[%zu].%s: not a port", idx,
				    names[f]);
			if (f == 2)
				m->p2p_port = (uint16_t)x;
			else
				m->raft_port = (uint16_t)x;
			break;
		case M_HOST:
			if (value_string(v, vl, m->hostname,
				sizeof(m->hostname)) < 0 ||
			    m->hostname[0] == '\0')
				FAIL("raft_cluster[%zu].hostname: not a host "
				     "name",
				    idx);
			for (const char *h = m->hostname; *h != '\0'; h++)
				if (!host_char(*h))
					FAIL("raft_cluster[%zu].hostname: not "
					     "a host name",
					    idx);
			break;
		case M_ROLE:
			if (value_string(v, vl, m->role, sizeof(m->role)) < 0 ||
			    !role_ok(m->role))
				FAIL("raft_cluster[%zu].role: unknown role",
				    idx);
			break;
		default: /* M_ACTIVE */
			if (value_bool(v, vl, &m->active) < 0)
				FAIL("raft_cluster[%zu].nodeActive: not a "
				     "bool",
				    idx);
			break;
		}
	}
	if (r < 0)
		FAIL("raft_cluster[%zu]: malformed object", idx);
	if (seen != M_ALL) {
		for (f = 0; f < 7; f++)
			if (!(seen & (1u << f)))
				break;
		FAIL("raft_cluster[%zu]: no %s", idx, names[f]);
	}
	return 0;
}

int gethrpc_raft_cluster(const char *json, size_t len,
    struct gethrpc_raft_member *out, size_t max, size_t *n, char *err,
    size_t errlen)
{
	return decode_array(json, len, "raft_cluster", " members", raft_member,
	    out, sizeof(*out), max, n, err, errlen);
}

/* ------------------------------------------------------------------ */
/* The client                                                          */
/* ------------------------------------------------------------------ */

struct gcall {
	struct gcall *next;
	struct gethrpc *g;
	uint64_t id;
	uint64_t req_end; /* out_total once its request is queued */
	uint64_t rx_mark; /* rx_total when it was made */
	long timer;
	gethrpc_cb *cb;
	void *arg;
};

enum cstate { C_DOWN, C_CONNECTING, C_UP };

struct gethrpc {
	struct evloop *l;
	struct sockaddr_un sa;
	int fd;
	enum cstate st;
	uint32_t events;
	char *out; /* queued requests: out[out_off..out_len) */
	size_t out_off, out_len;
	char *in; /* received, not yet a whole line: in[0..in_len) */
	size_t in_len, in_scan;
	uint64_t out_total, written_total, rx_total;
	struct gcall *calls;
	unsigned ncalls;
	uint64_t next_id;
	long kick_timer, retry_timer;
	bool freeing;
};

static void on_io(void *arg, int fd, uint32_t revents);
static void kick(void *arg);

struct gethrpc *gethrpc_new(struct evloop *l, const char *socket_path)
{
	struct gethrpc *g;
	size_t n;

	if (l == NULL || socket_path == NULL || socket_path[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	n = strlen(socket_path);
	if (n >= sizeof(g->sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return NULL;
	g->out = malloc(OUT_MAX);
	g->in = malloc(GETHRPC_REPLY_MAX + 1);
	if (g->out == NULL || g->in == NULL) {
		free(g->out);
		free(g->in);
		free(g);
		errno = ENOMEM;
		return NULL;
	}
	g->l = l;
	g->sa.sun_family = AF_UNIX;
	memcpy(g->sa.sun_path, socket_path, n + 1);
	g->fd = -1;
	g->next_id = 1;
	return g;
}

static void set_events(struct gethrpc *g, uint32_t ev)
{
	if (g->fd < 0 || ev == g->events)
		return;
	if (evloop_modify(g->l, g->fd, ev) == 0)
		g->events = ev;
}

static void close_conn(struct gethrpc *g)
{
	if (g->fd >= 0) {
		evloop_unwatch(g->l, g->fd);
		close(g->fd);
	}
	g->fd = -1;
	g->st = C_DOWN;
	g->events = 0;
	g->out_off = g->out_len = 0;
	g->in_len = g->in_scan = 0;
	/* Nothing queued any more: every pending request is written. */
	g->written_total = g->out_total;
	if (g->retry_timer > 0)
		evloop_timer_cancel(g->l, g->retry_timer);
	g->retry_timer = 0;
}

static void finish(struct gcall *c, int err, const struct gethrpc_reply *reply)
{
	c->cb(c->arg, err, reply);
	free(c);
}

/* Fails every pending call with err (0 never). */
static void fail_all(struct gethrpc *g, int err)
{
	struct gcall *list = g->calls, *c;

	g->calls = NULL;
	g->ncalls = 0;
	for (c = list; c != NULL; c = c->next)
		if (c->timer > 0)
			evloop_timer_cancel(g->l, c->timer);
	while (list != NULL) {
		c = list;
		list = c->next;
		finish(c, err, NULL);
	}
}

static void drop(struct gethrpc *g, int err)
{
	close_conn(g);
	fail_all(g, err);
}

static struct gcall *unlink_call(struct gethrpc *g, uint64_t id)
{
	struct gcall **pp;

	for (pp = &g->calls; *pp != NULL; pp = &(*pp)->next) {
		struct gcall *c = *pp;

		if (c->id == id) {
			*pp = c->next;
			g->ncalls--;
			return c;
		}
	}
	return NULL;
}

static void on_timeout(void *arg)
{
	struct gcall *c = arg, *found;
	struct gethrpc *g = c->g;

	c->timer = 0;
	/*
	 * Keep the connection only if the request went out and geth has
	 * answered something since: then only this call is stuck.
	 */
	if (g->st == C_UP && g->written_total >= c->req_end &&
	    g->rx_total > c->rx_mark) {
		found = unlink_call(g, c->id);
		if (found != NULL)
			finish(found, -ETIMEDOUT, NULL);
		return;
	}
	drop(g, -ETIMEDOUT);
}

static void flush_out(struct gethrpc *g)
{
	while (g->out_off < g->out_len) {
		ssize_t w = send(g->fd, g->out + g->out_off,
		    g->out_len - g->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			int e = w < 0 ? errno : EPIPE;

			drop(g, e == EPIPE ? -ECONNRESET : -e);
			return;
		}
		g->out_off += (size_t)w;
		g->written_total += (uint64_t)w;
	}
	if (g->out_off == g->out_len)
		g->out_off = g->out_len = 0;
	set_events(g, EPOLLIN | (g->out_len > 0 ? EPOLLOUT : 0));
}

static void connect_now(struct gethrpc *g)
{
	int fd, e;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_all(g, -errno);
		return;
	}
	if (connect(fd, (struct sockaddr *)&g->sa, sizeof(g->sa)) == 0) {
		g->st = C_UP;
	} else if (errno == EINPROGRESS) {
		g->st = C_CONNECTING;
	} else if (errno == EAGAIN) {
		/* A unix listener's backlog is full (geth not accepting):
		 * try again soon; the calls' timers bound the wait. */
		close(fd);
		g->retry_timer = evloop_timer(g->l, evloop_now() + RETRY_MS,
		    kick, g);
		if (g->retry_timer < 0) {
			g->retry_timer = 0;
			fail_all(g, -ENOMEM);
		}
		return;
	} else {
		e = errno;
		close(fd);
		fail_all(g, -e);
		return;
	}
	g->fd = fd;
	g->events = g->st == C_UP ? EPOLLIN | EPOLLOUT : EPOLLOUT;
	e = evloop_watch(g->l, fd, g->events, on_io, g);
	if (e < 0) {
		close(fd);
		g->fd = -1;
		g->st = C_DOWN;
		fail_all(g, e);
	}
}

static void kick(void *arg)
{
	struct gethrpc *g = arg;

	/* Only one of the two is ever armed. */
	g->kick_timer = 0;
	g->retry_timer = 0;
	if (g->st != C_DOWN || g->ncalls == 0)
		return;
	connect_now(g);
}

static void handle_line(struct gethrpc *g, const char *line, size_t len)
{
	struct gethrpc_reply reply;
	struct gcall *c;
	uint64_t id;

	if (gethrpc_parse_reply(line, len, &id, &reply, NULL, 0) < 0) {
		drop(g, -EPROTO);
		return;
	}
	if (id == 0) {
		/* geth could not read a request of ours at all (it closes
		 * the connection next); anything else is not ours. */
		if (reply.is_error)
			drop(g, -EPROTO);
		return;
	}
	c = unlink_call(g, id);
	if (c == NULL)
		return; /* late: that call timed out */
	if (c->timer > 0)
		evloop_timer_cancel(g->l, c->timer);
	finish(c, 0, &reply);
}

static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Reads what is there and dispatches whole lines. */
static void read_in(struct gethrpc *g)
{
	int fd = g->fd;

	for (int i = 0; i < READS_PER_EVENT && g->fd == fd; i++) {
		size_t room = GETHRPC_REPLY_MAX + 1 - g->in_len, start = 0;
		ssize_t r = read(fd, g->in + g->in_len, room);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) {
			drop(g, r == 0 || errno == EPIPE ? -ECONNRESET
							 : -errno);
			return;
		}
		g->rx_total += (uint64_t)r;
		g->in_len += (size_t)r;
		while (g->fd == fd) {
			char *nl = memchr(g->in + g->in_scan, '\n',
			    g->in_len - g->in_scan);
			size_t ll;

			if (nl == NULL) {
				g->in_scan = g->in_len;
				break;
			}
			ll = (size_t)(nl - (g->in + start));
			g->in_scan = (size_t)(nl - g->in) + 1;
			if (!blank(g->in + start, ll))
				handle_line(g, g->in + start, ll);
			start = g->in_scan;
		}
		if (g->fd != fd)
			return;
		if (start > 0) {
			memmove(g->in, g->in + start, g->in_len - start);
			g->in_len -= start;
			g->in_scan -= start;
		}
		if (g->in_len > GETHRPC_REPLY_MAX) {
			drop(g, -E2BIG);
			return;
		}
	}
}

static void on_io(void *arg, int fd, uint32_t revents)
{
	struct gethrpc *g = arg;

	if (fd != g->fd)
		return;
	if (g->st == C_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr != 0) {
			drop(g, -soerr);
			return;
		}
		g->st = C_UP;
		flush_out(g);
		return;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		read_in(g);
	if (g->fd == fd && g->st == C_UP && g->out_len > g->out_off)
		flush_out(g);
	else if (g->fd == fd && g->out_len == 0)
		set_events(g, EPOLLIN);
}

static bool method_ok(const char *m)
{
	size_t n = 0;

	for (; m[n] != '\0'; n++)
		if (!((m[n] >= 'a' && m[n] <= 'z') ||
			(m[n] >= 'A' && m[n] <= 'Z') || is_digit(m[n]) ||
			m[n] == '_'))
			return false;
	return n >= 1 && n <= 64;
}

static bool params_ok(const char *p, size_t n)
{
	struct jp j = {p, p + n};

	j_ws(&j);
	if (j.p >= j.end || *j.p != '[' || j_value(&j, 0) < 0)
		return false;
	j_ws(&j);
	return j.p == j.end;
}

int gethrpc_call(struct gethrpc *g, const char *method,
    const char *params_json, unsigned timeout_ms, gethrpc_cb *cb, void *arg)
{
	struct gcall *c;
	size_t plen, need;
	int w;

	if (g->freeing)
		return -ECANCELED;
	if (method == NULL || cb == NULL || !method_ok(method))
		return -EINVAL;
	if (params_json == NULL)
		params_json = "[]";
	plen = strlen(params_json);
	if (plen > GETHRPC_PARAMS_MAX || !params_ok(params_json, plen))
		return -EINVAL;
	if (g->ncalls >= GETHRPC_PENDING_MAX)
		return -ENOBUFS;
	need = plen + 160; /* the envelope: 131 at most */
	if (g->out_off > 0 && g->out_len + need > OUT_MAX) {
		memmove(g->out, g->out + g->out_off, g->out_len - g->out_off);
		g->out_len -= g->out_off;
		g->out_off = 0;
	}
	if (g->out_len + need > OUT_MAX)
		return -ENOBUFS;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->g = g;
	c->id = g->next_id++;
	c->cb = cb;
	c->arg = arg;
	c->rx_mark = g->rx_total;
	c->timer = evloop_timer(g->l,
	    evloop_now() + (timeout_ms ? timeout_ms : GETHRPC_TIMEOUT_DEFAULT),
	    on_timeout, c);
	if (c->timer < 0) {
		free(c);
		return -ENOMEM;
	}
	w = snprintf(g->out + g->out_len, OUT_MAX - g->out_len,
	    "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"%s\","
	    "\"params\":%s}\n",
	    c->id, method, params_json);
	if (w < 0 || (size_t)w >= OUT_MAX - g->out_len) { /* need covers it */
		evloop_timer_cancel(g->l, c->timer);
		free(c);
		return -ENOBUFS;
	}
	/* A newline in params can only be whitespace (strings hold none
	 * raw): one line it is. */
	for (char *p = g->out + g->out_len; p < g->out + g->out_len + w - 1;
	     p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	g->out_len += (size_t)w;
	g->out_total += (uint64_t)w;
	c->req_end = g->out_total;
	c->next = g->calls;
	g->calls = c;
	g->ncalls++;
	if (g->st == C_UP)
		set_events(g, EPOLLIN | EPOLLOUT);
	else if (g->st == C_DOWN && g->kick_timer == 0 && g->retry_timer == 0) {
		/* Connect from the loop: its errors reach the callbacks
		 * there, never inside this call. */
		g->kick_timer = evloop_timer(g->l, evloop_now(), kick, g);
		if (g->kick_timer < 0) {
			g->kick_timer = 0;
			unlink_call(g, c->id);
			evloop_timer_cancel(g->l, c->timer);
			g->out_len -= (size_t)w;
			g->out_total -= (uint64_t)w;
			free(c);
			return -ENOMEM;
		}
	}
	return 0;
}

unsigned gethrpc_pending(const struct gethrpc *g)
{
	return g->ncalls;
}

bool gethrpc_connected(const struct gethrpc *g)
{
	return g->st == C_UP;
}

const char *gethrpc_strerror(int err)
{
	switch (err) {
	case -ECONNREFUSED:
		return "connection refused";
	case -ENOENT:
		return "no socket";
	case -ETIMEDOUT:
		return "no answer in time";
	case -ECONNRESET:
		return "connection closed by geth";
	case -EPROTO:
		return "bad reply";
	case -E2BIG:
		return "reply too large";
	case -ECANCELED:
		return "cancelled";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

void gethrpc_free(struct gethrpc *g)
{
	if (g == NULL)
		return;
	g->freeing = true;
	if (g->kick_timer > 0)
		evloop_timer_cancel(g->l, g->kick_timer);
	g->kick_timer = 0;
	close_conn(g);
	fail_all(g, -ECANCELED);
	free(g->out);
	free(g->in);
	free(g);
}
