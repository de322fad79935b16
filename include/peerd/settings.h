#ifndef PEERD_SETTINGS_H
#define PEERD_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerd/keystore.h"
#include "peerd/log.h"

/* Every setting: an environment variable and a long flag (DESIGN §3). */

enum consensus { CONSENSUS_RAFT = 0, CONSENSUS_ISTANBUL, CONSENSUS_QBFT };
enum privacy {
	PRIVACY_AUTO = 0,
	PRIVACY_CONSTELLATION,
	PRIVACY_TESSERA,
	PRIVACY_NONE
};
enum address_mode { ADDRESS_IP = 0, ADDRESS_DNS };
/*
 * The genesis form (README, "Genesis forms"): what carries the block period
 * and the contract size limit. LEGACY: config.istanbul for IBFT (geth gets
 * --istanbul.blockperiod) and maxCodeSizeConfig, what Quorum 2.x reads.
 * CURRENT: config.ibft/qbft with blockperiodseconds and
 * transitions[].contractsizelimit (GoQuorum 22.4.1+). AUTO is resolved
 * before anything is rendered (launch_resolve_genesis_form).
 */
enum genesis_form { GENESIS_AUTO = 0, GENESIS_LEGACY, GENESIS_CURRENT };

/* Which subcommand the settings are for: decides what is required. */
enum settings_mode {
	SETTINGS_RUN = 0, /* NODE_NUMBER and the ordinal are required */
	SETTINGS_IDENTITY, /* only what creating an identity needs */
	SETTINGS_RENDER,   /* offline: no ordinal needed */
	SETTINGS_PROBE
};

#define SETTINGS_NODES_MAX 1024
#define SETTINGS_SECRET_MAX 256
/* Tessera's third-party API listens on TM_PORT + this (render.c). */
#define SETTINGS_TESSERA_THIRDPARTY_OFFSET 80
/* RPC_APIS' default: nothing that administers the node, moves funds
 * (personal) or changes consensus membership (raft, istanbul). */
#define SETTINGS_RPC_APIS_DEFAULT "eth,net,web3,txpool"

struct settings {
	char node_prefix[64];
	unsigned node_number; /* 0 = not set */
	unsigned node_ordinal;
	bool ordinal_set;
	/* Not a setting: the raft ID geth is started with through
	 * --raftjoinexisting (0 = none), set by node from its record. */
	unsigned raft_join;
	char node_domain[192]; /* "" = bare names */
	char node_ip[46];      /* NODE_IP: advertised address; "" = detect */
	char data_dir[96];     /* short: unix socket paths live below it */
	uint16_t http_port;
	uint16_t p2p_port, raft_port, rpc_port, ws_port, tm_port;
	enum consensus consensus;
	enum privacy privacy;
	enum address_mode address_mode;
	unsigned long chain_id;
	enum genesis_form genesis_form; /* GENESIS_FORM */
	bool permissioned;
	enum keystore_kdf kdf;
	char account_password_file[256]; /* "" = random, in DATA_DIR/keys */
	/* What geth serves over HTTP and WebSocket (IPC serves every API). */
	bool unlock;           /* UNLOCK: start with the account unlocked */
	char rpc_addr[46];     /* RPC_ADDR: HTTP and WS listen address */
	char rpc_apis[256];    /* RPC_APIS: namespaces over HTTP and WS */
	char rpc_vhosts[1024]; /* RPC_VHOSTS: "" = localhost + own names */
	char rpc_cors[512];    /* RPC_CORS: "" = no cross-origin pages */
	char ws_origins[512];  /* WS_ORIGINS: "" = geth's (localhost) */
	/* Not a setting: the address geth unlocks ("0x" + 40 hex), filled
	 * by launch from DATA_DIR/dd/keystore. */
	char unlock_account[64];
	uint8_t cluster_secret[SETTINGS_SECRET_MAX]; /* secret: never logged */
	size_t cluster_secret_len;                   /* 0 = none */
	char cluster_secret_file[256];
	unsigned discovery_timeout; /* seconds, 0 = forever */
	bool launch;
	char geth_args[1024];
	char tm_args[1024];
	unsigned tm_start_timeout; /* TM_START_TIMEOUT, seconds */
	unsigned stop_timeout;
	unsigned replace_after; /* REPLACE_AFTER, seconds */
	bool validators_initial; /* VALIDATORS=initial (default all) */
	enum log_format log_format;
	enum log_level log_level;
	char geth_bin[256]; /* GETH_BIN, default "geth" from PATH */
	char tm_bin[256];   /* TM_BIN, default per privacy */
	bool dry_run;       /* run --dry-run */
	bool check;         /* --check: validate and exit */
	char target_dir[96]; /* render --target-dir: "" = data_dir */
	int argi;           /* index of the first positional argument */
};

#define SETTINGS_ERR_LEN 512

/*
 * Fills s from flags (argv, getopt_long style, argv[0] is the subcommand) and
 * the environment (envp: "NAME=value" strings, NULL-terminated). hostname is
 * this host's short name (for NODE_ORDINAL), fqdn its full name (for
 * NODE_DOMAIN); either may be NULL. Flags win over the environment. Pure: no
 * I/O, no getenv. CLUSTER_SECRET_FILE is only recorded, not read. Returns 0
 * or -EINVAL with one line in err naming the variable, the value and what is
 * allowed.
 */
int settings_load(struct settings *s, enum settings_mode mode, int argc,
    char *const argv[], const char *const envp[], const char *hostname,
    const char *fqdn, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The defaults of DESIGN §3 (what settings_load starts from). */
void settings_defaults(struct settings *s);

/* strtoul with end-pointer and range check. Returns 0 or -EINVAL. */
int settings_parse_uint(const char *str, unsigned long min, unsigned long max,
    unsigned long *out) __attribute__((warn_unused_result));

/* Usage text for every flag and variable. */
void settings_usage(char *buf, size_t len);

const char *settings_consensus_name(enum consensus c);
const char *settings_privacy_name(enum privacy p);
const char *settings_genesis_form_name(enum genesis_form f);

/* Wipes the secret. */
void settings_wipe(struct settings *s);

#endif
