/* loadgen: the lab's load generator, closed loop or open (--rate), HTTP or
 * gRPC. main() reads like wrk's: parse the command line, ask the server
 * for its description (health.c), run the load (run.c), check that every
 * request is accounted for and the --check expressions, publish the
 * report (report.c). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "grpc_client.h"
#include "health.h"
#include "loadgen.h"
#include "log.h"
#include "parse.h"
#include "process.h"
#include "progress.h"
#include "report.h"
#include "run.h"
#include "run_check.h"
#include "run_report.h"
#include "samples_file.h"
#include "slow_clients.h"
#include "stats.h"
#include "url.h"
#include "verify.h"

#define PROGRAM "loadgen"
#define EXIT_USAGE 2
#define EXIT_CHECK_FAILED 3
#define EXIT_BUG 4
#define MAX_CONNECTIONS 1000000L
#define MAX_THREADS 1024L
#define MAX_SECONDS 1e7

enum {
    OPT_TIMEOUT = 256,
    OPT_WARMUP,
    OPT_DRAIN,
    OPT_RAMP,
    OPT_NO_KEEPALIVE,
    OPT_WAIT,
    OPT_OUT,
    OPT_VARIANT,
    OPT_WORKLOAD,
    OPT_MODE,
    OPT_FANOUT,
    OPT_DELAY,
    OPT_CAPACITY,
    OPT_JSON,
    OPT_GRPC,
    OPT_UPSTREAM,
    OPT_PROGRESS_FILE,
    OPT_NO_MARKDOWN,
    OPT_RATE,
    OPT_STEP,
    OPT_CHECK,
    OPT_SAMPLES,
    OPT_SLOW_CLIENTS,
    OPT_SLOW_INTERVAL,
    OPT_INSTANCE,
};

static const struct option long_options[] = {
    {"connections", required_argument, NULL, 'c'},
    {"duration", required_argument, NULL, 'd'},
    {"requests", required_argument, NULL, 'n'},
    {"threads", required_argument, NULL, 't'},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"ramp", required_argument, NULL, OPT_RAMP},
    {"no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE},
    {"wait", required_argument, NULL, OPT_WAIT},
    {"out", required_argument, NULL, OPT_OUT},
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"workload", required_argument, NULL, OPT_WORKLOAD},
    {"mode", required_argument, NULL, OPT_MODE},
    {"fanout", required_argument, NULL, OPT_FANOUT},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"capacity", required_argument, NULL, OPT_CAPACITY},
    {"json", required_argument, NULL, OPT_JSON},
    {"grpc", no_argument, NULL, OPT_GRPC},
    {"upstream", required_argument, NULL, OPT_UPSTREAM},
    {"progress-file", required_argument, NULL, OPT_PROGRESS_FILE},
    {"no-markdown", no_argument, NULL, OPT_NO_MARKDOWN},
    {"rate", required_argument, NULL, OPT_RATE},
    {"step", required_argument, NULL, OPT_STEP},
    {"check", required_argument, NULL, OPT_CHECK},
    {"samples", required_argument, NULL, OPT_SAMPLES},
    {"slow-clients", required_argument, NULL, OPT_SLOW_CLIENTS},
    {"slow-interval", required_argument, NULL, OPT_SLOW_INTERVAL},
    {"instance", required_argument, NULL, OPT_INSTANCE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(void)
{
    printf(
        "usage: loadgen [options] URL\n"
        "\n"
        "HTTP/1.1 (or gRPC) load, GET <path> on up to -c connections. Closed loop\n"
        "(the default): each connection sends the next request when the whole\n"
        "response is in. Open loop (--rate): requests are sent at planned times,\n"
        "whatever the server does, and latency counts from the plan. URL is\n"
        "http://host[:port]/path?query (IPv4; the host is resolved once).\n"
        "\n"
        "load:\n"
        "  -c, --connections N   concurrent connections (%d)\n"
        "  -d, --duration S      seconds of load (%g); -n overrides\n"
        "  -n, --requests N      exactly N requests in total, then stop when all ended\n"
        "  -t, --threads N       worker threads, each with its own epoll loop\n"
        "                        (default: the CPU count, at most -c)\n"
        "      --timeout S       per-request timeout (%g); a late request is closed,\n"
        "                        counted as a timeout, and the connection reconnects\n"
        "      --warmup S        requests issued in the first S seconds are left out of\n"
        "                        the statistics and counted apart (0)\n"
        "      --drain S         when the load ends, requests in flight may finish for up\n"
        "                        to S seconds; the rest are \"unfinished\" (%g)\n"
        "      --ramp S          start the connections evenly over S seconds instead of\n"
        "                        all at once (0); pair with --warmup S to leave it out\n"
        "      --no-keepalive    send \"Connection: close\", a new connection per request\n"
        "      --rate SPEC       open loop: R requests/s in total (50), a ramp FROM:TO:Ts\n"
        "                        (50:400:10s: linear over 10 s, then TO until -d ends),\n"
        "                        or steps R1,R2,... with --step. Each request has a\n"
        "                        planned send time; it waits for a free connection (up\n"
        "                        to -c, opened as needed) and that wait counts. Latency\n"
        "                        is reported from the plan (corrected) and from the\n"
        "                        send (uncorrected); a request not sent by the load's\n"
        "                        end is \"late\": issued + late = planned\n"
        "      --step S          with --rate R1,R2,...: each rate for S seconds (the\n"
        "                        duration is their sum), each step reported apart\n"
        "      --wait S          first poll GET /healthz on the URL's host:port until it\n"
        "                        answers 200, for up to S seconds (else exit 1); with\n"
        "                        --upstream, the upstream's too\n"
        "      --grpc            unary gRPC calls (HTTP/2, one connection per thread)\n"
        "                        instead of HTTP GETs: /io and /cpu call bench.Bench's\n"
        "                        Io and Cpu (proto/bench.proto), another path is the\n"
        "                        method; --timeout is each call's deadline; --wait\n"
        "                        polls grpc.health.v1.Health/Check; the server's\n"
        "                        description comes from bench.Bench/Describe. A status\n"
        "                        other than OK counts by its gRPC code in \"http errors\",\n"
        "                        DEADLINE_EXCEEDED at the deadline as a timeout, and\n"
        "                        UNAVAILABLE before any answer as a connect error\n"
        "      --progress-file PATH  about every second and once at the end, replace\n"
        "                        PATH (temporary file + rename) with one line of JSON:\n"
        "                        phase (wait, warmup, load, drain, done), elapsed_s,\n"
        "                        planned_s, requests, issued, done, ok, errors, rps\n"
        "                        (over the last second); for callers without a TTY.\n"
        "                        PATH - writes the lines to stderr instead (a log)\n"
        "      --check EXPRS     pass/fail checks on the report, comma-separated\n"
        "                        METRIC OP VALUE: p99<1100ms,rps>95,failures=0 (metrics:\n"
        "                        p50..p100, min, mean, max [us|ms|s], p99_uncorrected,\n"
        "                        rps, ok, issued, failures, timeouts, errors,\n"
        "                        http_errors, unfinished, late, error_rate,\n"
        "                        of_ceiling [%%]); a bad expression exits 2 before any\n"
        "                        load, a failed check exits 3 after the report\n"
        "      --samples FILE    every request as gzip'd CSV (docs/REPORT.md, \"The\n"
        "                        samples file\"): planned and send time, latency,\n"
        "                        bucket, status; never replaces an existing FILE\n"
        "      --slow-clients N  beside the load, N slowloris-style connections that\n"
        "                        never finish a request: a request line, then one\n"
        "                        header line every --slow-interval (gRPC: the HTTP/2\n"
        "                        preface, a byte per interval); one the server closes\n"
        "                        is opened again. They connect before the load starts.\n"
        "                        An HTTP server's GET /healthz is probed meanwhile on a\n"
        "                        new connection every %d ms (\"slow_clients\" in the\n"
        "                        report)\n"
        "      --slow-interval S  (%g)\n"
        "report:\n"
        "      --out DIR         write DIR/<UTC>_<variant>_<workload>.json and .md\n"
        "                        (atomic; an existing name gets -2, -3, ...)\n"
        "      --no-markdown     with --out, write the JSON only (under a name whose\n"
        "                        .md is free: run.sh renders it later, with resources)\n"
        "      --variant NAME    (default: \"variant\" from the server's /healthz)\n"
        "      --workload NAME   (default: the URL's path without \"/\")\n"
        "      --mode MODE       docker | native (native)\n"
        "      --fanout N        recorded in the report; with --upstream, the upstream\n"
        "                        calls an io request should make\n"
        "      --delay S         the upstream delay: sets the io workload's ceiling,\n"
        "                        min(c, capacity) / delay requests per second, and the\n"
        "                        service time of the served-share rps\n"
        "      --capacity N      override the server's reported capacity (0 = unbounded)\n"
        "      --instance NAME   one of several loadgens of one run (LOADGEN_INSTANCE; run.sh\n"
        "                        --swarm --load-nodes): recorded in the report, and _NAME\n"
        "                        ends its file names (and the --samples file's, before\n"
        "                        .samples.csv.gz), so that the loadgens' files differ\n"
        "      --json FILE       also write the JSON report to FILE (\"-\": to stdout,\n"
        "                        and the summary goes to stderr)\n"
        "      --upstream URL    slowapi's base URL: read its calls_total (GET URL/stats,\n"
        "                        2 s timeout) before the load and after the drain, and\n"
        "                        report the upstream calls per answered request against\n"
        "                        the expected (--fanout for io, 0 for cpu): \"verify\"\n"
        "  -h, --help            this text\n"
        "\n"
        "Every issued request ends in one bucket: ok (2xx), http error (by status),\n"
        "timeout, connection error (connect, read, write, parse) or unfinished.\n"
        "Latency runs from issue (connect included; open loop: from the planned send)\n"
        "to the last response byte; percentiles are exact (nearest rank) over all\n"
        "responses after the warm-up. The JSON holds a per-second series.\n"
        "The window runs from the warm-up's end to the load's end (with -n: to the last\n"
        "request's end). rps (served share) counts each ok response for the part of its\n"
        "last s seconds inside the window, s = min(--delay, its latency), so a queue's\n"
        "waiting time is not counted and rps cannot exceed the ceiling; the time share\n"
        "(issue to end) and the difference's bound, rps_error, are reported beside it\n"
        "(docs/REPORT.md).\n"
        "\n"
        "stdout: the summary. stderr: a progress line on a TTY, report paths.\n"
        "SIGINT/SIGTERM: stop issuing, drain, write the report (a second one ends\n"
        "the drain at once).\n"
        "Environment: LOG_LEVEL; LAB_GIT_COMMIT, LAB_DOCKER_VERSION,\n"
        "LAB_COMPOSE_VERSION, LAB_CPUS are recorded in the report.\n"
        "Exit: 0 done (failures are data), 1 start-up or report failure (server not\n"
        "healthy, cannot write), 2 bad usage, 3 a --check failed, 4 accounting bug\n"
        "(never expected).\n",
        LG_DEFAULT_CONNECTIONS, LG_DEFAULT_DURATION_S, LG_DEFAULT_TIMEOUT_S, LG_DEFAULT_DRAIN_S,
        LG_SLOW_PROBE_INTERVAL_MS, LG_SLOW_DEFAULT_INTERVAL_S);
}

__attribute__((format(printf, 1, 2), noreturn)) static void die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROGRAM ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(EXIT_USAGE);
}

static long opt_long(const char *flag, const char *s, long min, long max)
{
    long v;
    if (parse_long(s, min, max, &v) < 0)
        die_usage("%s: expected an integer in %ld..%ld, got \"%s\"", flag, min, max, s);
    return v;
}

static double opt_seconds(const char *flag, const char *s, double min, int zero_ok)
{
    double v;
    if (parse_double(s, min, MAX_SECONDS, &v) < 0 || (!zero_ok && v <= 0))
        die_usage("%s: expected %s number of seconds, got \"%s\"", flag,
                  zero_ok ? "a non-negative" : "a positive", s);
    return v;
}

static int machine_cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static int cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return machine_cpu_count();
}

/* --check and --samples are refused before any load: a mistyped check
 * must not pass silently, nor a run's samples be lost to a path that
 * cannot take them. */
static void check_outputs(const lg_config_t *cfg, run_check_list_t *checks)
{
    char err[LG_ERR_MAX * 2];
    if (cfg->check_text != NULL && run_check_parse(cfg->check_text, checks, err, sizeof err) < 0)
        die_usage("--check: %s", err);
    if (cfg->samples_path != NULL &&
        samples_file_check_target(cfg->samples_path, err, sizeof err) < 0)
        die_usage("--samples: %s", err);
}

/* --rate and what goes with it: the plan parsed, and the flags that only
 * make sense in one loop refused. */
static void check_open_loop(lg_config_t *cfg)
{
    char err[LG_ERR_MAX];
    if (cfg->rate_text == NULL) {
        if (cfg->step_s > 0)
            die_usage("--step applies to --rate R1,R2,...");
        return;
    }
    if (cfg->requests > 0)
        die_usage("-n does not apply to --rate: an open loop runs for a time (-d)");
    if (cfg->ramp_s > 0)
        die_usage("--ramp applies to the closed loop; --rate FROM:TO:Ts ramps an open loop");
    if (lg_schedule_parse(cfg->rate_text, cfg->step_s, cfg->duration_s, &cfg->schedule, err,
                          sizeof err) < 0)
        die_usage("%s", err);
    if (cfg->schedule.kind == LG_RATE_STEPS) {
        if (cfg->duration_given && cfg->duration_s != cfg->schedule.duration_s)
            die_usage("-d %g: --rate %s with --step %g lasts %g s (leave -d out)", cfg->duration_s,
                      cfg->rate_text, cfg->step_s, cfg->schedule.duration_s);
        cfg->duration_s = cfg->schedule.duration_s;
    }
}

/* --instance, else LOADGEN_INSTANCE: a name of [A-Za-z0-9._-], which also
 * goes into the --samples file's name, before ".samples.csv.gz" (or at
 * its end), so that loadgens started with one command line write apart. */
static void check_instance(lg_config_t *cfg)
{
    if (cfg->instance == NULL) {
        const char *env = getenv("LOADGEN_INSTANCE");
        cfg->instance = env != NULL && *env != '\0' ? env : NULL;
    }
    if (cfg->instance == NULL)
        return;
    size_t n = strlen(cfg->instance);
    if (n == 0 || n > 64 || strspn(cfg->instance, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                  "0123456789._-") != n)
        die_usage("--instance: expected 1 to 64 of A-Z a-z 0-9 . _ -, got \"%s\"", cfg->instance);
    if (cfg->samples_path == NULL)
        return;
    static const char suffix[] = ".samples.csv.gz";
    size_t len = strlen(cfg->samples_path), keep = len;
    if (len >= sizeof suffix - 1 && strcmp(cfg->samples_path + len - (sizeof suffix - 1), suffix) == 0)
        keep = len - (sizeof suffix - 1);
    int w = snprintf(cfg->samples_buf, sizeof cfg->samples_buf, "%.*s_%s%s", (int)keep,
                     cfg->samples_path, cfg->instance, cfg->samples_path + keep);
    if (w < 0 || (size_t)w >= sizeof cfg->samples_buf)
        die_usage("--samples: the path is too long");
    cfg->samples_path = cfg->samples_buf;
}

static void parse_args(int argc, char **argv, lg_config_t *cfg)
{
    lg_run_config_defaults(cfg);
    int opt;
    opterr = 0; /* our messages, in our format */
    while ((opt = getopt_long(argc, argv, ":c:d:n:t:h", long_options, NULL)) != -1) {
        switch (opt) {
        case 'c':
            cfg->connections = opt_long("-c", optarg, 1, MAX_CONNECTIONS);
            break;
        case 'd':
            cfg->duration_s = opt_seconds("-d", optarg, 0, 0);
            cfg->duration_given = 1;
            break;
        case 'n':
            cfg->requests = opt_long("-n", optarg, 1, LONG_MAX);
            break;
        case 't':
            cfg->threads = opt_long("-t", optarg, 1, MAX_THREADS);
            break;
        case OPT_TIMEOUT:
            cfg->timeout_s = opt_seconds("--timeout", optarg, 0, 0);
            break;
        case OPT_WARMUP:
            cfg->warmup_s = opt_seconds("--warmup", optarg, 0, 1);
            break;
        case OPT_DRAIN:
            cfg->drain_s = opt_seconds("--drain", optarg, 0, 1);
            break;
        case OPT_RAMP:
            cfg->ramp_s = opt_seconds("--ramp", optarg, 0, 1);
            break;
        case OPT_NO_KEEPALIVE:
            cfg->keepalive = 0;
            break;
        case OPT_WAIT:
            cfg->wait_s = opt_seconds("--wait", optarg, 0, 0);
            break;
        case OPT_OUT:
            cfg->out_dir = optarg;
            break;
        case OPT_VARIANT:
            cfg->variant = optarg;
            break;
        case OPT_WORKLOAD:
            cfg->workload = optarg;
            break;
        case OPT_MODE:
            if (strcmp(optarg, "docker") != 0 && strcmp(optarg, "native") != 0)
                die_usage("--mode: expected docker or native, got \"%s\"", optarg);
            cfg->mode = optarg;
            break;
        case OPT_FANOUT:
            cfg->fanout = opt_long("--fanout", optarg, 0, INT_MAX);
            break;
        case OPT_DELAY:
            cfg->delay_s = opt_seconds("--delay", optarg, 0, 0);
            break;
        case OPT_CAPACITY:
            cfg->capacity = opt_long("--capacity", optarg, 0, MAX_CONNECTIONS);
            break;
        case OPT_JSON:
            cfg->json_path = optarg;
            break;
        case OPT_GRPC:
            cfg->grpc = 1;
            break;
        case OPT_UPSTREAM:
            cfg->upstream_text = optarg;
            break;
        case OPT_PROGRESS_FILE:
            if (*optarg == '\0')
                die_usage("--progress-file: expected a path");
            cfg->progress_path = optarg;
            break;
        case OPT_NO_MARKDOWN:
            cfg->no_markdown = 1;
            break;
        case OPT_RATE:
            cfg->rate_text = optarg;
            break;
        case OPT_STEP:
            cfg->step_s = opt_seconds("--step", optarg, 0, 0);
            break;
        case OPT_CHECK:
            cfg->check_text = optarg;
            break;
        case OPT_SAMPLES:
            if (*optarg == '\0')
                die_usage("--samples: expected a path");
            cfg->samples_path = optarg;
            break;
        case OPT_SLOW_CLIENTS:
            cfg->slow_clients = opt_long("--slow-clients", optarg, 0, MAX_CONNECTIONS);
            break;
        case OPT_SLOW_INTERVAL:
            cfg->slow_interval_s = opt_seconds("--slow-interval", optarg, 0, 0);
            break;
        case OPT_INSTANCE:
            cfg->instance = optarg;
            break;
        case 'h':
            usage();
            exit(0);
        case ':':
            if (optopt > 0 && optopt < 256)
                die_usage("-%c needs a value (see --help)", optopt);
            die_usage("%s needs a value (see --help)", argv[optind - 1]);
        default:
            if (optopt > 0 && optopt < 256)
                die_usage("unknown option -%c (see --help)", optopt);
            die_usage("unknown option %s (see --help)", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        die_usage("a URL is required (see --help)");
    if (optind != argc - 1)
        die_usage("one URL only, got \"%s\" after it", argv[optind + 1]);
    cfg->url_text = argv[optind];
    check_instance(cfg);
    char err[LG_ERR_MAX];
    if (lg_url_parse(cfg->url_text, &cfg->url, err, sizeof err) < 0)
        die_usage("%s", err);
    if (cfg->upstream_text && lg_url_parse(cfg->upstream_text, &cfg->upstream, err, sizeof err) < 0)
        die_usage("--upstream: %s", err);
    if (cfg->grpc && !cfg->keepalive)
        die_usage("--no-keepalive does not apply to --grpc (one HTTP/2 connection per thread)");
    char method[LG_GRPC_METHOD_MAX];
    if (cfg->grpc && lg_grpc_client_method(&cfg->url, method, sizeof method, err, sizeof err) < 0)
        die_usage("%s", err);
    if (cfg->threads == 0) {
        int cpus = cpu_count();
        cfg->threads = cpus < cfg->connections ? cpus : cfg->connections;
    } else if (cfg->threads > cfg->connections) {
        die_usage("-t %ld is more than -c %ld: each thread needs a connection", cfg->threads,
                  cfg->connections);
    }
    check_open_loop(cfg);
    if (cfg->requests == 0 && cfg->ramp_s >= cfg->duration_s)
        die_usage("--ramp %g must be shorter than -d %g", cfg->ramp_s, cfg->duration_s);
    if (cfg->requests == 0 && cfg->warmup_s >= cfg->duration_s)
        die_usage("--warmup %g leaves nothing of -d %g to measure", cfg->warmup_s,
                  cfg->duration_s);
}

/* Raise the descriptor limit to the hard limit and check that every
 * connection gets one. */
static void check_fd_limit(const lg_config_t *cfg)
{
    rlim_t limit;
    int rc = process_raise_nofile(&limit);
    if (rc < 0 && limit == 0)
        die_usage("the open-file limit: %s", strerror(-rc));
    if (rc < 0)
        log_debug("raising the open-file limit: %s", strerror(-rc));
    long slow = cfg->slow_clients > 0 ? cfg->slow_clients + LG_SLOW_FDS : 0;
    unsigned long long need = (unsigned long long)cfg->connections +
                              (unsigned long long)cfg->threads * LG_FDS_PER_THREAD +
                              LG_FDS_RESERVED + (unsigned long long)slow;
    if (limit != RLIM_INFINITY && need > limit)
        die_usage("-c %ld needs %llu file descriptors (%ld connections + %d per thread + %d"
                  " + %ld for --slow-clients), limit is %llu (raise ulimit -n)",
                  cfg->connections, need, cfg->connections, LG_FDS_PER_THREAD, LG_FDS_RESERVED,
                  slow, (unsigned long long)limit);
}

/* The progress file's first line, while loadgen waits for the server. */
static void progress_file_wait(const lg_config_t *cfg)
{
    char err[LG_ERR_MAX];
    lg_progress_state_t st = {
        .phase = "wait",
        .planned_s = cfg->requests > 0 ? -1 : cfg->duration_s,
        .requests = cfg->requests,
    };
    if (lg_progress_file_write(cfg->progress_path, &st, err, sizeof err) < 0)
        log_warn("--progress-file: %s (the run goes on)", err);
}

/* How the report names the samples file: by its name alone when it lies in
 * --out DIR beside the report (the folder can then move, in a container's
 * /results or an archive), else as given. */
static const char *samples_name(const lg_config_t *cfg)
{
    const char *slash = strrchr(cfg->samples_path, '/');
    if (cfg->out_dir == NULL)
        return cfg->samples_path;
    char dir[PATH_MAX], out[PATH_MAX], folder[PATH_MAX];
    snprintf(folder, sizeof folder, "%.*s", slash ? (int)(slash - cfg->samples_path) : 1,
             slash ? cfg->samples_path : ".");
    if (slash == cfg->samples_path)
        snprintf(folder, sizeof folder, "/");
    if (realpath(folder, dir) == NULL || realpath(cfg->out_dir, out) == NULL ||
        strcmp(dir, out) != 0)
        return cfg->samples_path;
    return slash ? slash + 1 : cfg->samples_path;
}

/* --samples: every request, written before the report names the file. */
static int write_samples(const lg_config_t *cfg, const lg_run_result_t *run, const char *variant,
                         const char *workload)
{
    char err[LG_ERR_MAX * 2], m_variant[LG_TARGET_MAX + 16], m_workload[LG_TARGET_MAX + 16],
        m_load[32], m_rate[LG_RATE_TEXT_MAX + 8];
    snprintf(m_variant, sizeof m_variant, "variant=%s", variant);
    snprintf(m_workload, sizeof m_workload, "workload=%s", workload);
    snprintf(m_load, sizeof m_load, "load=%s", cfg->rate_text ? "open" : "closed");
    snprintf(m_rate, sizeof m_rate, "rate=%s", cfg->rate_text ? cfg->rate_text : "");
    const char *meta[] = {m_variant, m_workload, m_load, m_rate, NULL};
    if (samples_file_write(cfg->samples_path, meta, run->stats.samples, run->stats.sample_count,
                           err, sizeof err) < 0) {
        fprintf(stderr, PROGRAM ": --samples: %s\n", err);
        return -1;
    }
    fprintf(stderr, PROGRAM ": wrote %s (%zu requests)\n", cfg->samples_path,
            run->stats.sample_count);
    return 0;
}

/* --upstream: the check from slowapi's counter, around the run. */
static void verify_run(const lg_config_t *cfg, const lg_verify_reading_t *before,
                       const lg_stats_t *stats, const char *workload, lg_verify_t *v)
{
    lg_verify_reading_t after = {0};
    if (before->ok)
        lg_verify_read(&cfg->upstream, "after the drain", &after);
    const lg_buckets_t *b = &stats->buckets;
    lg_verify_make(v, before, &after, lg_stats_answered(stats),
                   lg_verify_expected(workload, cfg->fanout),
                   lg_buckets_failures(b) + b->unfinished);
    if (!v->counted)
        fprintf(stderr, PROGRAM ": note: --upstream: %s\n", v->note);
}

/* The command line, checked as far as it can be before any load: the
 * URLs resolved, the descriptors the connections need, the checks parsed. */
static void setup(int argc, char **argv, lg_config_t *cfg, run_check_list_t *checks)
{
    if (log_init(PROGRAM) < 0)
        die_usage("LOG_LEVEL: expected error, warn, info or debug");
    parse_args(argc, argv, cfg);
    check_outputs(cfg, checks);
    /* With --wait, a name not served yet (a peer's task still starting)
     * is asked for again within the wait, which then has what is left. */
    char err[LG_ERR_MAX];
    uint64_t start_ns = clock_now_ns();
    if (lg_url_resolve_within(&cfg->url, cfg->wait_s, err, sizeof err) < 0)
        die_usage("%s", err);
    if (cfg->upstream_text &&
        lg_url_resolve_within(&cfg->upstream, cfg->wait_s, err, sizeof err) < 0)
        die_usage("--upstream: %s", err);
    if (cfg->wait_s > 0) {
        double spent_s = (double)(clock_now_ns() - start_ns) / 1e9;
        cfg->wait_s = cfg->wait_s > spent_s + 0.001 ? cfg->wait_s - spent_s : 0.001;
    }
    check_fd_limit(cfg);
    /* Sockets use MSG_NOSIGNAL; this covers a closed stdout pipe too. */
    signal(SIGPIPE, SIG_IGN);
    if (cfg->grpc)
        grpc_init();
}

/* SIGINT and SIGTERM as a signalfd, blocked before the workers start
 * (they inherit the mask), so that only the main thread sees them.
 * Returns the descriptor, or -1 (said on stderr). */
static int stop_signal_fd(void)
{
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    int rc = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    int fd = rc == 0 ? signalfd(-1, &stop_signals, SFD_CLOEXEC | SFD_NONBLOCK) : -1;
    if (fd < 0)
        fprintf(stderr, PROGRAM ": signalfd: %s\n", strerror(rc ? rc : errno));
    return fd;
}

/* The invariants of every run. If one fails, the numbers are wrong and
 * must not be published. */
static int accounting_balances(const lg_buckets_t *b, int open_loop)
{
    if (lg_buckets_balanced(b, open_loop))
        return 1;
    fprintf(stderr,
            PROGRAM ": BUG: accounting does not balance: issued %llu != ok %llu + http "
            "errors %llu + timeouts %llu + connection errors %llu + unfinished %llu, or "
            "issued + late %llu != planned %llu\n",
            (unsigned long long)b->issued, (unsigned long long)b->ok,
            (unsigned long long)lg_buckets_http_errors(b), (unsigned long long)b->timeouts,
            (unsigned long long)lg_buckets_conn_errors(b), (unsigned long long)b->unfinished,
            (unsigned long long)b->late, (unsigned long long)b->planned);
    return 0;
}

/* What the run is called in its report: the workload (--workload, else
 * the URL's path) and the variant (--variant, else the server's own). */
typedef struct names {
    const char *variant;
    const char *workload;
    char workload_buf[LG_TARGET_MAX];
} names_t;

static void name_run(lg_config_t *cfg, const json_t *server, names_t *n)
{
    n->workload = cfg->workload;
    if (n->workload == NULL) {
        lg_url_workload(&cfg->url, n->workload_buf, sizeof n->workload_buf);
        n->workload = n->workload_buf;
    }
    /* Only io requests hold the server for the upstream delay: a cpu
     * request's service time is its own, so its rate is the time share. */
    cfg->service_s = strcmp(n->workload, "io") == 0 && cfg->delay_s > 0 ? cfg->delay_s : 0;
    n->variant = cfg->variant;
    if (n->variant == NULL) {
        json_t *v = server ? json_object_get(server, "variant") : NULL;
        n->variant = json_is_string(v) ? json_string_value(v) : "unknown";
    }
}

/* The samples, then the report with the checks' verdicts. Returns the
 * exit status: 0, 1 (something could not be written) or 3 (a check
 * failed). */
static int publish(const lg_config_t *cfg, const run_check_list_t *checks, lg_run_result_t *run,
                   const json_t *server, const lg_verify_t *verify, const char *upstream_cpu_model,
                   const lg_slow_result_t *slow, const names_t *n)
{
    static run_check_result_t check_results[RUN_CHECK_MAX];
    int checks_failed = 0, rc = 0;
    lg_result_t res = {
        .cfg = cfg,
        .stats = &run->stats,
        .threads = cfg->threads,
        .duration_s = run->duration_s,
        .warmup_end_s = run->warmup_end_s,
        .window_end_s = run->window_end_s,
        .server = server,
        .verify = verify,
        .upstream_cpu_model = upstream_cpu_model,
        .slow = slow,
        .variant = n->variant,
        .workload = n->workload,
        .started_at = run->started_at,
        .interrupted = run->stop_level > 0,
        .cpus = cpu_count(),
        .machine_cpus = machine_cpu_count(),
        .checks = cfg->check_text ? checks : NULL,
        .check_results = check_results,
        .checks_failed = &checks_failed,
    };
    if (cfg->samples_path != NULL) {
        if (write_samples(cfg, run, n->variant, n->workload) < 0)
            rc = 1;
        else
            res.samples_path = samples_name(cfg);
        res.samples_rows = run->stats.sample_count;
    }
    struct utsname uts;
    snprintf(res.kernel, sizeof res.kernel, "%s", uname(&uts) == 0 ? uts.release : "unknown");
    if (res.interrupted)
        fprintf(stderr, PROGRAM ": stopped by a signal: the report covers the run so far\n");
    rc |= lg_report_write_all(&res);
    if (rc == 0 && checks_failed > 0) {
        fprintf(stderr, PROGRAM ": %d of %zu checks failed\n", checks_failed, checks->count);
        rc = EXIT_CHECK_FAILED;
    }
    return rc;
}

int main(int argc, char **argv)
{
    lg_config_t cfg;
    static run_check_list_t checks;
    setup(argc, argv, &cfg, &checks);
    if (cfg.progress_path && cfg.wait_s > 0)
        progress_file_wait(&cfg);
    json_t *server = NULL;
    char why[LG_ERR_MAX * 2];
    if (lg_health_describe(&cfg, &server, why, sizeof why) < 0) {
        fprintf(stderr, PROGRAM ": %s\n", why);
        return 1;
    }
    if (server == NULL && why[0] != '\0')
        fprintf(stderr, PROGRAM ": note: %s\n", why);
    static names_t names;
    name_run(&cfg, server, &names);
    int sig_fd = stop_signal_fd();
    if (sig_fd < 0)
        return 1;

    lg_verify_reading_t upstream_before = {0};
    static char upstream_cpu[128];
    if (cfg.upstream_text) {
        if (lg_health_upstream(&cfg, upstream_cpu, sizeof upstream_cpu, why, sizeof why) < 0) {
            fprintf(stderr, PROGRAM ": %s\n", why);
            return 1;
        }
        lg_verify_read(&cfg.upstream, "before the load", &upstream_before);
    }
    lg_run_result_t run;
    char run_err[LG_ERR_MAX * 2];
    lg_slow_clients_t *slow = NULL;
    static lg_slow_result_t slow_result;
    if (cfg.slow_clients > 0 && lg_slow_clients_start(&cfg, &slow, run_err, sizeof run_err) < 0) {
        fprintf(stderr, PROGRAM ": %s\n", run_err);
        return 1;
    }
    int run_rc = lg_run_load(&cfg, sig_fd, &run, run_err, sizeof run_err);
    if (slow != NULL)
        lg_slow_clients_stop(slow, &slow_result);
    if (run_rc < 0) {
        fprintf(stderr, PROGRAM ": %s\n", run_err);
        return 1;
    }
    if (!accounting_balances(&run.stats.buckets, cfg.rate_text != NULL))
        return EXIT_BUG;
    lg_verify_t verify;
    if (cfg.upstream_text)
        verify_run(&cfg, &upstream_before, &run.stats, names.workload, &verify);

    int rc = publish(&cfg, &checks, &run, server, cfg.upstream_text ? &verify : NULL,
                     upstream_cpu[0] != '\0' ? upstream_cpu : NULL,
                     slow != NULL ? &slow_result : NULL, &names);
    lg_stats_free(&run.stats);
    json_decref(server);
    (void)close(sig_fd);
    if (cfg.grpc)
        grpc_shutdown();
    return rc;
}
