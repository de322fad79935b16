#ifndef PEERD_CURLLOOP_H
#define PEERD_CURLLOOP_H

#include <curl/curl.h>

#include "peerd/evloop.h"

/*
 * libcurl's multi interface on the one event loop: the multi handle's
 * sockets are watched with evloop, its timeout is an evloop timer, and each
 * finished transfer is handed to the owner. Shared by discovery (polling
 * peers) and httpc (one-off requests between daemons). Never logs.
 */

struct curlloop;

/*
 * A transfer finished (easy is out of the multi handle already; the owner
 * cleans it up or reuses it). Then, once the finished transfers of a
 * round are all handed over, batch (may be NULL).
 */
typedef void curlloop_done_cb(void *arg, CURL *easy, CURLcode rc);
typedef void curlloop_batch_cb(void *arg);

/* NULL with errno (ENOMEM, EIO: libcurl would not initialise). */
struct curlloop *curlloop_new(struct evloop *l, curlloop_done_cb *done,
    curlloop_batch_cb *batch, void *arg);
/* Removes the transfers still added (not cleaned up: their owner's), stops
 * watching every fd and the timer. NULL-safe. */
void curlloop_free(struct curlloop *c);
/* Starts a transfer. 0 or -EIO. */
int curlloop_add(struct curlloop *c, CURL *easy)
    __attribute__((warn_unused_result));
/* Takes a transfer out before it finished (no callback for it). */
void curlloop_remove(struct curlloop *c, CURL *easy);
/* Until curlloop_free: no callback any more, nothing runs. */
void curlloop_stop(struct curlloop *c);

#endif
