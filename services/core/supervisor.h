/* The master of a multi-process model (gunicorn's arbiter, uwsgi's
 * master): it opens the port, forks WORKERS workers, restarts one that
 * dies, and on SIGTERM or SIGINT stops them gracefully. prefork and the
 * multi-process event loops run their workers under it. */
#ifndef LAB_SUPERVISOR_H
#define LAB_SUPERVISOR_H

#include "server.h"

/* A worker's whole life: serve on listen_fd until SIGTERM, finish what is
 * in flight, return its exit status. It starts with SIGTERM and SIGINT
 * blocked (wait for them with server_wait_stop_signal) and must call
 * supervisor_worker_ready() once it takes connections. */
typedef int (*supervisor_worker_fn)(int listen_fd, int worker_index);

/* Run the master; returns the process's exit status. ACCEPT=shared: one
 * socket, made here, that every worker inherits; reuseport: each worker
 * gets a socket of its own on the same port (SO_REUSEPORT), and the kernel
 * spreads connections over them. nonblock: the workers' sockets are
 * non-blocking. The ready pipe is notified once every worker is ready. */
int supervisor_run(const server_config_t *cfg, int nonblock, supervisor_worker_fn worker);

void supervisor_worker_ready(void);

/* The process structure the loop models share (event loop, coroutines):
 * one process that serves by itself, or, with WORKERS > 1 or --master,
 * workers under the master. serve(listen_fd, in_worker) runs a loop until
 * it stops; in_worker: the master started it (the stop signals come
 * blocked, and it calls supervisor_worker_ready once it takes
 * connections). Returns the process's exit status. */
typedef int (*supervisor_serve_fn)(int listen_fd, int in_worker);
int supervisor_main(const server_config_t *cfg, supervisor_serve_fn serve);

/* The end of a loop model's serve(), once its handles are set (its stop
 * signals' among them): a worker lets the stop signals through (one that
 * came meanwhile lands in the handler now) and tells the master it is
 * ready; then the loop runs until it stops and is closed. Returns the exit
 * status. */
struct uv_loop_s;
int supervisor_run_loop(struct uv_loop_s *loop, int in_worker);

#endif
