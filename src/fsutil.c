/*
 * Files are written by one function, atomically (style rule 13): temp file
 * in the same directory, full write, fsync, rename, fsync of the directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "peerd/fsutil.h"

int fsutil_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0 && errno != EINVAL)
		r = -errno;
	close(fd);
	return r;
}

int fsutil_write_atomic(const char *dir, const char *name, const void *buf,
    size_t len, mode_t mode)
{
	char dst[PATH_MAX];
	struct fsutil_file f = {dst, buf, len, mode};
	int r;

	if (strchr(name, '/') != NULL || name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	r = fsutil_path(dst, sizeof(dst), "%s/%s", dir, name);
	return r < 0 ? r : fsutil_write_many(&f, 1);
}

/* Splits path at its last '/': dir ("/" or "." as needed) and base name. */
static int split_path(const char *path, char dir[PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t dl;

	if (slash == NULL) {
		strcpy(dir, ".");
		*base = path;
		return 0;
	}
	dl = (size_t)(slash - path);
	if (dl >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	if (dl == 0)
		strcpy(dir, "/");
	*base = slash + 1;
	return 0;
}

/*
 * A hidden temp beside the target (geth's keystore scanner skips dot
 * files), random suffix, O_EXCL: a planted file or symlink is never
 * followed. The umask must not widen or narrow the mode asked for.
 */
static int open_temp(const char *dir, const char *name, mode_t mode,
    char tmp[PATH_MAX])
{
	unsigned tries;
	int fd = -1, r;

	if (strchr(name, '/') != NULL || name[0] == '\0' || name[0] == '.')
		return -EINVAL;
	for (tries = 0; tries < 8; tries++) {
		r = fsutil_path(tmp, PATH_MAX, "%s/.%s.tmp.%08x", dir, name,
		    randombytes_random());
		if (r < 0)
			return r;
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		close(fd);
		unlink(tmp);
		return r;
	}
	return fd;
}

int fsutil_write_many(const struct fsutil_file *files, size_t n)
{
	char (*tmp)[PATH_MAX] = NULL, dir[PATH_MAX], prev[PATH_MAX];
	const char *base;
	int *fds = NULL, r = 0;
	size_t i, j, made = 0, renamed = 0;

	if (n == 0)
		return 0;
	tmp = calloc(n, sizeof(*tmp));
	fds = malloc(n * sizeof(*fds));
	if (tmp == NULL || fds == NULL) {
		r = -ENOMEM;
		goto out;
	}
	/* 1: every temp written; their writeback started together. */
	for (i = 0; i < n; i++) {
		r = split_path(files[i].path, dir, &base);
		if (r == 0)
			r = open_temp(dir, base, files[i].mode, tmp[i]);
		if (r < 0)
			goto out;
		fds[i] = r;
		made++;
		r = write_all(fds[i], files[i].data, files[i].len);
		if (r < 0)
			goto out;
		(void)sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE);
	}
	/* 2: durable (one journal commit covers most of them). */
	for (i = 0; i < n; i++) {
		if (fsync(fds[i]) < 0) {
			r = -errno;
			goto out;
		}
	}
	/* 3: in place, each file atomically. */
	for (i = 0; i < n; i++) {
		if (rename(tmp[i], files[i].path) < 0) {
			r = -errno;
			goto out;
		}
		renamed++;
	}
	/* 4: each directory once. */
	for (i = 0; i < n && r == 0; i++) {
		r = split_path(files[i].path, dir, &base);
		for (j = 0; r == 0 && j < i; j++) {
			if (split_path(files[j].path, prev, &base) == 0 &&
			    strcmp(prev, dir) == 0)
				break;
		}
		if (r == 0 && j == i)
			r = fsync_dir(dir);
	}
out:
	for (i = 0; i < made; i++) {
		close(fds[i]);
		if (i >= renamed)
			unlink(tmp[i]);
	}
	free(tmp);
	free(fds);
	return r;
}

int fsutil_write_atomic_path(const char *path, const void *buf, size_t len,
    mode_t mode)
{
	struct fsutil_file f = {path, buf, len, mode};

	return fsutil_write_many(&f, 1);
}

int fsutil_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), i;
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	/* Usually there already: one stat, not two calls per component. */
	if (stat(path, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) < 0) {
			if (errno != EEXIST)
				return -errno;
			if (stat(buf, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if (chmod(buf, mode) < 0) {
			return -errno;
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

int fsutil_read_file(const char *path, size_t max, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	int fd, r;

	*out = NULL;
	*outlen = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? -EINVAL : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		r = -E2BIG;
		goto out;
	}
	buf = malloc(max + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf + used, max + 1 - used);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			r = -E2BIG;
			goto out;
		}
	}
	buf[used] = '\0';
	*out = buf;
	*outlen = used;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

bool fsutil_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
