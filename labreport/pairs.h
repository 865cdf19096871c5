/* The matrix report's C and Python pairs: for each classic configuration
 * of the study (a row of data/classic-study.json for the workload, in the
 * file's order) and each concurrency, the lab's C variant that mirrors it
 * ("variants") beside the study's own Python deployment that runs it
 * ("python"), when the matrix has a row of each at that concurrency. A
 * pair holds both rows' medians and the C/Python ratios, so that
 * report.md's "C and Python" section and c-python.svg come from
 * report.json alone. */
#ifndef LABREPORT_PAIRS_H
#define LABREPORT_PAIRS_H

#include <jansson.h>

/* A row's "impl": how the plan says the variant is implemented. */
#define LR_IMPL_C "c"
#define LR_IMPL_PYTHON "python"
/* The plan's program of every Python deployment (services/variants.tsv). */
#define LR_PYTHON_PROGRAM "lab-python"

/* "python" for LR_PYTHON_PROGRAM, "c" for any other program, NULL for
 * NULL (a plan that does not list the variant). */
const char *lr_impl_of_program(const char *program);

/* The pairs of a matrix report's rows (lr_row_json's, with impl), as a new
 * array; empty when there are none or study is NULL. A row whose impl
 * contradicts the study's list is not paired. Each pair:
 *   {alias, config, concurrency, published_rps (null: none published),
 *    c: SIDE, python: SIDE,
 *    c_over_python: {rps, p99_ms, server_cpu_ms_per_request}}
 * SIDE: {variant, runs, rps, p99_ms, server_cpu_ms_per_request,
 *        server_busy, cpu_bound}, the row's medians (null without them).
 * NULL only when out of memory. */
json_t *lr_pairs_build(const json_t *rows, const json_t *study, const char *workload);

#endif
