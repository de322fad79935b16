/*
 * membership: who coordinates, whether a removal is safe, when a conflict
 * becomes a replacement, and the order of raft changes (one at a time).
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

#include "peerd/membership.h"

static void test_raft_removal_safe(void **state)
{
	(void)state;
	/* 5 voters all live: removing one leaves 4 of 4 live. */
	assert_true(membership_raft_removal_safe(5, 5, true, true));
	/* 3 voters, 2 live, the dead one goes: 2 of 2. */
	assert_true(membership_raft_removal_safe(3, 2, true, false));
	/* 3 voters, 2 live, a live one goes: 1 of 2 is no majority. */
	assert_false(membership_raft_removal_safe(3, 2, true, true));
	/* 4 voters, 2 live, a dead one goes: 2 of 3 is a majority. */
	assert_true(membership_raft_removal_safe(4, 2, true, false));
	/* 5 voters, 2 live: nothing can go (2 of 4 is not a majority). */
	assert_false(membership_raft_removal_safe(5, 2, true, false));
	/* the last voter never goes */
	assert_false(membership_raft_removal_safe(1, 1, true, true));
	/* a learner always may */
	assert_true(membership_raft_removal_safe(3, 1, false, false));
	/* nonsense in, no */
	assert_false(membership_raft_removal_safe(2, 3, true, true));
}

static void test_bft_removal_safe(void **state)
{
	(void)state;
	/* 5 validators all online: 4 of 4 online. */
	assert_true(membership_bft_removal_safe(5, 5, true));
	/* 4 online of 5, an offline one goes: 4 of 4. */
	assert_true(membership_bft_removal_safe(5, 4, false));
	/* 4 online of 5, an online one goes: 3 of 4 is not > 2/3? 9 > 8 */
	assert_true(membership_bft_removal_safe(5, 4, true));
	/* 3 online of 5, an online one goes: 2 of 4: no. */
	assert_false(membership_bft_removal_safe(5, 3, true));
	/* 4 validators, 3 online, an online one goes: 2 of 3: no (6 > 6). */
	assert_false(membership_bft_removal_safe(4, 3, true));
	assert_false(membership_bft_removal_safe(1, 1, true));
}

static void test_replace_due(void **state)
{
	(void)state;
	assert_false(membership_replace_due(0, 1000000, 300));
	assert_false(membership_replace_due(1000, 1000 + 299999, 300));
	assert_true(membership_replace_due(1000, 1000 + 300000, 300));
	assert_true(membership_replace_due(1000, 1000, 0));
	/* a clock before the absence (cannot happen; never due) */
	assert_false(membership_replace_due(5000, 1000, 0));
}

/* A record of `n` members 0..n-1 (raft IDs 1..n), node IDs "a..", "b..". */
static struct netrecord_member mem[8];
static struct gethrpc_raft_member cl[8];

static void node_id(char out[129], unsigned i)
{
	memset(out, 'a' + (int)i, 128);
	out[128] = '\0';
}

static void setup(struct netrecord *r, size_t n)
{
	memset(mem, 0, sizeof(mem));
	memset(cl, 0, sizeof(cl));
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < n; i++) {
		mem[i].ordinal = i;
		node_id(mem[i].node_id, i);
		mem[i].raft_id = i + 1;
		cl[i].raft_id = i + 1;
		node_id(cl[i].node_id, i);
		strcpy(cl[i].role, i == 0 ? "minter" : "verifier");
		cl[i].active = i != 0; /* self (0) is not "active" to itself */
	}
	r->members = mem;
	r->count = n;
}

/* The raft leader's daemon coordinates. */
static void test_coordinator(void **state)
{
	(void)state;
	assert_true(membership_raft_coordinates("minter"));
	assert_false(membership_raft_coordinates("verifier"));
	assert_false(membership_raft_coordinates("learner"));
	assert_false(membership_raft_coordinates(""));
	assert_false(membership_raft_coordinates(NULL));
}

static void test_raft_next(void **state)
{
	struct netrecord r;
	struct membership_view v = {0};
	struct membership_step s;
	uint64_t permitted[NETRECORD_MEMBERS_MAX] = {0};
	bool goes[NETRECORD_MEMBERS_MAX] = {false};

	(void)state;
	setup(&r, 3);
	v.rec = &r;
	v.cluster = cl;
	v.ncluster = 3;
	v.self = 0;
	v.now_ms = 100000;
	v.permitted_ms = permitted;
	v.permit_lead_ms = 3000;
	v.goes = goes;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_string_equal(s.why, "");

	/* Two joiners (4 and 3): the lowest first, once permitted long
	 * enough; not the other at the same time. */
	r.count = 5;
	mem[3].ordinal = 3, mem[3].joined = true, mem[3].raft_id = 0;
	node_id(mem[3].node_id, 3);
	mem[4].ordinal = 4, mem[4].joined = true, mem[4].raft_id = 0;
	node_id(mem[4].node_id, 4);
	permitted[3] = 99000;
	permitted[4] = 90000;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "ordinal 3"));
	v.now_ms = 102000;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_ADD_LEARNER);
	assert_int_equal(s.ordinal, 3);
	/* 3 is a learner in the cluster now: 4 is next, before promoting */
	cl[3].raft_id = 4;
	node_id(cl[3].node_id, 3);
	strcpy(cl[3].role, "learner");
	v.ncluster = 4;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_ADD_LEARNER);
	assert_int_equal(s.ordinal, 4);
	/* 4 in too: promote 3 (its ID from the cluster) */
	cl[4].raft_id = 5;
	node_id(cl[4].node_id, 4);
	strcpy(cl[4].role, "learner");
	v.ncluster = 5;
	mem[3].raft_id = 4;
	mem[4].raft_id = 5;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_PROMOTE);
	assert_int_equal(s.ordinal, 3);
	assert_int_equal(s.raft_id, 4);
	strcpy(cl[3].role, "verifier");
	strcpy(cl[4].role, "verifier");
	cl[3].active = cl[4].active = true;
	/* (members with NODE_NUMBER 3 do not remove joiners 3 and 4: they
	 * are not among those that go) */
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);

	/* NODE_NUMBER 5 -> 4: ordinal 4 goes (live majority stays). */
	goes[4] = true;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_REMOVE);
	assert_int_equal(s.ordinal, 4);
	assert_int_equal(s.raft_id, 5);

	/* NODE_NUMBER 5 -> 2 with 1, 2 and 3 down: removing 2 (dead) would
	 * leave 1 live of 4 voters: refused, with the reason. */
	goes[2] = goes[3] = true;
	cl[1].active = cl[2].active = cl[3].active = false;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "not removing ordinal 2"));
	/* the dead ones are removed first when that is safe: 2 and 3 dead,
	 * 0, 1, 4 live, NODE_NUMBER 3: 3 goes (dead), then 4 (live) */
	cl[1].active = true;
	cl[4].active = true;
	goes[2] = false;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_REMOVE);
	assert_int_equal(s.ordinal, 3);

	/* a learner that goes is removed before any voter, and never
	 * promoted */
	strcpy(cl[4].role, "learner");
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_REMOVE);
	assert_int_equal(s.ordinal, 4);

	/* a replacement: ordinal 1's recorded identity goes, below
	 * NODE_NUMBER too; never the coordinator itself */
	setup(&r, 3);
	v.ncluster = 3;
	memset(goes, 0, sizeof(goes));
	goes[1] = true;
	goes[0] = true;
	membership_raft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_REMOVE);
	assert_int_equal(s.ordinal, 1);
}

/* IBFT: drop non-validators that go, vote validators out only while more
 * than 2/3 stay online, vote joiners in; one step at a time. */
static void test_bft_next(void **state)
{
	struct netrecord r;
	struct membership_bft_view v = {0};
	struct membership_step s;
	bool goes[NETRECORD_MEMBERS_MAX] = {false};
	bool on[NETRECORD_MEMBERS_MAX] = {false};

	(void)state;
	setup(&r, 5);
	for (unsigned i = 0; i < 5; i++) {
		mem[i].raft_id = 0;
		mem[i].validator = true;
		on[i] = true;
	}
	v.rec = &r;
	v.nvalidators = 5;
	v.online = on;
	v.goes = goes;
	v.self = 0;
	v.self_validates = true;
	v.vote_joiners = true;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_string_equal(s.why, "");

	/* NODE_NUMBER 5 -> 4 with quorum-4 stopped: voted out (4 of 4). */
	goes[4] = true;
	on[4] = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_VOTE_OUT);
	assert_int_equal(s.ordinal, 4);
	/* a non-validator never votes, but still drops what goes */
	v.self_validates = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	v.self_validates = true;

	/* 5 -> 3 with 3 and 4 stopped: 4 first (3 of 4 online after it:
	 * 9 > 8); then with 3 also a validator of 4 (3 online) 3 goes: 3 of
	 * 3. But with 2 also offline nothing goes, and why says so. */
	goes[3] = true;
	on[3] = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_VOTE_OUT);
	assert_int_equal(s.ordinal, 3);
	on[2] = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "not voting ordinal 3 out"));
	on[2] = true;

	/* once voted out (not a validator): out of the record, before any
	 * other vote */
	mem[4].validator = false;
	v.nvalidators = 4;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_DROP);
	assert_int_equal(s.ordinal, 4);

	/* a live validator that goes, 4 of 4 online: 3 of 3 stay */
	setup(&r, 4);
	memset(goes, 0, sizeof(goes));
	for (unsigned i = 0; i < 4; i++) {
		mem[i].validator = true;
		on[i] = true;
	}
	v.nvalidators = 4;
	goes[2] = true;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_VOTE_OUT);
	assert_int_equal(s.ordinal, 2);
	/* with 1 offline, removing live 2 leaves 2 of 3 online: refused */
	on[1] = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "ordinal 2"));
	on[1] = true;
	/* never this node */
	memset(goes, 0, sizeof(goes));
	goes[0] = true;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);

	/* a joiner (not a validator) is voted in with VALIDATORS=all only */
	goes[0] = false;
	r.count = 5;
	mem[4].ordinal = 4;
	node_id(mem[4].node_id, 4);
	mem[4].joined = true;
	mem[4].validator = false;
	mem[4].raft_id = 0;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_VOTE_IN);
	assert_int_equal(s.ordinal, 4);
	v.vote_joiners = false;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	/* a joiner that goes is dropped, never voted in */
	v.vote_joiners = true;
	goes[4] = true;
	membership_bft_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_DROP);
	assert_int_equal(s.ordinal, 4);
}

/* Raft: the leader goes; its daemon does not know: the lowest live voter
 * that stays proposes its removal, if a live majority stays. */
static void test_raft_leader_goes(void **state)
{
	struct netrecord r;
	struct membership_view v = {0};
	struct membership_step s;
	bool goes[NETRECORD_MEMBERS_MAX] = {false};

	(void)state;
	setup(&r, 5);
	/* ordinal 4 (raft ID 5) leads; this node is ordinal 1 */
	for (unsigned i = 0; i < 5; i++) {
		strcpy(cl[i].role, i == 4 ? "minter" : "verifier");
		cl[i].active = i != 1;
	}
	v.rec = &r;
	v.cluster = cl;
	v.ncluster = 5;
	v.self = 1;
	v.goes = goes;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_string_equal(s.why, "");
	/* NODE_NUMBER 5 -> 4: ordinal 0 proposes, not this one */
	goes[4] = true;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "ordinal 4 goes and leads"));
	/* ordinal 0 down: this node (1) is the lowest live voter that stays */
	cl[0].active = false;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_REMOVE);
	assert_int_equal(s.ordinal, 4);
	assert_int_equal(s.raft_id, 5);
	/* 0 and 2 down: 2 live of 4 voters left is no majority */
	cl[2].active = false;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	assert_non_null(strstr(s.why, "not removing ordinal 4 (the leader)"));
	/* a leader that stays, an unknown leader: nothing */
	cl[2].active = true;
	goes[4] = false;
	goes[3] = true;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	/* no leader: nothing */
	goes[4] = true;
	strcpy(cl[4].role, "");
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
	/* never this node itself */
	strcpy(cl[4].role, "verifier");
	strcpy(cl[1].role, "minter");
	goes[1] = true;
	membership_raft_leader_next(&v, &s);
	assert_int_equal(s.action, MEMBERSHIP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_coordinator),
	    cmocka_unit_test(test_raft_removal_safe),
	    cmocka_unit_test(test_bft_removal_safe),
	    cmocka_unit_test(test_replace_due),
	    cmocka_unit_test(test_raft_next),
	    cmocka_unit_test(test_raft_leader_goes),
	    cmocka_unit_test(test_bft_next),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
