/* The fault spec's parser (fault_spec.h). */
#include "fault_spec.h"

#include <stddef.h>
#include <stdio.h>
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

double faults_answered_share(const faults_t *f, int retried_resets)
{
    double answered = 1 - f->reset - f->hang;
    return retried_resets ? answered * (1 + f->reset) : answered;
}

int faults_any(const faults_t *f)
{
    return f->error > 0 || f->reset > 0 || f->hang > 0 || f->jitter > 0;
}
