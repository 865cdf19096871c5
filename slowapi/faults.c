/* Fault rates and their draws (faults.h). */
#include "faults.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static double *field(faults_t *f, const char *name, size_t len)
{
    static const struct {
        const char *name;
        size_t offset;
    } names[] = {
        {"error", offsetof(faults_t, error)},
        {"reset", offsetof(faults_t, reset)},
        {"hang", offsetof(faults_t, hang)},
        {"jitter", offsetof(faults_t, jitter)},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0)
            return (double *)((char *)f + names[i].offset);
    return NULL;
}

int faults_set(faults_t *f, const char *name, double percent)
{
    double *d = field(f, name, strlen(name));
    if (d == NULL || !(percent >= 0 && percent <= 100))
        return -1;
    *d = percent / 100.0;
    return 0;
}

int faults_parse(const char *spec, faults_t *f, char *why, size_t why_len)
{
    faults_t out = *f;
    const char *p = spec;
    while (*p != '\0') {
        size_t item_len = strcspn(p, ",");
        const char *eq = memchr(p, '=', item_len);
        char number[32];
        size_t name_len = eq != NULL ? (size_t)(eq - p) : item_len;
        double *d = field(&out, p, name_len);
        size_t num_len = eq != NULL ? item_len - name_len - 1 : 0;
        if (num_len > 0 && eq[num_len] == '%')
            num_len--;
        double percent;
        if (d == NULL || eq == NULL || num_len == 0 || num_len >= sizeof number) {
            snprintf(why, why_len, "'%.*s' is not NAME=PERCENT with NAME one of " FAULTS_NAMES,
                     (int)item_len, p);
            return -1;
        }
        memcpy(number, eq + 1, num_len);
        number[num_len] = '\0';
        if (parse_double(number, 0.0, 100.0, &percent) < 0) {
            snprintf(why, why_len, "'%.*s': the percent must be from 0 to 100", (int)item_len, p);
            return -1;
        }
        *d = percent / 100.0;
        p += item_len;
        if (*p == ',')
            p++;
    }
    if (out.error + out.reset + out.hang > 1.0 + 1e-9) {
        snprintf(why, why_len, "error, reset and hang add up to more than 100%%");
        return -1;
    }
    *f = out;
    return 0;
}

int faults_any(const faults_t *f)
{
    return f->error > 0 || f->reset > 0 || f->hang > 0 || f->jitter > 0;
}

/* Uniform in [0, 1): xorshift64* (Vigna), 53 bits of it. */
static double uniform(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

fault_t faults_draw(const faults_t *f, uint64_t *state, uint64_t *delay_ns)
{
    if (f->jitter > 0) {
        double factor = 1.0 + f->jitter * (2.0 * uniform(state) - 1.0);
        *delay_ns = (uint64_t)llround((double)*delay_ns * factor);
    }
    if (f->error + f->reset + f->hang <= 0)
        return FAULT_NONE;
    double u = uniform(state);
    if (u < f->error)
        return FAULT_ERROR;
    if (u < f->error + f->reset)
        return FAULT_RESET;
    if (u < f->error + f->reset + f->hang)
        return FAULT_HANG;
    return FAULT_NONE;
}
