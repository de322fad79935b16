/*
 * supervisor: the pure decision core (no processes), then the shell with
 * real short-lived processes (sh, sleep) on a real event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/log.h"
#include "peerd/supervisor.h"

#define EXITED(n) W_EXITCODE((n), 0)
#define KILLED(sig) W_EXITCODE(0, (sig))

static struct supervisor_act acts[SUPERVISOR_MAX_ACTS];

static void expect_act(const struct supervisor_act *a,
    enum supervisor_act_type type, int child, int sig)
{
	assert_int_equal(a->type, type);
	assert_int_equal(a->child, child);
	assert_int_equal(a->sig, sig);
}

/* TM (index 0) then geth (index 1), launched. */
static void two_children(struct supervisor_core *c)
{
	supervisor_core_init(c, 25000, 2000);
	assert_int_equal(supervisor_core_add(c, "tessera", 100, false), 0);
	assert_int_equal(supervisor_core_add(c, "geth", 200, false), 1);
	supervisor_core_launched(c);
}

/* From the stop of the last child to FINISH; returns the code. */
static int sweep_and_finish(struct supervisor_core *c)
{
	size_t n;

	assert_int_equal(c->phase, SUPERVISOR_SWEEP);
	n = supervisor_core_no_children(c, acts);
	assert_int_equal(n, 2);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_CANCEL_TIMER);
	assert_int_equal(acts[1].type, SUPERVISOR_ACT_FINISH);
	assert_int_equal(c->phase, SUPERVISOR_DONE);
	/* Only once. */
	assert_int_equal(supervisor_core_no_children(c, acts), 0);
	return acts[1].code;
}

static void test_exit_code_mapping(void **state)
{
	(void)state;
	assert_int_equal(supervisor_exit_code(EXITED(0)), 0);
	assert_int_equal(supervisor_exit_code(EXITED(3)), 3);
	assert_int_equal(supervisor_exit_code(EXITED(255)), 255);
	assert_int_equal(supervisor_exit_code(KILLED(SIGTERM)), 143);
	assert_int_equal(supervisor_exit_code(KILLED(SIGKILL)), 137);
	assert_int_equal(supervisor_exit_code(KILLED(SIGSEGV)), 139);
}

static void test_requested_stop_order(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	two_children(&c);
	n = supervisor_core_signal(&c, SIGTERM, acts);
	/* geth first: TERM, CONT, stop timer. */
	assert_int_equal(n, 3);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 1, SIGTERM);
	expect_act(&acts[1], SUPERVISOR_ACT_SIGNAL, 1, SIGCONT);
	assert_int_equal(acts[2].type, SUPERVISOR_ACT_TIMER);
	assert_int_equal(acts[2].ms, 25000);
	assert_int_equal(c.phase, SUPERVISOR_STOPPING);

	/* The TM is not touched before geth is gone. */
	n = supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	assert_int_equal(idx, 1);
	assert_int_equal(n, 4);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_CANCEL_TIMER);
	expect_act(&acts[1], SUPERVISOR_ACT_SIGNAL, 0, SIGTERM);
	expect_act(&acts[2], SUPERVISOR_ACT_SIGNAL, 0, SIGCONT);
	assert_int_equal(acts[3].type, SUPERVISOR_ACT_TIMER);

	/* The JVM's 143 does not drive the code. */
	n = supervisor_core_exited(&c, 100, KILLED(SIGTERM), &idx, acts);
	assert_int_equal(idx, 0);
	assert_int_equal(n, 3);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_CANCEL_TIMER);
	assert_int_equal(acts[1].type, SUPERVISOR_ACT_TIMER);
	assert_int_equal(acts[1].ms, 2000);
	expect_act(&acts[2], SUPERVISOR_ACT_SWEEP, -1, SIGTERM);
	assert_int_equal(sweep_and_finish(&c), 0);
}

static void test_requested_stop_geth_killed_by_term(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	supervisor_core_signal(&c, SIGTERM, acts);
	/* Launched: geth's status decides, not the daemon's guess. */
	assert_int_equal(supervisor_core_shutdown(&c, 0, acts), 0);
	supervisor_core_exited(&c, 200, KILLED(SIGTERM), &idx, acts);
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 143);
}

static void test_double_signal_not_forwarded(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	assert_int_equal(supervisor_core_signal(&c, SIGTERM, acts), 3);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(supervisor_core_signal(&c, SIGTERM, acts), 0);
		assert_int_equal(supervisor_core_signal(&c, SIGINT, acts), 0);
		assert_int_equal(supervisor_core_signal(&c, SIGQUIT, acts), 0);
	}
	/* The first signal decides the 128+sig fallback and the reason. */
	assert_int_equal(c.cause_sig, SIGTERM);
	assert_non_null(strstr(c.reason, "SIGTERM"));
	supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 0);
}

static void test_escalation(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	two_children(&c);
	supervisor_core_signal(&c, SIGTERM, acts);
	n = supervisor_core_timer(&c, acts);
	assert_int_equal(n, 1);
	expect_act(&acts[0], SUPERVISOR_ACT_ESCALATE, 1, SIGKILL);
	/* A second timer event (stale) does nothing more. */
	assert_int_equal(supervisor_core_timer(&c, acts), 0);
	n = supervisor_core_exited(&c, 200, KILLED(SIGKILL), &idx, acts);
	expect_act(&acts[1], SUPERVISOR_ACT_SIGNAL, 0, SIGTERM);
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 137);
}

static void test_tm_needed_kill_gives_137(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	supervisor_core_signal(&c, SIGINT, acts);
	supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	assert_int_equal(supervisor_core_timer(&c, acts), 1);
	expect_act(&acts[0], SUPERVISOR_ACT_ESCALATE, 0, SIGKILL);
	supervisor_core_exited(&c, 100, KILLED(SIGKILL), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 137);
}

static void test_unexpected_death(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	two_children(&c);
	n = supervisor_core_exited(&c, 200, EXITED(3), &idx, acts);
	assert_int_equal(idx, 1);
	assert_int_equal(c.cause, SUPERVISOR_CAUSE_DEATH);
	assert_int_equal(n, 3);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 0, SIGTERM);
	assert_non_null(strstr(c.reason, "geth exited 3 unexpectedly"));
	/* The TM's own status (7) is ignored: the first death decides. */
	supervisor_core_exited(&c, 100, EXITED(7), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 3);
}

static void test_unexpected_clean_exit_is_failure(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	assert_non_null(strstr(c.reason, "geth exited 0 unexpectedly"));
	supervisor_core_exited(&c, 100, KILLED(SIGTERM), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 1);
}

static void test_unexpected_signal_death(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	/* The TM dies of KILL: geth is stopped, code 137, cause tessera. */
	supervisor_core_exited(&c, 100, KILLED(SIGKILL), &idx, acts);
	assert_non_null(strstr(c.reason, "tessera killed by SIGKILL"));
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 1, SIGTERM);
	supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 137);
}

static void test_coalesced_deaths(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	/* One SIGCHLD, both reaped in the same pass: geth first. */
	two_children(&c);
	supervisor_core_exited(&c, 200, EXITED(2), &idx, acts);
	n = supervisor_core_exited(&c, 100, EXITED(5), &idx, acts);
	/* The TM was the one being stopped: straight on to the sweep. */
	assert_int_equal(n, 3);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_CANCEL_TIMER);
	assert_int_equal(sweep_and_finish(&c), 2);

	/* Same, TM reaped first. */
	two_children(&c);
	supervisor_core_exited(&c, 100, EXITED(5), &idx, acts);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 1, SIGTERM);
	supervisor_core_exited(&c, 200, EXITED(2), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 5);

	/* An orphan in the middle of the pass changes nothing. */
	two_children(&c);
	assert_int_equal(
	    supervisor_core_exited(&c, 999, EXITED(0), &idx, acts), 0);
	assert_int_equal(idx, -1);
	assert_int_equal(c.phase, SUPERVISOR_RUN);
}

static void test_death_of_other_child_while_stopping(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	two_children(&c);
	supervisor_core_signal(&c, SIGTERM, acts);
	/* The TM dies on its own while geth is being stopped: geth's stop
	 * timer keeps running, the TM is not signalled afterwards. */
	assert_int_equal(
	    supervisor_core_exited(&c, 100, EXITED(1), &idx, acts), 0);
	assert_int_equal(c.stopping, 1);
	size_t n = supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	assert_int_equal(n, 3);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_CANCEL_TIMER);
	expect_act(&acts[2], SUPERVISOR_ACT_SWEEP, -1, SIGTERM);
	assert_int_equal(sweep_and_finish(&c), 0);
}

static void test_stop_before_children(void **state)
{
	struct supervisor_core c;
	size_t n;

	(void)state;
	supervisor_core_init(&c, 25000, 2000);
	n = supervisor_core_signal(&c, SIGTERM, acts);
	assert_int_equal(n, 2);
	assert_int_equal(acts[0].type, SUPERVISOR_ACT_TIMER);
	expect_act(&acts[1], SUPERVISOR_ACT_SWEEP, -1, SIGTERM);
	assert_int_equal(sweep_and_finish(&c), 143);

	supervisor_core_init(&c, 25000, 2000);
	supervisor_core_signal(&c, SIGINT, acts);
	assert_int_equal(sweep_and_finish(&c), 130);

	/* The daemon's own code for a signal before launch (LAUNCH=no). */
	supervisor_core_init(&c, 25000, 2000);
	supervisor_core_signal(&c, SIGTERM, acts);
	assert_int_equal(supervisor_core_shutdown(&c, 0, acts), 0);
	assert_int_equal(sweep_and_finish(&c), 0);
}

static void test_stop_while_waiting_for_tm(void **state)
{
	struct supervisor_core c;
	int idx;

	(void)state;
	supervisor_core_init(&c, 25000, 2000);
	assert_int_equal(supervisor_core_add(&c, "tessera", 100, false), 0);
	supervisor_core_signal(&c, SIGTERM, acts);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 0, SIGTERM);
	/* Not launched: 128+TERM whatever the TM said. */
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 143);
}

static void test_helper_stopped_first(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	supervisor_core_init(&c, 25000, 2000);
	assert_int_equal(supervisor_core_add(&c, "geth version", 50, true), 0);
	/* A helper's exit during RUN is not a death to act on. */
	assert_int_equal(supervisor_core_exited(&c, 50, EXITED(0), &idx, acts),
	    0);
	assert_int_equal(idx, 0);
	assert_int_equal(c.phase, SUPERVISOR_RUN);
	assert_int_equal(supervisor_core_add(&c, "tessera", 100, false), 1);
	assert_int_equal(supervisor_core_add(&c, "geth init", 150, true), 2);
	n = supervisor_core_signal(&c, SIGTERM, acts);
	assert_int_equal(n, 3);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 2, SIGTERM);
	n = supervisor_core_exited(&c, 150, KILLED(SIGTERM), &idx, acts);
	expect_act(&acts[1], SUPERVISOR_ACT_SIGNAL, 1, SIGTERM);
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	assert_int_equal(sweep_and_finish(&c), 143);
}

static void test_forwarding(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	two_children(&c);
	assert_int_equal(supervisor_core_add(&c, "helper", 300, true), 2);
	n = supervisor_core_signal(&c, SIGHUP, acts);
	assert_int_equal(n, 2); /* not to the helper */
	expect_act(&acts[0], SUPERVISOR_ACT_FORWARD, 0, SIGHUP);
	expect_act(&acts[1], SUPERVISOR_ACT_FORWARD, 1, SIGHUP);
	assert_int_equal(supervisor_core_signal(&c, SIGUSR1, acts), 2);
	assert_int_equal(supervisor_core_signal(&c, SIGUSR2, acts), 2);
	assert_int_equal(supervisor_core_signal(&c, SIGCONT, acts), 2);
	/* Job control and the rest: ignored, nothing sent, no stop. */
	assert_int_equal(supervisor_core_signal(&c, SIGTSTP, acts), 0);
	assert_int_equal(supervisor_core_signal(&c, SIGTTIN, acts), 0);
	assert_int_equal(supervisor_core_signal(&c, SIGTTOU, acts), 0);
	assert_int_equal(supervisor_core_signal(&c, SIGWINCH, acts), 0);
	assert_int_equal(supervisor_core_signal(&c, SIGRTMIN, acts), 0);
	assert_int_equal(c.phase, SUPERVISOR_RUN);
	/* During the stop: not to an exited child. */
	supervisor_core_signal(&c, SIGTERM, acts);
	supervisor_core_exited(&c, 200, EXITED(0), &idx, acts);
	n = supervisor_core_signal(&c, SIGUSR1, acts);
	assert_int_equal(n, 1);
	expect_act(&acts[0], SUPERVISOR_ACT_FORWARD, 0, SIGUSR1);
}

static void test_shutdown(void **state)
{
	struct supervisor_core c;
	size_t n;
	int idx;

	(void)state;
	two_children(&c);
	n = supervisor_core_shutdown(&c, 127, acts);
	assert_int_equal(n, 3);
	expect_act(&acts[0], SUPERVISOR_ACT_SIGNAL, 1, SIGTERM);
	/* Idempotent, and a later signal changes nothing. */
	assert_int_equal(supervisor_core_shutdown(&c, 1, acts), 0);
	assert_int_equal(supervisor_core_code(&c), 127);
	assert_int_equal(supervisor_core_signal(&c, SIGTERM, acts), 0);
	assert_int_equal(supervisor_core_timer(&c, acts), 1); /* KILL geth */
	supervisor_core_exited(&c, 200, KILLED(SIGKILL), &idx, acts);
	supervisor_core_exited(&c, 100, EXITED(0), &idx, acts);
	/* The setup failure's code is final (not 137). */
	assert_int_equal(sweep_and_finish(&c), 127);
}

static void test_sweep_kill_repeats(void **state)
{
	struct supervisor_core c;
	size_t n;

	(void)state;
	supervisor_core_init(&c, 1000, 500);
	supervisor_core_signal(&c, SIGTERM, acts);
	for (int i = 0; i < 3; i++) {
		n = supervisor_core_timer(&c, acts);
		assert_int_equal(n, 2);
		assert_int_equal(acts[0].type, SUPERVISOR_ACT_TIMER);
		assert_int_equal(acts[0].ms, 100);
		expect_act(&acts[1], SUPERVISOR_ACT_SWEEP, -1, SIGKILL);
		assert_int_equal(c.phase, SUPERVISOR_SWEEP_KILL);
	}
	n = supervisor_core_no_children(&c, acts);
	assert_int_equal(acts[1].type, SUPERVISOR_ACT_FINISH);
	assert_int_equal(acts[1].code, 143);
	/* No children while running is not an end. */
	supervisor_core_init(&c, 1000, 500);
	assert_int_equal(supervisor_core_no_children(&c, acts), 0);
	assert_int_equal(c.phase, SUPERVISOR_RUN);
}

static void test_table_full(void **state)
{
	struct supervisor_core c;

	(void)state;
	supervisor_core_init(&c, 1000, 500);
	for (int i = 0; i < SUPERVISOR_MAX_CHILDREN; i++)
		assert_int_equal(supervisor_core_add(&c, "x", 10 + i, true), i);
	assert_int_equal(supervisor_core_add(&c, "x", 99, true), -ENOSPC);
}

/* ---- real processes --------------------------------------------------- */

struct run {
	struct evloop *l;
	int code;
	bool finished;
	int exits;
	bool last_expected;
	int helper_code;
	char helper_out[256];
	bool helper_done;
};

static void on_finished(void *arg, int code)
{
	struct run *r = arg;

	r->code = code;
	r->finished = true;
	evloop_stop(r->l);
}

static void on_child_exit(void *arg, const char *name, int code,
    bool expected)
{
	struct run *r = arg;

	(void)name;
	(void)code;
	r->exits++;
	r->last_expected = expected;
}

static void on_helper(void *arg, int code, const char *out, size_t len)
{
	struct run *r = arg;

	r->helper_code = code;
	r->helper_done = true;
	snprintf(r->helper_out, sizeof(r->helper_out), "%.*s", (int)len,
	    out ? out : "");
}

static const struct supervisor_events events = {NULL, on_child_exit,
    on_finished};

static struct supervisor *new_sup(struct run *r, unsigned stop_timeout)
{
	struct supervisor *s;

	memset(r, 0, sizeof(*r));
	r->l = evloop_new();
	assert_non_null(r->l);
	s = supervisor_new(r->l, NULL, stop_timeout, &events, r);
	assert_non_null(s);
	return s;
}

static void run_for(struct run *r, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (!r->finished && evloop_now() < end)
		assert_true(evloop_run_once(r->l, 50) >= 0);
}

static void no_children_left(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void test_real_unexpected_exit(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 2);
	char *argv[] = {"sh", "-c", "exit 3", NULL};
	pid_t pid;

	(void)state;
	assert_int_equal(supervisor_spawn(s, "geth", argv, NULL, &pid), 0);
	assert_true(pid > 0);
	run_for(&r, 5000);
	assert_true(r.finished);
	assert_int_equal(r.code, 3);
	assert_int_equal(r.exits, 1);
	assert_false(r.last_expected);
	assert_true(supervisor_stopping(s));
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

static void test_real_term_stops_in_order(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 5);
	char *tm[] = {"sleep", "30", NULL};
	char *geth[] = {"sleep", "31", NULL};
	pid_t p1, p2;
	uint64_t t0;

	(void)state;
	assert_int_equal(supervisor_spawn(s, "tessera", tm, NULL, &p1), 0);
	assert_int_equal(supervisor_spawn(s, "geth", geth, NULL, &p2), 0);
	supervisor_launched(s);
	assert_true(supervisor_running(s, "geth"));
	assert_false(supervisor_running(s, "nope"));
	run_for(&r, 100);
	t0 = evloop_now();
	/* Blocked by supervisor_block_signals: read from the signalfd. */
	kill(getpid(), SIGTERM);
	kill(getpid(), SIGTERM);
	run_for(&r, 5000);
	assert_true(r.finished);
	/* geth (sleep) died of TERM: 143. */
	assert_int_equal(r.code, 143);
	assert_int_equal(r.exits, 2);
	assert_true(r.last_expected);
	assert_true(evloop_now() - t0 < 3000);
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

static void test_real_escalation(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 1);
	char *argv[] = {"sh", "-c", "trap '' TERM; sleep 30", NULL};
	pid_t pid;
	uint64_t t0;
	char buf[2048];
	size_t used;

	(void)state;
	assert_int_equal(supervisor_spawn(s, "geth", argv, NULL, &pid), 0);
	supervisor_launched(s);
	run_for(&r, 200);
	assert_int_equal(supervisor_status_json(s, buf, sizeof(buf), &used),
	    0);
	assert_non_null(strstr(buf, "\"name\":\"geth\""));
	assert_non_null(strstr(buf, "\"state\":\"running\""));
	assert_int_equal(supervisor_status_json(s, buf, 10, &used), -ENOSPC);
	t0 = evloop_now();
	supervisor_shutdown(s, 1);
	assert_true(supervisor_stopping(s));
	run_for(&r, 6000);
	assert_true(r.finished);
	assert_int_equal(r.code, 1);
	assert_true(evloop_now() - t0 >= 900);
	assert_true(evloop_now() - t0 < 4000);
	assert_int_equal(supervisor_status_json(s, buf, sizeof(buf), &used),
	    0);
	assert_non_null(strstr(buf, "\"exit\":137"));
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

static void test_real_exec_errors(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 1);
	char path[] = "/tmp/test_supervisor_noexec_XXXXXX";
	char *missing[] = {"/nonexistent/geth", NULL};
	char *missing_path[] = {"no-such-binary-for-peerd-tests", NULL};
	char *noexec[] = {path, NULL};
	pid_t pid;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(path, 0644);
	assert_int_equal(supervisor_spawn(s, "geth", missing, NULL, &pid),
	    -ENOENT);
	assert_int_equal(supervisor_spawn(s, "geth", missing_path, NULL, &pid),
	    -ENOENT);
	assert_int_equal(supervisor_spawn(s, "tessera", noexec, NULL, &pid),
	    -EACCES);
	assert_int_equal(supervisor_run_helper(s, "geth version", missing,
			     NULL, true, 100, on_helper, &r),
	    -ENOENT);
	unlink(path);
	/* Nothing left running or unreaped, nothing recorded. */
	no_children_left();
	assert_false(supervisor_running(s, "geth"));
	assert_false(supervisor_stopping(s));
	supervisor_free(s);
	evloop_free(r.l);
}

static void test_real_helper_capture(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 1);
	char *argv[] = {"sh", "-c",
	    "echo hello; echo oops >&2; echo 0123456789012345678901234567; "
	    "exit 4",
	    NULL};

	(void)state;
	assert_int_equal(supervisor_run_helper(s, "geth version", argv, NULL,
			     true, 20, on_helper, &r),
	    0);
	run_for(&r, 1000);
	assert_true(r.helper_done);
	assert_int_equal(r.helper_code, 4);
	/* Both streams, capped at max_out. */
	assert_int_equal(strlen(r.helper_out), 20);
	assert_memory_equal(r.helper_out, "hello\noops\n012345678", 20);
	/* A helper's exit does not stop anything. */
	assert_false(supervisor_stopping(s));
	assert_false(r.finished);
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

/* The child's view of its own signal state, session and fds. */
static void test_real_child_hygiene(void **state)
{
	struct run r;
	struct supervisor *s;
	char out[] = "/tmp/test_supervisor_hyg_XXXXXX";
	char script[512], buf[4096];
	char *argv[] = {"sh", "-c", script, NULL};
	int fd, leak;
	FILE *f;
	unsigned long long blk = 1, ign = 1;
	long spid = 0, pgrp = 0, sid = 0;
	char fds[256] = "";

	(void)state;
	fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	/*
	 * The mask is read by grep from its own status: dash blocks every
	 * signal while it waits for a child, so /proc/$$ would race.
	 */
	/* An inherited fd without CLOEXEC must not reach the child. */
	leak = open("/dev/null", O_RDONLY);
	assert_true(leak >= 3);
	s = new_sup(&r, 1);
	snprintf(script, sizeof(script),
	    "exec > %s; grep -E '^Sig(Blk|Ign)' /proc/self/status; "
	    "echo pid $$ $(cut -d' ' -f5,6 /proc/$$/stat); "
	    "echo fds $(ls /proc/$$/fd | tr '\\n' ' '); exit 0",
	    out);
	assert_int_equal(supervisor_run_helper(s, "probe", argv, NULL, false,
			     0, on_helper, &r),
	    0);
	run_for(&r, 2000);
	assert_true(r.helper_done);
	assert_int_equal(r.helper_code, 0);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f) != NULL) {
		sscanf(buf, "SigBlk: %llx", &blk);
		sscanf(buf, "SigIgn: %llx", &ign);
		sscanf(buf, "pid %ld %ld %ld", &spid, &pgrp, &sid);
		if (strncmp(buf, "fds ", 4) == 0)
			snprintf(fds, sizeof(fds), " %.200s", buf + 4);
	}
	fclose(f);
	unlink(out);
	/* The daemon blocks nearly everything and ignores PIPE/TTIN/TTOU:
	 * none of it reaches the child. */
	assert_int_equal(blk, 0);
	assert_int_equal(ign, 0);
	/* Own session and group. */
	assert_true(spid > 0);
	assert_int_equal(pgrp, spid);
	assert_int_equal(sid, spid);
	char want[16];

	snprintf(want, sizeof(want), " %d ", leak);
	assert_null(strstr(fds, want));
	assert_non_null(strstr(fds, " 0 1 2 "));
	close(leak);
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

static void test_real_orphans_reaped(void **state)
{
	struct run r;
	struct supervisor *s = new_sup(&r, 1);
	/* sh leaves 5 short-lived orphans, adopted by us (subreaper). */
	char *argv[] = {"sh", "-c",
	    "for i in 1 2 3 4 5; do (sleep 0.1 &) ; done; exec sleep 30",
	    NULL};
	pid_t pid;
	char path[64], line[256];
	FILE *f;
	int nkids = 0;

	(void)state;
	assert_int_equal(supervisor_spawn(s, "geth", argv, NULL, &pid), 0);
	run_for(&r, 800);
	assert_false(r.finished); /* orphans are not deaths */
	/* Our only child left is geth. */
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
	    (int)getpid());
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_int_equal(atoi(line), pid);
	for (char *tok = strtok(line, " \n"); tok != NULL;
	     tok = strtok(NULL, " \n"))
		nkids++;
	assert_int_equal(nkids, 1);
	supervisor_shutdown(s, 0);
	run_for(&r, 3000);
	assert_true(r.finished);
	assert_int_equal(r.code, 0);
	no_children_left();
	supervisor_free(s);
	evloop_free(r.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exit_code_mapping),
	    cmocka_unit_test(test_requested_stop_order),
	    cmocka_unit_test(test_requested_stop_geth_killed_by_term),
	    cmocka_unit_test(test_double_signal_not_forwarded),
	    cmocka_unit_test(test_escalation),
	    cmocka_unit_test(test_tm_needed_kill_gives_137),
	    cmocka_unit_test(test_unexpected_death),
	    cmocka_unit_test(test_unexpected_clean_exit_is_failure),
	    cmocka_unit_test(test_unexpected_signal_death),
	    cmocka_unit_test(test_coalesced_deaths),
	    cmocka_unit_test(test_death_of_other_child_while_stopping),
	    cmocka_unit_test(test_stop_before_children),
	    cmocka_unit_test(test_stop_while_waiting_for_tm),
	    cmocka_unit_test(test_helper_stopped_first),
	    cmocka_unit_test(test_forwarding),
	    cmocka_unit_test(test_shutdown),
	    cmocka_unit_test(test_sweep_kill_repeats),
	    cmocka_unit_test(test_table_full),
	    cmocka_unit_test(test_real_unexpected_exit),
	    cmocka_unit_test(test_real_term_stops_in_order),
	    cmocka_unit_test(test_real_escalation),
	    cmocka_unit_test(test_real_exec_errors),
	    cmocka_unit_test(test_real_helper_capture),
	    cmocka_unit_test(test_real_child_hygiene),
	    cmocka_unit_test(test_real_orphans_reaped),
	};

	/* As main() does: the mask is what the real tests exercise. */
	supervisor_block_signals(NULL);
	log_init(LOG_WARN, LOG_TEXT, "test");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
