/* A server variant under test: its program, settings and what to expect,
 * started against the test's own slowapi. The HTTP and the gRPC
 * integration tests share it, and cmocka's setup/teardown hooks below. */
#ifndef LAB_TEST_VARIANT_CASE_H
#define LAB_TEST_VARIANT_CASE_H

#include <jansson.h>

#include "harness.h"

#define VARIANT_SETTINGS_MAX 8
#define VARIANT_START_TIMEOUT_MS 10000
#define VARIANT_STOP_TIMEOUT_MS 10000
/* The upstream delay of the fixture's server (variant_setup). */
#define VARIANT_DELAY_S 0.1

typedef struct {
    const char *variant;   /* the name it reports (/healthz, Describe) */
    const char *program;   /* build/bin/<program> */
    const char *settings[VARIANT_SETTINGS_MAX]; /* its flags, NULL-terminated */
    int capacity;          /* requests served at once; 0 = unbounded */
    int keep_alive;        /* HTTP: keeps client connections open */
    int concurrency;       /* for the throughput test */
    double tolerance;      /* of the ceiling, for the throughput test */
} variant_case_t;

typedef struct {
    const variant_case_t *vc;
    proc_t server;
} variant_fixture_t;

/* The group's slowapi, started by variant_group_setup. */
extern proc_t test_slowapi;

/* A flag and its value after vc's own settings (asserts there is room). */
void variant_add_setting(variant_case_t *vc, const char *flag, const char *value);

/* Start vc's program on 127.0.0.1 (any port) with SLOW_API_URL=url and
 * UPSTREAM_TIMEOUT=timeout_s; 0 or -errno (harness.h's proc_start). */
int variant_start(proc_t *p, const variant_case_t *vc, const char *url, const char *timeout_s);
/* The same against test_slowapi with the given delay. */
int variant_start_on_slowapi(proc_t *p, const variant_case_t *vc, double delay_s,
                             const char *timeout_s);

/* cmocka hooks. Group: test_slowapi. Test: *state is the case on entry,
 * a variant_fixture_t with its server running (VARIANT_DELAY_S) inside;
 * the teardown asserts a clean stop (exit 0 on SIGTERM). */
int variant_group_setup(void **state);
int variant_group_teardown(void **state);
int variant_setup(void **state);
int variant_teardown(void **state);

/* Load the fixture's server with loadgen (--grpc when grpc) for 4 s at
 * vc->concurrency and assert the model's promise: every request ok, none
 * faster than the delay, rps within vc->tolerance of min(c, capacity) /
 * delay, the report's ceiling the same. Returns the report for further
 * checks (json_decref it). */
json_t *variant_assert_at_ceiling(const variant_fixture_t *f, int grpc);

#endif
