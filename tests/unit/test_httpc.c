/*
 * httpc against the real identity server (libmicrohttpd) on loopback: a
 * body with its status and X-Peerd-Network, our headers sent, a 404, an
 * answer over the ceiling, a refused connection, a server that never
 * answers, and free with requests in flight.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/http_server.h"
#include "peerd/httpc.h"

#define NET "0x" \
    "1111111111111111111111111111111111111111111111111111111111111111"

static const char *const paths[] = {"/small", "/big", NULL};
static char seen_doc[64];

static int handler(void *arg, const struct http_request *req,
    struct http_response *resp)
{
	(void)arg;
	snprintf(seen_doc, sizeof(seen_doc), "%s", req->doc ? req->doc : "");
	resp->header_name = "X-Peerd-Network";
	resp->header_value = NET;
	if (strcmp(req->path, "/small") == 0) {
		resp->body = strdup("hello\n");
		resp->len = 6;
		return 0;
	}
	resp->len = 5000;
	resp->body = malloc(resp->len);
	memset(resp->body, 'x', resp->len);
	return 0;
}

struct got {
	bool done;
	int err;
	long code;
	char body[64];
	char net[67];
	char ip[46];
};

static void cb(void *arg, int err, const struct httpc_result *r)
{
	struct got *g = arg;

	g->done = true;
	g->err = err;
	if (r != NULL) {
		g->code = r->code;
		snprintf(g->body, sizeof(g->body), "%s", r->body);
		memcpy(g->net, r->network, sizeof(g->net));
		memcpy(g->ip, r->ip, sizeof(g->ip));
	}
}

static void run(struct evloop *l, struct got *g)
{
	for (int i = 0; i < 200 && !g->done; i++)
		assert_true(evloop_run_once(l, 50) >= 0);
	assert_true(g->done);
}

static void test_get(void **state)
{
	struct evloop *l = evloop_new();
	struct http_server *srv = http_server_new(l,
	    &(const struct http_server_config){.bind_addr = "127.0.0.1",
		.paths = paths}, handler, NULL);
	struct httpc *h = httpc_new(l);
	const char *hdrs[] = {"X-Peerd-Doc: {\"v\":1}", NULL};
	char url[128];
	struct got g = {0};

	(void)state;
	assert_non_null(srv);
	assert_non_null(h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/small",
	    http_server_port(srv));
	assert_int_equal(httpc_get(h, url, hdrs, 100, 2000, cb, &g), 0);
	assert_false(g.done); /* never inside the call */
	assert_int_equal(httpc_pending(h), 1);
	run(l, &g);
	assert_int_equal(g.err, 0);
	assert_int_equal(g.code, 200);
	assert_string_equal(g.body, "hello\n");
	assert_string_equal(g.net, NET);
	assert_string_equal(g.ip, "127.0.0.1");
	assert_string_equal(seen_doc, "{\"v\":1}");
	assert_int_equal(httpc_pending(h), 0);

	/* a path the server does not know: the status, no error */
	memset(&g, 0, sizeof(g));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/nope",
	    http_server_port(srv));
	assert_int_equal(httpc_get(h, url, NULL, 100, 2000, cb, &g), 0);
	run(l, &g);
	assert_int_equal(g.err, 0);
	assert_int_equal(g.code, 404);

	/* over the ceiling */
	memset(&g, 0, sizeof(g));
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/big",
	    http_server_port(srv));
	assert_int_equal(httpc_get(h, url, NULL, 1000, 2000, cb, &g), 0);
	run(l, &g);
	assert_int_equal(g.err, -E2BIG);

	/* not http */
	assert_int_equal(httpc_get(h, "file:///etc/passwd", NULL, 100, 2000,
	    cb, &g), -EINVAL);
	httpc_free(h);
	http_server_free(srv);
	evloop_free(l);
}

static void test_errors(void **state)
{
	struct evloop *l = evloop_new();
	struct httpc *h = httpc_new(l);
	struct sockaddr_in a = {.sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char url[128];
	struct got g = {0}, g2 = {0};

	(void)state;
	/* A listener that never accepts: no answer, a timeout. */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/x",
	    ntohs(a.sin_port));
	assert_int_equal(httpc_get(h, url, NULL, 100, 300, cb, &g), 0);
	run(l, &g);
	assert_int_equal(g.err, -ETIMEDOUT);
	close(fd);
	/* nobody listening there any more: refused */
	memset(&g, 0, sizeof(g));
	assert_int_equal(httpc_get(h, url, NULL, 100, 2000, cb, &g), 0);
	run(l, &g);
	assert_int_equal(g.err, -ECONNREFUSED);
	/* freed with a request in flight: no callback */
	assert_int_equal(httpc_get(h, url, NULL, 100, 2000, cb, &g2), 0);
	httpc_free(h);
	assert_false(g2.done);
	evloop_free(l);
}

/* The header parser alone: only a well-formed genesis hash is taken. */
static void test_network_header(void **state)
{
	char out[67] = "", line[128];

	(void)state;
	snprintf(line, sizeof(line), "x-peerd-NETWORK:   %s\r\n", NET);
	assert_true(httpc_network_header(line, strlen(line), out));
	assert_string_equal(out, NET);
	out[0] = '\0';
	snprintf(line, sizeof(line), "X-Peerd-Network: %.65s\r\n", NET);
	assert_false(httpc_network_header(line, strlen(line), out));
	snprintf(line, sizeof(line), "X-Peerd-Network: 0X%s\r\n", NET + 2);
	assert_false(httpc_network_header(line, strlen(line), out));
	snprintf(line, sizeof(line), "X-Peerd-Network: %s1\r\n", NET);
	assert_false(httpc_network_header(line, strlen(line), out));
	snprintf(line, sizeof(line), "X-Peerd-Doc: %s\r\n", NET);
	assert_false(httpc_network_header(line, strlen(line), out));
	assert_false(httpc_network_header("X-Peerd-Network:", 16, out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_network_header),
	    cmocka_unit_test(test_get),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
