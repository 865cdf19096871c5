/* lib/atomic_file: create never replaces, replace does, and neither leaves
 * a temporary file behind or a file a reader could see half written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

typedef struct fixture {
    char dir[64];
    char path[128];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lab-afile.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/report.json", f->dir);
    *state = f;
    return 0;
}

/* How many entries the folder holds (temporary files included). */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, text);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    (void)unlink(f->path);
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

static void test_create_never_replaces(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    assert_int_equal(afile_create(f->path, "first\n", err, sizeof err), 0);
    assert_int_equal(afile_create(f->path, "second\n", err, sizeof err), -EEXIST);
    assert_non_null(strstr(err, "link("));
    assert_file_is(f->path, "first\n");
    assert_int_equal(entries(f->dir), 1); /* no temporary file left */
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_replace_replaces(void **state)
{
    fixture_t *f = *state;
    char err[256] = "";
    assert_int_equal(afile_replace(f->path, "old\n", 1, err, sizeof err), 0);
    assert_int_equal(afile_replace(f->path, "new\n", 0, err, sizeof err), 0);
    assert_file_is(f->path, "new\n");
    assert_int_equal(entries(f->dir), 1);
}

static void test_bad_paths(void **state)
{
    fixture_t *f = *state;
    char err[256] = "", path[160];
    snprintf(path, sizeof path, "%s/", f->dir);
    assert_int_equal(afile_replace(path, "x", 1, err, sizeof err), -EISDIR);
    snprintf(path, sizeof path, "%s/no/such/folder/x.json", f->dir);
    assert_int_equal(afile_create(path, "x", err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "mkstemp("));
    assert_int_equal(entries(f->dir), 0);
}

static void test_parent(void **state)
{
    (void)state;
    char dir[32];
    assert_int_equal(afile_parent("a/b/c.json", dir, sizeof dir), 0);
    assert_string_equal(dir, "a/b");
    assert_int_equal(afile_parent("c.json", dir, sizeof dir), 0);
    assert_string_equal(dir, ".");
    assert_int_equal(afile_parent("/c.json", dir, sizeof dir), 0);
    assert_string_equal(dir, "/");
    assert_int_equal(afile_parent("a-very-long-folder-name-indeed/c", dir, 8), -ENAMETOOLONG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_never_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_paths, setup, teardown),
        cmocka_unit_test(test_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
