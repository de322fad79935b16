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
 * `run --dry-run`: detects geth's version
 * synchronously (`geth version`, no PRIVATE_CONFIG), then prints what
 * launch_dry_run() gives for it to out. Returns the exit code (0, or 1 if
 * geth cannot be run, with one line on stderr).
 */
int launch_print_dry_run(const struct settings *s, FILE *out);

/*
 * Resolves PRIVACY=auto: from TM_BIN's name if set ("constellation" in it
 * means Constellation), else from what is on PATH (tessera, then
 * constellation-node), else none.
 */
enum privacy launch_resolve_privacy(const struct settings *s);

/* How long to wait for the TM's socket and /upcheck 200: TM_START_TIMEOUT
 * (LAUNCH_TM_TIMEOUT_S if 0); this overrides it. Call before launch_start.
 * A Tessera that dies or times out before it answers is checked for the
 * H2 1.4 database Tessera 22+ cannot open (launch_h2_format). */
#define LAUNCH_TM_TIMEOUT_S 120
void launch_set_tm_timeout(struct launch *lh, unsigned secs);

/*
 * `geth version` (no PRIVATE_CONFIG), synchronously, for use before the
 * event loop runs: its cached answer (DATA_DIR/geth-version) while the
 * executable is unchanged, else the run itself, killed after 30 s. 0, or
 * -1 with why.
 */
int launch_detect_version(const struct settings *s, struct geth_version *v,
    char *why, size_t whylen) __attribute__((warn_unused_result));
/*
 * Resolves s->genesis_form before anything is rendered (README, "Genesis
 * forms"): the form of DATA_DIR/genesis.json if there is one (a genesis is
 * frozen; a GENESIS_FORM that differs is logged and ignored), else the
 * setting, else (auto) launch_genesis_form_for() the geth detected
 * (launch_detect_version), or legacy when there is none to ask. With
 * check, an explicit form this geth misreads is refused. Returns 0, or 2
 * with one line logged.
 */
int launch_resolve_genesis_form(struct settings *s, bool check)
    __attribute__((warn_unused_result));
/* auto's choice for a geth: GENESIS_CURRENT from GoQuorum 22.7 on. */
enum genesis_form launch_genesis_form_for(const struct geth_version *v);
/*
 * Whether this geth reads a genesis of form f as written: the current
 * form needs GoQuorum 22.4.1+ (an unknown 1.10+ build passes). 0, or
 * -ENOTSUP with why.
 */
int launch_genesis_form_check(enum genesis_form f,
    const struct geth_version *v, char *why, size_t whylen)
    __attribute__((warn_unused_result));
/* "format:N" of an H2 MVStore file header (its first bytes), or -EINVAL.
 * 1 is H2 1.4 (Tessera up to 21.x), 2 and 3 H2 2.x (Tessera 22+). */
int launch_h2_format(const char *head, size_t len)
    __attribute__((warn_unused_result));

/* ---- Pure command-line builders (exported for the unit tests) ---- */

#define LAUNCH_ARGV_MAX 160
/* One command: argv points into buf, so a launch_cmd is never copied. env is
 * the one variable added to the environment ("PRIVATE_CONFIG=..."), or "". */
struct launch_cmd {
	int argc;
	char *argv[LAUNCH_ARGV_MAX + 1]; /* NULL-terminated */
	char env[160];
	char buf[8192];
	size_t used;
};

/* Paths below DATA_DIR (formats.md, DESIGN §8). */
#define LAUNCH_TM_SOCKET "tm/tm.ipc"

/* `geth version` (no PRIVATE_CONFIG). */
int launch_version_cmd(const struct settings *s, struct launch_cmd *c)
    __attribute__((warn_unused_result));
/* `geth --datadir DATA_DIR/dd init DATA_DIR/genesis.json` (no
 * PRIVATE_CONFIG). */
int launch_init_cmd(const struct settings *s, struct launch_cmd *c)
    __attribute__((warn_unused_result));
/* The TM: `tessera -configfile DATA_DIR/tessera-config.json TM_ARGS` or
 * `constellation-node DATA_DIR/tm.conf TM_ARGS`, Constellation's TM_ARGS
 * in the form its getOpt parses ("--opt value" as "--opt=value", "-v N" as
 * "-vN"). -EINVAL for none/auto. */
int launch_tm_cmd(const struct settings *s, struct launch_cmd *c)
    __attribute__((warn_unused_result));
/*
 * geth itself, flags for the detected version, env PRIVATE_CONFIG. HTTP
 * and WS serve s->rpc_apis on s->rpc_addr; UNLOCK=yes unlocks
 * s->unlock_account (-EINVAL if it is ""). -ENOTSUP for CONSENSUS=qbft on
 * a geth without QBFT (launch_qbft_supported).
 */
int launch_geth_cmd(const struct settings *s, const struct geth_version *v,
    struct launch_cmd *c) __attribute__((warn_unused_result));
/* Whether this geth knows the genesis "qbft" block: GoQuorum 22.4 or
 * later (geth 1.10 when the Quorum version is unknown). */
bool launch_qbft_supported(const struct geth_version *v);
/*
 * The account geth's keystore index 0 is (the identity's): the first
 * regular, non-hidden file of DATA_DIR/dd/keystore in name order, as geth
 * sorts them; its "address" member as "0x" + EIP-55 hex into out. 0,
 * -ENOENT (none) or -EINVAL (not a keystore).
 */
int launch_find_account(const char *data_dir, char out[static 43])
    __attribute__((warn_unused_result));
/* The TM binary and the child name used in logs ("tessera",
 * "constellation"). */
const char *launch_tm_bin(const struct settings *s);
const char *launch_tm_name(const struct settings *s);
/*
 * A child's environment: base without PRIVATE_CONFIG and CLUSTER_SECRET
 * (children never see the secret), plus add if not NULL or "". out holds max
 * pointers including the final NULL; -E2BIG if too small.
 */
int launch_child_env(char *const *base, const char *add, char **out,
    size_t max) __attribute__((warn_unused_result));

#endif
