#ifndef PEERD_GETHWATCH_H
#define PEERD_GETHWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerd/evloop.h"
#include "peerd/gethrpc.h"
#include "peerd/settings.h"

/*
 * Watches this node's geth over its IPC socket (gethrpc). Each round asks,
 * all at once on the one connection: eth_blockNumber, net_peerCount,
 * eth_syncing, and for raft raft_leader, plus raft_role and raft_cluster
 * (every round on the leader, every 5th on the others, never in the rounds
 * before geth first answers: on a node that is not the leader they take a
 * read lock twice in Quorum 2.7.0 and can deadlock geth); for
 * istanbul/qbft istanbul_getValidators(["latest"]) (and
 * istanbul_nodeAddress until this node's address is known). Rounds run
 * every 50 ms after gethwatch_start or gethwatch_check_now until geth
 * first answers, then every interval_ms (a round is over when its last
 * call is; the next starts after that).
 *
 * The module never logs: the caller logs on on_change, and reads the
 * state, the /status object and the metrics.
 */

struct gethwatch;

struct gethwatch_config {
	const char *socket_path; /* DATA_DIR/dd/geth.ipc; copied */
	enum consensus consensus;
	/* This node's enode ID (128 hex), to find its raft ID in
	 * raft_cluster; NULL or "": raft id stays 0. Copied. */
	const char *node_id;
	/* BFT: this node's node-key address ("0x" + 40 hex); NULL or "":
	 * asked with istanbul_nodeAddress. Copied. */
	const char *address;
	unsigned interval_ms; /* 0 = 2000; at most 5000 */
	unsigned timeout_ms;  /* per call; 0 = 2000 */
};

struct gethwatch_state {
	bool answered;    /* geth's IPC has answered at least once */
	bool up;          /* eth_blockNumber answered in the latest round */
	uint64_t block;   /* the latest good values (kept while down) */
	uint64_t peers;
	bool syncing;
	/* raft: role and cluster answered in the latest round */
	bool raft_valid;
	unsigned raft_id;     /* own ID found in raft_cluster by nodeId, 0 */
	char role[16];        /* raft_role: minter, verifier, learner, "" */
	unsigned leader_id;   /* raft ID of the leader, 0 none/unknown */
	unsigned raft_members;
	/* istanbul/qbft: istanbul_getValidators answered in the latest
	 * round */
	bool bft_valid;
	unsigned validators;
	bool validator;       /* own address is in the list */
	char reason[160];     /* why not up ("" while up), e.g. "geth IPC:
			       * connection refused", "geth IPC: no answer
			       * in 2 s" */
	uint64_t last_ok_ms;  /* evloop_now() of the latest good round */
};

/*
 * Called after a round that changed anything but block and last_ok_ms
 * (prev is the state before it, cur the one now readable). May call
 * gethwatch_check_now and gethrpc_call on gethwatch_rpc(), never
 * gethwatch_free.
 */
typedef void gethwatch_change_cb(void *arg, const struct gethwatch_state *prev,
    const struct gethwatch_state *cur);

/* NULL with errno (EINVAL for a bad config, ENOMEM). Nothing runs
 * before gethwatch_start. on_change may be NULL. */
struct gethwatch *gethwatch_new(struct evloop *l,
    const struct gethwatch_config *cfg, gethwatch_change_cb *on_change,
    void *arg);
/* Stops everything; calls on gethwatch_rpc() still pending get their
 * callbacks with -ECANCELED (gethrpc_free). NULL-safe. */
void gethwatch_free(struct gethwatch *w);

/* Starts the rounds (the first from the loop, at once). 0 or -EALREADY. */
int gethwatch_start(struct gethwatch *w) __attribute__((warn_unused_result));
/*
 * A round now (e.g. right after geth was spawned), then every 50 ms
 * until geth answers. Starts the watch if not started. A round in
 * flight is followed at once by another.
 */
void gethwatch_check_now(struct gethwatch *w);

/* The interval between rounds from the next one on (0: 2000; clamped to
 * 100..5000 ms). raft_role/raft_cluster on a follower keep their own
 * pace (every 10 s) whatever it is. */
void gethwatch_set_interval(struct gethwatch *w, unsigned interval_ms);
const struct gethwatch_state *gethwatch_state(const struct gethwatch *w);
/* The connection, for the caller's own calls (admin_addPeer...). */
struct gethrpc *gethwatch_rpc(struct gethwatch *w);

/*
 * The appenders write at buf + *used and advance *used, keeping buf
 * NUL-terminated; on -E2BIG nothing is appended.
 *
 * status: DESIGN §6's `geth` object: null until geth's IPC has answered,
 * then {"block":N,"peers":N,"syncing":bool,
 *  "raft":{"id":N|null,"role":"minter","leader":N|null,"members":N}|null,
 *  "validators":N|null,"validator":bool|null,"up":bool,"error":"..."|null}
 * raft is null for BFT and when the latest round did not get raft_role
 * and raft_cluster; validators/validator are null for raft and when the
 * latest round did not get the validators (validator also while the own
 * address is unknown). While geth does not answer, the values are the
 * last good ones, with "up":false and the reason in "error".
 */
int gethwatch_status_json(const struct gethwatch *w, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));
/* metrics (Prometheus, gauges): peerd_geth_up 0|1,
 * peerd_geth_block_height, peerd_geth_peers. */
int gethwatch_metrics(const struct gethwatch *w, char *buf, size_t len,
    size_t *used) __attribute__((warn_unused_result));

#endif
