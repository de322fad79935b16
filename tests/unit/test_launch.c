/*
 * launch: `geth version` parsing, the pure command-line builders, the child
 * environment, the dry run, PRIVACY=auto, and the asynchronous sequence
 * against tiny shell stand-ins on a real event loop.
 */
#include <errno.h>
#include <fcntl.h>
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

/* The account the builders unlock (launch fills it from the keystore). */
#define ACCT "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4"

static void defaults(struct settings *s)
{
	settings_defaults(s);
	snprintf(s->data_dir, sizeof(s->data_dir), "/qd");
	s->privacy = PRIVACY_TESSERA;
	s->ordinal_set = true;
	snprintf(s->unlock_account, sizeof(s->unlock_account), ACCT);
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
	/* Nothing that administers the node over HTTP/WS (IPC has all). */
	assert_string_equal(after(&c, "--rpcapi"), "eth,net,web3,txpool");
	assert_string_equal(after(&c, "--rpcvhosts"), "localhost,quorum-0");
	assert_int_equal(find(&c, "--rpccorsdomain"), -1);
	assert_string_equal(after(&c, "--wsaddr"), "0.0.0.0");
	assert_string_equal(after(&c, "--wsport"), "8546");
	assert_string_equal(after(&c, "--wsapi"), after(&c, "--rpcapi"));
	assert_int_equal(find(&c, "--wsorigins"), -1);
	assert_int_equal(find(&c, "--http"), -1);
	assert_int_equal(find(&c, "--http.port"), -1);
	/* geth 1.9 logs USB errors without it. */
	assert_true(find(&c, "--nousb") > 0);
	/* By address: an index makes geth log five WARN lines. */
	assert_string_equal(after(&c, "--unlock"), ACCT);
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
	/* No "quorum": no release has that module, and 1.10 logs an ERROR
	 * for an unknown one. */
	assert_string_equal(after(&c, "--http.api"), "eth,net,web3,txpool");
	assert_string_equal(after(&c, "--http.vhosts"), "localhost,quorum-0");
	assert_string_equal(after(&c, "--ws.port"), "8546");
	assert_string_equal(after(&c, "--ws.api"), "eth,net,web3,txpool");
	assert_int_equal(find(&c, "--ws.origins"), -1);
	assert_int_equal(find(&c, "--rpc"), -1);
	assert_int_equal(find(&c, "--rpcport"), -1);
	assert_int_equal(find(&c, "--wsport"), -1);
	/* USB is off by default from 1.10, which WARNs on --nousb. */
	assert_int_equal(find(&c, "--nousb"), -1);
	assert_string_equal(after(&c, "--unlock"), ACCT);
	assert_true(find(&c, "--allow-insecure-unlock") > 0);
}

/*
 * The RPC surface per release (1.9.7 / Quorum 2.7.0, 1.10.3 / 22.7.1 and
 * 24.4.1): what the settings turn into, and UNLOCK=no.
 */
static void test_geth_rpc_surface(void **state)
{
	static const struct geth_version vs[] = {{1, 9, 7, "2.7.0"},
	    {1, 10, 3, "22.7.1"}, {1, 10, 3, "24.4.1"}};
	struct settings s;
	static struct launch_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		bool h = vs[i].minor >= 10;

		defaults(&s);
		s.node_ordinal = 2;
		snprintf(s.node_domain, sizeof(s.node_domain),
		    "quorum.ns.svc.cluster.local");
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_string_equal(after(&c, h ? "--http.vhosts" :
						  "--rpcvhosts"),
		    "localhost,quorum-2,quorum-2.quorum,quorum-2.quorum.ns,"
		    "quorum-2.quorum.ns.svc,quorum-2.quorum.ns.svc.cluster,"
		    "quorum-2.quorum.ns.svc.cluster.local,quorum,quorum.ns,"
		    "quorum.ns.svc,quorum.ns.svc.cluster,"
		    "quorum.ns.svc.cluster.local");
		assert_int_equal(find(&c, "--nousb") > 0, !h);

		snprintf(s.rpc_addr, sizeof(s.rpc_addr), "127.0.0.1");
		snprintf(s.rpc_apis, sizeof(s.rpc_apis), "eth,net,raft,admin");
		snprintf(s.rpc_vhosts, sizeof(s.rpc_vhosts), "*");
		snprintf(s.rpc_cors, sizeof(s.rpc_cors),
		    "http://localhost:3000,https://app.example.com");
		snprintf(s.ws_origins, sizeof(s.ws_origins),
		    "https://app.example.com");
		s.unlock = false;
		s.unlock_account[0] = '\0'; /* not needed without UNLOCK */
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_string_equal(after(&c, h ? "--http.addr" : "--rpcaddr"),
		    "127.0.0.1");
		assert_string_equal(after(&c, h ? "--ws.addr" : "--wsaddr"),
		    "127.0.0.1");
		assert_string_equal(after(&c, h ? "--http.api" : "--rpcapi"),
		    "eth,net,raft,admin");
		assert_string_equal(after(&c, h ? "--ws.api" : "--wsapi"),
		    "eth,net,raft,admin");
		assert_string_equal(after(&c, h ? "--http.vhosts" :
						  "--rpcvhosts"), "*");
		assert_string_equal(after(&c, h ? "--http.corsdomain" :
						  "--rpccorsdomain"),
		    "http://localhost:3000,https://app.example.com");
		assert_string_equal(after(&c, h ? "--ws.origins" :
						  "--wsorigins"),
		    "https://app.example.com");
		assert_int_equal(find(&c, "--unlock"), -1);
		assert_int_equal(find(&c, "--password"), -1);
		assert_int_equal(find(&c, "--allow-insecure-unlock"), -1);
		/* UNLOCK=yes needs the address launch finds. */
		s.unlock = true;
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), -EINVAL);
	}
}

/* QBFT came with GoQuorum 22.4: older releases are refused up front. */
static void test_qbft_gate(void **state)
{
	static const struct {
		struct geth_version v;
		bool ok;
	} cases[] = {
	    {{1, 9, 7, "2.7.0"}, false},   {{1, 8, 18, "2.5.0"}, false},
	    {{1, 10, 0, "22.1.1"}, false}, {{1, 10, 2, "22.4.0"}, true},
	    {{1, 10, 3, "22.7.1"}, true},  {{1, 10, 3, "24.4.1"}, true},
	    {{1, 10, 3, ""}, true},        {{1, 9, 7, ""}, false},
	};
	struct settings s;
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(launch_qbft_supported(&cases[i].v),
		    cases[i].ok);
		s.consensus = CONSENSUS_QBFT;
		assert_int_equal(launch_geth_cmd(&s, &cases[i].v, &c),
		    cases[i].ok ? 0 : -ENOTSUP);
		/* istanbul (IBFT) runs on all of them. */
		s.consensus = CONSENSUS_ISTANBUL;
		assert_int_equal(launch_geth_cmd(&s, &cases[i].v, &c), 0);
	}
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

/*
 * IBFT's block period on every release: the legacy genesis (config.
 * istanbul) carries none, and geth's default changed (1 s to 22.7.1, 5 s
 * from 22.7.2), so geth is given it, 1.10 included; the current form's
 * config.ibft carries it.
 */
static void test_geth_istanbul_period(void **state)
{
	static const struct geth_version vs[] = {{1, 8, 18, "2.5.0"},
	    {1, 9, 7, "2.7.0"}, {1, 10, 3, "22.7.1"}, {1, 10, 3, "24.4.1"}};
	struct settings s;
	static struct launch_cmd c;

	(void)state;
	for (size_t i = 0; i < sizeof(vs) / sizeof(vs[0]); i++) {
		defaults(&s);
		s.consensus = CONSENSUS_ISTANBUL;
		s.genesis_form = GENESIS_LEGACY;
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_string_equal(after(&c, "--istanbul.blockperiod"), "5");
		/* Not yet resolved (launch_geth_cmd alone): as legacy. */
		s.genesis_form = GENESIS_AUTO;
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_string_equal(after(&c, "--istanbul.blockperiod"), "5");
		s.genesis_form = GENESIS_CURRENT;
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_int_equal(find(&c, "--istanbul.blockperiod"), -1);
		/* raft has no period; qbft's is in its genesis block. */
		s.genesis_form = GENESIS_LEGACY;
		s.consensus = CONSENSUS_RAFT;
		assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
		assert_int_equal(find(&c, "--istanbul.blockperiod"), -1);
		if (i >= 2) {
			s.consensus = CONSENSUS_QBFT;
			assert_int_equal(launch_geth_cmd(&s, &vs[i], &c), 0);
			assert_int_equal(find(&c, "--istanbul.blockperiod"),
			    -1);
		}
	}
}

/* Constellation's getOpt takes option values attached only. */
static void test_tm_args_constellation(void **state)
{
	static const struct {
		const char *args;
		const char *want[6];
	} t[] = {
	    {"--verbosity 3", {"--verbosity=3"}},
	    {"--verbosity=3", {"--verbosity=3"}},
	    {"-v 2  --tls off\t--ipwhitelist 10.0.0.1,10.0.0.2",
		{"-v2", "--tls=off", "--ipwhitelist=10.0.0.1,10.0.0.2"}},
	    /* followed by an option: a value-less option, left alone */
	    {"-vvv --verbose --workdir /x", {"-vvv", "--verbose",
		"--workdir=/x"}},
	    {"--version", {"--version"}},
	    {"--storage dir:/q --verbosity", {"--storage=dir:/q",
		"--verbosity"}},
	};
	struct settings s;
	static struct launch_cmd c;

	(void)state;
	defaults(&s);
	s.privacy = PRIVACY_CONSTELLATION;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int n = 0;

		snprintf(s.tm_args, sizeof(s.tm_args), "%s", t[i].args);
		assert_int_equal(launch_tm_cmd(&s, &c), 0);
		assert_string_equal(c.argv[1], "/qd/tm.conf");
		while (t[i].want[n] != NULL)
			n++;
		assert_int_equal(c.argc, 2 + n);
		for (int k = 0; k < n; k++)
			assert_string_equal(c.argv[2 + k], t[i].want[k]);
	}
	/* Tessera takes them as they are. */
	s.privacy = PRIVACY_TESSERA;
	snprintf(s.tm_args, sizeof(s.tm_args), "-o jdbc.autoCreateTables=true");
	assert_int_equal(launch_tm_cmd(&s, &c), 0);
	assert_int_equal(c.argc, 5);
	assert_string_equal(c.argv[3], "-o");
	assert_string_equal(c.argv[4], "jdbc.autoCreateTables=true");
}

static void test_genesis_form_rules(void **state)
{
	static const struct {
		struct geth_version v;
		enum genesis_form auto_form;
		bool reads_current;
	} t[] = {
	    {{1, 8, 18, "2.5.0"}, GENESIS_LEGACY, false},
	    {{1, 9, 7, "2.7.0"}, GENESIS_LEGACY, false},
	    {{1, 9, 7, "21.10.2"}, GENESIS_LEGACY, false},
	    {{1, 10, 0, "22.1.1"}, GENESIS_LEGACY, false},
	    {{1, 10, 2, "22.4.0"}, GENESIS_LEGACY, false},
	    {{1, 10, 2, "22.4.1"}, GENESIS_LEGACY, true},
	    {{1, 10, 3, "22.4.4"}, GENESIS_LEGACY, true},
	    {{1, 10, 3, "22.7.0"}, GENESIS_CURRENT, true},
	    {{1, 10, 3, "22.7.1"}, GENESIS_CURRENT, true},
	    {{1, 10, 3, "23.4"}, GENESIS_CURRENT, true},
	    {{1, 10, 3, "24.4.1-stable"}, GENESIS_CURRENT, true},
	    /* Unknown release: legacy for auto; 1.10 is given the benefit
	     * of the doubt for an explicit current. */
	    {{1, 10, 3, ""}, GENESIS_LEGACY, true},
	    {{1, 9, 7, ""}, GENESIS_LEGACY, false},
	    {{1, 10, 3, "master"}, GENESIS_LEGACY, true},
	};
	char why[320];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r;

		assert_int_equal(launch_genesis_form_for(&t[i].v),
		    t[i].auto_form);
		assert_int_equal(launch_genesis_form_check(GENESIS_LEGACY,
				     &t[i].v, why, sizeof(why)),
		    0);
		why[0] = '\0';
		r = launch_genesis_form_check(GENESIS_CURRENT, &t[i].v, why,
		    sizeof(why));
		if (t[i].reads_current) {
			assert_int_equal(r, 0);
			continue;
		}
		assert_int_equal(r, -ENOTSUP);
		assert_non_null(strstr(why, "needs GoQuorum 22.4.1 or later"));
	}
	assert_int_equal(launch_genesis_form_check(GENESIS_CURRENT, &t[1].v,
			     why, sizeof(why)),
	    -ENOTSUP);
	assert_string_equal(why, "the current genesis form (config.ibft, "
				 "transitions[].contractsizelimit) needs "
				 "GoQuorum 22.4.1 or later, and this geth is "
				 "1.9.7 (Quorum 2.7.0)");
}

static void test_h2_format(void **state)
{
	static const char h14[] =
	    "H:2,block:2,blockSize:1000,chunk:1,clean:1,created:17ab5a1f2c3,"
	    "format:1,version:1,fletcher:2f4e1d5a\n\0\0\0";
	static const char h20[] =
	    "H:2,block:4,blockSize:1000,chunk:3,clean:1,created:17e0e4d1b75,"
	    "format:2,version:3,fletcher:a1b2c3d4\n";
	static const char h23[] = "H:2,format:3,version:9\n";

	(void)state;
	assert_int_equal(launch_h2_format(h14, sizeof(h14) - 1), 1);
	assert_int_equal(launch_h2_format(h20, sizeof(h20) - 1), 2);
	assert_int_equal(launch_h2_format(h23, sizeof(h23) - 1), 3);
	/* Only the first line, only "H:2" files. */
	assert_int_equal(launch_h2_format("H:2,block:2\nformat:1\n", 21),
	    -EINVAL);
	assert_int_equal(launch_h2_format("SQLite format 3", 15), -EINVAL);
	assert_int_equal(launch_h2_format("H:2,format:x,", 13), -EINVAL);
	assert_int_equal(launch_h2_format("H:2,format:1", 12), 1);
	assert_int_equal(launch_h2_format("H:2,xformat:1", 13), -EINVAL);
	assert_int_equal(launch_h2_format("H:2", 3), -EINVAL);
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
	    "eth,net,web3,txpool --http.vhosts localhost,quorum-0 --ws "
	    "--ws.addr 0.0.0.0 --ws.port 8546 --ws.api eth,net,web3,txpool "
	    "--unlock " ACCT " --password /q/keys/password "
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

/* DIR/dd/keystore/NAME holding body (mkdir -p first). */
static void write_keystore(const char *dir, const char *name,
    const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "mkdir -p %s/dd/keystore", dir);
	assert_int_equal(system(path), 0);
	snprintf(path, sizeof(path), "%s/dd/keystore/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
}

#define KS_NAME "UTC--2020-01-01T00-00-00.000000000Z--" \
		"5b38da6a701c568545dcfcb03fcb875f56beddc4"
#define KS_BODY "{\"address\":\"5b38da6a701c568545dcfcb03fcb875f56beddc4\"," \
		"\"crypto\":{},\"id\":\"x\",\"version\":3}"

static void seq_settings(struct settings *s)
{
	defaults(s);
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", tmpdir);
	snprintf(s->geth_bin, sizeof(s->geth_bin), "%s/g", tmpdir);
	snprintf(s->tm_bin, sizeof(s->tm_bin), "%s/tmbin", tmpdir);
	/* As in a node: launch reads the account from the keystore. */
	s->unlock_account[0] = '\0';
	write_keystore(tmpdir, KS_NAME, KS_BODY);
}

/* The account geth's index 0 is, found as geth orders the keystore. */
static void test_find_account(void **state)
{
	char dir[128], out[43], cmd[160];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fa", tmpdir);
	assert_int_equal(launch_find_account(dir, out), -ENOENT);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/dd/keystore/0dir", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(launch_find_account(dir, out), -ENOENT);
	/* Skipped like geth: hidden files, editor backups, directories. */
	write_keystore(dir, ".0hidden", "x");
	write_keystore(dir, "0backup~", "x");
	write_keystore(dir, "UTC--2021--b", "{\"address\":\""
	    "0000000000000000000000000000000000000001\"}");
	write_keystore(dir, KS_NAME, KS_BODY);
	assert_int_equal(launch_find_account(dir, out), 0);
	assert_string_equal(out, ACCT);
	/* The first one is not a keystore: an error, not the next one. */
	write_keystore(dir, "UTC--2019--a", "not json");
	assert_int_equal(launch_find_account(dir, out), -EINVAL);
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
	assert_non_null(strstr(trace, " --nousb "));
	assert_non_null(strstr(trace, " --unlock " ACCT " --password "));
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

/* Runs the sequence until it fails; returns the code. geth never ran. */
static int launch_fails(const struct settings *s)
{
	struct seq q = {0};
	struct supervisor *sup;
	struct launch *lh;
	int code;

	q.l = evloop_new();
	sup = supervisor_new(q.l, NULL, 2, &sev, &q);
	lh = launch_new(q.l, sup, s, &lev, &q);
	assert_int_equal(launch_start(lh), 0);
	run_until(&q, &q.failed, 5000);
	assert_true(q.failed);
	assert_false(q.ready);
	assert_false(supervisor_running(sup, "geth"));
	code = q.code;
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q.l);
	return code;
}

/*
 * UNLOCK=no starts geth without --unlock (and without a keystore);
 * UNLOCK=yes without one fails before geth runs; CONSENSUS=qbft on a
 * geth without QBFT (the stand-in is 2.7.0) stops at once with 2.
 */
static void test_sequence_unlock_and_qbft(void **state)
{
	struct settings s;
	char cmd[160], trace[1024];

	(void)state;
	seq_settings(&s);
	s.privacy = PRIVACY_NONE;
	write_exe("g", sh_geth, 0755);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/dd/keystore", tmpdir);
	assert_int_equal(system(cmd), 0);
	s.unlock = false;
	launch_once(&s, trace, sizeof(trace));
	assert_non_null(strstr(trace, "run ignore --datadir"));
	assert_null(strstr(trace, "--unlock"));
	assert_null(strstr(trace, "--password"));
	assert_null(strstr(trace, "--allow-insecure-unlock"));
	s.unlock = true;
	assert_int_equal(launch_fails(&s), 1);
	s.consensus = CONSENSUS_QBFT;
	assert_int_equal(launch_fails(&s), 2);
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

static const char sh_geth_2271[] =
    "#!/bin/sh\n"
    "echo Geth; echo Version: 1.10.3-stable; echo Quorum Version: 22.7.1\n";

static void write_file(const char *name, const char *body)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(body, f);
	fclose(f);
}

static void rm_file(const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
}

/* GENESIS_FORM resolved before rendering (the daemon's first step). */
static void test_resolve_genesis_form(void **state)
{
	struct settings s;

	(void)state;
	seq_settings(&s);
	rm_file("genesis.json");
	rm_file("geth-version");
	write_exe("g", sh_geth, 0755);
	/* auto: the geth's release decides. */
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	write_exe("g", sh_geth_2271, 0755);
	s.genesis_form = GENESIS_AUTO;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_CURRENT);
	/* An explicit form is kept, and checked against the geth. */
	s.genesis_form = GENESIS_LEGACY;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	write_exe("g", sh_geth, 0755);
	s.genesis_form = GENESIS_CURRENT;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 2);
	assert_int_equal(launch_resolve_genesis_form(&s, false), 0);
	assert_int_equal(s.genesis_form, GENESIS_CURRENT);
	/* A genesis on disk decides, whatever the setting and the geth
	 * (launch refuses a geth that would misread it). */
	write_file("genesis.json", "{\"config\":{\"chainId\":10,"
				   "\"ibft\":{\"blockperiodseconds\":5}}}");
	s.genesis_form = GENESIS_LEGACY;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_CURRENT);
	write_file("genesis.json", "{\"config\":{\"chainId\":10,"
				   "\"istanbul\":{\"epoch\":30000}}}");
	write_exe("g", sh_geth_2271, 0755);
	s.genesis_form = GENESIS_AUTO;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	/* No geth to ask: the form every release reads. */
	rm_file("genesis.json");
	snprintf(s.geth_bin, sizeof(s.geth_bin), "%s/missing", tmpdir);
	s.genesis_form = GENESIS_AUTO;
	assert_int_equal(launch_resolve_genesis_form(&s, true), 0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	rm_file("geth-version");
}

/* stderr into DIR/stderr while the daemon's lines are checked. */
static int saved_stderr = -1;

static void capture_start(void)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(saved_stderr >= 0 && fd >= 0);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void capture_stop(char *buf, size_t len)
{
	char path[160];
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	f = fopen(path, "r");
	if (f != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* One launch until it fails or the supervisor finishes; its log lines. */
static void launch_to_end(struct settings *s, struct seq *q, char *log,
    size_t loglen)
{
	struct supervisor *sup;
	struct launch *lh;

	memset(q, 0, sizeof(*q));
	q->l = evloop_new();
	sup = supervisor_new(q->l, NULL, 2, &sev, q);
	lh = launch_new(q->l, sup, s, &lev, q);
	capture_start();
	assert_int_equal(launch_start(lh), 0);
	run_until(q, &q->failed, 8000);
	if (q->failed)
		supervisor_shutdown(sup, q->code);
	run_until(q, &q->finished, 8000);
	capture_stop(log, loglen);
	assert_true(q->finished);
	launch_free(lh);
	supervisor_free(sup);
	evloop_free(q->l);
}

/*
 * TM_START_TIMEOUT, and a Tessera that cannot open the H2 1.4 database an
 * older Tessera left: the line says so, whether it dies or hangs.
 */
static void test_sequence_tm_h2(void **state)
{
	static const char h14[] = "H:2,block:2,blockSize:1000,chunk:1,"
				  "clean:1,created:17ab5a1f2c3,format:1,"
				  "version:1,fletcher:2f4e1d5a\n";
	struct settings s;
	struct seq q;
	char log[4096], dir[160];

	(void)state;
	seq_settings(&s);
	write_exe("g", sh_geth, 0755);
	snprintf(dir, sizeof(dir), "%s/tm", tmpdir);
	mkdir(dir, 0700);
	write_file("tm/db.mv.db", h14);

	/* Dies at once: its code, and why. */
	write_exe("tmbin", "#!/bin/sh\nexit 1\n", 0755);
	s.tm_start_timeout = 30;
	launch_to_end(&s, &q, log, sizeof(log));
	assert_int_equal(q.code, 1);
	if (strstr(log, "tessera exited (code 1) before it answered: ") ==
		NULL ||
	    strstr(log, "/tm/db.mv.db is an H2 1.4 database (Tessera 21.x "
			"and older), which Tessera 22 and newer cannot open") ==
		NULL ||
	    strstr(log, "h2-upgrade.sh") == NULL)
		fail_msg("log: %s", log);

	/* Hangs: TM_START_TIMEOUT (1 s), and why. */
	write_exe("tmbin", "#!/bin/sh\nexec sleep 30\n", 0755);
	s.tm_start_timeout = 1;
	launch_to_end(&s, &q, log, sizeof(log));
	assert_int_equal(q.code, 1);
	if (strstr(log, "tessera did not answer on ") == NULL ||
	    strstr(log, " within 1s (last error: ") == NULL ||
	    strstr(log, "is an H2 1.4 database") == NULL)
		fail_msg("log: %s", log);

	/* An H2 2.x database, or none: no such claim. */
	write_file("tm/db.mv.db", "H:2,block:4,format:2,version:3\n");
	launch_to_end(&s, &q, log, sizeof(log));
	if (strstr(log, "raise TM_START_TIMEOUT") == NULL ||
	    strstr(log, "H2") != NULL)
		fail_msg("log: %s", log);
	write_exe("tmbin", "#!/bin/sh\nexit 3\n", 0755);
	launch_to_end(&s, &q, log, sizeof(log));
	assert_int_equal(q.code, 3);
	assert_null(strstr(log, "before it answered"));
	rm_file("tm/db.mv.db");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_version),
	    cmocka_unit_test(test_geth_19_raft),
	    cmocka_unit_test(test_geth_raft_join),
	    cmocka_unit_test(test_geth_110_qbft),
	    cmocka_unit_test(test_geth_rpc_surface),
	    cmocka_unit_test(test_qbft_gate),
	    cmocka_unit_test(test_geth_istanbul_19_and_18),
	    cmocka_unit_test(test_geth_dns_args_password_privacy),
	    cmocka_unit_test(test_geth_args_too_many),
	    cmocka_unit_test(test_tm_and_init_cmds),
	    cmocka_unit_test(test_geth_istanbul_period),
	    cmocka_unit_test(test_tm_args_constellation),
	    cmocka_unit_test(test_genesis_form_rules),
	    cmocka_unit_test(test_h2_format),
	    cmocka_unit_test(test_child_env),
	    cmocka_unit_test(test_dry_run),
	    cmocka_unit_test(test_resolve_privacy),
	    cmocka_unit_test(test_find_account),
	    cmocka_unit_test(test_sequence_ok),
	    cmocka_unit_test(test_sequence_interrupted_init),
	    cmocka_unit_test(test_sequence_unlock_and_qbft),
	    cmocka_unit_test(test_sequence_failures),
	    cmocka_unit_test(test_resolve_genesis_form),
	    cmocka_unit_test(test_sequence_tm_h2),
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
