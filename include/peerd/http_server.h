#ifndef PEERD_HTTP_SERVER_H
#define PEERD_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "peerd/evloop.h"

/*
 * The identity server: libmicrohttpd in external-loop (epoll) mode on the
 * one event loop. GET and HEAD only (else 405 with "Allow: GET, HEAD"),
 * fixed paths (else 404), no request body (413), capped connections,
 * per-connection memory and timeouts (style rule 11). Every response carries
 * "Cache-Control: no-store". The module never logs.
 *
 * No one client can take the connections others need (health probes above
 * all):
 *  - one client address holds at most max_per_address connections (an IPv4
 *    client of a dual-stack socket counts under its IPv4 address);
 *  - the last sixteenth of max_connections is kept for loopback clients
 *    (127.0.0.0/8, ::1: Docker HEALTHCHECK, "quorum-peerd probe");
 *  - once three quarters of max_connections are open, connections idle for
 *    2 s (or timeout_s if shorter) are closed, those already open included.
 * A connection over a limit is accepted and closed at once, unanswered, so
 * the listen queue keeps moving; it is counted in peerd_http_refused_total.
 */

struct http_server;

struct http_response {
	int code;                 /* HTTP status; 0 means 200 */
	const char *content_type; /* static string; NULL = text/plain */
	char *body; /* malloc'ed by the handler (or NULL); the server frees */
	size_t len;
	/* One more header, or NULL: name and value borrowed for the call. */
	const char *header_name;
	const char *header_value;
};

/* What the handler is told of a request. Strings are borrowed for the call. */
struct http_request {
	const char *path; /* one of the configured paths */
	/* The asker's ordinal when the request carried one ("?from=N" or
	 * header "X-Peerd-From: N", decimal 0..65535), else -1. */
	int from;
	const char *have; /* "?have=" value, or NULL */
	const char *doc;  /* "X-Peerd-Doc" header value, or NULL */
	const char *network; /* "X-Peerd-Network" header value, or NULL */
	/* The client's address as text ("10.0.0.5", "fd00::5"; an IPv4
	 * client of a dual-stack socket without "::ffff:"), "" if unknown. */
	char peer_ip[46];
};

/*
 * Called for every GET/HEAD of a configured path (for HEAD the body is
 * computed but not sent). Returns 0 with resp filled, -ENOENT for a 404 (e.g.
 * /genesis.json before it is rendered), or another -errno for a 500. A
 * body the handler set is freed by the server in every case (on failure it
 * is not sent). The handler must not free the server.
 */
typedef int http_server_handler(void *arg, const struct http_request *req,
    struct http_response *resp);

struct http_server_config {
	/* IPv4 or IPv6 literal; NULL or "" = all addresses (IPv6 dual stack
	 * when the host has IPv6, else IPv4). "::" is dual stack too. */
	const char *bind_addr;
	uint16_t port;            /* 0 = ephemeral (tests) */
	unsigned max_connections; /* 0 = default 256 */
	/* Connections one client address may hold at once; 0 = default 16
	 * (a peer needs a few, kubelet's probes three at most). Mind that
	 * behind a proxy or SNAT every client shares the proxy's address. */
	unsigned max_per_address;
	unsigned timeout_s;       /* idle connection timeout; 0 = default 10 */
	size_t conn_memory;       /* per connection; 0 = default 32 KiB */
	const char *const *paths; /* NULL-terminated; copied */
};

/*
 * Starts listening and watches the daemon's epoll fd on l. Returns NULL with
 * errno set (EINVAL bad config/address, else what bind/listen failed with,
 * EIO when libmicrohttpd gave no reason).
 */
struct http_server *http_server_new(struct evloop *l,
    const struct http_server_config *cfg, http_server_handler *handler,
    void *arg);
/* Closes every connection and the listening socket. NULL-safe. */
void http_server_free(struct http_server *srv);

/* Bound port (useful with port 0 in tests). */
uint16_t http_server_port(const struct http_server *srv);

/*
 * Appends Prometheus text at buf + *used and advances *used, keeping buf
 * NUL-terminated: peerd_http_requests_total{path,code} (unknown paths count
 * under path="other"), the gauge peerd_http_connections (open now) and
 * peerd_http_refused_total{reason} for connections closed unanswered:
 * "per_address" (the client's address was at max_per_address) or "busy"
 * (only the loopback reserve was left). Returns 0 or -E2BIG when it does
 * not fit (then *used and buf[*used] are left as they were).
 */
int http_server_metrics(const struct http_server *srv, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));

#endif
