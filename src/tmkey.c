/*
 * The transaction manager's NaCl box (Curve25519) key pair in the file
 * formats Constellation and Tessera share (formats.md §7-8). Only unlocked
 * keys are produced and read: a locked (argon2sbox) key would need the TM's
 * password file, which the daemon does not manage.
 */
#include "peerd/tmkey.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "peerd/encoding.h"
#include "peerd/strbuf.h"

/* Largest tm.key we parse; a locked key with aopts is under 400 bytes. */
#define TMKEY_PARSE_MAX 4096

/* Printable, bounded rendering of an untrusted (non-secret) string. */
static void quote(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t o = 0, i;

	for (i = 0; i < len && i < 48 && o + 5 < dstlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\')
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, dstlen - o, "\\x%02x",
			    ch);
	}
	if (i < len && o + 4 < dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

int tmkey_generate(uint8_t pub[static 32], uint8_t secret[static 32])
{
	if (sodium_init() < 0)
		return -EIO;
	if (crypto_box_keypair(pub, secret) != 0) {
		sodium_memzero(secret, 32);
		return -EIO;
	}
	return 0;
}

int tmkey_public(const uint8_t secret[static 32], uint8_t pub[static 32])
{
	if (sodium_init() < 0)
		return -EIO;
	/* crypto_box's public key is X25519(clamp(secret), 9). */
	if (crypto_scalarmult_base(pub, secret) != 0)
		return -EINVAL;
	return 0;
}

int tmkey_to_json(const uint8_t secret[static 32], char *out, size_t outlen)
{
	char b64[ENCODING_B64_32_LEN + 1];
	int w, ret = -ENOSPC;

	encoding_base64(b64, sizeof(b64), secret, 32);
	/* Constellation's Aeson output, which Tessera reads too. */
	w = snprintf(out, outlen,
	    "{\"data\":{\"bytes\":\"%s\"},\"type\":\"unlocked\"}", b64);
	if (w < 0 || (size_t)w >= outlen) {
		if (outlen > 0)
			sodium_memzero(out, outlen);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(b64, sizeof(b64));
	return ret;
}

int tmkey_parse(const char *json, size_t len, uint8_t secret[static 32],
    char *err, size_t errlen)
{
	const cJSON *type, *data, *bytes;
	const char *end = NULL;
	cJSON *root = NULL;
	char q[200];
	int ret = -EINVAL;

	if (len > TMKEY_PARSE_MAX) {
		strbuf_seterr(err, errlen, "tm.key: larger than %d bytes: %zu",
		    TMKEY_PARSE_MAX, len);
		goto out;
	}
	root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
	if (root == NULL) {
		strbuf_seterr(err, errlen, "tm.key: not valid JSON (near byte %zu)",
		    end != NULL && end >= json ? (size_t)(end - json) : 0);
		goto out;
	}
	/* Tessera's own fixtures end with a newline. */
	while (end < json + len &&
	    (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
		end++;
	if (end != json + len) {
		strbuf_seterr(err, errlen, "tm.key: trailing data at byte %zu",
		    (size_t)(end - json));
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		strbuf_seterr(err, errlen, "tm.key: not a JSON object");
		goto out;
	}
	/* Aeson and Jackson match member names exactly. */
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	if (!cJSON_IsString(type) || type->valuestring == NULL) {
		strbuf_seterr(err, errlen, "tm.key: type: missing or not a string");
		goto out;
	}
	if (strcmp(type->valuestring, "argon2sbox") == 0) {
		strbuf_seterr(err, errlen,
		    "tm.key: type: locked keys are not supported: "
		    "\"argon2sbox\" (write the key unlocked)");
		ret = -ENOTSUP;
		goto out;
	}
	if (strcmp(type->valuestring, "unlocked") != 0) {
		quote(q, sizeof(q), type->valuestring,
		    strlen(type->valuestring));
		strbuf_seterr(err, errlen, "tm.key: type: unknown key type: \"%s\"",
		    q);
		goto out;
	}
	data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(data)) {
		strbuf_seterr(err, errlen, "tm.key: data: missing or not an object");
		goto out;
	}
	bytes = cJSON_GetObjectItemCaseSensitive(data, "bytes");
	if (!cJSON_IsString(bytes) || bytes->valuestring == NULL) {
		strbuf_seterr(err, errlen,
		    "tm.key: data.bytes: missing or not a string");
		goto out;
	}
	/* The value is the secret: report its length, never its text. */
	if (encoding_unbase64(secret, 32, bytes->valuestring,
		strlen(bytes->valuestring)) != 0) {
		strbuf_seterr(err, errlen,
		    "tm.key: data.bytes: not %d base64 characters of a 32-byte "
		    "key (got %zu characters)",
		    ENCODING_B64_32_LEN, strlen(bytes->valuestring));
		goto out;
	}
	ret = 0;
out:
	if (ret != 0)
		sodium_memzero(secret, 32);
	/* cJSON_Delete does not wipe; clear the copy of the secret first. */
	if (root != NULL) {
		data = cJSON_GetObjectItemCaseSensitive(root, "data");
		bytes = cJSON_GetObjectItemCaseSensitive(data, "bytes");
		if (cJSON_IsString(bytes) && bytes->valuestring != NULL)
			sodium_memzero(bytes->valuestring,
			    strlen(bytes->valuestring));
	}
	cJSON_Delete(root);
	return ret;
}

int tmkey_parse_pub(const char *s, size_t len, uint8_t pub[static 32],
    char *err, size_t errlen)
{
	char q[200];

	if (len == ENCODING_B64_32_LEN + 1 && s[len - 1] == '\n') {
		strbuf_seterr(err, errlen,
		    "tm.pub: trailing newline (Tessera rejects it; want "
		    "exactly %d base64 characters)",
		    ENCODING_B64_32_LEN);
		return -EINVAL;
	}
	if (len != ENCODING_B64_32_LEN) {
		quote(q, sizeof(q), s, len);
		strbuf_seterr(err, errlen,
		    "tm.pub: want exactly %d base64 characters, got %zu: "
		    "\"%s\"",
		    ENCODING_B64_32_LEN, len, q);
		return -EINVAL;
	}
	if (encoding_unbase64(pub, 32, s, len) != 0) {
		quote(q, sizeof(q), s, len);
		strbuf_seterr(err, errlen, "tm.pub: not base64 of 32 bytes: \"%s\"",
		    q);
		return -EINVAL;
	}
	return 0;
}
