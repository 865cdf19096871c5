/* A fixed pool of threads that take connections from one listening socket
 * and serve each to its end in blocking style (blocking_conn_serve). The
 * pool size is how many requests are in progress at once; a connection
 * that finds every thread busy waits in the listen queue. The threadpool
 * and prefork models are this pool, in one process or in several. */
#ifndef LAB_THREAD_POOL_H
#define LAB_THREAD_POOL_H

typedef struct thread_pool_s thread_pool_t;

/* Start threads on listen_fd, which must be non-blocking. Each thread has
 * its own fan-out client, so its upstream connections are reused from
 * request to request. Call with the stop signals blocked
 * (server_block_stop_signals): the threads must not take them. Returns
 * once every thread is ready to serve, or NULL, with the reason logged,
 * when not every thread could start. */
thread_pool_t *thread_pool_start(int listen_fd, int threads, int keep_alive);

/* Stop taking connections and wait for each thread to finish the one it
 * serves, at most grace_ms; then free the pool. Returns the number of
 * threads still busy at the deadline (0: a clean stop); those are left
 * running, for the process to end them by exiting. */
int thread_pool_stop(thread_pool_t *pool, long grace_ms);

#endif
