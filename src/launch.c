/*
 * Launch (DESIGN §9): `geth version` -> the TM -> its IPC socket answers
 * GET /upcheck 200 -> `geth init` on first boot -> geth. Every step is
 * asynchronous on the event loop; the command lines come from pure builders.
 */
#include "peerd/launch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

#include "peerd/fsutil.h"
#include "peerd/log.h"

extern char **environ;

#define API_COMMON "admin,eth,debug,miner,net,txpool,personal,web3,quorum"
#define POLL_MS 100
#define ATTEMPT_MS 5000
#define VERSION_OUT_MAX 8192
#define INIT_OUT_MAX 65536
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
		break;
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

/* RPC flag names: --rpc* up to geth 1.9 (Quorum 2.x), --http* from 1.10. */
struct rpc_flags {
	const char *on, *addr, *port, *api, *vhosts;
	const char *ws_addr, *ws_port, *ws_api, *ws_origins;
};

static const struct rpc_flags rpc_flags_rpc = {"--rpc", "--rpcaddr",
    "--rpcport", "--rpcapi", "--rpcvhosts", "--wsaddr", "--wsport",
    "--wsapi", "--wsorigins"};
static const struct rpc_flags rpc_flags_http = {"--http", "--http.addr",
    "--http.port", "--http.api", "--http.vhosts", "--ws.addr", "--ws.port",
    "--ws.api", "--ws.origins"};

int launch_geth_cmd(const struct settings *s, const struct geth_version *v,
    struct launch_cmd *c)
{
	bool raft = s->consensus == CONSENSUS_RAFT;
	bool http = version_ge(v, 1, 10); /* --rpc* removed in 1.10 */
	const struct rpc_flags *f;
	char api[160];
	int r = 0, w;

	cmd_init(c);
	w = snprintf(api, sizeof(api), "%s,%s", API_COMMON,
	    raft ? "raft" : "istanbul");
	if (w < 0 || (size_t)w >= sizeof(api))
		return -E2BIG;
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
		/* 1.10+ (GoQuorum 22+) takes the period from the genesis. */
		if (!http && ((r = add(c, "--istanbul.blockperiod")) < 0 ||
				 (r = add(c, "5")) < 0))
			return r;
	}
	if (s->permissioned && (r = add(c, "--permissioned")) < 0)
		return r;
	f = http ? &rpc_flags_http : &rpc_flags_rpc;
	if ((r = add(c, "%s", f->on)) < 0 ||
	    (r = add(c, "%s", f->addr)) < 0 || (r = add(c, "0.0.0.0")) < 0 ||
	    (r = add(c, "%s", f->port)) < 0 ||
	    (r = add(c, "%u", (unsigned)s->rpc_port)) < 0 ||
	    (r = add(c, "%s", f->api)) < 0 || (r = add(c, "%s", api)) < 0 ||
	    (r = add(c, "%s", f->vhosts)) < 0 || (r = add(c, "*")) < 0 ||
	    (r = add(c, "--ws")) < 0 ||
	    (r = add(c, "%s", f->ws_addr)) < 0 ||
	    (r = add(c, "0.0.0.0")) < 0 ||
	    (r = add(c, "%s", f->ws_port)) < 0 ||
	    (r = add(c, "%u", (unsigned)s->ws_port)) < 0 ||
	    (r = add(c, "%s", f->ws_api)) < 0 || (r = add(c, "%s", api)) < 0 ||
	    (r = add(c, "%s", f->ws_origins)) < 0 || (r = add(c, "*")) < 0)
		return r;
	if ((r = add(c, "--unlock")) < 0 || (r = add(c, "0")) < 0 ||
	    (r = add(c, "--password")) < 0)
		return r;
	if (s->account_password_file[0] != '\0')
		r = add(c, "%s", s->account_password_file);
	else
		r = add(c, "%s/keys/password", s->data_dir);
	if (r < 0)
		return r;
	/* geth 1.9 refuses to unlock an account while HTTP is open unless
	 * told so; 1.8 (Quorum <= 2.5) does not know the flag. */
	if (version_ge(v, 1, 9) && (r = add(c, "--allow-insecure-unlock")) < 0)
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

/* Runs `geth version` synchronously (dry run only: no supervisor yet). */
static int version_sync(const struct settings *s, struct geth_version *v,
    char *why, size_t whylen)
{
	struct launch_cmd *c = malloc(sizeof(*c));
	char out[VERSION_OUT_MAX + 1];
	size_t len = 0;
	int pp[2], st = 0, r = -1;
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
	for (;;) {
		ssize_t n = read(pp[0], out + len, VERSION_OUT_MAX - len);

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
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
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
	r = 0;
out:
	free(c);
	return r;
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

static bool version_cached(struct launch *lh)
{
	char key[4300], path[256], *buf = NULL;
	size_t len, kl;
	bool hit = false;

	if (version_key(lh->s, key, sizeof(key)) < 0 ||
	    fsutil_path(path, sizeof(path), "%s/%s", lh->s->data_dir,
	    VERSION_CACHE) < 0 ||
	    fsutil_read_file(path, VERSION_OUT_MAX + sizeof(key), &buf,
	    &len) < 0)
		return false;
	kl = strlen(key);
	if (len > kl && memcmp(buf, key, kl) == 0 &&
	    launch_parse_geth_version(buf + kl, len - kl, &lh->v) == 0)
		hit = true;
	free(buf);
	return hit;
}

static void version_remember(struct launch *lh, const char *out, size_t len)
{
	char key[4300], path[256], *buf;
	size_t kl;

	if (version_key(lh->s, key, sizeof(key)) < 0 ||
	    fsutil_path(path, sizeof(path), "%s/%s", lh->s->data_dir,
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
	version_remember(lh, out, len);
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
	if (version_cached(lh)) {
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
		char why[96];

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
		log_error("%s did not answer on %s/%s within %us (%s)",
		    launch_tm_name(lh->s), lh->s->data_dir, LAUNCH_TM_SOCKET,
		    lh->tm_timeout_s, why);
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

static void step_tm(struct launch *lh)
{
	char path[160];
	struct stat st;
	pid_t pid;
	int r;

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
	pid_t pid;
	int r;

	lh->phase = PH_GETH;
	set_state(lh, "starting geth");
	r = launch_geth_cmd(lh->s, &lh->v, &lh->cmd);
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
	lh->tm_timeout_s = LAUNCH_TM_TIMEOUT_S;
	set_state(lh, "not started");
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
