#ifndef PEERD_LOG_H
#define PEERD_LOG_H

/* One line per event on stderr, text or JSON lines, errno preserved. */

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
enum log_format { LOG_TEXT = 0, LOG_JSON = 1 };

#define PEERD_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Sets the level, the format and the role tag printed on every line. */
void log_init(enum log_level level, enum log_format format, const char *role);
/* Parses "error|warn|info|debug" and "text|json"; -EINVAL otherwise. */
int log_level_parse(const char *s, enum log_level *out);
int log_format_parse(const char *s, enum log_format *out);
int log_enabled(enum log_level level);

void log_error(const char *fmt, ...) PEERD_PRINTF(1, 2);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) PEERD_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PEERD_PRINTF(1, 2);
void log_info(const char *fmt, ...) PEERD_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PEERD_PRINTF(1, 2);
/* Log at error level and exit(code). Only before children exist. */
void log_fatalx(int code, const char *fmt, ...) PEERD_PRINTF(2, 3)
    __attribute__((noreturn));

/*
 * Structured event: msg plus key/value pairs given as a NULL-terminated list
 * of const char * (key, value, key, value, ..., NULL). Values that look like
 * integers are emitted as JSON numbers in JSON mode.
 */
void log_event(enum log_level level, const char *msg, ...)
    __attribute__((sentinel));

/* Renders one line into buf (pure; used by the tests). */
int log_format_line(char *buf, size_t len, enum log_format format,
    enum log_level level, const char *role, long pid, const char *msg,
    const char *const *kv);

#endif
