/* single-thread: one thread, one connection at a time, blocking I/O.
 *
 * The Flask development server without threads: accept a connection, read
 * its request, do the work, answer, close, and only then accept the next.
 * While one request waits on its upstream calls (which still run
 * concurrently, as grequests did), every other client waits in the
 * listen queue. Capacity: 1 request at a time, so the ceiling is 1/delay. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blocking_conn.h"
#include "log.h"
#include "server.h"

static const variant_t VARIANT = {
    .name = "single-thread",
    .model = "one thread serves one connection at a time, blocking I/O",
    .keep_alive = 0, /* like the dev server's HTTP/1.0: close after each answer */
    .settings = SETTINGS_HTTP,
};

int main(int argc, char **argv)
{
    server_config_t cfg;
    server_config_load(&cfg, &VARIANT, argc, argv);
    server_capacity = 1;
    server_install_stop_handlers();
    if (fanout_global_init() < 0)
        return 1;
    fanout_client_t *fc = fanout_client_new(&cfg);
    if (fc == NULL) {
        log_error("cannot set up the upstream client");
        return 1;
    }
    int listen_fd = server_listen(&cfg, 0, 0);

    while (!server_stopping) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            continue;
        }
        blocking_conn_serve(fd, fc, VARIANT.keep_alive);
    }

    log_info("stopping");
    close(listen_fd);
    fanout_client_free(fc);
    curl_global_cleanup();
    return 0;
}
