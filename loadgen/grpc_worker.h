/* loadgen --grpc: a worker thread's closed loop over gRPC core's C API.
 * The same contract as worker.h (run.c drives both): each of the thread's
 * clients has one unary call in flight at a time, over one HTTP/2
 * connection per thread (a channel of its own). */
#ifndef LOADGEN_GRPC_WORKER_H
#define LOADGEN_GRPC_WORKER_H

#include "loadgen.h"

/* As worker_new: a worker with conn_count clients calling method. */
lg_worker_t *lg_grpc_worker_new(lg_run_t *run, int index, size_t conn_count, char *err,
                             size_t err_len);
void lg_grpc_worker_free(lg_worker_t *w);
int lg_grpc_worker_start(lg_worker_t *w);
int lg_grpc_worker_join(lg_worker_t *w);

#endif
