/*
 * netrecord: the record round-trips byte for byte, every member and
 * document is checked on parse, a rebuilt record follows static-nodes.json,
 * and updates say whether anything changed (or conflicts).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "peerd/encoding.h"
#include "peerd/ethkey.h"
#include "peerd/netrecord.h"
#include "peerd/peerdoc.h"

#define N 3

static const char *const keys[N] = {
    "34a43df6fc32c3c8561024fd0fbd744eebad5cebb74bc1c3ffa4a8bb2136489b",
    "8a3f9c2ff1b17374d521da6be6a33a77722d84d223ccf41ee9c8e7e9107e1944",
    "ffe595c61270e51a9f51e6a5288bb9f19e930a264d11243e865508104ae6498c",
};

struct doc {
	struct peerdoc d;
	char line[4096];
	size_t len;
	char enode[400];
};

/* A signed document of node i at address 10.0.0.<last>. */
static void make_doc(struct doc *o, unsigned i, unsigned last)
{
	uint8_t k[32], pub[64];
	struct peerdoc *d = &o->d;

	memset(o, 0, sizeof(*o));
	assert_int_equal(encoding_unhex(k, 32, keys[i], 64), 0);
	assert_int_equal(ethkey_pubkey(k, pub), 0);
	encoding_hex(d->node_id, pub, 64);
	d->ordinal = i;
	snprintf(d->name, sizeof(d->name), "quorum-%u", i);
	snprintf(d->ip, sizeof(d->ip), "10.0.0.%u", last);
	snprintf(d->host, sizeof(d->host), "quorum-%u", i);
	snprintf(d->enode, sizeof(d->enode),
	    "enode://%s@10.0.0.%u:30303?discport=0&raftport=50400", d->node_id,
	    last);
	strcpy(d->account, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
	strcpy(d->tm_pub, "BULeR8JyUWhiuuCMU/HLA0Q5pzkYT+cHII3ZKBey3Bo=");
	snprintf(d->tm_url, sizeof(d->tm_url), "http://10.0.0.%u:9000/", last);
	d->p2p_port = 30303;
	d->raft_port = 50400;
	assert_int_equal(peerdoc_sign(d, k, NULL, 0), 0);
	assert_int_equal(peerdoc_to_json(d, o->line, sizeof(o->line), &o->len),
	    0);
	memcpy(o->enode, d->enode, sizeof(o->enode));
}

static const char hash[67] =
    "0x1111111111111111111111111111111111111111111111111111111111111111";

static void make_record(struct netrecord *r, struct doc *docs)
{
	struct peerdoc peers[N];
	const char *lines[N], *enodes[N];
	size_t lens[N];

	for (unsigned i = 0; i < N; i++) {
		make_doc(&docs[i], i, i + 1);
		peers[i] = docs[i].d;
		lines[i] = docs[i].line;
		lens[i] = docs[i].len;
		enodes[i] = docs[i].enode;
	}
	assert_int_equal(netrecord_from_docs(r, CONSENSUS_RAFT, peers, lines,
	    lens, enodes, N, hash), 0);
}

static void test_roundtrip(void **state)
{
	struct doc docs[N];
	struct netrecord r, back;
	char *out = NULL, *out2 = NULL, err[256];
	size_t len, len2;

	(void)state;
	make_record(&r, docs);
	assert_int_equal(r.count, N);
	assert_int_equal(r.members[2].raft_id, 3);
	assert_false(r.members[0].validator);
	assert_int_equal(netrecord_render(&r, &out, &len), 0);
	assert_int_equal(out[len - 1], '\n');
	assert_int_equal(netrecord_parse(out, len, &back, err, sizeof(err)), 0);
	assert_string_equal(back.genesis, hash);
	assert_int_equal(back.consensus, CONSENSUS_RAFT);
	assert_int_equal(back.count, N);
	/* The document comes back as it was served, without its newline. */
	assert_int_equal(back.members[1].doclen, docs[1].len - 1);
	assert_memory_equal(back.members[1].doc, docs[1].line, docs[1].len - 1);
	assert_int_equal(netrecord_render(&back, &out2, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(out, out2, len);
	free(out);
	free(out2);
	netrecord_free(&back);
	netrecord_free(&r);
}

/* Replaces the first `from` in s by `to` (same buffer, room enough). */
static void subst(char *s, const char *from, const char *to)
{
	char *p = strstr(s, from), tail[65536];

	assert_non_null(p);
	snprintf(tail, sizeof(tail), "%s", p + strlen(from));
	sprintf(p, "%s%s", to, tail);
}

static void expect_bad(const char *text, const char *what)
{
	struct netrecord r;
	char err[256] = "";

	assert_int_equal(netrecord_parse(text, strlen(text), &r, err,
	    sizeof(err)), -EPROTO);
	if (strstr(err, what) == NULL)
		fail_msg("error \"%s\" does not name \"%s\"", err, what);
	assert_null(r.members);
}

static void test_parse_rejects(void **state)
{
	struct doc docs[N];
	struct netrecord r;
	char *out = NULL, buf[65536], id0[129];
	size_t len;

	(void)state;
	make_record(&r, docs);
	assert_int_equal(netrecord_render(&r, &out, &len), 0);
	memcpy(id0, r.members[0].node_id, sizeof(id0));
	netrecord_free(&r);

	expect_bad("", "not a JSON object");
	expect_bad("[]", "not a JSON object");
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"v\":1", "\"v\":2");
	expect_bad(buf, "v:");
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"genesis\":\"0x11", "\"genesis\":\"0X11");
	expect_bad(buf, "genesis");
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"raft\"", "\"pow\"");
	expect_bad(buf, "consensus");
	/* ordinals must go up */
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"ordinal\":1,", "\"ordinal\":0,");
	expect_bad(buf, "members[1].ordinal");
	/* an enode of another node */
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"enode\":\"enode://", "\"enode\":\"enode://0");
	expect_bad(buf, "enode");
	/* a quote cannot hide in an enode's host */
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "@10.0.0.1:", "@10.0.0.1\\\":");
	expect_bad(buf, "enode");
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"raft_id\":1", "\"raft_id\":65536");
	expect_bad(buf, "raft_id");
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "\"validator\":false", "\"validator\":0");
	expect_bad(buf, "validator");
	/* a document whose signature no longer verifies */
	snprintf(buf, sizeof(buf), "%s", out);
	subst(buf, "10.0.0.1\\\"", "10.0.0.9\\\"");
	expect_bad(buf, "members[ordinal 0].doc");
	/* a valid document of another ordinal */
	{
		struct peerdoc peers[N];
		const char *lines[N], *enodes[N];
		size_t lens[N];
		char *bad = NULL;
		size_t badlen;

		for (unsigned i = 0; i < N; i++) {
			peers[i] = docs[i].d;
			lines[i] = docs[i].line;
			lens[i] = docs[i].len;
			enodes[i] = docs[i].enode;
		}
		lines[0] = docs[1].line;
		lens[0] = docs[1].len;
		assert_int_equal(netrecord_from_docs(&r, CONSENSUS_RAFT, peers,
		    lines, lens, enodes, N, hash), 0);
		assert_int_equal(netrecord_render(&r, &bad, &badlen), 0);
		netrecord_free(&r);
		expect_bad(bad, "members[ordinal 0].doc");
		free(bad);
	}
	/* a null document is fine (a rebuilt record) */
	snprintf(buf, sizeof(buf),
	    "{\"v\":1,\"genesis\":\"%s\",\"consensus\":\"istanbul\","
	    "\"members\":[{\"ordinal\":4,\"node_id\":\"%s\",\"enode\":"
	    "\"enode://%s@quorum-4.ns.svc:30303?discport=0\",\"raft_id\":0,"
	    "\"validator\":true,\"doc\":null}]}", hash, id0, id0);
	{
		char err[256];

		assert_int_equal(netrecord_parse(buf, strlen(buf), &r, err,
		    sizeof(err)), 0);
		assert_int_equal(r.count, 1);
		assert_int_equal(r.members[0].ordinal, 4);
		assert_true(r.members[0].validator);
		assert_null(r.members[0].doc);
		assert_non_null(netrecord_find(&r, 4));
		assert_null(netrecord_find(&r, 0));
		netrecord_free(&r);
	}
	free(out);
}

static void test_from_static_nodes(void **state)
{
	struct doc docs[N];
	struct netrecord r;
	char json[4096], err[256];

	(void)state;
	for (unsigned i = 0; i < N; i++)
		make_doc(&docs[i], i, i + 1);
	snprintf(json, sizeof(json), "[\n  \"%s\",\n  \"%s\",\n  \"%s\"\n]\n",
	    docs[0].enode, docs[1].enode, docs[2].enode);
	assert_int_equal(netrecord_from_static_nodes(&r, CONSENSUS_RAFT, json,
	    strlen(json), hash, err, sizeof(err)), 0);
	assert_int_equal(r.count, N);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(r.members[i].ordinal, i);
		assert_int_equal(r.members[i].raft_id, i + 1);
		assert_string_equal(r.members[i].node_id, docs[i].d.node_id);
		assert_string_equal(r.members[i].enode, docs[i].enode);
		assert_null(r.members[i].doc);
	}
	netrecord_free(&r);
	snprintf(json, sizeof(json), "[\"enode://zz@1.2.3.4:1\"]");
	assert_int_equal(netrecord_from_static_nodes(&r, CONSENSUS_RAFT, json,
	    strlen(json), hash, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "entry 0"));
	assert_int_equal(netrecord_from_static_nodes(&r, CONSENSUS_RAFT, "{}",
	    2, hash, err, sizeof(err)), -EPROTO);
}

static void test_update(void **state)
{
	struct doc docs[N], moved, other;
	struct netrecord r;

	(void)state;
	make_record(&r, docs);
	/* the same document: nothing changes */
	assert_int_equal(netrecord_update(&r, &docs[1].d, docs[1].line,
	    docs[1].len, docs[1].enode), 0);
	/* the member at a new address */
	make_doc(&moved, 1, 42);
	assert_int_equal(netrecord_update(&r, &moved.d, moved.line, moved.len,
	    moved.enode), 1);
	assert_string_equal(r.members[1].enode, moved.enode);
	assert_memory_equal(r.members[1].doc, moved.line, moved.len - 1);
	assert_int_equal(r.members[1].raft_id, 2);
	/* another identity at ordinal 2 is a conflict, and changes nothing */
	make_doc(&other, 0, 7);
	other.d.ordinal = 2;
	assert_int_equal(netrecord_update(&r, &other.d, other.line, other.len,
	    other.enode), -EEXIST);
	assert_string_equal(r.members[2].enode, docs[2].enode);
	other.d.ordinal = 9;
	assert_int_equal(netrecord_update(&r, &other.d, other.line, other.len,
	    other.enode), -ENOENT);
	netrecord_free(&r);
}

/* A joiner goes in ordinal order, marked joined, raft ID 0 until given. */
static void test_add(void **state)
{
	struct doc docs[N], j;
	struct netrecord r, back;
	char *out = NULL, err[256];
	size_t len;

	(void)state;
	make_record(&r, docs);
	make_doc(&j, 2, 9);
	j.d.ordinal = 7; /* not signed for 7: add trusts its caller */
	assert_int_equal(netrecord_add(&r, &docs[1].d, docs[1].line,
	    docs[1].len, docs[1].enode), -EEXIST);
	assert_int_equal(netrecord_add(&r, &j.d, j.line, j.len, j.enode), 0);
	assert_int_equal(r.count, N + 1);
	assert_int_equal(r.members[N].ordinal, 7);
	assert_true(r.members[N].joined);
	assert_int_equal(r.members[N].raft_id, 0);
	assert_false(r.members[0].joined);
	r.members[N].raft_id = 4;
	/* the document is not ordinal 7's: the record does not parse */
	assert_int_equal(netrecord_render(&r, &out, &len), 0);
	assert_int_equal(netrecord_parse(out, len, &back, err, sizeof(err)),
	    -EPROTO);
	free(out);
	/* without it (a rebuilt member) it does, joined kept */
	free(r.members[N].doc);
	r.members[N].doc = NULL;
	assert_int_equal(netrecord_render(&r, &out, &len), 0);
	assert_non_null(strstr(out, "\"joined\":true"));
	assert_int_equal(netrecord_parse(out, len, &back, err, sizeof(err)), 0);
	assert_true(back.members[N].joined);
	assert_int_equal(back.members[N].raft_id, 4);
	assert_false(back.members[1].joined);
	free(out);
	netrecord_free(&back);
	/* a member leaves: the others keep their order */
	assert_int_equal(netrecord_remove(&r, 1), 0);
	assert_int_equal(netrecord_remove(&r, 1), -ENOENT);
	assert_int_equal(r.count, N);
	assert_int_equal(r.members[0].ordinal, 0);
	assert_int_equal(r.members[1].ordinal, 2);
	assert_int_equal(r.members[2].ordinal, 7);
	assert_null(netrecord_find(&r, 1));
	assert_non_null(netrecord_find(&r, 7));
	netrecord_free(&r);
}

static void test_hash(void **state)
{
	char h[67];

	(void)state;
	/* keccak256("") */
	netrecord_hash("", 0, h);
	assert_string_equal(h, "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca8"
	    "2273b7bfad8045d85a470");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_from_static_nodes),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
