/*
 * discovery: one libcurl multi handle driven by the event loop through its
 * socket and timer callbacks; at most one request in flight per peer, a
 * backoff timer between attempts. Easy handles are pooled: a request takes
 * one and gives it back when it ends, so there are only as many as there
 * were requests in flight at once (each holds a resolver, and with c-ares
 * that is 74 KB and the resolver's configuration read from /etc).
 */

#include "peerd/discovery.h"
#include "peerd/curlloop.h"
#include "peerd/httpc.h"
#include "peerd/encoding.h"
#include "peerd/strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <sodium.h>

#define DISCOVERY_MAX_PEERS 1024
#define DISCOVERY_DEFAULT_BACKOFF_MIN 50
#define DISCOVERY_DEFAULT_BACKOFF_MAX 1000
#define DISCOVERY_DEFAULT_TIMEOUT 2000
#define DISCOVERY_HOST_MAX 254 /* a DNS name fits in 253 */

/*
 * The most requests in flight at once (a late relay node's announcements;
 * also the cap on name lookups and on idle pooled handles). The rest wait
 * in our own queue, not libcurl's: a transfer's timeout runs from the
 * moment it is added to the multi handle, so one queued there can time out
 * before it has even connected (at N=200 most attempts did, and every
 * retry added load).
 */
#define DISCOVERY_MAX_INFLIGHT 32
/*
 * Without relay, eight: N nodes together keep 8N requests on the wire, and
 * on a busy host each waits behind the others (200 nodes on 2 CPUs: 32
 * each meant a second per request and dozens of 2 s timeouts per node).
 * Fewer in flight also leave each node's request to a peer well apart in
 * time from the peer's to it, so one of the two is spared (d_resolve). A
 * late node, alone, asks its N-1 peers 8 at a time: 25 round trips at 200.
 */
#define DISCOVERY_DIRECT_INFLIGHT 8
/*
 * With relay, few at once: every answer brings what its peer knows, so
 * requests sent before the first answers return are mostly wasted.
 */
#define DISCOVERY_RELAY_INFLIGHT 4

struct dpeer {
	struct discovery *d;
	unsigned ordinal;
	char name[64];
	char host[DISCOVERY_HOST_MAX];
	CURL *easy; /* while a request is in flight (from the pool) */
	char *body; /* PEERDOC_MAX bytes while a request is in flight */
	size_t len;
	bool toobig;
	/* relay transfers (a bundle of documents, one per line) */
	bool code_checked, http_ok; /* status read before the first byte */
	bool got_own;               /* the bundle carried the peer's own */
	bool bad;                   /* a line was refused: transfer aborted */
	unsigned lines;
	char badmsg[256];
	/* once found */
	char *line;           /* the document's bytes, as served (ends '\n') */
	size_t linelen;
	int via;              /* ordinal it came from (its own = direct), -1 */
	struct peerdoc *fresh; /* found, its callback not run yet */
	/* where its name led at the latest attempts (IPv4, IPv6), as text */
	char ip_seen[2][46];
	bool conflict_seen;
	/* the formed network its latest answer named (X-Peerd-Network), "" */
	char network[67];
	bool announce; /* relay: ask it although found (it must learn of us) */
	bool in_flight;
	/*
	 * Direct: the transfer in flight only looks its name up (d_resolve):
	 * it pushed the document in offer, from offer_ip, before we had
	 * polled it.
	 */
	bool resolving;
	char *offer; /* the pushed document, one line ending '\n' */
	size_t offerlen;
	char offer_ip[46];
	bool queued; /* waiting for a free request slot */
	bool found;
	struct dpeer *qprev, *qnext;
	long timer; /* backoff timer, 0 = none */
	unsigned backoff_ms;
	unsigned attempts;
	int reason;            /* latest failure, -1 = none yet */
	unsigned reasons_seen; /* bit per enum discovery_reason */
	char errbuf[CURL_ERROR_SIZE];
	char last_error[256];
};

struct discovery {
	struct evloop *loop;
	struct curlloop *cl; /* libcurl multi on the loop */
	long done_timer;
	long deliver_timer; /* found callbacks due after an offer */
	struct curl_slist *connect_to;
	char prefix[64];
	uint16_t port;
	unsigned n, self;
	const uint8_t *secret;
	size_t secretlen;
	unsigned backoff_min, backoff_max, timeout_ms;
	discovery_found_cb *found;
	discovery_done_cb *done;
	discovery_error_cb *on_error;
	void *arg;
	struct dpeer *peers; /* n entries, by ordinal; self's is unused */
	struct dpeer *qhead, *qtail; /* peers waiting for a request slot */
	unsigned inflight;
	unsigned nresolving; /* name lookups in flight (not in inflight) */
	CURL *pool[DISCOVERY_MAX_INFLIGHT]; /* idle easy handles */
	unsigned npool;
	bool relay;
	bool announced; /* relay: a first bundle arrived (d_announce) */
	unsigned *fresh_q; /* ordinals found whose callbacks are due */
	unsigned nfresh;
	unsigned max_inflight;
	struct curl_slist *headers; /* X-Peerd-Doc (our document), or NULL */
	char *url; /* built per request (relay: the have= bitmap changes) */
	size_t urlcap;
	unsigned nfound;
	bool started, cancelled, done_called;
	unsigned long attempts_total;
	unsigned long pushed_total; /* documents taken from their node's push */
	unsigned long errors[DISCOVERY_REASONS];
};

static const char *const reason_names[DISCOVERY_REASONS] = {
    "dns", "refused", "timeout", "http", "toobig", "invalid", "conflict",
    "other"};

const char *discovery_reason_name(enum discovery_reason r)
{
	if ((unsigned)r >= DISCOVERY_REASONS)
		return "other";
	return reason_names[r];
}

static void d_poll(struct dpeer *p);

static void d_transfer_done(void *arg, CURL *e, CURLcode rc);
static void d_batch(void *arg);

static int d_take_line(struct dpeer *p, const char *line, size_t len);

static size_t d_write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct dpeer *p = userp;
	size_t n = size * nmemb, total = n, take;
	const char *nl;
	long code = 0;

	if (!p->d->relay) {
		/* A hard ceiling, not a realloc (style rule 7): abort. */
		if (n > PEERDOC_MAX - p->len) {
			p->toobig = true;
			return 0;
		}
		memcpy(p->body + p->len, ptr, n);
		p->len += n;
		return n;
	}
	/* A bundle: one document per line, each handled as it completes. */
	if (!p->code_checked) {
		p->code_checked = true;
		(void)curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
		p->http_ok = code == 200;
	}
	if (!p->http_ok)
		return n; /* d_finish reports the status; the body is unused */
	while (n > 0) {
		take = PEERDOC_MAX - p->len;
		if (take > n)
			take = n;
		nl = memchr(ptr, '\n', take);
		if (nl != NULL)
			take = (size_t)(nl - ptr) + 1;
		memcpy(p->body + p->len, ptr, take);
		p->len += take;
		ptr += take;
		n -= take;
		if (nl != NULL) {
			if (d_take_line(p, p->body, p->len) < 0)
				return 0;
			p->len = 0;
		} else if (p->len == PEERDOC_MAX) {
			p->toobig = true;
			return 0;
		}
	}
	return total;
}

/*
 * "X-Peerd-Network: 0x<64 hex>": the peer is a member of a formed network
 * with that genesis (a claim, kept for the caller; never trusted further).
 */
static size_t d_header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct dpeer *p = userp;

	(void)httpc_network_header(buf, size * nitems, p->network);
	return size * nitems;
}

/*
 * Opens each socket curl connects, to note where the peer's name led even
 * when the connection is then refused (curl reports no address for those).
 */
static curl_socket_t d_open_socket(void *userp, curlsocktype purpose,
    struct curl_sockaddr *a)
{
	struct dpeer *p = userp;
	const struct sockaddr *sa = &a->addr;
	const struct linger lg = {.l_onoff = 1, .l_linger = 0};
	curl_socket_t fd;

	if (purpose == CURLSOCKTYPE_IPCXN && sa->sa_family == AF_INET)
		(void)inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    p->ip_seen[0], sizeof(p->ip_seen[0]));
	else if (purpose == CURLSOCKTYPE_IPCXN && sa->sa_family == AF_INET6)
		(void)inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    p->ip_seen[1], sizeof(p->ip_seen[1]));
	/* A lookup only: the transfer fails here, before any packet. */
	if (p->resolving)
		return CURL_SOCKET_BAD;
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	/*
	 * Closed with a reset, not a FIN exchange: libcurl closes only once
	 * the answer is read (or the attempt given up), so nothing is lost,
	 * and a node making hundreds of one-answer connections leaves no
	 * TIME_WAIT behind. Fewer packets per request too: N=200 nodes on
	 * 2 CPUs used 10-25% less CPU.
	 */
	if (fd >= 0 && purpose == CURLSOCKTYPE_IPCXN)
		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	return fd;
}

/* A new easy handle with what every request shares. */
static CURL *d_easy_new(const struct discovery *d)
{
	CURL *e;

	e = curl_easy_init();
	if (e == NULL)
		return NULL;
	/*
	 * N nodes polling N peers make N^2 lookups a second: cache answers
	 * briefly in the multi handle's shared cache. Only successful lookups
	 * are cached, so a name that appears late (StatefulSet DNS) is seen at
	 * the next attempt; a pod's new IP within 5 s.
	 */
	if (curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, d_open_socket) !=
		CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http") != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)d->timeout_ms) !=
		CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		(long)d->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 5L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_IPRESOLVE, CURL_IPRESOLVE_WHATEVER) !=
		CURLE_OK ||
	    /* One short request per attempt; no idle fds to found peers. */
	    curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_MAXFILESIZE, (long)PEERDOC_MAX *
		(d->relay ? (long)d->n : 1L)) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, d_write_cb) !=
		CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, d_header_cb) !=
		CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_USERAGENT,
		"quorum-peerd/" PEERD_VERSION) != CURLE_OK ||
	    (d->headers != NULL &&
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers) !=
		    CURLE_OK) ||
	    (d->connect_to != NULL &&
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, d->connect_to) !=
		    CURLE_OK)) {
		curl_easy_cleanup(e);
		return NULL;
	}
	return e;
}

/* An easy handle for a request to p (from the pool, else a new one). */
static int d_easy_get(struct dpeer *p)
{
	struct discovery *d = p->d;
	CURL *e;

	e = d->npool > 0 ? d->pool[--d->npool] : d_easy_new(d);
	if (e == NULL)
		return -ENOMEM;
	if (curl_easy_setopt(e, CURLOPT_PRIVATE, p) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, p) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_WRITEDATA, p) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_HEADERDATA, p) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, p->errbuf) != CURLE_OK) {
		curl_easy_cleanup(e);
		return -EINVAL;
	}
	p->easy = e;
	return 0;
}

/* p's request is over (its handle out of the multi): the handle goes back. */
static void d_easy_put(struct dpeer *p)
{
	struct discovery *d = p->d;

	if (p->easy == NULL)
		return;
	/* No pointer into p may outlive the request. */
	(void)curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, NULL);
	/*
	 * Kept only while it may be needed: a node waiting for one late peer
	 * holds one idle handle, not one per request it once had in flight.
	 */
	if (d->npool < DISCOVERY_MAX_INFLIGHT && (d->qhead != NULL ||
	    d->npool + d->inflight < d->n - 1 - d->nfound))
		d->pool[d->npool++] = p->easy;
	else
		curl_easy_cleanup(p->easy);
	p->easy = NULL;
}

/* Nothing left to ask: the pooled handles (and their resolvers) go. */
static void d_pool_trim(struct discovery *d)
{
	if (d->nfound != d->n - 1 || d->qhead != NULL)
		return;
	while (d->npool > 0)
		curl_easy_cleanup(d->pool[--d->npool]);
}

static void d_on_peer_timer(void *arg)
{
	struct dpeer *p = arg;

	p->timer = 0;
	d_poll(p);
}

/* Next retry after the current backoff, +-25% jitter; then double it. */
static void d_schedule(struct dpeer *p)
{
	struct discovery *d = p->d;
	uint64_t delay;
	long id;

	delay = (uint64_t)p->backoff_ms * (75 + randombytes_uniform(51)) / 100;
	p->backoff_ms = p->backoff_ms > d->backoff_max / 2 ? d->backoff_max
							  : p->backoff_ms * 2;
	id = evloop_timer(d->loop, evloop_now() + delay, d_on_peer_timer, p);
	/* Out of memory: the peer waits for its hello; the status shows it. */
	p->timer = id > 0 ? id : 0;
}

/* Records a failure of p (reported once per reason); no retry. */
static void d_note(struct dpeer *p, enum discovery_reason r, const char *msg)
{
	struct discovery *d = p->d;

	p->reason = (int)r;
	d->errors[r]++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", msg);
	if (!(p->reasons_seen & (1u << r))) {
		p->reasons_seen |= 1u << r;
		if (d->on_error != NULL)
			d->on_error(d->arg, p->ordinal, r, p->last_error);
	}
}

/*
 * Another valid document for t, which is known: the first one stays (a
 * rendered config cannot change under a running node); counted, and
 * reported once.
 */
static void d_conflict(struct dpeer *t, const char *msg)
{
	struct discovery *d = t->d;

	d->errors[DISCOVERY_CONFLICT]++;
	if (t->conflict_seen)
		return;
	t->conflict_seen = true;
	if (d->on_error != NULL)
		d->on_error(d->arg, t->ordinal, DISCOVERY_CONFLICT, msg);
}

/* A failed attempt: noted, then retried after the backoff. */
static void d_fail(struct dpeer *p, enum discovery_reason r, const char *msg)
{
	struct discovery *d = p->d;

	d_note(p, r, msg);
	if (!d->cancelled && !p->found && !p->in_flight && p->timer == 0)
		d_schedule(p);
}

static void d_unqueue(struct dpeer *p)
{
	struct discovery *d = p->d;

	if (!p->queued)
		return;
	if (p->qprev != NULL)
		p->qprev->qnext = p->qnext;
	else
		d->qhead = p->qnext;
	if (p->qnext != NULL)
		p->qnext->qprev = p->qprev;
	else
		d->qtail = p->qprev;
	p->qprev = p->qnext = NULL;
	p->queued = false;
}

/* Queues p for the next free slot: at the front for a peer known to be up. */
static void d_enqueue(struct dpeer *p, bool front)
{
	struct discovery *d = p->d;

	d_unqueue(p);
	p->queued = true;
	if (front) {
		p->qnext = d->qhead;
		if (d->qhead != NULL)
			d->qhead->qprev = p;
		else
			d->qtail = p;
		d->qhead = p;
	} else {
		p->qprev = d->qtail;
		if (d->qtail != NULL)
			d->qtail->qnext = p;
		else
			d->qhead = p;
		d->qtail = p;
	}
}

/* The have= bitmap: hex, nibble k holds ordinals 4k..4k+3 (bit i % 4). */
static void d_have_hex(const struct discovery *d, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned i, k, v;

	for (k = 0; k * 4 < d->n; k++) {
		v = 0;
		for (i = k * 4; i < k * 4 + 4 && i < d->n; i++)
			if (i == d->self || d->peers[i].found)
				v |= 1u << (i % 4);
		out[k] = hex[v];
	}
	out[k] = '\0';
}

static bool d_have_bit(const char *have, unsigned i)
{
	char c = have[i / 4];
	unsigned v = c >= 'a' ? (unsigned)(c - 'a' + 10) : (unsigned)(c - '0');

	return (v >> (i % 4)) & 1u;
}

/* Starts a request to p now (a slot is free). */
static void d_start(struct dpeer *p)
{
	struct discovery *d = p->d;
	int rc;

	p->attempts++;
	d->attempts_total++;
	p->announce = false;
	rc = d_easy_get(p);
	if (rc < 0) {
		d_fail(p, DISCOVERY_OTHER, "cannot set up a request");
		return;
	}
	/* Relay: tell the peer what we have, so it sends only the rest. */
	rc = snprintf(d->url, d->urlcap, "http://%s:%u/%s?from=%u%s", p->host,
	    (unsigned)d->port, d->relay ? "peers" : "env.json", d->self,
	    d->relay ? "&have=" : "");
	if (rc < 0 || (size_t)rc + (d->relay ? (d->n + 3) / 4 : 0) >=
	    d->urlcap) {
		d_easy_put(p);
		d_fail(p, DISCOVERY_OTHER, "cannot set up a request");
		return;
	}
	if (d->relay)
		d_have_hex(d, d->url + rc);
	if (curl_easy_setopt(p->easy, CURLOPT_URL, d->url) != CURLE_OK) {
		d_easy_put(p);
		d_fail(p, DISCOVERY_OTHER, "cannot set up a request");
		return;
	}
	p->body = malloc(PEERDOC_MAX);
	if (p->body == NULL) {
		d_easy_put(p);
		d_fail(p, DISCOVERY_OTHER, "out of memory");
		return;
	}
	p->len = 0;
	p->toobig = false;
	p->code_checked = p->http_ok = p->got_own = p->bad = false;
	p->lines = 0;
	p->errbuf[0] = '\0';
	if (curlloop_add(d->cl, p->easy) < 0) {
		free(p->body);
		p->body = NULL;
		d_easy_put(p);
		d_fail(p, DISCOVERY_OTHER, "cannot start a request");
		return;
	}
	p->in_flight = true;
	d->inflight++;
}

/* Polls p as soon as a request slot is free. */
static void d_poll(struct dpeer *p)
{
	struct discovery *d = p->d;

	if (d->cancelled || p->found || p->in_flight)
		return;
	if (d->inflight >= d->max_inflight) {
		if (!p->queued)
			d_enqueue(p, false);
		return;
	}
	d_unqueue(p);
	d_start(p);
}

/* Fills the free slots from the queue. */
static void d_pump(struct discovery *d)
{
	struct dpeer *p;

	while (!d->cancelled && d->inflight < d->max_inflight &&
	    (p = d->qhead) != NULL) {
		d_unqueue(p);
		if ((!p->found || p->announce) && !p->in_flight)
			d_start(p);
	}
}

/*
 * Relay, at the first bundle that arrives (from): if it brought every
 * document, the others had all met before we came and now wait only for
 * us. Our document rides on each of our requests, but we would send none
 * more: each of them would learn of us only at its next retry, a second
 * later. So ask every one we have not asked yet, once, all at once (the
 * answers are small: their own documents, which we have).
 */
static void d_announce(struct discovery *d, const struct dpeer *from)
{
	struct dpeer *q;
	unsigned i;

	if (d->announced)
		return;
	d->announced = true;
	if (d->nfound != d->n - 1)
		return;
	d->max_inflight = DISCOVERY_MAX_INFLIGHT;
	for (i = 0; i < d->n; i++) {
		q = &d->peers[i];
		if (i == d->self || q == from || q->in_flight)
			continue;
		q->announce = true;
		d_enqueue(q, false);
	}
}

static enum discovery_reason d_curl_reason(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return DISCOVERY_DNS;
	case CURLE_COULDNT_CONNECT:
		return DISCOVERY_REFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return DISCOVERY_TIMEOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return DISCOVERY_TOOBIG;
	default:
		return DISCOVERY_OTHER;
	}
}

static void d_all_found(struct discovery *d)
{
	if (d->done_called || d->cancelled)
		return;
	d->done_called = true;
	if (d->done != NULL)
		d->done(d->arg);
}

/* t's document is known now; its callback runs from d_deliver. */
static void d_accept(struct dpeer *t, const char *line, size_t len,
    const struct peerdoc *doc, unsigned via)
{
	struct discovery *d = t->d;

	t->line = malloc(len);
	t->fresh = malloc(sizeof(*t->fresh));
	if (t->line == NULL || t->fresh == NULL) {
		free(t->line);
		free(t->fresh);
		t->line = NULL;
		t->fresh = NULL;
		return; /* not found: polled again later */
	}
	memcpy(t->line, line, len);
	t->linelen = len;
	*t->fresh = *doc;
	t->found = true;
	t->via = (int)via;
	d->nfound++;
	d->fresh_q[d->nfresh++] = t->ordinal;
	evloop_timer_cancel(d->loop, t->timer);
	t->timer = 0;
	d_unqueue(t);
}

static int d_line_bad(struct dpeer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int d_line_bad(struct dpeer *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->badmsg, sizeof(p->badmsg), fmt, ap);
	va_end(ap);
	p->bad = true;
	return -1;
}

/* What a document for `ordinal` must match (-1: any ordinal, relayed). */
static struct peerdoc_expect d_expect(const struct discovery *d, int ordinal)
{
	return (struct peerdoc_expect){
	    .ordinal = ordinal,
	    .prefix = d->prefix,
	    .secret = d->secret,
	    .secretlen = d->secretlen,
	};
}

/*
 * One line of p's bundle. Every document in it must be fully valid (MAC
 * under the cluster secret included: that is what makes a relayed document
 * trustworthy); the first bad one aborts the transfer. A document already
 * known byte for byte costs a comparison, not a signature check.
 */
static int d_take_line(struct dpeer *p, const char *line, size_t len)
{
	struct discovery *d = p->d;
	struct peerdoc_expect ex = d_expect(d, -1);
	struct peerdoc doc;
	struct dpeer *t;
	char msg[400];
	long hint;

	if (++p->lines > d->n)
		return d_line_bad(p, "more than %u documents", d->n);
	hint = peerdoc_peek_ordinal(line, len);
	if (hint >= 0 && (unsigned long)hint < d->n) {
		t = &d->peers[hint];
		if (t->found && t->linelen == len &&
		    memcmp(t->line, line, len) == 0) {
			if ((unsigned)hint == p->ordinal)
				p->got_own = true;
			return 0;
		}
	}
	if (peerdoc_parse(line, len, &ex, &doc, msg, sizeof(msg)) < 0)
		return d_line_bad(p, "document %u: %s", p->lines, msg);
	if (doc.ordinal >= d->n)
		return d_line_bad(p, "document %u: ordinal %u is not below "
		    "NODE_NUMBER=%u", p->lines, doc.ordinal, d->n);
	if (doc.ordinal == p->ordinal)
		p->got_own = true;
	if (doc.ordinal == d->self)
		return 0;
	t = &d->peers[doc.ordinal];
	if (!t->found) {
		d_accept(t, line, len, &doc, p->ordinal);
		return 0;
	}
	/* Valid but not the one we have: keep ours, say so once. */
	snprintf(msg, sizeof(msg), "%s relayed another valid document "
	    "(node_id %.16s...) than the one in use (from %s%d)", p->name,
	    doc.node_id, d->prefix, t->via);
	d_conflict(t, msg);
	return 0;
}

/* p is up (it just asked us): poll it now, ahead of the queue. */
static void d_poll_now(struct dpeer *p)
{
	struct discovery *d = p->d;

	if (p->found || p->in_flight)
		return;
	evloop_timer_cancel(d->loop, p->timer);
	p->timer = 0;
	/* It is up now: if this attempt fails, retry soon again. */
	p->backoff_ms = d->backoff_min;
	d_poll(p);
	/* No free slot: it goes first, before peers that may still be down. */
	if (p->queued)
		d_enqueue(p, true);
}

static void d_on_deliver_timer(void *arg);
static void d_deliver(struct discovery *d);

/*
 * t's own document (line, ending '\n'), pushed by t or come with its
 * request, from an address already checked (or relayed under the secret).
 * 0 taken or known, -EPROTO invalid, -ENOMEM.
 */
static int d_offer_take(struct dpeer *t, const char *line, size_t len)
{
	struct discovery *d = t->d;
	struct peerdoc_expect ex = d_expect(d, (int)t->ordinal);
	struct peerdoc parsed;
	char msg[256];
	long id;

	if (t->found && t->linelen == len && memcmp(t->line, line, len) == 0)
		return 0;
	if (peerdoc_parse(line, len, &ex, &parsed, msg, sizeof(msg)) < 0) {
		d_note(t, DISCOVERY_INVALID, msg);
		return -EPROTO;
	}
	if (t->found) {
		snprintf(msg, sizeof(msg), "%s sent its own document (node_id "
		    "%.16s...), not the one in use (from %s%d)", t->name,
		    parsed.node_id, d->prefix, t->via);
		d_conflict(t, msg);
		return 0;
	}
	d_accept(t, line, len, &parsed, t->ordinal);
	if (!t->found)
		return -ENOMEM;
	d->pushed_total++;
	/*
	 * The callbacks (and, once all are known, the configs being written)
	 * run from the loop, after the asker has its answer.
	 */
	if (d->deliver_timer == 0) {
		id = evloop_timer(d->loop, evloop_now(), d_on_deliver_timer, d);
		if (id < 0)
			d_deliver(d);
		else
			d->deliver_timer = id;
	}
	return 0;
}

/* from_ip is where p's name led at our latest lookup of it. */
static bool d_from_peer(const struct dpeer *p, const char *from_ip)
{
	return from_ip != NULL && from_ip[0] != '\0' &&
	    (strcmp(from_ip, p->ip_seen[0]) == 0 ||
		strcmp(from_ip, p->ip_seen[1]) == 0);
}

/*
 * Direct: looks p's name up the way a poll would (the same libcurl
 * resolver and cache), but the transfer stops where it would open a
 * socket (d_open_socket), so no packet leaves. p's pushed document is
 * then taken if it came from where the name leads (d_resolved): one
 * request between two nodes gives each the other's document, so N nodes
 * need about N*(N-1)/2 requests, not N*(N-1). Not a request slot: a
 * lookup has no timeout running while queued behind slow peers.
 */
static int d_resolve(struct dpeer *p)
{
	struct discovery *d = p->d;
	int rc;

	if (d_easy_get(p) < 0)
		return -ENOMEM;
	rc = snprintf(d->url, d->urlcap, "http://%s:%u/", p->host,
	    (unsigned)d->port);
	p->resolving = true;
	p->ip_seen[0][0] = p->ip_seen[1][0] = '\0';
	if (rc < 0 || (size_t)rc >= d->urlcap ||
	    curl_easy_setopt(p->easy, CURLOPT_URL, d->url) != CURLE_OK ||
	    curlloop_add(d->cl, p->easy) < 0) {
		p->resolving = false;
		d_easy_put(p);
		return -EIO;
	}
	p->in_flight = true;
	d->nresolving++;
	return 0;
}

/* p's lookup ended (its handle out of the multi). */
static void d_resolved(struct dpeer *p)
{
	struct discovery *d = p->d;
	char *line = p->offer;
	size_t len = p->offerlen;

	p->resolving = false;
	p->in_flight = false;
	d->nresolving--;
	p->offer = NULL;
	d_easy_put(p);
	if (line != NULL && !p->found && d_from_peer(p, p->offer_ip))
		(void)d_offer_take(p, line, len);
	free(line);
	/* Unless taken (from elsewhere, or no answer for the name): poll it. */
	d_poll_now(p);
}

/* A transfer ended (its easy handle already out of the multi). */
static void d_finish(struct dpeer *p, CURLcode rc)
{
	struct discovery *d = p->d;
	struct peerdoc_expect ex = d_expect(d, (int)p->ordinal);
	struct peerdoc doc;
	enum discovery_reason r;
	char msg[256];
	long code = 0;
	int prc;

	if (p->resolving) {
		d_resolved(p);
		return;
	}
	p->in_flight = false;
	d->inflight--;
	if (p->bad) {
		r = DISCOVERY_INVALID;
		snprintf(msg, sizeof(msg), "%s", p->badmsg);
		goto fail;
	}
	if (rc == CURLE_OK) {
		(void)curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &code);
		if (code != 200) {
			r = DISCOVERY_HTTP;
			snprintf(msg, sizeof(msg), "HTTP %ld", code);
			goto fail;
		}
		if (d->relay) {
			r = DISCOVERY_INVALID;
			if (p->len > 0) {
				snprintf(msg, sizeof(msg), "the last document "
				    "does not end with a newline");
				goto fail;
			}
			if (!p->got_own) {
				snprintf(msg, sizeof(msg), "the answer lacks "
				    "%s's own document", p->name);
				goto fail;
			}
			d_announce(d, p);
			goto done;
		}
		if (p->found)
			goto done; /* relayed meanwhile */
		prc = peerdoc_parse(p->body, p->len, &ex, &doc, msg,
		    sizeof(msg));
		if (prc == -E2BIG) {
			r = DISCOVERY_TOOBIG;
			goto fail;
		}
		if (prc < 0) {
			r = DISCOVERY_INVALID;
			goto fail;
		}
		d_accept(p, p->body, p->len, &doc, p->ordinal);
		goto done;
	}
	if ((rc == CURLE_WRITE_ERROR && p->toobig) ||
	    rc == CURLE_FILESIZE_EXCEEDED) {
		r = DISCOVERY_TOOBIG;
		snprintf(msg, sizeof(msg), "%s larger than %d bytes",
		    d->relay ? "a document" : "answer", PEERDOC_MAX);
		goto fail;
	}
	r = d_curl_reason(rc);
	snprintf(msg, sizeof(msg), "%s",
	    p->errbuf[0] != '\0' ? p->errbuf : curl_easy_strerror(rc));
fail:
	free(p->body);
	p->body = NULL;
	d_easy_put(p);
	d_fail(p, r, msg); /* no retry once found (relayed meanwhile) */
	return;
done:
	free(p->body);
	p->body = NULL;
	d_easy_put(p);
}

/* Runs the found callbacks due, then done once all are known. */
static void d_deliver(struct discovery *d)
{
	struct peerdoc *doc;
	struct dpeer *t;
	unsigned i;

	for (i = 0; i < d->nfresh && !d->cancelled; i++) {
		t = &d->peers[d->fresh_q[i]];
		doc = t->fresh;
		t->fresh = NULL;
		if (doc != NULL && d->found != NULL)
			d->found(d->arg, doc);
		free(doc);
	}
	d->nfresh = 0;
	if (!d->cancelled && d->started && d->nfound == d->n - 1) {
		d_all_found(d);
		d_pool_trim(d);
	}
}

/* A transfer is over (out of the multi handle). */
static void d_transfer_done(void *arg, CURL *e, CURLcode rc)
{
	struct discovery *d = arg;
	struct dpeer *p;
	char *priv = NULL;

	if (d->cancelled)
		return;
	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
	p = (struct dpeer *)(void *)priv;
	if (p != NULL)
		d_finish(p, rc);
}

/* After the transfers that ended together: callbacks due, next requests. */
static void d_batch(void *arg)
{
	struct discovery *d = arg;

	if (d->cancelled)
		return;
	d_deliver(d);
	d_pump(d);
	d_pool_trim(d);
}

/* ---- public ---- */

static void d_on_deliver_timer(void *arg)
{
	struct discovery *d = arg;

	d->deliver_timer = 0;
	d_deliver(d);
}

static void d_on_done_timer(void *arg)
{
	struct discovery *d = arg;

	d->done_timer = 0;
	d_all_found(d);
}

struct discovery *discovery_new(struct evloop *l,
    const struct discovery_config *cfg, discovery_found_cb *found,
    discovery_done_cb *done, void *arg)
{
	struct discovery *d = NULL;
	const char *domain;
	struct curl_slist *sl;
	int err = EINVAL, n;
	size_t i;

	if (l == NULL || cfg == NULL || cfg->prefix == NULL || cfg->n == 0 ||
	    cfg->n > DISCOVERY_MAX_PEERS || cfg->self >= cfg->n ||
	    cfg->port == 0 || strlen(cfg->prefix) >= 60)
		goto fail;
	if (sodium_init() < 0) {
		err = EIO;
		goto fail;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL) {
		err = ENOMEM;
		goto fail;
	}
	d->loop = l;
	snprintf(d->prefix, sizeof(d->prefix), "%s", cfg->prefix);
	d->port = cfg->port;
	d->n = cfg->n;
	d->self = cfg->self;
	d->secret = cfg->secret;
	d->secretlen = cfg->secret != NULL ? cfg->secretlen : 0;
	d->backoff_min = cfg->backoff_min_ms ? cfg->backoff_min_ms
					     : DISCOVERY_DEFAULT_BACKOFF_MIN;
	d->backoff_max = cfg->backoff_max_ms ? cfg->backoff_max_ms
					     : DISCOVERY_DEFAULT_BACKOFF_MAX;
	d->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms
					: DISCOVERY_DEFAULT_TIMEOUT;
	if (d->backoff_min > d->backoff_max)
		goto fail;
	/* A relayed document is trusted for its MAC: no secret, no relay. */
	d->relay = cfg->relay;
	d->max_inflight = d->relay ? DISCOVERY_RELAY_INFLIGHT
				   : DISCOVERY_DIRECT_INFLIGHT;
	if (cfg->max_inflight > DISCOVERY_MAX_INFLIGHT)
		goto fail;
	if (cfg->max_inflight != 0)
		d->max_inflight = cfg->max_inflight;
	if (d->relay && (d->secretlen == 0 || cfg->self_doc == NULL))
		goto fail;
	if (cfg->self_doc != NULL && (cfg->self_len < 2 ||
	    cfg->self_len > PEERDOC_MAX ||
	    cfg->self_doc[cfg->self_len - 1] != '\n' ||
	    memchr(cfg->self_doc, '\n', cfg->self_len - 1) != NULL ||
	    memchr(cfg->self_doc, '\r', cfg->self_len) != NULL))
		goto fail;
	if (cfg->self_doc != NULL) {
		char *h = malloc(cfg->self_len + 16);

		if (h == NULL) {
			err = ENOMEM;
			goto fail;
		}
		memcpy(h, "X-Peerd-Doc: ", 13);
		memcpy(h + 13, cfg->self_doc, cfg->self_len - 1);
		h[13 + cfg->self_len - 1] = '\0';
		d->headers = curl_slist_append(NULL, h);
		free(h);
		if (d->headers == NULL) {
			err = ENOMEM;
			goto fail;
		}
	}
	if (cfg->network != NULL && cfg->network[0] != '\0') {
		char h[96];

		if (strlen(cfg->network) != 66 ||
		    !encoding_is_lowerhex(cfg->network + 2, 64))
			goto fail;
		snprintf(h, sizeof(h), "X-Peerd-Network: %s", cfg->network);
		sl = curl_slist_append(d->headers, h);
		if (sl == NULL) {
			err = ENOMEM;
			goto fail;
		}
		d->headers = sl;
	}
	d->urlcap = DISCOVERY_HOST_MAX + 64 + (cfg->n + 3) / 4 + 1;
	d->url = malloc(d->urlcap);
	if (d->url == NULL) {
		err = ENOMEM;
		goto fail;
	}
	d->found = found;
	d->done = done;
	d->on_error = cfg->on_error;
	d->arg = arg;

	d->peers = calloc(cfg->n, sizeof(*d->peers));
	d->fresh_q = calloc(cfg->n, sizeof(*d->fresh_q));
	if (d->peers == NULL || d->fresh_q == NULL) {
		err = ENOMEM;
		goto fail;
	}
	domain = cfg->domain != NULL ? cfg->domain : "";
	for (i = 0; i < cfg->n; i++) {
		struct dpeer *p = &d->peers[i];

		p->d = d;
		p->ordinal = (unsigned)i;
		p->reason = -1;
		p->via = -1;
		p->backoff_ms = d->backoff_min;
		n = snprintf(p->name, sizeof(p->name), "%s%zu", d->prefix, i);
		if (n < 0 || (size_t)n >= sizeof(p->name))
			goto fail;
		n = snprintf(p->host, sizeof(p->host), "%s%s%s", p->name,
		    domain[0] != '\0' ? "." : "", domain);
		if (n < 0 || (size_t)n >= sizeof(p->host))
			goto fail;
	}
	for (i = 0; cfg->connect_to != NULL && cfg->connect_to[i] != NULL;
	    i++) {
		sl = curl_slist_append(d->connect_to, cfg->connect_to[i]);
		if (sl == NULL) {
			err = ENOMEM;
			goto fail;
		}
		d->connect_to = sl;
	}

	d->cl = curlloop_new(l, d_transfer_done, d_batch, d);
	if (d->cl == NULL) {
		err = errno;
		goto fail;
	}
	return d;

fail:
	discovery_free(d);
	errno = err;
	return NULL;
}

void discovery_cancel(struct discovery *d)
{
	struct dpeer *p;
	size_t i;

	if (d == NULL || d->cancelled)
		return;
	d->cancelled = true;
	for (i = 0; i < d->n; i++) {
		p = &d->peers[i];
		if (p->in_flight) {
			curlloop_remove(d->cl, p->easy);
			p->in_flight = false;
			if (p->resolving)
				d->nresolving--;
			else
				d->inflight--;
			p->resolving = false;
			d_easy_put(p);
		}
		d_unqueue(p);
		free(p->body);
		p->body = NULL;
		free(p->offer);
		p->offer = NULL;
		evloop_timer_cancel(d->loop, p->timer);
		p->timer = 0;
	}
	if (d->cl != NULL)
		curlloop_stop(d->cl);
	evloop_timer_cancel(d->loop, d->done_timer);
	d->done_timer = 0;
	evloop_timer_cancel(d->loop, d->deliver_timer);
	d->deliver_timer = 0;
}

void discovery_free(struct discovery *d)
{
	size_t i;

	if (d == NULL)
		return;
	if (d->peers != NULL) {
		discovery_cancel(d);
		for (i = 0; i < d->n; i++) {
			free(d->peers[i].line);
			free(d->peers[i].fresh);
		}
	}
	while (d->npool > 0)
		curl_easy_cleanup(d->pool[--d->npool]);
	curlloop_free(d->cl);
	curl_slist_free_all(d->connect_to);
	free(d->peers);
	free(d->fresh_q);
	curl_slist_free_all(d->headers);
	free(d->url);
	free(d);
}

/*
 * Relay: every peer queued in a random order (Fisher-Yates), so N nodes
 * starting together do not all ask the same few peers first.
 */
static int d_poll_shuffled(struct discovery *d)
{
	unsigned *order = malloc(d->n * sizeof(*order)), i, k = 0, r, tmp;

	if (order == NULL)
		return -ENOMEM;
	for (i = 0; i < d->n; i++)
		if (i != d->self)
			order[k++] = i;
	for (i = k; i > 1; i--) {
		r = randombytes_uniform(i);
		tmp = order[i - 1];
		order[i - 1] = order[r];
		order[r] = tmp;
	}
	for (i = 0; i < k; i++)
		d_poll(&d->peers[order[i]]);
	free(order);
	return 0;
}

int discovery_start(struct discovery *d)
{
	long id;
	size_t i;

	if (d->started || d->cancelled)
		return -EALREADY;
	d->started = true;
	if (d->n == 1) {
		id = evloop_timer(d->loop, evloop_now(), d_on_done_timer, d);
		if (id < 0)
			return (int)id;
		d->done_timer = id;
		return 0;
	}
	if (!d->relay) {
		/*
		 * Each node asks the ones after it first, cyclically: node i
		 * asks i+k at its k-th request and i+k asks i at its (N-k)-th,
		 * so for most pairs one asks well before the other would and
		 * the asker's pushed document spares the other its request
		 * (discovery_offer). No ordinal is asked by everyone at once.
		 */
		for (i = 1; i < d->n; i++)
			d_poll(&d->peers[(d->self + i) % d->n]);
		return 0;
	}
	return d_poll_shuffled(d);
}

void discovery_hello(struct discovery *d, unsigned ordinal)
{
	if (!d->started || d->cancelled || ordinal >= d->n ||
	    ordinal == d->self)
		return;
	d_poll_now(&d->peers[ordinal]);
}

int discovery_refresh(struct discovery *d, unsigned ordinal)
{
	struct dpeer *p;

	if (!d->started || d->cancelled || ordinal >= d->n ||
	    ordinal == d->self)
		return -EPERM;
	p = &d->peers[ordinal];
	if (p->fresh != NULL)
		return 0; /* just found: its callback is still due */
	if (p->found) {
		free(p->line);
		p->line = NULL;
		p->linelen = 0;
		p->found = false;
		p->via = -1;
		p->conflict_seen = false;
		d->nfound--;
	}
	d_poll_now(p);
	return 0;
}

const char *discovery_peer_network(const struct discovery *d,
    unsigned ordinal)
{
	if (ordinal >= d->n || ordinal == d->self)
		return "";
	return d->peers[ordinal].network;
}

unsigned discovery_found_count(const struct discovery *d)
{
	return d->nfound;
}

/* ---- reports ---- */

/* s as a JSON string; error messages may quote anything a peer sent. */
static int d_append_json_str(char *buf, size_t len, size_t *used,
    const char *s)
{
	int rc = strbuf_appendf(buf, len, used, "\"");
	unsigned char c;

	for (; rc == 0 && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			rc = strbuf_appendf(buf, len, used, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			rc = strbuf_appendf(buf, len, used, "\\u%04x", c);
		else if (c >= 0x80)
			rc = strbuf_appendf(buf, len, used, "?"); /* keep it ASCII */
		else
			rc = strbuf_appendf(buf, len, used, "%c", c);
	}
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used, "\"");
	return rc;
}

static int d_undo(char *buf, size_t len, size_t *used, size_t start, int rc)
{
	if (rc < 0) {
		*used = start;
		if (start < len)
			buf[start] = '\0';
	}
	return rc;
}

int discovery_status_json(const struct discovery *d, char *buf, size_t len,
    size_t *used)
{
	size_t start = *used, i;
	const struct dpeer *p;
	bool first = true;
	int rc;

	rc = strbuf_appendf(buf, len, used, "[");
	for (i = 0; rc == 0 && i < d->n; i++) {
		if (i == d->self)
			continue;
		p = &d->peers[i];
		rc = strbuf_appendf(buf, len, used, "%s{\"ordinal\":%u,\"host\":",
		    first ? "" : ",", p->ordinal);
		if (rc == 0)
			rc = d_append_json_str(buf, len, used, p->host);
		if (rc == 0)
			rc = strbuf_appendf(buf, len, used,
			    ",\"state\":\"%s\",\"in_flight\":%s,"
			    "\"attempts\":%u,",
			    p->found ? "found" : "waiting",
			    p->in_flight ? "true" : "false", p->attempts);
		if (rc == 0 && p->via >= 0)
			rc = strbuf_appendf(buf, len, used, "\"via\":%d,",
			    p->via);
		else if (rc == 0)
			rc = strbuf_appendf(buf, len, used, "\"via\":null,");
		if (rc == 0)
			rc = strbuf_appendf(buf, len, used, "\"reason\":");
		first = false;
		if (rc == 0 && p->reason < 0)
			rc = strbuf_appendf(buf, len, used,
			    "null,\"last_error\":null}");
		else if (rc == 0)
			rc = strbuf_appendf(buf, len, used,
			    "\"%s\",\"last_error\":", reason_names[p->reason]);
		if (rc == 0 && p->reason >= 0)
			rc = d_append_json_str(buf, len, used, p->last_error);
		if (rc == 0 && p->reason >= 0)
			rc = strbuf_appendf(buf, len, used, "}");
	}
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used, "]");
	return d_undo(buf, len, used, start, rc);
}

int discovery_metrics(const struct discovery *d, char *buf, size_t len,
    size_t *used)
{
	size_t start = *used;
	unsigned r;
	int rc;

	rc = strbuf_appendf(buf, len, used,
	    "# HELP peerd_discovery_peers Peers by discovery state (self "
	    "excluded).\n"
	    "# TYPE peerd_discovery_peers gauge\n"
	    "peerd_discovery_peers{state=\"found\"} %u\n"
	    "peerd_discovery_peers{state=\"waiting\"} %u\n"
	    "# HELP peerd_discovery_attempts_total Requests made to peers.\n"
	    "# TYPE peerd_discovery_attempts_total counter\n"
	    "peerd_discovery_attempts_total %lu\n"
	    "# HELP peerd_discovery_pushed_total Peer documents taken from "
	    "the peer's own request (no request to it needed).\n"
	    "# TYPE peerd_discovery_pushed_total counter\n"
	    "peerd_discovery_pushed_total %lu\n"
	    "# HELP peerd_discovery_errors_total Failed requests to peers, by "
	    "reason.\n"
	    "# TYPE peerd_discovery_errors_total counter\n",
	    d->nfound, d->n - 1 - d->nfound, d->attempts_total,
	    d->pushed_total);
	for (r = 0; rc == 0 && r < DISCOVERY_REASONS; r++)
		rc = strbuf_appendf(buf, len, used,
		    "peerd_discovery_errors_total{reason=\"%s\"} %lu\n",
		    reason_names[r], d->errors[r]);
	return d_undo(buf, len, used, start, rc);
}

void discovery_progress(const struct discovery *d, char *buf, size_t len)
{
	/* Room kept for the ", ... (+K more)" tail. */
	const size_t tail = 32;
	size_t used = 0, before, i, shown = 0, waiting = d->n - 1 - d->nfound;
	const struct dpeer *p;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < d->n; i++) {
		p = &d->peers[i];
		if (i == d->self || p->found)
			continue;
		if (len <= tail)
			break;
		before = used;
		if (strbuf_appendf(buf, len - tail, &used, "%s%s",
			shown == 0 ? "waiting for " : ", ", p->name) < 0) {
			used = before;
			buf[used] = '\0';
			break;
		}
		shown++;
	}
	if (shown < waiting)
		(void)strbuf_appendf(buf, len, &used, "%s... (+%zu more)",
		    shown == 0 ? "waiting for " : ", ", waiting - shown);
}

int discovery_bundle(const struct discovery *d, const char *self_doc,
    size_t self_len, const char *have, char **out, size_t *outlen)
{
	size_t total = self_len, i, at;
	const struct dpeer *p;
	char *b;

	*out = NULL;
	*outlen = 0;
	/* A malformed bitmap is ignored: the asker gets everything. */
	if (have != NULL && (strlen(have) != (d->n + 3) / 4 ||
	    strspn(have, "0123456789abcdef") != strlen(have)))
		have = NULL;
	for (i = 0; i < d->n; i++) {
		p = &d->peers[i];
		if (p->found && p->line != NULL &&
		    (have == NULL || !d_have_bit(have, (unsigned)i)))
			total += p->linelen;
	}
	b = malloc(total > 0 ? total : 1);
	if (b == NULL)
		return -ENOMEM;
	memcpy(b, self_doc, self_len);
	at = self_len;
	for (i = 0; i < d->n; i++) {
		p = &d->peers[i];
		if (!p->found || p->line == NULL ||
		    (have != NULL && d_have_bit(have, (unsigned)i)))
			continue;
		memcpy(b + at, p->line, p->linelen);
		at += p->linelen;
	}
	*out = b;
	*outlen = at;
	return 0;
}

int discovery_offer(struct discovery *d, unsigned ordinal, const char *doc,
    size_t len, const char *from_ip)
{
	char line[PEERDOC_MAX + 1];
	struct dpeer *t;

	if (!d->started || d->cancelled || ordinal >= d->n ||
	    ordinal == d->self)
		return -EPERM;
	if (len == 0 || len >= PEERDOC_MAX)
		return -EPROTO;
	t = &d->peers[ordinal];
	memcpy(line, doc, len);
	line[len++] = '\n';
	/*
	 * Without relay the trust is a direct fetch's: a document is node
	 * i's if it comes from where the name <prefix>i leads. A pushed one
	 * counts from the address that name led to at our latest lookup;
	 * from any other, the name is looked up again first (unless a poll
	 * of it is on the wire: its answer brings the document).
	 */
	if (!d->relay && !d_from_peer(t, from_ip)) {
		if (t->resolving)
			return -EINPROGRESS;
		/* At most 32 lookups at once: each holds a handle (74 KB). */
		if (from_ip == NULL || from_ip[0] == '\0' || t->found ||
		    t->in_flight || strlen(from_ip) >= sizeof(t->offer_ip) ||
		    d->nresolving >= DISCOVERY_MAX_INFLIGHT)
			return -EACCES;
		t->offer = malloc(len);
		if (t->offer == NULL)
			return -ENOMEM;
		memcpy(t->offer, line, len);
		t->offerlen = len;
		memcpy(t->offer_ip, from_ip, strlen(from_ip) + 1);
		if (d_resolve(t) < 0) {
			free(t->offer);
			t->offer = NULL;
			return -EACCES;
		}
		return -EINPROGRESS;
	}
	return d_offer_take(t, line, len);
}
