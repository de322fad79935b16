/*
 * libFuzzer harness for the tm.key and tm.pub parsers. A parsed key must
 * render and re-parse to the same secret.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "peerd/tmkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	uint8_t secret[32], again[32], pub[32];
	char json[TMKEY_JSON_MAX], err[256];

	if (tmkey_parse_pub(s, size, pub, err, sizeof(err)) == 0 &&
	    size != 44)
		__builtin_trap();
	if (tmkey_parse(s, size, secret, err, sizeof(err)) != 0)
		return 0;
	if (tmkey_to_json(secret, json, sizeof(json)) != 0)
		__builtin_trap();
	if (tmkey_parse(json, strlen(json), again, err, sizeof(err)) != 0)
		__builtin_trap();
	if (memcmp(secret, again, sizeof(secret)) != 0)
		__builtin_trap();
	if (tmkey_public(secret, pub) != 0)
		__builtin_trap();
	return 0;
}
