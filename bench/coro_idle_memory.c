/* What do idle coroutines cost? COUNT coroutines (1000) each start, put
 * on their stack what a blocking-style handler of GET /io has there while
 * it waits for the upstream, and park at a yield; VmRSS, RssAnon, VmPTE
 * and VmSize from /proc/self/status before and after give the cost of
 * one. Then each is resumed to finish its answer (checked) and freed.
 *
 * Modes (-m):
 *   bare     the coroutine parks at once: the floor (entry frame, coro_t)
 *   handler  a connection's request buffer (16 KiB) holding a real
 *            request as recv() leaves it, an http_request_t that llhttp
 *            parsed it into, a response_t and a fanout_result_t: the
 *            frame of services/core/blocking_conn.c, on the stack
 *   full     handler, with the whole buffer and response written (a
 *            client that filled the buffer: the worst case of that frame)
 * With -r N it also times N resume + yield round trips (2N switches).
 *
 * usage: coro_idle_memory [-n COUNT] [-s STACK_BYTES] [-m MODE] [-r ROUND_TRIPS]
 * Built and run by bench/coro_memory.sh. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "coro.h"
#include "http_request.h"
#include "http_response.h"
#include "parse.h"
#include "routes.h"

#define CONN_BUF_BYTES (HTTP_MAX_HEADER_BYTES + 8192) /* as blocking_conn.c */

#ifdef CORO_USE_UCONTEXT
#define BACKEND "ucontext (swapcontext)"
#else
#define BACKEND "x86-64 asm (coro__swap)"
#endif

static const char REQUEST[] = "GET /io HTTP/1.1\r\n"
                              "Host: sut:3000\r\n"
                              "User-Agent: loadgen\r\n"
                              "Accept: */*\r\n"
                              "\r\n";

typedef enum { MODE_BARE, MODE_HANDLER, MODE_FULL } stack_mode_t;

typedef struct {
    stack_mode_t mode;
    int id;
    int answered; /* 1 once it wrote its 200 */
} conn_t;

typedef struct {
    long vm_rss_kib, rss_anon_kib, vm_pte_kib, vm_size_kib;
} mem_t;

static long status_field_kib(const char *text, const char *name)
{
    const char *at = strstr(text, name);
    return at != NULL ? strtol(at + strlen(name), NULL, 10) : -1;
}

static int mem_read(mem_t *m)
{
    char text[8192];
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -errno;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    m->vm_rss_kib = status_field_kib(text, "\nVmRSS:");
    m->rss_anon_kib = status_field_kib(text, "\nRssAnon:");
    m->vm_pte_kib = status_field_kib(text, "\nVmPTE:");
    m->vm_size_kib = status_field_kib(text, "\nVmSize:");
    return 0;
}

/* The blocking-style fan-out: start the calls, park until the last ends. */
static __attribute__((noinline)) void wait_for_upstream(fanout_result_t *result)
{
    memset(result, 0, sizeof *result);
    result->calls = 10;
    coro_yield();
    result->ok = result->calls;
}

/* Mode bare: a function of its own, so no handler frame is reserved. */
static void bare(void *arg)
{
    conn_t *c = arg;
    coro_yield();
    c->answered = 1;
}

static void handler(void *arg)
{
    conn_t *c = arg;
    char buf[CONN_BUF_BYTES];
    http_request_t req;
    response_t res;
    fanout_result_t result;
    if (c->mode == MODE_FULL) {
        memset(buf, 'x', sizeof buf);
        memset(&res, 0, sizeof res);
    }
    memcpy(buf, REQUEST, sizeof REQUEST - 1); /* what recv() leaves */
    http_request_init(&req);
    size_t used = 0;
    if (http_request_feed(&req, buf, sizeof REQUEST - 1, &used) != HTTP_REQ_DONE ||
        !http_request_path_is(&req, "/io"))
        return;
    wait_for_upstream(&result);
    char body[128];
    int body_len = snprintf(body, sizeof body, "{\"calls\":%d,\"ok\":%d,\"elapsed_ms\":0}",
                            result.calls, result.ok);
    res.status = 200;
    res.len = http_response_format(res.buf, sizeof res.buf, 200, "application/json", body,
                                   (size_t)body_len, req.keep_alive);
    c->answered = res.len > 0;
}

static void ping_pong(void *arg)
{
    long round_trips = *(long *)arg;
    for (long i = 0; i < round_trips; i++)
        coro_yield();
}

/* ns per switch over round_trips resume + yield pairs. */
static int time_switches(long round_trips, size_t stack_bytes)
{
    coro_t *co = coro_new("ping-pong", stack_bytes, ping_pong, &round_trips);
    if (co == NULL) {
        fprintf(stderr, "coro_idle_memory: coro_new: %s\n", strerror(errno));
        return -1;
    }
    for (int i = 0; i < 1000; i++) /* warm up */
        (void)coro_resume(co);
    uint64_t t0 = clock_now_ns();
    while (!coro_done(co))
        (void)coro_resume(co);
    uint64_t elapsed_ns = clock_now_ns() - t0;
    double switches = 2.0 * (double)(round_trips - 1000);
    printf("switches: %s: %.0f switches in %.1f ms: %.1f ns per switch, %.1f M switches/s\n",
           BACKEND, switches, ns_to_ms(elapsed_ns), (double)elapsed_ns / switches,
           switches / ((double)elapsed_ns / 1e3));
    coro_free(co);
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: coro_idle_memory [-n COUNT] [-s STACK_BYTES] [-m bare|handler|full] "
                "[-r ROUND_TRIPS]\n");
}

int main(int argc, char **argv)
{
    long count = 1000, stack_arg = 0, round_trips = 0;
    stack_mode_t mode = MODE_HANDLER;
    const char *mode_name = "handler";
    int opt;
    while ((opt = getopt(argc, argv, "n:s:m:r:h")) != -1) {
        switch (opt) {
        case 'n':
            if (parse_long(optarg, 1, 30000, &count) != 0)
                goto bad;
            break;
        case 's':
            if (parse_long(optarg, 0, 1L << 30, &stack_arg) != 0)
                goto bad;
            break;
        case 'r':
            if (parse_long(optarg, 0, 1L << 40, &round_trips) != 0)
                goto bad;
            break;
        case 'm':
            mode_name = optarg;
            if (strcmp(optarg, "bare") == 0)
                mode = MODE_BARE;
            else if (strcmp(optarg, "handler") == 0)
                mode = MODE_HANDLER;
            else if (strcmp(optarg, "full") == 0)
                mode = MODE_FULL;
            else
                goto bad;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            goto bad;
        }
    }
    size_t stack_bytes = (size_t)stack_arg;

    if (round_trips > 0) {
        if (round_trips <= 1000) {
            fprintf(stderr, "coro_idle_memory: -r takes more than 1000 (the warm-up)\n");
            return 2;
        }
        return time_switches(round_trips, stack_bytes) == 0 ? 0 : 1;
    }

    conn_t *conns = calloc((size_t)count, sizeof *conns);
    coro_t **cos = calloc((size_t)count, sizeof *cos);
    if (conns == NULL || cos == NULL) {
        fprintf(stderr, "coro_idle_memory: out of memory\n");
        return 1;
    }
    /* One coroutine first, so the allocator, the signal stack and the
     * code are in memory before the measurement; then an empty pool. */
    conn_t warm = {.mode = mode};
    coro_fn fn = mode == MODE_BARE ? bare : handler;
    coro_t *w = coro_new("warm-up", stack_bytes, fn, &warm);
    if (w == NULL || coro_resume(w) != 0 || coro_resume(w) != 0 || !warm.answered) {
        fprintf(stderr, "coro_idle_memory: the warm-up coroutine failed\n");
        return 1;
    }
    coro_free(w);
    coro_thread_cleanup();
    if (coro_thread_init() != 0) {
        fprintf(stderr, "coro_idle_memory: coro_thread_init failed\n");
        return 1;
    }

    mem_t before, after;
    if (mem_read(&before) != 0) {
        fprintf(stderr, "coro_idle_memory: /proc/self/status: %s\n", strerror(errno));
        return 1;
    }
    for (long i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "conn %ld", i);
        conns[i] = (conn_t){.mode = mode, .id = (int)i};
        cos[i] = coro_new(name, stack_bytes, fn, &conns[i]);
        if (cos[i] == NULL || coro_resume(cos[i]) != 0 || coro_done(cos[i])) {
            fprintf(stderr, "coro_idle_memory: coroutine %ld did not park: %s\n", i,
                    cos[i] == NULL ? strerror(errno) : "it ended");
            return 1;
        }
    }
    if (mem_read(&after) != 0) {
        fprintf(stderr, "coro_idle_memory: /proc/self/status: %s\n", strerror(errno));
        return 1;
    }
    long answered = 0;
    for (long i = 0; i < count; i++) {
        (void)coro_resume(cos[i]);
        answered += coro_done(cos[i]) && conns[i].answered;
        coro_free(cos[i]);
    }
    if (answered != count) {
        fprintf(stderr, "coro_idle_memory: %ld of %ld coroutines answered\n", answered, count);
        return 1;
    }

    size_t shown_stack = stack_bytes ? stack_bytes : CORO_STACK_DEFAULT_BYTES;
    printf("%ld idle coroutines, mode %s, %zu-byte stacks + %d-byte guards, %s\n", count,
           mode_name, shown_stack, CORO_GUARD_BYTES, BACKEND);
    const struct {
        const char *name;
        long before, after;
        const char *what;
    } rows[] = {
        {"VmRSS", before.vm_rss_kib, after.vm_rss_kib, "resident memory"},
        {"RssAnon", before.rss_anon_kib, after.rss_anon_kib, "of which anonymous (stacks, heap)"},
        {"VmPTE", before.vm_pte_kib, after.vm_pte_kib, "page tables (not in VmRSS)"},
        {"VmSize", before.vm_size_kib, after.vm_size_kib, "address space (not memory)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        long delta = rows[i].after - rows[i].before;
        printf("  %-8s +%8ld KiB  %7.2f KiB per coroutine  %s\n", rows[i].name, delta,
               (double)delta / (double)count, rows[i].what);
    }
    free(cos);
    free(conns);
    return 0;

bad:
    usage(stderr);
    return 2;
}
