#include "rate_md.h"

#include <math.h>

#include "charts.h"
#include "format.h"
#include "jsonutil.h"
#include "stats.h"

static const char intro[] =
    "## Latency against offered load\n\n"
    "Each variant at each offered rate, an open loop: loadgen sends on a schedule whatever "
    "the answers, over at most c connections. expected = min(rate, the ceiling at c): what "
    "the variant can serve at that rate. p50 and p99 count from each request's planned "
    "send, so a server that stalls cannot hide the wait (coordinated omission); p99 "
    "uncorrected counts from the actual send, as a closed loop would. late: requests "
    "planned but never sent by the load's end (every connection was busy). While a "
    "variant keeps up, rps follows the rate and p99 stays near the delay; past its "
    "ceiling requests queue, and the corrected p99 grows with the run's length while the "
    "uncorrected one may not: latency-vs-rate.svg draws the p99 column.\n\n"
    "| variant | offered rate | rps | expected | p50 | p99 | p99 uncorrected | late | "
    "failures |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";

static void median_cell(lr_buf_t *b, const json_t *row, const char *key, enum lr_fmt kind)
{
    char num[LR_FMT_MAX];
    lr_buf_printf(b, " %s |",
                  lr_fmt(num, lr_stat_from_json(json_object_get(row, key)).median, kind));
}

static void rate_line(lr_buf_t *b, const json_t *row)
{
    char num[LR_FMT_MAX];
    const char *variant = lr_jstr_get(row, "variant");
    lr_buf_puts(b, "| `");
    lr_buf_cell(b, variant ? variant : "?");
    lr_buf_printf(b, "` | %s |", lr_fmt(num, lr_jnum_get(row, "rate"), LR_FMT_PLAIN));
    if (lr_jnum_get(row, "runs") > 0)
        median_cell(b, row, "rps", LR_FMT_RPS);
    else
        lr_buf_puts(b, " no run |");
    lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(row, "ceiling_rps"), LR_FMT_RPS));
    median_cell(b, row, "p50_ms", LR_FMT_MS);
    median_cell(b, row, "p99_ms", LR_FMT_MS);
    median_cell(b, row, "p99_uncorrected_ms", LR_FMT_MS);
    median_cell(b, row, "late", LR_FMT_COUNT);
    median_cell(b, row, "failures", LR_FMT_COUNT);
    lr_buf_puts(b, "\n");
}

void lr_markdown_rate(lr_buf_t *b, const json_t *report)
{
    if (!lr_report_is_rate_sweep(report))
        return;
    lr_buf_puts(b, intro);
    size_t i;
    const json_t *row;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        if (lr_jnum_get(row, "rate") > 0)
            rate_line(b, row);
    }
    lr_buf_puts(b, "\n");
}
