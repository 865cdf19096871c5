/* labreport's C and Python pairs (pairs.c, pairs_md.c, c-python.svg) on
 * small matrix folders made in a temporary folder: a C variant and the
 * Python deployment of one classic configuration at one concurrency make
 * a pair with its C/Python ratios, the Python server's CPU busy share and
 * the CPU-bound mark; a matrix of C variants alone has no pairs and no
 * section; the row the study left out (async-gevent-pywsgi) has no
 * published figure, here and in data/classic-study.json; a schema 1
 * report renders as before. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "charts.h"
#include "jsonutil.h"
#include "labreport.h"
#include "labreport_fixture.h"
#include "markdown.h"
#include "matrix.h"
#include "published.h"
#include "rebuild.h"

typedef struct fixture {
    char dir[PATH_MAX];
    json_t *study;
} fixture_t;

/* Two configurations of one C variant (threadpool-50: uwsgi and
 * gunicorn), one with its Python deployment in the matrix; coroutine-1
 * for gevent on gunicorn (published) and on pywsgi (left out). */
static const char study_text[] =
    "{\"source\": \"test figures\", \"rows\": ["
    "{\"alias\": \"sync-uwsgi\", \"workload\": \"io\", \"config\": \"1x50\", \"rps\": 25.165,"
    " \"mean_ms\": 3544.0, \"failures\": 0, \"variants\": [\"threadpool-50\"],"
    " \"python\": [\"py-uwsgi-1x50\"]},"
    "{\"alias\": \"sync-gunicorn\", \"workload\": \"io\", \"config\": \"1x50\", \"rps\": 28.514,"
    " \"mean_ms\": 2964.7, \"failures\": 3, \"variants\": [\"threadpool-50\"],"
    " \"python\": [\"py-gunicorn-1x50\"]},"
    "{\"alias\": \"async-gevent-gunicorn\", \"workload\": \"io\", \"config\": \"1\","
    " \"rps\": 37.414, \"mean_ms\": 2411.2, \"failures\": 0, \"variants\": [\"coroutine-1\"],"
    " \"python\": [\"py-gevent-gunicorn-1\"]},"
    "{\"alias\": \"async-gevent-pywsgi\", \"workload\": \"io\", \"config\": null,"
    " \"published\": false, \"rps\": null, \"mean_ms\": null, \"failures\": null,"
    " \"variants\": [\"coroutine-1\"], \"python\": [\"py-gevent-pywsgi\"]}]}";

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    char err[LR_ERR_MAX], data[PATH_MAX + 16], points[PATH_MAX + 16];
    if (f == NULL || lrf_tempdir(f->dir, sizeof f->dir) < 0)
        return -1;
    snprintf(data, sizeof data, "%s/data", f->dir);
    snprintf(points, sizeof points, "%s/points", f->dir);
    if (mkdir(data, 0755) < 0 || mkdir(points, 0755) < 0 ||
        lrf_write(data, LR_STUDY_FILE, study_text) < 0)
        return -1;
    f->study = lr_published_load(data, err, sizeof err);
    if (f->study == NULL)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    lrf_rmtree(f->dir);
    json_decref(f->study);
    free(f);
    return 0;
}

typedef struct point {
    const char *variant;
    const char *program;
    double rps;
    double mean_ms;  /* p99 = mean + 40 (lrf_run) */
    double server_s; /* CPU seconds over 30 s on 1 CPU: busy = server_s / 30 */
} point_t;

/* One done point per entry at c=100, in a plan that lists them in order. */
static void make_points(const char *dir, const point_t *p, size_t n)
{
    json_t *points = json_array(), *variants = json_array();
    for (size_t i = 0; i < n; i++) {
        int index = (int)i + 1;
        json_array_append_new(points, lrf_plan_point(index, p[i].variant, 100, 1, "planned",
                                                     NULL));
        json_array_append_new(variants, lrf_variant(p[i].variant, p[i].program, "a model",
                                                    "a classic deployment"));
        assert_int_equal(lrf_done_point(dir, index,
                                        lrf_run(3, p[i].variant, 100, p[i].rps, p[i].mean_ms, 0),
                                        lrf_server(2, p[i].server_s, 3.0), 36.0), 0);
    }
    assert_int_equal(lrf_write_json(dir, "plan.json", lrf_plan(points, variants, NULL, 1)), 0);
}

/* threadpool-50 and its uwsgi Python deployment (CPU-bound at 95%),
 * coroutine-1 and the pywsgi one (50%); no py-gunicorn-1x50, no
 * py-gevent-gunicorn-1. */
static const point_t both[] = {
    {"threadpool-50", "threadpool", 49.8, 2001.0, 1.2},
    {"py-uwsgi-1x50", "lab-python", 24.9, 3900.0, 28.5},
    {"coroutine-1", "coroutine", 99.4, 1003.0, 2.1},
    {"py-gevent-pywsgi", "lab-python", 62.0, 1500.0, 15.0},
};
#define BOTH_COUNT (sizeof both / sizeof both[0])

static json_t *build(fixture_t *f)
{
    char err[LR_ERR_MAX] = "";
    json_t *r = lr_matrix_build(f->dir, f->study, err, sizeof err);
    if (r == NULL)
        fail_msg("%s", err);
    return r;
}

static double side_at(const json_t *pair, const char *side, const char *key)
{
    return lr_jnum_at(pair, side, key);
}

static void test_pairs_json(void **state)
{
    fixture_t *f = *state;
    make_points(f->dir, both, BOTH_COUNT);
    json_t *r = build(f);
    const json_t *rows = json_object_get(r, "rows"), *pairs = json_object_get(r, "pairs");
    assert_string_equal(lr_jstr_get(json_array_get(rows, 0), "impl"), "c");
    assert_string_equal(lr_jstr_get(json_array_get(rows, 1), "impl"), "python");
    assert_int_equal(json_array_size(pairs), 2);

    const json_t *uwsgi = json_array_get(pairs, 0);
    assert_string_equal(lr_jstr_get(uwsgi, "alias"), "sync-uwsgi");
    assert_string_equal(lr_jstr_get(uwsgi, "config"), "1x50");
    assert_true(lr_jnum_get(uwsgi, "concurrency") == 100);
    assert_true(lr_jnum_get(uwsgi, "published_rps") == 25.165);
    assert_string_equal(lr_jstr_get(json_object_get(uwsgi, "c"), "variant"), "threadpool-50");
    assert_string_equal(lr_jstr_get(json_object_get(uwsgi, "python"), "variant"),
                        "py-uwsgi-1x50");
    assert_true(side_at(uwsgi, "c_over_python", "rps") == 2.0);       /* 49.8 / 24.9 */
    assert_true(side_at(uwsgi, "c_over_python", "p99_ms") == 0.518);  /* 2041 / 3940 */
    /* 28.5 CPU s over 3000 answers */
    assert_true(side_at(uwsgi, "python", "server_cpu_ms_per_request") == 9.5);
    assert_true(side_at(uwsgi, "c_over_python", "server_cpu_ms_per_request") == 0.0421);
    assert_true(side_at(uwsgi, "python", "server_busy") == 0.95);
    assert_true(json_is_true(json_object_get(json_object_get(uwsgi, "python"), "cpu_bound")));
    assert_true(json_is_false(json_object_get(json_object_get(uwsgi, "c"), "cpu_bound")));

    const json_t *pywsgi = json_array_get(pairs, 1);
    assert_string_equal(lr_jstr_get(pywsgi, "alias"), "async-gevent-pywsgi");
    assert_true(json_is_null(json_object_get(pywsgi, "config")));
    assert_true(json_is_null(json_object_get(pywsgi, "published_rps")));
    assert_true(json_is_false(json_object_get(json_object_get(pywsgi, "python"), "cpu_bound")));
    json_decref(r);
}

static void test_pairs_markdown(void **state)
{
    fixture_t *f = *state;
    make_points(f->dir, both, BOTH_COUNT);
    json_t *r = build(f);
    char *md = lr_markdown_matrix(r);
    assert_non_null(md);
    char *results = strstr(md, "\n## Results\n"), *section = strstr(md, "\n## C and Python\n");
    char *flags = strstr(md, "\n## Flags\n");
    assert_true(results != NULL && section > results && flags > section);
    assert_non_null(strstr(flags, "![rps per classic configuration: C, Python and the study's "
                                  "published figure](c-python.svg)"));
    *flags = '\0'; /* the section alone from here */
    assert_non_null(strstr(section, "| classic | config | C variant | C rps | Python deployment |"));
    assert_non_null(strstr(section, "\n| sync-uwsgi | 1x50 | `threadpool-50` | 49.8 | "
                                    "`py-uwsgi-1x50` | 24.9 | 2.00\xc3\x97 | 2041.0 | 3940.0 | "
                                    "0.518\xc3\x97 | 0.400 | 9.50 | 0.042\xc3\x97 | "
                                    "95% **CPU-bound** | 25.2 |\n"));
    assert_non_null(strstr(section, "\n| async-gevent-pywsgi | \xe2\x80\x94 | `coroutine-1` | "
                                    "99.4 | `py-gevent-pywsgi` | 62.0 | 1.60\xc3\x97 |"));
    assert_non_null(strstr(section, "| 50% | \xe2\x80\x94 |\n"));
    assert_null(strstr(section, "sync-gunicorn")); /* no py-gunicorn-1x50 in the matrix */
    /* The Results table: each row's server CPU %, the CPU-bound one marked. */
    assert_non_null(strstr(md, "| CPU ms/req | server CPU % | peak MiB |"));
    assert_non_null(strstr(md, "| 9.50 | 95% **CPU-bound** | 30.5 |"));
    assert_non_null(strstr(md, "| 0.400 | 4% | 30.5 |"));
    free(md);
    char *script = lr_chart_script(r, "c-python.svg");
    assert_non_null(script);
    assert_non_null(strstr(script, "(\"sync-uwsgi 1x50\" 0, \"async-gevent-pywsgi\" 1)"));
    assert_non_null(strstr(script, "\n0 49.8 24.9 25.165\n1 99.4 62 NaN\nEOD\n"));
    assert_non_null(strstr(script, "title \"published\""));
    free(script);
    json_decref(r);
}

static void test_c_only_has_no_section(void **state)
{
    fixture_t *f = *state;
    make_points(f->dir, both, 1);
    json_t *r = build(f);
    assert_int_equal(json_array_size(json_object_get(r, "pairs")), 0);
    char *md = lr_markdown_matrix(r);
    assert_non_null(md);
    assert_null(strstr(md, "## C and Python"));
    assert_null(strstr(md, "c-python.svg"));
    assert_non_null(strstr(md, "| server CPU % |"));
    free(md);
    lr_chart_t charts[LR_CHART_MAX];
    size_t n = lr_charts_of(r, charts);
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(charts[i].file, "c-python.svg");
    json_decref(r);
}

/* A Python deployment without its C variant in the matrix: no pair. */
static void test_python_alone_has_no_pair(void **state)
{
    fixture_t *f = *state;
    make_points(f->dir, both + 1, 1);
    json_t *r = build(f);
    assert_int_equal(json_array_size(json_object_get(r, "pairs")), 0);
    /* It shows the study's figure for the configuration it runs. */
    const json_t *published = json_object_get(json_array_get(json_object_get(r, "rows"), 0),
                                              "published");
    assert_int_equal(json_array_size(published), 1);
    assert_true(lr_jnum_get(json_array_get(published, 0), "rps") == 25.165);
    json_decref(r);
}

static int gnuplot_missing(void) { return system("command -v gnuplot >/dev/null 2>&1") != 0; }

/* matrix, then report: c-python.svg and report.md come back the same. */
static void test_pairs_rebuild(void **state)
{
    if (gnuplot_missing())
        skip(); /* the charts need gnuplot (Debian: gnuplot-nox) */
    fixture_t *f = *state;
    make_points(f->dir, both, BOTH_COUNT);
    char err[LR_ERR_MAX] = "";
    if (lr_matrix_write(f->dir, f->study, err, sizeof err) < 0)
        fail_msg("%s", err);
    size_t len_md = 0, len_svg = 0, n = 0;
    char *md = lrf_read(f->dir, "report.md", &len_md);
    char *svg = lrf_read(f->dir, "c-python.svg", &len_svg);
    assert_non_null(md);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    assert_int_equal(lr_rebuild(f->dir, err, sizeof err), 0);
    char *again = lrf_read(f->dir, "c-python.svg", &n);
    assert_true(again != NULL && n == len_svg && memcmp(again, svg, n) == 0);
    free(again);
    again = lrf_read(f->dir, "report.md", &n);
    assert_true(again != NULL && n == len_md && memcmp(again, md, n) == 0);
    free(again);
    free(md);
    free(svg);
}

/* A schema 1 report (archived) renders as labreport of its day did: no
 * server CPU % column, no C and Python section. */
static void test_schema1_renders_as_before(void **state)
{
    fixture_t *f = *state;
    make_points(f->dir, both, BOTH_COUNT);
    json_t *r = build(f);
    char err[LR_ERR_MAX] = "";
    assert_int_equal(lr_matrix_check(r, "report.json", err, sizeof err), 0);
    json_object_set_new(r, "schema_version", json_integer(1));
    json_object_del(r, "pairs");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(r, "rows"), i, row) {
        json_object_del(row, "impl");
        json_object_del(row, "server_busy");
    }
    assert_int_equal(lr_matrix_check(r, "report.json", err, sizeof err), 0);
    char *md = lr_markdown_matrix(r);
    assert_non_null(md);
    assert_null(strstr(md, "server CPU %"));
    assert_null(strstr(md, "CPU-bound"));
    assert_null(strstr(md, "## C and Python"));
    assert_non_null(strstr(md, "| CPU ms/req | peak MiB | calls/answer | classic rps |\n"));
    free(md);
    json_object_set_new(r, "schema_version", json_integer(3));
    assert_int_equal(lr_matrix_check(r, "report.json", err, sizeof err), -1);
    assert_non_null(strstr(err, "its schema_version is not 1 to 2"));
    json_decref(r);
}

/* The project's data/classic-study.json: every row names its Python
 * deployments; the pywsgi rows have no figures, and the classic rps of
 * coroutine-1 is still gevent on gunicorn's alone. */
static void test_study_file(void **state)
{
    (void)state;
    char dir[PATH_MAX], err[LR_ERR_MAX] = "";
    if (lr_published_data_dir(dir, sizeof dir, err, sizeof err) < 0)
        fail_msg("%s", err);
    json_t *study = lr_published_load(dir, err, sizeof err);
    if (study == NULL)
        fail_msg("%s", err);
    size_t i, pywsgi = 0;
    const json_t *row;
    json_array_foreach(json_object_get(study, "rows"), i, row) {
        assert_true(json_array_size(json_object_get(row, "python")) == 1);
        int left_out = strcmp(lr_jstr_get(row, "alias"), "async-gevent-pywsgi") == 0;
        assert_int_equal(lr_published_has_figures(row), !left_out);
        pywsgi += (size_t)left_out;
    }
    assert_int_equal(pywsgi, 2); /* io and cpu */
    const char *workloads[] = {"io", "cpu"};
    const double gunicorn_1[] = {37.414, 7.129};
    for (int w = 0; w < 2; w++) {
        json_t *p = lr_published_for(study, "coroutine-1", workloads[w]);
        assert_int_equal(json_array_size(p), 1);
        assert_string_equal(lr_jstr_get(json_array_get(p, 0), "alias"), "async-gevent-gunicorn");
        assert_true(lr_jnum_get(json_array_get(p, 0), "rps") == gunicorn_1[w]);
        json_decref(p);
        p = lr_published_for(study, "py-gevent-pywsgi", workloads[w]);
        assert_int_equal(json_array_size(p), 0);
        json_decref(p);
    }
    json_decref(study);
}

/* "python" must be a list where given, "published" a boolean. */
static void test_study_checked(void **state)
{
    fixture_t *f = *state;
    char err[LR_ERR_MAX] = "";
    assert_int_equal(lrf_write(f->dir, LR_STUDY_FILE,
                               "{\"source\": \"s\", \"rows\": [{\"alias\": \"a\", \"workload\": "
                               "\"io\", \"variants\": [], \"python\": \"py-a\"}]}"), 0);
    assert_null(lr_published_load(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "python a list"));
    assert_int_equal(lrf_write(f->dir, LR_STUDY_FILE,
                               "{\"source\": \"s\", \"rows\": [{\"alias\": \"a\", \"workload\": "
                               "\"io\", \"variants\": [], \"published\": 0}]}"), 0);
    assert_null(lr_published_load(f->dir, err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pairs_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_markdown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_only_has_no_section, setup, teardown),
        cmocka_unit_test_setup_teardown(test_python_alone_has_no_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema1_renders_as_before, setup, teardown),
        cmocka_unit_test(test_study_file),
        cmocka_unit_test_setup_teardown(test_study_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
