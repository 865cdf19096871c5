/* A run's scenario (run_report.h, docs/REPORT.md "Scenarios"): slowapi's
 * injected faults and what they should do to the answers, the slow
 * clients beside the load and what they should do to this model, and the
 * workers killed under load. Each part states the expected outcome from
 * the run's own settings, then the measured one, so that a report says
 * by itself whether the model behaved. Nothing is printed for a run
 * without a scenario. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fault_spec.h"
#include "run_report_internal.h"

/* The codes a failed upstream gives: HTTP 502 and 504; a gRPC server ends
 * the call UNAVAILABLE and DEADLINE_EXCEEDED (services/core/grpc_service.c). */
#define RR_GRPC_UNAVAILABLE 14
#define RR_GRPC_DEADLINE_EXCEEDED 4

static long long rr_code_count(const json_t *run, int http_code)
{
    const json_t *http = rr_get(rr_get(run, "summary"), "http_errors");
    int code = http_code;
    if (run_report__is_grpc(run))
        code = http_code == 504 ? RR_GRPC_DEADLINE_EXCEEDED : RR_GRPC_UNAVAILABLE;
    char key[16];
    snprintf(key, sizeof key, "%d", code);
    return rr_int(http, key);
}

static const char *rr_code_name(const json_t *run, int http_code)
{
    if (!run_report__is_grpc(run))
        return http_code == 504 ? "504" : "502";
    return http_code == 504 ? "4 DEADLINE_EXCEEDED" : "14 UNAVAILABLE";
}

/* The requests that ended: issued less those still unfinished. */
static double rr_ended(const json_t *run)
{
    const json_t *s = rr_get(run, "summary");
    return rr_num(s, "issued") - rr_num(s, "unfinished");
}

static void rr_md_outcome_row(FILE *f, const char *what, double expected, long long count,
                              double ended)
{
    fprintf(f, "| %s | %.1f%% | %lld | ", what, expected * 100, count);
    if (ended > 0)
        fprintf(f, "%.1f%% |\n", (double)count * 100 / ended);
    else
        fprintf(f, "- |\n");
}

/* The mean latency the faults give a request, and a closed loop's ok
 * rate from it: a request takes the delay when every call was answered
 * at once, twice the delay when a reset call was sent again (and none
 * hung), and UPSTREAM_TIMEOUT when one hung. Said only when all three
 * are known (an io run with --delay, a server that says its timeout). */
static void rr_md_fault_latency(FILE *f, const json_t *run, const faults_t *fs, long long n,
                                int retried, long long timeout_ms)
{
    double delay_s = rr_num(rr_get(run, "config"), "delay_s");
    if (!(delay_s > 0) || timeout_ms <= 0)
        return;
    double timeout_s = (double)timeout_ms / 1000;
    double once = pow(1 - fs->reset - fs->hang, (double)n);
    double no_hang = pow(1 - fs->hang * (retried ? 1 + fs->reset : 1), (double)n);
    double mean_s = retried ? delay_s * once + 2 * delay_s * (no_hang - once)
                            : delay_s * no_hang;
    mean_s += timeout_s * (1 - no_hang);
    const json_t *s = rr_get(run, "summary");
    fprintf(f, "\nExpected mean latency: %.0f ms (measured %.1f ms): a request takes the delay "
               "when its calls are answered at once, ",
            mean_s * 1000, rr_num(s, "mean_ms"));
    if (retried)
        fprintf(f, "twice the delay when a reset call was sent again, ");
    fprintf(f, "UPSTREAM_TIMEOUT when one hung.");
    long long c = rr_int(rr_get(run, "config"), "concurrency");
    double ok_share = pow((1 - fs->error - fs->reset - fs->hang) *
                              (retried ? 1 + fs->reset : 1), (double)n);
    if (!run_report__is_open(run) && c > 0)
        fprintf(f, " A closed loop of %lld clients then gets %.1f ok responses a second (measured "
                   "%.1f) from a model with a place for each: the ceiling above is a clean "
                   "upstream's.",
                c, (double)c * ok_share / mean_s, rr_num(s, "rps"));
    fputc('\n', f);
}

/* Each upstream call draws one fault (slowapi/faults.c): with fan-out n,
 * a request is answered 200 when no call failed, 504 when one hung (the
 * server waits UPSTREAM_TIMEOUT for it), else 502. Over HTTP/1.1 a reset
 * comes before any byte of the answer, which on a kept-alive connection
 * reads as one the upstream closed meanwhile: the lab's client and curl
 * send the call again once on a new connection (upstream_h1.c), with a
 * draw of its own. Over h2c the reset stream fails the call. */
static void rr_md_faults(FILE *f, const json_t *run, const json_t *resources)
{
    const char *spec = rr_str(resources, "faults", NULL);
    faults_t fs = {0};
    char why[128];
    fprintf(f, "Injected faults: %s (seed %lld), drawn for each upstream call.", spec,
            rr_int(resources, "fault_seed"));
    long long n = rr_int(rr_get(run, "config"), "fanout");
    if (faults_parse(spec, &fs, why, sizeof why) < 0 || n <= 0 ||
        strcmp(rr_str(run, "workload", ""), "io") != 0) {
        fprintf(f, "\n");
        return;
    }
    const json_t *server = rr_get(run, "server");
    int retried = strcmp(rr_str(server, "upstream_http", "1.1"), "1.1") == 0;
    double call_ok = 1 - fs.error - fs.reset - fs.hang, call_hang = fs.hang;
    if (retried) {
        call_ok *= 1 + fs.reset;
        call_hang *= 1 + fs.reset;
    }
    double ok = pow(call_ok, (double)n);
    double timeout = 1 - pow(1 - call_hang, (double)n);
    double failed = 1 - ok - timeout;
    long long timeout_ms = rr_int(server, "upstream_timeout_ms");
    fprintf(f, " Expected with fan-out %lld: a request whose calls all succeed is answered "
               "200; one with a failed or reset call and none hung, %s; one with a hung call, "
               "%s once UPSTREAM_TIMEOUT",
            n, rr_code_name(run, 502), rr_code_name(run, 504));
    if (timeout_ms > 0)
        fprintf(f, " (%g s)", (double)timeout_ms / 1000);
    fprintf(f, " has passed; the server goes on serving.");
    if (fs.reset > 0)
        fprintf(f, retried ? " A reset call is sent again once (HTTP/1.1 upstream: a kept-alive "
                             "connection reset before any answer), so it fails only when its "
                             "second draw faults too."
                           : " A reset stream fails its call (h2c upstream).");
    if (fs.jitter > 0)
        fprintf(f, " Jitter of \xc2\xb1%g%% spreads the latencies, failing nothing.",
                fs.jitter * 100);
    fprintf(f, "\n\n| outcome | expected | measured | of the ended |\n|---|---:|---:|---:|\n");
    double ended = rr_ended(run);
    const json_t *s = rr_get(run, "summary");
    rr_md_outcome_row(f, "ok", ok, rr_int(s, "ok"), ended);
    rr_md_outcome_row(f, rr_code_name(run, 502), failed, rr_code_count(run, 502), ended);
    rr_md_outcome_row(f, rr_code_name(run, 504), timeout, rr_code_count(run, 504), ended);
    long long other = (long long)ended - rr_int(s, "ok") - rr_code_count(run, 502) -
                      rr_code_count(run, 504);
    rr_md_outcome_row(f, "anything else", 0, other, ended);
    rr_md_fault_latency(f, run, &fs, n, retried, timeout_ms);
}

/* What N slow clients should do to a server with this many places
 * (capacity, 0: unbounded) and this client timeout (a read's limit). */
static void rr_md_slow_expected(FILE *f, const json_t *run, const json_t *slow)
{
    const json_t *server = rr_get(run, "server");
    long long n = rr_int(slow, "count");
    double interval_s = rr_num(slow, "interval_s");
    long long concurrency = rr_int(rr_get(run, "config"), "concurrency");
    fprintf(f, " Expected: ");
    if (run_report__is_grpc(run)) {
        fprintf(f, "gRPC core reads every connection on its own threads, so a slow one holds a "
                   "connection, not a place of the model's.");
        return;
    }
    if (!json_is_integer(rr_get(server, "capacity"))) {
        fprintf(f, "unknown: the server did not say its capacity.");
        return;
    }
    long long capacity = rr_int(server, "capacity");
    if (capacity == 0) {
        fprintf(f, "no fixed number of places: each slow client costs a connection (and, "
                   "with a thread per connection, a thread), not the others' service.");
        return;
    }
    if (capacity > n) {
        long long left = capacity - n;
        fprintf(f, "they hold %lld of its %lld places and the load gets the other %lld", n,
                capacity, left);
        fprintf(f, ", %s its %lld clients%s", left >= concurrency ? "enough for" : "fewer than",
                concurrency, left >= concurrency ? "." : ": the load queues.");
        return;
    }
    fprintf(f, "they can hold all %lld of its places, so the model starves: the load and "
               "/healthz wait",
            capacity);
    long long client_ms = rr_int(server, "client_timeout_ms");
    if (client_ms > 0 && interval_s * 1000 < (double)client_ms)
        fprintf(f, "; CLIENT_TIMEOUT (%g s) limits each read, which a line every %g s never "
                   "reaches, so it frees no place (it does close clients that go silent).",
                (double)client_ms / 1000, interval_s);
    else if (client_ms > 0)
        fprintf(f, " until CLIENT_TIMEOUT (%g s) closes a slow client that is silent longer.",
                (double)client_ms / 1000);
    else
        fprintf(f, ".");
}

static void rr_md_slow_clients(FILE *f, const json_t *run, const json_t *resources)
{
    (void)resources;
    const json_t *slow = rr_get(run, "slow_clients");
    fprintf(f, "Slow clients: %lld beside the load, each sending %s every %g s and never a "
               "whole request; %lld connected when the load started, %lld held at the end, "
               "%lld closed by the server",
            rr_int(slow, "count"),
            run_report__is_grpc(run) ? "a byte of the HTTP/2 preface" : "a header line",
            rr_num(slow, "interval_s"), rr_int(slow, "connected_at_start"),
            rr_int(slow, "held_at_end"), rr_int(slow, "closed_by_server"));
    if (rr_int(slow, "closed_by_server") > 0)
        fprintf(f, " (408: %lld, 431: %lld, other answers: %lld; the longest held %.1f s)",
                rr_int(slow, "answered_408"), rr_int(slow, "answered_431"),
                rr_int(slow, "answered_other"), rr_num(slow, "held_max_s"));
    fprintf(f, ".");
    const json_t *probe = rr_get(slow, "healthz_probe");
    if (json_is_object(probe) && rr_int(probe, "probes") > 0)
        fprintf(f, " GET /healthz meanwhile, on a new connection every %lld ms: p50 %.1f ms, "
                   "p99 %.1f ms, max %.1f ms; %lld of %lld probes failed (not answered 200 in "
                   "%lld ms).",
                rr_int(probe, "interval_ms"), rr_num(probe, "p50_ms"), rr_num(probe, "p99_ms"),
                rr_num(probe, "max_ms"), rr_int(probe, "failed"), rr_int(probe, "probes"),
                rr_int(probe, "timeout_ms"));
    rr_md_slow_expected(f, run, slow);
    fprintf(f, "\n");
}

static void rr_md_kills(FILE *f, const json_t *run, const json_t *resources)
{
    const json_t *kills = rr_get(resources, "worker_kills");
    const json_t *server = rr_get(run, "server");
    const json_t *errors = rr_get(rr_get(run, "summary"), "errors");
    fprintf(f, "Worker kills: kill -9 of one worker every %g s: %zu kills",
            rr_num(resources, "kill_worker_every_s"), json_array_size(kills));
    size_t i;
    const json_t *k;
    json_array_foreach(kills, i, k)
        fprintf(f, "%s%.1f s (pid %lld)", i ? ", " : " at ", rr_num(k, "at_s"),
                rr_int(k, "pid"));
    long long threads = rr_int(server, "threads");
    fprintf(f, ". Expected: only the requests the killed worker held fail, as connection "
               "errors");
    if (threads > 0)
        fprintf(f, " (per kill, at most one for each of its %lld threads)", threads);
    fprintf(f, ", and its master starts another; the rest are served. Measured: connection "
               "errors read %lld, write %lld, connect %lld; timeouts %lld.\n",
            rr_int(errors, "read"), rr_int(errors, "write"), rr_int(errors, "connect"),
            rr_int(rr_get(run, "summary"), "timeouts"));
}

static int rr_has_faults(const json_t *run, const json_t *resources)
{
    (void)run;
    return rr_str(resources, "faults", NULL) != NULL;
}

static int rr_has_slow_clients(const json_t *run, const json_t *resources)
{
    (void)resources;
    return json_is_object(rr_get(run, "slow_clients"));
}

static int rr_has_kills(const json_t *run, const json_t *resources)
{
    (void)run;
    return json_is_array(rr_get(resources, "worker_kills"));
}

/* The parts of a scenario: whether a run has it, and its paragraph. */
static const struct {
    int (*present)(const json_t *run, const json_t *resources);
    void (*print)(FILE *f, const json_t *run, const json_t *resources);
} rr_scenario_parts[] = {
    {rr_has_faults, rr_md_faults},
    {rr_has_slow_clients, rr_md_slow_clients},
    {rr_has_kills, rr_md_kills},
};
#define RR_SCENARIO_PARTS (sizeof rr_scenario_parts / sizeof rr_scenario_parts[0])

int run_report__has_scenario(const json_t *run, const json_t *resources)
{
    for (size_t i = 0; i < RR_SCENARIO_PARTS; i++)
        if (rr_scenario_parts[i].present(run, resources))
            return 1;
    return 0;
}

void run_report__md_scenario(FILE *f, const json_t *run, const json_t *resources)
{
    if (!run_report__has_scenario(run, resources))
        return;
    fprintf(f, "\n## Scenario\n");
    for (size_t i = 0; i < RR_SCENARIO_PARTS; i++) {
        if (!rr_scenario_parts[i].present(run, resources))
            continue;
        fputc('\n', f);
        rr_scenario_parts[i].print(f, run, resources);
    }
}

void run_report__print_scenario(FILE *f, const json_t *run, const json_t *resources)
{
    if (!run_report__has_scenario(run, resources))
        return;
    const char *sep = "Scenario: ";
    const char *spec = rr_str(resources, "faults", NULL);
    if (spec != NULL) {
        fprintf(f, "%sfaults %s (seed %lld)", sep, spec, rr_int(resources, "fault_seed"));
        sep = "; ";
    }
    const json_t *slow = rr_get(run, "slow_clients");
    if (json_is_object(slow)) {
        fprintf(f, "%s%lld slow clients", sep, rr_int(slow, "count"));
        const json_t *probe = rr_get(slow, "healthz_probe");
        if (json_is_object(probe) && rr_int(probe, "probes") > 0)
            fprintf(f, " (/healthz p99 %.1f ms, %lld of %lld probes failed)",
                    rr_num(probe, "p99_ms"), rr_int(probe, "failed"), rr_int(probe, "probes"));
        sep = "; ";
    }
    const json_t *kills = rr_get(resources, "worker_kills");
    if (json_is_array(kills))
        fprintf(f, "%s%zu worker kills", sep, json_array_size(kills));
    fputc('\n', f);
}
