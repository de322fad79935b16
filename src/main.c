/*
 * quorum-peerd: subcommands and exit codes; the modules do the work.
 *
 * Exit codes: 0 ok; 1 runtime failure; 2 bad settings or usage; for `run`
 * the supervised child's status (N, or 128+signal), 126/127 for exec
 * failures (README, "Exit codes").
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "peerd/fsutil.h"
#include "peerd/identity.h"
#include "peerd/launch.h"
#include "peerd/log.h"
#include "peerd/node.h"
#include "peerd/peerdoc.h"
#include "peerd/probe.h"
#include "peerd/settings.h"
#include "peerd/supervisor.h"

extern char **environ;

static void usage(FILE *f)
{
	char buf[8192];

	settings_usage(buf, sizeof(buf));
	fprintf(f,
	    "usage: quorum-peerd [run] [--check] [--dry-run] [options]\n"
	    "       quorum-peerd identity [--data-dir D] [options]\n"
	    "       quorum-peerd render --data-dir D [options] ENV.JSON...\n"
	    "       quorum-peerd probe URL\n"
	    "       quorum-peerd version | help\n\n"
	    "run       the container entrypoint: identity, HTTP server, peer\n"
	    "          discovery, configs, then the TM and geth, supervised\n"
	    "identity  create this node's identity in DATA_DIR if absent and\n"
	    "          print its public part as JSON\n"
	    "render    write every config from the peers' documents on disk\n"
	    "probe     HTTP GET; exit 0 on 2xx (container healthcheck)\n\n"
	    "%s", buf);
}

/* CLUSTER_SECRET_FILE: the first line is the secret. */
static int read_secret_file(struct settings *s, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, n;
	int r;

	if (s->cluster_secret_file[0] == '\0')
		return 0;
	r = fsutil_read_file(s->cluster_secret_file, 4096, &buf, &len);
	if (r < 0) {
		snprintf(err, errlen, "CLUSTER_SECRET_FILE=\"%s\": %s",
		    s->cluster_secret_file, strerror(-r));
		return -EINVAL;
	}
	n = strcspn(buf, "\r\n");
	if (n == 0 || n > SETTINGS_SECRET_MAX) {
		snprintf(err, errlen, "CLUSTER_SECRET_FILE=\"%s\": the secret "
		    "must be 1 to %d bytes on the first line",
		    s->cluster_secret_file, SETTINGS_SECRET_MAX);
		r = -EINVAL;
	} else {
		memcpy(s->cluster_secret, buf, n);
		s->cluster_secret_len = n;
	}
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* The canonical name of this host, as `hostname -f` finds it. */
static void fqdn_of(const char *host, char *out, size_t len)
{
	struct addrinfo hints = {.ai_flags = AI_CANONNAME}, *res = NULL;

	snprintf(out, len, "%s", host);
	if (host[0] == '\0' || getaddrinfo(host, NULL, &hints, &res) != 0)
		return;
	if (res != NULL && res->ai_canonname != NULL)
		snprintf(out, len, "%s", res->ai_canonname);
	freeaddrinfo(res);
}

static int load(struct settings *s, enum settings_mode mode, int argc,
    char **argv)
{
	char err[SETTINGS_ERR_LEN], host[256] = "", fqdn[512] = "";
	int r;

	(void)gethostname(host, sizeof(host) - 1);
	fqdn_of(host, fqdn, sizeof(fqdn));
	r = settings_load(s, mode, argc, argv, (const char *const *)environ,
	    host, fqdn, err, sizeof(err));
	if (r == 0)
		r = read_secret_file(s, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "quorum-peerd: %s\n", err);
		return 2;
	}
	log_init(s->log_level, s->log_format, "quorum-peerd");
	return 0;
}

static int cmd_identity(int argc, char **argv)
{
	struct settings s;
	struct identity id;
	struct peerdoc d;
	char err[IDENTITY_ERR_LEN], out[PEERDOC_MAX];
	size_t len;
	int r;

	r = load(&s, SETTINGS_IDENTITY, argc, argv);
	if (r != 0)
		return r;
	if (s.argi < argc) {
		fprintf(stderr, "quorum-peerd: identity takes no arguments\n");
		return 2;
	}
	r = identity_load_or_create(&s, &id, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return 1;
	}
	identity_public(&id, &s, &d);
	/*
	 * With the ordinal and the address known (NODE_ORDINAL, NODE_IP), the
	 * whole signed document can be made offline, as `render` wants it.
	 */
	if (s.ordinal_set && s.node_ip[0] != '\0') {
		r = peerdoc_sign(&d, id.nodekey, s.cluster_secret,
		    s.cluster_secret_len);
		if (r == 0)
			r = peerdoc_to_json(&d, out, sizeof(out), &len);
	} else {
		int n = snprintf(out, sizeof(out),
		    "{\"node_id\":\"%s\",\"account\":\"%s\",\"tm_pub\":\"%s\","
		    "\"p2p_port\":%u,\"raft_port\":%u}\n",
		    d.node_id, d.account, d.tm_pub, d.p2p_port, d.raft_port);

		len = (size_t)n;
	}
	identity_wipe(&id);
	settings_wipe(&s);
	if (r < 0) {
		log_error("cannot sign the identity document: %s",
		    strerror(-r));
		return 1;
	}
	fwrite(out, 1, len, stdout);
	if (len == 0 || out[len - 1] != '\n')
		putchar('\n');
	return fflush(stdout) == 0 ? 0 : 1;
}

static int cmd_render(int argc, char **argv)
{
	struct settings s;
	int r;

	r = load(&s, SETTINGS_RENDER, argc, argv);
	if (r != 0)
		return r;
	/* The genesis form must be known before rendering (settings.h). */
	r = launch_resolve_genesis_form(&s, false);
	if (r == 0)
		r = node_render_offline(&s, argv + s.argi, argc - s.argi);
	settings_wipe(&s);
	return r;
}

static int cmd_run(int argc, char **argv, const sigset_t *saved)
{
	struct settings s;
	int r;

	r = load(&s, SETTINGS_RUN, argc, argv);
	if (r != 0)
		return r;
	if (s.argi < argc) {
		fprintf(stderr, "quorum-peerd: unexpected argument \"%s\" "
		    "(see --help)\n", argv[s.argi]);
		return 2;
	}
	if (s.check) {
		printf("configuration OK\n");
		return 0;
	}
	/*
	 * Before anything is written: what the genesis will be made of, and
	 * (a geth that cannot read it) a refusal. It may ask `geth version`,
	 * synchronously, with every signal blocked: a stop that arrives
	 * meanwhile waits in the signalfd and is honoured at once after.
	 */
	r = launch_resolve_genesis_form(&s, s.launch);
	if (r != 0) {
		settings_wipe(&s);
		return r;
	}
	if (s.dry_run) {
		r = launch_print_dry_run(&s, stdout);
		settings_wipe(&s);
		return r;
	}
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	r = node_run(&s, saved);
	settings_wipe(&s);
	return r;
}

int main(int argc, char **argv)
{
	sigset_t saved;
	const char *cmd = argc > 1 ? argv[1] : "run";

	/* First statement: a PID 1 must not lose a signal (pid1.md S1). */
	supervisor_block_signals(&saved);

	/* `--help` anywhere, for every subcommand. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
	}
	if (argc > 1 && strncmp(cmd, "--", 2) == 0 && strcmp(cmd, "--help") &&
	    strcmp(cmd, "--version"))
		return cmd_run(argc, argv, &saved);
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1, &saved);
	if (strcmp(cmd, "identity") == 0)
		return cmd_identity(argc - 1, argv + 1);
	if (strcmp(cmd, "render") == 0)
		return cmd_render(argc - 1, argv + 1);
	if (strcmp(cmd, "probe") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: quorum-peerd probe URL\n");
			return 2;
		}
		return probe_get(argv[2], 5, stdout);
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("quorum-peerd %s\n", PEERD_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "quorum-peerd: unknown command \"%s\" (see --help)\n",
	    cmd);
	return 2;
}
