/*
 * The node's life on the one event loop (DESIGN §1):
 *
 *   identity -> HTTP server -> discovery -> render + write -> launch -> run
 *
 * The supervisor owns signals from the first moment, so a SIGTERM during
 * discovery stops the node as promptly as one while geth runs. This file
 * only sequences the modules and logs; the work is theirs.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <ifaddrs.h>
#include <malloc.h>
#include <cjson/cJSON.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "peerd/discovery.h"
#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/evloop.h"
#include "peerd/fsutil.h"
#include "peerd/gethrpc.h"
#include "peerd/gethwatch.h"
#include "peerd/http_server.h"
#include "peerd/httpc.h"
#include "peerd/identity.h"
#include "peerd/keccak.h"
#include "peerd/launch.h"
#include "peerd/log.h"
#include "peerd/membership.h"
#include "peerd/netrecord.h"
#include "peerd/node.h"
#include "peerd/peerdoc.h"
#include "peerd/render.h"
#include "peerd/supervisor.h"
#include "peerd/strbuf.h"

#define BODY_MAX 65536
#define PROGRESS_MS 5000
#define TRIM_MS 1000
#define REFRESH_MS 2000
#define MEMBER_TICK_MS 1000
#define MEMBER_FAST_MS 250  /* while a join is under way */
#define WATCH_FAST_MS 250   /* a joiner's geth until it votes */
#define FOLLOWER_TICKS 10 /* a follower's raft_cluster: every 10 ticks */
#define RECORD_FETCH_MAX (2u << 20) /* a member's /network.json: 1024
				     * members of about 1.3 KB */
#define CHANGE_WAIT_MS 10000 /* a membership change unconfirmed this long
			      * is looked at again */
#define JOINER_RECENT_MS 30000 /* a joiner that asked this lately is
				* still joining */
#define PERMIT_LEAD_MS 600   /* a joiner known this long before it is
			      * added: it asks every member every
			      * MEMBER_FAST_MS */

enum phase {
	PHASE_IDENTITY,
	PHASE_DISCOVERING,
	PHASE_CONFIGURING,
	PHASE_LAUNCHING,
	PHASE_RUNNING,
	PHASE_STOPPING
};

static const char *const phase_names[] = {"identity", "discovering",
    "configuring", "launching", "running", "stopping"};

struct node {
	struct settings *s;
	struct evloop *loop;
	struct supervisor *sup;
	struct http_server *http;
	struct discovery *disc;
	struct launch *launch;
	enum phase phase;
	struct peerdoc self;
	struct peerdoc *peers; /* [node_number], by ordinal */
	bool *known;
	char env_json[PEERDOC_MAX];
	size_t env_json_len;
	char env_sh[PEERDOC_MAX];
	size_t env_sh_len;
	char *static_nodes; /* served once rendered */
	char *genesis;
	bool configured;
	bool ready;
	/*
	 * The network record (DESIGN §11): once it exists this node is a
	 * member of a formed network, and every later start begins from it.
	 */
	struct netrecord rec;
	bool formed;
	bool from_record;  /* this start began from the record */
	uint64_t *refreshed_ms; /* [node_number]: last re-poll of a member */
	bool *add_pending; /* [node_number]: moved before geth answered */
	/*
	 * First boot: a peer said it is a member of a formed network
	 * (X-Peerd-Network on its request); the answers' are discovery's.
	 */
	char net_hint[67];
	unsigned net_hint_from;
	char waiting[320]; /* why the network does not form or join, "" */
	/* membership (DESIGN §11) */
	struct httpc *httpc;
	bool join_busy;       /* a request of the join in flight */
	bool join_stopped;    /* joining is not possible: waiting says why */
	struct netrecord jrec; /* the record fetched while joining */
	unsigned join_peer;   /* the member asked */
	bool join_known;      /* a peer named a formed network */
	long member_timer;
	unsigned tick_busy;   /* requests and calls of the tick in flight */
	unsigned ticks;
	bool member_fast;     /* tick every MEMBER_FAST_MS */
	bool catching_up;     /* a joiner's geth, not a voter yet */
	uint64_t *cand_ms;    /* [NETRECORD_MEMBERS_MAX]: a joiner checked */
	uint64_t *seen_ms;    /* [NETRECORD_MEMBERS_MAX]: a joiner permitted */
	uint64_t change_ms;   /* the coordinator's last change, 0 = none */
	enum membership_action change_kind;
	unsigned change_ordinal;
	unsigned long changes[5]; /* made here: add learner, promote, remove,
				   * vote in, vote out */
	uint64_t *absent_ms;   /* [NETRECORD_MEMBERS_MAX]: not active since */
	uint64_t *conflict_ms; /* [NETRECORD_MEMBERS_MAX]: another identity
				* served at a member's ordinal since */
	char member_why[200];  /* why a membership change waits, "" */
	/* [NETRECORD_MEMBERS_MAX]: members at or above a NODE_NUMBER this
	 * daemon was started with, lower than the network's: they go */
	bool *shrink;
	bool removed;          /* this node was removed from the network */
	/* [NETRECORD_MEMBERS_MAX]: our istanbul vote on a member that stands
	 * (1 in, -1 out, 0 none) */
	signed char *vote;
	bool *online;          /* [NETRECORD_MEMBERS_MAX]: in admin_peers */
	bool *lists_me;        /* [NETRECORD_MEMBERS_MAX]: its record has us */
	bool peers_known;      /* admin_peers answered once */
	bool bft_dropped;      /* this node stopped being a validator */
	struct gethwatch *watch; /* once geth is spawned */
	unsigned long members_moved; /* members found at a new address */
	uint64_t started_ms, discovered_ms;
	long progress_timer, deadline_timer, trim_timer;
	int exit_code;
};

/* ---- small helpers ---------------------------------------------------- */

/*
 * The address this node advertises: NODE_IP, else what its own host name
 * resolves to (compose and Kubernetes put it in /etc/hosts), else the first
 * non-loopback interface address.
 */
static int detect_ip(const char *hostname, char *out, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
	struct ifaddrs *ifs = NULL, *i;
	int r = -ENOENT;

	if (hostname != NULL && getaddrinfo(hostname, NULL, &hints, &res) == 0) {
		for (ai = res; ai != NULL && r != 0; ai = ai->ai_next) {
			const void *a;

			if (ai->ai_family == AF_INET) {
				const struct sockaddr_in *sin =
				    (const void *)ai->ai_addr;

				if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
					continue;
				a = &sin->sin_addr;
			} else if (ai->ai_family == AF_INET6) {
				const struct sockaddr_in6 *s6 =
				    (const void *)ai->ai_addr;

				if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
				    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
					continue;
				a = &s6->sin6_addr;
			} else {
				continue;
			}
			if (inet_ntop(ai->ai_family, a, out,
			    (socklen_t)len) != NULL)
				r = 0;
		}
		freeaddrinfo(res);
	}
	if (r == 0 || getifaddrs(&ifs) < 0)
		return r;
	for (i = ifs; i != NULL && r != 0; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET)
			continue;
		if ((ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)len))
			r = 0;
	}
	freeifaddrs(ifs);
	return r;
}

struct buf {
	char *p;
	size_t len, used;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->used >= b->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->used += (size_t)n;
	if (b->used >= b->len)
		b->used = b->len - 1;
}

static char *dup_bytes(const char *p, size_t len)
{
	char *d = malloc(len + 1);

	if (d != NULL) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

/* One line into the caller's buffer; a long path may cut it short. */
/* ---- writing configs ------------------------------------------------- */

static void hash_hex(const char *data, size_t len, char out[67])
{
	uint8_t h[32];

	keccak_256(data, len, h);
	out[0] = '0';
	out[1] = 'x';
	encoding_hex(out + 2, h, 32);
}

/*
 * Never re-init a chain with a different genesis (DESIGN §8): if chain data
 * exists, the genesis it was made from must equal the new one.
 */
static int genesis_guard(const struct settings *s, const struct render_set *set,
    char *err, size_t errlen)
{
	const struct render_file *g = render_find(set, "genesis.json");
	char chain[256], path[256], old_h[67], new_h[67];
	char *old = NULL;
	size_t oldlen = 0;
	int r;

	if (g == NULL)
		return 0;
	if (fsutil_path(chain, sizeof(chain), "%s/dd/geth/chaindata",
	    s->data_dir) < 0 ||
	    fsutil_path(path, sizeof(path), "%s/genesis.json", s->data_dir) < 0)
		return -ENAMETOOLONG;
	if (!fsutil_exists(chain))
		return 0;
	r = fsutil_read_file(path, 1 << 20, &old, &oldlen);
	if (r == -ENOENT) {
		strbuf_seterr(err, errlen, "%s exists but %s does not: cannot tell "
		    "which genesis the chain was made from; refusing to "
		    "continue", chain, path);
		return -EINVAL;
	}
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	if (oldlen != g->len || memcmp(old, g->data, oldlen) != 0) {
		hash_hex(old, oldlen, old_h);
		hash_hex(g->data, g->len, new_h);
		strbuf_seterr(err, errlen, "the genesis rendered now (keccak256 %s) "
		    "differs from the one the chain in %s was initialised with "
		    "(keccak256 %s); refusing to re-initialise: check "
		    "NODE_NUMBER, CONSENSUS and CHAIN_ID, or remove the chain "
		    "data", new_h, chain, old_h);
		r = -EINVAL;
	}
	free(old);
	return r;
}

/*
 * Writes every rendered file that changed (a restart leaves the others
 * untouched), all in one fsutil_write_many: one wait for the disk, not one
 * per file.
 */
static int write_set(const struct settings *s, const struct render_set *set,
    char *err, size_t errlen)
{
	struct fsutil_file todo[RENDER_FILES_MAX] = {{0}};
	char paths[RENDER_FILES_MAX][512];
	size_t i, n = 0;
	int r;

	r = genesis_guard(s, set, err, errlen);
	if (r < 0)
		return r;
	for (i = 0; i < set->count && i < RENDER_FILES_MAX; i++) {
		const struct render_file *f = &set->files[i];
		char dir[512], *old = NULL, *slash, *path = paths[n];
		size_t oldlen = 0;
		bool same;

		r = fsutil_path(path, sizeof(paths[0]), "%s/%s", s->data_dir,
		    f->path);
		if (r < 0)
			return r;
		memcpy(dir, path, sizeof(dir));
		slash = strrchr(dir, '/');
		*slash = '\0';
		r = fsutil_mkdirs(dir, 0700);
		if (r < 0) {
			strbuf_seterr(err, errlen, "%s: %s", dir, strerror(-r));
			return r;
		}
		same = fsutil_read_file(path, 1 << 20, &old, &oldlen) == 0 &&
		    oldlen == f->len && memcmp(old, f->data, oldlen) == 0;
		free(old);
		if (same)
			continue;
		todo[n++] = (struct fsutil_file){path, f->data, f->len,
		    f->mode};
	}
	r = fsutil_write_many(todo, n);
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: cannot write %zu file%s: %s",
		    s->data_dir, n, n == 1 ? "" : "s", strerror(-r));
		return r;
	}
	for (i = 0; i < n; i++)
		log_info("wrote %s (%zu bytes)", todo[i].path, todo[i].len);
	return 0;
}

/* ---- geth, watched over IPC -------------------------------------------- */

static void on_add_peer(void *arg, int err, const struct gethrpc_reply *rep)
{
	char *enode = arg;

	if (err < 0)
		log_event(LOG_WARN, "admin_addPeer failed", "enode", enode,
		    "error", strerror(-err), NULL);
	else if (rep->is_error)
		log_event(LOG_WARN, "admin_addPeer failed", "enode", enode,
		    "error", rep->message, NULL);
	else
		log_event(LOG_INFO, "peer handed to geth (admin_addPeer)",
		    "enode", enode, NULL);
	free(enode);
}

static void rpc_ignored(void *arg, int err, const struct gethrpc_reply *rep)
{
	(void)arg;
	(void)err;
	(void)rep;
}

/* Hands a member's (new) enode to the running geth. */
static void add_peer(struct node *n, unsigned ordinal, const char *enode)
{
	char params[512];
	char *arg;

	if (n->watch == NULL || !gethwatch_state(n->watch)->up) {
		if (n->add_pending != NULL && ordinal < n->s->node_number)
			n->add_pending[ordinal] = true;
		return;
	}
	if (snprintf(params, sizeof(params), "[\"%s\"]", enode) >=
	    (int)sizeof(params) || (arg = strdup(enode)) == NULL)
		return;
	if (gethrpc_call(gethwatch_rpc(n->watch), "admin_addPeer", params, 0,
	    on_add_peer, arg) < 0) {
		log_event(LOG_WARN, "admin_addPeer not sent", "enode", enode,
		    NULL);
		free(arg);
	}
}

/*
 * This node's geth says it is no longer in the raft cluster: it was removed
 * (a lower NODE_NUMBER, or replaced). geth keeps running after that
 * (research: membership-quorum.md §1.7): its daemon stops it, and a marker
 * keeps every later start from running it again.
 */
#define REMOVED_FILE "removed"

static bool was_removed(const struct settings *s)
{
	char path[256];

	return fsutil_path(path, sizeof(path), "%s/%s", s->data_dir,
	    REMOVED_FILE) == 0 && fsutil_exists(path);
}

static void node_removed(struct node *n)
{
	char path[256];

	n->removed = true;
	log_event(LOG_WARN, n->s->consensus == CONSENSUS_RAFT ?
	    "removed from the raft cluster: stopping geth; this data dir "
	    "will not start geth again" : "voted out and removed from the "
	    "network: stopping geth; this data dir will not start geth again",
	    NULL);
	if (fsutil_path(path, sizeof(path), "%s/%s", n->s->data_dir,
	    REMOVED_FILE) < 0 ||
	    fsutil_write_atomic_path(path, "removed from the network\n", 25,
	    0644) < 0)
		log_error("cannot write %s", path);
	supervisor_shutdown(n->sup, 0);
}

static void on_geth_change(void *arg, const struct gethwatch_state *prev,
    const struct gethwatch_state *cur)
{
	struct node *n = arg;

	if (cur->up && !prev->up) {
		log_event(LOG_INFO, "geth answers over IPC: ready", NULL);
		for (size_t i = 0; i < n->rec.count; i++) {
			const struct netrecord_member *m = &n->rec.members[i];

			if (m->ordinal < n->s->node_number &&
			    n->add_pending[m->ordinal]) {
				n->add_pending[m->ordinal] = false;
				add_peer(n, m->ordinal, m->enode);
			}
		}
	} else if (!cur->up && prev->up) {
		log_event(LOG_WARN, "geth does not answer over IPC: not ready",
		    "reason", cur->reason, NULL);
	}
	if (prev->raft_id != 0 && cur->up && cur->raft_valid &&
	    cur->raft_members == 0 && !n->removed)
		node_removed(n);
	if (cur->raft_valid && strcmp(cur->role, prev->role) != 0)
		log_event(LOG_INFO, "raft role", "role", cur->role[0] ?
		    cur->role : "none", NULL);
	/* A joiner's height is watched closely until it votes: the members
	 * promote it (or vote it in) once it has caught up. */
	if (n->catching_up && ((cur->raft_valid &&
	    (strcmp(cur->role, "verifier") == 0 ||
	    strcmp(cur->role, "minter") == 0)) ||
	    (cur->bft_valid && cur->validator))) {
		n->catching_up = false;
		gethwatch_set_interval(n->watch, 0);
	}
	if (cur->bft_valid && cur->validator != prev->validator)
		log_event(LOG_INFO, cur->validator ? "a validator" :
		    "not a validator", NULL);
}

static void watch_geth(struct node *n)
{
	char path[256];

	if (n->watch != NULL)
		return;
	if (fsutil_path(path, sizeof(path), "%s/dd/geth.ipc",
	    n->s->data_dir) < 0)
		return;
	n->watch = gethwatch_new(n->loop, &(const struct gethwatch_config){
	    .socket_path = path, .consensus = n->s->consensus,
	    .node_id = n->self.node_id}, on_geth_change, n);
	if (n->watch == NULL)
		log_warn("cannot watch geth over %s: %s", path,
		    strerror(errno));
	else
		gethwatch_check_now(n->watch);
	if (n->watch != NULL && n->catching_up)
		gethwatch_set_interval(n->watch, WATCH_FAST_MS);
}

/* /readyz: geth answers over IPC (LAUNCH=no: the configs are written). */
static bool node_ready(const struct node *n)
{
	if (!n->s->launch || !n->ready)
		return n->ready;
	return n->watch != NULL && gethwatch_state(n->watch)->up;
}

static const char *network_state(const struct node *n)
{
	const struct gethwatch_state *g;
	const struct netrecord_member *me;

	if (n->removed)
		return "removed";
	if (!n->formed)
		return n->waiting[0] != '\0' ? "joining" : "forming";
	me = netrecord_find(&n->rec, n->s->node_ordinal);
	if (me != NULL && me->joined && (n->s->consensus == CONSENSUS_RAFT ?
	    me->raft_id == 0 : !me->validator && !n->s->validators_initial))
		return "joining";
	g = n->watch != NULL ? gethwatch_state(n->watch) : NULL;
	if (g != NULL && g->up &&
	    (n->s->consensus == CONSENSUS_RAFT ? g->raft_id != 0 :
	    g->answered))
		return "member";
	return "formed";
}

/* ---- the network record (DESIGN §11) --------------------------------- */

static int record_path(const struct settings *s, char *buf, size_t len)
{
	return fsutil_path(buf, len, "%s/%s", s->data_dir, NETRECORD_FILE);
}

/* Writes the record if its bytes changed. */
static int record_write(struct node *n, char *err, size_t errlen)
{
	char path[256], *bytes = NULL, *old = NULL;
	size_t len = 0, oldlen = 0;
	int r;

	r = record_path(n->s, path, sizeof(path));
	if (r == 0)
		r = netrecord_render(&n->rec, &bytes, &len);
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: cannot render the network "
		    "record: %s", path, strerror(-r));
		return r;
	}
	if (fsutil_read_file(path, NETRECORD_MAX, &old, &oldlen) == 0 &&
	    oldlen == len && memcmp(old, bytes, len) == 0) {
		free(old);
		free(bytes);
		return 0;
	}
	free(old);
	r = fsutil_write_atomic_path(path, bytes, len, 0644);
	free(bytes);
	if (r < 0)
		strbuf_seterr(err, errlen, "%s: %s", path, strerror(-r));
	else
		log_info("wrote %s (%zu members)", path, n->rec.count);
	return r;
}

/* "0x" + keccak256 of DATA_DIR/genesis.json into hash (and its bytes). */
static int genesis_read(const struct settings *s, char hash[static 67],
    char **bytes, char *err, size_t errlen)
{
	char path[256], *buf = NULL;
	size_t len = 0;
	int r;

	r = fsutil_path(path, sizeof(path), "%s/genesis.json", s->data_dir);
	if (r == 0)
		r = fsutil_read_file(path, 1 << 20, &buf, &len);
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: %s", path, r == -ENOENT ?
		    "missing: this data dir holds a chain, and the genesis it "
		    "was made from is needed to go on (never re-made)" :
		    strerror(-r));
		return r;
	}
	netrecord_hash(buf, len, hash);
	if (bytes != NULL)
		*bytes = buf;
	else
		free(buf);
	return 0;
}

/*
 * A data dir with chain data but no record was made by a release before
 * records: the network it belongs to is in its static-nodes.json (every
 * node, by ordinal) and genesis.json. The record is rebuilt from them,
 * never from a new discovery.
 */
static int record_rebuild(struct node *n, char *err, size_t errlen)
{
	struct settings *s = n->s;
	char path[256], hash[67], lerr[256], *buf = NULL;
	size_t len = 0;
	int r;

	r = genesis_read(s, hash, NULL, err, errlen);
	if (r < 0)
		return r;
	r = fsutil_path(path, sizeof(path), "%s/dd/static-nodes.json",
	    s->data_dir);
	if (r == 0)
		r = fsutil_read_file(path, NETRECORD_MAX, &buf, &len);
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: %s (needed to rebuild the "
		    "network record of the chain in this data dir)", path,
		    strerror(-r));
		return r;
	}
	r = netrecord_from_static_nodes(&n->rec, s->consensus, buf, len, hash,
	    lerr, sizeof(lerr));
	free(buf);
	if (r < 0) {
		strbuf_seterr(err, errlen, "%s: %s", path, lerr);
		return r;
	}
	log_event(LOG_INFO, "network record rebuilt from genesis.json and "
	    "static-nodes.json", "genesis", hash, NULL);
	return record_write(n, err, errlen);
}

/*
 * Loads DATA_DIR/network.json (or rebuilds it, see above). 1: this node
 * is a member of a formed network; 0: first boot; < 0: an error in err.
 */
static int record_load(struct node *n, char *err, size_t errlen)
{
	struct settings *s = n->s;
	char path[256], chain[256], hash[67], lerr[256], *buf = NULL;
	size_t len = 0;
	int r;

	r = record_path(s, path, sizeof(path));
	if (r == 0)
		r = fsutil_path(chain, sizeof(chain), "%s/dd/geth/chaindata",
		    s->data_dir);
	if (r < 0)
		return r;
	r = fsutil_read_file(path, NETRECORD_MAX, &buf, &len);
	if (r == -ENOENT) {
		if (!fsutil_exists(chain))
			return 0;
		r = record_rebuild(n, err, errlen);
		if (r < 0)
			return r;
	} else if (r < 0) {
		strbuf_seterr(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	} else {
		r = netrecord_parse(buf, len, &n->rec, lerr, sizeof(lerr));
		free(buf);
		if (r < 0) {
			strbuf_seterr(err, errlen, "%s: %s", path, lerr);
			return r;
		}
	}
	if (n->rec.consensus != s->consensus) {
		strbuf_seterr(err, errlen, "CONSENSUS=%s, but this node's "
		    "network was formed with %s (%s): the consensus of a "
		    "network cannot change", settings_consensus_name(
		    s->consensus), settings_consensus_name(n->rec.consensus),
		    path);
		return -EINVAL;
	}
	/* The frozen genesis (DESIGN §8): never re-made, and it must match. */
	r = genesis_read(s, hash, &n->genesis, err, errlen);
	if (r < 0)
		return r;
	if (strcmp(hash, n->rec.genesis) != 0) {
		strbuf_seterr(err, errlen, "%s/genesis.json (keccak256 %s) is "
		    "not the genesis this node's network formed with (keccak256 "
		    "%s, in %s); refusing to start: restore the file",
		    s->data_dir, hash, n->rec.genesis, path);
		return -EINVAL;
	}
	n->formed = true;
	return 1;
}

/*
 * static-nodes.json and permissioned-nodes.json from the record (only the
 * files whose bytes change are written; geth re-reads the permissioned
 * nodes at every connection).
 */
static int write_lists(struct node *n, char *err, size_t errlen)
{
	struct render_set set = {0};
	const struct render_file *f;
	const char **enodes = NULL;
	int r;

	r = netrecord_enodes(&n->rec, &enodes);
	if (r == 0)
		r = render_node_lists(n->s, enodes, n->rec.count, &set, err,
		    errlen);
	free(enodes);
	if (r == 0)
		r = write_set(n->s, &set, err, errlen);
	f = r == 0 ? render_find(&set, "dd/static-nodes.json") : NULL;
	if (f != NULL) {
		free(n->static_nodes);
		n->static_nodes = dup_bytes(f->data, f->len);
	}
	render_set_free(&set);
	return r;
}

/* A document's bytes as its node serves them (canonical, with its sig). */
static int doc_line(const struct peerdoc *doc, char *line, size_t len,
    size_t *used)
{
	return peerdoc_to_json(doc, line, len, used);
}

static enum privacy resolve_privacy(const struct settings *s)
{
	if (s->privacy != PRIVACY_AUTO)
		return s->privacy;
	return launch_resolve_privacy(s);
}

/* ---- the run path ------------------------------------------------------ */

static void on_progress(void *arg);
static void join_begin(struct node *n, unsigned ordinal);
static void member_tick_start(struct node *n);
static void member_candidate(struct node *n, unsigned ordinal,
    const char *doc);

static void node_fail(struct node *n, int code, const char *what)
{
	log_error("%s", what);
	if (n->phase != PHASE_STOPPING) {
		n->phase = PHASE_STOPPING;
		if (n->disc != NULL)
			discovery_cancel(n->disc);
	}
	supervisor_shutdown(n->sup, code);
}

static void on_launch_ready(void *arg)
{
	struct node *n = arg;

	if (n->phase == PHASE_STOPPING)
		return;
	n->phase = PHASE_RUNNING;
	n->ready = true;
	log_info("geth is running: node %s, waiting for it to answer over IPC",
	    n->self.name);
	watch_geth(n);
}

static void on_launch_failed(void *arg, int code)
{
	struct node *n = arg;

	if (n->phase != PHASE_STOPPING)
		n->phase = PHASE_STOPPING;
	supervisor_shutdown(n->sup, code);
}

static void on_trim(void *arg)
{
	struct node *n = arg;

	n->trim_timer = 0;
	(void)malloc_trim(0);
}

static void launch_children(struct node *n)
{
	int r;

	/*
	 * Discovery's transient buffers (bodies, bundles, curl handles) are
	 * freed by now; give their pages back, as the daemon stays up for the
	 * container's life. A second later: not while peers still wait for
	 * answers and every node writes its files at once.
	 */
	n->trim_timer = evloop_timer(n->loop, evloop_now() + TRIM_MS, on_trim,
	    n);
	n->configured = true;
	if (!n->s->launch) {
		/* LAUNCH=no: configs written; keep serving for debugging. */
		n->phase = PHASE_RUNNING;
		n->ready = true;
		log_info("LAUNCH=no: not starting the TM or geth; serving");
		return;
	}
	n->phase = PHASE_LAUNCHING;
	n->launch = launch_new(n->loop, n->sup, n->s,
	    &(const struct launch_events){on_launch_ready, on_launch_failed},
	    n);
	if (n->launch == NULL) {
		node_fail(n, 1, "cannot start the launch sequence");
		return;
	}
	r = launch_start(n->launch);
	if (r < 0)
		on_launch_failed(n, 1);
}

/* The record of the network these N documents just formed. */
static int record_form(struct node *n, const char *genesis, size_t glen,
    char *err, size_t errlen)
{
	size_t cnt = n->s->node_number, i;
	char (*lines)[PEERDOC_MAX] = calloc(cnt, sizeof(*lines));
	char (*enodes)[400] = calloc(cnt, sizeof(*enodes));
	const char **lp = calloc(cnt, sizeof(*lp)), **ep = calloc(cnt,
	    sizeof(*ep));
	size_t *lens = calloc(cnt, sizeof(*lens));
	char hash[67];
	int r = -ENOMEM;

	if (lines == NULL || enodes == NULL || lp == NULL || ep == NULL ||
	    lens == NULL)
		goto out;
	for (i = 0; i < cnt; i++) {
		r = doc_line(&n->peers[i], lines[i], sizeof(lines[i]),
		    &lens[i]);
		if (r == 0)
			r = render_enode(n->s, &n->peers[i], enodes[i],
			    sizeof(enodes[i]));
		if (r < 0)
			goto out;
		lp[i] = lines[i];
		ep[i] = enodes[i];
	}
	netrecord_hash(genesis, glen, hash);
	r = netrecord_from_docs(&n->rec, n->s->consensus, n->peers, lp, lens,
	    ep, cnt, hash);
	if (r == 0)
		r = record_write(n, err, errlen);
	if (r == 0)
		n->formed = true;
out:
	if (r < 0 && err[0] == '\0')
		strbuf_seterr(err, errlen, "cannot make the network record: "
		    "%s", strerror(-r));
	free(lines);
	free(enodes);
	free(lp);
	free(ep);
	free(lens);
	return r;
}

/*
 * The N peers answered, but some of them are members of a network formed
 * before (their genesis is not the one these N documents make): forming
 * now would start a second chain beside it. This node has no chain data;
 * it must join that network, not form one (DESIGN §11). Returns true, and
 * stays waiting with the reason in /status, if so.
 */
static bool formed_elsewhere(struct node *n, const char *genesis, size_t len)
{
	char own[67], other[67] = "";
	unsigned cnt = 0, who = 0;

	netrecord_hash(genesis, len, own);
	for (unsigned i = 0; i < n->s->node_number; i++) {
		const char *h = i == n->s->node_ordinal ? "" :
		    discovery_peer_network(n->disc, i);

		if (h[0] == '\0' || strcmp(h, own) == 0)
			continue;
		if (cnt++ == 0) {
			memcpy(other, h, sizeof(other));
			who = i;
		}
	}
	if (cnt == 0 && n->net_hint[0] != '\0' && strcmp(n->net_hint, own) != 0) {
		memcpy(other, n->net_hint, sizeof(other));
		who = n->net_hint_from;
		cnt = 1;
	}
	if (cnt == 0)
		return false;
	snprintf(n->waiting, sizeof(n->waiting), "%s%u%s is a member of a "
	    "formed network (genesis %s): this node has no chain data and "
	    "joins it instead of forming a second one", n->s->node_prefix, who,
	    cnt > 1 ? " (and others)" : "", other);
	log_event(LOG_WARN, "not forming a network", "reason", n->waiting,
	    NULL);
	n->phase = PHASE_DISCOVERING;
	n->progress_timer = evloop_timer(n->loop, evloop_now() + PROGRESS_MS,
	    on_progress, n);
	join_begin(n, who);
	return true;
}

static void configure(struct node *n)
{
	struct settings *s = n->s;
	struct render_set set = {0};
	char err[512] = "";
	const struct render_file *f;
	int r;

	if (n->formed || n->join_known)
		return; /* joining a formed network instead */
	n->phase = PHASE_CONFIGURING;
	s->privacy = resolve_privacy(s);
	r = render_all(s, n->peers, s->node_number, s->node_ordinal, &set, err,
	    sizeof(err));
	f = r == 0 ? render_find(&set, "genesis.json") : NULL;
	if (f != NULL && formed_elsewhere(n, f->data, f->len)) {
		render_set_free(&set);
		return;
	}
	if (r == 0)
		r = write_set(s, &set, err, sizeof(err));
	/* Last: a data dir with a record is a formed network's member. */
	if (r == 0 && f != NULL)
		r = record_form(n, f->data, f->len, err, sizeof(err));
	if (r < 0) {
		render_set_free(&set);
		node_fail(n, 1, err);
		return;
	}
	if (f != NULL)
		n->genesis = dup_bytes(f->data, f->len);
	f = render_find(&set, "dd/static-nodes.json");
	if (f != NULL)
		n->static_nodes = dup_bytes(f->data, f->len);
	render_set_free(&set);
	log_event(LOG_INFO, "configuration written", "consensus",
	    settings_consensus_name(s->consensus), "privacy",
	    settings_privacy_name(s->privacy), "address_mode",
	    s->address_mode == ADDRESS_DNS ? "dns" : "ip", NULL);
	member_tick_start(n);
	launch_children(n);
}

/*
 * A restart of a formed node (DESIGN §11): no waiting for peers. The node
 * lists come from the record (with this node's own entry as it is now),
 * the genesis and the TM config stay as they are, and the TM and geth
 * start at once; discovery goes on in the background.
 */
/* geth has a raft log in DATA_DIR/dd (raft-wal). */
static bool raft_log(const struct settings *s)
{
	char path[256];

	return fsutil_path(path, sizeof(path), "%s/dd/raft-wal",
	    s->data_dir) == 0 && fsutil_exists(path);
}

static int start_from_record(struct node *n, char *err, size_t errlen)
{
	struct settings *s = n->s;
	const struct netrecord_member *me;
	char enode[400];
	int r;

	s->privacy = resolve_privacy(s);
	r = render_enode(s, &n->self, enode, sizeof(enode));
	if (r == 0)
		r = netrecord_update(&n->rec, &n->self, n->env_json,
		    n->env_json_len, enode);
	if (r == -ENOENT || r == -EEXIST) {
		strbuf_seterr(err, errlen, "this node (%s, node_id %.16s...) "
		    "is %s in its network record %s/%s", n->self.name,
		    n->self.node_id, r == -ENOENT ? "not a member" :
		    "another identity than the member at its ordinal",
		    s->data_dir, NETRECORD_FILE);
		return -EINVAL;
	}
	if (r < 0) {
		strbuf_seterr(err, errlen, "cannot update the network record: "
		    "%s", strerror(-r));
		return r;
	}
	if (r == 1)
		log_event(LOG_INFO, "this node's address changed", "enode",
		    enode, NULL);
	r = write_lists(n, err, errlen);
	if (r == 0)
		r = record_write(n, err, errlen);
	if (r < 0)
		return r;
	n->from_record = true;
	log_event(LOG_INFO, "starting from the network record", "genesis",
	    n->rec.genesis, NULL);
	/*
	 * Restarted with a NODE_NUMBER below some members' ordinals: a
	 * shrink. Those members go, one at a time, while a majority stays
	 * (the raft leader's daemon does it). Joiners that arrive later
	 * above this NODE_NUMBER are a growth not rolled out here yet: they
	 * stay.
	 */
	for (size_t i = 0; i < n->rec.count; i++) {
		unsigned o = n->rec.members[i].ordinal;

		if (o >= s->node_number && o < NETRECORD_MEMBERS_MAX &&
		    o != s->node_ordinal) {
			n->shrink[o] = true;
			log_info("NODE_NUMBER=%u: %s%u leaves the network (one "
			    "member at a time, while a majority stays live)",
			    s->node_number, s->node_prefix, o);
		}
	}
	member_tick_start(n);
	me = netrecord_find(&n->rec, s->node_ordinal);
	if (s->consensus == CONSENSUS_RAFT && me->joined && me->raft_id == 0) {
		/* Stopped while joining: not in raft yet, asks again. */
		n->phase = PHASE_CONFIGURING;
		snprintf(n->waiting, sizeof(n->waiting), "joining: waiting for "
		    "the raft leader's daemon to add this node as a learner");
		log_info("%s", n->waiting);
		return 0;
	}
	/*
	 * Raft by ID, not by place in static-nodes.json: always for a
	 * member that joined, and for any member once its raft log exists.
	 */
	if (s->consensus == CONSENSUS_RAFT && (me->joined || raft_log(s)))
		s->raft_join = me->raft_id;
	log_info("member of a formed network of %zu: starting at once, "
	    "discovering in the background", n->rec.count);
	launch_children(n);
	return 0;
}

/* The "ip" of a member's recorded document ("" if none). */
static void doc_ip(const struct netrecord_member *m, char *out, size_t len)
{
	const char *p = m->doc != NULL ? strstr(m->doc, "\"ip\":\"") : NULL;
	size_t k = 0;

	out[0] = '\0';
	if (p == NULL)
		return;
	for (p += 6; *p != '\0' && *p != '"' && k + 1 < len; p++)
		out[k++] = *p;
	out[k] = '\0';
}

/*
 * Tells geth a member's new address (ADDRESS_MODE=dns, istanbul/qbft):
 * admin_removePeer of its ID (geth 1.10+ ignores an addPeer for an ID it
 * already has), then admin_addPeer at the IP its name resolves to now.
 */
static void redial(struct node *n, const struct peerdoc *doc)
{
	char url[400], params[420];
	bool v6 = strchr(doc->ip, ':') != NULL;

	if (n->watch == NULL || !gethwatch_state(n->watch)->up)
		return;
	snprintf(url, sizeof(url), "enode://%s@%s%s%s:%u?discport=0",
	    doc->node_id, v6 ? "[" : "", doc->ip, v6 ? "]" : "",
	    (unsigned)doc->p2p_port);
	snprintf(params, sizeof(params), "[\"%s\"]", url);
	if (gethrpc_call(gethwatch_rpc(n->watch), "admin_removePeer", params,
	    0, rpc_ignored, NULL) < 0)
		return;
	n->members_moved++;
	log_event(LOG_INFO, "member at a new address (dns): redialling",
	    "peer", doc->name, "ip", doc->ip, NULL);
	add_peer(n, doc->ordinal, url);
}

/*
 * A member's document while running from the record: a new address is
 * written to the node lists (geth re-reads permissioned-nodes.json at every
 * connection), kept in the record for the next start and handed to geth.
 */
static void member_seen(struct node *n, const struct peerdoc *doc)
{
	char line[PEERDOC_MAX], enode[400], old[400] = "", err[512] = "";
	char old_ip[46] = "";
	const struct netrecord_member *m = netrecord_find(&n->rec,
	    doc->ordinal);
	size_t len;
	int r;

	if (m != NULL) {
		memcpy(old, m->enode, sizeof(old));
		doc_ip(m, old_ip, sizeof(old_ip));
	}
	r = doc_line(doc, line, sizeof(line), &len);
	if (r == 0)
		r = render_enode(n->s, doc, enode, sizeof(enode));
	if (r == 0)
		r = netrecord_update(&n->rec, doc, line, len, enode);
	if (r == -ENOENT) {
		log_event(LOG_INFO, "not a member of this network", "peer",
		    doc->name, "node_id", doc->node_id, NULL);
		return;
	}
	if (r == -EEXIST) {
		if (doc->ordinal < NETRECORD_MEMBERS_MAX && n->conflict_ms != NULL &&
		    n->conflict_ms[doc->ordinal] == 0) {
			n->conflict_ms[doc->ordinal] = evloop_now();
			log_event(LOG_WARN, "another identity at a member's "
			    "ordinal: a conflict until the member has been "
			    "absent for REPLACE_AFTER seconds, then a "
			    "replacement", "peer", doc->name, "node_id",
			    doc->node_id, NULL);
		}
		return;
	}
	if (r < 0) {
		log_event(LOG_WARN, "cannot take a member's document", "peer",
		    doc->name, "error", strerror(-r), NULL);
		return;
	}
	if (r == 0)
		return;
	r = write_lists(n, err, sizeof(err));
	if (r == 0)
		r = record_write(n, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return;
	}
	if (strcmp(old, enode) == 0) {
		/*
		 * ADDRESS_MODE=dns keeps the enode (a host name) but a
		 * member's new address; istanbul/qbft's geth resolved the name
		 * once, at its start: it is told the address (raft resolves
		 * its members' names itself, --raftdnsenable).
		 */
		if (n->s->address_mode == ADDRESS_DNS &&
		    n->s->consensus != CONSENSUS_RAFT && old_ip[0] != '\0' &&
		    strcmp(old_ip, doc->ip) != 0)
			redial(n, doc);
		return; /* else its document is kept now (a rebuilt record) */
	}
	n->members_moved++;
	log_event(LOG_INFO, "member at a new address", "peer", doc->name,
	    "enode", enode, NULL);
	add_peer(n, doc->ordinal, enode);
}

/* ---- membership: joining a formed network (DESIGN §11) ----------------- */

/* http://<prefix><i>[.<domain>]:<port><path>?from=<self> */
static int peer_url(const struct node *n, unsigned ordinal, const char *path,
    char *buf, size_t len)
{
	int w = snprintf(buf, len, "http://%s%u%s%s:%u%s?from=%u",
	    n->s->node_prefix, ordinal, n->s->node_domain[0] ? "." : "",
	    n->s->node_domain, (unsigned)n->s->http_port, path,
	    n->s->node_ordinal);

	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

/* Our document on each request: a member learns of a joiner this way. */
static int peer_get(struct node *n, unsigned ordinal, const char *path,
    size_t max, httpc_cb *cb, void *arg)
{
	char url[512], doc[PEERDOC_MAX + 16];
	const char *hdrs[2] = {doc, NULL};

	if (n->httpc == NULL)
		n->httpc = httpc_new(n->loop);
	if (n->httpc == NULL || peer_url(n, ordinal, path, url, sizeof(url)) < 0)
		return -ENOMEM;
	snprintf(doc, sizeof(doc), "X-Peerd-Doc: %.*s",
	    (int)(n->env_json_len - 1), n->env_json);
	return httpc_get(n->httpc, url, hdrs, max, 5000, cb, arg);
}

static void join_stop(struct node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void join_stop(struct node *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n->waiting, sizeof(n->waiting), fmt, ap);
	va_end(ap);
	n->join_stopped = true;
	log_error("not joining: %s", n->waiting);
}

static void launch_children(struct node *n);

/*
 * The joiner has the members' record and genesis (checked against each
 * other): it writes them with itself added, and waits for a raft ID.
 */
static void on_join_genesis(void *arg, int err, const struct httpc_result *res)
{
	struct node *n = arg;
	char hash[67], path[256], e[512] = "", enode[400];
	const struct netrecord_member *me;
	int r;

	n->join_busy = false;
	if (err < 0 || res->code != 200)
		return; /* asked again at the next tick */
	netrecord_hash(res->body, res->len, hash);
	if (strcmp(hash, n->jrec.genesis) != 0) {
		log_event(LOG_WARN, "a member's genesis.json is not the one its "
		    "record names: ignored", "keccak256", hash, "record",
		    n->jrec.genesis, NULL);
		return;
	}
	me = netrecord_find(&n->jrec, n->s->node_ordinal);
	if (me == NULL) {
		r = render_enode(n->s, &n->self, enode, sizeof(enode));
		if (r == 0)
			r = netrecord_add(&n->jrec, &n->self, n->env_json,
			    n->env_json_len, enode);
		if (r < 0) {
			join_stop(n, "cannot add this node to the network "
			    "record: %s", strerror(-r));
			return;
		}
	}
	netrecord_free(&n->rec);
	n->rec = n->jrec;
	memset(&n->jrec, 0, sizeof(n->jrec));
	r = fsutil_path(path, sizeof(path), "%s/genesis.json", n->s->data_dir);
	if (r == 0)
		r = fsutil_write_atomic_path(path, res->body, res->len, 0644);
	if (r < 0) {
		node_fail(n, 1, "cannot write the network's genesis.json");
		return;
	}
	free(n->genesis);
	n->genesis = dup_bytes(res->body, res->len);
	/* The network's genesis decides its form (the IBFT block period
	 * flag follows it), not what this node's image would have made. */
	r = render_genesis_form_of(res->body, res->len);
	if (r >= 0)
		n->s->genesis_form = (enum genesis_form)r;
	n->s->privacy = resolve_privacy(n->s);
	if (write_lists(n, e, sizeof(e)) < 0 || record_write(n, e,
	    sizeof(e)) < 0) {
		node_fail(n, 1, e);
		return;
	}
	n->formed = true;
	n->waiting[0] = '\0';
	me = netrecord_find(&n->rec, n->s->node_ordinal);
	log_event(LOG_INFO, "took the network's genesis and record", "genesis",
	    n->rec.genesis, NULL);
	member_tick_start(n);
	if (n->s->consensus == CONSENSUS_RAFT && me->joined &&
	    me->raft_id == 0) {
		snprintf(n->waiting, sizeof(n->waiting), "joining: waiting for "
		    "the members to permit this node and the raft leader's "
		    "daemon to add it as a learner");
		return;
	}
	/* A member already (it formed the network and had not written it),
	 * or an istanbul/qbft joiner: a full node until voted in. */
	n->catching_up = me->joined && !n->s->validators_initial;
	launch_children(n);
}

static void on_join_record(void *arg, int err, const struct httpc_result *res)
{
	struct node *n = arg;
	const struct netrecord_member *me;
	char e[256];
	int r;

	n->join_busy = false;
	if (err < 0 || res->code != 200)
		return;
	netrecord_free(&n->jrec);
	r = netrecord_parse(res->body, res->len, &n->jrec, e, sizeof(e));
	if (r < 0) {
		log_event(LOG_WARN, "a member's network record is not valid: "
		    "ignored", "error", e, NULL);
		return;
	}
	if (n->jrec.consensus != n->s->consensus) {
		join_stop(n, "the network was formed with CONSENSUS=%s, this "
		    "node has %s", settings_consensus_name(n->jrec.consensus),
		    settings_consensus_name(n->s->consensus));
		return;
	}
	me = netrecord_find(&n->jrec, n->s->node_ordinal);
	if (me != NULL && strcmp(me->node_id, n->self.node_id) != 0) {
		/* Asked again later: the members replace the old identity
		 * once it has been absent for REPLACE_AFTER seconds. */
		snprintf(n->waiting, sizeof(n->waiting), "ordinal %u is a "
		    "member of the network with another identity (node_id "
		    "%.16s...): this node replaces it once that one has been "
		    "absent for REPLACE_AFTER seconds", n->s->node_ordinal,
		    me->node_id);
		return;
	}
	n->join_busy = peer_get(n, n->join_peer, "/genesis.json", 1 << 20,
	    on_join_genesis, n) == 0;
}

/*
 * A first-boot node heard that peer `ordinal` is a member of a formed
 * network: it asks for that network's record rather than forming one.
 */
static void join_begin(struct node *n, unsigned ordinal)
{
	if (n->formed || n->join_busy || n->join_stopped)
		return;
	n->join_known = true;
	n->join_peer = ordinal;
	if (n->waiting[0] == '\0')
		snprintf(n->waiting, sizeof(n->waiting), "joining the formed "
		    "network of %s%u: asking for its record", n->s->node_prefix,
		    ordinal);
	n->join_busy = peer_get(n, ordinal, "/network.json", RECORD_FETCH_MAX,
	    on_join_record, n) == 0;
}

/* ---- membership: the members' side ------------------------------------ */

struct cand {
	struct node *n;
	struct peerdoc doc;
	char line[PEERDOC_MAX];
	size_t len;
};

static void cand_accept(struct node *n, const struct cand *c)
{
	char enode[400], e[512] = "";
	int r;

	r = render_enode(n->s, &c->doc, enode, sizeof(enode));
	if (r == 0)
		r = netrecord_add(&n->rec, &c->doc, c->line, c->len, enode);
	if (r == -EEXIST)
		return;
	if (r < 0) {
		log_event(LOG_WARN, "cannot add a joining node", "peer",
		    c->doc.name, "error", strerror(-r), NULL);
		return;
	}
	/* Permitted first: geth re-reads permissioned-nodes.json. */
	if (write_lists(n, e, sizeof(e)) < 0 || record_write(n, e,
	    sizeof(e)) < 0) {
		log_error("%s", e);
		return;
	}
	n->seen_ms[c->doc.ordinal] = evloop_now();
	log_event(LOG_INFO, "a node joins the network: permitted", "peer",
	    c->doc.name, "enode", enode, NULL);
}

/* Without a secret: the joiner's document as its name's address serves it. */
static void on_cand_fetch(void *arg, int err, const struct httpc_result *res)
{
	struct cand *c = arg;
	struct peerdoc d;
	struct peerdoc_expect ex = {.ordinal = (int)c->doc.ordinal,
	    .prefix = c->n->s->node_prefix};
	char e[256];

	if (err == 0 && res->code == 200 &&
	    peerdoc_parse(res->body, res->len, &ex, &d, e, sizeof(e)) == 0 &&
	    strcmp(d.node_id, c->doc.node_id) == 0)
		cand_accept(c->n, c);
	free(c);
}

/*
 * A node not in the record asked us, with its document: a joiner. Trusted
 * as discovery trusts a document (fully valid; with a secret its MAC, else
 * fetched back from where its name leads), then added and permitted.
 */
static void member_candidate(struct node *n, unsigned ordinal,
    const char *doc)
{
	struct peerdoc_expect ex = {.ordinal = (int)ordinal,
	    .prefix = n->s->node_prefix,
	    .secret = n->s->cluster_secret_len ? n->s->cluster_secret : NULL,
	    .secretlen = n->s->cluster_secret_len};
	uint64_t now = evloop_now();
	struct cand *c;
	char e[256];

	if (ordinal >= NETRECORD_MEMBERS_MAX || n->cand_ms == NULL ||
	    (n->cand_ms[ordinal] != 0 && now - n->cand_ms[ordinal] < REFRESH_MS))
		return;
	n->cand_ms[ordinal] = now;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return;
	c->n = n;
	c->len = strlen(doc);
	if (c->len >= sizeof(c->line) ||
	    peerdoc_parse(doc, c->len, &ex, &c->doc, e, sizeof(e)) < 0) {
		free(c);
		return;
	}
	memcpy(c->line, doc, c->len);
	if (n->s->cluster_secret_len > 0) {
		cand_accept(n, c);
		free(c);
		return;
	}
	if (peer_get(n, ordinal, "/env.json", PEERDOC_MAX, on_cand_fetch, c) < 0)
		free(c);
}

/* ---- membership: the tick ------------------------------------------- */

static void rpc_logged(void *arg, int err, const struct gethrpc_reply *rep)
{
	struct node *n = arg;

	n->tick_busy--;
	if (err < 0 || rep->is_error)
		log_event(LOG_WARN, "membership change failed", "error",
		    err < 0 ? strerror(-err) : rep->message, NULL);
}

static void raft_change(struct node *n, enum membership_action kind,
    unsigned ordinal, const char *method, const char *param)
{
	char params[512];

	snprintf(params, sizeof(params), "[%s]", param);
	if (gethrpc_call(gethwatch_rpc(n->watch), method, params, 5000,
	    rpc_logged, n) == 0) {
		n->tick_busy++;
		n->change_ms = evloop_now();
		n->change_kind = kind;
		n->change_ordinal = ordinal;
		if (kind >= 1 && kind <= 3)
			n->changes[kind - 1]++;
	}
}

struct promo {
	struct node *n;
	unsigned raft_id, ordinal;
};

/* A learner's /status: promoted once its chain has the leader's height. */
static void on_learner_status(void *arg, int err, const struct httpc_result *r)
{
	struct promo *p = arg;
	struct node *n = p->n;
	cJSON *j = NULL;
	const cJSON *g, *b;
	char id[16];

	n->tick_busy--;
	if (err == 0 && r->code == 200 &&
	    (j = cJSON_ParseWithLength(r->body, r->len)) != NULL &&
	    (g = cJSON_GetObjectItemCaseSensitive(j, "geth")) != NULL &&
	    (b = cJSON_GetObjectItemCaseSensitive(g, "block")) != NULL &&
	    cJSON_IsNumber(b) && n->watch != NULL && n->change_ms == 0) {
		if (b->valuedouble + 1 >= (double)gethwatch_state(n->watch)->block) {
			snprintf(id, sizeof(id), "%u", p->raft_id);
			log_info("promoting %s%u (raft ID %u), caught up, to "
			    "voter", n->s->node_prefix, p->ordinal, p->raft_id);
			raft_change(n, MEMBERSHIP_PROMOTE, p->ordinal,
			    "raft_promoteToPeer", id);
		} else {
			snprintf(n->member_why, sizeof(n->member_why),
			    "promoting ordinal %u once its chain has the "
			    "leader's height", p->ordinal);
		}
	}
	cJSON_Delete(j);
	free(p);
}

static const struct gethrpc_raft_member *in_cluster(
    const struct gethrpc_raft_member *cl, size_t cnt, const char *node_id)
{
	for (size_t k = 0; k < cnt; k++)
		if (strcmp(cl[k].node_id, node_id) == 0)
			return &cl[k];
	return NULL;
}

/*
 * What this node's geth says of the members: raft IDs given to joiners, a
 * member gone from the cluster (removed: it leaves the record), who is
 * absent (for replacements); and whether the last change shows.
 */
static bool raft_observe(struct node *n, const struct gethrpc_raft_member *cl,
    size_t cnt)
{
	uint64_t now = evloop_now();
	bool changed = false;

	for (size_t i = 0; i < n->rec.count; i++) {
		struct netrecord_member *m = &n->rec.members[i];
		const struct gethrpc_raft_member *c = in_cluster(cl, cnt,
		    m->node_id);

		if (m->ordinal < NETRECORD_MEMBERS_MAX)
			n->absent_ms[m->ordinal] = c != NULL && (c->active ||
			    m->ordinal == n->s->node_ordinal) ? 0 :
			    n->absent_ms[m->ordinal] ? n->absent_ms[m->ordinal] :
			    now;
		if (c != NULL && m->raft_id == 0) {
			m->raft_id = c->raft_id;
			changed = true;
			log_info("%s%u is in the raft cluster: raft ID %u",
			    n->s->node_prefix, m->ordinal, m->raft_id);
		} else if (c == NULL && m->raft_id != 0 && cnt > 0 &&
		    m->ordinal != n->s->node_ordinal) {
			log_info("%s%u (raft ID %u) left the raft cluster: no "
			    "longer a member", n->s->node_prefix, m->ordinal,
			    m->raft_id);
			if (m->ordinal < NETRECORD_MEMBERS_MAX) {
				n->conflict_ms[m->ordinal] = 0;
				n->absent_ms[m->ordinal] = 0;
			}
			netrecord_remove(&n->rec, m->ordinal);
			changed = true;
			i--;
		}
	}
	if (n->change_ms != 0) {
		const struct netrecord_member *m = netrecord_find(&n->rec,
		    n->change_ordinal);
		const struct gethrpc_raft_member *c = m != NULL ?
		    in_cluster(cl, cnt, m->node_id) : NULL;
		bool shows = n->change_kind == MEMBERSHIP_REMOVE ? c == NULL :
		    n->change_kind == MEMBERSHIP_ADD_LEARNER ? c != NULL :
		    c != NULL && strcmp(c->role, "learner") != 0;

		if (shows || now - n->change_ms > CHANGE_WAIT_MS)
			n->change_ms = 0;
	}
	return changed;
}

/*
 * The leader's daemon ticks fast while a join is under way: a change not
 * confirmed yet, a learner, or a joiner that asked lately and has no ID.
 */
static bool join_under_way(const struct node *n,
    const struct gethrpc_raft_member *cl, size_t cnt)
{
	uint64_t now = evloop_now();

	if (n->change_ms != 0)
		return true;
	for (size_t k = 0; k < cnt; k++)
		if (strcmp(cl[k].role, "learner") == 0)
			return true;
	for (size_t i = 0; i < n->rec.count; i++) {
		const struct netrecord_member *m = &n->rec.members[i];

		if (m->joined && m->raft_id == 0 &&
		    m->ordinal < NETRECORD_MEMBERS_MAX &&
		    n->seen_ms[m->ordinal] != 0 &&
		    now - n->seen_ms[m->ordinal] < JOINER_RECENT_MS)
			return true;
	}
	return false;
}

/*
 * Members that go: at or above a lowered NODE_NUMBER, or a recorded
 * identity absent for REPLACE_AFTER seconds while another serves its
 * ordinal (goes: [NETRECORD_MEMBERS_MAX], zeroed).
 */
static void members_going(const struct node *n, bool *goes)
{
	for (size_t i = 0; i < n->rec.count; i++) {
		unsigned o = n->rec.members[i].ordinal;

		if (o >= NETRECORD_MEMBERS_MAX)
			continue;
		goes[o] = n->shrink[o] || (n->conflict_ms[o] != 0 &&
		    membership_replace_due(n->absent_ms[o], evloop_now(),
		    n->s->replace_after));
	}
}

static void on_raft_cluster(void *arg, int err, const struct gethrpc_reply *rep)
{
	struct node *n = arg;
	struct gethrpc_raft_member *cl = NULL;
	struct membership_view v = {0};
	struct membership_step step;
	bool goes[NETRECORD_MEMBERS_MAX] = {false};
	size_t cnt = 0;
	char e[512] = "", q[420];
	struct promo *p;
	const struct netrecord_member *m;

	n->tick_busy--;
	if (err < 0 || rep->is_error || n->watch == NULL)
		return;
	cl = calloc(NETRECORD_MEMBERS_MAX, sizeof(*cl));
	if (cl == NULL || gethrpc_raft_cluster(rep->result, rep->result_len, cl,
	    NETRECORD_MEMBERS_MAX, &cnt, e, sizeof(e)) < 0) {
		free(cl);
		return;
	}
	if (raft_observe(n, cl, cnt) && (write_lists(n, e, sizeof(e)) < 0 ||
	    record_write(n, e, sizeof(e)) < 0))
		log_error("%s", e);
	n->member_why[0] = '\0';
	members_going(n, goes);
	v.rec = &n->rec;
	v.cluster = cl;
	v.ncluster = cnt;
	v.self = n->s->node_ordinal;
	v.now_ms = evloop_now();
	v.permitted_ms = n->seen_ms;
	v.permit_lead_ms = PERMIT_LEAD_MS;
	v.goes = goes;
	n->member_fast = membership_raft_coordinates(
	    gethwatch_state(n->watch)->role) && join_under_way(n, cl, cnt);
	if (n->change_ms != 0) {
		free(cl);
		return;
	}
	if (membership_raft_coordinates(gethwatch_state(n->watch)->role))
		membership_raft_next(&v, &step);
	else
		membership_raft_leader_next(&v, &step);
	m = netrecord_find(&n->rec, step.ordinal);
	switch (step.action) {
	case MEMBERSHIP_ADD_LEARNER:
		snprintf(q, sizeof(q), "\"%s\"", m->enode);
		log_event(LOG_INFO, "adding a joining node as a raft learner",
		    "enode", m->enode, NULL);
		raft_change(n, step.action, step.ordinal, "raft_addLearner", q);
		break;
	case MEMBERSHIP_PROMOTE:
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			break;
		p->n = n;
		p->raft_id = step.raft_id;
		p->ordinal = step.ordinal;
		if (peer_get(n, step.ordinal, "/status", 1 << 20,
		    on_learner_status, p) == 0)
			n->tick_busy++;
		else
			free(p);
		break;
	case MEMBERSHIP_REMOVE:
		snprintf(q, sizeof(q), "%u", step.raft_id);
		log_info("removing %s%u (raft ID %u%s) from the raft cluster: "
		    "%s", n->s->node_prefix, step.ordinal, step.raft_id,
		    membership_raft_coordinates(
		    gethwatch_state(n->watch)->role) ? "" : ", the leader",
		    n->shrink[step.ordinal] ? "NODE_NUMBER is lower" :
		    "replaced by a new identity");
		raft_change(n, step.action, step.ordinal, "raft_removePeer", q);
		break;
	case MEMBERSHIP_VOTE_IN: /* istanbul/qbft only */
	case MEMBERSHIP_VOTE_OUT:
	case MEMBERSHIP_DROP:
	case MEMBERSHIP_NONE:
		memcpy(n->member_why, step.why, sizeof(n->member_why));
		break;
	}
	free(cl);
}

/*
 * A joiner's geth starts the first time with no static nodes: it learns
 * the members from the raft snapshot. Dialled before that snapshot, they
 * refuse it ("not in raft cluster"), and geth 1.9 then waits 35 s before it
 * dials them again (measured: joins of 8 s became 40 s). Later starts have
 * the full list (start_from_record).
 */
static void first_join_static(struct node *n)
{
	char path[256];

	if (raft_log(n->s) ||
	    fsutil_path(path, sizeof(path), "%s/dd/static-nodes.json",
	    n->s->data_dir) < 0 ||
	    fsutil_write_atomic_path(path, "[]\n", 3, 0644) < 0)
		return;
	log_info("first start of a joining raft node: no static nodes (the "
	    "raft snapshot brings the members)");
}

/* The joiner: a member's record names this node's raft ID. */
static void on_joiner_poll(void *arg, int err, const struct httpc_result *res)
{
	struct node *n = arg;
	struct netrecord r;
	const struct netrecord_member *m, *me;
	char e[512] = "";

	n->tick_busy--;
	me = netrecord_find(&n->rec, n->s->node_ordinal);
	if (err < 0 || res->code != 200 || me == NULL || me->raft_id != 0 ||
	    netrecord_parse(res->body, res->len, &r, e, sizeof(e)) < 0)
		return;
	m = netrecord_find(&r, n->s->node_ordinal);
	if (m != NULL && m->raft_id != 0 &&
	    strcmp(m->node_id, n->self.node_id) == 0 &&
	    strcmp(r.genesis, n->rec.genesis) == 0) {
		netrecord_find(&n->rec, n->s->node_ordinal)->raft_id =
		    m->raft_id;
		if (record_write(n, e, sizeof(e)) < 0) {
			log_error("%s", e);
		} else {
			n->waiting[0] = '\0';
			n->s->raft_join = m->raft_id;
			log_info("added to the raft cluster as raft ID %u: "
			    "starting geth with --raftjoinexisting", m->raft_id);
			n->catching_up = true;
			first_join_static(n);
			launch_children(n);
		}
	}
	netrecord_free(&r);
}

/* ---- membership: istanbul and qbft ------------------------------------ */

/* A member's validator address: its node key's (keccak of node_id). */
static void member_address(const struct netrecord_member *m, char out[43])
{
	uint8_t pub[64], a[20];

	out[0] = '\0';
	if (encoding_unhex(pub, sizeof(pub), m->node_id, 128) < 0)
		return;
	ethkey_address(pub, a);
	out[0] = '0';
	out[1] = 'x';
	encoding_hex(out + 2, a, 20);
}

struct vote {
	struct node *n;
	unsigned ordinal;
	char addr[43];
};

/* istanbul_propose(addr, auth): our vote, standing until it passes. */
static void bft_vote(struct node *n, unsigned ordinal, const char *addr,
    bool auth)
{
	char params[80];

	snprintf(params, sizeof(params), "[\"%s\",%s]", addr,
	    auth ? "true" : "false");
	if (gethrpc_call(gethwatch_rpc(n->watch), "istanbul_propose", params,
	    2000, rpc_logged, n) < 0)
		return;
	n->tick_busy++;
	n->vote[ordinal] = auth ? 1 : -1;
	n->change_ms = evloop_now();
	n->change_kind = auth ? MEMBERSHIP_VOTE_IN : MEMBERSHIP_VOTE_OUT;
	n->change_ordinal = ordinal;
	n->changes[auth ? 3 : 4]++;
	log_info("voting %s%u (%s) %s as a validator", n->s->node_prefix,
	    ordinal, addr, auth ? "in" : "out");
}

/* A joiner's /status: voted in once its chain has this validator's height. */
static void on_voter_status(void *arg, int err, const struct httpc_result *r)
{
	struct vote *vt = arg;
	struct node *n = vt->n;
	cJSON *j = NULL;
	const cJSON *g, *b;

	n->tick_busy--;
	if (err == 0 && r->code == 200 &&
	    (j = cJSON_ParseWithLength(r->body, r->len)) != NULL &&
	    (g = cJSON_GetObjectItemCaseSensitive(j, "geth")) != NULL &&
	    (b = cJSON_GetObjectItemCaseSensitive(g, "block")) != NULL &&
	    cJSON_IsNumber(b) && n->watch != NULL &&
	    b->valuedouble + 2 >= (double)gethwatch_state(n->watch)->block) {
		bft_vote(n, vt->ordinal, vt->addr, true);
	} else if (err == 0) {
		snprintf(n->member_why, sizeof(n->member_why), "voting ordinal "
		    "%u in once its chain has the validators' height",
		    vt->ordinal);
	}
	cJSON_Delete(j);
	free(vt);
}

/*
 * A member that goes and does not validate (voted out, or a full node)
 * leaves the record: no longer permitted, and geth drops it.
 */
static void bft_drop(struct node *n, unsigned ordinal)
{
	const struct netrecord_member *m = netrecord_find(&n->rec, ordinal);
	char enode[400], params[420], e[512] = "", addr[43];
	const char *why;

	if (m == NULL || ordinal >= NETRECORD_MEMBERS_MAX)
		return;
	why = n->shrink[ordinal] ? "NODE_NUMBER is lower" :
	    "replaced by a new identity";
	if (n->vote[ordinal] != 0) {
		/* A vote in still standing: it would vote it in later. */
		member_address(m, addr);
		snprintf(params, sizeof(params), "[\"%s\"]", addr);
		if (gethrpc_call(gethwatch_rpc(n->watch), "istanbul_discard",
		    params, 2000, rpc_ignored, NULL) < 0)
			return; /* dropped at a later tick */
	}
	memcpy(enode, m->enode, sizeof(enode));
	if (netrecord_remove(&n->rec, ordinal) < 0)
		return;
	n->shrink[ordinal] = false;
	n->conflict_ms[ordinal] = 0;
	n->absent_ms[ordinal] = 0;
	n->vote[ordinal] = 0;
	n->cand_ms[ordinal] = 0;
	n->online[ordinal] = false;
	if (write_lists(n, e, sizeof(e)) < 0 || record_write(n, e,
	    sizeof(e)) < 0)
		log_error("%s", e);
	log_info("%s%u left the network (%s): not permitted any more",
	    n->s->node_prefix, ordinal, why);
	snprintf(params, sizeof(params), "[\"%s\"]", enode);
	if (gethrpc_call(gethwatch_rpc(n->watch), "admin_removePeer", params,
	    0, rpc_ignored, NULL) == 0)
		n->changes[2]++;
}

/* admin_peers: which members this node's geth is connected to. */
static void on_bft_peers(void *arg, int err, const struct gethrpc_reply *rep)
{
	struct node *n = arg;
	char (*ids)[GETHRPC_NODE_ID_LEN + 1] = NULL, e[256];
	size_t cnt = 0;
	uint64_t now = evloop_now();

	n->tick_busy--;
	if (err < 0 || rep->is_error)
		return;
	ids = calloc(NETRECORD_MEMBERS_MAX, sizeof(*ids));
	if (ids == NULL || gethrpc_peer_ids(rep->result, rep->result_len, ids,
	    NETRECORD_MEMBERS_MAX, &cnt, e, sizeof(e)) < 0) {
		free(ids);
		return;
	}
	for (size_t i = 0; i < n->rec.count; i++) {
		const struct netrecord_member *m = &n->rec.members[i];
		bool on = m->ordinal == n->s->node_ordinal;

		if (m->ordinal >= NETRECORD_MEMBERS_MAX)
			continue;
		for (size_t k = 0; k < cnt && !on; k++)
			on = strcmp(ids[k], m->node_id) == 0;
		n->online[m->ordinal] = on;
		n->absent_ms[m->ordinal] = on ? 0 : n->absent_ms[m->ordinal] ?
		    n->absent_ms[m->ordinal] : now;
	}
	n->peers_known = true;
	free(ids);
}

/*
 * A member's record: does it list this node (its ordinal, its identity,
 * the same genesis)? Asked by a joiner until each member does, and by a
 * node voted out of the validators (removal_check): gone from a
 * validator's record, it was removed.
 */
struct asked {
	struct node *n;
	unsigned ordinal;
	bool removal_check;
};

static void on_member_record(void *arg, int err, const struct httpc_result *res)
{
	struct asked *a = arg;
	struct node *n = a->n;
	struct netrecord r;
	const struct netrecord_member *m;
	char e[256];
	bool listed;

	n->tick_busy--;
	if (err == 0 && res->code == 200 &&
	    netrecord_parse(res->body, res->len, &r, e, sizeof(e)) == 0) {
		if (strcmp(r.genesis, n->rec.genesis) == 0) {
			m = netrecord_find(&r, n->s->node_ordinal);
			listed = m != NULL &&
			    strcmp(m->node_id, n->self.node_id) == 0;
			n->lists_me[a->ordinal] = listed;
			if (a->removal_check && !listed && !n->removed)
				node_removed(n);
		}
		netrecord_free(&r);
	}
	free(a);
}

static void ask_record(struct node *n, unsigned ordinal, bool removal_check)
{
	struct asked *a = malloc(sizeof(*a));

	if (a == NULL)
		return;
	a->n = n;
	a->ordinal = ordinal;
	a->removal_check = removal_check;
	if (peer_get(n, ordinal, "/network.json", RECORD_FETCH_MAX,
	    on_member_record, a) == 0)
		n->tick_busy++;
	else
		free(a);
}

/*
 * A joiner asks each member whose record does not list it yet, with its
 * document: a member that had another identity at this ordinal (a
 * replacement) permits it only once that one left, which a raft follower
 * sees at its next raft_cluster (every 10 s), after the joiner has its
 * raft ID.
 */
static void joiner_listed_poll(struct node *n)
{
	for (size_t i = 0; i < n->rec.count; i++) {
		unsigned o = n->rec.members[i].ordinal;

		if (o != n->s->node_ordinal && o < NETRECORD_MEMBERS_MAX &&
		    !n->lists_me[o])
			ask_record(n, o, false);
	}
}

/* Voted out: asks a validator whether its record still lists this node. */
static void removed_check(struct node *n)
{
	for (size_t i = 0; i < n->rec.count; i++) {
		const struct netrecord_member *m = &n->rec.members[i];

		if (m->ordinal != n->s->node_ordinal && m->validator &&
		    m->ordinal < NETRECORD_MEMBERS_MAX) {
			ask_record(n, m->ordinal, true);
			return;
		}
	}
}

/*
 * istanbul_getValidators: members' roles into the record; votes that
 * passed discarded (a vote left standing would undo a later change); then
 * one step (membership_bft_next): a member that goes and does not validate
 * leaves the record, a validator that goes is voted out while more than
 * two thirds stay online, a joiner is voted in once synced (VALIDATORS=all).
 */
static void on_bft_validators(void *arg, int err,
    const struct gethrpc_reply *rep)
{
	struct node *n = arg;
	char (*vals)[43] = NULL, addr[43], e[256], params[80];
	size_t cnt = 0;
	bool changed = false, self_validates = false;
	bool goes[NETRECORD_MEMBERS_MAX] = {false};
	struct membership_bft_view v = {0};
	struct membership_step step;
	struct vote *vt;

	n->tick_busy--;
	if (err < 0 || rep->is_error || n->watch == NULL || n->removed)
		return;
	vals = calloc(NETRECORD_MEMBERS_MAX, sizeof(*vals));
	if (vals == NULL || gethrpc_addresses(rep->result, rep->result_len,
	    vals, NETRECORD_MEMBERS_MAX, &cnt, e, sizeof(e)) < 0) {
		free(vals);
		return;
	}
	n->member_why[0] = '\0';
	for (size_t i = 0; i < n->rec.count; i++) {
		struct netrecord_member *m = &n->rec.members[i];
		unsigned o = m->ordinal;
		bool in = false;

		member_address(m, addr);
		for (size_t k = 0; k < cnt && !in; k++)
			in = strcmp(vals[k], addr) == 0;
		if (in != m->validator) {
			if (o == n->s->node_ordinal && !in)
				n->bft_dropped = true;
			m->validator = in;
			changed = true;
			log_info("%s%u is %s a validator", n->s->node_prefix,
			    o, in ? "now" : "no longer");
		}
		if (o == n->s->node_ordinal)
			self_validates = in;
		if (o < NETRECORD_MEMBERS_MAX && n->vote[o] != 0 &&
		    in == (n->vote[o] > 0)) {
			snprintf(params, sizeof(params), "[\"%s\"]", addr);
			if (gethrpc_call(gethwatch_rpc(n->watch),
			    "istanbul_discard", params, 2000, rpc_logged,
			    n) == 0) {
				n->tick_busy++;
				n->vote[o] = 0;
				n->change_ms = 0;
			}
		}
	}
	free(vals);
	if (changed) {
		char err2[512] = "";

		if (record_write(n, err2, sizeof(err2)) < 0)
			log_error("%s", err2);
	}
	if (!n->peers_known)
		return;
	members_going(n, goes);
	v.rec = &n->rec;
	v.nvalidators = cnt;
	v.online = n->online;
	v.goes = goes;
	v.self = n->s->node_ordinal;
	v.self_validates = self_validates;
	v.vote_joiners = !n->s->validators_initial;
	membership_bft_next(&v, &step);
	memcpy(n->member_why, step.why, sizeof(n->member_why));
	if (step.action == MEMBERSHIP_DROP) {
		bft_drop(n, step.ordinal);
		return;
	}
	if (step.action != MEMBERSHIP_VOTE_IN &&
	    step.action != MEMBERSHIP_VOTE_OUT)
		return;
	if (n->vote[step.ordinal] == (step.action == MEMBERSHIP_VOTE_IN ?
	    1 : -1) && n->change_ms != 0 &&
	    evloop_now() - n->change_ms < CHANGE_WAIT_MS) {
		snprintf(n->member_why, sizeof(n->member_why), "voting "
		    "ordinal %u %s: waiting for the validators' votes to "
		    "pass", step.ordinal, step.action == MEMBERSHIP_VOTE_IN ?
		    "in" : "out");
		return;
	}
	member_address(netrecord_find(&n->rec, step.ordinal), addr);
	if (step.action == MEMBERSHIP_VOTE_OUT) {
		bft_vote(n, step.ordinal, addr, false);
		return;
	}
	vt = calloc(1, sizeof(*vt));
	if (vt == NULL)
		return;
	vt->n = n;
	vt->ordinal = step.ordinal;
	memcpy(vt->addr, addr, sizeof(vt->addr));
	if (peer_get(n, step.ordinal, "/status", 1 << 20, on_voter_status,
	    vt) == 0)
		n->tick_busy++;
	else
		free(vt);
}

static void on_member_tick(void *arg)
{
	struct node *n = arg;
	const struct netrecord_member *me;

	n->member_timer = evloop_timer(n->loop, evloop_now() +
	    (n->member_fast ? MEMBER_FAST_MS : MEMBER_TICK_MS), on_member_tick,
	    n);
	if (n->member_timer < 0)
		n->member_timer = 0;
	if (!n->formed || n->phase == PHASE_STOPPING || n->tick_busy > 0)
		return;
	if (n->s->consensus != CONSENSUS_RAFT) {
		if (n->watch == NULL || !gethwatch_state(n->watch)->up ||
		    n->removed)
			return;
		if (gethrpc_call(gethwatch_rpc(n->watch), "admin_peers", NULL,
		    2000, on_bft_peers, n) == 0)
			n->tick_busy++;
		if (gethrpc_call(gethwatch_rpc(n->watch),
		    "istanbul_getValidators", "[\"latest\"]", 2000,
		    on_bft_validators, n) == 0)
			n->tick_busy++;
		/* Voted out: gone from a validator's record is removed. */
		if (n->bft_dropped && n->ticks++ % FOLLOWER_TICKS == 0)
			removed_check(n);
		me = netrecord_find(&n->rec, n->s->node_ordinal);
		if (me != NULL && me->joined)
			joiner_listed_poll(n);
		return;
	}
	me = netrecord_find(&n->rec, n->s->node_ordinal);
	n->member_fast = me != NULL && me->joined && me->raft_id == 0;
	if (n->member_fast) {
		/* Asking every member: each learns of us, one names our ID. */
		for (size_t i = 0; i < n->rec.count; i++) {
			unsigned o = n->rec.members[i].ordinal;

			if (o != n->s->node_ordinal && peer_get(n, o,
			    "/network.json", RECORD_FETCH_MAX, on_joiner_poll,
			    n) == 0)
				n->tick_busy++;
		}
		return;
	}
	if (n->watch == NULL || !gethwatch_state(n->watch)->up || n->removed)
		return;
	if (me != NULL && me->joined)
		joiner_listed_poll(n);
	/*
	 * raft_cluster can deadlock a geth that is not the leader (see
	 * gethwatch.c): the leader's daemon, which coordinates, asks every
	 * tick; the others every FOLLOWER_TICKS ticks, for their records.
	 */
	if (!membership_raft_coordinates(gethwatch_state(n->watch)->role) &&
	    n->ticks++ % FOLLOWER_TICKS != 0)
		return;
	if (gethrpc_call(gethwatch_rpc(n->watch), "raft_cluster", NULL, 2000,
	    on_raft_cluster, n) == 0)
		n->tick_busy++;
}

static void member_tick_start(struct node *n)
{
	if (n->member_timer != 0)
		return;
	n->member_timer = evloop_timer(n->loop, evloop_now() + MEMBER_TICK_MS,
	    on_member_tick, n);
	if (n->member_timer < 0)
		n->member_timer = 0;
}

static void log_progress(struct node *n)
{
	char line[1024];

	discovery_progress(n->disc, line, sizeof(line));
	log_info("discovered %u/%u%s%s", discovery_found_count(n->disc) + 1,
	    n->s->node_number, line[0] ? ", " : "", line);
}

static void on_progress(void *arg)
{
	struct node *n = arg;

	n->progress_timer = 0;
	if (n->phase != PHASE_DISCOVERING || n->formed)
		return;
	if (!n->join_busy && !n->join_stopped) {
		/*
		 * A peer named a formed network (its answers' X-Peerd-Network):
		 * join it (again, from the next such peer, if the last one
		 * failed), rather than wait for every ordinal to answer.
		 */
		for (unsigned k = 1; k <= n->s->node_number; k++) {
			unsigned i = (n->join_peer + k) % n->s->node_number;

			if (i != n->s->node_ordinal &&
			    discovery_peer_network(n->disc, i)[0] != '\0') {
				join_begin(n, i);
				break;
			}
		}
		if (!n->join_busy && n->join_known)
			join_begin(n, n->join_peer);
	}
	if (!n->join_known)
		log_progress(n);
	/*
	 * Still waiting (a late or missing peer): give back what the first
	 * rounds used (bodies, curl handles and their resolvers), as after the
	 * configs are written. A node of 50 waiting for one peer: 7.4 MB of
	 * RSS without, 5.6 MB with.
	 */
	(void)malloc_trim(0);
	n->progress_timer = evloop_timer(n->loop, evloop_now() + PROGRESS_MS,
	    on_progress, n);
}

static void on_deadline(void *arg)
{
	struct node *n = arg;
	char line[1024], msg[1200];

	n->deadline_timer = 0;
	if (n->phase != PHASE_DISCOVERING)
		return;
	discovery_progress(n->disc, line, sizeof(line));
	snprintf(msg, sizeof(msg), "DISCOVERY_TIMEOUT=%u reached: %s",
	    n->s->discovery_timeout, line);
	node_fail(n, 1, msg);
}

static void on_found(void *arg, const struct peerdoc *doc)
{
	struct node *n = arg;

	if (n->formed) {
		member_seen(n, doc);
		return;
	}
	if (doc->ordinal >= n->s->node_number || n->known[doc->ordinal])
		return;
	n->peers[doc->ordinal] = *doc;
	n->known[doc->ordinal] = true;
	log_event(LOG_INFO, "peer found", "peer", doc->name, "ip", doc->ip,
	    "node_id", doc->node_id, NULL);
}

static void on_done(void *arg)
{
	struct node *n = arg;

	if (n->from_record) {
		log_info("every member answered");
		return;
	}
	if (n->phase != PHASE_DISCOVERING || n->join_known)
		return;
	n->discovered_ms = evloop_now();
	evloop_timer_cancel(n->loop, n->progress_timer);
	evloop_timer_cancel(n->loop, n->deadline_timer);
	log_info("discovered %u/%u in %.3f s", n->s->node_number,
	    n->s->node_number,
	    (double)(n->discovered_ms - n->started_ms) / 1000.0);
	configure(n);
}

/* Once per reason per peer: peers starting up are normal, so info. */
static void on_peer_error(void *arg, unsigned ordinal, enum discovery_reason
    reason, const char *msg)
{
	struct node *n = arg;
	char peer[80];

	snprintf(peer, sizeof(peer), "%s%u", n->s->node_prefix, ordinal);
	if (reason == DISCOVERY_CONFLICT) {
		log_event(LOG_WARN, "conflicting peer document ignored",
		    "peer", peer, "detail", msg, NULL);
		return;
	}
	log_event(reason == DISCOVERY_INVALID || reason == DISCOVERY_TOOBIG ?
	    LOG_WARN : LOG_INFO, "peer not ready", "peer", peer, "reason",
	    discovery_reason_name(reason), "detail", msg, NULL);
}

static void on_stop(void *arg, int signo)
{
	struct node *n = arg;
	int code = 128 + signo;

	log_event(LOG_INFO, "stopping", "phase", phase_names[n->phase], NULL);
	if (n->phase == PHASE_DISCOVERING && n->disc != NULL)
		discovery_cancel(n->disc);
	/* LAUNCH=no with the configs written: a stop is a clean end. */
	if (n->configured && !n->s->launch)
		code = 0;
	n->phase = PHASE_STOPPING;
	n->ready = false;
	supervisor_shutdown(n->sup, code);
}

static void on_child_exit(void *arg, const char *name, int code, bool expected)
{
	struct node *n = arg;

	n->ready = false;
	if (!expected && n->phase != PHASE_STOPPING) {
		log_event(LOG_ERROR, "child died unexpectedly: stopping",
		    "child", name, NULL);
		n->phase = PHASE_STOPPING;
	}
	(void)code;
}

static void on_finished(void *arg, int code)
{
	struct node *n = arg;

	n->exit_code = code;
	evloop_stop(n->loop);
}

/* ---- HTTP -------------------------------------------------------------- */

static const char *const paths[] = {"/env.sh", "/env.json", "/peers",
    "/healthz", "/readyz", "/status", "/metrics", "/static-nodes.json",
    "/genesis.json", "/network.json", NULL};

static int respond(struct http_response *resp, int code, const char *type,
    const char *body, size_t len)
{
	resp->code = code;
	resp->content_type = type;
	resp->body = dup_bytes(body, len);
	resp->len = resp->body ? len : 0;
	return resp->body ? 0 : -ENOMEM;
}

static int status_json(struct node *n, struct buf *b)
{
	size_t used;

	bprintf(b, "{\"phase\":\"%s\",\"name\":\"%s\",\"ordinal\":%u,"
	    "\"nodes\":%u,\"discovered\":%u,\"ready\":%s,\"peers\":",
	    phase_names[n->phase], n->self.name, n->self.ordinal,
	    n->s->node_number,
	    n->disc ? discovery_found_count(n->disc) + 1 : 1,
	    node_ready(n) ? "true" : "false");
	used = 0;
	if (n->disc == NULL ||
	    discovery_status_json(n->disc, b->p + b->used, b->len - b->used,
	    &used) < 0)
		bprintf(b, "[]");
	else
		b->used += used;
	bprintf(b, ",\"children\":");
	used = 0;
	if (supervisor_status_json(n->sup, b->p + b->used, b->len - b->used,
	    &used) < 0)
		bprintf(b, "[]");
	else
		b->used += used;
	bprintf(b, ",\"geth\":");
	used = 0;
	if (n->watch == NULL ||
	    gethwatch_status_json(n->watch, b->p + b->used, b->len - b->used,
	    &used) < 0)
		bprintf(b, "null");
	else
		b->used += used;
	bprintf(b, ",\"network\":{\"state\":\"%s\",\"genesis\":",
	    network_state(n));
	if (n->formed)
		bprintf(b, "\"%s\",\"members\":[", n->rec.genesis);
	else
		bprintf(b, "null,\"members\":[");
	for (size_t i = 0; i < n->rec.count; i++)
		bprintf(b, "%s%u", i ? "," : "", n->rec.members[i].ordinal);
	bprintf(b, "],\"moved\":%lu", n->members_moved);
	if (n->waiting[0] != '\0')
		bprintf(b, ",\"waiting\":\"%s\"", n->waiting);
	else if (n->member_why[0] != '\0')
		bprintf(b, ",\"waiting\":\"%s\"", n->member_why);
	bprintf(b, "}}\n");
	return 0;
}

static int metrics_text(struct node *n, struct buf *b)
{
	size_t used = 0;

	bprintf(b, "# TYPE peerd_phase gauge\n");
	bprintf(b, "peerd_phase{phase=\"%s\"} 1\n", phase_names[n->phase]);
	bprintf(b, "# TYPE peerd_peers_expected gauge\npeerd_peers_expected "
	    "%u\n", n->s->node_number);
	if (n->discovered_ms != 0)
		bprintf(b, "# TYPE peerd_discovery_seconds gauge\n"
		    "peerd_discovery_seconds %.3f\n",
		    (double)(n->discovered_ms - n->started_ms) / 1000.0);
	/*
	 * Children are never restarted in-process (a dead child fails the
	 * container; the orchestrator counts restarts), so only up/down.
	 */
	if (n->s->launch) {
		const char *tm = n->s->privacy == PRIVACY_NONE ||
		    n->s->privacy == PRIVACY_AUTO ? NULL :
		    launch_tm_name(n->s);

		bprintf(b, "# TYPE peerd_child_up gauge\n");
		bprintf(b, "peerd_child_up{child=\"geth\"} %d\n",
		    supervisor_running(n->sup, "geth") ? 1 : 0);
		if (tm != NULL)
			bprintf(b, "peerd_child_up{child=\"%s\"} %d\n", tm,
			    supervisor_running(n->sup, tm) ? 1 : 0);
	}
	bprintf(b, "# TYPE peerd_network_members gauge\n"
	    "peerd_network_members %zu\n", n->rec.count);
	bprintf(b, "# TYPE peerd_membership_changes_total counter\n"
	    "peerd_membership_changes_total{kind=\"add_learner\"} %lu\n"
	    "peerd_membership_changes_total{kind=\"promote\"} %lu\n"
	    "peerd_membership_changes_total{kind=\"remove\"} %lu\n"
	    "peerd_membership_changes_total{kind=\"vote_in\"} %lu\n"
	    "peerd_membership_changes_total{kind=\"vote_out\"} %lu\n",
	    n->changes[0], n->changes[1], n->changes[2], n->changes[3],
	    n->changes[4]);
	if (n->watch != NULL) {
		if (gethwatch_metrics(n->watch, b->p + b->used,
		    b->len - b->used, &used) == 0)
			b->used += used;
	} else if (n->s->launch) {
		bprintf(b, "# TYPE peerd_geth_up gauge\npeerd_geth_up 0\n");
	}
	used = 0;
	if (n->disc != NULL &&
	    discovery_metrics(n->disc, b->p + b->used, b->len - b->used,
	    &used) == 0)
		b->used += used;
	used = 0;
	if (http_server_metrics(n->http, b->p + b->used, b->len - b->used,
	    &used) == 0)
		b->used += used;
	return 0;
}

/* The formed network this node is a member of or has heard of, or NULL. */
static const char *known_network(const struct node *n)
{
	if (n->formed)
		return n->rec.genesis;
	if (n->net_hint[0] != '\0')
		return n->net_hint;
	for (unsigned i = 0; n->disc != NULL && i < n->s->node_number; i++) {
		const char *h = i == n->s->node_ordinal ? "" :
		    discovery_peer_network(n->disc, i);

		if (h[0] != '\0')
			return h;
	}
	return NULL;
}

/*
 * A member pushed a document other than the one on record (restarted with
 * a new address, say): what it pushes is not trusted as such, but it is
 * polled again, as discovery would poll a new peer, at most every
 * REFRESH_MS.
 */
static void recheck_member(struct node *n, unsigned ordinal, const char *doc)
{
	const struct netrecord_member *m = netrecord_find(&n->rec, ordinal);
	uint64_t now = evloop_now();
	size_t len = strlen(doc);

	if (m == NULL || ordinal >= n->s->node_number ||
	    n->refreshed_ms == NULL)
		return;
	if (m->doc != NULL && m->doclen == len && memcmp(m->doc, doc, len) == 0)
		return;
	if (n->refreshed_ms[ordinal] != 0 &&
	    now - n->refreshed_ms[ordinal] < REFRESH_MS)
		return;
	n->refreshed_ms[ordinal] = now;
	(void)discovery_refresh(n->disc, ordinal);
}

static int on_http(void *arg, const struct http_request *req,
    struct http_response *resp)
{
	const char *path = req->path;
	int from = req->from;
	struct node *n = arg;
	char tmp[BODY_MAX];
	struct buf b = {tmp, sizeof(tmp), 0};

	tmp[0] = '\0';
	/*
	 * Tells a node about to form a network that one exists already (this
	 * node's, or one a peer named: relayed documents may spare the asker
	 * from ever asking a member itself).
	 */
	resp->header_name = "X-Peerd-Network";
	resp->header_value = known_network(n);
	if (resp->header_value == NULL)
		resp->header_name = NULL;
	if (!n->formed && from >= 0 && req->network != NULL &&
	    strlen(req->network) == 66 && n->net_hint[0] == '\0' &&
	    strncmp(req->network, "0x", 2) == 0 &&
	    encoding_is_lowerhex(req->network + 2, 64)) {
		memcpy(n->net_hint, req->network, sizeof(n->net_hint));
		n->net_hint_from = (unsigned)from;
	}
	if (from >= 0 && n->disc != NULL && (unsigned)from != n->s->node_ordinal) {
		/* The asker's own document may come with its request. */
		if (req->doc != NULL) {
			if (n->formed)
				recheck_member(n, (unsigned)from, req->doc);
			(void)discovery_offer(n->disc, (unsigned)from, req->doc,
			    strlen(req->doc), req->peer_ip);
		}
		discovery_hello(n->disc, (unsigned)from);
	}
	/* A node not in the record: a joiner (any ordinal, NODE_NUMBER
	 * aside: members accept joiners without being restarted). */
	if (n->formed && from >= 0 && req->doc != NULL &&
	    (unsigned)from != n->s->node_ordinal &&
	    netrecord_find(&n->rec, (unsigned)from) == NULL)
		member_candidate(n, (unsigned)from, req->doc);
	if (strcmp(path, "/env.json") == 0)
		return respond(resp, 200, "application/json", n->env_json,
		    n->env_json_len);
	if (strcmp(path, "/network.json") == 0) {
		char *rec = NULL;
		size_t len = 0;

		if (!n->formed)
			return -ENOENT;
		if (netrecord_render(&n->rec, &rec, &len) < 0)
			return -ENOMEM;
		resp->code = 200;
		resp->content_type = "application/json";
		resp->body = rec;
		resp->len = len;
		return 0;
	}
	if (strcmp(path, "/peers") == 0) {
		if (n->disc == NULL)
			return respond(resp, 200, "application/x-ndjson",
			    n->env_json, n->env_json_len);
		if (discovery_bundle(n->disc, n->env_json, n->env_json_len,
		    req->have, &resp->body, &resp->len) < 0)
			return -ENOMEM;
		resp->code = 200;
		resp->content_type = "application/x-ndjson";
		return 0;
	}
	if (strcmp(path, "/env.sh") == 0)
		return respond(resp, 200, "text/x-shellscript", n->env_sh,
		    n->env_sh_len);
	if (strcmp(path, "/healthz") == 0)
		return respond(resp, 200, "text/plain", "ok\n", 3);
	if (strcmp(path, "/readyz") == 0) {
		if (node_ready(n))
			return respond(resp, 200, "text/plain", "ready\n", 6);
		if (n->removed)
			bprintf(&b, "not ready: removed from the network\n");
		else if (n->waiting[0] != '\0')
			bprintf(&b, "not ready: %s\n", n->waiting);
		else if (n->phase == PHASE_RUNNING && n->watch != NULL)
			bprintf(&b, "not ready: %s\n",
			    gethwatch_state(n->watch)->reason[0] ?
			    gethwatch_state(n->watch)->reason :
			    "waiting for geth to answer over IPC");
		else
			bprintf(&b, "not ready: %s\n",
			    n->phase == PHASE_LAUNCHING && n->launch ?
			    launch_state(n->launch) : phase_names[n->phase]);
		return respond(resp, 503, "text/plain", tmp, b.used);
	}
	if (strcmp(path, "/status") == 0) {
		status_json(n, &b);
		return respond(resp, 200, "application/json", tmp, b.used);
	}
	if (strcmp(path, "/metrics") == 0) {
		metrics_text(n, &b);
		return respond(resp, 200, "text/plain; version=0.0.4", tmp,
		    b.used);
	}
	if (strcmp(path, "/static-nodes.json") == 0 && n->static_nodes)
		return respond(resp, 200, "application/json", n->static_nodes,
		    strlen(n->static_nodes));
	if (strcmp(path, "/genesis.json") == 0 && n->genesis)
		return respond(resp, 200, "application/json", n->genesis,
		    strlen(n->genesis));
	return -ENOENT;
}

/* ---- entry points ----------------------------------------------------- */

static int build_self(struct node *n, const struct identity *id)
{
	struct settings *s = n->s;
	char host[256] = "";
	int r;

	if (s->node_ip[0] == '\0') {
		(void)gethostname(host, sizeof(host) - 1);
		if (detect_ip(host, s->node_ip, sizeof(s->node_ip)) < 0) {
			log_error("cannot find this node's IP address from "
			    "its host name \"%s\" or its interfaces: set "
			    "NODE_IP", host);
			return -EINVAL;
		}
		log_info("advertising address %s", s->node_ip);
	}
	identity_public(id, s, &n->self);
	r = peerdoc_sign(&n->self, id->nodekey, s->cluster_secret,
	    s->cluster_secret_len);
	if (r == 0)
		r = peerdoc_to_json(&n->self, n->env_json, sizeof(n->env_json),
		    &n->env_json_len);
	if (r == 0)
		r = peerdoc_to_envsh(&n->self, n->env_sh, sizeof(n->env_sh),
		    &n->env_sh_len);
	if (r < 0)
		log_error("cannot build this node's identity document: %s",
		    strerror(-r));
	return r;
}

int node_run(struct settings *s, const sigset_t *saved)
{
	struct node n = {.s = s, .exit_code = 1};
	struct identity id;
	char err[IDENTITY_ERR_LEN];
	int r;

	n.started_ms = evloop_now();
	n.loop = evloop_new();
	n.peers = calloc(s->node_number, sizeof(*n.peers));
	n.known = calloc(s->node_number, sizeof(*n.known));
	n.refreshed_ms = calloc(s->node_number, sizeof(*n.refreshed_ms));
	n.add_pending = calloc(s->node_number, sizeof(*n.add_pending));
	n.cand_ms = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.cand_ms));
	n.seen_ms = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.seen_ms));
	n.absent_ms = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.absent_ms));
	n.conflict_ms = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.conflict_ms));
	n.shrink = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.shrink));
	n.vote = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.vote));
	n.online = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.online));
	n.lists_me = calloc(NETRECORD_MEMBERS_MAX, sizeof(*n.lists_me));
	if (n.loop == NULL || n.peers == NULL || n.known == NULL ||
	    n.refreshed_ms == NULL || n.add_pending == NULL ||
	    n.cand_ms == NULL || n.seen_ms == NULL || n.absent_ms == NULL ||
	    n.conflict_ms == NULL || n.shrink == NULL || n.vote == NULL ||
	    n.online == NULL || n.lists_me == NULL) {
		log_error("out of memory");
		goto out;
	}
	n.sup = supervisor_new(n.loop, saved, s->stop_timeout,
	    &(const struct supervisor_events){on_stop, on_child_exit,
		on_finished},
	    &n);
	if (n.sup == NULL) {
		log_warn("cannot set up supervision");
		goto out;
	}

	n.phase = PHASE_IDENTITY;
	r = identity_load_or_create(s, &id, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	r = build_self(&n, &id);
	identity_wipe(&id);
	if (r < 0)
		goto out;
	log_event(LOG_INFO, "identity", "name", n.self.name, "node_id",
	    n.self.node_id, "account", n.self.account, "tm_pub",
	    n.self.tm_pub, NULL);
	n.peers[s->node_ordinal] = n.self;
	n.known[s->node_ordinal] = true;

	r = record_load(&n, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}

	n.http = http_server_new(n.loop,
	    &(const struct http_server_config){.port = s->http_port,
		.paths = paths},
	    on_http, &n);
	if (n.http == NULL) {
		log_warn("cannot serve HTTP on port %u", s->http_port);
		goto out;
	}
	log_info("serving the identity on port %u", s->http_port);

	if (n.formed && was_removed(s)) {
		n.removed = true;
		n.phase = PHASE_RUNNING;
		log_warn("this node was removed from its network (%s/%s): not "
		    "starting geth; serving", s->data_dir, REMOVED_FILE);
	} else if (n.formed) {
		if (start_from_record(&n, err, sizeof(err)) < 0) {
			log_error("%s", err);
			goto out;
		}
	} else {
		n.phase = PHASE_DISCOVERING;
	}
	n.disc = discovery_new(n.loop,
	    &(const struct discovery_config){.prefix = s->node_prefix,
		.domain = s->node_domain, .port = s->http_port,
		.n = s->node_number, .self = s->node_ordinal,
		.secret = s->cluster_secret_len ? s->cluster_secret : NULL,
		.secretlen = s->cluster_secret_len,
		.relay = s->cluster_secret_len > 0,
		.self_doc = n.env_json, .self_len = n.env_json_len,
		.network = n.formed ? n.rec.genesis : NULL,
		.on_error = on_peer_error},
	    on_found, on_done, &n);
	if (n.disc == NULL || discovery_start(n.disc) < 0) {
		log_error("cannot start discovery");
		goto out;
	}
	if (!n.formed)
		n.progress_timer = evloop_timer(n.loop,
		    evloop_now() + PROGRESS_MS, on_progress, &n);
	if (s->discovery_timeout > 0 && !n.formed)
		n.deadline_timer = evloop_timer(n.loop,
		    evloop_now() + s->discovery_timeout * 1000ull, on_deadline,
		    &n);

	r = evloop_run(n.loop);
	if (r < 0)
		log_error("event loop failed: %s", strerror(-r));
out:
	evloop_timer_cancel(n.loop, n.member_timer);
	httpc_free(n.httpc);
	gethwatch_free(n.watch);
	launch_free(n.launch);
	discovery_free(n.disc);
	http_server_free(n.http);
	supervisor_free(n.sup);
	evloop_free(n.loop);
	free(n.peers);
	free(n.known);
	free(n.refreshed_ms);
	free(n.add_pending);
	free(n.cand_ms);
	free(n.seen_ms);
	free(n.absent_ms);
	free(n.conflict_ms);
	free(n.shrink);
	free(n.vote);
	free(n.online);
	free(n.lists_me);
	netrecord_free(&n.jrec);
	netrecord_free(&n.rec);
	free(n.static_nodes);
	free(n.genesis);
	return n.exit_code;
}

int node_render_offline(struct settings *s, char *const files[], int nfiles)
{
	struct identity id;
	struct settings rs;
	struct peerdoc *docs = NULL, self;
	struct render_set set = {0};
	char err[IDENTITY_ERR_LEN], *buf = NULL;
	size_t len, self_idx = 0;
	bool *seen = NULL, found = false;
	int i, r, code = 1;

	if (nfiles < 1) {
		log_error("render: give the peer documents (env.json files) "
		    "of every node");
		return 2;
	}
	if (s->node_number != 0 && s->node_number != (unsigned)nfiles) {
		log_error("render: NODE_NUMBER=%u but %d documents given",
		    s->node_number, nfiles);
		return 2;
	}
	s->node_number = (unsigned)nfiles;
	docs = calloc((size_t)nfiles, sizeof(*docs));
	seen = calloc((size_t)nfiles, sizeof(*seen));
	if (docs == NULL || seen == NULL)
		goto out;
	r = identity_load_or_create(s, &id, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	identity_public(&id, s, &self);
	identity_wipe(&id);
	for (i = 0; i < nfiles; i++) {
		struct peerdoc d;
		struct peerdoc_expect ex = {.ordinal = -1,
		    .prefix = s->node_prefix,
		    .secret = s->cluster_secret_len ? s->cluster_secret : NULL,
		    .secretlen = s->cluster_secret_len};

		r = fsutil_read_file(files[i], PEERDOC_MAX, &buf, &len);
		if (r < 0) {
			log_error("%s: %s", files[i], r == -E2BIG ?
			    "larger than 16 KiB" : strerror(-r));
			goto out;
		}
		r = peerdoc_parse(buf, len, &ex, &d, err, sizeof(err));
		free(buf);
		buf = NULL;
		if (r < 0) {
			log_error("%s: %s", files[i], err);
			goto out;
		}
		if (d.ordinal >= (unsigned)nfiles || seen[d.ordinal]) {
			log_error("%s: ordinal %u is %s", files[i], d.ordinal,
			    d.ordinal >= (unsigned)nfiles ? "out of range" :
			    "given twice");
			goto out;
		}
		seen[d.ordinal] = true;
		docs[d.ordinal] = d;
		if (strcmp(d.node_id, self.node_id) == 0) {
			self_idx = d.ordinal;
			found = true;
		}
	}
	if (!found) {
		log_error("render: none of the documents is the identity in "
		    "%s (node_id %.16s...)", s->data_dir, self.node_id);
		goto out;
	}
	s->node_ordinal = (unsigned)self_idx;
	s->privacy = resolve_privacy(s);
	/*
	 * Paths inside the configs are the node's view of its data dir; the
	 * files go to s->data_dir (setup.sh: ./qdata-<i> mounted at /qdata).
	 */
	rs = *s;
	if (s->target_dir[0] != '\0')
		memcpy(rs.data_dir, s->target_dir, sizeof(rs.data_dir));
	r = render_all(&rs, docs, (size_t)nfiles, self_idx, &set, err,
	    sizeof(err));
	settings_wipe(&rs);
	if (r == 0)
		r = write_set(s, &set, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		goto out;
	}
	code = 0;
out:
	render_set_free(&set);
	free(docs);
	free(seen);
	return code;
}
