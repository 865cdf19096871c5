#include "schedule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static int bad(char *err, size_t err_len, const char *fmt, const char *text)
{
    snprintf(err, err_len, fmt, text);
    return -EINVAL;
}

static int parse_rate(const char *s, double min, double *out)
{
    return parse_double(s, min, LG_RATE_MAX, out);
}

/* "10s" or "10": seconds, > 0. */
static int parse_span(const char *s, double *out)
{
    char buf[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return -EINVAL;
    memcpy(buf, s, n + 1);
    if (buf[n - 1] == 's')
        buf[n - 1] = '\0';
    if (parse_double(buf, 0, 1e7, out) < 0 || *out <= 0)
        return -EINVAL;
    return 0;
}

static int parse_ramp(const char *text, lg_schedule_t *out, char *err, size_t err_len)
{
    char buf[LG_RATE_TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", text);
    char *second = strchr(buf, ':');
    char *third = second ? strchr(second + 1, ':') : NULL;
    if (third == NULL || strchr(third + 1, ':') != NULL)
        return bad(err, err_len, "--rate %s: a ramp is FROM:TO:SECONDS, e.g. 50:400:10s", text);
    *second++ = '\0';
    *third++ = '\0';
    out->kind = LG_RATE_RAMP;
    out->count = 2;
    if (parse_rate(buf, 0, &out->rates[0]) < 0 || parse_rate(second, 0, &out->rates[1]) < 0 ||
        out->rates[0] + out->rates[1] <= 0)
        return bad(err, err_len,
                   "--rate %s: a ramp's rates are requests per second, 0 to 1e6, not both 0",
                   text);
    if (out->rates[1] <= 0)
        return bad(err, err_len, "--rate %s: a ramp must end above 0 req/s", text);
    if (parse_span(third, &out->ramp_s) < 0)
        return bad(err, err_len, "--rate %s: the ramp's length is seconds, e.g. 10s", text);
    return 0;
}

static int parse_steps(const char *text, double step_s, lg_schedule_t *out, char *err,
                       size_t err_len)
{
    char buf[LG_RATE_TEXT_MAX];
    snprintf(buf, sizeof buf, "%s", text);
    out->kind = LG_RATE_STEPS;
    out->step_s = step_s;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (out->count == LG_RATE_STEPS_MAX)
            return bad(err, err_len, "--rate %s: at most 64 steps", text);
        if (parse_rate(tok, 0, &out->rates[out->count]) < 0 || out->rates[out->count] <= 0)
            return bad(err, err_len, "--rate %s: each step is a rate above 0 req/s, up to 1e6",
                       text);
        out->count++;
    }
    /* strtok_r skips empty fields: count the commas to refuse "50,,100". */
    size_t commas = 0;
    for (const char *p = text; *p; p++)
        commas += *p == ',';
    if (out->count != commas + 1)
        return bad(err, err_len, "--rate %s: an empty step", text);
    out->duration_s = step_s * (double)out->count;
    return 0;
}

int lg_schedule_parse(const char *text, double step_s, double duration_s, lg_schedule_t *out,
                      char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (strlen(text) >= sizeof out->text)
        return bad(err, err_len, "--rate %.40s...: too long", text);
    snprintf(out->text, sizeof out->text, "%s", text);
    int rc;
    if (strchr(text, ',') != NULL) {
        if (step_s <= 0)
            return bad(err, err_len, "--rate %s: steps need --step SECONDS", text);
        return parse_steps(text, step_s, out, err, err_len);
    }
    if (step_s > 0)
        return bad(err, err_len,
                   "--step: applies to a list of rates (--rate 50,100,...), not --rate %s", text);
    if (strchr(text, ':') != NULL) {
        rc = parse_ramp(text, out, err, err_len);
    } else {
        out->kind = LG_RATE_CONSTANT;
        out->count = 1;
        rc = parse_rate(text, 0, &out->rates[0]) < 0 || out->rates[0] <= 0
                 ? bad(err, err_len, "--rate %s: expected requests per second, above 0, up to 1e6",
                       text)
                 : 0;
    }
    if (rc < 0)
        return rc;
    out->duration_s = duration_s;
    if (out->kind == LG_RATE_RAMP && out->ramp_s > duration_s) {
        snprintf(err, err_len, "--rate %s: the ramp (%g s) is longer than -d %g", text,
                 out->ramp_s, duration_s);
        return -EINVAL;
    }
    return 0;
}

const char *lg_schedule_kind_name(const lg_schedule_t *s)
{
    static const char *const names[] = {"constant", "ramp", "steps"};
    return names[s->kind];
}

/* N(t): the requests due by t (a real number; request k is due when N(t)
 * reaches k). */
static double planned_by(const lg_schedule_t *s, double t)
{
    if (t <= 0)
        return 0;
    if (t > s->duration_s)
        t = s->duration_s;
    switch (s->kind) {
    case LG_RATE_CONSTANT:
        return s->rates[0] * t;
    case LG_RATE_RAMP: {
        double r0 = s->rates[0], r1 = s->rates[1], T = s->ramp_s;
        if (t <= T)
            return r0 * t + (r1 - r0) * t * t / (2 * T);
        return (r0 + r1) * T / 2 + r1 * (t - T);
    }
    case LG_RATE_STEPS: {
        double n = 0;
        for (size_t i = 0; i < s->count; i++) {
            double from = (double)i * s->step_s;
            if (t <= from)
                break;
            double span = t - from < s->step_s ? t - from : s->step_s;
            n += s->rates[i] * span;
        }
        return n;
    }
    }
    return 0;
}

/* Starts from ceil(N(t)) and steps to where lg_schedule_offset_ns says,
 * so that counting and planning agree to the nanosecond at any edge. */
uint64_t lg_schedule_count(const lg_schedule_t *s, uint64_t t_ns)
{
    uint64_t k = (uint64_t)ceil(planned_by(s, (double)t_ns / 1e9));
    while (k > 0 && lg_schedule_offset_ns(s, k - 1) >= t_ns)
        k--;
    while (lg_schedule_offset_ns(s, k) < t_ns)
        k++;
    return k;
}

/* The inverse of planned_by on the ramp: r0 t + a t^2 = k, a = (r1-r0)/2T,
 * solved as 2k / (r0 + sqrt(r0^2 + 4ak)), stable for a of either sign
 * and for r0 = 0. */
static double ramp_time(const lg_schedule_t *s, double k)
{
    double r0 = s->rates[0], r1 = s->rates[1], T = s->ramp_s;
    double in_ramp = (r0 + r1) * T / 2;
    if (k >= in_ramp)
        return T + (k - in_ramp) / r1;
    double a = (r1 - r0) / (2 * T);
    double disc = r0 * r0 + 4 * a * k;
    return 2 * k / (r0 + sqrt(disc > 0 ? disc : 0));
}

static double steps_time(const lg_schedule_t *s, double k)
{
    double before = 0;
    for (size_t i = 0; i < s->count; i++) {
        double in_step = s->rates[i] * s->step_s;
        if (k < before + in_step)
            return (double)i * s->step_s + (k - before) / s->rates[i];
        before += in_step;
    }
    return s->duration_s;
}

uint64_t lg_schedule_offset_ns(const lg_schedule_t *s, uint64_t k)
{
    double t;
    if (k == 0) {
        t = 0;
    } else {
        switch (s->kind) {
        case LG_RATE_CONSTANT:
            t = (double)k / s->rates[0];
            break;
        case LG_RATE_RAMP:
            t = ramp_time(s, (double)k);
            break;
        default:
            t = steps_time(s, (double)k);
            break;
        }
    }
    if (t >= s->duration_s)
        return UINT64_MAX;
    return (uint64_t)llround(t * 1e9);
}

/* Of the first n requests (k < n), how many have k = t mod threads. */
static uint64_t count_of_thread(uint64_t n, long t, long threads)
{
    return n > (uint64_t)t ? (n - (uint64_t)t + (uint64_t)threads - 1) / (uint64_t)threads : 0;
}

uint64_t lg_schedule_count_for(const lg_schedule_t *s, uint64_t from_ns, uint64_t to_ns, long t,
                               long threads)
{
    uint64_t to = lg_schedule_count(s, to_ns), from = lg_schedule_count(s, from_ns);
    if (to <= from)
        return 0;
    return count_of_thread(to, t, threads) - count_of_thread(from, t, threads);
}

double lg_schedule_mean_rate(const lg_schedule_t *s)
{
    return s->duration_s > 0 ? planned_by(s, s->duration_s) / s->duration_s : 0;
}

size_t lg_schedule_step_of(const lg_schedule_t *s, uint64_t offset_ns)
{
    if (s->kind != LG_RATE_STEPS || s->step_s <= 0)
        return 0;
    size_t i = (size_t)((double)offset_ns / 1e9 / s->step_s);
    return i < s->count ? i : s->count - 1;
}
