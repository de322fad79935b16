#ifndef PEERD_RENDER_H
#define PEERD_RENDER_H

#include <stddef.h>
#include <sys/types.h>

#include "peerd/peerdoc.h"
#include "peerd/settings.h"

/*
 * Peer set -> bytes of every config file (DESIGN §8, formats.md §4-8). Pure
 * and deterministic: the same peers and settings give the same bytes on
 * every node (the node-specific TM config aside).
 */

#define RENDER_FILES_MAX 8
/* IBFT/QBFT block period, seconds: in the genesis (config.ibft/qbft) or, for
 * the legacy config.istanbul, geth's --istanbul.blockperiod (launch.c). */
#define RENDER_BLOCK_PERIOD_S 5u

struct render_file {
	const char *path; /* relative to DATA_DIR, e.g. "dd/static-nodes.json" */
	char *data;       /* malloc'ed */
	size_t len;
	mode_t mode;
};

struct render_set {
	struct render_file files[RENDER_FILES_MAX];
	size_t count;
};

/*
 * Renders static-nodes.json, permissioned-nodes.json (PERMISSIONED=yes),
 * genesis.json and the TM config (tm.conf or tessera-config.json; none for
 * PRIVACY=none) for the node peers[self]. peers must hold n validated
 * documents with ordinals 0..n-1 in any order. privacy must not be
 * PRIVACY_AUTO and genesis_form not GENESIS_AUTO (resolve them first). The
 * genesis depends only on the documents, CONSENSUS, CHAIN_ID and
 * GENESIS_FORM, never on this node. Returns 0 or -EINVAL with err.
 */
int render_all(const struct settings *s, const struct peerdoc *peers,
    size_t n, size_t self, struct render_set *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * One entry of static-nodes.json / permissioned-nodes.json for d, as
 * render_all writes it: enode://<id>@<host>:<p2p>?discport=0[&raftport=R]
 * (host per ADDRESS_MODE, [ip] for IPv6; raftport for raft). 0 or -ENOBUFS.
 */
int render_enode(const struct settings *s, const struct peerdoc *d,
    char *out, size_t outlen) __attribute__((warn_unused_result));
/*
 * static-nodes.json and (PERMISSIONED=yes) permissioned-nodes.json from
 * the given entries, in that order, byte for byte as render_all lays them
 * out: a formed node renders them from its network record (netrecord.h).
 * Every entry must be an enode URL needing no JSON escape. 0 or -EINVAL.
 */
int render_node_lists(const struct settings *s, const char *const *enodes,
    size_t n, struct render_set *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/*
 * The form of an existing genesis.json (a frozen one decides, not the
 * setting): GENESIS_CURRENT if its config has "ibft" or "transitions",
 * GENESIS_LEGACY otherwise; -EINVAL if it is not a JSON object with a
 * "config" object.
 */
int render_genesis_form_of(const char *json, size_t len)
    __attribute__((warn_unused_result));
/* Finds a file of the set by its relative path; NULL if absent. */
const struct render_file *render_find(const struct render_set *set,
    const char *path);

void render_set_free(struct render_set *set);

#endif
