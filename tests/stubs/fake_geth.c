/*
 * fake-geth: a stand-in for geth that checks what the daemon gives it, as
 * the real one would (or stricter, where the real one fails silently).
 *
 *   geth version                       like the chosen release
 *                                      (FAKE_GETH_VERSION=1.9.7 -> Quorum
 *                                      2.7.0; default 1.10.3 / 22.7.1)
 *   geth --datadir DD init GENESIS     formats.md §5 checks, then creates
 *                                      DD/geth/chaindata (FAKE_GETH_INIT_EXIT)
 *   geth <flags>                       flags of the pretended version only
 *                                      (unknown -> "flag provided but not
 *                                      defined"), nodekey, static/permissioned
 *                                      nodes carrying our own enode,
 *                                      PRIVATE_CONFIG (ignore, or a live socket
 *                                      answering /upcheck 200); then runs
 *                                      until signalled (fake_common.h knobs).
 *
 * Every failure prints "fake-geth: Fatal: <why>" and exits non-zero.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <dirent.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fake_common.h"
#include "peerd/encoding.h"
#include "peerd/ethkey.h"

static struct fake F;

/* The pretended release. */
static unsigned vmaj = 1, vmin = 10, vpatch = 3;
static char quorum_version[32] = "22.7.1";

static bool ge(unsigned maj, unsigned min)
{
	return vmaj > maj || (vmaj == maj && vmin >= min);
}

/* ---- flags ---------------------------------------------------------- */

enum ftype { F_BOOL, F_STR, F_UINT };

struct flagdef {
	const char *name;
	enum ftype type;
	int since_minor; /* 1.x where it appears, 0 = always */
	int until_minor; /* last 1.x that has it, 0 = still there */
};

static const struct flagdef flags[] = {
    {"datadir", F_STR, 0, 0},
    {"nodiscover", F_BOOL, 0, 0},
    {"networkid", F_UINT, 0, 0},
    {"port", F_UINT, 0, 0},
    {"maxpeers", F_UINT, 0, 0},
    {"nat", F_STR, 0, 0},
    {"identity", F_STR, 0, 0},
    {"verbosity", F_UINT, 0, 0},
    {"vmodule", F_STR, 0, 0},
    {"gcmode", F_STR, 0, 0},
    {"syncmode", F_STR, 0, 0},
    {"mine", F_BOOL, 0, 0},
    {"raft", F_BOOL, 0, 0},
    {"raftport", F_UINT, 0, 0},
    {"raftblocktime", F_UINT, 0, 0},
    {"raftjoinexisting", F_UINT, 0, 0},
    {"raftdnsenable", F_BOOL, 0, 0},
    {"emitcheckpoints", F_BOOL, 0, 0},
    {"permissioned", F_BOOL, 0, 0},
    {"istanbul.blockperiod", F_UINT, 0, 0},
    {"istanbul.requesttimeout", F_UINT, 0, 0},
    {"unlock", F_STR, 0, 0},
    {"password", F_STR, 0, 0},
    {"ws", F_BOOL, 0, 0},
    {"metrics", F_BOOL, 0, 0},
    {"nousb", F_BOOL, 0, 0},
    {"allow-insecure-unlock", F_BOOL, 9, 0},
    {"miner.threads", F_UINT, 9, 0},
    {"minerthreads", F_UINT, 0, 9},
    /* The legacy RPC flags: gone in 1.10. */
    {"rpc", F_BOOL, 0, 9},
    {"rpcaddr", F_STR, 0, 9},
    {"rpcport", F_UINT, 0, 9},
    {"rpcapi", F_STR, 0, 9},
    {"rpcvhosts", F_STR, 0, 9},
    {"rpccorsdomain", F_STR, 0, 9},
    {"wsaddr", F_STR, 0, 9},
    {"wsport", F_UINT, 0, 9},
    {"wsapi", F_STR, 0, 9},
    {"wsorigins", F_STR, 0, 9},
    /* Their 1.10 names (the pretended 1.9.7 predates them). */
    {"http", F_BOOL, 10, 0},
    {"http.addr", F_STR, 10, 0},
    {"http.port", F_UINT, 10, 0},
    {"http.api", F_STR, 10, 0},
    {"http.vhosts", F_STR, 10, 0},
    {"http.corsdomain", F_STR, 10, 0},
    {"ws.addr", F_STR, 10, 0},
    {"ws.port", F_UINT, 10, 0},
    {"ws.api", F_STR, 10, 0},
    {"ws.origins", F_STR, 10, 0},
};
#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

static const char *val[NFLAGS]; /* "true" for a set bool */

static int flag_index(const char *name)
{
	for (size_t i = 0; i < NFLAGS; i++) {
		const struct flagdef *d = &flags[i];

		if (strcmp(d->name, name) != 0)
			continue;
		if (vmaj == 1 && d->since_minor && vmin < (unsigned)d->since_minor)
			return -1;
		if (vmaj == 1 && d->until_minor && vmin > (unsigned)d->until_minor)
			return -1;
		return (int)i;
	}
	return -1;
}

static const char *get(const char *name)
{
	for (size_t i = 0; i < NFLAGS; i++)
		if (strcmp(flags[i].name, name) == 0)
			return val[i];
	return NULL;
}

static bool has(const char *name)
{
	const char *v = get(name);

	return v != NULL && strcmp(v, "false") != 0;
}

static unsigned long get_uint(const char *name, unsigned long dflt)
{
	const char *v = get(name);

	return v != NULL ? strtoul(v, NULL, 10) : dflt;
}

/* Parses flags from argv[*i] on; stops at the first positional. */
static void parse_flags(int argc, char **argv, int *i)
{
	for (; *i < argc; (*i)++) {
		char *a = argv[*i], name[64], *eq;
		const char *v = NULL;
		int k;

		if (a[0] != '-' || a[1] == '\0')
			return;
		a += a[1] == '-' ? 2 : 1;
		eq = strchr(a, '=');
		snprintf(name, sizeof(name), "%.*s",
		    (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
		if (eq != NULL)
			v = eq + 1;
		k = flag_index(name);
		if (k < 0)
			fake_die(&F, 1, "flag provided but not defined: -%s "
			    "(geth %u.%u.%u)", name, vmaj, vmin, vpatch);
		if (flags[k].type == F_BOOL) {
			if (v != NULL && strcmp(v, "true") && strcmp(v, "false"))
				fake_die(&F, 1, "invalid boolean value \"%s\" "
				    "for -%s", v, name);
			val[k] = v != NULL ? v : "true";
			continue;
		}
		if (v == NULL) {
			if (*i + 1 >= argc)
				fake_die(&F, 1, "flag needs an argument: -%s",
				    name);
			v = argv[++(*i)];
		}
		if (flags[k].type == F_UINT) {
			char *end;

			errno = 0;
			unsigned long n = strtoul(v, &end, 10);

			if (*v == '\0' || *end != '\0' || errno != 0 ||
			    v[0] == '-' || n > 0xffffffffUL)
				fake_die(&F, 1, "invalid value \"%s\" for flag "
				    "-%s: parse error", v, name);
		}
		val[k] = v;
	}
}

/* ---- small helpers -------------------------------------------------- */

static char *slurp(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "re");
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	buf = malloc(max + 1);
	if (buf == NULL)
		fake_die(&F, 1, "out of memory");
	n = fread(buf, 1, max, fp);
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

static void mkdir_p(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			fake_die(&F, 1, "mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		fake_die(&F, 1, "mkdir %s: %s", tmp, strerror(errno));
}

static bool hexstr(const char *s, size_t *nbytes)
{
	size_t n;

	if (strncmp(s, "0x", 2) != 0 && strncmp(s, "0X", 2) != 0)
		return false;
	s += 2;
	n = strlen(s);
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	if (nbytes != NULL)
		*nbytes = n / 2;
	return n % 2 == 0;
}

/* math.HexOrDecimal64/256: "0x..." or decimal, as a JSON string. */
static bool hex_or_dec(const cJSON *v, unsigned long long *out)
{
	const char *s;
	char *end;

	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	errno = 0;
	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0) {
		if (s[2] == '\0')
			return false;
		for (const char *p = s + 2; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return false;
		/* Only small values matter here (difficulty, nonce). */
		*out = strlen(s + 2) > 16 ? ~0ULL : strtoull(s + 2, &end, 16);
		return true;
	}
	if (*s == '\0')
		return false;
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	*out = strlen(s) > 19 ? ~0ULL : strtoull(s, &end, 10);
	return true;
}

/* ---- RLP ------------------------------------------------------------- */

struct rlp {
	const uint8_t *p; /* payload */
	size_t len;
	bool list;
};

/* One canonical item at in[0..]; 0 or -1. */
static int rlp_item(const uint8_t *in, size_t inlen, struct rlp *it,
    size_t *used)
{
	uint8_t b;
	size_t ll, len = 0, hdr;

	if (inlen == 0)
		return -1;
	b = in[0];
	if (b < 0x80) {
		it->p = in;
		it->len = 1;
		it->list = false;
		*used = 1;
		return 0;
	}
	if (b <= 0xb7 || (b >= 0xc0 && b <= 0xf7)) {
		len = b & 0x3f;
		if (b <= 0xb7)
			len = b - 0x80;
		else
			len = b - 0xc0;
		hdr = 1;
	} else {
		ll = b <= 0xbf ? (size_t)(b - 0xb7) : (size_t)(b - 0xf7);
		if (ll > 4 || inlen < 1 + ll || in[1] == 0)
			return -1;
		for (size_t i = 0; i < ll; i++)
			len = len << 8 | in[1 + i];
		if (len < 56)
			return -1;
		hdr = 1 + ll;
	}
	if (inlen - hdr < len)
		return -1;
	it->p = in + hdr;
	it->len = len;
	it->list = b >= 0xc0;
	/* A single byte below 0x80 must be itself. */
	if (!it->list && len == 1 && hdr == 1 && it->p[0] < 0x80)
		return -1;
	*used = hdr + len;
	return 0;
}

/* Splits a list payload into up to max items; returns the count or -1. */
static int rlp_items(const struct rlp *l, struct rlp *out, int max)
{
	size_t off = 0, used;
	int n = 0;

	while (off < l->len) {
		if (n == max || rlp_item(l->p + off, l->len - off, &out[n],
				    &used) < 0)
			return -1;
		off += used;
		n++;
	}
	return n;
}

#define MAX_VALIDATORS 256
static uint8_t validators[MAX_VALIDATORS][20];
static int nvalidators;

static void validator_list(const struct rlp *l, const char *what)
{
	struct rlp v[MAX_VALIDATORS];
	int n;

	if (!l->list || (n = rlp_items(l, v, MAX_VALIDATORS)) < 0)
		fake_die(&F, 1, "%s: validators is not a list", what);
	for (int i = 0; i < n; i++) {
		if (v[i].list || v[i].len != 20)
			fake_die(&F, 1, "%s: validator %d is not 20 bytes",
			    what, i);
		memcpy(validators[i], v[i].p, 20);
	}
	nvalidators = n;
}

/* IBFT: vanity(32) || RLP([validators, seal, committedSeal]). */
static void ibft_extra(const uint8_t *x, size_t n)
{
	struct rlp top, it[3];
	size_t used;

	if (n < 32)
		fake_die(&F, 1, "extraData: invalid istanbul header extra-data "
		    "(shorter than the 32-byte vanity)");
	if (rlp_item(x + 32, n - 32, &top, &used) < 0 || used != n - 32 ||
	    !top.list || rlp_items(&top, it, 3) != 3)
		fake_die(&F, 1, "extraData: invalid istanbul header extra-data "
		    "(want vanity + RLP([validators, seal, committedSeal]))");
	validator_list(&it[0], "extraData");
	if (it[1].list || (it[1].len != 0 && it[1].len != 65))
		fake_die(&F, 1, "extraData: seal must be empty or 65 bytes");
	if (!it[2].list)
		fake_die(&F, 1, "extraData: committedSeal must be a list");
}

/* QBFT: RLP([vanity32, validators, vote, round, seals]). */
static void qbft_extra(const uint8_t *x, size_t n)
{
	struct rlp top, it[5];
	size_t used;

	if (rlp_item(x, n, &top, &used) < 0 || used != n || !top.list ||
	    rlp_items(&top, it, 5) != 5)
		fake_die(&F, 1, "extraData: invalid qbft extra-data (want "
		    "RLP([vanity, validators, vote, round, seals]))");
	if (it[0].list || it[0].len != 32)
		fake_die(&F, 1, "extraData: qbft vanity must be 32 bytes");
	validator_list(&it[1], "extraData");
	if (!it[2].list)
		fake_die(&F, 1, "extraData: rlp: wrong kind of empty value "
		    "(vote must be a list, 0xc0 for none)");
	if (it[3].list || it[3].len > 4 ||
	    (it[3].len > 0 && it[3].p[0] == 0))
		fake_die(&F, 1, "extraData: rlp: non-canonical round");
	if (!it[4].list)
		fake_die(&F, 1, "extraData: committed seals must be a list");
}

/* ---- genesis -------------------------------------------------------- */

static const char *const forks[] = {"homesteadBlock", "eip150Block",
    "eip155Block", "eip158Block", "byzantiumBlock", "constantinopleBlock",
    "petersburgBlock", "istanbulBlock"};

enum consensus { C_NONE, C_IBFT, C_QBFT };

struct genesis_info {
	unsigned long long chain_id;
	enum consensus cons;
};

static const cJSON *member_ci(const cJSON *o, const char *name)
{
	/* encoding/json matches member names case-insensitively. */
	return cJSON_GetObjectItem(o, name);
}

static void check_genesis(const char *txt, struct genesis_info *gi)
{
	cJSON *g = cJSON_Parse(txt);
	const cJSON *cfg, *v, *ist, *qbft, *ibft, *alloc, *a;
	unsigned long long u;
	bool gap = false;
	size_t nb;

	memset(gi, 0, sizeof(*gi));
	if (g == NULL || !cJSON_IsObject(g))
		fake_die(&F, 1, "invalid genesis file: not a JSON object");
	cfg = member_ci(g, "config");
	if (!cJSON_IsObject(cfg))
		fake_die(&F, 1, "Failed to write genesis block: genesis has no "
		    "chain configuration");
	for (size_t i = 0; i < 3; i++) {
		static const char *const req[] = {"gasLimit", "difficulty",
		    "alloc"};

		if (member_ci(g, req[i]) == NULL)
			fake_die(&F, 1, "invalid genesis file: missing required "
			    "field '%s' for Genesis", req[i]);
	}
	if (!hex_or_dec(member_ci(g, "gasLimit"), &u) || u == 0)
		fake_die(&F, 1, "invalid genesis file: gasLimit must be a "
		    "non-zero hex or decimal string");
	if (!hex_or_dec(member_ci(g, "difficulty"), &u))
		fake_die(&F, 1, "invalid genesis file: difficulty must be a hex "
		    "or decimal string");
	for (size_t i = 0; i < 4; i++) {
		static const char *const opt[] = {"nonce", "timestamp",
		    "number", "gasUsed"};

		v = member_ci(g, opt[i]);
		if (v != NULL && !hex_or_dec(v, &u))
			fake_die(&F, 1, "invalid genesis file: %s: not a hex or "
			    "decimal string", opt[i]);
	}
	v = member_ci(g, "extraData");
	if (v != NULL && (!cJSON_IsString(v) || !hexstr(v->valuestring, NULL)))
		fake_die(&F, 1, "invalid genesis file: extraData: want 0x-"
		    "prefixed even-length hex");
	for (size_t i = 0; i < 2; i++) {
		static const char *const h[] = {"mixHash", "parentHash"};

		v = member_ci(g, h[i]);
		if (v != NULL && (!cJSON_IsString(v) ||
				     !hexstr(v->valuestring, &nb) || nb != 32))
			fake_die(&F, 1, "invalid genesis file: %s: want 0x + "
			    "64 hex", h[i]);
	}
	v = member_ci(g, "coinbase");
	if (v != NULL && (!cJSON_IsString(v) || !hexstr(v->valuestring, &nb) ||
			     nb != 20))
		fake_die(&F, 1, "invalid genesis file: coinbase: want 0x + 40 "
		    "hex");
	alloc = member_ci(g, "alloc");
	if (!cJSON_IsObject(alloc))
		fake_die(&F, 1, "invalid genesis file: alloc must be an object");
	cJSON_ArrayForEach(a, alloc)
	{
		const char *k = a->string;
		size_t kl;

		if (strncmp(k, "0x", 2) == 0 || strncmp(k, "0X", 2) == 0)
			k += 2;
		kl = strlen(k);
		for (size_t i = 0; i < kl; i++)
			if (!isxdigit((unsigned char)k[i]))
				kl = 0;
		if (kl != 40)
			fake_die(&F, 1, "invalid genesis file: alloc key \"%s\" "
			    "is not an address", a->string);
		if (!hex_or_dec(member_ci(a, "balance"), &u))
			fake_die(&F, 1, "invalid genesis file: alloc %s: "
			    "balance must be a hex or decimal string",
			    a->string);
	}

	/* Quorum rules (formats.md §5). */
	v = member_ci(cfg, "isQuorum");
	if (v != NULL && !cJSON_IsTrue(v))
		fake_die(&F, 1, "genesis config.isQuorum must be true for a "
		    "Quorum chain");
	v = member_ci(cfg, "chainId");
	if (!cJSON_IsNumber(v) || v->valuedouble < 0)
		fake_die(&F, 1, "genesis config.chainId missing or not a "
		    "number");
	gi->chain_id = (unsigned long long)v->valuedouble;
	if (gi->chain_id == 1)
		fake_die(&F, 1, "Cannot have chain id or network id as 1.");
	v = member_ci(cfg, "maxCodeSize");
	if ((v != NULL && (!cJSON_IsNumber(v) || v->valuedouble != 0)) ||
	    member_ci(cfg, "maxCodeSizeChangeBlock") != NULL)
		fake_die(&F, 1, "maxCodeSize & maxCodeSizeChangeBlock "
		    "deprecated. Consider using maxCodeSizeConfig");
	v = member_ci(cfg, "txnSizeLimit");
	if (v != NULL && cJSON_IsNumber(v) && v->valuedouble != 0 &&
	    (v->valuedouble < 32 || v->valuedouble > 128))
		fake_die(&F, 1, "Genesis transaction size limit must be between "
		    "32 and 128");
	double prev = 0;

	for (size_t i = 0; i < sizeof(forks) / sizeof(forks[0]); i++) {
		v = member_ci(cfg, forks[i]);
		if (v == NULL) {
			gap = true;
			continue;
		}
		if (!cJSON_IsNumber(v) || v->valuedouble < 0)
			fake_die(&F, 1, "genesis config.%s: not a block number",
			    forks[i]);
		if (gap)
			fake_die(&F, 1, "unsupported fork ordering: %s not "
			    "enabled, but %s enabled at %.0f", forks[i - 1],
			    forks[i], v->valuedouble);
		if (v->valuedouble < prev)
			fake_die(&F, 1, "unsupported fork ordering: %s enabled "
			    "at %.0f, but %s enabled at %.0f", forks[i - 1],
			    prev, forks[i], v->valuedouble);
		/* Stricter than geth, as the daemon promises: all at 0. */
		if (v->valuedouble != 0)
			fake_die(&F, 1, "genesis config.%s = %.0f: the daemon "
			    "must enable every fork at block 0", forks[i],
			    v->valuedouble);
		prev = v->valuedouble;
	}
	if (gap)
		fake_die(&F, 1, "genesis config: every fork block homestead.."
		    "istanbul must be set (0)");

	ist = member_ci(cfg, "istanbul");
	qbft = member_ci(cfg, "qbft");
	ibft = member_ci(cfg, "ibft");
	if ((qbft != NULL || ibft != NULL) && !ge(1, 10))
		fake_die(&F, 1, "genesis config.qbft/ibft need GoQuorum >= "
		    "22.4 (this is geth %u.%u.%u)", vmaj, vmin, vpatch);
	if (ist != NULL && (qbft != NULL || ibft != NULL))
		fake_die(&F, 1, "the genesis has both istanbul and ibft/qbft");
	if (qbft != NULL && ibft != NULL)
		fake_die(&F, 1, "the genesis has both ibft and qbft");
	if (qbft != NULL) {
		gi->cons = C_QBFT;
	} else if (ibft != NULL) {
		gi->cons = C_IBFT;
	} else if (ist != NULL) {
		const cJSON *t = member_ci(ist, "testQBFTBlock");

		gi->cons = cJSON_IsNumber(t) && t->valuedouble == 0 ? C_QBFT
								     : C_IBFT;
	}
	if (gi->cons != C_NONE) {
		static const char digest[] = "0x63746963616c2062797a616e74696e"
					     "65206661756c7420746f6c6572616e6365";
		const cJSON *x = member_ci(g, "extraData");
		const cJSON *mh = member_ci(g, "mixHash");
		uint8_t *bytes;
		size_t n;

		if (!hex_or_dec(member_ci(g, "difficulty"), &u) || u != 1)
			fake_die(&F, 1, "invalid difficulty: istanbul/qbft "
			    "genesis needs difficulty 1");
		if (!cJSON_IsString(mh) || strcasecmp(mh->valuestring, digest))
			fake_die(&F, 1, "invalid mix digest: want the "
			    "IstanbulDigest %s", digest);
		v = member_ci(g, "nonce");
		if (v != NULL && (!hex_or_dec(v, &u) || u != 0))
			fake_die(&F, 1, "invalid nonce: must be 0x0");
		if (!cJSON_IsString(x) || !hexstr(x->valuestring, &n))
			fake_die(&F, 1, "extraData missing");
		bytes = malloc(n + 1);
		if (bytes == NULL || encoding_unhex(bytes, n, x->valuestring + 2,
					 2 * n) < 0)
			fake_die(&F, 1, "extraData: bad hex");
		if (gi->cons == C_QBFT)
			qbft_extra(bytes, n);
		else
			ibft_extra(bytes, n);
		free(bytes);
		if (nvalidators == 0)
			fake_die(&F, 1, "extraData carries no validators");
	}
	cJSON_Delete(g);
}

/* ---- commands ------------------------------------------------------- */

static void cmd_version(void)
{
	printf("Geth\nVersion: %u.%u.%u-stable\nGit Commit: "
	       "0000000000000000000000000000000000000000\n",
	    vmaj, vmin, vpatch);
	if (ge(1, 10))
		printf("Git Commit Date: 20220101\n");
	printf("Quorum Version: %s\nArchitecture: amd64\n", quorum_version);
	if (!ge(1, 10))
		printf("Protocol Versions: [64 63]\nNetwork Id: 1337\n");
	printf("Go Version: go1.%d.15\nOperating System: linux\nGOPATH=\n"
	       "GOROOT=/usr/local/go\n",
	    ge(1, 10) ? 17 : 13);
	fake_log(&F, "version %u.%u.%u", vmaj, vmin, vpatch);
	exit(0);
}

static void no_private_config(const char *cmd)
{
	const char *pc = getenv("PRIVATE_CONFIG");

	/* Quorum 2.x panics at start-up (and 21.4+ exits) when the PTM is
	 * not reachable yet: sub-commands must run without it. */
	if (pc != NULL && pc[0] != '\0' && strcasecmp(pc, "ignore") != 0)
		fake_die(&F, 2, "`geth %s` started with PRIVATE_CONFIG=%s: "
		    "sub-commands must run without it (formats.md §6)", cmd,
		    pc);
}

static void cmd_init(int argc, char **argv, int i)
{
	const char *dd, *gpath = NULL, *knob;
	char path[600], *txt, *old;
	struct genesis_info gi;
	size_t len;
	FILE *fp;

	no_private_config("init");
	parse_flags(argc, argv, &i); /* flags after the command */
	if (i < argc)
		gpath = argv[i++];
	if (i < argc)
		fake_die(&F, 1, "init: unexpected argument %s", argv[i]);
	dd = get("datadir");
	if (dd == NULL)
		fake_die(&F, 1, "init without --datadir (would write "
		    "~/.ethereum)");
	if (gpath == NULL)
		fake_die(&F, 1, "must supply path to genesis JSON file");
	txt = slurp(gpath, 1 << 22, &len);
	if (txt == NULL)
		fake_die(&F, 1, "Failed to read genesis file: open %s: %s",
		    gpath, strerror(errno));
	check_genesis(txt, &gi);
	knob = fake_knob(&F, "INIT_EXIT");
	if (knob != NULL && atoi(knob) != 0) {
		fprintf(stderr, "fake-geth: Fatal: Failed to write genesis "
				"block: (FAKE_GETH_INIT_EXIT=%s)\n", knob);
		fake_log(&F, "init exit %d", atoi(knob));
		exit(atoi(knob));
	}
	snprintf(path, sizeof(path), "%s/geth/chaindata", dd);
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	    "/GENESIS.json");
	old = slurp(path, 1 << 22, NULL);
	if (old != NULL && strcmp(old, txt) != 0)
		fake_die(&F, 1, "Failed to write genesis block: database "
		    "contains incompatible genesis");
	free(old);
	snprintf(path, sizeof(path), "%s/geth/chaindata", dd);
	mkdir_p(path);
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	    "/GENESIS.json");
	fp = fopen(path, "we");
	if (fp == NULL || fwrite(txt, 1, len, fp) != len || fclose(fp) != 0)
		fake_die(&F, 1, "cannot write %s", path);
	free(txt);
	fprintf(stderr, "INFO Successfully wrote genesis state database="
			"chaindata\n");
	fake_log(&F, "init ok %s chainid=%llu validators=%d", gpath,
	    gi.chain_id, nvalidators);
	exit(0);
}

/* enode://<128hex>@host:port[?discport=N][&raftport=M] */
struct enode {
	char id[129];
	char host[256];
	unsigned port, raftport;
	bool has_raftport;
};

static bool parse_enode(const char *u, struct enode *e, char *why,
    size_t wl)
{
	const char *at, *colon, *q;
	char portbuf[16];
	struct in6_addr a6;
	struct in_addr a4;

	memset(e, 0, sizeof(*e));
	if (strncmp(u, "enode://", 8) != 0)
		return snprintf(why, wl, "invalid URL scheme, want \"enode\""),
		       false;
	u += 8;
	at = strchr(u, '@');
	if (at == NULL || at - u != 128)
		return snprintf(why, wl, "invalid public key (wrong length, "
					 "want 128 hex chars)"),
		       false;
	snprintf(e->id, sizeof(e->id), "%.128s", u);
	for (int i = 0; i < 128; i++)
		if (!isxdigit((unsigned char)e->id[i]))
			return snprintf(why, wl, "invalid public key"), false;
	q = strchr(at, '?');
	colon = strrchr(at, ':');
	if (colon == NULL || (q != NULL && colon > q))
		return snprintf(why, wl, "missing port"), false;
	snprintf(e->host, sizeof(e->host), "%.*s", (int)(colon - at - 1),
	    at + 1);
	snprintf(portbuf, sizeof(portbuf), "%.*s",
	    (int)(q ? q - colon - 1 : (long)strlen(colon + 1)), colon + 1);
	e->port = (unsigned)strtoul(portbuf, NULL, 10);
	if (e->port == 0 || e->port > 65535)
		return snprintf(why, wl, "invalid port"), false;
	if (e->host[0] == '\0')
		return snprintf(why, wl, "empty hostname"), false;
	/* Hosts: IP literals; names only with --raftdnsenable. */
	if (inet_pton(AF_INET, e->host, &a4) != 1 &&
	    inet_pton(AF_INET6, e->host, &a6) != 1 && !has("raftdnsenable"))
		return snprintf(why, wl, "invalid IP address %.64s (hostnames "
					 "need --raftdnsenable)",
			   e->host),
		       false;
	if (q != NULL) {
		const char *r = strstr(q, "raftport=");

		if (r != NULL) {
			char *end;
			unsigned long rp = strtoul(r + 9, &end, 10);

			if (rp == 0 || rp > 65535 || (*end && *end != '&'))
				return snprintf(why, wl, "invalid raftport in "
							 "query"),
				       false;
			e->raftport = (unsigned)rp;
			e->has_raftport = true;
		}
	}
	return true;
}

static int nodes_file(const char *path, const char *self_id,
    struct enode *self, bool need)
{
	char *txt = slurp(path, 1 << 22, NULL), why[160];
	cJSON *a, *it;
	int idx = 0, found = 0;

	if (txt == NULL) {
		if (need)
			fake_die(&F, 1, "cannot read %s: %s", path,
			    strerror(errno));
		return 0;
	}
	a = cJSON_Parse(txt);
	if (!cJSON_IsArray(a))
		fake_die(&F, 1, "%s: not a JSON array of enode URLs", path);
	cJSON_ArrayForEach(it, a)
	{
		struct enode e;

		if (!cJSON_IsString(it))
			fake_die(&F, 1, "%s: entry %d is not a string", path,
			    idx);
		/* geth skips a bad entry (shifting raft IDs): the daemon must
		 * never write one. */
		if (!parse_enode(it->valuestring, &e, why, sizeof(why)))
			fake_die(&F, 1, "%s: entry %d: %s: %s", path, idx, why,
			    it->valuestring);
		if (has("raft") && !e.has_raftport)
			fake_die(&F, 1, "%s: entry %d: raftport querystring "
			    "parameter not specified in static-node enode ID",
			    path, idx);
		if (strcasecmp(e.id, self_id) == 0) {
			*self = e;
			found = idx + 1;
		}
		idx++;
	}
	cJSON_Delete(a);
	free(txt);
	if (found == 0)
		fake_die(&F, 1, "failed to find local enode ID (%.16s...) "
		    "amongst peer IDs in %s", self_id, path);
	return found;
}

static void check_ptm(void)
{
	const char *pc = getenv("PRIVATE_CONFIG");
	struct stat st;
	struct sockaddr_un sa;
	char resp[256];
	ssize_t n;
	int fd;

	if (pc == NULL || pc[0] == '\0') {
		fake_log(&F, "ptm none");
		return;
	}
	if (strcasecmp(pc, "ignore") == 0) {
		if (strncmp(quorum_version, "2.0.", 4) == 0)
			fake_die(&F, 2, "PRIVATE_CONFIG=ignore is not "
			    "supported by Quorum %s", quorum_version);
		fake_log(&F, "ptm ignore");
		return;
	}
	if (lstat(pc, &st) < 0 || !S_ISSOCK(st.st_mode))
		fake_die(&F, 2, "MustNew: Failed to connect to Constellation "
		    "(%s): not a unix socket", pc);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(pc) >= sizeof(sa.sun_path))
		fake_die(&F, 2, "PRIVATE_CONFIG path too long");
	memcpy(sa.sun_path, pc, strlen(pc) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fake_die(&F, 2, "MustNew: Failed to connect to Constellation "
		    "(%s): %s", pc, strerror(errno));
	static const char req[] = "GET /upcheck HTTP/1.1\r\nHost: c\r\n"
				  "Connection: close\r\n\r\n";
	if (write(fd, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1)
		fake_die(&F, 2, "upcheck: write failed");
	n = read(fd, resp, sizeof(resp) - 1);
	close(fd);
	if (n <= 0)
		fake_die(&F, 2, "upcheck: no answer on %s", pc);
	resp[n] = '\0';
	if (strncmp(resp, "HTTP/1.1 200", 12) != 0 &&
	    strncmp(resp, "HTTP/1.0 200", 12) != 0)
		fake_die(&F, 2, "upcheck on %s: %.*s", pc,
		    (int)strcspn(resp, "\r\n"), resp);
	fake_log(&F, "ptm %s upcheck 200", pc);
}

static bool api_has(const char *list, const char *name)
{
	const char *p = list;
	size_t n = strlen(name);

	while (p != NULL && *p) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static void cmd_run(void)
{
	const char *dd = get("datadir"), *api;
	char path[600], *txt, why[160];
	uint8_t priv[32], pub[64], addr[20];
	char self_id[129];
	struct genesis_info gi;
	struct enode self;
	size_t len;
	int raft_id = 0;

	if (dd == NULL)
		fake_die(&F, 1, "no --datadir (would use ~/.ethereum)");
	if (get("networkid") == NULL)
		fake_die(&F, 1, "no --networkid (the default is 1337, the "
		    "daemon must pass CHAIN_ID)");
	if (get_uint("networkid", 0) == 1)
		fake_die(&F, 1, "Cannot have chain id or network id as 1.");
	snprintf(path, sizeof(path), "%s/geth/chaindata/GENESIS.json", dd);
	txt = slurp(path, 1 << 22, NULL);
	if (txt == NULL)
		fake_die(&F, 1, "no chain data in %s: `geth init` was not run "
		    "(geth would start a mainnet chain)", dd);
	check_genesis(txt, &gi);
	free(txt);
	if (gi.chain_id != get_uint("networkid", 0))
		fake_die(&F, 1, "--networkid %s differs from the genesis "
		    "chainId %llu", get("networkid"), gi.chain_id);

	/* Consensus. */
	if (has("raft") && gi.cons != C_NONE)
		fake_die(&F, 1, "--raft with an istanbul/qbft genesis");
	if (!has("raft") && gi.cons == C_NONE)
		fake_die(&F, 1, "Consensus not specified. Exiting!!");
	if (gi.cons != C_NONE) {
		if (!has("mine"))
			fake_die(&F, 1, "BFT validator started without --mine");
		if (get("syncmode") == NULL ||
		    strcmp(get("syncmode"), "full") != 0)
			fake_die(&F, 1, "BFT validator needs --syncmode full");
	}
	if (get("syncmode") != NULL && strcmp(get("syncmode"), "full") &&
	    strcmp(get("syncmode"), "fast") && strcmp(get("syncmode"), "snap"))
		fake_die(&F, 1, "invalid value \"%s\" for flag -syncmode",
		    get("syncmode"));

	/* Node key (formats.md §1): geth would silently replace a bad one. */
	snprintf(path, sizeof(path), "%s/geth/nodekey", dd);
	txt = slurp(path, 4096, &len);
	if (txt == NULL)
		fake_die(&F, 1, "no node key at %s (geth would make a new "
		    "one and change the enode)", path);
	if (len < 64 || encoding_unhex(priv, 32, txt, 64) < 0)
		fake_die(&F, 1, "%s: want 64 hex characters", path);
	for (size_t i = 64; i < len; i++)
		if ((txt[i] != '\n' && txt[i] != '\r') || i >= 66)
			fake_die(&F, 1, "%s: invalid character at end of key "
			    "file", path);
	free(txt);
	if (!ethkey_priv_valid(priv) || ethkey_pubkey(priv, pub) < 0)
		fake_die(&F, 1, "%s: invalid private key", path);
	encoding_hex(self_id, pub, 64);
	ethkey_address(pub, addr);

	/* static-nodes.json: the legacy path wins. */
	snprintf(path, sizeof(path), "%s/static-nodes.json", dd);
	if (access(path, F_OK) != 0)
		snprintf(path, sizeof(path), "%s/geth/static-nodes.json", dd);
	raft_id = nodes_file(path, self_id, &self, true);
	if (self.port != get_uint("port", 30303))
		fake_die(&F, 1, "own enode in %s has port %u, --port is %lu",
		    path, self.port, get_uint("port", 30303));
	if (has("raft") && self.raftport != get_uint("raftport", 50400))
		fake_die(&F, 1, "own enode in %s has raftport %u, --raftport "
		    "is %lu", path, self.raftport, get_uint("raftport", 50400));
	if (has("permissioned")) {
		snprintf(path, sizeof(path), "%s/permissioned-nodes.json", dd);
		nodes_file(path, self_id, &self, true);
	}
	if (gi.cons != C_NONE) {
		bool in = false;

		for (int i = 0; i < nvalidators; i++)
			if (memcmp(validators[i], addr, 20) == 0)
				in = true;
		if (!in)
			fake_die(&F, 1, "this node's address is not among the "
			    "%d genesis validators", nvalidators);
	}

	/* RPC/WS and unlock. */
	bool http = has(ge(1, 10) ? "http" : "rpc");

	api = get(ge(1, 10) ? "http.api" : "rpcapi");
	if (http && api != NULL && has("raft") && !api_has(api, "raft"))
		fake_die(&F, 1, "raft missing from the HTTP api list %s", api);
	if (http && api != NULL && gi.cons != C_NONE &&
	    !api_has(api, "istanbul"))
		fake_die(&F, 1, "istanbul missing from the HTTP api list %s",
		    api);
	if (get("unlock") != NULL) {
		DIR *d;
		struct dirent *e;
		int accounts = 0;

		if (strcmp(get("unlock"), "0") != 0)
			fake_die(&F, 1, "--unlock %s: the daemon unlocks "
			    "account 0", get("unlock"));
		if (get("password") == NULL)
			fake_die(&F, 1, "--unlock without --password would "
			    "prompt");
		txt = slurp(get("password"), 4096, &len);
		if (txt == NULL)
			fake_die(&F, 1, "Failed to read password file: open "
			    "%s: %s", get("password"), strerror(errno));
		free(txt);
		snprintf(path, sizeof(path), "%s/keystore", dd);
		d = opendir(path);
		while (d != NULL && (e = readdir(d)) != NULL)
			if (strncmp(e->d_name, "UTC--", 5) == 0)
				accounts++;
		if (d != NULL)
			closedir(d);
		if (accounts == 0)
			fake_die(&F, 1, "Failed to unlock account 0 (index 0 "
			    "higher than number of accounts 0)");
		if (http && ge(1, 9) && !has("allow-insecure-unlock"))
			fake_die(&F, 1, "Account unlock with HTTP access is "
			    "forbidden!");
	}
	(void)why;
	check_ptm();
	fake_log(&F, "run raft=%d raftid=%d cons=%d validators=%d enode=%.16s",
	    has("raft"), raft_id, (int)gi.cons, nvalidators, self_id);
}

int main(int argc, char **argv)
{
	const char *v;
	int i = 1;

	/* The log first: it is fd 3 in the start line (T-H4). */
	fake_init(&F, "fake-geth", "GETH", "FAKE_GETH");
	v = getenv("FAKE_GETH_VERSION");
	if (v != NULL && v[0] != '\0') {
		if (sscanf(v, "%u.%u.%u", &vmaj, &vmin, &vpatch) < 2)
			fake_die(&F, 2, "FAKE_GETH_VERSION=%s: want X.Y.Z", v);
		if (vmaj == 1 && vmin == 9)
			snprintf(quorum_version, sizeof(quorum_version),
			    "2.7.0");
		else if (vmaj == 1 && vmin == 8)
			snprintf(quorum_version, sizeof(quorum_version),
			    "2.5.0");
	}
	v = getenv("FAKE_QUORUM_VERSION");
	if (v != NULL && v[0] != '\0')
		snprintf(quorum_version, sizeof(quorum_version), "%s", v);

	parse_flags(argc, argv, &i);
	if (i < argc) {
		if (strcmp(argv[i], "version") == 0) {
			no_private_config("version");
			cmd_version();
		}
		if (strcmp(argv[i], "init") == 0)
			cmd_init(argc, argv, i + 1);
		fake_die(&F, 1, "unexpected command or argument '%s'", argv[i]);
	}
	fake_start_line(&F);
	cmd_run();
	fake_make_orphans(&F);
	fake_run(&F, -1, NULL, NULL);
}
