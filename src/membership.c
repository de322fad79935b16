/*
 * Membership decisions, pure (see membership.h). The facts they rest on,
 * with sources, are in ../shared/research/membership-quorum.md: a raft
 * change returns before it is committed and only raft_cluster proves it
 * (§1.2); two changes at once can get the same raft ID (§1.6); removing a
 * member needs a live majority of the current voters (§1.7); learners do
 * not vote (§1.8).
 */
#include "peerd/membership.h"

#include <stdio.h>
#include <string.h>


bool membership_raft_removal_safe(unsigned voters, unsigned live, bool voting,
    bool removed_live)
{
	unsigned v = voters, l = live;

	if (!voting)
		return true; /* a learner: the voters stay as they are */
	if (v == 0 || l > v)
		return false;
	v--;
	if (removed_live) {
		if (l == 0)
			return false;
		l--;
	}
	return v > 0 && 2 * l > v;
}

bool membership_bft_removal_safe(unsigned validators, unsigned online,
    bool removed_online)
{
	unsigned v = validators, o = online;

	if (v < 2 || o > v)
		return false;
	v--;
	if (removed_online) {
		if (o == 0)
			return false;
		o--;
	}
	return 3 * o > 2 * v;
}

bool membership_replace_due(uint64_t absent_since_ms, uint64_t now_ms,
    unsigned replace_after_s)
{
	return absent_since_ms != 0 && now_ms >= absent_since_ms &&
	    now_ms - absent_since_ms >= (uint64_t)replace_after_s * 1000;
}

static const struct gethrpc_raft_member *by_node_id(
    const struct membership_view *v, const char *node_id)
{
	for (size_t i = 0; i < v->ncluster; i++)
		if (strcmp(v->cluster[i].node_id, node_id) == 0)
			return &v->cluster[i];
	return NULL;
}

static bool goes(const struct membership_view *v, unsigned ordinal)
{
	return v->goes != NULL && ordinal < NETRECORD_MEMBERS_MAX &&
	    v->goes[ordinal];
}

static bool is_learner(const struct gethrpc_raft_member *c)
{
	return strcmp(c->role, "learner") == 0;
}

/* Active: this node itself, or a member whose raft stream is up. */
static bool active(const struct membership_view *v,
    const struct gethrpc_raft_member *c)
{
	const struct netrecord_member *me = netrecord_find(v->rec, v->self);

	return c->active || (me != NULL && strcmp(me->node_id, c->node_id) == 0);
}

static void count_voters(const struct membership_view *v, unsigned *voters,
    unsigned *live)
{
	*voters = *live = 0;
	for (size_t i = 0; i < v->ncluster; i++) {
		if (is_learner(&v->cluster[i]))
			continue;
		(*voters)++;
		if (active(v, &v->cluster[i]))
			(*live)++;
	}
}

/* Member m (c in the cluster) removed, if the voters left keep a live
 * majority; else why ("not removing ordinal <m><what>: ..."). */
static void removal(const struct membership_view *v,
    const struct netrecord_member *m, const struct gethrpc_raft_member *c,
    const char *what, struct membership_step *out)
{
	unsigned voters, live;

	count_voters(v, &voters, &live);
	if (!membership_raft_removal_safe(voters, live, !is_learner(c),
	    active(v, c))) {
		snprintf(out->why, sizeof(out->why), "not removing ordinal "
		    "%u%s: the %u voters left would not keep a live majority "
		    "(%u live now)", m->ordinal, what, voters - 1, live);
		return;
	}
	out->action = MEMBERSHIP_REMOVE;
	out->ordinal = m->ordinal;
	out->raft_id = c->raft_id;
}

bool membership_raft_coordinates(const char *role)
{
	return role != NULL && strcmp(role, "minter") == 0;
}

void membership_raft_next(const struct membership_view *v,
    struct membership_step *out)
{
	const struct netrecord *r = v->rec;

	memset(out, 0, sizeof(*out));
	/* 1. Joiners, lowest ordinal first, once every member permits them. */
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];

		if (!m->joined || m->raft_id != 0 || by_node_id(v, m->node_id))
			continue;
		if (v->permitted_ms != NULL && m->ordinal < NETRECORD_MEMBERS_MAX &&
		    (v->permitted_ms[m->ordinal] == 0 ||
		    v->now_ms - v->permitted_ms[m->ordinal] < v->permit_lead_ms)) {
			snprintf(out->why, sizeof(out->why), "joining ordinal %u: "
			    "letting every member permit it first", m->ordinal);
			return;
		}
		out->action = MEMBERSHIP_ADD_LEARNER;
		out->ordinal = m->ordinal;
		return;
	}
	/* 2. Learners that stay members become voters. */
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];
		const struct gethrpc_raft_member *c = by_node_id(v, m->node_id);

		if (c == NULL || !is_learner(c) || goes(v, m->ordinal))
			continue;
		out->action = MEMBERSHIP_PROMOTE;
		out->ordinal = m->ordinal;
		out->raft_id = c->raft_id;
		return;
	}
	/* 3. Members that go: learners first, voters only if safe. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->count; i++) {
			const struct netrecord_member *m = &r->members[i];
			const struct gethrpc_raft_member *c = by_node_id(v,
			    m->node_id);
			if (!goes(v, m->ordinal) || c == NULL ||
			    m->ordinal == v->self ||
			    is_learner(c) != (pass == 0))
				continue;
			removal(v, m, c, "", out);
			return;
		}
	}
}

static bool online(const struct membership_bft_view *v, unsigned ordinal)
{
	return ordinal == v->self || (v->online != NULL &&
	    ordinal < NETRECORD_MEMBERS_MAX && v->online[ordinal]);
}

static bool bft_goes(const struct membership_bft_view *v, unsigned ordinal)
{
	return v->goes != NULL && ordinal < NETRECORD_MEMBERS_MAX &&
	    v->goes[ordinal] && ordinal != v->self;
}

void membership_bft_next(const struct membership_bft_view *v,
    struct membership_step *out)
{
	const struct netrecord *r = v->rec;
	unsigned up = 0;

	memset(out, 0, sizeof(*out));
	/* 1. Members that go and do not validate: out of the record. */
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];

		if (bft_goes(v, m->ordinal) && !m->validator) {
			out->action = MEMBERSHIP_DROP;
			out->ordinal = m->ordinal;
			return;
		}
	}
	if (!v->self_validates)
		return;
	/* 2. Validators that go, voted out while enough stay online. */
	for (size_t i = 0; i < r->count; i++)
		if (r->members[i].validator && online(v, r->members[i].ordinal))
			up++;
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];

		if (!bft_goes(v, m->ordinal) || !m->validator)
			continue;
		if (!membership_bft_removal_safe((unsigned)v->nvalidators, up,
		    online(v, m->ordinal))) {
			snprintf(out->why, sizeof(out->why), "not voting "
			    "ordinal %u out: of the %zu validators left, %u "
			    "would be online, not more than two thirds",
			    m->ordinal, v->nvalidators - 1,
			    up - (online(v, m->ordinal) ? 1 : 0));
			break;
		}
		out->action = MEMBERSHIP_VOTE_OUT;
		out->ordinal = m->ordinal;
		return;
	}
	/* 3. Joiners voted in. */
	if (!v->vote_joiners)
		return;
	for (size_t i = 0; i < r->count; i++) {
		const struct netrecord_member *m = &r->members[i];

		if (m->joined && !m->validator && !bft_goes(v, m->ordinal) &&
		    m->ordinal != v->self) {
			out->action = MEMBERSHIP_VOTE_IN;
			out->ordinal = m->ordinal;
			return;
		}
	}
}


void membership_raft_leader_next(const struct membership_view *v,
    struct membership_step *out)
{
	const struct netrecord *r = v->rec;
	const struct gethrpc_raft_member *lc = NULL;
	const struct netrecord_member *leader = NULL, *proposer = NULL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < v->ncluster; i++)
		if (membership_raft_coordinates(v->cluster[i].role))
			lc = &v->cluster[i];
	for (size_t i = 0; i < r->count && lc != NULL; i++)
		if (strcmp(r->members[i].node_id, lc->node_id) == 0)
			leader = &r->members[i];
	if (leader == NULL || !goes(v, leader->ordinal) ||
	    leader->ordinal == v->self)
		return;
	/* The proposer: the lowest-ordinal live voter that stays. */
	for (size_t i = 0; i < r->count && proposer == NULL; i++) {
		const struct netrecord_member *m = &r->members[i];
		const struct gethrpc_raft_member *c = by_node_id(v, m->node_id);

		if (c != NULL && !is_learner(c) && active(v, c) &&
		    !goes(v, m->ordinal))
			proposer = m;
	}
	if (proposer == NULL || proposer->ordinal != v->self) {
		snprintf(out->why, sizeof(out->why), "ordinal %u goes and "
		    "leads: the lowest live voter that stays proposes its "
		    "removal", leader->ordinal);
		return;
	}
	removal(v, leader, lc, " (the leader)", out);
}
