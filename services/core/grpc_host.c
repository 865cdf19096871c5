/* gRPC server set-up and stop (grpc_host.h). */
#include "grpc_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/grpc_security.h>
#include <grpc/support/time.h>

#include "grpc_service.h"
#include "log.h"

#define ADDR_MAX 300

struct grpc_host_s {
    const server_config_t *cfg;
    grpc_server *server;
    grpc_completion_queue *shutdown_cq; /* gets the shutdown's notification */
    int port;
};

static int shutdown_tag; /* its address is the notification's tag */

gpr_timespec grpc_host_deadline_ms(long ms)
{
    return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

grpc_host_t *grpc_host_new(const server_config_t *cfg)
{
    grpc_host_t *host = calloc(1, sizeof *host);
    if (host == NULL) {
        log_error("out of memory");
        exit(1);
    }
    host->cfg = cfg;
    /* Each call holds a stream, not a descriptor; but each client
     * connection is one, as in every variant. */
    server_raise_open_file_limit();
    grpc_init();
    /* A request is an empty message: a larger one is refused by gRPC
     * (RESOURCE_EXHAUSTED). No SO_REUSEPORT: a port in use is an error. */
    grpc_arg args[] = {
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH,
         .value.integer = GRPC_SERVICE_MAX_REQUEST_BYTES},
        {.type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ALLOW_REUSEPORT, .value.integer = 0},
    };
    grpc_channel_args channel_args = {.num_args = sizeof args / sizeof args[0], .args = args};
    host->server = grpc_server_create(&channel_args, NULL);
    host->shutdown_cq = grpc_completion_queue_create_for_next(NULL);
    if (host->server == NULL || host->shutdown_cq == NULL) {
        log_error("cannot create the gRPC server");
        exit(1);
    }
    grpc_server_register_completion_queue(host->server, host->shutdown_cq, NULL);

    char addr[ADDR_MAX];
    snprintf(addr, sizeof addr, "%s:%d", cfg->host, cfg->port);
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    host->port = grpc_server_add_http2_port(host->server, addr, creds);
    grpc_server_credentials_release(creds);
    if (host->port <= 0) {
        log_error("cannot listen: gRPC could not bind %s", addr);
        exit(1);
    }
    return host;
}

grpc_server *grpc_host_server(grpc_host_t *host) { return host->server; }

grpc_completion_queue *grpc_host_new_queue(grpc_host_t *host)
{
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    if (cq != NULL)
        grpc_server_register_completion_queue(host->server, cq, NULL);
    return cq;
}

void grpc_host_start(grpc_host_t *host)
{
    grpc_server_start(host->server);
}

void grpc_host_announce(grpc_host_t *host)
{
    log_info("gRPC core %s, plaintext HTTP/2", grpc_version_string());
    server_announce(host->cfg, host->port);
}

void grpc_host_run_until_stopped(grpc_host_t *host, const sigset_t *stop, long grace_ms)
{
    (void)server_wait_stop_signal(stop);
    grpc_server_shutdown_and_notify(host->server, host->shutdown_cq, &shutdown_tag);
    grpc_event ev = grpc_completion_queue_next(host->shutdown_cq,
                                               grpc_host_deadline_ms(grace_ms), NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        log_warn("calls still in flight after the %ld ms grace period: cancelling them",
                 grace_ms);
        grpc_server_cancel_all_calls(host->server);
        ev = grpc_completion_queue_next(host->shutdown_cq, gpr_inf_future(GPR_CLOCK_MONOTONIC),
                                        NULL);
    }
    if (ev.type != GRPC_OP_COMPLETE || ev.tag != &shutdown_tag)
        log_error("unexpected event %d while stopping", (int)ev.type);
}

void grpc_host_drain_queue(grpc_completion_queue *cq)
{
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
           GRPC_QUEUE_SHUTDOWN)
        ;
    grpc_completion_queue_destroy(cq);
}

void grpc_host_destroy(grpc_host_t *host)
{
    grpc_server_destroy(host->server);
    grpc_host_drain_queue(host->shutdown_cq);
    free(host);
}
