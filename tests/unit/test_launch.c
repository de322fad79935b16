/*
 * launch: `geth version` parsing, the pure command-line builders, the child
 * environment, the dry run, PRIVACY=auto, and the asynchronous sequence
 * against tiny shell stand-ins on a real event loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/launch.h"
#include "peerd/log.h"
#include "peerd/supervisor.h"

static const char v197[] =
    "Geth\nVersion: 1.9.7-stable\nGit Commit: "
    "af7525189f2cee801ef6673d438b8577c8c5aa34\nQuorum Version: 2.7.0\n"
    "Architecture: amd64\nProtocol Versions: [64 63]\nNetwork Id: 1337\n"
    "Go Version: go1.13.15\nOperating System: linux\nGOPATH=\n"
    "GOROOT=/usr/local/go\n";
static const char v1103[] =
    "Geth\nVersion: 1.10.3-stable\nGit Commit: "
    "4f0b7e4b38c1e6dd5d7f2e9b8b2a1a7e9b1d3f44\nGit Commit Date: 20220727\n"
    "Quorum Version: 22.7.1\nArchitecture: amd64\nGo Version: go1.17.8\n"
    "Operating System: linux\nGOPATH=\nGOROOT=go\n";

static void defaults(struct settings *s)
{
	settings_defaults(s);
	snprintf(s->data_dir, sizeof(s->data_dir), "/qd");
	s->privacy = PRIVACY_TESSERA;
}

/* Index of arg in c, or -1. */
static int find(const struct launch_cmd *c, const char *arg)
{
	for (int i = 0; i < c->argc; i++)
		if (strcmp(c->argv[i], arg) == 0)
			return i;
	return -1;
}

static const char *after(const struct launch_cmd *c, const char *flag)
{
	int i = find(c, flag);

	assert_true(i >= 0);
	assert_true(i + 1 < c->argc);
	return c->argv[i + 1];
}

static void test_parse_version(void **state)
{
	struct geth_version v;

	(void)state;
	assert_int_equal(launch_parse_geth_version(v197, strlen(v197), &v), 0);
	assert_int_equal(v.major, 1);
	assert_int_equal(v.minor, 9);
	assert_int_equal(v.patch, 7);
	assert_string_equal(v.quorum, "2.7.0");
	assert_int_equal(launch_parse_geth_version(v1103, strlen(v1103), &v),
	    0);
	assert_int_equal(v.minor, 10);
	assert_int_equal(v.patch, 3);
	assert_string_equal(v.quorum, "22.7.1");
	/* "Quorum Version:" alone is not geth's version. */
	assert_int_equal(launch_parse_geth_version("Quorum Version: 2.7.0\n",
			     22, &v),
	    -EINVAL);
	assert_int_equal(launch_parse_geth_version("", 0, &v), -EINVAL);
	assert_int_equal(
	    launch_parse_geth_version("Version: banana\n", 16, &v), -EINVAL);
	/* Only len bytes are read. */
	assert_int_equal(launch_parse_geth_version(v197, 5, &v), -EINVAL);
	/* No trailing newline. */
	assert_int_equal(launch_parse_geth_version("Version: 1.8.18", 15, &v),
	    0);
	assert_int_equal(v.minor, 8);
	assert_int_equal(v.patch, 18);
	assert_string_equal(v.quorum, "");
}

static void test_geth_19_raft(void **state)
{
	struct settings s;
	struct geth_version v = {1, 9, 7, "2.7.0"};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_string_equal(c.argv[0], "geth");
	assert_null(c.argv[c.argc]);
	assert_string_equal(after(&c, "--datadir"), "/qd/dd");
	assert_true(find(&c, "--nodiscover") > 0);
	assert_string_equal(after(&c, "--networkid"), "10");
	assert_string_equal(after(&c, "--port"), "30303");
	assert_true(find(&c, "--raft") > 0);
	assert_string_equal(after(&c, "--raftport"), "50400");
	assert_int_equal(find(&c, "--raftdnsenable"), -1);
	assert_int_equal(find(&c, "--mine"), -1);
	assert_true(find(&c, "--permissioned") > 0);
	assert_true(find(&c, "--rpc") > 0);
	assert_string_equal(after(&c, "--rpcaddr"), "0.0.0.0");
	assert_string_equal(after(&c, "--rpcport"), "8545");
	assert_string_equal(after(&c, "--rpcapi"),
	    "admin,eth,debug,miner,net,txpool,personal,web3,quorum,raft");
	assert_string_equal(after(&c, "--wsport"), "8546");
	assert_string_equal(after(&c, "--wsapi"), after(&c, "--rpcapi"));
	assert_int_equal(find(&c, "--http"), -1);
	assert_int_equal(find(&c, "--http.port"), -1);
	assert_string_equal(after(&c, "--unlock"), "0");
	assert_string_equal(after(&c, "--password"), "/qd/keys/password");
	assert_true(find(&c, "--allow-insecure-unlock") > 0);
	assert_string_equal(c.env, "PRIVATE_CONFIG=/qd/tm/tm.ipc");
}

/* A raft member started by its ID (joined, or with a raft log). */
static void test_geth_raft_join(void **state)
{
	struct settings s;
	struct geth_version v = {1, 9, 7, "2.7.0"};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_int_equal(find(&c, "--raftjoinexisting"), -1);
	s.raft_join = 4;
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_string_equal(after(&c, "--raftjoinexisting"), "4");
	s.consensus = CONSENSUS_ISTANBUL;
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_int_equal(find(&c, "--raftjoinexisting"), -1);
}

static void test_geth_110_qbft(void **state)
{
	struct settings s;
	struct geth_version v = {1, 10, 3, "22.7.1"};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	s.consensus = CONSENSUS_QBFT;
	s.permissioned = false;
	s.chain_id = 1337;
	s.rpc_port = 22000;
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_int_equal(find(&c, "--raft"), -1);
	assert_int_equal(find(&c, "--raftport"), -1);
	assert_true(find(&c, "--mine") > 0);
	assert_string_equal(after(&c, "--miner.threads"), "1");
	assert_string_equal(after(&c, "--syncmode"), "full");
	/* 1.10 takes the block period from the genesis. */
	assert_int_equal(find(&c, "--istanbul.blockperiod"), -1);
	assert_int_equal(find(&c, "--permissioned"), -1);
	assert_string_equal(after(&c, "--networkid"), "1337");
	assert_true(find(&c, "--http") > 0);
	assert_string_equal(after(&c, "--http.addr"), "0.0.0.0");
	assert_string_equal(after(&c, "--http.port"), "22000");
	assert_string_equal(after(&c, "--http.api"),
	    "admin,eth,debug,miner,net,txpool,personal,web3,quorum,istanbul");
	assert_string_equal(after(&c, "--http.vhosts"), "*");
	assert_string_equal(after(&c, "--ws.port"), "8546");
	assert_int_equal(find(&c, "--rpc"), -1);
	assert_int_equal(find(&c, "--rpcport"), -1);
	assert_int_equal(find(&c, "--wsport"), -1);
	assert_true(find(&c, "--allow-insecure-unlock") > 0);
}

static void test_geth_istanbul_19_and_18(void **state)
{
	struct settings s;
	struct geth_version v19 = {1, 9, 7, "2.7.0"};
	struct geth_version v18 = {1, 8, 18, "2.5.0"};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	s.consensus = CONSENSUS_ISTANBUL;
	assert_int_equal(launch_geth_cmd(&s, &v19, &c), 0);
	assert_string_equal(after(&c, "--istanbul.blockperiod"), "5");
	assert_string_equal(after(&c, "--miner.threads"), "1");
	assert_true(find(&c, "--rpc") > 0);
	/* geth 1.8: the old miner flag, no --allow-insecure-unlock. */
	assert_int_equal(launch_geth_cmd(&s, &v18, &c), 0);
	assert_string_equal(after(&c, "--minerthreads"), "1");
	assert_int_equal(find(&c, "--miner.threads"), -1);
	assert_int_equal(find(&c, "--allow-insecure-unlock"), -1);
}

static void test_geth_dns_args_password_privacy(void **state)
{
	struct settings s;
	struct geth_version v = {1, 10, 3, "22.7.1"};
	struct geth_version v20 = {1, 8, 12, "2.0.2"};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	s.address_mode = ADDRESS_DNS;
	s.privacy = PRIVACY_NONE;
	snprintf(s.geth_bin, sizeof(s.geth_bin), "/opt/q/geth");
	snprintf(s.account_password_file, sizeof(s.account_password_file),
	    "/run/secrets/pw");
	snprintf(s.geth_args, sizeof(s.geth_args),
	    "  --verbosity 5\t--vmodule raft=6  ");
	assert_int_equal(launch_geth_cmd(&s, &v, &c), 0);
	assert_string_equal(c.argv[0], "/opt/q/geth");
	assert_true(find(&c, "--raftdnsenable") > 0);
	assert_string_equal(after(&c, "--password"), "/run/secrets/pw");
	/* GETH_ARGS split on whitespace, appended last. */
	assert_string_equal(c.argv[c.argc - 4], "--verbosity");
	assert_string_equal(c.argv[c.argc - 3], "5");
	assert_string_equal(c.argv[c.argc - 2], "--vmodule");
	assert_string_equal(c.argv[c.argc - 1], "raft=6");
	assert_string_equal(c.env, "PRIVATE_CONFIG=ignore");
	/* Quorum 2.0.x does not know "ignore": unset. */
	assert_int_equal(launch_geth_cmd(&s, &v20, &c), 0);
	assert_string_equal(c.env, "");
}

static void test_geth_args_too_many(void **state)
{
	struct settings s;
	struct geth_version v = {1, 10, 3, ""};
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	memset(s.geth_args, 0, sizeof(s.geth_args));
	for (size_t i = 0; i + 2 < sizeof(s.geth_args); i += 2)
		memcpy(s.geth_args + i, "x ", 2);
	assert_int_equal(launch_geth_cmd(&s, &v, &c), -E2BIG);
}

static void test_tm_and_init_cmds(void **state)
{
	struct settings s;
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	snprintf(s.tm_args, sizeof(s.tm_args), "-Xmx512m");
	assert_int_equal(launch_tm_cmd(&s, &c), 0);
	assert_int_equal(c.argc, 4);
	assert_string_equal(c.argv[0], "tessera");
	assert_string_equal(c.argv[1], "-configfile");
	assert_string_equal(c.argv[2], "/qd/tessera-config.json");
	assert_string_equal(c.argv[3], "-Xmx512m");
	assert_string_equal(c.env, "");
	assert_string_equal(launch_tm_name(&s), "tessera");

	s.privacy = PRIVACY_CONSTELLATION;
	s.tm_args[0] = '\0';
	assert_int_equal(launch_tm_cmd(&s, &c), 0);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "constellation-node");
	assert_string_equal(c.argv[1], "/qd/tm.conf");
	assert_string_equal(launch_tm_name(&s), "constellation");
	snprintf(s.tm_bin, sizeof(s.tm_bin), "/usr/local/bin/cn");
	assert_string_equal(launch_tm_bin(&s), "/usr/local/bin/cn");

	s.privacy = PRIVACY_NONE;
	assert_int_equal(launch_tm_cmd(&s, &c), -EINVAL);
	s.privacy = PRIVACY_AUTO;
	assert_int_equal(launch_tm_cmd(&s, &c), -EINVAL);

	assert_int_equal(launch_init_cmd(&s, &c), 0);
	assert_int_equal(c.argc, 5);
	assert_string_equal(c.argv[1], "--datadir");
	assert_string_equal(c.argv[2], "/qd/dd");
	assert_string_equal(c.argv[3], "init");
	assert_string_equal(c.argv[4], "/qd/genesis.json");
	assert_string_equal(c.env, "");
	assert_int_equal(launch_version_cmd(&s, &c), 0);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[1], "version");
}

static void test_child_env(void **state)
{
	char *base[] = {"PATH=/bin", "PRIVATE_CONFIG=/old", "HOME=/root",
	    "CLUSTER_SECRET=s3cret", "CLUSTER_SECRET_FILE=/f", NULL};
	char *out[8];

	(void)state;
	assert_int_equal(launch_child_env(base, "PRIVATE_CONFIG=/qd/tm/tm.ipc",
			     out, 8),
	    0);
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "HOME=/root");
	/* The secret never reaches a child; the file name may. */
	assert_string_equal(out[2], "CLUSTER_SECRET_FILE=/f");
	assert_string_equal(out[3], "PRIVATE_CONFIG=/qd/tm/tm.ipc");
	assert_null(out[4]);
	assert_int_equal(launch_child_env(base, NULL, out, 8), 0);
	assert_null(out[3]);
	assert_int_equal(launch_child_env(base, "", out, 8), 0);
	assert_null(out[3]);
	assert_int_equal(launch_child_env(base, "X=1", out, 4), -E2BIG);
	assert_int_equal(launch_child_env(base, NULL, out, 4), 0);
	assert_int_equal(launch_child_env(NULL, "X=1", out, 2), 0);
	assert_string_equal(out[0], "X=1");
}

static void test_dry_run(void **state)
{
	struct settings s;
	struct geth_version v = {1, 10, 3, "22.7.1"};
	char out[4096];

	(void)state;
	defaults(&s);
	snprintf(s.data_dir, sizeof(s.data_dir), "/q");
	s.permissioned = false;
	snprintf(s.geth_args, sizeof(s.geth_args), "--identity it's");
	assert_int_equal(launch_dry_run(&s, &v, true, out, sizeof(out)), 0);
	assert_string_equal(out,
	    "geth version\n"
	    "tessera -configfile /q/tessera-config.json\n"
	    "geth --datadir /q/dd init /q/genesis.json\n"
	    "PRIVATE_CONFIG=/q/tm/tm.ipc geth --datadir /q/dd --nodiscover "
	    "--networkid 10 --port 30303 --raft --raftport 50400 --http "
	    "--http.addr 0.0.0.0 --http.port 8545 --http.api "
	    "admin,eth,debug,miner,net,txpool,personal,web3,quorum,raft "
	    "--http.vhosts '*' --ws --ws.addr 0.0.0.0 --ws.port 8546 "
	    "--ws.api admin,eth,debug,miner,net,txpool,personal,web3,quorum,"
	    "raft --ws.origins '*' --unlock 0 --password /q/keys/password "
	    "--allow-insecure-unlock --identity 'it'\\''s'\n");
	/* Not first boot, no TM. */
	s.privacy = PRIVACY_NONE;
	assert_int_equal(launch_dry_run(&s, &v, false, out, sizeof(out)), 0);
	assert_null(strstr(out, " init "));
	assert_null(strstr(out, "tessera"));
	assert_non_null(strstr(out, "\nPRIVATE_CONFIG=ignore geth --datadir"));
	assert_int_equal(launch_dry_run(&s, &v, false, out, 40), -ENOSPC);
}

static char tmpdir[64];

static void write_exe(const char *name, const char *body, mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
	chmod(path, mode);
}

static void test_resolve_privacy(void **state)
{
	struct settings s;
	char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

	(void)state;
	defaults(&s);
	s.privacy = PRIVACY_NONE;
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_NONE);
	s.privacy = PRIVACY_AUTO;
	snprintf(s.tm_bin, sizeof(s.tm_bin), "/opt/constellation-node");
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_CONSTELLATION);
	snprintf(s.tm_bin, sizeof(s.tm_bin), "/opt/tessera/bin/tessera");
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_TESSERA);
	s.tm_bin[0] = '\0';
	setenv("PATH", tmpdir, 1);
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_NONE);
	write_exe("constellation-node", "#!/bin/sh\n", 0755);
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_CONSTELLATION);
	/* Not executable: does not count (execvp would fail). */
	write_exe("tessera", "#!/bin/sh\n", 0644);
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_CONSTELLATION);
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/tessera", tmpdir);
		chmod(p, 0755);
	}
	assert_int_equal(launch_resolve_privacy(&s), PRIVACY_TESSERA);
	if (old != NULL)
		setenv("PATH", old, 1);
	free(old);
}

/* ---- the asynchronous sequence ---------------------------------------- */

struct seq {
	struct evloop *l;
	bool ready, failed, finished;
	int code;
};

static void on_ready(void *arg)
{
	((struct seq *)arg)->ready = true;
}

static void on_failed(void *arg, int code)
{
	struct seq *q = arg;

	q->failed = true;
	q->code = code;
}

static void on_finished(void *arg, int code)
{
	struct seq *q = arg;

	q->finished = true;
	q->code = code;
	evloop_stop(q->l);
}

static const struct launch_events lev = {on_ready, on_failed};
static const struct supervisor_events sev = {NULL, NULL, on_finished};

static void run_until(struct seq *q, bool *flag, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (!*flag && evloop_now() < end)
		assert_true(evloop_run_once(q->l, 50) >= 0);
}

/* A geth stand-in in sh: answers version/init, records its run env. */
static const char sh_geth[] =
    "#!/bin/sh\n"
    "case \"$1\" in version) [ -n \"$PRIVATE_CONFIG\" ] && exit 9\n"
    "  echo version >> \"${0%/*}/trace\";\n"
    "  echo Geth; echo Version: 1.9.7-stable; echo Quorum Version: 2.7.0;"
    " exit 0;; esac\n"
    "case \"$3\" in init) [ -n \"$PRIVATE_CONFIG\" ] && exit 9\n"
    "  mkdir -p \"$2/geth/chaindata\"; echo init >> \"$2/../trace\";"
    " exit ${INIT_EXIT:-0};; esac\n"
    "echo \"run $PRIVATE_CONFIG $*\" >> \"$2/../trace\"\n"
    "exec sleep 30\n";

static void seq_settings(struct settings *s)
{
	defaults(s);
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", tmpdir);
	snprintf(s->geth_bin, sizeof(s->geth_bin), "%s/g", tmpdir);
	snprintf(s->tm_bin, sizeof(s->tm_bin), "%s/tmbin", tmpdir);
}

static void test_sequence_ok(void **state)
{
	struct settings s;
	struct seq q = {0};
	struct supervisor *sup;
	struct launch *lh;
	char path[128], trace[1024] = "";
	FILE *f;
	size_t n;

	(void)state;
	seq_settings(&s);
	write_exe("g", sh_geth, 0755);
	/* A TM stand-in: a python-free unix socket server is not at hand in
	 * sh, so use PRIVACY=none here; the socket wait is covered by
	 * tests/pid1 with fake-tm. */
	s.privacy = PRIVACY_NONE;
	snprintf(path, sizeof(path), "%s/trace", tmpdir);
	unlink(path);
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, &s, &lev, &q);
	assert_non_null(lh);
	assert_int_equal(launch_start(lh), 0);
	assert_int_equal(launch_start(lh), -EALREADY);
	assert_false(q.ready); /* never from inside launch_start */
	run_until(&q, &q.ready, 5000);
	assert_true(q.ready);
	assert_false(q.failed);
	assert_string_equal(launch_state(lh), "running");
	assert_true(supervisor_running(sup, "geth"));
	run_until(&q, &q.finished, 200);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(trace, 1, sizeof(trace) - 1, f);
	trace[n] = '\0';
	fclose(f);
	assert_non_null(strstr(trace, "init\nrun ignore --datadir"));
	assert_non_null(strstr(trace, "--rpcport 8545"));
	/* Stop: geth's status decides (sleep dies of TERM: 143). */
	supervisor_shutdown(sup, 1);
	run_until(&q, &q.finished, 5000);
	assert_true(q.finished);
	assert_int_equal(q.code, 1);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);
}

/* One launch of sh_geth to geth running and stopped; returns the trace. */
static void launch_once(struct settings *s, char *trace, size_t len)
{
	struct seq q = {0};
	struct supervisor *sup;
	struct launch *lh;
	char path[128];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/trace", tmpdir);
	unlink(path);
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, s, &lev, &q);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.ready, 5000);
	assert_true(q.ready);
	/* Until geth (sh) has written its "run" line: bounded, 5 s. */
	for (int i = 0; i < 100; i++) {
		trace[0] = '\0';
		f = fopen(path, "r");
		if (f != NULL) {
			n = fread(trace, 1, len - 1, f);
			trace[n] = '\0';
			fclose(f);
		}
		if (strstr(trace, "run ") != NULL)
			break;
		assert_true(evloop_run_once(q.l, 50) >= 0);
	}
	supervisor_shutdown(sup, 1);
	run_until(&q, &q.finished, 5000);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);
}

/*
 * First boot is "geth init has succeeded here", not "chaindata exists":
 * geth init makes that directory before it writes the genesis, so a node
 * killed in between must run init again at its next start. Once init has
 * succeeded, later starts neither init nor ask geth its version again.
 */
static void test_sequence_interrupted_init(void **state)
{
	struct settings s;
	char path[160], trace[1024];

	(void)state;
	seq_settings(&s);
	s.privacy = PRIVACY_NONE;
	write_exe("g", sh_geth, 0755);
	snprintf(path, sizeof(path), "%s/geth-init.done", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/geth-version", tmpdir);
	unlink(path);
	/* What a geth init killed part way leaves. */
	snprintf(path, sizeof(path), "mkdir -p %s/dd/geth/chaindata", tmpdir);
	assert_int_equal(system(path), 0);
	launch_once(&s, trace, sizeof(trace));
	if (strstr(trace, "version\ninit\nrun ignore --datadir") == NULL)
		fail_msg("trace: %s", trace);
	launch_once(&s, trace, sizeof(trace));
	assert_null(strstr(trace, "init"));
	assert_null(strstr(trace, "version"));
	assert_non_null(strstr(trace, "run ignore --datadir"));
	/* A new geth executable (an upgraded image): its version is asked. */
	write_exe("g", sh_geth, 0755);
	{
		char touch[200];

		snprintf(touch, sizeof(touch), "touch -d '2001-01-01' %s/g",
		    tmpdir);
		assert_int_equal(system(touch), 0);
	}
	launch_once(&s, trace, sizeof(trace));
	assert_non_null(strstr(trace, "version\nrun ignore --datadir"));
}

static void test_sequence_failures(void **state)
{
	struct settings s;
	struct seq q;
	struct supervisor *sup;
	struct launch *lh;
	char dd[128];

	(void)state;
	/* geth missing: 127, before anything else runs. */
	seq_settings(&s);
	snprintf(s.geth_bin, sizeof(s.geth_bin), "%s/missing", tmpdir);
	memset(&q, 0, sizeof(q));
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, &s, &lev, &q);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.failed, 3000);
	assert_true(q.failed);
	assert_int_equal(q.code, 127);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);

	/* TM not executable: 126. */
	seq_settings(&s);
	write_exe("g", sh_geth, 0755);
	write_exe("tmbin", "#!/bin/sh\nexec sleep 30\n", 0644);
	memset(&q, 0, sizeof(q));
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, &s, &lev, &q);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.failed, 3000);
	assert_true(q.failed);
	assert_int_equal(q.code, 126);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);

	/* The TM never opens its socket: a clear timeout, code 1. */
	write_exe("tmbin", "#!/bin/sh\nexec sleep 30\n", 0755);
	memset(&q, 0, sizeof(q));
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, &s, &lev, &q);
	launch_set_tm_timeout(lh, 1);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.failed, 4000);
	assert_true(q.failed);
	assert_int_equal(q.code, 1);
	/* Polled the right path (ENOENT, not a path error). */
	assert_non_null(strstr(launch_state(lh), "/tm/tm.ipc"));
	assert_true(supervisor_running(sup, "tessera"));
	supervisor_shutdown(sup, q.code);
	run_until(&q, &q.finished, 5000);
	assert_int_equal(q.code, 1);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);

	/* geth init fails: code 1. */
	seq_settings(&s);
	s.privacy = PRIVACY_NONE;
	snprintf(dd, sizeof(dd), "%s/geth-init.done", tmpdir);
	unlink(dd);
	setenv("INIT_EXIT", "3", 1);
	memset(&q, 0, sizeof(q));
	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, &s, &lev, &q);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.failed, 3000);
	unsetenv("INIT_EXIT");
	assert_true(q.failed);
	assert_int_equal(q.code, 1);
	assert_false(supervisor_running(sup, "geth"));
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_version),
	    cmocka_unit_test(test_geth_19_raft),
	    cmocka_unit_test(test_geth_raft_join),
	    cmocka_unit_test(test_geth_110_qbft),
	    cmocka_unit_test(test_geth_istanbul_19_and_18),
	    cmocka_unit_test(test_geth_dns_args_password_privacy),
	    cmocka_unit_test(test_geth_args_too_many),
	    cmocka_unit_test(test_tm_and_init_cmds),
	    cmocka_unit_test(test_child_env),
	    cmocka_unit_test(test_dry_run),
	    cmocka_unit_test(test_resolve_privacy),
	    cmocka_unit_test(test_sequence_ok),
	    cmocka_unit_test(test_sequence_interrupted_init),
	    cmocka_unit_test(test_sequence_failures),
	};
	char cmd[128];
	int r;

	supervisor_block_signals(NULL);
	log_init(LOG_ERROR + 0, LOG_TEXT, "test");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/tl.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
