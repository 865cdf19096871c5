#include "pairs.h"

#include <math.h>
#include <string.h>

#include "jsonutil.h"
#include "open_row.h"
#include "published.h"
#include "run_report.h"
#include "stats.h"

/* The figures each side of a pair holds, with the decimals the rows keep;
 * the first RATIO_COUNT also get a C/Python ratio. */
static const struct {
    const char *key;
    int decimals;
} side_keys[] = {
    {"rps", 3},
    {"p99_ms", 3},
    {"server_cpu_ms_per_request", 4},
    {"server_busy", 4},
};
#define SIDE_KEY_COUNT (sizeof side_keys / sizeof side_keys[0])
#define RATIO_COUNT 3
#define RATIO_DECIMALS 4

const char *lr_impl_of_program(const char *program)
{
    if (program == NULL)
        return NULL;
    return strcmp(program, LR_PYTHON_PROGRAM) == 0 ? LR_IMPL_PYTHON : LR_IMPL_C;
}

static double median_of(const json_t *row, const char *key)
{
    return lr_stat_from_json(json_object_get(row, key)).median;
}

/* 1 when the study row's list names the row's variant and the row's impl
 * (when the plan gave one) is impl. */
static int row_is(const json_t *row, const json_t *study_row, const char *list, const char *impl)
{
    const char *variant = lr_jstr_get(row, "variant"), *actual = lr_jstr_get(row, "impl");
    return variant != NULL && (actual == NULL || strcmp(actual, impl) == 0) &&
           lr_published_lists(study_row, list, variant);
}

/* obj[key] when it is an integer, else null. */
static json_t *integer_or_null(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer(json_integer_value(v)) : json_null();
}

static json_t *side_json(const json_t *row, int *failed)
{
    json_t *o = json_object();
    lr_jset(o, "variant", lr_jstr(lr_jstr_get(row, "variant")), failed);
    lr_jset(o, "runs", integer_or_null(row, "runs"), failed);
    for (size_t i = 0; i < SIDE_KEY_COUNT; i++)
        lr_jset(o, side_keys[i].key, lr_jnum(median_of(row, side_keys[i].key),
                                             side_keys[i].decimals), failed);
    double busy = median_of(row, "server_busy");
    lr_jset(o, "cpu_bound", isnan(busy) ? json_null() : json_boolean(busy >= RUN_REPORT_CPU_BOUND),
            failed);
    return o;
}

/* C over Python for each ratio key; null where a side lacks the figure or
 * Python's is 0. */
static json_t *ratios_json(const json_t *c_row, const json_t *py_row, int *failed)
{
    json_t *o = json_object();
    for (size_t i = 0; i < RATIO_COUNT; i++) {
        double c = median_of(c_row, side_keys[i].key), py = median_of(py_row, side_keys[i].key);
        lr_jset(o, side_keys[i].key, lr_jnum(py > 0 ? c / py : NAN, RATIO_DECIMALS), failed);
    }
    return o;
}

static json_t *pair_json(const json_t *study_row, const json_t *c_row, const json_t *py_row,
                         int *failed)
{
    const json_t *config = json_object_get(study_row, "config");
    json_t *o = json_object();
    lr_jset(o, "alias", lr_jstr(lr_jstr_get(study_row, "alias")), failed);
    lr_jset(o, "config", json_is_string(config) ? json_deep_copy(config) : json_null(), failed);
    lr_jset(o, "concurrency", integer_or_null(c_row, "concurrency"), failed);
    lr_jset(o, "published_rps", lr_published_has_figures(study_row)
                                    ? json_deep_copy(json_object_get(study_row, "rps"))
                                    : json_null(), failed);
    lr_jset(o, "c", side_json(c_row, failed), failed);
    lr_jset(o, "python", side_json(py_row, failed), failed);
    lr_jset(o, "c_over_python", ratios_json(c_row, py_row, failed), failed);
    return o;
}

/* Every (C row, Python row) of one study row at a shared point (the same
 * concurrency and offered rate), in the rows' order. */
static void add_pairs_of(json_t *pairs, const json_t *study_row, const json_t *rows, int *failed)
{
    size_t i, k;
    const json_t *c_row, *py_row;
    json_array_foreach(rows, i, c_row) {
        if (!row_is(c_row, study_row, "variants", LR_IMPL_C))
            continue;
        json_array_foreach(rows, k, py_row) {
            if (row_is(py_row, study_row, "python", LR_IMPL_PYTHON) && lr_same_point(py_row, c_row))
                lr_jappend(pairs, pair_json(study_row, c_row, py_row, failed), failed);
        }
    }
}

json_t *lr_pairs_build(const json_t *rows, const json_t *study, const char *workload)
{
    json_t *pairs = json_array();
    if (pairs == NULL || study == NULL || workload == NULL)
        return pairs;
    int failed = 0;
    size_t i;
    const json_t *study_row;
    json_array_foreach(json_object_get(study, "rows"), i, study_row) {
        const char *w = lr_jstr_get(study_row, "workload");
        if (w != NULL && strcmp(w, workload) == 0)
            add_pairs_of(pairs, study_row, rows, &failed);
    }
    if (failed) {
        json_decref(pairs);
        return NULL;
    }
    return pairs;
}
