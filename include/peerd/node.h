#ifndef PEERD_NODE_H
#define PEERD_NODE_H

#include <signal.h>

#include "peerd/settings.h"

/*
 * The node's life (DESIGN §1): identity, HTTP server, discovery, rendering,
 * launch, supervision, on the one event loop. Returns the exit code.
 */
int node_run(struct settings *s, const sigset_t *saved);

/*
 * Offline rendering (`quorum-peerd render`): the configs for the identity in
 * s->data_dir from the peer documents in files[0..n). Returns the exit code.
 */
int node_render_offline(struct settings *s, char *const files[], int n);

#endif
