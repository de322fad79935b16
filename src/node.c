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
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "peerd/discovery.h"
#include "peerd/encoding.h"
#include "peerd/evloop.h"
#include "peerd/fsutil.h"
#include "peerd/http_server.h"
#include "peerd/identity.h"
#include "peerd/keccak.h"
#include "peerd/launch.h"
#include "peerd/log.h"
#include "peerd/node.h"
#include "peerd/peerdoc.h"
#include "peerd/render.h"
#include "peerd/supervisor.h"
#include "peerd/strbuf.h"

#define BODY_MAX 65536
#define PROGRESS_MS 5000
#define TRIM_MS 1000

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

static enum privacy resolve_privacy(const struct settings *s)
{
	if (s->privacy != PRIVACY_AUTO)
		return s->privacy;
	return launch_resolve_privacy(s);
}

/* ---- the run path ------------------------------------------------------ */

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
	log_info("geth is running: node %s ready", n->self.name);
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

static void configure(struct node *n)
{
	struct settings *s = n->s;
	struct render_set set = {0};
	char err[512];
	const struct render_file *f;
	int r;

	n->phase = PHASE_CONFIGURING;
	s->privacy = resolve_privacy(s);
	r = render_all(s, n->peers, s->node_number, s->node_ordinal, &set, err,
	    sizeof(err));
	if (r == 0)
		r = write_set(s, &set, err, sizeof(err));
	if (r < 0) {
		render_set_free(&set);
		node_fail(n, 1, err);
		return;
	}
	f = render_find(&set, "dd/static-nodes.json");
	if (f != NULL)
		n->static_nodes = dup_bytes(f->data, f->len);
	f = render_find(&set, "genesis.json");
	if (f != NULL)
		n->genesis = dup_bytes(f->data, f->len);
	render_set_free(&set);
	/*
	 * Discovery's transient buffers (bodies, bundles, curl handles) are
	 * freed by now; give their pages back, as the daemon stays up for the
	 * container's life. A second later: not while peers still wait for
	 * answers and every node writes its files at once.
	 */
	n->trim_timer = evloop_timer(n->loop, evloop_now() + TRIM_MS, on_trim,
	    n);
	n->configured = true;
	log_event(LOG_INFO, "configuration written", "consensus",
	    settings_consensus_name(s->consensus), "privacy",
	    settings_privacy_name(s->privacy), "address_mode",
	    s->address_mode == ADDRESS_DNS ? "dns" : "ip", NULL);

	if (!s->launch) {
		/* LAUNCH=no: configs written; keep serving for debugging. */
		n->phase = PHASE_RUNNING;
		n->ready = true;
		log_info("LAUNCH=no: not starting the TM or geth; serving");
		return;
	}
	n->phase = PHASE_LAUNCHING;
	n->launch = launch_new(n->loop, n->sup, s,
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
	if (n->phase != PHASE_DISCOVERING)
		return;
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

	if (n->phase != PHASE_DISCOVERING)
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
    "/genesis.json", NULL};

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
	    n->ready ? "true" : "false");
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
	bprintf(b, "}\n");
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

static int on_http(void *arg, const struct http_request *req,
    struct http_response *resp)
{
	const char *path = req->path;
	int from = req->from;
	struct node *n = arg;
	char tmp[BODY_MAX];
	struct buf b = {tmp, sizeof(tmp), 0};

	tmp[0] = '\0';
	if (from >= 0 && n->disc != NULL && (unsigned)from != n->s->node_ordinal) {
		/* The asker's own document may come with its request. */
		if (req->doc != NULL)
			(void)discovery_offer(n->disc, (unsigned)from, req->doc,
			    strlen(req->doc), req->peer_ip);
		discovery_hello(n->disc, (unsigned)from);
	}
	if (strcmp(path, "/env.json") == 0)
		return respond(resp, 200, "application/json", n->env_json,
		    n->env_json_len);
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
		if (n->ready)
			return respond(resp, 200, "text/plain", "ready\n", 6);
		bprintf(&b, "not ready: %s\n", n->phase == PHASE_LAUNCHING &&
		    n->launch ? launch_state(n->launch) :
		    phase_names[n->phase]);
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
	if (n.loop == NULL || n.peers == NULL || n.known == NULL) {
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

	n.http = http_server_new(n.loop,
	    &(const struct http_server_config){.port = s->http_port,
		.paths = paths},
	    on_http, &n);
	if (n.http == NULL) {
		log_warn("cannot serve HTTP on port %u", s->http_port);
		goto out;
	}
	log_info("serving the identity on port %u", s->http_port);

	n.phase = PHASE_DISCOVERING;
	n.disc = discovery_new(n.loop,
	    &(const struct discovery_config){.prefix = s->node_prefix,
		.domain = s->node_domain, .port = s->http_port,
		.n = s->node_number, .self = s->node_ordinal,
		.secret = s->cluster_secret_len ? s->cluster_secret : NULL,
		.secretlen = s->cluster_secret_len,
		.relay = s->cluster_secret_len > 0,
		.self_doc = n.env_json, .self_len = n.env_json_len,
		.on_error = on_peer_error},
	    on_found, on_done, &n);
	if (n.disc == NULL || discovery_start(n.disc) < 0) {
		log_error("cannot start discovery");
		goto out;
	}
	n.progress_timer = evloop_timer(n.loop, evloop_now() + PROGRESS_MS,
	    on_progress, &n);
	if (s->discovery_timeout > 0)
		n.deadline_timer = evloop_timer(n.loop,
		    evloop_now() + s->discovery_timeout * 1000ull, on_deadline,
		    &n);

	r = evloop_run(n.loop);
	if (r < 0)
		log_error("event loop failed: %s", strerror(-r));
out:
	launch_free(n.launch);
	discovery_free(n.disc);
	http_server_free(n.http);
	supervisor_free(n.sup);
	evloop_free(n.loop);
	free(n.peers);
	free(n.known);
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
