#include "parse.h"

#include <errno.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>

int parse_long(const char *s, long min, long max, long *out)
{
    /* strto* skip leading blanks; a flag value with blanks is a typo. */
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0')
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int parse_double(const char *s, double min, double max, double *out)
{
    /* strto* skip leading blanks; a flag value with blanks is a typo. */
    if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
        return -EINVAL;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || isnan(v))
        return -EINVAL;
    /* strtod also says ERANGE on underflow ("1e-400"), yet gives a usable
     * 0 or denormal then; only an overflow (+-HUGE_VAL) is out of range. */
    if ((errno == ERANGE && isinf(v)) || v < min || v > max)
        return -ERANGE;
    *out = v;
    return 0;
}
