#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/settings.h"

static struct settings s;
static char err[SETTINGS_ERR_LEN];

static int load_env(enum settings_mode mode, const char *const *env,
    const char *host, const char *fqdn)
{
	char *argv[] = {"run", NULL};

	return settings_load(&s, mode, 1, argv, env, host, fqdn, err,
	    sizeof(err));
}

static void test_defaults(void **state)
{
	const char *env[] = {"NODE_NUMBER=5", NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, env, "quorum-3", NULL), 0);
	assert_int_equal(s.node_number, 5);
	assert_int_equal(s.node_ordinal, 3);
	assert_string_equal(s.node_prefix, "quorum-");
	assert_string_equal(s.data_dir, "/qdata");
	assert_int_equal(s.http_port, 80);
	assert_int_equal(s.p2p_port, 30303);
	assert_int_equal(s.raft_port, 50400);
	assert_int_equal(s.rpc_port, 8545);
	assert_int_equal(s.ws_port, 8546);
	assert_int_equal(s.tm_port, 9000);
	assert_int_equal(s.consensus, CONSENSUS_RAFT);
	assert_int_equal(s.privacy, PRIVACY_AUTO);
	assert_int_equal(s.address_mode, ADDRESS_IP);
	assert_int_equal(s.chain_id, 10);
	assert_true(s.permissioned);
	assert_int_equal(s.kdf, KEYSTORE_KDF_STANDARD);
	assert_true(s.launch);
	assert_int_equal(s.stop_timeout, 25);
	assert_int_equal(s.tm_start_timeout, 120);
	assert_int_equal(s.genesis_form, GENESIS_AUTO);
	assert_int_equal(s.discovery_timeout, 0);
	assert_int_equal(s.cluster_secret_len, 0);
}

static void test_every_variable(void **state)
{
	const char *env[] = {"NODE_PREFIX=node-", "NODE_NUMBER=7",
	    "NODE_ORDINAL=6", "NODE_DOMAIN=q.ns.svc.cluster.local",
	    "NODE_IP=10.1.2.3", "DATA_DIR=/data/", "HTTP_PORT=8080",
	    "P2P_PORT=21000", "RAFT_PORT=50401", "RPC_PORT=22000",
	    "WS_PORT=23000", "TM_PORT=9001", "CONSENSUS=qbft",
	    "PRIVACY=tessera", "ADDRESS_MODE=dns", "CHAIN_ID=1337",
	    "PERMISSIONED=no", "KEYSTORE_KDF=light",
	    "ACCOUNT_PASSWORD_FILE=/run/pw", "CLUSTER_SECRET=s3cret",
	    "DISCOVERY_TIMEOUT=60", "LAUNCH=no", "GETH_ARGS=--verbosity 5",
	    "TM_ARGS=-Xmx1g", "STOP_TIMEOUT=5", "LOG_FORMAT=json",
	    "LOG_LEVEL=debug", NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, env, "whatever", NULL), 0);
	assert_string_equal(s.node_prefix, "node-");
	assert_int_equal(s.node_number, 7);
	assert_int_equal(s.node_ordinal, 6);
	assert_string_equal(s.node_domain, "q.ns.svc.cluster.local");
	assert_string_equal(s.node_ip, "10.1.2.3");
	assert_string_equal(s.data_dir, "/data");
	assert_int_equal(s.http_port, 8080);
	assert_int_equal(s.p2p_port, 21000);
	assert_int_equal(s.raft_port, 50401);
	assert_int_equal(s.rpc_port, 22000);
	assert_int_equal(s.ws_port, 23000);
	assert_int_equal(s.tm_port, 9001);
	assert_int_equal(s.consensus, CONSENSUS_QBFT);
	assert_int_equal(s.privacy, PRIVACY_TESSERA);
	assert_int_equal(s.address_mode, ADDRESS_DNS);
	assert_int_equal(s.chain_id, 1337);
	assert_false(s.permissioned);
	assert_int_equal(s.kdf, KEYSTORE_KDF_LIGHT);
	assert_string_equal(s.account_password_file, "/run/pw");
	assert_int_equal(s.cluster_secret_len, 6);
	assert_memory_equal(s.cluster_secret, "s3cret", 6);
	assert_int_equal(s.discovery_timeout, 60);
	assert_false(s.launch);
	assert_string_equal(s.geth_args, "--verbosity 5");
	assert_string_equal(s.tm_args, "-Xmx1g");
	assert_int_equal(s.stop_timeout, 5);
	assert_int_equal(s.log_format, LOG_JSON);
	assert_int_equal(s.log_level, LOG_DEBUG);
	settings_wipe(&s);
	assert_int_equal(s.cluster_secret_len, 0);
	assert_int_equal(s.cluster_secret[0], 0);
}

static void test_flags_win(void **state)
{
	const char *env[] = {"NODE_NUMBER=3", "HTTP_PORT=81", NULL};
	char *argv[] = {"run", "--http-port", "8081", "--node-number=4",
	    "--node-ordinal", "2", "--dry-run", NULL};

	(void)state;
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 7, argv, env, NULL,
	    NULL, err, sizeof(err)), 0);
	assert_int_equal(s.http_port, 8081);
	assert_int_equal(s.node_number, 4);
	assert_int_equal(s.node_ordinal, 2);
	assert_true(s.dry_run);
	assert_int_equal(s.argi, 7);
}

static void test_positional(void **state)
{
	const char *env[] = {NULL};
	char *argv[] = {"render", "--data-dir", "/d", "a.json", "b.json",
	    NULL};

	(void)state;
	assert_int_equal(settings_load(&s, SETTINGS_RENDER, 5, argv, env, NULL,
	    NULL, err, sizeof(err)), 0);
	assert_string_equal(s.data_dir, "/d");
	assert_int_equal(s.argi, 3);
}

struct bad_case {
	const char *var;
	const char *expect; /* substring of the one-line error */
};

static void test_bad_values(void **state)
{
	static const struct bad_case cases[] = {
	    {"NODE_NUMBER=0", "NODE_NUMBER=\"0\": must be an integer from 1 "
	     "to 1024"},
	    {"NODE_NUMBER=1025", "NODE_NUMBER=\"1025\""},
	    {"NODE_NUMBER=5x", "NODE_NUMBER=\"5x\""},
	    {"NODE_NUMBER=-1", "NODE_NUMBER=\"-1\""},
	    {"NODE_NUMBER= 5", "NODE_NUMBER=\" 5\""},
	    {"HTTP_PORT=65536", "HTTP_PORT=\"65536\": must be an integer from "
	     "1 to 65535"},
	    {"HTTP_PORT=0", "HTTP_PORT"},
	    {"CONSENSUS=pow", "CONSENSUS=\"pow\": must be one of raft, "
	     "istanbul, qbft"},
	    {"PRIVACY=maybe", "PRIVACY=\"maybe\""},
	    {"ADDRESS_MODE=mdns", "ADDRESS_MODE"},
	    {"CHAIN_ID=1", "CHAIN_ID=\"1\": must be an integer from 2"},
	    {"PERMISSIONED=perhaps", "PERMISSIONED=\"perhaps\": must be yes "
	     "or no"},
	    {"KEYSTORE_KDF=argon", "KEYSTORE_KDF"},
	    {"NODE_PREFIX=Quorum_", "NODE_PREFIX=\"Quorum_\""},
	    {"NODE_DOMAIN=a..b", "NODE_DOMAIN=\"a..b\""},
	    {"NODE_IP=10.0.0.256", "NODE_IP=\"10.0.0.256\""},
	    {"DATA_DIR=relative", "DATA_DIR=\"relative\": must be an absolute"},
	    {"DATA_DIR=/a/very/long/path/that/will/not/fit/below/the/unix/"
	     "socket/limit/xx", "at most 64"},
	    {"STOP_TIMEOUT=0", "STOP_TIMEOUT"},
	    {"LOG_LEVEL=trace", "LOG_LEVEL"},
	    {"GETH_ARGS=a\nb", "GETH_ARGS"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The first definition of a variable wins. */
		const char *env[] = {cases[i].var, "NODE_NUMBER=3",
		    "NODE_ORDINAL=0", NULL};

		err[0] = '\0';
		if (load_env(SETTINGS_RUN, env, NULL, NULL) != -EINVAL)
			fail_msg("%s was accepted", cases[i].var);
		if (strstr(err, cases[i].expect) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].var,
			    err, cases[i].expect);
		assert_null(strchr(err, '\n'));
	}
}

/* What geth serves over HTTP/WS: UNLOCK, RPC_ADDR, RPC_APIS, RPC_VHOSTS,
 * RPC_CORS, WS_ORIGINS. */
static void test_rpc_settings(void **state)
{
	const char *dflt[] = {"NODE_NUMBER=3", "NODE_ORDINAL=0",
	    "RPC_APIS=", "RPC_VHOSTS=", "UNLOCK=", "RPC_ADDR=", NULL};
	const char *env[] = {"NODE_NUMBER=3", "NODE_ORDINAL=0", "UNLOCK=no",
	    "RPC_ADDR=127.0.0.1", "RPC_APIS=eth,net,web3,quorumExtension",
	    "RPC_VHOSTS=localhost,rpc.example.com,quorum_1",
	    "RPC_CORS=http://localhost:3000,https://*.example.com",
	    "WS_ORIGINS=https://app.example.com", NULL};
	char *argv[] = {"run", "--rpc-apis", "eth,admin", "--unlock=yes",
	    "--rpc-vhosts", "*", "--rpc-addr", "::", "--ws-origins",
	    "", NULL};
	static const struct bad_case cases[] = {
	    {"UNLOCK=maybe", "UNLOCK=\"maybe\": must be yes or no"},
	    {"RPC_ADDR=localhost", "RPC_ADDR=\"localhost\": must be an IPv4"},
	    {"RPC_APIS=eth, net", "RPC_APIS=\"eth, net\": must be API "
	     "namespaces"},
	    {"RPC_APIS=eth,,net", "RPC_APIS"},
	    {"RPC_APIS=eth,", "RPC_APIS"},
	    {"RPC_APIS=admin;rm", "RPC_APIS"},
	    {"RPC_VHOSTS=a.example.com:8545", "RPC_VHOSTS=\"a.example.com:"
	     "8545\": must be host names"},
	    {"RPC_VHOSTS=a b", "RPC_VHOSTS"},
	    {"RPC_CORS=*", "RPC_CORS=\"*\": must not be \"*\" (any web page "
	     "could call the node)"},
	    {"RPC_CORS=http://a.example.com,*", "must not be \"*\""},
	    {"WS_ORIGINS=*", "WS_ORIGINS=\"*\": must not be \"*\""},
	    {"WS_ORIGINS=example.com", "WS_ORIGINS=\"example.com\": must be "
	     "origins scheme://host[:port]"},
	    {"WS_ORIGINS=http://", "WS_ORIGINS"},
	    {"RPC_CORS=http://a/b", "RPC_CORS"},
	};
	char buf[8192];

	(void)state;
	/* Defaults; an empty variable counts as unset. */
	assert_int_equal(load_env(SETTINGS_RUN, dflt, NULL, NULL), 0);
	assert_true(s.unlock);
	assert_string_equal(s.rpc_addr, "0.0.0.0");
	assert_string_equal(s.rpc_apis, "eth,net,web3,txpool");
	assert_string_equal(s.rpc_vhosts, "");
	assert_string_equal(s.rpc_cors, "");
	assert_string_equal(s.ws_origins, "");
	assert_string_equal(s.unlock_account, "");

	assert_int_equal(load_env(SETTINGS_RUN, env, NULL, NULL), 0);
	assert_false(s.unlock);
	assert_string_equal(s.rpc_addr, "127.0.0.1");
	assert_string_equal(s.rpc_apis, "eth,net,web3,quorumExtension");
	assert_string_equal(s.rpc_vhosts, "localhost,rpc.example.com,quorum_1");
	assert_string_equal(s.rpc_cors,
	    "http://localhost:3000,https://*.example.com");
	assert_string_equal(s.ws_origins, "https://app.example.com");

	/* Flags win; an explicit empty origin list is the default. */
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 10, argv, env, NULL,
	    NULL, err, sizeof(err)), 0);
	assert_true(s.unlock);
	assert_string_equal(s.rpc_apis, "eth,admin");
	assert_string_equal(s.rpc_vhosts, "*");
	assert_string_equal(s.rpc_addr, "::");
	assert_string_equal(s.ws_origins, "");
	{
		char *a2[] = {"run", "--rpc-apis", "", NULL};
		char *a3[] = {"run", "--rpc-addr=", NULL};

		assert_int_equal(settings_load(&s, SETTINGS_RUN, 3, a2, dflt,
		    NULL, NULL, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--rpc-apis=\"\": must be API"));
		assert_int_equal(settings_load(&s, SETTINGS_RUN, 2, a3, dflt,
		    NULL, NULL, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "--rpc-addr=\"\""));
	}

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *e[] = {cases[i].var, "NODE_NUMBER=3",
		    "NODE_ORDINAL=0", NULL};

		err[0] = '\0';
		if (load_env(SETTINGS_RUN, e, NULL, NULL) != -EINVAL)
			fail_msg("%s was accepted", cases[i].var);
		if (strstr(err, cases[i].expect) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"", cases[i].var,
			    err, cases[i].expect);
		assert_null(strchr(err, '\n'));
	}

	settings_usage(buf, sizeof(buf));
	assert_non_null(strstr(buf, "UNLOCK, --unlock"));
	assert_non_null(strstr(buf, "RPC_ADDR, --rpc-addr"));
	assert_non_null(strstr(buf, "RPC_APIS, --rpc-apis"));
	assert_non_null(strstr(buf, "RPC_VHOSTS, --rpc-vhosts"));
	assert_non_null(strstr(buf, "RPC_CORS, --rpc-cors"));
	assert_non_null(strstr(buf, "WS_ORIGINS, --ws-origins"));
}

/* GENESIS_FORM and TM_START_TIMEOUT. */
static void test_genesis_form_tm_timeout(void **state)
{
	const char *ok[] = {"NODE_NUMBER=2", "NODE_ORDINAL=0",
	    "GENESIS_FORM=current", "TM_START_TIMEOUT=600", NULL};
	const char *legacy[] = {"NODE_NUMBER=2", "NODE_ORDINAL=0",
	    "GENESIS_FORM=legacy", NULL};
	const char *bad_form[] = {"NODE_NUMBER=2", "NODE_ORDINAL=0",
	    "GENESIS_FORM=22.7", NULL};
	const char *bad_t0[] = {"NODE_NUMBER=2", "NODE_ORDINAL=0",
	    "TM_START_TIMEOUT=0", NULL};
	const char *bad_tbig[] = {"NODE_NUMBER=2", "NODE_ORDINAL=0",
	    "TM_START_TIMEOUT=86401", NULL};
	char *argv[] = {"run", "--genesis-form", "legacy",
	    "--tm-start-timeout=5", NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, ok, NULL, NULL), 0);
	assert_int_equal(s.genesis_form, GENESIS_CURRENT);
	assert_int_equal(s.tm_start_timeout, 600);
	assert_string_equal(settings_genesis_form_name(s.genesis_form),
	    "current");
	assert_int_equal(load_env(SETTINGS_RUN, legacy, NULL, NULL), 0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 4, argv, ok, NULL,
			     NULL, err, sizeof(err)),
	    0);
	assert_int_equal(s.genesis_form, GENESIS_LEGACY);
	assert_int_equal(s.tm_start_timeout, 5);
	assert_int_equal(load_env(SETTINGS_RUN, bad_form, NULL, NULL),
	    -EINVAL);
	assert_string_equal(err, "GENESIS_FORM=\"22.7\": must be one of "
				 "auto, legacy, current");
	assert_int_equal(load_env(SETTINGS_RUN, bad_t0, NULL, NULL), -EINVAL);
	assert_string_equal(err, "TM_START_TIMEOUT=\"0\": must be an integer "
				 "from 1 to 86400");
	assert_int_equal(load_env(SETTINGS_RUN, bad_tbig, NULL, NULL),
	    -EINVAL);
}

/* run (and run --check) refuses settings that cannot work together. */
static void test_settings_together(void **state)
{
	static const struct {
		const char *env[6];
		const char *want; /* NULL: accepted */
	} t[] = {
	    {{"TM_PORT=8465", "PRIVACY=tessera"},
		"ports collide: RPC_PORT and TM_PORT + 80 (Tessera's "
		"third-party API) are both 8545 (each needs its own port)"},
	    /* auto may start Tessera */
	    {{"TM_PORT=8465"},
		"ports collide: RPC_PORT and TM_PORT + 80 (Tessera's "
		"third-party API) are both 8545 (each needs its own port)"},
	    /* Constellation has no third-party port; none has no TM */
	    {{"TM_PORT=8465", "PRIVACY=constellation"}, NULL},
	    {{"TM_PORT=8545", "PRIVACY=none"}, NULL},
	    {{"TM_PORT=8545", "PRIVACY=constellation"},
		"ports collide: RPC_PORT and TM_PORT are both 8545 (each "
		"needs its own port)"},
	    {{"HTTP_PORT=30303"},
		"ports collide: HTTP_PORT and P2P_PORT are both 30303 (each "
		"needs its own port)"},
	    {{"RAFT_PORT=8546"},
		"ports collide: RAFT_PORT and WS_PORT are both 8546 (each "
		"needs its own port)"},
	    /* the raft port is raft's only */
	    {{"RAFT_PORT=8546", "CONSENSUS=istanbul"}, NULL},
	    /* geth 1.10 serves HTTP and WebSocket on one port */
	    {{"WS_PORT=8545"}, NULL},
	    {{"TM_PORT=65455", "PRIVACY=tessera"}, NULL},
	    {{"TM_PORT=65456", "PRIVACY=tessera"},
		"TM_PORT=\"65456\": Tessera's third-party API listens on "
		"TM_PORT + 80: must be at most 65455"},
	    {{"TM_PORT=65456"},
		"TM_PORT=\"65456\": Tessera's third-party API listens on "
		"TM_PORT + 80: must be at most 65455 (PRIVACY=auto may start "
		"Tessera)"},
	    {{"TM_PORT=65535", "PRIVACY=constellation"}, NULL},
	    {{"NODE_IP=fd00::1", "PRIVACY=constellation"},
		"NODE_IP=\"fd00::1\": Constellation listens on IPv4 only: use "
		"an IPv4 address or PRIVACY=tessera"},
	    {{"NODE_IP=fd00::1", "PRIVACY=tessera"}, NULL},
	    {{"NODE_IP=10.0.0.1", "PRIVACY=constellation"}, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *env[10] = {"NODE_NUMBER=2", "NODE_ORDINAL=0"};
		size_t n = 2;
		int r;

		for (size_t k = 0; t[i].env[k] != NULL; k++)
			env[n++] = t[i].env[k];
		r = load_env(SETTINGS_RUN, env, NULL, NULL);
		if (t[i].want == NULL) {
			if (r != 0)
				fail_msg("case %zu refused: %s", i, err);
			continue;
		}
		assert_int_equal(r, -EINVAL);
		assert_string_equal(err, t[i].want);
		/* Only run checks them: identity and render need no ports. */
		assert_int_equal(load_env(SETTINGS_IDENTITY, env, NULL, NULL),
		    0);
	}
}

static void test_secret_never_in_error(void **state)
{
	char big[400];
	const char *env[] = {"NODE_NUMBER=3", "NODE_ORDINAL=0", big, NULL};

	(void)state;
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "CLUSTER_SECRET=", 15);
	assert_int_equal(load_env(SETTINGS_RUN, env, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "CLUSTER_SECRET"));
	assert_null(strstr(err, "zzzz"));
}

static void test_ordinal_rules(void **state)
{
	const char *env[] = {"NODE_NUMBER=3", NULL};
	const char *env2[] = {"NODE_NUMBER=3", "NODE_ORDINAL=3", NULL};
	const char *env3[] = {NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, env, "web-1", NULL), -EINVAL);
	assert_non_null(strstr(err, "NODE_ORDINAL is not set"));
	assert_non_null(strstr(err, "web-1"));
	assert_int_equal(load_env(SETTINGS_RUN, env, "quorum-03", NULL),
	    -EINVAL);
	assert_int_equal(load_env(SETTINGS_RUN, env, "quorum-3", NULL),
	    -EINVAL);
	assert_non_null(strstr(err, "below NODE_NUMBER"));
	assert_int_equal(load_env(SETTINGS_RUN, env2, NULL, NULL), -EINVAL);
	assert_int_equal(load_env(SETTINGS_RUN, env3, "quorum-0", NULL),
	    -EINVAL);
	assert_non_null(strstr(err, "NODE_NUMBER is not set"));
	/* identity needs neither */
	assert_int_equal(load_env(SETTINGS_IDENTITY, env3, NULL, NULL), 0);
}

static void test_domain_from_fqdn(void **state)
{
	const char *env[] = {"NODE_NUMBER=3", NULL};
	const char *env2[] = {"NODE_NUMBER=3", "NODE_DOMAIN=", NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, env, "quorum-1",
	    "quorum-1.quorum.default.svc.cluster.local"), 0);
	assert_string_equal(s.node_domain, "quorum.default.svc.cluster.local");
	assert_int_equal(load_env(SETTINGS_RUN, env, "quorum-1", "quorum-1"),
	    0);
	assert_string_equal(s.node_domain, "");
	/* An empty variable counts as unset. */
	assert_int_equal(load_env(SETTINGS_RUN, env2, "quorum-1",
	    "quorum-1.x"), 0);
	assert_string_equal(s.node_domain, "x");
}

static void test_bad_flags(void **state)
{
	const char *env[] = {"NODE_NUMBER=3", "NODE_ORDINAL=0", NULL};
	char *a1[] = {"run", "--nope", NULL};
	char *a2[] = {"run", "--http-port", NULL};
	char *a3[] = {"run", "--check=yes", NULL};
	char *a4[] = {"run", "--consensus", "pbft", NULL};

	(void)state;
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 2, a1, env, NULL,
	    NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown option \"--nope\""));
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 2, a2, env, NULL,
	    NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--http-port needs a value"));
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 2, a3, env, NULL,
	    NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(settings_load(&s, SETTINGS_RUN, 3, a4, env, NULL,
	    NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--consensus=\"pbft\""));
}

static void test_secret_both(void **state)
{
	const char *env[] = {"NODE_NUMBER=3", "NODE_ORDINAL=0",
	    "CLUSTER_SECRET=a", "CLUSTER_SECRET_FILE=/run/s", NULL};

	(void)state;
	assert_int_equal(load_env(SETTINGS_RUN, env, NULL, NULL), -EINVAL);
	assert_non_null(strstr(err, "both set"));
}

static void test_parse_uint(void **state)
{
	unsigned long v;

	(void)state;
	assert_int_equal(settings_parse_uint("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(settings_parse_uint("", 0, 100, &v), -EINVAL);
	assert_int_equal(settings_parse_uint("+1", 0, 100, &v), -EINVAL);
	assert_int_equal(settings_parse_uint("101", 0, 100, &v), -EINVAL);
	assert_int_equal(settings_parse_uint("99999999999999999999999", 0,
	    ~0UL, &v), -EINVAL);
}

static void test_usage_lists_everything(void **state)
{
	static const char *const names[] = {"NODE_PREFIX", "NODE_NUMBER",
	    "NODE_ORDINAL", "NODE_DOMAIN", "DATA_DIR", "HTTP_PORT",
	    "P2P_PORT", "RAFT_PORT", "RPC_PORT", "WS_PORT", "TM_PORT",
	    "CONSENSUS", "PRIVACY", "ADDRESS_MODE", "CHAIN_ID",
	    "PERMISSIONED", "KEYSTORE_KDF", "ACCOUNT_PASSWORD_FILE",
	    "CLUSTER_SECRET", "CLUSTER_SECRET_FILE", "DISCOVERY_TIMEOUT",
	    "LAUNCH", "GETH_ARGS", "TM_ARGS", "STOP_TIMEOUT", "LOG_FORMAT",
	    "LOG_LEVEL", "--dry-run", "--check"};
	char buf[8192];
	size_t i;

	(void)state;
	settings_usage(buf, sizeof(buf));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strstr(buf, names[i]) == NULL)
			fail_msg("usage lacks %s", names[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_variable),
	    cmocka_unit_test(test_flags_win),
	    cmocka_unit_test(test_positional),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_rpc_settings),
	    cmocka_unit_test(test_genesis_form_tm_timeout),
	    cmocka_unit_test(test_settings_together),
	    cmocka_unit_test(test_secret_never_in_error),
	    cmocka_unit_test(test_ordinal_rules),
	    cmocka_unit_test(test_domain_from_fqdn),
	    cmocka_unit_test(test_bad_flags),
	    cmocka_unit_test(test_secret_both),
	    cmocka_unit_test(test_parse_uint),
	    cmocka_unit_test(test_usage_lists_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
