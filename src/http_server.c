/* http_server: libmicrohttpd driven by the one event loop (epoll mode). */

#include "peerd/http_server.h"
#include "peerd/strbuf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <microhttpd.h>

#ifdef PEERD_TESTING
#define TESTABLE
#else
#define TESTABLE static
#endif

#define HTTP_DEFAULT_MAX_CONN 256
#define HTTP_DEFAULT_PER_ADDRESS 16
#define HTTP_DEFAULT_TIMEOUT_S 10
#define HTTP_DEFAULT_CONN_MEMORY (32 * 1024)
/* Idle timeout once 3/4 of the connections are open ("under pressure"). */
#define HTTP_PRESSURE_TIMEOUT_S 2
#define HTTP_MAX_PATHS 32
/* Distinct status codes counted per path; more fold into the last slot. */
#define HTTP_CODE_SLOTS 8

struct http_count {
	int code;
	unsigned long n;
};

/* What the accept policy decides for a new connection. */
enum http_verdict {
	HTTP_ACCEPT,
	HTTP_REFUSE_PER_ADDRESS,
	HTTP_REFUSE_BUSY,
	HTTP_VERDICTS
};

static const char *const refuse_reasons[HTTP_VERDICTS] = {
    [HTTP_REFUSE_PER_ADDRESS] = "per_address",
    [HTTP_REFUSE_BUSY] = "busy",
};

/* A client address (IPv4 as ::ffff:a.b.c.d) and its open connections. */
struct http_addr {
	uint8_t key[16];
	unsigned open;
};

/* One open connection (MHD's socket_context), or a free slot. */
struct http_conn {
	struct MHD_Connection *mhd; /* NULL = free */
	struct http_conn *next_free;
	uint8_t key[16];
	bool short_timeout;
};

struct http_server {
	struct evloop *loop;
	struct MHD_Daemon *mhd;
	int epfd;
	long timer;
	http_server_handler *handler;
	void *arg;
	size_t npaths;
	char *paths[HTTP_MAX_PATHS];
	/* counts[npaths] is path="other" (unknown paths). */
	struct http_count counts[HTTP_MAX_PATHS + 1][HTTP_CODE_SLOTS];
	uint16_t port;

	unsigned max_conn;    /* libmicrohttpd's limit too */
	unsigned per_address;
	unsigned timeout_s;
	unsigned pressure_at; /* open connections that mean pressure */
	unsigned open;        /* connections libmicrohttpd holds */
	bool pressure;
	/* Both arrays have max_conn entries: there are never more open
	 * connections, nor addresses holding one. */
	struct http_conn *conns;
	struct http_conn *free_conns;
	struct http_addr *addrs;
	size_t naddrs;
	unsigned long refused[HTTP_VERDICTS];
};

static const char text_plain[] = "text/plain; charset=utf-8";

static void http_arm_timer(struct http_server *srv, bool now);

static void http_count(struct http_server *srv, size_t path_idx, int code)
{
	struct http_count *c = srv->counts[path_idx];
	size_t i;

	for (i = 0; i < HTTP_CODE_SLOTS - 1; i++) {
		if (c[i].code == code || c[i].code == 0)
			break;
	}
	/* The last slot is shared by whatever does not fit: code="other". */
	if (i == HTTP_CODE_SLOTS - 1 && c[i].code != code)
		code = -1;
	c[i].code = code;
	c[i].n++;
}

static size_t http_path_index(const struct http_server *srv, const char *url)
{
	size_t i;

	for (i = 0; i < srv->npaths; i++) {
		if (strcmp(srv->paths[i], url) == 0)
			return i;
	}
	return srv->npaths;
}

/* Strict decimal 0..65535; anything else is "no ordinal" (-1). */
static int http_parse_from(const char *s)
{
	unsigned long v = 0;
	size_t i;

	if (s == NULL || s[0] == '\0')
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	return (int)v;
}

static enum MHD_Result http_send(struct MHD_Connection *conn,
    struct http_server *srv, size_t path_idx, int code,
    const char *content_type, char *body, size_t len, bool must_free,
    const char *hname, const char *hvalue)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, body,
	    must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (resp == NULL) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		content_type != NULL ? content_type : text_plain) != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
		"no-store") != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	if (hname != NULL && hvalue != NULL &&
	    MHD_add_response_header(resp, hname, hvalue) != MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") !=
		MHD_YES) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, (unsigned)code, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		http_count(srv, path_idx, code);
	return ret;
}

static enum MHD_Result http_send_static(struct MHD_Connection *conn,
    struct http_server *srv, size_t path_idx, int code, const char *msg)
{
	return http_send(conn, srv, path_idx, code, text_plain,
	    (char *)(uintptr_t)msg, strlen(msg), false, NULL, NULL);
}

/* True when the request announces a body (Content-Length > 0 or chunked). */
static bool http_has_body(struct MHD_Connection *conn)
{
	const char *cl, *te;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_TRANSFER_ENCODING);
	if (te != NULL)
		return true;
	if (cl == NULL)
		return false;
	for (; *cl != '\0'; cl++) {
		if (*cl != '0' && *cl != ' ' && *cl != '\t')
			return true;
	}
	return false;
}

/* The client's address, IPv4-mapped IPv6 shown as plain IPv4. */
static void http_peer_ip(struct MHD_Connection *conn, char out[46])
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	out[0] = '\0';
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		(void)inet_ntop(AF_INET, &sin->sin_addr, out, 46);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			(void)inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12],
			    out, 46);
		else
			(void)inet_ntop(AF_INET6, &s6->sin6_addr, out, 46);
	}
}

TESTABLE void http_addr_key(const struct sockaddr *sa, socklen_t len,
    uint8_t key[static 16]);
TESTABLE bool http_key_is_loopback(const uint8_t key[static 16]);
TESTABLE int http_admit(unsigned max_conn, unsigned per_address,
    unsigned open, unsigned addr_open, bool loopback);

/*
 * The client's address as the 16 bytes of an IPv6 address, IPv4 as
 * ::ffff:a.b.c.d: an IPv4 client counts the same whether it reached an
 * IPv4 or a dual-stack socket. Anything else is all zeros ("::").
 */
TESTABLE void http_addr_key(const struct sockaddr *sa, socklen_t len,
    uint8_t key[static 16])
{
	memset(key, 0, 16);
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const void *)sa;

		key[10] = 0xff;
		key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6 &&
	    len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		memcpy(key, &s6->sin6_addr, 16);
	}
}

/* 127.0.0.0/8 or ::1: where local health checks come from. */
TESTABLE bool http_key_is_loopback(const uint8_t key[static 16])
{
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	static const uint8_t one[16] = {[15] = 1};

	if (memcmp(key, v4mapped, 12) == 0)
		return key[12] == 127;
	return memcmp(key, one, 16) == 0;
}

/*
 * Whether a new connection may stay, given the connections open in all
 * (open) and from its address (addr_open). The last sixteenth of max_conn
 * is kept for loopback clients, so that a flood from many addresses still
 * leaves room for the local health probe.
 */
TESTABLE int http_admit(unsigned max_conn, unsigned per_address,
    unsigned open, unsigned addr_open, bool loopback)
{
	unsigned reserve = loopback ? 0 : max_conn / 16;

	if (addr_open >= per_address)
		return HTTP_REFUSE_PER_ADDRESS;
	if (open >= max_conn || max_conn - open <= reserve)
		return HTTP_REFUSE_BUSY;
	return HTTP_ACCEPT;
}

static struct http_addr *http_addr_find(struct http_server *srv,
    const uint8_t key[static 16])
{
	size_t i;

	for (i = 0; i < srv->naddrs; i++) {
		if (memcmp(srv->addrs[i].key, key, 16) == 0)
			return &srv->addrs[i];
	}
	return NULL;
}

/*
 * libmicrohttpd calls this for every accepted socket before it makes a
 * connection of it; a refused socket is closed at once. It is called just
 * before MHD_CONNECTION_NOTIFY_STARTED for the same socket, with no other
 * connection in between, so counting there keeps the table exact.
 */
static enum MHD_Result http_accept_policy(void *cls,
    const struct sockaddr *sa, socklen_t len)
{
	struct http_server *srv = cls;
	const struct http_addr *a;
	uint8_t key[16];
	int v;

	http_addr_key(sa, len, key);
	a = http_addr_find(srv, key);
	v = http_admit(srv->max_conn, srv->per_address, srv->open,
	    a != NULL ? a->open : 0, http_key_is_loopback(key));
	if (v == HTTP_ACCEPT)
		return MHD_YES;
	srv->refused[v]++;
	return MHD_NO;
}

/*
 * Only called from MHD_CONNECTION_NOTIFY_STARTED, i.e. from libmicrohttpd's
 * accept step: every connection we hold is then still in its timeout lists
 * (it takes one out only later in an MHD_run(), which then also reports it
 * closed), as MHD_set_connection_option() needs.
 */
static void http_shorten(struct http_conn *c)
{
	if (c->short_timeout)
		return;
	c->short_timeout = true;
	(void)MHD_set_connection_option(c->mhd, MHD_CONNECTION_OPTION_TIMEOUT,
	    (unsigned)HTTP_PRESSURE_TIMEOUT_S);
}

static void http_conn_started(struct http_server *srv,
    struct MHD_Connection *conn, void **ctx)
{
	const union MHD_ConnectionInfo *ci;
	struct http_conn *c = srv->free_conns;
	struct http_addr *a;
	size_t i;

	/* No slot cannot happen (libmicrohttpd keeps to max_conn); the
	 * connection then just goes uncounted. */
	if (c == NULL)
		return;
	srv->free_conns = c->next_free;
	c->next_free = NULL;
	c->mhd = conn;
	c->short_timeout = false;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	/* libmicrohttpd keeps the whole address accept() gave. */
	http_addr_key(ci != NULL ? ci->client_addr : NULL,
	    sizeof(struct sockaddr_in6), c->key);
	a = http_addr_find(srv, c->key);
	if (a == NULL && srv->naddrs < srv->max_conn) {
		a = &srv->addrs[srv->naddrs++];
		memcpy(a->key, c->key, 16);
		a->open = 0;
	}
	if (a != NULL)
		a->open++;
	srv->open++;
	*ctx = c;

	/*
	 * Under pressure a connection that has said nothing for a while is
	 * more likely a slow client or an attack than a peer: every open
	 * connection gets the short idle timeout, so that slots come free
	 * for the probes within seconds. It is not lengthened again.
	 */
	if (srv->open < srv->pressure_at ||
	    srv->timeout_s <= HTTP_PRESSURE_TIMEOUT_S)
		return;
	if (!srv->pressure) {
		srv->pressure = true;
		for (i = 0; i < srv->max_conn; i++) {
			if (srv->conns[i].mhd != NULL)
				http_shorten(&srv->conns[i]);
		}
	}
	http_shorten(c);
}

static void http_conn_closed(struct http_server *srv, void **ctx)
{
	struct http_conn *c = *ctx;
	struct http_addr *a;

	if (c == NULL)
		return;
	*ctx = NULL;
	a = http_addr_find(srv, c->key);
	if (a != NULL && --a->open == 0)
		*a = srv->addrs[--srv->naddrs];
	srv->open--;
	if (srv->open < srv->pressure_at)
		srv->pressure = false;
	c->mhd = NULL;
	c->next_free = srv->free_conns;
	srv->free_conns = c;
}

static void http_notify(void *cls, struct MHD_Connection *conn, void **ctx,
    enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		http_conn_started(cls, conn, ctx);
	else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		http_conn_closed(cls, ctx);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn,
    const char *url, const char *method, const char *version,
    const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request req;
	struct http_response r;
	size_t idx;
	int from, rc;

	(void)version;
	(void)upload_data;
	idx = http_path_index(srv, url);

	/*
	 * Refusals are answered on the first call, before any body is read:
	 * libmicrohttpd then closes the connection instead of reading an
	 * upload we do not want. A body that arrives anyway is refused.
	 */
	if (*upload_data_size != 0) {
		*upload_data_size = 0;
		return http_send_static(conn, srv, idx,
		    MHD_HTTP_CONTENT_TOO_LARGE, "request body not accepted\n");
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return http_send_static(conn, srv, idx,
		    MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (idx == srv->npaths)
		return http_send_static(conn, srv, idx, MHD_HTTP_NOT_FOUND,
		    "not found\n");
	if (http_has_body(conn))
		return http_send_static(conn, srv, idx,
		    MHD_HTTP_CONTENT_TOO_LARGE, "request body not accepted\n");
	/*
	 * A good request is answered on the second call, once the (empty)
	 * request is complete: answering earlier makes libmicrohttpd close
	 * the connection instead of keeping it alive.
	 */
	if (*con_cls == NULL) {
		*con_cls = srv;
		return MHD_YES;
	}

	from = http_parse_from(
	    MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "from"));
	if (from < 0)
		from = http_parse_from(MHD_lookup_connection_value(conn,
		    MHD_HEADER_KIND, "X-Peerd-From"));
	req.path = srv->paths[idx];
	req.from = from;
	req.have = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND,
	    "have");
	req.doc = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Peerd-Doc");
	req.network = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-Peerd-Network");
	http_peer_ip(conn, req.peer_ip);

	memset(&r, 0, sizeof(r));
	rc = srv->handler(srv->arg, &req, &r);
	if (rc == -ENOENT) {
		free(r.body);
		return http_send_static(conn, srv, idx, MHD_HTTP_NOT_FOUND,
		    "not found\n");
	}
	if (rc < 0) {
		free(r.body);
		return http_send_static(conn, srv, idx,
		    MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
	}
	if (r.body == NULL)
		r.len = 0;
	return http_send(conn, srv, idx, r.code != 0 ? r.code : MHD_HTTP_OK,
	    r.content_type, r.body, r.len, r.body != NULL, r.header_name,
	    r.header_value);
}

static unsigned http_connections(struct http_server *srv)
{
	const union MHD_DaemonInfo *info;

	info = MHD_get_daemon_info(srv->mhd,
	    MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
	return info != NULL ? info->num_connections : 0;
}

/* Runs libmicrohttpd once and re-arms the timer from its next deadline. */
static void http_step(struct http_server *srv)
{
	unsigned before = http_connections(srv);

	(void)MHD_run(srv->mhd);
	/*
	 * At the connection limit libmicrohttpd takes the listening socket
	 * out of its epoll set and only puts it back at the start of the next
	 * run, which nothing would trigger: when connections closed, run
	 * again at once so the backlog is accepted.
	 */
	http_arm_timer(srv, http_connections(srv) < before);
}

static void http_on_timer(void *arg)
{
	struct http_server *srv = arg;

	srv->timer = 0;
	http_step(srv);
}

static void http_on_epoll(void *arg, int fd, uint32_t revents)
{
	(void)fd;
	(void)revents;
	http_step(arg);
}

static void http_arm_timer(struct http_server *srv, bool now)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	long id;

	if (srv->timer > 0) {
		evloop_timer_cancel(srv->loop, srv->timer);
		srv->timer = 0;
	}
	if (!now && MHD_get_timeout(srv->mhd, &ms) != MHD_YES)
		return;
	id = evloop_timer(srv->loop, evloop_now() + ms, http_on_timer, srv);
	/* Without a timer idle connections only expire on the next event:
	 * not fatal, and there is nobody to tell here. */
	if (id > 0)
		srv->timer = id;
}

static struct MHD_Daemon *http_start(struct http_server *srv,
    const struct http_server_config *cfg, unsigned flags,
    const struct sockaddr *sa)
{
	size_t mem = cfg->conn_memory ? cfg->conn_memory
				      : HTTP_DEFAULT_CONN_MEMORY;

	/*
	 * No MHD_USE_ERROR_LOG: modules do not log (style rule 4). Not
	 * MHD_OPTION_PER_IP_CONNECTION_LIMIT: http_accept_policy() counts
	 * per address itself, to count refusals and know loopback.
	 */
	return MHD_start_daemon(flags | MHD_USE_EPOLL, cfg->port,
	    http_accept_policy, srv, http_access, srv,
	    MHD_OPTION_CONNECTION_LIMIT, srv->max_conn,
	    MHD_OPTION_CONNECTION_TIMEOUT, srv->timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
	    MHD_OPTION_NOTIFY_CONNECTION, http_notify, srv,
	    sa != NULL ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_END, sa,
	    MHD_OPTION_END);
}

static int http_listen(struct http_server *srv,
    const struct http_server_config *cfg)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const char *a = cfg->bind_addr;

	errno = 0;
	if (a == NULL || a[0] == '\0') {
		srv->mhd = http_start(srv, cfg, MHD_USE_DUAL_STACK, NULL);
		/* No IPv6 in this network namespace: IPv4 alone. */
		if (srv->mhd == NULL)
			srv->mhd = http_start(srv, cfg, 0, NULL);
	} else if (inet_pton(AF_INET, a, &sin.sin_addr) == 1) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(cfg->port);
		(void)inet_pton(AF_INET, a, &sin.sin_addr);
		srv->mhd = http_start(srv, cfg, 0,
		    (const struct sockaddr *)&sin);
	} else if (inet_pton(AF_INET6, a, &sin6.sin6_addr) == 1) {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(cfg->port);
		(void)inet_pton(AF_INET6, a, &sin6.sin6_addr);
		/* "::" means every address, IPv4 included. */
		srv->mhd = http_start(srv, cfg,
		    IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr)
			? MHD_USE_DUAL_STACK
			: MHD_USE_IPv6,
		    (const struct sockaddr *)&sin6);
	} else {
		return -EINVAL;
	}
	if (srv->mhd == NULL)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

struct http_server *http_server_new(struct evloop *l,
    const struct http_server_config *cfg, http_server_handler *handler,
    void *arg)
{
	struct http_server *srv = NULL;
	const union MHD_DaemonInfo *info;
	int err = EINVAL, rc;
	size_t i;

	if (l == NULL || cfg == NULL || handler == NULL || cfg->paths == NULL)
		goto fail;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		err = ENOMEM;
		goto fail;
	}
	srv->loop = l;
	srv->epfd = -1;
	srv->handler = handler;
	srv->arg = arg;
	for (i = 0; cfg->paths[i] != NULL; i++) {
		/* Paths become metric labels: keep them quote-free. */
		if (i == HTTP_MAX_PATHS || cfg->paths[i][0] != '/' ||
		    strpbrk(cfg->paths[i], "\"\\\n") != NULL) {
			err = EINVAL;
			goto fail;
		}
		srv->paths[i] = strdup(cfg->paths[i]);
		if (srv->paths[i] == NULL) {
			err = ENOMEM;
			goto fail;
		}
		srv->npaths = i + 1;
	}
	srv->max_conn = cfg->max_connections ? cfg->max_connections
					     : HTTP_DEFAULT_MAX_CONN;
	srv->per_address = cfg->max_per_address ? cfg->max_per_address
						: HTTP_DEFAULT_PER_ADDRESS;
	srv->timeout_s = cfg->timeout_s ? cfg->timeout_s
					: HTTP_DEFAULT_TIMEOUT_S;
	srv->pressure_at = srv->max_conn - srv->max_conn / 4;
	srv->conns = calloc(srv->max_conn, sizeof(*srv->conns));
	srv->addrs = calloc(srv->max_conn, sizeof(*srv->addrs));
	if (srv->conns == NULL || srv->addrs == NULL) {
		err = ENOMEM;
		goto fail;
	}
	for (i = srv->max_conn; i > 0; i--) {
		srv->conns[i - 1].next_free = srv->free_conns;
		srv->free_conns = &srv->conns[i - 1];
	}

	rc = http_listen(srv, cfg);
	if (rc < 0) {
		err = -rc;
		goto fail;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL || info->epoll_fd < 0) {
		err = EIO;
		goto fail;
	}
	srv->epfd = info->epoll_fd;
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info != NULL ? info->port : cfg->port;

	rc = evloop_watch(l, srv->epfd, EPOLLIN, http_on_epoll, srv);
	if (rc < 0) {
		err = -rc;
		srv->epfd = -1;
		goto fail;
	}
	http_arm_timer(srv, false);
	return srv;

fail:
	http_server_free(srv);
	errno = err;
	return NULL;
}

void http_server_free(struct http_server *srv)
{
	size_t i;

	if (srv == NULL)
		return;
	if (srv->timer > 0)
		evloop_timer_cancel(srv->loop, srv->timer);
	if (srv->epfd >= 0)
		evloop_unwatch(srv->loop, srv->epfd);
	/* Reports every connection closed: before the tables go. */
	if (srv->mhd != NULL)
		MHD_stop_daemon(srv->mhd);
	for (i = 0; i < srv->npaths; i++)
		free(srv->paths[i]);
	free(srv->conns);
	free(srv->addrs);
	free(srv);
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->port;
}

int http_server_metrics(const struct http_server *srv, char *buf, size_t len,
    size_t *used)
{
	size_t start = *used, p, c;
	const struct http_count *cnt;
	const char *path;
	char code[16];
	int rc, v;

	rc = strbuf_appendf(buf, len, used,
	    "# HELP peerd_http_requests_total HTTP requests answered, by path "
	    "and status code.\n"
	    "# TYPE peerd_http_requests_total counter\n");
	for (p = 0; rc == 0 && p <= srv->npaths; p++) {
		path = p < srv->npaths ? srv->paths[p] : "other";
		for (c = 0; rc == 0 && c < HTTP_CODE_SLOTS; c++) {
			cnt = &srv->counts[p][c];
			if (cnt->n == 0)
				continue;
			if (cnt->code < 0)
				snprintf(code, sizeof(code), "other");
			else
				snprintf(code, sizeof(code), "%d", cnt->code);
			rc = strbuf_appendf(buf, len, used,
			    "peerd_http_requests_total{path=\"%s\",code=\"%s\"}"
			    " %lu\n",
			    path, code, cnt->n);
		}
	}
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used,
		    "# HELP peerd_http_connections HTTP connections open.\n"
		    "# TYPE peerd_http_connections gauge\n"
		    "peerd_http_connections %u\n"
		    "# HELP peerd_http_refused_total HTTP connections closed "
		    "unanswered at accept, by reason.\n"
		    "# TYPE peerd_http_refused_total counter\n",
		    srv->open);
	for (v = HTTP_ACCEPT + 1; rc == 0 && v < HTTP_VERDICTS; v++)
		rc = strbuf_appendf(buf, len, used,
		    "peerd_http_refused_total{reason=\"%s\"} %lu\n",
		    refuse_reasons[v], srv->refused[v]);
	if (rc < 0) {
		*used = start;
		if (start < len)
			buf[start] = '\0';
	}
	return rc;
}
