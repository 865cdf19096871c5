/* loadgen/progress.c: the progress file's line (--progress-file), exact,
 * valid JSON with every key, and its replacement by rename: a reader finds
 * one whole line and no temporary file is left behind. */
#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "progress.h"

static void test_format_timed(void **state)
{
    (void)state;
    lg_progress_state_t st = {.phase = "load", .elapsed_s = 12.04, .planned_s = 30, .requests = 0,
                              .issued = 1200, .done = 1190, .ok = 1188, .errors = 2, .rps = 99.47};
    char line[512];
    int n = lg_progress_file_format(&st, line, sizeof line);
    static const char want[] = "{\"phase\":\"load\",\"elapsed_s\":12.0,\"planned_s\":30.0,"
                               "\"requests\":null,\"issued\":1200,\"done\":1190,\"ok\":1188,"
                               "\"errors\":2,\"rps\":99.5}\n";
    assert_string_equal(line, want);
    assert_int_equal(n, (int)strlen(want));
    /* Too small a buffer is said, not cut. */
    assert_int_equal(lg_progress_file_format(&st, line, 20), -1);
}

/* -n: no planned seconds, the requests instead; JSON a reader can load. */
static void test_format_count_mode(void **state)
{
    (void)state;
    lg_progress_state_t st = {.phase = "done", .elapsed_s = 31.5, .planned_s = -1,
                              .requests = 300, .issued = 300, .done = 300, .ok = 299,
                              .errors = 1, .rps = 9.9};
    char line[512];
    assert_true(lg_progress_file_format(&st, line, sizeof line) > 0);
    json_error_t err;
    json_t *j = json_loads(line, 0, &err);
    assert_non_null(j);
    static const char *const keys[] = {"phase", "elapsed_s", "planned_s", "requests", "issued",
                                       "done", "ok", "errors", "rps"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_non_null(json_object_get(j, keys[i]));
    assert_int_equal(json_object_size(j), sizeof keys / sizeof keys[0]);
    assert_string_equal(json_string_value(json_object_get(j, "phase")), "done");
    assert_true(json_is_null(json_object_get(j, "planned_s")));
    assert_int_equal(json_integer_value(json_object_get(j, "requests")), 300);
    assert_int_equal(json_integer_value(json_object_get(j, "ok")), 299);
    json_decref(j);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    if (d)
        closedir(d);
    return n;
}

static void read_line(const char *path, char *out, size_t cap)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t n = fread(out, 1, cap - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

static void test_write_replaces(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_loadgen_progress.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[PATH_MAX], err[256], line[512];
    snprintf(path, sizeof path, "%s/progress.json", dir);
    lg_progress_state_t st = {.phase = "warmup", .planned_s = 10, .issued = 5};
    assert_int_equal(lg_progress_file_write(path, &st, err, sizeof err), 0);
    read_line(path, line, sizeof line);
    assert_non_null(strstr(line, "\"phase\":\"warmup\""));
    st.phase = "drain";
    st.issued = 77;
    assert_int_equal(lg_progress_file_write(path, &st, err, sizeof err), 0);
    read_line(path, line, sizeof line);
    assert_non_null(strstr(line, "\"phase\":\"drain\""));
    assert_non_null(strstr(line, "\"issued\":77,"));
    assert_int_equal(strchr(line, '\n') - line, (long)strlen(line) - 1); /* one line */
    assert_int_equal(count_entries(dir), 1); /* no temporary file left */
    /* A folder that is not there: an error that names it. */
    char missing[PATH_MAX + 32];
    snprintf(missing, sizeof missing, "%s/nope/progress.json", dir);
    assert_true(lg_progress_file_write(missing, &st, err, sizeof err) < 0);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* Path "-": each line whole on stderr (a container's log carries it to
 * run.sh --swarm), and a closed stderr is an error, not a crash. */
static void test_write_stderr(void **state)
{
    (void)state;
    int fds[2], saved = dup(STDERR_FILENO);
    char err[256], got[1024] = "";
    assert_true(saved >= 0);
    assert_int_equal(pipe(fds), 0);
    assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
    lg_progress_state_t st = {.phase = "load", .planned_s = 10, .issued = 5, .done = 4};
    int first = lg_progress_file_write("-", &st, err, sizeof err);
    st.phase = "done";
    int second = lg_progress_file_write("-", &st, err, sizeof err);
    assert_int_equal(close(fds[1]), 0);
    assert_true(dup2(fds[0], STDERR_FILENO) >= 0); /* a read end: writes fail */
    int closed = lg_progress_file_write("-", &st, err, sizeof err);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    assert_int_equal(close(saved), 0);
    ssize_t n = read(fds[0], got, sizeof got - 1);
    assert_int_equal(close(fds[0]), 0);
    assert_int_equal(first, 0);
    assert_int_equal(second, 0);
    assert_true(n > 0);
    char *nl = strchr(got, '\n');
    assert_non_null(nl);
    assert_memory_equal(got, "{\"phase\":\"load\",", 16);
    assert_memory_equal(nl + 1, "{\"phase\":\"done\",", 16);
    assert_int_equal(strchr(nl + 1, '\n') - got, (long)n - 1); /* two whole lines */
    assert_true(closed < 0);
    assert_non_null(strstr(err, "stderr"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_timed),
        cmocka_unit_test(test_format_count_mode),
        cmocka_unit_test(test_write_replaces),
        cmocka_unit_test(test_write_stderr),
    };
    return cmocka_run_group_tests_name("loadgen progress", tests, NULL, NULL);
}
