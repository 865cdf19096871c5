/* services/core/loop_accept.c, the loop models' accept path, on a real
 * listening socket and a libuv loop of the test's own: batches per turn
 * of the loop, the limit on live connections, and backing off when out of
 * descriptors (the open-file limit lowered in this process) until a retry
 * finds them again. tests/scripts/loop_accept_emfile.sh runs the same
 * shortage against the servers. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop_accept.h"
#include "net.h"

#define CLIENTS_MAX 64

typedef struct fixture_s {
    uv_loop_t loop;
    loop_accept_t accept;
    int port;
    int clients[CLIENTS_MAX];
    int nclients;
    int accepted[CLIENTS_MAX];
    int naccepted;
} fixture_t;

static fixture_t fx;

static void conn_cb(loop_accept_t *a, int fd)
{
    (void)a;
    assert_true(fx.naccepted < CLIENTS_MAX);
    fx.accepted[fx.naccepted++] = fd;
}

/* A loop and a listening socket accepting with limit (0: none). */
static void start(int limit)
{
    char err[NET_ERR_LEN];
    fx = (fixture_t){.nclients = 0};
    assert_int_equal(uv_loop_init(&fx.loop), 0);
    int lfd = net_listen_tcp("127.0.0.1", 0, 128, 0, 1, err);
    assert_true(lfd >= 0);
    fx.port = net_local_port(lfd);
    assert_int_equal(loop_accept_open(&fx.accept, &fx.loop, lfd, limit, conn_cb), 0);
}

static void finish(void)
{
    loop_accept_close(&fx.accept);
    for (int i = 0; i < fx.nclients; i++)
        close(fx.clients[i]);
    for (int i = 0; i < fx.naccepted; i++)
        close(fx.accepted[i]);
    assert_int_equal(uv_run(&fx.loop, UV_RUN_DEFAULT), 0); /* the close callbacks */
    assert_int_equal(uv_loop_close(&fx.loop), 0);
}

/* n clients, and wait (2 s at most) until all n are in the listen queue:
 * a handshake's last step may reach the listener just after connect(). */
static void connect_clients(int n)
{
    int lfd = fx.accept.fd;
    for (int i = 0; i < n; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)fx.port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_true(fd >= 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
        fx.clients[fx.nclients++] = fd;
    }
    time_t end = time(NULL) + 2;
    while (net_listen_queue_length(lfd) < n && time(NULL) < end)
        ;
    assert_int_equal(net_listen_queue_length(lfd), n);
}

static void one_turn(void)
{
    (void)uv_run(&fx.loop, UV_RUN_NOWAIT);
}

static void test_batch_per_turn(void **state)
{
    (void)state;
    start(0);
    connect_clients(LOOP_ACCEPT_BATCH + 8);
    one_turn();
    assert_int_equal(fx.naccepted, LOOP_ACCEPT_BATCH); /* the timers get their turn */
    one_turn();
    assert_int_equal(fx.naccepted, LOOP_ACCEPT_BATCH + 8);
    assert_int_equal(fx.accept.live, LOOP_ACCEPT_BATCH + 8);
    finish();
}

static void test_limit(void **state)
{
    (void)state;
    start(5);
    connect_clients(8);
    one_turn();
    one_turn();
    assert_int_equal(fx.naccepted, 5);
    assert_false(fx.accept.watching); /* the rest wait in the queue */
    loop_accept_ended(&fx.accept);
    assert_true(fx.accept.watching);
    one_turn();
    assert_int_equal(fx.naccepted, 6);
    assert_false(fx.accept.watching);
    finish();
}

static void test_out_of_descriptors(void **state)
{
    (void)state;
    start(0);
    connect_clients(4);
    struct rlimit saved, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    int lowest_free = dup(0);
    assert_true(lowest_free >= 0);
    close(lowest_free);
    low = (struct rlimit){.rlim_cur = (rlim_t)lowest_free, .rlim_max = saved.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0); /* the next descriptor: EMFILE */

    one_turn();
    one_turn();
    assert_int_equal(fx.naccepted, 0);
    assert_false(fx.accept.watching); /* not woken again and again */
    assert_true(fx.accept.failing_since_ns != 0);

    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    for (int i = 0; i < 20 && fx.naccepted < 4; i++)
        (void)uv_run(&fx.loop, UV_RUN_ONCE); /* the retry's timer, then the socket */
    assert_int_equal(fx.naccepted, 4);
    assert_int_equal(fx.accept.failing_since_ns, 0); /* caught up: the queue is empty */
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_per_turn),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_out_of_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
