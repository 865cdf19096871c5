/* lib/process.c: the open-file limit raised to the hard one, and a child
 * that the kernel stops when its parent dies. Each case runs in a child of
 * the test, so the test's own limits and children stay as they were. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "process.h"

#define WAIT_MS 5000

/* Run fn in a child; its exit status (0: every check in it held). */
static int in_child(int (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(fn());
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* Soft limit lowered to 256 under its hard one: raised to the hard one,
 * and the limit in force reported. Then at the hard one already: 0,
 * nothing to do. */
static int raise_from_low(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_max <= 256)
        return 2;
    rlim_t hard = lim.rlim_max;
    lim.rlim_cur = 256;
    if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
        return 3;
    rlim_t got = 0;
    if (process_raise_nofile(&got) != 0 || got != hard)
        return 4;
    if (getrlimit(RLIMIT_NOFILE, &lim) < 0 || lim.rlim_cur != hard)
        return 5;
    if (process_raise_nofile(&got) != 0 || got != hard)
        return 6;
    return 0;
}

static void test_raise_nofile(void **state)
{
    (void)state;
    assert_int_equal(in_child(raise_from_low), 0);
}

/* A parent that is not ours: -ESRCH, the child should go. */
static int wrong_parent(void)
{
    return process_die_with_parent(getppid() + 1, SIGTERM) == -ESRCH ? 0 : 1;
}

/* A middle process forks a grandchild that asks to die with it, then
 * writes its pid on a pipe and pauses, holding the pipe's write end. The
 * middle one is killed: the grandchild, handed to the test (a subreaper),
 * gets SIGTERM and dies, and the pipe's read end sees EOF. Had it not
 * asked, it would pause on: the test kills it then, and fails. */
static void test_die_with_parent(void **state)
{
    (void)state;
    assert_int_equal(in_child(wrong_parent), 0);
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t middle = fork();
    assert_true(middle >= 0);
    if (middle == 0) {
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0) {
            (void)close(fds[0]);
            pid_t me = getpid();
            if (process_die_with_parent(parent, SIGTERM) != 0 ||
                write(fds[1], &me, sizeof me) != (ssize_t)sizeof me)
                _exit(1);
            for (;;)
                pause();
        }
        for (;;)
            pause();
    }
    (void)close(fds[1]);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    pid_t grandchild = 0;
    assert_int_equal(poll(&p, 1, WAIT_MS), 1);
    assert_int_equal(read(fds[0], &grandchild, sizeof grandchild), (ssize_t)sizeof grandchild);
    assert_int_equal(kill(middle, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(middle, &status, 0), middle);
    /* Every writer gone: EOF, within WAIT_MS. */
    int ready = poll(&p, 1, WAIT_MS);
    char byte;
    ssize_t n = ready == 1 ? read(fds[0], &byte, 1) : -1;
    if (n != 0)
        (void)kill(grandchild, SIGKILL); /* it outlived its parent: do not leave it */
    (void)close(fds[0]);
    assert_int_equal(waitpid(grandchild, &status, 0), grandchild);
    assert_int_equal(n, 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raise_nofile),
        cmocka_unit_test(test_die_with_parent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
