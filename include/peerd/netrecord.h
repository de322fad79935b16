#ifndef PEERD_NETRECORD_H
#define PEERD_NETRECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "peerd/peerdoc.h"
#include "peerd/settings.h"

/*
 * The network record (DESIGN §11): what a node keeps of the network it is a
 * member of, in DATA_DIR/network.json, written atomically when the network
 * forms and whenever a member changes. It is what a restart starts from:
 * the frozen genesis's hash, and every member's enode (as static-nodes.json
 * lists it), raft ID and validator role, with the signed document it was
 * taken from when there is one (a record rebuilt from the files of an older
 * release has none until discovery brings it). Parsing and rendering are
 * pure.
 *
 *   {"v":1,"genesis":"0x<64 hex>","consensus":"raft","members":[
 *    {"ordinal":0,"node_id":"<128 hex>","enode":"enode://...","raft_id":1,
 *     "validator":false[,"joined":true],"doc":"{...}"|null},
 *    ...]}
 */

#define NETRECORD_FILE "network.json"
#define NETRECORD_VERSION 1
#define NETRECORD_MAX (8u << 20) /* largest file read */
#define NETRECORD_MEMBERS_MAX 1024

struct netrecord_member {
	unsigned ordinal;
	char node_id[129];
	char enode[400]; /* the static-nodes.json entry */
	unsigned raft_id; /* 0 = none (not raft, or not assigned yet) */
	bool validator;
	/* joined a formed network (raft: --raftjoinexisting on every start);
	 * "joined":true in the file, absent for the forming members */
	bool joined;
	char *doc; /* the signed document (no newline), malloc'ed, or NULL */
	size_t doclen;
};

struct netrecord {
	char genesis[67]; /* "0x" + keccak256 of genesis.json, lowercase */
	enum consensus consensus;
	size_t count;
	struct netrecord_member *members; /* by ordinal, strictly increasing */
};

/*
 * Parses and checks a record: shapes, ordinals strictly increasing and
 * below NETRECORD_MEMBERS_MAX, each enode naming its node_id, and each doc
 * a fully valid document (signature included) of that ordinal and node ID.
 * 0, or -EPROTO with one line in err naming the member; -ENOMEM.
 */
int netrecord_parse(const char *buf, size_t len, struct netrecord *out,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* The file's bytes, deterministic, ending '\n'. *out is malloc'ed. */
int netrecord_render(const struct netrecord *r, char **out, size_t *len)
    __attribute__((warn_unused_result));

/*
 * A record of the network just formed from the n documents peers[0..n-1]
 * (ordinals 0..n-1, as discovery validated them): lines[i] are peers[i]'s
 * bytes as served (a trailing newline is dropped), enodes[i] its
 * static-nodes.json entry. Raft IDs are the 1-based positions in
 * static-nodes.json (raft); every member is a validator (istanbul/qbft).
 */
int netrecord_from_docs(struct netrecord *r, enum consensus c,
    const struct peerdoc *peers, const char *const *lines,
    const size_t *lens, const char *const *enodes, size_t n,
    const char genesis_hash[static 67]) __attribute__((warn_unused_result));

/*
 * Rebuilds the record of a data dir made before records existed, from its
 * static-nodes.json (ordinal i = entry i, as every release wrote it) and
 * its genesis's hash. -EPROTO with err if the list is not one.
 */
int netrecord_from_static_nodes(struct netrecord *r, enum consensus c,
    const char *json, size_t len, const char genesis_hash[static 67],
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* The member at `ordinal`, or NULL. */
struct netrecord_member *netrecord_find(const struct netrecord *r,
    unsigned ordinal);

/*
 * Takes a member's current document (validated by the caller) and the
 * enode it renders to. Returns 1 if the record changed (enode or document),
 * 0 if not, -EEXIST if the member at that ordinal has another node ID (a
 * conflict: nothing changed), -ENOENT if no member has that ordinal,
 * -ENOMEM.
 */
int netrecord_update(struct netrecord *r, const struct peerdoc *doc,
    const char *line, size_t len, const char *enode)
    __attribute__((warn_unused_result));

/*
 * Adds a joining member (joined, raft ID 0 until one is assigned, not a
 * validator) from its validated document. 0, -EEXIST (the ordinal is a
 * member), -E2BIG (NETRECORD_MEMBERS_MAX), -EINVAL, -ENOMEM.
 */
int netrecord_add(struct netrecord *r, const struct peerdoc *doc,
    const char *line, size_t len, const char *enode)
    __attribute__((warn_unused_result));

/* Drops the member at `ordinal` (it left the network). 0 or -ENOENT. */
int netrecord_remove(struct netrecord *r, unsigned ordinal);

/* The members' enodes in ordinal order; *out (malloc'ed) points into r. */
int netrecord_enodes(const struct netrecord *r, const char ***out)
    __attribute__((warn_unused_result));

/* "0x" + keccak256(data) into out. */
void netrecord_hash(const void *data, size_t len, char out[static 67]);

void netrecord_free(struct netrecord *r);

#endif
