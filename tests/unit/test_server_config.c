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

static const variant_t TEST_VARIANT = {.name = "test-variant", .model = "test", .keep_alive = 1};

static void load(server_config_t *cfg, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    optind = 0; /* getopt_long restarts from the beginning */
    server_config_load(cfg, &TEST_VARIANT, argc, argv);
}

/* Run load() in a child (it exits on bad input); return its exit status. */
static int exit_status_of(char **argv, const char *env_name, const char *env_value)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL)
            _exit(99);
        if (env_name != NULL)
            setenv(env_name, env_value, 1);
        server_config_t cfg;
        load(&cfg, argv);
        _exit(42); /* accepted */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_env_then_flags),
        cmocka_unit_test(test_master),
        cmocka_unit_test(test_connections),
        cmocka_unit_test(test_bad_values_exit_2),
        cmocka_unit_test(test_help_exits_0),
    };
    return cmocka_run_group_tests_name("server config", tests, NULL, NULL);
}
