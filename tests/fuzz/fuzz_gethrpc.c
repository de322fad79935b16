/*
 * libFuzzer harness for gethrpc's pure parsers: the reply envelope and
 * every typed decoder, fed both the whole input and the "result" of a
 * reply that parsed. What they accept must be well-formed.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "peerd/gethrpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (n == max)
		__builtin_trap();
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x7f)
			__builtin_trap();
}

static void check_hex(const char *s, const char *prefix, size_t n)
{
	size_t pl = strlen(prefix);

	if (strlen(s) != pl + n || memcmp(s, prefix, pl) != 0)
		__builtin_trap();
	for (size_t i = pl; i < pl + n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			__builtin_trap();
}

static void check_role(const char *r)
{
	if (strcmp(r, "minter") && strcmp(r, "verifier") &&
	    strcmp(r, "learner") && r[0] != '\0')
		__builtin_trap();
}

static void decoders(const char *s, size_t n)
{
	static struct gethrpc_raft_member m[8];
	static char addrs[8][GETHRPC_ADDR_LEN + 1];
	static char ids[8][GETHRPC_NODE_ID_LEN + 1];
	char err[160], str[64], role[GETHRPC_ROLE_MAX];
	char id[GETHRPC_NODE_ID_LEN + 1], addr[GETHRPC_ADDR_LEN + 1];
	struct gethrpc_syncing sy;
	uint64_t q, q2;
	size_t k;
	bool b;

	err[0] = '\0';
	if (gethrpc_quantity(s, n, &q, err, sizeof(err)) == 0) {
		/* Canonical: it prints back to a text that parses the same. */
		int w = snprintf(str, sizeof(str), "\"0x%" PRIx64 "\"", q);

		if (gethrpc_quantity(str, (size_t)w, &q2, NULL, 0) != 0 ||
		    q2 != q)
			__builtin_trap();
	}
	(void)gethrpc_bool(s, n, &b, err, sizeof(err));
	if (gethrpc_string(s, n, str, sizeof(str), err, sizeof(err)) == 0)
		check_printable(str, sizeof(str));
	if (gethrpc_syncing(s, n, &sy, err, sizeof(err)) == 0 && !sy.syncing &&
	    (sy.current || sy.highest))
		__builtin_trap();
	if (gethrpc_raft_role(s, n, role, err, sizeof(err)) == 0)
		check_role(role);
	if (gethrpc_node_id(s, n, id, err, sizeof(err)) == 0)
		check_hex(id, "", GETHRPC_NODE_ID_LEN);
	if (gethrpc_address(s, n, addr, err, sizeof(err)) == 0)
		check_hex(addr, "0x", 40);
	if (gethrpc_addresses(s, n, addrs, 8, &k, err, sizeof(err)) == 0) {
		if (k > 8)
			__builtin_trap();
		for (size_t i = 0; i < k; i++)
			check_hex(addrs[i], "0x", 40);
	}
	if (gethrpc_peer_ids(s, n, ids, 8, &k, err, sizeof(err)) == 0) {
		if (k > 8)
			__builtin_trap();
		for (size_t i = 0; i < k; i++)
			check_hex(ids[i], "", GETHRPC_NODE_ID_LEN);
	}
	if (gethrpc_raft_cluster(s, n, m, 8, &k, err, sizeof(err)) == 0) {
		if (k > 8)
			__builtin_trap();
		for (size_t i = 0; i < k; i++) {
			if (m[i].raft_id < 1 || m[i].raft_id > 65535 ||
			    m[i].hostname[0] == '\0')
				__builtin_trap();
			check_hex(m[i].node_id, "", GETHRPC_NODE_ID_LEN);
			check_role(m[i].role);
			check_printable(m[i].hostname, sizeof(m[i].hostname));
		}
	}
	/* Error lines quote the input: printable only. */
	check_printable(err, sizeof(err));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct gethrpc_reply r;
	char err[160];
	uint64_t id;

	if (gethrpc_parse_reply(s, size, &id, &r, err, sizeof(err)) == 0) {
		if (r.is_error) {
			if (r.result != NULL)
				__builtin_trap();
			check_printable(r.message, sizeof(r.message));
		} else {
			if (r.result < s || r.result_len == 0 ||
			    r.result + r.result_len > s + size)
				__builtin_trap();
			decoders(r.result, r.result_len);
		}
	} else {
		check_printable(err, sizeof(err));
	}
	decoders(s, size);
	return 0;
}
