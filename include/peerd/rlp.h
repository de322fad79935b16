#ifndef PEERD_RLP_H
#define PEERD_RLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Minimal RLP encoder (Ethereum yellow paper, appendix B): byte strings,
 * unsigned integers and nested lists, written into a caller buffer. Enough
 * for the IBFT/QBFT genesis extraData (formats.md §5). Every function appends
 * at out[*len] and advances *len; it returns 0 or -ENOBUFS when cap would be
 * exceeded (then *len is unchanged).
 */

/* Appends the encoding of the byte string b[0..n). */
int rlp_bytes(uint8_t *out, size_t cap, size_t *len, const uint8_t *b,
    size_t n) __attribute__((warn_unused_result));

/* Appends the canonical encoding of v (0 is 0x80, no leading zeros). */
int rlp_uint(uint8_t *out, size_t cap, size_t *len, uint64_t v)
    __attribute__((warn_unused_result));

/*
 * Lists: rlp_list_begin records where the payload starts in *mark; append
 * the items; rlp_list_end then prefixes the payload with its list header
 * (moving it right). Lists nest.
 */
void rlp_list_begin(const size_t *len, size_t *mark);
int rlp_list_end(uint8_t *out, size_t cap, size_t *len, size_t mark)
    __attribute__((warn_unused_result));

#define RLP_ADDR_LEN 20
#define RLP_VANITY_LEN 32
/* Enough for the extraData of SETTINGS_NODES_MAX validators. */
#define RLP_EXTRA_MAX (RLP_VANITY_LEN + 16 + 21 * 1024 + 80)

/*
 * IBFT ("istanbul") genesis extraData: 32 zero bytes of vanity followed by
 * RLP([validators, seal, committedSeals=[]]). validators are used in the
 * order given (render sorts them). zero_seal selects the seal: false = empty
 * string (0x80, quorum-examples 7nodes), true = 65 zero bytes (0xb841 00..,
 * what istanbul-tools writes). Both are accepted by geth.
 */
int rlp_ibft_extra(const uint8_t (*validators)[RLP_ADDR_LEN], size_t n,
    bool zero_seal, uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

/*
 * QBFT genesis extraData (no separate vanity prefix): RLP([vanity32,
 * validators, vote=nil (0xc0), round=0 (0x80), committedSeals=[] (0xc0)]).
 */
int rlp_qbft_extra(const uint8_t (*validators)[RLP_ADDR_LEN], size_t n,
    uint8_t *out, size_t cap, size_t *len)
    __attribute__((warn_unused_result));

#endif
