/*
 * Launch (DESIGN §9): `geth version` -> the TM -> its IPC socket answers
 * GET /upcheck 200 -> `geth init` on first boot -> geth. Every step is
 * asynchronous on the event loop; the command lines come from pure builders.
 */
#include "peerd/launch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "peerd/ethkey.h"
#include "peerd/fsutil.h"
#include "peerd/keystore.h"
#include "peerd/log.h"
#include "peerd/render.h"

extern char **environ;

#define POLL_MS 100
#define ATTEMPT_MS 5000
#define VERSION_OUT_MAX 8192
#define INIT_OUT_MAX 65536
/* `geth version` before the event loop runs (version_sync). */
#define VERSION_SYNC_MS 30000u
/* Written once geth init succeeded (see step_init). */
#define INIT_DONE "geth-init.done"

/* ------------------------------------------------------------------ */
/* Pure builders                                                       */
/* ------------------------------------------------------------------ */

int launch_parse_geth_version(const char *out, size_t len,
    struct geth_version *v)
{
	const char *p = out, *end = out + len;
	bool found = false;

	memset(v, 0, sizeof(*v));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		size_t ll = (size_t)(le - p);

		if (ll > 8 && memcmp(p, "Version:", 8) == 0) {
			const char *q = p + 8;
			unsigned long part[3] = {0, 0, 0};
			int i;

			while (q < le && *q == ' ')
				q++;
			for (i = 0; i < 3; i++) {
				if (q >= le || !isdigit((unsigned char)*q))
					break;
				part[i] = 0;
				while (q < le && isdigit((unsigned char)*q) &&
				    part[i] < 100000)
					part[i] = part[i] * 10 +
					    (unsigned long)(*q++ - '0');
				if (i < 2) {
					if (q >= le || *q != '.')
						break;
					q++;
				}
			}
			if (i >= 2) { /* at least major.minor */
				v->major = (unsigned)part[0];
				v->minor = (unsigned)part[1];
				v->patch = (unsigned)part[2];
				found = true;
			}
		} else if (ll > 15 && memcmp(p, "Quorum Version:", 15) == 0) {
			const char *q = p + 15;
			size_t n = 0;

			while (q < le && *q == ' ')
				q++;
			while (q < le && n + 1 < sizeof(v->quorum) &&
			    (isalnum((unsigned char)*q) || *q == '.' ||
				*q == '-'))
				v->quorum[n++] = *q++;
			v->quorum[n] = '\0';
		}
		p = le + 1;
	}
	return found ? 0 : -EINVAL;
}

static void cmd_init(struct launch_cmd *c)
{
	c->argc = 0;
	c->argv[0] = NULL;
	c->env[0] = '\0';
	c->used = 0;
}

static int add(struct launch_cmd *c, const char *fmt, ...)
    PEERD_PRINTF(2, 3);

static int add(struct launch_cmd *c, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (c->argc >= LAUNCH_ARGV_MAX)
		return -E2BIG;
	va_start(ap, fmt);
	w = vsnprintf(c->buf + c->used, sizeof(c->buf) - c->used, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= sizeof(c->buf) - c->used)
		return -E2BIG;
	c->argv[c->argc++] = c->buf + c->used;
	c->argv[c->argc] = NULL;
	c->used += (size_t)w + 1;
	return 0;
}

/* Appends the whitespace-separated words of extra (GETH_ARGS, TM_ARGS). */
static int add_words(struct launch_cmd *c, const char *extra)
{
	const char *p = extra;

	while (*p != '\0') {
		size_t n;
		int r;

		while (*p != '\0' && isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		n = 0;
		while (p[n] != '\0' && !isspace((unsigned char)p[n]))
			n++;
		if (n > INT32_MAX)
			return -E2BIG;
		r = add(c, "%.*s", (int)n, p);
		if (r < 0)
			return r;
		p += n;
	}
	return 0;
}

static const char *geth_bin(const struct settings *s)
{
	return s->geth_bin[0] != '\0' ? s->geth_bin : "geth";
}

const char *launch_tm_bin(const struct settings *s)
{
	if (s->tm_bin[0] != '\0')
		return s->tm_bin;
	return s->privacy == PRIVACY_CONSTELLATION ? "constellation-node"
						   : "tessera";
}

const char *launch_tm_name(const struct settings *s)
{
	return s->privacy == PRIVACY_CONSTELLATION ? "constellation"
						   : "tessera";
}

int launch_version_cmd(const struct settings *s, struct launch_cmd *c)
{
	int r;

	cmd_init(c);
	if ((r = add(c, "%s", geth_bin(s))) < 0 ||
	    (r = add(c, "version")) < 0)
		return r;
	return 0;
}

int launch_init_cmd(const struct settings *s, struct launch_cmd *c)
{
	int r;

	cmd_init(c);
	if ((r = add(c, "%s", geth_bin(s))) < 0 ||
	    (r = add(c, "--datadir")) < 0 ||
	    (r = add(c, "%s/dd", s->data_dir)) < 0 ||
	    (r = add(c, "init")) < 0 ||
	    (r = add(c, "%s/genesis.json", s->data_dir)) < 0)
		return r;
	return 0;
}

/*
 * TM_ARGS for Constellation, in the form its getOpt parses: every long
 * option but --version takes an optional value, which must be attached
 * (--verbosity=3), and a short -v too (-v3); a detached value would be
 * read as a second config file ("Only one configuration file can be
 * specified"). So "--opt value" becomes "--opt=value" and "-v N" "-vN".
 */
static int add_constellation_words(struct launch_cmd *c, const char *extra)
{
	const char *w[LAUNCH_ARGV_MAX];
	int wl[LAUNCH_ARGV_MAX], n = 0, r;
	const char *p = extra;

	while (*p != '\0') {
		size_t len = 0;

		while (*p != '\0' && isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		while (p[len] != '\0' && !isspace((unsigned char)p[len]))
			len++;
		if (n == LAUNCH_ARGV_MAX || len > INT32_MAX)
			return -E2BIG;
		w[n] = p;
		wl[n++] = (int)len;
		p += len;
	}
	for (int i = 0; i < n; i++) {
		bool value_next = i + 1 < n && w[i + 1][0] != '-';
		bool long_opt = wl[i] > 2 && strncmp(w[i], "--", 2) == 0 &&
		    memchr(w[i], '=', (size_t)wl[i]) == NULL &&
		    !(wl[i] == 9 && strncmp(w[i], "--version", 9) == 0);
		bool short_v = wl[i] == 2 && strncmp(w[i], "-v", 2) == 0;

		if (value_next && (long_opt || short_v)) {
			r = add(c, "%.*s%s%.*s", wl[i], w[i],
			    long_opt ? "=" : "", wl[i + 1], w[i + 1]);
			i++;
		} else {
			r = add(c, "%.*s", wl[i], w[i]);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int launch_tm_cmd(const struct settings *s, struct launch_cmd *c)
{
	int r;

	cmd_init(c);
	switch (s->privacy) {
	case PRIVACY_TESSERA:
		if ((r = add(c, "%s", launch_tm_bin(s))) < 0 ||
		    (r = add(c, "-configfile")) < 0 ||
		    (r = add(c, "%s/tessera-config.json", s->data_dir)) < 0)
			return r;
		break;
	case PRIVACY_CONSTELLATION:
		if ((r = add(c, "%s", launch_tm_bin(s))) < 0 ||
		    (r = add(c, "%s/tm.conf", s->data_dir)) < 0)
			return r;
		return add_constellation_words(c, s->tm_args);
	default:
		return -EINVAL;
	}
	return add_words(c, s->tm_args);
}

static bool version_ge(const struct geth_version *v, unsigned maj,
    unsigned min)
{
	return v->major > maj || (v->major == maj && v->minor >= min);
}

/* "22.7.1" -> 22, 7; false if it is not a number. */
static bool quorum_release(const char *q, unsigned long *maj,
    unsigned long *min)
{
	char *end;

	if (!isdigit((unsigned char)q[0]))
		return false;
	*maj = strtoul(q, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return false;
	*min = strtoul(end + 1, NULL, 10);
	return true;
}

bool launch_qbft_supported(const struct geth_version *v)
{
	unsigned long maj, min;

	/* The genesis "qbft" block came with GoQuorum 22.4 (geth 1.10.2);
	 * 22.1 (geth 1.10.0) ignores it and exits "Consensus not
	 * specified". */
	if (quorum_release(v->quorum, &maj, &min))
		return maj > 22 || (maj == 22 && min >= 4);
	return version_ge(v, 1, 10);
}

/* The GoQuorum release is at least maj.min.patch; -1 if it is unknown. */
static int quorum_ge(const struct geth_version *v, unsigned long maj,
    unsigned long min, unsigned long patch)
{
	unsigned long t[3] = {0, 0, 0};
	const char *p = v->quorum;
	char *end;
	int n = 0;

	/* "22.7.1", "24.4.1-stable", "2.7.0"; a missing patch is 0. */
	while (n < 3 && isdigit((unsigned char)*p)) {
		t[n++] = strtoul(p, &end, 10);
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	if (n < 2)
		return -1;
	return t[0] != maj ? t[0] > maj
	       : t[1] != min ? t[1] > min
			     : t[2] >= patch;
}

enum genesis_form launch_genesis_form_for(const struct geth_version *v)
{
	/*
	 * config.ibft came with GoQuorum 22.4.0, transitions'
	 * contractsizelimit with 22.4.1 (and maxCodeSizeConfig's WARN on
	 * every contract creation). auto takes them from the 22.7 line on;
	 * GENESIS_FORM=current also works on 22.4.1+.
	 */
	return quorum_ge(v, 22, 7, 0) == 1 ? GENESIS_CURRENT : GENESIS_LEGACY;
}

int launch_genesis_form_check(enum genesis_form f,
    const struct geth_version *v, char *why, size_t whylen)
{
	int ge = quorum_ge(v, 22, 4, 1);

	/* The legacy form is read by every release (QBFT's own block aside,
	 * launch_qbft_supported); an unknown 1.10+ build is given the
	 * benefit of the doubt. */
	if (f != GENESIS_CURRENT || ge == 1 || (ge < 0 && version_ge(v, 1, 10)))
		return 0;
	snprintf(why, whylen, "the current genesis form (config.ibft, "
	    "transitions[].contractsizelimit) needs GoQuorum 22.4.1 or later, "
	    "and this geth is %u.%u.%u (Quorum %s)", v->major, v->minor,
	    v->patch, v->quorum[0] ? v->quorum : "unknown");
	return -ENOTSUP;
}

/*
 * RPC_VHOSTS' default: localhost and every name this node is reached by:
 * <prefix><i>, then that name and the domain each cut after one more label
 * (StatefulSet: quorum-0.quorum, quorum-0.quorum.ns, ..., and quorum,
 * quorum.ns, ... for the headless Service). geth serves any IP address
 * whatever the list holds; names are what DNS rebinding would use.
 */
static int default_vhosts(const struct settings *s, char *out, size_t len)
{
	const char *d = s->node_domain;
	size_t off = 0;
	int w, pass;

	w = snprintf(out, len, "localhost,%s%u", s->node_prefix,
	    s->node_ordinal);
	if (w < 0 || (size_t)w >= len)
		return -E2BIG;
	off = (size_t)w;
	for (pass = 0; pass < 2 && d[0] != '\0'; pass++) {
		size_t cut = 0;

		do {
			cut += strcspn(d + cut, ".");
			if (pass == 0)
				w = snprintf(out + off, len - off, ",%s%u.%.*s",
				    s->node_prefix, s->node_ordinal, (int)cut,
				    d);
			else
				w = snprintf(out + off, len - off, ",%.*s",
				    (int)cut, d);
			if (w < 0 || (size_t)w >= len - off)
				return -E2BIG;
			off += (size_t)w;
		} while (d[cut++] != '\0');
	}
	return 0;
}

/*
 * RPC flag names: --rpc* up to geth 1.9 (Quorum 2.x), --http* from 1.10
 * (which keeps --rpc, --rpcaddr, --rpcport, --rpcapi, --rpcvhosts and
 * --rpccorsdomain as deprecated aliases, each logging a WARN, and drops
 * --wsaddr, --wsport, --wsapi and --wsorigins).
 */
struct rpc_flags {
	const char *on, *addr, *port, *api, *vhosts, *cors;
	const char *ws_addr, *ws_port, *ws_api, *ws_origins;
};

static const struct rpc_flags rpc_flags_rpc = {"--rpc", "--rpcaddr",
    "--rpcport", "--rpcapi", "--rpcvhosts", "--rpccorsdomain", "--wsaddr",
    "--wsport", "--wsapi", "--wsorigins"};
static const struct rpc_flags rpc_flags_http = {"--http", "--http.addr",
    "--http.port", "--http.api", "--http.vhosts", "--http.corsdomain",
    "--ws.addr", "--ws.port", "--ws.api", "--ws.origins"};

/*
 * What geth serves beyond IPC (README "Security: what a node exposes"):
 * HTTP and WebSocket on RPC_ADDR with RPC_APIS only (IPC, which the
 * daemon uses, serves every API whatever the list), host names checked
 * against RPC_VHOSTS, web pages of other origins refused unless RPC_CORS /
 * WS_ORIGINS name them.
 */
static int add_rpc(const struct settings *s, bool http, struct launch_cmd *c)
{
	const struct rpc_flags *f = http ? &rpc_flags_http : &rpc_flags_rpc;
	char vhosts[2048];
	int r;

	if (s->rpc_vhosts[0] != '\0')
		snprintf(vhosts, sizeof(vhosts), "%s", s->rpc_vhosts);
	else if ((r = default_vhosts(s, vhosts, sizeof(vhosts))) < 0)
		return r;
	if ((r = add(c, "%s", f->on)) < 0 ||
	    (r = add(c, "%s", f->addr)) < 0 ||
	    (r = add(c, "%s", s->rpc_addr)) < 0 ||
	    (r = add(c, "%s", f->port)) < 0 ||
	    (r = add(c, "%u", (unsigned)s->rpc_port)) < 0 ||
	    (r = add(c, "%s", f->api)) < 0 ||
	    (r = add(c, "%s", s->rpc_apis)) < 0 ||
	    (r = add(c, "%s", f->vhosts)) < 0 || (r = add(c, "%s", vhosts)) < 0)
		return r;
	if (s->rpc_cors[0] != '\0' &&
	    ((r = add(c, "%s", f->cors)) < 0 ||
		(r = add(c, "%s", s->rpc_cors)) < 0))
		return r;
	if ((r = add(c, "--ws")) < 0 || (r = add(c, "%s", f->ws_addr)) < 0 ||
	    (r = add(c, "%s", s->rpc_addr)) < 0 ||
	    (r = add(c, "%s", f->ws_port)) < 0 ||
	    (r = add(c, "%u", (unsigned)s->ws_port)) < 0 ||
	    (r = add(c, "%s", f->ws_api)) < 0 ||
	    (r = add(c, "%s", s->rpc_apis)) < 0)
		return r;
	/* Unset, geth takes pages from localhost and its own host name only
	 * (clients that send no Origin, i.e. not browsers, always pass). */
	if (s->ws_origins[0] != '\0' &&
	    ((r = add(c, "%s", f->ws_origins)) < 0 ||
		(r = add(c, "%s", s->ws_origins)) < 0))
		return r;
	return 0;
}

/*
 * UNLOCK=yes: the identity's account, by address (an index makes geth log
 * five WARN lines), for eth_sendTransaction without a signer.
 */
static int add_unlock(const struct settings *s, const struct geth_version *v,
    struct launch_cmd *c)
{
	int r;

	if (!s->unlock)
		return 0;
	if (s->unlock_account[0] == '\0')
		return -EINVAL;
	if ((r = add(c, "--unlock")) < 0 ||
	    (r = add(c, "%s", s->unlock_account)) < 0 ||
	    (r = add(c, "--password")) < 0)
		return r;
	if (s->account_password_file[0] != '\0')
		r = add(c, "%s", s->account_password_file);
	else
		r = add(c, "%s/keys/password", s->data_dir);
	if (r < 0)
		return r;
	/* geth 1.9 refuses to unlock an account while HTTP or WS is open
	 * unless told so; 1.8 (Quorum <= 2.5) does not know the flag. */
	if (version_ge(v, 1, 9) && (r = add(c, "--allow-insecure-unlock")) < 0)
		return r;
	return 0;
}

int launch_geth_cmd(const struct settings *s, const struct geth_version *v,
    struct launch_cmd *c)
{
	bool raft = s->consensus == CONSENSUS_RAFT;
	bool http = version_ge(v, 1, 10);
	int r = 0, w;

	cmd_init(c);
	if (s->consensus == CONSENSUS_QBFT && !launch_qbft_supported(v))
		return -ENOTSUP;
	if ((r = add(c, "%s", geth_bin(s))) < 0 ||
	    (r = add(c, "--datadir")) < 0 ||
	    (r = add(c, "%s/dd", s->data_dir)) < 0 ||
	    (r = add(c, "--nodiscover")) < 0 ||
	    (r = add(c, "--networkid")) < 0 ||
	    (r = add(c, "%lu", s->chain_id)) < 0 ||
	    (r = add(c, "--port")) < 0 ||
	    (r = add(c, "%u", (unsigned)s->p2p_port)) < 0)
		return r;
	if (raft) {
		if ((r = add(c, "--raft")) < 0 ||
		    (r = add(c, "--raftport")) < 0 ||
		    (r = add(c, "%u", (unsigned)s->raft_port)) < 0)
			return r;
		/* Hostnames in raft addresses (Quorum >= 2.4). */
		if (s->address_mode == ADDRESS_DNS &&
		    (r = add(c, "--raftdnsenable")) < 0)
			return r;
		/* A member that joined, or any member with a raft log: its
		 * raft ID, not its place in static-nodes.json. */
		if (s->raft_join > 0 &&
		    ((r = add(c, "--raftjoinexisting")) < 0 ||
			(r = add(c, "%u", s->raft_join)) < 0))
			return r;
	} else {
		/* geth 1.8 (Quorum <= 2.5) only knows --minerthreads. */
		if ((r = add(c, "--mine")) < 0 ||
		    (r = add(c, version_ge(v, 1, 9) ? "--miner.threads"
						    : "--minerthreads")) < 0 ||
		    (r = add(c, "1")) < 0 ||
		    (r = add(c, "--syncmode")) < 0 ||
		    (r = add(c, "full")) < 0)
			return r;
		/*
		 * The legacy genesis block (config.istanbul) has no period,
		 * and geth's default is a consensus rule that changed (1 s
		 * up to GoQuorum 22.7.1, 5 s from 22.7.2): given on every
		 * release, which all honour it (1.10 with a deprecation
		 * WARN). config.ibft and config.qbft carry their own.
		 */
		if (s->consensus == CONSENSUS_ISTANBUL &&
		    s->genesis_form != GENESIS_CURRENT &&
		    ((r = add(c, "--istanbul.blockperiod")) < 0 ||
			(r = add(c, "%u", RENDER_BLOCK_PERIOD_S)) < 0))
			return r;
	}
	if (s->permissioned && (r = add(c, "--permissioned")) < 0)
		return r;
	/* Up to 1.9 geth looks for USB wallets and, in a container, logs
	 * "Failed to enumerate USB devices" at ERROR nine times per start;
	 * 1.10 does not look unless --usb (and WARNs on --nousb). */
	if (!http && (r = add(c, "--nousb")) < 0)
		return r;
	if ((r = add_rpc(s, http, c)) < 0 || (r = add_unlock(s, v, c)) < 0)
		return r;
	if ((r = add_words(c, s->geth_args)) < 0)
		return r;

	if (s->privacy == PRIVACY_NONE) {
		/* "ignore" is not understood by Quorum 2.0.x: leave it unset
		 * there (formats.md §6). */
		if (strncmp(v->quorum, "2.0.", 4) != 0)
			snprintf(c->env, sizeof(c->env), "PRIVATE_CONFIG=ignore");
	} else {
		w = snprintf(c->env, sizeof(c->env), "PRIVATE_CONFIG=%s/%s",
		    s->data_dir, LAUNCH_TM_SOCKET);
		if (w < 0 || (size_t)w >= sizeof(c->env))
			return -E2BIG;
	}
	return 0;
}

static bool env_dropped(const char *e)
{
	return strncmp(e, "PRIVATE_CONFIG=", 15) == 0 ||
	       strncmp(e, "CLUSTER_SECRET=", 15) == 0;
}

int launch_child_env(char *const *base, const char *add_var, char **out,
    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; base != NULL && base[i] != NULL; i++) {
		if (env_dropped(base[i]))
			continue;
		if (n + 1 >= max)
			return -E2BIG;
		out[n++] = base[i];
	}
	if (add_var != NULL && add_var[0] != '\0') {
		if (n + 1 >= max)
			return -E2BIG;
		out[n++] = (char *)(uintptr_t)add_var;
	}
	if (n >= max)
		return -E2BIG;
	out[n] = NULL;
	return 0;
}

/* Appends one shell word, quoted if it needs it. */
static int put_word(char *out, size_t len, size_t *off, const char *w)
{
	bool plain = w[0] != '\0';
	int r;

	for (const char *p = w; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-_./=:,@%+", *p) ==
		    NULL)
			plain = false;
	if (plain) {
		r = snprintf(out + *off, len - *off, "%s", w);
		if (r < 0 || (size_t)r >= len - *off)
			return -ENOSPC;
		*off += (size_t)r;
		return 0;
	}
	if (*off + 1 >= len)
		return -ENOSPC;
	out[(*off)++] = '\'';
	for (const char *p = w; *p != '\0'; p++) {
		const char *piece = *p == '\'' ? "'\\''" : NULL;
		size_t pl = piece != NULL ? strlen(piece) : 1;

		if (*off + pl + 1 >= len)
			return -ENOSPC;
		if (piece != NULL)
			memcpy(out + *off, piece, pl);
		else
			out[*off] = *p;
		*off += pl;
	}
	if (*off + 2 >= len)
		return -ENOSPC;
	out[(*off)++] = '\'';
	out[*off] = '\0';
	return 0;
}

static int put_cmd(char *out, size_t len, size_t *off,
    const struct launch_cmd *c)
{
	int r;

	if (c->env[0] != '\0') {
		if ((r = put_word(out, len, off, c->env)) < 0)
			return r;
		if (*off + 1 >= len)
			return -ENOSPC;
		out[(*off)++] = ' ';
	}
	for (int i = 0; i < c->argc; i++) {
		if (i > 0) {
			if (*off + 1 >= len)
				return -ENOSPC;
			out[(*off)++] = ' ';
		}
		if ((r = put_word(out, len, off, c->argv[i])) < 0)
			return r;
	}
	if (*off + 1 >= len)
		return -ENOSPC;
	out[(*off)++] = '\n';
	out[*off] = '\0';
	return 0;
}

int launch_dry_run(const struct settings *s, const struct geth_version *v,
    bool first_boot, char *out, size_t len)
{
	struct launch_cmd *c;
	size_t off = 0;
	int r;

	if (len == 0)
		return -ENOSPC;
	out[0] = '\0';
	c = malloc(sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	if ((r = launch_version_cmd(s, c)) < 0 ||
	    (r = put_cmd(out, len, &off, c)) < 0)
		goto out;
	if (s->privacy == PRIVACY_TESSERA ||
	    s->privacy == PRIVACY_CONSTELLATION) {
		if ((r = launch_tm_cmd(s, c)) < 0 ||
		    (r = put_cmd(out, len, &off, c)) < 0)
			goto out;
	}
	if (first_boot) {
		if ((r = launch_init_cmd(s, c)) < 0 ||
		    (r = put_cmd(out, len, &off, c)) < 0)
			goto out;
	}
	if ((r = launch_geth_cmd(s, v, c)) < 0 ||
	    (r = put_cmd(out, len, &off, c)) < 0)
		goto out;
	r = 0;
out:
	free(c);
	return r;
}

/* Last non-empty line of a helper's output, for a one-line error. */
static void last_line(const char *out, size_t len, char *buf, size_t blen)
{
	size_t e = len, b;

	buf[0] = '\0';
	if (out == NULL)
		return;
	while (e > 0 && (out[e - 1] == '\n' || out[e - 1] == '\r'))
		e--;
	b = e;
	while (b > 0 && out[b - 1] != '\n')
		b--;
	snprintf(buf, blen, "%.*s", (int)(e - b), out + b);
}

static bool version_cached(const struct settings *s, struct geth_version *v);
static void version_remember(const struct settings *s, const char *out,
    size_t len);

/*
 * Runs `geth version` synchronously, before the event loop runs (dry run,
 * the genesis form): no supervisor yet. Its output is kept in the version
 * cache as launch's own run would.
 */
static int version_sync(const struct settings *s, struct geth_version *v,
    char *why, size_t whylen)
{
	struct launch_cmd *c = malloc(sizeof(*c));
	char out[VERSION_OUT_MAX + 1];
	size_t len = 0;
	int pp[2], st = 0, r = -1;
	uint64_t deadline;
	bool hung = false;
	pid_t pid;

	if (c == NULL || launch_version_cmd(s, c) < 0 || pipe2(pp, O_CLOEXEC))
		goto out;
	pid = fork();
	if (pid == 0) {
		sigset_t empty;
		char **envp;
		size_t n = 0;

		while (environ[n] != NULL)
			n++;
		envp = calloc(n + 1, sizeof(char *));
		if (envp == NULL || launch_child_env(environ, NULL, envp,
					n + 1) < 0)
			_exit(1);
		sigemptyset(&empty);
		sigprocmask(SIG_SETMASK, &empty, NULL);
		dup2(pp[1], STDOUT_FILENO);
		dup2(pp[1], STDERR_FILENO);
		execvpe(c->argv[0], c->argv, envp);
		dprintf(STDERR_FILENO, "%s\n", strerror(errno));
		_exit(127);
	}
	close(pp[1]);
	if (pid < 0) {
		close(pp[0]);
		goto out;
	}
	/* Bounded: this runs before the event loop (the daemon answers
	 * nothing meanwhile), so a geth that hangs is killed. */
	deadline = evloop_now() + VERSION_SYNC_MS;
	for (;;) {
		struct pollfd pfd = {pp[0], POLLIN, 0};
		uint64_t now = evloop_now();
		ssize_t n;
		int pr;

		if (now >= deadline) {
			hung = true;
			break;
		}
		pr = poll(&pfd, 1, (int)(deadline - now));
		if (pr == 0 || (pr < 0 && errno == EINTR))
			continue;
		if (pr < 0)
			break;
		n = read(pp[0], out + len, VERSION_OUT_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == VERSION_OUT_MAX)
			break;
	}
	out[len] = '\0';
	close(pp[0]);
	if (hung)
		(void)kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (hung) {
		snprintf(why, whylen, "`%s version` did not finish within %us",
		    c->argv[0], VERSION_SYNC_MS / 1000);
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		char line[160];

		last_line(out, len, line, sizeof(line));
		snprintf(why, whylen, "`%s version` failed: %s", c->argv[0],
		    line);
		goto out;
	}
	if (launch_parse_geth_version(out, len, v) < 0) {
		snprintf(why, whylen, "`%s version` printed no version",
		    c->argv[0]);
		goto out;
	}
	version_remember(s, out, len);
	r = 0;
out:
	free(c);
	return r;
}

int launch_detect_version(const struct settings *s, struct geth_version *v,
    char *why, size_t whylen)
{
	if (version_cached(s, v))
		return 0;
	return version_sync(s, v, why, whylen);
}

int launch_resolve_genesis_form(struct settings *s, bool check)
{
	struct geth_version v;
	char path[160], why[320] = "", *buf = NULL;
	size_t len = 0;
	int f = -ENOENT;

	/* A genesis on disk is frozen (the network formed, or is forming,
	 * with it): its form decides, not the setting. */
	if (fsutil_path(path, sizeof(path), "%s/genesis.json", s->data_dir) ==
		0 &&
	    fsutil_read_file(path, 4u << 20, &buf, &len) == 0) {
		f = render_genesis_form_of(buf, len);
		free(buf);
	}
	if (f > 0) {
		if (s->genesis_form != GENESIS_AUTO &&
		    s->genesis_form != (enum genesis_form)f)
			log_warn("GENESIS_FORM=%s ignored: %s is in the %s "
				 "form, and a genesis never changes",
			    settings_genesis_form_name(s->genesis_form), path,
			    settings_genesis_form_name((enum genesis_form)f));
		s->genesis_form = (enum genesis_form)f;
		return 0;
	}
	if (s->genesis_form != GENESIS_AUTO && !check)
		return 0;
	if (launch_detect_version(s, &v, why, sizeof(why)) < 0) {
		/* Without a geth to ask: the form every release reads. A
		 * launch will report the geth that cannot run. */
		if (s->genesis_form == GENESIS_AUTO) {
			s->genesis_form = GENESIS_LEGACY;
			log_info("GENESIS_FORM=auto: the legacy genesis form, "
				 "which every release reads (%s)",
			    why[0] ? why : "no geth to ask");
		}
		return 0;
	}
	if (s->genesis_form == GENESIS_AUTO) {
		s->genesis_form = launch_genesis_form_for(&v);
		log_info("GENESIS_FORM=auto: the %s genesis form, for geth "
			 "%u.%u.%u (Quorum %s)",
		    settings_genesis_form_name(s->genesis_form), v.major,
		    v.minor, v.patch, v.quorum[0] ? v.quorum : "unknown");
		return 0;
	}
	if (check && launch_genesis_form_check(s->genesis_form, &v, why,
			 sizeof(why)) < 0) {
		log_error("GENESIS_FORM=%s: %s: set GENESIS_FORM=legacy (or "
			  "auto) on every node",
		    settings_genesis_form_name(s->genesis_form), why);
		return 2;
	}
	return 0;
}

int launch_find_account(const char *data_dir, char out[static 43])
{
	struct dirent **names = NULL;
	char dir[160], path[512], *buf = NULL, err[128];
	uint8_t addr[20];
	size_t len;
	int n, i, r = -ENOENT;

	if (fsutil_path(dir, sizeof(dir), "%s/dd/keystore", data_dir) < 0)
		return -ENAMETOOLONG;
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	/* geth skips hidden files and editor backups too. */
	for (i = 0; i < n && r == -ENOENT; i++) {
		const char *nm = names[i]->d_name;
		struct stat st;

		if (nm[0] == '.' || nm[strlen(nm) - 1] == '~' ||
		    fsutil_path(path, sizeof(path), "%s/%s", dir, nm) < 0 ||
		    lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		r = fsutil_read_file(path, KEYSTORE_MAX, &buf, &len);
		if (r < 0)
			continue;
		if (keystore_address(buf, len, addr, err, sizeof(err)) == 0)
			ethkey_checksum_hex(addr, out);
		else
			r = -EINVAL;
		free(buf);
		buf = NULL;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static void log_no_qbft(const struct settings *s,
    const struct geth_version *v)
{
	log_error("CONSENSUS=qbft needs GoQuorum 22.4 or later, but `%s "
		  "version` says Quorum %s (geth %u.%u.%u): use "
		  "CONSENSUS=istanbul or raft, or a newer GoQuorum",
	    geth_bin(s), v->quorum[0] ? v->quorum : "unknown", v->major,
	    v->minor, v->patch);
}

int launch_print_dry_run(const struct settings *s, FILE *f)
{
	struct geth_version v;
	struct settings *tmp;
	char why[256] = "cannot run geth", path[192], *out = NULL;
	struct stat st;
	int r = 1;

	/* A private copy only to resolve PRIVACY=auto; holds the secret, so
	 * it is wiped. */
	tmp = malloc(sizeof(*tmp));
	if (tmp == NULL)
		return 1;
	*tmp = *s;
	tmp->privacy = launch_resolve_privacy(s);
	if (version_sync(tmp, &v, why, sizeof(why)) < 0) {
		log_error("%s", why);
		goto out;
	}
	if (s->consensus == CONSENSUS_QBFT && !launch_qbft_supported(&v)) {
		log_no_qbft(s, &v);
		r = 2;
		goto out;
	}
	if (s->unlock) {
		int e = launch_find_account(s->data_dir, tmp->unlock_account);

		if (e == -ENOENT) {
			snprintf(tmp->unlock_account,
			    sizeof(tmp->unlock_account),
			    "<the account made at first start>");
		} else if (e < 0) {
			log_error("cannot read the account in %s/dd/keystore: "
				  "%s", s->data_dir, strerror(-e));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/%s", s->data_dir, INIT_DONE);
	out = malloc(65536);
	if (out == NULL)
		goto out;
	if (launch_dry_run(tmp, &v, stat(path, &st) != 0, out, 65536) < 0) {
		log_error("cannot render the command lines");
		goto out;
	}
	fputs(out, f);
	r = 0;
out:
	explicit_bzero(tmp, sizeof(*tmp));
	free(tmp);
	free(out);
	return r;
}

/*
 * execvp's view: the file `name` runs from PATH (or as a path), into out
 * (NULL: only whether there is one).
 */
static bool find_on_path(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/') != NULL) {
		if (out != NULL)
			snprintf(out, outlen, "%s", name);
		return access(name, X_OK) == 0;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");
		int w = snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path,
		    name);

		if (w > 0 && (size_t)w < sizeof(buf) &&
		    access(buf, X_OK) == 0) {
			if (out != NULL)
				snprintf(out, outlen, "%s", buf);
			return true;
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

static bool on_path(const char *name)
{
	return find_on_path(name, NULL, 0);
}

enum privacy launch_resolve_privacy(const struct settings *s)
{
	if (s->privacy != PRIVACY_AUTO)
		return s->privacy;
	if (s->tm_bin[0] != '\0') {
		const char *b = strrchr(s->tm_bin, '/');

		b = b != NULL ? b + 1 : s->tm_bin;
		return strstr(b, "constellation") != NULL
			   ? PRIVACY_CONSTELLATION
			   : PRIVACY_TESSERA;
	}
	if (on_path("tessera"))
		return PRIVACY_TESSERA;
	if (on_path("constellation-node"))
		return PRIVACY_CONSTELLATION;
	return PRIVACY_NONE;
}

/* ------------------------------------------------------------------ */
/* The asynchronous sequence                                           */
/* ------------------------------------------------------------------ */

enum phase {
	PH_IDLE = 0,
	PH_VERSION,
	PH_TM_WAIT,
	PH_INIT,
	PH_GETH,
	PH_RUNNING,
	PH_FAILED,
};

struct launch {
	struct evloop *l;
	struct supervisor *sup;
	const struct settings *s;
	struct launch_events ev;
	void *arg;
	enum phase phase;
	struct geth_version v;
	unsigned tm_timeout_s;
	long timer;
	int fd;           /* /upcheck connection, -1 */
	bool fd_watched;
	bool sent;
	char rbuf[256];
	size_t rlen;
	uint64_t t0, deadline, attempt_deadline;
	int last_status;  /* last /upcheck status, 0 = none yet */
	int last_err;     /* last connect errno */
	char state[192];
	struct launch_cmd cmd;
	char **envp;
};

static void step_tm(struct launch *lh);
static void h2_hint(const struct launch *lh, char *out, size_t len);
static void step_init(struct launch *lh);
static void step_geth(struct launch *lh);

static void set_state(struct launch *lh, const char *fmt, ...)
    PEERD_PRINTF(2, 3);

static void set_state(struct launch *lh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lh->state, sizeof(lh->state), fmt, ap);
	va_end(ap);
}

static void conn_close(struct launch *lh)
{
	if (lh->fd < 0)
		return;
	if (lh->fd_watched)
		evloop_unwatch(lh->l, lh->fd);
	close(lh->fd);
	lh->fd = -1;
	lh->fd_watched = false;
	lh->sent = false;
	lh->rlen = 0;
}

static void cancel_timer(struct launch *lh)
{
	if (lh->timer > 0)
		evloop_timer_cancel(lh->l, lh->timer);
	lh->timer = 0;
}

static bool stopped(struct launch *lh)
{
	if (!supervisor_stopping(lh->sup))
		return false;
	/* A stop is under way: the supervisor owns what happens next. */
	conn_close(lh);
	cancel_timer(lh);
	if (lh->phase != PH_RUNNING && lh->phase != PH_FAILED)
		set_state(lh, "stopping");
	return true;
}

static void fail(struct launch *lh, int code)
{
	conn_close(lh);
	cancel_timer(lh);
	lh->phase = PH_FAILED;
	if (lh->ev.failed != NULL)
		lh->ev.failed(lh->arg, code);
}

static int exec_code(int err)
{
	if (err == -ENOENT)
		return 127;
	if (err == -EACCES || err == -ENOEXEC)
		return 126;
	return 1;
}

static int make_env(struct launch *lh, const char *add_var)
{
	size_t n = 0;

	while (environ != NULL && environ[n] != NULL)
		n++;
	free(lh->envp);
	lh->envp = calloc(n + 2, sizeof(char *));
	if (lh->envp == NULL)
		return -ENOMEM;
	return launch_child_env(environ, add_var, lh->envp, n + 2);
}

static void log_cannot_start(const char *name, const char *path, int err)
{
	log_error("cannot start %s (%s): %s", name, path, strerror(-err));
}

/*
 * `geth version` costs a process start (about 50 ms for Quorum's geth): a
 * restart would pay it before geth itself starts. Its output is kept in
 * DATA_DIR/geth-version under a first line naming the executable it came
 * from (path, device, inode, size, mtime), and used while that line still
 * matches: an upgraded image has a new file there.
 */
#define VERSION_CACHE "geth-version"

static int version_key(const struct settings *s, char *key, size_t len)
{
	char path[4096];
	struct stat st;
	int w;

	if (!find_on_path(geth_bin(s), path, sizeof(path)) ||
	    stat(path, &st) < 0 || strchr(path, '\n') != NULL)
		return -ENOENT;
	w = snprintf(key, len, "%s %ju %ju %jd %jd.%09ld\n", path,
	    (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
	    (intmax_t)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	return w < 0 || (size_t)w >= len ? -ENAMETOOLONG : 0;
}

static bool version_cached(const struct settings *s, struct geth_version *v)
{
	char key[4300], path[256], *buf = NULL;
	size_t len, kl;
	bool hit = false;

	if (version_key(s, key, sizeof(key)) < 0 ||
	    fsutil_path(path, sizeof(path), "%s/%s", s->data_dir,
	    VERSION_CACHE) < 0 ||
	    fsutil_read_file(path, VERSION_OUT_MAX + sizeof(key), &buf,
	    &len) < 0)
		return false;
	kl = strlen(key);
	if (len > kl && memcmp(buf, key, kl) == 0 &&
	    launch_parse_geth_version(buf + kl, len - kl, v) == 0)
		hit = true;
	free(buf);
	return hit;
}

static void version_remember(const struct settings *s, const char *out,
    size_t len)
{
	char key[4300], path[256], *buf;
	size_t kl;

	if (version_key(s, key, sizeof(key)) < 0 ||
	    fsutil_path(path, sizeof(path), "%s/%s", s->data_dir,
	    VERSION_CACHE) < 0)
		return;
	kl = strlen(key);
	buf = malloc(kl + len);
	if (buf == NULL)
		return;
	memcpy(buf, key, kl);
	memcpy(buf + kl, out, len);
	/* A cache: failing to keep it only costs the next start 50 ms. */
	if (fsutil_write_atomic_path(path, buf, kl + len, 0644) < 0)
		log_debug("cannot keep geth's version in %s", path);
	free(buf);
}

static void version_known(struct launch *lh)
{
	log_info("geth %u.%u.%u (Quorum %s): using --%s flags", lh->v.major,
	    lh->v.minor, lh->v.patch, lh->v.quorum[0] ? lh->v.quorum : "?",
	    version_ge(&lh->v, 1, 10) ? "http" : "rpc");
	/* Before the TM starts: this geth would take the genesis and then
	 * exit "Consensus not specified". A setting this release cannot
	 * honour: 2, as for any bad setting. */
	if (lh->s->consensus == CONSENSUS_QBFT &&
	    !launch_qbft_supported(&lh->v)) {
		log_no_qbft(lh->s, &lh->v);
		fail(lh, 2);
		return;
	}
	/* A genesis this geth would misread (an image older than the one
	 * the network formed with): its chain would not be the others'. */
	{
		char why[320];

		if (launch_genesis_form_check(lh->s->genesis_form, &lh->v, why,
			sizeof(why)) < 0) {
			log_error("%s/genesis.json: %s: run a newer GoQuorum",
			    lh->s->data_dir, why);
			fail(lh, 1);
			return;
		}
	}
	if (lh->s->privacy == PRIVACY_TESSERA ||
	    lh->s->privacy == PRIVACY_CONSTELLATION)
		step_tm(lh);
	else
		step_init(lh);
}

static void on_version(void *arg, int code, const char *out, size_t len)
{
	struct launch *lh = arg;
	char line[200];

	if (stopped(lh))
		return;
	if (code != 0) {
		last_line(out, len, line, sizeof(line));
		log_error("`%s version` failed (exit %d)%s%s", geth_bin(lh->s),
		    code, line[0] ? ": " : "", line);
		fail(lh, 1);
		return;
	}
	if (launch_parse_geth_version(out, len, &lh->v) < 0) {
		log_error("cannot parse the output of `%s version` (no "
			  "\"Version: X.Y.Z\" line)",
		    geth_bin(lh->s));
		fail(lh, 1);
		return;
	}
	version_remember(lh->s, out, len);
	version_known(lh);
}

static void step_version(void *arg)
{
	struct launch *lh = arg;
	int r;

	lh->timer = 0;
	if (stopped(lh))
		return;
	lh->phase = PH_VERSION;
	set_state(lh, "detecting the geth version");
	if (version_cached(lh->s, &lh->v)) {
		version_known(lh);
		return;
	}
	r = launch_version_cmd(lh->s, &lh->cmd);
	if (r == 0)
		r = make_env(lh, NULL);
	if (r == 0)
		r = supervisor_run_helper(lh->sup, "geth version",
		    lh->cmd.argv, lh->envp, true, VERSION_OUT_MAX, on_version,
		    lh);
	if (r < 0) {
		log_cannot_start("geth", lh->cmd.argv[0] ? lh->cmd.argv[0]
							 : "geth",
		    r);
		fail(lh, exec_code(r));
	}
}

static void tm_poll(void *arg);

static void schedule_poll(struct launch *lh, unsigned ms)
{
	cancel_timer(lh);
	lh->timer = evloop_timer(lh->l, evloop_now() + ms, tm_poll, lh);
	if (lh->timer < 0) {
		log_error("cannot arm a timer: %s", strerror((int)-lh->timer));
		lh->timer = 0;
		fail(lh, 1);
	}
}

static void tm_up(struct launch *lh)
{
	log_info("%s is up (/upcheck 200 after %.1fs)", launch_tm_name(lh->s),
	    (double)(evloop_now() - lh->t0) / 1000.0);
	conn_close(lh);
	cancel_timer(lh);
	step_init(lh);
}

static void on_conn(void *arg, int fd, uint32_t revents)
{
	static const char req[] = "GET /upcheck HTTP/1.1\r\nHost: c\r\n"
				  "Connection: close\r\n\r\n";
	struct launch *lh = arg;

	if (stopped(lh))
		return;
	if (!lh->sent) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
		    soerr != 0) {
			lh->last_err = soerr;
			conn_close(lh);
			schedule_poll(lh, POLL_MS);
			return;
		}
		/* The request is tiny: one send on a fresh socket. */
		if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)(sizeof(req) - 1)) {
			lh->last_err = errno;
			conn_close(lh);
			schedule_poll(lh, POLL_MS);
			return;
		}
		lh->sent = true;
		if (evloop_modify(lh->l, fd, EPOLLIN) < 0) {
			conn_close(lh);
			schedule_poll(lh, POLL_MS);
		}
		return;
	}
	(void)revents;
	bool eof = false;

	for (;;) {
		ssize_t r = read(fd, lh->rbuf + lh->rlen,
		    sizeof(lh->rbuf) - 1 - lh->rlen);

		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0) {
			lh->rlen += (size_t)r;
			if (lh->rlen < sizeof(lh->rbuf) - 1)
				continue;
		} else if (r == 0 || errno != EAGAIN) {
			eof = true;
		}
		break;
	}
	lh->rbuf[lh->rlen] = '\0';
	/* Only the status line matters; wait until it is complete. */
	if (strchr(lh->rbuf, '\n') == NULL && !eof &&
	    lh->rlen < sizeof(lh->rbuf) - 1)
		return;
	{
		int major, minor, status = 0;

		if (sscanf(lh->rbuf, "HTTP/%d.%d %d", &major, &minor,
			&status) != 3)
			status = -1;
		lh->last_status = status;
		if (status == 200) {
			tm_up(lh);
			return;
		}
	}
	conn_close(lh);
	schedule_poll(lh, POLL_MS * 5);
}

static void tm_poll(void *arg)
{
	struct launch *lh = arg;
	struct sockaddr_un sa;
	uint64_t now = evloop_now();
	int fd, r;

	lh->timer = 0;
	if (stopped(lh))
		return;
	if (now >= lh->deadline) {
		char why[96], hint[512];

		if (lh->last_status > 0)
			snprintf(why, sizeof(why),
			    "its /upcheck answered %d, not 200",
			    lh->last_status);
		else if (lh->last_status < 0)
			snprintf(why, sizeof(why),
			    "its /upcheck answer was not HTTP");
		else
			snprintf(why, sizeof(why), "last error: %s",
			    strerror(lh->last_err ? lh->last_err : ENOENT));
		h2_hint(lh, hint, sizeof(hint));
		log_error("%s did not answer on %s/%s within %us (%s): %s",
		    launch_tm_name(lh->s), lh->s->data_dir, LAUNCH_TM_SOCKET,
		    lh->tm_timeout_s, why, hint[0] ? hint :
		    "if it only starts slowly, raise TM_START_TIMEOUT");
		fail(lh, 1);
		return;
	}
	if (lh->fd >= 0) {
		/* An attempt is under way; give up on it if it is stuck. */
		if (now < lh->attempt_deadline) {
			schedule_poll(lh, POLL_MS);
			return;
		}
		lh->last_err = ETIMEDOUT;
		conn_close(lh);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	r = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s",
	    lh->s->data_dir, LAUNCH_TM_SOCKET);
	if (r < 0 || (size_t)r >= sizeof(sa.sun_path)) {
		log_error("TM socket path %s/%s is longer than %zu bytes",
		    lh->s->data_dir, LAUNCH_TM_SOCKET, sizeof(sa.sun_path) - 1);
		fail(lh, 1);
		return;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		lh->last_err = errno;
		schedule_poll(lh, POLL_MS);
		return;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
	    errno != EINPROGRESS && errno != EAGAIN) {
		lh->last_err = errno; /* ENOENT, ECONNREFUSED: not yet */
		close(fd);
		schedule_poll(lh, POLL_MS);
		return;
	}
	lh->fd = fd;
	lh->sent = false;
	lh->rlen = 0;
	lh->attempt_deadline = now + ATTEMPT_MS;
	if (evloop_watch(lh->l, fd, EPOLLOUT, on_conn, lh) < 0) {
		close(fd);
		lh->fd = -1;
		schedule_poll(lh, POLL_MS);
		return;
	}
	lh->fd_watched = true;
	schedule_poll(lh, POLL_MS); /* deadline checks while connected */
}

int launch_h2_format(const char *head, size_t len)
{
	const char *end = memchr(head, '\n', len), *p = head;
	size_t n = end != NULL ? (size_t)(end - head) : len;

	/* The MVStore header's first line: "H:2,block:..,format:1,..". */
	if (n < 4 || memcmp(head, "H:2,", 4) != 0)
		return -EINVAL;
	while (p < head + n) {
		const char *comma = memchr(p, ',', (size_t)(head + n - p));
		size_t fl = comma != NULL ? (size_t)(comma - p)
					  : (size_t)(head + n - p);

		if (fl > 7 && fl < 12 && memcmp(p, "format:", 7) == 0) {
			int v = 0;

			for (size_t i = 7; i < fl; i++) {
				if (!isdigit((unsigned char)p[i]))
					return -EINVAL;
				v = v * 10 + (p[i] - '0');
			}
			return v;
		}
		p += fl + 1;
	}
	return -EINVAL;
}

/*
 * Tessera 22 moved to H2 2.x, which cannot open the H2 1.4 database
 * (format 1) that Tessera 21.x and older left in DATA_DIR/tm/db: it fails
 * with "The write format 1 is smaller than the supported format 2". The
 * daemon does not see Tessera's output, so it reads the database's header
 * when Tessera dies or times out before answering. "" if that is not it.
 */
static void h2_hint(const struct launch *lh, char *out, size_t len)
{
	char path[160], head[512];
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	if (lh->s->privacy != PRIVACY_TESSERA ||
	    fsutil_path(path, sizeof(path), "%s/tm/db.mv.db",
		lh->s->data_dir) < 0)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, head, sizeof(head));
		close(fd);
	}
	if (n <= 0 || launch_h2_format(head, (size_t)n) != 1)
		return;
	snprintf(out, len, "%s is an H2 1.4 database (Tessera 21.x and "
	    "older), which Tessera 22 and newer cannot open (H2: \"The "
	    "write format 1 is smaller than the supported format 2\"): "
	    "migrate it (Tessera's ddls/scripts/h2-upgrade.sh, then "
	    "ddls/add-codec) or run the Tessera that made it", path);
}

/* A TM that dies before it answered: why, if the daemon can tell. */
static void on_death(void *arg, const char *name, int code)
{
	struct launch *lh = arg;
	char hint[512];

	if (lh->phase != PH_TM_WAIT || strcmp(name, launch_tm_name(lh->s)))
		return;
	h2_hint(lh, hint, sizeof(hint));
	if (hint[0] != '\0')
		log_error("%s exited (code %d) before it answered: %s", name,
		    code, hint);
}

static void step_tm(struct launch *lh)
{
	char path[160];
	struct stat st;
	pid_t pid;
	int r;

	/* Settings and render refuse it too; this is the node whose address
	 * was detected, restarted from its record. */
	if (lh->s->privacy == PRIVACY_CONSTELLATION &&
	    strchr(lh->s->node_ip, ':') != NULL) {
		log_error("this node's address %s is IPv6 and Constellation "
			  "listens on IPv4 only: use an IPv4 address or "
			  "PRIVACY=tessera",
		    lh->s->node_ip);
		fail(lh, 2);
		return;
	}
	lh->phase = PH_TM_WAIT;
	set_state(lh, "starting %s", launch_tm_name(lh->s));
	/* The TM creates its socket in DATA_DIR/tm; a socket left by an
	 * earlier run would only make us poll a dead end. */
	snprintf(path, sizeof(path), "%s/tm", lh->s->data_dir);
	(void)mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s", lh->s->data_dir,
	    LAUNCH_TM_SOCKET);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	r = launch_tm_cmd(lh->s, &lh->cmd);
	if (r == 0)
		r = make_env(lh, NULL);
	if (r == 0)
		r = supervisor_spawn(lh->sup, launch_tm_name(lh->s),
		    lh->cmd.argv, lh->envp, &pid);
	if (r < 0) {
		log_cannot_start(launch_tm_name(lh->s), launch_tm_bin(lh->s),
		    r);
		fail(lh, exec_code(r));
		return;
	}
	set_state(lh, "waiting for %s on %s", launch_tm_name(lh->s), path);
	lh->t0 = evloop_now();
	lh->deadline = lh->t0 + (uint64_t)lh->tm_timeout_s * 1000;
	lh->last_status = 0;
	lh->last_err = 0;
	schedule_poll(lh, POLL_MS);
}

/*
 * First boot is decided by this file, written once `geth init` exited 0,
 * not by dd/geth/chaindata: geth init makes that directory before it
 * writes the genesis, and a node killed in between (OOM, SIGKILL, a drain)
 * would otherwise skip init for ever and geth write the mainnet genesis.
 * geth init on a chain that already holds the same genesis changes nothing
 * (an older data dir without the file is initialised once more); a
 * different one it refuses.
 */
static void on_init(void *arg, int code, const char *out, size_t len)
{
	struct launch *lh = arg;
	char line[200], path[256];

	if (stopped(lh))
		return;
	if (code != 0) {
		last_line(out, len, line, sizeof(line));
		log_error("geth init failed (exit %d)%s%s", code,
		    line[0] ? ": " : "", line);
		fail(lh, 1);
		return;
	}
	log_info("geth init done (%s/genesis.json)", lh->s->data_dir);
	if (fsutil_path(path, sizeof(path), "%s/%s", lh->s->data_dir,
	    INIT_DONE) < 0 ||
	    fsutil_write_atomic_path(path, "initialised\n", 12, 0644) < 0) {
		log_error("cannot write %s: the next start would run geth "
		    "init again", path);
		fail(lh, 1);
		return;
	}
	step_geth(lh);
}

static void step_init(struct launch *lh)
{
	char path[192];
	struct stat st;
	int r;

	snprintf(path, sizeof(path), "%s/%s", lh->s->data_dir, INIT_DONE);
	if (stat(path, &st) == 0) {
		step_geth(lh);
		return;
	}
	lh->phase = PH_INIT;
	set_state(lh, "initialising the chain (geth init)");
	r = launch_init_cmd(lh->s, &lh->cmd);
	if (r == 0)
		r = make_env(lh, NULL);
	/* Captured: geth's log lines must not mix into ours (JSON logs). */
	if (r == 0)
		r = supervisor_run_helper(lh->sup, "geth init", lh->cmd.argv,
		    lh->envp, true, INIT_OUT_MAX, on_init, lh);
	if (r < 0) {
		log_cannot_start("geth", geth_bin(lh->s), r);
		fail(lh, exec_code(r));
	}
}

static void step_geth(struct launch *lh)
{
	const struct settings *s = lh->s;
	struct settings *t = NULL;
	pid_t pid;
	int r;

	lh->phase = PH_GETH;
	set_state(lh, "starting geth");
	if (s->unlock && s->unlock_account[0] == '\0') {
		/* The builder is pure: a private copy carries the address
		 * (it holds the secret too, so it is wiped). */
		t = malloc(sizeof(*t));
		if (t == NULL) {
			log_error("cannot start geth: out of memory");
			fail(lh, 1);
			return;
		}
		*t = *s;
		r = launch_find_account(s->data_dir, t->unlock_account);
		if (r < 0) {
			log_error("cannot find the account to unlock in "
				  "%s/dd/keystore: %s (UNLOCK=no starts geth "
				  "without one)",
			    s->data_dir, strerror(-r));
			explicit_bzero(t, sizeof(*t));
			free(t);
			fail(lh, 1);
			return;
		}
		s = t;
	}
	log_info("geth RPC: %s over HTTP %s:%u and WebSocket %s:%u, every API "
		 "over IPC; %s%s", s->rpc_apis, s->rpc_addr,
	    (unsigned)s->rpc_port, s->rpc_addr, (unsigned)s->ws_port,
	    s->unlock ? "unlocked account " : "no account unlocked",
	    s->unlock ? s->unlock_account : "");
	r = launch_geth_cmd(s, &lh->v, &lh->cmd);
	if (t != NULL) {
		explicit_bzero(t, sizeof(*t));
		free(t);
	}
	if (r == 0)
		r = make_env(lh, lh->cmd.env);
	if (r == 0)
		r = supervisor_spawn(lh->sup, "geth", lh->cmd.argv, lh->envp,
		    &pid);
	if (r < 0) {
		log_cannot_start("geth", geth_bin(lh->s), r);
		fail(lh, exec_code(r));
		return;
	}
	supervisor_launched(lh->sup);
	lh->phase = PH_RUNNING;
	set_state(lh, "running");
	if (lh->ev.ready != NULL)
		lh->ev.ready(lh->arg);
}

struct launch *launch_new(struct evloop *l, struct supervisor *sup,
    const struct settings *s, const struct launch_events *ev, void *arg)
{
	struct launch *lh = calloc(1, sizeof(*lh));

	if (lh == NULL)
		return NULL;
	lh->l = l;
	lh->sup = sup;
	lh->s = s;
	if (ev != NULL)
		lh->ev = *ev;
	lh->arg = arg;
	lh->fd = -1;
	lh->tm_timeout_s = s->tm_start_timeout > 0 ? s->tm_start_timeout
						   : LAUNCH_TM_TIMEOUT_S;
	set_state(lh, "not started");
	supervisor_watch_deaths(sup, on_death, lh);
	return lh;
}

void launch_set_tm_timeout(struct launch *lh, unsigned secs)
{
	lh->tm_timeout_s = secs;
}

void launch_free(struct launch *lh)
{
	if (lh == NULL)
		return;
	conn_close(lh);
	cancel_timer(lh);
	supervisor_watch_deaths(lh->sup, NULL, NULL);
	free(lh->envp);
	free(lh);
}

int launch_start(struct launch *lh)
{
	if (lh->s->privacy == PRIVACY_AUTO)
		return -EINVAL;
	if (lh->phase != PH_IDLE)
		return -EALREADY;
	/* From the loop, so ready()/failed() never run inside this call. */
	lh->timer = evloop_timer(lh->l, evloop_now(), step_version, lh);
	if (lh->timer < 0) {
		long e = lh->timer;

		lh->timer = 0;
		return (int)e;
	}
	lh->phase = PH_VERSION;
	set_state(lh, "detecting the geth version");
	return 0;
}

const char *launch_state(const struct launch *lh)
{
	return lh->state;
}
