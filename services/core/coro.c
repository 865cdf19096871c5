/* Coroutines: mmap'd stacks with guard regions, a hand-written x86-64
 * context switch (ucontext elsewhere), a named stack-overflow message.
 *
 * The switch. On x86-64, coro__swap below saves what the SysV ABI says a
 * callee must preserve (rbx, rbp, r12-r15, the stack pointer, MXCSR and
 * the x87 control word) on the old stack, loads the other side's and
 * returns there: 21 instructions, no system call. glibc's swapcontext
 * saves and restores the signal mask on every switch, an rt_sigprocmask
 * system call each way, plus the whole FPU environment. Measured with
 * bench/coro_memory.sh (a resume + yield round trip is two switches; -O2,
 * 20 M round trips, one core of an AMD EPYC under KVM):
 *     coro__swap   23 ns per switch, 43 M switches/s
 *     swapcontext  340 ns per switch, 2.9 M switches/s
 * (Saving MXCSR and the x87 control word costs about 1 ns of the 23; the
 * rest is the calls around it and, most likely, the return predictor
 * missing each time coro__swap returns to another stack.) A request of the coroutine variant makes a handful of
 * switches (read, fan-out, write), so either would do at 10,000
 * requests/s; the asm one keeps the mechanism's cost out of the model's
 * measurement, and as no coroutine changes the signal mask, swapcontext's
 * extra work buys nothing. -DCORO_USE_UCONTEXT builds the portable one,
 * which other architectures get anyway (the tests pass with both). Not
 * supported by coro__swap: CET shadow stacks (it returns to an address
 * the shadow stack has not seen); Debian does not enable them.
 *
 * Stacks. One mmap per stack, MAP_NORESERVE | MAP_STACK: a page costs
 * memory only when touched, so a coroutine parked in a handler costs the
 * pages its frames reached: for 1,000 parked coroutines bench/coro_memory.sh
 * measured 4.1 KiB each with nothing on the stack, 12.1 KiB with a /io
 * handler's frame (16 KiB buffer holding a request, parsed request,
 * response), 20.1 KiB with that frame written throughout, plus 0.6 KiB of
 * page tables each; 320 KiB of address space each. The lowest
 * CORO_GUARD_BYTES are PROT_NONE. One page would do if every frame were
 * smaller than a page, or with -fstack-clash-protection (not in our
 * CFLAGS); a 16 KiB request buffer on the stack could step over one page
 * into the mapping below (another coroutine's stack), so the guard is
 * 64 KiB: address space only. Each stack is two mappings (guard, stack):
 * vm.max_map_count (65530 by default) allows about 30,000 coroutines.
 *
 * Pool. coro_free keeps up to CORO_POOL_MAX stacks per thread, taken
 * again last-in first-out (the warmest first), so a coroutine per
 * connection costs no mmap/mprotect/munmap. Pooled stacks are not
 * madvise(MADV_DONTNEED)'d: that would be a system call per free and
 * page faults (zeroed pages) again on every reuse, for memory that the
 * next connection touches again at once. The memory this holds is bounded
 * by CORO_POOL_MAX times the deepest use (16 MiB in the worst case with
 * 256 KiB stacks, under 1 MiB for handlers like the one measured above),
 * and coro_thread_cleanup returns it.
 *
 * Overflow. A SIGSEGV handler (installed once per process, run on an
 * alternate signal stack each thread gets in coro_thread_init, since the
 * overflowed stack has no room left) looks at the faulting address: in
 * the running coroutine's guard region, it writes
 *     program: coroutine 'NAME' overflowed its N-byte stack
 * with write(2) only. Then, overflow or not, it hands the signal on: to
 * the handler that was there before (ASan's, under ASan: it prints its
 * own stack-overflow report and exits), else the default action (the
 * process dies of SIGSEGV, with a core where enabled). So a real crash
 * still crashes as it would have. A SIGSEGV handler installed after ours
 * (not by this lab's programs; cmocka does, around each test) replaces it
 * and with it the message.
 *
 * ASan. The sanitizer must be told when the stack changes (it tracks
 * the current stack's bounds and fake frames): every switch is bracketed
 * by __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber.
 * A stack going back to the pool or the kernel is unpoisoned, since its
 * frames were never unwound. */
#include "coro.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(__x86_64__) && !defined(CORO_USE_UCONTEXT)
#define CORO_USE_UCONTEXT 1
#endif
#ifdef CORO_USE_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

/* Valgrind tells stack switches from stack growth by the registered
 * stacks; its client requests cost a few instructions outside it. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

/* The SIGSEGV handler's stack, one per thread. */
#define CORO_ALTSTACK_BYTES (64 * 1024)

typedef enum {
    CORO_SUSPENDED, /* new, or parked in coro_yield */
    CORO_RUNNING,   /* running, or waiting in its own coro_resume of another */
    CORO_DONE,      /* its function returned */
} coro_state_t;

struct coro_s {
#ifdef CORO_USE_UCONTEXT
    ucontext_t ctx;         /* this coroutine, while suspended */
    ucontext_t resumer_ctx; /* its resumer, while this one runs */
#else
    void *sp;               /* saved stack pointer, while suspended */
    void *resumer_sp;       /* the resumer's, while this one runs */
#endif
    coro_t *resumer;        /* who resumed it last; NULL: the thread's own stack */
    coro_fn fn;
    void *arg;
    char *map_lo;           /* the mapping: CORO_GUARD_BYTES of guard, then the stack */
    char *stack_lo;         /* lowest usable byte, map_lo + CORO_GUARD_BYTES */
    size_t stack_bytes;
    coro_state_t state;
#ifdef CORO_VALGRIND
    unsigned valgrind_stack_id;
#endif
#ifdef CORO_ASAN
    const void *resumer_stack_lo; /* the resumer's stack, as ASan reported it */
    size_t resumer_stack_bytes;
#endif
    char name[CORO_NAME_MAX];
};

typedef struct pooled_stack_s {
    char *map_lo;
    size_t stack_bytes;
} pooled_stack_t;

/* Per thread: a coroutine never moves to another thread. */
static _Thread_local coro_t *current;
static _Thread_local int thread_ready;
static _Thread_local void *altstack_map; /* ours, when we made one */
static _Thread_local pooled_stack_t pool[CORO_POOL_MAX];
static _Thread_local size_t pool_count;

static pthread_once_t segv_once = PTHREAD_ONCE_INIT;
static int segv_install_rc;
static struct sigaction segv_prev; /* handed the signal after us */

/* ---- the switch ---- */

#ifndef CORO_USE_UCONTEXT
/* Save the callee-saved state on this stack and *save_sp = its top, then
 * continue from load_sp (a stack saved the same way, or a new one that
 * frame_init laid out). Returns when something swaps back to *save_sp. */
void coro__swap(void **save_sp, void *load_sp);
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl coro__swap\n"
    ".hidden coro__swap\n"
    ".type coro__swap, @function\n"
    "coro__swap:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size coro__swap, .-coro__swap\n");
#endif

static void coro_entry(void) __attribute__((noreturn));

/* Lay out co's fresh stack so that the first switch into it "returns"
 * into coro_entry, as if called: the return address slot above it is 0
 * (unwinders stop there) and the stack is 16-byte aligned after it. */
static void frame_init(coro_t *co)
{
#ifdef CORO_USE_UCONTEXT
    /* getcontext cannot fail on a valid pointer. */
    (void)getcontext(&co->ctx);
    co->ctx.uc_stack.ss_sp = co->stack_lo;
    co->ctx.uc_stack.ss_size = co->stack_bytes;
    co->ctx.uc_link = NULL; /* coro_entry never returns */
    makecontext(&co->ctx, coro_entry, 0);
#else
    uint64_t *top = (uint64_t *)(void *)(co->stack_lo + co->stack_bytes);
    uint32_t mxcsr;
    uint16_t fpucw;
    /* The creator's floating-point modes, as getcontext would take them. */
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    __asm__ volatile("fnstcw %0" : "=m"(fpucw));
    top[-1] = 0;                                /* coro_entry's return address */
    top[-2] = (uint64_t)(uintptr_t)coro_entry;  /* where coro__swap returns */
    for (int i = 3; i <= 8; i++)
        top[-i] = 0;                            /* rbp, rbx, r12-r15 */
    top[-9] = (uint64_t)mxcsr | (uint64_t)fpucw << 32;
    co->sp = &top[-9];
#endif
}

/* From the resumer (the current stack) into co. */
static void switch_into(coro_t *co)
{
#ifdef CORO_ASAN
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(&fake_stack, co->stack_lo, co->stack_bytes);
#endif
#ifdef CORO_USE_UCONTEXT
    (void)swapcontext(&co->resumer_ctx, &co->ctx); /* fails only on bad pointers */
#else
    coro__swap(&co->resumer_sp, co->sp);
#endif
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(fake_stack, NULL, NULL);
#endif
}

/* From co (running) back to its resumer. final: co has ended and its
 * stack is never entered again. */
static void switch_out(coro_t *co, int final)
{
#ifdef CORO_ASAN
    void *fake_stack = NULL;
    __sanitizer_start_switch_fiber(final ? NULL : &fake_stack, co->resumer_stack_lo,
                                   co->resumer_stack_bytes);
#else
    (void)final;
#endif
#ifdef CORO_USE_UCONTEXT
    (void)swapcontext(&co->ctx, &co->resumer_ctx);
#else
    coro__swap(&co->sp, co->resumer_sp);
#endif
#ifdef CORO_ASAN
    /* Resumed, perhaps by another resumer than last time: learn its stack. */
    __sanitizer_finish_switch_fiber(fake_stack, &co->resumer_stack_lo, &co->resumer_stack_bytes);
#endif
}

/* First instructions on a new stack; coro_resume set current. */
static void coro_entry(void)
{
    coro_t *co = current;
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &co->resumer_stack_lo, &co->resumer_stack_bytes);
#endif
    co->fn(co->arg);
    co->state = CORO_DONE;
    current = co->resumer;
    switch_out(co, 1);
    abort(); /* a finished coroutine is never switched into */
}

/* ---- stacks ---- */

static void stack_unpoison(char *map_lo, size_t stack_bytes)
{
#ifdef CORO_ASAN
    /* Frames left on it (a coroutine freed while suspended, or the last
     * frames of a finished one) keep their redzones poisoned otherwise. */
    ASAN_UNPOISON_MEMORY_REGION(map_lo + CORO_GUARD_BYTES, stack_bytes);
#else
    (void)map_lo;
    (void)stack_bytes;
#endif
}

/* A stack of stack_bytes (whole pages) with its guard region below:
 * from the pool when one of that size is there, else a new mapping.
 * Returns the mapping's start, or NULL with errno set. */
static char *stack_take(size_t stack_bytes)
{
    for (size_t i = pool_count; i-- > 0;) {
        if (pool[i].stack_bytes != stack_bytes)
            continue;
        char *map_lo = pool[i].map_lo;
        memmove(&pool[i], &pool[i + 1], (pool_count - i - 1) * sizeof pool[0]);
        pool_count--;
        return map_lo;
    }
    size_t map_bytes = CORO_GUARD_BYTES + stack_bytes;
    char *map_lo = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map_lo == MAP_FAILED)
        return NULL;
    if (mprotect(map_lo, CORO_GUARD_BYTES, PROT_NONE) != 0) {
        int err = errno;
        (void)munmap(map_lo, map_bytes);
        errno = err;
        return NULL;
    }
    return map_lo;
}

static void stack_unmap(char *map_lo, size_t stack_bytes)
{
    stack_unpoison(map_lo, stack_bytes);
    /* Fails only for a range that is not ours: nothing to do then. */
    (void)munmap(map_lo, CORO_GUARD_BYTES + stack_bytes);
}

static void stack_give(char *map_lo, size_t stack_bytes)
{
    if (pool_count == CORO_POOL_MAX) {
        stack_unmap(map_lo, stack_bytes);
        return;
    }
    stack_unpoison(map_lo, stack_bytes);
    pool[pool_count].map_lo = map_lo;
    pool[pool_count].stack_bytes = stack_bytes;
    pool_count++;
}

/* ---- stack overflow: the SIGSEGV handler ---- */

/* Append s to buf[*len..cap-1]; async-signal-safe. */
static void msg_put(char *buf, size_t *len, size_t cap, const char *s)
{
    while (*s != '\0' && *len < cap)
        buf[(*len)++] = *s++;
}

static void msg_put_size(char *buf, size_t *len, size_t cap, size_t v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n > 0 && *len < cap)
        buf[(*len)++] = digits[--n];
}

static void segv_handler(int sig, siginfo_t *si, void *uctx)
{
    int saved_errno = errno;
    const coro_t *co = current;
    uintptr_t addr = (uintptr_t)si->si_addr;
    if (co != NULL && addr >= (uintptr_t)co->map_lo && addr < (uintptr_t)co->stack_lo) {
        char msg[64 + CORO_NAME_MAX + 64 + 24];
        size_t len = 0;
        msg_put(msg, &len, sizeof msg - 1, program_invocation_short_name);
        msg_put(msg, &len, sizeof msg - 1, ": coroutine '");
        msg_put(msg, &len, sizeof msg - 1, co->name);
        msg_put(msg, &len, sizeof msg - 1, "' overflowed its ");
        msg_put_size(msg, &len, sizeof msg - 1, co->stack_bytes);
        msg_put(msg, &len, sizeof msg - 1, "-byte stack");
        msg[len++] = '\n';
        if (write(STDERR_FILENO, msg, len) < 0) {
            /* Nothing better to do in a signal handler. */
        }
    }
    errno = saved_errno;

    /* Hand the signal on: to whoever handled it before us ... */
    if ((segv_prev.sa_flags & SA_SIGINFO) && segv_prev.sa_sigaction != NULL) {
        segv_prev.sa_sigaction(sig, si, uctx);
        return;
    }
    if (!(segv_prev.sa_flags & SA_SIGINFO) && segv_prev.sa_handler != SIG_DFL &&
        segv_prev.sa_handler != SIG_IGN) {
        segv_prev.sa_handler(sig);
        return;
    }
    /* ... else to the default action: a fault happens again when we
     * return, a signal sent with kill(2) is sent again (delivered once
     * this handler returns, as SIGSEGV is blocked in it). */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    (void)sigaction(sig, &dfl, NULL);
    if (si->si_code <= 0)
        (void)raise(sig);
}

static void segv_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = segv_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    if (sigaction(SIGSEGV, &sa, &segv_prev) != 0)
        segv_install_rc = -errno;
}

int coro_thread_init(void)
{
    if (thread_ready)
        return 0;
    int rc = pthread_once(&segv_once, segv_install);
    if (rc != 0)
        return -rc;
    if (segv_install_rc != 0)
        return segv_install_rc;
    stack_t old;
    if (sigaltstack(NULL, &old) != 0)
        return -errno;
    if (old.ss_flags & SS_DISABLE) {
        /* None yet (ASan makes its own; then that one serves). */
        void *p = mmap(NULL, CORO_ALTSTACK_BYTES, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (p == MAP_FAILED)
            return -errno;
        stack_t ss = {.ss_sp = p, .ss_size = CORO_ALTSTACK_BYTES, .ss_flags = 0};
        if (sigaltstack(&ss, NULL) != 0) {
            int err = errno;
            (void)munmap(p, CORO_ALTSTACK_BYTES);
            return -err;
        }
        altstack_map = p;
    }
    thread_ready = 1;
    return 0;
}

void coro_thread_cleanup(void)
{
    while (pool_count > 0) {
        pool_count--;
        stack_unmap(pool[pool_count].map_lo, pool[pool_count].stack_bytes);
    }
    if (altstack_map != NULL) {
        stack_t cur;
        if (sigaltstack(NULL, &cur) == 0 && cur.ss_sp == altstack_map) {
            stack_t off = {.ss_sp = NULL, .ss_size = 0, .ss_flags = SS_DISABLE};
            (void)sigaltstack(&off, NULL);
        }
        (void)munmap(altstack_map, CORO_ALTSTACK_BYTES);
        altstack_map = NULL;
    }
    thread_ready = 0;
}

size_t coro_pool_size(void)
{
    return pool_count;
}

/* ---- the API ---- */

coro_t *coro_new(const char *name, size_t stack_bytes, coro_fn fn, void *arg)
{
    if (fn == NULL) {
        errno = EINVAL;
        return NULL;
    }
    int rc = coro_thread_init();
    if (rc != 0) {
        errno = -rc;
        return NULL;
    }
    size_t page_bytes = (size_t)sysconf(_SC_PAGESIZE);
    if (stack_bytes == 0)
        stack_bytes = CORO_STACK_DEFAULT_BYTES;
    if (stack_bytes < CORO_STACK_MIN_BYTES)
        stack_bytes = CORO_STACK_MIN_BYTES;
    if (stack_bytes > SIZE_MAX / 2) {
        errno = ENOMEM;
        return NULL;
    }
    stack_bytes = (stack_bytes + page_bytes - 1) / page_bytes * page_bytes;

    coro_t *co = calloc(1, sizeof *co);
    if (co == NULL)
        return NULL;
    co->map_lo = stack_take(stack_bytes);
    if (co->map_lo == NULL) {
        int err = errno;
        free(co);
        errno = err;
        return NULL;
    }
    co->stack_lo = co->map_lo + CORO_GUARD_BYTES;
    co->stack_bytes = stack_bytes;
    co->fn = fn;
    co->arg = arg;
    co->state = CORO_SUSPENDED;
    snprintf(co->name, sizeof co->name, "%s", name != NULL ? name : "(unnamed)");
#ifdef CORO_VALGRIND
    co->valgrind_stack_id = VALGRIND_STACK_REGISTER(co->stack_lo, co->stack_lo + stack_bytes);
#endif
    frame_init(co);
    return co;
}

int coro_resume(coro_t *co)
{
    if (co == NULL || co->state == CORO_DONE)
        return -EINVAL;
    if (co->state == CORO_RUNNING)
        return -EBUSY;
    co->resumer = current;
    co->state = CORO_RUNNING;
    current = co;
    switch_into(co);
    /* co yielded or ended; either way it set current back to us. */
    return 0;
}

int coro_yield(void)
{
    coro_t *co = current;
    if (co == NULL)
        return -EPERM;
    co->state = CORO_SUSPENDED;
    current = co->resumer;
    switch_out(co, 0);
    /* coro_resume set state and current again. */
    return 0;
}

coro_t *coro_current(void)
{
    return current;
}

int coro_done(const coro_t *co)
{
    return co->state == CORO_DONE;
}

const char *coro_name(const coro_t *co)
{
    return co->name;
}

size_t coro_stack_bytes(const coro_t *co)
{
    return co->stack_bytes;
}

void coro_free(coro_t *co)
{
    if (co == NULL)
        return;
    if (co->state == CORO_RUNNING) {
        fprintf(stderr, "%s: coro_free: coroutine '%s' is running\n",
                program_invocation_short_name, co->name);
        abort();
    }
#ifdef CORO_VALGRIND
    VALGRIND_STACK_DEREGISTER(co->valgrind_stack_id);
#endif
    stack_give(co->map_lo, co->stack_bytes);
    free(co);
}
