#ifndef PEERD_HTTPC_H
#define PEERD_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

#include "peerd/evloop.h"

/*
 * One-off HTTP GETs between daemons (membership: another node's record,
 * genesis, document or status), on the one event loop with libcurl's multi
 * interface: plain HTTP only, no redirects, every request with a timeout
 * and a hard ceiling on the body. The module never logs.
 */

struct httpc;

struct httpc_result {
	long code;        /* HTTP status */
	const char *body; /* NUL-terminated; valid during the callback */
	size_t len;
	char ip[46];      /* the address the name led to, "" if unknown */
	char network[67]; /* the answer's X-Peerd-Network header, or "" */
};

/*
 * err 0 (res set, whatever the status), or, with res NULL: -E2BIG (body
 * over max), -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH (name does not
 * resolve, or no route), -EIO (any other transfer error).
 */
typedef void httpc_cb(void *arg, int err, const struct httpc_result *res);

/* NULL with errno. */
struct httpc *httpc_new(struct evloop *l);
/* Ends every request without calling its callback. NULL-safe. */
void httpc_free(struct httpc *h);
/*
 * GET url (http:// only) with the given extra header lines (NULL-terminated
 * array, or NULL), at most max bytes of body, timeout_ms for everything.
 * cb runs once, from the loop (never inside this call). 0 or -errno.
 */
int httpc_get(struct httpc *h, const char *url, const char *const *headers,
    size_t max, unsigned timeout_ms, httpc_cb *cb, void *arg)
    __attribute__((warn_unused_result));
/*
 * One header line (as libcurl hands it, CRLF included): if it is
 * "X-Peerd-Network: 0x<64 lowercase hex>" (a formed network's genesis,
 * named by the peer: a claim), copies the value to out. Pure.
 */
bool httpc_network_header(const char *buf, size_t n, char out[static 67]);

/* Requests in flight. */
unsigned httpc_pending(const struct httpc *h);

#endif
