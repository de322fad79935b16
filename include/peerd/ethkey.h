#ifndef PEERD_ETHKEY_H
#define PEERD_ETHKEY_H

#include <stdbool.h>
#include <stdint.h>

/* secp256k1 keys as Ethereum uses them (libsecp256k1). */

/* True if 1 <= d < n. */
bool ethkey_priv_valid(const uint8_t priv[static 32]);
/* Random valid scalar from the OS CSPRNG. Returns 0 or -errno. */
int ethkey_generate(uint8_t priv[static 32])
    __attribute__((warn_unused_result));
/* Uncompressed public key without the 0x04 prefix (X||Y = enode ID). */
int ethkey_pubkey(const uint8_t priv[static 32], uint8_t pub[static 64])
    __attribute__((warn_unused_result));
/* True if X||Y is a point on the curve. */
bool ethkey_pub_valid(const uint8_t pub[static 64]);
/* address = keccak256(X||Y)[12:32]. */
void ethkey_address(const uint8_t pub[static 64], uint8_t addr[static 20]);
/* "0x" + EIP-55 mixed-case hex, NUL-terminated (43 bytes). */
void ethkey_checksum_hex(const uint8_t addr[static 20], char out[static 43]);
/* Recoverable signature r||s||v (v in {0,1}) over a 32-byte hash. */
int ethkey_sign(const uint8_t priv[static 32], const uint8_t hash[static 32],
    uint8_t sig[static 65]) __attribute__((warn_unused_result));
/* Recovers X||Y from r||s||v. Returns 0 or -EINVAL. */
int ethkey_recover(const uint8_t sig[static 65], const uint8_t hash[static 32],
    uint8_t pub[static 64]) __attribute__((warn_unused_result));

#endif
