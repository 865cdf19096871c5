/* The upstream fan-out of GET /io: FANOUT concurrent calls to SLOW_API_URL,
 * then one verdict. Two drivers:
 *   - blocking (fanout_client_*): libcurl's multi interface; the calling
 *     thread waits, as grequests did; one client per thread, its
 *     connections reused from call to call.
 *   - libuv (fanout_loop_*): the lab's own client (upstream.c) on the
 *     loop, HTTP/1.1 or h2c. */
#ifndef LAB_FANOUT_H
#define LAB_FANOUT_H

#include <stdint.h>

#include <curl/curl.h>
#include <uv.h>

#include "server.h"

typedef struct fanout_result_s {
    int calls;       /* calls made */
    int ok;          /* answered 2xx */
    int failed;      /* connection error or non-2xx answer */
    int timed_out;   /* exceeded UPSTREAM_TIMEOUT */
    uint64_t elapsed_ns;
    char first_error[128]; /* the client's message for the first failure */
} fanout_result_t;

/* The HTTP status /io answers with: 504 if any call timed out, else 502
 * if any failed, else 200. */
int fanout_status(const fanout_result_t *res);

/* Call once in main() before any thread starts. Returns 0 or -1. */
int fanout_global_init(void);

/* ---- blocking driver ---- */
typedef struct fanout_client_s fanout_client_t;
fanout_client_t *fanout_client_new(const server_config_t *cfg);
/* Call once before any client is made, for models whose clients live one
 * request (thread per request): every client then takes its upstream
 * connections from one process-wide pool. Returns 0 or -1. */
int fanout_share_connections(void);
/* Make the calls and wait for all of them. Returns 0, or -1 when curl
 * itself failed (res->first_error says why; the request gets 502). */
int fanout_client_run(fanout_client_t *client, fanout_result_t *res);
void fanout_client_free(fanout_client_t *client);

/* ---- libuv driver ---- */
typedef struct fanout_loop_s fanout_loop_t;
typedef void (*fanout_done_cb)(void *arg, const fanout_result_t *res);
fanout_loop_t *fanout_loop_new(uv_loop_t *loop, const server_config_t *cfg);
/* Start the calls; done(arg, result) runs exactly once, from the loop,
 * when all have ended. Returns 0, or -1 (done never runs then). */
int fanout_loop_start(fanout_loop_t *fl, fanout_done_cb done, void *arg);
/* Close the loop driver once no fan-out is pending; its handles close
 * asynchronously, so run the loop until it ends afterwards. */
void fanout_loop_close(fanout_loop_t *fl);
/* The same on the loop's next turn, so that it may be called from inside
 * the driver's own done callback (the last job of a stopping server ends
 * there). Calling it again before then does nothing. */
void fanout_loop_close_soon(fanout_loop_t *fl);

/* ---- shared by the drivers (fanout.c) ---- */
/* An easy handle for call index of a fan-out (its port, SLOW_API_PORTS). */
CURL *fanout_easy_new(const server_config_t *cfg, int index);
/* Count one finished transfer into res. */
void fanout_tally(fanout_result_t *res, CURL *easy, CURLcode code);

#endif
