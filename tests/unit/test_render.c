/*
 * render: golden files for a fixed 4-node set (istanbul-tools QBFT keys,
 * formats.md §5; TM keys of quorum-examples 7nodes tm1..tm4), determinism
 * and input validation. REGEN_GOLDEN=1 rewrites the golden files instead of
 * comparing; review the diff by eye against formats.md before committing.
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

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/peerdoc.h"
#include "peerd/render.h"
#include "peerd/settings.h"

#define N 4

static const struct {
	const char *key, *addr, *id;
} table[N] = {
    {"34a43df6fc32c3c8561024fd0fbd744eebad5cebb74bc1c3ffa4a8bb2136489b",
	"82f114cde4898983626a27af4eb928ff804e60ee",
	"b4a8371baf676ec384ec6e97c33e30e33e7d68460dc9014a8262258f933eb6476e43"
	"3017e9f1f56e7fc5b2eef9a5655a6426cb491133f64ce1c7f9d08e0c6fa4"},
    {"8a3f9c2ff1b17374d521da6be6a33a77722d84d223ccf41ee9c8e7e9107e1944",
	"21de2bf49c07595cf8c7c64ac5b173a112171cfe",
	"be355d2f3e884be7f5a1698e105de2408ebb921632dfe608a95e5eddfe4352c70d8f"
	"21f8f2ecf59658749b97bf1bdfb939c3d58532f1e511f22f827732ef6043"},
    {"ffe595c61270e51a9f51e6a5288bb9f19e930a264d11243e865508104ae6498c",
	"3f3e6c684f16f7fac8aa6ae20bb04a3910367994",
	"6f6c58bb00418b6892a59936717f597eb8a2e5113a5e68188bb958275f1c5f767fae"
	"2db4e9f675970c8b20d9f4da2a8e0066292725756446348eb6ea10ac6215"},
    {"321339fbbc84f71c7b0c8aebe2bf53a64951a3bfee75960edaa4313b614f4a3c",
	"e63a320b26610685d3d5124c7c65b360735ab8f2",
	"70465abd32f3bd107eb6cce1b99c57db154b98039efecfcb757b1b8244cbb26846025"
	"fe8a1eadfeaff9a7f49d624d86f82ade87b737233588f36fce78f3fa7b9"},
};

/* quorum-examples 7nodes tm1..tm4 public keys. */
static const char *const tm_pub[N] = {
    "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=",
    "QfeDAys9MPDs2XHExtc84jKGHxZg/aj52DTh0vtA3Xc=",
    "1iTZde/ndBHvzhcl7V68x44Vx7pl8nwx9LqnM/AfJUg=",
    "oNspPPgszVUFw0qmGFfWwh1uxVUXgvBxleXORHj07g8=",
};

/* EIP-55 spec addresses (formats.md §2): accounts distinct from node keys. */
static const char *const account[N] = {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

/* A signed, fully valid document for node i (checked by peerdoc_parse). */
static void make_peer(struct peerdoc *d, unsigned i, bool dns, bool raft)
{
	uint8_t k[32], pub[64];
	char hex[129], buf[4096], err[256], at[32];
	struct peerdoc back;
	struct peerdoc_expect ex = {.ordinal = (int)i, .prefix = "quorum-"};
	size_t len;

	memset(d, 0, sizeof(*d));
	assert_int_equal(encoding_unhex(k, 32, table[i].key, 64), 0);
	assert_int_equal(ethkey_pubkey(k, pub), 0);
	encoding_hex(hex, pub, 64);
	/* The table's enode IDs are themselves a known answer. */
	assert_string_equal(hex, table[i].id);
	d->ordinal = i;
	snprintf(d->name, sizeof(d->name), "quorum-%u", i);
	snprintf(d->ip, sizeof(d->ip), "10.0.0.%u", i + 1);
	snprintf(d->host, sizeof(d->host), "quorum-%u", i);
	strcpy(d->node_id, hex);
	if (dns)
		snprintf(at, sizeof(at), "quorum-%u", i);
	else
		snprintf(at, sizeof(at), "10.0.0.%u", i + 1);
	snprintf(d->enode, sizeof(d->enode), "enode://%s@%s:30303?discport=0%s",
	    hex, at, raft ? "&raftport=50400" : "");
	strcpy(d->account, account[i]);
	strcpy(d->tm_pub, tm_pub[i]);
	snprintf(d->tm_url, sizeof(d->tm_url), "http://%s:9000/", at);
	d->p2p_port = 30303;
	d->raft_port = 50400;
	assert_int_equal(peerdoc_sign(d, k, NULL, 0), 0);
	assert_int_equal(peerdoc_to_json(d, buf, sizeof(buf), &len), 0);
	assert_int_equal(peerdoc_parse(buf, len, &ex, &back, err, sizeof(err)),
	    0);
}

static void make_settings(struct settings *s, enum consensus c,
    enum privacy p, enum address_mode a, bool permissioned)
{
	settings_defaults(s);
	s->node_number = N;
	s->consensus = c;
	s->privacy = p;
	s->address_mode = a;
	s->permissioned = permissioned;
	s->genesis_form = GENESIS_LEGACY;
}

static void make_peers(struct peerdoc *p, const struct settings *s)
{
	for (unsigned i = 0; i < N; i++)
		make_peer(&p[i], i, s->address_mode == ADDRESS_DNS,
		    s->consensus == CONSENSUS_RAFT);
}

struct gcase {
	const char *name;
	enum consensus c;
	enum privacy p;
	enum address_mode a;
	bool permissioned;
	const char *files[5];
	enum genesis_form form;
};

static const struct gcase cases[] = {
    {"raft-tessera-ip", CONSENSUS_RAFT, PRIVACY_TESSERA, ADDRESS_IP, true,
	{"dd/static-nodes.json", "dd/permissioned-nodes.json", "genesis.json",
	    "tessera-config.json", NULL},
	GENESIS_LEGACY},
    {"raft-constellation-ip-open", CONSENSUS_RAFT, PRIVACY_CONSTELLATION,
	ADDRESS_IP, false,
	{"dd/static-nodes.json", "genesis.json", "tm.conf", NULL},
	GENESIS_LEGACY},
    {"istanbul-constellation-dns", CONSENSUS_ISTANBUL, PRIVACY_CONSTELLATION,
	ADDRESS_DNS, true,
	{"dd/static-nodes.json", "dd/permissioned-nodes.json", "genesis.json",
	    "tm.conf", NULL},
	GENESIS_LEGACY},
    {"qbft-tessera-dns-open", CONSENSUS_QBFT, PRIVACY_TESSERA, ADDRESS_DNS,
	false, {"dd/static-nodes.json", "genesis.json", "tessera-config.json",
		   NULL},
	GENESIS_LEGACY},
    {"qbft-none-ip", CONSENSUS_QBFT, PRIVACY_NONE, ADDRESS_IP, true,
	{"dd/static-nodes.json", "dd/permissioned-nodes.json", "genesis.json",
	    NULL},
	GENESIS_LEGACY},
    /* GENESIS_FORM=current: config.ibft/qbft, transitions. */
    {"istanbul-tessera-ip-current", CONSENSUS_ISTANBUL, PRIVACY_TESSERA,
	ADDRESS_IP, true,
	{"dd/static-nodes.json", "dd/permissioned-nodes.json", "genesis.json",
	    "tessera-config.json", NULL},
	GENESIS_CURRENT},
    {"qbft-none-dns-current", CONSENSUS_QBFT, PRIVACY_NONE, ADDRESS_DNS,
	false, {"dd/static-nodes.json", "genesis.json", NULL},
	GENESIS_CURRENT},
    {"raft-none-ip-current", CONSENSUS_RAFT, PRIVACY_NONE, ADDRESS_IP, true,
	{"dd/static-nodes.json", "dd/permissioned-nodes.json", "genesis.json",
	    NULL},
	GENESIS_CURRENT},
};

static void case_settings(struct settings *s, const struct gcase *gc)
{
	make_settings(s, gc->c, gc->p, gc->a, gc->permissioned);
	s->genesis_form = gc->form;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	sz = ftell(f);
	assert_true(sz >= 0);
	rewind(f);
	buf = malloc((size_t)sz + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)sz, f), (size_t)sz);
	buf[sz] = '\0';
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

static void mkdirs(const char *path)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	}
}

static void check_golden(const char *casename, const struct render_file *f)
{
	char path[512];
	char *want;
	size_t wlen = 0;

	snprintf(path, sizeof(path), "%s/golden/%s/%s", TEST_DATA_DIR,
	    casename, f->path);
	if (getenv("REGEN_GOLDEN") != NULL &&
	    strcmp(getenv("REGEN_GOLDEN"), "1") == 0) {
		FILE *out;

		mkdirs(path);
		out = fopen(path, "wb");
		assert_non_null(out);
		assert_int_equal(fwrite(f->data, 1, f->len, out), f->len);
		assert_int_equal(fclose(out), 0);
		return;
	}
	want = slurp(path, &wlen);
	if (want == NULL)
		fail_msg("missing golden file %s (REGEN_GOLDEN=1 writes it)",
		    path);
	if (wlen != f->len || memcmp(want, f->data, wlen) != 0) {
		free(want);
		fail_msg("%s differs from the golden file", path);
	}
	free(want);
}

/* Every file: LF-only, final newline, no NUL. */
static void check_text(const struct render_file *f)
{
	assert_true(f->len > 0);
	assert_int_equal(f->data[f->len - 1], '\n');
	assert_null(memchr(f->data, '\r', f->len));
	assert_null(memchr(f->data, '\0', f->len));
}

static void test_golden(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct gcase *gc = &cases[c];
		struct settings s;
		struct peerdoc p[N];
		struct render_set set;
		char err[256];
		size_t nfiles = 0;

		case_settings(&s, gc);
		make_peers(p, &s);
		assert_int_equal(render_all(&s, p, N, 0, &set, err,
				     sizeof(err)),
		    0);
		while (gc->files[nfiles] != NULL)
			nfiles++;
		assert_int_equal(set.count, nfiles);
		for (size_t i = 0; i < nfiles; i++) {
			const struct render_file *f =
			    render_find(&set, gc->files[i]);

			if (f == NULL)
				fail_msg("%s: %s not rendered", gc->name,
				    gc->files[i]);
			check_text(f);
			check_golden(gc->name, f);
		}
		assert_null(render_find(&set, "no-such-file"));
		render_set_free(&set);
	}
}

static bool same_set(const struct render_set *a, const struct render_set *b,
    bool with_tm)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct render_file *f = &a->files[i];
		const struct render_file *g = render_find(b, f->path);
		bool tm = strcmp(f->path, "tm.conf") == 0 ||
		    strcmp(f->path, "tessera-config.json") == 0;

		if (!with_tm && tm)
			continue;
		if (g == NULL || g->len != f->len || g->mode != f->mode ||
		    memcmp(g->data, f->data, f->len) != 0)
			return false;
	}
	return true;
}

/* Same bytes whatever order the documents come in. */
static void test_input_order(void **state)
{
	static const unsigned perms[][N] = {
	    {3, 2, 1, 0}, {1, 3, 0, 2}, {2, 0, 3, 1}};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct settings s;
		struct peerdoc p[N], q[N];
		struct render_set ref, other;
		char err[256];

		case_settings(&s, &cases[c]);
		make_peers(p, &s);
		assert_int_equal(render_all(&s, p, N, 2, &ref, err,
				     sizeof(err)),
		    0);
		for (size_t k = 0; k < sizeof(perms) / sizeof(perms[0]); k++) {
			size_t self = 0;

			for (unsigned i = 0; i < N; i++) {
				q[i] = p[perms[k][i]];
				if (perms[k][i] == 2)
					self = i;
			}
			assert_int_equal(render_all(&s, q, N, self, &other,
					     err, sizeof(err)),
			    0);
			assert_true(same_set(&ref, &other, true));
			render_set_free(&other);
		}
		render_set_free(&ref);
	}
}

/* Shared files are byte-identical on every node; the TM config is not. */
static void same_on_every_node(const struct settings *s,
    const struct peerdoc *p)
{
	struct render_set a, b;
	char err[256];

	assert_int_equal(render_all(s, p, N, 0, &a, err, sizeof(err)), 0);
	for (size_t self = 1; self < N; self++) {
		const struct render_file *t0, *t1;

		assert_int_equal(render_all(s, p, N, self, &b, err,
				     sizeof(err)),
		    0);
		assert_true(same_set(&a, &b, false));
		assert_false(same_set(&a, &b, true));
		t0 = render_find(&a, "tessera-config.json");
		t1 = render_find(&b, "tessera-config.json");
		assert_non_null(t0);
		assert_non_null(t1);
		assert_int_equal(t0->mode, 0600);
		render_set_free(&b);
	}
	render_set_free(&a);
}

static void test_same_on_every_node(void **state)
{
	struct settings s;
	struct peerdoc p[N];

	(void)state;
	make_settings(&s, CONSENSUS_RAFT, PRIVACY_TESSERA, ADDRESS_IP, true);
	make_peers(p, &s);
	same_on_every_node(&s, p);
	/* The form is a setting, never this node's geth: the same too. */
	s.consensus = CONSENSUS_ISTANBUL;
	s.genesis_form = GENESIS_CURRENT;
	same_on_every_node(&s, p);
}

/* Parses a rendered JSON file (cJSON: real malloc, freed by cJSON_Delete). */
static cJSON *json_of(const struct render_set *set, const char *path)
{
	const struct render_file *f = render_find(set, path);
	cJSON *j;

	assert_non_null(f);
	j = cJSON_ParseWithLength(f->data, f->len);
	assert_non_null(j);
	return j;
}

static void test_enode_urls(void **state)
{
	struct settings s;
	struct peerdoc p[N];
	struct render_set set;
	char err[256], want[512];
	cJSON *j;

	(void)state;
	/* raft + ip: discport=0&raftport=, IPs, ordinal order */
	make_settings(&s, CONSENSUS_RAFT, PRIVACY_NONE, ADDRESS_IP, true);
	make_peers(p, &s);
	assert_int_equal(render_all(&s, p, N, 1, &set, err, sizeof(err)), 0);
	j = json_of(&set, "dd/static-nodes.json");
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), N);
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want),
		    "enode://%s@10.0.0.%d:30303?discport=0&raftport=50400",
		    table[i].id, i + 1);
		assert_string_equal(cJSON_GetArrayItem(j, i)->valuestring,
		    want);
	}
	cJSON_Delete(j);
	/* permissioned-nodes.json carries the same list */
	assert_int_equal(render_find(&set, "dd/permissioned-nodes.json")->len,
	    render_find(&set, "dd/static-nodes.json")->len);
	render_set_free(&set);
	/* istanbul + dns: host names, no raftport */
	make_settings(&s, CONSENSUS_ISTANBUL, PRIVACY_NONE, ADDRESS_DNS,
	    false);
	make_peers(p, &s);
	assert_int_equal(render_all(&s, p, N, 0, &set, err, sizeof(err)), 0);
	assert_null(render_find(&set, "dd/permissioned-nodes.json"));
	j = json_of(&set, "dd/static-nodes.json");
	for (int i = 0; i < N; i++) {
		snprintf(want, sizeof(want),
		    "enode://%s@quorum-%d:30303?discport=0", table[i].id, i);
		assert_string_equal(cJSON_GetArrayItem(j, i)->valuestring,
		    want);
	}
	cJSON_Delete(j);
	render_set_free(&set);
}

/* Sorted validator addresses, spelled out from the table. */
static const char sorted_vals[] =
    "9421de2bf49c07595cf8c7c64ac5b173a112171cfe"
    "943f3e6c684f16f7fac8aa6ae20bb04a3910367994"
    "9482f114cde4898983626a27af4eb928ff804e60ee"
    "94e63a320b26610685d3d5124c7c65b360735ab8f2";

static void test_genesis(void **state)
{
	static const enum consensus cons[] = {CONSENSUS_RAFT,
	    CONSENSUS_ISTANBUL, CONSENSUS_QBFT};
	char want[1024];

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		struct settings s;
		struct peerdoc p[N];
		struct render_set set;
		char err[256];
		const struct render_file *f;
		cJSON *j, *cfg, *alloc;

		make_settings(&s, cons[c], PRIVACY_NONE, ADDRESS_IP, true);
		s.chain_id = 1337;
		make_peers(p, &s);
		assert_int_equal(render_all(&s, p, N, 0, &set, err,
				     sizeof(err)),
		    0);
		f = render_find(&set, "genesis.json");
		assert_non_null(f);
		/* no maxCodeSize (v2.6+ init refuses it); Config does exist */
		assert_null(strstr(f->data, "\"maxCodeSize\""));
		assert_non_null(strstr(f->data, "\"maxCodeSizeConfig\""));
		j = json_of(&set, "genesis.json");
		cfg = cJSON_GetObjectItemCaseSensitive(j, "config");
		assert_int_equal(
		    cJSON_GetObjectItemCaseSensitive(cfg, "chainId")->valueint,
		    1337);
		assert_true(cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(cfg, "isQuorum")));
		alloc = cJSON_GetObjectItemCaseSensitive(j, "alloc");
		assert_int_equal(cJSON_GetArraySize(alloc), N);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(alloc,
		    "0xdbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"));
		assert_string_equal(
		    cJSON_GetObjectItemCaseSensitive(j, "difficulty")
			->valuestring,
		    cons[c] == CONSENSUS_RAFT ? "0x0" : "0x1");
		switch (cons[c]) {
		case CONSENSUS_RAFT:
			assert_null(cJSON_GetObjectItemCaseSensitive(cfg,
			    "istanbul"));
			assert_null(
			    cJSON_GetObjectItemCaseSensitive(cfg, "qbft"));
			break;
		case CONSENSUS_ISTANBUL:
			snprintf(want, sizeof(want),
			    "0x%064df858f854%s80c0", 0, sorted_vals);
			assert_string_equal(
			    cJSON_GetObjectItemCaseSensitive(j, "extraData")
				->valuestring,
			    want);
			assert_non_null(cJSON_GetObjectItemCaseSensitive(cfg,
			    "istanbul"));
			assert_null(
			    cJSON_GetObjectItemCaseSensitive(cfg, "qbft"));
			break;
		default:
			snprintf(want, sizeof(want),
			    "0xf87aa0%064df854%sc080c0", 0, sorted_vals);
			assert_string_equal(
			    cJSON_GetObjectItemCaseSensitive(j, "extraData")
				->valuestring,
			    want);
			assert_non_null(
			    cJSON_GetObjectItemCaseSensitive(cfg, "qbft"));
			assert_null(cJSON_GetObjectItemCaseSensitive(cfg,
			    "istanbul"));
			break;
		}
		cJSON_Delete(j);
		render_set_free(&set);
	}
}

static const cJSON *item(const cJSON *o, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(o, name);
}

static double num(const cJSON *o, const char *name)
{
	const cJSON *v = item(o, name);

	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/*
 * Where the block period and the contract size limit go, per form: legacy
 * as Quorum 2.x reads them, current as GoQuorum 22.4.1+ does. The header
 * (extraData, alloc, ...) is the same in both: geth's genesis hash does not
 * cover config.
 */
static void test_genesis_forms(void **state)
{
	static const enum consensus cons[] = {CONSENSUS_RAFT,
	    CONSENSUS_ISTANBUL, CONSENSUS_QBFT};

	(void)state;
	for (size_t c = 0; c < 3; c++) {
		char *extra[2] = {NULL, NULL};

		for (int form = GENESIS_LEGACY; form <= GENESIS_CURRENT;
		     form++) {
			struct settings s;
			struct peerdoc p[N];
			struct render_set set;
			char err[256];
			const struct render_file *f;
			const cJSON *cfg, *bft, *t;
			cJSON *j;
			bool cur = form == GENESIS_CURRENT;

			make_settings(&s, cons[c], PRIVACY_NONE, ADDRESS_IP,
			    true);
			s.genesis_form = (enum genesis_form)form;
			make_peers(p, &s);
			assert_int_equal(render_all(&s, p, N, 1, &set, err,
					     sizeof(err)),
			    0);
			f = render_find(&set, "genesis.json");
			assert_int_equal(render_genesis_form_of(f->data,
					     f->len),
			    form);
			j = json_of(&set, "genesis.json");
			cfg = item(j, "config");
			assert_int_equal(num(cfg, "txnSizeLimit"), 64);
			t = item(cfg, cur ? "transitions"
					  : "maxCodeSizeConfig");
			assert_true(cJSON_IsArray(t));
			assert_int_equal(cJSON_GetArraySize(t), 1);
			t = cJSON_GetArrayItem(t, 0);
			assert_int_equal(num(t, "block"), 0);
			assert_int_equal(num(t, cur ? "contractsizelimit"
						    : "size"),
			    64);
			/* geth refuses both ways together. */
			assert_null(item(cfg, cur ? "maxCodeSizeConfig"
						  : "transitions"));
			bft = NULL;
			if (cons[c] == CONSENSUS_QBFT)
				bft = item(cfg, "qbft");
			else if (cons[c] == CONSENSUS_ISTANBUL && cur)
				bft = item(cfg, "ibft");
			if (bft != NULL) {
				assert_int_equal(num(bft, "epochlength"),
				    30000);
				assert_int_equal(num(bft, "blockperiodseconds"),
				    5);
				assert_int_equal(
				    num(bft, "requesttimeoutseconds"), 10);
				assert_int_equal(num(bft, "policy"), 0);
				assert_int_equal(num(bft, "ceil2Nby3Block"), 0);
			}
			if (cons[c] == CONSENSUS_ISTANBUL) {
				/* Exclusive in geth 22.4+. */
				assert_true((item(cfg, "istanbul") != NULL) ==
					    !cur);
				assert_true((item(cfg, "ibft") != NULL) == cur);
				if (!cur)
					assert_int_equal(
					    num(item(cfg, "istanbul"), "epoch"),
					    30000);
			} else {
				assert_null(item(cfg, "istanbul"));
				assert_null(item(cfg, "ibft"));
			}
			if (cons[c] == CONSENSUS_RAFT)
				assert_null(item(cfg, "qbft"));
			extra[form - 1] = strdup(
			    item(j, "extraData")->valuestring);
			cJSON_Delete(j);
			render_set_free(&set);
		}
		assert_string_equal(extra[0], extra[1]);
		free(extra[0]);
		free(extra[1]);
	}
}

static void test_genesis_form_of(void **state)
{
	static const char legacy[] = "{\"config\":{\"istanbul\":{}},\"x\":1}";
	static const char cur1[] = "{\"Config\":{\"IBFT\":{}}}";
	static const char cur2[] = "{\"config\":{\"transitions\":[]}}";

	(void)state;
	assert_int_equal(render_genesis_form_of(legacy, strlen(legacy)),
	    GENESIS_LEGACY);
	assert_int_equal(render_genesis_form_of(cur1, strlen(cur1)),
	    GENESIS_CURRENT);
	assert_int_equal(render_genesis_form_of(cur2, strlen(cur2)),
	    GENESIS_CURRENT);
	assert_int_equal(render_genesis_form_of("{}", 2), -EINVAL);
	assert_int_equal(render_genesis_form_of("[1]", 3), -EINVAL);
	assert_int_equal(render_genesis_form_of(legacy, 10), -EINVAL);
	assert_int_equal(render_genesis_form_of("{\"config\":1}", 12),
	    -EINVAL);
}

static void test_tm_configs(void **state)
{
	struct settings s;
	struct peerdoc p[N];
	struct render_set set;
	char err[256];
	const struct render_file *f;
	cJSON *j, *peer;

	(void)state;
	make_settings(&s, CONSENSUS_QBFT, PRIVACY_TESSERA, ADDRESS_IP, true);
	make_peers(p, &s);
	assert_int_equal(render_all(&s, p, N, 3, &set, err, sizeof(err)), 0);
	assert_null(render_find(&set, "tm.conf"));
	j = json_of(&set, "tessera-config.json");
	peer = cJSON_GetObjectItemCaseSensitive(j, "peer");
	assert_int_equal(cJSON_GetArraySize(peer), N);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(
				cJSON_GetArrayItem(peer, 2), "url")
				->valuestring,
	    "http://10.0.0.3:9000");
	cJSON_Delete(j);
	f = render_find(&set, "tessera-config.json");
	assert_non_null(strstr(f->data, "\"serverAddress\": "
					"\"http://10.0.0.4:9000\""));
	assert_non_null(strstr(f->data, "\"serverAddress\": "
					"\"http://10.0.0.4:9080\""));
	assert_non_null(strstr(f->data, "\"unix:/qdata/tm/tm.ipc\""));
	render_set_free(&set);

	s.privacy = PRIVACY_CONSTELLATION;
	assert_int_equal(render_all(&s, p, N, 3, &set, err, sizeof(err)), 0);
	assert_null(render_find(&set, "tessera-config.json"));
	f = render_find(&set, "tm.conf");
	assert_non_null(f);
	assert_int_equal(f->mode, 0600);
	assert_int_equal(strncmp(f->data, "url = \"http://10.0.0.4:9000/\"\n",
			     30),
	    0);
	assert_non_null(strstr(f->data,
	    "othernodes = [\"http://10.0.0.1:9000/\", "
	    "\"http://10.0.0.2:9000/\", \"http://10.0.0.3:9000/\", "
	    "\"http://10.0.0.4:9000/\"]\n"));
	render_set_free(&set);

	/* IPv6 node: bracketed everywhere, binds [::] */
	s.privacy = PRIVACY_TESSERA;
	{
		uint8_t k[32];

		strcpy(p[0].ip, "fd00::1");
		snprintf(p[0].enode, sizeof(p[0].enode),
		    "enode://%s@[fd00::1]:30303?discport=0", table[0].id);
		strcpy(p[0].tm_url, "http://[fd00::1]:9000/");
		assert_int_equal(encoding_unhex(k, 32, table[0].key, 64), 0);
		assert_int_equal(peerdoc_sign(&p[0], k, NULL, 0), 0);
	}
	assert_int_equal(render_all(&s, p, N, 0, &set, err, sizeof(err)), 0);
	f = render_find(&set, "tessera-config.json");
	assert_non_null(strstr(f->data, "\"http://[fd00::1]:9080\""));
	assert_non_null(strstr(f->data, "\"http://[::]:9000\""));
	j = json_of(&set, "tessera-config.json");
	cJSON_Delete(j);
	f = render_find(&set, "dd/static-nodes.json");
	assert_non_null(strstr(f->data, "@[fd00::1]:30303?discport=0\""));
	render_set_free(&set);
	/* Constellation listens on IPv4 only: refused, whoever is IPv6. */
	s.privacy = PRIVACY_CONSTELLATION;
	for (size_t self = 0; self < 2; self++) {
		err[0] = '\0';
		assert_int_equal(render_all(&s, p, N, self, &set, err,
				     sizeof(err)),
		    -EINVAL);
		assert_int_equal(set.count, 0);
		assert_non_null(strstr(err, "quorum-0 advertises the IPv6 "
					    "address fd00::1"));
		assert_non_null(strstr(err, "IPv4 only"));
	}
}

static void expect_einval(const struct settings *s, const struct peerdoc *p,
    size_t n, size_t self, const char *needle)
{
	struct render_set set;
	char err[256] = "";

	assert_int_equal(render_all(s, p, n, self, &set, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(set.count, 0);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_invalid_input(void **state)
{
	struct settings s;
	struct peerdoc p[N], q[N];

	(void)state;
	make_settings(&s, CONSENSUS_RAFT, PRIVACY_TESSERA, ADDRESS_IP, true);
	make_peers(p, &s);
	expect_einval(&s, p, 0, 0, "peers");
	expect_einval(&s, p, N, N, "self");
	memcpy(q, p, sizeof(q));
	q[2].ordinal = 1;
	expect_einval(&s, q, N, 0, "ordinal 1 given twice");
	memcpy(q, p, sizeof(q));
	q[3].ordinal = 4;
	expect_einval(&s, q, N, 0, "ordinal 4");
	/* Three of four: ordinal 3 missing means 0..2 only with n = 3. */
	expect_einval(&s, p + 1, N - 1, 0, "ordinal 3");
	memcpy(q, p, sizeof(q));
	strcpy(q[1].node_id, q[2].node_id);
	expect_einval(&s, q, N, 0, "share node_id");
	memcpy(q, p, sizeof(q));
	strcpy(q[1].tm_url, "http://10.0.0.2:9000/\"}");
	expect_einval(&s, q, N, 0, "ordinal 1");
	s.chain_id = 1;
	expect_einval(&s, p, N, 0, "CHAIN_ID");
	s.chain_id = 10;
	s.privacy = PRIVACY_AUTO;
	expect_einval(&s, p, N, 0, "PRIVACY");
	s.privacy = PRIVACY_TESSERA;
	strcpy(s.data_dir, "qdata");
	expect_einval(&s, p, N, 0, "DATA_DIR");
	strcpy(s.data_dir, "/q\"data");
	expect_einval(&s, p, N, 0, "DATA_DIR");
	strcpy(s.data_dir, "/qdata");
	s.tm_port = 65500;
	expect_einval(&s, p, N, 0, "TM_PORT 65500: needs 1..65455");
	/* Constellation has no port above TM_PORT. */
	s.privacy = PRIVACY_CONSTELLATION;
	{
		struct render_set set;
		char err[256];

		assert_int_equal(render_all(&s, p, N, 0, &set, err,
				     sizeof(err)),
		    0);
		render_set_free(&set);
	}
	s.tm_port = 0;
	expect_einval(&s, p, N, 0, "TM_PORT 0: needs 1..65535");
	s.privacy = PRIVACY_TESSERA;
	s.tm_port = 9000;
	s.genesis_form = GENESIS_AUTO;
	expect_einval(&s, p, N, 0, "GENESIS_FORM must be resolved");
	s.genesis_form = GENESIS_LEGACY;
	s.consensus = (enum consensus)7;
	expect_einval(&s, p, N, 0, "consensus");
}

/* One node alone is a valid cluster. */
static void test_single_node(void **state)
{
	struct settings s;
	struct peerdoc p[1];
	struct render_set set;
	char err[256], want[256];
	cJSON *j;

	(void)state;
	make_settings(&s, CONSENSUS_QBFT, PRIVACY_TESSERA, ADDRESS_IP, true);
	make_peer(&p[0], 0, false, false);
	assert_int_equal(render_all(&s, p, 1, 0, &set, err, sizeof(err)), 0);
	j = json_of(&set, "dd/static-nodes.json");
	assert_int_equal(cJSON_GetArraySize(j), 1);
	cJSON_Delete(j);
	j = json_of(&set, "genesis.json");
	/* 33 vanity + 22 validator list + 3 = 58 bytes: f83a */
	snprintf(want, sizeof(want), "0xf83aa0%064dd594%sc080c0", 0,
	    table[0].addr);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(j, "extraData")->valuestring,
	    want);
	cJSON_Delete(j);
	render_set_free(&set);
	render_set_free(&set); /* idempotent */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	    cmocka_unit_test(test_input_order),
	    cmocka_unit_test(test_same_on_every_node),
	    cmocka_unit_test(test_enode_urls),
	    cmocka_unit_test(test_genesis),
	    cmocka_unit_test(test_genesis_forms),
	    cmocka_unit_test(test_genesis_form_of),
	    cmocka_unit_test(test_tm_configs),
	    cmocka_unit_test(test_invalid_input),
	    cmocka_unit_test(test_single_node),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
