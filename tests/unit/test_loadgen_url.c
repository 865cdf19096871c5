/* loadgen/url.c: URL parsing (good and bad), the request bytes and the
 * default workload name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "url.h"

static void test_good_urls(void **state)
{
    (void)state;
    static const struct {
        const char *text, *host, *target, *host_header;
        int port;
    } cases[] = {
        {"http://127.0.0.1:3000/io", "127.0.0.1", "/io", "127.0.0.1:3000", 3000},
        {"http://sut:3000/io", "sut", "/io", "sut:3000", 3000},
        {"http://localhost/", "localhost", "/", "localhost:80", 80},
        {"http://localhost", "localhost", "/", "localhost:80", 80},
        {"HTTP://Example.org:8001/?delay=1", "Example.org", "/?delay=1", "Example.org:8001", 8001},
        {"http://h:1?x=1&y=2", "h", "/?x=1&y=2", "h:1", 1},
        {"http://h:65535/a/b%20c?q", "h", "/a/b%20c?q", "h:65535", 65535},
        {"http://my_host.local/", "my_host.local", "/", "my_host.local:80", 80},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lg_url_t u;
        char err[LG_ERR_MAX] = "";
        assert_int_equal(lg_url_parse(cases[i].text, &u, err, sizeof err), 0);
        assert_string_equal(u.host, cases[i].host);
        assert_int_equal(u.port, cases[i].port);
        assert_string_equal(u.target, cases[i].target);
        assert_string_equal(u.host_header, cases[i].host_header);
    }
}

static void test_bad_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "127.0.0.1:3000/io",            /* no scheme */
        "https://h/",                   /* not supported */
        "ftp://h/",
        "http://",                      /* no host */
        "http:///io",
        "http://h:/",                   /* empty port */
        "http://h:0/",                  /* out of range */
        "http://h:65536/",
        "http://h:80x/",
        "http://h:-1/",
        "http://user@h/",               /* userinfo */
        "http://[::1]:80/",             /* IPv6 */
        "http://h/a b",                 /* blank in path */
        "http://h/a\tb",
        "http://h/#frag",               /* fragment */
        "http://h#frag",
        "http://h\x01/",                /* control character in host */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lg_url_t u;
        char err[LG_ERR_MAX] = "";
        int rc = lg_url_parse(bad[i], &u, err, sizeof err);
        if (rc != -EINVAL)
            fail_msg("\"%s\" parsed (rc %d)", bad[i], rc);
        assert_non_null(strstr(err, "bad URL"));
    }
    /* A host of 300 characters is too long. */
    char longhost[400] = "http://";
    memset(longhost + 7, 'a', 300);
    longhost[307] = '\0';
    lg_url_t u;
    char err[LG_ERR_MAX];
    assert_int_equal(lg_url_parse(longhost, &u, err, sizeof err), -EINVAL);
}

static void test_resolve(void **state)
{
    (void)state;
    lg_url_t u;
    char err[LG_ERR_MAX];
    assert_int_equal(lg_url_parse("http://127.0.0.1:4567/x", &u, err, sizeof err), 0);
    assert_int_equal(lg_url_resolve(&u, err, sizeof err), 0);
    assert_int_equal(u.addr.sin_family, AF_INET);
    assert_int_equal(ntohs(u.addr.sin_port), 4567);
    assert_int_equal(ntohl(u.addr.sin_addr.s_addr), 0x7f000001);
    assert_int_equal(lg_url_parse("http://no-such-host.invalid/", &u, err, sizeof err), 0);
    assert_int_equal(lg_url_resolve(&u, err, sizeof err), -1);
    assert_non_null(strstr(err, "no-such-host.invalid"));
}

/* --wait: a name that does not exist is asked for again until the wait
 * is over, and the message says so; one that exists resolves at once. */
static void test_resolve_within(void **state)
{
    (void)state;
    lg_url_t u;
    char err[LG_ERR_MAX];
    assert_int_equal(lg_url_parse("http://no-such-host.invalid/", &u, err, sizeof err), 0);
    uint64_t t0 = clock_now_ns();
    assert_int_equal(lg_url_resolve_within(&u, 0.3, err, sizeof err), -1);
    uint64_t waited_ms = (clock_now_ns() - t0) / NS_PER_MS;
    assert_true(waited_ms >= 300);
    assert_true(waited_ms < 5000);
    assert_non_null(strstr(err, "cannot resolve no-such-host.invalid within 0.3 s (--wait)"));
    assert_int_equal(lg_url_parse("http://localhost:81/", &u, err, sizeof err), 0);
    t0 = clock_now_ns();
    assert_int_equal(lg_url_resolve_within(&u, 10, err, sizeof err), 0);
    assert_true((clock_now_ns() - t0) / NS_PER_MS < 1000);
    assert_int_equal(ntohs(u.addr.sin_port), 81);
}

static void test_request(void **state)
{
    (void)state;
    lg_url_t u;
    char err[LG_ERR_MAX], buf[LG_REQUEST_MAX];
    assert_int_equal(lg_url_parse("http://sut:3000/io?x=1", &u, err, sizeof err), 0);
    const char keep[] = "GET /io?x=1 HTTP/1.1\r\nHost: sut:3000\r\n\r\n";
    assert_int_equal(lg_url_request(&u, u.target, 1, buf, sizeof buf), (int)strlen(keep));
    assert_string_equal(buf, keep);
    const char close_[] = "GET /io?x=1 HTTP/1.1\r\nHost: sut:3000\r\nConnection: close\r\n\r\n";
    assert_int_equal(lg_url_request(&u, u.target, 0, buf, sizeof buf), (int)strlen(close_));
    assert_string_equal(buf, close_);
    assert_int_equal(lg_url_request(&u, u.target, 1, buf, 10), -ENOSPC);
}

static void test_workload(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"http://h/io", "io"},     {"http://h/cpu?n=3", "cpu"}, {"http://h/", "root"},
        {"http://h/?delay=1", "root"}, {"http://h/a/b", "a-b"}, {"http://h//a//b/", "a-b"},
        {"http://h", "root"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lg_url_t u;
        char err[LG_ERR_MAX], name[64];
        assert_int_equal(lg_url_parse(cases[i][0], &u, err, sizeof err), 0);
        lg_url_workload(&u, name, sizeof name);
        assert_string_equal(name, cases[i][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_urls), cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_resolve),   cmocka_unit_test(test_resolve_within),
        cmocka_unit_test(test_request),
        cmocka_unit_test(test_workload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
