/*
 * Leveled logging to stderr, one line per event, as text or JSON lines.
 * errno is preserved across every call so callers can log and then test it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "peerd/log.h"

#define LINE_MAX_LEN 4096
#define KV_MAX 32

static enum log_level cur_level = LOG_INFO;
static enum log_format cur_format = LOG_TEXT;
static const char *cur_role = "quorum-peerd";

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_init(enum log_level level, enum log_format format, const char *role)
{
	cur_level = level;
	cur_format = format;
	if (role != NULL)
		cur_role = role;
}

int log_level_parse(const char *s, enum log_level *out)
{
	size_t i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_JSON;
	else
		return -EINVAL;
	return 0;
}

int log_enabled(enum log_level level)
{
	return level <= cur_level;
}

struct out {
	char *p;
	size_t len, used;
	bool trunc;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->used + n >= o->len) {
		n = o->len - o->used - 1;
		o->trunc = true;
	}
	memcpy(o->p + o->used, s, n);
	o->used += n;
	o->p[o->used] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* JSON string body; control bytes escaped so one event stays one line. */
static void put_json_str(struct out *o, const char *s)
{
	char esc[8];

	put(o, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&c, 1);
		}
	}
	put(o, "\"", 1);
}

/* Text mode: newlines and control bytes become '?' so a line stays a line. */
static void put_text(struct out *o, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char ch = (c < 0x20 || c == 0x7f) ? '?' : (char)c;

		put(o, &ch, 1);
	}
}

static bool is_integer(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '\0' || (p[0] == '0' && p[1] != '\0'))
		return false;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return false;
	return p - s < 18;
}

static bool needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '"' || *s == '=')
			return true;
	return false;
}

int log_format_line(char *buf, size_t len, enum log_format format,
    enum log_level level, const char *role, long pid, const char *msg,
    const char *const *kv)
{
	struct out o = {.p = buf, .len = len};
	char num[32];
	size_t i;

	if (len == 0)
		return -EINVAL;
	buf[0] = '\0';
	if (format == LOG_JSON) {
		puts_(&o, "{\"level\":");
		put_json_str(&o, level_names[level]);
		puts_(&o, ",\"role\":");
		put_json_str(&o, role);
		snprintf(num, sizeof(num), ",\"pid\":%ld,\"msg\":", pid);
		puts_(&o, num);
		put_json_str(&o, msg);
		for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL;
		     i += 2) {
			put(&o, ",", 1);
			put_json_str(&o, kv[i]);
			put(&o, ":", 1);
			if (is_integer(kv[i + 1]))
				puts_(&o, kv[i + 1]);
			else
				put_json_str(&o, kv[i + 1]);
		}
		puts_(&o, "}");
	} else {
		snprintf(num, sizeof(num), "%-5s", level_names[level]);
		puts_(&o, num);
		puts_(&o, " ");
		put_text(&o, role);
		snprintf(num, sizeof(num), "[%ld]: ", pid);
		puts_(&o, num);
		put_text(&o, msg);
		for (i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL;
		     i += 2) {
			put(&o, " ", 1);
			put_text(&o, kv[i]);
			put(&o, "=", 1);
			if (needs_quotes(kv[i + 1])) {
				put(&o, "\"", 1);
				put_text(&o, kv[i + 1]);
				put(&o, "\"", 1);
			} else {
				put_text(&o, kv[i + 1]);
			}
		}
	}
	return o.trunc ? -E2BIG : 0;
}

static void emit(enum log_level level, const char *msg, const char *const *kv)
{
	char line[LINE_MAX_LEN];
	size_t n;

	(void)log_format_line(line, sizeof(line) - 1, cur_format, level,
	    cur_role, (long)getpid(), msg, kv);
	n = strlen(line);
	line[n++] = '\n';
	/* One write per line: lines from several processes never interleave. */
	(void)!write(STDERR_FILENO, line, n);
}

static void vlog(enum log_level level, bool with_errno, const char *fmt,
    va_list ap)
{
	int saved = errno;
	char msg[LINE_MAX_LEN / 2];
	size_t n;

	if (!log_enabled(level)) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	}
	emit(level, msg, NULL);
	errno = saved;
}

#define DEFINE_LOG(fn, level, with_errno)                                     \
	void fn(const char *fmt, ...)                                         \
	{                                                                     \
		va_list ap;                                                   \
		va_start(ap, fmt);                                            \
		vlog(level, with_errno, fmt, ap);                             \
		va_end(ap);                                                   \
	}

DEFINE_LOG(log_error, LOG_ERROR, false)
DEFINE_LOG(log_warn, LOG_WARN, true)
DEFINE_LOG(log_warnx, LOG_WARN, false)
DEFINE_LOG(log_info, LOG_INFO, false)
DEFINE_LOG(log_debug, LOG_DEBUG, false)

void log_fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, false, fmt, ap);
	va_end(ap);
	exit(code);
}

void log_event(enum log_level level, const char *msg, ...)
{
	const char *kv[KV_MAX + 1];
	int saved = errno;
	size_t n = 0;
	va_list ap;
	const char *s;

	if (!log_enabled(level))
		return;
	va_start(ap, msg);
	while ((s = va_arg(ap, const char *)) != NULL && n < KV_MAX)
		kv[n++] = s;
	va_end(ap);
	kv[n & ~(size_t)1] = NULL;
	emit(level, msg, kv);
	errno = saved;
}
