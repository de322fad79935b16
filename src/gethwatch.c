/*
 * Watches geth over its IPC socket: a round of calls on one connection,
 * then a state, a /status object and metrics made from the answers.
 */
#include "peerd/gethwatch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peerd/strbuf.h"

#define FAST_MS 50
#define ROLE_EVERY_MS 10000 /* raft_role/raft_cluster on a follower */
#define INTERVAL_DEFAULT 2000
#define INTERVAL_MIN 100
#define INTERVAL_MAX 5000
#define TIMEOUT_MAX 60000
#define MAX_MEMBERS 256
#define MAX_VALIDATORS 256

enum query {
	Q_BLOCK,
	Q_PEERS,
	Q_SYNC,
	Q_ROLE,
	Q_LEADER,
	Q_CLUSTER,
	Q_VALS,
	Q_ADDR,
	Q_N
};

static const char *const methods[Q_N] = {"eth_blockNumber", "net_peerCount",
    "eth_syncing", "raft_role", "raft_leader", "raft_cluster",
    "istanbul_getValidators", "istanbul_nodeAddress"};

struct slot {
	struct gethwatch *w;
	enum query q;
};

struct gethwatch {
	struct evloop *l;
	struct gethrpc *rpc;
	bool raft;
	char node_id[GETHRPC_NODE_ID_LEN + 1];
	char address[GETHRPC_ADDR_LEN + 1];
	unsigned interval_ms, timeout_ms;
	gethwatch_change_cb *on_change;
	void *arg;
	struct gethwatch_state st;
	bool started, fast, in_round, again, freeing;
	uint64_t role_ms; /* raft: raft_role last asked of a follower */
	uint64_t first_ok_ms; /* geth's first answer */
	unsigned start_ms; /* the configured interval: no raft_role/cluster
			    * on a follower this soon after its first answer */
	long timer;
	/* The round in flight. */
	struct slot slots[Q_N];
	unsigned outstanding;
	int err[Q_N]; /* 0, -errno, or -EBADMSG for a JSON-RPC error */
	char block_why[128];
	uint64_t block, peers;
	bool syncing;
	char role[GETHRPC_ROLE_MAX];
	char leader[GETHRPC_NODE_ID_LEN + 1];
	char addr[GETHRPC_ADDR_LEN + 1];
	struct gethrpc_raft_member *members;
	size_t nmembers;
	char (*vals)[GETHRPC_ADDR_LEN + 1];
	size_t nvals;
};

/* Copies "<prefix><n hex>" lowercased; false if s is not that. */
static bool copy_hex(char *out, const char *s, const char *prefix, size_t n)
{
	size_t pl = strlen(prefix);

	if (strlen(s) != pl + n || strncmp(s, prefix, pl) != 0)
		return false;
	for (size_t i = 0; i <= pl + n; i++) {
		char c = s[i];

		if (i >= pl && i < pl + n) {
			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			else if (!((c >= '0' && c <= '9') ||
				     (c >= 'a' && c <= 'f')))
				return false;
		}
		out[i] = c;
	}
	return true;
}

struct gethwatch *gethwatch_new(struct evloop *l,
    const struct gethwatch_config *cfg, gethwatch_change_cb *on_change,
    void *arg)
{
	struct gethwatch *w;

	if (l == NULL || cfg == NULL || cfg->socket_path == NULL ||
	    (cfg->consensus != CONSENSUS_RAFT &&
		cfg->consensus != CONSENSUS_ISTANBUL &&
		cfg->consensus != CONSENSUS_QBFT) ||
	    (cfg->interval_ms != 0 && (cfg->interval_ms < INTERVAL_MIN ||
					  cfg->interval_ms > INTERVAL_MAX)) ||
	    cfg->timeout_ms > TIMEOUT_MAX) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	if ((cfg->node_id != NULL && cfg->node_id[0] != '\0' &&
		!copy_hex(w->node_id, cfg->node_id, "", GETHRPC_NODE_ID_LEN)) ||
	    (cfg->address != NULL && cfg->address[0] != '\0' &&
		!copy_hex(w->address, cfg->address, "0x", 40))) {
		free(w);
		errno = EINVAL;
		return NULL;
	}
	w->l = l;
	w->raft = cfg->consensus == CONSENSUS_RAFT;
	w->interval_ms = cfg->interval_ms ? cfg->interval_ms
					  : INTERVAL_DEFAULT;
	w->start_ms = w->interval_ms;
	w->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms
					: GETHRPC_TIMEOUT_DEFAULT;
	w->on_change = on_change;
	w->arg = arg;
	w->rpc = gethrpc_new(l, cfg->socket_path);
	if (w->rpc == NULL) {
		int e = errno;

		free(w);
		errno = e;
		return NULL;
	}
	if (w->raft)
		w->members = calloc(MAX_MEMBERS, sizeof(*w->members));
	else
		w->vals = calloc(MAX_VALIDATORS, sizeof(*w->vals));
	if (w->members == NULL && w->vals == NULL) {
		gethrpc_free(w->rpc);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	for (int q = 0; q < Q_N; q++) {
		w->slots[q].w = w;
		w->slots[q].q = (enum query)q;
	}
	return w;
}

void gethwatch_free(struct gethwatch *w)
{
	if (w == NULL)
		return;
	w->freeing = true;
	if (w->timer > 0)
		evloop_timer_cancel(w->l, w->timer);
	gethrpc_free(w->rpc); /* our callbacks see -ECANCELED and return */
	free(w->members);
	free(w->vals);
	free(w);
}

static void start_round(void *arg);

static void schedule(struct gethwatch *w, unsigned ms)
{
	if (w->timer > 0)
		evloop_timer_cancel(w->l, w->timer);
	w->timer = evloop_timer(w->l, evloop_now() + ms, start_round, w);
	if (w->timer < 0)
		w->timer = 0; /* out of memory: the watch stops */
}

static bool changed(const struct gethwatch_state *a,
    const struct gethwatch_state *b)
{
	return a->answered != b->answered || a->up != b->up ||
	       a->peers != b->peers || a->syncing != b->syncing ||
	       a->raft_valid != b->raft_valid || a->raft_id != b->raft_id ||
	       strcmp(a->role, b->role) != 0 || a->leader_id != b->leader_id ||
	       a->raft_members != b->raft_members ||
	       a->bft_valid != b->bft_valid ||
	       a->validators != b->validators ||
	       a->validator != b->validator ||
	       strcmp(a->reason, b->reason) != 0;
}

static unsigned raft_id_of(const struct gethwatch *w, const char *node_id)
{
	if (node_id[0] == '\0')
		return 0;
	for (size_t i = 0; i < w->nmembers; i++)
		if (strcmp(w->members[i].node_id, node_id) == 0)
			return w->members[i].raft_id;
	return 0;
}

static void down_reason(const struct gethwatch *w, char *out, size_t len)
{
	int e = w->err[Q_BLOCK];

	if (e == -ETIMEDOUT)
		snprintf(out, len, "geth IPC: no answer in %g s",
		    (double)w->timeout_ms / 1000.0);
	else if (e == -EBADMSG || (e == -EPROTO && w->block_why[0] != '\0'))
		snprintf(out, len, "geth IPC: eth_blockNumber: %.120s",
		    w->block_why);
	else
		snprintf(out, len, "geth IPC: %s", gethrpc_strerror(e));
}

static void end_round(struct gethwatch *w)
{
	struct gethwatch_state prev = w->st, *cur = &w->st;

	w->in_round = false;
	if (w->err[Q_ADDR] == 0 && w->addr[0] != '\0')
		memcpy(w->address, w->addr, sizeof(w->address));
	if (w->err[Q_BLOCK] == 0) {
		if (!cur->answered)
			w->first_ok_ms = evloop_now();
		cur->answered = true;
		cur->up = true;
		cur->block = w->block;
		cur->last_ok_ms = evloop_now();
		cur->reason[0] = '\0';
		if (w->err[Q_PEERS] == 0)
			cur->peers = w->peers;
		if (w->err[Q_SYNC] == 0)
			cur->syncing = w->syncing;
		/* Not asked this round (see start_round): as they were. */
		if (w->raft && w->err[Q_ROLE] == -ENODATA)
			;
		else {
		cur->raft_valid = w->raft && w->err[Q_ROLE] == 0 &&
				  w->err[Q_CLUSTER] == 0;
		cur->raft_id = cur->leader_id = cur->raft_members = 0;
		cur->role[0] = '\0';
		}
		if (cur->raft_valid && w->err[Q_ROLE] != -ENODATA) {
			memcpy(cur->role, w->role, sizeof(cur->role));
			cur->raft_members = (unsigned)w->nmembers;
			cur->raft_id = raft_id_of(w, w->node_id);
			if (w->err[Q_LEADER] == 0)
				cur->leader_id = raft_id_of(w, w->leader);
		}
		cur->bft_valid = !w->raft && w->err[Q_VALS] == 0;
		cur->validators = 0;
		cur->validator = false;
		if (cur->bft_valid) {
			cur->validators = (unsigned)w->nvals;
			for (size_t i = 0; i < w->nvals; i++)
				if (strcmp(w->vals[i], w->address) == 0)
					cur->validator = true;
		}
		w->fast = false;
	} else {
		cur->up = false;
		down_reason(w, cur->reason, sizeof(cur->reason));
	}
	if (w->again) {
		w->again = false;
		schedule(w, 0);
	} else {
		schedule(w, w->fast ? FAST_MS : w->interval_ms);
	}
	if (w->on_change != NULL && changed(&prev, cur))
		w->on_change(w->arg, &prev, cur);
}

static int decode(struct gethwatch *w, enum query q, const char *r, size_t n,
    char *err, size_t errlen)
{
	struct gethrpc_syncing s;
	int rc;

	switch (q) {
	case Q_BLOCK:
		return gethrpc_quantity(r, n, &w->block, err, errlen);
	case Q_PEERS:
		return gethrpc_quantity(r, n, &w->peers, err, errlen);
	case Q_SYNC:
		rc = gethrpc_syncing(r, n, &s, err, errlen);
		w->syncing = rc == 0 && s.syncing;
		return rc;
	case Q_ROLE:
		return gethrpc_raft_role(r, n, w->role, err, errlen);
	case Q_LEADER:
		return gethrpc_node_id(r, n, w->leader, err, errlen);
	case Q_CLUSTER:
		return gethrpc_raft_cluster(r, n, w->members, MAX_MEMBERS,
		    &w->nmembers, err, errlen);
	case Q_VALS:
		return gethrpc_addresses(r, n, w->vals, MAX_VALIDATORS,
		    &w->nvals, err, errlen);
	case Q_ADDR:
		return gethrpc_address(r, n, w->addr, err, errlen);
	default:
		return -EINVAL;
	}
}

static void on_reply(void *arg, int err, const struct gethrpc_reply *reply)
{
	struct slot *s = arg;
	struct gethwatch *w = s->w;
	char why[128] = "";

	if (w->freeing)
		return;
	if (err == 0 && reply->is_error) {
		err = -EBADMSG;
		snprintf(why, sizeof(why), "%.100s (%ld)", reply->message,
		    reply->code);
	} else if (err == 0) {
		err = decode(w, s->q, reply->result, reply->result_len, why,
		    sizeof(why));
		if (err < 0)
			err = -EPROTO;
	}
	w->err[s->q] = err;
	if (s->q == Q_BLOCK)
		memcpy(w->block_why, why, sizeof(w->block_why));
	if (--w->outstanding == 0)
		end_round(w);
}

static void start_round(void *arg)
{
	struct gethwatch *w = arg;
	enum query qs[Q_N];
	int n = 0;

	w->timer = 0;
	w->in_round = true;
	qs[n++] = Q_BLOCK;
	qs[n++] = Q_PEERS;
	qs[n++] = Q_SYNC;
	if (w->raft && !w->fast) {
		/*
		 * raft_role and raft_cluster take a read lock twice on a node
		 * that is not the leader (Quorum 2.7.0 raft/handler.go:191 and
		 * :658, NodeInfo -> isVerifierNode), which deadlocks geth if
		 * its raft loop asks for the write lock in between: seen on
		 * joiners applying their first snapshot. They are asked of
		 * the leader every round (one lock: the minter path), of the
		 * others every ROLE_EVERY_MS whatever the interval, and not
		 * while geth starts: not until the configured interval (2 s)
		 * after its first answer, even when a joiner's geth is
		 * watched faster (its snapshot arrives then); raft_leader
		 * (one lock) every round.
		 */
		bool leader = w->leader[0] != '\0' &&
		    strcmp(w->leader, w->node_id) == 0;
		uint64_t now = evloop_now();
		uint64_t since = w->role_ms ? w->role_ms : w->first_ok_ms;

		qs[n++] = Q_LEADER;
		if (leader || now - since >= (w->role_ms ? ROLE_EVERY_MS :
		    w->start_ms)) {
			qs[n++] = Q_ROLE;
			qs[n++] = Q_CLUSTER;
			if (!leader)
				w->role_ms = now;
		}
	} else if (!w->raft) {
		qs[n++] = Q_VALS;
		if (w->address[0] == '\0')
			qs[n++] = Q_ADDR;
	}
	for (int q = 0; q < Q_N; q++)
		w->err[q] = -ENODATA; /* not asked */
	w->block_why[0] = '\0';
	w->addr[0] = '\0';
	w->outstanding = 0;
	for (int i = 0; i < n; i++) {
		int r = gethrpc_call(w->rpc, methods[qs[i]],
		    qs[i] == Q_VALS ? "[\"latest\"]" : NULL, w->timeout_ms,
		    on_reply, &w->slots[qs[i]]);

		if (r < 0)
			w->err[qs[i]] = r;
		else
			w->outstanding++;
	}
	/* Callbacks never run inside gethrpc_call: none has come yet. */
	if (w->outstanding == 0)
		end_round(w);
}

int gethwatch_start(struct gethwatch *w)
{
	if (w->started)
		return -EALREADY;
	w->started = true;
	w->fast = true;
	schedule(w, 0);
	return 0;
}

void gethwatch_check_now(struct gethwatch *w)
{
	w->started = true;
	w->fast = true;
	if (w->in_round)
		w->again = true;
	else
		schedule(w, 0);
}

void gethwatch_set_interval(struct gethwatch *w, unsigned interval_ms)
{
	if (interval_ms == 0)
		interval_ms = INTERVAL_DEFAULT;
	if (interval_ms < INTERVAL_MIN)
		interval_ms = INTERVAL_MIN;
	if (interval_ms > INTERVAL_MAX)
		interval_ms = INTERVAL_MAX;
	w->interval_ms = interval_ms;
}

const struct gethwatch_state *gethwatch_state(const struct gethwatch *w)
{
	return &w->st;
}

struct gethrpc *gethwatch_rpc(struct gethwatch *w)
{
	return w->rpc;
}

/* s as a JSON string; reasons may quote what geth sent. */
static int append_json_str(char *buf, size_t len, size_t *used,
    const char *s)
{
	int rc = strbuf_appendf(buf, len, used, "\"");

	for (; rc == 0 && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = strbuf_appendf(buf, len, used, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			rc = strbuf_appendf(buf, len, used, "\\u%04x", c);
		else
			rc = strbuf_appendf(buf, len, used, "%c", c);
	}
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used, "\"");
	return rc;
}

static int undo(char *buf, size_t len, size_t *used, size_t start, int rc)
{
	if (rc < 0) {
		*used = start;
		if (start < len)
			buf[start] = '\0';
	}
	return rc;
}

static void num_or_null(char *out, size_t len, unsigned v)
{
	if (v == 0)
		snprintf(out, len, "null");
	else
		snprintf(out, len, "%u", v);
}

int gethwatch_status_json(const struct gethwatch *w, char *buf, size_t len,
    size_t *used)
{
	const struct gethwatch_state *s = &w->st;
	size_t start = *used;
	char id[16], leader[16];
	int rc;

	if (!s->answered)
		return undo(buf, len, used, start,
		    strbuf_appendf(buf, len, used, "null"));
	rc = strbuf_appendf(buf, len, used,
	    "{\"block\":%" PRIu64 ",\"peers\":%" PRIu64 ",\"syncing\":%s,"
	    "\"raft\":",
	    s->block, s->peers, s->syncing ? "true" : "false");
	if (rc == 0 && s->raft_valid) {
		num_or_null(id, sizeof(id), s->raft_id);
		num_or_null(leader, sizeof(leader), s->leader_id);
		rc = strbuf_appendf(buf, len, used,
		    "{\"id\":%s,\"role\":\"%s\",\"leader\":%s,"
		    "\"members\":%u}",
		    id, s->role, leader, s->raft_members);
	} else if (rc == 0) {
		rc = strbuf_appendf(buf, len, used, "null");
	}
	if (rc == 0 && s->bft_valid)
		rc = strbuf_appendf(buf, len, used,
		    ",\"validators\":%u,\"validator\":%s", s->validators,
		    w->address[0] == '\0' ? "null"
		    : s->validator        ? "true"
					  : "false");
	else if (rc == 0)
		rc = strbuf_appendf(buf, len, used,
		    ",\"validators\":null,\"validator\":null");
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used, ",\"up\":%s,\"error\":",
		    s->up ? "true" : "false");
	if (rc == 0 && s->up)
		rc = strbuf_appendf(buf, len, used, "null");
	else if (rc == 0)
		rc = append_json_str(buf, len, used, s->reason);
	if (rc == 0)
		rc = strbuf_appendf(buf, len, used, "}");
	return undo(buf, len, used, start, rc);
}

int gethwatch_metrics(const struct gethwatch *w, char *buf, size_t len,
    size_t *used)
{
	const struct gethwatch_state *s = &w->st;
	size_t start = *used;

	return undo(buf, len, used, start,
	    strbuf_appendf(buf, len, used,
		"# HELP peerd_geth_up Whether geth answered eth_blockNumber "
		"on its IPC socket in the latest check.\n"
		"# TYPE peerd_geth_up gauge\n"
		"peerd_geth_up %d\n"
		"# HELP peerd_geth_block_height geth's latest block number "
		"(eth_blockNumber; the last one seen while down).\n"
		"# TYPE peerd_geth_block_height gauge\n"
		"peerd_geth_block_height %" PRIu64 "\n"
		"# HELP peerd_geth_peers geth's connected peers "
		"(net_peerCount).\n"
		"# TYPE peerd_geth_peers gauge\n"
		"peerd_geth_peers %" PRIu64 "\n",
		s->up ? 1 : 0, s->block, s->peers));
}
