/* Server configuration: defaults < environment < flags. */
#include "server.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "parse.h"

#define DEFAULT_PORT 3000
#define DEFAULT_BACKLOG 4096
#define DEFAULT_SLOW_API_URL "http://127.0.0.1:8001/?delay=1"
#define DEFAULT_FANOUT 10
#define DEFAULT_UPSTREAM_TIMEOUT_S 5.0
#define DEFAULT_CLIENT_TIMEOUT_S 60.0
#define DEFAULT_CPU_ITERATIONS 1000
#define VARIANT_NAME_MAX 48
#define VARIANT_NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789-"
#define DEFAULT_GRACE_PERIOD_S 30.0 /* gunicorn's graceful_timeout */

int server_capacity;
const variant_t *server_variant;
const server_config_t *server_config;

static void usage(const variant_t *v, FILE *out)
{
    /* The same settings, named as each protocol names its routes. */
    unsigned has = v->settings;
    int http = (has & SETTINGS_HTTP) != 0;
    const char *io = http ? "/io" : "Io", *cpu = http ? "/cpu" : "Cpu";
    fprintf(out, "usage: %s [options]\n%s server of the deployment-model lab (%s).\n", v->name,
            v->name, v->model);
    if (http)
        fputs("Routes: GET /io (FANOUT calls to SLOW_API_URL), GET /cpu, GET /healthz.\n", out);
    else
        fputs("Service: bench.Bench (Io: FANOUT calls to SLOW_API_URL; Cpu; Describe) and\n"
              "grpc.health.v1.Health, over gRPC (HTTP/2 without TLS).\n",
              out);
    fprintf(out,
            "\noptions (environment variable in brackets):\n"
            "  --variant NAME           the name %s reports, a preset's name such\n"
            "                           as threadpool-50 [VARIANT] (%s)\n"
            "  --host ADDR              listen address [HOST] (0.0.0.0)\n"
            "  --port N                 listen port, 0 = any free port [PORT] (%d)\n",
            http ? "/healthz" : "Describe", v->name, DEFAULT_PORT);
    if (http)
        fprintf(out, "  --backlog N              listen backlog [BACKLOG] (%d)\n", DEFAULT_BACKLOG);
    fprintf(out,
            "  --slow-api-url URL       upstream called by %s [SLOW_API_URL]\n"
            "                           (%s)\n"
            "  --slow-api-ports N       spread the calls over N consecutive ports from the\n"
            "                           URL's (slowapi --ports): a client has one range of\n"
            "                           ephemeral ports per destination [SLOW_API_PORTS] (1)\n"
            "  --fanout N               concurrent upstream calls per %s [FANOUT] (%d)\n"
            "  --upstream-timeout S     per upstream call, then %s [UPSTREAM_TIMEOUT] (%g)\n"
            "  --upstream-http V        1.1, or 2: HTTP/2 without TLS (h2c), the\n"
            "                           calls of a fan-out as streams of one connection\n"
            "                           [UPSTREAM_HTTP] (1.1)\n",
            io, DEFAULT_SLOW_API_URL, io, DEFAULT_FANOUT, http ? "504" : "DEADLINE_EXCEEDED",
            DEFAULT_UPSTREAM_TIMEOUT_S);
    if (http)
        fprintf(out,
                "  --client-timeout S       idle or slow client, then close [CLIENT_TIMEOUT] "
                "(%g)\n",
                DEFAULT_CLIENT_TIMEOUT_S);
    fprintf(out, "  --cpu-iterations N       %s's long_running(N) [CPU_ITERATIONS] (%d)\n", cpu,
            DEFAULT_CPU_ITERATIONS);
    if (has & SETTINGS_THREADS)
        fprintf(out, "  --threads N              worker threads [THREADS] (%d)\n",
                v->threads > 0 ? v->threads : 1);
    if (has & SETTINGS_WORKERS)
        fprintf(out,
                "  --workers N              worker processes [WORKERS] (%d)\n"
                "  --accept MODE            shared (one socket for all workers) or reuseport\n"
                "                           (a socket per worker) [ACCEPT] (shared)\n"
                "  --master                 run under a master process even with one worker;\n"
                "                           more workers always have one [MASTER=1]\n",
                v->workers > 0 ? v->workers : 1);
    if (has & SETTINGS_CONNECTIONS)
        fprintf(out,
                "  --connections N          connections served at once per worker process\n"
                "                           [CONNECTIONS] (%d)\n",
                v->connections);
    if (has & SETTINGS_GRACE)
        fprintf(out,
                "  --grace-period S         on SIGTERM, time for requests in flight [GRACE_PERIOD]\n"
                "                           (%g)\n",
                DEFAULT_GRACE_PERIOD_S);
    fputs("  --ready-fd FD            write the port to FD once listening [READY_FD]\n"
          "  -h, --help               this help\n"
          "Settings of other models are refused as flags and ignored in the environment.\n"
          "Logging: LOG_LEVEL=error|warn|info|debug.\n",
          out);
}

static void die_usage(const variant_t *v, const char *what, const char *value, const char *why)
{
    cli_usage_error(v->name, what, "'%s': %s (see --help)", value, why);
    exit(CLI_EXIT_USAGE);
}

static long want_long(const variant_t *v, const char *what, const char *s, long min, long max)
{
    long out;
    int rc = parse_long(s, min, max, &out);
    if (rc == -EINVAL)
        die_usage(v, what, s, "not an integer");
    if (rc == -ERANGE) {
        char why[64];
        snprintf(why, sizeof why, "must be between %ld and %ld", min, max);
        die_usage(v, what, s, why);
    }
    return out;
}

static long want_ms(const variant_t *v, const char *what, const char *s)
{
    double sec;
    int rc = parse_double(s, 0.001, 3600.0, &sec);
    if (rc != 0)
        die_usage(v, what, s, "must be a number of seconds between 0.001 and 3600");
    return (long)(sec * 1000.0 + 0.5);
}

static void set_url(const variant_t *v, server_config_t *cfg, const char *what, const char *s)
{
    if (strncmp(s, "http://", 7) != 0 || strlen(s) < 8)
        die_usage(v, what, s, "must be an http:// URL");
    /* It is echoed in /healthz's JSON: keep it free of quoting trouble. */
    for (const char *p = s; *p != '\0'; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p <= ' ')
            die_usage(v, what, s, "must not contain quotes, backslashes or blanks");
    if (strlen(s) >= sizeof cfg->slow_api_url)
        die_usage(v, what, s, "too long");
    strcpy(cfg->slow_api_url, s);
}

/* The port of an http:// URL: after the host's last ':' ("[v6]:port"
 * too), 80 without one; -1 when it is not a port number. */
static int url_port(const char *url)
{
    const char *auth = url + strlen("http://");
    size_t len = strcspn(auth, "/?");
    const char *end = auth + len, *colon = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == ':')
            colon = p;
        else if (*p == ']')
            colon = NULL; /* the colons so far were an IPv6 literal's */
    if (colon == NULL)
        return 80;
    long port = 0;
    if (colon + 1 == end)
        return -1;
    for (const char *p = colon + 1; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        port = port * 10 + (*p - '0');
        if (port > 65535)
            return -1;
    }
    return port >= 1 ? (int)port : -1;
}

enum { OPT_VARIANT = 256, OPT_HOST, OPT_PORT, OPT_BACKLOG, OPT_URL, OPT_URL_PORTS, OPT_FANOUT, OPT_UPSTREAM_TIMEOUT,
       OPT_UPSTREAM_HTTP, OPT_CLIENT_TIMEOUT, OPT_CPU, OPT_THREADS, OPT_WORKERS, OPT_CONNECTIONS, OPT_ACCEPT,
       OPT_MASTER, OPT_GRACE, OPT_READY_FD };

/* Whether the variant's model has the setting (server.h's SETTINGS_*). */
static int model_has(const variant_t *v, int opt)
{
    switch (opt) {
    case OPT_BACKLOG:
    case OPT_CLIENT_TIMEOUT: return (v->settings & SETTINGS_HTTP) != 0;
    case OPT_THREADS: return (v->settings & SETTINGS_THREADS) != 0;
    case OPT_WORKERS:
    case OPT_ACCEPT:
    case OPT_MASTER: return (v->settings & SETTINGS_WORKERS) != 0;
    case OPT_CONNECTIONS: return (v->settings & SETTINGS_CONNECTIONS) != 0;
    case OPT_GRACE: return (v->settings & SETTINGS_GRACE) != 0;
    default: return 1;
    }
}

/* One table serves both the environment and the flags. */
static void apply(const variant_t *v, server_config_t *cfg, int opt, const char *what,
                  const char *s)
{
    switch (opt) {
    case OPT_VARIANT:
        if (strlen(s) > VARIANT_NAME_MAX || strspn(s, VARIANT_NAME_CHARS) != strlen(s))
            die_usage(v, what, s, "must be at most 48 of a-z, 0-9 and '-'");
        cfg->name = s;
        break;
    case OPT_HOST: cfg->host = s; break;
    case OPT_PORT: cfg->port = (int)want_long(v, what, s, 0, 65535); break;
    case OPT_BACKLOG: cfg->backlog = (int)want_long(v, what, s, 1, 1 << 20); break;
    case OPT_URL: set_url(v, cfg, what, s); break;
    case OPT_URL_PORTS:
        cfg->slow_api_ports = (int)want_long(v, what, s, 1, SERVER_UPSTREAM_PORTS_MAX);
        break;
    case OPT_FANOUT: cfg->fanout = (int)want_long(v, what, s, 1, 1000); break;
    case OPT_UPSTREAM_TIMEOUT: cfg->upstream_timeout_ms = want_ms(v, what, s); break;
    case OPT_UPSTREAM_HTTP:
        if (strcmp(s, "1.1") == 0 || strcmp(s, "2") == 0)
            cfg->upstream_http2 = s[0] == '2';
        else
            die_usage(v, what, s, "must be 1.1 or 2");
        break;
    case OPT_CLIENT_TIMEOUT: cfg->client_timeout_ms = want_ms(v, what, s); break;
    case OPT_CPU: cfg->cpu_iterations = want_long(v, what, s, 0, 1000000); break;
    case OPT_THREADS: cfg->threads = (int)want_long(v, what, s, 1, 100000); break;
    case OPT_WORKERS: cfg->workers = (int)want_long(v, what, s, 1, 1024); break;
    case OPT_CONNECTIONS: cfg->connections = (int)want_long(v, what, s, 1, 100000); break;
    case OPT_ACCEPT:
        if (strcmp(s, "shared") == 0)
            cfg->accept_mode = ACCEPT_SHARED;
        else if (strcmp(s, "reuseport") == 0)
            cfg->accept_mode = ACCEPT_REUSEPORT;
        else
            die_usage(v, what, s, "must be shared or reuseport");
        break;
    case OPT_MASTER: /* a flag without a value; MASTER=0|1 in the environment */
        cfg->master = s == NULL ? 1 : (int)want_long(v, what, s, 0, 1);
        break;
    case OPT_GRACE: cfg->grace_ms = want_ms(v, what, s); break;
    case OPT_READY_FD: cfg->ready_fd = (int)want_long(v, what, s, -1, 1 << 20); break;
    default: break;
    }
}

/* The environment's settings, of the model's settings only: one
 * environment serves every variant. */
typedef struct {
    const variant_t *v;
    server_config_t *cfg;
} env_target_t;

static int apply_env(int opt, const char *what, const char *text, void *arg)
{
    env_target_t *t = arg;
    if (model_has(t->v, opt))
        apply(t->v, t->cfg, opt, what, text);
    return 0;
}

static const struct option long_options[] = {
    {"variant", required_argument, NULL, OPT_VARIANT},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"backlog", required_argument, NULL, OPT_BACKLOG},
    {"slow-api-url", required_argument, NULL, OPT_URL},
    {"slow-api-ports", required_argument, NULL, OPT_URL_PORTS},
    {"fanout", required_argument, NULL, OPT_FANOUT},
    {"upstream-timeout", required_argument, NULL, OPT_UPSTREAM_TIMEOUT},
    {"upstream-http", required_argument, NULL, OPT_UPSTREAM_HTTP},
    {"client-timeout", required_argument, NULL, OPT_CLIENT_TIMEOUT},
    {"cpu-iterations", required_argument, NULL, OPT_CPU},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"connections", required_argument, NULL, OPT_CONNECTIONS},
    {"accept", required_argument, NULL, OPT_ACCEPT},
    {"master", no_argument, NULL, OPT_MASTER},
    {"grace-period", required_argument, NULL, OPT_GRACE},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const cli_env_t env_options[] = {
    {"VARIANT", OPT_VARIANT}, {"HOST", OPT_HOST}, {"PORT", OPT_PORT}, {"BACKLOG", OPT_BACKLOG},
    {"SLOW_API_URL", OPT_URL}, {"SLOW_API_PORTS", OPT_URL_PORTS}, {"FANOUT", OPT_FANOUT},
    {"UPSTREAM_TIMEOUT", OPT_UPSTREAM_TIMEOUT}, {"UPSTREAM_HTTP", OPT_UPSTREAM_HTTP},
    {"CLIENT_TIMEOUT", OPT_CLIENT_TIMEOUT},
    {"CPU_ITERATIONS", OPT_CPU}, {"THREADS", OPT_THREADS}, {"WORKERS", OPT_WORKERS},
    {"CONNECTIONS", OPT_CONNECTIONS}, {"ACCEPT", OPT_ACCEPT}, {"MASTER", OPT_MASTER},
    {"GRACE_PERIOD", OPT_GRACE}, {"READY_FD", OPT_READY_FD},
};

void server_config_load(server_config_t *cfg, const variant_t *variant, int argc, char **argv)
{
    *cfg = (server_config_t){
        .name = variant->name,
        .host = "0.0.0.0",
        .port = DEFAULT_PORT,
        .backlog = DEFAULT_BACKLOG,
        .ready_fd = -1,
        .fanout = DEFAULT_FANOUT,
        .upstream_timeout_ms = (long)(DEFAULT_UPSTREAM_TIMEOUT_S * 1000),
        .client_timeout_ms = (long)(DEFAULT_CLIENT_TIMEOUT_S * 1000),
        .cpu_iterations = DEFAULT_CPU_ITERATIONS,
        .threads = variant->threads > 0 ? variant->threads : 1,
        .workers = variant->workers > 0 ? variant->workers : 1,
        .connections = variant->connections,
        .accept_mode = ACCEPT_SHARED,
        .grace_ms = (long)(DEFAULT_GRACE_PERIOD_S * 1000),
        .slow_api_ports = 1,
    };
    strcpy(cfg->slow_api_url, DEFAULT_SLOW_API_URL);

    if (log_init(variant->name) < 0)
        die_usage(variant, "LOG_LEVEL", getenv("LOG_LEVEL"), "must be error, warn, info or debug");
    env_target_t target = {variant, cfg};
    (void)cli_apply_env(env_options, sizeof env_options / sizeof env_options[0], apply_env,
                        &target); /* apply exits on a bad value */
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        if (opt == 'h') {
            usage(variant, stdout);
            exit(0);
        }
        if (opt == '?' || opt == ':') {
            const char *bad = argv[optind - 1];
            fprintf(stderr, "%s: %s '%s' (see --help)\n", variant->name,
                    opt == ':' ? "missing value for" : "unknown option", bad);
            exit(CLI_EXIT_USAGE);
        }
        char what[32] = "";
        for (const struct option *o = long_options; o->name != NULL; o++)
            if (o->val == opt)
                snprintf(what, sizeof what, "--%s", o->name);
        if (!model_has(variant, opt)) {
            fprintf(stderr, "%s: %s: the %s model has no such setting (see --help)\n",
                    variant->name, what, variant->name);
            exit(CLI_EXIT_USAGE);
        }
        apply(variant, cfg, opt, what, optarg);
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", variant->name, argv[optind]);
        exit(CLI_EXIT_USAGE);
    }
    cfg->slow_api_port = url_port(cfg->slow_api_url);
    if (cfg->slow_api_port < 0)
        die_usage(variant, "SLOW_API_URL", cfg->slow_api_url, "its port must be a number from 1 to 65535");
    if (cfg->slow_api_port + cfg->slow_api_ports - 1 > 65535) {
        char ports[16];
        snprintf(ports, sizeof ports, "%d", cfg->slow_api_ports);
        die_usage(variant, "SLOW_API_PORTS", ports, "the last port would be past 65535");
    }
    server_variant = variant;
    server_config = cfg;
}
