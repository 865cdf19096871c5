/* The report's parts derived from the samples after the run (report.h):
 * the per-second series, the steps, the percentile spectrum and the send
 * lag. Every figure is counted from the same samples as the totals, so the
 * series' columns add up to them (docs/REPORT.md). */
#include <stdlib.h>

#include "latency_spectrum.h"
#include "percentile.h"
#include "report.h"
#include "stats.h"

#define SERIES_INTERVAL_NS NS_PER_S
/* The steps' percentiles: fewer than the run's, to keep a table readable. */
static const lg_percentile_t step_percentiles[] = {
    {"50", 500}, {"90", 900}, {"99", 990}, {"99.9", 999}, {"100", 1000},
};
#define STEP_PERCENTILES (sizeof step_percentiles / sizeof step_percentiles[0])

/* One response's latency, tagged with the bin it falls in (a second, a
 * step), sorted by bin then value so each bin's values are a sorted run. */
typedef struct tagged {
    uint64_t bin;
    uint64_t value;
} tagged_t;

static int cmp_tagged(const void *a, const void *b)
{
    const tagged_t *x = a, *y = b;
    if (x->bin != y->bin)
        return (x->bin > y->bin) - (x->bin < y->bin);
    return (x->value > y->value) - (x->value < y->value);
}

static uint64_t bin_of(int64_t t_ns) { return t_ns > 0 ? (uint64_t)t_ns / SERIES_INTERVAL_NS : 0; }

/* The last moment any counted sample records (its end, or a late one's
 * plan), in ns after the start. */
static int64_t samples_last_ns(const lg_stats_t *s)
{
    int64_t last = 0;
    for (size_t i = 0; i < s->sample_count; i++) {
        const lab_sample_t *x = &s->samples[i];
        int64_t t = x->sent_ns >= 0 ? x->end_ns : x->planned_ns;
        if (!x->warmup && t > last)
            last = t;
    }
    return last;
}

/* The per-second counts of one point. */
typedef struct point {
    uint64_t issued, ok, http, timeouts, late, unfinished;
    uint64_t errors[LG_ERR_KINDS];
    int64_t in_flight_delta; /* sent minus ended in this second */
} point_t;

static void series_count(const lg_stats_t *s, point_t *pts, size_t n, tagged_t *lat, size_t *nlat)
{
    for (size_t i = 0; i < s->sample_count; i++) {
        const lab_sample_t *x = &s->samples[i];
        if (x->warmup)
            continue;
        if (x->bucket == LAB_BUCKET_LATE) {
            pts[bin_of(x->planned_ns) < n ? bin_of(x->planned_ns) : n - 1].late++;
            continue;
        }
        point_t *sent = &pts[bin_of(x->sent_ns) < n ? bin_of(x->sent_ns) : n - 1];
        point_t *end = &pts[bin_of(x->end_ns) < n ? bin_of(x->end_ns) : n - 1];
        sent->issued++;
        sent->in_flight_delta++;
        end->in_flight_delta--;
        switch (x->bucket) {
        case LAB_BUCKET_OK:
            end->ok++;
            break;
        case LAB_BUCKET_HTTP:
            end->http++;
            break;
        case LAB_BUCKET_TIMEOUT:
            end->timeouts++;
            break;
        case LAB_BUCKET_UNFINISHED:
            end->unfinished++;
            break;
        default:
            end->errors[x->bucket - LAB_BUCKET_CONNECT]++;
            break;
        }
        if (lab_sample_is_response(x))
            lat[(*nlat)++] = (tagged_t){bin_of(x->end_ns), (uint64_t)lab_sample_corrected_ns(x)};
    }
}

/* How many values bin b has from index at on: its sorted run (the values
 * are sorted by bin, then value). */
static size_t bin_run(const tagged_t *lat, size_t nlat, size_t at, uint64_t b)
{
    size_t end = at;
    while (end < nlat && lat[end].bin == b)
        end++;
    return end - at;
}

static double run_percentile_ms(const tagged_t *run, size_t n, unsigned per_mille)
{
    return (double)run[lab_nearest_rank(n, per_mille) - 1].value / 1e6;
}

static json_t *series_point(const point_t *p, uint64_t t, int64_t in_flight, const tagged_t *run,
                            size_t nrun, int *failed)
{
    json_t *o = json_object(), *errors = json_object();
    if (o == NULL || errors == NULL) {
        json_decref(o);
        json_decref(errors);
        *failed = 1;
        return NULL;
    }
    for (int k = 0; k < LG_ERR_KINDS; k++)
        lg_jset(errors, lg_err_names[k], lg_jint(p->errors[k]), failed);
    lg_jset(o, "t_s", lg_jnum((double)t * SERIES_INTERVAL_NS / 1e9, 3), failed);
    lg_jset(o, "issued", lg_jint(p->issued), failed);
    lg_jset(o, "ok", lg_jint(p->ok), failed);
    lg_jset(o, "http_errors", lg_jint(p->http), failed);
    lg_jset(o, "timeouts", lg_jint(p->timeouts), failed);
    lg_jset(o, "errors", errors, failed);
    lg_jset(o, "late", lg_jint(p->late), failed);
    lg_jset(o, "unfinished", lg_jint(p->unfinished), failed);
    lg_jset(o, "rps", lg_jnum((double)p->ok * 1e9 / SERIES_INTERVAL_NS, 3), failed);
    lg_jset(o, "p50_ms", nrun ? lg_jnum(run_percentile_ms(run, nrun, 500), 3) : json_null(),
            failed);
    lg_jset(o, "p99_ms", nrun ? lg_jnum(run_percentile_ms(run, nrun, 990), 3) : json_null(),
            failed);
    lg_jset(o, "in_flight", json_integer(in_flight), failed);
    return o;
}

json_t *lg_report_series_json(const lg_result_t *r, int *failed)
{
    const lg_stats_t *s = r->stats;
    size_t n = (size_t)bin_of(samples_last_ns(s)) + 1;
    point_t *pts = calloc(n, sizeof *pts);
    tagged_t *lat = malloc((s->sample_count ? s->sample_count : 1) * sizeof *lat);
    json_t *o = json_object(), *points = json_array();
    if (pts == NULL || lat == NULL || o == NULL || points == NULL)
        goto oom;
    size_t nlat = 0;
    series_count(s, pts, n, lat, &nlat);
    qsort(lat, nlat, sizeof *lat, cmp_tagged);
    int64_t in_flight = 0;
    size_t at = 0;
    for (size_t b = 0; b < n; b++) {
        in_flight += pts[b].in_flight_delta;
        size_t nrun = bin_run(lat, nlat, at, b);
        json_t *p = series_point(&pts[b], b, in_flight, lat + at, nrun, failed);
        at += nrun;
        if (p == NULL || json_array_append_new(points, p) < 0)
            goto oom;
    }
    lg_jset(o, "interval_s", lg_jnum((double)SERIES_INTERVAL_NS / 1e9, 3), failed);
    lg_jset(o, "points", points, failed);
    free(pts);
    free(lat);
    return o;
oom:
    *failed = 1;
    free(pts);
    free(lat);
    json_decref(o);
    json_decref(points);
    return NULL;
}

/* The counts of one step (requests by their planned time). */
typedef struct step {
    uint64_t planned, issued, late, ok, failures;
} step_t;

static json_t *step_percentiles_json(const tagged_t *run, size_t n, int *failed)
{
    if (n == 0)
        return json_null();
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < STEP_PERCENTILES; i++)
        lg_jset(o, step_percentiles[i].label,
                lg_jnum(run_percentile_ms(run, n, step_percentiles[i].per_mille), 3), failed);
    return o;
}

static json_t *step_json(const lg_result_t *r, size_t i, const step_t *st, double closed_rps,
                         const tagged_t *cor, const tagged_t *unc, size_t nrun, int *failed)
{
    const lg_schedule_t *sch = &r->cfg->schedule;
    double rate = sch->rates[i];
    json_t *o = json_object();
    if (o == NULL) {
        *failed = 1;
        return NULL;
    }
    double expected = closed_rps > 0 && closed_rps < rate ? closed_rps : rate;
    lg_jset(o, "index", json_integer((json_int_t)i), failed);
    lg_jset(o, "rate", lg_jnum(rate, 3), failed);
    lg_jset(o, "start_s", lg_jnum((double)i * sch->step_s, 3), failed);
    lg_jset(o, "end_s", lg_jnum((double)(i + 1) * sch->step_s, 3), failed);
    lg_jset(o, "planned", lg_jint(st->planned), failed);
    lg_jset(o, "issued", lg_jint(st->issued), failed);
    lg_jset(o, "late", lg_jint(st->late), failed);
    lg_jset(o, "ok", lg_jint(st->ok), failed);
    lg_jset(o, "failures", lg_jint(st->failures), failed);
    lg_jset(o, "rps", lg_jnum((double)st->ok / sch->step_s, 3), failed);
    lg_jset(o, "expected_rps", closed_rps > 0 ? lg_jnum(expected, 3) : json_null(), failed);
    lg_jset(o, "percentiles_ms", step_percentiles_json(cor, nrun, failed), failed);
    lg_jset(o, "percentiles_uncorrected_ms", step_percentiles_json(unc, nrun, failed), failed);
    return o;
}

static void steps_count(const lg_result_t *r, step_t *st, tagged_t *cor, tagged_t *unc,
                        size_t *nlat)
{
    const lg_stats_t *s = r->stats;
    for (size_t i = 0; i < s->sample_count; i++) {
        const lab_sample_t *x = &s->samples[i];
        if (x->warmup)
            continue;
        size_t k = lg_schedule_step_of(&r->cfg->schedule, (uint64_t)x->planned_ns);
        st[k].planned++;
        if (x->bucket == LAB_BUCKET_LATE) {
            st[k].late++;
            continue;
        }
        st[k].issued++;
        if (x->bucket == LAB_BUCKET_OK)
            st[k].ok++;
        else if (x->bucket != LAB_BUCKET_UNFINISHED)
            st[k].failures++;
        if (lab_sample_is_response(x)) {
            cor[*nlat] = (tagged_t){k, (uint64_t)lab_sample_corrected_ns(x)};
            unc[(*nlat)++] = (tagged_t){k, (uint64_t)lab_sample_uncorrected_ns(x)};
        }
    }
}

json_t *lg_report_steps_json(const lg_result_t *r, double closed_rps, int *failed)
{
    const lg_config_t *cfg = r->cfg;
    if (cfg->rate_text == NULL || cfg->schedule.kind != LG_RATE_STEPS)
        return json_null();
    size_t n = cfg->schedule.count, cap = r->stats->sample_count ? r->stats->sample_count : 1;
    step_t *st = calloc(n, sizeof *st);
    tagged_t *cor = malloc(cap * sizeof *cor), *unc = malloc(cap * sizeof *unc);
    json_t *steps = json_array();
    if (st == NULL || cor == NULL || unc == NULL || steps == NULL)
        goto oom;
    size_t nlat = 0;
    steps_count(r, st, cor, unc, &nlat);
    qsort(cor, nlat, sizeof *cor, cmp_tagged);
    qsort(unc, nlat, sizeof *unc, cmp_tagged);
    for (size_t i = 0, at = 0; i < n; i++) {
        size_t nrun = bin_run(cor, nlat, at, i);
        json_t *o = step_json(r, i, &st[i], closed_rps, cor + at, unc + at, nrun, failed);
        at += nrun;
        if (o == NULL || json_array_append_new(steps, o) < 0)
            goto oom;
    }
    free(st);
    free(cor);
    free(unc);
    return steps;
oom:
    *failed = 1;
    free(st);
    free(cor);
    free(unc);
    json_decref(steps);
    return NULL;
}

json_t *lg_report_spectrum_json(const lg_result_t *r, int *failed)
{
    const lg_stats_t *s = r->stats;
    if (s->latency_count == 0)
        return json_null();
    size_t n = latency_spectrum_rows(s->latency_ns, s->latency_count, NULL, 0);
    latency_spectrum_row_t *rows = malloc(n * sizeof *rows);
    json_t *a = json_array();
    if (rows == NULL || a == NULL)
        goto oom;
    latency_spectrum_rows(s->latency_ns, s->latency_count, rows, n);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_object();
        if (o == NULL || json_array_append_new(a, o) < 0)
            goto oom;
        lg_jset(o, "percentile", lg_jnum(rows[i].percentile, 6), failed);
        lg_jset(o, "ms", lg_jnum((double)rows[i].value / 1e6, 3), failed);
        lg_jset(o, "count", lg_jint(rows[i].count), failed);
    }
    free(rows);
    return a;
oom:
    *failed = 1;
    free(rows);
    json_decref(a);
    return NULL;
}

json_t *lg_report_send_lag_json(const lg_result_t *r, int *failed)
{
    const lg_stats_t *s = r->stats;
    if (r->cfg->rate_text == NULL)
        return json_null();
    uint64_t *lag = malloc((s->sample_count ? s->sample_count : 1) * sizeof *lag);
    json_t *o = json_object();
    if (lag == NULL || o == NULL) {
        free(lag);
        json_decref(o);
        *failed = 1;
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < s->sample_count; i++) {
        const lab_sample_t *x = &s->samples[i];
        if (!x->warmup && x->sent_ns >= 0)
            lag[n++] = (uint64_t)(x->sent_ns - x->planned_ns);
    }
    lg_sort_u64(lag, n);
    static const lg_percentile_t lag_percentiles[] = {{"50", 500}, {"99", 990}, {"99.9", 999},
                                                      {"100", 1000}};
    for (size_t i = 0; i < sizeof lag_percentiles / sizeof lag_percentiles[0]; i++)
        lg_jset(o, lag_percentiles[i].label,
                n ? lg_jnum((double)lg_percentile_of(lag, n, lag_percentiles[i].per_mille) / 1e6,
                            3)
                  : json_null(),
                failed);
    free(lag);
    return o;
}
