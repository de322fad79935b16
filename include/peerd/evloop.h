#ifndef PEERD_EVLOOP_H
#define PEERD_EVLOOP_H

#include <stdint.h>

/*
 * The one event loop (style rule 10): epoll over every fd the daemon owns,
 * plus one-shot timers on the monotonic clock. Single-threaded.
 */

struct evloop;

typedef void evloop_fd_cb(void *arg, int fd, uint32_t revents);
typedef void evloop_timer_cb(void *arg);

struct evloop *evloop_new(void);
void evloop_free(struct evloop *l);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t evloop_now(void);

/* Watch fd for events (EPOLLIN/EPOLLOUT); one watcher per fd. 0 or -errno. */
int evloop_watch(struct evloop *l, int fd, uint32_t events, evloop_fd_cb *cb,
    void *arg) __attribute__((warn_unused_result));
int evloop_modify(struct evloop *l, int fd, uint32_t events)
    __attribute__((warn_unused_result));
/* Stops watching fd (safe inside a callback, also for other fds). */
void evloop_unwatch(struct evloop *l, int fd);

/*
 * One-shot timer at the absolute monotonic deadline (ms). Returns an id > 0,
 * or -errno. Cancelling an id that already fired or is unknown is a no-op.
 */
long evloop_timer(struct evloop *l, uint64_t deadline_ms, evloop_timer_cb *cb,
    void *arg) __attribute__((warn_unused_result));
void evloop_timer_cancel(struct evloop *l, long id);

/*
 * Waits at most max_wait_ms (-1 = until the next timer or event) and
 * dispatches what is ready. Returns 0 or -errno (EINTR is not an error).
 */
int evloop_run_once(struct evloop *l, int max_wait_ms);
/* Runs until evloop_stop(). */
int evloop_run(struct evloop *l);
void evloop_stop(struct evloop *l);

#endif
