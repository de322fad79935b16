/*
 * libFuzzer harness for the keystore v3 parser. keystore_check parses and
 * validates without running the KDF; only files whose KDF work is tiny go
 * on to a full decrypt, so every input stays fast even though the parser's
 * own bounds allow a few seconds of scrypt.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerd/keystore.h"

#define FUZZ_WORK_MAX 4096 /* n*r*p or c */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	uint8_t addr[20], priv[32];
	uint64_t work = 0;
	char err[256];
	int ret;

	ret = keystore_address(json, size, addr, err, sizeof(err));
	if (ret != 0 && memchr(err, '\0', sizeof(err)) == NULL)
		__builtin_trap();
	ret = keystore_check(json, size, &work, err, sizeof(err));
	if (ret != 0 || work > FUZZ_WORK_MAX)
		return 0;
	/* Empty password: the upstream very-light vector decrypts fully. */
	ret = keystore_decrypt(json, size, "", 0, priv, err, sizeof(err));
	if (ret != 0) {
		/* priv must be wiped on every failure. */
		for (size_t i = 0; i < sizeof(priv); i++)
			if (priv[i] != 0)
				__builtin_trap();
	}
	return 0;
}
