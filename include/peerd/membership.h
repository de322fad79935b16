#ifndef PEERD_MEMBERSHIP_H
#define PEERD_MEMBERSHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peerd/gethrpc.h"
#include "peerd/netrecord.h"

/*
 * Membership decisions (DESIGN §11), pure: what the raft coordinator does
 * next, given the network record, geth's raft_cluster and the time. One
 * change at a time: the caller makes the step, confirms it in raft_cluster,
 * and asks again. No I/O, no clock, no logging.
 */

enum membership_action {
	MEMBERSHIP_NONE = 0,
	MEMBERSHIP_ADD_LEARNER, /* raft_addLearner(enode of ordinal) */
	MEMBERSHIP_PROMOTE,     /* raft_promoteToPeer(raft_id) once caught up */
	MEMBERSHIP_REMOVE,      /* raft_removePeer(raft_id) */
	/* istanbul/qbft */
	MEMBERSHIP_VOTE_IN,     /* istanbul_propose(address, true) */
	MEMBERSHIP_VOTE_OUT,    /* istanbul_propose(address, false) */
	MEMBERSHIP_DROP,        /* not a validator: out of the record */
};

struct membership_view {
	const struct netrecord *rec;
	const struct gethrpc_raft_member *cluster; /* this node's geth's */
	size_t ncluster;
	unsigned self;        /* this node's ordinal */
	uint64_t now_ms;
	/* [NETRECORD_MEMBERS_MAX] or NULL: when each joiner was permitted
	 * here; it is added PERMIT_LEAD_MS later (it asks every member each
	 * second, so all live members permit it first) */
	const uint64_t *permitted_ms;
	unsigned permit_lead_ms;
	/*
	 * [NETRECORD_MEMBERS_MAX] or NULL: members that go: ordinals at or
	 * above a NODE_NUMBER this daemon was restarted with (lower than the
	 * network's: joiners above a NODE_NUMBER not raised yet do not go),
	 * and recorded identities replaced (membership_replace_due)
	 */
	const bool *goes;
};

struct membership_step {
	enum membership_action action;
	unsigned ordinal;
	unsigned raft_id;
	/* with NONE: why a change waits ("" when nothing is to be done) */
	char why[200];
};

/*
 * Whether this node's daemon coordinates: its geth is the raft leader
 * (raft_role "minter"). Only the leader's geth is asked raft_cluster every
 * second: on the others the call can deadlock geth (gethwatch.c). A
 * leader that goes keeps its role while it runs, and its daemon does not
 * know it goes: the others propose its removal
 * (membership_raft_leader_next).
 */
bool membership_raft_coordinates(const char *role);

/*
 * The next raft change: a joiner to add (lowest ordinal first), then a
 * learner to promote, then a member that goes to remove (learners first),
 * only if what stays keeps a live majority of its voters. Never this node.
 */
void membership_raft_next(const struct membership_view *v,
    struct membership_step *out);

/*
 * Raft, on a daemon that does not coordinate: the leader (the "minter"
 * of this node's raft_cluster) itself goes. Its own daemon does not know
 * (it still runs with the NODE_NUMBER it had). The lowest-ordinal live
 * voter that stays proposes the leader's removal (geth forwards it to the
 * leader), if the voters left keep a live majority; the others wait.
 */
void membership_raft_leader_next(const struct membership_view *v,
    struct membership_step *out);

/*
 * Raft: removing one member from `voters` voters, `live` of them active
 * (the removed one counted in both if it votes, `removed_live` if it is
 * active): do the rest keep a live majority? A learner: voting = false.
 */
bool membership_raft_removal_safe(unsigned voters, unsigned live,
    bool voting, bool removed_live);

/*
 * BFT: removing one of `validators`, `online` of them online: more than
 * two thirds of the remaining validators stay online.
 */
bool membership_bft_removal_safe(unsigned validators, unsigned online,
    bool removed_online);

/*
 * A different identity serving ordinal k while its recorded one has been
 * absent (not active in the cluster) since absent_since_ms (0 = present):
 * a replacement once absent for replace_after_s seconds, else a conflict.
 */
bool membership_replace_due(uint64_t absent_since_ms, uint64_t now_ms,
    unsigned replace_after_s);

/*
 * IBFT/QBFT (research: membership-quorum.md §3.3): what this node's daemon
 * does next, given the record (its members' `validator` as this node's
 * geth's istanbul_getValidators says), how many validators geth names, and
 * which members are online (this node, and the peers geth is connected
 * to: admin_peers).
 */
struct membership_bft_view {
	const struct netrecord *rec;
	size_t nvalidators;   /* istanbul_getValidators' length */
	const bool *online;   /* [NETRECORD_MEMBERS_MAX], by ordinal */
	const bool *goes;     /* [NETRECORD_MEMBERS_MAX] or NULL, as above */
	unsigned self;
	bool self_validates;  /* only validators vote */
	bool vote_joiners;    /* VALIDATORS=all */
};

/*
 * One step: a member that goes and is not a validator leaves the record
 * (DROP); else the lowest-ordinal validator that goes is voted out, only
 * if more than two thirds of the validators left stay online (else `why`
 * says so); else the lowest-ordinal joiner that is not a validator is
 * voted in (VALIDATORS=all). A vote stands until it passes, so the same
 * step comes back until geth's validators show it: one change at a time.
 * Never this node.
 */
void membership_bft_next(const struct membership_bft_view *v,
    struct membership_step *out);

#endif
