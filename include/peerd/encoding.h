#ifndef PEERD_ENCODING_H
#define PEERD_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hex and base64, constant-time (no branch or table on the data). */

/* Lowercase hex of len bytes into out (2*len+1 bytes, NUL-terminated). */
void encoding_hex(char *out, const uint8_t *in, size_t len);
/*
 * Decodes exactly 2*outlen hex chars (either case, no prefix, nothing else)
 * into out. Returns 0 or -EINVAL.
 */
int encoding_unhex(uint8_t *out, size_t outlen, const char *in, size_t inlen)
    __attribute__((warn_unused_result));
/* True if s[0..len) is only [0-9a-f]. */
bool encoding_is_lowerhex(const char *s, size_t len);

#define ENCODING_B64_32_LEN 44 /* base64 of 32 bytes, with padding */
/* Standard base64 with padding into out (NUL-terminated). */
void encoding_base64(char *out, size_t outlen, const uint8_t *in, size_t len);
/*
 * Decodes standard padded base64 into exactly outlen bytes (no whitespace
 * accepted). Returns 0 or -EINVAL.
 */
int encoding_unbase64(uint8_t *out, size_t outlen, const char *in,
    size_t inlen) __attribute__((warn_unused_result));

#endif
