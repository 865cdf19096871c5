#include "pairs_md.h"

#include <math.h>

#include "format.h"
#include "jsonutil.h"
#include "run_report.h"

static const char intro[] =
    "## C and Python\n\n"
    "The classic study's configurations that this matrix ran both ways, at the same "
    "concurrency and settings: the lab's C variant and the study's own Python deployment. "
    "C/Python is the C figure over the Python one: above 1 for rps, C served more; below 1 "
    "for p99 and CPU ms/req, C answered sooner and spent less CPU per request. Python CPU % "
    "is the Python server's CPU time over its share of the machine while loadgen ran "
    "(cpu_seconds / (loadgen's wall_seconds \xc3\x97 CPUs) of its .server.json); "
    "**CPU-bound** at 75% or more: the "
    "interpreter's CPU, not the concurrency model, set that row's rate. classic rps: what "
    "the study published for the configuration (" LR_MISSING " where it published none: "
    "async-gevent-pywsgi is the row it left out).\n\n";

void lr_markdown_busy_cell(lr_buf_t *b, double busy)
{
    char num[LR_FMT_MAX];
    lr_buf_printf(b, " %s%s |", lr_fmt(num, busy, LR_FMT_PERCENT),
                  isfinite(busy) && busy >= RUN_REPORT_CPU_BOUND ? " **CPU-bound**" : "");
}

/* A side's figure (c or python) as a cell. */
static void side_cell(lr_buf_t *b, const json_t *pair, const char *side, const char *key,
                      enum lr_fmt kind)
{
    char num[LR_FMT_MAX];
    lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_at(pair, side, key), kind));
}

static void variant_cell(lr_buf_t *b, const json_t *pair, const char *side)
{
    const char *name = lr_jstr_get(json_object_get(pair, side), "variant");
    lr_buf_puts(b, " `");
    lr_buf_cell(b, name ? name : "?");
    lr_buf_puts(b, "` |");
}

static void text_cell(lr_buf_t *b, const char *s)
{
    lr_buf_puts(b, " ");
    lr_buf_cell(b, s ? s : LR_MISSING);
    lr_buf_puts(b, " |");
}

/* One figure of both sides and its ratio: C, Python, C/Python. */
static void trio(lr_buf_t *b, const json_t *pair, const char *key, enum lr_fmt kind)
{
    side_cell(b, pair, "c", key, kind);
    side_cell(b, pair, "python", key, kind);
    side_cell(b, pair, "c_over_python", key, LR_FMT_FACTOR);
}

static void pair_line(lr_buf_t *b, const json_t *pair, int sweep)
{
    char num[LR_FMT_MAX];
    lr_buf_puts(b, "|");
    text_cell(b, lr_jstr_get(pair, "alias"));
    text_cell(b, lr_jstr_get(pair, "config"));
    if (sweep)
        lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(pair, "concurrency"), LR_FMT_COUNT));
    variant_cell(b, pair, "c");
    side_cell(b, pair, "c", "rps", LR_FMT_RPS);
    variant_cell(b, pair, "python");
    side_cell(b, pair, "python", "rps", LR_FMT_RPS);
    side_cell(b, pair, "c_over_python", "rps", LR_FMT_FACTOR);
    trio(b, pair, "p99_ms", LR_FMT_MS);
    trio(b, pair, "server_cpu_ms_per_request", LR_FMT_CPU_MS);
    lr_markdown_busy_cell(b, lr_jnum_at(pair, "python", "server_busy"));
    lr_buf_printf(b, " %s |\n", lr_fmt(num, lr_jnum_get(pair, "published_rps"), LR_FMT_RPS));
}

/* 1 when the pairs hold more than one concurrency. */
static int pairs_sweep(const json_t *pairs)
{
    size_t i;
    const json_t *pair;
    json_array_foreach(pairs, i, pair) {
        if (lr_jnum_get(pair, "concurrency") !=
            lr_jnum_get(json_array_get(pairs, 0), "concurrency"))
            return 1;
    }
    return 0;
}

void lr_markdown_pairs(lr_buf_t *b, const json_t *report)
{
    const json_t *pairs = json_object_get(report, "pairs");
    if (json_array_size(pairs) == 0)
        return;
    int sweep = pairs_sweep(pairs);
    lr_buf_puts(b, intro);
    lr_buf_printf(b, "| classic | config |%s C variant | C rps | Python deployment | Python rps | "
                     "C/Python rps | C p99 | Python p99 | C/Python p99 | C CPU ms/req | "
                     "Python CPU ms/req | C/Python CPU ms/req | Python CPU %% | classic rps |\n",
                  sweep ? " c |" : "");
    lr_buf_printf(b, "|---|---|%s---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
                  sweep ? "---:|" : "");
    size_t i;
    const json_t *pair;
    json_array_foreach(pairs, i, pair)
        pair_line(b, pair, sweep);
    lr_buf_puts(b, "\n");
}
