#include "routes.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "clock.h"
#include "cpu_work.h"
#include "log.h"
#include "server.h"

#define JSON "application/json"

route_t route_of(const http_request_t *req)
{
    route_t route;
    if (http_request_path_is(req, "/io"))
        route = ROUTE_IO;
    else if (http_request_path_is(req, "/cpu"))
        route = ROUTE_CPU;
    else if (http_request_path_is(req, "/healthz"))
        route = ROUTE_HEALTHZ;
    else
        return ROUTE_NOT_FOUND;
    return req->method == HTTP_GET ? route : ROUTE_BAD_METHOD;
}

static void respond_body(response_t *res, int status, const char *body, int len, int keep_alive)
{
    res->status = status;
    res->len = http_response_format(res->buf, sizeof res->buf, status, JSON, body,
                                    (size_t)len, keep_alive);
    if (res->len < 0) {
        /* Cannot happen with the lab's small bodies; answer rather than crash. */
        log_error("response for status %d does not fit", status);
        res->status = 500;
        res->len = http_response_format(res->buf, sizeof res->buf, 500, JSON, "{}", 2, 0);
    }
}

static void respond_error(response_t *res, int status, const char *message, int keep_alive)
{
    char body[256];
    int n = http_json_error(body, sizeof body, status, message);
    respond_body(res, status, body, n < 0 ? 0 : n, keep_alive);
}

static void respond_healthz(response_t *res, int keep_alive)
{
    char body[768];
    int n = server_describe_json(body, sizeof body);
    if (n < 0)
        n = snprintf(body, sizeof body, "{\"status\":\"ok\"}");
    respond_body(res, 200, body, n, keep_alive);
}

static void respond_cpu(response_t *res, int keep_alive)
{
    uint64_t start_ns = clock_now_ns();
    /* A different stream per request, as numpy's global generator gives. */
    double checksum = cpu_long_running(server_config->cpu_iterations, start_ns);
    char body[160];
    int n = snprintf(body, sizeof body,
                     "{\"iterations\":%ld,\"checksum\":%.6g,\"elapsed_ms\":%.1f}",
                     server_config->cpu_iterations, checksum,
                     ns_to_ms(clock_now_ns() - start_ns));
    respond_body(res, 200, body, n, keep_alive);
}

void respond_now(response_t *res, route_t route, const http_request_t *req, int keep_alive)
{
    switch (route) {
    case ROUTE_CPU: respond_cpu(res, keep_alive); break;
    case ROUTE_HEALTHZ: respond_healthz(res, keep_alive); break;
    case ROUTE_BAD_METHOD: respond_error(res, 405, "method not allowed", keep_alive); break;
    case ROUTE_NOT_FOUND: respond_error(res, 404, "not found", keep_alive); break;
    case ROUTE_IO: respond_error(res, 500, "io needs the fan-out", 0); break;
    }
    /* HEAD (405, or 404 on another path): the head of the answer alone. */
    if (req->method == HTTP_HEAD)
        res->len = (int)http_response_head_len(res->buf, (size_t)res->len);
}

void respond_io(response_t *res, const fanout_result_t *r, int keep_alive)
{
    int status = fanout_status(r);
    char body[384];
    int n;
    if (status == 200)
        n = snprintf(body, sizeof body, "{\"calls\":%d,\"ok\":%d,\"elapsed_ms\":%.0f}",
                     r->calls, r->ok, ns_to_ms(r->elapsed_ns));
    else
        n = snprintf(body, sizeof body,
                     "{\"error\":\"%s\",\"status\":%d,\"calls\":%d,\"ok\":%d,\"failed\":%d,"
                     "\"timed_out\":%d,\"elapsed_ms\":%.0f}",
                     status == 504 ? "upstream timeout" : "upstream failed", status, r->calls,
                     r->ok, r->failed, r->timed_out, ns_to_ms(r->elapsed_ns));
    if (status != 200)
        log_warn("/io answered %d: %d of %d upstream calls ok (%s)", status, r->ok, r->calls,
                 r->first_error[0] ? r->first_error : "no detail");
    respond_body(res, status, body, n, keep_alive);
}

void respond_rejected(response_t *res, http_req_status_t st, const char *why)
{
    int status = st == HTTP_REQ_TOO_LARGE ? 431 : 400;
    log_debug("rejected request (%d): %s", status, why ? why : "?");
    respond_error(res, status, status == 431 ? "request header block too large" : "malformed request", 0);
}

void respond_client_timeout(response_t *res)
{
    respond_error(res, 408, "no complete request in time", 0);
}
