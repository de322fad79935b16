#ifndef PEERD_DISCOVERY_H
#define PEERD_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerd/evloop.h"
#include "peerd/peerdoc.h"

/*
 * Polls every peer's /env.json at once (libcurl multi on the event loop)
 * with capped exponential backoff and jitter until each answers with a
 * valid document (DESIGN §7). Each request is
 *   GET http://<prefix><i>[.<domain>]:<port>/env.json?from=<self>
 * ("from" is our hello: the peer polls us at once, see discovery_hello).
 *
 * With relay (needs the cluster secret), each request is /peers instead:
 * the peer's own document and every one it has accepted, one per line
 * (discovery_bundle). Any fully valid document in it is accepted, whoever
 * relays it: its MAC proves a cluster member made it, its signature that
 * the node key's owner did. A peer found that way is not polled at all,
 * so N nodes need far fewer than N*(N-1) requests.
 * The module never logs: the caller reads the state (status, metrics,
 * progress) and gets on_error the first time each reason hits a peer.
 */

struct discovery;

enum discovery_reason {
	DISCOVERY_DNS = 0,  /* name does not resolve */
	DISCOVERY_REFUSED,  /* connection refused / unreachable */
	DISCOVERY_TIMEOUT,  /* connect or whole request over timeout_ms */
	DISCOVERY_HTTP,     /* non-200 answer */
	DISCOVERY_TOOBIG,   /* body over PEERDOC_MAX */
	DISCOVERY_INVALID,  /* body failed peerdoc_parse */
	DISCOVERY_CONFLICT, /* another valid document for a known peer */
	DISCOVERY_OTHER,    /* any other transfer error (reset, empty...) */
	DISCOVERY_REASONS
};

/*
 * Called the first time `reason` happens for peer `ordinal` (once per
 * reason per peer, DESIGN §7); msg is one line (curl's error, "HTTP 503",
 * or peerdoc_parse's message). For the caller to log. DISCOVERY_CONFLICT
 * names the peer whose document was contradicted (the first one is kept).
 */
typedef void discovery_error_cb(void *arg, unsigned ordinal,
    enum discovery_reason reason, const char *msg);

struct discovery_config {
	const char *prefix; /* < 60 chars; hosts: prefix + i [+ "." + domain] */
	const char *domain;  /* NULL or "" = bare names */
	uint16_t port;       /* peers' HTTP port */
	unsigned n;          /* peers 0..n-1, 1..1024 */
	unsigned self;       /* this node's ordinal: not polled */
	const uint8_t *secret; /* CLUSTER_SECRET or NULL; borrowed, must
				* outlive the discovery */
	size_t secretlen;
	bool relay; /* poll /peers, accept relayed documents; needs secret */
	/* our own /env.json bytes (one line ending '\n') or NULL: sent along
	 * with every request so the asked peer need not poll us back; relay
	 * needs it */
	const char *self_doc;
	size_t self_len;
	/*
	 * "0x" + 64 hex, or NULL: this node is a member of the formed network
	 * with that genesis; every request says so (X-Peerd-Network), so that
	 * a node about to form a network learns it would be a second one.
	 */
	const char *network;
	unsigned backoff_min_ms;  /* 0 = default 50 */
	unsigned backoff_max_ms;  /* 0 = default 1000 */
	unsigned timeout_ms;      /* per request, 0 = default 2000 */
	/* requests in flight at once, 1..32; 0 = default (8, relay 4) */
	unsigned max_inflight;
	discovery_error_cb *on_error; /* optional */
	/*
	 * Optional, NULL-terminated, for tests: libcurl CONNECT_TO entries
	 * "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (e.g.
	 * "quorum-1:80:127.0.0.1:41234"): the request still names HOST:PORT
	 * (URL, Host header) but the connection goes to the other pair.
	 */
	const char *const *connect_to;
};

/* Called once per peer when its valid document arrives (doc is borrowed). */
typedef void discovery_found_cb(void *arg, const struct peerdoc *doc);
/* Called once when every peer is known (for n == 1: from the loop, just
 * after discovery_start). */
typedef void discovery_done_cb(void *arg);

/*
 * Callbacks run from the event loop and may call discovery_hello or
 * discovery_cancel, not discovery_free. prefix, domain and connect_to are
 * copied. Returns NULL with errno set (EINVAL for a bad config).
 */
struct discovery *discovery_new(struct evloop *l,
    const struct discovery_config *cfg, discovery_found_cb *found,
    discovery_done_cb *done, void *arg);
/* Cancels everything and frees. NULL-safe. */
void discovery_free(struct discovery *d);

/* Starts polling every peer at once. 0, -EALREADY, or -errno. */
int discovery_start(struct discovery *d) __attribute__((warn_unused_result));
/*
 * Peer `ordinal` said hello (it polled us): if it is not found yet and no
 * request to it is in flight, drop its backoff and poll it now. Ignored
 * before start, after cancel, and for self or out-of-range ordinals.
 */
void discovery_hello(struct discovery *d, unsigned ordinal);
/*
 * Forgets peer `ordinal`'s document and polls it now, as if it had never
 * been found: for a peer whose document may have changed (a restarted
 * member with a new address pushed a different one). Its found callback
 * runs again with what it serves now; done is not called again. 0, or
 * -EPERM (not started, cancelled, self or out of range).
 */
int discovery_refresh(struct discovery *d, unsigned ordinal);
/* Stops all transfers and timers (stop requested); no callback after. */
void discovery_cancel(struct discovery *d);

/*
 * The formed network peer `ordinal` named in its latest answer (its
 * X-Peerd-Network header: "0x" + keccak256 of its genesis), or "". A claim
 * of the peer's, to be taken as a hint only.
 */
const char *discovery_peer_network(const struct discovery *d,
    unsigned ordinal);
/* Peers found so far (self not counted; all found = n - 1). */
unsigned discovery_found_count(const struct discovery *d);
/* "dns", "refused", "timeout", "http", "toobig", "invalid", "conflict",
 * "other". */
const char *discovery_reason_name(enum discovery_reason r);

/*
 * The three appenders write at buf + *used and advance *used, keeping buf
 * NUL-terminated; on -E2BIG nothing is appended.
 *
 * status: a JSON array, one object per peer but self, by ordinal:
 *   {"ordinal":1,"host":"quorum-1","state":"waiting"|"found",
 *    "in_flight":false,"attempts":3,"via":1|null,"reason":"refused"|null,
 *    "last_error":"..."|null}
 * via is the ordinal the document came from (its own = fetched directly).
 * reason/last_error are the latest failure (kept after found).
 */
int discovery_status_json(const struct discovery *d, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));
/*
 * metrics (Prometheus): peerd_discovery_peers{state="found"|"waiting"},
 * peerd_discovery_attempts_total, peerd_discovery_errors_total{reason}
 * (every reason, 0 included). Discovery seconds are the caller's.
 */
int discovery_metrics(const struct discovery *d, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));
/*
 * The peers still awaited, by name: "waiting for quorum-3, quorum-4"; a
 * list too long for buf ends with ", ... (+K more)"; "" once all are found.
 * Always NUL-terminates (len > 0).
 */
void discovery_progress(const struct discovery *d, char *buf, size_t len);

/*
 * /peers: self_doc (this node's /env.json bytes) then every accepted
 * document, by ordinal, each exactly as its node serves it (one line, ending
 * '\n'), leaving out those the asker has: have is its "?have=" bitmap (hex,
 * nibble k for ordinals 4k..4k+3, bit i % 4; exactly (n + 3) / 4 chars) or
 * NULL for all. *out is malloc'ed for the caller. 0 or -ENOMEM.
 */
int discovery_bundle(const struct discovery *d, const char *self_doc,
    size_t self_len, const char *have, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Peer `ordinal` sent its own document with its request (header
 * X-Peerd-Doc: the /env.json bytes without the newline) from address
 * from_ip. Accepted if fully valid for that ordinal and, without relay, if
 * from_ip is the address the peer's name resolved to at our latest lookup
 * of it (the trust of a direct fetch: the document comes from where the
 * name leads). From another address (or before any lookup of the
 * name), the name is looked up first, without connecting, and the
 * document taken if from_ip is where it leads; else the peer is polled
 * at once. Its found callback runs from the loop just after (not inside
 * the caller's HTTP handler); it saves polling the peer back. 0 (accepted
 * or already known), -EINPROGRESS (looking the name up), -EPROTO
 * (invalid, reported once through on_error), -EACCES (a poll of it is in
 * flight, or no from_ip: poll it instead), -EPERM (not started, self or
 * out of range), -ENOMEM.
 */
int discovery_offer(struct discovery *d, unsigned ordinal, const char *doc,
    size_t len, const char *from_ip);

#endif
