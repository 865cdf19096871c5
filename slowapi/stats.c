/* slowapi's own account of how late its delayed answers are (GET /stats).
 *
 * Lateness is measured where it is made: from the deadline (parse time +
 * requested delay) to the moment the answer's write is issued. It leaves
 * out the network and the client, which a load generator's latency figure
 * includes, so the two together say whose fault a late answer is. */
#include "slowapi.h"

#include <stdio.h>

void stats_init(slowapi_stats_t *stats)
{
    histogram_reset(&stats->lateness_us);
    stats->answered = 0;
    stats->conns = 0;
    stats->peak_conns = 0;
}

void stats_record_lateness(slowapi_stats_t *stats, uint64_t late_ns)
{
    /* Rounded up: 0.2 us late counts as 1 us, never as on time. */
    histogram_record(&stats->lateness_us, (late_ns + 999) / 1000);
    stats->answered++;
}

void stats_conn_opened(slowapi_stats_t *stats)
{
    stats->conns++;
    if (stats->conns > stats->peak_conns)
        stats->peak_conns = stats->conns;
}

void stats_conn_closed(slowapi_stats_t *stats) { stats->conns--; }

int stats_format(const slowapi_stats_t *stats, char *buf, size_t cap)
{
    const histogram_t *h = &stats->lateness_us;
    int n = snprintf(buf, cap,
                     "{\"answered\":%llu,\"lateness_us\":{\"p50\":%llu,\"p99\":%llu,"
                     "\"p999\":%llu,\"max\":%llu},\"connections\":%zu,\"peak_connections\":%zu}",
                     (unsigned long long)stats->answered,
                     (unsigned long long)histogram_value_at(h, 500),
                     (unsigned long long)histogram_value_at(h, 990),
                     (unsigned long long)histogram_value_at(h, 999), (unsigned long long)h->max,
                     stats->conns, stats->peak_conns);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

void stats_reset(slowapi_stats_t *stats)
{
    histogram_reset(&stats->lateness_us);
    stats->answered = 0;
    stats->peak_conns = stats->conns;
}
