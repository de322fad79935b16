#ifndef PEERD_AESCTR_H
#define PEERD_AESCTR_H

#include <stddef.h>
#include <stdint.h>

/*
 * AES-128-CTR, the keystore's cipher (formats.md §3): the one primitive the
 * daemon takes from OpenSSL's libcrypto (libsodium has no AES-128). The
 * library is loaded with dlopen(3) on first use, not at every start: the
 * daemon needs it only when it makes a keystore or decrypts one (a restart
 * with an intact seal does neither), and mapping and relocating it costs
 * every start about a millisecond and 1.4 MB of resident memory.
 */

/*
 * out = in XOR keystream(key, iv), len bytes (in == out allowed). 0, or
 * -ENOSYS when libcrypto cannot be loaded, -ENOMEM, -EIO; on failure err
 * gets a one-line reason.
 */
int aesctr_apply(const uint8_t key[static 16], const uint8_t iv[static 16],
    const uint8_t *in, size_t len, uint8_t *out, char *err, size_t errlen);

/* Why libcrypto could not be loaded ("" if it was, or was not tried). */
const char *aesctr_load_error(void);

#endif
