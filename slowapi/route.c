/* What slowapi answers: a function of the parsed request (and, for
 * /stats, of the server's figures), so the connection code only decides
 * when and how to send it. */
#include "slowapi.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_model.h"
#include "parse.h"

#define DELAY_ERROR_MESSAGE "delay must be a number between 0 and 60"
#define FAULTS_ERROR_MESSAGE \
    "error, reset, hang and jitter are percents from 0 to 100; error, reset and hang at most 100 together"
/* Longer than any sensible spelling of a number from 0 to 60. */
#define DELAY_VALUE_MAX_CHARS 64

void route_error(answer_t *out, int status, const char *message)
{
    out->status = status;
    out->delay_ns = 0;
    out->fault = FAULT_NONE;
    int n = http_json_error(out->body, sizeof out->body, status, message);
    /* The messages are fixed and short; an empty body beats a wrong one. */
    out->body_len = n < 0 ? 0 : (size_t)n;
}

static void route_ok(answer_t *out, const char *body, size_t len, uint64_t delay_ns)
{
    out->status = 200;
    out->delay_ns = delay_ns;
    out->fault = FAULT_NONE;
    out->body_len = len;
    memcpy(out->body, body, len);
}

/* This request's fault rates: the process's, each changed by a query
 * parameter of its name (percent). Returns 0, or -1 for a bad one. */
static int route_faults(const http_request_t *req, const faults_t *process, faults_t *f)
{
    static const char *const names[] = {"error", "reset", "hang", "jitter"};
    *f = *process;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char value[DELAY_VALUE_MAX_CHARS];
        double percent;
        int n = http_request_query(req, names[i], value, sizeof value);
        if (n == -ENOSPC || (n >= 0 && (parse_double(value, 0.0, 100.0, &percent) < 0 ||
                                        faults_set(f, names[i], percent) < 0)))
            return -1;
    }
    return f->error + f->reset + f->hang <= 1.0 + 1e-9 ? 0 : -1;
}

static void route_delay(const http_request_t *req, server_t *s, answer_t *out)
{
    char value[DELAY_VALUE_MAX_CHARS];
    double delay_s = SLOWAPI_DEFAULT_DELAY_S;
    int n = http_request_query(req, "delay", value, sizeof value);
    if (n == -ENOSPC || (n >= 0 && parse_double(value, 0.0, SLOWAPI_MAX_DELAY_S, &delay_s) < 0)) {
        route_error(out, 400, DELAY_ERROR_MESSAGE);
        return;
    }
    /* %.15g prints the value back as a JSON number (no "+", no ".5", no
     * hex, whatever spelling strtod accepted) without float noise: 0.1
     * stays 0.1. NaN and infinities never get here (parse_double). */
    char body[ANSWER_BODY_MAX];
    int len = snprintf(body, sizeof body, "{\"delay_s\":%.15g}", delay_s);
    if (len < 0 || (size_t)len >= sizeof body) {
        route_error(out, 500, "internal error");
        return;
    }
    faults_t faults;
    if (route_faults(req, &s->config->faults, &faults) < 0) {
        route_error(out, 400, FAULTS_ERROR_MESSAGE);
        return;
    }
    uint64_t delay_ns = (uint64_t)llround(delay_s * 1e9);
    fault_t fault = faults_any(&faults) ? faults_draw(&faults, &s->fault_rng, &delay_ns) : FAULT_NONE;
    if (fault == FAULT_ERROR) {
        route_error(out, 500, "injected fault");
        out->delay_ns = delay_ns; /* an upstream that fails after its work */
        return;
    }
    route_ok(out, body, (size_t)len, delay_ns);
    out->fault = fault;
}

/* GET /stats[?reset=1]: the figures so far; reset=1 then starts a new
 * window, so a benchmark can leave its warm-up out. A GET that changes
 * state is not pretty, but it is one curl call and one round trip, and
 * the answer holds the window it closed. */
static void route_stats(const http_request_t *req, slowapi_stats_t *stats, answer_t *out)
{
    char value[2];
    int n = http_request_query(req, "reset", value, sizeof value);
    int reset = n == 1 && value[0] == '1';
    int len = stats_format(stats, out->body, sizeof out->body);
    if (len < 0) {
        route_error(out, 500, "internal error");
        return;
    }
    out->status = 200;
    out->delay_ns = 0;
    out->fault = FAULT_NONE;
    out->body_len = (size_t)len;
    if (reset)
        stats_reset(stats);
}

size_t route_health_body(char *buf, size_t cap)
{
    char model[HEALTH_CPU_MODEL_MAX];
    (void)cpu_model(model, sizeof model); /* "unknown" when it cannot say */
    int n = snprintf(buf, cap, "{\"status\":\"ok\",\"cpu_model\":\"%s\"}", model);
    return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

void route_request(const http_request_t *req, server_t *s, answer_t *out)
{
    out->fault = FAULT_NONE; /* every route's, unless the delay route draws one */
    int is_delay = http_request_path_is(req, "/");
    int is_health = http_request_path_is(req, "/healthz");
    int is_stats = http_request_path_is(req, "/stats");
    if (!is_delay && !is_health && !is_stats)
        route_error(out, 404, "not found");
    else if (req->method != HTTP_GET)
        route_error(out, 405, "method not allowed");
    else if (is_health)
        route_ok(out, s->health_body, s->health_len, 0);
    else if (is_stats)
        route_stats(req, &s->stats, out);
    else
        route_delay(req, s, out);
}
