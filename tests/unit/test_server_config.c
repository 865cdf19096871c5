/* Server configuration: defaults < environment < flags; bad values exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "server.h"

static const variant_t TEST_VARIANT = {
    .name = "test-variant",
    .model = "test",
    .keep_alive = 1,
    .settings = SETTINGS_HTTP | SETTINGS_THREADS | SETTINGS_WORKERS | SETTINGS_CONNECTIONS |
                SETTINGS_GRACE,
};

/* A model with none of the optional settings, as grpc-async. */
static const variant_t BARE_VARIANT = {.name = "bare-variant", .model = "test"};

static void load_variant(server_config_t *cfg, const variant_t *v, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    optind = 0; /* getopt_long restarts from the beginning */
    server_config_load(cfg, v, argc, argv);
}

static void load(server_config_t *cfg, char **argv)
{
    load_variant(cfg, &TEST_VARIANT, argv);
}

/* Load v's configuration in a child (it exits on bad input), with one
 * environment variable set if env_name; return its exit status. What it
 * prints on stdout goes to out (when out is not NULL). */
static int run_child(const variant_t *v, char **argv, const char *env_name, const char *env_value,
                     char *out, size_t out_len)
{
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(pipefd[1], STDOUT_FILENO) < 0 || freopen("/dev/null", "w", stderr) == NULL)
            _exit(99);
        if (env_name != NULL)
            setenv(env_name, env_value, 1);
        server_config_t cfg;
        load_variant(&cfg, v, argv);
        _exit(42); /* accepted */
    }
    close(pipefd[1]);
    size_t used = 0;
    char chunk[4096];
    ssize_t n;
    while ((n = read(pipefd[0], chunk, sizeof chunk)) > 0) { /* to EOF: the child never blocks */
        if (out == NULL)
            continue;
        size_t room = out_len - 1 - used, take = (size_t)n < room ? (size_t)n : room;
        memcpy(out + used, chunk, take);
        used += take;
    }
    if (out != NULL)
        out[used] = '\0';
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int exit_status_of(char **argv, const char *env_name, const char *env_value)
{
    return run_child(&TEST_VARIANT, argv, env_name, env_value, NULL, 0);
}

static void test_defaults(void **state)
{
    (void)state;
    char *argv[] = {"x", NULL};
    server_config_t cfg;
    load(&cfg, argv);
    assert_int_equal(cfg.port, 3000);
    assert_int_equal(cfg.fanout, 10);
    assert_int_equal(cfg.upstream_timeout_ms, 5000);
    assert_int_equal(cfg.cpu_iterations, 1000);
    assert_int_equal(cfg.ready_fd, -1);
    assert_string_equal(cfg.slow_api_url, "http://127.0.0.1:8001/?delay=1");
    assert_int_equal(cfg.slow_api_port, 8001);
    assert_int_equal(cfg.slow_api_ports, 1);
    assert_ptr_equal(server_config, &cfg);
    assert_ptr_equal(server_variant, &TEST_VARIANT);
}

static void test_env_then_flags(void **state)
{
    (void)state;
    setenv("PORT", "4000", 1);
    setenv("FANOUT", "3", 1);
    setenv("UPSTREAM_TIMEOUT", "0.25", 1);
    setenv("SLOW_API_URL", "http://slowapi:8001/?delay=0.5", 1);
    char *argv[] = {"x", "--port", "5000", "--cpu-iterations", "7", NULL};
    server_config_t cfg;
    load(&cfg, argv);
    assert_int_equal(cfg.port, 5000);    /* the flag wins */
    assert_int_equal(cfg.fanout, 3);     /* from the environment */
    assert_int_equal(cfg.upstream_timeout_ms, 250);
    assert_int_equal(cfg.cpu_iterations, 7);
    assert_string_equal(cfg.slow_api_url, "http://slowapi:8001/?delay=0.5");
    unsetenv("PORT");
    unsetenv("FANOUT");
    unsetenv("UPSTREAM_TIMEOUT");
    unsetenv("SLOW_API_URL");
}

/* SLOW_API_PORTS: the calls go round the URL's port and the next ones;
 * the URL's port is read for it (80 without one, an IPv6 literal's colons
 * are not a port's), and a run past 65535 or a port that is not one is a
 * usage error. */
static void test_slow_api_ports(void **state)
{
    (void)state;
    static const struct {
        const char *url;
        int port;
    } ports[] = {
        {"http://slowapi:8001/?delay=1", 8001},
        {"http://slowapi/?delay=1", 80},
        {"http://[::1]:9000/", 9000},
        {"http://[::1]/", 80},
        {"http://h:1", 1},
    };
    for (size_t i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        char url[64];
        snprintf(url, sizeof url, "%s", ports[i].url);
        char *argv[] = {"x", "--slow-api-url", url, "--slow-api-ports", "3", NULL};
        server_config_t cfg;
        load(&cfg, argv);
        assert_int_equal(cfg.slow_api_port, ports[i].port);
        assert_int_equal(cfg.slow_api_ports, 3);
    }
    char *plain[] = {"x", NULL};
    assert_int_equal(exit_status_of(plain, "SLOW_API_PORTS", "16"), 42);
    assert_int_equal(exit_status_of(plain, "SLOW_API_PORTS", "17"), 2);
    assert_int_equal(exit_status_of(plain, "SLOW_API_PORTS", "0"), 2);
    char *past_end[] = {"x", "--slow-api-url", "http://h:65535/", "--slow-api-ports", "2", NULL};
    assert_int_equal(exit_status_of(past_end, NULL, NULL), 2);
    static const char *const bad[] = {"http://h:/", "http://h:0/", "http://h:65536/", "http://h:8x/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(exit_status_of(plain, "SLOW_API_URL", bad[i]), 2);
}

/* --master is a flag without a value; MASTER takes 0 or 1. */
static void test_master(void **state)
{
    (void)state;
    char *plain[] = {"x", NULL};
    char *flag[] = {"x", "--master", NULL};
    server_config_t cfg;
    load(&cfg, plain);
    assert_int_equal(cfg.master, 0);
    load(&cfg, flag);
    assert_int_equal(cfg.master, 1);
    setenv("MASTER", "1", 1);
    load(&cfg, plain);
    assert_int_equal(cfg.master, 1);
    unsetenv("MASTER");
    char *with_value[] = {"x", "--master=1", NULL};
    assert_int_equal(exit_status_of(with_value, NULL, NULL), 2);
    assert_int_equal(exit_status_of(plain, "MASTER", "yes"), 2);
    assert_int_equal(exit_status_of(plain, "MASTER", "0"), 42);
}

/* CONNECTIONS: the variant's default (none here), then env, then flag. */
static void test_connections(void **state)
{
    (void)state;
    char *plain[] = {"x", NULL};
    char *flag[] = {"x", "--connections", "2000", NULL};
    char *zero[] = {"x", "--connections", "0", NULL};
    server_config_t cfg;
    load(&cfg, plain);
    assert_int_equal(cfg.connections, 0);
    setenv("CONNECTIONS", "1000", 1);
    load(&cfg, plain);
    assert_int_equal(cfg.connections, 1000);
    load(&cfg, flag);
    assert_int_equal(cfg.connections, 2000);
    unsetenv("CONNECTIONS");
    assert_int_equal(exit_status_of(zero, NULL, NULL), 2);
}

static void test_bad_values_exit_2(void **state)
{
    (void)state;
    char *bad_port[] = {"x", "--port", "70000", NULL};
    char *not_number[] = {"x", "--fanout", "ten", NULL};
    char *zero_fanout[] = {"x", "--fanout", "0", NULL};
    char *unknown[] = {"x", "--frobnicate", NULL};
    char *missing[] = {"x", "--port", NULL};
    char *extra[] = {"x", "surplus", NULL};
    char *bad_url[] = {"x", "--slow-api-url", "ftp://x/", NULL};
    char *quote_url[] = {"x", "--slow-api-url", "http://a\"b/", NULL};
    char *bad_timeout[] = {"x", "--upstream-timeout", "-1", NULL};
    char *plain[] = {"x", NULL};
    assert_int_equal(exit_status_of(bad_port, NULL, NULL), 2);
    assert_int_equal(exit_status_of(not_number, NULL, NULL), 2);
    assert_int_equal(exit_status_of(zero_fanout, NULL, NULL), 2);
    assert_int_equal(exit_status_of(unknown, NULL, NULL), 2);
    assert_int_equal(exit_status_of(missing, NULL, NULL), 2);
    assert_int_equal(exit_status_of(extra, NULL, NULL), 2);
    assert_int_equal(exit_status_of(bad_url, NULL, NULL), 2);
    assert_int_equal(exit_status_of(quote_url, NULL, NULL), 2);
    assert_int_equal(exit_status_of(bad_timeout, NULL, NULL), 2);
    assert_int_equal(exit_status_of(plain, "PORT", "abc"), 2);
    assert_int_equal(exit_status_of(plain, "LOG_LEVEL", "loud"), 2);
    assert_int_equal(exit_status_of(plain, "FANOUT", "12"), 42);
}

static void test_help_exits_0(void **state)
{
    (void)state;
    char *help[] = {"x", "--help", NULL};
    assert_int_equal(exit_status_of(help, NULL, NULL), 0);
}

/* A model lists only its own settings, refuses another's flag and ignores
 * another's environment variable (one environment serves every variant). */
static void test_settings_of_the_model(void **state)
{
    (void)state;
    char help[8192];
    char *help_argv[] = {"x", "--help", NULL};
    assert_int_equal(run_child(&BARE_VARIANT, help_argv, NULL, NULL, help, sizeof help), 0);
    assert_non_null(strstr(help, "--fanout"));
    assert_non_null(strstr(help, "Service: bench.Bench"));
    assert_null(strstr(help, "--threads"));
    assert_null(strstr(help, "--workers"));
    assert_null(strstr(help, "--client-timeout"));
    assert_null(strstr(help, "GET /io"));
    assert_int_equal(run_child(&TEST_VARIANT, help_argv, NULL, NULL, help, sizeof help), 0);
    assert_non_null(strstr(help, "--threads"));
    assert_non_null(strstr(help, "--grace-period"));
    assert_non_null(strstr(help, "GET /io"));

    char *threads[] = {"x", "--threads", "4", NULL};
    char *grace[] = {"x", "--grace-period", "1", NULL};
    char *plain[] = {"x", NULL};
    assert_int_equal(run_child(&BARE_VARIANT, threads, NULL, NULL, NULL, 0), 2);
    assert_int_equal(run_child(&BARE_VARIANT, grace, NULL, NULL, NULL, 0), 2);
    assert_int_equal(run_child(&BARE_VARIANT, plain, "THREADS", "4", NULL, 0), 42);
    assert_int_equal(run_child(&BARE_VARIANT, plain, "THREADS", "junk", NULL, 0), 42);
    assert_int_equal(run_child(&TEST_VARIANT, plain, "THREADS", "junk", NULL, 0), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_then_flags),
        cmocka_unit_test(test_slow_api_ports),
        cmocka_unit_test(test_master),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_bad_values_exit_2),
        cmocka_unit_test(test_help_exits_0),
        cmocka_unit_test(test_settings_of_the_model),
    };
    return cmocka_run_group_tests_name("server config", tests, NULL, NULL);
}
