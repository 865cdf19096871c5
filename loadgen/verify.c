#include "verify.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "health.h"

#define VERIFY_BODY_MAX 4096

/* <the URL's path without query and trailing slashes>/stats: slowapi's
 * base URL may be given as http://host:port, .../ or .../?delay=1. */
static int verify_stats_target(const lg_url_t *url, char *out, size_t cap)
{
    size_t len = strcspn(url->target, "?");
    while (len > 0 && url->target[len - 1] == '/')
        len--;
    int n = snprintf(out, cap, "%.*s/stats", (int)len, url->target);
    return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int verify_parse_calls(const char *body, long long *calls, char *err, size_t err_len)
{
    json_t *stats = json_loads(body, 0, NULL);
    json_t *v = json_object_get(stats, "calls_total");
    int rc = 0;
    if (!json_is_object(stats)) {
        snprintf(err, err_len, "GET /stats: the answer is not a JSON object");
        rc = -EPROTO;
    } else if (v == NULL) {
        snprintf(err, err_len, "GET /stats has no calls_total (a slowapi without the counter)");
        rc = -ENOENT;
    } else if (!json_is_integer(v) || json_integer_value(v) < 0) {
        snprintf(err, err_len, "GET /stats: calls_total is not a count");
        rc = -EPROTO;
    } else {
        *calls = (long long)json_integer_value(v);
    }
    json_decref(stats);
    return rc;
}

int lg_verify_read_calls(const lg_url_t *url, long long *calls, char *err, size_t err_len)
{
    char target[LG_TARGET_MAX], body[VERIFY_BODY_MAX];
    int status = 0;
    if (verify_stats_target(url, target, sizeof target) < 0) {
        snprintf(err, err_len, "--upstream: path too long");
        return -ENAMETOOLONG;
    }
    int rc = lg_health_http_get(url, target, LG_UPSTREAM_TIMEOUT_MS, &status, body, sizeof body, err,
                             err_len);
    if (rc < 0)
        return rc;
    if (status != 200) {
        snprintf(err, err_len, "GET %s answered %d", target, status);
        return -EPROTO;
    }
    return verify_parse_calls(body, calls, err, err_len);
}

void lg_verify_read(const lg_url_t *url, const char *when, lg_verify_reading_t *r)
{
    char err[LG_VERIFY_NOTE_MAX / 2];
    r->calls = 0;
    r->ok = lg_verify_read_calls(url, &r->calls, err, sizeof err) == 0;
    r->why[0] = '\0';
    if (!r->ok)
        snprintf(r->why, sizeof r->why, "%s: %.*s", when, (int)(sizeof r->why / 2), err);
}

long long lg_verify_expected(const char *workload, long fanout)
{
    if (strcmp(workload, "cpu") == 0)
        return 0;
    if (strcmp(workload, "io") == 0 && fanout >= 0)
        return fanout;
    return -1;
}

/* Append "; " and the formatted text to the note. */
__attribute__((format(printf, 2, 3))) static void verify_note(lg_verify_t *v, const char *fmt, ...)
{
    size_t len = strlen(v->note);
    if (len > 0 && len + 2 < sizeof v->note) {
        memcpy(v->note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(v->note + len, sizeof v->note - len, fmt, ap);
    va_end(ap);
}

/* |calls / answered - expected| <= max(expected, 1) / 100, multiplied
 * out: in integers the edge of the tolerance is exact (10.10 calls per
 * answer is ok for 10, where 10.1 - 10 is a hair over 0.1 in doubles).
 * long double holds these products exactly below 2^64. */
static const char *verify_verdict(const lg_verify_t *v)
{
    if (v->expected == 0)
        return v->upstream_calls == 0 ? "ok" : "over";
    long double calls = (long double)v->upstream_calls;
    long double want = (long double)v->expected * (long double)v->answered;
    long double room = (long double)(v->expected > 1 ? v->expected : 1) * (long double)v->answered;
    if (fabsl(calls - want) * LG_VERIFY_TOLERANCE_DIV <= room)
        return "ok";
    return calls < want ? "short" : "over";
}

void lg_verify_judge(lg_verify_t *v, const char *unread, uint64_t not_answered)
{
    v->note[0] = '\0';
    v->verdict = "n/a";
    v->calls_per_answer = -1;
    if (!v->counted) {
        verify_note(v, "the upstream counter could not be read: %s", unread ? unread : "unknown");
        return;
    }
    if (v->answered > 0)
        v->calls_per_answer = (double)v->upstream_calls / (double)v->answered;
    if (v->expected < 0)
        verify_note(v, "the calls a request should make are unknown (io with --fanout, or cpu)");
    else if (v->answered == 0 && v->expected > 0)
        verify_note(v, "no request was answered");
    else
        v->verdict = verify_verdict(v);
    if (not_answered > 0)
        verify_note(v, "%llu requests failed or were cut off: one that timed out or was cut off "
                       "made its calls unanswered, an error answer may follow fewer calls",
                    (unsigned long long)not_answered);
}

void lg_verify_make(lg_verify_t *v, const lg_verify_reading_t *before,
                    const lg_verify_reading_t *after, uint64_t answered, long long expected,
                    uint64_t not_answered)
{
    char why[LG_VERIFY_NOTE_MAX];
    const char *unread = NULL;
    v->answered = answered;
    v->expected = expected;
    v->counted = before->ok && after->ok && after->calls >= before->calls;
    v->upstream_calls = v->counted ? after->calls - before->calls : 0;
    v->calls_before = v->counted ? before->calls : 0;
    v->calls_after = v->counted ? after->calls : 0;
    if (!before->ok) {
        unread = before->why;
    } else if (!after->ok) {
        unread = after->why;
    } else if (!v->counted) {
        snprintf(why, sizeof why, "calls_total went back from %lld to %lld (slowapi restarted?)",
                 before->calls, after->calls);
        unread = why;
    }
    lg_verify_judge(v, unread, not_answered);
}
