/* The loop host: what the loop models (event_loop.c, coroutine.c) share
 * around their model, written once so that each model file holds only
 * its model.
 *
 * The process structure: one process that serves by itself, or, with
 * WORKERS > 1 or --master, workers under the master of supervisor.c. In
 * each serving process: one libuv loop, the fan-out driver on it, the
 * accept path (loop_accept.h), the stop signals, and the teardown. The
 * model gets each accepted connection (conn_cb) and says when one has
 * ended (loop_host_conn_ended).
 *
 * A graceful stop (SIGTERM or SIGINT): accepting stops and the listening
 * socket closes; the model closes its idle connections (stop_cb) while
 * those in a request answer it with Connection: close (they see
 * loop_host_stopping()); the loop ends when the last connection and the
 * fan-out driver are gone. */
#ifndef LAB_LOOP_HOST_H
#define LAB_LOOP_HOST_H

#include <uv.h>

#include "fanout.h"
#include "server.h"

typedef struct loop_host_model_s {
    /* A connection was accepted: fd is non-blocking and close-on-exec.
     * Returns 0 once the model owns fd (it calls loop_host_conn_ended
     * when the connection is over, perhaps before returning), or a
     * negative errno while it does not (the host closes fd). */
    int (*conn_cb)(int fd);
    /* Stopping: close the idle connections now. */
    void (*stop_cb)(void);
    /* Connections served at once per process; more wait in the listen
     * queue until one ends. 0: no limit. */
    int max_connections;
} loop_host_model_t;

/* Serve cfg with model until a stop signal; returns the process's exit
 * status. */
int loop_host_run(const server_config_t *cfg, const loop_host_model_t *model);

/* A connection that conn_cb took is over (its fd closed): its place is
 * free; a stopping server may end once none is left. */
void loop_host_conn_ended(void);

/* The serving process's loop and fan-out driver, once it serves. */
uv_loop_t *loop_host_loop(void);
fanout_loop_t *loop_host_fanout(void);

/* 1 once a stop signal came: answer with Connection: close. */
int loop_host_stopping(void);

/* Connections taken and not yet ended. */
int loop_host_live(void);

/* This process's listening socket (to ask how many wait in its queue), or
 * -1 once stopping. */
int loop_host_listen_fd(void);

#endif
