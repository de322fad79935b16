#ifndef PEERD_KEYSTORE_H
#define PEERD_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

/* Web3 Secret Storage v3, as geth writes and reads it (formats.md §3). */

enum keystore_kdf { KEYSTORE_KDF_STANDARD = 0, KEYSTORE_KDF_LIGHT = 1 };

#define KEYSTORE_MAX 8192 /* largest keystore file we read or write */

/*
 * Encrypts priv under password with scrypt (standard N=262144,p=1 or light
 * N=4096,p=6; r=8, dklen 32) and AES-128-CTR; mac = keccak256(dk[16:32] ||
 * ciphertext). Writes geth's one-line JSON (no newline) into out. Salt, IV and
 * UUID come from the CSPRNG. Returns 0 or -errno (-ENOSPC: out too small;
 * KEYSTORE_MAX always suffices).
 */
int keystore_encrypt(const uint8_t priv[static 32], const char *password,
    size_t pwlen, enum keystore_kdf kdf, char *out, size_t outlen)
    __attribute__((warn_unused_result));

/* Deterministic variant for tests: caller supplies salt, iv and uuid bytes. */
int keystore_encrypt_with(const uint8_t priv[static 32], const char *password,
    size_t pwlen, unsigned long n, unsigned r, unsigned p,
    const uint8_t salt[static 32], const uint8_t iv[static 16],
    const uint8_t uuid[static 16], char *out, size_t outlen)
    __attribute__((warn_unused_result));

/*
 * Reads only the "address" member (what geth lists). Returns 0 or -EINVAL
 * with a reason in err.
 */
int keystore_address(const char *json, size_t len, uint8_t addr[static 20],
    char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Decrypts a v3 keystore (scrypt or pbkdf2/hmac-sha256). KDF parameters are
 * bounded so a hostile file cannot exhaust memory or time: scrypt n a power
 * of two, 128*r*n <= 256 MiB, r <= 256, p <= 16, n*r*p <= 2^22 (standard
 * files are 2^21); pbkdf2 c <= 2^20; dklen 32..1024. Returns 0,
 * -EINVAL (malformed, or the "address" member does not match the key; err
 * names the member), -EACCES (MAC mismatch: wrong password or corrupt file),
 * -ENOMEM or -EIO. priv is zeroed on failure.
 */
int keystore_decrypt(const char *json, size_t len, const char *password,
    size_t pwlen, uint8_t priv[static 32], char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Parses and validates a v3 keystore like keystore_decrypt but runs no KDF
 * (for the fuzz harness, and to vet a file before asking for its password).
 * *work (may be NULL) gets the KDF cost: n*r*p for scrypt, c for pbkdf2.
 * Returns 0 or -EINVAL with a reason in err.
 */
int keystore_check(const char *json, size_t len, uint64_t *work, char *err,
    size_t errlen) __attribute__((warn_unused_result));

#endif
