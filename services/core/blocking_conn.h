/* One client connection served in blocking style: read a request, answer
 * it, repeat while both sides keep the connection alive. Every blocking
 * model (single thread, thread per request, thread pools, prefork) calls
 * this; they differ only in who calls it and how many at once. */
#ifndef LAB_BLOCKING_CONN_H
#define LAB_BLOCKING_CONN_H

#include "fanout.h"

/* Serve fd until the connection ends, then close it. keep_alive: the
 * model keeps connections open between requests (else one request per
 * connection, as HTTP/1.0 servers do). fc is the calling thread's
 * fan-out client. */
void blocking_conn_serve(int fd, fanout_client_t *fc, int keep_alive);

#endif
