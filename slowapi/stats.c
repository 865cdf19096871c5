/* slowapi's own account of how late its delayed answers are (GET /stats).
 *
 * Lateness is measured where it is made: from the deadline (parse time +
 * requested delay) to the moment the answer's write is issued. It leaves
 * out the network and the client, which a load generator's latency figure
 * includes, so the two together say whose fault a late answer is.
 *
 * calls_total counts the same answers for the whole of slowapi: with
 * --workers each process has its own figures above, and a benchmark that
 * checks how many upstream calls its server made wants them all, from
 * whichever worker answers its GET /stats. */
#include "slowapi.h"

#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

stats_counter_t *stats_counter_new(void)
{
    void *mem = mmap(NULL, sizeof(stats_counter_t), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return NULL;
    stats_counter_t *counter = mem;
    atomic_init(counter, 0);
    return counter;
}

int stats_counter_free(stats_counter_t *counter)
{
    return munmap(counter, sizeof *counter) < 0 ? -errno : 0;
}

void stats_init(slowapi_stats_t *stats, stats_counter_t *calls_total)
{
    histogram_reset(&stats->lateness_us);
    stats->answered = 0;
    stats->conns = 0;
    stats->peak_conns = 0;
    stats->calls_total = calls_total;
}

void stats_record_lateness(slowapi_stats_t *stats, uint64_t late_ns)
{
    /* Rounded up: 0.2 us late counts as 1 us, never as on time. */
    histogram_record(&stats->lateness_us, (late_ns + 999) / 1000);
    stats->answered++;
    /* Sequentially consistent, the default: on x86-64 it is the same
     * locked add as a relaxed one, and a reader in another worker then
     * needs no argument about ordering to see every answer its client
     * has received. */
    atomic_fetch_add(stats->calls_total, 1);
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
    /* 248 bytes with every figure at its 20-digit most: within
     * ANSWER_BODY_MAX, so only a smaller cap fails. */
    int n = snprintf(buf, cap,
                     "{\"answered\":%llu,\"calls_total\":%llu,"
                     "\"lateness_us\":{\"p50\":%llu,\"p99\":%llu,\"p999\":%llu,\"max\":%llu},"
                     "\"connections\":%zu,\"peak_connections\":%zu}",
                     (unsigned long long)stats->answered,
                     (unsigned long long)atomic_load(stats->calls_total),
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
