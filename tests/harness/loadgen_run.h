/* Run the real loadgen from a test and read its JSON report. */
#ifndef LAB_TEST_LOADGEN_RUN_H
#define LAB_TEST_LOADGEN_RUN_H

#include <jansson.h>

/* Run build/bin/loadgen with args (NULL-terminated, without the program
 * name) plus "--json <temp file>"; wait up to timeout_ms. Returns the
 * parsed report (json_decref it), or NULL with the reason on stderr. */
json_t *loadgen_run(const char *const args[], int timeout_ms);

/* summary.<key> as a number (integer or real), or -1 when absent. */
double report_number(json_t *report, const char *key);

/* 1 when issued == ok + HTTP errors + timeouts + connection errors +
 * unfinished in the report, else 0 (printing both sides). */
int report_buckets_add_up(json_t *report);

#endif
