/* Faults slowapi injects, for the lab's fault scenarios: an error status,
 * a reset, an answer that never comes, and jitter on the delay, each at a
 * rate; for the whole process from FAULTS ("error=5%,reset=2%,hang=1%,
 * jitter=20%"), or per request by query (?delay=1&error=5&hang=1, the
 * same names in percent, over the process's). Drawn from a seeded
 * generator (FAULT_SEED; worker i adds i), so that a run can be repeated. */
#ifndef SLOWAPI_FAULTS_H
#define SLOWAPI_FAULTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double error;  /* fractions of requests, 0..1: answered 500 after the delay */
    double reset;  /* the connection reset at the deadline (h2c: the stream) */
    double hang;   /* never answered: the client gives up */
    double jitter; /* the delay times 1 + uniform(-jitter, +jitter) */
} faults_t;

typedef enum { FAULT_NONE, FAULT_ERROR, FAULT_RESET, FAULT_HANG } fault_t;

#define FAULTS_NAMES "error, reset, hang, jitter"

/* Parse "name=P%[,name=P%...]" (the % may be left out) into f, over what
 * f holds. Returns 0, or -1 with why (error, reset and hang together at
 * most 100%). */
int faults_parse(const char *spec, faults_t *f, char *why, size_t why_len);
/* Set one fault by name to percent; 0, or -1 for an unknown name or a
 * percent outside 0..100. */
int faults_set(faults_t *f, const char *name, double percent);
int faults_any(const faults_t *f);

/* The fault of one request, and its delay with jitter; state is the
 * generator's (xorshift64*, never 0). */
fault_t faults_draw(const faults_t *f, uint64_t *state, uint64_t *delay_ns);

#endif
