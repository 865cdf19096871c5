#include "format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *lr_fmt(char *out, double v, enum lr_fmt kind)
{
    if (!isfinite(v)) {
        snprintf(out, LR_FMT_MAX, "%s", LR_MISSING);
        return out;
    }
    double a = fabs(v);
    switch (kind) {
    case LR_FMT_RPS:
        snprintf(out, LR_FMT_MAX, "%.*f", a >= 10 ? 1 : a >= 1 ? 2 : 3, v);
        break;
    case LR_FMT_MS:
        snprintf(out, LR_FMT_MAX, "%.*f", a >= 100 ? 1 : 2, v);
        break;
    case LR_FMT_RATIO:
        snprintf(out, LR_FMT_MAX, "%.3f", v);
        break;
    case LR_FMT_COUNT:
        if (v == floor(v) && a < 1e15)
            snprintf(out, LR_FMT_MAX, "%.0f", v);
        else
            snprintf(out, LR_FMT_MAX, "%.1f", v);
        break;
    case LR_FMT_SECONDS:
        snprintf(out, LR_FMT_MAX, "%.2f", v);
        break;
    case LR_FMT_CPU_MS:
        snprintf(out, LR_FMT_MAX, "%.*f", a >= 100 ? 1 : a >= 1 ? 2 : 3, v);
        break;
    case LR_FMT_MIB:
        snprintf(out, LR_FMT_MAX, "%.1f", v);
        break;
    case LR_FMT_CALLS:
        snprintf(out, LR_FMT_MAX, "%.2f", v);
        break;
    case LR_FMT_PERCENT:
        snprintf(out, LR_FMT_MAX, "%.0f%%", v * 100);
        break;
    case LR_FMT_FACTOR:
        snprintf(out, LR_FMT_MAX, "%.*f\xc3\x97", a >= 10 ? 1 : a >= 1 ? 2 : 3, v);
        break;
    case LR_FMT_PLAIN:
        snprintf(out, LR_FMT_MAX, "%g", v);
        break;
    }
    /* "-0.0" reads as a sign where there is none. */
    if (out[0] == '-') {
        int zero = 1;
        for (const char *p = out + 1; *p; p++)
            if (*p != '0' && *p != '.')
                zero = 0;
        if (zero)
            memmove(out, out + 1, strlen(out)); /* with its terminator */
    }
    return out;
}
