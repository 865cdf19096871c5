/* labreport/run_chart.c and its use by runmd.c: a run's series drawn as
 * <base>.latency.svg and linked from its .md. `run` never replaces the
 * chart (nor the .md); `report` draws both again, byte for byte; a report
 * without series gets neither chart nor section. The open loop fixture is
 * lib/run_report.c's (tests/fixtures/run_report). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "labreport.h"
#include "labreport_fixture.h"
#include "run_chart.h"
#include "runmd.h"

#define OPEN_FIXTURE "tests/fixtures/run_report/schema3_threadpool-50_io_open_steps.json"
#define BASE "20261201T090000Z_threadpool-50_io"

static json_t *open_run(void)
{
    json_error_t e;
    json_t *run = json_load_file(OPEN_FIXTURE, 0, &e);
    if (run == NULL)
        fail_msg("%s: %s (run from the repository's root)", OPEN_FIXTURE, e.text);
    return run;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The script: the title names the load; one data line per point; the
 * steps' edges dotted, the load's end dashed; in flight at the points'
 * ends on the right axis, with room above its 100. */
static void test_script(void **state)
{
    (void)state;
    json_t *run = open_run();
    assert_true(lr_run_chart_wanted(run));
    char *script = lr_run_chart_script(run, NULL, BASE ".latency.svg");
    assert_non_null(script);
    assert_memory_equal(script, "# " BASE ".latency.svg: ", strlen(BASE) + 15);
    assert_non_null(strstr(script, "set title \"threadpool-50 / io: open loop at 20, 40, 80 req/s "
                                   "(steps of 5 s each)\"\n"));
    assert_non_null(strstr(script, "set xrange [0:20]\n"));
    assert_non_null(strstr(script, "set y2range [0:110]\n"));
    assert_non_null(strstr(script, "set arrow from 5, graph 0 to 5, graph 1 nohead dt 3"));
    assert_non_null(strstr(script, "set arrow from 10, graph 0 to 10, graph 1 nohead dt 3"));
    assert_non_null(strstr(script, "set arrow from 15, graph 0 to 15, graph 1 nohead dt 2"));
    assert_non_null(strstr(script, "set label \"load's end\" at 15,"));
    assert_null(strstr(script, "warm-up's end"));
    /* Point 0: no response yet (NaN), 20 in flight at its end, t = 1. */
    assert_non_null(strstr(script, "$series << EOD\n 0.5 NaN NaN 0 20 1\n 1.5 1003.09 1004.63 "
                                   "20 20 2\n"));
    const char *data = strstr(script, "$series << EOD\n"), *end = strstr(script, "\nEOD\nplot ");
    assert_true(data != NULL && end != NULL && data < end);
    assert_int_equal(count(data, "\n ") - count(end, "\n "), 20);
    assert_non_null(strstr(script, "plot $series using 1:2 with linespoints"));
    assert_non_null(strstr(script, "$series using 6:5 axes x1y2 with lines"));
    free(script);
    json_decref(run);
}

/* A closed loop's series (no responses at all): its title says the
 * clients, the latency lines are left out (gnuplot would find no point),
 * the warm-up's end is marked. No series: nothing to draw. */
static void test_script_closed_without_latency(void **state)
{
    (void)state;
    json_t *run = lrf_run(3, "event-loop", 100, 0.0, 1000.0, 0);
    json_object_set_new(json_object_get(run, "config"), "warmup_s", json_real(2.0));
    assert_false(lr_run_chart_wanted(run));
    json_object_set_new(run, "series", json_pack("{s:f, s:[{s:f, s:f, s:n, s:n, s:i}]}",
                                                 "interval_s", 1.0, "points", "t_s", 0.0, "rps",
                                                 0.0, "p50_ms", "p99_ms", "in_flight", 100));
    assert_true(lr_run_chart_wanted(run));
    json_t *resources = json_pack("{s:f, s:[{s:f, s:i}, {s:f, s:i}]}", "kill_worker_every_s",
                                  4.0, "worker_kills", "at_s", 4.02, "pid", 11, "at_s", 8.1,
                                  "pid", 12);
    char *script = lr_run_chart_script(run, resources, "x.latency.svg");
    json_decref(resources);
    assert_non_null(strstr(script, "set title \"event-loop / io: closed loop, c=100\"\n"));
    /* Each kill a solid line; the first labelled. */
    assert_non_null(strstr(script, "set arrow from 4.02, graph 0 to 4.02, graph 1 nohead dt 1"));
    assert_non_null(strstr(script, "set arrow from 8.1, graph 0 to 8.1, graph 1 nohead dt 1"));
    assert_int_equal(count(script, "set label \"kill -9\""), 1);
    assert_non_null(strstr(script, "set label \"warm-up's end\" at 2,"));
    assert_non_null(strstr(script, "set label \"load's end\" at 32,"));
    assert_null(strstr(script, "using 1:2"));
    assert_null(strstr(script, "using 1:3"));
    assert_non_null(strstr(script, "plot $series using 1:4 axes x1y2"));
    free(script);
    json_decref(run);
}

static int gnuplot_missing(void) { return system("command -v gnuplot >/dev/null 2>&1") != 0; }

typedef struct {
    char dir[PATH_MAX];
    char json[PATH_MAX + 64];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = lrf_fixture_new(sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->json, sizeof f->json, "%s/" BASE ".json", f->dir);
    *state = f;
    return 0;
}

static void publish(const fixture_t *f)
{
    char err[LR_ERR_MAX] = "";
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    if (lr_runmd_publish(f->json, out, err, sizeof err) < 0)
        fail_msg("%s", err);
    fclose(out);
}

/* run: the chart and the .md linking it; again: both left as they are
 * (a changed chart stays changed); report: both drawn again, the same
 * bytes as the first time. */
static void test_publish_and_rebuild(void **state)
{
    if (gnuplot_missing())
        skip(); /* the chart needs gnuplot (Debian: gnuplot-nox) */
    fixture_t *f = *state;
    assert_int_equal(lrf_write_json(f->dir, BASE ".json", open_run()), 0);
    publish(f);
    size_t svg_len = 0, md_len = 0;
    char *svg = lrf_read(f->dir, BASE ".latency.svg", &svg_len);
    char *md = lrf_read(f->dir, BASE ".md", &md_len);
    assert_non_null(svg);
    assert_non_null(md);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(md, "\n## Over time\n\n![latency, ok rps and requests in flight over "
                               "time](" BASE ".latency.svg)\n"));
    assert_int_equal(lrf_write(f->dir, BASE ".latency.svg", "edited"), 0);
    publish(f);
    char *kept = lrf_read(f->dir, BASE ".latency.svg", NULL);
    assert_string_equal(kept, "edited");
    free(kept);
    char err[LR_ERR_MAX] = "";
    if (lr_runmd_rebuild(f->json, err, sizeof err) < 0)
        fail_msg("%s", err);
    size_t n = 0;
    char *again = lrf_read(f->dir, BASE ".latency.svg", &n);
    assert_true(n == svg_len && memcmp(again, svg, n) == 0);
    free(again);
    again = lrf_read(f->dir, BASE ".md", &n);
    assert_true(n == md_len && memcmp(again, md, n) == 0);
    free(again);
    free(svg);
    free(md);
}

/* Without series: no chart, no section, as before the open loop. */
static void test_no_series_no_chart(void **state)
{
    fixture_t *f = *state;
    json_t *run = open_run();
    json_object_del(run, "series");
    assert_int_equal(lrf_write_json(f->dir, BASE ".json", run), 0);
    publish(f);
    assert_null(lrf_read(f->dir, BASE ".latency.svg", NULL));
    char *md = lrf_read(f->dir, BASE ".md", NULL);
    assert_non_null(md);
    assert_null(strstr(md, "## Over time"));
    free(md);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_script),
        cmocka_unit_test(test_script_closed_without_latency),
        cmocka_unit_test_setup_teardown(test_publish_and_rebuild, setup, lrf_teardown),
        cmocka_unit_test_setup_teardown(test_no_series_no_chart, setup, lrf_teardown),
    };
    return cmocka_run_group_tests_name("labreport run chart", tests, NULL, NULL);
}
