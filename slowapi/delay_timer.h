/* When delayed answers are due: one timerfd for every waiting request.
 *
 * Why not a libuv timer per request: libuv's timers count whole
 * milliseconds on a loop clock that is read once per iteration, so a
 * deadline has to be rounded up to the next millisecond to be never early,
 * and answers came 1.5 to 2 ms late on an idle machine. A timerfd on
 * CLOCK_MONOTONIC with an absolute expiry (TFD_TIMER_ABSTIME) wakes the
 * loop within the kernel's timer slack (50 us by default) of the
 * nanosecond deadline. The deadlines themselves live in our own min-heap
 * (deadline_heap.h), and the timerfd is always set to the earliest one. It
 * is the same clock as clock_now_ns(), so a deadline the timerfd says has
 * passed has passed for the lateness figures too. */
#ifndef SLOWAPI_DELAY_TIMER_H
#define SLOWAPI_DELAY_TIMER_H

#include <stdint.h>

#include <uv.h>

#include "deadline_heap.h"

typedef struct delay_timer_s delay_timer_t;

/* d is due (now >= d->due_ns) and no longer queued. May add or cancel
 * deadlines. */
typedef void (*delay_due_cb)(delay_timer_t *t, deadline_t *d);
/* A run has answered what was due: the owner writes out what the answers
 * queued (an h2c connection's due answers go out in one write). */
typedef void (*delay_done_cb)(delay_timer_t *t);

struct delay_timer_s {
    deadline_heap_t heap;
    uv_poll_t poll;     /* readable when the timerfd expires */
    int fd;             /* the timerfd, -1 when none */
    int poll_open;      /* poll is initialised (to be closed) */
    uint64_t armed_ns;  /* the timerfd's expiry; 0 = disarmed */
    int running;        /* inside delay_timer_run: arm once, at the end */
    delay_due_cb due_cb;
    delay_done_cb done_cb; /* NULL: none */
    void *data;         /* the owner's */
};

/* Returns 0 or a negative errno / libuv error; on failure nothing is left
 * open except what delay_timer_free releases. */
int delay_timer_init(uv_loop_t *loop, delay_timer_t *t, delay_due_cb due_cb,
                     delay_done_cb done_cb);

/* Queue d (d->due_ns set by the caller). Returns 0 or a negative errno
 * (-ENOMEM, or timerfd_settime's error); d is then not queued. */
int delay_timer_add(delay_timer_t *t, deadline_t *d);

/* Forget d (a no-op when it is not queued). */
void delay_timer_cancel(delay_timer_t *t, deadline_t *d);

/* Answer whatever is due now, if anything, earliest first. The timerfd
 * does this when it fires; busy callbacks may call it too, so that answers
 * due while the loop works through a batch of reads do not wait for the
 * batch to end. Costs one clock read when nothing is due. */
void delay_timer_run(delay_timer_t *t);

/* Stop watching the timerfd (the loop is stopping). */
void delay_timer_close(delay_timer_t *t);

/* After the loop has ended: the timerfd and the heap. Returns 0 or -errno
 * from close(2). */
int delay_timer_free(delay_timer_t *t);

#endif
