/*
 * Peer set -> config file bytes. Pure and deterministic: peers are taken in
 * ordinal order whatever order they arrive in, nothing depends on time, the
 * host or a hash-map order, and every file is LF-terminated. The JSON is
 * written by hand (not through cJSON's printer) so the layout is fixed and
 * matches the upstream examples; every value written is checked first to
 * need no escaping.
 *
 * Choices (see formats.md §4-8 for the rules behind them):
 *  - every peer's account is funded in every consensus mode, not only raft;
 *  - genesis fork blocks homestead..istanbul are all 0 and listed in fork
 *    order; "mixHash" is spelled as geth's field (matching is
 *    case-insensitive, upstream raft uses "mixhash");
 *  - the TM's IPC socket is <data_dir>/tm/tm.ipc for both TMs (geth's
 *    PRIVATE_CONFIG), its keys <data_dir>/keys/tm.{pub,key};
 *  - Tessera's ThirdParty API listens on TM_PORT + 80 (9080 by default);
 *  - the TM config is mode 0600, the other files 0644;
 *  - the genesis form (settings.h) decides where the IBFT block period and
 *    the contract size limit go: LEGACY keeps what Quorum 2.x reads
 *    (config.istanbul, maxCodeSizeConfig; the period is geth's
 *    --istanbul.blockperiod), CURRENT what GoQuorum 22.4.1+ reads
 *    (config.ibft with blockperiodseconds, transitions[0].contractsizelimit;
 *    the two ways are refused together by geth). QBFT always has its
 *    config.qbft block (GoQuorum 22.4+).
 */
#include "peerd/render.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/rlp.h"
#include "peerd/strbuf.h"

/* Far above what 1024 peers need; a renderer bug cannot eat memory. */
#define OUT_MAX (4u << 20)
#define TESSERA_THIRDPARTY_OFFSET SETTINGS_TESSERA_THIRDPARTY_OFFSET
/* Largest contract, KiB: maxCodeSizeConfig or transitions' contractsizelimit
 * (geth's own default is 24). */
#define CODE_SIZE_KIB 64u
#define ZERO32_HEX                                                            \
	"0x0000000000000000000000000000000000000000000000000000000000000000"
#define ISTANBUL_DIGEST                                                       \
	"0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
/* Upstream 7nodes raft genesis mixhash; not verified by raft. */
#define RAFT_MIXHASH                                                          \
	"0x00000000000000000000000000000000000000647572616c65787365646c6578"
#define BALANCE "1000000000000000000000000000"

struct out {
	char *p;
	size_t len, cap;
	int err;
};

static void out_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err != 0)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->p == NULL ? NULL : o->p + o->len, room, fmt,
		    ap);
		va_end(ap);
		if (n < 0) {
			o->err = -EINVAL;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		{
			size_t want = o->cap == 0 ? 4096 : o->cap;
			char *np;

			while (want <= o->len + (size_t)n)
				want *= 2;
			if (want > OUT_MAX) {
				o->err = -ENOBUFS;
				return;
			}
			np = realloc(o->p, want);
			if (np == NULL) {
				o->err = -ENOMEM;
				return;
			}
			o->p = np;
			o->cap = want;
		}
	}
}

/*
 * Safe inside a JSON or TOML string without escaping: printable ASCII but
 * the quote and backslash. Also bounded by its array (TERMINATED below).
 */
static bool plain(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

/* Characters of an absolute data dir: [A-Za-z0-9._/-]. */
static bool dir_ok(const char *s)
{
	if (s[0] != '/')
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '.' || c == '_' ||
			c == '/' || c == '-'))
			return false;
	}
	return true;
}

/* Host part of an enode / URL for a peer: [ip] for IPv6. */
static void addr_of(const struct settings *s, const struct peerdoc *d,
    char *out, size_t outlen)
{
	if (s->address_mode == ADDRESS_DNS)
		snprintf(out, outlen, "%s", d->host);
	else if (strchr(d->ip, ':') != NULL)
		snprintf(out, outlen, "[%s]", d->ip);
	else
		snprintf(out, outlen, "%s", d->ip);
}

/* tm_url without a trailing slash (Tessera) into out. */
static void url_noslash(const char *url, char *out, size_t outlen)
{
	size_t l = strlen(url);

	if (l > 0 && url[l - 1] == '/')
		l--;
	snprintf(out, outlen, "%.*s", (int)l, url);
}

/* tm_url with exactly one trailing slash (Constellation). */
static void url_slash(const char *url, char *out, size_t outlen)
{
	size_t l = strlen(url);

	if (l > 0 && url[l - 1] == '/')
		l--;
	snprintf(out, outlen, "%.*s/", (int)l, url);
}

int render_enode(const struct settings *s, const struct peerdoc *d,
    char *out, size_t outlen)
{
	char addr[300];
	int w;

	addr_of(s, d, addr, sizeof(addr));
	if (s->consensus == CONSENSUS_RAFT)
		w = snprintf(out, outlen, "enode://%s@%s:%u?discport=0"
		    "&raftport=%u", d->node_id, addr, (unsigned)d->p2p_port,
		    (unsigned)d->raft_port);
	else
		w = snprintf(out, outlen, "enode://%s@%s:%u?discport=0",
		    d->node_id, addr, (unsigned)d->p2p_port);
	return w < 0 || (size_t)w >= outlen ? -ENOBUFS : 0;
}

static void node_list_urls(struct out *o, const char *const *url, size_t n)
{
	out_printf(o, "[\n");
	for (size_t i = 0; i < n; i++)
		out_printf(o, "  \"%s\"%s\n", url[i], i + 1 < n ? "," : "");
	out_printf(o, "]\n");
}

static void node_list(struct out *o, const struct settings *s,
    const struct peerdoc *const *peer, size_t n)
{
	char (*url)[400] = calloc(n > 0 ? n : 1, sizeof(*url));
	const char **p = calloc(n > 0 ? n : 1, sizeof(*p));

	if (url == NULL || p == NULL) {
		o->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (render_enode(s, peer[i], url[i], sizeof(url[i])) < 0) {
			o->err = -ENOBUFS;
			goto out;
		}
		p[i] = url[i];
	}
	node_list_urls(o, p, n);
out:
	free(url);
	free(p);
}

static int cmp_addr(const void *a, const void *b)
{
	return memcmp(a, b, RLP_ADDR_LEN);
}

/* Validator addresses from node keys, sorted as geth's engine sorts them. */
static int extra_data(const struct settings *s,
    const struct peerdoc *const *peer, size_t n, struct out *o)
{
	uint8_t(*val)[RLP_ADDR_LEN] = NULL;
	uint8_t *buf = NULL;
	char *hex = NULL;
	size_t len = 0;
	int ret = -ENOMEM;

	val = calloc(n, sizeof(*val));
	buf = malloc(RLP_EXTRA_MAX);
	hex = malloc(2 * RLP_EXTRA_MAX + 1);
	if (val == NULL || buf == NULL || hex == NULL)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint8_t pub[64];

		ret = encoding_unhex(pub, sizeof(pub), peer[i]->node_id, 128);
		if (ret < 0)
			goto out;
		ethkey_address(pub, val[i]);
	}
	qsort(val, n, sizeof(*val), cmp_addr);
	if (s->consensus == CONSENSUS_QBFT)
		ret = rlp_qbft_extra((const uint8_t(*)[RLP_ADDR_LEN])val, n,
		    buf, RLP_EXTRA_MAX, &len);
	else
		ret = rlp_ibft_extra((const uint8_t(*)[RLP_ADDR_LEN])val, n,
		    false, buf, RLP_EXTRA_MAX, &len);
	if (ret < 0)
		goto out;
	encoding_hex(hex, buf, len);
	out_printf(o, "  \"extraData\": \"0x%s\",\n", hex);
	ret = 0;
out:
	free(val);
	free(buf);
	free(hex);
	return ret;
}

static int genesis(const struct settings *s, const struct peerdoc *const *peer,
    size_t n, struct out *o)
{
	bool raft = s->consensus == CONSENSUS_RAFT;
	bool current = s->genesis_form == GENESIS_CURRENT;
	size_t funded = 0;
	int ret;

	out_printf(o, "{\n  \"alloc\": {\n");
	for (size_t i = 0; i < n; i++) {
		char lower[43];
		bool dup = false;

		/* Two peers sharing an account would repeat a JSON key. */
		for (size_t j = 0; j < i; j++)
			if (strcmp(peer[j]->account, peer[i]->account) == 0)
				dup = true;
		if (dup)
			continue;
		for (size_t k = 0; k < sizeof(lower); k++) {
			char c = peer[i]->account[k];

			if (c >= 'A' && c <= 'F')
				c = (char)(c - 'A' + 'a');
			lower[k] = c;
		}
		out_printf(o,
		    "%s    \"%s\": {\n      \"balance\": \"%s\"\n    }",
		    funded > 0 ? ",\n" : "", lower, BALANCE);
		funded++;
	}
	out_printf(o, "\n  },\n");
	out_printf(o,
	    "  \"coinbase\": \"0x0000000000000000000000000000000000000000\",\n"
	    "  \"config\": {\n"
	    "    \"homesteadBlock\": 0,\n"
	    "    \"eip150Block\": 0,\n"
	    "    \"eip150Hash\": \"" ZERO32_HEX "\",\n"
	    "    \"eip155Block\": 0,\n"
	    "    \"eip158Block\": 0,\n"
	    "    \"byzantiumBlock\": 0,\n"
	    "    \"constantinopleBlock\": 0,\n"
	    "    \"petersburgBlock\": 0,\n"
	    "    \"istanbulBlock\": 0,\n"
	    "    \"chainId\": %lu,\n"
	    "    \"isQuorum\": true,\n",
	    s->chain_id);
	if (!current)
		out_printf(o, "    \"maxCodeSizeConfig\": [\n"
			      "      {\n"
			      "        \"block\": 0,\n"
			      "        \"size\": %u\n"
			      "      }\n"
			      "    ],\n",
		    CODE_SIZE_KIB);
	out_printf(o, "    \"txnSizeLimit\": 64");
	if (s->consensus == CONSENSUS_ISTANBUL && !current)
		out_printf(o, ",\n"
			      "    \"istanbul\": {\n"
			      "      \"epoch\": 30000,\n"
			      "      \"policy\": 0,\n"
			      "      \"ceil2Nby3Block\": 0\n"
			      "    }");
	else if (s->consensus != CONSENSUS_RAFT)
		out_printf(o, ",\n"
			      "    \"%s\": {\n"
			      "      \"epochlength\": 30000,\n"
			      "      \"blockperiodseconds\": %u,\n"
			      "      \"requesttimeoutseconds\": 10,\n"
			      "      \"policy\": 0,\n"
			      "      \"ceil2Nby3Block\": 0\n"
			      "    }",
		    s->consensus == CONSENSUS_QBFT ? "qbft" : "ibft",
		    RENDER_BLOCK_PERIOD_S);
	if (current)
		out_printf(o, ",\n"
			      "    \"transitions\": [\n"
			      "      {\n"
			      "        \"block\": 0,\n"
			      "        \"contractsizelimit\": %u\n"
			      "      }\n"
			      "    ]",
		    CODE_SIZE_KIB);
	out_printf(o, "\n  },\n  \"difficulty\": \"%s\",\n",
	    raft ? "0x0" : "0x1");
	if (raft) {
		out_printf(o, "  \"extraData\": \"" ZERO32_HEX "\",\n");
	} else {
		ret = extra_data(s, peer, n, o);
		if (ret < 0)
			return ret;
	}
	out_printf(o,
	    "  \"gasLimit\": \"0xE0000000\",\n"
	    "  \"mixHash\": \"%s\",\n"
	    "  \"nonce\": \"0x0\",\n"
	    "  \"parentHash\": \"" ZERO32_HEX "\",\n"
	    "  \"timestamp\": \"0x00\"\n"
	    "}\n",
	    raft ? RAFT_MIXHASH : ISTANBUL_DIGEST);
	return 0;
}

static void constellation(const struct settings *s,
    const struct peerdoc *const *peer, size_t n, const struct peerdoc *self,
    struct out *o)
{
	char url[320];

	url_slash(self->tm_url, url, sizeof(url));
	out_printf(o, "url = \"%s\"\n", url);
	out_printf(o, "port = %u\n", (unsigned)s->tm_port);
	out_printf(o, "workdir = \"%s/tm\"\n", s->data_dir);
	out_printf(o, "socket = \"tm.ipc\"\n");
	out_printf(o, "othernodes = [");
	for (size_t i = 0; i < n; i++) {
		url_slash(peer[i]->tm_url, url, sizeof(url));
		out_printf(o, "%s\"%s\"", i > 0 ? ", " : "", url);
	}
	out_printf(o, "]\n");
	out_printf(o, "publickeys = [\"%s/keys/tm.pub\"]\n", s->data_dir);
	out_printf(o, "privatekeys = [\"%s/keys/tm.key\"]\n", s->data_dir);
	out_printf(o, "storage = \"dir:%s/tm/storage\"\n", s->data_dir);
	out_printf(o, "tls = \"off\"\n");
}

static void tessera(const struct settings *s,
    const struct peerdoc *const *peer, size_t n, const struct peerdoc *self,
    struct out *o)
{
	const char *dd = s->data_dir;
	const char *any = strchr(self->ip, ':') != NULL ? "[::]" : "0.0.0.0";
	unsigned third = (unsigned)s->tm_port + TESSERA_THIRDPARTY_OFFSET;
	char url[320];
	const char *colon;

	url_noslash(self->tm_url, url, sizeof(url));
	/* validated URL: the last ':' precedes the port, even for [v6] */
	colon = strrchr(url, ':');
	out_printf(o,
	    "{\n"
	    "  \"useWhiteList\": false,\n"
	    "  \"jdbc\": {\n"
	    "    \"username\": \"sa\",\n"
	    "    \"password\": \"\",\n"
	    "    \"url\": \"jdbc:h2:%s/tm/db;MODE=Oracle;"
	    "TRACE_LEVEL_SYSTEM_OUT=0\",\n"
	    "    \"autoCreateTables\": true\n"
	    "  },\n"
	    "  \"serverConfigs\": [\n"
	    "    {\n"
	    "      \"app\": \"ThirdParty\",\n"
	    "      \"enabled\": true,\n"
	    "      \"serverAddress\": \"%.*s:%u\",\n"
	    "      \"bindingAddress\": \"http://%s:%u\",\n"
	    "      \"communicationType\": \"REST\"\n"
	    "    },\n"
	    "    {\n"
	    "      \"app\": \"Q2T\",\n"
	    "      \"enabled\": true,\n"
	    "      \"serverAddress\": \"unix:%s/tm/tm.ipc\",\n"
	    "      \"communicationType\": \"REST\"\n"
	    "    },\n"
	    "    {\n"
	    "      \"app\": \"P2P\",\n"
	    "      \"enabled\": true,\n"
	    "      \"serverAddress\": \"%s\",\n"
	    "      \"bindingAddress\": \"http://%s:%u\",\n"
	    "      \"sslConfig\": {\n"
	    "        \"tls\": \"OFF\"\n"
	    "      },\n"
	    "      \"communicationType\": \"REST\"\n"
	    "    }\n"
	    "  ],\n"
	    "  \"peer\": [\n",
	    dd, (int)(colon != NULL ? colon - url : 0), url, third, any, third,
	    dd, url, any, (unsigned)s->tm_port);
	for (size_t i = 0; i < n; i++) {
		url_noslash(peer[i]->tm_url, url, sizeof(url));
		out_printf(o, "    {\n      \"url\": \"%s\"\n    }%s\n", url,
		    i + 1 < n ? "," : "");
	}
	out_printf(o,
	    "  ],\n"
	    "  \"keys\": {\n"
	    "    \"passwords\": [],\n"
	    "    \"keyData\": [\n"
	    "      {\n"
	    "        \"privateKeyPath\": \"%s/keys/tm.key\",\n"
	    "        \"publicKeyPath\": \"%s/keys/tm.pub\"\n"
	    "      }\n"
	    "    ]\n"
	    "  },\n"
	    "  \"alwaysSendTo\": [],\n"
	    "  \"encryptor\": {\n"
	    "    \"type\": \"NACL\",\n"
	    "    \"properties\": {}\n"
	    "  }\n"
	    "}\n",
	    dd, dd);
}

/* Everything render_all relies on, checked before anything is built. */
static int check_input(const struct settings *s, const struct peerdoc *peers,
    size_t n, size_t self, const struct peerdoc **sorted, char *err,
    size_t errlen)
{
	if (n < 1 || n > SETTINGS_NODES_MAX) {
		strbuf_seterr(err, errlen, "render: %zu peers, need 1..%d", n,
		    SETTINGS_NODES_MAX);
		return -EINVAL;
	}
	if (self >= n) {
		strbuf_seterr(err, errlen, "render: self index %zu not below %zu",
		    self, n);
		return -EINVAL;
	}
	if (s->consensus != CONSENSUS_RAFT &&
	    s->consensus != CONSENSUS_ISTANBUL &&
	    s->consensus != CONSENSUS_QBFT) {
		strbuf_seterr(err, errlen, "render: unknown consensus %d",
		    (int)s->consensus);
		return -EINVAL;
	}
	if (s->privacy != PRIVACY_CONSTELLATION &&
	    s->privacy != PRIVACY_TESSERA && s->privacy != PRIVACY_NONE) {
		strbuf_seterr(err, errlen,
		    "render: PRIVACY must be resolved to constellation, "
		    "tessera or none");
		return -EINVAL;
	}
	/* geth refuses chain id 1 (eth/backend.go); 0 is no chain id. */
	if (s->chain_id <= 1) {
		strbuf_seterr(err, errlen, "render: CHAIN_ID %lu not allowed (must "
				    "be > 1)",
		    s->chain_id);
		return -EINVAL;
	}
	if (!TERMINATED(s->data_dir) || !dir_ok(s->data_dir)) {
		strbuf_seterr(err, errlen,
		    "render: DATA_DIR must be an absolute path of "
		    "[A-Za-z0-9._/-]");
		return -EINVAL;
	}
	if (s->genesis_form != GENESIS_LEGACY &&
	    s->genesis_form != GENESIS_CURRENT) {
		strbuf_seterr(err, errlen,
		    "render: GENESIS_FORM must be resolved to legacy or "
		    "current");
		return -EINVAL;
	}
	/* Only Tessera has the third-party port above TM_PORT. */
	if ((s->privacy != PRIVACY_NONE && s->tm_port == 0) ||
	    (s->privacy == PRIVACY_TESSERA &&
		(unsigned)s->tm_port + TESSERA_THIRDPARTY_OFFSET > 65535)) {
		strbuf_seterr(err, errlen, "render: TM_PORT %u: needs 1..%u",
		    (unsigned)s->tm_port, s->privacy == PRIVACY_TESSERA ?
		    65535u - TESSERA_THIRDPARTY_OFFSET : 65535u);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		sorted[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct peerdoc *d = &peers[i];
		uint8_t pub[64];

		if (d->ordinal >= n) {
			strbuf_seterr(err, errlen,
			    "render: peer %zu: ordinal %u out of range 0..%zu",
			    i, d->ordinal, n - 1);
			return -EINVAL;
		}
		if (sorted[d->ordinal] != NULL) {
			strbuf_seterr(err, errlen, "render: ordinal %u given twice",
			    d->ordinal);
			return -EINVAL;
		}
		sorted[d->ordinal] = d;
		if (!TERMINATED(d->ip) || !TERMINATED(d->host) ||
		    !TERMINATED(d->node_id) || !TERMINATED(d->account) ||
		    !TERMINATED(d->tm_url) || !plain(d->ip) ||
		    !plain(d->host) || !plain(d->tm_url) ||
		    strncmp(d->tm_url, "http://", 7) != 0 ||
		    strlen(d->account) != 42 ||
		    strncmp(d->account, "0x", 2) != 0 ||
		    !plain(d->account) || strlen(d->node_id) != 128 ||
		    encoding_unhex(pub, sizeof(pub), d->node_id, 128) != 0 ||
		    !encoding_is_lowerhex(d->node_id, 128) ||
		    d->p2p_port == 0 || d->raft_port == 0) {
			strbuf_seterr(err, errlen,
			    "render: peer with ordinal %u is not a validated "
			    "document",
			    d->ordinal);
			return -EINVAL;
		}
	}
	/*
	 * Constellation's public API listens on IPv4 0.0.0.0 only: a node
	 * at an IPv6 address (whatever ADDRESS_MODE puts in the URLs) could
	 * not be reached by its peers' Constellation.
	 */
	for (size_t i = 0; i < n && s->privacy == PRIVACY_CONSTELLATION; i++) {
		if (strchr(sorted[i]->ip, ':') != NULL) {
			strbuf_seterr(err, errlen,
			    "render: %.63s advertises the IPv6 address %s and "
			    "Constellation listens on IPv4 only: use IPv4 "
			    "addresses or PRIVACY=tessera",
			    sorted[i]->name[0] ? sorted[i]->name : "a peer",
			    sorted[i]->ip);
			return -EINVAL;
		}
	}
	/* One node key twice would make raft IDs and validators ambiguous. */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (strcmp(sorted[i]->node_id, sorted[j]->node_id) ==
			    0) {
				strbuf_seterr(err, errlen,
				    "render: ordinals %zu and %zu share "
				    "node_id %.16s...",
				    i, j, sorted[i]->node_id);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int add(struct render_set *set, const char *path, struct out *o,
    mode_t mode)
{
	struct render_file *f;

	if (o->err != 0)
		return o->err;
	if (set->count >= RENDER_FILES_MAX)
		return -ENOBUFS;
	f = &set->files[set->count++];
	f->path = path;
	f->data = o->p;
	f->len = o->len;
	f->mode = mode;
	o->p = NULL;
	o->len = o->cap = 0;
	return 0;
}

int render_all(const struct settings *s, const struct peerdoc *peers,
    size_t n, size_t self, struct render_set *out, char *err, size_t errlen)
{
	const struct peerdoc **sorted = NULL;
	struct out o = {NULL, 0, 0, 0};
	int ret;

	memset(out, 0, sizeof(*out));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (s == NULL || peers == NULL) {
		strbuf_seterr(err, errlen, "render: no settings or peers");
		return -EINVAL;
	}
	sorted = calloc(n > 0 ? n : 1, sizeof(*sorted));
	if (sorted == NULL)
		return -ENOMEM;
	ret = check_input(s, peers, n, self, sorted, err, errlen);
	if (ret < 0)
		goto out;

	node_list(&o, s, sorted, n);
	ret = add(out, "dd/static-nodes.json", &o, 0644);
	if (ret == 0 && s->permissioned) {
		node_list(&o, s, sorted, n);
		ret = add(out, "dd/permissioned-nodes.json", &o, 0644);
	}
	if (ret == 0) {
		ret = genesis(s, sorted, n, &o);
		if (ret == 0)
			ret = add(out, "genesis.json", &o, 0644);
	}
	if (ret == 0 && s->privacy == PRIVACY_CONSTELLATION) {
		constellation(s, sorted, n, &peers[self], &o);
		ret = add(out, "tm.conf", &o, 0600);
	} else if (ret == 0 && s->privacy == PRIVACY_TESSERA) {
		tessera(s, sorted, n, &peers[self], &o);
		ret = add(out, "tessera-config.json", &o, 0600);
	}
	if (ret < 0)
		strbuf_seterr(err, errlen, "render: %s", strerror(-ret));
out:
	free(o.p);
	free(sorted);
	if (ret < 0)
		render_set_free(out);
	return ret;
}

/* An enode URL of the node lists: quoted into JSON as it is. */
static bool enode_plain(const char *u)
{
	if (strncmp(u, "enode://", 8) != 0 || strlen(u) >= 400)
		return false;
	for (; *u != '\0'; u++)
		if (*u == '"' || *u == '\\' || (unsigned char)*u < 0x20 ||
		    (unsigned char)*u >= 0x7f)
			return false;
	return true;
}

int render_node_lists(const struct settings *s, const char *const *enodes,
    size_t n, struct render_set *out, char *err, size_t errlen)
{
	struct out o = {NULL, 0, 0, 0};
	int ret = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		if (!enode_plain(enodes[i])) {
			strbuf_seterr(err, errlen, "render: member %zu: not an "
			    "enode URL", i);
			return -EINVAL;
		}
	}
	node_list_urls(&o, enodes, n);
	ret = add(out, "dd/static-nodes.json", &o, 0644);
	if (ret == 0 && s->permissioned) {
		node_list_urls(&o, enodes, n);
		ret = add(out, "dd/permissioned-nodes.json", &o, 0644);
	}
	if (ret < 0) {
		strbuf_seterr(err, errlen, "render: %s", strerror(-ret));
		render_set_free(out);
	}
	free(o.p);
	return ret;
}

int render_genesis_form_of(const char *json, size_t len)
{
	cJSON *g = cJSON_ParseWithLength(json, len);
	const cJSON *cfg = cJSON_GetObjectItem(g, "config");
	int r = -EINVAL;

	/* geth matches member names case-insensitively, and so does this. */
	if (cJSON_IsObject(g) && cJSON_IsObject(cfg))
		r = cJSON_GetObjectItem(cfg, "ibft") != NULL ||
			cJSON_GetObjectItem(cfg, "transitions") != NULL
		    ? GENESIS_CURRENT
		    : GENESIS_LEGACY;
	cJSON_Delete(g);
	return r;
}

const struct render_file *render_find(const struct render_set *set,
    const char *path)
{
	for (size_t i = 0; i < set->count; i++)
		if (strcmp(set->files[i].path, path) == 0)
			return &set->files[i];
	return NULL;
}

void render_set_free(struct render_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->count; i++) {
		free(set->files[i].data);
		set->files[i].data = NULL;
	}
	set->count = 0;
}
