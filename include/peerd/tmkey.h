#ifndef PEERD_TMKEY_H
#define PEERD_TMKEY_H

#include <stddef.h>
#include <stdint.h>

/*
 * The transaction manager's NaCl box key pair in Constellation/Tessera file
 * formats (formats.md §7-8): tm.pub = 44 base64 chars, no newline; tm.key =
 * {"data":{"bytes":"<b64>"},"type":"unlocked"}.
 */

#define TMKEY_JSON_MAX 128

/* New key pair from the CSPRNG. */
int tmkey_generate(uint8_t pub[static 32], uint8_t secret[static 32])
    __attribute__((warn_unused_result));
/* X25519 base-point multiple of secret. */
int tmkey_public(const uint8_t secret[static 32], uint8_t pub[static 32])
    __attribute__((warn_unused_result));
/* The unlocked tm.key JSON, NUL-terminated, no newline; -ENOSPC if short. */
int tmkey_to_json(const uint8_t secret[static 32], char *out, size_t outlen)
    __attribute__((warn_unused_result));
/*
 * Parses an unlocked tm.key (member order free, trailing whitespace ok).
 * Returns 0, -EINVAL (malformed) or -ENOTSUP (a locked "argon2sbox" key),
 * with a reason in err; secret is zeroed on failure.
 */
int tmkey_parse(const char *json, size_t len, uint8_t secret[static 32],
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Parses tm.pub: exactly 44 base64 chars (no newline). */
int tmkey_parse_pub(const char *s, size_t len, uint8_t pub[static 32],
    char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
