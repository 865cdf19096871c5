/* --check: parse every expression before the run, evaluate them on the
 * report's JSON after it. One table row per metric says where its figure
 * is in the report, which units it takes, how it is rounded there (for
 * the printed value and the tolerance of "="). */
#include "run_check.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum metric_kind {
    KIND_LATENCY,  /* ms by default; us, s */
    KIND_COUNT,    /* no unit */
    KIND_RATE,     /* no unit */
    KIND_FRACTION, /* a fraction, or % */
};

enum metric_source {
    SRC_PERCENTILE,     /* percentiles_ms[key] */
    SRC_UNCORRECTED,    /* percentiles_uncorrected_ms[key] */
    SRC_SUMMARY,        /* summary[key] */
    SRC_SUMMARY_SUM,    /* the sum of summary[key]'s members */
    SRC_LATE,           /* summary.late, null read as 0 */
    SRC_ERROR_RATE,     /* summary.failures / summary.issued */
    SRC_OF_CEILING,     /* ceiling.measured_over_ceiling */
};

typedef struct metric {
    const char *name;
    enum metric_kind kind;
    enum metric_source source;
    const char *key;
    int decimals; /* of the figure in its own unit, as the JSON rounds it */
    double eq_tol; /* "=" within this, in its own unit: half that rounding */
} metric_t;

#define LATENCY_TOL_MS 0.0005 /* _ms fields have 3 decimals (docs/REPORT.md) */
#define PERCENTILE(n) \
    {"p" n, KIND_LATENCY, SRC_PERCENTILE, n, 3, LATENCY_TOL_MS}, \
    {"p" n "_uncorrected", KIND_LATENCY, SRC_UNCORRECTED, n, 3, LATENCY_TOL_MS}

static const metric_t metrics[] = {
    PERCENTILE("50"), PERCENTILE("60"), PERCENTILE("70"), PERCENTILE("80"),
    PERCENTILE("90"), PERCENTILE("95"), PERCENTILE("99"), PERCENTILE("99.9"),
    PERCENTILE("100"),
    {"max", KIND_LATENCY, SRC_SUMMARY, "max_ms", 3, LATENCY_TOL_MS},
    {"min", KIND_LATENCY, SRC_SUMMARY, "min_ms", 3, LATENCY_TOL_MS},
    {"mean", KIND_LATENCY, SRC_SUMMARY, "mean_ms", 3, LATENCY_TOL_MS},
    {"failures", KIND_COUNT, SRC_SUMMARY, "failures", 0, 0},
    {"ok", KIND_COUNT, SRC_SUMMARY, "ok", 0, 0},
    {"issued", KIND_COUNT, SRC_SUMMARY, "issued", 0, 0},
    {"timeouts", KIND_COUNT, SRC_SUMMARY, "timeouts", 0, 0},
    {"unfinished", KIND_COUNT, SRC_SUMMARY, "unfinished", 0, 0},
    {"late", KIND_COUNT, SRC_LATE, "late", 0, 0},
    {"errors", KIND_COUNT, SRC_SUMMARY_SUM, "errors", 0, 0},
    {"http_errors", KIND_COUNT, SRC_SUMMARY_SUM, "http_errors", 0, 0},
    {"rps", KIND_RATE, SRC_SUMMARY, "rps", 3, 0.0005},
    /* A ratio of counts, not rounded anywhere: equal up to the last bits
     * of a double, so that "error_rate=3%" holds for 3 failures in 100. */
    {"error_rate", KIND_FRACTION, SRC_ERROR_RATE, NULL, 6, 1e-12},
    {"of_ceiling", KIND_FRACTION, SRC_OF_CEILING, "measured_over_ceiling", 4, 0.00005},
};
#define METRIC_COUNT (sizeof metrics / sizeof metrics[0])

static const char *const op_names[] = {"<", "<=", ">", ">=", "=", "!="};

const char *run_check_op_name(run_check_op_t op)
{
    return (unsigned)op < sizeof op_names / sizeof op_names[0] ? op_names[op] : NULL;
}

/* ---- Parsing ---- */

static const char *skip_blanks(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

static int metric_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static int find_metric(const char *name, size_t len)
{
    for (size_t i = 0; i < METRIC_COUNT; i++)
        if (strlen(metrics[i].name) == len && memcmp(metrics[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

/* "unknown metric" and the list, from the table (so it cannot drift). */
static void unknown_metric(const char *expr, const char *name, size_t len, char *err,
                           size_t err_len)
{
    size_t n = (size_t)snprintf(err, err_len, "bad check \"%s\": unknown metric \"%.*s\"; known:",
                                expr, (int)len, name);
    for (size_t i = 0; i < METRIC_COUNT && n < err_len; i++)
        if (metrics[i].source != SRC_UNCORRECTED)
            n += (size_t)snprintf(err + n, err_len - n, " %s", metrics[i].name);
    if (n < err_len)
        snprintf(err + n, err_len - n, "; and p<N>_uncorrected for each p<N>");
}

/* The operator at *p, longest first; advances *p. -1 when none. */
static int scan_op(const char **p, const char *end)
{
    static const struct {
        const char *text;
        run_check_op_t op;
    } ops[] = {{"<=", RUN_CHECK_LE}, {">=", RUN_CHECK_GE}, {"==", RUN_CHECK_EQ},
               {"!=", RUN_CHECK_NE}, {"<", RUN_CHECK_LT},  {">", RUN_CHECK_GT},
               {"=", RUN_CHECK_EQ}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t len = strlen(ops[i].text);
        if ((size_t)(end - *p) >= len && memcmp(*p, ops[i].text, len) == 0) {
            *p += len;
            return (int)ops[i].op;
        }
    }
    return -1;
}

static const char *scan_digits(const char *p, const char *end)
{
    while (p < end && isdigit((unsigned char)*p))
        p++;
    return p;
}

/* A decimal number, [+-]digits[.digits][e[+-]digits] (strtod alone would
 * also take hex, "inf", "nan" and leading blanks). Returns its end, or p
 * when there is none. */
static const char *scan_number(const char *p, const char *end)
{
    const char *q = p;
    if (q < end && (*q == '+' || *q == '-'))
        q++;
    const char *int_end = scan_digits(q, end);
    const char *frac_end = int_end;
    if (frac_end < end && *frac_end == '.')
        frac_end = scan_digits(frac_end + 1, end);
    /* digits before or after the point */
    if (int_end == q && frac_end <= int_end + 1)
        return p;
    q = frac_end;
    if (q < end && (*q == 'e' || *q == 'E')) {
        const char *e = q + 1;
        if (e < end && (*e == '+' || *e == '-'))
            e++;
        const char *exp_end = scan_digits(e, end);
        if (exp_end > e)
            q = exp_end;
    }
    return q;
}

static int starts_with_word(const char *p, const char *end, const char *word)
{
    if (p < end && (*p == '+' || *p == '-'))
        p++;
    size_t len = strlen(word);
    return (size_t)(end - p) >= len && strncasecmp(p, word, len) == 0;
}

/* The unit's scale to the metric's own unit (ms, fraction), or 0 when the
 * metric does not take it; *name gets the static spelling. */
static double unit_scale(enum metric_kind kind, const char *unit, size_t len, const char **name)
{
    static const struct {
        enum metric_kind kind;
        const char *name;
        double scale;
    } units[] = {{KIND_LATENCY, "ms", 1.0},
                 {KIND_LATENCY, "us", 0.001},
                 {KIND_LATENCY, "s", 1000.0},
                 {KIND_FRACTION, "%", 0.01}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (units[i].kind == kind && strlen(units[i].name) == len &&
            memcmp(units[i].name, unit, len) == 0) {
            *name = units[i].name;
            return units[i].scale;
        }
    return 0;
}

static int bad_unit(const run_check_t *c, const metric_t *m, const char *unit, size_t len,
                    char *err, size_t err_len)
{
    if (m->kind == KIND_LATENCY)
        snprintf(err, err_len, "bad check \"%s\": unknown unit \"%.*s\" for %s: expected ms "
                 "(the default), us or s", c->expr, (int)len, unit, m->name);
    else if (m->kind == KIND_FRACTION)
        snprintf(err, err_len, "bad check \"%s\": unknown unit \"%.*s\" for %s: expected none "
                 "(a fraction) or %%", c->expr, (int)len, unit, m->name);
    else
        snprintf(err, err_len, "bad check \"%s\": %s takes no unit, found \"%.*s\"", c->expr,
                 m->name, (int)len, unit);
    return -EINVAL;
}

/* NUMBER[UNIT] and nothing after, from p (blanks skipped) to end. */
static int parse_threshold(run_check_t *c, const char *p, const char *end, char *err,
                           size_t err_len)
{
    const metric_t *m = &metrics[c->metric_id];
    const char *op = op_names[c->op];
    p = skip_blanks(p, end);
    const char *num_end = scan_number(p, end);
    if (num_end == p) {
        if (starts_with_word(p, end, "inf") || starts_with_word(p, end, "nan"))
            snprintf(err, err_len, "bad check \"%s\": the threshold must be a finite number, "
                     "found \"%.*s\"", c->expr, (int)(end - p), p);
        else
            snprintf(err, err_len, "bad check \"%s\": expected a number after \"%s\", found %s%.*s%s",
                     c->expr, op, p == end ? "nothing" : "\"", (int)(end - p), p,
                     p == end ? "" : "\"");
        return -EINVAL;
    }
    char number[RUN_CHECK_EXPR_MAX];
    snprintf(number, sizeof number, "%.*s", (int)(num_end - p), p);
    c->threshold = strtod(number, NULL);
    if (!isfinite(c->threshold)) {
        snprintf(err, err_len, "bad check \"%s\": the threshold must be a finite number, "
                 "found \"%s\"", c->expr, number);
        return -EINVAL;
    }
    p = skip_blanks(num_end, end);
    const char *unit = p;
    while (p < end && (isalpha((unsigned char)*p) || *p == '%'))
        p++;
    size_t unit_len = (size_t)(p - unit);
    c->unit = m->kind == KIND_LATENCY ? "ms" : NULL;
    c->scale = 1.0;
    if (unit_len > 0 && (c->scale = unit_scale(m->kind, unit, unit_len, &c->unit)) == 0)
        return bad_unit(c, m, unit, unit_len, err, err_len);
    p = skip_blanks(p, end);
    if (p < end) {
        snprintf(err, err_len, "bad check \"%s\": unexpected \"%.*s\" after the threshold",
                 c->expr, (int)(end - p), p);
        return -EINVAL;
    }
    return 0;
}

/* One expression, [begin, end) with blanks trimmed and not empty. */
static int parse_one(run_check_t *c, const char *begin, const char *end, char *err,
                     size_t err_len)
{
    size_t len = (size_t)(end - begin);
    if (len >= sizeof c->expr) {
        snprintf(err, err_len, "bad check \"%.*s...\": longer than %zu characters",
                 (int)sizeof c->expr / 2, begin, sizeof c->expr - 1);
        return -EINVAL;
    }
    memcpy(c->expr, begin, len);
    c->expr[len] = '\0';
    const char *p = begin;
    while (p < end && metric_char(*p))
        p++;
    if (p == begin) {
        snprintf(err, err_len, "bad check \"%s\": expected a metric name first "
                 "(METRIC OP NUMBER[UNIT], e.g. p99<1100ms)", c->expr);
        return -EINVAL;
    }
    c->metric_id = find_metric(begin, (size_t)(p - begin));
    if (c->metric_id < 0) {
        unknown_metric(c->expr, begin, (size_t)(p - begin), err, err_len);
        return -EINVAL;
    }
    c->metric = metrics[c->metric_id].name;
    p = skip_blanks(p, end);
    int op = scan_op(&p, end);
    if (op < 0) {
        snprintf(err, err_len, "bad check \"%s\": expected an operator (<, <=, >, >=, =, ==, "
                 "!=) after \"%s\", found %s%.*s%s", c->expr, c->metric,
                 p == end ? "nothing" : "\"", (int)(end - p), p, p == end ? "" : "\"");
        return -EINVAL;
    }
    c->op = (run_check_op_t)op;
    return parse_threshold(c, p, end, err, err_len);
}

int run_check_parse(const char *text, run_check_list_t *out, char *err, size_t err_len)
{
    out->count = 0;
    if (text == NULL)
        text = "";
    const char *end_all = text + strlen(text);
    if (skip_blanks(text, end_all) == end_all) {
        snprintf(err, err_len, "no check given: expected METRIC OP NUMBER[UNIT], "
                 "comma-separated, e.g. p99<1100ms,rps>95,failures=0");
        return -EINVAL;
    }
    for (const char *item = text;; item++) {
        const char *comma = strchr(item, ',');
        const char *end = comma ? comma : end_all;
        const char *begin = skip_blanks(item, end);
        while (end > begin && isspace((unsigned char)end[-1]))
            end--;
        if (begin == end) {
            snprintf(err, err_len, "bad checks \"%s\": check %zu is empty (\",,\", or a comma "
                     "at an end): expected METRIC OP NUMBER[UNIT] between commas",
                     text, out->count + 1);
            return -EINVAL;
        }
        if (out->count == RUN_CHECK_MAX) {
            snprintf(err, err_len, "more than %d checks, from \"%.*s\"", RUN_CHECK_MAX,
                     (int)(end - begin), begin);
            return -EINVAL;
        }
        int rc = parse_one(&out->items[out->count], begin, end, err, err_len);
        if (rc < 0)
            return rc;
        out->count++;
        if (comma == NULL)
            return 0;
        item = comma;
    }
}

/* ---- Evaluation ---- */

static double number_or_nan(const json_t *v)
{
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The members of an object, all numbers, summed; NaN otherwise. */
static double sum_members(const json_t *obj)
{
    if (!json_is_object(obj))
        return NAN;
    double sum = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value) {
        if (!json_is_number(value))
            return NAN;
        sum += json_number_value(value);
    }
    return sum;
}

/* The metric's figure in its own unit, or NaN with *note saying why. */
static double metric_value(const metric_t *m, const json_t *report, const char **note)
{
    const json_t *summary = json_object_get(report, "summary");
    *note = "not measured";
    switch (m->source) {
    case SRC_PERCENTILE:
        return number_or_nan(json_object_get(json_object_get(report, "percentiles_ms"), m->key));
    case SRC_UNCORRECTED:
        /* null in a closed loop: nothing to correct, so nothing measured */
        return number_or_nan(
            json_object_get(json_object_get(report, "percentiles_uncorrected_ms"), m->key));
    case SRC_SUMMARY:
        return number_or_nan(json_object_get(summary, m->key));
    case SRC_SUMMARY_SUM:
        return sum_members(json_object_get(summary, m->key));
    case SRC_LATE: {
        /* A closed loop sends each request when the previous one ends: it
         * has no plan to fall behind, so no late bucket (null, or absent
         * in reports older than the open loop). None can be late: that is
         * 0, not "not measured", so "late=0" holds for it. */
        const json_t *late = json_object_get(summary, m->key);
        if (json_is_object(summary) && (late == NULL || json_is_null(late)))
            return 0;
        return number_or_nan(late);
    }
    case SRC_ERROR_RATE: {
        double failures = number_or_nan(json_object_get(summary, "failures"));
        double issued = number_or_nan(json_object_get(summary, "issued"));
        if (issued == 0)
            *note = "no request issued";
        return issued > 0 ? failures / issued : NAN;
    }
    case SRC_OF_CEILING: {
        const json_t *ceiling = json_object_get(report, "ceiling");
        if (!json_is_object(ceiling))
            *note = "no ceiling";
        return number_or_nan(json_object_get(ceiling, m->key));
    }
    }
    return NAN;
}

/* Equal within tol; the strict orders exclude it, the others include it. */
static int compare(double v, run_check_op_t op, double t, double tol)
{
    int eq = fabs(v - t) <= tol;
    switch (op) {
    case RUN_CHECK_LT: return v < t && !eq;
    case RUN_CHECK_LE: return v < t || eq;
    case RUN_CHECK_GT: return v > t && !eq;
    case RUN_CHECK_GE: return v > t || eq;
    case RUN_CHECK_EQ: return eq;
    case RUN_CHECK_NE: return !eq;
    }
    return 0;
}

int run_check_eval(const run_check_list_t *list, const json_t *report,
                   run_check_result_t *results)
{
    int failed = 0;
    for (size_t i = 0; i < list->count; i++) {
        const run_check_t *c = &list->items[i];
        const metric_t *m = &metrics[c->metric_id];
        run_check_result_t *r = &results[i];
        double v = metric_value(m, report, &r->note);
        if (isnan(v)) {
            r->value = NAN;
            r->pass = 0;
        } else {
            r->note = NULL;
            /* Compared in the metric's own unit, where the tolerance is;
             * shown in the check's. */
            r->pass = compare(v, c->op, c->threshold * c->scale, m->eq_tol);
            r->value = v / c->scale;
        }
        failed += !r->pass;
    }
    return failed;
}

/* ---- Output ---- */

/* The figure's decimals in the check's unit: the JSON's, shifted by the
 * unit (a latency's 3 in ms are 6 in s; a fraction's 4 are 2 in %). */
static int value_decimals(const run_check_t *c)
{
    int d = metrics[c->metric_id].decimals + (int)lround(log10(c->scale));
    return d < 0 ? 0 : d;
}

static double rounded(double v, int decimals)
{
    double f = pow(10, decimals);
    return round(v * f) / f;
}

json_t *run_check_json(const run_check_list_t *list, const run_check_result_t *results)
{
    json_t *array = json_array();
    for (size_t i = 0; array != NULL && i < list->count; i++) {
        const run_check_t *c = &list->items[i];
        const run_check_result_t *r = &results[i];
        json_t *value = isnan(r->value) ? json_null()
                                        : json_real(rounded(r->value, value_decimals(c)));
        json_t *item = json_pack("{s:s, s:s, s:s, s:f, s:o, s:o, s:b}", "expr", c->expr,
                                 "metric", c->metric, "op", op_names[c->op],
                                 "threshold", c->threshold,
                                 "unit", c->unit ? json_string(c->unit) : json_null(),
                                 "value", value, "pass", r->pass);
        if (item == NULL || json_array_append_new(array, item) < 0) {
            json_decref(array);
            array = NULL;
        }
    }
    return array;
}

/* "1003.2 ms", "0.5%", "3000", or the note. */
static void format_value(char *out, size_t cap, const run_check_t *c, const run_check_result_t *r)
{
    if (isnan(r->value)) {
        snprintf(out, cap, "%s", r->note ? r->note : "not measured");
        return;
    }
    int n = snprintf(out, cap, "%.*f", value_decimals(c), rounded(r->value, value_decimals(c)));
    if (n > 0 && (size_t)n < cap && strchr(out, '.') != NULL) {
        while (n > 0 && out[n - 1] == '0')
            out[--n] = '\0';
        if (n > 0 && out[n - 1] == '.')
            out[--n] = '\0';
    }
    if (strcmp(out, "-0") == 0)
        snprintf(out, cap, "0");
    if (c->unit != NULL && (size_t)n < cap)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s",
                 strcmp(c->unit, "%") == 0 ? "" : " ", c->unit);
}

void run_check_print(FILE *f, const run_check_list_t *list, const run_check_result_t *results)
{
    char values[RUN_CHECK_MAX][64];
    int expr_width = 0, value_width = 0, failed = 0;
    for (size_t i = 0; i < list->count; i++) {
        format_value(values[i], sizeof values[i], &list->items[i], &results[i]);
        int e = (int)strlen(list->items[i].expr) + 1; /* with its ':' */
        int v = (int)strlen(values[i]);
        expr_width = e > expr_width ? e : expr_width;
        value_width = v > value_width ? v : value_width;
    }
    for (size_t i = 0; i < list->count; i++) {
        int pad = expr_width - (int)strlen(list->items[i].expr) - 1;
        fprintf(f, "check %s:%*s %-*s  %s\n", list->items[i].expr, pad, "", value_width,
                values[i], results[i].pass ? "pass" : "FAIL");
        failed += !results[i].pass;
    }
    fprintf(f, "checks: %zu passed, %d failed\n", list->count - (size_t)failed, failed);
}
