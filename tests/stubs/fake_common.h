#ifndef FAKE_COMMON_H
#define FAKE_COMMON_H

/*
 * Shared by the stand-ins for geth and the TM (tests/stubs): a log of
 * everything they see (FAKE_LOG), signal recording, the behaviour knobs of
 * pid1.md §7 (FAKE_<WHO>_ON_TERM, _EXIT_AFTER, _ORPHANS, _STRAY) and a
 * run-until-signalled loop.
 */

#include <stdbool.h>
#include <stddef.h>

struct fake {
	const char *prefix; /* "GETH", "TESSERA": log line prefix */
	const char *knob;   /* "FAKE_GETH", "FAKE_TESSERA": env prefix */
	const char *prog;   /* "fake-geth": stderr prefix */
	int logfd;
};

/* Opens FAKE_LOG (append) first of all, so it is fd 3 (T-H4). */
void fake_init(struct fake *f, const char *prog, const char *prefix,
    const char *knob);
void fake_log(struct fake *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Loud failure: "<prog>: Fatal: <msg>" on stderr, "<PREFIX> fail <msg>" in
 * the log, exit(code). */
void fake_die(struct fake *f, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* "<PREFIX> start pid= pgid= sid= ppid= blk= ign= fds=" */
void fake_start_line(struct fake *f);
/* fn runs before the process dies of a signal in fake_run (use atexit
 * for the exit paths); one hook. */
void fake_at_exit(void (*fn)(void));
/* The knob value <knob>_<name>, or NULL. */
const char *fake_knob(struct fake *f, const char *name);
/* _ORPHANS=N and _STRAY=1. */
void fake_make_orphans(struct fake *f);
/*
 * Installs the recording handlers and runs until the process ends by the
 * knobs (ON_TERM, EXIT_AFTER). extra_fd >= 0 is polled too and on_extra
 * called when readable. Never returns.
 */
void fake_run(struct fake *f, int extra_fd, void (*on_extra)(void *),
    void *arg) __attribute__((noreturn));

#endif
