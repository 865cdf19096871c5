/* lib/cli.c: settings from the environment (set ones in order, empty as
 * unset, the first refusal stops) and the usage-error form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

typedef struct {
    char seen[128]; /* "option=text;" for each call */
    int refuse;     /* option to refuse, or 0 */
} record_t;

static int record(int option, const char *what, const char *text, void *arg)
{
    record_t *r = arg;
    size_t len = strlen(r->seen);
    snprintf(r->seen + len, sizeof r->seen - len, "%d:%s=%s;", option, what, text);
    return option == r->refuse ? -1 : 0;
}

static const cli_env_t vars[] = {{"LAB_T_ONE", 1}, {"LAB_T_TWO", 2}, {"LAB_T_THREE", 3}};

static void test_apply_env(void **state)
{
    (void)state;
    setenv("LAB_T_ONE", "a", 1);
    setenv("LAB_T_TWO", "", 1); /* empty: as unset */
    unsetenv("LAB_T_THREE");
    record_t r = {.refuse = 0};
    assert_int_equal(cli_apply_env(vars, 3, record, &r), 0);
    assert_string_equal(r.seen, "1:LAB_T_ONE=a;");

    setenv("LAB_T_TWO", "b", 1);
    setenv("LAB_T_THREE", "c", 1);
    record_t all = {.refuse = 0};
    assert_int_equal(cli_apply_env(vars, 3, record, &all), 0);
    assert_string_equal(all.seen, "1:LAB_T_ONE=a;2:LAB_T_TWO=b;3:LAB_T_THREE=c;");

    record_t refused = {.refuse = 2};
    assert_int_equal(cli_apply_env(vars, 3, record, &refused), -1);
    assert_string_equal(refused.seen, "1:LAB_T_ONE=a;2:LAB_T_TWO=b;"); /* stops there */
    unsetenv("LAB_T_ONE");
    unsetenv("LAB_T_TWO");
    unsetenv("LAB_T_THREE");
}

static void test_usage_error(void **state)
{
    (void)state;
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
    cli_usage_error("prog", "--port", "'%s' is not a port", "x");
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    char line[128] = "";
    rewind(tmp);
    assert_non_null(fgets(line, sizeof line, tmp));
    fclose(tmp);
    assert_string_equal(line, "prog: --port: 'x' is not a port\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_env),
        cmocka_unit_test(test_usage_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
