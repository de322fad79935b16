#ifndef PEERD_IDENTITY_H
#define PEERD_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "peerd/peerdoc.h"
#include "peerd/settings.h"

/*
 * This node's identity in DATA_DIR (DESIGN §5): dd/geth/nodekey,
 * dd/keystore/UTC--<time>--<address>, keys/password, keys/tm.pub, keys/tm.key,
 * keys/keystore.ok (the keystore's seal, below).
 */

struct identity {
	uint8_t nodekey[32]; /* secret */
	uint8_t node_pub[64];
	uint8_t account[20];
	uint8_t tm_pub[32];
	char keystore_path[256];
};

#define IDENTITY_ERR_LEN 512

/*
 * Loads the identity, creating each missing part once (files written
 * atomically, 0600 in 0700 directories). Existing keys are never replaced: a
 * corrupt one is an error naming the file, and nothing is written. Returns 0,
 * -EINVAL (corrupt file), or -errno (I/O), with one line in err.
 */
int identity_load_or_create(const struct settings *s, struct identity *id,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * keys/keystore.ok holds the keystore's seal once it has been opened with
 * the password: a BLAKE2b MAC, keyed with the node key, over the password
 * and the keystore's bytes, as 64 hex characters and '\n'. While it matches,
 * later starts skip the KDF (and read the address member, checked when it
 * was sealed); any change to either file breaks the seal and the keystore
 * is decrypted again. Pure; exposed for tests.
 */
#define IDENTITY_SEAL_LEN 64
void identity_keystore_seal(const uint8_t nodekey[static 32],
    const char *password, size_t pwlen, const char *keystore, size_t kslen,
    char out[static IDENTITY_SEAL_LEN + 1]);

/* Fills the parts of a peer document known offline (ids, keys, ports). */
void identity_public(const struct identity *id, const struct settings *s,
    struct peerdoc *d);

void identity_wipe(struct identity *id);

#endif
