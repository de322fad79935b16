#ifndef PEERD_PEERDOC_H
#define PEERD_PEERDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The public identity document of one node (DESIGN §6): served as /env.json
 * and /env.sh, fetched by every peer. Pure: no I/O.
 */

#define PEERDOC_MAX 16384 /* largest document accepted (bytes) */
#define PEERDOC_VERSION 1

struct peerdoc {
	unsigned ordinal;
	char name[64];     /* "quorum-2": prefix + ordinal */
	char ip[46];       /* IPv4 or IPv6 literal */
	char host[256];    /* name[.domain]: what ADDRESS_MODE=dns uses */
	char node_id[129]; /* 128 lowercase hex: X||Y of the node key */
	/*
	 * Exactly enode://<node_id>@<H>:<p2p_port>?discport=0, optionally
	 * followed by &raftport=<raft_port>; H = ip ([ip] if IPv6) or host.
	 */
	char enode[400];
	char account[43];  /* 0x + EIP-55 address of the keystore account */
	char tm_pub[45];   /* base64 of the TM's 32-byte public key */
	char tm_url[300];  /* TM P2P URL http://<H>:<port>[/], H as in enode */
	uint16_t p2p_port;
	uint16_t raft_port;
	char sig[131]; /* 130 lowercase hex: r||s||v, v in {0,1} */
	char mac[65];  /* 64 lowercase hex HMAC-SHA256, "" = none */
};

/*
 * Canonical bytes (signed and MACed): compact JSON without sig/mac, members
 * in the order of DESIGN §6, no trailing newline. Fails with -EINVAL if any
 * member is not valid (the parser's rules), -ENOBUFS if out is too small.
 */
int peerdoc_canonical(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written) __attribute__((warn_unused_result));

/*
 * Fills d->sig with the node key, and d->mac if secretlen > 0 (else mac =
 * ""). -EINVAL if the document is invalid or node_id is not nodekey's.
 */
int peerdoc_sign(struct peerdoc *d, const uint8_t nodekey[static 32],
    const uint8_t *secret, size_t secretlen)
    __attribute__((warn_unused_result));

/*
 * /env.json: canonical members plus "sig" (and "mac" if set), compact, then
 * one '\n'. NUL-terminated; *written excludes the NUL.
 */
int peerdoc_to_json(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written) __attribute__((warn_unused_result));

/*
 * /env.sh: IP, NODE_ID, ACCOUNT, HOSTNAME (= name), ORDINAL, ENODE, TM_PUB,
 * TM_URL, P2P_PORT, RAFT_PORT as NAME='value' lines. Every value must be
 * non-empty and only [A-Za-z0-9._:/@?&=+-[]] (never a quote), else -EINVAL.
 */
int peerdoc_to_envsh(const struct peerdoc *d, char *out, size_t outlen,
    size_t *written) __attribute__((warn_unused_result));

/* What the parser checks beyond the document's own consistency. */
struct peerdoc_expect {
	int ordinal;           /* -1 = any */
	const char *prefix;    /* name must be prefix + ordinal; NULL = any */
	const uint8_t *secret; /* non-NULL: mac required and must verify */
	size_t secretlen;
};

/*
 * Parses and fully validates a document (DESIGN §7): size, JSON, every member
 * present with the right type and shape, ordinal as expected, signature
 * recovering to node_id, MAC under the secret. Also: no unknown or duplicate
 * members, no backslash escapes, ip in canonical text form, host = name or
 * name.domain. Without a secret a mac is shape-checked only. Returns 0,
 * -E2BIG (too large), or -EPROTO with one line in err naming the member.
 */
int peerdoc_parse(const char *buf, size_t len,
    const struct peerdoc_expect *expect, struct peerdoc *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * The ordinal a document claims, read from the "ordinal" member among its
 * first PEERDOC_PEEK_SPAN bytes (where the canonical order puts it),
 * without validating anything: an index hint (to find a stored copy to
 * compare with), never a fact. 0..99999, or -1.
 */
#define PEERDOC_PEEK_SPAN 192
long peerdoc_peek_ordinal(const char *buf, size_t len);

#endif
