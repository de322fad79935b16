/* Bounded text building shared by every module that reports in text. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "peerd/strbuf.h"

void strbuf_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int strbuf_appendf(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= len)
		return -E2BIG;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *used) {
		buf[*used] = '\0';
		return -E2BIG;
	}
	*used += (size_t)n;
	return 0;
}
