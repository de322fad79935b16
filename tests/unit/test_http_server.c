/*
 * http_server over real sockets: a raw TCP client on 127.0.0.1 talks to the
 * real libmicrohttpd daemon driven by one evloop in this thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/http_server.h"

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
};

static const char *const paths[] = {"/env.json", "/genesis.json", "/boom",
    "/readyz", NULL};

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

static struct fixture *fixture_new(unsigned max_conn, unsigned timeout_s)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct http_server_config cfg = {
	    .bind_addr = "127.0.0.1",
	    .port = 0,
	    .max_connections = max_conn,
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

static int client_connect(uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd;

	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	/* Loopback connects complete or are queued at once. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		assert_int_equal(errno, EINPROGRESS);
	return fd;
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

/* One request with "Connection: close"; returns the full response. */
static void request(struct fixture *f, const char *req, char *buf, size_t len)
{
	int fd = client_connect(http_server_port(f->srv)), closed;

	client_send(fd, req);
	client_read(f, fd, buf, len, WAIT_MAX_MS, &closed);
	close(fd);
	assert_true(closed);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
