#ifndef PEERD_GETHRPC_H
#define PEERD_GETHRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerd/evloop.h"

/*
 * JSON-RPC 2.0 over geth's IPC socket (DATA_DIR/dd/geth.ipc), on the one
 * event loop. One connection, opened on the first call and kept; several
 * calls may be outstanding on it at once (geth answers them in any order:
 * replies are matched by id). Requests and replies are one JSON object
 * each followed by "\n", as geth's json.Encoder writes them.
 *
 * Every call ends in exactly one callback, from the loop, never inside
 * gethrpc_call. A call that gets no reply within its timeout fails with
 * -ETIMEDOUT; if geth has sent nothing on the connection since that call
 * was made (a stopped or wedged geth) the connection is dropped too, the
 * other calls on it fail with -ETIMEDOUT as well, and the next call
 * reconnects. A call that hangs while geth answers others (raft_addPeer
 * can block in geth) fails alone and its late reply is ignored.
 *
 * The module never logs. The reply parser and the typed decoders below are
 * pure (bytes in, struct out: no I/O, no globals, no allocation).
 */

#define GETHRPC_REPLY_MAX (1024u * 1024u) /* one reply line; over: -E2BIG */
#define GETHRPC_PARAMS_MAX 16384          /* params JSON of one call */
#define GETHRPC_PENDING_MAX 256           /* calls outstanding at once */
#define GETHRPC_TIMEOUT_DEFAULT 2000      /* ms, for timeout_ms == 0 */

struct gethrpc;

struct gethrpc_reply {
	/* A result (is_error false): the raw JSON text of "result", pointing
	 * into the client's buffer (valid during the callback only). */
	const char *result;
	size_t result_len;
	/* A JSON-RPC error object (is_error true; result is NULL): */
	bool is_error;
	long code;         /* e.g. -32601 unknown method, -32000 geth error */
	char message[256]; /* printable ASCII (others as '?'), truncated */
};

/*
 * err: 0 (reply set: a result or a JSON-RPC error), or, with reply NULL,
 * -ENOENT (no socket), -ECONNREFUSED (no geth listening on it),
 * -ETIMEDOUT (see above), -ECONNRESET (geth closed the connection),
 * -EPROTO (a reply that is not JSON-RPC 2.0: the connection is dropped and
 * every call on it fails so), -E2BIG (a reply over GETHRPC_REPLY_MAX: the
 * same), -ECANCELED (gethrpc_free), or another -errno of socket/connect.
 * A callback may call gethrpc_call, never gethrpc_free.
 */
typedef void gethrpc_cb(void *arg, int err, const struct gethrpc_reply *reply);

/* socket_path is copied (< 108 bytes). NULL with errno (EINVAL,
 * ENAMETOOLONG, ENOMEM). Connects on the first call, not here. */
struct gethrpc *gethrpc_new(struct evloop *l, const char *socket_path);
/*
 * Closes the connection and calls every pending callback with -ECANCELED
 * before returning (so that callers can release their args); calls made
 * from those callbacks are refused. NULL-safe.
 */
void gethrpc_free(struct gethrpc *g);

/*
 * Sends {"jsonrpc":"2.0","id":N,"method":method,"params":params_json}.
 * method: 1..64 of [A-Za-z0-9_]; params_json: a JSON array ("[...]") of at
 * most GETHRPC_PARAMS_MAX bytes, or NULL for []; timeout_ms: 0 = default.
 * Returns 0 (cb will be called exactly once, later), or -EINVAL (bad
 * method or params), -ENOBUFS (GETHRPC_PENDING_MAX calls outstanding or
 * the send buffer full), -ENOMEM, -ECANCELED (inside gethrpc_free): then
 * cb is never called.
 */
int gethrpc_call(struct gethrpc *g, const char *method,
    const char *params_json, unsigned timeout_ms, gethrpc_cb *cb, void *arg)
    __attribute__((warn_unused_result));

/* Calls outstanding. */
unsigned gethrpc_pending(const struct gethrpc *g);
/* True while a connection to geth is open (connected, not connecting). */
bool gethrpc_connected(const struct gethrpc *g);
/* A few words for the err of a callback: "connection refused", "no
 * socket", "no answer in time", "connection closed by geth", "bad reply",
 * "reply too large", "cancelled", else strerror(-err). */
const char *gethrpc_strerror(int err);

/* ---- pure parsers -------------------------------------------------- */

/*
 * One reply (a line without its "\n"; whitespace around is allowed):
 * a JSON object with "id" and exactly one of "result" or "error"
 * ({"code": integer, "message": string, ...}); "jsonrpc", if present, must
 * be "2.0"; other members are ignored; duplicate members are refused.
 * *id is the id if it is an integer 1..2^64-1, else 0 (null, absent, a
 * string: not one of ours). out->result points into buf. Returns 0, or
 * -EPROTO with a one-line reason in err.
 */
int gethrpc_parse_reply(const char *buf, size_t len, uint64_t *id,
    struct gethrpc_reply *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Typed decoders of a "result" text (whitespace around allowed). Each
 * returns 0, or -EPROTO with a one-line reason in err (and -E2BIG for a
 * list longer than max); out is unspecified on failure.
 */

/* A hex quantity, "0x0" or "0x" + 1..16 hex digits without leading zero
 * (eth_blockNumber, net_peerCount). */
int gethrpc_quantity(const char *json, size_t len, uint64_t *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* true or false. */
int gethrpc_bool(const char *json, size_t len, bool *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* A string without control characters, decoded; longer than outlen - 1:
 * -EPROTO. */
int gethrpc_string(const char *json, size_t len, char *out, size_t outlen,
    char *err, size_t errlen) __attribute__((warn_unused_result));

struct gethrpc_syncing {
	bool syncing;
	uint64_t current, highest; /* currentBlock, highestBlock; 0 if not */
};
/* eth_syncing: false, or an object with currentBlock and highestBlock
 * (quantities; other members ignored). */
int gethrpc_syncing(const char *json, size_t len,
    struct gethrpc_syncing *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#define GETHRPC_NODE_ID_LEN 128 /* hex chars of an enode ID */
#define GETHRPC_ADDR_LEN 42     /* "0x" + 40 hex */
#define GETHRPC_ROLE_MAX 16

/* raft_role: "minter", "verifier", "learner" or "" (no leader, removed). */
int gethrpc_raft_role(const char *json, size_t len,
    char role[static GETHRPC_ROLE_MAX], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* raft_leader: a 128-hex node ID (returned lowercase, NUL-terminated). */
int gethrpc_node_id(const char *json, size_t len,
    char id[static GETHRPC_NODE_ID_LEN + 1], char *err, size_t errlen)
    __attribute__((warn_unused_result));

struct gethrpc_raft_member {
	unsigned raft_id;                    /* raftId, 1..65535 */
	char node_id[GETHRPC_NODE_ID_LEN + 1]; /* nodeId, lowercase */
	uint16_t p2p_port, raft_port;        /* p2pPort, raftPort */
	char hostname[256];                  /* [A-Za-z0-9.:_%[]-], 1..255 */
	char role[GETHRPC_ROLE_MAX];         /* as raft_role */
	bool active;                         /* nodeActive */
};
/*
 * raft_cluster: an array of {raftId, nodeId, p2pPort, raftPort, hostname,
 * role, nodeActive} (all required; other members ignored), in geth's
 * order (not sorted). *n members stored; more than max: -E2BIG.
 */
int gethrpc_raft_cluster(const char *json, size_t len,
    struct gethrpc_raft_member *out, size_t max, size_t *n, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* istanbul_nodeAddress: "0x" + 40 hex (returned lowercase). */
int gethrpc_address(const char *json, size_t len,
    char addr[static GETHRPC_ADDR_LEN + 1], char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* istanbul_getValidators: an array of addresses (lowercase); more than
 * max: -E2BIG. */
int gethrpc_addresses(const char *json, size_t len,
    char (*out)[GETHRPC_ADDR_LEN + 1], size_t max, size_t *n, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/*
 * admin_peers: the node IDs (lowercase 128 hex) of the connected peers,
 * from each entry's "enode" (enode://<id>@host:port...); other members
 * ignored. More than max: -E2BIG.
 */
int gethrpc_peer_ids(const char *json, size_t len,
    char (*out)[GETHRPC_NODE_ID_LEN + 1], size_t max, size_t *n, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
