/* An I/O thread for an event-driven server whose own loop cannot watch
 * curl's sockets (gRPC's completion queue): a libuv loop on a thread of
 * its own runs the non-blocking fan-out (fanout_loop_*), and any thread
 * hands it work. The grpc-async variant's Io calls go through it. */
#ifndef LAB_GRPC_IO_THREAD_H
#define LAB_GRPC_IO_THREAD_H

#include "fanout.h"

typedef struct grpc_io_thread_s grpc_io_thread_t;

/* Start the thread with its loop and fan-out driver. Call with the stop
 * signals blocked. Returns NULL, with the reason logged, on failure. */
grpc_io_thread_t *grpc_io_thread_start(const server_config_t *cfg);

/* From any thread: start a fan-out on the I/O thread; done(arg, result)
 * runs exactly once, on the I/O thread, when every call has ended.
 * Returns 0, or -1 when out of memory (done never runs then). */
int grpc_io_thread_fanout(grpc_io_thread_t *t, fanout_done_cb done, void *arg);

/* Once no fan-out is pending: close the driver, end the thread, free. */
void grpc_io_thread_stop(grpc_io_thread_t *t);

#endif
