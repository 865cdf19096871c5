#include "cpu_work.h"

#define CELLS (CPU_MATRIX_SIDE * CPU_MATRIX_SIDE)

/* splitmix64: small, fast and good enough for uniform doubles. numpy's
 * generator is slower; the point is the same amount of arithmetic. */
static inline uint64_t next_u64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 53 random bits into [0, 1). */
static inline double next_unit(uint64_t *state)
{
    return (double)(next_u64(state) >> 11) * 0x1.0p-53;
}

double cpu_long_running(long iterations, uint64_t seed)
{
    static _Thread_local double matrix[CELLS];
    uint64_t state = seed;
    for (int i = 0; i < CELLS; i++)
        matrix[i] = next_unit(&state);
    for (long n = 0; n < iterations; n++)
        for (int i = 0; i < CELLS; i++)
            matrix[i] *= next_unit(&state) + next_unit(&state);
    double sum = 0.0;
    for (int i = 0; i < CELLS; i++)
        sum += matrix[i];
    return sum;
}
