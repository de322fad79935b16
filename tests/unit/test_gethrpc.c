#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "peerd/evloop.h"
#include "peerd/gethrpc.h"

/* ---- the pure parsers ------------------------------------------------ */

static int parse(const char *s, uint64_t *id, struct gethrpc_reply *r)
{
	char err[128];

	return gethrpc_parse_reply(s, strlen(s), id, r, err, sizeof(err));
}

static void test_reply_result(void **state)
{
	struct gethrpc_reply r;
	uint64_t id;

	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,"
			       "\"result\":\"0x1a\"}",
			     &id, &r),
	    0);
	assert_int_equal(id, 1);
	assert_false(r.is_error);
	assert_int_equal(r.result_len, 6);
	assert_memory_equal(r.result, "\"0x1a\"", 6);

	/* Whitespace, member order, unknown members, nested result. */
	assert_int_equal(parse(" { \"result\" : [ {\"a\":[1,2,{}]} , null ] ,"
			       "\"x\":{\"y\":[]}, \"id\" : 42 }\r ",
			     &id, &r),
	    0);
	assert_int_equal(id, 42);
	assert_int_equal(r.result_len, strlen("[ {\"a\":[1,2,{}]} , null ]"));

	/* null is a result (raft_removePeer). */
	assert_int_equal(parse("{\"id\":7,\"result\":null}", &id, &r), 0);
	assert_int_equal(r.result_len, 4);
	/* "error": null next to a result. */
	assert_int_equal(parse("{\"id\":7,\"result\":true,\"error\":null}", &id,
			     &r),
	    0);
	assert_false(r.is_error);
	/* An escaped member name is the same name. */
	assert_int_equal(parse("{\"id\":8,\"re\\u0073ult\":1}", &id, &r), 0);
	assert_int_equal(id, 8);
	/* ids that are not ours: 0. */
	assert_int_equal(parse("{\"id\":\"x\",\"result\":1}", &id, &r), 0);
	assert_int_equal(id, 0);
	assert_int_equal(parse("{\"id\":-1,\"result\":1}", &id, &r), 0);
	assert_int_equal(id, 0);
	assert_int_equal(parse("{\"id\":1.5,\"result\":1}", &id, &r), 0);
	assert_int_equal(id, 0);
	assert_int_equal(parse("{\"id\":18446744073709551616,\"result\":1}",
			     &id, &r),
	    0);
	assert_int_equal(id, 0);
	assert_int_equal(parse("{\"id\":18446744073709551615,\"result\":1}",
			     &id, &r),
	    0);
	assert_true(id == UINT64_MAX);
	assert_int_equal(parse("{\"id\":01,\"result\":1}", &id, &r), -EPROTO);
}

static void test_reply_error(void **state)
{
	struct gethrpc_reply r;
	uint64_t id;
	char big[2048];

	(void)state;
	/* As Quorum 2.7.0 answers a method of the other consensus. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{"
			       "\"code\":-32601,\"message\":\"the method "
			       "raft_role does not exist/is not available\"}}",
			     &id, &r),
	    0);
	assert_int_equal(id, 3);
	assert_true(r.is_error);
	assert_null(r.result);
	assert_int_equal(r.code, -32601);
	assert_string_equal(r.message,
	    "the method raft_role does not exist/is not available");

	/* geth's parse error: id null. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{"
			       "\"code\":-32700,\"message\":\"invalid "
			       "character 'g'\"}}",
			     &id, &r),
	    0);
	assert_int_equal(id, 0);
	assert_int_equal(r.code, -32700);

	/* Escapes: Go writes & as \u0026; control and non-ASCII -> '?'. */
	assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":-32000,\"data\":"
			       "{\"x\":1},\"message\":\"a\\u0026b\\n\\u00e9"
			       "\\ud83d\\ude00\\\"\\\\\\/\xc3\xa9\"}}",
			     &id, &r),
	    0);
	assert_string_equal(r.message, "a&b???\"\\/??");
	assert_int_equal(r.code, -32000);

	/* A long message is cut, not refused. */
	snprintf(big, sizeof(big), "{\"id\":1,\"error\":{\"code\":1,"
				   "\"message\":\"%01000d\"}}",
	    0);
	assert_int_equal(parse(big, &id, &r), 0);
	assert_int_equal(strlen(r.message), sizeof(r.message) - 1);

	assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":-32000.5,"
			       "\"message\":\"x\"}}",
			     &id, &r),
	    -EPROTO);
	assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":\"1\","
			       "\"message\":\"x\"}}",
			     &id, &r),
	    -EPROTO);
	assert_int_equal(parse("{\"id\":1,\"error\":{\"message\":\"x\"}}", &id,
			     &r),
	    -EPROTO);
	assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":1}}", &id, &r),
	    -EPROTO);
	assert_int_equal(parse("{\"id\":1,\"error\":\"boom\"}", &id, &r),
	    -EPROTO);
	assert_int_equal(parse("{\"id\":1,\"error\":{\"code\":1,\"code\":2,"
			       "\"message\":\"x\"}}",
			     &id, &r),
	    -EPROTO);
}

static void test_reply_hostile(void **state)
{
	static const char *const bad[] = {
	    "",
	    "   ",
	    "[]",
	    "[{\"id\":1,\"result\":1}]",
	    "\"x\"",
	    "{",
	    "{\"id\":1",
	    "{\"id\":1,\"result\":1",
	    "{\"id\":1,\"result\":1}}",
	    "{\"id\":1,\"result\":1} x",
	    "{\"id\":1,\"result\":1}{\"id\":2,\"result\":1}",
	    "{\"id\":1}",
	    "{\"result\":1}",
	    "{\"id\":1,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}",
	    "{\"id\":1,\"id\":2,\"result\":1}",
	    "{\"id\":1,\"result\":1,\"result\":2}",
	    "{\"id\":1,\"re\\u0073ult\":1,\"result\":2}",
	    "{\"jsonrpc\":\"1.0\",\"id\":1,\"result\":1}",
	    "{\"jsonrpc\":2,\"id\":1,\"result\":1}",
	    "{\"id\":1,\"result\":tru}",
	    "{\"id\":1,\"result\":nul}",
	    "{\"id\":1,\"result\":01}",
	    "{\"id\":1,\"result\":1.}",
	    "{\"id\":1,\"result\":1e}",
	    "{\"id\":1,\"result\":-}",
	    "{\"id\":1,\"result\":+1}",
	    "{\"id\":1,\"result\":.5}",
	    "{\"id\":1,\"result\":\"a\\x\"}",
	    "{\"id\":1,\"result\":\"a\\u12\"}",
	    "{\"id\":1,\"result\":\"a\\u12g4\"}",
	    "{\"id\":1,\"result\":\"tab\there\"}",
	    "{\"id\":1,\"result\":\"unterminated}",
	    "{\"id\":1,\"result\":[1,]}",
	    "{\"id\":1,\"result\":[,1]}",
	    "{\"id\":1,\"result\":{\"a\":1,}}",
	    "{\"id\":1,\"result\":{\"a\"}}",
	    "{\"id\":1,\"result\":{1:2}}",
	    "{\"id\":1,,\"result\":1}",
	    "{,\"id\":1,\"result\":1}",
	    "{\"id\":1 \"result\":1}",
	    "{'id':1,'result':1}",
	    "{\"id\":1,\"result\":\"\\",
	};
	struct gethrpc_reply r;
	char deep[4096], err[128];
	uint64_t id;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (gethrpc_parse_reply(bad[i], strlen(bad[i]), &id, &r, err,
			sizeof(err)) != -EPROTO)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	/* A NUL inside is not the end. */
	assert_int_equal(gethrpc_parse_reply("{\"id\":1,\"result\":1}\0x", 21,
			     &id, &r, NULL, 0),
	    -EPROTO);
	/* Nesting is bounded (no recursion without limit). */
	n = (size_t)snprintf(deep, sizeof(deep), "{\"id\":1,\"result\":");
	for (int i = 0; i < 1000; i++)
		deep[n++] = '[';
	for (int i = 0; i < 1000; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	assert_int_equal(gethrpc_parse_reply(deep, n, &id, &r, NULL, 0),
	    -EPROTO);
	n = (size_t)snprintf(deep, sizeof(deep), "{\"id\":1,\"result\":");
	for (int i = 0; i < 40; i++)
		deep[n++] = '[';
	for (int i = 0; i < 40; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	assert_int_equal(gethrpc_parse_reply(deep, n, &id, &r, NULL, 0), 0);
}

static int qty(const char *s, uint64_t *v)
{
	return gethrpc_quantity(s, strlen(s), v, NULL, 0);
}

static void test_quantity_bool_string(void **state)
{
	static const char *const bad[] = {"\"0x\"", "\"0x01\"", "\"0x00\"",
	    "\"0X1\"", "\"1a\"", "26", "\"0xg\"", "\"0x1 \"", "\" 0x1\"",
	    "\"0x11111111111111111\"", "\"0x\\u0031\"", "null", "\"\"",
	    "\"0x1\" 1", "", "\"0x-1\""};
	uint64_t v;
	bool b;
	char s[8], err[96];

	(void)state;
	assert_int_equal(qty("\"0x0\"", &v), 0);
	assert_true(v == 0);
	assert_int_equal(qty("\"0x1a\"", &v), 0);
	assert_true(v == 26);
	assert_int_equal(qty(" \"0xAbC\"\n", &v), 0);
	assert_true(v == 0xabc);
	assert_int_equal(qty("\"0xffffffffffffffff\"", &v), 0);
	assert_true(v == UINT64_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (qty(bad[i], &v) != -EPROTO)
			fail_msg("quantity accepted: %s", bad[i]);
	assert_int_equal(gethrpc_quantity("\"0x01\"", 6, &v, err, sizeof(err)),
	    -EPROTO);
	assert_non_null(strstr(err, "0x01"));

	assert_int_equal(gethrpc_bool("true", 4, &b, NULL, 0), 0);
	assert_true(b);
	assert_int_equal(gethrpc_bool(" false ", 7, &b, NULL, 0), 0);
	assert_false(b);
	assert_int_equal(gethrpc_bool("\"true\"", 6, &b, NULL, 0), -EPROTO);
	assert_int_equal(gethrpc_bool("1", 1, &b, NULL, 0), -EPROTO);
	assert_int_equal(gethrpc_bool("truex", 5, &b, NULL, 0), -EPROTO);

	assert_int_equal(gethrpc_string("\"abc\"", 5, s, sizeof(s), NULL, 0),
	    0);
	assert_string_equal(s, "abc");
	assert_int_equal(gethrpc_string("\"a\\u0026\"", 9, s, sizeof(s), NULL,
			     0),
	    0);
	assert_string_equal(s, "a&");
	assert_int_equal(gethrpc_string("\"1234567\"", 9, s, sizeof(s), NULL,
			     0),
	    0);
	assert_int_equal(gethrpc_string("\"12345678\"", 10, s, sizeof(s), NULL,
			     0),
	    -EPROTO);
	assert_int_equal(gethrpc_string("\"a\\nb\"", 6, s, sizeof(s), NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_string("\"\xc3\xa9\"", 4, s, sizeof(s), NULL,
			     0),
	    -EPROTO);
	assert_int_equal(gethrpc_string("1", 1, s, sizeof(s), NULL, 0),
	    -EPROTO);
}

static void test_syncing(void **state)
{
	struct gethrpc_syncing s;
	/* geth 1.9's eth_syncing while syncing (internal/ethapi Syncing). */
	const char *obj = "{\"currentBlock\":\"0x10\","
			  "\"highestBlock\":\"0x20\",\"knownStates\":\"0x0\","
			  "\"pulledStates\":\"0x0\",\"startingBlock\":\"0x0\"}";

	(void)state;
	assert_int_equal(gethrpc_syncing("false", 5, &s, NULL, 0), 0);
	assert_false(s.syncing);
	assert_int_equal(gethrpc_syncing(obj, strlen(obj), &s, NULL, 0), 0);
	assert_true(s.syncing);
	assert_true(s.current == 16 && s.highest == 32);
	assert_int_equal(gethrpc_syncing("true", 4, &s, NULL, 0), -EPROTO);
	assert_int_equal(gethrpc_syncing("{\"currentBlock\":\"0x1\"}", 22, &s,
			     NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_syncing("{\"currentBlock\":1,"
					 "\"highestBlock\":\"0x1\"}",
			     37, &s, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_syncing("{\"currentBlock\":\"0x1\","
					 "\"highestBlock\":\"0x1\","
					 "\"highestBlock\":\"0x2\"}",
			     61, &s, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_syncing("[]", 2, &s, NULL, 0), -EPROTO);
}

#define ID1                                                                \
	"548b216e898b113c9e17bcc3c452882884e512dc62995fef5370ed8f8ab90396" \
	"f1a21ab6a12252ba4ec77eab28f066eafb8aa4e667c78c4a1f0786b149ddc603"
#define ID2                                                                \
	"ac08d0c351f0c03addf5e88894be59d34ad8ed73bd0d72aedab28b39c7d354c9" \
	"ce574b9fc0c8009e93647e5c9ce6a6c7aa8d45435bf7518f77e75d1de32623d2"

/* What Quorum 2.7.0 answered (a 2-node cluster; geth's map order). */
static const char cluster2[] =
    "[{\"raftId\":2,\"nodeId\":\"" ID2 "\",\"p2pPort\":30398,\"raftPort\":"
    "50401,\"hostname\":\"127.0.0.1\",\"role\":\"verifier\",\"nodeActive\":"
    "false},{\"raftId\":1,\"nodeId\":\"" ID1 "\",\"p2pPort\":30399,"
    "\"raftPort\":50400,\"hostname\":\"127.0.0.1\",\"role\":\"minter\","
    "\"nodeActive\":true}]";

static int cluster(const char *s, struct gethrpc_raft_member *m, size_t max,
    size_t *n)
{
	char err[128];

	return gethrpc_raft_cluster(s, strlen(s), m, max, n, err, sizeof(err));
}

static void test_raft(void **state)
{
	struct gethrpc_raft_member m[4];
	char role[GETHRPC_ROLE_MAX], id[GETHRPC_NODE_ID_LEN + 1], buf[1024];
	char err[128];
	size_t n;

	(void)state;
	assert_int_equal(cluster(cluster2, m, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(m[0].raft_id, 2);
	assert_string_equal(m[0].node_id, ID2);
	assert_int_equal(m[0].p2p_port, 30398);
	assert_int_equal(m[0].raft_port, 50401);
	assert_string_equal(m[0].hostname, "127.0.0.1");
	assert_string_equal(m[0].role, "verifier");
	assert_false(m[0].active);
	assert_int_equal(m[1].raft_id, 1);
	assert_string_equal(m[1].role, "minter");
	assert_true(m[1].active);
	assert_int_equal(cluster("[]", m, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(cluster(cluster2, m, 1, &n), -E2BIG);
	assert_int_equal(cluster("{}", m, 4, &n), -EPROTO);
	assert_int_equal(cluster("[1]", m, 4, &n), -EPROTO);

	/* One member, then each way to spoil it. */
	static const struct {
		const char *from, *to;
	} spoil[] = {
	    {"\"raftId\":1", "\"raftId\":0"},
	    {"\"raftId\":1", "\"raftId\":65536"},
	    {"\"raftId\":1", "\"raftId\":\"1\""},
	    {"\"raftId\":1", "\"raftId\":1.0"},
	    {"\"raftId\":1,", ""},
	    {"\"nodeId\":\"548b", "\"nodeId\":\"548"},
	    {"\"nodeId\":\"548b", "\"nodeId\":\"548bx"},
	    {"\"nodeId\":\"548b", "\"nodeId\":\"g48b"},
	    {"\"p2pPort\":30399", "\"p2pPort\":-1"},
	    {"\"raftPort\":50400", "\"raftPort\":65536"},
	    {"\"hostname\":\"127.0.0.1\"", "\"hostname\":\"\""},
	    {"\"hostname\":\"127.0.0.1\"", "\"hostname\":\"a b\""},
	    {"\"hostname\":\"127.0.0.1\"", "\"hostname\":\"a\\\"b\""},
	    {"\"hostname\":\"127.0.0.1\"", "\"hostname\":1"},
	    {"\"role\":\"minter\"", "\"role\":\"boss\""},
	    {"\"nodeActive\":true", "\"nodeActive\":1"},
	    {"\"nodeActive\":true", "\"nodeActive\":true,\"nodeActive\":true"},
	};
	const char *one = "[{\"raftId\":1,\"nodeId\":\"" ID1 "\",\"p2pPort\":"
			  "30399,\"raftPort\":50400,\"hostname\":\"127.0.0.1\","
			  "\"role\":\"minter\",\"nodeActive\":true,"
			  "\"new\":[]}]";

	assert_int_equal(cluster(one, m, 4, &n), 0);
	for (size_t i = 0; i < sizeof(spoil) / sizeof(spoil[0]); i++) {
		const char *at = strstr(one, spoil[i].from);

		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(at - one), one,
		    spoil[i].to, at + strlen(spoil[i].from));
		if (cluster(buf, m, 4, &n) != -EPROTO)
			fail_msg("raft_cluster accepted: %s", buf);
	}
	/* Upper-case hex is normalized. */
	snprintf(buf, sizeof(buf), "[{\"raftId\":1,\"nodeId\":\"%s\","
				   "\"p2pPort\":1,\"raftPort\":2,\"hostname\":"
				   "\"quorum-0.example\",\"role\":\"\","
				   "\"nodeActive\":true}]",
	    "548B216E898B113C9E17BCC3C452882884E512DC62995FEF5370ED8F8AB90396"
	    "F1A21AB6A12252BA4EC77EAB28F066EAFB8AA4E667C78C4A1F0786B149DDC603");
	assert_int_equal(cluster(buf, m, 4, &n), 0);
	assert_string_equal(m[0].node_id, ID1);
	assert_string_equal(m[0].role, "");

	assert_int_equal(gethrpc_raft_role("\"minter\"", 8, role, NULL, 0), 0);
	assert_string_equal(role, "minter");
	assert_int_equal(gethrpc_raft_role("\"\"", 2, role, NULL, 0), 0);
	assert_string_equal(role, "");
	assert_int_equal(gethrpc_raft_role("\"learner\"", 9, role, NULL, 0), 0);
	assert_int_equal(gethrpc_raft_role("\"leader\"", 8, role, err,
			     sizeof(err)),
	    -EPROTO);
	assert_int_equal(gethrpc_raft_role("\"verifierverifierx\"", 19, role,
			     NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_raft_role("null", 4, role, NULL, 0), -EPROTO);

	assert_int_equal(gethrpc_node_id("\"" ID1 "\"", 130, id, NULL, 0), 0);
	assert_string_equal(id, ID1);
	assert_int_equal(gethrpc_node_id("\"0x" ID1 "\"", 132, id, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_node_id("\"" ID1 "0\"", 131, id, NULL, 0),
	    -EPROTO);
}

static void test_addresses(void **state)
{
	char a[GETHRPC_ADDR_LEN + 1], list[3][GETHRPC_ADDR_LEN + 1];
	const char *two = "[\"0xe8e833a9973abaf5dea33215aba772b00169398c\","
			  " \"0xD8DBA507E85F116B1F7E231CA8525FC9008A6966\"]";
	size_t n;

	(void)state;
	assert_int_equal(gethrpc_address("\"0xe8e833a9973abaf5dea33215aba772b0"
					 "0169398c\"",
			     44, a, NULL, 0),
	    0);
	assert_string_equal(a, "0xe8e833a9973abaf5dea33215aba772b00169398c");
	assert_int_equal(gethrpc_address("\"e8e833a9973abaf5dea33215aba772b001"
					 "69398c00\"",
			     44, a, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_address("\"0xe8e833a9973abaf5dea33215aba772b0"
					 "0169398\"",
			     43, a, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_addresses(two, strlen(two), list, 3, &n, NULL,
			     0),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1],
	    "0xd8dba507e85f116b1f7e231ca8525fc9008a6966");
	assert_int_equal(gethrpc_addresses(two, strlen(two), list, 1, &n, NULL,
			     0),
	    -E2BIG);
	assert_int_equal(gethrpc_addresses("[]", 2, list, 3, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(gethrpc_addresses("[\"0x1\"]", 7, list, 3, &n, NULL,
			     0),
	    -EPROTO);
	assert_int_equal(gethrpc_addresses("\"0x1\"", 5, list, 3, &n, NULL, 0),
	    -EPROTO);
}

/* admin_peers as Quorum 2.7.0 (geth 1.9.7 p2p.PeerInfo) answers it. */
static void test_peer_ids(void **state)
{
	char ids[2][GETHRPC_NODE_ID_LEN + 1], e[128] = "";
	const char *two = "[{\"enode\":\"enode://" ID1 "@10.215.0.2:21000?"
			  "discport=0\",\"id\":\"5d3c\",\"name\":\"Geth/v1.9.7-"
			  "stable(quorum-v2.7.0)/linux-amd64/go1.19.8\",\"caps\":"
			  "[\"istanbul/64\"],\"network\":{\"localAddress\":"
			  "\"10.215.0.3:40412\",\"remoteAddress\":\"10.215.0.2:"
			  "21000\",\"inbound\":false,\"trusted\":false,"
			  "\"static\":true},\"protocols\":{\"istanbul\":{}}},"
			  "{\"protocols\":{},\"enode\":\"enode://"
			  ID1 "@[fd00::2]:21000\"}]";
	size_t n;

	(void)state;
	assert_int_equal(gethrpc_peer_ids(two, strlen(two), ids, 2, &n, e,
			     sizeof(e)),
	    0);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], ID1);
	assert_string_equal(ids[1], ID1);
	assert_int_equal(gethrpc_peer_ids(two, strlen(two), ids, 1, &n, e,
			     sizeof(e)),
	    -E2BIG);
	assert_int_equal(gethrpc_peer_ids("[]", 2, ids, 2, &n, NULL, 0), 0);
	assert_int_equal(n, 0);
	assert_int_equal(gethrpc_peer_ids("[{\"id\":\"x\"}]", 14, ids, 2, &n,
			     e, sizeof(e)),
	    -EPROTO);
	assert_string_equal(e, "admin_peers[0]: no enode");
	assert_int_equal(gethrpc_peer_ids("[{\"enode\":\"enode://12@h:1\"}]",
			     31, ids, 2, &n, e, sizeof(e)),
	    -EPROTO);
	assert_int_equal(gethrpc_peer_ids("[1]", 3, ids, 2, &n, NULL, 0),
	    -EPROTO);
	assert_int_equal(gethrpc_peer_ids("{}", 2, ids, 2, &n, NULL, 0),
	    -EPROTO);
}

/* ---- an IPC server on the loop ---------------------------------------- */

enum mode {
	M_NORMAL,  /* answer each request at once */
	M_SILENT,  /* read, never answer (a geth stopped with SIGSTOP) */
	M_REVERSE, /* hold 3 requests, answer them last first */
	M_GARBAGE, /* "hello" */
	M_BIG,     /* a reply over GETHRPC_REPLY_MAX */
	M_CLOSE,   /* close after reading a request */
	M_SPLIT,   /* replies cut across writes, two in one write */
};

struct client {
	int fd;
	char in[65536];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
};

struct held {
	uint64_t id;
	char method[64];
};

struct srv {
	struct evloop *l;
	char dir[64], path[128];
	int lfd;
	struct client cl[8];
	int ncl, accepted, requests;
	enum mode mode;
	struct held held[8];
	int nheld;
	bool hang_once; /* M_NORMAL: m_hang is held, not answered */
	char rest[256];  /* M_SPLIT: the unsent part of a reply */
};

static void cl_flush(struct srv *s, struct client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff,
		    c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w <= 0)
			break;
		c->outoff += (size_t)w;
	}
	assert_int_equal(evloop_modify(s->l, c->fd,
			     EPOLLIN | (c->outoff < c->outlen ? EPOLLOUT : 0)),
	    0);
}

static void cl_send(struct srv *s, struct client *c, const char *data,
    size_t len)
{
	c->out = realloc(c->out, c->outlen + len);
	assert_non_null(c->out);
	memcpy(c->out + c->outlen, data, len);
	c->outlen += len;
	cl_flush(s, c);
}

static void cl_close(struct srv *s, struct client *c)
{
	evloop_unwatch(s->l, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = c->inlen = 0;
}

static void answer(struct srv *s, struct client *c, uint64_t id,
    const char *method)
{
	char line[512];
	int n;

	if (strcmp(method, "m_err") == 0)
		n = snprintf(line, sizeof(line),
		    "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"error\":{\"code\":"
		    "-32000,\"message\":\"boom\"}}\n",
		    (unsigned long long)id);
	else
		n = snprintf(line, sizeof(line),
		    "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":\"%s\"}\n",
		    (unsigned long long)id, method);
	cl_send(s, c, line, (size_t)n);
}

static void on_request(struct srv *s, struct client *c, const char *line)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *id, *m, *p;

	assert_non_null(j);
	id = cJSON_GetObjectItem(j, "id");
	m = cJSON_GetObjectItem(j, "method");
	p = cJSON_GetObjectItem(j, "params");
	assert_true(cJSON_IsNumber(id));
	assert_true(cJSON_IsString(m));
	assert_true(cJSON_IsArray(p));
	assert_string_equal(cJSON_GetStringValue(
				cJSON_GetObjectItem(j, "jsonrpc")),
	    "2.0");
	s->requests++;
	switch (s->mode) {
	case M_NORMAL:
		if (s->hang_once && strcmp(m->valuestring, "m_hang") == 0) {
			s->held[s->nheld].id = (uint64_t)id->valuedouble;
			snprintf(s->held[s->nheld].method, 64, "%s",
			    m->valuestring);
			s->nheld++;
			break;
		}
		answer(s, c, (uint64_t)id->valuedouble, m->valuestring);
		break;
	case M_SILENT:
		break;
	case M_REVERSE:
		s->held[s->nheld].id = (uint64_t)id->valuedouble;
		snprintf(s->held[s->nheld].method, 64, "%s", m->valuestring);
		if (++s->nheld == 3) {
			while (s->nheld > 0) {
				s->nheld--;
				answer(s, c, s->held[s->nheld].id,
				    s->held[s->nheld].method);
			}
		}
		break;
	case M_GARBAGE:
		cl_send(s, c, "hello\n", 6);
		break;
	case M_BIG: {
		size_t n = GETHRPC_REPLY_MAX + 100;
		char *b = malloc(n + 64);
		int h;

		assert_non_null(b);
		h = snprintf(b, 64, "{\"jsonrpc\":\"2.0\",\"id\":%llu,"
				    "\"result\":\"",
		    (unsigned long long)id->valuedouble);
		memset(b + h, 'a', n);
		memcpy(b + h + n, "\"}\n", 3);
		cl_send(s, c, b, (size_t)h + n + 3);
		free(b);
		break;
	}
	case M_CLOSE:
		break;
	case M_SPLIT: {
		char a[256];

		snprintf(a, sizeof(a),
		    "{\"jsonrpc\":\"2.0\",\"id\":%llu,\"result\":\"%s\"}\n",
		    (unsigned long long)id->valuedouble, m->valuestring);

		/* Hold the first; send the second as: rest of first + all
		 * of second in one write. */
		if (s->nheld == 0) {
			cl_send(s, c, a, 10);
			snprintf(s->rest, sizeof(s->rest), "%s", a + 10);
			s->nheld = 1;
		} else {
			char both[600];
			int k = snprintf(both, sizeof(both), "%s%s", s->rest,
			    a);

			cl_send(s, c, both, (size_t)k);
			s->nheld = 0;
		}
		break;
	}
	}
	cJSON_Delete(j);
}

static void on_client(void *arg, int fd, uint32_t ev)
{
	struct srv *s = arg;
	struct client *c = NULL;

	for (int i = 0; i < s->ncl; i++)
		if (s->cl[i].fd == fd)
			c = &s->cl[i];
	assert_non_null(c);
	if (ev & EPOLLOUT)
		cl_flush(s, c);
	if (!(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	for (;;) {
		ssize_t r = read(fd, c->in + c->inlen,
		    sizeof(c->in) - 1 - c->inlen);
		char *nl;

		if (r <= 0) {
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				cl_close(s, c);
			return;
		}
		c->inlen += (size_t)r;
		c->in[c->inlen] = '\0';
		while ((nl = strchr(c->in, '\n')) != NULL) {
			*nl = '\0';
			on_request(s, c, c->in);
			if (s->mode == M_CLOSE) {
				cl_close(s, c);
				return;
			}
			c->inlen -= (size_t)(nl + 1 - c->in);
			memmove(c->in, nl + 1, c->inlen + 1);
		}
	}
}

static void on_accept(void *arg, int fd, uint32_t ev)
{
	struct srv *s = arg;
	int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	(void)ev;
	if (c < 0)
		return;
	assert_true(s->ncl < 8);
	memset(&s->cl[s->ncl], 0, sizeof(s->cl[0]));
	s->cl[s->ncl].fd = c;
	s->ncl++;
	s->accepted++;
	assert_int_equal(evloop_watch(s->l, c, EPOLLIN, on_client, s), 0);
}

static void srv_dir(struct srv *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/gethrpc.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/geth.ipc", s->dir);
}

/* listen_backlog < 0: no accept at all (a stopped geth's backlog). */
static void srv_listen(struct srv *s, int backlog, bool accept_them)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	assert_true(strlen(s->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->lfd, backlog), 0);
	if (accept_them)
		assert_int_equal(evloop_watch(s->l, s->lfd, EPOLLIN, on_accept,
				     s),
		    0);
}

static void srv_stop(struct srv *s, bool unlink_it)
{
	for (int i = 0; i < s->ncl; i++)
		if (s->cl[i].fd >= 0)
			cl_close(s, &s->cl[i]);
	s->ncl = 0;
	if (s->lfd >= 0) {
		evloop_unwatch(s->l, s->lfd);
		close(s->lfd);
		s->lfd = -1;
	}
	if (unlink_it)
		unlink(s->path);
}

static struct srv *srv_new(struct evloop *l, enum mode mode)
{
	struct srv *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->l = l;
	s->mode = mode;
	s->lfd = -1;
	srv_dir(s);
	srv_listen(s, 16, true);
	return s;
}

static void srv_free(struct srv *s)
{
	srv_stop(s, true);
	rmdir(s->dir);
	free(s);
}

/* ---- the client --------------------------------------------------------- */

struct res {
	int calls;
	int err;
	bool is_error;
	long code;
	char result[256];
	uint64_t at;
	int order; /* completion order */
};

static int completed;
static bool in_call;

static void on_res(void *arg, int err, const struct gethrpc_reply *r)
{
	struct res *x = arg;

	assert_false(in_call); /* never inside gethrpc_call */
	x->calls++;
	x->err = err;
	x->at = evloop_now();
	x->order = ++completed;
	if (err == 0) {
		assert_non_null(r);
		x->is_error = r->is_error;
		x->code = r->code;
		if (!r->is_error)
			snprintf(x->result, sizeof(x->result), "%.*s",
			    (int)r->result_len, r->result);
	} else {
		assert_null(r);
	}
}

static int call(struct gethrpc *g, const char *m, unsigned timeout,
    struct res *x)
{
	int r;

	in_call = true;
	r = gethrpc_call(g, m, NULL, timeout, on_res, x);
	in_call = false;
	return r;
}

static void run_until(struct evloop *l, const int *calls, int want,
    unsigned max_ms)
{
	uint64_t end = evloop_now() + max_ms;

	while (*calls < want && evloop_now() < end)
		assert_int_equal(evloop_run_once(l, 20), 0);
}

static void run_for(struct evloop *l, unsigned ms)
{
	uint64_t end = evloop_now() + ms;

	while (evloop_now() < end)
		assert_int_equal(evloop_run_once(l, 10), 0);
}

static void test_call_normal(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_NORMAL);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0}, c = {0};

	(void)state;
	assert_non_null(g);
	assert_false(gethrpc_connected(g));
	assert_int_equal(call(g, "m_ok", 1000, &a), 0);
	assert_int_equal(a.calls, 0);
	assert_int_equal(gethrpc_pending(g), 1);
	run_until(l, &a.calls, 1, 2000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.err, 0);
	assert_false(a.is_error);
	assert_string_equal(a.result, "\"m_ok\"");
	assert_true(gethrpc_connected(g));
	assert_int_equal(gethrpc_pending(g), 0);

	/* A JSON-RPC error is a reply (err 0). */
	assert_int_equal(call(g, "m_err", 1000, &b), 0);
	in_call = true;
	assert_int_equal(gethrpc_call(g, "m_params",
			     "[\"latest\", {\"a\":[1]}]", 1000, on_res, &c),
	    0);
	in_call = false;
	run_until(l, &c.calls, 1, 2000);
	run_until(l, &b.calls, 1, 2000);
	assert_int_equal(b.err, 0);
	assert_true(b.is_error);
	assert_int_equal(b.code, -32000);
	assert_int_equal(c.err, 0);
	assert_int_equal(s->accepted, 1); /* one connection for all */

	/* Bad arguments: refused, no callback. */
	assert_int_equal(gethrpc_call(g, "", NULL, 0, on_res, &a), -EINVAL);
	assert_int_equal(gethrpc_call(g, "a\"b", NULL, 0, on_res, &a), -EINVAL);
	assert_int_equal(gethrpc_call(g, "m", "{}", 0, on_res, &a), -EINVAL);
	assert_int_equal(gethrpc_call(g, "m", "[1,]", 0, on_res, &a), -EINVAL);
	assert_int_equal(gethrpc_call(g, "m", "[1] [2]", 0, on_res, &a),
	    -EINVAL);
	assert_int_equal(gethrpc_call(g, "m", "[\"x\"]\n", 0, on_res, &a), 0);
	run_until(l, &a.calls, 2, 2000);
	assert_int_equal(a.calls, 2);

	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_out_of_order(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_REVERSE);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0}, c = {0};

	(void)state;
	completed = 0;
	assert_int_equal(call(g, "m_a", 2000, &a), 0);
	assert_int_equal(call(g, "m_b", 2000, &b), 0);
	assert_int_equal(call(g, "m_c", 2000, &c), 0);
	assert_int_equal(gethrpc_pending(g), 3);
	run_until(l, &a.calls, 1, 3000);
	assert_string_equal(a.result, "\"m_a\"");
	assert_string_equal(b.result, "\"m_b\"");
	assert_string_equal(c.result, "\"m_c\"");
	assert_int_equal(c.order, 1);
	assert_int_equal(b.order, 2);
	assert_int_equal(a.order, 3);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_split_replies(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_SPLIT);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0};

	(void)state;
	assert_int_equal(call(g, "m_a", 2000, &a), 0);
	run_for(l, 50);
	assert_int_equal(a.calls, 0); /* half a line */
	assert_int_equal(call(g, "m_b", 2000, &b), 0);
	run_until(l, &b.calls, 1, 2000);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.result, "\"m_a\"");
	assert_string_equal(b.result, "\"m_b\"");
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_timeout_then_reconnect(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_SILENT);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0}, c = {0};
	uint64_t t0 = evloop_now();

	(void)state;
	assert_int_equal(call(g, "m_a", 200, &a), 0);
	assert_int_equal(call(g, "m_b", 5000, &b), 0);
	run_until(l, &a.calls, 1, 3000);
	assert_int_equal(a.err, -ETIMEDOUT);
	assert_true(a.at - t0 >= 200);
	assert_true(a.at - t0 < 1000);
	/* geth said nothing since: the connection is dropped, and the
	 * other call on it fails too. */
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.err, -ETIMEDOUT);
	assert_false(gethrpc_connected(g));
	assert_int_equal(s->accepted, 1);

	/* geth is back (SIGCONT): the next call reconnects. */
	s->mode = M_NORMAL;
	assert_int_equal(call(g, "m_c", 1000, &c), 0);
	run_until(l, &c.calls, 1, 2000);
	assert_int_equal(c.err, 0);
	assert_string_equal(c.result, "\"m_c\"");
	assert_int_equal(s->accepted, 2);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_hung_call_keeps_connection(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_NORMAL);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res h = {0}, a = {0}, b = {0};

	(void)state;
	s->hang_once = true;
	assert_int_equal(call(g, "m_hang", 200, &h), 0);
	assert_int_equal(call(g, "m_a", 1000, &a), 0);
	run_until(l, &h.calls, 1, 2000);
	assert_int_equal(a.err, 0);
	assert_int_equal(h.err, -ETIMEDOUT);
	assert_true(gethrpc_connected(g));
	/* Its late reply is ignored. */
	assert_int_equal(s->nheld, 1);
	answer(s, &s->cl[0], s->held[0].id, s->held[0].method);
	run_for(l, 50);
	assert_int_equal(h.calls, 1);
	assert_int_equal(call(g, "m_b", 1000, &b), 0);
	run_until(l, &b.calls, 1, 2000);
	assert_int_equal(b.err, 0);
	assert_int_equal(s->accepted, 1);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_backlog_full(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = calloc(1, sizeof(*s));
	struct gethrpc *g;
	struct res a = {0}, b = {0};

	(void)state;
	/* A stopped geth accepts nothing: the first connection waits in
	 * the backlog, the next gets EAGAIN; both calls time out. */
	s->l = l;
	srv_dir(s);
	srv_listen(s, 0, false);
	g = gethrpc_new(l, s->path);
	assert_int_equal(call(g, "m_a", 150, &a), 0);
	run_until(l, &a.calls, 1, 2000);
	assert_int_equal(a.err, -ETIMEDOUT);
	assert_int_equal(call(g, "m_b", 150, &b), 0);
	run_until(l, &b.calls, 1, 2000);
	assert_int_equal(b.err, -ETIMEDOUT);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_no_server(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = calloc(1, sizeof(*s));
	struct gethrpc *g;
	struct res a = {0}, b = {0}, c = {0};
	uint64_t t0 = evloop_now();

	(void)state;
	s->l = l;
	s->lfd = -1;
	srv_dir(s);
	g = gethrpc_new(l, s->path);
	assert_int_equal(call(g, "m_a", 1000, &a), 0);
	assert_int_equal(call(g, "m_b", 1000, &b), 0);
	assert_int_equal(a.calls, 0);
	run_until(l, &b.calls, 1, 1000);
	assert_int_equal(a.err, -ENOENT);
	assert_int_equal(b.err, -ENOENT);
	assert_true(b.at - t0 < 100);

	/* A socket file nobody listens on (geth killed). */
	srv_listen(s, 16, true);
	srv_stop(s, false);
	assert_int_equal(call(g, "m_c", 1000, &c), 0);
	run_until(l, &c.calls, 1, 1000);
	assert_int_equal(c.err, -ECONNREFUSED);
	assert_string_equal(gethrpc_strerror(c.err), "connection refused");
	assert_string_equal(gethrpc_strerror(-ENOENT), "no socket");

	/* Server gone while connected: -ECONNRESET. */
	unlink(s->path);
	srv_listen(s, 16, true);
	s->mode = M_CLOSE;
	memset(&c, 0, sizeof(c));
	assert_int_equal(call(g, "m_c", 1000, &c), 0);
	run_until(l, &c.calls, 1, 1000);
	assert_int_equal(c.err, -ECONNRESET);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_bad_replies(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_GARBAGE);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0}, c = {0};

	(void)state;
	assert_int_equal(call(g, "m_a", 1000, &a), 0);
	assert_int_equal(call(g, "m_b", 1000, &b), 0);
	run_until(l, &b.calls, 1, 2000);
	assert_int_equal(a.err, -EPROTO);
	assert_int_equal(b.err, -EPROTO);
	assert_false(gethrpc_connected(g));

	s->mode = M_BIG;
	memset(&a, 0, sizeof(a));
	assert_int_equal(call(g, "m_a", 3000, &a), 0);
	run_until(l, &a.calls, 1, 3000);
	assert_int_equal(a.err, -E2BIG);
	assert_false(gethrpc_connected(g));

	s->mode = M_NORMAL;
	assert_int_equal(call(g, "m_c", 1000, &c), 0);
	run_until(l, &c.calls, 1, 2000);
	assert_int_equal(c.err, 0);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

static void test_free_cancels(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_SILENT);
	struct gethrpc *g = gethrpc_new(l, s->path);
	struct res a = {0}, b = {0};

	(void)state;
	assert_int_equal(call(g, "m_a", 1000, &a), 0);
	run_for(l, 30);
	assert_int_equal(call(g, "m_b", 1000, &b), 0);
	gethrpc_free(g);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.err, -ECANCELED);
	assert_int_equal(b.err, -ECANCELED);
	run_for(l, 30); /* no timer of the freed client fires */
	gethrpc_free(NULL);
	errno = 0;
	assert_null(gethrpc_new(l, "/tmp/"
				   "0123456789012345678901234567890123456789"
				   "0123456789012345678901234567890123456789"
				   "0123456789012345678901234567890123456789"));
	assert_int_equal(errno, ENAMETOOLONG);
	assert_null(gethrpc_new(l, ""));
	srv_free(s);
	evloop_free(l);
}

static void test_pending_max(void **state)
{
	struct evloop *l = evloop_new();
	struct srv *s = srv_new(l, M_NORMAL);
	struct gethrpc *g = gethrpc_new(l, s->path);
	static struct res r[GETHRPC_PENDING_MAX + 1];
	int done = 0;

	(void)state;
	memset(r, 0, sizeof(r));
	for (int i = 0; i < GETHRPC_PENDING_MAX; i++)
		assert_int_equal(call(g, "m_x", 3000, &r[i]), 0);
	assert_int_equal(call(g, "m_x", 3000, &r[GETHRPC_PENDING_MAX]),
	    -ENOBUFS);
	for (uint64_t end = evloop_now() + 3000;
	     done < GETHRPC_PENDING_MAX && evloop_now() < end;) {
		assert_int_equal(evloop_run_once(l, 20), 0);
		done = 0;
		for (int i = 0; i < GETHRPC_PENDING_MAX; i++)
			done += r[i].calls == 1 && r[i].err == 0;
	}
	assert_int_equal(done, GETHRPC_PENDING_MAX);
	gethrpc_free(g);
	srv_free(s);
	evloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_result),
	    cmocka_unit_test(test_reply_error),
	    cmocka_unit_test(test_reply_hostile),
	    cmocka_unit_test(test_quantity_bool_string),
	    cmocka_unit_test(test_syncing),
	    cmocka_unit_test(test_raft),
	    cmocka_unit_test(test_addresses),
	    cmocka_unit_test(test_peer_ids),
	    cmocka_unit_test(test_call_normal),
	    cmocka_unit_test(test_out_of_order),
	    cmocka_unit_test(test_split_replies),
	    cmocka_unit_test(test_timeout_then_reconnect),
	    cmocka_unit_test(test_hung_call_keeps_connection),
	    cmocka_unit_test(test_backlog_full),
	    cmocka_unit_test(test_no_server),
	    cmocka_unit_test(test_bad_replies),
	    cmocka_unit_test(test_free_cancels),
	    cmocka_unit_test(test_pending_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
