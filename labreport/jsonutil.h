/* Small jansson helpers: typed look-ups that answer NaN or NULL for a
 * missing or mistyped field (reports of older schemas lack fields; no
 * caller may crash on them), rounded numbers, and the one way labreport
 * prints JSON. */
#ifndef LABREPORT_JSONUTIL_H
#define LABREPORT_JSONUTIL_H

#include <jansson.h>

/* obj[key] as a number (integer or real), else NaN. */
double lr_jnum_get(const json_t *obj, const char *key);
/* obj[outer][key] as a number, else NaN. */
double lr_jnum_at(const json_t *obj, const char *outer, const char *key);
/* obj[key] as a string, else NULL. */
const char *lr_jstr_get(const json_t *obj, const char *key);

/* v rounded to `decimals` places; JSON has no NaN, so NaN is null. */
json_t *lr_jnum(double v, int decimals);
/* A string, or null for NULL. */
json_t *lr_jstr(const char *s);

/* json_object_set_new / json_array_append_new that remember a failure in
 * *failed instead of making every caller check each. */
void lr_jset(json_t *obj, const char *key, json_t *value, int *failed);
void lr_jappend(json_t *array, json_t *value, int *failed);

/* The text labreport writes for a JSON document: two-space indent, 15
 * significant digits (as loadgen), a final newline. malloc'd; NULL when
 * out of memory. */
char *lr_jdump(const json_t *json);

#endif
