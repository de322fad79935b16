#ifndef PEERD_SUPERVISOR_H
#define PEERD_SUPERVISOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "peerd/evloop.h"

/*
 * PID-1 duties (pid1.md §6): signals through a signalfd on the event loop,
 * reaping (subreaper when not PID 1), children in their own sessions, the
 * stop sequence (geth first, then the TM, STOP_TIMEOUT then SIGKILL, then a
 * sweep of whatever is left), the exit status.
 */

struct supervisor;

/*
 * First statement of main(): block every asynchronous signal (all but the
 * synchronous SEGV BUS FPE ILL ABRT TRAP SYS, and PIPE), ignore
 * PIPE/TTIN/TTOU, mark inherited fds >= 3 close-on-exec (S20), save the
 * inherited mask in *saved (may be NULL). Children start with an empty mask
 * and every disposition at SIG_DFL whatever *saved holds (T-H1).
 */
void supervisor_block_signals(sigset_t *saved);

struct supervisor_events {
	/* A stop was requested by SIGTERM/SIGINT/SIGQUIT (first one only). */
	void (*stop_requested)(void *arg, int signo);
	/* A supervised child exited (code already mapped: N or 128+sig);
	 * expected is false for an unexpected death (which starts the stop).
	 * Not called for helpers. */
	void (*child_exited)(void *arg, const char *name, int code,
	    bool expected);
	/*
	 * Everything stopped and reaped: the daemon should exit with code.
	 * Called once, from inside the event loop: stop the loop here (or
	 * exit); do not supervisor_free() from inside the callback.
	 */
	void (*finished)(void *arg, int code);
};

/* Any member of ev may be NULL. Logs "running as PID n" and becomes a
 * child subreaper when not PID 1. NULL with errno on failure. */
struct supervisor *supervisor_new(struct evloop *l, const sigset_t *saved,
    unsigned stop_timeout_s, const struct supervisor_events *ev, void *arg);
void supervisor_free(struct supervisor *s);

/*
 * Starts a long-running child (order of calls = start order; the stop order
 * is the reverse). argv[0] is resolved through PATH (execvp semantics); envp
 * NULL means the daemon's environment. Exec failure is detected in the
 * parent through a CLOEXEC pipe: -ENOENT / -EACCES / -errno are returned and
 * nothing is left running. -ECANCELED when already stopping.
 */
int supervisor_spawn(struct supervisor *s, const char *name,
    char *const argv[], char *const envp[], pid_t *pid)
    __attribute__((warn_unused_result));

/*
 * Runs a short-lived helper (geth version, geth init); done(arg, code,
 * output) is called when it exits, with its stdout+stderr (at most max_out
 * bytes kept, NUL-terminated) if capture is set, else output is NULL and
 * the helper inherits the daemon's stdout/stderr. Stopped with the rest on a
 * stop request; done() is NOT called once the supervisor is stopping.
 * Errors as supervisor_spawn.
 */
typedef void supervisor_helper_cb(void *arg, int code, const char *output,
    size_t len);
int supervisor_run_helper(struct supervisor *s, const char *name,
    char *const argv[], char *const envp[], bool capture, size_t max_out,
    supervisor_helper_cb *done, void *arg) __attribute__((warn_unused_result));

/*
 * Called (by launch) once every long-running child is started: from now on
 * a requested stop exits with the status of the last child started (geth),
 * not 128+signal (pid1.md §6.6).
 */
void supervisor_launched(struct supervisor *s);

/*
 * Starts the stop sequence with `code` as the exit status (a setup failure:
 * 1, 126, 127; it is final, children's statuses do not change it).
 * Idempotent: once stopping, it only replaces the code of a stop requested
 * by a signal before supervisor_launched() (128+signal by default; e.g. 0
 * for LAUNCH=no, from the stop_requested callback). finished() is called
 * when all is reaped.
 */
void supervisor_shutdown(struct supervisor *s, int code);

/*
 * A second observer (launch: to say why the TM died before it answered):
 * cb(arg, name, code) for a long-running child that died on its own, before
 * child_exited. One at a time; cb NULL removes it.
 */
typedef void supervisor_death_cb(void *arg, const char *name, int code);
void supervisor_watch_deaths(struct supervisor *s, supervisor_death_cb *cb,
    void *arg);

bool supervisor_stopping(const struct supervisor *s);
/* True if the named child (not a helper) is running. */
bool supervisor_running(const struct supervisor *s, const char *name);
/*
 * Writes a JSON array of children {name,pid,state,restarts,exit} at buf
 * (NUL-terminated); *used = its length. -ENOSPC if it does not fit.
 */
int supervisor_status_json(const struct supervisor *s, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));

/* Exit code for a wait status: WEXITSTATUS or 128+WTERMSIG, 0..255. */
int supervisor_exit_code(int wstatus);

/*
 * ---- Pure decision core (pid1.md S21) ----
 * Events in (signal, child death, timer, "no children left", shutdown),
 * actions out. No processes, no clock, no logging: supervisor.c executes the
 * actions. Exported for tests/unit/test_supervisor.c.
 */
#define SUPERVISOR_MAX_CHILDREN 16
#define SUPERVISOR_MAX_ACTS 8

enum supervisor_act_type {
	SUPERVISOR_ACT_SIGNAL = 1, /* kill(-pgid of child, sig) */
	SUPERVISOR_ACT_ESCALATE,   /* same, SIGKILL after the stop timeout */
	SUPERVISOR_ACT_FORWARD,    /* same, a forwarded HUP/USR1/USR2/CONT */
	SUPERVISOR_ACT_TIMER,      /* (re)arm the single timer: ms */
	SUPERVISOR_ACT_CANCEL_TIMER,
	SUPERVISOR_ACT_SWEEP,      /* sig to everything left (TERM+CONT or KILL) */
	SUPERVISOR_ACT_FINISH,     /* exit with code */
};

struct supervisor_act {
	enum supervisor_act_type type;
	int child; /* index in core->ch, or -1 */
	int sig;
	unsigned ms;
	int code;
};

enum supervisor_phase {
	SUPERVISOR_RUN = 0,
	SUPERVISOR_STOPPING, /* stopping children one by one */
	SUPERVISOR_SWEEP,    /* TERM sent to what is left, grace running */
	SUPERVISOR_SWEEP_KILL,
	SUPERVISOR_DONE,
};

enum supervisor_cause {
	SUPERVISOR_CAUSE_NONE = 0,
	SUPERVISOR_CAUSE_SIGNAL,   /* TERM/INT/QUIT */
	SUPERVISOR_CAUSE_DEATH,    /* a long-running child died on its own */
	SUPERVISOR_CAUSE_SHUTDOWN, /* supervisor_shutdown(code) */
};

enum supervisor_child_state {
	SUPERVISOR_CHILD_RUNNING = 0,
	SUPERVISOR_CHILD_TERM_SENT,
	SUPERVISOR_CHILD_KILL_SENT,
	SUPERVISOR_CHILD_EXITED,
};

struct supervisor_core_child {
	char name[32];
	pid_t pid;
	bool helper;
	enum supervisor_child_state state;
	int wstatus; /* valid once EXITED */
};

struct supervisor_core {
	unsigned stop_timeout_ms, grace_ms;
	enum supervisor_phase phase;
	enum supervisor_cause cause;
	int cause_sig;  /* the stop signal (CAUSE_SIGNAL) */
	int cause_code; /* death's or shutdown's code */
	int signal_code; /* a requested stop's code before launch (128+sig) */
	bool killed;    /* a child needed SIGKILL */
	int primary;    /* child whose status decides a requested stop, -1 */
	int stopping;   /* child being stopped, -1 */
	size_t n;
	struct supervisor_core_child ch[SUPERVISOR_MAX_CHILDREN];
	char reason[160]; /* why we exit, for the final log line */
};

void supervisor_core_init(struct supervisor_core *c, unsigned stop_timeout_ms,
    unsigned grace_ms);
/* Index of the new child, or -ENOSPC. */
int supervisor_core_add(struct supervisor_core *c, const char *name,
    pid_t pid, bool helper) __attribute__((warn_unused_result));
/* The last long-running child added becomes the primary. */
void supervisor_core_launched(struct supervisor_core *c);
/* Each returns the number of actions written to acts[SUPERVISOR_MAX_ACTS]. */
size_t supervisor_core_signal(struct supervisor_core *c, int signo,
    struct supervisor_act *acts);
/* *idx = the child's index, or -1 for an orphan (nothing to do). */
size_t supervisor_core_exited(struct supervisor_core *c, pid_t pid,
    int wstatus, int *idx, struct supervisor_act *acts);
size_t supervisor_core_timer(struct supervisor_core *c,
    struct supervisor_act *acts);
/* waitpid() said ECHILD: nothing left to reap. */
size_t supervisor_core_no_children(struct supervisor_core *c,
    struct supervisor_act *acts);
size_t supervisor_core_shutdown(struct supervisor_core *c, int code,
    struct supervisor_act *acts);
/* The exit code the core would use if everything ended now. */
int supervisor_core_code(const struct supervisor_core *c);

#endif
