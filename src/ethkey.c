/*
 * secp256k1 keys as geth uses them, on top of libsecp256k1. One context is
 * created on first use and kept for the life of the process (the daemon is
 * single-threaded); it is randomized once for side-channel blinding.
 */
#include "peerd/ethkey.h"

#include <errno.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>

#include "peerd/keccak.h"

static secp256k1_context *ctx;

/* Returns the shared context, or NULL if libsodium or malloc failed. */
static const secp256k1_context *get_ctx(void)
{
	uint8_t seed[32];
	secp256k1_context *c;

	if (ctx != NULL)
		return ctx;
	if (sodium_init() < 0)
		return NULL;
	c = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (c == NULL)
		return NULL;
	randombytes_buf(seed, sizeof(seed));
	if (!secp256k1_context_randomize(c, seed)) {
		sodium_memzero(seed, sizeof(seed));
		secp256k1_context_destroy(c);
		return NULL;
	}
	sodium_memzero(seed, sizeof(seed));
	ctx = c;
	return ctx;
}

bool ethkey_priv_valid(const uint8_t priv[static 32])
{
	const secp256k1_context *c = get_ctx();

	/* seckey_verify is exactly 1 <= d < n. */
	return c != NULL && secp256k1_ec_seckey_verify(c, priv) == 1;
}

int ethkey_generate(uint8_t priv[static 32])
{
	const secp256k1_context *c = get_ctx();

	if (c == NULL)
		return -ENOMEM;
	/*
	 * A uniform 256-bit value is >= n with probability ~2^-128, so the
	 * loop practically never repeats; the bound only guards a broken RNG.
	 */
	for (int i = 0; i < 64; i++) {
		randombytes_buf(priv, 32);
		if (secp256k1_ec_seckey_verify(c, priv) == 1)
			return 0;
	}
	sodium_memzero(priv, 32);
	return -EIO;
}

int ethkey_pubkey(const uint8_t priv[static 32], uint8_t pub[static 64])
{
	const secp256k1_context *c = get_ctx();
	secp256k1_pubkey pk;
	uint8_t ser[65];
	size_t serlen = sizeof(ser);

	if (c == NULL)
		return -ENOMEM;
	if (secp256k1_ec_pubkey_create(c, &pk, priv) != 1)
		return -EINVAL;
	secp256k1_ec_pubkey_serialize(c, ser, &serlen, &pk,
	    SECP256K1_EC_UNCOMPRESSED);
	memcpy(pub, ser + 1, 64);
	return 0;
}

bool ethkey_pub_valid(const uint8_t pub[static 64])
{
	const secp256k1_context *c = get_ctx();
	secp256k1_pubkey pk;
	uint8_t ser[65];

	if (c == NULL)
		return false;
	/* Fixed 0x04 prefix: hybrid encodings (0x06/0x07) are not enode IDs. */
	ser[0] = 0x04;
	memcpy(ser + 1, pub, 64);
	return secp256k1_ec_pubkey_parse(c, &pk, ser, sizeof(ser)) == 1;
}

void ethkey_address(const uint8_t pub[static 64], uint8_t addr[static 20])
{
	uint8_t h[32];

	keccak_256(pub, 64, h);
	memcpy(addr, h + 12, 20);
}

void ethkey_checksum_hex(const uint8_t addr[static 20], char out[static 43])
{
	static const char digits[] = "0123456789abcdef";
	char lower[40];
	uint8_t h[32];

	for (size_t i = 0; i < 20; i++) {
		lower[2 * i] = digits[addr[i] >> 4];
		lower[2 * i + 1] = digits[addr[i] & 0x0f];
	}
	/* EIP-55 hashes the 40 lowercase ASCII characters, not the bytes. */
	keccak_256(lower, sizeof(lower), h);
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < 40; i++) {
		unsigned nib = (i % 2 == 0) ? h[i / 2] >> 4 : h[i / 2] & 0x0f;
		char ch = lower[i];

		if (ch >= 'a' && nib > 7)
			ch = (char)(ch - 'a' + 'A');
		out[2 + i] = ch;
	}
	out[42] = '\0';
}

int ethkey_sign(const uint8_t priv[static 32], const uint8_t hash[static 32],
    uint8_t sig[static 65])
{
	const secp256k1_context *c = get_ctx();
	secp256k1_ecdsa_recoverable_signature rs;
	int recid = 0;

	if (c == NULL)
		return -ENOMEM;
	/* RFC 6979 nonces; libsecp256k1 always emits low-s, as geth needs. */
	if (secp256k1_ecdsa_sign_recoverable(c, &rs, hash, priv, NULL, NULL) !=
	    1)
		return -EINVAL;
	secp256k1_ecdsa_recoverable_signature_serialize_compact(c, sig, &recid,
	    &rs);
	sig[64] = (uint8_t)recid;
	return 0;
}

int ethkey_recover(const uint8_t sig[static 65], const uint8_t hash[static 32],
    uint8_t pub[static 64])
{
	const secp256k1_context *c = get_ctx();
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	uint8_t ser[65];
	size_t serlen = sizeof(ser);

	if (c == NULL)
		return -ENOMEM;
	if (sig[64] > 1)
		return -EINVAL;
	/* parse_compact rejects r or s outside [0, n). */
	if (secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, sig,
		sig[64]) != 1)
		return -EINVAL;
	if (secp256k1_ecdsa_recover(c, &pk, &rs, hash) != 1)
		return -EINVAL;
	secp256k1_ec_pubkey_serialize(c, ser, &serlen, &pk,
	    SECP256K1_EC_UNCOMPRESSED);
	memcpy(pub, ser + 1, 64);
	return 0;
}
