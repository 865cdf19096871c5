/* Socket helpers: listening, whole writes, and the readiness pipe.
 * Functions that can fail return 0 (or a descriptor) on success and -1 with
 * a message "call(args): reason" in err, as redis' anet does. */
#ifndef LAB_NET_H
#define LAB_NET_H

#include <stddef.h>
#include <sys/types.h>

#define NET_ERR_LEN 256

/* Listen on host:port (host NULL = all IPv4 addresses, port 0 = any free
 * port). reuseport sets SO_REUSEPORT so several processes can share the
 * port; nonblock makes the socket non-blocking. backlog 0 binds without
 * listening: with reuseport that reserves a port for sibling sockets and
 * takes none of their connections. Returns the descriptor. */
int net_listen_tcp(const char *host, int port, int backlog, int reuseport, int nonblock,
                   char *err);

/* The local port a socket is bound to, or -1. */
int net_local_port(int fd);

/* Write all of buf, retrying on EINTR and partial writes. MSG_NOSIGNAL:
 * a peer that left gives EPIPE, not a signal. Returns 0 or -errno. */
int net_send_all(int fd, const void *buf, size_t len);

/* 1 when the peer of a connected socket has hung up or half-closed
 * (HTTP clients do not half-close while they wait for an answer), without
 * waiting; 0 otherwise. */
int net_peer_gone(int fd);

/* How many connections wait in a listening socket's accept queue
 * (TCP_INFO's tcpi_unacked, which Linux fills with the queue length for a
 * listening socket), or -1 when the kernel does not say. */
int net_listen_queue_length(int listen_fd);

/* Tell a waiting parent (test harness, run.sh) that we listen: write the
 * port and a newline to fd, then close it. fd < 0 does nothing. This is
 * how tests wait for a server without sleeping. Returns 0 or -errno. */
int net_ready_notify(int fd, int port);

#endif
