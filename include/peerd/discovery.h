#ifndef PEERD_DISCOVERY_H
#define PEERD_DISCOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "peerd/evloop.h"
#include "peerd/peerdoc.h"

/*
 * Polls every peer's /env.json at once (libcurl multi on the event loop)
 * with capped exponential backoff and jitter until each answers with a
 * valid document (DESIGN §7).
 */

struct discovery;

enum discovery_reason {
	DISCOVERY_DNS = 0,  /* name does not resolve */
	DISCOVERY_REFUSED,  /* connection refused / unreachable */
	DISCOVERY_TIMEOUT,
	DISCOVERY_HTTP,     /* non-200 answer */
	DISCOVERY_TOOBIG,   /* body over PEERDOC_MAX */
	DISCOVERY_INVALID,  /* body failed peerdoc_parse */
	DISCOVERY_OTHER,
	DISCOVERY_REASONS
};

struct discovery_config {
	const char *prefix;  /* host names are prefix + i [+ "." + domain] */
	const char *domain;  /* "" = bare names */
	uint16_t port;       /* peers' HTTP port */
	unsigned n;          /* peers 0..n-1 */
	unsigned self;       /* this node's ordinal: not polled */
	const uint8_t *secret; /* CLUSTER_SECRET or NULL */
	size_t secretlen;
	unsigned backoff_min_ms;  /* default 50 */
	unsigned backoff_max_ms;  /* default 1000 */
	unsigned timeout_ms;      /* per request, default 2000 */
	/* Test hook: URL template override, "%s" host, "%u" ... NULL = http */
	const char *url_override_host; /* if set, every peer is asked here */
};

/* Called once per peer when its valid document arrives. */
typedef void discovery_found_cb(void *arg, const struct peerdoc *doc);
/* Called once when every peer is known. */
typedef void discovery_done_cb(void *arg);

struct discovery *discovery_new(struct evloop *l,
    const struct discovery_config *cfg, discovery_found_cb *found,
    discovery_done_cb *done, void *arg);
void discovery_free(struct discovery *d);

/* Starts polling. */
int discovery_start(struct discovery *d) __attribute__((warn_unused_result));
/* Peer `ordinal` said hello (it polled us): poll it now, not after backoff. */
void discovery_hello(struct discovery *d, unsigned ordinal);
/* Stops all transfers and timers (stop requested). */
void discovery_cancel(struct discovery *d);

unsigned discovery_found_count(const struct discovery *d);
/* Appends JSON array of peers {ordinal,host,state,attempts,last_error}. */
int discovery_status_json(const struct discovery *d, char *buf, size_t len,
    size_t *used);
/* Appends Prometheus lines (peers discovered, attempts, errors by reason). */
int discovery_metrics(const struct discovery *d, char *buf, size_t len,
    size_t *used);
/* "waiting for quorum-3, quorum-4" style progress line into buf. */
void discovery_progress(const struct discovery *d, char *buf, size_t len);

#endif
