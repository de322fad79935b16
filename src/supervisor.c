/*
 * PID-1 duties (pid1.md §6). Two layers:
 *  - a pure decision core (supervisor_core_*): events in, actions out, so
 *    the unit tests drive coalesced deaths, stops during start-up and double
 *    signals without processes (S21);
 *  - the shell: signalfd on the event loop, fork/exec with a clean signal
 *    state, waitpid loops, the stop timer, the final sweep, logging.
 */
#include "peerd/supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peerd/log.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Pure core                                                           */
/* ------------------------------------------------------------------ */

int supervisor_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus) & 0xff;
	if (WIFSIGNALED(wstatus))
		return (128 + WTERMSIG(wstatus)) & 0xff;
	return 1;
}

static void act(struct supervisor_act *acts, size_t *n,
    enum supervisor_act_type type, int child, int sig, unsigned ms, int code)
{
	if (*n >= SUPERVISOR_MAX_ACTS)
		return; /* cannot happen: at most 4 actions per event */
	acts[*n] = (struct supervisor_act){.type = type, .child = child,
	    .sig = sig, .ms = ms, .code = code};
	(*n)++;
}

void supervisor_core_init(struct supervisor_core *c, unsigned stop_timeout_ms,
    unsigned grace_ms)
{
	memset(c, 0, sizeof(*c));
	c->stop_timeout_ms = stop_timeout_ms;
	c->grace_ms = grace_ms;
	c->phase = SUPERVISOR_RUN;
	c->primary = -1;
	c->stopping = -1;
}

int supervisor_core_add(struct supervisor_core *c, const char *name,
    pid_t pid, bool helper)
{
	struct supervisor_core_child *ch;

	if (c->n >= SUPERVISOR_MAX_CHILDREN)
		return -ENOSPC;
	ch = &c->ch[c->n];
	memset(ch, 0, sizeof(*ch));
	snprintf(ch->name, sizeof(ch->name), "%s", name);
	ch->pid = pid;
	ch->helper = helper;
	ch->state = SUPERVISOR_CHILD_RUNNING;
	return (int)c->n++;
}

void supervisor_core_launched(struct supervisor_core *c)
{
	for (size_t i = c->n; i-- > 0;) {
		if (!c->ch[i].helper) {
			c->primary = (int)i;
			return;
		}
	}
}

int supervisor_core_code(const struct supervisor_core *c)
{
	const struct supervisor_core_child *p;

	switch (c->cause) {
	case SUPERVISOR_CAUSE_DEATH:
	case SUPERVISOR_CAUSE_SHUTDOWN:
		return c->cause_code & 0xff;
	case SUPERVISOR_CAUSE_SIGNAL:
		if (c->killed)
			return 128 + SIGKILL;
		if (c->primary < 0)
			return c->signal_code;
		p = &c->ch[c->primary];
		if (p->state != SUPERVISOR_CHILD_EXITED)
			return (128 + c->cause_sig) & 0xff;
		return supervisor_exit_code(p->wstatus);
	case SUPERVISOR_CAUSE_NONE:
		break;
	}
	return 0;
}

/* Stops the next running child (reverse start order), or starts the sweep. */
static void next_stop(struct supervisor_core *c, struct supervisor_act *acts,
    size_t *n)
{
	for (size_t i = c->n; i-- > 0;) {
		struct supervisor_core_child *ch = &c->ch[i];

		if (ch->state != SUPERVISOR_CHILD_RUNNING)
			continue;
		ch->state = SUPERVISOR_CHILD_TERM_SENT;
		c->stopping = (int)i;
		/* CONT after TERM: a stopped child handles TERM only once
		 * continued (runit `sv down`). */
		act(acts, n, SUPERVISOR_ACT_SIGNAL, (int)i, SIGTERM, 0, 0);
		act(acts, n, SUPERVISOR_ACT_SIGNAL, (int)i, SIGCONT, 0, 0);
		act(acts, n, SUPERVISOR_ACT_TIMER, (int)i, 0,
		    c->stop_timeout_ms, 0);
		return;
	}
	c->stopping = -1;
	c->phase = SUPERVISOR_SWEEP;
	/* Timer first: the sweep may find nothing left and finish at once,
	 * cancelling it. */
	act(acts, n, SUPERVISOR_ACT_TIMER, -1, 0, c->grace_ms, 0);
	act(acts, n, SUPERVISOR_ACT_SWEEP, -1, SIGTERM, 0, 0);
}

static void begin_stop(struct supervisor_core *c, struct supervisor_act *acts,
    size_t *n)
{
	c->phase = SUPERVISOR_STOPPING;
	next_stop(c, acts, n);
}

static const char *sig_name(int sig, char buf[static 16])
{
	const char *abbr = sigabbrev_np(sig);

	if (abbr != NULL)
		snprintf(buf, 16, "SIG%s", abbr);
	else
		snprintf(buf, 16, "SIG%d", sig);
	return buf;
}

size_t supervisor_core_signal(struct supervisor_core *c, int signo,
    struct supervisor_act *acts)
{
	size_t n = 0;
	char sn[16];

	switch (signo) {
	case SIGTERM:
	case SIGINT:
	case SIGQUIT:
		/* Once only: geth counts interrupts and panics after ten. */
		if (c->phase != SUPERVISOR_RUN)
			return 0;
		c->cause = SUPERVISOR_CAUSE_SIGNAL;
		c->cause_sig = signo;
		c->signal_code = (128 + signo) & 0xff;
		snprintf(c->reason, sizeof(c->reason), "stop requested by %s",
		    sig_name(signo, sn));
		begin_stop(c, acts, &n);
		return n;
	case SIGHUP:
	case SIGUSR1:
	case SIGUSR2:
	case SIGCONT:
		for (size_t i = 0; i < c->n; i++) {
			const struct supervisor_core_child *ch = &c->ch[i];

			if (ch->helper || ch->state == SUPERVISOR_CHILD_EXITED ||
			    ch->state == SUPERVISOR_CHILD_KILL_SENT)
				continue;
			act(acts, &n, SUPERVISOR_ACT_FORWARD, (int)i, signo, 0,
			    0);
		}
		return n;
	default:
		return 0;
	}
}

size_t supervisor_core_exited(struct supervisor_core *c, pid_t pid,
    int wstatus, int *idx, struct supervisor_act *acts)
{
	struct supervisor_core_child *ch = NULL;
	size_t n = 0;
	int i;
	char sn[16];

	*idx = -1;
	for (i = 0; i < (int)c->n; i++) {
		if (c->ch[i].pid == pid &&
		    c->ch[i].state != SUPERVISOR_CHILD_EXITED) {
			ch = &c->ch[i];
			break;
		}
	}
	if (ch == NULL)
		return 0;
	*idx = i;
	ch->state = SUPERVISOR_CHILD_EXITED;
	ch->wstatus = wstatus;

	switch (c->phase) {
	case SUPERVISOR_RUN:
		if (ch->helper)
			return 0; /* its owner decides */
		c->cause = SUPERVISOR_CAUSE_DEATH;
		c->cause_code = supervisor_exit_code(wstatus);
		if (c->cause_code == 0)
			c->cause_code = 1; /* an unexpected exit is no success */
		if (WIFSIGNALED(wstatus))
			snprintf(c->reason, sizeof(c->reason),
			    "%s killed by %s unexpectedly", ch->name,
			    sig_name(WTERMSIG(wstatus), sn));
		else
			snprintf(c->reason, sizeof(c->reason),
			    "%s exited %d unexpectedly", ch->name,
			    WEXITSTATUS(wstatus));
		begin_stop(c, acts, &n);
		return n;
	case SUPERVISOR_STOPPING:
		if (i == c->stopping) {
			act(acts, &n, SUPERVISOR_ACT_CANCEL_TIMER, i, 0, 0, 0);
			next_stop(c, acts, &n);
		}
		return n;
	default:
		return 0;
	}
}

size_t supervisor_core_timer(struct supervisor_core *c,
    struct supervisor_act *acts)
{
	size_t n = 0;
	struct supervisor_core_child *ch;

	switch (c->phase) {
	case SUPERVISOR_STOPPING:
		if (c->stopping < 0)
			return 0;
		ch = &c->ch[c->stopping];
		if (ch->state != SUPERVISOR_CHILD_TERM_SENT)
			return 0;
		ch->state = SUPERVISOR_CHILD_KILL_SENT;
		c->killed = true;
		act(acts, &n, SUPERVISOR_ACT_ESCALATE, c->stopping, SIGKILL, 0,
		    0);
		return n;
	case SUPERVISOR_SWEEP:
	case SUPERVISOR_SWEEP_KILL:
		/* Grace over: KILL what is left, and again every 100 ms for
		 * adoptees that show up late (not PID 1). */
		c->phase = SUPERVISOR_SWEEP_KILL;
		act(acts, &n, SUPERVISOR_ACT_TIMER, -1, 0, 100, 0);
		act(acts, &n, SUPERVISOR_ACT_SWEEP, -1, SIGKILL, 0, 0);
		return n;
	default:
		return 0;
	}
}

size_t supervisor_core_no_children(struct supervisor_core *c,
    struct supervisor_act *acts)
{
	size_t n = 0;

	if (c->phase != SUPERVISOR_SWEEP && c->phase != SUPERVISOR_SWEEP_KILL)
		return 0;
	c->phase = SUPERVISOR_DONE;
	act(acts, &n, SUPERVISOR_ACT_CANCEL_TIMER, -1, 0, 0, 0);
	act(acts, &n, SUPERVISOR_ACT_FINISH, -1, 0, 0, supervisor_core_code(c));
	return n;
}

size_t supervisor_core_shutdown(struct supervisor_core *c, int code,
    struct supervisor_act *acts)
{
	size_t n = 0;

	if (c->phase != SUPERVISOR_RUN) {
		/* A signal stopped us before launch: the daemon may know a
		 * better code (0 for LAUNCH=no, which has nothing to run). */
		if (c->cause == SUPERVISOR_CAUSE_SIGNAL && c->primary < 0)
			c->signal_code = code & 0xff;
		return 0;
	}
	c->cause = SUPERVISOR_CAUSE_SHUTDOWN;
	c->cause_code = code & 0xff;
	snprintf(c->reason, sizeof(c->reason), "start-up failed");
	begin_stop(c, acts, &n);
	return n;
}

/* ------------------------------------------------------------------ */
/* Shell                                                               */
/* ------------------------------------------------------------------ */

struct supervisor;

struct helper {
	struct supervisor *s;
	bool used;
	bool watched;
	pid_t pid;
	int outfd; /* read end of the capture pipe, -1 if none */
	char *out;
	size_t len, max;
	supervisor_helper_cb *done;
	void *arg;
};

struct supervisor {
	struct evloop *l;
	struct supervisor_core core;
	struct supervisor_events ev;
	void *arg;
	int sfd;
	bool pid1;
	long timer;
	uint64_t started[SUPERVISOR_MAX_CHILDREN]; /* ms, per core index */
	struct helper helpers[4];
	unsigned stop_timeout_s;
	bool finished;
	supervisor_death_cb *death_cb;
	void *death_arg;
};

static void fill_mask(sigset_t *m)
{
	static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL,
	    SIGABRT, SIGTRAP, SIGSYS, SIGPIPE};

	sigfillset(m);
	for (size_t i = 0; i < sizeof(sync_sigs) / sizeof(sync_sigs[0]); i++)
		sigdelset(m, sync_sigs[i]);
}

static void cloexec_from(int lowfd)
{
	struct rlimit rl;
	int max = 1024;

	if (close_range((unsigned)lowfd, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	for (int fd = lowfd; fd < max; fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0)
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

static sigset_t inherited_mask;
static bool early_blocked;

/*
 * Runs before main(), right after the shared libraries are loaded: every
 * microsecond before the block is a window in which a TERM sent to PID 1 is
 * dropped by the kernel (K1, K2). main() still calls
 * supervisor_block_signals() first thing; this only narrows the window.
 */
__attribute__((constructor(101))) static void early_block(void)
{
	sigset_t m;

	fill_mask(&m);
	if (sigprocmask(SIG_SETMASK, &m, &inherited_mask) == 0)
		early_blocked = true;
}

void supervisor_block_signals(sigset_t *saved)
{
	sigset_t m;
	struct sigaction sa;

	fill_mask(&m);
	sigprocmask(SIG_SETMASK, &m, saved);
	if (saved != NULL && early_blocked)
		*saved = inherited_mask;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	/* PIPE: HTTP/libcurl write errors come back as EPIPE. TTIN/TTOU:
	 * PID 1 must never stop on terminal I/O (tini does the same). */
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGTTIN, &sa, NULL);
	sigaction(SIGTTOU, &sa, NULL);
	cloexec_from(3);
}

static void run_acts(struct supervisor *s, const struct supervisor_act *a,
    size_t n);
static void reap(struct supervisor *s);

static double ran_for(const struct supervisor *s, int idx)
{
	return (double)(evloop_now() - s->started[idx]) / 1000.0;
}

static void log_child_exit(struct supervisor *s, int idx, int wstatus)
{
	const struct supervisor_core_child *ch = &s->core.ch[idx];
	char msg[160], pid[16], code[8], sn[16], secs[24];

	snprintf(pid, sizeof(pid), "%d", (int)ch->pid);
	snprintf(code, sizeof(code), "%d", supervisor_exit_code(wstatus));
	snprintf(secs, sizeof(secs), "%.1f", ran_for(s, idx));
	if (WIFSIGNALED(wstatus)) {
		sig_name(WTERMSIG(wstatus), sn);
		snprintf(msg, sizeof(msg), "%s (pid %s) killed by %s after %ss",
		    ch->name, pid, sn, secs);
		log_event(LOG_INFO, msg, "child", ch->name, "pid", pid,
		    "signal", sn, "code", code, "runtime_s", secs, NULL);
	} else {
		snprintf(msg, sizeof(msg), "%s (pid %s) exited %s after %ss",
		    ch->name, pid, code, secs);
		log_event(LOG_INFO, msg, "child", ch->name, "pid", pid,
		    "code", code, "runtime_s", secs, NULL);
	}
}

static struct helper *helper_by_pid(struct supervisor *s, pid_t pid)
{
	for (size_t i = 0; i < 4; i++)
		if (s->helpers[i].used && s->helpers[i].pid == pid)
			return &s->helpers[i];
	return NULL;
}

/* Reads what the pipe holds (non-blocking); keeps at most max bytes. */
static void helper_drain(struct helper *h)
{
	char buf[4096];

	if (h->outfd < 0)
		return;
	for (;;) {
		ssize_t r = read(h->outfd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		size_t room = h->max - h->len;
		size_t take = (size_t)r < room ? (size_t)r : room;

		memcpy(h->out + h->len, buf, take);
		h->len += take;
		h->out[h->len] = '\0';
	}
}

static void helper_close(struct supervisor *s, struct helper *h)
{
	if (h->watched)
		evloop_unwatch(s->l, h->outfd);
	if (h->outfd >= 0)
		close(h->outfd);
	free(h->out);
	memset(h, 0, sizeof(*h));
	h->outfd = -1;
}

static void on_helper_out(void *arg, int fd, uint32_t revents)
{
	struct helper *h = arg;

	helper_drain(h);
	/* Every writer is gone (the helper exited, or closed its output):
	 * EPOLLHUP would repeat until it is reaped, so stop watching; the
	 * final drain happens when it is reaped. */
	if ((revents & (EPOLLHUP | EPOLLERR)) && h->watched) {
		evloop_unwatch(h->s->l, fd);
		h->watched = false;
	}
}

static void handle_exit(struct supervisor *s, pid_t pid, int wstatus)
{
	struct supervisor_act acts[SUPERVISOR_MAX_ACTS];
	bool was_running = s->core.phase == SUPERVISOR_RUN;
	int idx;
	size_t n;

	n = supervisor_core_exited(&s->core, pid, wstatus, &idx, acts);
	if (idx < 0) {
		char p[16], code[8];

		snprintf(p, sizeof(p), "%d", (int)pid);
		snprintf(code, sizeof(code), "%d",
		    supervisor_exit_code(wstatus));
		log_event(LOG_DEBUG, "reaped orphan", "pid", p, "code", code,
		    NULL);
		return;
	}
	log_child_exit(s, idx, wstatus);
	if (s->core.ch[idx].helper) {
		struct helper *h = helper_by_pid(s, pid);

		if (h != NULL) {
			supervisor_helper_cb *done = h->done;
			void *harg = h->arg;
			char *out = NULL;
			size_t len = h->len;

			helper_drain(h);
			len = h->len;
			if (h->out != NULL) {
				out = h->out;
				h->out = NULL;
			}
			helper_close(s, h);
			if (done != NULL && s->core.phase == SUPERVISOR_RUN)
				done(harg, supervisor_exit_code(wstatus), out,
				    len);
			free(out);
		}
	} else {
		if (was_running && s->death_cb != NULL)
			s->death_cb(s->death_arg, s->core.ch[idx].name,
			    supervisor_exit_code(wstatus));
		if (s->ev.child_exited != NULL)
			s->ev.child_exited(s->arg, s->core.ch[idx].name,
			    supervisor_exit_code(wstatus), !was_running);
	}
	run_acts(s, acts, n);
}

static void reap(struct supervisor *s)
{
	struct supervisor_act acts[SUPERVISOR_MAX_ACTS];

	for (;;) {
		int st;
		pid_t pid = waitpid(-1, &st, WNOHANG);

		if (pid > 0) {
			handle_exit(s, pid, st);
			continue;
		}
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0 && errno == ECHILD)
			run_acts(s, acts, supervisor_core_no_children(&s->core,
			    acts));
		return;
	}
}

static void on_timer(void *arg)
{
	struct supervisor *s = arg;
	struct supervisor_act acts[SUPERVISOR_MAX_ACTS];

	s->timer = 0;
	run_acts(s, acts, supervisor_core_timer(&s->core, acts));
}

/* Direct children (own and adopted), from /proc/self/task/ * /children. */
static size_t list_children(pid_t *out, size_t max)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char path[64];
		FILE *f;
		long v;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/children",
		    e->d_name);
		f = fopen(path, "re");
		if (f == NULL)
			continue;
		while (n < max && fscanf(f, "%ld", &v) == 1)
			out[n++] = (pid_t)v;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void sweep(struct supervisor *s, int sig)
{
	if (s->pid1) {
		/* Everything in the namespace but us (K7: only as PID 1). */
		kill(-1, sig);
		if (sig == SIGTERM)
			kill(-1, SIGCONT);
		return;
	}
	/* Not PID 1: our children's groups and our own adoptees only. */
	for (size_t i = 0; i < s->core.n; i++) {
		kill(-s->core.ch[i].pid, sig);
		if (sig == SIGTERM)
			kill(-s->core.ch[i].pid, SIGCONT);
	}
	pid_t kids[256];
	size_t nk = list_children(kids, 256);
	pid_t mypg = getpgrp();

	for (size_t i = 0; i < nk; i++) {
		kill(kids[i], sig);
		if (getpgid(kids[i]) == kids[i] && kids[i] != mypg)
			kill(-kids[i], sig);
		if (sig == SIGTERM)
			kill(kids[i], SIGCONT);
	}
}

static void run_acts(struct supervisor *s, const struct supervisor_act *a,
    size_t n)
{
	char sn[16], pid[16], msg[256], secs[16];

	for (size_t i = 0; i < n; i++) {
		const struct supervisor_core_child *ch =
		    a[i].child >= 0 ? &s->core.ch[a[i].child] : NULL;

		switch (a[i].type) {
		case SUPERVISOR_ACT_SIGNAL:
		case SUPERVISOR_ACT_FORWARD:
		case SUPERVISOR_ACT_ESCALATE:
			sig_name(a[i].sig, sn);
			snprintf(pid, sizeof(pid), "%d", (int)ch->pid);
			if (a[i].type == SUPERVISOR_ACT_ESCALATE) {
				snprintf(secs, sizeof(secs), "%u",
				    s->stop_timeout_s);
				snprintf(msg, sizeof(msg),
				    "%s did not stop within %ss, killed",
				    ch->name, secs);
				log_event(LOG_WARN, msg, "child", ch->name,
				    "pid", pid, "timeout_s", secs, "signal",
				    sn, NULL);
			} else if (a[i].sig == SIGTERM) {
				snprintf(msg, sizeof(msg), "stopping %s",
				    ch->name);
				log_event(LOG_INFO, msg, "child", ch->name,
				    "pid", pid, "signal", sn, NULL);
			} else {
				snprintf(msg, sizeof(msg), "sent %s to %s", sn,
				    ch->name);
				log_event(LOG_DEBUG, msg, "child", ch->name,
				    "pid", pid, "signal", sn, NULL);
			}
			/* The child leads its own group (setsid): the group
			 * reaches its helpers too. */
			if (kill(-ch->pid, a[i].sig) < 0 && errno == ESRCH)
				kill(ch->pid, a[i].sig);
			break;
		case SUPERVISOR_ACT_TIMER:
			if (s->timer > 0)
				evloop_timer_cancel(s->l, s->timer);
			s->timer = evloop_timer(s->l, evloop_now() + a[i].ms,
			    on_timer, s);
			if (s->timer < 0) {
				log_warnx("cannot arm the stop timer: %s",
				    strerror((int)-s->timer));
				s->timer = 0;
			}
			break;
		case SUPERVISOR_ACT_CANCEL_TIMER:
			if (s->timer > 0)
				evloop_timer_cancel(s->l, s->timer);
			s->timer = 0;
			break;
		case SUPERVISOR_ACT_SWEEP:
			sig_name(a[i].sig, sn);
			log_event(LOG_DEBUG, s->pid1 ? "signalling every process left"
				    : "signalling our remaining descendants",
			    "signal", sn, NULL);
			sweep(s, a[i].sig);
			/* ECHILD now means nothing is left: finish at once
			 * instead of waiting out the grace. */
			reap(s);
			break;
		case SUPERVISOR_ACT_FINISH: {
			char code[8];

			if (s->finished)
				break;
			s->finished = true;
			snprintf(code, sizeof(code), "%d", a[i].code);
			snprintf(msg, sizeof(msg), "exiting with code %d: %s",
			    a[i].code,
			    s->core.reason[0] ? s->core.reason : "done");
			log_event(LOG_INFO, msg, "code", code, "reason",
			    s->core.reason[0] ? s->core.reason : "done", NULL);
			if (s->ev.finished != NULL)
				s->ev.finished(s->arg, a[i].code);
			break;
		}
		}
	}
}

static void on_signal(void *arg, int fd, uint32_t revents)
{
	struct supervisor *s = arg;
	struct signalfd_siginfo si;
	struct supervisor_act acts[SUPERVISOR_MAX_ACTS];
	char sn[16], sender[16];

	(void)revents;
	for (;;) {
		ssize_t r = read(fd, &si, sizeof(si));

		if (r < 0 && errno == EINTR)
			continue;
		if (r != (ssize_t)sizeof(si))
			break;
		int sig = (int)si.ssi_signo;

		sig_name(sig, sn);
		snprintf(sender, sizeof(sender), "%u", si.ssi_pid);
		switch (sig) {
		case SIGCHLD:
			reap(s);
			break;
		case SIGTERM:
		case SIGINT:
		case SIGQUIT: {
			char msg[96];

			if (s->core.phase != SUPERVISOR_RUN) {
				snprintf(msg, sizeof(msg),
				    "already stopping, %s not forwarded", sn);
				log_event(LOG_INFO, msg, "signal", sn,
				    "sender_pid", sender, NULL);
				break;
			}
			snprintf(msg, sizeof(msg),
			    "stop requested by %s from pid %s", sn, sender);
			log_event(LOG_INFO, msg, "signal", sn, "sender_pid",
			    sender, NULL);
			size_t n = supervisor_core_signal(&s->core, sig, acts);

			if (s->ev.stop_requested != NULL)
				s->ev.stop_requested(s->arg, sig);
			run_acts(s, acts, n);
			break;
		}
		case SIGHUP:
		case SIGUSR1:
		case SIGUSR2:
		case SIGCONT:
			log_event(LOG_DEBUG, "forwarding signal", "signal", sn,
			    "sender_pid", sender, NULL);
			run_acts(s, acts,
			    supervisor_core_signal(&s->core, sig, acts));
			break;
		default:
			log_event(LOG_DEBUG, "ignoring signal", "signal", sn,
			    "sender_pid", sender, NULL);
			break;
		}
		if (s->finished)
			break;
	}
}

struct supervisor *supervisor_new(struct evloop *l, const sigset_t *saved,
    unsigned stop_timeout_s, const struct supervisor_events *ev, void *arg)
{
	struct supervisor *s;
	sigset_t m;
	unsigned grace_ms;
	int err;

	/* saved is unused: children get an empty mask (T-H1), not the one
	 * the daemon inherited. */
	(void)saved;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->l = l;
	s->sfd = -1;
	s->arg = arg;
	s->stop_timeout_s = stop_timeout_s;
	if (ev != NULL)
		s->ev = *ev;
	for (size_t i = 0; i < 4; i++)
		s->helpers[i].outfd = -1;
	/* Final grace: 2 s, or the stop timeout if that is shorter. */
	grace_ms = stop_timeout_s < 2 ? stop_timeout_s * 1000 : 2000;
	if (grace_ms < 200)
		grace_ms = 200;
	supervisor_core_init(&s->core, stop_timeout_s * 1000, grace_ms);

	fill_mask(&m);
	s->sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->sfd < 0)
		goto fail;
	err = evloop_watch(l, s->sfd, EPOLLIN, on_signal, s);
	if (err < 0) {
		errno = -err;
		goto fail;
	}
	s->pid1 = getpid() == 1;
	if (s->pid1) {
		log_event(LOG_INFO, "running as PID 1", "pid", "1", NULL);
	} else {
		char p[16];

		snprintf(p, sizeof(p), "%d", (int)getpid());
		if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
			log_event(LOG_INFO,
			    "not PID 1: running as a child subreaper", "pid",
			    p, NULL);
		else
			log_warn("not PID 1 (pid %s) and cannot become a "
			    "child subreaper: orphans go elsewhere", p);
	}
	return s;
fail:
	err = errno;
	supervisor_free(s);
	errno = err;
	return NULL;
}

void supervisor_free(struct supervisor *s)
{
	if (s == NULL)
		return;
	if (s->timer > 0)
		evloop_timer_cancel(s->l, s->timer);
	for (size_t i = 0; i < 4; i++)
		if (s->helpers[i].used)
			helper_close(s, &s->helpers[i]);
	if (s->sfd >= 0) {
		evloop_unwatch(s->l, s->sfd);
		close(s->sfd);
	}
	free(s);
}

/* In the child: never returns. Reports errno on errfd, then exits. */
__attribute__((noreturn)) static void child_exec(bool pid1, pid_t parent,
    int errfd, int outfd, char *const argv[], char *const envp[])
{
	sigset_t empty;
	int e;

	setsid(); /* own session and process group */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&empty);
	sigprocmask(SIG_SETMASK, &empty, NULL);
	if (outfd >= 0) {
		dup2(outfd, STDOUT_FILENO);
		dup2(outfd, STDERR_FILENO);
	}
	cloexec_from(3);
	if (!pid1) {
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
		if (getppid() != parent) /* the daemon already died */
			_exit(1);
	}
	execvpe(argv[0], argv, envp != NULL ? envp : environ);
	e = errno;
	while (write(errfd, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(e == ENOENT ? 127 : (e == EACCES || e == ENOEXEC) ? 126 : 1);
}

static int spawn(struct supervisor *s, const char *name, char *const argv[],
    char *const envp[], bool helper, int outfd, pid_t *out)
{
	int ep[2], e = 0, idx;
	pid_t pid, parent = getpid();
	ssize_t r;

	if (s->core.phase != SUPERVISOR_RUN)
		return -ECANCELED;
	if (argv == NULL || argv[0] == NULL)
		return -EINVAL;
	if (s->core.n >= SUPERVISOR_MAX_CHILDREN)
		return -ENOSPC;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		e = errno;
		close(ep[0]);
		close(ep[1]);
		return -e;
	}
	if (pid == 0)
		child_exec(s->pid1, parent, ep[1], outfd, argv, envp);
	close(ep[1]);
	do
		r = read(ep[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r == (ssize_t)sizeof(e)) {
		/* exec failed: the child is exiting, collect it now so it is
		 * never seen by the reaper as anything. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -e;
	}
	idx = supervisor_core_add(&s->core, name, pid, helper);
	if (idx < 0) {
		kill(pid, SIGKILL); /* cannot happen: checked above */
		return idx;
	}
	s->started[idx] = evloop_now();
	{
		char p[16];
		char msg[96];

		snprintf(p, sizeof(p), "%d", (int)pid);
		snprintf(msg, sizeof(msg), "started %s (pid %s)", name, p);
		log_event(LOG_INFO, msg, "child", name, "pid", p, "argv0",
		    argv[0], NULL);
	}
	*out = pid;
	return 0;
}

int supervisor_spawn(struct supervisor *s, const char *name,
    char *const argv[], char *const envp[], pid_t *pid)
{
	pid_t p = 0;
	int r = spawn(s, name, argv, envp, false, -1, &p);

	if (r == 0 && pid != NULL)
		*pid = p;
	return r;
}

int supervisor_run_helper(struct supervisor *s, const char *name,
    char *const argv[], char *const envp[], bool capture, size_t max_out,
    supervisor_helper_cb *done, void *arg)
{
	struct helper *h = NULL;
	int pp[2] = {-1, -1};
	pid_t pid;
	int r;

	for (size_t i = 0; i < 4; i++) {
		if (!s->helpers[i].used) {
			h = &s->helpers[i];
			break;
		}
	}
	if (h == NULL)
		return -EBUSY;
	if (capture) {
		if (pipe2(pp, O_CLOEXEC) < 0)
			return -errno;
		h->out = malloc(max_out + 1);
		if (h->out == NULL) {
			close(pp[0]);
			close(pp[1]);
			return -ENOMEM;
		}
		h->out[0] = '\0';
		h->max = max_out;
		(void)fcntl(pp[0], F_SETFL, O_NONBLOCK);
	}
	r = spawn(s, name, argv, envp, true, pp[1], &pid);
	if (pp[1] >= 0)
		close(pp[1]);
	if (r < 0) {
		if (pp[0] >= 0)
			close(pp[0]);
		free(h->out);
		h->out = NULL;
		return r;
	}
	h->used = true;
	h->s = s;
	h->pid = pid;
	h->done = done;
	h->arg = arg;
	h->outfd = pp[0];
	if (h->outfd >= 0 &&
	    evloop_watch(s->l, h->outfd, EPOLLIN, on_helper_out, h) == 0)
		h->watched = true;
	/* Not watched is still fine: the pipe is drained when the helper
	 * exits, as long as its output fits in the pipe buffer. */
	return 0;
}

void supervisor_launched(struct supervisor *s)
{
	supervisor_core_launched(&s->core);
}

void supervisor_shutdown(struct supervisor *s, int code)
{
	struct supervisor_act acts[SUPERVISOR_MAX_ACTS];

	run_acts(s, acts, supervisor_core_shutdown(&s->core, code, acts));
}

void supervisor_watch_deaths(struct supervisor *s, supervisor_death_cb *cb,
    void *arg)
{
	s->death_cb = cb;
	s->death_arg = arg;
}

bool supervisor_stopping(const struct supervisor *s)
{
	return s->core.phase != SUPERVISOR_RUN;
}

bool supervisor_running(const struct supervisor *s, const char *name)
{
	for (size_t i = 0; i < s->core.n; i++) {
		const struct supervisor_core_child *ch = &s->core.ch[i];

		if (!ch->helper && ch->state != SUPERVISOR_CHILD_EXITED &&
		    strcmp(ch->name, name) == 0)
			return true;
	}
	return false;
}

int supervisor_status_json(const struct supervisor *s, char *buf, size_t len,
    size_t *used)
{
	static const char *const states[] = {"running", "stopping", "killing",
	    "exited"};
	size_t off = 0;
	bool first = true;
	int w;

	w = snprintf(buf, len, "[");
	if (w < 0 || (size_t)w >= len)
		return -ENOSPC;
	off = (size_t)w;
	for (size_t i = 0; i < s->core.n; i++) {
		const struct supervisor_core_child *ch = &s->core.ch[i];
		char ex[8] = "null";

		if (ch->helper)
			continue;
		if (ch->state == SUPERVISOR_CHILD_EXITED)
			snprintf(ex, sizeof(ex), "%d",
			    supervisor_exit_code(ch->wstatus));
		/* Names are ours ("geth", "tessera"): no escaping needed. */
		w = snprintf(buf + off, len - off,
		    "%s{\"name\":\"%s\",\"pid\":%d,\"state\":\"%s\","
		    "\"restarts\":0,\"exit\":%s}",
		    first ? "" : ",", ch->name, (int)ch->pid,
		    states[ch->state], ex);
		if (w < 0 || (size_t)w >= len - off)
			return -ENOSPC;
		off += (size_t)w;
		first = false;
	}
	w = snprintf(buf + off, len - off, "]");
	if (w < 0 || (size_t)w >= len - off)
		return -ENOSPC;
	off += (size_t)w;
	if (used != NULL)
		*used = off;
	return 0;
}
