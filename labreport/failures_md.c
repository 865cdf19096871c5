#include "failures_md.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "grpc_status.h"
#include "jsonutil.h"

static const char intro[] =
    "## Failures by kind\n\n"
    "Every request that did not end ok, in its bucket, summed over a point's repeats: "
    "by status (HTTP, or gRPC's code for the gRPC variants: 14 UNAVAILABLE where HTTP "
    "answers 502, 4 DEADLINE_EXCEEDED where it answers 504), loadgen's timeouts, "
    "connection errors by kind, and requests still unfinished when the drain ended. "
    "/healthz: with slow clients, the p99 of a GET /healthz on a new connection every "
    "200 ms beside them, and its probes that got no 200 within 5 s. Each run's report "
    "says what its scenario should do to the model (its Scenario section).\n\n"
    "| variant | c | issued | by status | timeouts | connect | read | write | parse | "
    "unfinished | /healthz p99 | /healthz failed |\n"
    "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";

static long long count_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* 1 when the row failed a request or had slow clients. */
static int worth_a_line(const json_t *kinds)
{
    static const char *const keys[] = {"timeouts", "connect", "read", "write", "parse",
                                       "unfinished"};
    if (json_object_size(json_object_get(kinds, "http")) > 0 ||
        json_is_number(json_object_get(kinds, "healthz_probes")))
        return 1;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (count_of(kinds, keys[i]) > 0)
            return 1;
    return 0;
}

static int cmp_code(const void *a, const void *b)
{
    return atoi(*(const char *const *)a) - atoi(*(const char *const *)b);
}

/* "502: 148, 504: 36" (gRPC: "14 UNAVAILABLE: 782"), codes in numeric
 * order; "-" when none. */
static void status_cell(lr_buf_t *b, const json_t *http, int grpc)
{
    const char *codes[64];
    size_t n = 0;
    const char *code;
    const json_t *v;
    json_object_foreach((json_t *)http, code, v)
        if (n < sizeof codes / sizeof codes[0])
            codes[n++] = code;
    qsort(codes, n, sizeof codes[0], cmp_code);
    lr_buf_puts(b, " ");
    for (size_t i = 0; i < n; i++)
        lr_buf_printf(b, "%s%s%s%s: %lld", i ? ", " : "", codes[i], grpc ? " " : "",
                      grpc ? grpc_status_name(atoi(codes[i])) : "", count_of(http, codes[i]));
    lr_buf_puts(b, n ? " |" : "- |");
}

static void count_cell(lr_buf_t *b, const json_t *kinds, const char *key)
{
    lr_buf_printf(b, " %lld |", count_of(kinds, key));
}

void lr_markdown_failures(lr_buf_t *b, const json_t *report)
{
    size_t i;
    const json_t *row;
    int any = 0;
    json_array_foreach(json_object_get(report, "rows"), i, row) {
        const json_t *kinds = json_object_get(row, "failures_by_kind");
        if (!json_is_object(kinds) || !worth_a_line(kinds))
            continue;
        if (!any++)
            lr_buf_puts(b, intro);
        char num[LR_FMT_MAX];
        lr_buf_printf(b, "| `%s` | %s | %lld |",
                      lr_jstr_get(row, "variant") ? lr_jstr_get(row, "variant") : "?",
                      lr_fmt(num, lr_jnum_get(row, "concurrency"), LR_FMT_COUNT),
                      count_of(kinds, "issued"));
        const char *protocol = lr_jstr_get(kinds, "protocol");
        status_cell(b, json_object_get(kinds, "http"), protocol && strcmp(protocol, "grpc") == 0);
        static const char *const keys[] = {"timeouts", "connect", "read", "write", "parse",
                                           "unfinished"};
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            count_cell(b, kinds, keys[k]);
        lr_buf_printf(b, " %s |", lr_fmt(num, lr_jnum_get(kinds, "healthz_p99_ms"), LR_FMT_MS));
        if (json_is_integer(json_object_get(kinds, "healthz_probes")))
            lr_buf_printf(b, " %lld of %lld |\n", count_of(kinds, "healthz_failed"),
                          count_of(kinds, "healthz_probes"));
        else
            lr_buf_puts(b, " - |\n");
    }
    if (any)
        lr_buf_puts(b, "\n");
}
