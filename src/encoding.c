/*
 * Hex and base64 for keys and IDs. Secret bytes never drive a
 * data-dependent branch or table lookup: libsodium's constant-time codecs,
 * and for hex decoding (every peer document carries 322 hex digits, and
 * sodium_hex2bin was 1.5% of a daemon's CPU at N=200) branch-free
 * arithmetic of our own. Decoders are strict: exact lengths, no prefixes, no
 * ignored characters, canonical base64 padding.
 */
#include "peerd/encoding.h"

#include <errno.h>

#include <sodium.h>

void encoding_hex(char *out, const uint8_t *in, size_t len)
{
	sodium_bin2hex(out, 2 * len + 1, in, len);
}

/*
 * The value of hex digit c (either case), and in *bad bit 0 set unless c is
 * one. No branch and no table: 1 when x < n is the top bit of (x - n) & ~x
 * (for x below 2^31, as c - '0' is unless it wrapped, which ~x catches).
 */
static uint32_t hex_digit(uint32_t c, uint32_t *bad)
{
	uint32_t d = c - 0x30u;           /* '0'..'9' -> 0..9 */
	uint32_t l = (c | 0x20u) - 0x61u; /* 'a'..'f', 'A'..'F' -> 0..5 */
	uint32_t is_d = ((d - 10u) & ~d) >> 31;
	uint32_t is_l = ((l - 6u) & ~l) >> 31;

	*bad |= (is_d | is_l) ^ 1u;
	return (d & (0u - is_d)) | ((l + 10u) & (0u - is_l));
}

int encoding_unhex(uint8_t *out, size_t outlen, const char *in, size_t inlen)
{
	uint32_t bad = 0, hi, lo;

	if (outlen > SIZE_MAX / 2 || inlen != 2 * outlen)
		return -EINVAL;
	/* Every byte decoded, valid or not: no early exit on the data. */
	for (size_t i = 0; i < outlen; i++) {
		hi = hex_digit((unsigned char)in[2 * i], &bad);
		lo = hex_digit((unsigned char)in[2 * i + 1], &bad);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	if (bad != 0) {
		sodium_memzero(out, outlen);
		return -EINVAL;
	}
	return 0;
}

bool encoding_is_lowerhex(const char *s, size_t len)
{
	unsigned bad = 0;

	/*
	 * No branch on the data and no early exit: the compiler vectorises
	 * it, and random hex digits no longer cost a mispredicted branch each
	 * (1.2% of a daemon's CPU in a 200-node relay run before).
	 */
	for (size_t i = 0; i < len; i++) {
		unsigned c = (unsigned char)s[i];

		bad |= !((c - '0' < 10u) | (c - 'a' < 6u));
	}
	return bad == 0;
}

void encoding_base64(char *out, size_t outlen, const uint8_t *in, size_t len)
{
	const int v = sodium_base64_VARIANT_ORIGINAL;

	/* libsodium aborts on a short buffer; a caller bug gets "" instead. */
	if (outlen < sodium_base64_encoded_len(len, v)) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	sodium_bin2base64(out, outlen, in, len, v);
}

int encoding_unbase64(uint8_t *out, size_t outlen, const char *in,
    size_t inlen)
{
	const int v = sodium_base64_VARIANT_ORIGINAL;
	size_t got = 0;

	/* encoded_len counts the NUL terminator. */
	if (outlen > SIZE_MAX / 2 ||
	    inlen + 1 != sodium_base64_encoded_len(outlen, v))
		return -EINVAL;
	if (sodium_base642bin(out, outlen, in, inlen, NULL, &got, NULL, v) !=
		0 ||
	    got != outlen) {
		sodium_memzero(out, outlen);
		return -EINVAL;
	}
	return 0;
}
