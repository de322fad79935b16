#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "peerd/fsutil.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_fsutil.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static int count_entries(const char *d)
{
	DIR *dp = opendir(d);
	struct dirent *e;
	int n = 0;

	assert_non_null(dp);
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

static void test_write_and_read(void **state)
{
	char path[128], *buf;
	size_t len;
	struct stat st;

	(void)state;
	assert_int_equal(fsutil_write_atomic(dir, "a.txt", "hello", 5, 0600),
	    0);
	snprintf(path, sizeof(path), "%s/a.txt", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(fsutil_read_file(path, 100, &buf, &len), 0);
	assert_int_equal(len, 5);
	assert_string_equal(buf, "hello");
	free(buf);
	/* Replace: new content, new mode, no temp file left behind. */
	assert_int_equal(fsutil_write_atomic_path(path, "bye", 3, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fsutil_read_file(path, 100, &buf, &len), 0);
	assert_string_equal(buf, "bye");
	free(buf);
	assert_int_equal(count_entries(dir), 1);
}

static void test_failure_keeps_old(void **state)
{
	char path[300], sub[128], *buf;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/keep", dir);
	assert_int_equal(fsutil_write_atomic_path(path, "old", 3, 0600), 0);
	/* A read-only directory: the write fails, the old file stays. */
	snprintf(sub, sizeof(sub), "%s/ro", dir);
	assert_int_equal(fsutil_mkdirs(sub, 0700), 0);
	assert_int_equal(fsutil_write_atomic(sub, "f", "old", 3, 0600), 0);
	chmod(sub, 0500);
	if (geteuid() != 0) {
		assert_int_equal(fsutil_write_atomic(sub, "f", "new", 3, 0600),
		    -EACCES);
		snprintf(path, sizeof(path), "%s/f", sub);
		assert_int_equal(fsutil_read_file(path, 10, &buf, &len), 0);
		assert_string_equal(buf, "old");
		free(buf);
		assert_int_equal(count_entries(sub), 1);
	}
	chmod(sub, 0700);
	/* Bad names are refused outright. */
	assert_int_equal(fsutil_write_atomic(dir, "../x", "x", 1, 0600),
	    -EINVAL);
	assert_int_equal(fsutil_write_atomic(dir, ".hidden", "x", 1, 0600),
	    -EINVAL);
	assert_int_equal(fsutil_write_atomic("/nonexistent/dir", "x", "x", 1,
	    0600), -ENOENT);
}

static void test_read_limits(void **state)
{
	char path[128], link[128], *buf = NULL;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(fsutil_write_atomic_path(path, "0123456789", 10,
	    0600), 0);
	assert_int_equal(fsutil_read_file(path, 9, &buf, &len), -E2BIG);
	assert_null(buf);
	assert_int_equal(fsutil_read_file(path, 10, &buf, &len), 0);
	free(buf);
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(fsutil_read_file(link, 100, &buf, &len), -EINVAL);
	assert_int_equal(fsutil_read_file(dir, 100, &buf, &len), -EINVAL);
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(fsutil_read_file(path, 100, &buf, &len), -ENOENT);
	assert_false(fsutil_exists(path));
	assert_true(fsutil_exists(link));
}

static void test_mkdirs(void **state)
{
	char path[300], file[300];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	assert_int_equal(fsutil_mkdirs(path, 0700), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(fsutil_mkdirs(path, 0700), 0);
	snprintf(file, sizeof(file), "%s/a/f", dir);
	assert_int_equal(fsutil_write_atomic_path(file, "x", 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/a/f/g", dir);
	assert_int_equal(fsutil_mkdirs(path, 0700), -ENOTDIR);
	/* The path itself a file (the stat that finds it there). */
	assert_int_equal(fsutil_mkdirs(file, 0700), -ENOTDIR);
}

static void test_path(void **state)
{
	char small[8];

	(void)state;
	assert_int_equal(fsutil_path(small, sizeof(small), "%s", "1234567"),
	    0);
	assert_int_equal(fsutil_path(small, sizeof(small), "%s", "12345678"),
	    -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_write_and_read, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_failure_keeps_old, setup,
		teardown),
	    cmocka_unit_test_setup_teardown(test_read_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mkdirs, setup, teardown),
	    cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
