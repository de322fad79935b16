/*
 * The one event loop: epoll for fds, a small unsorted timer table scanned
 * for the earliest deadline. A node has at most a few hundred timers (one
 * backoff per peer), so a linear scan per iteration is cheaper than keeping
 * a heap in order.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "peerd/evloop.h"

struct watcher {
	int fd;
	evloop_fd_cb *cb;
	void *arg;
	bool dead;
	struct watcher *next;
};

struct timer {
	long id; /* 0 = free slot */
	uint64_t deadline;
	evloop_timer_cb *cb;
	void *arg;
};

struct evloop {
	int epfd;
	struct watcher *watchers;
	struct timer *timers;
	size_t ntimers, captimers;
	long next_id;
	bool stop;
	int dispatching;
};

uint64_t evloop_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct evloop *evloop_new(void)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int e = errno;

		free(l);
		errno = e;
		return NULL;
	}
	l->next_id = 1;
	return l;
}

static void reap_watchers(struct evloop *l)
{
	struct watcher **pp = &l->watchers;

	while (*pp != NULL) {
		struct watcher *w = *pp;

		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void evloop_free(struct evloop *l)
{
	struct watcher *w, *next;

	if (l == NULL)
		return;
	for (w = l->watchers; w != NULL; w = next) {
		next = w->next;
		free(w);
	}
	free(l->timers);
	close(l->epfd);
	free(l);
}

static struct watcher *find_watcher(struct evloop *l, int fd)
{
	struct watcher *w;

	for (w = l->watchers; w != NULL; w = w->next)
		if (w->fd == fd && !w->dead)
			return w;
	return NULL;
}

int evloop_watch(struct evloop *l, int fd, uint32_t events, evloop_fd_cb *cb,
    void *arg)
{
	struct epoll_event ev = {.events = events};
	struct watcher *w;

	if (find_watcher(l, fd) != NULL)
		return -EEXIST;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return -ENOMEM;
	w->fd = fd;
	w->cb = cb;
	w->arg = arg;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = errno;

		free(w);
		return -e;
	}
	w->next = l->watchers;
	l->watchers = w;
	return 0;
}

int evloop_modify(struct evloop *l, int fd, uint32_t events)
{
	struct watcher *w = find_watcher(l, fd);
	struct epoll_event ev = {.events = events};

	if (w == NULL)
		return -ENOENT;
	ev.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	return 0;
}

void evloop_unwatch(struct evloop *l, int fd)
{
	struct watcher *w = find_watcher(l, fd);

	if (w == NULL)
		return;
	/* The fd may already be closed (curl closes before telling us). */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = true;
	if (l->dispatching == 0)
		reap_watchers(l);
}

long evloop_timer(struct evloop *l, uint64_t deadline_ms, evloop_timer_cb *cb,
    void *arg)
{
	size_t i;

	for (i = 0; i < l->ntimers; i++)
		if (l->timers[i].id == 0)
			break;
	if (i == l->ntimers) {
		if (l->ntimers == l->captimers) {
			size_t cap = l->captimers ? l->captimers * 2 : 16;
			struct timer *t = realloc(l->timers, cap * sizeof(*t));

			if (t == NULL)
				return -ENOMEM;
			l->timers = t;
			l->captimers = cap;
		}
		l->ntimers++;
	}
	l->timers[i].id = l->next_id++;
	l->timers[i].deadline = deadline_ms;
	l->timers[i].cb = cb;
	l->timers[i].arg = arg;
	return l->timers[i].id;
}

void evloop_timer_cancel(struct evloop *l, long id)
{
	size_t i;

	if (id <= 0)
		return;
	for (i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i].id = 0;
			return;
		}
	}
}

static int next_wait(const struct evloop *l, int max_wait_ms)
{
	uint64_t now = evloop_now(), best = UINT64_MAX;
	size_t i;

	for (i = 0; i < l->ntimers; i++)
		if (l->timers[i].id != 0 && l->timers[i].deadline < best)
			best = l->timers[i].deadline;
	if (best == UINT64_MAX)
		return max_wait_ms;
	if (best <= now)
		return 0;
	if (max_wait_ms >= 0 && best - now > (uint64_t)max_wait_ms)
		return max_wait_ms;
	return best - now > 3600000 ? 3600000 : (int)(best - now);
}

static void fire_timers(struct evloop *l)
{
	uint64_t now = evloop_now();
	size_t i, n = l->ntimers;

	/* Timers added by a callback wait for the next round (i < n). */
	for (i = 0; i < n && i < l->ntimers; i++) {
		struct timer t = l->timers[i];

		if (t.id == 0 || t.deadline > now)
			continue;
		l->timers[i].id = 0;
		t.cb(t.arg);
	}
	while (l->ntimers > 0 && l->timers[l->ntimers - 1].id == 0)
		l->ntimers--;
}

int evloop_run_once(struct evloop *l, int max_wait_ms)
{
	struct epoll_event evs[64];
	int n, i;

	n = epoll_wait(l->epfd, evs, 64, next_wait(l, max_wait_ms));
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return -errno;
	}
	l->dispatching++;
	for (i = 0; i < n; i++) {
		struct watcher *w = evs[i].data.ptr;

		if (!w->dead)
			w->cb(w->arg, w->fd, evs[i].events);
	}
	l->dispatching--;
	if (l->dispatching == 0)
		reap_watchers(l);
	fire_timers(l);
	return 0;
}

int evloop_run(struct evloop *l)
{
	int r;

	l->stop = false;
	while (!l->stop) {
		r = evloop_run_once(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void evloop_stop(struct evloop *l)
{
	l->stop = true;
}
