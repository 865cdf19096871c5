/* The min-heap behind slowapi's delays (deadline_heap.h). Slots hold
 * pointers, and every move writes the entry's new slot back into it. */
#include "deadline_heap.h"

#include <errno.h>
#include <stdlib.h>

/* Room for this many waiting requests before the first growth. */
#define DEADLINE_HEAP_MIN_CAP 1024

void deadline_init(deadline_t *d)
{
    d->due_ns = 0;
    d->index = DEADLINE_NOT_QUEUED;
}

void deadline_heap_init(deadline_heap_t *h)
{
    h->slots = NULL;
    h->len = 0;
    h->cap = 0;
}

void deadline_heap_free(deadline_heap_t *h)
{
    free(h->slots);
    deadline_heap_init(h);
}

static void heap_place(deadline_heap_t *h, size_t i, deadline_t *d)
{
    h->slots[i] = d;
    d->index = i;
}

/* d belongs at slot i or above it. */
static void heap_sift_up(deadline_heap_t *h, size_t i, deadline_t *d)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (h->slots[parent]->due_ns <= d->due_ns)
            break;
        heap_place(h, i, h->slots[parent]);
        i = parent;
    }
    heap_place(h, i, d);
}

/* d belongs at slot i or below it. */
static void heap_sift_down(deadline_heap_t *h, size_t i, deadline_t *d)
{
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && h->slots[child + 1]->due_ns < h->slots[child]->due_ns)
            child++;
        if (d->due_ns <= h->slots[child]->due_ns)
            break;
        heap_place(h, i, h->slots[child]);
        i = child;
    }
    heap_place(h, i, d);
}

int deadline_heap_push(deadline_heap_t *h, deadline_t *d)
{
    if (h->len == h->cap) {
        size_t cap = h->cap > 0 ? h->cap * 2 : DEADLINE_HEAP_MIN_CAP;
        deadline_t **slots = realloc(h->slots, cap * sizeof *slots);
        if (slots == NULL)
            return -ENOMEM;
        h->slots = slots;
        h->cap = cap;
    }
    h->len++;
    heap_sift_up(h, h->len - 1, d);
    return 0;
}

deadline_t *deadline_heap_min(const deadline_heap_t *h)
{
    return h->len > 0 ? h->slots[0] : NULL;
}

void deadline_heap_remove(deadline_heap_t *h, deadline_t *d)
{
    size_t i = d->index;
    if (i == DEADLINE_NOT_QUEUED)
        return;
    d->index = DEADLINE_NOT_QUEUED;
    deadline_t *last = h->slots[--h->len];
    if (last == d)
        return; /* it was the last slot: nothing to fill */
    /* The last entry fills the hole; it may belong above or below it. */
    if (i > 0 && last->due_ns < h->slots[(i - 1) / 2]->due_ns)
        heap_sift_up(h, i, last);
    else
        heap_sift_down(h, i, last);
}
