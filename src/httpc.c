/*
 * One-off GETs on the event loop: libcurl multi, its sockets and timer
 * handed to evloop. See httpc.h.
 */
#include "peerd/httpc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include <curl/curl.h>

#include "peerd/encoding.h"

#define HTTPC_MAX_PENDING 64

struct hreq {
	struct httpc *h;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	size_t len, max;
	bool toobig;
	char network[67];
	httpc_cb *cb;
	void *arg;
	struct hreq *next;
};

struct httpc {
	struct evloop *loop;
	CURLM *multi;
	long mtimer;
	long deliver_timer;
	struct hreq *reqs;
	unsigned pending;
};

static void h_done(struct httpc *h);

static void h_on_fd(void *arg, int fd, uint32_t revents)
{
	struct httpc *h = arg;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	(void)curl_multi_socket_action(h->multi, fd, flags, &running);
	h_done(h);
}

static int h_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct httpc *h = userp;
	uint32_t ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL)
			evloop_unwatch(h->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (socketp != NULL)
		return evloop_modify(h->loop, s, ev) < 0 ? -1 : 0;
	if (evloop_watch(h->loop, s, ev, h_on_fd, h) < 0)
		return -1;
	curl_multi_assign(h->multi, s, h);
	return 0;
}

static void h_on_mtimer(void *arg)
{
	struct httpc *h = arg;
	int running;

	h->mtimer = 0;
	(void)curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	h_done(h);
}

static int h_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct httpc *h = userp;
	long id;

	(void)multi;
	if (h->mtimer > 0) {
		evloop_timer_cancel(h->loop, h->mtimer);
		h->mtimer = 0;
	}
	if (timeout_ms < 0)
		return 0;
	id = evloop_timer(h->loop, evloop_now() + (uint64_t)timeout_ms,
	    h_on_mtimer, h);
	if (id < 0)
		return -1;
	h->mtimer = id;
	return 0;
}

static size_t h_write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct hreq *q = userp;
	size_t n = size * nmemb;

	if (n > q->max - q->len) {
		q->toobig = true;
		return 0;
	}
	memcpy(q->body + q->len, ptr, n);
	q->len += n;
	return n;
}

static size_t h_header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	static const char name[] = "x-peerd-network:";
	struct hreq *q = userp;
	size_t n = size * nitems, i = sizeof(name) - 1, e;

	if (n <= i || strncasecmp(buf, name, i) != 0)
		return n;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	e = i;
	while (e < n && buf[e] != '\r' && buf[e] != '\n')
		e++;
	if (e - i == 66 && buf[i] == '0' && buf[i + 1] == 'x' &&
	    encoding_is_lowerhex(buf + i + 2, 64)) {
		memcpy(q->network, buf + i, 66);
		q->network[66] = '\0';
	}
	return n;
}

static void h_req_free(struct hreq *q)
{
	if (q->easy != NULL) {
		(void)curl_multi_remove_handle(q->h->multi, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->hdrs);
	free(q->body);
	free(q);
}

static void h_unlink(struct httpc *h, struct hreq *q)
{
	struct hreq **pp;

	for (pp = &h->reqs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == q) {
			*pp = q->next;
			h->pending--;
			return;
		}
	}
}

static int h_err(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		return -E2BIG;
	default:
		return -EIO;
	}
}

static void h_done(struct httpc *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct hreq *q = NULL;
		struct httpc_result res = {0};
		char *ip = NULL;
		int err = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&q);
		if (q == NULL)
			continue;
		if (m->data.result != CURLE_OK)
			err = q->toobig ? -E2BIG : h_err(m->data.result);
		(void)curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE,
		    &res.code);
		if (curl_easy_getinfo(q->easy, CURLINFO_PRIMARY_IP, &ip) ==
		    CURLE_OK && ip != NULL && strlen(ip) < sizeof(res.ip))
			memcpy(res.ip, ip, strlen(ip) + 1);
		q->body[q->len] = '\0';
		res.body = q->body;
		res.len = q->len;
		memcpy(res.network, q->network, sizeof(res.network));
		h_unlink(h, q);
		q->cb(q->arg, err, err == 0 ? &res : NULL);
		h_req_free(q);
	}
}

struct httpc *httpc_new(struct evloop *l)
{
	struct httpc *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->loop = l;
	h->multi = curl_multi_init();
	if (h->multi == NULL ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, h_socket_cb) !=
		CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h) != CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, h_timer_cb) !=
		CURLM_OK ||
	    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h) != CURLM_OK) {
		if (h->multi != NULL)
			curl_multi_cleanup(h->multi);
		free(h);
		errno = ENOMEM;
		return NULL;
	}
	return h;
}

void httpc_free(struct httpc *h)
{
	if (h == NULL)
		return;
	while (h->reqs != NULL) {
		struct hreq *q = h->reqs;

		h->reqs = q->next;
		h_req_free(q);
	}
	evloop_timer_cancel(h->loop, h->mtimer);
	curl_multi_cleanup(h->multi);
	free(h);
}

unsigned httpc_pending(const struct httpc *h)
{
	return h->pending;
}

int httpc_get(struct httpc *h, const char *url, const char *const *headers,
    size_t max, unsigned timeout_ms, httpc_cb *cb, void *arg)
{
	struct hreq *q;

	if (strncmp(url, "http://", 7) != 0 || max == 0 || cb == NULL)
		return -EINVAL;
	if (h->pending >= HTTPC_MAX_PENDING)
		return -ENOBUFS;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	q->h = h;
	q->max = max;
	q->cb = cb;
	q->arg = arg;
	q->body = malloc(max + 1);
	q->easy = curl_easy_init();
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		struct curl_slist *l = curl_slist_append(q->hdrs, headers[i]);

		if (l == NULL)
			goto fail;
		q->hdrs = l;
	}
	if (q->body == NULL || q->easy == NULL ||
	    curl_easy_setopt(q->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_PROTOCOLS_STR, "http") !=
		CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
		CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_MAXFILESIZE, (long)max) !=
		CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, h_write_cb) !=
		CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_HEADERFUNCTION, h_header_cb) !=
		CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_HEADERDATA, q) != CURLE_OK ||
	    curl_easy_setopt(q->easy, CURLOPT_USERAGENT,
		"quorum-peerd/" PEERD_VERSION) != CURLE_OK ||
	    (q->hdrs != NULL &&
		curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs) !=
		    CURLE_OK))
		goto fail;
	if (curl_multi_add_handle(h->multi, q->easy) != CURLM_OK)
		goto fail;
	q->next = h->reqs;
	h->reqs = q;
	h->pending++;
	return 0;
fail:
	if (q->easy != NULL)
		curl_easy_cleanup(q->easy);
	curl_slist_free_all(q->hdrs);
	free(q->body);
	free(q);
	return -ENOMEM;
}
