#ifndef PEERD_PROBE_H
#define PEERD_PROBE_H

#include <stdio.h>

/*
 * `quorum-peerd probe URL`: a tiny HTTP GET for container healthchecks (the
 * image needs no curl). The body (at most 1 MiB) goes to out. Returns 0 on a
 * 2xx answer, 1 otherwise, with one line on stderr saying why.
 */
int probe_get(const char *url, unsigned timeout_s, FILE *out);

#endif
