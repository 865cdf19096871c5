#include "variant_case.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loadgen_run.h"

proc_t test_slowapi;

int variant_start(proc_t *p, const variant_case_t *vc, const char *url, const char *timeout_s)
{
    static char url_env[256], timeout_env[64];
    snprintf(url_env, sizeof url_env, "SLOW_API_URL=%s", url);
    snprintf(timeout_env, sizeof timeout_env, "UPSTREAM_TIMEOUT=%s", timeout_s);
    const char *argv[VARIANT_SETTINGS_MAX + 12] = {bin_path(vc->program)};
    int n = 1;
    for (int i = 0; i < VARIANT_SETTINGS_MAX && vc->settings[i] != NULL; i++)
        argv[n++] = vc->settings[i];
    const char *rest[] = {"--variant", vc->variant, "--host", "127.0.0.1", "--port", "0", NULL};
    memcpy(&argv[n], rest, sizeof rest);
    /* In the environment, the grace period is ignored by models without one. */
    const char *env[] = {url_env, timeout_env, "GRACE_PERIOD=5", "LOG_LEVEL=error", NULL};
    return proc_start(p, argv, env, VARIANT_START_TIMEOUT_MS);
}

int variant_start_on_slowapi(proc_t *p, const variant_case_t *vc, double delay_s,
                             const char *timeout_s)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/?delay=%g", test_slowapi.port, delay_s);
    return variant_start(p, vc, url, timeout_s);
}

int variant_group_setup(void **state)
{
    (void)state;
    const char *argv[] = {bin_path("slowapi"), "--host", "127.0.0.1", "--port", "0", NULL};
    const char *env[] = {"LOG_LEVEL=error", NULL};
    return proc_start(&test_slowapi, argv, env, VARIANT_START_TIMEOUT_MS) == 0 ? 0 : -1;
}

int variant_group_teardown(void **state)
{
    (void)state;
    return proc_stop(&test_slowapi, VARIANT_STOP_TIMEOUT_MS) == 0 ? 0 : -1;
}

int variant_setup(void **state)
{
    variant_fixture_t *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    f->vc = *state;
    if (variant_start_on_slowapi(&f->server, f->vc, VARIANT_DELAY_S, "5") != 0) {
        fprintf(stderr, "cannot start %s\n", f->vc->variant);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int variant_teardown(void **state)
{
    variant_fixture_t *f = *state;
    int rc = proc_stop(&f->server, VARIANT_STOP_TIMEOUT_MS);
    if (rc != 0)
        fprintf(stderr, "%s stopped with %d, want 0\n", f->vc->variant, rc);
    free(f);
    return rc == 0 ? 0 : -1;
}

json_t *variant_assert_at_ceiling(const variant_fixture_t *f, int grpc)
{
    const variant_case_t *vc = f->vc;
    char url[128], conc[16], delay[16];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/io", f->server.port);
    snprintf(conc, sizeof conc, "%d", vc->concurrency);
    snprintf(delay, sizeof delay, "%g", VARIANT_DELAY_S);
    const char *args[14];
    int n = 0;
    if (grpc)
        args[n++] = "--grpc";
    /* --wait: the load starts once the server answers its health check.
     * A gRPC channel whose first connect fails fails its calls fast
     * (UNAVAILABLE) for the reconnect backoff, about 1 s; seen once under
     * ASan in CI, where grpc-sync starts slowly. */
    const char *rest[] = {"--wait", "10", "-c", conc, "-d", "4", "--timeout", "10",
                          "--delay", delay, url, NULL};
    memcpy(&args[n], rest, sizeof rest);
    json_t *report = loadgen_run(args, 60000);
    assert_non_null(report);
    assert_true(report_buckets_add_up(report));
    double issued = report_number(report, "issued");
    double ok = report_number(report, "ok");
    double rps = report_number(report, "rps");
    double min_ms = report_number(report, "min_ms");
    int slots = vc->capacity == 0 || vc->concurrency < vc->capacity ? vc->concurrency
                                                                     : vc->capacity;
    double ceiling = slots / VARIANT_DELAY_S;
    print_message("%s: %.0f issued, %.0f ok, %.1f rps (ceiling %.1f), min %.1f ms\n",
                  vc->variant, issued, ok, rps, ceiling, min_ms);
    assert_true(issued > 0);
    assert_true(ok == issued);
    assert_true(min_ms >= VARIANT_DELAY_S * 1000);
    assert_true(rps >= ceiling * (1 - vc->tolerance));
    assert_true(rps <= ceiling * (1 + vc->tolerance));
    json_t *ceil = json_object_get(report, "ceiling");
    assert_true(json_is_object(ceil));
    assert_true(fabs(json_number_value(json_object_get(ceil, "rps")) - ceiling) < 1e-6);
    return report;
}

void variant_add_setting(variant_case_t *vc, const char *flag, const char *value)
{
    int n = 0;
    while (vc->settings[n] != NULL)
        n++;
    assert_true(n + 2 < VARIANT_SETTINGS_MAX);
    vc->settings[n] = flag;
    vc->settings[n + 1] = value;
    vc->settings[n + 2] = NULL;
}
