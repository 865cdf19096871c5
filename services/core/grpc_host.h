/* The gRPC server around a variant's completion queues: gRPC's set-up
 * (the port on HOST:PORT, plaintext HTTP/2, the message size limit),
 * readiness, and the graceful stop on SIGTERM. Both gRPC variants are a
 * grpc_host_t plus the threads that wait on its queues.
 *
 * Of the server settings (server.h), BACKLOG, CLIENT_TIMEOUT, WORKERS,
 * ACCEPT, MASTER and CONNECTIONS do not apply: gRPC listens with its own
 * backlog, its connections are long-lived HTTP/2 ones (keepalive is
 * gRPC's), and both variants are one process. */
#ifndef LAB_GRPC_HOST_H
#define LAB_GRPC_HOST_H

#include <signal.h>

#include <grpc/grpc.h>

#include "server.h"

typedef struct grpc_host_s grpc_host_t;

/* grpc_init, the server, its port. Exits 1 with a message when it cannot
 * listen (as server_listen does). */
grpc_host_t *grpc_host_new(const server_config_t *cfg);
grpc_server *grpc_host_server(grpc_host_t *host);

/* A completion queue for the variant's calls, registered with the server
 * (before grpc_host_start). Returns NULL when out of memory. */
grpc_completion_queue *grpc_host_new_queue(grpc_host_t *host);

/* Start serving (after every queue is registered). */
void grpc_host_start(grpc_host_t *host);

/* Log and notify the ready pipe, once the variant's threads wait for
 * calls. */
void grpc_host_announce(grpc_host_t *host);

/* In the main thread, with the stop signals blocked: wait for SIGTERM or
 * SIGINT, then stop taking calls and let those in flight finish for up to
 * grace_ms (calls still waiting for a thread end UNAVAILABLE); after that
 * the rest are cancelled. Returns once no call is left. */
void grpc_host_run_until_stopped(grpc_host_t *host, const sigset_t *stop, long grace_ms);

/* After grpc_host_run_until_stopped: destroy the server. The variant's
 * queues then get no more server events; shut them down and drain them
 * (grpc_host_drain_queue), then call grpc_shutdown(). */
void grpc_host_destroy(grpc_host_t *host);

/* Shut a queue down, take its remaining events until it is empty, and
 * destroy it. Only when no other thread waits on it. */
void grpc_host_drain_queue(grpc_completion_queue *cq);

/* The absolute deadline ms from now, for grpc_completion_queue_next. */
gpr_timespec grpc_host_deadline_ms(long ms);

#endif
