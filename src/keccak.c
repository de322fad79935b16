/*
 * Keccak-256 as Ethereum uses it: Keccak-f[1600], rate 1088 bits, capacity
 * 512 bits, and the original multi-rate padding 0x01 ... 0x80 (not the NIST
 * SHA3 domain byte 0x06). No Debian C library ships this variant, hence the
 * small from-scratch implementation.
 */
#include "peerd/keccak.h"

#include <string.h>

#include <sodium.h>

#define KECCAK_RATE 136 /* bytes: (1600 - 2 * 256) / 8 */
#define KECCAK_ROUNDS 24

static const uint64_t round_consts[KECCAK_ROUNDS] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* Rotation offsets and lane permutation of the combined rho/pi step. */
static const unsigned rho[24] = {
    1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14,
    27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44,
};
static const unsigned pi[24] = {
    10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4,
    15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1,
};

static uint64_t rotl64(uint64_t x, unsigned n)
{
	return (x << n) | (x >> (64 - n));
}

/* Theta and chi written out lane by lane: the loops with "% 5" indices
 * compiled to four times slower code. */
static void keccak_f1600(uint64_t st[25])
{
	uint64_t b0, b1, b2, b3, b4, d0, d1, d2, d3, d4, t, tmp;
	unsigned r, i, j;

	for (r = 0; r < KECCAK_ROUNDS; r++) {
		/* theta */
		b0 = st[0] ^ st[5] ^ st[10] ^ st[15] ^ st[20];
		b1 = st[1] ^ st[6] ^ st[11] ^ st[16] ^ st[21];
		b2 = st[2] ^ st[7] ^ st[12] ^ st[17] ^ st[22];
		b3 = st[3] ^ st[8] ^ st[13] ^ st[18] ^ st[23];
		b4 = st[4] ^ st[9] ^ st[14] ^ st[19] ^ st[24];
		d0 = b4 ^ rotl64(b1, 1);
		d1 = b0 ^ rotl64(b2, 1);
		d2 = b1 ^ rotl64(b3, 1);
		d3 = b2 ^ rotl64(b4, 1);
		d4 = b3 ^ rotl64(b0, 1);
#pragma GCC unroll 5
		for (j = 0; j < 25; j += 5) {
			st[j] ^= d0;
			st[j + 1] ^= d1;
			st[j + 2] ^= d2;
			st[j + 3] ^= d3;
			st[j + 4] ^= d4;
		}
		/* rho and pi */
		t = st[1];
#pragma GCC unroll 24
		for (i = 0; i < 24; i++) {
			j = pi[i];
			tmp = st[j];
			st[j] = rotl64(t, rho[i]);
			t = tmp;
		}
		/* chi */
#pragma GCC unroll 5
		for (j = 0; j < 25; j += 5) {
			b0 = st[j];
			b1 = st[j + 1];
			b2 = st[j + 2];
			b3 = st[j + 3];
			b4 = st[j + 4];
			st[j] = b0 ^ (~b1 & b2);
			st[j + 1] = b1 ^ (~b2 & b3);
			st[j + 2] = b2 ^ (~b3 & b4);
			st[j + 3] = b3 ^ (~b4 & b0);
			st[j + 4] = b4 ^ (~b0 & b1);
		}
		/* iota */
		st[0] ^= round_consts[r];
	}
}

/* Lanes are little-endian: byte i of the state is byte i%8 of lane i/8. */
static void xor_byte(uint64_t st[25], size_t i, uint8_t b)
{
	st[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

static uint64_t load64_le(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

void keccak_init(struct keccak_ctx *c)
{
	memset(c, 0, sizeof(*c));
}

void keccak_update(struct keccak_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t i;

	/* Bytes up to a lane boundary, then whole blocks a lane at a time. */
	while (len > 0 && c->pos % 8 != 0) {
		xor_byte(c->st, c->pos, *p++);
		len--;
		if (++c->pos == KECCAK_RATE) {
			keccak_f1600(c->st);
			c->pos = 0;
		}
	}
	while (len >= 8) {
		c->st[c->pos / 8] ^= load64_le(p);
		p += 8;
		len -= 8;
		c->pos += 8;
		if (c->pos == KECCAK_RATE) {
			keccak_f1600(c->st);
			c->pos = 0;
		}
	}
	for (i = 0; i < len; i++) {
		xor_byte(c->st, c->pos, p[i]);
		if (++c->pos == KECCAK_RATE) {
			keccak_f1600(c->st);
			c->pos = 0;
		}
	}
}

void keccak_final(struct keccak_ctx *c, uint8_t out[static 32])
{
	xor_byte(c->st, c->pos, 0x01);
	xor_byte(c->st, KECCAK_RATE - 1, 0x80);
	keccak_f1600(c->st);
	for (size_t i = 0; i < 32; i++)
		out[i] = (uint8_t)(c->st[i / 8] >> (8 * (i % 8)));
	/* The state may have absorbed secrets (keystore MAC input). */
	sodium_memzero(c, sizeof(*c));
}

void keccak_256(const void *data, size_t len, uint8_t out[static 32])
{
	struct keccak_ctx c;

	keccak_init(&c);
	keccak_update(&c, data, len);
	keccak_final(&c, out);
}
