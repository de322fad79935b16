#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/evloop.h"

struct rec {
	struct evloop *l;
	int order[8];
	int n;
	int fd_hits;
	long cancel_me;
};

static void mark(void *arg, int v)
{
	struct rec *r = arg;

	if (r->n < 8)
		r->order[r->n++] = v;
}

static void t1(void *arg) { mark(arg, 1); }
static void t2(void *arg) { mark(arg, 2); }
static void t3(void *arg) { mark(arg, 3); }

static void t_cancel(void *arg)
{
	struct rec *r = arg;

	mark(arg, 9);
	evloop_timer_cancel(r->l, r->cancel_me);
}

static void t_stop(void *arg)
{
	struct rec *r = arg;

	mark(arg, 7);
	evloop_stop(r->l);
}

static void test_timers_in_deadline_order(void **state)
{
	struct rec r = {0};
	uint64_t now = evloop_now();

	(void)state;
	r.l = evloop_new();
	assert_non_null(r.l);
	assert_true(evloop_timer(r.l, now + 30, t3, &r) > 0);
	assert_true(evloop_timer(r.l, now + 10, t1, &r) > 0);
	assert_true(evloop_timer(r.l, now + 20, t2, &r) > 0);
	assert_true(evloop_timer(r.l, now + 60, t_stop, &r) > 0);
	assert_int_equal(evloop_run(r.l), 0);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.order[0], 1);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(r.order[2], 3);
	assert_int_equal(r.order[3], 7);
	assert_true(evloop_now() >= now + 60);
	evloop_free(r.l);
}

static void test_cancel(void **state)
{
	struct rec r = {0};
	uint64_t now = evloop_now();

	(void)state;
	r.l = evloop_new();
	r.cancel_me = evloop_timer(r.l, now + 40, t1, &r);
	assert_true(evloop_timer(r.l, now + 5, t_cancel, &r) > 0);
	assert_true(evloop_timer(r.l, now + 80, t_stop, &r) > 0);
	evloop_timer_cancel(r.l, 12345); /* unknown: no-op */
	assert_int_equal(evloop_run(r.l), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 9);
	assert_int_equal(r.order[1], 7);
	evloop_free(r.l);
}

static void on_read(void *arg, int fd, uint32_t ev)
{
	struct rec *r = arg;
	char c;

	assert_true(ev & EPOLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	r->fd_hits++;
	if (c == 'q') {
		evloop_unwatch(r->l, fd);
		evloop_stop(r->l);
	}
}

static void test_fd_watch(void **state)
{
	struct rec r = {0};
	int p[2];

	(void)state;
	r.l = evloop_new();
	assert_int_equal(pipe(p), 0);
	assert_int_equal(evloop_watch(r.l, p[0], EPOLLIN, on_read, &r), 0);
	assert_int_equal(evloop_watch(r.l, p[0], EPOLLIN, on_read, &r),
	    -EEXIST);
	assert_int_equal(write(p[1], "ab", 2), 2);
	assert_int_equal(evloop_run_once(r.l, 100), 0);
	assert_int_equal(evloop_run_once(r.l, 100), 0);
	assert_int_equal(r.fd_hits, 2);
	/* Nothing ready: returns after the wait without a callback. */
	assert_int_equal(evloop_run_once(r.l, 10), 0);
	assert_int_equal(r.fd_hits, 2);
	assert_int_equal(write(p[1], "q", 1), 1);
	assert_int_equal(evloop_run(r.l), 0);
	assert_int_equal(r.fd_hits, 3);
	assert_int_equal(evloop_modify(r.l, p[0], EPOLLIN), -ENOENT);
	close(p[0]);
	close(p[1]);
	evloop_free(r.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timers_in_deadline_order),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_fd_watch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
