#ifndef PEERD_STRBUF_H
#define PEERD_STRBUF_H

#include <stddef.h>

/* Bounded text building: error lines and appended reports. */

/* printf into a caller's error buffer (NULL or 0-length: nothing). */
void strbuf_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Appends at buf + *used and advances *used. Returns 0, or -E2BIG if the
 * text does not fit, in which case nothing is appended (buf stays
 * NUL-terminated at *used).
 */
int strbuf_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
