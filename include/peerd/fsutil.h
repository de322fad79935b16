#ifndef PEERD_FSUTIL_H
#define PEERD_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Writes buf to dir/name atomically: a hidden temp file ".name.tmp.XXXX"
 * created O_EXCL with mode in the same directory, full write, fsync, rename,
 * fsync of the directory. On failure the old file is intact and the temp file
 * is gone. Returns 0 or -errno.
 */
int fsutil_write_atomic(const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode) __attribute__((warn_unused_result));

/* Same, for a full path (split at the last '/'). */
int fsutil_write_atomic_path(const char *path, const void *buf, size_t len,
    mode_t mode) __attribute__((warn_unused_result));

struct fsutil_file {
	const char *path;
	const void *data;
	size_t len;
	mode_t mode;
};

/*
 * Writes n files, each atomically as fsutil_write_atomic does, with fewer
 * waits for the disk: every temp file is written first (writeback started
 * for all), then all are fsynced, renamed into place, and each directory is
 * fsynced once. On failure before the renames nothing is replaced and every
 * temp file is gone. Returns 0 or -errno.
 */
int fsutil_write_many(const struct fsutil_file *files, size_t n)
    __attribute__((warn_unused_result));

/*
 * mkdir -p with the given mode for every directory it creates. Existing
 * directories are left as they are. Returns 0 or -errno.
 */
int fsutil_mkdirs(const char *path, mode_t mode)
    __attribute__((warn_unused_result));

/*
 * Reads a whole regular file (no symlink followed at the last component)
 * into a malloc'ed, NUL-terminated buffer of at most max bytes. Returns 0,
 * -ENOENT, -E2BIG if larger than max, -EINVAL if not a regular file, or
 * another -errno.
 */
int fsutil_read_file(const char *path, size_t max, char **out, size_t *outlen)
    __attribute__((warn_unused_result));

/* True if path exists (lstat). */
bool fsutil_exists(const char *path);

/* snprintf into buf; returns 0 or -ENAMETOOLONG if truncated. */
int fsutil_path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), warn_unused_result));

#endif
