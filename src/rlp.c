/*
 * RLP encoding into a caller buffer. Lists are built payload-first and their
 * header is inserted afterwards, so nothing needs to know a list's length in
 * advance and no allocation is made.
 */
#include "peerd/rlp.h"

#include <errno.h>
#include <string.h>

/* Number of big-endian bytes needed for v (0 for v == 0). */
static size_t be_len(uint64_t v)
{
	size_t n = 0;

	while (v != 0) {
		n++;
		v >>= 8;
	}
	return n;
}

static void put_be(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* Header for a payload of plen bytes; short_base is 0x80 or 0xc0. */
static size_t header(uint8_t hdr[9], uint8_t short_base, size_t plen)
{
	size_t ll;

	if (plen < 56) {
		hdr[0] = (uint8_t)(short_base + plen);
		return 1;
	}
	ll = be_len(plen);
	hdr[0] = (uint8_t)(short_base + 55 + ll);
	put_be(hdr + 1, plen, ll);
	return 1 + ll;
}

int rlp_bytes(uint8_t *out, size_t cap, size_t *len, const uint8_t *b,
    size_t n)
{
	uint8_t hdr[9];
	size_t hl;

	/* A single byte below 0x80 is its own encoding. */
	if (n == 1 && b[0] < 0x80) {
		if (*len >= cap)
			return -ENOBUFS;
		out[(*len)++] = b[0];
		return 0;
	}
	hl = header(hdr, 0x80, n);
	if (*len > cap || cap - *len < hl || cap - *len - hl < n)
		return -ENOBUFS;
	memcpy(out + *len, hdr, hl);
	if (n > 0)
		memcpy(out + *len + hl, b, n);
	*len += hl + n;
	return 0;
}

int rlp_uint(uint8_t *out, size_t cap, size_t *len, uint64_t v)
{
	uint8_t be[8] = {0};
	size_t n = be_len(v);

	put_be(be, v, n);
	return rlp_bytes(out, cap, len, be, n);
}

void rlp_list_begin(const size_t *len, size_t *mark)
{
	*mark = *len;
}

int rlp_list_end(uint8_t *out, size_t cap, size_t *len, size_t mark)
{
	uint8_t hdr[9];
	size_t plen, hl;

	if (mark > *len || *len > cap)
		return -EINVAL;
	plen = *len - mark;
	hl = header(hdr, 0xc0, plen);
	if (cap - *len < hl)
		return -ENOBUFS;
	memmove(out + mark + hl, out + mark, plen);
	memcpy(out + mark, hdr, hl);
	*len += hl;
	return 0;
}

static int validator_list(const uint8_t (*validators)[RLP_ADDR_LEN],
    size_t n, uint8_t *out, size_t cap, size_t *len)
{
	size_t mark;
	int ret;

	rlp_list_begin(len, &mark);
	for (size_t i = 0; i < n; i++) {
		ret = rlp_bytes(out, cap, len, validators[i], RLP_ADDR_LEN);
		if (ret < 0)
			return ret;
	}
	return rlp_list_end(out, cap, len, mark);
}

int rlp_ibft_extra(const uint8_t (*validators)[RLP_ADDR_LEN], size_t n,
    bool zero_seal, uint8_t *out, size_t cap, size_t *len)
{
	static const uint8_t zero_sig[65];
	size_t l = 0, mark, seals;
	int ret;

	/* The vanity is raw bytes in front of the RLP, not an RLP item. */
	if (cap < RLP_VANITY_LEN)
		return -ENOBUFS;
	memset(out, 0, RLP_VANITY_LEN);
	l = RLP_VANITY_LEN;
	rlp_list_begin(&l, &mark);
	ret = validator_list(validators, n, out, cap, &l);
	if (ret == 0)
		ret = rlp_bytes(out, cap, &l, zero_sig,
		    zero_seal ? sizeof(zero_sig) : 0);
	if (ret == 0) {
		rlp_list_begin(&l, &seals);
		ret = rlp_list_end(out, cap, &l, seals);
	}
	if (ret == 0)
		ret = rlp_list_end(out, cap, &l, mark);
	if (ret < 0)
		return ret;
	*len = l;
	return 0;
}

int rlp_qbft_extra(const uint8_t (*validators)[RLP_ADDR_LEN], size_t n,
    uint8_t *out, size_t cap, size_t *len)
{
	static const uint8_t vanity[RLP_VANITY_LEN];
	size_t l = 0, mark, sub;
	int ret;

	rlp_list_begin(&l, &mark);
	ret = rlp_bytes(out, cap, &l, vanity, sizeof(vanity));
	if (ret == 0)
		ret = validator_list(validators, n, out, cap, &l);
	/* A nil vote pointer is encoded by geth as an empty list. */
	if (ret == 0) {
		rlp_list_begin(&l, &sub);
		ret = rlp_list_end(out, cap, &l, sub);
	}
	if (ret == 0)
		ret = rlp_uint(out, cap, &l, 0);
	if (ret == 0) {
		rlp_list_begin(&l, &sub);
		ret = rlp_list_end(out, cap, &l, sub);
	}
	if (ret == 0)
		ret = rlp_list_end(out, cap, &l, mark);
	if (ret < 0)
		return ret;
	*len = l;
	return 0;
}
