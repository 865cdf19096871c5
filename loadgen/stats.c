#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "percentile.h"

const lg_percentile_t lg_percentiles[LG_PERCENTILE_COUNT] = {
    {"50", 500}, {"60", 600}, {"70", 700}, {"80", 800},     {"90", 900},
    {"95", 950}, {"99", 990}, {"99.9", 999}, {"100", 1000},
};

const char *const lg_err_names[LG_ERR_KINDS] = {"connect", "read", "write", "parse"};

int lg_stats_init(lg_stats_t *s, size_t samples_hint)
{
    memset(s, 0, sizeof *s);
    s->min_ns = UINT64_MAX;
    if (samples_hint == 0)
        return 0;
    s->samples = malloc(samples_hint * sizeof *s->samples);
    if (s->samples == NULL)
        return -ENOMEM;
    s->sample_cap = samples_hint;
    return 0;
}

void lg_stats_free(lg_stats_t *s)
{
    free(s->samples);
    free(s->latency_ns);
    free(s->uncorrected_ns);
    s->samples = NULL;
    s->latency_ns = s->uncorrected_ns = NULL;
    s->sample_count = s->sample_cap = s->latency_count = 0;
}

/* Make room for extra more samples: the capacity doubles, so appending is
 * amortised O(1) and never a per-request malloc. */
static int stats_reserve(lg_stats_t *s, size_t extra)
{
    if (s->sample_cap - s->sample_count >= extra)
        return 0;
    size_t need = s->sample_count + extra;
    if (need < s->sample_count)
        return -ENOMEM;
    size_t cap = s->sample_cap ? s->sample_cap : 1024;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof *s->samples)
            return -ENOMEM;
        cap *= 2;
    }
    lab_sample_t *p = realloc(s->samples, cap * sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    s->samples = p;
    s->sample_cap = cap;
    return 0;
}

static void stats_keep(lg_stats_t *s, const lab_sample_t *sample)
{
    if (s->sample_count == s->sample_cap && stats_reserve(s, 1) < 0)
        s->samples_dropped++;
    else
        s->samples[s->sample_count++] = *sample;
}

void lg_stats_issue(lg_stats_t *s, int in_warmup)
{
    if (in_warmup)
        s->buckets.warmup_excluded++;
    else
        s->buckets.issued++;
}

static enum lab_bucket bucket_of(enum lg_outcome outcome, int status)
{
    switch (outcome) {
    case LG_OUTCOME_RESPONSE:
        return status >= 200 && status <= 299 ? LAB_BUCKET_OK : LAB_BUCKET_HTTP;
    case LG_OUTCOME_TIMEOUT:
        return LAB_BUCKET_TIMEOUT;
    case LG_OUTCOME_UNFINISHED:
        return LAB_BUCKET_UNFINISHED;
    case LG_OUTCOME_ERR_CONNECT:
        return LAB_BUCKET_CONNECT;
    case LG_OUTCOME_ERR_READ:
        return LAB_BUCKET_READ;
    case LG_OUTCOME_ERR_WRITE:
        return LAB_BUCKET_WRITE;
    case LG_OUTCOME_ERR_PARSE:
        break;
    }
    return LAB_BUCKET_PARSE;
}

/* A counted response: its latencies, kept as they end. */
static void stats_response(lg_stats_t *s, const lg_req_t *r, uint64_t end_ns)
{
    uint64_t latency = end_ns - r->planned_ns;
    s->count++;
    s->sum_ns += latency;
    s->sum_uncorrected_ns += end_ns - r->sent_ns;
    if (latency < s->min_ns)
        s->min_ns = latency;
    if (latency > s->max_ns)
        s->max_ns = latency;
}

void lg_stats_end(lg_stats_t *s, const lg_req_t *r, enum lg_outcome outcome, int status,
               uint64_t end_ns)
{
    lg_buckets_t *b = &s->buckets;
    enum lab_bucket bucket = bucket_of(outcome, status);
    lab_sample_t sample = {
        .planned_ns = (int64_t)r->planned_ns,
        .sent_ns = (int64_t)r->sent_ns,
        .end_ns = (int64_t)end_ns,
        .status = outcome == LG_OUTCOME_RESPONSE && status > 0 && status < 65536 ? (uint16_t)status
                                                                                 : 0,
        .bucket = (uint8_t)bucket,
        .warmup = (uint8_t)(r->in_warmup != 0),
    };
    stats_keep(s, &sample);
    if (r->in_warmup) {
        /* Only counted as an answer, for the upstream check. */
        if (outcome == LG_OUTCOME_RESPONSE)
            b->warmup_responses++;
        return;
    }
    switch (bucket) {
    case LAB_BUCKET_OK:
        b->ok++;
        stats_response(s, r, end_ns);
        break;
    case LAB_BUCKET_HTTP:
        b->http_status[status > 0 && status < LG_STATUS_MAX ? status : 0]++;
        stats_response(s, r, end_ns);
        break;
    case LAB_BUCKET_TIMEOUT:
        b->timeouts++;
        break;
    case LAB_BUCKET_UNFINISHED:
        b->unfinished++;
        break;
    default:
        b->errors[LG_ERR_INDEX(outcome)]++;
        break;
    }
}

void lg_stats_late(lg_stats_t *s, uint64_t planned_ns, int in_warmup)
{
    lab_sample_t sample = {
        .planned_ns = (int64_t)planned_ns,
        .sent_ns = -1,
        .end_ns = -1,
        .bucket = LAB_BUCKET_LATE,
        .warmup = (uint8_t)(in_warmup != 0),
    };
    stats_keep(s, &sample);
    if (in_warmup)
        s->buckets.warmup_excluded++;
    else
        s->buckets.late++;
}

int lg_stats_merge(lg_stats_t *dst, const lg_stats_t *src)
{
    if (src->sample_count > 0) {
        if (stats_reserve(dst, src->sample_count) < 0)
            return -ENOMEM;
        memcpy(dst->samples + dst->sample_count, src->samples,
               src->sample_count * sizeof *src->samples);
        dst->sample_count += src->sample_count;
    }
    lg_buckets_t *d = &dst->buckets;
    const lg_buckets_t *b = &src->buckets;
    d->issued += b->issued;
    d->ok += b->ok;
    for (int i = 0; i < LG_STATUS_MAX; i++)
        d->http_status[i] += b->http_status[i];
    d->timeouts += b->timeouts;
    for (int i = 0; i < LG_ERR_KINDS; i++)
        d->errors[i] += b->errors[i];
    d->unfinished += b->unfinished;
    d->late += b->late;
    d->planned += b->planned;
    d->warmup_excluded += b->warmup_excluded;
    d->warmup_responses += b->warmup_responses;
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    dst->sum_uncorrected_ns += src->sum_uncorrected_ns;
    dst->ok_in_window += src->ok_in_window;
    dst->served_in_window += src->served_in_window;
    dst->edge_error += src->edge_error;
    dst->samples_dropped += src->samples_dropped;
    if (src->min_ns < dst->min_ns)
        dst->min_ns = src->min_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

void lg_sort_u64(uint64_t *v, size_t n) { qsort(v, n, sizeof *v, cmp_u64); }

int lg_stats_finish(lg_stats_t *s, uint64_t start_ns)
{
    size_t n = 0;
    for (size_t i = 0; i < s->sample_count; i++) {
        lab_sample_t *x = &s->samples[i];
        x->planned_ns -= (int64_t)start_ns;
        if (x->sent_ns >= 0) {
            x->sent_ns -= (int64_t)start_ns;
            x->end_ns -= (int64_t)start_ns;
        }
        n += !x->warmup && lab_sample_is_response(x);
    }
    free(s->latency_ns);
    free(s->uncorrected_ns);
    s->latency_ns = malloc((n ? n : 1) * sizeof *s->latency_ns);
    s->uncorrected_ns = malloc((n ? n : 1) * sizeof *s->uncorrected_ns);
    s->latency_count = 0;
    if (s->latency_ns == NULL || s->uncorrected_ns == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->sample_count; i++) {
        const lab_sample_t *x = &s->samples[i];
        if (x->warmup || !lab_sample_is_response(x))
            continue;
        s->latency_ns[s->latency_count] = (uint64_t)lab_sample_corrected_ns(x);
        s->uncorrected_ns[s->latency_count++] = (uint64_t)lab_sample_uncorrected_ns(x);
    }
    lg_sort_u64(s->latency_ns, n);
    lg_sort_u64(s->uncorrected_ns, n);
    return 0;
}

uint64_t lg_percentile_of(const uint64_t *sorted, size_t n, unsigned per_mille)
{
    return sorted[lab_nearest_rank(n, per_mille) - 1];
}

uint64_t lg_stats_percentile_ns(const lg_stats_t *s, unsigned per_mille)
{
    return lg_percentile_of(s->latency_ns, s->latency_count, per_mille);
}

uint64_t lg_stats_percentile_uncorrected_ns(const lg_stats_t *s, unsigned per_mille)
{
    return lg_percentile_of(s->uncorrected_ns, s->latency_count, per_mille);
}

uint64_t lg_buckets_http_errors(const lg_buckets_t *b)
{
    uint64_t sum = 0;
    for (int i = 0; i < LG_STATUS_MAX; i++)
        sum += b->http_status[i];
    return sum;
}

uint64_t lg_buckets_conn_errors(const lg_buckets_t *b)
{
    uint64_t sum = 0;
    for (int i = 0; i < LG_ERR_KINDS; i++)
        sum += b->errors[i];
    return sum;
}

uint64_t lg_buckets_failures(const lg_buckets_t *b)
{
    return lg_buckets_http_errors(b) + b->timeouts + lg_buckets_conn_errors(b);
}

uint64_t lg_buckets_ended(const lg_buckets_t *b)
{
    return b->ok + lg_buckets_failures(b) + b->unfinished;
}

int lg_buckets_balanced(const lg_buckets_t *b, int open_loop)
{
    return b->issued == lg_buckets_ended(b) && (!open_loop || b->issued + b->late == b->planned);
}

uint64_t lg_stats_answered(const lg_stats_t *s) { return s->count + s->buckets.warmup_responses; }
