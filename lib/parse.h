/* Strict number parsing for flags, environment variables and query strings:
 * the whole string must be the number, within [min, max]. */
#ifndef LAB_PARSE_H
#define LAB_PARSE_H

/* Return 0, or -EINVAL (not a number, trailing junk, NaN) or -ERANGE. */
int parse_long(const char *s, long min, long max, long *out);
int parse_double(const char *s, double min, double max, double *out);

#endif
