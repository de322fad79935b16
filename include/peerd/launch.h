#ifndef PEERD_LAUNCH_H
#define PEERD_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "peerd/evloop.h"
#include "peerd/settings.h"
#include "peerd/supervisor.h"

/*
 * Starts what the node needs, in order (DESIGN §9): detect geth's version,
 * start the TM and wait for its IPC socket and /upcheck, `geth init` on first
 * boot, then geth with PRIVATE_CONFIG. Command lines are built by pure
 * functions (launch_geth_argv etc.) so they are unit-tested.
 */

struct launch;

struct geth_version {
	unsigned major, minor, patch; /* geth's own version, e.g. 1.10.3 */
	char quorum[32];              /* "2.7.0", "22.7.1", "" if unknown */
};

/* Parses `geth version` output. 0 or -EINVAL. */
int launch_parse_geth_version(const char *out, size_t len,
    struct geth_version *v) __attribute__((warn_unused_result));

struct launch_events {
	void (*ready)(void *arg);            /* geth is running */
	void (*failed)(void *arg, int code); /* setup failed before geth ran */
};

/* privacy must be resolved (not PRIVACY_AUTO); unlock password file etc.
 * are found under s->data_dir. */
struct launch *launch_new(struct evloop *l, struct supervisor *sup,
    const struct settings *s, const struct launch_events *ev, void *arg);
void launch_free(struct launch *lh);
int launch_start(struct launch *lh) __attribute__((warn_unused_result));
/* Human-readable phase/reason for /readyz and /status. */
const char *launch_state(const struct launch *lh);

/*
 * --dry-run: writes the exact command lines and environment additions that
 * would be used for the given geth version, one per line.
 */
int launch_dry_run(const struct settings *s, const struct geth_version *v,
    bool first_boot, char *out, size_t len)
    __attribute__((warn_unused_result));

/*
 * `run --dry-run` (added by the lead for main.c): detects geth's version
 * synchronously (`geth version`, no PRIVATE_CONFIG), then prints what
 * launch_dry_run() gives for it to out. Returns the exit code (0, or 1 if
 * geth cannot be run, with one line on stderr).
 */
int launch_print_dry_run(const struct settings *s, FILE *out);

/* Resolves PRIVACY=auto from what is on PATH (tessera, constellation-node). */
enum privacy launch_resolve_privacy(const struct settings *s);

#endif
