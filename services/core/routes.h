/* The server contract: which route a request asks for, and the response
 * each route gives. Written once for every variant. */
#ifndef LAB_ROUTES_H
#define LAB_ROUTES_H

#include "fanout.h"
#include "http_request.h"
#include "http_response.h"

typedef enum {
    ROUTE_IO,         /* GET /io: the upstream fan-out */
    ROUTE_CPU,        /* GET /cpu: the classic CPU workload */
    ROUTE_HEALTHZ,    /* GET /healthz: 200 and the server's self-description */
    ROUTE_NOT_FOUND,  /* any other path: 404 */
    ROUTE_BAD_METHOD, /* a known path with another method: 405 */
} route_t;

typedef struct response_s {
    int status;
    int len;
    char buf[HTTP_RESPONSE_MAX];
} response_t;

route_t route_of(const http_request_t *req);

/* Fill res with the answer to every route but ROUTE_IO, which needs the
 * fan-out's result first (respond_io). */
void respond_now(response_t *res, route_t route, const http_request_t *req, int keep_alive);
void respond_io(response_t *res, const fanout_result_t *result, int keep_alive);

/* 400 or 431 for a request the parser rejected; the connection closes. */
void respond_rejected(response_t *res, http_req_status_t status, const char *why);

/* 408 for a client that sent no whole request in CLIENT_TIMEOUT. */
void respond_client_timeout(response_t *res);

#endif
