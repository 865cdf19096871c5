#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "jsonutil.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int lr_stat_of(const double *values, size_t count, lr_stat_t *out)
{
    *out = (lr_stat_t){NAN, NAN, NAN, 0};
    if (count == 0)
        return 0;
    double *sorted = malloc(count * sizeof *sorted);
    if (sorted == NULL)
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        if (!isnan(values[i]))
            sorted[n++] = values[i];
    if (n > 0) {
        qsort(sorted, n, sizeof *sorted, cmp_double);
        out->min = sorted[0];
        out->max = sorted[n - 1];
        out->median = n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        out->n = n;
    }
    free(sorted);
    return 0;
}

json_t *lr_stat_json(const lr_stat_t *s, int decimals)
{
    if (s->n == 0)
        return json_null();
    int failed = 0;
    json_t *o = json_object();
    lr_jset(o, "median", lr_jnum(s->median, decimals), &failed);
    lr_jset(o, "min", lr_jnum(s->min, decimals), &failed);
    lr_jset(o, "max", lr_jnum(s->max, decimals), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

lr_stat_t lr_stat_from_json(const json_t *json)
{
    lr_stat_t s = {NAN, NAN, NAN, 0};
    if (!json_is_object(json))
        return s;
    s.median = lr_jnum_get(json, "median");
    s.min = lr_jnum_get(json, "min");
    s.max = lr_jnum_get(json, "max");
    if (isnan(s.median))
        return (lr_stat_t){NAN, NAN, NAN, 0};
    if (isnan(s.min))
        s.min = s.median;
    if (isnan(s.max))
        s.max = s.median;
    s.n = 1;
    return s;
}
