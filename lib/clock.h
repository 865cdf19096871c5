/* Monotonic time for every measurement in the lab (never wall-clock). */
#ifndef LAB_CLOCK_H
#define LAB_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;
    /* CLOCK_MONOTONIC cannot fail with a valid pointer on Linux. */
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* now + ms on CLOCK_REALTIME: the clock of the pthread calls that take an
 * absolute deadline (pthread_timedjoin_np, pthread_cond_timedwait). For
 * bounding a wait only, never for measuring. */
static inline struct timespec clock_realtime_deadline(long ms)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = (long long)ts.tv_nsec + (long long)(ms % 1000) * (long long)NS_PER_MS;
    ts.tv_sec += (time_t)(ms / 1000 + ns / (long long)NS_PER_S);
    ts.tv_nsec = (long)(ns % (long long)NS_PER_S);
    return ts;
}

static inline double ns_to_ms(uint64_t ns) { return (double)ns / 1e6; }

#endif
