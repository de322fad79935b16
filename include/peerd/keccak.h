#ifndef PEERD_KECCAK_H
#define PEERD_KECCAK_H

#include <stddef.h>
#include <stdint.h>

/* Keccak-256 with the original padding (0x01), as Ethereum uses it. */

struct keccak_ctx {
	uint64_t st[25];
	size_t pos;
};

void keccak_init(struct keccak_ctx *c);
void keccak_update(struct keccak_ctx *c, const void *data, size_t len);
void keccak_final(struct keccak_ctx *c, uint8_t out[static 32]);
/* One-shot. */
void keccak_256(const void *data, size_t len, uint8_t out[static 32]);

#endif
