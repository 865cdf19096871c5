/* A binary min-heap of deadlines, intrusive: the caller embeds a
 * deadline_t in its own struct (the heap allocates nothing per entry) and
 * the entry knows its slot, so removing a connection that leaves while it
 * waits is O(log n) instead of a search. */
#ifndef SLOWAPI_DEADLINE_HEAP_H
#define SLOWAPI_DEADLINE_HEAP_H

#include <stddef.h>
#include <stdint.h>

/* index of an entry that is in no heap */
#define DEADLINE_NOT_QUEUED SIZE_MAX

typedef struct {
    uint64_t due_ns; /* CLOCK_MONOTONIC */
    size_t index;    /* slot in the heap, or DEADLINE_NOT_QUEUED */
} deadline_t;

typedef struct {
    deadline_t **slots; /* slots[0] is the earliest */
    size_t len;
    size_t cap;
} deadline_heap_t;

void deadline_init(deadline_t *d);
void deadline_heap_init(deadline_heap_t *h);
void deadline_heap_free(deadline_heap_t *h);

/* Returns 0, or -ENOMEM (d is then not queued). d must not be queued. */
int deadline_heap_push(deadline_heap_t *h, deadline_t *d);

/* The earliest entry, or NULL when empty. */
deadline_t *deadline_heap_min(const deadline_heap_t *h);

/* Take d out (a no-op when it is not queued). */
void deadline_heap_remove(deadline_heap_t *h, deadline_t *d);

#endif
