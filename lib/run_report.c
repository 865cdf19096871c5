/* Rendering a run report from its JSON (run_report.h). Every figure comes
 * from the parsed report, never from the program that made it: that is
 * what makes loadgen's own Markdown and a later rebuild byte-identical. */
#include "run_report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_spec.h"
#include "grpc_status.h"
#include "run_report_internal.h"

static const char *const rr_error_kinds[] = {"connect", "read", "write", "parse"};
#define RR_ERROR_KIND_COUNT (sizeof rr_error_kinds / sizeof rr_error_kinds[0])

/* environment's variables, printed "(unset)" when null. */
static const char *const rr_env_fields[] = {"git_commit", "docker_version", "compose_version",
                                            "cpu_sharing"};
#define RR_ENV_FIELD_COUNT (sizeof rr_env_fields / sizeof rr_env_fields[0])

/* Status codes have three digits: http_errors' keys are 0..999. */
#define RR_STATUS_MAX 1000

/* Programs beside the server in the resources file, checked for busy. */
static const char *const rr_helpers[] = {"loadgen", "slowapi"};
#define RR_HELPER_COUNT (sizeof rr_helpers / sizeof rr_helpers[0])

/* ---- the summary's lines ---- */

static void rr_print_classic(FILE *f, const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    const json_t *p = rr_get(run, "percentiles_ms");
    double v;
    fprintf(f, "Number of failure:    %lld\n", rr_int(s, "failures"));
    fprintf(f, "Request per second:   %.1f [#/sec] (mean)\n", rr_num(s, "rps"));
    if (rr_number(s, "mean_ms", &v))
        fprintf(f, "Time per request:     %.1f [ms] (mean)\n", v);
    else
        fprintf(f, "Time per request:     n/a [ms] (mean)\n");
    for (size_t i = 0; i < RR_PERCENTILE_COUNT; i++) {
        if (rr_number(p, rr_percentiles[i], &v))
            fprintf(f, "%3s%%   %.1f\n", rr_percentiles[i], v);
        else
            fprintf(f, "%3s%%   n/a\n", rr_percentiles[i]);
    }
}

/* The count of non-2xx responses with status code, 0 when none. */
static long long rr_status_count(const json_t *http, int code)
{
    char key[16];
    snprintf(key, sizeof key, "%d", code);
    return rr_int(http, key);
}

/* "http errors 3 (502: 2, 504: 1)"; with --grpc the codes are gRPC's:
 * "grpc status errors 3 (14 UNAVAILABLE: 3)". Codes in numeric order,
 * whatever the order of the JSON's keys. */
static void rr_print_http_errors(FILE *f, const json_t *run)
{
    const json_t *http = rr_get(rr_get(run, "summary"), "http_errors");
    int grpc = run_report__is_grpc(run);
    long long total = 0;
    for (int code = 0; code < RR_STATUS_MAX; code++)
        total += rr_status_count(http, code);
    fprintf(f, "%s errors %lld", grpc ? "grpc status" : "http", total);
    const char *sep = " (";
    for (int code = 0; code < RR_STATUS_MAX; code++) {
        long long n = rr_status_count(http, code);
        if (n == 0)
            continue;
        if (grpc)
            fprintf(f, "%s%d %s: %lld", sep, code, grpc_status_name(code), n);
        else
            fprintf(f, "%s%d: %lld", sep, code, n);
        sep = ", ";
    }
    if (sep[0] == ',')
        fputc(')', f);
}

static void rr_print_buckets(FILE *f, const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    const json_t *errors = rr_get(s, "errors");
    long long conn_errors = 0;
    for (size_t i = 0; i < RR_ERROR_KIND_COUNT; i++)
        conn_errors += rr_int(errors, rr_error_kinds[i]);
    fprintf(f, "Buckets: ");
    if (json_is_integer(rr_get(s, "planned")))
        fprintf(f, "planned %lld = issued %lld + late %lld; ", rr_int(s, "planned"),
                rr_int(s, "issued"), rr_int(s, "late"));
    fprintf(f, "issued %lld = ok %lld + ", rr_int(s, "issued"), rr_int(s, "ok"));
    rr_print_http_errors(f, run);
    fprintf(f, " + timeouts %lld + connection errors %lld (", rr_int(s, "timeouts"), conn_errors);
    for (size_t i = 0; i < RR_ERROR_KIND_COUNT; i++)
        fprintf(f, "%s%s %lld", i ? ", " : "", rr_error_kinds[i], rr_int(errors, rr_error_kinds[i]));
    fprintf(f, ") + unfinished %lld; warm-up excluded %lld", rr_int(s, "unfinished"),
            rr_int(s, "warmup_excluded"));
    if (rr_int(s, "samples_dropped") > 0)
        fprintf(f, "; %lld latency samples dropped (out of memory)", rr_int(s, "samples_dropped"));
    fputc('\n', f);
}

/* Schema 3: the headline with its stated error, and the time share
 * beside it. Without a service time (no --delay, or not the io workload)
 * the headline is the time share itself. */
static void rr_print_rate(FILE *f, const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    double time_share, service_s;
    if (!rr_number(s, "rps_time_share", &time_share))
        return;
    if (rr_number(s, "service_s", &service_s))
        fprintf(f, "Rate: %.1f rps \xc2\xb1 %.1f (served share; time share %.1f)\n",
                rr_num(s, "rps"), rr_num(s, "rps_error"), time_share);
    else
        fprintf(f, "Rate: %.1f rps \xc2\xb1 %.1f (time share: no service time, so no served share)\n",
                rr_num(s, "rps"), rr_num(s, "rps_error"));
}

void run_report_calls_expected(const json_t *run, const json_t *resources,
                               run_report_calls_t *out)
{
    const json_t *v = rr_get(run, "verify");
    out->expected = json_is_integer(rr_get(v, "expected")) ? rr_num(v, "expected") : NAN;
    snprintf(out->verdict, sizeof out->verdict, "%s", rr_str(v, "verdict", ""));
    out->with_faults = 0;
    const char *spec = rr_str(resources, "faults", NULL);
    faults_t faults = {0};
    char why[128];
    double per_answer;
    if (spec == NULL || !isfinite(out->expected) ||
        faults_parse(spec, &faults, why, sizeof why) < 0 ||
        (faults.reset == 0 && faults.hang == 0))
        return;
    int retried = strcmp(rr_str(rr_get(run, "server"), "upstream_http", "1.1"), "1.1") == 0;
    out->expected *= faults_answered_share(&faults, retried);
    out->with_faults = 1;
    if (!rr_number(v, "calls_per_answer", &per_answer))
        return;
    double room = (out->expected > 1 ? out->expected : 1) / 100;
    snprintf(out->verdict, sizeof out->verdict, "%s",
             fabs(per_answer - out->expected) <= room ? "ok"
             : per_answer < out->expected             ? "short"
                                                      : "over");
}

static void rr_print_verify(FILE *f, const json_t *run, const json_t *resources)
{
    const json_t *v = rr_get(run, "verify");
    if (!json_is_object(v))
        return;
    const char *note = rr_str(v, "note", NULL);
    double per_answer;
    if (!json_is_integer(rr_get(v, "upstream_calls"))) {
        fprintf(f, "Verified: n/a (%s)\n", note ? note : "no upstream counter");
        return;
    }
    char per[32] = "n/a", expected[128] = "unknown";
    run_report_calls_t calls;
    run_report_calls_expected(run, resources, &calls);
    if (rr_number(v, "calls_per_answer", &per_answer))
        snprintf(per, sizeof per, "%.2f", per_answer);
    if (json_is_integer(rr_get(v, "expected")))
        snprintf(expected, sizeof expected, "%lld", rr_int(v, "expected"));
    if (calls.with_faults)
        snprintf(expected, sizeof expected,
                 "%lld; %.2f with the injected faults, whose hung and reset calls slowapi "
                 "never answers",
                 rr_int(v, "expected"), calls.expected);
    fprintf(f, "Verified: %s upstream calls per answered request (expected %s): %s", per, expected,
            calls.verdict[0] ? calls.verdict : "n/a");
    if (note != NULL)
        fprintf(f, " (%s)", note);
    fputc('\n', f);
}

#define RR_WINDOW_LATENCIES_MIN 10.0

/* The time share credits a queued request for its wait at the window's
 * end: with N mean latencies in the window it may read up to ~1/N high.
 * The served share (schema 3, with --delay) does not, and says its error
 * itself, so the note is for the time share alone. */
static void rr_print_note(FILE *f, const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    double n, service_s;
    if (!rr_number(s, "window_latencies", &n) || n <= 0 || n >= RR_WINDOW_LATENCIES_MIN)
        return;
    if (rr_number(s, "service_s", &service_s))
        return;
    fprintf(f, "Note: the window holds only %.1f mean latencies; where clients queue, rps may "
               "read up to ~%.0f%% high (run longer, use -n, or --warmup past the queue)\n",
            n, 100.0 / n);
}

static void rr_print_ceiling(FILE *f, const json_t *run)
{
    const json_t *c = rr_get(run, "ceiling");
    const json_t *cfg = rr_get(run, "config");
    if (!json_is_object(c)) {
        fprintf(f, "Ceiling: n/a (%s)\n", rr_str(run, "ceiling_note", "not computed"));
        return;
    }
    char capacity[32] = "unbounded";
    if (rr_int(c, "capacity") != 0)
        snprintf(capacity, sizeof capacity, "%lld", rr_int(c, "capacity"));
    if (run_report__is_open(run)) {
        run_report__print_open_ceiling(f, run, capacity);
        return;
    }
    fprintf(f, "Ceiling: %.1f rps (min(c=%lld, capacity=%s) / delay %g s); measured/ceiling %.3f\n",
            rr_num(c, "rps"), rr_int(cfg, "concurrency"), capacity, rr_num(cfg, "delay_s"),
            rr_num(c, "measured_over_ceiling"));
}

/* ---- resources (the <report>.server.json beside the report) ---- */

double run_report_busy(const json_t *program)
{
    double cpu, wall, cpus;
    if (!rr_number(program, "cpu_seconds", &cpu) || !rr_number(program, "wall_seconds", &wall) ||
        !rr_number(program, "cpus", &cpus) || cpu < 0 || wall <= 0 || cpus <= 0)
        return -1;
    return cpu / (wall * cpus);
}

double run_report_answered(const json_t *run)
{
    double answered, responses, warmup;
    if (rr_number(rr_get(run, "verify"), "answered", &answered))
        return answered;
    const json_t *s = rr_get(run, "summary");
    if (!rr_number(s, "responses", &responses))
        return -1;
    return responses + (rr_number(s, "warmup_excluded", &warmup) ? warmup : 0);
}

/* The server's CPU milliseconds per request it answered; -1 without both. */
static double rr_cpu_ms_per_request(const json_t *run, const json_t *resources)
{
    double cpu, answered = run_report_answered(run);
    if (!rr_number(resources, "cpu_seconds", &cpu) || answered <= 0)
        return -1;
    return cpu * 1000.0 / answered;
}

/* One "Warning: ..." line per helper at or over RUN_REPORT_BUSY_WARN;
 * emphasis is "**" in Markdown, "" in the summary. */
static void rr_print_busy_warnings(FILE *f, const json_t *resources, const char *emphasis)
{
    for (size_t i = 0; i < RR_HELPER_COUNT; i++) {
        double busy = run_report_busy(rr_get(resources, rr_helpers[i]));
        if (busy >= RUN_REPORT_BUSY_WARN)
            fprintf(f, "%sWarning: %s was %.0f%% busy: this run may measure %s, not the "
                       "server.%s\n",
                    emphasis, rr_helpers[i], busy * 100, rr_helpers[i], emphasis);
    }
}

double run_report_server_busy(const json_t *resources)
{
    double cpu, wall, cpus, loadgen_wall;
    if (!rr_number(resources, "cpu_seconds", &cpu) || !rr_number(resources, "wall_seconds", &wall) ||
        !rr_number(resources, "cpus", &cpus) || cpu < 0 || wall <= 0 || cpus <= 0)
        return -1;
    if (rr_number(rr_get(resources, "loadgen"), "wall_seconds", &loadgen_wall) &&
        loadgen_wall > 0 && loadgen_wall < wall)
        wall = loadgen_wall;
    /* Above 1: CPU the server spent starting, before loadgen's clock ran. */
    return cpu / (wall * cpus) > 1 ? 1 : cpu / (wall * cpus);
}

/* "CPU-bound: ..." when the server was at least RUN_REPORT_CPU_BOUND busy:
 * its CPU, not its concurrency model, set its rate. emphasis as above. */
static void rr_print_cpu_bound(FILE *f, const json_t *resources, const char *emphasis)
{
    double cpus, busy = run_report_server_busy(resources);
    if (busy < RUN_REPORT_CPU_BOUND || !rr_number(resources, "cpus", &cpus))
        return;
    fprintf(f, "%sCPU-bound: the server was %.0f%% busy on its %g CPU%s while loadgen ran, so "
               "its CPU, not its concurrency model, set its rate.%s\n",
            emphasis, busy * 100, cpus, cpus == 1 ? "" : "s", emphasis);
}

/* " 5.10 CPU s (16% busy)", leaving out what the object lacks. */
static void rr_print_cpu(FILE *f, const json_t *program)
{
    double cpu, busy = run_report_busy(program);
    if (rr_number(program, "cpu_seconds", &cpu))
        fprintf(f, " %.2f CPU s", cpu);
    if (busy >= 0)
        fprintf(f, " (%.0f%% busy)", busy * 100);
}

static void rr_print_resources_line(FILE *f, const json_t *run, const json_t *resources)
{
    double mib, per_request = rr_cpu_ms_per_request(run, resources);
    fprintf(f, "Resources: server");
    if (!json_is_number(rr_get(resources, "cpu_seconds")))
        fprintf(f, " not measured (%s)", rr_str(resources, "measured", "no figures"));
    rr_print_cpu(f, resources);
    if (rr_number(resources, "peak_memory_mib", &mib))
        fprintf(f, ", peak memory %.1f MiB", mib);
    if (per_request >= 0)
        fprintf(f, ", %.2f CPU ms per request", per_request);
    for (size_t i = 0; i < RR_HELPER_COUNT; i++) {
        const json_t *p = rr_get(resources, rr_helpers[i]);
        if (!json_is_object(p))
            continue;
        fprintf(f, "; %s", rr_helpers[i]);
        rr_print_cpu(f, p);
    }
    fputc('\n', f);
    rr_print_cpu_bound(f, resources, "");
    rr_print_busy_warnings(f, resources, "");
}

static void rr_print_summary(FILE *f, const json_t *run, const run_report_md_options_t *opts)
{
    run_report__print_load(f, run, "\n");
    rr_print_classic(f, run);
    run_report__print_latency_table(f, run);
    rr_print_buckets(f, run);
    rr_print_rate(f, run);
    rr_print_verify(f, run, opts->resources);
    rr_print_note(f, run);
    rr_print_ceiling(f, run);
    run_report__print_steps(f, run);
    run_report__print_checks(f, run);
    run_report__print_samples(f, run, "");
    run_report__print_scenario(f, run, opts->resources);
    if (opts->resources != NULL)
        rr_print_resources_line(f, run, opts->resources);
}

/* ---- Markdown ---- */

static void rr_md_settings(FILE *f, const json_t *cfg)
{
    const json_t *v;
    fprintf(f, "| setting | value |\n|---|---|\n");
    fprintf(f, "| concurrency | %lld |\n| threads | %lld |\n", rr_int(cfg, "concurrency"),
            rr_int(cfg, "threads"));
    if (json_is_integer(rr_get(cfg, "requests")))
        fprintf(f, "| requests | %lld |\n", rr_int(cfg, "requests"));
    else
        fprintf(f, "| duration | %g s |\n", rr_num(cfg, "duration_s"));
    fprintf(f, "| warm-up | %g s |\n| drain | %g s |\n| timeout | %g s |\n",
            rr_num(cfg, "warmup_s"), rr_num(cfg, "drain_s"), rr_num(cfg, "timeout_s"));
    if (rr_num(cfg, "ramp_s") > 0)
        fprintf(f, "| ramp | %g s |\n", rr_num(cfg, "ramp_s"));
    if ((v = rr_get(cfg, "protocol")) != NULL)
        fprintf(f, "| protocol | %s |\n",
                strcmp(rr_str(cfg, "protocol", ""), "grpc") == 0 ? "gRPC (unary calls)"
                                                                 : "HTTP/1.1");
    fprintf(f, "| keep-alive | %s |\n", json_is_true(rr_get(cfg, "keepalive")) ? "yes" : "no");
    if (json_is_number(rr_get(cfg, "fanout")))
        fprintf(f, "| fan-out | %lld |\n", rr_int(cfg, "fanout"));
    if (json_is_number(rr_get(cfg, "delay_s")))
        fprintf(f, "| delay | %g s |\n", rr_num(cfg, "delay_s"));
    if (json_is_number(rr_get(cfg, "capacity")))
        fprintf(f, "| capacity (given) | %lld |\n", rr_int(cfg, "capacity"));
    if ((v = rr_get(cfg, "upstream")) != NULL && json_is_string(v))
        fprintf(f, "| upstream | `%s` |\n", json_string_value(v));
}

static void rr_md_buckets(FILE *f, const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    const json_t *http = rr_get(s, "http_errors");
    const json_t *errors = rr_get(s, "errors");
    int grpc = run_report__is_grpc(run);
    fprintf(f, "| bucket | requests |\n|---|---:|\n");
    if (json_is_integer(rr_get(s, "planned")))
        fprintf(f, "| planned | %lld |\n| late (never sent) | %lld |\n", rr_int(s, "planned"),
                rr_int(s, "late"));
    fprintf(f, "| issued | %lld |\n| ok | %lld |\n", rr_int(s, "issued"), rr_int(s, "ok"));
    for (int code = 0; code < RR_STATUS_MAX; code++) {
        long long n = rr_status_count(http, code);
        if (n > 0 && grpc)
            fprintf(f, "| grpc %d %s | %lld |\n", code, grpc_status_name(code), n);
        else if (n > 0)
            fprintf(f, "| http %d | %lld |\n", code, n);
    }
    fprintf(f, "| timeouts | %lld |\n", rr_int(s, "timeouts"));
    for (size_t i = 0; i < RR_ERROR_KIND_COUNT; i++)
        fprintf(f, "| %s errors | %lld |\n", rr_error_kinds[i], rr_int(errors, rr_error_kinds[i]));
    fprintf(f, "| unfinished | %lld |\n", rr_int(s, "unfinished"));
    fprintf(f, "| warm-up (excluded) | %lld |\n\n", rr_int(s, "warmup_excluded"));
}

/* A table cell: the number in fmt, or empty when it is negative (absent). */
static void rr_md_cell(FILE *f, const char *fmt, double v)
{
    fputs(" ", f);
    if (v >= 0)
        fprintf(f, fmt, v);
    fputs(" |", f);
}

static void rr_md_resource_row(FILE *f, const char *name, const json_t *program, double mib,
                               double per_request)
{
    double cpu = -1, busy = run_report_busy(program);
    (void)rr_number(program, "cpu_seconds", &cpu);
    fprintf(f, "| %s |", name);
    rr_md_cell(f, "%.2f", cpu);
    rr_md_cell(f, "%.0f%%", busy >= 0 ? busy * 100 : -1);
    rr_md_cell(f, "%.1f", mib);
    rr_md_cell(f, "%.2f", per_request);
    fputc('\n', f);
}

/* run.sh --swarm: "Swarm stack S (one node, no labels): slowapi on vm (2
 * CPUs, 24105 MiB), sut on vm (...), loadgen on vm (...)." */
static void rr_md_swarm(FILE *f, const json_t *run, const json_t *swarm)
{
    /* The CPU model of each service's node, as the program there saw it
     * (slowapi's through loadgen, from its /healthz). */
    const json_t *env = rr_get(run, "environment");
    const char *models[] = {rr_str(env, "upstream_cpu_model", NULL),
                            rr_str(rr_get(run, "server"), "cpu_model", NULL),
                            rr_str(env, "cpu_model", NULL)};
    static const char *const services[] = {"slowapi", "sut", "loadgen"};
    if (!json_is_object(swarm))
        return;
    fprintf(f, " Swarm stack %s (%s; images %s):", rr_str(swarm, "stack", "?"),
            rr_str(swarm, "placement", "?"), rr_str(swarm, "images", "?"));
    const char *replaced = rr_str(swarm, "replaced", NULL);
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        const json_t *where = rr_get(rr_get(swarm, "services"), services[i]);
        fprintf(f, "%s %s on %s", i ? "," : "", services[i], rr_str(where, "node", "?"));
        if (json_is_number(rr_get(where, "cpus")))
            fprintf(f, " (%g CPUs, %.0f MiB%s%s)", rr_num(where, "cpus"),
                    rr_num(where, "memory_mib"), models[i] ? ", " : "", models[i] ? models[i] : "");
    }
    fputc('.', f);
    if (replaced != NULL)
        fprintf(f, " Compose keys replaced: %s.", replaced);
}

static void rr_md_resources(FILE *f, const json_t *run, const json_t *resources)
{
    double mib = -1;
    (void)rr_number(resources, "peak_memory_mib", &mib);
    fprintf(f, "\n## Resources\n\n");
    fprintf(f, "| program | CPU s | busy | peak memory MiB | CPU ms per request |\n"
               "|---|---:|---:|---:|---:|\n");
    rr_md_resource_row(f, "server", resources, mib, rr_cpu_ms_per_request(run, resources));
    for (size_t i = 0; i < RR_HELPER_COUNT; i++) {
        const json_t *p = rr_get(resources, rr_helpers[i]);
        if (json_is_object(p))
            rr_md_resource_row(f, rr_helpers[i], p, -1, -1);
    }
    fprintf(f, "\nbusy = CPU seconds / (wall seconds \xc3\x97 CPUs).");
    const char *measured = rr_str(resources, "measured", NULL);
    if (measured != NULL)
        fprintf(f, " Measured: %s.", measured);
    /* run.sh's network (native, bridge or host), in files since it records it. */
    const char *network = rr_str(resources, "network", NULL);
    if (network != NULL) {
        fprintf(f, " Network: %s", network);
        if (json_is_integer(rr_get(resources, "somaxconn")))
            fprintf(f, " (somaxconn %lld)", rr_int(resources, "somaxconn"));
        fputc('.', f);
    }
    rr_md_swarm(f, run, rr_get(resources, "swarm"));
    fputc('\n', f);
    if (run_report_server_busy(resources) >= RUN_REPORT_CPU_BOUND) {
        fputc('\n', f);
        rr_print_cpu_bound(f, resources, "**");
    }
    if (run_report_busy(rr_get(resources, "loadgen")) >= RUN_REPORT_BUSY_WARN ||
        run_report_busy(rr_get(resources, "slowapi")) >= RUN_REPORT_BUSY_WARN) {
        fputc('\n', f);
        rr_print_busy_warnings(f, resources, "**");
    }
}

/* A report merged from several loadgens (labreport merge): each one's
 * own figures beside the merged ones above. */
static void rr_md_instances(FILE *f, const json_t *run)
{
    const json_t *list = rr_get(run, "instances");
    if (!json_is_array(list))
        return;
    fprintf(f, "\n## Loadgens\n\nMerged from %zu loadgens started together: the counts and "
               "rates above are their sums, the latencies those of every request of all of "
               "them (their samples files), never an average of their percentiles. Each "
               "one's own report has its series and chart.\n\n"
               "| loadgen | report | clients | issued | ok | failures | rps | mean | p50 | p99 |\n"
               "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
            json_array_size(list));
    size_t i;
    const json_t *o;
    json_array_foreach(list, i, o)
        fprintf(f, "| %s | %s | %lld | %lld | %lld | %lld | %.1f | %.1f | %.1f | %.1f |\n",
                rr_str(o, "instance", "-"), rr_str(o, "report", "?"), rr_int(o, "concurrency"),
                rr_int(o, "issued"), rr_int(o, "ok"), rr_int(o, "failures"), rr_num(o, "rps"),
                rr_num(o, "mean_ms"), rr_num(o, "p50_ms"), rr_num(o, "p99_ms"));
}

static void rr_md_environment(FILE *f, const json_t *run)
{
    const json_t *env = rr_get(run, "environment");
    const json_t *server = rr_get(run, "server");
    fprintf(f, "\n## Environment\n\n");
    if (json_is_integer(rr_get(env, "machine_cpus")))
        fprintf(f, "- cpus: %lld of the machine's %lld (loadgen's affinity)\n", rr_int(env, "cpus"),
                rr_int(env, "machine_cpus"));
    else
        fprintf(f, "- cpus: %lld\n", rr_int(env, "cpus"));
    if (rr_str(env, "cpu_model", NULL) != NULL)
        fprintf(f, "- CPU: %s\n", rr_str(env, "cpu_model", ""));
    fprintf(f, "- kernel: %s\n- started at: %s\n", rr_str(env, "kernel", "unknown"),
            rr_str(env, "started_at", "unknown"));
    for (size_t i = 0; i < RR_ENV_FIELD_COUNT; i++)
        fprintf(f, "- %s: %s\n", rr_env_fields[i], rr_str(env, rr_env_fields[i], "(unset)"));
    char *text = json_is_object(server) ? json_dumps(server, JSON_COMPACT) : NULL;
    fprintf(f, "- server: %s\n", text ? text : "(no description from /healthz)");
    free(text);
}

static void rr_print_markdown(FILE *f, const json_t *run, const run_report_md_options_t *opts)
{
    const json_t *cfg = rr_get(run, "config");
    fprintf(f, "# %s / %s (%s)\n\n", rr_str(run, "variant", "unknown"),
            rr_str(run, "workload", "unknown"), rr_str(run, "mode", "unknown"));
    fprintf(f, "`%s`, started %s, measured over %.3f s.\n\n", rr_str(run, "url", ""),
            rr_str(rr_get(run, "environment"), "started_at", "unknown"),
            rr_num(rr_get(run, "summary"), "duration_s"));
    run_report__print_load(f, run, ".\n\n");
    rr_md_settings(f, cfg);
    fprintf(f, "\n## Summary\n\n```\n");
    rr_print_classic(f, run);
    fprintf(f, "```\n");
    run_report__md_latency_table(f, run);
    fprintf(f, "\n## Buckets\n\n");
    rr_md_buckets(f, run);
    /* Schema 3's lines, each a paragraph of its own. */
    rr_print_rate(f, run);
    if (json_is_number(rr_get(rr_get(run, "summary"), "rps_time_share")))
        fputc('\n', f);
    rr_print_verify(f, run, opts->resources);
    if (json_is_object(rr_get(run, "verify")))
        fputc('\n', f);
    rr_print_note(f, run);
    rr_print_ceiling(f, run);
    if (json_is_object(rr_get(run, "samples")))
        fputc('\n', f);
    run_report__print_samples(f, run, "`");
    run_report__md_steps(f, run);
    run_report__md_checks(f, run);
    run_report__md_scenario(f, run, opts->resources);
    run_report__md_over_time(f, run, opts->latency_chart);
    run_report__md_spectrum(f, run);
    rr_md_instances(f, run);
    if (opts->resources != NULL)
        rr_md_resources(f, run, opts->resources);
    rr_md_environment(f, run);
}

/* ---- into a string ---- */

typedef void (*rr_printer_t)(FILE *f, const json_t *run, const run_report_md_options_t *opts);

static char *rr_capture(rr_printer_t print, const json_t *run,
                        const run_report_md_options_t *opts)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    print(f, run, opts);
    int failed = ferror(f);
    /* fclose of a memory stream fails only when out of memory. */
    if (fclose(f) != 0 || failed) {
        free(text);
        return NULL;
    }
    return text;
}

char *run_report_summary(const json_t *run, const json_t *resources)
{
    run_report_md_options_t opts = {resources, NULL};
    return rr_capture(rr_print_summary, run, &opts);
}

char *run_report_markdown(const json_t *run, const json_t *resources)
{
    run_report_md_options_t opts = {resources, NULL};
    return rr_capture(rr_print_markdown, run, &opts);
}

char *run_report_markdown_with(const json_t *run, const run_report_md_options_t *options)
{
    run_report_md_options_t none = {NULL, NULL};
    return rr_capture(rr_print_markdown, run, options ? options : &none);
}
