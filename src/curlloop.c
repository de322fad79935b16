/*
 * libcurl multi on evloop (see curlloop.h): the socket and timer callbacks
 * libcurl asks for, and the dispatch of finished transfers.
 */
#include "peerd/curlloop.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

struct curlloop {
	struct evloop *loop;
	CURLM *multi;
	long timer; /* libcurl's timeout, 0 = none */
	curlloop_done_cb *done;
	curlloop_batch_cb *batch;
	void *arg;
	bool stopped, inited;
	/* fds handed to the loop, so that none is left behind at free */
	int *fds;
	size_t nfds, capfds;
};

static int fd_add(struct curlloop *c, int fd)
{
	if (c->nfds == c->capfds) {
		size_t cap = c->capfds ? c->capfds * 2 : 16;
		int *f = realloc(c->fds, cap * sizeof(*f));

		if (f == NULL)
			return -ENOMEM;
		c->fds = f;
		c->capfds = cap;
	}
	c->fds[c->nfds++] = fd;
	return 0;
}

static void fd_del(struct curlloop *c, int fd)
{
	for (size_t i = 0; i < c->nfds; i++) {
		if (c->fds[i] == fd) {
			c->fds[i] = c->fds[--c->nfds];
			return;
		}
	}
}

static void dispatch(struct curlloop *c)
{
	CURLMsg *m;
	int left;

	while (!c->stopped && (m = curl_multi_info_read(c->multi, &left)) !=
	    NULL) {
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		(void)curl_multi_remove_handle(c->multi, e);
		c->done(c->arg, e, rc);
	}
	if (!c->stopped && c->batch != NULL)
		c->batch(c->arg);
}

static void on_fd(void *arg, int fd, uint32_t revents)
{
	struct curlloop *c = arg;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	(void)curl_multi_socket_action(c->multi, fd, flags, &running);
	dispatch(c);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *socketp)
{
	struct curlloop *c = userp;
	uint32_t ev = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (socketp != NULL) {
			evloop_unwatch(c->loop, s);
			fd_del(c, s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (socketp != NULL)
		return evloop_modify(c->loop, s, ev) < 0 ? -1 : 0;
	if (fd_add(c, s) < 0)
		return -1;
	if (evloop_watch(c->loop, s, ev, on_fd, c) < 0) {
		fd_del(c, s);
		return -1;
	}
	/* Any non-NULL marker: "watched". */
	curl_multi_assign(c->multi, s, c);
	return 0;
}

static void on_timer(void *arg)
{
	struct curlloop *c = arg;
	int running;

	c->timer = 0;
	(void)curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running);
	dispatch(c);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlloop *c = userp;
	long id;

	(void)multi;
	if (c->timer > 0) {
		evloop_timer_cancel(c->loop, c->timer);
		c->timer = 0;
	}
	if (timeout_ms < 0 || c->stopped)
		return 0;
	/* A 0 ms timeout runs from the loop, never inside this callback. */
	id = evloop_timer(c->loop, evloop_now() + (uint64_t)timeout_ms,
	    on_timer, c);
	if (id < 0)
		return -1;
	c->timer = id;
	return 0;
}

struct curlloop *curlloop_new(struct evloop *l, curlloop_done_cb *done,
    curlloop_batch_cb *batch, void *arg)
{
	struct curlloop *c = calloc(1, sizeof(*c));
	int err = EIO;

	if (c == NULL)
		return NULL;
	c->loop = l;
	c->done = done;
	c->batch = batch;
	c->arg = arg;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	c->inited = true;
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		err = ENOMEM;
		goto fail;
	}
	if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) !=
		CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) !=
		CURLM_OK ||
	    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
		goto fail;
	return c;
fail:
	curlloop_free(c);
	errno = err;
	return NULL;
}

void curlloop_stop(struct curlloop *c)
{
	c->stopped = true;
	evloop_timer_cancel(c->loop, c->timer);
	c->timer = 0;
}

void curlloop_free(struct curlloop *c)
{
	if (c == NULL)
		return;
	curlloop_stop(c);
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	/* Whatever libcurl did not hand back must not stay on the loop. */
	for (size_t i = 0; i < c->nfds; i++)
		evloop_unwatch(c->loop, c->fds[i]);
	if (c->inited)
		curl_global_cleanup();
	free(c->fds);
	free(c);
}

int curlloop_add(struct curlloop *c, CURL *easy)
{
	return curl_multi_add_handle(c->multi, easy) == CURLM_OK ? 0 : -EIO;
}

void curlloop_remove(struct curlloop *c, CURL *easy)
{
	(void)curl_multi_remove_handle(c->multi, easy);
}
