/* A worker thread: its own epoll loop driving its share of the connections
 * through the closed loop (issue, connect, write, read, parse, repeat). */
#ifndef LOADGEN_WORKER_H
#define LOADGEN_WORKER_H

#include "loadgen.h"

/* Allocate a worker with conn_count connections (on its own cache lines).
 * Returns NULL with a message in err. */
lg_worker_t *worker_new(lg_run_t *run, int index, size_t conn_count, char *err, size_t err_len);
void worker_free(lg_worker_t *w);

/* Start the thread. Returns 0 or a positive errno (pthread_create). */
int worker_start(lg_worker_t *w);
int worker_join(lg_worker_t *w);

#endif
