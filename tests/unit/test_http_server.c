/*
 * http_server over real sockets: a raw TCP client on 127.0.0.1 talks to the
 * real libmicrohttpd daemon driven by one evloop in this thread. Clients
 * that must come from another address bind to 127.0.0.2 and up (all of
 * 127/8 is on lo).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/http_server.h"

/* TESTABLE in src/http_server.c. */
void http_addr_key(const struct sockaddr *sa, socklen_t len,
    uint8_t key[static 16]);
bool http_key_is_loopback(const uint8_t key[static 16]);
int http_admit(unsigned max_conn, unsigned per_address, unsigned open,
    unsigned addr_open, bool loopback);
/* http_admit()'s verdicts (enum http_verdict). */
enum { ACCEPT, REFUSE_PER_ADDRESS, REFUSE_BUSY };

/* Ceiling for any wait: only reached when something is broken. */
#define WAIT_MAX_MS 5000
/* A whole request without body; the server closes after answering. */
#define REQ(line) line " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

struct fixture {
	struct evloop *loop;
	struct http_server *srv;
	unsigned calls;
	char last_path[64];
	int last_from;
	char last_ip[46];
	bool ready; /* /readyz answers 200, else 503 */
};

static const char *const paths[] = {"/env.json", "/genesis.json", "/boom",
    "/readyz", "/healthz", NULL};

static int handler(void *arg, const struct http_request *req,
    struct http_response *resp)
{
	const char *path = req->path;
	int from = req->from;
	struct fixture *f = arg;

	f->calls++;
	snprintf(f->last_path, sizeof(f->last_path), "%s", path);
	f->last_from = from;
	snprintf(f->last_ip, sizeof(f->last_ip), "%s", req->peer_ip);
	if (strcmp(path, "/genesis.json") == 0)
		return -ENOENT;
	if (strcmp(path, "/boom") == 0) {
		/* A body left behind on failure must be freed (ASAN). */
		resp->body = strdup("leak?");
		return -EIO;
	}
	if (strcmp(path, "/healthz") == 0 ||
	    (strcmp(path, "/readyz") == 0 && f->ready)) {
		resp->body = strdup("ok\n");
		resp->len = strlen(resp->body);
		return 0;
	}
	if (strcmp(path, "/readyz") == 0) {
		resp->code = 503;
		resp->body = strdup("not ready\n");
		resp->len = strlen(resp->body);
		return 0;
	}
	resp->content_type = "application/json";
	resp->body = strdup("{\"v\":1}");
	resp->len = strlen(resp->body);
	return 0;
}

static struct fixture *fixture_new_at(const char *bind_addr,
    unsigned max_conn, unsigned per_address, unsigned timeout_s)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct http_server_config cfg = {
	    .bind_addr = bind_addr,
	    .port = 0,
	    .max_connections = max_conn,
	    .max_per_address = per_address,
	    .timeout_s = timeout_s,
	    .paths = paths,
	};

	assert_non_null(f);
	f->loop = evloop_new();
	assert_non_null(f->loop);
	f->srv = http_server_new(f->loop, &cfg, handler, f);
	assert_non_null(f->srv);
	assert_true(http_server_port(f->srv) != 0);
	f->last_from = -2;
	return f;
}

static struct fixture *fixture_new(unsigned max_conn, unsigned timeout_s)
{
	return fixture_new_at("127.0.0.1", max_conn, 0, timeout_s);
}

static int setup(void **state)
{
	*state = fixture_new(0, 0);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_free(f->srv);
	evloop_free(f->loop);
	free(f);
	return 0;
}

/* A client socket to 127.0.0.1:port from src (an IPv4 literal). */
static int client_connect_from(uint16_t port, const char *src)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd;

	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &from.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	/* Loopback connects complete or are queued at once. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
}

static int client_connect(uint16_t port)
{
	return client_connect_from(port, "127.0.0.1");
}

static void client_send(int fd, const char *req)
{
	size_t len = strlen(req);

	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Runs the loop until the server closes fd (EOF or reset) and returns what
 * it sent, NUL-terminated. max_ms bounds the wait; *closed tells whether
 * the server closed.
 */
static size_t client_read(struct fixture *f, int fd, char *buf, size_t len,
    int max_ms, int *closed)
{
	uint64_t end = evloop_now() + (uint64_t)max_ms;
	size_t used = 0;
	ssize_t n;

	*closed = 0;
	while (evloop_now() < end) {
		assert_int_equal(evloop_run_once(f->loop, 10), 0);
		for (;;) {
			n = recv(fd, buf + used, len - 1 - used, 0);
			if (n > 0) {
				used += (size_t)n;
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				*closed = 1;
			break;
		}
		if (*closed)
			break;
	}
	buf[used] = '\0';
	return used;
}

/* One request with "Connection: close" from src; the full response. */
static void request_from(struct fixture *f, const char *src, const char *req,
    char *buf, size_t len)
{
	int fd = client_connect_from(http_server_port(f->srv), src), closed;

	client_send(fd, req);
	client_read(f, fd, buf, len, WAIT_MAX_MS, &closed);
	close(fd);
	assert_true(closed);
}

static void request(struct fixture *f, const char *req, char *buf, size_t len)
{
	request_from(f, "127.0.0.1", req, buf, len);
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

static void test_get_serves_handler_body(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f, REQ("GET /env.json"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(buf, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(buf, "Cache-Control: no-store\r\n"));
	assert_string_equal(body_of(buf), "{\"v\":1}");
	assert_int_equal(f->calls, 1);
	assert_string_equal(f->last_path, "/env.json");
	assert_int_equal(f->last_from, -1);
}

static void test_handler_code_and_default_type(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f, REQ("GET /readyz"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 503", 12) == 0);
	assert_non_null(strstr(buf, "Content-Type: text/plain"));
	assert_string_equal(body_of(buf), "not ready\n");
}

static void test_head_has_no_body(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f, REQ("HEAD /env.json"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(buf, "Content-Length: 7\r\n"));
	assert_string_equal(body_of(buf), "");
	assert_int_equal(f->calls, 1);
}

static void test_post_is_405(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f,
	    "POST /env.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Length: 4\r\n\r\nabcd",
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 405", 12) == 0);
	assert_non_null(strstr(buf, "Allow: GET, HEAD\r\n"));
	assert_int_equal(f->calls, 0);

	request(f, REQ("DELETE /nope"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 405", 12) == 0);
	assert_int_equal(f->calls, 0);
}

static void test_unknown_path_is_404(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f, REQ("GET /env.sh"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 404", 12) == 0);
	assert_int_equal(f->calls, 0);

	/* A configured path whose handler has nothing yet. */
	request(f,
	    REQ("GET /genesis.json"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 404", 12) == 0);
	assert_int_equal(f->calls, 1);
}

static void test_handler_error_is_500(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f, REQ("GET /boom"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 500", 12) == 0);
	assert_null(strstr(buf, "leak?"));
}

static void test_get_with_body_is_refused(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f,
	    "GET /env.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "Content-Length: 4\r\n\r\nabcd",
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 413", 12) == 0);
	assert_int_equal(f->calls, 0);
}

static void test_from_ordinal(void **state)
{
	struct fixture *f = *state;
	char buf[4096];

	request(f,
	    "GET /env.json?from=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "\r\n",
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_int_equal(f->last_from, 3);
	/* The client's address reaches the handler (IPv4, not ::ffff:). */
	assert_string_equal(f->last_ip, "127.0.0.1");

	request(f,
	    "GET /env.json HTTP/1.1\r\nHost: x\r\nX-Peerd-From: 7\r\n"
	    "Connection: close\r\n\r\n",
	    buf, sizeof(buf));
	assert_int_equal(f->last_from, 7);

	/* Malformed values are not an ordinal, and do not cost the answer. */
	request(f,
	    "GET /env.json?from=3x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
	    "\r\n",
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_int_equal(f->last_from, -1);
	request(f,
	    "GET /env.json?from=-1 HTTP/1.1\r\nHost: x\r\n"
	    "X-Peerd-From: 99999999\r\nConnection: close\r\n\r\n",
	    buf, sizeof(buf));
	assert_int_equal(f->last_from, -1);
	assert_int_equal(f->calls, 4);
}

static void test_keep_alive_serves_two(void **state)
{
	struct fixture *f = *state;
	int fd = client_connect(http_server_port(f->srv)), closed;
	char buf[4096];

	client_send(fd, "GET /env.json HTTP/1.1\r\nHost: x\r\n\r\n"
			"GET /env.json?from=2 HTTP/1.1\r\nHost: x\r\n"
			"Connection: close\r\n\r\n");
	client_read(f, fd, buf, sizeof(buf), WAIT_MAX_MS, &closed);
	close(fd);
	assert_true(closed);
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->last_from, 2);
	assert_non_null(strstr(strstr(buf, "{\"v\":1}") + 1, "{\"v\":1}"));
}

static void test_metrics_count_by_path_and_code(void **state)
{
	struct fixture *f = *state;
	char buf[4096], m[4096];
	size_t used;

	request(f, REQ("GET /env.json"),
	    buf, sizeof(buf));
	request(f, REQ("HEAD /env.json"),
	    buf, sizeof(buf));
	request(f, REQ("GET /x"), buf,
	    sizeof(buf));
	request(f, REQ("PUT /env.json"),
	    buf, sizeof(buf));
	request(f, REQ("GET /readyz"),
	    buf, sizeof(buf));

	/* Appends after what is already in the buffer. */
	strcpy(m, "# before\n");
	used = strlen(m);
	assert_int_equal(http_server_metrics(f->srv, m, sizeof(m), &used), 0);
	assert_int_equal(used, strlen(m));
	assert_true(strncmp(m, "# before\n# HELP peerd_http_requests_total",
			41) == 0);
	assert_non_null(
	    strstr(m, "# TYPE peerd_http_requests_total counter\n"));
	assert_non_null(strstr(m, "\npeerd_http_requests_total"
				  "{path=\"/env.json\",code=\"200\"} 2\n"));
	assert_non_null(strstr(m, "\npeerd_http_requests_total"
				  "{path=\"/env.json\",code=\"405\"} 1\n"));
	assert_non_null(strstr(m,
	    "\npeerd_http_requests_total{path=\"other\",code=\"404\"} 1\n"));
	assert_non_null(strstr(m,
	    "\npeerd_http_requests_total{path=\"/readyz\",code=\"503\"} 1\n"));
	assert_null(strstr(m, "/genesis.json"));
	assert_non_null(strstr(m, "\n# TYPE peerd_http_connections gauge\n"
				  "peerd_http_connections 0\n"));
	assert_non_null(strstr(m, "\n# TYPE peerd_http_refused_total counter\n"
				  "peerd_http_refused_total{reason=\"per_address\"}"
				  " 0\n"
				  "peerd_http_refused_total{reason=\"busy\"} 0\n"));

	/* Too small: nothing appended, error returned. */
	strcpy(m, "abc");
	used = 3;
	assert_int_equal(http_server_metrics(f->srv, m, 64, &used), -E2BIG);
	assert_int_equal(used, 3);
	assert_string_equal(m, "abc");
}

static void test_connection_limit(void **state)
{
	struct fixture *f = fixture_new(4, 30);
	int idle[4], fd, closed;
	char buf[4096];
	size_t i, n;

	(void)state;
	for (i = 0; i < 4; i++)
		idle[i] = client_connect(http_server_port(f->srv));
	/* Let the server accept the four. */
	for (i = 0; i < 20; i++)
		assert_int_equal(evloop_run_once(f->loop, 10), 0);

	/* A fifth is never served while the four are held. */
	fd = client_connect(http_server_port(f->srv));
	client_send(fd,
	    REQ("GET /env.json"));
	n = client_read(f, fd, buf, sizeof(buf), 300, &closed);
	assert_int_equal(n, 0);
	assert_int_equal(f->calls, 0);

	/* One slot freed: the waiting one (if still queued) or a new one is
	 * served. */
	close(idle[0]);
	if (closed) {
		close(fd);
		fd = client_connect(http_server_port(f->srv));
		client_send(fd, "GET /env.json HTTP/1.1\r\nHost: x\r\n"
				"Connection: close\r\n\r\n");
	}
	client_read(f, fd, buf, sizeof(buf), WAIT_MAX_MS, &closed);
	assert_true(closed);
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_int_equal(f->calls, 1);
	close(fd);
	for (i = 1; i < 4; i++)
		close(idle[i]);
	teardown((void **)&f);
}

static void test_idle_connection_times_out(void **state)
{
	struct fixture *f = fixture_new(0, 1);
	int fd, closed;
	char buf[64];

	(void)state;
	/* Nothing sent: only the timer armed from MHD_get_timeout() can close
	 * this connection. */
	fd = client_connect(http_server_port(f->srv));
	client_read(f, fd, buf, sizeof(buf), WAIT_MAX_MS, &closed);
	assert_true(closed);
	close(fd);
	teardown((void **)&f);
}

static void test_bad_config(void **state)
{
	struct evloop *l = evloop_new();
	const char *const nopaths[] = {"env.json", NULL};
	const char *const quoted[] = {"/a\"b", NULL};
	struct http_server_config cfg = {.bind_addr = "127.0.0.1",
	    .paths = nopaths};
	struct http_server *srv;

	(void)state;
	assert_non_null(l);
	errno = 0;
	assert_null(http_server_new(l, &cfg, handler, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.paths = quoted;
	assert_null(http_server_new(l, &cfg, handler, NULL));
	assert_int_equal(errno, EINVAL);
	cfg.paths = paths;
	cfg.bind_addr = "localhost";
	assert_null(http_server_new(l, &cfg, handler, NULL));
	assert_int_equal(errno, EINVAL);

	/* Port in use: the second bind fails with an errno. */
	cfg.bind_addr = "127.0.0.1";
	srv = http_server_new(l, &cfg, handler, NULL);
	assert_non_null(srv);
	cfg.port = http_server_port(srv);
	errno = 0;
	assert_null(http_server_new(l, &cfg, handler, NULL));
	assert_true(errno != 0);
	http_server_free(srv);
	http_server_free(NULL);
	evloop_free(l);
}

static void test_bind_all_addresses(void **state)
{
	struct evloop *l = evloop_new();
	struct http_server_config cfg = {.paths = paths};
	struct fixture f = {.loop = l};
	char buf[4096];

	(void)state;
	assert_non_null(l);
	f.srv = http_server_new(l, &cfg, handler, &f);
	assert_non_null(f.srv);
	/* Reachable over IPv4 whether or not it is dual stack. */
	request(&f, REQ("GET /env.json"),
	    buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	http_server_free(f.srv);
	evloop_free(l);
}

/* The value of the one sample named name (with its labels) in /metrics. */
static unsigned long metric(struct fixture *f, const char *name)
{
	char m[4096], line[128];
	const char *p;
	size_t used = 0;

	assert_int_equal(http_server_metrics(f->srv, m, sizeof(m), &used), 0);
	snprintf(line, sizeof(line), "\n%s ", name);
	p = strstr(m, line);
	assert_non_null(p);
	return strtoul(p + strlen(line), NULL, 10);
}

#define REFUSED_PER_ADDRESS "peerd_http_refused_total{reason=\"per_address\"}"

/* Runs the loop until the sample name reads n. */
static void wait_metric(struct fixture *f, const char *name, unsigned long n)
{
	uint64_t end = evloop_now() + WAIT_MAX_MS;

	while (metric(f, name) != n && evloop_now() < end)
		assert_int_equal(evloop_run_once(f->loop, 10), 0);
	assert_int_equal(metric(f, name), n);
}

/* Runs the loop until the server holds n connections. */
static void wait_connections(struct fixture *f, unsigned long n)
{
	wait_metric(f, "peerd_http_connections", n);
}

/* Room for n more descriptors, or the test is skipped. */
static void need_fds(rlim_t n)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > n + 64
		    ? n + 64
		    : rl.rlim_max;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
		if (rl.rlim_cur < n + 64)
			skip();
	}
}

static void test_addr_key(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	struct sockaddr_in6 mapped = {.sin6_family = AF_INET6};
	struct sockaddr un = {.sa_family = AF_UNIX};
	static const uint8_t zero[16];
	uint8_t k4[16], k6[16], km[16], k[16];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "10.0.0.5", &sin.sin_addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:10.0.0.5",
			     &mapped.sin6_addr), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd00::5", &s6.sin6_addr), 1);
	http_addr_key((struct sockaddr *)&sin, sizeof(sin), k4);
	http_addr_key((struct sockaddr *)&mapped, sizeof(mapped), km);
	http_addr_key((struct sockaddr *)&s6, sizeof(s6), k6);
	/* An IPv4 client is one address on an IPv4 or a dual-stack socket. */
	assert_memory_equal(k4, km, 16);
	assert_memory_equal(k6, &s6.sin6_addr, 16);
	assert_memory_not_equal(k4, k6, 16);
	/* Short or not IP: "::". */
	http_addr_key((struct sockaddr *)&sin, sizeof(sin) - 1, k);
	assert_memory_equal(k, zero, 16);
	http_addr_key(&un, sizeof(un), k);
	assert_memory_equal(k, zero, 16);
	http_addr_key(NULL, 0, k);
	assert_memory_equal(k, zero, 16);
}

static bool loopback(const char *ip)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	uint8_t k[16];

	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		http_addr_key((struct sockaddr *)&sin, sizeof(sin), k);
	} else {
		assert_int_equal(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
		http_addr_key((struct sockaddr *)&s6, sizeof(s6), k);
	}
	return http_key_is_loopback(k);
}

static void test_key_is_loopback(void **state)
{
	(void)state;
	assert_true(loopback("127.0.0.1"));
	assert_true(loopback("127.1.2.3"));
	assert_true(loopback("::ffff:127.0.0.2"));
	assert_true(loopback("::1"));
	assert_false(loopback("10.0.0.1"));
	assert_false(loopback("128.0.0.1"));
	assert_false(loopback("126.255.255.255"));
	assert_false(loopback("::ffff:10.0.0.1"));
	assert_false(loopback("::2"));
	assert_false(loopback("::"));
	assert_false(loopback("::127.0.0.1")); /* IPv4-compatible, not mapped */
	assert_false(loopback("fe80::1"));
}

static void test_admit(void **state)
{
	static const struct {
		unsigned max, per, open, addr_open;
		bool loopback;
		int want;
	} cases[] = {
	    {256, 16, 0, 0, false, ACCEPT},
	    {256, 16, 100, 15, false, ACCEPT},
	    {256, 16, 100, 16, false, REFUSE_PER_ADDRESS},
	    {256, 16, 100, 16, true, REFUSE_PER_ADDRESS},
	    /* The last sixteenth (16) is loopback's. */
	    {256, 16, 239, 0, false, ACCEPT},
	    {256, 16, 240, 0, false, REFUSE_BUSY},
	    {256, 16, 240, 0, true, ACCEPT},
	    {256, 16, 255, 3, true, ACCEPT},
	    {256, 16, 256, 0, true, REFUSE_BUSY},
	    /* The per-address cap is told first. */
	    {256, 16, 250, 16, false, REFUSE_PER_ADDRESS},
	    /* Under 16 connections in all there is no reserve. */
	    {4, 16, 3, 3, false, ACCEPT},
	    {4, 16, 4, 0, true, REFUSE_BUSY},
	    {4, 2, 1, 2, false, REFUSE_PER_ADDRESS},
	};
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = http_admit(cases[i].max, cases[i].per, cases[i].open,
		    cases[i].addr_open, cases[i].loopback);
		if (got != cases[i].want)
			fail_msg("case %zu: %d, want %d", i, got,
			    cases[i].want);
	}
}

#define FLOOD 400
/* A request begun and never finished. */
#define HALF_REQUEST "GET /env.json HTTP/1.1\r\nHost: x\r\nX-Slow:"

/*
 * One address opens FLOOD connections and never finishes a request on
 * any; the server's defaults (256 connections, 16 per address) must still
 * answer the probes of another address at once. The idle timeout is 30 s
 * so that nothing here can come from the flood timing out: without the
 * per-address cap the probes wait behind the flood in the listen queue.
 */
static void test_flood_from_one_address(void **state)
{
	struct fixture *f;
	int flood[FLOOD];
	char buf[4096];
	size_t i;

	(void)state;
	need_fds(3 * FLOOD);
	f = fixture_new(0, 30);
	f->ready = true;
	for (i = 0; i < FLOOD; i++) {
		flood[i] = client_connect_from(http_server_port(f->srv),
		    "127.0.0.2");
		if (i % 2 == 1)
			client_send(flood[i], HALF_REQUEST);
	}

	request(f, REQ("GET /healthz"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	request(f, REQ("GET /readyz"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	request_from(f, "127.0.0.3", REQ("GET /healthz"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);

	/* The flood holds 16 connections; the rest were refused. */
	wait_metric(f, REFUSED_PER_ADDRESS, FLOOD - 16);
	wait_connections(f, 16);
	assert_int_equal(metric(f, "peerd_http_refused_total{reason=\"busy\"}"),
	    0);

	for (i = 0; i < FLOOD; i++)
		close(flood[i]);
	wait_connections(f, 0);
	teardown((void **)&f);
}

/*
 * An address at its cap is refused (accepted and closed unanswered) while
 * under it, and every other address, is served. On bind_addr NULL the
 * socket is dual stack where the host has IPv6: 127.0.0.2 arrives as
 * ::ffff:127.0.0.2 and must count the same.
 */
static void per_address_cap(const char *bind_addr)
{
	struct fixture *f = fixture_new_at(bind_addr, 0, 4, 30);
	uint16_t port = http_server_port(f->srv);
	int held[4], fd, closed;
	char buf[4096];
	size_t i, n;

	for (i = 0; i < 3; i++)
		held[i] = client_connect_from(port, "127.0.0.2");
	wait_connections(f, 3);
	/* The fourth of the address is served. */
	request_from(f, "127.0.0.2", REQ("GET /env.json"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_string_equal(f->last_ip, "127.0.0.2");
	wait_connections(f, 3);
	held[3] = client_connect_from(port, "127.0.0.2");
	wait_connections(f, 4);

	/* The fifth is closed without an answer, and counted. */
	fd = client_connect_from(port, "127.0.0.2");
	client_send(fd, REQ("GET /env.json"));
	n = client_read(f, fd, buf, sizeof(buf), WAIT_MAX_MS, &closed);
	close(fd);
	assert_true(closed);
	assert_int_equal(n, 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(metric(f, REFUSED_PER_ADDRESS), 1);
	assert_int_equal(metric(f, "peerd_http_connections"), 4);

	/* Other addresses do not notice. */
	request(f, REQ("GET /healthz"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);

	/* One closed: the address is served again. */
	close(held[0]);
	wait_connections(f, 3);
	request_from(f, "127.0.0.2", REQ("GET /env.json"), buf, sizeof(buf));
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	assert_int_equal(metric(f, REFUSED_PER_ADDRESS), 1);

	for (i = 1; i < 4; i++)
		close(held[i]);
	wait_connections(f, 0);
	teardown((void **)&f);
}

static void test_per_address_cap(void **state)
{
	(void)state;
	per_address_cap("127.0.0.1");
}

static void test_per_address_cap_dual_stack(void **state)
{
	(void)state;
	per_address_cap(NULL);
}

/*
 * Below 3/4 of max_connections idle connections keep timeout_s (30 s);
 * from there on every connection, those already open too, is closed after
 * 2 s of silence.
 */
static void test_pressure_shortens_idle_timeout(void **state)
{
	struct fixture *f = fixture_new(8, 30);
	uint16_t port = http_server_port(f->srv);
	char src[16], buf[64];
	int held[6], closed;
	uint64_t end;
	size_t i;

	(void)state;
	/* Five of eight, from five addresses: no pressure yet. */
	for (i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "127.0.0.%zu", i + 2);
		held[i] = client_connect_from(port, src);
	}
	wait_connections(f, 5);
	/* Longer than the short timeout: a short one would have fired. */
	end = evloop_now() + 2500;
	while (evloop_now() < end)
		assert_int_equal(evloop_run_once(f->loop, 50), 0);
	assert_int_equal(metric(f, "peerd_http_connections"), 5);

	/* The sixth makes it pressure: all six are closed, the five idle
	 * for more than 2 s at once. */
	held[5] = client_connect_from(port, "127.0.0.7");
	for (i = 0; i < 6; i++) {
		client_read(f, held[i], buf, sizeof(buf), WAIT_MAX_MS,
		    &closed);
		assert_true(closed);
		close(held[i]);
	}
	wait_connections(f, 0);
	teardown((void **)&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_serves_handler_body, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_handler_code_and_default_type,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_has_no_body, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_post_is_405, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_path_is_404, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_handler_error_is_500, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_get_with_body_is_refused,
		setup, teardown),
	    cmocka_unit_test_setup_teardown(test_from_ordinal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keep_alive_serves_two, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_count_by_path_and_code,
		setup, teardown),
	    cmocka_unit_test(test_connection_limit),
	    cmocka_unit_test(test_idle_connection_times_out),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_bind_all_addresses),
	    cmocka_unit_test(test_addr_key),
	    cmocka_unit_test(test_key_is_loopback),
	    cmocka_unit_test(test_admit),
	    cmocka_unit_test(test_flood_from_one_address),
	    cmocka_unit_test(test_per_address_cap),
	    cmocka_unit_test(test_per_address_cap_dual_stack),
	    cmocka_unit_test(test_pressure_shortens_idle_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
