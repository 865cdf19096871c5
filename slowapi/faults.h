/* Faults slowapi injects, for the lab's fault scenarios: an error status,
 * a reset, an answer that never comes, and jitter on the delay, each at a
 * rate; for the whole process from FAULTS ("error=5%,reset=2%,hang=1%,
 * jitter=20%"), or per request by query (?delay=1&error=5&hang=1, the
 * same names in percent, over the process's). Drawn from a seeded
 * generator (FAULT_SEED; worker i adds i), so that a run can be repeated. */
#ifndef SLOWAPI_FAULTS_H
#define SLOWAPI_FAULTS_H

#include <stdint.h>

#include "fault_spec.h"

typedef enum { FAULT_NONE, FAULT_ERROR, FAULT_RESET, FAULT_HANG } fault_t;

/* The fault of one request, and its delay with jitter; state is the
 * generator's (xorshift64*, never 0). */
fault_t faults_draw(const faults_t *f, uint64_t *state, uint64_t *delay_ns);

#endif
