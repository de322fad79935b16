/*
 * libFuzzer harness for peerdoc_parse: any input must be rejected cleanly or
 * accepted as a document that survives every renderer and re-parses to the
 * same struct. The first input byte picks the expectations (none, ordinal +
 * prefix, cluster secret) so all parser paths are reachable.
 *
 * Build: cmake -DFUZZ=ON -DCMAKE_C_COMPILER=clang -B build-fuzz && make
 * fuzz_peerdoc; run: ./fuzz_peerdoc -max_total_time=20 corpus/ (seed it with
 * a signed document, e.g. quorum-peerd identity output).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peerd/peerdoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[] = "fuzz-secret";

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct peerdoc_expect ex = {.ordinal = -1};
	struct peerdoc d, again;
	char err[256], json[PEERDOC_MAX], sh[PEERDOC_MAX];
	size_t len, shlen;
	uint8_t sel = 0;
	int ret;

	if (size > 0) {
		sel = data[0];
		data++;
		size--;
	}
	if (sel & 1) {
		ex.ordinal = (sel >> 4) & 3;
		ex.prefix = "quorum-";
	}
	if (sel & 2) {
		ex.secret = secret;
		ex.secretlen = sizeof(secret) - 1;
	}
	/* The peek reads only what it is given and never fails loudly. */
	{
		long o = peerdoc_peek_ordinal((const char *)data, size);

		check(o >= -1 && o <= 99999);
	}
	err[0] = '\x7f';
	ret = peerdoc_parse((const char *)data, size, &ex, &d, err,
	    sizeof(err));
	/* Errors are one printable line. */
	check(memchr(err, '\0', sizeof(err)) != NULL);
	for (const char *p = err; *p != '\0'; p++)
		check(*p >= 0x20 && *p <= 0x7e);
	if (ret != 0) {
		check(ret == -EPROTO || ret == -E2BIG);
		check(err[0] != '\0');
		return 0;
	}
	/* Accepted: every output works and round-trips exactly. */
	check(peerdoc_to_json(&d, json, sizeof(json), &len) == 0);
	check(peerdoc_to_envsh(&d, sh, sizeof(sh), &shlen) == 0);
	check(memchr(sh, '\'', shlen) != NULL);
	check(peerdoc_parse(json, len, &ex, &again, err, sizeof(err)) == 0);
	/* A served (canonical) document's ordinal is where the peek looks. */
	check(peerdoc_peek_ordinal(json, len) == (long)d.ordinal);
	{
		char c1[PEERDOC_MAX], c2[PEERDOC_MAX];
		size_t l1, l2;

		check(peerdoc_canonical(&d, c1, sizeof(c1), &l1) == 0);
		check(peerdoc_canonical(&again, c2, sizeof(c2), &l2) == 0);
		check(l1 == l2 && memcmp(c1, c2, l1) == 0);
		check(strcmp(d.sig, again.sig) == 0);
		check(strcmp(d.mac, again.mac) == 0);
	}
	return 0;
}
