#include "run_chart.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "buf.h"
#include "files.h"
#include "gnuplot.h"
#include "jsonutil.h"
#include "run_report.h"

#define CHART_WIDTH_PX 900
#define CHART_HEIGHT_PX 480
/* Latencies spanning more than this ratio get a log axis: a stalled
 * second's p99 would else flatten every other second's. */
#define LOG_Y_RATIO 20.0
/* Room above the highest value, so that no line runs along the frame. */
#define HEADROOM 1.1
/* Paul Tol's colours, as the matrix charts (charts.c). */
#define COLOUR_P50 "#4477AA"
#define COLOUR_P99 "#EE6677"
#define COLOUR_RPS "#228833"
#define COLOUR_IN_FLIGHT "#AA3377"
#define COLOUR_MARK "#444444"
#define COLOUR_STEP "#999999"
#define COLOUR_KILL "#CC3311"

/* The data block's columns: x (the point's middle), the figures, and the
 * point's end, where in_flight is counted. */
enum { COL_P50 = 2, COL_P99, COL_RPS, COL_IN_FLIGHT, COL_COUNT, COL_X_END = COL_COUNT };

static const json_t *points_of(const json_t *run)
{
    return json_object_get(json_object_get(run, "series"), "points");
}

int lr_run_chart_wanted(const json_t *run)
{
    return json_array_size(points_of(run)) > 0;
}

/* "threadpool-50 / io: open loop at 90 req/s (constant)"; a closed loop
 * says its clients. */
static void chart_title(lr_buf_t *b, const json_t *run)
{
    char load[256], title[512];
    const char *variant = lr_jstr_get(run, "variant"), *workload = lr_jstr_get(run, "workload");
    if (!run_report_load(run, load, sizeof load))
        snprintf(load, sizeof load, "closed loop, c=%.0f",
                 lr_jnum_at(run, "config", "concurrency"));
    snprintf(title, sizeof title, "%s / %s: %s", variant ? variant : "?",
             workload ? workload : "?", load);
    lr_buf_puts(b, "set title ");
    lr_gnuplot_string(b, title);
    lr_buf_puts(b, "\n");
}

/* The ranges of the values drawn: latency (left axis, positive values)
 * and the right axis' counts. */
typedef struct ranges {
    double lo, hi; /* NaN: no latency */
    double right;  /* the highest rps or in-flight count, 0 when none */
} ranges_t;

static void track(ranges_t *r, const double v[COL_COUNT])
{
    for (int k = COL_P50; k <= COL_P99; k++)
        if (v[k] > 0) {
            r->lo = isnan(r->lo) || v[k] < r->lo ? v[k] : r->lo;
            r->hi = isnan(r->hi) || v[k] > r->hi ? v[k] : r->hi;
        }
    for (int k = COL_RPS; k <= COL_IN_FLIGHT; k++)
        r->right = v[k] > r->right ? v[k] : r->right;
}

/* The data block, one line per point: x at the point's middle, p50, p99,
 * ok rps, in flight, the point's end; has[column] is set for each column
 * holding a number somewhere, r takes the values' ranges. Returns the x
 * axis' end (the last point's end). */
static double data_block(lr_buf_t *b, const json_t *run, int has[COL_COUNT], ranges_t *r)
{
    double interval = lr_jnum_at(run, "series", "interval_s"), end = 0;
    if (!(interval > 0))
        interval = 1;
    size_t i;
    const json_t *point;
    lr_buf_puts(b, "$series << EOD\n");
    json_array_foreach(points_of(run), i, point) {
        double t = lr_jnum_get(point, "t_s");
        double v[COL_COUNT] = {0, 0, lr_jnum_get(point, "p50_ms"), lr_jnum_get(point, "p99_ms"),
                               lr_jnum_get(point, "rps"), lr_jnum_get(point, "in_flight")};
        lr_gnuplot_num(b, t + interval / 2);
        for (int k = COL_P50; k < COL_COUNT; k++) {
            lr_gnuplot_num(b, v[k]);
            has[k] |= isfinite(v[k]);
        }
        lr_gnuplot_num(b, t + interval);
        track(r, v);
        lr_buf_puts(b, "\n");
        end = isfinite(t) && t + interval > end ? t + interval : end;
    }
    lr_buf_puts(b, "EOD\n");
    return end;
}

/* A vertical line at x across the plot, with an optional label by its
 * top. */
static void mark(lr_buf_t *b, double x, const char *dash, const char *colour, const char *label)
{
    if (!(x > 0))
        return;
    lr_buf_printf(b, "set arrow from %.6g, graph 0 to %.6g, graph 1 nohead dt %s lw 1.2 "
                     "lc rgb \"%s\" front\n", x, x, dash, colour);
    if (label != NULL)
        lr_buf_printf(b, "set label \"%s\" at %.6g, graph 0.97 right offset -0.5, 0 "
                         "tc rgb \"%s\" front\n", label, x, colour);
}

/* The load's end and the warm-up's (dashed), the steps' edges (dotted)
 * and the workers killed (solid), all in seconds since the run's start. */
static void marks(lr_buf_t *b, const json_t *run, const json_t *resources)
{
    double warmup = lr_jnum_at(run, "config", "warmup_s");
    double window = lr_jnum_at(run, "summary", "duration_s");
    size_t i;
    const json_t *step;
    json_array_foreach(json_object_get(run, "steps"), i, step) {
        if (i > 0)
            mark(b, lr_jnum_get(step, "start_s"), "3", COLOUR_STEP, NULL);
    }
    if (warmup > 0)
        mark(b, warmup, "2", COLOUR_MARK, "warm-up's end");
    if (isfinite(window))
        mark(b, (warmup > 0 ? warmup : 0) + window, "2", COLOUR_MARK, "load's end");
    const json_t *kill;
    json_array_foreach(resources ? json_object_get(resources, "worker_kills") : NULL, i, kill)
        mark(b, lr_jnum_get(kill, "at_s"), "1", COLOUR_KILL, i == 0 ? "kill -9" : NULL);
}

static void axes(lr_buf_t *b, double x_end, const ranges_t *r)
{
    lr_buf_printf(b, "set xrange [0:%.6g]\nset xlabel \"seconds since the start\"\n", x_end);
    lr_buf_puts(b, "set ylabel \"latency (ms)\"\nset y2label \"ok responses per second, "
                   "requests in flight\"\nset ytics nomirror\nset y2tics\n"
                   "set grid xtics ytics\nset key below horizontal\n");
    if (r->right > 0)
        lr_buf_printf(b, "set y2range [0:%.6g]\n", r->right * HEADROOM);
    else
        lr_buf_puts(b, "set y2range [0:*]\n");
    if (r->lo > 0 && r->hi / r->lo > LOG_Y_RATIO)
        lr_buf_printf(b, "set logscale y 10\nset yrange [%.6g:%.6g]\n", r->lo / HEADROOM,
                      r->hi * HEADROOM);
    else if (r->hi > 0)
        lr_buf_printf(b, "set yrange [0:%.6g]\n", r->hi * HEADROOM);
    else
        lr_buf_puts(b, "set yrange [0:*]\n");
}

/* One line of the plot command for column k, when it holds a number. */
static void series_line(lr_buf_t *b, int *shown, const int has[COL_COUNT], int k,
                        const char *style, const char *title)
{
    if (!has[k])
        return;
    lr_buf_printf(b, "%s$series using %d:%d %s title ", (*shown)++ ? ", \\\n     " : "plot ",
                  k == COL_IN_FLIGHT ? COL_X_END : 1, k, style);
    lr_gnuplot_string(b, title);
}

char *lr_run_chart_script(const json_t *run, const json_t *resources, const char *file)
{
    lr_buf_t b = LR_BUF_INIT, data = LR_BUF_INIT;
    int has[COL_COUNT] = {0}, shown = 0;
    ranges_t r = {NAN, NAN, 0};
    double x_end = data_block(&data, run, has, &r);
    lr_buf_puts(&b, "# ");
    for (const char *c = file; *c; c++)
        lr_buf_printf(&b, "%c", (unsigned char)*c < 0x20 ? ' ' : *c);
    lr_buf_puts(&b, ": drawn by labreport from the run's series (gnuplot this > the chart)\n");
    lr_gnuplot_svg_terminal(&b, CHART_WIDTH_PX, CHART_HEIGHT_PX);
    chart_title(&b, run);
    axes(&b, x_end, &r);
    marks(&b, run, resources);
    char *d = lr_buf_take(&data);
    lr_buf_puts(&b, d ? d : "");
    b.failed |= d == NULL;
    free(d);
    series_line(&b, &shown, has, COL_P50, "with linespoints pt 7 ps 0.4 lw 1.5 lc rgb \""
                COLOUR_P50 "\"", "p50 latency (ms)");
    series_line(&b, &shown, has, COL_P99, "with linespoints pt 7 ps 0.4 lw 1.5 lc rgb \""
                COLOUR_P99 "\"", "p99 latency (ms)");
    series_line(&b, &shown, has, COL_RPS, "axes x1y2 with lines lw 1.5 lc rgb \"" COLOUR_RPS
                "\"", "ok rps (right)");
    series_line(&b, &shown, has, COL_IN_FLIGHT, "axes x1y2 with lines lw 1.2 dt 4 lc rgb \""
                COLOUR_IN_FLIGHT "\"", "in flight (right)");
    lr_buf_puts(&b, "\n");
    return lr_buf_take(&b);
}

/* Draw into a temporary file beside path, then link it to path: an
 * existing chart is never replaced (-EEXIST), as a run's .md. */
static int draw_new(const char *path, const char *script, char *err, size_t err_len)
{
    char tmp[PATH_MAX];
    int fd = afile_temp_fd(path, tmp, sizeof tmp, err, err_len);
    if (fd < 0)
        return -1;
    (void)close(fd);
    int rc = lr_gnuplot_draw(tmp, script, err, err_len);
    if (rc == 0 && link(tmp, path) < 0) {
        rc = errno == EEXIST ? -EEXIST : -1;
        if (rc == -1)
            snprintf(err, err_len, "link(%s): %s", path, strerror(errno));
    }
    (void)unlink(tmp);
    return rc;
}

int lr_run_chart_write(const char *json_path, const json_t *run, const json_t *resources,
                       lr_run_chart_mode_t mode, char *name, size_t name_cap, char *err,
                       size_t err_len)
{
    char path[PATH_MAX];
    if (!lr_run_chart_wanted(run))
        return 0;
    if (lr_path_swap_json(path, sizeof path, json_path, LR_RUN_CHART_SUFFIX) < 0) {
        snprintf(err, err_len, "%s: a run report's name ends in .json", json_path);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    snprintf(name, name_cap, "%s", slash ? slash + 1 : path);
    if (mode == LR_RUN_CHART_CREATE && lr_is_file(path))
        return LR_RUN_CHART_KEPT;
    if (!lr_gnuplot_found()) {
        snprintf(err, err_len, "gnuplot is not in PATH, so %s was not drawn: install it "
                 "(Debian: apt-get install gnuplot-nox), then run `labreport report` on its "
                 "folder", path);
        return -1;
    }
    char *script = lr_run_chart_script(run, resources, name);
    if (script == NULL) {
        snprintf(err, err_len, "%s: out of memory", path);
        return -1;
    }
    int rc = mode == LR_RUN_CHART_REPLACE ? lr_gnuplot_draw(path, script, err, err_len)
                                          : draw_new(path, script, err, err_len);
    free(script);
    if (rc == -EEXIST)
        return LR_RUN_CHART_KEPT; /* another writer's, just made */
    if (rc < 0)
        return -1;
    return afile_sync_parent(path, err, err_len) < 0 ? -1 : LR_RUN_CHART_DRAWN;
}
