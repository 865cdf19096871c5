/* The classic study's CPU workload, long_running(n): a 100x100 matrix of
 * random doubles multiplied n times, elementwise, by (random + random). */
#ifndef LAB_CPU_WORK_H
#define LAB_CPU_WORK_H

#include <stdint.h>

#define CPU_MATRIX_SIDE 100

/* Runs the workload with its own random stream (seeded from seed) and
 * returns the sum of the final matrix, so the work cannot be optimised
 * away. Thread-safe. */
double cpu_long_running(long iterations, uint64_t seed);

#endif
