/* The master of a multi-process model (gunicorn's arbiter, uwsgi's
 * master): it opens the port, forks WORKERS workers, restarts one that
 * dies, and on SIGTERM or SIGINT stops them gracefully. prefork and the
 * loop models with workers (loop_host.c) run their workers under it. */
#ifndef LAB_SUPERVISOR_H
#define LAB_SUPERVISOR_H

#include "server.h"

/* A worker's whole life: serve on listen_fd until SIGTERM, finish what is
 * in flight, return its exit status. It starts with SIGTERM and SIGINT
 * blocked (wait for them with server_wait_stop_signal, or unblock them
 * once a handler is set) and must call supervisor_worker_ready() once it
 * takes connections. */
typedef int (*supervisor_worker_fn)(int listen_fd, int worker_index);

/* Run the master; returns the process's exit status. ACCEPT=shared: one
 * socket, made here, that every worker inherits; reuseport: each worker
 * gets a socket of its own on the same port (SO_REUSEPORT), and the kernel
 * spreads connections over them. nonblock: the workers' sockets are
 * non-blocking. The ready pipe is notified once every worker is ready. */
int supervisor_run(const server_config_t *cfg, int nonblock, supervisor_worker_fn worker);

void supervisor_worker_ready(void);

#endif
