/* Coroutines for handler code written in blocking style (the gevent
 * analogue): each connection runs on a stack of its own, and every wait
 * for I/O yields back to the thread's event loop, which resumes the
 * coroutine when the I/O is done.
 *
 * Asymmetric, one thread: coro_resume() runs a coroutine until it yields
 * or ends; coro_yield() returns to whoever resumed it (the loop, or
 * another coroutine). A coroutine is created, resumed and freed on one
 * thread; each thread has its own current coroutine and stack pool.
 *
 * Stacks are mmap'd with a PROT_NONE guard region below them: a page of
 * stack costs memory only once it is touched, and running off the end of
 * a stack ends the process with
 *     program: coroutine 'conn 42' overflowed its 262144-byte stack
 * on stderr (then the default SIGSEGV action: a core), never with silent
 * corruption. coro.c says how and why. */
#ifndef LAB_CORO_H
#define LAB_CORO_H

#include <stddef.h>

/* A handler with a request buffer, llhttp, snprintf and curl_multi_* calls
 * on its stack uses tens of KiB; untouched pages are free, so the default
 * is generous. */
#define CORO_STACK_DEFAULT_BYTES (256 * 1024)
#define CORO_STACK_MIN_BYTES (16 * 1024)
/* Below each stack: larger than one page so that a frame bigger than a
 * page (a 16 KiB request buffer) cannot step over it. Address space only. */
#define CORO_GUARD_BYTES (64 * 1024)
/* Finished coroutines' stacks kept per thread for the next coro_new. */
#define CORO_POOL_MAX 64
/* Longer names are cut (the overflow message names the coroutine). */
#define CORO_NAME_MAX 48

typedef struct coro_s coro_t;
typedef void (*coro_fn)(void *arg);

/* A suspended coroutine that will run fn(arg) on its first resume.
 * stack_bytes 0 means CORO_STACK_DEFAULT_BYTES; others are rounded up to
 * whole pages, at least CORO_STACK_MIN_BYTES. Returns NULL with errno set
 * (ENOMEM, EINVAL for a NULL fn) on failure. Calls coro_thread_init(). */
coro_t *coro_new(const char *name, size_t stack_bytes, coro_fn fn, void *arg);

/* Run co until it yields or its function returns. Returns 0, -EINVAL for
 * NULL or a finished coroutine, -EBUSY for one that is running (itself or
 * a coroutine waiting in its own coro_resume). */
int coro_resume(coro_t *co);

/* From inside a coroutine: back to its resumer; returns when resumed
 * again (0). Outside any coroutine it returns -EPERM at once. */
int coro_yield(void);

/* The coroutine running on this thread, NULL on the thread's own stack. */
coro_t *coro_current(void);

/* 1 once the coroutine's function has returned. */
int coro_done(const coro_t *co);

const char *coro_name(const coro_t *co);

/* Usable stack bytes (after rounding), guard region not included. */
size_t coro_stack_bytes(const coro_t *co);

/* Free a finished or suspended coroutine (NULL is ignored); its stack
 * goes to the thread's pool (or back to the kernel when the pool is
 * full). A suspended coroutine's frames are dropped unrun: whatever they
 * own leaks, so finish coroutines rather than free them mid-way. Freeing
 * a running coroutine is a bug: the process aborts with a message. */
void coro_free(coro_t *co);

/* Once per thread before its first coroutine (coro_new calls it): the
 * SIGSEGV handler (once per process) and an alternate signal stack for
 * this thread, so the handler can run when a stack is exhausted.
 * Idempotent. Returns 0 or a negative errno. */
int coro_thread_init(void);

/* Stacks in this thread's pool (for tests and benchmarks). */
size_t coro_pool_size(void);

/* Optional, after a thread's last coroutine is freed (before the thread
 * ends, say): unmap its pooled stacks and the alternate signal stack
 * coro_thread_init made. A later coro_new starts afresh. */
void coro_thread_cleanup(void);

#endif
