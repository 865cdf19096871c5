/* lib/samples_file: rows and metadata come back exactly (late and warm-up
 * rows too), an existing file is never replaced, and bad input (a bad
 * header, bucket or field, a gzip stream cut short) is refused with
 * "path:line: what", never read as a shorter run. */
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
#include <zlib.h>

#include "samples_file.h"

#define HEADER SAMPLES_FILE_MAGIC "\n" SAMPLES_FILE_COLUMNS "\n"

typedef struct fixture {
    char dir[64];
    char path[128];
    char err[512];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/lab-samples.XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/run.samples.csv.gz", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    DIR *d = opendir(f->dir);
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s", f->dir, e->d_name);
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            (void)unlink(path);
    }
    if (d != NULL)
        closedir(d);
    (void)rmdir(f->dir);
    free(f);
    return 0;
}

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

/* What a read saw. */
#define GOT_MAX 64
typedef struct got {
    lab_sample_t rows[GOT_MAX];
    size_t n;
    char meta[8][64];
    size_t n_meta;
    int stop_after; /* 0: never */
} got_t;

static int on_row(const lab_sample_t *row, void *arg)
{
    got_t *g = arg;
    if (g->n < GOT_MAX)
        g->rows[g->n] = *row;
    g->n++;
    return g->stop_after != 0 && g->n == (size_t)g->stop_after ? 7 : 0;
}

static int on_meta(const char *key, const char *value, void *arg)
{
    got_t *g = arg;
    if (g->n_meta < 8)
        snprintf(g->meta[g->n_meta], sizeof g->meta[0], "%s=%s", key, value);
    g->n_meta++;
    return 0;
}

/* text, gzip'd, as path (as another tool would write it). */
static void write_gz(const char *path, const char *text, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    if (len > 0)
        assert_int_equal(gzwrite(gz, text, (unsigned)len), (int)len);
    assert_int_equal(gzclose(gz), Z_OK);
}

static void write_raw(const char *path, const char *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static char *read_raw(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    char *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    *len = (size_t)size;
    return bytes;
}

static const lab_sample_t some_rows[] = {
    {.planned_ns = 0, .sent_ns = 15234, .end_ns = 15234 + 1002345678, .status = 200,
     .bucket = LAB_BUCKET_OK, .warmup = 1},
    {.planned_ns = 10000000, .sent_ns = -1, .end_ns = -1, .bucket = LAB_BUCKET_LATE, .warmup = 1},
    {.planned_ns = 20000000, .sent_ns = 20000100, .end_ns = 1020000100, .status = 503,
     .bucket = LAB_BUCKET_HTTP},
    {.planned_ns = 30000000, .sent_ns = 30000000, .end_ns = 30000000 + 30000000000LL,
     .bucket = LAB_BUCKET_TIMEOUT},
    {.planned_ns = 40000000, .sent_ns = 40000001, .end_ns = 40000001, .bucket = LAB_BUCKET_CONNECT},
    {.planned_ns = 50000000, .sent_ns = 50000000, .end_ns = 1050000000, .status = 14,
     .bucket = LAB_BUCKET_UNFINISHED},
    {.planned_ns = 60000000, .sent_ns = -1, .end_ns = -1, .bucket = LAB_BUCKET_LATE},
    {.planned_ns = INT64_MAX - 1, .sent_ns = INT64_MAX - 1, .end_ns = INT64_MAX,
     .status = 65535, .bucket = LAB_BUCKET_OK},
};
#define SOME_ROWS (sizeof some_rows / sizeof some_rows[0])

static void assert_rows_equal(const lab_sample_t *a, const lab_sample_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].planned_ns, b[i].planned_ns);
        assert_int_equal(a[i].sent_ns, b[i].sent_ns);
        assert_int_equal(a[i].end_ns, b[i].end_ns);
        assert_int_equal(a[i].status, b[i].status);
        assert_int_equal(a[i].bucket, b[i].bucket);
        assert_int_equal(a[i].warmup, b[i].warmup);
    }
}

static void test_round_trip(void **state)
{
    fixture_t *f = *state;
    const char *meta[] = {"variant=event-loop", "load=open", "rate=50:400:10s", "note=", NULL};
    assert_int_equal(samples_file_write(f->path, meta, some_rows, SOME_ROWS, f->err,
                                        sizeof f->err), 0);
    assert_int_equal(entries(f->dir), 1); /* no temporary file left */
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    size_t len;
    char *bytes = read_raw(f->path, &len);
    assert_true((unsigned char)bytes[0] == 0x1f && (unsigned char)bytes[1] == 0x8b); /* gzip */
    free(bytes);

    got_t g = {0};
    assert_int_equal(samples_file_read(f->path, on_row, on_meta, &g, f->err, sizeof f->err), 0);
    assert_int_equal(g.n, SOME_ROWS);
    assert_rows_equal(g.rows, some_rows, SOME_ROWS);
    assert_int_equal(g.n_meta, 4);
    assert_string_equal(g.meta[0], "variant=event-loop");
    assert_string_equal(g.meta[2], "rate=50:400:10s");
    assert_string_equal(g.meta[3], "note=");
}

/* The documented text, byte for byte (docs/REPORT.md). */
static void test_text_is_the_documented_format(void **state)
{
    fixture_t *f = *state;
    const char *meta[] = {"load=open", NULL};
    assert_int_equal(samples_file_write(f->path, meta, some_rows, 2, f->err, sizeof f->err), 0);
    gzFile gz = gzopen(f->path, "rb");
    assert_non_null(gz);
    char text[256] = "";
    int n = gzread(gz, text, sizeof text - 1);
    assert_true(n > 0);
    gzclose(gz);
    assert_string_equal(text, "# loadgen samples 1\n"
                              "# load=open\n"
                              "planned_ns,sent_ns,latency_ns,bucket,status,warmup\n"
                              "0,15234,1002345678,ok,200,1\n"
                              "10000000,,,late,0,1\n");
}

static void test_empty_run(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(samples_file_write(f->path, NULL, NULL, 0, f->err, sizeof f->err), 0);
    got_t g = {0};
    assert_int_equal(samples_file_read(f->path, on_row, on_meta, &g, f->err, sizeof f->err), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.n_meta, 0);
}

static void test_never_replaces(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(samples_file_check_target(f->path, f->err, sizeof f->err), 0);
    assert_int_equal(samples_file_write(f->path, NULL, some_rows, 3, f->err, sizeof f->err), 0);
    assert_int_equal(samples_file_check_target(f->path, f->err, sizeof f->err), -EEXIST);
    assert_non_null(strstr(f->err, "never replaced"));
    f->err[0] = '\0';
    assert_int_equal(samples_file_write(f->path, NULL, some_rows, 1, f->err, sizeof f->err),
                     -EEXIST);
    assert_non_null(strstr(f->err, f->path));
    assert_non_null(strstr(f->err, "never replaced"));
    assert_int_equal(entries(f->dir), 1);
    got_t g = {0};
    assert_int_equal(samples_file_read(f->path, on_row, NULL, &g, f->err, sizeof f->err), 0);
    assert_int_equal(g.n, 3); /* the first file, as it was */
}

static void test_check_target_folder(void **state)
{
    fixture_t *f = *state;
    char path[200];
    snprintf(path, sizeof path, "%s/no/such/folder/x.csv.gz", f->dir);
    assert_int_equal(samples_file_check_target(path, f->err, sizeof f->err), -ENOENT);
    assert_non_null(strstr(f->err, "access("));
    assert_int_equal(samples_file_write(path, NULL, some_rows, 1, f->err, sizeof f->err), -ENOENT);
    snprintf(path, sizeof path, "%s/", f->dir);
    assert_int_equal(samples_file_check_target(path, f->err, sizeof f->err), -EISDIR);
    if (geteuid() != 0) { /* root writes anywhere */
        assert_int_equal(chmod(f->dir, 0555), 0);
        int rc = samples_file_check_target(f->path, f->err, sizeof f->err);
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(rc, -EACCES);
    }
}

static void test_writer_refuses_what_reader_would(void **state)
{
    fixture_t *f = *state;
    lab_sample_t bad[] = {some_rows[0], some_rows[1]};
    bad[1].sent_ns = 5; /* a late row with a send */
    assert_int_equal(samples_file_write(f->path, NULL, bad, 2, f->err, sizeof f->err), -EINVAL);
    assert_non_null(strstr(f->err, "row 1: a late row"));
    bad[1] = some_rows[0];
    bad[1].bucket = LAB_BUCKET_COUNT;
    assert_int_equal(samples_file_write(f->path, NULL, bad, 2, f->err, sizeof f->err), -EINVAL);
    bad[1] = some_rows[0];
    bad[1].end_ns = bad[1].sent_ns - 1;
    assert_int_equal(samples_file_write(f->path, NULL, bad, 2, f->err, sizeof f->err), -EINVAL);
    const char *no_eq[] = {"variant", NULL}, *newline[] = {"a=b\nc", NULL};
    const char *bad_key[] = {"a b=c", NULL};
    assert_int_equal(samples_file_write(f->path, no_eq, NULL, 0, f->err, sizeof f->err), -EINVAL);
    assert_int_equal(samples_file_write(f->path, newline, NULL, 0, f->err, sizeof f->err), -EINVAL);
    assert_int_equal(samples_file_write(f->path, bad_key, NULL, 0, f->err, sizeof f->err), -EINVAL);
    assert_int_equal(entries(f->dir), 0); /* nothing written */
}

/* Each text, gzip'd, is refused with "path:line: <what>". */
static void test_malformed(void **state)
{
    fixture_t *f = *state;
    static const struct {
        const char *text;
        int line;
        const char *what;
    } cases[] = {
        {"", 1, "an empty file"},
        {"# loadgen samples 2\n" SAMPLES_FILE_COLUMNS "\n", 1, "version 2; this reader knows 1"},
        {"planned_ns,sent_ns\n", 1, "not a samples file"},
        {SAMPLES_FILE_MAGIC "\n# variant\n", 2, "a metadata line is"},
        {SAMPLES_FILE_MAGIC "\n#\n", 2, "a metadata line is"},
        {SAMPLES_FILE_MAGIC "\n# a=b\n", 3, "no column line"},
        {SAMPLES_FILE_MAGIC "\n# a=b\nplanned_ns,sent_ns,latency_ns,bucket,status\n", 3,
         "the column line is not"},
        {HEADER "0,1,2,ok,200,0\n0,1,2,okk,200,0\n", 4, "bucket \"okk\" is not a bucket"},
        {HEADER "0,1,2,ok,200\n", 3, "5 field(s), not 6"},
        {HEADER "0,1,2,ok,200,0,1\n", 3, "more than 6 fields"},
        {HEADER "\n", 3, "1 field(s), not 6"},
        {HEADER "0,x,2,ok,200,0\n", 3, "sent_ns \"x\" is not a whole number"},
        {HEADER "-5,1,2,ok,200,0\n", 3, "planned_ns \"-5\" is not a whole number"},
        {HEADER "99999999999999999999,1,2,ok,200,0\n", 3, "planned_ns"},
        {HEADER "0,9223372036854775807,1,ok,200,0\n", 3, "latency_ns \"1\""},
        {HEADER "5,1,2,late,0,0\n", 3, "a late request was never sent"},
        {HEADER "5,,,ok,200,0\n", 3, "only a late request may be"},
        {HEADER "0,1,2,ok,70000,0\n", 3, "status \"70000\""},
        {HEADER "0,1,2,ok,200,2\n", 3, "warmup \"2\" is not 0 or 1"},
        {HEADER "0,1,2,ok,200,0\n# late=1\n", 4, "1 field(s), not 6"},
        {HEADER "0,1,2,ok,200,0\n1,2,3,ok,200", 4, "the last line has no end"},
        {HEADER "0,1,2,ok,200,0\n0,1,2,ok,200,0@x\n", 4, "a NUL byte"}, /* @: NUL */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[256];
        size_t len = strlen(cases[i].text);
        memcpy(text, cases[i].text, len);
        for (size_t j = 0; j < len; j++)
            text[j] = text[j] == '@' ? '\0' : text[j];
        write_gz(f->path, text, len);
        got_t g = {0};
        f->err[0] = '\0';
        int rc = samples_file_read(f->path, on_row, NULL, &g, f->err, sizeof f->err);
        char want[256];
        snprintf(want, sizeof want, "%s:%d: ", f->path, cases[i].line);
        if (rc != -EINVAL || strncmp(f->err, want, strlen(want)) != 0 ||
            strstr(f->err, cases[i].what) == NULL)
            fail_msg("case %zu: rc %d, err \"%s\"; want -EINVAL, \"%s%s\"", i, rc, f->err, want,
                     cases[i].what);
        assert_int_equal(unlink(f->path), 0);
    }
}

/* Many rows, so that the gzip stream spans several blocks. */
static lab_sample_t *many_rows(size_t n)
{
    lab_sample_t *rows = calloc(n, sizeof *rows);
    assert_non_null(rows);
    for (size_t i = 0; i < n; i++) {
        int64_t planned = (int64_t)i * 1000000;
        int64_t sent = planned + (int64_t)((i * 7919) % 100000);
        rows[i] = (lab_sample_t){.planned_ns = planned, .sent_ns = sent,
                                 .end_ns = sent + 1000000000 + (int64_t)((i * 104729) % 9999991),
                                 .status = 200, .bucket = LAB_BUCKET_OK};
    }
    return rows;
}

/* A file cut anywhere (in the deflate data, in the 8-byte trailer) is an
 * error, however many rows read before the cut. */
static void test_truncated_gzip(void **state)
{
    fixture_t *f = *state;
    const size_t n = 50000;
    lab_sample_t *rows = many_rows(n);
    assert_int_equal(samples_file_write(f->path, NULL, rows, n, f->err, sizeof f->err), 0);
    free(rows);
    size_t len;
    char *bytes = read_raw(f->path, &len);
    char cut_path[160];
    snprintf(cut_path, sizeof cut_path, "%s/cut.csv.gz", f->dir);
    const size_t cuts[] = {len / 2, len - 8, len - 4, len - 1, 20};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        write_raw(cut_path, bytes, cuts[i]);
        got_t g = {0};
        f->err[0] = '\0';
        int rc = samples_file_read(cut_path, on_row, NULL, &g, f->err, sizeof f->err);
        if (rc != -EINVAL || strstr(f->err, "truncated") == NULL ||
            strncmp(f->err, cut_path, strlen(cut_path)) != 0 || f->err[strlen(cut_path)] != ':')
            fail_msg("cut at %zu of %zu: rc %d, err \"%s\"", cuts[i], len, rc, f->err);
        assert_true(g.n < n || cuts[i] >= len - 8);
    }
    free(bytes);
}

static void test_corrupt_gzip(void **state)
{
    fixture_t *f = *state;
    const size_t n = 20000;
    lab_sample_t *rows = many_rows(n);
    assert_int_equal(samples_file_write(f->path, NULL, rows, n, f->err, sizeof f->err), 0);
    free(rows);
    size_t len;
    char *bytes = read_raw(f->path, &len);
    bytes[len / 2] ^= 0x55;
    assert_int_equal(unlink(f->path), 0);
    write_raw(f->path, bytes, len);
    free(bytes);
    got_t g = {0};
    assert_int_equal(samples_file_read(f->path, on_row, NULL, &g, f->err, sizeof f->err), -EINVAL);
    assert_int_equal(strncmp(f->err, f->path, strlen(f->path)), 0);
}

/* A gunzip'd copy reads the same. */
static void test_plain_copy_reads(void **state)
{
    fixture_t *f = *state;
    const char text[] = HEADER "0,15234,1002345678,ok,200,0\n10000000,,,late,0,0\n";
    write_raw(f->path, text, sizeof text - 1);
    got_t g = {0};
    assert_int_equal(samples_file_read(f->path, on_row, NULL, &g, f->err, sizeof f->err), 0);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.rows[0].end_ns, 15234 + 1002345678);
    assert_int_equal(g.rows[1].bucket, LAB_BUCKET_LATE);
    assert_int_equal(g.rows[1].sent_ns, -1);
}

static void test_callback_stops_the_read(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(samples_file_write(f->path, NULL, some_rows, SOME_ROWS, f->err,
                                        sizeof f->err), 0);
    got_t g = {.stop_after = 2};
    assert_int_equal(samples_file_read(f->path, on_row, NULL, &g, f->err, sizeof f->err), 7);
    assert_int_equal(g.n, 2);
}

static void test_missing_file(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(samples_file_read(f->path, on_row, NULL, NULL, f->err, sizeof f->err),
                     -ENOENT);
    assert_non_null(strstr(f->err, "open("));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_is_the_documented_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_run, setup, teardown),
        cmocka_unit_test_setup_teardown(test_never_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_target_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_refuses_what_reader_would, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_copy_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_callback_stops_the_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
