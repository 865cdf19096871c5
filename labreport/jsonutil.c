#include "jsonutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double lr_jnum_get(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

double lr_jnum_at(const json_t *obj, const char *outer, const char *key)
{
    const json_t *o = json_is_object(obj) ? json_object_get(obj, outer) : NULL;
    return lr_jnum_get(o, key);
}

const char *lr_jstr_get(const json_t *obj, const char *key)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *lr_jnum(double v, int decimals)
{
    if (!isfinite(v))
        return json_null();
    double scale = pow(10, decimals);
    double r = round(v * scale) / scale;
    /* -0.0 would print as "-0.0". */
    return json_real(r == 0 ? 0.0 : r);
}

json_t *lr_jstr(const char *s) { return s ? json_string(s) : json_null(); }

/* jansson's *_new calls take the value's reference even when they fail. */
void lr_jset(json_t *obj, const char *key, json_t *value, int *failed)
{
    if (obj == NULL) {
        json_decref(value);
        *failed = 1;
    } else if (value == NULL || json_object_set_new(obj, key, value) < 0) {
        *failed = 1;
    }
}

void lr_jappend(json_t *array, json_t *value, int *failed)
{
    if (array == NULL) {
        json_decref(value);
        *failed = 1;
    } else if (value == NULL || json_array_append_new(array, value) < 0) {
        *failed = 1;
    }
}

char *lr_jdump(const json_t *json)
{
    char *text = json_dumps(json, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    if (text == NULL)
        return NULL;
    size_t len = strlen(text);
    char *out = realloc(text, len + 2);
    if (out == NULL) {
        free(text);
        return NULL;
    }
    out[len] = '\n';
    out[len + 1] = '\0';
    return out;
}
