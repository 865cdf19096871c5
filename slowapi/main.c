/* slowapi's configuration: defaults, then environment, then flags; the file
 * descriptor limit; exit codes (0 ok, 1 start-up failure, 2 bad usage). */
#include "slowapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "parse.h"
#include "process.h"

/* 10,000 waiting requests plus some room: below this we say so at start. */
#define NOFILE_WANTED 11000
/* Descriptors that are not connections: stdio, epoll, libuv's signal pipes
 * and reserve descriptor, the listening socket and its dup, a socket libuv
 * holds for us at the cap, with room to spare. */
#define NOFILE_RESERVE 32

static const char usage_text[] =
    "usage: slowapi [options]\n"
    "\n"
    "The lab's slow upstream: GET /?delay=SECONDS answers 200 after the delay\n"
    "(0 to 60, default 1); GET /healthz answers at once; GET /stats[?reset=1]\n"
    "reports how late delayed answers were written (and starts a new window),\n"
    "and calls_total: the delayed answers written since start, by every worker,\n"
    "over either protocol, never reset (a benchmark's count of upstream calls).\n"
    "It speaks HTTP/1.1 and, on the same port, HTTP/2 over cleartext with prior\n"
    "knowledge (h2c: the client starts with the HTTP/2 preface), each stream one\n"
    "request with the same answers.\n"
    "\n"
    "  --port N       listen port, 0 = any free port (PORT, default 8001)\n"
    "  --ports N      listen on N consecutive ports from --port (PORTS, default 1,\n"
    "                 at most 16), worker i on port i mod N, so N workers or more:\n"
    "                 a client has one range of ephemeral ports (~28,000) per\n"
    "                 destination port, and spreads its calls over the ports\n"
    "  --host ADDR    IPv4 listen address (HOST, default 0.0.0.0)\n"
    "  --backlog N    listen backlog (BACKLOG, default 4096)\n"
    "  --workers N    processes on the port, each its own socket (SO_REUSEPORT):\n"
    "                 one process holds as many waiting requests as its open-file\n"
    "                 limit allows (WORKERS, default 1); /stats then reports the\n"
    "                 worker that answers it, but calls_total counts them all\n"
    "  --faults SPEC  inject faults into GET /?delay=: NAME=PERCENT, comma-separated,\n"
    "                 of error (500 after the delay), reset (the connection reset at\n"
    "                 the deadline; over h2c the stream), hang (never answered) and\n"
    "                 jitter (the delay times 1 +/- up to that share), e.g.\n"
    "                 'error=5%,reset=2%,hang=1%,jitter=20%' (FAULTS, default none);\n"
    "                 a request may set its own: /?delay=1&error=50&jitter=10\n"
    "  --stall S/T    the whole process stops S seconds every T seconds (STALL,\n"
    "                 e.g. 0.5/10; default never): nothing read, accepted or answered\n"
    "  --fault-seed N the faults' random seed (FAULT_SEED, default 1; worker i\n"
    "                 uses N + i): the same seed, the same faults\n"
    "  --ready-fd FD  once listening, write the (first) port and a newline to FD and\n"
    "                 close it (READY_FD, default -1: none)\n"
    "  -h, --help     this text\n"
    "\n"
    "LOG_LEVEL=error|warn|info|debug (default info; debug logs every request).\n";

enum { OPT_PORT = 256, OPT_HOST, OPT_BACKLOG, OPT_READY_FD, OPT_WORKERS, OPT_PORTS, OPT_FAULTS,
       OPT_FAULT_SEED, OPT_STALL };

static const struct option long_options[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"host", required_argument, NULL, OPT_HOST},
    {"backlog", required_argument, NULL, OPT_BACKLOG},
    {"ready-fd", required_argument, NULL, OPT_READY_FD},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"ports", required_argument, NULL, OPT_PORTS},
    {"faults", required_argument, NULL, OPT_FAULTS},
    {"fault-seed", required_argument, NULL, OPT_FAULT_SEED},
    {"stall", required_argument, NULL, OPT_STALL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Messages for bad usage: "slowapi: what: why" on stderr. */
static void usage_error(const char *what, const char *why)
{
    cli_usage_error("slowapi", what, "%s", why);
}

/* what names the source in messages: a flag ("--port") or a variable. */
static int set_int(const char *what, const char *text, long min, long max, int *out)
{
    long value;
    if (parse_long(text, min, max, &value) < 0) {
        char why[128];
        snprintf(why, sizeof why, "'%s' is not an integer from %ld to %ld", text, min, max);
        usage_error(what, why);
        return -1;
    }
    *out = (int)value;
    return 0;
}

static int set_host(const char *what, const char *text, const char **out)
{
    struct in_addr addr;
    if (inet_pton(AF_INET, text, &addr) != 1) {
        char why[128];
        snprintf(why, sizeof why, "'%.64s' is not an IPv4 address", text);
        usage_error(what, why);
        return -1;
    }
    *out = text;
    return 0;
}

/* "S/T": a stall of S seconds every T, 0 < S < T <= 3600, each at least
 * a millisecond. */
static int set_stall(const char *what, const char *text, slowapi_config_t *config)
{
    char s_text[32];
    const char *slash = strchr(text, '/');
    double s, t;
    if (slash == NULL || (size_t)(slash - text) >= sizeof s_text) {
        usage_error(what, "wants S/T: a stall of S seconds every T seconds, e.g. 0.5/10");
        return -1;
    }
    memcpy(s_text, text, (size_t)(slash - text));
    s_text[slash - text] = '\0';
    if (parse_double(s_text, 0.001, 3600.0, &s) < 0 || parse_double(slash + 1, 0.001, 3600.0, &t) < 0 ||
        s >= t) {
        usage_error(what, "wants S/T with 0.001 <= S < T <= 3600 (seconds), e.g. 0.5/10");
        return -1;
    }
    config->stall_ns = (uint64_t)(s * 1e9);
    config->stall_every_ns = (uint64_t)(t * 1e9);
    return 0;
}

/* One setting from a flag or the environment (config is arg). */
static int set_option(int option, const char *what, const char *text, void *arg)
{
    slowapi_config_t *config = arg;
    switch (option) {
    case OPT_PORT:
        return set_int(what, text, 0, 65535, &config->port);
    case OPT_HOST:
        return set_host(what, text, &config->host);
    case OPT_BACKLOG:
        return set_int(what, text, 1, INT_MAX, &config->backlog);
    case OPT_READY_FD:
        return set_int(what, text, -1, INT_MAX, &config->ready_fd);
    case OPT_WORKERS:
        return set_int(what, text, 1, 64, &config->workers);
    case OPT_PORTS:
        return set_int(what, text, 1, SLOWAPI_PORTS_MAX, &config->ports);
    case OPT_FAULTS: {
        char why[160];
        if (faults_parse(text, &config->faults, why, sizeof why) < 0) {
            usage_error(what, why);
            return -1;
        }
        return 0;
    }
    case OPT_STALL:
        return set_stall(what, text, config);
    case OPT_FAULT_SEED: {
        int seed;
        if (set_int(what, text, 0, INT_MAX, &seed) < 0)
            return -1;
        config->fault_seed = (uint64_t)seed;
        return 0;
    }
    default:
        return -1;
    }
}

static const cli_env_t env_vars[] = {
    {"PORT", OPT_PORT},       {"HOST", OPT_HOST},       {"BACKLOG", OPT_BACKLOG},
    {"READY_FD", OPT_READY_FD}, {"WORKERS", OPT_WORKERS}, {"PORTS", OPT_PORTS},
    {"FAULTS", OPT_FAULTS},     {"FAULT_SEED", OPT_FAULT_SEED}, {"STALL", OPT_STALL},
};

/* Returns 0 to run, 1 when --help was answered, -1 on bad usage. */
static int load_config(slowapi_config_t *config, int argc, char **argv)
{
    *config = (slowapi_config_t){
        .host = "0.0.0.0",
        .port = SLOWAPI_DEFAULT_PORT,
        .backlog = SLOWAPI_DEFAULT_BACKLOG,
        .ready_fd = -1,
        .workers = 1,
        .ports = 1,
        .fault_seed = 1,
    };
    if (cli_apply_env(env_vars, sizeof env_vars / sizeof env_vars[0], set_option, config) < 0)
        return -1;
    opterr = 0; /* our messages, in the lab's "program: message" form */
    int option;
    while ((option = getopt_long(argc, argv, ":h", long_options, NULL)) != -1) {
        const char *flag = argv[optind - 1];
        if (option == 'h') {
            fputs(usage_text, stdout);
            return 1;
        }
        if (option == '?') {
            char short_flag[3] = {'-', (char)optopt, '\0'};
            usage_error(optopt != 0 ? short_flag : flag, "unknown option (see --help)");
            return -1;
        }
        if (option == ':') {
            usage_error(flag, "needs a value");
            return -1;
        }
        /* With "--port=N" the flag text holds the value too; name the flag. */
        const char *name = long_options[option - OPT_PORT].name;
        char what[32];
        snprintf(what, sizeof what, "--%s", name);
        if (set_option(option, what, optarg, config) < 0)
            return -1;
    }
    if (optind < argc) {
        usage_error(argv[optind], "unexpected argument (see --help)");
        return -1;
    }
    if (config->workers < config->ports) {
        char why[96];
        snprintf(why, sizeof why, "%d ports need at least %d workers (one process listens on one port)",
                 config->ports, config->ports);
        usage_error("ports", why);
        return -1;
    }
    if (config->port != 0 && config->port + config->ports - 1 > 65535) {
        usage_error("ports", "the last port would be past 65535");
        return -1;
    }
    /* Better now, as a usage error, than after listening. */
    if (config->ready_fd >= 0 && fcntl(config->ready_fd, F_GETFD) < 0) {
        char why[64];
        snprintf(why, sizeof why, "%d is not an open descriptor", config->ready_fd);
        usage_error("ready fd", why);
        return -1;
    }
    return 0;
}

/* Every waiting request holds a socket, and the usual soft limit of 1024
 * would cap slowapi far below the 10,000 the lab asks of it. The hard limit
 * is as far as an unprivileged process may go. Returns the limit in force. */
static rlim_t raise_nofile_limit(void)
{
    rlim_t limit;
    int rc = process_raise_nofile(&limit);
    if (rc < 0)
        log_warn("raising the open-file limit: %s", strerror(-rc));
    if (limit == 0)
        limit = 1024; /* none could be read: the usual default */
    if (limit < NOFILE_WANTED)
        log_warn("open file limit is %llu (< %d): fewer than 10,000 requests can wait at "
                 "once; raise ulimit -n (Compose: ulimits.nofile)",
                 (unsigned long long)limit, NOFILE_WANTED);
    return limit;
}

int main(int argc, char **argv)
{
    slowapi_config_t config;
    if (log_init("slowapi") < 0) {
        usage_error("LOG_LEVEL", "not one of error, warn, info, debug");
        return CLI_EXIT_USAGE;
    }
    int rc = load_config(&config, argc, argv);
    if (rc != 0)
        return rc > 0 ? 0 : CLI_EXIT_USAGE;
    /* libuv writes with write(2): a client that has gone would raise
     * SIGPIPE, whose default action ends the process. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        log_error("signal(SIGPIPE): %s", strerror(errno));
        return 1;
    }
    rlim_t nofile = raise_nofile_limit();
    config.max_conns = nofile > 2 * NOFILE_RESERVE ? (size_t)(nofile - NOFILE_RESERVE)
                                                   : (size_t)(nofile / 2);
    /* Before workers_run forks, so that every worker counts into it; one
     * process takes the same path. */
    config.calls_total = stats_counter_new();
    if (config.calls_total == NULL) {
        log_error("mmap(calls_total counter): %s", strerror(errno));
        return 1;
    }
    rc = config.workers > 1 ? workers_run(&config) : server_run(&config);
    int unmapped = stats_counter_free(config.calls_total);
    if (unmapped < 0) {
        log_error("munmap(calls_total counter): %s", strerror(-unmapped));
        rc = 1;
    }
    return rc;
}
