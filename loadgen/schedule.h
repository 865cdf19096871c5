/* The open loop's plan (--rate): when the run's k-th request is due, the
 * same for HTTP and gRPC. Each request has a planned send time fixed
 * before the run; a slow server cannot move it, so its stall shows in the
 * latencies counted from the plan (coordinated omission, wrk2). Worker t of
 * T takes the requests k = t, t + T, t + 2T, ...: the threads share the
 * rate evenly with no shared counter. */
#ifndef LOADGEN_SCHEDULE_H
#define LOADGEN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#define LG_RATE_STEPS_MAX 64
#define LG_RATE_TEXT_MAX 256
/* Higher rates are loadgen's own limit, not a server's (one request per
 * 1 us): a typo, not a plan. */
#define LG_RATE_MAX 1e6

typedef enum lg_rate_kind {
    LG_RATE_CONSTANT, /* --rate R */
    LG_RATE_RAMP,     /* --rate R0:R1:Ts: linear over T s, then R1 */
    LG_RATE_STEPS,    /* --rate R1,R2,... --step S: each rate for S s */
} lg_rate_kind_t;

typedef struct lg_schedule {
    lg_rate_kind_t kind;
    double rates[LG_RATE_STEPS_MAX]; /* constant: 1, ramp: from and to, steps: n */
    size_t count;
    double ramp_s;     /* ramp only */
    double step_s;     /* steps only */
    double duration_s; /* the plan's length (steps: n x step_s) */
    char text[LG_RATE_TEXT_MAX];
} lg_schedule_t;

/* Parse --rate text (with --step step_s, 0 when not given) for a run of
 * duration_s (< 0: not given; steps set it, a constant or a ramp needs
 * it). Returns 0 or -EINVAL with a message in err. */
int lg_schedule_parse(const char *text, double step_s, double duration_s, lg_schedule_t *out,
                      char *err, size_t err_len);

/* "constant", "ramp" or "steps". */
const char *lg_schedule_kind_name(const lg_schedule_t *s);

/* How many requests are planned before t_ns after the start: those k
 * whose lg_schedule_offset_ns is below it (about ceil(N(t)), N the
 * integral of the rate: request k is due when N reaches k). */
uint64_t lg_schedule_count(const lg_schedule_t *s, uint64_t t_ns);

/* When request k is due, in ns after the start; UINT64_MAX when it falls
 * at or past the plan's end. */
uint64_t lg_schedule_offset_ns(const lg_schedule_t *s, uint64_t k);

/* How many of the requests planned in [from_ns, to_ns) are worker t's
 * of threads, i.e. have k = t mod threads. */
uint64_t lg_schedule_count_for(const lg_schedule_t *s, uint64_t from_ns, uint64_t to_ns, long t,
                               long threads);

/* The mean offered rate over the plan: planned requests / duration. */
double lg_schedule_mean_rate(const lg_schedule_t *s);

/* The step (0..count-1) an offset falls in; 0 when the plan has no steps. */
size_t lg_schedule_step_of(const lg_schedule_t *s, uint64_t offset_ns);

#endif
