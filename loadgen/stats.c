#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const lg_percentile_t lg_percentiles[LG_PERCENTILE_COUNT] = {
    {"50", 500}, {"60", 600}, {"70", 700}, {"80", 800},     {"90", 900},
    {"95", 950}, {"99", 990}, {"99.9", 999}, {"100", 1000},
};

const char *const lg_err_names[LG_ERR_KINDS] = {"connect", "read", "write", "parse"};

int stats_init(lg_stats_t *s, size_t samples_hint)
{
    memset(s, 0, sizeof *s);
    s->min_ns = UINT64_MAX;
    if (samples_hint == 0)
        return 0;
    s->samples_ns = malloc(samples_hint * sizeof *s->samples_ns);
    if (s->samples_ns == NULL)
        return -ENOMEM;
    s->cap = samples_hint;
    return 0;
}

void stats_free(lg_stats_t *s)
{
    free(s->samples_ns);
    s->samples_ns = NULL;
    s->count = s->cap = 0;
}

/* Make room for extra more samples: the capacity doubles, so appending is
 * amortised O(1) and never a per-request malloc. */
static int stats_reserve(lg_stats_t *s, size_t extra)
{
    if (s->cap - s->count >= extra)
        return 0;
    size_t need = s->count + extra;
    if (need < s->count)
        return -ENOMEM;
    size_t cap = s->cap ? s->cap : 1024;
    while (cap < need) {
        if (cap > SIZE_MAX / 2 / sizeof *s->samples_ns)
            return -ENOMEM;
        cap *= 2;
    }
    uint64_t *p = realloc(s->samples_ns, cap * sizeof *p);
    if (p == NULL)
        return -ENOMEM;
    s->samples_ns = p;
    s->cap = cap;
    return 0;
}

void stats_issue(lg_stats_t *s, int in_warmup)
{
    if (in_warmup)
        s->buckets.warmup_excluded++;
    else
        s->buckets.issued++;
}

void stats_end(lg_stats_t *s, int in_warmup, enum lg_outcome outcome, int status,
               uint64_t latency_ns)
{
    lg_buckets_t *b = &s->buckets;
    if (in_warmup) {
        /* Only counted as an answer, for the upstream check. */
        if (outcome == LG_OUTCOME_RESPONSE)
            b->warmup_responses++;
        return;
    }
    switch (outcome) {
    case LG_OUTCOME_RESPONSE:
        if (status >= 200 && status <= 299)
            b->ok++;
        else
            b->http_status[status > 0 && status < LG_STATUS_MAX ? status : 0]++;
        if (s->count == s->cap && stats_reserve(s, 1) < 0) {
            s->samples_dropped++;
        } else {
            s->samples_ns[s->count++] = latency_ns;
        }
        /* min/max/mean include a dropped sample: they need no memory. */
        s->sum_ns += latency_ns;
        if (latency_ns < s->min_ns)
            s->min_ns = latency_ns;
        if (latency_ns > s->max_ns)
            s->max_ns = latency_ns;
        break;
    case LG_OUTCOME_TIMEOUT:
        b->timeouts++;
        break;
    case LG_OUTCOME_UNFINISHED:
        b->unfinished++;
        break;
    case LG_OUTCOME_ERR_CONNECT:
    case LG_OUTCOME_ERR_READ:
    case LG_OUTCOME_ERR_WRITE:
    case LG_OUTCOME_ERR_PARSE:
        b->errors[LG_ERR_INDEX(outcome)]++;
        break;
    }
}

int stats_merge(lg_stats_t *dst, const lg_stats_t *src)
{
    if (src->count > 0) {
        if (stats_reserve(dst, src->count) < 0)
            return -ENOMEM;
        memcpy(dst->samples_ns + dst->count, src->samples_ns, src->count * sizeof *src->samples_ns);
        dst->count += src->count;
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
    d->warmup_excluded += b->warmup_excluded;
    d->warmup_responses += b->warmup_responses;
    dst->sum_ns += src->sum_ns;
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

void stats_sort(lg_stats_t *s)
{
    if (s->count > 1)
        qsort(s->samples_ns, s->count, sizeof *s->samples_ns, cmp_u64);
}

uint64_t stats_percentile_ns(const lg_stats_t *s, unsigned per_mille)
{
    /* rank = ceil(per_mille * n / 1000) in integers: no rounding surprise
     * at 99.9 (999 * 1000 / 1000 is exactly 999). */
    uint64_t n = s->count;
    uint64_t rank = ((uint64_t)per_mille * n + 999) / 1000;
    if (rank == 0)
        rank = 1;
    if (rank > n)
        rank = n;
    return s->samples_ns[rank - 1];
}

uint64_t buckets_http_errors(const lg_buckets_t *b)
{
    uint64_t sum = 0;
    for (int i = 0; i < LG_STATUS_MAX; i++)
        sum += b->http_status[i];
    return sum;
}

uint64_t buckets_conn_errors(const lg_buckets_t *b)
{
    uint64_t sum = 0;
    for (int i = 0; i < LG_ERR_KINDS; i++)
        sum += b->errors[i];
    return sum;
}

uint64_t buckets_failures(const lg_buckets_t *b)
{
    return buckets_http_errors(b) + b->timeouts + buckets_conn_errors(b);
}

uint64_t buckets_ended(const lg_buckets_t *b)
{
    return b->ok + buckets_failures(b) + b->unfinished;
}

int buckets_balanced(const lg_buckets_t *b) { return b->issued == buckets_ended(b); }

uint64_t stats_answered(const lg_stats_t *s)
{
    return s->count + s->samples_dropped + s->buckets.warmup_responses;
}
