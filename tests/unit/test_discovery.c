/*
 * discovery against fake peers: real http_server instances (and raw
 * sockets) on ephemeral 127.0.0.1 ports, reached through CONNECT_TO, all on
 * one evloop in this thread. Documents are real: signed by peerdoc_sign and
 * checked by peerdoc_parse.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "peerd/discovery.h"
#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/evloop.h"
#include "peerd/http_server.h"
#include "peerd/peerdoc.h"

/* Ceiling for any wait: only reached when something is broken. */
#define WAIT_MAX_MS 10000
#define MAXPEERS 8

static const uint8_t secret[] = "correct horse battery staple";

enum mode {
	SERVE_VALID,
	SERVE_GARBAGE_THEN_VALID, /* garbage, wrong ordinal, wrong mac */
	SERVE_503_THEN_VALID,
	SERVE_TOOBIG,
	SERVE_BUNDLE, /* /peers: the lines in bundle[] */
};

struct fake {
	struct http_server *srv;
	enum mode mode;
	unsigned ordinal;
	unsigned requests;
	int last_from;
	bool with_secret;
	char bundle[MAXPEERS * PEERDOC_MAX];
	char last_have[64];
	char last_doc[PEERDOC_MAX];
};

struct world {
	struct evloop *loop;
	struct discovery *d;
	struct fake fakes[MAXPEERS];
	unsigned found[MAXPEERS];
	unsigned found_total;
	char found_name[MAXPEERS][64];
	unsigned done;
	unsigned errors[MAXPEERS][DISCOVERY_REASONS];
	char connect_to[MAXPEERS][64];
	const char *ct[MAXPEERS + 1];
	unsigned nct;
	int raw_fd; /* a listener that never accepts */
	int late_port;
	bool cancel_in_found;
};

/* ---- documents ---- */

/* Node `ordinal`'s document under key byte `kb` (ordinal + 1 = its own). */
static void make_doc_key(unsigned ordinal, int kb, const uint8_t *sec,
    size_t seclen, char *json, size_t jsonlen)
{
	uint8_t key[32], pub[64], addr[20], tm[32];
	struct peerdoc doc;
	size_t written;

	memset(key, kb, sizeof(key));
	memset(tm, (int)(ordinal + 0x40), sizeof(tm));
	assert_int_equal(ethkey_pubkey(key, pub), 0);
	ethkey_address(pub, addr);

	memset(&doc, 0, sizeof(doc));
	doc.ordinal = ordinal;
	snprintf(doc.name, sizeof(doc.name), "quorum-%u", ordinal);
	snprintf(doc.host, sizeof(doc.host), "quorum-%u", ordinal);
	snprintf(doc.ip, sizeof(doc.ip), "127.0.0.1");
	encoding_hex(doc.node_id, pub, sizeof(pub));
	ethkey_checksum_hex(addr, doc.account);
	encoding_base64(doc.tm_pub, sizeof(doc.tm_pub), tm, sizeof(tm));
	doc.p2p_port = 30303;
	doc.raft_port = 50400;
	snprintf(doc.enode, sizeof(doc.enode),
	    "enode://%s@127.0.0.1:30303?discport=0&raftport=50400",
	    doc.node_id);
	snprintf(doc.tm_url, sizeof(doc.tm_url), "http://127.0.0.1:9000/");
	assert_int_equal(peerdoc_sign(&doc, key, sec, seclen), 0);
	assert_int_equal(peerdoc_to_json(&doc, json, jsonlen, &written), 0);
	assert_true(written < jsonlen);
}

static void make_doc(unsigned ordinal, const uint8_t *sec, size_t seclen,
    char *json, size_t jsonlen)
{
	make_doc_key(ordinal, (int)(ordinal + 1), sec, seclen, json, jsonlen);
}

/* ---- fake peers ---- */

static int fake_handler(void *arg, const struct http_request *req,
    struct http_response *resp)
{
	const char *path = req->path;
	int from = req->from;
	struct fake *f = arg;
	char json[PEERDOC_MAX];
	const uint8_t wrong[] = "wrong";
	unsigned n = ++f->requests;
	const uint8_t *sec = f->with_secret ? secret : NULL;
	size_t seclen = f->with_secret ? sizeof(secret) - 1 : 0;

	f->last_from = from;
	snprintf(f->last_have, sizeof(f->last_have), "%s",
	    req->have != NULL ? req->have : "");
	snprintf(f->last_doc, sizeof(f->last_doc), "%s",
	    req->doc != NULL ? req->doc : "");
	if (f->mode == SERVE_BUNDLE) {
		assert_string_equal(path, "/peers");
		resp->body = strdup(f->bundle);
		resp->len = strlen(f->bundle);
		return 0;
	}
	assert_string_equal(path, "/env.json");
	switch (f->mode) {
	case SERVE_GARBAGE_THEN_VALID:
		if (n == 1) {
			resp->body = strdup("{\"v\":1, \"name\":\"\\\"oops");
			resp->len = strlen(resp->body);
			return 0;
		}
		if (n == 2) /* a valid document, of another node */
			make_doc(f->ordinal + 1, sec, seclen, json,
			    sizeof(json));
		else if (n == 3 && sec != NULL) /* MACed under another secret */
			make_doc(f->ordinal, wrong, sizeof(wrong) - 1, json,
			    sizeof(json));
		else
			make_doc(f->ordinal, sec, seclen, json, sizeof(json));
		break;
	case SERVE_503_THEN_VALID:
		if (n == 1) {
			resp->code = 503;
			resp->body = strdup("starting\n");
			resp->len = strlen(resp->body);
			return 0;
		}
		make_doc(f->ordinal, sec, seclen, json, sizeof(json));
		break;
	case SERVE_TOOBIG:
		resp->len = PEERDOC_MAX + 100;
		resp->body = malloc(resp->len);
		memset(resp->body, ' ', resp->len);
		return 0;
	case SERVE_VALID:
	default:
		make_doc(f->ordinal, sec, seclen, json, sizeof(json));
		break;
	}
	resp->content_type = "application/json";
	resp->body = strdup(json);
	resp->len = strlen(json);
	return 0;
}

static const char *const fake_paths[] = {"/env.json", "/peers", NULL};

static void fake_start(struct world *w, unsigned i, enum mode mode,
    uint16_t port, bool with_secret)
{
	struct http_server_config cfg = {
	    .bind_addr = "127.0.0.1", .port = port, .paths = fake_paths};
	struct fake *f = &w->fakes[i];

	f->mode = mode;
	f->ordinal = i;
	f->last_from = -2;
	f->with_secret = with_secret;
	f->srv = http_server_new(w->loop, &cfg, fake_handler, f);
	assert_non_null(f->srv);
}

/* A port nobody listens on (yet): bind, read it back, close. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	return ntohs(sin.sin_port);
}

/* A listener that completes handshakes (kernel) but never answers. */
static uint16_t mute_listener(struct world *w)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	w->raw_fd = fd;
	return ntohs(sin.sin_port);
}

static void map_peer(struct world *w, unsigned i, uint16_t port)
{
	snprintf(w->connect_to[i], sizeof(w->connect_to[i]),
	    "quorum-%u:80:127.0.0.1:%u", i, (unsigned)port);
	/* Kept compact: the list ends at its first NULL. */
	w->ct[w->nct++] = w->connect_to[i];
}

/* ---- discovery callbacks ---- */

static void on_found(void *arg, const struct peerdoc *doc)
{
	struct world *w = arg;

	assert_true(doc->ordinal < MAXPEERS);
	w->found[doc->ordinal]++;
	w->found_total++;
	snprintf(w->found_name[doc->ordinal], sizeof(w->found_name[0]), "%s",
	    doc->name);
	if (w->cancel_in_found)
		discovery_cancel(w->d);
}

static void on_done(void *arg)
{
	struct world *w = arg;

	w->done++;
}

static void on_error(void *arg, unsigned ordinal, enum discovery_reason r,
    const char *msg)
{
	struct world *w = arg;

	assert_true(ordinal < MAXPEERS);
	assert_true((unsigned)r < DISCOVERY_REASONS);
	assert_non_null(msg);
	assert_true(msg[0] != '\0');
	w->errors[ordinal][r]++;
}

static struct world *world_new(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->loop = evloop_new();
	assert_non_null(w->loop);
	w->raw_fd = -1;
	return w;
}

static void world_free(struct world *w)
{
	unsigned i;

	discovery_free(w->d);
	for (i = 0; i < MAXPEERS; i++)
		http_server_free(w->fakes[i].srv);
	if (w->raw_fd >= 0)
		close(w->raw_fd);
	evloop_free(w->loop);
	free(w);
}

static void discovery_make(struct world *w, unsigned n, unsigned self,
    const struct discovery_config *extra)
{
	struct discovery_config cfg = {
	    .prefix = "quorum-",
	    .domain = "",
	    .port = 80,
	    .n = n,
	    .self = self,
	    .backoff_min_ms = 20,
	    .backoff_max_ms = 100,
	    .timeout_ms = 2000,
	    .on_error = on_error,
	    .connect_to = w->ct,
	};

	if (extra != NULL) {
		cfg.secret = extra->secret;
		cfg.secretlen = extra->secretlen;
		cfg.relay = extra->relay;
		cfg.self_doc = extra->self_doc;
		cfg.self_len = extra->self_len;
		if (extra->backoff_min_ms)
			cfg.backoff_min_ms = extra->backoff_min_ms;
		if (extra->backoff_max_ms)
			cfg.backoff_max_ms = extra->backoff_max_ms;
		if (extra->timeout_ms)
			cfg.timeout_ms = extra->timeout_ms;
		cfg.max_inflight = extra->max_inflight;
	}
	w->d = discovery_new(w->loop, &cfg, on_found, on_done, w);
	assert_non_null(w->d);
}

/* Runs the loop until *flag reaches want (or the ceiling). */
static void run_until(struct world *w, const unsigned *flag, unsigned want)
{
	uint64_t end = evloop_now() + WAIT_MAX_MS;

	while (*flag < want && evloop_now() < end)
		assert_int_equal(evloop_run_once(w->loop, 50), 0);
	assert_int_equal(*flag, want);
}

static void run_for(struct world *w, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (evloop_now() < end)
		assert_int_equal(evloop_run_once(w->loop, 10), 0);
}

static cJSON *status_of(struct world *w)
{
	char buf[8192];
	size_t used = 0;
	cJSON *j;

	assert_int_equal(discovery_status_json(w->d, buf, sizeof(buf), &used),
	    0);
	assert_int_equal(used, strlen(buf));
	j = cJSON_Parse(buf);
	assert_non_null(j);
	assert_true(cJSON_IsArray(j));
	return j;
}

static cJSON *status_peer(cJSON *arr, unsigned ordinal)
{
	cJSON *it;

	cJSON_ArrayForEach(it, arr)
	{
		cJSON *o = cJSON_GetObjectItemCaseSensitive(it, "ordinal");

		if (cJSON_IsNumber(o) && o->valueint == (int)ordinal)
			return it;
	}
	fail_msg("peer %u not in status", ordinal);
	return NULL;
}

static const char *jstr(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	assert_true(cJSON_IsNumber(v));
	return v->valueint;
}

static unsigned long metric(struct discovery *d, const char *name)
{
	char buf[4096], *p;
	size_t used = 0;

	assert_int_equal(discovery_metrics(d, buf, sizeof(buf), &used), 0);
	/* The sample line: the name at a line's start (not in # HELP). */
	for (p = strstr(buf, name); p != NULL && p != buf && p[-1] != '\n';
	     p = strstr(p + 1, name))
		;
	assert_non_null(p);
	p += strlen(name);
	assert_true(*p == ' ');
	return strtoul(p + 1, NULL, 10);
}

/* ---- tests ---- */

static void start_late_peer(void *arg)
{
	struct world *w = arg;

	fake_start(w, 1, SERVE_VALID, (uint16_t)w->late_port, true);
}

/*
 * self 0; peer 1 comes up late (refused first), peer 2 serves garbage, a
 * document of another node and one MACed under another secret before its
 * own; peer 3 answers at once.
 */
static void test_finds_every_peer_once(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {
	    .secret = secret, .secretlen = sizeof(secret) - 1};
	char line[256];
	cJSON *st, *p;
	unsigned i, req[MAXPEERS];

	(void)state;
	w->late_port = free_port();
	map_peer(w, 1, (uint16_t)w->late_port);
	fake_start(w, 2, SERVE_GARBAGE_THEN_VALID, 0, true);
	map_peer(w, 2, http_server_port(w->fakes[2].srv));
	fake_start(w, 3, SERVE_VALID, 0, true);
	map_peer(w, 3, http_server_port(w->fakes[3].srv));
	discovery_make(w, 4, 0, &extra);
	assert_true(evloop_timer(w->loop, evloop_now() + 300, start_late_peer,
			w) > 0);

	assert_int_equal(discovery_start(w->d), 0);
	assert_int_equal(discovery_start(w->d), -EALREADY);
	discovery_progress(w->d, line, sizeof(line));
	assert_string_equal(line, "waiting for quorum-1, quorum-2, quorum-3");
	run_until(w, &w->done, 1);

	for (i = 1; i < 4; i++) {
		assert_int_equal(w->found[i], 1);
		assert_int_equal(w->fakes[i].last_from, 0); /* the hello */
	}
	assert_string_equal(w->found_name[2], "quorum-2");
	assert_int_equal(w->found[0], 0);
	assert_int_equal(discovery_found_count(w->d), 3);
	assert_int_equal(w->fakes[2].requests, 4);
	assert_int_equal(w->fakes[3].requests, 1);

	/* Each reason reported once per peer, however often it happened. */
	assert_int_equal(w->errors[1][DISCOVERY_REFUSED], 1);
	assert_int_equal(w->errors[2][DISCOVERY_INVALID], 1);
	assert_int_equal(w->errors[3][DISCOVERY_INVALID], 0);
	assert_true(metric(w->d,
			"peerd_discovery_errors_total{reason=\"refused\"}") >=
		    1);
	assert_int_equal(
	    metric(w->d, "peerd_discovery_errors_total{reason=\"invalid\"}"),
	    3);
	assert_int_equal(
	    metric(w->d, "peerd_discovery_peers{state=\"found\"}"), 3);
	assert_int_equal(
	    metric(w->d, "peerd_discovery_peers{state=\"waiting\"}"), 0);

	/* Found peers are not polled again; done does not fire twice. */
	for (i = 1; i < 4; i++)
		req[i] = w->fakes[i].requests;
	run_for(w, 300);
	for (i = 1; i < 4; i++) {
		assert_int_equal(w->fakes[i].requests, req[i]);
		assert_int_equal(w->found[i], 1);
	}
	assert_int_equal(w->done, 1);

	st = status_of(w);
	assert_int_equal(cJSON_GetArraySize(st), 3);
	for (i = 1; i < 4; i++) {
		p = status_peer(st, i);
		assert_string_equal(jstr(p, "state"), "found");
		assert_true(jint(p, "attempts") >= 1);
	}
	p = status_peer(st, 2);
	assert_int_equal(jint(p, "attempts"), 4);
	assert_string_equal(jstr(p, "reason"), "invalid");
	assert_string_equal(jstr(p, "host"), "quorum-2");
	assert_true(cJSON_IsNull(
	    cJSON_GetObjectItemCaseSensitive(status_peer(st, 3), "reason")));
	cJSON_Delete(st);

	discovery_progress(w->d, line, sizeof(line));
	assert_string_equal(line, "");
	world_free(w);
}

/* A peer that never answers keeps done() from firing. */
static void test_silent_peer_blocks_done(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {.timeout_ms = 100};
	char line[256];
	cJSON *st, *p;

	(void)state;
	fake_start(w, 0, SERVE_VALID, 0, false);
	map_peer(w, 0, http_server_port(w->fakes[0].srv));
	map_peer(w, 2, mute_listener(w));
	discovery_make(w, 3, 1, &extra);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[2][DISCOVERY_TIMEOUT], 1);
	run_for(w, 300);

	assert_int_equal(w->found[0], 1);
	assert_int_equal(w->fakes[0].last_from, 1);
	assert_int_equal(w->done, 0);
	assert_int_equal(discovery_found_count(w->d), 1);
	assert_int_equal(w->errors[2][DISCOVERY_TIMEOUT], 1);

	st = status_of(w);
	assert_int_equal(cJSON_GetArraySize(st), 2);
	p = status_peer(st, 2);
	assert_string_equal(jstr(p, "state"), "waiting");
	assert_true(jint(p, "attempts") > 1);
	assert_string_equal(jstr(p, "reason"), "timeout");
	assert_non_null(jstr(p, "last_error"));
	assert_string_equal(jstr(status_peer(st, 0), "state"), "found");
	cJSON_Delete(st);
	assert_true(metric(w->d,
			"peerd_discovery_errors_total{reason=\"timeout\"}") >=
		    2);
	assert_int_equal(
	    metric(w->d, "peerd_discovery_peers{state=\"waiting\"}"), 1);

	discovery_progress(w->d, line, sizeof(line));
	assert_string_equal(line, "waiting for quorum-2");
	world_free(w);
}

/*
 * Easy handles pass from peer to peer (a pool of those in flight): six
 * peers refuse a few times each, with jittered retries, so a handle last
 * used for one serves another. Each peer's /status error must still be its
 * own (curl's message names the port it could not reach), and once they
 * are up each is found as itself, once.
 */
static void test_reused_handles_keep_peers_apart(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {
	    .secret = secret, .secretlen = sizeof(secret) - 1};
	uint16_t port[7];
	char want[32];
	cJSON *st;
	const char *e;
	unsigned i, k;

	(void)state;
	for (i = 1; i < 7; i++) {
		port[i] = free_port();
		map_peer(w, i, port[i]);
	}
	discovery_make(w, 7, 0, &extra);
	assert_int_equal(discovery_start(w->d), 0);
	/* Until each has been tried four times. */
	for (k = 0; k < WAIT_MAX_MS / 10; k++) {
		unsigned least = ~0u, a;

		st = status_of(w);
		for (i = 1; i < 7; i++) {
			a = (unsigned)jint(status_peer(st, i), "attempts");
			least = a < least ? a : least;
		}
		cJSON_Delete(st);
		if (least >= 4)
			break;
		run_for(w, 10);
	}
	st = status_of(w);
	for (i = 1; i < 7; i++) {
		e = jstr(status_peer(st, i), "last_error");
		assert_non_null(e);
		snprintf(want, sizeof(want), "port %u ", (unsigned)port[i]);
		if (strstr(e, want) == NULL)
			fail_msg("quorum-%u: \"%s\" lacks \"%s\"", i, e, want);
	}
	cJSON_Delete(st);
	for (i = 1; i < 7; i++)
		fake_start(w, i, SERVE_VALID, port[i], true);
	run_until(w, &w->done, 1);
	for (i = 1; i < 7; i++) {
		assert_int_equal(w->found[i], 1);
		snprintf(want, sizeof(want), "quorum-%u", i);
		assert_string_equal(w->found_name[i], want);
	}
	world_free(w);
}

/* TCP sockets to or from 127.0.0.1:port in TIME_WAIT (/proc/net/tcp). */
static unsigned time_waits(uint16_t port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512], local[64], remote[64];
	unsigned st, n = 0, lport, rport;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, " %*u: %63s %63s %x", local, remote, &st) != 3)
			continue;
		if (sscanf(local, "%*8s:%x", &lport) != 1 ||
		    sscanf(remote, "%*8s:%x", &rport) != 1)
			continue;
		if (st == 0x06 && (lport == port || rport == port))
			n++;
	}
	fclose(f);
	return n;
}

/*
 * A request's connection ends with a reset once its answer is read: a
 * node making hundreds of one-answer requests leaves no TIME_WAIT behind
 * (with a FIN exchange, the closing side's socket waits a minute).
 */
static void test_requests_leave_no_time_wait(void **state)
{
	struct world *w = world_new();
	uint16_t port;

	(void)state;
	fake_start(w, 1, SERVE_VALID, 0, false);
	port = http_server_port(w->fakes[1].srv);
	map_peer(w, 1, port);
	discovery_make(w, 2, 0, NULL);
	assert_int_equal(time_waits(port), 0);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->done, 1);
	/* Let the server see the close too. */
	run_for(w, 100);
	assert_int_equal(w->fakes[1].requests, 1);
	assert_int_equal(time_waits(port), 0);
	world_free(w);
}

/*
 * The backoff is a minute: only the hello can explain a second request
 * within the test's ceiling.
 */
static void test_hello_polls_now(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {
	    .backoff_min_ms = 60000, .backoff_max_ms = 60000};
	cJSON *st;

	(void)state;
	fake_start(w, 1, SERVE_503_THEN_VALID, 0, false);
	map_peer(w, 1, http_server_port(w->fakes[1].srv));
	discovery_make(w, 2, 0, &extra);

	discovery_hello(w->d, 1); /* before start: ignored */
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[1][DISCOVERY_HTTP], 1);
	run_for(w, 100);
	assert_int_equal(w->fakes[1].requests, 1);
	assert_int_equal(w->found[1], 0);

	discovery_hello(w->d, 0);  /* self: ignored */
	discovery_hello(w->d, 7);  /* out of range: ignored */
	discovery_hello(w->d, 1);
	discovery_hello(w->d, 1); /* already in flight: no second request */
	run_until(w, &w->done, 1);
	assert_int_equal(w->found[1], 1);
	assert_int_equal(w->fakes[1].requests, 2);

	st = status_of(w);
	assert_int_equal(jint(status_peer(st, 1), "attempts"), 2);
	assert_string_equal(jstr(status_peer(st, 1), "last_error"), "HTTP 503");
	cJSON_Delete(st);

	discovery_hello(w->d, 1); /* found: ignored */
	run_for(w, 100);
	assert_int_equal(w->fakes[1].requests, 2);
	world_free(w);
}

static void test_oversized_answer_is_toobig(void **state)
{
	struct world *w = world_new();
	unsigned req;
	cJSON *st;

	(void)state;
	fake_start(w, 1, SERVE_TOOBIG, 0, false);
	map_peer(w, 1, http_server_port(w->fakes[1].srv));
	discovery_make(w, 2, 0, NULL);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[1][DISCOVERY_TOOBIG], 1);
	assert_int_equal(w->errors[1][DISCOVERY_INVALID], 0);
	assert_int_equal(w->found[1], 0);
	st = status_of(w);
	assert_string_equal(jstr(status_peer(st, 1), "reason"), "toobig");
	cJSON_Delete(st);

	/* Cancel: no request, no callback after it. */
	discovery_cancel(w->d);
	req = w->fakes[1].requests;
	run_for(w, 300);
	assert_int_equal(w->fakes[1].requests, req);
	assert_int_equal(w->done, 0);
	discovery_hello(w->d, 1);
	run_for(w, 100);
	assert_int_equal(w->fakes[1].requests, req);
	world_free(w);
}

/* Without the connection's Content-Length only the write cap stops it. */
static void serve_unsized(void *arg, int fd, uint32_t revents)
{
	struct world *w = arg;
	static char big[PEERDOC_MAX * 2];
	const char hdr[] = "HTTP/1.0 200 OK\r\nContent-Type: "
			   "application/json\r\n\r\n";
	int c;

	(void)revents;
	c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return;
	memset(big, 'x', sizeof(big));
	/* Loopback buffers hold this at once; a short write just ends it. */
	(void)send(c, hdr, sizeof(hdr) - 1, MSG_NOSIGNAL);
	(void)send(c, big, sizeof(big), MSG_NOSIGNAL);
	close(c);
	w->fakes[1].requests++;
}

static void test_unsized_oversized_answer_is_toobig(void **state)
{
	struct world *w = world_new();

	(void)state;
	map_peer(w, 1, mute_listener(w));
	assert_int_equal(evloop_watch(w->loop, w->raw_fd, EPOLLIN,
			     serve_unsized, w),
	    0);
	discovery_make(w, 2, 0, NULL);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[1][DISCOVERY_TOOBIG], 1);
	assert_int_equal(w->found[1], 0);
	discovery_free(w->d);
	w->d = NULL;
	evloop_unwatch(w->loop, w->raw_fd);
	world_free(w);
}

static void test_cancel_inside_found(void **state)
{
	struct world *w = world_new();

	(void)state;
	fake_start(w, 1, SERVE_VALID, 0, false);
	map_peer(w, 1, http_server_port(w->fakes[1].srv));
	fake_start(w, 2, SERVE_VALID, 0, false);
	map_peer(w, 2, http_server_port(w->fakes[2].srv));
	w->cancel_in_found = true;
	discovery_make(w, 3, 0, NULL);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->found_total, 1);
	/* Whichever came first cancelled the other. */
	run_for(w, 200);
	assert_int_equal(w->found_total, 1);
	assert_int_equal(w->found[1] + w->found[2], 1);
	assert_int_equal(w->done, 0);
	world_free(w);
}

static void test_alone_done_from_loop(void **state)
{
	struct world *w = world_new();
	char line[64];

	(void)state;
	discovery_make(w, 1, 0, NULL);
	assert_int_equal(discovery_start(w->d), 0);
	assert_int_equal(w->done, 0); /* not synchronously */
	assert_int_equal(evloop_run_once(w->loop, 1000), 0);
	assert_int_equal(w->done, 1);
	discovery_progress(w->d, line, sizeof(line));
	assert_string_equal(line, "");
	world_free(w);
}

static void test_bad_config(void **state)
{
	struct evloop *l = evloop_new();
	struct discovery_config cfg = {
	    .prefix = "quorum-", .port = 80, .n = 3, .self = 3};
	char longdom[300];

	(void)state;
	assert_non_null(l);
	errno = 0;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.self = 0;
	cfg.port = 0;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	cfg.port = 80;
	cfg.n = 1025;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	cfg.n = 3;
	memset(longdom, 'a', sizeof(longdom) - 1);
	longdom[sizeof(longdom) - 1] = '\0';
	cfg.domain = longdom;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.domain = "ns.svc";
	cfg.backoff_min_ms = 500;
	cfg.backoff_max_ms = 100;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	discovery_free(NULL);
	evloop_free(l);
}

static void test_progress_truncates(void **state)
{
	struct evloop *l = evloop_new();
	struct discovery_config cfg = {
	    .prefix = "quorum-", .port = 80, .n = 100, .self = 0};
	struct discovery *d;
	char line[96];

	(void)state;
	d = discovery_new(l, &cfg, on_found, on_done, NULL);
	assert_non_null(d);
	discovery_progress(d, line, sizeof(line));
	assert_string_equal(line, "waiting for quorum-1, quorum-2, quorum-3, "
				  "quorum-4, quorum-5, ... (+94 more)");
	/* Not even one name fits. */
	discovery_progress(d, line, 30);
	assert_string_equal(line, "waiting for ... (+99 more)");
	discovery_progress(d, line, 1);
	assert_string_equal(line, "");
	discovery_free(d);
	evloop_free(l);
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(discovery_reason_name(DISCOVERY_DNS), "dns");
	assert_string_equal(discovery_reason_name(DISCOVERY_TOOBIG), "toobig");
	assert_string_equal(discovery_reason_name(DISCOVERY_REASONS), "other");
}

/* ---- relay (with the cluster secret) ---- */

static char self_doc[PEERDOC_MAX];

static void relay_extra(struct discovery_config *x)
{
	memset(x, 0, sizeof(*x));
	make_doc(0, secret, sizeof(secret) - 1, self_doc, sizeof(self_doc));
	x->secret = secret;
	x->secretlen = sizeof(secret) - 1;
	x->relay = true;
	x->self_doc = self_doc;
	x->self_len = strlen(self_doc);
}

/* Appends node `ordinal`'s document (key byte kb, MAC under sec) to what
 * fake f serves at /peers. */
static void bundle_add(struct fake *f, unsigned ordinal, int kb,
    const char *sec)
{
	char json[PEERDOC_MAX];

	make_doc_key(ordinal, kb, (const uint8_t *)sec, strlen(sec), json,
	    sizeof(json));
	assert_true(strlen(f->bundle) + strlen(json) < sizeof(f->bundle));
	strcat(f->bundle, json);
}

/* Fake peer 1 serving a bundle; the others of n unreachable (refused). */
static struct fake *relay_world(struct world *w, unsigned n)
{
	unsigned i;

	fake_start(w, 1, SERVE_BUNDLE, 0, true);
	map_peer(w, 1, http_server_port(w->fakes[1].srv));
	for (i = 2; i < n; i++)
		map_peer(w, i, free_port());
	return &w->fakes[1];
}

/*
 * Only peer 1 can be reached; its bundle brings 2 and 3 as well, so done
 * fires without any request to them. The request carried our document and
 * the have= bitmap.
 */
static void test_relay_bundle_finds_all(void **state)
{
	struct world *w = world_new();
	struct discovery_config x;
	char want[PEERDOC_MAX];
	struct fake *f;
	cJSON *st;
	unsigned i;

	(void)state;
	relay_extra(&x);
	f = relay_world(w, 4);
	for (i = 1; i < 4; i++)
		bundle_add(f, i, (int)i + 1, (const char *)secret);
	discovery_make(w, 4, 0, &x);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->done, 1);
	for (i = 1; i < 4; i++)
		assert_int_equal(w->found[i], 1);
	assert_int_equal(w->fakes[1].last_from, 0);
	/* Only self known when it asked: bit 0 of nibble 0. */
	assert_string_equal(w->fakes[1].last_have, "1");
	memcpy(want, self_doc, strlen(self_doc) - 1);
	want[strlen(self_doc) - 1] = '\0';
	assert_string_equal(w->fakes[1].last_doc, want);
	st = status_of(w);
	assert_int_equal(jint(status_peer(st, 1), "via"), 1);
	assert_int_equal(jint(status_peer(st, 2), "via"), 1);
	assert_int_equal(jint(status_peer(st, 3), "via"), 1);
	cJSON_Delete(st);
	world_free(w);
}

/*
 * Peers 1..n-1 all reachable, each serving /peers: the whole network but
 * node 0 (whole) or only its own document. Then node 0 starts.
 */
static void relay_start_all(struct world *w, unsigned n, bool whole)
{
	struct discovery_config x;
	unsigned i, k;

	relay_extra(&x);
	for (i = 1; i < n; i++) {
		fake_start(w, i, SERVE_BUNDLE, 0, true);
		map_peer(w, i, http_server_port(w->fakes[i].srv));
		for (k = 1; k < n; k++)
			if (whole || k == i)
				bundle_add(&w->fakes[i], k, (int)k + 1,
				    (const char *)secret);
	}
	discovery_make(w, n, 0, &x);
	assert_int_equal(discovery_start(w->d), 0);
}

/*
 * Relay, a late node (0 of 7): every other one serves the whole network
 * but 0. The first answer brings everything, so 0 asks each peer it has
 * not asked yet, once, carrying its document: none of them is left to
 * learn of it at its next retry. Four go out first; the two asked only by
 * the announcement prove it.
 */
static void test_relay_late_node_announces(void **state)
{
	struct world *w = world_new();
	char want[PEERDOC_MAX];
	unsigned i, k;

	(void)state;
	relay_start_all(w, 7, true);
	run_until(w, &w->done, 1);
	memcpy(want, self_doc, strlen(self_doc) - 1);
	want[strlen(self_doc) - 1] = '\0';
	for (k = 0; k < WAIT_MAX_MS / 10; k++) {
		unsigned asked = 0;

		for (i = 1; i < 7; i++)
			asked += w->fakes[i].requests > 0;
		if (asked == 6)
			break;
		run_for(w, 10);
	}
	for (i = 1, k = 0; i < 7; i++) {
		assert_int_equal(w->fakes[i].requests, 1);
		assert_int_equal(w->fakes[i].last_from, 0);
		assert_string_equal(w->fakes[i].last_doc, want);
		assert_int_equal(w->found[i], 1);
		/* The first four knew only 0; the announced, everything. */
		if (strcmp(w->fakes[i].last_have, "f7") == 0)
			k++;
		else
			assert_string_equal(w->fakes[i].last_have, "10");
	}
	assert_int_equal(k, 2);
	run_for(w, 50);
	for (i = 1; i < 7; i++)
		assert_int_equal(w->fakes[i].requests, 1);
	world_free(w);
}

/*
 * Not late: the first answer brings only its sender's document, so there
 * is nothing to announce; each peer is asked once, as it is found.
 */
static void test_relay_no_announce_when_not_late(void **state)
{
	struct world *w = world_new();
	unsigned i;

	(void)state;
	relay_start_all(w, 7, false);
	run_until(w, &w->done, 1);
	run_for(w, 100);
	for (i = 1; i < 7; i++) {
		assert_int_equal(w->fakes[i].requests, 1);
		assert_int_equal(w->found[i], 1);
	}
	world_free(w);
}

/*
 * A document MACed under another secret stops the bundle there: what came
 * before it is kept, nothing after it is used, and the peer is retried.
 */
static void test_relay_bad_line_stops(void **state)
{
	struct world *w = world_new();
	struct discovery_config x;
	struct fake *f;

	(void)state;
	relay_extra(&x);
	f = relay_world(w, 4);
	bundle_add(f, 1, 2, (const char *)secret);
	bundle_add(f, 2, 3, "wrong");
	bundle_add(f, 3, 4, (const char *)secret);
	discovery_make(w, 4, 0, &x);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[1][DISCOVERY_INVALID], 1);
	run_for(w, 200);
	assert_int_equal(w->found[1], 1);
	assert_int_equal(w->found[2], 0);
	assert_int_equal(w->found[3], 0);
	assert_int_equal(w->done, 0);
	world_free(w);
}

/* A bundle without its sender's own document is refused for the sender. */
static void test_relay_needs_own_document(void **state)
{
	struct world *w = world_new();
	struct discovery_config x;
	struct fake *f;

	(void)state;
	relay_extra(&x);
	f = relay_world(w, 3);
	bundle_add(f, 2, 3, (const char *)secret);
	discovery_make(w, 3, 0, &x);
	assert_int_equal(discovery_start(w->d), 0);
	run_until(w, &w->errors[1][DISCOVERY_INVALID], 1);
	assert_int_equal(w->found[2], 1); /* valid on its own */
	assert_int_equal(w->found[1], 0);
	assert_int_equal(w->done, 0);
	world_free(w);
}

/*
 * discovery_offer: a pushed document is accepted for its own ordinal only;
 * a later, different valid document for a known peer is a conflict and
 * the first is kept.
 */
static void test_relay_offer_and_conflict(void **state)
{
	struct world *w = world_new();
	struct discovery_config x;
	char doc2[PEERDOC_MAX], other2[PEERDOC_MAX], *b;
	size_t blen;
	struct fake *f;

	(void)state;
	relay_extra(&x);
	f = relay_world(w, 3);
	bundle_add(f, 1, 2, (const char *)secret);
	/* Node 2 under another key: valid, but not the one pushed by 2. */
	bundle_add(f, 2, 0x77, (const char *)secret);
	discovery_make(w, 3, 0, &x);
	make_doc(2, secret, sizeof(secret) - 1, doc2, sizeof(doc2));
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1, "127.0.0.1"),
	    -EPERM); /* not started */
	assert_int_equal(discovery_start(w->d), 0);
	/* As its own: node 2's document offered as node 1's is refused. */
	assert_int_equal(discovery_offer(w->d, 1, doc2, strlen(doc2) - 1, "127.0.0.1"),
	    -EPROTO);
	assert_int_equal(w->errors[1][DISCOVERY_INVALID], 1);
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1, "127.0.0.1"), 0);
	assert_int_equal(w->found[2], 0); /* from the loop, not inside */
	run_until(w, &w->found[2], 1);
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1, "127.0.0.1"), 0);
	assert_int_equal(w->found[2], 1);
	run_until(w, &w->done, 1);
	assert_int_equal(w->errors[2][DISCOVERY_CONFLICT], 1);
	assert_int_equal(w->found[2], 1);
	/* Pushed later, another valid own document of 1: a conflict too. */
	make_doc_key(1, 0x55, secret, sizeof(secret) - 1, other2,
	    sizeof(other2));
	assert_int_equal(discovery_offer(w->d, 1, other2, strlen(other2) - 1,
			     "127.0.0.1"),
	    0);
	assert_int_equal(w->errors[1][DISCOVERY_CONFLICT], 1);
	assert_int_equal(w->found[1], 1);
	/* What /peers serves: ours, then 1 and the first 2, as received. */
	assert_int_equal(discovery_bundle(w->d, self_doc, strlen(self_doc),
			     NULL, &b, &blen),
	    0);
	make_doc(1, secret, sizeof(secret) - 1, other2, sizeof(other2));
	assert_int_equal(blen,
	    strlen(self_doc) + strlen(other2) + strlen(doc2));
	assert_memory_equal(b, self_doc, strlen(self_doc));
	assert_memory_equal(b + strlen(self_doc), other2, strlen(other2));
	assert_memory_equal(b + strlen(self_doc) + strlen(other2), doc2,
	    strlen(doc2));
	free(b);
	/* have= 0 and 2 known: only 1 (and ours) sent; bad bitmap = all. */
	assert_int_equal(discovery_bundle(w->d, self_doc, strlen(self_doc),
			     "5", &b, &blen),
	    0);
	assert_int_equal(blen, strlen(self_doc) + strlen(other2));
	free(b);
	assert_int_equal(discovery_bundle(w->d, self_doc, strlen(self_doc),
			     "zz", &b, &blen),
	    0);
	assert_int_equal(blen,
	    strlen(self_doc) + strlen(other2) + strlen(doc2));
	free(b);
	world_free(w);
}

static void test_relay_needs_secret(void **state)
{
	struct evloop *l = evloop_new();
	struct discovery_config cfg = {
	    .prefix = "quorum-", .port = 80, .n = 3, .self = 0, .relay = true};
	struct discovery *d;

	(void)state;
	make_doc(0, secret, sizeof(secret) - 1, self_doc, sizeof(self_doc));
	cfg.self_doc = self_doc;
	cfg.self_len = strlen(self_doc);
	errno = 0;
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.secret = secret;
	cfg.secretlen = sizeof(secret) - 1;
	cfg.self_len--; /* no trailing newline */
	assert_null(discovery_new(l, &cfg, on_found, on_done, NULL));
	cfg.self_len++;
	d = discovery_new(l, &cfg, on_found, on_done, NULL);
	assert_non_null(d);
	discovery_free(d);
	evloop_free(l);
}

/* Peer i's attempts so far, from /status. */
static int attempts_of(struct world *w, unsigned i)
{
	cJSON *st = status_of(w);
	int a = jint(status_peer(st, i), "attempts");

	cJSON_Delete(st);
	return a;
}

/* Runs the loop until peer i has been asked `want` times (or the ceiling). */
static void run_until_attempts(struct world *w, unsigned i, int want)
{
	uint64_t end = evloop_now() + WAIT_MAX_MS;

	while (attempts_of(w, i) < want && evloop_now() < end)
		assert_int_equal(evloop_run_once(w->loop, 50), 0);
	assert_int_equal(attempts_of(w, i), want);
}

/*
 * Without relay a pushed document counts only from the address its node's
 * name leads to. Peer 1 was polled (refused) at 127.0.0.1, so its push
 * from there is taken at once. A push from elsewhere has the name looked
 * up first; quorum-2 leads to 127.0.0.1, not 10.9.9.9, so peer 2 is polled
 * back at once (its 60 s backoff dropped) and not taken. Quorum-3 is never
 * mapped: its name does not resolve, so its push is not taken either.
 */
static void test_direct_push_needs_the_peers_address(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {
	    .backoff_min_ms = 60000, .backoff_max_ms = 60000};
	char doc1[PEERDOC_MAX], doc2[PEERDOC_MAX], doc3[PEERDOC_MAX];

	(void)state;
	map_peer(w, 1, free_port());
	map_peer(w, 2, free_port());
	discovery_make(w, 4, 0, &extra);
	make_doc(1, NULL, 0, doc1, sizeof(doc1));
	make_doc(2, NULL, 0, doc2, sizeof(doc2));
	make_doc(3, NULL, 0, doc3, sizeof(doc3));
	assert_int_equal(discovery_start(w->d), 0);
	/* A poll of it is on the wire: its answer would bring the document. */
	assert_int_equal(discovery_offer(w->d, 1, doc1, strlen(doc1) - 1,
			     "127.0.0.1"),
	    -EACCES);
	run_until(w, &w->errors[1][DISCOVERY_REFUSED], 1);
	run_until(w, &w->errors[2][DISCOVERY_REFUSED], 1);
	run_until(w, &w->errors[3][DISCOVERY_DNS], 1);
	/* All three wait out a 60 s backoff now. */
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1,
			     NULL),
	    -EACCES);
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1,
			     "10.9.9.9"),
	    -EINPROGRESS);
	assert_int_equal(discovery_offer(w->d, 2, doc2, strlen(doc2) - 1,
			     "10.9.9.9"),
	    -EINPROGRESS);
	run_until_attempts(w, 2, 2);
	assert_int_equal(w->found[2], 0);
	/* Valid, but node 2's document pushed as node 1's: refused. */
	assert_int_equal(discovery_offer(w->d, 1, doc2, strlen(doc2) - 1,
			     "127.0.0.1"),
	    -EPROTO);
	assert_int_equal(discovery_offer(w->d, 1, doc1, strlen(doc1) - 1,
			     "127.0.0.1"),
	    0);
	run_until(w, &w->found[1], 1);
	assert_int_equal(attempts_of(w, 1), 1);
	assert_int_equal(discovery_offer(w->d, 3, doc3, strlen(doc3) - 1,
			     "127.0.0.1"),
	    -EINPROGRESS);
	run_until_attempts(w, 3, 2);
	assert_int_equal(w->found[3], 0);
	assert_int_equal(w->found[2], 0);
	assert_int_equal(metric(w->d, "peerd_discovery_pushed_total"), 1);
	world_free(w);
}

/*
 * What the lookup is for: a node that pushed its document before we asked
 * it is never asked. One request slot, held by a peer that never answers
 * (peer 1); peers 2 and 3 wait in the queue. Peer 3 pushes from where its
 * name leads and is found with no request to it; peer 2 does not and is
 * asked once the slot is free.
 */
static void test_direct_push_spares_the_request(void **state)
{
	struct world *w = world_new();
	struct discovery_config extra = {.max_inflight = 1, .timeout_ms = 300};
	char doc3[PEERDOC_MAX];
	cJSON *st, *p;

	(void)state;
	map_peer(w, 1, mute_listener(w));
	fake_start(w, 2, SERVE_VALID, 0, false);
	map_peer(w, 2, http_server_port(w->fakes[2].srv));
	fake_start(w, 3, SERVE_VALID, 0, false);
	map_peer(w, 3, http_server_port(w->fakes[3].srv));
	discovery_make(w, 4, 0, &extra);
	make_doc(3, NULL, 0, doc3, sizeof(doc3));
	assert_int_equal(discovery_start(w->d), 0);
	assert_int_equal(discovery_offer(w->d, 3, doc3, strlen(doc3) - 1,
			     "127.0.0.1"),
	    -EINPROGRESS);
	run_until(w, &w->found[3], 1);
	assert_string_equal(w->found_name[3], "quorum-3");
	st = status_of(w);
	p = status_peer(st, 3);
	assert_string_equal(jstr(p, "state"), "found");
	assert_int_equal(jint(p, "attempts"), 0);
	assert_int_equal(jint(p, "via"), 3);
	cJSON_Delete(st);
	assert_int_equal(metric(w->d, "peerd_discovery_pushed_total"), 1);
	run_until(w, &w->found[2], 1);
	assert_int_equal(w->fakes[2].requests, 1);
	assert_int_equal(w->fakes[3].requests, 0);
	assert_int_equal(w->found[3], 1);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_finds_every_peer_once),
	    cmocka_unit_test(test_silent_peer_blocks_done),
	    cmocka_unit_test(test_hello_polls_now),
	    cmocka_unit_test(test_requests_leave_no_time_wait),
	    cmocka_unit_test(test_oversized_answer_is_toobig),
	    cmocka_unit_test(test_unsized_oversized_answer_is_toobig),
	    cmocka_unit_test(test_cancel_inside_found),
	    cmocka_unit_test(test_alone_done_from_loop),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_progress_truncates),
	    cmocka_unit_test(test_reason_names),
	    cmocka_unit_test(test_reused_handles_keep_peers_apart),
	    cmocka_unit_test(test_relay_bundle_finds_all),
	    cmocka_unit_test(test_relay_late_node_announces),
	    cmocka_unit_test(test_relay_no_announce_when_not_late),
	    cmocka_unit_test(test_relay_bad_line_stops),
	    cmocka_unit_test(test_relay_needs_own_document),
	    cmocka_unit_test(test_relay_offer_and_conflict),
	    cmocka_unit_test(test_relay_needs_secret),
	    cmocka_unit_test(test_direct_push_needs_the_peers_address),
	    cmocka_unit_test(test_direct_push_spares_the_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
