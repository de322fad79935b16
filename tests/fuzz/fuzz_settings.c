/*
 * libFuzzer harness for the settings parser: the input is split at NUL
 * bytes; the first byte picks the mode, then strings containing '=' become
 * environment entries and the others flags, in order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "peerd/settings.h"

#define MAX_ITEMS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *env[MAX_ITEMS + 1];
	char *argv[MAX_ITEMS + 2];
	struct settings s;
	char err[SETTINGS_ERR_LEN], *copy, *p, *end;
	int argc = 1, nenv = 0;
	enum settings_mode mode;

	if (size < 1)
		return 0;
	mode = (enum settings_mode)(data[0] % 4);
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	argv[0] = "run";
	p = copy;
	end = copy + size - 1;
	while (p < end && argc < MAX_ITEMS && nenv < MAX_ITEMS) {
		size_t n = strlen(p);

		if (strchr(p, '=') != NULL && strncmp(p, "--", 2) != 0)
			env[nenv++] = p;
		else
			argv[argc++] = p;
		p += n + 1;
	}
	env[nenv] = NULL;
	argv[argc] = NULL;
	if (settings_load(&s, mode, argc, argv, env, "quorum-1",
	    "quorum-1.q.example", err, sizeof(err)) < 0) {
		/* Errors are one line and NUL-terminated within the buffer. */
		if (memchr(err, '\0', sizeof(err)) == NULL ||
		    strchr(err, '\n') != NULL)
			abort();
	} else if (mode == SETTINGS_RUN &&
	    (s.node_number == 0 || s.node_ordinal >= s.node_number)) {
		abort();
	}
	settings_wipe(&s);
	free(copy);
	return 0;
}
