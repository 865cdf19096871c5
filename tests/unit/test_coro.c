/* services/core/coro.c: resume/yield order, many coroutines at once, the
 * stack pool, per-thread state, and the death tests: a coroutine that
 * runs off its stack must end the process with a message naming it. */
#include <errno.h>
#include <fenv.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "coro.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

/* cmocka's assertions longjmp to the test runner: from inside a coroutine
 * that would leave its stack without a switch. Code running in coroutines
 * checks with CHECK instead; a failed check fails the test in teardown. */
static int check_failures;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            print_error("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                \
        }                                                                    \
    } while (0)

static int checks_passed(void **state)
{
    (void)state;
    int failed = check_failures;
    check_failures = 0;
    return failed == 0 ? 0 : -1;
}

/* ---- a trace of who ran when ---- */

static char trace[256];
static size_t trace_len;

static void trace_reset(void)
{
    trace_len = 0;
    trace[0] = '\0';
}

static void trace_add(char c)
{
    CHECK(trace_len + 1 < sizeof trace);
    if (trace_len + 1 >= sizeof trace)
        return;
    trace[trace_len++] = c;
    trace[trace_len] = '\0';
}

/* ---- order ---- */

static void ping(void *arg)
{
    (void)arg;
    trace_add('a');
    CHECK(coro_yield() == 0);
    trace_add('c');
    CHECK(coro_yield() == 0);
    trace_add('e');
}

static void test_coro_ping_pong_order(void **state)
{
    (void)state;
    trace_reset();
    coro_t *co = coro_new("ping", 0, ping, NULL);
    assert_non_null(co);
    assert_string_equal(trace, ""); /* nothing runs before the first resume */
    assert_int_equal(coro_resume(co), 0);
    trace_add('b');
    assert_int_equal(coro_resume(co), 0);
    trace_add('d');
    assert_false(coro_done(co));
    assert_int_equal(coro_resume(co), 0);
    assert_true(coro_done(co));
    assert_string_equal(trace, "abcde");
    coro_free(co);
}

#define INTERLEAVED_COUNT 50
#define LOG_MAX 4096

typedef struct {
    int id;
    int yields;       /* how many times it yields before it ends */
    int *log;         /* shared: ids in the order steps ran */
    int *log_len;
    uint64_t checksum; /* kept in a local across yields, stored at the end */
} stepper_t;

static void stepper(void *arg)
{
    stepper_t *s = arg;
    uint64_t local = (uint64_t)s->id * 1000003u; /* lives on this coroutine's stack */
    for (int step = 0; step <= s->yields; step++) {
        CHECK(*s->log_len < LOG_MAX);
        if (*s->log_len < LOG_MAX)
            s->log[(*s->log_len)++] = s->id;
        local = local * 31 + (uint64_t)step;
        if (step < s->yields)
            CHECK(coro_yield() == 0);
    }
    s->checksum = local;
}

static void test_coro_interleaved_many(void **state)
{
    (void)state;
    static int log[LOG_MAX], expected[LOG_MAX];
    int log_len = 0, expected_len = 0;
    stepper_t steppers[INTERLEAVED_COUNT];
    coro_t *cos[INTERLEAVED_COUNT];
    for (int i = 0; i < INTERLEAVED_COUNT; i++) {
        steppers[i] = (stepper_t){.id = i, .yields = i % 7, .log = log, .log_len = &log_len};
        char name[32];
        snprintf(name, sizeof name, "stepper %d", i);
        cos[i] = coro_new(name, 32 * 1024, stepper, &steppers[i]);
        assert_non_null(cos[i]);
    }
    /* Round robin until all are done; round r runs step r of each. */
    int running = INTERLEAVED_COUNT;
    for (int round = 0; running > 0; round++) {
        for (int i = 0; i < INTERLEAVED_COUNT; i++) {
            if (coro_done(cos[i]))
                continue;
            expected[expected_len++] = i;
            assert_int_equal(coro_resume(cos[i]), 0);
            if (coro_done(cos[i]))
                running--;
        }
    }
    assert_int_equal(log_len, expected_len);
    assert_memory_equal(log, expected, sizeof log[0] * (size_t)log_len);
    for (int i = 0; i < INTERLEAVED_COUNT; i++) {
        uint64_t want = (uint64_t)i * 1000003u;
        for (int step = 0; step <= i % 7; step++)
            want = want * 31 + (uint64_t)step;
        assert_true(steppers[i].checksum == want);
        coro_free(cos[i]);
    }
}

/* ---- current, arguments, done ---- */

typedef struct {
    coro_t *self;
    coro_t *seen_first, *seen_after_yield;
} whoami_t;

static void whoami(void *arg)
{
    whoami_t *w = arg;
    w->seen_first = coro_current();
    coro_yield();
    w->seen_after_yield = coro_current();
}

static void test_coro_current(void **state)
{
    (void)state;
    assert_null(coro_current());
    whoami_t w = {0};
    w.self = coro_new("whoami", 0, whoami, &w);
    assert_non_null(w.self);
    assert_int_equal(coro_resume(w.self), 0);
    assert_ptr_equal(w.seen_first, w.self);
    assert_null(coro_current()); /* back on the thread's own stack */
    assert_int_equal(coro_resume(w.self), 0);
    assert_ptr_equal(w.seen_after_yield, w.self);
    assert_null(coro_current());
    coro_free(w.self);
}

typedef struct {
    coro_t *inner;
    coro_t *outer;
    int inner_resumes_outer_rc;
    int inner_resumes_itself_rc;
    coro_t *outer_after_inner;
} nest_t;

static void nest_inner(void *arg)
{
    nest_t *n = arg;
    trace_add('i');
    n->inner_resumes_outer_rc = coro_resume(n->outer); /* it waits in coro_resume */
    n->inner_resumes_itself_rc = coro_resume(n->inner);
    coro_yield(); /* back to outer, not to main */
    trace_add('k');
}

static void nest_outer(void *arg)
{
    nest_t *n = arg;
    trace_add('o');
    CHECK(coro_resume(n->inner) == 0);
    n->outer_after_inner = coro_current();
    trace_add('p');
    coro_yield();
    trace_add('q');
    CHECK(coro_resume(n->inner) == 0); /* finishes it */
    CHECK(coro_done(n->inner));
}

static void test_coro_nested_resume(void **state)
{
    (void)state;
    trace_reset();
    nest_t n = {0};
    n.outer = coro_new("outer", 0, nest_outer, &n);
    n.inner = coro_new("inner", 0, nest_inner, &n);
    assert_non_null(n.outer);
    assert_non_null(n.inner);
    assert_int_equal(coro_resume(n.outer), 0);
    assert_string_equal(trace, "oip");
    assert_int_equal(n.inner_resumes_outer_rc, -EBUSY);
    assert_int_equal(n.inner_resumes_itself_rc, -EBUSY);
    assert_ptr_equal(n.outer_after_inner, n.outer);
    assert_null(coro_current());
    assert_int_equal(coro_resume(n.outer), 0);
    assert_string_equal(trace, "oipqk");
    assert_true(coro_done(n.outer));
    coro_free(n.inner);
    coro_free(n.outer);
}

typedef struct {
    int a, b;
    int sum;
    const char *text;
    size_t text_len;
} args_t;

static void add_args(void *arg)
{
    args_t *x = arg;
    x->sum = x->a + x->b;
    x->text_len = strlen(x->text);
}

static void test_coro_arguments(void **state)
{
    (void)state;
    args_t x = {.a = 40, .b = 2, .text = "hello"};
    coro_t *co = coro_new("args", 0, add_args, &x);
    assert_non_null(co);
    assert_int_equal(coro_resume(co), 0);
    assert_int_equal(x.sum, 42);
    assert_int_equal(x.text_len, 5);
    coro_free(co);
}

static void yield_once(void *arg)
{
    (void)arg;
    coro_yield();
}

static void test_coro_done_flag(void **state)
{
    (void)state;
    coro_t *co = coro_new("done", 0, yield_once, NULL);
    assert_non_null(co);
    assert_false(coro_done(co)); /* new */
    assert_int_equal(coro_resume(co), 0);
    assert_false(coro_done(co)); /* parked */
    assert_int_equal(coro_resume(co), 0);
    assert_true(coro_done(co));
    assert_int_equal(coro_resume(co), -EINVAL); /* finished: stays finished */
    assert_true(coro_done(co));
    coro_free(co);
}

static void test_coro_misuse(void **state)
{
    (void)state;
    assert_int_equal(coro_yield(), -EPERM); /* not in a coroutine */
    assert_int_equal(coro_resume(NULL), -EINVAL);
    errno = 0;
    assert_null(coro_new("no function", 0, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    coro_free(NULL); /* ignored */
}

static void test_coro_name_and_stack_size(void **state)
{
    (void)state;
    char long_name[CORO_NAME_MAX * 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    size_t page_bytes = (size_t)sysconf(_SC_PAGESIZE);

    coro_t *a = coro_new("conn 42", 0, yield_once, NULL);
    coro_t *b = coro_new(long_name, 1, yield_once, NULL);
    coro_t *c = coro_new(NULL, 100000, yield_once, NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_string_equal(coro_name(a), "conn 42");
    assert_int_equal(strlen(coro_name(b)), CORO_NAME_MAX - 1);
    assert_string_equal(coro_name(c), "(unnamed)");
    assert_int_equal(coro_stack_bytes(a), CORO_STACK_DEFAULT_BYTES);
    assert_int_equal(coro_stack_bytes(b), CORO_STACK_MIN_BYTES);
    assert_true(coro_stack_bytes(c) >= 100000);
    assert_int_equal(coro_stack_bytes(c) % page_bytes, 0);
    coro_free(a);
    coro_free(b);
    coro_free(c);
}

/* Each coroutine has its own floating-point modes (x87 control word and
 * MXCSR are callee-saved in the ABI, so the switch keeps them). */
static void round_upward(void *arg)
{
    int *seen = arg;
    CHECK(fesetround(FE_UPWARD) == 0);
    coro_yield();
    *seen = fegetround();
    CHECK(fesetround(FE_TONEAREST) == 0);
}

static void test_coro_float_modes(void **state)
{
    (void)state;
    int seen = -1;
    assert_int_equal(fegetround(), FE_TONEAREST);
    coro_t *co = coro_new("fenv", 0, round_upward, &seen);
    assert_non_null(co);
    assert_int_equal(coro_resume(co), 0);
    assert_int_equal(fegetround(), FE_TONEAREST); /* the coroutine's mode stayed there */
    assert_int_equal(coro_resume(co), 0);
    assert_int_equal(seen, FE_UPWARD);
    coro_free(co);
}

/* ---- the pool ---- */

static void note_stack_address(void *arg)
{
    volatile char here = 0;
    *(uintptr_t *)arg = (uintptr_t)&here;
}

static void test_coro_free_and_pool_reuse(void **state)
{
    (void)state;
    coro_thread_cleanup(); /* start with an empty pool */
    assert_int_equal(coro_pool_size(), 0);

    uintptr_t first = 0, second = 0, other_size = 0;
    coro_t *co = coro_new("first", 0, note_stack_address, &first);
    assert_non_null(co);
    assert_int_equal(coro_resume(co), 0);
    coro_free(co);
    assert_int_equal(coro_pool_size(), 1);

    /* Another size does not take it. */
    co = coro_new("other size", 64 * 1024, note_stack_address, &other_size);
    assert_non_null(co);
    assert_int_equal(coro_pool_size(), 1);
    assert_int_equal(coro_resume(co), 0);
    coro_free(co);
    assert_int_equal(coro_pool_size(), 2);

    /* The same size does: the same frame lands at the same address. */
    co = coro_new("second", 0, note_stack_address, &second);
    assert_non_null(co);
    assert_int_equal(coro_pool_size(), 1);
    assert_int_equal(coro_resume(co), 0);
    assert_true(first != 0 && first == second);
    assert_true(other_size != first);
    coro_free(co);

    /* A suspended coroutine can be freed; its stack is reused. */
    co = coro_new("parked", 0, yield_once, NULL);
    assert_non_null(co);
    assert_int_equal(coro_resume(co), 0);
    assert_false(coro_done(co));
    size_t before = coro_pool_size();
    coro_free(co);
    assert_int_equal(coro_pool_size(), before + 1);
    co = coro_new("after parked", 0, note_stack_address, &second);
    assert_non_null(co);
    assert_int_equal(coro_resume(co), 0);
    assert_true(coro_done(co));
    coro_free(co);
    coro_thread_cleanup();
}

static void test_coro_pool_is_bounded(void **state)
{
    (void)state;
    enum { COUNT = CORO_POOL_MAX + 10 };
    coro_t *cos[COUNT];
    coro_thread_cleanup();
    for (int i = 0; i < COUNT; i++) {
        cos[i] = coro_new("bounded", 0, yield_once, NULL);
        assert_non_null(cos[i]);
        assert_int_equal(coro_resume(cos[i]), 0);
    }
    for (int i = 0; i < COUNT; i++) {
        assert_int_equal(coro_resume(cos[i]), 0);
        coro_free(cos[i]);
    }
    assert_int_equal(coro_pool_size(), CORO_POOL_MAX);
    coro_thread_cleanup();
    assert_int_equal(coro_pool_size(), 0);
}

/* ---- 1,000 at once ---- */

#define ALIVE_COUNT 1000
#define ALIVE_TOUCH_BYTES 4096

typedef struct {
    int id;
    int intact; /* its stack held its bytes while the others ran */
    uintptr_t frame;
} alive_t;

static void park_with_stack(void *arg)
{
    alive_t *a = arg;
    volatile unsigned char buf[ALIVE_TOUCH_BYTES];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(a->id + i);
    a->frame = (uintptr_t)buf;
    coro_yield();
    a->intact = 1;
    for (size_t i = 0; i < sizeof buf; i++)
        if (buf[i] != (unsigned char)(a->id + i))
            a->intact = 0;
}

static int compare_uintptr(const void *x, const void *y)
{
    uintptr_t a = *(const uintptr_t *)x, b = *(const uintptr_t *)y;
    return (a > b) - (a < b);
}

static void test_coro_thousand_alive(void **state)
{
    (void)state;
    static alive_t alive[ALIVE_COUNT];
    static coro_t *cos[ALIVE_COUNT];
    static uintptr_t frames[ALIVE_COUNT];
    for (int i = 0; i < ALIVE_COUNT; i++) {
        alive[i] = (alive_t){.id = i};
        char name[32];
        snprintf(name, sizeof name, "conn %d", i);
        cos[i] = coro_new(name, 0, park_with_stack, &alive[i]);
        assert_non_null(cos[i]);
        assert_int_equal(coro_resume(cos[i]), 0);
    }
    for (int i = 0; i < ALIVE_COUNT; i++) {
        assert_false(coro_done(cos[i]));
        frames[i] = alive[i].frame;
    }
    /* Every one on a stack of its own, at least a stack apart. */
    qsort(frames, ALIVE_COUNT, sizeof frames[0], compare_uintptr);
    for (int i = 1; i < ALIVE_COUNT; i++)
        assert_true(frames[i] - frames[i - 1] >= CORO_STACK_DEFAULT_BYTES);
    /* Resume them in reverse, so each finds its bytes after all the others ran. */
    for (int i = ALIVE_COUNT - 1; i >= 0; i--) {
        assert_int_equal(coro_resume(cos[i]), 0);
        assert_true(coro_done(cos[i]));
        assert_int_equal(alive[i].intact, 1);
        coro_free(cos[i]);
    }
    assert_int_equal(coro_pool_size(), CORO_POOL_MAX);
    coro_thread_cleanup();
}

/* ---- threads: each has its own current coroutine and pool ---- */

#define THREAD_COROS 100

static void count_to_three(void *arg)
{
    int *n = arg;
    for (int i = 0; i < 3; i++) {
        (*n)++;
        coro_yield();
    }
}

static void *thread_body(void *arg)
{
    int *failures = arg;
    int counts[THREAD_COROS] = {0};
    coro_t *cos[THREAD_COROS];
    for (int i = 0; i < THREAD_COROS; i++) {
        cos[i] = coro_new("worker", 64 * 1024, count_to_three, &counts[i]);
        if (cos[i] == NULL) {
            (*failures)++;
            return NULL;
        }
    }
    for (int round = 0; round < 4; round++)
        for (int i = 0; i < THREAD_COROS; i++) {
            if (coro_resume(cos[i]) != 0 || coro_current() != NULL)
                (*failures)++;
            sched_yield(); /* let the other thread switch meanwhile */
        }
    for (int i = 0; i < THREAD_COROS; i++) {
        if (!coro_done(cos[i]) || counts[i] != 3)
            (*failures)++;
        coro_free(cos[i]);
    }
    coro_thread_cleanup();
    return NULL;
}

static void test_coro_threads(void **state)
{
    (void)state;
    pthread_t threads[2];
    int failures[2] = {0, 0};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, thread_body, &failures[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(failures[0], 0);
    assert_int_equal(failures[1], 0);
}

/* ---- death tests: a child process runs the body, the parent reads its
 * stderr and its end ---- */

typedef struct {
    int status;
    char err[16384];
} child_end_t;

/* coro's SIGSEGV handler, as main() found it installed before cmocka ran
 * any test. cmocka puts a handler of its own in place around each test
 * (to report a crash as a failure): the child puts coro's back. */
static struct sigaction coro_segv_action;

static void run_child(void (*body)(void), child_end_t *end)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        (void)setrlimit(RLIMIT_CORE, &no_core); /* no core files in the tree */
        (void)sigaction(SIGSEGV, &coro_segv_action, NULL);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        body();
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while ((n = read(fds[0], end->err + len, sizeof end->err - 1 - len)) > 0 ||
           (n < 0 && errno == EINTR))
        if (n > 0)
            len += (size_t)n;
    end->err[len] = '\0';
    close(fds[0]);
    assert_int_equal(waitpid(pid, &end->status, 0), pid);
}

/* Frames of ~600 bytes until the stack runs out; not a tail call, as the
 * callee writes into its caller's frame. */
static __attribute__((noinline)) void recurse(volatile char *parent, unsigned depth)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (parent != NULL)
        parent[1] = pad[0];
    if (depth < UINT_MAX)
        recurse(pad, depth + 1);
    pad[2] = pad[1];
}

static void overflow_deep(void *arg)
{
    (void)arg;
    recurse(NULL, 0);
}

static void child_overflow_deep(void)
{
    coro_t *co = coro_new("conn 42", 64 * 1024, overflow_deep, NULL);
    if (co != NULL)
        coro_resume(co);
}

/* One frame of 16 KiB when less than 4 KiB are left, touched at its
 * lowest byte first: it lands below a one-page guard, inside ours. */
static uintptr_t big_frame_stack_lo;

static __attribute__((noinline)) void big_frame(void)
{
    volatile char big[16384];
    big[0] = 1;
    big[sizeof big - 1] = big[0];
}

static __attribute__((noinline)) void descend_then_big_frame(unsigned depth)
{
    volatile char pad[256];
    pad[0] = (char)depth;
    if ((uintptr_t)pad - big_frame_stack_lo < 4096 || depth == UINT_MAX)
        big_frame();
    else
        descend_then_big_frame(depth + 1);
    pad[1] = pad[0];
}

static void overflow_big_frame(void *arg)
{
    (void)arg;
    volatile char top = 0;
    big_frame_stack_lo = (uintptr_t)&top - coro_stack_bytes(coro_current()) + 256;
    descend_then_big_frame(0);
}

static void child_overflow_big_frame(void)
{
    coro_t *co = coro_new("big frame", 64 * 1024, overflow_big_frame, NULL);
    if (co != NULL)
        coro_resume(co);
}

static void *thread_overflow(void *arg)
{
    (void)arg;
    child_overflow_deep();
    return NULL;
}

static void child_overflow_in_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, thread_overflow, NULL) == 0)
        pthread_join(t, NULL);
}

static void bad_pointer(void *arg)
{
    (void)arg;
    volatile uintptr_t wild = 16; /* not in any guard region */
    *(volatile int *)wild = 1;
}

static void child_other_segv(void)
{
    coro_t *co = coro_new("wild", 64 * 1024, bad_pointer, NULL);
    if (co != NULL)
        coro_resume(co);
}

static void expect_overflow_report(const child_end_t *end, const char *name)
{
    char want[128];
    snprintf(want, sizeof want, "coroutine '%s' overflowed its 65536-byte stack", name);
    if (strstr(end->err, want) == NULL)
        print_message("child's stderr:\n%s\n", end->err);
#ifdef TEST_ASAN
    /* ASan's handler runs after ours and ends the process its own way
     * (exit code 1, a stack-overflow report). If ASan were run with
     * allow_user_segv_handler=0, ours would never run: accept ASan's
     * report alone then. */
    assert_true(strstr(end->err, want) != NULL || strstr(end->err, "stack-overflow") != NULL);
    assert_false(WIFEXITED(end->status) && WEXITSTATUS(end->status) == 0);
#else
    assert_non_null(strstr(end->err, want));
    /* Then the default action: killed by SIGSEGV, as any crash. */
    assert_true(WIFSIGNALED(end->status));
    assert_int_equal(WTERMSIG(end->status), SIGSEGV);
#endif
}

static void test_coro_overflow_names_coroutine(void **state)
{
    (void)state;
    child_end_t end;
    run_child(child_overflow_deep, &end);
    expect_overflow_report(&end, "conn 42");
}

static void test_coro_overflow_big_frame(void **state)
{
    (void)state;
    child_end_t end;
    run_child(child_overflow_big_frame, &end);
    expect_overflow_report(&end, "big frame");
}

static void test_coro_overflow_in_thread(void **state)
{
    (void)state;
    child_end_t end;
    run_child(child_overflow_in_thread, &end);
    expect_overflow_report(&end, "conn 42");
}

static void test_coro_other_segv_is_a_crash(void **state)
{
    (void)state;
    child_end_t end;
    run_child(child_other_segv, &end);
    assert_null(strstr(end.err, "overflowed"));
#ifdef TEST_ASAN
    assert_non_null(strstr(end.err, "SEGV"));
    assert_false(WIFEXITED(end.status) && WEXITSTATUS(end.status) == 0);
#else
    assert_true(WIFSIGNALED(end.status));
    assert_int_equal(WTERMSIG(end.status), SIGSEGV);
#endif
}

int main(void)
{
    /* Before cmocka's handlers: coro's hands a fault on to the default. */
    if (coro_thread_init() != 0 || sigaction(SIGSEGV, NULL, &coro_segv_action) != 0) {
        fprintf(stderr, "test_coro: coro_thread_init failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_coro_ping_pong_order, checks_passed),
        cmocka_unit_test_teardown(test_coro_interleaved_many, checks_passed),
        cmocka_unit_test_teardown(test_coro_current, checks_passed),
        cmocka_unit_test_teardown(test_coro_nested_resume, checks_passed),
        cmocka_unit_test_teardown(test_coro_arguments, checks_passed),
        cmocka_unit_test_teardown(test_coro_done_flag, checks_passed),
        cmocka_unit_test_teardown(test_coro_misuse, checks_passed),
        cmocka_unit_test_teardown(test_coro_name_and_stack_size, checks_passed),
        cmocka_unit_test_teardown(test_coro_float_modes, checks_passed),
        cmocka_unit_test_teardown(test_coro_free_and_pool_reuse, checks_passed),
        cmocka_unit_test_teardown(test_coro_pool_is_bounded, checks_passed),
        cmocka_unit_test_teardown(test_coro_thousand_alive, checks_passed),
        cmocka_unit_test_teardown(test_coro_threads, checks_passed),
        cmocka_unit_test_teardown(test_coro_overflow_names_coroutine, checks_passed),
        cmocka_unit_test_teardown(test_coro_overflow_big_frame, checks_passed),
        cmocka_unit_test_teardown(test_coro_overflow_in_thread, checks_passed),
        cmocka_unit_test_teardown(test_coro_other_segv_is_a_crash, checks_passed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
