/* Fault rates and their draws (faults.h). */
#include "faults.h"

#include <math.h>
#include <stdlib.h>

/* Uniform in [0, 1): xorshift64* (Vigna), 53 bits of it. */
static double uniform(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

fault_t faults_draw(const faults_t *f, uint64_t *state, uint64_t *delay_ns)
{
    if (f->jitter > 0) {
        double factor = 1.0 + f->jitter * (2.0 * uniform(state) - 1.0);
        *delay_ns = (uint64_t)llround((double)*delay_ns * factor);
    }
    if (f->error + f->reset + f->hang <= 0)
        return FAULT_NONE;
    double u = uniform(state);
    if (u < f->error)
        return FAULT_ERROR;
    if (u < f->error + f->reset)
        return FAULT_RESET;
    if (u < f->error + f->reset + f->hang)
        return FAULT_HANG;
    return FAULT_NONE;
}
