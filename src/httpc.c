/*
 * One-off GETs on the event loop (curlloop: libcurl multi on evloop). See
 * httpc.h.
 */
#include "peerd/httpc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "peerd/curlloop.h"
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
	struct curlloop *cl;
	struct hreq *reqs;
	unsigned pending;
};

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

bool httpc_network_header(const char *buf, size_t n, char out[static 67])
{
	static const char name[] = "x-peerd-network:";
	size_t i = sizeof(name) - 1, e;

	if (n <= i || strncasecmp(buf, name, i) != 0)
		return false;
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	e = i;
	while (e < n && buf[e] != '\r' && buf[e] != '\n')
		e++;
	if (e - i != 66 || buf[i] != '0' || buf[i + 1] != 'x' ||
	    !encoding_is_lowerhex(buf + i + 2, 64))
		return false;
	memcpy(out, buf + i, 66);
	out[66] = '\0';
	return true;
}

static size_t h_header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
	struct hreq *q = userp;

	(void)httpc_network_header(buf, size * nitems, q->network);
	return size * nitems;
}

static void h_req_free(struct hreq *q)
{
	if (q->easy != NULL) {
		curlloop_remove(q->h->cl, q->easy);
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

/* A request is over: its callback, then it goes. */
static void h_done(void *arg, CURL *e, CURLcode rc)
{
	struct httpc *h = arg;
	struct hreq *q = NULL;
	struct httpc_result res = {0};
	char *ip = NULL;
	int err = 0;

	(void)curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
	if (q == NULL)
		return;
	if (rc != CURLE_OK)
		err = q->toobig ? -E2BIG : h_err(rc);
	(void)curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &res.code);
	if (curl_easy_getinfo(q->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
	    ip != NULL && strlen(ip) < sizeof(res.ip))
		memcpy(res.ip, ip, strlen(ip) + 1);
	q->body[q->len] = '\0';
	res.body = q->body;
	res.len = q->len;
	memcpy(res.network, q->network, sizeof(res.network));
	h_unlink(h, q);
	q->cb(q->arg, err, err == 0 ? &res : NULL);
	curl_easy_cleanup(q->easy); /* out of the multi handle already */
	q->easy = NULL;
	h_req_free(q);
}

struct httpc *httpc_new(struct evloop *l)
{
	struct httpc *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->cl = curlloop_new(l, h_done, NULL, h);
	if (h->cl == NULL) {
		int e = errno;

		free(h);
		errno = e;
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
	curlloop_free(h->cl);
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
	if (curlloop_add(h->cl, q->easy) < 0)
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
