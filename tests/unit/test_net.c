/* lib/net.c: the accept-queue length the coroutine model uses to decide
 * whether an answered connection gives its place to a waiting one. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"

static int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The queue length once it reaches want, or what it is after 2 s: a
 * handshake's last step may reach the listener just after connect(). */
static int queue_length_reaching(int listen_fd, int want)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int n = net_listen_queue_length(listen_fd);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (n == want || now.tv_sec - start.tv_sec >= 2)
            return n;
    }
}

static void test_listen_queue_length(void **state)
{
    (void)state;
    char err[NET_ERR_LEN];
    int lfd = net_listen_tcp("127.0.0.1", 0, 16, 0, 0, err);
    assert_true(lfd >= 0);
    int port = net_local_port(lfd);
    assert_true(port > 0);
    assert_int_equal(net_listen_queue_length(lfd), 0);

    int clients[3];
    for (int i = 0; i < 3; i++) {
        clients[i] = connect_loopback(port);
        assert_true(clients[i] >= 0);
    }
    assert_int_equal(queue_length_reaching(lfd, 3), 3);

    int served = accept(lfd, NULL, NULL);
    assert_true(served >= 0);
    assert_int_equal(net_listen_queue_length(lfd), 2);

    /* Not a listening socket: the kernel's figure means something else. */
    assert_int_equal(net_listen_queue_length(served), -1);
    assert_int_equal(net_listen_queue_length(-1), -1);

    close(served);
    for (int i = 0; i < 3; i++)
        close(clients[i]);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_queue_length),
    };
    return cmocka_run_group_tests_name("net", tests, NULL, NULL);
}
