/* The HTTP/1.1 worker thread: its own epoll loop driving its share of the
 * connections, closed loop or open (http_worker.c). run.c drives it and the
 * gRPC worker through the same four calls. */
#ifndef LOADGEN_HTTP_WORKER_H
#define LOADGEN_HTTP_WORKER_H

#include "loadgen.h"

/* Allocate a worker with conn_count connections (on its own cache lines).
 * Returns NULL with a message in err. */
lg_worker_t *lg_http_worker_new(lg_run_t *run, int index, size_t conn_count, char *err,
                             size_t err_len);
void lg_http_worker_free(lg_worker_t *w);

/* Start the thread. Returns 0 or a positive errno (pthread_create). */
int lg_http_worker_start(lg_worker_t *w);
int lg_http_worker_join(lg_worker_t *w);

#endif
