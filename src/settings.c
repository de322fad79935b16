/*
 * Settings have one home: every one is an environment variable and a long
 * flag, read once into struct settings and validated here. Pure: the caller
 * passes argv, the environment and the host names.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "peerd/settings.h"

enum kind {
	K_STR,    /* free text up to the field's size */
	K_NAME,   /* DNS label-ish: [a-z0-9-] */
	K_DOMAIN, /* DNS name or "" */
	K_IP,     /* IP literal or "" */
	K_PATH,   /* absolute path */
	K_PORT,
	K_UINT,
	K_ENUM,
	K_BOOL,   /* yes|no */
	K_SECRET,
	K_APIS,    /* comma-separated RPC namespaces */
	K_HOSTS,   /* comma-separated host names, or "*" */
	K_ORIGINS, /* comma-separated scheme://host[:port], never "*" */
	K_FLAG    /* flag only, no value */
};

enum key {
	KEY_NODE_PREFIX,
	KEY_NODE_NUMBER,
	KEY_NODE_ORDINAL,
	KEY_NODE_DOMAIN,
	KEY_NODE_IP,
	KEY_DATA_DIR,
	KEY_HTTP_PORT,
	KEY_P2P_PORT,
	KEY_RAFT_PORT,
	KEY_RPC_PORT,
	KEY_WS_PORT,
	KEY_TM_PORT,
	KEY_CONSENSUS,
	KEY_PRIVACY,
	KEY_ADDRESS_MODE,
	KEY_CHAIN_ID,
	KEY_GENESIS_FORM,
	KEY_PERMISSIONED,
	KEY_KEYSTORE_KDF,
	KEY_ACCOUNT_PASSWORD_FILE,
	KEY_UNLOCK,
	KEY_RPC_ADDR,
	KEY_RPC_APIS,
	KEY_RPC_VHOSTS,
	KEY_RPC_CORS,
	KEY_WS_ORIGINS,
	KEY_CLUSTER_SECRET,
	KEY_CLUSTER_SECRET_FILE,
	KEY_DISCOVERY_TIMEOUT,
	KEY_LAUNCH,
	KEY_GETH_ARGS,
	KEY_TM_ARGS,
	KEY_TM_START_TIMEOUT,
	KEY_STOP_TIMEOUT,
	KEY_REPLACE_AFTER,
	KEY_VALIDATORS,
	KEY_LOG_FORMAT,
	KEY_LOG_LEVEL,
	KEY_GETH_BIN,
	KEY_TM_BIN,
	KEY_DRY_RUN,
	KEY_CHECK,
	KEY_TARGET_DIR,
	KEY_COUNT
};

struct spec {
	const char *env; /* NULL = flag only */
	const char *flag;
	enum kind kind;
	unsigned long min, max;
	const char *const *choices; /* K_ENUM */
	const char *help;
};

static const char *const consensus_names[] = {"raft", "istanbul", "qbft",
    NULL};
static const char *const privacy_names[] = {"auto", "constellation",
    "tessera", "none", NULL};
static const char *const address_names[] = {"ip", "dns", NULL};
static const char *const genesis_names[] = {"auto", "legacy", "current",
    NULL};
static const char *const kdf_names[] = {"standard", "light", NULL};
static const char *const format_names[] = {"text", "json", NULL};
static const char *const validators_names[] = {"all", "initial", NULL};
static const char *const level_names[] = {"error", "warn", "info", "debug",
    NULL};

static const struct spec specs[KEY_COUNT] = {
    [KEY_NODE_PREFIX] = {"NODE_PREFIX", "node-prefix", K_NAME, 1, 48, NULL,
	"peer host names are <prefix><i> (quorum-)"},
    [KEY_NODE_NUMBER] = {"NODE_NUMBER", "node-number", K_UINT, 1,
	SETTINGS_NODES_MAX, NULL, "N, the number of nodes (required)"},
    [KEY_NODE_ORDINAL] = {"NODE_ORDINAL", "node-ordinal", K_UINT, 0,
	SETTINGS_NODES_MAX - 1, NULL, "this node's i (from the hostname)"},
    [KEY_NODE_DOMAIN] = {"NODE_DOMAIN", "node-domain", K_DOMAIN, 0, 0, NULL,
	"suffix of peer names (from hostname -f)"},
    [KEY_NODE_IP] = {"NODE_IP", "node-ip", K_IP, 0, 0, NULL,
	"address this node advertises (detected)"},
    [KEY_DATA_DIR] = {"DATA_DIR", "data-dir", K_PATH, 0, 0, NULL,
	"identity, configs, chain data (/qdata)"},
    [KEY_HTTP_PORT] = {"HTTP_PORT", "http-port", K_PORT, 1, 65535, NULL,
	"identity server port (80)"},
    [KEY_P2P_PORT] = {"P2P_PORT", "p2p-port", K_PORT, 1, 65535, NULL,
	"devp2p port (30303)"},
    [KEY_RAFT_PORT] = {"RAFT_PORT", "raft-port", K_PORT, 1, 65535, NULL,
	"raft port (50400)"},
    [KEY_RPC_PORT] = {"RPC_PORT", "rpc-port", K_PORT, 1, 65535, NULL,
	"JSON-RPC HTTP port (8545)"},
    [KEY_WS_PORT] = {"WS_PORT", "ws-port", K_PORT, 1, 65535, NULL,
	"JSON-RPC WebSocket port (8546)"},
    [KEY_TM_PORT] = {"TM_PORT", "tm-port", K_PORT, 1, 65535, NULL,
	"transaction manager P2P port (9000)"},
    [KEY_CONSENSUS] = {"CONSENSUS", "consensus", K_ENUM, 0, 0,
	consensus_names, "raft, istanbul or qbft (raft)"},
    [KEY_PRIVACY] = {"PRIVACY", "privacy", K_ENUM, 0, 0, privacy_names,
	"auto, constellation, tessera or none (auto)"},
    [KEY_ADDRESS_MODE] = {"ADDRESS_MODE", "address-mode", K_ENUM, 0, 0,
	address_names, "ip or dns in enode and TM URLs (ip)"},
    [KEY_CHAIN_ID] = {"CHAIN_ID", "chain-id", K_UINT, 2, 4294967295UL, NULL,
	"genesis chainId and --networkid, not 1 (10)"},
    [KEY_GENESIS_FORM] = {"GENESIS_FORM", "genesis-form", K_ENUM, 0, 0,
	genesis_names, "auto, legacy or current genesis config (auto)"},
    [KEY_PERMISSIONED] = {"PERMISSIONED", "permissioned", K_BOOL, 0, 0, NULL,
	"yes or no (yes)"},
    [KEY_KEYSTORE_KDF] = {"KEYSTORE_KDF", "keystore-kdf", K_ENUM, 0, 0,
	kdf_names, "standard or light scrypt (standard)"},
    [KEY_ACCOUNT_PASSWORD_FILE] = {"ACCOUNT_PASSWORD_FILE",
	"account-password-file", K_PATH, 0, 0, NULL,
	"account password (random if unset)"},
    [KEY_UNLOCK] = {"UNLOCK", "unlock", K_BOOL, 0, 0, NULL,
	"yes: geth starts with the account unlocked (yes)"},
    [KEY_RPC_ADDR] = {"RPC_ADDR", "rpc-addr", K_IP, 0, 0, NULL,
	"address geth's HTTP and WS RPC listen on (0.0.0.0)"},
    [KEY_RPC_APIS] = {"RPC_APIS", "rpc-apis", K_APIS, 0, 0, NULL,
	"APIs over HTTP and WS (" SETTINGS_RPC_APIS_DEFAULT ")"},
    [KEY_RPC_VHOSTS] = {"RPC_VHOSTS", "rpc-vhosts", K_HOSTS, 0, 0, NULL,
	"host names HTTP RPC answers (localhost, own names)"},
    [KEY_RPC_CORS] = {"RPC_CORS", "rpc-cors", K_ORIGINS, 0, 0, NULL,
	"web origins allowed over HTTP RPC (none)"},
    [KEY_WS_ORIGINS] = {"WS_ORIGINS", "ws-origins", K_ORIGINS, 0, 0, NULL,
	"web origins allowed over WS (localhost)"},
    [KEY_CLUSTER_SECRET] = {"CLUSTER_SECRET", "cluster-secret", K_SECRET, 1,
	SETTINGS_SECRET_MAX, NULL,
	"HMAC key peers must share; enables relaying (unset)"},
    [KEY_CLUSTER_SECRET_FILE] = {"CLUSTER_SECRET_FILE",
	"cluster-secret-file", K_PATH, 0, 0, NULL,
	"file holding CLUSTER_SECRET"},
    [KEY_DISCOVERY_TIMEOUT] = {"DISCOVERY_TIMEOUT", "discovery-timeout",
	K_UINT, 0, 604800, NULL, "seconds, 0 = forever (0)"},
    [KEY_LAUNCH] = {"LAUNCH", "launch", K_BOOL, 0, 0, NULL,
	"yes: start TM and geth; no: write configs and serve (yes)"},
    [KEY_GETH_ARGS] = {"GETH_ARGS", "geth-args", K_STR, 0, 0, NULL,
	"extra geth arguments"},
    [KEY_TM_ARGS] = {"TM_ARGS", "tm-args", K_STR, 0, 0, NULL,
	"extra transaction manager arguments"},
    [KEY_TM_START_TIMEOUT] = {"TM_START_TIMEOUT", "tm-start-timeout", K_UINT,
	1, 86400, NULL, "seconds the TM has to answer /upcheck (120)"},
    [KEY_STOP_TIMEOUT] = {"STOP_TIMEOUT", "stop-timeout", K_UINT, 1, 3600,
	NULL, "seconds from SIGTERM to SIGKILL per child (25)"},
    [KEY_REPLACE_AFTER] = {"REPLACE_AFTER", "replace-after", K_UINT, 0,
	604800, NULL, "seconds a member's old identity must be absent before "
	"a new one at its ordinal replaces it (300)"},
    [KEY_VALIDATORS] = {"VALIDATORS", "validators", K_ENUM, 0, 0,
	validators_names, "istanbul/qbft: all = joining nodes are voted in as "
	"validators; initial = only the forming set validates (all)"},
    [KEY_LOG_FORMAT] = {"LOG_FORMAT", "log-format", K_ENUM, 0, 0,
	format_names, "text or json (text)"},
    [KEY_LOG_LEVEL] = {"LOG_LEVEL", "log-level", K_ENUM, 0, 0, level_names,
	"error, warn, info or debug (info)"},
    [KEY_GETH_BIN] = {"GETH_BIN", "geth-bin", K_STR, 0, 0, NULL,
	"geth executable (geth, from PATH)"},
    [KEY_TM_BIN] = {"TM_BIN", "tm-bin", K_STR, 0, 0, NULL,
	"TM executable (tessera or constellation-node)"},
    [KEY_DRY_RUN] = {NULL, "dry-run", K_FLAG, 0, 0, NULL,
	"print the command lines run would use, and exit"},
    [KEY_TARGET_DIR] = {NULL, "target-dir", K_PATH, 0, 0, NULL,
	"render: DATA_DIR as the node will see it (paths in configs)"},
    [KEY_CHECK] = {NULL, "check", K_FLAG, 0, 0, NULL,
	"validate the settings, print \"configuration OK\", and exit"},
};

int settings_parse_uint(const char *str, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v;
	char *end;

	if (str[0] < '0' || str[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(str, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		return -EINVAL;
	memcpy(dst, src, n + 1);
	return 0;
}

static bool valid_label_chars(const char *s, bool dots)
{
	for (; *s != '\0'; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || (dots && c == '.'))
			continue;
		return false;
	}
	return true;
}

static bool valid_domain(const char *s)
{
	size_t n = strlen(s), label = 0;

	if (n == 0)
		return true;
	if (n > 190 || !valid_label_chars(s, true) || s[0] == '.' ||
	    s[0] == '-' || s[n - 1] == '.' || s[n - 1] == '-')
		return false;
	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (label == 0 || s[-1] == '-' || s[1] == '-')
				return false;
			label = 0;
		} else if (++label > 63) {
			return false;
		}
	}
	return true;
}

static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int enum_index(const char *const *choices, const char *v)
{
	int i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], v) == 0)
			return i;
	return -1;
}

/* Names where the value came from, for the error line. */
static void where(char *buf, size_t len, const struct spec *sp, bool from_flag)
{
	if (from_flag || sp->env == NULL)
		snprintf(buf, len, "--%s", sp->flag);
	else
		snprintf(buf, len, "%s", sp->env);
}

/* Quotes at most 64 bytes of a bad value, control bytes shown as '?'. */
static void quote(char *buf, size_t len, const char *v)
{
	size_t i, n = 0;

	for (i = 0; v[i] != '\0' && n + 4 < len && i < 64; i++) {
		unsigned char c = (unsigned char)v[i];

		buf[n++] = (c < 0x20 || c == 0x7f || c == '"') ? '?' : (char)c;
	}
	if (v[i] != '\0' && n + 4 < len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
}

static int bad(char *err, size_t errlen, const struct spec *sp, bool from_flag,
    const char *value, const char *allowed)
{
	char w[64], q[80];

	where(w, sizeof(w), sp, from_flag);
	if (sp->kind == K_SECRET)
		snprintf(q, sizeof(q), "(%zu bytes, not shown)", strlen(value));
	else
		quote(q, sizeof(q), value);
	if (sp->kind == K_SECRET)
		snprintf(err, errlen, "%s %s: %s", w, q, allowed);
	else
		snprintf(err, errlen, "%s=\"%s\": %s", w, q, allowed);
	return -EINVAL;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* One item of an RPC list (K_APIS, K_HOSTS, K_ORIGINS). */
static bool list_item_ok(enum kind kind, const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return false;
	switch (kind) {
	case K_APIS:
		for (; i < n; i++)
			if (!alnum(p[i]) && p[i] != '_')
				return false;
		return n <= 32;
	case K_HOSTS:
		if (n == 1 && p[0] == '*')
			return true;
		for (; i < n; i++)
			if (!alnum(p[i]) && strchr("-._", p[i]) == NULL)
				return false;
		return n <= 253;
	case K_ORIGINS:
		/* scheme://host[:port], what a browser sends as Origin. */
		if (!alnum(p[0]) || (p[0] >= '0' && p[0] <= '9'))
			return false;
		while (i < n && (alnum(p[i]) || strchr("+-.", p[i]) != NULL))
			i++;
		if (n - i < 4 || memcmp(p + i, "://", 3) != 0)
			return false;
		for (i += 3; i < n; i++)
			if (!alnum(p[i]) && strchr("-._:[]*", p[i]) == NULL)
				return false;
		return true;
	default:
		return false;
	}
}

/*
 * A comma-separated list for geth's RPC flags: NULL if v is one, else what
 * is allowed. Spaces and empty items are refused (geth would trim them; a
 * typo is better caught here). "*" is never an origin: it would let any
 * web page a user opens call the node.
 */
static const char *list_error(enum kind kind, const char *v)
{
	const char *p = v;

	if (v[0] == '\0' && kind != K_APIS)
		return NULL; /* the default */
	for (;;) {
		size_t n = strcspn(p, ",");

		if (kind == K_ORIGINS && n == 1 && p[0] == '*')
			return "must not be \"*\" (any web page could call the "
			       "node): list the origins, e.g. "
			       "https://app.example.com";
		if (!list_item_ok(kind, p, n))
			break;
		if (p[n] == '\0')
			return NULL;
		p += n + 1;
	}
	switch (kind) {
	case K_APIS:
		return "must be API namespaces (letters, digits, '_') "
		       "separated by commas, e.g. eth,net,web3,txpool";
	case K_HOSTS:
		return "must be host names (letters, digits, '-', '.', '_') "
		       "or *, separated by commas";
	default:
		return "must be origins scheme://host[:port] separated by "
		       "commas, e.g. http://localhost:3000";
	}
}

static int apply(struct settings *s, enum key k, const char *v, bool from_flag,
    char *err, size_t errlen)
{
	const struct spec *sp = &specs[k];
	unsigned long u = 0;
	char allowed[160];
	int idx = 0;

	switch (sp->kind) {
	case K_UINT:
	case K_PORT:
		if (settings_parse_uint(v, sp->min, sp->max, &u) < 0) {
			snprintf(allowed, sizeof(allowed),
			    "must be an integer from %lu to %lu", sp->min,
			    sp->max);
			return bad(err, errlen, sp, from_flag, v, allowed);
		}
		break;
	case K_ENUM: {
		size_t n = 0;
		int i;

		idx = enum_index(sp->choices, v);
		if (idx >= 0)
			break;
		n = (size_t)snprintf(allowed, sizeof(allowed), "must be one of");
		for (i = 0; sp->choices[i] != NULL && n < sizeof(allowed); i++)
			n += (size_t)snprintf(allowed + n, sizeof(allowed) - n,
			    "%s %s", i ? "," : "", sp->choices[i]);
		return bad(err, errlen, sp, from_flag, v, allowed);
	}
	case K_BOOL:
		if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0)
			idx = 1;
		else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 ||
		    strcmp(v, "0") == 0)
			idx = 0;
		else
			return bad(err, errlen, sp, from_flag, v,
			    "must be yes or no");
		break;
	case K_NAME:
		if (strlen(v) < sp->min || strlen(v) > sp->max ||
		    !valid_label_chars(v, false) || v[0] == '-')
			return bad(err, errlen, sp, from_flag, v,
			    "must be 1-48 characters of a-z, 0-9 and '-', "
			    "not starting with '-'");
		break;
	case K_DOMAIN:
		if (!valid_domain(v))
			return bad(err, errlen, sp, from_flag, v,
			    "must be a DNS name (a-z, 0-9, '-', '.') or empty");
		break;
	case K_IP: {
		unsigned char buf[16];

		if (v[0] != '\0' && inet_pton(AF_INET, v, buf) != 1 &&
		    inet_pton(AF_INET6, v, buf) != 1)
			return bad(err, errlen, sp, from_flag, v,
			    "must be an IPv4 or IPv6 address");
		break;
	}
	case K_PATH:
		if (v[0] != '/' || !printable(v))
			return bad(err, errlen, sp, from_flag, v,
			    "must be an absolute path");
		break;
	case K_SECRET:
		if (strlen(v) < sp->min || strlen(v) > sp->max)
			return bad(err, errlen, sp, from_flag, v,
			    "must be 1 to 256 bytes");
		break;
	case K_APIS:
	case K_HOSTS:
	case K_ORIGINS: {
		const char *why = list_error(sp->kind, v);

		if (why != NULL)
			return bad(err, errlen, sp, from_flag, v, why);
		break;
	}
	case K_STR:
		if (!printable(v))
			return bad(err, errlen, sp, from_flag, v,
			    "must not contain control characters");
		break;
	case K_FLAG:
		break;
	}

#define COPY(field)                                                           \
	do {                                                                  \
		if (copy(s->field, sizeof(s->field), v) < 0)                  \
			return bad(err, errlen, sp, from_flag, v, "too long"); \
	} while (0)

	switch (k) {
	case KEY_NODE_PREFIX: COPY(node_prefix); break;
	case KEY_NODE_NUMBER: s->node_number = (unsigned)u; break;
	case KEY_NODE_ORDINAL:
		s->node_ordinal = (unsigned)u;
		s->ordinal_set = true;
		break;
	case KEY_NODE_DOMAIN: COPY(node_domain); break;
	case KEY_NODE_IP: COPY(node_ip); break;
	case KEY_DATA_DIR:
		/* geth's IPC and the TM socket live below it (sun_path). */
		if (strlen(v) > 64)
			return bad(err, errlen, sp, from_flag, v,
			    "must be at most 64 characters (unix socket paths "
			    "live below it)");
		COPY(data_dir);
		while (strlen(s->data_dir) > 1 &&
		    s->data_dir[strlen(s->data_dir) - 1] == '/')
			s->data_dir[strlen(s->data_dir) - 1] = '\0';
		break;
	case KEY_HTTP_PORT: s->http_port = (uint16_t)u; break;
	case KEY_P2P_PORT: s->p2p_port = (uint16_t)u; break;
	case KEY_RAFT_PORT: s->raft_port = (uint16_t)u; break;
	case KEY_RPC_PORT: s->rpc_port = (uint16_t)u; break;
	case KEY_WS_PORT: s->ws_port = (uint16_t)u; break;
	case KEY_TM_PORT: s->tm_port = (uint16_t)u; break;
	case KEY_CONSENSUS: s->consensus = (enum consensus)idx; break;
	case KEY_PRIVACY: s->privacy = (enum privacy)idx; break;
	case KEY_ADDRESS_MODE: s->address_mode = (enum address_mode)idx; break;
	case KEY_CHAIN_ID: s->chain_id = u; break;
	case KEY_GENESIS_FORM:
		s->genesis_form = (enum genesis_form)idx;
		break;
	case KEY_PERMISSIONED: s->permissioned = idx; break;
	case KEY_KEYSTORE_KDF: s->kdf = (enum keystore_kdf)idx; break;
	case KEY_ACCOUNT_PASSWORD_FILE: COPY(account_password_file); break;
	case KEY_UNLOCK: s->unlock = idx; break;
	case KEY_RPC_ADDR:
		if (v[0] == '\0')
			return bad(err, errlen, sp, from_flag, v,
			    "must be an IPv4 or IPv6 address");
		COPY(rpc_addr);
		break;
	case KEY_RPC_APIS: COPY(rpc_apis); break;
	case KEY_RPC_VHOSTS: COPY(rpc_vhosts); break;
	case KEY_RPC_CORS: COPY(rpc_cors); break;
	case KEY_WS_ORIGINS: COPY(ws_origins); break;
	case KEY_CLUSTER_SECRET:
		s->cluster_secret_len = strlen(v);
		memcpy(s->cluster_secret, v, s->cluster_secret_len);
		break;
	case KEY_CLUSTER_SECRET_FILE: COPY(cluster_secret_file); break;
	case KEY_DISCOVERY_TIMEOUT: s->discovery_timeout = (unsigned)u; break;
	case KEY_LAUNCH: s->launch = idx; break;
	case KEY_GETH_ARGS: COPY(geth_args); break;
	case KEY_TM_ARGS: COPY(tm_args); break;
	case KEY_TM_START_TIMEOUT: s->tm_start_timeout = (unsigned)u; break;
	case KEY_STOP_TIMEOUT: s->stop_timeout = (unsigned)u; break;
	case KEY_REPLACE_AFTER: s->replace_after = (unsigned)u; break;
	case KEY_VALIDATORS: s->validators_initial = idx == 1; break;
	case KEY_LOG_FORMAT: s->log_format = (enum log_format)idx; break;
	case KEY_LOG_LEVEL: s->log_level = (enum log_level)idx; break;
	case KEY_GETH_BIN: COPY(geth_bin); break;
	case KEY_TM_BIN: COPY(tm_bin); break;
	case KEY_DRY_RUN: s->dry_run = true; break;
	case KEY_CHECK: s->check = true; break;
	case KEY_TARGET_DIR:
		if (strlen(v) > 64)
			return bad(err, errlen, sp, from_flag, v,
			    "must be at most 64 characters");
		COPY(target_dir);
		break;
	case KEY_COUNT: break;
	}
#undef COPY
	return 0;
}

void settings_defaults(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->node_prefix, "quorum-");
	strcpy(s->data_dir, "/qdata");
	s->http_port = 80;
	s->p2p_port = 30303;
	s->raft_port = 50400;
	s->rpc_port = 8545;
	s->ws_port = 8546;
	s->tm_port = 9000;
	s->consensus = CONSENSUS_RAFT;
	s->privacy = PRIVACY_AUTO;
	s->address_mode = ADDRESS_IP;
	s->chain_id = 10;
	s->permissioned = true;
	s->kdf = KEYSTORE_KDF_STANDARD;
	s->unlock = true;
	strcpy(s->rpc_addr, "0.0.0.0");
	strcpy(s->rpc_apis, SETTINGS_RPC_APIS_DEFAULT);
	s->launch = true;
	s->stop_timeout = 25;
	s->replace_after = 300;
	s->tm_start_timeout = 120;
	s->log_format = LOG_TEXT;
	s->log_level = LOG_INFO;
	strcpy(s->geth_bin, "geth");
}

static const char *env_lookup(const char *const envp[], const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], name, n) == 0 && envp[i][n] == '=')
			return envp[i] + n + 1;
	return NULL;
}

static int find_flag(const char *name, size_t len)
{
	int k;

	for (k = 0; k < KEY_COUNT; k++)
		if (strlen(specs[k].flag) == len &&
		    strncmp(specs[k].flag, name, len) == 0)
			return k;
	return -1;
}

/* The ordinal from a host name "<prefix><i>"; -1 if it is not one. */
static long ordinal_from_host(const char *prefix, const char *host)
{
	size_t n = strlen(prefix);
	unsigned long u;

	if (host == NULL || strncmp(host, prefix, n) != 0)
		return -1;
	if (host[n] == '0' && host[n + 1] != '\0')
		return -1;
	if (settings_parse_uint(host + n, 0, SETTINGS_NODES_MAX - 1, &u) < 0)
		return -1;
	return (long)u;
}

/*
 * Settings that are each valid but not together (run, run --check): ports
 * one container would bind twice, Tessera's hidden third-party port
 * (TM_PORT + 80, render.c) among them, and Constellation on IPv6, which it
 * cannot serve (its public API listens on IPv4 0.0.0.0 only). PRIVACY=auto
 * may start Tessera, so both TM ports count for it. RPC_PORT = WS_PORT is
 * left alone: geth 1.10+ serves HTTP and WebSocket on one port.
 */
static int check_together(const struct settings *s, char *err, size_t errlen)
{
	bool tm = s->privacy != PRIVACY_NONE;
	bool third = s->privacy == PRIVACY_TESSERA ||
	    s->privacy == PRIVACY_AUTO;
	struct {
		const char *name;
		unsigned port;
	} use[7];
	size_t n = 0;

	if (s->privacy == PRIVACY_CONSTELLATION &&
	    strchr(s->node_ip, ':') != NULL) {
		snprintf(err, errlen, "NODE_IP=\"%s\": Constellation listens "
		    "on IPv4 only: use an IPv4 address or PRIVACY=tessera",
		    s->node_ip);
		return -EINVAL;
	}
	if (third && (unsigned)s->tm_port + SETTINGS_TESSERA_THIRDPARTY_OFFSET >
	    65535) {
		snprintf(err, errlen, "TM_PORT=\"%u\": Tessera's third-party "
		    "API listens on TM_PORT + %u: must be at most %u%s",
		    (unsigned)s->tm_port, SETTINGS_TESSERA_THIRDPARTY_OFFSET,
		    65535u - SETTINGS_TESSERA_THIRDPARTY_OFFSET,
		    s->privacy == PRIVACY_AUTO ? " (PRIVACY=auto may start "
		    "Tessera)" : "");
		return -EINVAL;
	}
	use[n].name = "HTTP_PORT";
	use[n++].port = s->http_port;
	use[n].name = "P2P_PORT";
	use[n++].port = s->p2p_port;
	if (s->consensus == CONSENSUS_RAFT) {
		use[n].name = "RAFT_PORT";
		use[n++].port = s->raft_port;
	}
	use[n].name = "RPC_PORT";
	use[n++].port = s->rpc_port;
	use[n].name = "WS_PORT";
	use[n++].port = s->ws_port;
	if (tm) {
		use[n].name = "TM_PORT";
		use[n++].port = s->tm_port;
	}
	if (third) {
		use[n].name = "TM_PORT + 80 (Tessera's third-party API)";
		use[n++].port = (unsigned)s->tm_port +
		    SETTINGS_TESSERA_THIRDPARTY_OFFSET;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (use[i].port != use[j].port ||
			    (strcmp(use[i].name, "RPC_PORT") == 0 &&
				strcmp(use[j].name, "WS_PORT") == 0))
				continue;
			snprintf(err, errlen, "ports collide: %s and %s are "
			    "both %u (each needs its own port)", use[i].name,
			    use[j].name, use[i].port);
			return -EINVAL;
		}
	}
	return 0;
}

int settings_load(struct settings *s, enum settings_mode mode, int argc,
    char *const argv[], const char *const envp[], const char *hostname,
    const char *fqdn, char *err, size_t errlen)
{
	bool domain_set = false;
	const char *v;
	int k, i, r;

	settings_defaults(s);
	err[0] = '\0';
	for (k = 0; k < KEY_COUNT; k++) {
		if (specs[k].env == NULL)
			continue;
		v = env_lookup(envp, specs[k].env);
		if (v == NULL)
			continue;
		/* An empty variable means "unset" (compose files often do). */
		if (v[0] == '\0' && specs[k].kind != K_STR)
			continue;
		r = apply(s, (enum key)k, v, false, err, errlen);
		if (r < 0)
			return r;
		if (k == KEY_NODE_DOMAIN)
			domain_set = true;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq;
		size_t len;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0')
			break;
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		k = find_flag(name, len);
		if (k < 0) {
			char q[80];

			quote(q, sizeof(q), a);
			snprintf(err, errlen,
			    "unknown option \"%s\" (see --help)", q);
			return -EINVAL;
		}
		if (specs[k].kind == K_FLAG) {
			if (eq != NULL) {
				snprintf(err, errlen,
				    "--%s takes no value", specs[k].flag);
				return -EINVAL;
			}
			v = "";
		} else if (eq != NULL) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value",
			    specs[k].flag);
			return -EINVAL;
		}
		r = apply(s, (enum key)k, v, true, err, errlen);
		if (r < 0)
			return r;
		if (k == KEY_NODE_DOMAIN)
			domain_set = true;
	}
	s->argi = i;

	if (s->cluster_secret_len > 0 && s->cluster_secret_file[0] != '\0') {
		snprintf(err, errlen, "CLUSTER_SECRET and CLUSTER_SECRET_FILE "
		    "are both set: use one");
		return -EINVAL;
	}
	if (!domain_set && fqdn != NULL && hostname != NULL) {
		size_t hl = strlen(hostname);

		/* hostname -f = "<host>.<domain>": the domain is the rest. */
		if (strncmp(fqdn, hostname, hl) == 0 && fqdn[hl] == '.' &&
		    valid_domain(fqdn + hl + 1))
			(void)copy(s->node_domain, sizeof(s->node_domain),
			    fqdn + hl + 1);
	}
	if (mode != SETTINGS_RUN)
		return 0;
	if (s->node_number == 0) {
		snprintf(err, errlen, "NODE_NUMBER is not set: must be an "
		    "integer from 1 to %d", SETTINGS_NODES_MAX);
		return -EINVAL;
	}
	if (!s->ordinal_set) {
		long o = ordinal_from_host(s->node_prefix, hostname);

		if (o < 0) {
			char q[80];

			quote(q, sizeof(q), hostname ? hostname : "");
			snprintf(err, errlen, "NODE_ORDINAL is not set and the "
			    "hostname \"%s\" is not %s<i>: set NODE_ORDINAL or "
			    "NODE_PREFIX", q, s->node_prefix);
			return -EINVAL;
		}
		s->node_ordinal = (unsigned)o;
		s->ordinal_set = true;
	}
	if (s->node_ordinal >= s->node_number) {
		snprintf(err, errlen, "NODE_ORDINAL=\"%u\": must be below "
		    "NODE_NUMBER (%u)", s->node_ordinal, s->node_number);
		return -EINVAL;
	}
	return check_together(s, err, errlen);
}

void settings_usage(char *buf, size_t len)
{
	size_t n = 0;
	int k;

	n += (size_t)snprintf(buf + n, len - n,
	    "Settings (environment variable, or long flag):\n");
	for (k = 0; k < KEY_COUNT && n < len; k++) {
		char left[64];

		if (specs[k].env != NULL)
			snprintf(left, sizeof(left), "%s, --%s", specs[k].env,
			    specs[k].flag);
		else
			snprintf(left, sizeof(left), "--%s", specs[k].flag);
		n += (size_t)snprintf(buf + n, len - n, "  %-44s %s\n", left,
		    specs[k].help);
	}
}

const char *settings_consensus_name(enum consensus c)
{
	return consensus_names[c];
}

const char *settings_privacy_name(enum privacy p)
{
	return privacy_names[p];
}

const char *settings_genesis_form_name(enum genesis_form f)
{
	return genesis_names[f];
}

void settings_wipe(struct settings *s)
{
	sodium_memzero(s->cluster_secret, sizeof(s->cluster_secret));
	s->cluster_secret_len = 0;
}
